/* units — the one parser for quantities with units in configuration strings.
 *
 * Sizes: "40MiB", "512KiB", "128B", "2GB"; binary prefixes (Ki, Mi, Gi, Ti = 1024^n) and decimal
 * prefixes (k, M, G, T = 1000^n) are distinct, a bare number is bytes. Bits: "256b", "4Kib".
 * Frequencies: "1410MHz", "1.215GHz", "800kHz", "100Hz" -> kHz (integer; sub-kHz is rejected).
 * Times: "2ns", "1.5us", "700ps", "1ms", "3s" -> ps (integer; sub-ps is rejected).
 * Bandwidths: "1555GB/s", "64B/cycle" (the latter kept as bytes per cycle, flagged).
 * Energies: "0.15pJ", "1.9fJ", "3nJ" -> pJ (double). Powers: "2.5mW", "1W", "40uW" -> mW.
 * Areas: "0.01mm2", "120um2" -> mm^2.
 * Whitespace between number and unit is allowed ("40 MiB"); units are case-sensitive (MB is
 * megabytes, Mb megabits; ms milliseconds, MHz megahertz).
 * Each parser returns CS_OK or CS_INVALID with a rule in `why` (a static string) for messages.
 */
#ifndef CS_UNITS_H
#define CS_UNITS_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

cs_status cs_units_bytes(const char *s, uint64_t *bytes, const char **why);
cs_status cs_units_freq_khz(const char *s, uint64_t *khz, const char **why);
cs_status cs_units_time_ps(const char *s, uint64_t *ps, const char **why);
cs_status cs_units_energy_pj(const char *s, double *pj, const char **why);
cs_status cs_units_power_mw(const char *s, double *mw, const char **why);
cs_status cs_units_area_mm2(const char *s, double *mm2, const char **why);
/* "1555GB/s" -> bytes per second; "64B/cycle" -> *per_cycle = true and the count of bytes. */
cs_status cs_units_bandwidth(const char *s, double *value, bool *per_cycle, const char **why);

/* Formatting for dumps and reports: the largest binary prefix that divides exactly
 * ("40MiB", "1536B"), frequency ("1410MHz", "1.215GHz"), time ("709ps", "2ns"). */
void cs_units_fmt_bytes(uint64_t bytes, char *out, int n);
void cs_units_fmt_freq(uint64_t khz, char *out, int n);
void cs_units_fmt_time(uint64_t ps, char *out, int n);

#endif

/* units — parsing and formatting of quantities written with units ("40MiB", "1410MHz", "2ns").
 *
 * Integer families (sizes, frequencies, times) are converted exactly: the number is read as a
 * decimal integer D and a power of ten (1.215 -> D = 1215, exponent -3), the unit contributes a
 * rational factor num/den, and the result D * 10^e * num / den must be a whole number of the
 * stored unit. No floating point is involved, so "1.215GHz" is exactly 1215000 kHz and
 * "0.5ps" is rejected instead of silently rounded. Floating families (energy, power, area,
 * bandwidth) shift the decimal exponent textually and let strtod round once, correctly.
 *
 * A bare number is bytes for sizes; for every other family only a bare 0 is accepted (zero is
 * zero in any unit), anything else needs its unit. Every `why` is a string literal.
 */
#include "units.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char WHY_EMPTY[] = "empty value";
static const char WHY_NO_NUMBER[] = "expected a number before the unit";
static const char WHY_NEGATIVE[] = "must not be negative";
static const char WHY_UNKNOWN_UNIT[] = "unknown unit";
static const char WHY_MISSING_UNIT[] = "missing unit";
static const char WHY_AMBIGUOUS[] = "ambiguous unit (use KiB for 1024 bytes or kB for 1000)";
static const char WHY_TOO_LARGE[] = "too large";
static const char WHY_TOO_LONG[] = "too many digits";
static const char WHY_FRAC_BYTES[] = "not a whole number of bytes";
static const char WHY_FRAC_KHZ[] = "finer than 1 kHz";
static const char WHY_FRAC_PS[] = "finer than 1 ps";

/* ---- the number ------------------------------------------------------------------------- */

/* A parsed decimal: significant digits D (leading and trailing zeros stripped, fitting 64 bits),
 * value = D * 10^exp10. mant/mant_len is the text of the number without its exponent, and
 * exp_text its written exponent, for the floating families. */
typedef struct dec {
    uint64_t d;
    int exp10;
    bool too_long;
    long mag; /* when too_long: digits before the decimal point */
    const char *mant;
    size_t mant_len;
    long exp_text;
    const char *unit; /* first character after the number and blanks */
} dec;

static const char *skip_blank(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

/* Reads [+]digits[.digits][(e|E)[+-]digits]. The caller has rejected a leading '-'. */
static const char *read_number(const char *s, dec *n, const char **why)
{
    memset(n, 0, sizeof *n);
    if (*s == '+')
        s++;
    n->mant = s;
    char digits[64];
    size_t nd = 0;
    int frac = 0; /* digits after the point */
    bool point = false, any = false;
    for (;; s++) {
        if (isdigit((unsigned char)*s)) {
            any = true;
            if (point)
                frac++;
            if (nd == 0 && *s == '0')
                continue; /* leading zero: no significance */
            if (nd < sizeof digits)
                digits[nd] = *s;
            nd++;
        } else if (*s == '.' && !point) {
            point = true;
        } else {
            break;
        }
    }
    if (!any) {
        *why = WHY_NO_NUMBER;
        return NULL;
    }
    n->mant_len = (size_t)(s - n->mant);
    long e = 0;
    if ((*s == 'e' || *s == 'E') &&
        (isdigit((unsigned char)s[1]) ||
         ((s[1] == '+' || s[1] == '-') && isdigit((unsigned char)s[2])))) {
        char *end;
        e = strtol(s + 1, &end, 10);
        if (e > 400 || e < -400) {
            *why = e > 0 ? WHY_TOO_LARGE : WHY_TOO_LONG;
            return NULL;
        }
        s = end;
    }
    n->exp_text = e;
    if (nd > sizeof digits) { /* only the first 64 digits are kept: treat them as exact */
        n->too_long = true;
        e += (long)(nd - sizeof digits);
        nd = sizeof digits;
    }
    /* Trailing zeros of the significant digits move into the exponent. */
    long exp10 = e - frac;
    while (nd > 0 && digits[nd - 1] == '0') {
        nd--;
        exp10++;
    }
    n->mag = (long)nd + exp10;
    for (size_t i = 0; i < nd && !n->too_long; i++) {
        uint64_t digit = (uint64_t)(digits[i] - '0');
        if (n->d > (UINT64_MAX - digit) / 10)
            n->too_long = true; /* more significant digits than 64 bits hold */
        else
            n->d = n->d * 10 + digit;
    }
    if (n->d == 0)
        exp10 = 0;
    n->exp10 = (int)exp10;
    n->unit = skip_blank(s);
    return s;
}

/* Common front: blanks, empty, sign, number. Returns false with *why set. */
static bool front(const char *s, dec *n, const char **why)
{
    if (!s) {
        *why = WHY_EMPTY;
        return false;
    }
    s = skip_blank(s);
    if (*s == '\0') {
        *why = WHY_EMPTY;
        return false;
    }
    if (*s == '-') {
        *why = WHY_NEGATIVE;
        return false;
    }
    return read_number(s, n, why) != NULL;
}

/* The unit text without trailing blanks: copies into buf, returns its length. */
static size_t unit_text(const char *u, char *buf, size_t cap)
{
    size_t len = strlen(u);
    while (len > 0 && (u[len - 1] == ' ' || u[len - 1] == '\t' || u[len - 1] == '\n' ||
                       u[len - 1] == '\r'))
        len--;
    if (len >= cap)
        len = cap - 1;
    memcpy(buf, u, len);
    buf[len] = '\0';
    return len;
}

/* ---- exact integer families ------------------------------------------------------------ */

typedef struct unit_def {
    const char *name;
    uint64_t num, den; /* stored value = number * num / den */
} unit_def;

static uint64_t gcd64(uint64_t a, uint64_t b)
{
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

static bool mul_ok(uint64_t a, uint64_t b, uint64_t *out)
{
    if (a != 0 && b > UINT64_MAX / a)
        return false;
    *out = a * b;
    return true;
}

/* D * 10^exp10 * num / den as an exact integer. */
static cs_status exact(const dec *n, uint64_t num, uint64_t den, uint64_t *out,
                       const char *frac_why, const char **why)
{
    if (n->too_long) {
        /* digits beyond 64 bits: an integer part of 20+ digits is (all but) surely too large */
        *why = n->mag > 19 ? WHY_TOO_LARGE : WHY_TOO_LONG;
        return CS_INVALID;
    }
    uint64_t d = n->d;
    if (d == 0) {
        *out = 0;
        return CS_OK;
    }
    for (int i = 0; i < n->exp10; i++)
        if (!mul_ok(num, 10, &num)) {
            *why = WHY_TOO_LARGE;
            return CS_INVALID;
        }
    for (int i = 0; i < -n->exp10; i++)
        if (!mul_ok(den, 10, &den)) {
            *why = frac_why; /* 10^20 cannot divide a 19-digit D times a unit factor */
            return CS_INVALID;
        }
    uint64_t g = gcd64(num, den);
    num /= g;
    den /= g;
    g = gcd64(d, den);
    d /= g;
    den /= g;
    if (den != 1) {
        *why = frac_why;
        return CS_INVALID;
    }
    if (!mul_ok(d, num, out)) {
        *why = WHY_TOO_LARGE;
        return CS_INVALID;
    }
    return CS_OK;
}

static const unit_def *find_unit(const unit_def *tab, const char *u)
{
    for (; tab->name; tab++)
        if (strcmp(tab->name, u) == 0)
            return tab;
    return NULL;
}

#define KI 1024ULL
static const unit_def size_units[] = {
    {"B", 1, 1},
    {"KiB", KI, 1},
    {"MiB", KI * KI, 1},
    {"GiB", KI * KI * KI, 1},
    {"TiB", KI * KI * KI * KI, 1},
    {"PiB", KI * KI * KI * KI * KI, 1},
    {"EiB", KI * KI * KI * KI * KI * KI, 1},
    {"kB", 1000ULL, 1},
    {"MB", 1000000ULL, 1},
    {"GB", 1000000000ULL, 1},
    {"TB", 1000000000000ULL, 1},
    {"PB", 1000000000000000ULL, 1},
    {"EB", 1000000000000000000ULL, 1},
    {"b", 1, 8},
    {"Kib", KI, 8},
    {"Mib", KI * KI, 8},
    {"Gib", KI * KI * KI, 8},
    {"Tib", KI * KI * KI * KI, 8},
    {"kb", 1000ULL, 8},
    {"Mb", 1000000ULL, 8},
    {"Gb", 1000000000ULL, 8},
    {"Tb", 1000000000000ULL, 8},
    {NULL, 0, 0},
};

static const unit_def freq_units[] = {
    {"Hz", 1, 1000},
    {"kHz", 1, 1},
    {"MHz", 1000ULL, 1},
    {"GHz", 1000000ULL, 1},
    {"THz", 1000000000ULL, 1},
    {NULL, 0, 0},
};

static const unit_def time_units[] = {
    {"fs", 1, 1000},
    {"ps", 1, 1},
    {"ns", 1000ULL, 1},
    {"us", 1000000ULL, 1},
    {"\xc2\xb5s", 1000000ULL, 1}, /* µs */
    {"ms", 1000000000ULL, 1},
    {"s", 1000000000000ULL, 1},
    {NULL, 0, 0},
};

static cs_status parse_exact(const char *s, const unit_def *tab, bool bare_ok, uint64_t *out,
                             const char *frac_why, const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    dec n;
    if (!front(s, &n, why))
        return CS_INVALID;
    char u[32];
    size_t ulen = unit_text(n.unit, u, sizeof u);
    uint64_t v;
    if (ulen == 0) {
        if (!bare_ok && !(n.d == 0 && !n.too_long)) {
            *why = WHY_MISSING_UNIT;
            return CS_INVALID;
        }
        if (exact(&n, 1, 1, &v, frac_why, why) != CS_OK)
            return CS_INVALID;
        *out = v;
        return CS_OK;
    }
    const unit_def *ud = find_unit(tab, u);
    if (!ud) {
        *why = (tab == size_units && (strcmp(u, "KB") == 0 || strcmp(u, "K") == 0))
                   ? WHY_AMBIGUOUS
                   : WHY_UNKNOWN_UNIT;
        return CS_INVALID;
    }
    if (exact(&n, ud->num, ud->den, &v, frac_why, why) != CS_OK)
        return CS_INVALID;
    *out = v;
    return CS_OK;
}

cs_status cs_units_bytes(const char *s, uint64_t *bytes, const char **why)
{
    return parse_exact(s, size_units, true, bytes, WHY_FRAC_BYTES, why);
}

cs_status cs_units_freq_khz(const char *s, uint64_t *khz, const char **why)
{
    return parse_exact(s, freq_units, false, khz, WHY_FRAC_KHZ, why);
}

cs_status cs_units_time_ps(const char *s, uint64_t *ps, const char **why)
{
    return parse_exact(s, time_units, false, ps, WHY_FRAC_PS, why);
}

/* ---- floating families ----------------------------------------------------------------- */

typedef struct funit_def {
    const char *name;
    int exp10; /* stored value = number * 10^exp10 */
} funit_def;

static const funit_def energy_units[] = {
    {"J", 12}, {"mJ", 9}, {"uJ", 6}, {"\xc2\xb5J", 6}, {"nJ", 3},
    {"pJ", 0}, {"fJ", -3}, {"aJ", -6}, {NULL, 0},
};
static const funit_def power_units[] = {
    {"kW", 6}, {"W", 3}, {"mW", 0}, {"uW", -3}, {"\xc2\xb5W", -3},
    {"nW", -6}, {"pW", -9}, {NULL, 0},
};
static const funit_def area_units[] = {
    {"m2", 6},   {"cm2", 2},   {"mm2", 0},   {"um2", -6},   {"\xc2\xb5m2", -6},   {"nm2", -12},
    {"m^2", 6},  {"cm^2", 2},  {"mm^2", 0},  {"um^2", -6},  {"\xc2\xb5m^2", -6},  {"nm^2", -12},
    {NULL, 0},
};

/* The number times 10^shift, rounded once by strtod. */
static cs_status scaled(const dec *n, int shift, double *out, const char **why)
{
    char buf[96];
    if (n->mant_len > 64) {
        *why = WHY_TOO_LONG;
        return CS_INVALID;
    }
    snprintf(buf, sizeof buf, "%.*se%ld", (int)n->mant_len, n->mant, n->exp_text + shift);
    double v = strtod(buf, NULL);
    if (!isfinite(v)) {
        *why = WHY_TOO_LARGE;
        return CS_INVALID;
    }
    *out = v;
    return CS_OK;
}

static cs_status parse_float(const char *s, const funit_def *tab, double *out, const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    dec n;
    if (!front(s, &n, why))
        return CS_INVALID;
    char u[32];
    size_t ulen = unit_text(n.unit, u, sizeof u);
    if (ulen == 0) {
        if (n.d != 0 || n.too_long) {
            *why = WHY_MISSING_UNIT;
            return CS_INVALID;
        }
        *out = 0.0;
        return CS_OK;
    }
    for (; tab->name; tab++)
        if (strcmp(tab->name, u) == 0)
            return scaled(&n, tab->exp10, out, why);
    *why = WHY_UNKNOWN_UNIT;
    return CS_INVALID;
}

cs_status cs_units_energy_pj(const char *s, double *pj, const char **why)
{
    return parse_float(s, energy_units, pj, why);
}

cs_status cs_units_power_mw(const char *s, double *mw, const char **why)
{
    return parse_float(s, power_units, mw, why);
}

cs_status cs_units_area_mm2(const char *s, double *mm2, const char **why)
{
    return parse_float(s, area_units, mm2, why);
}

cs_status cs_units_bandwidth(const char *s, double *value, bool *per_cycle, const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    dec n;
    if (!front(s, &n, why))
        return CS_INVALID;
    char u[48];
    size_t ulen = unit_text(n.unit, u, sizeof u);
    if (ulen == 0) {
        if (n.d != 0 || n.too_long) {
            *why = WHY_MISSING_UNIT;
            return CS_INVALID;
        }
        *value = 0.0;
        *per_cycle = false;
        return CS_OK;
    }
    char *slash = strchr(u, '/');
    if (!slash) {
        *why = WHY_MISSING_UNIT;
        return CS_INVALID;
    }
    *slash = '\0';
    const char *per = slash + 1;
    bool cyc;
    if (strcmp(per, "s") == 0)
        cyc = false;
    else if (strcmp(per, "cycle") == 0 || strcmp(per, "clk") == 0)
        cyc = true;
    else {
        *why = WHY_UNKNOWN_UNIT;
        return CS_INVALID;
    }
    const unit_def *ud = find_unit(size_units, u);
    if (!ud) {
        *why = (strcmp(u, "KB") == 0) ? WHY_AMBIGUOUS : WHY_UNKNOWN_UNIT;
        return CS_INVALID;
    }
    double v;
    if (scaled(&n, 0, &v, why) != CS_OK)
        return CS_INVALID;
    v = v * (double)ud->num / (double)ud->den;
    if (!isfinite(v)) {
        *why = WHY_TOO_LARGE;
        return CS_INVALID;
    }
    *value = v;
    *per_cycle = cyc;
    return CS_OK;
}

/* ---- formatting ------------------------------------------------------------------------ */

void cs_units_fmt_bytes(uint64_t bytes, char *out, int n)
{
    static const char *const names[] = {"EiB", "PiB", "TiB", "GiB", "MiB", "KiB"};
    if (!out || n <= 0)
        return;
    if (bytes != 0) {
        for (int i = 0; i < 6; i++) {
            uint64_t unit = 1ULL << (10 * (6 - i));
            if (bytes % unit == 0) {
                snprintf(out, (size_t)n, "%llu%s", (unsigned long long)(bytes / unit), names[i]);
                return;
            }
        }
    }
    snprintf(out, (size_t)n, "%lluB", (unsigned long long)bytes);
}

typedef struct fmt_unit {
    const char *name;
    uint64_t scale; /* a power of ten */
} fmt_unit;

/* Decimal units, largest first. The value is written in the largest unit that divides it
 * exactly ("1410MHz", "2ns"); when that leaves five or more integer digits, in the next unit
 * up with an exact decimal fraction ("1215.5MHz" rather than "1215500kHz"). */
static void fmt_decimal(uint64_t v, const fmt_unit *units, int nunits, char *out, int n)
{
    if (!out || n <= 0)
        return;
    int u = nunits - 1;
    if (v != 0)
        for (int i = 0; i < nunits; i++)
            if (v % units[i].scale == 0) {
                u = i;
                break;
            }
    if (v / units[u].scale >= 10000 && u > 0 && v >= units[u - 1].scale)
        u--;
    uint64_t scale = units[u].scale, ip = v / scale, fp = v % scale;
    if (fp == 0) {
        snprintf(out, (size_t)n, "%llu%s", (unsigned long long)ip, units[u].name);
        return;
    }
    /* fp < scale <= 10^19: its digits, zero-padded to the width of the scale. */
    char frac[24];
    size_t len = 0;
    for (uint64_t s = scale; s > 1 && len < sizeof frac - 1; s /= 10)
        len++;
    frac[len] = '\0';
    for (size_t i = len; i > 0; i--, fp /= 10)
        frac[i - 1] = (char)('0' + fp % 10);
    while (len > 0 && frac[len - 1] == '0')
        frac[--len] = '\0';
    snprintf(out, (size_t)n, "%llu.%s%s", (unsigned long long)ip, frac, units[u].name);
}

void cs_units_fmt_freq(uint64_t khz, char *out, int n)
{
    static const fmt_unit units[] = {
        {"THz", 1000000000ULL}, {"GHz", 1000000ULL}, {"MHz", 1000ULL}, {"kHz", 1ULL}};
    fmt_decimal(khz, units, 4, out, n);
}

void cs_units_fmt_time(uint64_t ps, char *out, int n)
{
    static const fmt_unit units[] = {
        {"s", 1000000000000ULL}, {"ms", 1000000000ULL}, {"us", 1000000ULL}, {"ns", 1000ULL},
        {"ps", 1ULL}};
    fmt_decimal(ps, units, 5, out, n);
}

/* test_units — the quantity parser and formatter (sim/core/units.h): every family, binary and
 * decimal prefixes, blanks, exactness, each rejection with its rule, and format round trips. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "hash.h"
#include "units.h"

static uint64_t bytes_ok(const char *s)
{
    uint64_t v = 12345;
    const char *why = "unset";
    cs_status st = cs_units_bytes(s, &v, &why);
    cr_assert_eq(st, CS_OK, "'%s' should parse, got: %s", s, why);
    return v;
}

static const char *bytes_bad(const char *s)
{
    uint64_t v = 777;
    const char *why = NULL;
    cr_assert_eq(cs_units_bytes(s, &v, &why), CS_INVALID, "'%s' should be rejected", s);
    cr_assert_eq(v, 777, "a rejected value must leave the output alone");
    cr_assert_not_null(why);
    return why;
}

static uint64_t freq_ok(const char *s)
{
    uint64_t v = 0;
    const char *why = "unset";
    cr_assert_eq(cs_units_freq_khz(s, &v, &why), CS_OK, "'%s' should parse, got: %s", s, why);
    return v;
}

static const char *freq_bad(const char *s)
{
    uint64_t v;
    const char *why = NULL;
    cr_assert_eq(cs_units_freq_khz(s, &v, &why), CS_INVALID, "'%s' should be rejected", s);
    return why;
}

static uint64_t time_ok(const char *s)
{
    uint64_t v = 0;
    const char *why = "unset";
    cr_assert_eq(cs_units_time_ps(s, &v, &why), CS_OK, "'%s' should parse, got: %s", s, why);
    return v;
}

static const char *time_bad(const char *s)
{
    uint64_t v;
    const char *why = NULL;
    cr_assert_eq(cs_units_time_ps(s, &v, &why), CS_INVALID, "'%s' should be rejected", s);
    return why;
}

Test(units, bytes_binary_and_decimal_prefixes)
{
    cr_assert_eq(bytes_ok("128B"), 128);
    cr_assert_eq(bytes_ok("512KiB"), 512ULL * 1024);
    cr_assert_eq(bytes_ok("40MiB"), 40ULL << 20);
    cr_assert_eq(bytes_ok("2GiB"), 2ULL << 30);
    cr_assert_eq(bytes_ok("3TiB"), 3ULL << 40);
    cr_assert_eq(bytes_ok("1PiB"), 1ULL << 50);
    cr_assert_eq(bytes_ok("15EiB"), 15ULL << 60);
    cr_assert_eq(bytes_ok("2kB"), 2000);
    cr_assert_eq(bytes_ok("2MB"), 2000000);
    cr_assert_eq(bytes_ok("2GB"), 2000000000ULL);
    cr_assert_eq(bytes_ok("2TB"), 2000000000000ULL);
    cr_assert_eq(bytes_ok("1.5KiB"), 1536);
    cr_assert_eq(bytes_ok("0.5MiB"), 512 * 1024);
    cr_assert_eq(bytes_ok("1.25GB"), 1250000000ULL);
}

Test(units, bytes_bare_numbers_and_bits)
{
    cr_assert_eq(bytes_ok("4096"), 4096);
    cr_assert_eq(bytes_ok("0"), 0);
    cr_assert_eq(bytes_ok("0B"), 0);
    cr_assert_eq(bytes_ok("+64"), 64);
    cr_assert_eq(bytes_ok("1e3"), 1000);
    cr_assert_eq(bytes_ok("18446744073709551615"), UINT64_MAX);
    cr_assert_eq(bytes_ok("256b"), 32);
    cr_assert_eq(bytes_ok("4Kib"), 512);
    cr_assert_eq(bytes_ok("1Mb"), 125000);
    cr_assert_eq(bytes_ok("8Gib"), 1ULL << 30);
}

Test(units, blanks_around_and_between)
{
    cr_assert_eq(bytes_ok("40 MiB"), 40ULL << 20);
    cr_assert_eq(bytes_ok("  40\tMiB  "), 40ULL << 20);
    cr_assert_eq(freq_ok(" 1410 MHz"), 1410000);
    cr_assert_eq(time_ok("2 ns "), 2000);
}

Test(units, units_are_case_sensitive)
{
    cr_assert_eq(bytes_ok("1MB"), 1000000);
    cr_assert_eq(bytes_ok("1Mb"), 125000); /* megabits */
    cr_assert_eq(time_ok("1ms"), 1000000000ULL);
    cr_assert_eq(freq_ok("1MHz"), 1000);
    cr_assert_str_eq(bytes_bad("1mib"), "unknown unit");
    cr_assert_str_eq(freq_bad("1mhz"), "unknown unit");
    cr_assert_str_eq(time_bad("1NS"), "unknown unit");
}

Test(units, bytes_rejections)
{
    cr_assert_str_eq(bytes_bad(""), "empty value");
    cr_assert_str_eq(bytes_bad("   "), "empty value");
    cr_assert_str_eq(bytes_bad(NULL), "empty value");
    cr_assert_str_eq(bytes_bad("-1KiB"), "must not be negative");
    cr_assert_str_eq(bytes_bad("-0"), "must not be negative");
    cr_assert_str_eq(bytes_bad("MiB"), "expected a number before the unit");
    cr_assert_str_eq(bytes_bad(".KiB"), "expected a number before the unit");
    cr_assert_str_eq(bytes_bad("40MiBB"), "unknown unit");
    cr_assert_str_eq(bytes_bad("40 M iB"), "unknown unit");
    cr_assert_str_eq(bytes_bad("1.2.3KiB"), "unknown unit");
    cr_assert_str_eq(bytes_bad("48KB"), "ambiguous unit (use KiB for 1024 bytes or kB for 1000)");
    cr_assert_str_eq(bytes_bad("3b"), "not a whole number of bytes");
    cr_assert_str_eq(bytes_bad("0.3KiB"), "not a whole number of bytes");
    cr_assert_str_eq(bytes_bad("1.5"), "not a whole number of bytes");
    cr_assert_str_eq(bytes_bad("16EiB"), "too large");
    cr_assert_str_eq(bytes_bad("18446744073709551616"), "too large");
    cr_assert_str_eq(bytes_bad("100000000000000000000000B"), "too large");
    cr_assert_str_eq(bytes_bad("20000000000EB"), "too large");
}

Test(units, frequencies_to_khz)
{
    cr_assert_eq(freq_ok("1410MHz"), 1410000);
    cr_assert_eq(freq_ok("1.215GHz"), 1215000); /* exact, no floating point */
    cr_assert_eq(freq_ok("800kHz"), 800);
    cr_assert_eq(freq_ok("100000Hz"), 100);
    cr_assert_eq(freq_ok("2GHz"), 2000000);
    cr_assert_eq(freq_ok("0.001MHz"), 1);
    cr_assert_eq(freq_ok("1THz"), 1000000000ULL);
    cr_assert_eq(freq_ok("0"), 0);
}

Test(units, frequency_rejections)
{
    cr_assert_str_eq(freq_bad("100Hz"), "finer than 1 kHz");
    cr_assert_str_eq(freq_bad("1500Hz"), "finer than 1 kHz");
    cr_assert_str_eq(freq_bad("0.0001MHz"), "finer than 1 kHz");
    cr_assert_str_eq(freq_bad("1410"), "missing unit");
    cr_assert_str_eq(freq_bad("-1GHz"), "must not be negative");
    cr_assert_str_eq(freq_bad("1410MiB"), "unknown unit");
    cr_assert_str_eq(freq_bad(""), "empty value");
    cr_assert_str_eq(freq_bad("99999999999THz"), "too large");
}

Test(units, times_to_ps)
{
    cr_assert_eq(time_ok("2ns"), 2000);
    cr_assert_eq(time_ok("1.5us"), 1500000);
    cr_assert_eq(time_ok("1.5\xc2\xb5s"), 1500000);
    cr_assert_eq(time_ok("700ps"), 700);
    cr_assert_eq(time_ok("1ms"), 1000000000ULL);
    cr_assert_eq(time_ok("3s"), 3000000000000ULL);
    cr_assert_eq(time_ok("2000fs"), 2);
    cr_assert_eq(time_ok("0.709ns"), 709);
    cr_assert_eq(time_ok("1e3ps"), 1000);
    cr_assert_eq(time_ok("1.5e-3us"), 1500);
    cr_assert_eq(time_ok("0"), 0);
}

Test(units, time_rejections)
{
    cr_assert_str_eq(time_bad("0.5ps"), "finer than 1 ps");
    cr_assert_str_eq(time_bad("1500fs"), "finer than 1 ps");
    cr_assert_str_eq(time_bad("0.0001ns"), "finer than 1 ps");
    cr_assert_str_eq(time_bad("14"), "missing unit");
    cr_assert_str_eq(time_bad("-2ns"), "must not be negative");
    cr_assert_str_eq(time_bad("2nsec"), "unknown unit");
    cr_assert_str_eq(time_bad("ns"), "expected a number before the unit");
    cr_assert_str_eq(time_bad("20000000s"), "too large");
}

static double energy_ok(const char *s)
{
    double v = -1;
    const char *why = "unset";
    cr_assert_eq(cs_units_energy_pj(s, &v, &why), CS_OK, "'%s' should parse, got: %s", s, why);
    return v;
}

Test(units, energies_to_pj)
{
    cr_assert_eq(energy_ok("0.15pJ"), 0.15);
    cr_assert_eq(energy_ok("1.9fJ"), 0.0019); /* rounded once: the nearest double to 0.0019 */
    cr_assert_eq(energy_ok("3nJ"), 3000.0);
    cr_assert_eq(energy_ok("2uJ"), 2e6);
    cr_assert_eq(energy_ok("1mJ"), 1e9);
    cr_assert_eq(energy_ok("1J"), 1e12);
    cr_assert_eq(energy_ok("5aJ"), 5e-6);
    cr_assert_eq(energy_ok("0"), 0.0);
    cr_assert_eq(energy_ok(" 0.15 pJ "), 0.15);
    double v;
    const char *why;
    cr_assert_eq(cs_units_energy_pj("0.15", &v, &why), CS_INVALID);
    cr_assert_str_eq(why, "missing unit");
    cr_assert_eq(cs_units_energy_pj("0.15pj", &v, &why), CS_INVALID);
    cr_assert_str_eq(why, "unknown unit");
    cr_assert_eq(cs_units_energy_pj("-1pJ", &v, &why), CS_INVALID);
    cr_assert_str_eq(why, "must not be negative");
    cr_assert_eq(cs_units_energy_pj("1e400J", &v, &why), CS_INVALID);
    cr_assert_str_eq(why, "too large");
}

Test(units, powers_to_mw)
{
    double v;
    const char *why = NULL;
    cr_assert_eq(cs_units_power_mw("2.5mW", &v, &why), CS_OK);
    cr_assert_eq(v, 2.5);
    cr_assert_eq(cs_units_power_mw("1W", &v, &why), CS_OK);
    cr_assert_eq(v, 1000.0);
    cr_assert_eq(cs_units_power_mw("40uW", &v, &why), CS_OK);
    cr_assert_eq(v, 0.04);
    cr_assert_eq(cs_units_power_mw("1.5kW", &v, &why), CS_OK);
    cr_assert_eq(v, 1.5e6);
    cr_assert_eq(cs_units_power_mw("3MW", &v, &why), CS_INVALID);
    cr_assert_str_eq(why, "unknown unit");
}

Test(units, areas_to_mm2)
{
    double v;
    const char *why = NULL;
    cr_assert_eq(cs_units_area_mm2("0.01mm2", &v, &why), CS_OK);
    cr_assert_eq(v, 0.01);
    cr_assert_eq(cs_units_area_mm2("120um2", &v, &why), CS_OK);
    cr_assert_eq(v, 0.00012);
    cr_assert_eq(cs_units_area_mm2("1cm2", &v, &why), CS_OK);
    cr_assert_eq(v, 100.0);
    cr_assert_eq(cs_units_area_mm2("826 mm^2", &v, &why), CS_OK);
    cr_assert_eq(v, 826.0);
    cr_assert_eq(cs_units_area_mm2("5mm", &v, &why), CS_INVALID);
    cr_assert_str_eq(why, "unknown unit");
}

Test(units, bandwidths)
{
    double v = 0;
    bool per_cycle = true;
    const char *why = NULL;
    cr_assert_eq(cs_units_bandwidth("1555GB/s", &v, &per_cycle, &why), CS_OK);
    cr_assert_eq(v, 1.555e12);
    cr_assert(!per_cycle);
    cr_assert_eq(cs_units_bandwidth("64B/cycle", &v, &per_cycle, &why), CS_OK);
    cr_assert_eq(v, 64.0);
    cr_assert(per_cycle);
    cr_assert_eq(cs_units_bandwidth("2TiB/s", &v, &per_cycle, &why), CS_OK);
    cr_assert_eq(v, 2.0 * 1099511627776.0);
    cr_assert(!per_cycle);
    cr_assert_eq(cs_units_bandwidth("800Gb/s", &v, &per_cycle, &why), CS_OK);
    cr_assert_eq(v, 1e11);
    cr_assert_eq(cs_units_bandwidth("1555GB", &v, &per_cycle, &why), CS_INVALID);
    cr_assert_str_eq(why, "missing unit");
    cr_assert_eq(cs_units_bandwidth("64B/hour", &v, &per_cycle, &why), CS_INVALID);
    cr_assert_str_eq(why, "unknown unit");
    cr_assert_eq(cs_units_bandwidth("64XB/s", &v, &per_cycle, &why), CS_INVALID);
    cr_assert_str_eq(why, "unknown unit");
    cr_assert_eq(cs_units_bandwidth("-1GB/s", &v, &per_cycle, &why), CS_INVALID);
    cr_assert_str_eq(why, "must not be negative");
}

Test(units, why_may_be_null)
{
    uint64_t v;
    cr_assert_eq(cs_units_bytes("nope", &v, NULL), CS_INVALID);
    cr_assert_eq(cs_units_time_ps("1ns", &v, NULL), CS_OK);
    cr_assert_eq(v, 1000);
}

static const char *fb(uint64_t v)
{
    static char buf[64];
    cs_units_fmt_bytes(v, buf, (int)sizeof buf);
    return buf;
}

static const char *ff(uint64_t v)
{
    static char buf[64];
    cs_units_fmt_freq(v, buf, (int)sizeof buf);
    return buf;
}

static const char *ft(uint64_t v)
{
    static char buf[64];
    cs_units_fmt_time(v, buf, (int)sizeof buf);
    return buf;
}

Test(units, format_bytes_largest_exact_binary_prefix)
{
    cr_assert_str_eq(fb(40ULL << 20), "40MiB");
    cr_assert_str_eq(fb(1536), "1536B");
    cr_assert_str_eq(fb(1024), "1KiB");
    cr_assert_str_eq(fb(0), "0B");
    cr_assert_str_eq(fb(1), "1B");
    cr_assert_str_eq(fb(192ULL << 10), "192KiB");
    cr_assert_str_eq(fb(1ULL << 30), "1GiB");
    cr_assert_str_eq(fb(1ULL << 60), "1EiB");
    cr_assert_str_eq(fb(1000000), "1000000B");
    cr_assert_str_eq(fb(UINT64_MAX), "18446744073709551615B");
}

Test(units, format_freq_and_time)
{
    cr_assert_str_eq(ff(1410000), "1410MHz");
    cr_assert_str_eq(ff(1215000), "1215MHz");
    cr_assert_str_eq(ff(2000000), "2GHz");
    cr_assert_str_eq(ff(800), "800kHz");
    cr_assert_str_eq(ff(1215500), "1215.5MHz");
    cr_assert_str_eq(ff(1), "1kHz");
    cr_assert_str_eq(ff(0), "0kHz");
    cr_assert_str_eq(ft(709), "709ps");
    cr_assert_str_eq(ft(2000), "2ns");
    cr_assert_str_eq(ft(1500), "1500ps");
    cr_assert_str_eq(ft(1234567), "1234.567ns");
    cr_assert_str_eq(ft(3000000000000ULL), "3s");
    cr_assert_str_eq(ft(0), "0ps");
}

Test(units, format_truncates_to_the_buffer)
{
    char buf[4] = "xxx";
    cs_units_fmt_bytes(40ULL << 20, buf, (int)sizeof buf);
    cr_assert_str_eq(buf, "40M");
    cs_units_fmt_time(2000, buf, 0); /* n = 0 writes nothing */
    cr_assert_str_eq(buf, "40M");
}

/* Every value formats to text that parses back to exactly the same value. */
Test(units, format_parse_round_trips)
{
    cs_rng rng;
    cs_rng_seed(&rng, 42);
    for (int i = 0; i < 20000; i++) {
        uint64_t v = cs_rng_next(&rng);
        switch (i % 4) {
        case 0: v >>= cs_rng_below(&rng, 64); break;
        case 1: v = (v % 100000) << (10 * cs_rng_below(&rng, 6)); break;
        case 2: v = (v % 100000) * 1000 * (uint64_t)pow(10, (double)cs_rng_below(&rng, 8)); break;
        default: v = cs_rng_below(&rng, 5000); break;
        }
        uint64_t back;
        cr_assert_eq(cs_units_bytes(fb(v), &back, NULL), CS_OK, "%s", fb(v));
        cr_assert_eq(back, v, "bytes %llu -> %s", (unsigned long long)v, fb(v));
        cr_assert_eq(cs_units_freq_khz(ff(v), &back, NULL), CS_OK, "%s", ff(v));
        cr_assert_eq(back, v, "kHz %llu -> %s", (unsigned long long)v, ff(v));
        cr_assert_eq(cs_units_time_ps(ft(v), &back, NULL), CS_OK, "%s", ft(v));
        cr_assert_eq(back, v, "ps %llu -> %s", (unsigned long long)v, ft(v));
    }
}

/* mapper_www — the WWW priority-based CiM mapping; the rules are spelled out in mapper_www.h.
 *
 * Everything is integer arithmetic on divisors of M, N and K, so no product of factors can
 * overflow; the capacity tests divide instead of multiplying for the same reason. The number
 * theory helpers cost O(min(bound, sqrt(x))) so that huge or prime dimensions stay fast.
 */
#include "mapper_www.h"

#include <inttypes.h>
#include <stdio.h>

#include "check.h"

/* Smallest prime factor of x (x >= 2) if it is <= bound, else 0. */
static uint64_t spf_at_most(uint64_t x, uint64_t bound)
{
    uint64_t d = 2;
    for (; d <= bound && d <= x / d; d += (d == 2) ? 1 : 2)
        if (x % d == 0)
            return d;
    if (d <= x / d) /* stopped by the bound: every prime factor exceeds it */
        return 0;
    return x <= bound ? x : 0; /* no factor up to sqrt(x): x is prime */
}

static uint64_t spf(uint64_t x)
{
    return spf_at_most(x, x);
}

/* Largest divisor of x (>= 1) that is <= p (>= 1). */
static uint64_t maxdiv(uint64_t x, uint64_t p)
{
    if (p >= x)
        return x;
    if (p <= x / p) { /* p <= sqrt(x): counting down from p is the short walk */
        for (uint64_t d = p; d > 1; d--)
            if (x % d == 0)
                return d;
        return 1;
    }
    /* p > sqrt(x): the answer is x / i for the smallest divisor i in [ceil(x/p), sqrt(x)],
     * else the largest divisor below ceil(x/p) (all of them are <= sqrt(x) < p). */
    uint64_t lo = x / p + (x % p != 0);
    for (uint64_t i = lo; i <= x / i; i++)
        if (x % i == 0)
            return x / i;
    for (uint64_t i = lo - 1; i > 1; i--)
        if (x % i == 0)
            return i;
    return 1;
}

/* Step 2: the bank factors of N and K (one of them is 1). rem_n, rem_k: remainders after the
 * array; tile_n = Cp*Ch, tile_k = Rp*Rh. The CS_WWW_PARAM_MAX limits keep every product below
 * 2^49. */
static void spread_over_bank(uint64_t rem_n, uint64_t rem_k, uint64_t tile_n, uint64_t tile_k,
                             uint64_t bank_y, uint64_t threshold, uint64_t *bank_n,
                             uint64_t *bank_k)
{
    *bank_n = 1;
    *bank_k = 1;
    if (bank_y == 1)
        return;
    bool spread_k = tile_k > tile_n ? tile_k < threshold * tile_n : tile_n >= threshold * tile_k;
    uint64_t p = spf(bank_y);
    if (maxdiv(spread_k ? rem_k : rem_n, p) == 1) {
        spread_k = !spread_k;
        if (maxdiv(spread_k ? rem_k : rem_n, p) == 1)
            return;
    }
    uint64_t rem = spread_k ? rem_k : rem_n;
    uint64_t tile = spread_k ? tile_k : tile_n;
    uint64_t other_tile = spread_k ? tile_n : tile_k;
    uint64_t b = 1;
    for (uint64_t y = bank_y; y > 1;) {
        uint64_t f = spf(y);
        uint64_t g = maxdiv(rem / b, f);
        if (g == 1 || tile * b >= threshold * other_tile)
            break;
        b *= g;
        y /= f;
    }
    *(spread_k ? bank_k : bank_n) = b;
}

/* Steps 4b/4c: the growth factor of a dimension with remainder rem in the memory above. tile:
 * bytes of the growing tile before growth (> 0); fixed: bytes of the other tile. The study's
 * running size S is multiplied by the new cumulative factor at each step (see the header); a
 * step f is kept iff S * (g*f) + fixed <= cap, tested as f <= (cap - fixed) / S / g. */
static uint64_t grow_in_above(uint64_t rem, uint64_t tile, uint64_t fixed, uint64_t cap)
{
    if (tile > cap || fixed > cap - tile)
        return 1;
    uint64_t room = cap - fixed;
    uint64_t size = tile;
    uint64_t g = 1;
    while (rem / g > 1) {
        uint64_t f = spf_at_most(rem / g, room / size / g);
        if (f == 0) /* spf(rem / g) does not fit */
            break;
        g *= f;
        size *= g; /* <= room by the test above */
    }
    return g;
}

/* a * b, or false when it exceeds limit (or overflows). */
static bool mul_within(uint64_t a, uint64_t b, uint64_t limit, uint64_t *out)
{
    if (b != 0 && a > limit / b)
        return false;
    *out = a * b;
    return true;
}

static int check_param(cs_err *err, const char *key, uint64_t v, uint64_t max)
{
    if (v >= 1 && v <= max)
        return 0;
    if (max == UINT64_MAX)
        cs_err_add(err, CS_INVALID, "www mapping: %s: must be >= 1 (got %" PRIu64 ")", key, v);
    else
        cs_err_add(err, CS_INVALID,
                   "www mapping: %s: must be between 1 and %" PRIu64 " (got %" PRIu64 ")", key,
                   max, v);
    return 1;
}

static cs_status validate(const cs_www_input *in, cs_err *err)
{
    int bad = 0;
    bad += check_param(err, "m", in->m, UINT64_MAX);
    bad += check_param(err, "n", in->n, UINT64_MAX);
    bad += check_param(err, "k", in->k, UINT64_MAX);
    bad += check_param(err, "rp", in->rp, CS_WWW_PARAM_MAX);
    bad += check_param(err, "cp", in->cp, CS_WWW_PARAM_MAX);
    bad += check_param(err, "rh", in->rh, CS_WWW_PARAM_MAX);
    bad += check_param(err, "ch", in->ch, CS_WWW_PARAM_MAX);
    bad += check_param(err, "bank_y", in->bank_y, CS_WWW_PARAM_MAX);
    bad += check_param(err, "threshold", in->threshold, CS_WWW_PARAM_MAX);
    bad += check_param(err, "in_elem_bytes", in->in_elem_bytes, CS_WWW_ELEM_BYTES_MAX);
    bad += check_param(err, "out_elem_bytes", in->out_elem_bytes, CS_WWW_ELEM_BYTES_MAX);
    if (in->bank_x == 0) {
        cs_err_add(err, CS_INVALID, "www mapping: bank_x: must be 1 (got 0)");
        bad++;
    }
    if (bad)
        return CS_INVALID;
    if (in->bank_x > 1)
        return cs_err_add(err, CS_UNSUPPORTED,
                          "www mapping: bank_x: the WWW algorithm spreads weights over bank_y "
                          "only, bank_x must be 1 (got %" PRIu32 ")", in->bank_x);
    return CS_OK;
}

void cs_www_input_init(cs_www_input *in, cs_www_level level)
{
    *in = (cs_www_input){
        .bank_x = 1,
        .bank_y = 4,
        .above_bytes = level == CS_WWW_LEVEL_RF ? 256u * 1024u : 0,
        .threshold = level == CS_WWW_LEVEL_RF ? 4 : 32,
        .in_elem_bytes = 1,
        .out_elem_bytes = 1,
    };
}

cs_status cs_www_map(const cs_www_input *in, cs_www_mapping *out, cs_err *err)
{
    if (!in || !out)
        return cs_err_add(err, CS_INVALID, "www mapping: input and output must not be NULL");
    cs_status st = validate(in, err);
    if (st != CS_OK)
        return st;

    cs_www_mapping map = {0};
    uint64_t rem_m = in->m, rem_n = in->n, rem_k = in->k;

    /* 1. array */
    map.array = (cs_www_factors){1, maxdiv(rem_n, in->cp), maxdiv(rem_k, in->rp)};
    rem_n /= map.array.n;
    rem_k /= map.array.k;

    /* 2. bank */
    map.bank.m = 1;
    spread_over_bank(rem_n, rem_k, (uint64_t)in->cp * in->ch, (uint64_t)in->rp * in->rh,
                     in->bank_y, in->threshold, &map.bank.n, &map.bank.k);
    rem_n /= map.bank.n;
    rem_k /= map.bank.k;

    /* 3. storage */
    map.storage = (cs_www_factors){1, maxdiv(rem_n, in->ch), maxdiv(rem_k, in->rh)};
    rem_n /= map.storage.n;
    rem_k /= map.storage.k;

    /* 4. memory above */
    map.above = (cs_www_factors){1, 1, 1};
    map.has_above = in->above_bytes > 0;
    if (map.has_above) {
        uint64_t cap = in->above_bytes;
        uint64_t k_used = in->k / rem_k, n_used = in->n / rem_n;
        uint64_t a_row, z_row;
        if (!mul_within(k_used, in->in_elem_bytes, cap, &a_row) ||
            !mul_within(n_used, in->out_elem_bytes, cap, &z_row) || z_row > cap - a_row)
            return cs_err_add(err, CS_INVALID,
                              "www mapping: above_bytes: one row of the input and output tiles "
                              "(K used %" PRIu64 " x %" PRIu32 " B + N used %" PRIu64 " x %" PRIu32
                              " B) must fit in the memory above (got %" PRIu64 " bytes)",
                              k_used, in->in_elem_bytes, n_used, in->out_elem_bytes, cap);
        uint64_t m1 = maxdiv(rem_m, cap / (a_row + z_row));
        uint64_t k1 = grow_in_above(rem_k, m1 * a_row, m1 * z_row, cap);
        uint64_t n1 = grow_in_above(rem_n, m1 * z_row, m1 * a_row * k1, cap);
        map.above = (cs_www_factors){m1, n1, k1};
        rem_m /= m1;
        rem_n /= n1;
        rem_k /= k1;
        cs_www_permutation(&map.above, map.perm_above);
    }

    /* 5. DRAM */
    map.dram = (cs_www_factors){rem_m, rem_n, rem_k};
    cs_www_permutation(&map.dram, map.perm_dram);

    /* Every factor divides what its level was given, so these products equal the dimensions
     * without overflowing on the way. */
    const cs_www_factors *lv[] = {&map.array, &map.bank, &map.storage, &map.above, &map.dram};
    uint64_t pm = 1, pn = 1, pk = 1;
    for (size_t i = 0; i < sizeof lv / sizeof lv[0]; i++) {
        CS_ASSERT(lv[i]->m >= 1 && lv[i]->n >= 1 && lv[i]->k >= 1);
        pm *= lv[i]->m;
        pn *= lv[i]->n;
        pk *= lv[i]->k;
    }
    CS_ASSERT(pm == in->m && pn == in->n && pk == in->k);

    *out = map;
    return CS_OK;
}

void cs_www_format(const cs_www_factors *f, char *out, size_t n)
{
    snprintf(out, n, "%" PRIu64 ".%" PRIu64 ".%" PRIu64, f->m, f->n, f->k);
}

void cs_www_permutation(const cs_www_factors *f, char out[4])
{
    const char *p;
    if (f->m > f->n)
        p = f->n > f->k ? "MNK" : f->m > f->k ? "MKN" : "KMN";
    else
        p = f->n < f->k ? "KNM" : f->m > f->k ? "NMK" : "NKM";
    for (int i = 0; i < 4; i++)
        out[i] = p[i];
}

/* test_mapper_www — the WWW priority mapping against the study's 64 vectors, plus invalid input,
 * loop-order ties and factor products for shapes outside the vectors.
 *
 * Data: tests/data/www-mapping-vectors.csv and tests/data/cim-primitives.csv, copies of
 * /work/shared/reference/ (the WWW study, arXiv 2312.15896). Every field of every vector row is
 * compared; a mismatch prints the row number, the field, the expected and the computed value.
 */
#include <criterion/criterion.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mapper_www.h"

#define VECTORS_CSV CIMSIM_SOURCE_DIR "/tests/data/www-mapping-vectors.csv"
#define PRIMITIVES_CSV CIMSIM_SOURCE_DIR "/tests/data/cim-primitives.csv"

enum { MAX_FIELDS = 16, FIELD_BYTES = 128, LINE_BYTES = 1024, MAX_ROWS = 128, MAX_PRIMS = 8 };

/* A small CSV file in memory: '#' comment lines skipped, the first other line is the header.
 * No quoting (these files have none). */
typedef struct csv {
    char hdr[MAX_FIELDS][FIELD_BYTES];
    int ncols;
    char cell[MAX_ROWS][MAX_FIELDS][FIELD_BYTES];
    int line[MAX_ROWS]; /* line number in the file, for messages */
    int nrows;
} csv;

static int split_csv(char *text, char fields[MAX_FIELDS][FIELD_BYTES])
{
    text[strcspn(text, "\r\n")] = '\0';
    int n = 0;
    for (char *p = text;; n++) {
        size_t len = strcspn(p, ",");
        cr_assert_lt(n, MAX_FIELDS, "too many fields in: %s", text);
        cr_assert_lt(len, (size_t)FIELD_BYTES, "field too long in: %s", text);
        memcpy(fields[n], p, len);
        fields[n][len] = '\0';
        if (p[len] == '\0')
            return n + 1;
        p += len + 1;
    }
}

static csv *load_csv(const char *path)
{
    csv *t = calloc(1, sizeof *t);
    cr_assert_not_null(t);
    FILE *fp = fopen(path, "r");
    cr_assert_not_null(fp, "cannot open %s", path);
    char text[LINE_BYTES];
    for (int lineno = 1; fgets(text, sizeof text, fp); lineno++) {
        if (text[0] == '#' || text[0] == '\n')
            continue;
        if (t->ncols == 0) {
            t->ncols = split_csv(text, t->hdr);
            continue;
        }
        cr_assert_lt(t->nrows, MAX_ROWS, "%s: too many rows", path);
        int n = split_csv(text, t->cell[t->nrows]);
        cr_assert_eq(n, t->ncols, "%s:%d: %d fields, header has %d", path, lineno, n, t->ncols);
        t->line[t->nrows++] = lineno;
    }
    fclose(fp);
    return t;
}

static const char *get(const csv *t, int row, const char *col)
{
    for (int i = 0; i < t->ncols; i++)
        if (strcmp(t->hdr[i], col) == 0)
            return t->cell[row][i];
    cr_assert_fail("column %s missing", col);
    return NULL;
}

static uint64_t get_u64(const csv *t, int row, const char *col)
{
    const char *s = get(t, row, col);
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    cr_assert(end != s && *end == '\0', "line %d: %s: not a number: '%s'", t->line[row], col, s);
    return (uint64_t)v;
}

typedef struct prim {
    char name[32];
    uint32_t rp, cp, rh, ch;
} prim;

static prim g_prims[MAX_PRIMS];
static int g_nprims;

static void load_prims(void)
{
    csv *t = load_csv(PRIMITIVES_CSV);
    cr_assert_eq(t->nrows, 4, "expected the 4 WWW primitives, got %d", t->nrows);
    for (int r = 0; r < t->nrows; r++) {
        prim *p = &g_prims[r];
        snprintf(p->name, sizeof p->name, "%s", get(t, r, "name"));
        p->rp = (uint32_t)get_u64(t, r, "rp");
        p->cp = (uint32_t)get_u64(t, r, "cp");
        p->rh = (uint32_t)get_u64(t, r, "rh");
        p->ch = (uint32_t)get_u64(t, r, "ch");
    }
    g_nprims = t->nrows;
    free(t);
}

static const prim *find_prim(const char *name)
{
    for (int i = 0; i < g_nprims; i++)
        if (strcmp(g_prims[i].name, name) == 0)
            return &g_prims[i];
    cr_assert_fail("unknown primitive %s", name);
    return NULL;
}

static cs_www_input input_for(cs_www_level level, const prim *p, uint64_t m, uint64_t n,
                              uint64_t k)
{
    cs_www_input in;
    cs_www_input_init(&in, level);
    in.m = m;
    in.n = n;
    in.k = k;
    in.rp = p->rp;
    in.cp = p->cp;
    in.rh = p->rh;
    in.ch = p->ch;
    return in;
}

/* Products over the levels equal the GEMM, each level within its hardware, tiles fit above. */
static void check_invariants(const cs_www_input *in, const cs_www_mapping *mp, const char *what)
{
    const cs_www_factors *lv[] = {&mp->array, &mp->bank, &mp->storage, &mp->above, &mp->dram};
    uint64_t pm = 1, pn = 1, pk = 1;
    for (int i = 0; i < 5; i++) {
        pm *= lv[i]->m;
        pn *= lv[i]->n;
        pk *= lv[i]->k;
    }
    cr_expect_eq(pm, in->m, "%s: M product %" PRIu64 " != %" PRIu64, what, pm, in->m);
    cr_expect_eq(pn, in->n, "%s: N product %" PRIu64 " != %" PRIu64, what, pn, in->n);
    cr_expect_eq(pk, in->k, "%s: K product %" PRIu64 " != %" PRIu64, what, pk, in->k);
    cr_expect(mp->array.m == 1 && mp->array.n <= in->cp && mp->array.k <= in->rp, "%s: array", what);
    cr_expect(mp->storage.m == 1 && mp->storage.n <= in->ch && mp->storage.k <= in->rh,
              "%s: storage", what);
    cr_expect(mp->bank.m == 1 && mp->bank.n * mp->bank.k <= in->bank_y &&
                  (mp->bank.n == 1 || mp->bank.k == 1),
              "%s: bank", what);
    if (mp->has_above) {
        uint64_t m1 = mp->above.m;
        uint64_t a = m1 * (in->k / mp->dram.k) * in->in_elem_bytes;
        uint64_t z = m1 * (in->n / mp->dram.n) * in->out_elem_bytes;
        cr_expect(a <= in->above_bytes && z <= in->above_bytes - a,
                  "%s: tiles above %" PRIu64 " + %" PRIu64 " B exceed %" PRIu64, what, a, z,
                  in->above_bytes);
    } else {
        cr_expect(mp->above.m == 1 && mp->above.n == 1 && mp->above.k == 1, "%s: above", what);
        cr_expect_str_eq(mp->perm_above, "", "%s: perm_above", what);
    }
}

static int field_ok(int row, int lineno, const char *field, const char *want, const char *got)
{
    if (strcmp(want, got) == 0)
        return 1;
    cr_log_error("row %d (line %d): %s: expected %s, got %s", row, lineno, field, want, got);
    return 0;
}

Test(mapper_www, all_64_vectors)
{
    load_prims();
    csv *t = load_csv(VECTORS_CSV);
    cr_assert_eq(t->nrows, 64, "expected 64 vector rows, read %d", t->nrows);
    int bad_rows = 0;
    for (int r = 0; r < t->nrows; r++) {
        int row = r + 1, lineno = t->line[r];
        const char *level_name = get(t, r, "level");
        cr_assert(strcmp(level_name, "rf") == 0 || strcmp(level_name, "smem") == 0,
                  "row %d: unknown level %s", row, level_name);
        cs_www_level level = level_name[0] == 'r' ? CS_WWW_LEVEL_RF : CS_WWW_LEVEL_SMEM;
        cs_www_input in = input_for(level, find_prim(get(t, r, "primitive")), get_u64(t, r, "m"),
                                    get_u64(t, r, "n"), get_u64(t, r, "k"));
        cs_www_mapping mp;
        cs_err err;
        cs_err_init(&err);
        cs_status st = cs_www_map(&in, &mp, &err);
        cr_assert_eq(st, CS_OK, "row %d: status %s: %s", row, cs_status_str(st),
                     err.count ? err.msg[0] : "");

        char got[5][64];
        cs_www_format(&mp.array, got[0], sizeof got[0]);
        cs_www_format(&mp.bank, got[1], sizeof got[1]);
        cs_www_format(&mp.storage, got[2], sizeof got[2]);
        if (mp.has_above)
            cs_www_format(&mp.above, got[3], sizeof got[3]);
        else
            snprintf(got[3], sizeof got[3], "-");
        cs_www_format(&mp.dram, got[4], sizeof got[4]);

        int ok = 1;
        ok &= field_ok(row, lineno, "cim_array", get(t, r, "cim_array"), got[0]);
        ok &= field_ok(row, lineno, "cim_bank", get(t, r, "cim_bank"), got[1]);
        ok &= field_ok(row, lineno, "cim_storage", get(t, r, "cim_storage"), got[2]);
        ok &= field_ok(row, lineno, "smem", get(t, r, "smem"), got[3]);
        ok &= field_ok(row, lineno, "dram", get(t, r, "dram"), got[4]);
        ok &= field_ok(row, lineno, "perm_dram", get(t, r, "perm_dram"), mp.perm_dram);
        ok &= field_ok(row, lineno, "perm_smem", get(t, r, "perm_smem"),
                       mp.has_above ? mp.perm_above : "-");
        bad_rows += !ok;

        char what[64];
        snprintf(what, sizeof what, "row %d", row);
        check_invariants(&in, &mp, what);
    }
    cr_expect_eq(bad_rows, 0, "%d of %d rows differ (see the log above)", bad_rows, t->nrows);
    free(t);
}

/* ---- invalid input ---- */

static void expect_invalid(const cs_www_input *in, cs_status want, const char *key)
{
    cs_www_mapping mp;
    memset(&mp, 0xA5, sizeof mp);
    cs_www_mapping before = mp;
    cs_err err;
    cs_err_init(&err);
    cs_status st = cs_www_map(in, &mp, &err);
    cr_expect_eq(st, want, "%s: status %s, want %s", key, cs_status_str(st), cs_status_str(want));
    cr_expect_geq(err.count, 1, "%s: no message", key);
    int named = 0;
    for (int i = 0; i < err.count && i < CS_ERR_MAX; i++)
        named |= strstr(err.msg[i], key) != NULL;
    cr_expect(named, "%s: no message names it (first: %s)", key, err.count ? err.msg[0] : "");
    cr_expect(memcmp(&mp, &before, sizeof mp) == 0, "%s: output written on failure", key);
}

static cs_www_input valid_rf(void)
{
    cs_www_input in;
    cs_www_input_init(&in, CS_WWW_LEVEL_RF);
    in.m = 512;
    in.n = 1024;
    in.k = 1024;
    in.rp = 64;
    in.cp = 4;
    in.rh = 1;
    in.ch = 16;
    return in;
}

Test(mapper_www, invalid_inputs)
{
    cs_www_input in;
#define BAD(field, value, status)   \
    in = valid_rf();                \
    in.field = value;               \
    expect_invalid(&in, status, #field)
    BAD(m, 0, CS_INVALID);
    BAD(n, 0, CS_INVALID);
    BAD(k, 0, CS_INVALID);
    BAD(rp, 0, CS_INVALID);
    BAD(cp, 0, CS_INVALID);
    BAD(rh, 0, CS_INVALID);
    BAD(ch, 0, CS_INVALID);
    BAD(rp, CS_WWW_PARAM_MAX + 1, CS_INVALID);
    BAD(ch, UINT32_MAX, CS_INVALID);
    BAD(bank_y, 0, CS_INVALID);
    BAD(bank_x, 0, CS_INVALID);
    BAD(bank_x, 2, CS_UNSUPPORTED);
    BAD(threshold, 0, CS_INVALID);
    BAD(in_elem_bytes, 0, CS_INVALID);
    BAD(out_elem_bytes, 0, CS_INVALID);
    BAD(out_elem_bytes, CS_WWW_ELEM_BYTES_MAX + 1, CS_INVALID);
    /* One row of A (64 B) and Z (256 B) does not fit in 300 bytes. */
    BAD(above_bytes, 300, CS_INVALID);
#undef BAD

    /* Several mistakes are all reported. */
    in = valid_rf();
    in.m = 0;
    in.rp = 0;
    in.bank_y = 0;
    cs_www_mapping mp;
    cs_err err;
    cs_err_init(&err);
    cr_expect_eq(cs_www_map(&in, &mp, &err), CS_INVALID);
    cr_expect_eq(err.count, 3, "want 3 messages, got %d", err.count);

    /* NULL pointers and a NULL error context. */
    cs_err_init(&err);
    cr_expect_eq(cs_www_map(NULL, &mp, &err), CS_INVALID);
    cr_expect_eq(cs_www_map(&in, NULL, &err), CS_INVALID);
    cr_expect_eq(cs_www_map(&in, &mp, NULL), CS_INVALID);
    in = valid_rf();
    cr_expect_eq(cs_www_map(&in, &mp, NULL), CS_OK);

    /* The smallest memory above that holds one row (64 + 256 B) works: M1 = 1, no growth. */
    in.above_bytes = 320;
    cr_assert_eq(cs_www_map(&in, &mp, NULL), CS_OK);
    cr_expect(mp.above.m == 1 && mp.above.n == 1 && mp.above.k == 1);
}

/* ---- shapes outside the vectors ---- */

Test(mapper_www, products_for_other_shapes)
{
    load_prims();
    static const uint64_t shapes[][3] = {
        {1, 1, 1},
        {7, 11, 13},
        {7919, 104729, 1000003},          /* primes */
        {2, 3, 5},
        {3, 4096, 4095},
        {1000, 999, 1001},
        {12, 768, 3072},                  /* BERT-like */
        {1ull << 40, 1ull << 40, 1ull << 40},
        {(1ull << 61) - 1, 1024, 4096},   /* Mersenne prime M */
        {4096, (1ull << 61) - 1, (1ull << 61) - 1},
        {UINT64_MAX, UINT64_MAX, UINT64_MAX}, /* 3.5.17.257.641.65537.6700417 */
        {6, 1ull << 62, 3ull << 40},
    };
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int l = 0; l < 2; l++)
            for (int p = 0; p < g_nprims; p++) {
                cs_www_input in = input_for(l ? CS_WWW_LEVEL_SMEM : CS_WWW_LEVEL_RF,
                                            &g_prims[p], shapes[s][0], shapes[s][1],
                                            shapes[s][2]);
                cs_www_mapping mp;
                cs_err err;
                cs_err_init(&err);
                char what[640];
                snprintf(what, sizeof what, "%s %s %" PRIu64 "x%" PRIu64 "x%" PRIu64,
                         l ? "smem" : "rf", g_prims[p].name, in.m, in.n, in.k);
                cs_status st = cs_www_map(&in, &mp, &err);
                cr_expect_eq(st, CS_OK, "%s: %s", what, err.count ? err.msg[0] : "");
                if (st == CS_OK)
                    check_invariants(&in, &mp, what);
            }

    /* Other elements sizes, bank shapes and thresholds keep the invariants too. */
    cs_www_input in = valid_rf();
    in.out_elem_bytes = 4;
    in.bank_y = 6;
    in.threshold = 2;
    in.m = 360;
    in.n = 2 * 3 * 5 * 7 * 11 * 13;
    in.k = 3 * 3 * 3 * 3 * 64;
    cs_www_mapping mp;
    cr_assert_eq(cs_www_map(&in, &mp, NULL), CS_OK);
    check_invariants(&in, &mp, "bank 1x6, 4-byte outputs");
    in.bank_y = 1;
    cr_assert_eq(cs_www_map(&in, &mp, NULL), CS_OK);
    cr_expect(mp.bank.n == 1 && mp.bank.k == 1, "bank_y 1 spreads nothing");
    check_invariants(&in, &mp, "bank 1x1");
}

Test(mapper_www, same_input_same_output)
{
    cs_www_input in = valid_rf();
    cs_www_mapping a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0xff, sizeof b);
    cr_assert_eq(cs_www_map(&in, &a, NULL), CS_OK);
    cr_assert_eq(cs_www_map(&in, &b, NULL), CS_OK);
    cr_expect(memcmp(&a, &b, sizeof a) == 0);
}

/* ---- loop order and formatting ---- */

Test(mapper_www, permutation_ties)
{
    static const struct {
        uint64_t m, n, k;
        const char *want;
    } cases[] = {
        {1, 1, 1, "NKM"},  {512, 4, 8, "MKN"}, {1, 4, 8, "KNM"}, {512, 1, 2, "MKN"},
        {512, 2, 1, "MNK"}, {512, 2, 512, "KMN"}, {1, 8, 2, "NKM"}, {8, 16, 4, "NMK"},
        {8, 8, 1, "NMK"},  {8, 1, 1, "MKN"},   {1, 8, 8, "NKM"}, {8, 1, 8, "KMN"},
        {1, 1, 8, "KNM"},  {1, 8, 1, "NKM"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cs_www_factors f = {cases[i].m, cases[i].n, cases[i].k};
        char p[4];
        cs_www_permutation(&f, p);
        cr_expect_str_eq(p, cases[i].want, "%" PRIu64 ".%" PRIu64 ".%" PRIu64 ": got %s want %s",
                         f.m, f.n, f.k, p, cases[i].want);
    }
}

Test(mapper_www, format)
{
    cs_www_factors f = {1, 4, 64};
    char buf[32];
    cs_www_format(&f, buf, sizeof buf);
    cr_expect_str_eq(buf, "1.4.64");
    cs_www_format(&f, buf, 4);
    cr_expect_str_eq(buf, "1.4");
    f = (cs_www_factors){UINT64_MAX, 0, 1};
    cs_www_format(&f, buf, sizeof buf);
    cr_expect_str_eq(buf, "18446744073709551615.0.1");
}

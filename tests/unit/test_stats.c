/* test_stats — the statistics registry: registration, values, histograms, formulas (grammar,
 * errors with columns, globs, cycles), snapshots and deltas, dump back-ends, scale. */
#include <criterion/criterion.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "stats.h"

/* Every test checks that the registry frees what it allocated. */
static long live_at_start;
static void leak_setup(void) { live_at_start = cs_alloc_live_blocks(); }
static void leak_teardown(void)
{
    cr_expect_eq(cs_alloc_live_blocks(), live_at_start, "leaked %ld blocks",
                 cs_alloc_live_blocks() - live_at_start);
}
TestSuite(stats, .init = leak_setup, .fini = leak_teardown);

static size_t idx(const cs_stats *s, const char *name)
{
    size_t i = cs_stats_find(s, name);
    cr_assert_neq(i, (size_t)-1, "%s not registered", name);
    return i;
}

static double val(const cs_stats *s, const char *name) { return cs_stats_value(s, idx(s, name)); }

/* Evaluates expr, asserting success. */
static double ev(const cs_stats *s, const char *expr)
{
    double v = -12345;
    cs_err err;
    cs_err_init(&err);
    cs_status st = cs_stats_eval(s, expr, &v, &err);
    cr_assert_eq(st, CS_OK, "eval \"%s\": %s", expr, err.count ? err.msg[0] : "(no message)");
    return v;
}

/* Evaluates expr, asserting failure with status st and exactly this message. */
static void ev_fails(const cs_stats *s, const char *expr, cs_status st, const char *msg)
{
    double v = 0;
    cs_err err;
    cs_err_init(&err);
    cr_assert_eq(cs_stats_eval(s, expr, &v, &err), st, "eval \"%s\" status", expr);
    cr_assert(isnan(v), "eval \"%s\" failed but gave %g", expr, v);
    cr_assert_eq(err.count, 1, "eval \"%s\": %d messages", expr, err.count);
    cr_assert_str_eq(err.msg[0], msg);
}

/* ---- counters, gauges, histograms ----------------------------------------------------------- */

Test(stats, counter_reads_through_pointer)
{
    cs_stats *s = cs_stats_create();
    uint64_t hits = 0, misses = 7;
    cs_stats_counter(s, "gpu.l2.slice07.rd_hit", "accesses", "read hits", &hits);
    cs_stats_counter(s, "gpu.l2.slice07.rd_miss", NULL, NULL, &misses);
    cr_assert_eq(cs_stats_count(s), 2);
    cr_assert_str_eq(cs_stats_name(s, 0), "gpu.l2.slice07.rd_hit");
    cr_assert_str_eq(cs_stats_unit(s, 0), "accesses");
    cr_assert_str_eq(cs_stats_desc(s, 0), "read hits");
    cr_assert_str_eq(cs_stats_unit(s, 1), "");
    cr_assert_str_eq(cs_stats_desc(s, 1), "");
    cr_assert_eq(cs_stats_kind(s, 0), CS_STAT_COUNTER);
    cr_assert_eq(cs_stats_find(s, "gpu.l2.slice07.rd_miss"), 1);
    cr_assert_eq(cs_stats_find(s, "gpu.l2.slice07"), (size_t)-1);
    cr_assert_eq(cs_stats_find(s, "nope"), (size_t)-1);
    cr_assert_eq(cs_stats_value(s, 0), 0.0);
    hits += 41;
    hits++;
    cr_assert_eq(cs_stats_value(s, 0), 42.0);
    cr_assert_eq(cs_stats_value(s, 1), 7.0);
    cs_stats_destroy(s);
    cs_stats_destroy(NULL);
}

Test(stats, registration_copies_strings)
{
    cs_stats *s = cs_stats_create();
    uint64_t c = 3;
    char name[32] = "gpu.sm000.issued", unit[16] = "warps", desc[16] = "issued";
    cs_stats_counter(s, name, unit, desc, &c);
    strcpy(name, "xxxxxxxxxxxxxxxx");
    strcpy(unit, "yyyyy");
    strcpy(desc, "zzzzz");
    cr_assert_str_eq(cs_stats_name(s, 0), "gpu.sm000.issued");
    cr_assert_str_eq(cs_stats_unit(s, 0), "warps");
    cr_assert_str_eq(cs_stats_desc(s, 0), "issued");
    cr_assert_eq(cs_stats_find(s, "gpu.sm000.issued"), 0);
    cs_stats_destroy(s);
}

Test(stats, gauge_high_water)
{
    cs_stats *s = cs_stats_create();
    cs_gauge q = {0, 0};
    cs_stats_gauge(s, "gpu.l2.mshr", "entries", "MSHRs in use", &q);
    cs_gauge_add(&q, 3);
    cs_gauge_add(&q, 2);
    cs_gauge_add(&q, -4);
    cs_gauge_add(&q, 1);
    cr_assert_eq(q.value, 2);
    cr_assert_eq(q.high, 5);
    cr_assert_eq(cs_stats_kind(s, 0), CS_STAT_GAUGE);
    cr_assert_eq(cs_stats_value(s, 0), 2.0); /* a gauge reads its value, not its high */
    cs_stats_destroy(s);
}

static unsigned only_bucket(const cs_hist *h)
{
    unsigned found = CS_HIST_BUCKETS;
    for (unsigned b = 0; b < CS_HIST_BUCKETS; b++) {
        if (h->bucket[b]) {
            cr_assert_eq(found, CS_HIST_BUCKETS, "more than one bucket used");
            found = b;
        }
    }
    return found;
}

Test(stats, hist_bucket_boundaries)
{
    const struct {
        uint64_t v;
        unsigned bucket;
    } cases[] = {
        {0, 0}, {1, 1}, {2, 2}, {3, 2}, {4, 3}, {7, 3}, {8, 4}, {15, 4}, {16, 5},
        {((uint64_t)1 << 38) - 1, 38}, {(uint64_t)1 << 38, 39}, {(uint64_t)1 << 39, 39},
        {UINT64_MAX, 39},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        cs_hist h;
        memset(&h, 0, sizeof h);
        cs_hist_add(&h, cases[k].v);
        cr_assert_eq(only_bucket(&h), cases[k].bucket, "v=%llu", (unsigned long long)cases[k].v);
        cr_assert_eq(h.count, 1);
        cr_assert_eq(h.min, cases[k].v);
        cr_assert_eq(h.max, cases[k].v);
    }
}

Test(stats, hist_count_sum_min_max)
{
    cs_stats *s = cs_stats_create();
    cs_hist h;
    memset(&h, 0, sizeof h);
    cs_stats_hist(s, "gpu.l2.lat", "cycles", "latency", &h);
    cr_assert_eq(cs_stats_value(s, 0), 0.0);
    uint64_t samples[] = {8, 3, 0, 7, 4, 1, 2};
    for (size_t k = 0; k < 7; k++)
        cs_hist_add(&h, samples[k]);
    cr_assert_eq(h.count, 7);
    cr_assert_eq(h.sum, 25);
    cr_assert_eq(h.min, 0); /* a later 0 lowers the min set by the first sample */
    cr_assert_eq(h.max, 8);
    uint64_t want[5] = {1, 1, 2, 2, 1};
    for (int b = 0; b < 5; b++)
        cr_assert_eq(h.bucket[b], want[b], "bucket %d", b);
    cr_assert_eq(cs_stats_kind(s, 0), CS_STAT_HIST);
    cr_assert_eq(cs_stats_value(s, 0), 7.0); /* a histogram reads its count */
    cs_stats_destroy(s);
}

Test(stats, actions_and_instances_in_order)
{
    cs_stats *s = cs_stats_create();
    uint64_t rd = 5, wr = 9, other = 1;
    cs_stats_instance(s, "smem", "gpu.sm001.smem");
    cs_stats_action(s, "gpu.sm001.smem.rd", "accesses", "reads", &rd, "smem", "read");
    cs_stats_counter(s, "gpu.sm001.cycles", "cycles", "", &other);
    cs_stats_action(s, "gpu.sm001.smem.wr", "accesses", "writes", &wr, "smem", "write");
    cs_stats_instance(s, "l2", "gpu.l2.slice00");
    cr_assert_eq(cs_stats_count(s), 3);
    cr_assert_eq(cs_stats_kind(s, 2), CS_STAT_COUNTER); /* an action is a counter too */
    cr_assert_eq(cs_stats_action_count(s), 2);
    const char *name, *cls, *action;
    uint64_t v;
    wr = 11;
    cs_stats_action_get(s, 1, &name, &cls, &action, &v);
    cr_assert_str_eq(name, "gpu.sm001.smem.wr");
    cr_assert_str_eq(cls, "smem");
    cr_assert_str_eq(action, "write");
    cr_assert_eq(v, 11);
    cs_stats_action_get(s, 0, &name, &cls, &action, &v);
    cr_assert_str_eq(name, "gpu.sm001.smem.rd");
    cr_assert_str_eq(action, "read");
    cr_assert_eq(v, 5);
    cr_assert_eq(cs_stats_instance_count(s), 2);
    cs_stats_instance_get(s, 0, &cls, &name);
    cr_assert_str_eq(cls, "smem");
    cr_assert_str_eq(name, "gpu.sm001.smem");
    cs_stats_instance_get(s, 1, &cls, &name);
    cr_assert_str_eq(cls, "l2");
    cr_assert_str_eq(name, "gpu.l2.slice00");
    cs_stats_destroy(s);
}

/* ---- registration bugs abort ---------------------------------------------------------------- */

Test(stats, duplicate_counter_aborts, .signal = SIGABRT)
{
    cs_stats *s = cs_stats_create();
    uint64_t a = 0, b = 0;
    cs_stats_counter(s, "gpu.sm000.issued", "warps", "", &a);
    cs_stats_counter(s, "gpu.sm000.issued", "warps", "", &b);
}

Test(stats, duplicate_across_kinds_aborts, .signal = SIGABRT)
{
    cs_stats *s = cs_stats_create();
    cs_gauge g = {0, 0};
    cs_stats_gauge(s, "gpu.q", "", "", &g);
    cs_stats_formula(s, "gpu.q", "", "", "1", NULL);
}

Test(stats, uppercase_name_aborts, .signal = SIGABRT)
{
    cs_stats *s = cs_stats_create();
    uint64_t a = 0;
    cs_stats_counter(s, "gpu.SM0.issued", "", "", &a);
}

Test(stats, empty_name_aborts, .signal = SIGABRT)
{
    cs_stats *s = cs_stats_create();
    uint64_t a = 0;
    cs_stats_counter(s, "", "", "", &a);
}

Test(stats, glob_char_in_name_aborts, .signal = SIGABRT)
{
    cs_stats *s = cs_stats_create();
    cs_hist h;
    memset(&h, 0, sizeof h);
    cs_stats_hist(s, "gpu.l2.*", "", "", &h);
}

Test(stats, dash_in_formula_name_aborts, .signal = SIGABRT)
{
    cs_stats *s = cs_stats_create();
    cs_stats_formula(s, "gpu.hit-rate", "", "", "1", NULL);
}

/* ---- glob ----------------------------------------------------------------------------------- */

Test(stats, glob_matching)
{
    const struct {
        const char *glob, *name;
        bool match;
    } cases[] = {
        {"", "", true},
        {"", "a", false},
        {"a", "", false},
        {"*", "", true},
        {"*", "gpu.l2.slice07.rd_hit", true},
        {"**", "x", true},
        {"gpu.l2.rd", "gpu.l2.rd", true},
        {"gpu.l2.rd", "gpu.l2.rd_hit", false},    /* anchored at the end */
        {"l2.rd", "gpu.l2.rd", false},            /* and at the start */
        {"gpu.l2.rd*", "gpu.l2.rd", true},        /* '*' matches the empty run */
        {"gpu.l2.rd*", "gpu.l2.rd_hit", true},
        {"*.rd_hit", "gpu.l2.slice07.rd_hit", true},
        {"gpu.*.rd_hit", "gpu.l2.slice07.rd_hit", true}, /* '*' crosses dots */
        {"gpu.l2.slice*.rd_hit", "gpu.l2.slice07.rd_hit", true},
        {"gpu.l2.slice*.rd_hit", "gpu.l2.slice07.rd_miss", false},
        {"a*b", "abab", true},                    /* needs backtracking */
        {"a*b*c", "abxbc", true},
        {"a*c", "abcd", false},
        {"*a", "ba", true},
        {"*a", "ab", false},
        {"a*a*a", "aa", false},
        {"a*a*a", "aaa", true},
        {"*x*", "abc", false},
        {"gpu.sm0*", "gpu.sm", false},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
        cr_assert_eq(cs_stats_glob_match(cases[k].glob, cases[k].name), cases[k].match,
                     "glob \"%s\" name \"%s\"", cases[k].glob, cases[k].name);
}

/* ---- formulas ------------------------------------------------------------------------------- */

Test(stats, formula_arithmetic_and_precedence)
{
    cs_stats *s = cs_stats_create();
    uint64_t a = 2, b = 3, c = 4;
    cs_stats_counter(s, "a", "", "", &a);
    cs_stats_counter(s, "x.b", "", "", &b);
    cs_stats_counter(s, "x.c_1", "", "", &c);
    cr_assert_eq(ev(s, "1 + 2 * 3"), 7.0);
    cr_assert_eq(ev(s, "(1 + 2) * 3"), 9.0);
    cr_assert_eq(ev(s, "10 - 4 - 3"), 3.0);   /* left associative */
    cr_assert_eq(ev(s, "16 / 4 / 2"), 2.0);
    cr_assert_eq(ev(s, "2 * 3 / 4"), 1.5);
    cr_assert_eq(ev(s, "1 - 2 * 3 + 4"), -1.0);
    cr_assert_eq(ev(s, "a + x.b * x.c_1"), 14.0);
    cr_assert_eq(ev(s, "(a + x.b) * x.c_1"), 20.0);
    cr_assert_eq(ev(s, "a*x.b-x.c_1/a"), 4.0);  /* no spaces needed */
    cr_assert_eq(ev(s, " \t( ( a ) ) \n"), 2.0);
    cr_assert_eq(ev(s, "1.5e2 + .5 + 2. + 2.5e-1"), 152.75);
    cr_assert_eq(ev(s, "0.25E+1"), 2.5);
    cs_err err;
    cs_err_init(&err);
    cr_assert_eq(cs_stats_formula(s, "f", "", "", "a * (x.b + x.c_1)", &err), CS_OK);
    cr_assert_eq(err.count, 0);
    cr_assert_eq(cs_stats_kind(s, 3), CS_STAT_FORMULA);
    cr_assert_eq(val(s, "f"), 14.0);
    a = 10;
    cr_assert_eq(val(s, "f"), 70.0); /* evaluated at read time */
    cs_stats_destroy(s);
}

Test(stats, formula_unary_minus)
{
    cs_stats *s = cs_stats_create();
    uint64_t a = 5;
    cs_stats_counter(s, "a", "", "", &a);
    cr_assert_eq(ev(s, "-a"), -5.0);
    cr_assert_eq(ev(s, "--a"), 5.0);
    cr_assert_eq(ev(s, "- -a"), 5.0);
    cr_assert_eq(ev(s, "2 * -a"), -10.0);
    cr_assert_eq(ev(s, "2 - -a"), 7.0);
    cr_assert_eq(ev(s, "-a * 2"), -10.0);       /* binds tighter than '*' */
    cr_assert_eq(ev(s, "-(a + 1) / 2"), -3.0);
    cr_assert_eq(ev(s, "-2 - 3"), -5.0);
    cs_stats_destroy(s);
}

Test(stats, formula_divide_by_zero_is_zero)
{
    cs_stats *s = cs_stats_create();
    uint64_t hit = 0, rd = 0;
    cs_stats_counter(s, "hit", "", "", &hit);
    cs_stats_counter(s, "rd", "", "", &rd);
    cr_assert_eq(cs_stats_formula(s, "rate", "", "", "hit / rd", NULL), CS_OK);
    cr_assert_eq(val(s, "rate"), 0.0);
    cr_assert_eq(ev(s, "1 / 0"), 0.0);
    cr_assert_eq(ev(s, "0 / 0"), 0.0);
    cr_assert_eq(ev(s, "5 / (rd - rd) + 1"), 1.0);
    hit = 3;
    rd = 4;
    cr_assert_eq(val(s, "rate"), 0.75);
    cs_stats_destroy(s);
}

Test(stats, formula_sum_and_max_over_globs)
{
    cs_stats *s = cs_stats_create();
    uint64_t x0 = 1, x1 = 2, y1 = 10, x5 = 50;
    cs_gauge g = {4, 9}, neg = {-3, 0};
    cs_hist h;
    memset(&h, 0, sizeof h);
    h.count = 100;
    cs_stats_counter(s, "gpu.sm0.x", "", "", &x0);
    cs_stats_counter(s, "gpu.sm1.x", "", "", &x1);
    cs_stats_counter(s, "gpu.sm1.y", "", "", &y1);
    cs_stats_gauge(s, "gpu.sm2.x", "", "", &g);
    cs_stats_hist(s, "gpu.sm3.x", "", "", &h);                          /* not summed */
    cr_assert_eq(cs_stats_formula(s, "gpu.sm4.x", "", "", "1000", NULL), CS_OK); /* nor this */
    cr_assert_eq(cs_stats_formula(s, "total", "", "", "sum(gpu.sm*.x)", NULL), CS_OK);
    cr_assert_eq(cs_stats_formula(s, "peak", "", "", "max( gpu.sm*.x )", NULL), CS_OK);
    cr_assert_eq(val(s, "total"), 7.0); /* counters + gauge value */
    cr_assert_eq(val(s, "peak"), 4.0);
    cr_assert_eq(ev(s, "sum(*) - sum(gpu.sm1.*)"), 5.0);
    cr_assert_eq(ev(s, "sum(nothing*) + max(nothing*)"), 0.0); /* no match: 0 */
    cr_assert_eq(ev(s, "sum(gpu.sm1.y) * 2"), 20.0);             /* a glob without '*' */
    cr_assert_eq(ev(s, "gpu.sm3.x"), 100.0);                     /* by name it is its count */
    cr_assert_eq(cs_stats_sum(s, "gpu.sm*.x"), 3.0);             /* the API sums counters only */
    cr_assert_eq(cs_stats_sum(s, "gpu.sm1.y"), 10.0);
    cr_assert_eq(cs_stats_sum(s, "gpu.sm2.x"), 0.0);
    cr_assert_eq(cs_stats_sum(s, "missing"), 0.0);
    /* A statistic registered after a glob formula was first evaluated is still found. */
    cs_stats_counter(s, "gpu.sm5.x", "", "", &x5);
    cr_assert_eq(val(s, "total"), 57.0);
    cr_assert_eq(val(s, "peak"), 50.0);
    x0 = 70;
    cr_assert_eq(val(s, "total"), 126.0);
    cr_assert_eq(val(s, "peak"), 70.0);
    cs_stats_gauge(s, "neg.q", "", "", &neg);
    cr_assert_eq(ev(s, "max(neg.*)"), -3.0); /* max of negatives is not clamped to 0 */
    cs_stats_destroy(s);
}

Test(stats, formula_resolves_names_lazily)
{
    cs_stats *s = cs_stats_create();
    uint64_t hit = 3, rd = 4;
    cr_assert_eq(cs_stats_formula(s, "gpu.l2.hit_rate", "ratio", "", "gpu.l2.hit / gpu.l2.rd",
                                  NULL), CS_OK);
    cr_assert(isnan(val(s, "gpu.l2.hit_rate"))); /* operands not registered yet */
    cs_stats_counter(s, "gpu.l2.hit", "", "", &hit);
    cs_stats_counter(s, "gpu.l2.rd", "", "", &rd);
    cr_assert_eq(val(s, "gpu.l2.hit_rate"), 0.75);
    hit = 1;
    cr_assert_eq(val(s, "gpu.l2.hit_rate"), 0.25);
    cs_stats_destroy(s);
}

Test(stats, unknown_names_are_nan_and_an_eval_error)
{
    cs_stats *s = cs_stats_create();
    uint64_t a = 1;
    cs_stats_counter(s, "a", "", "", &a);
    cr_assert_eq(cs_stats_formula(s, "f", "", "", "1 + nope", NULL), CS_OK);
    cr_assert_eq(cs_stats_formula(s, "g", "", "", "f * 0 + a", NULL), CS_OK);
    cr_assert(isnan(val(s, "f")));
    cr_assert(isnan(val(s, "g"))); /* NaN propagates, even through * 0 */
    ev_fails(s, "a + gpu.x", CS_NOT_FOUND,
             "expression: unknown statistic 'gpu.x' at column 5 in \"a + gpu.x\"");
    /* A problem inside a referenced formula is reported where it is. */
    ev_fails(s, "g", CS_NOT_FOUND, "formula f: unknown statistic 'nope' at column 5 in \"1 + nope\"");
    ev_fails(s, "nope / 0", CS_NOT_FOUND,
             "expression: unknown statistic 'nope' at column 1 in \"nope / 0\""); /* NaN/0 stays NaN */
    /* Only the first problem is reported. */
    ev_fails(s, "x + y", CS_NOT_FOUND, "expression: unknown statistic 'x' at column 1 in \"x + y\"");
    cs_stats_destroy(s);
}

/* Registration must fail with exactly this message and register nothing. */
static void formula_fails(const char *expr, const char *msg)
{
    cs_stats *s = cs_stats_create();
    cs_err err;
    cs_err_init(&err);
    cr_assert_eq(cs_stats_formula(s, "gpu.l2.hit_rate", "", "", expr, &err), CS_INVALID,
                 "\"%s\" parsed", expr);
    cr_assert_eq(err.status, CS_INVALID);
    cr_assert_eq(err.count, 1);
    cr_assert_str_eq(err.msg[0], msg);
    cr_assert_eq(cs_stats_count(s), 0);
    cr_assert_eq(cs_stats_find(s, "gpu.l2.hit_rate"), (size_t)-1);
    cs_stats_destroy(s);
}

Test(stats, formula_parse_errors_with_columns)
{
    formula_fails("(gpu.l2.rd_hit / gpu.l2.rd",
                  "formula gpu.l2.hit_rate: expected ')' at column 27 in \"(gpu.l2.rd_hit / gpu.l2.rd\"");
    formula_fails("", "formula gpu.l2.hit_rate: expected a number, name, '(' or '-' at column 1 in \"\"");
    formula_fails("a +", "formula gpu.l2.hit_rate: expected a number, name, '(' or '-' at column 4 in \"a +\"");
    formula_fails("a b", "formula gpu.l2.hit_rate: unexpected 'b' at column 3 in \"a b\"");
    formula_fails("a + * b", "formula gpu.l2.hit_rate: unexpected '*' at column 5 in \"a + * b\"");
    formula_fails("(a))", "formula gpu.l2.hit_rate: unexpected ')' at column 4 in \"(a))\"");
    formula_fails("()", "formula gpu.l2.hit_rate: unexpected ')' at column 2 in \"()\"");
    formula_fails("Gpu.x", "formula gpu.l2.hit_rate: unexpected 'G' at column 1 in \"Gpu.x\"");
    formula_fails("a\x01", "formula gpu.l2.hit_rate: unexpected byte 0x01 at column 2 in \"a\x01\"");
    formula_fails("2 * avg(x)", "formula gpu.l2.hit_rate: unknown function 'avg' at column 5 in \"2 * avg(x)\"");
    formula_fails("sum()", "formula gpu.l2.hit_rate: empty pattern in sum() at column 5 in \"sum()\"");
    formula_fails("max(  )", "formula gpu.l2.hit_rate: empty pattern in max() at column 7 in \"max(  )\"");
    formula_fails("sum(a+b)", "formula gpu.l2.hit_rate: invalid character '+' in pattern at column 6 in \"sum(a+b)\"");
    formula_fails("sum(gpu.*", "formula gpu.l2.hit_rate: expected ')' at column 10 in \"sum(gpu.*\"");
    formula_fails("sum(a b)", "formula gpu.l2.hit_rate: expected ')' at column 7 in \"sum(a b)\"");
    formula_fails("1 + 2x", "formula gpu.l2.hit_rate: malformed number at column 5 in \"1 + 2x\"");
    formula_fails("1e", "formula gpu.l2.hit_rate: malformed number at column 1 in \"1e\"");
    formula_fails("1.2.3", "formula gpu.l2.hit_rate: malformed number at column 1 in \"1.2.3\"");
    formula_fails(".", "formula gpu.l2.hit_rate: malformed number at column 1 in \".\"");
}

Test(stats, formula_parse_error_deep_nesting)
{
    char expr[402];
    memset(expr, '(', 300);
    expr[300] = '1';
    memset(expr + 301, ')', 100);
    expr[401] = '\0';
    cs_stats *s = cs_stats_create();
    cs_err err;
    cs_err_init(&err);
    cr_assert_eq(cs_stats_formula(s, "deep", "", "", expr, &err), CS_INVALID);
    cr_assert(strstr(err.msg[0], "formula deep: expression nested too deeply at column 201 in"),
              "%s", err.msg[0]);
    /* Within the bound it parses. */
    char ok[64];
    memset(ok, '-', 50);
    strcpy(ok + 50, "(((1)))");
    cr_assert_eq(ev(s, ok), 1.0);
    cs_stats_destroy(s);
}

Test(stats, eval_parse_error_message)
{
    cs_stats *s = cs_stats_create();
    ev_fails(s, "1 + (2", CS_INVALID, "expression: expected ')' at column 7 in \"1 + (2\"");
    cs_stats_destroy(s);
}

Test(stats, formula_cycles_are_nan)
{
    cs_stats *s = cs_stats_create();
    uint64_t x = 4;
    cs_stats_counter(s, "x", "", "", &x);
    cr_assert_eq(cs_stats_formula(s, "a", "", "", "b + 1", NULL), CS_OK);
    cr_assert_eq(cs_stats_formula(s, "b", "", "", "a * 2", NULL), CS_OK);
    cr_assert_eq(cs_stats_formula(s, "c", "", "", "c", NULL), CS_OK);
    cr_assert_eq(cs_stats_formula(s, "d", "", "", "x + a", NULL), CS_OK);
    cr_assert_eq(cs_stats_formula(s, "e", "", "", "x * 2", NULL), CS_OK);
    cr_assert(isnan(val(s, "a")));
    cr_assert(isnan(val(s, "b")));
    cr_assert(isnan(val(s, "c")));
    cr_assert(isnan(val(s, "d")));
    cr_assert_eq(val(s, "e"), 8.0); /* unaffected */
    ev_fails(s, "a", CS_INVALID, "formula b: formula cycle a -> b -> a at column 1 in \"a * 2\"");
    ev_fails(s, "c + 1", CS_INVALID, "formula c: formula cycle c -> c at column 1 in \"c\"");
    ev_fails(s, "d", CS_INVALID, "formula b: formula cycle a -> b -> a at column 1 in \"a * 2\"");
    /* The same formula twice in one expression is no cycle. */
    cr_assert_eq(ev(s, "e + e * e"), 72.0);
    cr_assert_eq(cs_stats_formula(s, "f", "", "", "e / e + e", NULL), CS_OK);
    cr_assert_eq(val(s, "f"), 9.0);
    cs_stats_destroy(s);
}

Test(stats, formula_depth_bound)
{
    /* f0 = 1, fk = f(k-1) + 1: 64 nested formulas evaluate, the 65th gives NaN. */
    cs_stats *s = cs_stats_create();
    char name[16], expr[32];
    for (int k = 0; k <= 64; k++) {
        snprintf(name, sizeof name, "f%d", k);
        if (k == 0)
            snprintf(expr, sizeof expr, "1");
        else
            snprintf(expr, sizeof expr, "f%d + 1", k - 1);
        cr_assert_eq(cs_stats_formula(s, name, "", "", expr, NULL), CS_OK);
    }
    cr_assert_eq(val(s, "f63"), 64.0);
    cr_assert(isnan(val(s, "f64")));
    cs_err err;
    cs_err_init(&err);
    double v;
    cr_assert_eq(cs_stats_eval(s, "f64", &v, &err), CS_INVALID);
    cr_assert_str_eq(err.msg[0], "formula f1: formulas nested deeper than 64 at column 1 in \"f0 + 1\"");
    cs_stats_destroy(s);
}

/* ---- snapshots ------------------------------------------------------------------------------ */

Test(stats, snapshot_delta_for_a_phase)
{
    cs_stats *s = cs_stats_create();
    uint64_t rd = 0, hit = 0;
    cs_gauge q = {0, 0};
    cs_hist lat;
    memset(&lat, 0, sizeof lat);
    cs_stats_counter(s, "rd", "", "", &rd);
    cs_stats_counter(s, "hit", "", "", &hit);
    cs_stats_gauge(s, "q", "", "", &q);
    cs_stats_hist(s, "lat", "", "", &lat);
    cr_assert_eq(cs_stats_formula(s, "rate", "", "", "hit / rd", NULL), CS_OK);
    cr_assert_eq(cs_stats_formula(s, "total", "", "", "sum(*)", NULL), CS_OK);

    /* phase 1 */
    rd = 10;
    hit = 5;
    cs_hist_add(&lat, 1);
    cs_hist_add(&lat, 2);
    cs_gauge_add(&q, 3);
    cs_gauge_add(&q, -1);
    cs_stats_snap *a = cs_stats_snapshot(s);
    /* phase 2 */
    rd += 10;
    hit += 9;
    cs_hist_add(&lat, 8);
    cs_hist_add(&lat, 100);
    cs_gauge_add(&q, 5);
    cs_gauge_add(&q, -7);
    cs_stats_snap *b = cs_stats_snapshot(s);
    rd = 1000; /* after the snapshots: must not show in them */

    size_t irate = idx(s, "rate");
    cr_assert_eq(cs_stats_snap_value(s, a, irate), 0.5);
    cr_assert_eq(cs_stats_snap_value(s, b, irate), 0.7);
    cr_assert_eq(cs_stats_snap_value(s, a, idx(s, "lat")), 2.0);
    cr_assert_eq(cs_stats_snap_value(s, b, idx(s, "q")), 0.0);
    cr_assert_eq(cs_stats_value(s, irate), 0.014);

    cs_stats_snap *d = cs_stats_snap_delta(s, b, a);
    cr_assert_eq(cs_stats_snap_value(s, d, idx(s, "rd")), 10.0);
    cr_assert_eq(cs_stats_snap_value(s, d, idx(s, "hit")), 9.0);
    cr_assert_eq(cs_stats_snap_value(s, d, irate), 0.9); /* per-phase derived figure */
    cr_assert_eq(cs_stats_snap_value(s, d, idx(s, "total")), 19.0); /* q is 0 in b */
    cr_assert_eq(cs_stats_snap_value(s, d, idx(s, "lat")), 2.0);
    cs_buf out;
    cs_buf_init(&out);
    cs_stats_dump_json(s, d, "[lq]*", &out); /* no '[' classes: matches nothing */
    cr_assert_str_eq(out.data, "{}");
    cs_buf_clear(&out);
    cs_stats_dump_json(s, d, "lat", &out);
    cr_assert_str_eq(out.data,
                     "{\"lat\":{\"count\":2,\"sum\":108,\"min\":8,\"max\":100,"
                     "\"buckets\":[0,0,0,0,1,0,0,1]}}");
    cs_buf_clear(&out);
    cs_stats_dump_json(s, d, "q", &out); /* gauges keep the later value */
    cr_assert_str_eq(out.data, "{\"q\":0}");
    cs_buf_clear(&out);
    cs_stats_dump_text(s, d, "q", &out);
    cr_assert_str_eq(out.data, "q  0  # [high=7]\n");
    cs_buf_free(&out);

    /* A delta of a snapshot with itself is all zeros (gauges aside). */
    cs_stats_snap *z = cs_stats_snap_delta(s, a, a);
    cr_assert_eq(cs_stats_snap_value(s, z, idx(s, "rd")), 0.0);
    cr_assert_eq(cs_stats_snap_value(s, z, irate), 0.0);
    cr_assert_eq(cs_stats_snap_value(s, z, idx(s, "q")), 2.0);
    cs_stats_snap_free(z);
    cs_stats_snap_free(d);
    cs_stats_snap_free(b);
    cs_stats_snap_free(a);
    cs_stats_snap_free(NULL);
    cs_stats_destroy(s);
}

Test(stats, snapshot_hist_delta_min_max)
{
    cs_stats *s = cs_stats_create();
    cs_hist h;
    memset(&h, 0, sizeof h);
    cs_stats_hist(s, "h", "", "", &h);
    cs_buf out;
    cs_buf_init(&out);

    cs_stats_snap *empty = cs_stats_snapshot(s);
    cs_hist_add(&h, 1);
    cs_hist_add(&h, 100);
    cs_stats_snap *e = cs_stats_snapshot(s);
    /* Earlier snapshot empty: the phase's extremes are the lifetime ones, exact. */
    cs_stats_snap *d = cs_stats_snap_delta(s, e, empty);
    cs_stats_dump_json(s, d, NULL, &out);
    cr_assert_str_eq(out.data, "{\"h\":{\"count\":2,\"sum\":101,\"min\":1,\"max\":100,"
                               "\"buckets\":[0,1,0,0,0,0,0,1]}}");
    cs_stats_snap_free(d);

    /* Samples inside the lifetime range: the extremes are bucket bounds, [4, 7] for {5, 6}. */
    cs_hist_add(&h, 5);
    cs_hist_add(&h, 6);
    cs_stats_snap *l = cs_stats_snapshot(s);
    d = cs_stats_snap_delta(s, l, e);
    cs_buf_clear(&out);
    cs_stats_dump_json(s, d, NULL, &out);
    cr_assert_str_eq(out.data, "{\"h\":{\"count\":2,\"sum\":11,\"min\":4,\"max\":7,"
                               "\"buckets\":[0,0,0,2]}}");
    cs_stats_snap_free(d);

    /* A phase that moved an extreme knows it exactly. */
    cs_hist_add(&h, 0);
    cs_hist_add(&h, 200);
    cs_stats_snap *m = cs_stats_snapshot(s);
    d = cs_stats_snap_delta(s, m, l);
    cs_buf_clear(&out);
    cs_stats_dump_json(s, d, NULL, &out);
    cr_assert_str_eq(out.data, "{\"h\":{\"count\":2,\"sum\":200,\"min\":0,\"max\":200,"
                               "\"buckets\":[1,0,0,0,0,0,0,0,1]}}");
    cs_stats_snap_free(d);

    /* An empty phase. */
    d = cs_stats_snap_delta(s, m, m);
    cs_buf_clear(&out);
    cs_stats_dump_json(s, d, NULL, &out);
    cr_assert_str_eq(out.data, "{\"h\":{\"count\":0,\"sum\":0,\"min\":0,\"max\":0,\"buckets\":[]}}");
    cs_stats_snap_free(d);

    cs_stats_snap_free(m);
    cs_stats_snap_free(l);
    cs_stats_snap_free(e);
    cs_stats_snap_free(empty);
    cs_buf_free(&out);
    cs_stats_destroy(s);
}

Test(stats, snapshot_before_later_registration)
{
    cs_stats *s = cs_stats_create();
    uint64_t a = 5, b = 7, c = 1;
    cs_hist h;
    memset(&h, 0, sizeof h);
    cs_hist_add(&h, 3);
    cs_gauge g = {2, 6};
    cs_stats_counter(s, "a", "", "", &a);
    cr_assert_eq(cs_stats_formula(s, "all", "", "", "sum(*)", NULL), CS_OK);
    cr_assert_eq(val(s, "all"), 5.0);
    cs_stats_snap *s1 = cs_stats_snapshot(s);

    cs_stats_counter(s, "b", "", "", &b);
    cs_stats_hist(s, "h", "", "", &h);
    cs_stats_gauge(s, "g", "", "", &g);
    cr_assert_eq(cs_stats_formula(s, "ab", "", "", "a + b + h + g", NULL), CS_OK);
    cs_stats_counter(s, "c", "", "", &c);
    cr_assert_eq(val(s, "all"), 15.0); /* the glob cache picks up b, g, c */

    /* Missing from s1: read as 0; formulas registered later still evaluate over s1. */
    cr_assert_eq(cs_stats_snap_value(s, s1, idx(s, "b")), 0.0);
    cr_assert_eq(cs_stats_snap_value(s, s1, idx(s, "h")), 0.0);
    cr_assert_eq(cs_stats_snap_value(s, s1, idx(s, "g")), 0.0);
    cr_assert_eq(cs_stats_snap_value(s, s1, idx(s, "ab")), 5.0);
    cr_assert_eq(cs_stats_snap_value(s, s1, idx(s, "all")), 5.0);

    a = 6;
    cs_stats_snap *s2 = cs_stats_snapshot(s);
    cs_stats_snap *d = cs_stats_snap_delta(s, s2, s1);
    cr_assert_eq(cs_stats_snap_value(s, d, idx(s, "a")), 1.0);
    cr_assert_eq(cs_stats_snap_value(s, d, idx(s, "b")), 7.0); /* registered in the phase */
    cr_assert_eq(cs_stats_snap_value(s, d, idx(s, "ab")), 11.0);
    cr_assert_eq(cs_stats_snap_value(s, d, idx(s, "all")), 11.0);

    cs_buf out;
    cs_buf_init(&out);
    cs_stats_dump_json(s, s1, NULL, &out);
    cr_assert_str_eq(out.data, "{\"a\":5,\"all\":5,\"b\":0,\"h\":{\"count\":0,\"sum\":0,\"min\":0,"
                               "\"max\":0,\"buckets\":[]},\"g\":0,\"ab\":5,\"c\":0}");
    cs_buf_free(&out);
    cs_stats_snap_free(d);
    cs_stats_snap_free(s2);
    cs_stats_snap_free(s1);
    cs_stats_destroy(s);
}

Test(stats, delta_in_wrong_order_aborts, .signal = SIGABRT)
{
    cs_stats *s = cs_stats_create();
    uint64_t a = 0, b = 0;
    cs_stats_counter(s, "a", "", "", &a);
    cs_stats_snap *early = cs_stats_snapshot(s);
    cs_stats_counter(s, "b", "", "", &b);
    cs_stats_snap *late = cs_stats_snapshot(s);
    cs_stats_snap_delta(s, early, late);
}

/* ---- dumps ---------------------------------------------------------------------------------- */

typedef struct small {
    cs_stats *s;
    uint64_t rd_hit, rd;
    cs_gauge mshr;
    cs_hist lat;
} small;

static void small_build(small *m)
{
    memset(m, 0, sizeof *m);
    m->s = cs_stats_create();
    m->rd_hit = 30;
    m->rd = 40;
    cs_gauge_add(&m->mshr, 5);
    cs_gauge_add(&m->mshr, -3);
    cs_hist_add(&m->lat, 1);
    cs_hist_add(&m->lat, 3);
    cs_hist_add(&m->lat, 8);
    cs_stats_counter(m->s, "gpu.l2.rd_hit", "accesses", "read hits", &m->rd_hit);
    cs_stats_counter(m->s, "gpu.l2.rd", "accesses", "reads", &m->rd);
    cs_stats_gauge(m->s, "gpu.l2.mshr", "entries", "MSHRs in use", &m->mshr);
    cs_stats_hist(m->s, "gpu.l2.lat", "cycles", "hit latency", &m->lat);
    cr_assert_eq(cs_stats_formula(m->s, "gpu.l2.hit_rate", "ratio", "",
                                  "gpu.l2.rd_hit / gpu.l2.rd", NULL), CS_OK);
}

Test(stats, dump_text_exact)
{
    small m;
    small_build(&m);
    cs_buf out;
    cs_buf_init(&out);
    cs_stats_dump_text(m.s, NULL, NULL, &out);
    cr_assert_str_eq(out.data,
                     "gpu.l2.rd_hit      30  accesses  # read hits\n"
                     "gpu.l2.rd          40  accesses  # reads\n"
                     "gpu.l2.mshr         2  entries   # MSHRs in use [high=5]\n"
                     "gpu.l2.lat          3  cycles    # hit latency [sum=12 min=1 max=8]\n"
                     "gpu.l2.hit_rate  0.75  ratio\n");
    /* The glob selects lines and the widths follow the selection; output appends. */
    cs_stats_dump_text(m.s, NULL, "gpu.l2.rd*", &out);
    cr_assert_str_eq(strstr(out.data, "ratio\n") + 6,
                     "gpu.l2.rd_hit  30  accesses  # read hits\n"
                     "gpu.l2.rd      40  accesses  # reads\n");
    cs_buf_free(&out);
    cs_stats_destroy(m.s);
}

Test(stats, dump_text_numbers)
{
    cs_stats *s = cs_stats_create();
    uint64_t big = UINT64_MAX;
    cs_stats_counter(s, "big", "", "", &big);                    /* exact, not via double */
    cr_assert_eq(cs_stats_formula(s, "third", "", "", "1 / 3", NULL), CS_OK);
    cr_assert_eq(cs_stats_formula(s, "whole", "", "", "6 / 3", NULL), CS_OK);
    cr_assert_eq(cs_stats_formula(s, "negz", "", "", "-0", NULL), CS_OK);
    cr_assert_eq(cs_stats_formula(s, "huge", "", "", "1e20 * 3", NULL), CS_OK);
    cr_assert_eq(cs_stats_formula(s, "cyc", "", "", "cyc", NULL), CS_OK);
    cr_assert_eq(cs_stats_formula(s, "neg", "", "", "-2.5", NULL), CS_OK);
    cs_buf out;
    cs_buf_init(&out);
    cs_stats_dump_text(s, NULL, NULL, &out);
    cr_assert_str_eq(out.data,
                     "big    18446744073709551615\n"
                     "third    0.3333333333333333\n"
                     "whole                     2\n"
                     "negz                      0\n"
                     "huge                  3e+20\n"
                     "cyc                     nan\n"
                     "neg                    -2.5\n");
    cs_buf_clear(&out);
    cs_stats_dump_json(s, NULL, NULL, &out);
    cr_assert_str_eq(out.data, "{\"big\":18446744073709551615,\"third\":0.3333333333333333,"
                               "\"whole\":2,\"negz\":0,\"huge\":3e+20,\"cyc\":null,\"neg\":-2.5}");
    cs_buf_free(&out);
    cs_stats_destroy(s);
}

Test(stats, dump_json_exact)
{
    small m;
    small_build(&m);
    cs_buf out;
    cs_buf_init(&out);
    cs_stats_dump_json(m.s, NULL, NULL, &out);
    cr_assert_str_eq(out.data,
                     "{\"gpu.l2.rd_hit\":30,\"gpu.l2.rd\":40,\"gpu.l2.mshr\":2,"
                     "\"gpu.l2.lat\":{\"count\":3,\"sum\":12,\"min\":1,\"max\":8,"
                     "\"buckets\":[0,1,1,0,1]},\"gpu.l2.hit_rate\":0.75}");
    cs_buf_clear(&out);
    cs_stats_dump_json(m.s, NULL, "*.rd*", &out);
    cr_assert_str_eq(out.data, "{\"gpu.l2.rd_hit\":30,\"gpu.l2.rd\":40}");
    cs_buf_clear(&out);
    cs_stats_dump_json(m.s, NULL, "none", &out);
    cr_assert_str_eq(out.data, "{}");
    cs_buf_clear(&out);
    cs_stats_dump_text(m.s, NULL, "none", &out);
    cr_assert_eq(out.len, 0);
    cs_buf_free(&out);
    cs_stats_destroy(m.s);
}

Test(stats, dump_is_deterministic)
{
    small m1, m2;
    small_build(&m1);
    small_build(&m2);
    cs_buf a, b;
    cs_buf_init(&a);
    cs_buf_init(&b);
    cs_stats_dump_json(m1.s, NULL, NULL, &a);
    cs_stats_dump_text(m1.s, NULL, NULL, &a);
    cs_stats_dump_json(m2.s, NULL, NULL, &b);
    cs_stats_dump_text(m2.s, NULL, NULL, &b);
    cr_assert_str_eq(a.data, b.data);
    cs_buf_free(&a);
    cs_buf_free(&b);
    cs_stats_destroy(m1.s);
    cs_stats_destroy(m2.s);
}

/* ---- scale ---------------------------------------------------------------------------------- */

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) * 1e-9;
}

Test(stats, registry_of_100k_is_fast)
{
    enum { SMS = 100, CTRS = 1000, N = SMS * CTRS };
    uint64_t *ctr = cs_calloc(N, sizeof *ctr);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);

    cs_stats *s = cs_stats_create();
    char name[64];
    for (int sm = 0; sm < SMS; sm++) {
        for (int k = 0; k < CTRS; k++) {
            ctr[sm * CTRS + k] = (uint64_t)k;
            snprintf(name, sizeof name, "gpu.sm%03d.ctr%03d", sm, k);
            cs_stats_counter(s, name, "events", "a counter", &ctr[sm * CTRS + k]);
        }
    }
    double t_reg = seconds_since(&t0);
    cr_assert_eq(cs_stats_count(s), N);
    for (int sm = 0; sm < SMS; sm += 7) {
        snprintf(name, sizeof name, "gpu.sm%03d.ctr%03d", sm, 999 - sm);
        cr_assert_eq(cs_stats_find(s, name), (size_t)(sm * CTRS + 999 - sm));
    }
    cr_assert_eq(cs_stats_sum(s, "gpu.sm*.ctr007"), 700.0);
    cr_assert_eq(cs_stats_sum(s, "*"), (double)SMS * (CTRS - 1) * CTRS / 2);
    cr_assert_eq(cs_stats_formula(s, "gpu.ctr001_total", "", "", "sum(gpu.sm*.ctr001)", NULL),
                 CS_OK);
    for (int rep = 0; rep < 100; rep++) /* the glob cache makes repeats cheap */
        cr_assert_eq(val(s, "gpu.ctr001_total"), 100.0);
    cs_stats_snap *a = cs_stats_snapshot(s);
    ctr[5] += 10;
    cs_stats_snap *b = cs_stats_snapshot(s);
    cs_stats_snap *d = cs_stats_snap_delta(s, b, a);
    cr_assert_eq(cs_stats_snap_value(s, d, 5), 10.0);
    cs_buf out;
    cs_buf_init(&out);
    cs_stats_dump_json(s, d, NULL, &out);
    cs_buf_free(&out);
    double t_all = seconds_since(&t0);
    fprintf(stderr, "test_stats: 100k registry: registration %.1f ms, all %.1f ms\n", t_reg * 1e3,
            t_all * 1e3);
    cr_expect_lt(t_all, 2.0, "100k registry took %.3f s", t_all);

    cs_stats_snap_free(d);
    cs_stats_snap_free(b);
    cs_stats_snap_free(a);
    cs_stats_destroy(s);
    cs_free(ctr);
}

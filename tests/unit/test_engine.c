/* test_engine — event order, determinism, embedded events, clocks, the watchdog. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "engine.h"
#include "hash.h"

typedef struct rec {
    cs_ps t;
    uint64_t id;
} rec;

typedef struct log {
    rec *r;
    size_t n, cap;
    cs_engine *eng;
} log_t;

static void record(void *ctx, void *ptr, uint64_t id)
{
    (void)ptr;
    log_t *l = ctx;
    CS_GROW(l->r, l->cap, l->n + 1);
    l->r[l->n++] = (rec){cs_engine_now(l->eng), id};
}

Test(engine, same_time_events_run_in_priority_then_insertion_order)
{
    cs_engine *e = cs_engine_create();
    log_t l = {.eng = e};
    cs_engine_post(e, 100, CS_PRIO_LATE, record, &l, NULL, 1);
    cs_engine_post(e, 100, CS_PRIO_DEFAULT, record, &l, NULL, 2);
    cs_engine_post(e, 100, CS_PRIO_DEFAULT, record, &l, NULL, 3);
    cs_engine_post(e, 100, CS_PRIO_EARLY, record, &l, NULL, 4);
    cs_engine_post(e, 50, CS_PRIO_LAST, record, &l, NULL, 5);
    cr_assert_eq(cs_engine_run(e, CS_PS_NEVER, NULL), CS_OK);
    uint64_t want[] = {5, 4, 2, 3, 1};
    cr_assert_eq(l.n, 5);
    for (int i = 0; i < 5; i++)
        cr_expect_eq(l.r[i].id, want[i], "position %d: got %lu", i, (unsigned long)l.r[i].id);
    cr_expect_eq(l.r[0].t, 50);
    cr_expect_eq(l.r[4].t, 100);
    cs_free(l.r);
    cs_engine_destroy(e);
}

/* Posts a chain: each event posts the next at a pseudo-random delay, some far in the future
 * (beyond the wheel), some at the same instant, some in the same bucket. */
typedef struct chain {
    cs_engine *eng;
    cs_rng rng;
    log_t *log;
    int left;
} chain;

static void step(void *ctx, void *ptr, uint64_t id)
{
    chain *c = ctx;
    record(c->log, ptr, id);
    if (c->left <= 0)
        return;
    c->left--;
    uint64_t kind = cs_rng_below(&c->rng, 10), d;
    if (kind < 3)
        d = 0;
    else if (kind < 6)
        d = cs_rng_below(&c->rng, 200);
    else if (kind < 9)
        d = cs_rng_below(&c->rng, 5000000);
    else
        d = cs_rng_below(&c->rng, 50000000000ull); /* far beyond the wheel */
    int prio = (int)cs_rng_below(&c->rng, 3) * 64 + 64;
    cs_engine_post(c->eng, cs_engine_now(c->eng) + d, prio, step, c, NULL, id * 1000003u + (uint64_t)c->left);
}

static int cmp_rec(const void *a, const void *b)
{
    const rec *x = a, *y = b;
    return x->t < y->t ? -1 : x->t > y->t;
}

Test(engine, random_schedules_pop_in_time_order_and_lose_nothing)
{
    cs_engine *e = cs_engine_create();
    cs_engine_set_watchdog(e, 0, 0); /* the chains make no "progress" */
    log_t l = {.eng = e};
    chain c[64];
    for (int i = 0; i < 64; i++) {
        c[i] = (chain){.eng = e, .log = &l, .left = 3000};
        cs_rng_seed(&c[i].rng, (uint64_t)i + 1);
        cs_engine_post(e, (cs_ps)i * 37, CS_PRIO_DEFAULT, step, &c[i], NULL, (uint64_t)i);
    }
    cr_assert_eq(cs_engine_run(e, CS_PS_NEVER, NULL), CS_OK);
    cr_assert_eq(l.n, 64 * 3001, "every event fired exactly once (got %zu)", l.n);
    for (size_t i = 1; i < l.n; i++)
        cr_assert(l.r[i - 1].t <= l.r[i].t, "time went backwards at %zu", i);
    /* the fired times are exactly the scheduled ones, sorted */
    rec *copy = cs_malloc(l.n * sizeof *copy);
    memcpy(copy, l.r, l.n * sizeof *copy);
    qsort(copy, l.n, sizeof *copy, cmp_rec);
    cr_assert_eq(memcmp(copy, l.r, l.n * sizeof *copy), 0);
    cs_free(copy);
    cs_free(l.r);
    cs_engine_destroy(e);
}

static uint64_t run_checksum(void)
{
    cs_engine *e = cs_engine_create();
    cs_engine_set_watchdog(e, 0, 0);
    log_t l = {.eng = e};
    chain c[8];
    for (int i = 0; i < 8; i++) {
        c[i] = (chain){.eng = e, .log = &l, .left = 2000};
        cs_rng_seed(&c[i].rng, 42 + (uint64_t)i);
        cs_engine_post(e, 0, CS_PRIO_DEFAULT, step, &c[i], NULL, (uint64_t)i);
    }
    cs_engine_run(e, CS_PS_NEVER, NULL);
    uint64_t h = cs_fnv1a(l.r, l.n * sizeof *l.r, CS_FNV_SEED);
    cs_free(l.r);
    cs_engine_destroy(e);
    return h;
}

Test(engine, deterministic_across_runs_and_engines)
{
    uint64_t a = run_checksum(), b = run_checksum();
    cr_expect_eq(a, b);
}

typedef struct emb {
    cs_event ev;
    int fired;
    cs_ps at;
} emb;

static void emb_fire(void *ctx, void *ptr, uint64_t arg)
{
    (void)ptr;
    (void)arg;
    emb *x = ctx;
    x->fired++;
}

Test(engine, embedded_events_move_and_cancel)
{
    cs_engine *e = cs_engine_create();
    emb a = {0}, b = {0};
    cs_event_init(&a.ev, emb_fire, &a);
    cs_event_init(&b.ev, emb_fire, &b);
    cs_engine_arm(e, &a.ev, 1000, CS_PRIO_DEFAULT, NULL, 0);
    cs_engine_arm(e, &a.ev, 500, CS_PRIO_DEFAULT, NULL, 0); /* moved earlier: fires once */
    cs_engine_arm(e, &b.ev, 700, CS_PRIO_DEFAULT, NULL, 0);
    cs_engine_cancel(e, &b.ev);
    cr_expect(!cs_event_pending(&b.ev));
    cr_assert_eq(cs_engine_run(e, 600, NULL), CS_OK);
    cr_expect_eq(a.fired, 1);
    cr_expect_eq(cs_engine_now(e), 500);
    cr_assert_eq(cs_engine_run(e, CS_PS_NEVER, NULL), CS_OK);
    cr_expect_eq(a.fired, 1, "the moved-away entry must not fire");
    cr_expect_eq(b.fired, 0, "a cancelled event must not fire");
    cs_engine_destroy(e);
}

Test(engine, run_until_stops_before_later_events)
{
    cs_engine *e = cs_engine_create();
    log_t l = {.eng = e};
    cs_engine_post(e, 10, CS_PRIO_DEFAULT, record, &l, NULL, 1);
    cs_engine_post(e, 1000000000000ull, CS_PRIO_DEFAULT, record, &l, NULL, 2);
    cr_assert_eq(cs_engine_run(e, 20, NULL), CS_OK);
    cr_expect_eq(l.n, 1);
    cr_expect_eq(cs_engine_next_time(e), 1000000000000ull);
    cr_assert_eq(cs_engine_run(e, CS_PS_NEVER, NULL), CS_OK);
    cr_expect_eq(l.n, 2);
    cr_expect_eq(cs_engine_now(e), 1000000000000ull);
    cs_free(l.r);
    cs_engine_destroy(e);
}

Test(engine, clock_edges_are_exact_without_drift)
{
    cs_clock c = {1410000}; /* 1410 MHz: period 709.2198... ps */
    cr_expect_eq(cs_clock_ps(&c, 0), 0);
    cr_expect_eq(cs_clock_ps(&c, 1), 709);
    cr_expect_eq(cs_clock_ps(&c, 3), 2127);          /* floor(3e6 / 1410) */
    cr_expect_eq(cs_clock_ps(&c, 1410000000), 1000000000000ull); /* one second, exactly */
    cr_expect_eq(cs_clock_cycle_at(&c, 0), 0);
    cr_expect_eq(cs_clock_cycle_at(&c, 709), 1);
    cr_expect_eq(cs_clock_cycle_at(&c, 710), 2);
    cr_expect_eq(cs_clock_cycles_floor(&c, 1000000000000ull), 1410000000);
    /* huge times take the overflow-safe path and agree with the fast one */
    uint64_t big = 30000000000000000ull; /* 30000 s */
    cr_expect_eq(cs_clock_cycle_at(&c, cs_clock_ps(&c, big / 1000)), big / 1000);
    for (uint64_t n = 0; n < 100000; n += 7) {
        cs_ps t = cs_clock_ps(&c, n);
        cr_assert_eq(cs_clock_cycle_at(&c, t), n);
        cr_assert_eq(cs_clock_cycle_at(&c, t + 1), n + 1);
    }
    cs_clock_cursor k = {0};
    cs_ps edge;
    for (cs_ps t = 0; t < 200000; t += 97) {
        uint64_t n = cs_clock_cursor_at(&c, &k, t, &edge);
        cr_assert_eq(n, cs_clock_cycle_at(&c, t));
        cr_assert_eq(edge, cs_clock_ps(&c, n));
    }
}

static void tick_forever(void *ctx, void *ptr, uint64_t arg)
{
    (void)ptr;
    cs_engine *e = ctx;
    cs_engine_post(e, cs_engine_now(e) + 1000, CS_PRIO_DEFAULT, tick_forever, e, NULL, arg);
}

static void dump_unit(const void *ctx, cs_buf *out)
{
    (void)ctx;
    cs_buf_puts(out, "spinning without progress");
}

Test(engine, watchdog_stops_a_run_without_progress_and_dumps_state)
{
    cs_engine *e = cs_engine_create();
    cs_engine_set_watchdog(e, 1000000, 0); /* 1 us */
    int unit;
    cs_engine_add_unit(e, "spinner", &unit, dump_unit);
    cs_engine_post(e, 0, CS_PRIO_DEFAULT, tick_forever, e, NULL, 7);
    cs_err err;
    cs_err_init(&err);
    cr_assert_eq(cs_engine_run(e, CS_PS_NEVER, &err), CS_DEADLOCK);
    cr_expect(strstr(err.msg[0], "no progress") != NULL, "%s", err.msg[0]);
    cr_assert(err.detail != NULL);
    cr_expect(strstr(err.detail, "unit spinner: spinning without progress") != NULL, "%s", err.detail);
    cr_expect(strstr(err.detail, "event t=") != NULL);
    cs_err_free(&err);
    cs_engine_destroy(e);
}

static void progress_tick(void *ctx, void *ptr, uint64_t left)
{
    (void)ptr;
    cs_engine *e = ctx;
    cs_engine_progress(e);
    if (left)
        cs_engine_post(e, cs_engine_now(e) + 1000, CS_PRIO_DEFAULT, progress_tick, e, NULL, left - 1);
}

Test(engine, watchdog_quiet_while_progress_is_made)
{
    cs_engine *e = cs_engine_create();
    cs_engine_set_watchdog(e, 1000000, 0);
    cs_engine_post(e, 0, CS_PRIO_DEFAULT, progress_tick, e, NULL, 100000);
    cr_assert_eq(cs_engine_run(e, CS_PS_NEVER, NULL), CS_OK);
    cr_expect_eq(cs_engine_progress_count(e), 100001);
    cs_engine_destroy(e);
}

Test(engine, many_engines_are_independent)
{
    cs_engine *a = cs_engine_create(), *b = cs_engine_create();
    log_t la = {.eng = a}, lb = {.eng = b};
    cs_engine_post(a, 5, CS_PRIO_DEFAULT, record, &la, NULL, 1);
    cs_engine_post(b, 9, CS_PRIO_DEFAULT, record, &lb, NULL, 2);
    cs_engine_run(a, CS_PS_NEVER, NULL);
    cr_expect_eq(cs_engine_now(a), 5);
    cr_expect_eq(cs_engine_now(b), 0);
    cr_expect_eq(la.n, 1);
    cr_expect_eq(lb.n, 0);
    cs_free(la.r);
    cs_free(lb.r);
    cs_engine_destroy(a);
    cs_engine_destroy(b);
}

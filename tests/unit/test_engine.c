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

/* The specified order, checked exactly against a reference queue: every post and arm is also
 * pushed onto a plain binary heap ordered by (time, priority, the order it was posted in);
 * each event the engine fires must be the heap's minimum at that moment (re-armed and
 * cancelled arms are dropped from the heap as they surface). Delays mix the same instant, the
 * same wheel bucket (a few ps apart), the near future and beyond the wheel. */
typedef struct ord_rec {
    cs_ps t;
    int prio;
    uint64_t posted; /* posts and arms before this one */
    int emb;         /* embedded event index, -1 for a posted event */
} ord_rec;

typedef struct ord {
    cs_engine *eng;
    cs_rng rng;
    ord_rec *heap; /* the reference queue */
    size_t n, cap;
    uint64_t posted, fired;
    int left;
    cs_event emb[4];
    uint64_t emb_live[4]; /* `posted` of each embedded event's live arming, UINT64_MAX: none */
} ord;

static bool ord_before(const ord_rec *a, const ord_rec *b)
{
    return a->t < b->t || (a->t == b->t && (a->prio < b->prio ||
                                            (a->prio == b->prio && a->posted < b->posted)));
}

static void ord_push(ord *o, ord_rec x)
{
    CS_GROW(o->heap, o->cap, o->n + 1);
    size_t i = o->n++;
    while (i > 0 && ord_before(&x, &o->heap[(i - 1) / 2])) {
        o->heap[i] = o->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    o->heap[i] = x;
}

static ord_rec ord_pop(ord *o)
{
    ord_rec top = o->heap[0], x = o->heap[--o->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= o->n)
            break;
        if (c + 1 < o->n && ord_before(&o->heap[c + 1], &o->heap[c]))
            c++;
        if (!ord_before(&o->heap[c], &x))
            break;
        o->heap[i] = o->heap[c];
        i = c;
    }
    if (o->n)
        o->heap[i] = x;
    return top;
}

static void ord_fire(void *ctx, void *ptr, uint64_t arg);

static void ord_post(ord *o)
{
    uint64_t kind = cs_rng_below(&o->rng, 12), d;
    cs_ps now = cs_engine_now(o->eng);
    if (kind < 3)
        d = 0;
    else if (kind < 6)
        d = cs_rng_below(&o->rng, 300); /* same or next bucket */
    else if (kind < 10)
        d = cs_rng_below(&o->rng, 3000000);
    else
        d = 3000000000ull + cs_rng_below(&o->rng, 3000000000ull); /* beyond the wheel */
    int prio = (int)cs_rng_below(&o->rng, 5) * 64 - 1; /* -1 and 255 clamp to 0 and 255 */
    int eff = prio < 0 ? 0 : prio > 255 ? 255 : prio;
    uint64_t k = cs_rng_below(&o->rng, 12);
    if (k < 4) { /* (re-)arm an embedded event: its earlier arming is void */
        o->emb_live[k] = o->posted;
        ord_push(o, (ord_rec){now + d, eff, o->posted++, (int)k});
        cs_engine_arm(o->eng, &o->emb[k], now + d, prio, NULL, k);
        if (cs_rng_below(&o->rng, 8) == 0) {
            cs_engine_cancel(o->eng, &o->emb[k]);
            o->emb_live[k] = UINT64_MAX;
        }
        return;
    }
    ord_push(o, (ord_rec){now + d, eff, o->posted, -1});
    cs_engine_post(o->eng, now + d, prio, ord_fire, o, NULL, o->posted++);
}

/* arg: `posted` of a posted event, or the index of an embedded one (see ord_emb_fire). */
static void ord_check(ord *o, int emb, uint64_t posted)
{
    ord_rec want;
    do /* drop arms that were superseded or cancelled */
        want = ord_pop(o);
    while (want.emb >= 0 && o->emb_live[want.emb] != want.posted);
    cr_assert(want.emb == emb && want.posted == posted,
              "event %llu: fired #%llu (embedded %d) at t %llu, the reference has #%llu "
              "(embedded %d, t %llu prio %d)", (unsigned long long)o->fired,
              (unsigned long long)posted, emb, (unsigned long long)cs_engine_now(o->eng),
              (unsigned long long)want.posted, want.emb, (unsigned long long)want.t, want.prio);
    cr_assert_eq(want.t, cs_engine_now(o->eng));
    if (emb >= 0)
        o->emb_live[emb] = UINT64_MAX;
    o->fired++;
    for (int i = 0; i < 3 && o->left > 0; i++, o->left--)
        ord_post(o);
}

static void ord_fire(void *ctx, void *ptr, uint64_t arg)
{
    (void)ptr;
    ord_check(ctx, -1, arg);
}

static void ord_emb_fire(void *ctx, void *ptr, uint64_t arg)
{
    (void)ptr;
    ord *o = ctx;
    cr_assert_neq(o->emb_live[arg], UINT64_MAX, "a cancelled embedded event fired");
    ord_check(o, (int)arg, o->emb_live[arg]);
}

Test(engine, events_fire_in_exact_time_priority_sequence_order)
{
    ord o = {.left = 60000};
    o.eng = cs_engine_create();
    cs_engine_set_watchdog(o.eng, 0, 0);
    cs_rng_seed(&o.rng, 11);
    for (int k = 0; k < 4; k++) {
        cs_event_init(&o.emb[k], ord_emb_fire, &o);
        o.emb_live[k] = UINT64_MAX;
    }
    for (int i = 0; i < 16; i++)
        ord_post(&o);
    cr_assert_eq(cs_engine_run(o.eng, CS_PS_NEVER, NULL), CS_OK);
    cr_assert_gt(o.fired, 40000, "only %llu events fired", (unsigned long long)o.fired);
    while (o.n) { /* what is left in the reference must all be void */
        ord_rec x = ord_pop(&o);
        cr_assert(x.emb >= 0 && o.emb_live[x.emb] != x.posted, "#%llu never fired",
                  (unsigned long long)x.posted);
    }
    cs_free(o.heap);
    cs_engine_destroy(o.eng);
}

/* One bucket holding more instants and priorities than the class sort handles (its fallback),
 * posted in reverse, must still run in order. */
Test(engine, a_bucket_of_many_instants_and_priorities_runs_in_order)
{
    cs_engine *e = cs_engine_create();
    log_t l = {.eng = e};
    for (int i = 11; i >= 0; i--) /* 12 instants within 128 ps, two priorities each */
        for (int p = 1; p >= 0; p--)
            cs_engine_post(e, 5000 + (cs_ps)i * 10, p ? CS_PRIO_LATE : CS_PRIO_EARLY, record, &l,
                           NULL, (uint64_t)(i * 2 + p));
    cr_assert_eq(cs_engine_run(e, CS_PS_NEVER, NULL), CS_OK);
    cr_assert_eq(l.n, 24);
    for (size_t i = 0; i < l.n; i++)
        cr_expect_eq(l.r[i].id, i, "position %zu: got %lu", i, (unsigned long)l.r[i].id);
    cs_free(l.r);
    cs_engine_destroy(e);
}

/* A dump taken inside a handler lists what is left of the bucket being drained, what was
 * posted for the same instant meanwhile, the wheel and the far future, earliest first. */
static void never(void *ctx, void *ptr, uint64_t arg)
{
    (void)ctx;
    (void)ptr;
    cr_assert_fail("event %lu must not run", (unsigned long)arg);
}

typedef struct dumper {
    cs_engine *eng;
    cs_buf out;
    cs_event ev;
} dumper;

static void dump_now(void *ctx, void *ptr, uint64_t arg)
{
    (void)ptr;
    (void)arg;
    dumper *d = ctx;
    cs_engine_post(d->eng, cs_engine_now(d->eng), CS_PRIO_DEFAULT, never, NULL, NULL, 22);
    cs_engine_dump(d->eng, &d->out, 10);
    cs_engine_stop(d->eng);
}

Test(engine, dump_lists_every_pending_event_in_order)
{
    cs_engine *e = cs_engine_create();
    dumper d = {.eng = e};
    cs_buf_init(&d.out);
    cs_event_init(&d.ev, never, NULL);
    cs_engine_post(e, 100, CS_PRIO_EARLY, dump_now, &d, NULL, 0);
    cs_engine_post(e, 100, CS_PRIO_LATE, never, NULL, NULL, 11);
    cs_engine_post(e, 5000, CS_PRIO_DEFAULT, never, NULL, NULL, 33);
    cs_engine_post(e, 50000000000ull, CS_PRIO_DEFAULT, never, NULL, NULL, 44);
    cs_engine_arm(e, &d.ev, 6000, CS_PRIO_DEFAULT, NULL, 55);
    cs_engine_arm(e, &d.ev, 7000, CS_PRIO_DEFAULT, NULL, 66); /* the 6000 entry is stale */
    cr_assert_eq(cs_engine_run(e, 100, NULL), CS_OK);
    const char *txt = d.out.data;
    cr_assert_not_null(txt);
    cr_expect(strstr(txt, "5 pending") != NULL, "%s", txt);
    const char *p22 = strstr(txt, "arg=22"), *p11 = strstr(txt, "arg=11"),
               *p33 = strstr(txt, "arg=33"), *p66 = strstr(txt, "arg=66"),
               *p44 = strstr(txt, "arg=44");
    cr_assert(p22 && p11 && p33 && p66 && p44, "%s", txt);
    cr_expect(p22 < p11 && p11 < p33 && p33 < p66 && p66 < p44, "%s", txt);
    cr_expect(strstr(txt, "arg=55") == NULL, "%s", txt);
    cs_buf_free(&d.out);
    cs_engine_destroy(e);
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

Test(engine, next_time_skips_cancelled_and_moved_events)
{
    cs_engine *e = cs_engine_create();
    log_t l = {.eng = e};
    emb a = {0};
    cs_event_init(&a.ev, emb_fire, &a);
    cs_engine_arm(e, &a.ev, 10, CS_PRIO_DEFAULT, NULL, 0);
    cs_engine_arm(e, &a.ev, 30, CS_PRIO_DEFAULT, NULL, 0); /* the entry at 10 is stale */
    cs_engine_post(e, 20, CS_PRIO_DEFAULT, record, &l, NULL, 1);
    cr_expect_eq(cs_engine_pending(e), 3);
    cr_expect_eq(cs_engine_next_time(e), 20);
    cr_expect_eq(cs_engine_pending(e), 2, "the stale entry is dropped on the way");
    cr_assert_eq(cs_engine_run(e, 25, NULL), CS_OK);
    cr_expect_eq(l.n, 1);
    cr_expect_eq(cs_engine_next_time(e), 30);
    cs_engine_cancel(e, &a.ev);
    cr_expect_eq(cs_engine_next_time(e), CS_PS_NEVER);
    cr_expect_eq(cs_engine_pending(e), 0);
    cr_expect_eq(cs_engine_events_run(e), 1);
    cr_expect_geq(cs_engine_max_pending(e), 3);
    cr_expect_eq(a.fired, 0);
    cs_free(l.r);
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

/* The clock conversions as first written (one division where the product fits), for reference. */
static uint64_t ref_cycle_at(uint64_t f, cs_ps t)
{
    if (t < UINT64_MAX / f) {
        uint64_t num = t * f;
        return num / 1000000000ULL + (num % 1000000000ULL != 0);
    }
    uint64_t q = t / 1000000000ULL, r = t % 1000000000ULL;
    uint64_t num = r * f;
    return q * f + num / 1000000000ULL + (num % 1000000000ULL != 0);
}

Test(engine, clock_cursor_agrees_with_the_plain_conversions)
{
    static const uint64_t freqs[] = {1410000, 1215000, 1000000, 999983, 7, 3, 10000000};
    cs_rng rng;
    cs_rng_seed(&rng, 5);
    for (size_t fi = 0; fi < sizeof freqs / sizeof freqs[0]; fi++) {
        cs_clock c = {freqs[fi]};
        cs_clock_cursor k = {0};
        cs_ps t = 0, period = 1000000000ULL / freqs[fi] + 1, edge;
        for (int i = 0; i < 200000; i++) {
            uint64_t kind = cs_rng_below(&rng, 10);
            if (kind < 5)
                t += cs_rng_below(&rng, period + 2); /* within a cycle or so */
            else if (kind < 7)
                t += cs_rng_below(&rng, 6 * period); /* a few cycles */
            else if (kind < 9)
                t += cs_rng_below(&rng, 1000 * period);
            else
                t -= cs_rng_below(&rng, t < 3 * period ? t + 1 : 3 * period); /* back */
            uint64_t n = cs_clock_cursor_at(&c, &k, t, &edge);
            cr_assert_eq(n, ref_cycle_at(c.freq_khz, t), "f %llu t %llu",
                         (unsigned long long)c.freq_khz, (unsigned long long)t);
            cr_assert_eq(n, cs_clock_cycle_at(&c, t));
            cr_assert_eq(edge, cs_clock_ps(&c, n));
            cr_assert_eq(k.next, cs_clock_ps(&c, n + 1));
            uint64_t m = 1 + cs_rng_below(&rng, 12);
            cr_assert_eq(cs_clock_cursor_after(&c, &k, m), cs_clock_ps(&c, n + m));
        }
    }
    /* times far out take the exact paths and still agree */
    cs_clock c = {1410000};
    cs_clock_cursor k = {0};
    cs_ps edge;
    for (cs_ps t = 30000000000000000ull; t < 30000000000000000ull + 100000; t += 313) {
        uint64_t n = cs_clock_cursor_at(&c, &k, t, &edge);
        cr_assert_eq(n, ref_cycle_at(c.freq_khz, t));
        cr_assert_eq(edge, cs_clock_ps(&c, n));
    }
    for (int i = 0; i < 100000; i++) {
        cs_ps t = cs_rng_next(&rng) >> (cs_rng_below(&rng, 40));
        for (size_t fi = 0; fi < sizeof freqs / sizeof freqs[0]; fi++) {
            cs_clock f = {freqs[fi]};
            cr_assert_eq(cs_clock_cycle_at(&f, t), ref_cycle_at(f.freq_khz, t));
        }
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

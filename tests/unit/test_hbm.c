/* test_hbm — one DRAM channel between mock ports: hand-computed row hit / miss / conflict
 * latencies, FR-FCFS reordering and its row-hit cap, bank groups, read/write turnaround,
 * refresh, sustained bandwidth, posted and acknowledged writes, back-pressure, the ideal
 * variant, the schema, statistics, and the channel's host speed.
 *
 * The driver is a mock component with one output port (requests) and one input port
 * (responses), joined to channel port 0 by links of 1 ns latency. It sends a list of timed
 * requests in order (holding a refused one until the link's credit returns), records when each
 * response arrives, and can hold responses unreleased to back-pressure the channel. */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "cfg.h"
#include "engine.h"
#include "hbm.h"
#include "port.h"
#include "req.h"
#include "stats.h"

static long live_at_start;
static void leak_setup(void) { live_at_start = cs_alloc_live_blocks(); }
static void leak_teardown(void)
{
    cr_expect_eq(cs_alloc_live_blocks(), live_at_start, "leaked %ld blocks",
                 cs_alloc_live_blocks() - live_at_start);
}
TestSuite(hbm, .init = leak_setup, .fini = leak_teardown);

enum { LINK_PS = 1000 };

/* The A100-SXM4-40GB values the schema's defaults must bind to (see hbm.c for sources). */
static cs_hbm_params a100(void)
{
    cs_hbm_params p = {
        .channels = 80, .clock_khz = 1215000, .bus_bits = 64, .burst_length = 4,
        .bank_groups = 4, .banks_per_group = 4, .row_bytes = 1024, .queue_entries = 64,
        .scheduler = CS_HBM_FRFCFS, .page_policy = CS_HBM_OPEN_PAGE, .row_hit_cap = 16,
        .refresh = true, .ideal = false, .ideal_latency_ps = 38000,
        .timing = {.tRCD = 22, .tRP = 22, .tRAS = 50, .tRC = 72, .tCL = 22, .tWL = 4,
                   .tCCDS = 2, .tCCDL = 4, .tRRDS = 5, .tRRDL = 7, .tFAW = 37, .tWR = 19,
                   .tWTRS = 5, .tWTRL = 10, .tRTW = 22, .tRTP = 7, .tREFI = 4738,
                   .tRFC = 426}};
    return p;
}

static cs_addrmap map_of(const cs_hbm_params *p)
{
    return (cs_addrmap){.slices = (uint32_t)p->channels, .channels = (uint32_t)p->channels,
                        .bank_groups = (uint32_t)p->bank_groups,
                        .banks_per_group = (uint32_t)p->banks_per_group,
                        .lines_per_row = (uint32_t)(p->row_bytes / CS_LINE_BYTES), .lines_per_chunk = 1};
}

/* ---- the mock driver --------------------------------------------------------------------- */

typedef struct item {
    cs_ps t;       /* send at (or as soon after as the link allows) */
    uint64_t addr;
    uint8_t kind, sectors;
    bool no_ack;
} item;

typedef struct drv {
    cs_engine *eng;
    cs_req_pool *pool;
    cs_port out, in;
    cs_event ev;
    item *items;
    uint32_t n, next;
    cs_req *pending;      /* refused by the link, retried on credit */
    cs_ps *arrive_ps;     /* per tag: when its response arrived */
    uint32_t *got;        /* per tag: responses received */
    uint32_t *order;      /* tags in arrival order */
    cs_ps *arrivals;      /* arrival times in arrival order */
    uint32_t received;
    bool hold;            /* keep responses unreleased (back-pressure) */
    uint32_t held;
    cs_ps first_sent_ps;
} drv;

static void drv_pump(drv *d)
{
    cs_ps now = cs_engine_now(d->eng);
    while (d->next < d->n) {
        const item *it = &d->items[d->next];
        if (it->t > now) {
            if (!cs_event_pending(&d->ev))
                cs_engine_arm(d->eng, &d->ev, it->t, CS_PRIO_DEFAULT, NULL, 0);
            return;
        }
        if (!d->pending) {
            cs_req *r = cs_req_alloc(d->pool);
            r->addr = it->addr;
            r->kind = it->kind;
            r->sectors = it->sectors;
            r->no_ack = it->no_ack;
            r->tag = d->next;
            r->t_issue = now;
            d->pending = r;
        }
        if (!cs_port_try_send(&d->out, d->pending, 0, cs_req_wire_bytes(d->pending)))
            return; /* credit callback */
        if (d->next == 0)
            d->first_sent_ps = now;
        d->pending = NULL;
        d->next++;
    }
}

static void drv_ev(void *ctx, void *ptr, uint64_t arg)
{
    (void)ptr;
    (void)arg;
    drv_pump(ctx);
}

static void drv_credit(void *owner, cs_port *out)
{
    (void)out;
    drv_pump(owner);
}

static void drv_recv(void *owner, cs_port *in, void *ptr, uint64_t arg)
{
    (void)arg;
    drv *d = owner;
    cs_req *r = ptr;
    cr_assert(r->is_resp, "a response must come back with is_resp set");
    cr_assert_lt(r->tag, d->n);
    d->got[r->tag]++;
    d->arrive_ps[r->tag] = cs_engine_now(d->eng);
    d->order[d->received] = r->tag;
    d->arrivals[d->received] = cs_engine_now(d->eng);
    d->received++;
    cs_req_free(d->pool, r);
    if (d->hold)
        d->held++;
    else
        cs_port_release(in);
}

/* Stops holding responses: returns every held credit. */
static void drv_unhold(drv *d)
{
    d->hold = false;
    for (; d->held; d->held--)
        cs_port_release(&d->in);
}

/* ---- fixture ----------------------------------------------------------------------------- */

typedef struct fx {
    cs_engine *eng;
    cs_stats *stats;
    cs_req_pool *pool;
    cs_hbm_params p;
    cs_addrmap map;
    cs_hbm *h;
    drv d;
    cs_link *lin, *lout;
} fx;

/* in_cap: request link capacity (0 = the queue size); out_cap: response link (0 = unlimited). */
static void fx_init(fx *f, const cs_hbm_params *p, uint32_t index, item *items, uint32_t n,
                    uint32_t in_cap, uint32_t out_cap)
{
    memset(f, 0, sizeof *f);
    f->eng = cs_engine_create();
    f->stats = cs_stats_create();
    f->pool = cs_req_pool_create();
    f->p = *p;
    f->map = map_of(p);
    cs_err err;
    cs_err_init(&err);
    cs_status st = cs_hbm_create(f->eng, "gpu.hbm.ch00", index, &f->p, &f->map, 1, f->pool,
                                 f->stats, &f->h, &err);
    cr_assert_eq(st, CS_OK, "%s", err.count ? err.msg[0] : "");
    drv *d = &f->d;
    d->eng = f->eng;
    d->pool = f->pool;
    d->items = items;
    d->n = n;
    d->arrive_ps = cs_calloc(n ? n : 1, sizeof *d->arrive_ps);
    d->got = cs_calloc(n ? n : 1, sizeof *d->got);
    d->order = cs_calloc(n ? n : 1, sizeof *d->order);
    d->arrivals = cs_calloc(n ? n : 1, sizeof *d->arrivals);
    cs_port_init_out(&d->out, d, drv_credit, 0);
    cs_port_init_in(&d->in, d, drv_recv, 0);
    cs_event_init(&d->ev, drv_ev, d);
    cs_link_params lp_in = {.latency_ps = LINK_PS,
                            .capacity = in_cap ? in_cap : (uint32_t)p->queue_entries};
    cs_link_params lp_out = {.latency_ps = LINK_PS, .capacity = out_cap};
    f->lin = cs_link_create(f->eng, "drv->hbm", &lp_in, &d->out, cs_hbm_in(f->h, 0));
    f->lout = cs_link_create(f->eng, "hbm->drv", &lp_out, cs_hbm_out(f->h, 0), &d->in);
    cs_engine_post(f->eng, 0, CS_PRIO_DEFAULT, drv_ev, d, NULL, 0);
}

static void fx_run_until(fx *f, cs_ps until)
{
    cs_err err;
    cs_err_init(&err);
    cs_status st = cs_engine_run(f->eng, until, &err);
    cr_assert_eq(st, CS_OK, "%s", err.count ? err.msg[0] : "");
}

static void fx_run(fx *f) { fx_run_until(f, CS_PS_NEVER); }

static void fx_fini(fx *f)
{
    cs_hbm_destroy(f->h);
    cs_link_destroy(f->lin);
    cs_link_destroy(f->lout);
    cs_free(f->d.arrive_ps);
    cs_free(f->d.got);
    cs_free(f->d.order);
    cs_free(f->d.arrivals);
    cs_req_pool_destroy(f->pool);
    cs_stats_destroy(f->stats);
    cs_engine_destroy(f->eng);
}

/* ---- helpers ----------------------------------------------------------------------------- */

static cs_clock clk_of(const cs_hbm_params *p) { return (cs_clock){p->clock_khz}; }

/* Edge of the cycle `extra` cycles after the first edge at or after t. */
static cs_ps after(const cs_hbm_params *p, cs_ps t, uint64_t extra)
{
    cs_clock c = clk_of(p);
    return cs_clock_ps(&c, cs_clock_cycle_at(&c, t) + extra);
}

/* The first line-aligned address with these DRAM coordinates. */
static uint64_t addr_at(const cs_addrmap *m, uint32_t ch, uint32_t bg, uint32_t bank,
                        uint64_t row, uint32_t col)
{
    for (uint64_t line = 0; line < (1ULL << 26); line++) {
        cs_dram_coord c = cs_addrmap_dram(m, line * CS_LINE_BYTES);
        if (c.channel == ch && c.bank_group == bg && c.bank == bank && c.row == row &&
            c.column == col)
            return line * CS_LINE_BYTES;
    }
    cr_assert_fail("no address for ch %u bg %u bank %u row %" PRIu64 " col %u", ch, bg, bank,
                   row, col);
    return 0;
}

static item rd(cs_ps t, uint64_t addr, uint8_t sectors)
{
    return (item){.t = t, .addr = addr, .kind = CS_REQ_READ, .sectors = sectors};
}

static item wr(cs_ps t, uint64_t addr, uint8_t sectors, bool no_ack)
{
    return (item){.t = t, .addr = addr, .kind = CS_REQ_WRITE, .sectors = sectors,
                  .no_ack = no_ack};
}

/* n full-line reads at t = 0 to consecutive lines of channel ch (in the global address order,
 * as a streaming GEMM would touch them). Caller frees. */
static item *stream(const cs_addrmap *m, uint32_t ch, uint32_t n)
{
    item *v = cs_malloc(n * sizeof *v);
    uint64_t line = 0;
    for (uint32_t i = 0; i < n; line++)
        if (cs_addrmap_channel(m, line * CS_LINE_BYTES) == ch)
            v[i++] = rd(0, line * CS_LINE_BYTES, 0xf);
    return v;
}

static void assert_all_once(const fx *f)
{
    for (uint32_t i = 0; i < f->d.n; i++)
        cr_assert_eq(f->d.got[i], 1, "request %u answered %u times", i, f->d.got[i]);
}

/* ---- latencies --------------------------------------------------------------------------- */

Test(hbm, row_miss_hit_conflict_latencies)
{
    cs_hbm_params p = a100();
    p.refresh = false;
    cs_addrmap m = map_of(&p);
    const cs_hbm_timing *t = &p.timing;
    uint64_t burst = (uint64_t)p.burst_length / 2;
    item it[] = {
        rd(0, addr_at(&m, 0, 0, 0, 0, 0), 0x1),       /* miss */
        rd(200000, addr_at(&m, 0, 0, 0, 0, 1), 0x1),  /* hit */
        rd(400000, addr_at(&m, 0, 0, 0, 1, 0), 0x1),  /* conflict */
        rd(600000, addr_at(&m, 0, 1, 0, 0, 0), 0xf),  /* miss, 4 bursts in one bank */
    };
    fx f;
    fx_init(&f, &p, 0, it, 4, 0, 0);
    fx_run(&f);
    assert_all_once(&f);
    cs_ps want[4] = {
        after(&p, 0 + LINK_PS, (uint64_t)(t->tRCD + t->tCL) + burst) + LINK_PS,
        after(&p, 200000 + LINK_PS, (uint64_t)t->tCL + burst) + LINK_PS,
        after(&p, 400000 + LINK_PS, (uint64_t)(t->tRP + t->tRCD + t->tCL) + burst) + LINK_PS,
        after(&p, 600000 + LINK_PS, (uint64_t)(t->tRCD + t->tCL + 3 * t->tCCDL) + burst) +
            LINK_PS,
    };
    const char *what[4] = {"row miss", "row hit", "row conflict", "4-burst miss"};
    for (int i = 0; i < 4; i++)
        cr_expect_eq(f.d.arrive_ps[i], want[i], "%s: response at %" PRIu64 " ps, want %" PRIu64,
                     what[i], f.d.arrive_ps[i], want[i]);
    /* For the record: 46, 24, 68 and 58 DRAM cycles of 823 ps, plus the two 1 ns links. */
    const cs_hbm_counts *n = cs_hbm_get_counts(f.h);
    cr_expect_eq(n->row_misses, 2);
    cr_expect_eq(n->row_hits, 1);
    cr_expect_eq(n->row_conflicts, 1);
    cr_expect_eq(n->act, 3);
    cr_expect_eq(n->pre, 1);
    cr_expect_eq(n->rd, 7);
    cr_expect_eq(n->bytes_read, 7 * 32);
    cr_expect_eq(n->bus_busy_cycles, 7 * burst);
    cr_expect_eq(n->ref, 0);
    cr_expect_not(cs_component_busy(cs_hbm_component(f.h)));
    fx_fini(&f);
}

Test(hbm, closed_page_makes_the_second_access_a_miss)
{
    cs_hbm_params p = a100();
    p.refresh = false;
    p.page_policy = CS_HBM_CLOSED_PAGE;
    cs_addrmap m = map_of(&p);
    const cs_hbm_timing *t = &p.timing;
    item it[] = {rd(0, addr_at(&m, 0, 2, 1, 0, 0), 0x1),
                 rd(200000, addr_at(&m, 0, 2, 1, 0, 1), 0x1)};
    fx f;
    fx_init(&f, &p, 0, it, 2, 0, 0);
    fx_run(&f);
    cr_expect_eq(f.d.arrive_ps[1],
                 after(&p, 200000 + LINK_PS, (uint64_t)(t->tRCD + t->tCL + 2)) + LINK_PS);
    const cs_hbm_counts *n = cs_hbm_get_counts(f.h);
    cr_expect_eq(n->act, 2);
    cr_expect_eq(n->pre, 2);
    cr_expect_eq(n->row_misses, 2);
    fx_fini(&f);
}

/* ---- scheduling -------------------------------------------------------------------------- */

/* An older request to another row of an open bank, then a younger hit to the open row. */
static void reorder_case(int scheduler, cs_ps *older, cs_ps *younger)
{
    cs_hbm_params p = a100();
    p.refresh = false;
    p.scheduler = scheduler;
    cs_addrmap m = map_of(&p);
    item it[] = {rd(0, addr_at(&m, 0, 0, 0, 0, 0), 0x1),       /* opens row 0 */
                 rd(200000, addr_at(&m, 0, 0, 0, 1, 0), 0x1),  /* older: row 1 */
                 rd(200000, addr_at(&m, 0, 0, 0, 0, 1), 0x1)}; /* younger: row 0, a hit */
    fx f;
    fx_init(&f, &p, 0, it, 3, 0, 0);
    fx_run(&f);
    assert_all_once(&f);
    *older = f.d.arrive_ps[1];
    *younger = f.d.arrive_ps[2];
    if (scheduler == CS_HBM_FRFCFS) /* the hit goes first, unloaded */
        cr_expect_eq(*younger, after(&p, 200000 + LINK_PS, (uint64_t)p.timing.tCL + 2) + LINK_PS);
    fx_fini(&f);
}

Test(hbm, frfcfs_serves_the_younger_row_hit_first_fcfs_does_not)
{
    cs_ps older, younger;
    reorder_case(CS_HBM_FRFCFS, &older, &younger);
    cr_expect_lt(younger, older, "FR-FCFS: hit at %" PRIu64 ", older miss at %" PRIu64, younger,
                 older);
    reorder_case(CS_HBM_FCFS, &older, &younger);
    cr_expect_lt(older, younger, "FCFS: older at %" PRIu64 ", younger at %" PRIu64, older,
                 younger);
}

Test(hbm, row_hit_cap_bounds_hits_bypassing_an_older_miss)
{
    cs_hbm_params p = a100();
    p.refresh = false;
    p.row_hit_cap = 2;
    cs_addrmap m = map_of(&p);
    item it[] = {rd(0, addr_at(&m, 0, 0, 0, 0, 0), 0x1),
                 rd(200000, addr_at(&m, 0, 0, 0, 1, 0), 0x1), /* the older miss */
                 rd(200000, addr_at(&m, 0, 0, 0, 0, 1), 0x1),
                 rd(200000, addr_at(&m, 0, 0, 0, 0, 2), 0x1),
                 rd(200000, addr_at(&m, 0, 0, 0, 0, 3), 0x1),
                 rd(200000, addr_at(&m, 0, 0, 0, 0, 4), 0x1)};
    fx f;
    fx_init(&f, &p, 0, it, 6, 0, 0);
    fx_run(&f);
    assert_all_once(&f);
    uint32_t want[] = {0, 2, 3, 1, 4, 5}; /* two hits, then the miss, then the rest */
    for (int i = 0; i < 6; i++)
        cr_expect_eq(f.d.order[i], want[i], "response %d: request %u, want %u", i, f.d.order[i],
                     want[i]);
    fx_fini(&f);
}

Test(hbm, bursts_within_one_bank_group_are_slower_than_across_groups)
{
    cs_hbm_params p = a100();
    p.refresh = false;
    cs_addrmap m = map_of(&p);
    const cs_hbm_timing *t = &p.timing;
    item it[9];
    for (uint32_t g = 0; g < 4; g++) /* open row 0 of bank 0 in every group */
        it[g] = rd(0, addr_at(&m, 0, g, 0, 0, 0), 0x1);
    it[4] = rd(300000, addr_at(&m, 0, 0, 0, 0, 1), 0xf); /* 4 bursts, one group */
    for (uint32_t g = 0; g < 4; g++)                     /* 4 bursts, four groups */
        it[5 + g] = rd(600000, addr_at(&m, 0, g, 0, 0, 2), 0x1);
    fx f;
    fx_init(&f, &p, 0, it, 9, 0, 0);
    fx_run(&f);
    assert_all_once(&f);
    cs_ps one_group = f.d.arrive_ps[4] - after(&p, 300000 + LINK_PS, 0);
    cs_ps last = 0;
    for (int i = 5; i < 9; i++)
        last = f.d.arrive_ps[i] > last ? f.d.arrive_ps[i] : last;
    cs_ps spread = last - after(&p, 600000 + LINK_PS, 0);
    cr_expect_eq(f.d.arrive_ps[4],
                 after(&p, 300000 + LINK_PS, (uint64_t)(3 * t->tCCDL + t->tCL + 2)) + LINK_PS);
    cr_expect_eq(last,
                 after(&p, 600000 + LINK_PS, (uint64_t)(3 * t->tCCDS + t->tCL + 2)) + LINK_PS);
    cr_expect_gt(one_group, spread, "one group %" PRIu64 " ps, spread %" PRIu64 " ps", one_group,
                 spread);
    fx_fini(&f);
}

Test(hbm, read_write_turnarounds)
{
    cs_hbm_params p = a100();
    p.refresh = false;
    cs_addrmap m = map_of(&p);
    const cs_hbm_timing *t = &p.timing;
    item it[] = {rd(0, addr_at(&m, 0, 0, 0, 0, 0), 0x1),           /* open the row */
                 wr(200000, addr_at(&m, 0, 0, 0, 0, 1), 0x1, false), /* W then R */
                 rd(200000, addr_at(&m, 0, 0, 0, 0, 2), 0x1),
                 rd(400000, addr_at(&m, 0, 0, 0, 0, 3), 0x1), /* R then W */
                 wr(400000, addr_at(&m, 0, 0, 0, 0, 4), 0x1, false)};
    fx f;
    fx_init(&f, &p, 0, it, 5, 0, 0);
    fx_run(&f);
    assert_all_once(&f);
    uint64_t w_end = (uint64_t)t->tWL + 2;
    cr_expect_eq(f.d.arrive_ps[1], after(&p, 200000 + LINK_PS, w_end) + LINK_PS);
    cr_expect_eq(f.d.arrive_ps[2],
                 after(&p, 200000 + LINK_PS, w_end + (uint64_t)(t->tWTRL + t->tCL + 2)) + LINK_PS);
    cr_expect_eq(f.d.arrive_ps[3], after(&p, 400000 + LINK_PS, (uint64_t)t->tCL + 2) + LINK_PS);
    cr_expect_eq(f.d.arrive_ps[4],
                 after(&p, 400000 + LINK_PS, (uint64_t)t->tRTW + w_end) + LINK_PS);
    fx_fini(&f);
}

/* Five ACTs at once to closed banks: four spaced by tRRDS, the fifth held by the tFAW window. */
static cs_ps faw_case(int64_t faw)
{
    cs_hbm_params p = a100();
    p.refresh = false;
    p.timing.tFAW = faw;
    cs_addrmap m = map_of(&p);
    item it[] = {rd(0, addr_at(&m, 0, 0, 0, 0, 0), 0x1), rd(0, addr_at(&m, 0, 1, 0, 0, 0), 0x1),
                 rd(0, addr_at(&m, 0, 2, 0, 0, 0), 0x1), rd(0, addr_at(&m, 0, 3, 0, 0, 0), 0x1),
                 rd(0, addr_at(&m, 0, 0, 1, 0, 0), 0x1)};
    fx f;
    fx_init(&f, &p, 0, it, 5, 0, 0);
    fx_run(&f);
    assert_all_once(&f);
    cr_expect_eq(cs_hbm_get_counts(f.h)->act, 5);
    cs_ps t = f.d.arrive_ps[4];
    fx_fini(&f);
    return t;
}

Test(hbm, four_activate_window)
{
    cs_hbm_params p = a100();
    const cs_hbm_timing *t = &p.timing;
    uint64_t tail = (uint64_t)(t->tRCD + t->tCL + 2);
    /* The window allows the fifth ACT at tFAW = 37, but the fourth bank's RD (3 x tRRDS +
     * tRCD = 37) takes that cycle: a row hit goes first, the ACT issues one cycle later. */
    cr_assert_eq(3 * t->tRRDS + t->tRCD, t->tFAW);
    cs_ps got = faw_case(t->tFAW);
    cr_expect_eq(got, after(&p, LINK_PS, (uint64_t)t->tFAW + 1 + tail) + LINK_PS,
                 "got %" PRIu64, got);
    cr_expect_eq(faw_case(0), after(&p, LINK_PS, 4 * (uint64_t)t->tRRDS + tail) + LINK_PS);
}

Test(hbm, refresh_due_while_idle_is_counted_on_wake)
{
    cs_hbm_params p = a100();
    cs_addrmap m = map_of(&p);
    const cs_hbm_timing *t = &p.timing;
    item it[] = {rd(0, addr_at(&m, 0, 0, 0, 0, 0), 0x1),
                 rd(10000000, addr_at(&m, 0, 0, 0, 0, 1), 0x1)}; /* 10 us later */
    fx f;
    fx_init(&f, &p, 0, it, 2, 0, 0);
    fx_run(&f);
    const cs_hbm_counts *n = cs_hbm_get_counts(f.h);
    /* Due at 1 x and 2 x tREFI (3.9 and 7.8 us); channel 0's first is not staggered. */
    cr_expect_eq(n->ref, 2);
    cr_expect_eq(n->pre, 1, "the open row was closed for the refresh");
    cr_expect_eq(n->row_misses, 2);
    cr_expect_eq(f.d.arrive_ps[1],
                 after(&p, 10000000 + LINK_PS, (uint64_t)(t->tRCD + t->tCL + 2)) + LINK_PS);
    fx_fini(&f);
}

Test(hbm, responses_return_on_the_port_they_came_in_on)
{
    cs_hbm_params p = a100();
    cs_addrmap m = map_of(&p);
    cs_engine *eng = cs_engine_create();
    cs_req_pool *pool = cs_req_pool_create();
    cs_hbm *h;
    cs_err err;
    cs_err_init(&err);
    cr_assert_eq(cs_hbm_create(eng, "gpu.hbm.ch00", 0, &p, &m, 3, pool, NULL, &h, &err), CS_OK);
    enum { N = 40 };
    item *v[2] = {stream(&m, 0, N), stream(&m, 0, 2 * N)};
    drv d[2];
    cs_link *links[4];
    for (int k = 0; k < 2; k++) {
        memset(&d[k], 0, sizeof d[k]);
        d[k].eng = eng;
        d[k].pool = pool;
        d[k].items = v[k] + k * N; /* different lines */
        d[k].n = N;
        d[k].arrive_ps = cs_calloc(N, sizeof(cs_ps));
        d[k].arrivals = cs_calloc(N, sizeof(cs_ps));
        d[k].got = cs_calloc(N, sizeof(uint32_t));
        d[k].order = cs_calloc(N, sizeof(uint32_t));
        cs_port_init_out(&d[k].out, &d[k], drv_credit, 0);
        cs_port_init_in(&d[k].in, &d[k], drv_recv, 0);
        cs_event_init(&d[k].ev, drv_ev, &d[k]);
        cs_link_params lp = {.latency_ps = LINK_PS, .capacity = 16};
        uint32_t port = k == 0 ? 0 : 2; /* port 1 stays unused */
        links[2 * k] = cs_link_create(eng, "in", &lp, &d[k].out, cs_hbm_in(h, port));
        links[2 * k + 1] = cs_link_create(eng, "out", &lp, cs_hbm_out(h, port), &d[k].in);
        cs_engine_post(eng, 0, CS_PRIO_DEFAULT, drv_ev, &d[k], NULL, 0);
    }
    cr_expect_null(cs_hbm_in(h, 3));
    cr_assert_eq(cs_engine_run(eng, CS_PS_NEVER, &err), CS_OK);
    for (int k = 0; k < 2; k++) {
        cr_expect_eq(d[k].received, N, "driver %d got %u", k, d[k].received);
        for (uint32_t i = 0; i < N; i++)
            cr_expect_eq(d[k].got[i], 1);
        cs_free(d[k].arrive_ps);
        cs_free(d[k].arrivals);
        cs_free(d[k].got);
        cs_free(d[k].order);
        cs_free(v[k]);
    }
    cr_expect_eq(cs_req_pool_live(pool), 0);
    for (int k = 0; k < 4; k++)
        cs_link_destroy(links[k]);
    cs_hbm_destroy(h);
    cs_req_pool_destroy(pool);
    cs_engine_destroy(eng);
}

/* HBM2 legacy mode: a 128-bit channel, BL4 -> 64 B bursts, each covering two sectors. */
Test(hbm, wider_bursts_cover_several_sectors)
{
    cs_hbm_params p = a100();
    p.refresh = false;
    p.channels = 40;
    p.bus_bits = 128;
    p.row_bytes = 2048;
    cs_addrmap m = map_of(&p);
    const cs_hbm_timing *t = &p.timing;
    item it[] = {rd(0, addr_at(&m, 0, 0, 0, 0, 0), 0xf),       /* 2 bursts */
                 rd(200000, addr_at(&m, 0, 0, 0, 0, 1), 0x6)}; /* sectors 1, 2: 2 bursts */
    fx f;
    fx_init(&f, &p, 0, it, 2, 0, 0);
    fx_run(&f);
    assert_all_once(&f);
    const cs_hbm_counts *n = cs_hbm_get_counts(f.h);
    cr_expect_eq(cs_hbm_burst_bytes(&p), 64);
    cr_expect_eq(n->rd, 4);
    cr_expect_eq(n->bytes_read, 4 * 64);
    cr_expect_eq(f.d.arrive_ps[0],
                 after(&p, LINK_PS, (uint64_t)(t->tRCD + t->tCCDL + t->tCL + 2)) + LINK_PS);
    cs_hbm_params base = a100();
    cr_expect_eq(2 * cs_hbm_peak_bytes_per_s(&base), cs_hbm_peak_bytes_per_s(&p));
    fx_fini(&f);
}

/* ---- refresh and bandwidth --------------------------------------------------------------- */

typedef struct stream_result {
    double seconds;  /* first arrival at the channel to the last data */
    double efficiency;
    uint32_t long_gaps; /* gaps between consecutive responses of at least tRFC */
    uint64_t refs, bursts;
    double host_s;
} stream_result;

static stream_result run_stream(const cs_hbm_params *p, uint32_t ch, uint32_t n)
{
    cs_addrmap m = map_of(p);
    item *v = stream(&m, ch, n);
    fx f;
    fx_init(&f, p, ch, v, n, 0, 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    fx_run(&f);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_all_once(&f);
    stream_result r = {0};
    r.host_s = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    cs_ps start = f.d.first_sent_ps + LINK_PS, end = f.d.arrivals[n - 1] - LINK_PS;
    r.seconds = (double)(end - start) * 1e-12;
    const cs_hbm_counts *c = cs_hbm_get_counts(f.h);
    r.efficiency = (double)c->bytes_read / (r.seconds * cs_hbm_peak_bytes_per_s(p));
    uint64_t gap_ps = (uint64_t)p->timing.tRFC * 1000000000ULL / p->clock_khz;
    for (uint32_t i = 1; i < n; i++)
        r.long_gaps += f.d.arrivals[i] - f.d.arrivals[i - 1] >= gap_ps;
    r.refs = c->ref;
    r.bursts = c->rd;
    cr_expect_eq(c->bytes_read, (uint64_t)n * CS_LINE_BYTES);
    cr_expect_eq(cs_req_pool_live(f.pool), 0);
    fx_fini(&f);
    cs_free(v);
    return r;
}

Test(hbm, refresh_gaps_and_throughput_cost)
{
    cs_hbm_params p = a100();
    stream_result on = run_stream(&p, 3, 20000);
    p.refresh = false;
    stream_result off = run_stream(&p, 3, 20000);
    double interval_s = (double)p.timing.tREFI / ((double)p.clock_khz * 1e3);
    double expect_refs = on.seconds / interval_s;
    cr_expect_geq((double)on.refs, expect_refs - 1.5, "%" PRIu64 " refreshes in %.3g s",
                  on.refs, on.seconds);
    cr_expect_leq((double)on.refs, expect_refs + 1.5);
    cr_expect_geq(on.long_gaps + 1, on.refs, "%u long gaps for %" PRIu64 " refreshes",
                  on.long_gaps, on.refs);
    cr_expect_leq(on.long_gaps, on.refs);
    cr_expect_eq(off.refs, 0);
    cr_expect_eq(off.long_gaps, 0);
    double cost = 1.0 - on.efficiency / off.efficiency;
    double ratio = (double)p.timing.tRFC / (double)p.timing.tREFI;
    cr_log_info("refresh: %" PRIu64 " REFs, throughput %.1f%% (off: %.1f%%), cost %.2f%% "
                "(tRFC/tREFI %.2f%%)",
                on.refs, 100 * on.efficiency, 100 * off.efficiency, 100 * cost, 100 * ratio);
    cr_expect_geq(cost, 0.8 * ratio, "refresh cost %.4f vs tRFC/tREFI %.4f", cost, ratio);
    cr_expect_leq(cost, 1.5 * ratio, "refresh cost %.4f vs tRFC/tREFI %.4f", cost, ratio);
}

Test(hbm, sustained_sequential_read_bandwidth)
{
    cs_hbm_params p = a100();
    stream_result r = run_stream(&p, 5, 40000);
    cr_log_info("sequential reads, refresh on: %.1f%% of the %.2f GB/s channel peak "
                "(%.1f GB/s x 80 channels = %.0f GB/s)",
                100 * r.efficiency, cs_hbm_peak_bytes_per_s(&p) / 1e9,
                r.efficiency * cs_hbm_peak_bytes_per_s(&p) / 1e9,
                80 * r.efficiency * cs_hbm_peak_bytes_per_s(&p) / 1e9);
    fprintf(stderr, "hbm: sustained sequential read efficiency %.2f%% (refresh on)\n",
            100 * r.efficiency);
    cr_expect_geq(r.efficiency, 0.80, "efficiency %.3f", r.efficiency);
    cr_expect_leq(r.efficiency, 0.95, "efficiency %.3f", r.efficiency);
}

/* Host speed of one channel streaming 1 M bursts. The same stream through the ideal variant
 * (no banks, no per-burst work) measures the driver, links and engine; the difference is the
 * channel's own cost per burst. */
Test(hbm, host_speed)
{
    cs_hbm_params p = a100();
    stream_result r = run_stream(&p, 0, 250000);
    p.ideal = true;
    stream_result base = run_stream(&p, 0, 250000);
    double bps = (double)r.bursts / r.host_s;
    double own_ns = (r.host_s - base.host_s) / (double)r.bursts * 1e9;
    fprintf(stderr, "hbm: %" PRIu64 " bursts in %.3f s host time: %.2f M bursts/s with the "
                    "driver and links (%.3f s of it without the channel); the channel alone: "
                    "%.0f ns per burst = %.1f M bursts/s\n",
            r.bursts, r.host_s, bps / 1e6, base.host_s, own_ns, 1e3 / own_ns);
    cr_expect_gt(bps, 2e5, "%.0f bursts/s", bps);
}

/* ---- writes ------------------------------------------------------------------------------ */

Test(hbm, posted_writes_are_freed_acknowledged_writes_answered)
{
    cs_hbm_params p = a100();
    cs_addrmap m = map_of(&p);
    enum { N = 150 };
    item *v = stream(&m, 0, N);
    for (uint32_t i = 0; i < N; i++) {
        v[i].kind = CS_REQ_WRITE;
        v[i].no_ack = i < 100; /* 100 posted, 50 acknowledged */
        v[i].sectors = i % 2 ? 0xf : 0x5;
    }
    fx f;
    fx_init(&f, &p, 0, v, N, 0, 0);
    fx_run(&f);
    for (uint32_t i = 0; i < N; i++)
        cr_expect_eq(f.d.got[i], i < 100 ? 0u : 1u, "write %u: %u responses", i, f.d.got[i]);
    cr_expect_eq(f.d.received, 50);
    cr_expect_eq(cs_req_pool_live(f.pool), 0, "%" PRIu64 " requests live",
                 cs_req_pool_live(f.pool));
    const cs_hbm_counts *n = cs_hbm_get_counts(f.h);
    cr_expect_eq(n->wr, 75 * 4 + 75 * 2);
    cr_expect_eq(n->bytes_written, (75 * 4 + 75 * 2) * 32);
    cr_expect_eq(n->rd, 0);
    cr_expect_not(cs_component_busy(cs_hbm_component(f.h)));
    fx_fini(&f);
    cs_free(v);
}

/* ---- back-pressure ----------------------------------------------------------------------- */

Test(hbm, back_pressure_stalls_without_loss_or_duplication)
{
    cs_hbm_params p = a100();
    cs_addrmap m = map_of(&p);
    enum { N = 300, OUT_CAP = 2 };
    item *v = stream(&m, 0, N);
    for (uint32_t i = 0; i < N; i += 3) /* some reads scattered over other rows */
        v[i].addr = addr_at(&m, 0, i % 4, (i / 4) % 4, 1 + i % 3, i % 8);
    fx f;
    fx_init(&f, &p, 0, v, N, 0, OUT_CAP);
    f.d.hold = true;
    fx_run_until(&f, 20000000); /* 20 us */
    const cs_hbm_counts *n = cs_hbm_get_counts(f.h);
    uint64_t served = (uint64_t)p.queue_entries + OUT_CAP;
    cr_expect_eq(f.d.received, OUT_CAP);
    cr_expect_eq(n->rd, served * 4, "%" PRIu64 " bursts read while stalled", n->rd);
    cr_expect(cs_component_busy(cs_hbm_component(f.h)));
    cr_expect_gt(cs_link_get_stats(f.lin)->refused, 0);
    /* Sent: the 64 the input link holds (all in slots) and the 2 whose slots were freed. */
    cr_expect_eq(f.d.next, served, "sent %u", f.d.next);
    cs_buf b;
    cs_buf_init(&b);
    cs_hbm_component(f.h)->type->dump(cs_hbm_component(f.h), &b);
    cr_expect(strstr(b.data, "responses refused") != NULL, "dump: %s", b.data);
    cs_buf_free(&b);
    fx_run_until(&f, 40000000); /* still held: nothing moves */
    cr_expect_eq(f.d.received, OUT_CAP);
    cr_expect_eq(n->rd, served * 4);
    drv_unhold(&f.d);
    fx_run(&f);
    assert_all_once(&f);
    cr_expect_eq(f.d.received, N);
    cr_expect_eq(n->rd, (uint64_t)N * 4);
    cr_expect_eq(cs_req_pool_live(f.pool), 0);
    cr_expect_not(cs_component_busy(cs_hbm_component(f.h)));
    fx_fini(&f);
    cs_free(v);
}

Test(hbm, more_senders_than_slots_wait_in_order)
{
    cs_hbm_params p = a100();
    p.queue_entries = 4;
    cs_addrmap m = map_of(&p);
    enum { N = 64 };
    item *v = stream(&m, 0, N);
    fx f;
    fx_init(&f, &p, 0, v, N, 32, 0); /* the link holds more than the channel's 4 slots */
    fx_run(&f);
    assert_all_once(&f);
    cr_expect_eq(cs_req_pool_live(f.pool), 0);
    fx_fini(&f);
    cs_free(v);
}

/* ---- ideal ------------------------------------------------------------------------------- */

Test(hbm, ideal_fixed_latency_unlimited_bandwidth)
{
    cs_hbm_params p = a100();
    p.ideal = true;
    p.ideal_latency_ps = 50000;
    cs_addrmap m = map_of(&p);
    enum { N = 2000 };
    item *v = stream(&m, 0, N);
    for (uint32_t i = 0; i < N; i += 2)
        v[i] = wr(0, v[i].addr, 0x3, false);
    fx f;
    fx_init(&f, &p, 0, v, N, N, 0);
    fx_run(&f);
    assert_all_once(&f);
    for (uint32_t i = 0; i < N; i++)
        cr_expect_eq(f.d.arrive_ps[i], LINK_PS + 50000 + LINK_PS, "request %u at %" PRIu64, i,
                     f.d.arrive_ps[i]);
    const cs_hbm_counts *n = cs_hbm_get_counts(f.h);
    cr_expect_eq(n->rd, N / 2 * 4);
    cr_expect_eq(n->wr, N / 2 * 2);
    cr_expect_eq(n->bytes_read, N / 2 * 128);
    cr_expect_eq(n->act, 0);
    cr_expect_eq(cs_req_pool_live(f.pool), 0);
    fx_fini(&f);
    cs_free(v);
}

/* ---- schema, statistics, helpers --------------------------------------------------------- */

static cs_status bind_text(const char *text, cs_hbm_params *p, cs_err *err)
{
    cs_cfg *cfg = NULL;
    cs_err_init(err);
    cs_status st = cs_cfg_parse_string("<test>", text, NULL, &cfg, err);
    cr_assert_eq(st, CS_OK, "%s", err->count ? err->msg[0] : "");
    memset(p, 0, sizeof *p);
    st = cs_cfg_bind(cfg, "hbm", &cs_hbm_schema, p, err);
    cs_cfg_params_free(&cs_hbm_schema, p);
    cs_cfg_destroy(cfg);
    return st;
}

Test(hbm, schema_defaults_are_the_a100)
{
    cs_hbm_params p, want = a100();
    cs_err err;
    cs_status st = bind_text("", &p, &err);
    cr_assert_eq(st, CS_OK, "%s", err.count ? err.msg[0] : "");
    cr_expect_eq(p.channels, want.channels);
    cr_expect_eq(p.clock_khz, want.clock_khz);
    cr_expect_eq(p.bus_bits, want.bus_bits);
    cr_expect_eq(p.burst_length, want.burst_length);
    cr_expect_eq(p.bank_groups, want.bank_groups);
    cr_expect_eq(p.banks_per_group, want.banks_per_group);
    cr_expect_eq(p.row_bytes, want.row_bytes);
    cr_expect_eq(p.queue_entries, want.queue_entries);
    cr_expect_eq(p.scheduler, want.scheduler);
    cr_expect_eq(p.page_policy, want.page_policy);
    cr_expect_eq(p.row_hit_cap, want.row_hit_cap);
    cr_expect_eq(p.refresh, want.refresh);
    cr_expect_eq(p.ideal, want.ideal);
    cr_expect_eq(p.ideal_latency_ps, want.ideal_latency_ps);
    cr_expect_eq(memcmp(&p.timing, &want.timing, sizeof p.timing), 0, "timing defaults differ");
    /* 80 channels x 8 B x 2 x 1.215 GHz = 1555.2 GB/s; one burst is one 32 B sector. */
    cr_expect_eq(80 * cs_hbm_peak_bytes_per_s(&p), 1555.2e9);
    cr_expect_eq(cs_hbm_burst_bytes(&p), CS_SECTOR_BYTES);
    st = bind_text("hbm = { scheduler = \"fcfs\"; page_policy = \"closed\"; clock = \"1.512GHz\";"
                   " timing = { tCL = 24; }; };",
                   &p, &err);
    cr_assert_eq(st, CS_OK, "%s", err.count ? err.msg[0] : "");
    cr_expect_eq(p.scheduler, CS_HBM_FCFS);
    cr_expect_eq(p.page_policy, CS_HBM_CLOSED_PAGE);
    cr_expect_eq(p.clock_khz, 1512000);
    cr_expect_eq(p.timing.tCL, 24);
    cr_expect_eq(p.timing.tRTW, 22);
}

static bool any_msg_has(const cs_err *err, const char *a, const char *b)
{
    for (int i = 0; i < err->count && i < CS_ERR_MAX; i++)
        if (strstr(err->msg[i], a) && (!b || strstr(err->msg[i], b)))
            return true;
    return false;
}

Test(hbm, schema_rejects_inconsistent_timing_naming_the_key)
{
    cs_hbm_params p;
    cs_err err;
    cs_status st = bind_text("hbm = {\n  timing = {\n    tRC = 60;\n  };\n};\n", &p, &err);
    cr_expect_neq(st, CS_OK);
    cr_expect(any_msg_has(&err, "tRC", "tRAS"), "message: %s", err.count ? err.msg[0] : "");
    cr_expect(any_msg_has(&err, "<test>:3", NULL), "cites the line: %s",
              err.count ? err.msg[0] : "");
    st = bind_text("hbm = { bank_groups = 3; timing = { tCCDL = 1; }; };", &p, &err);
    cr_expect_neq(st, CS_OK);
    cr_expect(any_msg_has(&err, "bank_groups", "power of two"), "message: %s",
              err.count ? err.msg[0] : "");
    cr_expect(any_msg_has(&err, "tCCDL", NULL), "both errors reported");
    st = bind_text("hbm = { bus_bits = 128; burst_length = 16; };", &p, &err);
    cr_expect_neq(st, CS_OK);
    cr_expect(any_msg_has(&err, "burst_length", NULL), "message: %s", err.count ? err.msg[0] : "");
}

Test(hbm, statistics_registered_by_name)
{
    cs_hbm_params p = a100();
    fx f;
    fx_init(&f, &p, 0, NULL, 0, 0, 0);
    static const char *const actions[] = {"act", "pre", "rd", "wr", "ref"};
    size_t found = 0;
    for (size_t i = 0; i < cs_stats_action_count(f.stats); i++) {
        const char *name, *cls, *action;
        uint64_t value;
        cs_stats_action_get(f.stats, i, &name, &cls, &action, &value);
        cr_expect_str_eq(cls, "dram");
        for (size_t k = 0; k < 5; k++)
            found += strcmp(action, actions[k]) == 0;
    }
    cr_expect_eq(found, 5);
    static const char *const names[] = {
        "gpu.hbm.ch00.act", "gpu.hbm.ch00.row_hits", "gpu.hbm.ch00.row_misses",
        "gpu.hbm.ch00.row_conflicts", "gpu.hbm.ch00.bytes_read", "gpu.hbm.ch00.bytes_written",
        "gpu.hbm.ch00.bus_busy_cycles", "gpu.hbm.ch00.latency"};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        cr_expect_neq(cs_stats_find(f.stats, names[k]), (size_t)-1, "%s", names[k]);
    cr_expect_eq(cs_stats_kind(f.stats, cs_stats_find(f.stats, "gpu.hbm.ch00.latency")),
                 CS_STAT_HIST);
    cr_expect_eq(cs_stats_instance_count(f.stats), 1);
    const char *cls, *name;
    cs_stats_instance_get(f.stats, 0, &cls, &name);
    cr_expect_str_eq(cls, "dram");
    cr_expect_str_eq(name, "gpu.hbm.ch00");
    fx_fini(&f);
}

Test(hbm, latency_histogram_counts_every_request)
{
    cs_hbm_params p = a100();
    p.refresh = false;
    cs_addrmap m = map_of(&p);
    item it[] = {rd(0, addr_at(&m, 0, 0, 0, 0, 0), 0x1)};
    fx f;
    fx_init(&f, &p, 0, it, 1, 0, 0);
    fx_run(&f);
    size_t i = cs_stats_find(f.stats, "gpu.hbm.ch00.latency");
    cr_assert_neq(i, (size_t)-1);
    cr_expect_eq(cs_stats_value(f.stats, i), 1.0);
    cr_expect_eq(cs_stats_value(f.stats, cs_stats_find(f.stats, "gpu.hbm.ch00.rd")), 1.0);
    fx_fini(&f);
}

Test(hbm, create_rejects_a_map_that_does_not_match)
{
    cs_hbm_params p = a100();
    cs_addrmap m = map_of(&p);
    m.lines_per_row = 16;
    cs_engine *eng = cs_engine_create();
    cs_req_pool *pool = cs_req_pool_create();
    cs_hbm *h = (cs_hbm *)1;
    cs_err err;
    cs_err_init(&err);
    cr_expect_eq(cs_hbm_create(eng, "x", 0, &p, &m, 1, pool, NULL, &h, &err), CS_INVALID);
    cr_expect_null(h);
    cs_req_pool_destroy(pool);
    cs_engine_destroy(eng);
}

/* test_links — links between ports: latency, serialisation at bytes per cycle, finite capacity
 * with back-pressure and credits, checked against timings computed by hand. A 1 GHz clock
 * (1 cycle = 1000 ps) keeps the arithmetic exact. */
#include <criterion/criterion.h>

#include "engine.h"
#include "port.h"

enum { CYC = 1000, MAXMSG = 64 };

/* A sender that sends a script of (time, bytes) messages in order, retrying on credit, and a
 * receiver that records arrival times and releases each message after `hold` ps. */
typedef struct rig {
    cs_engine *eng;
    cs_clock clk;
    cs_port out, in;
    cs_link *link;
    cs_ps when[MAXMSG];
    uint32_t bytes[MAXMSG];
    int n, next;
    cs_ps sent_at[MAXMSG], arrived[MAXMSG];
    int narrived, refusals, credits;
    cs_ps hold;
} rig;

static void pump(rig *r)
{
    while (r->next < r->n && r->when[r->next] <= cs_engine_now(r->eng)) {
        if (!cs_port_try_send(&r->out, NULL, (uint64_t)r->next, r->bytes[r->next])) {
            r->refusals++;
            return; /* the credit callback resumes */
        }
        r->sent_at[r->next] = cs_engine_now(r->eng);
        r->next++;
    }
}

static void wake(void *ctx, void *ptr, uint64_t arg)
{
    (void)ptr;
    (void)arg;
    pump(ctx);
}

static void on_credit(void *owner, cs_port *out)
{
    (void)out;
    rig *r = owner;
    r->credits++;
    pump(r);
}

static void release(void *ctx, void *ptr, uint64_t arg)
{
    (void)ptr;
    (void)arg;
    rig *r = ctx;
    cs_port_release(&r->in);
}

static void on_recv(void *owner, cs_port *in, void *ptr, uint64_t arg)
{
    (void)in;
    (void)ptr;
    rig *r = owner;
    cr_assert_eq(arg, (uint64_t)r->narrived, "messages arrive in order, once");
    r->arrived[r->narrived++] = cs_engine_now(r->eng);
    cs_engine_post(r->eng, cs_engine_now(r->eng) + r->hold, CS_PRIO_DEFAULT, release, r, NULL, 0);
}

static void rig_init(rig *r, cs_ps latency, uint32_t bpc, uint32_t capacity, cs_ps hold)
{
    memset(r, 0, sizeof *r);
    r->eng = cs_engine_create();
    r->clk.freq_khz = 1000000;
    r->hold = hold;
    cs_port_init_out(&r->out, r, on_credit, 0);
    cs_port_init_in(&r->in, r, on_recv, 0);
    cs_link_params p = {.latency_ps = latency, .bytes_per_cycle = bpc, .clock = &r->clk, .capacity = capacity};
    r->link = cs_link_create(r->eng, "test.link", &p, &r->out, &r->in);
}

static void rig_msg(rig *r, cs_ps t, uint32_t bytes)
{
    r->when[r->n] = t;
    r->bytes[r->n++] = bytes;
    cs_engine_post(r->eng, t, CS_PRIO_DEFAULT, wake, r, NULL, 0);
}

static void rig_run(rig *r)
{
    cs_err err;
    cs_err_init(&err);
    cr_assert_eq(cs_engine_run(r->eng, CS_PS_NEVER, &err), CS_OK);
    cr_assert_eq(r->narrived, r->n, "every message arrived");
}

static void rig_fini(rig *r)
{
    cs_link_destroy(r->link);
    cs_engine_destroy(r->eng);
}

Test(link, latency_and_serialisation)
{
    /* 5 ns latency, 16 B/cycle, no capacity limit, the receiver releases at once.
     * A: 64 B at 0: cycles [0, 4), arrives 4 + 5 = 9 ns.
     * B: 16 B at 0: waits for the serialiser, cycle [4, 5), arrives 10 ns.
     * C: 20 B at 2.5 ns: serialiser free at 5 ns: cycles [5, 7), arrives 12 ns.
     * D: 1 B at 20.5 ns: first edge at or after 20.5 ns is 21 ns, [21, 22), arrives 27 ns.
     * E: 0 B at 30 ns: a message takes at least one cycle: [30, 31), arrives 36 ns. */
    rig r;
    rig_init(&r, 5 * CYC, 16, 0, 0);
    rig_msg(&r, 0, 64);
    rig_msg(&r, 0, 16);
    rig_msg(&r, 2500, 20);
    rig_msg(&r, 20500, 1);
    rig_msg(&r, 30 * CYC, 0);
    rig_run(&r);
    const cs_ps want[] = {9 * CYC, 10 * CYC, 12 * CYC, 27 * CYC, 36 * CYC};
    for (int i = 0; i < 5; i++)
        cr_expect_eq(r.arrived[i], want[i], "message %d arrives at %llu ps (got %llu)", i, (unsigned long long)want[i],
                     (unsigned long long)r.arrived[i]);
    const cs_link_stats *st = cs_link_get_stats(r.link);
    cr_expect_eq(st->msgs, 5);
    cr_expect_eq(st->bytes, 64 + 16 + 20 + 1 + 0);
    cr_expect_eq(st->busy_ps, (4 + 1 + 2 + 1 + 1) * CYC, "serialising time");
    cr_expect_eq(st->refused, 0);
    rig_fini(&r);
}

Test(link, bandwidth_of_a_saturated_link)
{
    /* 40 messages of 100 B offered at once on a 32 B/cycle link: 4 cycles each (ceil(100/32)),
     * back to back, so message i arrives at 4(i + 1) cycles + latency 2 ns; 4000 B in 160
     * cycles = 25 B/cycle (the link's 32 B/cycle less the rounding to whole cycles). */
    rig r;
    rig_init(&r, 2 * CYC, 32, 0, 0);
    for (int i = 0; i < 40; i++)
        rig_msg(&r, 0, 100);
    rig_run(&r);
    for (int i = 0; i < 40; i++)
        cr_expect_eq(r.arrived[i], (cs_ps)(4 * (i + 1) + 2) * CYC, "message %d", i);
    rig_fini(&r);
}

Test(link, unlimited_bandwidth_is_latency_alone)
{
    rig r;
    rig_init(&r, 7 * CYC, 0, 0, 0);
    for (int i = 0; i < 10; i++)
        rig_msg(&r, 1234, 4096);
    rig_run(&r);
    for (int i = 0; i < 10; i++)
        cr_expect_eq(r.arrived[i], 1234 + 7 * CYC);
    rig_fini(&r);
}

Test(link, back_pressure_and_credits)
{
    /* Capacity 2, 16 B/cycle, latency 5 ns; the receiver holds each message 10 ns.
     * A (16 B) at 0: [0, 1), arrives 6, released 16.   B at 0: [1, 2), arrives 7, released 17.
     * C at 0: refused (2 in flight). A's release at 16 ns returns a credit (same instant): C
     * is sent at 16: [16, 17), arrives 22, released 32.  D at 0: refused again (B, C in
     * flight); B's release at 17: D [17, 18), arrives 23.  E at 40 ns
     * (C released at 32, D at 33, so nothing is in flight): sent at 40, arrives 46. */
    rig r;
    rig_init(&r, 5 * CYC, 16, 2, 10 * CYC);
    for (int i = 0; i < 4; i++)
        rig_msg(&r, 0, 16);
    rig_msg(&r, 40 * CYC, 16);
    rig_run(&r);
    const cs_ps want[] = {6 * CYC, 7 * CYC, 22 * CYC, 23 * CYC, 46 * CYC};
    for (int i = 0; i < 5; i++)
        cr_expect_eq(r.arrived[i], want[i], "message %d arrives at %llu ps (got %llu)", i, (unsigned long long)want[i],
                     (unsigned long long)r.arrived[i]);
    cr_expect_eq(r.sent_at[2], 16 * CYC, "C leaves when A is released");
    cr_expect_eq(r.sent_at[3], 17 * CYC, "D leaves when B is released");
    const cs_link_stats *st = cs_link_get_stats(r.link);
    cr_expect_eq(st->max_inflight, 2, "never more than the capacity in flight");
    cr_expect_eq(st->refused, (uint64_t)r.refusals);
    cr_expect_geq(r.refusals, 2);
    cr_expect_eq(r.credits, 2, "one credit callback per refusal episode");
    cr_expect_eq(cs_link_inflight(r.link), 0, "everything released at the end");
    rig_fini(&r);
}

Test(link, send_at_a_later_ready_time)
{
    /* try_send_at takes the credit now and departs at max(t_ready, link free): a message
     * handed over at 0 but ready at 10 ns on a 16 B/cycle, 1 ns link takes cycle [10, 11) and
     * arrives at 12 ns; a second, ready at 0, waits for the serialiser: [11, 12), arrives 13 ns;
     * a third would take [12, 13) and arrive at 14 ns. */
    rig r;
    rig_init(&r, 1 * CYC, 16, 0, 0);
    cr_assert(cs_port_try_send_at(&r.out, 10 * CYC, NULL, 0, 16));
    cr_assert(cs_port_try_send_at(&r.out, 0, NULL, 1, 16));
    cr_expect_eq(cs_port_arrival_if_sent(&r.out, 16), 14 * CYC, "a third would arrive after the two");
    r.n = 2;
    rig_run(&r);
    cr_expect_eq(r.arrived[0], 12 * CYC);
    cr_expect_eq(r.arrived[1], 13 * CYC);
    rig_fini(&r);
}

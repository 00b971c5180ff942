/* test_port — links between mock ports: serialisation on the link's clock and latency against
 * the plain clock conversions (power-of-two and other widths, messages of one and of several
 * cycles, idle gaps and back-to-back sends, departures held to a ready time), the arrival a
 * sender may ask for beforehand, capacity, and credits returned through the queue. */
#include <criterion/criterion.h>

#include "alloc.h"
#include "engine.h"
#include "hash.h"
#include "port.h"

typedef struct sink {
    cs_engine *eng;
    cs_port in;
    cs_ps *got; /* arrival time per message id */
    size_t n;
    bool hold;  /* keep messages (no release) */
} sink;

static void sink_recv(void *owner, cs_port *in, void *ptr, uint64_t id)
{
    (void)ptr;
    sink *s = owner;
    s->got[id] = cs_engine_now(s->eng);
    s->n++;
    if (!s->hold)
        cs_port_release(in);
}

typedef struct source {
    cs_engine *eng;
    cs_port out;
    cs_rng rng;
    uint32_t bpc, left, next_id;
    cs_ps lat, free_ps;
    const cs_clock *clk;
    cs_ps *want; /* expected arrival per id, from the reference */
    int credits;
} source;

/* The reference: serialisation starts at the first edge at or after max(ready, link free) and
 * lasts ceil(bytes / bpc) cycles (at least one edge on); delivery is latency later. */
static cs_ps reference(source *s, cs_ps ready, uint32_t bytes)
{
    cs_ps t = ready > s->free_ps ? ready : s->free_ps;
    uint64_t c0 = cs_clock_cycle_at(s->clk, t);
    uint64_t cycles = (bytes + s->bpc - 1) / s->bpc;
    s->free_ps = cs_clock_ps(s->clk, c0 + (cycles ? cycles : 1));
    return s->free_ps + s->lat;
}

static void send_some(void *ctx, void *ptr, uint64_t arg)
{
    (void)ptr;
    (void)arg;
    source *s = ctx;
    if (!s->left)
        return;
    cs_ps now = cs_engine_now(s->eng);
    uint32_t bytes = (uint32_t)cs_rng_below(&s->rng, 5 * s->bpc);
    cs_ps ready = now + (cs_rng_below(&s->rng, 3) == 0 ? cs_rng_below(&s->rng, 5000) : 0);
    cs_ps ask = cs_port_arrival_if_sent(&s->out, bytes);
    cs_ps want = reference(s, ready, bytes);
    if (ready == now)
        cr_assert_eq(ask, want, "arrival_if_sent");
    s->want[s->next_id] = want;
    cr_assert(cs_port_try_send_at(&s->out, ready, NULL, s->next_id++, bytes));
    s->left--;
    /* next send: back to back, soon, or after an idle gap */
    uint64_t k = cs_rng_below(&s->rng, 3);
    cs_ps gap = k == 0 ? 0 : k == 1 ? cs_rng_below(&s->rng, 3000) : cs_rng_below(&s->rng, 200000);
    cs_engine_post(s->eng, now + gap, CS_PRIO_DEFAULT, send_some, s, NULL, 0);
}

static void timing_case(uint64_t freq_khz, uint32_t bpc, cs_ps lat, uint64_t seed)
{
    enum { N = 20000 };
    cs_engine *e = cs_engine_create();
    cs_engine_set_watchdog(e, 0, 0);
    cs_clock clk = {freq_khz};
    sink k = {.eng = e, .got = cs_calloc(N, sizeof(cs_ps))};
    source s = {.eng = e, .bpc = bpc, .left = N, .lat = lat, .clk = &clk,
                .want = cs_calloc(N, sizeof(cs_ps))};
    cs_rng_seed(&s.rng, seed);
    cs_port_init_in(&k.in, &k, sink_recv, 0);
    cs_port_init_out(&s.out, &s, NULL, 0);
    cs_link_params lp = {.latency_ps = lat, .bytes_per_cycle = bpc, .clock = &clk, .capacity = 0};
    cs_link *l = cs_link_create(e, "t", &lp, &s.out, &k.in);
    cs_engine_post(e, 123, CS_PRIO_DEFAULT, send_some, &s, NULL, 0);
    cr_assert_eq(cs_engine_run(e, CS_PS_NEVER, NULL), CS_OK);
    cr_assert_eq(k.n, N);
    for (size_t i = 0; i < N; i++)
        cr_assert_eq(k.got[i], s.want[i], "f %llu bpc %u message %zu: arrived %llu, want %llu",
                     (unsigned long long)freq_khz, bpc, i, (unsigned long long)k.got[i],
                     (unsigned long long)s.want[i]);
    cr_expect_eq(cs_link_get_stats(l)->msgs, N);
    cs_link_destroy(l);
    cs_free(k.got);
    cs_free(s.want);
    cs_engine_destroy(e);
}

Test(port, serialisation_and_latency_match_the_clock)
{
    timing_case(1410000, 64, 709, 1);
    timing_case(1410000, 32, 14184, 2);
    timing_case(1215000, 48, 100000, 3); /* a width that is not a power of two */
    timing_case(1000000, 1, 1000, 4);    /* many cycles per message */
    timing_case(7, 16, 5, 5);            /* a clock slower than the gaps */
}

static void credit_cb(void *owner, cs_port *out)
{
    (void)out;
    source *s = owner;
    s->credits++;
}

static void release_one(void *ctx, void *ptr, uint64_t arg)
{
    (void)ptr;
    (void)arg;
    sink *k = ctx;
    cs_port_release(&k->in);
    cs_port_release(&k->in); /* two releases, one credit callback */
}

Test(port, capacity_refuses_and_credits_come_through_the_queue)
{
    cs_engine *e = cs_engine_create();
    cs_clock clk = {1000000};
    sink k = {.eng = e, .got = cs_calloc(8, sizeof(cs_ps)), .hold = true};
    source s = {.eng = e};
    cs_port_init_in(&k.in, &k, sink_recv, 0);
    cs_port_init_out(&s.out, &s, credit_cb, 0);
    cs_link_params lp = {.latency_ps = 100, .bytes_per_cycle = 0, .clock = &clk, .capacity = 2};
    cs_link *l = cs_link_create(e, "cap", &lp, &s.out, &k.in);
    cr_assert(cs_port_try_send(&s.out, NULL, 0, 8));
    cr_assert(cs_port_try_send(&s.out, NULL, 1, 8));
    cr_assert(!cs_port_try_send(&s.out, NULL, 2, 8));
    cr_expect_eq(cs_link_get_stats(l)->refused, 1);
    cr_expect(!cs_port_can_send(&s.out));
    cr_assert_eq(cs_engine_run(e, CS_PS_NEVER, NULL), CS_OK);
    cr_expect_eq(k.n, 2);
    cr_expect_eq(k.got[0], 100);
    cr_expect_eq(k.got[1], 100); /* no bandwidth limit: both at once */
    cr_expect_eq(cs_link_inflight(l), 2);
    cs_engine_post(e, 500, CS_PRIO_DEFAULT, release_one, &k, NULL, 0);
    cr_assert_eq(cs_engine_run(e, 499, NULL), CS_OK);
    cr_expect_eq(s.credits, 0);
    cr_assert_eq(cs_engine_run(e, CS_PS_NEVER, NULL), CS_OK);
    cr_expect_eq(s.credits, 1, "the credit runs later, once");
    cr_expect_eq(cs_link_inflight(l), 0);
    cr_expect(cs_port_can_send(&s.out));
    cs_link_destroy(l);
    cs_free(k.got);
    cs_engine_destroy(e);
}

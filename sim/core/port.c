/* port — link timing and credits. One posted engine event per delivered message, addressed to
 * the receiving port itself (the link is not needed to deliver). The fields a send touches come
 * first in the link, so that a send reads one or two cache lines of it. */
#include "port.h"

#include "alloc.h"
#include "check.h"

struct cs_link {
    cs_engine *eng;
    cs_port *dst;
    cs_ps tx_free_ps;   /* when the serialiser is next free */
    uint32_t inflight;  /* sent and not yet released */
    uint32_t bpc_shift; /* log2(bytes_per_cycle) when that is a power of two, else UINT32_MAX */
    bool sender_waiting;
    bool credit_posted; /* a credit event is queued: later releases need not post another */
    cs_link_params p;
    cs_clock_cursor cursor;
    cs_link_stats st;
    cs_port *src;
    char *name;
};

void cs_port_init_in(cs_port *p, void *owner, cs_recv_fn recv, uint32_t id)
{
    *p = (cs_port){.owner = owner, .recv = recv, .id = id};
}

void cs_port_init_out(cs_port *p, void *owner, cs_credit_fn credit, uint32_t id)
{
    *p = (cs_port){.owner = owner, .credit = credit, .id = id};
}

cs_link *cs_link_create(cs_engine *eng, const char *name, const cs_link_params *params,
                        cs_port *src, cs_port *dst)
{
    CS_ASSERT(params->bytes_per_cycle == 0 || params->clock);
    CS_ASSERT(dst->recv && !src->link && !dst->link);
    cs_link *l = cs_calloc(1, sizeof *l);
    l->eng = eng;
    l->name = cs_strdup(name);
    l->p = *params;
    l->src = src;
    l->dst = dst;
    l->bpc_shift = UINT32_MAX;
    for (uint32_t k = 0; k < 32; k++)
        if (params->bytes_per_cycle == 1u << k)
            l->bpc_shift = k;
    src->link = l;
    dst->link = l;
    return l;
}

void cs_link_destroy(cs_link *l)
{
    if (!l)
        return;
    cs_free(l->name);
    cs_free(l);
}

static void deliver(void *ctx, void *ptr, uint64_t arg)
{
    cs_port *in = ctx;
    in->recv(in->owner, in, ptr, arg);
}

static void credit(void *ctx, void *ptr, uint64_t arg)
{
    (void)ptr;
    (void)arg;
    cs_link *l = ctx;
    l->credit_posted = false;
    if (l->sender_waiting && (!l->p.capacity || l->inflight < l->p.capacity)) {
        l->sender_waiting = false;
        if (l->src->credit)
            l->src->credit(l->src->owner, l->src);
    }
}

/* Start and end of serialisation for a message of `bytes` offered at `now`. */
static cs_ps tx_end(cs_link *l, cs_ps now, uint32_t bytes, cs_ps *start)
{
    cs_ps t = now > l->tx_free_ps ? now : l->tx_free_ps;
    if (!l->p.bytes_per_cycle) {
        *start = t;
        return t;
    }
    cs_clock_cursor_at(l->p.clock, &l->cursor, t, start);
    if (bytes <= l->p.bytes_per_cycle)
        return l->cursor.next;
    uint64_t cycles = l->bpc_shift != UINT32_MAX
                          ? ((uint64_t)bytes + l->p.bytes_per_cycle - 1) >> l->bpc_shift
                          : ((uint64_t)bytes + l->p.bytes_per_cycle - 1) / l->p.bytes_per_cycle;
    return cs_clock_cursor_after(l->p.clock, &l->cursor, cycles);
}

bool cs_port_can_send(cs_port *out)
{
    cs_link *l = out->link;
    if (!l->p.capacity || l->inflight < l->p.capacity)
        return true;
    l->sender_waiting = true;
    return false;
}

bool cs_port_try_send(cs_port *out, void *ptr, uint64_t arg, uint32_t bytes)
{
    return cs_port_try_send_at(out, cs_engine_now(out->link->eng), ptr, arg, bytes);
}

bool cs_port_try_send_at(cs_port *out, cs_ps t_ready, void *ptr, uint64_t arg, uint32_t bytes)
{
    cs_link *l = out->link;
    if (l->p.capacity && l->inflight >= l->p.capacity) {
        l->sender_waiting = true;
        l->st.refused++;
        return false;
    }
    cs_ps now = cs_engine_now(l->eng), start;
    cs_ps end = tx_end(l, t_ready > now ? t_ready : now, bytes, &start);
    l->tx_free_ps = end;
    l->st.busy_ps += end - start;
    l->st.msgs++;
    l->st.bytes += bytes;
    if (++l->inflight > l->st.max_inflight)
        l->st.max_inflight = l->inflight;
    cs_engine_post(l->eng, end + l->p.latency_ps, CS_PRIO_DEFAULT, deliver, l->dst, ptr, arg);
    return true;
}

cs_ps cs_port_arrival_if_sent(const cs_port *out, uint32_t bytes)
{
    cs_link *l = out->link;
    cs_ps start;
    return tx_end(l, cs_engine_now(l->eng), bytes, &start) + l->p.latency_ps;
}

void cs_port_release(cs_port *in)
{
    cs_link *l = in->link;
    CS_ASSERT(l->inflight > 0);
    l->inflight--;
    /* The credit reaches the sender through the queue, never by a nested call: a sender that
     * sends from its credit callback must not re-enter the receiver that is releasing. */
    if (l->sender_waiting && !l->credit_posted) {
        l->credit_posted = true;
        cs_engine_post(l->eng, cs_engine_now(l->eng), CS_PRIO_DEFAULT, credit, l, NULL, 0);
    }
}

const cs_link_stats *cs_link_get_stats(const cs_link *l) { return &l->st; }
cs_link_stats *cs_link_stats_ptr(cs_link *l) { return &l->st; }
const char *cs_link_name(const cs_link *l) { return l->name; }
uint32_t cs_link_inflight(const cs_link *l) { return l->inflight; }

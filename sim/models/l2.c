/* l2 — one slice. Requests wait in the input FIFO for the tag pipeline (one embedded event,
 * armed while the FIFO is non-empty); responses leave through cs_port_try_send_at with the
 * time they are ready, so a hit costs one pipeline event and no timer. */
#include "l2.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "check.h"
#include "tags.h"

static void check_l2(const void *params, cs_cfg_check *chk)
{
    const cs_l2_params *p = params;
    uint64_t per = p->slices ? p->size_bytes / (uint64_t)p->slices : 0;
    if (!p->slices || p->size_bytes % ((uint64_t)p->slices * (uint64_t)p->assoc * CS_LINE_BYTES))
        cs_cfg_fail2(chk, "size", "slices",
                     "must divide into slices x assoc x 128-byte lines (got %llu B over %lld slices, %lld ways)",
                     (unsigned long long)p->size_bytes, (long long)p->slices, (long long)p->assoc);
    else if (p->interleave_bytes & (p->interleave_bytes - 1) || p->interleave_bytes % CS_LINE_BYTES)
        cs_cfg_fail(chk, "interleave", "must be a power of two of at least 128 bytes (got %llu)",
                    (unsigned long long)p->interleave_bytes);
    else if (per / CS_LINE_BYTES < (uint64_t)p->assoc)
        cs_cfg_fail2(chk, "size", "assoc", "gives fewer lines per slice than ways (got %llu B per slice)",
                     (unsigned long long)per);
}

static const cs_cfg_key l2_keys[] = {
    CS_CFG_K(cs_l2_params, size_bytes, "size", CS_CFG_BYTES, false, "40MiB", 4096, 1e12, "bytes",
             "total L2 capacity (sectored 128-byte lines of four 32-byte sectors)"),
    CS_CFG_K(cs_l2_params, slices, "slices", CS_CFG_INT, false, "80", 1, 4096, "slices",
             "L2 slices; an address hash spreads lines over them"),
    CS_CFG_K(cs_l2_params, assoc, "assoc", CS_CFG_INT, false, "16", 1, 256, "ways", "set associativity"),
    CS_CFG_K(cs_l2_params, hit_latency_cycles, "hit_latency", CS_CFG_INT, false, "150", 1, 100000, "cycles",
             "from the tag lookup to the response leaving the slice (the crossbar adds its own)"),
    CS_CFG_K(cs_l2_params, bytes_per_cycle, "bytes_per_cycle", CS_CFG_INT, false, "64", 1, 4096, "B/cycle",
             "data-array port width of one slice"),
    CS_CFG_K(cs_l2_params, lookups_per_cycle, "lookups_per_cycle", CS_CFG_INT, false, "1", 1, 16, "requests",
             "tag lookups per cycle"),
    CS_CFG_K(cs_l2_params, mshrs, "mshrs", CS_CFG_INT, false, "256", 1, 65536, "entries",
             "outstanding line misses per slice"),
    CS_CFG_K(cs_l2_params, mshr_targets, "mshr_targets", CS_CFG_INT, false, "16", 1, 1024, "requests",
             "requests merged into one outstanding miss"),
    CS_CFG_K(cs_l2_params, input_queue, "input_queue", CS_CFG_INT, false, "32", 1, 65536, "requests",
             "requests buffered at the slice input (back-pressure beyond)"),
    CS_CFG_K(cs_l2_params, mem_latency_ps, "mem_latency", CS_CFG_TIME, false, "100ns", 0, 1e9, "ps",
             "one-way latency between a slice and its DRAM controller (interface, PHY)"),
    CS_CFG_K(cs_l2_params, interleave_bytes, "interleave", CS_CFG_BYTES, false, "1KiB", 128, 1048576, "bytes",
             "consecutive bytes mapped to one slice and its DRAM channel (a power of two; one DRAM row "
             "keeps streaming accesses on an open row)"),
    CS_CFG_K(cs_l2_params, ideal, "ideal", CS_CFG_BOOL, false, "false", 1, 0, "",
             "ideal variant: every access hits after ideal_latency, unlimited bandwidth, no DRAM"),
    CS_CFG_K(cs_l2_params, ideal_latency_ps, "ideal_latency", CS_CFG_TIME, false, "100ns", 0, 1e12, "ps",
             "latency of the ideal variant"),
    CS_CFG_K(cs_l2_params, bypass, "bypass", CS_CFG_BOOL, false, "false", 1, 0, "",
             "no L2 at all: every request goes to DRAM and no L2 action is counted"),
};
const cs_cfg_schema cs_l2_schema =
    CS_CFG_SCHEMA("l2", cs_l2_params, l2_keys, check_l2,
                  "The L2 cache: slices with their own tags, MSHRs and DRAM channel.");

enum { STALL_LOG = 64 };

typedef struct mshr {
    uint64_t key, addr;
    uint8_t pending;  /* sectors asked of DRAM and not yet arrived */
    uint8_t arrived;  /* sectors that arrived (waiters are served from these) */
    bool used;
    uint32_t ntargets;
    int32_t chain;    /* next MSHR in the hash bucket, -1 = end */
    cs_req *head, *tail;
} mshr;

typedef struct fifo {
    cs_req *head, *tail;
    uint32_t len;
} fifo;

/* A weight write waiting in a macro's queue. */
typedef struct cim_wr {
    uint64_t offset, bytes;
    uint32_t seq, uses;
    bool resident;
} cim_wr;

typedef struct cim_macro {
    /* critical paths (cpath.h): the tile's write completion, the latest operation, the
     * controller's latest decision (what the next write follows), the write in progress */
    cs_cpl tile, busy, ctl, wr;
    cim_wr *q;
    size_t qn, qcap, qi;     /* queued writes, next one */
    bool writing;
    uint32_t seq, uses_left; /* the tile it holds and the requests still to serve with it */
    bool has_tile;
    uint32_t lines_left;     /* of the write in progress */
    cs_ps t_end;
    cs_req *wait_head;       /* requests for later tiles */
} cim_macro;

struct cs_l2 {
    cs_component base;
    cs_l2_params p;
    uint32_t slice;
    const cs_addrmap *map;
    const cs_clock *clk;
    cs_req_pool *pool;
    cs_cpath *cpa;
    cs_port in, out, mem_out, mem_in;
    cs_tags *tags;
    fifo inq, outq, memq;
    cs_event tag_ev;
    cs_ps tag_free, data_free, stall_since;
    cs_ps stalled_ps;     /* time the tag pipeline has spent stalled for want of an MSHR */
    struct {              /* the latest stall starts and ends: (time, stalled_ps then) */
        cs_ps t, s;
    } stall_log[STALL_LOG];
    uint32_t stall_logged;
    bool stalled;
    bool data_cim;        /* the data port's latest reservation is a CiM macro's share */
    mshr *mshrs;
    uint64_t *mshr_free_bits; /* bit i set = MSHR i free (the lowest free one is taken) */
    int32_t *bucket;
    uint32_t nbuckets, mshr_used;
    cs_l2_counts c;
    cs_hist miss_latency;
    cs_cim_group *cim;
    cim_macro *cm;
    uint32_t cim_macros;
};

static void push(fifo *q, cs_req *r)
{
    r->next = NULL;
    if (q->tail)
        q->tail->next = r;
    else
        q->head = r;
    q->tail = r;
    q->len++;
}

static cs_req *pop(fifo *q)
{
    cs_req *r = q->head;
    q->head = r->next;
    if (!q->head)
        q->tail = NULL;
    q->len--;
    r->next = NULL;
    return r;
}

static void push_front(fifo *q, cs_req *r)
{
    r->next = q->head;
    q->head = r;
    if (!q->tail)
        q->tail = r;
    q->len++;
}

static uint64_t cycles_for(const cs_l2 *l2, uint64_t bytes)
{
    return (bytes + (uint64_t)l2->p.bytes_per_cycle - 1) / (uint64_t)l2->p.bytes_per_cycle;
}

/* Time the tag pipeline had been stalled on MSHRs up to t (now or a recent past time: the log
 * holds the latest STALL_LOG stall starts and ends; earlier times read as the oldest entry).
 * A request that waited to reach its lookup while the slice was stalled waited on DRAM (the
 * attribution). */
static cs_ps stalled_until(const cs_l2 *l2, cs_ps t)
{
    if (!l2->stall_logged)
        return 0;
    uint32_t n = l2->stall_logged < STALL_LOG ? l2->stall_logged : STALL_LOG;
    for (uint32_t i = 0; i < n; i++) { /* newest first */
        uint32_t k = (l2->stall_logged - 1 - i) % STALL_LOG;
        if (l2->stall_log[k].t <= t || i + 1 == n) {
            bool start = (l2->stall_logged - 1 - i) % 2 == 0; /* entries alternate: start, end */
            cs_ps at = l2->stall_log[k].t;
            return l2->stall_log[k].s + (start && t > at ? t - at : 0);
        }
    }
    return 0;
}

static void log_stall(cs_l2 *l2, cs_ps t)
{
    uint32_t k = l2->stall_logged++ % STALL_LOG;
    l2->stall_log[k].t = t;
    l2->stall_log[k].s = l2->stalled_ps;
}

/* Reserves the data port for `bytes` of request r and returns when the transfer ends; a wait
 * behind a CiM macro's share of the port is stamped on r as contention. */
static cs_ps data_port(cs_l2 *l2, cs_req *r, cs_ps now, uint64_t bytes)
{
    if (l2->data_cim && l2->data_free > now)
        r->cont_ps += l2->data_free - now;
    l2->data_cim = false;
    cs_ps start = now > l2->data_free ? now : l2->data_free;
    uint64_t n = cycles_for(l2, bytes);
    l2->data_free = cs_clock_after(l2->clk, start, n);
    l2->c.data_busy_cycles += n;
    return l2->data_free;
}

/* ---- sending ------------------------------------------------------------------------------ */

static void drain_out(cs_l2 *l2)
{
    cs_ps now = cs_engine_now(l2->base.eng);
    while (l2->outq.head) {
        cs_req *r = l2->outq.head; /* t_stamp: when it is ready to leave (respond) */
        if (!cs_port_try_send_at(&l2->out, r->t_stamp > now ? r->t_stamp : now, r, 0, cs_req_wire_bytes(r)))
            return;
        pop(&l2->outq);
    }
}

static void respond(cs_l2 *l2, cs_req *r, cs_ps t_ready);

static void respond_now(void *ctx, void *ptr, uint64_t arg)
{
    (void)arg;
    cs_l2 *l2 = ctx;
    respond(l2, ptr, cs_engine_now(l2->base.eng));
}

/* Sends r back up (or frees a posted write) no earlier than t_ready. A CiM response joins the
 * output queue only when its compute ends: queued earlier, its future send time would hold the
 * port, and every response behind it, until then. */
static void respond(cs_l2 *l2, cs_req *r, cs_ps t_ready)
{
    if (r->kind == CS_REQ_WRITE && r->no_ack) {
        cs_req_free(l2->pool, r);
        return;
    }
    if (r->kind == CS_REQ_CIM && t_ready > cs_engine_now(l2->base.eng)) {
        cs_engine_post(l2->base.eng, t_ready, CS_PRIO_DEFAULT, respond_now, l2, r, 0);
        return;
    }
    r->is_resp = true;
    if (r->kind == CS_REQ_READ)
        l2->c.bytes_out += cs_req_data_bytes(r);
    r->t_stamp = t_ready; /* a response that waits for credit still leaves no earlier */
    if (l2->outq.head || !cs_port_try_send_at(&l2->out, t_ready, r, 0, cs_req_wire_bytes(r)))
        push(&l2->outq, r);
}

static void drain_mem(cs_l2 *l2)
{
    while (l2->memq.head) {
        cs_req *r = l2->memq.head;
        if (!cs_port_try_send(&l2->mem_out, r, 0, cs_req_wire_bytes(r)))
            return;
        pop(&l2->memq);
        if (r->kind == CS_REQ_READ)
            l2->c.dram_bytes_read += cs_req_data_bytes(r);
        else
            l2->c.dram_bytes_written += cs_req_data_bytes(r);
    }
}

static void to_dram(cs_l2 *l2, cs_req *r)
{
    push(&l2->memq, r);
    drain_mem(l2);
}

static void writeback(cs_l2 *l2, uint64_t key, uint8_t dirty)
{
    cs_req *w = cs_req_alloc(l2->pool);
    w->kind = CS_REQ_WRITE;
    w->no_ack = true;
    w->addr = cs_addrmap_line_addr(l2->map, l2->slice, key);
    w->sectors = dirty;
    w->src = UINT16_MAX;
    w->t_issue = cs_engine_now(l2->base.eng);
    uint32_t n = cs_sectors_count(dirty);
    l2->c.read += n; /* the victim's data is read out of the array */
    l2->c.writeback_sectors += n;
    to_dram(l2, w);
}

/* The line for key, allocating (and evicting) if absent. */
static cs_tag_line *allocate(cs_l2 *l2, uint64_t key)
{
    cs_tag_line *line = cs_tags_find(l2->tags, key);
    if (line) { /* a write or fill to a present line is a use: it becomes the most recent */
        cs_tags_touch(l2->tags, line);
        return line;
    }
    line = cs_tags_victim(l2->tags, key);
    if (line->valid) {
        l2->c.evictions++;
        if (line->dirty)
            writeback(l2, line->key, line->dirty);
    }
    cs_tags_install(l2->tags, line, key);
    return line;
}

/* ---- MSHRs -------------------------------------------------------------------------------- */

static int32_t mshr_find(cs_l2 *l2, uint64_t key)
{
    for (int32_t i = l2->bucket[key & (l2->nbuckets - 1)]; i >= 0; i = l2->mshrs[i].chain)
        if (l2->mshrs[i].key == key)
            return i;
    return -1;
}

static int32_t mshr_alloc(cs_l2 *l2, uint64_t key, uint64_t addr)
{
    for (uint32_t w = 0; w * 64 < (uint32_t)l2->p.mshrs; w++) {
        if (!l2->mshr_free_bits[w])
            continue;
        int32_t i = (int32_t)(w * 64 + (uint32_t)__builtin_ctzll(l2->mshr_free_bits[w]));
        l2->mshr_free_bits[w] &= l2->mshr_free_bits[w] - 1;
        mshr *m = &l2->mshrs[i];
        *m = (mshr){.key = key, .addr = addr, .used = true};
        m->chain = l2->bucket[key & (l2->nbuckets - 1)];
        l2->bucket[key & (l2->nbuckets - 1)] = i;
        l2->mshr_used++;
        return i;
    }
    return -1;
}

static void mshr_free(cs_l2 *l2, int32_t idx)
{
    mshr *m = &l2->mshrs[idx];
    int32_t *link = &l2->bucket[m->key & (l2->nbuckets - 1)];
    while (*link != idx)
        link = &l2->mshrs[*link].chain;
    *link = m->chain;
    m->used = false;
    l2->mshr_free_bits[idx / 64] |= 1ull << (idx % 64);
    l2->mshr_used--;
}

static void ask_dram(cs_l2 *l2, int32_t idx, uint8_t sectors)
{
    mshr *m = &l2->mshrs[idx];
    cs_req *d = cs_req_alloc(l2->pool);
    d->kind = CS_REQ_READ;
    d->addr = m->addr;
    d->sectors = sectors;
    d->tag = (uint32_t)idx;
    d->src = UINT16_MAX;
    d->t_issue = cs_engine_now(l2->base.eng);
    m->pending |= sectors;
    to_dram(l2, d);
}

/* ---- the tag pipeline --------------------------------------------------------------------- */

/* Handles the request at the head of the input FIFO. Returns false (leaving it there) when it
 * needs an MSHR and none is free. */
static bool lookup(cs_l2 *l2, cs_req *r, cs_ps now)
{
    uint64_t key = cs_addrmap_slice_key(l2->map, r->addr);
    cs_tag_line *line = cs_tags_find(l2->tags, key);
    uint8_t have = line ? line->valid : 0;
    uint32_t bytes = cs_req_data_bytes(r);
    uint32_t sectors = cs_sectors_count(r->sectors);
    cs_ps t_lat = cs_clock_after(l2->clk, now, (uint64_t)l2->p.hit_latency_cycles);

    if (r->kind == CS_REQ_WRITE) {
        line = allocate(l2, key);
        line->valid |= r->sectors;
        line->dirty |= r->sectors;
        l2->c.write += sectors;
        l2->c.wr++;
        l2->c.bytes_in += bytes;
        cs_ps t = data_port(l2, r, now, bytes);
        respond(l2, r, t > t_lat ? t : t_lat);
        return true;
    }
    if ((have & r->sectors) == r->sectors) {
        cs_tags_touch(l2->tags, line);
        l2->c.read += sectors;
        if (r->kind == CS_REQ_REDUCE) {
            line->dirty |= r->sectors;
            l2->c.write += sectors;
            l2->c.red++;
            l2->c.bytes_in += bytes;
        } else {
            l2->c.rd_hit++;
        }
        cs_ps t = data_port(l2, r, now, bytes);
        respond(l2, r, t > t_lat ? t : t_lat);
        return true;
    }
    int32_t idx = mshr_find(l2, key);
    if (idx >= 0 && l2->mshrs[idx].ntargets >= (uint32_t)l2->p.mshr_targets)
        return false;
    if (idx < 0 && (idx = mshr_alloc(l2, key, r->addr & ~(uint64_t)(CS_LINE_BYTES - 1))) < 0)
        return false;
    mshr *m = &l2->mshrs[idx];
    if (m->ntargets)
        l2->c.mshr_merge++;
    if (r->kind == CS_REQ_READ)
        l2->c.rd_miss++;
    uint8_t need = (uint8_t)(r->sectors & ~have & ~m->pending & ~m->arrived);
    if (need)
        ask_dram(l2, idx, need);
    r->next = NULL;
    if (m->tail)
        m->tail->next = r;
    else
        m->head = r;
    m->tail = r;
    m->ntargets++;
    r->hop = (uint16_t)(have & r->sectors); /* sectors already present when it missed */
    r->t_stamp = now;                        /* from here it waits on DRAM */
    return true;
}

static void tag_stage(void *ctx, void *ptr, uint64_t arg)
{
    (void)ptr;
    (void)arg;
    cs_l2 *l2 = ctx;
    cs_ps now = cs_engine_now(l2->base.eng);
    for (int64_t i = 0; i < l2->p.lookups_per_cycle && l2->inq.head; i++) {
        cs_req *r = pop(&l2->inq); /* lookup may link r into an MSHR's list */
        l2->c.tag++;
        cs_ps issued = r->t_issue < now ? r->t_issue : now;
        r->dram_ps = 0;
        if (l2->stall_logged && (l2->stalled || l2->stall_log[(l2->stall_logged - 1) % STALL_LOG].t > issued))
            r->dram_ps = stalled_until(l2, now) - stalled_until(l2, issued); /* held up by a DRAM-bound stall */
        if (!lookup(l2, r, now)) {
            push_front(&l2->inq, r);
            l2->c.tag--; /* the lookup is retried when an MSHR frees */
            l2->stalled = true;
            l2->stall_since = now;
            log_stall(l2, now);
            cs_cpath_dram_stall(l2->cpa, true, now);
            return;
        }
        cs_port_release(&l2->in);
        cs_engine_progress(l2->base.eng);
    }
    l2->tag_free = cs_clock_after(l2->clk, now, 1);
    if (l2->inq.head)
        cs_engine_arm(l2->base.eng, &l2->tag_ev, l2->tag_free, CS_PRIO_DEFAULT, NULL, 0);
}

static void wake_pipeline(cs_l2 *l2)
{
    if (l2->stalled || cs_event_pending(&l2->tag_ev) || !l2->inq.head)
        return;
    cs_ps now = cs_engine_now(l2->base.eng);
    if (l2->tag_free <= now) {
        tag_stage(l2, NULL, 0); /* the pipeline is idle: look up now, no event needed */
        return;
    }
    cs_engine_arm(l2->base.eng, &l2->tag_ev, l2->tag_free, CS_PRIO_DEFAULT, NULL, 0);
}

static void cim_request(cs_l2 *l2, cs_req *r);

enum { BYPASS = UINT16_MAX - 2 }; /* src of a bypass DRAM request; ctx is the request it serves */

/* Bypass: a DRAM request for r's sectors (reads and reductions), or r forwarded (writes). */
static void bypass(cs_l2 *l2, cs_req *r)
{
    cs_req *d = cs_req_alloc(l2->pool);
    d->addr = r->addr;
    d->sectors = r->sectors;
    d->src = BYPASS;
    d->t_issue = cs_engine_now(l2->base.eng);
    if (r->kind == CS_REQ_WRITE) {
        d->kind = CS_REQ_WRITE;
        d->no_ack = true;
        l2->c.bytes_in += cs_req_data_bytes(r);
        to_dram(l2, d);
        respond(l2, r, cs_engine_now(l2->base.eng));
        return;
    }
    d->kind = CS_REQ_READ;
    d->ctx = r;
    to_dram(l2, d);
}

static void recv_req(void *owner, cs_port *in, void *ptr, uint64_t arg)
{
    (void)in;
    (void)arg;
    cs_l2 *l2 = owner;
    cs_req *r = ptr;
    r->t_stamp = cs_engine_now(l2->base.eng); /* arrival */
    if (l2->p.bypass && r->kind != CS_REQ_CIM) {
        cs_port_release(&l2->in);
        cs_engine_progress(l2->base.eng);
        bypass(l2, r);
        return;
    }
    if (r->kind == CS_REQ_CIM) {
        cs_port_release(&l2->in);
        cim_request(l2, r);
        return;
    }
    if (l2->p.ideal) {
        uint32_t n = cs_sectors_count(r->sectors);
        l2->c.tag++;
        if (r->kind == CS_REQ_READ) {
            l2->c.read += n;
            l2->c.rd_hit++;
        } else {
            l2->c.write += n;
            l2->c.bytes_in += cs_req_data_bytes(r);
            if (r->kind == CS_REQ_REDUCE) {
                l2->c.read += n;
                l2->c.red++;
            } else {
                l2->c.wr++;
            }
        }
        cs_port_release(&l2->in);
        cs_engine_progress(l2->base.eng);
        respond(l2, r, cs_engine_now(l2->base.eng) + l2->p.ideal_latency_ps);
        return;
    }
    cs_tags_prefetch(l2->tags, cs_addrmap_slice_key(l2->map, r->addr));
    push(&l2->inq, r);
    wake_pipeline(l2);
}

/* ---- CiM ---------------------------------------------------------------------------------- */

enum { CIM_FETCH = UINT16_MAX - 1 }; /* src of the slice's own weight fetches */

cs_ps cs_l2_occupy(void *ctx, uint32_t sub, cs_ps now, uint64_t cycles)
{
    (void)sub;
    cs_l2 *l2 = ctx;
    cs_ps start = now > l2->data_free ? now : l2->data_free;
    l2->data_free = cs_clock_after(l2->clk, start, cycles);
    l2->c.cim_port_cycles += cycles;
    l2->data_cim = true;
    return l2->data_free;
}

static void cim_serve(cs_l2 *l2, uint32_t mi);

/* The path of a macro operation (weight write or compute) asked for at t by work at path *p:
 * behind the macro's earlier operation, its own duration, then the rest of its share of the
 * data port (contention). The macro's path becomes *p. */
static void macro_path(cs_l2 *l2, cim_macro *m, uint32_t mi, cs_cpl *p, cs_ps t, cs_ps before, int cause)
{
    if (before > t)
        cs_cpl_later(l2->cpa, p, &m->busy);
    if (cause == CS_CAUSE_CIM)
        cs_cpath_mark_compute(l2->cpa, before > t ? before : t, cs_cim_free_at(l2->cim, mi));
    cs_cpl_push(l2->cpa, p, cause, cs_cim_own_end(l2->cim, mi));
    cs_cpl_push(l2->cpa, p, CS_CAUSE_CONTENTION, cs_cim_free_at(l2->cim, mi));
    cs_cpl_set(l2->cpa, &m->busy, p);
}

static void cim_next_write(cs_l2 *l2, uint32_t mi)
{
    cim_macro *m = &l2->cm[mi];
    if (m->writing || m->uses_left || m->qi == m->qn)
        return;
    cim_wr *w = &m->q[m->qi++];
    if (w->resident || !w->bytes) { /* resident weights: only the uses are new */
        m->seq = w->seq;
        m->uses_left = w->uses;
        m->has_tile = true;
        cim_serve(l2, mi);
        return;
    }
    m->writing = true;
    m->has_tile = false;
    uint64_t lines = (w->bytes + CS_LINE_BYTES - 1) / CS_LINE_BYTES, key0 = CS_L2_CIM_BASE_KEY + w->offset / CS_LINE_BYTES;
    m->lines_left = (uint32_t)lines;
    m->t_end = cs_engine_now(l2->base.eng);
    cs_cp base = cs_cpl_materialise(l2->cpa, &m->ctl); /* the fetch follows the controller's decision */
    for (uint64_t i = 0; i < lines; i++) {
        uint64_t left = w->bytes - i * CS_LINE_BYTES;
        uint32_t nsec = left >= CS_LINE_BYTES ? 4 : (uint32_t)((left + CS_SECTOR_BYTES - 1) / CS_SECTOR_BYTES);
        cs_req *d = cs_req_alloc(l2->pool);
        d->kind = CS_REQ_READ;
        d->addr = cs_addrmap_line_addr(l2->map, l2->slice, key0 + i);
        d->sectors = (uint8_t)((1u << nsec) - 1);
        d->src = CIM_FETCH;
        d->tag = mi;
        d->t_issue = cs_engine_now(l2->base.eng);
        d->cp = cs_cp_ref(l2->cpa, base);
        to_dram(l2, d);
    }
    cs_cp_release(l2->cpa, base);
}

static void cim_written(void *ctx, void *ptr, uint64_t mi)
{
    (void)ptr;
    cs_l2 *l2 = ctx;
    cim_macro *m = &l2->cm[mi];
    const cim_wr *w = &m->q[m->qi - 1];
    m->writing = false;
    m->has_tile = true;
    m->seq = w->seq;
    m->uses_left = w->uses;
    cs_cpl_move(l2->cpa, &m->tile, &m->wr);
    cs_cpl_set(l2->cpa, &m->ctl, &m->tile);
    cs_engine_progress(l2->base.eng);
    cim_serve(l2, (uint32_t)mi);
    cim_next_write(l2, (uint32_t)mi);
}

static void cim_fill(cs_l2 *l2, cs_req *d)
{
    uint32_t mi = d->tag;
    cim_macro *m = &l2->cm[mi];
    uint32_t n = cs_sectors_count(d->sectors);
    l2->c.cim_fetch_sectors += n;
    cs_ps now = cs_engine_now(l2->base.eng);
    cs_ps before = cs_cim_free_at(l2->cim, mi);
    cs_ps end = cs_cim_write(l2->cim, mi, (uint64_t)n * CS_SECTOR_BYTES, now);
    if (end > m->t_end)
        m->t_end = end;
    /* the line's path: fetched from DRAM, then written behind the macro's earlier work */
    cs_cpl lp = cs_cpl_of(l2->cpa, d->cp);
    d->cp = 0;
    cs_cpl_push(l2->cpa, &lp, CS_CAUSE_DRAM, now);
    macro_path(l2, m, mi, &lp, now, before, CS_CAUSE_CIM_WRITE);
    cs_cpl_later(l2->cpa, &m->wr, &lp);
    cs_cpl_clear(l2->cpa, &lp);
    cs_req_free(l2->pool, d);
    if (--m->lines_left == 0)
        cs_engine_post(l2->base.eng, m->t_end, CS_PRIO_DEFAULT, cim_written, l2, NULL, mi);
}

/* Computes every waiting request the macro's current tile can serve. */
static void cim_serve(cs_l2 *l2, uint32_t mi)
{
    cim_macro *m = &l2->cm[mi];
    cs_req **link = &m->wait_head;
    while (*link && m->uses_left && !m->writing && m->has_tile) {
        cs_req *r = *link;
        if (r->seq != m->seq) {
            link = &r->next;
            continue;
        }
        *link = r->next;
        uint64_t macs;
        cs_ps now = cs_engine_now(l2->base.eng);
        /* the request's path: sent by its SM, crossed to the slice, waited for the tile */
        cs_cpl p = cs_cpl_of(l2->cpa, r->cp);
        r->cp = 0;
        cs_cpl_push(l2->cpa, &p, CS_CAUSE_STAGING, r->t_issue);
        cs_cpl_push(l2->cpa, &p, CS_CAUSE_L2, r->t_stamp);
        cs_cpl_later(l2->cpa, &p, &m->tile);
        cs_cpl_push(l2->cpa, &p, CS_CAUSE_ISSUE, now);
        cs_ps before = cs_cim_free_at(l2->cim, mi);
        cs_ps t = cs_cim_compute(l2->cim, mi, r->rows, r->k, r->n, now, &macs);
        r->bytes = r->rows * r->n * 4;
        l2->c.cim_requests++;
        if (--m->uses_left == 0) /* the next write follows this last use */
            cs_cpl_set(l2->cpa, &m->ctl, &p);
        macro_path(l2, m, mi, &p, now, before, CS_CAUSE_CIM);
        r->cp = cs_cpl_materialise(l2->cpa, &p);
        cs_cpl_clear(l2->cpa, &p);
        respond(l2, r, t);
    }
    if (!m->uses_left)
        cim_next_write(l2, mi);
}

static void cim_request(cs_l2 *l2, cs_req *r)
{
    CS_ASSERT(l2->cim && r->macro < l2->cim_macros);
    cim_macro *m = &l2->cm[r->macro];
    r->next = NULL;
    cs_req **tail = &m->wait_head;
    while (*tail)
        tail = &(*tail)->next;
    *tail = r;
    cs_engine_progress(l2->base.eng);
    cim_serve(l2, r->macro);
}

void cs_l2_attach_cim(cs_l2 *l2, cs_cim_group *g)
{
    l2->cim = g;
    l2->cim_macros = cs_cim_group_macros(g);
    l2->cm = cs_calloc(l2->cim_macros, sizeof *l2->cm);
}

cs_status cs_l2_start_cim(cs_l2 *l2, cs_opsrc *src, uint32_t stream, cs_err *err)
{
    if (!l2->cim)
        return cs_err_add(err, CS_FORMAT, "stream %u: error: CiM stream for slice %u, which has no macros", stream,
                          l2->slice);
    for (uint32_t i = 0; i < l2->cim_macros; i++) {
        cim_macro *m = &l2->cm[i];
        m->qn = m->qi = 0;
        m->uses_left = 0;
        cs_cpl_clear(l2->cpa, &m->tile); /* paths start at the kernel's start */
        cs_cpl_clear(l2->cpa, &m->busy);
        cs_cpl_clear(l2->cpa, &m->ctl);
        cs_cpl_clear(l2->cpa, &m->wr);
    }
    for (uint64_t n = 0;; n++) {
        cs_op op;
        bool eof;
        cs_status st = cs_opsrc_next(src, stream, &op, &eof, err);
        if (st != CS_OK)
            return st;
        if (eof)
            break;
        if (op.kind != CS_OP_CIM_WRITE || op.x >= l2->cim_macros || op.addr % CS_LINE_BYTES)
            return cs_err_add(err, CS_FORMAT,
                              "stream %u op %llu: error: a slice controller stream holds only CIM_WRITE ops to its "
                              "%u macros at 128-byte offsets (got %s to macro %u)",
                              stream, (unsigned long long)n, l2->cim_macros, cs_op_kind_name(op.kind), op.x);
        cim_macro *m = &l2->cm[op.x];
        CS_GROW(m->q, m->qcap, m->qn + 1);
        m->q[m->qn++] = (cim_wr){.offset = op.addr, .bytes = (uint64_t)op.rows * op.row_bytes, .seq = op.seq,
                                 .uses = op.local, .resident = (op.flags & CS_OPF_ACCUM) != 0};
    }
    for (uint32_t i = 0; i < l2->cim_macros; i++)
        cim_next_write(l2, i);
    return CS_OK;
}

/* ---- fills from DRAM ---------------------------------------------------------------------- */

static void cim_fill(cs_l2 *l2, cs_req *d);

static void recv_fill(void *owner, cs_port *in, void *ptr, uint64_t arg)
{
    (void)in;
    (void)arg;
    cs_l2 *l2 = owner;
    cs_req *d = ptr;
    cs_ps now = cs_engine_now(l2->base.eng);
    cs_port_release(&l2->mem_in);
    if (d->kind != CS_REQ_READ) { /* an acknowledged write: nothing waits on it */
        cs_req_free(l2->pool, d);
        return;
    }
    if (d->src == CIM_FETCH) {
        cim_fill(l2, d);
        return;
    }
    if (d->src == BYPASS) {
        cs_req *r = d->ctx;
        l2->c.fill_sectors += cs_sectors_count(d->sectors);
        if (r->kind == CS_REQ_REDUCE) { /* read-modify-write straight to DRAM */
            d->kind = CS_REQ_WRITE;
            d->is_resp = false;
            d->no_ack = true;
            d->ctx = NULL;
            l2->c.bytes_in += cs_req_data_bytes(r);
            to_dram(l2, d);
        } else {
            cs_req_free(l2->pool, d);
        }
        r->dram_ps = now - r->t_stamp;
        respond(l2, r, cs_engine_now(l2->base.eng));
        cs_engine_progress(l2->base.eng);
        return;
    }
    int32_t idx = (int32_t)d->tag;
    mshr *m = &l2->mshrs[idx];
    CS_ASSERT(m->used && (m->pending & d->sectors) == d->sectors);
    cs_hist_add(&l2->miss_latency, cs_clock_cycles_floor(l2->clk, now - d->t_issue));
    m->pending &= (uint8_t)~d->sectors;
    m->arrived |= d->sectors;
    uint32_t n = cs_sectors_count(d->sectors);
    cs_tag_line *line = allocate(l2, m->key);
    line->valid |= d->sectors;
    l2->c.write += n;
    l2->c.fill_sectors += n;
    cs_req_free(l2->pool, d);
    /* Serve every waiter whose sectors are all here now. */
    cs_req **link = &m->head, *prev = NULL;
    while (*link) {
        cs_req *r = *link;
        if (((uint8_t)(m->arrived | r->hop) & r->sectors) != r->sectors) {
            prev = r;
            link = &r->next;
            continue;
        }
        *link = r->next;
        if (m->tail == r)
            m->tail = prev;
        m->ntargets--;
        uint32_t rs = cs_sectors_count(r->sectors);
        l2->c.read += rs;
        if (r->kind == CS_REQ_REDUCE) {
            line->dirty |= r->sectors;
            l2->c.write += rs;
            l2->c.red++;
            l2->c.bytes_in += cs_req_data_bytes(r);
        }
        r->hop = 0;
        r->dram_ps += now - r->t_stamp;
        respond(l2, r, data_port(l2, r, now, cs_req_data_bytes(r)));
    }
    if (!m->head && !m->pending) {
        mshr_free(l2, idx);
        if (l2->stalled) {
            l2->stalled = false;
            l2->c.stall_cycles += cs_clock_cycles_floor(l2->clk, now - l2->stall_since);
            l2->stalled_ps += now - l2->stall_since;
            log_stall(l2, now);
            cs_cpath_dram_stall(l2->cpa, false, now);
            wake_pipeline(l2);
        }
    }
    cs_engine_progress(l2->base.eng);
}

static void credit_out(void *owner, cs_port *out)
{
    (void)out;
    drain_out(owner);
}

static void credit_mem(void *owner, cs_port *out)
{
    (void)out;
    drain_mem(owner);
}

/* ---- flush, component hooks ---------------------------------------------------------------- */

static void flush_line(void *ctx, cs_tag_line *line)
{
    cs_l2 *l2 = ctx;
    if (line->dirty)
        writeback(l2, line->key, line->dirty);
    line->valid = line->dirty = 0;
}

void cs_l2_flush(cs_l2 *l2)
{
    if (l2->tags)
        cs_tags_foreach(l2->tags, flush_line, l2);
}

static bool l2_busy(const void *self)
{
    const cs_l2 *l2 = self;
    for (uint32_t i = 0; i < l2->cim_macros; i++)
        if (l2->cm[i].writing || l2->cm[i].wait_head)
            return true;
    return l2->inq.len || l2->outq.len || l2->memq.len || l2->mshr_used;
}

static void l2_dump(const void *self, cs_buf *out)
{
    const cs_l2 *l2 = self;
    cs_buf_printf(out, "l2 slice %u: input %u, mshrs %u/%lld%s%s, responses waiting %u, dram queue %u",
                  l2->slice, l2->inq.len, l2->mshr_used, (long long)l2->p.mshrs,
                  l2->stalled ? " (stalled)" : "", cs_event_pending(&l2->tag_ev) ? " (lookup pending)" : "",
                  l2->outq.len, l2->memq.len);
}

static void l2_destroy(void *self)
{
    cs_l2_destroy(self);
}

static const cs_component_type l2_type = {"l2_slice", "l2", l2_dump, l2_busy, l2_destroy};

cs_status cs_l2_create(cs_engine *eng, const char *name, uint32_t slice, const cs_l2_params *p,
                       const cs_addrmap *map, const cs_clock *clk, cs_req_pool *pool,
                       cs_stats *st, cs_l2 **out, cs_err *err)
{
    (void)err;
    cs_l2 *l2 = cs_calloc(1, sizeof *l2);
    cs_component_init(&l2->base, &l2_type, name, eng);
    l2->p = *p;
    l2->slice = slice;
    l2->map = map;
    l2->clk = clk;
    l2->pool = pool;
    l2->cpa = cs_req_pool_cpath(pool);
    cs_cpath_add_slice(l2->cpa);
    cs_port_init_in(&l2->in, l2, recv_req, 0);
    cs_port_init_out(&l2->out, l2, credit_out, 0);
    cs_port_init_out(&l2->mem_out, l2, credit_mem, 0);
    cs_port_init_in(&l2->mem_in, l2, recv_fill, 0);
    cs_event_init(&l2->tag_ev, tag_stage, l2);
    if (!p->ideal) {
        uint64_t lines = p->size_bytes / (uint64_t)p->slices / CS_LINE_BYTES;
        l2->tags = cs_tags_create(lines, (uint32_t)p->assoc);
        l2->mshrs = cs_calloc((size_t)p->mshrs, sizeof *l2->mshrs);
        size_t words = ((size_t)p->mshrs + 63) / 64;
        l2->mshr_free_bits = cs_calloc(words, sizeof *l2->mshr_free_bits);
        for (int64_t i = 0; i < p->mshrs; i++)
            l2->mshr_free_bits[i / 64] |= 1ull << (i % 64);
        l2->nbuckets = 1;
        while (l2->nbuckets < 2 * (uint32_t)p->mshrs)
            l2->nbuckets *= 2;
        l2->bucket = cs_malloc(l2->nbuckets * sizeof *l2->bucket);
        for (uint32_t i = 0; i < l2->nbuckets; i++)
            l2->bucket[i] = -1;
    }
    char buf[256];
#define NAME(s) (snprintf(buf, sizeof buf, "%s.%s", name, s), buf)
    cs_stats_action(st, NAME("tag"), "lookups", "tag lookups", &l2->c.tag, "l2", "tag");
    cs_stats_action(st, NAME("read"), "32B", "data-array sector reads", &l2->c.read, "l2", "read");
    cs_stats_action(st, NAME("write"), "32B", "data-array sector writes", &l2->c.write, "l2", "write");
    cs_stats_counter(st, NAME("rd_hit"), "requests", "read hits", &l2->c.rd_hit);
    cs_stats_counter(st, NAME("rd_miss"), "requests", "read misses (MSHR allocated or joined)", &l2->c.rd_miss);
    cs_stats_counter(st, NAME("mshr_merge"), "requests", "misses merged into an outstanding MSHR", &l2->c.mshr_merge);
    cs_stats_counter(st, NAME("wr"), "requests", "write requests", &l2->c.wr);
    cs_stats_counter(st, NAME("red"), "requests", "reduction requests", &l2->c.red);
    cs_stats_counter(st, NAME("stall_cycles"), "cycles", "tag pipeline stalled for want of an MSHR", &l2->c.stall_cycles);
    cs_stats_counter(st, NAME("fill_sectors"), "sectors", "sectors filled from DRAM", &l2->c.fill_sectors);
    cs_stats_counter(st, NAME("writeback_sectors"), "sectors", "dirty sectors written back", &l2->c.writeback_sectors);
    cs_stats_counter(st, NAME("evictions"), "lines", "valid lines evicted", &l2->c.evictions);
    cs_stats_counter(st, NAME("bytes_in"), "bytes", "data received from the crossbar side", &l2->c.bytes_in);
    cs_stats_counter(st, NAME("bytes_out"), "bytes", "data returned to the crossbar side", &l2->c.bytes_out);
    cs_stats_counter(st, NAME("dram_bytes_read"), "bytes", "bytes requested from DRAM", &l2->c.dram_bytes_read);
    cs_stats_counter(st, NAME("dram_bytes_written"), "bytes", "bytes written to DRAM", &l2->c.dram_bytes_written);
    cs_stats_counter(st, NAME("data_busy_cycles"), "cycles", "data-array port busy with reads, writes and fills",
                     &l2->c.data_busy_cycles);
    cs_stats_counter(st, NAME("cim_port_cycles"), "cycles", "data-array port reserved by CiM macros (their bank share)",
                     &l2->c.cim_port_cycles);
    cs_stats_counter(st, NAME("cim_fetch_sectors"), "sectors", "CiM weight sectors fetched from DRAM",
                     &l2->c.cim_fetch_sectors);
    cs_stats_counter(st, NAME("cim_requests"), "requests", "CiM compute requests served", &l2->c.cim_requests);
    cs_stats_hist(st, NAME("miss_latency"), "cycles", "DRAM round trip of a miss", &l2->miss_latency);
#undef NAME
    cs_stats_instance(st, "l2", name);
    *out = l2;
    return CS_OK;
}

void cs_l2_destroy(cs_l2 *l2)
{
    if (!l2)
        return;
    cs_tags_destroy(l2->tags);
    for (uint32_t i = 0; i < l2->cim_macros; i++)
        cs_free(l2->cm[i].q);
    cs_free(l2->cm);
    cs_cim_group_destroy(l2->cim);
    cs_free(l2->mshrs);
    cs_free(l2->mshr_free_bits);
    cs_free(l2->bucket);
    cs_component_fini(&l2->base);
    cs_free(l2);
}

cs_port *cs_l2_in(cs_l2 *l2) { return &l2->in; }
cs_port *cs_l2_out(cs_l2 *l2) { return &l2->out; }
cs_port *cs_l2_mem_out(cs_l2 *l2) { return &l2->mem_out; }
cs_port *cs_l2_mem_in(cs_l2 *l2) { return &l2->mem_in; }
cs_component *cs_l2_component(cs_l2 *l2) { return &l2->base; }
const cs_l2_counts *cs_l2_get_counts(const cs_l2 *l2) { return &l2->c; }
const cs_cim_group *cs_l2_cim(const cs_l2 *l2) { return l2->cim; }

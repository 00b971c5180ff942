/* gpu — construction, wiring and kernel execution. */
#include "gpu.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "check.h"
#include "hbm.h"
#include "l2.h"
#include "port.h"
#include "req.h"
#include "sm.h"
#include "xbar.h"

struct cs_gpu {
    cs_arch a;               /* shallow copy: strings belong to the caller's arch */
    cs_engine *eng;
    cs_stats *stats;
    cs_req_pool *pool;
    cs_clock clk;
    cs_addrmap map;
    cs_sm **sms;
    cs_l2 **l2;
    cs_hbm **hbm;
    cs_xbar *xbar;
    cs_link **links;
    size_t nlinks, links_cap;
    uint32_t nsm, nslice, nch;
    uint32_t sms_running;
    uint32_t tail_left;      /* SMs still running when the tail starts (half the working ones) */
    bool tail_armed;
    uint64_t attr_ps[CS_CAUSES]; /* the last kernel's critical path */
};

static void add_link(cs_gpu *g, const char *name, cs_ps latency, uint32_t bpc, uint32_t capacity,
                     cs_port *src, cs_port *dst)
{
    cs_link_params p = {.latency_ps = latency, .bytes_per_cycle = bpc, .clock = &g->clk, .capacity = capacity};
    CS_GROW(g->links, g->links_cap, g->nlinks + 1);
    g->links[g->nlinks++] = cs_link_create(g->eng, name, &p, src, dst);
}

static void dump_hook(void *ctx)
{
    cs_gpu *g = ctx;
    cs_buf b;
    cs_buf_init(&b);
    cs_engine_dump(g->eng, &b, 32);
    fputs(b.data ? b.data : "", stderr);
    cs_buf_free(&b);
}

void cs_gpu_destroy(cs_gpu *g)
{
    if (!g)
        return;
    for (uint32_t i = 0; i < g->nsm; i++)
        cs_sm_destroy(g->sms[i]);
    for (uint32_t i = 0; i < g->nslice; i++)
        cs_l2_destroy(g->l2[i]);
    for (uint32_t i = 0; i < g->nch; i++)
        cs_hbm_destroy(g->hbm[i]);
    cs_xbar_destroy(g->xbar);
    for (size_t i = 0; i < g->nlinks; i++)
        cs_link_destroy(g->links[i]);
    cs_free(g->links);
    cs_free(g->sms);
    cs_free(g->l2);
    cs_free(g->hbm);
    cs_req_pool_destroy(g->pool);
    cs_stats_destroy(g->stats);
    cs_engine_destroy(g->eng);
    cs_free(g);
}

/* Host functions of the macro groups: the macros share the banks of their level. */
static cs_ps rf_host(void *sm, uint32_t sub, cs_ps now, uint64_t cycles)
{
    return cs_sm_rf_occupy(sm, sub, now, cycles);
}

static cs_ps smem_host(void *smem, uint32_t sub, cs_ps now, uint64_t cycles)
{
    (void)sub;
    return cs_smem_occupy(smem, now, cycles);
}

static void attach_cim(cs_gpu *g, const cs_arch *a, const cs_placement *pl)
{
    char name[96];
    cs_cim_group_params gp = {.prim = &pl->prim, .clock = &g->clk,
                              .mac_used_only = a->compat.cim_macs == CS_COMPAT_USED};
    if (pl->level == CS_CIM_L2) {
        gp.macros = pl->macros;
        gp.subs = 1;
        gp.host = cs_l2_occupy;
        gp.bank_share = 1.0 / (double)a->cim.l2_banks;
        for (uint32_t j = 0; j < g->nslice; j++) {
            snprintf(name, sizeof name, "gpu.l2.slice%02u.cim", j);
            gp.host_ctx = g->l2[j];
            cs_l2_attach_cim(g->l2[j], cs_cim_group_create(name, &gp, g->stats));
        }
        for (uint32_t i = 0; i < g->nsm; i++)
            cs_sm_set_remote_cim(g->sms[i], g->nslice, pl->macros);
        return;
    }
    bool rf = pl->level == CS_CIM_RF;
    gp.macros = rf ? pl->macros * (uint32_t)a->sm.subpartitions : pl->macros;
    gp.subs = rf ? (uint32_t)a->sm.subpartitions : 1;
    gp.host = rf ? rf_host : smem_host;
    gp.bank_share = rf ? (double)a->sm.subpartitions / (double)a->rf.banks : 1.0 / (double)a->smem.banks;
    for (uint32_t i = 0; i < g->nsm; i++) {
        snprintf(name, sizeof name, "gpu.sm%03u.cim", i);
        gp.host_ctx = rf ? (void *)g->sms[i] : (void *)cs_sm_smem(g->sms[i]);
        cs_sm_attach_cim(g->sms[i], cs_cim_group_create(name, &gp, g->stats));
    }
}

cs_status cs_gpu_create(const cs_arch *a, const cs_placement *pl, cs_gpu **out, cs_err *err)
{
    *out = NULL;
    cs_gpu *g = cs_calloc(1, sizeof *g);
    g->a = *a;
    g->eng = cs_engine_create();
    cs_engine_set_watchdog(g->eng, a->run.watchdog_ps, 0);
    g->stats = cs_stats_create();
    g->pool = cs_req_pool_create();
    g->clk.freq_khz = a->clock_khz;
    g->nsm = (uint32_t)a->sm.count;
    g->nslice = (uint32_t)a->l2.slices;
    g->nch = (uint32_t)a->hbm.channels;
    g->map = (cs_addrmap){.slices = g->nslice, .channels = g->nch,
                          .bank_groups = (uint32_t)a->hbm.bank_groups,
                          .banks_per_group = (uint32_t)a->hbm.banks_per_group,
                          .lines_per_row = (uint32_t)(a->hbm.row_bytes / CS_LINE_BYTES ? a->hbm.row_bytes / CS_LINE_BYTES : 1),
                          .lines_per_chunk = (uint32_t)(a->l2.interleave_bytes / CS_LINE_BYTES)};
    g->sms = cs_calloc(g->nsm, sizeof *g->sms);
    g->l2 = cs_calloc(g->nslice, sizeof *g->l2);
    g->hbm = cs_calloc(g->nch, sizeof *g->hbm);
    cs_status st = CS_OK;
    char name[96], lname[128];
    for (uint32_t i = 0; i < g->nsm && st == CS_OK; i++) {
        snprintf(name, sizeof name, "gpu.sm%03u", i);
        st = cs_sm_create(g->eng, name, i, &a->sm, &a->tc, &a->rf, &a->smem, &g->clk, g->pool, g->stats,
                          &g->sms[i], err);
    }
    for (uint32_t j = 0; j < g->nslice && st == CS_OK; j++) {
        snprintf(name, sizeof name, "gpu.l2.slice%02u", j);
        st = cs_l2_create(g->eng, name, j, &a->l2, &g->map, &g->clk, g->pool, g->stats, &g->l2[j], err);
    }
    uint32_t ports = g->nslice / g->nch;
    for (uint32_t c = 0; c < g->nch && st == CS_OK; c++) {
        snprintf(name, sizeof name, "gpu.hbm.ch%02u", c);
        st = cs_hbm_create(g->eng, name, c, &a->hbm, &g->map, ports, g->pool, g->stats, &g->hbm[c], err);
    }
    if (st == CS_OK)
        st = cs_xbar_create(g->eng, "gpu.xbar", &a->xbar, g->nsm, g->nslice, &g->map, g->stats, &g->xbar, err);
    if (st != CS_OK) {
        cs_gpu_destroy(g);
        return st;
    }
    if (pl)
        attach_cim(g, a, pl);
    /* conventions (compat.h); the PE array computes the baseline only */
    cs_sm_conventions cv = {.drain_reads = a->compat.drain_reads,
                            .pe_acc_bytes = !pl && a->compat.baseline == CS_COMPAT_PE_ARRAY
                                                ? cs_compat_psum_bytes(&a->compat) : 0};
    for (uint32_t i = 0; i < g->nsm; i++)
        cs_sm_set_conventions(g->sms[i], &cv, g->stats);
    cs_ps xlat = cs_clock_ps(&g->clk, (uint64_t)a->xbar.latency_cycles);
    cs_ps one = cs_clock_ps(&g->clk, 1);
    /* the ideal crossbar keeps its latency and loses its bandwidth and credit limits */
    uint32_t q = a->xbar.ideal ? 0 : (uint32_t)a->xbar.port_queue;
    uint32_t smbw = a->xbar.ideal ? 0 : (uint32_t)a->xbar.sm_bytes_per_cycle;
    uint32_t slbw = a->xbar.ideal ? 0 : (uint32_t)a->xbar.slice_bytes_per_cycle;
    for (uint32_t i = 0; i < g->nsm; i++) {
        snprintf(lname, sizeof lname, "gpu.sm%03u->xbar", i);
        add_link(g, lname, xlat, smbw, q, cs_sm_req_out(g->sms[i]), cs_xbar_req_in(g->xbar, i));
        snprintf(lname, sizeof lname, "xbar->gpu.sm%03u", i);
        add_link(g, lname, one, smbw, q, cs_xbar_resp_out(g->xbar, i), cs_sm_resp_in(g->sms[i]));
    }
    uint32_t fill_q = (uint32_t)(a->l2.mshrs * 4);
    uint32_t mem_q = (uint32_t)(a->hbm.queue_entries / ports ? a->hbm.queue_entries / ports : 1);
    for (uint32_t j = 0; j < g->nslice; j++) {
        snprintf(lname, sizeof lname, "xbar->gpu.l2.slice%02u", j);
        add_link(g, lname, one, slbw, (uint32_t)a->l2.input_queue, cs_xbar_req_out(g->xbar, j), cs_l2_in(g->l2[j]));
        snprintf(lname, sizeof lname, "gpu.l2.slice%02u->xbar", j);
        add_link(g, lname, xlat, slbw, q, cs_l2_out(g->l2[j]), cs_xbar_resp_in(g->xbar, j));
        uint32_t c = j % g->nch, p = j / g->nch;
        snprintf(lname, sizeof lname, "gpu.l2.slice%02u->hbm.ch%02u", j, c);
        add_link(g, lname, a->l2.mem_latency_ps, 0, mem_q, cs_l2_mem_out(g->l2[j]), cs_hbm_in(g->hbm[c], p));
        snprintf(lname, sizeof lname, "hbm.ch%02u->gpu.l2.slice%02u", c, j);
        add_link(g, lname, a->l2.mem_latency_ps, 0, fill_q, cs_hbm_out(g->hbm[c], p), cs_l2_mem_in(g->l2[j]));
    }
    *out = g;
    return CS_OK;
}

void cs_gpu_set_layout(cs_gpu *g, uint64_t a_lo, uint64_t z_lo)
{
    for (uint32_t i = 0; i < g->nsm; i++)
        cs_sm_set_layout(g->sms[i], a_lo, z_lo);
}

cs_engine *cs_gpu_engine(cs_gpu *g) { return g->eng; }
cs_sm *cs_gpu_sm(cs_gpu *g, uint32_t i) { return i < g->nsm ? g->sms[i] : NULL; }
cs_stats *cs_gpu_stats(cs_gpu *g) { return g->stats; }
const cs_clock *cs_gpu_clock(const cs_gpu *g) { return &g->clk; }

static void sm_finished(void *ctx)
{
    cs_gpu *g = ctx;
    CS_ASSERT(g->sms_running > 0);
    if (--g->sms_running == g->tail_left && g->tail_armed) {
        cs_cpath_set_tail(cs_req_pool_cpath(g->pool), cs_engine_now(g->eng));
        g->tail_armed = false;
    }
    if (g->sms_running == 0)
        cs_engine_stop(g->eng);
}

/* Runs the engine with the assertion dump hook installed. */
static cs_status run_engine(cs_gpu *g, cs_ps until, cs_err *err)
{
    cs_dump_hook prev;
    void *prev_ctx;
    cs_check_set_hook(dump_hook, g, &prev, &prev_ctx);
    cs_status st = cs_engine_run(g->eng, until, err);
    cs_check_set_hook(prev, prev_ctx, NULL, NULL);
    return st;
}

static cs_status deadlock(cs_gpu *g, const char *what, cs_err *err)
{
    cs_buf b;
    cs_buf_init(&b);
    cs_engine_dump(g->eng, &b, 32);
    cs_err_add(err, CS_DEADLOCK, "simulation: error: %s at %" PRIu64 " ps (state follows)", what,
               cs_engine_now(g->eng));
    cs_err_detail(err, b.data ? b.data : "");
    cs_buf_free(&b);
    return CS_DEADLOCK;
}

cs_status cs_gpu_run_kernel(cs_gpu *g, cs_opsrc *src, cs_ps *elapsed, cs_err *err)
{
    bool done;
    return cs_gpu_run_kernel_until(g, src, CS_PS_NEVER, elapsed, &done, err);
}

cs_status cs_gpu_run_kernel_until(cs_gpu *g, cs_opsrc *src, cs_ps within_ps, cs_ps *elapsed, bool *done, cs_err *err)
{
    *done = true;
    cs_ps t0 = cs_engine_now(g->eng);
    cs_cpath *cpa = cs_req_pool_cpath(g->pool);
    cs_cpath_kernel_start(cpa, t0);
    memset(g->attr_ps, 0, sizeof g->attr_ps);
    g->sms_running = 0;
    g->tail_armed = false;
    for (uint32_t s = 0; s < src->nstreams; s++) {
        const cs_stream_info *si = &src->streams[s];
        if (si->kind == CS_STREAM_CIM) {
            if (si->unit >= g->nslice)
                return cs_err_add(err, CS_FORMAT, "kernel: error: stream %u targets L2 slice %u but the GPU has %u",
                                  s, si->unit, g->nslice);
            cs_status cst = cs_l2_start_cim(g->l2[si->unit], src, s, err);
            if (cst != CS_OK)
                return cst;
            continue;
        }
        if (si->kind != CS_STREAM_SM)
            continue;
        if (si->unit >= g->nsm)
            return cs_err_add(err, CS_FORMAT, "kernel: error: stream %u targets SM %u but the GPU has %u SMs",
                              s, si->unit, g->nsm);
        g->sms_running++;
        cs_sm_on_done(g->sms[si->unit], sm_finished, g);
    }
    for (uint32_t s = 0; s < src->nstreams; s++)
        if (src->streams[s].kind == CS_STREAM_SM)
            cs_sm_start(g->sms[src->streams[s].unit], src, s);
    /* the SMs with work are those still running: the tail starts when half of them are done */
    g->tail_left = g->sms_running / 2;
    g->tail_armed = g->sms_running > 0;
    cs_status st = CS_OK;
    cs_ps until = within_ps == CS_PS_NEVER || t0 > CS_PS_NEVER - within_ps ? CS_PS_NEVER : t0 + within_ps;
    if (g->sms_running)
        st = run_engine(g, until, err);
    if (st == CS_OK && g->sms_running && until != CS_PS_NEVER && cs_engine_next_time(g->eng) != CS_PS_NEVER) {
        *done = false; /* the deadline came first: the kernel is abandoned, the GPU unusable */
        *elapsed = until - t0;
        return CS_OK;
    }
    for (uint32_t s = 0; s < src->nstreams && st == CS_OK; s++)
        if (src->streams[s].kind == CS_STREAM_SM)
            st = cs_sm_status(g->sms[src->streams[s].unit], err);
    if (st == CS_OK && g->sms_running)
        st = deadlock(g, "the event queue ran dry with SMs still working", err);
    cs_ps end = t0;
    const cs_sm *last = NULL; /* the critical SM: the last to finish (the lowest on a tie) */
    for (uint32_t s = 0; s < src->nstreams; s++)
        if (src->streams[s].kind == CS_STREAM_SM) {
            cs_sm *sm = g->sms[src->streams[s].unit];
            cs_sm_on_done(sm, NULL, NULL);
            if (cs_sm_finish_time(sm) > end || (cs_sm_finish_time(sm) == end && last &&
                                                 cs_sm_index(sm) < cs_sm_index(last))) {
                end = cs_sm_finish_time(sm);
                last = sm;
            }
        }
    *elapsed = end - t0;
    if (st == CS_OK && last) {
        cs_cpl_result(cpa, cs_sm_finish_path(last), g->attr_ps);
        uint64_t sum = 0;
        for (int c = 0; c < CS_CAUSES; c++)
            sum += g->attr_ps[c];
        if (sum != end - t0)
            return cs_err_add(err, CS_INVARIANT,
                              "invariant: error: the critical path covers %" PRIu64 " ps of a %" PRIu64
                              " ps kernel", sum, end - t0);
    }
    return st;
}

void cs_gpu_kernel_attribution(const cs_gpu *g, uint64_t out_ps[CS_CAUSES])
{
    memcpy(out_ps, g->attr_ps, sizeof g->attr_ps);
}

static bool memory_busy(const cs_gpu *g)
{
    for (uint32_t j = 0; j < g->nslice; j++)
        if (cs_component_busy(cs_l2_component(g->l2[j])))
            return true;
    for (uint32_t c = 0; c < g->nch; c++)
        if (cs_component_busy(cs_hbm_component(g->hbm[c])))
            return true;
    for (size_t i = 0; i < g->nlinks; i++)
        if (cs_link_inflight(g->links[i]))
            return true;
    return false;
}

cs_status cs_gpu_flush(cs_gpu *g, cs_err *err)
{
    for (uint32_t j = 0; j < g->nslice; j++)
        cs_l2_flush(g->l2[j]);
    return cs_gpu_drain(g, err);
}

cs_status cs_gpu_drain(cs_gpu *g, cs_err *err)
{
    cs_ps step = 1000000; /* 1 us of simulated time per check */
    for (int i = 0; memory_busy(g); i++) {
        if (cs_engine_next_time(g->eng) == CS_PS_NEVER)
            return deadlock(g, "write-back stalled with the event queue empty", err);
        cs_status st = run_engine(g, cs_engine_now(g->eng) + step, err);
        if (st != CS_OK)
            return st;
        if (i > 100000)
            return deadlock(g, "write-back did not finish within 100 ms", err);
    }
    return CS_OK;
}

cs_status cs_gpu_check_idle(cs_gpu *g, cs_err *err)
{
    cs_status st = CS_OK;
    for (uint32_t i = 0; i < g->nsm; i++)
        if (cs_component_busy(cs_sm_component(g->sms[i])))
            st = cs_err_add(err, CS_INVARIANT, "invariant: error: gpu.sm%03u still holds work after the run", i);
    if (memory_busy(g))
        st = cs_err_add(err, CS_INVARIANT, "invariant: error: the memory system still holds requests after the run");
    if (cs_req_pool_live(g->pool))
        st = cs_err_add(err, CS_INVARIANT, "invariant: error: %" PRIu64 " requests were never returned to the pool",
                        cs_req_pool_live(g->pool));
    return st;
}

void cs_gpu_totals_get(const cs_gpu *g, cs_gpu_totals *t)
{
    memset(t, 0, sizeof *t);
    for (uint32_t i = 0; i < g->nsm; i++) {
        const cs_sm_counts *c = cs_sm_get_counts(g->sms[i]);
        t->macs_useful += c->macs_useful;
        t->macs_exec += c->macs_int8 + c->macs_fp16;
        t->sm_bytes_read += c->bytes_read;
        t->sm_bytes_returned += c->bytes_returned;
        t->sm_bytes_written += c->bytes_written;
        t->sm_bytes_acked += c->bytes_acked;
        t->rf_read += c->rf_read;
        t->rf_write += c->rf_write;
        t->cim_in_bytes += c->cim_in_bytes;
        t->cim_psum_bytes += c->cim_psum_bytes;
        t->sms_used += c->ctas > 0;
        for (int s = 0; s < 8; s++)
            t->tc_busy_cycles += c->tc_busy_cycles[s];
        const cs_access *ac = cs_sm_get_access(g->sms[i]);
        for (int l = 0; l < CS_ACC_LEVELS; l++)
            for (int d = 0; d < CS_ACC_DS; d++)
                for (int k = 0; k < CS_ACC_KINDS; k++)
                    t->access[l][d][k] += ac->bytes[l][d][k];
    }
    for (uint32_t j = 0; j < g->nslice; j++) {
        const cs_l2_counts *c = cs_l2_get_counts(g->l2[j]);
        t->l2_bytes_in += c->bytes_in;
        t->l2_bytes_out += c->bytes_out;
        t->l2_dram_read += c->dram_bytes_read;
        t->l2_dram_written += c->dram_bytes_written;
        t->l2_fill_sectors += c->fill_sectors;
        t->l2_cim_sectors += c->cim_fetch_sectors;
        t->l2_data_busy_cycles += c->data_busy_cycles;
        t->cim_port_cycles += c->cim_port_cycles;
    }
    for (uint32_t c = 0; c < g->nch; c++) {
        const cs_hbm_counts *h = cs_hbm_get_counts(g->hbm[c]);
        t->dram_bytes_read += h->bytes_read;
        t->dram_bytes_written += h->bytes_written;
        t->dram_bus_busy_cycles += h->bus_busy_cycles;
    }
    t->flits = cs_xbar_flits(g->xbar);
    t->noc_bytes = t->flits * (uint64_t)g->a.xbar.flit_bytes;
    t->events = cs_engine_events_run(g->eng);
    t->max_pending = cs_engine_max_pending(g->eng);
    for (uint32_t i = 0; i < g->nsm + g->nslice; i++) {
        const cs_cim_group *cg = i < g->nsm ? cs_sm_cim(g->sms[i]) : cs_l2_cim(g->l2[i - g->nsm]);
        if (!cg)
            continue;
        const cs_cim_counts *c = cs_cim_get_counts(cg);
        t->cim_macs_useful += c->macs_useful;
        t->cim_write_bytes += c->write_bytes;
        t->cim_busy_cycles += c->busy_cycles;
        t->cim_ops += c->ops;
        t->cim_macros_computed += c->macros_computed;
        t->cim_macros_written += c->macros_written;
        t->cim_host_cycles += c->host_cycles;
        /* host ports: a sub-partition's register file, an SM's pipeline, a slice's port */
        if (c->host_cycles)
            t->cim_hosts_used += cs_cim_group_hosts_used(cg);
    }
    t->cim_macs_requested = (uint64_t)cs_stats_sum(g->stats, "gpu.sm*.cim_macs_remote");
    t->smem_read = (uint64_t)cs_stats_sum(g->stats, "gpu.sm*.smem.read");
    t->smem_write = (uint64_t)cs_stats_sum(g->stats, "gpu.sm*.smem.write");
    t->smem_busy_cycles = (uint64_t)cs_stats_sum(g->stats, "gpu.sm*.smem.busy_cycles");
}

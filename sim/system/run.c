/* run — per-GEMM simulation, invariants, bounds, and the thread pool. */
#include "run.h"

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "check.h"

void cs_run_opts_init(cs_run_opts *o)
{
    memset(o, 0, sizeof *o);
    o->dtype = -1;
    o->threads = 1;
    cs_cim_request_init(&o->cim_req);
}

void cs_run_cim_setup(const cs_placement *pl, const cs_arch *a, const cs_energy_table *et, cs_run_cim *out)
{
    out->arch = cs_placement_arch(pl, a);
    out->target = cs_placement_target(pl, &out->arch, et);
    /* the energy that accrues with time, for the mapper's energy estimate: one cycle of an idle
     * GPU with the placement (an action the table lacks shows up later, in the run itself) */
    cs_gpu *gpu;
    cs_err err;
    cs_err_init(&err);
    if (cs_gpu_create(&out->arch, pl, &gpu, &err) == CS_OK) {
        cs_energy_report rep;
        if (cs_energy_eval(et, cs_gpu_stats(gpu), NULL, 1.0 / cs_arch_clock_hz(&out->arch), &rep, &err) == CS_OK) {
            out->target.static_pj_per_cycle = rep.total_pj;
            cs_energy_report_free(&rep);
        }
        cs_gpu_destroy(gpu);
    }
    cs_err_free(&err);
}

cs_status cs_run_cim_mapping(const cs_run_cim *rc, const cs_gemm *g, int dtype, const cs_cim_request *req,
                             cs_cim_mapping *out, cs_err *err)
{
    cs_target t = cs_arch_target(&rc->arch);
    return cs_cim_map(&t, &rc->target, g, dtype, req, out, err);
}

static uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

cs_gemm_layout cs_run_layout(const cs_gemm *g, int dtype, uint64_t r)
{
    const uint64_t base = 1ull << 32, al = 2ull << 20;
    uint64_t eb = (uint64_t)cs_dtype_bytes(dtype);
    /* B has room for CiM tile packing (edge tiles padded to a whole tile: up to 256 elements) */
    uint64_t a_sz = align_up(g->m * g->k * eb, al), b_sz = align_up((g->n + 256) * (g->k + 256) * eb, al);
    uint64_t c_sz = align_up(g->m * g->n * 4, al); /* room for 4-byte partial sums */
    cs_gemm_layout l;
    l.dtype = dtype;
    l.c_elem_bytes = (uint32_t)eb;
    l.b = base;
    l.a = base + b_sz + r * a_sz;
    l.c = base + b_sz + g->repeat * a_sz + r * c_sz;
    return l;
}

static cs_tc_overrides merge(const cs_tc_overrides *a, const cs_tc_overrides *b)
{
    cs_tc_overrides o = *a;
#define M(f) if (b->f) o.f = b->f;
    M(cta_m) M(cta_n) M(cta_k_bytes) M(warp_m) M(warp_n) M(stages) M(split_k) M(kgroups) M(raster)
#undef M
    return o;
}

cs_status cs_run_tiling(const cs_arch *a, const cs_gemm *g, int dtype, const cs_tc_overrides *ov,
                        cs_tc_tiling *out, cs_err *err)
{
    cs_target t = cs_arch_target(a);
    cs_tc_overrides base = cs_arch_tc_overrides(a);
    cs_tc_overrides o = ov ? merge(&base, ov) : base;
    return cs_tc_choose(&t, g, dtype, &o, out, err);
}

/* One variant being simulated: an architecture (shrunk by a placement), a workload, a table. */
typedef struct job {
    const cs_arch_doc *ad;
    const cs_arch *arch;      /* the architecture simulated (shrunk by a placement) */
    cs_run_cim rc;
    const cs_workload *w;
    const cs_energy_table *et;
    cs_energy_table *cim_et;  /* owned: et with the placement's entries */
    const cs_run_opts *o;
    cs_result *r;
    int dtype;
    cs_err *errs;      /* one per GEMM */
    cs_status *status; /* one per GEMM */
} job;

/* The pool shared by the worker threads: tasks are (variant, GEMM) pairs in order. */
typedef struct pool {
    job *jobs;
    size_t njobs, ntasks;
    size_t *first;     /* task index of each variant's first GEMM */
    atomic_size_t *left; /* GEMMs of each variant still running or queued */
    atomic_size_t next, done;
    cs_run_progress_fn progress;
    pthread_mutex_t lock;
    cs_result **outs;  /* without a callback: each variant's result */
    cs_status *vst;    /* each variant's status */
    cs_err *verr;      /* each variant's errors */
    cs_run_done_fn fn;
    void *ctx;
} pool;

/* The end-of-run invariants (docs/model.md, "Invariants"). In a replay the MACs and the lower
 * bounds test the trace against its own metadata, not the simulator: a trace that breaks them
 * is bad input (CS_FORMAT, exit status 2), not an internal failure. */
static cs_status check_invariants(const cs_arch *a, const cs_gemm_result *gr, bool replay, cs_err *err)
{
    const cs_gpu_totals *t = &gr->tot;
    const cs_gemm *g = &gr->gemm;
    cs_status st = CS_OK;
    uint64_t macs = g->m * g->n * g->k * g->repeat;
#define FAIL(...) (st = cs_err_add(err, CS_INVARIANT, "invariant: error: %s: " __VA_ARGS__))
#define TRACE_FAIL(...)                                                                            \
    (st = replay ? cs_err_add(err, CS_FORMAT, "run --trace: error: %s: " __VA_ARGS__)             \
                 : cs_err_add(err, CS_INVARIANT, "invariant: error: %s: " __VA_ARGS__))
    if (t->macs_useful + t->cim_macs_useful != macs)
        TRACE_FAIL("MACs executed %" PRIu64 " (tensor cores %" PRIu64 ", CiM %" PRIu64 ") != M*N*K*repeat %" PRIu64,
             g->name, t->macs_useful + t->cim_macs_useful, t->macs_useful, t->cim_macs_useful, macs);
    if (t->cim_macs_requested && t->cim_macs_requested != t->cim_macs_useful)
        FAIL("SMs sent %" PRIu64 " MACs of work to L2 CiM, the slices computed %" PRIu64, g->name,
             t->cim_macs_requested, t->cim_macs_useful);
    if (t->sm_bytes_read != t->sm_bytes_returned)
        FAIL("SMs requested %" PRIu64 " bytes but received %" PRIu64, g->name, t->sm_bytes_read,
             t->sm_bytes_returned);
    if (t->sm_bytes_written != t->sm_bytes_acked)
        FAIL("SMs stored %" PRIu64 " bytes but %" PRIu64 " were acknowledged", g->name, t->sm_bytes_written,
             t->sm_bytes_acked);
    if (t->l2_dram_read != t->dram_bytes_read || (t->l2_fill_sectors + t->l2_cim_sectors) * 32 != t->dram_bytes_read)
        FAIL("L2 asked DRAM for %" PRIu64 " bytes, DRAM read %" PRIu64 ", L2 filled %" PRIu64 " (+%" PRIu64
             " CiM weights)", g->name, t->l2_dram_read, t->dram_bytes_read, t->l2_fill_sectors * 32,
             t->l2_cim_sectors * 32);
    if (t->l2_dram_written != t->dram_bytes_written)
        FAIL("L2 wrote back %" PRIu64 " bytes, DRAM wrote %" PRIu64, g->name, t->l2_dram_written,
             t->dram_bytes_written);
    if (gr->cycles < gr->bound_compute)
        TRACE_FAIL("%" PRIu64 " cycles is below the compute bound of %" PRIu64, g->name, gr->cycles, gr->bound_compute);
    if (gr->cycles < gr->bound_dram)
        TRACE_FAIL("%" PRIu64 " cycles is below the DRAM bandwidth bound of %" PRIu64, g->name, gr->cycles,
             gr->bound_dram);
    uint64_t attributed = 0;
    for (int c = 0; c < CS_CAUSES; c++)
        attributed += gr->attribution[c];
    if (attributed != gr->cycles)
        FAIL("%" PRIu64 " cycles attributed to causes, not the %" PRIu64 " cycles run", g->name, attributed,
             gr->cycles);
#undef FAIL
#undef TRACE_FAIL
    (void)a;
    return st;
}

/* Critical-path picoseconds per cause (summing to `total_ps`) as whole cycles summing to
 * floor(total_ps) cycles: each cause rounded down, the cycles left given to the largest
 * remainders (the first cause on a tie). */
static void attribution_cycles(const cs_clock *clk, const uint64_t ps[CS_CAUSES], uint64_t cycles,
                               uint64_t out[CS_CAUSES])
{
    uint64_t sum = 0, rem[CS_CAUSES];
    for (int c = 0; c < CS_CAUSES; c++) {
        out[c] = cs_clock_cycles_floor(clk, ps[c]);
        rem[c] = ps[c] % 1000000000ULL * clk->freq_khz % 1000000000ULL;
        sum += out[c];
    }
    CS_ASSERT(sum <= cycles && cycles - sum < CS_CAUSES);
    for (; sum < cycles; sum++) {
        int best = 0;
        for (int c = 1; c < CS_CAUSES; c++)
            if (rem[c] > rem[best])
                best = c;
        out[best]++;
        rem[best] = 0;
    }
}

static const char *top_cause(const uint64_t cycles[CS_CAUSES])
{
    int best = 0;
    for (int c = 1; c < CS_CAUSES; c++)
        if (cycles[c] > cycles[best])
            best = c;
    return cs_cause_key(best);
}

/* Bytes over an aggregate bandwidth (bytes per cycle; 0 = unlimited: no bound), in cycles. */
static uint64_t bw_bound(double bytes, double bytes_per_cycle)
{
    return bytes_per_cycle > 0 ? (uint64_t)(bytes / bytes_per_cycle) : 0;
}

/* Lower bounds and the limiting resource (docs/model.md section 14.3). kt: the counters before
 * the flush. */
static void bounds(const cs_arch *a, const cs_run_cim *rc, const cs_placement *pl, cs_gemm_result *gr, int dtype,
                   const cs_gpu_totals *kt)
{
    const cs_gemm *g = &gr->gemm;
    double clock = cs_arch_clock_hz(a);
    cs_target t = cs_arch_target(a);
    uint64_t eb = (uint64_t)cs_dtype_bytes(dtype);
    double sms = (double)(kt->sms_used ? kt->sms_used : 1);
    bool dram_modelled = !a->l2.ideal && !a->hbm.ideal;
    /* compulsory DRAM reads: A once per repeat, B once (L2 CiM: the weights its slices fetched
     * straight into their macros, which no cache shares) */
    double b_bytes = (double)(g->n * g->k * eb);
    if (pl && pl->level == CS_CIM_L2)
        b_bytes = (double)kt->l2_cim_sectors * CS_SECTOR_BYTES;
    double compulsory = (double)(g->m * g->k * g->repeat * eb) + b_bytes;
    gr->bound_dram = dram_modelled ? (uint64_t)(compulsory / (cs_arch_dram_bytes_per_s(a) / clock)) : 0;
    gr->bound_l2 = bw_bound((double)kt->l2_bytes_out, (double)(a->l2.slices * a->l2.bytes_per_cycle));
    gr->bound_cim_write = gr->bound_inputs = gr->bound_psum = 0;
    double cim_macros = 0;
    if (pl) {
        const cs_cim_target *ct = &rc->target;
        /* every operation of the macros that computed, spread evenly over them */
        double computing = (double)(kt->cim_macros_computed ? kt->cim_macros_computed : 1);
        gr->bound_compute = (uint64_t)((double)kt->cim_ops * ct->latency_cycles / computing);
        /* ... and their bank shares of the host ports: macros sharing banks cannot all compute */
        if (kt->cim_hosts_used) {
            uint64_t host = kt->cim_host_cycles / kt->cim_hosts_used;
            gr->bound_compute = host > gr->bound_compute ? host : gr->bound_compute;
        }
        double written = (double)kt->cim_macros_written;
        gr->bound_cim_write = written > 0 ? bw_bound((double)kt->cim_write_bytes, ct->write_bytes_per_cycle * written) : 0;
        /* inputs into the macros and partial sums out, through the host level's port */
        double xbar = t.sm_port_bytes_per_cycle > 0 && t.slice_port_bytes_per_cycle > 0
                          ? fmin(sms * t.sm_port_bytes_per_cycle, (double)a->l2.slices * t.slice_port_bytes_per_cycle)
                          : 0;
        double rf_port = (double)(a->rf.banks * a->rf.bank_bytes) * sms; /* all sub-partitions of an SM */
        if (pl->level == CS_CIM_L2) {
            gr->bound_inputs = bw_bound((double)kt->cim_in_bytes, xbar);
            gr->bound_psum = bw_bound((double)kt->cim_psum_bytes, xbar);
        } else {
            gr->bound_inputs = bw_bound((double)kt->cim_in_bytes, t.smem_bytes_per_cycle * sms);
            gr->bound_psum = pl->level == CS_CIM_RF && !a->rf.ideal
                                 ? bw_bound(2.0 * (double)kt->cim_psum_bytes, rf_port) /* read-modify-write */
                                 : bw_bound((double)kt->cim_psum_bytes, t.smem_bytes_per_cycle * sms);
        }
        cim_macros = (double)(gr->cim_macros_used ? gr->cim_macros_used : 1); /* utilisation of the macros in use */
    } else {
        /* an ideal tensor core has no throughput limit, so no compute bound */
        gr->bound_compute = a->tc.ideal ? 0 : (uint64_t)((double)gr->macs / cs_arch_peak_macs_per_cycle(a, dtype));
    }
    double cyc = (double)(gr->cycles ? gr->cycles : 1);
    struct { const char *name; double u; } res[] = {
        {"compute", (double)kt->tc_busy_cycles / (cyc * (double)(a->sm.count * a->sm.subpartitions))},
        {"dram", dram_modelled ? (double)(kt->dram_bytes_read + kt->dram_bytes_written) /
                                     (cyc / clock * cs_arch_dram_bytes_per_s(a)) : 0},
        {"l2", (double)kt->l2_data_busy_cycles / (cyc * (double)a->l2.slices)},
        {"smem", (double)kt->smem_busy_cycles / (cyc * (double)a->sm.count)},
        {"cim", cim_macros > 0 ? (double)(kt->cim_busy_cycles - (uint64_t)((double)kt->cim_write_bytes / rc->target.write_bytes_per_cycle)) / (cyc * cim_macros) : 0},
        {"cim_write", cim_macros > 0 ? (double)kt->cim_write_bytes / rc->target.write_bytes_per_cycle / (cyc * cim_macros) : 0},
    };
    gr->bound = "latency";
    double best = 0.6;
    for (size_t i = 0; i < sizeof res / sizeof res[0]; i++)
        if (res[i].u > best) {
            best = res[i].u;
            gr->bound = res[i].name;
        }
    /* far above every bound: what the critical path spent its time on names it */
    uint64_t largest = 0;
    uint64_t all[] = {gr->bound_compute, gr->bound_dram, gr->bound_l2, gr->bound_cim_write, gr->bound_inputs,
                      gr->bound_psum};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        largest = all[i] > largest ? all[i] : largest;
    if (strcmp(gr->bound, "latency") == 0 && gr->cycles > 2 * largest)
        gr->bound = gr->top_cause;
}

/* Runs GEMM gi of the job on a fresh GPU: its repeats with the op streams of cm (CiM), tl
 * (tensor cores) or the job's factory, then the flush, invariants, bounds and energy, into gr
 * (whose mapping fields the caller set). A run still going at deadline_ps of simulated time
 * stops there: *done false and gr holds nothing of it (CS_PS_NEVER: no deadline). */
/* What generates a GEMM's op streams: one of a CiM mapping, a tensor-core tiling, a PE-array
 * plan (the WWW study's baseline block), or none (the job's factory). */
typedef struct plan {
    const cs_cim_mapping *cm;
    const cs_tc_tiling *tl;
    const cs_nest_hw *pe_hw;
    const cs_nest_plan *pe;
} plan;

static cs_status execute(job *jb, size_t gi, const plan *pn, cs_ps deadline_ps, bool *done, cs_gemm_result *gr,
                         cs_err *err)
{
    const cs_arch *a = jb->arch;
    const cs_gemm *g = &jb->w->gemms[gi];
    cs_gpu *gpu;
    cs_status st;
    *done = true;
    if ((st = cs_gpu_create(a, jb->o->cim, &gpu, err)) != CS_OK)
        return st;
    cs_target t = cs_arch_target(a);
    cs_gemm_layout lay0 = cs_run_layout(g, jb->dtype, 0);
    cs_gpu_set_layout(gpu, lay0.a, lay0.c);
    cs_ps total = 0;
    uint64_t attr_ps[CS_CAUSES] = {0};
    for (uint64_t r = 0; r < g->repeat && st == CS_OK && *done; r++) {
        cs_opsrc *src = NULL;
        cs_gemm_layout lay = cs_run_layout(g, jb->dtype, r);
        if (jb->o->factory)
            st = jb->o->factory(jb->o->factory_ctx, gi, r, &src, err);
        else if (pn->pe)
            st = cs_nest_opsrc_create(&t, pn->pe_hw, pn->pe, g, &lay, r, &src, err);
        else if (pn->cm)
            st = cs_cim_opsrc_create(&t, &jb->rc.target, g, pn->cm, &lay, r, &src, err);
        else
            st = cs_tc_opsrc_create(&t, g, pn->tl, &lay, &src, err);
        cs_ps elapsed = 0;
        if (st == CS_OK)
            st = cs_gpu_run_kernel_until(gpu, src, deadline_ps == CS_PS_NEVER ? CS_PS_NEVER : deadline_ps - total,
                                         &elapsed, done, err);
        cs_opsrc_destroy(src);
        total += elapsed;
        uint64_t k_ps[CS_CAUSES];
        cs_gpu_kernel_attribution(gpu, k_ps);
        for (int c = 0; c < CS_CAUSES; c++)
            attr_ps[c] += k_ps[c];
    }
    if (!*done) { /* past the deadline: abandoned mid-run */
        cs_gpu_destroy(gpu);
        return st;
    }
    cs_gpu_totals kt;
    cs_gpu_totals_get(gpu, &kt);
    if (st == CS_OK)
        st = a->run.flush_l2 ? cs_gpu_flush(gpu, err) : cs_gpu_drain(gpu, err);
    if (st == CS_OK)
        st = cs_gpu_check_idle(gpu, err);
    if (st == CS_OK) {
        cs_gpu_totals_get(gpu, &gr->tot);
        gr->cycles = cs_clock_cycles_floor(cs_gpu_clock(gpu), total);
        attribution_cycles(cs_gpu_clock(gpu), attr_ps, gr->cycles, gr->attribution);
        gr->top_cause = top_cause(gr->attribution);
        gr->seconds = (double)gr->cycles / cs_arch_clock_hz(a);
        gr->tops = gr->seconds > 0 ? 2.0 * (double)gr->macs / gr->seconds / 1e12 : 0;
        gr->utilization = jb->r->peak_tops > 0 ? gr->tops / jb->r->peak_tops : 0;
        bounds(a, &jb->rc, jb->o->cim, gr, jb->dtype, &kt);
        st = check_invariants(a, gr, jb->o->factory != NULL, err);
    }
    if (st == CS_OK)
        st = cs_energy_eval(jb->et, cs_gpu_stats(gpu), NULL, gr->seconds, &gr->energy, err);
    if (st == CS_OK) /* compat.dram_energy = byte */
        cs_compat_reprice(&a->compat, a->l2.bypass, (uint32_t)(a->hbm.bus_bits / 8 * a->hbm.burst_length),
                          cs_gpu_stats(gpu), jb->et, &gr->energy);
    if (st == CS_OK && jb->o->stats_glob) {
        cs_buf b;
        cs_buf_init(&b);
        cs_stats_dump_text(cs_gpu_stats(gpu), NULL, jb->o->stats_glob, &b);
        gr->stats_text = cs_buf_take(&b);
    }
    cs_gpu_destroy(gpu);
    return st;
}

static void cim_mapping_fields(const cs_cim_mapping *cm, cs_gemm_result *gr)
{
    snprintf(gr->mapping_kind, sizeof gr->mapping_kind, "cim");
    cs_cim_mapping_str(cm, gr->mapping, sizeof gr->mapping);
    cs_buf mj;
    cs_buf_init(&mj);
    cs_cim_mapping_json(cm, &mj);
    snprintf(gr->mapping_json, sizeof gr->mapping_json, "%s", mj.data);
    cs_buf_free(&mj);
    gr->cim_macros_used = cs_cim_mapping_macros_used(cm);
}

static void gemm_result_free(cs_gemm_result *gr)
{
    cs_energy_report_free(&gr->energy);
    cs_free(gr->stats_text);
    gr->stats_text = NULL;
}

/* The figure the goal minimises. */
static double goal_score(const cs_gemm_result *gr, int goal)
{
    return goal == CS_CIM_GOAL_ENERGY ? gr->energy.total_pj
           : goal == CS_CIM_GOAL_EDP  ? gr->energy.total_pj * (double)gr->cycles
                                      : (double)gr->cycles;
}

/* CiM, auto mapping: the estimate's candidates are simulated, the best by the goal kept (the
 * first on a tie). For the cycle goal, a candidate still running when the best so far finished
 * is abandoned. The mapping's JSON lists every candidate with its estimate and outcome. */
static cs_status simulate_cim(job *jb, size_t gi, cs_gemm_result *gr, cs_cim_mapping *chosen_out, cs_err *err)
{
    const cs_gemm *g = &jb->w->gemms[gi];
    const cs_cim_request *req = &jb->o->cim_req;
    enum { CAP = 2 * CS_CIM_CANDIDATES_MAX + 1 };
    cs_cim_mapping cands[CAP];
    size_t n;
    cs_target t = cs_arch_target(&jb->rc.arch);
    cs_status st = cs_cim_map_candidates(&t, &jb->rc.target, g, jb->dtype, req, cands, CAP, &n, err);
    if (st != CS_OK)
        return st;
    cs_gemm_result best = *gr, trial;
    size_t chosen = n;
    bool ran[CAP] = {false}, finished[CAP] = {false};
    cs_gemm_result outcome[CAP];
    for (size_t i = 0; i < n; i++) {
        trial = *gr;
        cim_mapping_fields(&cands[i], &trial);
        cs_ps deadline = CS_PS_NEVER;
        if (chosen < n && req->goal == CS_CIM_GOAL_CYCLES) /* cycles to ps, rounded up: a tie still finishes */
            deadline = cs_clock_ps(&(cs_clock){jb->arch->clock_khz}, best.cycles + 1);
        bool done;
        cs_err e;
        cs_err_init(&e);
        plan pn = {.cm = &cands[i]};
        st = execute(jb, gi, &pn, deadline, &done, &trial, &e);
        if (st != CS_OK) { /* a candidate that fails is an error of the run, as a single mapping's */
            cs_err_merge(err, &e);
            cs_err_free(&e);
            gemm_result_free(&trial);
            if (chosen < n)
                gemm_result_free(&best);
            return st;
        }
        cs_err_free(&e);
        ran[i] = true;
        finished[i] = done;
        outcome[i] = trial;
        if (!done)
            continue;
        if (chosen == n || goal_score(&trial, req->goal) < goal_score(&best, req->goal)) {
            if (chosen < n)
                gemm_result_free(&best);
            best = trial;
            chosen = i;
        } else {
            gemm_result_free(&trial);
        }
    }
    CS_ASSERT(chosen < n); /* the first candidate always runs to the end */
    *gr = best;
    if (chosen_out)
        *chosen_out = cands[chosen];
    if (n > 1) { /* the candidates and what each did, in the mapping's JSON */
        cs_buf b;
        cs_buf_init(&b);
        cs_buf_puts(&b, gr->mapping_json);
        b.len--; /* reopen the object */
        cs_buf_puts(&b, ",\"candidates\":[");
        for (size_t i = 0; i < n; i++) {
            char sum[CS_RESULT_STR];
            cs_cim_mapping_str(&cands[i], sum, sizeof sum);
            cs_buf_printf(&b, "%s{\"summary\":\"%s\",\"estimated_cycles\":%.0f,\"estimated_energy_pj\":%.0f,", i ? "," : "",
                          sum, round(cands[i].est_cycles), round(cands[i].est_energy_pj));
            if (finished[i])
                cs_buf_printf(&b, "\"cycles\":%" PRIu64 ",\"energy_pj\":%.6g,", outcome[i].cycles,
                              outcome[i].energy.total_pj);
            else
                cs_buf_printf(&b, "\"cycles\":null,\"energy_pj\":null,\"abandoned\":%s,", ran[i] ? "true" : "false");
            cs_buf_printf(&b, "\"chosen\":%s}", i == chosen ? "true" : "false");
        }
        cs_buf_puts(&b, "]}");
        snprintf(gr->mapping_json, sizeof gr->mapping_json, "%s", b.data);
        cs_buf_free(&b);
    }
    return CS_OK;
}

static cs_gemm_result *gemm_result_start(job *jb, size_t gi)
{
    cs_gemm_result *gr = &jb->r->gemms[gi];
    const cs_gemm *g = &jb->w->gemms[gi];
    gr->gemm = *g;
    gr->macs = g->m * g->n * g->k * g->repeat;
    snprintf(gr->mapping_json, sizeof gr->mapping_json, "{}");
    return gr;
}

static cs_status simulate(job *jb, size_t gi, cs_err *err)
{
    const cs_arch *a = &jb->ad->arch;
    cs_gemm_result *gr = gemm_result_start(jb, gi);
    const cs_gemm *g = &jb->w->gemms[gi];
    bool done;
    if (jb->o->cim && !jb->o->factory)
        return simulate_cim(jb, gi, gr, NULL, err);
    cs_tc_tiling tl = {0};
    cs_nest_hw pe_hw;
    cs_nest_plan pe = {0};
    plan pn = {.tl = &tl};
    if (!jb->o->factory && a->compat.baseline == CS_COMPAT_PE_ARRAY) { /* the WWW study's baseline block (compat.h) */
        cs_target pt = cs_arch_target(a);
        cs_status st = cs_compat_pe_plan(&a->compat, &pt, (uint32_t)a->tc.mma_n,
                                         (uint32_t)(a->tc.mma_k_bytes / cs_dtype_bytes(jb->dtype)), g, jb->dtype,
                                         jb->o->cim_req.spec, &pe_hw, &pe, err);
        if (st != CS_OK)
            return st;
        snprintf(gr->mapping_kind, sizeof gr->mapping_kind, "pe_array");
        cs_nest_plan_str(&pe, jb->o->cim_req.spec ? "timeloop" : "pe", gr->mapping, sizeof gr->mapping);
        cs_buf mj;
        cs_buf_init(&mj);
        cs_json pj;
        cs_json_init(&pj, &mj, 0);
        cs_nest_plan_json(&pe, &pj);
        snprintf(gr->mapping_json, sizeof gr->mapping_json, "%s", mj.data);
        cs_buf_free(&mj);
        pn = (plan){.pe_hw = &pe_hw, .pe = &pe};
    } else if (!jb->o->factory && jb->o->cim_req.spec) {
        return cs_err_add(err, CS_USAGE,
                          "mapper: error: %s: a Timeloop mapping runs on a CiM placement (--cim) or on the PE-array "
                          "baseline (compat.baseline = pe_array); the tensor cores have their own mapper",
                          jb->o->cim_req.spec->source);
    } else if (!jb->o->factory) {
        cs_status st = cs_run_tiling(a, g, jb->dtype, &jb->o->tc, &tl, err);
        if (st != CS_OK)
            return st;
        snprintf(gr->mapping_kind, sizeof gr->mapping_kind, "tensor_core");
        cs_tc_tiling_str(&tl, jb->dtype, gr->mapping, sizeof gr->mapping);
        gr->ctas = cs_tc_ctas(g, &tl, jb->dtype);
    } else {
        snprintf(gr->mapping_kind, sizeof gr->mapping_kind, "%s", jb->o->mapping_kind ? jb->o->mapping_kind : "trace");
        snprintf(gr->mapping, sizeof gr->mapping, "%s", jb->o->mapping_note ? jb->o->mapping_note : "");
        if (jb->o->mapping_json)
            snprintf(gr->mapping_json, sizeof gr->mapping_json, "%s", jb->o->mapping_json);
        gr->ctas = jb->o->mapping_ctas;
        gr->cim_macros_used = jb->o->mapping_macros_used;
    }
    return execute(jb, gi, &pn, CS_PS_NEVER, &done, gr, err);
}

static cs_status finish(job *jb, cs_result **out, cs_err *err);
static void prepare(job *jb, const cs_run_spec *sp);

cs_status cs_run_cim_choose(const cs_arch_doc *ad, const cs_gemm *g, const cs_energy_table *et, const cs_run_opts *o,
                            cs_cim_mapping *out, char *json, size_t json_bytes, cs_err *err)
{
    cs_workload w = {.name = (char *)g->name, .source = (char *)"", .gemms = (cs_gemm *)g, .count = 1};
    cs_run_spec sp = {ad, &w, et, o};
    job jb;
    prepare(&jb, &sp);
    cs_status st = simulate_cim(&jb, 0, gemm_result_start(&jb, 0), out, err);
    jb.status[0] = st;
    snprintf(json, json_bytes, "%s", jb.r->gemms[0].mapping_json);
    cs_result *r = NULL;
    cs_err ignored;
    cs_err_init(&ignored);
    finish(&jb, &r, &ignored); /* frees the job (its errors are already in err) */
    cs_err_free(&ignored);
    cs_result_destroy(r);
    return st;
}

static void *worker(void *arg)
{
    pool *pl = arg;
    for (;;) {
        size_t t = atomic_fetch_add(&pl->next, 1);
        if (t >= pl->ntasks)
            break;
        size_t v = 0;
        while (v + 1 < pl->njobs && pl->first[v + 1] <= t)
            v++;
        job *jb = &pl->jobs[v];
        size_t i = t - pl->first[v];
        cs_err_init(&jb->errs[i]);
        jb->status[i] = simulate(jb, i, &jb->errs[i]);
        size_t d = atomic_fetch_add(&pl->done, 1) + 1;
        if (pl->progress) {
            pthread_mutex_lock(&pl->lock);
            pl->progress(d, pl->ntasks, jb->w->gemms[i].name, jb->r->cim ? jb->r->cim->primitive : NULL);
            pthread_mutex_unlock(&pl->lock);
        }
        if (atomic_fetch_sub(&pl->left[v], 1) == 1) { /* the variant's last GEMM */
            cs_result *r = NULL;
            pl->vst[v] = finish(jb, &r, &pl->verr[v]);
            if (pl->fn) {
                pthread_mutex_lock(&pl->lock);
                pl->fn(pl->ctx, v, r, pl->vst[v], &pl->verr[v]);
                pthread_mutex_unlock(&pl->lock);
            } else {
                pl->outs[v] = r;
            }
        }
    }
    return NULL;
}

/* The approximations of docs/model.md section 16 that apply to a run, as short phrases. */
static void model_notes(cs_result *r, const cs_arch *a, const cs_placement *pl, const cs_run_opts *o)
{
#define NOTE(s) (r->model[r->nmodel++] = (s))
    NOTE("docs/model.md section 16 lists every approximation; those of this run:");
    NOTE(a->l2.bypass ? "no L2: every global access goes to DRAM"
                      : "the L2 is one cache of equal slices (no A100 partitions); no L1 data cache");
    NOTE("CTAs assigned to SMs statically; only ops take time (no instruction fetch)");
    NOTE("register file as pooled bandwidth per sub-partition (no operand bank conflicts)");
    NOTE("partial-sector writes move whole 32-byte sectors");
    if (a->run.flush_l2)
        NOTE("the final L2 write-back is counted in bytes and energy, not in cycles");
    if (a->xbar.ideal || a->smem.ideal || a->tc.ideal || a->rf.ideal || a->l2.ideal || a->hbm.ideal)
        NOTE("ideal variants in use (arch: *.ideal): their latency alone, no bandwidth limits");
    if (pl) {
        NOTE("CiM bank sharing as a reservation of the host's pooled bandwidth");
        NOTE("CiM at the primitive's listed precision and latency (no bit-slicing)");
        if (pl->level == CS_CIM_L2)
            NOTE("L2 CiM: weights in each slice's own DRAM channel, fetched straight into its macros; "
                 "requests queue without bound per macro");
        if (pl->sizing == CS_MACROS_ISO_AREA)
            NOTE("iso-area macro count rounded down per instance of the level");
        if (!o->factory && o->cim_req.mode == CS_CIM_MAP_AUTO)
            NOTE("CiM mapping chosen by an analytical estimate (the simulation measures it)");
        if (pl->level != CS_CIM_L2 && o->cim_req.mode != CS_CIM_MAP_AUTO)
            NOTE("loop-nest executor: inputs stream to the macros in chunks of about 2 KiB; partial sums "
                 "added in shared memory while the macro goes on");
        if (o->cim_req.mode == CS_CIM_MAP_TIMELOOP)
            NOTE("a Timeloop mapping runs on one controller");
    } else if (a->compat.baseline == CS_COMPAT_PE_ARRAY) {
        NOTE("PE array: a broadcast receiver starts no earlier than the SM's latest broadcast read");
    }
    if (cs_compat_any(&a->compat))
        NOTE("the WWW study's conventions in use (compat group, docs/model.md section 17)");
    if (a->compat.dram_energy == CS_COMPAT_BYTE && !a->l2.bypass)
        NOTE("compat.dram_energy = byte does not apply through an L2 (DRAM moves whole sectors)");
    NOTE("energy items quantised to 2^-6 pJ");
#undef NOTE
}

/* Fills the result's header (everything but the GEMMs) and the job of one variant. */
static void prepare(job *jb, const cs_run_spec *sp)
{
    const cs_arch *a = &sp->ad->arch;
    const cs_run_opts *o = sp->o;
    cs_result *r = cs_calloc(1, sizeof *r);
    *jb = (job){.ad = sp->ad, .arch = a, .w = sp->w, .et = sp->et, .o = o, .r = r};
    jb->dtype = o->dtype >= 0 ? o->dtype : a->run.dtype;
    if (o->cim || cs_compat_any(&a->compat)) { /* a copy of the table for the variant's entries */
        jb->cim_et = cs_energy_table_clone(sp->et);
        jb->et = jb->cim_et;
    }
    if (o->cim) { /* the placement's energies and areas */
        cs_placement_energy(o->cim, a, jb->cim_et);
        cs_run_cim_setup(o->cim, a, jb->et, &jb->rc);
        jb->arch = &jb->rc.arch;
    }
    if (cs_compat_any(&a->compat)) /* the conventions that are table entries (compat.h) */
        cs_compat_energy_table(&a->compat, o->cim ? o->cim->level : -1, jb->cim_et);
    snprintf(r->arch, sizeof r->arch, "%s%s", a->name, sp->ad->overrides ? "+set" : "");
    snprintf(r->arch_source, sizeof r->arch_source, "%s", sp->ad->source);
    snprintf(r->overrides, sizeof r->overrides, "%s", sp->ad->overrides ? sp->ad->overrides : "");
    r->arch_content_hash = sp->ad->content_hash;
    snprintf(r->workload_source, sizeof r->workload_source, "%s%s%s", sp->w->source ? sp->w->source : "",
             sp->w->source && strcmp(sp->w->source, "preset") == 0 ? " " : "",
             sp->w->source && strcmp(sp->w->source, "preset") == 0 ? sp->w->name : "");
    r->workload_hash = sp->w->content_hash;
    snprintf(r->energy_source, sizeof r->energy_source, "%s", cs_energy_table_origin(sp->et));
    r->energy_hash = cs_energy_table_content_hash(sp->et);
    snprintf(r->workload, sizeof r->workload, "%s", sp->w->name);
    snprintf(r->command, sizeof r->command, "%s", o->command ? o->command : "");
    snprintf(r->energy_table, sizeof r->energy_table, "%s", cs_energy_table_name(jb->et));
    snprintf(r->energy_version, sizeof r->energy_version, "%s", cs_energy_table_version(jb->et));
    r->config_hash = sp->ad->hash;
    model_notes(r, a, o->cim, o);
    r->dtype = jb->dtype;
    r->clock_hz = cs_arch_clock_hz(a);
    r->peak_macs_per_cycle = cs_arch_peak_macs_per_cycle(a, jb->dtype);
    r->peak_tops = 2.0 * r->peak_macs_per_cycle * r->clock_hz / 1e12;
    r->dram_bytes_per_s = cs_arch_dram_bytes_per_s(a);
    r->l2_bytes_per_cycle = (double)(a->l2.slices * a->l2.bytes_per_cycle);
    r->ngemms = sp->w->count;
    r->gemms = cs_calloc(sp->w->count, sizeof *r->gemms);
    if (o->cim) {
        const cs_placement *pl = o->cim;
        r->cim = cs_calloc(1, sizeof *r->cim);
        snprintf(r->cim->primitive, sizeof r->cim->primitive, "%s", pl->prim.name);
        snprintf(r->cim->level, sizeof r->cim->level, "%s", cs_cim_level_name(pl->level));
        r->cim->macros = pl->macros;
        r->cim->macros_total = (uint64_t)pl->macros * pl->instances;
        r->cim->weights_bytes = r->cim->macros_total * cs_cim_weight_bytes(&pl->prim);
        r->cim->area_mm2 = (double)r->cim->macros_total * cs_energy_area_mm2(jb->et, "cim");
        snprintf(r->cim->mapping_json, sizeof r->cim->mapping_json,
                 "{\"mode\":\"%s\",\"goal\":\"%s\",\"sizing\":\"%s\"}",
                 o->cim_req.mode == CS_CIM_MAP_WWW ? "www" : "auto",
                 o->cim_req.goal == CS_CIM_GOAL_ENERGY ? "energy" : o->cim_req.goal == CS_CIM_GOAL_EDP ? "edp" : "cycles",
                 pl->sizing == CS_MACROS_ISO_AREA ? "iso-area" : pl->sizing == CS_MACROS_ISO_CAPACITY ? "iso-capacity" : "explicit");
        snprintf(r->cim_source, sizeof r->cim_source, "%s", pl->prim_origin ? pl->prim_origin : "");
        snprintf(r->cim_sets, sizeof r->cim_sets, "%s", pl->prim_sets ? pl->prim_sets : "");
        r->cim_hash = cs_cfg_hash(&cs_cim_prim_schema, &pl->prim);
        r->cim_content_hash = pl->prim_content_hash;
    }
    jb->errs = cs_calloc(sp->w->count, sizeof *jb->errs);
    jb->status = cs_calloc(sp->w->count, sizeof *jb->status);
}

/* Collects a variant's errors (in GEMM order), its area and totals. */
static cs_status finish(job *jb, cs_result **out, cs_err *err)
{
    cs_status st = CS_OK;
    for (size_t i = 0; i < jb->w->count; i++)
        if (jb->status[i] != CS_OK) {
            cs_err_merge(err, &jb->errs[i]);
            if (st == CS_OK)
                st = jb->status[i];
        }
    cs_result *r = jb->r;
    if (st == CS_OK) { /* area: every instance of the GPU once (the same for every GEMM) */
        cs_gpu *gpu;
        if ((st = cs_gpu_create(jb->arch, jb->o->cim, &gpu, err)) == CS_OK) {
            cs_energy_report rep;
            if ((st = cs_energy_eval(jb->et, cs_gpu_stats(gpu), NULL, 0, &rep, err)) == CS_OK) {
                r->area_mm2 = rep.area_mm2;
                cs_energy_report_free(&rep);
            }
            cs_gpu_destroy(gpu);
        }
    }
    cs_free(jb->errs);
    cs_free(jb->status);
    cs_energy_table_destroy(jb->cim_et);
    if (st != CS_OK) {
        cs_result_destroy(r);
        *out = NULL;
        return st;
    }
    cs_result_finish(r);
    *out = r;
    return CS_OK;
}

/* The pool behind cs_run_many and cs_run_each. */
static cs_status run_pool(const cs_run_spec *specs, size_t n, int threads, cs_run_progress_fn progress, cs_run_done_fn fn,
                          void *ctx, cs_result **outs, cs_err *err)
{
    size_t nv = n ? n : 1;
    pool pl = {.njobs = n, .progress = progress, .outs = outs, .fn = fn, .ctx = ctx};
    pl.jobs = cs_calloc(nv, sizeof *pl.jobs);
    pl.first = cs_calloc(nv, sizeof *pl.first);
    pl.left = cs_calloc(nv, sizeof *pl.left);
    pl.vst = cs_calloc(nv, sizeof *pl.vst);
    pl.verr = cs_calloc(nv, sizeof *pl.verr);
    for (size_t v = 0; v < n; v++) {
        prepare(&pl.jobs[v], &specs[v]);
        pl.first[v] = pl.ntasks;
        pl.ntasks += specs[v].w->count;
        atomic_init(&pl.left[v], specs[v].w->count);
        cs_err_init(&pl.verr[v]);
    }
    atomic_init(&pl.next, 0);
    atomic_init(&pl.done, 0);
    pthread_mutex_init(&pl.lock, NULL);
    int nt = threads > 0 ? threads : 1;
    if ((size_t)nt > pl.ntasks)
        nt = pl.ntasks ? (int)pl.ntasks : 1;
    pthread_t *th = cs_calloc((size_t)nt, sizeof *th);
    bool *started = cs_calloc((size_t)nt, sizeof *started);
    for (int i = 1; i < nt; i++)
        started[i] = pthread_create(&th[i], NULL, worker, &pl) == 0;
    worker(&pl);
    for (int i = 1; i < nt; i++)
        if (started[i])
            pthread_join(th[i], NULL);
    cs_free(th);
    cs_free(started);
    pthread_mutex_destroy(&pl.lock);
    /* Errors in variant order, whatever order the variants finished in. */
    cs_status st = CS_OK;
    for (size_t v = 0; v < n; v++) {
        if (pl.vst[v] != CS_OK && st == CS_OK)
            st = pl.vst[v];
        if (!fn)
            cs_err_merge(err, &pl.verr[v]);
        cs_err_free(&pl.verr[v]);
    }
    cs_free(pl.jobs);
    cs_free(pl.first);
    cs_free((void *)pl.left);
    cs_free(pl.vst);
    cs_free(pl.verr);
    return st;
}

cs_status cs_run_many(const cs_run_spec *specs, size_t n, int threads, cs_run_progress_fn progress, cs_result **outs,
                      cs_err *err)
{
    for (size_t v = 0; v < n; v++)
        outs[v] = NULL;
    cs_status st = run_pool(specs, n, threads, progress, NULL, NULL, outs, err);
    if (st != CS_OK)
        for (size_t v = 0; v < n; v++) {
            cs_result_destroy(outs[v]);
            outs[v] = NULL;
        }
    return st;
}

cs_status cs_run_each(const cs_run_spec *specs, size_t n, int threads, cs_run_progress_fn progress, cs_run_done_fn fn,
                      void *ctx)
{
    cs_err ignored;
    cs_err_init(&ignored);
    cs_status st = run_pool(specs, n, threads, progress, fn, ctx, NULL, &ignored);
    cs_err_free(&ignored);
    return st;
}

cs_status cs_run(const cs_arch_doc *ad, const cs_workload *w, const cs_energy_table *et,
                 const cs_run_opts *o, cs_result **out, cs_err *err)
{
    cs_run_spec sp = {ad, w, et, o};
    *out = NULL;
    return cs_run_many(&sp, 1, o->threads, o->progress, out, err);
}

/* run — per-GEMM simulation, invariants, bounds, and the thread pool. */
#include "run.h"

#include <inttypes.h>
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
}

static uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

cs_gemm_layout cs_run_layout(const cs_gemm *g, int dtype, uint64_t r)
{
    const uint64_t base = 1ull << 32, al = 2ull << 20;
    uint64_t eb = (uint64_t)cs_dtype_bytes(dtype);
    uint64_t a_sz = align_up(g->m * g->k * eb, al), b_sz = align_up(g->n * g->k * eb, al);
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

typedef struct job {
    const cs_arch_doc *ad;
    const cs_workload *w;
    const cs_energy_table *et;
    const cs_run_opts *o;
    cs_result *r;
    int dtype;
    atomic_size_t next;
    atomic_size_t done;
    cs_err *errs;      /* one per GEMM */
    cs_status *status; /* one per GEMM */
    pthread_mutex_t progress_lock;
} job;

/* The end-of-run invariants (docs/model.md, "Invariants"). */
static cs_status check_invariants(const cs_arch *a, const cs_gemm_result *gr, int dtype, cs_err *err)
{
    const cs_gpu_totals *t = &gr->tot;
    const cs_gemm *g = &gr->gemm;
    cs_status st = CS_OK;
    uint64_t macs = g->m * g->n * g->k * g->repeat;
#define FAIL(...) (st = cs_err_add(err, CS_INVARIANT, "invariant: error: %s: " __VA_ARGS__))
    if (t->macs_useful != macs)
        FAIL("MACs executed %" PRIu64 " != M*N*K*repeat %" PRIu64, g->name, t->macs_useful, macs);
    if (t->sm_bytes_read != t->sm_bytes_returned)
        FAIL("SMs requested %" PRIu64 " bytes but received %" PRIu64, g->name, t->sm_bytes_read,
             t->sm_bytes_returned);
    if (t->sm_bytes_written != t->sm_bytes_acked)
        FAIL("SMs stored %" PRIu64 " bytes but %" PRIu64 " were acknowledged", g->name, t->sm_bytes_written,
             t->sm_bytes_acked);
    if (t->l2_dram_read != t->dram_bytes_read || t->l2_fill_sectors * 32 != t->dram_bytes_read)
        FAIL("L2 asked DRAM for %" PRIu64 " bytes, DRAM read %" PRIu64 ", L2 filled %" PRIu64, g->name,
             t->l2_dram_read, t->dram_bytes_read, t->l2_fill_sectors * 32);
    if (t->l2_dram_written != t->dram_bytes_written)
        FAIL("L2 wrote back %" PRIu64 " bytes, DRAM wrote %" PRIu64, g->name, t->l2_dram_written,
             t->dram_bytes_written);
    if (gr->cycles < gr->bound_compute)
        FAIL("%" PRIu64 " cycles is below the compute bound of %" PRIu64, g->name, gr->cycles, gr->bound_compute);
    if (gr->cycles < gr->bound_dram)
        FAIL("%" PRIu64 " cycles is below the DRAM bandwidth bound of %" PRIu64, g->name, gr->cycles,
             gr->bound_dram);
#undef FAIL
    (void)a;
    (void)dtype;
    return st;
}

/* Lower bounds and the limiting resource. */
static void bounds(const cs_arch *a, cs_gemm_result *gr, int dtype, const cs_gpu_totals *kt)
{
    const cs_gemm *g = &gr->gemm;
    double clock = cs_arch_clock_hz(a);
    double peak = cs_arch_peak_macs_per_cycle(a, dtype);
    uint64_t eb = (uint64_t)cs_dtype_bytes(dtype);
    gr->bound_compute = (uint64_t)((double)gr->macs / peak);
    uint64_t compulsory = (g->m * g->k * g->repeat + g->n * g->k) * eb;
    bool dram_modelled = !a->l2.ideal && !a->hbm.ideal;
    gr->bound_dram = dram_modelled ? (uint64_t)((double)compulsory / (cs_arch_dram_bytes_per_s(a) / clock)) : 0;
    gr->bound_l2 = (uint64_t)((double)kt->l2_bytes_out / (double)(a->l2.slices * a->l2.bytes_per_cycle));
    double cyc = (double)(gr->cycles ? gr->cycles : 1);
    struct { const char *name; double u; } res[] = {
        {"compute", (double)kt->tc_busy_cycles / (cyc * (double)(a->sm.count * a->sm.subpartitions))},
        {"dram", dram_modelled ? (double)(kt->dram_bytes_read + kt->dram_bytes_written) /
                                     (cyc / clock * cs_arch_dram_bytes_per_s(a)) : 0},
        {"l2", (double)kt->l2_data_busy_cycles / (cyc * (double)a->l2.slices)},
        {"smem", (double)kt->smem_busy_cycles / (cyc * (double)a->sm.count)},
    };
    gr->bound = "latency";
    double best = 0.6;
    for (size_t i = 0; i < sizeof res / sizeof res[0]; i++)
        if (res[i].u > best) {
            best = res[i].u;
            gr->bound = res[i].name;
        }
}

static cs_status simulate(job *jb, size_t gi, cs_err *err)
{
    const cs_arch *a = &jb->ad->arch;
    cs_gemm_result *gr = &jb->r->gemms[gi];
    const cs_gemm *g = &jb->w->gemms[gi];
    gr->gemm = *g;
    gr->macs = g->m * g->n * g->k * g->repeat;
    snprintf(gr->mapping_json, sizeof gr->mapping_json, "{}");
    cs_tc_tiling tl = {0};
    cs_status st = CS_OK;
    if (!jb->o->factory) {
        st = cs_run_tiling(a, g, jb->dtype, &jb->o->tc, &tl, err);
        if (st != CS_OK)
            return st;
        snprintf(gr->mapping_kind, sizeof gr->mapping_kind, "tensor_core");
        cs_tc_tiling_str(&tl, jb->dtype, gr->mapping, sizeof gr->mapping);
        gr->ctas = cs_tc_ctas(g, &tl, jb->dtype);
    } else {
        snprintf(gr->mapping_kind, sizeof gr->mapping_kind, "trace");
        snprintf(gr->mapping, sizeof gr->mapping, "%s", jb->o->mapping_note ? jb->o->mapping_note : "");
    }
    cs_gpu *gpu;
    if ((st = cs_gpu_create(a, &gpu, err)) != CS_OK)
        return st;
    cs_target t = cs_arch_target(a);
    cs_ps total = 0;
    for (uint64_t r = 0; r < g->repeat && st == CS_OK; r++) {
        cs_opsrc *src = NULL;
        if (jb->o->factory) {
            st = jb->o->factory(jb->o->factory_ctx, gi, r, &src, err);
        } else {
            cs_gemm_layout lay = cs_run_layout(g, jb->dtype, r);
            st = cs_tc_opsrc_create(&t, g, &tl, &lay, &src, err);
        }
        cs_ps elapsed = 0;
        if (st == CS_OK)
            st = cs_gpu_run_kernel(gpu, src, &elapsed, err);
        cs_opsrc_destroy(src);
        total += elapsed;
    }
    cs_gpu_totals kt;
    cs_gpu_totals_get(gpu, &kt);
    if (st == CS_OK && a->run.flush_l2)
        st = cs_gpu_flush(gpu, err);
    if (st == CS_OK)
        st = cs_gpu_check_idle(gpu, err);
    if (st == CS_OK) {
        cs_gpu_totals_get(gpu, &gr->tot);
        gr->cycles = cs_clock_cycles_floor(cs_gpu_clock(gpu), total);
        gr->seconds = (double)gr->cycles / cs_arch_clock_hz(a);
        gr->tops = gr->seconds > 0 ? 2.0 * (double)gr->macs / gr->seconds / 1e12 : 0;
        gr->utilization = jb->r->peak_tops > 0 ? gr->tops / jb->r->peak_tops : 0;
        bounds(a, gr, jb->dtype, &kt);
        st = check_invariants(a, gr, jb->dtype, err);
    }
    if (st == CS_OK)
        st = cs_energy_eval(jb->et, cs_gpu_stats(gpu), NULL, gr->seconds, &gr->energy, err);
    cs_gpu_destroy(gpu);
    return st;
}

static void *worker(void *arg)
{
    job *jb = arg;
    for (;;) {
        size_t i = atomic_fetch_add(&jb->next, 1);
        if (i >= jb->w->count)
            break;
        cs_err_init(&jb->errs[i]);
        jb->status[i] = simulate(jb, i, &jb->errs[i]);
        size_t d = atomic_fetch_add(&jb->done, 1) + 1;
        if (jb->o->progress) {
            pthread_mutex_lock(&jb->progress_lock);
            fprintf(stderr, "\r\033[K[%zu/%zu] %s", d, jb->w->count, jb->w->gemms[i].name);
            if (d == jb->w->count)
                fputc('\n', stderr);
            fflush(stderr);
            pthread_mutex_unlock(&jb->progress_lock);
        }
    }
    return NULL;
}

cs_status cs_run(const cs_arch_doc *ad, const cs_workload *w, const cs_energy_table *et,
                 const cs_run_opts *o, cs_result **out, cs_err *err)
{
    *out = NULL;
    const cs_arch *a = &ad->arch;
    cs_result *r = cs_calloc(1, sizeof *r);
    job jb = {.ad = ad, .w = w, .et = et, .o = o, .r = r};
    jb.dtype = o->dtype >= 0 ? o->dtype : a->run.dtype;
    snprintf(r->arch, sizeof r->arch, "%s", a->name);
    snprintf(r->arch_source, sizeof r->arch_source, "%s", ad->source);
    snprintf(r->workload, sizeof r->workload, "%s", w->name);
    snprintf(r->command, sizeof r->command, "%s", o->command ? o->command : "");
    snprintf(r->energy_table, sizeof r->energy_table, "%s", cs_energy_table_name(et));
    snprintf(r->energy_version, sizeof r->energy_version, "%s", cs_energy_table_version(et));
    r->config_hash = ad->hash;
    r->dtype = jb.dtype;
    r->clock_hz = cs_arch_clock_hz(a);
    r->peak_macs_per_cycle = cs_arch_peak_macs_per_cycle(a, jb.dtype);
    r->peak_tops = 2.0 * r->peak_macs_per_cycle * r->clock_hz / 1e12;
    r->dram_bytes_per_s = cs_arch_dram_bytes_per_s(a);
    r->l2_bytes_per_cycle = (double)(a->l2.slices * a->l2.bytes_per_cycle);
    r->ngemms = w->count;
    r->gemms = cs_calloc(w->count, sizeof *r->gemms);
    jb.errs = cs_calloc(w->count, sizeof *jb.errs);
    jb.status = cs_calloc(w->count, sizeof *jb.status);
    pthread_mutex_init(&jb.progress_lock, NULL);
    atomic_init(&jb.next, 0);
    atomic_init(&jb.done, 0);
    int nt = o->threads > 0 ? o->threads : 1;
    if ((size_t)nt > w->count)
        nt = (int)w->count;
    pthread_t *th = cs_calloc((size_t)nt, sizeof *th);
    for (int i = 1; i < nt; i++)
        if (pthread_create(&th[i], NULL, worker, &jb) != 0)
            th[i] = 0;
    worker(&jb);
    for (int i = 1; i < nt; i++)
        if (th[i])
            pthread_join(th[i], NULL);
    cs_free(th);
    pthread_mutex_destroy(&jb.progress_lock);
    cs_status st = CS_OK;
    for (size_t i = 0; i < w->count; i++)
        if (jb.status[i] != CS_OK) {
            cs_err_merge(err, &jb.errs[i]);
            if (st == CS_OK)
                st = jb.status[i];
        }
    cs_free(jb.errs);
    cs_free(jb.status);
    if (st != CS_OK) {
        cs_result_destroy(r);
        return st;
    }
    /* Area: every instance of the GPU once (the same for every GEMM). */
    cs_gpu *gpu;
    if (cs_gpu_create(a, &gpu, err) == CS_OK) {
        cs_energy_report rep;
        if (cs_energy_eval(et, cs_gpu_stats(gpu), NULL, 0, &rep, err) == CS_OK) {
            r->area_mm2 = rep.area_mm2;
            cs_energy_report_free(&rep);
        }
        cs_gpu_destroy(gpu);
    }
    cs_result_finish(r);
    *out = r;
    return CS_OK;
}

/* mapper_tc — tiling heuristic and the lazy op generator of the tensor-core baseline.
 *
 * The generator is a resumable nested loop: per stream it keeps the CTA it is in and a
 * position (phase, k-step, warp, step) and emits exactly one op per call. Ops whose extent is
 * empty (a warp with no rows to copy, a warp tile entirely outside M) are skipped, so edge
 * tiles are exact and the MMAs of a GEMM sum to M*N*K.
 */
#include "mapper_tc.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"

static uint64_t cdiv(uint64_t a, uint64_t b) { return (a + b - 1) / b; }
static uint64_t min64(uint64_t a, uint64_t b) { return a < b ? a : b; }

uint32_t cs_tc_occupancy(const cs_target *t, uint32_t warps, uint64_t smem, uint32_t regs)
{
    uint64_t by_warps = t->max_warps_per_sm / warps;
    uint64_t by_smem = smem ? t->smem_bytes_per_sm / smem : t->max_ctas_per_sm;
    uint64_t by_regs = t->regs_per_sm / ((uint64_t)warps * 32 * regs);
    uint64_t n = min64(min64(by_warps, by_smem), min64(by_regs, t->max_ctas_per_sm));
    return (uint32_t)n;
}

/* Registers per thread of a warp tile: int32/fp32 accumulators, double-buffered fragments,
 * and a fixed allowance of 16 for addresses and loop state. */
static uint32_t regs_for(const cs_target *t, uint32_t warp_m, uint32_t warp_n, uint32_t k_group_bytes)
{
    uint32_t acc = warp_m * warp_n / 32;
    uint32_t frag = 2 * (warp_m + warp_n) * k_group_bytes / 4 / 32;
    uint32_t r = acc + frag + 16;
    return r > t->max_regs_per_thread ? t->max_regs_per_thread : r;
}

uint64_t cs_tc_ctas(const cs_gemm *g, const cs_tc_tiling *tl, int dtype)
{
    (void)dtype;
    return cdiv(g->m, tl->cta_m) * cdiv(g->n, tl->cta_n) * tl->split_k;
}

static uint64_t ksteps_total(const cs_gemm *g, const cs_tc_tiling *tl, int dtype)
{
    return cdiv(g->k * (uint64_t)cs_dtype_bytes(dtype), tl->cta_k_bytes);
}

/* Estimated cycles of a tiling: the slowest of compute (with wave quantisation and the
 * tensor-core padding of edge tiles), DRAM (compulsory bytes plus partial-sum traffic, at the
 * lower of the peak bandwidth and what the copies in flight can sustain over the memory
 * latency: Little's law), and L2 (every CTA reads its A and B panels), plus a pipeline fill
 * per wave. */
static double estimate(const cs_target *t, const cs_gemm *g, int dtype, cs_tc_tiling *tl)
{
    uint64_t elem = (uint64_t)cs_dtype_bytes(dtype);
    uint64_t ctas = cs_tc_ctas(g, tl, dtype);
    uint64_t slots = (uint64_t)t->sms * tl->ctas_per_sm;
    double waves = (double)cdiv(ctas, slots);
    uint64_t nk = cdiv(ksteps_total(g, tl, dtype), tl->split_k);
    uint64_t mp = cdiv(min64(g->m, tl->cta_m), t->mma_m) * t->mma_m;
    double cta_macs = (double)mp * (double)tl->cta_n * (double)(nk * tl->cta_k_bytes / elem);
    double rate = (double)t->tc_macs_per_cycle[dtype];
    /* Co-resident CTAs share the SM's tensor cores. */
    double resident = (double)min64(tl->ctas_per_sm, cdiv(ctas, t->sms));
    double t_compute = waves * cta_macs / (rate / resident);
    double bytes_out = (double)(g->m * g->n) * (tl->split_k > 1 ? 4.0 * 2 * tl->split_k : (double)elem);
    /* With an L2, DRAM sees the compulsory traffic; without one (bypass), every tile copy. */
    double bytes_l2 = (double)ctas * (double)(tl->cta_m + tl->cta_n) * (double)(nk * tl->cta_k_bytes);
    double bytes_dram = t->l2_bypass ? bytes_l2 + bytes_out
                                     : (double)(g->m * g->k + g->n * g->k) * (double)elem + bytes_out;
    double cycles_per_s = t->clock_hz;
    double t_dram = bytes_dram / t->dram_bytes_per_s * cycles_per_s;
    double concurrent = (double)min64(ctas, slots);
    double inflight = concurrent * (double)(tl->stages - 1) *
                      (double)(min64(g->m, tl->cta_m) + min64(g->n, tl->cta_n)) * (double)tl->cta_k_bytes;
    /* loaded latency: twice the unloaded round trip */
    double t_little = t->mem_latency_cycles > 0 ? bytes_dram / (inflight / (2.0 * t->mem_latency_cycles)) : 0;
    if (t_little > t_dram)
        t_dram = t_little;
    tl->est_inflight_bytes = inflight;
    tl->est_memory_bound = t_dram > t_compute;
    double t_l2 = t->l2_bypass ? 0 : bytes_l2 / t->l2_bytes_per_cycle;
    tl->est_l2_bytes = bytes_l2;
    double fill = waves * 2.0 * t->mem_latency_cycles; /* filling the pipeline, once per wave */
    /* Split-K partial sums (fp32) are reduced into the L2 by the epilogue of each CTA, in a
     * burst at the end of its main loop. When they do not fit in the L2 beside the operands,
     * the slices' partial sums are evicted between slices and return from DRAM, and that
     * traffic does not overlap the main loop: it is added, not overlapped (docs/model.md
     * 13.2, "split-K"; 2048x4096x4096 simulates 15 % slower at split 2 than at split 1). */
    double t_spill = 0;
    if (tl->split_k > 1 && !t->l2_bypass &&
        (double)(g->m * g->n) * 4.0 + (double)(g->m * g->k + g->n * g->k) * (double)elem > (double)t->l2_bytes)
        t_spill = bytes_out / t->dram_bytes_per_s * cycles_per_s;
    /* Shared-memory bank cycles: fragment loads of every warp plus the copies landing, per
     * k-step, at the bank pipeline's bytes per cycle, shared by the CTAs resident on an SM. */
    double lds = (double)tl->warps * (double)tl->cta_k_bytes * (double)(tl->warp_m + tl->warp_n) +
                 (double)(tl->cta_m + tl->cta_n) * (double)tl->cta_k_bytes;
    double t_smem = waves * resident * (double)nk * lds / (t->smem_bytes_per_cycle > 0 ? t->smem_bytes_per_cycle : 128.0);
    if (t_smem > t_compute)
        t_compute = t_smem;
    double m = t_compute > t_dram ? t_compute : t_dram;
    m = m > t_l2 ? m : t_l2;
    return m + fill + t_spill;
}

/* Tensor-core MACs spent on padding (rows and columns of edge tiles beyond the GEMM). */
static uint64_t waste(const cs_target *t, const cs_gemm *g, const cs_tc_tiling *tl)
{
    uint64_t mp = cdiv(g->m, tl->cta_m) * (g->m < tl->cta_m ? cdiv(g->m, t->mma_m) * t->mma_m : tl->cta_m);
    uint64_t np = cdiv(g->n, tl->cta_n) * tl->cta_n;
    return mp * np - g->m * g->n;
}

typedef struct cand {
    uint32_t cta_m, cta_n, warp_m, warp_n;
} cand;

static const cand candidates[] = {
    {256, 128, 64, 64}, {128, 256, 64, 64}, {128, 128, 64, 64}, {128, 64, 64, 32},
    {64, 128, 32, 64},  {64, 64, 32, 32},   {32, 128, 32, 32},  {16, 256, 16, 64},
    {16, 128, 16, 32},  {16, 64, 16, 16},
};

/* Completes a tiling from its tile shape: stages, occupancy, split-K. Returns false when it
 * cannot fit the target. */
static bool complete(const cs_target *t, const cs_gemm *g, int dtype, const cs_tc_overrides *ov,
                     cs_tc_tiling *tl)
{
    tl->warps = (tl->cta_m / tl->warp_m) * (tl->cta_n / tl->warp_n);
    if (tl->warps == 0 || tl->warps * 32 > 1024 || tl->warps > t->max_warps_per_sm)
        return false;
    tl->kgroups = ov->kgroups ? ov->kgroups : tl->cta_k_bytes / t->mma_k_bytes;
    if (!tl->kgroups || tl->cta_k_bytes % tl->kgroups)
        return false;
    tl->regs_per_thread = regs_for(t, tl->warp_m, tl->warp_n, tl->cta_k_bytes / tl->kgroups);
    uint64_t stage_bytes = (uint64_t)(tl->cta_m + tl->cta_n) * tl->cta_k_bytes;
    uint64_t nk_total = ksteps_total(g, tl, dtype);
    uint32_t best_stages = 0, best_occ = 0;
    for (uint32_t s = ov->stages ? ov->stages : 4; s >= (ov->stages ? ov->stages : 2); s--) {
        uint64_t smem = s * stage_bytes;
        if (smem > t->smem_bytes_per_cta_max)
            continue;
        uint32_t occ = cs_tc_occupancy(t, tl->warps, smem, tl->regs_per_thread);
        /* Prefer two resident CTAs (latency hiding) over a deeper pipeline, then depth. */
        uint32_t score_occ = occ > 2 ? 2 : occ;
        uint32_t best_score = best_occ > 2 ? 2 : best_occ;
        if (occ && (score_occ > best_score || !best_stages)) {
            best_stages = s;
            best_occ = occ;
        }
        if (s == 2)
            break;
    }
    if (!best_stages)
        return false;
    tl->stages = best_stages;
    tl->smem_bytes = best_stages * stage_bytes;
    tl->ctas_per_sm = best_occ;
    tl->raster = ov->raster ? ov->raster : 8;
    if (ov->split_k) {
        if (ov->split_k > nk_total)
            return false;
        /* Normalised so that no slice is empty: 5 k-steps split 4 ways is 3 slices of 2, 2, 1. */
        tl->split_k = (uint32_t)cdiv(nk_total, cdiv(nk_total, ov->split_k));
        tl->est_cycles = estimate(t, g, dtype, tl);
        return true;
    }
    /* Split K to fill the machine: the factor with the best estimate; within 3%, the one with
     * more copies in flight for memory-bound GEMMs. */
    cs_tc_tiling best = *tl;
    bool have = false;
    for (uint32_t s = 1; s <= 32 && s <= nk_total; s *= 2) {
        if (cdiv(nk_total, cdiv(nk_total, s)) != s)
            continue;
        tl->split_k = s;
        tl->est_cycles = estimate(t, g, dtype, tl);
        bool better = !have || tl->est_cycles < best.est_cycles * 0.97 ||
                      (tl->est_memory_bound && tl->est_cycles <= best.est_cycles * 1.03 &&
                       tl->est_inflight_bytes > best.est_inflight_bytes * 1.25);
        if (better) {
            best = *tl;
            have = true;
        }
    }
    *tl = best;
    return true;
}

cs_status cs_tc_choose(const cs_target *t, const cs_gemm *g, int dtype,
                       const cs_tc_overrides *ov, cs_tc_tiling *out, cs_err *err)
{
    static const cs_tc_overrides none;
    if (!ov)
        ov = &none;
    bool found = false;
    cs_tc_tiling best = {0};
    for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++) {
        cs_tc_tiling tl = {0};
        tl.cta_m = ov->cta_m ? ov->cta_m : candidates[i].cta_m;
        tl.cta_n = ov->cta_n ? ov->cta_n : candidates[i].cta_n;
        tl.warp_m = ov->warp_m ? ov->warp_m : (candidates[i].warp_m < tl.cta_m ? candidates[i].warp_m : tl.cta_m);
        tl.warp_n = ov->warp_n ? ov->warp_n : (candidates[i].warp_n < tl.cta_n ? candidates[i].warp_n : tl.cta_n);
        tl.cta_k_bytes = ov->cta_k_bytes ? ov->cta_k_bytes : 128;
        if (tl.cta_m % tl.warp_m || tl.cta_n % tl.warp_n || tl.warp_m % t->mma_m ||
            tl.warp_n % t->mma_n || tl.cta_k_bytes % t->mma_k_bytes)
            continue;
        if (!complete(t, g, dtype, ov, &tl))
            continue;
        /* Better by 3% wins. Within 3%: for memory-bound GEMMs, more copies in flight; else less
         * padding (a decode GEMM does not take a 128-row tile for its one row), then less L2
         * traffic (bigger tiles, as tuned libraries choose), then less shared memory. */
        bool better = !found || tl.est_cycles < best.est_cycles * 0.97;
        if (!better && tl.est_cycles <= best.est_cycles * 1.03) {
            uint64_t wa = waste(t, g, &tl), wb = waste(t, g, &best);
            if (tl.est_memory_bound && tl.est_inflight_bytes != best.est_inflight_bytes)
                better = tl.est_inflight_bytes > best.est_inflight_bytes * 1.25; /* hide more latency */
            else if (wa != wb)
                better = wa < wb;
            else /* less L2 traffic: bigger tiles, as tuned libraries choose for large GEMMs */
                better = tl.est_l2_bytes < best.est_l2_bytes ||
                         (tl.est_l2_bytes == best.est_l2_bytes && tl.smem_bytes < best.smem_bytes);
        }
        if (better) {
            best = tl;
            found = true;
        }
        if (ov->cta_m && ov->cta_n)
            break; /* a forced tile has one candidate */
    }
    if (!found)
        return cs_err_add(err, CS_INVALID,
                          "mapper: error: mapper.tc: no tiling fits %s (%llux%llux%llu) within "
                          "%llu B of shared memory per CTA with the forced fields",
                          g->name, (unsigned long long)g->m, (unsigned long long)g->n,
                          (unsigned long long)g->k, (unsigned long long)t->smem_bytes_per_cta_max);
    *out = best;
    return CS_OK;
}

void cs_tc_tiling_str(const cs_tc_tiling *tl, int dtype, char *out, size_t n)
{
    snprintf(out, n, "%ux%ux%u w%ux%u s%u k%u g%u", tl->cta_m, tl->cta_n,
             tl->cta_k_bytes / (uint32_t)cs_dtype_bytes(dtype), tl->warp_m, tl->warp_n,
             tl->stages, tl->split_k, tl->kgroups);
}

/* ---- the generator ------------------------------------------------------------------------ */

enum phase { PH_BEGIN, PH_PRO, PH_MAIN, PH_EPI, PH_END, PH_NEXT };

typedef struct stream_state {
    uint64_t cta;        /* current CTA index (global) */
    int phase;
    uint64_t s;          /* stage (prologue) or k-step (main loop) */
    uint32_t w;          /* warp */
    uint32_t step;       /* position in the warp's sequence for this k-step */
    /* the current CTA's geometry */
    uint64_t m0, n0, kstep0, nk;
    uint32_t rows_a, rows_b;
} stream_state;

typedef struct tc_src {
    cs_opsrc base;
    cs_target t;
    cs_gemm g;
    cs_tc_tiling tl;
    cs_gemm_layout lay;
    uint64_t ctas, tiles_m, tiles_n, nk_total, nk_per_split;
    uint32_t elem, wm, wn;
    stream_state *st;
} tc_src;

static void cta_geometry(const tc_src *x, stream_state *s)
{
    uint64_t c = s->cta;
    uint64_t si = c % x->tl.split_k, tile = c / x->tl.split_k;
    uint64_t band_tiles = (uint64_t)x->tl.raster * x->tiles_n;
    uint64_t band = tile / band_tiles, idx = tile % band_tiles;
    uint64_t rows_in_band = min64(x->tl.raster, x->tiles_m - band * x->tl.raster);
    uint64_t mi = band * x->tl.raster + idx % rows_in_band, ni = idx / rows_in_band;
    s->m0 = mi * x->tl.cta_m;
    s->n0 = ni * x->tl.cta_n;
    s->kstep0 = si * x->nk_per_split;
    s->nk = min64(x->nk_per_split, x->nk_total - s->kstep0);
    s->rows_a = (uint32_t)min64(x->tl.cta_m, x->g.m - s->m0);
    s->rows_b = (uint32_t)min64(x->tl.cta_n, x->g.n - s->n0);
}

static uint32_t steps_per_kstep(const tc_src *x) { return 4 + 3 * x->tl.kgroups; }

/* The copy of operand A (which = 0) or B (which = 1) for local k-step kt by warp w. */
static bool emit_copy(const tc_src *x, const stream_state *s, uint64_t kt, uint32_t w, int which,
                      cs_op *op)
{
    uint32_t rows = which ? s->rows_b : s->rows_a;
    uint32_t per = (uint32_t)cdiv(rows, x->tl.warps);
    uint32_t r0 = w * per;
    if (r0 >= rows)
        return false;
    uint32_t nr = rows - r0 < per ? rows - r0 : per;
    uint64_t pitch = x->g.k * x->elem;
    uint64_t k0 = (s->kstep0 + kt) * x->tl.cta_k_bytes;
    uint32_t kb = (uint32_t)min64(x->tl.cta_k_bytes, pitch - k0);
    uint64_t stage_base = (kt % x->tl.stages) * (uint64_t)(x->tl.cta_m + x->tl.cta_n) * x->tl.cta_k_bytes;
    memset(op, 0, sizeof *op);
    op->kind = CS_OP_CP_ASYNC;
    op->warp = (uint16_t)w;
    op->flags = CS_OPF_SWIZZLE;
    op->tag = (uint32_t)kt;
    op->addr = (which ? x->lay.b + (s->n0 + r0) * pitch : x->lay.a + (s->m0 + r0) * pitch) + k0;
    op->local = (uint32_t)(stage_base + (which ? (uint64_t)x->tl.cta_m * x->tl.cta_k_bytes : 0) +
                           (uint64_t)r0 * x->tl.cta_k_bytes);
    op->rows = nr;
    op->row_bytes = kb;
    op->stride = (uint32_t)pitch;
    return true;
}

/* Step `step` of warp w in local k-step kt of the main loop. */
static bool emit_main(const tc_src *x, const stream_state *s, cs_op *op)
{
    uint64_t kt = s->s;
    uint32_t w = s->w, step = s->step;
    memset(op, 0, sizeof *op);
    op->warp = (uint16_t)w;
    if (step == 0) {
        op->kind = CS_OP_CP_WAIT;
        op->tag = (uint32_t)kt;
        return true;
    }
    if (step == 1) {
        op->kind = CS_OP_BAR;
        return true;
    }
    if (step == 2 || step == 3) {
        uint64_t ahead = kt + x->tl.stages - 1;
        return ahead < s->nk && emit_copy(x, s, ahead, w, step - 2, op);
    }
    uint32_t g = (step - 4) / 3, part = (step - 4) % 3;
    uint32_t wr = w % x->wm, wc = w / x->wm;
    uint64_t pitch = x->g.k * x->elem;
    uint64_t k0 = (s->kstep0 + kt) * x->tl.cta_k_bytes;
    uint32_t kb = (uint32_t)min64(x->tl.cta_k_bytes, pitch - k0);
    uint32_t gb = x->tl.cta_k_bytes / x->tl.kgroups;
    if ((uint64_t)g * gb >= kb)
        return false; /* this k-group lies past the end of K */
    uint32_t gk = (uint32_t)min64(gb, kb - (uint64_t)g * gb);
    uint64_t stage_base = (kt % x->tl.stages) * (uint64_t)(x->tl.cta_m + x->tl.cta_n) * x->tl.cta_k_bytes;
    uint32_t m_valid = (uint32_t)(s->rows_a > wr * x->tl.warp_m ? min64(x->tl.warp_m, s->rows_a - wr * x->tl.warp_m) : 0);
    uint32_t n_valid = (uint32_t)(s->rows_b > wc * x->tl.warp_n ? min64(x->tl.warp_n, s->rows_b - wc * x->tl.warp_n) : 0);
    if (!m_valid || !n_valid)
        return false; /* warp tile outside the GEMM: nothing to load or compute */
    if (part == 2) {
        op->kind = CS_OP_MMA;
        op->dtype = (uint8_t)x->lay.dtype;
        op->rows = m_valid;
        op->row_bytes = n_valid;
        op->stride = gk / x->elem;
        return true;
    }
    op->kind = CS_OP_LDS;
    op->flags = CS_OPF_SWIZZLE;
    op->row_bytes = gk;
    op->stride = x->tl.cta_k_bytes;
    if (part == 0) { /* the warp reads whole MMA row blocks, padding included */
        op->rows = (uint32_t)(cdiv(m_valid, x->t.mma_m) * x->t.mma_m);
        op->local = (uint32_t)(stage_base + (uint64_t)wr * x->tl.warp_m * x->tl.cta_k_bytes + (uint64_t)g * gb);
    } else {
        op->rows = (uint32_t)(cdiv(n_valid, x->t.mma_n) * x->t.mma_n);
        op->local = (uint32_t)(stage_base + (uint64_t)x->tl.cta_m * x->tl.cta_k_bytes +
                               (uint64_t)wc * x->tl.warp_n * x->tl.cta_k_bytes + (uint64_t)g * gb);
    }
    return true;
}

static bool emit_epilogue(const tc_src *x, const stream_state *s, cs_op *op)
{
    uint32_t w = s->w, wr = w % x->wm, wc = w / x->wm;
    if (s->rows_a <= wr * x->tl.warp_m || s->rows_b <= wc * x->tl.warp_n)
        return false;
    uint32_t m_valid = (uint32_t)min64(x->tl.warp_m, s->rows_a - wr * x->tl.warp_m);
    uint32_t n_valid = (uint32_t)min64(x->tl.warp_n, s->rows_b - wc * x->tl.warp_n);
    bool split = x->tl.split_k > 1;
    uint64_t eb = split ? 4 : x->lay.c_elem_bytes;
    memset(op, 0, sizeof *op);
    op->kind = split ? CS_OP_RED : CS_OP_STG;
    op->warp = (uint16_t)w;
    op->addr = x->lay.c + ((s->m0 + (uint64_t)wr * x->tl.warp_m) * x->g.n + s->n0 +
                           (uint64_t)wc * x->tl.warp_n) * eb;
    op->rows = m_valid;
    op->row_bytes = (uint32_t)(n_valid * eb);
    op->stride = (uint32_t)(x->g.n * eb);
    return true;
}

/* Emits the op at the current position (returns false if that position produces none) and
 * moves to the next position. */
static bool emit_and_advance(const tc_src *x, stream_state *s, cs_op *op)
{
    bool made = false;
    switch (s->phase) {
    case PH_BEGIN:
        cta_geometry(x, s);
        memset(op, 0, sizeof *op);
        op->kind = CS_OP_CTA_BEGIN;
        op->x = (uint32_t)s->cta;
        op->rows = x->tl.warps;
        op->row_bytes = (uint32_t)x->tl.smem_bytes;
        op->stride = x->tl.regs_per_thread;
        s->phase = PH_PRO;
        s->s = s->w = s->step = 0;
        return true;
    case PH_PRO: {
        uint64_t pro = min64(x->tl.stages - 1, s->nk);
        if (s->s >= pro) {
            s->phase = PH_MAIN;
            s->s = s->w = s->step = 0;
            return false;
        }
        made = emit_copy(x, s, s->s, s->w, (int)s->step, op);
        if (++s->step == 2) {
            s->step = 0;
            if (++s->w == x->tl.warps) {
                s->w = 0;
                s->s++;
            }
        }
        return made;
    }
    case PH_MAIN:
        if (s->s >= s->nk) {
            s->phase = PH_EPI;
            s->w = 0;
            return false;
        }
        made = emit_main(x, s, op);
        if (++s->step == steps_per_kstep(x)) {
            s->step = 0;
            if (++s->w == x->tl.warps) {
                s->w = 0;
                s->s++;
            }
        }
        return made;
    case PH_EPI:
        if (s->w >= x->tl.warps) {
            s->phase = PH_END;
            return false;
        }
        made = emit_epilogue(x, s, op);
        s->w++;
        return made;
    case PH_END:
        memset(op, 0, sizeof *op);
        op->kind = CS_OP_CTA_END;
        op->x = (uint32_t)s->cta;
        s->cta += x->t.sms;
        s->phase = PH_BEGIN;
        return true;
    }
    return false;
}

static cs_status tc_next(cs_opsrc *src, uint32_t sidx, cs_op *op, bool *eof, cs_err *err)
{
    (void)err;
    tc_src *x = (tc_src *)src;
    stream_state *s = &x->st[sidx];
    for (;;) {
        if (s->phase == PH_BEGIN && s->cta >= x->ctas) {
            *eof = true;
            return CS_OK;
        }
        if (emit_and_advance(x, s, op)) {
            *eof = false;
            return CS_OK;
        }
    }
}

static void tc_destroy(cs_opsrc *src)
{
    tc_src *x = (tc_src *)src;
    cs_free(x->st);
    cs_free(x->base.streams);
    cs_free(x);
}

static const cs_opsrc_vt tc_vt = {tc_next, tc_destroy};

cs_status cs_tc_opsrc_create(const cs_target *t, const cs_gemm *g, const cs_tc_tiling *tl,
                             const cs_gemm_layout *lay, cs_opsrc **out, cs_err *err)
{
    if (!tl->cta_m || !tl->cta_n || !tl->warp_m || !tl->warp_n || !tl->stages || !tl->split_k ||
        !tl->kgroups || !tl->cta_k_bytes || !tl->raster)
        return cs_err_add(err, CS_INVALID, "mapper: error: incomplete tiling");
    tc_src *x = cs_calloc(1, sizeof *x);
    x->base.vt = &tc_vt;
    x->base.nstreams = t->sms;
    x->base.streams = cs_calloc(t->sms, sizeof(cs_stream_info));
    for (uint32_t i = 0; i < t->sms; i++)
        x->base.streams[i] = (cs_stream_info){CS_STREAM_SM, i};
    x->t = *t;
    x->g = *g;
    x->tl = *tl;
    x->lay = *lay;
    x->elem = (uint32_t)cs_dtype_bytes(lay->dtype);
    x->tiles_m = cdiv(g->m, tl->cta_m);
    x->tiles_n = cdiv(g->n, tl->cta_n);
    x->ctas = x->tiles_m * x->tiles_n * tl->split_k;
    x->nk_total = ksteps_total(g, tl, lay->dtype);
    x->nk_per_split = cdiv(x->nk_total, tl->split_k);
    x->wm = tl->cta_m / tl->warp_m;
    x->wn = tl->cta_n / tl->warp_n;
    x->st = cs_calloc(t->sms, sizeof *x->st);
    for (uint32_t i = 0; i < t->sms; i++)
        x->st[i] = (stream_state){.cta = i, .phase = PH_BEGIN};
    *out = &x->base;
    return CS_OK;
}

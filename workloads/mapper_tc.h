/* mapper_tc — the tensor-core baseline: CUTLASS-style tiling of a GEMM and the op streams
 * that execute it on the SMs.
 *
 * A tiling is a CTA tile (cta_m x cta_n, k-step cta_k_bytes), a warp tile, a multistage
 * asynchronous-copy pipeline depth, a split-K factor and a CTA rasterization. cs_tc_choose
 * picks one per GEMM by a documented analytical heuristic (docs/model.md, "Baseline
 * mapping"); every field can be forced (cs_tc_overrides, from the config's mapper.tc group or
 * the command line). The simulation, not the heuristic, decides the result: the heuristic only
 * ranks candidate tilings by estimated time.
 *
 * The op source (cs_tc_opsrc_create) generates, lazily and deterministically, one stream per
 * SM: CTA c runs on SM c mod sms (static round-robin; the SM runs as many at once as occupancy
 * allows). Per CTA: prologue copies for stages-1 k-steps; per k-step: wait for the oldest
 * stage, barrier, issue the copies of the k-step stages-1 ahead, then per k-group: LDS of the
 * A and B fragments and one MMA of the warp tile; epilogue: STG of the warp tile (split-K:
 * RED of 4-byte partial sums into L2). Operands: A row-major M x K at layout.a, B row-major
 * N x K at layout.b, Z row-major M x N at layout.c.
 */
#ifndef CS_MAPPER_TC_H
#define CS_MAPPER_TC_H

#include <stdint.h>

#include "err.h"
#include "opsrc.h"
#include "target.h"
#include "workload.h"

typedef struct cs_tc_tiling {
    uint32_t cta_m, cta_n;      /* CTA tile, elements */
    uint32_t cta_k_bytes;       /* k-step, bytes of the input type per row */
    uint32_t warp_m, warp_n;    /* warp tile, elements */
    uint32_t warps;             /* per CTA */
    uint32_t stages;            /* copy pipeline depth (>= 2) */
    uint32_t split_k;           /* K slices; > 1 reduces partial sums with RED */
    uint32_t kgroups;           /* LDS+MMA groups per k-step */
    uint32_t raster;            /* CTA rasterization: tile rows per band (swizzle width) */
    uint32_t regs_per_thread;
    uint64_t smem_bytes;        /* per CTA */
    uint32_t ctas_per_sm;       /* occupancy this tiling achieves */
    double est_cycles;          /* the heuristic's estimate (for the report only) */
    double est_inflight_bytes;  /* copies in flight across the GPU (for the heuristic) */
    double est_l2_bytes;        /* bytes the CTAs read from L2 (for the heuristic) */
    bool est_memory_bound;      /* the estimate is set by DRAM rather than compute */
} cs_tc_tiling;

/* Zero fields are free; non-zero fields are forced. */
typedef struct cs_tc_overrides {
    uint32_t cta_m, cta_n, cta_k_bytes, warp_m, warp_n, stages, split_k, kgroups, raster;
} cs_tc_overrides;

typedef struct cs_gemm_layout {
    uint64_t a, b, c;           /* base byte addresses */
    int dtype;                  /* cs_dtype of A and B */
    uint32_t c_elem_bytes;      /* output element size (partial sums use 4) */
} cs_gemm_layout;

/* Chooses a tiling. Errors (CS_INVALID) when overrides are inconsistent or no tiling fits the
 * target (e.g. a forced tile whose shared memory exceeds the per-CTA limit). */
cs_status cs_tc_choose(const cs_target *t, const cs_gemm *g, int dtype,
                       const cs_tc_overrides *ov, cs_tc_tiling *out, cs_err *err);
/* Occupancy of a CTA using `warps`, `smem` bytes and `regs` per thread: CTAs per SM. */
uint32_t cs_tc_occupancy(const cs_target *t, uint32_t warps, uint64_t smem, uint32_t regs);
/* Streams for one execution of g (one repeat). */
cs_status cs_tc_opsrc_create(const cs_target *t, const cs_gemm *g, const cs_tc_tiling *tl,
                             const cs_gemm_layout *lay, cs_opsrc **out, cs_err *err);
/* "128x256x128 w64x64 s3 k1 g4" */
void cs_tc_tiling_str(const cs_tc_tiling *tl, int dtype, char *out, size_t n);
/* Number of CTAs of the tiling for g. */
uint64_t cs_tc_ctas(const cs_gemm *g, const cs_tc_tiling *tl, int dtype);

#endif

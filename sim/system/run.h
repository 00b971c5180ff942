/* run — simulates a workload on an architecture: each GEMM on a freshly built GPU (so its
 * figures do not depend on what ran before it, nor on how GEMMs are spread over threads),
 * its repeats back to back on that GPU, the L2 flushed at the end; then the end-of-run
 * invariants, the energy evaluation and the result.
 *
 * GEMMs run in parallel on `threads` worker threads; results are assembled in workload order,
 * so the output is bit-identical whatever the thread count.
 */
#ifndef CS_RUN_H
#define CS_RUN_H

#include <stdbool.h>

#include "arch.h"
#include "mapper_cim.h"
#include "placement.h"
#include "energy.h"
#include "mapper_tc.h"
#include "opsrc.h"
#include "result.h"
#include "workload.h"

/* Where a GEMM's op streams come from when not from the mapper (trace replay). Called once
 * per repeat; the runner destroys the source after the kernel. */
typedef cs_status (*cs_src_factory)(void *ctx, size_t gemm, uint64_t repeat, cs_opsrc **out,
                                    cs_err *err);

/* Told after each finished GEMM, one call at a time: done of total, the GEMM's name and the
 * primitive (NULL for the baseline). The runner prints nothing itself; tools/ does. */
typedef void (*cs_run_progress_fn)(size_t done, size_t total, const char *gemm, const char *primitive);

typedef struct cs_run_opts {
    int dtype;                /* -1: the architecture's run.dtype */
    int threads;              /* worker threads (<= 0: 1) */
    const char *command;      /* the command line, for provenance */
    cs_run_progress_fn progress; /* told of each finished GEMM (NULL: nothing) */
    cs_tc_overrides tc;       /* non-zero fields override the architecture's mapper group */
    cs_src_factory factory;   /* NULL: the tensor-core mapper */
    void *factory_ctx;
    const char *mapping_note; /* with a factory: the mapping summary to report */
    const char *mapping_kind; /* with a factory: "tensor_core" or "cim" (default "trace") */
    uint64_t mapping_ctas;    /* with a factory: CTAs to report */
    const char *mapping_json; /* with a factory: mapping details (JSON) or NULL */
    uint64_t mapping_macros_used; /* with a factory and a placement: macros the mapping uses */
    const cs_placement *cim;  /* NULL: the tensor-core baseline */
    const char *stats_glob;   /* non-NULL: keep each GEMM's statistics matching it (text dump) */
    cs_cim_request cim_req;
} cs_run_opts;

void cs_run_opts_init(cs_run_opts *o);

/* The layout of GEMM operands in memory for repeat r (A and Z per repeat, B shared). */
cs_gemm_layout cs_run_layout(const cs_gemm *g, int dtype, uint64_t repeat);
/* A placement's view for the runner: the shrunk architecture and the mapper's target. */
typedef struct cs_run_cim {
    cs_arch arch;          /* shrunk */
    cs_cim_target target;
} cs_run_cim;
void cs_run_cim_setup(const cs_placement *pl, const cs_arch *a, const cs_energy_table *et, cs_run_cim *out);
/* The CiM mapping the runner would use for g. */
cs_status cs_run_cim_mapping(const cs_run_cim *rc, const cs_gemm *g, int dtype, const cs_cim_request *req,
                             cs_cim_mapping *out, cs_err *err);
/* The CiM mapping a run with options o would choose for g: the estimate's candidates
 * simulated, the best by the goal (o->cim set, no factory); json gets the mapping's JSON as the
 * result reports it (with the candidates). */
cs_status cs_run_cim_choose(const cs_arch_doc *ad, const cs_gemm *g, const cs_energy_table *et, const cs_run_opts *o,
                            cs_cim_mapping *out, char *json, size_t json_bytes, cs_err *err);
/* The tiling the runner would use for g. */
cs_status cs_run_tiling(const cs_arch *a, const cs_gemm *g, int dtype, const cs_tc_overrides *ov,
                        cs_tc_tiling *out, cs_err *err);

cs_status cs_run(const cs_arch_doc *ad, const cs_workload *w, const cs_energy_table *et,
                 const cs_run_opts *o, cs_result **out, cs_err *err);

/* Several variants (baseline, placements) in one pool of `threads` workers sharing the
 * (variant, GEMM) pairs, so long variants do not idle the other threads. outs[v] gets
 * variant v's result; the options' own threads/progress fields are ignored here. */
typedef struct cs_run_spec {
    const cs_arch_doc *ad;
    const cs_workload *w;
    const cs_energy_table *et;
    const cs_run_opts *o;
} cs_run_spec;
cs_status cs_run_many(const cs_run_spec *specs, size_t n, int threads, cs_run_progress_fn progress, cs_result **outs,
                      cs_err *err);
/* Same pool, but each variant is handed to fn as soon as its last GEMM finishes (completion
 * order; one call at a time, from whichever thread finished it): r is the callee's to destroy
 * (NULL when st != CS_OK, err then holds the variant's messages, freed after the call).
 * Returns the first failing variant's status (in variant order), else CS_OK. */
typedef void (*cs_run_done_fn)(void *ctx, size_t v, cs_result *r, cs_status st, const cs_err *err);
cs_status cs_run_each(const cs_run_spec *specs, size_t n, int threads, cs_run_progress_fn progress, cs_run_done_fn fn,
                      void *ctx);

#endif

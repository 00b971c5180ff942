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
#include "energy.h"
#include "mapper_tc.h"
#include "opsrc.h"
#include "result.h"
#include "workload.h"

/* Where a GEMM's op streams come from when not from the mapper (trace replay). Called once
 * per repeat; the runner destroys the source after the kernel. */
typedef cs_status (*cs_src_factory)(void *ctx, size_t gemm, uint64_t repeat, cs_opsrc **out,
                                    cs_err *err);

typedef struct cs_run_opts {
    int dtype;                /* -1: the architecture's run.dtype */
    int threads;              /* worker threads (<= 0: 1) */
    const char *command;      /* the command line, for provenance */
    bool progress;            /* one line per finished GEMM on stderr */
    cs_tc_overrides tc;       /* non-zero fields override the architecture's mapper group */
    cs_src_factory factory;   /* NULL: the tensor-core mapper */
    void *factory_ctx;
    const char *mapping_note; /* with a factory: the mapping summary to report */
} cs_run_opts;

void cs_run_opts_init(cs_run_opts *o);

/* The layout of GEMM operands in memory for repeat r (A and Z per repeat, B shared). */
cs_gemm_layout cs_run_layout(const cs_gemm *g, int dtype, uint64_t repeat);
/* The tiling the runner would use for g. */
cs_status cs_run_tiling(const cs_arch *a, const cs_gemm *g, int dtype, const cs_tc_overrides *ov,
                        cs_tc_tiling *out, cs_err *err);

cs_status cs_run(const cs_arch_doc *ad, const cs_workload *w, const cs_energy_table *et,
                 const cs_run_opts *o, cs_result **out, cs_err *err);

#endif

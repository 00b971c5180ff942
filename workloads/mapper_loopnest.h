/* mapper_loopnest — executes a loop nest (loopnest.h) as op streams: one executor for every
 * mapping given as per-level factors, permutations and keep/bypass sets, whether it comes from
 * the WWW algorithm (`--mapping www`), from a Timeloop map.yaml (`--mapping timeloop:FILE`) or
 * from the PE-array baseline's default.
 *
 * How a nest runs (docs/model.md, 13.6):
 *  - The temporal loops above the CiM bank (or above the PE array's register file) are walked
 *    in the nest's order (DRAM's, then SMEM's; permutations innermost first). The innermost
 *    run of M loops of the level just above becomes the rows of one step; every other loop
 *    point is a step: rows x (bank tile of N x K).
 *  - CiM: the bank holds bN x bK macro tiles of tN = array N x storage N columns by tK = array K
 *    x storage K rows. A macro is rewritten (CIM_WRITE) whenever the step's bank tile differs
 *    from the previous step's; with twice the macros the bank needs, tiles alternate between two
 *    sets and the next residency's writes overlap the current one's compute. Macros that share
 *    inputs (the same K slice, different N) get them from one read, broadcast (CS_OPF_BCAST).
 *    Partial sums go from each macro to the level that keeps Z: shared memory (CIM_READ
 *    CS_OPF_TO_SMEM, with CS_OPF_ACCUM unless it is the outputs' first contribution) or DRAM
 *    (STG of the first contribution, RED after it, data from the macro: CS_OPF_FROM_CIM); with
 *    the adder-tree convention the macros of a bank that split K are summed before that.
 *  - Shared-memory tiles (A and Z for CiM at register-file level, A and B for the PE array)
 *    are loaded when the DRAM loops they depend on move; a Z tile is drained (STG from shared
 *    memory) when it leaves, as partial sums if more K is to come, and refilled from DRAM when it
 *    comes back. Tiles are double-buffered when two of them fit, so loads overlap compute.
 *  - PE array: one MMA per sub-partition and step, operands read from shared memory by the PE
 *    array itself (CS_OPF_FROM_SMEM: A into the per-PE operand registers, B broadcast to the
 *    sub-partitions), Z accumulated in the register file and stored when its tile leaves.
 *  - A grid of controllers (SMs) may split N, K and M; each runs the nest on its share (the
 *    nest is written for controller 0's, the largest; the others clip it).
 *
 * The plan also states the DRAM traffic the nest implies when every tile moves exactly as the
 * loops say (bytes per dataspace): the figure `--mapping www` is checked against.
 *
 * Not responsible for: choosing factors (mapper_www.h, loopnest.h), simulating (sim/).
 */
#ifndef CS_MAPPER_LOOPNEST_H
#define CS_MAPPER_LOOPNEST_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "json.h"
#include "loopnest.h"
#include "mapper_tc.h"
#include "opsrc.h"
#include "target.h"
#include "workload.h"

/* What the executor needs to know of the hardware and the conventions. */
typedef struct cs_nest_hw {
    uint32_t controllers;         /* SMs that may run a share */
    uint32_t macros;              /* CiM: macros of one controller */
    uint32_t rp, cp, rh, ch;      /* CiM primitive */
    double latency_cycles;        /* CiM: one operation, SM cycles */
    double write_bytes_per_cycle; /* CiM: weight writes per macro */
    uint32_t pe_n, pe_k;          /* PE array: rows (N) x columns (K) per sub-partition */
    uint32_t subparts;
    uint64_t smem_bytes;          /* shared memory one CTA may use for tiles */
    uint32_t psum_bytes;          /* one partial sum wherever it is stored or moved */
    bool adder_tree;              /* a bank's K-split macros add their partial sums for free */
    double dram_bytes_per_cycle;  /* for the estimate: the DRAM's peak, SM cycles */
    double smem_bytes_per_cycle;  /* for the estimate: the shared-memory pipeline */
    double latency_fill_cycles;   /* for the estimate: a memory round trip */
} cs_nest_hw;

/* A nest ready to run on a grid of controllers. */
typedef struct cs_nest_plan {
    cs_nest nest;
    uint32_t grid_n, grid_k, grid_m; /* controllers used = the product */
    uint64_t mc, nc, kc;             /* controller 0's share */
    uint32_t tk, tn, bn, bk;         /* CiM: macro tile and bank spread */
    uint32_t rows;                   /* rows of a step (the innermost M run, at most 65535) */
    bool db_weights;                 /* two macro sets: writes overlap compute */
    bool db[CS_NEST_DS];             /* shared-memory tiles double-buffered */
    uint64_t tile_bytes[CS_NEST_DS]; /* one shared-memory tile of each dataspace (0: not kept) */
    uint64_t smem_bytes;             /* shared memory the CTA allocates */
    /* what the nest implies, over all controllers, one execution */
    uint64_t steps, residencies, epochs;
    uint64_t dram_read[CS_NEST_DS], dram_write[CS_NEST_DS]; /* bytes */
    uint64_t macs_exec;              /* CiM: MACs at full array width */
    double est_cycles;
} cs_nest_plan;

/* Plans n on a grid (the nest's factors are controller 0's share). CS_INVALID when the tiles do
 * not fit shared memory, the bank needs more macros than there are, or the grid has no work.
 * Without `all`, only controller 0's schedule is walked (enough for the estimate; the traffic
 * figures then cover controller 0 alone). */
cs_status cs_nest_plan_make(const cs_nest_hw *hw, const cs_nest *n, const cs_gemm *g, int dtype, uint32_t grid_n,
                            uint32_t grid_k, uint32_t grid_m, bool all, cs_nest_plan *out, cs_err *err);
/* Op streams of execution `repeat` of g (one per SM; later repeats skip the weight writes when
 * one residency holds the whole share). */
cs_status cs_nest_opsrc_create(const cs_target *t, const cs_nest_hw *hw, const cs_nest_plan *p, const cs_gemm *g,
                               const cs_gemm_layout *lay, uint64_t repeat, cs_opsrc **out, cs_err *err);
/* Macros the plan writes into, over the GPU. */
uint64_t cs_nest_plan_macros_used(const cs_nest_plan *p);
/* One line and a JSON object (the nest, the grid, double buffering, the implied traffic). */
void cs_nest_plan_str(const cs_nest_plan *p, const char *mode, char *out, size_t cap);
void cs_nest_plan_json(const cs_nest_plan *p, cs_json *j);

/* ---- CiM placements (mapper_cim.h dispatches its www and timeloop modes here) ------------- */
struct cs_cim_target;
struct cs_cim_request;
struct cs_cim_mapping;
/* The executor's view of a CiM placement. */
void cs_nest_hw_cim(const cs_target *t, const struct cs_cim_target *ct, cs_nest_hw *hw);
/* www: the WWW algorithm on each grid's controller-0 share (memory above: the staging shared
 * memory at rf level, none at smem level; outputs there at the partial-sum width), the grid of
 * the lowest estimate. timeloop: the map bound to the placement's template, one controller. */
cs_status cs_nest_cim_map(const cs_target *t, const struct cs_cim_target *ct, const cs_gemm *g, int dtype,
                          const struct cs_cim_request *req, struct cs_cim_mapping *out, cs_err *err);
cs_status cs_nest_cim_opsrc(const cs_target *t, const struct cs_cim_target *ct, const cs_gemm *g,
                            const struct cs_cim_mapping *m, const cs_gemm_layout *lay, uint64_t repeat,
                            cs_opsrc **out, cs_err *err);
/* The mapping JSON of a nest-executed CiM mapping: mode, goal, the plan (cs_nest_plan_json's
 * keys) and, for www, the factors of the algorithm as executed. */
void cs_nest_cim_mapping_json(const struct cs_cim_mapping *m, cs_json *j);

#endif

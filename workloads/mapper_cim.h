/* mapper_cim — maps a GEMM onto CiM macros placed at one level (register file, shared memory
 * or L2) and generates the op streams that execute the mapping.
 *
 * Weights B (N x K) stay in the macros; inputs A stream through them; outputs Z are
 * accumulated as partial sums. A mapping says:
 *  - the controller grid: controllers (SMs for rf/smem, L2 slices for l2) split N (grid_n),
 *    K (grid_k: partial sums reduced in L2 with RED) and M (grid_m: the same weights on
 *    several controllers = duplication across controllers);
 *  - the weight tile of a macro (kt x nt <= the primitive's rp*rh x cp*ch);
 *  - dup: copies of each tile inside a controller, each taking a share of the rows;
 *  - rounds: a controller's tiles are loaded `slots` at a time (interleaving: the slots hold
 *    different slices of B spread over the macros); with double_buffer the macros are split in
 *    two sets and the next round's tiles are written into one set while the other computes;
 *  - the loop order: weight-stationary (rounds outer: each tile is written once per repeat,
 *    partial sums of a column block live across rounds, in the register file if they fit,
 *    else reduced in L2) or output-stationary (input chunks outer: partial sums of a chunk stay
 *    in registers, tiles are rewritten for every chunk when there is more than one round);
 *  - m1: input rows staged per chunk (shared memory, double-buffered);
 *  - residency: a mapping with one round writes its weights once for all repeats.
 *
 * Modes: `www` (the WWW study's priority algorithm, mapper_www.h, applied to each controller's
 * share; at rf and smem level its whole loop nest runs on the loop-nest executor,
 * mapper_loopnest.h), `timeloop` (a Timeloop map.yaml, loopnest.h, on the same executor),
 * `auto` (a bounded, deterministic search over the grid, duplication, order and double
 * buffering, ranked by an analytical estimate for the goal: cycles, energy or EDP; the
 * simulation then measures the chosen mapping), or forced fields.
 *
 * Op streams: rf/smem levels: one stream per SM (CTAs of four warps; warp w drives the macros
 * of sub-partition w); l2 level: one stream per SM (inputs staged, sent to the slices, partial
 * sums collected) and one CiM-controller stream per L2 slice (weight writes).
 */
#ifndef CS_MAPPER_CIM_H
#define CS_MAPPER_CIM_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "mapper_loopnest.h"
#include "mapper_tc.h"
#include "mapper_www.h"
#include "opsrc.h"
#include "target.h"
#include "workload.h"

typedef enum { CS_CIM_RF = 0, CS_CIM_SMEM = 1, CS_CIM_L2 = 2, CS_CIM_LEVELS } cs_cim_level;
typedef enum { CS_CIM_MAP_AUTO = 0, CS_CIM_MAP_WWW = 1, CS_CIM_MAP_TIMELOOP = 2 } cs_cim_mode;
typedef enum { CS_CIM_GOAL_CYCLES = 0, CS_CIM_GOAL_ENERGY = 1, CS_CIM_GOAL_EDP = 2 } cs_cim_goal;
typedef enum { CS_CIM_WS = 0, CS_CIM_OS = 1 } cs_cim_order;

const char *cs_cim_level_name(int level);   /* "rf", "smem", "l2" */
int cs_cim_level_from_name(const char *s);  /* -1 when unknown */

/* The placement, as numbers (filled by the system from the architecture and primitive). */
typedef struct cs_cim_target {
    int level;
    uint32_t controllers;         /* SMs (rf, smem) or L2 slices (l2) */
    uint32_t macros;              /* per controller */
    uint32_t subs;                /* rf: sub-partitions the macros are split over; else 1 */
    uint32_t rp, cp, rh, ch;
    uint32_t input_bits, weight_bits; /* precisions the primitive computes at */
    const char *name;             /* the primitive's, for messages */
    double latency_cycles;        /* one CiM operation, SM cycles */
    double write_bytes_per_cycle; /* per macro */
    uint64_t stage_bytes;         /* shared memory per SM for staging inputs (0: none) */
    uint64_t acc_bytes;           /* register-file bytes per controller for partial sums */
    double mac_pj, write_pj;      /* per MAC, per weight write of ch bytes (scaled) */
    double static_pj_per_cycle;   /* energy that accrues with time (leakage, static power), whole GPU */
    double host_share;            /* fraction of its host port a busy macro reserves (model.md 10.3) */
    double rf_port_bytes_per_cycle; /* a sub-partition's register-file port (0: unlimited) */
    double dram_pj_per_byte, onchip_pj_per_byte;
    uint32_t psum_bytes;          /* a partial sum (compat.psum_bits; 4 by default) */
    bool adder_tree;              /* compat.adder_tree */
} cs_cim_target;

typedef struct cs_cim_request {
    int mode;                     /* cs_cim_mode */
    int goal;                     /* cs_cim_goal */
    uint32_t dup;                 /* copies of each weight tile in the GPU (grid_m x dup); 0: search */
    int order;                    /* -1: search */
    int double_buffer;            /* -1: search, 0 off, 1 on */
    uint32_t candidates;          /* auto: mappings the runner simulates per goal (0: CS_CIM_CANDIDATES) */
    const cs_nest_spec *spec;     /* CS_CIM_MAP_TIMELOOP (and the PE-array baseline): the map read */
} cs_cim_request;

/* The default of --candidates: the best two by estimated cycles (and, for the energy and EDP
 * goals, the best two by estimated energy too) are simulated (docs/model.md section 13.4). */
enum { CS_CIM_CANDIDATES = 2, CS_CIM_CANDIDATES_MAX = 16 };

typedef struct cs_cim_mapping {
    int mode, goal, order;
    bool double_buffer;
    uint32_t kt, nt;              /* weight tile of a macro, elements */
    uint32_t grid_n, grid_k, grid_m;
    uint32_t dup;
    uint32_t m1;                  /* rows per input chunk */
    bool spill;                   /* weight-stationary partial sums reduced in L2 between rounds */
    bool from_global;             /* inputs fetched straight from memory (no staging buffer) */
    /* derived, per controller */
    uint64_t mc, nc, kc;          /* the share of the largest controller */
    uint64_t tiles_n, tiles_k;    /* tiles of that share */
    uint32_t slots;               /* distinct tiles resident per round */
    uint64_t rounds;
    uint64_t chunks;              /* input chunks of mc rows */
    bool resident;                /* one round: weights written once for all repeats */
    uint64_t weight_bytes;        /* written per repeat, all controllers, copies included */
    double est_cycles, est_energy_pj;
    bool has_www;
    cs_www_mapping www;
    bool nest_exec;               /* www (rf, smem) and timeloop: run by the loop-nest executor */
    cs_nest_plan plan;
} cs_cim_mapping;

void cs_cim_request_init(cs_cim_request *r);
/* The mapping the estimate ranks best for the goal. CS_INVALID when a forced field cannot work
 * (e.g. dup beyond the macros). */
cs_status cs_cim_map(const cs_target *t, const cs_cim_target *ct, const cs_gemm *g, int dtype,
                     const cs_cim_request *req, cs_cim_mapping *out, cs_err *err);
/* The candidates for the runner to simulate (at most cap, *n of them): the estimate's best for
 * the goal first, then the next best by estimated cycles and (goals energy, edp) by estimated
 * energy in turn, up to req->candidates of each; a deterministic order. www mode: one. */
cs_status cs_cim_map_candidates(const cs_target *t, const cs_cim_target *ct, const cs_gemm *g, int dtype,
                                const cs_cim_request *req, cs_cim_mapping *out, size_t cap, size_t *n,
                                cs_err *err);
/* Op streams for execution `repeat` of g (repeats after the first skip the weight writes of a
 * resident mapping). Weight offsets of the l2 level are per-slice byte offsets (the slice
 * keeps its weights in its own DRAM channel); other addresses come from lay. */
/* Macros the mapping ever writes a tile into, over the GPU (two sets when double-buffered). */
uint64_t cs_cim_mapping_macros_used(const cs_cim_mapping *m);
cs_status cs_cim_opsrc_create(const cs_target *t, const cs_cim_target *ct, const cs_gemm *g,
                              const cs_cim_mapping *m, const cs_gemm_layout *lay, uint64_t repeat,
                              cs_opsrc **out, cs_err *err);
/* One line ("ws db dup2 grid 16x1x6 tile 64x64 m1 32 rounds 2") and a JSON object. */
void cs_cim_mapping_str(const cs_cim_mapping *m, char *out, size_t n);
void cs_cim_mapping_json(const cs_cim_mapping *m, cs_buf *out);

#endif

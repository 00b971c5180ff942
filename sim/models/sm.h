/* sm — a streaming multiprocessor: CTA scheduling under occupancy limits, warps issuing the
 * ops of their op stream in order on four sub-partitions, the tensor cores, register files and
 * shared-memory banks as resources, and a load/store unit that turns memory ops into 128-byte
 * line requests to the crossbar.
 *
 * Execution model (docs/model.md, "SM"):
 *  - The SM reads its stream (opsrc.h) one CTA at a time; a CTA starts when warps, registers,
 *    shared memory and a CTA slot are free; its ops are split per warp; warp w of a CTA runs on
 *    sub-partition (first warp slot + w) mod subpartitions.
 *  - Each sub-partition issues at most issue_per_cycle ops per cycle, choosing round-robin
 *    among warps whose next op can issue. Issue rules: LDS/STS reserve the bank pipeline and
 *    complete after its latency; MMA waits for the warp's outstanding loads to shared
 *    registers (LDS) and queues on the tensor core (at most two in flight per warp); CP_ASYNC,
 *    LDG, STG, RED enter the LSU queue (STG/RED after the warp's MMAs); CP_WAIT blocks until the
 *    warp's copies with tag <= N have landed in shared memory; BAR waits for the CTA's warps.
 *  - The LSU coalesces each memory op row by row into line requests with sector masks, issues
 *    lsu_lines_per_cycle per cycle while fewer than max_outstanding are in flight and the
 *    crossbar port has credit. Copy data landing in shared memory takes bank-pipeline time.
 *  - A warp finishes when its ops are issued and its loads, MMAs, copies and stores are done;
 *    a CTA when all its warps are; the SM when its stream is exhausted and its CTAs done.
 * CiM ops (docs/model.md, "CiM"): CIM_WRITE fetches a weight tile through the LSU and writes
 * each line into the macro as it lands; CIM_MAC waits for the macro's pending writes, reads
 * its inputs from shared memory (or fetches them from memory) and computes; CIM_READ waits for
 * the warp's MACs on that macro and accumulates the partial sums in the register file. With
 * L2 CiM, CIM_MAC sends the inputs to the slice and completes when the partial sums return.
 */
#ifndef CS_SM_H
#define CS_SM_H

#include <stdbool.h>
#include <stdint.h>

#include "access.h"
#include "cfg.h"
#include "cim.h"
#include "component.h"
#include "cpath.h"
#include "opsrc.h"
#include "port.h"
#include "regfile.h"
#include "req.h"
#include "smem.h"
#include "stats.h"
#include "tensor_core.h"

typedef struct cs_sm_params {
    int64_t count;
    int64_t subpartitions;
    int64_t max_warps;
    int64_t max_ctas;
    int64_t issue_per_cycle;
    int64_t lsu_lines_per_cycle;
    int64_t max_outstanding;
    int64_t lsu_queue;
} cs_sm_params;

extern const cs_cfg_schema cs_sm_schema;

typedef struct cs_sm cs_sm;

/* Counters the system reads for invariants and reports. */
typedef struct cs_sm_counts {
    uint64_t ops, ctas;
    uint64_t macs_useful, macs_int8, macs_fp16, mma_instructions;
    uint64_t rf_read, rf_write;            /* actions: 4-byte words */
    uint64_t bytes_read, bytes_written;    /* global memory, requested by this SM */
    uint64_t bytes_returned, bytes_acked;  /* global memory, delivered to this SM */
    uint64_t lines_read, lines_written;
    uint64_t tc_busy_cycles[8];            /* per sub-partition (up to 8) */
    uint64_t cim_macs_remote;              /* MACs of L2 CiM requests this SM issued */
    uint64_t cim_in_bytes;                 /* CiM inputs read (shared memory) or fetched for macros */
    uint64_t cim_psum_bytes;               /* CiM partial sums moved out of the macros' buffers */
    uint64_t lsu_stalls;
} cs_sm_counts;

/* ---- create / destroy --------------------------------------------------------------------- */
cs_status cs_sm_create(cs_engine *eng, const char *name, uint32_t index, const cs_sm_params *p,
                       const cs_tc_params *tc, const cs_rf_params *rf, const cs_smem_params *sp,
                       const cs_clock *clk, cs_req_pool *pool, cs_stats *stats, cs_sm **out,
                       cs_err *err);
void cs_sm_destroy(cs_sm *sm);

/* ---- wiring ------------------------------------------------------------------------------- */
cs_port *cs_sm_req_out(cs_sm *sm);  /* line requests to the crossbar */
cs_port *cs_sm_resp_in(cs_sm *sm);  /* responses from the crossbar */
cs_component *cs_sm_component(cs_sm *sm);
cs_smem *cs_sm_smem(cs_sm *sm);
const cs_cim_group *cs_sm_cim(const cs_sm *sm); /* NULL without rf/smem CiM */
/* Register-file or shared-memory CiM: the macros of this SM (the SM owns the group after
 * this call). CIM_* ops of the SM's streams drive it. */
void cs_sm_attach_cim(cs_sm *sm, cs_cim_group *g);
/* L2 CiM: CIM_MAC ops are sent to macro x mod macros_per_slice of slice x / macros_per_slice. */
void cs_sm_set_remote_cim(cs_sm *sm, uint32_t slices, uint32_t macros_per_slice);
/* Where the GEMM's operands live (B below a_lo, A below z_lo, Z above), so that global
 * accesses are counted per dataspace (access.h); without it they count as "other". */
void cs_sm_set_layout(cs_sm *sm, uint64_t a_lo, uint64_t z_lo);
/* Accounting conventions and the PE-array compute block (the WWW study's; docs/model.md 17). */
typedef struct cs_sm_conventions {
    bool drain_reads;       /* count the read of an output tile as it leaves a level (default) */
    uint32_t pe_acc_bytes;  /* > 0: MMAs from shared memory run on the PE array, accumulators of
                               this many bytes; registers the opreg actions */
} cs_sm_conventions;
void cs_sm_set_conventions(cs_sm *sm, const cs_sm_conventions *cv, cs_stats *st);

/* ---- run ---------------------------------------------------------------------------------- */
/* Starts executing stream `stream` of src (the SM does not own src). */
void cs_sm_start(cs_sm *sm, cs_opsrc *src, uint32_t stream);
/* Reserves the sub-partition's register-file banks for `cycles` (a CiM macro at RF level);
 * returns when the reservation ends. */
cs_ps cs_sm_rf_occupy(cs_sm *sm, uint32_t sp, cs_ps now, uint64_t cycles);
bool cs_sm_done(const cs_sm *sm);
/* Called once, at the instant the SM finishes its stream (the system counts finished SMs). */
void cs_sm_on_done(cs_sm *sm, void (*fn)(void *ctx), void *ctx);
/* Status of the stream reading: CS_OK, or the error a trace source reported mid-run. */
cs_status cs_sm_status(cs_sm *sm, cs_err *err);
cs_ps cs_sm_finish_time(const cs_sm *sm);
uint32_t cs_sm_index(const cs_sm *sm);
/* The critical path to the SM's finish (cpath.h; valid once done, until its next start). */
const cs_cpl *cs_sm_finish_path(const cs_sm *sm);
/* When CTA `id` (its CTA_BEGIN x) finished on this SM; CS_PS_NEVER if it has not (ids below
 * CS_SM_CTA_TIMES only: a diagnostic for tests and reports). */
enum { CS_SM_CTA_TIMES = 256 };
cs_ps cs_sm_cta_finish_time(const cs_sm *sm, uint32_t id);
const cs_sm_counts *cs_sm_get_counts(const cs_sm *sm);
const cs_access *cs_sm_get_access(const cs_sm *sm);

#endif

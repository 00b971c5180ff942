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
 * CiM ops (CIM_*) are executed by an attached CiM unit (cim.h) when one is present.
 */
#ifndef CS_SM_H
#define CS_SM_H

#include <stdbool.h>
#include <stdint.h>

#include "cfg.h"
#include "component.h"
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
    uint64_t lsu_stall_cycles;
} cs_sm_counts;

/* A CiM unit attached to the SM (register-file or shared-memory level) implements this: the SM
 * hands it the CiM ops of a warp and gets a completion callback (cim.c). */
typedef struct cs_sm_cim cs_sm_cim;
typedef struct cs_sm_cim_vt {
    /* Starts op for warp `warp_id` (SM-wide slot) of sub-partition sp; returns false if the
     * unit cannot accept it now (the warp retries when cs_sm_cim_ready is called). */
    bool (*issue)(cs_sm_cim *cim, uint32_t sp, uint32_t warp_id, const cs_op *op);
    bool (*busy)(const cs_sm_cim *cim);
} cs_sm_cim_vt;
struct cs_sm_cim {
    const cs_sm_cim_vt *vt;
};

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
void cs_sm_attach_cim(cs_sm *sm, cs_sm_cim *cim);

/* ---- run ---------------------------------------------------------------------------------- */
/* Starts executing stream `stream` of src (the SM does not own src). */
void cs_sm_start(cs_sm *sm, cs_opsrc *src, uint32_t stream);
/* Completion of a CiM op issued through the attached unit, at the current time. */
void cs_sm_cim_done(cs_sm *sm, uint32_t warp_id);
/* The CiM unit can accept work again: warps waiting on it retry. */
void cs_sm_cim_ready(cs_sm *sm);
/* Reserves the sub-partition's register-file banks for `cycles` (a CiM macro at RF level);
 * returns when the reservation ends. */
cs_ps cs_sm_rf_occupy(cs_sm *sm, uint32_t sp, cs_ps now, uint64_t cycles);
bool cs_sm_done(const cs_sm *sm);
/* Called once, at the instant the SM finishes its stream (the system counts finished SMs). */
void cs_sm_on_done(cs_sm *sm, void (*fn)(void *ctx), void *ctx);
/* Status of the stream reading: CS_OK, or the error a trace source reported mid-run. */
cs_status cs_sm_status(cs_sm *sm, cs_err *err);
cs_ps cs_sm_finish_time(const cs_sm *sm);
const cs_sm_counts *cs_sm_get_counts(const cs_sm *sm);

#endif

/* gpu — a whole GPU built from a validated architecture: the engine, the SMs, the crossbar,
 * the L2 slices and the DRAM channels, the links between them, the statistics registry and
 * the request pool. It owns all of them (docs/architecture.md, "Ownership").
 *
 * A GPU runs kernels: an op source whose SM streams are bound to the SMs (and, with L2 CiM,
 * whose CiM streams are bound to the L2 slices). It never sees workloads or mappings. One GPU
 * is used by one thread at a time.
 */
#ifndef CS_GPU_H
#define CS_GPU_H

#include <stdint.h>

#include "arch.h"
#include "access.h"
#include "cpath.h"
#include "engine.h"
#include "opsrc.h"
#include "placement.h"
#include "stats.h"

typedef struct cs_gpu cs_gpu;

/* pl (optional): a CiM placement; a must then be the placement's shrunk architecture
 * (cs_placement_arch). */
cs_status cs_gpu_create(const cs_arch *a, const cs_placement *pl, cs_gpu **out, cs_err *err);
void cs_gpu_destroy(cs_gpu *g); /* NULL is a no-op */

/* Where the GEMM's operands live (cs_run_layout of repeat 0: B below a_lo, A below z_lo, Z
 * from z_lo), for the per-dataspace access counters (access.h). */
void cs_gpu_set_layout(cs_gpu *g, uint64_t a_lo, uint64_t z_lo);
cs_engine *cs_gpu_engine(cs_gpu *g);
cs_stats *cs_gpu_stats(cs_gpu *g);
const cs_clock *cs_gpu_clock(const cs_gpu *g);

/* Runs a kernel: stream i of src (kind SM, unit u) drives SM u; SMs without a stream idle.
 * Returns when every SM has finished (its last CTA's stores acknowledged); *elapsed_ps is the
 * time from the call to the last SM's completion. Errors: a malformed stream (CS_FORMAT...),
 * a stall (CS_DEADLOCK, with a dump of every component), a source failing mid-run. */
cs_status cs_gpu_run_kernel(cs_gpu *g, cs_opsrc *src, cs_ps *elapsed_ps, cs_err *err);
/* As cs_gpu_run_kernel, but stops once within_ps of simulated time have passed: *done false
 * then, and the GPU is left mid-run (only cs_gpu_destroy is valid on it). */
cs_status cs_gpu_run_kernel_until(cs_gpu *g, cs_opsrc *src, cs_ps within_ps, cs_ps *elapsed_ps, bool *done,
                                  cs_err *err);
/* The last kernel's time attributed to causes (ps per cause, docs/model.md section 14.5): the
 * critical path of the SM that finished last; sums to the kernel's elapsed time. */
void cs_gpu_kernel_attribution(const cs_gpu *g, uint64_t out_ps[CS_CAUSES]);
/* Writes every dirty L2 line back to DRAM and runs until the memory system is idle. */
cs_status cs_gpu_flush(cs_gpu *g, cs_err *err);
/* Runs until the memory system is idle (write-backs of evicted lines still in flight land);
 * dirty lines stay in the L2. */
cs_status cs_gpu_drain(cs_gpu *g, cs_err *err);
/* Checks that nothing is left anywhere: no component busy, no message in flight, every
 * request returned to the pool. CS_INVARIANT with the details otherwise. */
cs_status cs_gpu_check_idle(cs_gpu *g, cs_err *err);

/* SM i (for tests and diagnostics that need a component directly). */
struct cs_sm *cs_gpu_sm(cs_gpu *g, uint32_t i);

/* Sums over instances, read after a run. */
typedef struct cs_gpu_totals {
    uint64_t macs_useful, macs_exec;
    uint64_t sm_bytes_read, sm_bytes_returned, sm_bytes_written, sm_bytes_acked;
    uint64_t l2_bytes_in, l2_bytes_out, l2_dram_read, l2_dram_written, l2_fill_sectors, l2_cim_sectors;
    uint64_t cim_macs_useful, cim_write_bytes, cim_busy_cycles, cim_macs_requested;
    uint64_t cim_ops, cim_in_bytes, cim_psum_bytes, cim_macros_computed, cim_macros_written, cim_port_cycles;
    uint64_t sms_used;           /* SMs that ran at least one CTA */
    uint64_t cim_host_cycles, cim_hosts_used; /* host-port cycles the macros reserved; hosts that had some */
    uint64_t l2_data_busy_cycles;
    uint64_t dram_bytes_read, dram_bytes_written, dram_bus_busy_cycles;
    uint64_t smem_read, smem_write, smem_busy_cycles; /* actions: 32-byte units */
    uint64_t rf_read, rf_write;                        /* 4-byte words */
    uint64_t flits, noc_bytes;                         /* crossbar flits, and their bytes */
    uint64_t tc_busy_cycles;
    uint64_t access[CS_ACC_LEVELS][CS_ACC_DS][CS_ACC_KINDS]; /* bytes per dataspace (access.h) */
    uint64_t events;          /* engine events run (simulator cost, not a model figure) */
    uint64_t max_pending;     /* largest event-queue size seen */
} cs_gpu_totals;
void cs_gpu_totals_get(const cs_gpu *g, cs_gpu_totals *t);

#endif

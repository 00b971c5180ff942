/* target — what a mapper needs to know about the machine, as plain numbers.
 *
 * Filled by the system from the validated architecture; mappers never see components or the
 * configuration tree. Rates are per SM per SM-clock cycle.
 */
#ifndef CS_TARGET_H
#define CS_TARGET_H

#include <stdint.h>

#include "op.h"

typedef struct cs_target {
    uint32_t sms;
    uint32_t subpartitions;          /* per SM */
    uint32_t max_warps_per_sm;
    uint32_t max_ctas_per_sm;
    uint32_t regs_per_sm;            /* 32-bit registers */
    uint32_t max_regs_per_thread;
    uint64_t smem_bytes_per_sm;      /* shared-memory carve-out */
    uint64_t smem_bytes_per_cta_max; /* largest opt-in allocation of one CTA */
    uint32_t tc_macs_per_cycle[CS_DTYPE_COUNT]; /* dense MACs per SM per cycle */
    uint32_t mma_m, mma_n;           /* tensor-core instruction shape (rows, columns) */
    uint32_t mma_k_bytes;            /* instruction depth in bytes of the input type */
    uint64_t l2_bytes;
    bool l2_bypass;                  /* no L2 caching: every global access goes to DRAM */
    double smem_bytes_per_cycle;     /* shared-memory bank pipeline, per SM */
    double clock_hz;                 /* SM clock */
    double dram_bytes_per_s;         /* peak */
    double l2_bytes_per_cycle;       /* aggregate L2 data bandwidth */
    double sm_port_bytes_per_cycle;  /* an SM's crossbar port (0: unlimited) */
    double slice_port_bytes_per_cycle; /* an L2 slice's crossbar port (0: unlimited) */
    double mem_latency_cycles;       /* unloaded round trip of a DRAM read, SM cycles */
    double l2_latency_cycles;        /* unloaded round trip of an L2 hit, SM cycles */
} cs_target;

#endif

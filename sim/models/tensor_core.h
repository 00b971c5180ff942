/* tensor_core — the matrix unit of one sub-partition: timing and counting of MMA blocks.
 *
 * A warp-level MMA op of m x n x k (valid extents) executes as mma.sync instructions of the
 * configured shape (A100 INT8: m16n8k32; FP16: m16n8k16): the block is padded up to whole
 * instructions, and each instruction occupies the unit for (shape MACs / MACs per cycle)
 * cycles. Instructions of successive ops pipeline back to back (accumulator forwarding); a
 * result is usable `latency` cycles after the unit finishes it. Counted actions (class
 * "tensor_core"): mac_int8 / mac_fp16, one per executed (padded) MAC. The useful MACs
 * (m*n*k) are counted separately for the end-of-run invariant.
 *
 * The ideal variant (params.ideal) has unlimited throughput: an MMA's result is usable
 * `latency` cycles after it issues, whatever else the unit is doing (the register file's
 * operand reads still apply unless it is ideal too). Its actions are counted
 * as usual; the runner then drops the compute bound from its checks.
 */
#ifndef CS_TENSOR_CORE_H
#define CS_TENSOR_CORE_H

#include <stdint.h>

#include "cfg.h"
#include "op.h"

typedef struct cs_tc_params {
    int64_t int8_macs_per_cycle;  /* per tensor core */
    int64_t fp16_macs_per_cycle;
    int64_t latency_cycles;
    int64_t mma_m, mma_n;         /* instruction shape */
    int64_t mma_k_bytes;          /* instruction depth in bytes of the input type */
    bool ideal;                   /* unlimited throughput: an MMA takes the latency alone */
} cs_tc_params;

extern const cs_cfg_schema cs_tc_schema;

typedef struct cs_mma_cost {
    uint64_t instructions;
    uint64_t macs_executed;  /* padded */
    uint64_t macs_useful;    /* m * n * k */
    uint64_t cycles;
    uint64_t rf_read_bytes, rf_write_bytes; /* operand and accumulator traffic */
} cs_mma_cost;

/* Cost of one MMA op (rows = m, row_bytes = n, stride = k elements, dtype). */
cs_mma_cost cs_tc_cost(const cs_tc_params *p, const cs_op *op);

/* The PE-array form of an MMA (flag CS_OPF_FROM_SMEM; the WWW study's baseline compute block):
 * a sub-partition's mma_n x (mma_k_bytes / element) processing elements take N down their rows
 * and K across their columns, with no padding to instruction shapes. A is read from shared
 * memory once and written into the per-PE operand registers of the PE rows (each A element into
 * min(n, mma_n) registers), which every MAC reads; B is read from shared memory for every MAC
 * row (or broadcast to this sub-partition by another's read: CS_OPF_BCAST); K is reduced across
 * the PE columns, and each column group's sum updates the register-file accumulator (a read
 * first, unless the op starts the outputs: no CS_OPF_ACCUM on the first K slice). */
typedef struct cs_pe_cost {
    uint64_t macs, cycles;
    uint64_t a_bytes, b_bytes;          /* shared-memory reads (b_bytes 0 when broadcast to it) */
    uint64_t opreg_fill, opreg_read;    /* per-PE operand register bytes */
    uint64_t z_read, z_update;          /* register-file accumulator bytes */
} cs_pe_cost;
cs_pe_cost cs_tc_pe_cost(const cs_tc_params *p, const cs_op *op, uint32_t acc_bytes);
int64_t cs_tc_macs_per_cycle(const cs_tc_params *p, int dtype);

#endif

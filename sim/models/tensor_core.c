/* tensor_core — MMA cost arithmetic. */
#include "tensor_core.h"

static const cs_cfg_key tc_keys[] = {
    CS_CFG_K(cs_tc_params, int8_macs_per_cycle, "int8_macs_per_cycle", CS_CFG_INT, false, "512", 1, 1 << 20,
             "MAC/cycle", "dense INT8 MACs per cycle of one tensor core (A100: 2048 per SM / 4)"),
    CS_CFG_K(cs_tc_params, fp16_macs_per_cycle, "fp16_macs_per_cycle", CS_CFG_INT, false, "256", 1, 1 << 20,
             "MAC/cycle", "dense FP16 MACs (FMAs) per cycle of one tensor core (A100: 1024 per SM / 4)"),
    CS_CFG_K(cs_tc_params, latency_cycles, "latency", CS_CFG_INT, false, "24", 0, 10000, "cycles",
             "from the unit finishing an instruction to its result being usable"),
    CS_CFG_K(cs_tc_params, mma_m, "mma_m", CS_CFG_INT, false, "16", 1, 1024, "rows", "instruction rows (M)"),
    CS_CFG_K(cs_tc_params, mma_n, "mma_n", CS_CFG_INT, false, "8", 1, 1024, "columns", "instruction columns (N)"),
    CS_CFG_K(cs_tc_params, mma_k_bytes, "mma_k_bytes", CS_CFG_INT, false, "32", 1, 1024, "bytes",
             "instruction depth in bytes of the input type (INT8 k32, FP16 k16)"),
    CS_CFG_K(cs_tc_params, ideal, "ideal", CS_CFG_BOOL, false, "false", CS_CFG_NORANGE, "",
             "ideal variant: unlimited throughput, each MMA takes the latency alone"),
};
const cs_cfg_schema cs_tc_schema =
    CS_CFG_SCHEMA("tensor_core", cs_tc_params, tc_keys, NULL,
                  "The tensor core of each sub-partition (one per sub-partition).");

static uint64_t cdiv(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

int64_t cs_tc_macs_per_cycle(const cs_tc_params *p, int dtype)
{
    return dtype == CS_DTYPE_FP16 ? p->fp16_macs_per_cycle : p->int8_macs_per_cycle;
}

cs_mma_cost cs_tc_cost(const cs_tc_params *p, const cs_op *op)
{
    cs_mma_cost c = {0};
    uint64_t eb = (uint64_t)cs_dtype_bytes(op->dtype);
    uint64_t ik = (uint64_t)p->mma_k_bytes / eb; /* instruction k in elements */
    uint64_t im = (uint64_t)p->mma_m, in = (uint64_t)p->mma_n;
    c.instructions = cdiv(op->rows, im) * cdiv(op->row_bytes, in) * cdiv(op->stride, ik);
    c.macs_executed = c.instructions * im * in * ik;
    c.macs_useful = (uint64_t)op->rows * op->row_bytes * op->stride;
    c.cycles = cdiv(c.macs_executed, (uint64_t)cs_tc_macs_per_cycle(p, op->dtype));
    /* Per instruction: A and B fragments read, 4-byte accumulators read and written. */
    c.rf_read_bytes = c.instructions * ((im + in) * (uint64_t)p->mma_k_bytes + im * in * 4);
    c.rf_write_bytes = c.instructions * im * in * 4;
    return c;
}

cs_pe_cost cs_tc_pe_cost(const cs_tc_params *p, const cs_op *op, uint32_t acc_bytes)
{
    cs_pe_cost c = {0};
    uint64_t eb = (uint64_t)cs_dtype_bytes(op->dtype);
    uint64_t m = op->rows, n = op->row_bytes, k = op->stride;
    uint64_t pk = (uint64_t)p->mma_k_bytes / eb, pn = (uint64_t)p->mma_n;
    c.macs = m * n * k;
    c.cycles = cdiv(c.macs, (uint64_t)cs_tc_macs_per_cycle(p, op->dtype));
    c.a_bytes = m * k * eb;
    c.b_bytes = op->flags & CS_OPF_BCAST ? 0 : n * k * eb;
    c.opreg_fill = m * k * (n < pn ? n : pn) * eb;
    c.opreg_read = c.macs * eb;
    c.z_update = m * n * cdiv(k, pk) * acc_bytes;
    c.z_read = c.z_update - (op->flags & CS_OPF_ACCUM ? 0 : m * n * acc_bytes);
    return c;
}

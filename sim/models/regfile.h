/* regfile — the register file of a sub-partition: capacity (occupancy) and port bandwidth.
 *
 * Each sub-partition's register file serves `banks / subpartitions` warp-wide bank accesses
 * (bank_bytes each) per cycle, pooled (no per-bank conflicts). The SM reserves that bandwidth
 * for the operand and accumulator traffic of MMAs and for CiM read-outs; a CiM macro placed
 * in the register file occupies its share of the banks while it computes, so ordinary operand
 * traffic slows down. Load results and store data are counted but reserve no bandwidth.
 * Counted actions (class "rf"): read and write, one per 4-byte register word. The ideal
 * variant (params.ideal) has unlimited port bandwidth: nothing waits for the banks.
 */
#ifndef CS_REGFILE_H
#define CS_REGFILE_H

#include <stdint.h>

#include "cfg.h"

typedef struct cs_rf_params {
    uint64_t size_bytes;        /* per SM */
    int64_t banks;              /* per SM */
    int64_t bank_bytes;         /* bytes one bank access delivers (a warp-wide 32-bit register) */
    int64_t max_regs_per_thread;
    bool ideal;                 /* unlimited port bandwidth */
} cs_rf_params;

extern const cs_cfg_schema cs_rf_schema;

#endif

/* regfile — parameters of the register file. */
#include "regfile.h"

static void check_rf(const void *params, cs_cfg_check *chk)
{
    const cs_rf_params *p = params;
    if (p->size_bytes % 4)
        cs_cfg_fail(chk, "size", "must be a whole number of 4-byte registers (got %llu)",
                    (unsigned long long)p->size_bytes);
}

static const cs_cfg_key rf_keys[] = {
    CS_CFG_K(cs_rf_params, size_bytes, "size", CS_CFG_BYTES, false, "256KiB", 1024, 1e9, "bytes",
             "register file per SM (A100: 64K 32-bit registers)"),
    CS_CFG_K(cs_rf_params, banks, "banks", CS_CFG_INT, false, "32", 1, 1024, "banks",
             "register-file banks per SM, split evenly over the sub-partitions"),
    CS_CFG_K(cs_rf_params, bank_bytes, "bank_bytes", CS_CFG_INT, false, "128", 4, 4096, "bytes",
             "bytes one bank delivers per cycle (a 32-bit register of 32 threads)"),
    CS_CFG_K(cs_rf_params, max_regs_per_thread, "max_regs_per_thread", CS_CFG_INT, false, "255", 16, 65536,
             "registers", "architectural limit per thread"),
    CS_CFG_K(cs_rf_params, ideal, "ideal", CS_CFG_BOOL, false, "false", CS_CFG_NORANGE, "",
             "ideal variant: unlimited bank bandwidth (operands never wait for the banks)"),
};
const cs_cfg_schema cs_rf_schema =
    CS_CFG_SCHEMA("regfile", cs_rf_params, rf_keys, check_rf,
                  "Register file: capacity limits occupancy; bank bandwidth is shared with CiM.");

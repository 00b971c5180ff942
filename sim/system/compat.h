/* compat — the accounting conventions of the WWW study's Timeloop + Accelergy model as
 * switchable architecture keys (the `compat` group), and where each one acts.
 *
 * `--compat www` sets every key to the study's value; `--set compat.KEY=VALUE` switches one
 * back. The defaults are cimsim's own model, so a run without the group is unchanged. Each key
 * changes what is counted or how it is charged, never how time is simulated (ports, banks and
 * bandwidths stay cycle-level):
 *   psum_bits          partial sums and accumulators: 32 (cimsim) or 8 (the study's INT8 Z)
 *   adder_tree         a bank's macros that split K add their partial sums in their output
 *                      buffers for free (the study's CiMOutBuffer), one sum leaves the bank
 *   drain_reads        reading an output tile to send it up is counted (Timeloop counts none)
 *   cim_macs           CiM MAC energy per MAC of the array (array) or per MAC used (used)
 *   noc_energy         crossbar flits cost energy (the template joins DRAM to SMEM directly)
 *   leakage            leakage is charged
 *   dram_energy        DRAM per 32-byte burst (burst) or per byte the SMs ask for (byte; with
 *                      l2.bypass; through an L2 DRAM moves whole sectors and the two agree)
 *   baseline           the baseline computes on tensor cores fed from registers
 *                      (tensor_core) or on the study's PE array (pe_array: 16 x 16 PEs per
 *                      sub-partition, A in per-PE operand registers, B broadcast from shared
 *                      memory, K reduced across the PE columns into the register file)
 *   register_file      a CiM placement keeps a register file (kept: 8 KiB per SM for the
 *                      controller at rf level, all of it at smem level; leakage and area) or
 *                      replaces it entirely (replaced: the study's templates)
 *
 * Not responsible for: the dataflow (the loop-nest executor reads psum_bits and adder_tree
 * from cs_cim_target), counting (the components).
 */
#ifndef CS_COMPAT_H
#define CS_COMPAT_H

#include <stdbool.h>
#include <stdint.h>

#include "cfg.h"
#include "energy.h"
#include "mapper_loopnest.h"
#include "stats.h"
#include "target.h"

enum { CS_COMPAT_BURST = 0, CS_COMPAT_BYTE = 1 };
enum { CS_COMPAT_TENSOR_CORE = 0, CS_COMPAT_PE_ARRAY = 1 };
enum { CS_COMPAT_ARRAY = 0, CS_COMPAT_USED = 1 };
enum { CS_COMPAT_KEPT = 0, CS_COMPAT_REPLACED = 1 };

typedef struct cs_compat {
    int64_t psum_bits;
    bool adder_tree;
    bool drain_reads;
    int cim_macs;       /* CS_COMPAT_ARRAY | CS_COMPAT_USED */
    bool noc_energy;
    bool leakage;
    int dram_energy;    /* CS_COMPAT_BURST | CS_COMPAT_BYTE */
    int baseline;       /* CS_COMPAT_TENSOR_CORE | CS_COMPAT_PE_ARRAY */
    int register_file;  /* CS_COMPAT_KEPT | CS_COMPAT_REPLACED */
} cs_compat;

extern const cs_cfg_schema cs_compat_schema;

/* The overrides a named profile stands for ("www"), NULL-terminated "compat.KEY=VALUE"
 * strings; NULL for an unknown name. */
const char *const *cs_compat_profile(const char *name);
/* The keys in the ladder's order (cs_compat_profile's order): name, the study's value, cimsim's,
 * what it is, and why switching it may change nothing in a run (the ladder cites it). */
typedef struct cs_compat_key {
    const char *key, *study, *cimsim, *what, *same;
} cs_compat_key;
const cs_compat_key *cs_compat_keys(void); /* terminated by a NULL key */

/* Bytes of a partial sum. */
static inline uint32_t cs_compat_psum_bytes(const cs_compat *c)
{
    return (uint32_t)(c->psum_bits / 8);
}
/* Whether any key differs from cimsim's default. */
bool cs_compat_any(const cs_compat *c);

/* Energy-table conventions on a copy of the table: no crossbar energy, no leakage, the
 * register file a CiM placement replaces (level: -1 for the baseline, else cs_cim_level). */
void cs_compat_energy_table(const cs_compat *c, int level, cs_energy_table *t);
/* DRAM per byte: when the run has no L2 (every SM request is a DRAM access), the dram rd and wr
 * items keep their burst counts at 0 pJ and new items dram.rd_bytes and dram.wr_bytes charge the
 * bytes the SMs asked for (access counters) at the burst's energy / burst_bytes each; the
 * report's sums are adjusted exactly (every figure stays quantised). */
void cs_compat_reprice(const cs_compat *c, bool l2_bypass, uint32_t burst_bytes, const cs_stats *st,
                       const cs_energy_table *t, cs_energy_report *r);

/* The PE-array baseline (baseline = pe_array): the executor's view of the SMs (t; each
 * sub-partition has pe_n x pe_k PEs) and the plan of g: the Timeloop map when one is given
 * (bound to the pe template, on one SM), else the default nest on each share of the grid of SMs
 * with the lowest estimate. */
cs_status cs_compat_pe_plan(const cs_compat *c, const cs_target *t, uint32_t pe_n, uint32_t pe_k, const cs_gemm *g,
                            int dtype, const cs_nest_spec *spec, cs_nest_hw *hw, cs_nest_plan *out, cs_err *err);

#endif

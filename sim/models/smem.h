/* smem — the shared-memory banks of one SM and the L1/shared-memory carve-out.
 *
 * Shared memory is `banks` banks of `bank_bytes`; one wavefront per cycle serves at most one
 * word per bank (same-word reads broadcast). A warp access is split the way the hardware
 * splits it: threads take consecutive chunks of the access width (16, 8 or 4 bytes, the widest
 * that divides the row and its alignment) going down the rows first (the ldmatrix order),
 * 32 threads per instruction, 128 / width threads per phase; a phase costs the largest number
 * of distinct words any bank must serve. So 4-byte accesses with a 4/8/16/128-byte stride cost
 * 1/2/4/32 wavefronts. Swizzled addresses (CS_OPF_SWIZZLE) XOR bits 4-6 with bits 7-9, the
 * layout CUTLASS uses for conflict-free tiles.
 *
 * The unit is a resource of its SM (not a component with ports): the SM asks how many
 * wavefronts an access needs and reserves the bank pipeline. Counted actions (class "smem"):
 * read and write, one per 32 bytes moved.
 *
 * The ideal variant (params.ideal) serves every access after its latency alone: no bank
 * conflicts, no pipeline occupancy, no contention with a CiM macro in the banks.
 */
#ifndef CS_SMEM_H
#define CS_SMEM_H

#include <stdbool.h>
#include <stdint.h>

#include "cfg.h"
#include "engine.h"
#include "op.h"
#include "stats.h"

typedef struct cs_smem_params {
    uint64_t unified_bytes;     /* L1 + shared memory per SM */
    uint64_t carveout_bytes;    /* the shared-memory part */
    cs_cfg_ints carveouts_kib;  /* carve-outs the hardware allows */
    uint64_t cta_max_bytes;     /* largest allocation of one CTA */
    int64_t banks;
    int64_t bank_bytes;
    int64_t latency_cycles;     /* shared load to use */
    int64_t bytes_per_cycle;    /* cap on the bank pipeline (0: banks x bank_bytes) */
    bool ideal;                 /* no bank conflicts, no pipeline occupancy: latency only */
} cs_smem_params;

extern const cs_cfg_schema cs_smem_schema;

/* Wavefronts (cycles of the bank pipeline) for one warp-level access pattern: `rows` rows of
 * `row_bytes` at shared address `local`, `stride` bytes apart. */
uint32_t cs_smem_wavefronts(uint32_t local, uint32_t rows, uint32_t row_bytes, uint32_t stride,
                            bool swizzle, uint32_t banks, uint32_t bank_bytes);
/* Wavefronts for arbitrary per-thread addresses: n threads (<= 32) each accessing
 * access_bytes at addrs[i]; the phase split applies. */
uint32_t cs_smem_wavefronts_addrs(const uint32_t *addrs, uint32_t n, uint32_t access_bytes,
                                  uint32_t banks, uint32_t bank_bytes);

typedef struct cs_smem cs_smem;
cs_smem *cs_smem_create(const cs_smem_params *p, const cs_clock *clk, cs_stats *stats,
                        const char *name);
void cs_smem_destroy(cs_smem *s);
/* Wavefronts for an LDS/STS op (memoised: GEMM tiles repeat a few patterns). */
uint32_t cs_smem_op_wavefronts(cs_smem *s, const cs_op *op);
/* Reserves the pipeline for `wavefronts` cycles starting no earlier than now; counts
 * `bytes` as reads or writes. Returns the time the last wavefront completes. */
cs_ps cs_smem_access(cs_smem *s, cs_ps now, uint32_t wavefronts, uint64_t bytes, bool write);
/* The same time as cs_smem_access, with nothing counted (an access a convention does not charge). */
cs_ps cs_smem_access_uncounted(cs_smem *s, cs_ps now, uint32_t wavefronts, uint64_t bytes);
/* Reserves `cycles` of the bank pipeline for a user other than loads and stores (a CiM macro
 * living in these banks); returns when the reservation ends. */
cs_ps cs_smem_occupy(cs_smem *s, cs_ps now, uint64_t cycles);
cs_ps cs_smem_free_at(const cs_smem *s);
uint32_t cs_smem_latency_cycles(const cs_smem *s);
/* Bytes one conflict-free wavefront moves (banks x bank_bytes). */
uint32_t cs_smem_width_bytes(const cs_smem *s);
uint64_t cs_smem_busy_cycles(const cs_smem *s);
/* Whether the latest reservation of the pipeline is a CiM macro's (cs_smem_occupy): a later
 * access that waits for the pipeline then waits on the macro (attribution: contention). */
bool cs_smem_tail_cim(const cs_smem *s);

#endif

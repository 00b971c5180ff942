/* opcheck — the rules an SM's op stream must follow to be executable, whatever the
 * architecture: CTAs open and close in order, every warp op names a warp of its CTA, shared-
 * memory accesses and copies stay inside the CTA's allocation, a warp never has more than
 * CS_OP_MAX_COPY_GROUPS copy groups outstanding, and global accesses, MMA blocks and CiM ops
 * stay within fixed bounds (far above what a mapper emits, far below what would run away). The rules are static (they depend on the stream alone, not on timing), so
 * `cimsim trace check` and the SM that executes the stream (sim/models/sm.c) apply the same
 * ones and agree: a stream that passes never trips an assertion or runs away with a huge
 * operand.
 *
 * Not responsible for: the architecture's own limits (warps, shared memory and registers per
 * SM, CiM macros present: the SM checks those when it starts a CTA or an op), the record
 * format (traces/), and whether the MACs add up to the GEMM (cs_opcheck_macs gives the sum).
 */
#ifndef CS_OPCHECK_H
#define CS_OPCHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "op.h"

enum {
    CS_OPCHECK_MAX_CTA_WARPS = 255,   /* warps of one CTA */
    CS_OPCHECK_MAX_CIM_ROWS = 65536,  /* input rows of one CiM op (the CiM mapper's chunk limit) */
    CS_OPCHECK_MAX_CIM_BYTES = 64 << 20,
    CS_OPCHECK_MAX_OP_BYTES = 16 << 20, /* one global load, store or reduction of a warp */
    CS_OPCHECK_MAX_MMA_MN = 1024,       /* m and n of one warp's MMA block */
    CS_OPCHECK_MAX_MMA_K = 65536
};

typedef struct cs_opcheck {
    bool in_cta;
    uint32_t warps;          /* the open CTA's */
    uint64_t smem_bytes;
    uint32_t *tags;          /* per warp: up to CS_OP_MAX_COPY_GROUPS outstanding copy tags */
    uint8_t *ntags;
    uint32_t cap_warps;
    uint64_t macs;           /* MMA and CIM_MAC MACs so far (saturating at UINT64_MAX) */
} cs_opcheck;

void cs_opcheck_init(cs_opcheck *c);
void cs_opcheck_free(cs_opcheck *c);
/* Checks the next op of an SM stream. false, with *why set to a static phrase, when the op
 * breaks a rule. */
bool cs_opcheck_next(cs_opcheck *c, const cs_op *op, const char **why);
/* At the end of the stream: false when a CTA is still open. */
bool cs_opcheck_end(const cs_opcheck *c, const char **why);
/* The MACs of one MMA or CIM_MAC op (rows x row_bytes x stride, saturating), 0 for others. */
uint64_t cs_opcheck_op_macs(const cs_op *op);

#endif

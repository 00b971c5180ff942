/* op — the operation record: what a mapper produces, an SM or a CiM controller executes, and a
 * trace stores. A small value type (40 bytes) with no pointers.
 *
 * An op stream belongs to one SM (its CTAs in order, each CTA's ops for all its warps between
 * CTA_BEGIN and CTA_END, warp ops tagged with the warp index) or to one CiM controller (an L2
 * slice's macros). Memory ops move 2-D blocks: `rows` rows of `row_bytes` bytes, `stride`
 * bytes apart; the executing component splits them into the transactions its hardware makes
 * (32 B sectors, 128 B lines, 4 B banks).
 *
 * Field use per kind (unused fields are zero; traces check that):
 *   CTA_BEGIN   x=cta id  rows=warps  row_bytes=shared-memory bytes  stride=registers per thread
 *   CTA_END     x=cta id
 *   CP_ASYNC    addr=global src  local=shared dst  rows,row_bytes,stride(global pitch)  tag=group
 *   CP_WAIT     tag=group: wait until every copy of this warp with tag <= group has landed
 *   BAR         tag=barrier id: CTA-wide barrier among the CTA's warps
 *   LDS / STS   local=shared addr  rows,row_bytes,stride(shared pitch)  flags=CS_OPF_SWIZZLE...
 *   LDG / STG / RED   addr=global  rows,row_bytes,stride(global pitch)   (RED: reduction/atomic add;
 *               flag CS_OPF_SPILL: partial sums spilled between CiM rounds)
 *   MMA         rows=m  row_bytes=n  stride=k  (one warp-level block m x n x k)  dtype
 *   CIM_WRITE   x=macro  addr=global address of the packed weight tile (SM streams) or byte
 *               offset in the slice's weight region (L2 slice controller streams)
 *               rows x row_bytes = weight bytes (stride = pitch)  seq=the tile's sequence
 *               number in its macro (mod 2^16)  local=number of CIM_MAC ops that will use the
 *               tile (the next tile's write waits for them)  tag (SM streams)=the write's
 *               place among the kernel's writes to that macro (0, 1, ...: the SM applies them
 *               in that order); flag CS_OPF_ACCUM = the tile is already resident (no data,
 *               only the uses)
 *   CIM_MAC     x=macro (SM-local; L2 CiM: slice * macros_per_slice + macro)
 *               rows=input rows (M)  row_bytes=K used (elements)  stride=N used  dtype
 *               seq=the tile sequence number the macro must hold (it waits for that tile)
 *               flag CS_OPF_FROM_SMEM: inputs at shared address local, row pitch tag; else
 *               inputs at global address addr, row pitch tag (L2 CiM: staged in shared
 *               memory at local)
 *   CIM_READ    x=macro  rows x row_bytes = partial sums (4 bytes each) moved from the macro's
 *               output buffer to the register-file accumulators, after the warp's MACs on it
 * The meaning of each field is pinned by docs/trace-format.md.
 */
#ifndef CS_OP_H
#define CS_OP_H

#include <stdint.h>

#define CS_OP_KIND_MAP(X) \
    X(CTA_BEGIN, "cta_begin") \
    X(CTA_END, "cta_end")     \
    X(CP_ASYNC, "cp_async")   \
    X(CP_WAIT, "cp_wait")     \
    X(BAR, "bar")             \
    X(LDS, "lds")             \
    X(STS, "sts")             \
    X(LDG, "ldg")             \
    X(STG, "stg")             \
    X(RED, "red")             \
    X(MMA, "mma")             \
    X(CIM_WRITE, "cim_write") \
    X(CIM_MAC, "cim_mac")     \
    X(CIM_READ, "cim_read")

typedef enum {
#define CS_X(name, str) CS_OP_##name,
    CS_OP_KIND_MAP(CS_X)
#undef CS_X
        CS_OP_KIND_COUNT
} cs_op_kind;

typedef enum { CS_DTYPE_INT8 = 0, CS_DTYPE_FP16 = 1, CS_DTYPE_COUNT } cs_dtype;

/* Copy groups (CP_ASYNC tags) a warp may have outstanding at once (sim/core/opcheck.h). */
enum { CS_OP_MAX_COPY_GROUPS = 32 };

enum {
    CS_OPF_SWIZZLE = 1u << 0,   /* shared-memory address is XOR-swizzled (conflict-free tiles) */
    CS_OPF_FROM_SMEM = 1u << 1, /* CiM ops: source is shared memory (local), not global (addr) */
    CS_OPF_TO_SMEM = 1u << 2,   /* CiM read-out: destination is shared memory */
    CS_OPF_ACCUM = 1u << 3,     /* CiM MAC: accumulate into existing partial sums */
    CS_OPF_SPILL = 1u << 4,     /* RED: partial sums spilled between rounds (attribution: spill) */
    CS_OPF_BCAST = 1u << 5,     /* CIM_MAC, MMA: inputs broadcast by another op's read (L2 CiM: the
                                   slice holds what this warp's previous MACs to it sent); CIM_READ:
                                   summed into the next read-out by the bank's adder tree */
    CS_OPF_FROM_CIM = 1u << 6,  /* STG, RED: data from the CiM macro x's output buffer */
    CS_OPF_ALL = 0x7f,
    CS_OPF_BITS = 7
};

typedef struct cs_op {
    uint8_t kind;   /* cs_op_kind */
    uint8_t dtype;  /* cs_dtype (MMA, CIM_MAC), else 0 */
    uint16_t warp;  /* issuing warp within its CTA; 0 for CTA_BEGIN/END and CiM streams */
    uint16_t flags; /* CS_OPF_* */
    uint16_t seq;   /* CiM tile sequence number (CIM_WRITE, CIM_MAC), else 0 */
    uint32_t tag;   /* async-copy group, barrier id */
    uint32_t x;     /* CTA id, macro index */
    uint64_t addr;  /* global byte address */
    uint32_t local; /* shared-memory byte address */
    uint32_t rows;
    uint32_t row_bytes;
    uint32_t stride;
} cs_op;

_Static_assert(sizeof(cs_op) == 40, "cs_op layout is part of the in-memory contract");

const char *cs_op_kind_name(int kind);  /* "?" for unknown kinds */
int cs_op_kind_from_name(const char *name); /* -1 when unknown */
const char *cs_dtype_name(int dtype);
int cs_dtype_bytes(int dtype);

#endif

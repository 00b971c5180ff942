/* opcheck — static executability rules of SM op streams. */
#include "opcheck.h"

#include <string.h>

#include "alloc.h"

/* Copy groups are told apart by the low 20 bits of their tag (what a memory request carries
 * back to the SM). */
#define TAG(t) ((t) & 0xfffffu)

void cs_opcheck_init(cs_opcheck *c) { memset(c, 0, sizeof *c); }

void cs_opcheck_free(cs_opcheck *c)
{
    cs_free(c->tags);
    cs_free(c->ntags);
    memset(c, 0, sizeof *c);
}

static uint64_t sat_mul(uint64_t a, uint64_t b)
{
    return a && b > UINT64_MAX / a ? UINT64_MAX : a * b;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a + b < a ? UINT64_MAX : a + b;
}

uint64_t cs_opcheck_op_macs(const cs_op *op)
{
    if (op->kind != CS_OP_MMA && op->kind != CS_OP_CIM_MAC)
        return 0;
    return sat_mul(sat_mul(op->rows, op->row_bytes), op->stride);
}

static bool fail(const char **why, const char *what)
{
    *why = what;
    return false;
}

static bool begin_cta(cs_opcheck *c, const cs_op *op, const char **why)
{
    if (c->in_cta)
        return fail(why, "cta_begin inside a CTA (no cta_end before it)");
    if (op->rows == 0 || op->rows > CS_OPCHECK_MAX_CTA_WARPS)
        return fail(why, "cta_begin: warps (rows) must be 1 to 255");
    c->in_cta = true;
    c->warps = op->rows;
    c->smem_bytes = op->row_bytes;
    if (c->warps > c->cap_warps) {
        cs_free(c->tags);
        cs_free(c->ntags);
        c->tags = cs_calloc((size_t)c->warps * CS_OP_MAX_COPY_GROUPS, sizeof *c->tags);
        c->ntags = cs_calloc(c->warps, sizeof *c->ntags);
        c->cap_warps = c->warps;
    }
    memset(c->ntags, 0, c->warps);
    return true;
}

/* A copy of group tag in warp w: at most CS_OP_MAX_COPY_GROUPS groups outstanding. */
static bool add_group(cs_opcheck *c, uint32_t w, uint32_t tag, const char **why)
{
    uint32_t *t = &c->tags[(size_t)w * CS_OP_MAX_COPY_GROUPS];
    for (uint32_t i = 0; i < c->ntags[w]; i++)
        if (t[i] == tag)
            return true;
    if (c->ntags[w] == CS_OP_MAX_COPY_GROUPS)
        return fail(why, "cp_async: more than 32 copy groups outstanding in one warp (a cp_wait "
                         "retires the groups up to its tag)");
    t[c->ntags[w]++] = tag;
    return true;
}

static void wait_groups(cs_opcheck *c, uint32_t w, uint32_t tag)
{
    uint32_t *t = &c->tags[(size_t)w * CS_OP_MAX_COPY_GROUPS];
    for (uint32_t i = 0; i < c->ntags[w];)
        if (t[i] <= tag)
            t[i] = t[--c->ntags[w]];
        else
            i++;
}

bool cs_opcheck_next(cs_opcheck *c, const cs_op *op, const char **why)
{
    if (op->kind == CS_OP_CTA_BEGIN)
        return begin_cta(c, op, why);
    if (!c->in_cta)
        return fail(why, "an op outside a CTA (expected cta_begin)");
    if (op->kind == CS_OP_CTA_END) {
        c->in_cta = false;
        return true;
    }
    if (op->warp >= c->warps)
        return fail(why, "warp index beyond the CTA's warps");
    uint64_t rows = op->rows, bytes = sat_mul(rows, op->row_bytes);
    switch (op->kind) {
    case CS_OP_CP_ASYNC:
        if (!bytes)
            return fail(why, "cp_async: empty copy");
        if ((uint64_t)op->local + bytes > c->smem_bytes)
            return fail(why, "cp_async: destination beyond the CTA's shared memory");
        return add_group(c, op->warp, TAG(op->tag), why);
    case CS_OP_CP_WAIT:
        wait_groups(c, op->warp, TAG(op->tag));
        return true;
    case CS_OP_LDS:
    case CS_OP_STS:
        if (!bytes)
            return fail(why, "empty shared-memory access");
        if ((uint64_t)op->local + (rows - 1) * op->stride + op->row_bytes > c->smem_bytes)
            return fail(why, "shared-memory access beyond the CTA's allocation");
        return true;
    case CS_OP_LDG:
    case CS_OP_STG:
    case CS_OP_RED:
        if (!bytes)
            return fail(why, "empty memory access");
        if (bytes > CS_OPCHECK_MAX_OP_BYTES)
            return fail(why, "a global load or store of more than 16 MiB");
        return true;
    case CS_OP_MMA:
        if (!bytes || !op->stride)
            return fail(why, "mma: empty (m, n and k must not be 0)");
        if (op->dtype >= CS_DTYPE_COUNT)
            return fail(why, "mma: unknown data type");
        if (op->rows > CS_OPCHECK_MAX_MMA_MN || op->row_bytes > CS_OPCHECK_MAX_MMA_MN ||
            op->stride > CS_OPCHECK_MAX_MMA_K)
            return fail(why, "mma: m or n above 1024, or k above 65536 (one warp's block)");
        c->macs = sat_add(c->macs, cs_opcheck_op_macs(op));
        return true;
    case CS_OP_CIM_WRITE:
    case CS_OP_CIM_MAC:
    case CS_OP_CIM_READ:
        if (rows > CS_OPCHECK_MAX_CIM_ROWS || bytes > CS_OPCHECK_MAX_CIM_BYTES)
            return fail(why, "a CiM op of more than 65536 rows or 64 MiB");
        if (op->kind == CS_OP_CIM_MAC)
            c->macs = sat_add(c->macs, cs_opcheck_op_macs(op));
        return true;
    default:
        return true;
    }
}

bool cs_opcheck_end(const cs_opcheck *c, const char **why)
{
    return c->in_cta ? fail(why, "the stream ends inside a CTA (no cta_end)") : true;
}

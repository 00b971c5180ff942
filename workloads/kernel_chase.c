/* kernel_chase — ops: BEGIN, then per step a one-line CP_ASYNC and a CP_WAIT for it, END; on
 * SM 0 only (the other streams are empty). */
#include "kernel_chase.h"

#include <string.h>

#include "alloc.h"

typedef struct ch_src {
    cs_opsrc base;
    uint64_t addr0, stride;
    uint32_t steps, pos;
} ch_src;

static cs_status ch_next(cs_opsrc *src, uint32_t s, cs_op *op, bool *eof, cs_err *err)
{
    (void)err;
    (void)s;
    ch_src *x = (ch_src *)src;
    memset(op, 0, sizeof *op);
    *eof = false;
    uint32_t p = x->pos++;
    if (p == 0) {
        op->kind = CS_OP_CTA_BEGIN;
        op->rows = 1;
        op->row_bytes = 128;
        op->stride = 32;
    } else if (p <= 2 * x->steps) {
        uint32_t i = (p - 1) / 2;
        if ((p - 1) % 2 == 0) {
            op->kind = CS_OP_CP_ASYNC;
            op->addr = x->addr0 + (uint64_t)i * x->stride;
            op->rows = 1;
            op->row_bytes = 128;
            op->stride = 128;
        } else {
            op->kind = CS_OP_CP_WAIT;
        }
        op->tag = i;
    } else if (p == 2 * x->steps + 1) {
        op->kind = CS_OP_CTA_END;
    } else {
        *eof = true;
    }
    return CS_OK;
}

static void ch_destroy(cs_opsrc *src)
{
    cs_free(src->streams);
    cs_free(src);
}

static const cs_opsrc_vt ch_vt = {ch_next, ch_destroy};

cs_status cs_chase_opsrc_create(const cs_target *t, uint64_t base, uint64_t stride, uint32_t steps,
                                cs_opsrc **out, cs_err *err)
{
    (void)t;
    if (!steps || base % 128 || stride % 128)
        return cs_err_add(err, CS_INVALID, "chase kernel: error: base and stride must be multiples of 128");
    ch_src *x = cs_calloc(1, sizeof *x);
    x->base.vt = &ch_vt;
    x->base.nstreams = 1;
    x->base.streams = cs_calloc(1, sizeof(cs_stream_info));
    x->base.streams[0] = (cs_stream_info){CS_STREAM_SM, 0};
    x->addr0 = base;
    x->stride = stride;
    x->steps = steps;
    *out = &x->base;
    return CS_OK;
}

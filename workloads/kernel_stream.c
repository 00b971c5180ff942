/* kernel_stream — op streams of a streaming copy kernel. Each CTA owns a contiguous slice;
 * per step each warp copies `chunk` bytes (one CP_ASYNC of chunk/128 lines), waits for the
 * step `stages` back, and in the copy variant stores that step's data (STG). */
#include "kernel_stream.h"

#include <string.h>

#include "alloc.h"

void cs_stream_params_default(cs_stream_params *p, uint64_t bytes)
{
    *p = (cs_stream_params){.bytes = bytes, .base = 1ull << 32, .dst = (1ull << 32) + (1ull << 36),
                            .copy = false, .ctas_per_sm = 2, .warps = 8, .chunk = 1024, .stages = 4};
}

typedef struct st_state {
    uint64_t cta;       /* global CTA index */
    uint64_t pos;       /* op index within the CTA */
} st_state;

typedef struct st_src {
    cs_opsrc base;
    cs_stream_params p;
    uint64_t ctas, steps_per_cta, per_cta_bytes;
    uint32_t sms, ops_per_step;
    st_state *st;
} st_src;

/* Op `pos` of CTA c: [BEGIN] then per step s and warp w: CP_ASYNC(s), then once s >= stages-1:
 * CP_WAIT(s - stages + 1), BAR, [STG]; a drain of the last stages-1 steps; [END]. Ops are laid
 * out as a flat sequence computed on the fly. */
static bool st_op(const st_src *x, uint64_t c, uint64_t pos, cs_op *op)
{
    memset(op, 0, sizeof *op);
    uint64_t slice0 = c * x->per_cta_bytes;
    if (slice0 >= x->p.bytes)
        return false;
    uint64_t mine = x->p.bytes - slice0 < x->per_cta_bytes ? x->p.bytes - slice0 : x->per_cta_bytes;
    uint64_t step_bytes = (uint64_t)x->p.chunk * x->p.warps;
    uint64_t steps = (mine + step_bytes - 1) / step_bytes;
    if (pos == 0) {
        op->kind = CS_OP_CTA_BEGIN;
        op->x = (uint32_t)c;
        op->rows = x->p.warps;
        op->row_bytes = x->p.chunk * x->p.warps * x->p.stages;
        op->stride = 32;
        return true;
    }
    pos--;
    uint64_t rounds = steps + x->p.stages - 1; /* issue rounds, then drain rounds */
    uint64_t per_round = (uint64_t)x->p.warps * x->ops_per_step;
    if (pos >= rounds * per_round) {
        if (pos == rounds * per_round) {
            op->kind = CS_OP_CTA_END;
            op->x = (uint32_t)c;
            return true;
        }
        return false;
    }
    uint64_t r = pos / per_round, in = pos % per_round;
    uint32_t w = (uint32_t)(in / x->ops_per_step), k = (uint32_t)(in % x->ops_per_step);
    op->warp = (uint16_t)w;
    int64_t done = (int64_t)r - (int64_t)(x->p.stages - 1); /* the step that must be complete */
    switch (k) {
    case 0: { /* copy of step r */
        if (r >= steps)
            return false;
        uint64_t off = r * step_bytes + (uint64_t)w * x->p.chunk;
        if (off >= mine)
            return false;
        uint64_t n = mine - off < x->p.chunk ? mine - off : x->p.chunk;
        op->kind = CS_OP_CP_ASYNC;
        op->tag = (uint32_t)r;
        op->addr = x->p.base + slice0 + off;
        op->local = (uint32_t)((r % x->p.stages) * step_bytes + (uint64_t)w * x->p.chunk);
        op->rows = (uint32_t)((n + 127) / 128);
        op->row_bytes = 128;
        op->stride = 128;
        return true;
    }
    case 1:
        if (done < 0)
            return false;
        op->kind = CS_OP_CP_WAIT;
        op->tag = (uint32_t)done;
        return true;
    case 2:
        if (done < 0)
            return false;
        op->kind = CS_OP_BAR;
        return true;
    default: { /* copy variant: store step `done` */
        if (done < 0 || !x->p.copy)
            return false;
        uint64_t off = (uint64_t)done * step_bytes + (uint64_t)w * x->p.chunk;
        if (off >= mine)
            return false;
        uint64_t n = mine - off < x->p.chunk ? mine - off : x->p.chunk;
        op->kind = CS_OP_STG;
        op->addr = x->p.dst + slice0 + off;
        op->rows = (uint32_t)((n + 127) / 128);
        op->row_bytes = 128;
        op->stride = 128;
        return true;
    }
    }
}

static cs_status st_next(cs_opsrc *src, uint32_t s, cs_op *op, bool *eof, cs_err *err)
{
    (void)err;
    st_src *x = (st_src *)src;
    st_state *st = &x->st[s];
    for (;;) {
        if (st->cta >= x->ctas) {
            *eof = true;
            return CS_OK;
        }
        if (st_op(x, st->cta, st->pos, op)) {
            st->pos++;
            if (op->kind == CS_OP_CTA_END) {
                st->cta += x->sms;
                st->pos = 0;
            }
            *eof = false;
            return CS_OK;
        }
        st->pos++; /* a position that holds no op (e.g. the wait before the first step) */
    }
}

static void st_destroy(cs_opsrc *src)
{
    st_src *x = (st_src *)src;
    cs_free(x->st);
    cs_free(x->base.streams);
    cs_free(x);
}

static const cs_opsrc_vt st_vt = {st_next, st_destroy};

cs_status cs_stream_opsrc_create(const cs_target *t, const cs_stream_params *p, cs_opsrc **out,
                                 cs_err *err)
{
    if (!p->bytes || p->bytes % 128 || !p->warps || !p->chunk || p->chunk % 128 || p->stages < 2 ||
        !p->ctas_per_sm)
        return cs_err_add(err, CS_INVALID, "stream kernel: error: bytes and chunk must be multiples of 128, "
                                           "stages at least 2");
    if ((uint64_t)p->chunk * p->warps * p->stages > t->smem_bytes_per_cta_max)
        return cs_err_add(err, CS_INVALID, "stream kernel: error: chunk x warps x stages exceeds the shared memory of a CTA");
    st_src *x = cs_calloc(1, sizeof *x);
    x->base.vt = &st_vt;
    x->p = *p;
    x->sms = t->sms;
    x->ops_per_step = 4;
    x->ctas = (uint64_t)t->sms * p->ctas_per_sm;
    uint64_t step_bytes = (uint64_t)p->chunk * p->warps;
    x->per_cta_bytes = (p->bytes + x->ctas - 1) / x->ctas;
    x->per_cta_bytes = (x->per_cta_bytes + 127) / 128 * 128;
    x->ctas = (p->bytes + x->per_cta_bytes - 1) / x->per_cta_bytes; /* every CTA has data */
    x->steps_per_cta = (x->per_cta_bytes + step_bytes - 1) / step_bytes;
    x->base.nstreams = t->sms;
    x->base.streams = cs_calloc(t->sms, sizeof(cs_stream_info));
    x->st = cs_calloc(t->sms, sizeof *x->st);
    for (uint32_t i = 0; i < t->sms; i++) {
        x->base.streams[i] = (cs_stream_info){CS_STREAM_SM, i};
        x->st[i].cta = i;
    }
    *out = &x->base;
    return CS_OK;
}

/* kern — a hand-written op stream for one SM (stream 0), for tests that drive the GPU or an SM
 * directly with ops they list one by one. Header-only. */
#ifndef CS_TEST_KERN_H
#define CS_TEST_KERN_H

#include "alloc.h"
#include "opsrc.h"

typedef struct kern {
    cs_opsrc base;
    cs_stream_info info;
    cs_op *ops;
    size_t n, cap, pos;
} kern;

static cs_status kern_next(cs_opsrc *src, uint32_t s, cs_op *op, bool *eof, cs_err *err)
{
    (void)s;
    (void)err;
    kern *k = (kern *)src;
    *eof = k->pos == k->n;
    if (!*eof)
        *op = k->ops[k->pos++];
    return CS_OK;
}

static void kern_destroy(cs_opsrc *src)
{
    kern *k = (kern *)src;
    cs_free(k->ops);
    cs_free(k);
}

static const cs_opsrc_vt kern_vt = {kern_next, kern_destroy};

/* An empty stream for SM 0; destroyed through its cs_opsrc (kern_destroy). */
static inline kern *kern_new(void)
{
    kern *k = cs_calloc(1, sizeof *k);
    k->base.vt = &kern_vt;
    k->base.nstreams = 1;
    k->info = (cs_stream_info){CS_STREAM_SM, 0};
    k->base.streams = &k->info;
    return k;
}

static inline void kern_add(kern *k, cs_op o)
{
    CS_GROW(k->ops, k->cap, k->n + 1);
    k->ops[k->n++] = o;
}

#endif

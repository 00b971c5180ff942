/* opsrc — a source of op streams: what SMs and CiM controllers pull their work from.
 *
 * Implemented by the mappers' generators (workloads/: ops produced lazily, on demand) and by
 * the trace reader (traces/: ops decoded from a file). Consumers cannot tell them apart, which
 * is what makes a replayed trace give byte-identical results to a direct run.
 *
 * Streams are numbered 0..nstreams-1; stream i is bound to a unit described by
 * cs_opsrc_stream_info (an SM, or a CiM controller at some level). Each stream is read
 * sequentially and independently of the others.
 */
#ifndef CS_OPSRC_H
#define CS_OPSRC_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "op.h"

typedef enum { CS_STREAM_SM = 0, CS_STREAM_CIM = 1 } cs_stream_kind;

typedef struct cs_stream_info {
    uint8_t kind;   /* cs_stream_kind */
    uint32_t unit;  /* SM index, or CiM controller index (e.g. L2 slice) */
} cs_stream_info;

typedef struct cs_opsrc cs_opsrc;
typedef struct cs_opsrc_vt {
    /* Next op of stream s into *op. Returns CS_OK with *eof false, CS_OK with *eof true at the
     * end of the stream, or an error status (a trace that turns out corrupt mid-run). */
    cs_status (*next)(cs_opsrc *src, uint32_t s, cs_op *op, bool *eof, cs_err *err);
    void (*destroy)(cs_opsrc *src);
} cs_opsrc_vt;

struct cs_opsrc {
    const cs_opsrc_vt *vt;
    uint32_t nstreams;
    cs_stream_info *streams; /* nstreams entries, owned by the implementation */
};

static inline cs_status cs_opsrc_next(cs_opsrc *src, uint32_t s, cs_op *op, bool *eof,
                                      cs_err *err)
{
    return src->vt->next(src, s, op, eof, err);
}

static inline void cs_opsrc_destroy(cs_opsrc *src)
{
    if (src)
        src->vt->destroy(src);
}

#endif

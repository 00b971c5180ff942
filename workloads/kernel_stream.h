/* kernel_stream — a pure streaming kernel (no compute): the memory system's own benchmark.
 *
 * Reads `bytes` of contiguous memory from address `base` (and, with copy, writes them to
 * `dst`), spread over the SMs in CTAs of `warps` warps; each warp moves `chunk` bytes per step
 * with asynchronous copies into shared memory, `stages` steps in flight, like a tuned copy
 * kernel. Used to check that the DRAM model sustains the bandwidth a real device does.
 */
#ifndef CS_KERNEL_STREAM_H
#define CS_KERNEL_STREAM_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "opsrc.h"
#include "target.h"

typedef struct cs_stream_params {
    uint64_t bytes;        /* to read (a multiple of 128) */
    uint64_t base, dst;
    bool copy;             /* also write what was read to dst */
    uint32_t ctas_per_sm;  /* CTAs to launch per SM */
    uint32_t warps;        /* per CTA */
    uint32_t chunk;        /* bytes per warp per step (a multiple of 128) */
    uint32_t stages;       /* steps in flight */
} cs_stream_params;

void cs_stream_params_default(cs_stream_params *p, uint64_t bytes);
cs_status cs_stream_opsrc_create(const cs_target *t, const cs_stream_params *p, cs_opsrc **out,
                                 cs_err *err);

#endif

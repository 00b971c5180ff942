/* kernel_chase — a latency probe: one warp of one CTA copies one line at a time and waits for
 * it before asking for the next, so each step takes one full round trip. With stride 0 every
 * request after the first hits in L2; with a large stride every request misses to DRAM. */
#ifndef CS_KERNEL_CHASE_H
#define CS_KERNEL_CHASE_H

#include <stdint.h>

#include "err.h"
#include "opsrc.h"
#include "target.h"

cs_status cs_chase_opsrc_create(const cs_target *t, uint64_t base, uint64_t stride, uint32_t steps,
                                cs_opsrc **out, cs_err *err);

#endif

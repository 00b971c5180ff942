/* timeloop — reads a Timeloop mapping (`timeloop-mapper.map.yaml`) into a loop-nest
 * description (loopnest.h) with the file and line of every entry, so that binding it to a
 * template can cite them.
 *
 * Accepted: a top-level `mapping:` list (or the list alone) of entries with `target` (a level
 * name), `type` (`temporal`, `spatial`, or `datatype`/`bypass` for keep lists), `factors`
 * ("M1 N16 K1"; a dimension left out is 1), `permutation` ("NMK", innermost first; letters
 * may be separated by spaces or commas), `keep` and `bypass` (lists of A, B, Z) and `split`
 * (ignored: cimsim places spatial factors itself). Anything else is an error:
 *   FILE:LINE: error: mapping[I].KEY: RULE (got VALUE)      (CS_FORMAT, exit status 2)
 * Checking the entries against a hardware template and a GEMM is cs_nest_bind's job.
 */
#ifndef CS_TIMELOOP_H
#define CS_TIMELOOP_H

#include <stddef.h>

#include "err.h"
#include "loopnest.h"

/* Reads path (name is what messages call it). */
cs_status cs_timeloop_read(const char *path, cs_nest_spec *out, cs_err *err);
/* The same from text in memory; name stands for the file in messages. */
cs_status cs_timeloop_parse(const char *name, const char *text, size_t len, cs_nest_spec *out, cs_err *err);

#endif

/* validate_www — the sections of `cimsim validate` about the WWW study's own numbers:
 *  1. its 17 stored Timeloop results reproduced under --compat www with its mappings
 *     (per-level, per-dataspace accesses, per-level energy, cycles beside the study's time);
 *  2. the WWW algorithm end to end (--compat www --mapping www) beside the stored runs made with
 *     the same algorithm version;
 *  3. --mapping www with cimsim's own conventions: DRAM traffic beside the traffic its loop nest
 *     implies (issue 11, point 4);
 *  4. the ladder from the study's model to the GPU: the conventions switched back one at a
 *     time, then the A100, with a plot (an SVG written beside the report).
 * Every figure is simulated here; the study's come from tests/data/www-study.txt.
 */
#ifndef CS_VALIDATE_WWW_H
#define CS_VALIDATE_WWW_H

#include "buf.h"
#include "err.h"

/* Appends the sections to md; svg receives the ladder's plot (an SVG document) and svg_name is
 * the file name the report links to. checks/failed count the pass/fail figures. */
cs_status cs_validate_www(cs_buf *md, cs_buf *svg, const char *svg_name, int *checks, int *failed, cs_err *err);

#endif

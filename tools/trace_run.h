/* trace_run — recording a GEMM's op streams to a trace, and replaying a trace as a run.
 *
 * A trace holds one execution of one GEMM: every SM stream (and, for L2 CiM, every slice's
 * controller stream) with the metadata that makes a replay reproduce the direct run's result
 * exactly: the GEMM, the data type, the mapping as the run reports it, and the CiM placement
 * (primitive, level, sizing) to rebuild the same hardware. */
#ifndef CS_TRACE_RUN_H
#define CS_TRACE_RUN_H

#include "opts.h"
#include "run.h"

/* `cimsim trace record`: opts name the architecture, workload (one GEMM, or gemm_name),
 * placement and mapping; writes the trace to path. */
int cs_trace_record_cmd(cs_opts *o, const char *gemm_name, const char *path);
/* `cimsim run --trace FILE`: replays the trace on the architecture o names. */
int cs_trace_replay_cmd(cs_opts *o, const char *path);

#endif

/* cmd_trace — `cimsim trace info|dump|check|import`: inspecting, validating and converting
 * op-stream traces (traces/trace.h, docs/trace-format.md). `record` is added by the caller.
 */
#ifndef CS_CMD_TRACE_H
#define CS_CMD_TRACE_H

/* argv[0] is "trace", argv[1] the action. Returns the exit status: 0 success, 1 internal
 * failure, 2 bad input or usage (errors on stderr). */
int cs_cmd_trace(int argc, char **argv);

#endif

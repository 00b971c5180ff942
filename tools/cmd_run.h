/* cmd_run — the `run` subcommand. */
#ifndef CS_CMD_RUN_H
#define CS_CMD_RUN_H

#include "err.h"
#include "result.h"

int cs_cmd_run(int argc, char **argv);
/* Writes r as JSON to path atomically; 0 on success, 2 with err filled otherwise. */
int cs_write_result(const char *path, const cs_result *r, cs_err *err);

#endif

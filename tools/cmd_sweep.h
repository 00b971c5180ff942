/* cmd_sweep — the `sweep` subcommand (docs/sweep.md). */
#ifndef CS_CMD_SWEEP_H
#define CS_CMD_SWEEP_H

int cs_cmd_sweep(int argc, char **argv);

#endif

/* cmd_bench — `cimsim bench`: the simulator's own speed, as machine-readable `name: value`. */
#ifndef CS_CMD_BENCH_H
#define CS_CMD_BENCH_H

int cs_cmd_bench(int argc, char **argv);

#endif

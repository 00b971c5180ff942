/* cli — the `cimsim` command line: subcommand dispatch, shared option parsing, exit codes.
 *
 * tools/ is the only layer that prints to the user and exits. Every subcommand is a function
 * int cmd_X(int argc, char **argv) returning the process exit status: 0 success, 1 internal
 * failure, 2 bad input or usage. */
#ifndef CS_CLI_H
#define CS_CLI_H

#include <stdbool.h>

#include "err.h"

int cs_cli_main(int argc, char **argv);

/* Prints every message of err (then its detail) to stderr, one per line, frees the detail and
 * returns the exit status. */
int cs_cli_report(cs_err *err);
/* One-line usage error: "cimsim SUB: error: MSG (see cimsim SUB --help)"; returns 2. */
int cs_cli_usage_error(const char *sub, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Checks, before any simulation, that an output file (-o FILE, --stats FILE; "-" is standard
 * output; NULL passes) can be written (sim/util/afile.h, cs_afile_probe). Prints the message
 * and returns 2 when it cannot, else 0. */
int cs_cli_check_output(const char *path);
/* True when path ("-", /dev/stdout, a link to this process's standard output) is written to
 * standard output: a command then prints its table to stderr, so that stdout carries the file
 * alone. */
bool cs_cli_output_is_stdout(const char *path);

/* "--help" or "-h". */
bool cs_cli_is_help(const char *arg);
/* For the subcommands that read argv by hand: matches "--name VALUE", "--name=VALUE" or the
 * short form (shrt may be NULL) at argv[*i] and advances *i past the value. Returns 1 matched,
 * 0 not this option, -1 matched but the value is missing. */
int cs_cli_opt_value(int argc, char **argv, int *i, const char *name, const char *shrt, const char **val);
/* The usage error for what getopt_long refused (c is '?' or ':', the option is argv[optind - 1];
 * option strings start with ':' so that a missing value is told apart). Returns 2. */
int cs_cli_bad_option(const char *sub, int c, char **argv);

#endif

/* cli — subcommand table and dispatch. */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int cs_cli_report(const cs_err *err)
{
    int n = err->count < CS_ERR_MAX ? err->count : CS_ERR_MAX;
    for (int i = 0; i < n; i++)
        fprintf(stderr, "%s\n", err->msg[i]);
    if (err->count > n)
        fprintf(stderr, "cimsim: %d more errors not shown\n", err->count - n);
    return cs_status_exit_code(err->status);
}

int cs_cli_usage_error(const char *sub, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "cimsim%s%s: error: ", sub ? " " : "", sub ? sub : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see 'cimsim%s%s --help')\n", sub ? " " : "", sub ? sub : "");
    return 2;
}

static const char usage[] =
    "usage: cimsim [COMMAND] [OPTIONS]\n"
    "\n"
    "A cycle-level simulator of compute-in-memory (CiM) macros in a GPU memory hierarchy.\n"
    "\n"
    "commands:\n"
    "  (none)     same as 'cimsim compare' on the built-in defaults\n"
    "  --version  print the version\n";

int cs_cli_main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
        printf("cimsim %s\n", CIMSIM_VERSION);
        return 0;
    }
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(usage, stdout);
        return 0;
    }
    if (argc > 1)
        return cs_cli_usage_error(NULL, "unknown command '%s'", argv[1]);
    fputs(usage, stdout);
    return 0;
}

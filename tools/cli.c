/* cli — subcommand table and dispatch. */
#include "cli.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "afile.h"
#include "alloc.h"

int cs_cli_report(cs_err *err)
{
    int n = err->count < CS_ERR_MAX ? err->count : CS_ERR_MAX;
    for (int i = 0; i < n; i++) {
        /* One line each, whatever a file name or a value quoted from a file holds: control
         * characters (a newline, a terminal escape) are shown as '?'. */
        for (char *c = err->msg[i]; *c; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f)
                *c = '?';
        fprintf(stderr, "%s\n", err->msg[i]);
    }
    if (err->count > n)
        fprintf(stderr, "cimsim: %d more errors not shown\n", err->count - n);
    if (err->detail)
        fputs(err->detail, stderr);
    cs_err_free(err);
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

int cs_cli_check_output(const char *path)
{
    cs_err err;
    cs_err_init(&err);
    return path && cs_afile_probe(path, true, &err) != CS_OK ? cs_cli_report(&err) : 0;
}

bool cs_cli_output_is_stdout(const char *path)
{
    cs_afile_kind kind = CS_AFILE_ATOMIC;
    cs_err err;
    cs_err_init(&err);
    bool out = path && cs_afile_target(path, true, &kind, NULL, &err) == CS_OK &&
               kind == CS_AFILE_STDOUT;
    cs_err_free(&err);
    return out;
}

bool cs_cli_is_help(const char *a)
{
    return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0;
}

int cs_cli_opt_value(int argc, char **argv, int *i, const char *name, const char *shrt, const char **val)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) == 0 && a[n] == '=') {
        *val = a + n + 1;
        return 1;
    }
    if (strcmp(a, name) != 0 && !(shrt && strcmp(a, shrt) == 0))
        return 0;
    if (*i + 1 >= argc)
        return -1;
    *val = argv[++*i];
    return 1;
}

int cs_cli_bad_option(const char *sub, int c, char **argv)
{
    const char *opt = argv[optind - 1];
    if (c == ':')
        return cs_cli_usage_error(sub, "option '%s' needs a value", opt);
    if (c == '?' && optopt && opt[0] == '-' && opt[1] != '-' && strlen(opt) > 2)
        return cs_cli_usage_error(sub, "unknown option '-%c' in '%s'", optopt, opt);
    return cs_cli_usage_error(sub, "unknown option '%s'", opt);
}

#include "cmd_bench.h"
#include "cmd_compare.h"
#include "cmd_config.h"
#include "cmd_energy.h"
#include "cmd_report.h"
#include "cmd_run.h"
#include "cmd_sweep.h"
#include "cmd_trace.h"
#include "cmd_validate.h"

typedef struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *help;
} command;

static const command commands[] = {
    {"compare", cs_cmd_compare, "baseline and CiM placements side by side (the main job)"},
    {"run", cs_cmd_run, "simulate a workload on an architecture (baseline or one CiM placement)"},
    {"sweep", cs_cmd_sweep, "run a design-space sweep (resumable, shardable) from a spec file"},
    {"trace", cs_cmd_trace, "record, inspect, check and import op-stream traces"},
    {"report", cs_cmd_report, "tables (text, CSV, Markdown, LaTeX) and plots from result files"},
    {"energy", cs_cmd_energy, "show, export and import energy/area tables (Accelergy ERT/ART)"},
    {"config", cs_cmd_config, "check, dump and describe configuration files"},
    {"bench", cs_cmd_bench, "measure the simulator's own speed"},
    {"validate", cs_cmd_validate, "run the validation experiments (regenerates docs/validation.md)"},
};

static const char usage[] =
    "usage: cimsim [COMMAND] [OPTIONS]\n"
    "\n"
    "A cycle-level simulator of compute-in-memory (CiM) macros in a GPU memory hierarchy.\n"
    "\n"
    "commands:\n"
    "  (none)     same as 'cimsim compare' on the built-in defaults\n";

/* jansson's allocations end like cimsim's own when memory runs out (sim/util/alloc.h). */
static void *json_alloc(size_t bytes)
{
    void *p = malloc(bytes);
    if (!p && bytes)
        cs_alloc_fail(bytes);
    return p;
}

int cs_cli_main(int argc, char **argv)
{
    opterr = 0; /* the subcommands word their own one-line errors */
    json_set_alloc_funcs(json_alloc, free);
    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
        printf("cimsim %s\n", CIMSIM_VERSION);
        return 0;
    }
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(usage, stdout);
        for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
            printf("  %-10s %s\n", commands[i].name, commands[i].help);
        printf("  --version  print the version\n\nEach command takes --help. Exit status: 0 success, "
               "1 internal failure, 2 bad input or usage.\n");
        return 0;
    }
    if (argc > 1 && argv[1][0] != '-') {
        for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
            if (strcmp(argv[1], commands[i].name) == 0)
                return commands[i].fn(argc - 1, argv + 1);
        return cs_cli_usage_error(NULL, "unknown command '%s'", argv[1]);
    }
    if (argc > 1)
        return cs_cli_usage_error(NULL, "unknown option '%s'", argv[1]);
    char *compare_argv[] = {"compare", NULL};
    return cs_cmd_compare(1, compare_argv);
}

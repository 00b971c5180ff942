/* cmd_trace — the `cimsim trace` subcommands: argument parsing and exit codes only; the work
 * is in traces/trace.h. */
#include "cmd_trace.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "opts.h"
#include "trace_run.h"
#include "err.h"
#include "trace.h"

static const char usage_trace[] =
    "usage: cimsim trace ACTION [OPTIONS]\n"
    "\n"
    "Op-stream traces (.cstr, zstd-compressed; format in docs/trace-format.md).\n"
    "\n"
    "actions:\n"
    "  info FILE                 header, stream table, compression ratio\n"
    "  dump FILE [--sm N] [--stream N] [--limit N]\n"
    "                            ops as plain text, one per line (importable)\n"
    "  check FILE                validate everything; first problem with its byte offset\n"
    "  import TEXT -o FILE.cstr  convert a plain-text trace to a binary one\n"
    "\n"
    "'cimsim trace ACTION --help' describes an action. Exit status: 0 success, 2 bad input\n"
    "or usage, 1 internal failure.\n";

static const char usage_info[] =
    "usage: cimsim trace info FILE\n"
    "\n"
    "Prints the trace's header (producer, cimsim version, architecture, workload, mapping,\n"
    "metadata), its stream table (records, chunks, compressed and encoded bytes per stream)\n"
    "and the compression ratio against 40-byte in-memory records. Reads only the header,\n"
    "index and footer: use 'check' to validate the chunks.\n";

static const char usage_dump[] =
    "usage: cimsim trace dump FILE [--sm N] [--stream N] [--limit N]\n"
    "\n"
    "Prints the trace in the plain-text format: directives (@arch, @streams, ...), then one op\n"
    "per line, stream by stream. The output imports back with 'cimsim trace import'.\n"
    "\n"
    "options:\n"
    "  --sm N       only the stream of SM N\n"
    "  --stream N   only stream N (0-based position in the layout)\n"
    "  --limit N    at most N ops in all\n";

static const char usage_check[] =
    "usage: cimsim trace check FILE\n"
    "\n"
    "Validates the whole trace: magic, version, header, footer, index checksum, every chunk's\n"
    "checksums, every record's encoding and per-kind fields, record counts; then what a\n"
    "replay needs: each SM stream's CTAs, warps, shared-memory extents and copy groups within\n"
    "the simulator's rules, and the MACs adding up to the GEMM of the metadata. Prints\n"
    "'FILE: ok: ...' or the first problem as 'FILE: byte OFFSET: error: WHAT' (exit 2).\n";

static const char usage_import[] =
    "usage: cimsim trace import TEXT -o FILE.cstr\n"
    "\n"
    "Converts a plain-text trace (the format 'dump' prints; docs/trace-format.md section 10)\n"
    "to a binary trace. Errors are reported as 'TEXT:LINE: error: WHAT', up to 20 at once;\n"
    "nothing is written unless the whole text is valid.\n"
    "\n"
    "options:\n"
    "  -o, --output FILE.cstr   the trace to write (required; replaced atomically; - is\n"
    "                           standard output)\n";


static bool parse_count(const char *s, uint64_t *out)
{
    if (!*s || *s == '-' || *s == '+')
        return false;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end)
        return false;
    *out = v;
    return true;
}

/* For actions taking exactly one FILE and no options. */
static int one_file(int argc, char **argv, const char *sub, const char *usage, const char **file)
{
    *file = NULL;
    for (int i = 2; i < argc; i++) {
        if (cs_cli_is_help(argv[i])) {
            fputs(usage, stdout);
            return 0;
        }
        if (argv[i][0] == '-' && argv[i][1] != '\0')
            return cs_cli_usage_error(sub, "unknown option '%s'", argv[i]);
        if (*file)
            return cs_cli_usage_error(sub, "one FILE expected, got '%s' and '%s'", *file,
                                      argv[i]);
        *file = argv[i];
    }
    if (!*file)
        return cs_cli_usage_error(sub, "missing FILE");
    return -1;
}

static int cmd_info(int argc, char **argv)
{
    const char *file;
    int rc = one_file(argc, argv, "trace info", usage_info, &file);
    if (rc >= 0)
        return rc;
    cs_err err;
    cs_err_init(&err);
    if (cs_trace_info(file, stdout, &err) != CS_OK)
        return cs_cli_report(&err);
    return 0;
}

static int cmd_check(int argc, char **argv)
{
    const char *file;
    int rc = one_file(argc, argv, "trace check", usage_check, &file);
    if (rc >= 0)
        return rc;
    cs_err err;
    cs_err_init(&err);
    uint64_t records = 0, chunks = 0;
    if (cs_trace_check(file, &records, &chunks, &err) != CS_OK ||
        cs_trace_check_ops(file, &err) != CS_OK)
        return cs_cli_report(&err);
    printf("%s: ok: %llu records in %llu chunks\n", file, (unsigned long long)records,
           (unsigned long long)chunks);
    return 0;
}

static int cmd_dump(int argc, char **argv)
{
    const char *sub = "trace dump", *file = NULL;
    cs_trace_dump_opts o = CS_TRACE_DUMP_ALL;
    uint64_t sm = UINT64_MAX, stream = UINT64_MAX, limit = 0;
    const struct {
        const char *name;
        uint64_t *dst;
    } opts[] = {{"--sm", &sm}, {"--stream", &stream}, {"--limit", &limit}};
    for (int i = 2; i < argc; i++) {
        if (cs_cli_is_help(argv[i])) {
            fputs(usage_dump, stdout);
            return 0;
        }
        int m = 0;
        for (size_t k = 0; k < sizeof opts / sizeof opts[0] && m == 0; k++) {
            const char *val = NULL;
            m = cs_cli_opt_value(argc, argv, &i, opts[k].name, NULL, &val);
            if (m < 0)
                return cs_cli_usage_error(sub, "option '%s' needs a number", opts[k].name);
            if (m > 0 && (!parse_count(val, opts[k].dst) || *opts[k].dst > INT64_MAX))
                return cs_cli_usage_error(sub, "option '%s': '%s' is not a number", opts[k].name,
                                          val);
        }
        if (m > 0)
            continue;
        if (argv[i][0] == '-' && argv[i][1] != '\0')
            return cs_cli_usage_error(sub, "unknown option '%s'", argv[i]);
        if (file)
            return cs_cli_usage_error(sub, "one FILE expected, got '%s' and '%s'", file, argv[i]);
        file = argv[i];
    }
    if (!file)
        return cs_cli_usage_error(sub, "missing FILE");
    if (sm != UINT64_MAX)
        o.sm = (int64_t)sm;
    if (stream != UINT64_MAX)
        o.stream = (int64_t)stream;
    o.limit = limit;
    cs_err err;
    cs_err_init(&err);
    if (cs_trace_dump(file, stdout, &o, &err) != CS_OK) {
        fflush(stdout);
        return cs_cli_report(&err);
    }
    return 0;
}

static int cmd_import(int argc, char **argv)
{
    const char *sub = "trace import", *text = NULL, *out = NULL;
    for (int i = 2; i < argc; i++) {
        const char *val = NULL;
        int m;
        if (cs_cli_is_help(argv[i])) {
            fputs(usage_import, stdout);
            return 0;
        }
        if ((m = cs_cli_opt_value(argc, argv, &i, "--output", "-o", &val)) != 0) {
            if (m < 0)
                return cs_cli_usage_error(sub, "option '%s' needs a file name", argv[i]);
            out = val;
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1] != '\0')
            return cs_cli_usage_error(sub, "unknown option '%s'", argv[i]);
        if (text)
            return cs_cli_usage_error(sub, "one TEXT expected, got '%s' and '%s'", text, argv[i]);
        text = argv[i];
    }
    if (!text)
        return cs_cli_usage_error(sub, "missing TEXT");
    if (!out)
        return cs_cli_usage_error(sub, "missing -o FILE.cstr");
    cs_err err;
    cs_err_init(&err);
    if (cs_trace_import(text, out, &err) != CS_OK)
        return cs_cli_report(&err);
    return 0;
}

static const char usage_record[] =
    "usage: cimsim trace record -w WORKLOAD [--gemm NAME] [-a ARCH] [--cim PRIM@LEVEL ...] -o FILE.cstr\n"
    "\n"
    "Writes the op streams of one execution of one GEMM (the workload's only GEMM, or the one\n"
    "--gemm names) as the run would execute them: the tensor-core mapping, or with --cim the CiM\n"
    "mapping (SM streams and, for L2 CiM, the slices' controller streams). `cimsim run --trace\n"
    "FILE` replays it and reproduces the direct run's result.\n"
    "\noptions:\n" CS_OPTS_HELP
    "      --gemm NAME        the GEMM to record when the workload has several\n"
    "      --cim PRIM@LEVEL   record the CiM mapping instead of the tensor-core one\n" CS_OPTS_HELP_CIM
    "  -o, --output FILE      the trace to write (atomically; - is standard output)\n";

static int cmd_record(int argc, char **argv)
{
    static const struct option longs[] = {CS_OPTS_LONG, CS_OPTS_LONG_CIM,
                                          {"gemm", required_argument, 0, CS_OPT_FIRST_LOCAL}, {0, 0, 0, 0}};
    cs_opts o;
    cs_opts_init(&o, "trace record", argc, argv);
    const char *gemm = NULL;
    int c;
    optind = 2;
    while ((c = getopt_long(argc, argv, CS_OPTS_SHORT, longs, NULL)) != -1) {
        if (c == 'h') {
            fputs(usage_record, stdout);
            return 0;
        }
        if (c == CS_OPT_FIRST_LOCAL) {
            gemm = optarg;
            continue;
        }
        int h = cs_opts_handle(&o, c, optarg);
        if (h == 2)
            return 2;
        if (h == 0)
            return cs_cli_bad_option("trace record", c, argv);
    }
    if (optind < argc)
        return cs_cli_usage_error("trace record", "unexpected argument '%s'", argv[optind]);
    if (!o.out)
        return cs_cli_usage_error("trace record", "missing -o FILE.cstr");
    if (!o.workload)
        return cs_cli_usage_error("trace record", "missing -w WORKLOAD");
    return cs_trace_record_cmd(&o, gemm, o.out);
}

int cs_cmd_trace(int argc, char **argv)
{
    if (argc < 2)
        return cs_cli_usage_error("trace", "missing ACTION (record, info, dump, check, import)");
    const char *a = argv[1];
    if (cs_cli_is_help(a)) {
        fputs(usage_trace, stdout);
        return 0;
    }
    if (strcmp(a, "info") == 0)
        return cmd_info(argc, argv);
    if (strcmp(a, "dump") == 0)
        return cmd_dump(argc, argv);
    if (strcmp(a, "check") == 0)
        return cmd_check(argc, argv);
    if (strcmp(a, "import") == 0)
        return cmd_import(argc, argv);
    if (strcmp(a, "record") == 0)
        return cmd_record(argc, argv);
    return cs_cli_usage_error("trace", "unknown action '%s' (record, info, dump, check, import)", a);
}

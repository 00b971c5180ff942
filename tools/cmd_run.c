/* cmd_run — `cimsim run`: simulate a workload on an architecture, print a table, write the
 * result JSON. */
#include "cmd_run.h"

#include <stdio.h>
#include <string.h>

#include "afile.h"
#include "alloc.h"
#include "cli.h"
#include "opts.h"
#include "run.h"
#include "show.h"
#include "trace_run.h"

static const char usage[] =
    "usage: cimsim run [-a ARCH] [-w WORKLOAD] [options] [-o RESULT.json]\n"
    "\n"
    "       cimsim run --cim PRIM@LEVEL [--macros M] [--mapping auto|www|timeloop:F] [--compat www] ...\n"
    "\n"
    "Simulates each GEMM of the workload cycle by cycle on the architecture, on the tensor\n"
    "cores (baseline) or on CiM macros of PRIM (analog6T, analog8T, digital6T, digital8T or a\n"
    "primitive .cfg) placed at LEVEL (rf, smem, l2), and prints cycles, time, TOPS,\n"
    "utilisation, the limiting bound, energy and the mapping.\n"
    "\n"
    "options:\n" CS_OPTS_HELP
    "      --cim PRIM@LEVEL   run on CiM macros instead of the tensor cores (none: the\n"
    "                         tensor-core baseline, as without --cim)\n" CS_OPTS_HELP_CIM
    "  -o, --output FILE      write the result JSON (docs/results.md) atomically; - is\n"
    "                         standard output (the table then goes to stderr)\n"
    "      --trace FILE       replay a trace (cimsim trace record) instead of mapping a workload\n"
    "      --stats FILE       write every statistic of every GEMM (text, one block per GEMM)\n"
    "      --stats-filter G   only the statistics whose names match glob G (e.g. 'gpu.l2.*')\n"
    "  -h, --help             this help\n";

/* Converts --tile's K from elements to bytes once the data type is known. */
static void tile_bytes(cs_opts *o, int dtype)
{
    if (o->tc.cta_k_bytes)
        o->tc.cta_k_bytes *= (uint32_t)cs_dtype_bytes(dtype);
}

int cs_write_result(const char *path, const cs_result *r, cs_err *err)
{
    cs_buf b;
    cs_buf_init(&b);
    cs_result_write_json(r, &b);
    cs_status st = cs_afile_write(path, b.data, b.len, err);
    cs_buf_free(&b);
    return st == CS_OK ? 0 : 2;
}

int cs_cmd_run(int argc, char **argv)
{
    static const struct option longs[] = {CS_OPTS_LONG, CS_OPTS_LONG_CIM,
                                          {"stats", required_argument, 0, CS_OPT_FIRST_LOCAL},
                                          {"stats-filter", required_argument, 0, CS_OPT_FIRST_LOCAL + 1},
                                          {"trace", required_argument, 0, CS_OPT_FIRST_LOCAL + 2},
                                          {0, 0, 0, 0}};
    const char *trace = NULL;
    const char *stats_out = NULL, *stats_glob = "*";
    cs_opts o;
    cs_opts_init(&o, "run", argc, argv);
    int c;
    const char *mapping_opt = NULL; /* a mapping option, which a replay cannot honour */
    optind = 1;
    while ((c = getopt_long(argc, argv, CS_OPTS_SHORT, longs, NULL)) != -1) {
        if ((c >= CS_OPT_TILE && c <= CS_OPT_SPLITK) || (c >= CS_OPT_MACROS && c <= CS_OPT_CANDIDATES))
            mapping_opt = argv[optind - 1 - (optarg && optarg == argv[optind - 1])];
        if (c == 'h') {
            fputs(usage, stdout);
            return 0;
        }
        if (c == CS_OPT_FIRST_LOCAL) {
            stats_out = optarg;
            continue;
        }
        if (c == CS_OPT_FIRST_LOCAL + 1) {
            stats_glob = optarg;
            continue;
        }
        if (c == CS_OPT_FIRST_LOCAL + 2) {
            trace = optarg;
            continue;
        }
        int h = cs_opts_handle(&o, c, optarg);
        if (h == 2)
            return 2;
        if (h == 0)
            return cs_cli_bad_option("run", c, argv);
    }
    if (optind < argc)
        return cs_cli_usage_error("run", "unexpected argument '%s'", argv[optind]);
    if (cs_cli_check_output(o.out) || cs_cli_check_output(stats_out))
        return 2;
    if (trace) {
        if (o.workload || o.cim)
            return cs_cli_usage_error("run", "--trace replays a recorded GEMM and placement: no -w or --cim with it");
        if (mapping_opt)
            return cs_cli_usage_error("run", "--trace replays the recorded mapping: %s does not apply", mapping_opt);
        return cs_trace_replay_cmd(&o, trace);
    }
    cs_err err;
    cs_err_init(&err);
    cs_inputs in = {0};
    cs_result *r = NULL;
    cs_placement pl;
    bool has_pl = false;
    int rc = 0;
    if (cs_inputs_load(&o, &in, &err) != CS_OK ||
        cs_opts_load_placement(&o, &in.ad->arch, &pl, &has_pl, &err) != CS_OK) {
        rc = cs_cli_report(&err);
        goto out;
    }
    cs_opts_size_note(&o, in.w, 1);
    cs_run_opts ro;
    cs_run_opts_init(&ro);
    ro.dtype = o.dtype;
    ro.threads = cs_opts_threads(&o);
    ro.command = o.command;
    ro.progress = cs_opts_progress(&o);
    tile_bytes(&o, o.dtype >= 0 ? o.dtype : in.ad->arch.run.dtype);
    ro.tc = o.tc;
    ro.cim = has_pl ? &pl : NULL;
    ro.cim_req = o.cim_req;
    ro.stats_glob = stats_out ? stats_glob : NULL;
    if (cs_run(in.ad, in.w, in.et, &ro, &r, &err) != CS_OK) {
        rc = cs_cli_report(&err);
        goto out;
    }
    /* With the JSON (or the statistics) on stdout, the table goes to stderr. */
    cs_show_result(cs_cli_output_is_stdout(o.out) || cs_cli_output_is_stdout(stats_out) ? stderr : stdout, r);
    if (o.out)
        rc = cs_write_result(o.out, r, &err) ? cs_cli_report(&err) : 0;
    if (!rc && stats_out) {
        cs_buf b;
        cs_buf_init(&b);
        for (size_t i = 0; i < r->ngemms; i++)
            cs_buf_printf(&b, "# %s (%llux%llux%llu)\n%s\n", r->gemms[i].gemm.name,
                          (unsigned long long)r->gemms[i].gemm.m, (unsigned long long)r->gemms[i].gemm.n,
                          (unsigned long long)r->gemms[i].gemm.k, r->gemms[i].stats_text ? r->gemms[i].stats_text : "");
        if (cs_afile_write(stats_out, b.data, b.len, &err) != CS_OK)
            rc = cs_cli_report(&err);
        cs_buf_free(&b);
    }
out:
    if (has_pl)
        cs_placement_free(&pl);
    cs_result_destroy(r);
    cs_inputs_free(&in);
    return rc;
}

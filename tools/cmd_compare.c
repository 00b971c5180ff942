/* cmd_compare — builds the variant list, runs it in one pool, prints the table, writes
 * DIR/compare.json. A variant whose sizing leaves no macro is reported and skipped. */
#include "cmd_compare.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "afile.h"
#include "alloc.h"
#include "cli.h"
#include "json.h"
#include "opts.h"
#include "run.h"
#include "show.h"

static const char usage[] =
    "usage: cimsim compare [-a ARCH] [-w WORKLOAD] [--levels rf,smem,l2] [--primitives LIST]\n"
    "                      [--macros M] [--mapping auto|www] [--compat www] [--goal G] [-o DIR]\n"
    "\n"
    "Simulates the workload on the tensor cores (the baseline) and on every primitive x level\n"
    "placement, and prints cycles, speedup, energy, energy ratio, TOPS/W, TOPS/mm^2 and the\n"
    "limiting bound of each. Defaults: a100, bert-large, all four primitives at rf, smem and l2,\n"
    "iso-area. With -o DIR writes DIR/compare.json (docs/results.md). Bare `cimsim` runs this.\n"
    "\n"
    "options:\n" CS_OPTS_HELP
    "      --levels L         comma-separated levels (rf, smem, l2)\n"
    "      --primitives P     comma-separated primitives (names or .cfg files)\n" CS_OPTS_HELP_CIM
    "  -o, --output DIR       write DIR/compare.json\n"
    "  -h, --help             this help\n";

enum { MAX_LIST = 32 };

/* Splits a comma-separated list in place. */
/* Splits s at commas into at most max items; -1 when it holds more (never cut silently). */
static int split_list(char *s, char **items, int max)
{
    int n = 0;
    for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
        if (n == max)
            return -1;
        items[n++] = tok;
    }
    return n;
}

/* The bound of the GEMM that takes most of the time. */
static const char *main_bound(const cs_result *r)
{
    const cs_gemm_result *best = NULL;
    for (size_t i = 0; i < r->ngemms; i++)
        if (!best || r->gemms[i].cycles > best->cycles)
            best = &r->gemms[i];
    return best ? best->bound : "";
}

static void print_table(FILE *f, const cs_result *base, cs_result **v, size_t nv)
{
    fprintf(f, "%s on %s (%s, %s energy table)\n", base->workload, base->arch, cs_dtype_name(base->dtype),
            base->energy_table);
    fprintf(f, "%-22s %7s %14s %8s %14s %8s %9s %10s  %-11s %s\n", "variant", "macros", "cycles", "speedup",
            "energy_uj", "e_ratio", "tops_per_w", "tops_mm2", "bound", "top cause");
    const cs_result *all[MAX_LIST * 3 + 1];
    all[0] = base;
    for (size_t i = 0; i < nv; i++)
        all[i + 1] = v[i];
    for (size_t i = 0; i <= nv; i++) {
        const cs_result *r = all[i];
        char name[96], macros[16];
        if (r->cim) {
            snprintf(name, sizeof name, "%s@%s", r->cim->primitive, r->cim->level);
            snprintf(macros, sizeof macros, "%llu", (unsigned long long)r->cim->macros);
        } else {
            bool pe = r->ngemms && strcmp(r->gemms[0].mapping_kind, "pe_array") == 0;
            snprintf(name, sizeof name, "baseline (%s)", pe ? "PE array" : "tensor cores");
            snprintf(macros, sizeof macros, "-");
        }
        char top[48];
        cs_show_top_cause(r->attribution, top, sizeof top);
        fprintf(f, "%-22s %7s %14llu %8.3f %14.3f %8.3f %9.3f %10.4f  %-11s %s\n", name, macros, (unsigned long long)r->cycles,
                r->cycles ? (double)base->cycles / (double)r->cycles : 0, r->energy_pj * 1e-6,
                base->energy_pj > 0 ? r->energy_pj / base->energy_pj : 0, r->tops_per_w, r->tops_per_mm2, main_bound(r), top);
    }
}

int cs_cmd_compare(int argc, char **argv)
{
    static const struct option longs[] = {CS_OPTS_LONG,
                                          {"levels", required_argument, 0, CS_OPT_FIRST_LOCAL},
                                          {"primitives", required_argument, 0, CS_OPT_FIRST_LOCAL + 1},
                                          {0, 0, 0, 0}};
    cs_opts o;
    cs_opts_init(&o, "compare", argc, argv);
    char levels_buf[256] = "rf,smem,l2", prims_buf[1024] = "";
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, CS_OPTS_SHORT, longs, NULL)) != -1) {
        if (c == 'h') {
            fputs(usage, stdout);
            return 0;
        }
        if (c == CS_OPT_FIRST_LOCAL || c == CS_OPT_FIRST_LOCAL + 1) {
            char *buf = c == CS_OPT_FIRST_LOCAL ? levels_buf : prims_buf;
            size_t cap = c == CS_OPT_FIRST_LOCAL ? sizeof levels_buf : sizeof prims_buf;
            if (strlen(optarg) >= cap) /* never cut a list short */
                return cs_cli_usage_error("compare", "%s: at most %zu characters", argv[optind - 1 - (optarg == argv[optind - 1])], cap - 1);
            snprintf(buf, cap, "%s", optarg);
            continue;
        }
        int h = cs_opts_handle(&o, c, optarg);
        if (h == 2)
            return 2;
        if (h == 0)
            return cs_cli_bad_option("compare", c, argv);
    }
    if (optind < argc)
        return cs_cli_usage_error("compare", "unexpected argument '%s'", argv[optind]);
    if (!prims_buf[0]) {
        const char *const *b = cs_cim_prim_builtins();
        for (int i = 0; b[i]; i++)
            snprintf(prims_buf + strlen(prims_buf), sizeof prims_buf - strlen(prims_buf), "%s%s", i ? "," : "", b[i]);
    }
    char *levels[MAX_LIST], *prims[MAX_LIST];
    int nl = split_list(levels_buf, levels, MAX_LIST), np = split_list(prims_buf, prims, MAX_LIST);
    for (int i = 0; i < nl; i++)
        if (cs_cim_level_from_name(levels[i]) < 0)
            return cs_cli_usage_error("compare", "--levels: each must be rf, smem or l2 (got \"%s\")", levels[i]);
    if (nl < 0 || np < 0)
        return cs_cli_usage_error("compare", "--levels and --primitives: at most %d items each", MAX_LIST);
    if (!nl || !np)
        return cs_cli_usage_error("compare", "--levels and --primitives must not be empty");
    /* DIR is made and checked before the simulations; one this run made is removed again if
     * compare.json cannot be written into it. */
    char path[4096];
    bool made_dir = false;
    if (o.out) {
        struct stat sb;
        made_dir = stat(o.out, &sb) != 0;
        snprintf(path, sizeof path, "%s/compare.json", o.out);
        cs_err e;
        cs_err_init(&e);
        if (cs_afile_mkdirs(o.out, &e) != CS_OK)
            return cs_cli_report(&e);
        if (cs_cli_check_output(path)) {
            if (made_dir)
                rmdir(o.out);
            return 2;
        }
    }

    cs_err err;
    cs_err_init(&err);
    cs_inputs in = {0};
    int rc = 0;
    cs_placement pls[MAX_LIST * 3];
    cs_run_opts ros[MAX_LIST * 3 + 1];
    cs_run_spec specs[MAX_LIST * 3 + 1];
    cs_result *res[MAX_LIST * 3 + 1] = {0};
    size_t npl = 0;
    if (cs_inputs_load(&o, &in, &err) != CS_OK) {
        rc = cs_cli_report(&err);
        goto out;
    }
    for (int li = 0; li < nl; li++)
        for (int pi = 0; pi < np; pi++) {
            char spec[600];
            snprintf(spec, sizeof spec, "%s@%s", prims[pi], levels[li]);
            cs_err e;
            cs_err_init(&e);
            cs_status st = cs_placement_parse_sets(&in.ad->arch, spec, o.macros, o.sets, o.nsets, &pls[npl], &e);
            if (st == CS_INVALID && e.count) { /* sizing leaves no macro: reported, skipped */
                fprintf(stderr, "cimsim compare: skipping %s: %s\n", spec, e.msg[0]);
                cs_err_free(&e);
                continue;
            }
            if (st != CS_OK) {
                rc = cs_cli_report(&e);
                goto out;
            }
            npl++;
        }
    cs_opts_size_note(&o, in.w, npl + 1);
    for (size_t v = 0; v <= npl; v++) {
        cs_run_opts_init(&ros[v]);
        ros[v].dtype = o.dtype;
        ros[v].command = o.command;
        ros[v].tc = o.tc;
        ros[v].cim = v ? &pls[v - 1] : NULL;
        ros[v].cim_req = o.cim_req;
        specs[v] = (cs_run_spec){in.ad, in.w, in.et, &ros[v]};
    }
    if (cs_run_many(specs, npl + 1, cs_opts_threads(&o), cs_opts_progress(&o), res, &err) != CS_OK) {
        rc = cs_cli_report(&err);
        goto out;
    }
    print_table(stdout, res[0], res + 1, npl);
    printf("model: cycle-level; the approximations are in docs/model.md section 16 (each variant's "
           "provenance.model lists those that apply)\n");
    if (o.out) {
        cs_buf b;
        cs_buf_init(&b);
        cs_json j;
        cs_json_init(&j, &b, 2);
        cs_json_obj_begin(&j);
        cs_json_kstr(&j, "schema", "cimsim-compare/1");
        cs_json_kstr(&j, "version", CIMSIM_VERSION);
        cs_json_key(&j, "baseline");
        cs_result_json(res[0], &j);
        cs_json_key(&j, "variants");
        cs_json_arr_begin(&j);
        for (size_t v = 1; v <= npl; v++)
            cs_result_json(res[v], &j);
        cs_json_arr_end(&j);
        cs_json_obj_end(&j);
        cs_buf_putc(&b, '\n');
        if (cs_afile_write(path, b.data, b.len, &err) != CS_OK)
            rc = cs_cli_report(&err);
        cs_buf_free(&b);
    }
out:
    if (rc && made_dir)
        rmdir(o.out); /* only if still empty */
    for (size_t v = 0; v <= npl; v++)
        cs_result_destroy(res[v]);
    for (size_t v = 0; v < npl; v++)
        cs_placement_free(&pls[v]);
    cs_inputs_free(&in);
    return rc;
}

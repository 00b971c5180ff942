/* cmd_report — the `cimsim report` command: options, output files and exit codes; reading,
 * tables and plots are in report.h. */
#include "cmd_report.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "afile.h"
#include "alloc.h"
#include "buf.h"
#include "cli.h"
#include "report.h"

static const char usage[] =
    "usage: cimsim report RESULT.json... [--format text|json|csv|md|tex] [-o FILE]\n"
    "                     [--standalone] [--per-gemm] [--plot [KIND:]FILE]... [--plot-kind KIND]\n"
    "\n"
    "Tables and plots from result files (cimsim run -o) and compare files (cimsim compare -o;\n"
    "docs/results.md). One result: per-GEMM performance and energy tables with a total row.\n"
    "A compare file, or several results (the first is the baseline): one row per variant with\n"
    "speedup and energy ratio against the baseline, TOPS/W and TOPS/mm^2, the energy breakdown\n"
    "and per-GEMM speedups (decode and prefill totalled apart when a workload has both).\n"
    "A sweep's results.json (cimsim sweep): one row per point with its axis values.\n"
    "Every format records the provenance (cimsim version, config hash, energy table and\n"
    "version, command lines). With --plot alone, no tables are printed. Details: docs/report.md.\n"
    "\n"
    "options:\n"
    "  -f, --format F      text (aligned, default), json (normalised summary), csv (one value\n"
    "                      per cell, units in column names; read with pandas.read_csv(f,\n"
    "                      comment='#')), md (GitHub tables), tex (booktabs tables); without\n"
    "                      --format, -o's extension (.json .csv .md .tex) chooses\n"
    "  -o, --output FILE   write to FILE (atomically; a FIFO or device in place) instead of\n"
    "                      standard output\n"
    "  --standalone        with -o FILE.tex: a complete LaTeX document, not table fragments\n"
    "  --per-gemm          csv of a compare: one row per run and GEMM (long format)\n"
    "  --plot [KIND:]FILE  a plot through gnuplot, .svg, .png or .pdf (repeatable); KIND is\n"
    "                      breakdown (stacked energy), speedup (compare: speedup and energy\n"
    "                      ratio), roofline (TOPS against MACs per DRAM byte), attribution\n"
    "                      (stacked cycles per cause, one bar per GEMM or variant) or sweep\n"
    "                      (a sweep: a metric against an axis, one line per other values)\n"
    "  --plot-kind KIND    the kind of plots given without KIND: (default: the kind the file's\n"
    "                      base name begins with, e.g. attribution.svg; else breakdown for a\n"
    "                      result, speedup for a compare, sweep for a sweep)\n"
    "  --plot-script       keep each plot's gnuplot script beside it (speedup.pdf: speedup.gp,\n"
    "                      with the provenance in comments; `gnuplot speedup.gp` in that\n"
    "                      directory redraws it) to restyle a figure\n"
    "  --x AXIS            sweep plots: the axis along x (default: the first)\n"
    "  --y METRIC          sweep plots: cycles, seconds (default), energy_pj, tops, tops_per_w,\n"
    "                      pj_per_mac, area_mm2 or tops_per_mm2\n"
    "\n"
    "Exit status: 0 success, 2 bad input or usage, 1 internal failure.\n";


static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static bool parse_format(const char *s, cs_rep_format *f)
{
    static const char *const names[] = {"text", "json", "csv", "md", "tex"};
    for (int i = 0; i < 5; i++)
        if (strcmp(s, names[i]) == 0) {
            *f = (cs_rep_format)i;
            return true;
        }
    return false;
}

static const char *const kind_names[] = {"breakdown", "speedup", "roofline", "attribution", "sweep"};
enum { KINDS = sizeof kind_names / sizeof kind_names[0] };

static bool parse_kind(const char *s, size_t n, cs_plot_kind *k)
{
    for (int i = 0; i < KINDS; i++)
        if (strlen(kind_names[i]) == n && strncmp(s, kind_names[i], n) == 0) {
            *k = (cs_plot_kind)(i + 1);
            return true;
        }
    return false;
}

/* A plot file whose base name begins with a kind's name (attribution.svg, speedup-fig3.pdf)
 * is that kind unless one is given. */
static cs_plot_kind kind_of_name(const char *path, cs_plot_kind dflt)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    for (int i = 0; i < KINDS; i++)
        if (strncmp(base, kind_names[i], strlen(kind_names[i])) == 0)
            return (cs_plot_kind)(i + 1);
    return dflt;
}

/* The command line as typed, for provenance: arguments with blanks or quotes are quoted. */
static char *command_line(int argc, char **argv)
{
    cs_buf b;
    cs_buf_init(&b);
    cs_buf_puts(&b, "cimsim");
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] && !strpbrk(a, " \t\n'\"\\$`*?;&|<>()"))
            cs_buf_printf(&b, " %s", a);
        else {
            cs_buf_puts(&b, " '");
            for (; *a; a++)
                cs_buf_puts(&b, *a == '\'' ? "'\\''" : (char[2]){*a, 0});
            cs_buf_putc(&b, '\'');
        }
    }
    return cs_buf_take(&b);
}

enum { MAX_PLOTS = 16 };

/* The kept script of a plot: its path with the extension replaced by .gp. */
static char *script_name(const char *plot)
{
    const char *dot = strrchr(plot, '.');
    size_t n = (size_t)(dot - plot);
    char *s = cs_malloc(n + 4);
    snprintf(s, n + 4, "%.*s.gp", (int)n, plot);
    return s;
}

/* Writes the plot's gnuplot script (atomically), its output the plot's base name, so that
 * gnuplot run in the plot's directory redraws it. */
static cs_status write_script(const cs_report *rep, cs_plot_kind kind, const char *plot, const char *script,
                              cs_err *err)
{
    const char *base = strrchr(plot, '/');
    cs_buf s;
    cs_buf_init(&s);
    cs_status st = cs_report_plot_script(rep, kind, plot, base ? base + 1 : plot, &s, err);
    if (st == CS_OK)
        st = cs_afile_write(script, s.data, s.len, err);
    if (st == CS_OK)
        fprintf(stderr, "wrote %s\n", script);
    cs_buf_free(&s);
    return st;
}

int cs_cmd_report(int argc, char **argv)
{
    const char **files = cs_calloc((size_t)argc + 1, sizeof *files);
    size_t nfiles = 0;
    const char *out = NULL, *fmt_name = NULL, *plot_x = NULL, *plot_y = NULL;
    const char *plots[MAX_PLOTS];
    size_t nplots = 0;
    cs_plot_kind default_kind = CS_PLOT_DEFAULT;
    cs_rep_opts opts = {.format = CS_REP_TEXT};
    bool keep_script = false;
    int rc = -1;
    for (int i = 1; i < argc && rc < 0; i++) {
        const char *v = NULL;
        int m;
        if (cs_cli_is_help(argv[i])) {
            fputs(usage, stdout);
            rc = 0;
        } else if ((m = cs_cli_opt_value(argc, argv, &i, "--format", "-f", &v)) != 0) {
            if (m < 0 || !parse_format(v, &opts.format))
                rc = cs_cli_usage_error("report", "--format: expected text, json, csv, md or tex "
                                        "(got '%s')", m < 0 ? "" : v);
            fmt_name = v;
        } else if ((m = cs_cli_opt_value(argc, argv, &i, "--output", "-o", &v)) != 0) {
            if (m < 0)
                rc = cs_cli_usage_error("report", "%s needs a file", argv[i]);
            out = v;
        } else if ((m = cs_cli_opt_value(argc, argv, &i, "--plot", NULL, &v)) != 0) {
            if (m < 0)
                rc = cs_cli_usage_error("report", "--plot needs a file ([KIND:]FILE)");
            else if (nplots == MAX_PLOTS)
                rc = cs_cli_usage_error("report", "at most %d plots", MAX_PLOTS);
            else
                plots[nplots++] = v;
        } else if ((m = cs_cli_opt_value(argc, argv, &i, "--plot-kind", NULL, &v)) != 0) {
            if (m < 0 || !parse_kind(v, strlen(v), &default_kind))
                rc = cs_cli_usage_error("report", "--plot-kind: expected breakdown, speedup, "
                                        "roofline, attribution or sweep (got '%s')", m < 0 ? "" : v);
        } else if ((m = cs_cli_opt_value(argc, argv, &i, "--x", NULL, &v)) != 0) {
            if (m < 0)
                rc = cs_cli_usage_error("report", "--x needs an axis name");
            plot_x = v;
        } else if ((m = cs_cli_opt_value(argc, argv, &i, "--y", NULL, &v)) != 0) {
            if (m < 0)
                rc = cs_cli_usage_error("report", "--y needs a metric");
            plot_y = v;
        } else if (strcmp(argv[i], "--plot-script") == 0) {
            keep_script = true;
        } else if (strcmp(argv[i], "--standalone") == 0) {
            opts.standalone = true;
        } else if (strcmp(argv[i], "--per-gemm") == 0) {
            opts.per_gemm = true;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            rc = cs_cli_usage_error("report", "unknown option '%s'", argv[i]);
        } else {
            files[nfiles++] = argv[i];
        }
    }
    if (rc >= 0) {
        cs_free(files);
        return rc;
    }
    if (nfiles == 0) {
        cs_free(files);
        return cs_cli_usage_error("report", "give at least one RESULT.json");
    }
    if (!fmt_name && out) {
        static const struct { const char *ext; cs_rep_format f; } exts[] = {
            {".json", CS_REP_JSON}, {".csv", CS_REP_CSV}, {".md", CS_REP_MD},
            {".tex", CS_REP_TEX}};
        for (size_t k = 0; k < sizeof exts / sizeof exts[0]; k++)
            if (ends_with(out, exts[k].ext))
                opts.format = exts[k].f;
    }
    if (opts.standalone && !(opts.format == CS_REP_TEX && out && ends_with(out, ".tex"))) {
        cs_free(files);
        return cs_cli_usage_error("report", "--standalone needs -o FILE.tex (and the tex "
                                  "format)");
    }
    /* Plot specs: [KIND:]FILE. */
    cs_plot_kind kinds[MAX_PLOTS];
    const char *plot_files[MAX_PLOTS];
    for (size_t p = 0; p < nplots; p++) {
        const char *colon = strchr(plots[p], ':');
        kinds[p] = default_kind != CS_PLOT_DEFAULT ? default_kind : kind_of_name(plots[p], CS_PLOT_DEFAULT);
        plot_files[p] = plots[p];
        if (colon && !parse_kind(plots[p], (size_t)(colon - plots[p]), &kinds[p])) {
            cs_free(files);
            return cs_cli_usage_error("report", "--plot %s: unknown kind '%.*s' (breakdown, "
                                      "speedup, roofline, attribution, sweep)", plots[p], (int)(colon - plots[p]),
                                      plots[p]);
        }
        if (colon)
            plot_files[p] = colon + 1;
        if (!ends_with(plot_files[p], ".svg") && !ends_with(plot_files[p], ".png") &&
            !ends_with(plot_files[p], ".pdf")) {
            cs_free(files);
            return cs_cli_usage_error("report", "--plot %s: the file must end in .svg, .png or "
                                      ".pdf", plots[p]);
        }
    }
    if (cs_cli_check_output(out)) {
        cs_free(files);
        return 2;
    }
    char *scripts[MAX_PLOTS] = {NULL};
    for (size_t p = 0; p < nplots; p++) {
        if (keep_script) /* FILE.EXT -> FILE.gp */
            scripts[p] = script_name(plot_files[p]);
        if (cs_cli_check_output(plot_files[p]) || (scripts[p] && cs_cli_check_output(scripts[p]))) {
            for (size_t q = 0; q < nplots; q++)
                cs_free(scripts[q]);
            cs_free(files);
            return 2;
        }
    }
    char *cmd = command_line(argc, argv);
    cs_report rep;
    memset(&rep, 0, sizeof rep);
    cs_err err;
    cs_err_init(&err);
    rc = 0;
    if (cs_report_read(&rep, files, nfiles, cmd, &err) != CS_OK)
        rc = cs_cli_report(&err);
    rep.plot_x = plot_x;
    rep.plot_y = plot_y;
    /* Every plot must apply before anything is written. */
    for (size_t p = 0; p < nplots && rc == 0; p++) {
        cs_buf dry;
        cs_buf_init(&dry);
        if (cs_report_plot_script(&rep, kinds[p], plot_files[p], plot_files[p], &dry, &err) !=
            CS_OK)
            rc = cs_cli_report(&err);
        cs_buf_free(&dry);
    }
    /* With plots only, the tables are written when asked for (-o or --format), not dumped. */
    bool tables = nplots == 0 || out || fmt_name;
    if (rc == 0 && tables) {
        cs_buf b;
        cs_buf_init(&b);
        if (cs_report_write(&rep, &opts, &b, &err) != CS_OK)
            rc = cs_cli_report(&err);
        else if (out) {
            if (cs_afile_write(out, b.data, b.len, &err) != CS_OK)
                rc = cs_cli_report(&err);
        } else {
            fwrite(b.data, 1, b.len, stdout);
            fflush(stdout);
        }
        cs_buf_free(&b);
    }
    if (rc == 0) {
        for (size_t p = 0; p < nplots && rc == 0; p++) {
            cs_err_init(&err);
            /* the script first: kept even when gnuplot fails on it */
            if (scripts[p] && write_script(&rep, kinds[p], plot_files[p], scripts[p], &err) != CS_OK)
                rc = cs_cli_report(&err);
            else if (cs_report_plot(&rep, kinds[p], plot_files[p], &err) != CS_OK)
                rc = cs_cli_report(&err);
            else
                fprintf(stderr, "wrote %s\n", plot_files[p]);
        }
    }
    for (size_t p = 0; p < nplots; p++)
        cs_free(scripts[p]);
    cs_report_free(&rep);
    cs_free(cmd);
    cs_free(files);
    return rc;
}

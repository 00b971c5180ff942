/* test_report — `cimsim report` (tools/report.h, tools/cmd_report.h) on the sample result and
 * compare files in tests/data/results/ (docs/results.md): every format, the CSV read back and
 * compared value by value with the JSON, the JSON summary, Markdown and LaTeX structure, LaTeX
 * compiled with pdflatex (skipped only when pdflatex is absent), plots of every kind through
 * gnuplot (PNG magic, SVG root, PDF header), malformed input with exit status 2 and exact
 * messages, number formatting. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alloc.h"
#include "cmd_report.h"
#include "report.h"

#define DATA CIMSIM_SOURCE_DIR "/tests/data/results"

static char tmpdir[64];

static void setup(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/cimsim-report-XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
    cr_assert_eq(chdir(DATA), 0);
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    int rc = system(cmd);
    (void)rc;
}

TestSuite(report, .init = setup, .fini = teardown);

static int run_report(const char *const *args, int n)
{
    char *argv[32];
    cr_assert(n < 31);
    argv[0] = "report";
    for (int i = 0; i < n; i++)
        argv[i + 1] = (char *)args[i];
    argv[n + 1] = NULL;
    return cs_cmd_report(n + 1, argv);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s not written", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = cs_malloc((size_t)n + 1);
    cr_assert_eq(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = '\0';
    fclose(f);
    return s;
}

static const char *out_path(const char *name)
{
    static char p[4][256];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", tmpdir, name);
    return p[k];
}

/* Writes FILE in FORMAT to the temporary directory and returns its text. */
static char *report_to(const char *input, const char *fmt, const char *name)
{
    const char *o = out_path(name);
    const char *args[] = {input, "--format", fmt, "-o", o};
    cr_assert_eq(run_report(args, 5), 0, "report %s --format %s", input, fmt);
    return slurp(o);
}

/* ---- every format carries the provenance ------------------------------------------------ */

Test(report, every_format_with_provenance)
{
    const char *const fmts[] = {"text", "json", "csv", "md", "tex"};
    const char *const inputs[] = {"result.json", "compare.json"};
    for (size_t i = 0; i < 2; i++)
        for (size_t f = 0; f < 5; f++) {
            char name[64];
            snprintf(name, sizeof name, "out%zu.%s", i, fmts[f]);
            char *s = report_to(inputs[i], fmts[f], name);
            cr_assert(strlen(s) > 200, "%s %s: %zu bytes", inputs[i], fmts[f], strlen(s));
            cr_assert(strstr(s, "51516b9ea5c131b5"), "%s %s: config hash", inputs[i], fmts[f]);
            cr_assert(strstr(s, "7nm"), "%s %s: energy table", inputs[i], fmts[f]);
            cr_assert(strstr(s, "cimsim report"), "%s %s: report command", inputs[i], fmts[f]);
            cr_assert(strstr(s, i ? "cimsim compare -w wl.csv" : "cimsim run -w wl.csv"),
                      "%s %s: the run's command", inputs[i], fmts[f]);
            cr_assert(strstr(s, "0.1.0"), "%s %s: version", inputs[i], fmts[f]);
            cs_free(s);
        }
}

Test(report, text_result_tables)
{
    char *s = report_to("result.json", "text", "r.txt");
    /* From result.json: totals 46826 cycles, 3.320992...e-05 s, 162.67 TOPS, 1862.57 uJ. */
    cr_assert(strstr(s, "total                         46826      33.21  162.7      26.1        "
                        "          1863   0.690\n"),
              "%s", s);
    cr_assert(strstr(s, "decode_qkv    1  4096  4096   21028      14.91  2.250       0.4  dram"));
    cr_assert(strstr(s, "Energy breakdown (% of each GEMM's energy)"));
    cs_free(s);
}

Test(report, text_compare_tables)
{
    char *s = report_to("compare.json", "text", "c.txt");
    /* speedup 46826 / 41725 cycles (same clock) = 1.122x; energy 1031.9 / 1862.6 uJ = 0.554. */
    cr_assert(strstr(s, "analog6T@rf x5       41725      29.59  182.6    1.12x         1032         "
                        "0.554   0.382    5.24       51.34      3.56  dram\n"),
              "%s", s);
    cr_assert(strstr(s, "Per-GEMM speedup over the baseline"));
    cr_assert(strstr(s, "decode_qkv    1  4096  4096           1.00x               2.50x"));
    cs_free(s);
}

/* ---- CSV read back ------------------------------------------------------------------------ */

typedef struct csv {
    char **cells;
    size_t ncols, nrows; /* rows after the header */
    char **head;
} csv;

static char *field(const char **p)
{
    cs_buf b;
    cs_buf_init(&b);
    const char *s = *p;
    if (*s == '"') {
        s++;
        for (;;) {
            if (*s == '"' && s[1] == '"') {
                cs_buf_putc(&b, '"');
                s += 2;
            } else if (*s == '"') {
                s++;
                break;
            } else {
                cr_assert(*s, "unterminated quote");
                cs_buf_putc(&b, *s++);
            }
        }
    } else {
        while (*s && *s != ',' && *s != '\n')
            cs_buf_putc(&b, *s++);
    }
    *p = s;
    return b.data ? cs_buf_take(&b) : cs_strdup("");
}

static csv parse_csv(const char *text)
{
    csv c = {0};
    const char *p = text;
    size_t cap = 0, n = 0;
    bool header = true;
    while (*p) {
        if (*p == '#') { /* provenance comments */
            p = strchr(p, '\n');
            cr_assert_not_null(p);
            p++;
            continue;
        }
        size_t cols = 0;
        for (;;) {
            char *f = field(&p);
            if (header) {
                c.head = cs_realloc(c.head, (cols + 1) * sizeof *c.head);
                c.head[cols] = f;
            } else {
                CS_GROW(c.cells, cap, n + 1);
                c.cells[n++] = f;
            }
            cols++;
            if (*p == ',') {
                p++;
                continue;
            }
            cr_assert_eq(*p, '\n', "rows end with a newline");
            p++;
            break;
        }
        if (header)
            c.ncols = cols;
        else {
            cr_assert_eq(cols, c.ncols, "row %zu has %zu cells, header %zu", c.nrows, cols,
                         c.ncols);
            c.nrows++;
        }
        header = false;
    }
    return c;
}

static void free_csv(csv *c)
{
    for (size_t i = 0; i < c->nrows * c->ncols; i++)
        cs_free(c->cells[i]);
    for (size_t i = 0; i < c->ncols; i++)
        cs_free(c->head[i]);
    cs_free(c->cells);
    cs_free(c->head);
}

static const char *cell(const csv *c, size_t row, const char *col)
{
    for (size_t i = 0; i < c->ncols; i++)
        if (strcmp(c->head[i], col) == 0)
            return c->cells[row * c->ncols + i];
    cr_assert_fail("no column %s", col);
    return NULL;
}

static void same_number(const csv *c, size_t row, const char *col, double want)
{
    const char *s = cell(c, row, col);
    char *end;
    double v = strtod(s, &end);
    cr_assert(*s && !*end, "row %zu %s: '%s' is not a number", row, col, s);
    cr_assert_eq(v, want, "row %zu %s: %s reads back as %.17g, want %.17g", row, col, s, v, want);
}

static double jnum(json_t *o, const char *path)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    json_t *j = o;
    for (char *tok = strtok(buf, "."); tok; tok = strtok(NULL, "."))
        j = json_object_get(j, tok);
    cr_assert(json_is_number(j), "%s", path);
    return json_number_value(j);
}

Test(report, csv_result_reads_back_exactly)
{
    char *s = report_to("result.json", "csv", "r.csv");
    csv c = parse_csv(s);
    json_error_t je;
    json_t *r = json_load_file("result.json", 0, &je);
    cr_assert_not_null(r);
    json_t *gemms = json_object_get(r, "gemms");
    cr_assert_eq(c.nrows, json_array_size(gemms) + 1, "one row per GEMM and a total");
    /* Units in column names. */
    cr_assert_str_eq(c.head[0], "file");
    const char *const units[] = {"energy_pj", "seconds", "dram_pj", "leakage_pj", "pj_per_mac",
                                 "dram_read_bytes"};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        (void)cell(&c, 0, units[i]);
    for (size_t i = 0; i < json_array_size(gemms); i++) {
        json_t *g = json_array_get(gemms, i);
        cr_assert_str_eq(cell(&c, i, "gemm"), json_string_value(json_object_get(g, "name")));
        cr_assert_str_eq(cell(&c, i, "bound"), json_string_value(json_object_get(g, "bound")));
        cr_assert_str_eq(cell(&c, i, "run"), "baseline");
        same_number(&c, i, "m", jnum(g, "m"));
        same_number(&c, i, "cycles", jnum(g, "cycles"));
        same_number(&c, i, "seconds", jnum(g, "seconds"));
        same_number(&c, i, "macs", jnum(g, "macs"));
        same_number(&c, i, "tops", jnum(g, "tops"));
        same_number(&c, i, "utilization", jnum(g, "utilization"));
        same_number(&c, i, "energy_pj", jnum(g, "energy_pj"));
        same_number(&c, i, "pj_per_mac", jnum(g, "energy_pj") / jnum(g, "macs"));
        for (int k = 0; k < CS_EB_COUNT; k++) {
            char col[64], path[96];
            snprintf(col, sizeof col, "%s_pj", cs_eb_name(k));
            snprintf(path, sizeof path, "energy_breakdown_pj.%s", cs_eb_name(k));
            same_number(&c, i, col, jnum(g, path));
        }
        same_number(&c, i, "dram_read_bytes", jnum(g, "bytes.dram_read"));
        cr_assert_str_eq(cell(&c, i, "speedup"), "", "no baseline, no speedup");
    }
    size_t t = c.nrows - 1;
    json_t *tot = json_object_get(r, "total");
    cr_assert_str_eq(cell(&c, t, "gemm"), "total");
    cr_assert_str_eq(cell(&c, t, "m"), "");
    same_number(&c, t, "cycles", jnum(tot, "cycles"));
    same_number(&c, t, "energy_pj", jnum(tot, "energy_pj"));
    same_number(&c, t, "tops", jnum(tot, "tops"));
    same_number(&c, t, "leakage_pj", jnum(tot, "energy_breakdown_pj.leakage"));
    json_decref(r);
    free_csv(&c);
    cs_free(s);
}

Test(report, csv_compare_reads_back_exactly)
{
    char *s = report_to("compare.json", "csv", "c.csv");
    csv c = parse_csv(s);
    json_error_t je;
    json_t *d = json_load_file("compare.json", 0, &je);
    cr_assert_not_null(d);
    json_t *base = json_object_get(d, "baseline"), *vars = json_object_get(d, "variants");
    cr_assert_eq(c.nrows, 1 + json_array_size(vars), "one row per variant");
    double bs = jnum(base, "total.seconds"), be = jnum(base, "total.energy_pj");
    for (size_t i = 0; i < c.nrows; i++) {
        json_t *r = i ? json_array_get(vars, i - 1) : base;
        same_number(&c, i, "cycles", jnum(r, "total.cycles"));
        same_number(&c, i, "energy_pj", jnum(r, "total.energy_pj"));
        same_number(&c, i, "tops_per_w", jnum(r, "total.tops_per_w"));
        same_number(&c, i, "tops_per_mm2", jnum(r, "total.tops_per_mm2"));
        same_number(&c, i, "area_mm2", jnum(r, "total.area_mm2"));
        same_number(&c, i, "speedup", bs / jnum(r, "total.seconds"));
        same_number(&c, i, "energy_ratio", jnum(r, "total.energy_pj") / be);
        same_number(&c, i, "cim_mac_pj", jnum(r, "total.energy_breakdown_pj.cim_mac"));
    }
    cr_assert_str_eq(cell(&c, 0, "run"), "baseline");
    cr_assert_str_eq(cell(&c, 0, "macros"), "");
    cr_assert_str_eq(cell(&c, 1, "run"), "analog6T@rf x5");
    cr_assert_str_eq(cell(&c, 1, "primitive"), "analog6T");
    same_number(&c, 2, "macros", 48);
    json_decref(d);
    free_csv(&c);
    cs_free(s);
}

Test(report, csv_compare_per_gemm_long_format)
{
    const char *o = out_path("long.csv");
    const char *args[] = {"compare.json", "--per-gemm", "-o", o};
    cr_assert_eq(run_report(args, 4), 0);
    char *s = slurp(o);
    csv c = parse_csv(s);
    cr_assert_eq(c.nrows, 3 * 4, "3 runs x (3 GEMMs + total)");
    /* analog6T on decode_qkv: baseline seconds / variant seconds of that GEMM. */
    cr_assert_str_eq(cell(&c, 5, "gemm"), "decode_qkv");
    cr_assert_str_eq(cell(&c, 5, "run"), "analog6T@rf x5");
    json_error_t je;
    json_t *d = json_load_file("compare.json", 0, &je);
    cr_assert_not_null(d);
    json_t *bg = json_array_get(json_object_get(json_object_get(d, "baseline"), "gemms"), 1);
    json_t *vg = json_array_get(
        json_object_get(json_array_get(json_object_get(d, "variants"), 0), "gemms"), 1);
    same_number(&c, 5, "speedup", jnum(bg, "seconds") / jnum(vg, "seconds"));
    json_decref(d);
    free_csv(&c);
    cs_free(s);
}

/* ---- JSON summary ------------------------------------------------------------------------- */

Test(report, json_summary)
{
    char *s = report_to("compare.json", "json", "c.json");
    json_error_t je;
    json_t *j = json_loads(s, 0, &je);
    cr_assert_not_null(j, "%s", je.text);
    cr_assert_str_eq(json_string_value(json_object_get(j, "schema")), "cimsim-report/1");
    json_t *g = json_array_get(json_object_get(j, "groups"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(g, "kind")), "compare");
    json_t *runs = json_object_get(g, "runs");
    cr_assert_eq(json_array_size(runs), 3);
    json_t *v = json_array_get(runs, 2);
    cr_assert_str_eq(json_string_value(json_object_get(v, "label")), "digital6T@smem x48");
    cr_assert_eq(jnum(v, "total.speedup"), 46826.0 / 1.41e9 / (35210.0 / 1.41e9));
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(v, "provenance"),
                                                       "energy_table")),
                     "7nm");
    json_t *g0 = json_array_get(json_object_get(v, "gemms"), 1);
    cr_assert_eq(jnum(g0, "macs_per_dram_byte"), 16777216.0 / (16797696.0 + 16384.0));
    json_decref(j);
    cs_free(s);
}

/* ---- Markdown and LaTeX ------------------------------------------------------------------- */

Test(report, markdown_tables)
{
    char *s = report_to("compare.json", "md", "c.md");
    cr_assert(strncmp(s, "<!--\n", 5) == 0, "provenance in an HTML comment");
    cr_assert(strstr(s, "| variant | cycles | time (µs) | TOPS | speedup |"));
    cr_assert(strstr(s, "|:---|---:|---:|"));
    cr_assert(strstr(s, "| analog6T@rf x5 | 41725 | 29.59 | 182.6 | 1.12× |"));
    cr_assert(strstr(s, "| **total** |"), "total row in bold");
    cs_free(s);
}

Test(report, latex_fragment)
{
    char *s = report_to("result.json", "tex", "r.tex");
    cr_assert(strstr(s, "\\begin{tabular}{lrrrrrrrlrr}\n\\toprule\n"));
    cr_assert(strstr(s, "\\midrule\n"));
    cr_assert(strstr(s, "\\bottomrule\n\\end{tabular}\n"));
    cr_assert(strstr(s, "bert\\_proj & 512 & 1024 & 1024 & 5997 & 4.254 & 252.4 & 40.5 & latency & "
                        "295.0 & 0.550 \\\\\n"),
              "%s", s);
    cr_assert(strstr(s, "Time ($\\mu$s)"), "units in headers");
    cr_assert_null(strstr(s, "\\documentclass"), "a fragment");
    /* No unescaped underscore outside comments. */
    for (const char *line = s; *line;) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        if (line[0] != '%')
            for (size_t i = 0; i < len; i++)
                cr_assert(line[i] != '_' || (i && line[i - 1] == '\\'), "unescaped _ in: %.*s",
                          (int)len, line);
        line += len + (nl ? 1 : 0);
    }
    cs_free(s);
}

static bool have(const char *prog)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", prog);
    return system(cmd) == 0;
}

static void pdflatex(const char *tex)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && pdflatex -interaction=nonstopmode -halt-on-error '%s' > pdflatex.log 2>&1",
             tmpdir, tex);
    int rc = system(cmd);
    char log[300];
    snprintf(log, sizeof log, "%s/pdflatex.log", tmpdir);
    cr_assert(WIFEXITED(rc) && WEXITSTATUS(rc) == 0, "pdflatex %s failed; see %s", tex, log);
    char pdf[300];
    snprintf(pdf, sizeof pdf, "%s/%.*s.pdf", tmpdir, (int)(strlen(tex) - 4), tex);
    struct stat sb;
    cr_assert(stat(pdf, &sb) == 0 && sb.st_size > 1000, "%s", pdf);
}

Test(report, latex_compiles_with_pdflatex)
{
    if (!have("pdflatex"))
        cr_skip("pdflatex is not installed (Debian: texlive-latex-base texlive-latex-recommended)");
    /* A standalone document of the compare tables. */
    const char *o = out_path("doc.tex");
    const char *args[] = {"compare.json", "-o", o, "--standalone"};
    cr_assert_eq(run_report(args, 4), 0);
    char *s = slurp(o);
    cr_assert(strncmp(s, "\\documentclass", 14) == 0);
    cr_assert(strstr(s, "\\usepackage{booktabs}"));
    cs_free(s);
    pdflatex("doc.tex");
    /* A fragment pasted into a paper's document. */
    char *frag = report_to("result.json", "tex", "frag.tex");
    FILE *f = fopen(out_path("paper.tex"), "w");
    cr_assert_not_null(f);
    fprintf(f, "\\documentclass{article}\n\\usepackage{booktabs}\n\\begin{document}\n"
               "\\begin{table}\\centering\\small\n%s\\end{table}\n\\end{document}\n",
            frag);
    fclose(f);
    cs_free(frag);
    pdflatex("paper.tex");
}

/* ---- plots -------------------------------------------------------------------------------- */

static void check_image(const char *path)
{
    char *s = slurp(path);
    struct stat sb;
    cr_assert_eq(stat(path, &sb), 0);
    cr_assert(sb.st_size > 1000, "%s: %lld bytes", path, (long long)sb.st_size);
    size_t n = strlen(path);
    if (strcmp(path + n - 4, ".png") == 0)
        cr_assert(memcmp(s, "\x89PNG\r\n\x1a\n", 8) == 0, "%s: PNG magic", path);
    else if (strcmp(path + n - 4, ".svg") == 0)
        cr_assert(strstr(s, "<svg") && strstr(s, "</svg>"), "%s: SVG root element", path);
    else
        cr_assert(memcmp(s, "%PDF-", 5) == 0, "%s: PDF header", path);
    cs_free(s);
}

Test(report, plots_of_a_result)
{
    if (!have("gnuplot"))
        cr_skip("gnuplot is not installed (Debian: gnuplot-nox)");
    char a[4][300];
    snprintf(a[0], sizeof a[0], "%s/breakdown.png", tmpdir);
    snprintf(a[1], sizeof a[1], "roofline:%s/roofline.svg", tmpdir);
    snprintf(a[2], sizeof a[2], "breakdown:%s/breakdown.svg", tmpdir);
    snprintf(a[3], sizeof a[3], "roofline:%s/roofline.pdf", tmpdir);
    const char *o = out_path("r.txt");
    const char *args[] = {"result.json", "-o", o, "--plot", a[0], "--plot", a[1],
                          "--plot", a[2], "--plot", a[3]};
    cr_assert_eq(run_report(args, 11), 0);
    check_image(out_path("breakdown.png"));
    check_image(out_path("roofline.svg"));
    check_image(out_path("breakdown.svg"));
    check_image(out_path("roofline.pdf"));
    /* The plot shows the data: GEMM names and the pJ/MAC labels are in the SVG. */
    char *svg = slurp(out_path("breakdown.svg"));
    cr_assert(strstr(svg, "decode_qkv"));
    cr_assert(strstr(svg, "31.7 pJ/MAC"));
    cs_free(svg);
    /* No temporary file left beside the plots. */
    char cmd[400];
    snprintf(cmd, sizeof cmd, "ls -A '%s' | grep -q tmp", tmpdir);
    cr_assert_neq(system(cmd), 0, "temporary files left in %s", tmpdir);
}

Test(report, plots_of_a_compare)
{
    if (!have("gnuplot"))
        cr_skip("gnuplot is not installed (Debian: gnuplot-nox)");
    char a[3][300];
    snprintf(a[0], sizeof a[0], "%s/speedup.png", tmpdir); /* default kind: speedup */
    snprintf(a[1], sizeof a[1], "%s/breakdown.svg", tmpdir);
    snprintf(a[2], sizeof a[2], "roofline:%s/roofline.png", tmpdir);
    const char *o = out_path("c.txt");
    const char *args[] = {"compare.json", "-o", o, "--plot", a[0], "--plot-kind", "breakdown",
                          "--plot", a[1], "--plot", a[2]};
    cr_assert_eq(run_report(args, 11), 0);
    check_image(out_path("speedup.png"));
    check_image(out_path("breakdown.svg"));
    check_image(out_path("roofline.png"));
    char *svg = slurp(out_path("breakdown.svg"));
    cr_assert(strstr(svg, "digital6T x48"), "the variant under its bar, its level above the group");
    cr_assert(strstr(svg, ">smem<"));
    cr_assert(strstr(svg, "CiM MAC"));
    cs_free(svg);
}

Test(report, plot_script_is_deterministic_and_sized_for_a_column)
{
    const char *files[] = {"compare.json"};
    cs_report rep = {0};
    cs_err err;
    cs_err_init(&err);
    cr_assert_eq(cs_report_read(&rep, files, 1, "cimsim report compare.json", &err), CS_OK);
    cs_buf a, b;
    cs_buf_init(&a);
    cs_buf_init(&b);
    cr_assert_eq(cs_report_plot_script(&rep, CS_PLOT_SPEEDUP, "x.pdf", "x.pdf", &a, &err), CS_OK);
    cr_assert_eq(cs_report_plot_script(&rep, CS_PLOT_SPEEDUP, "x.pdf", "x.pdf", &b, &err), CS_OK);
    cr_assert_str_eq(a.data, b.data);
    cr_assert(strstr(a.data, "set terminal pdfcairo size 3.4in,3.45in"), "two panels: 1.5 times as tall");
    cr_assert(strstr(a.data, "set ylabel 'speedup (higher is better)'"));
    cr_assert(strstr(a.data, "set ylabel 'energy ratio (lower is better)'"));
    cr_assert(strstr(a.data, "set title 'wl on a100-sxm4-40gb'"), "the caption");
    cs_buf_clear(&a);
    cr_assert_eq(cs_report_plot_script(&rep, CS_PLOT_BREAKDOWN, "x.pdf", "x.pdf", &a, &err), CS_OK);
    cr_assert(strstr(a.data, "set terminal pdfcairo size 3.4in,2.3in"));
    cr_assert(strstr(a.data, "51516b9ea5c131b5"), "provenance in the script");
    cs_buf_clear(&a);
    cr_assert_eq(cs_report_plot_script(&rep, CS_PLOT_ROOFLINE, "x.png", "x.png", &a, &err), CS_OK);
    cr_assert(strstr(a.data, "set xlabel 'arithmetic intensity (MACs per DRAM byte)'"));
    cr_assert(strstr(a.data, "peak = 623.73888"));
    cs_buf_clear(&a);
    cr_assert_eq(cs_report_plot_script(&rep, CS_PLOT_ROOFLINE, "x.gif", "x.gif", &a, &err),
                 CS_UNSUPPORTED);
    cs_buf_free(&a);
    cs_buf_free(&b);
    cs_report_free(&rep);
}

/* ---- several results, bad input ---------------------------------------------------------- */

Test(report, several_results_compare_against_the_first)
{
    const char *o = out_path("two.csv");
    const char *args[] = {"result.json", "result.json", "-o", o};
    cr_assert_eq(run_report(args, 4), 0);
    char *s = slurp(o);
    csv c = parse_csv(s);
    cr_assert_eq(c.nrows, 2, "one row per run");
    cr_assert_str_eq(cell(&c, 0, "run"), "baseline (result.json)", "labels told apart");
    same_number(&c, 1, "speedup", 1.0);
    free_csv(&c);
    cs_free(s);
}

static void expect_read_errors(const char *file, int n, const char *const *msgs)
{
    cs_report rep = {0};
    cs_err err;
    cs_err_init(&err);
    const char *files[] = {file};
    cs_status st = cs_report_read(&rep, files, 1, "test", &err);
    cr_assert_eq(cs_status_exit_code(st), 2);
    cr_assert_eq(err.count, n, "%s: %d messages, first: %s", file, err.count, err.msg[0]);
    for (int i = 0; i < n; i++)
        cr_assert_str_eq(err.msg[i], msgs[i]);
    cs_report_free(&rep);
    /* The command exits 2 and writes nothing. */
    const char *o = out_path("never.txt");
    const char *args[] = {file, "-o", o};
    cr_redirect_stderr();
    cr_assert_eq(run_report(args, 3), 2);
    struct stat sb;
    cr_assert_neq(stat(o, &sb), 0);
}

Test(report, malformed_json)
{
    const char *m[] = {"bad/syntax.json:17: error: JSON: '}' expected near ':' (column 11)"};
    expect_read_errors("bad/syntax.json", 1, m);
}

Test(report, missing_keys)
{
    const char *m[] = {"bad/missing_keys.json: error: provenance.config_hash: missing key",
                       "bad/missing_keys.json: error: gemms[1].energy_pj: missing key",
                       "bad/missing_keys.json: error: total.cycles: missing key"};
    expect_read_errors("bad/missing_keys.json", 3, m);
}

Test(report, ill_typed_keys)
{
    const char *m[] = {
        "bad/wrong_types.json: error: peak: expected an object (got an array)",
        "bad/wrong_types.json: error: gemms[0].cycles: expected a number (got a string)",
        "bad/wrong_types.json: error: gemms[2].energy_breakdown_pj.rf: expected a number (got "
        "null)"};
    expect_read_errors("bad/wrong_types.json", 3, m);
}

Test(report, unknown_schema)
{
    const char *m[] = {"bad/wrong_schema.json: error: schema: expected \"cimsim-result/1\", "
                       "\"cimsim-compare/1\" or \"cimsim-sweep/1\" (got \"cimsim-result/2\")"};
    expect_read_errors("bad/wrong_schema.json", 1, m);
}

Test(report, usage_errors_exit_2, .init = cr_redirect_stderr)
{
    const char *a1[] = {"result.json", "--frobnicate"};
    cr_assert_eq(run_report(a1, 2), 2);
    const char *a2[] = {"result.json", "--format", "pdf"};
    cr_assert_eq(run_report(a2, 3), 2);
    const char *a3[] = {"--format", "csv"};
    cr_assert_eq(run_report(a3, 2), 2);
    const char *a4[] = {"result.json", "--plot", "x.gif"};
    cr_assert_eq(run_report(a4, 3), 2);
    const char *a5[] = {"result.json", "--plot", "bars:x.png"};
    cr_assert_eq(run_report(a5, 3), 2);
    const char *a6[] = {"result.json", "--standalone"};
    cr_assert_eq(run_report(a6, 2), 2);
    const char *a7[] = {"result.json", "compare.json"};
    cr_assert_eq(run_report(a7, 2), 2);
    const char *a8[] = {"result.json", "--plot", "speedup:x.png"}; /* needs a compare */
    cr_assert_eq(run_report(a8, 3), 2);
    const char *a9[] = {"missing.json"};
    cr_assert_eq(run_report(a9, 1), 2);
    const char *a10[] = {"result.json", "--plot-kind", "pie"};
    cr_assert_eq(run_report(a10, 3), 2);
}

Test(report, help_exits_0, .init = cr_redirect_stdout)
{
    const char *a[] = {"--help"};
    cr_assert_eq(run_report(a, 1), 0);
}

Test(report, format_from_the_extension)
{
    const char *o = out_path("auto.md");
    const char *args[] = {"result.json", "-o", o};
    cr_assert_eq(run_report(args, 3), 0);
    char *s = slurp(o);
    cr_assert(strncmp(s, "<!--", 4) == 0);
    cs_free(s);
}

/* ---- numbers ------------------------------------------------------------------------------ */

static void num_is(double v, int sig, const char *want)
{
    cs_buf b;
    cs_buf_init(&b);
    cs_report_number(&b, v, sig);
    cr_assert_str_eq(b.data, want, "%.17g with %d figures", v, sig);
    cs_buf_free(&b);
}

Test(report, significant_figures)
{
    num_is(0.000123456, 3, "0.000123");
    num_is(12345.6, 4, "12350");
    num_is(9.996, 3, "10.0");
    num_is(0.5496, 3, "0.550");
    num_is(0.5495, 3, "0.549"); /* 0.5495 is 0.549499999... in binary */
    num_is(1.5e-5, 3, "1.50e-05");
    num_is(0, 3, "0");
    num_is(NAN, 3, "-");
    num_is(0.1 + 0.2, 0, "0.30000000000000004");
    num_is(2048, 0, "2048");
}

/* ---- sweeps, phases, figures of merit ---------------------------------------------------- */

/* A sweep's results.json (a real `cimsim sweep` of sweep.cfg): one row per point with its axis
 * values, in every format; every plot kind but speedup (which needs a baseline) renders. */
Test(report, sweep_results_in_every_format_and_plot)
{
    char *s = report_to("sweep.json", "text", "s.txt");
    cr_assert(strstr(s, "point  cim          latency  cycles"), "%s", s);
    cr_assert(strstr(s, "    3  analog6T@rf  20ns  "), "%s", s);
    cs_free(s);
    s = report_to("sweep.json", "csv", "s.csv");
    csv c = parse_csv(s);
    cr_assert_eq(c.nrows, 4);
    cr_assert_str_eq(cell(&c, 3, "cim"), "analog6T@rf");
    cr_assert_str_eq(cell(&c, 3, "latency"), "20ns");
    json_t *root = json_load_file("sweep.json", 0, NULL);
    json_t *r3 = json_object_get(json_array_get(json_object_get(root, "results"), 3), "result");
    same_number(&c, 3, "cycles", jnum(r3, "total.cycles"));
    same_number(&c, 3, "energy_pj", jnum(r3, "total.energy_pj"));
    json_decref(root);
    free_csv(&c);
    cs_free(s);
    s = report_to("sweep.json", "tex", "s.tex");
    cr_assert(strstr(s, "Point & cim & latency & Cycles"), "%s", s);
    cs_free(s);
    s = report_to("sweep.json", "md", "s.md");
    cr_assert(strstr(s, "| point | cim | latency |"), "%s", s);
    cs_free(s);
    s = report_to("sweep.json", "json", "s.json");
    cr_assert(strstr(s, "\"kind\": \"sweep\"") && strstr(s, "\"latency\": \"20ns\""), "%s", s);
    cs_free(s);
    if (!have("gnuplot"))
        cr_skip("gnuplot is not installed (Debian: gnuplot-nox)");
    const char *kinds[] = {"sweep", "breakdown", "attribution", "roofline"};
    for (size_t k = 0; k < 4; k++) {
        char spec[300];
        snprintf(spec, sizeof spec, "%s:%s/%s.png", kinds[k], tmpdir, kinds[k]);
        const char *args[] = {"sweep.json", "--plot", spec, "--x", "latency", "--y", "tops_per_w"};
        cr_assert_eq(run_report(args, 7), 0, "%s", kinds[k]);
        char name[64];
        snprintf(name, sizeof name, "%s.png", kinds[k]);
        check_image(out_path(name));
    }
    /* the sweep plot: the axis along x, one line per other value, the metric's direction */
    const char *files[] = {"sweep.json"};
    cs_report rep = {0};
    cs_err err;
    cs_err_init(&err);
    cr_assert_eq(cs_report_read(&rep, files, 1, "test", &err), CS_OK);
    rep.plot_x = "latency";
    cs_buf b;
    cs_buf_init(&b);
    cr_assert_eq(cs_report_plot_script(&rep, CS_PLOT_SWEEP, "x.svg", "x.svg", &b, &err), CS_OK);
    cr_assert(strstr(b.data, "set xtics ('5ns' 0, '20ns' 1)"), "%s", b.data);
    cr_assert(strstr(b.data, "title 'cim=none'") && strstr(b.data, "title 'cim=analog6T@rf'"), "%s", b.data);
    cr_assert(strstr(b.data, "time (µs) (lower is better)"), "%s", b.data);
    rep.plot_x = "nope";
    cr_assert_eq(cs_report_plot_script(&rep, CS_PLOT_SWEEP, "x.svg", "x.svg", &b, &err), CS_INVALID);
    rep.plot_x = NULL;
    cr_assert_eq(cs_report_plot_script(&rep, CS_PLOT_SPEEDUP, "x.svg", "x.svg", &b, &err), CS_INVALID);
    cs_buf_free(&b);
    cs_report_free(&rep);
}

/* Decode (M <= 16) and prefill totalled apart; speedups in significant figures; the bound of
 * each variant; the macro count in LaTeX as $\times$. */
Test(report, phases_significant_speedups_bound_and_latex_times)
{
    char *s = report_to("compare.json", "text", "p.txt");
    cr_assert(strstr(s, "By phase (decode: GEMMs with M <= 16; prefill: the others)"), "%s", s);
    /* digital6T prefill: (bert_proj + ffn_up) baseline seconds / variant seconds */
    cr_assert(strstr(s, "digital6T@smem x48  prefill      2   26799      19.01   0.963x"), "%s", s);
    cr_assert(strstr(s, "digital6T@smem x48  decode       1    8411      5.965    2.50x"), "%s", s);
    cr_assert(strstr(s, "0.800x") && !strstr(s, "0.80x "), "three significant figures: %s", s);
    cr_assert(strstr(s, "  bound\n"), "a bound column: %s", s);
    cs_free(s);
    s = report_to("compare.json", "tex", "p.tex");
    cr_assert(strstr(s, "analog6T@rf $\\times$5 &"), "%s", s);
    cr_assert(!strstr(s, " x5 &"), "%s", s);
    cs_free(s);
}

/* A standalone document of a wide table (12 runs: 15 columns of per-GEMM speedups with long
 * labels) fits the page: no overfull box. */
Test(report, standalone_latex_fits_the_page)
{
    if (!have("pdflatex"))
        cr_skip("pdflatex is not installed (Debian: texlive-latex-base texlive-latex-recommended)");
    const char *o = out_path("wide.tex");
    const char *args[] = {"result.json", "result.json", "result.json", "result.json", "result.json",
                          "result.json", "result.json", "result.json", "result.json", "result.json",
                          "result.json", "result.json", "-o",          o,             "--standalone"};
    cr_assert_eq(run_report(args, 15), 0);
    pdflatex("wide.tex");
    char log[300];
    snprintf(log, sizeof log, "%s/wide.log", tmpdir);
    char *l = slurp(log);
    cr_assert(!strstr(l, "Overfull \\hbox"), "a table overflows the page: see %s", log);
    cs_free(l);
}

/* Figures for a paper: two panels for the speedup plot (one metric per axis, the variants
 * grouped by level, values rotated so that none collide), the script kept beside the figure
 * (--plot-script) with its provenance and redrawing it; a one-GEMM result draws (gnuplot 5.4
 * crashes on a label plot without a valid point: none is written). */
Test(report, figures_grouped_rotated_and_scripts_kept)
{
    const char *files[] = {"compare.json"};
    cs_report rep = {0};
    cs_err err;
    cs_err_init(&err);
    cr_assert_eq(cs_report_read(&rep, files, 1, "test", &err), CS_OK);
    cs_buf a;
    cs_buf_init(&a);
    cr_assert_eq(cs_report_plot_script(&rep, CS_PLOT_SPEEDUP, "x.svg", "x.svg", &a, &err), CS_OK);
    cr_assert(strstr(a.data, "set multiplot layout 2,1"), "%s", a.data);
    cr_assert(strstr(a.data, "set label 'rf' at first 0, graph 1.04 center"), "%s", a.data);
    cr_assert(strstr(a.data, "set label 'smem' at first 1.6, graph 1.04 center"), "%s", a.data);
    cr_assert(strstr(a.data, "with labels rotate by 90 left"), "%s", a.data);
    cs_buf_free(&a);
    cs_report_free(&rep);
    if (!have("gnuplot"))
        cr_skip("gnuplot is not installed (Debian: gnuplot-nox)");
    char plot[300];
    snprintf(plot, sizeof plot, "%s/fig.pdf", tmpdir);
    const char *args[] = {"compare.json", "--plot", plot, "--plot-script"};
    cr_assert_eq(run_report(args, 4), 0);
    char *gp = slurp(out_path("fig.gp"));
    cr_assert(strstr(gp, "set output 'fig.pdf'"), "%s", gp);
    cr_assert(strstr(gp, "config '51516b9ea5c131b5'") && strstr(gp, "command 'cimsim compare -w wl.csv -o out'"),
              "provenance in the kept script: %s", gp);
    cs_free(gp);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "cd '%s' && rm fig.pdf && gnuplot fig.gp 2>/dev/null", tmpdir);
    cr_assert_eq(system(cmd), 0, "the kept script redraws the figure");
    check_image(out_path("fig.pdf"));
    /* one GEMM */
    FILE *f = fopen(out_path("one.json"), "w");
    cr_assert_not_null(f);
    json_t *r = json_load_file("result.json", 0, NULL);
    json_t *gemms = json_object_get(r, "gemms");
    while (json_array_size(gemms) > 1)
        json_array_remove(gemms, 1);
    json_dumpf(r, f, 0);
    fclose(f);
    json_decref(r);
    snprintf(plot, sizeof plot, "%s/one.svg", tmpdir);
    const char *one[] = {out_path("one.json"), "--plot", plot, "--plot", "attribution:x.svg"};
    char x[300];
    snprintf(x, sizeof x, "attribution:%s/oa.svg", tmpdir);
    one[4] = x;
    cr_assert_eq(run_report(one, 5), 0);
    check_image(out_path("one.svg"));
    check_image(out_path("oa.svg"));
}

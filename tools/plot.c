/* plot — report plots through gnuplot: a generated script with inline data (datablocks), run as
 * a child process, its output renamed over the target.
 *
 * Three kinds (docs/report.md shows what each looks like):
 *   breakdown  stacked energy bars: per GEMM in pJ per MAC (result), per run normalised to the
 *              baseline's energy (compare);
 *   speedup    per CiM variant, speedup and energy ratio against the baseline (compare);
 *   roofline   achieved TOPS against arithmetic intensity (MACs per DRAM byte), with the compute
 *              and DRAM-bandwidth ceilings of the baseline's peak, one point per GEMM;
 *   attribution stacked bars of each GEMM's (result) or run's (compare) cycles by cause on the
 *              critical path (docs/model.md section 14.5), in percent, the cycles above.
 * Sizes and fonts are chosen for one column of a two-column paper (3.4 in wide): pdf at that
 * size, svg and png scaled up with the same proportions.
 */
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "afile.h"
#include "alloc.h"

/* Paul Tol's "muted" palette (colour-blind safe), one colour per breakdown category, leakage
 * in grey. Order: CS_EB_MAP. */
static const char *const cat_color[CS_EB_COUNT] = {
    "#332288", /* dram */
    "#88CCEE", /* l2 */
    "#44AA99", /* smem */
    "#117733", /* rf */
    "#999933", /* tensor core */
    "#CC6677", /* cim mac */
    "#882255", /* cim write */
    "#DDCC77", /* noc */
    "#BBBBBB", /* leakage */
};
static const char *const cat_title[CS_EB_COUNT] = {
    "DRAM", "L2", "SMEM", "RF", "tensor core", "CiM MAC", "CiM write", "NoC", "leakage"};

/* Distinct styles for up to 40 series: colour i mod 10 with marker i mod 8 (no two series of
 * the first 40 share both). */
static const char *const series_color[] = {"#332288", "#CC6677", "#117733", "#DDCC77", "#88CCEE",
                                           "#882255", "#44AA99", "#999933", "#AA4499", "#555555"};
static const int series_pt[] = {7, 5, 9, 11, 13, 15, 4, 6};

typedef enum { T_SVG, T_PNG, T_PDF } term;

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static bool terminal_of(const char *path, term *t)
{
    if (ends_with(path, ".svg"))
        *t = T_SVG;
    else if (ends_with(path, ".png"))
        *t = T_PNG;
    else if (ends_with(path, ".pdf"))
        *t = T_PDF;
    else
        return false;
    return true;
}

/* Length of the valid UTF-8 sequence at p (1 for ASCII), 0 when the bytes are not one. */
static size_t utf8_len(const unsigned char *p)
{
    if (p[0] < 0x80)
        return 1;
    size_t n = (p[0] & 0xE0) == 0xC0 ? 2 : (p[0] & 0xF0) == 0xE0 ? 3 : (p[0] & 0xF8) == 0xF0 ? 4 : 0;
    if (n == 0 || (n == 2 && p[0] < 0xC2) || (n == 4 && p[0] > 0xF4))
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    return n;
}

/* Text from a result file, made inert for a gnuplot script: no byte of it may end a line (a
 * newline would end a comment and start a command), continue one, or leave the quotes it is
 * put in. Control characters become spaces, bytes that are not UTF-8 become '?', and the
 * quote character q is written as q_as (a doubled '' inside single quotes). */
static void gp_text(cs_buf *b, const char *s, char q, const char *q_as)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t n = utf8_len(p);
        if (n == 0) {
            cs_buf_putc(b, '?');
            p++;
        } else if (n > 1) {
            cs_buf_append(b, p, n);
            p += n;
        } else {
            if (*p == (unsigned char)q)
                cs_buf_puts(b, q_as);
            else
                cs_buf_putc(b, *p < 0x20 || *p == 0x7f ? ' ' : (char)*p);
            p++;
        }
    }
}

/* A gnuplot string literal in single quotes: nothing is substituted inside them (no
 * backquotes, no macros); '' stands for a quote. */
static void gp_string(cs_buf *b, const char *s)
{
    cs_buf_putc(b, '\'');
    gp_text(b, s, '\'', "''");
    cs_buf_putc(b, '\'');
}

/* A datablock field: double-quoted text (gnuplot has no escape there: quotes become '). */
static void gp_field(cs_buf *b, const char *s)
{
    cs_buf_putc(b, '"');
    gp_text(b, s, '"', "'");
    cs_buf_putc(b, '"');
}

static void gp_num(cs_buf *b, double v)
{
    cs_buf_putc(b, ' ');
    if (isfinite(v))
        cs_buf_printf(b, "%.10g", v);
    else
        cs_buf_puts(b, "NaN");
}

/* Terminal, fonts and the common style. `scale` multiplies line widths and point sizes. */
static void preamble(cs_buf *b, term t, const char *output, double tall, double *scale)
{
    /* tall: the height as a multiple of the usual (two panels stacked) */
    switch (t) {
    case T_PDF:
        cs_buf_printf(b, "set terminal pdfcairo size 3.4in,%.3gin enhanced font 'Helvetica,7' "
                         "linewidth 1 background rgb 'white'\n", 2.3 * tall);
        *scale = 1;
        break;
    case T_PNG:
        cs_buf_printf(b, "set terminal pngcairo size 1200,%.0f enhanced font 'Helvetica,22' "
                         "linewidth 2 background rgb 'white'\n", 800 * tall);
        *scale = 2;
        break;
    default:
        cs_buf_printf(b, "set terminal svg size 680,%.0f dynamic enhanced font 'Helvetica,13' "
                         "linewidth 1.2 background rgb 'white'\n", 460 * tall);
        *scale = 1.2;
        break;
    }
    cs_buf_puts(b, "set output");
    if (output) {
        cs_buf_putc(b, ' ');
        gp_string(b, output);
    }
    cs_buf_puts(b, "\nset encoding utf8\nset border 3 lw 1\nset tics nomirror out scale 0.6\n"
                   "set grid ytics lc rgb '#dddddd' lw 1 dt 1\nset grid noxtics\n");
}

/* ---- breakdown ------------------------------------------------------------------------------ */

static int label_font(double scale)
{
    return scale >= 2 ? 17 : scale > 1 ? 10 : 6;
}

/* A variant's name under its bar: without the level its group shows ("analog6T x5"). */
static void short_variant(cs_buf *b, const cs_rep_run *r)
{
    if (r->cim && r->primitive[0])
        cs_buf_printf(b, "%s x%lld", r->primitive, (long long)r->macros);
    else
        cs_buf_puts(b, r->label);
}

/* Length of the prefix all names share, cut after a '-' or '_' and leaving every name at
 * least 3 characters: "bert-large-proj", "bert-large-ffn-up" share "bert-large-". */
static size_t common_prefix(const char *const *names, size_t n)
{
    if (n < 2)
        return 0;
    size_t len = strlen(names[0]);
    for (size_t i = 1; i < n; i++) {
        size_t k = 0;
        while (k < len && names[i][k] == names[0][k])
            k++;
        len = k;
    }
    while (len && names[0][len - 1] != '-' && names[0][len - 1] != '_')
        len--;
    for (size_t i = 0; i < n; i++)
        if (strlen(names[i]) < len + 3)
            return 0;
    return len;
}

/* A tick label at most 16 characters: longer names keep their start and end around "…". */
static void short_name(cs_buf *b, const char *s)
{
    size_t n = strlen(s);
    if (n <= 16) {
        cs_buf_puts(b, s);
        return;
    }
    size_t head = 9, tail = 6;
    while (head && ((unsigned char)s[head] & 0xC0) == 0x80) /* not inside a UTF-8 sequence */
        head--;
    while (tail < n && ((unsigned char)s[n - tail] & 0xC0) == 0x80)
        tail++;
    cs_buf_append(b, s, head);
    cs_buf_puts(b, "…");
    cs_buf_puts(b, s + n - tail);
}

static void plot_breakdown(const cs_rep_group *g, cs_buf *b, double scale)
{
    bool used[CS_EB_COUNT];
    for (int c = 0; c < CS_EB_COUNT; c++) {
        used[c] = false;
        for (size_t i = 0; i < g->nruns; i++) {
            used[c] = used[c] || g->runs[i].breakdown_pj[c] > 0;
            for (size_t j = 0; j < g->runs[i].ngemms; j++)
                used[c] = used[c] || g->runs[i].gemms[j].breakdown_pj[c] > 0;
        }
    }
    const cs_rep_run *base = &g->runs[0];
    bool per_run = g->compare || g->sweep;
    size_t nbars = per_run ? g->nruns : base->ngemms;
    int fs = label_font(scale);
    /* result: each GEMM's energy split in percent (GEMMs of any size side by side), its pJ per
     * MAC above the bar; compare: each run's energy as a share of the baseline's, the variants
     * grouped by level; sweep: each point's energy per MAC. */
    double *tot = cs_calloc(nbars + 1, sizeof *tot);
    const char **names = cs_calloc(nbars + 1, sizeof *names);
    for (size_t i = 0; i < nbars; i++) {
        const cs_rep_run *r = per_run ? &g->runs[i] : base;
        double e = per_run ? r->energy_pj : base->gemms[i].energy_pj;
        double macs = per_run ? r->macs : base->gemms[i].macs;
        double div = g->sweep ? macs : g->compare ? base->energy_pj : e / 100;
        tot[i] = div > 0 ? e / div : NAN;
        names[i] = per_run ? r->label : base->gemms[i].name;
    }
    /* A compare whose outliers would squash the rest: the axis ends at 1.3x the largest bar
     * within 5x the median; taller bars are cut there and carry their value. */
    double ylim = 0, med = 0;
    if (g->compare) {
        double *sorted = cs_calloc(nbars + 1, sizeof *sorted);
        size_t ns = 0;
        for (size_t i = 0; i < nbars; i++)
            if (isfinite(tot[i]))
                sorted[ns++] = tot[i];
        for (size_t i = 1; i < ns; i++) /* insertion sort: a handful of runs */
            for (size_t k = i; k > 0 && sorted[k - 1] > sorted[k]; k--) {
                double t = sorted[k];
                sorted[k] = sorted[k - 1];
                sorted[k - 1] = t;
            }
        med = ns ? sorted[ns / 2] : 1;
        for (size_t i = 0; i < ns; i++)
            if (sorted[i] <= 5 * med)
                ylim = fmax(ylim, sorted[i]);
        ylim = fmax(ylim, 1) * 1.3;
        if (ns && sorted[ns - 1] <= ylim)
            ylim = 0; /* nothing to cut */
        cs_free(sorted);
    }
    size_t prefix = per_run ? 0 : common_prefix(names, nbars);
    /* The top of the axis; a bar taller than 55% of it carries its label inside (boxed, from
     * its top down), a shorter one above it (upwards): rotated labels never meet. */
    double top = 0;
    for (size_t i = 0; i < nbars; i++)
        if (isfinite(tot[i]))
            top = fmax(top, tot[i]);
    top = !per_run ? 100 : ylim > 0 ? ylim : fmax(top * 1.15, g->compare ? 1.15 : 0);
    if (!(top > 0))
        top = 1;
    cs_buf_puts(b, "$D << EOD\n");
    size_t row = 0, group_start = 0;
    bool any_above = false, any_inside = false;
    cs_buf groups;
    cs_buf_init(&groups);
    for (size_t i = 0; i < nbars; i++) {
        const cs_rep_run *r = per_run ? &g->runs[i] : base;
        if (g->compare && i > 0 && strcmp(r->level, g->runs[i - 1].level) != 0) {
            if (i > 1) { /* the previous level's name over its bars, a gap after them */
                cs_buf_puts(&groups, "set label ");
                gp_string(&groups, g->runs[i - 1].level);
                cs_buf_printf(&groups, " at first %g, graph 1.03 center font ',%d' noenhanced\n",
                              ((double)group_start + (double)row - 1) / 2, fs);
            }
            cs_buf_puts(b, "\"\"");
            for (int c = 0; c < CS_EB_COUNT + 4; c++)
                gp_num(b, NAN);
            cs_buf_puts(b, " \"\"\n");
            row++;
            group_start = row;
        }
        const double *bd = per_run ? r->breakdown_pj : base->gemms[i].breakdown_pj;
        double e = per_run ? r->energy_pj : base->gemms[i].energy_pj;
        double div = g->sweep ? r->macs : g->compare ? base->energy_pj : e / 100;
        double macs = per_run ? r->macs : base->gemms[i].macs;
        cs_buf tick;
        cs_buf_init(&tick);
        if (g->compare)
            short_variant(&tick, r);
        else
            short_name(&tick, names[i] + prefix);
        gp_field(b, tick.data);
        cs_buf_free(&tick);
        for (int c = 0; c < CS_EB_COUNT; c++)
            gp_num(b, div > 0 ? bd[c] / div : NAN);
        gp_num(b, per_run ? tot[i] : 100);
        double pj = macs > 0 ? e / macs : NAN;
        gp_num(b, pj);
        double t = per_run ? tot[i] : 100;
        bool cut = t > top, inside = t > 0.55 * top;
        if (isfinite(t)) { /* gnuplot 5.4 crashes on a label plot without one valid point */
            any_inside = any_inside || inside;
            any_above = any_above || !inside;
        }
        gp_num(b, inside ? NAN : t); /* where the label goes */
        gp_num(b, inside ? fmin(t, top) * 0.98 : NAN);
        char lab[64];
        if (cut)
            snprintf(lab, sizeof lab, "%.3g×, %.3g pJ/MAC ↑", tot[i], pj);
        else
            snprintf(lab, sizeof lab, "%.3g pJ/MAC", pj);
        cs_buf_putc(b, ' ');
        gp_field(b, lab);
        cs_buf_putc(b, '\n');
        row++;
    }
    if (g->compare && nbars > 1 && g->runs[nbars - 1].level[0]) {
        cs_buf_puts(&groups, "set label ");
        gp_string(&groups, g->runs[nbars - 1].level);
        cs_buf_printf(&groups, " at first %g, graph 1.03 center font ',%d' noenhanced\n",
                      ((double)group_start + (double)row - 1) / 2, fs);
    }
    cs_buf_puts(b, "EOD\n");
    if (groups.data)
        cs_buf_puts(b, groups.data);
    cs_buf_free(&groups);
    cs_free(tot);
    cs_free(names);
    cs_buf_puts(b, "set style data histograms\nset style histogram rowstacked\n"
                   "set style fill solid 1.0 border rgb '#333333'\nset boxwidth 0.7 relative\n"
                   "set style textbox opaque fc rgb 'white' noborder margins 0.5,0.5\n");
    cs_buf_printf(b, "set xrange [-0.6:%g]\n", (double)row - 0.4);
    cs_buf_puts(b, "set key above horizontal reverse Left samplen 1.2 spacing 1.1 width 1 maxrows 3\n");
    if (row > 4)
        cs_buf_puts(b, "set xtics noenhanced rotate by 40 right scale 0\n");
    else
        cs_buf_puts(b, "set xtics noenhanced norotate center scale 0\n");
    if (prefix) {
        cs_buf tmp;
        cs_buf_init(&tmp);
        cs_buf_printf(&tmp, "GEMMs of %.*s…", (int)prefix, base->gemms[0].name);
        cs_buf_puts(b, "set xlabel ");
        gp_string(b, tmp.data);
        cs_buf_puts(b, " noenhanced\n");
        cs_buf_free(&tmp);
    }
    cs_buf_printf(b, "set yrange [0:%.10g]\n", top);
    if (g->sweep) {
        cs_buf_puts(b, "set ylabel 'energy per MAC (pJ)'\n");
    } else if (g->compare) {
        cs_buf_puts(b, "set ylabel 'energy (fraction of the baseline)'\n");
        cs_buf_puts(b, "set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lw 1 lc rgb '#555555' front\n");
    } else {
        cs_buf_puts(b, "set ylabel 'energy share per GEMM (%)'\nset ytics 0, 20, 100\n");
    }
    cs_buf_puts(b, "plot ");
    bool first = true;
    for (int c = 0; c < CS_EB_COUNT; c++) {
        if (!used[c])
            continue;
        if (first)
            cs_buf_printf(b, "$D using %d:xtic(1)", c + 2);
        else
            cs_buf_printf(b, ", \\\n     '' using %d", c + 2);
        cs_buf_printf(b, " title '%s' lc rgb '%s'", cat_title[c], cat_color[c]);
        first = false;
    }
    if (first) /* all zero: still a valid plot */
        cs_buf_puts(b, "$D using 2:xtic(1) title 'energy' lc rgb '#332288'");
    /* The figure above each bar, rotated so that neighbours never collide: pJ per MAC; a bar
     * cut at the top carries its value inside, boxed. */
    if (any_above)
        cs_buf_printf(b, ", \\\n     '' using 0:%d:%d with labels rotate by 90 left offset 0,0.4 font ',%d' notitle",
                      CS_EB_COUNT + 4, CS_EB_COUNT + 6, fs);
    if (any_inside)
        cs_buf_printf(b, ", \\\n     '' using 0:%d:%d with labels rotate by 90 right boxed font ',%d' notitle",
                      CS_EB_COUNT + 5, CS_EB_COUNT + 6, fs);
    cs_buf_putc(b, '\n');
}

/* ---- attribution ---------------------------------------------------------------------------- */

/* One colour per cause (CS_CAUSE_MAP order): compute warm, memory cool, overheads grey. */
static const char *const cause_color[CS_CAUSES] = {
    "#999933", /* tc_compute */
    "#CC6677", /* cim_compute */
    "#882255", /* cim_write */
    "#44AA99", /* staging */
    "#117733", /* psum */
    "#AA4499", /* spill */
    "#EE7733", /* contention */
    "#88CCEE", /* l2 */
    "#332288", /* dram */
    "#DDCC77", /* issue */
    "#BBBBBB", /* fill_drain */
    "#777777", /* tail */
    "#FFFFFF", /* idle */
};

static void plot_attribution(const cs_rep_group *g, cs_buf *b, double scale)
{
    const cs_rep_run *base = &g->runs[0];
    bool per_run = g->compare || g->sweep;
    size_t nbars = per_run ? g->nruns : base->ngemms;
    bool used[CS_CAUSES] = {false};
    const char **names = cs_calloc(nbars + 1, sizeof *names);
    for (size_t i = 0; i < nbars; i++)
        names[i] = per_run ? g->runs[i].label : base->gemms[i].name;
    size_t prefix = per_run ? 0 : common_prefix(names, nbars);
    cs_buf_puts(b, "$D << EOD\n");
    for (size_t i = 0; i < nbars; i++) {
        const cs_rep_run *r = per_run ? &g->runs[i] : base;
        const double *a = per_run ? r->attribution : base->gemms[i].attribution;
        double cyc = per_run ? r->cycles : base->gemms[i].cycles;
        cs_buf tick;
        cs_buf_init(&tick);
        short_name(&tick, names[i] + prefix);
        gp_field(b, per_run ? names[i] : tick.data);
        cs_buf_free(&tick);
        for (int c = 0; c < CS_CAUSES; c++) {
            gp_num(b, cyc > 0 ? 100 * a[c] / cyc : NAN);
            used[c] = used[c] || a[c] > 0;
        }
        gp_num(b, cyc);
        cs_buf_putc(b, '\n');
    }
    cs_buf_puts(b, "EOD\n");
    cs_free(names);
    bool rot = nbars > 6; /* the cycles above the bars, rotated when they would touch */
    cs_buf_puts(b, "set style data histograms\nset style histogram rowstacked\n"
                   "set style fill solid 1.0 border rgb '#333333'\nset boxwidth 0.7 relative\n");
    cs_buf_printf(b, "set xrange [-0.6:%g]\n", (double)nbars - 0.4);
    cs_buf_puts(b, "set key above horizontal reverse Left samplen 1.2 spacing 1.1 width 1\n");
    cs_buf_puts(b, nbars > 4 ? "set xtics noenhanced rotate by 35 right\n" : "set xtics noenhanced norotate center\n");
    cs_buf_puts(b, "set ylabel 'cycles by cause (%, critical path)'\nset ytics 0, 20, 100\n");
    cs_buf_puts(b, rot ? "set yrange [0:128]\n" : "set yrange [0:112]\n");
    cs_buf_puts(b, "plot ");
    bool first = true;
    for (int c = 0; c < CS_CAUSES; c++) {
        if (!used[c])
            continue;
        if (first)
            cs_buf_printf(b, "$D using %d:xtic(1)", c + 2);
        else
            cs_buf_printf(b, ", \\\n     '' using %d", c + 2);
        cs_buf_printf(b, " title '%s' noenhanced lc rgb '%s'", cs_cause_key(c), cause_color[c]);
        first = false;
    }
    if (first) /* a file without attribution: still a valid plot */
        cs_buf_puts(b, "$D using 2:xtic(1) title 'no attribution' lc rgb '#BBBBBB'");
    /* the cycles above each bar, in thousands or millions */
    cs_buf_printf(b, ", \\\n     '' using 0:(%s):($%d >= 1e6 ? sprintf('%%.3gM', $%d / 1e6) : "
                  "sprintf('%%.3gk', $%d / 1e3)) with labels %s font ',%d' notitle",
                  rot ? "101" : "104", CS_CAUSES + 2, CS_CAUSES + 2, CS_CAUSES + 2, rot ? "rotate by 90 left" : "center",
                  label_font(scale));
    cs_buf_putc(b, '\n');
}

/* ---- speedup -------------------------------------------------------------------------------- */

/* The caption line of every plot: the workload and the architecture (the sweep's points may
 * differ: the first point's, "..."). */
static void caption(cs_buf *b, const cs_rep_group *g)
{
    const cs_rep_run *r = &g->runs[0];
    cs_buf t;
    cs_buf_init(&t);
    cs_buf_printf(&t, "%s on %s%s", r->workload ? r->workload : "", r->arch ? r->arch : "",
                  g->sweep ? " (first point)" : "");
    cs_buf_puts(b, "set title ");
    gp_string(b, t.data);
    cs_buf_puts(b, " noenhanced\n");
    cs_buf_free(&t);
}

/* Variants in order, grouped by level: x position of variant i (1-based run index), with a
 * gap between levels; separators and the level's name above each group. */
static double variant_x(const cs_rep_group *g, size_t i)
{
    double x = 0;
    for (size_t k = 1; k < i; k++)
        x += 1 + (strcmp(g->runs[k].level, g->runs[k + 1].level) != 0 ? 0.6 : 0);
    return x;
}

static void level_groups(const cs_rep_group *g, cs_buf *b, bool names, int fs)
{
    size_t first = 1;
    for (size_t i = 1; i < g->nruns; i++) {
        bool last = i + 1 == g->nruns || strcmp(g->runs[i].level, g->runs[i + 1].level) != 0;
        if (!last)
            continue;
        double x0 = variant_x(g, first), x1 = variant_x(g, i);
        if (names) {
            cs_buf_puts(b, "set label ");
            gp_string(b, g->runs[i].level[0] ? g->runs[i].level : "variants");
            cs_buf_printf(b, " at first %g, graph 1.04 center font ',%d' noenhanced\n", (x0 + x1) / 2, fs);
        }
        if (i + 1 < g->nruns)
            cs_buf_printf(b, "set arrow from first %g, graph 0 to first %g, graph 1 nohead dt 3 lw 1 "
                             "lc rgb '#999999' back\n", x1 + 0.8, x1 + 0.8);
        first = i + 1;
    }
}

/* One panel of the speedup plot: column col of $S as bars, their values rotated above them. */
static void speedup_panel(cs_buf *b, const char *ylabel, const char *color, int col, double lo, double hi,
                          int fs, bool xlabels)
{
    cs_buf_puts(b, "set ylabel ");
    gp_string(b, ylabel);
    cs_buf_putc(b, '\n');
    if (hi / lo > 10) /* log beyond a decade, room above for the rotated values */
        cs_buf_printf(b, "set logscale y\nset yrange [%g:%g]\nset format y '%%g'\n", lo / 2, hi * 12);
    else
        cs_buf_printf(b, "unset logscale y\nset yrange [0:%g]\nset format y '%%g'\n", hi * 1.45);
    cs_buf_puts(b, xlabels ? "set format x '%g'\n" : "set format x ''\n");
    cs_buf_printf(b, "plot $S using 1:%d%s with boxes fc rgb '%s' notitle, \\\n"
                     "     '' using 1:%d:(sprintf(' %%.3g', $%d)) with labels rotate by 90 left font ',%d' notitle, \\\n"
                     "     1 with lines dt 2 lw 1 lc rgb '#555555' notitle\n",
                  col, xlabels ? ":xtic(2)" : "", color, col, col, fs);
}

static void plot_speedup(const cs_rep_group *g, cs_buf *b, double scale)
{
    const cs_rep_run *base = &g->runs[0];
    double slo = 1, shi = 1, elo = 1, ehi = 1;
    cs_buf_puts(b, "$S << EOD\n");
    for (size_t i = 1; i < g->nruns; i++) {
        const cs_rep_run *r = &g->runs[i];
        double sp = base->seconds > 0 && r->seconds > 0 ? base->seconds / r->seconds : NAN;
        double er = base->energy_pj > 0 ? r->energy_pj / base->energy_pj : NAN;
        gp_num(b, variant_x(g, i));
        cs_buf_putc(b, ' ');
        cs_buf tick;
        cs_buf_init(&tick);
        short_variant(&tick, r);
        gp_field(b, tick.data);
        cs_buf_free(&tick);
        gp_num(b, sp);
        gp_num(b, er);
        cs_buf_putc(b, '\n');
        if (isfinite(sp) && sp > 0) {
            slo = fmin(slo, sp);
            shi = fmax(shi, sp);
        }
        if (isfinite(er) && er > 0) {
            elo = fmin(elo, er);
            ehi = fmax(ehi, er);
        }
    }
    cs_buf_puts(b, "EOD\n");
    int fs = label_font(scale);
    double xmax = variant_x(g, g->nruns - 1);
    /* Two panels on one x axis: speedup (higher is better) above, energy ratio (lower is
     * better) below; one metric per axis, each on its own (log beyond a decade) scale. */
    cs_buf_puts(b, "set style fill solid 1.0 border rgb '#333333'\nset boxwidth 0.7 absolute\n");
    cs_buf_printf(b, "set xrange [-0.7:%g]\nset lmargin 9\nset rmargin 2\n", xmax + 0.7);
    cs_buf_puts(b, "set multiplot layout 2,1 margins 0.14, 0.98, 0.2, 0.9 spacing 0, 0.07\n");
    cs_buf_puts(b, "set xtics noenhanced scale 0\n");
    level_groups(g, b, true, fs);
    speedup_panel(b, "speedup (higher is better)", "#117733", 3, slo, shi, fs, false);
    cs_buf_puts(b, "unset label\nunset title\n");
    cs_buf_puts(b, g->nruns > 5 ? "set xtics rotate by 40 right\n" : "set xtics norotate center\n");
    speedup_panel(b, "energy ratio (lower is better)", "#CC6677", 4, elo, ehi, fs, true);
    cs_buf_puts(b, "unset multiplot\n");
}

/* ---- roofline ------------------------------------------------------------------------------- */

typedef struct rpoint {
    double x, y;
    const char *name;
} rpoint;

static int by_x(const void *a, const void *b)
{
    double d = ((const rpoint *)a)->x - ((const rpoint *)b)->x;
    return d < 0 ? -1 : d > 0;
}

static void plot_roofline(const cs_rep_group *g, cs_buf *b, double scale)
{
    const cs_rep_run *base = &g->runs[0];
    double peak = base->peak_tops, bw = base->peak_dram_bytes_per_s;
    double xlo = INFINITY, xhi = 0, ylo = INFINITY, yhi = peak;
    size_t skipped = 0;
    for (size_t i = 0; i < g->nruns; i++) {
        const cs_rep_run *r = &g->runs[i];
        cs_buf_printf(b, "$R%zu << EOD\n", i);
        for (size_t j = 0; j < r->ngemms; j++) {
            const cs_rep_gemm *x = &r->gemms[j];
            double bytes = x->dram_read_bytes + x->dram_write_bytes;
            if (!(bytes > 0) || !(x->tops > 0)) {
                skipped++;
                continue;
            }
            double ai = x->macs / bytes;
            gp_num(b, ai);
            gp_num(b, x->tops);
            cs_buf_putc(b, '\n');
            xlo = fmin(xlo, ai);
            xhi = fmax(xhi, ai);
            ylo = fmin(ylo, x->tops);
            yhi = fmax(yhi, x->tops);
        }
        cs_buf_puts(b, "EOD\n");
    }
    double ridge = peak > 0 && bw > 0 ? peak * 1e12 / (2 * bw) : NAN;
    if (isfinite(ridge)) {
        xlo = fmin(xlo, ridge);
        xhi = fmax(xhi, ridge);
    }
    if (!isfinite(xlo)) {
        xlo = 0.1;
        xhi = 1000;
    }
    if (!isfinite(ylo))
        ylo = isfinite(peak) ? peak / 100 : 0.1;
    /* Room around the points: a factor of 3 on each side (log axes), the slope's start in
     * view. */
    xlo /= 3;
    xhi *= 3;
    if (isfinite(ridge))
        ylo = fmin(ylo, 2 * xlo * bw / 1e12);
    ylo /= 3;
    yhi *= 3;
    /* At least two decades on each axis, so that several labelled ticks show. */
    if (xhi / xlo < 100) {
        double f = sqrt(100 / (xhi / xlo));
        xlo /= f;
        xhi *= f;
    }
    if (yhi / ylo < 100) {
        double f = sqrt(100 / (yhi / ylo));
        ylo /= f;
        yhi *= f;
    }
    cs_buf_printf(b, "set logscale xy\nset xrange [%g:%g]\nset yrange [%g:%g]\n", xlo, xhi, ylo,
                  yhi);
    cs_buf_puts(b, "set grid xtics ytics lc rgb '#e4e4e4' lw 1 dt 1\nset format x '%g'\n"
                   "set format y '%g'\n");
    cs_buf_puts(b, "set xlabel 'arithmetic intensity (MACs per DRAM byte)'\n"
                   "set ylabel 'achieved TOPS'\n");
    /* the legend outside the data: below the plot, in columns */
    cs_buf_printf(b, "set key outside below center horizontal reverse Left samplen 1 noenhanced maxcols %d\n",
                  g->nruns > 2 ? 3 : 2);
    cs_buf_printf(b, "peak = %.10g\nbw = %.10g\nridge = %.10g\nset samples 600\n", peak, bw,
                  ridge);
    /* Labels one by one (set label takes noenhanced, so names keep their underscores),
     * alternately above and below the point along x so that neighbours do not collide. */
    int fs = label_font(scale);
    size_t nlab = 0;
    for (size_t i = 0; i < g->nruns; i++) {
        if ((g->compare || g->sweep) && i > 0)
            break; /* a compare labels the baseline's points; the legend tells runs apart */
        const cs_rep_run *r = &g->runs[i];
        rpoint *pts = cs_calloc(r->ngemms + 1, sizeof *pts);
        size_t np = 0;
        for (size_t j = 0; j < r->ngemms; j++) {
            const cs_rep_gemm *x = &r->gemms[j];
            double bytes = x->dram_read_bytes + x->dram_write_bytes;
            if (bytes > 0 && x->tops > 0)
                pts[np++] = (rpoint){x->macs / bytes, x->tops, x->name};
        }
        qsort(pts, np, sizeof *pts, by_x);
        const char **nm = cs_calloc(np + 1, sizeof *nm);
        for (size_t j = 0; j < np; j++)
            nm[j] = pts[j].name;
        size_t prefix = common_prefix(nm, np);
        cs_free(nm);
        /* A label is placed only where it meets none already placed (a box of about 12% of the
         * x decades by 7% of the y decades, on log axes): crowded points go unlabelled rather
         * than overprinted. */
        double lx = log10(xhi / xlo), ly = log10(yhi / ylo);
        double *px = cs_calloc(np + 1, sizeof *px), *py = cs_calloc(np + 1, sizeof *py);
        size_t placed = 0;
        for (size_t j = 0; j < np; j++) {
            double x = log10(pts[j].x / xlo) / lx, y = log10(pts[j].y / ylo) / ly;
            bool clear = true;
            for (size_t k = 0; k < placed && clear; k++)
                clear = fabs(x - px[k]) > 0.12 || fabs(y - py[k]) > 0.07;
            if (!clear)
                continue;
            px[placed] = x;
            py[placed++] = y;
            cs_buf_printf(b, "set label %zu ", ++nlab);
            gp_string(b, pts[j].name + prefix); /* whole: a point's label has room to its right */
            cs_buf_printf(b, " at first %.10g, first %.10g left offset 0.7,0.3 font ',%d' "
                          "tc rgb '#444444' noenhanced front\n",
                          pts[j].x, pts[j].y, fs);
        }
        cs_free(px);
        cs_free(py);
        cs_free(pts);
    }
    cs_buf_puts(b, "plot (x <= ridge ? 2*x*bw/1e12 : 1/0) title sprintf('DRAM bandwidth %.4g GB/s', "
                   "bw/1e9) lw 2 lc rgb '#333333', \\\n"
                   "     (x >= ridge ? peak : 1/0) title sprintf('compute peak %.4g TOPS', peak) "
                   "lw 2 dt 2 lc rgb '#333333'");
    for (size_t i = 0; i < g->nruns; i++) {
        cs_buf_printf(b, ", \\\n     $R%zu using 1:2 with points pt %d ps %.2g lc rgb '%s' title ",
                      i, series_pt[i % 8], scale >= 2 ? 1.8 : scale > 1 ? 1.0 : 0.5, series_color[i % 10]);
        gp_string(b, g->compare || g->sweep ? g->runs[i].label : "GEMMs");
    }
    cs_buf_putc(b, '\n');
    if (skipped)
        cs_buf_printf(b, "# %zu GEMM(s) without DRAM traffic or time are not drawn\n", skipped);
}

/* ---- sweep ---------------------------------------------------------------------------------- */

typedef struct metric {
    const char *name, *label;
    double scale;
    bool higher_better;
} metric;

static const metric metrics[] = {
    {"cycles", "cycles", 1, false},        {"seconds", "time (µs)", 1e6, false},
    {"energy_pj", "energy (µJ)", 1e-6, false}, {"tops", "TOPS", 1, true},
    {"tops_per_w", "TOPS/W", 1, true},     {"pj_per_mac", "pJ/MAC", 1, false},
    {"area_mm2", "area (mm²)", 1, false},  {"tops_per_mm2", "TOPS/mm²", 1, true},
};
enum { NMETRICS = sizeof metrics / sizeof metrics[0] };

const char *const *cs_report_sweep_metrics(void)
{
    static const char *names[NMETRICS + 1];
    for (size_t i = 0; i < NMETRICS; i++)
        names[i] = metrics[i].name;
    return names;
}

static double metric_of(const cs_rep_run *r, size_t m)
{
    switch (m) {
    case 0: return r->cycles;
    case 1: return r->seconds;
    case 2: return r->energy_pj;
    case 3: return r->tops;
    case 4: return r->tops_per_w;
    case 5: return r->macs > 0 ? r->energy_pj / r->macs : NAN;
    case 6: return r->area_mm2;
    default: return r->tops_per_mm2;
    }
}

static size_t find_axis(const cs_rep_group *g, const char *name)
{
    for (size_t a = 0; a < g->naxes; a++)
        if (strcmp(g->axes[a], name) == 0)
            return a;
    return g->naxes;
}

static size_t find_metric(const char *name)
{
    for (size_t m = 0; m < NMETRICS; m++)
        if (strcmp(metrics[m].name, name) == 0)
            return m;
    return NMETRICS;
}

/* A metric against one axis: the axis's values along x (in the sweep's order), one line per
 * combination of the other axes' values. */
static void plot_sweep(const cs_rep_group *g, const cs_report *rep, cs_buf *b, double scale)
{
    size_t xa = rep->plot_x ? find_axis(g, rep->plot_x) : 0, m = rep->plot_y ? find_metric(rep->plot_y) : 1;
    size_t n = g->nruns;
    size_t *xpos = cs_calloc(n + 1, sizeof *xpos), *ser = cs_calloc(n + 1, sizeof *ser);
    const char **xval = cs_calloc(n + 1, sizeof *xval);
    char **skey = cs_calloc(n + 1, sizeof *skey);
    size_t nx = 0, ns = 0;
    double lo = INFINITY, hi = 0;
    for (size_t i = 0; i < n; i++) {
        const cs_rep_run *r = &g->runs[i];
        const char *xv = xa < r->nparams ? r->params[xa] : "";
        size_t k = 0;
        while (k < nx && strcmp(xval[k], xv) != 0)
            k++;
        if (k == nx)
            xval[nx++] = xv;
        xpos[i] = k;
        cs_buf key;
        cs_buf_init(&key);
        for (size_t a = 0; a < r->nparams; a++)
            if (a != xa)
                cs_buf_printf(&key, "%s%s=%s", key.len ? ", " : "", g->axes[a], r->params[a]);
        char *ks = cs_buf_take(&key);
        size_t s = 0;
        while (s < ns && strcmp(skey[s], ks) != 0)
            s++;
        if (s == ns)
            skey[ns++] = ks;
        else
            cs_free(ks);
        ser[i] = s;
        double v = metric_of(r, m) * metrics[m].scale;
        if (isfinite(v) && v > 0) {
            lo = fmin(lo, v);
            hi = fmax(hi, v);
        }
    }
    for (size_t s = 0; s < ns; s++) {
        cs_buf_printf(b, "$P%zu << EOD\n", s);
        for (size_t i = 0; i < n; i++)
            if (ser[i] == s) {
                gp_num(b, (double)xpos[i]);
                gp_num(b, metric_of(&g->runs[i], m) * metrics[m].scale);
                cs_buf_putc(b, '\n');
            }
        cs_buf_puts(b, "EOD\n");
    }
    cs_buf_puts(b, "set xtics (");
    for (size_t k = 0; k < nx; k++) {
        cs_buf_puts(b, k ? ", " : "");
        gp_string(b, xval[k]);
        cs_buf_printf(b, " %zu", k);
    }
    cs_buf_puts(b, ") noenhanced");
    cs_buf_puts(b, nx > 4 ? " rotate by 35 right\n" : " norotate center\n");
    cs_buf_printf(b, "set xrange [-0.4:%g]\n", (double)nx - 0.6);
    cs_buf_puts(b, "set xlabel ");
    gp_string(b, xa < g->naxes ? g->axes[xa] : "point");
    cs_buf_puts(b, " noenhanced\nset ylabel ");
    char yl[96];
    snprintf(yl, sizeof yl, "%s (%s is better)", metrics[m].label, metrics[m].higher_better ? "higher" : "lower");
    gp_string(b, yl);
    cs_buf_putc(b, '\n');
    if (isfinite(lo) && hi / lo > 10) /* a range beyond 10x reads on a log axis */
        cs_buf_printf(b, "set logscale y\nset yrange [%g:%g]\n", lo / 1.5, hi * 1.5);
    else
        cs_buf_puts(b, "set yrange [0:*]\nset offsets 0, 0, graph 0.08, 0\n");
    cs_buf_puts(b, "set key above horizontal Left reverse samplen 2 noenhanced\nplot ");
    for (size_t s = 0; s < ns; s++) {
        cs_buf_printf(b, "%s$P%zu using 1:2 with linespoints pt %d ps %.2g lw %.2g dt %zu lc rgb '%s' title ",
                      s ? ", \\\n     " : "", s, series_pt[s % 8], scale >= 2 ? 1.8 : scale > 1 ? 1.0 : 0.6,
                      scale, 1 + (s / 40) % 4, series_color[s % 10]);
        gp_string(b, skey[s][0] ? skey[s] : metrics[m].label);
    }
    if (!ns)
        cs_buf_puts(b, "NaN notitle");
    cs_buf_putc(b, '\n');
    for (size_t s = 0; s < ns; s++)
        cs_free(skey[s]);
    cs_free(skey);
    cs_free(xval);
    cs_free(xpos);
    cs_free(ser);
}

/* ==== entry ==================================================================================== */

cs_status cs_report_plot_script(const cs_report *rep, cs_plot_kind kind, const char *path,
                                const char *output, cs_buf *out, cs_err *err)
{
    term t;
    if (!terminal_of(path, &t))
        return cs_err_add(err, CS_UNSUPPORTED,
                          "cimsim report: error: %s: plots are .svg, .png or .pdf", path);
    if (rep->ngroups != 1)
        return cs_err_add(err, CS_INVALID,
                          "cimsim report: error: %s: a plot shows one result, one compare file "
                          "or several results (got %zu compare files)",
                          path, rep->ngroups);
    const cs_rep_group *g = &rep->groups[0];
    if (kind == CS_PLOT_DEFAULT)
        kind = g->sweep ? CS_PLOT_SWEEP : g->compare ? CS_PLOT_SPEEDUP : CS_PLOT_BREAKDOWN;
    if (kind == CS_PLOT_SWEEP && !g->sweep)
        return cs_err_add(err, CS_INVALID, "cimsim report: error: %s: a sweep plot needs a sweep's results.json",
                          path);
    if (kind == CS_PLOT_SWEEP && rep->plot_x && find_axis(g, rep->plot_x) == g->naxes)
        return cs_err_add(err, CS_INVALID, "cimsim report: error: --x: the sweep has no axis '%s'", rep->plot_x);
    if (kind == CS_PLOT_SWEEP && rep->plot_y && find_metric(rep->plot_y) == NMETRICS)
        return cs_err_add(err, CS_USAGE,
                          "cimsim report: error: --y: expected cycles, seconds, energy_pj, tops, tops_per_w, "
                          "pj_per_mac, area_mm2 or tops_per_mm2 (got '%s')",
                          rep->plot_y);
    if (kind == CS_PLOT_SPEEDUP && (!g->compare || g->nruns < 2))
        return cs_err_add(err, CS_INVALID,
                          "cimsim report: error: %s: a speedup plot needs a compare file or "
                          "several results",
                          path);
    double scale = 1;
    /* Provenance in comments: every string from the files quoted (gp_string), so that no
     * comment line ends in a backslash (which would continue it over the next line). */
    cs_buf_printf(out, "# %s plot written by cimsim report %s\n# report: ",
                  kind == CS_PLOT_BREAKDOWN   ? "Energy-breakdown"
                  : kind == CS_PLOT_SPEEDUP   ? "Speedup"
                  : kind == CS_PLOT_ATTRIBUTION ? "Cycle-attribution"
                  : kind == CS_PLOT_SWEEP     ? "Sweep"
                                                : "Roofline",
                  CIMSIM_VERSION);
    gp_string(out, rep->command);
    cs_buf_putc(out, '\n');
    for (size_t i = 0; i < g->nruns; i++) {
        const cs_rep_run *r = &g->runs[i];
        const char *what[] = {"", " from ", ": config ", ", energy table ", " version ", ", command "};
        const char *val[] = {r->label, r->file, r->config_hash, r->energy_table,
                             r->energy_version, r->command};
        cs_buf_putc(out, '#');
        for (size_t k = 0; k < 6; k++) {
            cs_buf_puts(out, k ? what[k] : " ");
            gp_string(out, val[k]);
        }
        cs_buf_putc(out, '\n');
    }
    double tall = kind == CS_PLOT_SPEEDUP ? 1.5 : kind == CS_PLOT_ROOFLINE ? 1 + 0.06 * (double)((g->nruns + 2) / 3) : 1;
    preamble(out, t, output, tall, &scale);
    caption(out, g);
    if (kind == CS_PLOT_BREAKDOWN)
        plot_breakdown(g, out, scale);
    else if (kind == CS_PLOT_SPEEDUP)
        plot_speedup(g, out, scale);
    else if (kind == CS_PLOT_ATTRIBUTION)
        plot_attribution(g, out, scale);
    else if (kind == CS_PLOT_SWEEP)
        plot_sweep(g, rep, out, scale);
    else
        plot_roofline(g, out, scale);
    cs_buf_puts(out, "set output\n");
    return CS_OK;
}

/* Runs gnuplot reading the script from fd in, the image to fd out, messages to fd log. No
 * path reaches gnuplot (not even as an argument), so file names need no quoting. Returns the
 * exit status, 127 when gnuplot could not be started, -1 when it did not exit. */
static int run_gnuplot(int in, int out, int log)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(log, 2) < 0)
            _exit(127);
        char *argv[] = {"gnuplot", NULL};
        execvp("gnuplot", argv);
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The start of what gnuplot said (fd log), newlines folded, for a one-line message. */
static void first_lines(int log, char *buf, size_t cap)
{
    ssize_t n = pread(log, buf, cap - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
    for (char *p = buf; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = (p[1] ? ' ' : '\0');
}

/* An anonymous temporary file beside path (removed at once; it lives while open). */
static int scratch_fd(const char *path)
{
    size_t n = strlen(path) + 32;
    char *t = cs_malloc(n);
    const char *slash = strrchr(path, '/');
    snprintf(t, n, "%.*s.cimsim-plot.XXXXXX", slash ? (int)(slash - path + 1) : 0, path);
    int fd = mkstemp(t);
    if (fd >= 0)
        unlink(t);
    cs_free(t);
    return fd;
}

cs_status cs_report_plot(const cs_report *rep, cs_plot_kind kind, const char *path, cs_err *err)
{
    /* A plot is an image file: written atomically to a regular file, never over a device. */
    cs_afile_kind ak;
    char *target = NULL;
    if (cs_afile_target(path, false, &ak, &target, err) != CS_OK)
        return CS_IO;
    cs_free(target);
    if (ak != CS_AFILE_ATOMIC)
        return cs_err_add(err, CS_INVALID,
                          "cimsim report: error: %s: a plot goes to a regular file", path);
    cs_buf s;
    cs_buf_init(&s);
    cs_status st = cs_report_plot_script(rep, kind, path, NULL, &s, err);
    if (st != CS_OK) {
        cs_buf_free(&s);
        return st;
    }
    cs_afile af;
    if (cs_afile_open(path, &af, err) != CS_OK) {
        cs_buf_free(&s);
        return CS_IO;
    }
    int in = scratch_fd(af.tmp), log = scratch_fd(af.tmp);
    bool ok = in >= 0 && log >= 0 && write(in, s.data, s.len) == (ssize_t)s.len &&
              lseek(in, 0, SEEK_SET) == 0;
    cs_buf_free(&s);
    if (!ok) {
        st = cs_err_add(err, CS_IO, "%s: error: cannot write a temporary file beside it: %s",
                        path, strerror(errno));
    } else {
        fflush(af.f);
        int rc = run_gnuplot(in, fileno(af.f), log);
        char msg[600];
        first_lines(log, msg, sizeof msg);
        struct stat sb;
        if (rc == 127) {
            st = cs_err_add(err, CS_UNSUPPORTED,
                            "cimsim report: error: %s: gnuplot not found (install gnuplot, e.g. "
                            "Debian gnuplot-nox)",
                            path);
        } else if (rc != 0 || fstat(fileno(af.f), &sb) != 0 || sb.st_size == 0) {
            if (strstr(msg, "unknown or ambiguous terminal"))
                st = cs_err_add(err, CS_UNSUPPORTED,
                                "cimsim report: error: %s: this gnuplot lacks the cairo terminal "
                                "the format needs (pdfcairo/pngcairo; Debian gnuplot-nox has "
                                "both): write .svg instead",
                                path);
            else
                st = cs_err_add(err, CS_INTERNAL,
                                "cimsim report: error: %s: gnuplot failed (status %d): %s", path,
                                rc, msg[0] ? msg : "no output");
        }
    }
    if (in >= 0)
        close(in);
    if (log >= 0)
        close(log);
    if (st != CS_OK) {
        cs_afile_abort(&af);
        return st;
    }
    /* gnuplot wrote through its own descriptor: the FILE has nothing buffered to add. */
    return cs_afile_commit(&af, err);
}

/* validate_www — the WWW study's numbers reproduced, its algorithm end to end, --mapping www's
 * DRAM traffic, and the ladder from the study's model to the A100 (docs/validation.md). */
#include "validate_www.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "run.h"
#include "wwwstudy.h"

static double rel(double a, double b)
{
    return b != 0 ? (a - b) / b * 100 : (a != 0 ? 100 : 0);
}

/* A number from the mapping JSON ("key":N), 0 when absent. */
static double json_num(const char *json, const char *key)
{
    char k[64];
    snprintf(k, sizeof k, "\"%s\":", key);
    const char *p = strstr(json, k);
    return p ? strtod(p + strlen(k), NULL) : 0;
}

/* One GEMM of 512x1024x1024 on arch with nsets overrides (-1: a NULL-terminated list), optionally a
 * placement, with the www mapping. */
static cs_result *one(const char *arch, const char *const *sets, int nsets, const char *cim, const char *macros,
                      cs_err *err)
{
    if (nsets < 0) /* sets is NULL-terminated */
        for (nsets = 0; sets[nsets]; nsets++) {
        }
    cs_result *r = NULL;
    if (cs_ws_run_gemm(arch, sets, nsets, cim, macros, CS_CIM_MAP_WWW, NULL, &r, NULL, err) != CS_OK) {
        cs_result_destroy(r);
        return NULL;
    }
    return r;
}

/* ---- 1. the 17 stored results ------------------------------------------------------------- */

/* Why a run takes longer than the study's time, from its figures. */
static void gap_reason(const cs_ws_config *c, const cs_gemm_result *g, double latency, char *out, size_t cap)
{
    double analytical = cs_ws_analytical_cycles(c, latency), cyc = (double)g->cycles;
    double dram_util = (double)(g->tot.dram_bytes_read + g->tot.dram_bytes_written) / (cyc * 32.0) * 100;
    double smem_util = (double)g->tot.smem_busy_cycles / cyc * 100;
    if (strcmp(c->design, "baseline") == 0) {
        snprintf(out, cap,
                 "shared-memory-bound in both (B read at 42 B/cycle); cimsim's pipeline is busy %.0f %% of the "
                 "time: the A and B tiles fill the 256 KiB, so their loads do not overlap the compute",
                 smem_util);
        return;
    }
    double compute = (double)c->steps * latency;
    if ((double)c->memory_cycles >= compute) {
        snprintf(out, cap,
                 "memory-bound in the study's model; cimsim's DRAM moves the same bytes at %.0f %% of its 32 B/cycle "
                 "peak (LPDDR4 row misses, read/write turnarounds, partial-sum read-modify-writes)",
                 dram_util);
        return;
    }
    double res = json_num(g->mapping_json, "residencies"), tk = 0, tn = 0;
    const char *tile = strstr(g->mapping_json, "\"tile\":{\"k\":");
    if (tile) {
        char *end;
        tk = strtod(tile + 12, &end);
        tn = strtod(strchr(end, ':') + 1, NULL);
    }
    bool db = strstr(g->mapping_json, "\"double_buffer_weights\":true") != NULL;
    double writes = db ? 0 : res * tk * tn / 16.0;
    double rest = cyc - compute - writes;
    snprintf(out, cap,
             "compute-bound (%.0f steps x %.0f cycles); +%.1f %%: weight writes between the %.0f residencies "
             "(%s), +%.1f %%: tile loads and drains and the shared-memory pipeline (busy %.0f %%) ahead of the inputs",
             (double)c->steps, latency, writes / analytical * 100, res,
             db ? "overlapped: two macro sets" : "not overlapped: the bank uses every macro", rest / analytical * 100,
             smem_util);
    (void)analytical;
}

static cs_status section_study(cs_buf *md, int *checks, int *failed, cs_err *err)
{
    cs_ws w;
    cs_status st = cs_ws_load(NULL, &w, err);
    if (st != CS_OK)
        return st;
    cs_buf detail, gaps;
    cs_buf_init(&detail);
    cs_buf_init(&gaps);
    cs_buf_puts(md,
                "\n## The WWW study's own numbers: its 17 Timeloop results reproduced\n\n"
                "The study's repository (github.com/tanvisharma/WWWtoCiM, commit 3f9e8aa) stores 17 Timeloop + "
                "Accelergy evaluations of BERT-Large 512x1024x1024: the tensor-core-like baseline, and each of the "
                "four primitives at register-file (rf) and shared-memory (smem) level with the study's mapping "
                "(`consv2p1`: its priority algorithm v2.1; `cons`: an older version) and with Timeloop's own search "
                "(`search`). tests/data/www-study.txt holds their mappings and figures. Each mapping is written back "
                "as a Timeloop map.yaml and run with `cimsim run -a www-sm --compat www --mapping timeloop:MAP` "
                "(rf: `--cim PRIM@rf --macros 1`, one primitive per sub-partition; smem: `--cim PRIM@smem --macros "
                "4`; the study's sample bank of 1 x 4). Accesses are cimsim's per-dataspace counters (bytes; "
                "Timeloop's scalar accesses of 8-bit words summed over the utilized instances); energies exclude "
                "leakage, as the convention does. *Study time* is the study's own model of the time: Timeloop's "
                "compute steps x the primitive's latency, or the memory term of its post-processing when larger "
                "(the baseline: Timeloop's cycles). *Post-processed* is what the study's script "
                "(post-process/get_stats.py) prints: it multiplies the compute steps, which already iterate over "
                "the weights a unit holds, by the held weights used (Rh x Ch) once more, so for the analog and "
                "digital8T primitives it is 8 to 16 times the steps x latency.\n\n"
                "| run | energy µJ (cimsim / Timeloop) | worst access count | worst level energy | cimsim cycles | "
                "study time | Timeloop cycles | post-processed | cimsim / study time |\n"
                "|---|---|---|---|---|---|---|---|---|\n");
    cs_buf_puts(&detail, "\nPer level and dataspace (bytes; energy in µJ on the level's first row; the macros' input "
                         "and output buffers, zero energy in the study, are inside cimsim's macro and not compared):\n\n"
                         "| run | level | data | reads (cimsim / Timeloop) | fills | updates | energy µJ (cimsim / "
                         "Timeloop) |\n|---|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < w.n && st == CS_OK; i++) {
        const cs_ws_config *c = &w.c[i];
        cs_ws_run run;
        if ((st = cs_ws_reproduce(c, NULL, 0, &run, err)) != CS_OK)
            break;
        const cs_gemm_result *g = &run.r->gemms[0];
        cs_ws_row rows[64];
        cs_ws_energy en[16];
        size_t n = cs_ws_counts(c, g, rows, 64), ne = cs_ws_energies(c, g, en, 16);
        double worst_c = 0, worst_e = 0;
        for (size_t k = 0; k < n; k++)
            worst_c = fmax(worst_c, fabs(rel((double)rows[k].cimsim, (double)rows[k].study)));
        for (size_t k = 0; k < ne; k++)
            worst_e = fmax(worst_e, fabs(rel(en[k].cimsim_pj, en[k].study_pj)));
        double an = cs_ws_analytical_cycles(c, run.latency_cycles);
        bool ok = worst_c <= 1.0 && worst_e <= 5.0 && (double)g->cycles >= an;
        (*checks)++;
        *failed += !ok;
        cs_buf_printf(md, "| %s | %.2f / %.2f | %.2f %% | %.2f %% | %llu | %.0f | %llu | %llu | %.2f%s |\n", c->name,
                      g->energy.total_pj / 1e6, c->total_pj / 1e6, worst_c, worst_e, (unsigned long long)g->cycles, an,
                      (unsigned long long)c->tl_cycles, (unsigned long long)c->study_cycles, (double)g->cycles / an,
                      ok ? "" : " **FAIL**");
        fprintf(stderr, "%-60s %10.4g %% counts, %.3g %% energy, %.3g x study time %s\n", c->name, worst_c, worst_e,
                (double)g->cycles / an, ok ? "pass" : "FAIL");
        /* detail: one row per (level, dataspace) */
        for (size_t k = 0; k < n;) {
            size_t e = k;
            char cells[3][96] = {"-", "-", "-"};
            while (e < n && strcmp(rows[e].level, rows[k].level) == 0 && rows[e].ds == rows[k].ds) {
                int col = strcmp(rows[e].kind, "read") == 0 ? 0 : strcmp(rows[e].kind, "fill") == 0 ? 1 : 2;
                snprintf(cells[col], sizeof cells[col], "%llu / %llu", (unsigned long long)rows[e].cimsim,
                         (unsigned long long)rows[e].study);
                e++;
            }
            char ecell[96] = "";
            bool first = k == 0 || strcmp(rows[k - 1].level, rows[k].level) != 0;
            for (size_t m = 0; m < ne && first; m++)
                if (strcmp(en[m].level, rows[k].level) == 0)
                    snprintf(ecell, sizeof ecell, "%.3f / %.3f", en[m].cimsim_pj / 1e6, en[m].study_pj / 1e6);
            cs_buf_printf(&detail, "| %s | %s | %c | %s | %s | %s | %s |\n", c->name, rows[k].level, rows[k].ds,
                          cells[0], cells[1], cells[2], ecell);
            k = e;
        }
        for (size_t m = 0; m < ne; m++) /* compute levels (no access rows) */
            if (strcmp(en[m].level, "CiMUnit") == 0 || strcmp(en[m].level, "mac") == 0)
                cs_buf_printf(&detail, "| %s | %s | | | | | %.3f / %.3f |\n", c->name, en[m].level,
                              en[m].cimsim_pj / 1e6, en[m].study_pj / 1e6);
        char why[400];
        gap_reason(c, g, run.latency_cycles, why, sizeof why);
        cs_buf_printf(&gaps, "- **%s** (%.2fx): %s.\n", c->name, (double)g->cycles / an, why);
        cs_result_destroy(run.r);
    }
    if (st == CS_OK) {
        cs_buf_puts(md, detail.data);
        cs_buf_puts(md, "\nThe counts agree exactly because cimsim's op streams for a loop nest move each tile when the "
                        "loops say it moves, and count the same events Timeloop does: a partial sum that lands on "
                        "partial sums already held is a read and an update (Timeloop's temporal reduction), an output "
                        "leaving a level for the one above is not read there (`compat.drain_reads = false`; cimsim "
                        "counts those bytes separately as drains), inputs that several macros share are read once "
                        "(broadcast), and a bank's macros that split K add their partial sums before they leave it "
                        "(`compat.adder_tree`). The energies differ only where the tables do: the study prices a "
                        "register-file update at its read energy (11.39 pJ), cimsim at its write energy (11.47 "
                        "pJ).\n\nWhere the cycles differ from the study's time:\n\n");
        cs_buf_puts(md, gaps.data);
    }
    cs_buf_free(&detail);
    cs_buf_free(&gaps);
    cs_ws_free(&w);
    return st;
}

/* ---- 2. the algorithm end to end ----------------------------------------------------------- */

static const char *const prims[4] = {"analog6T", "analog8T", "digital6T", "digital8T"};

static cs_status section_www(cs_buf *md, int *checks, int *failed, cs_err *err)
{
    cs_ws w;
    cs_status st = cs_ws_load(NULL, &w, err);
    if (st != CS_OK)
        return st;
    const char *const *www = cs_compat_profile("www");
    cs_buf_puts(md, "\n## The WWW algorithm end to end: `--compat www --mapping www`\n\n"
                    "cimsim's implementation of the priority algorithm (docs/model.md 13.3) run by the loop-nest "
                    "executor on www-sm, beside the stored runs whose mappings came from the same algorithm version "
                    "(v2.1, `consv2p1`: register-file level; target within 10 %):\n\n"
                    "| primitive | mapping executed | energy µJ | study µJ | difference | cycles |\n"
                    "|---|---|---|---|---|---|\n");
    for (int p = 0; p < 4 && st == CS_OK; p++) {
        char spec[32], name[64];
        snprintf(spec, sizeof spec, "%s@rf", prims[p]);
        snprintf(name, sizeof name, "rf-%s-consv2p1", prims[p]);
        const cs_ws_config *c = cs_ws_find(&w, name);
        cs_result *r = one("www-sm", www, -1, spec, "1", err);
        if (!r || !c) {
            st = r ? CS_INTERNAL : err->status;
            cs_result_destroy(r);
            break;
        }
        double d = rel(r->gemms[0].energy.total_pj, c->total_pj);
        bool ok = fabs(d) <= 10;
        (*checks)++;
        *failed += !ok;
        cs_buf_printf(md, "| %s | `%s` | %.2f | %.2f | %+.3f %%%s | %llu |\n", prims[p], r->gemms[0].mapping,
                      r->gemms[0].energy.total_pj / 1e6, c->total_pj / 1e6, d, ok ? "" : " **FAIL**",
                      (unsigned long long)r->gemms[0].cycles);
        fprintf(stderr, "%-60s %10.4g %% energy vs consv2p1 %s\n", spec, d, ok ? "pass" : "FAIL");
        cs_result_destroy(r);
    }
    if (st == CS_OK) {
        cs_buf_puts(md, "\nThe stored shared-memory-level runs (`cons`) used an older version of the algorithm: it "
                        "spreads K over the four primitives of the bank (inter_CiMBank_spatial K4) for every "
                        "primitive, where v2.1 (THRESHOLD 32 at that level) spreads N for analog6T, analog8T and "
                        "digital8T and K by 2 for digital6T; their DRAM loops differ accordingly. The same algorithm "
                        "run today, beside them:\n\n"
                        "| primitive | v2.1 mapping (cimsim) | energy µJ | `cons` mapping (stored) | its energy µJ "
                        "(cimsim / Timeloop) |\n|---|---|---|---|---|\n");
    }
    for (int p = 0; p < 4 && st == CS_OK; p++) {
        char spec[32], name[64];
        snprintf(spec, sizeof spec, "%s@smem", prims[p]);
        snprintf(name, sizeof name, "smem-%s-cons", prims[p]);
        const cs_ws_config *c = cs_ws_find(&w, name);
        cs_result *r = one("www-sm", www, -1, spec, "4", err);
        cs_ws_run old = {0};
        if (!r || !c || (st = cs_ws_reproduce(c, NULL, 0, &old, err)) != CS_OK) {
            st = st != CS_OK ? st : r ? CS_INTERNAL : err->status;
            cs_result_destroy(r);
            break;
        }
        cs_buf_printf(md, "| %s | `%s` | %.2f | `%s` | %.2f / %.2f |\n", prims[p], r->gemms[0].mapping,
                      r->gemms[0].energy.total_pj / 1e6, old.r->gemms[0].mapping, old.r->gemms[0].energy.total_pj / 1e6,
                      c->total_pj / 1e6);
        cs_result_destroy(r);
        cs_result_destroy(old.r);
    }
    cs_ws_free(&w);
    return st;
}

/* ---- 3. --mapping www: DRAM traffic beside what the nests imply ----------------------------- */

/* The plan's implied DRAM bytes (read + write) of A, B and Z from a mapping JSON; their sum. */
static double implied_bytes(const char *json, double v[3])
{
    static const char *const keys[3] = {"\"A\":{\"read\":", "\"B\":{\"read\":", "\"Z\":{\"read\":"};
    const char *imp = strstr(json, "\"implied_dram_bytes\":");
    double sum = 0;
    for (int d = 0; d < 3; d++) {
        const char *q = imp ? strstr(imp, keys[d]) : NULL;
        v[d] = 0;
        if (q) {
            char *end;
            v[d] = strtod(q + strlen(keys[d]), &end);
            v[d] += strtod(strchr(end, ':') + 1, NULL);
        }
        sum += v[d];
    }
    return sum;
}

/* What the DRAM moved (MiB), and in v the bytes the SMs asked for per dataspace (the same with
 * l2.bypass, as on www-sm). */
static double dram_mib(const cs_gemm_result *g, double v[3])
{
    static const int ds[3] = {CS_ACC_A, CS_ACC_B, CS_ACC_Z};
    for (int d = 0; d < 3; d++) {
        v[d] = 0;
        for (int k = 0; k < CS_ACC_KINDS; k++)
            v[d] += (double)g->tot.access[CS_ACC_DRAM][ds[d]][k] / 1048576;
    }
    return (double)(g->tot.dram_bytes_read + g->tot.dram_bytes_written) / 1048576;
}

static bool traffic_check(int *checks, int *failed, double sim, double imp)
{
    bool ok = imp > 0 && fabs(sim / imp - 1) <= 0.10;
    (*checks)++;
    *failed += !ok;
    return ok;
}

static cs_status section_traffic(cs_buf *md, int *checks, int *failed, cs_err *err)
{
    cs_buf_puts(md, "\n## `--mapping www` executes the study's mapping: DRAM traffic on www-sm\n\n"
                    "`cimsim run -a www-sm -w 512,1024,1024 --cim PRIM@rf --macros 1 --mapping www`. With cimsim's "
                    "own conventions (32-bit partial sums) the algorithm sizes its shared-memory tiles for what they "
                    "hold here (A at 1 byte, partial sums at 4), so M1 is smaller than the study's 512 and partial "
                    "sums leave the 256 KiB between K loops; *implied* is the DRAM traffic of the executed loop nest "
                    "when every tile moves exactly when its loops say (the plan's `implied_dram_bytes`), "
                    "*simulated* what the DRAM moved. With the study's 8-bit partial sums (`--set "
                    "compat.psum_bits=8`, nothing else of `--compat www`) the algorithm gives the study's own nest, "
                    "and its simulated traffic is set beside what the study's stored map.yaml (`consv2p1`) implies "
                    "(the same plan computed from the stored mapping). MiB; A + B + Z = read + write of each "
                    "(target: within 10 %).\n\n"
                    "| primitive | nest executed (32-bit partial sums) | simulated | implied | ratio | nest executed "
                    "(8-bit partial sums) | simulated A + B + Z | the study's map.yaml implies A + B + Z | ratio "
                    "|\n|---|---|---|---|---|---|---|---|---|\n");
    const char *const psum8[] = {"compat.psum_bits=8"};
    cs_ws w;
    cs_status st = cs_ws_load(NULL, &w, err);
    if (st != CS_OK)
        return st;
    for (int p = 0; p < 4 && st == CS_OK; p++) {
        char spec[32], name[64];
        snprintf(spec, sizeof spec, "%s@rf", prims[p]);
        snprintf(name, sizeof name, "rf-%s-consv2p1", prims[p]);
        const cs_ws_config *c = cs_ws_find(&w, name);
        cs_result *r = one("www-sm", NULL, 0, spec, "1", err);
        cs_result *s = r ? one("www-sm", psum8, 1, spec, "1", err) : NULL;
        cs_ws_run study = {0};
        if (!r || !s || !c || (st = cs_ws_reproduce(c, NULL, 0, &study, err)) != CS_OK) {
            st = st != CS_OK ? st : err->status ? err->status : CS_INTERNAL;
            cs_result_destroy(r);
            cs_result_destroy(s);
            break;
        }
        double v[3], sv[3], tv[3];
        double sim = dram_mib(&r->gemms[0], v), imp = implied_bytes(r->gemms[0].mapping_json, v) / 1048576;
        double sim8 = dram_mib(&s->gemms[0], sv);
        double imp8 = implied_bytes(study.r->gemms[0].mapping_json, tv) / 1048576;
        bool ok = traffic_check(checks, failed, sim, imp), ok8 = traffic_check(checks, failed, sim8, imp8);
        cs_buf_printf(md,
                      "| %s | `%s` | %.2f | %.2f | %.3f%s | `%s` | %.2f + %.2f + %.2f | %.2f + %.2f + %.2f | "
                      "%.3f%s |\n",
                      prims[p], r->gemms[0].mapping, sim, imp, imp > 0 ? sim / imp : 0, ok ? "" : " **FAIL**",
                      s->gemms[0].mapping, sv[0], sv[1], sv[2], tv[0] / 1048576, tv[1] / 1048576, tv[2] / 1048576,
                      imp8 > 0 ? sim8 / imp8 : 0, ok8 ? "" : " **FAIL**");
        fprintf(stderr, "%-60s %10.4g x implied DRAM traffic %s\n", spec, imp > 0 ? sim / imp : 0,
                ok ? "pass" : "FAIL");
        fprintf(stderr, "%-60s %10.4g x the study's nest's DRAM traffic %s\n", spec, imp8 > 0 ? sim8 / imp8 : 0,
                ok8 ? "pass" : "FAIL");
        cs_result_destroy(r);
        cs_result_destroy(s);
        cs_result_destroy(study.r);
    }
    cs_ws_free(&w);
    return st;
}

/* ---- 4. the ladder ------------------------------------------------------------------------- */

enum { DESIGNS = 4, RUNGS_MAX = 16 };
static const char *const designs[DESIGNS] = {NULL, "analog6T@rf", "digital6T@rf", "digital6T@smem"};
static const char *const design_macros[DESIGNS] = {NULL, "1", "1", "4"};
static const char *const design_names[DESIGNS] = {"baseline", "analog6T@rf", "digital6T@rf", "digital6T@smem"};

static void svg_panel(cs_buf *s, double x0, double y0, double w, double h, const char *title, int rungs,
                      double v[DESIGNS][RUNGS_MAX])
{
    static const char *const colors[DESIGNS] = {"#000000", "#1f77b4", "#d62728", "#2ca02c"};
    double lo = 1e9, hi = -1e9;
    for (int d = 1; d < DESIGNS; d++)
        for (int r = 0; r < rungs; r++)
            if (v[d][r] > 0) {
                lo = fmin(lo, log10(v[d][r]));
                hi = fmax(hi, log10(v[d][r]));
            }
    lo = floor(fmin(lo, 0)), hi = ceil(fmax(hi, 0));
    if (hi <= lo)
        hi = lo + 1;
    cs_buf_printf(s, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"14\" text-anchor=\"middle\">%s</text>\n", x0 + w / 2,
                  y0 - 10, title);
    cs_buf_printf(s, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#888\"/>\n", x0,
                  y0, w, h);
    for (double e = lo; e <= hi + 1e-9; e += 1) {
        double y = y0 + h - (e - lo) / (hi - lo) * h;
        cs_buf_printf(s, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>\n", x0, y, x0 + w, y,
                      e == 0 ? "#444" : "#ddd");
        cs_buf_printf(s, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\">%g</text>\n", x0 - 4, y + 4,
                      pow(10, e));
    }
    for (int r = 0; r < rungs; r++) {
        double x = x0 + (r + 0.5) * w / rungs;
        cs_buf_printf(s, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"middle\">%d</text>\n", x,
                      y0 + h + 14, r);
    }
    for (int d = 1; d < DESIGNS; d++) {
        cs_buf_printf(s, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", colors[d]);
        for (int r = 0; r < rungs; r++)
            if (v[d][r] > 0)
                cs_buf_printf(s, "%s%.1f,%.1f", r ? " " : "", x0 + (r + 0.5) * w / rungs,
                              y0 + h - (log10(v[d][r]) - lo) / (hi - lo) * h);
        cs_buf_puts(s, "\"/>\n");
        for (int r = 0; r < rungs; r++)
            if (v[d][r] > 0)
                cs_buf_printf(s, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n", x0 + (r + 0.5) * w / rungs,
                              y0 + h - (log10(v[d][r]) - lo) / (hi - lo) * h, colors[d]);
    }
}

static cs_status section_ladder(cs_buf *md, cs_buf *svg, const char *svg_name, cs_err *err)
{
    const cs_compat_key *keys = cs_compat_keys();
    int nkeys = 0;
    while (keys[nkeys].key)
        nkeys++;
    int rungs = nkeys + 2; /* the study's conventions, each switched back, then the A100 */
    double e[DESIGNS][RUNGS_MAX] = {{0}}, c[DESIGNS][RUNGS_MAX] = {{0}};
    char sets[RUNGS_MAX][64];
    const char *setp[RUNGS_MAX];
    for (int k = 0; k < nkeys; k++) {
        snprintf(sets[k], sizeof sets[k], "compat.%s=%s", keys[k].key, keys[k].cimsim);
        setp[k] = sets[k];
    }
    const char *const *www = cs_compat_profile("www");
    cs_status st = CS_OK;
    for (int r = 0; r < rungs && st == CS_OK; r++)
        for (int d = 0; d < DESIGNS && st == CS_OK; d++) {
            const char *all[32];
            int n = 0;
            if (r <= nkeys) {
                for (int i = 0; www[i]; i++)
                    all[n++] = www[i];
                for (int i = 0; i < r; i++)
                    all[n++] = setp[i];
            }
            cs_result *res = one(r <= nkeys ? "www-sm" : "a100", all, n, designs[d], design_macros[d], err);
            if (!res) {
                st = err->status ? err->status : CS_INTERNAL;
                break;
            }
            e[d][r] = res->gemms[0].energy.total_pj;
            c[d][r] = (double)res->gemms[0].cycles;
            cs_result_destroy(res);
        }
    if (st != CS_OK)
        return st;
    cs_buf_printf(md, "\n## The ladder: from the study's model to the A100\n\n"
                      "BERT-Large 512x1024x1024. Rung 0 is `--compat www` on www-sm; each later rung switches one more "
                      "convention back to cimsim's model (`--set compat.KEY=VALUE`, compat.h), in this order; rung %d "
                      "is www-sm with cimsim's model throughout, rung %d the A100 (its 7 nm table). CiM: `--mapping "
                      "www`, rf `--macros 1` (one primitive per sub-partition), smem `--macros 4`. *e* is the energy "
                      "relative to the baseline of the same rung, *speed* the baseline's cycles over the variant's "
                      "(above 1: CiM wins). A rung that does not concern a design repeats its figures (the baseline "
                      "has no CiM conventions; `register_file` concerns CiM only).\n\n"
                      "| rung | convention switched back | baseline µJ | cycles |",
                  nkeys, nkeys + 1);
    for (int d = 1; d < DESIGNS; d++)
        cs_buf_printf(md, " %s µJ | e | cycles | speed |", design_names[d]);
    cs_buf_puts(md, "\n|---|---|---|---|");
    for (int d = 1; d < DESIGNS; d++)
        cs_buf_puts(md, "---|---|---|---|");
    cs_buf_puts(md, "\n");
    double ratio_e[DESIGNS][RUNGS_MAX] = {{0}}, ratio_s[DESIGNS][RUNGS_MAX] = {{0}};
    for (int r = 0; r < rungs; r++) {
        char what[96];
        if (r == 0)
            snprintf(what, sizeof what, "the study's conventions (`--compat www`)");
        else if (r <= nkeys)
            snprintf(what, sizeof what, "%s (`%s=%s`)", keys[r - 1].what, keys[r - 1].key, keys[r - 1].cimsim);
        else
            snprintf(what, sizeof what, "the A100 (`-a a100`)");
        cs_buf_printf(md, "| %d | %s | %.2f | %.0f |", r, what, e[0][r] / 1e6, c[0][r]);
        for (int d = 1; d < DESIGNS; d++) {
            ratio_e[d][r] = e[d][r] / e[0][r];
            ratio_s[d][r] = c[0][r] / c[d][r];
            cs_buf_printf(md, " %.2f | %.3f | %.0f | %.3f |", e[d][r] / 1e6, ratio_e[d][r], c[d][r], ratio_s[d][r]);
        }
        cs_buf_puts(md, "\n");
    }
    cs_buf_printf(md, "\n![The ladder: energy and speed of each CiM design relative to the baseline at each rung](%s)\n",
                  svg_name);
    /* the verdict flips */
    cs_buf_puts(md, "\nWhere the verdict changes (energy ratio or speed crossing 1 between two rungs):\n\n");
    bool any = false;
    for (int d = 1; d < DESIGNS; d++)
        for (int r = 1; r < rungs; r++) {
            bool ef = (ratio_e[d][r - 1] < 1) != (ratio_e[d][r] < 1), sf = (ratio_s[d][r - 1] > 1) != (ratio_s[d][r] > 1);
            if (!ef && !sf)
                continue;
            any = true;
            cs_buf_printf(md, "- %s, rung %d (%s): %s%s%s.\n", design_names[d], r,
                          r <= nkeys ? keys[r - 1].what : "the A100",
                          ef ? (ratio_e[d][r] < 1 ? "now uses less energy than the baseline"
                                                  : "now uses more energy than the baseline")
                             : "",
                          ef && sf ? "; " : "", sf ? (ratio_s[d][r] > 1 ? "now faster" : "now slower") : "");
        }
    if (!any)
        cs_buf_puts(md, "- none: every rung keeps each design on the same side of the baseline.\n");
    /* rungs that move nothing, and why */
    bool first = true;
    for (int r = 1; r <= nkeys; r++) {
        bool same = true;
        for (int d = 0; d < DESIGNS; d++)
            same = same && e[d][r] == e[d][r - 1] && c[d][r] == c[d][r - 1];
        if (!same)
            continue;
        if (first)
            cs_buf_puts(md, "\nRungs where no figure moves:\n\n");
        first = false;
        cs_buf_printf(md, "- rung %d (%s): %s.\n", r, keys[r - 1].what, keys[r - 1].same);
    }
    /* the plot */
    cs_buf_puts(svg, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                     "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"960\" height=\"420\" "
                     "font-family=\"sans-serif\">\n<rect width=\"960\" height=\"420\" fill=\"white\"/>\n");
    svg_panel(svg, 70, 50, 380, 300, "energy / baseline (below 1: CiM uses less)", rungs, ratio_e);
    svg_panel(svg, 550, 50, 380, 300, "speed vs baseline (above 1: CiM is faster)", rungs, ratio_s);
    static const char *const colors[DESIGNS] = {"#000000", "#1f77b4", "#d62728", "#2ca02c"};
    for (int d = 1; d < DESIGNS; d++)
        cs_buf_printf(svg,
                      "<rect x=\"%d\" y=\"392\" width=\"14\" height=\"4\" fill=\"%s\"/><text x=\"%d\" y=\"398\" "
                      "font-size=\"12\">%s</text>\n",
                      180 + (d - 1) * 220, colors[d], 200 + (d - 1) * 220, design_names[d]);
    cs_buf_printf(svg, "<text x=\"480\" y=\"380\" font-size=\"11\" text-anchor=\"middle\">rung (the table in "
                       "docs/validation.md): 0 = the study's conventions, %d = cimsim on www-sm, %d = the A100</text>\n"
                       "</svg>\n",
                  nkeys, nkeys + 1);
    return CS_OK;
}

cs_status cs_validate_www(cs_buf *md, cs_buf *svg, const char *svg_name, int *checks, int *failed, cs_err *err)
{
    cs_status st = section_study(md, checks, failed, err);
    if (st == CS_OK)
        st = section_www(md, checks, failed, err);
    if (st == CS_OK)
        st = section_traffic(md, checks, failed, err);
    if (st == CS_OK)
        st = section_ladder(md, svg, svg_name, err);
    return st;
}

/* cmd_validate — runs each validation experiment, compares it with its target range and
 * writes the Markdown report. Every figure comes from a simulation run here; nothing is
 * copied in. */
#include "cmd_validate.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "afile.h"
#include "alloc.h"
#include "cli.h"
#include "gpu.h"
#include "kernel_chase.h"
#include "kernel_stream.h"
#include "placement.h"
#include "run.h"
#include "validate_www.h"

typedef struct report {
    cs_buf md;
    int checks, failed;
} report;

static void check(report *r, const char *what, double value, const char *unit, double lo, double hi,
                  const char *note)
{
    bool ok = value >= lo && value <= hi;
    r->checks++;
    r->failed += !ok;
    cs_buf_printf(&r->md, "| %s | %.4g %s | %.4g to %.4g | %s | %s |\n", what, value, unit, lo, hi,
                  ok ? "pass" : "**FAIL**", note);
    fprintf(stderr, "%-60s %10.4g %-8s [%g, %g] %s\n", what, value, unit, lo, hi, ok ? "pass" : "FAIL");
}

static void fact(report *r, const char *what, double value, const char *unit, const char *note)
{
    cs_buf_printf(&r->md, "| %s | %.4g %s | %s |\n", what, value, unit, note);
    fprintf(stderr, "%-60s %10.4g %s\n", what, value, unit);
}

/* One GEMM on an architecture (with overrides); the result or NULL with err filled. */
static cs_result *gemm(const char *arch, const char *const *sets, int nsets, const char *w, cs_err *err)
{
    cs_arch_doc *ad = NULL;
    cs_workload *wl = NULL;
    cs_energy_table *et = NULL;
    cs_result *r = NULL;
    if (cs_arch_load(arch, sets, nsets, &ad, err) == CS_OK && cs_workload_load(w, &wl, err) == CS_OK &&
        cs_energy_table_load(ad->arch.energy.table, &et, err) == CS_OK) {
        cs_run_opts o;
        cs_run_opts_init(&o);
        o.command = "cimsim validate";
        cs_run(ad, wl, et, &o, &r, err);
    }
    cs_energy_table_destroy(et);
    cs_workload_destroy(wl);
    cs_arch_doc_destroy(ad);
    return r;
}

/* A run with a CiM placement (one macro per instance of the level, the WWW mapping) on an architecture. */
static cs_result *cim_gemm(const char *arch, const char *prim_level, const char *w, cs_err *err)
{
    cs_arch_doc *ad = NULL;
    cs_workload *wl = NULL;
    cs_energy_table *et = NULL;
    cs_result *r = NULL;
    cs_placement pl;
    if (cs_arch_load(arch, NULL, 0, &ad, err) == CS_OK && cs_workload_load(w, &wl, err) == CS_OK &&
        cs_energy_table_load(ad->arch.energy.table, &et, err) == CS_OK &&
        cs_placement_parse(&ad->arch, prim_level, "1", &pl, err) == CS_OK) {
        cs_run_opts o;
        cs_run_opts_init(&o);
        o.command = "cimsim validate";
        o.cim = &pl;
        o.cim_req.mode = CS_CIM_MAP_WWW;
        cs_run(ad, wl, et, &o, &r, err);
        cs_placement_free(&pl);
    }
    cs_energy_table_destroy(et);
    cs_workload_destroy(wl);
    cs_arch_doc_destroy(ad);
    return r;
}

/* The WWW template's baseline beside cimsim's: per-level energy per MAC of bert-large-proj on
 * arch/www-sm.cfg, next to the floor the template's dataflow and per-action energies give
 * (every operand moved once per level it lives in), with the counted actions that explain
 * the difference. */
static cs_status www_section(report *r, cs_err *err)
{
    cs_buf *md = &r->md;
    cs_result *b = gemm("www-sm", NULL, 0, "512,1024,1024", err);
    cs_result *c = b ? cim_gemm("www-sm", "analog6T@rf", "512,1024,1024", err) : NULL;
    if (!b || !c) {
        cs_result_destroy(b);
        return CS_INVALID;
    }
    const cs_gemm_result *g = &b->gemms[0];
    const double M = 512, N = 1024, K = 1024, macs = M * N * K;
    unsigned cta_m = 0, cta_n = 0;
    sscanf(g->mapping, "%ux%u", &cta_m, &cta_n);
    /* the template's floor, from its per-action energies (www-template.md) */
    double dram_floor = (M * K + N * K + M * N) * (512.0 / 8) / macs;      /* 512 pJ per 8 B */
    double smem_floor = (M * K + N * K) / 32 * (124.70 + 118.03) / macs;     /* A, B in and out once */
    double rf_floor = (11.39 + 11.47) / 16;      /* 8-bit Z read+write per 16 MACs (K over 16 PEs) */
    double mac = 0.2625;
    double floor_total = dram_floor + smem_floor + rf_floor + mac;
    const double *lv = g->energy.level_pj;
    double rereads = M * K * (N / cta_n) + N * K * (M / cta_m);
    cs_buf_printf(md, "\n## The WWW template: baseline bert-large-proj (512x1024x1024) on arch/www-sm.cfg, 45 nm\n\n"
                      "cimsim simulates the template's block (1 SM, 4 sub-partitions of 256 INT8 MAC/cycle, 256 KiB "
                      "shared memory at 42 B/cycle, 4 KiB register file per sub-partition, LPDDR4 at 32 B/cycle, no "
                      "L2) with the 45nm table (the study's per-action energies). The study's figures come from an "
                      "analytical model (Timeloop + Accelergy) with its own mapping; the column *template floor* is "
                      "what the template's dataflow costs when every operand moves once per level it lives in "
                      "(DRAM: A, B and Z once at 512 pJ per 8 B; shared memory: A and B written and read once; "
                      "register file: 8-bit Z updated once per 16 MACs, K being reduced across 16 PE columns; "
                      "0.2625 pJ per MAC).\n\n"
                      "| level (with its leakage) | cimsim pJ/MAC | template floor pJ/MAC | counted in cimsim |\n|---|---|---|---|\n");
    cs_buf_printf(md, "| DRAM | %.4f | %.4f | %.1f MiB read, %.1f MiB written (compulsory %.1f MiB) |\n",
                  lv[CS_EL_DRAM] / macs, dram_floor, (double)g->tot.dram_bytes_read / 1048576,
                  (double)g->tot.dram_bytes_written / 1048576, (M * K + N * K + M * N) / 1048576);
    cs_buf_printf(md, "| shared memory | %.4f | %.4f | %.1f MiB read, %.1f MiB written |\n", lv[CS_EL_SMEM] / macs,
                  smem_floor, (double)g->tot.smem_read * 32 / 1048576, (double)g->tot.smem_write * 32 / 1048576);
    cs_buf_printf(md, "| register file | %.4f | %.4f | %.3f words read and %.3f written per MAC (4-byte words) |\n",
                  lv[CS_EL_RF] / macs, rf_floor, (double)g->tot.rf_read / macs, (double)g->tot.rf_write / macs);
    cs_buf_printf(md, "| MACs (tensor core) | %.4f | %.4f | %.0f MACs executed |\n", lv[CS_EL_COMPUTE] / macs, mac,
                  (double)g->tot.macs_exec);
    cs_buf_printf(md, "| crossbar (no counterpart in the template) | %.4f | 0 | %.0f flits |\n", lv[CS_EL_NOC] / macs,
                  (double)g->tot.flits);
    cs_buf_printf(md, "| L2 (bypassed) | %.4f | 0 | |\n", lv[CS_EL_L2] / macs);
    cs_buf_printf(md, "| **total** | **%.4f** | **%.4f** | %llu cycles, %.1f %% of the 1024 MAC/cycle peak |\n\n",
                  g->energy.total_pj / macs, floor_total, (unsigned long long)g->cycles,
                  macs / (double)g->cycles / 1024 * 100);
    cs_buf_printf(md,
                  "Why cimsim is above the floor (each from the counts above):\n\n"
                  "- **DRAM**: the tensor-core mapper's tile is %ux%u (`%s`): the 16 KiB register file holds "
                  "4096 32-bit accumulators (the A100-style dataflow accumulates in registers), so no larger "
                  "output tile fits, and with no L2 every re-read of an operand tile goes to DRAM: A is read "
                  "N/%u = %.0f times and B M/%u = %.0f times, %.1f MiB, which is the DRAM read count above. "
                  "The study's mapping keeps A and B in the 256 KiB shared memory instead.\n"
                  "- **Register file**: cimsim's sub-partitions are tensor cores fed from registers: A and B "
                  "fragments are written to registers by the shared-memory loads and read by every MMA, and the "
                  "32-bit accumulators are read and written per instruction; the template's PE array reads A "
                  "from per-PE operand registers and touches the 8-bit Z once per 16 MACs.\n"
                  "- **Shared memory**: every warp loads its fragments for every k-step, so A and B are read "
                  "from shared memory several times; the bank pipeline (42 B/cycle) is the limiting resource "
                  "(`bound` = %s), which is also what the template predicts for large GEMMs.\n"
                  "- **Crossbar**: cimsim routes DRAM traffic through its SM-to-memory crossbar (flits at the "
                  "45nm table's estimate); the template connects DRAM to the shared memory directly.\n"
                  "- **MACs**: identical per MAC (the same 0.2625 pJ entry); padding adds none for this shape.\n\n",
                  cta_m, cta_n, g->mapping, cta_n, N / cta_n, cta_m, M / cta_m, rereads / 1048576, g->bound);
    const cs_gemm_result *cg = &c->gemms[0];
    cs_buf_printf(md,
                  "The same GEMM with analog6T at register-file level (4 primitives, one per sub-partition as "
                  "in the study's sample runs, `--mapping www`): %.4f pJ/MAC (%.3fx the baseline's energy), "
                  "%llu cycles (%.2fx the baseline's speed); CiM MACs %.4f and weight writes %.4f pJ/MAC, DRAM "
                  "%.4f, shared memory %.4f. The study reports up to 0.12x the baseline energy (v1) and up to 3.4x "
                  "energy efficiency (v2/v3, iso-area); cimsim's baseline is costlier than the study's (above), "
                  "which makes the ratio more favourable to CiM than the study's own comparison.\n",
                  cg->energy.total_pj / macs, cg->energy.total_pj / g->energy.total_pj, (unsigned long long)cg->cycles,
                  (double)g->cycles / (double)cg->cycles, cg->energy.breakdown_pj[CS_EB_CIM_MAC] / macs,
                  cg->energy.breakdown_pj[CS_EB_CIM_WRITE] / macs, cg->energy.level_pj[CS_EL_DRAM] / macs,
                  cg->energy.level_pj[CS_EL_SMEM] / macs);
    fprintf(stderr, "%-60s %10.4g pJ/MAC (floor %.4g)\n", "www-sm bert-large-proj baseline", g->energy.total_pj / macs,
            floor_total);
    fprintf(stderr, "%-60s %10.4g pJ/MAC\n", "www-sm bert-large-proj analog6T@rf x4, www mapping",
            cg->energy.total_pj / macs);
    cs_result_destroy(b);
    cs_result_destroy(c);
    return CS_OK;
}

/* Runs a kernel alone on a fresh GPU; returns the elapsed time and the memory totals. */
static cs_status kernel(const char *arch, cs_opsrc *(*make)(const cs_target *, void *), void *ctx,
                        cs_ps *elapsed, cs_gpu_totals *tot, double *clock_hz, cs_err *err)
{
    cs_arch_doc *ad = NULL;
    cs_gpu *g = NULL;
    cs_status st = cs_arch_load(arch, NULL, 0, &ad, err);
    if (st == CS_OK)
        st = cs_gpu_create(&ad->arch, NULL, &g, err);
    if (st == CS_OK) {
        cs_target t = cs_arch_target(&ad->arch);
        cs_opsrc *src = make(&t, ctx);
        st = src ? cs_gpu_run_kernel(g, src, elapsed, err) : CS_INTERNAL;
        cs_opsrc_destroy(src);
        cs_gpu_totals_get(g, tot);
        if (getenv("CIMSIM_VALIDATE_STATS")) {
            cs_buf b;
            cs_buf_init(&b);
            cs_stats_dump_text(cs_gpu_stats(g), NULL, getenv("CIMSIM_VALIDATE_STATS"), &b);
            fputs(b.data ? b.data : "", stderr);
            cs_buf_free(&b);
        }
        *clock_hz = cs_arch_clock_hz(&ad->arch);
    }
    cs_gpu_destroy(g);
    cs_arch_doc_destroy(ad);
    return st;
}

static cs_opsrc *make_stream(const cs_target *t, void *ctx)
{
    cs_opsrc *s = NULL;
    cs_stream_opsrc_create(t, ctx, &s, NULL);
    return s;
}

typedef struct chase_args {
    uint64_t stride;
    uint32_t steps;
} chase_args;

static cs_opsrc *make_chase(const cs_target *t, void *ctx)
{
    chase_args *a = ctx;
    cs_opsrc *s = NULL;
    cs_chase_opsrc_create(t, 1ull << 32, a->stride, a->steps, &s, NULL);
    return s;
}

/* The ladder's plot, written in the report's directory. */
#define LADDER_SVG "validation-ladder.svg"

static const char usage[] =
    "usage: cimsim validate [-o FILE.md]\n"
    "\n"
    "Runs the validation experiments (A100 peak-bound and bandwidth-bound GEMMs, a streaming\n"
    "kernel, latencies, bandwidth sensitivity; the WWW study's 17 Timeloop results reproduced under\n"
    "--compat www, its algorithm end to end, and the ladder from its conventions to the A100) and\n"
    "prints each figure beside its target. With -o writes the Markdown report (docs/validation.md\n"
    "is generated this way) and the ladder's plot beside it (" LADDER_SVG "). Exit status 1 when a\n"
    "figure falls outside its target range.\n";


int cs_cmd_validate(int argc, char **argv)
{
    static const struct option longs[] = {{"output", required_argument, 0, 'o'}, {"help", no_argument, 0, 'h'},
                                          {0, 0, 0, 0}};
    const char *out = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":o:h", longs, NULL)) != -1) {
        if (c == 'h') {
            fputs(usage, stdout);
            return 0;
        }
        if (c != 'o')
            return cs_cli_bad_option("validate", c, argv);
        out = optarg;
    }
    if (optind < argc)
        return cs_cli_usage_error("validate", "unexpected argument '%s'", argv[optind]);
    if (cs_cli_check_output(out))
        return 2;
    cs_err err;
    cs_err_init(&err);
    report r = {0};
    cs_buf_init(&r.md);
    cs_buf *md = &r.md;
    cs_buf_printf(md, "# Validation\n\nGenerated by `cimsim validate -o docs/validation.md` (cimsim %s); do "
                      "not edit by hand. Every figure below is simulated by that command on the built-in "
                      "architectures; the targets come from public A100 figures (shared/reference/a100.md) "
                      "and the issue tracker's acceptance criteria.\n\n", CIMSIM_VERSION);

    /* ---- A100 baseline ---- */
    cs_buf_puts(md, "## A100 baseline (INT8)\n\n| check | measured | target | status | how |\n|---|---|---|---|---|\n");
    cs_result *big = gemm("a100", NULL, 0, "4096,4096,4096", &err);
    cs_result *dec = gemm("a100", NULL, 0, "1,4096,4096", &err);
    const char *half[] = {"hbm.clock=607.5MHz"};
    cs_result *big_h = gemm("a100", half, 1, "4096,4096,4096", &err);
    cs_result *dec_h = gemm("a100", half, 1, "1,4096,4096", &err);
    if (!big || !dec || !big_h || !dec_h) {
        cs_result_destroy(big);
        cs_result_destroy(dec);
        cs_result_destroy(big_h);
        cs_result_destroy(dec_h);
        cs_buf_free(md);
        return cs_cli_report(&err);
    }
    double stream_s = 16.0 * 1048576 / 1555.2e9;
    check(&r, "4096x4096x4096: fraction of the 624 TOPS peak", big->gemms[0].tops / 623.7 * 100, "%", 70, 95,
          big->gemms[0].mapping);
    check(&r, "1x4096x4096 (decode): time / (16 MiB at 1555 GB/s)", dec->gemms[0].seconds / stream_s, "x", 1.0, 1.6,
          dec->gemms[0].mapping);
    check(&r, "HBM clock halved: decode time ratio", dec_h->gemms[0].seconds / dec->gemms[0].seconds, "x", 1.6, 2.2,
          "--set hbm.clock=607.5MHz");
    check(&r, "HBM clock halved: 4096^3 time ratio", big_h->gemms[0].seconds / big->gemms[0].seconds, "x", 0.95, 1.10,
          "--set hbm.clock=607.5MHz");
    cs_result_destroy(big);
    cs_result_destroy(dec);
    cs_result_destroy(big_h);
    cs_result_destroy(dec_h);

    /* ---- the memory system alone ---- */
    cs_stream_params sp;
    cs_stream_params_default(&sp, 256ull << 20);
    cs_ps el = 0;
    cs_gpu_totals tot;
    double clk = 0;
    if (kernel("a100", make_stream, &sp, &el, &tot, &clk, &err) != CS_OK) {
        cs_buf_free(md);
        return cs_cli_report(&err);
    }
    double bw = (double)sp.bytes / ((double)el * 1e-12);
    check(&r, "streaming read of 256 MiB: fraction of 1555 GB/s", bw / 1555.2e9 * 100, "%", 80, 95,
          "kernel_stream: 2 CTAs/SM x 8 warps x 1 KiB x 4 stages");
    cs_buf_puts(md, "\n## Latencies (unloaded, one request in flight)\n\n| figure | measured | note |\n|---|---|---|\n");
    chase_args hit = {0, 200}, miss = {1ull << 20, 200};
    cs_status st = kernel("a100", make_chase, &hit, &el, &tot, &clk, &err);
    if (st == CS_OK)
        fact(&r, "L2 hit round trip (copy issue to data in shared memory)", (double)el * 1e-12 * clk / 200, "cycles",
             "microbenchmarks of A100 report about 200 cycles");
    if (st == CS_OK)
        st = kernel("a100", make_chase, &miss, &el, &tot, &clk, &err);
    if (st == CS_OK)
        fact(&r, "DRAM round trip (L2 miss, row miss)", (double)el * 1e-12 / 200 * 1e9, "ns",
             "row miss in DRAM, crossbar and controller latencies each way");
    if (st == CS_OK)
        st = www_section(&r, &err);
    /* the WWW study's numbers and the ladder; its plot goes beside the report */
    cs_buf svg;
    cs_buf_init(&svg);
    if (st == CS_OK)
        st = cs_validate_www(md, &svg, LADDER_SVG, &r.checks, &r.failed, &err);
    if (st != CS_OK) {
        cs_buf_free(md);
        cs_buf_free(&svg);
        return cs_cli_report(&err);
    }
    cs_buf_printf(md, "\n%d checks, %d outside their target range.\n", r.checks, r.failed);
    int rc = 0;
    if (out) {
        char svg_path[4096];
        const char *slash = strrchr(out, '/');
        snprintf(svg_path, sizeof svg_path, "%.*s%s", slash ? (int)(slash - out + 1) : 0, out, LADDER_SVG);
        rc = cs_afile_write(out, md->data, md->len, &err) == CS_OK &&
                     cs_afile_write(svg_path, svg.data, svg.len, &err) == CS_OK
                 ? 0
                 : cs_cli_report(&err);
    } else {
        fputs(md->data, stdout);
    }
    cs_buf_free(md);
    cs_buf_free(&svg);
    if (rc)
        return rc;
    return r.failed ? 1 : 0;
}

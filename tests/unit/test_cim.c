/* test_cim — CiM primitives, macro timing, placement sizing, and the placement behaviours the
 * CiM issue asks for: duplication, residency, bank contention, the WWW template run, compare. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "alloc.h"
#include "arch.h"
#include "cim.h"
#include "gpu.h"
#include "kern.h"
#include "placement.h"
#include "run.h"
#include "testutil.h"

/* ---- primitives and macro timing ---------------------------------------------------------- */

Test(cim, builtin_primitives_match_the_reference_table)
{
    struct { const char *name; int64_t rp, cp, rh, ch; uint64_t lat_ps; double af, mac, wr; } want[] = {
        {"analog6T", 64, 4, 1, 16, 9000, 1.34, 0.15, 1.9},
        {"analog8T", 64, 4, 1, 16, 144000, 2.1, 0.09, 3.0},
        {"digital6T", 256, 16, 1, 1, 18000, 1.4, 0.34, 3.2},
        {"digital8T", 1, 128, 10, 1, 233000, 1.1, 0.84, 1.7},
    };
    for (size_t i = 0; i < 4; i++) {
        cs_cim_prim p;
        cs_err err;
        cs_err_init(&err);
        cr_assert_eq(cs_cim_prim_load(want[i].name, &p, NULL, &err), CS_OK, "%s", err.msg[0]);
        cr_expect_eq(p.rp, want[i].rp);
        cr_expect_eq(p.cp, want[i].cp);
        cr_expect_eq(p.rh, want[i].rh);
        cr_expect_eq(p.ch, want[i].ch);
        cr_expect_eq(p.size_bytes, 4096);
        cr_expect_eq(p.latency_ps, want[i].lat_ps);
        cr_expect_float_eq(p.area_factor, want[i].af, 1e-12);
        cr_expect_float_eq(p.mac_energy_pj, want[i].mac, 1e-12);
        cr_expect_float_eq(p.write_energy_pj, want[i].wr, 1e-12);
        cs_cim_prim_free(&p);
    }
}

Test(cim, unknown_primitive_is_a_clear_error)
{
    cs_cim_prim p;
    cs_err err;
    cs_err_init(&err);
    cr_assert_eq(cs_cim_prim_load("analog7T", &p, NULL, &err), CS_NOT_FOUND);
    cr_expect(strstr(err.msg[0], "analog6T, analog8T, digital6T, digital8T") != NULL, "%s", err.msg[0]);
}

static cs_ps host_free;
static uint64_t host_reserved;
static cs_ps fake_host(void *ctx, uint32_t sub, cs_ps now, uint64_t cycles)
{
    (void)ctx;
    (void)sub;
    cs_ps start = now > host_free ? now : host_free;
    host_free = start + cycles * 1000; /* 1 GHz */
    host_reserved += cycles;
    return host_free;
}

Test(cim, write_and_compute_take_their_hand_computed_times)
{
    cs_cim_prim p;
    cr_assert_eq(cs_cim_prim_load("analog6T", &p, NULL, NULL), CS_OK);
    cs_clock clk = {1000000};
    cs_stats *st = cs_stats_create();
    cs_cim_group_params gp = {.prim = &p, .macros = 2, .subs = 1, .clock = &clk};
    cs_cim_group *g = cs_cim_group_create("t.cim", &gp, st);
    /* 4096 bytes at 16 B/cycle: 256 cycles */
    cr_expect_eq(cs_cim_write(g, 0, 4096, 0), 256000);
    /* 10 rows x 64 K x 64 N: 10 x ceil(64/64) x ceil(64/4) = 160 operations of 9 ns, after the write */
    uint64_t macs = 0;
    cr_expect_eq(cs_cim_compute(g, 0, 10, 64, 64, 0, &macs), 256000 + 160 * 9000);
    cr_expect_eq(macs, 10 * 64 * 64);
    /* the other macro is independent */
    cr_expect_eq(cs_cim_compute(g, 1, 10, 64, 64, 0, NULL), 160 * 9000);
    const cs_cim_counts *c = cs_cim_get_counts(g);
    cr_expect_eq(c->write, 4096 / 16, "one write access per ch = 16 bytes");
    cr_expect_eq(c->ops, 320);
    cr_expect_eq(c->mac, 320 * 64 * 4);
    cr_expect_eq(c->macs_useful, 2 * 10 * 64 * 64);
    cs_cim_group_destroy(g);
    cs_stats_destroy(st);
    cs_cim_prim_free(&p);
}

Test(cim, a_busy_macro_holds_its_share_of_the_host_banks)
{
    cs_cim_prim p;
    cr_assert_eq(cs_cim_prim_load("digital6T", &p, NULL, NULL), CS_OK);
    cs_clock clk = {1000000};
    cs_stats *st = cs_stats_create();
    host_free = 0;
    host_reserved = 0;
    cs_cim_group_params gp = {.prim = &p, .macros = 1, .subs = 1, .clock = &clk, .bank_share = 0.25,
                              .host = fake_host};
    cs_cim_group *g = cs_cim_group_create("t.cim", &gp, st);
    /* 100 rows x 256 x 16: 100 operations of 18 ns = 1800 cycles; a quarter of the banks */
    cr_expect_eq(cs_cim_compute(g, 0, 100, 256, 16, 0, NULL), 1800000);
    cr_expect_eq(host_reserved, 450);
    /* the host is busy far ahead: the macro cannot finish before its bank share is served */
    host_free = 10000000;
    cs_ps end = cs_cim_compute(g, 0, 100, 256, 16, 1800000, NULL);
    cr_expect_eq(end, 10000000 + 450 * 1000);
    cs_cim_group_destroy(g);
    cs_stats_destroy(st);
    cs_cim_prim_free(&p);
}

/* ---- placement sizing --------------------------------------------------------------------- */

static cs_arch_doc *a100(void)
{
    cs_arch_doc *d = NULL;
    cs_err err;
    cs_err_init(&err);
    cr_assert_eq(cs_arch_load("a100", NULL, 0, &d, &err), CS_OK, "%s", err.msg[0]);
    return d;
}

Test(cim, iso_area_iso_capacity_and_explicit_counts)
{
    cs_arch_doc *d = a100();
    struct { const char *spec, *macros; uint32_t want; } cases[] = {
        {"analog6T@rf", "iso-area", 5},      /* 32 KiB / (4 KiB x 1.34) = 5.97 */
        {"analog6T@rf", "iso-capacity", 8},  /* 32 KiB / 4 KiB */
        {"analog8T@rf", NULL, 3},            /* 32 / 8.4 = 3.8 */
        {"digital8T@smem", "iso-area", 14},  /* 64 KiB / (4 KiB x 1.1) = 14.5 */
        {"digital6T@l2", "iso-area", 45},    /* 256 KiB / (4 KiB x 1.4) = 45.7 */
        {"digital6T@l2", "7", 7},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cs_placement pl;
        cs_err err;
        cs_err_init(&err);
        cr_assert_eq(cs_placement_parse(&d->arch, cases[i].spec, cases[i].macros, &pl, &err), CS_OK, "%s",
                     err.msg[0]);
        cr_expect_eq(pl.macros, cases[i].want, "%s %s: got %u", cases[i].spec, cases[i].macros, pl.macros);
        cs_placement_free(&pl);
    }
    cs_arch_doc_destroy(d);
}

Test(cim, placement_errors_are_one_line_and_name_the_option)
{
    cs_arch_doc *d = a100();
    struct { const char *spec, *macros, *needle; } bad[] = {
        {"analog6T", NULL, "--cim: error: expected PRIMITIVE@LEVEL"},
        {"analog6T@l3", NULL, "--cim: error: level: must be rf, smem or l2"},
        {"analog6T@rf", "17", "do not fit a sub-partition register file"},
        {"analog6T@rf", "many", "--macros: error: must be a count"},
        {"nosuch@rf", NULL, "not a built-in primitive"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cs_placement pl;
        cs_err err;
        cs_err_init(&err);
        cr_expect_neq(cs_placement_parse(&d->arch, bad[i].spec, bad[i].macros, &pl, &err), CS_OK);
        cr_expect(err.count == 1 && strstr(err.msg[0], bad[i].needle), "%s: %s", bad[i].spec, err.msg[0]);
    }
    cs_arch_doc_destroy(d);
}

Test(cim, a_placement_shrinks_its_level)
{
    cs_arch_doc *d = a100();
    cs_placement pl;
    cr_assert_eq(cs_placement_parse(&d->arch, "analog6T@smem", "4", &pl, NULL), CS_OK);
    cs_arch b = cs_placement_arch(&pl, &d->arch);
    cr_expect_eq(b.smem.carveout_bytes, d->arch.smem.carveout_bytes - 4 * 4096);
    cs_placement_free(&pl);
    cr_assert_eq(cs_placement_parse(&d->arch, "analog6T@l2", "64", &pl, NULL), CS_OK);
    b = cs_placement_arch(&pl, &d->arch);
    cr_expect_eq(b.l2.size_bytes, d->arch.l2.size_bytes - 80ull * 64 * 4096);
    cs_placement_free(&pl);
    cs_arch_doc_destroy(d);
}

/* ---- simulated behaviours ----------------------------------------------------------------- */

typedef struct outcome {
    uint64_t cycles;
    double cim_write_pj, cim_mac_pj, energy_pj;
    char mapping[200];
} outcome;

static outcome simulate(const char *cim, const char *macros, const char *w, uint32_t dup)
{
    cs_arch_doc *d = a100();
    cs_err err;
    cs_err_init(&err);
    cs_workload *wl = NULL;
    cs_energy_table *et = NULL;
    cs_placement pl;
    cr_assert_eq(cs_workload_load(w, &wl, &err), CS_OK, "%s", err.msg[0]);
    cr_assert_eq(cs_energy_table_load("7nm", &et, &err), CS_OK, "%s", err.msg[0]);
    cr_assert_eq(cs_placement_parse(&d->arch, cim, macros, &pl, &err), CS_OK, "%s", err.msg[0]);
    cs_run_opts o;
    cs_run_opts_init(&o);
    o.cim = &pl;
    o.cim_req.dup = dup;
    o.cim_req.candidates = 1; /* the estimate's mapping: these tests compare mechanisms, not searches */
    cs_result *r = NULL;
    cr_assert_eq(cs_run(d, wl, et, &o, &r, &err), CS_OK, "%s", err.count ? err.msg[0] : "");
    outcome out = {.cycles = r->cycles, .cim_write_pj = r->breakdown_pj[CS_EB_CIM_WRITE],
                   .cim_mac_pj = r->breakdown_pj[CS_EB_CIM_MAC], .energy_pj = r->energy_pj};
    snprintf(out.mapping, sizeof out.mapping, "%s", r->gemms[0].mapping);
    cs_result_destroy(r);
    cs_placement_free(&pl);
    cs_energy_table_destroy(et);
    cs_workload_destroy(wl);
    cs_arch_doc_destroy(d);
    return out;
}

Test(cim, duplication_helps_large_m_and_costs_writes_but_not_for_m_1, .timeout = 300)
{
    /* weights 64 x 256 fill 4 digital6T tiles; each SM has 20 macros */
    outcome one = simulate("digital6T@rf", NULL, "4096,64,256", 1);
    outcome four = simulate("digital6T@rf", NULL, "4096,64,256", 4);
    cr_log_info("M=4096: dup1 %llu cycles (%s), dup4 %llu cycles (%s); write %.0f vs %.0f pJ",
                (unsigned long long)one.cycles, one.mapping, (unsigned long long)four.cycles, four.mapping,
                one.cim_write_pj, four.cim_write_pj);
    cr_expect_lt((double)four.cycles, (double)one.cycles * 0.8, "duplication must cut cycles for large M (%llu vs %llu)",
                 (unsigned long long)four.cycles, (unsigned long long)one.cycles);
    cr_expect_gt(four.cim_write_pj, one.cim_write_pj * 1.5, "duplication writes every copy");
    outcome d1 = simulate("digital6T@rf", NULL, "1,64,256", 1);
    outcome d4 = simulate("digital6T@rf", NULL, "1,64,256", 4);
    cr_log_info("M=1: dup1 %llu cycles, dup4 %llu cycles", (unsigned long long)d1.cycles, (unsigned long long)d4.cycles);
    cr_expect_geq((double)d4.cycles, (double)d1.cycles * 0.98, "one row cannot be split: duplication must not help M = 1");
}

Test(cim, resident_weights_are_written_once_across_repeats, .timeout = 600)
{
    /* The GPT-J decode projection (1 x 4096 x 4096, 16 MiB of INT8 weights) for 128 tokens on
     * analog6T in L2. The mapping spreads the weights over 64 slices, 256 KiB = 64 tiles each:
     * 64 macros per slice hold them (resident), the iso-area 47 do not (rewritten per token). */
    outcome fit1 = simulate("analog6T@l2", "64", "1,4096,4096,1", 0);
    outcome fit128 = simulate("analog6T@l2", "64", "1,4096,4096,128", 0);
    double ratio = fit1.cim_write_pj / (fit128.cim_write_pj / 128);
    cr_log_info("fits: write energy per token %.0f pJ (R=1) vs %.2f pJ (R=128): %.2fx; %s", fit1.cim_write_pj,
                fit128.cim_write_pj / 128, ratio, fit128.mapping);
    cr_expect(ratio > 120 && ratio < 136, "weights that fit are written once: per-token write energy / 128 (got %.3f)",
              ratio);
    outcome no1 = simulate("analog6T@l2", NULL, "1,4096,4096,1", 0);
    outcome no128 = simulate("analog6T@l2", NULL, "1,4096,4096,128", 0);
    double ratio2 = no1.cim_write_pj / (no128.cim_write_pj / 128);
    cr_log_info("does not fit: %.2fx; %s", ratio2, no128.mapping);
    cr_expect(ratio2 > 0.8 && ratio2 < 1.25, "weights that do not fit are rewritten every token (got %.3f)", ratio2);
}

/* A hand-written kernel for the contention test: CTA 0 runs shared-memory loads on 4 warps,
 * CTA 1 runs CiM MACs on one warp, both on SM 0. */
static cs_opsrc *kernel(bool lds, bool cim)
{
    kern *k = kern_new();
    if (lds) {
        kern_add(k, (cs_op){.kind = CS_OP_CTA_BEGIN, .x = 0, .rows = 4, .row_bytes = 32768, .stride = 16});
        for (int i = 0; i < 400; i++)
            for (uint16_t w = 0; w < 4; w++)
                kern_add(k, (cs_op){.kind = CS_OP_LDS, .warp = w, .local = (uint32_t)(w * 8192), .rows = 64,
                               .row_bytes = 64, .stride = 128});
        kern_add(k, (cs_op){.kind = CS_OP_CTA_END, .x = 0});
    }
    if (cim) {
        kern_add(k, (cs_op){.kind = CS_OP_CTA_BEGIN, .x = 1, .rows = 1, .row_bytes = 16384, .stride = 16});
        /* the weights are resident: each macro's tile announces its 60 uses, no data moves */
        for (uint32_t m = 0; m < 4; m++)
            kern_add(k, (cs_op){.kind = CS_OP_CIM_WRITE, .x = m, .flags = CS_OPF_ACCUM, .local = 60});
        for (int i = 0; i < 60; i++)
            for (uint32_t m = 0; m < 4; m++)
                kern_add(k, (cs_op){.kind = CS_OP_CIM_MAC, .x = m, .flags = CS_OPF_FROM_SMEM, .local = 0, .rows = 16,
                               .row_bytes = 256, .stride = 16, .tag = 256});
        for (uint32_t m = 0; m < 4; m++)
            kern_add(k, (cs_op){.kind = CS_OP_CIM_READ, .x = m, .rows = 16, .row_bytes = 64});
        kern_add(k, (cs_op){.kind = CS_OP_CTA_END, .x = 1});
    }
    k->base.streams = &k->info;
    return &k->base;
}

/* Finish times of CTA 0 (loads) and CTA 1 (CiM) when the kernel runs alone on SM 0. */
static void contention_run(bool lds, bool cim, cs_ps *t_lds, cs_ps *t_cim)
{
    cs_arch_doc *d = a100();
    cs_placement pl;
    cs_err err;
    cs_err_init(&err);
    cr_assert_eq(cs_placement_parse(&d->arch, "digital6T@smem", "4", &pl, &err), CS_OK, "%s", err.msg[0]);
    cs_arch b = cs_placement_arch(&pl, &d->arch);
    cs_gpu *g;
    cr_assert_eq(cs_gpu_create(&b, &pl, &g, &err), CS_OK, "%s", err.msg[0]);
    cs_opsrc *src = kernel(lds, cim);
    cs_ps el;
    cr_assert_eq(cs_gpu_run_kernel(g, src, &el, &err), CS_OK, "%s", err.count ? err.msg[0] : "");
    *t_lds = cs_sm_cta_finish_time(cs_gpu_sm(g, 0), 0);
    *t_cim = cs_sm_cta_finish_time(cs_gpu_sm(g, 0), 1);
    cs_opsrc_destroy(src);
    cs_gpu_destroy(g);
    cs_placement_free(&pl);
    cs_arch_doc_destroy(d);
}

Test(cim, shared_banks_slow_both_the_loads_and_the_macros)
{
    cs_ps lds_alone, cim_alone, lds_both, cim_both, dummy;
    contention_run(true, false, &lds_alone, &dummy);
    contention_run(false, true, &dummy, &cim_alone);
    contention_run(true, true, &lds_both, &cim_both);
    cr_log_info("loads alone %llu ps, with CiM %llu ps; CiM alone %llu ps, with loads %llu ps",
                (unsigned long long)lds_alone, (unsigned long long)lds_both, (unsigned long long)cim_alone,
                (unsigned long long)cim_both);
    cr_expect_gt(lds_both, lds_alone + lds_alone / 50, "loads must wait for the banks the macros hold");
    cr_expect_gt(cim_both, cim_alone + cim_alone / 50, "macros must wait for the banks the loads hold");
}

/* ---- the command line --------------------------------------------------------------------- */

Test(cim, www_template_run_lists_dram_smem_cim_mac_and_write, .timeout = 300)
{
    char dir[256];
    tu_tmpdir(dir, sizeof dir);
    char args[1024];
    snprintf(args, sizeof args,
             "run -a %s/arch/www-sm.cfg --cim analog6T@rf --macros 1 --mapping www -w 512,1024,1024 -o r.json -q",
             CIMSIM_SOURCE_DIR);
    cr_assert_eq(tu_run(dir, args), 0, "%s", tu_file(dir, "stderr.txt"));
    json_t *r = tu_json(dir, "r.json");
    cr_assert(r);
    json_t *cim = json_object_get(r, "cim");
    cr_expect_str_eq(json_string_value(json_object_get(cim, "level")), "rf");
    cr_expect_eq(json_integer_value(json_object_get(cim, "macros_total")), 4, "one primitive per sub-partition");
    json_t *g = json_array_get(json_object_get(r, "gemms"), 0);
    json_t *bd = json_object_get(g, "energy_breakdown_pj");
    const char *keys[] = {"dram", "smem", "cim_mac", "cim_write"};
    for (int i = 0; i < 4; i++)
        cr_expect_gt(json_number_value(json_object_get(bd, keys[i])), 0, "%s must be reported", keys[i]);
    json_t *det = json_object_get(json_object_get(g, "mapping"), "details");
    cr_expect_str_eq(json_string_value(json_object_get(det, "executor")), "loopnest");
    json_t *www = json_object_get(det, "www");
    cr_expect_str_eq(json_string_value(json_object_get(www, "cim_array")), "1.4.64");
    cr_expect_str_eq(json_string_value(json_object_get(www, "cim_storage")), "1.16.1");
    /* 32-bit partial sums in the 256 KiB shared memory: M1 = 128, K1 = 4 (the study's 8-bit ones
     * give 512.1.2 and KNM, --compat www) */
    cr_expect_str_eq(json_string_value(json_object_get(www, "above")), "128.1.4");
    cr_expect_str_eq(json_string_value(json_object_get(www, "perm_dram")), "NKM");
    json_decref(r);
    tu_rmdir(dir);
}

Test(cim, compare_writes_every_variant_with_mapping_macros_and_cim_energies, .timeout = 300)
{
    char dir[256];
    tu_tmpdir(dir, sizeof dir);
    cr_assert_eq(tu_run(dir, "compare -w 128,256,256 --levels rf,l2 --primitives analog6T,digital6T -o out -q"), 0,
                 "%s", tu_file(dir, "stderr.txt"));
    json_t *c = tu_json(dir, "out/compare.json");
    cr_assert(c);
    cr_expect_str_eq(json_string_value(json_object_get(c, "schema")), "cimsim-compare/1");
    cr_expect(json_is_null(json_object_get(json_object_get(c, "baseline"), "cim")));
    json_t *vs = json_object_get(c, "variants");
    cr_assert_eq(json_array_size(vs), 4);
    for (size_t i = 0; i < 4; i++) {
        json_t *v = json_array_get(vs, i);
        json_t *cim = json_object_get(v, "cim");
        cr_expect_gt(json_integer_value(json_object_get(cim, "macros")), 0);
        json_t *g = json_array_get(json_object_get(v, "gemms"), 0);
        cr_expect_str_eq(json_string_value(json_object_get(json_object_get(g, "mapping"), "kind")), "cim");
        json_t *bd = json_object_get(g, "energy_breakdown_pj");
        cr_expect(json_object_get(bd, "cim_mac") && json_object_get(bd, "cim_write"));
        cr_expect_gt(json_number_value(json_object_get(bd, "cim_mac")), 0);
    }
    char *out = tu_file(dir, "stdout.txt");
    cr_expect(strstr(out, "speedup") && strstr(out, "digital6T@l2"), "%s", out);
    free(out);
    json_decref(c);
    tu_rmdir(dir);
}

/* Every order and double-buffering choice, with duplication, on shapes whose controllers get
 * unequal shares: each completes (a macro's tiles are written and used in their order, so no
 * MAC sees another round's weights and no write waits forever), and every MAC is counted. */
Test(cim, every_order_and_buffering_completes_with_all_macs, .timeout = 300)
{
    char dir[256];
    tu_tmpdir(dir, sizeof dir);
    const char *cases[] = {"-w 300,700,900 --cim digital8T@smem --dup 4", "-w 512,1024,1024 --cim digital6T@smem",
                           "-w 64,512,2048,3 --cim analog6T@rf", "-w 96,384,640 --cim analog8T@l2 --dup 2"};
    const char *choices[] = {"--order ws --double-buffer off", "--order ws --double-buffer on",
                             "--order os --double-buffer off", "--order os --double-buffer on"};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        for (size_t k = 0; k < 4; k++) {
            char args[512];
            snprintf(args, sizeof args, "run %s %s -o r.json -q", cases[c], choices[k]);
            cr_assert_eq(tu_run(dir, args), 0, "cimsim %s: %s", args, tu_file(dir, "stderr.txt"));
            json_t *r = tu_json(dir, "r.json");
            json_t *t = json_object_get(r, "total");
            json_t *g = json_array_get(json_object_get(r, "gemms"), 0);
            double m = json_number_value(json_object_get(g, "m")), n = json_number_value(json_object_get(g, "n")),
                   kk = json_number_value(json_object_get(g, "k")),
                   rep = json_number_value(json_object_get(g, "repeat"));
            cr_assert_eq(json_number_value(json_object_get(t, "macs")), m * n * kk * rep, "%s", args);
            json_decref(r);
        }
    tu_rmdir(dir);
}

/* test_energy — energy/area tables and their evaluation (sim/core/energy.h): the built-in 45 nm
 * and 7 nm tables (complete vocabulary, sources, 7 nm consistent with 45 nm and the scaling
 * equations), Stillmaker-Baas factors against hand-computed values, building and cloning,
 * coverage in both directions, evaluation figures computed by hand, exact sums under
 * quantisation, table files written and read back, and malformed tables with their exact
 * FILE:LINE messages. Data files live in tests/data/energy/. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "energy.h"
#include "stats.h"

#define DATA CIMSIM_SOURCE_DIR "/tests/data/energy"

static cs_energy_table *load_ok(const char *spec)
{
    cs_err err;
    cs_err_init(&err);
    cs_energy_table *t = NULL;
    cs_status st = cs_energy_table_load(spec, &t, &err);
    cr_assert_eq(st, CS_OK, "loading %s: %s", spec, err.count ? err.msg[0] : "?");
    cr_assert_not_null(t);
    return t;
}

static double lookup(const cs_energy_table *t, const char *cls, const char *action)
{
    double pj = -1;
    cr_assert_eq(cs_energy_lookup(t, cls, action, &pj), CS_OK, "%s.%s missing", cls, action);
    return pj;
}

/* ---- built-in tables ---------------------------------------------------------------------- */

/* opreg: whether the table has the optional PE-array class (two actions, one instance). */
static void check_complete(const cs_energy_table *t, bool opreg)
{
    for (size_t c = 0; cs_energy_vocab_class(c); c++) {
        const char *cls = cs_energy_vocab_class(c);
        if (cs_energy_vocab_optional(cls))
            continue; /* cim: added from the primitive's file; opreg: the PE array's, optional */
        for (const char *const *a = cs_energy_vocab_actions(cls); *a; a++) {
            double pj = lookup(t, cls, *a);
            cr_assert(pj >= 0 && isfinite(pj), "%s.%s = %g", cls, *a, pj);
        }
    }
    /* Every entry (actions and instances) names its source. */
    size_t n = cs_energy_entry_count(t), instances = 0;
    for (size_t i = 0; i < n; i++) {
        const char *cls, *action, *src;
        double pj, leak, area;
        cs_energy_entry_get(t, i, &cls, &action, &pj, &leak, &area, &src);
        cr_assert(src && strlen(src) > 3, "%s.%s has no source", cls, action ? action : "(instance)");
        if (!action) {
            instances++;
            cr_assert(leak >= 0 && area >= 0);
        }
    }
    cr_assert_eq(instances, 6 + opreg, "one instance entry per class except cim");
    cr_assert_eq(n, 15 + 6 + 3 * opreg, "15 actions + 6 instance entries (+ opreg's 2 and 1)");
}

Test(energy, builtin_45nm_is_complete_and_holds_the_www_values)
{
    cs_energy_table *t = load_ok("45nm");
    cr_assert_str_eq(cs_energy_table_name(t), "45nm");
    cr_assert_str_eq(cs_energy_table_version(t), "1");
    cr_assert_eq(cs_energy_table_node_nm(t), 45.0);
    cr_assert_str_eq(cs_energy_table_origin(t), "builtin:arch/energy/45nm.cfg");
    check_complete(t, true);
    cr_assert_float_eq(lookup(t, "opreg", "read"), 0.019007, 1e-9);
    /* reference/www-template.md: 512 pJ per 64 bits x 4; 124.70 / 118.03 pJ per 32 B;
     * 11.39 / 11.47 pJ per byte x 4; 0.2625 pJ per MAC; leakage per cycle at 1 GHz = mW. */
    cr_assert_eq(lookup(t, "dram", "rd"), 2048.0);
    cr_assert_eq(lookup(t, "dram", "wr"), 2048.0);
    cr_assert_eq(lookup(t, "smem", "read"), 124.70);
    cr_assert_eq(lookup(t, "smem", "write"), 118.03);
    cr_assert_eq(lookup(t, "rf", "read"), 45.56);
    cr_assert_eq(lookup(t, "rf", "write"), 45.88);
    cr_assert_eq(lookup(t, "tensor_core", "mac_int8"), 0.2625);
    cr_assert_eq(cs_energy_leak_mw(t, "smem"), 0.0079);
    cr_assert_eq(cs_energy_leak_mw(t, "rf"), 0.0102);
    cr_assert_eq(cs_energy_leak_mw(t, "tensor_core"), 0.768); /* 256 MACs x 0.003 */
    cs_energy_table_destroy(t);
}

Test(energy, builtin_7nm_is_complete_and_consistent_with_45nm)
{
    cs_energy_table *t7 = load_ok("7nm"), *t45 = load_ok("builtin:arch/energy/45nm.cfg");
    cr_assert_str_eq(cs_energy_table_name(t7), "7nm");
    cr_assert_eq(cs_energy_table_node_nm(t7), 7.0);
    check_complete(t7, false);
    /* Entries scaled from 45 nm: 7 nm = 45 nm x SB factor, written with 4 significant digits. */
    static const char *const scaled[][2] = {
        {"l2", "tag"},   {"l2", "read"},          {"l2", "write"},          {"smem", "read"},
        {"smem", "write"}, {"rf", "read"},        {"rf", "write"},          {"tensor_core", "mac_int8"},
        {"tensor_core", "mac_fp16"},
    };
    double f = cs_energy_scale_energy(45, 7);
    for (size_t i = 0; i < sizeof scaled / sizeof scaled[0]; i++) {
        double want = lookup(t45, scaled[i][0], scaled[i][1]) * f;
        double got = lookup(t7, scaled[i][0], scaled[i][1]);
        cr_assert(fabs(got - want) <= 5e-4 * want, "%s.%s: %g, want %g", scaled[i][0],
                  scaled[i][1], got, want);
    }
    cr_assert(fabs(cs_energy_leak_mw(t7, "l2") - cs_energy_leak_mw(t45, "l2") * f) <=
              5e-4 * cs_energy_leak_mw(t7, "l2"));
    /* HBM2 (DRAMsim3 HBM2_8Gb_x128 IDD model), per 32-byte pseudo-channel burst. */
    cr_assert_eq(lookup(t7, "dram", "act"), 1.2 * (65 * 48 - (55 * 34 + 40 * 14)));
    cr_assert_eq(lookup(t7, "dram", "rd"), 1.2 * (390 - 55) * 2 / 2);
    cr_assert_eq(lookup(t7, "dram", "wr"), 1.2 * (500 - 55) * 2 / 2);
    cr_assert_eq(cs_energy_leak_mw(t7, "dram"), 24.0);
    /* Crossbar: 256 bits x 10 mm x 0.5 x 0.2 pF/mm x V^2 at 1.0 V and 0.7 V. */
    cr_assert_eq(lookup(t45, "noc", "flit"), 256.0);
    cr_assert(fabs(lookup(t7, "noc", "flit") - 256.0 * 0.49) < 1e-9);
    cs_energy_table_destroy(t7);
    cs_energy_table_destroy(t45);
}

Test(energy, unknown_builtin_lists_the_tables)
{
    cs_err err;
    cs_err_init(&err);
    cs_energy_table *t = (cs_energy_table *)1;
    cr_assert_eq(cs_energy_table_load("5nm", &t, &err), CS_NOT_FOUND);
    cr_assert_null(t);
    cr_assert_str_eq(err.msg[0], "5nm: error: no such energy table (built-in tables: 45nm, 7nm; "
                                 "or give a path to a table file)");
}

/* ---- scaling ------------------------------------------------------------------------------ */

Test(energy, stillmaker_baas_energy_factors)
{
    /* E(node) = a2 V^2 + a1 V + a0 at nominal V (Table 5, HP fits):
     *   45 nm, 1.0 V: 1.018 - 0.3107 + 0.1539                  = 0.8612
     *    7 nm, 0.7 V: 0.1776 x 0.49 - 0.09097 x 0.7 + 0.02447   = 0.047815
     *   32 nm, 0.9 V: 0.8367 x 0.81 - 0.4341 x 0.9 + 0.1701     = 0.457137 (the paper's erratum
     *                 example gives 0.4571)
     *   65 nm, 1.1 V: 3.755 x 1.21 - 4.398 x 1.1 + 1.975        = 1.68075 */
    cr_assert_float_eq(cs_energy_scale_energy(45, 7), 0.047815 / 0.8612, 1e-12);
    cr_assert_float_eq(cs_energy_scale_energy(45, 7), 0.0555213655, 1e-9);
    cr_assert_float_eq(cs_energy_scale_energy(7, 45), 0.8612 / 0.047815, 1e-9);
    cr_assert_float_eq(cs_energy_scale_energy(45, 32), 0.457137 / 0.8612, 1e-12);
    cr_assert_float_eq(cs_energy_scale_energy(65, 45), 0.8612 / 1.68075, 1e-12);
    cr_assert_eq(cs_energy_scale_energy(45, 45), 1.0);
    cr_assert_eq(cs_energy_scale_energy(7, 7), 1.0);
    /* Between nodes: log-linear, so 28 nm lies between 32 and 20 nm. */
    double e28 = cs_energy_scale_energy(45, 28);
    cr_assert(e28 < cs_energy_scale_energy(45, 32) && e28 > cs_energy_scale_energy(45, 20));
    cr_assert_float_eq(e28, 0.4201744567, 1e-9);
    /* Outside 7..180 nm: NaN. */
    cr_assert(isnan(cs_energy_scale_energy(45, 5)));
    cr_assert(isnan(cs_energy_scale_energy(250, 45)));
}

Test(energy, stillmaker_baas_area_factors)
{
    /* Table 3, row = from, column = to. */
    cr_assert_eq(cs_energy_scale_area(45, 7), 0.059);
    cr_assert_eq(cs_energy_scale_area(7, 45), 17.0);
    cr_assert_eq(cs_energy_scale_area(65, 45), 0.66);
    cr_assert_eq(cs_energy_scale_area(180, 7), 0.0032);
    cr_assert_eq(cs_energy_scale_area(45, 45), 1.0);
    double a28 = cs_energy_scale_area(45, 28);
    cr_assert(a28 < 0.46 && a28 > 0.21, "45->28 nm between 45->32 and 45->20 (got %g)", a28);
    cr_assert(isnan(cs_energy_scale_area(3, 45)));
}

/* ---- building, scaling entries, cloning ---------------------------------------------------- */

Test(energy, set_action_and_instance_scale_to_the_table_node)
{
    cs_energy_table *t = cs_energy_table_new("mem", "9", 7);
    cs_energy_set_action(t, "cim", "mac", 0.15, 45, "analog6T (WWW)");
    cs_energy_set_action(t, "cim", "write", 1.9, 0, "at 7 nm already");
    cs_energy_set_instance(t, "cim", 2.0, 0.5, 45, "macro");
    double f = cs_energy_scale_energy(45, 7);
    cr_assert_eq(lookup(t, "cim", "mac"), 0.15 * f);
    cr_assert_eq(lookup(t, "cim", "write"), 1.9);
    cr_assert_eq(cs_energy_leak_mw(t, "cim"), 2.0 * f);
    cr_assert_eq(cs_energy_area_mm2(t, "cim"), 0.5 * 0.059);
    const char *src;
    cs_energy_entry_get(t, 0, NULL, NULL, NULL, NULL, NULL, &src);
    cr_assert_str_eq(src, "analog6T (WWW) [scaled 45->7 nm: x0.05552]");
    cs_energy_entry_get(t, 2, NULL, NULL, NULL, NULL, NULL, &src);
    cr_assert_str_eq(src, "leakage: macro [leakage scaled 45->7 nm: x0.05552]; area: macro [area "
                          "scaled 45->7 nm: x0.059]");
    /* Replacing keeps one entry. */
    cs_energy_set_action(t, "cim", "mac", 0.5, 0, "again");
    cr_assert_eq(cs_energy_entry_count(t), 3);
    cr_assert_eq(lookup(t, "cim", "mac"), 0.5);
    /* Unknown entries. */
    double pj;
    cr_assert_eq(cs_energy_lookup(t, "smem", "read", &pj), CS_NOT_FOUND);
    cr_assert_eq(cs_energy_leak_mw(t, "smem"), 0.0);
    cr_assert_eq(cs_energy_area_mm2(t, "nothing"), 0.0);
    cs_energy_table_destroy(t);
}

Test(energy, clone_is_deep)
{
    cs_energy_table *t = load_ok("45nm");
    cs_energy_table *c = cs_energy_table_clone(t);
    cs_energy_set_action(c, "smem", "read", 1.0, 0, "changed");
    cs_energy_set_action(c, "cim", "mac", 0.15, 0, "added");
    cr_assert_eq(lookup(t, "smem", "read"), 124.70);
    cr_assert_eq(lookup(c, "smem", "read"), 1.0);
    cr_assert_eq(cs_energy_entry_count(c), cs_energy_entry_count(t) + 1);
    cr_assert_str_eq(cs_energy_table_name(c), "45nm");
    cr_assert_str_eq(cs_energy_table_description(c), cs_energy_table_description(t));
    cs_energy_table_destroy(t);
    cs_energy_table_destroy(c);
    cs_energy_table_destroy(NULL);
}

Test(energy, vocabulary)
{
    cr_assert_str_eq(cs_energy_vocab_class(0), "dram");
    cr_assert_str_eq(cs_energy_vocab_class(6), "cim");
    cr_assert_str_eq(cs_energy_vocab_class(7), "opreg");
    cr_assert_null(cs_energy_vocab_class(8));
    cr_assert(cs_energy_vocab_optional("cim") && cs_energy_vocab_optional("opreg"));
    cr_assert(!cs_energy_vocab_optional("rf") && !cs_energy_vocab_optional("gpu"));
    const char *const *a = cs_energy_vocab_actions("dram");
    cr_assert_str_eq(a[0], "act");
    cr_assert_str_eq(a[4], "ref");
    cr_assert_null(a[5]);
    cr_assert_null(cs_energy_vocab_actions("gpu"));
    cr_assert_str_eq(cs_eb_name(CS_EB_CIM_WRITE), "cim_write");
    cr_assert_str_eq(cs_el_name(CS_EL_COMPUTE), "compute");
    cr_assert_null(cs_eb_name(CS_EB_COUNT));
}

/* ---- a small registry ---------------------------------------------------------------------- */

typedef struct counters {
    uint64_t smem_rd[2], smem_wr[2], dram_rd, dram_act, tc_int8, cim_mac, cim_wr;
} counters;

static cs_stats *registry(counters *c, bool with_cim)
{
    cs_stats *s = cs_stats_create();
    cs_stats_action(s, "gpu.sm0.smem.read", "32B", "reads", &c->smem_rd[0], "smem", "read");
    cs_stats_action(s, "gpu.sm0.smem.write", "32B", "writes", &c->smem_wr[0], "smem", "write");
    cs_stats_action(s, "gpu.sm1.smem.read", "32B", "reads", &c->smem_rd[1], "smem", "read");
    cs_stats_action(s, "gpu.sm1.smem.write", "32B", "writes", &c->smem_wr[1], "smem", "write");
    cs_stats_action(s, "gpu.hbm.ch0.rd", "bursts", "reads", &c->dram_rd, "dram", "rd");
    cs_stats_action(s, "gpu.hbm.ch0.act", "commands", "acts", &c->dram_act, "dram", "act");
    cs_stats_action(s, "gpu.sm0.tc.mac_int8", "MACs", "macs", &c->tc_int8, "tensor_core",
                    "mac_int8");
    cs_stats_instance(s, "smem", "gpu.sm0.smem");
    cs_stats_instance(s, "smem", "gpu.sm1.smem");
    cs_stats_instance(s, "dram", "gpu.hbm.ch0");
    cs_stats_instance(s, "tensor_core", "gpu.sm0.sub0");
    if (with_cim) {
        cs_stats_action(s, "gpu.sm0.cim0.mac", "MACs", "macs", &c->cim_mac, "cim", "mac");
        cs_stats_action(s, "gpu.sm0.cim0.write", "writes", "writes", &c->cim_wr, "cim", "write");
        cs_stats_instance(s, "cim", "gpu.sm0.cim0");
    }
    return s;
}

/* A table covering exactly the registry above, with round figures. */
static cs_energy_table *exact_table(void)
{
    cs_energy_table *t = cs_energy_table_new("exact", "1", 45);
    cs_energy_set_action(t, "smem", "read", 5, 0, "t");
    cs_energy_set_action(t, "smem", "write", 6, 0, "t");
    cs_energy_set_action(t, "dram", "rd", 1000, 0, "t");
    cs_energy_set_action(t, "dram", "act", 100, 0, "t");
    cs_energy_set_action(t, "tensor_core", "mac_int8", 0.25, 0, "t");
    cs_energy_set_instance(t, "smem", 0.25, 0.5, 0, "t");
    cs_energy_set_instance(t, "dram", 2, 0, 0, "t");
    cs_energy_set_instance(t, "tensor_core", 1, 0.125, 0, "t");
    return t;
}

Test(energy, coverage_catches_both_directions)
{
    counters c = {0};
    cs_stats *s = registry(&c, true);
    cs_energy_table *t = exact_table();
    cs_err err;
    cs_err_init(&err);
    /* cim is counted but has no entries; an smem entry no counter registers. */
    cs_energy_set_action(t, "smem", "read", 5, 0, "t");
    cs_energy_set_action(t, "l2", "tag", 1, 0, "t"); /* l2 is not in use: not reported */
    cs_energy_table *t2 = cs_energy_table_clone(t);
    cr_assert_eq(cs_energy_check_coverage(t, s, &err), CS_INVALID);
    cr_assert_eq(err.count, 3);
    cr_assert_str_eq(err.msg[0], "energy table exact: error: no entry for action cim.mac (counted "
                                 "by gpu.sm0.cim0.mac)");
    cr_assert_str_eq(err.msg[1], "energy table exact: error: no entry for action cim.write "
                                 "(counted by gpu.sm0.cim0.write)");
    cr_assert_str_eq(err.msg[2], "energy table exact: error: no leakage/area entry for class cim "
                                 "(instance gpu.sm0.cim0)");
    /* The other direction: dram.wr has an entry but dram counts only rd and act. */
    cs_energy_set_action(t2, "cim", "mac", 0.1, 0, "t");
    cs_energy_set_action(t2, "cim", "write", 1, 0, "t");
    cs_energy_set_instance(t2, "cim", 0, 0.01, 0, "t");
    cs_energy_set_action(t2, "dram", "wr", 1000, 0, "t");
    cs_err_init(&err);
    cr_assert_eq(cs_energy_check_coverage(t2, s, &err), CS_INVALID);
    cr_assert_eq(err.count, 1);
    cr_assert_str_eq(err.msg[0], "energy table exact: error: entry dram.wr names no registered "
                                 "action");
    /* Complete both ways. */
    cs_stats *s2 = registry(&c, false);
    cs_err_init(&err);
    cr_assert_eq(cs_energy_check_coverage(t, s2, &err), CS_OK, "%s", err.msg[0]);
    cs_energy_table_destroy(t);
    cs_energy_table_destroy(t2);
    cs_stats_destroy(s);
    cs_stats_destroy(s2);
}

Test(energy, builtin_tables_cover_the_registry)
{
    counters c = {0};
    cs_stats *s = registry(&c, false);
    cs_err err;
    cs_err_init(&err);
    cs_energy_table *t = load_ok("7nm");
    /* The built-in tables have every dram action; the small registry counts two of them. */
    cr_assert_eq(cs_energy_check_coverage(t, s, &err), CS_INVALID);
    cr_assert_eq(err.count, 4); /* dram pre, wr, ref; tensor_core mac_fp16 */
    cs_energy_table_destroy(t);
    cs_stats_destroy(s);
}

/* ---- evaluation ---------------------------------------------------------------------------- */

Test(energy, eval_hand_computed)
{
    counters c = {.smem_rd = {10, 20}, .smem_wr = {3, 4}, .dram_rd = 7, .dram_act = 2,
                  .tc_int8 = 1000};
    cs_stats *s = registry(&c, false);
    cs_energy_table *t = exact_table();
    cs_energy_report r;
    cs_err err;
    cs_err_init(&err);
    /* 1 us: leakage = mW x 1e-6 s = mW x 1e3 pJ per instance. */
    cr_assert_eq(cs_energy_eval(t, s, NULL, 1e-6, &r, &err), CS_OK, "%s", err.msg[0]);
    /* smem: (10 + 20) x 5 + (3 + 4) x 6 = 150 + 42 = 192 pJ
     * dram: 7 x 1000 + 2 x 100 = 7200 pJ; tensor core: 1000 x 0.25 = 250 pJ
     * leakage: 2 x 0.25 mW (smem) + 2 mW (dram) + 1 mW (tc) = 3.5 mW x 1 us = 3500 pJ */
    cr_assert_eq(r.breakdown_pj[CS_EB_SMEM], 192.0);
    cr_assert_eq(r.breakdown_pj[CS_EB_DRAM], 7200.0);
    cr_assert_eq(r.breakdown_pj[CS_EB_TENSOR_CORE], 250.0);
    cr_assert_eq(r.breakdown_pj[CS_EB_LEAKAGE], 3500.0);
    cr_assert_eq(r.breakdown_pj[CS_EB_L2], 0.0);
    cr_assert_eq(r.dynamic_pj, 7642.0);
    cr_assert_eq(r.leakage_pj, 3500.0);
    cr_assert_eq(r.total_pj, 11142.0);
    /* Levels: leakage goes to its instance's level. */
    cr_assert_eq(r.level_pj[CS_EL_SMEM], 192.0 + 500.0);
    cr_assert_eq(r.level_pj[CS_EL_DRAM], 7200.0 + 2000.0);
    cr_assert_eq(r.level_pj[CS_EL_COMPUTE], 250.0 + 1000.0);
    cr_assert_eq(r.area_mm2, 0.5 + 0.5 + 0 + 0.125);
    /* Items: one per (class, action), in registration order, counts summed over instances. */
    cr_assert_eq(r.nitems, 5);
    cr_assert_str_eq(r.items[0].cls, "smem");
    cr_assert_str_eq(r.items[0].action, "read");
    cr_assert_eq(r.items[0].count, 30);
    cr_assert_eq(r.items[0].pj_each, 5.0);
    cr_assert_eq(r.items[0].pj, 150.0);
    cr_assert_str_eq(r.items[4].cls, "tensor_core");
    cs_energy_report_free(&r);
    cs_energy_table_destroy(t);
    cs_stats_destroy(s);
}

Test(energy, eval_with_cim_and_snapshots)
{
    counters c = {.cim_mac = 100, .cim_wr = 5};
    cs_stats *s = registry(&c, true);
    cs_energy_table *t = exact_table();
    cs_energy_set_action(t, "cim", "mac", 0.5, 0, "t");
    cs_energy_set_action(t, "cim", "write", 2, 0, "t");
    cs_energy_set_instance(t, "cim", 0, 0.25, 0, "t");
    cs_stats_snap *before = cs_stats_snapshot(s);
    c.cim_mac += 40;
    c.cim_wr += 1;
    c.smem_rd[1] += 2;
    cs_stats_snap *after = cs_stats_snapshot(s);
    cs_stats_snap *d = cs_stats_snap_delta(s, after, before);
    c.cim_mac += 1000; /* after the snapshot: not counted */
    cs_energy_report r;
    cs_err err;
    cs_err_init(&err);
    cr_assert_eq(cs_energy_eval(t, s, d, 0, &r, &err), CS_OK, "%s", err.msg[0]);
    cr_assert_eq(r.breakdown_pj[CS_EB_CIM_MAC], 40 * 0.5);
    cr_assert_eq(r.breakdown_pj[CS_EB_CIM_WRITE], 2.0);
    cr_assert_eq(r.breakdown_pj[CS_EB_SMEM], 10.0);
    cr_assert_eq(r.level_pj[CS_EL_CIM], 22.0);
    cr_assert_eq(r.leakage_pj, 0.0);
    cr_assert_eq(r.total_pj, 32.0);
    cr_assert_eq(r.area_mm2, 0.5 + 0.5 + 0.125 + 0.25);
    cs_energy_report_free(&r);
    cs_stats_snap_free(before);
    cs_stats_snap_free(after);
    cs_stats_snap_free(d);
    cs_energy_table_destroy(t);
    cs_stats_destroy(s);
}

Test(energy, eval_fails_without_an_entry)
{
    counters c = {.cim_mac = 1};
    cs_stats *s = registry(&c, true);
    cs_energy_table *t = exact_table();
    cs_energy_report r;
    cs_err err;
    cs_err_init(&err);
    cr_assert_eq(cs_energy_eval(t, s, NULL, 0, &r, &err), CS_INVALID);
    cr_assert_eq(err.count, 2);
    cr_assert_str_eq(err.msg[0], "energy table exact: error: no entry for action cim.mac (counted "
                                 "by gpu.sm0.cim0.mac)");
    cr_assert_null(r.items);
    cs_energy_table_destroy(t);
    cs_stats_destroy(s);
}

Test(energy, quantisation_makes_every_split_add_up_exactly)
{
    cr_assert_eq(cs_energy_quantise(0.3), 19.0 / 64);  /* 19.2 / 64 */
    cr_assert_eq(cs_energy_quantise(1.0 / 3), 21.0 / 64); /* 21.33 / 64 */
    cr_assert_eq(cs_energy_quantise(5.0), 5.0);
    /* Awkward per-action figures (no short binary fraction) and counts, and awkward time. */
    counters c = {.smem_rd = {12345, 6789}, .smem_wr = {1111, 3}, .dram_rd = 77777,
                  .dram_act = 4321, .tc_int8 = 987654321};
    cs_stats *s = registry(&c, false);
    cs_energy_table *t = load_ok("7nm");
    cs_energy_report r;
    cs_err err;
    cs_err_init(&err);
    cr_assert_eq(cs_energy_eval(t, s, NULL, 1.2345678e-3, &r, &err), CS_OK, "%s", err.msg[0]);
    double sum_b = 0, sum_l = 0;
    for (int i = 0; i < CS_EB_COUNT; i++) {
        cr_assert_eq(r.breakdown_pj[i] * 64, floor(r.breakdown_pj[i] * 64), "multiple of 2^-6");
        sum_b += r.breakdown_pj[i];
    }
    for (int i = CS_EL_COUNT - 1; i >= 0; i--) /* any order: the sums are exact */
        sum_l += r.level_pj[i];
    cr_assert_eq(sum_b, r.total_pj);
    cr_assert_eq(sum_l, r.total_pj);
    cr_assert_eq(r.dynamic_pj + r.leakage_pj, r.total_pj);
    /* tensor core: quantise(987654321 x 0.01457) */
    cr_assert_eq(r.breakdown_pj[CS_EB_TENSOR_CORE], cs_energy_quantise(987654321 * 0.01457));
    cs_energy_report_free(&r);
    cs_energy_table_destroy(t);
    cs_stats_destroy(s);
}

Test(energy, eval_is_deterministic)
{
    counters c = {.smem_rd = {3, 5}, .dram_rd = 11, .tc_int8 = 13};
    cs_stats *s = registry(&c, false);
    cs_energy_table *t = load_ok("45nm");
    cs_energy_report a, b;
    cs_err err;
    cs_err_init(&err);
    cr_assert_eq(cs_energy_eval(t, s, NULL, 1e-3, &a, &err), CS_OK);
    cr_assert_eq(cs_energy_eval(t, s, NULL, 1e-3, &b, &err), CS_OK);
    cr_assert_eq(memcmp(a.breakdown_pj, b.breakdown_pj, sizeof a.breakdown_pj), 0);
    cr_assert_eq(memcmp(a.level_pj, b.level_pj, sizeof a.level_pj), 0);
    cr_assert_eq(a.total_pj, b.total_pj);
    cs_energy_report_free(&a);
    cs_energy_report_free(&b);
    cs_energy_table_destroy(t);
    cs_stats_destroy(s);
}

/* ---- table files ----------------------------------------------------------------------------- */

static void assert_same_tables(const cs_energy_table *a, const cs_energy_table *b)
{
    cr_assert_str_eq(cs_energy_table_name(a), cs_energy_table_name(b));
    cr_assert_str_eq(cs_energy_table_version(a), cs_energy_table_version(b));
    cr_assert_str_eq(cs_energy_table_description(a), cs_energy_table_description(b));
    cr_assert_eq(cs_energy_table_node_nm(a), cs_energy_table_node_nm(b));
    cr_assert_eq(cs_energy_entry_count(a), cs_energy_entry_count(b));
    for (size_t i = 0; i < cs_energy_entry_count(a); i++) {
        const char *c1, *a1, *s1, *c2, *a2, *s2;
        double p1, l1, r1, p2, l2, r2;
        cs_energy_entry_get(a, i, &c1, &a1, &p1, &l1, &r1, &s1);
        cs_energy_entry_get(b, i, &c2, &a2, &p2, &l2, &r2, &s2);
        cr_assert_str_eq(c1, c2);
        cr_assert((a1 == NULL) == (a2 == NULL));
        if (a1)
            cr_assert_str_eq(a1, a2);
        cr_assert_eq(p1, p2, "%s.%s: %.17g vs %.17g", c1, a1 ? a1 : "-", p1, p2);
        cr_assert_eq(l1, l2);
        cr_assert_eq(r1, r2);
        cr_assert_str_eq(s1, s2);
    }
}

static cs_energy_table *write_and_reload(const cs_energy_table *t, const char *path)
{
    cs_buf b;
    cs_buf_init(&b);
    cs_energy_table_write_cfg(t, &b);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(b.data, f);
    fclose(f);
    cs_buf_free(&b);
    return load_ok(path);
}

Test(energy, written_table_reads_back_identically)
{
    char dir[] = "/tmp/cimsim-energy-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/t.cfg", dir);
    const char *const specs[] = {"45nm", "7nm"};
    for (size_t i = 0; i < 2; i++) {
        cs_energy_table *t = load_ok(specs[i]);
        cs_energy_table *u = write_and_reload(t, path);
        assert_same_tables(t, u);
        cs_energy_table_destroy(t);
        cs_energy_table_destroy(u);
    }
    /* Figures with no short decimal, quotes in sources, a CiM class with a scaled source. */
    cs_energy_table *t = load_ok("7nm");
    cs_energy_set_action(t, "smem", "read", 1.0 / 3, 0, "a \"quoted\" \\ source");
    cs_energy_set_action(t, "cim", "mac", 0.15, 45, "analog6T");
    cs_energy_set_action(t, "cim", "write", 1e-9, 0, "tiny");
    cs_energy_set_instance(t, "cim", 0.001, 123456.789, 45, "macro");
    cs_energy_table_set_description(t, "line one\nline two");
    cs_energy_table *u = write_and_reload(t, path);
    /* The loader puts entries in vocabulary order: rebuild t's order the same way. */
    cr_assert_eq(cs_energy_entry_count(u), cs_energy_entry_count(t));
    double pj;
    cr_assert_eq(cs_energy_lookup(u, "smem", "read", &pj), CS_OK);
    cr_assert_eq(pj, 1.0 / 3);
    cr_assert_eq(cs_energy_lookup(u, "cim", "mac", &pj), CS_OK);
    cr_assert_eq(pj, 0.15 * cs_energy_scale_energy(45, 7));
    cr_assert_eq(cs_energy_lookup(u, "cim", "write", &pj), CS_OK);
    cr_assert_eq(pj, 1e-9);
    cr_assert_eq(cs_energy_area_mm2(u, "cim"), 123456.789 * 0.059);
    cr_assert_eq(cs_energy_leak_mw(u, "cim"), 0.001 * cs_energy_scale_energy(45, 7));
    cr_assert_str_eq(cs_energy_table_description(u), "line one\nline two");
    cs_energy_table *v = write_and_reload(u, path);
    assert_same_tables(u, v);
    cs_energy_table_destroy(t);
    cs_energy_table_destroy(u);
    cs_energy_table_destroy(v);
    unlink(path);
    rmdir(dir);
}

/* ---- malformed tables ------------------------------------------------------------------------ */

static void expect_error(const char *file, const char *msg)
{
    cr_assert_eq(chdir(DATA), 0);
    cs_err err;
    cs_err_init(&err);
    cs_energy_table *t = NULL;
    cr_assert_neq(cs_energy_table_load(file, &t, &err), CS_OK, "%s loaded", file);
    cr_assert_null(t);
    cr_assert_eq(err.count, 1, "%s: %d messages, first: %s", file, err.count, err.msg[0]);
    cr_assert_str_eq(err.msg[0], msg);
}

Test(energy, minimal_table_loads)
{
    cr_assert_eq(chdir(DATA), 0);
    cs_energy_table *t = load_ok("minimal.cfg");
    cr_assert_str_eq(cs_energy_table_name(t), "test");
    cr_assert_eq(lookup(t, "dram", "ref"), 5000.0); /* "5nJ" */
    cr_assert_str_eq(cs_energy_table_origin(t), "minimal.cfg");
    cs_energy_table_destroy(t);
}

Test(energy, malformed_missing_action)
{
    expect_error("missing_action.cfg",
                 "missing_action.cfg:8: error: energy_table.dram.actions.ref: missing action "
                 "(class dram needs act, pre, rd, wr, ref)");
}

Test(energy, malformed_negative_energy)
{
    expect_error("negative.cfg", "negative.cfg:36: error: energy_table.smem.actions.read.energy: "
                                 "bad energy: must not be negative (got \"-5pJ\")");
}

Test(energy, malformed_unknown_unit)
{
    expect_error("bad_unit.cfg", "bad_unit.cfg:44: error: energy_table.rf.actions.read.energy: "
                                 "bad unit: unknown unit 'pj' (got \"0.1pj\")");
}

Test(energy, malformed_unknown_class)
{
    expect_error("unknown_class.cfg",
                 "unknown_class.cfg:50: error: energy_table.gpu_core: unknown key (valid keys: "
                 "name, version, technology_nm, description, dram, l2, noc, smem, rf, "
                 "tensor_core, cim, opreg)");
}

Test(energy, malformed_unknown_action)
{
    expect_error("unknown_action.cfg",
                 "unknown_action.cfg:23: error: energy_table.l2.actions.evict: unknown action of "
                 "class l2 (its actions: tag, read, write)");
}

Test(energy, not_a_table_file)
{
    cs_err err;
    cs_err_init(&err);
    cs_energy_table *t = NULL;
    cr_assert_eq(chdir(CIMSIM_SOURCE_DIR "/tests/data/cfg"), 0);
    cr_assert_eq(cs_energy_table_load("three.cfg", &t, &err), CS_INVALID);
    cr_assert_null(t);
    cr_assert(strstr(err.msg[0], "unknown key") || strstr(err.msg[0], "energy_table"), "%s",
              err.msg[0]);
}

Test(energy, no_leaks)
{
    long before = cs_alloc_live_blocks();
    cs_energy_table *t = load_ok("7nm");
    cs_energy_table *c = cs_energy_table_clone(t);
    cs_energy_set_instance(c, "cim", 1, 1, 45, "x");
    cs_energy_table_destroy(c);
    cs_energy_table_destroy(t);
    cs_err err;
    cs_err_init(&err);
    cr_assert_eq(chdir(DATA), 0);
    cs_energy_table *bad = NULL;
    cr_assert_neq(cs_energy_table_load("unknown_action.cfg", &bad, &err), CS_OK);
    cr_assert_eq(cs_alloc_live_blocks(), before);
}

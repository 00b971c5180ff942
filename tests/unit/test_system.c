/* test_system — the GPU as built from the shipped architectures: every action a model counts
 * has an entry in the energy table that goes with it and every table entry is counted (with
 * and without CiM placements), and the runner's end-of-run invariants do fail a run whose
 * figures do not add up. */
#include <criterion/criterion.h>

#include "alloc.h"
#include "arch.h"
#include "energy.h"
#include "gpu.h"
#include "placement.h"
#include "run.h"
#include "workload.h"

static cs_arch_doc *load_arch(const char *name)
{
    cs_err err;
    cs_err_init(&err);
    cs_arch_doc *d = NULL;
    cr_assert_eq(cs_arch_load(name, NULL, 0, &d, &err), CS_OK, "%s", err.count ? err.msg[0] : "");
    return d;
}

static cs_energy_table *load_table(const char *name)
{
    cs_err err;
    cs_err_init(&err);
    cs_energy_table *t = NULL;
    cr_assert_eq(cs_energy_table_load(name, &t, &err), CS_OK, "%s", err.count ? err.msg[0] : "");
    return t;
}

/* Builds the GPU (with the placement spec and macro count, or none) and checks the table's coverage of it. */
static void coverage(const char *arch, const char *table, const char *cim, const char *macros)
{
    cs_arch_doc *d = load_arch(arch);
    cs_energy_table *t = load_table(table);
    cs_err err;
    cs_err_init(&err);
    cs_placement pl;
    cs_arch a = d->arch;
    if (cim) {
        cr_assert_eq(cs_placement_parse(&d->arch, cim, macros, &pl, &err), CS_OK, "%s", err.count ? err.msg[0] : "");
        a = cs_placement_arch(&pl, &d->arch);
        cs_placement_energy(&pl, &d->arch, t);
    }
    cs_gpu *g = NULL;
    cr_assert_eq(cs_gpu_create(&a, cim ? &pl : NULL, &g, &err), CS_OK, "%s", err.count ? err.msg[0] : "");
    cs_status st = cs_energy_check_coverage(t, cs_gpu_stats(g), &err);
    cr_assert_eq(st, CS_OK, "%s with %s%s%s: %s", arch, table, cim ? " and " : "", cim ? cim : "",
                 err.count ? err.msg[0] : "");
    cs_gpu_destroy(g);
    if (cim)
        cs_placement_free(&pl);
    cs_energy_table_destroy(t);
    cs_arch_doc_destroy(d);
}

Test(system, every_counted_action_has_a_table_entry_and_every_entry_is_counted)
{
    coverage("a100", "7nm", NULL, NULL);
    coverage("a100", "45nm", NULL, NULL);
    coverage("a100-80gb", "7nm", NULL, NULL);
    coverage("www-sm", "45nm", NULL, NULL);
    const char *placements[] = {"analog6T@rf", "digital8T@smem", "analog8T@l2"};
    for (size_t i = 0; i < 3; i++)
        coverage("a100", "7nm", placements[i], NULL);
    coverage("www-sm", "45nm", "analog6T@rf", "1"); /* one per sub-partition, as the study */
}

Test(system, a_table_missing_an_action_is_caught)
{
    /* the 7nm table without the L2 tag action: the L2 model counts it */
    cs_arch_doc *d = load_arch("a100");
    cs_energy_table *full = load_table("7nm");
    cs_energy_table *t = cs_energy_table_new("partial", "1", 7);
    const char *cls[] = {"dram", "l2", "noc", "smem", "rf", "tensor_core"};
    const char *acts[][5] = {{"act", "pre", "rd", "wr", "ref"}, {"read", "write"}, {"flit"},
                             {"read", "write"},              {"read", "write"}, {"mac_int8", "mac_fp16"}};
    for (size_t c = 0; c < 6; c++) {
        for (size_t k = 0; k < 5 && acts[c][k]; k++) {
            double pj = 0;
            cr_assert_eq(cs_energy_lookup(full, cls[c], acts[c][k], &pj), CS_OK);
            cs_energy_set_action(t, cls[c], acts[c][k], pj, 0, "test");
        }
        cs_energy_set_instance(t, cls[c], cs_energy_leak_mw(full, cls[c]), cs_energy_area_mm2(full, cls[c]), 0,
                               "test");
    }
    cs_gpu *g = NULL;
    cs_err err;
    cs_err_init(&err);
    cr_assert_eq(cs_gpu_create(&d->arch, NULL, &g, &err), CS_OK);
    cr_assert_eq(cs_energy_check_coverage(t, cs_gpu_stats(g), &err), CS_INVALID);
    bool named = false;
    for (int i = 0; i < err.count; i++)
        named |= strstr(err.msg[i], "l2") && strstr(err.msg[i], "tag");
    cr_assert(named, "the missing l2.tag is named: %s", err.count ? err.msg[0] : "");
    cs_gpu_destroy(g);
    cs_energy_table_destroy(t);
    cs_energy_table_destroy(full);
    cs_arch_doc_destroy(d);
}

/* An op source with no streams: the GPU runs nothing. */
static cs_status empty_next(cs_opsrc *src, uint32_t s, cs_op *op, bool *eof, cs_err *err)
{
    (void)src;
    (void)s;
    (void)op;
    (void)err;
    *eof = true;
    return CS_OK;
}
static void empty_destroy(cs_opsrc *src) { cs_free(src); }
static const cs_opsrc_vt empty_vt = {empty_next, empty_destroy};
static cs_status empty_factory(void *ctx, size_t gemm, uint64_t repeat, cs_opsrc **out, cs_err *err)
{
    (void)ctx;
    (void)gemm;
    (void)repeat;
    (void)err;
    cs_opsrc *s = cs_calloc(1, sizeof *s);
    s->vt = &empty_vt;
    *out = s;
    return CS_OK;
}

/* Ops from outside the mappers (a replayed trace: a factory) that do not add up to the GEMM
 * are the input's fault: the MAC and bound invariants then report bad input (exit status 2),
 * naming the same figures. */
Test(system, a_replay_whose_macs_do_not_add_up_is_refused_as_bad_input)
{
    cs_arch_doc *d = load_arch("a100");
    cs_energy_table *t = load_table("7nm");
    cs_workload *w = NULL;
    cs_err err;
    cs_err_init(&err);
    cr_assert_eq(cs_workload_load("64,512,512", &w, &err), CS_OK);
    cs_run_opts o;
    cs_run_opts_init(&o);
    o.factory = empty_factory;
    cs_result *r = NULL;
    cr_assert_eq(cs_run(d, w, t, &o, &r, &err), CS_FORMAT);
    cr_assert_eq(cs_status_exit_code(err.status), 2);
    cr_assert_null(r, "no result from a failed run");
    bool macs = false, bound = false;
    for (int i = 0; i < err.count; i++) {
        macs |= strstr(err.msg[i], "MACs executed 0") != NULL && strstr(err.msg[i], "16777216") != NULL;
        bound |= strstr(err.msg[i], "below the compute bound") != NULL;
    }
    cr_assert(macs, "the MAC invariant names both figures: %s", err.count ? err.msg[0] : "");
    cr_assert(bound, "the compute bound is checked too");
    cs_err_free(&err);
    cs_workload_destroy(w);
    cs_energy_table_destroy(t);
    cs_arch_doc_destroy(d);
}

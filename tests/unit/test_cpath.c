/* test_cpath — critical-path attribution: the arena's bookkeeping (segments, fill, drain, tail,
 * references) on hand-made paths, and the attribution of whole kernels whose answer is known:
 * pure tensor-core compute, pure DRAM streaming, CiM weight writes. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "arch.h"
#include "cpath.h"
#include "gpu.h"
#include "kern.h"
#include "placement.h"

static uint64_t sum(const uint64_t *v)
{
    uint64_t s = 0;
    for (int c = 0; c < CS_CAUSES; c++)
        s += v[c];
    return s;
}

/* ---- the arena ----------------------------------------------------------------------------- */

Test(cpath, causes_have_keys_and_round_trip)
{
    for (int c = 0; c < CS_CAUSES; c++) {
        cr_expect_eq(cs_cause_from_key(cs_cause_key(c)), c, "%s", cs_cause_key(c));
        cr_expect(strlen(cs_cause_help(c)) > 10);
    }
    cr_expect_eq(cs_cause_from_key("nope"), -1);
    cr_expect_str_eq(cs_cause_key(CS_CAUSES), "?");
}

Test(cpath, segments_by_resource_fill_before_the_first_compute_and_drain_after_the_last)
{
    cs_cpath *a = cs_cpath_create();
    cs_cpath_kernel_start(a, 1000);
    cs_cpath_mark_compute(a, 1300, 1500); /* the kernel's compute runs from 1300 to 1500 */
    cs_cpl p = {0};
    cs_cpl_push(a, &p, CS_CAUSE_DRAM, 1200);  /* before the first compute: fill */
    cs_cpl_push(a, &p, CS_CAUSE_L2, 1350);    /* 100 fill, 50 l2 */
    cs_cpl_push(a, &p, CS_CAUSE_TC, 1500);
    cs_cpl_push(a, &p, CS_CAUSE_L2, 1700);    /* after the last compute end: drain */
    uint64_t v[CS_CAUSES];
    cs_cpl_result(a, &p, v);
    cr_expect_eq(v[CS_CAUSE_FILL_DRAIN], 300 + 200);
    cr_expect_eq(v[CS_CAUSE_L2], 50);
    cr_expect_eq(v[CS_CAUSE_TC], 150);
    cr_expect_eq(v[CS_CAUSE_DRAM], 0);
    cr_expect_eq(sum(v), 700, "the causes sum to the path's length");
    /* a later compute end turns the drain back into its cause */
    cs_cpath_mark_compute(a, 1600, 1800);
    cs_cpl_push(a, &p, CS_CAUSE_ISSUE, 1750);
    cs_cpl_result(a, &p, v);
    cr_expect_eq(v[CS_CAUSE_L2], 250);
    cr_expect_eq(v[CS_CAUSE_ISSUE], 50);
    cr_expect_eq(sum(v), 750);
    cs_cpl_clear(a, &p);
    cr_expect_eq(cs_cpath_live(a), 0);
    cs_cpath_destroy(a);
}

Test(cpath, tail_after_half_the_units_finished_unless_drain)
{
    cs_cpath *a = cs_cpath_create();
    cs_cpath_kernel_start(a, 0);
    cs_cpath_mark_compute(a, 0, 800);
    cs_cpath_set_tail(a, 600);
    cs_cpl p = {0};
    cs_cpl_push(a, &p, CS_CAUSE_TC, 700);    /* 600 tc, 100 tail */
    cs_cpl_push(a, &p, CS_CAUSE_L2, 900);    /* 100 tail (before 800), then 100 drain */
    uint64_t v[CS_CAUSES];
    cs_cpl_result(a, &p, v);
    cr_expect_eq(v[CS_CAUSE_TC], 600);
    cr_expect_eq(v[CS_CAUSE_TAIL], 200);
    cr_expect_eq(v[CS_CAUSE_FILL_DRAIN], 100);
    cr_expect_eq(sum(v), 900);
    cs_cpl_clear(a, &p);
    cs_cpath_destroy(a);
}

Test(cpath, joins_keep_the_later_path_and_references_balance)
{
    cs_cpath *a = cs_cpath_create();
    cs_cpath_kernel_start(a, 0);
    cs_cpath_mark_compute(a, 0, 100000);
    cs_cpl x = {0}, y = {0}, z = {0};
    for (int i = 1; i <= 50; i++) { /* more segments than a lazy path holds: settles into nodes */
        cs_cpl_push(a, &x, i % 2 ? CS_CAUSE_L2 : CS_CAUSE_STAGING, (cs_ps)i * 10);
        cs_cpl_push(a, &y, i % 3 ? CS_CAUSE_DRAM : CS_CAUSE_ISSUE, (cs_ps)i * 11);
    }
    cs_cpl_set(a, &z, &x);
    cs_cpl_later(a, &z, &y); /* y ends at 550, x at 500 */
    cr_expect_eq(cs_cpl_end(a, &z), 550);
    cs_cpl_later(a, &z, &x); /* earlier: no change */
    cr_expect_eq(cs_cpl_end(a, &z), 550);
    uint64_t vy[CS_CAUSES], vz[CS_CAUSES];
    cs_cpl_result(a, &y, vy);
    cs_cpl_result(a, &z, vz);
    cr_expect(memcmp(vy, vz, sizeof vy) == 0, "z is y");
    cr_expect_eq(vz[CS_CAUSE_DRAM] + vz[CS_CAUSE_ISSUE], 550);
    cs_cp q = cs_cpl_materialise(a, &x); /* a message's copy outlives its source */
    cs_cpl_clear(a, &x);
    cs_cpl w = cs_cpl_of(a, q);
    cr_expect_eq(cs_cpl_end(a, &w), 500);
    cs_cpl_clear(a, &w);
    cs_cpl_clear(a, &y);
    cs_cpl_clear(a, &z);
    cr_expect_eq(cs_cpath_live(a), 0, "every node returned");
    cs_cpath_destroy(a);
}

/* ---- kernels whose answer is known --------------------------------------------------------- */

static cs_arch_doc *a100(void)
{
    cs_arch_doc *d = NULL;
    cs_err err;
    cs_err_init(&err);
    cr_assert_eq(cs_arch_load("a100", NULL, 0, &d, &err), CS_OK, "%s", err.msg[0]);
    return d;
}

/* Runs kernel k on a (with placement pl, optional) and returns its attribution (ps). */
static void attribute(const cs_arch *a, const cs_placement *pl, kern *k, uint64_t v[CS_CAUSES], cs_ps *elapsed)
{
    cs_gpu *g;
    cs_err err;
    cs_err_init(&err);
    cr_assert_eq(cs_gpu_create(a, pl, &g, &err), CS_OK, "%s", err.msg[0]);
    cr_assert_eq(cs_gpu_run_kernel(g, &k->base, elapsed, &err), CS_OK, "%s", err.count ? err.msg[0] : "");
    cs_gpu_kernel_attribution(g, v);
    cr_expect_eq(sum(v), *elapsed, "the attribution covers the kernel exactly");
    cr_expect_eq(v[CS_CAUSE_IDLE], 0);
    cs_opsrc_destroy(&k->base);
    cs_gpu_destroy(g);
}

static double share(const uint64_t *v, int c) { return (double)v[c] / (double)sum(v); }

static void log_attr(const char *what, const uint64_t *v)
{
    char line[1024] = "";
    for (int c = 0; c < CS_CAUSES; c++)
        if (v[c])
            snprintf(line + strlen(line), sizeof line - strlen(line), " %s %.1f%%", cs_cause_key(c),
                     100 * share(v, c));
    cr_log_info("%s:%s", what, line);
}

Test(cpath, pure_tensor_core_compute_is_tc_compute)
{
    cs_arch_doc *d = a100();
    kern *k = kern_new();
    kern_add(k, (cs_op){.kind = CS_OP_CTA_BEGIN, .x = 0, .rows = 4, .stride = 64});
    for (int i = 0; i < 200; i++)
        for (uint16_t w = 0; w < 4; w++)
            kern_add(k, (cs_op){.kind = CS_OP_MMA, .warp = w, .rows = 64, .row_bytes = 64, .stride = 64});
    kern_add(k, (cs_op){.kind = CS_OP_CTA_END, .x = 0});
    uint64_t v[CS_CAUSES];
    cs_ps el;
    attribute(&d->arch, NULL, k, v, &el);
    log_attr("MMAs only", v);
    cr_expect_gt(share(v, CS_CAUSE_TC), 0.95, "tensor-core bound: %.3f tc_compute", share(v, CS_CAUSE_TC));
    cs_arch_doc_destroy(d);
}

Test(cpath, streaming_from_dram_is_dram)
{
    cs_arch_doc *d = a100();
    kern *k = kern_new();
    /* one warp: 64 steps of 8 KiB copied from fresh addresses (all misses), waited for, then a
     * tiny MMA; the DRAM round trips are the critical path */
    kern_add(k, (cs_op){.kind = CS_OP_CTA_BEGIN, .x = 0, .rows = 1, .row_bytes = 8192, .stride = 64});
    for (uint32_t i = 0; i < 64; i++) {
        kern_add(k, (cs_op){.kind = CS_OP_CP_ASYNC, .addr = (1ull << 32) + (uint64_t)i * 8192, .local = 0,
                            .rows = 8, .row_bytes = 1024, .stride = 1024, .tag = i});
        kern_add(k, (cs_op){.kind = CS_OP_CP_WAIT, .tag = i});
        kern_add(k, (cs_op){.kind = CS_OP_MMA, .rows = 16, .row_bytes = 8, .stride = 32});
    }
    kern_add(k, (cs_op){.kind = CS_OP_CTA_END, .x = 0});
    uint64_t v[CS_CAUSES];
    cs_ps el;
    attribute(&d->arch, NULL, k, v, &el);
    log_attr("DRAM stream", v);
    cr_expect_gt(share(v, CS_CAUSE_DRAM), 0.6, "DRAM bound: %.3f dram", share(v, CS_CAUSE_DRAM));
    cr_expect_lt(share(v, CS_CAUSE_TC), 0.05);
    cs_arch_doc_destroy(d);
}

Test(cpath, cim_weight_writes_are_cim_write)
{
    cs_arch_doc *d = a100();
    cs_placement pl;
    cs_err err;
    cs_err_init(&err);
    cr_assert_eq(cs_placement_parse(&d->arch, "digital6T@smem", "4", &pl, &err), CS_OK, "%s", err.msg[0]);
    cs_arch b = cs_placement_arch(&pl, &d->arch);
    kern *k = kern_new();
    /* one macro rewritten 16 times with 32 KiB (the same, L2-resident after the first) at the
     * primitive's 16 B per cycle, one short MAC on each: the writes are the critical path */
    kern_add(k, (cs_op){.kind = CS_OP_CTA_BEGIN, .x = 0, .rows = 1, .row_bytes = 4096, .stride = 16});
    for (uint32_t i = 0; i < 16; i++) {
        kern_add(k, (cs_op){.kind = CS_OP_CIM_WRITE, .x = 0, .addr = 1ull << 32, .rows = 1, .row_bytes = 32768,
                            .stride = 32768, .seq = (uint16_t)i, .tag = i, .local = 1});
        kern_add(k, (cs_op){.kind = CS_OP_CIM_MAC, .x = 0, .flags = CS_OPF_FROM_SMEM, .rows = 1, .row_bytes = 256,
                            .stride = 16, .tag = 256, .seq = (uint16_t)i});
    }
    kern_add(k, (cs_op){.kind = CS_OP_CIM_READ, .x = 0, .rows = 1, .row_bytes = 64});
    kern_add(k, (cs_op){.kind = CS_OP_CTA_END, .x = 0});
    uint64_t v[CS_CAUSES];
    cs_ps el;
    attribute(&b, &pl, k, v, &el);
    log_attr("CiM writes", v);
    cr_expect_gt(share(v, CS_CAUSE_CIM_WRITE), 0.8, "write bound: %.3f cim_write", share(v, CS_CAUSE_CIM_WRITE));
    cs_placement_free(&pl);
    cs_arch_doc_destroy(d);
}

/* test_loopnest — loop nests (workloads/loopnest.c), the Timeloop reader (tools/timeloop.c) and
 * the loop-nest executor (workloads/mapper_loopnest.c): nests from the WWW algorithm and the
 * PE-array default, file:line errors for a malformed or mismatched map.yaml, and the accesses a
 * small nest makes, counted by hand against the simulated run. */
#include <criterion/criterion.h>

#include "loopnest.h"
#include "mapper_www.h"
#include "testutil.h"
#include "timeloop.h"

/* ---- nests ------------------------------------------------------------------------------- */

Test(loopnest, www_result_becomes_its_loop_nest)
{
    cs_www_input in;
    cs_www_input_init(&in, CS_WWW_LEVEL_RF);
    in.m = 512, in.n = 1024, in.k = 1024, in.rp = 64, in.cp = 4, in.rh = 1, in.ch = 16;
    cs_www_mapping w;
    cr_assert_eq(cs_www_map(&in, &w, NULL), CS_OK);
    cs_nest n;
    cs_nest_from_www(&w, &n);
    char s[256];
    cs_nest_str(&n, s, sizeof s);
    cr_assert_str_eq(s, "dram 1.4.8:KNM smem 512.1.2:MKN bank 1.4.1 array 1.4.64 storage 1.16.1");
    cr_assert_eq(n.tmpl, CS_NEST_CIM_RF);
    cs_nest_limits lim = {.rp = 64, .cp = 4, .rh = 1, .ch = 16, .macros = 4};
    cs_gemm g = {.name = "g", .m = 512, .n = 1024, .k = 1024, .repeat = 1};
    cr_assert_eq(cs_nest_check(&n, &lim, &g, NULL), CS_OK);
    /* the SMEM level (no memory above): cim-smem */
    cs_www_input_init(&in, CS_WWW_LEVEL_SMEM);
    in.m = 512, in.n = 1024, in.k = 1024, in.rp = 256, in.cp = 16, in.rh = 1, in.ch = 1;
    cr_assert_eq(cs_www_map(&in, &w, NULL), CS_OK);
    cs_nest_from_www(&w, &n);
    cs_nest_str(&n, s, sizeof s);
    cr_assert_eq(n.tmpl, CS_NEST_CIM_SMEM);
    cr_assert_str_eq(s, "dram 512.64.2:MNK bank 1.1.2 array 1.16.256");
}

Test(loopnest, pe_default_is_the_studys_baseline_mapping_for_bert)
{
    cs_gemm g = {.name = "g", .m = 512, .n = 1024, .k = 1024, .repeat = 1};
    cs_nest_limits lim = {.pe_n = 16, .pe_k = 16, .subparts = 4};
    cs_nest n;
    cs_nest_pe_default(&g, &lim, 256 * 1024, 1, &n);
    char s[256];
    cs_nest_str(&n, s, sizeof s);
    /* tensor_core_like's Timeloop mapping: DRAM M4 N8 (MNK), SMEM M32 K16 (KMN), M4 over the
     * sub-partitions, K4 in the RF, N16 K16 over the PEs, N8 in the operand register */
    cr_assert_str_eq(s, "dram 4.8.1:MNK smem 32.1.16:KMN subpart 4.1.1 rf 1.1.4 pe 1.16.16 lrf 1.8.1");
    cr_assert_eq(cs_nest_check(&n, &lim, &g, NULL), CS_OK);
    /* small and odd shapes still multiply to the GEMM */
    cs_gemm h = {.name = "h", .m = 3, .n = 40, .k = 24, .repeat = 1};
    cs_nest_pe_default(&h, &lim, 4096, 1, &n);
    cr_assert_eq(cs_nest_check(&n, &lim, &h, NULL), CS_OK);
}

/* ---- map.yaml: reading and binding errors ------------------------------------------------- */

static const char good_rf[] = /* the study's rf analog6T mapping (consv2p1), trimmed */
    "mapping:\n"                                                 /* 1 */
    "  - target: SMEM\n"                                         /* 2 */
    "    type: datatype\n"                                       /* 3 */
    "    keep: [A, Z]\n"                                         /* 4 */
    "    bypass: [B]\n"                                          /* 5 */
    "  - target: CiMStorage\n"                                   /* 6 */
    "    type: temporal\n"                                       /* 7 */
    "    factors: M1 N16 K1\n"                                   /* 8 */
    "    permutation: NMK\n"                                     /* 9 */
    "  - target: inter_CiMArray_spatial\n"                       /* 10 */
    "    type: spatial\n"                                        /* 11 */
    "    factors: M1 N4 K64\n"                                   /* 12 */
    "    permutation: NKM\n"                                     /* 13 */
    "    split: 1\n"                                             /* 14 */
    "  - target: inter_CiMBank_spatial\n"                        /* 15 */
    "    type: spatial\n"                                        /* 16 */
    "    factors: M1 N4 K1\n"                                    /* 17 */
    "  - target: SMEM\n"                                         /* 18 */
    "    type: temporal\n"                                       /* 19 */
    "    factors: M512 N1 K2\n"                                  /* 20 */
    "    permutation: MKN\n"                                     /* 21 */
    "  - target: DRAM\n"                                         /* 22 */
    "    type: temporal\n"                                       /* 23 */
    "    factors: M1 N4 K8\n"                                    /* 24 */
    "    permutation: KNM\n";                                    /* 25 */

static const cs_nest_limits rf_lim = {.rp = 64, .cp = 4, .rh = 1, .ch = 16, .macros = 4, .subparts = 4};
static const cs_gemm bert = {.name = "bert", .m = 512, .n = 1024, .k = 1024, .repeat = 1};

static void replace(char *text, size_t cap, const char *from, const char *to)
{
    char *p = strstr(text, from);
    cr_assert_not_null(p, "%s", from);
    char tail[4096];
    snprintf(tail, sizeof tail, "%s", p + strlen(from));
    snprintf(p, cap - (size_t)(p - text), "%s%s", to, tail);
}

/* Binding the map with `from` replaced by `to` (and from2 by to2 when given, to keep the
 * products right) must fail with exactly one message, msg. */
static void expect_bind_error2(const char *from, const char *to, const char *from2, const char *to2, const char *msg)
{
    char text[4096];
    snprintf(text, sizeof text, "%s", good_rf);
    replace(text, sizeof text, from, to);
    if (from2)
        replace(text, sizeof text, from2, to2);
    cs_err err;
    cs_err_init(&err);
    cs_nest_spec spec;
    cs_status st = cs_timeloop_parse("map.yaml", text, strlen(text), &spec, &err);
    cs_nest n;
    if (st == CS_OK)
        st = cs_nest_bind(&spec, CS_NEST_CIM_RF, &rf_lim, &bert, &n, &err);
    cr_assert_neq(st, CS_OK, "accepted: %s", to);
    cr_assert_eq(cs_status_exit_code(st), 2);
    cr_assert_eq(err.count, 1, "%d messages, first: %s", err.count, err.msg[0]);
    cr_assert_str_eq(err.msg[0], msg);
}

static void expect_bind_error(const char *from, const char *to, const char *msg)
{
    expect_bind_error2(from, to, NULL, NULL, msg);
}

Test(loopnest, the_studys_map_binds)
{
    cs_nest_spec spec;
    cs_err err;
    cs_err_init(&err);
    cr_assert_eq(cs_timeloop_parse("map.yaml", good_rf, strlen(good_rf), &spec, &err), CS_OK, "%s", err.msg[0]);
    cr_assert_eq(spec.n, 6);
    cr_assert_eq(spec.e[4].line, 18);
    cr_assert_eq(spec.e[4].fline, 20);
    cs_nest n;
    cr_assert_eq(cs_nest_bind(&spec, CS_NEST_CIM_RF, &rf_lim, &bert, &n, &err), CS_OK, "%s", err.msg[0]);
    char s[256];
    cs_nest_str(&n, s, sizeof s);
    cr_assert_str_eq(s, "dram 1.4.8:KNM smem 512.1.2:MKN bank 1.4.1 array 1.4.64 storage 1.16.1");
    cr_assert_eq(n.lv[CS_LV_SMEM].keep, (1u << CS_NEST_A) | (1u << CS_NEST_Z));
}

Test(loopnest, a_wrong_level_name_is_an_error_at_its_line)
{
    expect_bind_error("  - target: SMEM\n    type: temporal", "  - target: SMEMX\n    type: temporal",
                      "map.yaml:18: error: mapping[4].target: no level \"SMEMX\" in the cim-rf template (its "
                      "levels: CiMStorage, CiMOutBuffer, CiMInpBuffer, inter_CiMArray_spatial, "
                      "inter_CiMBank_spatial, SMEM, DRAM)");
    expect_bind_error("  - target: CiMStorage", "  - target: LRF",
                      "map.yaml:6: error: mapping[1].target: no level \"LRF\" in the cim-rf template (its levels: "
                      "CiMStorage, CiMOutBuffer, CiMInpBuffer, inter_CiMArray_spatial, inter_CiMBank_spatial, SMEM, "
                      "DRAM); LRF is a level of the pe template");
}

Test(loopnest, factors_that_do_not_multiply_to_the_gemm_are_an_error)
{
    expect_bind_error("factors: M1 N4 K8", "factors: M1 N4 K4",
                      "map.yaml:24: error: mapping: the factors of K over all levels multiply to 512, not to the "
                      "GEMM's K = 1024 (bert) (got 512)");
}

Test(loopnest, a_spatial_factor_above_the_fan_out_is_an_error)
{
    expect_bind_error2("factors: M1 N4 K64", "factors: M1 N8 K64", "factors: M1 N4 K1\n", "factors: M1 N2 K1\n",
                      "map.yaml:12: error: mapping[2].factors: spatial factor N8 of inter_CiMArray_spatial is above "
                      "its fan-out (cp, the primitive's parallel columns = 4) (got N8)");
    expect_bind_error2("factors: M1 N4 K1\n", "factors: M1 N8 K1\n", "factors: M1 N4 K64", "factors: M1 N2 K64",
                      "map.yaml:17: error: mapping[3].factors: spatial factor N8 of inter_CiMBank_spatial is above "
                      "its fan-out (the macros of a controller = 4) (got N8)");
}

Test(loopnest, an_unknown_dataspace_is_an_error_at_its_line)
{
    expect_bind_error("keep: [A, Z]", "keep: [A, Q]",
                      "map.yaml:4: error: mapping[0].keep[1]: unknown dataspace: the GEMM's are A (inputs), B "
                      "(weights) and Z (outputs) (got \"Q\")");
}

Test(loopnest, other_mismatches_cite_their_lines)
{
    expect_bind_error("keep: [A, Z]\n    bypass: [B]", "keep: [A, B]\n    bypass: [Z]",
                      "map.yaml:4: error: mapping[0].keep: SMEM may keep only AZ in the cim-rf template (got \"AB\")");
    expect_bind_error("    type: temporal\n    factors: M1 N16 K1", "    type: spatial\n    factors: M1 N16 K1",
                      "map.yaml:8: error: mapping[1].target: CiMStorage has no fan-out: spatial factors belong to "
                      "the inter_*_spatial levels");
    expect_bind_error2("factors: M1 N16 K1", "factors: M1 N32 K1", "factors: M1 N4 K64", "factors: M1 N2 K64",
                      "map.yaml:8: error: mapping[1].factors: temporal factor N32 of CiMStorage is above its fan-out "
                      "(ch, the weight columns a unit holds = 16) (got N32)");
    expect_bind_error("factors: M1 N16 K1", "factors: M1 N16 X1",
                      "map.yaml:8: error: mapping[1].factors: unknown dimension 'X': the GEMM's dimensions are M, "
                      "N and K (got \"M1 N16 X1\")");
    expect_bind_error("permutation: KNM", "permutation: KNN",
                      "map.yaml:25: error: mapping[5].permutation: must order the dimensions M, N and K, each once "
                      "(got \"KNN\")");
    expect_bind_error("    split: 1\n", "    splat: 1\n",
                      "map.yaml:14: error: mapping[2].splat: unknown key (an entry has target, type, factors, "
                      "permutation, keep, bypass, split)");
    expect_bind_error("mapping:\n", "mapping:\n  - [1, 2]\n",
                      "map.yaml:2: error: mapping[0]: expected a mapping with target and type (got a list)");
}

/* ---- the executor, against counts made by hand --------------------------------------------- */

static json_t *run_map(const char *dir, const char *yaml, const char *args)
{
    cr_assert_eq(tu_write(dir, "m.yaml", yaml), 0);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "run -a www-sm --compat www -q --mapping timeloop:m.yaml -o r.json %s", args);
    cr_assert_eq(tu_run(dir, cmd), 0, "cimsim %s: %s", cmd, tu_file(dir, "stderr.txt"));
    json_t *r = tu_json(dir, "r.json");
    cr_assert_not_null(r);
    return r;
}

/* Bytes of accesses.LEVEL.DS.KIND of the first GEMM (0 when absent). */
static double acc(json_t *r, const char *level, const char *ds, const char *kind)
{
    json_t *a = json_object_get(json_array_get(json_object_get(r, "gemms"), 0), "accesses");
    return json_number_value(json_object_get(json_object_get(json_object_get(a, level), ds), kind));
}

#define CIM_LEVELS(bank, smem, smem_perm, dram, dram_perm)                                       \
    "mapping:\n"                                                                                 \
    "  - {target: CiMStorage, type: temporal, factors: M1 N16 K1}\n"                            \
    "  - {target: inter_CiMArray_spatial, type: spatial, factors: M1 N4 K64}\n"                 \
    "  - {target: inter_CiMBank_spatial, type: spatial, factors: " bank "}\n"                    \
    "  - {target: SMEM, type: temporal, factors: " smem ", permutation: " smem_perm "}\n"       \
    "  - {target: DRAM, type: temporal, factors: " dram ", permutation: " dram_perm "}\n"

Test(loopnest, rf_nest_keeps_a_and_z_in_shared_memory_and_broadcasts_inputs)
{
    char dir[256];
    tu_tmpdir(dir, sizeof dir);
    /* 64 x 128 x 256: two macros split N (bank N2), four steps of 64 rows, K over SMEM K2 and DRAM K2 */
    json_t *r = run_map(dir, CIM_LEVELS("M1 N2 K1", "M64 N1 K2", "MKN", "M1 N1 K2", "KNM"),
                        "-w 64,128,256 --cim analog6T@rf --macros 1");
    /* A: two shared-memory tiles of 64 x 128, each read once per step (4096 B, broadcast to
     * both macros) */
    cr_expect_eq(acc(r, "dram", "a", "read"), 64 * 256);
    cr_expect_eq(acc(r, "smem", "a", "fill"), 64 * 256);
    cr_expect_eq(acc(r, "smem", "a", "read"), 4 * 64 * 64);
    /* Z: one tile for the whole run; 2 macros x 64 x 64 8-bit partial sums per step, read back
     * to accumulate after the first step, drained once */
    cr_expect_eq(acc(r, "smem", "z", "update"), 4 * 2 * 64 * 64);
    cr_expect_eq(acc(r, "smem", "z", "read"), 3 * 2 * 64 * 64);
    cr_expect_eq(acc(r, "smem", "z", "drain"), 64 * 128);
    cr_expect_eq(acc(r, "dram", "z", "update"), 64 * 128);
    cr_expect_eq(acc(r, "dram", "z", "read"), 0);
    /* B: every weight written once (four residencies of two 64 x 64 tiles) */
    cr_expect_eq(acc(r, "dram", "b", "read"), 128 * 256);
    cr_expect_eq(acc(r, "cim", "b", "fill"), 128 * 256);
    cr_expect_eq(acc(r, "cim", "b", "read"), 64.0 * 128 * 256);
    json_decref(r);
    tu_rmdir(dir);
}

Test(loopnest, partial_sums_spill_and_come_back_when_dram_k_is_outside_n)
{
    char dir[256];
    tu_tmpdir(dir, sizeof dir);
    /* 64 x 256 x 128: DRAM N2 inside K2 (NKM): each Z tile (64 x 128) is left twice, the first
     * time as partial sums, and refilled when it comes back */
    json_t *r = run_map(dir, CIM_LEVELS("M1 N2 K1", "M64 N1 K1", "MNK", "M1 N2 K2", "NKM"),
                        "-w 64,256,128 --cim analog6T@rf --macros 1");
    cr_expect_eq(acc(r, "dram", "z", "update"), 4 * 64 * 128, "four drains");
    cr_expect_eq(acc(r, "dram", "z", "read"), 2 * 64 * 128, "two refills");
    cr_expect_eq(acc(r, "smem", "z", "fill"), 2 * 64 * 128);
    cr_expect_eq(acc(r, "smem", "z", "update"), 4 * 2 * 64 * 64);
    cr_expect_eq(acc(r, "smem", "z", "read"), 2 * 2 * 64 * 64, "read-modify-write on the second K only");
    cr_expect_eq(acc(r, "dram", "a", "read"), 64 * 128, "A kept across N");
    cr_expect_eq(acc(r, "dram", "b", "read"), 256 * 128);
    json_decref(r);
    tu_rmdir(dir);
}

Test(loopnest, smem_nest_adds_a_banks_k_slices_in_its_adder_tree)
{
    char dir[256];
    tu_tmpdir(dir, sizeof dir);
    const char *yaml = "mapping:\n"
                       "  - {target: CiMStorage, type: temporal, factors: M1 N16 K1}\n"
                       "  - {target: inter_CiMArray_spatial, type: spatial, factors: M1 N4 K64}\n"
                       "  - {target: inter_CiMBank_spatial, type: spatial, factors: M1 N1 K4}\n"
                       "  - {target: DRAM, type: temporal, factors: M16 N1 K1, permutation: MNK}\n";
    /* K over four macros (each its own inputs), summed in the bank: one store of 16 x 64 */
    json_t *r = run_map(dir, yaml, "-w 16,64,256 --cim analog6T@smem --macros 4");
    cr_expect_eq(acc(r, "dram", "a", "read"), 16 * 256);
    cr_expect_eq(acc(r, "dram", "z", "update"), 16 * 64);
    cr_expect_eq(acc(r, "dram", "z", "read"), 0);
    json_decref(r);
    /* without the adder tree each macro's partial sums go out: a store, then three reductions */
    r = run_map(dir, yaml, "-w 16,64,256 --cim analog6T@smem --macros 4 --set compat.adder_tree=false");
    cr_expect_eq(acc(r, "dram", "z", "update"), 4 * 16 * 64);
    cr_expect_eq(acc(r, "dram", "z", "read"), 3 * 16 * 64);
    json_decref(r);
    tu_rmdir(dir);
}

Test(loopnest, the_pe_array_reads_b_once_for_all_sub_partitions)
{
    char dir[256];
    tu_tmpdir(dir, sizeof dir);
    cr_assert_eq(tu_run(dir, "run -a www-sm --compat www -w 16,128,64 -q -o r.json"), 0, "%s",
                 tu_file(dir, "stderr.txt"));
    json_t *r = tu_json(dir, "r.json");
    /* default nest: N16 x8 over PE rows and operand register, K16 x4 over PE columns and RF, M4
     * over the sub-partitions: one step per 4 rows, B (128 x 64) read once per step */
    cr_expect_eq(acc(r, "smem", "b", "read"), 4 * 128 * 64);
    cr_expect_eq(acc(r, "smem", "a", "read"), 16 * 64);
    cr_expect_eq(acc(r, "opreg", "a", "fill"), 16 * 64 * 16, "each A element into the 16 PE rows");
    cr_expect_eq(acc(r, "opreg", "a", "read"), 16.0 * 128 * 64, "one per MAC");
    cr_expect_eq(acc(r, "rf", "z", "update"), 16 * 128 * 4, "K reduced over 16 PE columns: 4 updates");
    cr_expect_eq(acc(r, "rf", "z", "read"), 16 * 128 * 3);
    cr_expect_eq(acc(r, "dram", "z", "update"), 16 * 128);
    json_decref(r);
    tu_rmdir(dir);
}

Test(loopnest, a_bad_map_exits_with_status_2_and_its_line)
{
    char dir[256];
    tu_tmpdir(dir, sizeof dir);
    cr_assert_eq(tu_write(dir, "m.yaml", "mapping:\n  - {target: DRAM, type: temporal, factors: M2 N2 K2}\n"), 0);
    cr_assert_eq(tu_run(dir, "run -a www-sm -w 4,4,4 --cim analog6T@rf --macros 1 --mapping timeloop:m.yaml"), 2);
    char *e = tu_file(dir, "stderr.txt");
    cr_expect(strstr(e, "m.yaml:2: error: mapping: the factors of M over all levels multiply to 2"), "%s", e);
    free(e);
    cr_assert_eq(tu_write(dir, "m.yaml", "mapping:\n  - {target: DRAM, type: tmp}\n"), 0);
    cr_assert_eq(tu_run(dir, "run -a www-sm -w 4,4,4 --mapping timeloop:m.yaml"), 2);
    e = tu_file(dir, "stderr.txt");
    cr_expect(strstr(e, "m.yaml:2: error: mapping[0].type: must be temporal, spatial or datatype (got \"tmp\")"),
              "%s", e);
    free(e);
    /* the baseline takes a Timeloop map only on the PE array */
    cr_assert_eq(tu_write(dir, "m.yaml", "mapping:\n  - {target: DRAM, type: temporal, factors: M4 N4 K4}\n"), 0);
    cr_assert_eq(tu_run(dir, "run -a www-sm -w 4,4,4 --mapping timeloop:m.yaml"), 2);
    e = tu_file(dir, "stderr.txt");
    cr_expect(strstr(e, "compat.baseline = pe_array"), "%s", e);
    free(e);
    tu_rmdir(dir);
}

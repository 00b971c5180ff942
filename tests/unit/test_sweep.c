/* test_sweep — `cimsim sweep`: points in row-major order, results independent of -j and of
 * sharding, resume after an interrupted journal, and the spec's errors cited at their lines. */
#include <criterion/criterion.h>
#include <sys/stat.h>

#include "testutil.h"

/* Six points of a small GEMM: baseline and two placements x two HBM clocks. */
static const char spec[] =
    "# test sweep\n"
    "sweep = {\n"
    "  run = { workload = \"64,512,512\"; macros = \"iso-area\"; };\n"
    "  axes = (\n"
    "    { option = \"cim\"; values = [\"none\", \"digital6T@smem\", \"analog6T@l2\"]; },\n"
    "    { set = \"hbm.clock\"; name = \"hbm_clock\"; values = [\"1215MHz\", \"607.5MHz\"]; }\n"
    "  );\n"
    "};\n";

static void write_file(const char *dir, const char *name, const char *text)
{
    cr_assert_eq(tu_write(dir, name, text), 0, "%s/%s", dir, name);
}

static bool exists(const char *dir, const char *name)
{
    char p[4096];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return stat(p, &st) == 0;
}

static void same_file(const char *dir, const char *a, const char *b)
{
    char *x = tu_file(dir, a), *y = tu_file(dir, b);
    cr_assert(x && y, "%s and %s exist", a, b);
    cr_assert_str_eq(x, y, "%s and %s differ", a, b);
    free(x);
    free(y);
}

Test(sweep, points_in_order_and_independent_of_threads_and_shards)
{
    char dir[256];
    tu_tmpdir(dir, sizeof dir);
    write_file(dir, "s.cfg", spec);
    cr_assert_eq(tu_run(dir, "sweep s.cfg -o a -j 2 -q"), 0);
    cr_assert_eq(tu_run(dir, "sweep s.cfg -o b -j 1 -q"), 0);
    same_file(dir, "a/results.csv", "b/results.csv");
    same_file(dir, "a/results.json", "b/results.json");

    /* row-major order, the last axis fastest; the baseline rows have no macros */
    char *csv = tu_file(dir, "a/results.csv");
    cr_assert(strncmp(csv, "point,cim,hbm_clock,cycles,", 27) == 0, "header: %.60s", csv);
    const char *rows[] = {"\n0,none,1215MHz,", "\n1,none,607.5MHz,", "\n2,digital6T@smem,1215MHz,",
                          "\n3,digital6T@smem,607.5MHz,", "\n4,analog6T@l2,1215MHz,", "\n5,analog6T@l2,607.5MHz,"};
    const char *at = csv;
    for (size_t i = 0; i < 6; i++) {
        const char *r = strstr(at, rows[i]);
        cr_assert_not_null(r, "row %zu in order", i);
        at = r + 1;
    }
    free(csv);

    /* each point is what `cimsim run` gives for the same options */
    json_t *all = tu_json(dir, "a/results.json");
    cr_assert_not_null(all);
    cr_assert_eq(json_array_size(json_object_get(all, "results")), 6);
    json_t *p3 = json_object_get(json_array_get(json_object_get(all, "results"), 3), "result");
    const char *cmd = json_string_value(json_object_get(json_object_get(p3, "provenance"), "command"));
    cr_assert_str_eq(cmd, "cimsim run --workload 64,512,512 --macros iso-area --cim digital6T@smem "
                          "--set hbm.clock=607.5MHz");
    cr_assert_eq(tu_run(dir, "run -w 64,512,512 --macros iso-area --set hbm.clock=607.5MHz --cim digital6T@smem "
                             "-o r.json -q"), 0);
    json_t *r = tu_json(dir, "r.json");
    cr_assert_eq(tu_num(r, "total", "cycles", NULL), tu_num(p3, "total", "cycles", NULL));
    cr_assert_eq(tu_num(r, "total", "energy_pj", NULL), tu_num(p3, "total", "energy_pj", NULL));
    json_decref(r);
    json_decref(all);

    /* two shards into one directory: the second to finish writes the same results */
    cr_assert_eq(tu_run(dir, "sweep s.cfg -o c --shard 0/2 -q"), 0);
    cr_assert(!exists(dir, "c/results.csv"), "no results while a shard is missing");
    cr_assert_eq(tu_run(dir, "sweep s.cfg -o c --shard 1/2 -q"), 0);
    same_file(dir, "a/results.csv", "c/results.csv");
    same_file(dir, "a/results.json", "c/results.json");
    tu_rmdir(dir);
}

Test(sweep, resume_after_an_interrupted_run)
{
    char dir[256];
    tu_tmpdir(dir, sizeof dir);
    write_file(dir, "s.cfg", spec);
    cr_assert_eq(tu_run(dir, "sweep s.cfg -o a -q"), 0);
    /* an interrupted run: two records and half of a third, no results */
    char *j = tu_file(dir, "a/journal.jsonl");
    char *cut = strchr(strchr(j, '\n') + 1, '\n') + 40;
    *cut = '\0';
    cr_assert_eq(tu_run(dir, "sweep s.cfg -o b -q"), 0); /* reference */
    char cmd[512];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/i'", dir);
    cr_assert_eq(system(cmd), 0);
    write_file(dir, "i/journal.jsonl", j);
    free(j);
    /* without --resume the journal is protected */
    cr_assert_eq(tu_run(dir, "sweep s.cfg -o i -q"), 2);
    char *err = tu_file(dir, "stderr.txt");
    cr_assert(strstr(err, "--resume"), "%s", err);
    free(err);
    cr_assert_eq(tu_run(dir, "sweep s.cfg -o i --resume"), 0);
    err = tu_file(dir, "stderr.txt");
    cr_assert(strstr(err, "incomplete last record ignored"), "%s", err);
    cr_assert(strstr(err, "6 points; running 4"), "%s", err);
    free(err);
    same_file(dir, "b/results.csv", "i/results.csv");
    same_file(dir, "b/results.json", "i/results.json");
    /* the journal is whole again: six complete lines */
    char *jj = tu_file(dir, "i/journal.jsonl");
    int lines = 0;
    for (const char *p = jj; *p; p++)
        lines += *p == '\n';
    cr_assert_eq(lines, 6);
    free(jj);

    /* a journal of another spec is refused */
    write_file(dir, "t.cfg", "sweep = { run = { workload = \"64,512,512\"; }; };\n");
    cr_assert_eq(tu_run(dir, "sweep t.cfg -o i --resume -q"), 2);
    err = tu_file(dir, "stderr.txt");
    cr_assert(strstr(err, "i/journal.jsonl:1: error: written by another sweep spec"), "%s", err);
    free(err);
    tu_rmdir(dir);
}

Test(sweep, spec_errors_cite_file_and_line)
{
    char dir[256];
    tu_tmpdir(dir, sizeof dir);
    write_file(dir, "bad.cfg",
               "sweep = {\n"
               "  run = { workload = \"64,512,512\"; dup = \"0\"; };\n"
               "  axes = (\n"
               "    { option = \"goal\"; values = [\"cycles\", \"speed\"]; },\n"
               "    { option = \"colour\"; values = [\"red\"]; }\n"
               "  );\n"
               "};\n");
    cr_assert_eq(tu_run(dir, "sweep bad.cfg -o out"), 2);
    char *err = tu_file(dir, "stderr.txt");
    cr_assert(strstr(err, "bad.cfg:5: error: sweep.axes[1].option: must be one of"), "%s", err);
    free(err);
    /* the values are checked once the structure is right */
    write_file(dir, "bad.cfg",
               "sweep = {\n"
               "  run = { workload = \"64,512,512\"; dup = \"0\"; };\n"
               "  axes = (\n"
               "    { option = \"goal\"; values = [\"cycles\",\n"
               "                                 \"speed\"]; },\n"
               "    { set = \"hbm.clock\"; values = [\"fast\"]; }\n"
               "  );\n"
               "};\n");
    cr_assert_eq(tu_run(dir, "sweep bad.cfg -o out"), 2);
    err = tu_file(dir, "stderr.txt");
    cr_assert(strstr(err, "bad.cfg:2: error: sweep.run.dup: --dup: must be an integer"), "%s", err);
    cr_assert(strstr(err, "error: sweep.axes[0].values[1]: --goal: must be cycles, energy or edp (got \"speed\")"),
              "%s", err);
    free(err);
    cr_assert(!exists(dir, "out"), "nothing written for a bad spec");
    /* a value only the architecture can judge: cited with its point */
    write_file(dir, "bad.cfg",
               "sweep = {\n"
               "  run = { workload = \"64,512,512\"; };\n"
               "  axes = ( { set = \"hbm.clock\"; values = [\"1215MHz\", \"fast\"]; } );\n"
               "};\n");
    cr_assert_eq(tu_run(dir, "sweep bad.cfg -o out"), 2);
    err = tu_file(dir, "stderr.txt");
    cr_assert(strstr(err, "bad.cfg: point 1 (hbm.clock=fast): --set: error: hbm.clock:"), "%s", err);
    free(err);
    cr_assert_eq(tu_run(dir, "sweep missing.cfg"), 2);
    cr_assert_eq(tu_run(dir, "sweep bad.cfg --shard 2/2"), 2);
    tu_rmdir(dir);
}

Test(sweep, the_studys_conventions_and_a_timeloop_map_beside_the_spec)
{
    char dir[256], cmd[512];
    tu_tmpdir(dir, sizeof dir);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/study'", dir);
    cr_assert_eq(system(cmd), 0);
    write_file(dir, "study/m.yaml",
               "mapping:\n"
               "  - {target: CiMStorage, type: temporal, factors: M1 N16 K1}\n"
               "  - {target: inter_CiMArray_spatial, type: spatial, factors: M1 N4 K64}\n"
               "  - {target: inter_CiMBank_spatial, type: spatial, factors: M1 N1 K4}\n"
               "  - {target: DRAM, type: temporal, factors: M16 N1 K1, permutation: MNK}\n");
    write_file(dir, "study/s.cfg",
               "sweep = {\n"
               "  run = { arch = \"www-sm\"; workload = \"16,64,256\"; cim = \"analog6T@smem\"; macros = \"4\";\n"
               "          compat = \"www\"; };\n"
               "  axes = ( { option = \"mapping\"; values = [\"www\", \"timeloop:m.yaml\"]; } );\n"
               "};\n");
    /* run from the parent: the map is found beside the spec */
    cr_assert_eq(tu_run(dir, "sweep study/s.cfg -o out -q"), 0, "%s", tu_file(dir, "stderr.txt"));
    char *csv = tu_file(dir, "out/results.csv");
    cr_assert(strstr(csv, "\n0,www,") && strstr(csv, "\n1,timeloop:m.yaml,"), "%s", csv);
    free(csv);
    char *json = tu_file(dir, "out/results.json");
    cr_assert(strstr(json, "\"origin\":\"timeloop\""), "the second point ran the map");
    free(json);
    tu_rmdir(dir);
}

/* A primitive's field as an axis (cim.latency), left out at the baseline; a workload axis gets
 * numeric m, n, k columns. */
Test(sweep, primitive_keys_as_axes_and_workload_dimensions)
{
    char dir[256];
    tu_tmpdir(dir, sizeof dir);
    write_file(dir, "s.cfg", "sweep = {\n"
                             "  axes = (\n"
                             "    { option = \"workload\"; values = [\"64,256,256\", \"w.csv\"]; },\n"
                             "    { option = \"cim\"; values = [\"none\", \"analog6T@rf\"]; },\n"
                             "    { set = \"cim.latency\"; name = \"latency\"; values = [\"5ns\", \"20ns\"]; }\n"
                             "  );\n"
                             "};\n");
    write_file(dir, "w.csv", "g,32,256,256\n");
    cr_assert_eq(tu_run(dir, "sweep s.cfg -o o -j 2 -q"), 0);
    char *csv = tu_file(dir, "o/results.csv");
    cr_assert(strncmp(csv, "point,workload,m,n,k,cim,latency,cycles,", 40) == 0, "header: %.60s", csv);
    cr_assert(strstr(csv, "\n0,\"64,256,256\",64,256,256,none,5ns,"), "%s", csv);
    cr_assert(strstr(csv, "\n4,w.csv,,,,none,5ns,"), "%s", csv);
    free(csv);
    json_t *all = tu_json(dir, "o/results.json");
    json_t *res = json_object_get(all, "results");
    double c[4];
    for (size_t i = 0; i < 4; i++)
        c[i] = tu_num(json_object_get(json_array_get(res, i), "result"), "total", "cycles", NULL);
    cr_assert_eq(c[0], c[1], "the baseline has no primitive: latency does not apply");
    cr_assert_lt(c[2], c[3], "a slower primitive takes longer (%g, %g)", c[2], c[3]);
    json_t *r3 = json_object_get(json_array_get(res, 3), "result");
    const char *cmd = json_string_value(json_object_get(json_object_get(r3, "provenance"), "command"));
    cr_assert(strstr(cmd, "--set cim.latency=20ns"), "%s", cmd);
    json_t *r1 = json_object_get(json_array_get(res, 1), "result");
    cmd = json_string_value(json_object_get(json_object_get(r1, "provenance"), "command"));
    cr_assert(!strstr(cmd, "cim.latency"), "%s", cmd);
    json_decref(all);
    tu_rmdir(dir);
}

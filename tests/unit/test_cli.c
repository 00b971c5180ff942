/* test_cli — the `cimsim` command as users and scripts meet it: help and version, one-line
 * usage errors with exit status 2, the result JSON's keys (docs/results.md), byte-identical
 * results across runs and thread counts, atomic outputs, `config check` citing lines, and the
 * generated configuration reference being current. */
#include <criterion/criterion.h>
#include <sys/stat.h>

#include "testutil.h"

static char dir[256];

static void setup(void) { tu_tmpdir(dir, sizeof dir); }
static void teardown(void) { tu_rmdir(dir); }

static void write_file(const char *name, const char *text)
{
    cr_assert_eq(tu_write(dir, name, text), 0, "%s/%s", dir, name);
}

static int lines_of(const char *text)
{
    int n = 0;
    for (; *text; text++)
        n += *text == '\n';
    return n;
}

TestSuite(cli, .init = setup, .fini = teardown);

Test(cli, version_and_help_for_every_command)
{
    cr_assert_eq(tu_run(dir, "--version"), 0);
    char *out = tu_file(dir, "stdout.txt");
    cr_assert(strncmp(out, "cimsim ", 7) == 0, "%s", out);
    free(out);
    const char *subs[] = {"", "run", "compare", "sweep", "trace", "trace record", "trace info", "trace dump",
                          "trace check", "trace import", "report", "energy", "energy show", "energy export",
                          "energy import", "config", "config check", "config dump", "config describe", "bench",
                          "bench engine", "bench run", "validate"};
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
        char args[128];
        snprintf(args, sizeof args, "%s --help", subs[i]);
        cr_assert_eq(tu_run(dir, args), 0, "cimsim %s exits 0", args);
        out = tu_file(dir, "stdout.txt");
        cr_assert(strstr(out, "usage: cimsim"), "cimsim %s prints its usage: %s", args, out);
        free(out);
    }
}

/* Each mistake: exit 2 and exactly one line on stderr naming the problem. */
Test(cli, usage_errors_are_one_line_and_exit_2)
{
    const struct {
        const char *args, *says;
    } cases[] = {
        {"bogus", "unknown command 'bogus'"},
        {"run --bogus", "unknown option '--bogus'"},
        {"run -w", "option '-w' needs a value"},
        {"run -w 0,4096,4096", "m: must be between 1"},
        {"run -w 64,64", "expected"},
        {"run -w no-such-workload", "no-such-workload"},
        {"run -a no-such-arch", "no-such-arch"},
        {"run --dtype int4", "--dtype: must be int8 or fp16"},
        {"run --cim analog6T", "expected PRIMITIVE@LEVEL"},
        {"run --cim analog6T@l3", "l3"},
        {"run --cim nosuch@rf", "nosuch"},
        {"run --macros 4", "--macros needs --cim"},
        {"run -j 0", "--jobs: must be an integer between 1"},
        {"run --set l2.assoc", "--set: expected KEY=VALUE"},
        {"run --set l2.assoc=-1", "l2.assoc"},
        {"run --set l2.nope=1", "unknown key"},
        {"run --tile 64x64", "--tile: expected MxNxK"},
        {"run --compat timeloop", "--compat: must be www"},
        {"run --mapping timeloop:", "--mapping: must be auto, www or timeloop:MAP.yaml"},
        {"run --mapping timeloop:no-such.yaml", "no-such.yaml"},
        {"run -a www-sm --set compat.psum_bits=12", "compat.psum_bits: must be 8, 16 or 32"},
        {"run -a www-sm --set compat.baseline=pe", "compat.baseline"},
        {"compare --levels rf,l3", "--levels"},
        {"sweep x.cfg --shard 3/2", "--shard: expected I/N"},
        {"config check", "expected at least one FILE"},
        {"config describe nosuch", "no group 'nosuch'"},
        {"trace info no-such.cstr", "no-such.cstr"},
        {"report", "RESULT"},
        {"bench run --runs 0", "--runs: must be an integer from 1 to 1000"},
        {"bench engine --runs x", "--runs: must be a positive integer"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cr_assert_eq(tu_run(dir, cases[i].args), 2, "cimsim %s exits 2", cases[i].args);
        char *err = tu_file(dir, "stderr.txt");
        cr_assert(strstr(err, cases[i].says), "cimsim %s: stderr says \"%s\": %s", cases[i].args, cases[i].says,
                  err);
        cr_assert_eq(lines_of(err), 1, "cimsim %s: one line: %s", cases[i].args, err);
        free(err);
    }
}

/* The benchmarks print machine-readable `name: value` lines; with --runs, one per run and the
 * median. */
Test(cli, bench_prints_one_figure_per_run_and_the_median)
{
    cr_assert_eq(tu_run(dir, "bench run -w 64,64,64 --runs 3"), 0);
    char *out = tu_file(dir, "stdout.txt");
    const char *keys[] = {"workload: gemm-64x64x64\n", "run_1_wall_seconds: ", "run_3_wall_seconds: ",
                          "\nwall_seconds: ", "\nevents: ", "\npeak_rss_mb: "};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        cr_expect(strstr(out, keys[i]), "bench run prints \"%s\": %s", keys[i], out);
    cr_expect(!strstr(out, "run_4_"), "%s", out);
    free(out);
    cr_assert_eq(tu_run(dir, "bench engine --nodes 8 --tokens 2 --runs 3 --sim-us 10"), 0);
    out = tu_file(dir, "stdout.txt");
    cr_expect(strstr(out, "run_3_events_per_second: ") && strstr(out, "\nevents_per_second: "), "%s", out);
    free(out);
}

Test(cli, bad_workload_files_cite_their_line)
{
    write_file("w.csv", "name,m,n,k\nok,64,64,64\nbad,64,x,64\n");
    cr_assert_eq(tu_run(dir, "run -w w.csv"), 2);
    char *err = tu_file(dir, "stderr.txt");
    cr_assert(strstr(err, "w.csv:3: error:"), "%s", err);
    free(err);
}

Test(cli, config_check_reports_three_mistakes_with_their_lines)
{
    write_file("three.cfg", "name = \"t\";\n"
                            "sm = {\n"
                            "  count = 0;\n"
                            "  bogus = 1;\n"
                            "};\n"
                            "l2 = { size = \"40Mbps\"; };\n");
    cr_assert_eq(tu_run(dir, "config check three.cfg"), 2);
    char *err = tu_file(dir, "stderr.txt");
    cr_assert_eq(lines_of(err), 3, "%s", err);
    cr_assert(strstr(err, "three.cfg:3: error: sm.count: must be between 1 and 65535 (got 0)"), "%s", err);
    cr_assert(strstr(err, "three.cfg:4: error: sm.bogus: unknown key"), "%s", err);
    cr_assert(strstr(err, "three.cfg:6: error: l2.size: bad unit"), "%s", err);
    free(err);
    /* every shipped file checks clean, whatever its kind */
    char args[4096];
    snprintf(args, sizeof args,
             "config check %s/arch/a100.cfg %s/arch/www-sm.cfg %s/arch/cim/analog6T.cfg %s/arch/energy/45nm.cfg "
             "%s/docs/examples/sweep.cfg %s/docs/examples/sweep-latency.cfg",
             CIMSIM_SOURCE_DIR, CIMSIM_SOURCE_DIR, CIMSIM_SOURCE_DIR, CIMSIM_SOURCE_DIR, CIMSIM_SOURCE_DIR,
             CIMSIM_SOURCE_DIR);
    cr_assert_eq(tu_run(dir, args), 0);
}

static const char *const result_keys[] = {"schema", "version", "arch", "workload", "cim", "gemms", "total", NULL};
static const char *const gemm_keys[] = {"name",   "m",        "n", "k", "cycles", "seconds", "macs", "energy_pj",
                                        "energy_breakdown_pj", "counts", "accesses", NULL};
static const char *const total_keys[] = {"cycles", "seconds", "macs", "energy_pj", "tops", "tops_per_w", "area_mm2",
                                         "energy_breakdown_pj", NULL};
static const char *const breakdown_keys[] = {"dram", "l2",      "smem",      "rf",   "tensor_core",
                                             "cim_mac", "cim_write", "noc", "leakage", NULL};

static void has_keys(json_t *o, const char *const *keys, const char *what)
{
    cr_assert(json_is_object(o), "%s is an object", what);
    for (int i = 0; keys[i]; i++)
        cr_assert_not_null(json_object_get(o, keys[i]), "%s has \"%s\"", what, keys[i]);
}

Test(cli, run_from_any_directory_writes_the_documented_keys)
{
    /* the default architecture and presets are built in: no source tree needed */
    cr_assert_eq(tu_run(dir, "run -w bert-large -o r.json -q -j 2"), 0);
    json_t *r = tu_json(dir, "r.json");
    cr_assert_not_null(r);
    has_keys(r, result_keys, "result");
    cr_assert_str_eq(json_string_value(json_object_get(r, "schema")), "cimsim-result/1");
    cr_assert(json_is_null(json_object_get(r, "cim")));
    json_t *g = json_array_get(json_object_get(r, "gemms"), 0);
    has_keys(g, gemm_keys, "gemm");
    has_keys(json_object_get(g, "energy_breakdown_pj"), breakdown_keys, "gemm breakdown");
    json_t *t = json_object_get(r, "total");
    has_keys(t, total_keys, "total");
    has_keys(json_object_get(t, "energy_breakdown_pj"), breakdown_keys, "total breakdown");
    /* bert-large: 512x1024x1024, 512x512x1024, 512x1024x512, 512x4096x1024, 512x1024x4096 */
    cr_assert_eq(tu_num(t, "macs", NULL, NULL), 512.0 * (1024 * 1024 + 512 * 1024 + 1024 * 512 + 2 * 4096 * 1024));
    cr_assert_eq(json_array_size(json_object_get(r, "gemms")), 5);
    json_decref(r);
}

/* The result without its provenance (which holds the command line). */
static char *without_provenance(const char *name)
{
    json_t *r = tu_json(dir, name);
    cr_assert_not_null(r, "%s", name);
    json_object_del(r, "provenance");
    char *s = json_dumps(r, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(r);
    return s;
}

Test(cli, results_are_byte_identical_across_runs_and_thread_counts)
{
    write_file("w.csv", "name,m,n,k,repeat\na,64,512,512\nb,1,1024,256,2\nc,128,256,1024\n");
    cr_assert_eq(tu_run(dir, "run -w w.csv -o a.json -q -j 2"), 0);
    char *a = tu_file(dir, "a.json");
    cr_assert_eq(tu_run(dir, "run -w w.csv -o a.json -q -j 2"), 0);
    char *b = tu_file(dir, "a.json");
    cr_assert_str_eq(a, b, "two runs of the same command give the same bytes");
    free(a);
    free(b);
    cr_assert_eq(tu_run(dir, "run -w w.csv -o c.json -q -j 1"), 0);
    a = without_provenance("a.json");
    b = without_provenance("c.json");
    cr_assert_str_eq(a, b, "-j 1 and -j 2 give the same result");
    free(a);
    free(b);
    /* and with a CiM placement */
    cr_assert_eq(tu_run(dir, "run -w w.csv --cim digital6T@smem -o d.json -q -j 2"), 0);
    cr_assert_eq(tu_run(dir, "run -w w.csv --cim digital6T@smem -o e.json -q -j 1"), 0);
    a = without_provenance("d.json");
    b = without_provenance("e.json");
    cr_assert_str_eq(a, b);
    free(a);
    free(b);
}

Test(cli, a_failed_run_leaves_the_previous_output_alone)
{
    write_file("r.json", "previous\n");
    cr_assert_eq(tu_run(dir, "run -w 64,64,0 -o r.json -q"), 2);
    char *r = tu_file(dir, "r.json");
    cr_assert_str_eq(r, "previous\n");
    free(r);
    /* no temporary left beside it */
    cr_assert_eq(tu_run(dir, "run -w 64,512,512 -o r.json -q"), 0);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "test $(ls '%s' | grep -c tmp) -eq 0", dir);
    cr_assert_eq(system(cmd), 0, "no temporary files left");
    /* a directory where the file should go is refused, not replaced */
    snprintf(cmd, sizeof cmd, "mkdir '%s/d.json'", dir);
    cr_assert_eq(system(cmd), 0);
    cr_assert_neq(tu_run(dir, "run -w 64,512,512 -o d.json -q"), 0);
    struct stat st;
    snprintf(cmd, sizeof cmd, "%s/d.json", dir);
    cr_assert(stat(cmd, &st) == 0 && S_ISDIR(st.st_mode));
}

Test(cli, config_reference_is_current)
{
    cr_assert_eq(tu_run(dir, "config describe --markdown"), 0);
    char *now = tu_file(dir, "stdout.txt");
    char path[4096];
    snprintf(path, sizeof path, "%s/docs/config-reference.md", CIMSIM_SOURCE_DIR);
    char *doc = tu_slurp(path);
    cr_assert_not_null(doc);
    cr_assert(strcmp(now, doc) == 0,
              "docs/config-reference.md is stale: regenerate it with "
              "`build/cimsim config describe --markdown > docs/config-reference.md`");
    free(now);
    free(doc);
}

Test(cli, config_dump_reads_back_to_the_same_hash)
{
    cr_assert_eq(tu_run(dir, "config dump --set l2.assoc=32"), 0);
    char *dump = tu_file(dir, "stdout.txt");
    cr_assert(strstr(dump, "assoc = 32;  # --set"), "%.400s", dump);
    write_file("dumped.cfg", dump);
    char *hash = strstr(dump, "config hash ");
    cr_assert_not_null(hash);
    char h[17];
    memcpy(h, hash + 12, 16);
    h[16] = '\0';
    free(dump);
    cr_assert_eq(tu_run(dir, "config dump dumped.cfg"), 0);
    dump = tu_file(dir, "stdout.txt");
    cr_assert(strstr(dump, h), "the dump of the dump has hash %s", h);
    free(dump);
}

Test(cli, runs_without_the_final_flush_leave_dirty_lines_in_l2)
{
    /* the default writes every dirty line back at the end; without it the outputs stay in the
     * L2, so DRAM writes fewer bytes, and the run still drains and checks clean */
    cr_assert_eq(tu_run(dir, "run -w 512,1024,256 -o a.json -q"), 0);
    cr_assert_eq(tu_run(dir, "run -w 512,1024,256 --set run.flush_l2=false -o b.json -q"), 0);
    json_t *a = tu_json(dir, "a.json"), *b = tu_json(dir, "b.json");
    json_t *ga = json_array_get(json_object_get(a, "gemms"), 0), *gb = json_array_get(json_object_get(b, "gemms"), 0);
    double wa = tu_num(ga, "bytes", "dram_write", NULL), wb = tu_num(gb, "bytes", "dram_write", NULL);
    cr_assert_eq(wa, 512.0 * 1024, "the flushed run writes the whole 512 KiB output (got %.0f)", wa);
    cr_assert_lt(wb, wa, "without the flush: %.0f bytes", wb);
    json_decref(a);
    json_decref(b);
}

/* Sum of the values of an object of numbers. */
static double sum_of(json_t *o)
{
    double s = 0;
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) s += json_number_value(v);
    return s;
}

Test(cli, energy_splits_add_up_exactly_at_every_level)
{
    const char *runs[] = {"run -w 64,512,512 -o r.json -q", "run -w 1,1024,1024,3 --cim analog6T@smem -o r.json -q",
                          "run -a www-sm -w 128,256,256 --cim analog6T@rf --macros 1 -o r.json -q"};
    for (size_t i = 0; i < 3; i++) {
        cr_assert_eq(tu_run(dir, runs[i]), 0, "%s", runs[i]);
        json_t *r = tu_json(dir, "r.json");
        json_t *t = json_object_get(r, "total");
        double total = tu_num(t, "energy_pj", NULL, NULL), per_gemm = 0;
        cr_assert_eq(sum_of(json_object_get(t, "energy_breakdown_pj")), total, "%s: total breakdown", runs[i]);
        cr_assert_eq(sum_of(json_object_get(t, "energy_by_level_pj")), total, "%s: total levels", runs[i]);
        size_t n;
        json_t *g;
        json_array_foreach(json_object_get(r, "gemms"), n, g) {
            double e = tu_num(g, "energy_pj", NULL, NULL);
            cr_assert_eq(sum_of(json_object_get(g, "energy_breakdown_pj")), e, "%s: GEMM breakdown", runs[i]);
            cr_assert_eq(sum_of(json_object_get(g, "energy_by_level_pj")), e, "%s: GEMM levels", runs[i]);
            per_gemm += e;
        }
        cr_assert_eq(per_gemm, total, "%s: GEMMs add up to the total", runs[i]);
        cr_assert_gt(total, 0);
        json_decref(r);
    }
}

static const char *prov_str(json_t *r, const char *a, const char *b, const char *c)
{
    json_t *v = json_object_get(json_object_get(r, "provenance"), a);
    if (b)
        v = json_object_get(v, b);
    if (c)
        v = json_object_get(v, c);
    return json_string_value(v);
}

/* Every input's content is pinned: editing a primitive file, a workload CSV or an energy table
 * changes the recorded hash; --set names the architecture as modified and lists the overrides;
 * a primitive key (cim.latency) set on the command line changes the primitive's hash and the
 * result. */
Test(cli, provenance_pins_every_input)
{
    char prim[2048];
    const char *tmpl = "cim_primitive = { name = \"mine\"; kind = \"analog\"; rp = 64; cp = 4; ch = 16;\n"
                       "  size = \"4096B\"; latency = \"%s\"; mac_energy = \"0.15pJ\"; write_energy = \"1.9pJ\"; };\n";
    snprintf(prim, sizeof prim, tmpl, "5ns");
    write_file("mine.cfg", prim);
    write_file("w.csv", "name,m,n,k\ng,64,256,256\n");
    const char *args = "run -w w.csv --cim mine.cfg@rf -q -o a.json";
    cr_assert_eq(tu_run(dir, args), 0);
    snprintf(prim, sizeof prim, tmpl, "7ns");
    write_file("mine.cfg", prim);
    write_file("w2.csv", "name,m,n,k\ng,64,256,256\n\n");
    cr_assert_eq(tu_run(dir, "run -w w2.csv --cim mine.cfg@rf -q -o b.json"), 0);
    json_t *a = tu_json(dir, "a.json"), *b = tu_json(dir, "b.json");
    cr_assert(a && b);
    cr_assert_neq(tu_num(a, "total", "cycles", NULL), tu_num(b, "total", "cycles", NULL), "the edit changes the result");
    const char *ca = prov_str(a, "inputs", "cim_primitive", "content_hash");
    const char *cb = prov_str(b, "inputs", "cim_primitive", "content_hash");
    cr_assert(ca && cb && strlen(ca) == 16 && strcmp(ca, cb) != 0, "%s %s", ca, cb);
    cr_assert_str_neq(prov_str(a, "inputs", "cim_primitive", "config_hash"),
                      prov_str(b, "inputs", "cim_primitive", "config_hash"));
    cr_assert_str_eq(prov_str(a, "inputs", "cim_primitive", "source"), "mine.cfg");
    /* the workload text differs by a blank line: its hash does, the arch's does not */
    cr_assert_str_neq(prov_str(a, "inputs", "workload", "content_hash"), prov_str(b, "inputs", "workload", "content_hash"));
    cr_assert_str_eq(prov_str(a, "inputs", "workload", "source"), "w.csv");
    cr_assert_str_eq(prov_str(a, "inputs", "arch", "content_hash"), prov_str(b, "inputs", "arch", "content_hash"));
    cr_assert_not_null(prov_str(a, "inputs", "energy_table", "content_hash"));
    cr_assert_str_eq(json_string_value(json_object_get(a, "arch")), "a100-sxm4-40gb");
    cr_assert(json_is_null(json_object_get(json_object_get(a, "provenance"), "overrides")));

    /* the same latency by --set on the 5 ns file: the primitive's effective hash and the result
     * of the edited file; the architecture is named modified only for its own keys */
    snprintf(prim, sizeof prim, tmpl, "5ns");
    write_file("mine.cfg", prim);
    cr_assert_eq(tu_run(dir, "run -w w2.csv --cim mine.cfg@rf --set cim.latency=7ns -q -o c.json"), 0);
    json_t *c = tu_json(dir, "c.json");
    cr_assert_eq(tu_num(c, "total", "cycles", NULL), tu_num(b, "total", "cycles", NULL));
    cr_assert_str_eq(prov_str(c, "inputs", "cim_primitive", "config_hash"),
                     prov_str(b, "inputs", "cim_primitive", "config_hash"));
    cr_assert_str_eq(prov_str(c, "inputs", "cim_primitive", "overrides"), "cim.latency=7ns");
    cr_assert_str_eq(json_string_value(json_object_get(c, "arch")), "a100-sxm4-40gb");
    cr_assert_eq(tu_run(dir, "run -w w.csv --set l2.assoc=8 -q -o d.json"), 0);
    json_t *d = tu_json(dir, "d.json");
    cr_assert_str_eq(json_string_value(json_object_get(d, "arch")), "a100-sxm4-40gb+set");
    cr_assert_str_eq(prov_str(d, "overrides", NULL, NULL), "l2.assoc=8");
    cr_assert(json_is_null(json_object_get(json_object_get(json_object_get(d, "provenance"), "inputs"), "cim_primitive")));
    json_decref(a);
    json_decref(b);
    json_decref(c);
    json_decref(d);
    /* a primitive key without a primitive, or one the primitive has not */
    cr_assert_eq(tu_run(dir, "run -w w.csv --set cim.latency=7ns"), 2);
    char *err = tu_file(dir, "stderr.txt");
    cr_assert(strstr(err, "cim.latency=7ns: a CiM primitive key needs --cim") && lines_of(err) == 1, "%s", err);
    free(err);
    cr_assert_eq(tu_run(dir, "run -w w.csv --cim analog6T@rf --set cim.latency=-1ns"), 2);
    err = tu_file(dir, "stderr.txt");
    cr_assert(strstr(err, "latency"), "%s", err);
    free(err);
}

/* `report --plot` alone draws without printing the tables; with -o or --format it writes them. */
Test(cli, report_plot_alone_prints_no_tables)
{
    cr_assert_eq(tu_run(dir, "run -w 64,256,256 -q -o r.json"), 0);
    if (system("command -v gnuplot >/dev/null 2>&1") != 0)
        cr_skip("gnuplot is not installed");
    cr_assert_eq(tu_run(dir, "report r.json --plot b.svg"), 0);
    char *out = tu_file(dir, "stdout.txt");
    cr_assert_str_eq(out, "");
    free(out);
    cr_assert_eq(tu_run(dir, "report r.json --plot b.svg --format md"), 0);
    out = tu_file(dir, "stdout.txt");
    cr_assert(strstr(out, "| GEMM |"), "%s", out);
    free(out);
}

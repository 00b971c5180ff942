/* test_hardening — the command as an adversarial user meets it (issue 15): one suite per item
 * of that issue. A result file runs no command, outputs never replace devices or FIFOs, every
 * value in a documented range simulates, a trace that passes `trace check` runs, every input
 * is bounded, sweeps lock their journals, nothing is cut silently, and the smaller items. The
 * device tests use a FIFO the test makes, never /dev. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "arch.h"
#include "mapper_tc.h"
#include "testutil.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

static char dir[256];

static void setup(void)
{
    tu_tmpdir(dir, sizeof dir);
    setenv("CIMSIM", CIMSIM_BINARY, 1);
    setenv("SRC", CIMSIM_SOURCE_DIR, 1);
}
static void teardown(void) { tu_rmdir(dir); }

/* Runs a shell script in dir ($CIMSIM is the binary, $SRC the source tree), its stdout and
 * stderr into dir/out.txt and dir/err.txt; returns the exit status, or 128 + signal. */
static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char script[6000], cmd[7000];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(script, sizeof script, fmt, ap);
    va_end(ap);
    char path[400];
    snprintf(path, sizeof path, "%s/script.sh", dir);
    FILE *f = fopen(path, "w");
    cr_assert(f);
    fputs(script, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "cd '%s' && sh ./script.sh >out.txt 2>err.txt", dir);
    int st = system(cmd);
    if (st == -1)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static char *file(const char *name) { return tu_file(dir, name); }

static bool exists(const char *name)
{
    char p[600];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    struct stat sb;
    return lstat(p, &sb) == 0;
}

static void says(const char *name, const char *what)
{
    char *t = file(name);
    cr_assert(t && strstr(t, what), "%s says \"%s\": %s", name, what, t ? t : "(missing)");
    free(t);
}

/* ==== 1. a result file runs no command ====================================================== */

TestSuite(plot_injection, .init = setup, .fini = teardown);

Test(plot_injection, strings_from_a_result_reach_gnuplot_only_quoted)
{
    json_error_t je;
    json_t *r = json_load_file(CIMSIM_SOURCE_DIR "/tests/data/results/result.json", 0, &je);
    cr_assert(r, "%s", je.text);
    json_t *prov = json_object_get(r, "provenance");
    json_object_set_new(prov, "energy_table", json_string("7nm\nsystem \"touch PWNED1\"\n#"));
    json_object_set_new(prov, "command", json_string("cimsim run \\"));
    json_object_set_new(prov, "config_hash", json_string("x\rsystem 'touch PWNED2'"));
    json_t *g0 = json_array_get(json_object_get(r, "gemms"), 0);
    json_object_set_new(g0, "name", json_string("q`touch PWNED3`\nsystem \"touch PWNED4\""));
    char p[400];
    snprintf(p, sizeof p, "%s/evil.json", dir);
    cr_assert_eq(json_dump_file(r, p, 0), 0);
    json_decref(r);
    /* A plot file name with a newline too; and the roofline, whose labels are the names. */
    int rc = sh("name=$(printf 'e\\nsystem \"touch PWNED5\".svg')\n"
                "\"$CIMSIM\" report evil.json --plot \"$name\" --plot roofline:r.svg\n");
    cr_assert_eq(rc, 0, "report exits 0");
    for (int i = 1; i <= 5; i++) {
        char n[16];
        snprintf(n, sizeof n, "PWNED%d", i);
        cr_assert(!exists(n), "no command ran (%s exists)", n);
    }
    char *svg = file("e\nsystem \"touch PWNED5\".svg");
    cr_assert(svg && strstr(svg, "<svg"), "the plot with the odd name was written");
    free(svg);
    /* The name is shown, its newline as a space, nothing interpreted. */
    says("r.svg", "q`touch PWNED3` system \"touch PWNED4\"");
}

/* ==== 2. outputs never replace devices, FIFOs or links ===================================== */

TestSuite(outputs, .init = setup, .fini = teardown);

Test(outputs, a_fifo_is_written_in_place_by_every_writer)
{
    /* trace record, run -o, report -o, energy import -o: through a FIFO the test made, read by
     * cat; the FIFO stays a FIFO. */
    int rc = sh("mkfifo f\n"
                "cat f > trace.cstr & \"$CIMSIM\" trace record -w 64,64,64 -o f || exit 10; wait\n"
                "cat f > r.json & \"$CIMSIM\" run -q -w 64,64,64 -o f > /dev/null || exit 11; wait\n"
                "cat f > t.md & \"$CIMSIM\" report r.json -o f --format md || exit 12; wait\n"
                "A=$SRC/tests/data/accelergy\n"
                "cat f > e.cfg & \"$CIMSIM\" energy import $A/ERT.yaml $A/ART.yaml "
                "--map $A/www-45nm.map.cfg -o f || exit 13; wait\n"
                "test -p f || exit 14\n"
                "\"$CIMSIM\" trace check trace.cstr || exit 15\n"
                "\"$CIMSIM\" config check e.cfg || exit 16\n");
    cr_assert_eq(rc, 0, "step %d failed", rc - 9);
    json_t *j = tu_json(dir, "r.json");
    cr_assert(j, "the result came through the FIFO whole");
    json_decref(j);
    says("t.md", "| gemm");
}

Test(outputs, dash_and_links_to_stdout_mean_stdout)
{
    int rc = sh("\"$CIMSIM\" run -q -w 64,64,64 -o - > r.json 2> table.txt || exit 10\n"
                "ln -s /proc/self/fd/1 so\n"
                "\"$CIMSIM\" trace record -w 64,64,64 -o so > t.cstr || exit 11\n"
                "test -L so || exit 12\n"
                "\"$CIMSIM\" trace check t.cstr || exit 13\n");
    cr_assert_eq(rc, 0, "step %d failed", rc - 9);
    json_t *j = tu_json(dir, "r.json");
    cr_assert(j, "stdout holds the JSON alone");
    json_decref(j);
    says("table.txt", "gemm-64x64x64"); /* the table went to stderr */
}

Test(outputs, a_link_to_a_file_keeps_the_link_and_directories_are_refused)
{
    int rc = sh("echo old > real.json && ln -s real.json link.json\n"
                "\"$CIMSIM\" run -q -w 64,64,64 -o link.json > /dev/null || exit 10\n"
                "test -L link.json || exit 11\n"
                "grep -q cimsim-result real.json || exit 12\n"
                "mkdir d\n"
                "\"$CIMSIM\" run -q -w 64,64,64 -o d > /dev/null; test $? = 2 || exit 13\n"
                "test -d d || exit 14\n");
    cr_assert_eq(rc, 0, "step %d failed", rc - 9);
    says("err.txt", "d: error: is a directory");
}

/* ==== 3. every documented value simulates =================================================== */

TestSuite(ranges, .init = setup, .fini = teardown);

Test(ranges, long_latencies_and_a_slow_hbm_drain)
{
    const char *sets[] = {
        "--set l2.mem_latency=1100ns",
        "--set hbm.ideal=true --set hbm.ideal_latency=2us",
        "--set hbm.clock=100MHz --set hbm.timing.tRTW=500",
        "--set l2.mem_latency=1ms",                         /* the top of the range */
        "--set hbm.ideal=true --set hbm.ideal_latency=1ms", /* the top of the range */
    };
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++) {
        int rc = sh("\"$CIMSIM\" run -q -w 64,64,64 %s -o r.json", sets[i]);
        char *err = file("err.txt");
        cr_assert_eq(rc, 0, "%s: exit %d: %s", sets[i], rc, err);
        free(err);
    }
}

/* ==== 4. a trace that passes check runs ==================================================== */

TestSuite(traces, .init = setup, .fini = teardown);

/* A recorded 64x64x64 trace as text, one of its lines changed by sed (or lines added). */
static void make_trace(const char *name, const char *sed)
{
    int rc = sh("test -f base.txt || { \"$CIMSIM\" trace record -w 64,64,64 -o base.cstr && "
                "\"$CIMSIM\" trace dump base.cstr > base.txt; } || exit 10\n"
                "sed %s base.txt > %s.txt && \"$CIMSIM\" trace import %s.txt -o %s.cstr",
                sed, name, name, name);
    cr_assert_eq(rc, 0, "%s: %d", name, rc);
}

static void refused(const char *name, const char *what)
{
    cr_assert_eq(sh("\"$CIMSIM\" trace check %s.cstr", name), 2, "%s: trace check refuses", name);
    says("err.txt", what);
    int rc = sh("timeout 60 \"$CIMSIM\" run -q --trace %s.cstr", name);
    cr_assert_eq(rc, 2, "%s: run --trace exits 2 (got %d)", name, rc);
}

Test(traces, what_check_passes_runs_and_what_it_refuses_does_not)
{
    make_trace("ok", "-e 's/^@producer.*/@producer test/'");
    cr_assert_eq(sh("\"$CIMSIM\" trace check ok.cstr && \"$CIMSIM\" run -q --trace ok.cstr"), 0);
    /* 33 copy groups outstanding in one warp (the SM had an assertion for it) */
    char sed[4000] = "-e '/^sm 0 cta_begin/a\\\n";
    for (int t = 0; t < 33; t++)
        snprintf(sed + strlen(sed), sizeof sed - strlen(sed),
                 "sm 0 cp_async warp=0 addr=0x100000000 local=0 rows=1 row_bytes=16 stride=16 "
                 "tag=%d%s",
                 100 + t, t < 32 ? "\\\n" : "'");
    make_trace("groups", sed);
    refused("groups", "more than 32 copy groups");
    /* 4294967295 rows (aborted or spun) and a destination past the CTA's shared memory */
    make_trace("rows", "-e '0,/ cp_async /{/ cp_async /s/rows=4 /rows=4294967295 /}'");
    refused("rows", "beyond the CTA's shared memory");
    make_trace("dst", "-e '0,/ cp_async /{/ cp_async /s/local=0 /local=0x9ff0 /}'");
    refused("dst", "beyond the CTA's shared memory");
    /* absurd MMA rows (an invariant, exit 1, before); and one row too many: the MACs */
    make_trace("mma", "-e '0,/ mma /{/ mma /s/rows=16 /rows=4000000000 /}'");
    refused("mma", "mma: m or n above 1024");
    make_trace("macs", "-e '0,/ mma /{/ mma /s/rows=16 /rows=17 /}'");
    refused("macs", "not the 262144 of gemm.m x gemm.n x gemm.k");
}

/* ==== 5. every input is bounded ============================================================= */

TestSuite(bounded, .init = setup, .fini = teardown);

Test(bounded, endless_inputs_end_in_a_message)
{
    struct {
        const char *cmd, *says;
    } c[] = {
        {"run -q -w /dev/zero", "larger than 16 MiB"},
        {"trace import /dev/zero -o t.cstr", "line longer than"},
        {"energy import /dev/zero $SRC/tests/data/accelergy/ART.yaml --map "
         "$SRC/tests/data/accelergy/www-45nm.map.cfg -o e.cfg",
         "larger than 16 MiB"},
        {"config check /dev/zero", "larger than 16 MiB"},
        {"report /dev/zero", "larger than 256 MiB"},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        int rc = sh("\"$CIMSIM\" %s", c[i].cmd);
        cr_assert_eq(rc, 2, "%s: exit %d", c[i].cmd, rc);
        says("err.txt", c[i].says);
    }
}

Test(bounded, out_of_memory_is_a_message_and_exit_1)
{
#ifdef UNDER_ASAN
    cr_skip_test("ASan reserves more address space than the limit this test sets");
#else
    /* 80 GiB of L2 reserves 11 GiB of tag memory: refused under a 2 GiB address-space limit */
    int rc = sh("ulimit -v 2000000; \"$CIMSIM\" run -q -w 64,64,64 --set l2.size=80GiB");
    cr_assert_eq(rc, 1, "exit 1, not SIGABRT (got %d)", rc);
    says("err.txt", "cimsim: out of memory");
#endif
}

/* ==== 6. sweeps ============================================================================= */

TestSuite(sweeps, .init = setup, .fini = teardown);

static const char spec[] = "sweep = { name = \"s\"; run = { workload = \"16,16,16\"; };\n"
                           "  axes = ( { set = \"l2.hit_latency\"; values = [\"100\", \"120\"]; } ); };\n";

Test(sweeps, a_journal_another_sweep_holds_is_refused)
{
    cr_assert_eq(tu_write(dir, "s.cfg", spec), 0);
    cr_assert_eq(sh("mkdir out"), 0);
    char j[400];
    snprintf(j, sizeof j, "%s/out/journal.jsonl", dir);
    int fd = open(j, O_WRONLY | O_CREAT | O_APPEND, 0644);
    cr_assert(fd >= 0 && flock(fd, LOCK_EX) == 0, "the test holds the journal as a sweep would");
    cr_assert_eq(sh("\"$CIMSIM\" sweep s.cfg -q -o out"), 2);
    says("err.txt", "another cimsim sweep is writing this journal");
    cr_assert_eq(sh("\"$CIMSIM\" sweep s.cfg -q -o out --resume"), 2);
    cr_assert_eq(sh("\"$CIMSIM\" sweep s.cfg -q -o out --shard 0/2"), 2, "a shard waits too");
    says("err.txt", "a running cimsim sweep is writing");
    cr_assert(!exists("out/journal.shard-0-of-2.jsonl"), "a refused shard leaves no journal");
    close(fd);
    cr_assert_eq(sh("\"$CIMSIM\" sweep s.cfg -q -o out"), 0, "free again");
    cr_assert(exists("out/results.csv"));
}

Test(sweeps, a_name_cannot_leave_the_working_directory_and_the_limit_holds)
{
    cr_assert_eq(tu_write(dir, "e.cfg", "sweep = { name = \"../escaped\"; run = { workload = "
                                        "\"16,16,16\"; }; axes = ( { set = \"l2.assoc\"; "
                                        "values = [\"16\"]; } ); };\n"),
                 0);
    cr_assert_eq(sh("mkdir w && cd w && \"$CIMSIM\" sweep ../e.cfg -q"), 2);
    says("err.txt", "sweep.name");
    cr_assert(!exists("escaped") && !exists("sweep-..") && !exists("w/sweep-.."));
    /* The documented 1,000,000 points are accepted, twice as many are refused (docs/limits.md) */
    for (int axes = 2; axes <= 3; axes++) {
        char big[12000] = "sweep = { run = { workload = \"16,16,16\"; }; axes = (";
        for (int a = 0; a < 2; a++) {
            snprintf(big + strlen(big), sizeof big - strlen(big), "%s{ set = \"%s\"; values = [",
                     a ? ", " : "", a ? "l2.hit_latency" : "xbar.latency");
            for (int v = 0; v < 1000; v++)
                snprintf(big + strlen(big), sizeof big - strlen(big), "%s\"%d\"", v ? "," : "",
                         v + 1);
            snprintf(big + strlen(big), sizeof big - strlen(big), "]; }");
        }
        snprintf(big + strlen(big), sizeof big - strlen(big), "%s ); };\n",
                 axes == 3 ? ", { set = \"l2.assoc\"; values = [\"16\", \"8\"]; }" : "");
        cr_assert_eq(tu_write(dir, "big.cfg", big), 0);
        cr_assert_eq(sh("\"$CIMSIM\" config check big.cfg"), axes == 2 ? 0 : 2, "%d axes", axes);
    }
    says("err.txt", "at most 1000000 points");
}

/* ==== 7. nothing cut silently ============================================================== */

TestSuite(truncation, .init = setup, .fini = teardown);

Test(truncation, long_workloads_and_nul_bytes)
{
    char zeros[160];
    memset(zeros, '0', 149);
    zeros[149] = '\0';
    cr_assert_eq(sh("\"$CIMSIM\" run -q -w '64,64,%s128 , 2 ' -o r.json > /dev/null", zeros), 0);
    json_t *j = tu_json(dir, "r.json");
    json_t *g = json_array_get(json_object_get(j, "gemms"), 0);
    cr_assert_eq(json_integer_value(json_object_get(g, "k")), 128, "the whole -w value counts");
    cr_assert_eq(json_integer_value(json_object_get(g, "repeat")), 2, "and its repeat");
    json_decref(j);
    cr_assert_eq(sh("printf 'l2 = { assoc = 16; };\\000 l2 = { assoc = 3; };\\n' > n.cfg && "
                    "\"$CIMSIM\" config check n.cfg"), 2);
    says("err.txt", "a NUL byte at byte 21");
    cr_assert_eq(sh("printf 'a,64,64,64\\n\\000b,1,1,1\\n' > n.csv && \"$CIMSIM\" run -q -w n.csv"), 2);
    says("err.txt", "NUL byte");
}

/* ==== 8. the smaller ones =================================================================== */

TestSuite(smaller, .init = setup, .fini = teardown);

Test(smaller, config_check_reads_once_and_takes_a_bom)
{
    int rc = sh("\"$CIMSIM\" config check /dev/stdin < $SRC/arch/a100.cfg || exit 10\n"
                "mkfifo p && (cat $SRC/arch/cim/analog6T.cfg > p &) && "
                "\"$CIMSIM\" config check p || exit 11\n"
                "printf '\\357\\273\\277' > bom.cfg && cat $SRC/arch/a100.cfg >> bom.cfg && "
                "\"$CIMSIM\" config check bom.cfg || exit 12\n");
    cr_assert_eq(rc, 0, "step %d failed", rc - 9);
}

Test(smaller, whitespace_on_either_side_and_strict_macros)
{
    cr_assert_eq(tu_write(dir, "w.csv", "a, 64,64 ,64\n b ,64,64,64 , 2\n"), 0);
    cr_assert_eq(sh("\"$CIMSIM\" run -q -w w.csv -o r.json > /dev/null"), 0);
    cr_assert_eq(sh("\"$CIMSIM\" run -q -w ' 64 , 64,64 ' > /dev/null"), 0);
    cr_assert_eq(sh("\"$CIMSIM\" run -q -w 64,64,64 --cim analog6T@smem --macros ' 4'"), 2);
    cr_assert_eq(sh("\"$CIMSIM\" run -q -w 64,64,64 --cim analog6T@smem --macros '4 '"), 2);
}

Test(smaller, trace_info_says_it_did_not_verify_the_chunks)
{
    cr_assert_eq(sh("\"$CIMSIM\" trace record -w 64,64,64 -o t.cstr && \"$CIMSIM\" trace info t.cstr"), 0);
    says("out.txt", "not verified");
}

Test(smaller, outputs_are_checked_before_simulating_and_compare_cleans_up)
{
    int rc = sh("\"$CIMSIM\" run -w 512,512,512 -o nodir/r.json");
    cr_assert_eq(rc, 2);
    char *out = file("out.txt");
    cr_assert(out && !strstr(out, "gemm-512x512x512"), "nothing simulated: %s", out);
    free(out);
    /* a write that fails (a file size limit stands for a full disk) leaves no empty DIR */
    rc = sh("trap '' XFSZ; ulimit -f 1; \"$CIMSIM\" compare -q -w 16,16,16 --levels smem "
            "--primitives analog6T -o newdir > /dev/null");
    cr_assert_eq(rc, 2, "compare fails to write (got %d)", rc);
    cr_assert(!exists("newdir"), "and removes the directory it made");
}

Test(smaller, replays_refuse_options_they_cannot_honour)
{
    cr_assert_eq(sh("\"$CIMSIM\" trace record -w 64,64,64 -o t.cstr"), 0);
    cr_assert_eq(sh("\"$CIMSIM\" run -q --trace t.cstr --dtype fp16"), 2);
    says("err.txt", "recorded with --dtype int8");
    cr_assert_eq(sh("\"$CIMSIM\" run -q --trace t.cstr --tile 64x64x64"), 2);
    says("err.txt", "--tile does not apply");
    cr_assert_eq(sh("\"$CIMSIM\" run -q --trace t.cstr --dtype int8 > /dev/null"), 0);
}

Test(smaller, energy_import_devices_duplicates_and_cim_none)
{
    int rc = sh("A=$SRC/tests/data/accelergy\n"
                "printf 'ERT:\\n  version: 0.3\\n  version: 0.4\\n  tables: []\\n' > dup.yaml\n"
                "\"$CIMSIM\" energy import dup.yaml $A/ART.yaml --map $A/www-45nm.map.cfg -o t.cfg; "
                "test $? = 2 || exit 10\n"
                "grep -q \"duplicate key 'version'\" err.txt || exit 11\n"
                "\"$CIMSIM\" run -q -w 64,64,64 --cim none > base.txt || exit 12\n"
                "\"$CIMSIM\" run -q -w 64,64,64 > base2.txt && cmp base.txt base2.txt || exit 13\n");
    cr_assert_eq(rc, 0, "step %d failed", rc - 9);
}

Test(smaller, a_large_l2_runs_in_little_memory_and_long_runs_say_so)
{
    cr_assert_eq(sh("\"$CIMSIM\" run -q -w 64,64,64 --set l2.size=40GiB > /dev/null"), 0);
    /* the estimate comes before the work: the run is cut short by timeout */
    sh("timeout 3 \"$CIMSIM\" run -w 100000,100000,100000 > /dev/null");
    says("err.txt", "takes about");
    cr_assert_eq(sh("\"$CIMSIM\" run -q -j 1024 -w 64,64,64 > /dev/null"), 0);
}

/* ==== 9. halving the HBM clock does not speed a GEMM up ===================================== */

TestSuite(model, .init = setup, .fini = teardown);

static cs_tc_tiling choose(const char *clock)
{
    const char *sets[1] = {clock};
    cs_arch_doc *d = NULL;
    cs_err err;
    cs_err_init(&err);
    cr_assert_eq(cs_arch_load("a100", sets, 1, &d, &err), CS_OK, "%s", err.msg[0]);
    cs_target t = cs_arch_target(&d->arch);
    cs_gemm g = {.name = "prefill", .m = 2048, .n = 4096, .k = 4096, .repeat = 1};
    cs_tc_tiling tl;
    cr_assert_eq(cs_tc_choose(&t, &g, CS_DTYPE_INT8, NULL, &tl, &err), CS_OK);
    cs_arch_doc_destroy(d);
    return tl;
}

Test(model, split_k_whose_partial_sums_overflow_the_l2_is_not_chosen)
{
    /* The mechanism of issue 15 item 9 (docs/model.md 13.2): at the A100's HBM clock the
     * estimate chose split-K 2 for 2048x4096x4096, whose 32 MiB of fp32 partial sums spill
     * from the 40 MiB L2 and simulate slower than split 1; at half the clock it did not. */
    cs_tc_tiling full = choose("hbm.clock=1215MHz"), half = choose("hbm.clock=607.5MHz");
    cr_assert_eq(full.split_k, 1, "split %u at 1215 MHz", full.split_k);
    cr_assert_eq(half.split_k, 1, "split %u at 607.5 MHz", half.split_k);
    cr_assert_leq(full.est_cycles, half.est_cycles);
}

/* test_replay — a recorded trace replays to the same result as the direct run, byte for byte
 * apart from the provenance (which names the trace), for the baseline and for CiM placements
 * at every level. (A trace holds one execution of a GEMM; `trace record` refuses repeats.) */
#include <criterion/criterion.h>

#include "testutil.h"

/* The result file without its provenance, as canonical text. */
static char *canonical(const char *dir, const char *name)
{
    json_t *r = tu_json(dir, name);
    cr_assert_not_null(r, "%s/%s", dir, name);
    json_object_del(r, "provenance");
    char *s = json_dumps(r, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(r);
    return s;
}

static void same_after_replay(const char *args, const char *arch)
{
    char dir[256], cmd[1024];
    tu_tmpdir(dir, sizeof dir);
    snprintf(cmd, sizeof cmd, "run %s -q -o direct.json", args);
    cr_assert_eq(tu_run(dir, cmd), 0, "cimsim %s", cmd);
    snprintf(cmd, sizeof cmd, "trace record %s -o t.cstr", args);
    cr_assert_eq(tu_run(dir, cmd), 0, "cimsim %s: %s", cmd, tu_file(dir, "stderr.txt"));
    cr_assert_eq(tu_run(dir, "trace check t.cstr"), 0);
    snprintf(cmd, sizeof cmd, "run --trace t.cstr %s -q -o replay.json", arch);
    cr_assert_eq(tu_run(dir, cmd), 0, "%s", tu_file(dir, "stderr.txt"));
    char *a = canonical(dir, "direct.json"), *b = canonical(dir, "replay.json");
    cr_assert_str_eq(a, b, "%s: the replay differs from the direct run", args);
    free(a);
    free(b);
    tu_rmdir(dir);
}

Test(replay, baseline) { same_after_replay("-w 256,512,512", ""); }
Test(replay, baseline_fp16) { same_after_replay("-w 128,256,512 --dtype fp16", "--dtype fp16"); }
Test(replay, cim_in_the_register_file) { same_after_replay("-w 64,256,512 --cim analog6T@rf", ""); }
Test(replay, cim_in_shared_memory_with_duplication)
{
    same_after_replay("-w 128,512,1024 --cim digital6T@smem --dup 2", "");
}
Test(replay, cim_in_l2) { same_after_replay("-w 4,1024,1024 --cim analog6T@l2", ""); }
Test(replay, the_www_template)
{
    same_after_replay("-a www-sm -w 64,256,256 --cim analog6T@rf --macros 1 --mapping www", "-a www-sm");
}

/* test_golden — end-to-end: each case of tests/golden/cases.txt is run with `cimsim run` and
 * its result must equal tests/golden/data/NAME.json exactly (every cycle, byte, count and
 * energy), apart from provenance (the command line names another output file) and version.
 * A deliberate model change regenerates the files with tests/golden/update.sh. */
#include <criterion/criterion.h>

#include "testutil.h"

/* The first path at which two JSON values differ, into buf ("" when equal). */
static void first_diff(json_t *a, json_t *b, const char *path, char *buf, size_t cap)
{
    if (buf[0])
        return;
    if (json_typeof(a) != json_typeof(b)) {
        snprintf(buf, cap, "%s: types differ", path);
        return;
    }
    char sub[512];
    if (json_is_object(a)) {
        const char *k;
        json_t *v;
        json_object_foreach(a, k, v) {
            snprintf(sub, sizeof sub, "%s.%s", path, k);
            json_t *w = json_object_get(b, k);
            if (!w) {
                snprintf(buf, cap, "%s: missing in the new result", sub);
                return;
            }
            first_diff(v, w, sub, buf, cap);
        }
        if (!buf[0] && json_object_size(a) != json_object_size(b))
            snprintf(buf, cap, "%s: the new result has extra keys", path);
        return;
    }
    if (json_is_array(a)) {
        if (json_array_size(a) != json_array_size(b)) {
            snprintf(buf, cap, "%s: %zu vs %zu items", path, json_array_size(a), json_array_size(b));
            return;
        }
        for (size_t i = 0; i < json_array_size(a); i++) {
            snprintf(sub, sizeof sub, "%s[%zu]", path, i);
            first_diff(json_array_get(a, i), json_array_get(b, i), sub, buf, cap);
        }
        return;
    }
    if (!json_equal(a, b)) {
        char *x = json_dumps(a, JSON_ENCODE_ANY), *y = json_dumps(b, JSON_ENCODE_ANY);
        snprintf(buf, cap, "%s: golden %s, now %s", path, x, y);
        free(x);
        free(y);
    }
}

Test(golden, results_equal_the_recorded_ones, .timeout = 600)
{
    char dir[256], path[4096], line[1024];
    tu_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/tests/golden/cases.txt", CIMSIM_SOURCE_DIR);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s", path);
    int cases = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char *bar = strchr(line, '|');
        if (line[0] == '#' || !bar)
            continue;
        *bar = '\0';
        const char *name = line, *args = bar + 1;
        char cmd[2048];
        snprintf(cmd, sizeof cmd, "run %s -q -o out.json", args);
        cr_assert_eq(tu_run(dir, cmd), 0, "%s: cimsim %s failed", name, cmd);
        snprintf(path, sizeof path, "%s/tests/golden/data/%s.json", CIMSIM_SOURCE_DIR, name);
        json_error_t e;
        json_t *want = json_load_file(path, 0, &e), *got = tu_json(dir, "out.json");
        cr_assert_not_null(want, "%s: %s", path, e.text);
        cr_assert_not_null(got);
        json_t *objs[] = {want, got};
        for (int i = 0; i < 2; i++) {
            json_object_del(objs[i], "provenance");
            json_object_del(objs[i], "version");
        }
        char diff[1024] = "";
        first_diff(want, got, name, diff, sizeof diff);
        cr_expect(diff[0] == '\0', "%s (regenerate with tests/golden/update.sh only if the change is meant)", diff);
        json_decref(want);
        json_decref(got);
        cases++;
    }
    fclose(f);
    cr_assert_geq(cases, 5, "the cases file lists the golden runs");
    tu_rmdir(dir);
}

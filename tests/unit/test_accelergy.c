/* test_accelergy — Accelergy interoperability (tools/accelergy.h) and `cimsim energy`
 * (tools/cmd_energy.h): importing a realistic ERT/ART pair through a mapping file, export then
 * import returning identical doubles, the older dict layout, malformed YAML and mappings with
 * their exact FILE:LINE messages, and the command's exit statuses. Data: tests/data/accelergy/. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "accelergy.h"
#include "alloc.h"
#include "cmd_energy.h"
#include "energy.h"

#define DATA CIMSIM_SOURCE_DIR "/tests/data/accelergy"

static void in_data(void)
{
    cr_assert_eq(chdir(DATA), 0);
}

static cs_energy_table *import_ok(const char *ert, const char *art, const char *map,
                                  const cs_energy_table *base)
{
    cs_err err;
    cs_err_init(&err);
    cs_energy_table *t = NULL;
    cs_status st = cs_accelergy_import(ert, art, map, base, &t, &err);
    cr_assert_eq(st, CS_OK, "import: %s", err.count ? err.msg[0] : "?");
    cr_assert_not_null(t);
    return t;
}

static double pj_of(const cs_energy_table *t, const char *cls, const char *action)
{
    double pj = -1;
    cr_assert_eq(cs_energy_lookup(t, cls, action, &pj), CS_OK, "%s.%s missing", cls, action);
    return pj;
}

static const char *source_of(const cs_energy_table *t, const char *cls, const char *action)
{
    for (size_t i = 0; i < cs_energy_entry_count(t); i++) {
        const char *c, *a, *s;
        cs_energy_entry_get(t, i, &c, &a, NULL, NULL, NULL, &s);
        if (strcmp(c, cls) == 0 && (action ? a && strcmp(a, action) == 0 : !a))
            return s;
    }
    cr_assert_fail("no entry %s.%s", cls, action ? action : "(instance)");
    return NULL;
}

/* ---- the realistic pair --------------------------------------------------------------------- */

Test(accelergy, imports_the_www_like_design)
{
    in_data();
    cs_energy_table *t = import_ok("ERT.yaml", "ART.yaml", "www-45nm.map.cfg", NULL);
    cr_assert_str_eq(cs_energy_table_name(t), "www-45nm-accelergy");
    cr_assert_eq(cs_energy_table_node_nm(t), 45.0);
    /* Scaled actions: 512 pJ per 64-bit access x 4; 11.39 pJ per byte x 4. */
    cr_assert_eq(pj_of(t, "dram", "rd"), 512.0 * 4);
    cr_assert_eq(pj_of(t, "dram", "act"), 0.0);
    cr_assert_eq(pj_of(t, "rf", "read"), 11.39 * 4);
    cr_assert_eq(pj_of(t, "rf", "write"), 11.47 * 4);
    /* Argument variants chosen by the mapping. */
    cr_assert_eq(pj_of(t, "l2", "read"), 172.05);
    cr_assert_eq(pj_of(t, "l2", "write"), 162.85);
    cr_assert_eq(pj_of(t, "smem", "read"), 124.7);
    cr_assert_eq(pj_of(t, "smem", "write"), 118.03);
    /* Two components provide the tensor core's two actions; leakage and area x count 256. */
    cr_assert_eq(pj_of(t, "tensor_core", "mac_int8"), 0.2625);
    cr_assert_eq(pj_of(t, "tensor_core", "mac_fp16"), 1.5);
    cr_assert_eq(cs_energy_leak_mw(t, "tensor_core"), 0.003 * 256);
    cr_assert_eq(cs_energy_area_mm2(t, "tensor_core"), 318.0e-6 * 256);
    /* Idle energy per 1 ns cycle = leakage in mW; ART um^2 -> mm^2. */
    cr_assert_eq(cs_energy_leak_mw(t, "smem"), 0.0079);
    cr_assert_eq(cs_energy_area_mm2(t, "smem"), 1.03659227);
    cr_assert_eq(cs_energy_area_mm2(t, "l2"), 2.13797157);
    /* Sources say where each figure came from, with file and line. */
    cr_assert_str_eq(source_of(t, "dram", "rd"), "Accelergy ERT ERT.yaml:6: system.DRAM read x 4");
    cr_assert_str_eq(source_of(t, "l2", "read"), "Accelergy ERT ERT.yaml:32: system.chip.L2 read");
    cr_assert_str_eq(source_of(t, "dram", "act"), "mapping www-45nm.map.cfg: inside the 512 pJ "
                                                  "access (per-access DRAM model)");
    cr_assert_str_eq(source_of(t, "smem", NULL),
                     "leakage: Accelergy ERT ERT.yaml:73: system.chip.shared_glb idle per 1 ns "
                     "cycle; area: Accelergy ART ART.yaml:10: system.chip.shared_glb 1036592.27 "
                     "um2");
    /* The same figures as the built-in 45 nm table where both come from the WWW study. */
    cs_err err;
    cs_err_init(&err);
    cs_energy_table *w = NULL;
    cr_assert_eq(cs_energy_table_load("45nm", &w, &err), CS_OK);
    cr_assert_eq(pj_of(t, "dram", "rd"), pj_of(w, "dram", "rd"));
    cr_assert_eq(pj_of(t, "smem", "read"), pj_of(w, "smem", "read"));
    cr_assert_eq(pj_of(t, "tensor_core", "mac_int8"), pj_of(w, "tensor_core", "mac_int8"));
    cr_assert_eq(cs_energy_leak_mw(t, "tensor_core"), cs_energy_leak_mw(w, "tensor_core"));
    cs_energy_table_destroy(w);
    cs_energy_table_destroy(t);
}

Test(accelergy, imports_the_older_dict_layout)
{
    in_data();
    cs_energy_table *t = import_ok("ERT_v02.yaml", "ART.yaml", "v02.map.cfg", NULL);
    cr_assert_eq(pj_of(t, "smem", "read"), 124.7);
    cr_assert_eq(pj_of(t, "smem", "write"), 118.03);
    cr_assert_eq(cs_energy_leak_mw(t, "smem"), 0.0079);
    cs_energy_table_destroy(t);
}

Test(accelergy, base_table_fills_the_rest)
{
    in_data();
    cs_err err;
    cs_err_init(&err);
    cs_energy_table *base = NULL;
    cr_assert_eq(cs_energy_table_load("45nm", &base, &err), CS_OK);
    cs_energy_table *t = import_ok("ERT_v02.yaml", "ART.yaml", "v02.map.cfg", base);
    cr_assert_eq(pj_of(t, "smem", "read"), 124.7);
    cr_assert_eq(pj_of(t, "dram", "rd"), 2048.0);
    cr_assert_eq(cs_energy_entry_count(t), cs_energy_entry_count(base));
    cr_assert_str_eq(cs_energy_table_name(t), "v02");
    cs_energy_table_destroy(t);
    /* A base at another node is refused. */
    cs_energy_table *b7 = NULL;
    cr_assert_eq(cs_energy_table_load("7nm", &b7, &err), CS_OK);
    cs_err_init(&err);
    cs_energy_table *u = NULL;
    cr_assert_eq(cs_accelergy_import("ERT_v02.yaml", "ART.yaml", "v02.map.cfg", b7, &u, &err),
                 CS_INVALID);
    cr_assert_str_eq(err.msg[0], "v02.map.cfg: error: accelergy_map.technology_nm: the base "
                                 "table 7nm is at 7 nm, the mapping at 45 nm");
    cs_energy_table_destroy(b7);
    cs_energy_table_destroy(base);
}

/* ---- export then import --------------------------------------------------------------------- */

static void write_text(const char *path, const cs_buf *b)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    fwrite(b->data, 1, b->len, f);
    fclose(f);
}

static void round_trip(const cs_energy_table *t, const char *dir)
{
    cs_buf ert, art, map;
    cs_buf_init(&ert);
    cs_buf_init(&art);
    cs_buf_init(&map);
    cs_accelergy_export(t, "system.gpu", 1000, &ert, &art, &map);
    char pe[256], pa[256], pm[256];
    snprintf(pe, sizeof pe, "%s/ERT.yaml", dir);
    snprintf(pa, sizeof pa, "%s/ART.yaml", dir);
    snprintf(pm, sizeof pm, "%s/map.cfg", dir);
    write_text(pe, &ert);
    write_text(pa, &art);
    write_text(pm, &map);
    cs_energy_table *u = import_ok(pe, pa, pm, NULL);
    cr_assert_str_eq(cs_energy_table_name(u), cs_energy_table_name(t));
    cr_assert_str_eq(cs_energy_table_version(u), cs_energy_table_version(t));
    if (cs_energy_table_description(t)[0]) /* else the import describes where it came from */
        cr_assert_str_eq(cs_energy_table_description(u), cs_energy_table_description(t));
    cr_assert_eq(cs_energy_table_node_nm(u), cs_energy_table_node_nm(t));
    cr_assert_eq(cs_energy_entry_count(u), cs_energy_entry_count(t));
    for (size_t i = 0; i < cs_energy_entry_count(t); i++) {
        const char *cls, *action;
        double pj, leak, area;
        cs_energy_entry_get(t, i, &cls, &action, &pj, &leak, &area, NULL);
        if (action) {
            double back = pj_of(u, cls, action);
            cr_assert_eq(back, pj, "%s.%s: %.17g -> %.17g", cls, action, pj, back);
        } else {
            cr_assert_eq(cs_energy_leak_mw(u, cls), leak, "%s leakage: %.17g -> %.17g", cls, leak,
                         cs_energy_leak_mw(u, cls));
            cr_assert_eq(cs_energy_area_mm2(u, cls), area, "%s area: %.17g -> %.17g", cls, area,
                         cs_energy_area_mm2(u, cls));
        }
    }
    cs_energy_table_destroy(u);
    cs_buf_free(&ert);
    cs_buf_free(&art);
    cs_buf_free(&map);
}

Test(accelergy, export_then_import_gives_identical_numbers)
{
    char dir[] = "/tmp/cimsim-accelergy-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    const char *const specs[] = {"45nm", "7nm"};
    for (size_t i = 0; i < 2; i++) {
        cs_err err;
        cs_err_init(&err);
        cs_energy_table *t = NULL;
        cr_assert_eq(cs_energy_table_load(specs[i], &t, &err), CS_OK);
        round_trip(t, dir);
        cs_energy_table_destroy(t);
    }
    /* Figures without a short decimal, tiny and huge ones, areas whose um^2 form is long. */
    cs_energy_table *t = cs_energy_table_new("odd", "2b", 16);
    cs_energy_set_action(t, "smem", "read", 1.0 / 3, 0, "thirds");
    cs_energy_set_action(t, "smem", "write", 2.0 / 3 * 1e-12, 0, "tiny");
    cs_energy_set_action(t, "dram", "rd", 6.02214076e23, 0, "huge");
    cs_energy_set_action(t, "cim", "mac", 0.15, 45, "analog6T");
    cs_energy_set_instance(t, "smem", 0.1 + 0.2, 0.1 + 0.7, 0, "sums");
    cs_energy_set_instance(t, "cim", 1e-7, 123456.789e-9, 45, "macro");
    cs_energy_set_instance(t, "rf", 3.14159, 1e-30, 0, "pi");
    round_trip(t, dir);
    cs_energy_table_destroy(t);
    char path[300];
    const char *const files[] = {"ERT.yaml", "ART.yaml", "map.cfg"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
}

/* ---- malformed YAML ------------------------------------------------------------------------- */

static void expect_errors(const char *ert, const char *art, const char *map, int n,
                          const char *const *msgs)
{
    in_data();
    cs_err err;
    cs_err_init(&err);
    cs_energy_table *t = NULL;
    cs_status st = cs_accelergy_import(ert, art, map, NULL, &t, &err);
    cr_assert_neq(st, CS_OK);
    cr_assert_eq(cs_status_exit_code(st), 2);
    cr_assert_null(t);
    cr_assert_eq(err.count, n, "%d messages, first: %s", err.count, err.msg[0]);
    for (int i = 0; i < n; i++)
        cr_assert_str_eq(err.msg[i], msgs[i]);
}

Test(accelergy, yaml_syntax_error_has_its_line)
{
    const char *m[] = {"bad/syntax.yaml:8: error: YAML: did not find expected key (while parsing "
                       "a block mapping at line 4)"};
    expect_errors("bad/syntax.yaml", "ART.yaml", "www-45nm.map.cfg", 1, m);
}

Test(accelergy, missing_energy)
{
    const char *m[] = {"bad/missing_energy.yaml:6: error: ERT.tables[0].actions[0]: missing key "
                       "'energy'"};
    expect_errors("bad/missing_energy.yaml", "ART.yaml", "www-45nm.map.cfg", 1, m);
}

Test(accelergy, negative_energy)
{
    const char *m[] = {"bad/negative.yaml:8: error: ERT.tables[0].actions[0].energy: must not be "
                       "negative (got -512)"};
    expect_errors("bad/negative.yaml", "ART.yaml", "www-45nm.map.cfg", 1, m);
}

Test(accelergy, non_numeric_energies)
{
    const char *m[] = {
        "bad/non_numeric.yaml:8: error: ERT.tables[0].actions[0].energy: expected a number (got "
        "\"lots\")",
        "bad/non_numeric.yaml:11: error: ERT.tables[0].actions[1].energy: expected a number (got "
        "\"512\")"};
    expect_errors("bad/non_numeric.yaml", "ART.yaml", "www-45nm.map.cfg", 2, m);
}

Test(accelergy, missing_and_ill_typed_fields)
{
    const char *m[] = {
        "bad/missing_fields.yaml:4: error: ERT.tables[0]: missing key 'name'",
        "bad/missing_fields.yaml:9: error: ERT.tables[1].actions: expected a list of actions (got "
        "a scalar)"};
    expect_errors("bad/missing_fields.yaml", "ART.yaml", "www-45nm.map.cfg", 2, m);
}

Test(accelergy, files_swapped)
{
    const char *m[] = {"bad/art_as_ert.yaml:1: error: ERT: expected a top-level 'ERT:' mapping "
                       "(Accelergy ERT output); this is an ART file"};
    expect_errors("bad/art_as_ert.yaml", "ART.yaml", "www-45nm.map.cfg", 1, m);
}

Test(accelergy, bad_art)
{
    const char *m[] = {"bad/bad_art.yaml:5: error: ART.tables[0].area: expected a number (got "
                       "\"big\")",
                       "bad/bad_art.yaml:6: error: ART.tables[1]: missing key 'area'"};
    expect_errors("ERT.yaml", "bad/bad_art.yaml", "www-45nm.map.cfg", 2, m);
}

Test(accelergy, missing_file)
{
    in_data();
    cs_err err;
    cs_err_init(&err);
    cs_energy_table *t = NULL;
    cs_status st = cs_accelergy_import("nope.yaml", "ART.yaml", "www-45nm.map.cfg", NULL, &t, &err);
    cr_assert_eq(cs_status_exit_code(st), 2);
    cr_assert_null(t);
    cr_assert(strncmp(err.msg[0], "nope.yaml: ", 11) == 0, "%s", err.msg[0]);
}

/* ---- mapping errors ------------------------------------------------------------------------- */

Test(accelergy, mapping_errors_cite_the_mapping_line)
{
    const char *m[] = {
        "bad/map_errors.cfg:6: error: accelergy_map.components[0].class: unknown class (classes: "
        "dram, l2, noc, smem, rf, tensor_core, cim, opreg) (got \"hbm\")",
        "bad/map_errors.cfg:9: error: accelergy_map.components[1].actions[0].to: not an action of "
        "class dram (its actions: act, pre, rd, wr, ref) (got \"read\")",
        "bad/map_errors.cfg:10: error: accelergy_map.components[2].match: matches no table of ERT "
        "ERT.yaml (its tables: system.DRAM, system.chip.L2, system.chip.NoC, "
        "system.chip.shared_glb, system.chip.PE[0..3].RF, system.chip.PE[0..3].mac[0..255], ...) "
        "(got \"system.chip.SRAM*\")",
        "bad/map_errors.cfg:12: error: accelergy_map.components[3].match: matches 6 tables of ERT "
        "ERT.yaml: system.chip.L2, system.chip.NoC, system.chip.shared_glb, "
        "system.chip.PE[0..3].RF, system.chip.PE[0..3].mac[0..255], "
        "system.chip.PE[0..3].fp16_fma[0..255]; make the pattern match one (got "
        "\"system.chip.*\")",
        "bad/map_errors.cfg:15: error: accelergy_map.components[4].actions[0].from: ambiguous: 2 "
        "variants of action 'read' in ERT table system.chip.shared_glb (ERT.yaml:51): "
        "{address_delta: 0, data_delta: 0}, {address_delta: 1, data_delta: 1}; choose one with "
        "arguments = { NAME = VALUE; ... } (got \"read\")",
        "bad/map_errors.cfg:17: error: accelergy_map.components[5].actions[0].from: no variant "
        "matches the arguments among 2 variants of action 'read' in ERT table "
        "system.chip.shared_glb (ERT.yaml:51): {address_delta: 0, data_delta: 0}, "
        "{address_delta: 1, data_delta: 1}; choose one with arguments = { NAME = VALUE; ... } "
        "(got \"read\")",
        "bad/map_errors.cfg:19: error: accelergy_map.components[6].actions[0].from: no action "
        "'send' in ERT table system.chip.NoC (ERT.yaml:43; its actions: transfer, idle) (got "
        "\"send\")",
        "bad/map_errors.cfg:21: error: accelergy_map.components[7].actions[0].energy: give either "
        "from (an Accelergy action) or energy (a figure in the mapping), not both (got \"1pJ\")",
        "bad/map_errors.cfg:22: error: accelergy_map.components[8].leakage: no action 'leak' in "
        "ERT table system.chip.PE[0..3].fp16_fma[0..255] (ERT.yaml:101; its actions: mac_random, "
        "idle) (got \"leak\")",
    };
    expect_errors("ERT.yaml", "ART.yaml", "bad/map_errors.cfg", 9, m);
}

/* ---- the command ---------------------------------------------------------------------------- */

static int run_energy(const char *const *args, int n)
{
    char *argv[16];
    cr_assert(n < 16);
    for (int i = 0; i < n; i++)
        argv[i] = (char *)args[i];
    argv[n] = NULL;
    return cs_cmd_energy(n, argv);
}

Test(accelergy, command_import_export_and_exit_statuses, .init = cr_redirect_stderr)
{
    in_data();
    char dir[] = "/tmp/cimsim-energy-cmd-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char out[300], ert[300], art[300], map[300], tab[300];
    snprintf(out, sizeof out, "%s/www.cfg", dir);
    const char *imp[] = {"energy", "import", "ERT.yaml", "ART.yaml", "--map", "www-45nm.map.cfg",
                         "-o", out};
    cr_assert_eq(run_energy(imp, 8), 0);
    cs_err err;
    cs_err_init(&err);
    cs_energy_table *t = NULL;
    cr_assert_eq(cs_energy_table_load(out, &t, &err), CS_OK, "%s", err.msg[0]);
    cr_assert_eq(pj_of(t, "dram", "rd"), 2048.0);
    cs_energy_table_destroy(t);
    /* An incomplete mapping: refused unless a base table fills the rest. */
    snprintf(tab, sizeof tab, "%s/v02.cfg", dir);
    const char *part[] = {"energy", "import", "ERT_v02.yaml", "ART.yaml", "--map", "v02.map.cfg",
                          "-o", tab};
    cr_assert_eq(run_energy(part, 8), 2);
    struct stat sb;
    cr_assert_neq(stat(tab, &sb), 0, "nothing written");
    const char *based[] = {"energy", "import", "ERT_v02.yaml", "ART.yaml", "--map", "v02.map.cfg",
                           "-o", tab, "--base", "45nm"};
    cr_assert_eq(run_energy(based, 10), 0);
    /* Export writes the three files; they import back. */
    const char *exp[] = {"energy", "export", "7nm", "-o", dir};
    cr_assert_eq(run_energy(exp, 5), 0);
    snprintf(ert, sizeof ert, "%s/ERT.yaml", dir);
    snprintf(art, sizeof art, "%s/ART.yaml", dir);
    snprintf(map, sizeof map, "%s/map.cfg", dir);
    const char *back[] = {"energy", "import", ert, art, "--map", map, "-o", out};
    cr_assert_eq(run_energy(back, 8), 0);
    /* Usage errors and bad input: 2. */
    const char *unk[] = {"energy", "export", "--frobnicate"};
    cr_assert_eq(run_energy(unk, 3), 2);
    const char *nomap[] = {"energy", "import", "ERT.yaml", "ART.yaml", "-o", out};
    cr_assert_eq(run_energy(nomap, 6), 2);
    const char *badcyc[] = {"energy", "export", "-o", dir, "--idle-cycle", "fast"};
    cr_assert_eq(run_energy(badcyc, 6), 2);
    const char *badyaml[] = {"energy", "import", "bad/syntax.yaml", "ART.yaml", "--map",
                             "www-45nm.map.cfg", "-o", out};
    cr_assert_eq(run_energy(badyaml, 8), 2);
    const char *nosuch[] = {"energy", "show", "3nm"};
    cr_assert_eq(run_energy(nosuch, 3), 2);
    const char *act[] = {"energy", "frob"};
    cr_assert_eq(run_energy(act, 2), 2);
    const char *files[] = {"www.cfg", "v02.cfg", "ERT.yaml", "ART.yaml", "map.cfg"};
    for (size_t i = 0; i < 5; i++) {
        char p[400];
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        unlink(p);
    }
    rmdir(dir);
}

Test(accelergy, command_show_and_help, .init = cr_redirect_stdout)
{
    const char *show[] = {"energy", "show", "45nm"};
    cr_assert_eq(run_energy(show, 3), 0);
    const char *help[] = {"energy", "import", "--help"};
    cr_assert_eq(run_energy(help, 3), 0);
    fflush(stdout);
    cr_assert_stdout_neq_str("");
}

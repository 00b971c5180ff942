/* cmd_energy — the `cimsim energy` subcommands: argument parsing, printing and exit codes; the
 * work is in sim/core/energy.h and tools/accelergy.h. */
#include "cmd_energy.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accelergy.h"
#include "alloc.h"
#include "buf.h"
#include "cfg.h"
#include "cli.h"
#include "energy.h"
#include "err.h"
#include "afile.h"
#include "units.h"

static const char usage_energy[] =
    "usage: cimsim energy ACTION [OPTIONS]\n"
    "\n"
    "Energy and area tables (format and sources: docs/energy.md).\n"
    "\n"
    "actions:\n"
    "  show [TABLE]                      every entry with its figure and source\n"
    "  export [TABLE] -o DIR             Accelergy ERT.yaml, ART.yaml and the map.cfg that\n"
    "                                    reads them back\n"
    "  import ERT.yaml ART.yaml --map MAP.cfg -o TABLE.cfg\n"
    "                                    a table file from Accelergy output\n"
    "\n"
    "TABLE is a built-in table (45nm, 7nm; default 7nm) or a table file. 'cimsim energy ACTION\n"
    "--help' describes an action. Exit status: 0 success, 2 bad input or usage, 1 internal\n"
    "failure.\n";

static const char usage_show[] =
    "usage: cimsim energy show [TABLE]\n"
    "\n"
    "Prints the table's name, version, node and description, then per class each action's\n"
    "energy and each instance's leakage and area, every figure with its source. TABLE: 45nm,\n"
    "7nm (default) or a table file.\n";

static const char usage_export[] =
    "usage: cimsim energy export [TABLE] -o DIR [--prefix NAME] [--idle-cycle TIME]\n"
    "\n"
    "Writes DIR/ERT.yaml and DIR/ART.yaml in Accelergy's layout (one component PREFIX.CLASS\n"
    "per class; energies in pJ per action, leakage as the 'idle' action's energy per cycle,\n"
    "areas in um^2) and DIR/map.cfg, the mapping that imports them back to the same numbers.\n"
    "\n"
    "options:\n"
    "  -o, --output DIR     directory to write (created if needed; files replaced atomically)\n"
    "  --prefix NAME        component name prefix (default system.gpu)\n"
    "  --idle-cycle TIME    cycle of the idle energy (default 1ns)\n";

static const char usage_import[] =
    "usage: cimsim energy import ERT.yaml ART.yaml --map MAP.cfg -o TABLE.cfg [--base TABLE]\n"
    "\n"
    "Builds a cimsim table file from Accelergy's ERT and ART output through a mapping file\n"
    "(Accelergy component -> cimsim class, Accelergy action -> cimsim action, scale; format in\n"
    "docs/energy.md). Every action of the vocabulary (cim excepted) must receive a figure,\n"
    "from the mapping or from the base table. Errors name the file and line.\n"
    "\n"
    "options:\n"
    "  --map MAP.cfg        the mapping (required)\n"
    "  -o, --output FILE    the table file to write (required; replaced atomically; - is\n"
    "                       standard output)\n"
    "  --base TABLE         start from this table's entries (45nm, 7nm or a file)\n";


static int load_table(const char *sub, const char *spec, cs_energy_table **t)
{
    cs_err err;
    cs_err_init(&err);
    (void)sub;
    if (cs_energy_table_load(spec, t, &err) != CS_OK)
        return cs_cli_report(&err);
    return 0;
}

/* ---- show --------------------------------------------------------------------------------- */

/* The shortest decimal that reads back exactly, without an exponent where that reads well. */
static void fmt_value(char *buf, size_t cap, double v, const char *unit)
{
    char num[64];
    double a = v < 0 ? -v : v;
    if (v == 0 || (a >= 1e-6 && a < 1e15)) {
        for (int d = 0; d <= 24; d++) {
            snprintf(num, sizeof num, "%.*f", d, v);
            if (strtod(num, NULL) == v)
                break;
        }
    } else {
        cs_buf b;
        cs_buf_init(&b);
        cs_buf_double(&b, v);
        snprintf(num, sizeof num, "%s", b.data);
        cs_buf_free(&b);
    }
    if (snprintf(buf, cap, "%s %s", num, unit) >= (int)cap)
        buf[cap - 1] = '\0'; /* callers size buf for any number and unit */
}

static int cmd_show(int argc, char **argv)
{
    const char *spec = NULL;
    for (int i = 1; i < argc; i++) {
        if (cs_cli_is_help(argv[i])) {
            fputs(usage_show, stdout);
            return 0;
        }
        if (argv[i][0] == '-' && argv[i][1])
            return cs_cli_usage_error("energy show", "unknown option '%s'", argv[i]);
        if (spec)
            return cs_cli_usage_error("energy show", "one table at a time (got '%s' and '%s')",
                                      spec, argv[i]);
        spec = argv[i];
    }
    cs_energy_table *t = NULL;
    int rc = load_table("energy show", spec ? spec : "7nm", &t);
    if (rc)
        return rc;
    printf("energy table %s, version %s, %g nm (%s)\n", cs_energy_table_name(t),
           cs_energy_table_version(t), cs_energy_table_node_nm(t), cs_energy_table_origin(t));
    printf("%s\n", cs_energy_table_description(t));
    size_t n = cs_energy_entry_count(t);
    for (size_t c = 0; cs_energy_vocab_class(c); c++) {
        const char *cls = cs_energy_vocab_class(c);
        bool header = false;
        for (size_t i = 0; i < n; i++) {
            const char *ec, *ea, *src;
            double pj, leak, area;
            cs_energy_entry_get(t, i, &ec, &ea, &pj, &leak, &area, &src);
            if (strcmp(ec, cls) != 0 || !ea)
                continue;
            if (!header)
                printf("\n%s\n", cls);
            header = true;
            char v[64];
            fmt_value(v, sizeof v, pj, "pJ");
            printf("  %-10s %16s  %s\n", ea, v, src);
        }
        for (size_t i = 0; i < n; i++) {
            const char *ec, *ea, *src;
            double pj, leak, area;
            cs_energy_entry_get(t, i, &ec, &ea, &pj, &leak, &area, &src);
            if (strcmp(ec, cls) != 0 || ea)
                continue;
            if (!header)
                printf("\n%s\n", cls);
            header = true;
            char lv[64], av[64];
            fmt_value(lv, sizeof lv, leak, "mW");
            fmt_value(av, sizeof av, area, "mm^2");
            printf("  %-10s %16s  per instance\n  %-10s %16s  per instance\n  %-10s %16s  %s\n",
                   "leakage", lv, "area", av, "sources", "", src);
        }
        if (!header && strcmp(cls, "cim") == 0)
            printf("\ncim\n  (added by the simulator from the CiM primitive's file)\n");
        else if (!header && cs_energy_vocab_optional(cls))
            printf("\n%s\n  (not in this table: only compat.baseline = pe_array counts it)\n", cls);
    }
    cs_energy_table_destroy(t);
    return 0;
}

/* ---- export ------------------------------------------------------------------------------- */

static bool valid_prefix(const char *p)
{
    if (!*p)
        return false;
    for (; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '.' || *p == '-'))
            return false;
    return true;
}

static int write_file(const char *dir, const char *name, const cs_buf *b, cs_err *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (cs_afile_write(path, b->data, b->len, err) != CS_OK)
        return cs_cli_report(err);
    fprintf(stderr, "wrote %s\n", path);
    return 0;
}

static int cmd_export(int argc, char **argv)
{
    const char *spec = NULL, *dir = NULL, *prefix = "system.gpu", *cycle = "1ns";
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int m;
        if (cs_cli_is_help(argv[i])) {
            fputs(usage_export, stdout);
            return 0;
        }
        if ((m = cs_cli_opt_value(argc, argv, &i, "--output", "-o", &v)) != 0) {
            if (m < 0)
                return cs_cli_usage_error("energy export", "%s needs a directory", argv[i]);
            dir = v;
        } else if ((m = cs_cli_opt_value(argc, argv, &i, "--prefix", NULL, &v)) != 0) {
            if (m < 0)
                return cs_cli_usage_error("energy export", "--prefix needs a name");
            prefix = v;
        } else if ((m = cs_cli_opt_value(argc, argv, &i, "--idle-cycle", NULL, &v)) != 0) {
            if (m < 0)
                return cs_cli_usage_error("energy export", "--idle-cycle needs a time");
            cycle = v;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cs_cli_usage_error("energy export", "unknown option '%s'", argv[i]);
        } else if (spec) {
            return cs_cli_usage_error("energy export", "one table at a time (got '%s' and '%s')",
                                      spec, argv[i]);
        } else {
            spec = argv[i];
        }
    }
    if (!dir)
        return cs_cli_usage_error("energy export", "-o DIR is required");
    if (!valid_prefix(prefix))
        return cs_cli_usage_error("energy export", "bad --prefix '%s' (letters, digits, '_', "
                                  "'.', '-')", prefix);
    uint64_t ps = 0;
    const char *why = NULL;
    if (cs_units_time_ps(cycle, &ps, &why) != CS_OK || ps == 0)
        return cs_cli_usage_error("energy export", "bad --idle-cycle '%s' (%s)", cycle,
                                  why ? why : "must be positive, e.g. 1ns");
    cs_energy_table *t = NULL;
    int rc = load_table("energy export", spec ? spec : "7nm", &t);
    if (rc)
        return rc;
    cs_buf ert, art, map;
    cs_buf_init(&ert);
    cs_buf_init(&art);
    cs_buf_init(&map);
    cs_accelergy_export(t, prefix, ps, &ert, &art, &map);
    cs_err err;
    cs_err_init(&err);
    if (cs_afile_mkdirs(dir, &err) != CS_OK)
        rc = cs_cli_report(&err);
    if (!rc)
        rc = write_file(dir, "ERT.yaml", &ert, &err);
    if (!rc)
        rc = write_file(dir, "ART.yaml", &art, &err);
    if (!rc)
        rc = write_file(dir, "map.cfg", &map, &err);
    cs_buf_free(&ert);
    cs_buf_free(&art);
    cs_buf_free(&map);
    cs_energy_table_destroy(t);
    return rc;
}

/* ---- import ------------------------------------------------------------------------------- */

/* Every vocabulary action (cim excepted) and every class's instance entry: a table file needs
 * them all to load. Lists what is missing in err. */
static cs_status complete(const cs_energy_table *t, const char *map, cs_err *err)
{
    cs_buf miss;
    cs_buf_init(&miss);
    for (size_t c = 0; cs_energy_vocab_class(c); c++) {
        const char *cls = cs_energy_vocab_class(c);
        if (cs_energy_vocab_optional(cls))
            continue;
        double pj;
        for (const char *const *a = cs_energy_vocab_actions(cls); *a; a++)
            if (cs_energy_lookup(t, cls, *a, &pj) != CS_OK)
                cs_buf_printf(&miss, "%s%s.%s", miss.len ? ", " : "", cls, *a);
        bool inst = false;
        size_t n = cs_energy_entry_count(t);
        for (size_t i = 0; i < n && !inst; i++) {
            const char *ec, *ea;
            cs_energy_entry_get(t, i, &ec, &ea, NULL, NULL, NULL, NULL);
            inst = !ea && strcmp(ec, cls) == 0;
        }
        if (!inst)
            cs_buf_printf(&miss, "%s%s leakage/area", miss.len ? ", " : "", cls);
    }
    cs_status st = CS_OK;
    if (miss.len)
        st = cs_err_add(err, CS_INVALID,
                        "%s: error: the import gives no figure for %s (map them, or start from a "
                        "table with --base TABLE)",
                        map, miss.data);
    cs_buf_free(&miss);
    return st;
}

static int cmd_import(int argc, char **argv)
{
    const char *files[2] = {NULL, NULL}, *map = NULL, *out = NULL, *base_spec = NULL;
    int nfiles = 0;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int m;
        if (cs_cli_is_help(argv[i])) {
            fputs(usage_import, stdout);
            return 0;
        }
        if ((m = cs_cli_opt_value(argc, argv, &i, "--output", "-o", &v)) != 0) {
            if (m < 0)
                return cs_cli_usage_error("energy import", "%s needs a file", argv[i]);
            out = v;
        } else if ((m = cs_cli_opt_value(argc, argv, &i, "--map", NULL, &v)) != 0) {
            if (m < 0)
                return cs_cli_usage_error("energy import", "--map needs a file");
            map = v;
        } else if ((m = cs_cli_opt_value(argc, argv, &i, "--base", NULL, &v)) != 0) {
            if (m < 0)
                return cs_cli_usage_error("energy import", "--base needs a table");
            base_spec = v;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cs_cli_usage_error("energy import", "unknown option '%s'", argv[i]);
        } else if (nfiles == 2) {
            return cs_cli_usage_error("energy import", "too many files ('%s'): give ERT.yaml "
                                      "and ART.yaml", argv[i]);
        } else {
            files[nfiles++] = argv[i];
        }
    }
    if (nfiles != 2)
        return cs_cli_usage_error("energy import", "give ERT.yaml and ART.yaml");
    if (!map)
        return cs_cli_usage_error("energy import", "--map MAP.cfg is required");
    if (!out)
        return cs_cli_usage_error("energy import", "-o TABLE.cfg is required");
    if (cs_cli_check_output(out))
        return 2;
    cs_energy_table *base = NULL;
    if (base_spec) {
        int rc = load_table("energy import", base_spec, &base);
        if (rc)
            return rc;
    }
    cs_err err;
    cs_err_init(&err);
    cs_energy_table *t = NULL;
    int rc = 0;
    if (cs_accelergy_import(files[0], files[1], map, base, &t, &err) != CS_OK ||
        complete(t, map, &err) != CS_OK) {
        rc = cs_cli_report(&err);
    } else {
        cs_buf b;
        cs_buf_init(&b);
        cs_energy_table_write_cfg(t, &b);
        /* The text must load as it will be written (checked before writing, and not by
         * reading the file back: -o may be a FIFO or /dev/null). A failure is our bug. */
        cs_cfg *cfg = NULL;
        cs_energy_table *back = NULL;
        if (cs_cfg_parse_string(out, b.data, NULL, &cfg, &err) != CS_OK ||
            cs_energy_table_from_cfg(cfg, out, &back, &err) != CS_OK) {
            cs_cli_report(&err);
            fprintf(stderr, "cimsim energy import: internal error: the table written for %s "
                            "does not load back\n", out);
            rc = 1;
        }
        cs_energy_table_destroy(back);
        cs_cfg_destroy(cfg);
        if (!rc && cs_afile_write(out, b.data, b.len, &err) != CS_OK)
            rc = cs_cli_report(&err);
        cs_buf_free(&b);
        if (!rc)
            fprintf(stderr, "wrote %s (table %s, %zu entries)\n", out, cs_energy_table_name(t),
                    cs_energy_entry_count(t));
    }
    cs_energy_table_destroy(t);
    cs_energy_table_destroy(base);
    return rc;
}

int cs_cmd_energy(int argc, char **argv)
{
    if (argc < 2 || cs_cli_is_help(argv[1])) {
        fputs(usage_energy, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *a = argv[1];
    if (strcmp(a, "show") == 0)
        return cmd_show(argc - 1, argv + 1);
    if (strcmp(a, "export") == 0)
        return cmd_export(argc - 1, argv + 1);
    if (strcmp(a, "import") == 0)
        return cmd_import(argc - 1, argv + 1);
    return cs_cli_usage_error("energy", "unknown action '%s' (show, export, import)", a);
}

/* cmd_config — checking, dumping and describing configuration files.
 *
 * `check` tells file kinds apart by their top-level setting: `energy_table`, `cim_primitive`,
 * `sweep`, `accelergy_map`; anything else is an architecture. Every error of the file is
 * printed, one per line. */
#include "cmd_config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "accelergy.h"
#include "alloc.h"
#include "arch.h"
#include "cim.h"
#include "cli.h"
#include "energy.h"
#include "sweep.h"

static const char usage[] =
    "usage: cimsim config check FILE...\n"
    "       cimsim config dump [ARCH] [--set KEY=VALUE]...\n"
    "       cimsim config describe [GROUP] [--markdown]\n"
    "\n"
    "  check      validate configuration files (architectures, CiM primitives, energy tables,\n"
    "             Accelergy mappings, sweep specs); prints every error as\n"
    "             FILE:LINE: error: KEY: RULE (got VALUE) and exits 2 if any\n"
    "  dump       the effective architecture with defaults filled in, each value followed by\n"
    "             where it came from (default: the built-in a100)\n"
    "  describe   every key of a group with type, default, range, unit and meaning: an\n"
    "             architecture group (sm, l2, hbm.timing, ...) or a file kind (cim_primitive,\n"
    "             energy_table, accelergy_map, sweep); without GROUP, every file kind;\n"
    "             --markdown gives docs/config-reference.md\n";

static bool has_top(const cs_cfg *cfg, const char *name)
{
    for (int i = 0; cs_cfg_top_name(cfg, i); i++)
        if (strcmp(cs_cfg_top_name(cfg, i), name) == 0)
            return true;
    return false;
}

/* Binds a file's top group to a schema and frees the result: the checks a file kind has
 * beyond its schema are its loader's. */
static cs_status bind_only(cs_cfg *cfg, const cs_cfg_schema *root, cs_err *err)
{
    void *params = cs_calloc(1, root->size);
    cs_status st = cs_cfg_bind(cfg, "", root, params, err);
    cs_cfg_params_free(root, params);
    cs_free(params);
    return st;
}

/* The file is read once (so that a FIFO, /dev/stdin or <(...) can be checked) and each kind
 * is checked on the parsed text. */
static cs_status check_file(const char *path, cs_err *err)
{
    cs_cfg *cfg = NULL;
    cs_status st = cs_cfg_parse_file(path, &cfg, err);
    if (st != CS_OK)
        return st;
    if (has_top(cfg, "energy_table")) {
        cs_energy_table *t = NULL;
        st = cs_energy_table_from_cfg(cfg, path, &t, err);
        cs_energy_table_destroy(t);
    } else if (has_top(cfg, "cim_primitive")) {
        cs_cim_prim p;
        memset(&p, 0, sizeof p);
        st = cs_cfg_bind(cfg, "cim_primitive", &cs_cim_prim_schema, &p, err);
        cs_cim_prim_free(&p);
    } else if (has_top(cfg, "sweep")) {
        cs_sweep *sw = NULL;
        st = cs_sweep_from_cfg(path, cfg, &sw, err);
        cs_sweep_destroy(sw);
        return st; /* the sweep took cfg */
    } else if (has_top(cfg, "accelergy_map")) {
        st = bind_only(cfg, cs_accelergy_map_schema(), err);
    } else {
        st = bind_only(cfg, &cs_arch_schema, err);
    }
    cs_cfg_destroy(cfg);
    return st;
}

static int check(int argc, char **argv)
{
    if (argc < 2)
        return cs_cli_usage_error("config check", "expected at least one FILE");
    int rc = 0;
    for (int i = 1; i < argc; i++) {
        cs_err err;
        cs_err_init(&err);
        if (check_file(argv[i], &err) != CS_OK) {
            int e = cs_cli_report(&err);
            if (e > rc)
                rc = e;
        } else {
            printf("%s: ok\n", argv[i]);
        }
    }
    return rc;
}

static int dump(int argc, char **argv)
{
    static const struct option longs[] = {{"set", required_argument, 0, 's'}, {0, 0, 0, 0}};
    const char *sets[64];
    int nsets = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":", longs, NULL)) != -1) {
        if (c != 's')
            return cs_cli_bad_option("config dump", c, argv);
        if (nsets == 64)
            return cs_cli_usage_error("config dump", "--set: at most 64 overrides");
        sets[nsets++] = optarg;
    }
    if (argc - optind > 1)
        return cs_cli_usage_error("config dump", "expected at most one ARCH");
    cs_err err;
    cs_err_init(&err);
    cs_arch_doc *d = NULL;
    if (cs_arch_load(optind < argc ? argv[optind] : NULL, sets, nsets, &d, &err) != CS_OK)
        return cs_cli_report(&err);
    cs_buf b;
    cs_buf_init(&b);
    cs_buf_printf(&b, "# effective configuration of %s (config hash %016llx)\n", d->source,
                  (unsigned long long)d->hash);
    cs_cfg_dump(d->cfg, "", &cs_arch_schema, &d->arch, &b);
    fputs(b.data, stdout);
    cs_buf_free(&b);
    cs_arch_doc_destroy(d);
    return 0;
}

/* The schema of a dotted group path under the architecture root, or NULL. */
static const cs_cfg_schema *find_group(const cs_cfg_schema *s, const char *path)
{
    if (!*path)
        return s;
    size_t n = strcspn(path, ".");
    for (size_t i = 0; i < s->nkeys; i++)
        if (s->keys[i].group && strlen(s->keys[i].name) == n && strncmp(s->keys[i].name, path, n) == 0)
            return find_group(s->keys[i].group, path[n] ? path + n + 1 : "");
    return NULL;
}

/* The file kinds other than architectures: their top group and its schema. */
typedef struct kind {
    const char *name, *title, *intro;
    const cs_cfg_schema *(*root)(void);
} kind;
static const cs_cfg_schema *prim_root(void) { return &cs_cim_prim_schema; }
static const kind kinds[] = {
    {"cim_primitive", "CiM primitive files", "`arch/cim/NAME.cfg`; `--cim NAME@LEVEL` or `--cim FILE.cfg@LEVEL`.", prim_root},
    {"energy_table", "Energy tables", "`arch/energy/NAME.cfg`; `--energy NAME|FILE` or `energy.table` (docs/energy.md).",
     cs_energy_table_schema},
    {"accelergy_map", "Accelergy mappings", "`cimsim energy import --map FILE` (docs/energy.md).",
     cs_accelergy_map_schema},
    {"sweep", "Sweep specs", "`cimsim sweep SPEC.cfg` (docs/sweep.md).", cs_sweep_schema},
};
enum { NKINDS = sizeof kinds / sizeof kinds[0] };

/* A kind's top group ("sweep" under its root), or the root itself when it is the group. */
static const cs_cfg_schema *kind_group(const kind *k)
{
    const cs_cfg_schema *r = k->root();
    return r->nkeys == 1 && r->keys[0].group && strcmp(r->keys[0].name, k->name) == 0 ? r->keys[0].group : r;
}

static int describe(int argc, char **argv)
{
    bool md = false;
    const char *group = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--markdown") == 0)
            md = true;
        else if (argv[i][0] == '-')
            return cs_cli_usage_error("config describe", "unknown option '%s'", argv[i]);
        else if (group)
            return cs_cli_usage_error("config describe", "expected at most one GROUP");
        else
            group = argv[i];
    }
    cs_buf b;
    cs_buf_init(&b);
    if (!group) { /* the whole reference */
        if (md)
            cs_buf_puts(&b, "# Configuration reference\n\n"
                            "Generated by `cimsim config describe --markdown` from the schema tables the loaders "
                            "use; a test fails when this file is stale. Sizes take binary (`KiB`, `MiB`) or "
                            "decimal (`kB`, `MB`) prefixes (`KB` is refused as ambiguous), frequencies `Hz`/`kHz`/`MHz`/`GHz`, times "
                            "`ps`/`ns`/`us`/`ms`, energies `fJ`/`pJ`/`nJ`, powers `uW`/`mW`/`W`, areas "
                            "`um2`/`mm2`; a bare number is in the unit of the table.\n\n"
                            "# Architecture files\n\n"
                            "`arch/*.cfg`; `-a NAME|FILE`, `--set KEY=VALUE`.\n\n");
        cs_cfg_describe(&cs_arch_schema, "", md, &b);
        for (size_t i = 0; i < NKINDS; i++) {
            if (md)
                cs_buf_printf(&b, "# %s\n\n%s\n\n", kinds[i].title, kinds[i].intro);
            else
                cs_buf_putc(&b, '\n');
            cs_cfg_describe(kind_group(&kinds[i]), kinds[i].name, md, &b);
        }
    } else {
        const cs_cfg_schema *s = NULL;
        for (size_t i = 0; i < NKINDS && !s; i++)
            if (strcmp(group, kinds[i].name) == 0)
                s = kind_group(&kinds[i]);
        if (!s)
            s = find_group(&cs_arch_schema, group);
        if (!s) {
            cs_buf_free(&b);
            return cs_cli_usage_error("config describe",
                                      "no group '%s' (an architecture group such as sm or hbm.timing, or one of "
                                      "cim_primitive, energy_table, accelergy_map, sweep)",
                                      group);
        }
        cs_cfg_describe(s, group, md, &b);
    }
    fputs(b.data ? b.data : "", stdout);
    cs_buf_free(&b);
    return 0;
}

int cs_cmd_config(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (int i = 2; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        }
    if (strcmp(argv[1], "check") == 0)
        return check(argc - 1, argv + 1);
    if (strcmp(argv[1], "dump") == 0)
        return dump(argc - 1, argv + 1);
    if (strcmp(argv[1], "describe") == 0)
        return describe(argc - 1, argv + 1);
    return cs_cli_usage_error("config", "unknown action '%s' (check, dump or describe)", argv[1]);
}

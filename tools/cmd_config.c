/* cmd_config — checking, dumping and describing configuration files.
 *
 * `check` tells file kinds apart by their top-level setting: `energy_table` (an energy table),
 * anything else an architecture. Every error of the file is printed, one per line. */
#include "cmd_config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "arch.h"
#include "cli.h"
#include "energy.h"

static const char usage[] =
    "usage: cimsim config check FILE...\n"
    "       cimsim config dump [ARCH] [--set KEY=VALUE]...\n"
    "       cimsim config describe [GROUP] [--markdown]\n"
    "\n"
    "  check      validate configuration files (architectures, energy tables); prints every\n"
    "             error as FILE:LINE: error: KEY: RULE (got VALUE) and exits 2 if any\n"
    "  dump       the effective architecture with defaults filled in, each value followed by\n"
    "             where it came from (default: the built-in a100)\n"
    "  describe   every key of a group (sm, l2, hbm, hbm.timing, ...; default: all) with type,\n"
    "             default, range, unit and meaning; --markdown gives docs/config-reference.md\n";

static bool has_top(const cs_cfg *cfg, const char *name)
{
    for (int i = 0; cs_cfg_top_name(cfg, i); i++)
        if (strcmp(cs_cfg_top_name(cfg, i), name) == 0)
            return true;
    return false;
}

static int check(int argc, char **argv)
{
    if (argc < 2)
        return cs_cli_usage_error("config check", "expected at least one FILE");
    int rc = 0;
    for (int i = 1; i < argc; i++) {
        cs_err err;
        cs_err_init(&err);
        cs_cfg *cfg = NULL;
        cs_status st = cs_cfg_parse_file(argv[i], &cfg, &err);
        if (st == CS_OK && has_top(cfg, "energy_table")) {
            cs_energy_table *t = NULL;
            st = cs_energy_table_load(argv[i], &t, &err);
            cs_energy_table_destroy(t);
        } else if (st == CS_OK) {
            cs_arch_doc *d = NULL;
            st = cs_arch_load(argv[i], NULL, 0, &d, &err);
            cs_arch_doc_destroy(d);
        }
        cs_cfg_destroy(cfg);
        if (st != CS_OK) {
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
    while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        if (c != 's')
            return cs_cli_usage_error("config dump", "unknown option '%s'", argv[optind - 1]);
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
    const cs_cfg_schema *s = find_group(&cs_arch_schema, group ? group : "");
    if (!s)
        return cs_cli_usage_error("config describe", "no group '%s' in an architecture file", group);
    cs_buf b;
    cs_buf_init(&b);
    cs_cfg_describe(s, group ? group : "", md, &b);
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
    if (strcmp(argv[1], "check") == 0)
        return check(argc - 1, argv + 1);
    if (strcmp(argv[1], "dump") == 0)
        return dump(argc - 1, argv + 1);
    if (strcmp(argv[1], "describe") == 0)
        return describe(argc - 1, argv + 1);
    return cs_cli_usage_error("config", "unknown action '%s' (check, dump or describe)", argv[1]);
}

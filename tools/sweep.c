/* sweep — spec schema, validation and points. */
#include "sweep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

/* The `cimsim run` options a spec may give (everything but jobs, output, quiet and help, which
 * belong to the sweep command; --set has its own keys). */
static const struct {
    const char *name;
    int code;
    bool path;     /* a value with '/' or a .cfg/.csv suffix is a file: relative to the spec */
    bool cim_only; /* dropped at points without a CiM placement */
} run_opts[] = {
    {"arch", 'a', true, false},           {"workload", 'w', true, false},
    {"dtype", CS_OPT_DTYPE, false, false}, {"energy", CS_OPT_ENERGY, true, false},
    {"tile", CS_OPT_TILE, false, false},   {"stages", CS_OPT_STAGES, false, false},
    {"split-k", CS_OPT_SPLITK, false, false}, {"cim", CS_OPT_CIM, true, false},
    {"macros", CS_OPT_MACROS, false, true}, {"mapping", CS_OPT_MAPPING, true, true},
    {"goal", CS_OPT_GOAL, false, true},    {"dup", CS_OPT_DUP, false, true},
    {"order", CS_OPT_ORDER, false, true},  {"double-buffer", CS_OPT_DB, false, true},
    {"compat", CS_OPT_COMPAT, false, false},
};
enum { NRUN_OPTS = sizeof run_opts / sizeof run_opts[0] };

static int find_opt(const char *name)
{
    for (int i = 0; i < (int)NRUN_OPTS; i++)
        if (strcmp(run_opts[i].name, name) == 0)
            return i;
    return -1;
}

static void opt_names(char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; i < (int)NRUN_OPTS && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%s", i ? ", " : "", run_opts[i].name);
}

/* ==== schema =============================================================================== */

static void check_axis(const void *params, cs_cfg_check *chk)
{
    const cs_sweep_axis *a = params;
    if (!a->option == !a->set)
        cs_cfg_fail(chk, a->option ? "set" : "values", "an axis names exactly one of option or set");
    if (a->option && find_opt(a->option) < 0) {
        char names[512];
        opt_names(names, sizeof names);
        cs_cfg_fail(chk, "option", "must be one of %s", names);
    }
    if (a->values.n == 0)
        cs_cfg_fail(chk, "values", "must hold at least one value");
}

static const cs_cfg_key axis_keys[] = {
    CS_CFG_K(cs_sweep_axis, name, "name", CS_CFG_STRING, false, NULL, CS_CFG_NORANGE, "",
             "Column name in results.csv (default: the option or the set key)."),
    CS_CFG_K(cs_sweep_axis, option, "option", CS_CFG_STRING, false, NULL, CS_CFG_NORANGE, "",
             "A `cimsim run` option without its dashes (cim, workload, macros, ...); the cim "
             "value \"none\" is the tensor-core baseline."),
    CS_CFG_K(cs_sweep_axis, set, "set", CS_CFG_STRING, false, NULL, CS_CFG_NORANGE, "",
             "An architecture key, as `--set KEY=VALUE` would override it (\"hbm.clock\"), or a key of the "
             "placed CiM primitive (\"cim.latency\"; left out at baseline points)."),
    CS_CFG_K(cs_sweep_axis, values, "values", CS_CFG_STR_LIST, true, NULL, CS_CFG_NORANGE, "",
             "The values the axis takes, in order."),
};
static const cs_cfg_schema axis_schema =
    CS_CFG_SCHEMA("axis", cs_sweep_axis, axis_keys, check_axis, "One swept option or key.");

static void check_sweep(const void *params, cs_cfg_check *chk)
{
    const cs_sweep_params *p = params;
    char names[512], key[160];
    for (size_t i = 0; i < p->run.n; i++)
        if (find_opt(p->run.names[i]) < 0) {
            opt_names(names, sizeof names);
            snprintf(key, sizeof key, "run.%s", p->run.names[i]);
            cs_cfg_fail(chk, key, "not a `cimsim run` option a sweep can fix; one of %s", names);
        }
    for (size_t i = 0; i < p->set.n; i++)
        if (!strchr(p->set.v[i], '=')) {
            snprintf(key, sizeof key, "set[%zu]", i);
            cs_cfg_fail(chk, key, "expected \"KEY=VALUE\"");
        }
    if (p->axes.n > CS_SWEEP_MAX_AXES)
        cs_cfg_fail(chk, "axes", "at most %d axes", CS_SWEEP_MAX_AXES);
    /* The name makes the default output directory, sweep-NAME: it must stay one directory in
     * the working directory. */
    if (p->name) {
        bool bad = strlen(p->name) > 200;
        for (const char *c = p->name; *c && !bad; c++)
            bad = *c == '/' || (unsigned char)*c < 0x20 || *c == 0x7f;
        if (bad)
            cs_cfg_fail(chk, "name", "must be at most 200 characters without '/' or control "
                                     "characters (it names the directory sweep-NAME)");
    }
}

static const cs_cfg_key sweep_keys[] = {
    CS_CFG_K(cs_sweep_params, name, "name", CS_CFG_STRING, false, "", CS_CFG_NORANGE, "",
             "A name for reports (default: the spec file's name)."),
    {.name = "run", .type = CS_CFG_MAP, .offset = offsetof(cs_sweep_params, run), .min = 1,
     .max = 0, .elem = CS_CFG_STRING,
     .help = "Options every point shares, as given to `cimsim run`: { arch = \"a100\"; "
             "workload = \"bert-large\"; macros = \"iso-area\"; }."},
    CS_CFG_K(cs_sweep_params, set, "set", CS_CFG_STR_LIST, false, NULL, CS_CFG_NORANGE, "",
             "Architecture overrides every point shares: [\"l2.assoc=16\"]."),
    {.name = "axes", .type = CS_CFG_LIST, .offset = offsetof(cs_sweep_params, axes), .min = 1,
     .max = 0, .group = &axis_schema,
     .help = "The swept options; points are their cartesian product, the last axis varying "
             "fastest."},
};
static const cs_cfg_schema sweep_schema =
    CS_CFG_SCHEMA("sweep", cs_sweep_params, sweep_keys, check_sweep, "A design-space sweep.");

typedef struct root_p {
    cs_sweep_params sweep;
} root_p;
static const cs_cfg_key root_keys[] = {
    {.name = "sweep", .type = CS_CFG_GROUP, .offset = offsetof(root_p, sweep), .required = true,
     .min = 1, .max = 0, .group = &sweep_schema, .help = "The sweep."},
};
static const cs_cfg_schema root_schema =
    CS_CFG_SCHEMA("", root_p, root_keys, NULL, "A sweep spec file.");

const cs_cfg_schema *cs_sweep_schema(void) { return &root_schema; }

/* ==== values =============================================================================== */

static char *own(cs_sweep *s, char *str)
{
    if (s->nowned == s->owned_cap) {
        s->owned_cap = s->owned_cap ? 2 * s->owned_cap : 16;
        s->owned = cs_realloc(s->owned, s->owned_cap * sizeof *s->owned);
    }
    return s->owned[s->nowned++] = str;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* A value as the option should see it: file names relative to the spec's directory. */
static const char *resolve(cs_sweep *s, int opt, const char *v)
{
    if (!run_opts[opt].path)
        return v;
    /* a mapping is a file only as timeloop:FILE */
    const char *pre = run_opts[opt].code == CS_OPT_MAPPING ? "timeloop:" : "";
    size_t plen = strlen(pre);
    if (plen && strncmp(v, pre, plen) != 0)
        return v;
    const char *at = run_opts[opt].code == CS_OPT_CIM ? strchr(v, '@') : NULL;
    size_t flen = at ? (size_t)(at - v) : strlen(v);
    char file[4096];
    snprintf(file, sizeof file, "%.*s", (int)(flen - plen), v + plen);
    bool is_path = plen || strchr(file, '/') || ends_with(file, ".cfg") || ends_with(file, ".csv");
    if (!is_path || file[0] == '/' || !file[0] || strcmp(s->dir, ".") == 0)
        return v;
    size_t cap = strlen(s->dir) + strlen(v) + 2;
    char *r = cs_malloc(cap);
    snprintf(r, cap, "%s%s/%s", pre, s->dir, v + plen);
    return own(s, r);
}

/* Applies one option to o; false (message in o->error) when its value is bad. */
static bool apply(cs_opts *o, int opt, const char *v)
{
    return cs_opts_handle(o, run_opts[opt].code, v) == 1;
}

static void append_cmd(cs_opts *o, const char *opt, const char *v)
{
    size_t n = strlen(o->command);
    bool quote = strpbrk(v, " \t'\"\\$") != NULL || !*v;
    snprintf(o->command + n, sizeof o->command - n, quote ? " --%s '%s'" : " --%s %s", opt, v);
}

static bool is_baseline_cim(const char *v)
{
    return strcmp(v, "none") == 0 || !*v;
}

/* ==== load ================================================================================= */

/* Every option value of the spec on a scratch cs_opts, each error cited at its line. */
static void check_values(cs_sweep *s, cs_err *err)
{
    char where[600], path[160];
    for (size_t i = 0; i < s->p.run.n; i++) {
        int k = find_opt(s->p.run.names[i]);
        const char *v = ((char **)s->p.run.items)[i];
        cs_opts o;
        cs_opts_init(&o, "sweep", 0, NULL);
        o.collect = true;
        if (k >= 0 && !(k == find_opt("cim") && is_baseline_cim(v)) && !apply(&o, k, resolve(s, k, v))) {
            snprintf(path, sizeof path, "sweep.run.%s", s->p.run.names[i]);
            cs_cfg_where(s->cfg, path, where, sizeof where);
            cs_err_add(err, CS_INVALID, "%s: error: %s: %s", where, path, o.error);
        }
    }
    const cs_sweep_axis *axes = s->p.axes.items;
    for (size_t a = 0; a < s->p.axes.n; a++) {
        int k = axes[a].option ? find_opt(axes[a].option) : -1;
        for (size_t j = 0; j < axes[a].values.n; j++) {
            const char *v = axes[a].values.v[j];
            cs_opts o;
            cs_opts_init(&o, "sweep", 0, NULL);
            o.collect = true;
            bool ok = k >= 0 ? (k == find_opt("cim") && is_baseline_cim(v)) || apply(&o, k, resolve(s, k, v))
                             : *v != '\0';
            if (k < 0 && !ok)
                snprintf(o.error, sizeof o.error, "a value for %s must not be empty", axes[a].set);
            if (!ok) {
                snprintf(path, sizeof path, "sweep.axes[%zu].values[%zu]", a, j);
                cs_cfg_where(s->cfg, path, where, sizeof where);
                cs_err_add(err, CS_INVALID, "%s: error: %s: %s", where, path, o.error);
            }
        }
    }
}

cs_status cs_sweep_load(const char *path, cs_sweep **out, cs_err *err)
{
    *out = NULL;
    cs_cfg *cfg = NULL;
    cs_status st = cs_cfg_parse_file(path, &cfg, err);
    return st == CS_OK ? cs_sweep_from_cfg(path, cfg, out, err) : st;
}

cs_status cs_sweep_from_cfg(const char *path, cs_cfg *cfg, cs_sweep **out, cs_err *err)
{
    *out = NULL;
    cs_sweep *s = cs_calloc(1, sizeof *s);
    s->path = cs_strdup(path);
    s->cfg = cfg;
    const char *slash = strrchr(path, '/');
    s->dir = slash ? cs_strndup(path, (size_t)(slash - path) + (slash == path)) : cs_strdup(".");
    root_p root;
    memset(&root, 0, sizeof root);
    cs_status st = cs_cfg_bind(s->cfg, "", &root_schema, &root, err);
    s->p = root.sweep;
    if (st == CS_OK) {
        int before = err->count;
        check_values(s, err);
        if (err->count > before)
            st = CS_INVALID;
    }
    if (st == CS_OK) {
        s->hash = cs_cfg_hash(&root_schema, &root);
        s->npoints = 1;
        const cs_sweep_axis *axes = s->p.axes.items;
        for (size_t a = 0; a < s->p.axes.n && st == CS_OK; a++) {
            s->npoints *= axes[a].values.n;
            if (s->npoints > CS_SWEEP_MAX_POINTS) {
                char where[600];
                cs_cfg_where(s->cfg, "sweep.axes", where, sizeof where);
                st = cs_err_add(err, CS_INVALID, "%s: error: sweep.axes: at most %d points (got more)",
                                where, CS_SWEEP_MAX_POINTS);
            }
        }
        if (!s->p.name || !*s->p.name) {
            const char *base = slash ? slash + 1 : path;
            cs_free(s->p.name);
            s->p.name = cs_strndup(base, ends_with(base, ".cfg") ? strlen(base) - 4 : strlen(base));
        }
    }
    if (st != CS_OK) {
        cs_sweep_destroy(s);
        return st;
    }
    *out = s;
    return CS_OK;
}

void cs_sweep_destroy(cs_sweep *s)
{
    if (!s)
        return;
    root_p root = {.sweep = s->p};
    cs_cfg_params_free(&root_schema, &root);
    for (size_t i = 0; i < s->nowned; i++)
        cs_free(s->owned[i]);
    cs_free(s->owned);
    cs_cfg_destroy(s->cfg);
    cs_free(s->path);
    cs_free(s->dir);
    cs_free(s);
}

void cs_sweep_forget_points(cs_sweep *s)
{
    for (size_t i = 0; i < s->nowned; i++)
        cs_free(s->owned[i]);
    s->nowned = 0;
}

size_t cs_sweep_naxes(const cs_sweep *s) { return s->p.axes.n; }

const cs_sweep_axis *cs_sweep_axis_at(const cs_sweep *s, size_t i)
{
    return (const cs_sweep_axis *)s->p.axes.items + i;
}

const char *cs_sweep_value(const cs_sweep *s, size_t p, size_t a)
{
    const cs_sweep_axis *axes = s->p.axes.items;
    size_t stride = 1;
    for (size_t b = s->p.axes.n; b-- > a + 1;)
        stride *= axes[b].values.n;
    return axes[a].values.v[(p / stride) % axes[a].values.n];
}

void cs_sweep_point_opts(cs_sweep *s, size_t p, cs_opts *o)
{
    cs_opts_init(o, "sweep", 0, NULL);
    o->collect = true;
    snprintf(o->command, sizeof o->command, "cimsim run");
    const cs_sweep_axis *axes = s->p.axes.items;
    int cim = find_opt("cim");
    /* Whether the point has a placement decides whether CiM-only options apply. */
    const char *cim_v = NULL;
    for (size_t i = 0; i < s->p.run.n; i++)
        if (find_opt(s->p.run.names[i]) == cim)
            cim_v = ((char **)s->p.run.items)[i];
    for (size_t a = 0; a < s->p.axes.n; a++)
        if (axes[a].option && find_opt(axes[a].option) == cim)
            cim_v = cs_sweep_value(s, p, a);
    bool has_cim = cim_v && !is_baseline_cim(cim_v);
    /* Fixed options, fixed overrides, then the axes: a later value of the same option wins. */
    for (size_t i = 0; i < s->p.run.n; i++) {
        int k = find_opt(s->p.run.names[i]);
        const char *v = ((char **)s->p.run.items)[i];
        if ((run_opts[k].cim_only && !has_cim) || (k == cim && !has_cim))
            continue;
        v = resolve(s, k, v);
        apply(o, k, v);
        append_cmd(o, run_opts[k].name, v);
    }
    /* A primitive's keys (cim.latency) are CiM-only too: a baseline point has no primitive. */
    for (size_t i = 0; i < s->p.set.n; i++) {
        if (!has_cim && cs_cim_prim_set_key(s->p.set.v[i]))
            continue;
        cs_opts_handle(o, CS_OPT_SET, s->p.set.v[i]);
        append_cmd(o, "set", s->p.set.v[i]);
    }
    for (size_t a = 0; a < s->p.axes.n; a++) {
        const char *v = cs_sweep_value(s, p, a);
        if (axes[a].set) {
            size_t cap = strlen(axes[a].set) + strlen(v) + 2;
            char *pair = cs_malloc(cap);
            snprintf(pair, cap, "%s=%s", axes[a].set, v);
            if (!has_cim && cs_cim_prim_set_key(pair)) {
                cs_free(pair);
                continue;
            }
            cs_opts_handle(o, CS_OPT_SET, own(s, pair));
            append_cmd(o, "set", pair);
            continue;
        }
        int k = find_opt(axes[a].option);
        if ((run_opts[k].cim_only && !has_cim) || (k == cim && !has_cim))
            continue;
        v = resolve(s, k, v);
        apply(o, k, v);
        append_cmd(o, run_opts[k].name, v);
    }
}

/* energy — energy/area tables (load, validate, build, walk, write), technology scaling and the
 * post-run evaluation of counted actions.
 *
 * A table is a flat list of entries in insertion order: action entries (class, action, pJ per
 * action) and instance entries (class, leakage mW and area mm^2 per instance). Tables are small
 * (tens of entries), so lookups are linear scans; evaluation first folds the registry's action
 * counters (thousands: one per component instance) into one item per (class, action).
 */
#include "energy.h"

#include <pthread.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "cfg.h"
#include "check.h"
#include "vfs.h"

/* ==== vocabulary =========================================================================== */

enum { MAX_ACTIONS = 6 };

typedef struct vocab_class {
    const char *name;
    const char *actions[MAX_ACTIONS + 1]; /* NULL-terminated */
    cs_eb eb[MAX_ACTIONS];                /* breakdown category of each action */
    cs_el level;                          /* level of its actions and its instances */
} vocab_class;

static const vocab_class vocab[] = {
    {"dram", {"act", "pre", "rd", "wr", "ref", NULL},
     {CS_EB_DRAM, CS_EB_DRAM, CS_EB_DRAM, CS_EB_DRAM, CS_EB_DRAM}, CS_EL_DRAM},
    {"l2", {"tag", "read", "write", NULL}, {CS_EB_L2, CS_EB_L2, CS_EB_L2}, CS_EL_L2},
    {"noc", {"flit", NULL}, {CS_EB_NOC}, CS_EL_NOC},
    {"smem", {"read", "write", NULL}, {CS_EB_SMEM, CS_EB_SMEM}, CS_EL_SMEM},
    {"rf", {"read", "write", NULL}, {CS_EB_RF, CS_EB_RF}, CS_EL_RF},
    {"tensor_core", {"mac_int8", "mac_fp16", NULL}, {CS_EB_TENSOR_CORE, CS_EB_TENSOR_CORE},
     CS_EL_COMPUTE},
    {"cim", {"mac", "write", NULL}, {CS_EB_CIM_MAC, CS_EB_CIM_WRITE}, CS_EL_CIM},
    {"opreg", {"read", "write", NULL}, {CS_EB_TENSOR_CORE, CS_EB_TENSOR_CORE}, CS_EL_COMPUTE},
};
/* cim and opreg are optional in a table: the simulator adds cim from the primitive's file, and
 * only the PE-array compute block (compat.baseline) counts opreg actions. */
enum { NCLASSES = sizeof vocab / sizeof vocab[0], CIM_CLASS = 6, OPREG_CLASS = 7 };

static bool optional_class(int c)
{
    return c == CIM_CLASS || c == OPREG_CLASS;
}

bool cs_energy_vocab_optional(const char *cls)
{
    for (int i = 0; i < (int)NCLASSES; i++)
        if (strcmp(vocab[i].name, cls) == 0)
            return optional_class(i);
    return false;
}

static int class_index(const char *cls)
{
    for (int i = 0; i < (int)NCLASSES; i++)
        if (strcmp(vocab[i].name, cls) == 0)
            return i;
    return -1;
}

static int action_index(int c, const char *action)
{
    for (int a = 0; vocab[c].actions[a]; a++)
        if (strcmp(vocab[c].actions[a], action) == 0)
            return a;
    return -1;
}

const char *cs_energy_vocab_class(size_t i)
{
    return i < NCLASSES ? vocab[i].name : NULL;
}

const char *const *cs_energy_vocab_actions(const char *cls)
{
    int c = cls ? class_index(cls) : -1;
    return c < 0 ? NULL : vocab[c].actions;
}

static void actions_text(int c, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int a = 0; vocab[c].actions[a] && len < cap; a++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%s", a ? ", " : "", vocab[c].actions[a]);
}

const char *cs_eb_name(int i)
{
    static const char *const names[] = {
#define CS_X(id, str) str,
        CS_EB_MAP(CS_X)
#undef CS_X
    };
    return i >= 0 && i < CS_EB_COUNT ? names[i] : NULL;
}

const char *cs_el_name(int i)
{
    static const char *const names[] = {
#define CS_X(id, str) str,
        CS_EL_MAP(CS_X)
#undef CS_X
    };
    return i >= 0 && i < CS_EL_COUNT ? names[i] : NULL;
}

/* ==== tables =============================================================================== */

typedef struct entry {
    char *cls;
    char *action;       /* NULL: an instance entry */
    double pj;          /* action entries */
    double leak_mw;     /* instance entries */
    double area_mm2;
    char *source;       /* action entries: its source; instance entries: leakage's */
    char *area_source;  /* instance entries */
    char *joined;       /* instance entries: "leakage: ...; area: ..." when the two differ */
} entry;

struct cs_energy_table {
    char *name, *version, *description, *origin;
    double node_nm;
    uint64_t content_hash; /* of the table file's text; 0 for a table built in memory */
    entry *e;
    size_t n, cap;
};

static void entry_free(entry *e)
{
    cs_free(e->cls);
    cs_free(e->action);
    cs_free(e->source);
    cs_free(e->area_source);
    cs_free(e->joined);
}

cs_energy_table *cs_energy_table_new(const char *name, const char *version, double node_nm)
{
    cs_energy_table *t = cs_calloc(1, sizeof *t);
    t->name = cs_strdup(name ? name : "");
    t->version = cs_strdup(version ? version : "");
    t->description = cs_strdup("");
    t->origin = cs_strdup("");
    t->node_nm = node_nm;
    return t;
}

void cs_energy_table_destroy(cs_energy_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++)
        entry_free(&t->e[i]);
    cs_free(t->e);
    cs_free(t->name);
    cs_free(t->version);
    cs_free(t->description);
    cs_free(t->origin);
    cs_free(t);
}

cs_energy_table *cs_energy_table_clone(const cs_energy_table *t)
{
    cs_energy_table *c = cs_energy_table_new(t->name, t->version, t->node_nm);
    cs_energy_table_set_description(c, t->description);
    cs_free(c->origin);
    c->origin = cs_strdup(t->origin);
    c->content_hash = t->content_hash;
    c->e = t->n ? cs_calloc(t->n, sizeof *c->e) : NULL;
    c->n = c->cap = t->n;
    for (size_t i = 0; i < t->n; i++) {
        const entry *s = &t->e[i];
        entry *d = &c->e[i];
        *d = *s;
        d->cls = cs_strdup(s->cls);
        d->action = cs_strdup(s->action);
        d->source = cs_strdup(s->source);
        d->area_source = cs_strdup(s->area_source);
        d->joined = cs_strdup(s->joined);
    }
    return c;
}

const char *cs_energy_table_name(const cs_energy_table *t)
{
    return t->name;
}

const char *cs_energy_table_version(const cs_energy_table *t)
{
    return t->version;
}

double cs_energy_table_node_nm(const cs_energy_table *t)
{
    return t->node_nm;
}

const char *cs_energy_table_description(const cs_energy_table *t)
{
    return t->description;
}

const char *cs_energy_table_origin(const cs_energy_table *t)
{
    return t->origin;
}

uint64_t cs_energy_table_content_hash(const cs_energy_table *t)
{
    return t->content_hash;
}

void cs_energy_table_set_description(cs_energy_table *t, const char *text)
{
    cs_free(t->description);
    t->description = cs_strdup(text ? text : "");
}

static entry *find_entry(const cs_energy_table *t, const char *cls, const char *action)
{
    for (size_t i = 0; i < t->n; i++) {
        entry *e = &t->e[i];
        if (strcmp(e->cls, cls) != 0)
            continue;
        if (action ? (e->action && strcmp(e->action, action) == 0) : !e->action)
            return e;
    }
    return NULL;
}

static entry *add_entry(cs_energy_table *t, const char *cls, const char *action)
{
    entry *e = find_entry(t, cls, action);
    if (e)
        return e;
    CS_GROW(t->e, t->cap, t->n + 1);
    e = &t->e[t->n++];
    memset(e, 0, sizeof *e);
    e->cls = cs_strdup(cls);
    e->action = cs_strdup(action);
    return e;
}

cs_status cs_energy_lookup(const cs_energy_table *t, const char *cls, const char *action,
                           double *pj)
{
    const entry *e = find_entry(t, cls, action);
    if (!e)
        return CS_NOT_FOUND;
    *pj = e->pj;
    return CS_OK;
}

double cs_energy_leak_mw(const cs_energy_table *t, const char *cls)
{
    const entry *e = find_entry(t, cls, NULL);
    return e ? e->leak_mw : 0.0;
}

double cs_energy_area_mm2(const cs_energy_table *t, const char *cls)
{
    const entry *e = find_entry(t, cls, NULL);
    return e ? e->area_mm2 : 0.0;
}

/* " [scaled 45->7 nm: x0.05552]": four significant digits, enough to retrace the figure. */
static char *scaled_source(const char *source, double from_nm, double to_nm, double factor,
                           const char *what)
{
    cs_buf b;
    cs_buf_init(&b);
    cs_buf_puts(&b, source ? source : "");
    cs_buf_printf(&b, " [%sscaled %g->%g nm: x%.4g]", what, from_nm, to_nm, factor);
    return cs_buf_take(&b);
}

static bool needs_scaling(const cs_energy_table *t, double from_nm)
{
    return from_nm != 0 && from_nm != t->node_nm;
}

void cs_energy_set_action(cs_energy_table *t, const char *cls, const char *action, double pj,
                          double from_nm, const char *source)
{
    int c = class_index(cls);
    CS_ASSERT(c >= 0 && action_index(c, action) >= 0);
    CS_ASSERT(isfinite(pj) && pj >= 0);
    entry *e = add_entry(t, cls, action);
    cs_free(e->source);
    if (needs_scaling(t, from_nm)) {
        double f = cs_energy_scale_energy(from_nm, t->node_nm);
        CS_ASSERT(isfinite(f));
        e->pj = pj * f;
        e->source = scaled_source(source, from_nm, t->node_nm, f, "");
    } else {
        e->pj = pj;
        e->source = cs_strdup(source ? source : "");
    }
}

static void join_sources(entry *e)
{
    cs_free(e->joined);
    e->joined = NULL;
    if (strcmp(e->source, e->area_source) != 0) {
        cs_buf b;
        cs_buf_init(&b);
        cs_buf_printf(&b, "leakage: %s; area: %s", e->source, e->area_source);
        e->joined = cs_buf_take(&b);
    }
}

/* Instance entry with separate sources for leakage and area (the file format has both). */
static void set_instance2(cs_energy_table *t, const char *cls, double leak_mw, const char *leak_src,
                          double area_mm2, const char *area_src)
{
    entry *e = add_entry(t, cls, NULL);
    cs_free(e->source);
    cs_free(e->area_source);
    e->leak_mw = leak_mw;
    e->area_mm2 = area_mm2;
    e->source = cs_strdup(leak_src ? leak_src : "");
    e->area_source = cs_strdup(area_src ? area_src : "");
    join_sources(e);
}

void cs_energy_set_instance(cs_energy_table *t, const char *cls, double leak_mw, double area_mm2,
                            double from_nm, const char *source)
{
    CS_ASSERT(class_index(cls) >= 0);
    CS_ASSERT(isfinite(leak_mw) && leak_mw >= 0 && isfinite(area_mm2) && area_mm2 >= 0);
    if (!needs_scaling(t, from_nm)) {
        set_instance2(t, cls, leak_mw, source, area_mm2, source);
        return;
    }
    double fe = cs_energy_scale_energy(from_nm, t->node_nm);
    double fa = cs_energy_scale_area(from_nm, t->node_nm);
    CS_ASSERT(isfinite(fe) && isfinite(fa));
    char *ls = scaled_source(source, from_nm, t->node_nm, fe, "leakage ");
    char *as = scaled_source(source, from_nm, t->node_nm, fa, "area ");
    set_instance2(t, cls, leak_mw * fe, ls, area_mm2 * fa, as);
    cs_free(ls);
    cs_free(as);
}

size_t cs_energy_entry_count(const cs_energy_table *t)
{
    return t->n;
}

void cs_energy_entry_get(const cs_energy_table *t, size_t i, const char **cls, const char **action,
                         double *pj, double *leak_mw, double *area_mm2, const char **source)
{
    CS_ASSERT(i < t->n);
    const entry *e = &t->e[i];
    if (cls)
        *cls = e->cls;
    if (action)
        *action = e->action;
    if (pj)
        *pj = e->action ? e->pj : 0.0;
    if (leak_mw)
        *leak_mw = e->action ? 0.0 : e->leak_mw;
    if (area_mm2)
        *area_mm2 = e->action ? 0.0 : e->area_mm2;
    if (source)
        *source = e->joined ? e->joined : e->source;
}

/* ==== technology scaling (Stillmaker & Baas, Integration 58, 2017) ========================== */

/* Energy per operation at a node: a2 V^2 + a1 V + a0 at the node's nominal supply. The paper's
 * fits (its Table 5; 45..7 nm: the high-performance "HP" models) give a relative figure; only
 * ratios between nodes are used. Nominal supplies: docs/energy.md. */
typedef struct node_fit {
    double nm, vdd, a2, a1, a0;
} node_fit;

static const node_fit fits[] = {
    {180, 1.8, 0, 24.64, -17.98},     {130, 1.3, 7.171, -6.709, 2.904},
    {90, 1.2, 4.762, -4.781, 2.092},  {65, 1.1, 3.755, -4.398, 1.975},
    {45, 1.0, 1.018, -0.3107, 0.1539}, {32, 0.9, 0.8367, -0.4341, 0.1701},
    {20, 0.9, 0.373, -0.1582, 0.04104}, {16, 0.85, 0.2958, -0.1241, 0.03024},
    {14, 0.8, 0.2363, -0.09675, 0.02239}, {10, 0.75, 0.2068, -0.09311, 0.02375},
    {7, 0.7, 0.1776, -0.09097, 0.02447},
};
enum { NNODES = sizeof fits / sizeof fits[0] };

/* Area factor from node [row] to node [column], the paper's Table 3 (two significant digits,
 * hence not exactly reciprocal). Order as in fits[]. */
static const double area_factor[NNODES][NNODES] = {
    {1, 0.34, 0.15, 0.08, 0.053, 0.025, 0.011, 0.01, 0.0093, 0.0055, 0.0032},
    {2.9, 1, 0.44, 0.23, 0.16, 0.072, 0.033, 0.03, 0.027, 0.016, 0.0092},
    {6.6, 2.3, 1, 0.53, 0.35, 0.16, 0.075, 0.067, 0.061, 0.036, 0.021},
    {12, 4.3, 1.9, 1, 0.66, 0.31, 0.14, 0.13, 0.12, 0.068, 0.039},
    {19, 6.4, 2.8, 1.5, 1, 0.46, 0.21, 0.19, 0.17, 0.1, 0.059},
    {40, 14, 6.1, 3.3, 2.2, 1, 0.46, 0.41, 0.38, 0.22, 0.13},
    {88, 30, 13, 7.1, 4.7, 2.2, 1, 0.89, 0.82, 0.48, 0.28},
    {99, 34, 15, 7.9, 5.3, 2.4, 1.1, 1, 0.91, 0.54, 0.31},
    {110, 37, 16, 8.7, 5.8, 2.7, 1.2, 1.1, 1, 0.59, 0.34},
    {180, 63, 28, 15, 9.8, 4.5, 2.1, 1.9, 1.7, 1, 0.58},
    {320, 110, 48, 25, 17, 7.8, 3.6, 3.2, 2.9, 1.7, 1},
};

/* Position of a node on the table: index i and weight w such that the node lies between
 * fits[i] and fits[i + 1] at fraction w of the way in log(nm). False outside 7..180 nm. */
static bool node_pos(double nm, int *i, double *w)
{
    if (!(nm <= fits[0].nm && nm >= fits[NNODES - 1].nm))
        return false;
    for (int k = 0; k < NNODES; k++)
        if (nm == fits[k].nm) {
            *i = k;
            *w = 0;
            return true;
        }
    int k = 0;
    while (!(nm < fits[k].nm && nm > fits[k + 1].nm))
        k++;
    *i = k;
    *w = (log(fits[k].nm) - log(nm)) / (log(fits[k].nm) - log(fits[k + 1].nm));
    return true;
}

static double fit_energy(int k)
{
    const node_fit *f = &fits[k];
    return f->a2 * f->vdd * f->vdd + f->a1 * f->vdd + f->a0;
}

static double energy_at(int i, double w)
{
    if (w == 0)
        return fit_energy(i);
    return exp((1 - w) * log(fit_energy(i)) + w * log(fit_energy(i + 1)));
}

double cs_energy_scale_energy(double from_nm, double to_nm)
{
    int i, j;
    double wi, wj;
    if (!node_pos(from_nm, &i, &wi) || !node_pos(to_nm, &j, &wj))
        return NAN;
    if (from_nm == to_nm)
        return 1.0;
    return energy_at(j, wj) / energy_at(i, wi);
}

double cs_energy_scale_area(double from_nm, double to_nm)
{
    int i, j;
    double wi, wj;
    if (!node_pos(from_nm, &i, &wi) || !node_pos(to_nm, &j, &wj))
        return NAN;
    if (from_nm == to_nm)
        return 1.0;
    if (wi == 0 && wj == 0)
        return area_factor[i][j];
    /* Bilinear in (log from, log to) of log factor. */
    int i1 = wi == 0 ? i : i + 1, j1 = wj == 0 ? j : j + 1;
    double l00 = log(area_factor[i][j]), l01 = log(area_factor[i][j1]);
    double l10 = log(area_factor[i1][j]), l11 = log(area_factor[i1][j1]);
    double l = (1 - wi) * ((1 - wj) * l00 + wj * l01) + wi * ((1 - wj) * l10 + wj * l11);
    return exp(l);
}

/* ==== loading ============================================================================== */

typedef struct action_p {
    double energy_pj;
    char *source;
} action_p;

typedef struct class_p {
    cs_cfg_map actions; /* of action_p */
    double leak_mw;
    char *leak_source;
    double area_mm2;
    char *area_source;
} class_p;

typedef struct table_p {
    char *name, *version, *description;
    double node_nm;
    class_p cls[NCLASSES];
} table_p;

typedef struct root_p {
    table_p table;
} root_p;

#define HUGE_BOUND 1e300

static void check_action(const void *params, cs_cfg_check *chk)
{
    const action_p *a = params;
    if (!a->source || !a->source[0])
        cs_cfg_fail(chk, "source", "must name where the figure comes from");
}

static const cs_cfg_key action_keys[] = {
    CS_CFG_K(action_p, energy_pj, "energy", CS_CFG_ENERGY, true, NULL, 0, HUGE_BOUND, "pJ",
             "Energy of one action."),
    CS_CFG_K(action_p, source, "source", CS_CFG_STRING, true, NULL, CS_CFG_NORANGE, "",
             "Where the figure comes from (publication, derivation, scaling)."),
};
static const cs_cfg_schema action_schema =
    CS_CFG_SCHEMA("action", action_p, action_keys, check_action, "One action of a class.");

/* Actions: the class's group must list every action of the vocabulary and nothing else (cim
 * may omit its actions altogether: the simulator adds them from the primitive's file). */
static void check_class(int c, const void *params, cs_cfg_check *chk)
{
    const class_p *p = params;
    char list[160];
    actions_text(c, list, sizeof list);
    const char **names = (const char **)p->actions.names;
    for (size_t i = 0; i < p->actions.n; i++)
        if (action_index(c, names[i]) < 0) {
            char key[96];
            snprintf(key, sizeof key, "actions.%s", names[i]);
            cs_cfg_fail(chk, key, "unknown action of class %s (its actions: %s)", vocab[c].name,
                        list);
        }
    if (optional_class(c) && p->actions.n == 0)
        return;
    for (int a = 0; vocab[c].actions[a]; a++) {
        bool found = false;
        for (size_t i = 0; i < p->actions.n && !found; i++)
            found = strcmp(names[i], vocab[c].actions[a]) == 0;
        if (!found) {
            char key[96];
            snprintf(key, sizeof key, "actions.%s", vocab[c].actions[a]);
            cs_cfg_fail(chk, key, "missing action (class %s needs %s)", vocab[c].name, list);
        }
    }
    if (optional_class(c)) /* optional keys: a source is required only with a figure */
        return;
    if (!p->leak_source[0])
        cs_cfg_fail(chk, "leakage_source", "must name where the figure comes from");
    if (!p->area_source[0])
        cs_cfg_fail(chk, "area_source", "must name where the figure comes from");
}

#define CLASS_CHECK(i) \
    static void check_class_##i(const void *params, cs_cfg_check *chk) \
    { \
        check_class(i, params, chk); \
    }
CLASS_CHECK(0)
CLASS_CHECK(1)
CLASS_CHECK(2)
CLASS_CHECK(3)
CLASS_CHECK(4)
CLASS_CHECK(5)
CLASS_CHECK(6)
CLASS_CHECK(7)
#undef CLASS_CHECK
_Static_assert(NCLASSES == 8, "one check function per class");

#define CLASS_KEYS(req, leak_def, area_def, src_def) \
    {{.name = "actions", .type = CS_CFG_MAP, .offset = offsetof(class_p, actions), .min = 1, \
      .max = 0, .help = "Energy of each action: NAME = { energy = \"0.15pJ\"; source = \"...\"; }", \
      .group = &action_schema}, \
     CS_CFG_K(class_p, leak_mw, "leakage", CS_CFG_POWER, req, leak_def, 0, HUGE_BOUND, "mW", \
              "Leakage power of one instance."), \
     CS_CFG_K(class_p, leak_source, "leakage_source", CS_CFG_STRING, req, src_def, CS_CFG_NORANGE, \
              "", "Where the leakage figure comes from."), \
     CS_CFG_K(class_p, area_mm2, "area", CS_CFG_AREA, req, area_def, 0, HUGE_BOUND, "mm^2", \
              "Area of one instance."), \
     CS_CFG_K(class_p, area_source, "area_source", CS_CFG_STRING, req, src_def, CS_CFG_NORANGE, \
              "", "Where the area figure comes from.")}

static const cs_cfg_key class_keys[] = CLASS_KEYS(true, NULL, NULL, NULL);
static const cs_cfg_key cim_keys[] = CLASS_KEYS(false, "0mW", "0mm2", "");

#define CLASS_SCHEMA(i, kt) \
    {.name = "class", .help = "One component class: its actions and one instance's leakage and area.", \
     .keys = kt, .nkeys = sizeof(kt) / sizeof(kt)[0], .size = sizeof(class_p), \
     .check = check_class_##i}
static const cs_cfg_schema class_schemas[NCLASSES] = {
    CLASS_SCHEMA(0, class_keys), CLASS_SCHEMA(1, class_keys), CLASS_SCHEMA(2, class_keys),
    CLASS_SCHEMA(3, class_keys), CLASS_SCHEMA(4, class_keys), CLASS_SCHEMA(5, class_keys),
    CLASS_SCHEMA(6, cim_keys), CLASS_SCHEMA(7, cim_keys),
};

#define CLASS_KEY(i, req, hlp) \
    {.name = NULL, .type = CS_CFG_GROUP, .offset = offsetof(table_p, cls) + (i) * sizeof(class_p), \
     .required = req, .min = 1, .max = 0, .help = hlp, .group = &class_schemas[i]}

static const cs_cfg_key table_keys[] = {
    CS_CFG_K(table_p, name, "name", CS_CFG_STRING, true, NULL, CS_CFG_NORANGE, "",
             "Name results cite (\"7nm\")."),
    CS_CFG_K(table_p, version, "version", CS_CFG_STRING, true, NULL, CS_CFG_NORANGE, "",
             "Version results cite; change it whenever a figure changes."),
    CS_CFG_K(table_p, node_nm, "technology_nm", CS_CFG_FLOAT, true, NULL, 7, 180, "nm",
             "Technology node of every figure in the table."),
    CS_CFG_K(table_p, description, "description", CS_CFG_STRING, true, NULL, CS_CFG_NORANGE, "",
             "What the table models and how it was built."),
    CLASS_KEY(0, true, "DRAM: per command / 32-byte burst; instance = one channel."),
    CLASS_KEY(1, true, "L2: per tag lookup / 32-byte sector; instance = one slice."),
    CLASS_KEY(2, true, "Crossbar: per 32-byte flit; instance = the crossbar."),
    CLASS_KEY(3, true, "Shared memory: per 32 bytes; instance = one SM's shared memory."),
    CLASS_KEY(4, true, "Register file: per 4-byte word; instance = one sub-partition's file."),
    CLASS_KEY(5, true, "Tensor core: per MAC; instance = one sub-partition's tensor core."),
    CLASS_KEY(6, false, "CiM (optional: the simulator adds it from the primitive's file)."),
    CLASS_KEY(7, false, "PE-array operand registers: per byte (optional: needed only by compat.baseline = pe_array)."),
};

static const cs_cfg_schema table_schema =
    CS_CFG_SCHEMA("energy_table", table_p, table_keys, NULL, "An energy and area table.");

static const cs_cfg_key root_keys[] = {
    CS_CFG_G(root_p, table, "energy_table", &table_schema, "The table."),
};
static const cs_cfg_schema root_schema =
    CS_CFG_SCHEMA("", root_p, root_keys, NULL, "An energy/area table file.");

/* The class keys take their names from the vocabulary (a static initialiser cannot); built
 * once, whichever thread asks first. */
static cs_cfg_key schema_keys[sizeof table_keys / sizeof table_keys[0]];
static cs_cfg_schema schema_table, schema_root;
static cs_cfg_key schema_rkeys[1];
static pthread_once_t schema_once = PTHREAD_ONCE_INIT;

static void build_schema(void)
{
    memcpy(schema_keys, table_keys, sizeof schema_keys);
    for (size_t k = 0; k < sizeof schema_keys / sizeof schema_keys[0]; k++)
        if (!schema_keys[k].name)
            schema_keys[k].name = vocab[k - 4].name;
    schema_table = table_schema;
    schema_table.keys = schema_keys;
    schema_rkeys[0] = root_keys[0];
    schema_rkeys[0].group = &schema_table;
    schema_rkeys[0].required = true;
    schema_root = root_schema;
    schema_root.keys = schema_rkeys;
}

const cs_cfg_schema *cs_energy_table_schema(void)
{
    pthread_once(&schema_once, build_schema);
    return &schema_root;
}

/* "45nm" -> builtin:arch/energy/45nm.cfg when such a file is embedded; else a path. */
static void resolve_spec(const char *spec, char *path, size_t cap)
{
    if (!strchr(spec, '/') && !strchr(spec, '.') && strncmp(spec, "builtin:", 8) != 0) {
        char rel[256];
        snprintf(rel, sizeof rel, "arch/energy/%s.cfg", spec);
        if (cs_vfs_find(rel)) {
            snprintf(path, cap, "builtin:%s", rel);
            return;
        }
    }
    snprintf(path, cap, "%s", spec);
}

static void list_builtins(char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (const cs_vfs_file *f = cs_vfs_files; f->path && len < cap; f++) {
        const char *p = f->path;
        size_t n = strlen(p);
        if (strncmp(p, "arch/energy/", 12) == 0 && n > 16 && strcmp(p + n - 4, ".cfg") == 0)
            len += (size_t)snprintf(buf + len, cap - len, "%s%.*s", len ? ", " : "",
                                    (int)(n - 16), p + 12);
    }
}

cs_status cs_energy_table_load(const char *spec, cs_energy_table **out, cs_err *err)
{
    *out = NULL;
    char path[1024];
    resolve_spec(spec, path, sizeof path);
    if (!strchr(spec, '/') && !strchr(spec, '.') && strncmp(path, "builtin:", 8) != 0) {
        /* A bare word that is no built-in table and no file: say which tables exist. */
        FILE *f = fopen(spec, "r");
        if (!f) {
            char names[256];
            list_builtins(names, sizeof names);
            return cs_err_add(err, CS_NOT_FOUND,
                              "%s: error: no such energy table (built-in tables: %s; or give "
                              "a path to a table file)",
                              spec, names);
        }
        fclose(f);
    }
    cs_cfg *cfg = NULL;
    cs_status st = cs_cfg_parse_file(path, &cfg, err);
    if (st != CS_OK)
        return st;
    st = cs_energy_table_from_cfg(cfg, path, out, err);
    cs_cfg_destroy(cfg);
    return st;
}

cs_status cs_energy_table_from_cfg(cs_cfg *cfg, const char *origin, cs_energy_table **out, cs_err *err)
{
    *out = NULL;
    root_p p;
    memset(&p, 0, sizeof p);
    const cs_cfg_schema *sch = cs_energy_table_schema();
    cs_status st = cs_cfg_bind(cfg, "", sch, &p, err);
    if (st == CS_OK) {
        const table_p *tp = &p.table;
        cs_energy_table *t = cs_energy_table_new(tp->name, tp->version, tp->node_nm);
        cs_energy_table_set_description(t, tp->description);
        cs_free(t->origin);
        t->origin = cs_strdup(origin);
        t->content_hash = cs_cfg_content_hash(cfg);
        for (int c = 0; c < (int)NCLASSES; c++) {
            const class_p *cp = &tp->cls[c];
            /* Actions in vocabulary order, whatever the file's order. */
            for (int a = 0; vocab[c].actions[a]; a++)
                for (size_t i = 0; i < cp->actions.n; i++)
                    if (strcmp(cp->actions.names[i], vocab[c].actions[a]) == 0) {
                        const action_p *ap = (const action_p *)cp->actions.items + i;
                        entry *e = add_entry(t, vocab[c].name, vocab[c].actions[a]);
                        e->pj = ap->energy_pj;
                        e->source = cs_strdup(ap->source);
                    }
            bool has_instance = !optional_class(c) || cp->leak_mw != 0 || cp->area_mm2 != 0 ||
                                cp->leak_source[0] || cp->area_source[0];
            if (has_instance)
                set_instance2(t, vocab[c].name, cp->leak_mw, cp->leak_source, cp->area_mm2,
                              cp->area_source);
        }
        *out = t;
    }
    cs_cfg_params_free(sch, &p);
    return st;
}

/* ==== writing ============================================================================== */

static void put_string(cs_buf *b, const char *s)
{
    cs_buf_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            cs_buf_printf(b, "\\%c", *p);
        else if (*p == '\n')
            cs_buf_puts(b, "\\n");
        else if (*p == '\t')
            cs_buf_puts(b, "\\t");
        else if (*p < 0x20)
            cs_buf_printf(b, "\\x%02x", *p);
        else
            cs_buf_putc(b, (char)*p);
    }
    cs_buf_putc(b, '"');
}

/* Shortest exact decimal without an exponent where one reads well (1e-6 <= |v| < 1e15):
 * "30420", "0.01457"; else the shortest exact %g form. */
static void put_number(cs_buf *b, double v)
{
    char tmp[64];
    double a = fabs(v);
    if (v == 0 || (a >= 1e-6 && a < 1e15)) {
        for (int d = 0; d <= 24; d++) {
            snprintf(tmp, sizeof tmp, "%.*f", d, v);
            if (strtod(tmp, NULL) == v) {
                cs_buf_puts(b, tmp);
                return;
            }
        }
    }
    cs_buf_double(b, v);
}

static void put_quantity(cs_buf *b, double v, const char *unit)
{
    cs_buf_putc(b, '"');
    put_number(b, v);
    cs_buf_puts(b, unit);
    cs_buf_putc(b, '"');
}

void cs_energy_table_write_cfg(const cs_energy_table *t, cs_buf *out)
{
    cs_buf_printf(out, "# Energy and area table '%s' version %s (format: docs/energy.md).\n",
                  t->name, t->version);
    cs_buf_puts(out, "energy_table = {\n  name = ");
    put_string(out, t->name);
    cs_buf_puts(out, ";\n  version = ");
    put_string(out, t->version);
    cs_buf_puts(out, ";\n  technology_nm = ");
    put_number(out, t->node_nm);
    cs_buf_puts(out, ";\n  description = ");
    put_string(out, t->description);
    cs_buf_puts(out, ";\n");
    for (int c = 0; c < (int)NCLASSES; c++) {
        const entry *inst = find_entry(t, vocab[c].name, NULL);
        bool any = inst != NULL;
        for (int a = 0; vocab[c].actions[a] && !any; a++)
            any = find_entry(t, vocab[c].name, vocab[c].actions[a]) != NULL;
        if (!any)
            continue;
        cs_buf_printf(out, "\n  %s = {\n    actions = {\n", vocab[c].name);
        for (int a = 0; vocab[c].actions[a]; a++) {
            const entry *e = find_entry(t, vocab[c].name, vocab[c].actions[a]);
            if (!e)
                continue;
            cs_buf_printf(out, "      %s = { energy = ", vocab[c].actions[a]);
            put_quantity(out, e->pj, "pJ");
            cs_buf_puts(out, "; source = ");
            put_string(out, e->source);
            cs_buf_puts(out, "; };\n");
        }
        cs_buf_puts(out, "    };\n    leakage = ");
        put_quantity(out, inst ? inst->leak_mw : 0.0, "mW");
        cs_buf_puts(out, ";\n    leakage_source = ");
        put_string(out, inst ? inst->source : "no entry");
        cs_buf_puts(out, ";\n    area = ");
        put_quantity(out, inst ? inst->area_mm2 : 0.0, "mm2");
        cs_buf_puts(out, ";\n    area_source = ");
        put_string(out, inst ? inst->area_source : "no entry");
        cs_buf_puts(out, ";\n  };\n");
    }
    cs_buf_puts(out, "};\n");
}

/* ==== coverage ============================================================================= */

cs_status cs_energy_check_coverage(const cs_energy_table *t, const cs_stats *st, cs_err *err)
{
    cs_status res = CS_OK;
    size_t n = cs_stats_action_count(st);
    bool used[NCLASSES] = {false};
    /* Registered actions without an entry (each (class, action) reported once). */
    for (size_t i = 0; i < n; i++) {
        const char *name, *cls, *action;
        uint64_t v;
        cs_stats_action_get(st, i, &name, &cls, &action, &v);
        int c = class_index(cls);
        if (c >= 0)
            used[c] = true;
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++) {
            const char *n2, *c2, *a2;
            cs_stats_action_get(st, j, &n2, &c2, &a2, &v);
            seen = strcmp(c2, cls) == 0 && strcmp(a2, action) == 0;
        }
        if (seen || find_entry(t, cls, action))
            continue;
        res = cs_err_add(err, CS_INVALID,
                         "energy table %s: error: no entry for action %s.%s (counted by %s)",
                         t->name, cls, action, name);
    }
    /* Entries of the classes in use that no counter registers. */
    for (size_t k = 0; k < t->n; k++) {
        const entry *e = &t->e[k];
        int c = class_index(e->cls);
        if (!e->action || c < 0 || !used[c])
            continue;
        bool found = false;
        for (size_t i = 0; i < n && !found; i++) {
            const char *name, *cls, *action;
            uint64_t v;
            cs_stats_action_get(st, i, &name, &cls, &action, &v);
            found = strcmp(cls, e->cls) == 0 && strcmp(action, e->action) == 0;
        }
        if (!found)
            res = cs_err_add(err, CS_INVALID,
                             "energy table %s: error: entry %s.%s names no registered action",
                             t->name, e->cls, e->action);
    }
    /* Instances whose class has no leakage/area entry (each class reported once). */
    size_t ni = cs_stats_instance_count(st);
    for (size_t i = 0; i < ni; i++) {
        const char *cls, *name;
        cs_stats_instance_get(st, i, &cls, &name);
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++) {
            const char *c2, *n2;
            cs_stats_instance_get(st, j, &c2, &n2);
            seen = strcmp(c2, cls) == 0;
        }
        if (!seen && !find_entry(t, cls, NULL))
            res = cs_err_add(err, CS_INVALID,
                             "energy table %s: error: no leakage/area entry for class %s "
                             "(instance %s)",
                             t->name, cls, name);
    }
    return res;
}

/* ==== evaluation =========================================================================== */

double cs_energy_quantise(double pj)
{
    return round(pj * 64.0) / 64.0;
}

void cs_energy_report_free(cs_energy_report *r)
{
    if (!r)
        return;
    cs_free(r->items);
    r->items = NULL;
    r->nitems = 0;
}

cs_status cs_energy_eval(const cs_energy_table *t, const cs_stats *st, const cs_stats_snap *snap,
                         double seconds, cs_energy_report *out, cs_err *err)
{
    memset(out, 0, sizeof *out);
    cs_status res = CS_OK;
    size_t n = cs_stats_action_count(st), cap = 0;
    int *item_class = NULL; /* vocabulary index of each item */
    size_t icap = 0;
    /* Fold counters into items, in registration order of each (class, action). */
    for (size_t i = 0; i < n; i++) {
        const char *name, *cls, *action;
        uint64_t v;
        cs_stats_action_get(st, i, &name, &cls, &action, &v);
        if (snap) {
            size_t idx = cs_stats_find(st, name);
            CS_ASSERT(idx != (size_t)-1);
            v = (uint64_t)cs_stats_snap_value(st, snap, idx);
        }
        size_t k = 0;
        while (k < out->nitems &&
               (strcmp(out->items[k].cls, cls) != 0 || strcmp(out->items[k].action, action) != 0))
            k++;
        if (k == out->nitems) {
            CS_GROW(out->items, cap, k + 1);
            CS_GROW(item_class, icap, k + 1);
            cs_energy_item *it = &out->items[k];
            memset(it, 0, sizeof *it);
            snprintf(it->cls, sizeof it->cls, "%s", cls);
            snprintf(it->action, sizeof it->action, "%s", action);
            item_class[k] = class_index(cls);
            out->nitems++;
            if (item_class[k] < 0) {
                res = cs_err_add(err, CS_INVALID,
                                 "energy: error: action %s.%s (counted by %s): class outside the "
                                 "vocabulary (energy.h)",
                                 cls, action, name);
            } else if (action_index(item_class[k], action) < 0) {
                res = cs_err_add(err, CS_INVALID,
                                 "energy: error: action %s.%s (counted by %s): action outside "
                                 "the vocabulary of class %s",
                                 cls, action, name, cls);
                item_class[k] = -1;
            } else if (cs_energy_lookup(t, cls, action, &it->pj_each) != CS_OK) {
                res = cs_err_add(err, CS_INVALID,
                                 "energy table %s: error: no entry for action %s.%s (counted by "
                                 "%s)",
                                 t->name, cls, action, name);
                item_class[k] = -1;
            }
        }
        out->items[k].count += v;
    }
    if (res != CS_OK) {
        cs_free(item_class);
        cs_energy_report_free(out);
        return res;
    }
    for (size_t k = 0; k < out->nitems; k++) {
        cs_energy_item *it = &out->items[k];
        int c = item_class[k];
        it->pj = cs_energy_quantise((double)it->count * it->pj_each);
        out->breakdown_pj[vocab[c].eb[action_index(c, it->action)]] += it->pj;
        out->level_pj[vocab[c].level] += it->pj;
        out->dynamic_pj += it->pj;
    }
    cs_free(item_class);
    /* Leakage and area per registered instance; mW x s = 1e9 pJ. */
    size_t ni = cs_stats_instance_count(st);
    for (size_t i = 0; i < ni; i++) {
        const char *cls, *name;
        cs_stats_instance_get(st, i, &cls, &name);
        int c = class_index(cls);
        const entry *e = find_entry(t, cls, NULL);
        if (!e)
            continue;
        double pj = cs_energy_quantise(e->leak_mw * seconds * 1e9);
        out->breakdown_pj[CS_EB_LEAKAGE] += pj;
        if (c >= 0)
            out->level_pj[vocab[c].level] += pj;
        out->leakage_pj += pj;
        out->area_mm2 += e->area_mm2;
    }
    out->total_pj = out->dynamic_pj + out->leakage_pj;
    return CS_OK;
}

/* accelergy — Accelergy ERT/ART import (libyaml) and export.
 *
 * Import in three steps: (1) each YAML file is loaded as a libyaml document and walked into a
 * plain list of components (name, actions with their arguments and energies, area), every
 * problem reported with the file's line; (2) the mapping file is bound through cfg.h, whose
 * per-component check also resolves the component against the YAML lists so that a pattern
 * that matches nothing or an ambiguous action is reported at the mapping's line; (3) the
 * resolved figures are summed into a cs_energy_table.
 *
 * Numbers cross the boundary as decimal text: export writes each double's shortest exact
 * decimal (moving the decimal point textually for the mm^2 -> um^2 change) and import reads the
 * text back the same way, so a round trip returns the same doubles.
 */
#include "accelergy.h"

#include <ctype.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "afile.h"
#include "alloc.h"
#include "cfg.h"
#include "check.h"
#include "stats.h"
#include "units.h"
#include "yamlsafe.h"

/* ==== numbers as decimal text ============================================================== */

/* Validates a plain decimal number: [+-]digits[.digits][(e|E)[+-]digits]. */
static bool is_number_text(const char *s)
{
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    int digits = 0;
    while (isdigit((unsigned char)*p)) {
        p++;
        digits++;
    }
    if (*p == '.') {
        p++;
        while (isdigit((unsigned char)*p)) {
            p++;
            digits++;
        }
    }
    if (digits == 0)
        return false;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!isdigit((unsigned char)*p))
            return false;
        while (isdigit((unsigned char)*p))
            p++;
    }
    return *p == '\0';
}

/* The value of decimal text times 10^shift, rounded once (strtod on the shifted text). */
static double text_value(const char *s, int shift)
{
    if (shift == 0)
        return strtod(s, NULL);
    char buf[160];
    const char *e = strpbrk(s, "eE");
    long exp10 = e ? strtol(e + 1, NULL, 10) : 0;
    int mlen = e ? (int)(e - s) : (int)strlen(s);
    snprintf(buf, sizeof buf, "%.*se%ld", mlen, s, exp10 + shift);
    return strtod(buf, NULL);
}

/* Shortest exact decimal of v times 10^shift, as YAML 1.1 reads a number: plain digits where
 * reasonable, else d.ddde+XX (a dot and a signed exponent, as the YAML 1.1 float rule wants). */
static void put_yaml_number(cs_buf *b, double v, int shift)
{
    if (v == 0) {
        cs_buf_puts(b, "0");
        return;
    }
    char tmp[64];
    int p = 1;
    for (; p <= 17; p++) {
        snprintf(tmp, sizeof tmp, "%.*e", p - 1, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    /* tmp = [-]d.ddde[+-]XX */
    char digits[32];
    size_t nd = 0;
    const char *q = tmp;
    bool neg = *q == '-';
    if (neg)
        q++;
    for (; *q && *q != 'e'; q++)
        if (isdigit((unsigned char)*q))
            digits[nd++] = *q;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    digits[nd] = '\0';
    long e10 = strtol(q + 1, NULL, 10);
    long point = e10 + 1 + shift; /* digits before the decimal point */
    if (neg)
        cs_buf_putc(b, '-');
    if (point > 21 || point < -20) {
        cs_buf_printf(b, "%c.%s", digits[0], nd > 1 ? digits + 1 : "0");
        cs_buf_printf(b, "e%c%02ld", point - 1 < 0 ? '-' : '+', labs(point - 1));
    } else if (point >= (long)nd) {
        cs_buf_puts(b, digits);
        for (long i = (long)nd; i < point; i++)
            cs_buf_putc(b, '0');
    } else if (point > 0) {
        cs_buf_printf(b, "%.*s.%s", (int)point, digits, digits + point);
    } else {
        cs_buf_puts(b, "0.");
        for (long i = 0; i < -point; i++)
            cs_buf_putc(b, '0');
        cs_buf_puts(b, digits);
    }
}

/* ==== YAML documents into plain lists ====================================================== */

typedef struct yarg {
    char *key, *value;
} yarg;

typedef struct yact {
    char *name;
    yarg *args; /* NULL with nargs 0 when `arguments: null` */
    size_t nargs;
    double pj;
    int line;
} yact;

typedef struct ytab {
    char *name;
    int line;
    yact *acts;
    size_t nacts, cap;
    char *area_text; /* ART: the area as written (decimal text), NULL when absent */
} ytab;

typedef struct ydoc {
    const char *path;
    const char *kind; /* "ERT" | "ART" */
    ytab *tabs;
    size_t n, cap;
} ydoc;

static void ydoc_free(ydoc *d)
{
    for (size_t i = 0; i < d->n; i++) {
        ytab *t = &d->tabs[i];
        for (size_t j = 0; j < t->nacts; j++) {
            for (size_t k = 0; k < t->acts[j].nargs; k++) {
                cs_free(t->acts[j].args[k].key);
                cs_free(t->acts[j].args[k].value);
            }
            cs_free(t->acts[j].args);
            cs_free(t->acts[j].name);
        }
        cs_free(t->acts);
        cs_free(t->name);
        cs_free(t->area_text);
    }
    cs_free(d->tabs);
    memset(d, 0, sizeof *d);
}

typedef struct walker {
    ydoc *d;
    yaml_document_t *doc;
    cs_err *err;
    int errors;
} walker;

static int line_of(const yaml_node_t *n)
{
    return (int)n->start_mark.line + 1;
}

static void werr(walker *w, const yaml_node_t *n, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void werr(walker *w, const yaml_node_t *n, const char *key, const char *fmt, ...)
{
    char rule[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rule, sizeof rule, fmt, ap);
    va_end(ap);
    w->errors++;
    cs_err_at(w->err, CS_FORMAT, w->d->path, n ? line_of(n) : 0, key, "%s", rule);
}

static const char *scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static bool is_null(const yaml_node_t *n)
{
    if (!n)
        return true;
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *s = scalar(n);
    return !s[0] || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
           strcmp(s, "NULL") == 0;
}

static const char *type_name(const yaml_node_t *n)
{
    if (!n)
        return "nothing";
    switch (n->type) {
    case YAML_SCALAR_NODE: return is_null(n) ? "null" : "a scalar";
    case YAML_SEQUENCE_NODE: return "a list";
    case YAML_MAPPING_NODE: return "a mapping";
    default: return "nothing";
    }
}

static yaml_node_t *member(walker *w, const yaml_node_t *map, const char *key)
{
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        const char *k = scalar(yaml_document_get_node(w->doc, p->key));
        if (k && strcmp(k, key) == 0)
            return yaml_document_get_node(w->doc, p->value);
    }
    return NULL;
}

/* A required scalar member; reports and returns NULL when missing or not a scalar. */
static const char *req_scalar(walker *w, const yaml_node_t *map, const char *path,
                              const char *key)
{
    yaml_node_t *v = member(w, map, key);
    char kp[300];
    snprintf(kp, sizeof kp, "%s.%s", path, key);
    if (!v) {
        werr(w, map, path, "missing key '%s'", key);
        return NULL;
    }
    if (v->type != YAML_SCALAR_NODE || is_null(v)) {
        werr(w, v, kp, "expected a scalar (got %s)", type_name(v));
        return NULL;
    }
    return scalar(v);
}

/* A number at n: plain style, decimal, finite, not negative. */
static bool number_at(walker *w, const yaml_node_t *n, const char *kp, char **text, double *v)
{
    if (!n) {
        werr(w, NULL, kp, "missing");
        return false;
    }
    const char *s = scalar(n);
    if (!s || is_null(n)) {
        werr(w, n, kp, "expected a number (got %s)", type_name(n));
        return false;
    }
    if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || !is_number_text(s)) {
        werr(w, n, kp, "expected a number (got \"%s\")", s);
        return false;
    }
    double d = strtod(s, NULL);
    if (!isfinite(d)) {
        werr(w, n, kp, "must be a finite number (got %s)", s);
        return false;
    }
    if (d < 0) {
        werr(w, n, kp, "must not be negative (got %s)", s);
        return false;
    }
    if (text)
        *text = cs_strdup(s);
    *v = d;
    return true;
}

static ytab *add_table(ydoc *d, const char *name, int line)
{
    CS_GROW(d->tabs, d->cap, d->n + 1);
    ytab *t = &d->tabs[d->n++];
    memset(t, 0, sizeof *t);
    t->name = cs_strdup(name);
    t->line = line;
    return t;
}

/* One action entry {arguments, energy} (the name comes from the caller). */
static void walk_action(walker *w, ytab *t, const char *name, const yaml_node_t *n,
                        const char *kp)
{
    if (n->type != YAML_MAPPING_NODE) {
        werr(w, n, kp, "expected a mapping with arguments and energy (got %s)", type_name(n));
        return;
    }
    yact a = {.name = cs_strdup(name), .line = line_of(n)};
    bool ok = true;
    yaml_node_t *args = member(w, n, "arguments");
    char akp[300];
    snprintf(akp, sizeof akp, "%s.arguments", kp);
    if (args && !is_null(args)) {
        if (args->type != YAML_MAPPING_NODE) {
            werr(w, args, akp, "expected null or a mapping (got %s)", type_name(args));
            ok = false;
        } else {
            size_t na = (size_t)(args->data.mapping.pairs.top - args->data.mapping.pairs.start);
            a.args = na ? cs_calloc(na, sizeof *a.args) : NULL;
            for (yaml_node_pair_t *p = args->data.mapping.pairs.start;
                 p < args->data.mapping.pairs.top; p++) {
                const yaml_node_t *k = yaml_document_get_node(w->doc, p->key);
                const yaml_node_t *v = yaml_document_get_node(w->doc, p->value);
                if (!scalar(k) || !scalar(v)) {
                    werr(w, v, akp, "expected scalar arguments (got %s)", type_name(v));
                    ok = false;
                    continue;
                }
                a.args[a.nargs].key = cs_strdup(scalar(k));
                a.args[a.nargs].value = cs_strdup(scalar(v));
                a.nargs++;
            }
        }
    }
    char ekp[300];
    snprintf(ekp, sizeof ekp, "%s.energy", kp);
    yaml_node_t *e = member(w, n, "energy");
    if (!e) {
        werr(w, n, kp, "missing key 'energy'");
        ok = false;
    } else if (!number_at(w, e, ekp, NULL, &a.pj)) {
        ok = false;
    }
    if (!ok) {
        for (size_t k = 0; k < a.nargs; k++) {
            cs_free(a.args[k].key);
            cs_free(a.args[k].value);
        }
        cs_free(a.args);
        cs_free(a.name);
        return;
    }
    CS_GROW(t->acts, t->cap, t->nacts + 1);
    t->acts[t->nacts++] = a;
}

/* ERT, list layout: tables: [{name, actions: [{name, arguments, energy}]}]. */
static void walk_ert_list(walker *w, const yaml_node_t *tables)
{
    int i = 0;
    for (yaml_node_item_t *it = tables->data.sequence.items.start;
         it < tables->data.sequence.items.top; it++, i++) {
        const yaml_node_t *tn = yaml_document_get_node(w->doc, *it);
        char kp[300];
        snprintf(kp, sizeof kp, "ERT.tables[%d]", i);
        if (tn->type != YAML_MAPPING_NODE) {
            werr(w, tn, kp, "expected a mapping with name and actions (got %s)", type_name(tn));
            continue;
        }
        const char *name = req_scalar(w, tn, kp, "name");
        yaml_node_t *acts = member(w, tn, "actions");
        if (!acts) {
            werr(w, tn, kp, "missing key 'actions'");
            continue;
        }
        char akp[320];
        snprintf(akp, sizeof akp, "%s.actions", kp);
        if (acts->type != YAML_SEQUENCE_NODE) {
            werr(w, acts, akp, "expected a list of actions (got %s)", type_name(acts));
            continue;
        }
        if (!name)
            continue;
        ytab *t = add_table(w->d, name, line_of(tn));
        int j = 0;
        for (yaml_node_item_t *ai = acts->data.sequence.items.start;
             ai < acts->data.sequence.items.top; ai++, j++) {
            const yaml_node_t *an = yaml_document_get_node(w->doc, *ai);
            char ikp[360];
            snprintf(ikp, sizeof ikp, "%s[%d]", akp, j);
            if (an->type != YAML_MAPPING_NODE) {
                werr(w, an, ikp, "expected a mapping with name, arguments and energy (got %s)",
                     type_name(an));
                continue;
            }
            const char *an_name = req_scalar(w, an, ikp, "name");
            if (an_name)
                walk_action(w, t, an_name, an, ikp);
        }
    }
}

/* ERT, older layout: tables: {COMPONENT: {ACTION: {arguments, energy} | [{...}, ...]}}. */
static void walk_ert_map(walker *w, const yaml_node_t *tables)
{
    for (yaml_node_pair_t *p = tables->data.mapping.pairs.start; p < tables->data.mapping.pairs.top;
         p++) {
        const yaml_node_t *kn = yaml_document_get_node(w->doc, p->key);
        const yaml_node_t *tn = yaml_document_get_node(w->doc, p->value);
        const char *name = scalar(kn);
        char kp[300];
        snprintf(kp, sizeof kp, "ERT.tables.%s", name ? name : "?");
        if (!name || tn->type != YAML_MAPPING_NODE) {
            werr(w, tn, kp, "expected a mapping of actions (got %s)", type_name(tn));
            continue;
        }
        ytab *t = add_table(w->d, name, line_of(kn));
        for (yaml_node_pair_t *q = tn->data.mapping.pairs.start; q < tn->data.mapping.pairs.top;
             q++) {
            const char *an = scalar(yaml_document_get_node(w->doc, q->key));
            const yaml_node_t *av = yaml_document_get_node(w->doc, q->value);
            char akp[340];
            snprintf(akp, sizeof akp, "%s.%s", kp, an ? an : "?");
            if (!an)
                continue;
            if (av->type == YAML_SEQUENCE_NODE) {
                int j = 0;
                for (yaml_node_item_t *it = av->data.sequence.items.start;
                     it < av->data.sequence.items.top; it++, j++) {
                    char ikp[360];
                    snprintf(ikp, sizeof ikp, "%s[%d]", akp, j);
                    walk_action(w, t, an, yaml_document_get_node(w->doc, *it), ikp);
                }
            } else {
                walk_action(w, t, an, av, akp);
            }
        }
    }
}

/* ART: tables: [{name, area}] or {COMPONENT: area}. */
static void walk_art(walker *w, const yaml_node_t *tables)
{
    if (tables->type == YAML_MAPPING_NODE) {
        for (yaml_node_pair_t *p = tables->data.mapping.pairs.start;
             p < tables->data.mapping.pairs.top; p++) {
            const yaml_node_t *kn = yaml_document_get_node(w->doc, p->key);
            const yaml_node_t *vn = yaml_document_get_node(w->doc, p->value);
            const char *name = scalar(kn);
            char kp[300];
            snprintf(kp, sizeof kp, "ART.tables.%s", name ? name : "?");
            if (vn->type == YAML_MAPPING_NODE)
                vn = member(w, vn, "area");
            char *text = NULL;
            double v;
            if (name && number_at(w, vn ? vn : kn, kp, &text, &v))
                add_table(w->d, name, line_of(kn))->area_text = text;
        }
        return;
    }
    int i = 0;
    for (yaml_node_item_t *it = tables->data.sequence.items.start;
         it < tables->data.sequence.items.top; it++, i++) {
        const yaml_node_t *tn = yaml_document_get_node(w->doc, *it);
        char kp[300];
        snprintf(kp, sizeof kp, "ART.tables[%d]", i);
        if (tn->type != YAML_MAPPING_NODE) {
            werr(w, tn, kp, "expected a mapping with name and area (got %s)", type_name(tn));
            continue;
        }
        const char *name = req_scalar(w, tn, kp, "name");
        yaml_node_t *an = member(w, tn, "area");
        char akp[320];
        snprintf(akp, sizeof akp, "%s.area", kp);
        if (!an) {
            werr(w, tn, kp, "missing key 'area'");
            continue;
        }
        char *text = NULL;
        double v;
        if (!number_at(w, an, akp, &text, &v) || !name) {
            cs_free(text);
            continue;
        }
        add_table(w->d, name, line_of(tn))->area_text = text;
    }
}

static cs_status load_doc(const char *path, const char *kind, ydoc *d, cs_err *err)
{
    memset(d, 0, sizeof *d);
    d->path = path;
    d->kind = kind;
    char *text = NULL;
    size_t len = 0;
    cs_status st = cs_afile_read(path, &text, &len, err);
    if (st != CS_OK)
        return st;
    st = cs_yamlsafe_scan(path, (const unsigned char *)text, len, err);
    if (st != CS_OK) {
        cs_free(text);
        return st;
    }
    yaml_parser_t parser;
    yaml_document_t doc;
    CS_ASSERT(yaml_parser_initialize(&parser));
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        const char *problem = parser.problem ? parser.problem : "unreadable YAML";
        int line = (int)parser.problem_mark.line + 1;
        if (parser.context)
            st = cs_err_at(err, CS_FORMAT, path, line, "YAML", "%s (%s at line %d)", problem,
                           parser.context, (int)parser.context_mark.line + 1);
        else
            st = cs_err_at(err, CS_FORMAT, path, line, "YAML", "%s", problem);
        yaml_parser_delete(&parser);
        cs_free(text);
        return st;
    }
    walker w = {d, &doc, err, 0};
    if (cs_yamlsafe_dup_keys(path, &doc, err) != CS_OK)
        w.errors++;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    yaml_node_t *top = root && root->type == YAML_MAPPING_NODE ? member(&w, root, kind) : NULL;
    const char *other = strcmp(kind, "ERT") == 0 ? "ART" : "ERT";
    if (!top) {
        bool swapped = root && root->type == YAML_MAPPING_NODE && member(&w, root, other);
        werr(&w, root, kind, "expected a top-level '%s:' mapping (Accelergy %s output)%s", kind,
             kind, swapped ? (strcmp(kind, "ERT") == 0 ? "; this is an ART file"
                                                        : "; this is an ERT file")
                           : "");
    } else if (top->type != YAML_MAPPING_NODE) {
        werr(&w, top, kind, "expected a mapping with version and tables (got %s)", type_name(top));
    } else {
        yaml_node_t *tables = member(&w, top, "tables");
        char kp[16];
        snprintf(kp, sizeof kp, "%s.tables", kind);
        if (!tables)
            werr(&w, top, kind, "missing key 'tables'");
        else if (strcmp(kind, "ART") == 0 && (tables->type == YAML_SEQUENCE_NODE ||
                                              tables->type == YAML_MAPPING_NODE))
            walk_art(&w, tables);
        else if (tables->type == YAML_SEQUENCE_NODE)
            walk_ert_list(&w, tables);
        else if (tables->type == YAML_MAPPING_NODE)
            walk_ert_map(&w, tables);
        else
            werr(&w, tables, kp, "expected a list of tables (got %s)", type_name(tables));
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    cs_free(text);
    if (w.errors) {
        ydoc_free(d);
        return CS_FORMAT;
    }
    return CS_OK;
}

/* ==== the mapping file ===================================================================== */

typedef struct rule_p {
    char *from, *to;
    char *energy, *source; /* a figure given in the mapping itself, instead of from */
    double scale;
    cs_cfg_map arguments; /* of double: Accelergy's action arguments are numbers */
} rule_p;

typedef struct comp_p {
    char *match, *cls;
    int64_t count;
    cs_cfg_list actions; /* of rule_p */
    char *leakage;
    bool area;
} comp_p;

typedef struct map_p {
    char *name, *version, *description;
    double node_nm;
    uint64_t idle_cycle_ps;
    int area_unit;
    cs_cfg_list components; /* of comp_p */
} map_p;

typedef struct mroot_p {
    map_p map;
} mroot_p;

enum { AREA_UM2 = 0, AREA_MM2 = 1 };
static const char *const area_units[] = {"um2", "mm2", NULL};

/* The YAML lists the mapping's checks resolve against. Bound for the duration of one
 * cs_cfg_bind call on this thread: schema checks take no user pointer. */
typedef struct import_ctx {
    const ydoc *ert, *art;
} import_ctx;
static _Thread_local const import_ctx *tl_ctx;

static const char *arg_value(const yact *a, const char *key)
{
    for (size_t i = 0; i < a->nargs; i++)
        if (strcmp(a->args[i].key, key) == 0)
            return a->args[i].value;
    return NULL;
}

static bool same_value(const char *text, double v)
{
    return is_number_text(text) && strtod(text, NULL) == v;
}

static void args_text(const yact *a, cs_buf *b)
{
    if (!a->nargs) {
        cs_buf_puts(b, "null");
        return;
    }
    cs_buf_putc(b, '{');
    for (size_t i = 0; i < a->nargs; i++)
        cs_buf_printf(b, "%s%s: %s", i ? ", " : "", a->args[i].key, a->args[i].value);
    cs_buf_putc(b, '}');
}

/* The tables of d whose names match glob ('*' = any run of characters): count and first. */
static size_t match_tables(const ydoc *d, const char *glob, size_t *first)
{
    size_t n = 0;
    for (size_t i = 0; i < d->n; i++)
        if (cs_stats_glob_match(glob, d->tabs[i].name)) {
            if (!n)
                *first = i;
            n++;
        }
    return n;
}

static const ytab *find_table(const ydoc *d, const char *name)
{
    for (size_t i = 0; i < d->n; i++)
        if (strcmp(d->tabs[i].name, name) == 0)
            return &d->tabs[i];
    return NULL;
}

/* The one variant of `action` in t selected by args (NULL: no arguments given). On failure
 * returns NULL with the reason in why. */
static const yact *pick_action(const ydoc *d, const ytab *t, const char *action,
                               const cs_cfg_map *args, cs_buf *why)
{
    size_t ncand = 0, nsel = 0, nnull = 0;
    const yact *sel = NULL, *null_sel = NULL;
    for (size_t i = 0; i < t->nacts; i++) {
        const yact *a = &t->acts[i];
        if (strcmp(a->name, action) != 0)
            continue;
        ncand++;
        if (!a->nargs) {
            nnull++;
            null_sel = a;
        }
        bool ok = true;
        for (size_t k = 0; args && k < args->n && ok; k++) {
            const char *v = arg_value(a, args->names[k]);
            ok = v && same_value(v, ((const double *)args->items)[k]);
        }
        if (ok) {
            nsel++;
            if (!sel)
                sel = a;
        }
    }
    if (ncand == 0) {
        cs_buf_printf(why, "no action '%s' in %s table %s (%s:%d; its actions:", action, d->kind,
                      t->name, d->path, t->line);
        for (size_t i = 0, shown = 0; i < t->nacts; i++) {
            bool dup = false;
            for (size_t j = 0; j < i && !dup; j++)
                dup = strcmp(t->acts[j].name, t->acts[i].name) == 0;
            if (!dup)
                cs_buf_printf(why, "%s%s", shown++ ? ", " : " ", t->acts[i].name);
        }
        cs_buf_puts(why, ")");
        return NULL;
    }
    bool has_args = args && args->n;
    if (nsel == 1)
        return sel;
    if (!has_args && nnull == 1)
        return null_sel;
    cs_buf_printf(why, "%s %zu variants of action '%s' in %s table %s (%s:%d): ",
                  nsel ? "ambiguous:" : "no variant matches the arguments among",
                  nsel ? nsel : ncand, action, d->kind, t->name, d->path, t->line);
    size_t shown = 0;
    for (size_t i = 0; i < t->nacts && shown < 4; i++)
        if (strcmp(t->acts[i].name, action) == 0) {
            cs_buf_puts(why, shown++ ? ", " : "");
            args_text(&t->acts[i], why);
        }
    cs_buf_puts(why, "; choose one with arguments = { NAME = VALUE; ... }");
    return NULL;
}

static void check_comp(const void *params, cs_cfg_check *chk)
{
    const comp_p *c = params;
    const char *const *acts = cs_energy_vocab_actions(c->cls);
    if (!acts) {
        cs_buf b;
        cs_buf_init(&b);
        for (size_t i = 0; cs_energy_vocab_class(i); i++)
            cs_buf_printf(&b, "%s%s", i ? ", " : "", cs_energy_vocab_class(i));
        cs_cfg_fail(chk, "class", "unknown class (classes: %s)", b.data);
        cs_buf_free(&b);
        return;
    }
    const rule_p *rules = c->actions.items;
    bool bad = false;
    for (size_t i = 0; i < c->actions.n; i++) {
        bool ok = false;
        for (const char *const *a = acts; *a && !ok; a++)
            ok = strcmp(*a, rules[i].to) == 0;
        if (!ok) {
            cs_buf b;
            cs_buf_init(&b);
            for (const char *const *a = acts; *a; a++)
                cs_buf_printf(&b, "%s%s", a == acts ? "" : ", ", *a);
            char key[64];
            snprintf(key, sizeof key, "actions[%zu].to", i);
            cs_cfg_fail(chk, key, "not an action of class %s (its actions: %s)", c->cls, b.data);
            cs_buf_free(&b);
            bad = true;
        }
    }
    const import_ctx *ctx = tl_ctx;
    if (!ctx || bad)
        return;
    size_t first = 0, n = match_tables(ctx->ert, c->match, &first);
    if (n != 1) {
        cs_buf b;
        cs_buf_init(&b);
        size_t shown = 0;
        for (size_t i = 0; i < ctx->ert->n && shown < 6; i++)
            if (!n || cs_stats_glob_match(c->match, ctx->ert->tabs[i].name))
                cs_buf_printf(&b, "%s%s", shown++ ? ", " : "", ctx->ert->tabs[i].name);
        if (!n)
            cs_cfg_fail(chk, "match", "matches no table of ERT %s (its tables: %s%s)",
                        ctx->ert->path, b.data ? b.data : "none",
                        ctx->ert->n > shown ? ", ..." : "");
        else
            cs_cfg_fail(chk, "match", "matches %zu tables of ERT %s: %s%s; make the pattern "
                        "match one", n, ctx->ert->path, b.data, n > shown ? ", ..." : "");
        cs_buf_free(&b);
        return;
    }
    const ytab *t = &ctx->ert->tabs[first];
    for (size_t i = 0; i < c->actions.n; i++) {
        if (!rules[i].from)
            continue;
        cs_buf why;
        cs_buf_init(&why);
        if (!pick_action(ctx->ert, t, rules[i].from, &rules[i].arguments, &why)) {
            char key[64];
            snprintf(key, sizeof key, "actions[%zu].from", i);
            cs_cfg_fail(chk, key, "%s", why.data);
        }
        cs_buf_free(&why);
    }
    if (c->leakage) {
        cs_buf why;
        cs_buf_init(&why);
        if (!pick_action(ctx->ert, t, c->leakage, NULL, &why))
            cs_cfg_fail(chk, "leakage", "%s", why.data);
        cs_buf_free(&why);
    }
    if (c->area && !find_table(ctx->art, t->name))
        cs_cfg_fail(chk, "match", "component %s has no area in ART %s (set area = false to take "
                    "none)", t->name, ctx->art->path);
}

static void check_rule(const void *params, cs_cfg_check *chk)
{
    const rule_p *r = params;
    if (!r->from == !r->energy) {
        cs_cfg_fail(chk, r->from ? "energy" : "to", "give either from (an Accelergy action) or "
                    "energy (a figure in the mapping), not %s", r->from ? "both" : "neither");
        return;
    }
    if (r->energy) {
        double pj;
        const char *why = NULL;
        if (cs_units_energy_pj(r->energy, &pj, &why) != CS_OK)
            cs_cfg_fail(chk, "energy", "bad energy: %s", why ? why : "unreadable");
        else if (pj < 0)
            cs_cfg_fail(chk, "energy", "must not be negative");
        else if (!r->source || !r->source[0])
            cs_cfg_fail(chk, "energy", "a figure given in the mapping needs a source = \"...\"");
    }
}

static const cs_cfg_key rule_keys[] = {
    CS_CFG_K(rule_p, from, "from", CS_CFG_STRING, false, NULL, CS_CFG_NORANGE, "",
             "Accelergy action name."),
    CS_CFG_K(rule_p, energy, "energy", CS_CFG_STRING, false, NULL, CS_CFG_NORANGE, "pJ",
             "A figure given here instead (\"0pJ\"), with a source."),
    CS_CFG_K(rule_p, source, "source", CS_CFG_STRING, false, NULL, CS_CFG_NORANGE, "",
             "Where a figure given here comes from."),
    CS_CFG_K(rule_p, to, "to", CS_CFG_STRING, true, NULL, CS_CFG_NORANGE, "",
             "cimsim action of the component's class."),
    CS_CFG_K(rule_p, scale, "scale", CS_CFG_FLOAT, false, "1", 0, 1e300, "",
             "Multiplies the energy (unit changes: 64-bit access -> 32-byte burst = 4)."),
    {.name = "arguments", .type = CS_CFG_MAP, .offset = offsetof(rule_p, arguments), .min = 1,
     .max = 0, .elem = CS_CFG_FLOAT,
     .help = "Selects one variant of an action that Accelergy lists with several (numeric) "
             "arguments: { data_delta = 1; }."},
};
static const cs_cfg_schema rule_schema =
    CS_CFG_SCHEMA("action", rule_p, rule_keys, check_rule, "One Accelergy action -> cimsim action.");

static const cs_cfg_key comp_keys[] = {
    CS_CFG_K(comp_p, match, "match", CS_CFG_STRING, true, NULL, CS_CFG_NORANGE, "",
             "Accelergy component name; '*' matches any run of characters; must match one."),
    CS_CFG_K(comp_p, cls, "class", CS_CFG_STRING, true, NULL, CS_CFG_NORANGE, "",
             "cimsim class it provides figures for."),
    CS_CFG_K(comp_p, count, "count", CS_CFG_INT, false, "1", 1, 1e9, "",
             "Accelergy components per cimsim instance (multiplies leakage and area)."),
    {.name = "actions", .type = CS_CFG_LIST, .offset = offsetof(comp_p, actions), .min = 1,
     .max = 0, .group = &rule_schema, .help = "Action mappings."},
    CS_CFG_K(comp_p, leakage, "leakage", CS_CFG_STRING, false, NULL, CS_CFG_NORANGE, "",
             "Action whose per-cycle energy is the component's leakage (usually \"idle\")."),
    CS_CFG_K(comp_p, area, "area", CS_CFG_BOOL, false, "true", CS_CFG_NORANGE, "",
             "Take the component's area from the ART."),
};
static const cs_cfg_schema comp_schema =
    CS_CFG_SCHEMA("component", comp_p, comp_keys, check_comp, "One Accelergy component.");

static const cs_cfg_key map_keys[] = {
    CS_CFG_K(map_p, name, "name", CS_CFG_STRING, true, NULL, CS_CFG_NORANGE, "",
             "Name of the table the import makes."),
    CS_CFG_K(map_p, version, "version", CS_CFG_STRING, false, "1", CS_CFG_NORANGE, "",
             "Its version."),
    CS_CFG_K(map_p, description, "description", CS_CFG_STRING, false, "", CS_CFG_NORANGE, "",
             "Its description."),
    CS_CFG_K(map_p, node_nm, "technology_nm", CS_CFG_FLOAT, true, NULL, 7, 180, "nm",
             "Technology node of the Accelergy figures."),
    CS_CFG_K(map_p, idle_cycle_ps, "idle_cycle", CS_CFG_TIME, false, "1ns", 1, 1e12, "ps",
             "Cycle that Accelergy's idle energy is given per."),
    CS_CFG_E(map_p, area_unit, "area_unit", area_units, "um2", "Unit of the ART's areas."),
    {.name = "components", .type = CS_CFG_LIST, .offset = offsetof(map_p, components),
     .required = true, .min = 1, .max = 0, .group = &comp_schema, .help = "Component mappings."},
};
static const cs_cfg_schema map_schema =
    CS_CFG_SCHEMA("accelergy_map", map_p, map_keys, NULL, "Accelergy -> cimsim mapping.");

static const cs_cfg_key mroot_keys[] = {
    {.name = "accelergy_map", .type = CS_CFG_GROUP, .offset = offsetof(mroot_p, map),
     .required = true, .min = 1, .max = 0, .group = &map_schema, .help = "The mapping."},
};
static const cs_cfg_schema mroot_schema =
    CS_CFG_SCHEMA("", mroot_p, mroot_keys, NULL, "An Accelergy mapping file.");

const cs_cfg_schema *cs_accelergy_map_schema(void) { return &mroot_schema; }

/* ==== import =============================================================================== */

enum { NCLS = 8, NACT = 8 };
_Static_assert(NCLS >= 7 && NACT >= 6, "room for the vocabulary");

typedef struct acc {
    double pj[NCLS][NACT];
    cs_buf src[NCLS][NACT];
    bool has_pj[NCLS][NACT];
    double leak[NCLS], area[NCLS];
    bool has_leak[NCLS], has_area[NCLS];
    cs_buf leak_src[NCLS], area_src[NCLS];
} acc;

static int vocab_index(const char *cls)
{
    for (int i = 0; cs_energy_vocab_class((size_t)i); i++)
        if (strcmp(cs_energy_vocab_class((size_t)i), cls) == 0)
            return i;
    return -1;
}

static int vocab_action(const char *cls, const char *action)
{
    const char *const *a = cs_energy_vocab_actions(cls);
    for (int i = 0; a && a[i]; i++)
        if (strcmp(a[i], action) == 0)
            return i;
    return -1;
}

static void add_src(cs_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_src(cs_buf *b, const char *fmt, ...)
{
    if (b->len)
        cs_buf_puts(b, " + ");
    va_list ap;
    va_start(ap, fmt);
    cs_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

static void build(const map_p *m, const char *map_path, const ydoc *ert, const ydoc *art,
                  cs_energy_table *t)
{
    acc *a = cs_calloc(1, sizeof *a);
    for (int c = 0; c < NCLS; c++) {
        for (int k = 0; k < NACT; k++)
            cs_buf_init(&a->src[c][k]);
        cs_buf_init(&a->leak_src[c]);
        cs_buf_init(&a->area_src[c]);
    }
    double cycle_ns = (double)m->idle_cycle_ps / 1000.0;
    const comp_p *comps = m->components.items;
    for (size_t i = 0; i < m->components.n; i++) {
        const comp_p *c = &comps[i];
        int ci = vocab_index(c->cls);
        size_t first = 0;
        CS_ASSERT(ci >= 0 && match_tables(ert, c->match, &first) == 1);
        const ytab *tb = &ert->tabs[first];
        const rule_p *rules = c->actions.items;
        for (size_t r = 0; r < c->actions.n; r++) {
            int ai = vocab_action(c->cls, rules[r].to);
            CS_ASSERT(ai >= 0);
            if (!rules[r].from) { /* a figure given in the mapping */
                double pj = 0;
                cs_status ok = cs_units_energy_pj(rules[r].energy, &pj, NULL);
                CS_ASSERT(ok == CS_OK); /* check_rule validated it */
                a->pj[ci][ai] += pj * rules[r].scale;
                a->has_pj[ci][ai] = true;
                add_src(&a->src[ci][ai], "mapping %s: %s", map_path, rules[r].source);
                continue;
            }
            cs_buf why;
            cs_buf_init(&why);
            const yact *ya = pick_action(ert, tb, rules[r].from, &rules[r].arguments, &why);
            cs_buf_free(&why);
            CS_ASSERT(ya);
            a->pj[ci][ai] += ya->pj * rules[r].scale;
            a->has_pj[ci][ai] = true;
            if (rules[r].scale == 1)
                add_src(&a->src[ci][ai], "Accelergy ERT %s:%d: %s %s", ert->path, ya->line,
                        tb->name, ya->name);
            else
                add_src(&a->src[ci][ai], "Accelergy ERT %s:%d: %s %s x %g", ert->path, ya->line,
                        tb->name, ya->name, rules[r].scale);
        }
        if (c->leakage) {
            cs_buf why;
            cs_buf_init(&why);
            const yact *ya = pick_action(ert, tb, c->leakage, NULL, &why);
            cs_buf_free(&why);
            CS_ASSERT(ya);
            a->leak[ci] += ya->pj * (double)c->count / cycle_ns;
            a->has_leak[ci] = true;
            add_src(&a->leak_src[ci], "Accelergy ERT %s:%d: %s %s per %g ns cycle%s", ert->path,
                    ya->line, tb->name, ya->name, cycle_ns, c->count > 1 ? " x count" : "");
        }
        if (c->area) {
            const ytab *at = find_table(art, tb->name);
            CS_ASSERT(at && at->area_text);
            double v = text_value(at->area_text, m->area_unit == AREA_UM2 ? -6 : 0);
            a->area[ci] += v * (double)c->count;
            a->has_area[ci] = true;
            add_src(&a->area_src[ci], "Accelergy ART %s:%d: %s %s %s%s", art->path, at->line,
                    at->name, at->area_text, area_units[m->area_unit],
                    c->count > 1 ? " x count" : "");
        }
    }
    for (int c = 0; cs_energy_vocab_class((size_t)c); c++) {
        const char *cls = cs_energy_vocab_class((size_t)c);
        const char *const *acts = cs_energy_vocab_actions(cls);
        for (int k = 0; acts[k]; k++)
            if (a->has_pj[c][k])
                cs_energy_set_action(t, cls, acts[k], a->pj[c][k], 0, a->src[c][k].data);
        if (!a->has_leak[c] && !a->has_area[c])
            continue;
        /* What the mapping does not give comes from the base table, else 0. */
        size_t n = cs_energy_entry_count(t);
        const char *base_src = "";
        for (size_t i = 0; i < n; i++) {
            const char *ec, *ea, *es;
            cs_energy_entry_get(t, i, &ec, &ea, NULL, NULL, NULL, &es);
            if (!ea && strcmp(ec, cls) == 0)
                base_src = es;
        }
        char *keep = cs_strdup(base_src);
        double leak = a->has_leak[c] ? a->leak[c] : cs_energy_leak_mw(t, cls);
        double area = a->has_area[c] ? a->area[c] : cs_energy_area_mm2(t, cls);
        cs_buf s;
        cs_buf_init(&s);
        const char *none = keep[0] ? keep : "not in the Accelergy files";
        cs_buf_printf(&s, "leakage: %s; area: %s", a->has_leak[c] ? a->leak_src[c].data : none,
                      a->has_area[c] ? a->area_src[c].data : none);
        cs_energy_set_instance(t, cls, leak, area, 0, s.data);
        cs_buf_free(&s);
        cs_free(keep);
    }
    for (int c = 0; c < NCLS; c++) {
        for (int k = 0; k < NACT; k++)
            cs_buf_free(&a->src[c][k]);
        cs_buf_free(&a->leak_src[c]);
        cs_buf_free(&a->area_src[c]);
    }
    cs_free(a);
}

cs_status cs_accelergy_import(const char *ert_path, const char *art_path, const char *map_path,
                              const cs_energy_table *base, cs_energy_table **out, cs_err *err)
{
    *out = NULL;
    ydoc ert, art;
    cs_status st = load_doc(ert_path, "ERT", &ert, err);
    cs_status st2 = load_doc(art_path, "ART", &art, err);
    if (st != CS_OK || st2 != CS_OK) {
        ydoc_free(&ert);
        ydoc_free(&art);
        return st != CS_OK ? st : st2;
    }
    cs_cfg *cfg = NULL;
    st = cs_cfg_parse_file(map_path, &cfg, err);
    mroot_p p;
    memset(&p, 0, sizeof p);
    if (st == CS_OK) {
        import_ctx ctx = {&ert, &art};
        tl_ctx = &ctx;
        st = cs_cfg_bind(cfg, "", &mroot_schema, &p, err);
        tl_ctx = NULL;
    }
    if (st == CS_OK && base && cs_energy_table_node_nm(base) != p.map.node_nm)
        st = cs_err_add(err, CS_INVALID,
                        "%s: error: accelergy_map.technology_nm: the base table %s is at %g nm, "
                        "the mapping at %g nm",
                        map_path, cs_energy_table_name(base), cs_energy_table_node_nm(base),
                        p.map.node_nm);
    if (st == CS_OK) {
        cs_energy_table *t;
        if (base) {
            t = cs_energy_table_clone(base);
            /* Keep the base's figures but take the new identity. */
            cs_energy_table *n = cs_energy_table_new(p.map.name, p.map.version, p.map.node_nm);
            size_t ne = cs_energy_entry_count(t);
            for (size_t i = 0; i < ne; i++) {
                const char *ec, *ea, *es;
                double pj, leak, area;
                cs_energy_entry_get(t, i, &ec, &ea, &pj, &leak, &area, &es);
                if (ea)
                    cs_energy_set_action(n, ec, ea, pj, 0, es);
                else
                    cs_energy_set_instance(n, ec, leak, area, 0, es);
            }
            cs_energy_table_destroy(t);
            t = n;
        } else {
            t = cs_energy_table_new(p.map.name, p.map.version, p.map.node_nm);
        }
        build(&p.map, map_path, &ert, &art, t);
        if (p.map.description[0]) {
            cs_energy_table_set_description(t, p.map.description);
        } else {
            cs_buf d;
            cs_buf_init(&d);
            cs_buf_printf(&d, "Imported from Accelergy: ERT %s, ART %s, mapping %s%s%s.", ert_path,
                          art_path, map_path, base ? ", on top of table " : "",
                          base ? cs_energy_table_name(base) : "");
            cs_energy_table_set_description(t, d.data);
            cs_buf_free(&d);
        }
        *out = t;
    }
    cs_cfg_params_free(&mroot_schema, &p);
    cs_cfg_destroy(cfg);
    ydoc_free(&ert);
    ydoc_free(&art);
    return st;
}

/* ==== export =============================================================================== */

static void comment(cs_buf *b, const char *indent, const char *label, const char *text)
{
    cs_buf_printf(b, "%s# %s", indent, label);
    for (const char *p = text; *p; p++)
        cs_buf_putc(b, *p == '\n' || *p == '\r' ? ' ' : *p);
    cs_buf_putc(b, '\n');
}

static void cfg_string(cs_buf *b, const char *s)
{
    cs_buf_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            cs_buf_printf(b, "\\%c", *p);
        else if (*p == '\n')
            cs_buf_puts(b, "\\n");
        else if (*p < 0x20)
            cs_buf_printf(b, "\\x%02x", *p);
        else
            cs_buf_putc(b, (char)*p);
    }
    cs_buf_putc(b, '"');
}

void cs_accelergy_export(const cs_energy_table *t, const char *prefix, uint64_t idle_cycle_ps,
                         cs_buf *ert, cs_buf *art, cs_buf *map)
{
    double cycle_ns = (double)idle_cycle_ps / 1000.0;
    cs_buf_printf(ert,
                  "# Accelergy Energy Reference Table written by cimsim %s from energy table '%s' "
                  "version %s (%g nm).\n# Energies in pJ per action; 'idle' is leakage x one "
                  "%g ns cycle. Each entry's source is the comment above it.\n",
                  CIMSIM_VERSION, cs_energy_table_name(t), cs_energy_table_version(t),
                  cs_energy_table_node_nm(t), cycle_ns);
    cs_buf_puts(ert, "ERT:\n  version: 0.3\n  tables:\n");
    cs_buf_printf(art,
                  "# Accelergy Area Reference Table written by cimsim %s from energy table '%s' "
                  "version %s (%g nm).\n# Areas in um^2 per component instance.\n",
                  CIMSIM_VERSION, cs_energy_table_name(t), cs_energy_table_version(t),
                  cs_energy_table_node_nm(t));
    cs_buf_puts(art, "ART:\n  version: 0.3\n  tables:\n");
    cs_buf_printf(map,
                  "# Reads back the ERT.yaml/ART.yaml that 'cimsim energy export' wrote beside it:\n"
                  "#   cimsim energy import ERT.yaml ART.yaml --map map.cfg -o TABLE.cfg\n"
                  "# Format: docs/energy.md.\naccelergy_map = {\n  name = ");
    cfg_string(map, cs_energy_table_name(t));
    cs_buf_puts(map, ";\n  version = ");
    cfg_string(map, cs_energy_table_version(t));
    cs_buf_puts(map, ";\n  description = ");
    cfg_string(map, cs_energy_table_description(t));
    cs_buf_puts(map, ";\n  technology_nm = ");
    put_yaml_number(map, cs_energy_table_node_nm(t), 0);
    cs_buf_printf(map, ";\n  idle_cycle = \"%llups\";\n  area_unit = \"um2\";\n  components = (\n",
                  (unsigned long long)idle_cycle_ps);
    size_t n = cs_energy_entry_count(t);
    bool first_comp = true;
    for (size_t c = 0; cs_energy_vocab_class(c); c++) {
        const char *cls = cs_energy_vocab_class(c);
        const char *const *acts = cs_energy_vocab_actions(cls);
        int inst = -1, nact = 0;
        for (size_t i = 0; i < n; i++) {
            const char *ec, *ea;
            cs_energy_entry_get(t, i, &ec, &ea, NULL, NULL, NULL, NULL);
            if (strcmp(ec, cls) != 0)
                continue;
            if (!ea)
                inst = (int)i;
            else
                nact++;
        }
        if (inst < 0 && nact == 0)
            continue;
        cs_buf_printf(ert, "  - name: %s.%s\n    actions:\n", prefix, cls);
        cs_buf_printf(map, "%s    { match = \"%s.%s\"; class = \"%s\";", first_comp ? "" : ",\n",
                      prefix, cls, cls);
        first_comp = false;
        cs_buf_puts(map, "\n      actions = (");
        bool first_rule = true;
        for (size_t k = 0; acts[k]; k++) {
            double pj;
            if (cs_energy_lookup(t, cls, acts[k], &pj) != CS_OK)
                continue;
            const char *src = "";
            for (size_t i = 0; i < n; i++) {
                const char *ec, *ea, *es;
                cs_energy_entry_get(t, i, &ec, &ea, NULL, NULL, NULL, &es);
                if (ea && strcmp(ec, cls) == 0 && strcmp(ea, acts[k]) == 0)
                    src = es;
            }
            comment(ert, "    ", "source: ", src);
            cs_buf_printf(ert, "    - name: %s\n      arguments: null\n      energy: ", acts[k]);
            put_yaml_number(ert, pj, 0);
            cs_buf_putc(ert, '\n');
            cs_buf_printf(map, "%s\n        { from = \"%s\"; to = \"%s\"; }", first_rule ? "" : ",",
                          acts[k], acts[k]);
            first_rule = false;
        }
        cs_buf_puts(map, first_rule ? ");\n" : "\n      );\n");
        if (inst >= 0) {
            double leak, area;
            const char *src;
            cs_energy_entry_get(t, (size_t)inst, NULL, NULL, NULL, &leak, &area, &src);
            comment(ert, "    ", "source: ", src);
            cs_buf_puts(ert, "    - name: idle\n      arguments: null\n      energy: ");
            put_yaml_number(ert, leak * cycle_ns, 0);
            cs_buf_putc(ert, '\n');
            comment(art, "  ", "source: ", src);
            cs_buf_printf(art, "  - name: %s.%s\n    area: ", prefix, cls);
            put_yaml_number(art, area, 6); /* mm^2 -> um^2, moving the decimal point */
            cs_buf_putc(art, '\n');
            cs_buf_puts(map, "      leakage = \"idle\";\n      area = true; }");
        } else {
            cs_buf_puts(map, "      area = false; }");
        }
    }
    cs_buf_puts(map, "\n  );\n};\n");
}

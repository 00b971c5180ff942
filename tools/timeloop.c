/* timeloop — a Timeloop map.yaml into a cs_nest_spec, with file:line for every entry. */
#include "timeloop.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "afile.h"
#include "alloc.h"
#include "check.h"

typedef struct reader {
    const char *name;
    yaml_document_t *doc;
    cs_err *err;
    int errors;
} reader;

static int line_of(const yaml_node_t *n)
{
    return n ? (int)n->start_mark.line + 1 : 0;
}

static void rerr(reader *r, const yaml_node_t *n, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void rerr(reader *r, const yaml_node_t *n, const char *key, const char *fmt, ...)
{
    char rule[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rule, sizeof rule, fmt, ap);
    va_end(ap);
    r->errors++;
    cs_err_at(r->err, CS_FORMAT, r->name, n ? line_of(n) : 1, key, "%s", rule);
}

static const char *scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static const char *kind_of(const yaml_node_t *n)
{
    if (!n)
        return "nothing";
    return n->type == YAML_SCALAR_NODE ? "a scalar" : n->type == YAML_SEQUENCE_NODE ? "a list" : "a mapping";
}

/* "M1 N16 K1" into f (dimensions left out are 1). */
static void read_factors(reader *r, const yaml_node_t *n, const char *kp, cs_nest_entry *e)
{
    const char *s = scalar(n);
    if (!s) {
        rerr(r, n, kp, "expected factors such as \"M1 N16 K1\" (got %s)", kind_of(n));
        return;
    }
    bool seen[CS_NEST_DIMS] = {false, false, false};
    const char *p = s;
    while (*p) {
        if (isspace((unsigned char)*p) || *p == ',') {
            p++;
            continue;
        }
        const char *dims = "MNK", *d = strchr(dims, toupper((unsigned char)*p));
        if (!d || !*p) {
            rerr(r, n, kp, "unknown dimension '%c': the GEMM's dimensions are M, N and K (got \"%s\")", *p, s);
            return;
        }
        int di = (int)(d - dims);
        char *end;
        unsigned long long v = strtoull(p + 1, &end, 10);
        if (end == p + 1 || v < 1 || v > (1ull << 20)) {
            rerr(r, n, kp, "%c needs a factor from 1 to 1048576 (got \"%s\")", *d, s);
            return;
        }
        if (seen[di]) {
            rerr(r, n, kp, "%c given twice (got \"%s\")", *d, s);
            return;
        }
        seen[di] = true;
        e->f[di] = v;
        p = end;
    }
}

/* "NMK" (or "N, M, K"): innermost first; letters left out go outermost, in M, N, K order. */
static void read_perm(reader *r, const yaml_node_t *n, const char *kp, cs_nest_entry *e)
{
    const char *s = scalar(n);
    if (!s) {
        rerr(r, n, kp, "expected a permutation such as \"NMK\" (got %s)", kind_of(n));
        return;
    }
    char got[4] = "";
    int k = 0;
    for (const char *p = s; *p; p++) {
        if (isspace((unsigned char)*p) || *p == ',')
            continue;
        char c = (char)toupper((unsigned char)*p);
        if (!strchr("MNK", c) || k == 3 || strchr(got, c)) {
            rerr(r, n, kp, "must order the dimensions M, N and K, each once (got \"%s\")", s);
            return;
        }
        got[k++] = c;
        got[k] = '\0';
    }
    for (const char *d = "MNK"; *d && k < 3; d++)
        if (!strchr(got, *d)) {
            got[k++] = *d;
            got[k] = '\0';
        }
    memcpy(e->perm, got, 4);
}

/* A list of dataspaces (A, B, Z) into a bit mask. */
static uint8_t read_ds(reader *r, const yaml_node_t *n, const char *kp)
{
    if (n->type == YAML_SCALAR_NODE && (!scalar(n)[0] || strcmp(scalar(n), "[]") == 0))
        return 0;
    if (n->type != YAML_SEQUENCE_NODE) {
        rerr(r, n, kp, "expected a list of dataspaces (A, B, Z) (got %s)", kind_of(n));
        return 0;
    }
    uint8_t m = 0;
    int i = 0;
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++, i++) {
        const yaml_node_t *v = yaml_document_get_node(r->doc, *it);
        const char *s = scalar(v);
        char ikp[96];
        snprintf(ikp, sizeof ikp, "%s[%d]", kp, i);
        int d = !s ? -1 : strcmp(s, "A") == 0 ? CS_NEST_A : strcmp(s, "B") == 0 ? CS_NEST_B : strcmp(s, "Z") == 0 ? CS_NEST_Z : -1;
        if (d < 0) {
            rerr(r, v, ikp, "unknown dataspace: the GEMM's are A (inputs), B (weights) and Z (outputs) (got \"%s\")",
                 s ? s : kind_of(v));
            continue;
        }
        m |= (uint8_t)(1u << d);
    }
    return m;
}

static void read_entry(reader *r, const yaml_node_t *n, int i, cs_nest_spec *out)
{
    char kp[64];
    snprintf(kp, sizeof kp, "mapping[%d]", i);
    if (n->type != YAML_MAPPING_NODE) {
        rerr(r, n, kp, "expected a mapping with target and type (got %s)", kind_of(n));
        return;
    }
    if (out->n == CS_NEST_ENTRIES) {
        rerr(r, n, kp, "more than %d entries", CS_NEST_ENTRIES);
        return;
    }
    cs_nest_entry e;
    memset(&e, 0, sizeof e);
    e.f[0] = e.f[1] = e.f[2] = 1;
    e.type = -1;
    e.line = line_of(n);
    const yaml_node_t *factors = NULL, *perm = NULL, *keep = NULL, *bypass = NULL;
    bool has_target = false;
    int before = r->errors;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        const yaml_node_t *k = yaml_document_get_node(r->doc, p->key);
        const yaml_node_t *v = yaml_document_get_node(r->doc, p->value);
        const char *key = scalar(k);
        char vkp[96];
        snprintf(vkp, sizeof vkp, "%s.%s", kp, key ? key : "?");
        if (!key) {
            rerr(r, k, kp, "keys must be names (got %s)", kind_of(k));
        } else if (strcmp(key, "target") == 0) {
            const char *s = scalar(v);
            if (!s || !s[0] || strlen(s) >= sizeof e.target)
                rerr(r, v, vkp, "expected a level name (got %s)", s ? "an empty or overlong name" : kind_of(v));
            else {
                snprintf(e.target, sizeof e.target, "%s", s);
                has_target = true;
            }
        } else if (strcmp(key, "type") == 0) {
            const char *s = scalar(v);
            e.type = !s ? -1
                     : strcmp(s, "temporal") == 0 ? CS_NEST_ENTRY_TEMPORAL
                     : strcmp(s, "spatial") == 0  ? CS_NEST_ENTRY_SPATIAL
                     : strcmp(s, "datatype") == 0 || strcmp(s, "bypass") == 0 ? CS_NEST_ENTRY_KEEP
                                                                               : -2;
            if (e.type < 0)
                rerr(r, v, vkp, "must be temporal, spatial or datatype (got \"%s\")", s ? s : kind_of(v));
        } else if (strcmp(key, "factors") == 0) {
            factors = v;
        } else if (strcmp(key, "permutation") == 0) {
            perm = v;
        } else if (strcmp(key, "keep") == 0) {
            keep = v;
        } else if (strcmp(key, "bypass") == 0) {
            bypass = v;
        } else if (strcmp(key, "split") != 0) {
            rerr(r, k, vkp, "unknown key (an entry has target, type, factors, permutation, keep, bypass, split)");
        }
    }
    if (!has_target && r->errors == before)
        rerr(r, n, kp, "missing key 'target'");
    if (e.type == -1 && r->errors == before)
        rerr(r, n, kp, "missing key 'type'");
    char fkp[96];
    if (factors) {
        snprintf(fkp, sizeof fkp, "%s.factors", kp);
        e.fline = line_of(factors);
        read_factors(r, factors, fkp, &e);
    }
    if (perm) {
        snprintf(fkp, sizeof fkp, "%s.permutation", kp);
        e.pline = line_of(perm);
        read_perm(r, perm, fkp, &e);
    }
    if (keep) {
        snprintf(fkp, sizeof fkp, "%s.keep", kp);
        e.kline = line_of(keep);
        e.keep = read_ds(r, keep, fkp);
    }
    if (bypass) {
        snprintf(fkp, sizeof fkp, "%s.bypass", kp);
        if (!e.kline)
            e.kline = line_of(bypass);
        e.bypass = read_ds(r, bypass, fkp);
    }
    if (e.type == CS_NEST_ENTRY_KEEP && (factors || perm))
        rerr(r, factors ? factors : perm, kp, "a datatype entry has keep and bypass lists, not factors");
    if ((e.type == CS_NEST_ENTRY_TEMPORAL || e.type == CS_NEST_ENTRY_SPATIAL) && (keep || bypass))
        rerr(r, keep ? keep : bypass, kp, "keep and bypass belong to a datatype entry");
    if (r->errors == before)
        out->e[out->n++] = e;
}

cs_status cs_timeloop_parse(const char *name, const char *text, size_t len, cs_nest_spec *out, cs_err *err)
{
    memset(out, 0, sizeof *out);
    snprintf(out->source, sizeof out->source, "%s", name);
    yaml_parser_t parser;
    yaml_document_t doc;
    CS_ASSERT(yaml_parser_initialize(&parser));
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        cs_status st = cs_err_at(err, CS_FORMAT, name, (int)parser.problem_mark.line + 1, "YAML", "%s",
                                 parser.problem ? parser.problem : "unreadable YAML");
        yaml_parser_delete(&parser);
        return st;
    }
    reader r = {name, &doc, err, 0};
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    yaml_node_t *list = root;
    if (root && root->type == YAML_MAPPING_NODE) {
        list = NULL;
        for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
            const char *k = scalar(yaml_document_get_node(&doc, p->key));
            if (k && strcmp(k, "mapping") == 0)
                list = yaml_document_get_node(&doc, p->value);
        }
        if (!list)
            rerr(&r, root, "mapping", "expected a top-level 'mapping:' list (Timeloop's map.yaml)");
    }
    if (list && list->type != YAML_SEQUENCE_NODE)
        rerr(&r, list, "mapping", "expected a list of entries (got %s)", kind_of(list));
    else if (!root)
        rerr(&r, NULL, "mapping", "the file is empty");
    else if (list) {
        int i = 0;
        for (yaml_node_item_t *it = list->data.sequence.items.start; it < list->data.sequence.items.top; it++, i++)
            read_entry(&r, yaml_document_get_node(&doc, *it), i, out);
        if (!i)
            rerr(&r, list, "mapping", "the list has no entries");
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return r.errors ? CS_FORMAT : CS_OK;
}

cs_status cs_timeloop_read(const char *path, cs_nest_spec *out, cs_err *err)
{
    char *text = NULL;
    size_t len = 0;
    cs_status st = cs_afile_read(path, &text, &len, err);
    if (st != CS_OK)
        return st;
    st = cs_timeloop_parse(path, text, len, out, err);
    cs_free(text);
    return st;
}

/* yamlsafe — a depth and alias-expansion pass over libyaml's events; duplicate keys. */
#include "yamlsafe.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "hash.h"

/* Anchors seen so far and the size (in events, aliases expanded) of the node each names: an
 * open-addressing table keyed by the anchor's name. */
typedef struct anchors {
    char **name;
    uint64_t *size;
    size_t cap, n;
} anchors;

static size_t slot(const anchors *a, const char *name)
{
    size_t i = (size_t)cs_fnv1a(name, strlen(name), CS_FNV_SEED) & (a->cap - 1);
    while (a->name[i] && strcmp(a->name[i], name) != 0)
        i = (i + 1) & (a->cap - 1);
    return i;
}

static void define(anchors *a, const char *name, uint64_t size)
{
    if (2 * (a->n + 1) > a->cap) {
        anchors b = {.cap = a->cap ? 2 * a->cap : 64};
        b.name = cs_calloc(b.cap, sizeof *b.name);
        b.size = cs_calloc(b.cap, sizeof *b.size);
        for (size_t i = 0; i < a->cap; i++)
            if (a->name[i]) {
                size_t j = slot(&b, a->name[i]);
                b.name[j] = a->name[i];
                b.size[j] = a->size[i];
                b.n++;
            }
        cs_free(a->name);
        cs_free(a->size);
        *a = b;
    }
    size_t i = slot(a, name);
    if (!a->name[i]) { /* YAML lets a later anchor of the same name replace an earlier one */
        a->name[i] = cs_strdup(name);
        a->n++;
    }
    a->size[i] = size;
}

static uint64_t lookup(const anchors *a, const char *name)
{
    if (!a->cap)
        return 1;
    size_t i = slot(a, name);
    return a->name[i] ? a->size[i] : 1; /* an unknown alias: the load reports it */
}

static void anchors_free(anchors *a)
{
    for (size_t i = 0; i < a->cap; i++)
        cs_free(a->name[i]);
    cs_free(a->name);
    cs_free(a->size);
}

cs_status cs_yamlsafe_scan(const char *path, const unsigned char *text, size_t len, cs_err *err)
{
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p))
        return cs_err_add(err, CS_INTERNAL, "%s: error: cannot start the YAML parser", path);
    yaml_parser_set_input_string(&p, text, len);
    anchors an = {0};
    /* Open collections: the expanded count where each started, and its anchor. */
    uint64_t start[CS_YAMLSAFE_MAX_DEPTH];
    char *anchor[CS_YAMLSAFE_MAX_DEPTH];
    int depth = 0;
    uint64_t raw = 0, expanded = 0;
    cs_status st = CS_OK;
    for (bool done = false; !done && st == CS_OK;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev))
            break; /* a syntax error: the document load reports it */
        int line = (int)ev.start_mark.line + 1;
        raw++;
        expanded++;
        switch (ev.type) {
        case YAML_SCALAR_EVENT:
            if (ev.data.scalar.anchor)
                define(&an, (const char *)ev.data.scalar.anchor, 1);
            break;
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT: {
            const yaml_char_t *a = ev.type == YAML_SEQUENCE_START_EVENT
                                       ? ev.data.sequence_start.anchor
                                       : ev.data.mapping_start.anchor;
            if (depth == CS_YAMLSAFE_MAX_DEPTH) {
                st = cs_err_at(err, CS_FORMAT, path, line, "YAML",
                               "nested deeper than %d levels (lists and mappings)",
                               CS_YAMLSAFE_MAX_DEPTH);
                break;
            }
            start[depth] = expanded - 1;
            anchor[depth] = a ? cs_strdup((const char *)a) : NULL;
            depth++;
            break;
        }
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            if (depth > 0) {
                depth--;
                if (anchor[depth])
                    define(&an, anchor[depth], expanded - start[depth]);
                cs_free(anchor[depth]);
            }
            break;
        case YAML_ALIAS_EVENT:
            expanded += lookup(&an, (const char *)ev.data.alias.anchor) - 1;
            /* A walk visits every node an alias stands for: a few times the document's own
             * size is plenty for anything written by hand or by Accelergy. */
            if (expanded > 4 * (raw + 1000))
                st = cs_err_at(err, CS_FORMAT, path, line, "YAML",
                               "aliases (*name) expand the document to more than 4 times its "
                               "size");
            break;
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
    }
    while (depth > 0)
        cs_free(anchor[--depth]);
    anchors_free(&an);
    yaml_parser_delete(&p);
    return st;
}

typedef struct key_at {
    const char *key;
    int line;
} key_at;

static int by_key(const void *a, const void *b)
{
    const key_at *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->line > y->line) - (x->line < y->line);
}

cs_status cs_yamlsafe_dup_keys(const char *path, yaml_document_t *doc, cs_err *err)
{
    cs_status st = CS_OK;
    key_at *keys = NULL;
    size_t cap = 0;
    for (yaml_node_t *n = doc->nodes.start; n < doc->nodes.top; n++) {
        if (n->type != YAML_MAPPING_NODE)
            continue;
        size_t k = 0;
        for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < n->data.mapping.pairs.top;
             q++) {
            yaml_node_t *kn = yaml_document_get_node(doc, q->key);
            if (!kn || kn->type != YAML_SCALAR_NODE)
                continue;
            CS_GROW(keys, cap, k + 1);
            keys[k++] = (key_at){(const char *)kn->data.scalar.value,
                                 (int)kn->start_mark.line + 1};
        }
        if (k > 1) /* (qsort of no keys would be handed NULL) */
            qsort(keys, k, sizeof *keys, by_key);
        for (size_t i = 1; i < k && !cs_err_full(err); i++)
            if (strcmp(keys[i].key, keys[i - 1].key) == 0)
                st = cs_err_at(err, CS_FORMAT, path, keys[i].line, "YAML",
                               "duplicate key '%s' (first at line %d)", keys[i].key,
                               keys[i - 1].line);
    }
    cs_free(keys);
    return st;
}

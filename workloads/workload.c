/* workload — CSV parsing with line-exact errors; presets come from the embedded files. */
#include "workload.h"

#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "afile.h"
#include "alloc.h"
#include "buf.h"
#include "hash.h"
#include "vfs.h"

static const char *const presets[] = {"bert-large", "gpt-j", "dlrm", "resnet50", "grid-1000", NULL};

const char *const *cs_workload_presets(void)
{
    return presets;
}

void cs_workload_destroy(cs_workload *w)
{
    if (!w)
        return;
    cs_free(w->name);
    cs_free(w->source);
    cs_free(w->gemms);
    cs_free(w);
}

uint64_t cs_workload_macs(const cs_workload *w)
{
    uint64_t s = 0;
    for (size_t i = 0; i < w->count; i++)
        s += w->gemms[i].m * w->gemms[i].n * w->gemms[i].k * w->gemms[i].repeat;
    return s;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

/* Parses a positive integer field in [1, max]. */
static cs_status parse_dim(const char *file, int line, const char *field, const char *s,
                           uint64_t max, uint64_t *out, cs_err *err)
{
    char *end;
    errno = 0;
    if (!*s || !isdigit((unsigned char)*s))
        return cs_err_at(err, CS_INVALID, file, line, field, "must be a positive integer (got \"%s\")", s);
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || errno)
        return cs_err_at(err, CS_INVALID, file, line, field, "must be a positive integer (got \"%s\")", s);
    if (v < 1 || v > max)
        return cs_err_at(err, CS_INVALID, file, line, field, "must be between 1 and %llu (got %llu)",
                         (unsigned long long)max, v);
    *out = v;
    return CS_OK;
}

/* Splits s at commas into at most max fields; returns the count (max + 1 if there are more). */
static int split(char *s, char **fields, int max)
{
    int n = 0;
    for (;;) {
        char *c = strchr(s, ',');
        if (c)
            *c = '\0'; /* before trimming: spaces on either side of a field are dropped */
        if (n < max)
            fields[n] = trim(s);
        n++;
        if (!c)
            break;
        s = c + 1;
    }
    return n;
}

static cs_status parse_line(const char *file, int line, char *text, cs_gemm *g, cs_err *err)
{
    char *f[5];
    int n = split(text, f, 5);
    if (n < 4 || n > 5)
        return cs_err_at(err, CS_INVALID, file, line, "line",
                         "expected name,m,n,k[,repeat] (got %d fields)", n);
    if (!*f[0])
        return cs_err_at(err, CS_INVALID, file, line, "name", "must not be empty");
    if (strlen(f[0]) >= CS_GEMM_NAME_MAX)
        return cs_err_at(err, CS_INVALID, file, line, "name", "must be shorter than %d characters (got \"%s\")",
                         CS_GEMM_NAME_MAX, f[0]);
    for (const char *p = f[0]; *p; p++)
        if (!isgraph((unsigned char)*p) || *p == '"' || *p == '\\')
            return cs_err_at(err, CS_INVALID, file, line, "name",
                             "may hold printable characters without spaces or quotes (got \"%s\")", f[0]);
    snprintf(g->name, sizeof g->name, "%s", f[0]);
    cs_status st = CS_OK;
    const char *names[] = {"m", "n", "k"};
    uint64_t *dims[] = {&g->m, &g->n, &g->k};
    for (int i = 0; i < 3; i++)
        if (parse_dim(file, line, names[i], f[i + 1], CS_GEMM_DIM_MAX, dims[i], err) != CS_OK)
            st = CS_INVALID;
    g->repeat = 1;
    if (n == 5 && parse_dim(file, line, "repeat", f[4], CS_GEMM_REPEAT_MAX, &g->repeat, err) != CS_OK)
        st = CS_INVALID;
    if (st == CS_OK && g->m * g->n * g->k > CS_GEMM_MACS_MAX)
        st = cs_err_at(err, CS_INVALID, file, line, "m*n*k", "must be at most 2^50 (got %llu)",
                       (unsigned long long)(g->m * g->n * g->k));
    return st;
}

static bool is_header(const char *text)
{
    char *copy = cs_strdup(text);
    char *f[5];
    int n = split(copy, f, 5);
    bool h = n >= 4 && strcmp(f[0], "name") == 0 && strcmp(f[1], "m") == 0;
    cs_free(copy);
    return h;
}

cs_status cs_workload_parse(const char *display_name, const char *text, cs_workload **out,
                            cs_err *err)
{
    *out = NULL;
    cs_workload *w = cs_calloc(1, sizeof *w);
    w->content_hash = cs_fnv1a(text, strlen(text), CS_FNV_SEED);
    size_t cap = 0;
    cs_status st = CS_OK;
    int line = 0;
    const char *p = text;
    while (*p) {
        line++;
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char *buf = cs_strndup(p, len);
        char *hash = strchr(buf, '#');
        if (hash)
            *hash = '\0';
        char *t = trim(buf);
        if (*t && !(w->count == 0 && is_header(t))) {
            CS_GROW(w->gemms, cap, w->count + 1);
            if (parse_line(display_name, line, t, &w->gemms[w->count], err) == CS_OK)
                w->count++;
            else
                st = CS_INVALID;
        }
        cs_free(buf);
        if (cs_err_full(err))
            break;
        p = nl ? nl + 1 : p + len;
    }
    if (st == CS_OK && w->count == 0)
        st = cs_err_add(err, CS_INVALID, "%s: error: workload: holds no GEMM", display_name);
    if (st != CS_OK) {
        cs_workload_destroy(w);
        return st;
    }
    *out = w;
    return CS_OK;
}

static bool looks_like_dims(const char *s)
{
    for (; *s; s++)
        if (!isdigit((unsigned char)*s) && *s != ',' && *s != ' ')
            return false;
    return true;
}

/* The workload name of a file: its base name without a .csv suffix. */
static char *base_name(const char *path)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    size_t n = strlen(b);
    if (n > 4 && strcmp(b + n - 4, ".csv") == 0)
        n -= 4;
    return cs_strndup(b, n);
}

cs_status cs_workload_load(const char *spec, cs_workload **out, cs_err *err)
{
    *out = NULL;
    if (!spec || !*spec)
        return cs_err_add(err, CS_USAGE, "-w: error: workload: must not be empty");
    for (int i = 0; presets[i]; i++) {
        if (strcmp(spec, presets[i]) != 0)
            continue;
        char path[128];
        snprintf(path, sizeof path, "workloads/presets/%s.csv", spec);
        const cs_vfs_file *f = cs_vfs_find(path);
        if (!f)
            return cs_err_add(err, CS_INTERNAL, "preset %s is not embedded in this build", spec);
        cs_status st = cs_workload_parse(path, f->data, out, err);
        if (st == CS_OK) {
            cs_free((*out)->name);
            (*out)->name = cs_strdup(spec);
            (*out)->source = cs_strdup("preset");
        }
        return st;
    }
    if (looks_like_dims(spec)) {
        size_t n = strlen(spec) + 3; /* the whole value: a cut would run another GEMM */
        char *line = cs_malloc(n);
        snprintf(line, n, "x,%s", spec);
        cs_gemm g;
        cs_status pst = parse_line("-w", 0, line, &g, err);
        cs_free(line);
        if (pst != CS_OK)
            return CS_USAGE;
        cs_workload *w = cs_calloc(1, sizeof *w);
        w->gemms = cs_malloc(sizeof g);
        snprintf(g.name, sizeof g.name, "gemm-%llux%llux%llu", (unsigned long long)g.m,
                 (unsigned long long)g.n, (unsigned long long)g.k);
        w->gemms[0] = g;
        w->count = 1;
        w->name = cs_strdup(g.name);
        w->source = cs_strdup("command line");
        w->content_hash = cs_fnv1a(spec, strlen(spec), CS_FNV_SEED);
        *out = w;
        return CS_OK;
    }
    char *text;
    cs_err local;
    cs_err_init(&local);
    if (cs_afile_read(spec, &text, NULL, &local) != CS_OK) {
        if (local.status != CS_NOT_FOUND) { /* a file, but unreadable, too large or not text */
            cs_err_merge(err, &local);
            return local.status;
        }
        cs_buf names;
        cs_buf_init(&names);
        for (int i = 0; presets[i]; i++)
            cs_buf_printf(&names, "%s%s", i ? ", " : "", presets[i]);
        cs_err_add(err, CS_NOT_FOUND,
                   "-w: error: workload: not a preset (%s), an M,N,K triple or a readable file (got \"%s\")",
                   names.data, spec);
        cs_buf_free(&names);
        return CS_NOT_FOUND;
    }
    cs_status st = cs_workload_parse(spec, text, out, err);
    cs_free(text);
    if (st == CS_OK) {
        cs_free((*out)->name);
        (*out)->name = base_name(spec);
        (*out)->source = cs_strdup(spec);
    }
    return st;
}

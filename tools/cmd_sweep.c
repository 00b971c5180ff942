/* cmd_sweep — runs the points of a sweep spec in one job pool, journals each as it finishes,
 * and writes results.csv / results.json in point order once every point is done.
 *
 * The journal (one JSON line per finished point, appended and flushed to disk as the point
 * finishes) is what makes a sweep resumable and shardable: --resume skips the points a
 * journal in DIR already holds, and the shards of a sweep (--shard I/N, each its own journal
 * file) can share DIR; whichever run finds every point done writes the results.
 */
#include "cmd_sweep.h"
#include "show.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "afile.h"
#include "alloc.h"
#include "cli.h"
#include "json.h"
#include "run.h"
#include "sweep.h"

static const char usage[] =
    "usage: cimsim sweep SPEC.cfg [-j N] [--shard I/N] [--resume] [-o DIR] [-q]\n"
    "\n"
    "Runs every point of a design-space sweep (docs/sweep.md): the cartesian product of the\n"
    "spec's axes, each point exactly as `cimsim run` would run it. Points finish in any order;\n"
    "each is appended to DIR/journal.jsonl as it does. When every point is done, writes\n"
    "DIR/results.csv and DIR/results.json in point order (the same whatever -j or sharding).\n"
    "\n"
    "options:\n"
    "  -j, --jobs N           simulate N (point, GEMM) pairs in parallel (default: all cores)\n"
    "      --shard I/N        run only the points p with p mod N = I (0 <= I < N); shards may\n"
    "                         share DIR, each writing DIR/journal.shard-I-of-N.jsonl\n"
    "      --resume           skip the points DIR's journals already hold (after an interrupted\n"
    "                         run, or to gather the shards' results)\n"
    "  -o, --output DIR       output directory (default: sweep-NAME)\n"
    "  -q, --quiet            no line per finished point on stderr\n"
    "  -h, --help             this help\n";

enum {
    HASH_CHARS = 17,
    JOURNAL_MAX_RECORD = 64 << 20, /* one point's record (a workload of thousands of GEMMs) */
    BATCH_MIN = 1024               /* points loaded and run at a time, at least */
};

/* What DIR's journals say about each point. */
enum { PT_NONE, PT_ERROR, PT_OK };
typedef struct where {
    int file;          /* index into journals; -1: none */
    long off;          /* of the line */
    size_t len;        /* without the newline */
} where;

typedef struct sweep_run {
    cs_sweep *s;
    char hash[HASH_CHARS];
    const char *dir;
    char **journals;   /* DIR's journal files, sorted */
    size_t njournals;
    unsigned char *state; /* per point */
    where *at;            /* per point: its ok line */
    /* this run */
    int fd;               /* own journal, O_APPEND */
    const char *journal;  /* its path */
    size_t *points;       /* points this run runs, in order */
    size_t base;          /* the running batch's first index into points */
    size_t nrun, finished;
    int failed;
    bool quiet;
    cs_err werr;          /* journal write errors */
} sweep_run;

/* ==== journals ============================================================================= */

static bool is_journal(const char *name)
{
    size_t n = strlen(name);
    return strncmp(name, "journal", 7) == 0 && n > 6 && strcmp(name + n - 6, ".jsonl") == 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list_journals(sweep_run *sr)
{
    for (size_t i = 0; i < sr->njournals; i++)
        cs_free(sr->journals[i]);
    cs_free(sr->journals);
    sr->journals = NULL;
    sr->njournals = 0;
    DIR *d = opendir(sr->dir);
    if (!d)
        return;
    size_t cap = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        if (is_journal(e->d_name)) {
            CS_GROW(sr->journals, cap, sr->njournals + 1);
            size_t len = strlen(sr->dir) + strlen(e->d_name) + 2;
            char *p = cs_malloc(len);
            snprintf(p, len, "%s/%s", sr->dir, e->d_name);
            sr->journals[sr->njournals++] = p;
        }
    closedir(d);
    qsort(sr->journals, sr->njournals, sizeof *sr->journals, cmp_str);
}

/* One journal line (its newline replaced by NUL) into state/at. */
static cs_status scan_record(sweep_run *sr, size_t fi, size_t line, long off, char *text, size_t len,
                             cs_err *err)
{
    const char *path = sr->journals[fi];
    json_error_t je;
    json_t *o = strlen(text) == len ? json_loads(text, 0, &je) : NULL; /* a NUL inside: not ours */
    json_t *pt = o ? json_object_get(o, "point") : NULL;
    const char *spec = o ? json_string_value(json_object_get(o, "spec")) : NULL;
    const char *status = o ? json_string_value(json_object_get(o, "status")) : NULL;
    cs_status st = CS_OK;
    if (!json_is_integer(pt) || !spec || !status)
        st = cs_err_add(err, CS_INVALID, "%s:%zu: error: not a sweep journal record", path, line);
    else if (strcmp(spec, sr->hash) != 0)
        st = cs_err_add(err, CS_INVALID,
                        "%s:%zu: error: written by another sweep spec (spec %s, this one %s); use "
                        "another -o DIR",
                        path, line, spec, sr->hash);
    else if (json_integer_value(pt) < 0 || (size_t)json_integer_value(pt) >= sr->s->npoints)
        st = cs_err_add(err, CS_INVALID, "%s:%zu: error: point: out of range (got %" JSON_INTEGER_FORMAT ")",
                        path, line, json_integer_value(pt));
    if (st == CS_OK) {
        size_t p = (size_t)json_integer_value(pt);
        if (strcmp(status, "ok") == 0) {
            if (sr->state[p] != PT_OK)
                sr->at[p] = (where){(int)fi, off, len};
            sr->state[p] = PT_OK;
        } else if (sr->state[p] == PT_NONE) {
            sr->state[p] = PT_ERROR;
        }
    }
    json_decref(o);
    return st;
}

/* Reads every journal of DIR into state/at, a line at a time (a journal grows with the sweep:
 * it is never held in memory whole). A line cut short by an interrupted run (the last line,
 * without its newline) is ignored; in this run's own journal it is cut off, so that the next
 * record starts on a line of its own. Anything else malformed is an error. */
static cs_status scan(sweep_run *sr, bool trim_own, cs_err *err)
{
    list_journals(sr);
    memset(sr->state, PT_NONE, sr->s->npoints);
    for (size_t p = 0; p < sr->s->npoints; p++)
        sr->at[p].file = -1;
    char *text = NULL;
    size_t cap = 0;
    cs_status st = CS_OK;
    for (size_t fi = 0; fi < sr->njournals && st == CS_OK; fi++) {
        const char *path = sr->journals[fi];
        FILE *f = fopen(path, "rb");
        if (!f) {
            st = cs_err_add(err, CS_IO, "%s: error: cannot open: %s", path, strerror(errno));
            break;
        }
        size_t line = 0;
        for (long off = 0; st == CS_OK;) {
            long len = cs_afile_getline(f, &text, &cap, JOURNAL_MAX_RECORD);
            if (len == -1)
                break;
            line++;
            if (len == -2) {
                st = cs_err_add(err, CS_INVALID, "%s:%zu: error: a record longer than %d MiB", path,
                                line, JOURNAL_MAX_RECORD >> 20);
            } else if (text[len - 1] != '\n') { /* torn: an interrupted write */
                fprintf(stderr, "cimsim sweep: %s:%zu: warning: incomplete last record ignored\n", path, line);
                if (trim_own && sr->journal && strcmp(path, sr->journal) == 0 && truncate(path, (off_t)off) != 0)
                    st = cs_err_add(err, CS_IO, "%s: error: cannot cut the incomplete record: %s", path,
                                    strerror(errno));
                break;
            } else {
                text[len - 1] = '\0';
                st = scan_record(sr, fi, line, off, text, (size_t)len - 1, err);
                off += len;
            }
        }
        if (st == CS_OK && ferror(f))
            st = cs_err_add(err, CS_IO, "%s: error: read failed", path);
        fclose(f);
    }
    cs_free(text);
    return st;
}

static const char *axis_name(const cs_sweep *s, size_t a)
{
    const cs_sweep_axis *ax = cs_sweep_axis_at(s, a);
    return ax->name ? ax->name : ax->option ? ax->option : ax->set;
}

static void point_params(const sweep_run *sr, size_t p, cs_json *j)
{
    cs_json_obj_begin(j);
    for (size_t a = 0; a < cs_sweep_naxes(sr->s); a++)
        cs_json_kstr(j, axis_name(sr->s, a), cs_sweep_value(sr->s, p, a));
    cs_json_obj_end(j);
}

/* A workload axis gets numeric columns m, n, k after it (the first; later ones NAME_m...): the
 * dimensions of a value "M,N,K[,R]", empty for a preset or a file. */
static void csv_field(FILE *f, const char *s);

static bool is_workload_axis(const cs_sweep *s, size_t a)
{
    const cs_sweep_axis *ax = cs_sweep_axis_at(s, a);
    return ax->option && strcmp(ax->option, "workload") == 0;
}

static void workload_dims_header(const cs_sweep *s, size_t a, FILE *f)
{
    bool first = true;
    for (size_t b = 0; b < a; b++)
        first = first && !is_workload_axis(s, b);
    for (const char *d = "mnk"; *d; d++) {
        fputc(',', f);
        if (!first) {
            csv_field(f, axis_name(s, a));
            fputc('_', f);
        }
        fputc(*d, f);
    }
}

static void workload_dims(const char *v, FILE *f)
{
    unsigned long long m, n, k;
    char rest;
    int got = sscanf(v, "%llu,%llu,%llu%c", &m, &n, &k, &rest);
    if ((got == 3 || (got == 4 && rest == ',')) && isdigit((unsigned char)v[0]))
        fprintf(f, ",%llu,%llu,%llu", m, n, k);
    else
        fputs(",,,", f);
}

/* The metric columns of results.csv (after point and the axes). */
static void csv_header(cs_buf *b)
{
    cs_buf_puts(b, "cycles,seconds,macs,energy_pj,tops,tops_per_w,tops_per_mm2,area_mm2,cim_macros,bound");
    for (int i = 0; i < CS_EB_COUNT; i++)
        cs_buf_printf(b, ",%s_pj", cs_eb_name(i));
    for (int c = 0; c < CS_CAUSES; c++)
        cs_buf_printf(b, ",%s_cycles", cs_cause_key(c));
    cs_buf_puts(b, ",top_cause");
}


static void csv_metrics(const cs_result *r, cs_buf *b)
{
    uint64_t worst = 0;
    const char *bound = "";
    for (size_t i = 0; i < r->ngemms; i++)
        if (r->gemms[i].cycles >= worst) {
            worst = r->gemms[i].cycles;
            bound = r->gemms[i].bound;
        }
    cs_buf_printf(b, "%" PRIu64 ",", r->cycles);
    cs_buf_double(b, r->seconds);
    cs_buf_printf(b, ",%" PRIu64 ",", r->macs);
    const double v[] = {r->energy_pj, r->tops, r->tops_per_w, r->tops_per_mm2, r->area_mm2};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        cs_buf_double(b, v[i]);
        cs_buf_putc(b, ',');
    }
    cs_buf_printf(b, "%" PRIu64 ",%s", r->cim ? r->cim->macros : 0, bound);
    for (int i = 0; i < CS_EB_COUNT; i++) {
        cs_buf_putc(b, ',');
        cs_buf_double(b, r->breakdown_pj[i]);
    }
    for (int c = 0; c < CS_CAUSES; c++)
        cs_buf_printf(b, ",%" PRIu64, r->attribution[c]);
    char top[48];
    cs_show_top_cause(r->attribution, top, sizeof top);
    cs_buf_printf(b, ",%s", top);
}

/* One point's record, appended and flushed to disk in one write. */
static void on_point(void *ctx, size_t v, cs_result *r, cs_status st, const cs_err *err)
{
    sweep_run *sr = ctx;
    size_t p = sr->points[sr->base + v];
    cs_buf b;
    cs_buf_init(&b);
    cs_json j;
    cs_json_init(&j, &b, 0);
    cs_json_obj_begin(&j);
    cs_json_ku64(&j, "point", p);
    cs_json_kstr(&j, "spec", sr->hash);
    cs_json_key(&j, "params");
    point_params(sr, p, &j);
    if (st == CS_OK) {
        cs_buf row;
        cs_buf_init(&row);
        csv_metrics(r, &row);
        cs_json_kstr(&j, "status", "ok");
        cs_json_kstr(&j, "csv", row.data);
        cs_json_key(&j, "result"); /* last: results.json copies its text from here */
        cs_result_json(r, &j);
        cs_buf_free(&row);
    } else {
        cs_json_kstr(&j, "status", "error");
        cs_json_key(&j, "errors");
        cs_json_arr_begin(&j);
        int n = err->count < CS_ERR_MAX ? err->count : CS_ERR_MAX;
        for (int i = 0; i < n; i++)
            cs_json_str(&j, err->msg[i]);
        cs_json_arr_end(&j);
        sr->failed++;
    }
    cs_json_obj_end(&j);
    cs_buf_putc(&b, '\n');
    size_t off = 0;
    while (off < b.len) {
        ssize_t n = write(sr->fd, b.data + off, b.len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            cs_err_add(&sr->werr, CS_IO, "%s: error: cannot append: %s", sr->journal, strerror(errno));
            break;
        }
        off += (size_t)n;
    }
    if (off == b.len && fsync(sr->fd) != 0)
        cs_err_add(&sr->werr, CS_IO, "%s: error: cannot flush: %s", sr->journal, strerror(errno));
    cs_buf_free(&b);
    sr->finished++;
    if (!sr->quiet) {
        fprintf(stderr, "cimsim sweep: [%zu/%zu] point %zu", sr->finished, sr->nrun, p);
        for (size_t a = 0; a < cs_sweep_naxes(sr->s); a++)
            fprintf(stderr, "%s%s=%s", a ? ", " : " (", axis_name(sr->s, a), cs_sweep_value(sr->s, p, a));
        if (cs_sweep_naxes(sr->s))
            fputc(')', stderr);
        if (st == CS_OK)
            fprintf(stderr, ": %" PRIu64 " cycles, %.4g uJ\n", r->cycles, r->energy_pj * 1e-6);
        else
            fprintf(stderr, ": failed: %s\n", err->count ? err->msg[0] : cs_status_str(st));
    }
    cs_result_destroy(r);
}

/* ==== results ============================================================================== */

static void csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* The record of point p (its ok line), read from its journal: NULL on failure. */
static char *read_record(const sweep_run *sr, size_t p, FILE **files)
{
    const where *w = &sr->at[p];
    FILE *f = files[w->file];
    char *line = cs_malloc(w->len + 1);
    if (fseek(f, w->off, SEEK_SET) != 0 || fread(line, 1, w->len, f) != w->len) {
        cs_free(line);
        return NULL;
    }
    line[w->len] = '\0';
    return line;
}

static cs_status write_results(sweep_run *sr, cs_err *err)
{
    const cs_sweep *s = sr->s;
    FILE **files = cs_calloc(sr->njournals ? sr->njournals : 1, sizeof *files);
    cs_status st = CS_OK;
    for (size_t i = 0; i < sr->njournals && st == CS_OK; i++)
        if (!(files[i] = fopen(sr->journals[i], "rb")))
            st = cs_err_add(err, CS_IO, "%s: error: cannot open: %s", sr->journals[i], strerror(errno));
    char csv_path[4096], json_path[4096];
    snprintf(csv_path, sizeof csv_path, "%s/results.csv", sr->dir);
    snprintf(json_path, sizeof json_path, "%s/results.json", sr->dir);
    cs_afile csv = {0}, js = {0};
    if (st == CS_OK && (st = cs_afile_open(csv_path, &csv, err)) == CS_OK)
        st = cs_afile_open(json_path, &js, err);
    if (st == CS_OK) {
        cs_buf h;
        cs_buf_init(&h);
        cs_buf_puts(&h, "point");
        fputs("point", csv.f);
        for (size_t a = 0; a < cs_sweep_naxes(s); a++) {
            fputc(',', csv.f);
            csv_field(csv.f, axis_name(s, a));
            if (is_workload_axis(s, a))
                workload_dims_header(s, a, csv.f);
        }
        cs_buf_free(&h);
        cs_buf_init(&h);
        csv_header(&h);
        fprintf(csv.f, ",%s\n", h.data);
        cs_buf_free(&h);

        cs_buf b;
        cs_buf_init(&b);
        cs_json j;
        cs_json_init(&j, &b, 1);
        cs_json_obj_begin(&j);
        cs_json_kstr(&j, "schema", "cimsim-sweep/1");
        cs_json_kstr(&j, "version", CIMSIM_VERSION);
        cs_json_kstr(&j, "name", s->p.name);
        cs_json_kstr(&j, "spec", sr->hash);
        cs_json_ku64(&j, "points", s->npoints);
        cs_json_key(&j, "axes");
        cs_json_arr_begin(&j);
        for (size_t a = 0; a < cs_sweep_naxes(s); a++) {
            const cs_sweep_axis *ax = cs_sweep_axis_at(s, a);
            cs_json_obj_begin(&j);
            cs_json_kstr(&j, "name", axis_name(s, a));
            cs_json_kstr(&j, ax->option ? "option" : "set", ax->option ? ax->option : ax->set);
            cs_json_key(&j, "values");
            cs_json_arr_begin(&j);
            for (size_t k = 0; k < ax->values.n; k++)
                cs_json_str(&j, ax->values.v[k]);
            cs_json_arr_end(&j);
            cs_json_obj_end(&j);
        }
        cs_json_arr_end(&j);
        cs_json_key(&j, "results");
        cs_json_arr_begin(&j);
        for (size_t p = 0; p < s->npoints && st == CS_OK; p++) {
            char *line = read_record(sr, p, files);
            json_t *o = line ? json_loads(line, 0, NULL) : NULL;
            const char *row = o ? json_string_value(json_object_get(o, "csv")) : NULL;
            char *res = line ? strstr(line, ",\"result\":") : NULL;
            if (!row || !res) {
                st = cs_err_add(err, CS_IO, "%s: error: the record of point %zu changed while reading it",
                                sr->journals[sr->at[p].file], p);
            } else {
                fprintf(csv.f, "%zu", p);
                for (size_t a = 0; a < cs_sweep_naxes(s); a++) {
                    fputc(',', csv.f);
                    csv_field(csv.f, cs_sweep_value(s, p, a));
                    if (is_workload_axis(s, a))
                        workload_dims(cs_sweep_value(s, p, a), csv.f);
                }
                fprintf(csv.f, ",%s\n", row);
                res += strlen(",\"result\":");
                res[strlen(res) - 1] = '\0'; /* the record's closing brace */
                cs_json_obj_begin(&j);
                cs_json_ku64(&j, "point", p);
                cs_json_key(&j, "params");
                point_params(sr, p, &j);
                cs_json_key(&j, "result");
                cs_json_raw(&j, res);
                cs_json_obj_end(&j);
                fwrite(b.data, 1, b.len, js.f); /* stream: memory does not grow with the sweep */
                b.len = 0;
            }
            json_decref(o);
            cs_free(line);
        }
        cs_json_arr_end(&j);
        cs_json_obj_end(&j);
        cs_buf_putc(&b, '\n');
        fwrite(b.data, 1, b.len, js.f);
        cs_buf_free(&b);
    }
    if (st == CS_OK && (st = cs_afile_commit(&csv, err)) == CS_OK)
        st = cs_afile_commit(&js, err);
    cs_afile_abort(&csv);
    cs_afile_abort(&js);
    for (size_t i = 0; i < sr->njournals; i++)
        if (files[i])
            fclose(files[i]);
    cs_free(files);
    return st;
}

/* ==== points =============================================================================== */

/* What a point needs, loaded once per distinct value and shared. */
typedef struct cache {
    char **keys;
    void **vals;
    size_t n, cap;
} cache;

static void *cache_get(const cache *c, const char *key)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->keys[i], key) == 0)
            return c->vals[i];
    return NULL;
}

static void cache_put(cache *c, const char *key, void *val)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 8;
        c->keys = cs_realloc(c->keys, c->cap * sizeof *c->keys);
        c->vals = cs_realloc(c->vals, c->cap * sizeof *c->vals);
    }
    c->keys[c->n] = cs_strdup(key);
    c->vals[c->n++] = val;
}

typedef struct loaded {
    cache arch, work, energy;
    cs_opts *opts;
    cs_placement *pl;
    bool *has_pl;
    cs_run_opts *ro;
    cs_run_spec *specs;
} loaded;

/* Reports a point's loading errors once per distinct message, prefixed with the point. */
static void point_errors(const sweep_run *sr, size_t p, cs_err *pe, cs_err *err)
{
    int n = pe->count < CS_ERR_MAX ? pe->count : CS_ERR_MAX;
    for (int i = 0; i < n; i++) {
        bool seen = false;
        for (int k = 0; k < err->count && k < CS_ERR_MAX && !seen; k++)
            seen = strstr(err->msg[k], pe->msg[i]) != NULL;
        if (seen)
            continue;
        char desc[512] = "";
        size_t m = 0;
        for (size_t a = 0; a < cs_sweep_naxes(sr->s) && m < sizeof desc; a++)
            m += (size_t)snprintf(desc + m, sizeof desc - m, "%s%s=%s", a ? ", " : " (", axis_name(sr->s, a),
                                  cs_sweep_value(sr->s, p, a));
        if (m && m < sizeof desc)
            snprintf(desc + m, sizeof desc - m, ")");
        cs_err_add(err, pe->status, "%s: point %zu%s: %s", sr->s->path, p, desc, pe->msg[i]);
    }
    cs_err_free(pe);
}

static cs_status load_point(sweep_run *sr, loaded *L, size_t v, size_t p, cs_err *err)
{
    cs_opts *o = &L->opts[v];
    cs_sweep_point_opts(sr->s, p, o);
    char key[8192];
    size_t n = (size_t)snprintf(key, sizeof key, "%s", o->arch ? o->arch : "");
    for (int i = 0; i < o->nsets && n < sizeof key; i++)
        n += (size_t)snprintf(key + n, sizeof key - n, "\n%s", o->sets[i]);
    cs_err pe;
    cs_err_init(&pe);
    cs_arch_doc *ad = cache_get(&L->arch, key);
    if (!ad && cs_opts_load_arch(o, &ad, &pe) == CS_OK)
        cache_put(&L->arch, key, ad);
    const char *wname = o->workload ? o->workload : "bert-large";
    cs_workload *w = cache_get(&L->work, wname);
    if (!w && cs_opts_load_workload(o, "bert-large", &w, &pe) == CS_OK)
        cache_put(&L->work, wname, w);
    cs_energy_table *et = NULL;
    if (ad) {
        const char *ename = o->energy ? o->energy : ad->arch.energy.table;
        et = cache_get(&L->energy, ename);
        if (!et && cs_opts_load_energy(o, &ad->arch, &et, &pe) == CS_OK)
            cache_put(&L->energy, ename, et);
        if (cs_opts_load_placement(o, &ad->arch, &L->pl[v], &L->has_pl[v], &pe) != CS_OK)
            L->has_pl[v] = false;
    }
    if (pe.count) {
        cs_status st = pe.status;
        point_errors(sr, p, &pe, err);
        return st;
    }
    cs_run_opts *ro = &L->ro[v];
    cs_run_opts_init(ro);
    ro->dtype = o->dtype;
    ro->command = o->command;
    ro->tc = o->tc;
    ro->cim = L->has_pl[v] ? &L->pl[v] : NULL;
    ro->cim_req = o->cim_req;
    L->specs[v] = (cs_run_spec){ad, w, et, ro};
    return CS_OK;
}

/* Releases what a batch of n points loaded: their placements, and the shared architectures,
 * workloads and energy tables (kept while few, so that a sweep over CiM options loads its
 * architecture once; dropped when many, so that memory does not grow with the sweep). */
static void release_batch(sweep_run *sr, loaded *L, size_t n, bool all)
{
    for (size_t v = 0; v < n; v++)
        if (L->has_pl[v]) {
            cs_placement_free(&L->pl[v]);
            L->has_pl[v] = false;
        }
    cs_sweep_forget_points(sr->s); /* the strings the batch's options pointed to */
    cache *cs[] = {&L->arch, &L->work, &L->energy};
    if (!all && L->arch.n + L->work.n + L->energy.n <= 64)
        return;
    for (size_t i = 0; i < L->arch.n; i++)
        cs_arch_doc_destroy(L->arch.vals[i]);
    for (size_t i = 0; i < L->work.n; i++)
        cs_workload_destroy(L->work.vals[i]);
    for (size_t i = 0; i < L->energy.n; i++)
        cs_energy_table_destroy(L->energy.vals[i]);
    for (size_t c = 0; c < 3; c++) {
        for (size_t i = 0; i < cs[c]->n; i++)
            cs_free(cs[c]->keys[i]);
        cs[c]->n = 0;
    }
}

static void free_loaded(sweep_run *sr, loaded *L, size_t n)
{
    release_batch(sr, L, n, true);
    cache *cs[] = {&L->arch, &L->work, &L->energy};
    for (size_t c = 0; c < 3; c++) {
        cs_free(cs[c]->keys);
        cs_free(cs[c]->vals);
    }
    cs_free(L->opts);
    cs_free(L->pl);
    cs_free(L->has_pl);
    cs_free(L->ro);
    cs_free(L->specs);
}

/* ==== the command ========================================================================== */

static int parse_shard(const char *arg, size_t *i, size_t *n)
{
    char *end;
    unsigned long a = strtoul(arg, &end, 10);
    if (end == arg || *end != '/')
        return 0;
    const char *b_s = end + 1;
    unsigned long b = strtoul(b_s, &end, 10);
    if (end == b_s || *end || b < 1 || a >= b || b > 1000000)
        return 0;
    *i = a;
    *n = b;
    return 1;
}

/* Takes the journal's lock (flock, exclusive, not waiting): one sweep at a time appends to a
 * journal. Without --shard, every other journal of DIR must be idle too (a shard still running
 * would otherwise run its points twice); with --shard, the unsharded journal must be. */
static cs_status lock_journals(sweep_run *sr, bool sharded, cs_err *err)
{
    if (flock(sr->fd, LOCK_EX | LOCK_NB) != 0)
        return cs_err_add(err, CS_INVALID,
                          "%s: error: another cimsim sweep is writing this journal; wait for it to "
                          "finish, or give another -o DIR",
                          sr->journal);
    list_journals(sr);
    for (size_t i = 0; i < sr->njournals; i++) {
        const char *j = sr->journals[i];
        const char *base = strrchr(j, '/') ? strrchr(j, '/') + 1 : j;
        if (strcmp(j, sr->journal) == 0 || (sharded && strcmp(base, "journal.jsonl") != 0))
            continue;
        int fd = open(j, O_RDONLY);
        bool busy = fd >= 0 && flock(fd, LOCK_SH | LOCK_NB) != 0;
        if (fd >= 0)
            close(fd);
        if (busy)
            return cs_err_add(err, CS_INVALID,
                              "%s: error: a running cimsim sweep is writing this journal of the same "
                              "directory; wait for it to finish",
                              j);
    }
    return CS_OK;
}

/* Loads points[from..to) into the batch slots; errors (once per message) into err. */
static void load_batch(sweep_run *sr, loaded *L, size_t from, size_t to, cs_err *err)
{
    for (size_t v = from; v < to && !cs_err_full(err); v++)
        load_point(sr, L, v - from, sr->points[v], err);
}

int cs_cmd_sweep(int argc, char **argv)
{
    static const struct option longs[] = {
        {"jobs", required_argument, 0, 'j'},    {"output", required_argument, 0, 'o'},
        {"quiet", no_argument, 0, 'q'},         {"help", no_argument, 0, 'h'},
        {"shard", required_argument, 0, 's'},   {"resume", no_argument, 0, 'r'},
        {0, 0, 0, 0}};
    cs_opts o;
    cs_opts_init(&o, "sweep", argc, argv);
    size_t shard = 0, nshards = 1;
    bool resume = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":j:o:qh", longs, NULL)) != -1) {
        if (c == 'h') {
            fputs(usage, stdout);
            return 0;
        }
        if (c == 's') {
            if (!parse_shard(optarg, &shard, &nshards))
                return cs_cli_usage_error("sweep", "--shard: expected I/N with 0 <= I < N (got \"%s\")", optarg);
            continue;
        }
        if (c == 'r') {
            resume = true;
            continue;
        }
        int h = c == 'j' || c == 'o' || c == 'q' ? cs_opts_handle(&o, c, optarg) : 0;
        if (h == 2)
            return 2;
        if (h == 0)
            return cs_cli_bad_option("sweep", c, argv);
    }
    if (optind >= argc)
        return cs_cli_usage_error("sweep", "missing the spec file (SPEC.cfg)");
    if (optind + 1 < argc)
        return cs_cli_usage_error("sweep", "unexpected argument '%s'", argv[optind + 1]);

    cs_err err;
    cs_err_init(&err);
    sweep_run sr = {.fd = -1, .quiet = o.quiet};
    cs_err_init(&sr.werr);
    if (cs_sweep_load(argv[optind], &sr.s, &err) != CS_OK)
        return cs_cli_report(&err);
    cs_sweep *s = sr.s;
    snprintf(sr.hash, sizeof sr.hash, "%016" PRIx64, s->hash);
    char *dflt_dir = NULL, journal[4096];
    if (!o.out) {
        size_t n = strlen(s->p.name) + 8;
        dflt_dir = cs_malloc(n);
        snprintf(dflt_dir, n, "sweep-%s", s->p.name);
    }
    sr.dir = o.out ? o.out : dflt_dir;
    if (nshards > 1)
        snprintf(journal, sizeof journal, "%s/journal.shard-%zu-of-%zu.jsonl", sr.dir, shard, nshards);
    else
        snprintf(journal, sizeof journal, "%s/journal.jsonl", sr.dir);
    sr.journal = journal;
    sr.state = cs_calloc(s->npoints, 1);
    sr.at = cs_calloc(s->npoints, sizeof *sr.at);
    sr.points = cs_calloc(s->npoints, sizeof *sr.points);
    /* Points are loaded (and run) a batch at a time: memory does not grow with the sweep. */
    size_t batch = (size_t)cs_opts_threads(&o) * 64;
    if (batch < BATCH_MIN)
        batch = BATCH_MIN;
    loaded L = {0};
    L.opts = cs_calloc(batch, sizeof *L.opts);
    L.pl = cs_calloc(batch, sizeof *L.pl);
    L.has_pl = cs_calloc(batch, sizeof *L.has_pl);
    L.ro = cs_calloc(batch, sizeof *L.ro);
    L.specs = cs_calloc(batch, sizeof *L.specs);
    int rc = 0;
    struct stat stj;
    bool dir_existed = stat(sr.dir, &stj) == 0, journal_existed = stat(journal, &stj) == 0;
    if (strlen(journal) >= sizeof journal - 1) {
        rc = cs_cli_usage_error("sweep", "-o: the directory name is too long");
        goto out;
    }
    if (!resume && journal_existed && stj.st_size > 0) {
        rc = cs_cli_usage_error("sweep", "%s exists: pass --resume to go on with that sweep, or give another -o DIR",
                                journal);
        goto out;
    }
    /* The journal is created and locked first: what follows reads the journals as they stand
     * while no other sweep can append to them. */
    if (cs_afile_mkdirs(sr.dir, &err) != CS_OK) {
        rc = cs_cli_report(&err);
        goto out;
    }
    sr.fd = open(journal, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (sr.fd < 0) {
        cs_err_add(&err, CS_IO, "%s: error: cannot open: %s", journal, strerror(errno));
        rc = cs_cli_report(&err);
        goto out;
    }
    if (lock_journals(&sr, nshards > 1, &err) != CS_OK || scan(&sr, resume, &err) != CS_OK) {
        rc = cs_cli_report(&err);
        goto out;
    }
    if (!resume && fstat(sr.fd, &stj) == 0 && stj.st_size > 0) { /* appeared meanwhile */
        rc = cs_cli_usage_error("sweep", "%s exists: pass --resume to go on with that sweep, or give another -o DIR",
                                journal);
        goto out;
    }
    for (size_t p = shard; p < s->npoints; p += nshards)
        if (!resume || sr.state[p] != PT_OK)
            sr.points[sr.nrun++] = p;

    /* Load every point before running any: a bad value stops the sweep now, not overnight. */
    for (size_t b = 0; b < sr.nrun && !cs_err_full(&err); b += batch) {
        size_t e = b + batch < sr.nrun ? b + batch : sr.nrun;
        load_batch(&sr, &L, b, e, &err);
        release_batch(&sr, &L, e - b, false);
    }
    if (err.count) {
        rc = cs_cli_report(&err);
        goto out;
    }
    if (sr.nrun) {
        if (!o.quiet)
            fprintf(stderr, "cimsim sweep: %s: %zu points; running %zu%s\n", s->p.name, s->npoints, sr.nrun,
                    nshards > 1 ? " (this shard's)" : "");
        for (size_t b = 0; b < sr.nrun && !sr.werr.count; b += batch) {
            size_t e = b + batch < sr.nrun ? b + batch : sr.nrun;
            load_batch(&sr, &L, b, e, &err);
            if (err.count) { /* loaded before: only a changed file can fail now */
                rc = cs_cli_report(&err);
                goto out;
            }
            sr.base = b;
            cs_run_each(L.specs, e - b, cs_opts_threads(&o), NULL, on_point, &sr);
            release_batch(&sr, &L, e - b, false);
        }
        if (sr.werr.count) {
            rc = cs_cli_report(&sr.werr);
            goto out;
        }
    }
    /* Every shard's journal, as it stands now. */
    if (scan(&sr, false, &err) != CS_OK) {
        rc = cs_cli_report(&err);
        goto out;
    }
    size_t ok = 0, bad = 0;
    for (size_t p = 0; p < s->npoints; p++) {
        ok += sr.state[p] == PT_OK;
        bad += sr.state[p] == PT_ERROR;
    }
    if (ok == s->npoints) {
        if (write_results(&sr, &err) != CS_OK) {
            rc = cs_cli_report(&err);
            goto out;
        }
        printf("%s: %zu points done; %s/results.csv and %s/results.json written\n", s->p.name, s->npoints, sr.dir,
               sr.dir);
    } else {
        printf("%s: %zu of %zu points done, %zu failed (see %s); results.csv and results.json are written "
               "once every point is done (`cimsim sweep %s --resume -o %s`)\n",
               s->p.name, ok, s->npoints, bad, sr.dir, s->path, sr.dir);
    }
    rc = sr.failed ? 1 : 0;
out:
    if (sr.fd >= 0) {
        /* A bad spec writes nothing: the journal and DIR this run created go again. */
        if (rc == 2 && !journal_existed && fstat(sr.fd, &stj) == 0 && stj.st_size == 0) {
            unlink(journal);
            if (!dir_existed)
                rmdir(sr.dir);
        }
        close(sr.fd); /* releases the lock */
    }
    free_loaded(&sr, &L, batch);
    for (size_t i = 0; i < sr.njournals; i++)
        cs_free(sr.journals[i]);
    cs_free(sr.journals);
    cs_free(sr.state);
    cs_free(sr.at);
    cs_free(sr.points);
    cs_free(dflt_dir);
    cs_err_free(&sr.werr);
    cs_sweep_destroy(s);
    return rc;
}

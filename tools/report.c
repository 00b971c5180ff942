/* report — result/compare files (jansson) into runs and groups, and the table writers.
 *
 * Reading is one pass of a small validator over the JSON tree: every key the report uses is
 * looked up with its expected type, and every miss is reported with its path before the read
 * fails, so one run of the command shows all of a file's problems.
 *
 * Writing builds format-neutral tables (columns with a kind and significant figures, cells
 * holding numbers or text) and renders them as aligned text, Markdown or LaTeX; CSV and JSON
 * are written from the runs directly, with every number in full precision.
 */
#include "report.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "afile.h"
#include "alloc.h"
#include "check.h"
#include "json.h"

/* ==== numbers ================================================================================ */

static void plain_exact(cs_buf *b, double v)
{
    char tmp[64];
    double a = fabs(v);
    if (v == 0) {
        cs_buf_puts(b, "0");
        return;
    }
    if (a >= 1e-5 && a < 1e15) {
        for (int d = 0; d <= 20; d++) {
            snprintf(tmp, sizeof tmp, "%.*f", d, v);
            if (strtod(tmp, NULL) == v) {
                cs_buf_puts(b, tmp);
                return;
            }
        }
    }
    cs_buf_double(b, v);
}

/* v rounded to sig significant figures: its decimal exponent and the %f decimals to show, or
 * false when an exponent form reads better (|v| < 1e-4 or >= 1e15). */
static bool sig_layout(double v, int sig, double *rounded, int *decimals)
{
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%.*e", sig - 1, v);
    double r = strtod(tmp, NULL);
    double a = fabs(r);
    *rounded = r;
    if (a < 1e-4 || a >= 1e15)
        return false;
    int e = (int)floor(log10(a));
    *decimals = sig - 1 - e > 0 ? sig - 1 - e : 0;
    return true;
}

void cs_report_number(cs_buf *b, double v, int sig)
{
    if (!isfinite(v)) {
        cs_buf_puts(b, "-");
        return;
    }
    if (sig <= 0) {
        plain_exact(b, v);
        return;
    }
    if (v == 0) {
        cs_buf_puts(b, "0");
        return;
    }
    double r;
    int d;
    if (sig_layout(v, sig, &r, &d))
        cs_buf_printf(b, "%.*f", d, r);
    else
        cs_buf_printf(b, "%.*e", sig - 1, v);
}

/* LaTeX: the exponent form as $m\times10^{e}$. */
static void tex_number(cs_buf *b, double v, int sig)
{
    double r;
    int d;
    if (!isfinite(v)) {
        cs_buf_puts(b, "--");
        return;
    }
    if (v == 0 || sig_layout(v, sig, &r, &d)) {
        cs_report_number(b, v, sig);
        return;
    }
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%.*e", sig - 1, v);
    char *e = strchr(tmp, 'e');
    *e = '\0';
    cs_buf_printf(b, "$%s\\times10^{%d}$", tmp, atoi(e + 1));
}

/* ==== reading ================================================================================ */

typedef struct vx {
    const char *file;
    cs_err *err;
    int errors;
} vx;

static const char *jtype(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

static void vfail(vx *v, const char *path, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void vfail(vx *v, const char *path, const char *key, const char *fmt, ...)
{
    char rule[300], kp[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rule, sizeof rule, fmt, ap);
    va_end(ap);
    if (path[0])
        snprintf(kp, sizeof kp, "%s.%s", path, key);
    else
        snprintf(kp, sizeof kp, "%s", key);
    v->errors++;
    cs_err_at(v->err, CS_FORMAT, v->file, 0, kp, "%s", rule);
}

/* A member of obj of the expected kind: 'o' object, 'a' array, 's' string, 'n' number,
 * 'i' integer (an integral number), 'S' string or null, 'O' object or null. NULL after a
 * report when missing or ill-typed; optional members that are absent give NULL silently. */
static json_t *need(vx *v, json_t *obj, const char *path, const char *key, char kind,
                    bool optional)
{
    json_t *j = obj ? json_object_get(obj, key) : NULL;
    if (!j) {
        if (!optional && obj)
            vfail(v, path, key, "missing key");
        return NULL;
    }
    bool ok;
    const char *want;
    switch (kind) {
    case 'o': ok = json_is_object(j); want = "an object"; break;
    case 'a': ok = json_is_array(j); want = "an array"; break;
    case 's': ok = json_is_string(j); want = "a string"; break;
    case 'S': ok = json_is_string(j) || json_is_null(j); want = "a string or null"; break;
    case 'O': ok = json_is_object(j) || json_is_null(j); want = "an object or null"; break;
    case 'i':
        ok = json_is_integer(j) ||
             (json_is_real(j) && json_real_value(j) == floor(json_real_value(j)));
        want = "an integer";
        break;
    default: ok = json_is_number(j); want = "a number"; break;
    }
    if (!ok) {
        vfail(v, path, key, "expected %s (got %s)", want, jtype(j));
        return NULL;
    }
    return j;
}

static double num(vx *v, json_t *obj, const char *path, const char *key)
{
    json_t *j = need(v, obj, path, key, 'n', false);
    double d = j ? json_number_value(j) : NAN;
    if (j && !(d >= 0)) {
        vfail(v, path, key, "must not be negative (got %g)", d);
        return NAN;
    }
    return d;
}

static int64_t integer(vx *v, json_t *obj, const char *path, const char *key, bool optional,
                       int64_t dflt)
{
    json_t *j = need(v, obj, path, key, 'i', optional);
    if (!j)
        return dflt;
    if (json_is_integer(j))
        return (int64_t)json_integer_value(j);
    double d = json_real_value(j); /* an integral number written as 1e24: in range first */
    if (!(d >= -9.2e18 && d <= 9.2e18)) {
        vfail(v, path, key, "out of range (got %g)", d);
        return dflt;
    }
    return (int64_t)d;
}

/* A string member, copied with its control characters (newlines, escapes) as spaces: result
 * files are shared, and their strings are shown (terminal, tables, plot scripts), never
 * interpreted. */
static char *str(vx *v, json_t *obj, const char *path, const char *key, bool optional)
{
    json_t *j = need(v, obj, path, key, optional ? 'S' : 's', optional);
    char *s = cs_strdup(j && json_is_string(j) ? json_string_value(j) : "");
    for (char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
    return s;
}

static void breakdown(vx *v, json_t *obj, const char *path, double *out)
{
    char p[256];
    snprintf(p, sizeof p, "%s%senergy_breakdown_pj", path, path[0] ? "." : "");
    json_t *b = need(v, obj, path, "energy_breakdown_pj", 'o', false);
    for (int i = 0; i < CS_EB_COUNT; i++)
        out[i] = b ? num(v, b, p, cs_eb_name(i)) : NAN;
}

/* The cycle attribution (results since cimsim 0.2; absent: NaN, shown as blank). */
static void attribution(vx *v, json_t *obj, const char *path, double *out)
{
    char p[256];
    snprintf(p, sizeof p, "%s%sattribution", path, path[0] ? "." : "");
    json_t *a = need(v, obj, path, "attribution", 'o', true);
    for (int i = 0; i < CS_CAUSES; i++)
        out[i] = a ? num(v, a, p, cs_cause_key(i)) : NAN;
}

static void free_run(cs_rep_run *r)
{
    for (size_t i = 0; i < r->ngemms; i++) {
        cs_free(r->gemms[i].name);
        cs_free(r->gemms[i].bound);
    }
    cs_free(r->gemms);
    char **s[] = {&r->file, &r->label, &r->primitive, &r->level, &r->version, &r->command,
                  &r->config_hash, &r->energy_table, &r->energy_version, &r->arch,
                  &r->workload};
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
        cs_free(*s[i]);
    for (size_t i = 0; i < r->nparams; i++)
        cs_free(r->params[i]);
    cs_free(r->params);
    memset(r, 0, sizeof *r);
}

/* One result object at path ("" for a result file, "baseline", "variants[2]"). */
static void read_run(vx *v, json_t *o, const char *path, cs_rep_run *r)
{
    char p[256];
    json_t *schema = need(v, o, path, "schema", 's', false);
    if (schema && strcmp(json_string_value(schema), "cimsim-result/1") != 0)
        vfail(v, path, "schema", "expected \"cimsim-result/1\" (got \"%s\")",
              json_string_value(schema));
    r->version = str(v, o, path, "version", false);
    snprintf(p, sizeof p, "%s%sprovenance", path, path[0] ? "." : "");
    json_t *prov = need(v, o, path, "provenance", 'o', false);
    r->command = str(v, prov, p, "command", false);
    r->config_hash = str(v, prov, p, "config_hash", false);
    r->energy_table = str(v, prov, p, "energy_table", false);
    r->energy_version = str(v, prov, p, "energy_table_version", false);
    r->arch = str(v, o, path, "arch", false);
    r->workload = str(v, o, path, "workload", false);
    json_t *clk = need(v, o, path, "clock_hz", 'n', false);
    r->clock_hz = clk ? json_number_value(clk) : NAN;
    snprintf(p, sizeof p, "%s%speak", path, path[0] ? "." : "");
    json_t *peak = need(v, o, path, "peak", 'o', false);
    r->peak_tops = peak ? num(v, peak, p, "tops") : NAN;
    r->peak_dram_bytes_per_s = peak ? num(v, peak, p, "dram_bytes_per_s") : NAN;
    json_t *cim = need(v, o, path, "cim", 'O', false);
    r->primitive = cs_strdup("");
    r->level = cs_strdup("");
    if (cim && json_is_object(cim)) {
        snprintf(p, sizeof p, "%s%scim", path, path[0] ? "." : "");
        cs_free(r->primitive);
        cs_free(r->level);
        r->primitive = str(v, cim, p, "primitive", false);
        r->level = str(v, cim, p, "level", false);
        r->macros = integer(v, cim, p, "macros", false, 0);
        r->cim = true;
    }
    cs_buf lb;
    cs_buf_init(&lb);
    if (r->cim)
        cs_buf_printf(&lb, "%s@%s x%lld", r->primitive, r->level, (long long)r->macros);
    else
        cs_buf_puts(&lb, "baseline");
    r->label = cs_buf_take(&lb);
    json_t *gemms = need(v, o, path, "gemms", 'a', false);
    size_t ng = gemms ? json_array_size(gemms) : 0;
    r->gemms = ng ? cs_calloc(ng, sizeof *r->gemms) : NULL;
    r->ngemms = ng;
    for (size_t i = 0; i < ng; i++) {
        cs_rep_gemm *g = &r->gemms[i];
        json_t *go = json_array_get(gemms, i);
        snprintf(p, sizeof p, "%s%sgemms[%zu]", path, path[0] ? "." : "", i);
        if (!json_is_object(go)) {
            v->errors++;
            cs_err_at(v->err, CS_FORMAT, v->file, 0, p, "expected an object (got %s)", jtype(go));
            g->name = cs_strdup("");
            g->bound = cs_strdup("");
            continue;
        }
        g->name = str(v, go, p, "name", false);
        g->m = integer(v, go, p, "m", false, 0);
        g->n = integer(v, go, p, "n", false, 0);
        g->k = integer(v, go, p, "k", false, 0);
        g->repeat = integer(v, go, p, "repeat", true, 1);
        g->cycles = num(v, go, p, "cycles");
        g->seconds = num(v, go, p, "seconds");
        g->macs = num(v, go, p, "macs");
        g->tops = num(v, go, p, "tops");
        g->utilization = num(v, go, p, "utilization");
        g->bound = str(v, go, p, "bound", false);
        g->energy_pj = num(v, go, p, "energy_pj");
        breakdown(v, go, p, g->breakdown_pj);
        attribution(v, go, p, g->attribution);
        char bp[280];
        snprintf(bp, sizeof bp, "%s.bytes", p);
        json_t *bytes = need(v, go, p, "bytes", 'o', false);
        g->dram_read_bytes = bytes ? num(v, bytes, bp, "dram_read") : NAN;
        g->dram_write_bytes = bytes ? num(v, bytes, bp, "dram_write") : NAN;
    }
    snprintf(p, sizeof p, "%s%stotal", path, path[0] ? "." : "");
    json_t *t = need(v, o, path, "total", 'o', false);
    if (t) {
        r->cycles = num(v, t, p, "cycles");
        r->seconds = num(v, t, p, "seconds");
        r->macs = num(v, t, p, "macs");
        r->energy_pj = num(v, t, p, "energy_pj");
        r->tops = num(v, t, p, "tops");
        r->tops_per_w = num(v, t, p, "tops_per_w");
        r->area_mm2 = num(v, t, p, "area_mm2");
        r->tops_per_mm2 = num(v, t, p, "tops_per_mm2");
        breakdown(v, t, p, r->breakdown_pj);
        attribution(v, t, p, r->attribution);
    }
}

static cs_rep_group *add_group(cs_report *rep)
{
    rep->groups = cs_realloc(rep->groups, (rep->ngroups + 1) * sizeof *rep->groups);
    cs_rep_group *g = &rep->groups[rep->ngroups++];
    memset(g, 0, sizeof *g);
    return g;
}

static cs_rep_run *add_run(cs_rep_group *g, const char *file)
{
    g->runs = cs_realloc(g->runs, (g->nruns + 1) * sizeof *g->runs);
    cs_rep_run *r = &g->runs[g->nruns++];
    memset(r, 0, sizeof *r);
    r->file = cs_strdup(file);
    return r;
}

/* A sweep's results.json (docs/sweep.md): the axes, then each point's params and result. */
static void read_sweep(vx *v, json_t *root, cs_rep_group *g, const char *path)
{
    g->sweep = true;
    json_t *axes = need(v, root, "", "axes", 'a', false);
    json_t *res = need(v, root, "", "results", 'a', false);
    g->naxes = axes ? json_array_size(axes) : 0;
    if (g->naxes > CS_REP_MAX_AXES) {
        vfail(v, "", "axes", "at most %d axes (got %zu)", CS_REP_MAX_AXES, g->naxes);
        g->naxes = 0;
        return;
    }
    g->axes = g->naxes ? cs_calloc(g->naxes, sizeof *g->axes) : NULL;
    for (size_t a = 0; a < g->naxes; a++) {
        char p[64];
        snprintf(p, sizeof p, "axes[%zu]", a);
        json_t *ao = json_array_get(axes, a);
        g->axes[a] = json_is_object(ao) ? str(v, ao, p, "name", false) : cs_strdup("");
        if (!json_is_object(ao))
            vfail(v, "", p, "expected an object (got %s)", jtype(ao));
    }
    for (size_t i = 0; res && i < json_array_size(res); i++) {
        char p[64], rp[80];
        snprintf(p, sizeof p, "results[%zu]", i);
        json_t *po = json_array_get(res, i);
        if (!json_is_object(po)) {
            vfail(v, "", p, "expected an object (got %s)", jtype(po));
            continue;
        }
        json_t *params = need(v, po, p, "params", 'o', false);
        json_t *ro = need(v, po, p, "result", 'o', false);
        if (!ro)
            continue;
        cs_rep_run *r = add_run(g, path);
        snprintf(rp, sizeof rp, "%s.result", p);
        read_run(v, ro, rp, r);
        r->nparams = g->naxes;
        r->params = g->naxes ? cs_calloc(g->naxes, sizeof *r->params) : NULL;
        snprintf(rp, sizeof rp, "%s.params", p);
        cs_buf lb;
        cs_buf_init(&lb);
        for (size_t a = 0; a < g->naxes; a++) {
            r->params[a] = params ? str(v, params, rp, g->axes[a], false) : cs_strdup("");
            cs_buf_printf(&lb, "%s%s=%s", a ? ", " : "", g->axes[a], r->params[a]);
        }
        cs_free(r->label);
        r->label = cs_buf_take(&lb);
    }
}

/* Reads one file's text into a new group (kind told by its schema). */
static cs_status read_text(cs_report *rep, const char *path, const char *text, size_t len,
                           cs_err *err)
{
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return cs_err_at(err, CS_FORMAT, path, je.line > 0 ? je.line : 0, "JSON",
                         "%s (column %d)", je.text, je.column);
    vx v = {path, err, 0};
    json_t *schema = json_is_object(root) ? json_object_get(root, "schema") : NULL;
    const char *s = json_is_string(schema) ? json_string_value(schema) : NULL;
    if (!s) {
        cs_err_at(err, CS_FORMAT, path, 0, "schema",
                  json_is_object(root) ? (schema ? "expected a string (got %s)" : "missing key")
                                       : "expected a JSON object at the top (got %s)",
                  jtype(schema ? schema : root));
        json_decref(root);
        return CS_FORMAT;
    }
    cs_rep_group *g = add_group(rep);
    g->files = cs_strdup(path);
    if (strcmp(s, "cimsim-compare/1") == 0) {
        g->compare = true;
        (void)need(&v, root, "", "version", 's', false); /* each run carries its own */
        json_t *base = need(&v, root, "", "baseline", 'o', false);
        json_t *vars = need(&v, root, "", "variants", 'a', false);
        if (base)
            read_run(&v, base, "baseline", add_run(g, path));
        for (size_t i = 0; vars && i < json_array_size(vars); i++) {
            char p[64];
            snprintf(p, sizeof p, "variants[%zu]", i);
            json_t *vo = json_array_get(vars, i);
            if (!json_is_object(vo)) {
                v.errors++;
                cs_err_at(err, CS_FORMAT, path, 0, p, "expected an object (got %s)", jtype(vo));
                continue;
            }
            read_run(&v, vo, p, add_run(g, path));
        }
    } else if (strcmp(s, "cimsim-result/1") == 0) {
        read_run(&v, root, "", add_run(g, path));
    } else if (strcmp(s, "cimsim-sweep/1") == 0) {
        read_sweep(&v, root, g, path);
    } else {
        v.errors++;
        cs_err_at(err, CS_FORMAT, path, 0, "schema",
                  "expected \"cimsim-result/1\", \"cimsim-compare/1\" or \"cimsim-sweep/1\" (got \"%s\")", s);
    }
    json_decref(root);
    return v.errors ? CS_FORMAT : CS_OK;
}

/* Reads one file (at most CS_REP_MAX_INPUT_BYTES) into a new group. */
static cs_status read_file(cs_report *rep, const char *path, cs_err *err)
{
    char *text = NULL;
    size_t len = 0;
    cs_status st = cs_afile_read_max(path, CS_REP_MAX_INPUT_BYTES, &text, &len, err);
    if (st == CS_OK)
        st = read_text(rep, path, text, len, err);
    cs_free(text);
    return st;
}

void cs_report_free(cs_report *rep)
{
    for (size_t i = 0; i < rep->ngroups; i++) {
        cs_rep_group *g = &rep->groups[i];
        for (size_t j = 0; j < g->nruns; j++)
            free_run(&g->runs[j]);
        cs_free(g->runs);
        cs_free(g->files);
        for (size_t a = 0; a < g->naxes; a++)
            cs_free(g->axes[a]);
        cs_free(g->axes);
    }
    cs_free(rep->groups);
    cs_free(rep->command);
    memset(rep, 0, sizeof *rep);
}

static cs_status group_runs(cs_report *rep, cs_err *err);

cs_status cs_report_read(cs_report *rep, const char *const *paths, size_t npaths,
                         const char *command, cs_err *err)
{
    rep->command = cs_strdup(command ? command : "");
    cs_status st = CS_OK;
    for (size_t i = 0; i < npaths; i++) {
        cs_status s = read_file(rep, paths[i], err);
        if (s != CS_OK && st == CS_OK)
            st = s;
    }
    return st != CS_OK ? st : group_runs(rep, err);
}

cs_status cs_report_read_mem(cs_report *rep, const char *const *names, const char *const *texts,
                             const size_t *lens, size_t n, const char *command, cs_err *err)
{
    rep->command = cs_strdup(command ? command : "");
    cs_status st = CS_OK;
    for (size_t i = 0; i < n; i++) {
        cs_status s = read_text(rep, names[i], texts[i], lens[i], err);
        if (s != CS_OK && st == CS_OK)
            st = s;
    }
    return st != CS_OK ? st : group_runs(rep, err);
}

/* After reading: result and compare files not mixed; several results become one group. */
static cs_status group_runs(cs_report *rep, cs_err *err)
{
    size_t ncmp = 0, nsweep = 0;
    for (size_t i = 0; i < rep->ngroups; i++) {
        ncmp += rep->groups[i].compare;
        nsweep += rep->groups[i].sweep;
    }
    if (nsweep && rep->ngroups > 1)
        return cs_err_add(err, CS_INVALID, "cimsim report: error: a sweep's results.json is reported alone");
    if (ncmp && ncmp != rep->ngroups)
        return cs_err_add(err, CS_INVALID,
                          "cimsim report: error: give result files or compare files, not both");
    if (ncmp == 0 && rep->ngroups > 1) {
        /* Several results: one group, the first file's run the baseline of the others. */
        cs_rep_group merged = {.compare = true};
        cs_buf files;
        cs_buf_init(&files);
        merged.runs = cs_calloc(rep->ngroups, sizeof *merged.runs);
        for (size_t i = 0; i < rep->ngroups; i++) {
            merged.runs[merged.nruns++] = rep->groups[i].runs[0];
            cs_buf_printf(&files, "%s%s", i ? ", " : "", rep->groups[i].files);
            cs_free(rep->groups[i].runs);
            cs_free(rep->groups[i].files);
        }
        /* Labels must tell the runs apart: add the file where two are equal. */
        for (size_t i = 0; i < merged.nruns; i++)
            for (size_t j = 0; j < merged.nruns; j++)
                if (i != j && strcmp(merged.runs[i].label, merged.runs[j].label) == 0) {
                    for (size_t k = 0; k < merged.nruns; k++) {
                        cs_buf l;
                        cs_buf_init(&l);
                        cs_buf_printf(&l, "%s (%s)", merged.runs[k].label, merged.runs[k].file);
                        cs_free(merged.runs[k].label);
                        merged.runs[k].label = cs_buf_take(&l);
                    }
                    i = j = merged.nruns;
                }
        merged.files = cs_buf_take(&files);
        rep->groups[0] = merged;
        rep->ngroups = 1;
    }
    return CS_OK;
}

/* ==== derived figures ========================================================================= */

static double ratio(double a, double b)
{
    return b > 0 && isfinite(a) ? a / b : NAN;
}

static double speedup(const cs_rep_run *base, const cs_rep_run *r)
{
    return ratio(base->seconds, r->seconds);
}

/* The baseline GEMM of g: same index and name, else the first of that name. */
static const cs_rep_gemm *base_gemm(const cs_rep_run *base, const cs_rep_run *r, size_t i)
{
    const char *name = r->gemms[i].name;
    if (i < base->ngemms && strcmp(base->gemms[i].name, name) == 0)
        return &base->gemms[i];
    for (size_t j = 0; j < base->ngemms; j++)
        if (strcmp(base->gemms[j].name, name) == 0)
            return &base->gemms[j];
    return NULL;
}

/* Breakdown categories that are non-zero in any run of the group (the others make no
 * column). */
static void used_categories(const cs_rep_group *g, bool *used)
{
    for (int c = 0; c < CS_EB_COUNT; c++) {
        used[c] = false;
        for (size_t i = 0; i < g->nruns && !used[c]; i++) {
            used[c] = g->runs[i].breakdown_pj[c] > 0;
            for (size_t j = 0; j < g->runs[i].ngemms && !used[c]; j++)
                used[c] = g->runs[i].gemms[j].breakdown_pj[c] > 0;
        }
    }
}

/* ==== format-neutral tables =================================================================== */

typedef enum { K_STR, K_INT, K_SIG, K_PCT, K_X } ckind;

enum { MAX_COLS = 48 };

typedef struct col {
    char txt[96], md[96], tex[160];
    ckind kind;
    int sig;
} col;

typedef struct cell {
    double v;
    char *s; /* K_STR */
} cell;

typedef struct table {
    char title[256];
    col cols[MAX_COLS];
    size_t ncols;
    cell *cells;
    size_t nrows, cap;
    size_t rule_before; /* a rule above this row (the total); 0 for none */
} table;

static void tcol(table *t, const char *txt, const char *md, const char *tex, ckind k, int sig)
{
    CS_ASSERT(t->ncols < MAX_COLS);
    col *c = &t->cols[t->ncols++];
    snprintf(c->txt, sizeof c->txt, "%s", txt);
    snprintf(c->md, sizeof c->md, "%s", md ? md : txt);
    snprintf(c->tex, sizeof c->tex, "%s", tex ? tex : txt);
    c->kind = k;
    c->sig = sig;
}

static cell *trow(table *t)
{
    t->cells = cs_realloc(t->cells, (t->nrows + 1) * t->ncols * sizeof *t->cells);
    cell *row = &t->cells[t->nrows++ * t->ncols];
    for (size_t i = 0; i < t->ncols; i++)
        row[i] = (cell){NAN, NULL};
    return row;
}

static void tfree(table *t)
{
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        cs_free(t->cells[i].s);
    cs_free(t->cells);
    memset(t, 0, sizeof *t);
}

static void tex_escape(cs_buf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '_': case '&': case '%': case '$': case '#': case '{': case '}':
            cs_buf_printf(b, "\\%c", *s);
            break;
        case '~': cs_buf_puts(b, "\\textasciitilde{}"); break;
        case '^': cs_buf_puts(b, "\\textasciicircum{}"); break;
        case '\\': cs_buf_puts(b, "\\textbackslash{}"); break;
        default: cs_buf_putc(b, *s);
        }
    }
}

/* A run's label in LaTeX: escaped, with the macro count "analog6T@rf x5" as $\times$5. */
static void tex_label(cs_buf *b, const char *s)
{
    const char *x = strstr(s, " x");
    while (x && strstr(x + 1, " x"))
        x = strstr(x + 1, " x");
    size_t digits = x ? strspn(x + 2, "0123456789") : 0;
    if (!x || !digits || x[2 + digits]) {
        tex_escape(b, s);
        return;
    }
    char *head = cs_strndup(s, (size_t)(x - s));
    tex_escape(b, head);
    cs_free(head);
    cs_buf_printf(b, " $\\times$%s", x + 2);
}

/* One cell as text of the format. */
static void render(cs_rep_format f, const col *c, const cell *x, cs_buf *b)
{
    if (c->kind == K_STR || x->s) { /* text, or a numeric column left blank ("") */
        const char *s = x->s ? x->s : "";
        if (f == CS_REP_TEX)
            tex_label(b, s);
        else if (f == CS_REP_MD)
            for (; *s; s++)
                cs_buf_puts(b, *s == '|' ? "\\|" : (char[2]){*s, 0});
        else
            cs_buf_puts(b, s);
        return;
    }
    if (!isfinite(x->v)) {
        cs_buf_puts(b, f == CS_REP_TEX ? "--" : "-");
        return;
    }
    switch (c->kind) {
    case K_INT: cs_buf_printf(b, "%.0f", x->v); break;
    case K_PCT: cs_buf_printf(b, "%.1f", x->v * 100); break;
    case K_X: /* significant figures: 0.00886x, not 0.00x */
        cs_report_number(b, x->v, 3);
        cs_buf_puts(b, f == CS_REP_TEX ? "$\\times$" : f == CS_REP_MD ? "×" : "x");
        break;
    default:
        if (f == CS_REP_TEX)
            tex_number(b, x->v, c->sig);
        else
            cs_report_number(b, x->v, c->sig);
        break;
    }
}

static void write_text_table(const table *t, cs_buf *out)
{
    size_t w[MAX_COLS];
    cs_buf tmp;
    cs_buf_init(&tmp);
    for (size_t c = 0; c < t->ncols; c++) {
        w[c] = strlen(t->cols[c].txt);
        for (size_t r = 0; r < t->nrows; r++) {
            cs_buf_clear(&tmp);
            render(CS_REP_TEXT, &t->cols[c], &t->cells[r * t->ncols + c], &tmp);
            if (tmp.len > w[c])
                w[c] = tmp.len;
        }
    }
    cs_buf_printf(out, "%s\n", t->title);
    cs_buf line;
    cs_buf_init(&line);
    for (size_t c = 0; c < t->ncols; c++) {
        bool left = t->cols[c].kind == K_STR;
        cs_buf_printf(&line, "%s%*s%s", c ? "  " : "", left ? -(int)w[c] : (int)w[c],
                      t->cols[c].txt, "");
    }
    while (line.len && line.data[line.len - 1] == ' ')
        line.data[--line.len] = '\0';
    cs_buf_printf(out, "%s\n", line.data);
    size_t total = 0;
    for (size_t c = 0; c < t->ncols; c++)
        total += w[c] + (c ? 2 : 0);
    for (size_t r = 0; r <= t->nrows; r++) {
        if (r == 0 || (t->rule_before && r == t->rule_before)) {
            for (size_t i = 0; i < total; i++)
                cs_buf_putc(out, '-');
            cs_buf_putc(out, '\n');
        }
        if (r == t->nrows)
            break;
        cs_buf_clear(&line);
        for (size_t c = 0; c < t->ncols; c++) {
            cs_buf_clear(&tmp);
            render(CS_REP_TEXT, &t->cols[c], &t->cells[r * t->ncols + c], &tmp);
            bool left = t->cols[c].kind == K_STR;
            cs_buf_printf(&line, "%s%*s", c ? "  " : "", left ? -(int)w[c] : (int)w[c],
                          tmp.data ? tmp.data : "");
        }
        while (line.len && line.data[line.len - 1] == ' ')
            line.data[--line.len] = '\0';
        cs_buf_printf(out, "%s\n", line.data);
    }
    cs_buf_free(&line);
    cs_buf_free(&tmp);
}

static void write_md_table(const table *t, cs_buf *out)
{
    cs_buf_printf(out, "**%s**\n\n|", t->title);
    for (size_t c = 0; c < t->ncols; c++)
        cs_buf_printf(out, " %s |", t->cols[c].md);
    cs_buf_puts(out, "\n|");
    for (size_t c = 0; c < t->ncols; c++)
        cs_buf_puts(out, t->cols[c].kind == K_STR ? ":---|" : "---:|");
    cs_buf_putc(out, '\n');
    cs_buf tmp;
    cs_buf_init(&tmp);
    for (size_t r = 0; r < t->nrows; r++) {
        bool bold = t->rule_before && r == t->rule_before; /* the total */
        cs_buf_putc(out, '|');
        for (size_t c = 0; c < t->ncols; c++) {
            cs_buf_clear(&tmp);
            render(CS_REP_MD, &t->cols[c], &t->cells[r * t->ncols + c], &tmp);
            if (!tmp.len)
                cs_buf_puts(out, " |");
            else
                cs_buf_printf(out, bold ? " **%s** |" : " %s |", tmp.data);
        }
        cs_buf_putc(out, '\n');
    }
    cs_buf_free(&tmp);
}

/* A tabular fragment under a comment naming it; in a standalone document, a table float with
 * the title as its caption. */
static void write_tex_table(const table *t, bool standalone, cs_buf *out)
{
    if (standalone) {
        cs_buf_puts(out, "\\begin{table}[htbp]\n\\centering\n\\caption{");
        tex_escape(out, t->title);
        cs_buf_puts(out, "}\n");
    } else {
        cs_buf_puts(out, "% ");
        for (const char *p = t->title; *p; p++)
            cs_buf_putc(out, *p == '\n' ? ' ' : *p);
        cs_buf_putc(out, '\n');
    }
    if (standalone) /* shrunk to the text width when wider, never enlarged */
        cs_buf_puts(out, "\\resizebox{\\ifdim\\width>\\linewidth\\linewidth\\else\\width\\fi}{!}{%\n");
    cs_buf_puts(out, "\\begin{tabular}{");
    for (size_t c = 0; c < t->ncols; c++)
        cs_buf_putc(out, t->cols[c].kind == K_STR ? 'l' : 'r');
    cs_buf_puts(out, "}\n\\toprule\n");
    for (size_t c = 0; c < t->ncols; c++)
        cs_buf_printf(out, "%s%s", c ? " & " : "", t->cols[c].tex);
    cs_buf_puts(out, " \\\\\n\\midrule\n");
    for (size_t r = 0; r < t->nrows; r++) {
        if (t->rule_before && r == t->rule_before)
            cs_buf_puts(out, "\\midrule\n");
        for (size_t c = 0; c < t->ncols; c++) {
            if (c)
                cs_buf_puts(out, " & ");
            render(CS_REP_TEX, &t->cols[c], &t->cells[r * t->ncols + c], out);
        }
        cs_buf_puts(out, " \\\\\n");
    }
    cs_buf_puts(out, "\\bottomrule\n\\end{tabular}\n");
    if (standalone)
        cs_buf_puts(out, "}\n\\end{table}\n");
}

static void write_table(const cs_rep_opts *o, const table *t, cs_buf *out)
{
    if (o->format == CS_REP_MD)
        write_md_table(t, out);
    else if (o->format == CS_REP_TEX)
        write_tex_table(t, o->standalone, out);
    else
        write_text_table(t, out);
}

/* Headers of the breakdown categories: text, Markdown, LaTeX. */
static const char *const cat_txt[CS_EB_COUNT] = {"dram", "l2", "smem", "rf", "tensor core",
                                                 "cim mac", "cim write", "noc", "leakage"};
static const char *const cat_tex[CS_EB_COUNT] = {"DRAM", "L2", "SMEM", "RF", "TC",
                                                 "CiM MAC", "CiM write", "NoC", "Leak."};

/* ---- cycle attribution ---- */

/* "cause NN%" for an attribution (cycles per cause); "" when the file has none. */
static char *top_cause(const double *a)
{
    double sum = 0;
    int best = -1;
    for (int c = 0; c < CS_CAUSES; c++) {
        if (!isfinite(a[c]))
            return cs_strdup("");
        sum += a[c];
        if (best < 0 || a[c] > a[best])
            best = c;
    }
    char s[64];
    snprintf(s, sizeof s, "%s %.0f%%", cs_cause_key(best), sum > 0 ? 100 * a[best] / sum : 0.0);
    return cs_strdup(s);
}

/* Whether the group's files have an attribution (results of cimsim 0.2 on). */
static bool has_attribution(const cs_rep_group *g)
{
    for (size_t i = 0; i < g->nruns; i++)
        if (isfinite(g->runs[i].attribution[0]))
            return true;
    return false;
}

/* Causes with cycles in any run or GEMM of the group (none for files without attribution). */
static int used_causes(const cs_rep_group *g, int *idx)
{
    int n = 0;
    for (int c = 0; c < CS_CAUSES; c++) {
        bool used = false;
        for (size_t i = 0; i < g->nruns; i++) {
            used = used || g->runs[i].attribution[c] > 0;
            for (size_t j = 0; j < g->runs[i].ngemms; j++)
                used = used || g->runs[i].gemms[j].attribution[c] > 0;
        }
        if (used)
            idx[n++] = c;
    }
    return n;
}

/* Rows (GEMMs of a result, runs of a compare) by share of their cycles per cause. */
static void attribution_table(const cs_rep_group *g, const cs_rep_run *r, const cs_rep_opts *o, cs_buf *out)
{
    int idx[CS_CAUSES], nc = used_causes(g, idx);
    if (!nc)
        return;
    table t;
    memset(&t, 0, sizeof t);
    snprintf(t.title, sizeof t.title, "Cycle attribution (%% of each %s's cycles, critical path)",
             g->compare ? "variant" : "GEMM");
    tcol(&t, g->compare ? "variant" : "gemm", g->compare ? "variant" : "GEMM", g->compare ? "Variant" : "GEMM",
         K_STR, 0);
    for (int c = 0; c < nc; c++) {
        char txt[64], tex[80];
        snprintf(txt, sizeof txt, "%s %%", cs_cause_key(idx[c]));
        cs_buf esc;
        cs_buf_init(&esc);
        tex_escape(&esc, cs_cause_key(idx[c]));
        snprintf(tex, sizeof tex, "%s (\\%%)", esc.data);
        cs_buf_free(&esc);
        tcol(&t, txt, txt, tex, K_PCT, 0);
    }
    tcol(&t, "cycles", "cycles", "Cycles", K_INT, 0);
    size_t nrows = g->compare ? g->nruns : r->ngemms + 1;
    for (size_t i = 0; i < nrows; i++) {
        bool tot = !g->compare && i == r->ngemms;
        const cs_rep_run *ri = g->compare ? &g->runs[i] : r;
        const double *a = g->compare || tot ? ri->attribution : r->gemms[i].attribution;
        double cyc = g->compare || tot ? ri->cycles : r->gemms[i].cycles;
        if (tot)
            t.rule_before = t.nrows;
        cell *row = trow(&t);
        row[0].s = cs_strdup(g->compare ? ri->label : tot ? "total" : r->gemms[i].name);
        for (int c = 0; c < nc; c++)
            row[1 + c].v = ratio(a[idx[c]], cyc);
        row[1 + nc].v = cyc;
    }
    cs_buf_putc(out, '\n');
    write_table(o, &t, out);
    tfree(&t);
}

/* ---- result tables ---- */

static void perf_row(cell *row, const char *name, double m, double n, double k, double cycles,
                     double seconds, double tops, double util, const char *bound, const double *attr,
                     double e_pj, double macs)
{
    int a = attr != NULL; /* the top-cause column, when the files have an attribution */
    row[0].s = cs_strdup(name);
    row[1].v = m;
    row[2].v = n;
    row[3].v = k;
    row[4].v = cycles;
    row[5].v = seconds * 1e6;
    row[6].v = tops;
    row[7].v = util;
    row[8].s = cs_strdup(bound);
    if (a)
        row[9].s = top_cause(attr);
    row[9 + a].v = e_pj * 1e-6;
    row[10 + a].v = ratio(e_pj, macs);
}

static void result_tables(const cs_rep_group *g, const cs_rep_run *r, const cs_rep_opts *o,
                          cs_buf *out)
{
    table t;
    memset(&t, 0, sizeof t);
    snprintf(t.title, sizeof t.title, "Per-GEMM results: %s on %s, %s (%s)", r->workload, r->arch,
             r->label, r->file);
    tcol(&t, "gemm", "GEMM", "GEMM", K_STR, 0);
    tcol(&t, "M", "M", "$M$", K_INT, 0);
    tcol(&t, "N", "N", "$N$", K_INT, 0);
    tcol(&t, "K", "K", "$K$", K_INT, 0);
    tcol(&t, "cycles", "cycles", "Cycles", K_INT, 0);
    tcol(&t, "time (us)", "time (µs)", "Time ($\\mu$s)", K_SIG, 4);
    tcol(&t, "TOPS", "TOPS", "TOPS", K_SIG, 4);
    tcol(&t, "util (%)", "util. (%)", "Util.\\ (\\%)", K_PCT, 0);
    tcol(&t, "bound", "bound", "Bound", K_STR, 0);
    bool attr = has_attribution(g);
    if (attr)
        tcol(&t, "top cause", "top cause", "Top cause", K_STR, 0);
    tcol(&t, "energy (uJ)", "energy (µJ)", "Energy ($\\mu$J)", K_SIG, 4);
    tcol(&t, "pJ/MAC", "pJ/MAC", "pJ/MAC", K_SIG, 3);
    for (size_t i = 0; i < r->ngemms; i++) {
        const cs_rep_gemm *x = &r->gemms[i];
        perf_row(trow(&t), x->name, (double)x->m, (double)x->n, (double)x->k, x->cycles, x->seconds, x->tops,
                 x->utilization, x->bound, attr ? x->attribution : NULL, x->energy_pj, x->macs);
    }
    t.rule_before = t.nrows;
    cell *trow_total = trow(&t);
    perf_row(trow_total, "total", NAN, NAN, NAN, r->cycles, r->seconds, r->tops,
             ratio(r->tops, r->peak_tops), "", attr ? r->attribution : NULL, r->energy_pj, r->macs);
    for (int c = 1; c <= 3; c++) /* blank, not "-": a total has no shape */
        trow_total[c].s = cs_strdup("");
    write_table(o, &t, out);
    tfree(&t);

    bool used[CS_EB_COUNT];
    used_categories(g, used);
    memset(&t, 0, sizeof t);
    snprintf(t.title, sizeof t.title, "Energy breakdown (%% of each GEMM's energy): %s, %s",
             r->workload, r->label);
    tcol(&t, "gemm", "GEMM", "GEMM", K_STR, 0);
    int idx[CS_EB_COUNT], nc = 0;
    for (int c = 0; c < CS_EB_COUNT; c++)
        if (used[c]) {
            char tex[64];
            snprintf(tex, sizeof tex, "%s (\\%%)", cat_tex[c]);
            char txt[64];
            snprintf(txt, sizeof txt, "%s %%", cat_txt[c]);
            tcol(&t, txt, txt, tex, K_PCT, 0);
            idx[nc++] = c;
        }
    tcol(&t, "energy (uJ)", "energy (µJ)", "Energy ($\\mu$J)", K_SIG, 4);
    for (size_t i = 0; i <= r->ngemms; i++) {
        bool tot = i == r->ngemms;
        const double *b = tot ? r->breakdown_pj : r->gemms[i].breakdown_pj;
        double e = tot ? r->energy_pj : r->gemms[i].energy_pj;
        if (tot)
            t.rule_before = t.nrows;
        cell *row = trow(&t);
        row[0].s = cs_strdup(tot ? "total" : r->gemms[i].name);
        for (int c = 0; c < nc; c++)
            row[1 + c].v = ratio(b[idx[c]], e);
        row[1 + nc].v = e * 1e-6;
    }
    cs_buf_putc(out, '\n');
    write_table(o, &t, out);
    tfree(&t);
    attribution_table(g, r, o, out);
}

/* ---- compare tables ---- */

/* The limiting resource of a run: the bound of its longest GEMM (as a sweep's CSV has it). */
static const char *worst_bound(const cs_rep_run *r)
{
    const char *b = "";
    double worst = -1;
    for (size_t i = 0; i < r->ngemms; i++)
        if (r->gemms[i].cycles >= worst) {
            worst = r->gemms[i].cycles;
            b = r->gemms[i].bound;
        }
    return b;
}

/* A phase's share of a run: decode (M <= CS_REP_DECODE_M) or prefill. */
typedef struct phase_sum {
    double seconds, cycles, energy_pj, macs;
    size_t gemms;
} phase_sum;

static phase_sum phase_of(const cs_rep_run *r, bool decode)
{
    phase_sum p = {0};
    for (size_t i = 0; i < r->ngemms; i++) {
        const cs_rep_gemm *x = &r->gemms[i];
        if ((x->m <= CS_REP_DECODE_M) != decode)
            continue;
        p.seconds += x->seconds;
        p.cycles += x->cycles;
        p.energy_pj += x->energy_pj;
        p.macs += x->macs;
        p.gemms++;
    }
    return p;
}

/* Decode and prefill totalled apart, when the baseline has GEMMs of both: a workload's total
 * would otherwise mix a latency-bound token loop with a throughput-bound prompt. */
static void phase_table(const cs_rep_group *g, const cs_rep_opts *o, cs_buf *out)
{
    const cs_rep_run *base = &g->runs[0];
    if (!phase_of(base, true).gemms || !phase_of(base, false).gemms)
        return;
    table t;
    memset(&t, 0, sizeof t);
    snprintf(t.title, sizeof t.title, "By phase (decode: GEMMs with M <= %d; prefill: the others)", CS_REP_DECODE_M);
    tcol(&t, "variant", "variant", "Variant", K_STR, 0);
    tcol(&t, "phase", "phase", "Phase", K_STR, 0);
    tcol(&t, "gemms", "GEMMs", "GEMMs", K_INT, 0);
    tcol(&t, "cycles", "cycles", "Cycles", K_INT, 0);
    tcol(&t, "time (us)", "time (µs)", "Time ($\\mu$s)", K_SIG, 4);
    tcol(&t, "speedup", "speedup", "Speedup", K_X, 0);
    tcol(&t, "energy (uJ)", "energy (µJ)", "Energy ($\\mu$J)", K_SIG, 4);
    tcol(&t, "energy ratio", "energy ratio", "Energy ratio", K_SIG, 3);
    tcol(&t, "pJ/MAC", "pJ/MAC", "pJ/MAC", K_SIG, 3);
    for (size_t i = 0; i < g->nruns; i++)
        for (int d = 1; d >= 0; d--) {
            phase_sum p = phase_of(&g->runs[i], d), b = phase_of(base, d);
            cell *row = trow(&t);
            row[0].s = cs_strdup(g->runs[i].label);
            row[1].s = cs_strdup(d ? "decode" : "prefill");
            row[2].v = (double)p.gemms;
            row[3].v = p.cycles;
            row[4].v = p.seconds * 1e6;
            row[5].v = ratio(b.seconds, p.seconds);
            row[6].v = p.energy_pj * 1e-6;
            row[7].v = ratio(p.energy_pj, b.energy_pj);
            row[8].v = ratio(p.energy_pj, p.macs);
        }
    cs_buf_putc(out, '\n');
    write_table(o, &t, out);
    tfree(&t);
}

/* ---- sweep tables ---- */

/* One row per point: its axis values, then the totals of its result. */
static void sweep_tables(const cs_rep_group *g, const cs_rep_opts *o, cs_buf *out)
{
    table t;
    memset(&t, 0, sizeof t);
    snprintf(t.title, sizeof t.title, "Sweep points (%s)", g->files);
    tcol(&t, "point", "point", "Point", K_INT, 0);
    for (size_t a = 0; a < g->naxes; a++) {
        cs_buf esc;
        cs_buf_init(&esc);
        tex_escape(&esc, g->axes[a]);
        tcol(&t, g->axes[a], NULL, esc.data, K_STR, 0);
        cs_buf_free(&esc);
    }
    size_t c0 = 1 + g->naxes;
    tcol(&t, "cycles", "cycles", "Cycles", K_INT, 0);
    tcol(&t, "time (us)", "time (µs)", "Time ($\\mu$s)", K_SIG, 4);
    tcol(&t, "TOPS", "TOPS", "TOPS", K_SIG, 4);
    tcol(&t, "energy (uJ)", "energy (µJ)", "Energy ($\\mu$J)", K_SIG, 4);
    tcol(&t, "pJ/MAC", "pJ/MAC", "pJ/MAC", K_SIG, 3);
    tcol(&t, "TOPS/W", "TOPS/W", "TOPS/W", K_SIG, 3);
    tcol(&t, "area (mm2)", "area (mm²)", "Area (mm$^2$)", K_SIG, 4);
    tcol(&t, "bound", "bound", "Bound", K_STR, 0);
    bool attr = has_attribution(g);
    if (attr)
        tcol(&t, "top cause", "top cause", "Top cause", K_STR, 0);
    for (size_t i = 0; i < g->nruns; i++) {
        const cs_rep_run *r = &g->runs[i];
        cell *row = trow(&t);
        row[0].v = (double)i;
        for (size_t a = 0; a < g->naxes; a++)
            row[1 + a].s = cs_strdup(a < r->nparams ? r->params[a] : "");
        row[c0].v = r->cycles;
        row[c0 + 1].v = r->seconds * 1e6;
        row[c0 + 2].v = r->tops;
        row[c0 + 3].v = r->energy_pj * 1e-6;
        row[c0 + 4].v = ratio(r->energy_pj, r->macs);
        row[c0 + 5].v = r->tops_per_w;
        row[c0 + 6].v = r->area_mm2;
        row[c0 + 7].s = cs_strdup(worst_bound(r));
        if (attr)
            row[c0 + 8].s = top_cause(r->attribution);
    }
    write_table(o, &t, out);
    tfree(&t);
}

static void compare_tables(const cs_rep_group *g, const cs_rep_opts *o, cs_buf *out)
{
    const cs_rep_run *base = &g->runs[0];
    table t;
    memset(&t, 0, sizeof t);
    snprintf(t.title, sizeof t.title, "Variants against the baseline: %s on %s (%s)",
             base->workload, base->arch, g->files);
    tcol(&t, "variant", "variant", "Variant", K_STR, 0);
    tcol(&t, "cycles", "cycles", "Cycles", K_INT, 0);
    tcol(&t, "time (us)", "time (µs)", "Time ($\\mu$s)", K_SIG, 4);
    tcol(&t, "TOPS", "TOPS", "TOPS", K_SIG, 4);
    tcol(&t, "speedup", "speedup", "Speedup", K_X, 0);
    tcol(&t, "energy (uJ)", "energy (µJ)", "Energy ($\\mu$J)", K_SIG, 4);
    tcol(&t, "energy ratio", "energy ratio", "Energy ratio", K_SIG, 3);
    tcol(&t, "pJ/MAC", "pJ/MAC", "pJ/MAC", K_SIG, 3);
    tcol(&t, "TOPS/W", "TOPS/W", "TOPS/W", K_SIG, 3);
    tcol(&t, "area (mm2)", "area (mm²)", "Area (mm$^2$)", K_SIG, 4);
    tcol(&t, "TOPS/mm2", "TOPS/mm²", "TOPS/mm$^2$", K_SIG, 3);
    tcol(&t, "bound", "bound", "Bound", K_STR, 0);
    bool attr = has_attribution(g);
    if (attr)
        tcol(&t, "top cause", "top cause", "Top cause", K_STR, 0);
    for (size_t i = 0; i < g->nruns; i++) {
        const cs_rep_run *r = &g->runs[i];
        cell *row = trow(&t);
        row[0].s = cs_strdup(r->label);
        row[11].s = cs_strdup(worst_bound(r));
        if (attr)
            row[12].s = top_cause(r->attribution);
        row[1].v = r->cycles;
        row[2].v = r->seconds * 1e6;
        row[3].v = r->tops;
        row[4].v = speedup(base, r);
        row[5].v = r->energy_pj * 1e-6;
        row[6].v = ratio(r->energy_pj, base->energy_pj);
        row[7].v = ratio(r->energy_pj, r->macs);
        row[8].v = r->tops_per_w;
        row[9].v = r->area_mm2;
        row[10].v = r->tops_per_mm2;
    }
    write_table(o, &t, out);
    tfree(&t);

    bool used[CS_EB_COUNT];
    used_categories(g, used);
    memset(&t, 0, sizeof t);
    snprintf(t.title, sizeof t.title, "Energy breakdown (%% of the baseline's energy)");
    tcol(&t, "variant", "variant", "Variant", K_STR, 0);
    int idx[CS_EB_COUNT], nc = 0;
    for (int c = 0; c < CS_EB_COUNT; c++)
        if (used[c]) {
            char tex[64], txt[64];
            snprintf(tex, sizeof tex, "%s (\\%%)", cat_tex[c]);
            snprintf(txt, sizeof txt, "%s %%", cat_txt[c]);
            tcol(&t, txt, txt, tex, K_PCT, 0);
            idx[nc++] = c;
        }
    tcol(&t, "total %", "total %", "Total (\\%)", K_PCT, 0);
    for (size_t i = 0; i < g->nruns; i++) {
        const cs_rep_run *r = &g->runs[i];
        cell *row = trow(&t);
        row[0].s = cs_strdup(r->label);
        for (int c = 0; c < nc; c++)
            row[1 + c].v = ratio(r->breakdown_pj[idx[c]], base->energy_pj);
        row[1 + nc].v = ratio(r->energy_pj, base->energy_pj);
    }
    cs_buf_putc(out, '\n');
    write_table(o, &t, out);
    tfree(&t);
    phase_table(g, o, out);
    attribution_table(g, NULL, o, out);

    if (g->nruns < 2 || g->nruns > MAX_COLS - 4)
        return;
    memset(&t, 0, sizeof t);
    snprintf(t.title, sizeof t.title, "Per-GEMM speedup over the baseline");
    tcol(&t, "gemm", "GEMM", "GEMM", K_STR, 0);
    tcol(&t, "M", "M", "$M$", K_INT, 0);
    tcol(&t, "N", "N", "$N$", K_INT, 0);
    tcol(&t, "K", "K", "$K$", K_INT, 0);
    for (size_t i = 1; i < g->nruns; i++) {
        cs_buf esc;
        cs_buf_init(&esc);
        tex_label(&esc, g->runs[i].label);
        tcol(&t, g->runs[i].label, NULL, esc.data, K_X, 0);
        cs_buf_free(&esc);
    }
    for (size_t j = 0; j < base->ngemms; j++) {
        const cs_rep_gemm *b = &base->gemms[j];
        cell *row = trow(&t);
        row[0].s = cs_strdup(b->name);
        row[1].v = (double)b->m;
        row[2].v = (double)b->n;
        row[3].v = (double)b->k;
        for (size_t i = 1; i < g->nruns; i++) {
            const cs_rep_run *r = &g->runs[i];
            for (size_t k = 0; k < r->ngemms; k++)
                if (base_gemm(base, r, k) == b)
                    row[3 + i].v = ratio(b->seconds, r->gemms[k].seconds);
        }
    }
    t.rule_before = t.nrows;
    cell *row = trow(&t);
    row[0].s = cs_strdup("total");
    for (int c = 1; c <= 3; c++)
        row[c].s = cs_strdup("");
    for (size_t i = 1; i < g->nruns; i++)
        row[3 + i].v = speedup(base, &g->runs[i]);
    cs_buf_putc(out, '\n');
    write_table(o, &t, out);
    tfree(&t);
}

/* ==== provenance ============================================================================== */

/* Lines of provenance without a comment marker; prefix adds one per format. */
static void provenance(const cs_report *rep, const char *prefix, cs_buf *out)
{
    cs_buf_printf(out, "%sreport: cimsim %s: ", prefix, CIMSIM_VERSION);
    for (const char *p = rep->command; *p; p++)
        cs_buf_putc(out, *p == '\n' || *p == '\r' ? ' ' : *p);
    cs_buf_putc(out, '\n');
    for (size_t i = 0; i < rep->ngroups; i++) {
        const cs_rep_group *g = &rep->groups[i];
        for (size_t j = 0; j < g->nruns; j++) {
            const cs_rep_run *r = &g->runs[j];
            cs_buf line;
            cs_buf_init(&line);
            cs_buf_printf(&line, "%s (%s): cimsim %s, config %s, energy table %s v%s, command: %s",
                          r->label, r->file, r->version, r->config_hash, r->energy_table,
                          r->energy_version, r->command);
            cs_buf_puts(out, prefix);
            for (const char *p = line.data; *p; p++) /* a comment: one line, as written */
                cs_buf_putc(out, *p == '\n' || *p == '\r' ? ' ' : *p);
            cs_buf_putc(out, '\n');
            cs_buf_free(&line);
        }
    }
}

/* ==== CSV ===================================================================================== */

static void csv_field(cs_buf *b, const char *s)
{
    if (!strpbrk(s, ",\"\n\r")) {
        cs_buf_puts(b, s);
        return;
    }
    cs_buf_putc(b, '"');
    for (; *s; s++) {
        if (*s == '"')
            cs_buf_putc(b, '"');
        cs_buf_putc(b, *s);
    }
    cs_buf_putc(b, '"');
}

static void csv_num(cs_buf *b, double v)
{
    cs_buf_putc(b, ',');
    if (isfinite(v))
        plain_exact(b, v);
}

static void csv_str(cs_buf *b, const char *s)
{
    cs_buf_putc(b, ',');
    csv_field(b, s);
}

static const char *const csv_gemm_head =
    "file,run,gemm,m,n,k,repeat,cycles,seconds,macs,tops,utilization,bound,energy_pj,"
    "pj_per_mac,speedup";

static void csv_breakdown_head(cs_buf *b)
{
    for (int c = 0; c < CS_EB_COUNT; c++)
        cs_buf_printf(b, ",%s_pj", cs_eb_name(c));
    for (int c = 0; c < CS_CAUSES; c++)
        cs_buf_printf(b, ",%s_cycles", cs_cause_key(c));
    cs_buf_puts(b, ",top_cause");
}

/* The breakdown and attribution columns of a row. */
static void csv_breakdown(cs_buf *b, const double *bd, const double *attr)
{
    for (int c = 0; c < CS_EB_COUNT; c++)
        csv_num(b, bd[c]);
    for (int c = 0; c < CS_CAUSES; c++)
        csv_num(b, attr[c]);
    char *top = top_cause(attr);
    csv_str(b, top);
    cs_free(top);
}

static void csv_gemm_rows(const cs_rep_group *g, const cs_rep_run *r, cs_buf *b)
{
    const cs_rep_run *base = g->compare ? &g->runs[0] : NULL;
    for (size_t i = 0; i <= r->ngemms; i++) {
        bool tot = i == r->ngemms;
        const cs_rep_gemm *x = tot ? NULL : &r->gemms[i];
        csv_field(b, r->file);
        csv_str(b, r->label);
        csv_str(b, tot ? "total" : x->name);
        csv_num(b, tot ? NAN : (double)x->m);
        csv_num(b, tot ? NAN : (double)x->n);
        csv_num(b, tot ? NAN : (double)x->k);
        csv_num(b, tot ? NAN : (double)x->repeat);
        csv_num(b, tot ? r->cycles : x->cycles);
        csv_num(b, tot ? r->seconds : x->seconds);
        csv_num(b, tot ? r->macs : x->macs);
        csv_num(b, tot ? r->tops : x->tops);
        csv_num(b, tot ? ratio(r->tops, r->peak_tops) : x->utilization);
        csv_str(b, tot ? "" : x->bound);
        csv_num(b, tot ? r->energy_pj : x->energy_pj);
        csv_num(b, tot ? ratio(r->energy_pj, r->macs) : ratio(x->energy_pj, x->macs));
        double sp = NAN;
        if (base && tot) {
            sp = speedup(base, r);
        } else if (base) {
            const cs_rep_gemm *bg = base_gemm(base, r, i);
            sp = bg ? ratio(bg->seconds, x->seconds) : NAN;
        }
        csv_num(b, sp);
        csv_breakdown(b, tot ? r->breakdown_pj : x->breakdown_pj, tot ? r->attribution : x->attribution);
        csv_num(b, tot ? NAN : x->dram_read_bytes);
        csv_num(b, tot ? NAN : x->dram_write_bytes);
        cs_buf_putc(b, '\n');
    }
}

/* A sweep: one row per point, its axis values as columns. */
static void csv_sweep(const cs_rep_group *g, cs_buf *out)
{
    cs_buf_puts(out, "file,point");
    for (size_t a = 0; a < g->naxes; a++)
        csv_str(out, g->axes[a]);
    cs_buf_puts(out, ",cycles,seconds,macs,tops,utilization,bound,energy_pj,pj_per_mac,tops_per_w,area_mm2,"
                     "tops_per_mm2");
    csv_breakdown_head(out);
    cs_buf_putc(out, '\n');
    for (size_t i = 0; i < g->nruns; i++) {
        const cs_rep_run *r = &g->runs[i];
        csv_field(out, r->file);
        cs_buf_printf(out, ",%zu", i);
        for (size_t a = 0; a < g->naxes; a++)
            csv_str(out, a < r->nparams ? r->params[a] : "");
        csv_num(out, r->cycles);
        csv_num(out, r->seconds);
        csv_num(out, r->macs);
        csv_num(out, r->tops);
        csv_num(out, ratio(r->tops, r->peak_tops));
        csv_str(out, worst_bound(r));
        csv_num(out, r->energy_pj);
        csv_num(out, ratio(r->energy_pj, r->macs));
        csv_num(out, r->tops_per_w);
        csv_num(out, r->area_mm2);
        csv_num(out, r->tops_per_mm2);
        csv_breakdown(out, r->breakdown_pj, r->attribution);
        cs_buf_putc(out, '\n');
    }
}

static void write_csv(const cs_report *rep, const cs_rep_opts *o, cs_buf *out)
{
    provenance(rep, "# ", out);
    if (rep->groups[0].sweep && !o->per_gemm) {
        csv_sweep(&rep->groups[0], out);
        return;
    }
    bool per_run = rep->groups[0].compare && !o->per_gemm;
    if (per_run) {
        cs_buf_puts(out, "file,run,primitive,level,macros,cycles,seconds,macs,tops,speedup,"
                         "energy_pj,energy_ratio,pj_per_mac,tops_per_w,area_mm2,tops_per_mm2");
        csv_breakdown_head(out);
        cs_buf_putc(out, '\n');
        for (size_t i = 0; i < rep->ngroups; i++) {
            const cs_rep_group *g = &rep->groups[i];
            for (size_t j = 0; j < g->nruns; j++) {
                const cs_rep_run *r = &g->runs[j];
                csv_field(out, r->file);
                csv_str(out, r->label);
                csv_str(out, r->primitive);
                csv_str(out, r->level);
                csv_num(out, r->cim ? (double)r->macros : NAN);
                csv_num(out, r->cycles);
                csv_num(out, r->seconds);
                csv_num(out, r->macs);
                csv_num(out, r->tops);
                csv_num(out, speedup(&g->runs[0], r));
                csv_num(out, r->energy_pj);
                csv_num(out, ratio(r->energy_pj, g->runs[0].energy_pj));
                csv_num(out, ratio(r->energy_pj, r->macs));
                csv_num(out, r->tops_per_w);
                csv_num(out, r->area_mm2);
                csv_num(out, r->tops_per_mm2);
                csv_breakdown(out, r->breakdown_pj, r->attribution);
                cs_buf_putc(out, '\n');
            }
        }
        return;
    }
    cs_buf_puts(out, csv_gemm_head);
    csv_breakdown_head(out);
    cs_buf_puts(out, ",dram_read_bytes,dram_write_bytes\n");
    for (size_t i = 0; i < rep->ngroups; i++)
        for (size_t j = 0; j < rep->groups[i].nruns; j++)
            csv_gemm_rows(&rep->groups[i], &rep->groups[i].runs[j], out);
}

/* ==== JSON ==================================================================================== */

static void json_num(cs_json *j, const char *key, double v)
{
    cs_json_key(j, key);
    if (isfinite(v))
        cs_json_f64(j, v);
    else
        cs_json_null(j);
}

static void json_breakdown(cs_json *j, const double *b)
{
    cs_json_key(j, "energy_breakdown_pj");
    cs_json_obj_begin(j);
    for (int c = 0; c < CS_EB_COUNT; c++)
        json_num(j, cs_eb_name(c), b[c]);
    cs_json_obj_end(j);
}

static void json_attribution(cs_json *j, const double *a)
{
    cs_json_key(j, "attribution");
    cs_json_obj_begin(j);
    for (int c = 0; c < CS_CAUSES; c++)
        json_num(j, cs_cause_key(c), a[c]);
    cs_json_obj_end(j);
}

static void write_json(const cs_report *rep, cs_buf *out)
{
    cs_json j;
    cs_json_init(&j, out, 2);
    cs_json_obj_begin(&j);
    cs_json_kstr(&j, "schema", "cimsim-report/1");
    cs_json_key(&j, "provenance");
    cs_json_obj_begin(&j);
    cs_json_kstr(&j, "cimsim_version", CIMSIM_VERSION);
    cs_json_kstr(&j, "command", rep->command);
    cs_json_obj_end(&j);
    cs_json_key(&j, "groups");
    cs_json_arr_begin(&j);
    for (size_t gi = 0; gi < rep->ngroups; gi++) {
        const cs_rep_group *g = &rep->groups[gi];
        const cs_rep_run *base = g->compare ? &g->runs[0] : NULL;
        cs_json_obj_begin(&j);
        cs_json_kstr(&j, "kind", g->sweep ? "sweep" : g->compare ? "compare" : "result");
        cs_json_kstr(&j, "files", g->files);
        if (g->sweep) {
            cs_json_key(&j, "axes");
            cs_json_arr_begin(&j);
            for (size_t a = 0; a < g->naxes; a++)
                cs_json_str(&j, g->axes[a]);
            cs_json_arr_end(&j);
        }
        cs_json_key(&j, "runs");
        cs_json_arr_begin(&j);
        for (size_t ri = 0; ri < g->nruns; ri++) {
            const cs_rep_run *r = &g->runs[ri];
            cs_json_obj_begin(&j);
            cs_json_kstr(&j, "label", r->label);
            cs_json_kstr(&j, "file", r->file);
            if (g->sweep) {
                cs_json_key(&j, "params");
                cs_json_obj_begin(&j);
                for (size_t a = 0; a < r->nparams; a++)
                    cs_json_kstr(&j, g->axes[a], r->params[a]);
                cs_json_obj_end(&j);
            }
            cs_json_key(&j, "provenance");
            cs_json_obj_begin(&j);
            cs_json_kstr(&j, "cimsim_version", r->version);
            cs_json_kstr(&j, "config_hash", r->config_hash);
            cs_json_kstr(&j, "energy_table", r->energy_table);
            cs_json_kstr(&j, "energy_table_version", r->energy_version);
            cs_json_kstr(&j, "command", r->command);
            cs_json_obj_end(&j);
            cs_json_kstr(&j, "arch", r->arch);
            cs_json_kstr(&j, "workload", r->workload);
            cs_json_key(&j, "cim");
            if (r->cim) {
                cs_json_obj_begin(&j);
                cs_json_kstr(&j, "primitive", r->primitive);
                cs_json_kstr(&j, "level", r->level);
                cs_json_key(&j, "macros");
                cs_json_i64(&j, r->macros);
                cs_json_obj_end(&j);
            } else {
                cs_json_null(&j);
            }
            cs_json_key(&j, "total");
            cs_json_obj_begin(&j);
            json_num(&j, "cycles", r->cycles);
            json_num(&j, "seconds", r->seconds);
            json_num(&j, "macs", r->macs);
            json_num(&j, "tops", r->tops);
            json_num(&j, "utilization", ratio(r->tops, r->peak_tops));
            json_num(&j, "energy_pj", r->energy_pj);
            json_num(&j, "pj_per_mac", ratio(r->energy_pj, r->macs));
            json_num(&j, "tops_per_w", r->tops_per_w);
            json_num(&j, "area_mm2", r->area_mm2);
            json_num(&j, "tops_per_mm2", r->tops_per_mm2);
            json_num(&j, "speedup", base ? speedup(base, r) : NAN);
            json_num(&j, "energy_ratio", base ? ratio(r->energy_pj, base->energy_pj) : NAN);
            json_breakdown(&j, r->breakdown_pj);
            json_attribution(&j, r->attribution);
            cs_json_obj_end(&j);
            cs_json_key(&j, "gemms");
            cs_json_arr_begin(&j);
            for (size_t k = 0; k < r->ngemms; k++) {
                const cs_rep_gemm *x = &r->gemms[k];
                const cs_rep_gemm *bg = base ? base_gemm(base, r, k) : NULL;
                double dram = x->dram_read_bytes + x->dram_write_bytes;
                cs_json_obj_begin(&j);
                cs_json_kstr(&j, "name", x->name);
                cs_json_key(&j, "m");
                cs_json_i64(&j, x->m);
                cs_json_key(&j, "n");
                cs_json_i64(&j, x->n);
                cs_json_key(&j, "k");
                cs_json_i64(&j, x->k);
                json_num(&j, "cycles", x->cycles);
                json_num(&j, "seconds", x->seconds);
                json_num(&j, "macs", x->macs);
                json_num(&j, "tops", x->tops);
                json_num(&j, "utilization", x->utilization);
                cs_json_kstr(&j, "bound", x->bound);
                json_num(&j, "energy_pj", x->energy_pj);
                json_num(&j, "pj_per_mac", ratio(x->energy_pj, x->macs));
                json_num(&j, "dram_bytes", dram);
                json_num(&j, "macs_per_dram_byte", ratio(x->macs, dram));
                json_num(&j, "speedup", bg ? ratio(bg->seconds, x->seconds) : NAN);
                json_breakdown(&j, x->breakdown_pj);
                json_attribution(&j, x->attribution);
                cs_json_obj_end(&j);
            }
            cs_json_arr_end(&j);
            cs_json_obj_end(&j);
        }
        cs_json_arr_end(&j);
        cs_json_obj_end(&j);
    }
    cs_json_arr_end(&j);
    cs_json_obj_end(&j);
    cs_buf_putc(out, '\n');
}

/* ==== entry =================================================================================== */

static void tex_preamble(cs_buf *out)
{
    cs_buf_puts(out, "\\documentclass{article}\n"
                     "\\usepackage{booktabs}\n"
                     "\\usepackage{graphicx}\n"
                     "\\usepackage[margin=1.5cm,landscape]{geometry}\n"
                     "\\begin{document}\n\\small\n");
}

cs_status cs_report_write(const cs_report *rep, const cs_rep_opts *opts, cs_buf *out, cs_err *err)
{
    cs_rep_format f = opts->format;
    (void)err;
    if (f == CS_REP_JSON) {
        write_json(rep, out);
        return CS_OK;
    }
    if (f == CS_REP_CSV) {
        write_csv(rep, opts, out);
        return CS_OK;
    }
    if (f == CS_REP_MD) {
        cs_buf_puts(out, "<!--\n");
        provenance(rep, "", out);
        cs_buf_puts(out, "-->\n\n");
    } else if (f == CS_REP_TEX) {
        if (opts->standalone)
            tex_preamble(out);
        provenance(rep, "% ", out);
    } else {
        provenance(rep, "", out);
    }
    for (size_t i = 0; i < rep->ngroups; i++) {
        const cs_rep_group *g = &rep->groups[i];
        cs_buf_putc(out, '\n');
        if (g->sweep) {
            sweep_tables(g, opts, out);
        } else if (g->compare) {
            compare_tables(g, opts, out);
        } else {
            result_tables(g, &g->runs[0], opts, out);
        }
    }
    if (f == CS_REP_TEX && opts->standalone)
        cs_buf_puts(out, "\\end{document}\n");
    return CS_OK;
}

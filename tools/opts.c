/* opts — shared option parsing and loading. */
#include "opts.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "timeloop.h"

void cs_opts_init(cs_opts *o, const char *sub, int argc, char **argv)
{
    memset(o, 0, sizeof *o);
    o->sub = sub;
    o->dtype = -1;
    o->threads = 0;
    cs_cim_request_init(&o->cim_req);
    size_t n = 0;
    o->command[0] = '\0';
    for (int i = 0; i < argc && n + 2 < sizeof o->command; i++) {
        int w = snprintf(o->command + n, sizeof o->command - n, "%s%s", i ? " " : "cimsim ", argv[i]);
        if (w < 0)
            break;
        n += (size_t)w;
    }
    if (n >= sizeof o->command)
        o->command[sizeof o->command - 1] = '\0';
}

/* A bad option value: printed as a usage error, or kept in o->error when the caller collects
 * errors (the sweep, which cites its spec file). Returns 2. */
static int bad(cs_opts *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(cs_opts *o, const char *fmt, ...)
{
    char msg[sizeof o->error];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (o->collect) {
        memcpy(o->error, msg, sizeof msg);
        return 2;
    }
    return cs_cli_usage_error(o->sub, "%s", msg);
}

/* Parses a positive integer option value. */
static int positive(cs_opts *o, const char *opt, const char *arg, uint32_t max, uint32_t *out)
{
    char *end;
    unsigned long v = strtoul(arg, &end, 10);
    if (!*arg || *end || v < 1 || v > max)
        return bad(o, "%s: must be an integer between 1 and %u (got \"%s\")", opt, max, arg);
    *out = (uint32_t)v;
    return 1;
}

int cs_opts_handle(cs_opts *o, int opt, const char *arg)
{
    uint32_t v;
    switch (opt) {
    case 'a':
        o->arch = arg;
        return 1;
    case 'w':
        o->workload = arg;
        return 1;
    case 'o':
        o->out = arg;
        return 1;
    case 'q':
        o->quiet = true;
        return 1;
    case 'j':
        if (positive(o, "--jobs", arg, 1024, &v) != 1)
            return 2;
        o->threads = (int)v;
        return 1;
    case CS_OPT_SET:
        if (o->nsets == CS_OPTS_MAX_SETS)
            return bad(o, "--set: at most %d overrides", CS_OPTS_MAX_SETS);
        if (!strchr(arg, '='))
            return bad(o, "--set: expected KEY=VALUE (got \"%s\")", arg);
        o->sets[o->nsets++] = arg;
        return 1;
    case CS_OPT_DTYPE:
        if (strcmp(arg, "int8") == 0)
            o->dtype = CS_DTYPE_INT8;
        else if (strcmp(arg, "fp16") == 0)
            o->dtype = CS_DTYPE_FP16;
        else
            return bad(o, "--dtype: must be int8 or fp16 (got \"%s\")", arg);
        return 1;
    case CS_OPT_ENERGY:
        o->energy = arg;
        return 1;
    case CS_OPT_TILE: {
        unsigned m, n, k;
        char tail;
        if (sscanf(arg, "%ux%ux%u%c", &m, &n, &k, &tail) != 3 || !m || !n || !k || m > 4096 || n > 4096 ||
            k > 4096)
            return bad(o, "--tile: expected MxNxK with each in 1..4096 (got \"%s\")", arg);
        o->tc.cta_m = m;
        o->tc.cta_n = n;
        o->tc.cta_k_bytes = k; /* elements; converted to bytes once the data type is known */
        return 1;
    }
    case CS_OPT_STAGES:
        if (positive(o, "--stages", arg, 16, &v) != 1)
            return 2;
        o->tc.stages = v;
        return 1;
    case CS_OPT_SPLITK:
        if (positive(o, "--split-k", arg, 1024, &v) != 1)
            return 2;
        o->tc.split_k = v;
        return 1;
    case CS_OPT_CIM:
        if (strcmp(arg, "none") == 0) { /* the tensor-core baseline, as in a sweep's cim axis */
            o->cim = NULL;
            return 1;
        }
        if (!strchr(arg, '@'))
            return bad(o, "--cim: expected PRIMITIVE@LEVEL, e.g. analog6T@rf (got \"%s\")", arg);
        o->cim = arg;
        return 1;
    case CS_OPT_MACROS:
        o->macros = arg;
        return 1;
    case CS_OPT_MAPPING:
        o->mapping_given = true;
        o->cim_req.spec = NULL;
        if (strcmp(arg, "auto") == 0)
            o->cim_req.mode = CS_CIM_MAP_AUTO;
        else if (strcmp(arg, "www") == 0)
            o->cim_req.mode = CS_CIM_MAP_WWW;
        else if (strncmp(arg, "timeloop:", 9) == 0 && arg[9]) {
            cs_err err;
            cs_err_init(&err);
            if (cs_timeloop_read(arg + 9, &o->nest_spec, &err) != CS_OK) {
                if (o->collect)
                    return bad(o, "%s", err.msg[0]);
                return cs_cli_report(&err);
            }
            o->cim_req.mode = CS_CIM_MAP_TIMELOOP;
            o->cim_req.spec = &o->nest_spec;
        } else
            return bad(o, "--mapping: must be auto, www or timeloop:MAP.yaml (got \"%s\")", arg);
        return 1;
    case CS_OPT_COMPAT:
        if (!cs_compat_profile(arg))
            return bad(o, "--compat: must be www (got \"%s\")", arg);
        o->compat = arg;
        if (!o->mapping_given) /* the auto mapper's dataflow is cimsim's own: the study's algorithm */
            o->cim_req.mode = CS_CIM_MAP_WWW;
        return 1;
    case CS_OPT_GOAL:
        if (strcmp(arg, "cycles") == 0)
            o->cim_req.goal = CS_CIM_GOAL_CYCLES;
        else if (strcmp(arg, "energy") == 0)
            o->cim_req.goal = CS_CIM_GOAL_ENERGY;
        else if (strcmp(arg, "edp") == 0)
            o->cim_req.goal = CS_CIM_GOAL_EDP;
        else
            return bad(o, "--goal: must be cycles, energy or edp (got \"%s\")", arg);
        return 1;
    case CS_OPT_DUP:
        if (positive(o, "--dup", arg, 65535, &v) != 1)
            return 2;
        o->cim_req.dup = v;
        return 1;
    case CS_OPT_ORDER:
        if (strcmp(arg, "ws") == 0)
            o->cim_req.order = CS_CIM_WS;
        else if (strcmp(arg, "os") == 0)
            o->cim_req.order = CS_CIM_OS;
        else
            return bad(o, "--order: must be ws or os (got \"%s\")", arg);
        return 1;
    case CS_OPT_CANDIDATES:
        if (positive(o, "--candidates", arg, CS_CIM_CANDIDATES_MAX, &v) != 1)
            return 2;
        o->cim_req.candidates = v;
        return 1;
    case CS_OPT_DB:
        if (strcmp(arg, "on") == 0)
            o->cim_req.double_buffer = 1;
        else if (strcmp(arg, "off") == 0)
            o->cim_req.double_buffer = 0;
        else
            return bad(o, "--double-buffer: must be on or off (got \"%s\")", arg);
        return 1;
    default:
        return 0;
    }
}

cs_status cs_opts_load_arch(const cs_opts *o, cs_arch_doc **out, cs_err *err)
{
    /* a --compat profile first, so that --set can switch one of its conventions back */
    const char *sets[2 * CS_OPTS_MAX_SETS];
    int n = 0;
    for (const char *const *p = o->compat ? cs_compat_profile(o->compat) : NULL; p && *p; p++)
        sets[n++] = *p;
    int profile = n;
    for (int i = 0; i < o->nsets; i++) /* a primitive's keys go to the placement */
        if (!cs_cim_prim_set_key(o->sets[i]))
            sets[n++] = o->sets[i];
    cs_status st = cs_arch_load(o->arch, sets, n, out, err);
    if (st == CS_OK)
        cs_arch_doc_note_overrides(*out, sets + profile, n - profile);
    return st;
}

cs_status cs_opts_load_workload(const cs_opts *o, const char *dflt, cs_workload **out, cs_err *err)
{
    return cs_workload_load(o->workload ? o->workload : dflt, out, err);
}

cs_status cs_opts_load_energy(const cs_opts *o, const cs_arch *a, cs_energy_table **out, cs_err *err)
{
    return cs_energy_table_load(o->energy ? o->energy : a->energy.table, out, err);
}

cs_status cs_inputs_load(const cs_opts *o, cs_inputs *in, cs_err *err)
{
    cs_status st = cs_opts_load_arch(o, &in->ad, err);
    if (st == CS_OK)
        st = cs_opts_load_workload(o, "bert-large", &in->w, err);
    if (st == CS_OK)
        st = cs_opts_load_energy(o, &in->ad->arch, &in->et, err);
    return st;
}

void cs_opts_size_note(const cs_opts *o, const cs_workload *w, size_t variants)
{
    double macs = (double)cs_workload_macs(w) * (double)variants;
    size_t tasks = w->count * variants; /* threads share out (variant, GEMM) pairs */
    int threads = (size_t)cs_opts_threads(o) < tasks ? cs_opts_threads(o) : (int)tasks;
    double hours = macs / CS_OPTS_SIM_MACS_PER_SECOND / threads / 3600;
    if (o->quiet || hours < 0.25)
        return;
    fprintf(stderr, "cimsim %s: note: %s holds %.3g MACs%s; cycle-level simulation handles roughly "
                    "%.0e MACs per second per thread, so this takes about %.2g hours on %d thread(s) "
                    "(docs/limits.md; -q hides this note)\n",
            o->sub, w->name, macs, variants > 1 ? " over all variants" : "",
            (double)CS_OPTS_SIM_MACS_PER_SECOND, hours, threads);
}

void cs_inputs_free(cs_inputs *in)
{
    cs_energy_table_destroy(in->et);
    cs_workload_destroy(in->w);
    cs_arch_doc_destroy(in->ad);
    *in = (cs_inputs){0};
}

cs_status cs_opts_load_placement(const cs_opts *o, const cs_arch *a, cs_placement *out, bool *has, cs_err *err)
{
    *has = false;
    if (!o->cim) {
        if (o->macros)
            return cs_err_add(err, CS_USAGE, "cimsim %s: error: --macros needs --cim", o->sub);
        for (int i = 0; i < o->nsets; i++)
            if (cs_cim_prim_set_key(o->sets[i]))
                return cs_err_add(err, CS_USAGE, "cimsim %s: error: --set %s: a CiM primitive key needs --cim",
                                  o->sub, o->sets[i]);
        return CS_OK;
    }
    cs_status st = cs_placement_parse_sets(a, o->cim, o->macros, o->sets, o->nsets, out, err);
    *has = st == CS_OK;
    return st;
}

/* -j N, capped at the processors online: a thread beyond them does not run sooner, it only
 * holds one more simulated GPU in memory (-j 1024 on 2 cores held 52 GPUs, 1.3 GB). The pool
 * caps it again at the work available. Results do not depend on the count. */
int cs_opts_threads(const cs_opts *o)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    int cores = n > 0 ? (int)n : 1;
    return o->threads > 0 && o->threads < cores ? o->threads : cores;
}

static void print_progress(size_t done, size_t total, const char *gemm, const char *primitive)
{
    fprintf(stderr, "\r\033[K[%zu/%zu] %s%s%s", done, total, gemm, primitive ? " on " : "", primitive ? primitive : "");
    if (done == total)
        fputc('\n', stderr);
    fflush(stderr);
}

cs_run_progress_fn cs_opts_progress(const cs_opts *o)
{
    return !o->quiet && isatty(STDERR_FILENO) ? print_progress : NULL;
}

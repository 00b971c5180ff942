/* trace_run — record and replay. Metadata keys (docs/trace-format.md, "cimsim metadata"):
 * gemm.name gemm.m gemm.n gemm.k dtype arch.name mapping.kind mapping.summary mapping.ctas
 * mapping.details, and with CiM: cim.spec cim.macros cim.mode cim.goal cim.dup cim.order
 * cim.double_buffer. */
#include "trace_run.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "cli.h"
#include "cmd_run.h"
#include "show.h"
#include "trace.h"

enum { MAX_KV = 24 };

typedef struct kvs {
    cs_trace_kv kv[MAX_KV];
    char val[MAX_KV][4200];
    uint32_t n;
} kvs;

static void put(kvs *k, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void put(kvs *k, const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(k->val[k->n], sizeof k->val[k->n], fmt, ap);
    va_end(ap);
    k->kv[k->n].key = key;
    k->kv[k->n].value = k->val[k->n];
    k->n++;
}

static const char *get(const cs_trace_meta *m, const char *key)
{
    for (uint32_t i = 0; i < m->nkv; i++)
        if (strcmp(m->kv[i].key, key) == 0)
            return m->kv[i].value;
    return NULL;
}

int cs_trace_record_cmd(cs_opts *o, const char *gemm_name, const char *path)
{
    cs_err err;
    cs_err_init(&err);
    cs_inputs in = {0};
    cs_placement pl;
    bool has_pl = false;
    cs_opsrc *src = NULL;
    cs_trace_writer *tw = NULL;
    int rc = 0;
    if (cs_inputs_load(o, &in, &err) != CS_OK ||
        cs_opts_load_placement(o, &in.ad->arch, &pl, &has_pl, &err) != CS_OK) {
        rc = cs_cli_report(&err);
        goto out;
    }
    const cs_gemm *g = NULL;
    if (!gemm_name && in.w->count > 1) {
        rc = cs_cli_usage_error("trace record", "the workload has %zu GEMMs: choose one with --gemm NAME", in.w->count);
        goto out;
    }
    for (size_t i = 0; i < in.w->count && !g; i++)
        if (!gemm_name || strcmp(in.w->gemms[i].name, gemm_name) == 0)
            g = &in.w->gemms[i];
    if (!g) {
        rc = cs_cli_usage_error("trace record", "no GEMM named '%s' in the workload", gemm_name);
        goto out;
    }
    if (g->repeat != 1) {
        rc = cs_cli_usage_error("trace record", "%s has repeat %llu: a trace holds one execution (repeat 1)", g->name,
                                (unsigned long long)g->repeat);
        goto out;
    }
    int dtype = o->dtype >= 0 ? o->dtype : in.ad->arch.run.dtype;
    kvs k = {0};
    put(&k, "gemm.name", "%s", g->name);
    put(&k, "gemm.m", "%" PRIu64, g->m);
    put(&k, "gemm.n", "%" PRIu64, g->n);
    put(&k, "gemm.k", "%" PRIu64, g->k);
    put(&k, "dtype", "%s", cs_dtype_name(dtype));
    put(&k, "arch.name", "%s", in.ad->arch.name);
    cs_gemm_layout lay = cs_run_layout(g, dtype, 0);
    cs_status st;
    if (has_pl) {
        cs_run_cim rc_cim;
        cs_energy_table *cet = cs_energy_table_clone(in.et);
        cs_placement_energy(&pl, &in.ad->arch, cet);
        cs_run_cim_setup(&pl, &in.ad->arch, cet, &rc_cim);
        cs_cim_mapping cm;
        cs_run_opts ro; /* the mapping run would choose: its candidates simulated */
        cs_run_opts_init(&ro);
        ro.dtype = dtype;
        ro.cim = &pl;
        ro.cim_req = o->cim_req;
        char mjson[4096];
        st = cs_run_cim_choose(in.ad, g, in.et, &ro, &cm, mjson, sizeof mjson, &err);
        if (st == CS_OK) {
            cs_target t = cs_arch_target(&rc_cim.arch);
            st = cs_cim_opsrc_create(&t, &rc_cim.target, g, &cm, &lay, 0, &src, &err);
            char sum[200];
            cs_cim_mapping_str(&cm, sum, sizeof sum);
            put(&k, "mapping.kind", "cim");
            put(&k, "mapping.summary", "%s", sum);
            put(&k, "mapping.ctas", "0");
            put(&k, "mapping.details", "%s", mjson);
            put(&k, "mapping.macros_used", "%" PRIu64, cs_cim_mapping_macros_used(&cm));
            put(&k, "cim.spec", "%s", o->cim);
            put(&k, "cim.macros", "%s", o->macros ? o->macros : "iso-area");
            put(&k, "cim.mode", "%d", o->cim_req.mode);
            put(&k, "cim.goal", "%d", o->cim_req.goal);
        }
        cs_energy_table_destroy(cet);
    } else if (in.ad->arch.compat.baseline == CS_COMPAT_PE_ARRAY) { /* the study's PE array */
        const cs_arch *a = &in.ad->arch;
        cs_target t = cs_arch_target(a);
        cs_nest_hw hw;
        cs_nest_plan pe;
        st = cs_compat_pe_plan(&a->compat, &t, (uint32_t)a->tc.mma_n, (uint32_t)(a->tc.mma_k_bytes / cs_dtype_bytes(dtype)),
                               g, dtype, o->cim_req.spec, &hw, &pe, &err);
        if (st == CS_OK) {
            st = cs_nest_opsrc_create(&t, &hw, &pe, g, &lay, 0, &src, &err);
            char sum[200];
            cs_nest_plan_str(&pe, o->cim_req.spec ? "timeloop" : "pe", sum, sizeof sum);
            cs_buf mj;
            cs_buf_init(&mj);
            cs_json pj;
            cs_json_init(&pj, &mj, 0);
            cs_nest_plan_json(&pe, &pj);
            put(&k, "mapping.kind", "pe_array");
            put(&k, "mapping.summary", "%s", sum);
            put(&k, "mapping.ctas", "0");
            put(&k, "mapping.details", "%s", mj.data);
            cs_buf_free(&mj);
        }
    } else {
        cs_tc_tiling tl;
        st = cs_run_tiling(&in.ad->arch, g, dtype, &o->tc, &tl, &err);
        if (st == CS_OK) {
            cs_target t = cs_arch_target(&in.ad->arch);
            st = cs_tc_opsrc_create(&t, g, &tl, &lay, &src, &err);
            char sum[200];
            cs_tc_tiling_str(&tl, dtype, sum, sizeof sum);
            put(&k, "mapping.kind", "tensor_core");
            put(&k, "mapping.summary", "%s", sum);
            put(&k, "mapping.ctas", "%" PRIu64, cs_tc_ctas(g, &tl, dtype));
        }
    }
    if (st != CS_OK) {
        rc = cs_cli_report(&err);
        goto out;
    }
    cs_trace_meta meta = {.producer = "cimsim trace record", .arch = in.ad->arch.name, .workload = in.w->name,
                          .mapping = k.val[k.n - 1], .kv = k.kv, .nkv = k.n, .nstreams = src->nstreams,
                          .streams = src->streams};
    for (uint32_t i = 0; i < k.n; i++)
        if (strcmp(k.kv[i].key, "mapping.summary") == 0)
            meta.mapping = k.val[i];
    if (cs_trace_writer_create(path, &meta, NULL, &tw, &err) != CS_OK) {
        rc = cs_cli_report(&err);
        goto out;
    }
    /* streams one after another: the writer's memory is bounded by its chunk buffers */
    for (uint32_t s = 0; s < src->nstreams && st == CS_OK; s++)
        for (;;) {
            cs_op op;
            bool eof;
            if ((st = cs_opsrc_next(src, s, &op, &eof, &err)) != CS_OK || eof)
                break;
            if ((st = cs_trace_write(tw, s, &op, &err)) != CS_OK)
                break;
        }
    if (st != CS_OK) {
        cs_trace_writer_abort(tw);
        tw = NULL;
        rc = cs_cli_report(&err);
        goto out;
    }
    st = cs_trace_writer_finish(tw, &err);
    tw = NULL;
    if (st != CS_OK)
        rc = cs_cli_report(&err);
out:
    cs_opsrc_destroy(src);
    if (has_pl)
        cs_placement_free(&pl);
    cs_inputs_free(&in);
    return rc;
}

/* The replay's op source: the trace itself, reopened for each execution. */
static cs_status open_src(void *ctx, size_t gemm, uint64_t repeat, cs_opsrc **out, cs_err *err)
{
    (void)gemm;
    (void)repeat;
    cs_trace_reader *r = NULL;
    cs_status st = cs_trace_open(ctx, &r, err);
    if (st == CS_OK)
        *out = cs_trace_reader_src(r);
    return st;
}

static bool number(const char *s, uint64_t *v)
{
    char *end;
    if (!s || !*s)
        return false;
    *v = strtoull(s, &end, 10);
    return !*end;
}

int cs_trace_replay_cmd(cs_opts *o, const char *path)
{
    cs_err err;
    cs_err_init(&err);
    cs_trace_reader *tr = NULL;
    if (cs_trace_open(path, &tr, &err) != CS_OK)
        return cs_cli_report(&err);
    const cs_trace_meta *m = cs_trace_reader_meta(tr);
    cs_gemm g = {.repeat = 1};
    uint64_t ctas = 0, used = 0;
    const char *name = get(m, "gemm.name"), *dt = get(m, "dtype"), *kind = get(m, "mapping.kind");
    if (!name || !number(get(m, "gemm.m"), &g.m) || !number(get(m, "gemm.n"), &g.n) ||
        !number(get(m, "gemm.k"), &g.k) || !dt || !kind || !number(get(m, "mapping.ctas"), &ctas) || !g.m || !g.n ||
        !g.k || strlen(name) >= sizeof g.name) {
        cs_trace_close(tr);
        return cs_cli_report(&(cs_err){.status = CS_FORMAT, .count = 1,
                                        .msg = {"run --trace: error: the trace lacks the cimsim metadata of a GEMM "
                                                "(record it with `cimsim trace record`)"}});
    }
    snprintf(g.name, sizeof g.name, "%s", name);
    char kind_buf[32];
    snprintf(kind_buf, sizeof kind_buf, "%s", kind); /* the metadata goes with the reader */
    number(get(m, "mapping.macros_used"), &used);
    char summary[200], details[4200], cim_spec[600] = "", cim_macros[64] = "";
    snprintf(summary, sizeof summary, "%s", get(m, "mapping.summary") ? get(m, "mapping.summary") : "");
    snprintf(details, sizeof details, "%s", get(m, "mapping.details") ? get(m, "mapping.details") : "");
    if (get(m, "cim.spec")) {
        snprintf(cim_spec, sizeof cim_spec, "%s", get(m, "cim.spec"));
        snprintf(cim_macros, sizeof cim_macros, "%s", get(m, "cim.macros") ? get(m, "cim.macros") : "iso-area");
        uint64_t mode = 0, goal = 0;
        number(get(m, "cim.mode"), &mode);
        number(get(m, "cim.goal"), &goal);
        o->cim_req.mode = (int)mode;
        o->cim_req.goal = (int)goal;
    }
    char arch_name[160], wname[160];
    snprintf(arch_name, sizeof arch_name, "%s", m->arch ? m->arch : "");
    snprintf(wname, sizeof wname, "%s", m->workload && *m->workload ? m->workload : g.name);
    int dtype = strcmp(dt, "fp16") == 0 ? CS_DTYPE_FP16 : CS_DTYPE_INT8;
    cs_trace_close(tr);
    if (o->dtype >= 0 && o->dtype != dtype)
        return cs_cli_usage_error("run", "--trace: the trace was recorded with --dtype %s; --dtype %s does not apply",
                                  cs_dtype_name(dtype), cs_dtype_name(o->dtype));

    cs_arch_doc *ad = NULL;
    cs_energy_table *et = NULL;
    cs_placement pl;
    bool has_pl = false;
    cs_result *r = NULL;
    int rc = 0;
    if (cs_opts_load_arch(o, &ad, &err) != CS_OK || cs_opts_load_energy(o, &ad->arch, &et, &err) != CS_OK) {
        rc = cs_cli_report(&err);
        goto out;
    }
    if (strcmp(arch_name, ad->arch.name) != 0) {
        rc = cs_cli_usage_error("run", "--trace: the trace was recorded for architecture '%s', not '%s' (give -a)",
                                arch_name, ad->arch.name);
        goto out;
    }
    if (cim_spec[0]) {
        if (cs_placement_parse_sets(&ad->arch, cim_spec, cim_macros, o->sets, o->nsets, &pl, &err) != CS_OK) {
            rc = cs_cli_report(&err);
            goto out;
        }
        has_pl = true;
    }
    cs_workload w = {.name = wname, .source = (char *)path, .gemms = &g, .count = 1};
    cs_run_opts ro;
    cs_run_opts_init(&ro);
    ro.dtype = dtype;
    ro.command = o->command;
    ro.progress = cs_opts_progress(o);
    ro.factory = open_src;
    ro.factory_ctx = (void *)path;
    ro.mapping_kind = kind_buf;
    ro.mapping_note = summary;
    ro.mapping_ctas = ctas;
    ro.mapping_json = details[0] ? details : NULL;
    ro.mapping_macros_used = used;
    ro.cim = has_pl ? &pl : NULL;
    ro.cim_req = o->cim_req;
    if (cs_run(ad, &w, et, &ro, &r, &err) != CS_OK) {
        rc = cs_cli_report(&err);
        goto out;
    }
    cs_show_result(cs_cli_output_is_stdout(o->out) ? stderr : stdout, r);
    if (o->out)
        rc = cs_write_result(o->out, r, &err) ? cs_cli_report(&err) : 0;
out:
    cs_result_destroy(r);
    if (has_pl)
        cs_placement_free(&pl);
    cs_energy_table_destroy(et);
    cs_arch_doc_destroy(ad);
    return rc;
}

/* result — totals and JSON. Energies are sums of quantised figures (energy.h), so every total
 * equals the sum of its parts exactly. */
#include "result.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "op.h"

void cs_result_finish(cs_result *r)
{
    r->cycles = r->macs = 0;
    r->seconds = r->energy_pj = 0;
    memset(r->breakdown_pj, 0, sizeof r->breakdown_pj);
    memset(r->level_pj, 0, sizeof r->level_pj);
    memset(r->attribution, 0, sizeof r->attribution);
    for (size_t i = 0; i < r->ngemms; i++) {
        const cs_gemm_result *g = &r->gemms[i];
        r->cycles += g->cycles;
        for (int c = 0; c < CS_CAUSES; c++)
            r->attribution[c] += g->attribution[c];
        r->macs += g->macs;
        for (int b = 0; b < CS_EB_COUNT; b++)
            r->breakdown_pj[b] += g->energy.breakdown_pj[b];
        for (int l = 0; l < CS_EL_COUNT; l++)
            r->level_pj[l] += g->energy.level_pj[l];
    }
    for (int b = 0; b < CS_EB_COUNT; b++)
        r->energy_pj += r->breakdown_pj[b];
    r->seconds = (double)r->cycles / r->clock_hz;
    r->tops = r->seconds > 0 ? 2.0 * (double)r->macs / r->seconds / 1e12 : 0;
    r->tops_per_w = r->energy_pj > 0 ? 2.0 * (double)r->macs / (r->energy_pj * 1e-12) / 1e12 : 0;
    r->tops_per_mm2 = r->area_mm2 > 0 ? r->tops / r->area_mm2 : 0;
}

void cs_result_destroy(cs_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->ngemms; i++) {
        cs_energy_report_free(&r->gemms[i].energy);
        cs_free(r->gemms[i].stats_text);
    }
    cs_free(r->gemms);
    cs_free(r->cim);
    cs_free(r);
}

static void energy_maps(cs_json *j, const double *breakdown, const double *level)
{
    cs_json_key(j, "energy_breakdown_pj");
    cs_json_obj_begin(j);
    for (int b = 0; b < CS_EB_COUNT; b++)
        cs_json_kf64(j, cs_eb_name(b), breakdown[b]);
    cs_json_obj_end(j);
    cs_json_key(j, "energy_by_level_pj");
    cs_json_obj_begin(j);
    for (int l = 0; l < CS_EL_COUNT; l++)
        cs_json_kf64(j, cs_el_name(l), level[l]);
    cs_json_obj_end(j);
}

static void attribution_json(cs_json *j, const uint64_t *cycles)
{
    cs_json_key(j, "attribution");
    cs_json_obj_begin(j);
    for (int c = 0; c < CS_CAUSES; c++)
        cs_json_ku64(j, cs_cause_key(c), cycles[c]);
    cs_json_obj_end(j);
}

static void gemm_json(cs_json *j, const cs_gemm_result *g)
{
    cs_json_obj_begin(j);
    cs_json_kstr(j, "name", g->gemm.name);
    cs_json_ku64(j, "m", g->gemm.m);
    cs_json_ku64(j, "n", g->gemm.n);
    cs_json_ku64(j, "k", g->gemm.k);
    cs_json_ku64(j, "repeat", g->gemm.repeat);
    cs_json_ku64(j, "cycles", g->cycles);
    cs_json_kf64(j, "seconds", g->seconds);
    cs_json_ku64(j, "macs", g->macs);
    cs_json_kf64(j, "tops", g->tops);
    cs_json_kf64(j, "utilization", g->utilization);
    cs_json_kstr(j, "bound", g->bound);
    cs_json_key(j, "bounds_cycles");
    cs_json_obj_begin(j);
    cs_json_ku64(j, "compute", g->bound_compute);
    cs_json_ku64(j, "dram", g->bound_dram);
    cs_json_ku64(j, "l2", g->bound_l2);
    cs_json_ku64(j, "cim_write", g->bound_cim_write);
    cs_json_ku64(j, "inputs", g->bound_inputs);
    cs_json_ku64(j, "psum", g->bound_psum);
    cs_json_ku64(j, "achieved", g->cycles);
    cs_json_obj_end(j);
    attribution_json(j, g->attribution);
    cs_json_kstr(j, "top_cause", g->top_cause);
    cs_json_key(j, "mapping");
    cs_json_obj_begin(j);
    cs_json_kstr(j, "kind", g->mapping_kind);
    cs_json_kstr(j, "summary", g->mapping);
    cs_json_ku64(j, "ctas", g->ctas);
    if (g->mapping_json[0]) {
        cs_json_key(j, "details");
        cs_json_raw(j, g->mapping_json);
    }
    cs_json_obj_end(j);
    const cs_gpu_totals *t = &g->tot;
    cs_json_key(j, "bytes");
    cs_json_obj_begin(j);
    cs_json_ku64(j, "dram_read", t->dram_bytes_read);
    cs_json_ku64(j, "dram_write", t->dram_bytes_written);
    cs_json_ku64(j, "l2_read", t->l2_bytes_out);
    cs_json_ku64(j, "l2_write", t->l2_bytes_in);
    cs_json_ku64(j, "smem_read", t->smem_read * 32);
    cs_json_ku64(j, "smem_write", t->smem_write * 32);
    cs_json_ku64(j, "rf_read", t->rf_read * 4);
    cs_json_ku64(j, "rf_write", t->rf_write * 4);
    cs_json_ku64(j, "noc", t->noc_bytes);
    cs_json_obj_end(j);
    cs_json_key(j, "accesses");
    cs_access_json(t->access, j);
    cs_json_kf64(j, "energy_pj", g->energy.total_pj);
    energy_maps(j, g->energy.breakdown_pj, g->energy.level_pj);
    cs_json_key(j, "counts");
    cs_json_obj_begin(j);
    for (size_t i = 0; i < g->energy.nitems; i++) {
        char key[80];
        snprintf(key, sizeof key, "%s.%s", g->energy.items[i].cls, g->energy.items[i].action);
        cs_json_ku64(j, key, g->energy.items[i].count);
    }
    cs_json_obj_end(j);
    cs_json_obj_end(j);
}

static void kh(cs_json *j, const char *key, uint64_t h)
{
    char hex[24];
    snprintf(hex, sizeof hex, "%016" PRIx64, h);
    cs_json_kstr(j, key, h ? hex : NULL);
}

static void input_json(cs_json *j, const char *key, const char *source, uint64_t content_hash)
{
    cs_json_key(j, key);
    cs_json_obj_begin(j);
    cs_json_kstr(j, "source", source);
    kh(j, "content_hash", content_hash);
    cs_json_obj_end(j);
}

/* provenance.inputs: every file that went into the result, with the hash of its contents. */
static void inputs_json(cs_json *j, const cs_result *r)
{
    cs_json_key(j, "inputs");
    cs_json_obj_begin(j);
    input_json(j, "arch", r->arch_source, r->arch_content_hash);
    input_json(j, "workload", r->workload_source, r->workload_hash);
    input_json(j, "energy_table", r->energy_source, r->energy_hash);
    if (r->cim) {
        cs_json_key(j, "cim_primitive");
        cs_json_obj_begin(j);
        cs_json_kstr(j, "source", r->cim_source);
        kh(j, "content_hash", r->cim_content_hash);
        kh(j, "config_hash", r->cim_hash);
        cs_json_kstr(j, "overrides", r->cim_sets[0] ? r->cim_sets : NULL);
        cs_json_obj_end(j);
    } else {
        cs_json_key(j, "cim_primitive");
        cs_json_null(j);
    }
    cs_json_obj_end(j);
}

void cs_result_json(const cs_result *r, cs_json *j)
{
    char hash[24];
    snprintf(hash, sizeof hash, "%016" PRIx64, r->config_hash);
    cs_json_obj_begin(j);
    cs_json_kstr(j, "schema", "cimsim-result/1");
    cs_json_kstr(j, "version", CIMSIM_VERSION);
    cs_json_key(j, "provenance");
    cs_json_obj_begin(j);
    cs_json_kstr(j, "command", r->command);
    cs_json_kstr(j, "arch_source", r->arch_source);
    cs_json_kstr(j, "config_hash", hash);
    cs_json_kstr(j, "energy_table", r->energy_table);
    cs_json_kstr(j, "energy_table_version", r->energy_version);
    cs_json_kstr(j, "cim_source", r->cim_source[0] ? r->cim_source : NULL);
    cs_json_kstr(j, "overrides", r->overrides[0] ? r->overrides : NULL);
    inputs_json(j, r);
    cs_json_key(j, "model");
    cs_json_arr_begin(j);
    for (int i = 0; i < r->nmodel; i++)
        cs_json_str(j, r->model[i]);
    cs_json_arr_end(j);
    cs_json_obj_end(j);
    cs_json_kstr(j, "arch", r->arch);
    cs_json_kstr(j, "workload", r->workload);
    cs_json_kstr(j, "dtype", cs_dtype_name(r->dtype));
    cs_json_kf64(j, "clock_hz", r->clock_hz);
    cs_json_key(j, "peak");
    cs_json_obj_begin(j);
    cs_json_kf64(j, "tops", r->peak_tops);
    cs_json_kf64(j, "macs_per_cycle", r->peak_macs_per_cycle);
    cs_json_kf64(j, "dram_bytes_per_s", r->dram_bytes_per_s);
    cs_json_kf64(j, "l2_bytes_per_cycle", r->l2_bytes_per_cycle);
    cs_json_obj_end(j);
    cs_json_key(j, "cim");
    if (!r->cim) {
        cs_json_null(j);
    } else {
        cs_json_obj_begin(j);
        cs_json_kstr(j, "primitive", r->cim->primitive);
        cs_json_kstr(j, "level", r->cim->level);
        cs_json_ku64(j, "macros", r->cim->macros);
        cs_json_ku64(j, "macros_total", r->cim->macros_total);
        cs_json_ku64(j, "weights_bytes", r->cim->weights_bytes);
        cs_json_kf64(j, "area_mm2", r->cim->area_mm2);
        cs_json_key(j, "mapping");
        cs_json_raw(j, r->cim->mapping_json[0] ? r->cim->mapping_json : "{}");
        cs_json_obj_end(j);
    }
    cs_json_key(j, "gemms");
    cs_json_arr_begin(j);
    for (size_t i = 0; i < r->ngemms; i++)
        gemm_json(j, &r->gemms[i]);
    cs_json_arr_end(j);
    cs_json_key(j, "total");
    cs_json_obj_begin(j);
    cs_json_ku64(j, "cycles", r->cycles);
    attribution_json(j, r->attribution);
    cs_json_kf64(j, "seconds", r->seconds);
    cs_json_ku64(j, "macs", r->macs);
    cs_json_kf64(j, "energy_pj", r->energy_pj);
    cs_json_kf64(j, "tops", r->tops);
    cs_json_kf64(j, "tops_per_w", r->tops_per_w);
    cs_json_kf64(j, "area_mm2", r->area_mm2);
    cs_json_kf64(j, "tops_per_mm2", r->tops_per_mm2);
    energy_maps(j, r->breakdown_pj, r->level_pj);
    cs_json_obj_end(j);
    cs_json_obj_end(j);
}

void cs_result_write_json(const cs_result *r, cs_buf *out)
{
    cs_json j;
    cs_json_init(&j, out, 2);
    cs_result_json(r, &j);
    cs_buf_putc(out, '\n');
}

/* test_wwwstudy — the WWW study's 17 stored Timeloop results (tests/data/www-study.txt, from
 * github.com/tanvisharma/WWWtoCiM at 3f9e8aa) reproduced with `-a www-sm --compat www --mapping
 * timeloop:MAP`: per-level, per-dataspace access counts within 1 % of Timeloop's, per-level
 * energies within 5 %, simulated cycles not below the study's own time; and the WWW algorithm
 * run end to end (`--compat www --mapping www`) within 10 % of the RF-level consv2p1 energies
 * (tools/wwwstudy.c). */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "compat.h"
#include "run.h"
#include "wwwstudy.h"

static cs_ws study;

static void load(void)
{
    cs_err err;
    cs_err_init(&err);
    cr_assert_eq(cs_ws_load(NULL, &study, &err), CS_OK, "%s", err.msg[0]);
}

static void unload(void)
{
    cs_ws_free(&study);
}

static void reproduce(const char *name)
{
    const cs_ws_config *c = cs_ws_find(&study, name);
    cr_assert_not_null(c, "%s is not among the figures", name);
    cs_err err;
    cs_err_init(&err);
    cs_ws_run run;
    cr_assert_eq(cs_ws_reproduce(c, NULL, 0, &run, &err), CS_OK, "%s: %s", name, err.msg[0]);
    const cs_gemm_result *g = &run.r->gemms[0];
    cs_ws_row rows[64];
    size_t n = cs_ws_counts(c, g, rows, 64);
    cr_assert_geq(n, 4, "%s: the figures compared", name);
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)rows[i].cimsim - (double)rows[i].study);
        cr_expect_leq(d, 0.01 * (double)rows[i].study, "%s: %s %c %s: cimsim %llu, Timeloop %llu", name, rows[i].level,
                      rows[i].ds, rows[i].kind, (unsigned long long)rows[i].cimsim, (unsigned long long)rows[i].study);
    }
    cs_ws_energy e[16];
    size_t ne = cs_ws_energies(c, g, e, 16);
    cr_assert_geq(ne, 3);
    for (size_t i = 0; i < ne; i++)
        cr_expect_leq(fabs(e[i].cimsim_pj - e[i].study_pj), 0.05 * e[i].study_pj, "%s: %s energy %.1f pJ, study %.1f pJ",
                      name, e[i].level, e[i].cimsim_pj, e[i].study_pj);
    cr_expect_geq((double)g->cycles, cs_ws_analytical_cycles(c, run.latency_cycles), "%s: %llu cycles", name,
                  (unsigned long long)g->cycles);
    cs_result_destroy(run.r);
}

TestSuite(wwwstudy, .init = load, .fini = unload, .timeout = 600);

Test(wwwstudy, figures_load_and_cover_the_17_runs)
{
    cr_assert_eq(study.n, 17);
    const cs_ws_config *c = cs_ws_find(&study, "rf-analog6T-consv2p1");
    cr_assert_not_null(c);
    cr_assert_eq(c->steps, 524288);
    cr_assert_float_eq(c->total_pj, 393.03e6, 1);
    cs_err err;
    cs_err_init(&err);
    cs_ws bad;
    cr_assert_eq(cs_ws_load(CIMSIM_SOURCE_DIR "/tests/data/www-study-extract.py", &bad, &err), CS_FORMAT);
}

Test(wwwstudy, baseline_search) { reproduce("baseline-search"); }
Test(wwwstudy, rf_analog6T_consv2p1) { reproduce("rf-analog6T-consv2p1"); }
Test(wwwstudy, rf_analog8T_consv2p1) { reproduce("rf-analog8T-consv2p1"); }
Test(wwwstudy, rf_digital6T_consv2p1) { reproduce("rf-digital6T-consv2p1"); }
Test(wwwstudy, rf_digital8T_consv2p1) { reproduce("rf-digital8T-consv2p1"); }
Test(wwwstudy, rf_analog6T_search) { reproduce("rf-analog6T-search"); }
Test(wwwstudy, rf_analog8T_search) { reproduce("rf-analog8T-search"); }
Test(wwwstudy, rf_digital6T_search) { reproduce("rf-digital6T-search"); }
Test(wwwstudy, rf_digital8T_search) { reproduce("rf-digital8T-search"); }
Test(wwwstudy, smem_analog6T_cons) { reproduce("smem-analog6T-cons"); }
Test(wwwstudy, smem_analog8T_cons) { reproduce("smem-analog8T-cons"); }
Test(wwwstudy, smem_digital6T_cons) { reproduce("smem-digital6T-cons"); }
Test(wwwstudy, smem_digital8T_cons) { reproduce("smem-digital8T-cons"); }
Test(wwwstudy, smem_analog6T_search) { reproduce("smem-analog6T-search"); }
Test(wwwstudy, smem_analog8T_search) { reproduce("smem-analog8T-search"); }
Test(wwwstudy, smem_digital6T_search) { reproduce("smem-digital6T-search"); }
Test(wwwstudy, smem_digital8T_search) { reproduce("smem-digital8T-search"); }

/* The WWW algorithm end to end (--compat www --mapping www) against the RF-level runs whose
 * mappings came from the same algorithm version: the energy, and the nest executed factor by
 * factor against the stored map. */
static void www_end_to_end(const char *prim)
{
    char name[64], spec[64];
    snprintf(name, sizeof name, "rf-%s-consv2p1", prim);
    snprintf(spec, sizeof spec, "%s@rf", prim);
    const cs_ws_config *c = cs_ws_find(&study, name);
    cr_assert_not_null(c);
    cs_err err;
    cs_err_init(&err);
    const char *const *www = cs_compat_profile("www");
    int nsets = 0;
    while (www[nsets])
        nsets++;
    cs_result *r = NULL;
    cr_assert_eq(cs_ws_run_gemm("www-sm", www, nsets, spec, "1", CS_CIM_MAP_WWW, NULL, &r, NULL, &err), CS_OK, "%s",
                 err.msg[0]);
    double e = r->gemms[0].energy.total_pj;
    cr_expect_leq(fabs(e - c->total_pj), 0.10 * c->total_pj, "%s: %.1f uJ, the study %.1f uJ", prim, e / 1e6,
                  c->total_pj / 1e6);
    json_t *m = json_loads(r->gemms[0].mapping_json, 0, NULL);
    json_t *levels = json_object_get(json_object_get(json_object_get(m, "plan"), "nest"), "levels");
    cr_assert(json_is_array(levels), "%s: no nest in %s", prim, r->gemms[0].mapping_json);
    for (int i = 0; i < c->nloop; i++) {
        char want[96];
        snprintf(want, sizeof want, "%llu.%llu.%llu", (unsigned long long)c->loop[i].f[0],
                 (unsigned long long)c->loop[i].f[1], (unsigned long long)c->loop[i].f[2]);
        const char *got = NULL;
        for (size_t k = 0; k < json_array_size(levels); k++) {
            json_t *l = json_array_get(levels, k);
            if (strcmp(json_string_value(json_object_get(l, "name")), c->loop[i].level) == 0)
                got = json_string_value(json_object_get(l, c->loop[i].type == 's' ? "spatial" : "temporal"));
        }
        cr_expect(got && strcmp(got, want) == 0, "%s: %s %s factors %s, the study's %s", prim, c->loop[i].level,
                  c->loop[i].type == 's' ? "spatial" : "temporal", got ? got : "(none)", want);
    }
    json_decref(m);
    cs_result_destroy(r);
}

Test(wwwstudy, www_algorithm_analog6T) { www_end_to_end("analog6T"); }
Test(wwwstudy, www_algorithm_analog8T) { www_end_to_end("analog8T"); }
Test(wwwstudy, www_algorithm_digital6T) { www_end_to_end("digital6T"); }
Test(wwwstudy, www_algorithm_digital8T) { www_end_to_end("digital8T"); }

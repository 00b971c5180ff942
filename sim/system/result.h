/* result — what a run produces: per-GEMM and total figures, provenance, and the JSON writer
 * for the layout of docs/results.md. Pure data after the run; no simulation here. */
#ifndef CS_RESULT_H
#define CS_RESULT_H

#include <stdint.h>

#include "buf.h"
#include "json.h"
#include "energy.h"
#include "gpu.h"
#include "workload.h"

enum { CS_RESULT_STR = 160, CS_RESULT_NOTES = 16 };

typedef struct cs_gemm_result {
    cs_gemm gemm;
    uint64_t cycles;
    double seconds;
    uint64_t macs;
    double tops, utilization;
    const char *bound;            /* static string */
    uint64_t bound_compute, bound_dram, bound_l2; /* lower bounds, cycles */
    uint64_t bound_cim_write, bound_inputs, bound_psum; /* CiM: weight writes, inputs in, partial sums out */
    char mapping_kind[32];
    char mapping[CS_RESULT_STR];  /* tiling or CiM mapping, one line */
    char mapping_json[4096];      /* extra mapping details as a JSON object ("{}" if none) */
    uint64_t ctas;
    uint64_t cim_macros_used;     /* macros the CiM mapping keeps busy (0: baseline) */
    cs_gpu_totals tot;            /* after the flush */
    uint64_t attribution[CS_CAUSES]; /* cycles per cause of the critical path; sums to cycles */
    const char *top_cause;        /* the cause with the most cycles (static string) */
    cs_energy_report energy;
    char *stats_text;             /* the statistics dump when requested (owned), else NULL */
} cs_gemm_result;

typedef struct cs_result_cim {
    char primitive[64], level[8];
    uint64_t macros, macros_total, weights_bytes;
    double area_mm2;
    char mapping_json[1024];
} cs_result_cim;

typedef struct cs_result {
    char arch[CS_RESULT_STR], arch_source[512], workload[CS_RESULT_STR];
    char command[1024], energy_table[64], energy_version[64], cim_source[512];
    uint64_t config_hash;
    /* what pins every input (provenance.inputs): content hashes of the files as read, the
     * primitive's effective configuration, the user's overrides ("" when none) */
    char overrides[1024], workload_source[512], energy_source[512], cim_sets[512];
    uint64_t arch_content_hash, workload_hash, energy_hash, cim_hash, cim_content_hash;
    const char *model[CS_RESULT_NOTES]; /* the approximations that apply (static strings) */
    int nmodel;
    int dtype;
    double clock_hz, peak_tops, peak_macs_per_cycle, dram_bytes_per_s, l2_bytes_per_cycle;
    double area_mm2;
    cs_result_cim *cim;           /* NULL for the baseline */
    cs_gemm_result *gemms;
    size_t ngemms;
    /* totals */
    uint64_t cycles, macs;
    uint64_t attribution[CS_CAUSES];
    double seconds, energy_pj, tops, tops_per_w, tops_per_mm2;
    double breakdown_pj[CS_EB_COUNT], level_pj[CS_EL_COUNT];
} cs_result;

/* Sums the per-GEMM figures into the totals. */
void cs_result_finish(cs_result *r);
void cs_result_destroy(cs_result *r); /* NULL is a no-op */
/* The result object (indented with `indent` spaces, 0 = compact). */
void cs_result_json(const cs_result *r, cs_json *j);
void cs_result_write_json(const cs_result *r, cs_buf *out);

#endif

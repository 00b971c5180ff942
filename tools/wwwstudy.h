/* wwwstudy — the WWW study's 17 stored Timeloop results of BERT-Large 512x1024x1024
 * (tests/data/www-study.txt, embedded in the binary) and their reproduction: each stored mapping
 * written back as a Timeloop map.yaml, read by cs_timeloop_parse and run on www-sm under
 * `--compat www`; then cimsim's per-dataspace accesses and per-level energies beside the
 * study's, level by level. Used by `cimsim validate` and tests/unit/test_wwwstudy.c.
 *
 * Level correspondence (Timeloop's level: cimsim's access level, energy):
 *   DRAM: dram, the dram breakdown     SMEM: smem, smem     RF: rf, rf
 *   LRF: opreg, the opreg items         mac: the tensor_core.mac_int8 item
 *   CiMStorage: cim (reads = weights read by MACs, fills = weights written), cim_write
 *   CiMUnit: cim_mac
 * CiMInpBuffer and CiMOutBuffer (zero energy in the study) are inside cimsim's macro: not
 * compared.
 */
#ifndef CS_WWWSTUDY_H
#define CS_WWWSTUDY_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "result.h"

enum { CS_WS_MAX_LINES = 24 };

typedef struct cs_ws_config {
    char name[48], design[12], prim[16]; /* design: baseline, rf, smem */
    int nkeep, nloop, ncount, nenergy;
    struct {
        char level[48], ds[4];
    } keep[CS_WS_MAX_LINES];
    struct {
        char level[48], type, perm[4];
        uint64_t f[3];
    } loop[CS_WS_MAX_LINES];
    struct {
        char level[48], ds;
        uint64_t r, f, u;
    } count[CS_WS_MAX_LINES];
    struct {
        char level[48];
        double pj;
    } energy[CS_WS_MAX_LINES];
    uint64_t tl_cycles, steps, study_cycles, memory_cycles;
    double total_pj;
} cs_ws_config;

typedef struct cs_ws {
    cs_ws_config *c;
    size_t n;
} cs_ws;

/* Loads the embedded figures (or path, when not NULL). Errors cite the file and line. */
cs_status cs_ws_load(const char *path, cs_ws *out, cs_err *err);
void cs_ws_free(cs_ws *w);
const cs_ws_config *cs_ws_find(const cs_ws *w, const char *name);
/* The configuration's mapping as a Timeloop map.yaml. */
void cs_ws_yaml(const cs_ws_config *c, cs_buf *out);

/* One reproduction: the result of the run and the primitive's latency (cycles; 0 baseline). */
typedef struct cs_ws_run {
    cs_result *r;
    double latency_cycles;
} cs_ws_run;
/* Runs 512x1024x1024 on arch with the overrides sets, on a placement (cim "PRIM@LEVEL" with
 * macros; NULL: the baseline) or not, with the CiM mapping mode (cs_cim_mode) and spec (the
 * Timeloop mode's map); *latency_cycles (when not NULL) gets the primitive's latency. */
cs_status cs_ws_run_gemm(const char *arch, const char *const *sets, int nsets, const char *cim, const char *macros,
                         int mode, const cs_nest_spec *spec, cs_result **out, double *latency_cycles, cs_err *err);
/* Runs c on www-sm with --compat www and the study's mapping (rf: one macro per sub-partition;
 * smem: four macros), plus `nsets` more overrides (e.g. one convention switched back). */
cs_status cs_ws_reproduce(const cs_ws_config *c, const char *const *sets, int nsets, cs_ws_run *out, cs_err *err);
/* The study's time for c in its own model: the baseline's Timeloop cycles; CiM: its compute
 * steps x the primitive's latency, or the memory term of its post-processing when larger. */
double cs_ws_analytical_cycles(const cs_ws_config *c, double latency_cycles);

typedef struct cs_ws_row {
    char level[48], ds;
    const char *kind;     /* "read", "fill", "update" */
    uint64_t cimsim, study;
} cs_ws_row;
/* The access counts compared (rows with both figures zero are left out); returns how many. */
size_t cs_ws_counts(const cs_ws_config *c, const cs_gemm_result *g, cs_ws_row *rows, size_t cap);
typedef struct cs_ws_energy {
    char level[48];
    double cimsim_pj, study_pj;
} cs_ws_energy;
size_t cs_ws_energies(const cs_ws_config *c, const cs_gemm_result *g, cs_ws_energy *rows, size_t cap);

#endif

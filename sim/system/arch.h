/* arch — the architecture description: the root schema of an architecture file, composed of
 * each component's schema, plus the machine-level checks that span components.
 *
 * An architecture file (arch/a100.cfg) has one group per component (sm, tensor_core, regfile,
 * smem, xbar, l2, hbm) plus name, clock, energy, mapper and run settings. The default
 * architecture is embedded in the binary ("a100" = builtin:arch/a100.cfg).
 */
#ifndef CS_ARCH_H
#define CS_ARCH_H

#include <stdbool.h>
#include <stdint.h>

#include "cfg.h"
#include "compat.h"
#include "hbm.h"
#include "l2.h"
#include "mapper_tc.h"
#include "regfile.h"
#include "sm.h"
#include "smem.h"
#include "target.h"
#include "tensor_core.h"
#include "xbar.h"

typedef struct cs_arch_mapper {
    int64_t cta_m, cta_n, cta_k_bytes, warp_m, warp_n, stages, split_k, kgroups, raster;
} cs_arch_mapper;

typedef struct cs_arch_energy {
    char *table;
} cs_arch_energy;

typedef struct cs_arch_run {
    int dtype;
    uint64_t watchdog_ps;
    bool flush_l2;
} cs_arch_run;

typedef struct cs_arch_cim {
    uint64_t replace_rf_bytes;    /* storage CiM may take in each sub-partition register file */
    uint64_t replace_smem_bytes;  /* in each SM's shared memory */
    uint64_t replace_l2_bytes;    /* in each L2 slice */
    int64_t l2_banks;             /* banks of a slice's data array (a busy macro holds one) */
} cs_arch_cim;

typedef struct cs_arch {
    char *name;
    char *description;
    uint64_t clock_khz;           /* SM, crossbar and L2 clock */
    cs_sm_params sm;
    cs_tc_params tc;
    cs_rf_params rf;
    cs_smem_params smem;
    cs_xbar_params xbar;
    cs_l2_params l2;
    cs_hbm_params hbm;
    cs_arch_energy energy;
    cs_arch_mapper mapper;
    cs_arch_run run;
    cs_arch_cim cim;
    cs_compat compat;             /* the WWW study's conventions (compat.h); defaults: cimsim's */
} cs_arch;

extern const cs_cfg_schema cs_arch_schema;

/* A loaded architecture: its params and the document they came from (for dump and errors). */
typedef struct cs_arch_doc {
    cs_arch arch;
    cs_cfg *cfg;
    char *source;   /* "builtin:arch/a100.cfg" or the path */
    uint64_t hash;  /* cs_cfg_hash of the effective configuration */
    uint64_t content_hash; /* cs_cfg_content_hash: the file and its includes as written */
    char *overrides;       /* the user's --set KEY=VALUE list joined by ' ', or NULL: the
                              architecture is then named NAME+set in results */
} cs_arch_doc;

/* spec: NULL or "a100" (built-in names: a100, a100-80gb, www-sm) or a path. sets: n
 * "key=value" overrides applied before validation (origin "--set"). */
cs_status cs_arch_load(const char *spec, const char *const *sets, int nsets, cs_arch_doc **out,
                       cs_err *err);
void cs_arch_doc_destroy(cs_arch_doc *d);
/* Records sets (the overrides a user gave, as given to cs_arch_load) as d->overrides. */
void cs_arch_doc_note_overrides(cs_arch_doc *d, const char *const *sets, int nsets);
/* Names of the built-in architectures, NULL-terminated. */
const char *const *cs_arch_builtins(void);
/* The mapper's view of the machine. */
cs_target cs_arch_target(const cs_arch *a);
cs_tc_overrides cs_arch_tc_overrides(const cs_arch *a);
/* Peak figures for reports and bounds. */
double cs_arch_clock_hz(const cs_arch *a);
double cs_arch_peak_macs_per_cycle(const cs_arch *a, int dtype);
double cs_arch_dram_bytes_per_s(const cs_arch *a);

#endif

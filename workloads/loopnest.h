/* loopnest — a GEMM mapping written as a loop nest in Timeloop's terms: per storage level,
 * temporal factors and their order, spatial factors (fan-out), and the dataspaces the level
 * keeps or bypasses. This module binds such a description to one of the hardware templates
 * cimsim can execute and checks it against the GEMM and the hardware; mapper_loopnest.h turns
 * a bound nest into op streams.
 *
 * Templates (level names as in the WWW study's Timeloop designs, innermost first):
 *   cim-rf    CiMStorage, CiMOutBuffer, CiMInpBuffer, inter_CiMArray_spatial,
 *             inter_CiMBank_spatial, SMEM, DRAM        (CiM at register-file level)
 *   cim-smem  CiMStorage, CiMOutBuffer, CiMInpBuffer, inter_CiMArray_spatial,
 *             inter_CiMBank_spatial, DRAM              (CiM at shared-memory level: none above)
 *   pe        LRF, inter_PE_spatial, RF, inter_Subpartition_spatial, SMEM, DRAM
 *             (the study's tensor-core-like baseline: a PE array per sub-partition)
 * Dimensions M, N, K (Z[M,N] = A[M,K] x B[N,K]^T); dataspaces A (inputs), B (weights), Z
 * (outputs). A permutation lists dimensions innermost first (Timeloop's convention).
 *
 * What a level may hold and which factors cimsim can execute (anything else is refused with
 * the file and line of the entry):
 *   CiMStorage        keeps B; temporal N <= ch, K <= rh (the weights a unit holds), M = 1
 *   CiMOutBuffer      keeps Z; CiMInpBuffer keeps A; temporal factors 1 (the macro's buffers)
 *   inter_CiMArray_spatial  spatial N <= cp, K <= rp, M = 1 (the primitive's array)
 *   inter_CiMBank_spatial   spatial N x K <= macros of a controller, M = 1 (interleaving)
 *   LRF               keeps A; temporal N only (the per-PE operand register reused over N)
 *   inter_PE_spatial  spatial N <= PE rows, K <= PE columns, M = 1
 *   RF                keeps Z; temporal K only (8-bit or wider accumulators per sub-partition)
 *   inter_Subpartition_spatial  spatial M <= sub-partitions, N = K = 1
 *   SMEM              keeps A and/or Z (CiM) or A and/or B (PE); B (CiM) or Z (PE) bypass it
 *   DRAM              keeps everything; any temporal factors
 * Spatial levels keep nothing and have temporal factors 1. The factors of each dimension over
 * all levels multiply to the GEMM's.
 *
 * Not responsible for: reading YAML (tools/timeloop.h fills a cs_nest_spec), the WWW algorithm
 * (mapper_www.h; cs_nest_from_www converts its result), executing (mapper_loopnest.h).
 */
#ifndef CS_LOOPNEST_H
#define CS_LOOPNEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "mapper_www.h"
#include "workload.h"

enum { CS_NEST_M = 0, CS_NEST_N = 1, CS_NEST_K = 2, CS_NEST_DIMS = 3 };
enum { CS_NEST_A = 0, CS_NEST_B = 1, CS_NEST_Z = 2, CS_NEST_DS = 3 };
typedef enum { CS_NEST_CIM_RF = 0, CS_NEST_CIM_SMEM = 1, CS_NEST_PE = 2, CS_NEST_TEMPLATES } cs_nest_template;

/* Level roles. CiM templates: */
enum { CS_LV_STORAGE = 0, CS_LV_OUTBUF = 1, CS_LV_INBUF = 2, CS_LV_ARRAY = 3, CS_LV_BANK = 4, CS_LV_SMEM = 5,
       CS_LV_DRAM = 6 };
/* The PE template (its SMEM and DRAM share the CiM indices): */
enum { CS_LV_LRF = 0, CS_LV_PE = 1, CS_LV_RF = 2, CS_LV_SUBPART = 3 };
enum { CS_NEST_LEVELS = 7, CS_NEST_ENTRIES = 32, CS_NEST_SOURCE = 256 };

/* ---- the description as read (tools/timeloop.c fills it) ---------------------------------- */
enum { CS_NEST_ENTRY_KEEP = 0, CS_NEST_ENTRY_TEMPORAL = 1, CS_NEST_ENTRY_SPATIAL = 2 };

typedef struct cs_nest_entry {
    char target[64];
    int type;                  /* CS_NEST_ENTRY_* */
    uint64_t f[CS_NEST_DIMS];  /* factors (1 where the entry gives none) */
    char perm[4];              /* innermost first, all three letters; "" when not given */
    uint8_t keep, bypass;      /* datatype entries: bit CS_NEST_A/B/Z */
    int line;                  /* of the entry (its first key) */
    int fline, pline, kline;   /* of its factors, permutation, keep list (0: not given) */
} cs_nest_entry;

typedef struct cs_nest_spec {
    char source[CS_NEST_SOURCE]; /* the file, for messages */
    uint32_t n;
    cs_nest_entry e[CS_NEST_ENTRIES];
} cs_nest_spec;

/* ---- a bound nest ------------------------------------------------------------------------- */
typedef struct cs_nest_level {
    uint64_t t[CS_NEST_DIMS]; /* temporal factors */
    uint64_t s[CS_NEST_DIMS]; /* spatial factors */
    char perm[4];             /* temporal order, innermost first */
    uint8_t keep;             /* dataspaces kept (bit CS_NEST_A/B/Z) */
} cs_nest_level;

typedef struct cs_nest {
    int tmpl;                         /* cs_nest_template */
    cs_nest_level lv[CS_NEST_LEVELS]; /* by role; the PE template uses 0..3, SMEM and DRAM */
    char origin[16];                  /* "timeloop", "www" or "default" */
    char source[CS_NEST_SOURCE];      /* timeloop: the file */
    int dram_line;                    /* line of the DRAM temporal entry (0: none) */
} cs_nest;

/* What the hardware allows (fan-outs and held weights). */
typedef struct cs_nest_limits {
    uint32_t rp, cp, rh, ch;  /* CiM primitive */
    uint32_t macros;          /* CiM macros of one controller */
    uint32_t pe_n, pe_k;      /* PE array per sub-partition: rows (N) x columns (K) */
    uint32_t subparts;
} cs_nest_limits;

/* ---- query -------------------------------------------------------------------------------- */
const char *cs_nest_template_name(int tmpl);          /* "cim-rf", "cim-smem", "pe" */
/* Level names of a template, innermost first, NULL-terminated; *role (n entries) receives the
 * role of each. Returns the number of levels. */
int cs_nest_levels(int tmpl, const char *names[CS_NEST_LEVELS + 1], int role[CS_NEST_LEVELS]);
/* Whether a template has a level with this role. */
bool cs_nest_has_level(int tmpl, int role);
/* The product of a dimension's temporal and spatial factors at levels [lo, hi]. */
uint64_t cs_nest_span(const cs_nest *n, int dim, int lo, int hi);

/* ---- build -------------------------------------------------------------------------------- */
/* Binds a read description to template tmpl and checks it against the GEMM g and the limits.
 * Every problem is reported as SOURCE:LINE: error: mapping[i].KEY: RULE (got X), CS_INVALID. */
cs_status cs_nest_bind(const cs_nest_spec *s, int tmpl, const cs_nest_limits *lim, const cs_gemm *g,
                       cs_nest *out, cs_err *err);
/* The loop nest of a WWW-algorithm result (cim-rf when it has a memory above, else cim-smem),
 * with the study's keep sets. */
void cs_nest_from_www(const cs_www_mapping *w, cs_nest *out);
/* A PE-array nest for g in the study's style when no mapping is given: N over the PE rows and
 * the operand register (up to 8 reuses), K over the PE columns and the RF (up to 4), M over the
 * sub-partitions, then shared-memory tiles of A and B that fit smem_bytes (M inner at DRAM). */
void cs_nest_pe_default(const cs_gemm *g, const cs_nest_limits *lim, uint64_t smem_bytes, uint32_t elem_bytes,
                        cs_nest *out);
/* Checks a built nest (factors, fan-outs, products); CS_INVALID with one message per problem. */
cs_status cs_nest_check(const cs_nest *n, const cs_nest_limits *lim, const cs_gemm *g, cs_err *err);

/* ---- output ------------------------------------------------------------------------------- */
/* "DRAM 1.4.8 KNM | SMEM 512.1.2 MKN | bank 1.4.1 | array 1.4.64 | storage 1.16.1" */
void cs_nest_str(const cs_nest *n, char *out, size_t cap);
/* A JSON object: {"template": ..., "origin": ..., "levels": [{"name", "temporal", "perm",
 * "spatial", "keep"}...]} (factors as "M.N.K"). */
void cs_nest_json(const cs_nest *n, cs_buf *out);

#endif

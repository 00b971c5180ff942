/* workload — a list of GEMMs: from a preset name, a CSV file, or "M,N,K".
 *
 * GEMM convention (as in the WWW study): Z[M,N] = A[M,K] x B[N,K]^T; A = inputs (activations),
 * B = weights, Z = outputs. CSV lines are `name,m,n,k[,repeat]`; `#` starts a comment; a
 * header line `name,m,n,k[,repeat]` is allowed; blank lines are skipped. `repeat` (default 1)
 * runs the same GEMM R times in a row with the same weights (a decode loop): the baseline may
 * find the weights still in L2, a CiM placement may keep them resident in its macros.
 *
 * Not responsible for: data types (a run option), mapping (mapper_*.h).
 */
#ifndef CS_WORKLOAD_H
#define CS_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

enum { CS_GEMM_NAME_MAX = 64 };
/* Limits that keep every derived product (bytes, MACs, addresses) inside 64 bits. */
#define CS_GEMM_DIM_MAX (1u << 20)
#define CS_GEMM_REPEAT_MAX 1000000u
#define CS_GEMM_MACS_MAX (1ull << 50)

typedef struct cs_gemm {
    char name[CS_GEMM_NAME_MAX];
    uint64_t m, n, k;
    uint64_t repeat;
} cs_gemm;

typedef struct cs_workload {
    char *name;     /* preset name, file base name without .csv, or "MxNxK" */
    char *source;   /* "preset", the file path, or "command line" */
    uint64_t content_hash; /* FNV-1a 64 of the CSV text (or of the M,N,K[,R] value) */
    cs_gemm *gemms;
    size_t count;
} cs_workload;

/* spec: a preset name (cs_workload_presets), a path to a CSV file, or "M,N,K[,R]".
 * Errors: "FILE:LINE: error: FIELD: RULE (got VALUE)" or "-w: error: ..."; CS_INVALID or
 * CS_NOT_FOUND. */
cs_status cs_workload_load(const char *spec, cs_workload **out, cs_err *err);
/* Parses CSV text (display_name is used in messages and as the workload name). */
cs_status cs_workload_parse(const char *display_name, const char *text, cs_workload **out,
                            cs_err *err);
void cs_workload_destroy(cs_workload *w); /* NULL is a no-op */
/* NULL-terminated list of preset names. */
const char *const *cs_workload_presets(void);
/* Sum of M*N*K*repeat over the list. */
uint64_t cs_workload_macs(const cs_workload *w);

#endif

/* mapper_www — the WWW study's priority-based mapping of one GEMM onto a bank of CiM primitives.
 *
 * What it does: given a GEMM Z[M,N] = A[M,K] x B[N,K]^T (B = weights), the geometry of one CiM
 * primitive (Rp x Cp units computing in parallel, each holding Rh x Ch weights), a bank of
 * X x Y primitives, the capacity of the memory directly above the CiM (or none) and the
 * interleaving THRESHOLD, it returns the loop factors (M.N.K) of every loop level — CiM array,
 * CiM bank, CiM storage, the memory above, DRAM — and the loop order of the two memory levels.
 * It is a pure function: no allocation, no state, same input same output.
 *
 * What it does not do: it does not evaluate the mapping (time, energy), does not model weight
 * duplication (the study's algorithm does not either), does not search alternatives, and knows
 * nothing of configs: callers fill a cs_www_input (cs_www_input_init gives the study's values).
 *
 * Ground truth: "WWW: What, When, Where to Compute-in-Memory" (Sharma et al., arXiv 2312.15896);
 * www-template.md describes the algorithm in prose and tests/data/www-mapping-vectors.csv holds
 * 64 of its outputs. The prose leaves several rules open; the exact rules below reproduce all 64
 * vectors (tests/unit/test_mapper_www.c checks every field of every row) and agree with the
 * study's public generator (github.com/tanvisharma/WWWtoCiM, src/constraints/main.py).
 *
 * THE ALGORITHM, EXACTLY. Notation: a | b "a divides b"; maxdiv(x, p) = largest divisor of x that
 * is <= p; spf(x) = smallest prime factor of x (x >= 2). Factors of each level are M.N.K.
 *
 *  1. Array (parallel rows/columns):  Nc = maxdiv(N, Cp),  Kc = maxdiv(K, Rp).  Array = 1.Nc.Kc.
 *     Remainders: Nr = N / Nc, Kr = K / Kc.
 *
 *  2. Bank (interleaving over the Y primitives; X must be 1, as in the study):
 *     a. Tile sides of one primitive: tK = Rp * Rh (K extent), tN = Cp * Ch (N extent).
 *     b. Direction. Spread the LONGER side unless it is already >= THRESHOLD times the shorter,
 *        then spread the shorter side:
 *          tK >  tN: spread K if tK < THRESHOLD * tN, else spread N;
 *          tK <= tN: spread N if tN < THRESHOLD * tK, else spread K   (a tie spreads N).
 *        (The prose's "does not become more than THRESHOLD times longer" refined: the test is on
 *        the primitive's own tile, before any spreading, with >= meaning "too long".)
 *     c. Fallback. With p = spf(Y): if maxdiv(remainder of the chosen side, p) == 1, switch to
 *        the other side; if that is 1 too, Bank = 1.1.1. (Y == 1: Bank = 1.1.1.)
 *     d. Spread. b = 1; for each prime factor f of Y in ascending order, with multiplicity:
 *          g = maxdiv(remainder / b, f)         (remainder = Kr or Nr, from step 1)
 *          stop if g == 1;
 *          stop if (spread side's tile) * b >= THRESHOLD * (other side's tile);
 *          b = b * g.
 *        The elongation test runs BEFORE multiplying, so the last step may overshoot THRESHOLD.
 *        Only the chosen side gets b; the other side's bank factor is 1.  Bank = 1.bN.bK.
 *     Remainders: Nr /= bN, Kr /= bK.
 *
 *  3. Storage (weights held per unit): Nh = maxdiv(Nr, Ch), Kh = maxdiv(Kr, Rh).
 *     Storage = 1.Nh.Kh.  Remainders: Nr /= Nh, Kr /= Kh.  Now Kused = K / Kr, Nused = N / Nr.
 *
 *  4. Memory above (only when above_bytes > 0; it holds A and Z, the weights bypass it):
 *     a. row_bytes = Kused * in_elem_bytes + Nused * out_elem_bytes  (the data show outputs count
 *        as 1 byte in the study, like inputs: with 2-byte outputs row 1 would get M1 = 256).
 *        M1 = maxdiv(M, floor(above_bytes / row_bytes)); if row_bytes > above_bytes the mapping
 *        is impossible (CS_INVALID; the study's generator divides by zero there).
 *     b. Grow K (weight reuse) with A' = M1*Kused*in_elem_bytes, Z' = M1*Nused*out_elem_bytes:
 *          g = 1, S = A'
 *          while Kr / g > 1:
 *              f = spf(Kr / g)                      (smallest prime first, one prime per step)
 *              if S * (g*f) + Z' > above_bytes: stop   (fits means <=)
 *              g = g * f;  S = S * g                (S is multiplied by the NEW CUMULATIVE
 *                                                    factor g, not by f: see below)
 *          K1 = g.
 *        S is the study's running "tile size"; it is not the real tile M1*Kused*g (it grows as
 *        A' * g1 * g2 * ... * gi over the accepted cumulative factors gi), so growth stops far
 *        earlier than real capacity allows. This is the rule that reproduces the vectors:
 *        e.g. rf,analog6T,1,4096,4096 has smem 1.8.16; with real sizes (A = 1 x 4096 B) K1 would
 *        be 64 and N1 16.
 *     c. Grow N (partial-sum reuse) the same way with the roles swapped: the growing tile is
 *        Z' = M1*Nused*out_elem_bytes, the fixed one is M1*Kused*K1*in_elem_bytes (real size),
 *        the remainder is Nr.  N1 = g.
 *     Above = M1.N1.K1. Remainders: Mr = M / M1, Nr /= N1, Kr /= K1.
 *     Without a memory above: Above = 1.1.1, has_above = false, M1 = 1.
 *
 *  5. DRAM = Mr.Nr.Kr (everything left; the product of every dimension over the five levels is
 *     M, N, K — asserted).
 *
 *  6. Loop order of a level with factors m.n.k, written innermost first (Timeloop convention):
 *          m >  n:  n > k -> "MNK";  else m > k -> "MKN";  else "KMN"
 *          m <= n:  n < k -> "KNM";  else m > k -> "NMK";  else "NKM"
 *     i.e. largest factor innermost, with the study's tie-breaking (1.1.1 -> "NKM"; note that
 *     8.1.1 -> "MKN" while 1.8.8 -> "NKM": ties are not broken by one fixed dimension order).
 *
 * Which rules the vectors pin down (changing the rule breaks the rows named):
 *   - cumulative-factor running size in 4b/4c: rows 6, 14, 22, 30 (the M = 1 rows at RF level);
 *   - outputs 1 byte above: 19 rows fail with 2-byte outputs;
 *   - tie tN == tK spreads N: 32 rows (analog6T/8T, 64 x 64 tiles);
 *   - elongation stop uses >=: smem digital6T rows (bank 1.1.2, 256*2 >= 32*16);
 *   - elongation tested before multiplying (overshoot allowed): smem digital8T rows (bank 1.4.1
 *     although 128*4 > 32*10);
 *   - decision-tree tie-breaking in 6: rows 36 and 44 (dram 512.16.16 -> "MKN") together with
 *     the rows where 1.1.1 -> "NKM"; no fixed tie order gives both.
 * Not exercised by the vectors, taken from the study's generator: the fallback of 2c, the
 * direction test at exactly THRESHOLD (2b), "fits" as <= rather than < (4b), K growing before N.
 */
#ifndef CS_MAPPER_WWW_H
#define CS_MAPPER_WWW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Limits on the primitive and bank parameters: far above any real macro, and low enough that
 * every product the algorithm forms fits in 64 bits exactly. */
enum {
    CS_WWW_PARAM_MAX = 65536,    /* rp, cp, rh, ch, bank_y, threshold */
    CS_WWW_ELEM_BYTES_MAX = 64,  /* in_elem_bytes, out_elem_bytes */
};

/* Where the CiM bank sits in the WWW template; only cs_www_input_init uses it. */
typedef enum { CS_WWW_LEVEL_RF, CS_WWW_LEVEL_SMEM } cs_www_level;

typedef struct cs_www_input {
    uint64_t m, n, k;            /* GEMM dimensions, each >= 1 */
    uint32_t rp, cp, rh, ch;     /* primitive: parallel rows (K) x columns (N); held rows x cols */
    uint32_t bank_x, bank_y;     /* bank of primitives; the algorithm needs bank_x == 1 */
    uint64_t above_bytes;        /* capacity of the memory directly above; 0 = none (DRAM) */
    uint32_t threshold;          /* interleaving elongation limit, >= 1 (WWW: 4 RF, 32 SMEM) */
    uint32_t in_elem_bytes;      /* bytes per A element in the memory above (WWW: 1) */
    uint32_t out_elem_bytes;     /* bytes per Z element in the memory above (WWW: 1) */
} cs_www_input;

typedef struct cs_www_factors {
    uint64_t m, n, k;
} cs_www_factors;

typedef struct cs_www_mapping {
    cs_www_factors array, bank, storage, above, dram;  /* innermost level first */
    bool has_above;          /* false: above is 1.1.1 and perm_above is "" */
    char perm_dram[4];       /* loop order, innermost first, e.g. "KNM" */
    char perm_above[4];
} cs_www_mapping;

/* ---- configure ---- */

/* Fills *in with the WWW template's values for a CiM bank at `level`: bank 1 x 4, INT8 (1-byte
 * inputs and outputs), RF: 256 KiB SMEM above and threshold 4; SMEM: nothing above and
 * threshold 32. m, n, k and the primitive (rp, cp, rh, ch) are set to 0: the caller sets them. */
void cs_www_input_init(cs_www_input *in, cs_www_level level);

/* ---- run ---- */

/* Maps in onto the CiM hierarchy (algorithm in the header comment). On CS_OK *out is complete.
 * CS_INVALID (every problem reported to err, which may be NULL; *out untouched) when: in or out
 * is NULL, a dimension is 0, a primitive size, bank_y or threshold is 0 or > CS_WWW_PARAM_MAX,
 * an element size is 0 or > CS_WWW_ELEM_BYTES_MAX, or one row of the A and Z tiles the CiM
 * needs does not fit in above_bytes. CS_UNSUPPORTED when bank_x > 1 (the study spreads over Y
 * only; bank_x == 0 is CS_INVALID). */
cs_status cs_www_map(const cs_www_input *in, cs_www_mapping *out, cs_err *err);

/* ---- query ---- */

/* Writes "m.n.k" (e.g. "1.4.64") into out, truncated to n bytes, always NUL-terminated (n > 0). */
void cs_www_format(const cs_www_factors *f, char *out, size_t n);

/* The loop order rule of step 6: writes three letters and a NUL into out. */
void cs_www_permutation(const cs_www_factors *f, char out[4]);

#endif

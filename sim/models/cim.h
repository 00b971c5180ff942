/* cim — compute-in-memory primitives (data: arch/cim/NAME.cfg) and the macro group a host
 * level (a sub-partition register file, an SM's shared memory, an L2 slice) holds.
 *
 * A primitive is an rp x cp array of CiM units; each unit holds rh x ch weights. A macro thus
 * holds a weight tile of rp*rh rows (K, the reduction dimension) by cp*ch columns (N). One
 * CiM operation takes `latency`, reads one input slice of rp K-elements and produces cp
 * partial sums: up to rp*cp MACs. Processing one input row against a tile of k x n weights
 * takes ceil(k/rp) * ceil(n/cp) operations, one after another (the rh x ch held weights are
 * processed sequentially). A weight write moves write_bytes_per_cycle bytes per host cycle;
 * its energy is counted per access of ch bytes.
 *
 * The group is a timing resource of its host (like the shared-memory banks): the host asks it
 * to write or compute and learns when that finishes. While a macro writes or computes it holds
 * its share of the host's banks: the host's own traffic waits (cs_cim_host_fn reserves the
 * host pipeline for that share of the time), and the macro waits for the host's earlier
 * traffic. Counted actions (class "cim"): mac (one MAC executed, full array width per op, or
 * only the MACs used with mac_used_only), write (one weight write of ch bytes).
 */
#ifndef CS_CIM_H
#define CS_CIM_H

#include <stdbool.h>
#include <stdint.h>

#include "cfg.h"
#include "engine.h"
#include "stats.h"

enum { CS_CIM_ANALOG = 0, CS_CIM_DIGITAL = 1 };

typedef struct cs_cim_prim {
    char *name;
    int kind;                 /* CS_CIM_ANALOG | CS_CIM_DIGITAL */
    int64_t rp, cp, rh, ch;
    uint64_t size_bytes;      /* capacity as listed (area and iso-capacity accounting) */
    uint64_t latency_ps;      /* one operation */
    double area_factor;
    double mac_energy_pj, write_energy_pj;
    double technology_nm;
    int64_t input_bits, weight_bits, output_bits;
    bool bit_serial;
    int64_t write_bytes_per_cycle;
    char *source;
} cs_cim_prim;

extern const cs_cfg_schema cs_cim_prim_schema; /* the `cim_primitive` group */

/* spec: a built-in name (analog6T, analog8T, digital6T, digital8T) or a .cfg path. *origin
 * (optional) receives "builtin:arch/cim/NAME.cfg" or the path (caller frees). */
cs_status cs_cim_prim_load(const char *spec, cs_cim_prim *out, char **origin, cs_err *err);
/* Same, with overrides: sets are "cim.KEY=VALUE" (KEY a primitive key, as --set writes them;
 * cs_cim_prim_set_key tells them apart), applied before validation with origin "--set".
 * *content_hash (optional) receives cs_cfg_content_hash of the primitive file. */
cs_status cs_cim_prim_load_sets(const char *spec, const char *const *sets, int nsets, cs_cim_prim *out,
                                char **origin, uint64_t *content_hash, cs_err *err);
/* For "cim.KEY=VALUE" where KEY is a key of the primitive schema (cim.latency=7ns), the text
 * after "cim."; NULL for anything else (the architecture's own cim.replace_rf, l2.size...). */
const char *cs_cim_prim_set_key(const char *set);
void cs_cim_prim_free(cs_cim_prim *p);
const char *const *cs_cim_prim_builtins(void);
static inline uint64_t cs_cim_tile_k(const cs_cim_prim *p) { return (uint64_t)(p->rp * p->rh); }
static inline uint64_t cs_cim_tile_n(const cs_cim_prim *p) { return (uint64_t)(p->cp * p->ch); }
static inline uint64_t cs_cim_weight_bytes(const cs_cim_prim *p) { return cs_cim_tile_k(p) * cs_cim_tile_n(p); }
/* Operations to process `rows` input rows against a k x n tile. */
static inline uint64_t cs_cim_ops(const cs_cim_prim *p, uint64_t rows, uint64_t k, uint64_t n)
{
    return rows * ((k + (uint64_t)p->rp - 1) / (uint64_t)p->rp) * ((n + (uint64_t)p->cp - 1) / (uint64_t)p->cp);
}

/* ---- the macro group of one host instance ------------------------------------------------- */
typedef struct cs_cim_group cs_cim_group;
/* Reserves `cycles` of host bank time for a macro of sub-unit `sub` starting no earlier than
 * now; returns when the reservation ends. */
typedef cs_ps (*cs_cim_host_fn)(void *host, uint32_t sub, cs_ps now, uint64_t cycles);

typedef struct cs_cim_group_params {
    const cs_cim_prim *prim;
    uint32_t macros;          /* in this group */
    uint32_t subs;            /* host sub-units the macros are spread over (RF: sub-partitions) */
    const cs_clock *clock;    /* the host's clock */
    double bank_share;        /* fraction of the host's bank bandwidth a busy macro takes */
    cs_cim_host_fn host;      /* may be NULL: no host contention (ideal) */
    void *host_ctx;
    bool mac_used_only;       /* count the mac action per MAC used, not per MAC of the array */
} cs_cim_group_params;

cs_cim_group *cs_cim_group_create(const char *name, const cs_cim_group_params *p, cs_stats *stats);
void cs_cim_group_destroy(cs_cim_group *g);
uint32_t cs_cim_group_macros(const cs_cim_group *g);
const cs_cim_prim *cs_cim_group_prim(const cs_cim_group *g);
/* Sub-unit (e.g. sub-partition) a macro belongs to: macro mod subs (macros are interleaved
 * over the sub-units, so consecutive macros of a mapping use all of them). */
uint32_t cs_cim_group_sub(const cs_cim_group *g, uint32_t macro);
/* Host sub-units whose port the macros have reserved so far. */
uint32_t cs_cim_group_hosts_used(const cs_cim_group *g);

/* Writes `bytes` of weights into a macro, starting no earlier than `now` (and after the
 * macro's earlier work). Returns the completion time. */
cs_ps cs_cim_write(cs_cim_group *g, uint32_t macro, uint64_t bytes, cs_ps now);
/* Computes `rows` input rows against the macro's k x n tile. Returns the completion time;
 * *macs gets the useful MACs (rows * k * n). */
cs_ps cs_cim_compute(cs_cim_group *g, uint32_t macro, uint64_t rows, uint64_t k, uint64_t n, cs_ps now,
                     uint64_t *macs);
cs_ps cs_cim_free_at(const cs_cim_group *g, uint32_t macro);
/* When the macro's latest write or compute ended its own work (start + its duration); the
 * operation's completion (cs_cim_free_at) may be later by the wait for its host bank share. */
cs_ps cs_cim_own_end(const cs_cim_group *g, uint32_t macro);

typedef struct cs_cim_counts {
    uint64_t mac, write;            /* actions */
    uint64_t macs_useful, ops, write_bytes;
    uint64_t busy_cycles;           /* summed over macros */
    uint64_t macros_computed, macros_written; /* macros that computed, were written (at least once) */
    uint64_t host_cycles;           /* host-port cycles the macros reserved (their bank share) */
} cs_cim_counts;
const cs_cim_counts *cs_cim_get_counts(const cs_cim_group *g);

#endif

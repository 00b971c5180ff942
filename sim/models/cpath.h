/* cpath — critical-path attribution: every picosecond of a kernel attributed to one cause.
 *
 * Method (docs/model.md section 14.5). Every event that something can wait on (a warp reaching
 * an op, an MMA or CiM operation ending, a line landing, a barrier releasing, a CTA finishing,
 * an SM finishing) carries a *path*: the chain of waits that led to it from the kernel start,
 * summarised as picoseconds per cause. When an op can start only after several things, it
 * takes the path of the one that came last (the critical dependence) and adds the time it
 * then spends, split by cause, up to its own end. The kernel's cycles are the path of the SM
 * that finished last, so the causes sum to the kernel's time exactly.
 *
 * Two classes are assigned by position instead of resource:
 *  - fill_drain: the part of a path before the kernel's first compute operation (tensor core
 *    or CiM macro) started, and the part after the kernel's last compute operation ended;
 *  - tail: the part of a path after half of the working SMs had finished (the time the GPU
 *    runs partly empty: load imbalance, the last wave), unless it is drain.
 *
 * Paths are values shared by reference (copy-on-write) in one arena per GPU; a component
 * holds *lazy* paths (cs_cpl: a shared base plus a few pending segments) so that following a
 * dependence or recording one costs a reference count, not a copy. Not thread-safe: one arena
 * per GPU, one GPU per thread. The module knows no component: the causes are plain numbers.
 */
#ifndef CS_CPATH_H
#define CS_CPATH_H

#include <stdbool.h>
#include <stdint.h>

#include "engine.h"

/* The causes, in report order: JSON key, description. */
#define CS_CAUSE_MAP(X)                                                                                           \
    X(TC, "tc_compute", "tensor-core execution: unit occupancy, operand reads, pipeline latency")                \
    X(CIM, "cim_compute", "CiM macro operations (the primitive's latency per operation)")                        \
    X(CIM_WRITE, "cim_write", "weight writes into CiM macros at the primitive's write bandwidth")                \
    X(STAGING, "staging", "operands moving inside the SM: load/store-unit issue, shared-memory fills, loads and CiM input reads") \
    X(PSUM, "psum", "partial sums: CiM read-out into registers or shared memory, reductions (RED) at the L2")     \
    X(SPILL, "spill", "weight-stationary partial sums spilled to the L2 between rounds")                         \
    X(CONTENTION, "contention", "a CiM macro and ordinary traffic waiting for each other at the host level's port") \
    X(L2, "l2", "waiting on the crossbar and the L2 slices: queues, tag pipeline, data port, hit latency")      \
    X(DRAM, "dram", "waiting on DRAM: an L2 miss from its lookup to its fill (links, controller queue, bank timing)") \
    X(ISSUE, "issue", "warp scheduling: the issue cycle of each op, a ready warp waiting for its issue slot")   \
    X(FILL_DRAIN, "fill_drain", "before the critical path's first compute operation and after its last")       \
    X(TAIL, "tail", "after half of the working SMs had finished: imbalance across SMs and controllers")        \
    X(IDLE, "idle", "time on the path that no recorded wait explains (zero unless a stream stalls unmodelled)")

typedef enum {
#define CS_X(id, key, help) CS_CAUSE_##id,
    CS_CAUSE_MAP(CS_X)
#undef CS_X
        CS_CAUSES
} cs_cause;

const char *cs_cause_key(int cause);  /* "tc_compute", ...; "?" when out of range */
const char *cs_cause_help(int cause);
int cs_cause_from_key(const char *key); /* -1 when unknown */

typedef struct cs_cpath cs_cpath;
typedef uint32_t cs_cp; /* a materialised path; 0 = the empty path at the kernel start */

enum { CS_CPL_SEGS = 4 };
/* A lazy path: base, then up to CS_CPL_SEGS segments (cause i ends at t[i]), applied when the
 * path is materialised. Zero-initialised = the empty path at the kernel start. `end` caches
 * where it ends (0 for the empty path: no later than any other), so that comparing and
 * extending paths needs no arena access. */
typedef struct cs_cpl {
    cs_ps end;
    cs_cp base;
    uint8_t n;
    uint8_t cause[CS_CPL_SEGS];
    cs_ps t[CS_CPL_SEGS];
} cs_cpl;

/* ---- create / destroy --------------------------------------------------------------------- */
cs_cpath *cs_cpath_create(void);
void cs_cpath_destroy(cs_cpath *a); /* NULL is a no-op */

/* ---- kernel ------------------------------------------------------------------------------- */
/* A kernel starts at t0: the empty path ends there; the tail has not started. Components reset
 * the paths they hold (cs_cpl_clear) when their kernel starts. */
void cs_cpath_kernel_start(cs_cpath *a, cs_ps t0);
/* From t on, time on any path counts as tail (see above). */
void cs_cpath_set_tail(cs_cpath *a, cs_ps t);
/* A compute operation (MMA, CiM macro operation) runs from start to end: time before the
 * kernel's first start is pipeline fill, time after its last end is drain. */
void cs_cpath_mark_compute(cs_cpath *a, cs_ps start, cs_ps end);
/* DRAM back-pressure, for waits upstream of the L2 (a load/store unit held back by the
 * crossbar): each L2 slice registers, and reports when its lookups stall for want of an MSHR
 * (DRAM too slow) and resume. A wait from `since` to now is then DRAM's for the fraction of the
 * slices stalled meanwhile: cs_cpath_dram_share(a, cs_cpath_dram_stalled(a, since), since, now). */
void cs_cpath_add_slice(cs_cpath *a);
void cs_cpath_dram_stall(cs_cpath *a, bool start, cs_ps now);
uint64_t cs_cpath_dram_stalled(const cs_cpath *a, cs_ps now);
cs_ps cs_cpath_dram_share(const cs_cpath *a, uint64_t since_acc, cs_ps since, cs_ps now);
/* Paths alive (for tests: zero once every holder has cleared its paths). */
uint64_t cs_cpath_live(const cs_cpath *a);

/* ---- materialised paths (held by messages) ----------------------------------------------- */
/* A materialised copy of p: one reference, the caller's. */
cs_cp cs_cpl_materialise(cs_cpath *a, const cs_cpl *p);
cs_cp cs_cp_ref(cs_cpath *a, cs_cp q);
cs_ps cs_cp_end(const cs_cpath *a, cs_cp q);
/* A lazy path that takes over the reference to q. */
static inline cs_cpl cs_cpl_of(const cs_cpath *a, cs_cp q)
{
    cs_cpl p = {.base = q, .end = q ? cs_cp_end(a, q) : 0};
    return p;
}
void cs_cp_release(cs_cpath *a, cs_cp q); /* 0 is a no-op */

/* ---- lazy paths ------------------------------------------------------------------------------ */
/* Where p ends (the kernel start for the empty path). */
cs_ps cs_cpl_end(const cs_cpath *a, const cs_cpl *p);
/* dst = src (dst's old path released). */
void cs_cpl_set(cs_cpath *a, cs_cpl *dst, const cs_cpl *src);
void cs_cpl_clear(cs_cpath *a, cs_cpl *p);
/* Moves src into dst (dst released; src becomes empty without a reference change). */
void cs_cpl_move(cs_cpath *a, cs_cpl *dst, cs_cpl *src);
/* dst = the later-ending of dst and src (src kept as it was). Ties keep dst. */
static inline void cs_cpl_later(cs_cpath *a, cs_cpl *dst, const cs_cpl *src)
{
    if (src->end > dst->end)
        cs_cpl_set(a, dst, src);
}
void cs__cpl_settle(cs_cpath *a, cs_cpl *p); /* internal: the segments into a new base */
/* Extends p with a segment of `cause` up to t_end (nothing when t_end is not after its end). */
static inline void cs_cpl_push(cs_cpath *a, cs_cpl *p, int cause, cs_ps t_end)
{
    if (t_end <= p->end)
        return;
    p->end = t_end;
    if (p->n && p->cause[p->n - 1] == cause) { /* the same cause goes on: one longer segment */
        p->t[p->n - 1] = t_end;
        return;
    }
    if (p->n == CS_CPL_SEGS)
        cs__cpl_settle(a, p);
    p->cause[p->n] = (uint8_t)cause;
    p->t[p->n++] = t_end;
}
/* The kernel's attribution: p's picoseconds per cause since the kernel start (the segments
 * after the last compute segment moved to fill_drain). Sums to cs_cpl_end(p) - t0. */
void cs_cpl_result(cs_cpath *a, const cs_cpl *p, uint64_t out_ps[CS_CAUSES]);

#endif

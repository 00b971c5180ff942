/* sm — warps, CTAs and the load/store unit.
 *
 * Events: one embedded issue event per sub-partition (armed only while some warp there is
 * ready), one LSU event, and one pooled completion event per LDS/STS and per MMA. Line
 * responses arrive through the response port. Warps blocked on a condition record what they
 * wait for, and only the completion that can satisfy it wakes them, so a stream of copy
 * responses does not turn into a stream of useless issue attempts.
 */
#include "sm.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "access.h"
#include "alloc.h"
#include "check.h"
#include "opcheck.h"

static const cs_cfg_key sm_keys[] = {
    CS_CFG_K(cs_sm_params, count, "count", CS_CFG_INT, false, "108", 1, 65535, "SMs", "streaming multiprocessors"),
    CS_CFG_K(cs_sm_params, subpartitions, "subpartitions", CS_CFG_INT, false, "4", 1, 8, "",
             "sub-partitions (warp schedulers, each with a tensor core and a register-file slice)"),
    CS_CFG_K(cs_sm_params, max_warps, "max_warps", CS_CFG_INT, false, "64", 1, 255, "warps", "resident warps per SM"),
    CS_CFG_K(cs_sm_params, max_ctas, "max_ctas", CS_CFG_INT, false, "32", 1, 255, "CTAs", "resident CTAs per SM"),
    CS_CFG_K(cs_sm_params, issue_per_cycle, "issue_per_cycle", CS_CFG_INT, false, "1", 1, 8, "ops",
             "ops a sub-partition issues per cycle"),
    CS_CFG_K(cs_sm_params, lsu_lines_per_cycle, "lsu_lines_per_cycle", CS_CFG_INT, false, "1", 1, 64, "lines",
             "line requests the load/store unit issues per cycle"),
    CS_CFG_K(cs_sm_params, max_outstanding, "max_outstanding", CS_CFG_INT, false, "512", 1, 1 << 20, "lines",
             "line requests in flight per SM (miss-tracking capacity)"),
    CS_CFG_K(cs_sm_params, lsu_queue, "lsu_queue", CS_CFG_INT, false, "64", 1, 1 << 20, "ops",
             "memory ops waiting in the load/store unit"),
};

static void check_sm(const void *params, cs_cfg_check *chk)
{
    const cs_sm_params *p = params;
    if (p->max_warps % p->subpartitions)
        cs_cfg_fail2(chk, "max_warps", "subpartitions", "must be a multiple of subpartitions (got %lld)",
                     (long long)p->max_warps);
}

const cs_cfg_schema cs_sm_schema =
    CS_CFG_SCHEMA("sm", cs_sm_params, sm_keys, check_sm, "Streaming multiprocessors: warps, CTAs, issue, LSU.");

enum { MAX_GROUPS = CS_OP_MAX_COPY_GROUPS, MAX_SP = 8, MMA_IN_FLIGHT = 2, MIO_CYCLES = 32 };
enum { W_FREE, W_READY, W_BLOCKED, W_BAR, W_DRAIN, W_DONE };
enum { B_NONE, B_LDS, B_MMA, B_LSU, B_CP, B_CIM };
enum { CLS_CP = 0, CLS_LDG = 1, CLS_STG = 2, CLS_RED = 3, CLS_SPILL = 4, CLS_CIMW = 5, CLS_CIMIN = 6, CLS_CIMREQ = 7 };

/* A CiM op in flight: a weight write (lines landing one by one), a MAC whose inputs come from
 * memory, or a MAC sent to an L2 slice. Indexed by the payload bits of the request tag. */
/* A local CiM macro as its SM sees it: the tile it holds (sequence number, written or not)
 * and how many of the announced MACs have yet to use it. A write waits until the previous
 * tile is used up; a MAC waits until the macro holds its tile (op.seq), written. */
typedef struct macro_state {
    cs_cpl tile, mac, busy; /* paths: the tile's write completion, the latest MAC done, the latest operation */
    uint32_t wr_pending;  /* weight writes not finished */
    uint32_t mac_pending; /* MACs not finished */
    uint32_t uses_left;   /* MACs the current tile still has to serve */
    uint32_t writes;      /* writes started in this kernel (the next must have tag == writes) */
    uint16_t seq;         /* the current tile's sequence number */
    bool has_tile;        /* written and not being overwritten */
} macro_state;

typedef struct cim_job {
    uint32_t warp, macro, lines_left;
    uint32_t send_bytes;  /* L2 CiM: the input bytes the request carries */
    cs_ps t_end;
    cs_op op;
    cs_cpl path; /* the latest line written or landed; a local MAC's own path */
    int32_t next_free;
} cim_job;

typedef struct grp {
    uint32_t tag, count;
} grp;

/* The fields the issue scan reads (state, ready_at) come first, and the groups live outside
 * the struct (sm->group_store), so the scan touches one cache line per warp. */
typedef struct warp {
    int state, blocked_on;
    cs_ps ready_at;
    int32_t cta;          /* CTA slot, -1 when the warp slot is free */
    uint32_t sp;
    cs_op *ops;
    size_t cap;
    uint32_t n, pc;
    uint32_t lds_pending, mma_pending, mem_pending, cim_pending;
    grp *groups;          /* MAX_GROUPS entries */
    uint32_t ngroups;
    uint32_t wait_tag;
    /* Critical paths (cpath.h): where the warp is (up to its latest issue or wake), the
     * latest completion of each kind of its work, its MMAs in flight (they end in order). */
    int gap;              /* cause of the time until the next issue (ISSUE unless deferred) */
    cs_cpl path, lds, mma, mem, landed, cim;
    cs_cpl mma_fl[MMA_IN_FLIGHT];
    uint32_t mma_head;
    /* L2 CiM input broadcast: the slice this warp last sent inputs to, the rows and pitch of
     * the staged block, and the byte range of each row it holds (CS_OPF_BCAST) */
    uint32_t bc_slice, bc_rows, bc_pitch, bc_lo, bc_hi;
    cs_ps bcast_smem_t; /* local CiM: when the inputs of the warp's last leader MAC were read */
} warp;

typedef struct cta {
    bool used;
    uint32_t id, warps, live, at_bar;
    uint64_t smem, regs;
    cs_cpl bar, fin; /* the latest warp at the barrier; the latest warp to finish */
} cta;

typedef struct sp_state {
    cs_event issue_ev;
    cs_ps armed_at;
    uint32_t rr;
    cs_ps tc_free, rf_free;
    bool rf_cim;          /* the register-file port's latest reservation is a CiM macro's */
    cs_cpl tc, rf;        /* paths of the latest tensor-core and register-port users */
} sp_state;

typedef struct lsu_op {
    cs_op op;
    uint32_t warp, cls;
    uint32_t row;         /* next row to coalesce */
    uint64_t next_addr;   /* next byte of that row */
    uint32_t job;         /* CiM job of the CLS_CIM* classes */
    cs_cp snap;           /* the path at the op's issue (owned; each line takes a reference) */
} lsu_op;

struct cs_sm {
    cs_component base;
    uint32_t index;
    cs_sm_params p;
    cs_tc_params tc;
    cs_rf_params rf;
    uint64_t smem_carveout;
    const cs_clock *clk;
    cs_req_pool *pool;
    cs_cpath *cpa;                /* the pool's arena of critical paths */
    cs_cpl smem_path;             /* the latest shared-memory pipeline reservation's path */
    cs_cp lsu_unblock;            /* what let the LSU go on after it stalled */
    bool lsu_full;                /* the LSU stalled on max_outstanding */
    cs_cpl finish;                /* the path of the SM's last CTA */
    cs_smem *smem;
    cs_port req_out, resp_in;
    /* CiM: local macros (rf, smem) or remote ones (l2) */
    cs_cim_group *cim;
    uint32_t cim_macros;          /* local macros, or macros per slice when remote */
    uint32_t cim_slices;          /* > 0: remote (L2) CiM */
    macro_state *ms;              /* per local macro */
    cim_job *jobs;
    size_t njobs, jobs_cap;
    int32_t free_job;
    /* stream */
    cs_opsrc *src;
    uint32_t stream;
    bool stream_done, have_begin;
    cs_op begin;
    cs_opcheck chk;               /* the stream's static rules (sim/core/opcheck.h) */
    uint64_t ops_read;
    cs_status status;
    cs_err err;
    /* residency */
    warp *warps;
    grp *group_store;
    cta *ctas;
    uint32_t warps_used, ctas_used;
    uint64_t smem_used, regs_used;
    sp_state sp[MAX_SP];
    uint64_t rf_bytes_per_cycle; /* per sub-partition */
    bool rf_ideal;               /* unlimited register-file bandwidth */
    /* LSU */
    lsu_op *lsu;
    uint32_t lsu_head, lsu_len, lsu_cap;
    cs_event lsu_ev;
    cs_ps lsu_slot;           /* next free issue slot */
    uint32_t outstanding;
    bool lsu_wait_credit;
    cs_ps credit_since;       /* the LSU has waited for crossbar credit since */
    uint64_t credit_stall_acc; /* cs_cpath_dram_stalled then */
    bool done;
    cs_ps finish_ps;
    void (*on_done)(void *ctx);
    void *on_done_ctx;
    cs_ps cta_done[CS_SM_CTA_TIMES];
    cs_sm_counts c;
    /* conventions (cs_sm_set_conventions) and the per-dataspace accounting (access.h) */
    cs_access acc;
    bool drain_reads;         /* count the read of an output tile leaving a level */
    bool pe_array;            /* MMAs from shared memory run on the PE array */
    uint32_t acc_bytes;       /* PE array: bytes of an accumulator */
    uint64_t opreg_read, opreg_write; /* actions: PE operand-register bytes */
    /* broadcast inputs (CS_OPF_BCAST on a local MAC or a PE-array MMA): when the last source's
     * shared-memory read ends; the last global-input MAC's job while its lines are in flight
     * (-1 once landed, at bcast_in_t) and the MACs waiting for them */
    cs_ps bcast_smem_t, bcast_in_t;
    int32_t bcast_job;
    struct follower {
        uint32_t warp, leader; /* the leader's job */
        cs_op op;
    } *followers;
    size_t nfollowers, followers_cap;
};

static cs_ps now_of(const cs_sm *sm) { return cs_engine_now(sm->base.eng); }
static cs_ps after(const cs_sm *sm, cs_ps t, uint64_t cycles) { return cs_clock_after(sm->clk, t, cycles); }

/* ---- critical paths (cpath.h) ------------------------------------------------------------- */

static void join(cs_sm *sm, cs_cpl *dst, const cs_cpl *src) { cs_cpl_later(sm->cpa, dst, src); }
static void push(cs_sm *sm, cs_cpl *p, int cause, cs_ps t) { cs_cpl_push(sm->cpa, p, cause, t); }
static void clear(cs_sm *sm, cs_cpl *p) { cs_cpl_clear(sm->cpa, p); }

static void clear_warp_paths(cs_sm *sm, warp *w)
{
    clear(sm, &w->path);
    clear(sm, &w->lds);
    clear(sm, &w->mma);
    clear(sm, &w->mem);
    clear(sm, &w->landed);
    clear(sm, &w->cim);
    for (int i = 0; i < MMA_IN_FLIGHT; i++)
        clear(sm, &w->mma_fl[i]);
    w->mma_head = 0;
    w->gap = CS_CAUSE_ISSUE;
}

/* The path of a shared-memory pipeline reservation made at `now` for work at path *p that
 * ends at t: if the pipeline was busy (until `before`), the wait follows its previous user, or
 * counts as contention when that user is a CiM macro. The pipeline's path becomes *p. */
static void smem_path(cs_sm *sm, cs_cpl *p, cs_ps now, cs_ps before, bool cim_tail, int cause, cs_ps t)
{
    if (before > now) {
        if (cim_tail)
            push(sm, p, CS_CAUSE_CONTENTION, before);
        else
            join(sm, p, &sm->smem_path);
    }
    push(sm, p, cause, t);
    cs_cpl_set(sm->cpa, &sm->smem_path, p);
}

static void arm_sp(cs_sm *sm, uint32_t s, cs_ps t)
{
    sp_state *sp = &sm->sp[s];
    cs_ps now = now_of(sm);
    if (t < now)
        t = now;
    /* Keep the earlier of the pending time and t (re-arming moves the event). */
    if (cs_event_pending(&sp->issue_ev) && sp->armed_at <= t)
        return;
    sp->armed_at = t;
    cs_engine_arm(sm->base.eng, &sp->issue_ev, t, CS_PRIO_DEFAULT, NULL, s);
}

static void wake(cs_sm *sm, warp *w, cs_ps t)
{
    if (w->state != W_BLOCKED)
        return;
    switch (w->blocked_on) { /* the completion that ends the wait joins the warp's path */
    case B_LDS:
        join(sm, &w->path, &w->lds);
        break;
    case B_MMA:
        join(sm, &w->path, &w->mma);
        join(sm, &w->path, &w->cim);
        break;
    case B_CP:
        join(sm, &w->path, &w->landed);
        break;
    case B_LSU:
        w->gap = CS_CAUSE_STAGING; /* waiting for room in the load/store unit */
        break;
    default: /* B_CIM: joined at issue, against the macro's paths */
        break;
    }
    w->state = W_READY;
    w->blocked_on = B_NONE;
    if (w->ready_at < t)
        w->ready_at = t;
    arm_sp(sm, w->sp, w->ready_at);
}

static void fail(cs_sm *sm, cs_status st, const char *fmt, const char *detail, uint64_t v)
{
    if (sm->status == CS_OK) {
        sm->status = st;
        cs_err_add(&sm->err, st, fmt, sm->stream, (unsigned long long)sm->ops_read, detail,
                   (unsigned long long)v);
    }
    cs_engine_stop(sm->base.eng);
}

/* ---- copy groups -------------------------------------------------------------------------- */

static void group_add(warp *w, uint32_t tag, uint32_t n)
{
    for (uint32_t i = 0; i < w->ngroups; i++)
        if (w->groups[i].tag == tag) {
            w->groups[i].count += n;
            return;
        }
    CS_ASSERT(w->ngroups < MAX_GROUPS);
    w->groups[w->ngroups++] = (grp){tag, n};
}

static void group_dec(warp *w, uint32_t tag)
{
    for (uint32_t i = 0; i < w->ngroups; i++)
        if (w->groups[i].tag == tag) {
            if (--w->groups[i].count == 0)
                w->groups[i] = w->groups[--w->ngroups];
            return;
        }
    CS_ASSERT(!"copy response for an unknown group");
}

static uint32_t groups_upto(const warp *w, uint32_t tag)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < w->ngroups; i++)
        if (w->groups[i].tag <= tag)
            n += w->groups[i].count;
    return n;
}

/* ---- CTAs --------------------------------------------------------------------------------- */

static void fetch_ctas(cs_sm *sm, const cs_cpl *from);

static void check_done(cs_sm *sm)
{
    if (sm->stream_done && !sm->have_begin && sm->ctas_used == 0 && !sm->done) {
        sm->done = true;
        sm->finish_ps = now_of(sm);
        push(sm, &sm->finish, CS_CAUSE_ISSUE, sm->finish_ps);
        if (sm->on_done)
            sm->on_done(sm->on_done_ctx);
    }
}

static bool fits(const cs_sm *sm, const cs_op *b)
{
    uint64_t regs = (uint64_t)b->rows * 32 * b->stride;
    return sm->ctas_used < (uint32_t)sm->p.max_ctas && sm->warps_used + b->rows <= (uint32_t)sm->p.max_warps &&
           sm->smem_used + b->row_bytes <= sm->smem_carveout && sm->regs_used + regs <= sm->rf.size_bytes / 4;
}

static void finish_cta(cs_sm *sm, cta *c)
{
    if (c->id < CS_SM_CTA_TIMES)
        sm->cta_done[c->id] = now_of(sm);
    c->used = false;
    sm->ctas_used--;
    sm->warps_used -= c->warps;
    sm->smem_used -= c->smem;
    sm->regs_used -= c->regs;
    sm->c.ctas++;
    for (uint32_t i = 0; i < (uint32_t)sm->p.max_warps; i++)
        if (sm->warps[i].cta == (int32_t)(c - sm->ctas)) {
            sm->warps[i].cta = -1;
            sm->warps[i].state = W_FREE;
        }
    /* the CTAs that start now were held back by this one's resources */
    join(sm, &sm->finish, &c->fin);
    cs_cpl fin = c->fin;
    memset(&c->fin, 0, sizeof c->fin); /* fin's reference moves to the local */
    clear(sm, &c->bar);
    fetch_ctas(sm, &fin);
    clear(sm, &fin);
}

static void release_barrier(cs_sm *sm, cta *c)
{
    int32_t ci = (int32_t)(c - sm->ctas);
    cs_ps t = after(sm, now_of(sm), 1);
    c->at_bar = 0;
    push(sm, &c->bar, CS_CAUSE_ISSUE, now_of(sm));
    for (uint32_t i = 0; i < (uint32_t)sm->p.max_warps; i++) {
        warp *w = &sm->warps[i];
        if (w->cta == ci && w->state == W_BAR) {
            cs_cpl_set(sm->cpa, &w->path, &c->bar); /* every warp waited for the last to arrive */
            w->state = W_READY;
            w->ready_at = t;
            arm_sp(sm, w->sp, t);
        }
    }
}

/* A warp with nothing left to issue finishes once its work in flight is done. */
static void try_finish(cs_sm *sm, warp *w)
{
    if (w->pc < w->n || w->lds_pending || w->mma_pending || w->mem_pending || w->cim_pending ||
        w->ngroups)
        return;
    w->state = W_DONE;
    cta *c = &sm->ctas[w->cta];
    /* the warp is done when its last piece of work is */
    join(sm, &w->path, &w->lds);
    join(sm, &w->path, &w->mma);
    join(sm, &w->path, &w->mem);
    join(sm, &w->path, &w->landed);
    join(sm, &w->path, &w->cim);
    push(sm, &w->path, CS_CAUSE_ISSUE, now_of(sm));
    join(sm, &c->fin, &w->path);
    join(sm, &c->bar, &w->path);
    clear_warp_paths(sm, w);
    c->live--;
    if (c->live == 0)
        finish_cta(sm, c);
    else if (c->at_bar && c->at_bar == c->live)
        release_barrier(sm, c);
}

static bool op_valid(const cs_sm *sm, const cta *c, const cs_op *op, const char **why)
{
    if (op->warp >= c->warps)
        return *why = "warp index beyond the CTA's warps", false;
    switch (op->kind) {
    case CS_OP_LDS:
    case CS_OP_STS:
        if (!op->rows || !op->row_bytes)
            return *why = "empty shared-memory access", false;
        if ((uint64_t)op->local + (uint64_t)(op->rows ? op->rows - 1 : 0) * op->stride + op->row_bytes > c->smem)
            return *why = "shared-memory access beyond the CTA's allocation", false;
        return true;
    case CS_OP_CP_ASYNC:
        if (!op->rows || !op->row_bytes)
            return *why = "empty copy", false;
        if (op->local >= c->smem)
            return *why = "copy destination beyond the CTA's shared memory", false;
        return true;
    case CS_OP_LDG:
    case CS_OP_STG:
    case CS_OP_RED:
        if (!op->rows || !op->row_bytes)
            return *why = "empty memory access", false;
        if ((op->flags & CS_OPF_FROM_SMEM) &&
            (uint64_t)op->local + (uint64_t)(op->rows - 1) * op->tag + (op->x ? op->x : op->row_bytes) > c->smem)
            return *why = "store data beyond the CTA's shared memory", false;
        if ((op->flags & CS_OPF_FROM_CIM) && (!sm->cim || op->x >= sm->cim_macros))
            return *why = "store from a CiM macro this SM does not have", false;
        return true;
    case CS_OP_CP_WAIT:
    case CS_OP_BAR:
        return true;
    case CS_OP_MMA:
        if (op->dtype >= CS_DTYPE_COUNT)
            return *why = "unknown data type", false;
        if (!op->rows || !op->row_bytes || !op->stride)
            return *why = "empty MMA", false;
        if (op->flags & CS_OPF_FROM_SMEM) { /* the PE-array form: A at local, B at addr */
            uint64_t eb = (uint64_t)cs_dtype_bytes(op->dtype), kb = (uint64_t)op->stride * eb;
            if (!sm->pe_array)
                return *why = "MMA from shared memory needs the PE array (compat.baseline = pe_array)", false;
            if ((uint64_t)op->local + (uint64_t)(op->rows - 1) * op->tag + kb > c->smem ||
                op->addr + (uint64_t)(op->row_bytes - 1) * op->x + kb > c->smem)
                return *why = "MMA operands beyond the CTA's shared memory", false;
        }
        return true;
    case CS_OP_CIM_WRITE:
    case CS_OP_CIM_READ:
        if (!sm->cim)
            return *why = "CiM op but no CiM macros at this SM", false;
        if (op->x >= sm->cim_macros)
            return *why = "macro index beyond the SM's macros", false;
        if (op->kind == CS_OP_CIM_WRITE && !(op->flags & CS_OPF_ACCUM) && (!op->rows || !op->row_bytes))
            return *why = "empty weight write", false;
        return true;
    case CS_OP_CIM_MAC:
        if (!sm->cim && !sm->cim_slices)
            return *why = "CiM op but no CiM macros at this SM or in L2", false;
        if (op->x >= (sm->cim_slices ? sm->cim_slices * sm->cim_macros : sm->cim_macros))
            return *why = "macro index beyond the CiM macros", false;
        if (!op->rows || !op->row_bytes || !op->stride)
            return *why = "empty CiM MAC", false;
        if (sm->cim && ((uint64_t)op->row_bytes > cs_cim_tile_k(cs_cim_group_prim(sm->cim)) ||
                        (uint64_t)op->stride > cs_cim_tile_n(cs_cim_group_prim(sm->cim))))
            return *why = "CiM MAC larger than the macro's weight tile", false;
        if ((op->flags & CS_OPF_FROM_SMEM) &&
            (uint64_t)op->local + (uint64_t)(op->rows - 1) * op->tag + op->row_bytes > c->smem)
            return *why = "CiM inputs beyond the CTA's shared memory", false;
        return true;
    default:
        return *why = "op kind not valid inside a CTA", false;
    }
}

/* Reads the next CTA (its ops into per-warp arrays) and starts it, while resources allow. A CTA
 * that starts now waited for `from` (the CTA that freed its resources; NULL at the start). */
static void fetch_ctas(cs_sm *sm, const cs_cpl *from)
{
    while (!sm->stream_done && sm->status == CS_OK) {
        if (!sm->have_begin) {
            bool eof = false;
            cs_err e;
            cs_err_init(&e);
            cs_status st = cs_opsrc_next(sm->src, sm->stream, &sm->begin, &eof, &e);
            if (st != CS_OK) {
                cs_err_merge(&sm->err, &e);
                sm->status = st;
                cs_engine_stop(sm->base.eng);
                return;
            }
            if (eof) {
                sm->stream_done = true;
                break;
            }
            sm->ops_read++;
            const char *why;
            if (sm->begin.kind != CS_OP_CTA_BEGIN || !cs_opcheck_next(&sm->chk, &sm->begin, &why)) {
                fail(sm, CS_FORMAT, "stream %u op %llu: %s (got kind %llu)",
                     sm->begin.kind != CS_OP_CTA_BEGIN ? "expected cta_begin" : why, sm->begin.kind);
                return;
            }
            const cs_op *b = &sm->begin;
            if (b->rows == 0 || b->rows > (uint32_t)sm->p.max_warps || b->row_bytes > sm->smem_carveout ||
                b->stride > (uint32_t)sm->rf.max_regs_per_thread ||
                (uint64_t)b->rows * 32 * b->stride > sm->rf.size_bytes / 4) {
                fail(sm, CS_FORMAT, "stream %u op %llu: %s (got %llu warps)",
                     "CTA needs more warps, shared memory or registers than an SM has", b->rows);
                return;
            }
            sm->have_begin = true;
        }
        if (!fits(sm, &sm->begin))
            return;
        sm->have_begin = false;
        uint32_t ci = 0;
        while (sm->ctas[ci].used)
            ci++;
        cta *c = &sm->ctas[ci];
        *c = (cta){.used = true, .id = sm->begin.x, .warps = sm->begin.rows, .live = sm->begin.rows,
                   .smem = sm->begin.row_bytes, .regs = (uint64_t)sm->begin.rows * 32 * sm->begin.stride};
        sm->ctas_used++;
        sm->warps_used += c->warps;
        sm->smem_used += c->smem;
        sm->regs_used += c->regs;
        /* claim warp slots, lowest first: warp w of the CTA is slot[w] */
        uint32_t slot[256], got = 0;
        for (uint32_t i = 0; i < (uint32_t)sm->p.max_warps && got < c->warps; i++)
            if (sm->warps[i].cta < 0)
                slot[got++] = i;
        CS_ASSERT(got == c->warps);
        for (uint32_t i = 0; i < got; i++) {
            warp *w = &sm->warps[slot[i]];
            w->cta = (int32_t)ci;
            w->n = w->pc = 0;
            w->lds_pending = w->mma_pending = w->mem_pending = w->cim_pending = w->ngroups = 0;
            w->state = W_READY;
            w->blocked_on = B_NONE;
            w->ready_at = now_of(sm);
            clear_warp_paths(sm, w);
            if (from)
                cs_cpl_set(sm->cpa, &w->path, from);
        }
        for (;;) {
            cs_op op;
            bool eof = false;
            cs_err e;
            cs_err_init(&e);
            cs_status st = cs_opsrc_next(sm->src, sm->stream, &op, &eof, &e);
            if (st != CS_OK) {
                cs_err_merge(&sm->err, &e);
                sm->status = st;
                cs_engine_stop(sm->base.eng);
                return;
            }
            if (eof) {
                fail(sm, CS_FORMAT, "stream %u op %llu: %s (got %llu)", "stream ends inside a CTA", 0);
                return;
            }
            sm->ops_read++;
            const char *why;
            if (!cs_opcheck_next(&sm->chk, &op, &why)) {
                fail(sm, CS_FORMAT, "stream %u op %llu: %s (got kind %llu)", why, op.kind);
                return;
            }
            if (op.kind == CS_OP_CTA_END)
                break;
            if (!op_valid(sm, c, &op, &why)) {
                fail(sm, CS_FORMAT, "stream %u op %llu: %s (got kind %llu)", why, op.kind);
                return;
            }
            warp *w = &sm->warps[slot[op.warp]];
            CS_GROW(w->ops, w->cap, w->n + 1);
            w->ops[w->n++] = op;
        }
        for (uint32_t i = 0; i < got; i++) {
            warp *w = &sm->warps[slot[i]];
            if (w->n == 0)
                try_finish(sm, w);
            else
                arm_sp(sm, w->sp, w->ready_at);
        }
    }
    check_done(sm);
}

/* ---- completions -------------------------------------------------------------------------- */

static void lds_done(void *ctx, void *ptr, uint64_t arg)
{
    cs_sm *sm = ctx;
    (void)ptr;
    warp *w = &sm->warps[arg];
    w->lds_pending--;
    cs_engine_progress(sm->base.eng);
    if (w->blocked_on == B_LDS && w->lds_pending == 0)
        wake(sm, w, now_of(sm));
    if (w->state == W_DRAIN)
        try_finish(sm, w);
}

static void mma_done(void *ctx, void *ptr, uint64_t arg)
{
    cs_sm *sm = ctx;
    (void)ptr;
    warp *w = &sm->warps[arg];
    cs_cpl *done = &w->mma_fl[w->mma_head]; /* a warp's MMAs end in issue order */
    w->mma_head = (w->mma_head + 1) % MMA_IN_FLIGHT;
    join(sm, &w->mma, done);
    clear(sm, done);
    w->mma_pending--;
    cs_engine_progress(sm->base.eng);
    if (w->blocked_on == B_MMA)
        wake(sm, w, now_of(sm));
    if (w->state == W_DRAIN)
        try_finish(sm, w);
}

/* The memory-instruction queue holds MIO_CYCLES of shared-memory bank work: beyond that a warp
 * that wants the banks waits (it stays ready and retries when the backlog has drained). */
static bool smem_backlogged(cs_sm *sm, warp *w, cs_ps now)
{
    cs_ps horizon = after(sm, now, MIO_CYCLES);
    if (cs_smem_free_at(sm->smem) <= horizon)
        return false;
    w->ready_at = cs_smem_free_at(sm->smem) - (horizon - now);
    w->gap = cs_smem_tail_cim(sm->smem) ? CS_CAUSE_CONTENTION : CS_CAUSE_STAGING;
    return true;
}

/* Joins a completion the warp depends on if it has happened (a shared-memory fill may still be
 * under way when its copy group counts as landed). */
static void join_done(cs_sm *sm, warp *w, const cs_cpl *dep, cs_ps now)
{
    if (cs_cpl_end(sm->cpa, dep) <= now)
        join(sm, &w->path, dep);
}

/* ---- CiM ---------------------------------------------------------------------------------- */

static void arm_lsu(cs_sm *sm);
static bool block(warp *w, int reason);
static void begin(cs_sm *sm, warp *w, cs_ps now);
static uint32_t lines_of(const cs_op *op);

static uint32_t job_get(cs_sm *sm)
{
    if (sm->free_job < 0) {
        CS_GROW(sm->jobs, sm->jobs_cap, sm->njobs + 1);
        sm->jobs[sm->njobs].next_free = -1;
        sm->free_job = (int32_t)sm->njobs++;
        CS_ASSERT(sm->njobs < (1u << 20)); /* the request tag holds 20 bits of job index */
    }
    uint32_t j = (uint32_t)sm->free_job;
    sm->free_job = sm->jobs[j].next_free;
    return j;
}

static void job_put(cs_sm *sm, uint32_t j)
{
    clear(sm, &sm->jobs[j].path);
    sm->jobs[j].next_free = sm->free_job;
    sm->free_job = (int32_t)j;
}

static void wake_cim_waiters(cs_sm *sm)
{
    for (uint32_t i = 0; i < (uint32_t)sm->p.max_warps; i++)
        if (sm->warps[i].blocked_on == B_CIM)
            wake(sm, &sm->warps[i], now_of(sm));
}

/* A CiM op of warp wi completes now; p is its path. */
static void cim_op_done(cs_sm *sm, uint32_t wi, const cs_cpl *p)
{
    warp *w = &sm->warps[wi];
    CS_ASSERT(w->cim_pending > 0);
    join(sm, &w->cim, p);
    w->cim_pending--;
    cs_engine_progress(sm->base.eng);
    if (w->blocked_on == B_MMA && w->cim_pending == 0)
        wake(sm, w, now_of(sm));
    wake_cim_waiters(sm);
    if (w->state == W_DRAIN)
        try_finish(sm, w);
}

static void write_done(void *ctx, void *ptr, uint64_t j)
{
    (void)ptr;
    cs_sm *sm = ctx;
    cim_job *jb = &sm->jobs[j];
    macro_state *ms = &sm->ms[jb->macro];
    ms->wr_pending--;
    ms->has_tile = true;
    ms->seq = jb->op.seq;
    ms->uses_left = jb->op.local;
    cs_cpl_set(sm->cpa, &ms->tile, &jb->path);
    uint32_t wi = jb->warp;
    cs_cpl p = jb->path;
    memset(&jb->path, 0, sizeof jb->path); /* the reference moves to p */
    job_put(sm, (uint32_t)j);
    cim_op_done(sm, wi, &p);
    clear(sm, &p);
}

static void mac_done(void *ctx, void *ptr, uint64_t j)
{
    (void)ptr;
    cs_sm *sm = ctx;
    cim_job *jb = &sm->jobs[j];
    uint32_t wi = jb->warp;
    macro_state *ms = &sm->ms[jb->macro];
    ms->mac_pending--;
    join(sm, &ms->mac, &jb->path);
    cs_cpl p = jb->path;
    memset(&jb->path, 0, sizeof jb->path);
    job_put(sm, (uint32_t)j);
    cim_op_done(sm, wi, &p);
    clear(sm, &p);
}

/* The path of a macro operation (write or compute) requested at t for work at path *p: it
 * waits behind the macro's earlier operation, runs for its own duration, then for the rest of
 * its host bank share (contention). The macro's path becomes *p. */
static void macro_path(cs_sm *sm, macro_state *ms, uint32_t macro, cs_cpl *p, cs_ps t, cs_ps before, int cause)
{
    if (before > t)
        join(sm, p, &ms->busy);
    if (cause == CS_CAUSE_CIM)
        cs_cpath_mark_compute(sm->cpa, before > t ? before : t, cs_cim_free_at(sm->cim, macro));
    push(sm, p, cause, cs_cim_own_end(sm->cim, macro));
    push(sm, p, CS_CAUSE_CONTENTION, cs_cim_free_at(sm->cim, macro));
    cs_cpl_set(sm->cpa, &ms->busy, p);
}

/* Starts a local MAC whose inputs are available at t_in, at path *in. */
static void mac_start(cs_sm *sm, uint32_t wi, const cs_op *op, cs_ps t_in, const cs_cpl *in)
{
    uint64_t macs = 0;
    uint32_t j = job_get(sm);
    cim_job *jb = &sm->jobs[j];
    *jb = (cim_job){.warp = wi, .macro = op->x, .op = *op, .next_free = -1};
    cs_cpl_set(sm->cpa, &jb->path, in);
    cs_ps before = cs_cim_free_at(sm->cim, op->x);
    cs_ps end = cs_cim_compute(sm->cim, op->x, op->rows, op->row_bytes, op->stride, t_in, &macs);
    macro_path(sm, &sm->ms[op->x], op->x, &jb->path, t_in, before, CS_CAUSE_CIM);
    cs_engine_post(sm->base.eng, end, CS_PRIO_DEFAULT, mac_done, sm, NULL, j);
}

/* Queues an LSU op moving a block for a CiM job (weights to a macro, inputs to a macro, or a
 * request to an L2 slice); snap is its path (the LSU op takes the reference). */
static void lsu_push_cim(cs_sm *sm, uint32_t wi, uint32_t cls, uint32_t job, uint64_t addr, uint32_t rows,
                         uint32_t row_bytes, uint32_t stride, cs_cp snap)
{
    lsu_op *l = &sm->lsu[(sm->lsu_head + sm->lsu_len++) % sm->lsu_cap];
    memset(&l->op, 0, sizeof l->op);
    l->op.addr = addr;
    l->op.rows = rows;
    l->op.row_bytes = row_bytes;
    l->op.stride = stride;
    l->warp = wi;
    l->cls = cls;
    l->row = 0;
    l->next_addr = addr;
    l->job = job;
    l->snap = snap;
    arm_lsu(sm);
}

/* A conflict-free stream of bytes through the shared-memory banks (CiM inputs, fills); *p (the
 * work's path) is extended to its end with `cause`. */
static cs_ps smem_stream(cs_sm *sm, cs_ps now, uint64_t bytes, bool write, cs_cpl *p, int cause)
{
    uint64_t w = cs_smem_width_bytes(sm->smem);
    cs_ps before = cs_smem_free_at(sm->smem);
    bool cim_tail = cs_smem_tail_cim(sm->smem);
    cs_ps t = cs_smem_access(sm->smem, now, (uint32_t)((bytes + w - 1) / w), bytes, write);
    smem_path(sm, p, now, before, cim_tail, cause, t);
    return t;
}

/* Global-input MACs broadcast from a leader whose lines are still in flight wait in
 * sm->followers; when its inputs land (job j, path *in) they start with it. */
static void start_followers(cs_sm *sm, uint32_t j, cs_ps t, const cs_cpl *in)
{
    size_t kept = 0;
    for (size_t i = 0; i < sm->nfollowers; i++) {
        struct follower f = sm->followers[i];
        if (f.leader == j)
            mac_start(sm, f.warp, &f.op, t, in);
        else
            sm->followers[kept++] = f;
    }
    sm->nfollowers = kept;
    if (sm->bcast_job == (int32_t)j) {
        sm->bcast_job = -1;
        sm->bcast_in_t = t;
    }
}

/* Reserves the sub-partition's register-file port for `cycles` from now (cim: for a macro in
 * the register file) and returns when the reservation ends. */
static cs_ps rf_reserve(cs_sm *sm, uint32_t s, cs_ps now, uint64_t cycles, bool cim)
{
    if (sm->rf_ideal)
        return now;
    sp_state *sp = &sm->sp[s];
    cs_ps start = now > sp->rf_free ? now : sp->rf_free;
    sp->rf_free = after(sm, start, cycles);
    sp->rf_cim = cim;
    return sp->rf_free;
}

/* The input bytes an L2 CiM MAC sends: all of its rows x K, or with CS_OPF_BCAST only the part
 * of each staged row the slice has not received yet from this warp's previous MACs to it (the
 * slice broadcasts what it holds to its macros). The warp's record of what the slice holds is
 * updated. */
static uint64_t l2_inputs(warp *w, const cs_op *op, uint32_t slice, uint64_t in_bytes)
{
    uint32_t lo = op->local, hi = (uint32_t)(op->local + in_bytes / op->rows);
    bool same = (op->flags & CS_OPF_BCAST) && w->bc_rows == op->rows && w->bc_pitch == op->tag &&
                w->bc_slice == slice && w->bc_hi > w->bc_lo;
    uint64_t row_bytes = hi - lo;
    if (same && lo >= w->bc_lo && hi <= w->bc_hi)
        return 0;
    if (same && lo >= w->bc_lo && lo <= w->bc_hi) { /* extends the block the slice holds */
        row_bytes = hi - w->bc_hi;
        w->bc_hi = hi;
        return row_bytes * op->rows;
    }
    w->bc_slice = slice;
    w->bc_rows = op->rows;
    w->bc_pitch = op->tag;
    w->bc_lo = lo;
    w->bc_hi = hi;
    return row_bytes * op->rows;
}

static bool cim_issue(cs_sm *sm, uint32_t wi, const cs_op *op, cs_ps now)
{
    warp *w = &sm->warps[wi];
    if (op->kind == CS_OP_CIM_READ) {
        macro_state *ms = &sm->ms[op->x];
        if (ms->mac_pending)
            return block(w, B_CIM);
        begin(sm, w, now);
        uint64_t bytes = (uint64_t)op->rows * op->row_bytes;
        if (op->flags & CS_OPF_BCAST) /* summed into the next read-out by the bank's adder tree */
            return true;
        sm->c.cim_psum_bytes += bytes;
        if ((op->flags & (CS_OPF_TO_SMEM | CS_OPF_ACCUM)) == (CS_OPF_TO_SMEM | CS_OPF_ACCUM)) {
            /* added to the partial sums already in shared memory: they stream out of the macro's
             * output buffer through the bank pipeline while the warp and the macro go on (later
             * bank users queue behind them) */
            cs_cpl p = {0};
            cs_cpl_set(sm->cpa, &p, &w->path);
            smem_stream(sm, now, bytes, false, &p, CS_CAUSE_PSUM);
            smem_stream(sm, now, bytes, true, &p, CS_CAUSE_PSUM);
            clear(sm, &p);
            cs_access_add(&sm->acc, CS_ACC_SMEM, CS_ACC_Z, CS_ACC_READ, bytes);
            cs_access_add(&sm->acc, CS_ACC_SMEM, CS_ACC_Z, CS_ACC_UPDATE, bytes);
            return true;
        }
        if (op->flags & CS_OPF_TO_SMEM) { /* partial sums written to shared memory at local */
            cs_ps t = smem_stream(sm, now, bytes, true, &w->path, CS_CAUSE_PSUM);
            cs_access_add(&sm->acc, CS_ACC_SMEM, CS_ACC_Z, CS_ACC_UPDATE, bytes);
            w->ready_at = t > now ? t : now;
            return true;
        }
        /* accumulate 4-byte partial sums into the register file (read-modify-write) */
        uint64_t words = bytes / 4;
        sm->c.rf_read += words;
        sm->c.rf_write += words;
        cs_access_add(&sm->acc, CS_ACC_RF, CS_ACC_Z, CS_ACC_READ, bytes);
        cs_access_add(&sm->acc, CS_ACC_RF, CS_ACC_Z, CS_ACC_UPDATE, bytes);
        uint32_t s = w->sp; /* into the issuing warp's registers (RF level: the macro's own sub-partition) */
        sp_state *sp = &sm->sp[s];
        cs_ps before = sp->rf_free;
        bool cim_tail = sp->rf_cim;
        cs_ps t = rf_reserve(sm, s, now, (2 * words * 4 + sm->rf_bytes_per_cycle - 1) / sm->rf_bytes_per_cycle, false);
        if (before > now && !sm->rf_ideal) {
            if (cim_tail)
                push(sm, &w->path, CS_CAUSE_CONTENTION, before);
            else
                join(sm, &w->path, &sp->rf);
        }
        push(sm, &w->path, CS_CAUSE_PSUM, t);
        cs_cpl_set(sm->cpa, &sp->rf, &w->path);
        w->ready_at = t > now ? t : now;
        return true;
    }
    if (sm->lsu_len == sm->lsu_cap && (op->kind == CS_OP_CIM_WRITE || !(op->flags & CS_OPF_FROM_SMEM) || sm->cim_slices))
        return block(w, B_LSU);
    if (op->kind == CS_OP_CIM_WRITE) {
        macro_state *ms = &sm->ms[op->x];
        if (ms->wr_pending || ms->mac_pending || ms->uses_left || op->tag != ms->writes)
            return block(w, B_CIM); /* an earlier tile is still to come or in use */
        begin(sm, w, now);
        ms->writes++;
        if (op->flags & CS_OPF_ACCUM) { /* resident: the tile stays, its new uses are announced */
            ms->seq = op->seq;
            ms->uses_left = op->local;
            ms->has_tile = true;
            cs_cpl_set(sm->cpa, &ms->tile, &w->path);
            wake_cim_waiters(sm);
            return true;
        }
        uint32_t j = job_get(sm);
        cim_job *jb = &sm->jobs[j];
        *jb = (cim_job){.warp = wi, .macro = op->x, .lines_left = lines_of(op), .op = *op, .next_free = -1};
        ms->wr_pending++;
        ms->has_tile = false;
        uint64_t wbytes = (uint64_t)op->rows * op->row_bytes;
        cs_access_add(&sm->acc, CS_ACC_DRAM, cs_access_ds(&sm->acc, op->addr), CS_ACC_READ, wbytes);
        cs_access_add(&sm->acc, CS_ACC_CIM, CS_ACC_B, CS_ACC_FILL, wbytes);
        lsu_push_cim(sm, wi, CLS_CIMW, j, op->addr, op->rows, op->row_bytes, op->stride,
                     cs_cpl_materialise(sm->cpa, &w->path));
        w->cim_pending++;
        return true;
    }
    /* CIM_MAC */
    if ((op->flags & CS_OPF_FROM_SMEM) && smem_backlogged(sm, w, now))
        return false;
    uint64_t in_bytes = (uint64_t)op->rows * op->row_bytes * (uint64_t)cs_dtype_bytes(op->dtype); /* K elements */
    sm->c.cim_in_bytes += in_bytes;
    if (sm->cim_slices) { /* L2 CiM: read the inputs, send them to the slice */
        begin(sm, w, now);
        uint64_t send = l2_inputs(w, op, op->x / sm->cim_macros, in_bytes);
        sm->c.cim_in_bytes -= in_bytes - send;
        cs_cpl p = {0};
        cs_cpl_set(sm->cpa, &p, &w->path);
        cs_ps t = send ? smem_stream(sm, now, send, false, &p, CS_CAUSE_STAGING) : now;
        uint32_t j = job_get(sm);
        sm->jobs[j] = (cim_job){.warp = wi, .macro = op->x, .t_end = t, .op = *op, .next_free = -1,
                                .send_bytes = (uint32_t)send};
        lsu_push_cim(sm, wi, CLS_CIMREQ, j, 0, 1, 0, 0, cs_cpl_materialise(sm->cpa, &p));
        clear(sm, &p);
        w->cim_pending++;
        return true;
    }
    macro_state *ms = &sm->ms[op->x];
    if (ms->wr_pending || !ms->has_tile || ms->seq != op->seq || !ms->uses_left)
        return block(w, B_CIM); /* not its tile (yet) */
    begin(sm, w, now);
    ms->uses_left--;
    ms->mac_pending++;
    w->cim_pending++;
    cs_access_add(&sm->acc, CS_ACC_CIM, CS_ACC_B, CS_ACC_READ,
                  (uint64_t)op->rows * op->row_bytes * op->stride * (uint64_t)cs_dtype_bytes(op->dtype));
    bool bcast = op->flags & CS_OPF_BCAST; /* the inputs the previous leader read, broadcast */
    if (bcast)
        sm->c.cim_in_bytes -= in_bytes;
    if (op->flags & CS_OPF_FROM_SMEM) {
        cs_cpl p = {0};
        cs_cpl_set(sm->cpa, &p, &w->path);
        cs_ps t_in = w->bcast_smem_t; /* a warp's MACs share the inputs its last leader read */
        if (!bcast) {
            t_in = w->bcast_smem_t = smem_stream(sm, now, in_bytes, false, &p, CS_CAUSE_STAGING);
            cs_access_add(&sm->acc, CS_ACC_SMEM, CS_ACC_A, CS_ACC_READ, in_bytes);
        } else if (t_in > now) {
            push(sm, &p, CS_CAUSE_STAGING, t_in);
        }
        mac_start(sm, wi, op, t_in > now ? t_in : now, &p);
        clear(sm, &p);
        return true;
    }
    if (bcast) {
        if (sm->bcast_job < 0) { /* the leader's inputs have landed */
            cs_cpl p = {0};
            cs_cpl_set(sm->cpa, &p, &w->path);
            mac_start(sm, wi, op, sm->bcast_in_t > now ? sm->bcast_in_t : now, &p);
            clear(sm, &p);
            return true;
        }
        CS_GROW(sm->followers, sm->followers_cap, sm->nfollowers + 1);
        sm->followers[sm->nfollowers++] = (struct follower){.warp = wi, .leader = (uint32_t)sm->bcast_job, .op = *op};
        return true;
    }
    cs_op in = *op; /* inputs come from memory: rows of K elements at pitch tag */
    in.row_bytes = (uint32_t)(in_bytes / op->rows);
    in.stride = op->tag;
    uint32_t j = job_get(sm);
    sm->jobs[j] = (cim_job){.warp = wi, .macro = op->x, .lines_left = lines_of(&in), .op = *op, .next_free = -1};
    sm->bcast_job = (int32_t)j;
    cs_access_add(&sm->acc, CS_ACC_DRAM, cs_access_ds(&sm->acc, op->addr), CS_ACC_READ, in_bytes);
    lsu_push_cim(sm, wi, CLS_CIMIN, j, op->addr, op->rows, in.row_bytes, op->tag, cs_cpl_materialise(sm->cpa, &w->path));
    return true;
}

/* A line (or an L2 CiM response) for CiM job j arrived; *lp is its path, up to now. */
static void cim_response(cs_sm *sm, cs_req *r, uint32_t cls, uint32_t j, cs_ps now, cs_cpl *lp)
{
    cim_job *jb = &sm->jobs[j];
    if (cls == CLS_CIMREQ) {
        uint64_t words = (uint64_t)r->rows * r->n; /* 4-byte partial sums, accumulated */
        sm->c.cim_psum_bytes += words * 4;
        sm->c.rf_read += words;
        sm->c.rf_write += words;
        uint32_t wi = jb->warp;
        job_put(sm, j);
        cim_op_done(sm, wi, lp);
        return;
    }
    uint32_t bytes = cs_req_data_bytes(r);
    if (cls == CLS_CIMW) {
        macro_state *ms = &sm->ms[jb->macro];
        cs_ps before = cs_cim_free_at(sm->cim, jb->macro);
        cs_ps end = cs_cim_write(sm->cim, jb->macro, bytes, now);
        macro_path(sm, ms, jb->macro, lp, now, before, CS_CAUSE_CIM_WRITE);
        join(sm, &jb->path, lp);
        if (end > jb->t_end)
            jb->t_end = end;
        if (--jb->lines_left == 0)
            cs_engine_post(sm->base.eng, jb->t_end > now ? jb->t_end : now, CS_PRIO_DEFAULT, write_done, sm, NULL, j);
        return;
    }
    /* CLS_CIMIN: compute once every input line has landed */
    join(sm, &jb->path, lp);
    if (--jb->lines_left == 0) {
        uint32_t wi = jb->warp;
        cs_op op = jb->op;
        cs_cpl in = jb->path;
        memset(&jb->path, 0, sizeof jb->path);
        job_put(sm, j);
        mac_start(sm, wi, &op, now, &in);
        start_followers(sm, j, now, &in);
        clear(sm, &in);
    }
}

/* ---- LSU ---------------------------------------------------------------------------------- */

static uint32_t lines_of(const cs_op *op)
{
    uint32_t n = 0;
    for (uint32_t r = 0; r < op->rows; r++) {
        uint64_t a = op->addr + (uint64_t)r * op->stride;
        n += (uint32_t)(((a + op->row_bytes - 1) >> 7) - (a >> 7) + 1);
    }
    return n;
}

static void arm_lsu(cs_sm *sm)
{
    if (!sm->lsu_len || sm->lsu_wait_credit || sm->outstanding >= (uint32_t)sm->p.max_outstanding ||
        cs_event_pending(&sm->lsu_ev))
        return;
    cs_ps now = now_of(sm);
    cs_engine_arm(sm->base.eng, &sm->lsu_ev, sm->lsu_slot > now ? sm->lsu_slot : now, CS_PRIO_DEFAULT, NULL, 0);
}

/* The path a line request of LSU op l starts from: the op's issue, or, when the LSU stalled
 * since, what let it go on (one reference, for the request). */
static cs_cp line_path(cs_sm *sm, const lsu_op *l)
{
    bool unblock = sm->lsu_unblock && cs_cp_end(sm->cpa, sm->lsu_unblock) > cs_cp_end(sm->cpa, l->snap);
    return cs_cp_ref(sm->cpa, unblock ? sm->lsu_unblock : l->snap);
}

static void set_unblock(cs_sm *sm, const cs_cpl *p)
{
    cs_cp_release(sm->cpa, sm->lsu_unblock);
    sm->lsu_unblock = cs_cpl_materialise(sm->cpa, p);
}

static void lsu_run(void *ctx, void *ptr, uint64_t arg)
{
    (void)ptr;
    (void)arg;
    cs_sm *sm = ctx;
    cs_ps now = now_of(sm);
    if (sm->lsu_slot < now)
        sm->lsu_slot = cs_clock_next_edge(sm->clk, now);
    uint64_t per_cycle = (uint64_t)sm->p.lsu_lines_per_cycle, in_cycle = 0;
    for (int budget = 64; budget > 0 && sm->lsu_len; budget--) {
        if (sm->outstanding >= (uint32_t)sm->p.max_outstanding) {
            sm->c.lsu_stalls++;
            sm->lsu_full = true; /* the response that frees a slot becomes lsu_unblock */
            return; /* a response re-arms */
        }
        if (!cs_port_can_send(&sm->req_out)) {
            sm->lsu_wait_credit = true;
            sm->credit_since = now;
            sm->credit_stall_acc = cs_cpath_dram_stalled(sm->cpa, now);
            return;
        }
        lsu_op *l = &sm->lsu[sm->lsu_head];
        const cs_op *op = &l->op;
        if (l->cls == CLS_CIMREQ) { /* one message carrying a MAC's inputs to an L2 slice */
            const cim_job *jb = &sm->jobs[l->job];
            cs_req *r = cs_req_alloc(sm->pool);
            r->kind = CS_REQ_CIM;
            r->src = (uint16_t)sm->index;
            r->dst = (uint16_t)(jb->op.x / sm->cim_macros);
            r->macro = (uint16_t)(jb->op.x % sm->cim_macros);
            r->seq = jb->op.seq;
            r->rows = jb->op.rows;
            r->k = jb->op.row_bytes;
            r->n = jb->op.stride;
            r->bytes = jb->send_bytes; /* 0: a header only (the inputs were broadcast) */
            r->tag = l->warp | (CLS_CIMREQ << 8) | (l->job << 12);
            cs_ps t = jb->t_end > sm->lsu_slot ? jb->t_end : sm->lsu_slot; /* after the inputs are read */
            r->t_issue = t;
            r->cp = line_path(sm, l);
            cs_cp_release(sm->cpa, l->snap);
            l->snap = 0;
            sm->c.cim_macs_remote += (uint64_t)r->rows * r->k * r->n;
            bool sent = cs_port_try_send_at(&sm->req_out, t, r, 0, cs_req_wire_bytes(r));
            CS_ASSERT(sent);
            sm->outstanding++;
            sm->lsu_slot = after(sm, sm->lsu_slot, 1);
            sm->lsu_head = (sm->lsu_head + 1) % sm->lsu_cap;
            sm->lsu_len--;
            for (uint32_t i = 0; i < (uint32_t)sm->p.max_warps; i++)
                if (sm->warps[i].blocked_on == B_LSU)
                    wake(sm, &sm->warps[i], now);
            continue;
        }
        uint64_t row_end = op->addr + (uint64_t)l->row * op->stride + op->row_bytes;
        uint64_t a = l->next_addr, line = a & ~(uint64_t)(CS_LINE_BYTES - 1);
        uint64_t end = row_end < line + CS_LINE_BYTES ? row_end : line + CS_LINE_BYTES;
        uint8_t sectors = 0;
        for (uint64_t s = (a - line) / CS_SECTOR_BYTES; s * CS_SECTOR_BYTES < end - line; s++)
            sectors |= (uint8_t)(1u << s);
        cs_req *r = cs_req_alloc(sm->pool);
        r->addr = line;
        r->sectors = sectors;
        r->kind = l->cls == CLS_STG ? CS_REQ_WRITE : l->cls == CLS_RED ? CS_REQ_REDUCE : CS_REQ_READ;
        r->src = (uint16_t)sm->index;
        uint32_t payload = l->cls == CLS_CP ? op->tag & 0xfffffu : l->cls >= CLS_CIMW ? l->job : 0;
        r->tag = l->warp | (l->cls << 8) | (payload << 12);
        r->t_issue = sm->lsu_slot;
        r->cp = line_path(sm, l);
        uint32_t bytes = cs_req_data_bytes(r);
        if (r->kind == CS_REQ_READ) {
            sm->c.bytes_read += bytes;
            sm->c.lines_read++;
        } else {
            sm->c.bytes_written += bytes;
            sm->c.lines_written++;
        }
        bool ok = cs_port_try_send_at(&sm->req_out, sm->lsu_slot, r, 0, cs_req_wire_bytes(r));
        CS_ASSERT(ok);
        sm->outstanding++;
        if (++in_cycle == per_cycle) {
            in_cycle = 0;
            sm->lsu_slot = after(sm, sm->lsu_slot, 1);
        }
        /* advance the cursor */
        l->next_addr = end;
        if (end == row_end) {
            if (++l->row < op->rows) {
                l->next_addr = op->addr + (uint64_t)l->row * op->stride;
            } else {
                cs_cp_release(sm->cpa, l->snap);
                l->snap = 0;
                sm->lsu_head = (sm->lsu_head + 1) % sm->lsu_cap;
                sm->lsu_len--;
                for (uint32_t i = 0; i < (uint32_t)sm->p.max_warps; i++)
                    if (sm->warps[i].blocked_on == B_LSU)
                        wake(sm, &sm->warps[i], now);
            }
        }
    }
    if (in_cycle)
        sm->lsu_slot = after(sm, sm->lsu_slot, 1);
    arm_lsu(sm);
}

static void lsu_credit(void *owner, cs_port *out)
{
    (void)out;
    cs_sm *sm = owner;
    if (sm->lsu_wait_credit && sm->lsu_len) {
        /* held back by the crossbar: the memory system's back-pressure, DRAM's for the share of
         * the L2 slices that were stalled on DRAM meanwhile, the L2's otherwise */
        cs_ps now = now_of(sm), since = sm->credit_since;
        cs_ps dram = cs_cpath_dram_share(sm->cpa, sm->credit_stall_acc, since, now);
        cs_cpl p = cs_cpl_of(sm->cpa, line_path(sm, &sm->lsu[sm->lsu_head]));
        push(sm, &p, CS_CAUSE_STAGING, since);
        push(sm, &p, CS_CAUSE_L2, now - dram);
        push(sm, &p, CS_CAUSE_DRAM, now);
        set_unblock(sm, &p);
        clear(sm, &p);
    }
    sm->lsu_wait_credit = false;
    arm_lsu(sm);
}

static void recv_resp(void *owner, cs_port *in, void *ptr, uint64_t arg)
{
    (void)in;
    (void)arg;
    cs_sm *sm = owner;
    cs_req *r = ptr;
    cs_ps now = now_of(sm);
    cs_port_release(&sm->resp_in);
    sm->outstanding--;
    uint32_t wi = r->tag & 0xff, cls = (r->tag >> 8) & 0xf, tag = r->tag >> 12;
    warp *w = &sm->warps[wi];
    uint32_t bytes = cs_req_data_bytes(r);
    cs_engine_progress(sm->base.eng);
    /* the line's path: its op's (or the LSU's), the wait for its issue slot, then its latency
     * as the memory system stamped it (reductions count wholly as partial-sum work) */
    cs_cpl lp = cs_cpl_of(sm->cpa, r->cp);
    r->cp = 0;
    int mc = cls == CLS_RED ? CS_CAUSE_PSUM : cls == CLS_SPILL ? CS_CAUSE_SPILL : -1;
    CS_ASSERT(r->dram_ps + r->cont_ps <= now - r->t_issue);
    cs_ps t_l2 = now - r->dram_ps - r->cont_ps;
    push(sm, &lp, mc >= 0 ? mc : CS_CAUSE_STAGING, r->t_issue);
    push(sm, &lp, mc >= 0 ? mc : CS_CAUSE_L2, t_l2);
    push(sm, &lp, mc >= 0 ? mc : CS_CAUSE_CONTENTION, t_l2 + r->cont_ps);
    push(sm, &lp, mc >= 0 ? mc : CS_CAUSE_DRAM, now);
    if (sm->lsu_full) { /* this response frees the slot the LSU waits for */
        sm->lsu_full = false;
        set_unblock(sm, &lp);
    }
    if (cls >= CLS_CIMW) {
        if (cls != CLS_CIMREQ)
            sm->c.bytes_returned += bytes;
        cim_response(sm, r, cls, tag, now, &lp);
        clear(sm, &lp);
        cs_req_free(sm->pool, r);
        arm_lsu(sm);
        return;
    }
    if (r->kind == CS_REQ_READ)
        sm->c.bytes_returned += bytes;
    else
        sm->c.bytes_acked += bytes;
    cs_req_free(sm->pool, r);
    if (cls == CLS_CP) {
        cs_ps t = smem_stream(sm, now, bytes, true, &lp, CS_CAUSE_STAGING);
        join(sm, &w->landed, &lp);
        group_dec(w, tag);
        if (w->blocked_on == B_CP && groups_upto(w, w->wait_tag) == 0)
            wake(sm, w, t);
    } else {
        if (cls == CLS_LDG)
            sm->c.rf_write += bytes / 4;
        join(sm, &w->mem, &lp);
        w->mem_pending--;
    }
    clear(sm, &lp);
    if (w->state == W_DRAIN)
        try_finish(sm, w);
    arm_lsu(sm);
}

/* ---- accounting and the PE array ---------------------------------------------------------- */

static uint64_t op_bytes(const cs_op *op);

/* Per-dataspace bytes of a memory op, and the on-chip read of a store's data: the registers
 * (counted as before), shared memory (CS_OPF_FROM_SMEM: bank time, and the read when drain reads
 * are counted) or a macro's output buffer (CS_OPF_FROM_CIM: nothing on chip). */
static void mem_account(cs_sm *sm, warp *w, const cs_op *op, cs_ps now)
{
    uint64_t bytes = op_bytes(op);
    int ds = cs_access_ds(&sm->acc, op->addr);
    if (op->kind == CS_OP_CP_ASYNC || op->kind == CS_OP_LDG) {
        cs_access_add(&sm->acc, CS_ACC_DRAM, ds, CS_ACC_READ, bytes);
        cs_access_add(&sm->acc, op->kind == CS_OP_LDG ? CS_ACC_RF : CS_ACC_SMEM, ds, CS_ACC_FILL, bytes);
        return;
    }
    if (op->kind == CS_OP_RED) /* a reduction reads what it adds to */
        cs_access_add(&sm->acc, CS_ACC_DRAM, ds, CS_ACC_READ, bytes);
    cs_access_add(&sm->acc, CS_ACC_DRAM, ds, CS_ACC_UPDATE, bytes);
    if (op->flags & CS_OPF_FROM_CIM)
        return;
    uint64_t src = op->x ? (uint64_t)op->x * op->rows : bytes; /* partial sums may be wider */
    if (op->flags & CS_OPF_FROM_SMEM) {
        uint64_t wv = cs_smem_width_bytes(sm->smem);
        uint32_t wf = (uint32_t)((src + wv - 1) / wv);
        cs_access_add(&sm->acc, CS_ACC_SMEM, ds, CS_ACC_DRAIN, src);
        cs_ps before = cs_smem_free_at(sm->smem);
        bool cim_tail = cs_smem_tail_cim(sm->smem);
        cs_ps t = sm->drain_reads ? cs_smem_access(sm->smem, now, wf, src, false)
                                  : cs_smem_access_uncounted(sm->smem, now, wf, src);
        cs_cpl p = {0};
        cs_cpl_set(sm->cpa, &p, &w->path);
        smem_path(sm, &p, now, before, cim_tail, CS_CAUSE_STAGING, t);
        clear(sm, &p);
        return;
    }
    cs_access_add(&sm->acc, CS_ACC_RF, ds, CS_ACC_DRAIN, src);
    if (sm->drain_reads)
        sm->c.rf_read += src / 4;
}

/* An MMA's time from `ready` (its operands in): the sub-partition's unit for `cycles` (its path
 * follows the unit's previous user when it has to wait for it), then the register-file port for
 * rf_bytes (each skipped by its ideal variant); completion after the unit's latency, posted to
 * mma_done, with p moved into the warp's MMA slot. */
static void mma_issue(cs_sm *sm, warp *w, uint32_t wi, cs_cpl *p, cs_ps ready, uint64_t cycles, uint64_t rf_bytes)
{
    sp_state *sp = &sm->sp[w->sp];
    cs_ps start = ready > sp->tc_free || sm->tc.ideal ? ready : sp->tc_free;
    cs_ps end = sm->tc.ideal ? ready : after(sm, start, cycles);
    if (start > ready)
        join(sm, p, &sp->tc);
    cs_cpath_mark_compute(sm->cpa, start, start);
    push(sm, p, CS_CAUSE_TC, end);
    if (!sm->rf_ideal) {
        uint64_t rf_cycles = (rf_bytes + sm->rf_bytes_per_cycle - 1) / sm->rf_bytes_per_cycle;
        bool rf_wait_cim = sp->rf_cim && sp->rf_free > start;
        cs_ps rf_start = start > sp->rf_free ? start : sp->rf_free;
        sp->rf_free = after(sm, rf_start, rf_cycles);
        sp->rf_cim = false;
        if (end < sp->rf_free) {
            if (rf_wait_cim) /* operands held up by a macro in the register file */
                push(sm, p, CS_CAUSE_CONTENTION, end + (rf_start > end ? rf_start - end : 0));
            end = sp->rf_free;
            push(sm, p, CS_CAUSE_TC, end);
        }
        cs_cpl_set(sm->cpa, &sp->rf, p);
    }
    if (end > sp->tc_free)
        sp->tc_free = end;
    cs_cpl_set(sm->cpa, &sp->tc, p);
    cs_ps done = after(sm, end, (uint64_t)sm->tc.latency_cycles);
    cs_cpath_mark_compute(sm->cpa, start, done);
    push(sm, p, CS_CAUSE_TC, done);
    cs_cpl_move(sm->cpa, &w->mma_fl[(w->mma_head + w->mma_pending) % MMA_IN_FLIGHT], p);
    if (w->sp < 8)
        sm->c.tc_busy_cycles[w->sp] += cycles;
    w->mma_pending++;
    cs_engine_post(sm->base.eng, done, CS_PRIO_DEFAULT, mma_done, sm, NULL, wi);
}

/* An MMA on the PE array (tensor_core.h, cs_tc_pe_cost): the operands stream from shared
 * memory (B once for the sub-partitions it is broadcast to), the MACs take the unit, the
 * accumulators take the register-file port. */
static void pe_mma(cs_sm *sm, warp *w, uint32_t wi, const cs_op *op, cs_ps now)
{
    cs_pe_cost c = cs_tc_pe_cost(&sm->tc, op, sm->acc_bytes);
    cs_cpl p = {0};
    cs_cpl_set(sm->cpa, &p, &w->path);
    cs_ps t_in = smem_stream(sm, now, c.a_bytes + c.b_bytes, false, &p, CS_CAUSE_STAGING);
    if (!(op->flags & CS_OPF_BCAST))
        sm->bcast_smem_t = t_in;
    else if (sm->bcast_smem_t > t_in) {
        t_in = sm->bcast_smem_t;
        push(sm, &p, CS_CAUSE_STAGING, t_in);
    }
    mma_issue(sm, w, wi, &p, t_in, c.cycles, c.z_read + c.z_update);
    sm->c.macs_useful += c.macs;
    if (op->dtype == CS_DTYPE_FP16)
        sm->c.macs_fp16 += c.macs;
    else
        sm->c.macs_int8 += c.macs;
    sm->c.rf_read += (c.z_read + 3) / 4;
    sm->c.rf_write += (c.z_update + 3) / 4;
    sm->opreg_read += c.opreg_read;
    sm->opreg_write += c.opreg_fill;
    cs_access_add(&sm->acc, CS_ACC_SMEM, CS_ACC_A, CS_ACC_READ, c.a_bytes);
    cs_access_add(&sm->acc, CS_ACC_SMEM, CS_ACC_B, CS_ACC_READ, c.b_bytes);
    cs_access_add(&sm->acc, CS_ACC_OPREG, CS_ACC_A, CS_ACC_FILL, c.opreg_fill);
    cs_access_add(&sm->acc, CS_ACC_OPREG, CS_ACC_A, CS_ACC_READ, c.opreg_read);
    cs_access_add(&sm->acc, CS_ACC_RF, CS_ACC_Z, CS_ACC_READ, c.z_read);
    cs_access_add(&sm->acc, CS_ACC_RF, CS_ACC_Z, CS_ACC_UPDATE, c.z_update);
}

/* ---- issue -------------------------------------------------------------------------------- */

static bool block(warp *w, int reason)
{
    w->gap = CS_CAUSE_ISSUE;
    w->state = W_BLOCKED;
    w->blocked_on = reason;
    return false;
}

static uint64_t op_bytes(const cs_op *op)
{
    return (uint64_t)op->rows * op->row_bytes;
}

static bool issue_op(cs_sm *sm, uint32_t wi, cs_ps now);

/* Joins to the warp's path what op depends on and has completed: the loads an MMA reads, the
 * MMAs and CiM ops whose results a store writes, the copies a wait waits for, the macro state
 * a CiM op needs. */
static void join_deps(cs_sm *sm, warp *w, const cs_op *op, cs_ps now)
{
    switch (op->kind) {
    case CS_OP_MMA:
        join_done(sm, w, &w->lds, now);
        break;
    case CS_OP_STG:
    case CS_OP_RED:
        join_done(sm, w, &w->mma, now);
        join_done(sm, w, &w->cim, now);
        break;
    case CS_OP_CP_WAIT:
        join_done(sm, w, &w->landed, now);
        break;
    case CS_OP_CIM_WRITE: /* the previous tile's last use and its write */
        if (sm->ms && op->x < sm->cim_macros) {
            join_done(sm, w, &sm->ms[op->x].mac, now);
            join_done(sm, w, &sm->ms[op->x].tile, now);
        }
        break;
    case CS_OP_CIM_READ: /* the partial sums are the macro's latest MACs' */
        if (sm->ms && op->x < sm->cim_macros)
            join_done(sm, w, &sm->ms[op->x].mac, now);
        break;
    case CS_OP_CIM_MAC: /* the macro's tile */
        if (sm->ms && op->x < sm->cim_macros && !sm->cim_slices)
            join_done(sm, w, &sm->ms[op->x].tile, now);
        break;
    default:
        break;
    }
}

/* Issues the warp's next op if it can; returns whether it did. The op's completed
 * dependences join the warp's path first; when it can issue, the path reaches now (begin), so
 * that a blocked warp's wait is attributed to what ends it, not to the retries. */
static bool try_issue(cs_sm *sm, uint32_t wi, cs_ps now)
{
    warp *w = &sm->warps[wi];
    if (w->pc < w->n)
        join_deps(sm, w, &w->ops[w->pc], now);
    return issue_op(sm, wi, now);
}

/* The op issues now: the warp's path reaches now (the wait since its last issue or wake). */
static void begin(cs_sm *sm, warp *w, cs_ps now)
{
    push(sm, &w->path, w->gap, now);
    w->gap = CS_CAUSE_ISSUE;
}

static bool issue_op(cs_sm *sm, uint32_t wi, cs_ps now)
{
    warp *w = &sm->warps[wi];
    if (w->pc == w->n) {
        w->state = W_DRAIN;
        try_finish(sm, w);
        return false;
    }
    const cs_op *op = &w->ops[w->pc];
    cta *c = &sm->ctas[w->cta];
    switch (op->kind) {
    case CS_OP_LDS:
    case CS_OP_STS: {
        if (smem_backlogged(sm, w, now))
            return false;
        begin(sm, w, now);
        uint32_t wf = cs_smem_op_wavefronts(sm->smem, op);
        bool st = op->kind == CS_OP_STS;
        cs_ps before = cs_smem_free_at(sm->smem);
        bool cim_tail = cs_smem_tail_cim(sm->smem);
        cs_ps t = cs_smem_access(sm->smem, now, wf, op_bytes(op), st);
        if (st)
            sm->c.rf_read += op_bytes(op) / 4;
        else
            sm->c.rf_write += op_bytes(op) / 4;
        cs_access_add(&sm->acc, CS_ACC_SMEM, CS_ACC_OTHER, st ? CS_ACC_UPDATE : CS_ACC_READ, op_bytes(op));
        cs_access_add(&sm->acc, CS_ACC_RF, CS_ACC_OTHER, st ? CS_ACC_READ : CS_ACC_FILL, op_bytes(op));
        w->lds_pending++;
        cs_ps done = after(sm, t, (uint64_t)cs_smem_latency_cycles(sm->smem));
        /* its completion: loads of a warp end in issue order, so the latest is the last */
        cs_cpl p = {0};
        cs_cpl_set(sm->cpa, &p, &w->path);
        smem_path(sm, &p, now, before, cim_tail, CS_CAUSE_STAGING, t);
        push(sm, &p, CS_CAUSE_STAGING, done);
        cs_cpl_move(sm->cpa, &w->lds, &p);
        cs_engine_post(sm->base.eng, done, CS_PRIO_DEFAULT, lds_done, sm, NULL, wi);
        break;
    }
    case CS_OP_MMA: {
        if (w->lds_pending)
            return block(w, B_LDS);
        if (w->mma_pending >= MMA_IN_FLIGHT)
            return block(w, B_MMA);
        begin(sm, w, now);
        if (op->flags & CS_OPF_FROM_SMEM) {
            pe_mma(sm, w, wi, op, now);
            break;
        }
        cs_mma_cost cost = cs_tc_cost(&sm->tc, op);
        /* the unit, then the operand reads (each skipped by its ideal variant); the MMA's
         * path follows the unit's previous user when it has to wait for it */
        cs_cpl p = {0};
        cs_cpl_set(sm->cpa, &p, &w->path);
        mma_issue(sm, w, wi, &p, now, cost.cycles, cost.rf_read_bytes + cost.rf_write_bytes);
        sm->c.macs_useful += cost.macs_useful;
        sm->c.mma_instructions += cost.instructions;
        if (op->dtype == CS_DTYPE_FP16)
            sm->c.macs_fp16 += cost.macs_executed;
        else
            sm->c.macs_int8 += cost.macs_executed;
        sm->c.rf_read += cost.rf_read_bytes / 4;
        sm->c.rf_write += cost.rf_write_bytes / 4;
        cs_access_add(&sm->acc, CS_ACC_RF, CS_ACC_OTHER, CS_ACC_READ, cost.rf_read_bytes);
        cs_access_add(&sm->acc, CS_ACC_RF, CS_ACC_Z, CS_ACC_UPDATE, cost.rf_write_bytes);
        break;
    }
    case CS_OP_CP_ASYNC:
    case CS_OP_LDG:
    case CS_OP_STG:
    case CS_OP_RED: {
        bool store = op->kind == CS_OP_STG || op->kind == CS_OP_RED;
        if (store && (w->mma_pending || w->cim_pending))
            return block(w, B_MMA);
        if (sm->lsu_len == sm->lsu_cap)
            return block(w, B_LSU);
        begin(sm, w, now);
        uint32_t lines = lines_of(op);
        lsu_op *l = &sm->lsu[(sm->lsu_head + sm->lsu_len++) % sm->lsu_cap];
        l->op = *op;
        l->warp = wi;
        l->cls = op->kind == CS_OP_CP_ASYNC ? CLS_CP : op->kind == CS_OP_LDG ? CLS_LDG
                 : op->kind == CS_OP_STG   ? CLS_STG
                 : (op->flags & CS_OPF_SPILL) ? CLS_SPILL : CLS_RED;
        l->snap = cs_cpl_materialise(sm->cpa, &w->path);
        l->row = 0;
        l->next_addr = op->addr;
        if (l->cls == CLS_CP)
            group_add(w, op->tag & 0xfffffu, lines);
        else
            w->mem_pending += lines;
        mem_account(sm, w, op, now);
        arm_lsu(sm);
        break;
    }
    case CS_OP_CP_WAIT:
        if (groups_upto(w, op->tag & 0xfffffu)) {
            w->wait_tag = op->tag & 0xfffffu;
            return block(w, B_CP);
        }
        begin(sm, w, now);
        break;
    case CS_OP_BAR:
        begin(sm, w, now);
        w->pc++;
        sm->c.ops++;
        w->state = W_BAR;
        join(sm, &c->bar, &w->path);
        if (++c->at_bar == c->live)
            release_barrier(sm, c);
        return true;
    case CS_OP_CIM_WRITE:
    case CS_OP_CIM_MAC:
    case CS_OP_CIM_READ:
        if (!cim_issue(sm, wi, op, now))
            return false;
        w->pc++;
        sm->c.ops++;
        if (w->ready_at <= now)
            w->ready_at = after(sm, now, 1);
        return true;
    default:
        CS_ASSERT(!"op kind rejected at fetch");
    }
    w->pc++;
    sm->c.ops++;
    w->ready_at = after(sm, now, 1);
    return true;
}

static void issue(void *ctx, void *ptr, uint64_t arg)
{
    (void)ptr;
    cs_sm *sm = ctx;
    uint32_t s = (uint32_t)arg, nsp = (uint32_t)sm->p.subpartitions;
    uint32_t per_sp = (uint32_t)sm->p.max_warps / nsp;
    sp_state *sp = &sm->sp[s];
    cs_ps now = now_of(sm), next = CS_PS_NEVER;
    int64_t issued = 0;
    uint32_t first = sp->rr; /* the scan starts where the last issue left off; rr moves below */
    for (uint32_t j = 0, k = first; j < per_sp; j++, k = k + 1 == per_sp ? 0 : k + 1) {
        uint32_t wi = k * nsp + s;
        warp *w = &sm->warps[wi];
        if (w->state != W_READY)
            continue;
        if (w->ready_at > now) {
            if (w->ready_at < next)
                next = w->ready_at;
            continue;
        }
        if (issued < sm->p.issue_per_cycle && try_issue(sm, wi, now)) {
            issued++;
            sp->rr = k + 1 == per_sp ? 0 : k + 1;
        }
        if (w->state == W_READY && w->ready_at < next)
            next = w->ready_at > now ? w->ready_at : after(sm, now, 1);
        if (sm->status != CS_OK)
            return;
    }
    if (next != CS_PS_NEVER)
        arm_sp(sm, s, next);
}

/* ---- component ---------------------------------------------------------------------------- */

static bool sm_busy(const void *self)
{
    const cs_sm *sm = self;
    return sm->ctas_used || sm->lsu_len || sm->outstanding || sm->have_begin;
}

static void sm_dump(const void *self, cs_buf *out)
{
    const cs_sm *sm = self;
    cs_buf_printf(out, "sm %u: %u CTAs, %u warps, lsu %u ops, %u lines outstanding%s%s", sm->index,
                  sm->ctas_used, sm->warps_used, sm->lsu_len, sm->outstanding,
                  sm->stream_done ? ", stream done" : "", sm->lsu_wait_credit ? ", waiting for credit" : "");
    static const char *const states[] = {"free", "ready", "blocked", "barrier", "drain", "done"};
    static const char *const reasons[] = {"", "lds", "mma", "lsu", "copy", "cim"};
    for (uint32_t i = 0; i < (uint32_t)sm->p.max_warps; i++) {
        const warp *w = &sm->warps[i];
        if (w->cta < 0)
            continue;
        cs_buf_printf(out, "\n    warp %u: %s%s%s pc %u/%u lds %u mma %u mem %u groups %u", i, states[w->state],
                      w->blocked_on ? " on " : "", reasons[w->blocked_on], w->pc, w->n, w->lds_pending,
                      w->mma_pending, w->mem_pending, w->ngroups);
        if (w->blocked_on == B_CIM && w->pc < w->n) {
            const cs_op *op = &w->ops[w->pc];
            cs_buf_printf(out, " (CTA %d, %s on macro %u, tile %u, write %u)", w->cta, cs_op_kind_name(op->kind),
                          op->x, (unsigned)op->seq, op->kind == CS_OP_CIM_WRITE ? op->tag : 0);
        }
    }
    for (uint32_t m = 0; m < sm->cim_macros && sm->ms; m++) {
        const macro_state *ms = &sm->ms[m];
        if (ms->wr_pending || ms->mac_pending || ms->uses_left || ms->has_tile)
            cs_buf_printf(out, "\n    macro %u: tile %u%s, %u uses left, %u writes started, %u writes and %u MACs in flight",
                          m, (unsigned)ms->seq, ms->has_tile ? "" : " (not written)", ms->uses_left, ms->writes,
                          ms->wr_pending, ms->mac_pending);
    }
}

static void sm_destroy(void *self)
{
    cs_sm_destroy(self);
}

static const cs_component_type sm_type = {"sm", NULL, sm_dump, sm_busy, sm_destroy};

cs_status cs_sm_create(cs_engine *eng, const char *name, uint32_t index, const cs_sm_params *p,
                       const cs_tc_params *tc, const cs_rf_params *rf, const cs_smem_params *smp,
                       const cs_clock *clk, cs_req_pool *pool, cs_stats *st, cs_sm **out, cs_err *err)
{
    if (p->subpartitions > MAX_SP)
        return cs_err_add(err, CS_INVALID, "sm.subpartitions: at most %d are supported", MAX_SP);
    cs_sm *sm = cs_calloc(1, sizeof *sm);
    cs_component_init(&sm->base, &sm_type, name, eng);
    sm->index = index;
    sm->p = *p;
    sm->tc = *tc;
    sm->rf = *rf;
    sm->smem_carveout = smp->carveout_bytes;
    sm->clk = clk;
    sm->pool = pool;
    sm->cpa = cs_req_pool_cpath(pool);
    cs_err_init(&sm->err);
    char buf[256];
    snprintf(buf, sizeof buf, "%s.smem", name);
    sm->smem = cs_smem_create(smp, clk, st, buf);
    cs_port_init_out(&sm->req_out, sm, lsu_credit, 0);
    cs_port_init_in(&sm->resp_in, sm, recv_resp, 0);
    sm->warps = cs_calloc((size_t)p->max_warps, sizeof *sm->warps);
    sm->group_store = cs_calloc((size_t)p->max_warps * MAX_GROUPS, sizeof *sm->group_store);
    for (int64_t i = 0; i < p->max_warps; i++) {
        sm->warps[i].groups = &sm->group_store[i * MAX_GROUPS];
        sm->warps[i].cta = -1;
        sm->warps[i].sp = (uint32_t)(i % p->subpartitions);
        sm->warps[i].gap = CS_CAUSE_ISSUE;
    }
    sm->ctas = cs_calloc((size_t)p->max_ctas, sizeof *sm->ctas);
    for (int64_t s = 0; s < p->subpartitions; s++)
        cs_event_init(&sm->sp[s].issue_ev, issue, sm);
    sm->rf_bytes_per_cycle = (uint64_t)(rf->banks / p->subpartitions * rf->bank_bytes);
    sm->rf_ideal = rf->ideal;
    if (!sm->rf_bytes_per_cycle)
        sm->rf_bytes_per_cycle = (uint64_t)rf->bank_bytes;
    sm->lsu_cap = (uint32_t)p->lsu_queue;
    sm->lsu = cs_calloc(sm->lsu_cap, sizeof *sm->lsu);
    sm->free_job = -1;
    cs_event_init(&sm->lsu_ev, lsu_run, sm);
#define NAME(s) (snprintf(buf, sizeof buf, "%s.%s", name, s), buf)
    cs_stats_counter(st, NAME("ops"), "ops", "ops issued", &sm->c.ops);
    cs_stats_counter(st, NAME("ctas"), "CTAs", "CTAs completed", &sm->c.ctas);
    cs_stats_counter(st, NAME("macs_useful"), "MACs", "MACs inside the GEMM (m*n*k of MMA ops)", &sm->c.macs_useful);
    cs_stats_counter(st, NAME("mma_instructions"), "instructions", "tensor-core instructions", &sm->c.mma_instructions);
    cs_stats_action(st, NAME("tc.mac_int8"), "MACs", "INT8 MACs executed (padded)", &sm->c.macs_int8,
                    "tensor_core", "mac_int8");
    cs_stats_action(st, NAME("tc.mac_fp16"), "MACs", "FP16 MACs executed (padded)", &sm->c.macs_fp16,
                    "tensor_core", "mac_fp16");
    cs_stats_action(st, NAME("rf.read"), "words", "register-file reads (4-byte words)", &sm->c.rf_read, "rf", "read");
    cs_stats_action(st, NAME("rf.write"), "words", "register-file writes (4-byte words)", &sm->c.rf_write, "rf", "write");
    cs_stats_counter(st, NAME("bytes_read"), "bytes", "global bytes requested (reads)", &sm->c.bytes_read);
    cs_stats_counter(st, NAME("bytes_written"), "bytes", "global bytes sent (stores, reductions)", &sm->c.bytes_written);
    cs_stats_counter(st, NAME("bytes_returned"), "bytes", "global bytes delivered to the SM", &sm->c.bytes_returned);
    cs_stats_counter(st, NAME("bytes_acked"), "bytes", "stored bytes acknowledged", &sm->c.bytes_acked);
    cs_stats_counter(st, NAME("lines_read"), "lines", "line read requests", &sm->c.lines_read);
    cs_stats_counter(st, NAME("lines_written"), "lines", "line write/reduce requests", &sm->c.lines_written);
    cs_stats_counter(st, NAME("cim_macs_remote"), "MACs", "MACs of the L2 CiM requests this SM sent",
                     &sm->c.cim_macs_remote);
    cs_stats_counter(st, NAME("cim_in_bytes"), "bytes", "CiM inputs read from shared memory or fetched for macros",
                     &sm->c.cim_in_bytes);
    cs_stats_counter(st, NAME("cim_psum_bytes"), "bytes", "CiM partial sums moved out of the macros' output buffers",
                     &sm->c.cim_psum_bytes);
    cs_stats_counter(st, NAME("lsu_stalls"), "stalls", "times the LSU found max_outstanding lines in flight",
                     &sm->c.lsu_stalls);
    cs_access_register(&sm->acc, st, name);
    sm->drain_reads = true;
    sm->bcast_job = -1;
    for (int64_t s = 0; s < p->subpartitions; s++) {
        char sub[64];
        snprintf(sub, sizeof sub, "sp%lld.tc_busy_cycles", (long long)s);
        cs_stats_counter(st, NAME(sub), "cycles", "tensor core busy", &sm->c.tc_busy_cycles[s]);
        snprintf(sub, sizeof sub, "%s.sp%lld.rf", name, (long long)s);
        cs_stats_instance(st, "rf", sub);
        snprintf(sub, sizeof sub, "%s.sp%lld.tc", name, (long long)s);
        cs_stats_instance(st, "tensor_core", sub);
    }
#undef NAME
    *out = sm;
    return CS_OK;
}

void cs_sm_destroy(cs_sm *sm)
{
    if (!sm)
        return;
    for (int64_t i = 0; i < sm->p.max_warps; i++)
        cs_free(sm->warps[i].ops);
    cs_free(sm->warps);
    cs_free(sm->group_store);
    cs_free(sm->ctas);
    cs_free(sm->lsu);
    cs_free(sm->jobs);
    cs_free(sm->followers);
    cs_free(sm->ms);
    cs_cim_group_destroy(sm->cim);
    cs_opcheck_free(&sm->chk);
    cs_smem_destroy(sm->smem);
    cs_component_fini(&sm->base);
    cs_free(sm);
}

cs_port *cs_sm_req_out(cs_sm *sm) { return &sm->req_out; }
cs_port *cs_sm_resp_in(cs_sm *sm) { return &sm->resp_in; }
cs_component *cs_sm_component(cs_sm *sm) { return &sm->base; }
cs_smem *cs_sm_smem(cs_sm *sm) { return sm->smem; }
const cs_cim_group *cs_sm_cim(const cs_sm *sm) { return sm->cim; }
void cs_sm_attach_cim(cs_sm *sm, cs_cim_group *g)
{
    sm->cim = g;
    sm->cim_macros = cs_cim_group_macros(g);
    sm->ms = cs_calloc(sm->cim_macros, sizeof *sm->ms);
}

void cs_sm_set_remote_cim(cs_sm *sm, uint32_t slices, uint32_t macros_per_slice)
{
    sm->cim_slices = slices;
    sm->cim_macros = macros_per_slice;
}
void cs_sm_set_layout(cs_sm *sm, uint64_t a_lo, uint64_t z_lo)
{
    sm->acc.a_lo = a_lo;
    sm->acc.z_lo = z_lo;
}

void cs_sm_set_conventions(cs_sm *sm, const cs_sm_conventions *cv, cs_stats *st)
{
    sm->drain_reads = cv->drain_reads;
    sm->acc_bytes = cv->pe_acc_bytes;
    if (cv->pe_acc_bytes && !sm->pe_array) {
        sm->pe_array = true;
        char buf[256];
        snprintf(buf, sizeof buf, "%s.opreg.read", sm->base.name);
        cs_stats_action(st, buf, "bytes", "PE operand-register reads (one per MAC)", &sm->opreg_read, "opreg", "read");
        snprintf(buf, sizeof buf, "%s.opreg.write", sm->base.name);
        cs_stats_action(st, buf, "bytes", "PE operand-register writes", &sm->opreg_write, "opreg", "write");
    }
}

void cs_sm_on_done(cs_sm *sm, void (*fn)(void *ctx), void *ctx)
{
    sm->on_done = fn;
    sm->on_done_ctx = ctx;
}
bool cs_sm_done(const cs_sm *sm) { return sm->done; }
cs_ps cs_sm_finish_time(const cs_sm *sm) { return sm->finish_ps; }
uint32_t cs_sm_index(const cs_sm *sm) { return sm->index; }

cs_ps cs_sm_cta_finish_time(const cs_sm *sm, uint32_t id)
{
    return id < CS_SM_CTA_TIMES ? sm->cta_done[id] : CS_PS_NEVER;
}
const cs_sm_counts *cs_sm_get_counts(const cs_sm *sm) { return &sm->c; }
const cs_access *cs_sm_get_access(const cs_sm *sm) { return &sm->acc; }

cs_status cs_sm_status(cs_sm *sm, cs_err *err)
{
    if (sm->status != CS_OK)
        cs_err_merge(err, &sm->err);
    return sm->status;
}

void cs_sm_start(cs_sm *sm, cs_opsrc *src, uint32_t stream)
{
    sm->src = src;
    sm->stream = stream;
    sm->stream_done = sm->have_begin = sm->done = false;
    sm->status = CS_OK;
    cs_opcheck_free(&sm->chk); /* a fresh stream */
    for (uint32_t i = 0; i < CS_SM_CTA_TIMES; i++)
        sm->cta_done[i] = CS_PS_NEVER;
    for (uint32_t m = 0; m < sm->cim_macros && sm->ms; m++) {
        macro_state *ms = &sm->ms[m];
        ms->writes = 0; /* a kernel numbers its writes from 0; tiles stay (residency) */
        clear(sm, &ms->tile);
        clear(sm, &ms->mac);
        clear(sm, &ms->busy);
    }
    /* paths start at the kernel's start (cs_cpath_kernel_start) */
    clear(sm, &sm->finish);
    clear(sm, &sm->smem_path);
    cs_cp_release(sm->cpa, sm->lsu_unblock);
    sm->lsu_unblock = 0;
    sm->lsu_full = false;
    for (int64_t s = 0; s < sm->p.subpartitions; s++) {
        clear(sm, &sm->sp[s].tc);
        clear(sm, &sm->sp[s].rf);
    }
    fetch_ctas(sm, NULL);
}

const cs_cpl *cs_sm_finish_path(const cs_sm *sm) { return &sm->finish; }

cs_ps cs_sm_rf_occupy(cs_sm *sm, uint32_t s, cs_ps now, uint64_t cycles)
{
    return rf_reserve(sm, s, now, cycles, true);
}

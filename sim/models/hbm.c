/* hbm — one HBM2 pseudo-channel: per-bank request queues, FR-FCFS (or FCFS) command scheduling,
 * table-driven timing, all-bank refresh, and the ideal variant.
 *
 * Time inside the channel is counted in command-clock cycles (uint64, absolute: cycle n starts
 * at cs_clock_ps(n)). The channel keeps, for each command kind, the earliest cycle it may issue
 * at three levels (per bank, per bank group, channel-wide); issuing a command raises those
 * bounds from one delay table built at creation (the DRAMsim3 approach), so every timing rule
 * is one table entry. Rules that are not pairwise (tFAW, data-bus occupancy, one command per
 * cycle, refresh) are kept beside the table.
 *
 * Event-driven: the scheduler plans the next command — the earliest cycle at which some bank's
 * offered command satisfies every bound, and the command the policy picks then — and runs as
 * one embedded event at that cycle only; an arriving request updates the plan. Nothing runs
 * while idle. Completions go through a FIFO with one embedded event: data windows never overlap
 * on the bus and are issued in order, so completion times are monotonic. Refresh that fell due
 * while the channel was idle is accounted when work next arrives (same counts and bank state,
 * no idle ticking).
 *
 * A request holds one of queue_entries slots from arrival until its response is accepted by the
 * output link (or, for posted writes, until its data is written); the input-link credit is
 * returned when the slot is freed, so a stalled consumer stalls the channel and, through the
 * credits, its senders.
 */
#include "hbm.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "check.h"

enum { CMD_ACT, CMD_PRE, CMD_RD, CMD_WR, CMD_KINDS, CMD_REF = CMD_KINDS, CMD_NONE = -1 };
enum { LVL_BANK, LVL_GROUP, LVL_CHAN, LVL_COUNT }; /* who a timing bound applies to */
enum { MAX_BANKS = 64 }; /* banks are tracked in 64-bit masks */
enum { F_WRITE = 1, F_STARTED = 2, F_DID_ACT = 4, F_DID_PRE = 8 };
#define NIL (-1)
#define NEVER UINT64_MAX

/* A queue slot. Invariant: a slot is in exactly one of: the free list (next), a bank queue
 * (bprev/bnext, oldest first), the completion FIFO (next), a port's response wait list (next). */
typedef struct entry {
    cs_req *req;
    uint64_t seq;   /* arrival order: smaller is older */
    uint64_t row;
    cs_ps arrive_ps;
    cs_ps done_ps;  /* data of the last burst off the bus (written, for writes) */
    int32_t bprev, bnext;
    int32_t next;
    uint16_t bursts; /* bursts of the line still to issue, bit i = burst i */
    uint16_t port;
    uint8_t flags;
} entry;

typedef struct bank {
    uint64_t earliest[CMD_KINDS]; /* first cycle an ACT / PRE / RD / WR may issue (this bank's
                                     own bounds; see bound()) */
    uint64_t open_row;            /* valid while the bank's bit is set in open_mask */
    int64_t bypass;               /* row hits served ahead of the older head since ACT/PRE */
    int32_t head, tail;           /* queued requests, oldest first */
    uint32_t queued;
    uint32_t group;
} bank;

/* The command each bank offers the scheduler (see bank_offer), cached until the bank's queue
 * or state changes (its bit in stale_mask): only its issue time depends on other banks. Kept
 * apart from the banks, one array per field, because planning reads them for every busy bank
 * before every command, in a loop that is then short and free of branches. */
typedef struct boffers {
    uint64_t own_key[MAX_BANKS]; /* max(bank_t, its group's bound) << 1 | rank: the key but
                                    for the channel-wide bounds (see own_key) */
    uint64_t bank_t[MAX_BANKS]; /* the bank's own bound on cmd (moves only when it issues) */
    uint64_t seq[MAX_BANKS];    /* the offering request's age */
    int32_t ent[MAX_BANKS];
    uint8_t cmd[MAX_BANKS];
    uint8_t grp_cmd[MAX_BANKS]; /* group * CMD_KINDS + cmd: the group bound that applies */
    uint8_t rank[MAX_BANKS];    /* tie-break after the cycle: 0 = FR-FCFS row hit (or any,
                                   FCFS), 1 = other */
} boffers;

typedef struct waitq {
    int32_t head, tail;
    uint32_t n;
} waitq;

/* Requests that arrived while every slot was taken (only when the input links together hold
 * more than queue_entries messages): they keep their link credit until admitted. */
typedef struct backlog_item {
    cs_req *req;
    cs_ps arrive_ps;
} backlog_item;

typedef struct pick {
    int cmd;
    uint32_t bank;
    int32_t ent;
} pick;

/* Laid out for the host's caches: the state every command reads or writes comes first and
 * together (a few cache lines), then the per-bank tables, then what is used rarely. */
struct cs_hbm {
    cs_component base; /* must stay first */

    /* events; the planned command, issued at plan_t (the tick is armed there) */
    cs_event tick_ev;
    uint64_t tick_cycle;
    pick plan;
    uint64_t plan_t;
    uint64_t plan_key, plan_seq; /* its place in the policy's order (see plan) */
    uint64_t next_cmd;  /* one command per cycle */
    uint64_t next_ref;  /* cycle the next refresh falls due */

    /* channel-wide state */
    uint64_t busy_mask;  /* banks with queued requests */
    uint64_t open_mask;  /* banks with an open row */
    uint64_t stale_mask; /* banks whose offer must be recomputed */
    uint64_t bus_free;   /* first cycle the data bus is free */
    uint64_t chan_earliest[CMD_KINDS]; /* bounds on every bank */
    uint64_t faw[4];     /* cycles of the last four ACTs (ring) */
    uint32_t faw_n, faw_pos;
    uint32_t nbanks;
    uint64_t bl2;        /* bus cycles per burst (DDR: BL/2) */
    uint64_t tCL, tWL, tFAW, tRFC, tREFI, tRP;
    cs_hbm_params p;

    /* slots */
    entry *e;           /* 64-byte aligned inside e_block: one cache line per slot */
    uint64_t seq;
    int32_t done_head, done_tail;
    cs_event done_ev;
    cs_hbm_counts n;

    /* timing table and per-bank state */
    uint64_t delay[CMD_KINDS][LVL_COUNT][CMD_KINDS]; /* issued cmd, level -> bound on cmd */
    boffers offers;
    uint64_t grp_earliest[MAX_BANKS][CMD_KINDS]; /* bounds on every bank of a group */
    bank banks[MAX_BANKS];

    /* the rest */
    void *e_block;
    size_t ne, cap;
    int32_t free_head;
    uint32_t used;
    backlog_item *backlog;
    size_t bl_head, bl_n, bl_cap; /* ring */
    cs_addrmap map;
    uint32_t index;
    cs_clock clk;
    cs_req_pool *pool;
    uint32_t nports;
    cs_port *in, *out;
    waitq *waiting; /* per output port: responses refused by the link, in completion order */
    uint32_t burst_bytes;
    uint16_t burst_mask[16]; /* sector mask -> burst mask */
    cs_hist latency;
    cs_gauge occupancy;
};

static inline uint64_t max64(uint64_t a, uint64_t b) { return a > b ? a : b; }

/* ---- schema ------------------------------------------------------------------------------ */

static const char *const scheduler_names[] = {"frfcfs", "fcfs", NULL};
static const char *const page_names[] = {"open", "closed", NULL};

/* Defaults: the A100-SXM4-40GB (HBM2, 5 stacks x 16 pseudo-channels, 1215 MHz). Timing in
 * command-clock cycles: the GPGPU-Sim SM80_A100 set where it has the parameter (tRCD, tRP,
 * tRAS, tRC, tCL, tWL, tCCDL, tRRD as tRRDL, tWR, CDLR as tWTRS, RTPL as tRTP); JEDEC/DRAMsim3
 * HBM2 nanoseconds converted at 1215 MHz (rounded up) where it does not (tRRDS 4 ns, tFAW
 * 30 ns, tWTRL 8 ns, tRFC 350 ns for 8 Gb dies; tREFI 3.9 us rounded down). */
#define T_KEY(field, dflt, lo, hi, hlp) \
    CS_CFG_K(cs_hbm_timing, field, #field, CS_CFG_INT, false, dflt, lo, hi, "cycles", hlp)
static const cs_cfg_key timing_keys[] = {
    T_KEY(tRCD, "22", 1, 1000, "ACT to RD/WR, same bank"),
    T_KEY(tRP, "22", 1, 1000, "PRE to ACT, same bank"),
    T_KEY(tRAS, "50", 1, 2000, "ACT to PRE, same bank"),
    T_KEY(tRC, "72", 1, 3000, "ACT to ACT, same bank"),
    T_KEY(tCL, "22", 1, 1000, "RD command to its first data beat"),
    T_KEY(tWL, "4", 0, 1000, "WR command to its first data beat"),
    T_KEY(tCCDS, "2", 1, 64,
          "column command to column command, different bank groups (at least BL/2)"),
    T_KEY(tCCDL, "4", 1, 64, "column command to column command, same bank group"),
    T_KEY(tRRDS, "5", 1, 256, "ACT to ACT, different bank groups"),
    T_KEY(tRRDL, "7", 1, 256, "ACT to ACT, same bank group"),
    T_KEY(tFAW, "37", 0, 1024, "window in which at most four ACTs may issue"),
    T_KEY(tWR, "19", 0, 1000, "end of write data to PRE, same bank"),
    T_KEY(tWTRS, "5", 0, 256, "end of write data to RD, different bank groups"),
    T_KEY(tWTRL, "10", 0, 256, "end of write data to RD, same bank group"),
    T_KEY(tRTW, "22", 0, 1000, "RD to WR (tCL + BL/2 + 2 - tWL: read data off the bus plus a "
                              "2-cycle turnaround)"),
    T_KEY(tRTP, "7", 0, 1000, "RD to PRE, same bank"),
    T_KEY(tREFI, "4738", 1, 10000000, "average interval between all-bank refreshes"),
    T_KEY(tRFC, "426", 1, 100000, "all-bank refresh to the next ACT"),
};
#undef T_KEY

static const cs_cfg_schema timing_schema =
    CS_CFG_SCHEMA("timing", cs_hbm_timing, timing_keys, NULL,
                  "DRAM timing in command-clock cycles (JEDEC / DRAMsim3 names)");

static const cs_cfg_key hbm_keys[] = {
    CS_CFG_K(cs_hbm_params, channels, "channels", CS_CFG_INT, false, "80", 1, 4096, "channels",
             "DRAM channels (HBM2 pseudo-channels) in the system: 5 stacks x 16"),
    CS_CFG_K(cs_hbm_params, clock_khz, "clock", CS_CFG_FREQ, false, "1215MHz", 100000,
             10000000, "kHz", "command clock; data moves on both edges"),
    CS_CFG_K(cs_hbm_params, bus_bits, "bus_bits", CS_CFG_INT, false, "64", 8, 1024, "bits",
             "data bus width of one channel"),
    CS_CFG_K(cs_hbm_params, burst_length, "burst_length", CS_CFG_INT, false, "4", 2, 64,
             "beats", "data beats per column command (HBM2 pseudo-channel: BL4)"),
    CS_CFG_K(cs_hbm_params, bank_groups, "bank_groups", CS_CFG_INT, false, "4", 1, 64, "groups",
             "bank groups per channel"),
    CS_CFG_K(cs_hbm_params, banks_per_group, "banks_per_group", CS_CFG_INT, false, "4", 1, 64,
             "banks", "banks per bank group"),
    CS_CFG_K(cs_hbm_params, row_bytes, "row_bytes", CS_CFG_BYTES, false, "1KiB", 128, 65536,
             "bytes", "row (page) size of one channel"),
    CS_CFG_K(cs_hbm_params, queue_entries, "queue_entries", CS_CFG_INT, false, "64", 1, 4096,
             "requests", "request slots per channel, held until the response is accepted"),
    CS_CFG_E(cs_hbm_params, scheduler, "scheduler", scheduler_names, "frfcfs",
             "command scheduling: frfcfs (row hits first, then oldest) or fcfs (per-bank order)"),
    CS_CFG_E(cs_hbm_params, page_policy, "page_policy", page_names, "open",
             "open: rows stay open; closed: a row is precharged once no queued request hits it"),
    CS_CFG_K(cs_hbm_params, row_hit_cap, "row_hit_cap", CS_CFG_INT, false, "16", 1, 1000000,
             "requests", "FR-FCFS: row hits served ahead of an older miss to the same bank"),
    CS_CFG_K(cs_hbm_params, refresh, "refresh", CS_CFG_BOOL, false, "true", 1, 0, "",
             "model all-bank refresh (tREFI / tRFC)"),
    CS_CFG_K(cs_hbm_params, ideal, "ideal", CS_CFG_BOOL, false, "false", 1, 0, "",
             "ideal variant: fixed latency, unlimited bandwidth, no banks"),
    CS_CFG_K(cs_hbm_params, ideal_latency_ps, "ideal_latency", CS_CFG_TIME, false, "38ns", 0,
             1e9, "ps", "ideal variant: arrival to completion (default: tRCD + tCL + BL/2)"),
    CS_CFG_G(cs_hbm_params, timing, "timing", &timing_schema, "DRAM timing set"),
};

static bool is_pow2(int64_t v) { return v > 0 && (v & (v - 1)) == 0; }

static void check_params(const void *params, cs_cfg_check *chk)
{
    const cs_hbm_params *p = params;
    const cs_hbm_timing *t = &p->timing;
    if (!is_pow2(p->bank_groups))
        cs_cfg_fail(chk, "bank_groups", "must be a power of two (got %" PRId64 ")",
                    p->bank_groups);
    if (!is_pow2(p->banks_per_group))
        cs_cfg_fail(chk, "banks_per_group", "must be a power of two (got %" PRId64 ")",
                    p->banks_per_group);
    if (p->bank_groups * p->banks_per_group > MAX_BANKS)
        cs_cfg_fail2(chk, "banks_per_group", "bank_groups",
                     "bank_groups x banks_per_group must be at most %d (got %" PRId64 ")",
                     MAX_BANKS, p->bank_groups * p->banks_per_group);
    if (!is_pow2((int64_t)p->row_bytes))
        cs_cfg_fail(chk, "row_bytes", "must be a power of two (got %" PRIu64 ")", p->row_bytes);
    if (p->bus_bits % 8)
        cs_cfg_fail(chk, "bus_bits", "must be a multiple of 8 (got %" PRId64 ")", p->bus_bits);
    if (p->burst_length % 2)
        cs_cfg_fail(chk, "burst_length",
                    "must be even: data moves on both clock edges (got %" PRId64 ")",
                    p->burst_length);
    int64_t burst = p->bus_bits / 8 * p->burst_length;
    if (!is_pow2(burst) || burst < 8 || burst > CS_LINE_BYTES)
        cs_cfg_fail2(chk, "burst_length", "bus_bits",
                     "bytes per burst (bus_bits / 8 x burst_length) must be a power of two "
                     "from 8 to %d, so bursts tile the 128 B line (got %" PRId64 ")",
                     CS_LINE_BYTES, burst);
    if (t->tRC < t->tRAS + t->tRP)
        cs_cfg_fail2(chk, "timing.tRC", "timing.tRAS",
                     "must be at least tRAS + tRP = %" PRId64 " (got %" PRId64 ")",
                     t->tRAS + t->tRP, t->tRC);
    if (t->tRAS < t->tRCD)
        cs_cfg_fail2(chk, "timing.tRAS", "timing.tRCD",
                     "must be at least tRCD = %" PRId64 " (got %" PRId64 ")", t->tRCD, t->tRAS);
    if (t->tCCDL < t->tCCDS)
        cs_cfg_fail2(chk, "timing.tCCDL", "timing.tCCDS",
                     "must be at least tCCDS = %" PRId64 " (got %" PRId64 ")", t->tCCDS,
                     t->tCCDL);
    if (t->tRRDL < t->tRRDS)
        cs_cfg_fail2(chk, "timing.tRRDL", "timing.tRRDS",
                     "must be at least tRRDS = %" PRId64 " (got %" PRId64 ")", t->tRRDS,
                     t->tRRDL);
    if (t->tWTRL < t->tWTRS)
        cs_cfg_fail2(chk, "timing.tWTRL", "timing.tWTRS",
                     "must be at least tWTRS = %" PRId64 " (got %" PRId64 ")", t->tWTRS,
                     t->tWTRL);
    if (t->tCCDS * 2 < p->burst_length)
        cs_cfg_fail2(chk, "timing.tCCDS", "burst_length",
                     "must be at least burst_length / 2 = %" PRId64
                     ": a burst holds the data bus that long (got %" PRId64 ")",
                     p->burst_length / 2, t->tCCDS);
    if (t->tRTW < t->tCL + p->burst_length / 2 - t->tWL)
        cs_cfg_fail2(chk, "timing.tRTW", "timing.tCL",
                     "must be at least tCL + burst_length / 2 - tWL = %" PRId64
                     ", or write data would meet read data on the bus (got %" PRId64 ")",
                     t->tCL + p->burst_length / 2 - t->tWL, t->tRTW);
    if (p->refresh && t->tREFI <= t->tRFC)
        cs_cfg_fail2(chk, "timing.tREFI", "timing.tRFC",
                     "must be greater than tRFC = %" PRId64 " (got %" PRId64 ")", t->tRFC,
                     t->tREFI);
}

const cs_cfg_schema cs_hbm_schema =
    CS_CFG_SCHEMA("hbm", cs_hbm_params, hbm_keys, check_params,
                  "DRAM channels (HBM2 pseudo-channels): organisation, scheduling, timing");

/* ---- queries ----------------------------------------------------------------------------- */

double cs_hbm_peak_bytes_per_s(const cs_hbm_params *p)
{
    return (double)p->bus_bits / 8.0 * 2.0 * (double)p->clock_khz * 1000.0;
}

uint32_t cs_hbm_burst_bytes(const cs_hbm_params *p)
{
    return (uint32_t)(p->bus_bits / 8 * p->burst_length);
}

const cs_hbm_counts *cs_hbm_get_counts(const cs_hbm *h) { return &h->n; }
cs_port *cs_hbm_in(cs_hbm *h, uint32_t port) { return port < h->nports ? &h->in[port] : NULL; }
cs_port *cs_hbm_out(cs_hbm *h, uint32_t port) { return port < h->nports ? &h->out[port] : NULL; }
cs_component *cs_hbm_component(cs_hbm *h) { return &h->base; }

/* ---- slots, lists ------------------------------------------------------------------------ */

/* Makes room for cap slots (zeroed beyond the old ones), each on its own cache line. */
static void slots_reserve(cs_hbm *h, size_t cap)
{
    _Static_assert(sizeof(entry) == 64, "a slot fills one cache line");
    void *block = cs_calloc(cap + 1, sizeof(entry));
    entry *e = (entry *)(void *)((char *)block + (64 - (uintptr_t)block % 64) % 64);
    if (h->ne)
        memcpy(e, h->e, h->ne * sizeof *e);
    cs_free(h->e_block);
    h->e_block = block;
    h->e = e;
    h->cap = cap;
}

static int32_t slot_alloc(cs_hbm *h)
{
    if (h->free_head == NIL) { /* only the ideal variant grows */
        size_t old = h->ne;
        slots_reserve(h, h->cap ? 2 * h->cap : 8);
        h->ne = h->cap;
        for (size_t i = h->ne; i-- > old;) {
            h->e[i].next = h->free_head;
            h->free_head = (int32_t)i;
        }
    }
    int32_t i = h->free_head;
    h->free_head = h->e[i].next;
    h->used++;
    cs_gauge_add(&h->occupancy, 1);
    return i;
}

static void done_push(cs_hbm *h, int32_t i)
{
    entry *x = &h->e[i];
    x->next = NIL;
    if (h->done_tail == NIL)
        h->done_head = i;
    else
        h->e[h->done_tail].next = i;
    h->done_tail = i;
    if (!cs_event_pending(&h->done_ev)) /* the head is the earliest: the FIFO is in time order */
        cs_engine_arm(h->base.eng, &h->done_ev, h->e[h->done_head].done_ps, CS_PRIO_DEFAULT,
                      NULL, 0);
}

static void bank_append(cs_hbm *h, uint32_t b, int32_t i)
{
    bank *bk = &h->banks[b];
    entry *x = &h->e[i];
    x->bnext = NIL;
    x->bprev = bk->tail;
    if (bk->tail == NIL)
        bk->head = i;
    else
        h->e[bk->tail].bnext = i;
    bk->tail = i;
    bk->queued++;
    h->stale_mask |= 1ULL << b;
    h->busy_mask |= 1ULL << b;
}

static void bank_unlink(cs_hbm *h, uint32_t b, int32_t i)
{
    bank *bk = &h->banks[b];
    entry *x = &h->e[i];
    if (x->bprev == NIL)
        bk->head = x->bnext;
    else
        h->e[x->bprev].bnext = x->bnext;
    if (x->bnext == NIL)
        bk->tail = x->bprev;
    else
        h->e[x->bnext].bprev = x->bprev;
    if (--bk->queued == 0)
        h->busy_mask &= ~(1ULL << b);
}

/* ---- timing ------------------------------------------------------------------------------ */

/* The timing table: issuing a command raises bounds on later commands at three levels — the
 * same bank, every bank of the same group, every bank of the channel. A pair of rules that
 * differ by bank group (tCCDL/tCCDS, tRRDL/tRRDS, tWTRL/tWTRS) is the long value at group level
 * and the short one at channel level: the schema guarantees long >= short, so the maximum of
 * the levels gives each bank its rule. */
static void build_delays(cs_hbm *h)
{
    const cs_hbm_timing *t = &h->p.timing;
    uint64_t(*d)[LVL_COUNT][CMD_KINDS] = h->delay;
    memset(h->delay, 0, sizeof h->delay);
    uint64_t wr_data = (uint64_t)t->tWL + h->bl2; /* WR command to the end of its data */
    d[CMD_ACT][LVL_BANK][CMD_ACT] = (uint64_t)t->tRC;
    d[CMD_ACT][LVL_BANK][CMD_PRE] = (uint64_t)t->tRAS;
    d[CMD_ACT][LVL_BANK][CMD_RD] = (uint64_t)t->tRCD;
    d[CMD_ACT][LVL_BANK][CMD_WR] = (uint64_t)t->tRCD;
    d[CMD_ACT][LVL_GROUP][CMD_ACT] = (uint64_t)t->tRRDL;
    d[CMD_ACT][LVL_CHAN][CMD_ACT] = (uint64_t)t->tRRDS;
    d[CMD_PRE][LVL_BANK][CMD_ACT] = (uint64_t)t->tRP;
    d[CMD_RD][LVL_BANK][CMD_PRE] = (uint64_t)t->tRTP;
    d[CMD_RD][LVL_GROUP][CMD_RD] = (uint64_t)t->tCCDL;
    d[CMD_RD][LVL_CHAN][CMD_RD] = (uint64_t)t->tCCDS;
    d[CMD_RD][LVL_CHAN][CMD_WR] = (uint64_t)t->tRTW;
    d[CMD_WR][LVL_BANK][CMD_PRE] = wr_data + (uint64_t)t->tWR;
    d[CMD_WR][LVL_GROUP][CMD_RD] = wr_data + (uint64_t)t->tWTRL;
    d[CMD_WR][LVL_GROUP][CMD_WR] = (uint64_t)t->tCCDL;
    d[CMD_WR][LVL_CHAN][CMD_RD] = wr_data + (uint64_t)t->tWTRS;
    d[CMD_WR][LVL_CHAN][CMD_WR] = (uint64_t)t->tCCDS;
}

static inline void raise_bounds(uint64_t *e, const uint64_t *d, uint64_t c)
{
    for (int k = 0; k < CMD_KINDS; k++)
        if (d[k] && c + d[k] > e[k])
            e[k] = c + d[k];
}

/* Raises the bounds after `cmd` issued to bank b at cycle c. */
static void apply(cs_hbm *h, int cmd, uint32_t b, uint64_t c)
{
    raise_bounds(h->banks[b].earliest, h->delay[cmd][LVL_BANK], c);
    raise_bounds(h->grp_earliest[h->banks[b].group], h->delay[cmd][LVL_GROUP], c);
    raise_bounds(h->chan_earliest, h->delay[cmd][LVL_CHAN], c);
}

/* First cycle command k may issue to bank b (ignoring tFAW and the data bus). */
static inline uint64_t bound(const cs_hbm *h, const bank *bk, int k)
{
    return max64(bk->earliest[k], max64(h->grp_earliest[bk->group][k], h->chan_earliest[k]));
}

static uint64_t faw_earliest(const cs_hbm *h)
{
    return h->faw_n < 4 ? 0 : h->faw[h->faw_pos] + h->tFAW;
}

/* Refresh that fell due while nothing was scheduled: close the open banks, count the REFs and
 * hold ACTs until the last one ends. Called when work arrives and no tick is pending. */
static void refresh_catch_up(cs_hbm *h, uint64_t c)
{
    if (!h->p.refresh || c < h->next_ref)
        return;
    uint64_t tref = h->next_ref;
    for (uint64_t m = h->open_mask; m; m &= m - 1) {
        bank *bk = &h->banks[__builtin_ctzll(m)];
        tref = max64(tref, max64(h->next_ref, bound(h, bk, CMD_PRE)) + h->tRP);
        h->n.pre++;
    }
    h->open_mask = 0;
    for (uint32_t j = 0; j < h->nbanks; j++)
        tref = max64(tref, bound(h, &h->banks[j], CMD_ACT));
    uint64_t k = (c - h->next_ref) / h->tREFI + 1;
    uint64_t last = tref;
    if (k > 1)
        last = max64(tref + h->tRFC, h->next_ref + (k - 1) * h->tREFI);
    h->chan_earliest[CMD_ACT] = max64(h->chan_earliest[CMD_ACT], last + h->tRFC);
    for (uint32_t j = 0; j < h->nbanks; j++)
        h->banks[j].bypass = 0;
    h->stale_mask = ~0ULL;
    h->n.ref += k;
    h->next_ref += k * h->tREFI;
}

/* ---- scheduling -------------------------------------------------------------------------- */

/* Planning: every bank with queued requests offers one command (a row hit, else the ACT or
 * PRE its oldest request needs) with the cycle it could issue; the plan is the earliest such
 * cycle at or after `from` and, among the offers ready then, the one the policy prefers. The
 * policy's order is the key (cycle << 1 | rank), then age: earlier first; at the same cycle
 * FR-FCFS prefers row hits, then the oldest request; FCFS the oldest. Issuing only happens at
 * a planned cycle, so nothing is evaluated on cycles where nothing can happen. */

/* What bank b offers: a row hit (FR-FCFS: the oldest queued hit, unless it would bypass an
 * older miss once too often; FCFS: the oldest request only), else the ACT or PRE its oldest
 * request needs. */
/* Refreshes bank b's own_key from its offer and its group's bounds. */
static inline void own_key(cs_hbm *h, uint32_t b)
{
    boffers *o = &h->offers;
    uint64_t t = max64(o->bank_t[b], (&h->grp_earliest[0][0])[o->grp_cmd[b]]);
    o->own_key[b] = t << 1 | o->rank[b];
}

static void bank_offer(cs_hbm *h, uint32_t b)
{
    const bank *bk = &h->banks[b];
    const entry *head = &h->e[bk->head];
    boffers *o = &h->offers;
    bool frfcfs = h->p.scheduler == CS_HBM_FRFCFS;
    h->stale_mask &= ~(1ULL << b);
    o->ent[b] = bk->head;
    o->seq[b] = head->seq;
    o->rank[b] = frfcfs;
    int cmd = CMD_ACT;
    if (h->open_mask >> b & 1) {
        int32_t hit = NIL;
        if (frfcfs) {
            for (int32_t i = bk->head; i != NIL; i = h->e[i].bnext)
                if (h->e[i].row == bk->open_row) {
                    hit = i;
                    break;
                }
            /* A hit behind an older miss of this bank bypasses it: at most row_hit_cap times
             * per row opening (a request already started always finishes). */
            if (hit != NIL && hit != bk->head && !(h->e[hit].flags & F_STARTED) &&
                bk->bypass >= h->p.row_hit_cap)
                hit = NIL;
        } else if (head->row == bk->open_row) {
            hit = bk->head;
        }
        if (hit != NIL) {
            o->rank[b] = 0;
            o->ent[b] = hit;
            o->seq[b] = h->e[hit].seq;
            cmd = h->e[hit].flags & F_WRITE ? CMD_WR : CMD_RD;
        } else {
            CS_ASSERT(head->row != bk->open_row);
            cmd = CMD_PRE;
        }
    }
    o->cmd[b] = (uint8_t)cmd;
    o->grp_cmd[b] = (uint8_t)(bk->group * CMD_KINDS + (uint32_t)cmd);
    o->bank_t[b] = bk->earliest[cmd];
    own_key(h, b);
}

/* Per command kind, the bounds every bank shares at or after `from`: channel level, tFAW for
 * ACTs, the data bus for columns. */
static void common_bounds(const cs_hbm *h, uint64_t from, uint64_t out[CMD_KINDS])
{
    uint64_t rd_bus = h->bus_free > h->tCL ? h->bus_free - h->tCL : 0;
    uint64_t wr_bus = h->bus_free > h->tWL ? h->bus_free - h->tWL : 0;
    out[CMD_ACT] = max64(max64(h->chan_earliest[CMD_ACT], faw_earliest(h)), from);
    out[CMD_PRE] = max64(h->chan_earliest[CMD_PRE], from);
    out[CMD_RD] = max64(max64(h->chan_earliest[CMD_RD], rd_bus), from);
    out[CMD_WR] = max64(max64(h->chan_earliest[CMD_WR], wr_bus), from);
}

/* Bank b's offer in the policy's order, ahead of its age (the offer must be fresh). */
static inline uint64_t offer_key(const cs_hbm *h, uint32_t b, const uint64_t common[CMD_KINDS])
{
    const boffers *o = &h->offers;
    const uint64_t *grp = &h->grp_earliest[0][0];
    uint64_t t = max64(o->bank_t[b], max64(grp[o->grp_cmd[b]], common[o->cmd[b]]));
    return t << 1 | o->rank[b];
}

static void set_plan(cs_hbm *h, pick pk, uint64_t key, uint64_t seq)
{
    h->plan = pk;
    h->plan_key = key;
    h->plan_seq = seq;
    h->plan_t = key == NEVER ? NEVER : key >> 1;
}

static void plan(cs_hbm *h, uint64_t from)
{
    uint64_t best_key = NEVER, best_seq = NEVER;
    pick best = {CMD_NONE, 0, NIL};
    bool refreshing = h->p.refresh && h->busy_mask;
    if (refreshing && from >= h->next_ref) {
        /* Refresh due: no new columns or ACTs; precharge every bank, then REF. */
        if (h->open_mask) {
            for (uint64_t m = h->open_mask; m; m &= m - 1) {
                uint32_t b = (uint32_t)__builtin_ctzll(m);
                uint64_t key = max64(bound(h, &h->banks[b], CMD_PRE), from) << 1;
                if (key < best_key) {
                    best_key = key;
                    best = (pick){CMD_PRE, b, NIL};
                }
            }
        } else {
            uint64_t t = from;
            for (uint32_t j = 0; j < h->nbanks; j++)
                t = max64(t, bound(h, &h->banks[j], CMD_ACT));
            best_key = t << 1;
            best = (pick){CMD_REF, 0, NIL};
        }
        set_plan(h, best, best_key, 0);
        return;
    }
    uint64_t common[CMD_KINDS];
    common_bounds(h, from, common);
    for (uint64_t m = h->busy_mask & h->stale_mask; m; m &= m - 1)
        bank_offer(h, (uint32_t)__builtin_ctzll(m));
    /* The policy's order is (key, age) over the busy banks. Both fit in one 64-bit number once
     * taken relative to this plan (key - from, which is small, and seq - base, below 2^32),
     * with the bank index in the low bits: then the winner is the smallest number, found
     * without a branch per bank (which bank wins is unpredictable) and with a one-step
     * dependency chain. A pair out of range (never seen: it needs a bound 2^25 cycles out or a
     * request waiting through 2^32 arrivals) takes the plain loop. */
    uint64_t from2 = from << 1, base = h->seq > 0xffffffffULL ? h->seq - 0xffffffffULL : 0;
    uint64_t least = UINT64_MAX, out_of_range = 0;
    /* A key is max(own_key, the channel-wide bound of its command in the same form): the
     * rank is a function of the command, so it is the same low bit on both sides. */
    bool frfcfs = h->p.scheduler == CS_HBM_FRFCFS;
    uint64_t wide[CMD_KINDS];
    for (int k = 0; k < CMD_KINDS; k++)
        wide[k] = common[k] << 1 | (uint64_t)(frfcfs && (k == CMD_ACT || k == CMD_PRE));
    const boffers *o = &h->offers;
    for (uint64_t m = h->busy_mask; m; m &= m - 1) {
        uint32_t b = (uint32_t)__builtin_ctzll(m);
        uint64_t rel = max64(o->own_key[b], wide[o->cmd[b]]) - from2, seq = o->seq[b];
        out_of_range |= (uint64_t)((rel >= (1ULL << 26) - 1) | (seq < base));
        uint64_t v = rel << 38 | (seq - base) << 6 | b;
        least = v < least ? v : least;
    }
    uint32_t best_b = (uint32_t)(least & 63);
    if (out_of_range) {
        for (uint64_t m = h->busy_mask; m; m &= m - 1) {
            uint32_t b = (uint32_t)__builtin_ctzll(m);
            uint64_t key = offer_key(h, b, common), seq = h->offers.seq[b];
            if (key < best_key || (key == best_key && seq < best_seq)) {
                best_key = key;
                best_seq = seq;
                best_b = b;
            }
        }
    } else if (least != UINT64_MAX) {
        best_key = (least >> 38) + from2;
        best_seq = (least >> 6 & 0xffffffffULL) + base;
    }
    if (best_key != NEVER)
        best = (pick){h->offers.cmd[best_b], best_b, h->offers.ent[best_b]};
    if (h->p.page_policy == CS_HBM_CLOSED_PAGE) {
        /* Open banks nobody waits for: precharge, after every request's commands. */
        for (uint64_t m = h->open_mask & ~h->busy_mask; m; m &= m - 1) {
            uint32_t b = (uint32_t)__builtin_ctzll(m);
            uint64_t key = max64(bound(h, &h->banks[b], CMD_PRE), from) << 1 | 1;
            if (key < best_key) {
                best_key = key;
                best_seq = NEVER;
                best = (pick){CMD_PRE, b, NIL};
            }
        }
    }
    if (refreshing && best_key != NEVER && best_key >> 1 >= h->next_ref) {
        plan(h, h->next_ref); /* the refresh falls due first */
        return;
    }
    set_plan(h, best, best_key, best_seq);
}

static void column(cs_hbm *h, uint32_t b, int32_t i, uint64_t c)
{
    bank *bk = &h->banks[b];
    entry *x = &h->e[i];
    bool wr = x->flags & F_WRITE;
    if (!(x->flags & F_STARTED)) {
        x->flags |= F_STARTED;
        if (i != bk->head)
            bk->bypass++;
        if (x->flags & F_DID_PRE)
            h->n.row_conflicts++;
        else if (x->flags & F_DID_ACT)
            h->n.row_misses++;
        else
            h->n.row_hits++;
    }
    x->bursts &= (uint16_t)(x->bursts - 1);
    uint64_t start = c + (wr ? h->tWL : h->tCL);
    CS_ASSERT(start >= h->bus_free);
    h->bus_free = start + h->bl2;
    h->n.bus_busy_cycles += h->bl2;
    if (wr) {
        h->n.wr++;
        h->n.bytes_written += h->burst_bytes;
    } else {
        h->n.rd++;
        h->n.bytes_read += h->burst_bytes;
    }
    apply(h, wr ? CMD_WR : CMD_RD, b, c);
    if (!x->bursts) {
        bank_unlink(h, b, i);
        x->done_ps = cs_clock_ps(&h->clk, h->bus_free);
        done_push(h, i);
    }
}

static void issue(cs_hbm *h, pick pk, uint64_t c)
{
    bank *bk = &h->banks[pk.bank];
    uint64_t bit = 1ULL << pk.bank;
    switch (pk.cmd) {
    case CMD_ACT:
        h->stale_mask |= bit;
        bk->open_row = h->e[pk.ent].row;
        h->open_mask |= 1ULL << pk.bank;
        h->e[pk.ent].flags |= F_DID_ACT;
        bk->bypass = 0;
        h->faw[h->faw_pos] = c;
        h->faw_pos = (h->faw_pos + 1) % 4;
        if (h->faw_n < 4)
            h->faw_n++;
        h->n.act++;
        apply(h, CMD_ACT, pk.bank, c);
        break;
    case CMD_PRE:
        h->stale_mask |= bit;
        h->open_mask &= ~(1ULL << pk.bank);
        if (pk.ent != NIL)
            h->e[pk.ent].flags |= F_DID_PRE;
        bk->bypass = 0;
        h->n.pre++;
        apply(h, CMD_PRE, pk.bank, c);
        break;
    case CMD_RD:
    case CMD_WR:
        column(h, pk.bank, pk.ent, c);
        /* With bursts left the request is still the bank's first hit (and started, so no
         * bypass cap applies): the offer stands, only its bank bound moved. */
        if (h->e[pk.ent].bursts)
            h->offers.bank_t[pk.bank] = bk->earliest[pk.cmd];
        else
            h->stale_mask |= bit;
        break;
    case CMD_REF:
        h->stale_mask |= bit;
        h->chan_earliest[CMD_ACT] = max64(h->chan_earliest[CMD_ACT], c + h->tRFC);
        h->next_ref += h->tREFI;
        h->n.ref++;
        return;
    default:
        CS_ASSERT(0);
    }
    /* The command raised its group's bounds (apply): the group's own keys follow. Stale
     * offers get theirs when they are recomputed. */
    uint32_t bpg = (uint32_t)h->p.banks_per_group, first = bk->group * bpg;
    for (uint32_t j = first; j < first + bpg; j++)
        own_key(h, j);
}

static void arm_tick(cs_hbm *h, uint64_t c)
{
    h->tick_cycle = c;
    cs_engine_arm(h->base.eng, &h->tick_ev, cs_clock_ps(&h->clk, c), CS_PRIO_LATE, NULL, 0);
}

/* Runs at a planned command-clock edge (after everything else of that instant, so requests
 * arriving on the edge are seen): issues the planned command and plans the next. */
static void on_tick(void *ctx, void *ptr, uint64_t arg)
{
    (void)ptr;
    (void)arg;
    cs_hbm *h = ctx;
    uint64_t c = h->tick_cycle;
    if (h->plan_t != c) /* cannot happen: the tick is only armed at plan_t */
        plan(h, c);
    if (h->plan_t == c) {
        issue(h, h->plan, c);
        h->next_cmd = c + 1;
        plan(h, c + 1);
    }
    if (h->plan_t != NEVER)
        arm_tick(h, h->plan_t);
}

/* A request was queued at bank b: update the plan. Only bank b's offer changed, so unless the
 * plan was bank b's own command (or a refresh is due before it), the new plan is the better of
 * the old one and bank b's new offer: no scan of the other banks, no extra event. */
static void kick(cs_hbm *h, uint32_t b)
{
    uint64_t c = max64(cs_clock_cycle_at(&h->clk, cs_engine_now(h->base.eng)), h->next_cmd);
    if (!cs_event_pending(&h->tick_ev)) {
        refresh_catch_up(h, c);
        plan(h, c);
    } else if (h->plan.bank == b || h->plan.cmd == CMD_REF ||
               (h->p.refresh && h->next_ref <= h->plan_t)) {
        plan(h, c); /* c <= tick_cycle: the pending tick is never later than the edge now */
    } else {
        bank_offer(h, b);
        const boffers *o = &h->offers;
        uint64_t common[CMD_KINDS];
        common_bounds(h, c, common);
        uint64_t key = offer_key(h, b, common);
        if (key > h->plan_key || (key == h->plan_key && o->seq[b] >= h->plan_seq))
            return;
        set_plan(h, (pick){o->cmd[b], b, o->ent[b]}, key, o->seq[b]);
    }
    if (h->plan_t != NEVER && (!cs_event_pending(&h->tick_ev) || h->plan_t != h->tick_cycle))
        arm_tick(h, h->plan_t);
}

/* ---- requests in and out ----------------------------------------------------------------- */

static void admit(cs_hbm *h, cs_req *r, cs_ps arrive_ps)
{
    int32_t i = slot_alloc(h);
    entry *x = &h->e[i];
    bool wr = r->kind == CS_REQ_WRITE;
    *x = (entry){.req = r, .seq = h->seq++, .arrive_ps = arrive_ps, .bprev = NIL, .bnext = NIL,
                 .next = NIL, .bursts = h->burst_mask[r->sectors & 0xf], .port = r->hop,
                 .flags = wr ? F_WRITE : 0};
    if (h->p.ideal) {
        uint64_t bursts = (uint64_t)__builtin_popcount(x->bursts);
        if (wr) {
            h->n.wr += bursts;
            h->n.bytes_written += bursts * h->burst_bytes;
        } else {
            h->n.rd += bursts;
            h->n.bytes_read += bursts * h->burst_bytes;
        }
        x->done_ps = cs_engine_now(h->base.eng) + h->p.ideal_latency_ps;
        done_push(h, i);
        return;
    }
    cs_dram_coord d = cs_addrmap_dram(&h->map, r->addr);
    CS_ASSERT(d.channel == h->index);
    uint32_t b = d.bank_group * (uint32_t)h->p.banks_per_group + d.bank;
    x->row = d.row;
    bank_append(h, b, i);
    kick(h, b);
}

static void release_slot(cs_hbm *h, int32_t i)
{
    entry *x = &h->e[i];
    uint16_t port = x->port;
    x->req = NULL;
    x->next = h->free_head;
    h->free_head = i;
    h->used--;
    cs_gauge_add(&h->occupancy, -1);
    cs_port_release(&h->in[port]);
    if (h->bl_n) {
        backlog_item it = h->backlog[h->bl_head];
        h->bl_head = (h->bl_head + 1) % h->bl_cap;
        h->bl_n--;
        admit(h, it.req, it.arrive_ps);
    }
}

static void on_recv(void *owner, cs_port *in, void *ptr, uint64_t arg)
{
    (void)arg;
    cs_hbm *h = owner;
    cs_req *r = ptr;
    CS_ASSERT(!r->is_resp && (r->kind == CS_REQ_READ || r->kind == CS_REQ_WRITE));
    CS_ASSERT(r->sectors & 0xf);
    r->hop = (uint16_t)in->id;
    cs_ps now = cs_engine_now(h->base.eng);
    if (h->p.ideal || h->free_head != NIL) {
        admit(h, r, now);
        return;
    }
    if (h->bl_n == h->bl_cap) { /* grow the ring, unrolling it */
        size_t cap = h->bl_cap ? 2 * h->bl_cap : 16;
        backlog_item *nb = cs_malloc(cap * sizeof *nb);
        for (size_t k = 0; k < h->bl_n; k++)
            nb[k] = h->backlog[(h->bl_head + k) % h->bl_cap];
        cs_free(h->backlog);
        h->backlog = nb;
        h->bl_cap = cap;
        h->bl_head = 0;
    }
    h->backlog[(h->bl_head + h->bl_n) % h->bl_cap] = (backlog_item){r, now};
    h->bl_n++;
}

static bool send_response(cs_hbm *h, cs_req *r)
{
    return cs_port_try_send(&h->out[r->hop], r, 0, cs_req_wire_bytes(r));
}

static void complete(cs_hbm *h, int32_t i)
{
    entry *x = &h->e[i];
    cs_req *r = x->req;
    uint64_t dt = x->done_ps - x->arrive_ps;
    cs_hist_add(&h->latency, (dt * h->clk.freq_khz + 500000000ULL) / 1000000000ULL);
    cs_engine_progress(h->base.eng);
    if (r->kind == CS_REQ_WRITE && r->no_ack) {
        cs_req_free(h->pool, r);
        release_slot(h, i);
        return;
    }
    r->is_resp = true;
    r->hop = x->port;
    waitq *w = &h->waiting[x->port];
    if (!w->n && send_response(h, r)) {
        release_slot(h, i);
        return;
    }
    x->next = NIL;
    if (w->tail == NIL)
        w->head = i;
    else
        h->e[w->tail].next = i;
    w->tail = i;
    w->n++;
}

static void on_done(void *ctx, void *ptr, uint64_t arg)
{
    (void)ptr;
    (void)arg;
    cs_hbm *h = ctx;
    cs_ps now = cs_engine_now(h->base.eng);
    while (h->done_head != NIL && h->e[h->done_head].done_ps <= now) {
        int32_t i = h->done_head;
        h->done_head = h->e[i].next;
        if (h->done_head == NIL)
            h->done_tail = NIL;
        complete(h, i);
    }
    if (h->done_head != NIL && !cs_event_pending(&h->done_ev))
        cs_engine_arm(h->base.eng, &h->done_ev, h->e[h->done_head].done_ps, CS_PRIO_DEFAULT,
                      NULL, 0);
}

static void on_credit(void *owner, cs_port *out)
{
    cs_hbm *h = owner;
    waitq *w = &h->waiting[out->id];
    while (w->n) {
        int32_t i = w->head;
        if (!send_response(h, h->e[i].req))
            return; /* the link calls back again */
        w->head = h->e[i].next;
        if (w->head == NIL)
            w->tail = NIL;
        w->n--;
        release_slot(h, i);
    }
}

/* ---- component hooks --------------------------------------------------------------------- */

/* One line, then one indented line per bank with work or an open row and per port with
 * refused responses (no trailing newline: the engine's dump adds it). */
static void dump(const void *self, cs_buf *out)
{
    const cs_hbm *h = self;
    uint32_t completing = 0;
    for (int32_t i = h->done_head; i != NIL; i = h->e[i].next)
        completing++;
    cs_buf_printf(out, "hbm channel %u%s: %u of %zu slots used (%u with data in flight), %zu "
                       "waiting for a slot",
                  h->index, h->p.ideal ? " (ideal)" : "", h->used, h->ne, completing, h->bl_n);
    if (!h->p.ideal) {
        cs_buf_printf(out, "; bus free at cycle %" PRIu64 ", next refresh at %" PRIu64
                           ", tick %s %" PRIu64,
                      h->bus_free, h->next_ref,
                      cs_event_pending(&h->tick_ev) ? "armed at" : "idle since", h->tick_cycle);
        for (uint32_t b = 0; b < h->nbanks; b++) {
            const bank *bk = &h->banks[b];
            if (!bk->queued && !(h->open_mask >> b & 1))
                continue;
            cs_buf_printf(out, "\n    bank g%u.%u: ", bk->group,
                          b % (uint32_t)h->p.banks_per_group);
            if (h->open_mask >> b & 1)
                cs_buf_printf(out, "open row %" PRIu64, bk->open_row);
            else
                cs_buf_puts(out, "closed");
            cs_buf_printf(out, ", %u queued", bk->queued);
            if (bk->head != NIL)
                cs_buf_printf(out, " (oldest: row %" PRIu64 ", addr 0x%" PRIx64 ")",
                              h->e[bk->head].row, h->e[bk->head].req->addr);
            cs_buf_printf(out, "; earliest act %" PRIu64 " pre %" PRIu64 " rd %" PRIu64
                               " wr %" PRIu64,
                          bound(h, bk, CMD_ACT), bound(h, bk, CMD_PRE), bound(h, bk, CMD_RD),
                          bound(h, bk, CMD_WR));
        }
    }
    for (uint32_t p = 0; p < h->nports; p++)
        if (h->waiting[p].n)
            cs_buf_printf(out, "\n    port %u: %u responses refused by the link, waiting", p,
                          h->waiting[p].n);
}

static bool busy(const void *self)
{
    const cs_hbm *h = self;
    return h->used || h->bl_n;
}

static void destroy_hook(void *self) { cs_hbm_destroy(self); }

static const cs_component_type hbm_type = {
    .kind = "hbm_channel",
    .energy_class = "dram",
    .dump = dump,
    .busy = busy,
    .destroy = destroy_hook,
};

/* ---- create / destroy -------------------------------------------------------------------- */

static void register_stats(cs_hbm *h, cs_stats *s, const char *name)
{
    char key[256];
    static const struct {
        const char *suffix, *desc;
        size_t off;
    } actions[] = {
        {"act", "row activations", offsetof(cs_hbm_counts, act)},
        {"pre", "precharges", offsetof(cs_hbm_counts, pre)},
        {"rd", "read bursts", offsetof(cs_hbm_counts, rd)},
        {"wr", "write bursts", offsetof(cs_hbm_counts, wr)},
        {"ref", "all-bank refreshes", offsetof(cs_hbm_counts, ref)},
    };
    static const struct {
        const char *suffix, *unit, *desc;
        size_t off;
    } counters[] = {
        {"row_hits", "requests", "requests served from an open row",
         offsetof(cs_hbm_counts, row_hits)},
        {"row_misses", "requests", "requests that needed an ACT to a closed bank",
         offsetof(cs_hbm_counts, row_misses)},
        {"row_conflicts", "requests", "requests that needed a PRE of another row",
         offsetof(cs_hbm_counts, row_conflicts)},
        {"bytes_read", "bytes", "data bytes read", offsetof(cs_hbm_counts, bytes_read)},
        {"bytes_written", "bytes", "data bytes written", offsetof(cs_hbm_counts, bytes_written)},
        {"bus_busy_cycles", "cycles", "command-clock cycles the data bus carried data",
         offsetof(cs_hbm_counts, bus_busy_cycles)},
    };
    for (size_t k = 0; k < sizeof actions / sizeof actions[0]; k++) {
        snprintf(key, sizeof key, "%s.%s", name, actions[k].suffix);
        cs_stats_action(s, key, "commands", actions[k].desc,
                        (const uint64_t *)(const void *)((const char *)&h->n + actions[k].off),
                        "dram", actions[k].suffix);
    }
    for (size_t k = 0; k < sizeof counters / sizeof counters[0]; k++) {
        snprintf(key, sizeof key, "%s.%s", name, counters[k].suffix);
        cs_stats_counter(s, key, counters[k].unit, counters[k].desc,
                         (const uint64_t *)(const void *)((const char *)&h->n + counters[k].off));
    }
    snprintf(key, sizeof key, "%s.latency", name);
    cs_stats_hist(s, key, "cycles", "request arrival to data done, DRAM cycles", &h->latency);
    snprintf(key, sizeof key, "%s.queue", name);
    cs_stats_gauge(s, key, "requests", "request slots in use", &h->occupancy);
    cs_stats_instance(s, "dram", name);
}

cs_status cs_hbm_create(cs_engine *eng, const char *name, uint32_t index,
                        const cs_hbm_params *p, const cs_addrmap *map, uint32_t nports,
                        cs_req_pool *pool, cs_stats *stats, cs_hbm **out, cs_err *err)
{
    *out = NULL;
    int64_t banks = p->bank_groups * p->banks_per_group;
    if (nports == 0 || nports > UINT16_MAX)
        return cs_err_add(err, CS_INVALID, "%s: %u ports (need 1 to %u)", name, nports,
                          UINT16_MAX);
    if ((int64_t)index >= p->channels)
        return cs_err_add(err, CS_INVALID, "%s: channel %u of %" PRId64, name, index,
                          p->channels);
    if (!p->ideal) {
        if (!is_pow2(p->bank_groups) || !is_pow2(p->banks_per_group) || banks > MAX_BANKS)
            return cs_err_add(err, CS_INVALID, "%s: %" PRId64 " x %" PRId64
                              " banks (powers of two, at most %d in all)",
                              name, p->bank_groups, p->banks_per_group, MAX_BANKS);
        if (map->channels != (uint64_t)p->channels ||
            map->bank_groups != (uint64_t)p->bank_groups ||
            map->banks_per_group != (uint64_t)p->banks_per_group ||
            (uint64_t)map->lines_per_row * CS_LINE_BYTES != p->row_bytes)
            return cs_err_add(err, CS_INVALID,
                              "%s: the address map (%u channels, %u x %u banks, %u lines per "
                              "row) does not match the channel parameters",
                              name, map->channels, map->bank_groups, map->banks_per_group,
                              map->lines_per_row);
        const cs_hbm_timing *t = &p->timing;
        /* The timing table keeps the long rule of each pair at group level and the short one
         * at channel level (build_delays): that needs long >= short. */
        if (t->tCCDL < t->tCCDS || t->tRRDL < t->tRRDS || t->tWTRL < t->tWTRS)
            return cs_err_add(err, CS_INVALID,
                              "%s: tCCDL, tRRDL, tWTRL must not be below tCCDS, tRRDS, tWTRS",
                              name);
        if (p->queue_entries < 1 || p->queue_entries > INT32_MAX)
            return cs_err_add(err, CS_INVALID, "%s: %" PRId64 " queue entries", name,
                              p->queue_entries);
        if (t->tREFI <= 0 && p->refresh)
            return cs_err_add(err, CS_INVALID, "%s: tREFI must be positive", name);
    }
    uint32_t burst = cs_hbm_burst_bytes(p);
    if (burst < 8 || burst > CS_LINE_BYTES || (burst & (burst - 1)) || p->burst_length % 2)
        return cs_err_add(err, CS_INVALID, "%s: %u bytes per burst (need a power of two, 8-128)",
                          name, burst);

    cs_hbm *h = cs_calloc(1, sizeof *h);
    h->p = *p;
    h->map = *map;
    h->index = index;
    h->clk.freq_khz = p->clock_khz;
    h->pool = pool;
    h->nports = nports;
    h->in = cs_calloc(nports, sizeof *h->in);
    h->out = cs_calloc(nports, sizeof *h->out);
    h->waiting = cs_calloc(nports, sizeof *h->waiting);
    for (uint32_t k = 0; k < nports; k++) {
        cs_port_init_in(&h->in[k], h, on_recv, k);
        cs_port_init_out(&h->out[k], h, on_credit, k);
        h->waiting[k] = (waitq){NIL, NIL, 0};
    }
    h->bl2 = (uint64_t)p->burst_length / 2;
    h->tCL = (uint64_t)p->timing.tCL;
    h->tWL = (uint64_t)p->timing.tWL;
    h->tFAW = (uint64_t)p->timing.tFAW;
    h->tRFC = (uint64_t)p->timing.tRFC;
    h->tREFI = (uint64_t)(p->timing.tREFI > 0 ? p->timing.tREFI : 1);
    h->tRP = (uint64_t)p->timing.tRP;
    h->burst_bytes = burst;
    for (uint32_t m = 0; m < 16; m++) {
        uint16_t bm = 0;
        for (uint32_t k = 0; k < CS_LINE_BYTES / burst; k++) {
            uint32_t first = k * burst / CS_SECTOR_BYTES;
            uint32_t last = ((k + 1) * burst - 1) / CS_SECTOR_BYTES;
            for (uint32_t s = first; s <= last; s++)
                if (m >> s & 1)
                    bm |= (uint16_t)(1u << k);
        }
        h->burst_mask[m] = bm;
    }
    build_delays(h);
    h->nbanks = p->ideal ? 0 : (uint32_t)banks;
    for (uint32_t b = 0; b < h->nbanks; b++)
        h->banks[b] = (bank){.head = NIL, .tail = NIL,
                             .group = b / (uint32_t)p->banks_per_group};
    /* Stagger the channels' refreshes over one interval, as controllers do. */
    h->next_ref = h->tREFI + h->tREFI * index / (uint64_t)p->channels;
    h->free_head = NIL;
    h->done_head = h->done_tail = NIL;
    if (!p->ideal) {
        slots_reserve(h, (size_t)p->queue_entries);
        h->ne = h->cap;
        for (size_t i = h->ne; i-- > 0;) {
            h->e[i].next = h->free_head;
            h->free_head = (int32_t)i;
        }
    }
    cs_event_init(&h->tick_ev, on_tick, h);
    cs_event_init(&h->done_ev, on_done, h);
    cs_component_init(&h->base, &hbm_type, name, eng);
    if (stats)
        register_stats(h, stats, name);
    *out = h;
    return CS_OK;
}

void cs_hbm_destroy(cs_hbm *h)
{
    if (!h)
        return;
    cs_free(h->in);
    cs_free(h->out);
    cs_free(h->waiting);
    cs_free(h->e_block);
    cs_free(h->backlog);
    cs_component_fini(&h->base);
    cs_free(h);
}

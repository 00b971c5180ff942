/* engine — the discrete-event kernel: time, clock domains, events, the run loop, the watchdog.
 *
 * Time is integer picoseconds (cs_ps). Events are ordered totally by (time, priority, insertion
 * sequence), so equal inputs always give the same order. The engine is an object: no globals,
 * any number of engines per process (one per thread is the usual pattern).
 *
 * Two kinds of events:
 *  - posted events (cs_engine_post): held by the queue itself (handler and payload in its
 *    entry); nothing is allocated per event once the queue has grown to the run's high-water
 *    mark;
 *  - embedded events (cs_event inside a component, cs_engine_arm): re-armed by their owner,
 *    cancellable (cs_engine_cancel) in O(1); a cancelled entry is skipped when it surfaces.
 *
 * The engine does not know components; it knows "units" registered for diagnostics: when the
 * watchdog sees no progress, or a caller asks, it dumps pending events and each unit's state.
 * Not responsible for: links (port.h), statistics (stats.h), configuration (cfg.h).
 */
#ifndef CS_ENGINE_H
#define CS_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

typedef uint64_t cs_ps;
#define CS_PS_NEVER UINT64_MAX

/* ---- clock domains ------------------------------------------------------------------------
 * A clock is a frequency in kHz; cycle n starts at floor(n * 1e9 / freq_khz) ps. Edges are
 * exact integers with no accumulated drift even when the period is not (1410 MHz). */
typedef struct cs_clock {
    uint64_t freq_khz;
} cs_clock;

static inline cs_ps cs_clock_ps(const cs_clock *c, uint64_t cycle)
{
    uint64_t f = c->freq_khz;
    if (cycle < UINT64_MAX / 1000000000ULL) /* one division: any run shorter than 1.8e10 cycles */
        return cycle * 1000000000ULL / f;
    return (cycle / f) * 1000000000ULL + ((cycle % f) * 1000000000ULL) / f;
}

/* First cycle whose edge is at or after t: ceil(t * f / 1e9), computed as q * f + ceil(r * f /
 * 1e9) with t = q * 1e9 + r, which fits in 64 bits for any t with any clock below 1 THz and
 * divides only by the constant 1e9 (a multiplication once compiled). */
static inline uint64_t cs_clock_cycle_at(const cs_clock *c, cs_ps t)
{
    uint64_t f = c->freq_khz;
    uint64_t q = t / 1000000000ULL, r = t % 1000000000ULL;
    uint64_t num = r * f; /* < 1e9 * f: fits for f < 1.8e10 kHz */
    return q * f + num / 1000000000ULL + (num % 1000000000ULL != 0);
}

/* Cycles elapsed at t, rounded down (for reporting). */
static inline uint64_t cs_clock_cycles_floor(const cs_clock *c, cs_ps t)
{
    uint64_t f = c->freq_khz, q = t / 1000000000ULL, r = t % 1000000000ULL;
    return q * f + (r * f) / 1000000000ULL;
}

static inline cs_ps cs_clock_next_edge(const cs_clock *c, cs_ps t)
{
    return cs_clock_ps(c, cs_clock_cycle_at(c, t));
}

/* Time of the edge `cycles` cycles after the first edge at or after t. */
static inline cs_ps cs_clock_after(const cs_clock *c, cs_ps t, uint64_t cycles)
{
    return cs_clock_ps(c, cs_clock_cycle_at(c, t) + cycles);
}

/* A cursor that remembers the last edge it found, so that a component asking for edges at
 * slowly increasing times (a link, a pipeline) steps from edge to edge without dividing: with
 * 1e9 = step_ps * f + step_rem, edge(n + 1) = edge(n) + step_ps, plus one when the remainder
 * n * 1e9 mod f, carried along, wraps. Zero-initialise it; it binds to the clock it is first
 * used with (and re-binds if used with another). */
typedef struct cs_clock_cursor {
    uint64_t cycle;
    cs_ps edge, next;   /* edge of `cycle` and of cycle + 1 */
    uint64_t next_rem;  /* internal: (cycle + 1) * 1e9 mod freq_khz */
    uint64_t freq_khz;  /* internal: the clock stepped with; 0 = seek on every call */
    uint64_t step_ps, step_rem;
} cs_clock_cursor;

/* Moves the cursor to cycle n (one division). */
static inline void cs_clock_cursor_seek(const cs_clock *c, cs_clock_cursor *k, uint64_t n)
{
    uint64_t f = c->freq_khz;
    k->cycle = n;
    if (n + 1 >= UINT64_MAX / 1000000000ULL) { /* beyond 1.8e10 cycles: no stepping */
        k->edge = cs_clock_ps(c, n);
        k->next = cs_clock_ps(c, n + 1);
        k->freq_khz = 0;
        return;
    }
    if (k->freq_khz != f) {
        k->freq_khz = f;
        k->step_ps = 1000000000ULL / f;
        k->step_rem = 1000000000ULL % f;
    }
    uint64_t num = (n + 1) * 1000000000ULL;
    k->next = num / f;
    k->next_rem = num % f;
    /* n * 1e9 = (n + 1) * 1e9 - (step_ps * f + step_rem) */
    k->edge = k->next - k->step_ps - (k->next_rem < k->step_rem);
}

/* Moves a bound cursor one cycle on. */
static inline void cs_clock_cursor_step(cs_clock_cursor *k)
{
    uint64_t rem = k->next_rem + k->step_rem;
    bool wrap = rem >= k->freq_khz;
    k->cycle++;
    k->edge = k->next;
    k->next += k->step_ps + wrap;
    k->next_rem = wrap ? rem - k->freq_khz : rem;
}

/* First cycle whose edge is at or after t, with its edge time in *edge_ps. Steps when t is a
 * few cycles ahead of the last answer, seeks (one division) otherwise. */
static inline uint64_t cs_clock_cursor_at(const cs_clock *c, cs_clock_cursor *k, cs_ps t, cs_ps *edge_ps)
{
    if (k->freq_khz != c->freq_khz || !k->freq_khz) { /* first use, another clock, far out */
        cs_clock_cursor_seek(c, k, cs_clock_cycle_at(c, t));
    } else if (t > k->edge && t - k->edge <= 4 * (k->step_ps + 1)) { /* at most 4 cycles on */
        do
            cs_clock_cursor_step(k);
        while (t > k->edge);
    } else if (t != k->edge) { /* a longer jump, or back in time */
        cs_clock_cursor_seek(c, k, cs_clock_cycle_at(c, t));
    }
    *edge_ps = k->edge;
    return k->cycle;
}

/* Time of the edge `cycles` (>= 1) cycles after the cursor's cycle. */
static inline cs_ps cs_clock_cursor_after(const cs_clock *c, const cs_clock_cursor *k, uint64_t cycles)
{
    if (k->freq_khz != c->freq_khz || !k->freq_khz || cycles > 8)
        return cs_clock_ps(c, k->cycle + cycles);
    cs_ps t = k->next;
    uint64_t rem = k->next_rem;
    for (uint64_t i = 1; i < cycles; i++) {
        rem += k->step_rem;
        bool wrap = rem >= k->freq_khz;
        t += k->step_ps + wrap;
        rem = wrap ? rem - k->freq_khz : rem;
    }
    return t;
}

/* ---- events ------------------------------------------------------------------------------- */
typedef struct cs_engine cs_engine;
typedef struct cs_event cs_event;
/* Handler: ctx, ptr and arg are what the event was posted with. */
typedef void (*cs_event_fn)(void *ctx, void *ptr, uint64_t arg);

struct cs_event {
    cs_event_fn fn;
    void *ctx;
    void *ptr;           /* as last armed */
    uint64_t arg;        /* as last armed */
    uint64_t key;        /* internal: (priority, sequence) it was scheduled with; 0 = idle */
};

/* Priorities order events of equal time: lower first. Components use DEFAULT; the values
 * around it exist for "after everything else this instant" work (arbitration, stats). */
enum {
    CS_PRIO_FIRST = 0,
    CS_PRIO_EARLY = 64,
    CS_PRIO_DEFAULT = 128,
    CS_PRIO_LATE = 192,
    CS_PRIO_LAST = 255
};

/* ---- create / destroy --------------------------------------------------------------------- */
cs_engine *cs_engine_create(void);
void cs_engine_destroy(cs_engine *eng); /* NULL is a no-op */

/* ---- schedule ----------------------------------------------------------------------------- */
/* Posts a pooled one-shot event at absolute time t_ps (>= now). */
void cs_engine_post(cs_engine *eng, cs_ps t_ps, int prio, cs_event_fn fn, void *ctx, void *ptr,
                    uint64_t arg);
/* Initialises an embedded event; arm it later with cs_engine_arm. */
void cs_event_init(cs_event *ev, cs_event_fn fn, void *ctx);
/* Schedules an embedded event at t_ps. If it is already pending it is moved (the old entry is
 * cancelled). ptr and arg are passed to the handler. */
void cs_engine_arm(cs_engine *eng, cs_event *ev, cs_ps t_ps, int prio, void *ptr, uint64_t arg);
void cs_engine_cancel(cs_engine *eng, cs_event *ev);
static inline bool cs_event_pending(const cs_event *ev) { return ev->key != 0; }

/* ---- run ---------------------------------------------------------------------------------- */
/* The first member of every engine: read inline on hot paths. */
typedef struct cs_engine_head {
    cs_ps now;
    uint64_t progress;
} cs_engine_head;
static inline cs_ps cs_engine_now(const cs_engine *eng)
{
    return ((const cs_engine_head *)(const void *)eng)->now;
}
/* Runs events in order until the queue is empty, the next event is later than until_ps, or
 * cs_engine_stop() is called. Returns CS_OK, or CS_DEADLOCK when the watchdog fired (a
 * message describing the stall, with the dump, is added to err). */
cs_status cs_engine_run(cs_engine *eng, cs_ps until_ps, cs_err *err);
void cs_engine_stop(cs_engine *eng);
uint64_t cs_engine_events_run(const cs_engine *eng);
uint64_t cs_engine_pending(const cs_engine *eng); /* entries in the queue, cancelled ones too */
uint64_t cs_engine_max_pending(const cs_engine *eng); /* high-water mark of the queue */
/* Time of the next pending event, CS_PS_NEVER when none. */
cs_ps cs_engine_next_time(cs_engine *eng);

/* ---- progress and diagnostics ------------------------------------------------------------- */
/* Components call this when they complete work (a request served, an op retired). The
 * watchdog stops a run when window_ps of simulated time pass, or window_events events run,
 * without any progress; 0 disables that criterion. Default: 1 ms and 50 M events. */
static inline void cs_engine_progress(cs_engine *eng)
{
    ((cs_engine_head *)(void *)eng)->progress++;
}
void cs_engine_set_watchdog(cs_engine *eng, cs_ps window_ps, uint64_t window_events);
uint64_t cs_engine_progress_count(const cs_engine *eng);
/* A unit (component) that can describe its state for a deadlock dump. */
typedef void (*cs_dump_fn)(const void *ctx, cs_buf *out);
void cs_engine_add_unit(cs_engine *eng, const char *name, const void *ctx, cs_dump_fn dump);
/* Writes the pending events (earliest first, at most max_events) and every unit's state. */
void cs_engine_dump(cs_engine *eng, cs_buf *out, int max_events);

#endif

/* engine — a 4-ary min-heap of (time, key, event) entries.
 *
 * key = priority << 56 | sequence: one 64-bit compare after the time gives the total order,
 * and the key doubles as the event's identity in the heap, so cancelling is O(1): the event
 * forgets its key and the stale entry is dropped when it reaches the top. The heap stores the
 * keys beside the pointers so sifting never touches event memory.
 */
#include "engine.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

typedef struct entry {
    cs_ps t;
    uint64_t key;
    cs_event *ev;
} entry;

typedef struct unit {
    char *name;
    const void *ctx;
    cs_dump_fn dump;
} unit;

enum { SLAB_EVENTS = 4096, WATCH_EVERY = 1024 };

typedef struct slab {
    struct slab *next;
    cs_event ev[SLAB_EVENTS];
} slab;

struct cs_engine {
    cs_engine_head head; /* must stay first */
    entry *heap;
    size_t n, cap;
    uint64_t seq;
    uint64_t events_run;
    bool stop;
    cs_event *free_list;
    slab *slabs;
    unit *units;
    size_t nunits, units_cap;
    /* watchdog */
    cs_ps watch_window_ps;
    uint64_t watch_window_events;
    uint64_t last_progress;
    cs_ps last_progress_t;
    uint64_t last_progress_ev;
};

cs_engine *cs_engine_create(void)
{
    cs_engine *e = cs_calloc(1, sizeof *e);
    e->watch_window_ps = 1000000000ULL; /* 1 ms of simulated time */
    e->watch_window_events = 50000000ULL;
    return e;
}

void cs_engine_destroy(cs_engine *e)
{
    if (!e)
        return;
    for (slab *s = e->slabs, *next; s; s = next) {
        next = s->next;
        cs_free(s);
    }
    for (size_t i = 0; i < e->nunits; i++)
        cs_free(e->units[i].name);
    cs_free(e->units);
    cs_free(e->heap);
    cs_free(e);
}

static inline bool before(const entry *a, const entry *b)
{
    return a->t < b->t || (a->t == b->t && a->key < b->key);
}

static void push(cs_engine *e, cs_ps t, uint64_t key, cs_event *ev)
{
    if (e->n == e->cap)
        CS_GROW(e->heap, e->cap, e->n + 1);
    entry x = {t, key, ev};
    size_t i = e->n++;
    while (i > 0) {
        size_t parent = (i - 1) / 4;
        if (!before(&x, &e->heap[parent]))
            break;
        e->heap[i] = e->heap[parent];
        i = parent;
    }
    e->heap[i] = x;
}

static entry pop(cs_engine *e)
{
    entry top = e->heap[0];
    entry x = e->heap[--e->n];
    size_t n = e->n, i = 0;
    for (;;) {
        size_t c = 4 * i + 1;
        if (c >= n)
            break;
        size_t best = c, end = c + 4 < n ? c + 4 : n;
        for (size_t j = c + 1; j < end; j++)
            if (before(&e->heap[j], &e->heap[best]))
                best = j;
        if (!before(&e->heap[best], &x))
            break;
        e->heap[i] = e->heap[best];
        i = best;
    }
    if (n)
        e->heap[i] = x;
    return top;
}

static uint64_t next_key(cs_engine *e, int prio)
{
    uint64_t p = (uint64_t)(prio < 0 ? 0 : prio > 255 ? 255 : prio);
    return (p << 56) | (++e->seq & 0x00ffffffffffffffULL);
}

static cs_event *pool_get(cs_engine *e)
{
    if (!e->free_list) {
        slab *s = cs_malloc(sizeof *s);
        s->next = e->slabs;
        e->slabs = s;
        for (int i = SLAB_EVENTS - 1; i >= 0; i--) {
            s->ev[i].next_free = e->free_list;
            e->free_list = &s->ev[i];
        }
    }
    cs_event *ev = e->free_list;
    e->free_list = ev->next_free;
    return ev;
}

void cs_engine_post(cs_engine *e, cs_ps t, int prio, cs_event_fn fn, void *ctx, void *ptr,
                    uint64_t arg)
{
    cs_event *ev = pool_get(e);
    ev->fn = fn;
    ev->ctx = ctx;
    ev->ptr = ptr;
    ev->arg = arg;
    ev->pooled = true;
    ev->key = next_key(e, prio);
    push(e, t < e->head.now ? e->head.now : t, ev->key, ev);
}

void cs_event_init(cs_event *ev, cs_event_fn fn, void *ctx)
{
    memset(ev, 0, sizeof *ev);
    ev->fn = fn;
    ev->ctx = ctx;
}

void cs_engine_arm(cs_engine *e, cs_event *ev, cs_ps t, int prio, void *ptr, uint64_t arg)
{
    ev->ptr = ptr;
    ev->arg = arg;
    ev->key = next_key(e, prio); /* any older entry of this event is now stale */
    push(e, t < e->head.now ? e->head.now : t, ev->key, ev);
}

void cs_engine_cancel(cs_engine *e, cs_event *ev)
{
    (void)e;
    ev->key = 0;
}

static void watchdog_reset(cs_engine *e)
{
    e->last_progress = e->head.progress;
    e->last_progress_t = e->head.now;
    e->last_progress_ev = e->events_run;
}

/* True when the run has made no progress for longer than the windows allow. */
static bool stalled(cs_engine *e)
{
    if (e->head.progress != e->last_progress) {
        watchdog_reset(e);
        return false;
    }
    return (e->watch_window_ps && e->head.now - e->last_progress_t > e->watch_window_ps) ||
           (e->watch_window_events && e->events_run - e->last_progress_ev > e->watch_window_events);
}

cs_status cs_engine_run(cs_engine *e, cs_ps until, cs_err *err)
{
    e->stop = false;
    watchdog_reset(e);
    uint64_t countdown = WATCH_EVERY;
    while (e->n && !e->stop) {
        if (e->heap[0].t > until)
            break;
        entry x = pop(e);
        cs_event *ev = x.ev;
        if (ev->key != x.key) /* cancelled or re-armed: stale entry */
            continue;
        e->head.now = x.t;
        ev->key = 0;
        e->events_run++;
        cs_event_fn fn = ev->fn;
        void *ctx = ev->ctx, *ptr = ev->ptr;
        uint64_t arg = ev->arg;
        if (ev->pooled) {
            ev->next_free = e->free_list;
            e->free_list = ev;
        }
        fn(ctx, ptr, arg);
        if (--countdown == 0) {
            countdown = WATCH_EVERY;
            if (stalled(e)) {
                cs_buf dump;
                cs_buf_init(&dump);
                cs_engine_dump(e, &dump, 32);
                cs_err_add(err, CS_DEADLOCK,
                           "simulation made no progress for %" PRIu64 " ps / %" PRIu64
                           " events (now %" PRIu64 " ps)\n%s",
                           e->head.now - e->last_progress_t, e->events_run - e->last_progress_ev,
                           e->head.now, dump.data ? dump.data : "");
                cs_buf_free(&dump);
                return CS_DEADLOCK;
            }
        }
    }
    return CS_OK;
}

void cs_engine_stop(cs_engine *e) { e->stop = true; }
uint64_t cs_engine_events_run(const cs_engine *e) { return e->events_run; }
uint64_t cs_engine_pending(const cs_engine *e) { return e->n; }

cs_ps cs_engine_next_time(cs_engine *e)
{
    while (e->n && e->heap[0].ev->key != e->heap[0].key)
        pop(e);
    return e->n ? e->heap[0].t : CS_PS_NEVER;
}

void cs_engine_set_watchdog(cs_engine *e, cs_ps window_ps, uint64_t window_events)
{
    e->watch_window_ps = window_ps;
    e->watch_window_events = window_events;
}

uint64_t cs_engine_progress_count(const cs_engine *e) { return e->head.progress; }

void cs_engine_add_unit(cs_engine *e, const char *name, const void *ctx, cs_dump_fn dump)
{
    CS_GROW(e->units, e->units_cap, e->nunits + 1);
    e->units[e->nunits++] = (unit){cs_strdup(name), ctx, dump};
}

static const char *unit_of(const cs_engine *e, const void *ctx)
{
    for (size_t i = 0; i < e->nunits; i++)
        if (e->units[i].ctx == ctx)
            return e->units[i].name;
    return "?";
}

static int cmp_entry(const void *a, const void *b)
{
    return before(a, b) ? -1 : before(b, a) ? 1 : 0;
}

void cs_engine_dump(cs_engine *e, cs_buf *out, int max_events)
{
    size_t live = 0;
    for (size_t i = 0; i < e->n; i++)
        live += e->heap[i].ev->key == e->heap[i].key;
    cs_buf_printf(out, "engine: now %" PRIu64 " ps, %" PRIu64 " events run, %zu pending\n",
                  e->head.now, e->events_run, live);
    entry *copy = cs_malloc((e->n ? e->n : 1) * sizeof *copy);
    memcpy(copy, e->heap, e->n * sizeof *copy);
    qsort(copy, e->n, sizeof *copy, cmp_entry);
    int shown = 0;
    for (size_t i = 0; i < e->n && shown < max_events; i++) {
        if (copy[i].ev->key != copy[i].key)
            continue;
        cs_buf_printf(out, "  event t=%" PRIu64 " prio=%u unit=%s arg=%" PRIu64 "\n", copy[i].t,
                      (unsigned)(copy[i].key >> 56), unit_of(e, copy[i].ev->ctx), copy[i].ev->arg);
        shown++;
    }
    cs_free(copy);
    for (size_t i = 0; i < e->nunits; i++) {
        cs_buf_printf(out, "  unit %s: ", e->units[i].name);
        if (e->units[i].dump)
            e->units[i].dump(e->units[i].ctx, out);
        cs_buf_putc(out, '\n');
    }
}

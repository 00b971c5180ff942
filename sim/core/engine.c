/* engine — the event queue: a timing wheel over the near future, a small heap for the bucket
 * being drained, and an overflow heap for the far future.
 *
 * Order is total: (time, key) with key = priority << 56 | sequence. The wheel only sorts
 * coarsely (buckets of BUCKET_PS picoseconds, shorter than any clock period, so a bucket
 * rarely holds more than a few instants); exact order comes from the `cur` heap, into which
 * a bucket is poured when the cursor reaches it. Inserting is O(1) for the near future, and
 * popping works on a heap of a handful of entries, so the cost per event does not grow with the
 * number of pending events the way a single heap's does.
 *
 * Invariant: every entry in a wheel bucket or the overflow heap is at or after cur_end, and the
 * cursor only moves forward. The key doubles as the event's identity: cancelling is O(1), the
 * event forgets its key and the stale entry is dropped when it surfaces.
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

/* A wheel-bucket entry. */
typedef struct node {
    entry e;
    struct node *next;
} node;

typedef struct heap {
    entry *a;
    size_t n, cap;
} heap;

enum { BUCKET_SHIFT = 7, WHEEL = 1 << 15, NODE_SLAB = 4096 };
#define BUCKET_PS ((cs_ps)1 << BUCKET_SHIFT)
#define HORIZON_PS ((cs_ps)WHEEL << BUCKET_SHIFT)

typedef struct node_slab {
    struct node_slab *next;
    node n[NODE_SLAB];
} node_slab;

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
    entry *run;          /* the bucket being drained, sorted */
    size_t run_i, run_n, run_cap;
    heap cur;            /* entries before cur_end added while draining, exactly ordered */
    heap far;            /* entries at or after cur_start + HORIZON_PS */
    node **wheel;        /* WHEEL buckets of BUCKET_PS, unordered lists */
    uint64_t *bits;      /* non-empty buckets */
    cs_ps cur_end;       /* end of the bucket being drained (a multiple of BUCKET_PS) */
    node *free_nodes;
    node_slab *node_slabs;
    size_t n, max_n;     /* entries in the queue, all structures together */
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
    e->wheel = cs_calloc(WHEEL, sizeof *e->wheel);
    e->bits = cs_calloc(WHEEL / 64, sizeof *e->bits);
    e->cur_end = BUCKET_PS;
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
    for (node_slab *s = e->node_slabs, *next; s; s = next) {
        next = s->next;
        cs_free(s);
    }
    for (size_t i = 0; i < e->nunits; i++)
        cs_free(e->units[i].name);
    cs_free(e->units);
    cs_free(e->run);
    cs_free(e->cur.a);
    cs_free(e->far.a);
    cs_free(e->wheel);
    cs_free(e->bits);
    cs_free(e);
}

static inline bool before(const entry *a, const entry *b)
{
    return a->t < b->t || (a->t == b->t && a->key < b->key);
}

/* ---- binary heaps (the bucket being drained, the far future) ------------------------------ */

static void heap_push(heap *h, entry x)
{
    if (h->n == h->cap)
        CS_GROW(h->a, h->cap, h->n + 1);
    size_t i = h->n++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before(&x, &h->a[parent]))
            break;
        h->a[i] = h->a[parent];
        i = parent;
    }
    h->a[i] = x;
}

static entry heap_pop(heap *h)
{
    entry top = h->a[0];
    entry x = h->a[--h->n];
    size_t n = h->n, i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && before(&h->a[c + 1], &h->a[c]))
            c++;
        if (!before(&h->a[c], &x))
            break;
        h->a[i] = h->a[c];
        i = c;
    }
    if (n)
        h->a[i] = x;
    return top;
}

/* ---- the wheel ---------------------------------------------------------------------------- */

static node *node_get(cs_engine *e)
{
    if (!e->free_nodes) {
        node_slab *s = cs_malloc(sizeof *s);
        s->next = e->node_slabs;
        e->node_slabs = s;
        for (int i = NODE_SLAB - 1; i >= 0; i--) {
            s->n[i].next = e->free_nodes;
            e->free_nodes = &s->n[i];
        }
    }
    node *n = e->free_nodes;
    e->free_nodes = n->next;
    return n;
}

static void wheel_put(cs_engine *e, cs_ps t, uint64_t key, cs_event *ev)
{
    size_t b = (size_t)(t >> BUCKET_SHIFT) & (WHEEL - 1);
    node *n = node_get(e);
    n->e.t = t;
    n->e.key = key;
    n->e.ev = ev;
    n->next = e->wheel[b];
    e->wheel[b] = n;
    e->bits[b / 64] |= 1ull << (b % 64);
}

static void push(cs_engine *e, cs_ps t, uint64_t key, cs_event *ev)
{
    if (t >= e->cur_end && t < e->cur_end - BUCKET_PS + HORIZON_PS)
        wheel_put(e, t, key, ev);
    else
        heap_push(t < e->cur_end ? &e->cur : &e->far, (entry){t, key, ev});
    if (++e->n > e->max_n)
        e->max_n = e->n;
}

/* Index of the first non-empty bucket at or after `from` going round the wheel once, or
 * WHEEL when all are empty. */
static size_t next_bucket(const cs_engine *e, size_t from)
{
    for (size_t k = 0; k <= WHEEL / 64; k++) {
        size_t w = (from / 64 + k) % (WHEEL / 64);
        uint64_t bits = e->bits[w];
        if (k == 0)
            bits &= ~0ull << (from % 64);
        if (bits)
            return w * 64 + (size_t)__builtin_ctzll(bits);
    }
    return WHEEL;
}

/* Empties bucket b into the sorted run. The list holds the bucket's entries newest first;
 * laid out oldest first they are nearly sorted already (same instant, ascending sequence), so
 * an insertion sort costs about one comparison per entry. */
static void pour(cs_engine *e, size_t b)
{
    size_t n = 0;
    for (node *x = e->wheel[b]; x; x = x->next)
        n++;
    if (n > e->run_cap)
        CS_GROW(e->run, e->run_cap, n);
    size_t i = n;
    node *x = e->wheel[b], *last = NULL;
    while (x) {
        e->run[--i] = x->e;
        last = x;
        x = x->next;
    }
    last->next = e->free_nodes; /* the whole list goes back to the free list */
    e->free_nodes = e->wheel[b];
    e->wheel[b] = NULL;
    e->bits[b / 64] &= ~(1ull << (b % 64));
    for (size_t k = 1; k < n; k++) {
        entry v = e->run[k];
        size_t j = k;
        while (j > 0 && before(&v, &e->run[j - 1])) {
            e->run[j] = e->run[j - 1];
            j--;
        }
        e->run[j] = v;
    }
    e->run_i = 0;
    e->run_n = n;
}

/* Moves the cursor to the earliest non-empty bucket (wheel or far heap) and pours that bucket
 * into the run. Returns false when the whole queue is empty. Only called with the run and
 * `cur` empty. */
static bool advance(cs_engine *e)
{
    if (e->n == 0)
        return false;
    cs_ps start = e->cur_end; /* the first bucket start that may hold entries */
    size_t from = (size_t)(start >> BUCKET_SHIFT) & (WHEEL - 1);
    size_t b = next_bucket(e, from);
    cs_ps t_wheel = CS_PS_NEVER;
    if (b != WHEEL)
        t_wheel = start + ((cs_ps)((b - from) & (WHEEL - 1)) << BUCKET_SHIFT);
    cs_ps t_far = e->far.n ? (e->far.a[0].t >> BUCKET_SHIFT) << BUCKET_SHIFT : CS_PS_NEVER;
    cs_ps next = t_wheel < t_far ? t_wheel : t_far;
    e->cur_end = next + BUCKET_PS;
    if (next == t_wheel)
        pour(e, b);
    /* Far entries that the new horizon now covers move into the wheel (or into cur). */
    cs_ps horizon = e->cur_end - BUCKET_PS + HORIZON_PS;
    while (e->far.n && e->far.a[0].t < horizon) {
        entry x = heap_pop(&e->far);
        if (x.t < e->cur_end)
            heap_push(&e->cur, x);
        else
            wheel_put(e, x.t, x.key, x.ev);
    }
    return true;
}

/* The earliest entry (possibly stale), or NULL when the queue is empty. */
static entry *peek(cs_engine *e)
{
    while (e->run_i == e->run_n && e->cur.n == 0)
        if (!advance(e))
            return NULL;
    if (e->run_i == e->run_n)
        return &e->cur.a[0];
    if (e->cur.n && before(&e->cur.a[0], &e->run[e->run_i]))
        return &e->cur.a[0];
    return &e->run[e->run_i];
}

/* Removes the entry peek returned. */
static entry pop(cs_engine *e)
{
    e->n--;
    if (e->run_i < e->run_n && (!e->cur.n || !before(&e->cur.a[0], &e->run[e->run_i])))
        return e->run[e->run_i++];
    return heap_pop(&e->cur);
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
    while (!e->stop) {
        entry *top = peek(e);
        if (!top || top->t > until)
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
                           "simulation: error: no progress for %" PRIu64 " ps / %" PRIu64
                           " events (now %" PRIu64 " ps; state follows)",
                           e->head.now - e->last_progress_t, e->events_run - e->last_progress_ev,
                           e->head.now);
                cs_err_detail(err, dump.data ? dump.data : "");
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
uint64_t cs_engine_max_pending(const cs_engine *e) { return e->max_n; }

cs_ps cs_engine_next_time(cs_engine *e)
{
    entry *top;
    while ((top = peek(e)) && top->ev->key != top->key)
        pop(e);
    return top ? top->t : CS_PS_NEVER;
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
    entry *copy = cs_malloc((e->n ? e->n : 1) * sizeof *copy);
    size_t m = 0;
    memcpy(copy, e->run + e->run_i, (e->run_n - e->run_i) * sizeof *copy);
    m += e->run_n - e->run_i;
    memcpy(copy + m, e->cur.a, e->cur.n * sizeof *copy);
    m += e->cur.n;
    memcpy(copy + m, e->far.a, e->far.n * sizeof *copy);
    m += e->far.n;
    for (size_t b = 0; b < WHEEL; b++)
        for (node *n = e->wheel[b]; n; n = n->next)
            copy[m++] = n->e;
    size_t live = 0;
    for (size_t i = 0; i < m; i++)
        live += copy[i].ev->key == copy[i].key;
    cs_buf_printf(out, "engine: now %" PRIu64 " ps, %" PRIu64 " events run, %zu pending\n",
                  e->head.now, e->events_run, live);
    qsort(copy, m, sizeof *copy, cmp_entry);
    int shown = 0;
    for (size_t i = 0; i < m && shown < max_events; i++) {
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

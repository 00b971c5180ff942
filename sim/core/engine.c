/* engine — the event queue: a timing wheel over the near future, the sorted run of the bucket
 * being drained, and an overflow heap for the far future.
 *
 * Order is total: (time, key) with key = priority << 56 | sequence. The wheel only sorts
 * coarsely (buckets of BUCKET_PS picoseconds, shorter than any clock period, so a bucket
 * rarely holds more than a few instants); exact order comes from the run, the array a bucket
 * becomes when the cursor reaches it, sorted then. Inserting is O(1) for the near future, and
 * popping is a step along an array, so the cost per event does not grow with the number of
 * pending events the way a single heap's does.
 *
 * Why arrays and not lists: a bucket of the GPU model holds a hundred events or so; walking a
 * linked list of recycled nodes is a chain of cache misses, an array is streamed. An entry is
 * the whole event (handler, context, payload) for posted events, so firing one touches nothing
 * but the run; an embedded event's entry points at its cs_event, whose key says whether the
 * entry is still the live one (cancel and re-arm are O(1): the stale entry is dropped when it
 * surfaces).
 *
 * Invariants: every entry in a wheel bucket or the far heap is at or after cur_end; the run
 * holds entries before cur_end, sorted from run_i on; the cursor only moves forward. Entries
 * posted while a bucket is drained with a time before cur_end go into the run at their place
 * (their sequence is the largest yet, so the place is found scanning back from the end, which
 * is nearly always where it is).
 */
#include "engine.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

/* A queued event: 48 bytes. fn == NULL marks an embedded event; obj is then its cs_event
 * (handler and context are read from it when it fires), else obj is the handler's ctx. */
typedef struct entry {
    cs_ps t;
    uint64_t key;
    cs_event_fn fn;
    void *obj;
    void *ptr;
    uint64_t arg;
} entry;

/* An array of entries with its header in the same block: a wheel bucket (insertion order) or
 * the run (sorted). Blocks circulate through a pool, so only buckets holding entries own one. */
typedef struct vec {
    uint32_t n, cap;
    entry a[];
} vec;

typedef struct heap {
    entry *a;
    size_t n, cap;
} heap;

enum { BUCKET_SHIFT = 7, WHEEL = 1 << 15, VEC_MIN = 16 };
#define BUCKET_PS ((cs_ps)1 << BUCKET_SHIFT)
#define HORIZON_PS ((cs_ps)WHEEL << BUCKET_SHIFT)

typedef struct unit {
    char *name;
    const void *ctx;
    cs_dump_fn dump;
} unit;

enum { WATCH_EVERY = 1024 };

struct cs_engine {
    cs_engine_head head; /* must stay first */
    vec *run;            /* the bucket being drained, sorted, pending from run_i on */
    vec *side;           /* entries before cur_end posted while draining, sorted, from side_i */
    uint32_t run_i, side_i;
    heap far;            /* entries at or after cur_start + HORIZON_PS */
    vec **wheel;         /* WHEEL buckets of BUCKET_PS, NULL when empty */
    uint64_t *bits;      /* non-empty buckets */
    cs_ps cur_end;       /* end of the bucket being drained (a multiple of BUCKET_PS) */
    vec **pool;          /* empty blocks, the most recently used last */
    size_t npool, pool_cap;
    size_t n, max_n;     /* entries in the queue, all structures together */
    uint64_t seq;
    uint64_t events_run;
    bool stop;
    unit *units;
    size_t nunits, units_cap;
    /* watchdog */
    cs_ps watch_window_ps;
    uint64_t watch_window_events;
    uint64_t last_progress;
    cs_ps last_progress_t;
    uint64_t last_progress_ev;
};

/* Index of the lowest set bit of x (x != 0). */
static inline unsigned lowest_bit(uint64_t x)
{
#if defined(__GNUC__) || defined(__clang__)
    return (unsigned)__builtin_ctzll(x);
#else
    unsigned i = 0;
    while (!(x & 1)) {
        x >>= 1;
        i++;
    }
    return i;
#endif
}

/* ---- blocks ------------------------------------------------------------------------------- */

static vec *vec_get(cs_engine *e)
{
    if (e->npool)
        return e->pool[--e->npool];
    vec *v = cs_malloc(sizeof *v + VEC_MIN * sizeof(entry));
    v->n = 0;
    v->cap = VEC_MIN;
    return v;
}

static void vec_put(cs_engine *e, vec *v)
{
    v->n = 0;
    CS_GROW(e->pool, e->pool_cap, e->npool + 1);
    e->pool[e->npool++] = v;
}

static vec *vec_grow(vec *v)
{
    uint32_t cap = v->cap * 2;
    v = cs_realloc(v, sizeof *v + cap * sizeof(entry));
    v->cap = cap;
    return v;
}

cs_engine *cs_engine_create(void)
{
    cs_engine *e = cs_calloc(1, sizeof *e);
    e->wheel = cs_calloc(WHEEL, sizeof *e->wheel);
    e->bits = cs_calloc(WHEEL / 64, sizeof *e->bits);
    e->run = vec_get(e);
    e->side = vec_get(e);
    e->cur_end = BUCKET_PS;
    e->watch_window_ps = 1000000000ULL; /* 1 ms of simulated time */
    e->watch_window_events = 50000000ULL;
    return e;
}

void cs_engine_destroy(cs_engine *e)
{
    if (!e)
        return;
    for (size_t b = 0; b < WHEEL; b++)
        cs_free(e->wheel[b]);
    for (size_t i = 0; i < e->npool; i++)
        cs_free(e->pool[i]);
    for (size_t i = 0; i < e->nunits; i++)
        cs_free(e->units[i].name);
    cs_free(e->units);
    cs_free(e->pool);
    cs_free(e->run);
    cs_free(e->side);
    cs_free(e->far.a);
    cs_free(e->wheel);
    cs_free(e->bits);
    cs_free(e);
}

static inline bool before(const entry *a, const entry *b)
{
    return a->t < b->t || (a->t == b->t && a->key < b->key);
}

/* ---- the far heap ------------------------------------------------------------------------- */

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

/* ---- the wheel and the run ---------------------------------------------------------------- */

static void wheel_put(cs_engine *e, const entry *x)
{
    size_t b = (size_t)(x->t >> BUCKET_SHIFT) & (WHEEL - 1);
    vec *v = e->wheel[b];
    if (!v) {
        v = e->wheel[b] = vec_get(e);
        e->bits[b / 64] |= 1ull << (b % 64);
    } else if (v->n == v->cap) {
        v = e->wheel[b] = vec_grow(v);
    }
    v->a[v->n++] = *x;
}

/* Puts x (before cur_end) at its place in the side run. It has the largest sequence yet, so
 * it goes after everything of its instant and priority: nearly always at the end. */
static void side_insert(cs_engine *e, const entry *x)
{
    vec *r = e->side;
    uint32_t i = e->side_i, j = r->n;
    if (i > 0 && (i == j || before(x, &r->a[i]))) { /* first: reuse a drained slot */
        r->a[--e->side_i] = *x;
        return;
    }
    if (j == r->cap)
        r = e->side = vec_grow(r);
    while (j > i && before(x, &r->a[j - 1])) {
        r->a[j] = r->a[j - 1];
        j--;
    }
    r->a[j] = *x;
    r->n++;
}

static inline void push(cs_engine *e, const entry *x)
{
    if (x->t >= e->cur_end) {
        if (x->t < e->cur_end - BUCKET_PS + HORIZON_PS)
            wheel_put(e, x);
        else
            heap_push(&e->far, *x);
    } else {
        side_insert(e, x);
    }
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
            return w * 64 + lowest_bit(bits);
    }
    return WHEEL;
}

/* Bucket b becomes the run (the drained run's block goes back to the pool), sorted. Its
 * entries are in insertion order, which is nearly sorted already (same instant, ascending
 * sequence), so an insertion sort costs about one comparison per entry. */
static void pour(cs_engine *e, size_t b)
{
    vec *v = e->wheel[b];
    e->wheel[b] = NULL;
    e->bits[b / 64] &= ~(1ull << (b % 64));
    vec_put(e, e->run);
    e->run = v;
    e->run_i = 0;
    entry *a = v->a;
    for (uint32_t k = 1; k < v->n; k++) {
        if (!before(&a[k], &a[k - 1]))
            continue;
        entry x = a[k];
        uint32_t j = k;
        do {
            a[j] = a[j - 1];
            j--;
        } while (j > 0 && before(&x, &a[j - 1]));
        a[j] = x;
    }
}

/* Moves the cursor to the earliest non-empty bucket (wheel or far heap) and makes that bucket
 * the run. Returns false when the whole queue is empty. Only called with the run drained. */
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
    if (next == t_wheel) {
        pour(e, b);
    } else {
        e->run->n = 0;
        e->run_i = 0;
    }
    e->side->n = 0;
    e->side_i = 0;
    /* Far entries that the new horizon now covers move into the wheel (or into the run). */
    cs_ps horizon = e->cur_end - BUCKET_PS + HORIZON_PS;
    while (e->far.n && e->far.a[0].t < horizon) {
        entry x = heap_pop(&e->far);
        if (x.t < e->cur_end)
            side_insert(e, &x);
        else
            wheel_put(e, &x);
    }
    return true;
}

/* The earliest entry (possibly stale), or NULL when the queue is empty; *from_side tells
 * which run it is in. */
static inline entry *peek(cs_engine *e, bool *from_side)
{
    for (;;) {
        bool have_run = e->run_i < e->run->n, have_side = e->side_i < e->side->n;
        if (have_side && (!have_run || before(&e->side->a[e->side_i], &e->run->a[e->run_i]))) {
            *from_side = true;
            return &e->side->a[e->side_i];
        }
        if (have_run) {
            *from_side = false;
            return &e->run->a[e->run_i];
        }
        if (!advance(e))
            return NULL;
    }
}

/* Removes the entry peek returned. */
static inline void drop(cs_engine *e, bool from_side)
{
    if (from_side)
        e->side_i++;
    else
        e->run_i++;
    e->n--;
}

static inline bool live(const entry *x)
{
    return x->fn || ((const cs_event *)x->obj)->key == x->key;
}

static uint64_t next_key(cs_engine *e, int prio)
{
    uint64_t p = (uint64_t)(prio < 0 ? 0 : prio > 255 ? 255 : prio);
    return (p << 56) | (++e->seq & 0x00ffffffffffffffULL);
}

void cs_engine_post(cs_engine *e, cs_ps t, int prio, cs_event_fn fn, void *ctx, void *ptr,
                    uint64_t arg)
{
    entry x = {t < e->head.now ? e->head.now : t, next_key(e, prio), fn, ctx, ptr, arg};
    push(e, &x);
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
    entry x = {t < e->head.now ? e->head.now : t, ev->key, NULL, ev, ptr, arg};
    push(e, &x);
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
        bool from_side;
        entry *top = peek(e, &from_side);
        if (!top || top->t > until)
            break;
        entry x = *top; /* the handler may insert into the side run, moving it */
        drop(e, from_side);
        cs_event_fn fn = x.fn;
        void *ctx = x.obj;
        if (!fn) {
            cs_event *ev = x.obj;
            if (ev->key != x.key) /* cancelled or re-armed: stale entry */
                continue;
            ev->key = 0;
            fn = ev->fn;
            ctx = ev->ctx;
        }
        e->head.now = x.t;
        e->events_run++;
        fn(ctx, x.ptr, x.arg);
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
    bool from_side;
    while ((top = peek(e, &from_side)) && !live(top))
        drop(e, from_side);
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
    memcpy(copy, e->run->a + e->run_i, (e->run->n - e->run_i) * sizeof *copy);
    m += e->run->n - e->run_i;
    memcpy(copy + m, e->side->a + e->side_i, (e->side->n - e->side_i) * sizeof *copy);
    m += e->side->n - e->side_i;
    memcpy(copy + m, e->far.a, e->far.n * sizeof *copy);
    m += e->far.n;
    for (size_t b = 0; b < WHEEL; b++)
        if (e->wheel[b]) {
            memcpy(copy + m, e->wheel[b]->a, e->wheel[b]->n * sizeof *copy);
            m += e->wheel[b]->n;
        }
    size_t nlive = 0;
    for (size_t i = 0; i < m; i++)
        nlive += live(&copy[i]);
    cs_buf_printf(out, "engine: now %" PRIu64 " ps, %" PRIu64 " events run, %zu pending\n",
                  e->head.now, e->events_run, nlive);
    qsort(copy, m, sizeof *copy, cmp_entry);
    int shown = 0;
    for (size_t i = 0; i < m && shown < max_events; i++) {
        if (!live(&copy[i]))
            continue;
        const void *ctx = copy[i].fn ? copy[i].obj : ((const cs_event *)copy[i].obj)->ctx;
        cs_buf_printf(out, "  event t=%" PRIu64 " prio=%u unit=%s arg=%" PRIu64 "\n", copy[i].t,
                      (unsigned)(copy[i].key >> 56), unit_of(e, ctx), copy[i].arg);
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

/* engine — the event queue: a timing wheel over the near future, the sorted run of the bucket
 * being drained (and a side run beside it), and an overflow heap for the far future.
 *
 * Order is total: (time, key) with key = priority << 56 | sequence. The wheel only sorts
 * coarsely (buckets of BUCKET_PS picoseconds, shorter than any clock period, so a bucket
 * rarely holds more than a few instants); exact order comes from the run, the array a bucket
 * becomes when the cursor reaches it, sorted then (see pour). Entries posted while a bucket is
 * drained with a time before its end go into the side run, kept sorted as they arrive (their
 * sequence is the largest yet, so their place is nearly always the end); the next event is
 * the earlier of the two runs' heads. Inserting is O(1) for the near future, and popping is a
 * step along an array, so the cost per event does not grow with the number of pending events
 * the way a single heap's does.
 *
 * Why arrays and not lists: a bucket of the GPU model holds a hundred events or so; walking a
 * linked list of recycled nodes is a chain of cache misses, an array is streamed. An entry is
 * the whole event (handler, context, payload) for posted events, so firing one touches nothing
 * but the run; an embedded event's entry points at its cs_event, whose key says whether the
 * entry is still the live one (cancel and re-arm are O(1): the stale entry is dropped when it
 * surfaces).
 *
 * Invariants: every entry in a wheel bucket or the far heap is at or after cur_end; the run
 * and the side run hold entries before cur_end, each sorted from its index on; the cursor
 * only moves forward; the entries of one instant and priority in a bucket were appended in
 * sequence order (a far entry moves into the wheel as soon as the horizon covers it, before
 * any later post can reach its bucket).
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

/* An array of entries: a wheel bucket (insertion order), the run or the side run (sorted).
 * Arrays circulate through a pool, so only buckets holding entries own one; the count lives in
 * the wheel's slot, so appending touches the slot and the entry and nothing else. */
typedef struct vec {
    entry *a;
    uint32_t n, cap;
} vec;

typedef struct heap {
    entry *a;
    size_t n, cap;
} heap;

/* 8192 buckets of 128 ps: a horizon of 1 us, beyond every delay the GPU model posts (its
 * longest, a DRAM round trip under load, is under 0.8 us); the slot array (128 KiB) stays in
 * the host's L2. Later events wait in the far heap. */
enum { BUCKET_SHIFT = 7, WHEEL = 1 << 13, VEC_MIN = 16 };
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
    vec run;             /* the bucket being drained, sorted, pending from run_i on */
    vec side;            /* entries before cur_end posted while draining, sorted, from side_i */
    vec spare;           /* room for sorting the run into */
    uint32_t run_i, side_i;
    heap far;            /* entries at or after cur_start + HORIZON_PS */
    vec *wheel;          /* WHEEL buckets of BUCKET_PS, without an array when empty */
    uint64_t *bits;      /* non-empty buckets */
    cs_ps cur_end;       /* end of the bucket being drained (a multiple of BUCKET_PS) */
    vec *pool;           /* empty arrays, the most recently used last */
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

/* Asks for the cache line at p without waiting for it (a hint; nothing where unsupported).
 * The run is known in advance: fetching the object of the event a few places ahead (its
 * cs_event, whose key decides whether it is stale, or the handler's context) overlaps that
 * cache miss with the events before it. */
enum { PREFETCH_AHEAD = 4 };
static inline void prefetch(const void *p)
{
#if defined(__GNUC__) || defined(__clang__)
    __builtin_prefetch(p);
#else
    (void)p;
#endif
}

/* ---- blocks ------------------------------------------------------------------------------- */

/* Makes room for one more entry in v: an array from the pool when it has none, else a
 * larger one. */
static void vec_grow(cs_engine *e, vec *v)
{
    if (!v->a) {
        if (e->npool) {
            *v = e->pool[--e->npool];
        } else {
            v->a = cs_malloc(VEC_MIN * sizeof *v->a);
            v->cap = VEC_MIN;
        }
        return;
    }
    v->cap *= 2;
    v->a = cs_realloc(v->a, v->cap * sizeof *v->a);
}

/* Gives v's array back to the pool; v is left empty. */
static void vec_put(cs_engine *e, vec *v)
{
    CS_GROW(e->pool, e->pool_cap, e->npool + 1);
    e->pool[e->npool++] = (vec){v->a, 0, v->cap};
    *v = (vec){NULL, 0, 0};
}

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
    for (size_t b = 0; b < WHEEL; b++)
        cs_free(e->wheel[b].a);
    for (size_t i = 0; i < e->npool; i++)
        cs_free(e->pool[i].a);
    for (size_t i = 0; i < e->nunits; i++)
        cs_free(e->units[i].name);
    cs_free(e->units);
    cs_free(e->pool);
    cs_free(e->run.a);
    cs_free(e->side.a);
    cs_free(e->spare.a);
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

/* The place for a new entry at time t in bucket b's array (made room for). */
static inline entry *wheel_slot(cs_engine *e, cs_ps t)
{
    size_t b = (size_t)(t >> BUCKET_SHIFT) & (WHEEL - 1);
    vec *v = &e->wheel[b];
    if (v->n == v->cap) {
        if (!v->a)
            e->bits[b / 64] |= 1ull << (b % 64);
        vec_grow(e, v);
    }
    return &v->a[v->n++];
}

/* The place for a new entry (t, key), t before cur_end, in the side run, which stays sorted.
 * A posted entry has the largest sequence yet, so it goes after everything of its instant and
 * priority: nearly always at the end. */
static entry *side_slot(cs_engine *e, cs_ps t, uint64_t key)
{
    vec *r = &e->side;
    uint32_t i = e->side_i, j = r->n;
    if (i > 0 && (i == j || t < r->a[i].t || (t == r->a[i].t && key < r->a[i].key)))
        return &r->a[--e->side_i]; /* first: reuse a drained slot */
    if (j == r->cap)
        vec_grow(e, r);
    while (j > i && (t < r->a[j - 1].t || (t == r->a[j - 1].t && key < r->a[j - 1].key))) {
        r->a[j] = r->a[j - 1];
        j--;
    }
    r->n++;
    return &r->a[j];
}

/* Queues an entry. The fields are stored one by one into their place, never built elsewhere
 * and copied: a copy would read them back wider than they were written, which the processor
 * cannot forward from its store buffer (a stall per event). */
static inline void push(cs_engine *e, cs_ps t, uint64_t key, cs_event_fn fn, void *obj, void *ptr,
                        uint64_t arg)
{
    if (t >= e->cur_end - BUCKET_PS + HORIZON_PS) {
        heap_push(&e->far, (entry){t, key, fn, obj, ptr, arg});
    } else {
        entry *x = t >= e->cur_end ? wheel_slot(e, t) : side_slot(e, t, key);
        x->t = t;
        x->key = key;
        x->fn = fn;
        x->obj = obj;
        x->ptr = ptr;
        x->arg = arg;
    }
    if (++e->n > e->max_n)
        e->max_n = e->n;
}

/* Moves an entry of the far heap into the wheel or the side run. */
static void unfar(cs_engine *e, const entry *x)
{
    entry *to = x->t < e->cur_end ? side_slot(e, x->t, x->key) : wheel_slot(e, x->t);
    *to = *x;
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

static void insertion_sort(entry *a, uint32_t n)
{
    for (uint32_t k = 1; k < n; k++) {
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

/* Bucket b becomes the run (the drained run's array goes back to the pool), sorted.
 *
 * A bucket holds a few classes (instant, priority) — the events of one clock edge, a couple of
 * LATE ones among them — and its entries were appended in sequence order, so each class is in
 * order already: sorting is a stable distribution by class, one pass to count and one to
 * place. (An insertion sort moves every entry past each earlier entry of a later class: a
 * LATE event among a hundred is passed a hundred times.) Buckets with many classes take the
 * insertion sort, and so would a class out of sequence (it cannot happen; checked anyway, as it
 * costs nothing). */
enum { MAX_CLASSES = 8 };

typedef struct eclass {
    cs_ps t;
    uint64_t prio, last; /* last: the key of its latest entry so far */
    uint32_t count, at;  /* at: where its next entry goes in the sorted run */
} eclass;

/* The class of x among cls[0..n) (n when it is new), trying c (the previous entry's) first. */
static inline uint32_t class_of(const eclass *cls, uint32_t n, uint32_t c, const entry *x)
{
    uint64_t prio = x->key >> 56;
    if (c < n && x->t == cls[c].t && prio == cls[c].prio)
        return c;
    for (c = 0; c < n && (x->t != cls[c].t || prio != cls[c].prio); c++)
        ;
    return c;
}

static void pour(cs_engine *e, size_t b)
{
    e->bits[b / 64] &= ~(1ull << (b % 64));
    if (e->run.a)
        vec_put(e, &e->run);
    e->run = e->wheel[b];
    e->wheel[b] = (vec){NULL, 0, 0};
    e->run_i = 0;
    entry *a = e->run.a;
    uint32_t n = e->run.n, ncls = 0, c = 0;
    eclass cls[MAX_CLASSES];
    bool sorted = true;
    for (uint32_t k = 0; k < n; k++) {
        uint32_t d = class_of(cls, ncls, c, &a[k]);
        if (d != c || !ncls)
            sorted = sorted && (k == 0 || before(&a[k - 1], &a[k]));
        c = d;
        if (c == ncls) {
            if (ncls == MAX_CLASSES) {
                insertion_sort(a, n);
                return;
            }
            cls[ncls++] = (eclass){a[k].t, a[k].key >> 56, 0, 0, 0};
        }
        if (a[k].key < cls[c].last) { /* out of sequence within its class */
            insertion_sort(a, n);
            return;
        }
        cls[c].last = a[k].key;
        cls[c].count++;
    }
    if (sorted)
        return;
    /* Places: classes in (instant, priority) order, each after the ones before it. */
    uint32_t rank[MAX_CLASSES];
    for (uint32_t i = 0; i < ncls; i++) {
        rank[i] = 0;
        for (uint32_t j = 0; j < ncls; j++)
            rank[i] += cls[j].t < cls[i].t || (cls[j].t == cls[i].t && cls[j].prio < cls[i].prio);
    }
    for (uint32_t i = 0; i < ncls; i++) {
        cls[i].at = 0;
        for (uint32_t j = 0; j < ncls; j++)
            if (rank[j] < rank[i])
                cls[i].at += cls[j].count;
    }
    if (e->spare.cap < n) {
        cs_free(e->spare.a);
        e->spare.a = cs_malloc(e->run.cap * sizeof *e->spare.a);
        e->spare.cap = e->run.cap;
    }
    entry *to = e->spare.a;
    c = 0;
    for (uint32_t k = 0; k < n; k++) {
        c = class_of(cls, ncls, c, &a[k]);
        to[cls[c].at++] = a[k];
    }
    e->spare.a = a;
    e->run.a = to;
    uint32_t cap = e->spare.cap;
    e->spare.cap = e->run.cap;
    e->run.cap = cap;
}

/* Moves the cursor to the earliest non-empty bucket (wheel or far heap) and makes that bucket
 * the run. Returns false when the whole queue is empty. Only called with both runs drained. */
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
        e->run.n = 0;
        e->run_i = 0;
    }
    e->side.n = 0;
    e->side_i = 0;
    /* Far entries that the new horizon now covers move into the wheel (or the side run). */
    cs_ps horizon = e->cur_end - BUCKET_PS + HORIZON_PS;
    while (e->far.n && e->far.a[0].t < horizon) {
        entry x = heap_pop(&e->far);
        unfar(e, &x);
    }
    return true;
}

/* The earliest entry (possibly stale), or NULL when the queue is empty; *from_side tells
 * which run it is in. */
static inline entry *peek(cs_engine *e, bool *from_side)
{
    for (;;) {
        bool have_run = e->run_i < e->run.n, have_side = e->side_i < e->side.n;
        if (have_side && (!have_run || before(&e->side.a[e->side_i], &e->run.a[e->run_i]))) {
            *from_side = true;
            return &e->side.a[e->side_i];
        }
        if (have_run) {
            *from_side = false;
            return &e->run.a[e->run_i];
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
    push(e, t < e->head.now ? e->head.now : t, next_key(e, prio), fn, ctx, ptr, arg);
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
    push(e, t < e->head.now ? e->head.now : t, ev->key, NULL, ev, ptr, arg);
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
        if (e->run_i + PREFETCH_AHEAD < e->run.n)
            prefetch(e->run.a[e->run_i + PREFETCH_AHEAD].obj);
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
    for (uint32_t i = e->run_i; i < e->run.n; i++)
        copy[m++] = e->run.a[i];
    for (uint32_t i = e->side_i; i < e->side.n; i++)
        copy[m++] = e->side.a[i];
    for (size_t i = 0; i < e->far.n; i++)
        copy[m++] = e->far.a[i];
    for (size_t b = 0; b < WHEEL; b++)
        for (uint32_t i = 0; i < e->wheel[b].n; i++)
            copy[m++] = e->wheel[b].a[i];
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

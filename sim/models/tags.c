/* tags — sets x ways of lines, plus a compact array of 16-bit key fingerprints.
 *
 * Why the fingerprints: a lookup that compared full lines would read every line of the set
 * (16 ways x 16 bytes = four cache lines, and the tag arrays of all slices together do not fit
 * in the host's caches); the fingerprints of a 16-way set fill half a cache line (all slices'
 * together nearly fit in a host core's L2), and only a way whose fingerprint matches is read to
 * confirm the key and its valid mask. The fingerprint is a filter, never the answer: the full
 * key decides, so any keys work.
 *
 * LRU stamps are 32 bits (a line is 16 bytes). When the counter wraps, every set's stamps are
 * renumbered by rank, which keeps the order within each set — the only thing victims compare —
 * so replacement is exactly what 64-bit stamps would give.
 *
 * Memory: 18 bytes per line (16 for the line, 2 for its fingerprint), allocated zeroed, so the
 * operating system backs only the pages of sets a run touches; a bitmap of the sets ever
 * installed into (1 bit per set) lets the walks over every line (flush, renumbering) visit
 * those sets alone. A 40 GiB L2 thus reserves 5.6 GiB of address space but a GEMM that touches
 * 100 MiB of it makes about 15 MiB resident.
 */
#include "tags.h"

#include "alloc.h"
#include "check.h"

struct cs_tags {
    uint64_t sets;
    uint64_t set_mask; /* sets - 1, used when sets is a power of two (no division) */
    bool pow2;
    uint32_t assoc;
    uint32_t stamp;
    uint16_t *fp;       /* sets * assoc fingerprints, a set's ways together */
    cs_tag_line *lines; /* sets * assoc */
    uint64_t *used;     /* bit s: set s has had a line installed */
};

static inline uint16_t fingerprint(uint64_t key)
{
    return (uint16_t)(key ^ key >> 16 ^ key >> 32 ^ key >> 48);
}

cs_tags *cs_tags_create(uint64_t lines, uint32_t assoc)
{
    CS_ASSERT(assoc > 0 && lines >= assoc && lines % assoc == 0);
    cs_tags *t = cs_calloc(1, sizeof *t);
    t->sets = lines / assoc;
    t->pow2 = (t->sets & (t->sets - 1)) == 0;
    t->set_mask = t->sets - 1;
    t->assoc = assoc;
    t->fp = cs_calloc(lines, sizeof *t->fp);
    t->lines = cs_calloc(lines, sizeof *t->lines);
    t->used = cs_calloc((t->sets + 63) / 64, sizeof *t->used);
    return t;
}

void cs_tags_destroy(cs_tags *t)
{
    if (!t)
        return;
    cs_free(t->fp);
    cs_free(t->lines);
    cs_free(t->used);
    cs_free(t);
}

/* Index of the first way of key's set. */
static inline uint64_t set_base(const cs_tags *t, uint64_t key)
{
    uint64_t set = t->pow2 ? key & t->set_mask : key % t->sets;
    return set * t->assoc;
}

void cs_tags_prefetch(const cs_tags *t, uint64_t key)
{
    uint64_t base = set_base(t, key);
    __builtin_prefetch(&t->fp[base]);
    __builtin_prefetch(&t->lines[base]);
}

cs_tag_line *cs_tags_find(cs_tags *t, uint64_t key)
{
    uint64_t base = set_base(t, key);
    const uint16_t *fp = &t->fp[base];
    uint16_t f = fingerprint(key);
    for (uint32_t w = 0; w < t->assoc; w++) {
        if (fp[w] != f)
            continue;
        cs_tag_line *line = &t->lines[base + w];
        if (line->valid && line->key == key)
            return line;
    }
    return NULL;
}

/* Calls fn on every set that has had a line installed (the others hold nothing), in order. */
static void each_used_set(cs_tags *t, void (*fn)(cs_tags *t, uint64_t set, void *ctx), void *ctx)
{
    for (uint64_t w = 0; w < (t->sets + 63) / 64; w++)
        for (uint64_t bits = t->used[w]; bits; bits &= bits - 1)
            fn(t, w * 64 + (uint64_t)__builtin_ctzll(bits), ctx);
}

static void renumber_set(cs_tags *t, uint64_t s, void *ctx)
{
    uint32_t *rank = ctx;
    cs_tag_line *set = &t->lines[s * t->assoc];
    for (uint32_t i = 0; i < t->assoc; i++) {
        rank[i] = 1;
        for (uint32_t j = 0; j < t->assoc; j++)
            rank[i] += set[j].lru < set[i].lru || (set[j].lru == set[i].lru && j < i);
    }
    for (uint32_t i = 0; i < t->assoc; i++)
        set[i].lru = rank[i];
}

/* Renumbers the stamps of every used set by rank (1..assoc), keeping their order in each set
 * (ties, which only never-touched ways have, keep the lower way first). */
static void renumber(cs_tags *t)
{
    uint32_t *rank = cs_malloc(t->assoc * sizeof *rank);
    each_used_set(t, renumber_set, rank);
    cs_free(rank);
    t->stamp = t->assoc;
}

void cs_tags_touch(cs_tags *t, cs_tag_line *line)
{
    if (t->stamp == UINT32_MAX)
        renumber(t);
    line->lru = ++t->stamp;
}

cs_tag_line *cs_tags_victim(cs_tags *t, uint64_t key)
{
    cs_tag_line *set = &t->lines[set_base(t, key)], *best = &set[0];
    for (uint32_t w = 0; w < t->assoc; w++) {
        if (!set[w].valid)
            return &set[w];
        if (set[w].lru < best->lru)
            best = &set[w];
    }
    return best;
}

void cs_tags_install(cs_tags *t, cs_tag_line *line, uint64_t key)
{
    line->key = key;
    line->valid = 0;
    line->dirty = 0;
    uint64_t i = (uint64_t)(line - t->lines);
    t->fp[i] = fingerprint(key);
    t->used[i / t->assoc / 64] |= UINT64_C(1) << (i / t->assoc % 64);
    cs_tags_touch(t, line);
}

typedef struct visit {
    cs_tags_visit_fn fn;
    void *ctx;
} visit;

static void visit_set(cs_tags *t, uint64_t s, void *ctx)
{
    const visit *v = ctx;
    for (uint64_t i = s * t->assoc; i < (s + 1) * t->assoc; i++)
        if (t->lines[i].valid)
            v->fn(v->ctx, &t->lines[i]);
}

void cs_tags_foreach(cs_tags *t, cs_tags_visit_fn fn, void *ctx)
{
    visit v = {fn, ctx};
    each_used_set(t, visit_set, &v);
}

uint64_t cs_tags_lines(const cs_tags *t)
{
    return t->sets * t->assoc;
}

void cs_tags__set_stamp(cs_tags *t, uint32_t stamp)
{
    t->stamp = stamp;
}

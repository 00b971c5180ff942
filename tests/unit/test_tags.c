/* test_tags — the tag store against a plain model of the same contract (flat lines, 64-bit LRU
 * stamps, linear search): lookups, victims and installs agree step by step on random traffic,
 * with non-power-of-two set counts, keys whose fingerprints collide, flushes that clear valid
 * masks behind the store's back, and the 32-bit LRU counter wrapping mid-run. */
#include <criterion/criterion.h>

#include "alloc.h"
#include "hash.h"
#include "tags.h"

/* ---- the model: the specification, written the obvious way -------------------------------- */

typedef struct mline {
    uint64_t key, lru;
    uint8_t valid, dirty;
} mline;

typedef struct model {
    uint64_t sets, stamp;
    uint32_t assoc;
    mline *l;
} model;

static model model_new(uint64_t lines, uint32_t assoc)
{
    return (model){lines / assoc, 0, assoc, cs_calloc(lines, sizeof(mline))};
}

static int64_t model_find(const model *m, uint64_t key)
{
    uint64_t base = (key % m->sets) * m->assoc;
    for (uint32_t w = 0; w < m->assoc; w++)
        if (m->l[base + w].valid && m->l[base + w].key == key)
            return (int64_t)(base + w);
    return -1;
}

static uint64_t model_victim(const model *m, uint64_t key)
{
    uint64_t base = (key % m->sets) * m->assoc, best = base;
    for (uint32_t w = 0; w < m->assoc; w++) {
        if (!m->l[base + w].valid)
            return base + w;
        if (m->l[base + w].lru < m->l[best].lru)
            best = base + w;
    }
    return best;
}

/* ---- lock-step driver ---------------------------------------------------------------------
 * The store keeps its lines as one flat array of sets x ways, as the model does, so a line's
 * place in it must equal the model's index; the base is learned from the first victim. */

typedef struct run {
    cs_tags *t;
    model m;
    cs_tag_line *base; /* the store's line 0 */
} run;

static cs_tag_line *line_at(run *r, cs_tag_line *seen, uint64_t index)
{
    if (!r->base)
        r->base = seen - index;
    return r->base + index;
}

static void flush_visit(void *ctx, cs_tag_line *line)
{
    (void)ctx;
    line->valid = line->dirty = 0;
}

static void step(run *r, uint64_t key, uint8_t sectors, bool write)
{
    cs_tag_line *got = cs_tags_find(r->t, key);
    int64_t want = model_find(&r->m, key);
    cr_assert_eq(got != NULL, want >= 0, "key %llu: found %d, model %d", (unsigned long long)key,
                 got != NULL, want >= 0);
    if (got) {
        cr_assert_eq(got, line_at(r, got, (uint64_t)want), "key %llu found in another way",
                     (unsigned long long)key);
        cr_assert_eq(got->key, key);
        cs_tags_touch(r->t, got);
        r->m.l[want].lru = ++r->m.stamp;
    } else {
        cs_tag_line *v = cs_tags_victim(r->t, key);
        uint64_t mv = model_victim(&r->m, key);
        cr_assert_eq(v, line_at(r, v, mv), "key %llu: victims differ", (unsigned long long)key);
        cr_assert_eq(v->valid, r->m.l[mv].valid);
        cr_assert_eq(v->dirty, r->m.l[mv].dirty);
        if (v->valid)
            cr_assert_eq(v->key, r->m.l[mv].key);
        cs_tags_install(r->t, v, key);
        r->m.l[mv] = (mline){key, ++r->m.stamp, 0, 0};
        got = v;
        want = (int64_t)mv;
    }
    got->valid |= sectors;
    r->m.l[want].valid |= sectors;
    if (write) {
        got->dirty |= sectors;
        r->m.l[want].dirty |= sectors;
    }
}

static void lockstep(uint64_t lines, uint32_t assoc, uint64_t key_space, uint64_t key_stride,
                     uint32_t start_stamp, int steps, uint64_t seed)
{
    run r = {cs_tags_create(lines, assoc), model_new(lines, assoc), NULL};
    cs_tags__set_stamp(r.t, start_stamp);
    r.m.stamp = start_stamp;
    cs_rng rng;
    cs_rng_seed(&rng, seed);
    for (int i = 0; i < steps; i++) {
        uint64_t key = cs_rng_below(&rng, key_space) * key_stride;
        if (cs_rng_below(&rng, 4) == 0)
            key ^= 0x0000000500000005ULL; /* same fingerprint as key's, other set or not */
        uint8_t sectors = (uint8_t)(1 + cs_rng_below(&rng, 15));
        step(&r, key, sectors, cs_rng_below(&rng, 3) == 0);
        if (cs_rng_below(&rng, 5000) == 0) { /* a flush: every valid line cleared */
            cs_tags_foreach(r.t, flush_visit, NULL);
            for (uint64_t k = 0; k < lines; k++)
                r.m.l[k].valid = r.m.l[k].dirty = 0;
        }
    }
    cs_free(r.m.l);
    cs_tags_destroy(r.t);
}

Test(tags, agrees_with_the_model_on_power_of_two_sets)
{
    lockstep(256 * 16, 16, 8192, 1, 0, 200000, 1);
}

Test(tags, agrees_with_the_model_on_other_set_counts)
{
    lockstep(12 * 4, 4, 200, 1, 0, 100000, 2);
    lockstep(7 * 3, 3, 100, 1, 0, 50000, 3);
    lockstep(5, 5, 40, 1, 0, 20000, 4); /* one set */
}

Test(tags, agrees_with_the_model_across_fingerprint_collisions)
{
    /* keys 2^32 apart share their low half: with 256 sets they share a set, and the
     * fingerprints of k and k ^ (5 << 32 | 5) collide by construction */
    lockstep(256 * 16, 16, 1024, 1ULL << 32, 0, 100000, 5);
}

Test(tags, replacement_is_unchanged_when_the_lru_counter_wraps)
{
    lockstep(64 * 8, 8, 2000, 1, UINT32_MAX - 30000, 100000, 6);
    lockstep(12 * 4, 4, 200, 1, UINT32_MAX - 5, 20000, 7);
}

Test(tags, colliding_fingerprints_are_told_apart_by_the_key)
{
    cs_tags *t = cs_tags_create(256 * 16, 16);
    uint64_t a = (1ULL << 32) | 0x105, b = (0x101ULL << 32) | 0x5; /* set 5, fingerprint 0x104 */
    cs_tag_line *la = cs_tags_victim(t, a);
    cs_tags_install(t, la, a);
    la->valid = 1;
    cr_expect_null(cs_tags_find(t, b));
    cs_tag_line *lb = cs_tags_victim(t, b);
    cr_assert_neq(la, lb);
    cs_tags_install(t, lb, b);
    lb->valid = 3;
    cr_expect_eq(cs_tags_find(t, a), la);
    cr_expect_eq(cs_tags_find(t, b), lb);
    la->valid = 0; /* cleared by the caller: no longer found */
    cr_expect_null(cs_tags_find(t, a));
    cr_expect_eq(cs_tags_find(t, b), lb);
    cs_tags_destroy(t);
}

/* tags — flat array of sets x ways. */
#include "tags.h"

#include "alloc.h"
#include "check.h"

struct cs_tags {
    uint64_t sets;
    uint32_t assoc;
    uint64_t stamp;
    cs_tag_line *lines; /* sets * assoc */
};

cs_tags *cs_tags_create(uint64_t lines, uint32_t assoc)
{
    CS_ASSERT(assoc > 0 && lines >= assoc && lines % assoc == 0);
    cs_tags *t = cs_calloc(1, sizeof *t);
    t->sets = lines / assoc;
    t->assoc = assoc;
    t->lines = cs_calloc(lines, sizeof *t->lines);
    return t;
}

void cs_tags_destroy(cs_tags *t)
{
    if (!t)
        return;
    cs_free(t->lines);
    cs_free(t);
}

static cs_tag_line *set_of(cs_tags *t, uint64_t key)
{
    return &t->lines[(key % t->sets) * t->assoc];
}

cs_tag_line *cs_tags_find(cs_tags *t, uint64_t key)
{
    cs_tag_line *set = set_of(t, key);
    for (uint32_t w = 0; w < t->assoc; w++)
        if (set[w].valid && set[w].key == key)
            return &set[w];
    return NULL;
}

void cs_tags_touch(cs_tags *t, cs_tag_line *line)
{
    line->lru = ++t->stamp;
}

cs_tag_line *cs_tags_victim(cs_tags *t, uint64_t key)
{
    cs_tag_line *set = set_of(t, key), *best = &set[0];
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
    cs_tags_touch(t, line);
}

void cs_tags_foreach(cs_tags *t, cs_tags_visit_fn fn, void *ctx)
{
    uint64_t n = t->sets * t->assoc;
    for (uint64_t i = 0; i < n; i++)
        if (t->lines[i].valid)
            fn(ctx, &t->lines[i]);
}

uint64_t cs_tags_lines(const cs_tags *t)
{
    return t->sets * t->assoc;
}

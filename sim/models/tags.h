/* tags — a set-associative, sectored tag store with LRU replacement: the bookkeeping of a
 * cache, without its timing (the L1 and the L2 slices wrap it with their pipelines).
 *
 * Lines are identified by a 64-bit key unique within this cache (the caller's line index);
 * set = key mod sets. Each line keeps a valid and a dirty mask of its sectors. LRU is exact:
 * a per-cache access counter stamped on each touch; the victim is an invalid way if any, else
 * the smallest stamp (lowest way on ties, so replacement is deterministic).
 *
 * Callers read a line's key and read and write its valid and dirty masks directly; the key
 * changes only through cs_tags_install (the store keeps an index of keys beside the lines).
 */
#ifndef CS_TAGS_H
#define CS_TAGS_H

#include <stdbool.h>
#include <stdint.h>

typedef struct cs_tag_line {
    uint64_t key;
    uint32_t lru;    /* last-touch stamp (internal: renumbered when the counter wraps) */
    uint8_t valid;   /* sector mask; 0 = way empty */
    uint8_t dirty;   /* sector mask */
} cs_tag_line;

typedef struct cs_tags cs_tags;

cs_tags *cs_tags_create(uint64_t lines, uint32_t assoc); /* lines % assoc == 0 */
void cs_tags_destroy(cs_tags *t);

/* The line holding key, or NULL. Does not touch LRU. */
cs_tag_line *cs_tags_find(cs_tags *t, uint64_t key);
/* A hint that key will be looked up soon: starts loading its set into the CPU cache. */
void cs_tags_prefetch(const cs_tags *t, uint64_t key);
void cs_tags_touch(cs_tags *t, cs_tag_line *line);
/* The way key would replace in its set (an empty way first). The caller writes back
 * victim->dirty sectors if victim->valid, then calls cs_tags_install. */
cs_tag_line *cs_tags_victim(cs_tags *t, uint64_t key);
/* Claims `line` for key with no valid sectors and touches it. */
void cs_tags_install(cs_tags *t, cs_tag_line *line, uint64_t key);
/* Visits every line with a valid sector (flush, statistics). */
typedef void (*cs_tags_visit_fn)(void *ctx, cs_tag_line *line);
void cs_tags_foreach(cs_tags *t, cs_tags_visit_fn fn, void *ctx);
uint64_t cs_tags_lines(const cs_tags *t);

/* Internal, for tests: sets the LRU counter, so that a test reaches its wrap quickly. */
void cs_tags__set_stamp(cs_tags *t, uint32_t stamp);

#endif

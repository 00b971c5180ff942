/* alloc — the one allocation wrapper.
 *
 * Out-of-memory is not an error a simulator can recover from: these functions end the process
 * with a message and exit status 1 instead of returning NULL, so callers never check. They also count live blocks
 * (thread-safe) so tests can assert that a run frees everything it allocated.
 */
#ifndef CS_ALLOC_H
#define CS_ALLOC_H

#include <stddef.h>

void *cs_malloc(size_t bytes);
void *cs_calloc(size_t count, size_t bytes);
void *cs_realloc(void *ptr, size_t bytes);  /* ptr may be NULL; counted as a new block then */
void cs_free(void *ptr);                    /* NULL is a no-op */
char *cs_strdup(const char *s);             /* NULL gives NULL */
char *cs_strndup(const char *s, size_t n);
long cs_alloc_live_blocks(void);
/* The same end for other allocators' failures (jansson's, through json_set_alloc_funcs). */
_Noreturn void cs_alloc_fail(size_t bytes);

/* Growth helper for dynamic arrays: ensures *cap >= need, reallocating *ptr of elem-size items. */
void cs_grow(void **ptr, size_t *cap, size_t need, size_t elem_bytes);
#define CS_GROW(ptr, cap, need) cs_grow((void **)&(ptr), &(cap), (need), sizeof *(ptr))

#endif

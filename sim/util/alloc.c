/* alloc — aborting allocators with a live-block count. */
#include "alloc.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static atomic_long live_blocks;

static void *check(void *p, size_t bytes)
{
    if (!p && bytes) {
        fprintf(stderr, "cimsim: out of memory allocating %zu bytes\n", bytes);
        abort();
    }
    return p;
}

void *cs_malloc(size_t bytes)
{
    void *p = check(malloc(bytes ? bytes : 1), bytes ? bytes : 1);
    atomic_fetch_add(&live_blocks, 1);
    return p;
}

void *cs_calloc(size_t count, size_t bytes)
{
    if (count && bytes > (size_t)-1 / count) {
        fprintf(stderr, "cimsim: allocation size overflow (%zu x %zu)\n", count, bytes);
        abort();
    }
    void *p = check(calloc(count ? count : 1, bytes ? bytes : 1), count * bytes + 1);
    atomic_fetch_add(&live_blocks, 1);
    return p;
}

void *cs_realloc(void *ptr, size_t bytes)
{
    if (!ptr)
        return cs_malloc(bytes);
    return check(realloc(ptr, bytes ? bytes : 1), bytes ? bytes : 1);
}

void cs_free(void *ptr)
{
    if (!ptr)
        return;
    atomic_fetch_sub(&live_blocks, 1);
    free(ptr);
}

char *cs_strdup(const char *s)
{
    return s ? cs_strndup(s, strlen(s)) : NULL;
}

char *cs_strndup(const char *s, size_t n)
{
    if (!s)
        return NULL;
    size_t len = strnlen(s, n);
    char *d = cs_malloc(len + 1);
    memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

long cs_alloc_live_blocks(void)
{
    return atomic_load(&live_blocks);
}

void cs_grow(void **ptr, size_t *cap, size_t need, size_t elem_bytes)
{
    if (need <= *cap)
        return;
    size_t c = *cap ? *cap : 8;
    while (c < need)
        c *= 2;
    *ptr = cs_realloc(*ptr, c * elem_bytes);
    *cap = c;
}

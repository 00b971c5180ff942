/* alloc — aborting allocators with a live-block count. */
#include "alloc.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static atomic_long live_blocks;

/* Out of memory ends the process with a message and exit status 1 (an internal failure, not
 * a crash): nothing can go on, and an abort (SIGABRT, a core dump) would read as a bug. */
static _Noreturn void out_of_memory(const char *what, size_t a, size_t b)
{
    if (b)
        fprintf(stderr, "cimsim: %s (%zu x %zu bytes)\n", what, a, b);
    else
        fprintf(stderr, "cimsim: %s (%zu bytes)\n", what, a);
    fflush(stderr);
    _Exit(1);
}

void cs_alloc_fail(size_t bytes)
{
    out_of_memory("out of memory", bytes, 0);
}

static void *check(void *p, size_t bytes)
{
    if (!p && bytes)
        out_of_memory("out of memory", bytes, 0);
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
    if (count && bytes > (size_t)-1 / count)
        out_of_memory("out of memory: allocation size overflow", count, bytes);
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
    while (c < need) {
        if (c > (size_t)-1 / 2)
            out_of_memory("out of memory: array size overflow", need, elem_bytes);
        c *= 2;
    }
    if (elem_bytes && c > (size_t)-1 / elem_bytes)
        out_of_memory("out of memory: allocation size overflow", c, elem_bytes);
    *ptr = cs_realloc(*ptr, c * elem_bytes);
    *cap = c;
}

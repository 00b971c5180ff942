/* check — the assertion handler and its per-thread dump hook. */
#include "check.h"

#include <stdio.h>
#include <stdlib.h>

static _Thread_local cs_dump_hook hook_fn;
static _Thread_local void *hook_ctx;

void cs_check_set_hook(cs_dump_hook hook, void *ctx, cs_dump_hook *prev_hook, void **prev_ctx)
{
    if (prev_hook)
        *prev_hook = hook_fn;
    if (prev_ctx)
        *prev_ctx = hook_ctx;
    hook_fn = hook;
    hook_ctx = ctx;
}

void cs_assert_fail(const char *file, int line, const char *expr)
{
    fprintf(stderr, "cimsim: internal error: %s:%d: assertion failed: %s\n", file, line, expr);
    if (hook_fn) {
        cs_dump_hook h = hook_fn;
        hook_fn = NULL; /* a failing dump must not recurse */
        h(hook_ctx);
    }
    abort();
}

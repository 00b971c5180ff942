/* check — invariants that are bugs when broken (not errors a user can cause).
 *
 * CS_ASSERT(cond) aborts with file:line and the expression; before aborting it calls the
 * thread's dump hook (the engine installs one while it runs, so a broken invariant prints the
 * pending events and every component's state). Always compiled in: simulators must fail loudly.
 */
#ifndef CS_CHECK_H
#define CS_CHECK_H

typedef void (*cs_dump_hook)(void *ctx);

#define CS_ASSERT(cond) \
    ((cond) ? (void)0 : cs_assert_fail(__FILE__, __LINE__, #cond))

_Noreturn void cs_assert_fail(const char *file, int line, const char *expr);
/* Installs this thread's dump hook (NULL removes it); returns the previous one via *prev. */
void cs_check_set_hook(cs_dump_hook hook, void *ctx, cs_dump_hook *prev_hook, void **prev_ctx);

#endif

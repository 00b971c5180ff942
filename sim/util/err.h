/* err — status codes and the error context every library call reports through.
 *
 * Libraries never print or exit: they return a cs_status and, for anything a user must read,
 * add a formatted message to a cs_err. Only tools/ prints the messages and maps the status to
 * an exit code (cs_status_exit_code). A cs_err collects up to CS_ERR_MAX messages so that a
 * config with several mistakes reports them all at once, as compilers do.
 *
 * Message convention (users and scripts grep for it):
 *   FILE:LINE: error: KEY.PATH: RULE (got VALUE)
 *   FILE: byte OFFSET: error: WHAT          (binary inputs: traces)
 */
#ifndef CS_ERR_H
#define CS_ERR_H

#include <stdarg.h>
#include <stddef.h>

/* One map generates the enum and its strings (libuv's UV_ERRNO_MAP). The third column is the
 * process exit status a tool uses for it: 2 = the user's input is at fault, 1 = ours. */
#define CS_STATUS_MAP(X)                                              \
    X(OK, "ok", 0)                                                    \
    X(USAGE, "bad usage", 2)                                          \
    X(INVALID, "invalid input", 2)                                    \
    X(NOT_FOUND, "not found", 2)                                      \
    X(IO, "input/output error", 2)                                    \
    X(FORMAT, "malformed data", 2)                                    \
    X(TRUNCATED, "truncated data", 2)                                 \
    X(BAD_MAGIC, "bad magic number", 2)                               \
    X(BAD_VERSION, "unsupported format version", 2)                   \
    X(CHECKSUM, "checksum mismatch", 2)                               \
    X(UNSUPPORTED, "unsupported", 2)                                  \
    X(INVARIANT, "invariant violated", 1)                             \
    X(DEADLOCK, "simulation made no progress", 1)                     \
    X(INTERNAL, "internal error", 1)

typedef enum {
#define CS_X(name, str, code) CS_##name,
    CS_STATUS_MAP(CS_X)
#undef CS_X
        CS_STATUS_COUNT
} cs_status;

const char *cs_status_str(cs_status st);
int cs_status_exit_code(cs_status st);

enum { CS_ERR_MAX = 20, CS_ERR_MSG_BYTES = 512 };

typedef struct cs_err {
    cs_status status;   /* first non-OK status added */
    int count;          /* messages added, including those beyond CS_ERR_MAX */
    char msg[CS_ERR_MAX][CS_ERR_MSG_BYTES];
    char *detail;       /* long diagnostics (a deadlock dump), heap-allocated, or NULL */
} cs_err;

void cs_err_init(cs_err *err);
/* Adds a formatted message (no trailing newline). Returns st so callers can `return cs_err_add(...)`.
 * err may be NULL (the message is dropped, the status still returned). */
cs_status cs_err_add(cs_err *err, cs_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
cs_status cs_err_vadd(cs_err *err, cs_status st, const char *fmt, va_list ap);
/* The conventional config message: "FILE:LINE: error: KEY: RULE". line <= 0 omits the line. */
cs_status cs_err_at(cs_err *err, cs_status st, const char *file, int line, const char *key,
                    const char *fmt, ...) __attribute__((format(printf, 6, 7)));
int cs_err_full(const cs_err *err);  /* true when CS_ERR_MAX messages are held */
/* Appends all messages of src to dst (keeps dst's first status); src's detail moves to dst. */
void cs_err_merge(cs_err *dst, cs_err *src);
/* Appends long diagnostic text (printed after the messages). */
void cs_err_detail(cs_err *err, const char *text);
/* Frees the detail text; the messages stay. Safe to call more than once. */
void cs_err_free(cs_err *err);

#endif

/* afile — atomic file output: write to a temporary file beside the target, flush it to disk,
 * then rename over the target. An interrupted run leaves either the old file or the new one,
 * never half of one. Also creates output directories. */
#ifndef CS_AFILE_H
#define CS_AFILE_H

#include <stddef.h>
#include <stdio.h>

#include "err.h"

/* Writes len bytes to path atomically. Errors name the path and the system's reason. A
 * character device (/dev/null, /dev/stdout) is written in place; other non-regular files are
 * refused. */
cs_status cs_afile_write(const char *path, const void *data, size_t len, cs_err *err);
/* The same, streamed: cs_afile_open gives a FILE to write (a temporary beside path; regular
 * targets only), cs_afile_commit flushes it to disk and renames it over path, cs_afile_abort
 * removes it. */
typedef struct cs_afile {
    FILE *f;
    char *tmp, *path;
} cs_afile;
cs_status cs_afile_open(const char *path, cs_afile *af, cs_err *err);
cs_status cs_afile_commit(cs_afile *af, cs_err *err);
void cs_afile_abort(cs_afile *af);
/* mkdir -p. */
cs_status cs_afile_mkdirs(const char *dir, cs_err *err);
/* Reads a whole file into a NUL-terminated buffer (caller frees with cs_free). */
cs_status cs_afile_read(const char *path, char **out, size_t *len, cs_err *err);

#endif

/* afile — file output that never leaves half a file and never replaces what is not a file, and
 * bounded whole-file input. Also creates output directories.
 *
 * Where output goes (cs_afile_target):
 *   - a new path or a regular file: a temporary beside it, flushed to disk, then renamed over
 *     it (atomic: an interrupted run leaves the old file or the new one, never half of one);
 *     a symbolic link to a regular file: the same at the file it points to (the link stays);
 *   - "-" (where the caller allows it), or a link to this process's standard output
 *     (/dev/stdout, /proc/self/fd/1): written to standard output as it is;
 *   - a FIFO, a character device (/dev/null), a socket, or a link to one: opened and written in
 *     place, since a rename would replace the device with a regular file;
 *   - a directory or a block device: refused with a message (CS_IO).
 *
 * Not responsible for: choosing names (callers do), formats.
 */
#ifndef CS_AFILE_H
#define CS_AFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "err.h"

enum {
    /* Text inputs (configurations, workload CSVs, Accelergy YAML, text traces per line): at
     * most this many bytes, so that /dev/zero or a wrong file ends in a message, not in the
     * memory of the machine. */
    CS_AFILE_MAX_INPUT_BYTES = 16 << 20
};

typedef enum {
    CS_AFILE_ATOMIC, /* temporary beside the (resolved) target, then rename */
    CS_AFILE_DIRECT, /* opened and written in place (FIFO, character device, socket) */
    CS_AFILE_STDOUT  /* this process's standard output */
} cs_afile_kind;

/* How path is written. allow_dash: "-" means standard output. *target (NULL when not wanted;
 * the caller frees it with cs_free) is the path to open or rename over: path itself, or the
 * file a symbolic link points to. CS_IO with "PATH: error: ..." for what cannot be written. */
cs_status cs_afile_target(const char *path, bool allow_dash, cs_afile_kind *kind, char **target,
                          cs_err *err);
/* Checks, before any work is done, that path can be written: its directory exists and takes a
 * new file (a temporary is created and removed), or the device can be opened for writing.
 * FIFOs are not opened (that would wait for a reader). */
cs_status cs_afile_probe(const char *path, bool allow_dash, cs_err *err);

/* Writes len bytes to path as cs_afile_target says ("-" is standard output). Errors name the
 * path and the system's reason. */
cs_status cs_afile_write(const char *path, const void *data, size_t len, cs_err *err);
/* The same, streamed: cs_afile_open gives a FILE to write, cs_afile_commit flushes it (to disk
 * and renames it over path, for an atomic target), cs_afile_abort removes a temporary. */
typedef struct cs_afile {
    FILE *f;
    char *tmp, *path; /* tmp: NULL when written in place */
    cs_afile_kind kind;
} cs_afile;
cs_status cs_afile_open(const char *path, cs_afile *af, cs_err *err);
cs_status cs_afile_commit(cs_afile *af, cs_err *err);
void cs_afile_abort(cs_afile *af);
/* mkdir -p. */
cs_status cs_afile_mkdirs(const char *dir, cs_err *err);
/* Reads a whole text file into a NUL-terminated buffer (caller frees with cs_free), reading
 * once, so that FIFOs and /dev/stdin work. At most CS_AFILE_MAX_INPUT_BYTES (CS_INVALID with
 * "PATH: error: larger than 16 MiB ..." beyond). A NUL byte inside the text is refused
 * (CS_FORMAT, with its byte offset: everything after it would be ignored); a UTF-8 byte-order
 * mark at the start is dropped. */
cs_status cs_afile_read(const char *path, char **out, size_t *len, cs_err *err);
/* One line of f, its newline included, into *line (grown with cs_malloc as needed; the caller
 * frees it): like POSIX getline, but never more than max_bytes, so that a file without
 * newlines (/dev/zero) cannot take all the memory. Returns the length (NUL bytes inside are
 * kept and counted), -1 at the end of the file, -2 when the line is longer than max_bytes. */
long cs_afile_getline(FILE *f, char **line, size_t *cap, size_t max_bytes);
/* The same with another limit (result files are larger). */
cs_status cs_afile_read_max(const char *path, size_t max_bytes, char **out, size_t *len,
                            cs_err *err);

#endif

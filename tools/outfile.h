/* outfile — writing a command's output file: atomically (sim/util/afile.h) when the target is a
 * regular file or does not exist yet; in place when it is something else (/dev/null, /dev/stdout,
 * a FIFO), which a rename would replace with a regular file. */
#ifndef CS_OUTFILE_H
#define CS_OUTFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

cs_status cs_outfile_write(const char *path, const void *data, size_t len, cs_err *err);
/* True when path exists and is not a regular file (atomic replacement would be wrong). */
bool cs_outfile_special(const char *path);

#endif

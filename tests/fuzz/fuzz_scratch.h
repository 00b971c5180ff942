/* fuzz_scratch — scratch file names for the fuzz targets that go through files (the commands
 * read paths): in $TMPDIR, else /dev/shm (memory), else /tmp, one set per process. */
#ifndef CS_FUZZ_SCRATCH_H
#define CS_FUZZ_SCRATCH_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* Fills paths[i] with DIR/TARGET.PID.names[i]. */
static inline void fuzz_scratch_paths(const char *target, const char *const *names, int n,
                                      char (*paths)[256])
{
    const char *dir = getenv("TMPDIR");
    struct stat sb;
    if (!dir || !*dir)
        dir = stat("/dev/shm", &sb) == 0 && S_ISDIR(sb.st_mode) ? "/dev/shm" : "/tmp";
    for (int i = 0; i < n; i++)
        snprintf(paths[i], sizeof paths[i], "%s/%s.%ld.%s", dir, target, (long)getpid(), names[i]);
}

#endif

/* vfs — files embedded in the binary (arch/ configurations, energy tables, workload presets),
 * so cimsim runs from any directory. Paths are relative to the source root: "arch/a100.cfg",
 * "arch/cim/analog6T.cfg", "workloads/presets/bert-large.csv". The table is generated at
 * build time by cmake/embed.cmake. */
#ifndef CS_VFS_H
#define CS_VFS_H

#include <stddef.h>

typedef struct cs_vfs_file {
    const char *path;
    const char *data; /* NUL-terminated */
    size_t len;
} cs_vfs_file;

extern const cs_vfs_file cs_vfs_files[]; /* terminated by {NULL, NULL, 0} */

/* Exact path lookup, NULL when absent. */
const cs_vfs_file *cs_vfs_find(const char *path);

#endif

/* vfs — lookup in the generated table. */
#include "vfs.h"

#include <string.h>

const cs_vfs_file *cs_vfs_find(const char *path)
{
    for (const cs_vfs_file *f = cs_vfs_files; f->path; f++)
        if (strcmp(f->path, path) == 0)
            return f;
    return NULL;
}

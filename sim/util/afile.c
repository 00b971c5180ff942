/* afile — temp file + fsync + rename. */
#include "afile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"

cs_status cs_afile_write(const char *path, const void *data, size_t len, cs_err *err)
{
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        /* Never rename over a device or a directory: write a character device in place
         * (/dev/null, /dev/stdout), refuse the rest. */
        if (!S_ISCHR(st.st_mode))
            return cs_err_add(err, CS_IO, "%s: error: not a regular file", path);
        FILE *f = fopen(path, "wb");
        if (!f)
            return cs_err_add(err, CS_IO, "%s: error: cannot open: %s", path, strerror(errno));
        size_t n = fwrite(data, 1, len, f);
        if (fclose(f) != 0 || n != len)
            return cs_err_add(err, CS_IO, "%s: error: write failed", path);
        return CS_OK;
    }
    cs_afile af;
    if (cs_afile_open(path, &af, err) != CS_OK)
        return CS_IO;
    if (fwrite(data, 1, len, af.f) != len) {
        cs_err_add(err, CS_IO, "%s: error: write failed: %s", path, strerror(errno));
        cs_afile_abort(&af);
        return CS_IO;
    }
    return cs_afile_commit(&af, err);
}

cs_status cs_afile_open(const char *path, cs_afile *af, cs_err *err)
{
    size_t plen = strlen(path);
    memset(af, 0, sizeof *af);
    af->tmp = cs_malloc(plen + 32);
    snprintf(af->tmp, plen + 32, "%s.tmp.%ld", path, (long)getpid());
    af->f = fopen(af->tmp, "wb");
    if (!af->f) {
        cs_err_add(err, CS_IO, "%s: error: cannot create: %s", path, strerror(errno));
        cs_free(af->tmp);
        af->tmp = NULL;
        return CS_IO;
    }
    af->path = cs_strdup(path);
    return CS_OK;
}

cs_status cs_afile_commit(cs_afile *af, cs_err *err)
{
    bool ok = fflush(af->f) == 0 && !ferror(af->f) && fsync(fileno(af->f)) == 0;
    ok = fclose(af->f) == 0 && ok;
    af->f = NULL;
    if (!ok || rename(af->tmp, af->path) != 0) {
        cs_err_add(err, CS_IO, "%s: error: cannot finish writing: %s", af->path, strerror(errno));
        cs_afile_abort(af);
        return CS_IO;
    }
    cs_free(af->tmp);
    cs_free(af->path);
    af->tmp = af->path = NULL;
    return CS_OK;
}

void cs_afile_abort(cs_afile *af)
{
    if (af->f)
        fclose(af->f);
    if (af->tmp)
        unlink(af->tmp);
    cs_free(af->tmp);
    cs_free(af->path);
    memset(af, 0, sizeof *af);
}

cs_status cs_afile_mkdirs(const char *dir, cs_err *err)
{
    char *d = cs_strdup(dir);
    size_t n = strlen(d);
    for (size_t i = 1; i <= n; i++) {
        if (d[i] != '/' && d[i] != '\0')
            continue;
        char c = d[i];
        d[i] = '\0';
        if (mkdir(d, 0755) != 0 && errno != EEXIST) {
            cs_err_add(err, CS_IO, "%s: error: cannot create directory: %s", d, strerror(errno));
            cs_free(d);
            return CS_IO;
        }
        d[i] = c;
    }
    struct stat st;
    cs_status s = CS_OK;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        s = cs_err_add(err, CS_IO, "%s: error: not a directory", dir);
    cs_free(d);
    return s;
}

cs_status cs_afile_read(const char *path, char **out, size_t *len, cs_err *err)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return cs_err_add(err, errno == ENOENT ? CS_NOT_FOUND : CS_IO, "%s: error: cannot open: %s",
                          path, strerror(errno));
    char *data = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        CS_GROW(data, cap, n + 65536);
        size_t got = fread(data + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        cs_free(data);
        return cs_err_add(err, CS_IO, "%s: error: read failed", path);
    }
    data[n] = '\0';
    *out = data;
    if (len)
        *len = n;
    return CS_OK;
}

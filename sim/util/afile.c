/* afile — temp file + fsync + rename. */
#include "afile.h"

#include <errno.h>
#include <fcntl.h>
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
    size_t plen = strlen(path);
    char *tmp = cs_malloc(plen + 32);
    snprintf(tmp, plen + 32, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        cs_err_add(err, CS_IO, "%s: error: cannot create: %s", path, strerror(errno));
        cs_free(tmp);
        return CS_IO;
    }
    const char *p = data;
    size_t left = len;
    while (left) {
        ssize_t n = write(fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            cs_err_add(err, CS_IO, "%s: error: write failed: %s", path, strerror(errno));
            close(fd);
            unlink(tmp);
            cs_free(tmp);
            return CS_IO;
        }
        p += n;
        left -= (size_t)n;
    }
    if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
        cs_err_add(err, CS_IO, "%s: error: cannot finish writing: %s", path, strerror(errno));
        unlink(tmp);
        cs_free(tmp);
        return CS_IO;
    }
    cs_free(tmp);
    return CS_OK;
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

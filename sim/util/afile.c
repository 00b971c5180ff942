/* afile — temp file + fsync + rename for files, in-place writes for everything else, bounded
 * reads. */
/* realpath is XSI (POSIX 2008 with the XSI option): ask for it before any header. */
#define _XOPEN_SOURCE 700
#include "afile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"

/* True when st is the file behind this process's standard output. */
static bool is_stdout(const struct stat *st)
{
    struct stat o;
    return fstat(STDOUT_FILENO, &o) == 0 && o.st_dev == st->st_dev && o.st_ino == st->st_ino;
}

cs_status cs_afile_target(const char *path, bool allow_dash, cs_afile_kind *kind, char **target,
                          cs_err *err)
{
    if (target)
        *target = NULL;
    *kind = CS_AFILE_ATOMIC;
    if (allow_dash && strcmp(path, "-") == 0) {
        *kind = CS_AFILE_STDOUT;
        return CS_OK;
    }
    if (!path[0])
        return cs_err_add(err, CS_IO, "error: an empty output file name");
    struct stat l, st;
    if (lstat(path, &l) != 0) {
        if (errno != ENOENT)
            return cs_err_add(err, CS_IO, "%s: error: cannot write: %s", path, strerror(errno));
        if (target) /* a new file */
            *target = cs_strdup(path);
        return CS_OK;
    }
    bool link = S_ISLNK(l.st_mode);
    if (link && stat(path, &st) != 0) { /* a dangling link: create what it names, in place */
        *kind = CS_AFILE_DIRECT;
        if (target)
            *target = cs_strdup(path);
        return CS_OK;
    }
    if (!link)
        st = l;
    if (S_ISDIR(st.st_mode))
        return cs_err_add(err, CS_IO, "%s: error: is a directory (expected a file name)", path);
    if (S_ISBLK(st.st_mode))
        return cs_err_add(err, CS_IO, "%s: error: is a block device; cimsim does not write "
                                      "results over devices", path);
    if (S_ISREG(st.st_mode) && !link) {
        if (target)
            *target = cs_strdup(path);
        return CS_OK;
    }
    if (link && is_stdout(&st)) { /* /dev/stdout, /proc/self/fd/1 */
        *kind = CS_AFILE_STDOUT;
        return CS_OK;
    }
    if (S_ISREG(st.st_mode)) { /* a link to a file: replace the file, keep the link */
        char *real = realpath(path, NULL);
        if (!real)
            return cs_err_add(err, CS_IO, "%s: error: cannot resolve the link: %s", path,
                              strerror(errno));
        if (target)
            *target = cs_strdup(real);
        free(real);
        return CS_OK;
    }
    *kind = CS_AFILE_DIRECT; /* FIFO, character device, socket */
    if (target)
        *target = cs_strdup(path);
    return CS_OK;
}

/* The directory part of path with a trailing '/', or "" for a bare name. */
static char *dir_part(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? cs_strndup(path, (size_t)(slash - path) + 1) : cs_strdup("");
}

/* A new, exclusively created temporary file beside path (same directory, so that rename is
 * atomic): "DIR/.NAME.tmpXXXXXX". Returns its descriptor and name, or -1 with errno. */
static int make_temp(const char *path, char **name)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    char *dir = dir_part(path);
    size_t n = strlen(dir) + strlen(base) + 16;
    char *t = cs_malloc(n);
    snprintf(t, n, "%s.%s.tmpXXXXXX", dir, base);
    cs_free(dir);
    int fd = mkstemp(t);
    if (fd < 0) {
        int e = errno;
        cs_free(t);
        errno = e;
        *name = NULL;
        return -1;
    }
    *name = t;
    return fd;
}

cs_status cs_afile_probe(const char *path, bool allow_dash, cs_err *err)
{
    cs_afile_kind kind;
    char *target = NULL;
    cs_status st = cs_afile_target(path, allow_dash, &kind, &target, err);
    if (st != CS_OK)
        return st;
    if (kind == CS_AFILE_ATOMIC) {
        char *tmp;
        int fd = make_temp(target, &tmp);
        if (fd < 0) {
            st = cs_err_add(err, CS_IO, "%s: error: cannot create: %s", path, strerror(errno));
        } else {
            close(fd);
            unlink(tmp);
            cs_free(tmp);
        }
    } else if (kind == CS_AFILE_DIRECT) {
        struct stat sb;
        bool fifo = stat(target, &sb) == 0 && S_ISFIFO(sb.st_mode);
        if (!fifo && access(target, W_OK) != 0 && errno != ENOENT)
            st = cs_err_add(err, CS_IO, "%s: error: cannot write: %s", path, strerror(errno));
    }
    cs_free(target);
    return st;
}

cs_status cs_afile_open(const char *path, cs_afile *af, cs_err *err)
{
    memset(af, 0, sizeof *af);
    char *target = NULL;
    cs_status st = cs_afile_target(path, true, &af->kind, &target, err);
    if (st != CS_OK)
        return st;
    if (af->kind == CS_AFILE_STDOUT) {
        af->f = stdout;
    } else if (af->kind == CS_AFILE_DIRECT) {
        af->f = fopen(target, "wb");
    } else {
        int fd = make_temp(target, &af->tmp);
        af->f = fd >= 0 ? fdopen(fd, "wb") : NULL;
        if (fd >= 0 && !af->f)
            close(fd);
        if (fd >= 0 && fchmod(fd, 0644) != 0) { /* mkstemp's 0600 is not what a result wants */
            fclose(af->f);
            af->f = NULL;
        }
    }
    if (!af->f) {
        st = cs_err_add(err, CS_IO, "%s: error: cannot create: %s", path, strerror(errno));
        if (af->tmp)
            unlink(af->tmp);
        cs_free(af->tmp);
        cs_free(target);
        memset(af, 0, sizeof *af);
        return st;
    }
    af->path = target ? target : cs_strdup(path);
    return CS_OK;
}

cs_status cs_afile_commit(cs_afile *af, cs_err *err)
{
    bool ok = fflush(af->f) == 0 && !ferror(af->f);
    int e = ok ? 0 : errno;
    if (af->kind == CS_AFILE_ATOMIC && ok && fsync(fileno(af->f)) != 0) {
        ok = false;
        e = errno;
    }
    if (af->kind != CS_AFILE_STDOUT && fclose(af->f) != 0 && ok) {
        ok = false;
        e = errno;
    }
    af->f = NULL;
    if (ok && af->kind == CS_AFILE_ATOMIC && rename(af->tmp, af->path) != 0) {
        ok = false;
        e = errno;
    }
    if (!ok) {
        cs_err_add(err, CS_IO, "%s: error: cannot finish writing: %s", af->path,
                   strerror(e ? e : EIO));
        cs_afile_abort(af);
        return CS_IO;
    }
    cs_free(af->tmp);
    cs_free(af->path);
    memset(af, 0, sizeof *af);
    return CS_OK;
}

void cs_afile_abort(cs_afile *af)
{
    if (af->f && af->kind != CS_AFILE_STDOUT)
        fclose(af->f);
    if (af->tmp)
        unlink(af->tmp);
    cs_free(af->tmp);
    cs_free(af->path);
    memset(af, 0, sizeof *af);
}

cs_status cs_afile_write(const char *path, const void *data, size_t len, cs_err *err)
{
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

cs_status cs_afile_read_max(const char *path, size_t max_bytes, char **out, size_t *len,
                            cs_err *err)
{
    *out = NULL;
    if (len)
        *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return cs_err_add(err, errno == ENOENT ? CS_NOT_FOUND : CS_IO, "%s: error: cannot open: %s",
                          path, strerror(errno));
    /* A regular file's size is known: one allocation of the right size (a read past it
     * finds the end); anything else (FIFO, device) grows from 4 KiB. */
    struct stat sb;
    size_t cap = 4096;
    if (fstat(fileno(f), &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size >= 0)
        cap = (size_t)sb.st_size < max_bytes ? (size_t)sb.st_size + 2 : max_bytes + 2;
    char *data = cs_malloc(cap);
    size_t n = 0;
    bool big = false;
    for (;;) {
        if (cap - n < 2)
            CS_GROW(data, cap, cap + 1);
        size_t want = cap - n - 1;
        if (want > max_bytes + 1 - n)
            want = max_bytes + 1 - n; /* one byte past the limit tells "too big" */
        size_t got = fread(data + n, 1, want, f);
        n += got;
        if (n > max_bytes) {
            big = true;
            break;
        }
        if (got == 0)
            break;
    }
    int bad = !big && ferror(f);
    fclose(f);
    if (big || bad) {
        cs_free(data);
        if (big)
            return cs_err_add(err, CS_INVALID,
                              "%s: error: larger than %zu MiB (the limit for this kind of input; "
                              "docs/limits.md)",
                              path, max_bytes >> 20);
        return cs_err_add(err, CS_IO, "%s: error: read failed: %s", path, strerror(errno));
    }
    data[n] = '\0';
    const char *nul = memchr(data, '\0', n);
    if (nul) {
        size_t at = (size_t)(nul - data);
        cs_free(data);
        return cs_err_add(err, CS_FORMAT,
                          "%s: byte %zu: error: a NUL byte in a text file (everything after it "
                          "would be ignored)",
                          path, at);
    }
    /* A UTF-8 byte-order mark (some Windows editors write one) is not part of the text. */
    if (n >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
        memmove(data, data + 3, n - 2);
        n -= 3;
    }
    *out = data;
    if (len)
        *len = n;
    return CS_OK;
}

cs_status cs_afile_read(const char *path, char **out, size_t *len, cs_err *err)
{
    return cs_afile_read_max(path, CS_AFILE_MAX_INPUT_BYTES, out, len, err);
}

long cs_afile_getline(FILE *f, char **line, size_t *cap, size_t max_bytes)
{
    size_t n = 0;
    int c;
    while ((c = getc_unlocked(f)) != EOF) {
        if (n + 2 > *cap)
            CS_GROW(*line, *cap, n + 2);
        (*line)[n++] = (char)c;
        if (c == '\n')
            break;
        if (n > max_bytes)
            return -2;
    }
    if (!n)
        return -1;
    (*line)[n] = '\0';
    return (long)n;
}

/* testutil — helpers shared by the tests that drive the cimsim binary: run it, capture its
 * output and exit status, load the JSON it wrote, make a scratch directory. Header-only. */
#ifndef CS_TESTUTIL_H
#define CS_TESTUTIL_H

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Runs `cimsim ARGS` (a shell fragment), stdout/stderr into files under dir; returns the exit
 * status (or -1). */
static inline int tu_run(const char *dir, const char *args)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' %s >'%s/stdout.txt' 2>'%s/stderr.txt'", dir, CIMSIM_BINARY, args, dir,
             dir);
    int st = system(cmd);
    return st == -1 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Writes text to dir/name (the test fails if it cannot). */
static inline int tu_write(const char *dir, const char *name, const char *text)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    if (!f)
        return -1;
    int ok = fputs(text, f) >= 0;
    return fclose(f) == 0 && ok ? 0 : -1;
}

/* Whole file as a string (caller frees), or NULL. */
static inline char *tu_slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    size_t got = fread(s, 1, (size_t)n, f);
    s[got] = '\0';
    fclose(f);
    return s;
}

static inline char *tu_file(const char *dir, const char *name)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return tu_slurp(p);
}

static inline json_t *tu_json(const char *dir, const char *name)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    json_error_t e;
    return json_load_file(p, 0, &e);
}

/* A fresh scratch directory (under TMPDIR or /tmp); the path is static per call site buffer. */
static inline void tu_tmpdir(char *out, size_t n)
{
    const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(out, n, "%s/cimsim-test-XXXXXX", base);
    if (!mkdtemp(out))
        out[0] = '\0';
}

static inline void tu_rmdir(const char *dir)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

/* Numeric value at a path of object keys ("gemms" arrays are indexed with a number key). */
static inline double tu_num(json_t *j, const char *a, const char *b, const char *c)
{
    json_t *x = json_object_get(j, a);
    if (b)
        x = json_object_get(x, b);
    if (c)
        x = json_object_get(x, c);
    return json_number_value(x);
}

#endif

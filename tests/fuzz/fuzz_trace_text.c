/* fuzz_trace_text — libFuzzer target for the plain-text trace importer (cs_trace_import).
 *
 * The input is a text trace, written to a scratch file (in $TMPDIR, else /dev/shm, else /tmp)
 * and imported. Oracles beyond "no crash, no sanitizer report": an import either succeeds or
 * reports at least one "FILE:LINE: error:" message; a successful import checks clean, and its
 * dump imports again to a trace whose dump is identical (the text form round-trips).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "fuzz_scratch.h"
#include "trace.h"

static void require(bool cond)
{
    if (!cond)
        __builtin_trap();
}

static char paths[5][256]; /* text, trace, dump, trace2, dump2 */

static void init_paths(void)
{
    if (paths[0][0])
        return;
    const char *const names[5] = {"in.txt", "a.cstr", "a.txt", "b.cstr", "b.txt"};
    fuzz_scratch_paths("fuzz_trace_text", names, 5, paths);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    require(f != NULL);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *d = cs_malloc((size_t)n + 1);
    require(fread(d, 1, (size_t)n, f) == (size_t)n);
    d[n] = '\0';
    fclose(f);
    return d;
}

static void dump(const char *trace, const char *text)
{
    FILE *f = fopen(text, "w");
    require(f != NULL);
    cs_err err;
    cs_err_init(&err);
    require(cs_trace_dump(trace, f, NULL, &err) == CS_OK);
    fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init_paths();
    FILE *f = fopen(paths[0], "wb");
    require(f != NULL);
    require(fwrite(data, 1, size, f) == size);
    fclose(f);
    cs_err err;
    cs_err_init(&err);
    cs_status st = cs_trace_import(paths[0], paths[1], &err);
    if (st != CS_OK) {
        require(err.count >= 1);
        unlink(paths[0]);
        return 0;
    }
    require(cs_trace_check(paths[1], NULL, NULL, &err) == CS_OK);
    dump(paths[1], paths[2]);
    require(cs_trace_import(paths[2], paths[3], &err) == CS_OK);
    dump(paths[3], paths[4]);
    char *a = slurp(paths[2]), *b = slurp(paths[4]);
    /* Identical after the first line, a comment naming the file dumped. */
    const char *na = strchr(a, '\n'), *nb = strchr(b, '\n');
    require(na && nb && strcmp(na, nb) == 0);
    cs_free(a);
    cs_free(b);
    for (int i = 0; i < 5; i++)
        unlink(paths[i]);
    return 0;
}

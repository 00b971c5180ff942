/* gen_corpus_trace — writes the seed corpus of fuzz_trace into a directory: small valid traces
 * (as mode 0 and mode 1 inputs) and the encoded records of every op kind (mode 2), so that the
 * fuzzer starts from inputs that reach every layer of the reader. See fuzz_trace.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "trace.h"
#include "trace_int.h"

static int write_seed(const char *dir, const char *name, uint8_t mode, const uint8_t *d,
                      size_t n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(&mode, 1, 1, f) != 1 || fwrite(d, 1, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "gen_corpus_trace: cannot write %s\n", path);
        return 1;
    }
    return 0;
}

/* One op of each kind with every valid field set to a small, kind-typical value. */
static int kind_ops(cs_op *ops)
{
    for (int k = 0; k < CS_OP_KIND_COUNT; k++) {
        memset(&ops[k], 0, sizeof ops[k]);
        ops[k].kind = (uint8_t)k;
        uint16_t fields = cs__trace_kind_fields(k);
        for (int f = 0; f < CS__F_COUNT; f++)
            if (fields & (1u << f))
                cs__trace_field_set(&ops[k], f,
                                    f == CS__F_DTYPE   ? 1
                                    : f == CS__F_FLAGS ? cs__trace_kind_flags(k)
                                    : f == CS__F_ADDR  ? 0x7f0000001000ull
                                                       : (uint64_t)(k + f + 1) * 16);
    }
    return CS_OP_KIND_COUNT;
}

static int trace_seed(const char *dir, const char *name, int nops)
{
    char tmp[] = "/tmp/gen_corpus_trace.XXXXXX";
    int fd = mkstemp(tmp);
    if (fd < 0)
        return 1;
    close(fd);
    cs_stream_info lay[3] = {{CS_STREAM_SM, 0}, {CS_STREAM_SM, 1}, {CS_STREAM_CIM, 0}};
    cs_trace_kv kv = {"seed", "1"};
    cs_trace_meta m = {"gen_corpus_trace", "0", "a100", "16,16,16", "www", &kv, 1, 3, lay};
    cs_trace_writer_opts o = {4, 0};
    cs_trace_writer *w;
    cs_err err;
    cs_err_init(&err);
    cs_op ops[CS_OP_KIND_COUNT];
    kind_ops(ops);
    int bad = cs_trace_writer_create(tmp, &m, &o, &w, &err) != CS_OK;
    for (int i = 0; i < nops && !bad; i++)
        bad = cs_trace_write(w, (uint32_t)(i % 3), &ops[i % CS_OP_KIND_COUNT], &err) != CS_OK;
    if (!bad)
        bad = cs_trace_writer_finish(w, &err) != CS_OK;
    char *data = NULL;
    size_t len = 0;
    FILE *f = bad ? NULL : fopen(tmp, "rb");
    if (f) {
        fseek(f, 0, SEEK_END);
        len = (size_t)ftell(f);
        fseek(f, 0, SEEK_SET);
        data = malloc(len);
        bad = !data || fread(data, 1, len, f) != len;
        fclose(f);
    }
    unlink(tmp);
    if (bad || !data) {
        fprintf(stderr, "gen_corpus_trace: %s\n", err.count ? err.msg[0] : "cannot build");
        free(data);
        return 1;
    }
    char n0[256], n1[256];
    snprintf(n0, sizeof n0, "%s-raw", name);
    snprintf(n1, sizeof n1, "%s-fixed", name);
    int rc = write_seed(dir, n0, 0, (uint8_t *)data, len) | write_seed(dir, n1, 1, (uint8_t *)data, len);
    free(data);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen_corpus_trace DIR\n");
        return 2;
    }
    int rc = trace_seed(argv[1], "empty", 0) | trace_seed(argv[1], "small", 30);
    cs_op ops[CS_OP_KIND_COUNT];
    int n = kind_ops(ops);
    uint8_t rec[1 + 2 * CS_OP_KIND_COUNT * CS_TRACE_RECORD_MAX_BYTES];
    cs_op prev[CS_OP_KIND_COUNT];
    memset(prev, 0, sizeof prev);
    size_t len = 1;
    rec[0] = 0; /* control byte: claim the records that decode */
    for (int rep = 0; rep < 2; rep++)
        for (int i = 0; i < n; i++)
            len += cs__trace_encode(&ops[i], prev, rec + len);
    rc |= write_seed(argv[1], "records-every-kind", 2, rec, len);
    return rc;
}

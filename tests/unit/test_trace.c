/* test_trace — the trace module (traces/trace.h, docs/trace-format.md): binary round trips over
 * every op kind and extreme values, bounded reader memory, one test per corruption with its
 * status, byte offset and message, atomic output, the plain-text form, the CLI, and the
 * compression ratio of a realistic GEMM stream. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "cmd_trace.h"
#include "trace.h"
#include "trace_int.h"

/* ---- fixture: a private temporary directory per test --------------------------------------- */

static char tmpdir[64];

static void setup(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/cs_test_trace.XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
}

static void teardown(void)
{
    DIR *d = opendir(tmpdir);
    if (!d)
        return;
    struct dirent *e;
    char p[512];
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
            unlink(p);
        }
    closedir(d);
    rmdir(tmpdir);
}

TestSuite(trace, .init = setup, .fini = teardown);

static const char *tpath(const char *name)
{
    static char bufs[4][512];
    static int next;
    char *b = bufs[next++ % 4];
    snprintf(b, 512, "%s/%s", tmpdir, name);
    return b;
}

static int dir_entries(void)
{
    DIR *d = opendir(tmpdir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n;
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *d = malloc((size_t)n + 1);
    cr_assert_eq(fread(d, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return d;
}

static void spit(const char *path, const void *d, size_t len)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(d, 1, len, f), len);
    fclose(f);
}

static void spit_text(const char *path, const char *text)
{
    spit(path, text, strlen(text));
}

static bool has_msg(const cs_err *e, const char *needle)
{
    for (int i = 0; i < e->count && i < CS_ERR_MAX; i++)
        if (strstr(e->msg[i], needle))
            return true;
    return false;
}

/* ---- op generation ------------------------------------------------------------------------- */

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* A value for a field of w bits, biased to the edges where encodings break. */
static uint64_t edge_value(uint64_t *rng, unsigned w)
{
    uint64_t max = w >= 64 ? UINT64_MAX : (UINT64_C(1) << w) - 1;
    switch (splitmix(rng) % 8) {
    case 0: return 0;
    case 1: return max;
    case 2: return max - 1;
    case 3: return max >> 1; /* largest positive delta from 0 */
    case 4: return (max >> 1) + 1;
    case 5: return splitmix(rng) % 5;
    default: return splitmix(rng) & max;
    }
}

static cs_op random_op(uint64_t *rng)
{
    cs_op op;
    memset(&op, 0, sizeof op);
    op.kind = (uint8_t)(splitmix(rng) % CS_OP_KIND_COUNT);
    uint16_t fields = cs__trace_kind_fields(op.kind);
    for (int f = 0; f < CS__F_COUNT; f++) {
        if (!(fields & (1u << f)))
            continue;
        uint64_t v = edge_value(rng, cs__trace_fields[f].width_bits);
        if (f == CS__F_DTYPE)
            v = splitmix(rng) % CS_DTYPE_COUNT;
        if (f == CS__F_FLAGS)
            v = splitmix(rng) & cs__trace_kind_flags(op.kind);
        cs__trace_field_set(&op, f, v);
    }
    return op;
}

static void assert_op_eq(const cs_op *a, const cs_op *b, const char *where)
{
    cr_assert_eq(a->kind, b->kind, "%s: kind %u vs %u", where, a->kind, b->kind);
    cr_assert_eq(a->dtype, b->dtype, "%s: dtype", where);
    cr_assert_eq(a->warp, b->warp, "%s: warp", where);
    cr_assert_eq(a->flags, b->flags, "%s: flags", where);
    cr_assert_eq(a->seq, b->seq, "%s: seq", where);
    cr_assert_eq(a->tag, b->tag, "%s: tag", where);
    cr_assert_eq(a->x, b->x, "%s: x", where);
    cr_assert_eq(a->addr, b->addr, "%s: addr %llx vs %llx", where, (unsigned long long)a->addr,
                 (unsigned long long)b->addr);
    cr_assert_eq(a->local, b->local, "%s: local", where);
    cr_assert_eq(a->rows, b->rows, "%s: rows", where);
    cr_assert_eq(a->row_bytes, b->row_bytes, "%s: row_bytes", where);
    cr_assert_eq(a->stride, b->stride, "%s: stride", where);
}

/* ---- a standard random trace ---------------------------------------------------------------- */

enum { NS = 5 };
static const cs_stream_info layout[NS] = {
    {CS_STREAM_SM, 0}, {CS_STREAM_SM, 1}, {CS_STREAM_SM, 7}, {CS_STREAM_CIM, 0},
    {CS_STREAM_CIM, 3}};
/* Lengths straddle chunk boundaries (chunk_records 100): empty, one short, exact, long. */
static const uint64_t lengths[NS] = {4000, 0, 100, 12345, 99};
static const cs_trace_kv kvs[] = {{"seed", "42"}, {"sweep.point", "a \"quoted\" # value"},
                                  {"empty", ""}};

static cs_trace_meta std_meta(void)
{
    cs_trace_meta m = {"test_trace", "9.9.9", "a100", "1,4096,4096", "www rp=8\nline two",
                       kvs, 3, NS, layout};
    return m;
}

static uint64_t stream_seed(uint32_t s)
{
    return 1000 + s;
}

/* Writes lengths[s] random ops to each stream, interleaving streams at random. */
static void write_std(const char *path, uint32_t chunk_records)
{
    cs_trace_meta m = std_meta();
    cs_trace_writer_opts o = {chunk_records, 0};
    cs_trace_writer *w;
    cs_err err;
    cs_err_init(&err);
    cr_assert_eq(cs_trace_writer_create(path, &m, &o, &w, &err), CS_OK, "%s", err.msg[0]);
    uint64_t rng[NS], left[NS], total = 0, order = 7;
    for (uint32_t s = 0; s < NS; s++) {
        rng[s] = stream_seed(s);
        left[s] = lengths[s];
        total += lengths[s];
    }
    while (total) {
        uint32_t s = (uint32_t)(splitmix(&order) % NS);
        if (!left[s])
            continue;
        cs_op op = random_op(&rng[s]);
        cr_assert_eq(cs_trace_write(w, s, &op, &err), CS_OK, "%s", err.msg[0]);
        left[s]--;
        total--;
    }
    cr_assert_eq(cs_trace_writer_finish(w, &err), CS_OK, "%s", err.msg[0]);
}

/* Reads every stream back (round-robin, so cursors interleave) and compares every op. */
static void verify_std(cs_trace_reader *r)
{
    uint64_t rng[NS], got[NS] = {0};
    bool done[NS] = {false};
    for (uint32_t s = 0; s < NS; s++)
        rng[s] = stream_seed(s);
    cs_opsrc *src = cs_trace_reader_src(r);
    cr_assert_eq(src->nstreams, NS);
    int open = NS;
    cs_err err;
    cs_err_init(&err);
    while (open) {
        for (uint32_t s = 0; s < NS; s++) {
            if (done[s])
                continue;
            for (int k = 0; k < 37 && !done[s]; k++) {
                cs_op op;
                bool eof;
                cr_assert_eq(cs_opsrc_next(src, s, &op, &eof, &err), CS_OK, "%s", err.msg[0]);
                if (eof) {
                    cr_assert_eq(got[s], lengths[s], "stream %u: %llu ops, wrote %llu", s,
                                 (unsigned long long)got[s], (unsigned long long)lengths[s]);
                    done[s] = true;
                    open--;
                    break;
                }
                cs_op want = random_op(&rng[s]);
                char where[64];
                snprintf(where, sizeof where, "stream %u op %llu", s, (unsigned long long)got[s]);
                assert_op_eq(&op, &want, where);
                got[s]++;
            }
        }
    }
    cs_op op;
    bool eof = false;
    cr_assert_eq(cs_opsrc_next(src, 0, &op, &eof, &err), CS_OK);
    cr_assert(eof, "end of stream is sticky");
}

Test(trace, round_trip_every_kind_many_chunks)
{
    long live = cs_alloc_live_blocks();
    const char *p = tpath("t.cstr");
    write_std(p, 100);
    cs_err err;
    cs_err_init(&err);
    cs_trace_reader *r;
    cr_assert_eq(cs_trace_open(p, &r, &err), CS_OK, "%s", err.msg[0]);
    const cs_trace_meta *m = cs_trace_reader_meta(r);
    cr_assert_str_eq(m->producer, "test_trace");
    cr_assert_str_eq(m->cimsim_version, "9.9.9");
    cr_assert_str_eq(m->arch, "a100");
    cr_assert_str_eq(m->workload, "1,4096,4096");
    cr_assert_str_eq(m->mapping, "www rp=8\nline two");
    cr_assert_eq(m->nkv, 3);
    for (int i = 0; i < 3; i++) {
        cr_assert_str_eq(m->kv[i].key, kvs[i].key);
        cr_assert_str_eq(m->kv[i].value, kvs[i].value);
    }
    cr_assert_eq(m->nstreams, NS);
    for (int s = 0; s < NS; s++) {
        cr_assert_eq(m->streams[s].kind, layout[s].kind);
        cr_assert_eq(m->streams[s].unit, layout[s].unit);
        cs_trace_stream_stats ss;
        cs_trace_reader_stream_stats(r, (uint32_t)s, &ss);
        cr_assert_eq(ss.records, lengths[s]);
        cr_assert_eq(ss.chunks, (lengths[s] + 99) / 100, "stream %d: %llu chunks", s,
                     (unsigned long long)ss.chunks);
    }
    cr_assert_eq(cs_trace_reader_chunk_records(r), 100);
    verify_std(r);
    cs_opsrc_destroy(cs_trace_reader_src(r)); /* closes the reader */

    uint64_t records = 0, chunks = 0;
    cr_assert_eq(cs_trace_check(p, &records, &chunks, &err), CS_OK, "%s", err.msg[0]);
    cr_assert_eq(records, 4000 + 100 + 12345 + 99);
    cr_assert_eq(chunks, 40 + 1 + 124 + 1);

    size_t len;
    uint8_t *d = slurp(p, &len);
    cr_assert_eq(cs_trace_open_mem(d, len, "mem", &r, &err), CS_OK, "%s", err.msg[0]);
    verify_std(r);
    cs_trace_close(r);
    cr_assert_eq(cs_trace_check_mem(d, len, "mem", NULL, NULL, &err), CS_OK);
    free(d);
    cr_assert_eq(cs_alloc_live_blocks(), live, "everything freed");
}

Test(trace, round_trip_default_chunks_and_levels)
{
    const char *p = tpath("t.cstr");
    write_std(p, 0);
    cs_err err;
    cs_err_init(&err);
    cs_trace_reader *r;
    cr_assert_eq(cs_trace_open(p, &r, &err), CS_OK, "%s", err.msg[0]);
    cr_assert_eq(cs_trace_reader_chunk_records(r), CS_TRACE_DEFAULT_CHUNK_RECORDS);
    verify_std(r);
    cs_trace_close(r);
    /* one record per chunk: the extreme of chunking */
    write_std(p, 1);
    cr_assert_eq(cs_trace_open(p, &r, &err), CS_OK, "%s", err.msg[0]);
    verify_std(r);
    cs_trace_close(r);
    cr_assert_eq(cs_trace_check(p, NULL, NULL, &err), CS_OK, "%s", err.msg[0]);
}

Test(trace, extreme_values_every_kind)
{
    /* Every kind with all valid fields at their maximum, then zero, then maximum: the largest
     * deltas in both directions. */
    const char *p = tpath("x.cstr");
    cs_stream_info one = {CS_STREAM_SM, 0};
    cs_trace_meta m = {.nstreams = 1, .streams = &one};
    cs_trace_writer *w;
    cs_err err;
    cs_err_init(&err);
    cr_assert_eq(cs_trace_writer_create(p, &m, NULL, &w, &err), CS_OK);
    cs_op ops[CS_OP_KIND_COUNT * 3];
    int n = 0;
    for (int rep = 0; rep < 3; rep++)
        for (int k = 0; k < CS_OP_KIND_COUNT; k++) {
            cs_op op;
            memset(&op, 0, sizeof op);
            op.kind = (uint8_t)k;
            uint16_t fields = cs__trace_kind_fields(k);
            for (int f = 0; f < CS__F_COUNT && rep != 1; f++) {
                if (!(fields & (1u << f)))
                    continue;
                unsigned wb = cs__trace_fields[f].width_bits;
                uint64_t v = wb >= 64 ? UINT64_MAX : (UINT64_C(1) << wb) - 1;
                if (f == CS__F_DTYPE)
                    v = CS_DTYPE_COUNT - 1;
                if (f == CS__F_FLAGS)
                    v = cs__trace_kind_flags(k);
                cs__trace_field_set(&op, f, v);
            }
            ops[n++] = op;
            cr_assert_eq(cs_trace_write(w, 0, &op, &err), CS_OK, "%s", err.msg[0]);
        }
    cr_assert_eq(cs_trace_writer_finish(w, &err), CS_OK);
    cs_trace_reader *r;
    cr_assert_eq(cs_trace_open(p, &r, &err), CS_OK);
    for (int i = 0; i <= n; i++) {
        cs_op op;
        bool eof;
        cr_assert_eq(cs_trace_next(r, 0, &op, &eof, &err), CS_OK, "%s", err.msg[0]);
        cr_assert_eq(eof, i == n);
        if (i < n)
            assert_op_eq(&op, &ops[i], cs_op_kind_name(ops[i].kind));
    }
    cs_trace_close(r);
}

Test(trace, codec_record_size_bound)
{
    /* The largest record: every field changed by the widest zigzag value. */
    cs_op prev[CS_OP_KIND_COUNT];
    memset(prev, 0, sizeof prev);
    uint8_t buf[CS_TRACE_RECORD_MAX_BYTES + 8];
    size_t worst = 0;
    uint64_t rng = 3;
    for (int i = 0; i < 200000; i++) {
        cs_op op = random_op(&rng);
        size_t n = cs__trace_encode(&op, prev, buf);
        cr_assert_leq(n, CS_TRACE_RECORD_MAX_BYTES);
        if (n > worst)
            worst = n;
    }
    cr_assert_geq(worst, 40, "random edge values reach long records (%zu)", worst);
}

/* ---- bounded memory -------------------------------------------------------------------------- */

/* Writes `chunks` chunks of 256 records to each of 4 streams; returns the most bytes the reader
 * buffered while reading all streams in lock step. */
static size_t read_peak(const char *p, int chunks)
{
    cs_stream_info lay[4] = {{0, 0}, {0, 1}, {0, 2}, {1, 0}};
    cs_trace_meta m = {.nstreams = 4, .streams = lay};
    cs_trace_writer_opts o = {256, 0};
    cs_trace_writer *w;
    cs_err err;
    cs_err_init(&err);
    cr_assert_eq(cs_trace_writer_create(p, &m, &o, &w, &err), CS_OK);
    uint64_t rng = 9;
    for (int i = 0; i < 256 * chunks; i++)
        for (uint32_t s = 0; s < 4; s++) {
            cs_op op = random_op(&rng);
            cr_assert_eq(cs_trace_write(w, s, &op, &err), CS_OK);
        }
    cr_assert_eq(cs_trace_writer_finish(w, &err), CS_OK);
    cs_trace_reader *r;
    cr_assert_eq(cs_trace_open(p, &r, &err), CS_OK);
    size_t peak = 0;
    uint64_t n = 0;
    for (bool more = true; more;) {
        more = false;
        for (uint32_t s = 0; s < 4; s++) {
            cs_op op;
            bool eof;
            cr_assert_eq(cs_trace_next(r, s, &op, &eof, &err), CS_OK, "%s", err.msg[0]);
            more |= !eof;
            n += !eof;
        }
        size_t b = cs_trace_reader_buffered_bytes(r);
        if (b > peak)
            peak = b;
    }
    cr_assert_eq(n, (uint64_t)4 * 256 * chunks);
    cs_trace_close(r);
    return peak;
}

Test(trace, reader_memory_independent_of_length)
{
    size_t short_peak = read_peak(tpath("short.cstr"), 4);
    size_t long_peak = read_peak(tpath("long.cstr"), 200);
    /* One decoded chunk per stream plus one compressed chunk: chunk-bounded, never more. */
    size_t bound = 4 * (256 * CS_TRACE_RECORD_MAX_BYTES + 1024) + 2 * 256 * CS_TRACE_RECORD_MAX_BYTES;
    cr_assert_leq(long_peak, bound, "long trace peak %zu > bound %zu", long_peak, bound);
    cr_assert_leq(short_peak, bound);
    /* 50x more data, (nearly) the same memory: chunk sizes vary a little with content. */
    cr_assert_lt(long_peak, short_peak + short_peak / 4, "short %zu, long %zu", short_peak,
                 long_peak);
}

/* ---- corruption: one test per problem ---------------------------------------------------------- */

static const char *CORRUPT = "c.cstr";

/* A small valid trace; returns its bytes. */
static uint8_t *valid_trace(size_t *len)
{
    write_std(tpath(CORRUPT), 100);
    return slurp(tpath(CORRUPT), len);
}

static uint64_t header_end(const uint8_t *d)
{
    return 8 + (uint64_t)cs__get_u32(d + 4);
}

/* Checks bytes d[0..len) as a file and in memory; both must give status st with a message
 * naming byte `at` and containing `what`. */
static void expect_check(const uint8_t *d, size_t len, cs_status st, uint64_t at, const char *what)
{
    const char *p = tpath("bad.cstr");
    spit(p, d, len);
    char needle[128];
    snprintf(needle, sizeof needle, "bad.cstr: byte %llu: error: ", (unsigned long long)at);
    for (int mem = 0; mem < 2; mem++) {
        cs_err err;
        cs_err_init(&err);
        cs_status got = mem ? cs_trace_check_mem(d, len, p, NULL, NULL, &err)
                            : cs_trace_check(p, NULL, NULL, &err);
        cr_assert_eq(got, st, "%s: status %s, want %s (%s)", mem ? "mem" : "file",
                     cs_status_str(got), cs_status_str(st), err.count ? err.msg[0] : "");
        cr_assert_eq(err.count, 1, "exactly the first problem is reported");
        cr_assert(strstr(err.msg[0], needle), "message '%s' lacks '%s'", err.msg[0], needle);
        cr_assert(strstr(err.msg[0], what), "message '%s' lacks '%s'", err.msg[0], what);
    }
}

Test(trace, corrupt_truncated)
{
    size_t len;
    uint8_t *d = valid_trace(&len);
    expect_check(d, len / 2, CS_TRUNCATED, len / 2, "truncated");
    expect_check(d, len - 1, CS_TRUNCATED, len - 1, "truncated");
    expect_check(d, 13, CS_TRUNCATED, 13, "truncated");
    expect_check(d, 100, CS_TRUNCATED, 100, "truncated"); /* inside the header */
    expect_check(d, 0, CS_TRUNCATED, 0, "truncated");
    free(d);
}

Test(trace, corrupt_bad_magic)
{
    size_t len;
    uint8_t *d = valid_trace(&len);
    d[0] ^= 0x01;
    expect_check(d, len, CS_BAD_MAGIC, 0, "bad magic");
    d[0] ^= 0x01;
    d[9] = 'X'; /* a skippable frame, but not ours */
    expect_check(d, len, CS_BAD_MAGIC, 8, "bad magic");
    expect_check((const uint8_t *)"hello, world: not a trace at all\n", 33, CS_BAD_MAGIC, 0,
                 "bad magic");
    free(d);
}

Test(trace, corrupt_future_version)
{
    size_t len;
    uint8_t *d = valid_trace(&len);
    cs__put_u32(d + 16, 3);
    expect_check(d, len, CS_BAD_VERSION, 16, "unsupported trace format version 3");
    cs__put_u32(d + 16, 0);
    expect_check(d, len, CS_BAD_VERSION, 16, "unsupported trace format version 0");
    /* The version is refused before anything else, even with the rest missing. */
    expect_check(d, 20, CS_BAD_VERSION, 16, "reads versions 1 to 2");
    free(d);
}

Test(trace, corrupt_flipped_byte_in_chunk)
{
    size_t len;
    uint8_t *d = valid_trace(&len);
    uint64_t first = header_end(d); /* the first chunk frame starts right after the header */
    d[first + 9] ^= 0x40;
    expect_check(d, len, CS_CHECKSUM, first, "checksum mismatch in the compressed chunk");
    /* With the format's own crcs repaired, zstd's content checksum still catches a damaged
     * checksum field (the frame's last 4 bytes), and damaged data one way or another. */
    d[first + 9] ^= 0x40;
    /* Find the first chunk's size from the index: entries of stream 0 come first. */
    uint8_t *t = d + len - CS__TRACE_TAIL_BYTES;
    uint64_t io = cs__get_u64(t);
    cs__trace_entry e;
    cs__trace_entry_get(d + io + 8 + CS__TRACE_INDEX_HEAD_BYTES + 8 * NS, &e);
    cr_assert_eq(e.offset, first, "stream 0's first chunk is the file's first");
    d[e.offset + e.compressed_bytes - 1] ^= 0x01;
    cs__trace_fix_checksums(d, len);
    expect_check(d, len, CS_CHECKSUM, first, "zstd content checksum mismatch");
    free(d);
}

Test(trace, corrupt_header_index_footer_checksums)
{
    size_t len;
    uint8_t *d = valid_trace(&len);
    d[40] ^= 0x20; /* inside the producer string */
    expect_check(d, len, CS_CHECKSUM, 8, "header checksum mismatch");
    d[40] ^= 0x20;
    uint64_t io = cs__get_u64(d + len - CS__TRACE_TAIL_BYTES);
    d[io + 8 + CS__TRACE_INDEX_HEAD_BYTES + 8 * NS + 3] ^= 1;
    expect_check(d, len, CS_CHECKSUM, io, "index checksum mismatch");
    d[io + 8 + CS__TRACE_INDEX_HEAD_BYTES + 8 * NS + 3] ^= 1;
    uint64_t foff = len - 8 - (8 * NS + CS__TRACE_TAIL_BYTES);
    d[foff + 8] ^= 1; /* stream 0's record total */
    expect_check(d, len, CS_CHECKSUM, foff, "footer checksum mismatch");
    free(d);
}

/* A trace whose stream 1 gets a hand-made chunk, the file's first (stream 0's few valid ops
 * are still pending then); *chunk_off receives its offset. */
static uint8_t *raw_trace(const uint8_t *rec, size_t n, uint32_t records, size_t *len,
                          uint64_t *chunk_off)
{
    const char *p = tpath("raw.cstr");
    cs_stream_info lay[2] = {{0, 0}, {0, 1}};
    cs_trace_meta m = {.nstreams = 2, .streams = lay};
    cs_trace_writer *w;
    cs_err err;
    cs_err_init(&err);
    cr_assert_eq(cs_trace_writer_create(p, &m, NULL, &w, &err), CS_OK);
    uint64_t rng = 5;
    for (int i = 0; i < 10; i++) {
        cs_op op = random_op(&rng);
        cr_assert_eq(cs_trace_write(w, 0, &op, &err), CS_OK);
    }
    cr_assert_eq(cs__trace_write_raw(w, 1, rec, n, records, &err), CS_OK);
    cr_assert_eq(cs_trace_writer_finish(w, &err), CS_OK, "%s", err.msg[0]);
    uint8_t *d = slurp(p, len);
    *chunk_off = header_end(d);
    return d;
}

/* Encodes ops as one chunk's bytes. */
static size_t encode(const cs_op *ops, int n, uint8_t *out)
{
    cs_op prev[CS_OP_KIND_COUNT];
    memset(prev, 0, sizeof prev);
    size_t len = 0;
    for (int i = 0; i < n; i++)
        len += cs__trace_encode(&ops[i], prev, out + len);
    return len;
}

Test(trace, corrupt_wrong_record_count)
{
    cs_op ops[3] = {{.kind = CS_OP_BAR, .tag = 1}, {.kind = CS_OP_BAR, .tag = 2},
                    {.kind = CS_OP_MMA, .rows = 16, .row_bytes = 8, .stride = 16}};
    uint8_t rec[3 * CS_TRACE_RECORD_MAX_BYTES];
    size_t n = encode(ops, 3, rec);
    size_t len;
    uint64_t at;
    uint8_t *d = raw_trace(rec, n, 4, &len, &at); /* 3 records, the index says 4 */
    expect_check(d, len, CS_FORMAT, at, "record count: stream 1 chunk 0 holds 3 records, the "
                                        "index says 4");
    free(d);
    d = raw_trace(rec, n, 2, &len, &at); /* 3 records, the index says 2 */
    expect_check(d, len, CS_FORMAT, at, "record count");
    free(d);

    /* The footer's per-stream total disagreeing with the index. */
    size_t vlen;
    uint8_t *v = valid_trace(&vlen);
    uint64_t foff = vlen - 8 - (8 * NS + CS__TRACE_TAIL_BYTES);
    cs__put_u64(v + foff + 8 + 8 * 3, lengths[3] + 1);
    cs__put_u64(v + vlen - CS__TRACE_TAIL_BYTES + 24, 4000 + 100 + 12345 + 99 + 1);
    cs__trace_fix_checksums(v, vlen);
    expect_check(v, vlen, CS_FORMAT, foff + 8 + 8 * 3,
                 "record count: stream 3: the index lists 12345 records, the footer 12346");
    free(v);
}

Test(trace, corrupt_unknown_op_kind)
{
    cs_op ok = {.kind = CS_OP_CTA_BEGIN, .x = 3, .rows = 8};
    uint8_t rec[64];
    size_t n = encode(&ok, 1, rec);
    rec[n++] = 99; /* kind 99, no fields */
    rec[n++] = 0;
    size_t len;
    uint64_t at;
    uint8_t *d = raw_trace(rec, n, 2, &len, &at);
    expect_check(d, len, CS_FORMAT, at, "unknown op kind 99");

    /* The replaying reader meets it mid-stream: the first op is fine, the second is an error
     * with the same message; stream 0 is unaffected. */
    cs_trace_reader *r;
    cs_err err;
    cs_err_init(&err);
    cr_assert_eq(cs_trace_open_mem(d, len, "m.cstr", &r, &err), CS_OK);
    cs_op op;
    bool eof;
    cr_assert_eq(cs_trace_next(r, 1, &op, &eof, &err), CS_OK);
    assert_op_eq(&op, &ok, "first op");
    cr_assert_eq(cs_trace_next(r, 1, &op, &eof, &err), CS_FORMAT);
    cr_assert(has_msg(&err, "unknown op kind 99"), "%s", err.msg[0]);
    char needle[64];
    snprintf(needle, sizeof needle, "m.cstr: byte %llu: error:", (unsigned long long)at);
    cr_assert(has_msg(&err, needle), "%s", err.msg[0]);
    cr_assert_eq(cs_trace_next(r, 1, &op, &eof, &err), CS_FORMAT, "a failed stream stays failed");
    for (int i = 0; i <= 10; i++)
        cr_assert_eq(cs_trace_next(r, 0, &op, &eof, &err), CS_OK);
    cr_assert(eof);
    cs_trace_close(r);
    free(d);
}

Test(trace, corrupt_records_break_kind_rules)
{
    /* A nonzero field the kind does not use, a flag it does not allow, an unknown dtype, a
     * record cut short: all malformed records, reported with the chunk's offset. */
    struct {
        uint8_t bytes[8];
        size_t n;
        const char *what;
    } cases[] = {
        {{CS_OP_BAR, 1u << CS__F_ADDR, 2}, 3, "bar: field addr not valid for this kind"},
        {{CS_OP_LDG, 1u << CS__F_FLAGS, 2}, 3, "ldg: field flags not valid"},
        {{CS_OP_LDS, 1u << CS__F_FLAGS, 4}, 3, "lds: flag from_smem (0x2) not valid"},
        {{CS_OP_MMA, 0x80, 0x04, 2 * 2}, 4, "mma: unknown dtype 2"},
        {{CS_OP_CP_ASYNC, 1u << CS__F_ADDR, 0x80}, 3, "runs past the end of the chunk"},
        {{CS_OP_BAR, 1u << CS__F_TAG, 0xff, 0xff, 0xff, 0xff, 0x7f}, 7, "does not fit 32 bits"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len;
        uint64_t at;
        uint8_t *d = raw_trace(cases[i].bytes, cases[i].n, 1, &len, &at);
        expect_check(d, len, CS_FORMAT, at, cases[i].what);
        free(d);
    }
}

Test(trace, corrupt_chunk_mid_replay)
{
    /* A damaged chunk of one stream fails that stream when it gets there, not at open. */
    size_t len;
    uint8_t *d = valid_trace(&len);
    uint64_t io = cs__get_u64(d + len - CS__TRACE_TAIL_BYTES);
    /* stream 3's 5th chunk: entries of streams 0..2 come first (40 + 0 + 1 of them) */
    cs__trace_entry e;
    cs__trace_entry_get(d + io + 8 + CS__TRACE_INDEX_HEAD_BYTES + 8 * NS + 32 * (41 + 4), &e);
    cr_assert_eq(e.stream, 3);
    d[e.offset + e.compressed_bytes / 2] ^= 0x10;
    cs_trace_reader *r;
    cs_err err;
    cs_err_init(&err);
    cr_assert_eq(cs_trace_open_mem(d, len, "m", &r, &err), CS_OK, "open checks no chunks");
    cs_op op;
    bool eof;
    uint64_t n = 0;
    cs_status st;
    while ((st = cs_trace_next(r, 3, &op, &eof, &err)) == CS_OK && !eof)
        n++;
    cr_assert_eq(st, CS_CHECKSUM);
    cr_assert_eq(n, 400, "the four good chunks are read (%llu ops)", (unsigned long long)n);
    char needle[64];
    snprintf(needle, sizeof needle, "m: byte %llu: error: stream 3 chunk 4",
             (unsigned long long)e.offset);
    cr_assert(has_msg(&err, needle), "%s", err.msg[0]);
    cs_trace_close(r);
    free(d);
}

Test(trace, corrupt_any_byte_is_detected)
{
    /* Every byte of a trace is covered by a checksum, a magic number or a consistency rule:
     * changing any one of them is reported, with a byte offset. */
    cs_stream_info lay[2] = {{0, 0}, {1, 0}};
    cs_trace_meta m = {.arch = "a100", .nstreams = 2, .streams = lay};
    cs_trace_writer_opts o = {8, 0};
    cs_trace_writer *w;
    cs_err err;
    cs_err_init(&err);
    const char *p = tpath("small.cstr");
    cr_assert_eq(cs_trace_writer_create(p, &m, &o, &w, &err), CS_OK);
    uint64_t rng = 11;
    for (int i = 0; i < 20; i++) {
        cs_op op = random_op(&rng);
        cr_assert_eq(cs_trace_write(w, (uint32_t)(i % 2), &op, &err), CS_OK);
    }
    cr_assert_eq(cs_trace_writer_finish(w, &err), CS_OK);
    size_t len;
    uint8_t *d = slurp(p, &len);
    for (size_t i = 0; i < len; i++) {
        d[i] ^= 0x5a;
        cs_err_init(&err);
        cs_status st = cs_trace_check_mem(d, len, "m", NULL, NULL, &err);
        cr_assert_neq(st, CS_OK, "a change at byte %zu went unnoticed", i);
        cr_assert_eq(err.count, 1);
        cr_assert(strstr(err.msg[0], ": byte "), "%s", err.msg[0]);
        d[i] ^= 0x5a;
    }
    cr_assert_eq(cs_trace_check_mem(d, len, "m", NULL, NULL, &err), CS_OK);
    free(d);
}

/* ---- writer -------------------------------------------------------------------------------- */

Test(trace, writer_refuses_invalid_ops)
{
    const char *p = tpath("w.cstr");
    cs_stream_info one = {CS_STREAM_SM, 0};
    cs_trace_meta m = {.nstreams = 1, .streams = &one};
    cs_trace_writer *w;
    cs_err err;
    cs_err_init(&err);
    cr_assert_eq(cs_trace_writer_create(p, &m, NULL, &w, &err), CS_OK);
    struct {
        cs_op op;
        const char *what;
    } bad[] = {
        {{.kind = 14}, "unknown op kind 14"},
        {{.kind = CS_OP_MMA, .seq = 1}, "mma: field seq must be zero"},
        {{.kind = CS_OP_CTA_BEGIN, .warp = 1}, "cta_begin: field warp must be zero"},
        {{.kind = CS_OP_LDG, .flags = CS_OPF_SWIZZLE}, "ldg: field flags must be zero"},
        {{.kind = CS_OP_STS, .flags = CS_OPF_ACCUM}, "sts: flag accum (0x8) not valid"},
        {{.kind = CS_OP_CIM_MAC, .dtype = 7}, "cim_mac: unknown dtype 7"},
        {{.kind = CS_OP_BAR, .seq = 1}, "bar: field seq must be zero"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cs_err_init(&err);
        cr_assert_eq(cs_trace_write(w, 0, &bad[i].op, &err), CS_INVALID);
        cr_assert(has_msg(&err, bad[i].what), "'%s' lacks '%s'", err.msg[0], bad[i].what);
    }
    cs_op good = {.kind = CS_OP_BAR, .tag = 1};
    cs_err_init(&err);
    cr_assert_eq(cs_trace_write(w, 1, &good, &err), CS_INVALID);
    cr_assert(has_msg(&err, "stream 1 out of range"));
    cr_assert_eq(cs_trace_write(w, 0, &good, &err), CS_OK, "the writer stays usable");
    cr_assert_eq(cs_trace_writer_finish(w, &err), CS_OK);
    uint64_t records;
    cr_assert_eq(cs_trace_check(p, &records, NULL, &err), CS_OK);
    cr_assert_eq(records, 1);
}

Test(trace, writer_refuses_bad_meta)
{
    cs_stream_info dup[2] = {{CS_STREAM_SM, 4}, {CS_STREAM_SM, 4}};
    cs_trace_meta m = {.nstreams = 2, .streams = dup};
    cs_trace_writer *w;
    cs_err err;
    cs_err_init(&err);
    cr_assert_eq(cs_trace_writer_create(tpath("m.cstr"), &m, NULL, &w, &err), CS_INVALID);
    cr_assert(has_msg(&err, "two streams for sm 4"));
    cs_trace_kv kv = {"bad key", "v"};
    cs_trace_meta m2 = {.kv = &kv, .nkv = 1, .nstreams = 1, .streams = dup};
    cr_assert_eq(cs_trace_writer_create(tpath("m.cstr"), &m2, NULL, &w, &err), CS_INVALID);
    cs_trace_meta m3 = {.nstreams = 0, .streams = dup};
    cr_assert_eq(cs_trace_writer_create(tpath("m.cstr"), &m3, NULL, &w, &err), CS_INVALID);
    cs_trace_writer_opts o = {CS_TRACE_MAX_CHUNK_RECORDS + 1, 0};
    cr_assert_eq(cs_trace_writer_create(tpath("m.cstr"), &m, &o, &w, &err), CS_INVALID);
    cr_assert_eq(dir_entries(), 0, "nothing created");
    cs_trace_meta m4 = {.nstreams = 1, .streams = dup};
    cr_assert_eq(cs_trace_writer_create("/nonexistent-dir/x.cstr", &m4, NULL, &w, &err), CS_IO);
}

Test(trace, writer_abort_leaves_nothing)
{
    long live = cs_alloc_live_blocks();
    const char *p = tpath("a.cstr");
    cs_stream_info one = {CS_STREAM_CIM, 2};
    cs_trace_meta m = {.nstreams = 1, .streams = &one};
    cs_trace_writer_opts o = {10, 0};
    cs_trace_writer *w;
    cs_err err;
    cs_err_init(&err);
    cr_assert_eq(cs_trace_writer_create(p, &m, &o, &w, &err), CS_OK);
    uint64_t rng = 1;
    for (int i = 0; i < 1000; i++) {
        cs_op op = random_op(&rng);
        cr_assert_eq(cs_trace_write(w, 0, &op, &err), CS_OK);
    }
    struct stat sb;
    cr_assert_neq(stat(p, &sb), 0, "nothing at the final path while writing");
    cs_trace_writer_abort(w);
    cr_assert_neq(stat(p, &sb), 0, "nothing at the final path after abort");
    cr_assert_eq(dir_entries(), 0, "no temporary file left behind");
    cs_trace_writer_abort(NULL);
    cr_assert_eq(cs_alloc_live_blocks(), live);
}

Test(trace, writer_replaces_atomically)
{
    const char *p = tpath("r.cstr");
    spit_text(p, "old contents");
    cs_stream_info one = {CS_STREAM_SM, 0};
    cs_trace_meta m = {.nstreams = 1, .streams = &one};
    cs_trace_writer *w;
    cs_err err;
    cs_err_init(&err);
    cr_assert_eq(cs_trace_writer_create(p, &m, NULL, &w, &err), CS_OK);
    cs_op op = {.kind = CS_OP_BAR};
    for (int i = 0; i < 5000; i++)
        cr_assert_eq(cs_trace_write(w, 0, &op, &err), CS_OK);
    size_t len;
    uint8_t *d = slurp(p, &len);
    cr_assert_eq(len, 12);
    cr_assert_eq(memcmp(d, "old contents", 12), 0, "old file intact until finish");
    free(d);
    cr_assert_eq(cs_trace_writer_finish(w, &err), CS_OK);
    cr_assert_eq(cs_trace_check(p, NULL, NULL, &err), CS_OK);
    cr_assert_eq(dir_entries(), 1, "only the trace remains");
}

Test(trace, empty_streams_trace)
{
    const char *p = tpath("e.cstr");
    cs_trace_meta m = std_meta();
    cs_trace_writer *w;
    cs_err err;
    cs_err_init(&err);
    cr_assert_eq(cs_trace_writer_create(p, &m, NULL, &w, &err), CS_OK);
    cr_assert_eq(cs_trace_writer_finish(w, &err), CS_OK);
    uint64_t records = 1, chunks = 1;
    cr_assert_eq(cs_trace_check(p, &records, &chunks, &err), CS_OK, "%s", err.msg[0]);
    cr_assert_eq(records, 0);
    cr_assert_eq(chunks, 0);
    cs_trace_reader *r;
    cr_assert_eq(cs_trace_open(p, &r, &err), CS_OK);
    for (uint32_t s = 0; s < NS; s++) {
        cs_op op;
        bool eof = false;
        cr_assert_eq(cs_trace_next(r, s, &op, &eof, &err), CS_OK);
        cr_assert(eof);
    }
    cs_op op;
    bool eof;
    cr_assert_eq(cs_trace_next(r, NS, &op, &eof, &err), CS_INVALID);
    cs_trace_close(r);
}

/* ---- plain text -------------------------------------------------------------------------------- */

static char *read_text(const char *path)
{
    size_t len;
    char *t = (char *)slurp(path, &len);
    t[len] = '\0';
    return t;
}

static void dump_to(const char *trace, const char *text, const cs_trace_dump_opts *o)
{
    FILE *f = fopen(text, "w");
    cs_err err;
    cs_err_init(&err);
    cr_assert_eq(cs_trace_dump(trace, f, o, &err), CS_OK, "%s", err.msg[0]);
    fclose(f);
}

Test(trace, text_round_trip)
{
    const char *bin = tpath("t.cstr"), *txt = tpath("t.txt"), *bin2 = tpath("t2.cstr"),
               *txt2 = tpath("t2.txt");
    write_std(bin, 100);
    dump_to(bin, txt, NULL);
    cs_err err;
    cs_err_init(&err);
    cr_assert_eq(cs_trace_import(txt, bin2, &err), CS_OK, "%s", err.msg[0]);
    cs_trace_reader *r;
    cr_assert_eq(cs_trace_open(bin2, &r, &err), CS_OK);
    const cs_trace_meta *m = cs_trace_reader_meta(r);
    cs_trace_meta want = std_meta();
    cr_assert_str_eq(m->producer, want.producer);
    cr_assert_str_eq(m->cimsim_version, want.cimsim_version);
    cr_assert_str_eq(m->mapping, want.mapping, "quoted strings survive");
    cr_assert_eq(m->nkv, 3);
    cr_assert_str_eq(m->kv[1].value, kvs[1].value);
    cr_assert_str_eq(m->kv[2].value, "");
    cr_assert_eq(cs_trace_reader_chunk_records(r), 100);
    verify_std(r);
    cs_trace_close(r);
    /* And the text itself is a fixed point (after the first comment naming the file). */
    dump_to(bin2, txt2, NULL);
    char *a = read_text(txt), *b = read_text(txt2);
    cr_assert_str_eq(strchr(a, '\n'), strchr(b, '\n'));
    free(a);
    free(b);
}

Test(trace, text_dump_selects_and_limits)
{
    const char *bin = tpath("t.cstr"), *txt = tpath("t.txt"), *bin2 = tpath("t2.cstr");
    write_std(bin, 100);
    cs_trace_dump_opts o = {-1, 7, 5};
    dump_to(bin, txt, &o);
    char *t = read_text(txt);
    int ops = 0;
    for (char *l = t; (l = strstr(l, "\nsm 7 ")); l++)
        ops++;
    cr_assert_eq(ops, 5, "--sm 7 --limit 5 gives 5 ops of sm 7:\n%s", t);
    cr_assert(strstr(t, "@streams sm:2 sm:7-7 cim:1 cim:3-3\n"), "%s", t);
    cr_assert_null(strstr(t, "\nsm 0 "));
    free(t);
    cs_err err;
    cs_err_init(&err);
    cr_assert_eq(cs_trace_import(txt, bin2, &err), CS_OK, "a partial dump imports: %s",
                 err.msg[0]);
    cs_trace_stream_stats ss;
    cs_trace_reader *r;
    cr_assert_eq(cs_trace_open(bin2, &r, &err), CS_OK);
    cs_trace_reader_stream_stats(r, 2, &ss);
    cr_assert_eq(ss.records, 5);
    cs_trace_close(r);

    o = (cs_trace_dump_opts){9, -1, 0};
    FILE *f = fopen(txt, "w");
    cs_err_init(&err);
    cr_assert_eq(cs_trace_dump(bin, f, &o, &err), CS_INVALID);
    o = (cs_trace_dump_opts){-1, 3, 0};
    cr_assert_eq(cs_trace_dump(bin, f, &o, &err), CS_INVALID);
    cr_assert(has_msg(&err, "no stream for sm 3"));
    fclose(f);
}

Test(trace, text_import_hand_written)
{
    const char *txt = tpath("h.txt"), *bin = tpath("h.cstr");
    spit_text(txt,
              "# a hand-written trace\n"
              "@arch a100\n"
              "@workload 1,4096,4096\n"
              "@mapping \"www rp=8 \\\"quoted\\\" \\x01\"   # comment after a quoted value\n"
              "@meta seed 42\n"
              "@streams sm:2\n"
              "@streams cim:4-5\n"
              "\n"
              "sm 1 cta_begin x=3 rows=8 row_bytes=49152 stride=128\n"
              "sm 1 cp_async warp=2 addr=0x1000 local=0 rows=4 row_bytes=128 stride=4096 tag=0\n"
              "  sm 1   mma warp=2 rows=16 row_bytes=8 stride=16 dtype=fp16   # trailing\n"
              "cim 5 cim_mac x=1 rows=1 row_bytes=256 stride=64 dtype=int8 flags=from_smem|accum\n"
              "cim 4 cim_read x=0x10 rows=1 row_bytes=0x40 flags=4\n"
              "sm 1 cta_end x=3\n");
    cs_err err;
    cs_err_init(&err);
    cr_assert_eq(cs_trace_import(txt, bin, &err), CS_OK, "%s", err.msg[0]);
    cs_trace_reader *r;
    cr_assert_eq(cs_trace_open(bin, &r, &err), CS_OK);
    const cs_trace_meta *m = cs_trace_reader_meta(r);
    cr_assert_str_eq(m->arch, "a100");
    cr_assert_str_eq(m->mapping, "www rp=8 \"quoted\" \x01");
    cr_assert_str_eq(m->producer, "cimsim trace import");
    cr_assert_str_eq(m->cimsim_version, CIMSIM_VERSION);
    cr_assert_eq(m->nstreams, 4);
    cr_assert_eq(m->streams[3].kind, CS_STREAM_CIM);
    cr_assert_eq(m->streams[3].unit, 5);
    cs_op want[4] = {
        {.kind = CS_OP_CTA_BEGIN, .x = 3, .rows = 8, .row_bytes = 49152, .stride = 128},
        {.kind = CS_OP_CP_ASYNC, .warp = 2, .addr = 0x1000, .rows = 4, .row_bytes = 128,
         .stride = 4096},
        {.kind = CS_OP_MMA, .warp = 2, .rows = 16, .row_bytes = 8, .stride = 16,
         .dtype = CS_DTYPE_FP16},
        {.kind = CS_OP_CTA_END, .x = 3}};
    for (int i = 0; i <= 4; i++) {
        cs_op op;
        bool eof;
        cr_assert_eq(cs_trace_next(r, 1, &op, &eof, &err), CS_OK);
        cr_assert_eq(eof, i == 4);
        if (i < 4)
            assert_op_eq(&op, &want[i], "sm 1");
    }
    cs_op op;
    bool eof;
    cr_assert_eq(cs_trace_next(r, 3, &op, &eof, &err), CS_OK);
    cs_op mac = {.kind = CS_OP_CIM_MAC, .x = 1, .rows = 1, .row_bytes = 256, .stride = 64,
                 .flags = CS_OPF_FROM_SMEM | CS_OPF_ACCUM};
    assert_op_eq(&op, &mac, "cim 5");
    cr_assert_eq(cs_trace_next(r, 2, &op, &eof, &err), CS_OK);
    cs_op rd = {.kind = CS_OP_CIM_READ, .x = 16, .rows = 1, .row_bytes = 64,
                .flags = CS_OPF_TO_SMEM};
    assert_op_eq(&op, &rd, "cim 4");
    cs_trace_close(r);
    char line[256];
    cs_trace_format_op(&want[1], line, sizeof line);
    cr_assert_str_eq(line, "cp_async warp=2 addr=0x1000 local=0 rows=4 row_bytes=128 "
                           "stride=4096 tag=0 flags=0");
}

Test(trace, text_import_errors_with_lines)
{
    const char *txt = tpath("bad.txt"), *bin = tpath("bad.cstr");
    spit_text(txt,
              "@arch a100\n"                                        /* 1 */
              "@streams sm:4 cim:2\n"                               /* 2 */
              "sm 0 frobnicate warp=1\n"                            /* 3 */
              "sm 0 bar warp=1 colour=red\n"                        /* 4 */
              "sm 0 bar warp=1x\n"                                  /* 5 */
              "sm 0 mma seq=0x10\n"                                /* 6 */
              "sm 9 bar\n"                                          /* 7 */
              "cim 2 cim_mac x=1\n"                                 /* 8 */
              "sm 0 bar warp=65536\n"                               /* 9 */
              "sm 0 lds flags=accum\n"                              /* 10 */
              "sm 0 bar tag=1 tag=2\n"                              /* 11 */
              "bar tag=1\n"                                         /* 12 */
              "sm 0 bar\n"                                          /* 13: fine */
              "@workload late\n"                                    /* 14 */
              "sm 0 mma dtype=fp64\n");                             /* 15 */
    cs_err err;
    cs_err_init(&err);
    cr_assert_eq(cs_trace_import(txt, bin, &err), CS_FORMAT);
    const char *want[] = {
        "bad.txt:3: error: unknown op kind 'frobnicate'",
        "bad.txt:4: error: unknown field 'colour'",
        "bad.txt:5: error: bad number '1x' for warp",
        "bad.txt:6: error: field 'seq' not valid for mma",
        "bad.txt:7: error: stream sm 9 out of range",
        "bad.txt:8: error: stream cim 2 out of range",
        "bad.txt:9: error: value 65536 out of range for warp (max 65535)",
        "bad.txt:10: error: lds: flag accum (0x8) not valid",
        "bad.txt:11: error: field 'tag' given twice",
        "bad.txt:12: error: missing stream before op kind 'bar'",
        "bad.txt:14: error: directive @workload after the first op",
        "bad.txt:15: error: unknown dtype 'fp64'",
    };
    cr_assert_eq(err.count, (int)(sizeof want / sizeof want[0]), "%d errors; first: %s",
                 err.count, err.msg[0]);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        cr_assert(strstr(err.msg[i], want[i]), "error %zu: '%s', want '%s'", i, err.msg[i],
                  want[i]);
    struct stat sb;
    cr_assert_neq(stat(bin, &sb), 0, "nothing written");
    cr_assert_eq(dir_entries(), 1, "no temporary files");

    spit_text(txt, "sm 0 bar\n");
    cs_err_init(&err);
    cr_assert_eq(cs_trace_import(txt, bin, &err), CS_FORMAT);
    cr_assert(has_msg(&err, "bad.txt:1: error: no @streams before the first op"), "%s",
              err.msg[0]);
    spit_text(txt, "@streams sm:2 sm:1-1\n@bogus 1\n@meta bad|key 1\n@mapping \"open\n");
    cs_err_init(&err);
    cr_assert_eq(cs_trace_import(txt, bin, &err), CS_FORMAT);
    cr_assert(has_msg(&err, "bad.txt:2: error: unknown directive @bogus"), "%s", err.msg[0]);
    cr_assert(has_msg(&err, "bad.txt:3: error: @meta key 'bad|key'"), "%s", err.msg[1]);
    cr_assert(has_msg(&err, "bad.txt:4: error: unterminated quoted string"), "%s", err.msg[2]);
    spit_text(txt, "@streams sm:2 sm:1-1\n");
    cs_err_init(&err);
    cr_assert_eq(cs_trace_import(txt, bin, &err), CS_FORMAT);
    cr_assert(has_msg(&err, "bad.txt:1: error: @streams lists sm 1 twice"), "%s", err.msg[0]);
    cs_err_init(&err);
    cr_assert_eq(cs_trace_import(tpath("missing.txt"), bin, &err), CS_NOT_FOUND);
}

Test(trace, info_output)
{
    const char *bin = tpath("t.cstr"), *out = tpath("info.txt");
    write_std(bin, 100);
    FILE *f = fopen(out, "w");
    cs_err err;
    cs_err_init(&err);
    cr_assert_eq(cs_trace_info(bin, f, &err), CS_OK);
    fclose(f);
    char *t = read_text(out);
    cr_assert(strstr(t, "arch         a100\n"), "%s", t);
    cr_assert(strstr(t, "meta         sweep.point = \"a \\\"quoted\\\" # value\"\n"), "%s", t);
    cr_assert(strstr(t, "streams      5 (3 sm, 2 cim)\n"), "%s", t);
    cr_assert(strstr(t, "records      16544 in 166 chunks\n"), "%s", t);
    cr_assert(strstr(t, "compression  "), "%s", t);
    cr_assert(strstr(t, "     3 cim           0        12345      124 "), "%s", t);
    free(t);
}

/* ---- compression ------------------------------------------------------------------------------ */

/* The op stream of a tensor-core GEMM as a mapper would emit it: 108 SMs, CTAs of 8 warps,
 * 128x128x32 tiles, 4-stage cp.async pipeline, ldmatrix-style shared loads and m16n8k16 MMAs. */
static uint64_t write_gemm(const char *path, uint64_t *records)
{
    enum { SMS = 108, WARPS = 8, M = 4096, N = 4096, K = 256, KSTEPS = K / 32 };
    cs_stream_info lay[SMS];
    for (uint32_t s = 0; s < SMS; s++)
        lay[s] = (cs_stream_info){CS_STREAM_SM, s};
    cs_trace_kv kv = {"tile", "128x128x32"};
    cs_trace_meta m = {"test_trace gemm", NULL, "a100", "4096,4096,256", "baseline tc",
                       &kv, 1, SMS, lay};
    cs_trace_writer *w;
    cs_err err;
    cs_err_init(&err);
    cr_assert_eq(cs_trace_writer_create(path, &m, NULL, &w, &err), CS_OK);
    const uint64_t a_base = 0x7f0000000000ull, b_base = a_base + (uint64_t)M * K * 2,
                   c_base = b_base + (uint64_t)K * N * 2;
    uint64_t n = 0;
    uint32_t ctas = (M / 128) * (N / 128);
    for (uint32_t cta = 0; cta < ctas; cta++) {
        uint32_t sm = cta % SMS, tm = cta / (N / 128), tn = cta % (N / 128);
        cs_op op = {.kind = CS_OP_CTA_BEGIN, .x = cta, .rows = WARPS, .row_bytes = 65536,
                    .stride = 128};
        cs_trace_write(w, sm, &op, &err);
        n++;
        for (uint32_t k = 0; k < KSTEPS; k++) {
            uint32_t stage = k % 4;
            for (uint16_t wp = 0; wp < WARPS; wp++) {
                cs_op a = {.kind = CS_OP_CP_ASYNC, .warp = wp, .tag = k,
                           .addr = a_base + ((uint64_t)tm * 128 + wp * 16u) * K * 2 + k * 64u,
                           .local = stage * 16384 + wp * 1024u, .rows = 16, .row_bytes = 64,
                           .stride = K * 2, .flags = CS_OPF_SWIZZLE};
                cs_op b = a;
                b.addr = b_base + ((uint64_t)k * 32 + wp * 4u) * N * 2 + tn * 256u;
                b.local = 65536 / 2 + stage * 8192 + wp * 1024u;
                b.rows = 4;
                b.row_bytes = 256;
                b.stride = N * 2;
                cs_trace_write(w, sm, &a, &err);
                cs_trace_write(w, sm, &b, &err);
                n += 2;
            }
            for (uint16_t wp = 0; wp < WARPS; wp++) {
                cs_op wait = {.kind = CS_OP_CP_WAIT, .warp = wp, .tag = k >= 3 ? k - 3 : 0};
                cs_trace_write(w, sm, &wait, &err);
                n++;
            }
            cs_op bar = {.kind = CS_OP_BAR, .tag = 0};
            for (uint16_t wp = 0; wp < WARPS; wp++) {
                bar.warp = wp;
                cs_trace_write(w, sm, &bar, &err);
                n++;
            }
            for (uint16_t wp = 0; wp < WARPS; wp++)
                for (uint32_t kk = 0; kk < 2; kk++) {
                    cs_op lda = {.kind = CS_OP_LDS, .warp = wp,
                                 .local = stage * 16384 + (wp / 2) * 2048u + kk * 32, .rows = 32,
                                 .row_bytes = 32, .stride = 64, .flags = CS_OPF_SWIZZLE};
                    cs_op ldb = lda;
                    ldb.local = 32768 + stage * 8192 + (wp % 2) * 128u + kk * 4096;
                    cs_trace_write(w, sm, &lda, &err);
                    cs_trace_write(w, sm, &ldb, &err);
                    n += 2;
                    for (uint32_t mi = 0; mi < 4; mi++)
                        for (uint32_t ni = 0; ni < 4; ni++) {
                            cs_op mma = {.kind = CS_OP_MMA, .warp = wp, .rows = 16,
                                         .row_bytes = 8, .stride = 16, .dtype = CS_DTYPE_FP16};
                            cs_trace_write(w, sm, &mma, &err);
                            n++;
                        }
                }
        }
        for (uint16_t wp = 0; wp < WARPS; wp++) {
            cs_op st = {.kind = CS_OP_STG, .warp = wp,
                        .addr = c_base + ((uint64_t)tm * 128 + wp * 16u) * N * 2 + tn * 256u,
                        .rows = 16, .row_bytes = 256, .stride = N * 2};
            cs_trace_write(w, sm, &st, &err);
            n++;
        }
        op = (cs_op){.kind = CS_OP_CTA_END, .x = cta};
        cs_trace_write(w, sm, &op, &err);
        n++;
    }
    cr_assert_eq(err.count, 0, "%s", err.msg[0]);
    cr_assert_eq(cs_trace_writer_finish(w, &err), CS_OK);
    *records = n;
    struct stat sb;
    stat(path, &sb);
    return (uint64_t)sb.st_size;
}

Test(trace, compression_ratio_realistic_gemm, .timeout = 120)
{
    const char *p = tpath("gemm.cstr");
    uint64_t records;
    uint64_t bytes = write_gemm(p, &records);
    double ratio = (double)records * CS_TRACE_RAW_RECORD_BYTES / (double)bytes;
    cr_log_info("gemm trace: %llu records, %llu bytes, %.1fx vs 40-byte records, %.3f B/op",
                (unsigned long long)records, (unsigned long long)bytes, ratio,
                (double)bytes / (double)records);
    fprintf(stderr, "test_trace: compression ratio %.1fx (%llu records, %llu bytes)\n", ratio,
            (unsigned long long)records, (unsigned long long)bytes);
    cr_assert_geq(ratio, 10.0, "compression %.1fx < 10x", ratio);
    cs_err err;
    cs_err_init(&err);
    uint64_t checked;
    cr_assert_eq(cs_trace_check(p, &checked, NULL, &err), CS_OK, "%s", err.msg[0]);
    cr_assert_eq(checked, records);
}

/* ---- the CLI --------------------------------------------------------------------------------- */

static int run_cli(const char *a1, const char *a2, const char *a3, const char *a4, const char *a5)
{
    char *argv[7] = {"trace", (char *)a1, (char *)a2, (char *)a3, (char *)a4, (char *)a5, NULL};
    int argc = 1;
    while (argc < 6 && argv[argc])
        argc++;
    fflush(stdout);
    fflush(stderr);
    int saved_out = dup(1), saved_err = dup(2), nul = open("/dev/null", O_WRONLY);
    dup2(nul, 1); /* keep the test log readable */
    dup2(nul, 2);
    close(nul);
    int rc = cs_cmd_trace(argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(saved_out, 1);
    dup2(saved_err, 2);
    close(saved_out);
    close(saved_err);
    return rc;
}

Test(trace, cli_exit_codes)
{
    const char *bin = tpath("t.cstr"), *txt = tpath("t.txt"), *bin2 = tpath("t2.cstr");
    write_std(bin, 100);
    cr_assert_eq(run_cli("--help", NULL, NULL, NULL, NULL), 0);
    cr_assert_eq(run_cli("info", "--help", NULL, NULL, NULL), 0);
    cr_assert_eq(run_cli("dump", "--help", NULL, NULL, NULL), 0);
    cr_assert_eq(run_cli("check", "--help", NULL, NULL, NULL), 0);
    cr_assert_eq(run_cli("import", "--help", NULL, NULL, NULL), 0);
    cr_assert_eq(run_cli("info", bin, NULL, NULL, NULL), 0);
    /* a valid file of random ops: check also says the simulator could not run it */
    cr_assert_eq(run_cli("check", bin, NULL, NULL, NULL), 2);
    cr_assert_eq(run_cli("dump", bin, "--sm", "7", "--limit=3"), 0);
    cr_assert_eq(run_cli("dump", bin, "--stream=3", NULL, NULL), 0);
    cr_assert_eq(run_cli(NULL, NULL, NULL, NULL, NULL), 2);
    cr_assert_eq(run_cli("frob", NULL, NULL, NULL, NULL), 2);
    cr_assert_eq(run_cli("info", bin, "--bogus", NULL, NULL), 2);
    cr_assert_eq(run_cli("dump", bin, "--limit", "x", NULL), 2);
    cr_assert_eq(run_cli("dump", bin, "--limit", NULL, NULL), 2);
    cr_assert_eq(run_cli("check", NULL, NULL, NULL, NULL), 2);
    cr_assert_eq(run_cli("check", tpath("none.cstr"), NULL, NULL, NULL), 2);
    cr_assert_eq(run_cli("import", txt, NULL, NULL, NULL), 2, "missing -o");
    spit_text(txt, "@streams sm:1\nsm 0 bar tag=3\n");
    cr_assert_eq(run_cli("import", txt, "-o", bin2, NULL), 0);
    cr_assert_eq(run_cli("check", bin2, NULL, NULL, NULL), 2, "a bar outside a CTA");
    spit_text(txt, "@streams sm:1\nsm 0 cta_begin x=0 rows=1 stride=32\nsm 0 bar tag=3\n"
                   "sm 0 cta_end x=0\n");
    cr_assert_eq(run_cli("import", txt, "-o", bin2, NULL), 0);
    cr_assert_eq(run_cli("check", bin2, NULL, NULL, NULL), 0);
    spit_text(txt, "@streams sm:1\nsm 0 bar tog=3\n");
    cr_assert_eq(run_cli("import", txt, "--output", bin2, NULL), 2);
    size_t len;
    uint8_t *d = slurp(bin, &len);
    d[17] = 9;
    spit(bin, d, len);
    free(d);
    cr_assert_eq(run_cli("check", bin, NULL, NULL, NULL), 2);
    cr_assert_eq(run_cli("info", bin, NULL, NULL, NULL), 2);
}

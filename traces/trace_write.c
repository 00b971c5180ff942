/* trace_write — the streaming trace writer (docs/trace-format.md).
 *
 * Each stream collects encoded records in its own chunk buffer; a full buffer becomes one zstd
 * frame (ZSTD_compressStream2, content checksum on) appended to a temporary file beside the
 * target. Index entries are appended to a second, already-unlinked temporary file as chunks are
 * written, so memory never depends on trace length. finish() regroups the entries by stream in
 * bounded passes over that spill file, appends index and footer, syncs and renames.
 */
#include "trace.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "afile.h"
#include "alloc.h"
#include "buf.h"
#include "trace_int.h"

enum {
    OUT_BUF_BYTES = 256 << 10,    /* file write buffer */
    SPILL_PASS_ENTRIES = 32768,   /* index entries regrouped per pass (1 MiB) */
    SPILL_READ_ENTRIES = 2048     /* spill file read block (64 KiB) */
};

typedef struct wchunk {            /* a stream's pending chunk; allocated on first write */
    cs_op prev[CS_OP_KIND_COUNT];  /* delta state, reset at every chunk start */
    uint32_t len;                  /* encoded bytes in buf */
    uint32_t nrec;                 /* records in buf */
    size_t cap;                    /* grows on demand up to chunk_records x 54 bytes */
    uint8_t *buf;
} wchunk;

typedef struct wstream {
    wchunk *pending;
    uint64_t records;
    uint64_t chunks;
} wstream;

struct cs_trace_writer {
    char *path;      /* final path (a link's target for an atomic write) */
    char *tmp_path;  /* temporary file being written; renamed to path by finish; NULL when
                        written in place (a FIFO, a device, standard output) */
    int fd;
    FILE *spill;     /* index entries in write order (unlinked temporary file) */
    uint64_t off;    /* bytes written to the file so far, including out[] */
    uint8_t *out;
    size_t out_len;
    ZSTD_CCtx *cctx;
    uint32_t chunk_records;
    uint32_t nstreams;
    wstream *st;
    uint64_t nchunks;
    uint64_t total_records;
    cs_status failed; /* sticky I/O failure */
};

/* ---- file output -------------------------------------------------------------------------- */

static cs_status io_fail(cs_trace_writer *w, cs_err *err, const char *what)
{
    w->failed = CS_IO;
    return cs_err_add(err, CS_IO, "%s: error: %s: %s", w->path, what, strerror(errno));
}

static cs_status write_all(cs_trace_writer *w, const uint8_t *p, size_t n, cs_err *err)
{
    while (n) {
        ssize_t k = write(w->fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return io_fail(w, err, "write failed");
        p += k;
        n -= (size_t)k;
    }
    return CS_OK;
}

static cs_status out_flush(cs_trace_writer *w, cs_err *err)
{
    cs_status s = write_all(w, w->out, w->out_len, err);
    w->out_len = 0;
    return s;
}

/* Appends bytes to the file; *crc (if not NULL) is updated over them. */
static cs_status out_put(cs_trace_writer *w, const void *data, size_t n, uint32_t *crc,
                         cs_err *err)
{
    const uint8_t *p = data;
    if (crc)
        *crc = cs_trace_crc32(*crc, p, n);
    w->off += n;
    while (n) {
        if (w->out_len == OUT_BUF_BYTES && out_flush(w, err) != CS_OK)
            return CS_IO;
        size_t k = OUT_BUF_BYTES - w->out_len;
        if (k > n)
            k = n;
        memcpy(w->out + w->out_len, p, k);
        w->out_len += k;
        p += k;
        n -= k;
    }
    return CS_OK;
}

static cs_status zstd_fail(cs_trace_writer *w, cs_err *err, size_t code)
{
    w->failed = CS_INTERNAL;
    return cs_err_add(err, CS_INTERNAL, "%s: error: zstd: %s", w->path, ZSTD_getErrorName(code));
}

/* Compresses raw[0..len) into one zstd frame at the end of the file and records its entry. */
static cs_status emit_chunk(cs_trace_writer *w, uint32_t stream, const uint8_t *raw, size_t len,
                            uint32_t nrec, cs_err *err)
{
    cs__trace_entry e = {.offset = w->off, .raw_bytes = (uint32_t)len, .records = nrec,
                         .stream = stream};
    size_t r = ZSTD_CCtx_reset(w->cctx, ZSTD_reset_session_only);
    if (!ZSTD_isError(r))
        r = ZSTD_CCtx_setPledgedSrcSize(w->cctx, len);
    if (ZSTD_isError(r))
        return zstd_fail(w, err, r);
    ZSTD_inBuffer in = {raw, len, 0};
    uint64_t csize = 0;
    for (;;) {
        if (w->out_len == OUT_BUF_BYTES && out_flush(w, err) != CS_OK)
            return CS_IO;
        ZSTD_outBuffer ob = {w->out, OUT_BUF_BYTES, w->out_len};
        r = ZSTD_compressStream2(w->cctx, &ob, &in, ZSTD_e_end);
        if (ZSTD_isError(r))
            return zstd_fail(w, err, r);
        size_t produced = ob.pos - w->out_len;
        e.crc = cs_trace_crc32(e.crc, w->out + w->out_len, produced);
        csize += produced;
        w->off += produced;
        w->out_len = ob.pos;
        if (r == 0)
            break;
    }
    if (csize > UINT32_MAX) { /* impossible: a chunk is at most a few MiB */
        w->failed = CS_INTERNAL;
        return cs_err_add(err, CS_INTERNAL, "%s: error: chunk compressed to %llu bytes", w->path,
                          (unsigned long long)csize);
    }
    e.compressed_bytes = (uint32_t)csize;
    uint8_t ent[CS__TRACE_ENTRY_BYTES];
    cs__trace_entry_put(ent, &e);
    if (fwrite(ent, sizeof ent, 1, w->spill) != 1)
        return io_fail(w, err, "cannot write the index spill file");
    w->st[stream].chunks++;
    w->st[stream].records += nrec;
    w->nchunks++;
    w->total_records += nrec;
    return CS_OK;
}

static cs_status flush_stream(cs_trace_writer *w, uint32_t s, cs_err *err)
{
    wchunk *c = w->st[s].pending;
    if (!c || c->nrec == 0)
        return CS_OK;
    cs_status st = emit_chunk(w, s, c->buf, c->len, c->nrec, err);
    c->len = 0;
    c->nrec = 0;
    memset(c->prev, 0, sizeof c->prev);
    return st;
}

/* ---- header (section 3) -------------------------------------------------------------------- */

static void put_u32(cs_buf *b, uint32_t v)
{
    uint8_t p[4];
    cs__put_u32(p, v);
    cs_buf_append(b, p, 4);
}

static void put_str(cs_buf *b, const char *s)
{
    size_t n = strlen(s);
    put_u32(b, (uint32_t)n);
    cs_buf_append(b, s, n);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static cs_status check_meta(const char *path, const cs_trace_meta *m, cs_err *err)
{
    const char *strs[] = {m->producer, m->cimsim_version, m->arch, m->workload, m->mapping};
    const char *names[] = {"producer", "cimsim_version", "arch", "workload", "mapping"};
    for (int i = 0; i < 5; i++)
        if (strs[i] && strlen(strs[i]) > CS_TRACE_MAX_STRING_BYTES)
            return cs_err_add(err, CS_INVALID, "%s: error: trace %s longer than %d bytes", path,
                              names[i], CS_TRACE_MAX_STRING_BYTES);
    if (m->nkv > CS_TRACE_MAX_META || (m->nkv && !m->kv))
        return cs_err_add(err, CS_INVALID, "%s: error: %u metadata pairs (at most %d)", path,
                          m->nkv, CS_TRACE_MAX_META);
    for (uint32_t i = 0; i < m->nkv; i++) {
        const char *k = m->kv[i].key ? m->kv[i].key : "";
        const char *v = m->kv[i].value ? m->kv[i].value : "";
        if (!cs__trace_key_ok(k))
            return cs_err_add(err, CS_INVALID,
                              "%s: error: metadata key '%s': must be non-empty, from "
                              "[A-Za-z0-9_.:/-]",
                              path, k);
        if (strlen(k) > CS_TRACE_MAX_STRING_BYTES || strlen(v) > CS_TRACE_MAX_STRING_BYTES)
            return cs_err_add(err, CS_INVALID, "%s: error: metadata '%s' longer than %d bytes",
                              path, k, CS_TRACE_MAX_STRING_BYTES);
        for (uint32_t j = 0; j < i; j++)
            if (m->kv[j].key && strcmp(m->kv[j].key, k) == 0)
                return cs_err_add(err, CS_INVALID, "%s: error: metadata key '%s' repeated", path,
                                  k);
    }
    if (m->nstreams < 1 || m->nstreams > CS_TRACE_MAX_STREAMS || !m->streams)
        return cs_err_add(err, CS_INVALID, "%s: error: %u streams (must be 1..%d)", path,
                          m->nstreams, CS_TRACE_MAX_STREAMS);
    /* Unique (kind, unit): a bitmap per kind over the units seen would be unbounded; sort a
     * copy instead (nstreams <= 65536). */
    uint64_t *keys = cs_malloc(sizeof *keys * m->nstreams);
    cs_status st = CS_OK;
    for (uint32_t i = 0; i < m->nstreams && st == CS_OK; i++) {
        if (m->streams[i].kind > CS_STREAM_CIM)
            st = cs_err_add(err, CS_INVALID, "%s: error: stream %u: unknown kind %u", path, i,
                            (unsigned)m->streams[i].kind);
        keys[i] = (uint64_t)m->streams[i].kind << 32 | m->streams[i].unit;
    }
    if (st == CS_OK) {
        qsort(keys, m->nstreams, sizeof *keys, cmp_u64);
        for (uint32_t i = 1; i < m->nstreams; i++)
            if (keys[i] == keys[i - 1]) {
                st = cs_err_add(err, CS_INVALID, "%s: error: two streams for %s %u", path,
                                (keys[i] >> 32) ? "cim" : "sm", (unsigned)(keys[i] & 0xffffffffu));
                break;
            }
    }
    cs_free(keys);
    return st;
}

static void build_header(const cs_trace_meta *m, uint32_t chunk_records, cs_buf *b)
{
    cs_buf_append(b, cs__trace_magic, sizeof cs__trace_magic);
    put_u32(b, CS_TRACE_VERSION);
    put_u32(b, 0); /* flags */
    put_u32(b, chunk_records);
    put_u32(b, m->nstreams);
    put_str(b, m->producer ? m->producer : "");
    put_str(b, m->cimsim_version ? m->cimsim_version : CIMSIM_VERSION);
    put_str(b, m->arch ? m->arch : "");
    put_str(b, m->workload ? m->workload : "");
    put_str(b, m->mapping ? m->mapping : "");
    put_u32(b, m->nkv);
    for (uint32_t i = 0; i < m->nkv; i++) {
        put_str(b, m->kv[i].key);
        put_str(b, m->kv[i].value ? m->kv[i].value : "");
    }
    for (uint32_t i = 0; i < m->nstreams; i++) {
        uint8_t k = m->streams[i].kind;
        cs_buf_append(b, &k, 1);
        put_u32(b, m->streams[i].unit);
    }
    put_u32(b, cs_trace_crc32(0, b->data, b->len));
}

/* ---- lifecycle ------------------------------------------------------------------------------ */

static void destroy(cs_trace_writer *w)
{
    if (w->fd >= 0) {
        close(w->fd);
        if (w->tmp_path)
            unlink(w->tmp_path);
    }
    if (w->spill)
        fclose(w->spill);
    ZSTD_freeCCtx(w->cctx);
    if (w->st)
        for (uint32_t s = 0; s < w->nstreams; s++)
            if (w->st[s].pending) {
                cs_free(w->st[s].pending->buf);
                cs_free(w->st[s].pending);
            }
    cs_free(w->st);
    cs_free(w->out);
    cs_free(w->path);
    cs_free(w->tmp_path);
    cs_free(w);
}

static char *temp_name(const char *path, const char *suffix)
{
    size_t n = strlen(path) + strlen(suffix) + 1;
    char *t = cs_malloc(n);
    snprintf(t, n, "%s%s", path, suffix);
    return t;
}

cs_status cs_trace_writer_create(const char *path, const cs_trace_meta *meta,
                                 const cs_trace_writer_opts *opts, cs_trace_writer **out,
                                 cs_err *err)
{
    *out = NULL;
    uint32_t chunk_records = opts && opts->chunk_records ? opts->chunk_records
                                                         : CS_TRACE_DEFAULT_CHUNK_RECORDS;
    int level = opts && opts->level ? opts->level : 3;
    if (chunk_records > CS_TRACE_MAX_CHUNK_RECORDS)
        return cs_err_add(err, CS_INVALID, "%s: error: chunk_records %u (must be 1..%d)", path,
                          chunk_records, CS_TRACE_MAX_CHUNK_RECORDS);
    if (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel())
        return cs_err_add(err, CS_INVALID, "%s: error: zstd level %d (must be %d..%d)", path,
                          level, ZSTD_minCLevel(), ZSTD_maxCLevel());
    cs_status st = check_meta(path, meta, err);
    if (st != CS_OK)
        return st;

    cs_afile_kind kind;
    char *target = NULL;
    st = cs_afile_target(path, true, &kind, &target, err);
    if (st != CS_OK)
        return st;
    cs_trace_writer *w = cs_calloc(1, sizeof *w);
    w->fd = -1;
    w->path = target ? target : cs_strdup(path);
    w->chunk_records = chunk_records;
    w->nstreams = meta->nstreams;
    /* A file is written to a temporary beside it and renamed; a FIFO, a device or standard
     * output in place (the writer only appends, so any of them will do). */
    if (kind == CS_AFILE_ATOMIC) {
        w->tmp_path = temp_name(w->path, ".tmp.XXXXXX");
        w->fd = mkstemp(w->tmp_path);
    } else {
        w->fd = kind == CS_AFILE_STDOUT ? dup(STDOUT_FILENO)
                                        : open(w->path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    }
    if (w->fd < 0) {
        st = cs_err_add(err, CS_IO, "%s: error: cannot create: %s", path, strerror(errno));
        destroy(w);
        return st;
    }
    /* The spill file is unlinked at once: it disappears with the process, whatever happens.
     * Beside the target when that is a file, else in $TMPDIR (or /tmp). */
    const char *tdir = getenv("TMPDIR");
    char *tbase = NULL;
    if (!w->tmp_path) {
        size_t n = strlen(tdir && *tdir ? tdir : "/tmp") + 16;
        tbase = cs_malloc(n);
        snprintf(tbase, n, "%s/cimsim-trace", tdir && *tdir ? tdir : "/tmp");
    }
    char *spill_path = temp_name(tbase ? tbase : w->path, ".idx.XXXXXX");
    cs_free(tbase);
    int sfd = mkstemp(spill_path);
    if (sfd >= 0) {
        unlink(spill_path);
        w->spill = fdopen(sfd, "w+b");
        if (!w->spill)
            close(sfd);
    }
    cs_free(spill_path);
    if (!w->spill) {
        st = io_fail(w, err, "cannot create a temporary file beside it");
        destroy(w);
        return st;
    }
    w->cctx = ZSTD_createCCtx();
    if (!w->cctx) {
        destroy(w);
        return cs_err_add(err, CS_INTERNAL, "%s: error: cannot create a zstd context", path);
    }
    size_t r = ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, level);
    if (!ZSTD_isError(r))
        r = ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_checksumFlag, 1);
    if (!ZSTD_isError(r))
        r = ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_contentSizeFlag, 1);
    if (!ZSTD_isError(r))
        r = ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_windowLog, CS__TRACE_WINDOW_LOG_MAX);
    if (ZSTD_isError(r)) {
        st = zstd_fail(w, err, r);
        destroy(w);
        return st;
    }
    w->out = cs_malloc(OUT_BUF_BYTES);
    w->st = cs_calloc(meta->nstreams, sizeof *w->st);

    cs_buf hdr;
    cs_buf_init(&hdr);
    build_header(meta, chunk_records, &hdr);
    if (hdr.len > CS__TRACE_HEADER_MAX_BYTES) {
        st = cs_err_add(err, CS_INVALID, "%s: error: trace header of %zu bytes (metadata too "
                        "large; at most %d bytes)", path, hdr.len, CS__TRACE_HEADER_MAX_BYTES);
        cs_buf_free(&hdr);
        destroy(w);
        return st;
    }
    uint8_t frame[8];
    cs__put_u32(frame, CS__TRACE_MAGIC_HEADER);
    cs__put_u32(frame + 4, (uint32_t)hdr.len);
    st = out_put(w, frame, sizeof frame, NULL, err);
    if (st == CS_OK)
        st = out_put(w, hdr.data, hdr.len, NULL, err);
    cs_buf_free(&hdr);
    if (st != CS_OK) {
        destroy(w);
        return st;
    }
    *out = w;
    return CS_OK;
}

cs_status cs_trace_write(cs_trace_writer *w, uint32_t stream, const cs_op *op, cs_err *err)
{
    if (w->failed)
        return cs_err_add(err, w->failed, "%s: error: the writer failed earlier", w->path);
    if (stream >= w->nstreams)
        return cs_err_add(err, CS_INVALID, "%s: error: stream %u out of range (trace has %u)",
                          w->path, stream, w->nstreams);
    wstream *ws = &w->st[stream];
    char why[160];
    if (!cs_trace_op_valid(op, why, sizeof why))
        return cs_err_add(err, CS_INVALID, "%s: error: stream %u record %llu: %s", w->path,
                          stream,
                          (unsigned long long)(ws->records + (ws->pending ? ws->pending->nrec : 0)),
                          why);
    if (!ws->pending)
        ws->pending = cs_calloc(1, sizeof(wchunk));
    wchunk *c = ws->pending;
    if (c->cap - c->len < CS_TRACE_RECORD_MAX_BYTES) {
        /* Regular streams encode to a few bytes per record: grow to what they need. */
        size_t max = (size_t)w->chunk_records * CS_TRACE_RECORD_MAX_BYTES;
        size_t cap = c->cap ? 2 * c->cap : 4096;
        c->cap = cap < max ? cap : max;
        c->buf = cs_realloc(c->buf, c->cap);
    }
    c->len += (uint32_t)cs__trace_encode(op, c->prev, c->buf + c->len);
    c->nrec++;
    return c->nrec == w->chunk_records ? flush_stream(w, stream, err) : CS_OK;
}

cs_status cs__trace_write_raw(cs_trace_writer *w, uint32_t stream, const void *bytes, size_t len,
                              uint32_t records, cs_err *err)
{
    if (w->failed)
        return cs_err_add(err, w->failed, "%s: error: the writer failed earlier", w->path);
    if (stream >= w->nstreams || len > UINT32_MAX)
        return cs_err_add(err, CS_INVALID, "%s: error: raw chunk for stream %u", w->path, stream);
    cs_status st = flush_stream(w, stream, err);
    return st == CS_OK ? emit_chunk(w, stream, bytes, len, records, err) : st;
}

static cs_status pread_all(cs_trace_writer *w, int fd, uint8_t *p, size_t n, uint64_t off,
                           cs_err *err)
{
    while (n) {
        ssize_t k = pread(fd, p, n, (off_t)off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            if (k == 0)
                errno = EIO;
            return io_fail(w, err, "cannot read back the index spill file");
        }
        p += k;
        n -= (size_t)k;
        off += (uint64_t)k;
    }
    return CS_OK;
}

/* Writes the spilled entries grouped by stream (section 6), in passes that each fill one
 * bounded buffer with a contiguous range of final positions. */
static cs_status write_entries(cs_trace_writer *w, uint32_t *crc, cs_err *err)
{
    if (w->nchunks == 0)
        return CS_OK;
    if (fflush(w->spill) != 0)
        return io_fail(w, err, "cannot write the index spill file");
    int sfd = fileno(w->spill);
    uint64_t *base = cs_malloc(sizeof *base * w->nstreams);
    uint64_t *seen = cs_malloc(sizeof *seen * w->nstreams);
    uint64_t sum = 0;
    for (uint32_t s = 0; s < w->nstreams; s++) {
        base[s] = sum;
        sum += w->st[s].chunks;
    }
    size_t pass_n = w->nchunks < SPILL_PASS_ENTRIES ? (size_t)w->nchunks : SPILL_PASS_ENTRIES;
    uint8_t *pass = cs_malloc(pass_n * CS__TRACE_ENTRY_BYTES);
    uint8_t *rd = cs_malloc((size_t)SPILL_READ_ENTRIES * CS__TRACE_ENTRY_BYTES);
    cs_status st = CS_OK;
    for (uint64_t lo = 0; lo < w->nchunks && st == CS_OK; lo += pass_n) {
        uint64_t hi = lo + pass_n < w->nchunks ? lo + pass_n : w->nchunks;
        memset(seen, 0, sizeof *seen * w->nstreams);
        for (uint64_t i = 0; i < w->nchunks && st == CS_OK;) {
            size_t k = w->nchunks - i < SPILL_READ_ENTRIES ? (size_t)(w->nchunks - i)
                                                           : SPILL_READ_ENTRIES;
            st = pread_all(w, sfd, rd, k * CS__TRACE_ENTRY_BYTES, i * CS__TRACE_ENTRY_BYTES, err);
            for (size_t j = 0; j < k && st == CS_OK; j++) {
                const uint8_t *e = rd + j * CS__TRACE_ENTRY_BYTES;
                uint32_t s = cs__get_u32(e + 20);
                uint64_t pos = base[s] + seen[s]++;
                if (pos >= lo && pos < hi)
                    memcpy(pass + (pos - lo) * CS__TRACE_ENTRY_BYTES, e, CS__TRACE_ENTRY_BYTES);
            }
            i += k;
        }
        if (st == CS_OK)
            st = out_put(w, pass, (size_t)(hi - lo) * CS__TRACE_ENTRY_BYTES, crc, err);
    }
    cs_free(rd);
    cs_free(pass);
    cs_free(seen);
    cs_free(base);
    return st;
}

static cs_status put_u32_out(cs_trace_writer *w, uint32_t v, uint32_t *crc, cs_err *err)
{
    uint8_t p[4];
    cs__put_u32(p, v);
    return out_put(w, p, 4, crc, err);
}

static cs_status put_u64_out(cs_trace_writer *w, uint64_t v, uint32_t *crc, cs_err *err)
{
    uint8_t p[8];
    cs__put_u64(p, v);
    return out_put(w, p, 8, crc, err);
}

static cs_status write_index_and_footer(cs_trace_writer *w, cs_err *err)
{
    uint64_t index_offset = w->off;
    uint64_t index_bytes = CS__TRACE_INDEX_HEAD_BYTES + 8 * (uint64_t)w->nstreams +
                           CS__TRACE_ENTRY_BYTES * w->nchunks;
    if (index_bytes > UINT32_MAX)
        return cs_err_add(err, CS_UNSUPPORTED,
                          "%s: error: %llu chunks: the index would exceed 4 GiB (use larger "
                          "chunks)",
                          w->path, (unsigned long long)w->nchunks);
    cs_status st = put_u32_out(w, CS__TRACE_MAGIC_INDEX, NULL, err);
    if (st == CS_OK)
        st = put_u32_out(w, (uint32_t)index_bytes, NULL, err);
    uint32_t icrc = 0;
    if (st == CS_OK)
        st = out_put(w, cs__trace_index_tag, sizeof cs__trace_index_tag, &icrc, err);
    if (st == CS_OK)
        st = put_u32_out(w, w->nstreams, &icrc, err);
    if (st == CS_OK)
        st = put_u64_out(w, w->nchunks, &icrc, err);
    for (uint32_t s = 0; s < w->nstreams && st == CS_OK; s++)
        st = put_u64_out(w, w->st[s].chunks, &icrc, err);
    if (st == CS_OK)
        st = write_entries(w, &icrc, err);

    uint64_t footer_bytes = 8 * (uint64_t)w->nstreams + CS__TRACE_TAIL_BYTES;
    if (st == CS_OK)
        st = put_u32_out(w, CS__TRACE_MAGIC_FOOTER, NULL, err);
    if (st == CS_OK)
        st = put_u32_out(w, (uint32_t)footer_bytes, NULL, err);
    uint32_t fcrc = 0;
    for (uint32_t s = 0; s < w->nstreams && st == CS_OK; s++)
        st = put_u64_out(w, w->st[s].records, &fcrc, err);
    if (st == CS_OK)
        st = put_u64_out(w, index_offset, &fcrc, err);
    if (st == CS_OK)
        st = put_u64_out(w, index_bytes, &fcrc, err);
    if (st == CS_OK)
        st = put_u64_out(w, w->nchunks, &fcrc, err);
    if (st == CS_OK)
        st = put_u64_out(w, w->total_records, &fcrc, err);
    if (st == CS_OK)
        st = put_u32_out(w, w->nstreams, &fcrc, err);
    if (st == CS_OK)
        st = put_u32_out(w, icrc, &fcrc, err);
    if (st == CS_OK)
        st = put_u32_out(w, fcrc, NULL, err);
    if (st == CS_OK)
        st = put_u32_out(w, 0, NULL, err);
    if (st == CS_OK)
        st = out_put(w, cs__trace_end_magic, sizeof cs__trace_end_magic, NULL, err);
    return st;
}

cs_status cs_trace_writer_finish(cs_trace_writer *w, cs_err *err)
{
    if (!w)
        return cs_err_add(err, CS_INVALID, "cs_trace_writer_finish: no writer");
    cs_status st = w->failed;
    if (st != CS_OK)
        cs_err_add(err, st, "%s: error: the writer failed earlier; nothing written", w->path);
    for (uint32_t s = 0; s < w->nstreams && st == CS_OK; s++)
        st = flush_stream(w, s, err);
    if (st == CS_OK)
        st = write_index_and_footer(w, err);
    if (st == CS_OK)
        st = out_flush(w, err);
    if (st == CS_OK && w->tmp_path && (fsync(w->fd) != 0 || fchmod(w->fd, 0644) != 0))
        st = io_fail(w, err, "cannot sync");
    if (st == CS_OK) {
        int fd = w->fd;
        w->fd = -1; /* closed below: destroy() must not unlink a renamed file */
        if (close(fd) != 0 || (w->tmp_path && rename(w->tmp_path, w->path) != 0)) {
            st = io_fail(w, err, "cannot finish writing");
            if (w->tmp_path)
                unlink(w->tmp_path);
        }
    }
    destroy(w);
    return st;
}

void cs_trace_writer_abort(cs_trace_writer *w)
{
    if (w)
        destroy(w);
}

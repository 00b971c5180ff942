/* trace_read — the trace reader and checker (docs/trace-format.md).
 *
 * open() validates the fixed structures (prologue, header, footer, index) in a bounded number
 * of passes that hold no more than one block at a time; afterwards only per-stream summaries
 * stay in memory. Each stream then reads its index entries on demand (they are grouped by
 * stream, so the k-th chunk of stream s is at a computed position) and decompresses one chunk
 * at a time into its own buffer with ZSTD_decompressStream, on one DCtx shared by all streams
 * (every chunk is a complete frame). check() additionally walks all chunks in file order and
 * verifies that they tile the data region exactly.
 *
 * Every message is "NAME: byte OFFSET: error: WHAT", the offset being where the problem is
 * (or starts: a chunk's first byte for anything found inside it).
 */
#include "trace.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "alloc.h"
#include "trace_int.h"

enum {
    SCAN_ENTRIES = 2048,                 /* index entries per read block (64 KiB) */
    SCAN_BYTES = SCAN_ENTRIES * CS__TRACE_ENTRY_BYTES,
    WHY_BYTES = 256
};
/* Reader policy, not format: the most chunk-buffer memory a trace may ask for (the sum over
 * streams of their largest chunk). A regular trace needs streams x 52 KiB. */
#define BUFFER_LIMIT_BYTES ((uint64_t)1 << 30)

typedef struct rcur { /* decode state of a stream being read; allocated on its first read */
    cs_op prev[CS_OP_KIND_COUNT];
    cs__trace_entry e; /* current chunk */
    uint64_t chunk;    /* its number within the stream */
    uint32_t pos;      /* decode position in buf */
    uint32_t len;      /* decoded bytes in buf */
    uint32_t got;      /* records decoded from this chunk */
    uint8_t buf[];     /* max_raw bytes */
} rcur;

typedef struct rstream {
    uint64_t first;      /* index entry number of the stream's first chunk */
    uint64_t nchunks;
    uint64_t records;    /* from the footer */
    uint64_t idx_records; /* sum over the index entries (must equal records) */
    uint64_t compressed; /* sums over the index entries */
    uint64_t raw;
    uint32_t max_raw;    /* largest chunk, decoded */
    uint64_t next_chunk; /* chunks loaded so far */
    uint64_t prev_end;   /* end of the last chunk loaded (chunks of a stream ascend) */
    uint64_t read;       /* records returned */
    cs_status failed;
    rcur *cur;
} rstream;

struct cs_trace_reader {
    cs_opsrc src; /* first: the reader is its own op source */
    char *name;
    int fd;
    const uint8_t *mem;
    uint64_t size;

    cs_trace_meta meta;
    char *strs[5];
    cs_trace_kv *kv;
    cs_stream_info *streams;
    uint32_t chunk_records;

    uint64_t data_start;   /* first byte after the header frame */
    uint64_t index_offset; /* the index frame */
    uint64_t index_bytes;
    uint64_t footer_offset;
    uint64_t entries_off; /* file offset of index entry 0 */
    uint64_t nchunks;
    uint64_t total_records;
    uint32_t index_crc;
    rstream *st;

    uint8_t *in; /* one compressed chunk */
    size_t in_cap;
    uint32_t max_raw; /* largest chunk of the whole trace, decoded */
    ZSTD_DCtx *dctx;
    size_t buffered;
};

/* ---- errors and raw reads ----------------------------------------------------------------- */

__attribute__((format(printf, 5, 6))) static cs_status fail(const cs_trace_reader *r, cs_err *err,
                                                            cs_status st, uint64_t off,
                                                            const char *fmt, ...)
{
    char what[CS_ERR_MSG_BYTES];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return cs_err_add(err, st, "%s: byte %llu: error: %s", r->name, (unsigned long long)off, what);
}

static cs_status read_at(const cs_trace_reader *r, uint64_t off, void *buf, size_t n, cs_err *err)
{
    if (off > r->size || n > r->size - off)
        return fail(r, err, CS_TRUNCATED, r->size,
                    "truncated: %zu bytes needed at byte %llu, but the file ends at byte %llu", n,
                    (unsigned long long)off, (unsigned long long)r->size);
    if (r->mem) {
        memcpy(buf, r->mem + off, n);
        return CS_OK;
    }
    uint8_t *p = buf;
    while (n) {
        ssize_t k = pread(r->fd, p, n, (off_t)off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k == 0)
            return fail(r, err, CS_TRUNCATED, off, "truncated: the file shrank while being read");
        if (k < 0)
            return fail(r, err, CS_IO, off, "read failed: %s", strerror(errno));
        p += k;
        n -= (size_t)k;
        off += (uint64_t)k;
    }
    return CS_OK;
}

/* CRC of bytes [off, off+n) read block by block. */
static cs_status crc_range(const cs_trace_reader *r, uint64_t off, uint64_t n, uint32_t *crc,
                           cs_err *err)
{
    uint8_t *blk = cs_malloc(SCAN_BYTES);
    cs_status st = CS_OK;
    while (n && st == CS_OK) {
        size_t k = n < SCAN_BYTES ? (size_t)n : SCAN_BYTES;
        st = read_at(r, off, blk, k, err);
        if (st == CS_OK)
            *crc = cs_trace_crc32(*crc, blk, k);
        off += k;
        n -= k;
    }
    cs_free(blk);
    return st;
}

/* ---- header (section 3) ------------------------------------------------------------------- */

typedef struct hcur { /* a cursor over the header payload */
    const uint8_t *p;
    uint32_t pos;
    uint32_t end; /* payload bytes before the crc */
} hcur;

static uint64_t hoff(const hcur *h)
{
    return 8 + (uint64_t)h->pos; /* payload starts at file offset 8 */
}

static bool get_u32h(hcur *h, uint32_t *v)
{
    if (h->end - h->pos < 4)
        return false;
    *v = cs__get_u32(h->p + h->pos);
    h->pos += 4;
    return true;
}

static cs_status get_str(cs_trace_reader *r, hcur *h, const char *what, char **out, cs_err *err)
{
    uint64_t at = hoff(h);
    uint32_t n;
    if (!get_u32h(h, &n) || n > h->end - h->pos)
        return fail(r, err, CS_FORMAT, at, "header: %s runs past the end of the header", what);
    if (n > CS_TRACE_MAX_STRING_BYTES)
        return fail(r, err, CS_FORMAT, at, "header: %s is %u bytes long (at most %d)", what, n,
                    CS_TRACE_MAX_STRING_BYTES);
    if (memchr(h->p + h->pos, '\0', n))
        return fail(r, err, CS_FORMAT, at + 4, "header: %s contains a NUL byte", what);
    *out = cs_strndup((const char *)h->p + h->pos, n);
    h->pos += n;
    return CS_OK;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static cs_status parse_header(cs_trace_reader *r, const uint8_t *p, uint32_t payload, cs_err *err)
{
    hcur h = {p, CS__TRACE_HEADER_FIXED_BYTES, payload - 4};
    uint32_t flags = cs__get_u32(p + 12);
    uint32_t chunk_records = cs__get_u32(p + 16);
    uint32_t nstreams = cs__get_u32(p + 20);
    if (flags)
        return fail(r, err, CS_FORMAT, 20, "header: flags 0x%x (version 1 defines none)", flags);
    if (chunk_records < 1 || chunk_records > CS_TRACE_MAX_CHUNK_RECORDS)
        return fail(r, err, CS_FORMAT, 24, "header: chunk_records %u (must be 1..%d)",
                    chunk_records, CS_TRACE_MAX_CHUNK_RECORDS);
    if (nstreams < 1 || nstreams > CS_TRACE_MAX_STREAMS)
        return fail(r, err, CS_FORMAT, 28, "header: %u streams (must be 1..%d)", nstreams,
                    CS_TRACE_MAX_STREAMS);
    r->chunk_records = chunk_records;
    static const char *const names[5] = {"producer", "cimsim version", "arch", "workload",
                                         "mapping"};
    for (int i = 0; i < 5; i++) {
        cs_status st = get_str(r, &h, names[i], &r->strs[i], err);
        if (st != CS_OK)
            return st;
    }
    r->meta.producer = r->strs[0];
    r->meta.cimsim_version = r->strs[1];
    r->meta.arch = r->strs[2];
    r->meta.workload = r->strs[3];
    r->meta.mapping = r->strs[4];

    uint64_t at = hoff(&h);
    uint32_t nkv;
    if (!get_u32h(&h, &nkv))
        return fail(r, err, CS_FORMAT, at, "header: metadata count runs past the header");
    if (nkv > CS_TRACE_MAX_META || nkv > (h.end - h.pos) / 8)
        return fail(r, err, CS_FORMAT, at, "header: %u metadata pairs (at most %d, and %u bytes "
                    "left)", nkv, CS_TRACE_MAX_META, h.end - h.pos);
    r->kv = cs_calloc(nkv ? nkv : 1, sizeof *r->kv);
    for (uint32_t i = 0; i < nkv; i++) {
        char *k = NULL, *v = NULL;
        at = hoff(&h);
        cs_status st = get_str(r, &h, "metadata key", &k, err);
        if (st == CS_OK)
            st = get_str(r, &h, "metadata value", &v, err);
        r->kv[i].key = k;
        r->kv[i].value = v;
        r->meta.nkv = i + 1; /* freed with the reader from here on */
        if (st != CS_OK)
            return st;
        if (!cs__trace_key_ok(k))
            return fail(r, err, CS_FORMAT, at, "header: metadata key '%.64s' is not of "
                        "[A-Za-z0-9_.:/-]+", k);
        for (uint32_t j = 0; j < i; j++)
            if (strcmp(r->kv[j].key, k) == 0)
                return fail(r, err, CS_FORMAT, at, "header: metadata key '%.64s' repeated", k);
    }
    r->meta.kv = r->kv;

    at = hoff(&h);
    if ((uint64_t)nstreams * 5 > h.end - h.pos)
        return fail(r, err, CS_FORMAT, at, "header: the table of %u streams runs past the header",
                    nstreams);
    r->streams = cs_calloc(nstreams, sizeof *r->streams);
    uint64_t *keys = cs_malloc(sizeof *keys * nstreams);
    for (uint32_t i = 0; i < nstreams; i++) {
        const uint8_t *e = p + h.pos + 5 * (size_t)i;
        r->streams[i].kind = e[0];
        r->streams[i].unit = cs__get_u32(e + 1);
        keys[i] = (uint64_t)e[0] << 32 | r->streams[i].unit;
        if (e[0] > CS_STREAM_CIM) {
            cs_free(keys);
            return fail(r, err, CS_FORMAT, at + 5 * (uint64_t)i,
                        "header: stream %u has unknown kind %u (0 = sm, 1 = cim)", i, e[0]);
        }
    }
    qsort(keys, nstreams, sizeof *keys, cmp_u64);
    for (uint32_t i = 1; i < nstreams; i++)
        if (keys[i] == keys[i - 1]) {
            uint64_t k = keys[i];
            cs_free(keys);
            return fail(r, err, CS_FORMAT, at, "header: two streams for %s %u",
                        (k >> 32) ? "cim" : "sm", (unsigned)(k & 0xffffffffu));
        }
    cs_free(keys);
    h.pos += 5 * nstreams;
    r->meta.nstreams = nstreams;
    r->meta.streams = r->streams;
    if (h.pos != h.end)
        return fail(r, err, CS_FORMAT, hoff(&h), "header: %u unexpected bytes after the stream "
                    "table", h.end - h.pos);
    return CS_OK;
}

static cs_status read_header(cs_trace_reader *r, cs_err *err)
{
    uint8_t pro[CS__TRACE_PROLOGUE_BYTES];
    size_t have = r->size < sizeof pro ? (size_t)r->size : sizeof pro;
    cs_status st = read_at(r, 0, pro, have, err);
    if (st != CS_OK)
        return st;
    uint8_t fm[4];
    cs__put_u32(fm, CS__TRACE_MAGIC_HEADER);
    for (size_t i = 0; i < 4 && i < have; i++)
        if (pro[i] != fm[i])
            return fail(r, err, CS_BAD_MAGIC, 0, "bad magic: not a cimsim trace (a trace starts "
                        "with bytes 5a 2a 4d 18)");
    for (size_t i = 8; i < 16 && i < have; i++)
        if (pro[i] != cs__trace_magic[i - 8])
            return fail(r, err, CS_BAD_MAGIC, 8, "bad magic: a zstd skippable frame, but not a "
                        "cimsim trace header");
    if (have < sizeof pro)
        return fail(r, err, CS_TRUNCATED, r->size, "truncated: the file ends inside the trace "
                    "header (%llu bytes)", (unsigned long long)r->size);
    uint32_t version = cs__get_u32(pro + 16);
    if (version < CS_TRACE_VERSION_MIN || version > CS_TRACE_VERSION)
        return fail(r, err, CS_BAD_VERSION, 16, "unsupported trace format version %u (this "
                    "cimsim reads versions %d to %d)", version, CS_TRACE_VERSION_MIN, CS_TRACE_VERSION);
    uint32_t payload = cs__get_u32(pro + 4);
    uint32_t min_payload = CS__TRACE_HEADER_FIXED_BYTES + 5 * 4 + 4 + 5 + 4;
    if (payload < min_payload || payload > CS__TRACE_HEADER_MAX_BYTES)
        return fail(r, err, CS_FORMAT, 4, "header size %u (must be %u..%d)", payload,
                    min_payload, CS__TRACE_HEADER_MAX_BYTES);
    if (8 + (uint64_t)payload > r->size)
        return fail(r, err, CS_TRUNCATED, r->size, "truncated: the header needs %llu bytes, the "
                    "file has %llu", (unsigned long long)(8 + (uint64_t)payload),
                    (unsigned long long)r->size);
    uint8_t *p = cs_malloc(payload);
    st = read_at(r, 8, p, payload, err);
    if (st == CS_OK) {
        uint32_t stored = cs__get_u32(p + payload - 4);
        uint32_t crc = cs_trace_crc32(0, p, payload - 4);
        if (stored != crc)
            st = fail(r, err, CS_CHECKSUM, 8, "header checksum mismatch (stored 0x%08x, "
                      "computed 0x%08x)", stored, crc);
    }
    if (st == CS_OK)
        st = parse_header(r, p, payload, err);
    cs_free(p);
    r->data_start = 8 + (uint64_t)payload;
    return st;
}

/* ---- footer (section 7) and index (section 6) ---------------------------------------------- */

static cs_status read_footer(cs_trace_reader *r, cs_err *err)
{
    uint32_t n = r->meta.nstreams;
    if (r->size - r->data_start < CS__TRACE_TAIL_BYTES)
        return fail(r, err, CS_TRUNCATED, r->size, "truncated: no room for the trace footer after "
                    "the header");
    uint64_t tail_off = r->size - CS__TRACE_TAIL_BYTES;
    uint8_t t[CS__TRACE_TAIL_BYTES];
    cs_status st = read_at(r, tail_off, t, sizeof t, err);
    if (st != CS_OK)
        return st;
    if (memcmp(t + 48, cs__trace_end_magic, 8) != 0)
        return fail(r, err, CS_TRUNCATED, r->size, "truncated: the file does not end with a trace "
                    "footer (end magic missing at byte %llu)", (unsigned long long)(tail_off + 48));
    r->index_offset = cs__get_u64(t);
    r->index_bytes = cs__get_u64(t + 8);
    r->nchunks = cs__get_u64(t + 16);
    r->total_records = cs__get_u64(t + 24);
    uint32_t tn = cs__get_u32(t + 32);
    uint32_t index_crc = cs__get_u32(t + 36);
    uint32_t footer_crc = cs__get_u32(t + 40);
    uint64_t payload = 8 * (uint64_t)n + CS__TRACE_TAIL_BYTES;
    if (tn != n)
        return fail(r, err, CS_FORMAT, tail_off + 32, "footer: %u streams, the header says %u", tn,
                    n);
    if (r->size - r->data_start < 8 + payload)
        return fail(r, err, CS_FORMAT, tail_off, "footer: %llu bytes do not fit after the header",
                    (unsigned long long)(8 + payload));
    r->footer_offset = r->size - 8 - payload;
    uint8_t fh[8];
    if ((st = read_at(r, r->footer_offset, fh, 8, err)) != CS_OK)
        return st;
    if (cs__get_u32(fh) != CS__TRACE_MAGIC_FOOTER || cs__get_u32(fh + 4) != payload)
        return fail(r, err, CS_FORMAT, r->footer_offset, "footer frame: expected magic 0x%08x "
                    "and size %llu, found 0x%08x and %u", CS__TRACE_MAGIC_FOOTER,
                    (unsigned long long)payload, cs__get_u32(fh), cs__get_u32(fh + 4));
    /* Per-stream totals: read block by block, checksummed; kept only once the crc matches. */
    uint8_t *blk = cs_malloc(SCAN_BYTES);
    uint32_t crc = 0;
    uint64_t sum = 0;
    for (uint32_t s = 0; s < n && st == CS_OK;) {
        uint32_t k = n - s < SCAN_BYTES / 8 ? n - s : SCAN_BYTES / 8;
        st = read_at(r, r->footer_offset + 8 + 8 * (uint64_t)s, blk, 8 * (size_t)k, err);
        if (st != CS_OK)
            break;
        crc = cs_trace_crc32(crc, blk, 8 * (size_t)k);
        for (uint32_t i = 0; i < k; i++, s++) {
            r->st[s].records = cs__get_u64(blk + 8 * i);
            sum += r->st[s].records;
        }
    }
    cs_free(blk);
    if (st != CS_OK)
        return st;
    crc = cs_trace_crc32(crc, t, 40);
    if (crc != footer_crc)
        return fail(r, err, CS_CHECKSUM, r->footer_offset, "footer checksum mismatch (stored "
                    "0x%08x, computed 0x%08x)", footer_crc, crc);
    if (cs__get_u32(t + 44) != 0)
        return fail(r, err, CS_FORMAT, tail_off + 44, "footer: reserved field is not zero");
    if (sum != r->total_records)
        return fail(r, err, CS_FORMAT, tail_off + 24, "record count: the footer says %llu in "
                    "all, its per-stream totals add up to %llu",
                    (unsigned long long)r->total_records, (unsigned long long)sum);
    if (r->index_offset < r->data_start || r->index_bytes > r->footer_offset ||
        r->index_offset != r->footer_offset - 8 - r->index_bytes)
        return fail(r, err, CS_FORMAT, tail_off, "footer: an index of %llu bytes at byte %llu "
                    "does not end where the footer starts (byte %llu)",
                    (unsigned long long)r->index_bytes, (unsigned long long)r->index_offset,
                    (unsigned long long)r->footer_offset);
    r->index_crc = index_crc;
    return CS_OK;
}

/* Validates entry e, the k-th chunk of stream s found at file offset at. */
static cs_status check_entry(const cs_trace_reader *r, uint32_t s, uint64_t k,
                             const cs__trace_entry *e, uint64_t at, uint64_t prev_end,
                             cs_err *err)
{
    if (e->stream != s)
        return fail(r, err, CS_FORMAT, at, "index: an entry of stream %u is listed under stream "
                    "%u", e->stream, s);
    if (e->reserved)
        return fail(r, err, CS_FORMAT, at + 28, "index: reserved field is not zero");
    if (e->records < 1 || e->records > r->chunk_records)
        return fail(r, err, CS_FORMAT, at + 16, "record count: stream %u chunk %llu lists %u "
                    "records (must be 1..%u)", s, (unsigned long long)k, e->records,
                    r->chunk_records);
    if (e->raw_bytes < 2 * (uint64_t)e->records ||
        e->raw_bytes > (uint64_t)CS_TRACE_RECORD_MAX_BYTES * e->records)
        return fail(r, err, CS_FORMAT, at + 12, "index: stream %u chunk %llu: %u decoded bytes "
                    "cannot hold %u records", s, (unsigned long long)k, e->raw_bytes, e->records);
    if (e->compressed_bytes < 1 || e->compressed_bytes > ZSTD_compressBound(e->raw_bytes))
        return fail(r, err, CS_FORMAT, at + 8, "index: stream %u chunk %llu: %u compressed bytes "
                    "for %u decoded bytes", s, (unsigned long long)k, e->compressed_bytes,
                    e->raw_bytes);
    uint64_t lo = prev_end > r->data_start ? prev_end : r->data_start;
    if (e->offset < lo || e->offset > r->index_offset ||
        e->compressed_bytes > r->index_offset - e->offset)
        return fail(r, err, CS_FORMAT, at, "index: stream %u chunk %llu at byte %llu (%u bytes) "
                    "lies outside the data region or before the previous chunk of its stream",
                    s, (unsigned long long)k, (unsigned long long)e->offset, e->compressed_bytes);
    return CS_OK;
}

static cs_status read_index(cs_trace_reader *r, cs_err *err)
{
    uint32_t n = r->meta.nstreams;
    uint64_t io = r->index_offset;
    uint8_t fh[8];
    cs_status st = read_at(r, io, fh, 8, err);
    if (st != CS_OK)
        return st;
    if (cs__get_u32(fh) != CS__TRACE_MAGIC_INDEX || cs__get_u32(fh + 4) != r->index_bytes)
        return fail(r, err, CS_FORMAT, io, "index frame: expected magic 0x%08x and size %llu, "
                    "found 0x%08x and %u", CS__TRACE_MAGIC_INDEX,
                    (unsigned long long)r->index_bytes, cs__get_u32(fh), cs__get_u32(fh + 4));
    uint64_t head = CS__TRACE_INDEX_HEAD_BYTES + 8 * (uint64_t)n;
    if (r->index_bytes < head || (r->index_bytes - head) / CS__TRACE_ENTRY_BYTES != r->nchunks ||
        (r->index_bytes - head) % CS__TRACE_ENTRY_BYTES != 0)
        return fail(r, err, CS_FORMAT, io + 4, "index: %llu bytes cannot hold %llu entries for "
                    "%u streams", (unsigned long long)r->index_bytes,
                    (unsigned long long)r->nchunks, n);
    uint32_t crc = 0;
    if ((st = crc_range(r, io + 8, r->index_bytes, &crc, err)) != CS_OK)
        return st;
    if (crc != r->index_crc)
        return fail(r, err, CS_CHECKSUM, io, "index checksum mismatch (footer says 0x%08x, "
                    "computed 0x%08x)", r->index_crc, crc);
    uint8_t ih[CS__TRACE_INDEX_HEAD_BYTES];
    if ((st = read_at(r, io + 8, ih, sizeof ih, err)) != CS_OK)
        return st;
    if (memcmp(ih, cs__trace_index_tag, 4) != 0)
        return fail(r, err, CS_FORMAT, io + 8, "index: tag is not CSIX");
    if (cs__get_u32(ih + 4) != n || cs__get_u64(ih + 8) != r->nchunks)
        return fail(r, err, CS_FORMAT, io + 12, "index: %u streams and %llu chunks, the footer "
                    "says %u and %llu", cs__get_u32(ih + 4),
                    (unsigned long long)cs__get_u64(ih + 8), n, (unsigned long long)r->nchunks);
    r->entries_off = io + 8 + head;

    uint8_t *blk = cs_malloc(SCAN_BYTES);
    uint64_t sum = 0;
    for (uint32_t s = 0; s < n && st == CS_OK;) {
        uint32_t k = n - s < SCAN_BYTES / 8 ? n - s : SCAN_BYTES / 8;
        st = read_at(r, io + 8 + CS__TRACE_INDEX_HEAD_BYTES + 8 * (uint64_t)s, blk,
                     8 * (size_t)k, err);
        for (uint32_t i = 0; i < k && st == CS_OK; i++, s++) {
            r->st[s].first = sum;
            r->st[s].nchunks = cs__get_u64(blk + 8 * i);
            if (r->st[s].nchunks > r->nchunks - sum)
                st = fail(r, err, CS_FORMAT, io + 8 + CS__TRACE_INDEX_HEAD_BYTES + 8 * (uint64_t)s,
                          "index: chunks per stream add up to more than %llu",
                          (unsigned long long)r->nchunks);
            else
                sum += r->st[s].nchunks;
        }
    }
    if (st == CS_OK && sum != r->nchunks)
        st = fail(r, err, CS_FORMAT, io + 8 + CS__TRACE_INDEX_HEAD_BYTES, "index: chunks per "
                  "stream add up to %llu, not %llu", (unsigned long long)sum,
                  (unsigned long long)r->nchunks);

    /* Entries, in order: stream by stream. */
    uint32_t s = 0;
    uint64_t k = 0, prev_end = 0, max_csize = 0;
    for (uint64_t i = 0; i < r->nchunks && st == CS_OK;) {
        size_t m = r->nchunks - i < SCAN_ENTRIES ? (size_t)(r->nchunks - i) : SCAN_ENTRIES;
        uint64_t at = r->entries_off + i * CS__TRACE_ENTRY_BYTES;
        st = read_at(r, at, blk, m * CS__TRACE_ENTRY_BYTES, err);
        for (size_t j = 0; j < m && st == CS_OK; j++, i++, k++) {
            while (k == r->st[s].nchunks) { /* stream s done: to the next one with chunks */
                s++;
                k = 0;
                prev_end = 0;
            }
            cs__trace_entry e;
            cs__trace_entry_get(blk + j * CS__TRACE_ENTRY_BYTES, &e);
            st = check_entry(r, s, k, &e, at + j * CS__TRACE_ENTRY_BYTES, prev_end, err);
            if (st != CS_OK)
                break;
            prev_end = e.offset + e.compressed_bytes;
            rstream *rs = &r->st[s];
            rs->compressed += e.compressed_bytes;
            rs->idx_records += e.records;
            rs->raw += e.raw_bytes;
            if (e.raw_bytes > rs->max_raw)
                rs->max_raw = e.raw_bytes;
            if (e.compressed_bytes > max_csize)
                max_csize = e.compressed_bytes;
        }
    }
    cs_free(blk);
    if (st != CS_OK)
        return st;
    uint64_t need = max_csize;
    for (s = 0; s < n; s++) {
        if (r->st[s].idx_records != r->st[s].records)
            return fail(r, err, CS_FORMAT, r->footer_offset + 8 + 8 * (uint64_t)s,
                        "record count: stream %u: the index lists %llu records, the footer %llu",
                        s, (unsigned long long)r->st[s].idx_records,
                        (unsigned long long)r->st[s].records);
        need += r->st[s].max_raw;
        if (r->st[s].max_raw > r->max_raw)
            r->max_raw = r->st[s].max_raw;
    }
    if (need > BUFFER_LIMIT_BYTES)
        return fail(r, err, CS_UNSUPPORTED, r->entries_off, "reading this trace needs %llu MiB "
                    "of chunk buffers (this reader allows %llu MiB)",
                    (unsigned long long)(need >> 20),
                    (unsigned long long)(BUFFER_LIMIT_BYTES >> 20));
    r->in_cap = (size_t)max_csize;
    return CS_OK;
}

/* ---- lifecycle ------------------------------------------------------------------------------ */

static cs_status src_next(cs_opsrc *src, uint32_t s, cs_op *op, bool *eof, cs_err *err)
{
    return cs_trace_next((cs_trace_reader *)src, s, op, eof, err);
}

static void src_destroy(cs_opsrc *src)
{
    cs_trace_close((cs_trace_reader *)src);
}

static const cs_opsrc_vt src_vt = {src_next, src_destroy};

void cs_trace_close(cs_trace_reader *r)
{
    if (!r)
        return;
    if (r->fd >= 0)
        close(r->fd);
    for (int i = 0; i < 5; i++)
        cs_free(r->strs[i]);
    if (r->kv)
        for (uint32_t i = 0; i < r->meta.nkv; i++) {
            cs_free((char *)r->kv[i].key);
            cs_free((char *)r->kv[i].value);
        }
    cs_free(r->kv);
    cs_free(r->streams);
    if (r->st)
        for (uint32_t s = 0; s < r->src.nstreams; s++)
            cs_free(r->st[s].cur);
    cs_free(r->st);
    cs_free(r->in);
    ZSTD_freeDCtx(r->dctx);
    cs_free(r->name);
    cs_free(r);
}

static cs_status open_common(cs_trace_reader *r, cs_err *err)
{
    cs_status st = read_header(r, err);
    if (st != CS_OK)
        return st;
    r->st = cs_calloc(r->meta.nstreams, sizeof *r->st);
    r->src.vt = &src_vt;
    r->src.nstreams = r->meta.nstreams;
    r->src.streams = r->streams;
    if ((st = read_footer(r, err)) != CS_OK || (st = read_index(r, err)) != CS_OK)
        return st;
    r->dctx = ZSTD_createDCtx();
    if (!r->dctx)
        return fail(r, err, CS_INTERNAL, 0, "cannot create a zstd context");
    size_t z = ZSTD_DCtx_setParameter(r->dctx, ZSTD_d_windowLogMax, CS__TRACE_WINDOW_LOG_MAX);
    if (ZSTD_isError(z))
        return fail(r, err, CS_INTERNAL, 0, "zstd: %s", ZSTD_getErrorName(z));
    r->in = cs_malloc(r->in_cap ? r->in_cap : 1);
    r->buffered = r->in_cap;
    return CS_OK;
}

static cs_trace_reader *new_reader(const char *name)
{
    cs_trace_reader *r = cs_calloc(1, sizeof *r);
    r->fd = -1;
    r->name = cs_strdup(name);
    return r;
}

cs_status cs_trace_open(const char *path, cs_trace_reader **out, cs_err *err)
{
    *out = NULL;
    cs_trace_reader *r = new_reader(path);
    r->fd = open(path, O_RDONLY);
    struct stat sb;
    const char *why = NULL;
    cs_status st = CS_IO;
    if (r->fd < 0) {
        st = errno == ENOENT ? CS_NOT_FOUND : CS_IO;
        why = strerror(errno);
    } else if (fstat(r->fd, &sb) != 0) {
        why = strerror(errno);
    } else if (S_ISDIR(sb.st_mode)) {
        why = "is a directory";
    } else if (!S_ISREG(sb.st_mode)) {
        why = "not a regular file";
    }
    if (why) {
        cs_err_add(err, st, "%s: error: cannot open: %s", path, why);
        cs_trace_close(r);
        return st;
    }
    r->size = (uint64_t)sb.st_size;
    st = open_common(r, err);
    if (st != CS_OK) {
        cs_trace_close(r);
        return st;
    }
    *out = r;
    return CS_OK;
}

cs_status cs_trace_open_mem(const void *data, size_t len, const char *name,
                            cs_trace_reader **out, cs_err *err)
{
    *out = NULL;
    static const uint8_t empty[1];
    cs_trace_reader *r = new_reader(name ? name : "<memory>");
    r->mem = data ? data : empty;
    r->size = data ? len : 0;
    cs_status st = open_common(r, err);
    if (st != CS_OK) {
        cs_trace_close(r);
        return st;
    }
    *out = r;
    return CS_OK;
}

const cs_trace_meta *cs_trace_reader_meta(const cs_trace_reader *r)
{
    return &r->meta;
}

uint32_t cs_trace_reader_chunk_records(const cs_trace_reader *r)
{
    return r->chunk_records;
}

uint64_t cs_trace_reader_file_bytes(const cs_trace_reader *r)
{
    return r->size;
}

void cs_trace_reader_stream_stats(const cs_trace_reader *r, uint32_t stream,
                                  cs_trace_stream_stats *out)
{
    memset(out, 0, sizeof *out);
    if (stream >= r->meta.nstreams)
        return;
    const rstream *t = &r->st[stream];
    out->records = t->records;
    out->chunks = t->nchunks;
    out->compressed_bytes = t->compressed;
    out->raw_bytes = t->raw;
}

cs_opsrc *cs_trace_reader_src(cs_trace_reader *r)
{
    return &r->src;
}

size_t cs_trace_reader_buffered_bytes(const cs_trace_reader *r)
{
    return r->buffered;
}

/* ---- chunks (section 5) --------------------------------------------------------------------- */

static cs_status read_entry(const cs_trace_reader *r, uint32_t s, uint64_t k, cs__trace_entry *e,
                            cs_err *err)
{
    const rstream *t = &r->st[s];
    uint64_t at = r->entries_off + (t->first + k) * CS__TRACE_ENTRY_BYTES;
    uint8_t b[CS__TRACE_ENTRY_BYTES];
    cs_status st = read_at(r, at, b, sizeof b, err);
    if (st != CS_OK)
        return st;
    cs__trace_entry_get(b, e);
    /* Checked at open, checked again: a file may change under a long replay. */
    st = check_entry(r, s, k, e, at, t->prev_end, err);
    if (st == CS_OK && e->raw_bytes > t->max_raw)
        st = fail(r, err, CS_FORMAT, at, "index: stream %u chunk %llu changed since the trace "
                  "was opened", s, (unsigned long long)k);
    return st;
}

/* Reads, verifies and decompresses chunk k of stream s (entry e) into dst (e->raw_bytes). */
static cs_status load_chunk(cs_trace_reader *r, uint32_t s, uint64_t k, const cs__trace_entry *e,
                            uint8_t *dst, cs_err *err)
{
    uint64_t at = e->offset;
    size_t n = e->compressed_bytes;
    if (n > r->in_cap)
        return fail(r, err, CS_FORMAT, at, "stream %u chunk %llu changed since the trace was "
                    "opened", s, (unsigned long long)k);
    cs_status st = read_at(r, at, r->in, n, err);
    if (st != CS_OK)
        return st;
    uint32_t crc = cs_trace_crc32(0, r->in, n);
    if (crc != e->crc)
        return fail(r, err, CS_CHECKSUM, at, "stream %u chunk %llu: checksum mismatch in the "
                    "compressed chunk (index says 0x%08x, computed 0x%08x)", s,
                    (unsigned long long)k, e->crc, crc);
    if (n < 5 || cs__get_u32(r->in) != CS__TRACE_ZSTD_MAGIC)
        return fail(r, err, CS_FORMAT, at, "stream %u chunk %llu is not a zstd frame", s,
                    (unsigned long long)k);
    if (!((r->in[4] >> 2) & 1))
        return fail(r, err, CS_FORMAT, at + 4, "stream %u chunk %llu: zstd frame without a "
                    "content checksum", s, (unsigned long long)k);
    unsigned long long fcs = ZSTD_getFrameContentSize(r->in, n);
    if (fcs != e->raw_bytes)
        return fail(r, err, CS_FORMAT, at + 4, "stream %u chunk %llu: zstd frame content size "
                    "%s%llu, the index says %u", s, (unsigned long long)k,
                    fcs == ZSTD_CONTENTSIZE_UNKNOWN ? "unknown " : "",
                    fcs >= ZSTD_CONTENTSIZE_ERROR ? 0ull : fcs, e->raw_bytes);
    size_t z = ZSTD_DCtx_reset(r->dctx, ZSTD_reset_session_only);
    if (ZSTD_isError(z))
        return fail(r, err, CS_INTERNAL, at, "zstd: %s", ZSTD_getErrorName(z));
    ZSTD_inBuffer in = {r->in, n, 0};
    ZSTD_outBuffer ob = {dst, e->raw_bytes, 0};
    for (;;) {
        size_t in0 = in.pos, out0 = ob.pos;
        z = ZSTD_decompressStream(r->dctx, &ob, &in);
        if (ZSTD_isError(z)) {
            if (ZSTD_getErrorCode(z) == ZSTD_error_checksum_wrong)
                return fail(r, err, CS_CHECKSUM, at, "stream %u chunk %llu: zstd content "
                            "checksum mismatch", s, (unsigned long long)k);
            return fail(r, err, CS_FORMAT, at, "stream %u chunk %llu: zstd: %s", s,
                        (unsigned long long)k, ZSTD_getErrorName(z));
        }
        if (z == 0)
            break;
        if (in.pos == in0 && ob.pos == out0)
            return fail(r, err, CS_FORMAT, at, "stream %u chunk %llu: the zstd frame is "
                        "incomplete or larger than %u bytes", s, (unsigned long long)k,
                        e->raw_bytes);
    }
    if (in.pos != in.size)
        return fail(r, err, CS_FORMAT, at + in.pos, "stream %u chunk %llu: %zu bytes after the "
                    "zstd frame", s, (unsigned long long)k, in.size - in.pos);
    if (ob.pos != e->raw_bytes)
        return fail(r, err, CS_FORMAT, at, "stream %u chunk %llu: decompressed to %zu bytes, the "
                    "index says %u", s, (unsigned long long)k, ob.pos, e->raw_bytes);
    return CS_OK;
}

/* ---- replay (cs_opsrc) ------------------------------------------------------------------- */

static cs_status stream_fail(cs_trace_reader *r, uint32_t s, cs_status st)
{
    r->st[s].failed = st;
    return st;
}

cs_status cs_trace_next(cs_trace_reader *r, uint32_t s, cs_op *op, bool *eof, cs_err *err)
{
    *eof = false;
    if (s >= r->meta.nstreams)
        return cs_err_add(err, CS_INVALID, "%s: error: stream %u out of range (trace has %u)",
                          r->name, s, r->meta.nstreams);
    rstream *t = &r->st[s];
    if (t->failed)
        return cs_err_add(err, t->failed, "%s: error: stream %u failed earlier", r->name, s);
    rcur *c = t->cur;
    while (!c || c->pos == c->len) {
        if (c && c->got != c->e.records)
            return stream_fail(r, s, fail(r, err, CS_FORMAT, c->e.offset, "record count: "
                               "stream %u chunk %llu holds %u records, the index says %u", s,
                               (unsigned long long)c->chunk, c->got, c->e.records));
        if (t->next_chunk == t->nchunks) {
            if (t->read != t->records)
                return stream_fail(r, s, fail(r, err, CS_FORMAT, r->footer_offset + 8 + 8 * s,
                                   "record count: stream %u ended after %llu records, the "
                                   "footer says %llu", s, (unsigned long long)t->read,
                                   (unsigned long long)t->records));
            *eof = true;
            return CS_OK;
        }
        if (!c) {
            c = t->cur = cs_malloc(sizeof *c + t->max_raw);
            r->buffered += sizeof *c + t->max_raw;
        }
        cs_status st = read_entry(r, s, t->next_chunk, &c->e, err);
        if (st == CS_OK)
            st = load_chunk(r, s, t->next_chunk, &c->e, c->buf, err);
        if (st != CS_OK)
            return stream_fail(r, s, st);
        t->prev_end = c->e.offset + c->e.compressed_bytes;
        c->chunk = t->next_chunk++;
        c->pos = 0;
        c->len = c->e.raw_bytes;
        c->got = 0;
        memset(c->prev, 0, sizeof c->prev);
    }
    if (c->got == c->e.records)
        return stream_fail(r, s, fail(r, err, CS_FORMAT, c->e.offset, "record count: stream %u "
                           "chunk %llu holds more than the %u records the index says", s,
                           (unsigned long long)c->chunk, c->e.records));
    char why[WHY_BYTES];
    size_t used = cs__trace_decode(c->buf + c->pos, c->len - c->pos, c->prev, op, why, sizeof why);
    if (!used)
        return stream_fail(r, s, fail(r, err, CS_FORMAT, c->e.offset, "stream %u chunk %llu "
                           "record %llu (decoded byte %u): %s", s, (unsigned long long)c->chunk,
                           (unsigned long long)t->read, c->pos, why));
    c->pos += (uint32_t)used;
    c->got++;
    t->read++;
    return CS_OK;
}

/* ---- check: every chunk, in file order ------------------------------------------------------ */

typedef struct walk {
    cs__trace_entry *next; /* per stream: its next chunk */
    uint64_t *k;           /* per stream: that chunk's number */
    uint32_t *heap;        /* streams with chunks left, min-heap on next[].offset */
    uint32_t n;
} walk;

static bool heap_less(const walk *w, uint32_t a, uint32_t b)
{
    return w->next[w->heap[a]].offset < w->next[w->heap[b]].offset;
}

static void heap_swap(walk *w, uint32_t a, uint32_t b)
{
    uint32_t t = w->heap[a];
    w->heap[a] = w->heap[b];
    w->heap[b] = t;
}

static void heap_down(walk *w, uint32_t i)
{
    for (;;) {
        uint32_t l = 2 * i + 1, m = i;
        if (l < w->n && heap_less(w, l, m))
            m = l;
        if (l + 1 < w->n && heap_less(w, l + 1, m))
            m = l + 1;
        if (m == i)
            return;
        heap_swap(w, i, m);
        i = m;
    }
}

static cs_status check_chunks(cs_trace_reader *r, cs_err *err)
{
    uint32_t ns = r->meta.nstreams;
    walk w = {cs_calloc(ns, sizeof *w.next), cs_calloc(ns, sizeof *w.k),
              cs_calloc(ns, sizeof *w.heap), 0};
    uint8_t *buf = cs_malloc(r->max_raw ? r->max_raw : 1);
    cs_status st = CS_OK;
    for (uint32_t s = 0; s < ns && st == CS_OK; s++)
        if (r->st[s].nchunks) {
            st = read_entry(r, s, 0, &w.next[s], err);
            w.heap[w.n++] = s;
        }
    for (uint32_t i = w.n / 2; i-- > 0;)
        heap_down(&w, i);
    uint64_t pos = r->data_start;
    cs_op prev[CS_OP_KIND_COUNT];
    char why[WHY_BYTES];
    while (w.n && st == CS_OK) {
        uint32_t s = w.heap[0];
        const cs__trace_entry *e = &w.next[s];
        uint64_t k = w.k[s];
        if (e->offset > pos) {
            st = fail(r, err, CS_FORMAT, pos, "bytes %llu..%llu belong to no chunk",
                      (unsigned long long)pos, (unsigned long long)e->offset - 1);
            break;
        }
        if (e->offset < pos) {
            st = fail(r, err, CS_FORMAT, e->offset, "stream %u chunk %llu overlaps another chunk",
                      s, (unsigned long long)k);
            break;
        }
        if ((st = load_chunk(r, s, k, e, buf, err)) != CS_OK)
            break;
        memset(prev, 0, sizeof prev);
        uint32_t at = 0, got = 0;
        while (at < e->raw_bytes) {
            cs_op op;
            size_t used = cs__trace_decode(buf + at, e->raw_bytes - at, prev, &op, why,
                                           sizeof why);
            if (!used) {
                st = fail(r, err, CS_FORMAT, e->offset, "stream %u chunk %llu record %u of the "
                          "chunk (decoded byte %u): %s", s, (unsigned long long)k, got, at, why);
                break;
            }
            at += (uint32_t)used;
            got++;
        }
        if (st == CS_OK && got != e->records)
            st = fail(r, err, CS_FORMAT, e->offset, "record count: stream %u chunk %llu holds %u "
                      "records, the index says %u", s, (unsigned long long)k, got, e->records);
        if (st != CS_OK)
            break;
        pos = e->offset + e->compressed_bytes;
        r->st[s].prev_end = pos;
        if (++w.k[s] < r->st[s].nchunks) {
            st = read_entry(r, s, w.k[s], &w.next[s], err);
        } else {
            w.heap[0] = w.heap[--w.n];
        }
        heap_down(&w, 0);
    }
    if (st == CS_OK && pos != r->index_offset)
        st = fail(r, err, CS_FORMAT, pos, "bytes %llu..%llu before the index belong to no chunk",
                  (unsigned long long)pos, (unsigned long long)r->index_offset - 1);
    cs_free(buf);
    cs_free(w.heap);
    cs_free(w.k);
    cs_free(w.next);
    return st;
}

static cs_status check_reader(cs_trace_reader *r, uint64_t *records, uint64_t *chunks,
                              cs_err *err)
{
    cs_status st = check_chunks(r, err);
    if (st == CS_OK) {
        if (records)
            *records = r->total_records;
        if (chunks)
            *chunks = r->nchunks;
    }
    cs_trace_close(r);
    return st;
}

cs_status cs_trace_check(const char *path, uint64_t *records, uint64_t *chunks, cs_err *err)
{
    cs_trace_reader *r;
    cs_status st = cs_trace_open(path, &r, err);
    return st == CS_OK ? check_reader(r, records, chunks, err) : st;
}

cs_status cs_trace_check_mem(const void *data, size_t len, const char *name, uint64_t *records,
                             uint64_t *chunks, cs_err *err)
{
    cs_trace_reader *r;
    cs_status st = cs_trace_open_mem(data, len, name, &r, err);
    return st == CS_OK ? check_reader(r, records, chunks, err) : st;
}

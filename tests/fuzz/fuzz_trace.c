/* fuzz_trace — libFuzzer target for the trace reader and checker (traces/trace.h).
 *
 * The first input byte picks how the rest is used, so mutations reach past the checksums that
 * would otherwise reject almost every input at the first crc:
 *   mode 0: the bytes are a trace file, as they are;
 *   mode 1: the bytes are a trace file whose checksums are repaired first
 *           (cs__trace_fix_checksums), so the structure behind them is exercised;
 *   mode 2: the bytes (after one more control byte) are the encoded records of one chunk,
 *           wrapped here into an otherwise valid one-stream trace: the record decoder's
 *           ground.
 * Every input is checked (cs_trace_check_mem) and replayed (every stream to its end or first
 * error). Oracles beyond "no crash, no sanitizer report": a trace that checks clean replays
 * clean with the footer's record counts; decoded ops re-encode and decode to themselves.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "alloc.h"
#include "trace.h"
#include "trace_int.h"

enum { MAX_ROUNDTRIP_OPS = 4096 };

static void require(bool cond)
{
    if (!cond)
        __builtin_trap();
}

/* Re-encodes ops and decodes them again: the codec must be its own inverse. */
static void roundtrip(const cs_op *ops, size_t n)
{
    uint8_t *buf = cs_malloc(n * CS_TRACE_RECORD_MAX_BYTES + 1);
    cs_op prev[CS_OP_KIND_COUNT];
    memset(prev, 0, sizeof prev);
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        size_t k = cs__trace_encode(&ops[i], prev, buf + len);
        require(k >= 2 && k <= CS_TRACE_RECORD_MAX_BYTES);
        len += k;
    }
    memset(prev, 0, sizeof prev);
    size_t at = 0;
    char why[256];
    for (size_t i = 0; i < n; i++) {
        cs_op op;
        size_t k = cs__trace_decode(buf + at, len - at, prev, &op, why, sizeof why);
        require(k > 0);
        require(memcmp(&op, &ops[i], sizeof op) == 0);
        at += k;
    }
    require(at == len);
    cs_free(buf);
}

static void run(const uint8_t *data, size_t size)
{
    cs_err err;
    cs_err_init(&err);
    uint64_t records = 0, chunks = 0;
    cs_status checked = cs_trace_check_mem(data, size, "fuzz", &records, &chunks, &err);
    require(checked == CS_OK || err.count == 1);
    cs_trace_reader *r;
    cs_err_init(&err);
    if (cs_trace_open_mem(data, size, "fuzz", &r, &err) != CS_OK) {
        require(checked != CS_OK);
        return;
    }
    const cs_trace_meta *m = cs_trace_reader_meta(r);
    cs_op *ops = cs_malloc(sizeof *ops * MAX_ROUNDTRIP_OPS);
    uint64_t total = 0;
    bool all_ok = true;
    char line[512];
    for (uint32_t s = 0; s < m->nstreams; s++) {
        size_t n = 0;
        for (;;) {
            cs_op op;
            bool eof;
            cs_err_init(&err);
            cs_status st = cs_trace_next(r, s, &op, &eof, &err);
            if (st != CS_OK) {
                all_ok = false;
                break;
            }
            if (eof)
                break;
            total++;
            cs_trace_format_op(&op, line, sizeof line);
            if (n < MAX_ROUNDTRIP_OPS)
                ops[n++] = op;
        }
        roundtrip(ops, n);
        cs_trace_stream_stats ss;
        cs_trace_reader_stream_stats(r, s, &ss);
        (void)ss;
    }
    if (checked == CS_OK)
        require(all_ok && total == records);
    cs_free(ops);
    cs_trace_close(r);
}

/* ---- mode 2: a valid trace around one chunk of given records --------------------------------- */

static size_t put_frame_head(uint8_t *p, uint32_t magic, uint32_t size)
{
    cs__put_u32(p, magic);
    cs__put_u32(p + 4, size);
    return 8;
}

static void run_records(const uint8_t *rec, size_t n, uint8_t control)
{
    if (n < 2 || n > (size_t)CS_TRACE_MAX_CHUNK_RECORDS * 2)
        return;
    /* Records claimed: what really decodes (maybe plus one), or an arbitrary count. */
    uint32_t count = 0;
    {
        cs_op prev[CS_OP_KIND_COUNT], op;
        memset(prev, 0, sizeof prev);
        char why[256];
        size_t at = 0, k;
        while (at < n && (k = cs__trace_decode(rec + at, n - at, prev, &op, why, sizeof why)))
            at += k, count++;
        if (at < n)
            count++;
    }
    uint32_t records = control & 0x80 ? 1u + (control & 0x3f) : count + ((control >> 6) & 1);
    if (records < 1 || 2 * (uint64_t)records > n || 51 * (uint64_t)records < n)
        records = (uint32_t)(n / 2 < 1 ? 1 : n / 2 > 65536 ? 65536 : n / 2);

    size_t cap = ZSTD_compressBound(n) + 512;
    uint8_t *f = cs_malloc(cap);
    size_t len = 0;
    /* header: 5 empty strings, no metadata, one SM stream */
    uint8_t hdr[CS__TRACE_HEADER_FIXED_BYTES + 5 * 4 + 4 + 5 + 4];
    memcpy(hdr, cs__trace_magic, 8);
    cs__put_u32(hdr + 8, CS_TRACE_VERSION);
    cs__put_u32(hdr + 12, 0);
    cs__put_u32(hdr + 16, CS_TRACE_MAX_CHUNK_RECORDS);
    cs__put_u32(hdr + 20, 1);
    memset(hdr + 24, 0, 5 * 4 + 4 + 5);
    cs__put_u32(hdr + sizeof hdr - 4, cs_trace_crc32(0, hdr, sizeof hdr - 4));
    len += put_frame_head(f, CS__TRACE_MAGIC_HEADER, sizeof hdr);
    memcpy(f + len, hdr, sizeof hdr);
    len += sizeof hdr;
    /* the chunk */
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    require(cctx != NULL);
    require(!ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1)));
    require(!ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, 1)));
    size_t csize = ZSTD_compress2(cctx, f + len, cap - len, rec, n);
    ZSTD_freeCCtx(cctx);
    require(!ZSTD_isError(csize));
    cs__trace_entry e = {len, (uint32_t)csize, (uint32_t)n, records, 0,
                         cs_trace_crc32(0, f + len, csize), 0};
    len += csize;
    /* index */
    uint64_t index_offset = len;
    uint32_t index_bytes = CS__TRACE_INDEX_HEAD_BYTES + 8 + CS__TRACE_ENTRY_BYTES;
    len += put_frame_head(f + len, CS__TRACE_MAGIC_INDEX, index_bytes);
    uint8_t *ip = f + len;
    memcpy(ip, cs__trace_index_tag, 4);
    cs__put_u32(ip + 4, 1);
    cs__put_u64(ip + 8, 1);
    cs__put_u64(ip + 16, 1);
    cs__trace_entry_put(ip + 24, &e);
    len += index_bytes;
    /* footer */
    len += put_frame_head(f + len, CS__TRACE_MAGIC_FOOTER, 8 + CS__TRACE_TAIL_BYTES);
    uint8_t *fp = f + len;
    cs__put_u64(fp, records);
    cs__put_u64(fp + 8, index_offset);
    cs__put_u64(fp + 16, index_bytes);
    cs__put_u64(fp + 24, 1);
    cs__put_u64(fp + 32, records);
    cs__put_u32(fp + 40, 1);
    cs__put_u32(fp + 44, cs_trace_crc32(0, ip, index_bytes));
    cs__put_u32(fp + 48, cs_trace_crc32(0, fp, 48));
    cs__put_u32(fp + 52, 0);
    memcpy(fp + 56, cs__trace_end_magic, 8);
    len += 8 + CS__TRACE_TAIL_BYTES;
    require(len <= cap);

    cs_err err;
    cs_err_init(&err);
    cs_status st = cs_trace_check_mem(f, len, "fuzz", NULL, NULL, &err);
    require(st == CS_OK || st == CS_FORMAT); /* the wrapper itself is always sound */
    run(f, len);
    cs_free(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t mode = data[0] % 3;
    data++;
    size--;
    if (mode == 0) {
        run(data, size);
    } else if (mode == 1) {
        uint8_t *copy = cs_malloc(size ? size : 1);
        if (size)
            memcpy(copy, data, size);
        cs__trace_fix_checksums(copy, size);
        run(copy, size);
        cs_free(copy);
    } else if (size >= 1) {
        run_records(data + 1, size - 1, data[0]);
    }
    return 0;
}

/* trace — op-stream traces on disk (.cstr): streaming writer, replaying reader, checker, and
 * the plain-text form. The format is specified in docs/trace-format.md.
 *
 * Responsible for: encoding op records field by field with per-kind validity rules, cutting
 * each stream into zstd-compressed chunks, the index and footer, atomic output (a temp file
 * renamed at the end), and reporting every corruption with its byte offset. Memory is bounded
 * by streams x chunk size on both sides, whatever the trace's length.
 *
 * Not responsible for: producing op streams (workloads/ mappers) or deciding what a stream
 * means (the simulator binds stream i to unit streams[i]). A reader is a cs_opsrc
 * (sim/core/opsrc.h), so a replay is indistinguishable from a direct run.
 *
 * Errors: every call returns a cs_status and adds messages to a cs_err; binary problems read
 * "FILE: byte OFFSET: error: WHAT", text problems "FILE:LINE: error: WHAT". Truncation, bad
 * magic, unsupported version and checksum mismatches have distinct statuses (CS_TRUNCATED,
 * CS_BAD_MAGIC, CS_BAD_VERSION, CS_CHECKSUM); other inconsistencies are CS_FORMAT. Invalid
 * ops handed to the writer are CS_INVALID; operating-system failures CS_IO.
 */
#ifndef CS_TRACE_H
#define CS_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"
#include "op.h"
#include "opsrc.h"

enum {
    CS_TRACE_VERSION = 2,                  /* the format version this code writes */
    CS_TRACE_VERSION_MIN = 1,              /* the oldest version it reads (1: no spill or bcast flags,
                                              no flags on stg and mma) */
    CS_TRACE_DEFAULT_CHUNK_RECORDS = 4096, /* records per chunk unless the writer is told */
    CS_TRACE_MAX_CHUNK_RECORDS = 65536,
    CS_TRACE_MAX_STREAMS = 65536,
    CS_TRACE_MAX_META = 4096,              /* key/value pairs in a header */
    CS_TRACE_MAX_STRING_BYTES = 65535,     /* any header string */
    CS_TRACE_RECORD_MAX_BYTES = 54,        /* one encoded record, at most */
    CS_TRACE_RAW_RECORD_BYTES = 40,        /* sizeof(cs_op): the basis of compression ratios */
    CS_TRACE_TEXT_MAX_LINE = 1 << 20       /* a line of the plain-text form, at most */
};

/* ---- metadata ------------------------------------------------------------------------------ */

typedef struct cs_trace_kv {
    const char *key;   /* non-empty, bytes from [A-Za-z0-9_.:/-], unique within a header */
    const char *value;
} cs_trace_kv;

/* What a trace says about itself. For the writer the caller owns every pointer (copied at
 * create); for a reader they point into the reader and live until it is closed. NULL strings
 * are written as "". */
typedef struct cs_trace_meta {
    const char *producer;       /* e.g. "cimsim run" */
    const char *cimsim_version; /* NULL: this build's CIMSIM_VERSION */
    const char *arch;           /* e.g. "a100" */
    const char *workload;       /* e.g. "gpt-j" */
    const char *mapping;        /* free text (e.g. the mapping as JSON) */
    const cs_trace_kv *kv;
    uint32_t nkv;
    uint32_t nstreams;             /* 1 .. CS_TRACE_MAX_STREAMS */
    const cs_stream_info *streams; /* nstreams entries; (kind, unit) pairs unique */
} cs_trace_meta;

/* Per-stream figures from the index (no decompression needed). */
typedef struct cs_trace_stream_stats {
    uint64_t records;
    uint64_t chunks;
    uint64_t compressed_bytes; /* sum of the stream's chunk frames */
    uint64_t raw_bytes;        /* sum of the decoded (encoded-record) chunk sizes */
} cs_trace_stream_stats;

/* ---- writer -------------------------------------------------------------------------------- */

typedef struct cs_trace_writer cs_trace_writer;

typedef struct cs_trace_writer_opts {
    uint32_t chunk_records; /* 0: CS_TRACE_DEFAULT_CHUNK_RECORDS; else 1 .. MAX_CHUNK_RECORDS */
    int level;              /* zstd level; 0: 3 */
} cs_trace_writer_opts;

/* Starts a trace that will appear at path when cs_trace_writer_finish succeeds; until then
 * the data goes to a temporary file beside it, so path never holds half a trace. meta is
 * validated and copied; opts may be NULL. Memory: one chunk buffer per stream written to, grown
 * on demand up to chunk_records x 54 bytes (a regular stream needs 2-4 bytes a record), plus
 * the zstd context; nothing grows with the trace's length. */
cs_status cs_trace_writer_create(const char *path, const cs_trace_meta *meta,
                                 const cs_trace_writer_opts *opts, cs_trace_writer **out,
                                 cs_err *err);
/* Appends op to stream (0 .. nstreams-1). An op breaking the rules of docs/trace-format.md
 * 4.1 (unknown kind, nonzero unused field, bad flag or dtype) is refused with CS_INVALID and
 * the writer stays usable; an I/O failure (CS_IO) makes every later call fail. */
cs_status cs_trace_write(cs_trace_writer *w, uint32_t stream, const cs_op *op, cs_err *err);
/* Flushes the last chunks, writes index and footer, syncs and renames the temporary file to
 * the final path. Always frees w; on failure the temporary file is removed. */
cs_status cs_trace_writer_finish(cs_trace_writer *w, cs_err *err);
/* Discards everything written: removes the temporary file and frees w. NULL is a no-op. */
void cs_trace_writer_abort(cs_trace_writer *w);

/* ---- reader -------------------------------------------------------------------------------- */

typedef struct cs_trace_reader cs_trace_reader;

/* Opens a trace and validates its header, footer and index (not the chunks: those are checked
 * as streams reach them). The in-memory variant reads data[0..len) without copying it (the
 * caller keeps it alive until close); name is used in messages. */
cs_status cs_trace_open(const char *path, cs_trace_reader **out, cs_err *err);
cs_status cs_trace_open_mem(const void *data, size_t len, const char *name,
                            cs_trace_reader **out, cs_err *err);
void cs_trace_close(cs_trace_reader *r); /* NULL is a no-op */

const cs_trace_meta *cs_trace_reader_meta(const cs_trace_reader *r);
uint32_t cs_trace_reader_chunk_records(const cs_trace_reader *r);
uint64_t cs_trace_reader_file_bytes(const cs_trace_reader *r);
void cs_trace_reader_stream_stats(const cs_trace_reader *r, uint32_t stream,
                                  cs_trace_stream_stats *out);

/* The reader as an op source: stream s is read sequentially from its own cursor, one chunk
 * decompressed at a time. Owned by the reader: cs_opsrc_destroy() on it closes the reader. */
cs_opsrc *cs_trace_reader_src(cs_trace_reader *r);
/* Same as cs_opsrc_next on the reader's source. */
cs_status cs_trace_next(cs_trace_reader *r, uint32_t stream, cs_op *op, bool *eof, cs_err *err);
/* Bytes the reader holds for chunk data and stream cursors right now (not the header strings):
 * at most nstreams x (chunk_records x 54 + a constant) + one compressed chunk, whatever the
 * trace's length. */
size_t cs_trace_reader_buffered_bytes(const cs_trace_reader *r);

/* ---- checking, inspection ------------------------------------------------------------------ */

/* Validates the whole file (docs/trace-format.md section 9) and reports the first problem.
 * records/chunks receive the totals of a valid trace (either may be NULL). */
cs_status cs_trace_check(const char *path, uint64_t *records, uint64_t *chunks, cs_err *err);
cs_status cs_trace_check_mem(const void *data, size_t len, const char *name, uint64_t *records,
                             uint64_t *chunks, cs_err *err);
/* What a replay needs beyond a valid file (docs/trace-format.md section 9): every SM stream
 * follows the static rules the simulator applies (sim/core/opcheck.h), and with cimsim's GEMM
 * metadata the MMA and CiM MAC ops add up to gemm.m x gemm.n x gemm.k. CS_FORMAT with the
 * offending record's chunk offset. Call it on a file cs_trace_check accepted. */
cs_status cs_trace_check_ops(const char *path, cs_err *err);

/* Prints header metadata, the stream table (records, chunks, compressed bytes per stream) and
 * the compression ratio against 40-byte records. */
cs_status cs_trace_info(const char *path, FILE *out, cs_err *err);

typedef struct cs_trace_dump_opts {
    int64_t stream;  /* only this stream index; -1: all */
    int64_t sm;      /* only the SM stream with this unit; -1: any */
    uint64_t limit;  /* at most this many ops in all; 0: no limit */
} cs_trace_dump_opts;
#define CS_TRACE_DUMP_ALL ((cs_trace_dump_opts){-1, -1, 0})

/* Prints the trace in the plain-text format (docs/trace-format.md section 10): directives,
 * then ops, one per line. The output imports back to the same trace. */
cs_status cs_trace_dump(const char *path, FILE *out, const cs_trace_dump_opts *opts,
                        cs_err *err);
/* Formats one op as an op line without stream prefix or newline ("cp_async warp=2 ..."). */
void cs_trace_format_op(const cs_op *op, char *buf, size_t bytes);

/* Converts a plain-text trace to a binary one at out_path (written atomically). */
cs_status cs_trace_import(const char *text_path, const char *out_path, cs_err *err);

/* ---- helpers ------------------------------------------------------------------------------- */

/* CRC-32/ISO-HDLC as used by the format; start with crc = 0, feed pieces in order. */
uint32_t cs_trace_crc32(uint32_t crc, const void *data, size_t len);
/* Checks op against the per-kind rules; on failure writes the reason to why and returns false. */
bool cs_trace_op_valid(const cs_op *op, char *why, size_t why_bytes);

#endif

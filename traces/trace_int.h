/* trace_int — internals shared by the files of the trace module (trace_codec.c, trace_write.c,
 * trace_read.c, trace_text.c) and by its tests and fuzz targets. Not a public interface: the
 * constants restate docs/trace-format.md and change with the format version.
 */
#ifndef CS_TRACE_INT_H
#define CS_TRACE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "op.h"
#include "trace.h"

/* ---- layout constants (docs/trace-format.md sections 3, 6, 7) ---------------------------- */
#define CS__TRACE_MAGIC_HEADER 0x184D2A5Au /* skippable frame magics */
#define CS__TRACE_MAGIC_INDEX 0x184D2A5Bu
#define CS__TRACE_MAGIC_FOOTER 0x184D2A5Cu
#define CS__TRACE_ZSTD_MAGIC 0xFD2FB528u /* a zstd frame */
extern const uint8_t cs__trace_magic[8];     /* "\x89CSTR\r\n\x1a" at file offset 8 */
extern const uint8_t cs__trace_end_magic[8]; /* "\x89CSTEND\x1a": the file's last 8 bytes */
extern const uint8_t cs__trace_index_tag[4]; /* "CSIX" */

enum {
    CS__TRACE_PROLOGUE_BYTES = 20,     /* frame magic, size, magic, version: frozen forever */
    CS__TRACE_HEADER_FIXED_BYTES = 24, /* payload bytes before the first string */
    CS__TRACE_HEADER_MAX_BYTES = 16 << 20,
    CS__TRACE_INDEX_HEAD_BYTES = 16, /* tag, nstreams, nchunks */
    CS__TRACE_ENTRY_BYTES = 32,
    CS__TRACE_TAIL_BYTES = 56,
    CS__TRACE_WINDOW_LOG_MAX = 22
};

/* One index entry, decoded. */
typedef struct cs__trace_entry {
    uint64_t offset;
    uint32_t compressed_bytes;
    uint32_t raw_bytes;
    uint32_t records;
    uint32_t stream;
    uint32_t crc;
    uint32_t reserved;
} cs__trace_entry;

/* ---- little-endian helpers ------------------------------------------------------------------ */
static inline void cs__put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void cs__put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline void cs__put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint32_t cs__get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t cs__get_u64(const uint8_t *p)
{
    return (uint64_t)cs__get_u32(p) | (uint64_t)cs__get_u32(p + 4) << 32;
}

void cs__trace_entry_put(uint8_t *p, const cs__trace_entry *e);
void cs__trace_entry_get(const uint8_t *p, cs__trace_entry *e);

/* ---- record codec (section 4) --------------------------------------------------------------- */
enum {
    CS__F_ADDR,
    CS__F_LOCAL,
    CS__F_WARP,
    CS__F_TAG,
    CS__F_X,
    CS__F_ROWS,
    CS__F_FLAGS,
    CS__F_ROW_BYTES,
    CS__F_STRIDE,
    CS__F_DTYPE,
    CS__F_SEQ,
    CS__F_COUNT
};

typedef struct cs__trace_field {
    const char *name;
    unsigned width_bits;
} cs__trace_field;
extern const cs__trace_field cs__trace_fields[CS__F_COUNT];

/* Bit i set: field i may be nonzero for the kind. */
uint16_t cs__trace_kind_fields(int kind);
uint16_t cs__trace_kind_flags(int kind);
uint64_t cs__trace_field_get(const cs_op *op, int field);
void cs__trace_field_set(cs_op *op, int field, uint64_t v);
/* Flag names: "swizzle", "from_smem", "to_smem", "accum" for bits 0..3. */
const char *cs__trace_flag_name(unsigned bit);

/* Encodes a valid op (cs_trace_op_valid) into out (CS_TRACE_RECORD_MAX_BYTES free), updating
 * the chunk's per-kind previous values; returns the bytes written. */
size_t cs__trace_encode(const cs_op *op, cs_op prev[CS_OP_KIND_COUNT], uint8_t *out);
/* Decodes one record from p[0..n). Returns the bytes used, or 0 with the reason in why (the
 * record is malformed, runs past n, or breaks the per-kind rules). */
size_t cs__trace_decode(const uint8_t *p, size_t n, cs_op prev[CS_OP_KIND_COUNT], cs_op *op,
                        char *why, size_t why_bytes);

/* A metadata key: non-empty, bytes from [A-Za-z0-9_.:/-]. */
bool cs__trace_key_ok(const char *key);

/* ---- writer back door for tests and fuzzing --------------------------------------------------
 * Flushes the stream's pending chunk, then writes bytes as one chunk claiming `records`
 * records, with no validation: the way tests build deliberately malformed traces. */
cs_status cs__trace_write_raw(cs_trace_writer *w, uint32_t stream, const void *bytes, size_t len,
                              uint32_t records, cs_err *err);

/* Recomputes every checksum the format stores (header, chunk crcs in the index entries, index,
 * footer) in place, so tests and fuzzers can reach the checks behind them. Best effort on any
 * bytes: stops where the layout does not parse; never touches memory outside data[0..len). */
void cs__trace_fix_checksums(uint8_t *data, size_t len);

#endif

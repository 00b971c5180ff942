/* trace_codec — the record encoding of docs/trace-format.md section 4, per-kind validity rules,
 * index entries and the format's CRC. Pure functions on buffers: no I/O, no allocation. */
#include "trace.h"

#include <stdio.h>
#include <string.h>

#include "trace_int.h"

const uint8_t cs__trace_magic[8] = {0x89, 'C', 'S', 'T', 'R', '\r', '\n', 0x1a};
const uint8_t cs__trace_end_magic[8] = {0x89, 'C', 'S', 'T', 'E', 'N', 'D', 0x1a};
const uint8_t cs__trace_index_tag[4] = {'C', 'S', 'I', 'X'};

_Static_assert(sizeof(cs_op) == CS_TRACE_RAW_RECORD_BYTES, "ratios are against 40-byte records");
_Static_assert(CS_OP_KIND_COUNT == 14, "a new op kind changes the trace format: bump its version");
_Static_assert(CS_DTYPE_COUNT == 2, "a new dtype changes the trace format: bump its version");
_Static_assert(CS_OPF_ALL == 0x7f, "a new op flag changes the trace format: bump its version");
_Static_assert(CS__TRACE_ENTRY_BYTES == 8 + 6 * 4, "index entry layout");
_Static_assert(CS__TRACE_TAIL_BYTES == 4 * 8 + 4 * 4 + 8, "footer tail layout");
_Static_assert(CS__TRACE_HEADER_FIXED_BYTES == 8 + 4 * 4, "header fixed fields");
/* kind + 2-byte changed mask + the widest varint of every field of cim_mac, which has them
 * all (section 4.2). */
_Static_assert(CS_TRACE_RECORD_MAX_BYTES == 1 + 2 + 2 + 3 + 3 + 3 + 5 + 5 + 10 + 5 + 5 + 5 + 5,
               "largest encoded record");
_Static_assert((uint64_t)CS_TRACE_MAX_CHUNK_RECORDS * CS_TRACE_RECORD_MAX_BYTES <=
                   (1u << CS__TRACE_WINDOW_LOG_MAX),
               "a chunk fits the zstd window readers allow");

/* ---- CRC-32/ISO-HDLC --------------------------------------------------------------------- */

static const uint32_t crc_table[256] = {
    0x00000000u, 0x77073096u, 0xee0e612cu, 0x990951bau, 0x076dc419u, 0x706af48fu,
    0xe963a535u, 0x9e6495a3u, 0x0edb8832u, 0x79dcb8a4u, 0xe0d5e91eu, 0x97d2d988u,
    0x09b64c2bu, 0x7eb17cbdu, 0xe7b82d07u, 0x90bf1d91u, 0x1db71064u, 0x6ab020f2u,
    0xf3b97148u, 0x84be41deu, 0x1adad47du, 0x6ddde4ebu, 0xf4d4b551u, 0x83d385c7u,
    0x136c9856u, 0x646ba8c0u, 0xfd62f97au, 0x8a65c9ecu, 0x14015c4fu, 0x63066cd9u,
    0xfa0f3d63u, 0x8d080df5u, 0x3b6e20c8u, 0x4c69105eu, 0xd56041e4u, 0xa2677172u,
    0x3c03e4d1u, 0x4b04d447u, 0xd20d85fdu, 0xa50ab56bu, 0x35b5a8fau, 0x42b2986cu,
    0xdbbbc9d6u, 0xacbcf940u, 0x32d86ce3u, 0x45df5c75u, 0xdcd60dcfu, 0xabd13d59u,
    0x26d930acu, 0x51de003au, 0xc8d75180u, 0xbfd06116u, 0x21b4f4b5u, 0x56b3c423u,
    0xcfba9599u, 0xb8bda50fu, 0x2802b89eu, 0x5f058808u, 0xc60cd9b2u, 0xb10be924u,
    0x2f6f7c87u, 0x58684c11u, 0xc1611dabu, 0xb6662d3du, 0x76dc4190u, 0x01db7106u,
    0x98d220bcu, 0xefd5102au, 0x71b18589u, 0x06b6b51fu, 0x9fbfe4a5u, 0xe8b8d433u,
    0x7807c9a2u, 0x0f00f934u, 0x9609a88eu, 0xe10e9818u, 0x7f6a0dbbu, 0x086d3d2du,
    0x91646c97u, 0xe6635c01u, 0x6b6b51f4u, 0x1c6c6162u, 0x856530d8u, 0xf262004eu,
    0x6c0695edu, 0x1b01a57bu, 0x8208f4c1u, 0xf50fc457u, 0x65b0d9c6u, 0x12b7e950u,
    0x8bbeb8eau, 0xfcb9887cu, 0x62dd1ddfu, 0x15da2d49u, 0x8cd37cf3u, 0xfbd44c65u,
    0x4db26158u, 0x3ab551ceu, 0xa3bc0074u, 0xd4bb30e2u, 0x4adfa541u, 0x3dd895d7u,
    0xa4d1c46du, 0xd3d6f4fbu, 0x4369e96au, 0x346ed9fcu, 0xad678846u, 0xda60b8d0u,
    0x44042d73u, 0x33031de5u, 0xaa0a4c5fu, 0xdd0d7cc9u, 0x5005713cu, 0x270241aau,
    0xbe0b1010u, 0xc90c2086u, 0x5768b525u, 0x206f85b3u, 0xb966d409u, 0xce61e49fu,
    0x5edef90eu, 0x29d9c998u, 0xb0d09822u, 0xc7d7a8b4u, 0x59b33d17u, 0x2eb40d81u,
    0xb7bd5c3bu, 0xc0ba6cadu, 0xedb88320u, 0x9abfb3b6u, 0x03b6e20cu, 0x74b1d29au,
    0xead54739u, 0x9dd277afu, 0x04db2615u, 0x73dc1683u, 0xe3630b12u, 0x94643b84u,
    0x0d6d6a3eu, 0x7a6a5aa8u, 0xe40ecf0bu, 0x9309ff9du, 0x0a00ae27u, 0x7d079eb1u,
    0xf00f9344u, 0x8708a3d2u, 0x1e01f268u, 0x6906c2feu, 0xf762575du, 0x806567cbu,
    0x196c3671u, 0x6e6b06e7u, 0xfed41b76u, 0x89d32be0u, 0x10da7a5au, 0x67dd4accu,
    0xf9b9df6fu, 0x8ebeeff9u, 0x17b7be43u, 0x60b08ed5u, 0xd6d6a3e8u, 0xa1d1937eu,
    0x38d8c2c4u, 0x4fdff252u, 0xd1bb67f1u, 0xa6bc5767u, 0x3fb506ddu, 0x48b2364bu,
    0xd80d2bdau, 0xaf0a1b4cu, 0x36034af6u, 0x41047a60u, 0xdf60efc3u, 0xa867df55u,
    0x316e8eefu, 0x4669be79u, 0xcb61b38cu, 0xbc66831au, 0x256fd2a0u, 0x5268e236u,
    0xcc0c7795u, 0xbb0b4703u, 0x220216b9u, 0x5505262fu, 0xc5ba3bbeu, 0xb2bd0b28u,
    0x2bb45a92u, 0x5cb36a04u, 0xc2d7ffa7u, 0xb5d0cf31u, 0x2cd99e8bu, 0x5bdeae1du,
    0x9b64c2b0u, 0xec63f226u, 0x756aa39cu, 0x026d930au, 0x9c0906a9u, 0xeb0e363fu,
    0x72076785u, 0x05005713u, 0x95bf4a82u, 0xe2b87a14u, 0x7bb12baeu, 0x0cb61b38u,
    0x92d28e9bu, 0xe5d5be0du, 0x7cdcefb7u, 0x0bdbdf21u, 0x86d3d2d4u, 0xf1d4e242u,
    0x68ddb3f8u, 0x1fda836eu, 0x81be16cdu, 0xf6b9265bu, 0x6fb077e1u, 0x18b74777u,
    0x88085ae6u, 0xff0f6a70u, 0x66063bcau, 0x11010b5cu, 0x8f659effu, 0xf862ae69u,
    0x616bffd3u, 0x166ccf45u, 0xa00ae278u, 0xd70dd2eeu, 0x4e048354u, 0x3903b3c2u,
    0xa7672661u, 0xd06016f7u, 0x4969474du, 0x3e6e77dbu, 0xaed16a4au, 0xd9d65adcu,
    0x40df0b66u, 0x37d83bf0u, 0xa9bcae53u, 0xdebb9ec5u, 0x47b2cf7fu, 0x30b5ffe9u,
    0xbdbdf21cu, 0xcabac28au, 0x53b39330u, 0x24b4a3a6u, 0xbad03605u, 0xcdd70693u,
    0x54de5729u, 0x23d967bfu, 0xb3667a2eu, 0xc4614ab8u, 0x5d681b02u, 0x2a6f2b94u,
    0xb40bbe37u, 0xc30c8ea1u, 0x5a05df1bu, 0x2d02ef8du,
};

uint32_t cs_trace_crc32(uint32_t crc, const void *data, size_t len)
{
    const uint8_t *p = data;
    crc = ~crc;
    while (len--)
        crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

/* ---- fields and per-kind rules (section 4.1) ------------------------------------------------ */

const cs__trace_field cs__trace_fields[CS__F_COUNT] = {
    [CS__F_ADDR] = {"addr", 64},      [CS__F_LOCAL] = {"local", 32},
    [CS__F_WARP] = {"warp", 16},      [CS__F_TAG] = {"tag", 32},
    [CS__F_X] = {"x", 32},            [CS__F_ROWS] = {"rows", 32},
    [CS__F_FLAGS] = {"flags", 16},    [CS__F_ROW_BYTES] = {"row_bytes", 32},
    [CS__F_STRIDE] = {"stride", 32},  [CS__F_DTYPE] = {"dtype", 8},
    [CS__F_SEQ] = {"seq", 16},
};

#define B(f) (1u << CS__F_##f)
#define BLOCK (B(ROWS) | B(ROW_BYTES) | B(STRIDE))
static const struct {
    uint16_t fields;
    uint16_t flags;
} kind_rules[CS_OP_KIND_COUNT] = {
    [CS_OP_CTA_BEGIN] = {B(X) | BLOCK, 0},
    [CS_OP_CTA_END] = {B(X), 0},
    [CS_OP_CP_ASYNC] = {B(WARP) | B(ADDR) | B(LOCAL) | BLOCK | B(TAG) | B(FLAGS), CS_OPF_SWIZZLE},
    [CS_OP_CP_WAIT] = {B(WARP) | B(TAG), 0},
    [CS_OP_BAR] = {B(WARP) | B(TAG), 0},
    [CS_OP_LDS] = {B(WARP) | B(LOCAL) | BLOCK | B(FLAGS), CS_OPF_SWIZZLE},
    [CS_OP_STS] = {B(WARP) | B(LOCAL) | BLOCK | B(FLAGS), CS_OPF_SWIZZLE},
    [CS_OP_LDG] = {B(WARP) | B(ADDR) | BLOCK, 0},
    [CS_OP_STG] = {B(WARP) | B(ADDR) | BLOCK | B(LOCAL) | B(TAG) | B(X) | B(FLAGS), CS_OPF_FROM_SMEM | CS_OPF_FROM_CIM},
    [CS_OP_RED] = {B(WARP) | B(ADDR) | BLOCK | B(LOCAL) | B(TAG) | B(X) | B(FLAGS),
                   CS_OPF_SPILL | CS_OPF_FROM_SMEM | CS_OPF_FROM_CIM},
    [CS_OP_MMA] = {B(WARP) | BLOCK | B(DTYPE) | B(ADDR) | B(LOCAL) | B(TAG) | B(X) | B(FLAGS),
                   CS_OPF_FROM_SMEM | CS_OPF_ACCUM | CS_OPF_BCAST},
    [CS_OP_CIM_WRITE] = {B(WARP) | B(X) | B(ADDR) | B(LOCAL) | BLOCK | B(TAG) | B(SEQ) | B(FLAGS),
                         CS_OPF_FROM_SMEM | CS_OPF_ACCUM},
    [CS_OP_CIM_MAC] = {B(WARP) | B(X) | B(ADDR) | B(LOCAL) | BLOCK | B(TAG) | B(DTYPE) | B(SEQ) | B(FLAGS),
                       CS_OPF_FROM_SMEM | CS_OPF_ACCUM | CS_OPF_BCAST},
    [CS_OP_CIM_READ] = {B(WARP) | B(X) | B(ADDR) | B(LOCAL) | B(ROWS) | B(ROW_BYTES) | B(FLAGS),
                        CS_OPF_TO_SMEM | CS_OPF_ACCUM | CS_OPF_BCAST},
};
#undef BLOCK
#undef B

uint16_t cs__trace_kind_fields(int kind)
{
    return kind >= 0 && kind < CS_OP_KIND_COUNT ? kind_rules[kind].fields : 0;
}

uint16_t cs__trace_kind_flags(int kind)
{
    return kind >= 0 && kind < CS_OP_KIND_COUNT ? kind_rules[kind].flags : 0;
}

const char *cs__trace_flag_name(unsigned bit)
{
    static const char *const names[CS_OPF_BITS] = {"swizzle", "from_smem", "to_smem", "accum", "spill", "bcast",
                                                   "from_cim"};
    return bit < CS_OPF_BITS ? names[bit] : "?";
}

uint64_t cs__trace_field_get(const cs_op *op, int field)
{
    switch (field) {
    case CS__F_ADDR: return op->addr;
    case CS__F_LOCAL: return op->local;
    case CS__F_WARP: return op->warp;
    case CS__F_TAG: return op->tag;
    case CS__F_X: return op->x;
    case CS__F_ROWS: return op->rows;
    case CS__F_FLAGS: return op->flags;
    case CS__F_ROW_BYTES: return op->row_bytes;
    case CS__F_STRIDE: return op->stride;
    case CS__F_DTYPE: return op->dtype;
    case CS__F_SEQ: return op->seq;
    default: return 0;
    }
}

/* v must fit the field's width (callers check). */
void cs__trace_field_set(cs_op *op, int field, uint64_t v)
{
    switch (field) {
    case CS__F_ADDR: op->addr = v; break;
    case CS__F_LOCAL: op->local = (uint32_t)v; break;
    case CS__F_WARP: op->warp = (uint16_t)v; break;
    case CS__F_TAG: op->tag = (uint32_t)v; break;
    case CS__F_X: op->x = (uint32_t)v; break;
    case CS__F_ROWS: op->rows = (uint32_t)v; break;
    case CS__F_FLAGS: op->flags = (uint16_t)v; break;
    case CS__F_ROW_BYTES: op->row_bytes = (uint32_t)v; break;
    case CS__F_STRIDE: op->stride = (uint32_t)v; break;
    case CS__F_DTYPE: op->dtype = (uint8_t)v; break;
    case CS__F_SEQ: op->seq = (uint16_t)v; break;
    default: break;
    }
}

bool cs_trace_op_valid(const cs_op *op, char *why, size_t why_bytes)
{
    if (op->kind >= CS_OP_KIND_COUNT) {
        snprintf(why, why_bytes, "unknown op kind %u", (unsigned)op->kind);
        return false;
    }
    const char *kname = cs_op_kind_name(op->kind);
    uint16_t fields = kind_rules[op->kind].fields;
    for (int f = 0; f < CS__F_COUNT; f++) {
        uint64_t v = cs__trace_field_get(op, f);
        if (!(fields & (1u << f)) && v != 0) {
            snprintf(why, why_bytes, "%s: field %s must be zero for this kind (got %llu)", kname,
                     cs__trace_fields[f].name, (unsigned long long)v);
            return false;
        }
    }
    uint16_t bad = (uint16_t)(op->flags & ~kind_rules[op->kind].flags);
    if (bad) {
        unsigned bit = 0;
        while (!(bad & (1u << bit)))
            bit++;
        snprintf(why, why_bytes, "%s: flag %s (0x%x) not valid for this kind", kname,
                 (CS_OPF_ALL >> bit) & 1 ? cs__trace_flag_name(bit) : "unknown", 1u << bit);
        return false;
    }
    if ((fields & (1u << CS__F_DTYPE)) && op->dtype >= CS_DTYPE_COUNT) {
        snprintf(why, why_bytes, "%s: unknown dtype %u", kname, (unsigned)op->dtype);
        return false;
    }
    return true;
}

/* ---- varints and deltas (section 4.2) ------------------------------------------------------- */

static uint64_t width_mask(unsigned w)
{
    return w >= 64 ? UINT64_MAX : (UINT64_C(1) << w) - 1;
}

/* d is a delta modulo 2^w; read as signed w-bit and zigzagged. Written without signed shifts. */
static uint64_t zigzag(uint64_t d, unsigned w)
{
    if (!((d >> (w - 1)) & 1))
        return d << 1;
    return ((~d & width_mask(w)) << 1) | 1;
}

static uint64_t unzigzag(uint64_t z, unsigned w)
{
    return (z & 1) ? ~(z >> 1) & width_mask(w) : z >> 1;
}

static size_t put_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

/* Returns bytes used; 0 when the varint runs past n (*overlong false) or is longer than a u64
 * allows (*overlong true). */
static size_t get_varint(const uint8_t *p, size_t n, uint64_t *v, bool *overlong)
{
    uint64_t r = 0;
    *overlong = false;
    for (size_t i = 0; i < n; i++) {
        uint8_t b = p[i];
        if (i == 9 && b > 1) {
            *overlong = true;
            return 0;
        }
        r |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *v = r;
            return i + 1;
        }
    }
    return 0;
}

size_t cs__trace_encode(const cs_op *op, cs_op prev[CS_OP_KIND_COUNT], uint8_t *out)
{
    cs_op *pv = &prev[op->kind];
    uint16_t fields = kind_rules[op->kind].fields;
    unsigned changed = 0;
    for (int f = 0; f < CS__F_COUNT; f++)
        if ((fields & (1u << f)) && cs__trace_field_get(op, f) != cs__trace_field_get(pv, f))
            changed |= 1u << f;
    size_t n = 0;
    out[n++] = op->kind;
    n += put_varint(out + n, changed);
    for (int f = 0; f < CS__F_COUNT; f++) {
        if (!(changed & (1u << f)))
            continue;
        unsigned w = cs__trace_fields[f].width_bits;
        uint64_t d = (cs__trace_field_get(op, f) - cs__trace_field_get(pv, f)) & width_mask(w);
        n += put_varint(out + n, zigzag(d, w));
    }
    *pv = *op;
    return n;
}

size_t cs__trace_decode(const uint8_t *p, size_t n, cs_op prev[CS_OP_KIND_COUNT], cs_op *op,
                        char *why, size_t why_bytes)
{
    static const char past_end[] = "record runs past the end of the chunk";
    bool overlong;
    if (n < 1) {
        snprintf(why, why_bytes, "%s", past_end);
        return 0;
    }
    unsigned kind = p[0];
    if (kind >= CS_OP_KIND_COUNT) {
        snprintf(why, why_bytes, "unknown op kind %u", kind);
        return 0;
    }
    const char *kname = cs_op_kind_name((int)kind);
    size_t used = 1;
    uint64_t changed;
    size_t k = get_varint(p + used, n - used, &changed, &overlong);
    if (!k) {
        snprintf(why, why_bytes, "%s: %s", kname, overlong ? "malformed varint" : past_end);
        return 0;
    }
    used += k;
    uint64_t bad = changed & ~(uint64_t)kind_rules[kind].fields;
    if (bad) {
        unsigned bit = 0;
        while (!(bad & (UINT64_C(1) << bit)))
            bit++;
        if (bit < CS__F_COUNT)
            snprintf(why, why_bytes, "%s: field %s not valid for this kind", kname,
                     cs__trace_fields[bit].name);
        else
            snprintf(why, why_bytes, "%s: unknown field bit %u", kname, bit);
        return 0;
    }
    cs_op v = prev[kind];
    for (int f = 0; f < CS__F_COUNT; f++) {
        if (!(changed & (UINT64_C(1) << f)))
            continue;
        unsigned w = cs__trace_fields[f].width_bits;
        uint64_t z;
        k = get_varint(p + used, n - used, &z, &overlong);
        if (!k) {
            snprintf(why, why_bytes, "%s: field %s: %s", kname, cs__trace_fields[f].name,
                     overlong ? "malformed varint" : past_end);
            return 0;
        }
        if (z > width_mask(w)) {
            snprintf(why, why_bytes, "%s: field %s: delta does not fit %u bits", kname,
                     cs__trace_fields[f].name, w);
            return 0;
        }
        used += k;
        cs__trace_field_set(&v, f, (cs__trace_field_get(&v, f) + unzigzag(z, w)) & width_mask(w));
    }
    v.kind = (uint8_t)kind;
    if (!cs_trace_op_valid(&v, why, why_bytes))
        return 0;
    prev[kind] = v;
    *op = v;
    return used;
}

/* ---- header strings (section 3) ------------------------------------------------------------ */

bool cs__trace_key_ok(const char *k)
{
    if (!*k)
        return false;
    for (; *k; k++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:/-", *k))
            return false;
    return true;
}

/* ---- index entries (section 6) -------------------------------------------------------------- */

void cs__trace_entry_put(uint8_t *p, const cs__trace_entry *e)
{
    cs__put_u64(p, e->offset);
    cs__put_u32(p + 8, e->compressed_bytes);
    cs__put_u32(p + 12, e->raw_bytes);
    cs__put_u32(p + 16, e->records);
    cs__put_u32(p + 20, e->stream);
    cs__put_u32(p + 24, e->crc);
    cs__put_u32(p + 28, e->reserved);
}

void cs__trace_entry_get(const uint8_t *p, cs__trace_entry *e)
{
    e->offset = cs__get_u64(p);
    e->compressed_bytes = cs__get_u32(p + 8);
    e->raw_bytes = cs__get_u32(p + 12);
    e->records = cs__get_u32(p + 16);
    e->stream = cs__get_u32(p + 20);
    e->crc = cs__get_u32(p + 24);
    e->reserved = cs__get_u32(p + 28);
}

/* ---- checksum repair for tests and fuzzing ---------------------------------------------------- */

void cs__trace_fix_checksums(uint8_t *d, size_t len)
{
    if (len < CS__TRACE_PROLOGUE_BYTES)
        return;
    uint32_t hp = cs__get_u32(d + 4);
    if (hp >= 4 && 8 + (uint64_t)hp <= len)
        cs__put_u32(d + 8 + hp - 4, cs_trace_crc32(0, d + 8, hp - 4));
    if (len < CS__TRACE_TAIL_BYTES)
        return;
    uint8_t *t = d + len - CS__TRACE_TAIL_BYTES;
    uint64_t n = cs__get_u32(t + 32);
    uint64_t fpay = 8 * n + CS__TRACE_TAIL_BYTES;
    if (fpay + 8 > len)
        return;
    uint64_t foff = len - 8 - fpay;
    uint64_t io = cs__get_u64(t), ib = cs__get_u64(t + 8);
    if (io <= foff && ib <= foff - io && foff - io - ib >= 8) {
        uint8_t *p = d + io + 8;
        uint64_t head = CS__TRACE_INDEX_HEAD_BYTES + 8 * n;
        if (ib >= head) {
            uint64_t count = (ib - head) / CS__TRACE_ENTRY_BYTES;
            for (uint64_t i = 0; i < count; i++) {
                uint8_t *e = p + head + i * CS__TRACE_ENTRY_BYTES;
                uint64_t off = cs__get_u64(e);
                uint32_t cb = cs__get_u32(e + 8);
                if (off <= len && cb <= len - off && (off + cb <= io + 8 + head + i * 32 ||
                                                      off >= io + 8 + head + i * 32 + 32))
                    cs__put_u32(e + 24, cs_trace_crc32(0, d + off, cb));
            }
        }
        cs__put_u32(t + 36, cs_trace_crc32(0, p, (size_t)ib));
    }
    cs__put_u32(t + 40, cs_trace_crc32(0, d + foff + 8, (size_t)(8 * n + 40)));
}

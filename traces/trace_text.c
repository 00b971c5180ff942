/* trace_text — the plain-text trace form (docs/trace-format.md section 10) and the inspection
 * helpers behind `cimsim trace info|dump|import`.
 *
 * dump writes directives and one op per line; import reads the same syntax back line by line
 * (memory independent of the file's length beyond the header) into the streaming writer.
 * Import collects up to CS_ERR_MAX line errors, compiler-style, and then writes nothing.
 */
#include "trace.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "afile.h"
#include "alloc.h"
#include "trace_int.h"

#ifndef CIMSIM_VERSION
#define CIMSIM_VERSION "unknown"
#endif

/* ---- formatting --------------------------------------------------------------------------- */

/* Fields in the order an op line prints them. */
static const int print_order[CS__F_COUNT] = {CS__F_X,     CS__F_WARP,      CS__F_DTYPE,
                                             CS__F_ADDR,  CS__F_LOCAL,     CS__F_ROWS,
                                             CS__F_ROW_BYTES, CS__F_STRIDE, CS__F_TAG,
                                             CS__F_SEQ,   CS__F_FLAGS};
_Static_assert(CS__F_COUNT == 11, "every field has a place in print_order");

typedef struct sbuf {
    char *p;
    size_t cap;
    size_t len;
} sbuf;

__attribute__((format(printf, 2, 3))) static void sb_printf(sbuf *b, const char *fmt, ...)
{
    if (b->len >= b->cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        b->len = b->len + (size_t)n < b->cap ? b->len + (size_t)n : b->cap - 1;
}

void cs_trace_format_op(const cs_op *op, char *buf, size_t bytes)
{
    if (!bytes)
        return;
    sbuf b = {buf, bytes, 0};
    buf[0] = '\0';
    if (op->kind >= CS_OP_KIND_COUNT) {
        sb_printf(&b, "kind=%u", (unsigned)op->kind);
        return;
    }
    sb_printf(&b, "%s", cs_op_kind_name(op->kind));
    uint16_t fields = cs__trace_kind_fields(op->kind);
    for (int i = 0; i < CS__F_COUNT; i++) {
        int f = print_order[i];
        if (!(fields & (1u << f)))
            continue;
        uint64_t v = cs__trace_field_get(op, f);
        const char *name = cs__trace_fields[f].name;
        if (f == CS__F_DTYPE && v < CS_DTYPE_COUNT) {
            sb_printf(&b, " %s=%s", name, cs_dtype_name((int)v));
        } else if (f == CS__F_FLAGS && v != 0 && v <= CS_OPF_ALL) {
            sb_printf(&b, " %s=", name);
            const char *sep = "";
            for (unsigned bit = 0; bit < CS_OPF_BITS; bit++)
                if (v & (1u << bit)) {
                    sb_printf(&b, "%s%s", sep, cs__trace_flag_name(bit));
                    sep = "|";
                }
        } else if ((f == CS__F_ADDR || f == CS__F_LOCAL) && v != 0) {
            sb_printf(&b, " %s=0x%llx", name, (unsigned long long)v);
        } else {
            sb_printf(&b, " %s=%llu", name, (unsigned long long)v);
        }
    }
}

/* A directive value: bare when it reads back unchanged, else a C-style quoted string. */
static void put_value(FILE *out, const char *s)
{
    size_t n = strlen(s);
    bool bare = n > 0 && s[0] != '"' && s[0] != ' ' && s[n - 1] != ' ';
    for (size_t i = 0; i < n && bare; i++) {
        unsigned char c = (unsigned char)s[i];
        bare = c >= 0x20 && c != 0x7f && c != '#';
    }
    if (bare) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", out);
        else if (c == '\t')
            fputs("\\t", out);
        else if (c == '\r')
            fputs("\\r", out);
        else if (c < 0x20 || c == 0x7f)
            fprintf(out, "\\x%02x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

static const char *kind_word(uint8_t kind)
{
    return kind == CS_STREAM_CIM ? "cim" : "sm";
}

/* @streams lines: runs of consecutive units of one kind, 16 items a line. */
static void put_streams(FILE *out, const cs_trace_meta *m)
{
    int items = 0;
    for (uint32_t i = 0; i < m->nstreams;) {
        uint32_t j = i + 1;
        while (j < m->nstreams && m->streams[j].kind == m->streams[i].kind &&
               m->streams[j - 1].unit != UINT32_MAX &&
               m->streams[j].unit == m->streams[j - 1].unit + 1)
            j++;
        if (items % 16 == 0)
            fputs(items ? "\n@streams" : "@streams", out);
        uint32_t a = m->streams[i].unit, b = m->streams[j - 1].unit;
        if (a == 0 && b != UINT32_MAX)
            fprintf(out, " %s:%u", kind_word(m->streams[i].kind), b + 1);
        else
            fprintf(out, " %s:%u-%u", kind_word(m->streams[i].kind), a, b);
        items++;
        i = j;
    }
    fputc('\n', out);
}

static void put_directives(FILE *out, const cs_trace_reader *r)
{
    const cs_trace_meta *m = cs_trace_reader_meta(r);
    const char *names[] = {"producer", "cimsim-version", "arch", "workload", "mapping"};
    const char *vals[] = {m->producer, m->cimsim_version, m->arch, m->workload, m->mapping};
    for (int i = 0; i < 5; i++) {
        fprintf(out, "@%s ", names[i]);
        put_value(out, vals[i]);
        fputc('\n', out);
    }
    for (uint32_t i = 0; i < m->nkv; i++) {
        fprintf(out, "@meta %s ", m->kv[i].key);
        put_value(out, m->kv[i].value);
        fputc('\n', out);
    }
    fprintf(out, "@chunk-records %u\n", cs_trace_reader_chunk_records(r));
    put_streams(out, m);
}

cs_status cs_trace_dump(const char *path, FILE *out, const cs_trace_dump_opts *opts, cs_err *err)
{
    cs_trace_dump_opts o = opts ? *opts : CS_TRACE_DUMP_ALL;
    cs_trace_reader *r;
    cs_status st = cs_trace_open(path, &r, err);
    if (st != CS_OK)
        return st;
    const cs_trace_meta *m = cs_trace_reader_meta(r);
    int64_t only = -1;
    if (o.stream >= 0) {
        if (o.stream >= (int64_t)m->nstreams) {
            st = cs_err_add(err, CS_INVALID, "%s: error: no stream %lld (the trace has %u)", path,
                            (long long)o.stream, m->nstreams);
            cs_trace_close(r);
            return st;
        }
        only = o.stream;
    }
    if (o.sm >= 0) {
        int64_t found = -1;
        for (uint32_t s = 0; s < m->nstreams; s++)
            if (m->streams[s].kind == CS_STREAM_SM && (int64_t)m->streams[s].unit == o.sm)
                found = s;
        if (found < 0 || (only >= 0 && only != found)) {
            st = cs_err_add(err, CS_INVALID, "%s: error: no stream for sm %lld%s", path,
                            (long long)o.sm, found >= 0 ? " among the selected streams" : "");
            cs_trace_close(r);
            return st;
        }
        only = found;
    }
    fprintf(out, "# cimsim trace dump of %s (format version %d)\n", path, CS_TRACE_VERSION);
    put_directives(out, r);
    uint64_t shown = 0;
    char line[512];
    for (uint32_t s = 0; s < m->nstreams && st == CS_OK; s++) {
        if (only >= 0 && s != only)
            continue;
        for (;;) {
            if (o.limit && shown == o.limit)
                break;
            cs_op op;
            bool eof;
            st = cs_trace_next(r, s, &op, &eof, err);
            if (st != CS_OK || eof)
                break;
            cs_trace_format_op(&op, line, sizeof line);
            fprintf(out, "%s %u %s\n", kind_word(m->streams[s].kind), m->streams[s].unit, line);
            shown++;
        }
    }
    if (st == CS_OK && o.limit && shown == o.limit)
        fprintf(out, "# stopped after %llu ops (--limit)\n", (unsigned long long)shown);
    if (st == CS_OK && ferror(out))
        st = cs_err_add(err, CS_IO, "%s: error: cannot write the dump: %s", path,
                        strerror(errno));
    cs_trace_close(r);
    return st;
}

cs_status cs_trace_info(const char *path, FILE *out, cs_err *err)
{
    cs_trace_reader *r;
    cs_status st = cs_trace_open(path, &r, err);
    if (st != CS_OK)
        return st;
    const cs_trace_meta *m = cs_trace_reader_meta(r);
    uint64_t records = 0, chunks = 0;
    uint32_t nsm = 0;
    for (uint32_t s = 0; s < m->nstreams; s++) {
        cs_trace_stream_stats ss;
        cs_trace_reader_stream_stats(r, s, &ss);
        records += ss.records;
        chunks += ss.chunks;
        nsm += m->streams[s].kind == CS_STREAM_SM;
    }
    uint64_t file_bytes = cs_trace_reader_file_bytes(r);
    uint64_t raw = records * CS_TRACE_RAW_RECORD_BYTES;
    const char *names[] = {"producer", "cimsim", "arch", "workload", "mapping"};
    const char *vals[] = {m->producer, m->cimsim_version, m->arch, m->workload, m->mapping};
    fprintf(out, "%-12s %s\n", "file", path);
    fprintf(out, "%-12s cimsim trace version %d\n", "format", CS_TRACE_VERSION);
    for (int i = 0; i < 5; i++) {
        fprintf(out, "%-12s ", names[i]);
        put_value(out, vals[i]);
        fputc('\n', out);
    }
    for (uint32_t i = 0; i < m->nkv; i++) {
        fprintf(out, "%-12s %s = ", "meta", m->kv[i].key);
        put_value(out, m->kv[i].value);
        fputc('\n', out);
    }
    fprintf(out, "%-12s %u records\n", "chunk size", cs_trace_reader_chunk_records(r));
    fprintf(out, "%-12s %u (%u sm, %u cim)\n", "streams", m->nstreams, nsm, m->nstreams - nsm);
    fprintf(out, "%-12s %llu in %llu chunks\n", "records", (unsigned long long)records,
            (unsigned long long)chunks);
    fprintf(out, "%-12s %llu bytes\n", "file size", (unsigned long long)file_bytes);
    fprintf(out, "%-12s %llu bytes (%llu records x %d bytes)\n", "raw size",
            (unsigned long long)raw, (unsigned long long)records, CS_TRACE_RAW_RECORD_BYTES);
    if (records && file_bytes)
        fprintf(out, "%-12s %.1fx vs %d-byte records (%.3f bytes per record)\n", "compression",
                (double)raw / (double)file_bytes, CS_TRACE_RAW_RECORD_BYTES,
                (double)file_bytes / (double)records);
    else
        fprintf(out, "%-12s n/a (no records)\n", "compression");
    /* info reads header, index and footer only: say so, a corrupt chunk goes unnoticed here */
    fprintf(out, "%-12s not verified (header, index and footer only; `cimsim trace check` "
                 "verifies every chunk and record)\n", "chunks");
    fprintf(out, "\n%6s %-4s %10s %12s %8s %12s %10s %8s\n", "stream", "kind", "unit", "records",
            "chunks", "compressed", "encoded", "B/record");
    for (uint32_t s = 0; s < m->nstreams; s++) {
        cs_trace_stream_stats ss;
        cs_trace_reader_stream_stats(r, s, &ss);
        fprintf(out, "%6u %-4s %10u %12llu %8llu %12llu %10llu ", s, kind_word(m->streams[s].kind),
                m->streams[s].unit, (unsigned long long)ss.records, (unsigned long long)ss.chunks,
                (unsigned long long)ss.compressed_bytes, (unsigned long long)ss.raw_bytes);
        if (ss.records)
            fprintf(out, "%8.3f\n", (double)ss.compressed_bytes / (double)ss.records);
        else
            fprintf(out, "%8s\n", "-");
    }
    if (ferror(out))
        st = cs_err_add(err, CS_IO, "%s: error: cannot write: %s", path, strerror(errno));
    cs_trace_close(r);
    return st;
}

/* ---- import ---------------------------------------------------------------------------------- */

typedef struct skey { /* (kind, unit) -> stream, sorted for lookups */
    uint64_t key;
    uint32_t stream;
} skey;

typedef struct importer {
    const char *text_path;
    const char *out_path;
    int line;
    cs_err *err;
    int errors;
    /* header */
    char *str[5]; /* producer, cimsim version, arch, workload, mapping */
    cs_trace_kv *kv;
    size_t nkv, kv_cap;
    cs_stream_info *streams;
    size_t nstreams, streams_cap;
    int streams_line;
    uint32_t chunk_records;
    /* ops */
    bool in_ops;  /* an op line has been seen: the header is closed */
    skey *map;
    cs_trace_writer *w;
} importer;

__attribute__((format(printf, 2, 3))) static void line_error(importer *im, const char *fmt, ...)
{
    char what[CS_ERR_MSG_BYTES];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    cs_err_add(im->err, CS_FORMAT, "%s:%d: error: %s", im->text_path, im->line, what);
    im->errors++;
}

static char *skip_ws(char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* Decimal or 0x-hex, no sign; false on junk or overflow. */
static bool parse_u64(const char *s, uint64_t *out)
{
    int base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    if (!*s)
        return false;
    uint64_t v = 0;
    for (; *s; s++) {
        int d;
        if (*s >= '0' && *s <= '9')
            d = *s - '0';
        else if (base == 16 && *s >= 'a' && *s <= 'f')
            d = *s - 'a' + 10;
        else if (base == 16 && *s >= 'A' && *s <= 'F')
            d = *s - 'A' + 10;
        else
            return false;
        if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
            return false;
        v = v * (uint64_t)base + (uint64_t)d;
    }
    *out = v;
    return true;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Parses a directive value starting at p: a quoted string or the rest of the line up to '#'.
 * Returns a new string or NULL after reporting the error. */
static char *parse_value(importer *im, char *p)
{
    p = skip_ws(p);
    if (*p != '"') {
        char *end = strchr(p, '#');
        if (!end)
            end = p + strlen(p);
        while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        return cs_strndup(p, (size_t)(end - p));
    }
    char *out = cs_malloc(strlen(p) + 1);
    size_t n = 0;
    for (p++;; p++) {
        if (!*p) {
            line_error(im, "unterminated quoted string");
            cs_free(out);
            return NULL;
        }
        if (*p == '"')
            break;
        if (*p != '\\') {
            out[n++] = *p;
            continue;
        }
        p++;
        switch (*p) {
        case '\\': out[n++] = '\\'; break;
        case '"': out[n++] = '"'; break;
        case 'n': out[n++] = '\n'; break;
        case 't': out[n++] = '\t'; break;
        case 'r': out[n++] = '\r'; break;
        case 'x': {
            int hi = hexval(p[1]), lo = hi >= 0 ? hexval(p[2]) : -1;
            if (lo < 0 || (hi == 0 && lo == 0)) {
                line_error(im, "bad \\x escape (two hex digits, not 00)");
                cs_free(out);
                return NULL;
            }
            out[n++] = (char)(hi * 16 + lo);
            p += 2;
            break;
        }
        default:
            line_error(im, "bad escape '\\%c' in quoted string", *p ? *p : '0');
            cs_free(out);
            return NULL;
        }
    }
    p = skip_ws(p + 1);
    if (*p && *p != '#') {
        line_error(im, "unexpected text after the quoted string: '%.40s'", p);
        cs_free(out);
        return NULL;
    }
    out[n] = '\0';
    return out;
}

static void add_streams(importer *im, char *items)
{
    char *save = NULL;
    int added = 0;
    for (char *tok = strtok_r(items, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
        if (*tok == '#')
            break;
        char *colon = strchr(tok, ':');
        uint8_t kind;
        if (colon && (size_t)(colon - tok) == 2 && strncmp(tok, "sm", 2) == 0)
            kind = CS_STREAM_SM;
        else if (colon && (size_t)(colon - tok) == 3 && strncmp(tok, "cim", 3) == 0)
            kind = CS_STREAM_CIM;
        else {
            line_error(im, "bad @streams item '%s' (expected sm:COUNT, cim:COUNT or KIND:A-B)",
                       tok);
            return;
        }
        char *spec = colon + 1, *dash = strchr(spec, '-');
        uint64_t a, b;
        if (dash) {
            *dash = '\0';
            bool ok = parse_u64(spec, &a) && parse_u64(dash + 1, &b);
            *dash = '-';
            if (!ok || a > b || b > UINT32_MAX) {
                line_error(im, "bad unit range '%s' (expected A-B with A <= B)", spec);
                return;
            }
        } else {
            if (!parse_u64(spec, &b) || b < 1 || b > (uint64_t)UINT32_MAX + 1) {
                line_error(im, "bad stream count '%s'", spec);
                return;
            }
            a = 0;
            b -= 1;
        }
        if (b - a + 1 > CS_TRACE_MAX_STREAMS - im->nstreams) {
            line_error(im, "more than %d streams", CS_TRACE_MAX_STREAMS);
            return;
        }
        for (uint64_t u = a; u <= b; u++) {
            CS_GROW(im->streams, im->streams_cap, im->nstreams + 1);
            im->streams[im->nstreams].kind = kind;
            im->streams[im->nstreams].unit = (uint32_t)u;
            im->nstreams++;
        }
        added++;
    }
    if (!added)
        line_error(im, "@streams needs at least one item (sm:COUNT, cim:COUNT or KIND:A-B)");
    im->streams_line = im->line;
}

static void directive(importer *im, char *p)
{
    char *name = p + 1, *end = name;
    while (*end && *end != ' ' && *end != '\t')
        end++;
    char saved = *end;
    *end = '\0';
    static const char *const strs[5] = {"producer", "cimsim-version", "arch", "workload",
                                        "mapping"};
    if (im->in_ops) {
        line_error(im, "directive @%s after the first op (directives come first)", name);
        return;
    }
    for (int i = 0; i < 5; i++)
        if (strcmp(name, strs[i]) == 0) {
            *end = saved;
            if (im->str[i]) {
                line_error(im, "@%s given twice", strs[i]);
                return;
            }
            im->str[i] = parse_value(im, end);
            return;
        }
    if (strcmp(name, "meta") == 0) {
        *end = saved;
        char *k = skip_ws(end), *kend = k;
        while (*kend && *kend != ' ' && *kend != '\t' && *kend != '#')
            kend++;
        if (kend == k) {
            line_error(im, "@meta needs a key and a value");
            return;
        }
        char *key = cs_strndup(k, (size_t)(kend - k));
        if (!cs__trace_key_ok(key)) {
            line_error(im, "@meta key '%.40s': use only [A-Za-z0-9_.:/-]", key);
            cs_free(key);
            return;
        }
        for (size_t i = 0; i < im->nkv; i++)
            if (strcmp(im->kv[i].key, key) == 0) {
                line_error(im, "@meta key '%s' given twice", key);
                cs_free(key);
                return;
            }
        char *val = parse_value(im, kend);
        if (!val) {
            cs_free(key);
            return;
        }
        CS_GROW(im->kv, im->kv_cap, im->nkv + 1);
        im->kv[im->nkv].key = key;
        im->kv[im->nkv].value = val;
        im->nkv++;
        return;
    }
    if (strcmp(name, "chunk-records") == 0) {
        *end = saved;
        char *v = skip_ws(end), *vend = v;
        while (*vend && *vend != ' ' && *vend != '\t' && *vend != '#')
            vend++;
        char c = *vend;
        *vend = '\0';
        uint64_t n;
        if (!parse_u64(v, &n) || n < 1 || n > CS_TRACE_MAX_CHUNK_RECORDS)
            line_error(im, "@chunk-records '%s': must be 1..%d", v, CS_TRACE_MAX_CHUNK_RECORDS);
        else
            im->chunk_records = (uint32_t)n;
        *vend = c;
        return;
    }
    if (strcmp(name, "streams") == 0) {
        *end = saved;
        add_streams(im, end);
        return;
    }
    line_error(im, "unknown directive @%s", name);
}

static int cmp_skey(const void *a, const void *b)
{
    uint64_t x = ((const skey *)a)->key, y = ((const skey *)b)->key;
    return x < y ? -1 : x > y;
}

/* Closes the header: builds the stream map and (when no error so far) the writer. */
static bool begin_ops(importer *im, bool at_eof)
{
    im->in_ops = true;
    if (!im->nstreams) {
        line_error(im, "no @streams %s (e.g. '@streams sm:108')",
                   at_eof ? "directive" : "before the first op");
        return false;
    }
    im->map = cs_malloc(sizeof *im->map * im->nstreams);
    for (size_t i = 0; i < im->nstreams; i++) {
        im->map[i].key = (uint64_t)im->streams[i].kind << 32 | im->streams[i].unit;
        im->map[i].stream = (uint32_t)i;
    }
    qsort(im->map, im->nstreams, sizeof *im->map, cmp_skey);
    for (size_t i = 1; i < im->nstreams; i++)
        if (im->map[i].key == im->map[i - 1].key) {
            int line = im->line;
            im->line = im->streams_line;
            line_error(im, "@streams lists %s %u twice", (im->map[i].key >> 32) ? "cim" : "sm",
                       (unsigned)(im->map[i].key & 0xffffffffu));
            im->line = line;
            return false;
        }
    if (im->errors)
        return true; /* keep checking lines; nothing will be written */
    cs_trace_meta m = {im->str[0] ? im->str[0] : "cimsim trace import",
                       im->str[1] ? im->str[1] : CIMSIM_VERSION,
                       im->str[2],
                       im->str[3],
                       im->str[4],
                       im->kv,
                       (uint32_t)im->nkv,
                       (uint32_t)im->nstreams,
                       im->streams};
    cs_trace_writer_opts opts = {im->chunk_records, 0};
    cs_err werr;
    cs_err_init(&werr);
    if (cs_trace_writer_create(im->out_path, &m, &opts, &im->w, &werr) != CS_OK) {
        /* Header problems (a long string) are the text's fault: cite it. */
        if (werr.status == CS_INVALID)
            for (int i = 0; i < werr.count && i < CS_ERR_MAX; i++)
                cs_err_add(im->err, werr.status, "%s: %s", im->text_path, werr.msg[i]);
        else
            cs_err_merge(im->err, &werr);
        im->errors++;
        return false;
    }
    return true;
}

static void op_line(importer *im, char *p)
{
    char *hash = strchr(p, '#');
    if (hash)
        *hash = '\0';
    char *save = NULL;
    char *tok = strtok_r(p, " \t", &save);
    uint8_t skind;
    if (strcmp(tok, "sm") == 0)
        skind = CS_STREAM_SM;
    else if (strcmp(tok, "cim") == 0)
        skind = CS_STREAM_CIM;
    else {
        if (cs_op_kind_from_name(tok) >= 0)
            line_error(im, "missing stream before op kind '%s' (expected 'sm N' or 'cim N')",
                       tok);
        else
            line_error(im, "unknown stream kind '%.40s' (expected sm or cim)", tok);
        return;
    }
    char *unit_s = strtok_r(NULL, " \t", &save);
    uint64_t unit;
    if (!unit_s || !parse_u64(unit_s, &unit) || unit > UINT32_MAX) {
        line_error(im, "bad unit number '%.40s' after '%s'", unit_s ? unit_s : "", tok);
        return;
    }
    skey want = {(uint64_t)skind << 32 | unit, 0};
    const skey *hit = bsearch(&want, im->map, im->nstreams, sizeof *im->map, cmp_skey);
    if (!hit) {
        line_error(im, "stream %s %llu out of range: not in @streams", tok,
                   (unsigned long long)unit);
        return;
    }
    char *kind_s = strtok_r(NULL, " \t", &save);
    if (!kind_s) {
        line_error(im, "missing op kind after '%s %llu'", tok, (unsigned long long)unit);
        return;
    }
    int kind = cs_op_kind_from_name(kind_s);
    if (kind < 0) {
        line_error(im, "unknown op kind '%.40s'", kind_s);
        return;
    }
    cs_op op;
    memset(&op, 0, sizeof op);
    op.kind = (uint8_t)kind;
    uint16_t fields = cs__trace_kind_fields(kind), seen = 0;
    for (char *fv = strtok_r(NULL, " \t", &save); fv; fv = strtok_r(NULL, " \t", &save)) {
        char *eq = strchr(fv, '=');
        if (!eq) {
            line_error(im, "expected FIELD=VALUE, got '%.40s'", fv);
            return;
        }
        *eq = '\0';
        const char *val = eq + 1;
        int f = -1;
        for (int i = 0; i < CS__F_COUNT; i++)
            if (strcmp(fv, cs__trace_fields[i].name) == 0)
                f = i;
        if (f < 0) {
            line_error(im, "unknown field '%.40s'", fv);
            return;
        }
        if (!(fields & (1u << f))) {
            line_error(im, "field '%s' not valid for %s", fv, kind_s);
            return;
        }
        if (seen & (1u << f)) {
            line_error(im, "field '%s' given twice", fv);
            return;
        }
        seen |= (uint16_t)(1u << f);
        uint64_t v = 0;
        bool ok = false;
        if (f == CS__F_DTYPE && !isdigit((unsigned char)val[0])) {
            for (int d = 0; d < CS_DTYPE_COUNT; d++)
                if (strcmp(val, cs_dtype_name(d)) == 0) {
                    v = (uint64_t)d;
                    ok = true;
                }
            if (!ok) {
                line_error(im, "unknown dtype '%.40s' (int8, fp16)", val);
                return;
            }
        } else if (f == CS__F_FLAGS && !isdigit((unsigned char)val[0])) {
            char tmp[128];
            snprintf(tmp, sizeof tmp, "%s", val);
            char *fs = NULL;
            ok = true;
            for (char *name = strtok_r(tmp, "|", &fs); name && ok;
                 name = strtok_r(NULL, "|", &fs)) {
                ok = false;
                for (unsigned bit = 0; bit < CS_OPF_BITS; bit++)
                    if (strcmp(name, cs__trace_flag_name(bit)) == 0) {
                        v |= 1u << bit;
                        ok = true;
                    }
                if (!ok) {
                    line_error(im, "unknown flag '%.40s' (swizzle, from_smem, to_smem, accum, spill, bcast, from_cim)",
                               name);
                    return;
                }
            }
        } else {
            if (!parse_u64(val, &v)) {
                line_error(im, "bad number '%.40s' for %s", val, fv);
                return;
            }
            unsigned w = cs__trace_fields[f].width_bits;
            if (w < 64 && v >> w) {
                line_error(im, "value %s out of range for %s (max %llu)", val, fv,
                           (unsigned long long)((UINT64_C(1) << w) - 1));
                return;
            }
        }
        cs__trace_field_set(&op, f, v);
    }
    char why[256];
    if (!cs_trace_op_valid(&op, why, sizeof why)) {
        line_error(im, "%s", why);
        return;
    }
    if (im->w && !im->errors) {
        cs_err werr;
        cs_err_init(&werr);
        if (cs_trace_write(im->w, hit->stream, &op, &werr) != CS_OK) {
            cs_err_merge(im->err, &werr);
            im->errors++;
        }
    }
}

static void importer_free(importer *im)
{
    for (int i = 0; i < 5; i++)
        cs_free(im->str[i]);
    for (size_t i = 0; i < im->nkv; i++) {
        cs_free((char *)im->kv[i].key);
        cs_free((char *)im->kv[i].value);
    }
    cs_free(im->kv);
    cs_free(im->streams);
    cs_free(im->map);
    cs_trace_writer_abort(im->w);
}

cs_status cs_trace_import(const char *text_path, const char *out_path, cs_err *err)
{
    FILE *f = fopen(text_path, "r");
    if (!f)
        return cs_err_add(err, errno == ENOENT ? CS_NOT_FOUND : CS_IO,
                          "%s: error: cannot open: %s", text_path, strerror(errno));
    importer im;
    memset(&im, 0, sizeof im);
    im.text_path = text_path;
    im.out_path = out_path;
    im.err = err;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    bool stop = false;
    while (!stop && (len = cs_afile_getline(f, &line, &cap, CS_TRACE_TEXT_MAX_LINE)) != -1) {
        im.line++;
        if (len == -2) {
            line_error(&im, "line longer than %d bytes", CS_TRACE_TEXT_MAX_LINE);
            break;
        }
        if ((size_t)len != strlen(line)) {
            line_error(&im, "NUL byte in line");
            break;
        }
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        char *p = skip_ws(line);
        if (!*p || *p == '#')
            continue;
        if (*p == '@')
            directive(&im, p);
        else if (im.in_ops || begin_ops(&im, false))
            op_line(&im, p);
        else
            stop = true; /* no layout: every op line would fail the same way */
        if (im.errors >= CS_ERR_MAX)
            stop = true;
    }
    bool read_fail = ferror(f);
    cs_free(line);
    fclose(f);
    if (read_fail) {
        cs_err_add(err, CS_IO, "%s: error: read failed", text_path);
        im.errors++;
    }
    if (!im.errors && !im.in_ops)
        begin_ops(&im, true); /* a trace with a layout but no ops */
    cs_status st = CS_OK;
    if (im.errors) {
        st = err && err->status != CS_OK ? err->status : CS_FORMAT;
    } else {
        cs_trace_writer *w = im.w;
        im.w = NULL;
        st = cs_trace_writer_finish(w, err);
    }
    importer_free(&im);
    return st;
}

/* json — streaming writer. Commas and indentation are derived from a per-depth "first" flag. */
#include "json.h"

#include <inttypes.h>

void cs_json_init(cs_json *j, cs_buf *out, int indent)
{
    j->out = out;
    j->depth = 0;
    j->indent = indent;
    j->first[0] = true;
    j->after_key = false;
}

static void newline(cs_json *j)
{
    if (!j->indent)
        return;
    cs_buf_putc(j->out, '\n');
    for (int i = 0; i < j->depth * j->indent; i++)
        cs_buf_putc(j->out, ' ');
}

/* Separator before a value or key at the current depth. */
static void pre_value(cs_json *j)
{
    if (j->after_key) {
        j->after_key = false;
        return;
    }
    if (j->depth > 0) {
        if (!j->first[j->depth])
            cs_buf_putc(j->out, ',');
        newline(j);
    }
    j->first[j->depth] = false;
}

static void open(cs_json *j, char c)
{
    pre_value(j);
    cs_buf_putc(j->out, c);
    if (j->depth + 1 < CS_JSON_MAX_DEPTH)
        j->depth++;
    j->first[j->depth] = true;
}

static void close(cs_json *j, char c)
{
    bool empty = j->first[j->depth];
    if (j->depth > 0)
        j->depth--;
    if (!empty)
        newline(j);
    cs_buf_putc(j->out, c);
}

void cs_json_obj_begin(cs_json *j) { open(j, '{'); }
void cs_json_obj_end(cs_json *j) { close(j, '}'); }
void cs_json_arr_begin(cs_json *j) { open(j, '['); }
void cs_json_arr_end(cs_json *j) { close(j, ']'); }

void cs_json_escape(cs_buf *b, const char *s)
{
    cs_buf_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': cs_buf_puts(b, "\\\""); break;
        case '\\': cs_buf_puts(b, "\\\\"); break;
        case '\n': cs_buf_puts(b, "\\n"); break;
        case '\r': cs_buf_puts(b, "\\r"); break;
        case '\t': cs_buf_puts(b, "\\t"); break;
        default:
            if (*p < 0x20)
                cs_buf_printf(b, "\\u%04x", *p);
            else
                cs_buf_putc(b, (char)*p);
        }
    }
    cs_buf_putc(b, '"');
}

void cs_json_key(cs_json *j, const char *key)
{
    pre_value(j);
    cs_json_escape(j->out, key);
    cs_buf_puts(j->out, j->indent ? ": " : ":");
    j->after_key = true;
}

void cs_json_str(cs_json *j, const char *s)
{
    pre_value(j);
    if (s)
        cs_json_escape(j->out, s);
    else
        cs_buf_puts(j->out, "null");
}

void cs_json_u64(cs_json *j, uint64_t v)
{
    pre_value(j);
    cs_buf_printf(j->out, "%" PRIu64, v);
}

void cs_json_i64(cs_json *j, int64_t v)
{
    pre_value(j);
    cs_buf_printf(j->out, "%" PRId64, v);
}

void cs_json_f64(cs_json *j, double v)
{
    pre_value(j);
    cs_buf_double(j->out, v);
}

void cs_json_bool(cs_json *j, bool v)
{
    pre_value(j);
    cs_buf_puts(j->out, v ? "true" : "false");
}

void cs_json_null(cs_json *j)
{
    pre_value(j);
    cs_buf_puts(j->out, "null");
}

void cs_json_raw(cs_json *j, const char *json)
{
    pre_value(j);
    cs_buf_puts(j->out, json);
}

void cs_json_kstr(cs_json *j, const char *key, const char *s) { cs_json_key(j, key); cs_json_str(j, s); }
void cs_json_ku64(cs_json *j, const char *key, uint64_t v) { cs_json_key(j, key); cs_json_u64(j, v); }
void cs_json_kf64(cs_json *j, const char *key, double v) { cs_json_key(j, key); cs_json_f64(j, v); }
void cs_json_kbool(cs_json *j, const char *key, bool v) { cs_json_key(j, key); cs_json_bool(j, v); }

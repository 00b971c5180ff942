/* json — a small streaming JSON writer with deterministic output.
 *
 * Keys are written in the order the caller gives them; numbers use the shortest form that
 * reads back exactly, so equal inputs give byte-identical files. Reading JSON is jansson's
 * job (tools/ only); this writer is what the simulator layers use to emit results.
 */
#ifndef CS_JSON_H
#define CS_JSON_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"

enum { CS_JSON_MAX_DEPTH = 32 };

typedef struct cs_json {
    cs_buf *out;
    int depth;
    int indent;                       /* spaces per level; 0 = compact, one line */
    bool first[CS_JSON_MAX_DEPTH];    /* no element written yet at this depth */
    bool after_key;
} cs_json;

void cs_json_init(cs_json *j, cs_buf *out, int indent);
void cs_json_obj_begin(cs_json *j);
void cs_json_obj_end(cs_json *j);
void cs_json_arr_begin(cs_json *j);
void cs_json_arr_end(cs_json *j);
void cs_json_key(cs_json *j, const char *key);
void cs_json_str(cs_json *j, const char *s);   /* NULL writes null */
void cs_json_u64(cs_json *j, uint64_t v);
void cs_json_i64(cs_json *j, int64_t v);
void cs_json_f64(cs_json *j, double v);
void cs_json_bool(cs_json *j, bool v);
void cs_json_null(cs_json *j);
/* Appends already-serialised JSON as one value. */
void cs_json_raw(cs_json *j, const char *json);
/* Key + value shorthands. */
void cs_json_kstr(cs_json *j, const char *key, const char *s);
void cs_json_ku64(cs_json *j, const char *key, uint64_t v);
void cs_json_kf64(cs_json *j, const char *key, double v);
void cs_json_kbool(cs_json *j, const char *key, bool v);
/* Writes s as a JSON string literal (quotes and escapes) into b. */
void cs_json_escape(cs_buf *b, const char *s);

#endif

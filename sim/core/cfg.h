/* cfg — configuration: libconfig documents validated against schema tables into const structs.
 *
 * Three phases, never a half-built system:
 *   1. parse   cs_cfg_parse_file / _string: libconfig syntax; `@include "path"` is resolved
 *              relative to the including file (or, inside an embedded file, within the embedded
 *              tree; "builtin:arch/x.cfg" names an embedded file explicitly). Inclusion is
 *              textual; every setting keeps its true file and line.
 *   2. bind    cs_cfg_bind: walks a schema, fills a zeroed params struct, applies defaults,
 *              checks types, ranges, units, rejects unknown keys ("did you mean ...?"), runs the
 *              schema's cross-field checks (which cite both lines). All errors are collected
 *              (up to CS_ERR_MAX) in the form  FILE:LINE: error: KEY.PATH: RULE (got VALUE).
 *   3. build   the caller builds its objects from the const params.
 *
 * libconfig is used by this module only. Schemas are static tables; the same tables produce
 * `cimsim config describe` and docs/config-reference.md, and drive `config dump`, which prints
 * the effective configuration with defaults filled in and where each value came from.
 */
#ifndef CS_CFG_H
#define CS_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

typedef enum {
    CS_CFG_INT,      /* int64_t; libconfig integer */
    CS_CFG_FLOAT,    /* double; integer or float */
    CS_CFG_BOOL,     /* bool */
    CS_CFG_STRING,   /* char * (owned by params, freed by cs_cfg_params_free) */
    CS_CFG_ENUM,     /* int: index into .choices; written as a string */
    CS_CFG_BYTES,    /* uint64_t bytes: "40MiB" or a non-negative integer */
    CS_CFG_FREQ,     /* uint64_t kHz: "1410MHz" */
    CS_CFG_TIME,     /* uint64_t ps: "2ns" */
    CS_CFG_ENERGY,   /* double pJ: "0.15pJ" */
    CS_CFG_POWER,    /* double mW: "2.5mW" */
    CS_CFG_AREA,     /* double mm^2: "0.01mm2" */
    CS_CFG_GROUP,    /* a nested struct at .offset, described by .group */
    CS_CFG_MAP,      /* cs_cfg_map: a group whose member names are free; each member is a
                        .group (if set) or a scalar of .elem type */
    CS_CFG_LIST,     /* cs_cfg_list: a list ( {...}, {...} ) of .group items */
    CS_CFG_INT_LIST, /* cs_cfg_ints: an array [1, 2, 3] */
    CS_CFG_STR_LIST, /* cs_cfg_strs: an array or list of strings (numbers are kept as text) */
    CS_CFG_TYPE_COUNT
} cs_cfg_type;

typedef struct cs_cfg_schema cs_cfg_schema;

typedef struct cs_cfg_key {
    const char *name;   /* member name in the file */
    cs_cfg_type type;
    size_t offset;      /* of the field in the params struct */
    bool required;      /* error when absent (def must then be NULL) */
    const char *def;    /* default, written as in a file ("16", "40MiB", "true", "frfcfs") */
    double min, max;    /* inclusive range in the stored unit; ignored when min > max */
    const char *unit;   /* stored unit, for docs: "bytes", "kHz", "ps", "cycles", "pJ" */
    const char *help;   /* one sentence */
    const cs_cfg_schema *group;        /* GROUP, MAP of groups, LIST */
    const char *const *choices;        /* ENUM: NULL-terminated */
    cs_cfg_type elem;                  /* MAP of scalars: the scalar type */
} cs_cfg_key;

typedef struct cs_cfg_check cs_cfg_check;

struct cs_cfg_schema {
    const char *name;   /* "l2" — for describe; the key that holds it is the path */
    const char *help;
    const cs_cfg_key *keys;
    size_t nkeys;
    size_t size;        /* sizeof the params struct (MAP/LIST items) */
    /* Cross-field rules, run after every key of this group bound without error. Report with
     * cs_cfg_fail / cs_cfg_fail2; the return value is ignored (errors are counted). */
    void (*check)(const void *params, cs_cfg_check *chk);
};

/* Containers filled by MAP, LIST and the list types. */
typedef struct cs_cfg_map {
    size_t n;
    char **names;
    void *items; /* n items of the group's size, or of the scalar's storage type */
} cs_cfg_map;
typedef struct cs_cfg_list {
    size_t n;
    void *items; /* n items of the group's size */
} cs_cfg_list;
typedef struct cs_cfg_ints {
    size_t n;
    int64_t *v;
} cs_cfg_ints;
typedef struct cs_cfg_strs {
    size_t n;
    char **v;
} cs_cfg_strs;

/* Table-writing helpers: CS_CFG_K(struct, field, "name", TYPE, required, "default", min, max,
 * "unit", "help"). Groups: CS_CFG_G(struct, field, "name", &schema, "help").
 * CS_CFG_NORANGE may stand for "min, max": CS_CFG_K expands its arguments before counting. */
#define CS_CFG_K(...) CS_CFG_K_(__VA_ARGS__)
#define CS_CFG_K_(st, field, nm, ty, req, dflt, lo, hi, un, hlp) \
    {.name = nm, .type = ty, .offset = offsetof(st, field), .required = req, .def = dflt,   \
     .min = lo, .max = hi, .unit = un, .help = hlp}
#define CS_CFG_E(st, field, nm, chs, dflt, hlp) \
    {.name = nm, .type = CS_CFG_ENUM, .offset = offsetof(st, field), .def = dflt, .min = 1,  \
     .max = 0, .help = hlp, .choices = chs}
#define CS_CFG_G(st, field, nm, sch, hlp) \
    {.name = nm, .type = CS_CFG_GROUP, .offset = offsetof(st, field), .min = 1, .max = 0,   \
     .help = hlp, .group = sch}
#define CS_CFG_SCHEMA(nm, st, keys_, chk, hlp) \
    {.name = nm, .help = hlp, .keys = keys_, .nkeys = sizeof(keys_) / sizeof((keys_)[0]),   \
     .size = sizeof(st), .check = chk}
#define CS_CFG_NORANGE 1, 0

/* ---- parse (phase 1) ---------------------------------------------------------------------- */
typedef struct cs_cfg cs_cfg;
/* path: a file on disk, or "builtin:arch/a100.cfg" for an embedded one. */
cs_status cs_cfg_parse_file(const char *path, cs_cfg **out, cs_err *err);
/* name is used in messages ("<command line>", "builtin:arch/a100.cfg"). Includes resolve
 * relative to base_dir (NULL: the current directory). */
cs_status cs_cfg_parse_string(const char *name, const char *text, const char *base_dir,
                              cs_cfg **out, cs_err *err);
void cs_cfg_destroy(cs_cfg *cfg); /* NULL is a no-op */
/* Sets (creating groups as needed) a scalar at a dotted path, from text as written on a
 * command line: integers, floats, true/false, anything else a string. origin names the source
 * in dumps and messages ("--set", "sweep point 7"). */
cs_status cs_cfg_set(cs_cfg *cfg, const char *path, const char *value, const char *origin,
                     cs_err *err);
bool cs_cfg_has(const cs_cfg *cfg, const char *path);
/* Name of the i-th top-level setting, NULL past the end (lets tools tell file kinds apart). */
const char *cs_cfg_top_name(const cs_cfg *cfg, int i);
/* The display name of the main file. */
const char *cs_cfg_name(const cs_cfg *cfg);
/* FNV-1a 64 of the text as parsed: the file with every @include expanded in place, so an edit
 * to the file or to any file it includes changes it (comments too). For provenance. */
uint64_t cs_cfg_content_hash(const cs_cfg *cfg);
/* "FILE:LINE" of the setting at path ("sweep.axes[1].values[0]"), or of its innermost
 * enclosing setting that exists; for messages about values a tool checks itself. */
void cs_cfg_where(const cs_cfg *cfg, const char *path, char *buf, size_t cap);

/* ---- bind (phase 2) ----------------------------------------------------------------------- */
/* Binds the group at path ("" = the root) to schema, filling params (at least schema->size
 * bytes, zeroed by the caller). A missing group binds as all defaults. Returns CS_OK or the
 * first error's status; err holds every message. */
cs_status cs_cfg_bind(cs_cfg *cfg, const char *path, const cs_cfg_schema *schema, void *params,
                      cs_err *err);
/* Frees what binding allocated inside params (strings, maps, lists), not params itself. */
void cs_cfg_params_free(const cs_cfg_schema *schema, void *params);

/* Cross-field failures, from a schema's check callback. key and other are paths relative to
 * the group being checked; messages cite the file:line of key (and of other). */
void cs_cfg_fail(cs_cfg_check *chk, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void cs_cfg_fail2(cs_cfg_check *chk, const char *key, const char *other, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- dump and describe -------------------------------------------------------------------- */
/* The effective configuration of a bound group in libconfig syntax, every value followed by
 * a comment saying where it came from ("# arch/a100.cfg:12", "# default", "# --set"). */
void cs_cfg_dump(const cs_cfg *cfg, const char *path, const cs_cfg_schema *schema,
                 const void *params, cs_buf *out);
/* Same, without origins: the canonical text hashed for provenance (cs_cfg_hash). */
void cs_cfg_dump_plain(const cs_cfg_schema *schema, const void *params, cs_buf *out);
uint64_t cs_cfg_hash(const cs_cfg_schema *schema, const void *params);
/* Reference of a schema: every key with type, default, range, unit and help. prefix is the
 * path of the group ("l2"). markdown: tables for docs/config-reference.md; else plain text. */
void cs_cfg_describe(const cs_cfg_schema *schema, const char *prefix, bool markdown, cs_buf *out);
const char *cs_cfg_type_name(cs_cfg_type t);

#endif

/* cfg — libconfig documents, textual @include, schema binding, dumps and references.
 *
 * Parsing. libconfig 1.5 has no include hook, so inclusion is done here, before libconfig sees
 * the text: every file is read line by line, a line whose first non-blank text is @include is
 * replaced by the included file's lines (recursively), and a line map records, for every line
 * of the combined text, the file and line it came from. Every line number libconfig reports
 * (syntax errors, setting positions) goes through that map, so messages cite the true
 * file:line. The same pass appends the L suffix to every integer literal: libconfig 1.5 reads
 * an integer beyond 32 bits without the suffix by silently truncating it (3000000000 becomes
 * -1294967296), and suffixing all of them keeps arrays of mixed magnitudes homogeneous.
 *
 * Values set with cs_cfg_set carry a note (the libconfig hook) naming their origin; a setting
 * with a note is cited by that origin instead of a line.
 *
 * Binding walks a schema: unknown members are rejected with a suggestion, each key is looked up,
 * converted, range-checked in its stored unit and written into the params struct; absent keys
 * take their default. Errors never stop the walk, so one run reports every mistake. A group's
 * cross-field check runs only when the group (nested groups included) bound cleanly.
 * Everything binding allocates hangs off params, so cs_cfg_params_free releases it even after
 * a failed bind.
 */
#include "cfg.h"

#include <ctype.h>
#include <errno.h>
#include <libconfig.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "afile.h"
#include "alloc.h"
#include "check.h"
#include "hash.h"
#include "units.h"
#include "vfs.h"

enum {
    MAX_INCLUDE_DEPTH = 16,
    PATH_BYTES = 384,  /* dotted key paths in messages */
    VALUE_BYTES = 160, /* a value as written, in messages */
    RULE_BYTES = 384,
};

static const char BUILTIN[] = "builtin:";
#define BUILTIN_LEN (sizeof BUILTIN - 1)

typedef struct line_src {
    int file; /* index into cs_cfg.files */
    int line;
} line_src;

/* Origin of a value set by cs_cfg_set; the setting's hook points here. */
typedef struct set_note {
    char *origin;
    char *text; /* as given: a string key accepts "--set name=123" as "123" */
} set_note;

struct cs_cfg {
    config_t lc;
    char *name;
    char **files; /* display names; files[0] is the main file */
    size_t nfiles, files_cap;
    line_src *lines; /* lines[i]: where combined line i + 1 came from */
    size_t nlines, lines_cap;
    set_note **notes;
    size_t nnotes, notes_cap;
    uint64_t content_hash; /* FNV-1a of the combined text (the file with its includes) */
};

/* A place to cite: "file:line", or an origin alone when line is 0. */
typedef struct pos {
    const char *file;
    int line;
} pos;

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* ==== positions ============================================================================ */

static pos map_line(const cs_cfg *cfg, int line)
{
    if (cfg->nlines == 0)
        return (pos){cfg->files[0], 1};
    if (line < 1)
        line = 1;
    if ((size_t)line > cfg->nlines)
        line = (int)cfg->nlines; /* errors at end of input */
    line_src ls = cfg->lines[line - 1];
    return (pos){cfg->files[ls.file], ls.line};
}

/* The root group's place: the main file's first setting, else its line 1. */
static pos root_pos(const cs_cfg *cfg)
{
    if (!cfg)
        return (pos){"<no configuration>", 0};
    const config_setting_t *root = config_root_setting(&cfg->lc);
    int n = config_setting_length(root);
    for (int i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
        if (config_setting_get_hook(s) || s->line == 0)
            continue;
        pos p = map_line(cfg, (int)s->line);
        if (p.file == cfg->files[0])
            return p;
    }
    return (pos){cfg->files[0], 1};
}

static pos setting_pos(const cs_cfg *cfg, const config_setting_t *s)
{
    if (!cfg)
        return root_pos(cfg);
    for (; s && s->parent; s = s->parent) {
        const set_note *note = config_setting_get_hook(s);
        if (note)
            return (pos){note->origin, 0};
        if (s->line > 0)
            return map_line(cfg, (int)s->line);
    }
    return root_pos(cfg);
}

/* ==== parse: reading and @include expansion ================================================ */

/* The whole file, NUL-terminated; NULL when it cannot be read, with the status and the reason
 * in words (why). Configuration files are small: anything past 16 MiB (an include of
 * /dev/zero, say) is refused. A NUL byte inside is refused too: libconfig would stop there and
 * ignore the rest. A UTF-8 byte-order mark is dropped. */
static char *read_disk(const char *path, cs_status *st, char *why, size_t cap)
{
    FILE *f = fopen(path, "rb");
    int bad = f ? 0 : errno;
    cs_buf b;
    cs_buf_init(&b);
    char chunk[8192];
    size_t n;
    while (f && (n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        cs_buf_append(&b, chunk, n);
        if (b.len > CS_AFILE_MAX_INPUT_BYTES) {
            bad = EFBIG;
            break;
        }
    }
    if (f && !bad)
        bad = ferror(f) ? (errno ? errno : EIO) : 0;
    if (f)
        fclose(f);
    const char *nul = !bad && b.len ? memchr(b.data, '\0', b.len) : NULL;
    *st = bad == ENOENT ? CS_NOT_FOUND : nul ? CS_FORMAT : CS_IO;
    if (bad == EFBIG)
        snprintf(why, cap, "larger than %d MiB (docs/limits.md)", CS_AFILE_MAX_INPUT_BYTES >> 20);
    else if (nul)
        snprintf(why, cap, "a NUL byte at byte %zu (everything after it would be ignored)",
                 (size_t)(nul - b.data));
    else if (bad)
        snprintf(why, cap, "%s", strerror(bad));
    if (bad || nul) {
        cs_buf_free(&b);
        return NULL;
    }
    char *text = cs_buf_take(&b);
    if (text && strncmp(text, "\xEF\xBB\xBF", 3) == 0)
        memmove(text, text + 3, strlen(text) - 2);
    return text ? text : cs_strdup("");
}

static char *dir_of(const char *path)
{
    const char *sl = strrchr(path, '/');
    if (!sl)
        return cs_strdup("");
    if (sl == path)
        return cs_strdup("/");
    return cs_strndup(path, (size_t)(sl - path));
}

static char *join_path(const char *dir, const char *rel)
{
    if (rel[0] == '/' || dir[0] == '\0')
        return cs_strdup(rel);
    cs_buf b;
    cs_buf_init(&b);
    cs_buf_puts(&b, dir);
    if (dir[strlen(dir) - 1] != '/')
        cs_buf_putc(&b, '/');
    cs_buf_puts(&b, rel);
    return cs_buf_take(&b);
}

/* An embedded path with "." and ".." resolved lexically (there is no file system to ask);
 * NULL when it climbs above the root. */
static char *vfs_normalize(const char *path)
{
    cs_buf b;
    cs_buf_init(&b);
    const char *p = path;
    while (*p) {
        while (*p == '/')
            p++;
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == 0)
            break;
        if (n == 1 && p[0] == '.') {
            /* nothing */
        } else if (n == 2 && p[0] == '.' && p[1] == '.') {
            if (b.len == 0) {
                cs_buf_free(&b);
                return NULL;
            }
            char *sl = strrchr(b.data, '/');
            b.len = sl ? (size_t)(sl - b.data) : 0;
            b.data[b.len] = '\0';
        } else {
            if (b.len)
                cs_buf_putc(&b, '/');
            cs_buf_append(&b, p, n);
        }
        p += n;
    }
    return cs_buf_take(&b);
}

static int add_file(cs_cfg *cfg, const char *display)
{
    for (size_t i = 0; i < cfg->nfiles; i++)
        if (strcmp(cfg->files[i], display) == 0)
            return (int)i;
    CS_GROW(cfg->files, cfg->files_cap, cfg->nfiles + 1);
    cfg->files[cfg->nfiles] = cs_strdup(display);
    return (int)cfg->nfiles++;
}

typedef struct frame {
    const char *id;      /* identity for cycle detection (device:inode, or the builtin path) */
    const char *display; /* name in messages */
} frame;

typedef struct expander {
    cs_cfg *cfg;
    cs_buf text;
    cs_err *err;
    cs_status st; /* first failure */
    frame stack[MAX_INCLUDE_DEPTH + 1];
    int depth;
} expander;

/* Lexical state carried across the lines of one file: inside a block comment or a string,
 * neither @include nor an integer literal is what it seems. */
typedef struct lex {
    bool comment;
    bool string;
} lex;

static void expand_fail(expander *x, cs_status st, const char *file, int line, const char *key,
                        const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static void expand_fail(expander *x, cs_status st, const char *file, int line, const char *key,
                        const char *fmt, ...)
{
    char rule[RULE_BYTES];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rule, sizeof rule, fmt, ap);
    va_end(ap);
    cs_err_at(x->err, st, file, line, key, "%s", rule);
    if (x->st == CS_OK)
        x->st = st;
}

static bool name_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '*' || c == '-';
}

/* Copies one integer or float literal starting at s[i] (a digit, or a sign before one) and
 * returns the index after it. Integers get the L suffix (see the file comment). */
static size_t copy_number(expander *x, const char *s, size_t i, size_t len, const char *file,
                          int lineno)
{
    size_t j = i;
    if (s[j] == '+' || s[j] == '-')
        j++;
    size_t k;
    bool is_int = true, hex = false;
    if (j + 2 < len && s[j] == '0' && (s[j + 1] == 'x' || s[j + 1] == 'X') &&
        isxdigit((unsigned char)s[j + 2])) {
        hex = true;
        for (k = j + 2; k < len && isxdigit((unsigned char)s[k]); k++)
            ;
    } else {
        for (k = j; k < len && isdigit((unsigned char)s[k]); k++)
            ;
        if (k < len && (s[k] == '.' || s[k] == 'e' || s[k] == 'E')) {
            is_int = false;
            while (k < len && (isdigit((unsigned char)s[k]) || s[k] == '.'))
                k++;
            if (k < len && (s[k] == 'e' || s[k] == 'E')) {
                k++;
                if (k < len && (s[k] == '+' || s[k] == '-'))
                    k++;
                while (k < len && isdigit((unsigned char)s[k]))
                    k++;
            }
        }
    }
    cs_buf_append(&x->text, s + i, k - i);
    if (!is_int || (k < len && s[k] == 'L'))
        return k;
    char tmp[72];
    size_t n = k - i < sizeof tmp - 1 ? k - i : sizeof tmp - 1;
    memcpy(tmp, s + i, n);
    tmp[n] = '\0';
    errno = 0;
    bool range = k - i < sizeof tmp - 1;
    if (hex) {
        unsigned long long v = strtoull(tmp + (j - i), NULL, 16);
        range = range && errno != ERANGE && v <= (unsigned long long)LLONG_MAX;
    } else {
        (void)strtoll(tmp, NULL, 10);
        range = range && errno != ERANGE;
    }
    if (!range)
        expand_fail(x, CS_FORMAT, file, lineno, "syntax error",
                    "integer out of 64-bit range (got %.*s)", (int)(k - i), s + i);
    cs_buf_putc(&x->text, 'L');
    return k;
}

/* Appends one ordinary line, tracking comments and strings and suffixing integers. */
static void copy_line(expander *x, lex *lx, const char *s, size_t len, const char *file,
                      int lineno)
{
    size_t i = 0;
    while (i < len) {
        char c = s[i];
        if (lx->comment) {
            if (c == '*' && i + 1 < len && s[i + 1] == '/') {
                lx->comment = false;
                cs_buf_append(&x->text, s + i, 2);
                i += 2;
            } else {
                cs_buf_putc(&x->text, c);
                i++;
            }
        } else if (lx->string) {
            if (c == '\\' && i + 1 < len) {
                cs_buf_append(&x->text, s + i, 2);
                i += 2;
                continue;
            }
            if (c == '"')
                lx->string = false;
            cs_buf_putc(&x->text, c);
            i++;
        } else if (c == '#' || (c == '/' && i + 1 < len && s[i + 1] == '/')) {
            cs_buf_append(&x->text, s + i, len - i);
            return;
        } else if (c == '/' && i + 1 < len && s[i + 1] == '*') {
            lx->comment = true;
            cs_buf_append(&x->text, s + i, 2);
            i += 2;
        } else if (c == '"') {
            lx->string = true;
            cs_buf_putc(&x->text, c);
            i++;
        } else if ((isdigit((unsigned char)c) ||
                    ((c == '-' || c == '+') && i + 1 < len && isdigit((unsigned char)s[i + 1]))) &&
                   (i == 0 || (!name_char(s[i - 1]) && s[i - 1] != '.'))) {
            i = copy_number(x, s, i, len, file, lineno);
        } else {
            cs_buf_putc(&x->text, c);
            i++;
        }
    }
}

static void expand_text(expander *x, int file, const char *text, bool builtin, const char *dir);

/* Reads the text of an included file; on failure reports at the @include line. */
static char *open_include(expander *x, const char *from, int lineno, bool builtin,
                          const char *path, const char *display)
{
    if (builtin) {
        const cs_vfs_file *vf = path ? cs_vfs_find(path) : NULL;
        if (!vf) {
            expand_fail(x, CS_NOT_FOUND, from, lineno, "@include",
                        "cannot open '%s': no such embedded file", display);
            return NULL;
        }
        return cs_strndup(vf->data, vf->len);
    }
    cs_status st;
    char why[160];
    char *text = read_disk(path, &st, why, sizeof why);
    if (!text)
        expand_fail(x, st, from, lineno, "@include", "cannot open '%s': %s", display, why);
    return text;
}

/* Handles `@include "path"` (p points after the keyword). */
static void include_line(expander *x, int file, int lineno, const char *p, const char *end,
                         bool builtin, const char *dir)
{
    const char *from = x->cfg->files[file];
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    const char *q = p < end && *p == '"' ? memchr(p + 1, '"', (size_t)(end - p - 1)) : NULL;
    if (!q) {
        expand_fail(x, CS_FORMAT, from, lineno, "@include", "expected a quoted path");
        return;
    }
    const char *r = q + 1;
    while (r < end && (*r == ' ' || *r == '\t' || *r == '\r'))
        r++;
    if (r < end && *r != '#' && !(r + 1 < end && r[0] == '/' && r[1] == '/')) {
        expand_fail(x, CS_FORMAT, from, lineno, "@include", "unexpected text after the path");
        return;
    }
    char *inc = cs_strndup(p + 1, (size_t)(q - p - 1));
    if (!inc[0]) {
        expand_fail(x, CS_FORMAT, from, lineno, "@include", "empty path");
        cs_free(inc);
        return;
    }
    bool inc_builtin = builtin || starts_with(inc, BUILTIN);
    char *path, *display;
    if (starts_with(inc, BUILTIN)) {
        path = vfs_normalize(inc + BUILTIN_LEN);
    } else if (builtin) {
        char *joined = join_path(dir, inc);
        path = vfs_normalize(joined);
        cs_free(joined);
    } else {
        path = join_path(dir, inc);
    }
    if (inc_builtin) {
        cs_buf b;
        cs_buf_init(&b);
        const char *shown = path ? path : inc + (starts_with(inc, BUILTIN) ? BUILTIN_LEN : 0);
        cs_buf_printf(&b, "%s%s", BUILTIN, shown);
        display = cs_buf_take(&b);
    } else {
        display = cs_strdup(path);
    }
    char *text = open_include(x, from, lineno, inc_builtin, path, display);
    char *id = NULL;
    if (text) {
        struct stat st;
        if (!inc_builtin && stat(path, &st) == 0) {
            cs_buf b;
            cs_buf_init(&b);
            cs_buf_printf(&b, "%llu:%llu", (unsigned long long)st.st_dev,
                          (unsigned long long)st.st_ino);
            id = cs_buf_take(&b);
        } else {
            id = cs_strdup(display);
        }
        int cycle_at = -1;
        for (int i = 0; i <= x->depth; i++)
            if (x->stack[i].id && strcmp(x->stack[i].id, id) == 0) {
                cycle_at = i;
                break;
            }
        if (cycle_at >= 0) {
            cs_buf chain;
            cs_buf_init(&chain);
            for (int i = cycle_at; i <= x->depth; i++)
                cs_buf_printf(&chain, "%s -> ", x->stack[i].display);
            cs_buf_puts(&chain, display);
            expand_fail(x, CS_INVALID, from, lineno, "@include", "include cycle: %s", chain.data);
            cs_buf_free(&chain);
        } else if (x->depth >= MAX_INCLUDE_DEPTH) {
            expand_fail(x, CS_INVALID, from, lineno, "@include",
                        "includes nested more than %d deep", MAX_INCLUDE_DEPTH);
        } else {
            int f = add_file(x->cfg, display);
            char *sub = dir_of(path);
            x->depth++;
            x->stack[x->depth] = (frame){id, x->cfg->files[f]};
            expand_text(x, f, text, inc_builtin, sub);
            x->depth--;
            cs_free(sub);
        }
    }
    cs_free(id);
    cs_free(text);
    cs_free(display);
    cs_free(path);
    cs_free(inc);
}

static void expand_text(expander *x, int file, const char *text, bool builtin, const char *dir)
{
    lex lx = {false, false};
    const char *p = text;
    int lineno = 0;
    while (*p) {
        const char *nl = strchr(p, '\n');
        const char *end = nl ? nl : p + strlen(p);
        lineno++;
        const char *t = p;
        while (t < end && (*t == ' ' || *t == '\t'))
            t++;
        if (!lx.comment && !lx.string && (size_t)(end - t) >= 8 && strncmp(t, "@include", 8) == 0) {
            include_line(x, file, lineno, t + 8, end, builtin, dir);
        } else {
            copy_line(x, &lx, p, (size_t)(end - p), x->cfg->files[file], lineno);
            cs_buf_putc(&x->text, '\n');
            CS_GROW(x->cfg->lines, x->cfg->lines_cap, x->cfg->nlines + 1);
            x->cfg->lines[x->cfg->nlines++] = (line_src){file, lineno};
        }
        p = nl ? nl + 1 : end;
    }
}

/* Common to both entry points: expand, then let libconfig parse the combined text. */
static cs_status parse_text(const char *display, const char *text, bool builtin, const char *dir,
                            const char *id, cs_cfg **out, cs_err *err)
{
    cs_cfg *cfg = cs_calloc(1, sizeof *cfg);
    config_init(&cfg->lc);
    cfg->name = cs_strdup(display);
    int f0 = add_file(cfg, display);
    expander x = {.cfg = cfg, .err = err, .st = CS_OK, .depth = 0};
    cs_buf_init(&x.text);
    x.stack[0] = (frame){id, cfg->files[f0]};
    expand_text(&x, f0, text, builtin, dir);
    cfg->content_hash = cs_fnv1a(x.text.data ? x.text.data : "", x.text.len, CS_FNV_SEED);
    if (x.st == CS_OK && !config_read_string(&cfg->lc, x.text.data ? x.text.data : "")) {
        pos p = map_line(cfg, config_error_line(&cfg->lc));
        const char *why = config_error_text(&cfg->lc);
        x.st = cs_err_at(err, CS_FORMAT, p.file, p.line, "syntax error", "%s",
                         why ? why : "unreadable input");
    }
    cs_buf_free(&x.text);
    if (x.st != CS_OK) {
        cs_cfg_destroy(cfg);
        *out = NULL;
        return x.st;
    }
    *out = cfg;
    return CS_OK;
}

cs_status cs_cfg_parse_file(const char *path, cs_cfg **out, cs_err *err)
{
    *out = NULL;
    if (starts_with(path, BUILTIN)) {
        char *vpath = vfs_normalize(path + BUILTIN_LEN);
        const cs_vfs_file *vf = vpath ? cs_vfs_find(vpath) : NULL;
        if (!vf) {
            cs_free(vpath);
            return cs_err_at(err, CS_NOT_FOUND, path, 0, "cannot open", "no such embedded file");
        }
        char *dir = dir_of(vpath);
        cs_buf b;
        cs_buf_init(&b);
        cs_buf_printf(&b, "%s%s", BUILTIN, vpath);
        char *id = cs_buf_take(&b);
        cs_status st = parse_text(path, vf->data, true, dir, id, out, err);
        cs_free(id);
        cs_free(dir);
        cs_free(vpath);
        return st;
    }
    cs_status rs;
    char why[160];
    char *text = read_disk(path, &rs, why, sizeof why);
    if (!text)
        return cs_err_at(err, rs, path, 0, "cannot open", "%s", why);
    char *id = NULL;
    struct stat st;
    if (stat(path, &st) == 0) {
        cs_buf b;
        cs_buf_init(&b);
        cs_buf_printf(&b, "%llu:%llu", (unsigned long long)st.st_dev,
                      (unsigned long long)st.st_ino);
        id = cs_buf_take(&b);
    }
    char *dir = dir_of(path);
    cs_status s = parse_text(path, text, false, dir, id, out, err);
    cs_free(dir);
    cs_free(id);
    cs_free(text);
    return s;
}

cs_status cs_cfg_parse_string(const char *name, const char *text, const char *base_dir,
                              cs_cfg **out, cs_err *err)
{
    *out = NULL;
    if (!name)
        name = "<string>";
    if (!text)
        text = "";
    if (!base_dir && starts_with(name, BUILTIN)) {
        /* An embedded file's text: its includes resolve inside the embedded tree. */
        char *vpath = vfs_normalize(name + BUILTIN_LEN);
        char *dir = dir_of(vpath ? vpath : "");
        cs_status st = parse_text(name, text, true, dir, name, out, err);
        cs_free(dir);
        cs_free(vpath);
        return st;
    }
    return parse_text(name, text, false, base_dir ? base_dir : "", NULL, out, err);
}

uint64_t cs_cfg_content_hash(const cs_cfg *cfg)
{
    return cfg->content_hash;
}

void cs_cfg_destroy(cs_cfg *cfg)
{
    if (!cfg)
        return;
    config_destroy(&cfg->lc);
    for (size_t i = 0; i < cfg->nfiles; i++)
        cs_free(cfg->files[i]);
    cs_free(cfg->files);
    cs_free(cfg->lines);
    for (size_t i = 0; i < cfg->nnotes; i++) {
        cs_free(cfg->notes[i]->origin);
        cs_free(cfg->notes[i]->text);
        cs_free(cfg->notes[i]);
    }
    cs_free(cfg->notes);
    cs_free(cfg->name);
    cs_free(cfg);
}

/* ==== lookup and cs_cfg_set ================================================================ */

/* A dotted path below g: "l2.assoc", "levels[1].name"; "" is g itself. */
static const config_setting_t *lookup(const config_setting_t *g, const char *path)
{
    const char *p = path;
    while (g && *p) {
        const char *e = p;
        while (*e && *e != '.' && *e != '[')
            e++;
        if (e > p) {
            char name[PATH_BYTES];
            size_t n = (size_t)(e - p);
            if (n >= sizeof name || !config_setting_is_group(g))
                return NULL;
            memcpy(name, p, n);
            name[n] = '\0';
            g = config_setting_get_member(g, name);
        } else if (*e != '[') {
            return NULL;
        }
        p = e;
        while (g && *p == '[') {
            char *end;
            unsigned long idx = strtoul(p + 1, &end, 10);
            if (end == p + 1 || *end != ']' || !config_setting_is_aggregate(g) ||
                idx >= (unsigned long)config_setting_length(g))
                return NULL;
            g = config_setting_get_elem(g, (unsigned)idx);
            p = end + 1;
        }
        if (*p == '.')
            p++;
        else if (*p)
            return NULL;
    }
    return g;
}

bool cs_cfg_has(const cs_cfg *cfg, const char *path)
{
    return cfg && path && lookup(config_root_setting(&cfg->lc), path) != NULL;
}

const char *cs_cfg_top_name(const cs_cfg *cfg, int i)
{
    if (!cfg || i < 0)
        return NULL;
    const config_setting_t *root = config_root_setting(&cfg->lc);
    if (i >= config_setting_length(root))
        return NULL;
    return config_setting_name(config_setting_get_elem(root, (unsigned)i));
}

const char *cs_cfg_name(const cs_cfg *cfg)
{
    return cfg ? cfg->name : NULL;
}

static bool valid_name(const char *s, size_t n)
{
    if (n == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '*'))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!name_char(s[i]))
            return false;
    return true;
}

static bool all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

/* Command-line typing: integer, float, true/false, else string ("..." forces a string). */
static config_setting_t *add_typed(config_setting_t *parent, const char *name, const char *v)
{
    size_t len = strlen(v);
    config_setting_t *s;
    if (len >= 2 && v[0] == '"' && v[len - 1] == '"') {
        char *str = cs_strndup(v + 1, len - 2);
        s = config_setting_add(parent, name, CONFIG_TYPE_STRING);
        if (s)
            config_setting_set_string(s, str);
        cs_free(str);
        return s;
    }
    const char *t = v + (v[0] == '+' || v[0] == '-');
    char *end;
    if (all_digits(t) || (t[0] == '0' && (t[1] == 'x' || t[1] == 'X') && t[2] &&
                          strspn(t + 2, "0123456789abcdefABCDEF") == strlen(t + 2))) {
        errno = 0;
        long long i = strtoll(v, &end, 0);
        if (errno != ERANGE && *end == '\0') {
            bool small = i >= INT_MIN && i <= INT_MAX;
            s = config_setting_add(parent, name, small ? CONFIG_TYPE_INT : CONFIG_TYPE_INT64);
            if (s && small)
                config_setting_set_int(s, (int)i);
            else if (s)
                config_setting_set_int64(s, i);
            return s;
        }
    }
    /* A float: digits with a point or an exponent, nothing else ("inf", "0x1p3" are text). */
    bool digit = false, shape = len > 0;
    for (const char *c = t; *c && shape; c++) {
        if (isdigit((unsigned char)*c))
            digit = true;
        else if (*c == 'e' || *c == 'E')
            shape = digit && (isdigit((unsigned char)c[1]) ||
                              ((c[1] == '+' || c[1] == '-') && isdigit((unsigned char)c[2])));
        else if (!(*c == '.' || ((*c == '+' || *c == '-') && (c[-1] == 'e' || c[-1] == 'E'))))
            shape = false;
    }
    if (shape && digit) {
        double f = strtod(v, &end);
        if (*end == '\0' && isfinite(f)) {
            s = config_setting_add(parent, name, CONFIG_TYPE_FLOAT);
            if (s)
                config_setting_set_float(s, f);
            return s;
        }
    }
    if (strcasecmp(v, "true") == 0 || strcasecmp(v, "false") == 0) {
        s = config_setting_add(parent, name, CONFIG_TYPE_BOOL);
        if (s)
            config_setting_set_bool(s, tolower((unsigned char)v[0]) == 't');
        return s;
    }
    s = config_setting_add(parent, name, CONFIG_TYPE_STRING);
    if (s)
        config_setting_set_string(s, v);
    return s;
}

cs_status cs_cfg_set(cs_cfg *cfg, const char *path, const char *value, const char *origin,
                     cs_err *err)
{
    if (!origin)
        origin = "--set";
    if (!path)
        path = "";
    if (!value)
        value = "";
    /* Validate the whole path first: name(.name)*, where intermediate names may be indexed. */
    for (const char *p = path;;) {
        const char *e = p;
        while (*e && *e != '.' && *e != '[')
            e++;
        bool ok = valid_name(p, (size_t)(e - p));
        while (ok && *e == '[') {
            const char *c = e + 1;
            while (isdigit((unsigned char)*c))
                c++;
            ok = c > e + 1 && *c == ']';
            e = c + 1;
        }
        if (!ok || (*e && *e != '.'))
            return cs_err_at(err, CS_USAGE, origin, 0, path[0] ? path : "\"\"",
                             "not a valid key path (expected names joined by '.', "
                             "e.g. l2.assoc)");
        if (!*e)
            break;
        p = e + 1;
    }
    CS_GROW(cfg->notes, cfg->notes_cap, cfg->nnotes + 1);
    set_note *note = cs_calloc(1, sizeof *note);
    note->origin = cs_strdup(origin);
    note->text = cs_strdup(value);
    cfg->notes[cfg->nnotes++] = note;

    config_setting_t *g = config_root_setting(&cfg->lc);
    const char *p = path;
    char name[PATH_BYTES];
    for (;;) {
        const char *e = p;
        while (*e && *e != '.' && *e != '[')
            e++;
        size_t n = (size_t)(e - p);
        if (n >= sizeof name)
            return cs_err_at(err, CS_USAGE, origin, 0, path, "key path too long");
        memcpy(name, p, n);
        name[n] = '\0';
        config_setting_t *m = config_setting_get_member(g, name);
        if (!*e) { /* the last name: replace a scalar, never a group or list */
            if (m && config_setting_is_aggregate(m))
                return cs_err_at(err, CS_INVALID, origin, 0, path,
                                 "cannot replace a %s with a value",
                                 config_setting_is_group(m) ? "group" : "list");
            if (m)
                config_setting_remove(g, name);
            config_setting_t *s = add_typed(g, name, value);
            if (!s)
                return cs_err_at(err, CS_INTERNAL, origin, 0, path, "cannot add the setting");
            config_setting_set_hook(s, note);
            return CS_OK;
        }
        if (!m) {
            if (*e == '[')
                return cs_err_at(err, CS_INVALID, origin, 0, path, "no list '%.*s' to index",
                                 (int)(e - path), path);
            m = config_setting_add(g, name, CONFIG_TYPE_GROUP);
            if (!m)
                return cs_err_at(err, CS_INTERNAL, origin, 0, path, "cannot add the group");
            config_setting_set_hook(m, note);
        }
        while (*e == '[') {
            char *end;
            unsigned long idx = strtoul(e + 1, &end, 10);
            if (!config_setting_is_aggregate(m) || idx >= (unsigned long)config_setting_length(m))
                return cs_err_at(err, CS_INVALID, origin, 0, path, "'%.*s' has no item %lu",
                                 (int)(e - path), path, idx);
            m = config_setting_get_elem(m, (unsigned)idx);
            e = end + 1;
        }
        if (!config_setting_is_group(m))
            return cs_err_at(err, CS_INVALID, origin, 0, path, "'%.*s' is not a group",
                             (int)(e - path), path);
        g = m;
        p = e + 1;
    }
}

/* ==== values: reading, formatting, converting ============================================= */

/* One scalar as read from a file, a --set or a schema default. */
typedef struct scalar {
    int kind; /* CONFIG_TYPE_INT64, _FLOAT, _BOOL, _STRING, an aggregate type, or _NONE */
    long long i;
    double f;
    bool b;
    const char *str;
    const char *raw; /* --set text */
    bool hex;
} scalar;

static scalar scalar_of_setting(const config_setting_t *s)
{
    scalar sc;
    memset(&sc, 0, sizeof sc);
    const set_note *note = config_setting_get_hook(s);
    if (note && config_setting_is_scalar(s))
        sc.raw = note->text;
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64:
        sc.kind = CONFIG_TYPE_INT64;
        sc.i = config_setting_get_int64(s);
        sc.hex = config_setting_get_format(s) == CONFIG_FORMAT_HEX;
        break;
    case CONFIG_TYPE_FLOAT:
        sc.kind = CONFIG_TYPE_FLOAT;
        sc.f = config_setting_get_float(s);
        break;
    case CONFIG_TYPE_BOOL:
        sc.kind = CONFIG_TYPE_BOOL;
        sc.b = config_setting_get_bool(s) != 0;
        break;
    case CONFIG_TYPE_STRING:
        sc.kind = CONFIG_TYPE_STRING;
        sc.str = config_setting_get_string(s);
        break;
    default:
        sc.kind = config_setting_type(s);
        break;
    }
    return sc;
}

/* A schema default, typed by the key: numbers and booleans for INT/FLOAT/BOOL, text else. */
static scalar scalar_of_default(cs_cfg_type t, const char *def)
{
    scalar sc;
    memset(&sc, 0, sizeof sc);
    char *end;
    if (t == CS_CFG_INT) {
        errno = 0;
        sc.i = strtoll(def, &end, 0);
        bool ok = *def && *end == '\0' && errno != ERANGE;
        sc.kind = ok ? CONFIG_TYPE_INT64 : CONFIG_TYPE_STRING;
    } else if (t == CS_CFG_FLOAT) {
        sc.f = strtod(def, &end);
        sc.kind = (*def && *end == '\0') ? CONFIG_TYPE_FLOAT : CONFIG_TYPE_STRING;
    } else if (t == CS_CFG_BOOL && (strcmp(def, "true") == 0 || strcmp(def, "false") == 0)) {
        sc.kind = CONFIG_TYPE_BOOL;
        sc.b = def[0] == 't';
    } else {
        sc.kind = CONFIG_TYPE_STRING;
    }
    sc.str = def;
    return sc;
}

/* Shortest text that reads back as v; with point, always looks like a float ("16.0"). */
static void fmt_double(double v, bool point, char *buf, size_t cap)
{
    char tmp[48];
    if (v == floor(v) && fabs(v) < 1e15) {
        snprintf(tmp, sizeof tmp, "%.0f", v); /* "4000000000", not "4e+09" */
    } else {
        for (int prec = 1; prec <= 17; prec++) {
            snprintf(tmp, sizeof tmp, "%.*g", prec, v);
            if (strtod(tmp, NULL) == v)
                break;
        }
    }
    if (point && isfinite(v) && !strpbrk(tmp, ".eEn"))
        strcat(tmp, ".0");
    snprintf(buf, cap, "%s", tmp);
}

static void put_quoted(cs_buf *b, const char *s, size_t max)
{
    cs_buf_putc(b, '"');
    size_t n = 0;
    for (; *s && n < max; s++, n++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            cs_buf_printf(b, "\\%c", c);
        else if (c == '\n')
            cs_buf_puts(b, "\\n");
        else if (c == '\t')
            cs_buf_puts(b, "\\t");
        else if (c == '\r')
            cs_buf_puts(b, "\\r");
        else if (c < 0x20 || c == 0x7f)
            cs_buf_printf(b, "\\x%02X", c);
        else
            cs_buf_putc(b, (char)c);
    }
    if (*s)
        cs_buf_puts(b, "...");
    cs_buf_putc(b, '"');
}

/* The value as written, for "(got VALUE)". */
static void scalar_text(const scalar *sc, char *buf, size_t cap)
{
    switch (sc->kind) {
    case CONFIG_TYPE_INT64:
        if (sc->hex)
            snprintf(buf, cap, "0x%llX", (unsigned long long)sc->i);
        else
            snprintf(buf, cap, "%lld", sc->i);
        break;
    case CONFIG_TYPE_FLOAT:
        fmt_double(sc->f, true, buf, cap);
        break;
    case CONFIG_TYPE_BOOL:
        snprintf(buf, cap, "%s", sc->b ? "true" : "false");
        break;
    case CONFIG_TYPE_STRING: {
        cs_buf b;
        cs_buf_init(&b);
        put_quoted(&b, sc->str ? sc->str : "", 100);
        snprintf(buf, cap, "%s", b.data);
        cs_buf_free(&b);
        break;
    }
    case CONFIG_TYPE_GROUP:
        snprintf(buf, cap, "a group");
        break;
    case CONFIG_TYPE_ARRAY:
        snprintf(buf, cap, "an array");
        break;
    case CONFIG_TYPE_LIST:
        snprintf(buf, cap, "a list");
        break;
    default:
        snprintf(buf, cap, "nothing");
        break;
    }
}

/* A number as text without quotes, for the unit parsers. */
static void number_text(const scalar *sc, char *buf, size_t cap)
{
    if (sc->kind == CONFIG_TYPE_INT64)
        snprintf(buf, cap, "%lld", sc->i);
    else
        fmt_double(sc->f, false, buf, cap);
}

static size_t scalar_size(cs_cfg_type t)
{
    switch (t) {
    case CS_CFG_INT:
        return sizeof(int64_t);
    case CS_CFG_FLOAT:
    case CS_CFG_ENERGY:
    case CS_CFG_POWER:
    case CS_CFG_AREA:
        return sizeof(double);
    case CS_CFG_BOOL:
        return sizeof(bool);
    case CS_CFG_STRING:
        return sizeof(char *);
    case CS_CFG_ENUM:
        return sizeof(int);
    case CS_CFG_BYTES:
    case CS_CFG_FREQ:
    case CS_CFG_TIME:
        return sizeof(uint64_t);
    case CS_CFG_INT_LIST:
        return sizeof(cs_cfg_ints);
    case CS_CFG_STR_LIST:
        return sizeof(cs_cfg_strs);
    default:
        CS_ASSERT(!"a map's elem must be a scalar or list type");
        return 0;
    }
}

static bool unit_type(cs_cfg_type t)
{
    return t == CS_CFG_BYTES || t == CS_CFG_FREQ || t == CS_CFG_TIME || t == CS_CFG_ENERGY ||
           t == CS_CFG_POWER || t == CS_CFG_AREA;
}

static const char *stored_unit(cs_cfg_type t)
{
    switch (t) {
    case CS_CFG_BYTES:
        return "bytes";
    case CS_CFG_FREQ:
        return "kHz";
    case CS_CFG_TIME:
        return "ps";
    case CS_CFG_ENERGY:
        return "pJ";
    case CS_CFG_POWER:
        return "mW";
    case CS_CFG_AREA:
        return "mm2";
    default:
        return "";
    }
}

static const char *family(cs_cfg_type t)
{
    switch (t) {
    case CS_CFG_BYTES:
        return "size";
    case CS_CFG_FREQ:
        return "frequency";
    case CS_CFG_TIME:
        return "time";
    case CS_CFG_ENERGY:
        return "energy";
    case CS_CFG_POWER:
        return "power";
    default:
        return "area";
    }
}

static const char *example(cs_cfg_type t)
{
    switch (t) {
    case CS_CFG_BYTES:
        return "\"40MiB\"";
    case CS_CFG_FREQ:
        return "\"1410MHz\"";
    case CS_CFG_TIME:
        return "\"2ns\"";
    case CS_CFG_ENERGY:
        return "\"0.15pJ\"";
    case CS_CFG_POWER:
        return "\"2.5mW\"";
    default:
        return "\"0.01mm2\"";
    }
}

/* A range bound in the key's own terms: "1KiB", "1410MHz", "0.5pJ", "64". */
static void fmt_bound(cs_cfg_type t, double v, char *buf, size_t cap)
{
    bool whole = v >= 0 && v < 1.8e19 && v == floor(v);
    char tmp[48];
    if (t == CS_CFG_BYTES && whole)
        cs_units_fmt_bytes((uint64_t)v, buf, (int)cap);
    else if (t == CS_CFG_FREQ && whole)
        cs_units_fmt_freq((uint64_t)v, buf, (int)cap);
    else if (t == CS_CFG_TIME && whole)
        cs_units_fmt_time((uint64_t)v, buf, (int)cap);
    else {
        fmt_double(v, false, tmp, sizeof tmp);
        const char *u = (t == CS_CFG_ENERGY || t == CS_CFG_POWER || t == CS_CFG_AREA) ? stored_unit(t) : "";
        if (snprintf(buf, cap, "%s%s", tmp, u) >= (int)cap)
            buf[cap - 1] = '\0'; /* a range bound never needs more than cap */
    }
}

static bool has_range(const cs_cfg_key *k)
{
    return k->min <= k->max;
}

/* "between 1 and 64", "at least 1", "at most 8", or "exactly 4". */
static void range_words(const cs_cfg_key *k, cs_cfg_type t, char *buf, size_t cap)
{
    char lo[48], hi[48];
    fmt_bound(t, k->min, lo, sizeof lo);
    fmt_bound(t, k->max, hi, sizeof hi);
    bool no_hi = k->max >= 9.2e18, no_lo = k->min <= -9.2e18;
    if (k->min == k->max)
        snprintf(buf, cap, "exactly %s", lo);
    else if (no_hi && no_lo)
        snprintf(buf, cap, "any value");
    else if (no_hi)
        snprintf(buf, cap, "at least %s", lo);
    else if (no_lo)
        snprintf(buf, cap, "at most %s", hi);
    else
        snprintf(buf, cap, "between %s and %s", lo, hi);
}

static bool check_range(const cs_cfg_key *k, cs_cfg_type t, double v, char *rule, size_t cap)
{
    if (!has_range(k) || (v >= k->min && v <= k->max))
        return true;
    char words[120];
    range_words(k, t, words, sizeof words);
    snprintf(rule, cap, "must be %s", words);
    return false;
}

static void choices_text(const cs_cfg_key *k, const char *sep, const char *quote, char *buf,
                         size_t cap)
{
    cs_buf b;
    cs_buf_init(&b);
    for (const char *const *c = k->choices; c && *c; c++)
        cs_buf_printf(&b, "%s%s%s%s", c == k->choices ? "" : sep, quote, *c, quote);
    snprintf(buf, cap, "%s", b.data ? b.data : "");
    cs_buf_free(&b);
}

/* The unit text of a quantity, for "unknown unit 'MiBB'": what follows the number. */
static void unit_of(const char *s, char *buf, size_t cap)
{
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s == '+' || *s == '-')
        s++;
    while (isdigit((unsigned char)*s) || *s == '.')
        s++;
    if ((*s == 'e' || *s == 'E') &&
        (isdigit((unsigned char)s[1]) ||
         ((s[1] == '+' || s[1] == '-') && isdigit((unsigned char)s[2])))) {
        s += 2;
        while (isdigit((unsigned char)*s))
            s++;
    }
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        n--;
    snprintf(buf, cap, "%.*s", (int)n, s);
}

/* Converts sc to type t (k gives choices and range) and stores it at dst. On failure returns
 * false with the rule in rule. */
static bool convert(const scalar *sc, cs_cfg_type t, const cs_cfg_key *k, void *dst, char *rule,
                    size_t cap)
{
    bool num = sc->kind == CONFIG_TYPE_INT64 || sc->kind == CONFIG_TYPE_FLOAT;
    switch (t) {
    case CS_CFG_INT:
        if (sc->kind != CONFIG_TYPE_INT64) {
            snprintf(rule, cap, "expected an integer");
            return false;
        }
        if (!check_range(k, t, (double)sc->i, rule, cap))
            return false;
        *(int64_t *)dst = sc->i;
        return true;
    case CS_CFG_FLOAT: {
        if (!num) {
            snprintf(rule, cap, "expected a number");
            return false;
        }
        double v = sc->kind == CONFIG_TYPE_INT64 ? (double)sc->i : sc->f;
        if (!isfinite(v)) {
            snprintf(rule, cap, "must be a finite number");
            return false;
        }
        if (!check_range(k, t, v, rule, cap))
            return false;
        *(double *)dst = v;
        return true;
    }
    case CS_CFG_BOOL:
        if (sc->kind != CONFIG_TYPE_BOOL) {
            snprintf(rule, cap, "expected true or false");
            return false;
        }
        *(bool *)dst = sc->b;
        return true;
    case CS_CFG_STRING:
        if (sc->kind == CONFIG_TYPE_STRING) {
            *(char **)dst = cs_strdup(sc->str);
            return true;
        }
        if (sc->raw && (num || sc->kind == CONFIG_TYPE_BOOL)) {
            *(char **)dst = cs_strdup(sc->raw);
            return true;
        }
        snprintf(rule, cap, "expected a string");
        return false;
    case CS_CFG_ENUM: {
        if (sc->kind == CONFIG_TYPE_STRING)
            for (int i = 0; k->choices && k->choices[i]; i++)
                if (strcmp(k->choices[i], sc->str) == 0) {
                    *(int *)dst = i;
                    return true;
                }
        char list[RULE_BYTES - 32];
        choices_text(k, ", ", "", list, sizeof list);
        snprintf(rule, cap, "must be one of %s", list);
        return false;
    }
    case CS_CFG_BYTES:
    case CS_CFG_FREQ:
    case CS_CFG_TIME:
    case CS_CFG_ENERGY:
    case CS_CFG_POWER:
    case CS_CFG_AREA: {
        char tmp[64];
        const char *text;
        if (sc->kind == CONFIG_TYPE_STRING) {
            text = sc->str;
        } else if (num) {
            number_text(sc, tmp, sizeof tmp);
            text = tmp;
        } else {
            snprintf(rule, cap, "expected a %s such as %s%s", family(t), example(t),
                     t == CS_CFG_BYTES ? " or a number of bytes" : "");
            return false;
        }
        const char *why = NULL;
        uint64_t u = 0;
        double d = 0, v;
        cs_status st;
        switch (t) {
        case CS_CFG_BYTES:
            st = cs_units_bytes(text, &u, &why);
            break;
        case CS_CFG_FREQ:
            st = cs_units_freq_khz(text, &u, &why);
            break;
        case CS_CFG_TIME:
            st = cs_units_time_ps(text, &u, &why);
            break;
        case CS_CFG_ENERGY:
            st = cs_units_energy_pj(text, &d, &why);
            break;
        case CS_CFG_POWER:
            st = cs_units_power_mw(text, &d, &why);
            break;
        default:
            st = cs_units_area_mm2(text, &d, &why);
            break;
        }
        if (st != CS_OK) {
            if (why && strcmp(why, "unknown unit") == 0) {
                char unit[64];
                unit_of(text, unit, sizeof unit);
                snprintf(rule, cap, "bad unit: unknown unit '%s'", unit);
            } else if (why && strcmp(why, "missing unit") == 0) {
                snprintf(rule, cap, "bad unit: missing unit, write e.g. %s", example(t));
            } else if (why && strncmp(why, "ambiguous unit", 14) == 0) {
                snprintf(rule, cap, "bad unit: %s", why);
            } else {
                snprintf(rule, cap, "bad %s: %s", family(t), why ? why : "unreadable");
            }
            return false;
        }
        bool integral = t == CS_CFG_BYTES || t == CS_CFG_FREQ || t == CS_CFG_TIME;
        v = integral ? (double)u : d;
        if (!check_range(k, t, v, rule, cap))
            return false;
        if (integral)
            *(uint64_t *)dst = u;
        else
            *(double *)dst = d;
        return true;
    }
    default:
        CS_ASSERT(!"convert: not a scalar type");
        return false;
    }
}

/* ==== bind ================================================================================= */

typedef struct binder {
    const cs_cfg *cfg;
    cs_err *err;
    int errors;
    cs_status first;
} binder;

struct cs_cfg_check {
    binder *b;
    const config_setting_t *g; /* the group (NULL when absent: all defaults) */
    pos where;                 /* cited for keys that took their default */
    const char *prefix;
    const cs_cfg_schema *schema;
};

static void join_key(const char *prefix, const char *name, char *buf, size_t cap)
{
    if (!prefix || !prefix[0])
        snprintf(buf, cap, "%s", name);
    else if (name[0] == '[')
        snprintf(buf, cap, "%s%s", prefix, name);
    else
        snprintf(buf, cap, "%s.%s", prefix, name);
}

static void report(binder *b, cs_status st, pos p, const char *key, const char *rule,
                   const char *got)
{
    if (b->errors++ == 0)
        b->first = st;
    if (got && got[0])
        cs_err_at(b->err, st, p.file, p.line, key, "%s (got %s)", rule, got);
    else
        cs_err_at(b->err, st, p.file, p.line, key, "%s", rule);
}

static bool bind_scalar(binder *b, const config_setting_t *s, const char *kp, const cs_cfg_key *k,
                        cs_cfg_type t, void *dst)
{
    scalar sc = scalar_of_setting(s);
    char rule[RULE_BYTES];
    if (convert(&sc, t, k, dst, rule, sizeof rule))
        return true;
    char got[VALUE_BYTES];
    scalar_text(&sc, got, sizeof got);
    report(b, CS_INVALID, setting_pos(b->cfg, s), kp, rule, got);
    return false;
}

/* A default that does not convert is a bug in the schema table, reported as internal. */
static void bind_default_scalar(binder *b, pos where, const char *kp, const cs_cfg_key *k,
                                cs_cfg_type t, void *dst)
{
    scalar sc = scalar_of_default(t, k->def);
    char rule[RULE_BYTES];
    if (convert(&sc, t, k, dst, rule, sizeof rule))
        return;
    char msg[RULE_BYTES + 40];
    snprintf(msg, sizeof msg, "bad default in the schema: %s", rule);
    char got[VALUE_BYTES];
    snprintf(got, sizeof got, "\"%s\"", k->def);
    report(b, CS_INTERNAL, where, kp, msg, got);
}

static const char *array_rule(cs_cfg_type t)
{
    return t == CS_CFG_INT_LIST ? "expected an array of integers, e.g. [1, 2, 4]"
                                : "expected an array of strings, e.g. [\"a\", \"b\"]";
}

/* INT_LIST / STR_LIST from an array or list setting. */
static void bind_array(binder *b, const config_setting_t *s, const char *kp, const cs_cfg_key *k,
                       cs_cfg_type t, void *dst)
{
    if (!config_setting_is_array(s) && !config_setting_is_list(s)) {
        scalar sc = scalar_of_setting(s);
        char got[VALUE_BYTES];
        scalar_text(&sc, got, sizeof got);
        report(b, CS_INVALID, setting_pos(b->cfg, s), kp, array_rule(t), got);
        return;
    }
    size_t n = (size_t)config_setting_length(s);
    int64_t *iv = NULL;
    char **sv = NULL;
    if (t == CS_CFG_INT_LIST) {
        cs_cfg_ints *out = dst;
        out->n = n;
        out->v = iv = n ? cs_calloc(n, sizeof *iv) : NULL;
    } else {
        cs_cfg_strs *out = dst;
        out->n = n;
        out->v = sv = n ? cs_calloc(n, sizeof *sv) : NULL;
    }
    for (size_t i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        char ikp[PATH_BYTES], idx[24];
        snprintf(idx, sizeof idx, "[%zu]", i);
        join_key(kp, idx, ikp, sizeof ikp);
        scalar sc = scalar_of_setting(e);
        char rule[RULE_BYTES];
        bool ok;
        if (t == CS_CFG_INT_LIST) {
            ok = convert(&sc, CS_CFG_INT, k, &iv[i], rule, sizeof rule);
        } else if (sc.kind == CONFIG_TYPE_STRING) {
            sv[i] = cs_strdup(sc.str);
            ok = true;
        } else if (sc.kind == CONFIG_TYPE_INT64 || sc.kind == CONFIG_TYPE_FLOAT) {
            char tmp[64];
            number_text(&sc, tmp, sizeof tmp);
            sv[i] = cs_strdup(tmp);
            ok = true;
        } else {
            snprintf(rule, sizeof rule, "expected a string");
            ok = false;
        }
        if (!ok) {
            char got[VALUE_BYTES];
            scalar_text(&sc, got, sizeof got);
            report(b, CS_INVALID, setting_pos(b->cfg, e), ikp, rule, got);
        }
    }
}

/* A list default: "1, 2, 4" or "[1, 2, 4]"; strings may be quoted. */
static void bind_default_array(binder *b, pos where, const char *kp, const cs_cfg_key *k,
                               cs_cfg_type t, void *dst)
{
    const char *p = k->def;
    while (isspace((unsigned char)*p))
        p++;
    char close = *p == '[' ? ']' : *p == '(' ? ')' : '\0';
    if (close)
        p++;
    size_t n = 0, cap = 0;
    int64_t *iv = NULL;
    char **sv = NULL;
    for (;;) {
        while (isspace((unsigned char)*p))
            p++;
        if (!*p || *p == close)
            break;
        const char *e = p;
        while (*e && *e != ',' && *e != close)
            e++;
        const char *te = e;
        while (te > p && isspace((unsigned char)te[-1]))
            te--;
        if (te - p >= 2 && *p == '"' && te[-1] == '"') {
            p++;
            te--;
        }
        char *item = cs_strndup(p, (size_t)(te - p));
        if (t == CS_CFG_INT_LIST) {
            CS_GROW(iv, cap, n + 1);
            scalar sc = scalar_of_default(CS_CFG_INT, item);
            char rule[RULE_BYTES];
            if (!convert(&sc, CS_CFG_INT, k, &iv[n], rule, sizeof rule)) {
                char msg[RULE_BYTES + 40];
                snprintf(msg, sizeof msg, "bad default in the schema: %s", rule);
                report(b, CS_INTERNAL, where, kp, msg, item);
            }
            cs_free(item);
        } else {
            CS_GROW(sv, cap, n + 1);
            sv[n] = item;
        }
        n++;
        p = *e == ',' ? e + 1 : e;
    }
    if (t == CS_CFG_INT_LIST) {
        cs_cfg_ints *out = dst;
        out->n = n;
        out->v = iv;
    } else {
        cs_cfg_strs *out = dst;
        out->n = n;
        out->v = sv;
    }
}

/* Levenshtein distance ignoring case: "trcd" is a likely spelling of "tRCD". */
static int edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63)
        return 99;
    int row[64];
    for (size_t j = 0; j <= lb; j++)
        row[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int prev = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int cur = row[j];
            int ca = tolower((unsigned char)a[i - 1]), cb = tolower((unsigned char)b[j - 1]);
            int best = prev + (ca != cb);
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            prev = cur;
        }
    }
    return row[lb];
}

static const cs_cfg_key *find_key(const cs_cfg_schema *sch, const char *name)
{
    for (size_t i = 0; i < sch->nkeys; i++)
        if (strcmp(sch->keys[i].name, name) == 0)
            return &sch->keys[i];
    return NULL;
}

/* An unknown member: suggest the closest key (edit distance <= 2), else list the keys. */
static void reject_unknown(binder *b, const config_setting_t *m, const char *prefix,
                           const cs_cfg_schema *sch)
{
    const char *name = config_setting_name(m);
    const char *best = NULL;
    int best_d = 3;
    for (size_t j = 0; j < sch->nkeys; j++) {
        int d = edit_distance(name, sch->keys[j].name);
        if (d < best_d && d < (int)strlen(name)) {
            best_d = d;
            best = sch->keys[j].name;
        }
    }
    char kp[PATH_BYTES], rule[RULE_BYTES];
    join_key(prefix, name, kp, sizeof kp);
    if (best) {
        snprintf(rule, sizeof rule, "unknown key (did you mean '%s'?)", best);
    } else if (sch->nkeys == 0) {
        snprintf(rule, sizeof rule, "unknown key (this group takes no keys)");
    } else {
        cs_buf keys;
        cs_buf_init(&keys);
        for (size_t j = 0; j < sch->nkeys && keys.len < 200; j++)
            cs_buf_printf(&keys, "%s%s", j ? ", " : "", sch->keys[j].name);
        snprintf(rule, sizeof rule, "unknown key (valid keys: %s%s)", keys.data,
                 keys.len >= 200 ? ", ..." : "");
        cs_buf_free(&keys);
    }
    report(b, CS_INVALID, setting_pos(b->cfg, m), kp, rule, NULL);
}

static void type_error(binder *b, const config_setting_t *s, const char *kp, const char *rule)
{
    scalar sc = scalar_of_setting(s);
    char got[VALUE_BYTES];
    scalar_text(&sc, got, sizeof got);
    report(b, CS_INVALID, setting_pos(b->cfg, s), kp, rule, got);
}

static void bind_group(binder *b, const config_setting_t *g, pos where, const char *prefix,
                       const cs_cfg_schema *sch, void *params);

static void bind_map(binder *b, const config_setting_t *s, const char *kp, const cs_cfg_key *k,
                     cs_cfg_map *m)
{
    size_t n = (size_t)config_setting_length(s);
    size_t isz = k->group ? k->group->size : scalar_size(k->elem);
    m->n = n;
    m->names = n ? cs_calloc(n, sizeof *m->names) : NULL;
    m->items = n ? cs_calloc(n, isz) : NULL;
    for (size_t i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        m->names[i] = cs_strdup(config_setting_name(e));
        char ikp[PATH_BYTES];
        join_key(kp, m->names[i], ikp, sizeof ikp);
        void *item = (char *)m->items + i * isz;
        if (k->group) {
            if (!config_setting_is_group(e))
                type_error(b, e, ikp, "expected a group { ... }");
            else
                bind_group(b, e, setting_pos(b->cfg, e), ikp, k->group, item);
        } else if (k->elem == CS_CFG_INT_LIST || k->elem == CS_CFG_STR_LIST) {
            bind_array(b, e, ikp, k, k->elem, item);
        } else {
            bind_scalar(b, e, ikp, k, k->elem, item);
        }
    }
}

static void bind_list(binder *b, const config_setting_t *s, const char *kp, const cs_cfg_key *k,
                      cs_cfg_list *l)
{
    size_t n = (size_t)config_setting_length(s);
    size_t isz = k->group->size;
    l->n = n;
    l->items = n ? cs_calloc(n, isz) : NULL;
    for (size_t i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        char ikp[PATH_BYTES], idx[24];
        snprintf(idx, sizeof idx, "[%zu]", i);
        join_key(kp, idx, ikp, sizeof ikp);
        if (!config_setting_is_group(e))
            type_error(b, e, ikp, "expected a group { ... }");
        else
            bind_group(b, e, setting_pos(b->cfg, e), ikp, k->group, (char *)l->items + i * isz);
    }
}

static void bind_key(binder *b, const config_setting_t *g, pos where, const char *prefix,
                     const cs_cfg_key *k, void *params)
{
    const config_setting_t *s = g ? config_setting_get_member(g, k->name) : NULL;
    char kp[PATH_BYTES];
    join_key(prefix, k->name, kp, sizeof kp);
    void *dst = (char *)params + k->offset;
    if (!s && k->required) {
        report(b, CS_INVALID, where, kp, "missing required key", NULL);
        return;
    }
    switch (k->type) {
    case CS_CFG_GROUP:
        CS_ASSERT(k->group != NULL);
        if (s && !config_setting_is_group(s))
            type_error(b, s, kp, "expected a group { ... }");
        else
            bind_group(b, s, s ? setting_pos(b->cfg, s) : where, kp, k->group, dst);
        return;
    case CS_CFG_MAP:
        if (s && !config_setting_is_group(s))
            type_error(b, s, kp, "expected a group { name = ...; ... }");
        else if (s)
            bind_map(b, s, kp, k, dst);
        return;
    case CS_CFG_LIST:
        CS_ASSERT(k->group != NULL);
        if (s && !config_setting_is_list(s) &&
            !(config_setting_is_array(s) && config_setting_length(s) == 0))
            type_error(b, s, kp, "expected a list of groups ( { ... }, { ... } )");
        else if (s)
            bind_list(b, s, kp, k, dst);
        return;
    case CS_CFG_INT_LIST:
    case CS_CFG_STR_LIST:
        if (s)
            bind_array(b, s, kp, k, k->type, dst);
        else if (k->def)
            bind_default_array(b, where, kp, k, k->type, dst);
        return;
    default:
        if (s)
            bind_scalar(b, s, kp, k, k->type, dst);
        else if (k->def)
            bind_default_scalar(b, where, kp, k, k->type, dst);
        return;
    }
}

static void bind_group(binder *b, const config_setting_t *g, pos where, const char *prefix,
                       const cs_cfg_schema *sch, void *params)
{
    int before = b->errors;
    /* Members in file order, so messages come out in line order; then the absent keys. */
    int n = g ? config_setting_length(g) : 0;
    for (int i = 0; i < n; i++) {
        const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
        const cs_cfg_key *k = find_key(sch, config_setting_name(m));
        if (k)
            bind_key(b, g, where, prefix, k, params);
        else
            reject_unknown(b, m, prefix, sch);
    }
    for (size_t i = 0; i < sch->nkeys; i++)
        if (!g || !config_setting_get_member(g, sch->keys[i].name))
            bind_key(b, g, where, prefix, &sch->keys[i], params);
    if (b->errors == before && sch->check) {
        cs_cfg_check chk = {b, g, where, prefix, sch};
        sch->check(params, &chk);
    }
}

cs_status cs_cfg_bind(cs_cfg *cfg, const char *path, const cs_cfg_schema *schema, void *params,
                      cs_err *err)
{
    binder b = {cfg, err, 0, CS_OK};
    if (!path)
        path = "";
    const config_setting_t *g = cfg ? lookup(config_root_setting(&cfg->lc), path) : NULL;
    pos where;
    if (g) {
        where = setting_pos(cfg, g);
        if (!config_setting_is_group(g)) {
            type_error(&b, g, path, "expected a group { ... }");
            return b.first;
        }
    } else {
        /* Absent: cite the nearest enclosing group that exists. */
        where = root_pos(cfg);
        if (cfg) {
            char up[PATH_BYTES];
            snprintf(up, sizeof up, "%s", path);
            for (;;) {
                char *cut = strrchr(up, '.');
                char *br = strrchr(up, '[');
                if (br > cut)
                    cut = br;
                if (!cut)
                    break;
                *cut = '\0';
                const config_setting_t *a = lookup(config_root_setting(&cfg->lc), up);
                if (a) {
                    where = setting_pos(cfg, a);
                    break;
                }
            }
        }
    }
    bind_group(&b, g, where, path, schema, params);
    return b.errors ? b.first : CS_OK;
}

void cs_cfg_where(const cs_cfg *cfg, const char *path, char *buf, size_t cap)
{
    char up[PATH_BYTES];
    snprintf(up, sizeof up, "%s", path ? path : "");
    pos p = root_pos(cfg);
    for (; cfg;) {
        const config_setting_t *s = lookup(config_root_setting(&cfg->lc), up);
        if (s && s->parent) {
            p = setting_pos(cfg, s);
            break;
        }
        char *cut = strrchr(up, '.'), *br = strrchr(up, '[');
        if (br > cut)
            cut = br;
        if (!cut)
            break;
        *cut = '\0';
    }
    if (p.line > 0)
        snprintf(buf, cap, "%s:%d", p.file, p.line);
    else
        snprintf(buf, cap, "%s", p.file);
}

/* ==== cross-field checks =================================================================== */

/* The schema key at a relative path ("timing.tRCD"), through nested groups. */
static const cs_cfg_key *key_at(const cs_cfg_schema *sch, const char *rel)
{
    char part[PATH_BYTES];
    for (;;) {
        const char *dot = strchr(rel, '.');
        size_t n = dot ? (size_t)(dot - rel) : strlen(rel);
        if (n >= sizeof part)
            return NULL;
        memcpy(part, rel, n);
        part[n] = '\0';
        const cs_cfg_key *k = find_key(sch, part);
        if (!k || !dot)
            return k;
        if (k->type != CS_CFG_GROUP || !k->group)
            return NULL;
        sch = k->group;
        rel = dot + 1;
    }
}

/* Where a key of the checked group is cited, and its value as written (empty if none). */
static pos cite(const cs_cfg_check *chk, const char *key, char *got, size_t cap)
{
    got[0] = '\0';
    const config_setting_t *s = chk->g ? lookup(chk->g, key) : NULL;
    if (s) {
        if (config_setting_is_scalar(s)) {
            scalar sc = scalar_of_setting(s);
            scalar_text(&sc, got, cap);
        }
        return setting_pos(chk->b->cfg, s);
    }
    const cs_cfg_key *k = key_at(chk->schema, key);
    if (k && k->def) {
        scalar sc = scalar_of_default(k->type, k->def);
        scalar_text(&sc, got, cap);
    }
    /* A default: cite the innermost group of the path that exists ("timing" for
     * "timing.tRP"), else the checked group. */
    char up[PATH_BYTES];
    snprintf(up, sizeof up, "%s", key);
    for (char *cut; chk->g && (cut = strrchr(up, '.')) != NULL;) {
        *cut = '\0';
        const config_setting_t *a = lookup(chk->g, up);
        if (a)
            return setting_pos(chk->b->cfg, a);
    }
    return chk->where;
}

static void fail(cs_cfg_check *chk, const char *key, const char *other, const char *fmt,
                 va_list ap)
{
    char rule[RULE_BYTES], got[VALUE_BYTES], kp[PATH_BYTES];
    vsnprintf(rule, sizeof rule, fmt, ap);
    pos p = cite(chk, key, got, sizeof got);
    join_key(chk->prefix, key, kp, sizeof kp);
    cs_buf msg;
    cs_buf_init(&msg);
    cs_buf_puts(&msg, rule);
    if (got[0] && !strstr(rule, "(got "))
        cs_buf_printf(&msg, " (got %s)", got);
    if (other) {
        char ogot[VALUE_BYTES], okp[PATH_BYTES];
        pos op = cite(chk, other, ogot, sizeof ogot);
        join_key(chk->prefix, other, okp, sizeof okp);
        if (op.line > 0)
            cs_buf_printf(&msg, " [see %s at %s:%d]", okp, op.file, op.line);
        else
            cs_buf_printf(&msg, " [see %s at %s]", okp, op.file);
    }
    report(chk->b, CS_INVALID, p, kp, msg.data, NULL);
    cs_buf_free(&msg);
}

void cs_cfg_fail(cs_cfg_check *chk, const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fail(chk, key, NULL, fmt, ap);
    va_end(ap);
}

void cs_cfg_fail2(cs_cfg_check *chk, const char *key, const char *other, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fail(chk, key, other, fmt, ap);
    va_end(ap);
}

/* ==== free ================================================================================= */

static void free_value(cs_cfg_type t, const cs_cfg_schema *group, void *p)
{
    switch (t) {
    case CS_CFG_STRING:
        cs_free(*(char **)p);
        *(char **)p = NULL;
        break;
    case CS_CFG_GROUP:
        cs_cfg_params_free(group, p);
        break;
    case CS_CFG_INT_LIST: {
        cs_cfg_ints *l = p;
        cs_free(l->v);
        l->v = NULL;
        l->n = 0;
        break;
    }
    case CS_CFG_STR_LIST: {
        cs_cfg_strs *l = p;
        for (size_t i = 0; i < l->n && l->v; i++)
            cs_free(l->v[i]);
        cs_free(l->v);
        l->v = NULL;
        l->n = 0;
        break;
    }
    default:
        break;
    }
}

void cs_cfg_params_free(const cs_cfg_schema *schema, void *params)
{
    if (!schema || !params)
        return;
    for (size_t i = 0; i < schema->nkeys; i++) {
        const cs_cfg_key *k = &schema->keys[i];
        void *p = (char *)params + k->offset;
        if (k->type == CS_CFG_MAP) {
            cs_cfg_map *m = p;
            size_t isz = k->group ? k->group->size : scalar_size(k->elem);
            for (size_t j = 0; j < m->n; j++) {
                if (m->items)
                    free_value(k->group ? CS_CFG_GROUP : k->elem, k->group,
                               (char *)m->items + j * isz);
                if (m->names)
                    cs_free(m->names[j]);
            }
            cs_free(m->names);
            cs_free(m->items);
            memset(m, 0, sizeof *m);
        } else if (k->type == CS_CFG_LIST) {
            cs_cfg_list *l = p;
            for (size_t j = 0; j < l->n && l->items; j++)
                cs_cfg_params_free(k->group, (char *)l->items + j * k->group->size);
            cs_free(l->items);
            memset(l, 0, sizeof *l);
        } else {
            free_value(k->type, k->group, p);
        }
    }
}

/* ==== dump ================================================================================= */

typedef struct dumper {
    const cs_cfg *cfg;
    bool origins;
    cs_buf *out;
} dumper;

static void indent(cs_buf *out, int depth)
{
    for (int i = 0; i < depth; i++)
        cs_buf_puts(out, "  ");
}

static void end_scalar(const dumper *d, const config_setting_t *s)
{
    if (!d->origins) {
        cs_buf_puts(d->out, ";\n");
        return;
    }
    if (!s) {
        cs_buf_puts(d->out, ";  # default\n");
        return;
    }
    pos p = setting_pos(d->cfg, s);
    if (p.line > 0)
        cs_buf_printf(d->out, ";  # %s:%d\n", p.file, p.line);
    else
        cs_buf_printf(d->out, ";  # %s\n", p.file);
}

/* A stored scalar in file syntax. */
static void put_value(cs_buf *out, cs_cfg_type t, const cs_cfg_key *k, const void *src)
{
    char tmp[64];
    switch (t) {
    case CS_CFG_INT: {
        long long v = (long long)*(const int64_t *)src;
        cs_buf_printf(out, "%lld%s", v, (v > INT_MAX || v < INT_MIN) ? "L" : "");
        break;
    }
    case CS_CFG_FLOAT:
        fmt_double(*(const double *)src, true, tmp, sizeof tmp);
        cs_buf_puts(out, tmp);
        break;
    case CS_CFG_BOOL:
        cs_buf_puts(out, *(const bool *)src ? "true" : "false");
        break;
    case CS_CFG_STRING:
        put_quoted(out, *(const char *const *)src ? *(const char *const *)src : "", SIZE_MAX);
        break;
    case CS_CFG_ENUM: {
        int i = *(const int *)src;
        int n = 0;
        while (k->choices && k->choices[n])
            n++;
        CS_ASSERT(i >= 0 && i < n);
        put_quoted(out, k->choices[i], SIZE_MAX);
        break;
    }
    case CS_CFG_BYTES:
        cs_units_fmt_bytes(*(const uint64_t *)src, tmp, (int)sizeof tmp);
        cs_buf_printf(out, "\"%s\"", tmp);
        break;
    case CS_CFG_FREQ:
        cs_units_fmt_freq(*(const uint64_t *)src, tmp, (int)sizeof tmp);
        cs_buf_printf(out, "\"%s\"", tmp);
        break;
    case CS_CFG_TIME:
        cs_units_fmt_time(*(const uint64_t *)src, tmp, (int)sizeof tmp);
        cs_buf_printf(out, "\"%s\"", tmp);
        break;
    case CS_CFG_ENERGY:
    case CS_CFG_POWER:
    case CS_CFG_AREA:
        fmt_double(*(const double *)src, false, tmp, sizeof tmp);
        cs_buf_printf(out, "\"%s%s\"", tmp, stored_unit(t));
        break;
    case CS_CFG_INT_LIST: {
        const cs_cfg_ints *l = src;
        bool wide = false;
        for (size_t i = 0; i < l->n; i++)
            wide = wide || l->v[i] > INT_MAX || l->v[i] < INT_MIN;
        cs_buf_putc(out, '[');
        for (size_t i = 0; i < l->n; i++)
            cs_buf_printf(out, "%s%lld%s", i ? ", " : "", (long long)l->v[i], wide ? "L" : "");
        cs_buf_putc(out, ']');
        break;
    }
    case CS_CFG_STR_LIST: {
        const cs_cfg_strs *l = src;
        cs_buf_putc(out, '[');
        for (size_t i = 0; i < l->n; i++) {
            if (i)
                cs_buf_puts(out, ", ");
            put_quoted(out, l->v[i] ? l->v[i] : "", SIZE_MAX);
        }
        cs_buf_putc(out, ']');
        break;
    }
    default:
        CS_ASSERT(!"put_value: not a scalar type");
    }
}

static const config_setting_t *member(const config_setting_t *g, const char *name)
{
    return g && config_setting_is_group(g) ? config_setting_get_member(g, name) : NULL;
}

static void dump_group(const dumper *d, const config_setting_t *g, const cs_cfg_schema *sch,
                       const void *params, int depth)
{
    cs_buf *out = d->out;
    for (size_t i = 0; i < sch->nkeys; i++) {
        const cs_cfg_key *k = &sch->keys[i];
        const config_setting_t *s = member(g, k->name);
        const void *src = (const char *)params + k->offset;
        switch (k->type) {
        case CS_CFG_GROUP:
            indent(out, depth);
            cs_buf_printf(out, "%s = {\n", k->name);
            dump_group(d, s, k->group, src, depth + 1);
            indent(out, depth);
            cs_buf_puts(out, "};\n");
            break;
        case CS_CFG_MAP: {
            const cs_cfg_map *m = src;
            indent(out, depth);
            if (m->n == 0) {
                cs_buf_printf(out, "%s = {};\n", k->name);
                break;
            }
            cs_buf_printf(out, "%s = {\n", k->name);
            size_t isz = k->group ? k->group->size : scalar_size(k->elem);
            for (size_t j = 0; j < m->n; j++) {
                const config_setting_t *ms = member(s, m->names[j]);
                const void *item = (const char *)m->items + j * isz;
                indent(out, depth + 1);
                if (k->group) {
                    cs_buf_printf(out, "%s = {\n", m->names[j]);
                    dump_group(d, ms, k->group, item, depth + 2);
                    indent(out, depth + 1);
                    cs_buf_puts(out, "};\n");
                } else {
                    cs_buf_printf(out, "%s = ", m->names[j]);
                    put_value(out, k->elem, k, item);
                    end_scalar(d, ms);
                }
            }
            indent(out, depth);
            cs_buf_puts(out, "};\n");
            break;
        }
        case CS_CFG_LIST: {
            const cs_cfg_list *l = src;
            indent(out, depth);
            if (l->n == 0) {
                cs_buf_printf(out, "%s = ();\n", k->name);
                break;
            }
            cs_buf_printf(out, "%s = (\n", k->name);
            for (size_t j = 0; j < l->n; j++) {
                const config_setting_t *is =
                    s && config_setting_is_list(s) && j < (size_t)config_setting_length(s)
                        ? config_setting_get_elem(s, (unsigned)j)
                        : NULL;
                indent(out, depth + 1);
                cs_buf_puts(out, "{\n");
                dump_group(d, is, k->group, (const char *)l->items + j * k->group->size,
                           depth + 2);
                indent(out, depth + 1);
                cs_buf_puts(out, j + 1 < l->n ? "},\n" : "}\n");
            }
            indent(out, depth);
            cs_buf_puts(out, ");\n");
            break;
        }
        case CS_CFG_STRING:
            if (!*(const char *const *)src) {
                if (d->origins) {
                    indent(out, depth);
                    cs_buf_printf(out, "# %s: not set\n", k->name);
                }
                break;
            }
            /* fall through */
        default:
            indent(out, depth);
            cs_buf_printf(out, "%s = ", k->name);
            put_value(out, k->type, k, src);
            end_scalar(d, s);
            break;
        }
    }
}

void cs_cfg_dump(const cs_cfg *cfg, const char *path, const cs_cfg_schema *schema,
                 const void *params, cs_buf *out)
{
    dumper d = {cfg, true, out};
    if (!path)
        path = "";
    const config_setting_t *g = cfg ? lookup(config_root_setting(&cfg->lc), path) : NULL;
    if (g && !config_setting_is_group(g))
        g = NULL;
    /* Wrap in the groups of the path, so the dump reads back as the same configuration. */
    int depth = 0;
    bool wrap = path[0] && !strchr(path, '[');
    if (wrap) {
        for (const char *p = path;;) {
            const char *dot = strchr(p, '.');
            size_t n = dot ? (size_t)(dot - p) : strlen(p);
            indent(out, depth++);
            cs_buf_printf(out, "%.*s = {\n", (int)n, p);
            if (!dot)
                break;
            p = dot + 1;
        }
    }
    dump_group(&d, g, schema, params, depth);
    while (depth > 0) {
        indent(out, --depth);
        cs_buf_puts(out, "};\n");
    }
}

void cs_cfg_dump_plain(const cs_cfg_schema *schema, const void *params, cs_buf *out)
{
    dumper d = {NULL, false, out};
    dump_group(&d, NULL, schema, params, 0);
}

uint64_t cs_cfg_hash(const cs_cfg_schema *schema, const void *params)
{
    cs_buf b;
    cs_buf_init(&b);
    cs_cfg_dump_plain(schema, params, &b);
    uint64_t h = cs_fnv1a(b.data ? b.data : "", b.len, CS_FNV_SEED);
    cs_buf_free(&b);
    return h;
}

/* ==== describe ============================================================================= */

const char *cs_cfg_type_name(cs_cfg_type t)
{
    static const char *const names[CS_CFG_TYPE_COUNT] = {
        [CS_CFG_INT] = "int",          [CS_CFG_FLOAT] = "float",
        [CS_CFG_BOOL] = "bool",        [CS_CFG_STRING] = "string",
        [CS_CFG_ENUM] = "enum",        [CS_CFG_BYTES] = "size",
        [CS_CFG_FREQ] = "frequency",   [CS_CFG_TIME] = "time",
        [CS_CFG_ENERGY] = "energy",    [CS_CFG_POWER] = "power",
        [CS_CFG_AREA] = "area",        [CS_CFG_GROUP] = "group",
        [CS_CFG_MAP] = "map",          [CS_CFG_LIST] = "list",
        [CS_CFG_INT_LIST] = "int list", [CS_CFG_STR_LIST] = "string list",
    };
    return (unsigned)t < CS_CFG_TYPE_COUNT ? names[t] : "unknown";
}

/* The path under which the items of a map or list are described. */
static void item_prefix(const cs_cfg_key *k, const char *kp, char *buf, size_t cap)
{
    snprintf(buf, cap, k->type == CS_CFG_MAP ? "%s.<name>" : "%s[i]", kp);
}

static void type_desc(const cs_cfg_key *k, char *buf, size_t cap)
{
    if (k->type == CS_CFG_MAP)
        snprintf(buf, cap, "map of %s", k->group ? "groups" : cs_cfg_type_name(k->elem));
    else if (k->type == CS_CFG_LIST)
        snprintf(buf, cap, "list of groups");
    else
        snprintf(buf, cap, "%s", cs_cfg_type_name(k->type));
}

/* "required", the default as written, or what an absent key means. */
static void default_desc(const cs_cfg_key *k, bool md, char *buf, size_t cap)
{
    if (k->required)
        snprintf(buf, cap, md ? "**required**" : "required");
    else if (k->def)
        snprintf(buf, cap, md ? "`%s`" : "%s", k->def);
    else if (k->type == CS_CFG_GROUP)
        snprintf(buf, cap, "%s", "");
    else if (k->type == CS_CFG_MAP || k->type == CS_CFG_LIST || k->type == CS_CFG_INT_LIST ||
             k->type == CS_CFG_STR_LIST)
        snprintf(buf, cap, "empty");
    else if (k->type == CS_CFG_STRING)
        snprintf(buf, cap, "unset");
    else
        snprintf(buf, cap, "none");
}

static void range_desc(const cs_cfg_key *k, bool md, char *buf, size_t cap)
{
    buf[0] = '\0';
    cs_cfg_type t = k->type == CS_CFG_MAP && !k->group ? k->elem : k->type;
    if (t == CS_CFG_INT_LIST)
        t = CS_CFG_INT;
    if (t == CS_CFG_ENUM) {
        choices_text(k, md ? ", " : ", ", md ? "`" : "", buf, cap);
        return;
    }
    if (t == CS_CFG_GROUP || t == CS_CFG_MAP || t == CS_CFG_LIST || t == CS_CFG_STRING ||
        t == CS_CFG_BOOL || t == CS_CFG_STR_LIST || !has_range(k))
        return;
    char lo[48], hi[48];
    fmt_bound(t, k->min, lo, sizeof lo);
    fmt_bound(t, k->max, hi, sizeof hi);
    if (k->min == k->max)
        snprintf(buf, cap, "%s", lo);
    else if (k->max >= 9.2e18)
        snprintf(buf, cap, ">= %s", lo);
    else if (k->min <= -9.2e18)
        snprintf(buf, cap, "<= %s", hi);
    else
        snprintf(buf, cap, "%s to %s", lo, hi);
}

static const char *unit_desc(const cs_cfg_key *k)
{
    if (k->unit)
        return k->unit;
    cs_cfg_type t = k->type == CS_CFG_MAP && !k->group ? k->elem : k->type;
    return unit_type(t) ? stored_unit(t) : "";
}

static bool has_section(const cs_cfg_key *k)
{
    return k->group && (k->type == CS_CFG_GROUP || k->type == CS_CFG_MAP || k->type == CS_CFG_LIST);
}

/* A table cell: '|' escaped, newlines flattened. */
static void put_cell(cs_buf *out, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '|')
            cs_buf_puts(out, "\\|");
        else if (*s == '\n')
            cs_buf_putc(out, ' ');
        else
            cs_buf_putc(out, *s);
    }
}

/* GitHub's heading anchors: lower case, punctuation dropped, blanks to '-'. */
static void anchor(const char *title, char *buf, size_t cap)
{
    size_t n = 0;
    for (; *title && n + 1 < cap; title++) {
        unsigned char c = (unsigned char)*title;
        if (isalnum(c) || c == '-' || c == '_')
            buf[n++] = (char)tolower(c);
        else if (c == ' ')
            buf[n++] = '-';
    }
    buf[n] = '\0';
}

static void describe(const cs_cfg_schema *sch, const char *prefix, bool md, int level, cs_buf *out)
{
    char title[PATH_BYTES];
    if (prefix && prefix[0])
        snprintf(title, sizeof title, md ? "`%s`" : "%s", prefix);
    else
        snprintf(title, sizeof title, "%s", sch->name ? sch->name : "(top level)");
    if (md) {
        int hashes = level + 2 > 6 ? 6 : level + 2;
        for (int i = 0; i < hashes; i++)
            cs_buf_putc(out, '#');
        cs_buf_printf(out, " %s\n\n", title);
        if (sch->help)
            cs_buf_printf(out, "%s\n\n", sch->help);
        if (sch->nkeys == 0) {
            cs_buf_puts(out, "No keys.\n\n");
        } else {
            cs_buf_puts(out, "| Key | Type | Default | Range | Unit | Description |\n");
            cs_buf_puts(out, "|-----|------|---------|-------|------|-------------|\n");
        }
    } else {
        cs_buf_printf(out, "%s%s%s\n", title, sch->help ? ": " : "", sch->help ? sch->help : "");
    }
    for (size_t i = 0; i < sch->nkeys; i++) {
        const cs_cfg_key *k = &sch->keys[i];
        char kp[PATH_BYTES], type[64], def[VALUE_BYTES], range[RULE_BYTES], sub[PATH_BYTES];
        join_key(prefix, k->name, kp, sizeof kp);
        type_desc(k, type, sizeof type);
        default_desc(k, md, def, sizeof def);
        range_desc(k, md, range, sizeof range);
        const char *unit = unit_desc(k);
        sub[0] = '\0';
        if (has_section(k)) {
            if (k->type == CS_CFG_GROUP)
                snprintf(sub, sizeof sub, "%s", kp);
            else
                item_prefix(k, kp, sub, sizeof sub);
        }
        if (md) {
            cs_buf_puts(out, "| `");
            put_cell(out, kp);
            cs_buf_puts(out, "` | ");
            put_cell(out, type);
            cs_buf_puts(out, " | ");
            put_cell(out, def);
            cs_buf_puts(out, " | ");
            put_cell(out, range);
            cs_buf_puts(out, " | ");
            put_cell(out, unit);
            cs_buf_puts(out, " | ");
            put_cell(out, k->help ? k->help : "");
            if (sub[0]) {
                char t[PATH_BYTES + 2], a[PATH_BYTES];
                snprintf(t, sizeof t, "`%s`", sub);
                anchor(t, a, sizeof a);
                size_t hl = k->help ? strlen(k->help) : 0;
                cs_buf_printf(out, "%sSee [`%s`](#%s).", !hl ? "" : k->help[hl - 1] == '.' ? " " : ". ", sub, a);
            }
            cs_buf_puts(out, " |\n");
        } else {
            cs_buf_printf(out, "  %s: %s", kp, type);
            if (def[0])
                cs_buf_printf(out, ", %s%s", k->required || !k->def ? "" : "default ", def);
            if (range[0])
                cs_buf_printf(out, ", %s%s", k->type == CS_CFG_ENUM ? "one of " : "range ", range);
            if (unit[0])
                cs_buf_printf(out, ", unit %s", unit);
            cs_buf_putc(out, '\n');
            if (k->help)
                cs_buf_printf(out, "      %s\n", k->help);
            if (sub[0])
                cs_buf_printf(out, "      See %s below.\n", sub);
        }
    }
    if (md && sch->nkeys)
        cs_buf_putc(out, '\n');
    for (size_t i = 0; i < sch->nkeys; i++) {
        const cs_cfg_key *k = &sch->keys[i];
        if (!has_section(k))
            continue;
        char kp[PATH_BYTES], sub[PATH_BYTES];
        join_key(prefix, k->name, kp, sizeof kp);
        if (k->type == CS_CFG_GROUP)
            snprintf(sub, sizeof sub, "%s", kp);
        else
            item_prefix(k, kp, sub, sizeof sub);
        if (!md)
            cs_buf_putc(out, '\n');
        describe(k->group, sub, md, level + 1, out);
    }
}

void cs_cfg_describe(const cs_cfg_schema *schema, const char *prefix, bool markdown, cs_buf *out)
{
    describe(schema, prefix ? prefix : "", markdown, 0, out);
}

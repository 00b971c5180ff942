/* stats — the statistics registry.
 *
 * Statistics live in one array in registration order (the index is the public handle); an
 * open-addressing hash table of indices maps names to them, so registration and lookup are
 * O(1) at 100k statistics. Strings are copied into an arena of large chunks: a full GPU
 * registers ~100k statistics with three strings each, and 300k small allocations would cost
 * more than everything else here.
 *
 * Formulas are parsed once, at registration, into a small AST. Names in it are resolved on
 * first successful evaluation and the index cached (names are never removed, so a resolved
 * index stays valid). A sum()/max() node caches the indices its glob matched and how far into
 * the registry it has looked, so re-evaluating it only scans statistics registered since: a
 * dump of many glob formulas over 100k names stays linear in the matches, not quadratic.
 * These caches are why reads through a const registry still write memory (see stats.h).
 *
 * A snapshot is a flat array of 64-bit words. Each statistic owns a fixed run of words
 * (counter 1, gauge 2, histogram 4 + buckets, formula 0) assigned at registration, so a
 * snapshot covers a prefix of the registry and anything registered later lies past its end
 * and reads as 0. Formulas store nothing: they are evaluated over the snapshot's words.
 */
#include "stats.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "check.h"
#include "hash.h"
#include "json.h"

enum {
    ARENA_CHUNK_BYTES = 64 * 1024,
    MAX_FORMULA_DEPTH = 64,  /* nested formula references before evaluation gives up */
    MAX_PARSE_DEPTH = 200,   /* nested '(' and unary '-' in one expression (bounds recursion) */
    HIST_WORDS = 4 + CS_HIST_BUCKETS, /* count, sum, min, max, buckets */
    FIRST_SLOTS = 64,
};
#define NO_INDEX ((size_t)-1)
#define EMPTY_SLOT UINT32_MAX
#define EXACT_INT_LIMIT 9007199254740992.0 /* 2^53: doubles below are exact integers */

/* ---- histogram ---------------------------------------------------------------------------- */

static unsigned bucket_of(uint64_t v)
{
    if (v == 0)
        return 0;
    unsigned bits; /* position of the highest set bit, 1-based */
#if defined(__GNUC__)
    bits = 64u - (unsigned)__builtin_clzll(v);
#else
    bits = 0;
    while (v) {
        bits++;
        v >>= 1;
    }
#endif
    return bits < CS_HIST_BUCKETS ? bits : CS_HIST_BUCKETS - 1;
}

void cs_hist_add(cs_hist *h, uint64_t v)
{
    if (h->count == 0 || v < h->min)
        h->min = v;
    if (h->count == 0 || v > h->max)
        h->max = v;
    h->count++;
    h->sum += v;
    h->bucket[bucket_of(v)]++;
}

/* ---- types -------------------------------------------------------------------------------- */

typedef union word {
    uint64_t u;
    int64_t i;
} word;

typedef enum { N_NUM, N_REF, N_SUM, N_MAX, N_NEG, N_ADD, N_SUB, N_MUL, N_DIV } node_op;

typedef struct node {
    node_op op;
    size_t col;         /* 1-based column of the token, for evaluation-time messages */
    double num;         /* N_NUM */
    struct node *a, *b; /* operands (N_NEG uses a) */
    char *text;         /* N_REF: name; N_SUM/N_MAX: glob (owned) */
    size_t ref;         /* N_REF: resolved index, NO_INDEX until the first success */
    uint32_t *hits;     /* N_SUM/N_MAX: matching indices found so far, ascending */
    size_t nhits, hits_cap;
    size_t scanned;     /* N_SUM/N_MAX: registry prefix already matched against the glob */
} node;

typedef struct stat {
    const char *name, *unit, *desc; /* arena */
    const char *expr;               /* formulas: the source text (arena); else NULL */
    uint64_t hash;
    size_t off;                     /* first word of this statistic in a snapshot */
    cs_stat_kind kind;
    union {
        const uint64_t *ctr;
        const cs_gauge *gauge;
        const cs_hist *hist;
        node *root;
    } src;
} stat;

typedef struct chunk {
    struct chunk *next;
    size_t used, cap;
    char data[];
} chunk;

typedef struct action {
    size_t stat;
    const char *cls, *action;
} action;

typedef struct instance {
    const char *cls, *name;
} instance;

struct cs_stats {
    stat *st;
    size_t n, cap;
    uint32_t *slots; /* indices into st; power-of-two size, at most half full */
    size_t nslots;
    size_t nwords;   /* snapshot words of all statistics so far */
    action *acts;
    size_t nacts, acts_cap;
    instance *insts;
    size_t ninsts, insts_cap;
    chunk *arena;
};

struct cs_stats_snap {
    const cs_stats *owner;
    size_t n;      /* statistics covered: a prefix of the registry */
    size_t nwords;
    word *w;
};

static size_t kind_words(cs_stat_kind k)
{
    switch (k) {
    case CS_STAT_COUNTER: return 1;
    case CS_STAT_GAUGE: return 2;
    case CS_STAT_HIST: return HIST_WORDS;
    case CS_STAT_FORMULA: return 0;
    }
    return 0;
}

/* ---- strings ------------------------------------------------------------------------------ */

static const char *arena_copy(cs_stats *s, const char *str)
{
    size_t len = strlen(str) + 1;
    chunk *c = s->arena;
    if (!c || c->cap - c->used < len) {
        size_t cap = len > ARENA_CHUNK_BYTES ? len : ARENA_CHUNK_BYTES;
        chunk *nc = cs_malloc(sizeof *nc + cap);
        nc->used = 0;
        nc->cap = cap;
        if (c && cap > ARENA_CHUNK_BYTES) { /* an oversized string: keep filling the current chunk */
            nc->next = c->next;
            c->next = nc;
        } else {
            nc->next = c;
            s->arena = nc;
        }
        c = nc;
    }
    char *d = c->data + c->used;
    memcpy(d, str, len);
    c->used += len;
    return d;
}

static bool is_name_char(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
}

static bool valid_name(const char *name)
{
    if (!name || !*name)
        return false;
    for (const char *p = name; *p; p++)
        if (!is_name_char((unsigned char)*p))
            return false;
    return true;
}

bool cs_stats_glob_match(const char *glob, const char *name)
{
    /* Greedy match with one backtrack point: on a mismatch after a '*', let that '*' absorb one
     * more character. Only the latest '*' needs remembering, so this is O(len(glob) * len(name))
     * at worst and linear for the usual one-star patterns. */
    const char *star = NULL, *resume = NULL;
    while (*name) {
        if (*glob == '*') {
            star = ++glob;
            resume = name;
        } else if (*glob == *name) {
            glob++;
            name++;
        } else if (star) {
            glob = star;
            name = ++resume;
        } else {
            return false;
        }
    }
    while (*glob == '*')
        glob++;
    return *glob == '\0';
}

/* ---- name table --------------------------------------------------------------------------- */

static uint64_t name_hash(const char *name)
{
    return cs_mix64(cs_fnv1a(name, strlen(name), CS_FNV_SEED));
}

static size_t lookup(const cs_stats *s, const char *name, uint64_t h)
{
    if (!s->nslots)
        return NO_INDEX;
    size_t mask = s->nslots - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        uint32_t k = s->slots[i];
        if (k == EMPTY_SLOT)
            return NO_INDEX;
        if (s->st[k].hash == h && strcmp(s->st[k].name, name) == 0)
            return k;
    }
}

static void slot_put(uint32_t *slots, size_t nslots, uint64_t h, uint32_t idx)
{
    size_t mask = nslots - 1, i = (size_t)h & mask;
    while (slots[i] != EMPTY_SLOT)
        i = (i + 1) & mask;
    slots[i] = idx;
}

static void table_reserve(cs_stats *s, size_t count)
{
    if (count * 2 <= s->nslots)
        return;
    size_t ns = s->nslots ? s->nslots * 2 : FIRST_SLOTS;
    while (count * 2 > ns)
        ns *= 2;
    cs_free(s->slots);
    s->slots = cs_malloc(ns * sizeof *s->slots);
    memset(s->slots, 0xff, ns * sizeof *s->slots); /* every slot EMPTY_SLOT */
    s->nslots = ns;
    for (size_t i = 0; i < s->n; i++)
        slot_put(s->slots, ns, s->st[i].hash, (uint32_t)i);
}

/* Registration bugs abort; say which name first, since the assertion text alone cannot. */
static void require_name(const cs_stats *s, const char *name, uint64_t *hash)
{
    if (!valid_name(name)) {
        fprintf(stderr, "cimsim: stats: invalid statistic name '%s' (must match [a-z0-9_.]+)\n",
                name ? name : "(null)");
        cs_assert_fail(__FILE__, __LINE__, "statistic name matches [a-z0-9_.]+");
    }
    *hash = name_hash(name);
    if (lookup(s, name, *hash) != NO_INDEX) {
        fprintf(stderr, "cimsim: stats: duplicate statistic name '%s'\n", name);
        cs_assert_fail(__FILE__, __LINE__, "statistic names are unique");
    }
}

static stat *add_stat(cs_stats *s, const char *name, uint64_t hash, const char *unit,
                      const char *desc, cs_stat_kind kind)
{
    CS_ASSERT(s->n < EMPTY_SLOT);
    table_reserve(s, s->n + 1);
    CS_GROW(s->st, s->cap, s->n + 1);
    stat *t = &s->st[s->n];
    t->name = arena_copy(s, name);
    t->unit = arena_copy(s, unit ? unit : "");
    t->desc = arena_copy(s, desc ? desc : "");
    t->expr = NULL;
    t->hash = hash;
    t->off = s->nwords;
    t->kind = kind;
    slot_put(s->slots, s->nslots, hash, (uint32_t)s->n);
    s->n++;
    s->nwords += kind_words(kind);
    return t;
}

/* ---- formula parser ----------------------------------------------------------------------- */

typedef struct parser {
    const char *src;
    size_t pos;
    int depth;
    const char *formula; /* name for messages; NULL for cs_stats_eval */
    cs_err *err;
    bool failed;
} parser;

static void describe_char(char *out, size_t n, int c)
{
    if (c >= 0x20 && c < 0x7f)
        snprintf(out, n, "'%c'", c);
    else
        snprintf(out, n, "byte 0x%02x", c & 0xff);
}

static void perr(parser *p, size_t pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void perr(parser *p, size_t pos, const char *fmt, ...)
{
    if (p->failed)
        return;
    p->failed = true;
    char rule[CS_ERR_MSG_BYTES];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rule, sizeof rule, fmt, ap);
    va_end(ap);
    if (p->formula)
        cs_err_add(p->err, CS_INVALID, "formula %s: %s at column %zu in \"%s\"", p->formula, rule,
                   pos + 1, p->src);
    else
        cs_err_add(p->err, CS_INVALID, "expression: %s at column %zu in \"%s\"", rule, pos + 1,
                   p->src);
}

static void free_node(node *n)
{
    if (!n)
        return;
    free_node(n->a);
    free_node(n->b);
    cs_free(n->text);
    cs_free(n->hits);
    cs_free(n);
}

static node *new_node(node_op op, size_t pos)
{
    node *n = cs_calloc(1, sizeof *n);
    n->op = op;
    n->col = pos + 1;
    n->ref = NO_INDEX;
    return n;
}

static char cur(const parser *p) { return p->src[p->pos]; }

static void skip_ws(parser *p)
{
    while (cur(p) == ' ' || cur(p) == '\t' || cur(p) == '\n' || cur(p) == '\r')
        p->pos++;
}

static bool is_digit(int c) { return c >= '0' && c <= '9'; }

static node *parse_expr(parser *p);

static node *parse_number(parser *p)
{
    size_t start = p->pos, digits = 0;
    while (is_digit(cur(p))) {
        p->pos++;
        digits++;
    }
    if (cur(p) == '.') {
        p->pos++;
        while (is_digit(cur(p))) {
            p->pos++;
            digits++;
        }
    }
    bool ok = digits > 0;
    if (ok && (cur(p) == 'e' || cur(p) == 'E')) {
        p->pos++;
        if (cur(p) == '+' || cur(p) == '-')
            p->pos++;
        size_t exp_digits = 0;
        while (is_digit(cur(p))) {
            p->pos++;
            exp_digits++;
        }
        ok = exp_digits > 0;
    }
    if (!ok || is_name_char((unsigned char)cur(p))) {
        perr(p, start, "malformed number");
        return NULL;
    }
    /* Validated above: strtod sees only digits, '.' and an exponent. It reads '.' as the point
     * under the default "C" LC_NUMERIC, which nothing in cimsim changes. */
    char *text = cs_strndup(p->src + start, p->pos - start);
    node *n = new_node(N_NUM, start);
    n->num = strtod(text, NULL);
    cs_free(text);
    return n;
}

/* After "sum" or "max" and '(' : GLOB ')' */
static node *parse_glob_call(parser *p, node_op op, size_t name_pos)
{
    skip_ws(p);
    size_t start = p->pos;
    while (is_name_char((unsigned char)cur(p)) || cur(p) == '*')
        p->pos++;
    size_t end = p->pos;
    skip_ws(p);
    char c = cur(p);
    if (c != ')') {
        if (c == '\0' || is_name_char((unsigned char)c) || c == '*') {
            perr(p, p->pos, "expected ')'");
        } else {
            char what[16];
            describe_char(what, sizeof what, (unsigned char)c);
            perr(p, p->pos, "invalid character %s in pattern", what);
        }
        return NULL;
    }
    if (start == end) {
        perr(p, p->pos, "empty pattern in %s()", op == N_SUM ? "sum" : "max");
        return NULL;
    }
    p->pos++;
    node *n = new_node(op, name_pos);
    n->text = cs_strndup(p->src + start, end - start);
    return n;
}

/* factor, less unary minus (parse_factor handles that and the depth bound) */
static node *parse_primary(parser *p)
{
    size_t start = p->pos;
    char c = cur(p);
    if (c == '(') {
        p->pos++;
        node *e = parse_expr(p);
        if (!e)
            return NULL;
        skip_ws(p);
        if (cur(p) != ')') {
            perr(p, p->pos, "expected ')'");
            free_node(e);
            return NULL;
        }
        p->pos++;
        return e;
    }
    if (is_digit(c) || c == '.')
        return parse_number(p);
    if ((c >= 'a' && c <= 'z') || c == '_') {
        while (is_name_char((unsigned char)cur(p)))
            p->pos++;
        size_t end = p->pos;
        skip_ws(p);
        if (cur(p) == '(') {
            size_t len = end - start;
            if (len == 3 && strncmp(p->src + start, "sum", 3) == 0) {
                p->pos++;
                return parse_glob_call(p, N_SUM, start);
            }
            if (len == 3 && strncmp(p->src + start, "max", 3) == 0) {
                p->pos++;
                return parse_glob_call(p, N_MAX, start);
            }
            perr(p, start, "unknown function '%.*s'", (int)len, p->src + start);
            return NULL;
        }
        node *n = new_node(N_REF, start);
        n->text = cs_strndup(p->src + start, end - start);
        return n;
    }
    if (c == '\0') {
        perr(p, start, "expected a number, name, '(' or '-'");
    } else {
        char what[16];
        describe_char(what, sizeof what, (unsigned char)c);
        perr(p, start, "unexpected %s", what);
    }
    return NULL;
}

static node *parse_factor(parser *p)
{
    skip_ws(p);
    if (p->depth >= MAX_PARSE_DEPTH) {
        perr(p, p->pos, "expression nested too deeply");
        return NULL;
    }
    p->depth++;
    node *n;
    if (cur(p) == '-') {
        size_t start = p->pos++;
        node *operand = parse_factor(p);
        n = NULL;
        if (operand) {
            n = new_node(N_NEG, start);
            n->a = operand;
        }
    } else {
        n = parse_primary(p);
    }
    p->depth--;
    return n;
}

static node *binary(node_op op, size_t pos, node *a, node *b)
{
    node *n = new_node(op, pos);
    n->a = a;
    n->b = b;
    return n;
}

static node *parse_term(parser *p)
{
    node *l = parse_factor(p);
    while (l) {
        skip_ws(p);
        char c = cur(p);
        if (c != '*' && c != '/')
            break;
        size_t pos = p->pos++;
        node *r = parse_factor(p);
        if (!r) {
            free_node(l);
            return NULL;
        }
        l = binary(c == '*' ? N_MUL : N_DIV, pos, l, r);
    }
    return l;
}

static node *parse_expr(parser *p)
{
    node *l = parse_term(p);
    while (l) {
        skip_ws(p);
        char c = cur(p);
        if (c != '+' && c != '-')
            break;
        size_t pos = p->pos++;
        node *r = parse_term(p);
        if (!r) {
            free_node(l);
            return NULL;
        }
        l = binary(c == '+' ? N_ADD : N_SUB, pos, l, r);
    }
    return l;
}

/* The whole expression; NULL with a message in err on a syntax error. */
static node *parse(const char *src, const char *formula, cs_err *err)
{
    parser p = {.src = src, .formula = formula, .err = err};
    node *root = parse_expr(&p);
    if (root) {
        skip_ws(&p);
        if (cur(&p) != '\0') {
            char what[16];
            describe_char(what, sizeof what, (unsigned char)cur(&p));
            perr(&p, p.pos, "unexpected %s", what);
            free_node(root);
            root = NULL;
        }
    }
    return root;
}

/* ---- evaluation --------------------------------------------------------------------------- */

/* The formulas being evaluated, innermost first: a reference to one of them is a cycle. */
typedef struct frame {
    size_t idx;
    const struct frame *up;
} frame;

typedef struct ectx {
    const cs_stats *s;
    const cs_stats_snap *snap; /* NULL: live values */
    cs_err *err;               /* NULL: problems only make the value NaN */
    cs_status st;              /* first problem */
    const char *where, *expr;  /* formula being evaluated (NULL: a cs_stats_eval expression) */
    const frame *top;
    int depth;
} ectx;

static void eproblem(ectx *c, cs_status st, size_t col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void eproblem(ectx *c, cs_status st, size_t col, const char *fmt, ...)
{
    if (c->st != CS_OK)
        return;
    c->st = st;
    if (!c->err)
        return;
    char rule[CS_ERR_MSG_BYTES];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rule, sizeof rule, fmt, ap);
    va_end(ap);
    if (c->where)
        cs_err_add(c->err, st, "formula %s: %s at column %zu in \"%s\"", c->where, rule, col,
                   c->expr);
    else
        cs_err_add(c->err, st, "expression: %s at column %zu in \"%s\"", rule, col, c->expr);
}

static uint64_t ctr_at(const cs_stats *s, const cs_stats_snap *snap, size_t i)
{
    if (!snap)
        return *s->st[i].src.ctr;
    return i < snap->n ? snap->w[s->st[i].off].u : 0;
}

static cs_gauge gauge_at(const cs_stats *s, const cs_stats_snap *snap, size_t i)
{
    if (!snap)
        return *s->st[i].src.gauge;
    cs_gauge g = {0, 0};
    if (i < snap->n) {
        g.value = snap->w[s->st[i].off].i;
        g.high = snap->w[s->st[i].off + 1].i;
    }
    return g;
}

static void hist_at(const cs_stats *s, const cs_stats_snap *snap, size_t i, cs_hist *h)
{
    if (!snap) {
        *h = *s->st[i].src.hist;
        return;
    }
    memset(h, 0, sizeof *h);
    if (i >= snap->n)
        return;
    const word *w = snap->w + s->st[i].off;
    h->count = w[0].u;
    h->sum = w[1].u;
    h->min = w[2].u;
    h->max = w[3].u;
    for (int b = 0; b < CS_HIST_BUCKETS; b++)
        h->bucket[b] = w[4 + b].u;
}

static double eval_node(ectx *c, node *n);

static double eval_formula(ectx *c, size_t i, size_t col)
{
    const stat *t = &c->s->st[i];
    for (const frame *f = c->top; f; f = f->up) {
        if (f->idx != i)
            continue;
        /* Name the cycle in evaluation order: the repeated formula, the chain, the repeat. */
        const frame *chain[MAX_FORMULA_DEPTH];
        int len = 0;
        for (const frame *g = c->top; g != f->up && len < MAX_FORMULA_DEPTH; g = g->up)
            chain[len++] = g;
        cs_buf b;
        cs_buf_init(&b);
        for (int k = len - 1; k >= 0; k--)
            cs_buf_printf(&b, "%s -> ", c->s->st[chain[k]->idx].name);
        cs_buf_puts(&b, t->name);
        eproblem(c, CS_INVALID, col, "formula cycle %s", b.data);
        cs_buf_free(&b);
        return NAN;
    }
    if (c->depth >= MAX_FORMULA_DEPTH) {
        eproblem(c, CS_INVALID, col, "formulas nested deeper than %d", MAX_FORMULA_DEPTH);
        return NAN;
    }
    frame fr = {i, c->top};
    const char *where = c->where, *expr = c->expr;
    c->top = &fr;
    c->depth++;
    c->where = t->name;
    c->expr = t->expr;
    double v = eval_node(c, t->src.root);
    c->top = fr.up;
    c->depth--;
    c->where = where;
    c->expr = expr;
    return v;
}

/* Value of statistic i as a formula operand: counter, gauge value, histogram count, formula. */
static double stat_value(ectx *c, size_t i, size_t col)
{
    const cs_stats *s = c->s;
    switch (s->st[i].kind) {
    case CS_STAT_COUNTER: return (double)ctr_at(s, c->snap, i);
    case CS_STAT_GAUGE: return (double)gauge_at(s, c->snap, i).value;
    case CS_STAT_HIST:
        if (!c->snap)
            return (double)s->st[i].src.hist->count;
        return i < c->snap->n ? (double)c->snap->w[s->st[i].off].u : 0.0;
    case CS_STAT_FORMULA: return eval_formula(c, i, col);
    }
    return NAN;
}

static double eval_glob(ectx *c, node *n)
{
    const cs_stats *s = c->s;
    for (; n->scanned < s->n; n->scanned++) {
        const stat *t = &s->st[n->scanned];
        if ((t->kind == CS_STAT_COUNTER || t->kind == CS_STAT_GAUGE) &&
            cs_stats_glob_match(n->text, t->name)) {
            CS_GROW(n->hits, n->hits_cap, n->nhits + 1);
            n->hits[n->nhits++] = (uint32_t)n->scanned;
        }
    }
    size_t limit = c->snap ? c->snap->n : s->n; /* later registrations are not in the snapshot */
    if (n->op == N_SUM) {
        /* Integers stay exact in 64 bits; convert once at the end. */
        uint64_t ctrs = 0;
        int64_t gauges = 0;
        for (size_t k = 0; k < n->nhits && n->hits[k] < limit; k++) {
            size_t i = n->hits[k];
            if (s->st[i].kind == CS_STAT_COUNTER)
                ctrs += ctr_at(s, c->snap, i);
            else
                gauges += gauge_at(s, c->snap, i).value;
        }
        return (double)ctrs + (double)gauges;
    }
    double best = 0;
    for (size_t k = 0; k < n->nhits && n->hits[k] < limit; k++) {
        size_t i = n->hits[k];
        double v = s->st[i].kind == CS_STAT_COUNTER ? (double)ctr_at(s, c->snap, i)
                                                    : (double)gauge_at(s, c->snap, i).value;
        if (k == 0 || v > best)
            best = v;
    }
    return best;
}

static double eval_node(ectx *c, node *n)
{
    double x, y;
    switch (n->op) {
    case N_NUM: return n->num;
    case N_NEG: return -eval_node(c, n->a);
    case N_ADD:
    case N_SUB:
    case N_MUL:
    case N_DIV:
        /* Left before right, so the first problem reported is the leftmost. */
        x = eval_node(c, n->a);
        y = eval_node(c, n->b);
        switch (n->op) {
        case N_ADD: return x + y;
        case N_SUB: return x - y;
        case N_MUL: return x * y;
        default: return y == 0 ? (isnan(x) ? x : 0.0) : x / y; /* x/0 = 0, but keep NaN */
        }
    case N_REF:
        if (n->ref == NO_INDEX) {
            n->ref = cs_stats_find(c->s, n->text);
            if (n->ref == NO_INDEX) {
                eproblem(c, CS_NOT_FOUND, n->col, "unknown statistic '%s'", n->text);
                return NAN;
            }
        }
        return stat_value(c, n->ref, n->col);
    case N_SUM:
    case N_MAX: return eval_glob(c, n);
    }
    return NAN;
}

/* ---- create / destroy --------------------------------------------------------------------- */

cs_stats *cs_stats_create(void)
{
    return cs_calloc(1, sizeof(cs_stats));
}

void cs_stats_destroy(cs_stats *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        if (s->st[i].kind == CS_STAT_FORMULA)
            free_node(s->st[i].src.root);
    for (chunk *c = s->arena, *next; c; c = next) {
        next = c->next;
        cs_free(c);
    }
    cs_free(s->st);
    cs_free(s->slots);
    cs_free(s->acts);
    cs_free(s->insts);
    cs_free(s);
}

/* ---- register ----------------------------------------------------------------------------- */

void cs_stats_counter(cs_stats *s, const char *name, const char *unit, const char *desc,
                      const uint64_t *ctr)
{
    uint64_t h;
    require_name(s, name, &h);
    CS_ASSERT(ctr != NULL);
    add_stat(s, name, h, unit, desc, CS_STAT_COUNTER)->src.ctr = ctr;
}

void cs_stats_gauge(cs_stats *s, const char *name, const char *unit, const char *desc,
                    const cs_gauge *g)
{
    uint64_t h;
    require_name(s, name, &h);
    CS_ASSERT(g != NULL);
    add_stat(s, name, h, unit, desc, CS_STAT_GAUGE)->src.gauge = g;
}

void cs_stats_hist(cs_stats *s, const char *name, const char *unit, const char *desc,
                   const cs_hist *h)
{
    uint64_t hash;
    require_name(s, name, &hash);
    CS_ASSERT(h != NULL);
    add_stat(s, name, hash, unit, desc, CS_STAT_HIST)->src.hist = h;
}

void cs_stats_action(cs_stats *s, const char *name, const char *unit, const char *desc,
                     const uint64_t *ctr, const char *cls, const char *action_name)
{
    CS_ASSERT(cls != NULL && *cls != '\0');
    CS_ASSERT(action_name != NULL && *action_name != '\0');
    cs_stats_counter(s, name, unit, desc, ctr);
    CS_GROW(s->acts, s->acts_cap, s->nacts + 1);
    action *a = &s->acts[s->nacts++];
    a->stat = s->n - 1;
    a->cls = arena_copy(s, cls);
    a->action = arena_copy(s, action_name);
}

cs_status cs_stats_formula(cs_stats *s, const char *name, const char *unit, const char *desc,
                           const char *expr, cs_err *err)
{
    uint64_t h;
    require_name(s, name, &h);
    CS_ASSERT(expr != NULL);
    node *root = parse(expr, name, err);
    if (!root)
        return CS_INVALID;
    stat *t = add_stat(s, name, h, unit, desc, CS_STAT_FORMULA);
    t->src.root = root;
    t->expr = arena_copy(s, expr);
    return CS_OK;
}

void cs_stats_instance(cs_stats *s, const char *cls, const char *name)
{
    CS_ASSERT(cls != NULL && *cls != '\0');
    CS_ASSERT(name != NULL && *name != '\0');
    CS_GROW(s->insts, s->insts_cap, s->ninsts + 1);
    instance *in = &s->insts[s->ninsts++];
    in->cls = arena_copy(s, cls);
    in->name = arena_copy(s, name);
}

/* ---- query -------------------------------------------------------------------------------- */

size_t cs_stats_count(const cs_stats *s) { return s->n; }

static const stat *at(const cs_stats *s, size_t i)
{
    CS_ASSERT(i < s->n);
    return &s->st[i];
}

const char *cs_stats_name(const cs_stats *s, size_t i) { return at(s, i)->name; }
const char *cs_stats_unit(const cs_stats *s, size_t i) { return at(s, i)->unit; }
const char *cs_stats_desc(const cs_stats *s, size_t i) { return at(s, i)->desc; }
cs_stat_kind cs_stats_kind(const cs_stats *s, size_t i) { return at(s, i)->kind; }

double cs_stats_value(const cs_stats *s, size_t i)
{
    at(s, i);
    ectx c = {.s = s};
    return stat_value(&c, i, 0);
}

size_t cs_stats_find(const cs_stats *s, const char *name)
{
    return lookup(s, name, name_hash(name));
}

double cs_stats_sum(const cs_stats *s, const char *glob)
{
    uint64_t sum = 0;
    if (!strchr(glob, '*')) { /* a plain name: one lookup instead of a scan */
        size_t i = cs_stats_find(s, glob);
        if (i != NO_INDEX && s->st[i].kind == CS_STAT_COUNTER)
            sum = *s->st[i].src.ctr;
        return (double)sum;
    }
    for (size_t i = 0; i < s->n; i++)
        if (s->st[i].kind == CS_STAT_COUNTER && cs_stats_glob_match(glob, s->st[i].name))
            sum += *s->st[i].src.ctr;
    return (double)sum;
}

cs_status cs_stats_eval(const cs_stats *s, const char *expr, double *out, cs_err *err)
{
    *out = NAN;
    node *root = parse(expr, NULL, err);
    if (!root)
        return CS_INVALID;
    ectx c = {.s = s, .err = err, .expr = expr};
    double v = eval_node(&c, root);
    free_node(root);
    if (c.st != CS_OK)
        return c.st;
    *out = v;
    return CS_OK;
}

size_t cs_stats_action_count(const cs_stats *s) { return s->nacts; }

void cs_stats_action_get(const cs_stats *s, size_t i, const char **name, const char **cls,
                         const char **action_name, uint64_t *value)
{
    CS_ASSERT(i < s->nacts);
    const action *a = &s->acts[i];
    if (name)
        *name = s->st[a->stat].name;
    if (cls)
        *cls = a->cls;
    if (action_name)
        *action_name = a->action;
    if (value)
        *value = *s->st[a->stat].src.ctr;
}

size_t cs_stats_instance_count(const cs_stats *s) { return s->ninsts; }

void cs_stats_instance_get(const cs_stats *s, size_t i, const char **cls, const char **name)
{
    CS_ASSERT(i < s->ninsts);
    if (cls)
        *cls = s->insts[i].cls;
    if (name)
        *name = s->insts[i].name;
}

/* ---- snapshots ---------------------------------------------------------------------------- */

static cs_stats_snap *snap_new(const cs_stats *s, size_t n, size_t nwords)
{
    cs_stats_snap *snap = cs_malloc(sizeof *snap);
    snap->owner = s;
    snap->n = n;
    snap->nwords = nwords;
    snap->w = cs_calloc(nwords, sizeof *snap->w);
    return snap;
}

cs_stats_snap *cs_stats_snapshot(const cs_stats *s)
{
    cs_stats_snap *snap = snap_new(s, s->n, s->nwords);
    for (size_t i = 0; i < s->n; i++) {
        const stat *t = &s->st[i];
        word *w = snap->w + t->off;
        switch (t->kind) {
        case CS_STAT_COUNTER: w[0].u = *t->src.ctr; break;
        case CS_STAT_GAUGE:
            w[0].i = t->src.gauge->value;
            w[1].i = t->src.gauge->high;
            break;
        case CS_STAT_HIST: {
            const cs_hist *h = t->src.hist;
            w[0].u = h->count;
            w[1].u = h->sum;
            w[2].u = h->min;
            w[3].u = h->max;
            for (int b = 0; b < CS_HIST_BUCKETS; b++)
                w[4 + b].u = h->bucket[b];
            break;
        }
        case CS_STAT_FORMULA: break;
        }
    }
    return snap;
}

void cs_stats_snap_free(cs_stats_snap *snap)
{
    if (!snap)
        return;
    cs_free(snap->w);
    cs_free(snap);
}

double cs_stats_snap_value(const cs_stats *s, const cs_stats_snap *snap, size_t i)
{
    CS_ASSERT(snap->owner == s);
    at(s, i);
    ectx c = {.s = s, .snap = snap};
    return stat_value(&c, i, 0);
}

/* Lowest and highest value bucket b can hold. */
static uint64_t bucket_lo(int b) { return b == 0 ? 0 : (uint64_t)1 << (b - 1); }
static uint64_t bucket_hi(int b)
{
    return b == 0 ? 0 : b == CS_HIST_BUCKETS - 1 ? UINT64_MAX : ((uint64_t)1 << b) - 1;
}

/* Histogram of a phase: counts subtract exactly. min/max cannot be subtracted: an extreme that
 * moved during the phase was set by a sample of the phase, so it is exact; otherwise the edge of
 * the phase's lowest/highest non-empty bucket, clamped by the lifetime extreme, bounds it. */
static void hist_delta(word *d, const word *l, const word *e)
{
    for (int k = 0; k < 2; k++) /* count, sum */
        d[k].u = l[k].u - e[k].u;
    int first = -1, last = -1;
    for (int b = 0; b < CS_HIST_BUCKETS; b++) {
        d[4 + b].u = l[4 + b].u - e[4 + b].u;
        if (d[4 + b].u) {
            if (first < 0)
                first = b;
            last = b;
        }
    }
    uint64_t lmin = l[2].u, lmax = l[3].u;
    if (d[0].u == 0 || first < 0) {
        d[2].u = d[3].u = 0;
    } else if (e[0].u == 0) {
        d[2].u = lmin;
        d[3].u = lmax;
    } else {
        uint64_t lo = bucket_lo(first), hi = bucket_hi(last);
        d[2].u = lmin < e[2].u ? lmin : (lo > lmin ? lo : lmin);
        d[3].u = lmax > e[3].u ? lmax : (hi < lmax ? hi : lmax);
    }
}

cs_stats_snap *cs_stats_snap_delta(const cs_stats *s, const cs_stats_snap *later,
                                   const cs_stats_snap *earlier)
{
    CS_ASSERT(later->owner == s && earlier->owner == s);
    CS_ASSERT(later->n >= earlier->n); /* the later snapshot must be the later one */
    cs_stats_snap *d = snap_new(s, later->n, later->nwords);
    memcpy(d->w, later->w, later->nwords * sizeof *d->w);
    for (size_t i = 0; i < earlier->n; i++) {
        const stat *t = &s->st[i];
        const word *l = later->w + t->off, *e = earlier->w + t->off;
        word *w = d->w + t->off;
        switch (t->kind) {
        case CS_STAT_COUNTER: w[0].u = l[0].u - e[0].u; break;
        case CS_STAT_HIST: hist_delta(w, l, e); break;
        case CS_STAT_GAUGE: /* a level, not a count: keeps the later value and high */
        case CS_STAT_FORMULA: break;
        }
    }
    return d;
}

/* ---- dump --------------------------------------------------------------------------------- */

static bool selected(const cs_stats *s, size_t i, const char *glob)
{
    return !glob || cs_stats_glob_match(glob, s->st[i].name);
}

static bool exact_int(double v)
{
    return isfinite(v) && v == floor(v) && fabs(v) < EXACT_INT_LIMIT;
}

static void text_number(cs_buf *b, double v)
{
    if (isnan(v))
        cs_buf_puts(b, "nan");
    else if (isinf(v))
        cs_buf_puts(b, v > 0 ? "inf" : "-inf");
    else if (exact_int(v))
        cs_buf_printf(b, "%" PRId64, (int64_t)v); /* also turns -0 into 0 */
    else
        cs_buf_double(b, v);
}

/* Value column and the bracketed extra for the comment column of statistic i. */
static void text_value(const cs_stats *s, const cs_stats_snap *snap, size_t i, cs_buf *val,
                       cs_buf *extra)
{
    switch (s->st[i].kind) {
    case CS_STAT_COUNTER: cs_buf_printf(val, "%" PRIu64, ctr_at(s, snap, i)); break;
    case CS_STAT_GAUGE: {
        cs_gauge g = gauge_at(s, snap, i);
        cs_buf_printf(val, "%" PRId64, g.value);
        cs_buf_printf(extra, "[high=%" PRId64 "]", g.high);
        break;
    }
    case CS_STAT_HIST: {
        cs_hist h;
        hist_at(s, snap, i, &h);
        cs_buf_printf(val, "%" PRIu64, h.count);
        cs_buf_printf(extra, "[sum=%" PRIu64 " min=%" PRIu64 " max=%" PRIu64 "]", h.sum, h.min,
                      h.max);
        break;
    }
    case CS_STAT_FORMULA: {
        ectx c = {.s = s, .snap = snap};
        text_number(val, eval_formula(&c, i, 0));
        break;
    }
    }
}

static void pad(cs_buf *b, size_t n)
{
    while (n--)
        cs_buf_putc(b, ' ');
}

void cs_stats_dump_text(const cs_stats *s, const cs_stats_snap *snap, const char *glob, cs_buf *out)
{
    CS_ASSERT(!snap || snap->owner == s);
    /* Pass 1 formats every value (widths depend on them); pass 2 writes aligned lines. */
    size_t *sel = cs_malloc((s->n + 1) * sizeof *sel);
    size_t *cut = cs_malloc((2 * s->n + 1) * sizeof *cut); /* value end, extra end per line */
    cs_buf vals, extra;
    cs_buf_init(&vals);
    cs_buf_init(&extra);
    size_t nsel = 0, name_w = 0, val_w = 0, unit_w = 0;
    size_t val_start = 0, extra_start = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (!selected(s, i, glob))
            continue;
        text_value(s, snap, i, &vals, &extra);
        size_t nl = strlen(s->st[i].name), ul = strlen(s->st[i].unit), vl = vals.len - val_start;
        name_w = nl > name_w ? nl : name_w;
        unit_w = ul > unit_w ? ul : unit_w;
        val_w = vl > val_w ? vl : val_w;
        sel[nsel] = i;
        cut[2 * nsel] = vals.len;
        cut[2 * nsel + 1] = extra.len;
        nsel++;
        val_start = vals.len;
    }
    val_start = extra_start = 0;
    for (size_t k = 0; k < nsel; k++) {
        const stat *t = &s->st[sel[k]];
        size_t line_start = out->len;
        size_t vl = cut[2 * k] - val_start, xl = cut[2 * k + 1] - extra_start;
        cs_buf_puts(out, t->name);
        pad(out, name_w - strlen(t->name) + 2 + val_w - vl);
        cs_buf_append(out, vals.data + val_start, vl);
        if (unit_w) {
            cs_buf_puts(out, "  ");
            cs_buf_puts(out, t->unit);
            pad(out, unit_w - strlen(t->unit));
        }
        if (*t->desc || xl) {
            cs_buf_puts(out, "  # ");
            cs_buf_puts(out, t->desc);
            if (*t->desc && xl)
                cs_buf_putc(out, ' ');
            cs_buf_append(out, extra.data + extra_start, xl);
        }
        while (out->len > line_start && out->data[out->len - 1] == ' ')
            out->len--;
        cs_buf_putc(out, '\n');
        val_start = cut[2 * k];
        extra_start = cut[2 * k + 1];
    }
    cs_buf_free(&vals);
    cs_buf_free(&extra);
    cs_free(sel);
    cs_free(cut);
}

void cs_stats_dump_json(const cs_stats *s, const cs_stats_snap *snap, const char *glob, cs_buf *out)
{
    CS_ASSERT(!snap || snap->owner == s);
    cs_json j;
    cs_json_init(&j, out, 0);
    cs_json_obj_begin(&j);
    for (size_t i = 0; i < s->n; i++) {
        if (!selected(s, i, glob))
            continue;
        cs_json_key(&j, s->st[i].name);
        switch (s->st[i].kind) {
        case CS_STAT_COUNTER: cs_json_u64(&j, ctr_at(s, snap, i)); break;
        case CS_STAT_GAUGE: cs_json_i64(&j, gauge_at(s, snap, i).value); break;
        case CS_STAT_HIST: {
            cs_hist h;
            hist_at(s, snap, i, &h);
            cs_json_obj_begin(&j);
            cs_json_ku64(&j, "count", h.count);
            cs_json_ku64(&j, "sum", h.sum);
            cs_json_ku64(&j, "min", h.min);
            cs_json_ku64(&j, "max", h.max);
            cs_json_key(&j, "buckets");
            cs_json_arr_begin(&j);
            int used = CS_HIST_BUCKETS;
            while (used > 0 && h.bucket[used - 1] == 0)
                used--;
            for (int b = 0; b < used; b++)
                cs_json_u64(&j, h.bucket[b]);
            cs_json_arr_end(&j);
            cs_json_obj_end(&j);
            break;
        }
        case CS_STAT_FORMULA: {
            ectx c = {.s = s, .snap = snap};
            double v = eval_formula(&c, i, 0);
            if (exact_int(v))
                cs_json_i64(&j, (int64_t)v);
            else
                cs_json_f64(&j, v); /* NaN (a cycle, an unknown name) writes null */
            break;
        }
        }
    }
    cs_json_obj_end(&j);
}

/* loopnest — binding and checking loop nests against the templates cimsim executes. */
#include "loopnest.h"

#include <stdio.h>
#include <string.h>

#include "json.h"

static const char dim_letter[CS_NEST_DIMS] = {'M', 'N', 'K'};
static const char ds_letter[CS_NEST_DS] = {'A', 'B', 'Z'};
#define BIT(ds) ((uint8_t)(1u << (ds)))

/* ---- the templates ------------------------------------------------------------------------ */

typedef struct level_rule {
    const char *name;
    const char *short_name;
    bool spatial;        /* has a fan-out */
    uint8_t keep_must;   /* dataspaces it must keep */
    uint8_t keep_may;    /* dataspaces it may keep (a superset of keep_must) */
} level_rule;

static const level_rule cim_rules[CS_NEST_LEVELS] = {
    [CS_LV_STORAGE] = {"CiMStorage", "storage", false, BIT(CS_NEST_B), BIT(CS_NEST_B)},
    [CS_LV_OUTBUF] = {"CiMOutBuffer", "outbuf", false, BIT(CS_NEST_Z), BIT(CS_NEST_Z)},
    [CS_LV_INBUF] = {"CiMInpBuffer", "inbuf", false, BIT(CS_NEST_A), BIT(CS_NEST_A)},
    [CS_LV_ARRAY] = {"inter_CiMArray_spatial", "array", true, 0, 0},
    [CS_LV_BANK] = {"inter_CiMBank_spatial", "bank", true, 0, 0},
    [CS_LV_SMEM] = {"SMEM", "smem", false, 0, BIT(CS_NEST_A) | BIT(CS_NEST_Z)},
    [CS_LV_DRAM] = {"DRAM", "dram", false, 7, 7},
};

static const level_rule pe_rules[CS_NEST_LEVELS] = {
    [CS_LV_LRF] = {"LRF", "lrf", false, BIT(CS_NEST_A), BIT(CS_NEST_A)},
    [CS_LV_PE] = {"inter_PE_spatial", "pe", true, 0, 0},
    [CS_LV_RF] = {"RF", "rf", false, BIT(CS_NEST_Z), BIT(CS_NEST_Z)},
    [CS_LV_SUBPART] = {"inter_Subpartition_spatial", "subpart", true, 0, 0},
    [CS_LV_SMEM] = {"SMEM", "smem", false, BIT(CS_NEST_A) | BIT(CS_NEST_B), BIT(CS_NEST_A) | BIT(CS_NEST_B)},
    [CS_LV_DRAM] = {"DRAM", "dram", false, 7, 7},
};

/* Roles present in each template, innermost first; -1 ends. */
static const int tmpl_roles[CS_NEST_TEMPLATES][CS_NEST_LEVELS + 1] = {
    [CS_NEST_CIM_RF] = {CS_LV_STORAGE, CS_LV_OUTBUF, CS_LV_INBUF, CS_LV_ARRAY, CS_LV_BANK, CS_LV_SMEM, CS_LV_DRAM, -1},
    [CS_NEST_CIM_SMEM] = {CS_LV_STORAGE, CS_LV_OUTBUF, CS_LV_INBUF, CS_LV_ARRAY, CS_LV_BANK, CS_LV_DRAM, -1, -1},
    [CS_NEST_PE] = {CS_LV_LRF, CS_LV_PE, CS_LV_RF, CS_LV_SUBPART, CS_LV_SMEM, CS_LV_DRAM, -1, -1},
};

static const char *const tmpl_names[CS_NEST_TEMPLATES] = {"cim-rf", "cim-smem", "pe"};

static const level_rule *rules_of(int tmpl)
{
    return tmpl == CS_NEST_PE ? pe_rules : cim_rules;
}

const char *cs_nest_template_name(int tmpl)
{
    return tmpl >= 0 && tmpl < CS_NEST_TEMPLATES ? tmpl_names[tmpl] : "?";
}

int cs_nest_levels(int tmpl, const char *names[CS_NEST_LEVELS + 1], int role[CS_NEST_LEVELS])
{
    int n = 0;
    for (; tmpl_roles[tmpl][n] >= 0 && n < CS_NEST_LEVELS; n++) {
        role[n] = tmpl_roles[tmpl][n];
        names[n] = rules_of(tmpl)[role[n]].name;
    }
    names[n] = NULL;
    return n;
}

bool cs_nest_has_level(int tmpl, int role)
{
    for (int i = 0; tmpl_roles[tmpl][i] >= 0 && i < CS_NEST_LEVELS; i++)
        if (tmpl_roles[tmpl][i] == role)
            return true;
    return false;
}

uint64_t cs_nest_span(const cs_nest *n, int dim, int lo, int hi)
{
    uint64_t p = 1;
    for (int r = lo; r <= hi; r++)
        if (cs_nest_has_level(n->tmpl, r))
            p *= n->lv[r].t[dim] * n->lv[r].s[dim];
    return p;
}

static void factors_text(const uint64_t f[CS_NEST_DIMS], char *out, size_t cap)
{
    snprintf(out, cap, "%llu.%llu.%llu", (unsigned long long)f[0], (unsigned long long)f[1],
             (unsigned long long)f[2]);
}

static void keep_text(uint8_t keep, char out[4])
{
    int n = 0;
    for (int d = 0; d < CS_NEST_DS; d++)
        if (keep & BIT(d))
            out[n++] = ds_letter[d];
    out[n] = '\0';
}

static void init_levels(cs_nest *n, int tmpl)
{
    memset(n, 0, sizeof *n);
    n->tmpl = tmpl;
    for (int r = 0; r < CS_NEST_LEVELS; r++) {
        for (int d = 0; d < CS_NEST_DIMS; d++)
            n->lv[r].t[d] = n->lv[r].s[d] = 1;
        memcpy(n->lv[r].perm, "MNK", 4);
        n->lv[r].keep = cs_nest_has_level(tmpl, r) ? rules_of(tmpl)[r].keep_may : 0;
    }
}

/* ---- checking ----------------------------------------------------------------------------- */

/* Where each level's entries came from, for messages (index -1 / line 0: not from a file). */
typedef struct where {
    const char *source;
    int idx[CS_NEST_LEVELS][3], line[CS_NEST_LEVELS][3]; /* [role][0 keep, 1 temporal, 2 spatial] */
    int top_line;
} where;

enum { W_KEEP = 0, W_TEMPORAL = 1, W_SPATIAL = 2 };

static cs_status fail(cs_err *err, const where *w, int role, int kind, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
static cs_status fail(cs_err *err, const where *w, int role, int kind, const char *key, const char *fmt, ...)
{
    char rule[400], path[96];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rule, sizeof rule, fmt, ap);
    va_end(ap);
    int idx = role >= 0 && w ? w->idx[role][kind] : -1;
    int line = role >= 0 && w ? w->line[role][kind] : (w ? w->top_line : 0);
    if (idx >= 0)
        snprintf(path, sizeof path, "mapping[%d]%s%s", idx, key[0] ? "." : "", key);
    else
        snprintf(path, sizeof path, "mapping%s%s", key[0] ? "." : "", key);
    if (w && w->source && w->source[0])
        return cs_err_at(err, CS_INVALID, w->source, line, path, "%s", rule);
    return cs_err_add(err, CS_INVALID, "mapping: error: %s: %s", path, rule);
}

/* A factor that must be 1, or at most a limit. */
static int check_le(cs_err *err, const where *w, int role, int kind, const char *lvname, const char *what, int dim,
                    uint64_t v, uint64_t max, const char *limit_name)
{
    if (v <= max)
        return 0;
    if (max == 1)
        fail(err, w, role, kind, "factors", "%s %c of %s must be 1: cimsim's model has no such loop there (got %c%llu)",
             what, dim_letter[dim], lvname, dim_letter[dim], (unsigned long long)v);
    else
        fail(err, w, role, kind, "factors", "%s factor %c%llu of %s is above its fan-out (%s = %llu) (got %c%llu)", what,
             dim_letter[dim], (unsigned long long)v, lvname, limit_name, (unsigned long long)max, dim_letter[dim],
             (unsigned long long)v);
    return 1;
}

static int check_levels(const cs_nest *n, const cs_nest_limits *lim, const cs_gemm *g, const where *w, cs_err *err)
{
    int bad = 0;
    const level_rule *R = rules_of(n->tmpl);
    bool pe = n->tmpl == CS_NEST_PE;
    for (int i = 0; tmpl_roles[n->tmpl][i] >= 0 && i < CS_NEST_LEVELS; i++) {
        int r = tmpl_roles[n->tmpl][i];
        const cs_nest_level *l = &n->lv[r];
        const char *nm = R[r].name;
        for (int d = 0; d < CS_NEST_DIMS; d++)
            if (!l->t[d] || !l->s[d]) {
                bad++;
                fail(err, w, r, l->t[d] ? W_SPATIAL : W_TEMPORAL, "factors", "factors must be at least 1 (got %c0)",
                     dim_letter[d]);
            }
        /* dataspaces */
        char got[4], must[4], may[4];
        keep_text(l->keep, got);
        keep_text(R[r].keep_must, must);
        keep_text(R[r].keep_may, may);
        if ((l->keep & R[r].keep_must) != R[r].keep_must || (l->keep & ~R[r].keep_may)) {
            bad++;
            if (R[r].keep_must == R[r].keep_may)
                fail(err, w, r, W_KEEP, "keep", "%s keeps %s in the %s template (got \"%s\")", nm,
                     must[0] ? must : "nothing", tmpl_names[n->tmpl], got);
            else
                fail(err, w, r, W_KEEP, "keep", "%s may keep only %s in the %s template (got \"%s\")", nm, may,
                     tmpl_names[n->tmpl], got);
        }
        /* temporal factors */
        uint64_t tmax[CS_NEST_DIMS] = {UINT64_MAX, UINT64_MAX, UINT64_MAX};
        const char *tname[CS_NEST_DIMS] = {"", "", ""};
        if (R[r].spatial || (!pe && (r == CS_LV_OUTBUF || r == CS_LV_INBUF)))
            tmax[0] = tmax[1] = tmax[2] = 1;
        else if (!pe && r == CS_LV_STORAGE) {
            tmax[CS_NEST_M] = 1;
            tmax[CS_NEST_N] = lim->ch;
            tmax[CS_NEST_K] = lim->rh;
            tname[CS_NEST_N] = "ch, the weight columns a unit holds";
            tname[CS_NEST_K] = "rh, the weight rows a unit holds";
        } else if (pe && r == CS_LV_LRF)
            tmax[CS_NEST_M] = tmax[CS_NEST_K] = 1;
        else if (pe && r == CS_LV_RF)
            tmax[CS_NEST_M] = tmax[CS_NEST_N] = 1;
        for (int d = 0; d < CS_NEST_DIMS; d++)
            bad += check_le(err, w, r, W_TEMPORAL, nm, "temporal", d, l->t[d], tmax[d], tname[d]);
        /* spatial factors */
        uint64_t smax[CS_NEST_DIMS] = {1, 1, 1};
        const char *sname[CS_NEST_DIMS] = {"", "", ""};
        if (!pe && r == CS_LV_ARRAY) {
            smax[CS_NEST_N] = lim->cp;
            smax[CS_NEST_K] = lim->rp;
            sname[CS_NEST_N] = "cp, the primitive's parallel columns";
            sname[CS_NEST_K] = "rp, the primitive's parallel rows";
        } else if (!pe && r == CS_LV_BANK) {
            smax[CS_NEST_N] = smax[CS_NEST_K] = lim->macros;
            sname[CS_NEST_N] = sname[CS_NEST_K] = "the macros of a controller";
        } else if (pe && r == CS_LV_PE) {
            smax[CS_NEST_N] = lim->pe_n;
            smax[CS_NEST_K] = lim->pe_k;
            sname[CS_NEST_N] = "the PE rows of a sub-partition";
            sname[CS_NEST_K] = "the PE columns of a sub-partition";
        } else if (pe && r == CS_LV_SUBPART) {
            smax[CS_NEST_M] = lim->subparts;
            sname[CS_NEST_M] = "the sub-partitions";
        }
        for (int d = 0; d < CS_NEST_DIMS; d++)
            bad += check_le(err, w, r, W_SPATIAL, nm, "spatial", d, l->s[d], smax[d], sname[d]);
        if (!pe && r == CS_LV_BANK && l->s[CS_NEST_N] * l->s[CS_NEST_K] > lim->macros &&
            l->s[CS_NEST_N] <= lim->macros && l->s[CS_NEST_K] <= lim->macros) {
            bad++;
            fail(err, w, r, W_SPATIAL, "factors",
                 "spatial factors N%llu x K%llu of %s need more macros than a controller has (%u) (got %llu)",
                 (unsigned long long)l->s[CS_NEST_N], (unsigned long long)l->s[CS_NEST_K], nm, lim->macros,
                 (unsigned long long)(l->s[CS_NEST_N] * l->s[CS_NEST_K]));
        }
        if (strlen(l->perm) != 3 || !strchr(l->perm, 'M') || !strchr(l->perm, 'N') || !strchr(l->perm, 'K')) {
            bad++;
            fail(err, w, r, W_TEMPORAL, "permutation", "must order M, N and K (got \"%s\")", l->perm);
        }
    }
    if (g) {
        const uint64_t dims[CS_NEST_DIMS] = {g->m, g->n, g->k};
        for (int d = 0; d < CS_NEST_DIMS; d++) {
            uint64_t p = cs_nest_span(n, d, 0, CS_NEST_LEVELS - 1);
            if (p != dims[d]) {
                bad++;
                fail(err, w, -1, 0, "",
                     "the factors of %c over all levels multiply to %llu, not to the GEMM's %c = %llu (%s) (got %llu)",
                     dim_letter[d], (unsigned long long)p, dim_letter[d], (unsigned long long)dims[d], g->name,
                     (unsigned long long)p);
            }
        }
    }
    return bad;
}

cs_status cs_nest_check(const cs_nest *n, const cs_nest_limits *lim, const cs_gemm *g, cs_err *err)
{
    return check_levels(n, lim, g, NULL, err) ? CS_INVALID : CS_OK;
}

/* The template whose level names include name, other than tmpl, or -1. */
static int other_template(int tmpl, const char *name)
{
    for (int t = 0; t < CS_NEST_TEMPLATES; t++) {
        if (t == tmpl)
            continue;
        for (int i = 0; tmpl_roles[t][i] >= 0 && i < CS_NEST_LEVELS; i++)
            if (strcmp(rules_of(t)[tmpl_roles[t][i]].name, name) == 0)
                return t;
    }
    return -1;
}

cs_status cs_nest_bind(const cs_nest_spec *s, int tmpl, const cs_nest_limits *lim, const cs_gemm *g,
                       cs_nest *out, cs_err *err)
{
    cs_nest n;
    init_levels(&n, tmpl);
    snprintf(n.origin, sizeof n.origin, "timeloop");
    snprintf(n.source, sizeof n.source, "%s", s->source);
    where w;
    memset(&w, 0, sizeof w);
    w.source = s->source;
    w.top_line = s->n ? s->e[0].line : 1;
    for (int r = 0; r < CS_NEST_LEVELS; r++)
        for (int k = 0; k < 3; k++)
            w.idx[r][k] = -1, w.line[r][k] = w.top_line;
    int bad = 0;
    const level_rule *R = rules_of(tmpl);
    for (uint32_t i = 0; i < s->n; i++) {
        const cs_nest_entry *e = &s->e[i];
        int role = -1;
        for (int j = 0; tmpl_roles[tmpl][j] >= 0 && j < CS_NEST_LEVELS; j++)
            if (strcmp(R[tmpl_roles[tmpl][j]].name, e->target) == 0)
                role = tmpl_roles[tmpl][j];
        char path[48];
        snprintf(path, sizeof path, "mapping[%u].target", i);
        if (role < 0) {
            char list[256] = "";
            const char *names[CS_NEST_LEVELS + 1];
            int roles[CS_NEST_LEVELS];
            int nl = cs_nest_levels(tmpl, names, roles);
            for (int j = 0; j < nl; j++)
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", j ? ", " : "", names[j]);
            int other = other_template(tmpl, e->target);
            char hint[160] = "";
            if (other >= 0)
                snprintf(hint, sizeof hint, "; %s is a level of the %s template", e->target, tmpl_names[other]);
            cs_err_at(err, CS_INVALID, s->source, e->line, path, "no level \"%s\" in the %s template (its levels: %s)%s",
                      e->target, tmpl_names[tmpl], list, hint);
            bad++;
            continue;
        }
        int kind = e->type == CS_NEST_ENTRY_KEEP ? W_KEEP : e->type == CS_NEST_ENTRY_TEMPORAL ? W_TEMPORAL : W_SPATIAL;
        if (w.idx[role][kind] >= 0) {
            cs_err_at(err, CS_INVALID, s->source, e->line, path, "a second %s entry for %s (the first is mapping[%d])",
                      kind == W_KEEP ? "datatype" : kind == W_TEMPORAL ? "temporal" : "spatial", e->target,
                      w.idx[role][kind]);
            bad++;
            continue;
        }
        w.idx[role][kind] = (int)i;
        if (kind == W_KEEP) {
            w.line[role][kind] = e->kline ? e->kline : e->line;
            if (e->keep & e->bypass) {
                char both[4];
                keep_text(e->keep & e->bypass, both);
                cs_err_at(err, CS_INVALID, s->source, w.line[role][kind], path, "%s both kept and bypassed at %s",
                          both, e->target);
                bad++;
            }
            /* a dataspace neither kept nor bypassed keeps the template's default */
            n.lv[role].keep = (uint8_t)((n.lv[role].keep & ~(e->keep | e->bypass)) | e->keep);
            continue;
        }
        w.line[role][kind] = e->fline ? e->fline : e->line;
        if (kind == W_SPATIAL && !R[role].spatial) {
            cs_err_at(err, CS_INVALID, s->source, w.line[role][kind], path,
                      "%s has no fan-out: spatial factors belong to the inter_*_spatial levels", e->target);
            bad++;
            continue;
        }
        for (int d = 0; d < CS_NEST_DIMS; d++)
            (kind == W_TEMPORAL ? n.lv[role].t : n.lv[role].s)[d] = e->f[d];
        if (kind == W_TEMPORAL) {
            if (e->perm[0])
                memcpy(n.lv[role].perm, e->perm, 4);
            if (role == CS_LV_DRAM)
                n.dram_line = w.line[role][kind];
        }
    }
    if (n.dram_line)
        w.top_line = n.dram_line;
    if (!bad)
        bad = check_levels(&n, lim, g, &w, err);
    if (bad)
        return CS_INVALID;
    *out = n;
    return CS_OK;
}

/* ---- built nests -------------------------------------------------------------------------- */

static void set3(uint64_t f[CS_NEST_DIMS], uint64_t m, uint64_t n, uint64_t k)
{
    f[CS_NEST_M] = m;
    f[CS_NEST_N] = n;
    f[CS_NEST_K] = k;
}

void cs_nest_from_www(const cs_www_mapping *w, cs_nest *out)
{
    init_levels(out, w->has_above ? CS_NEST_CIM_RF : CS_NEST_CIM_SMEM);
    snprintf(out->origin, sizeof out->origin, "www");
    set3(out->lv[CS_LV_STORAGE].t, w->storage.m, w->storage.n, w->storage.k);
    memcpy(out->lv[CS_LV_STORAGE].perm, "NMK", 4);
    set3(out->lv[CS_LV_ARRAY].s, w->array.m, w->array.n, w->array.k);
    set3(out->lv[CS_LV_BANK].s, w->bank.m, w->bank.n, w->bank.k);
    if (w->has_above) {
        set3(out->lv[CS_LV_SMEM].t, w->above.m, w->above.n, w->above.k);
        memcpy(out->lv[CS_LV_SMEM].perm, w->perm_above, 4);
    }
    set3(out->lv[CS_LV_DRAM].t, w->dram.m, w->dram.n, w->dram.k);
    memcpy(out->lv[CS_LV_DRAM].perm, w->perm_dram, 4);
}

static uint64_t maxdiv(uint64_t x, uint64_t p)
{
    for (uint64_t d = p < x ? p : x; d > 1; d--)
        if (x % d == 0)
            return d;
    return 1;
}

void cs_nest_pe_default(const cs_gemm *g, const cs_nest_limits *lim, uint64_t smem_bytes, uint32_t elem_bytes,
                        cs_nest *out)
{
    init_levels(out, CS_NEST_PE);
    snprintf(out->origin, sizeof out->origin, "default");
    uint64_t pn = maxdiv(g->n, lim->pe_n), lrf = maxdiv(g->n / pn, 8);
    uint64_t pk = maxdiv(g->k, lim->pe_k), rf = maxdiv(g->k / pk, 4);
    uint64_t sub = maxdiv(g->m, lim->subparts);
    uint64_t mr = g->m / sub, nr = g->n / (pn * lrf), kr = g->k / (pk * rf);
    uint64_t eb = elem_bytes ? elem_bytes : 1, brows = pn * lrf;
    /* K in shared memory: as much as fits with one row of A per sub-partition */
    uint64_t ks = kr;
    while (ks > 1 && (sub + brows) * pk * rf * ks * eb > smem_bytes)
        ks = maxdiv(kr, ks - 1);
    uint64_t row = pk * rf * ks * eb, rows = row ? smem_bytes / row : 0;
    uint64_t ms = rows > brows ? maxdiv(mr, (rows - brows) / sub) : 1;
    set3(out->lv[CS_LV_LRF].t, 1, lrf, 1);
    set3(out->lv[CS_LV_PE].s, 1, pn, pk);
    set3(out->lv[CS_LV_RF].t, 1, 1, rf);
    set3(out->lv[CS_LV_SUBPART].s, sub, 1, 1);
    set3(out->lv[CS_LV_SMEM].t, ms, 1, ks);
    memcpy(out->lv[CS_LV_SMEM].perm, "KMN", 4);
    set3(out->lv[CS_LV_DRAM].t, mr / ms, nr, kr / ks);
    memcpy(out->lv[CS_LV_DRAM].perm, "MNK", 4);
}

/* ---- output ------------------------------------------------------------------------------- */

void cs_nest_str(const cs_nest *n, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    const level_rule *R = rules_of(n->tmpl);
    for (int i = CS_NEST_LEVELS - 1; i >= 0 && len < cap; i--) {
        int r = tmpl_roles[n->tmpl][i];
        if (r < 0)
            continue;
        const cs_nest_level *l = &n->lv[r];
        char f[64];
        if (R[r].spatial) {
            factors_text(l->s, f, sizeof f);
            len += (size_t)snprintf(out + len, cap - len, "%s%s %s", len ? " " : "", R[r].short_name, f);
        } else if (l->t[0] * l->t[1] * l->t[2] > 1 || r == CS_LV_DRAM) {
            factors_text(l->t, f, sizeof f);
            bool perm = r == CS_LV_DRAM || r == CS_LV_SMEM;
            len += (size_t)snprintf(out + len, cap - len, "%s%s %s%s%s", len ? " " : "", R[r].short_name, f,
                                    perm ? ":" : "", perm ? l->perm : "");
        }
    }
}

void cs_nest_json(const cs_nest *n, cs_buf *out)
{
    cs_json j;
    cs_json_init(&j, out, 0);
    cs_json_obj_begin(&j);
    cs_json_kstr(&j, "template", tmpl_names[n->tmpl]);
    cs_json_kstr(&j, "origin", n->origin);
    if (n->source[0])
        cs_json_kstr(&j, "source", n->source);
    cs_json_key(&j, "levels");
    cs_json_arr_begin(&j);
    const level_rule *R = rules_of(n->tmpl);
    for (int i = CS_NEST_LEVELS - 1; i >= 0; i--) {
        int r = tmpl_roles[n->tmpl][i];
        if (r < 0)
            continue;
        char f[64], keep[4];
        cs_json_obj_begin(&j);
        cs_json_kstr(&j, "name", R[r].name);
        factors_text(n->lv[r].t, f, sizeof f);
        cs_json_kstr(&j, "temporal", f);
        cs_json_kstr(&j, "permutation", n->lv[r].perm);
        factors_text(n->lv[r].s, f, sizeof f);
        cs_json_kstr(&j, "spatial", f);
        keep_text(n->lv[r].keep, keep);
        cs_json_kstr(&j, "keep", keep);
        cs_json_obj_end(&j);
    }
    cs_json_arr_end(&j);
    cs_json_obj_end(&j);
}

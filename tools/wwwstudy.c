/* wwwstudy — the WWW study's Timeloop figures, their reproduction and the comparison. */
#include "wwwstudy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "afile.h"
#include "alloc.h"
#include "compat.h"
#include "placement.h"
#include "run.h"
#include "timeloop.h"
#include "vfs.h"

static const char REF[] = "tests/data/www-study.txt";

/* One line of the figures file into c; false (with a message) when malformed. */
static bool parse_line(cs_ws_config *c, char *line, const char *name, int ln, cs_err *err)
{
    char *tok[12];
    int n = 0;
    for (char *s = strtok(line, " \t"); s && n < 12; s = strtok(NULL, " \t"))
        tok[n++] = s;
    if (!n)
        return true;
#define NEED(k)                                                                                   \
    do {                                                                                          \
        if (n < (k))                                                                              \
            return cs_err_at(err, CS_FORMAT, name, ln, tok[0], "expected %d fields (got %d)", k, n), false; \
    } while (0)
    if (strcmp(tok[0], "keep") == 0) {
        NEED(2);
        if (c->nkeep == CS_WS_MAX_LINES)
            return cs_err_at(err, CS_FORMAT, name, ln, "keep", "too many lines"), false;
        snprintf(c->keep[c->nkeep].level, sizeof c->keep[0].level, "%s", tok[1]);
        c->keep[c->nkeep].ds[0] = '\0';
        for (int i = 2; i < n; i++)
            if (strcmp(tok[i], "-") != 0)
                strncat(c->keep[c->nkeep].ds, tok[i], 1);
        c->nkeep++;
    } else if (strcmp(tok[0], "loop") == 0) {
        NEED(7);
        if (c->nloop == CS_WS_MAX_LINES)
            return cs_err_at(err, CS_FORMAT, name, ln, "loop", "too many lines"), false;
        snprintf(c->loop[c->nloop].level, sizeof c->loop[0].level, "%s", tok[1]);
        c->loop[c->nloop].type = tok[2][0];
        for (int d = 0; d < 3; d++)
            c->loop[c->nloop].f[d] = strtoull(tok[3 + d], NULL, 10);
        snprintf(c->loop[c->nloop].perm, 4, "%s", tok[6]);
        c->nloop++;
    } else if (strcmp(tok[0], "count") == 0) {
        NEED(6);
        if (c->ncount == CS_WS_MAX_LINES)
            return cs_err_at(err, CS_FORMAT, name, ln, "count", "too many lines"), false;
        snprintf(c->count[c->ncount].level, sizeof c->count[0].level, "%s", tok[1]);
        c->count[c->ncount].ds = tok[2][0];
        c->count[c->ncount].r = strtoull(tok[3], NULL, 10);
        c->count[c->ncount].f = strtoull(tok[4], NULL, 10);
        c->count[c->ncount].u = strtoull(tok[5], NULL, 10);
        c->ncount++;
    } else if (strcmp(tok[0], "energy") == 0) {
        NEED(3);
        if (c->nenergy == CS_WS_MAX_LINES)
            return cs_err_at(err, CS_FORMAT, name, ln, "energy", "too many lines"), false;
        snprintf(c->energy[c->nenergy].level, sizeof c->energy[0].level, "%s", tok[1]);
        c->energy[c->nenergy].pj = strtod(tok[2], NULL);
        c->nenergy++;
    } else if (strcmp(tok[0], "cycles") == 0) {
        NEED(5);
        c->tl_cycles = strtoull(tok[1], NULL, 10);
        c->steps = strtoull(tok[2], NULL, 10);
        c->study_cycles = strtoull(tok[3], NULL, 10);
        c->memory_cycles = strtoull(tok[4], NULL, 10);
    } else if (strcmp(tok[0], "total") == 0) {
        NEED(2);
        c->total_pj = strtod(tok[1], NULL);
    } else if (strcmp(tok[0], "leak") != 0 && strcmp(tok[0], "end") != 0) {
        return cs_err_at(err, CS_FORMAT, name, ln, tok[0], "unknown line kind"), false;
    }
#undef NEED
    return true;
}

cs_status cs_ws_load(const char *path, cs_ws *out, cs_err *err)
{
    memset(out, 0, sizeof *out);
    char *text = NULL;
    size_t len = 0;
    const char *name = path ? path : REF;
    if (path) {
        cs_status st = cs_afile_read(path, &text, &len, err);
        if (st != CS_OK)
            return st;
    } else {
        const cs_vfs_file *f = cs_vfs_find(REF);
        if (!f)
            return cs_err_add(err, CS_NOT_FOUND, "%s: error: not embedded in this binary", REF);
        text = cs_strndup(f->data, f->len);
    }
    size_t cap = 0;
    int ln = 0;
    bool ok = true;
    for (char *line = text, *next; line && *line && ok; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        ln++;
        if (line[0] == '#' || !line[0])
            continue;
        if (strncmp(line, "config ", 7) == 0) {
            CS_GROW(out->c, cap, out->n + 1);
            cs_ws_config *c = &out->c[out->n++];
            memset(c, 0, sizeof *c);
            if (sscanf(line, "config %47s %11s %15s", c->name, c->design, c->prim) != 3) {
                cs_err_at(err, CS_FORMAT, name, ln, "config", "expected NAME DESIGN PRIMITIVE");
                ok = false;
            }
            continue;
        }
        if (!out->n) {
            cs_err_at(err, CS_FORMAT, name, ln, "config", "a figure before the first config line");
            ok = false;
            continue;
        }
        ok = parse_line(&out->c[out->n - 1], line, name, ln, err);
    }
    cs_free(text);
    if (!ok) {
        cs_ws_free(out);
        return CS_FORMAT;
    }
    return CS_OK;
}

void cs_ws_free(cs_ws *w)
{
    cs_free(w->c);
    memset(w, 0, sizeof *w);
}

const cs_ws_config *cs_ws_find(const cs_ws *w, const char *name)
{
    for (size_t i = 0; i < w->n; i++)
        if (strcmp(w->c[i].name, name) == 0)
            return &w->c[i];
    return NULL;
}

void cs_ws_yaml(const cs_ws_config *c, cs_buf *out)
{
    cs_buf_printf(out, "# the WWW study's %s mapping (tests/data/www-study.txt)\nmapping:\n", c->name);
    for (int i = 0; i < c->nkeep; i++) {
        cs_buf_printf(out, "  - target: %s\n    type: datatype\n    keep:\n", c->keep[i].level);
        if (!c->keep[i].ds[0])
            cs_buf_puts(out, "      []\n");
        for (const char *d = c->keep[i].ds; *d; d++)
            cs_buf_printf(out, "      - %c\n", *d);
        cs_buf_puts(out, "    bypass:\n");
        bool any = false;
        for (const char *d = "ABZ"; *d; d++)
            if (!strchr(c->keep[i].ds, *d)) {
                cs_buf_printf(out, "      - %c\n", *d);
                any = true;
            }
        if (!any)
            cs_buf_puts(out, "      []\n");
    }
    for (int i = 0; i < c->nloop; i++)
        cs_buf_printf(out, "  - target: %s\n    type: %s\n    factors: M%llu N%llu K%llu\n    permutation: %s\n",
                      c->loop[i].level, c->loop[i].type == 's' ? "spatial" : "temporal",
                      (unsigned long long)c->loop[i].f[0], (unsigned long long)c->loop[i].f[1],
                      (unsigned long long)c->loop[i].f[2], c->loop[i].perm);
}

cs_status cs_ws_reproduce(const cs_ws_config *c, const char *const *sets, int nsets, cs_ws_run *out, cs_err *err)
{
    memset(out, 0, sizeof *out);
    const char *all[64];
    int n = 0;
    for (const char *const *p = cs_compat_profile("www"); *p && n < 48; p++)
        all[n++] = *p;
    for (int i = 0; i < nsets && n < 64; i++)
        all[n++] = sets[i];
    cs_buf y;
    cs_buf_init(&y);
    cs_ws_yaml(c, &y);
    char name[96];
    snprintf(name, sizeof name, "%s.map.yaml", c->name);
    cs_nest_spec spec;
    cs_status st = cs_timeloop_parse(name, y.data, y.len, &spec, err);
    cs_buf_free(&y);
    if (st != CS_OK)
        return st;
    char cim[64];
    bool base = strcmp(c->design, "baseline") == 0;
    snprintf(cim, sizeof cim, "%s@%s", c->prim, c->design);
    return cs_ws_run_gemm("www-sm", all, n, base ? NULL : cim, strcmp(c->design, "rf") == 0 ? "1" : "4",
                          CS_CIM_MAP_TIMELOOP, &spec, &out->r, &out->latency_cycles, err);
}

cs_status cs_ws_run_gemm(const char *arch, const char *const *sets, int nsets, const char *cim, const char *macros,
                         int mode, const cs_nest_spec *spec, cs_result **out, double *latency_cycles, cs_err *err)
{
    cs_arch_doc *ad = NULL;
    cs_workload *wl = NULL;
    cs_energy_table *et = NULL;
    cs_placement pl;
    bool has_pl = false;
    *out = NULL;
    cs_status st = cs_arch_load(arch, sets, nsets, &ad, err);
    if (st == CS_OK)
        st = cs_workload_load("512,1024,1024", &wl, err);
    if (st == CS_OK)
        st = cs_energy_table_load(ad->arch.energy.table, &et, err);
    if (st == CS_OK && cim) {
        st = cs_placement_parse(&ad->arch, cim, macros, &pl, err);
        has_pl = st == CS_OK;
        if (has_pl && latency_cycles)
            *latency_cycles = (double)pl.prim.latency_ps * cs_arch_clock_hz(&ad->arch) * 1e-12;
    }
    if (st == CS_OK) {
        cs_run_opts o;
        cs_run_opts_init(&o);
        o.command = "cimsim validate";
        o.cim = has_pl ? &pl : NULL;
        o.cim_req.mode = mode;
        o.cim_req.spec = spec;
        st = cs_run(ad, wl, et, &o, out, err);
    }
    if (has_pl)
        cs_placement_free(&pl);
    cs_energy_table_destroy(et);
    cs_workload_destroy(wl);
    cs_arch_doc_destroy(ad);
    return st;
}

double cs_ws_analytical_cycles(const cs_ws_config *c, double latency_cycles)
{
    if (strcmp(c->design, "baseline") == 0)
        return (double)c->tl_cycles;
    double compute = (double)c->steps * latency_cycles;
    return compute > (double)c->memory_cycles ? compute : (double)c->memory_cycles;
}

/* cimsim's access level of a Timeloop level, or -1 when it has none. */
static int access_level(const char *tl)
{
    static const struct {
        const char *tl;
        int acc;
    } map[] = {{"DRAM", CS_ACC_DRAM}, {"SMEM", CS_ACC_SMEM}, {"RF", CS_ACC_RF}, {"LRF", CS_ACC_OPREG},
               {"CiMStorage", CS_ACC_CIM}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(map[i].tl, tl) == 0)
            return map[i].acc;
    return -1;
}

size_t cs_ws_counts(const cs_ws_config *c, const cs_gemm_result *g, cs_ws_row *rows, size_t cap)
{
    static const char *const kinds[3] = {"read", "fill", "update"};
    static const int acc_kind[3] = {CS_ACC_READ, CS_ACC_FILL, CS_ACC_UPDATE};
    size_t n = 0;
    for (int i = 0; i < c->ncount; i++) {
        int l = access_level(c->count[i].level);
        if (l < 0)
            continue;
        int ds = c->count[i].ds == 'A' ? CS_ACC_A : c->count[i].ds == 'B' ? CS_ACC_B : CS_ACC_Z;
        const uint64_t study[3] = {c->count[i].r, c->count[i].f, c->count[i].u};
        for (int k = 0; k < 3 && n < cap; k++) {
            uint64_t sim = g->tot.access[l][ds][acc_kind[k]];
            if (!sim && !study[k])
                continue;
            rows[n] = (cs_ws_row){.ds = c->count[i].ds, .kind = kinds[k], .cimsim = sim, .study = study[k]};
            snprintf(rows[n].level, sizeof rows[n].level, "%s", c->count[i].level);
            n++;
        }
    }
    return n;
}

static double item_pj(const cs_energy_report *e, const char *cls, const char *action)
{
    double pj = 0;
    for (size_t i = 0; i < e->nitems; i++)
        if (strcmp(e->items[i].cls, cls) == 0 && (!action || strcmp(e->items[i].action, action) == 0))
            pj += e->items[i].pj;
    return pj;
}

size_t cs_ws_energies(const cs_ws_config *c, const cs_gemm_result *g, cs_ws_energy *rows, size_t cap)
{
    const cs_energy_report *e = &g->energy;
    size_t n = 0;
    for (int i = 0; i < c->nenergy && n < cap; i++) {
        const char *lv = c->energy[i].level;
        double sim;
        if (strcmp(lv, "DRAM") == 0)
            sim = e->breakdown_pj[CS_EB_DRAM];
        else if (strcmp(lv, "SMEM") == 0)
            sim = e->breakdown_pj[CS_EB_SMEM];
        else if (strcmp(lv, "RF") == 0)
            sim = e->breakdown_pj[CS_EB_RF];
        else if (strcmp(lv, "LRF") == 0)
            sim = item_pj(e, "opreg", NULL);
        else if (strcmp(lv, "mac") == 0)
            sim = item_pj(e, "tensor_core", "mac_int8");
        else if (strcmp(lv, "CiMUnit") == 0)
            sim = e->breakdown_pj[CS_EB_CIM_MAC];
        else if (strcmp(lv, "CiMStorage") == 0)
            sim = e->breakdown_pj[CS_EB_CIM_WRITE];
        else
            continue; /* the macro's input and output buffers: zero energy, inside cimsim's macro */
        rows[n] = (cs_ws_energy){.cimsim_pj = sim, .study_pj = c->energy[i].pj};
        snprintf(rows[n].level, sizeof rows[n].level, "%s", lv);
        n++;
    }
    return n;
}

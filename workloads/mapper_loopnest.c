/* mapper_loopnest — the loop-nest executor: schedule (steps, weight residencies, shared-memory
 * tile epochs) per controller, then op streams built one CTA at a time from it.
 *
 * The schedule of a controller is computed once per execution (a few bytes per step): a step is
 * one point of the temporal loops above the bank (or the PE array's register file) with the
 * innermost run of M loops folded into its rows; a residency is a run of steps with the same
 * bank tile (the macros hold it); an epoch is a run of steps with the same shared-memory tiles.
 * Ops then follow the schedule: CiM streams use two warps (warp 0 drives the macros, warp 1
 * moves tiles); PE-array streams use one warp per sub-partition and one for the tiles.
 */
#include "mapper_loopnest.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "check.h"
#include "mapper_cim.h"

static uint64_t cdiv(uint64_t a, uint64_t b) { return b ? (a + b - 1) / b : 0; }
static uint64_t min64(uint64_t a, uint64_t b) { return a < b ? a : b; }

enum { MAX_LOOPS = 2 * CS_NEST_DIMS, MAX_ROWS = 65535, CTA_OPS = 2048, MEM_WARP_CIM = 1, MEM_WARP_PE = 4,
       CHUNK_BYTES = 2048 };

/* A step's rows go to the macros in chunks of about CHUNK_BYTES of inputs per macro, so that
 * the next chunk's inputs are read while the macro computes the current one (a macro takes its
 * input rows as a stream, not all before it starts). */
static uint32_t chunk_rows(uint32_t kn, uint32_t eb)
{
    uint32_t r = CHUNK_BYTES / (kn && eb ? kn * eb : 1);
    return r ? r : 1;
}
/* Epoch (and PE step) flags. F_Z_LAST marks the entry into a Z tile's last residency; F_Z_FINAL
 * the drain that leaves it for good (its outputs are complete). */
enum { F_A_LOAD = 1, F_Z_NEW = 2, F_Z_FILL = 4, F_Z_DRAIN = 8, F_Z_FINAL = 16, F_B_LOAD = 32, F_Z_LAST = 64 };

static bool is_pe(const cs_nest *n) { return n->tmpl == CS_NEST_PE; }

/* ---- the walk over the loops above the bank ----------------------------------------------- */

typedef struct loop {
    int dim;
    uint64_t f, span;
    bool dram;        /* a DRAM loop (else the shared-memory level's) */
} loop;

typedef struct walk {
    loop l[MAX_LOOPS];
    int n;            /* odometer loops, outermost first */
    uint64_t run;     /* rows folded into a step (the innermost M loops of the level above) */
    uint64_t base[CS_NEST_DIMS]; /* a step's extent: rows 1 (PE: the sub-partitions), N, K */
    uint64_t tile[CS_NEST_DIMS]; /* extent of one shared-memory tile (the level above's span) */
} walk;

/* The level just above the bank / register file: SMEM when the template has it, else DRAM. */
static void walk_build(const cs_nest_plan *p, walk *w)
{
    const cs_nest *n = &p->nest;
    memset(w, 0, sizeof *w);
    loop all[MAX_LOOPS];
    int na = 0;
    for (int lvl = 0; lvl < 2; lvl++) {
        int role = lvl == 0 ? CS_LV_DRAM : CS_LV_SMEM;
        if (!cs_nest_has_level(n->tmpl, role))
            continue;
        const cs_nest_level *L = &n->lv[role];
        for (int i = 2; i >= 0; i--) { /* permutation: innermost first */
            int d = L->perm[i] == 'M' ? CS_NEST_M : L->perm[i] == 'N' ? CS_NEST_N : CS_NEST_K;
            if (L->t[d] > 1)
                all[na++] = (loop){.dim = d, .f = L->t[d], .dram = role == CS_LV_DRAM};
        }
    }
    if (is_pe(n)) {
        w->base[CS_NEST_M] = n->lv[CS_LV_SUBPART].s[CS_NEST_M];
        w->base[CS_NEST_N] = cs_nest_span(n, CS_NEST_N, CS_LV_LRF, CS_LV_SUBPART);
        w->base[CS_NEST_K] = cs_nest_span(n, CS_NEST_K, CS_LV_LRF, CS_LV_SUBPART);
    } else {
        w->base[CS_NEST_M] = 1;
        w->base[CS_NEST_N] = cs_nest_span(n, CS_NEST_N, CS_LV_STORAGE, CS_LV_BANK);
        w->base[CS_NEST_K] = cs_nest_span(n, CS_NEST_K, CS_LV_STORAGE, CS_LV_BANK);
    }
    /* fold the innermost M loops of the level above into a step's rows (CiM only: the PE
     * array's register file holds one row's outputs) */
    bool above_is_dram = !cs_nest_has_level(n->tmpl, CS_LV_SMEM);
    w->run = 1;
    while (!is_pe(n) && na > 0 && all[na - 1].dim == CS_NEST_M && all[na - 1].dram == above_is_dram &&
           w->run * all[na - 1].f <= MAX_ROWS) {
        w->run *= all[na - 1].f;
        na--;
    }
    uint64_t cur[CS_NEST_DIMS] = {w->base[0] * w->run, w->base[1], w->base[2]};
    for (int i = 0; i < CS_NEST_DIMS; i++)
        w->tile[i] = cur[i];
    for (int i = na - 1; i >= 0; i--) {
        all[i].span = cur[all[i].dim];
        cur[all[i].dim] *= all[i].f;
        if (!all[i].dram)
            w->tile[all[i].dim] = cur[all[i].dim];
    }
    memcpy(w->l, all, sizeof(loop) * (size_t)na);
    w->n = na;
}

/* ---- a controller's share ----------------------------------------------------------------- */

typedef struct share {
    uint64_t m0, mc, n0, nc, k0, kc;
} share;

static bool controller_share(const cs_nest_plan *p, const cs_gemm *g, uint32_t c, share *s)
{
    uint32_t used = p->grid_n * p->grid_k * p->grid_m;
    if (c >= used)
        return false;
    uint32_t gn = c % p->grid_n, gk = (c / p->grid_n) % p->grid_k, gm = c / (p->grid_n * p->grid_k);
    s->n0 = gn * p->nc;
    s->k0 = gk * p->kc;
    s->m0 = gm * p->mc;
    if (s->n0 >= g->n || s->k0 >= g->k || s->m0 >= g->m)
        return false;
    s->nc = min64(p->nc, g->n - s->n0);
    s->kc = min64(p->kc, g->k - s->k0);
    s->mc = min64(p->mc, g->m - s->m0);
    return true;
}

/* ---- the schedule of one controller ------------------------------------------------------- */

typedef struct step {
    uint32_t m0, n0, k0;   /* global origins of the step's rows and bank tile */
    uint32_t rows, nn, kn; /* clipped extents */
    uint32_t res, ep;      /* residency, epoch */
    uint8_t first;         /* the first contribution to these outputs (every K index at 0) */
    uint8_t flags;         /* PE: F_Z_* for the register-file tile after/before this step */
} step;

typedef struct res {
    uint32_t n0, k0, nn, kn;
    uint32_t uses, first_step;
    uint32_t in_set;       /* its place among the residencies of its macro set */
} res;

typedef struct epoch {
    uint32_t s0, ns;
    uint32_t a_m0, a_k0, a_rows, a_kn;  /* A tile (PE: also the B tile's K) */
    uint32_t z_m0, z_n0, z_rows, z_nn;  /* CiM: Z tile; PE: B tile (n0, nn) */
    uint8_t flags, a_buf, z_buf;
} epoch;

typedef struct sched {
    share s;
    step *st;
    size_t nst, cap_st;
    res *r;
    size_t nr, cap_r;
    epoch *e;
    size_t ne, cap_e;
} sched;

static void sched_free(sched *c)
{
    cs_free(c->st);
    cs_free(c->r);
    cs_free(c->e);
    memset(c, 0, sizeof *c);
}

/* Index of a tile in a registry of tiles of extent (tm, tn) over the share. */
static size_t tile_key(const share *s, const walk *w, uint64_t m0, uint64_t n0, int ndim)
{
    uint64_t tiles_n = cdiv(ndim == CS_NEST_N ? s->nc : s->kc, w->tile[ndim]);
    return (size_t)(((m0 - s->m0) / w->tile[CS_NEST_M]) * tiles_n + (n0 - (ndim == CS_NEST_N ? s->n0 : s->k0)) / w->tile[ndim]);
}

/* The Z tile entered at epoch `from` leaves after epoch `at`: a drain, final if that was its
 * last residency. */
static void drain_mark(sched *c, size_t from, size_t at)
{
    c->e[at].flags |= F_Z_DRAIN;
    if (c->e[from].flags & F_Z_LAST)
        c->e[at].flags |= F_Z_FINAL;
}

/* The epoch where the last Z residency began. */
static size_t zstart_final(const sched *c)
{
    size_t i = c->ne - 1;
    while (i > 0 && !(c->e[i].flags & F_Z_NEW))
        i--;
    return i;
}

/* Walks the loops once for the share and records steps, residencies and epochs. */
static void sched_build(const cs_nest_plan *p, const walk *w, const share *s, uint32_t eb, sched *c)
{
    const cs_nest *n = &p->nest;
    bool pe = is_pe(n);
    bool keep_a = n->lv[CS_LV_SMEM].keep & (1u << CS_NEST_A) && cs_nest_has_level(n->tmpl, CS_LV_SMEM);
    bool keep_z = !pe && (n->lv[CS_LV_SMEM].keep & (1u << CS_NEST_Z)) && cs_nest_has_level(n->tmpl, CS_LV_SMEM);
    bool keep_b = pe;
    c->s = *s;
    /* registry of output tiles: visits (for refills) and the last epoch (PE: step) of each */
    size_t nz = (size_t)(cdiv(s->mc, w->tile[CS_NEST_M]) * cdiv(s->nc, w->tile[CS_NEST_N]));
    uint64_t zrow = w->tile[CS_NEST_M];
    walk wz = *w;
    if (pe) { /* the register file's tile: one row of a sub-partition by the step's N */
        zrow = w->base[CS_NEST_M];
        wz.tile[CS_NEST_M] = zrow;
        wz.tile[CS_NEST_N] = w->base[CS_NEST_N];
        nz = (size_t)(cdiv(s->mc, zrow) * cdiv(s->nc, w->base[CS_NEST_N]));
    }
    uint32_t *last = cs_calloc(nz ? nz : 1, sizeof *last);
    uint8_t *seen = cs_calloc(nz ? nz : 1, 1);
    uint64_t idx[MAX_LOOPS] = {0};
    for (int pass = 0; pass < 2; pass++) {
        memset(idx, 0, sizeof idx);
        c->nst = c->nr = c->ne = 0;
        uint64_t pa_m = UINT64_MAX, pa_k = UINT64_MAX, pz_m = UINT64_MAX, pz_n = UINT64_MAX, pb_n = UINT64_MAX;
        uint64_t pr_n = UINT64_MAX, pr_k = UINT64_MAX;
        uint8_t abuf = 1, zbuf = 1;
        size_t zstart = 0;
        for (bool more = true; more;) {
            uint64_t o[CS_NEST_DIMS] = {0, 0, 0}, t0[CS_NEST_DIMS] = {0, 0, 0};
            bool first = true;
            for (int i = 0; i < w->n; i++) {
                o[w->l[i].dim] += idx[i] * w->l[i].span;
                if (w->l[i].dram)
                    t0[w->l[i].dim] += idx[i] * w->l[i].span;
                if (w->l[i].dim == CS_NEST_K && idx[i])
                    first = false;
            }
            /* next point */
            more = false;
            for (int i = w->n - 1; i >= 0; i--)
                if (++idx[i] < w->l[i].f) {
                    more = true;
                    break;
                } else {
                    idx[i] = 0;
                }
            uint64_t m0 = s->m0 + o[CS_NEST_M], n0 = s->n0 + o[CS_NEST_N], k0 = s->k0 + o[CS_NEST_K];
            if (o[CS_NEST_M] >= s->mc || o[CS_NEST_N] >= s->nc || o[CS_NEST_K] >= s->kc)
                continue;
            uint64_t rows = min64(w->run * w->base[CS_NEST_M], s->mc - o[CS_NEST_M]);
            uint64_t nn = min64(w->base[CS_NEST_N], s->nc - o[CS_NEST_N]);
            uint64_t kn = min64(w->base[CS_NEST_K], s->kc - o[CS_NEST_K]);
            uint64_t tm = s->m0 + t0[CS_NEST_M], tn = s->n0 + t0[CS_NEST_N], tk = s->k0 + t0[CS_NEST_K];
            /* epoch: shared-memory tiles */
            bool a_new = keep_a && (tm != pa_m || tk != pa_k);
            bool b_new = keep_b && (tn != pb_n || tk != pa_k);
            bool z_new = keep_z && (tm != pz_m || tn != pz_n);
            if (!c->ne || a_new || b_new || z_new) {
                CS_GROW(c->e, c->cap_e, c->ne + 1);
                epoch *e = &c->e[c->ne++];
                memset(e, 0, sizeof *e);
                e->s0 = (uint32_t)c->nst;
                e->a_m0 = (uint32_t)tm;
                e->a_k0 = (uint32_t)tk;
                e->a_rows = (uint32_t)min64(w->tile[CS_NEST_M], s->m0 + s->mc - tm);
                e->a_kn = (uint32_t)min64(w->tile[CS_NEST_K], s->k0 + s->kc - tk);
                e->z_m0 = (uint32_t)tm;
                e->z_n0 = (uint32_t)tn;
                e->z_rows = e->a_rows;
                e->z_nn = (uint32_t)min64(w->tile[CS_NEST_N], s->n0 + s->nc - tn);
                if (a_new) {
                    e->flags |= F_A_LOAD;
                    abuf ^= 1;
                }
                if (b_new) { /* the PE array's B tile takes the buffer index Z has in CiM */
                    e->flags |= F_B_LOAD;
                    zbuf ^= 1;
                }
                if (z_new) {
                    e->flags |= F_Z_NEW;
                    zbuf ^= 1;
                    size_t key = tile_key(s, w, tm, tn, CS_NEST_N);
                    if (seen[key])
                        e->flags |= F_Z_FILL;
                    seen[key] = 1;
                    if (pass == 0)
                        last[key] = (uint32_t)c->ne - 1;
                    else if (last[key] == c->ne - 1)
                        e->flags |= F_Z_LAST;
                    if (c->ne > 1)
                        drain_mark(c, zstart, c->ne - 2);
                    zstart = c->ne - 1;
                }
                e->a_buf = abuf;
                e->z_buf = zbuf;
                pa_m = tm, pa_k = tk, pb_n = tn;
                if (z_new)
                    pz_m = tm, pz_n = tn;
            }
            /* residency: the bank tile */
            if (!pe && (n0 != pr_n || k0 != pr_k || !c->nr)) {
                CS_GROW(c->r, c->cap_r, c->nr + 1);
                res *r = &c->r[c->nr++];
                *r = (res){.n0 = (uint32_t)n0, .k0 = (uint32_t)k0, .nn = (uint32_t)nn, .kn = (uint32_t)kn,
                           .first_step = (uint32_t)c->nst};
                r->in_set = p->db_weights ? (uint32_t)(c->nr - 1) / 2 : (uint32_t)c->nr - 1;
                pr_n = n0, pr_k = k0;
            }
            CS_GROW(c->st, c->cap_st, c->nst + 1);
            step *sp = &c->st[c->nst++];
            *sp = (step){.m0 = (uint32_t)m0, .n0 = (uint32_t)n0, .k0 = (uint32_t)k0, .rows = (uint32_t)rows,
                         .nn = (uint32_t)nn, .kn = (uint32_t)kn, .res = pe ? 0 : (uint32_t)c->nr - 1,
                         .ep = (uint32_t)c->ne - 1, .first = first};
            c->e[c->ne - 1].ns++;
            if (!pe) /* one MAC per chunk of rows per macro (the bank's K positions clip alike) */
                c->r[c->nr - 1].uses += (uint32_t)cdiv(rows, chunk_rows((uint32_t)min64(kn, p->tk), eb));
            if (pe) { /* the register-file tile (row block, N block) of this step */
                size_t key = tile_key(s, &wz, m0, n0, CS_NEST_N);
                bool fresh = c->nst == 1 || c->st[c->nst - 2].m0 != m0 || c->st[c->nst - 2].n0 != n0;
                if (fresh) {
                    sp->flags |= F_Z_NEW;
                    if (seen[key])
                        sp->flags |= F_Z_FILL;
                    seen[key] = 1;
                    if (c->nst > 1)
                        c->st[c->nst - 2].flags |= F_Z_DRAIN;
                }
                if (pass == 0)
                    last[key] = (uint32_t)c->nst - 1;
            }
        }
        if (pass == 1)
            break;
        /* the second pass marks the final visits; it needs the last visit of every tile */
        memset(seen, 0, nz ? nz : 1);
    }
    if (c->ne && keep_z)
        drain_mark(c, zstart_final(c), c->ne - 1);
    if (pe && c->nst) {
        c->st[c->nst - 1].flags |= F_Z_DRAIN;
        for (size_t i = 0; i < c->nst; i++) { /* final: the drain after the tile's last step */
            step *sp = &c->st[i];
            if (sp->flags & F_Z_DRAIN) {
                size_t key = tile_key(s, &wz, sp->m0, sp->n0, CS_NEST_N);
                if (last[key] == i)
                    sp->flags |= F_Z_FINAL;
            }
        }
    }
    cs_free(last);
    cs_free(seen);
}

/* ---- planning ----------------------------------------------------------------------------- */

/* Traffic the schedule implies (bytes) and its step count, added to p. */
static void sched_account(cs_nest_plan *p, const cs_nest_hw *hw, const sched *c, uint32_t eb)
{
    bool pe = is_pe(&p->nest);
    const cs_nest *n = &p->nest;
    bool keep_a = cs_nest_has_level(n->tmpl, CS_LV_SMEM) && (n->lv[CS_LV_SMEM].keep & (1u << CS_NEST_A));
    bool keep_z = !pe && cs_nest_has_level(n->tmpl, CS_LV_SMEM) && (n->lv[CS_LV_SMEM].keep & (1u << CS_NEST_Z));
    p->steps += c->nst;
    p->residencies += c->nr;
    p->epochs += c->ne;
    for (size_t i = 0; i < c->ne; i++) {
        const epoch *e = &c->e[i];
        if (e->flags & F_A_LOAD)
            p->dram_read[CS_NEST_A] += (uint64_t)e->a_rows * e->a_kn * eb;
        if (e->flags & F_B_LOAD)
            p->dram_read[CS_NEST_B] += (uint64_t)e->z_nn * e->a_kn * eb;
        if (e->flags & F_Z_FILL)
            p->dram_read[CS_NEST_Z] += (uint64_t)e->z_rows * e->z_nn * hw->psum_bytes;
        if (e->flags & F_Z_DRAIN)
            p->dram_write[CS_NEST_Z] += (uint64_t)e->z_rows * e->z_nn *
                                        ((e->flags & F_Z_FINAL) && p->grid_k == 1 ? eb : hw->psum_bytes);
    }
    for (size_t i = 0; i < c->nr; i++)
        p->dram_read[CS_NEST_B] += (uint64_t)c->r[i].nn * c->r[i].kn * eb;
    for (size_t i = 0; i < c->nst; i++) {
        const step *s = &c->st[i];
        if (pe) {
            uint64_t zb = (uint64_t)s->rows * s->nn;
            if (s->flags & F_Z_FILL)
                p->dram_read[CS_NEST_Z] += zb * hw->psum_bytes;
            if (s->flags & F_Z_DRAIN)
                p->dram_write[CS_NEST_Z] += zb * ((s->flags & F_Z_FINAL) && p->grid_k == 1 ? eb : hw->psum_bytes);
            continue;
        }
        if (!keep_a) /* inputs straight from DRAM, once per K slice of the bank (broadcast over N) */
            p->dram_read[CS_NEST_A] += (uint64_t)s->rows * s->kn * eb;
        if (!keep_z) { /* partial sums straight to DRAM: written, and read back after the first */
            uint64_t groups = hw->adder_tree ? 1 : cdiv(s->kn, p->tk);
            uint64_t bytes = (uint64_t)s->rows * s->nn * hw->psum_bytes;
            p->dram_write[CS_NEST_Z] += bytes * groups;
            p->dram_read[CS_NEST_Z] += bytes * (groups - (s->first && p->grid_k == 1 ? 1 : 0));
        }
    }
}

cs_status cs_nest_plan_make(const cs_nest_hw *hw, const cs_nest *n, const cs_gemm *g, int dtype, uint32_t grid_n,
                            uint32_t grid_k, uint32_t grid_m, bool all, cs_nest_plan *out, cs_err *err)
{
    cs_nest_plan p;
    memset(&p, 0, sizeof p);
    p.nest = *n;
    p.grid_n = grid_n ? grid_n : 1;
    p.grid_k = grid_k ? grid_k : 1;
    p.grid_m = grid_m ? grid_m : 1;
    if ((uint64_t)p.grid_n * p.grid_k * p.grid_m > hw->controllers)
        return cs_err_add(err, CS_INVALID, "mapper: error: grid %ux%ux%u needs more than the %u controllers", p.grid_n,
                          p.grid_k, p.grid_m, hw->controllers);
    p.mc = cs_nest_span(n, CS_NEST_M, 0, CS_NEST_LEVELS - 1);
    p.nc = cs_nest_span(n, CS_NEST_N, 0, CS_NEST_LEVELS - 1);
    p.kc = cs_nest_span(n, CS_NEST_K, 0, CS_NEST_LEVELS - 1);
    uint32_t eb = (uint32_t)cs_dtype_bytes(dtype);
    bool pe = is_pe(n);
    if (!pe) {
        p.tk = (uint32_t)(n->lv[CS_LV_ARRAY].s[CS_NEST_K] * n->lv[CS_LV_STORAGE].t[CS_NEST_K]);
        p.tn = (uint32_t)(n->lv[CS_LV_ARRAY].s[CS_NEST_N] * n->lv[CS_LV_STORAGE].t[CS_NEST_N]);
        p.bn = (uint32_t)n->lv[CS_LV_BANK].s[CS_NEST_N];
        p.bk = (uint32_t)n->lv[CS_LV_BANK].s[CS_NEST_K];
        if ((uint64_t)p.bn * p.bk > hw->macros)
            return cs_err_add(err, CS_INVALID, "mapper: error: the bank spreads over %u x %u macros; a controller has %u",
                              p.bn, p.bk, hw->macros);
        p.db_weights = (uint64_t)2 * p.bn * p.bk <= hw->macros;
    }
    walk w;
    walk_build(&p, &w);
    p.rows = (uint32_t)(w.run * w.base[CS_NEST_M]);
    bool has_smem = cs_nest_has_level(n->tmpl, CS_LV_SMEM);
    uint8_t keep = has_smem ? n->lv[CS_LV_SMEM].keep : 0;
    if (keep & (1u << CS_NEST_A))
        p.tile_bytes[CS_NEST_A] = w.tile[CS_NEST_M] * w.tile[CS_NEST_K] * eb;
    if (pe)
        p.tile_bytes[CS_NEST_B] = w.tile[CS_NEST_N] * w.tile[CS_NEST_K] * eb;
    if (!pe && (keep & (1u << CS_NEST_Z)))
        p.tile_bytes[CS_NEST_Z] = w.tile[CS_NEST_M] * w.tile[CS_NEST_N] * hw->psum_bytes;
    uint64_t one = p.tile_bytes[0] + p.tile_bytes[1] + p.tile_bytes[2];
    if (one > hw->smem_bytes)
        return cs_err_add(err, CS_INVALID,
                          "mapper: error: the mapping's shared-memory tiles (A %llu B, B %llu B, Z %llu B) exceed the "
                          "%llu B a CTA may use",
                          (unsigned long long)p.tile_bytes[0], (unsigned long long)p.tile_bytes[1],
                          (unsigned long long)p.tile_bytes[2], (unsigned long long)hw->smem_bytes);
    /* double buffering, as much as fits: the inputs first (loaded most often), then Z */
    p.smem_bytes = one;
    if (pe) {
        if (2 * one <= hw->smem_bytes)
            p.db[CS_NEST_A] = p.db[CS_NEST_B] = true, p.smem_bytes = 2 * one;
    } else {
        for (int d = 0; d < CS_NEST_DS; d += 2)
            if (p.tile_bytes[d] && p.smem_bytes + p.tile_bytes[d] <= hw->smem_bytes) {
                p.db[d] = true;
                p.smem_bytes += p.tile_bytes[d];
            }
    }
    /* walk every controller's share: the traffic the nest implies */
    uint32_t used = p.grid_n * p.grid_k * p.grid_m;
    double steps0 = 0;
    for (uint32_t c = 0; c < (all ? used : 1); c++) {
        share s;
        if (!controller_share(&p, g, c, &s))
            continue;
        sched sc = {0};
        sched_build(&p, &w, &s, eb, &sc);
        sched_account(&p, hw, &sc, eb);
        if (c == 0)
            steps0 = (double)sc.nst;
        sched_free(&sc);
    }
    if (!p.steps)
        return cs_err_add(err, CS_INVALID, "mapper: error: the grid %ux%ux%u leaves no work", p.grid_n, p.grid_k, p.grid_m);
    /* estimate (ranks grids only): controller 0's compute against the DRAM traffic */
    double compute, writes = 0;
    if (!pe && !p.db_weights && hw->write_bytes_per_cycle > 0) /* weight writes between residencies */
        writes = (double)p.residencies / (all ? used : 1) * (double)p.tk * p.tn / hw->write_bytes_per_cycle;
    if (pe) { /* the PE array, or the shared memory that feeds it B (and A per sub-partition) */
        compute = steps0 * (double)(w.base[CS_NEST_N] * w.base[CS_NEST_K]) / (double)(hw->pe_n * hw->pe_k);
        double feed = steps0 * (double)((w.base[CS_NEST_N] + w.base[CS_NEST_M]) * w.base[CS_NEST_K] * eb);
        if (hw->smem_bytes_per_cycle > 0 && feed / hw->smem_bytes_per_cycle > compute)
            compute = feed / hw->smem_bytes_per_cycle;
    } else
        compute = steps0 * (double)p.rows * (double)cdiv(p.tk, hw->rp) * (double)cdiv(p.tn, hw->cp) * hw->latency_cycles;
    double bytes = 0;
    for (int d = 0; d < CS_NEST_DS; d++)
        bytes += (double)(p.dram_read[d] + p.dram_write[d]);
    if (!all) /* controller 0's traffic stands for every controller's */
        bytes *= used;
    double dram = hw->dram_bytes_per_cycle > 0 ? bytes / hw->dram_bytes_per_cycle : 0;
    compute += writes;
    p.est_cycles = (compute > dram ? compute : dram) + hw->latency_fill_cycles;
    *out = p;
    return CS_OK;
}

uint64_t cs_nest_plan_macros_used(const cs_nest_plan *p)
{
    if (is_pe(&p->nest))
        return 0;
    return (uint64_t)p->bn * p->bk * (p->db_weights && p->residencies > 1 ? 2 : 1) * p->grid_n * p->grid_k *
           p->grid_m;
}

/* ---- op generation ------------------------------------------------------------------------ */

typedef struct stream {
    sched sc;
    uint64_t cta;
    size_t next;       /* next step to emit */
    cs_op *ops;
    size_t n, cap, pos;
    bool done;
    uint32_t *writes;  /* CiM: writes emitted into each macro */
    uint8_t *written;  /* CiM: residency writes emitted */
} stream;

typedef struct gen {
    cs_opsrc base;
    cs_nest_hw hw;
    cs_nest_plan p;
    cs_gemm g;
    cs_gemm_layout lay;
    uint64_t repeat;
    uint32_t eb, nsm;
    walk w;
    stream *st;
    uint32_t tag;      /* copy group of the CTA being built */
    uint32_t ep_tag;   /* the group of the epoch whose loads are being emitted */
} gen;

static void emit(stream *s, const cs_op *op)
{
    CS_GROW(s->ops, s->cap, s->n + 1);
    s->ops[s->n++] = *op;
}

static cs_op op0(int kind, uint32_t warp)
{
    return (cs_op){.kind = (uint8_t)kind, .warp = (uint16_t)warp}; /* every other field 0 */
}

static void emit_bar(stream *s, uint32_t warps)
{
    for (uint32_t w = 0; w < warps; w++)
        emit(s, &(cs_op){.kind = CS_OP_BAR, .warp = (uint16_t)w});
}

/* Shared-memory layout of a CTA: [A buffers][B buffers][Z buffers]. */
static uint32_t buf_addr(const gen *x, int ds, uint32_t buf)
{
    uint64_t a = 0;
    for (int d = 0; d < ds; d++)
        a += x->p.tile_bytes[d] * (x->p.db[d] ? 2 : 1);
    return (uint32_t)(a + (x->p.db[ds] ? buf : 0) * x->p.tile_bytes[ds]);
}

static uint32_t zbytes(const gen *x) { return x->hw.psum_bytes; }

/* Global address of Z at (m, n) with elements of e bytes. */
static uint64_t z_addr(const gen *x, uint64_t m, uint64_t n, uint64_t e)
{
    return x->lay.c + (m * x->g.n + n) * e;
}

/* The loads of epoch e: prefetch = only the double-buffered tiles, else only the others
 * (both: every load). Each copy joins the CTA's group for e. */
enum { LOAD_DB = 1, LOAD_OTHER = 2, LOAD_ALL = 3 };

/* One tile load: rows of row_bytes from global src (pitch `pitch`) into shared memory at local. */
static void emit_copy(gen *x, stream *s, uint32_t warp, uint64_t src, uint32_t local, uint32_t rows,
                      uint64_t row_bytes, uint64_t pitch)
{
    cs_op o = op0(CS_OP_CP_ASYNC, warp);
    o.addr = src;
    o.local = local;
    o.rows = rows;
    o.row_bytes = (uint32_t)row_bytes;
    o.stride = (uint32_t)pitch;
    o.tag = x->ep_tag;
    emit(s, &o);
}

static bool emit_loads(gen *x, stream *s, const epoch *e, int which, uint32_t warp)
{
    bool any = false;
    uint64_t eb = x->eb, zb = zbytes(x);
    int sel_a = x->p.db[CS_NEST_A] ? LOAD_DB : LOAD_OTHER, sel_z = x->p.db[CS_NEST_Z] ? LOAD_DB : LOAD_OTHER;
    int sel_b = x->p.db[CS_NEST_B] ? LOAD_DB : LOAD_OTHER;
    if ((e->flags & F_A_LOAD) && (which & sel_a)) {
        emit_copy(x, s, warp, x->lay.a + ((uint64_t)e->a_m0 * x->g.k + e->a_k0) * eb, buf_addr(x, CS_NEST_A, e->a_buf),
                  e->a_rows, e->a_kn * eb, x->g.k * eb);
        any = true;
    }
    if ((e->flags & F_B_LOAD) && (which & sel_b)) {
        emit_copy(x, s, warp, x->lay.b + ((uint64_t)e->z_n0 * x->g.k + e->a_k0) * eb, buf_addr(x, CS_NEST_B, e->z_buf),
                  e->z_nn, e->a_kn * eb, x->g.k * eb);
        any = true;
    }
    if ((e->flags & F_Z_FILL) && (which & sel_z)) {
        emit_copy(x, s, warp, z_addr(x, e->z_m0, e->z_n0, zb), buf_addr(x, CS_NEST_Z, e->z_buf), e->z_rows,
                  e->z_nn * zb, x->g.n * zb);
        any = true;
    }
    return any;
}

/* The drain of epoch e's Z tile: outputs when final (or partial sums to reduce when K is split
 * over controllers), partial sums otherwise; data read from shared memory. */
static void emit_drain(gen *x, stream *s, const epoch *e, uint32_t warp)
{
    bool final = e->flags & F_Z_FINAL;
    bool red = x->p.grid_k > 1;
    uint64_t el = final && !red ? x->lay.c_elem_bytes : zbytes(x);
    cs_op o = op0(red ? CS_OP_RED : CS_OP_STG, warp);
    o.flags = CS_OPF_FROM_SMEM;
    o.addr = z_addr(x, e->z_m0, e->z_n0, el);
    o.rows = e->z_rows;
    o.row_bytes = (uint32_t)(e->z_nn * el);
    o.stride = (uint32_t)(x->g.n * el);
    o.local = buf_addr(x, CS_NEST_Z, e->z_buf);
    o.tag = (uint32_t)(x->w.tile[CS_NEST_N] * zbytes(x));
    o.x = e->z_nn * zbytes(x);
    emit(s, &o);
}

/* CiM: macro of bank position (i over N, j over K) in the set of residency r. */
static uint32_t macro_of(const gen *x, uint32_t r, uint32_t i, uint32_t j)
{
    uint32_t set = x->p.db_weights ? r % 2 : 0;
    return (set * x->p.bk + j) * x->p.bn + i;
}

/* The extent of bank position i (N) or j (K) within a residency's clipped tile. */
static uint32_t sub_extent(uint32_t whole, uint32_t t, uint32_t pos)
{
    uint64_t lo = (uint64_t)pos * t;
    return lo >= whole ? 0 : (uint32_t)min64(t, whole - lo);
}

static uint16_t tile_seq(const gen *x, const stream *s, const res *r)
{
    uint64_t per = x->p.db_weights ? cdiv(s->sc.nr, 2) : s->sc.nr;
    uint64_t rep = s->sc.nr == 1 ? 0 : x->repeat;
    return (uint16_t)((rep * per + r->in_set) & 0xffff);
}

static void emit_writes(gen *x, stream *s, uint32_t ri)
{
    const res *r = &s->sc.r[ri];
    s->written[ri] = 1;
    uint64_t ktiles = cdiv(x->g.k, x->p.tk);
    for (uint32_t j = 0; j < x->p.bk; j++)
        for (uint32_t i = 0; i < x->p.bn; i++) {
            uint32_t nn = sub_extent(r->nn, x->p.tn, i), kn = sub_extent(r->kn, x->p.tk, j);
            if (!nn || !kn)
                continue;
            uint32_t mac = macro_of(x, ri, i, j);
            uint64_t n0 = r->n0 + (uint64_t)i * x->p.tn, k0 = r->k0 + (uint64_t)j * x->p.tk;
            uint64_t bytes = (uint64_t)nn * kn * x->eb;
            cs_op o = op0(CS_OP_CIM_WRITE, 0);
            o.x = mac;
            o.addr = x->lay.b + ((n0 / x->p.tn) * ktiles + k0 / x->p.tk) * x->p.tn * x->p.tk * x->eb;
            o.rows = 1;
            o.row_bytes = (uint32_t)bytes;
            o.stride = (uint32_t)bytes;
            o.seq = tile_seq(x, s, r);
            o.tag = s->writes[mac]++;
            o.local = r->uses;
            if (s->sc.nr == 1 && x->repeat > 0)
                o.flags = CS_OPF_ACCUM; /* resident: the tile stays, its uses are announced */
            emit(s, &o);
        }
}

/* One CiM step: MACs (inputs broadcast to the macros of a K slice), then the partial sums to the
 * level that keeps Z. */
static void emit_cim_step(gen *x, stream *s, size_t si)
{
    const step *st = &s->sc.st[si];
    const res *r = &s->sc.r[st->res];
    const epoch *e = &s->sc.e[st->ep];
    const cs_nest *n = &x->p.nest;
    bool has_smem = cs_nest_has_level(n->tmpl, CS_LV_SMEM);
    bool keep_a = has_smem && (n->lv[CS_LV_SMEM].keep & (1u << CS_NEST_A));
    bool keep_z = has_smem && (n->lv[CS_LV_SMEM].keep & (1u << CS_NEST_Z));
    bool first_of_res = si == r->first_step;
    if (first_of_res && !s->written[st->res])
        emit_writes(x, s, st->res);
    uint64_t tk = x->w.tile[CS_NEST_K], tn = x->w.tile[CS_NEST_N];
    uint32_t chunk = chunk_rows((uint32_t)min64(st->kn, x->p.tk), x->eb);
    for (uint32_t r0 = 0; r0 < st->rows; r0 += chunk) {
        uint32_t rows = st->rows - r0 < chunk ? st->rows - r0 : chunk;
        uint64_t m = st->m0 + r0;
        for (uint32_t j = 0; j < x->p.bk; j++) {
            bool lead = true;
            uint32_t kn = sub_extent(st->kn, x->p.tk, j);
            uint64_t k0 = st->k0 + (uint64_t)j * x->p.tk;
            for (uint32_t i = 0; i < x->p.bn && kn; i++) {
                uint32_t nn = sub_extent(st->nn, x->p.tn, i);
                if (!nn)
                    continue;
                cs_op o = op0(CS_OP_CIM_MAC, 0);
                o.x = macro_of(x, st->res, i, j);
                o.seq = tile_seq(x, s, r);
                o.dtype = (uint8_t)x->lay.dtype;
                o.rows = rows;
                o.row_bytes = kn;
                o.stride = nn;
                if (!lead)
                    o.flags |= CS_OPF_BCAST;
                if (keep_a) {
                    o.flags |= CS_OPF_FROM_SMEM;
                    o.local = buf_addr(x, CS_NEST_A, e->a_buf) +
                              (uint32_t)(((m - e->a_m0) * tk + (k0 - e->a_k0)) * x->eb);
                    o.tag = (uint32_t)(tk * x->eb);
                } else {
                    o.addr = x->lay.a + (m * x->g.k + k0) * x->eb;
                    o.tag = (uint32_t)(x->g.k * x->eb);
                }
                emit(s, &o);
                lead = false;
            }
        }
    }
    if (first_of_res && x->p.db_weights && st->res + 1 < s->sc.nr && !s->written[st->res + 1])
        emit_writes(x, s, st->res + 1); /* the next residency's tiles, into the other set */
    /* partial sums: one read-out per N position (summed over the K positions by the adder tree,
     * or one per macro) */
    for (uint32_t i = 0; i < x->p.bn; i++) {
        uint32_t nn = sub_extent(st->nn, x->p.tn, i);
        if (!nn)
            continue;
        uint64_t n0 = st->n0 + (uint64_t)i * x->p.tn;
        uint32_t js = 0;
        for (uint32_t j = 0; j < x->p.bk; j++)
            js += sub_extent(st->kn, x->p.tk, j) != 0;
        for (uint32_t jj = 0; jj < js; jj++) {
            /* adder tree: the other K positions first (summed on the way), the leader (j = 0)
             * last, after all of them are done */
            uint32_t j = x->hw.adder_tree ? js - 1 - jj : jj;
            bool leader = !x->hw.adder_tree || j == 0;
            uint32_t mac = macro_of(x, st->res, i, j);
            uint32_t bytes = nn * zbytes(x);
            if (!leader) {
                cs_op rd = op0(CS_OP_CIM_READ, 0);
                rd.x = mac;
                rd.flags = CS_OPF_BCAST;
                rd.rows = st->rows;
                rd.row_bytes = bytes;
                emit(s, &rd);
                continue;
            }
            bool first = st->first && (x->hw.adder_tree || j == 0);
            if (keep_z) {
                cs_op rd = op0(CS_OP_CIM_READ, 0);
                rd.x = mac;
                rd.flags = CS_OPF_TO_SMEM | (first ? 0 : CS_OPF_ACCUM);
                rd.rows = st->rows;
                rd.row_bytes = bytes;
                rd.local = buf_addr(x, CS_NEST_Z, e->z_buf) +
                           (uint32_t)(((uint64_t)(st->m0 - e->z_m0) * tn + (n0 - e->z_n0)) * zbytes(x));
                emit(s, &rd);
            } else {
                bool store = first && x->p.grid_k == 1;
                cs_op o = op0(store ? CS_OP_STG : CS_OP_RED, 0);
                o.flags = CS_OPF_FROM_CIM;
                o.x = mac;
                o.addr = z_addr(x, st->m0, n0, zbytes(x));
                o.rows = st->rows;
                o.row_bytes = bytes;
                o.stride = (uint32_t)(x->g.n * zbytes(x));
                emit(s, &o);
            }
        }
    }
}

/* One PE-array step: an MMA per sub-partition (operands from shared memory; B read once and
 * broadcast), with the register-file tile filled before and drained after when it changes. */
static void emit_pe_step(gen *x, stream *s, size_t si)
{
    const step *st = &s->sc.st[si];
    const epoch *e = &s->sc.e[st->ep];
    uint64_t tk = x->w.tile[CS_NEST_K];
    uint32_t sub = (uint32_t)x->w.base[CS_NEST_M];
    bool lead = true;
    for (uint32_t sp = 0; sp < sub && sp < st->rows; sp++) {
        uint64_t m = st->m0 + sp;
        if (st->flags & F_Z_FILL) {
            cs_op f = op0(CS_OP_LDG, sp);
            f.addr = z_addr(x, m, st->n0, zbytes(x));
            f.rows = 1;
            f.row_bytes = st->nn * zbytes(x);
            f.stride = f.row_bytes;
            emit(s, &f);
        }
        cs_op o = op0(CS_OP_MMA, sp);
        o.dtype = (uint8_t)x->lay.dtype;
        o.flags = CS_OPF_FROM_SMEM | (st->first ? 0 : CS_OPF_ACCUM) | (lead ? 0 : CS_OPF_BCAST);
        o.rows = 1;
        o.row_bytes = st->nn;
        o.stride = st->kn;
        o.local = buf_addr(x, CS_NEST_A, e->a_buf) + (uint32_t)(((m - e->a_m0) * tk + (st->k0 - e->a_k0)) * x->eb);
        o.tag = (uint32_t)(tk * x->eb);
        o.addr = buf_addr(x, CS_NEST_B, e->z_buf) +
                 (uint64_t)(((uint64_t)(st->n0 - e->z_n0) * tk + (st->k0 - e->a_k0)) * x->eb);
        o.x = (uint32_t)(tk * x->eb);
        emit(s, &o);
        lead = false;
        if (st->flags & F_Z_DRAIN) {
            bool final = st->flags & F_Z_FINAL;
            bool red = x->p.grid_k > 1;
            uint64_t el = final && !red ? x->lay.c_elem_bytes : zbytes(x);
            cs_op d = op0(red ? CS_OP_RED : CS_OP_STG, sp);
            d.addr = z_addr(x, m, st->n0, el);
            d.rows = 1;
            d.row_bytes = (uint32_t)(st->nn * el);
            d.stride = d.row_bytes;
            d.x = st->nn * zbytes(x);
            emit(s, &d);
        }
    }
}

static uint32_t ops_per_step(const gen *x)
{
    if (is_pe(&x->p.nest))
        return 4 * (uint32_t)x->w.base[CS_NEST_M];
    uint32_t chunks = (uint32_t)cdiv(x->p.rows, chunk_rows(x->p.tk, x->eb));
    return (chunks + 1) * x->p.bn * x->p.bk + 2;
}

/* Builds the next CTA of controller c: steps [s0, s1) with the epochs' loads and drains. */
static bool build_cta(gen *x, stream *s)
{
    sched *sc = &s->sc;
    if (s->next >= sc->nst)
        return false;
    bool pe = is_pe(&x->p.nest);
    uint32_t warps = pe ? MEM_WARP_PE + 1 : MEM_WARP_CIM + 1, mw = pe ? MEM_WARP_PE : MEM_WARP_CIM;
    size_t s0 = s->next, s1 = s0;
    /* whole epochs while they fit the op budget, else part of one */
    uint32_t per = ops_per_step(x);
    while (s1 < sc->nst) {
        const epoch *e = &sc->e[sc->st[s1].ep];
        size_t end = e->s0 + e->ns;
        size_t take = end - s1;
        if (s1 > s0 && (s1 - s0 + take) * per > CTA_OPS)
            break;
        if ((s1 - s0 + take) * per > CTA_OPS)
            take = CTA_OPS / per ? CTA_OPS / per : 1;
        s1 += take;
        if (s1 > end)
            s1 = end;
    }
    s->next = s1;
    cs_op b = op0(CS_OP_CTA_BEGIN, 0);
    b.x = (uint32_t)s->cta++;
    b.rows = warps;
    b.row_bytes = (uint32_t)x->p.smem_bytes;
    b.stride = 16; /* registers per thread of the controller program */
    emit(s, &b);
    x->tag = 0;
    uint32_t e_first = sc->st[s0].ep, e_last = sc->st[s1 - 1].ep;
    uint32_t *tags = cs_calloc(e_last - e_first + 2, sizeof *tags);
    bool *loaded = cs_calloc(e_last - e_first + 2, sizeof *loaded);
    if (sc->e[e_first].s0 >= s0) {
        tags[0] = x->ep_tag = x->tag++;
        loaded[0] = emit_loads(x, s, &sc->e[e_first], LOAD_ALL, mw);
    }
    for (uint32_t ei = e_first; ei <= e_last; ei++) {
        const epoch *e = &sc->e[ei];
        uint32_t li = ei - e_first;
        bool starts = e->s0 >= s0, ends = e->s0 + e->ns <= s1, next_here = ei < e_last;
        if (starts) {
            if (loaded[li])
                emit(s, &(cs_op){.kind = CS_OP_CP_WAIT, .warp = (uint16_t)mw, .tag = tags[li]});
            emit_bar(s, warps);
            if (next_here) {
                tags[li + 1] = x->ep_tag = x->tag++;
                loaded[li + 1] = emit_loads(x, s, &sc->e[ei + 1], LOAD_DB, mw);
            }
        }
        size_t a = e->s0 > s0 ? e->s0 : s0, z = e->s0 + e->ns < s1 ? e->s0 + e->ns : s1;
        for (size_t si = a; si < z; si++)
            (pe ? emit_pe_step : emit_cim_step)(x, s, si);
        if (ends) {
            emit_bar(s, warps);
            if (e->flags & F_Z_DRAIN && !pe)
                emit_drain(x, s, e, mw);
            if (next_here) {
                x->ep_tag = tags[li + 1];
                loaded[li + 1] |= emit_loads(x, s, &sc->e[ei + 1], LOAD_OTHER, mw);
            }
        }
    }
    cs_free(tags);
    cs_free(loaded);
    cs_op en = op0(CS_OP_CTA_END, 0);
    en.x = b.x;
    emit(s, &en);
    return true;
}

static cs_status gen_next(cs_opsrc *src, uint32_t sidx, cs_op *op, bool *eof, cs_err *err)
{
    (void)err;
    gen *x = (gen *)src;
    stream *s = &x->st[sidx];
    while (s->pos == s->n) {
        s->n = s->pos = 0;
        if (s->done || !build_cta(x, s)) {
            s->done = true;
            *eof = true;
            return CS_OK;
        }
    }
    *op = s->ops[s->pos++];
    *eof = false;
    return CS_OK;
}

static void gen_destroy(cs_opsrc *src)
{
    gen *x = (gen *)src;
    for (uint32_t i = 0; i < x->nsm; i++) {
        sched_free(&x->st[i].sc);
        cs_free(x->st[i].ops);
        cs_free(x->st[i].writes);
        cs_free(x->st[i].written);
    }
    cs_free(x->st);
    cs_free(x->base.streams);
    cs_free(x);
}

static const cs_opsrc_vt gen_vt = {gen_next, gen_destroy};

cs_status cs_nest_opsrc_create(const cs_target *t, const cs_nest_hw *hw, const cs_nest_plan *p, const cs_gemm *g,
                               const cs_gemm_layout *lay, uint64_t repeat, cs_opsrc **out, cs_err *err)
{
    if (!p->steps)
        return cs_err_add(err, CS_INVALID, "mapper: error: loop nest: an empty plan");
    gen *x = cs_calloc(1, sizeof *x);
    x->base.vt = &gen_vt;
    x->hw = *hw;
    x->p = *p;
    x->g = *g;
    x->lay = *lay;
    x->repeat = repeat;
    x->eb = (uint32_t)cs_dtype_bytes(lay->dtype);
    x->nsm = t->sms;
    walk_build(&x->p, &x->w);
    x->base.nstreams = x->nsm;
    x->base.streams = cs_calloc(x->nsm, sizeof(cs_stream_info));
    x->st = cs_calloc(x->nsm, sizeof *x->st);
    for (uint32_t i = 0; i < x->nsm; i++) {
        x->base.streams[i] = (cs_stream_info){CS_STREAM_SM, i};
        stream *s = &x->st[i];
        share sh;
        if (!controller_share(&x->p, g, i, &sh)) {
            s->done = true;
            continue;
        }
        sched_build(&x->p, &x->w, &sh, x->eb, &s->sc);
        s->writes = cs_calloc(hw->macros ? hw->macros : 1, sizeof *s->writes);
        s->written = cs_calloc(s->sc.nr ? s->sc.nr : 1, 1);
    }
    *out = &x->base;
    return CS_OK;
}

/* ---- output ------------------------------------------------------------------------------- */

void cs_nest_plan_str(const cs_nest_plan *p, const char *mode, char *out, size_t cap)
{
    char nest[200];
    cs_nest_str(&p->nest, nest, sizeof nest);
    snprintf(out, cap, "%s grid %ux%ux%u %s%s%s%s", mode, p->grid_n, p->grid_k, p->grid_m, nest,
             p->db_weights ? " dbw" : "", p->db[CS_NEST_A] ? " dbA" : "", p->db[CS_NEST_Z] ? " dbZ" : "");
}

void cs_nest_plan_json(const cs_nest_plan *p, cs_json *j)
{
    static const char *const ds[CS_NEST_DS] = {"A", "B", "Z"};
    cs_json_obj_begin(j);
    cs_json_key(j, "nest");
    cs_buf nb;
    cs_buf_init(&nb);
    cs_nest_json(&p->nest, &nb);
    cs_json_raw(j, nb.data);
    cs_buf_free(&nb);
    cs_json_key(j, "grid");
    cs_json_obj_begin(j);
    cs_json_ku64(j, "n", p->grid_n);
    cs_json_ku64(j, "k", p->grid_k);
    cs_json_ku64(j, "m", p->grid_m);
    cs_json_obj_end(j);
    if (!is_pe(&p->nest)) {
        cs_json_key(j, "tile");
        cs_json_obj_begin(j);
        cs_json_ku64(j, "k", p->tk);
        cs_json_ku64(j, "n", p->tn);
        cs_json_obj_end(j);
        cs_json_key(j, "bank");
        cs_json_obj_begin(j);
        cs_json_ku64(j, "n", p->bn);
        cs_json_ku64(j, "k", p->bk);
        cs_json_obj_end(j);
        cs_json_kbool(j, "double_buffer_weights", p->db_weights);
    }
    cs_json_ku64(j, "rows_per_step", p->rows);
    cs_json_key(j, "smem_tiles");
    cs_json_obj_begin(j);
    for (int d = 0; d < CS_NEST_DS; d++)
        if (p->tile_bytes[d]) {
            cs_json_key(j, ds[d]);
            cs_json_obj_begin(j);
            cs_json_ku64(j, "bytes", p->tile_bytes[d]);
            cs_json_kbool(j, "double_buffered", p->db[d]);
            cs_json_obj_end(j);
        }
    cs_json_obj_end(j);
    cs_json_ku64(j, "steps", p->steps);
    cs_json_ku64(j, "residencies", p->residencies);
    cs_json_ku64(j, "epochs", p->epochs);
    cs_json_key(j, "implied_dram_bytes");
    cs_json_obj_begin(j);
    for (int d = 0; d < CS_NEST_DS; d++) {
        cs_json_key(j, ds[d]);
        cs_json_obj_begin(j);
        cs_json_ku64(j, "read", p->dram_read[d]);
        cs_json_ku64(j, "write", p->dram_write[d]);
        cs_json_obj_end(j);
    }
    cs_json_obj_end(j);
    cs_json_kf64(j, "estimated_cycles", round(p->est_cycles));
    cs_json_obj_end(j);
}

/* ---- CiM placements ----------------------------------------------------------------------- */

void cs_nest_hw_cim(const cs_target *t, const cs_cim_target *ct, cs_nest_hw *hw)
{
    memset(hw, 0, sizeof *hw);
    hw->controllers = ct->controllers;
    hw->macros = ct->macros;
    hw->rp = ct->rp;
    hw->cp = ct->cp;
    hw->rh = ct->rh;
    hw->ch = ct->ch;
    hw->latency_cycles = ct->latency_cycles;
    hw->write_bytes_per_cycle = ct->write_bytes_per_cycle;
    hw->subparts = t->subpartitions;
    hw->smem_bytes = ct->stage_bytes;
    hw->psum_bytes = ct->psum_bytes ? ct->psum_bytes : 4;
    hw->adder_tree = ct->adder_tree;
    hw->dram_bytes_per_cycle = t->dram_bytes_per_s / t->clock_hz;
    hw->latency_fill_cycles = 2 * t->mem_latency_cycles;
}

static void fill_mapping(cs_cim_mapping *m, const cs_nest_plan *p, int mode, int goal)
{
    memset(m, 0, sizeof *m);
    m->mode = mode;
    m->goal = goal;
    m->nest_exec = true;
    m->plan = *p;
    m->kt = p->tk;
    m->nt = p->tn;
    m->grid_n = p->grid_n;
    m->grid_k = p->grid_k;
    m->grid_m = p->grid_m;
    m->dup = 1;
    m->m1 = p->rows;
    m->slots = p->bn * p->bk;
    m->double_buffer = p->db_weights;
    m->rounds = p->residencies;
    m->mc = p->mc;
    m->nc = p->nc;
    m->kc = p->kc;
    m->weight_bytes = p->dram_read[CS_NEST_B];
    m->from_global = !cs_nest_has_level(p->nest.tmpl, CS_LV_SMEM) ||
                     !(p->nest.lv[CS_LV_SMEM].keep & (1u << CS_NEST_A));
    m->resident = p->residencies <= (uint64_t)p->grid_n * p->grid_k * p->grid_m;
    m->est_cycles = p->est_cycles;
}

static uint32_t pow2_upto(uint64_t x, uint32_t cap, uint32_t *out)
{
    uint32_t n = 0;
    for (uint64_t v = 1; v <= x && v <= cap && n < 24; v *= 2)
        out[n++] = (uint32_t)v;
    return n;
}

cs_status cs_nest_cim_map(const cs_target *t, const cs_cim_target *ct, const cs_gemm *g, int dtype,
                          const cs_cim_request *req, cs_cim_mapping *out, cs_err *err)
{
    cs_nest_hw hw;
    cs_nest_hw_cim(t, ct, &hw);
    if (req->dup > 1 || req->order >= 0 || req->double_buffer >= 0)
        return cs_err_add(err, CS_USAGE,
                          "mapper: error: --dup, --order and --double-buffer apply to --mapping auto; the %s "
                          "mapping's loop nest decides them",
                          req->mode == CS_CIM_MAP_WWW ? "www" : "timeloop");
    cs_nest_limits lim = {.rp = ct->rp, .cp = ct->cp, .rh = ct->rh, .ch = ct->ch, .macros = ct->macros,
                          .subparts = t->subpartitions};
    uint32_t eb = (uint32_t)cs_dtype_bytes(dtype);
    if (req->mode == CS_CIM_MAP_TIMELOOP) {
        if (!req->spec)
            return cs_err_add(err, CS_INVALID, "mapper: error: --mapping timeloop needs a map file");
        cs_nest n;
        int tmpl = ct->level == CS_CIM_RF ? CS_NEST_CIM_RF : CS_NEST_CIM_SMEM;
        cs_status st = cs_nest_bind(req->spec, tmpl, &lim, g, &n, err);
        cs_nest_plan p;
        if (st == CS_OK)
            st = cs_nest_plan_make(&hw, &n, g, dtype, 1, 1, 1, true, &p, err);
        if (st == CS_OK)
            fill_mapping(out, &p, CS_CIM_MAP_TIMELOOP, req->goal);
        return st;
    }
    /* www: the algorithm on controller 0's share of each grid; the lowest estimate wins (ties:
     * the first, in the order n, k, m ascending) */
    uint32_t gn[24], gk[24], gm[24];
    uint32_t nn = pow2_upto(g->n, ct->controllers, gn), nk = pow2_upto(g->k, ct->controllers, gk),
             nm = pow2_upto(g->m, ct->controllers, gm);
    bool found = false;
    cs_nest_plan best;
    cs_err last;
    cs_err_init(&last);
    for (uint32_t a = 0; a < nn; a++)
        for (uint32_t b = 0; b < nk; b++)
            for (uint32_t c = 0; c < nm; c++) {
                if ((uint64_t)gn[a] * gk[b] * gm[c] > ct->controllers)
                    continue;
                cs_www_input in;
                cs_www_input_init(&in, ct->level == CS_CIM_RF ? CS_WWW_LEVEL_RF : CS_WWW_LEVEL_SMEM);
                in.m = (g->m + gm[c] - 1) / gm[c];
                in.n = (g->n + gn[a] - 1) / gn[a];
                in.k = (g->k + gk[b] - 1) / gk[b];
                in.rp = ct->rp;
                in.cp = ct->cp;
                in.rh = ct->rh;
                in.ch = ct->ch;
                in.bank_y = ct->macros;
                in.above_bytes = ct->level == CS_CIM_RF ? ct->stage_bytes : 0;
                in.in_elem_bytes = eb;
                in.out_elem_bytes = hw.psum_bytes; /* partial sums are what the memory above holds */
                cs_www_mapping w;
                cs_err quiet;
                cs_err_init(&quiet);
                cs_nest n;
                cs_nest_plan p;
                if (cs_www_map(&in, &w, &quiet) != CS_OK) {
                    cs_err_merge(&last, &quiet);
                    continue;
                }
                cs_nest_from_www(&w, &n);
                if (cs_nest_plan_make(&hw, &n, g, dtype, gn[a], gk[b], gm[c], false, &p, &quiet) != CS_OK) {
                    cs_err_merge(&last, &quiet);
                    continue;
                }
                if (!found || p.est_cycles < best.est_cycles * 0.999) {
                    best = p;
                    found = true;
                }
            }
    if (!found) {
        cs_status st = cs_err_add(err, CS_INVALID, "mapper: error: cim: the WWW algorithm finds no mapping of %s "
                                  "(%llux%llux%llu) on %u macros per controller",
                                  g->name, (unsigned long long)g->m, (unsigned long long)g->n,
                                  (unsigned long long)g->k, ct->macros);
        if (last.count)
            cs_err_add(err, CS_INVALID, "%s", last.msg[0]);
        return st;
    }
    cs_nest_plan p;
    cs_status st = cs_nest_plan_make(&hw, &best.nest, g, dtype, best.grid_n, best.grid_k, best.grid_m, true, &p, err);
    if (st != CS_OK)
        return st;
    fill_mapping(out, &p, CS_CIM_MAP_WWW, req->goal);
    return CS_OK;
}

cs_status cs_nest_cim_opsrc(const cs_target *t, const cs_cim_target *ct, const cs_gemm *g, const cs_cim_mapping *m,
                            const cs_gemm_layout *lay, uint64_t repeat, cs_opsrc **out, cs_err *err)
{
    cs_nest_hw hw;
    cs_nest_hw_cim(t, ct, &hw);
    return cs_nest_opsrc_create(t, &hw, &m->plan, g, lay, repeat, out, err);
}

void cs_nest_cim_mapping_json(const cs_cim_mapping *m, cs_json *j)
{
    const cs_nest *n = &m->plan.nest;
    cs_json_obj_begin(j);
    cs_json_kstr(j, "mode", m->mode == CS_CIM_MAP_WWW ? "www" : "timeloop");
    cs_json_kstr(j, "goal", m->goal == CS_CIM_GOAL_ENERGY ? "energy" : m->goal == CS_CIM_GOAL_EDP ? "edp" : "cycles");
    cs_json_kstr(j, "executor", "loopnest");
    cs_json_key(j, "plan");
    cs_nest_plan_json(&m->plan, j);
    if (m->mode == CS_CIM_MAP_WWW) { /* the algorithm's factors, as executed (cs_nest_from_www) */
        char f[64];
        cs_json_key(j, "www");
        cs_json_obj_begin(j);
        const uint64_t *lv[5] = {n->lv[CS_LV_ARRAY].s, n->lv[CS_LV_BANK].s, n->lv[CS_LV_STORAGE].t,
                                 n->lv[CS_LV_SMEM].t, n->lv[CS_LV_DRAM].t};
        static const char *const names[5] = {"cim_array", "cim_bank", "cim_storage", "above", "dram"};
        bool above = cs_nest_has_level(n->tmpl, CS_LV_SMEM);
        for (int i = 0; i < 5; i++) {
            if (i == 3 && !above) {
                cs_json_kstr(j, names[i], "1.1.1");
                continue;
            }
            snprintf(f, sizeof f, "%llu.%llu.%llu", (unsigned long long)lv[i][0], (unsigned long long)lv[i][1],
                     (unsigned long long)lv[i][2]);
            cs_json_kstr(j, names[i], f);
        }
        cs_json_kstr(j, "perm_dram", n->lv[CS_LV_DRAM].perm);
        cs_json_kstr(j, "perm_above", above ? n->lv[CS_LV_SMEM].perm : "");
        cs_json_obj_end(j);
    }
    cs_json_obj_end(j);
}

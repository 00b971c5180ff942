/* cpath — paths in an arena of reference-counted nodes (index 0: the empty path). A node is
 * immutable once shared; materialising a lazy path copies its base node and applies the
 * pending segments. */
#include "cpath.h"

#include <string.h>

#include "alloc.h"
#include "check.h"

static const char *const keys[] = {
#define CS_X(id, key, help) key,
    CS_CAUSE_MAP(CS_X)
#undef CS_X
};
static const char *const helps[] = {
#define CS_X(id, key, help) help,
    CS_CAUSE_MAP(CS_X)
#undef CS_X
};

const char *cs_cause_key(int c) { return c >= 0 && c < CS_CAUSES ? keys[c] : "?"; }
const char *cs_cause_help(int c) { return c >= 0 && c < CS_CAUSES ? helps[c] : "?"; }

int cs_cause_from_key(const char *key)
{
    for (int c = 0; c < CS_CAUSES; c++)
        if (strcmp(key, keys[c]) == 0)
            return c;
    return -1;
}

typedef struct node {
    uint32_t refs;
    uint32_t next_free;
    cs_ps t_end;
    uint64_t v[CS_CAUSES];       /* settled picoseconds per cause */
    uint64_t pend[CS_CAUSES];    /* since the last compute segment (drain, unless compute follows) */
} node;

struct cs_cpath {
    node *n;
    size_t cap, used;
    uint32_t free_head; /* 0 = none (node 0 is never free) */
    uint64_t live;
    cs_ps t0, tail_ps, fill_ps, compute_end_ps;
    /* DRAM back-pressure: L2 slices stalled on DRAM, integrated over time (ps x slices) */
    uint32_t slices, stalled;
    cs_ps stall_t;
    uint64_t stall_acc;
};

cs_cpath *cs_cpath_create(void)
{
    cs_cpath *a = cs_calloc(1, sizeof *a);
    CS_GROW(a->n, a->cap, 64);
    memset(&a->n[0], 0, sizeof a->n[0]);
    a->used = 1;
    a->tail_ps = a->fill_ps = CS_PS_NEVER;
    return a;
}

void cs_cpath_destroy(cs_cpath *a)
{
    if (!a)
        return;
    cs_free(a->n);
    cs_free(a);
}

void cs_cpath_kernel_start(cs_cpath *a, cs_ps t0)
{
    a->t0 = t0;
    a->n[0].t_end = t0;
    a->tail_ps = a->fill_ps = CS_PS_NEVER;
    a->compute_end_ps = t0;
}

void cs_cpath_set_tail(cs_cpath *a, cs_ps t) { a->tail_ps = t; }

void cs_cpath_mark_compute(cs_cpath *a, cs_ps start, cs_ps end)
{
    if (start < a->fill_ps)
        a->fill_ps = start;
    if (end > a->compute_end_ps)
        a->compute_end_ps = end;
}
uint64_t cs_cpath_live(const cs_cpath *a) { return a->live; }

void cs_cpath_add_slice(cs_cpath *a) { a->slices++; }

void cs_cpath_dram_stall(cs_cpath *a, bool start, cs_ps now)
{
    a->stall_acc += (uint64_t)a->stalled * (now - a->stall_t);
    a->stall_t = now;
    if (start)
        a->stalled++;
    else if (a->stalled)
        a->stalled--;
}

uint64_t cs_cpath_dram_stalled(const cs_cpath *a, cs_ps now)
{
    return a->stall_acc + (uint64_t)a->stalled * (now > a->stall_t ? now - a->stall_t : 0);
}

cs_ps cs_cpath_dram_share(const cs_cpath *a, uint64_t since_acc, cs_ps since, cs_ps now)
{
    if (!a->slices || now <= since)
        return 0;
    cs_ps d = (cs_ps)((cs_cpath_dram_stalled(a, now) - since_acc) / a->slices);
    return d < now - since ? d : now - since;
}

void cs_cp_release(cs_cpath *a, cs_cp p)
{
    if (!p)
        return;
    node *x = &a->n[p];
    CS_ASSERT(x->refs > 0);
    if (--x->refs == 0) {
        x->next_free = a->free_head;
        a->free_head = p;
        a->live--;
    }
}

cs_cp cs_cp_ref(cs_cpath *a, cs_cp p)
{
    if (p)
        a->n[p].refs++;
    return p;
}

static cs_cp alloc_node(cs_cpath *a)
{
    cs_cp p = a->free_head;
    if (p) {
        a->free_head = a->n[p].next_free;
    } else {
        CS_GROW(a->n, a->cap, a->used + 1);
        p = (cs_cp)a->used++;
        CS_ASSERT(a->used < UINT32_MAX);
    }
    a->live++;
    return p;
}

/* Appends the segment [x->t_end, t) of cause c to a node the caller owns alone. By position:
 * the part before the kernel's first compute operation is fill; the part after the latest
 * compute end known so far waits in pend (drain, unless a later compute end covers it); the
 * part after the tail started is tail. */
static cs_ps clamp(cs_ps v, cs_ps lo, cs_ps hi) { return v < lo ? lo : v > hi ? hi : v; }

static void apply(const cs_cpath *a, node *x, int c, cs_ps t)
{
    if (t <= x->t_end)
        return;
    cs_ps from = x->t_end;
    x->t_end = t;
    if (from < a->fill_ps) {
        cs_ps cut = t < a->fill_ps ? t : a->fill_ps;
        x->v[CS_CAUSE_FILL_DRAIN] += cut - from;
        from = cut;
    }
    if (from >= t)
        return;
    cs_ps mid = t < a->compute_end_ps ? t : a->compute_end_ps; /* [from, mid): settled */
    if (from < mid) {
        for (int i = 0; i < CS_CAUSES; i++) {
            x->v[i] += x->pend[i];
            x->pend[i] = 0;
        }
        cs_ps cut = clamp(a->tail_ps, from, mid);
        x->v[c] += cut - from;
        x->v[CS_CAUSE_TAIL] += mid - cut;
        from = mid;
    }
    if (from < t) {
        cs_ps cut = clamp(a->tail_ps, from, t);
        x->pend[c] += cut - from;
        x->pend[CS_CAUSE_TAIL] += t - cut;
    }
}

/* The node of p with its pending segments applied, into *out (a copy). */
static void resolve(const cs_cpath *a, const cs_cpl *p, node *out)
{
    *out = a->n[p->base];
    for (uint8_t i = 0; i < p->n; i++)
        apply(a, out, p->cause[i], p->t[i]);
}

cs_cp cs_cpl_materialise(cs_cpath *a, const cs_cpl *p)
{
    if (!p->n)
        return cs_cp_ref(a, p->base);
    node tmp;
    resolve(a, p, &tmp);
    cs_cp q = alloc_node(a);
    a->n[q] = tmp;
    a->n[q].refs = 1;
    return q;
}

cs_ps cs_cp_end(const cs_cpath *a, cs_cp q) { return a->n[q].t_end; }

cs_ps cs_cpl_end(const cs_cpath *a, const cs_cpl *p)
{
    return p->end > a->t0 ? p->end : a->t0;
}

void cs_cpl_set(cs_cpath *a, cs_cpl *dst, const cs_cpl *src)
{
    if (dst == src)
        return;
    cs_cp_ref(a, src->base);
    cs_cp_release(a, dst->base);
    *dst = *src;
}

void cs_cpl_clear(cs_cpath *a, cs_cpl *p)
{
    cs_cp_release(a, p->base);
    memset(p, 0, sizeof *p);
}

void cs_cpl_move(cs_cpath *a, cs_cpl *dst, cs_cpl *src)
{
    if (dst == src)
        return;
    cs_cp_release(a, dst->base);
    *dst = *src;
    memset(src, 0, sizeof *src);
}

void cs__cpl_settle(cs_cpath *a, cs_cpl *p)
{
    cs_cp q = cs_cpl_materialise(a, p);
    cs_cp_release(a, p->base);
    p->base = q;
    p->n = 0;
}

void cs_cpl_result(cs_cpath *a, const cs_cpl *p, uint64_t out[CS_CAUSES])
{
    node x;
    resolve(a, p, &x);
    for (int i = 0; i < CS_CAUSES; i++)
        out[i] = x.v[i];
    for (int i = 0; i < CS_CAUSES; i++)
        out[CS_CAUSE_FILL_DRAIN] += x.pend[i];
}

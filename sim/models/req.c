/* req — slab-allocated request pool with a free list. */
#include "req.h"

#include <string.h>

#include "alloc.h"
#include "check.h"

enum { SLAB_REQS = 4096 };

typedef struct slab {
    struct slab *next;
    cs_req r[SLAB_REQS];
} slab;

struct cs_req_pool {
    slab *slabs;
    cs_req *free_list;
    uint64_t live;
    cs_cpath *cpath;
};

cs_req_pool *cs_req_pool_create(void)
{
    cs_req_pool *p = cs_calloc(1, sizeof(cs_req_pool));
    p->cpath = cs_cpath_create();
    return p;
}

cs_cpath *cs_req_pool_cpath(cs_req_pool *p) { return p->cpath; }

void cs_req_pool_destroy(cs_req_pool *p)
{
    if (!p)
        return;
    for (slab *s = p->slabs, *next; s; s = next) {
        next = s->next;
        cs_free(s);
    }
    cs_cpath_destroy(p->cpath);
    cs_free(p);
}

cs_req *cs_req_alloc(cs_req_pool *p)
{
    if (!p->free_list) {
        slab *s = cs_malloc(sizeof *s);
        s->next = p->slabs;
        p->slabs = s;
        for (int i = SLAB_REQS - 1; i >= 0; i--) {
            s->r[i].next = p->free_list;
            p->free_list = &s->r[i];
        }
    }
    cs_req *r = p->free_list;
    p->free_list = r->next;
    memset(r, 0, sizeof *r);
    p->live++;
    return r;
}

void cs_req_free(cs_req_pool *p, cs_req *r)
{
    CS_ASSERT(p->live > 0);
    cs_cp_release(p->cpath, r->cp);
    r->next = p->free_list;
    p->free_list = r;
    p->live--;
}

uint64_t cs_req_pool_live(const cs_req_pool *p)
{
    return p->live;
}

/* xbar — routing, per-output FIFOs, credits returned on departure. */
#include "xbar.h"

#include <stdio.h>

#include "alloc.h"
#include "check.h"

static const cs_cfg_key xbar_keys[] = {
    CS_CFG_K(cs_xbar_params, latency_cycles, "latency", CS_CFG_INT, false, "20", 0, 100000, "cycles",
             "traversal latency in each direction"),
    CS_CFG_K(cs_xbar_params, sm_bytes_per_cycle, "sm_bytes_per_cycle", CS_CFG_INT, false, "64", 1, 4096,
             "B/cycle", "width of an SM's port, each direction"),
    CS_CFG_K(cs_xbar_params, slice_bytes_per_cycle, "slice_bytes_per_cycle", CS_CFG_INT, false, "64", 1, 4096,
             "B/cycle", "width of an L2 slice's port, each direction"),
    CS_CFG_K(cs_xbar_params, port_queue, "port_queue", CS_CFG_INT, false, "64", 1, 65536, "messages",
             "messages a port may have in flight before it is back-pressured"),
    CS_CFG_K(cs_xbar_params, flit_bytes, "flit_bytes", CS_CFG_INT, false, "32", 1, 1024, "bytes",
             "flit size (energy is counted per flit)"),
    CS_CFG_K(cs_xbar_params, ideal, "ideal", CS_CFG_BOOL, false, "false", CS_CFG_NORANGE, "",
             "ideal variant: the traversal latency alone (unlimited port bandwidth and queues)"),
};
const cs_cfg_schema cs_xbar_schema =
    CS_CFG_SCHEMA("xbar", cs_xbar_params, xbar_keys, NULL,
                  "Crossbar between SMs and L2 slices: per-port bandwidth, latency, queueing.");

typedef struct fifo {
    cs_req *head, *tail;
    uint32_t len;
} fifo;

struct cs_xbar {
    cs_component base;
    cs_xbar_params p;
    const cs_addrmap *map;
    uint32_t nreq, nslice;
    cs_port *req_in, *resp_out, *req_out, *resp_in;
    fifo *to_slice, *to_req;
    uint64_t flits;
    uint64_t queued;
};

static void push(fifo *q, cs_req *r)
{
    r->next = NULL;
    if (q->tail)
        q->tail->next = r;
    else
        q->head = r;
    q->tail = r;
    q->len++;
}

static uint64_t flits_of(const cs_xbar *x, const cs_req *r)
{
    uint64_t b = cs_req_wire_bytes(r);
    return (b + (uint64_t)x->p.flit_bytes - 1) / (uint64_t)x->p.flit_bytes;
}

/* Sends what the FIFO can; on each departure returns the credit of the port it came in on. */
static void drain(cs_xbar *x, fifo *q, cs_port *out, cs_port *ins)
{
    while (q->head) {
        cs_req *r = q->head;
        uint16_t in = r->hop;
        if (!cs_port_try_send(out, r, 0, cs_req_wire_bytes(r)))
            return;
        q->head = r->next;
        if (!q->head)
            q->tail = NULL;
        q->len--;
        x->queued--;
        x->flits += flits_of(x, r);
        cs_port_release(&ins[in]);
    }
}

static void recv_req(void *owner, cs_port *in, void *ptr, uint64_t arg)
{
    (void)arg;
    cs_xbar *x = owner;
    cs_req *r = ptr;
    r->hop = (uint16_t)in->id;
    uint32_t s = r->kind == CS_REQ_CIM ? r->dst : cs_addrmap_slice(x->map, r->addr);
    CS_ASSERT(s < x->nslice); /* SMs check CiM targets when they read their ops */
    push(&x->to_slice[s], r);
    x->queued++;
    drain(x, &x->to_slice[s], &x->req_out[s], x->req_in);
}

static void recv_resp(void *owner, cs_port *in, void *ptr, uint64_t arg)
{
    (void)arg;
    cs_xbar *x = owner;
    cs_req *r = ptr;
    r->hop = (uint16_t)in->id;
    push(&x->to_req[r->src], r);
    x->queued++;
    drain(x, &x->to_req[r->src], &x->resp_out[r->src], x->resp_in);
}

static void credit_slice(void *owner, cs_port *out)
{
    cs_xbar *x = owner;
    drain(x, &x->to_slice[out->id], out, x->req_in);
}

static void credit_req(void *owner, cs_port *out)
{
    cs_xbar *x = owner;
    drain(x, &x->to_req[out->id], out, x->resp_in);
}

static bool xbar_busy(const void *self)
{
    return ((const cs_xbar *)self)->queued != 0;
}

static void xbar_dump(const void *self, cs_buf *out)
{
    const cs_xbar *x = self;
    cs_buf_printf(out, "crossbar: %llu queued;", (unsigned long long)x->queued);
    for (uint32_t j = 0; j < x->nslice; j++)
        if (x->to_slice[j].len)
            cs_buf_printf(out, " to-slice%u=%u", j, x->to_slice[j].len);
    for (uint32_t i = 0; i < x->nreq; i++)
        if (x->to_req[i].len)
            cs_buf_printf(out, " to-req%u=%u", i, x->to_req[i].len);
}

static void xbar_destroy(void *self)
{
    cs_xbar_destroy(self);
}

static const cs_component_type xbar_type = {"xbar", "noc", xbar_dump, xbar_busy, xbar_destroy};

cs_status cs_xbar_create(cs_engine *eng, const char *name, const cs_xbar_params *p,
                         uint32_t nreq, uint32_t nslice, const cs_addrmap *map, cs_stats *st,
                         cs_xbar **out, cs_err *err)
{
    (void)err;
    cs_xbar *x = cs_calloc(1, sizeof *x);
    cs_component_init(&x->base, &xbar_type, name, eng);
    x->p = *p;
    x->map = map;
    x->nreq = nreq;
    x->nslice = nslice;
    x->req_in = cs_calloc(nreq, sizeof(cs_port));
    x->resp_out = cs_calloc(nreq, sizeof(cs_port));
    x->req_out = cs_calloc(nslice, sizeof(cs_port));
    x->resp_in = cs_calloc(nslice, sizeof(cs_port));
    x->to_slice = cs_calloc(nslice, sizeof(fifo));
    x->to_req = cs_calloc(nreq, sizeof(fifo));
    for (uint32_t i = 0; i < nreq; i++) {
        cs_port_init_in(&x->req_in[i], x, recv_req, i);
        cs_port_init_out(&x->resp_out[i], x, credit_req, i);
    }
    for (uint32_t j = 0; j < nslice; j++) {
        cs_port_init_out(&x->req_out[j], x, credit_slice, j);
        cs_port_init_in(&x->resp_in[j], x, recv_resp, j);
    }
    char buf[256];
    snprintf(buf, sizeof buf, "%s.flit", name);
    cs_stats_action(st, buf, "flits", "flits across the crossbar (both directions)", &x->flits, "noc", "flit");
    cs_stats_instance(st, "noc", name);
    *out = x;
    return CS_OK;
}

void cs_xbar_destroy(cs_xbar *x)
{
    if (!x)
        return;
    cs_free(x->req_in);
    cs_free(x->resp_out);
    cs_free(x->req_out);
    cs_free(x->resp_in);
    cs_free(x->to_slice);
    cs_free(x->to_req);
    cs_component_fini(&x->base);
    cs_free(x);
}

cs_port *cs_xbar_req_in(cs_xbar *x, uint32_t i) { return &x->req_in[i]; }
cs_port *cs_xbar_resp_out(cs_xbar *x, uint32_t i) { return &x->resp_out[i]; }
cs_port *cs_xbar_req_out(cs_xbar *x, uint32_t j) { return &x->req_out[j]; }
cs_port *cs_xbar_resp_in(cs_xbar *x, uint32_t j) { return &x->resp_in[j]; }
cs_component *cs_xbar_component(cs_xbar *x) { return &x->base; }
uint64_t cs_xbar_flits(const cs_xbar *x) { return x->flits; }

/* xbar — the crossbar between the SMs (and other requesters) and the L2 slices.
 *
 * Requests enter on req_in[i] (one per requester), are routed by address (addrmap) to a
 * per-slice output FIFO and leave on req_out[j] when that link has credit; the input credit
 * is returned only when the request leaves the crossbar, so a congested slice back-pressures
 * exactly the requesters that use it. Responses go the other way, routed by req->src.
 * Bandwidth and latency live on the links the system builds around it (per-port bytes per
 * cycle, traversal latency); the crossbar adds arbitration (FIFO per output, in arrival order)
 * and buffering.
 *
 * The ideal variant (params.ideal, applied by the system to the links it builds) keeps the
 * traversal latency and drops the port bandwidth and credit limits.
 *
 * Counted action (class "noc"): flit, one 32-byte flit crossing the crossbar in either
 * direction (a request without data is one flit).
 */
#ifndef CS_XBAR_H
#define CS_XBAR_H

#include <stdint.h>

#include "addrmap.h"
#include "cfg.h"
#include "component.h"
#include "port.h"
#include "req.h"
#include "stats.h"

typedef struct cs_xbar_params {
    int64_t latency_cycles;        /* traversal, each direction */
    int64_t sm_bytes_per_cycle;    /* requester port width, each direction */
    int64_t slice_bytes_per_cycle; /* slice port width, each direction */
    int64_t port_queue;            /* messages a port may have in flight (its credits) */
    int64_t flit_bytes;
    bool ideal;                    /* links of unlimited bandwidth and capacity */
} cs_xbar_params;

extern const cs_cfg_schema cs_xbar_schema;

typedef struct cs_xbar cs_xbar;

cs_status cs_xbar_create(cs_engine *eng, const char *name, const cs_xbar_params *p,
                         uint32_t requesters, uint32_t slices, const cs_addrmap *map,
                         cs_stats *stats, cs_xbar **out, cs_err *err);
void cs_xbar_destroy(cs_xbar *x);

cs_port *cs_xbar_req_in(cs_xbar *x, uint32_t requester);
cs_port *cs_xbar_resp_out(cs_xbar *x, uint32_t requester);
cs_port *cs_xbar_req_out(cs_xbar *x, uint32_t slice);
cs_port *cs_xbar_resp_in(cs_xbar *x, uint32_t slice);
cs_component *cs_xbar_component(cs_xbar *x);
uint64_t cs_xbar_flits(const cs_xbar *x);

#endif

/* port — ports and the links that join them: latency, bandwidth, finite capacity, credits.
 *
 * Components never hold pointers to each other; they own ports and talk through links (the
 * SST model). A link is one-way: an output port of the sender to an input port of the
 * receiver. A message is a (ptr, arg) pair plus its size in bytes; the link does not look
 * inside it.
 *
 * Timing: the link serialises messages at bytes_per_cycle of its clock (a message occupies
 * ceil(bytes / bytes_per_cycle) cycles, starting at the first edge when the link is free), then
 * delivers it latency_ps later. bytes_per_cycle = 0 means no serialisation (infinite bandwidth).
 *
 * Back-pressure: capacity counts messages sent and not yet released by the receiver (in flight
 * plus waiting in the receiver's buffer). cs_port_try_send returns false when the link is full;
 * the sender's credit callback runs once, later, when the receiver releases a message. The
 * receiver calls cs_port_release when it frees the buffer the message occupied — that is how a
 * slow receiver throttles a fast sender without losing anything.
 *
 * Owned by: the system (or a test) creates and destroys links; components own their ports.
 */
#ifndef CS_PORT_H
#define CS_PORT_H

#include <stdbool.h>
#include <stdint.h>

#include "engine.h"

typedef struct cs_port cs_port;
typedef struct cs_link cs_link;
typedef void (*cs_recv_fn)(void *owner, cs_port *in, void *ptr, uint64_t arg);
typedef void (*cs_credit_fn)(void *owner, cs_port *out);

struct cs_port {
    void *owner;
    cs_recv_fn recv;     /* input ports */
    cs_credit_fn credit; /* output ports; may be NULL if the owner polls cs_port_can_send */
    cs_link *link;
    uint32_t id;         /* free for the owner: which of its ports this is */
};

typedef struct cs_link_params {
    cs_ps latency_ps;
    uint32_t bytes_per_cycle; /* 0 = unlimited bandwidth */
    const cs_clock *clock;    /* the clock bytes_per_cycle refers to; required when it is > 0 */
    uint32_t capacity;        /* messages sent and not yet released; 0 = unlimited */
} cs_link_params;

typedef struct cs_link_stats {
    uint64_t msgs;      /* messages accepted */
    uint64_t bytes;     /* their bytes */
    uint64_t refused;   /* try_send calls refused for lack of credit */
    uint64_t busy_ps;   /* time spent serialising */
    uint64_t max_inflight;
} cs_link_stats;

/* ---- create / destroy --------------------------------------------------------------------- */
void cs_port_init_in(cs_port *p, void *owner, cs_recv_fn recv, uint32_t id);
void cs_port_init_out(cs_port *p, void *owner, cs_credit_fn credit, uint32_t id);
/* Joins src (an output port) to dst (an input port). The name is copied (for dumps). */
cs_link *cs_link_create(cs_engine *eng, const char *name, const cs_link_params *params,
                        cs_port *src, cs_port *dst);
void cs_link_destroy(cs_link *link);

/* ---- run ---------------------------------------------------------------------------------- */
bool cs_port_try_send(cs_port *out, void *ptr, uint64_t arg, uint32_t bytes);
/* As try_send, but the message is not ready to leave before t_ready (>= now): a component
 * with a fixed pipeline latency hands the message over at once instead of scheduling an event
 * for the moment it is ready. It takes a credit now and departs at max(t_ready, link free). */
bool cs_port_try_send_at(cs_port *out, cs_ps t_ready, void *ptr, uint64_t arg, uint32_t bytes);
/* True when a message may be sent now. When it returns false the sender is registered for a
 * credit callback, exactly as if a try_send had been refused. */
bool cs_port_can_send(cs_port *out);
/* The receiver has consumed one message from this input port; returns a credit. */
void cs_port_release(cs_port *in);
/* Earliest time a message sent now would arrive (ignores capacity). */
cs_ps cs_port_arrival_if_sent(const cs_port *out, uint32_t bytes);

/* ---- query -------------------------------------------------------------------------------- */
const cs_link_stats *cs_link_get_stats(const cs_link *link);
const char *cs_link_name(const cs_link *link);
uint32_t cs_link_inflight(const cs_link *link);
/* Pointers for stats registration (counters live in the link). */
cs_link_stats *cs_link_stats_ptr(cs_link *link);

#endif

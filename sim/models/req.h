/* req — the memory request: the message SMs, the crossbar, L2 slices and DRAM channels pass
 * through their ports (as the ptr of a port message), and the pool that recycles them.
 *
 * A request names one 128 B line and a mask of its 32 B sectors; it travels down as a read or
 * a write and comes back up (for reads, and for writes that want an acknowledgement) as a
 * response carrying the data: the same object, with is_resp set. The originator fills `src`
 * (who to route the response to) and `ctx`/`tag` (its own bookkeeping); components below must
 * not touch those. Ownership: whoever holds the request now; the originator frees it when the
 * response arrives (or, for posted writes, the final consumer frees it).
 */
#ifndef CS_REQ_H
#define CS_REQ_H

#include <stdbool.h>
#include <stdint.h>

#include "cpath.h"
#include "engine.h"

enum {
    CS_LINE_BYTES = 128,
    CS_SECTOR_BYTES = 32,
    CS_SECTORS_PER_LINE = 4,
    CS_REQ_HEADER_BYTES = 8 /* size of a request without data on a link (address, command) */
};

typedef enum {
    CS_REQ_READ = 0,
    CS_REQ_WRITE = 1,     /* data travels with the request */
    CS_REQ_REDUCE = 2,    /* read-modify-write at the L2 (atomic add of partial sums) */
    CS_REQ_CIM = 3,       /* inputs for a CiM macro in an L2 slice; partial sums come back */
    CS_REQ_KIND_COUNT
} cs_req_kind;

typedef struct cs_req {
    uint64_t addr;        /* line-aligned byte address (DRAM requests: sector-aligned) */
    uint8_t kind;         /* cs_req_kind */
    uint8_t sectors;      /* bit i = sector i of the line */
    bool is_resp;         /* travelling back up */
    bool no_ack;          /* writes: the originator wants no response */
    uint16_t src;         /* originating port index at the crossbar (SM or CiM controller) */
    uint16_t hop;         /* free for the component holding it (e.g. L2 slice, channel) */
    uint32_t tag;         /* originator's */
    void *ctx;            /* originator's */
    cs_ps t_issue;        /* when the originator issued it (latency statistics) */
    struct cs_req *next;  /* free for the holder (queues, MSHR chains, the pool) */
    /* CS_REQ_CIM only: target slice and macro, the tile sequence number the macro must hold,
     * the work (rows x k inputs against k x n weights) and the payload on the wire now
     * (inputs going down, 4-byte partial sums coming back). */
    uint16_t dst, macro;
    uint32_t seq, rows, k, n, bytes;
    /* Critical-path attribution (cpath.h): the path the request carries (a reference the pool
     * releases when the request is freed), a timestamp free for the component holding it, and
     * the parts of its latency spent waiting on DRAM and behind a CiM macro's share of the L2
     * data port (stamped by the L2). */
    cs_cp cp;
    cs_ps t_stamp, dram_ps, cont_ps;
} cs_req;

/* Sectors set in a mask (4 bits; no library call on targets without popcnt). */
static inline uint32_t cs_sectors_count(uint8_t mask)
{
    static const uint8_t n[16] = {0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4};
    return n[mask & 15];
}

static inline uint32_t cs_req_data_bytes(const cs_req *r)
{
    return cs_sectors_count(r->sectors) * CS_SECTOR_BYTES;
}

/* Bytes the request occupies on a link in its current direction. */
static inline uint32_t cs_req_wire_bytes(const cs_req *r)
{
    if (r->kind == CS_REQ_CIM)
        return r->bytes ? r->bytes : CS_REQ_HEADER_BYTES;
    bool carries_data = r->is_resp ? r->kind == CS_REQ_READ : r->kind != CS_REQ_READ;
    return carries_data ? cs_req_data_bytes(r) : CS_REQ_HEADER_BYTES;
}

/* A pool of requests: no allocation per request once warmed up. Not thread-safe: one pool per
 * simulated system (one system per thread). */
typedef struct cs_req_pool cs_req_pool;
cs_req_pool *cs_req_pool_create(void);
/* The arena of critical paths of the system the pool serves (owned by the pool). */
cs_cpath *cs_req_pool_cpath(cs_req_pool *pool);
void cs_req_pool_destroy(cs_req_pool *pool);
cs_req *cs_req_alloc(cs_req_pool *pool);        /* zeroed */
void cs_req_free(cs_req_pool *pool, cs_req *r); /* releases r->cp */
uint64_t cs_req_pool_live(const cs_req_pool *pool); /* allocated and not yet freed */

#endif

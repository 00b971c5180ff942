/* l2 — one L2 slice: tag pipeline, sectored set-associative data array with LRU, MSHRs with
 * request merging, write-back and write-allocate, in-L2 reductions, and its DRAM side.
 *
 * Requests (req.h) arrive from the crossbar on `in`, one 128 B line with a sector mask each,
 * and enter a FIFO; the tag pipeline takes `lookups` requests per cycle (the input credit is
 * returned then, so a slow slice back-pressures the crossbar). A read hit is answered after
 * the hit latency, the data port permitting (bytes_per_cycle); a read miss allocates or joins
 * the line's MSHR and asks DRAM for the missing sectors; when MSHRs (or an MSHR's merge
 * slots) run out, the pipeline stalls until a fill frees one. Writes allocate without
 * fetching (the written sectors become valid and dirty; a partial-sector write counts as a
 * whole sector) and are acknowledged unless no_ack.
 * REDUCE (atomic add of partial sums) is a read-modify-write: a miss fetches first. Victims
 * with dirty sectors are written back (posted writes). cs_l2_flush writes back every dirty
 * line (the system calls it at the end of a GEMM so the stored bytes reach DRAM).
 *
 * The ideal variant (params.ideal) answers every request after ideal_latency_ps and never
 * goes to DRAM: a perfect L2 for bounds. The bypass variant (params.bypass) is no cache at
 * all: reads and reductions go to DRAM, writes are forwarded, nothing is counted as an L2
 * action (for templates, like the WWW study's, with no L2).
 *
 * Counted actions (class "l2"): tag (one lookup), read and write (one 32 B sector of the data
 * array each: hits, fills, write-backs, stores).
 */
#ifndef CS_L2_H
#define CS_L2_H

#include <stdbool.h>
#include <stdint.h>

#include "addrmap.h"
#include "cim.h"
#include "opsrc.h"
#include "cfg.h"
#include "component.h"
#include "port.h"
#include "req.h"
#include "stats.h"

typedef struct cs_l2_params {
    uint64_t size_bytes;          /* whole L2 */
    int64_t slices;
    int64_t assoc;
    int64_t hit_latency_cycles;   /* tag lookup to response leaving the slice */
    int64_t bytes_per_cycle;      /* data-array port of one slice */
    int64_t lookups_per_cycle;    /* tag pipeline throughput */
    int64_t mshrs;                /* per slice */
    int64_t mshr_targets;         /* requests merged into one MSHR */
    int64_t input_queue;          /* requests buffered at the slice input */
    uint64_t mem_latency_ps;      /* one way, slice to its DRAM controller */
    uint64_t interleave_bytes;    /* consecutive bytes mapped to one slice (and DRAM channel) */
    bool ideal;
    uint64_t ideal_latency_ps;
    bool bypass;                  /* no cache: every request goes to DRAM (templates without L2) */
} cs_l2_params;

extern const cs_cfg_schema cs_l2_schema;

typedef struct cs_l2 cs_l2;

/* ---- create / destroy --------------------------------------------------------------------- */
cs_status cs_l2_create(cs_engine *eng, const char *name, uint32_t slice, const cs_l2_params *p,
                       const cs_addrmap *map, const cs_clock *clk, cs_req_pool *pool,
                       cs_stats *stats, cs_l2 **out, cs_err *err);
void cs_l2_destroy(cs_l2 *l2);

/* ---- wiring ------------------------------------------------------------------------------- */
cs_port *cs_l2_in(cs_l2 *l2);      /* requests from the crossbar */
cs_port *cs_l2_out(cs_l2 *l2);     /* responses to the crossbar */
cs_port *cs_l2_mem_out(cs_l2 *l2); /* requests to the DRAM channel */
cs_port *cs_l2_mem_in(cs_l2 *l2);  /* responses from the DRAM channel */
cs_component *cs_l2_component(cs_l2 *l2);

/* ---- CiM (L2-level placement) ------------------------------------------------------------
 * Macros in the slice. Their weights come from the slice's own DRAM channel (a CiM-aware
 * layout: a slice's weight region is the range of its line keys from CS_L2_CIM_BASE_KEY), and
 * are written by the slice's controller stream: CIM_WRITE x=macro addr=byte offset in the
 * region (a multiple of 128) rows x row_bytes = tile bytes, tag = the tile's sequence number,
 * local = how many compute requests will use it (the macro moves on to its next tile after
 * them); flag CS_OPF_ACCUM: the tile is already resident (no data moves). SMs send CS_REQ_CIM
 * requests carrying the inputs; a request waits until its macro holds tile `seq`, computes,
 * and returns rows x n 4-byte partial sums. */
#define CS_L2_CIM_BASE_KEY (1ull << 40)
/* The slice owns g from now on. */
void cs_l2_attach_cim(cs_l2 *l2, cs_cim_group *g);
/* Starts this slice's CiM controller stream for a kernel (reads its ops; the stream is short).
 * Returns CS_FORMAT (message in err) if the stream is malformed. */
cs_status cs_l2_start_cim(cs_l2 *l2, cs_opsrc *src, uint32_t stream, cs_err *err);
/* Host function for the macro group: reserves the slice's data port. */
cs_ps cs_l2_occupy(void *l2, uint32_t sub, cs_ps now, uint64_t cycles);

/* ---- run / query -------------------------------------------------------------------------- */
/* Writes back every dirty line and invalidates the slice. */
void cs_l2_flush(cs_l2 *l2);
typedef struct cs_l2_counts {
    uint64_t tag, read, write;              /* actions */
    uint64_t rd_hit, rd_miss, mshr_merge, wr, red, stall_cycles;
    uint64_t fill_sectors, writeback_sectors, evictions;
    uint64_t bytes_in, bytes_out;           /* data to/from the crossbar side */
    uint64_t dram_bytes_read, dram_bytes_written;
    uint64_t data_busy_cycles;
    uint64_t cim_port_cycles;               /* data-port cycles reserved by CiM macros (their bank share) */
    uint64_t cim_fetch_sectors;             /* weight sectors fetched from DRAM for CiM */
    uint64_t cim_requests;                  /* CiM compute requests served */
} cs_l2_counts;
const cs_l2_counts *cs_l2_get_counts(const cs_l2 *l2);
const cs_cim_group *cs_l2_cim(const cs_l2 *l2); /* NULL without L2 CiM */

#endif

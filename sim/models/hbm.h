/* hbm — one DRAM channel (an HBM2 pseudo-channel): request queue, banks with row buffers,
 * the DRAM timing set, FR-FCFS scheduling, refresh. Bandwidth is not a parameter: it emerges
 * from the data-bus width, the burst length and the timing constraints.
 *
 * Requests (cs_req, req.h) arrive on the channel's input ports from the L2 slices attached to
 * it, one request per 128 B line with a mask of 32 B sectors; each sector is one burst (column
 * command) to the same bank and row. A read completes when its last sector's data has crossed
 * the bus; the request then goes back, as a response, on the output port with the same index
 * as the input port it came in on. Writes are posted: the channel frees them (no_ack) or
 * acknowledges them (otherwise) once their data is written.
 *
 * Also: an ideal variant (params.ideal): fixed latency, unlimited bandwidth, no banks — for
 * bounds and as a test double.
 *
 * Counted actions (energy class "dram"): act, pre, rd (one burst), wr (one burst), ref.
 * Statistics also: row hits / misses / conflicts, queue wait histogram, data-bus busy cycles.
 */
#ifndef CS_HBM_H
#define CS_HBM_H

#include <stdbool.h>
#include <stdint.h>

#include "addrmap.h"
#include "cfg.h"
#include "component.h"
#include "port.h"
#include "req.h"
#include "stats.h"

/* Timing in DRAM command-clock cycles (names as in JEDEC / DRAMsim3). */
typedef struct cs_hbm_timing {
    int64_t tRCD, tRP, tRAS, tRC, tCL, tWL, tCCDS, tCCDL, tRRDS, tRRDL, tFAW, tWR, tWTRS, tWTRL,
        tRTW, tRTP, tREFI, tRFC;
} cs_hbm_timing;

enum { CS_HBM_FRFCFS = 0, CS_HBM_FCFS = 1 };
enum { CS_HBM_OPEN_PAGE = 0, CS_HBM_CLOSED_PAGE = 1 };

typedef struct cs_hbm_params {
    int64_t channels;        /* in the whole system */
    uint64_t clock_khz;      /* command clock; data moves on both edges */
    int64_t bus_bits;        /* data bits per channel */
    int64_t burst_length;    /* beats per burst: bytes per burst = bus_bits / 8 * burst_length */
    int64_t bank_groups;
    int64_t banks_per_group;
    uint64_t row_bytes;      /* page size per channel */
    int64_t queue_entries;   /* request queue per channel */
    int scheduler;           /* CS_HBM_FRFCFS | CS_HBM_FCFS */
    int page_policy;         /* CS_HBM_OPEN_PAGE | CS_HBM_CLOSED_PAGE */
    int64_t row_hit_cap;     /* FR-FCFS: row hits served ahead of an older miss, at most */
    bool refresh;            /* model refresh (tREFI / tRFC) */
    bool ideal;              /* ideal variant */
    uint64_t ideal_latency_ps;
    cs_hbm_timing timing;
} cs_hbm_params;

extern const cs_cfg_schema cs_hbm_schema; /* the "hbm" group of an architecture file */

typedef struct cs_hbm cs_hbm;

/* ---- create / destroy ---------------------------------------------------------------------
 * Channel `index` of the system, with `nports` input/output port pairs (one per attached L2
 * slice). Statistics are registered under `name` ("gpu.hbm.ch07"). The request pool frees
 * posted writes. */
cs_status cs_hbm_create(cs_engine *eng, const char *name, uint32_t index,
                        const cs_hbm_params *p, const cs_addrmap *map, uint32_t nports,
                        cs_req_pool *pool, cs_stats *stats, cs_hbm **out, cs_err *err);
void cs_hbm_destroy(cs_hbm *h);

/* ---- wiring ------------------------------------------------------------------------------- */
cs_port *cs_hbm_in(cs_hbm *h, uint32_t port);
cs_port *cs_hbm_out(cs_hbm *h, uint32_t port);
cs_component *cs_hbm_component(cs_hbm *h);

/* ---- query -------------------------------------------------------------------------------- */
/* Peak data bandwidth of one channel in bytes per second (from bus width, clock, DDR). */
double cs_hbm_peak_bytes_per_s(const cs_hbm_params *p);
uint32_t cs_hbm_burst_bytes(const cs_hbm_params *p);
typedef struct cs_hbm_counts {
    uint64_t act, pre, rd, wr, ref;
    uint64_t row_hits, row_misses, row_conflicts;
    uint64_t bytes_read, bytes_written;
    uint64_t bus_busy_cycles;
} cs_hbm_counts;
const cs_hbm_counts *cs_hbm_get_counts(const cs_hbm *h);

#endif

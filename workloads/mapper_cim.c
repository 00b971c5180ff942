/* mapper_cim — CiM mapping search and op-stream generation.
 *
 * Weights are packed tile by tile (an offline layout step, as accelerators do): tile (i, j) of
 * B, nt columns x kt reduction elements, holds bytes [(i * ceil(K/kt) + j) * nt * kt, ...)
 * from the layout's B address, so a tile is fetched in whole lines whatever kt is.
 *
 * Geometry shared by the search and the generators (so what is estimated is what runs):
 *  - controller c = (gn, gk, gm) in the grid takes rows [gm*Mc, ...), columns [gn*Nc, ...) and
 *    reduction [gk*Kc, ...) of the GEMM (ceil divisions; the last share may be smaller, or empty);
 *  - its tiles are numbered t = nb * tiles_k + kb (reduction innermost, so a column block's
 *    partial sums complete in as few rounds as possible);
 *  - round r holds tiles [r*slots, (r+1)*slots); slot i, copy c sits in macro
 *    set_base(r) + i*dup + c, set_base = (r mod sets) * (macros / sets);
 *  - macro j is driven by warp j mod 4 (rf level: the macros of sub-partition j mod 4).
 * Generators build one CTA of ops at a time per stream, so memory stays bounded.
 */
#include "mapper_cim.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "json.h"

static uint64_t cdiv(uint64_t a, uint64_t b) { return b ? (a + b - 1) / b : 0; }
static uint64_t min64(uint64_t a, uint64_t b) { return a < b ? a : b; }
static uint64_t max64(uint64_t a, uint64_t b) { return a > b ? a : b; }

static const char *const level_names[] = {"rf", "smem", "l2"};

const char *cs_cim_level_name(int level)
{
    return level >= 0 && level < CS_CIM_LEVELS ? level_names[level] : "?";
}

int cs_cim_level_from_name(const char *s)
{
    for (int i = 0; i < CS_CIM_LEVELS; i++)
        if (strcmp(s, level_names[i]) == 0)
            return i;
    return -1;
}

void cs_cim_request_init(cs_cim_request *r)
{
    *r = (cs_cim_request){.mode = CS_CIM_MAP_AUTO, .goal = CS_CIM_GOAL_CYCLES, .dup = 0, .order = -1,
                          .double_buffer = -1};
}

enum { WARPS = 4 };

/* ---- geometry ----------------------------------------------------------------------------- */

typedef struct share {
    uint64_t m0, mc, n0, nc, k0, kc;
    uint64_t tn, tk; /* tiles */
} share;

static bool controller_share(const cs_gemm *g, const cs_cim_mapping *m, uint32_t c, share *s)
{
    uint32_t used = m->grid_n * m->grid_k * m->grid_m;
    if (c >= used)
        return false;
    uint32_t gn = c % m->grid_n, gk = (c / m->grid_n) % m->grid_k, gm = c / (m->grid_n * m->grid_k);
    /* shares of N and K are whole tiles, so tiles (and the packed weights) never straddle two */
    uint64_t Nc = cdiv(cdiv(g->n, m->grid_n), m->nt) * m->nt, Kc = cdiv(cdiv(g->k, m->grid_k), m->kt) * m->kt;
    uint64_t Mc = cdiv(g->m, m->grid_m);
    s->n0 = gn * Nc;
    s->k0 = gk * Kc;
    s->m0 = gm * Mc;
    if (s->n0 >= g->n || s->k0 >= g->k || s->m0 >= g->m)
        return false;
    s->nc = min64(Nc, g->n - s->n0);
    s->kc = min64(Kc, g->k - s->k0);
    s->mc = min64(Mc, g->m - s->m0);
    s->tn = cdiv(s->nc, m->nt);
    s->tk = cdiv(s->kc, m->kt);
    return true;
}

static uint32_t sets_of(const cs_cim_mapping *m) { return m->double_buffer ? 2 : 1; }

static uint32_t macro_of(const cs_cim_target *ct, const cs_cim_mapping *m, uint64_t r, uint32_t slot, uint32_t copy)
{
    uint32_t per_set = ct->macros / sets_of(m);
    return (uint32_t)(r % sets_of(m)) * per_set + slot * m->dup + copy;
}

/* Tile t's column and reduction ranges within the share. */
static void tile_range(const cs_cim_mapping *m, const share *s, uint64_t t, uint64_t *n0, uint64_t *nn,
                       uint64_t *k0, uint64_t *kn)
{
    uint64_t nb = t / s->tk, kb = t % s->tk;
    *n0 = s->n0 + nb * m->nt;
    *nn = min64(m->nt, s->n0 + s->nc - *n0);
    *k0 = s->k0 + kb * m->kt;
    *kn = min64(m->kt, s->k0 + s->kc - *k0);
}

/* Union of the reduction ranges of round r's tiles within a share: the inputs a round needs. */
static void round_k_range(const cs_cim_mapping *m, const share *s, uint64_t r, uint64_t *k0, uint64_t *kn)
{
    uint64_t t0 = r * m->slots, t1 = min64(t0 + m->slots, s->tn * s->tk);
    if (t0 >= t1) { /* past this share's tiles */
        *k0 = s->k0;
        *kn = 0;
        return;
    }
    if (t1 - t0 >= s->tk || t0 / s->tk != (t1 - 1) / s->tk) { /* spans column blocks: all of K */
        *k0 = s->k0;
        *kn = s->kc;
        return;
    }
    uint64_t a0, an, b0, bn, n0, nn;
    tile_range(m, s, t0, &n0, &nn, &a0, &an);
    tile_range(m, s, t1 - 1, &n0, &nn, &b0, &bn);
    *k0 = a0;
    *kn = b0 + bn - a0;
}

/* The largest such range over the rounds: what a staging buffer row must hold. */
static uint64_t max_round_k(const cs_cim_mapping *m, const share *s)
{
    uint64_t best = 0, rounds = cdiv(s->tn * s->tk, m->slots);
    for (uint64_t r = 0; r < rounds; r++) {
        uint64_t k0, kn;
        round_k_range(m, s, r, &k0, &kn);
        if (kn > best)
            best = kn;
        if (best == s->kc)
            break;
    }
    return best;
}

/* ---- estimate ----------------------------------------------------------------------------- */

/* The slowest controller's time and the GPU's energy for a complete mapping (derived fields
 * filled). Analytical: used only to rank candidates; the simulation measures the result. */
enum { CS_LINE_BYTES_EST = 128 };
enum { L2_STAGES = 8 }; /* most staging buffers an L2 op stream keeps in flight per CTA */ /* an SM's load/store unit issues one 128-byte line per cycle */

static double pos(double bw) { return bw > 0 ? bw : HUGE_VAL; } /* 0 means unlimited */

static void estimate(const cs_target *t, const cs_cim_target *ct, const cs_gemm *g, int dtype, cs_cim_mapping *m)
{
    share s;
    controller_share(g, m, 0, &s); /* controller 0 has the largest share */
    uint64_t eb = (uint64_t)cs_dtype_bytes(dtype);
    m->mc = s.mc;
    m->nc = s.nc;
    m->kc = s.kc;
    m->tiles_n = s.tn;
    m->tiles_k = s.tk;
    uint64_t T = s.tn * s.tk;
    m->slots = ct->macros / sets_of(m) / m->dup;
    m->rounds = cdiv(T, m->slots);
    m->resident = m->rounds == 1;
    m->chunks = cdiv(s.mc, m->m1);
    uint32_t ctrls = m->grid_n * m->grid_k * m->grid_m;
    double tile_bytes = (double)m->kt * m->nt * (double)eb;
    double ops_row = (double)cdiv(m->kt, ct->rp) * (double)cdiv(m->nt, ct->cp);
    double L = t->mem_latency_cycles, chunks = (double)m->chunks, rounds = (double)m->rounds;
    double rows = (double)min64(m->m1, s.mc);                /* rows of a step (a chunk) */
    double kd = (double)max_round_k(m, &s);                   /* the staged K range of a round */
    double in_tiles = (double)min64(T, m->slots);             /* tiles of a round */
    double active = in_tiles * m->dup;                        /* macros computing in a round */
    double cols = (double)min64(s.nc, (uint64_t)m->slots * m->nt); /* columns of a round */
    double sm_port = pos(t->sm_port_bytes_per_cycle), sl_port = pos(t->slice_port_bytes_per_cycle);
    double dram_bpc = t->dram_bytes_per_s / t->clock_hz;
    double write = tile_bytes / ct->write_bytes_per_cycle;    /* a macro's tile, at its write bandwidth */
    double round_c, fetch;
    if (ct->level != CS_CIM_L2) {
        /* a step computes one chunk against the round's tiles, every macro at once, the copies
         * splitting its rows; the inputs are read once (broadcast) while the next step's are
         * staged; then the partial sums are read out, each warp its macros' */
        double compute = ceil(rows / m->dup) * ops_row * ct->latency_cycles;
        double in_bytes = rows * kd * (double)eb;
        double host = ct->host_share * active * compute;      /* the macros' bank share */
        double smem = 2 * in_bytes / pos(t->smem_bytes_per_cycle) + (ct->level == CS_CIM_SMEM ? host : 0);
        double stage = in_bytes / fmin(fmin(sm_port, CS_LINE_BYTES_EST), t->l2_bytes_per_cycle / ctrls);
        /* read-outs: read-modify-writes of 4-byte sums, spread over the sub-partitions' ports */
        double psum_rf = 2 * rows * cols * 4 / 4 / pos(ct->rf_port_bytes_per_cycle);
        double rf = ct->level == CS_CIM_RF ? host / ct->subs : 0;
        double step = fmax(fmax(compute, rf), fmax(smem, stage)) + psum_rf;
        fetch = (double)m->slots * m->dup * tile_bytes /
                fmin(fmin(sm_port, CS_LINE_BYTES_EST), dram_bpc / ctrls);
        round_c = chunks * step;
    } else {
        /* a slice computes, per round, every chunk of its row group against its tiles (a copy
         * takes every dup-th chunk); the inputs come in through its crossbar port once per
         * chunk (broadcast to its macros), the partial sums go back the same way; the SMs send
         * the items' inputs through their own ports */
        double compute = ceil(chunks / m->dup) * rows * ops_row * ct->latency_cycles;
        double in_bytes = chunks * rows * kd * (double)eb, out_bytes = chunks * rows * cols * 4;
        double host = ct->host_share * active * ceil(chunks / m->dup) * rows * ops_row * ct->latency_cycles;
        double items = (double)m->grid_m * chunks * m->grid_n;
        double per_sm = ceil(items / t->sms) * m->grid_k * rows * (2 * kd * (double)eb + cols * 4);
        round_c = fmax(fmax(compute, host), fmax((in_bytes + out_bytes) / sl_port, per_sm / sm_port));
        /* an SM stages a ring of nbuf steps ahead; the inputs of the next ones are read from L2
         * slices whose ports the computing macros hold (their bank share, hr of a request's
         * compute, contiguous), so each further ring waits for that reservation */
        double buf = (double)m->m1 * kd * (double)eb;
        double nbuf = fmin(L2_STAGES, fmax(2, floor((double)ct->stage_bytes / fmax(1, buf))));
        double waves = ceil(ceil(items / t->sms) * m->grid_k / nbuf);
        double c_req = rows * ops_row * ct->latency_cycles, hr = ct->host_share * active * c_req;
        round_c = fmax(round_c, (waves - 1) * hr + fmax(compute, host));
        fetch = (double)m->slots * m->dup * tile_bytes / (dram_bpc / ct->controllers);
    }
    double w_round = fmax(write, fetch);
    double total;
    if (m->order == CS_CIM_WS || m->rounds == 1)
        total = rounds * (m->double_buffer ? fmax(w_round, round_c) : w_round + round_c) +
                (m->double_buffer ? w_round : 0);
    else /* output-stationary: every chunk rewrites every round's tiles */
        total = chunks * rounds * (m->double_buffer ? fmax(w_round, round_c / chunks) : w_round + round_c / chunks);
    if (m->resident && g->repeat > 1) /* later repeats skip the writes */
        total = (total + (double)(g->repeat - 1) * rounds * round_c) / (double)g->repeat;
    /* partial sums spilled to L2 between rounds (weight-stationary, registers too small) */
    uint64_t rounds_per_block = cdiv(s.tk, m->slots) > 1 ? cdiv(s.tk, m->slots) : 1;
    m->spill = m->order == CS_CIM_WS && rounds_per_block > 1 &&
               s.mc * min64(s.nc, (uint64_t)m->slots * m->nt) * 4 > ct->acc_bytes;
    double spill_bytes = m->spill ? (double)s.mc * (double)s.nc * 4.0 * (double)rounds_per_block : 0;
    total += spill_bytes / fmin(t->l2_bytes_per_cycle / ctrls, ct->level == CS_CIM_L2 ? sl_port : sm_port);
    /* fill and drain: the first weights and inputs arrive a DRAM round trip after the start,
     * the last outputs are stored a round trip before the end */
    m->est_cycles = total + 2.0 * L;
    /* energy: MACs executed, weight writes, weight fetches, input and output movement */
    double macs = (double)g->m * (double)g->n * (double)g->k;
    double exec = macs * ((double)(cdiv(m->kt, ct->rp) * ct->rp) / m->kt) * ((double)(cdiv(m->nt, ct->cp) * ct->cp) / m->nt);
    double rewrites = (m->order == CS_CIM_OS && m->rounds > 1) ? (double)m->chunks : 1.0;
    double wbytes = (double)g->n * (double)g->k * (double)eb * m->dup * (double)m->grid_m * rewrites;
    m->weight_bytes = (uint64_t)wbytes;
    double inputs = (double)g->m * (double)g->k * (double)eb * (double)m->grid_n *
                    (m->order == CS_CIM_WS ? (double)cdiv(s.tn, m->slots ? m->slots : 1) : 1.0);
    double energy = exec * ct->mac_pj + wbytes / ct->ch * ct->write_pj + wbytes * ct->dram_pj_per_byte +
                    inputs * ct->onchip_pj_per_byte + spill_bytes * (double)ctrls * ct->onchip_pj_per_byte;
    if (m->resident && g->repeat > 1)
        energy -= (wbytes / ct->ch * ct->write_pj + wbytes * ct->dram_pj_per_byte) * (1.0 - 1.0 / (double)g->repeat);
    /* what accrues with time (leakage, static power) over the estimated cycles, every repeat */
    energy += ct->static_pj_per_cycle * m->est_cycles * (double)g->repeat;
    m->est_energy_pj = energy;
}

static double score(const cs_cim_mapping *m, int goal)
{
    return goal == CS_CIM_GOAL_ENERGY ? m->est_energy_pj
           : goal == CS_CIM_GOAL_EDP  ? m->est_energy_pj * m->est_cycles
                                      : m->est_cycles;
}

/* Rows per chunk: two staging buffers of m1 x (K of a round) must fit, and (output-stationary)
 * m1 x N partial sums must fit the accumulators. */
static uint32_t choose_m1(const cs_cim_target *ct, const cs_cim_mapping *m, const share *s, int dtype)
{
    uint64_t eb = (uint64_t)cs_dtype_bytes(dtype);
    uint64_t round_k = max_round_k(m, s);
    uint64_t m1 = s->mc;
    if (ct->stage_bytes) {
        uint64_t fit = ct->stage_bytes / 2 / max64(1, round_k * eb);
        m1 = min64(m1, max64(1, fit));
    }
    if (m->order == CS_CIM_OS) {
        uint64_t fit = ct->acc_bytes / max64(1, s->nc * 4);
        m1 = min64(m1, max64(1, fit));
    }
    /* a chunk is split over the copies of a tile: keep it a multiple of dup when possible */
    if (m->dup > 1 && m1 >= m->dup && ct->level != CS_CIM_L2)
        m1 = m1 / m->dup * m->dup;
    return (uint32_t)min64(m1, 65536);
}

/* Completes a candidate (tile, grid, dup, order, double buffer given). False if it cannot run. */
static bool complete(const cs_target *t, const cs_cim_target *ct, const cs_gemm *g, int dtype, cs_cim_mapping *m)
{
    if (m->grid_n * m->grid_k * m->grid_m > ct->controllers || !m->dup)
        return false;
    if (ct->macros / sets_of(m) / m->dup == 0)
        return false;
    share s;
    if (!controller_share(g, m, 0, &s))
        return false;
    m->slots = ct->macros / sets_of(m) / m->dup;
    m->from_global = ct->stage_bytes == 0;
    m->m1 = choose_m1(ct, m, &s, dtype);
    estimate(t, ct, g, dtype, m);
    return true;
}

/* Every complete candidate of the enumeration, in its order. */
typedef struct cand_list {
    cs_cim_mapping *m;
    size_t n, cap;
} cand_list;

static void consider(cand_list *l, const cs_cim_mapping *cand)
{
    CS_GROW(l->m, l->cap, l->n + 1);
    l->m[l->n++] = *cand;
}

/* The index of the best candidate by goal not yet taken; a candidate beats an earlier one only
 * when its score is lower by more than 0.1 % (ties keep the enumeration order). */
static size_t best_of(const cand_list *l, int goal, const bool *taken)
{
    size_t best = l->n;
    for (size_t i = 0; i < l->n; i++)
        if (!taken[i] && (best == l->n || score(&l->m[i], goal) < score(&l->m[best], goal) * 0.999))
            best = i;
    return best;
}

/* The WWW algorithm on a controller's share: tile, bank spread, M1 and loop order. */
static bool www_fill(const cs_cim_target *ct, const cs_gemm *g, int dtype, cs_cim_mapping *m, cs_err *err)
{
    share s;
    m->kt = m->nt = 1; /* the unaligned share the study's algorithm maps */
    if (!controller_share(g, m, 0, &s))
        return false;
    cs_www_input in;
    cs_www_input_init(&in, ct->level == CS_CIM_RF ? CS_WWW_LEVEL_RF : CS_WWW_LEVEL_SMEM);
    in.m = s.mc;
    in.n = s.nc;
    in.k = s.kc;
    in.rp = ct->rp;
    in.cp = ct->cp;
    in.rh = ct->rh;
    in.ch = ct->ch;
    in.bank_y = ct->macros;
    in.above_bytes = ct->level == CS_CIM_RF && ct->stage_bytes ? ct->stage_bytes : 0;
    in.in_elem_bytes = in.out_elem_bytes = (uint32_t)cs_dtype_bytes(dtype);
    if (cs_www_map(&in, &m->www, err) != CS_OK)
        return false;
    m->has_www = true;
    m->kt = (uint32_t)(m->www.array.k * m->www.storage.k);
    m->nt = (uint32_t)(m->www.array.n * m->www.storage.n);
    /* the study's inner above-level loop over M means the weights stay while inputs stream */
    m->order = (!m->www.has_above || m->www.perm_above[0] == 'M') ? CS_CIM_WS : CS_CIM_OS;
    m->double_buffer = false;
    m->dup = 1;
    return true;
}

cs_status cs_cim_map(const cs_target *t, const cs_cim_target *ct, const cs_gemm *g, int dtype,
                     const cs_cim_request *req, cs_cim_mapping *out, cs_err *err)
{
    size_t n;
    cs_cim_request one = *req;
    one.candidates = 1;
    return cs_cim_map_candidates(t, ct, g, dtype, &one, out, 1, &n, err);
}

cs_status cs_cim_map_candidates(const cs_target *t, const cs_cim_target *ct, const cs_gemm *g, int dtype,
                                const cs_cim_request *req, cs_cim_mapping *out, size_t cap, size_t *nout,
                                cs_err *err)
{
    *nout = 0;
    if (!ct->macros || !ct->controllers || !ct->rp || !ct->cp)
        return cs_err_add(err, CS_INVALID, "mapper: error: cim: no macros to map onto");
    /* The primitive's latency and energies are those of its listed precisions; wider data
     * would need bit-slicing, which is not modelled: refuse rather than under-count. */
    uint32_t bits = 8 * (uint32_t)cs_dtype_bytes(dtype);
    if ((ct->input_bits && bits > ct->input_bits) || (ct->weight_bits && bits > ct->weight_bits))
        return cs_err_add(err, CS_INVALID,
                          "mapper: error: cim: %s computes on %u-bit inputs and %u-bit weights; %s GEMMs need "
                          "%u bits (give a primitive file with wider input_bits and weight_bits)",
                          ct->name ? ct->name : "the primitive", ct->input_bits, ct->weight_bits,
                          cs_dtype_name(dtype), bits);
    if ((req->mode == CS_CIM_MAP_WWW && ct->level != CS_CIM_L2) || req->mode == CS_CIM_MAP_TIMELOOP) {
        cs_status st = cs_nest_cim_map(t, ct, g, dtype, req, out, err); /* one mapping: the nest's */
        *nout = st == CS_OK;
        return st;
    }
    uint64_t tk = (uint64_t)ct->rp * ct->rh, tn = (uint64_t)ct->cp * ct->ch;
    cand_list all = {0};
    uint64_t nN = cdiv(g->n, tn), nK = cdiv(g->k, tk);
    /* grids: powers of two (and the exact tile counts) for each dimension */
    uint32_t gn_opts[24], gk_opts[24], gm_opts[24];
    int ngn = 0, ngk = 0, ngm = 0;
    for (uint64_t v = 1; v <= min64(nN, ct->controllers) && ngn < 22; v *= 2)
        gn_opts[ngn++] = (uint32_t)v;
    if (min64(nN, ct->controllers) != gn_opts[ngn - 1])
        gn_opts[ngn++] = (uint32_t)min64(nN, ct->controllers);
    for (uint64_t v = 1; v <= min64(nK, ct->controllers) && ngk < 22; v *= 2)
        gk_opts[ngk++] = (uint32_t)v;
    for (uint64_t v = 1; v <= min64(g->m, ct->controllers) && ngm < 22; v *= 2)
        gm_opts[ngm++] = (uint32_t)v;
    for (int a = 0; a < ngn; a++)
        for (int b = 0; b < ngk; b++)
            for (int c = 0; c < ngm; c++) {
                uint64_t used = (uint64_t)gn_opts[a] * gk_opts[b] * gm_opts[c];
                if (used > ct->controllers)
                    continue;
                cs_cim_mapping m = {.mode = req->mode, .goal = req->goal, .grid_n = gn_opts[a],
                                    .grid_k = gk_opts[b], .grid_m = gm_opts[c]};
                if (req->mode == CS_CIM_MAP_WWW) {
                    cs_err quiet;
                    cs_err_init(&quiet);
                    if (!www_fill(ct, g, dtype, &m, &quiet))
                        continue;
                    if (req->dup) {
                        if (req->dup % m.grid_m)
                            continue;
                        m.dup = req->dup / m.grid_m;
                    }
                    if (complete(t, ct, g, dtype, &m))
                        consider(&all, &m);
                    continue;
                }
                m.kt = (uint32_t)min64(tk, cdiv(g->k, m.grid_k));
                m.nt = (uint32_t)min64(tn, cdiv(g->n, m.grid_n));
                share s;
                if (!controller_share(g, &m, 0, &s))
                    continue;
                for (int order = 0; order < 2; order++) {
                    if (req->order >= 0 && order != req->order)
                        continue;
                    for (int db = 0; db < 2; db++) {
                        if (req->double_buffer >= 0 && db != req->double_buffer)
                            continue;
                        for (uint32_t dup = 1; dup <= ct->macros; dup *= 2) {
                            /* a forced --dup is the total number of copies of a tile:
                             * across controllers (grid_m) times within one */
                            if (req->dup && (uint64_t)dup * m.grid_m != req->dup)
                                continue;
                            m.order = order;
                            m.double_buffer = db;
                            m.dup = dup;
                            if (complete(t, ct, g, dtype, &m))
                                consider(&all, &m);
                        }

                    }
                }
            }
    if (!all.n)
        return cs_err_add(err, CS_INVALID,
                          "mapper: error: cim: no mapping of %s (%llux%llux%llu) fits %u macros per controller "
                          "with the forced options (dup %u)",
                          g->name, (unsigned long long)g->m, (unsigned long long)g->n, (unsigned long long)g->k,
                          ct->macros, req->dup);
    /* The best by the goal's estimate first; then, for the simulation to decide between, the
     * next best by estimated cycles, and (goals energy and edp) by estimated energy, in turn,
     * up to `candidates` of each: the energy goal then simulates every mapping the cycle goal
     * would, so it never ends with more energy than the cycle goal's choice. www: the study's
     * mapping alone, its grid chosen by cycles. */
    uint32_t k = req->mode == CS_CIM_MAP_WWW ? 1 : req->candidates ? req->candidates : CS_CIM_CANDIDATES;
    int goal = req->mode == CS_CIM_MAP_WWW ? CS_CIM_GOAL_CYCLES : req->goal;
    bool *taken = cs_calloc(all.n, sizeof *taken);
    size_t i = best_of(&all, goal, taken);
    taken[i] = true;
    out[(*nout)++] = all.m[i];
    uint32_t per[2] = {goal == CS_CIM_GOAL_CYCLES, goal == CS_CIM_GOAL_ENERGY};
    if (goal == CS_CIM_GOAL_CYCLES)
        per[1] = k; /* the cycle goal needs no energy-ranked candidates */
    for (int round = 0; *nout < cap && (per[0] < k || per[1] < k); round++) {
        int g2 = round % 2 ? CS_CIM_GOAL_ENERGY : CS_CIM_GOAL_CYCLES;
        if (per[round % 2] >= k)
            continue;
        per[round % 2]++;
        size_t j = best_of(&all, g2, taken);
        if (j == all.n)
            break;
        taken[j] = true;
        out[(*nout)++] = all.m[j];
    }
    cs_free(taken);
    cs_free(all.m);
    return CS_OK;
}

void cs_cim_mapping_str(const cs_cim_mapping *m, char *out, size_t n)
{
    if (m->nest_exec) {
        cs_nest_plan_str(&m->plan, m->mode == CS_CIM_MAP_WWW ? "www" : "timeloop", out, n);
        return;
    }
    snprintf(out, n, "%s %s%s dup%u grid %ux%ux%u tile %ux%u m1 %u rounds %llu%s%s",
             m->mode == CS_CIM_MAP_WWW ? "www" : "auto", m->order == CS_CIM_WS ? "ws" : "os",
             m->double_buffer ? " db" : "", m->dup, m->grid_n, m->grid_k, m->grid_m, m->kt, m->nt, m->m1,
             (unsigned long long)m->rounds, m->resident ? " resident" : "", m->spill ? " spill" : "");
}

void cs_cim_mapping_json(const cs_cim_mapping *m, cs_buf *out)
{
    cs_json j;
    cs_json_init(&j, out, 0);
    if (m->nest_exec) {
        cs_nest_cim_mapping_json(m, &j);
        return;
    }
    cs_json_obj_begin(&j);
    cs_json_kstr(&j, "mode", m->mode == CS_CIM_MAP_WWW ? "www" : "auto");
    cs_json_kstr(&j, "goal", m->goal == CS_CIM_GOAL_ENERGY ? "energy" : m->goal == CS_CIM_GOAL_EDP ? "edp" : "cycles");
    cs_json_kstr(&j, "order", m->order == CS_CIM_WS ? "weight-stationary" : "output-stationary");
    cs_json_kbool(&j, "double_buffer", m->double_buffer);
    cs_json_ku64(&j, "dup", m->dup);
    cs_json_key(&j, "grid");
    cs_json_obj_begin(&j);
    cs_json_ku64(&j, "n", m->grid_n);
    cs_json_ku64(&j, "k", m->grid_k);
    cs_json_ku64(&j, "m", m->grid_m);
    cs_json_obj_end(&j);
    cs_json_key(&j, "tile");
    cs_json_obj_begin(&j);
    cs_json_ku64(&j, "k", m->kt);
    cs_json_ku64(&j, "n", m->nt);
    cs_json_obj_end(&j);
    cs_json_ku64(&j, "m1", m->m1);
    cs_json_ku64(&j, "slots", m->slots);
    cs_json_ku64(&j, "rounds", m->rounds);
    cs_json_ku64(&j, "chunks", m->chunks);
    cs_json_kbool(&j, "resident", m->resident);
    cs_json_kbool(&j, "spill", m->spill);
    cs_json_kbool(&j, "inputs_from_memory", m->from_global);
    cs_json_ku64(&j, "weight_bytes_written", m->weight_bytes);
    cs_json_kf64(&j, "estimated_cycles", round(m->est_cycles));
    if (m->has_www) {
        char f[64];
        cs_json_key(&j, "www");
        cs_json_obj_begin(&j);
#define F(name, field) (cs_www_format(&m->www.field, f, sizeof f), cs_json_kstr(&j, name, f))
        F("cim_array", array);
        F("cim_bank", bank);
        F("cim_storage", storage);
        F("above", above);
        F("dram", dram);
#undef F
        cs_json_kstr(&j, "perm_dram", m->www.perm_dram);
        cs_json_kstr(&j, "perm_above", m->www.perm_above);
        cs_json_obj_end(&j);
    }
    cs_json_obj_end(&j);
}

/* ---- op generation ------------------------------------------------------------------------ */

typedef struct gen gen;

typedef struct stream_st {
    uint64_t cta;     /* next CTA to build for this stream (local numbering) */
    cs_op *ops;
    size_t n, cap, pos;
    bool done;
    uint32_t *writes;  /* SM streams: writes emitted so far into each local macro */
} stream_st;

/* One K-slice's part of an L2 work item: slice c's tiles [a, z) of the round, whose inputs
 * span K from ka0 for kspan elements. */
typedef struct item {
    uint32_t gm, gn;
    uint64_t chunk;
} item;
typedef struct step {
    uint32_t c;
    share sk;
    uint64_t a, z, ka0, kspan;
    uint64_t row0, rows;  /* the item's rows */
    item it;
    uint32_t warp;
    bool last;            /* the item's last step: its outputs follow */
} step;

struct gen {
    cs_opsrc base;
    cs_target t;
    cs_cim_target ct;
    cs_gemm g;
    cs_cim_mapping m;
    cs_gemm_layout lay;
    uint64_t repeat;
    uint32_t eb;
    uint32_t nsm;          /* SM streams */
    stream_st *st;
    uint64_t chunks_per_cta;
    step *steps;           /* scratch for the L2 work items' steps */
    size_t steps_cap;
};

static void emit(stream_st *s, const cs_op *op)
{
    CS_GROW(s->ops, s->cap, s->n + 1);
    s->ops[s->n++] = *op;
}

static cs_op op0(int kind, uint32_t warp)
{
    cs_op o;
    memset(&o, 0, sizeof o);
    o.kind = (uint8_t)kind;
    o.warp = (uint16_t)warp;
    return o;
}

/* CIM_MAC ops that use one write of a tile into copy cp's macro: the MACs of chunk `chunk`
 * alone (output-stationary with several rounds rewrites the tiles at every chunk), or of every
 * chunk of the share (chunk < 0). A chunk's rows are split over the copies; a copy with no
 * rows issues nothing. */
static uint32_t sm_uses(const gen *x, const share *s, uint32_t cp, int64_t chunk)
{
    uint64_t chunks = cdiv(s->mc, x->m.m1), n = 0;
    uint64_t c0 = chunk < 0 ? 0 : (uint64_t)chunk, c1 = chunk < 0 ? chunks : c0 + 1;
    for (uint64_t c = c0; c < c1; c++) {
        uint64_t rows = min64(x->m.m1, s->mc - c * x->m.m1);
        n += cp * cdiv(rows, x->m.dup) < rows;
    }
    return (uint32_t)n;
}

/* The sequence number of round r's tiles in their macros (mod 2^16), distinct for every write
 * a macro receives: rounds of one macro set, then (output-stationary with several rounds) the
 * chunk that rewrites them, then the repeat (resident weights keep repeat 0's). A MAC names
 * the number of the tile it needs; the SM makes it wait for that tile. */
static uint16_t tile_seq(const gen *x, const share *s, uint64_t r, int64_t chunk)
{
    const cs_cim_mapping *m = &x->m;
    uint64_t per = cdiv(m->rounds, sets_of(m));
    uint64_t nch = chunk < 0 ? 1 : cdiv(s->mc, m->m1), ch = chunk < 0 ? 0 : (uint64_t)chunk;
    uint64_t rep = m->resident ? 0 : x->repeat;
    return (uint16_t)(((rep * nch + ch) * per + r / sets_of(m)) & 0xffff);
}

/* CIM_WRITE ops of round r (into its macro set); chunk as for sm_uses. With resident weights
 * after the first repeat, the writes carry no data (CS_OPF_ACCUM): they only announce the
 * tile's uses. */
static void emit_writes(gen *x, stream_st *ss, const share *s, uint64_t r, uint32_t unit_base, int64_t chunk)
{
    uint64_t T = s->tn * s->tk;
    for (uint32_t i = 0; i < x->m.slots; i++) {
        uint64_t tile = r * x->m.slots + i;
        if (tile >= T)
            break;
        uint64_t n0, nn, k0, kn;
        tile_range(&x->m, s, tile, &n0, &nn, &k0, &kn);
        for (uint32_t c = 0; c < x->m.dup; c++) {
            uint32_t mac = macro_of(&x->ct, &x->m, r, i, c);
            uint64_t bytes = nn * kn * x->eb;
            uint64_t packed = ((n0 / x->m.nt) * cdiv(x->g.k, x->m.kt) + k0 / x->m.kt) * x->m.nt * x->m.kt * x->eb;
            cs_op o = op0(CS_OP_CIM_WRITE, mac % WARPS);
            o.x = unit_base + mac;
            o.addr = x->lay.b + packed;
            o.rows = 1; /* the packed tile is one contiguous run of bytes */
            o.row_bytes = (uint32_t)bytes;
            o.stride = (uint32_t)bytes;
            o.seq = tile_seq(x, s, r, chunk);
            o.tag = ss->writes[mac]++; /* its place among this kernel's writes to the macro */
            o.local = sm_uses(x, s, c, chunk);
            if (x->m.resident && x->repeat > 0)
                o.flags = CS_OPF_ACCUM;
            emit(ss, &o);
        }
    }
}

/* Copies rows [row0, row0+rows) x [k0, k0+kn) of A into staging buffer b (four warps). */
static void emit_stage(gen *x, stream_st *ss, uint64_t row0, uint64_t rows, uint64_t k0, uint64_t kn, uint32_t b,
                       uint32_t tag, uint64_t buf_bytes)
{
    uint64_t per = cdiv(rows, WARPS);
    for (uint32_t w = 0; w < WARPS; w++) {
        uint64_t r0 = w * per;
        if (r0 >= rows)
            break;
        cs_op o = op0(CS_OP_CP_ASYNC, w);
        o.addr = x->lay.a + ((row0 + r0) * x->g.k + k0) * x->eb;
        o.local = (uint32_t)(b * buf_bytes + r0 * kn * x->eb);
        o.rows = (uint32_t)min64(per, rows - r0);
        o.row_bytes = (uint32_t)(kn * x->eb);
        o.stride = (uint32_t)(x->g.k * x->eb);
        o.tag = tag;
        emit(ss, &o);
    }
}

static void emit_all_warps(stream_st *ss, int kind, uint32_t tag)
{
    for (uint32_t w = 0; w < WARPS; w++) {
        cs_op o = op0(kind, w);
        o.tag = tag;
        emit(ss, &o);
    }
}

/* Output of rows [row0, row0+rows) x [n0, n0+nn): STG of Z, or RED of 4-byte partial sums
 * (flagged as a spill when the column block still has rounds to come). */
static void emit_output(gen *x, stream_st *ss, uint64_t row0, uint64_t rows, uint64_t n0, uint64_t nn, bool red,
                        bool spill, uint32_t warp)
{
    uint64_t e = red ? 4 : x->lay.c_elem_bytes;
    cs_op o = op0(red ? CS_OP_RED : CS_OP_STG, warp);
    if (spill)
        o.flags = CS_OPF_SPILL;
    o.addr = x->lay.c + (row0 * x->g.n + n0) * e;
    o.rows = (uint32_t)rows;
    o.row_bytes = (uint32_t)(nn * e);
    o.stride = (uint32_t)(x->g.n * e);
    emit(ss, &o);
}

/* Does column block nb of the share have all its tiles in round r? first/last round of it. */
static void block_rounds(const gen *x, const share *s, uint64_t nb, uint64_t *first, uint64_t *last)
{
    *first = (nb * s->tk) / x->m.slots;
    *last = (nb * s->tk + s->tk - 1) / x->m.slots;
}

/* Builds CTA `cta` of SM controller `c` (rf/smem levels). Returns false past the last CTA. */
/* The MACs of round r for one chunk (rows [row0, row0+rows)): the copies split the rows; the
 * tiles of a copy that need the same inputs (the same K range) take them from one read, the
 * first MAC's, broadcast to the others' macros (CS_OPF_BCAST), all issued by one warp. Inputs
 * staged in buffer `buf` (k0, kn: its K range) or, without staging, read from memory. */
static void emit_macs(gen *x, stream_st *ss, const share *s, uint64_t r, int64_t used_by, uint64_t row0, uint64_t rows,
                      uint64_t k0, uint64_t kn, uint64_t buf, uint64_t buf_bytes)
{
    const cs_cim_mapping *m = &x->m;
    uint64_t T = s->tn * s->tk, per_copy = cdiv(rows, m->dup);
    uint32_t n = (uint32_t)min64(m->slots, T > r * m->slots ? T - r * m->slots : 0), group = 0;
    bool done[256];
    for (uint32_t cp = 0; cp < m->dup; cp++) {
        uint64_t rr0 = cp * per_copy;
        if (rr0 >= rows)
            break;
        uint64_t rr = min64(per_copy, rows - rr0);
        memset(done, 0, sizeof done);
        for (uint32_t i = 0; i < n; i++) {
            if (i < 256 && done[i])
                continue;
            uint64_t n0, nn, tk0, tkn;
            tile_range(m, s, r * m->slots + i, &n0, &nn, &tk0, &tkn);
            uint32_t warp = group++ % WARPS;
            for (uint32_t j = i; j < n; j++) { /* the leader i, then the tiles sharing its inputs */
                uint64_t jn0, jnn, jk0, jkn;
                tile_range(m, s, r * m->slots + j, &jn0, &jnn, &jk0, &jkn);
                if (j > i && (jk0 != tk0 || jkn != tkn || m->from_global || j >= 256))
                    continue;
                if (j < 256)
                    done[j] = true;
                cs_op o = op0(CS_OP_CIM_MAC, warp);
                o.x = macro_of(&x->ct, m, r, j, cp);
                o.seq = tile_seq(x, s, r, used_by);
                o.dtype = (uint8_t)x->lay.dtype;
                o.rows = (uint32_t)rr;
                o.row_bytes = (uint32_t)jkn;
                o.stride = (uint32_t)jnn;
                if (m->from_global) {
                    o.addr = x->lay.a + ((row0 + rr0) * x->g.k + jk0) * x->eb;
                    o.tag = (uint32_t)(x->g.k * x->eb);
                } else {
                    o.flags = CS_OPF_FROM_SMEM | (j > i ? CS_OPF_BCAST : 0);
                    o.local = (uint32_t)(buf * buf_bytes + (rr0 * kn + (jk0 - k0)) * x->eb);
                    o.tag = (uint32_t)(kn * x->eb);
                }
                emit(ss, &o);
                if (m->from_global)
                    break; /* inputs from memory: each MAC fetches its own */
            }
        }
    }
    /* the read-outs, each by its macro's warp (at the rf level: the macro's sub-partition) */
    for (uint32_t i = 0; i < n; i++) {
        uint64_t n0, nn, tk0, tkn;
        tile_range(m, s, r * m->slots + i, &n0, &nn, &tk0, &tkn);
        for (uint32_t cp = 0; cp < m->dup && cp * per_copy < rows; cp++) {
            uint32_t mac = macro_of(&x->ct, m, r, i, cp);
            cs_op rd = op0(CS_OP_CIM_READ, mac % WARPS);
            rd.x = mac;
            rd.rows = (uint32_t)min64(per_copy, rows - cp * per_copy);
            rd.row_bytes = (uint32_t)(nn * 4);
            emit(ss, &rd);
        }
    }
}

/* Builds CTA `cta` of SM controller `c` (rf/smem levels). Returns false past the last CTA. Its
 * steps are (chunk, round) pairs; the inputs of the next step are staged while the current one
 * computes (two buffers). */
static bool build_sm_cta(gen *x, uint32_t c, uint64_t cta, stream_st *ss)
{
    share s;
    if (!controller_share(&x->g, &x->m, c, &s))
        return false;
    const cs_cim_mapping *m = &x->m;
    uint64_t chunks = cdiv(s.mc, m->m1);
    uint64_t blocks = cdiv(chunks, x->chunks_per_cta);
    uint64_t T = s.tn * s.tk;
    /* weight-stationary: CTAs = rounds x chunk blocks; output-stationary: chunk blocks. A
     * controller whose share has fewer tiles than the largest has fewer rounds. */
    uint64_t rounds = cdiv(T, m->slots);
    uint64_t ctas = m->order == CS_CIM_WS ? rounds * blocks : blocks;
    if (cta >= ctas)
        return false;
    bool ws = m->order == CS_CIM_WS;
    uint64_t r_ws = ws ? cta / blocks : 0;
    uint64_t blk = ws ? cta % blocks : cta;
    uint64_t ch0 = blk * x->chunks_per_cta, ch1 = min64(chunks, ch0 + x->chunks_per_cta);
    uint64_t buf_bytes = (uint64_t)m->m1 * max_round_k(m, &s) * x->eb;
    cs_op b = op0(CS_OP_CTA_BEGIN, 0);
    b.x = (uint32_t)cta;
    b.rows = WARPS;
    b.row_bytes = (uint32_t)(m->from_global ? 0 : 2 * buf_bytes);
    b.stride = 16; /* registers per thread of the controller program (placement.c keeps them) */
    emit(ss, &b);
    uint64_t r_first = ws ? r_ws : 0, nr = ws ? 1 : rounds;
    uint64_t nsteps = (ch1 - ch0) * nr;
    for (uint64_t st = 0; st < nsteps; st++) {
        uint64_t ci = ch0 + st / nr, r = r_first + st % nr;
        uint64_t row0 = s.m0 + ci * m->m1, rows = min64(m->m1, s.m0 + s.mc - row0);
        /* Where round r's tiles are written: weight-stationary, at the round's first chunk;
         * output-stationary, at every chunk when there are several rounds, else once. With
         * double buffering a round's tiles are written during the previous round (the
         * first round's at its own start). */
        bool here = ws ? (blk == 0 && ci == ch0) : (m->rounds > 1 || (blk == 0 && ci == 0));
        int64_t used_by = !ws && m->rounds > 1 ? (int64_t)ci : -1;
        if (here && !(m->double_buffer && r > 0))
            emit_writes(x, ss, &s, r, 0, used_by);
        uint64_t k0, kn;
        round_k_range(&x->m, &s, r, &k0, &kn);
        if (!m->from_global) {
            for (uint64_t q = st ? st + 1 : 0; q <= st + 1 && q < nsteps; q++) { /* this step's (first), the next */
                uint64_t qc = ch0 + q / nr, qr = r_first + q % nr, q0, qn;
                uint64_t qrow0 = s.m0 + qc * m->m1;
                round_k_range(&x->m, &s, qr, &q0, &qn);
                emit_stage(x, ss, qrow0, min64(m->m1, s.m0 + s.mc - qrow0), q0, qn, (uint32_t)(q % 2), (uint32_t)q,
                           buf_bytes);
            }
            emit_all_warps(ss, CS_OP_CP_WAIT, (uint32_t)st);
            emit_all_warps(ss, CS_OP_BAR, 0);
        }
        if (here && m->double_buffer && r + 1 < rounds)
            emit_writes(x, ss, &s, r + 1, 0, used_by); /* overlaps this round's compute */
        emit_macs(x, ss, &s, r, used_by, row0, rows, k0, kn, st % 2, buf_bytes);
        emit_all_warps(ss, CS_OP_BAR, 0);
        /* outputs of the column blocks this round completes (or spills) */
        uint64_t nb0 = (r * m->slots) / s.tk, nb1 = min64(s.tn, cdiv((r + 1) * m->slots, s.tk));
        for (uint64_t nb = nb0; nb < nb1; nb++) {
            uint64_t fr, lr;
            block_rounds(x, &s, nb, &fr, &lr);
            uint64_t n0 = s.n0 + nb * m->nt, nn = min64(m->nt, s.n0 + s.nc - n0);
            bool split_k = m->grid_k > 1;
            if (r == lr || (ws && m->spill))
                emit_output(x, ss, row0, rows, n0, nn, split_k || (fr != lr && ws && m->spill), r != lr,
                            (uint32_t)(nb % WARPS));
        }
    }
    cs_op e = op0(CS_OP_CTA_END, 0);
    e.x = (uint32_t)cta;
    emit(ss, &e);
    return true;
}

/* ---- the L2 level: SM streams send inputs to slices; slice streams write weights ---------- */

/* A work item of a round: row chunk `chunk` of row group gm, column group gn, i.e. the rows a
 * set of slices (one per K-slice) compute against all their tiles of the round. The SM that
 * takes it stages the rows' inputs once per K-slice and sends them once to that slice, whose
 * macros share them (input broadcast, CS_OPF_BCAST): the first MAC request carries the inputs,
 * the others only what the slice does not hold yet. */
static uint64_t l2_items_per_round(const gen *x)
{
    return (uint64_t)x->m.grid_m * x->m.chunks * x->m.grid_n;
}

static void l2_item(const gen *x, uint64_t idx, item *it)
{
    const cs_cim_mapping *m = &x->m;
    it->gm = (uint32_t)(idx / (m->chunks * m->grid_n));
    it->chunk = (idx / m->grid_n) % m->chunks;
    it->gn = (uint32_t)(idx % m->grid_n);
}

/* Rounds [first, last] holding tiles of column block nb over the K-slices of column group gn,
 * row group gm (edge slices hold fewer tiles, so their rounds differ). False if none. */
static bool l2_block_rounds(const gen *x, uint32_t gn, uint32_t gm, uint64_t nb, uint64_t *first, uint64_t *last)
{
    const cs_cim_mapping *m = &x->m;
    *first = UINT64_MAX;
    *last = 0;
    for (uint32_t gk = 0; gk < m->grid_k; gk++) {
        share sk;
        if (!controller_share(&x->g, m, gn + gk * m->grid_n + gm * m->grid_n * m->grid_k, &sk) || nb >= sk.tn)
            continue;
        uint64_t f = (nb * sk.tk) / m->slots, l = (nb * sk.tk + sk.tk - 1) / m->slots;
        *first = f < *first ? f : *first;
        *last = l > *last ? l : *last;
    }
    return *first != UINT64_MAX;
}

static bool build_l2_sm_cta(gen *x, uint32_t sm, uint64_t cta, stream_st *ss)
{
    const cs_cim_mapping *m = &x->m;
    uint64_t per_round = l2_items_per_round(x);
    /* SM sm takes items idx with idx % nsm == sm, in round order; a CTA holds up to
     * chunks_per_cta of them */
    uint64_t mine_per_round = per_round / x->nsm + (sm < per_round % x->nsm);
    uint64_t ctas_per_round = cdiv(mine_per_round, x->chunks_per_cta);
    if (!ctas_per_round || cta >= m->rounds * ctas_per_round)
        return false;
    uint64_t r = cta / ctas_per_round, blk = cta % ctas_per_round;
    uint64_t j0 = blk * x->chunks_per_cta, j1 = min64(mine_per_round, j0 + x->chunks_per_cta);
    share s0;
    controller_share(&x->g, m, 0, &s0);
    uint64_t buf_bytes = (uint64_t)m->m1 * max_round_k(m, &s0) * x->eb;
    /* staging buffers: a ring deep enough that the copies of the next steps' inputs are in
     * flight while one step's requests go out (2 to L2_STAGES, as shared memory allows) */
    uint64_t nbuf = buf_bytes ? x->ct.stage_bytes / buf_bytes : 2;
    nbuf = nbuf < 2 ? 2 : nbuf > L2_STAGES ? L2_STAGES : nbuf;
    cs_op b = op0(CS_OP_CTA_BEGIN, 0);
    b.x = (uint32_t)cta;
    b.rows = WARPS;
    b.row_bytes = (uint32_t)(nbuf * buf_bytes);
    b.stride = 16; /* registers per thread of the controller program (placement.c keeps them) */
    emit(ss, &b);
    /* the steps of every item of the CTA, in order: one per K-slice with tiles in round r, its
     * inputs the union of the K ranges of those tiles; one warp per item */
    size_t nst = 0;
    for (uint64_t j = j0; j < j1; j++) {
        item it;
        l2_item(x, j * x->nsm + sm, &it);
        uint32_t c0 = it.gn + it.gm * m->grid_n * m->grid_k; /* the first K-slice gives rows, columns */
        share s;
        if (!controller_share(&x->g, m, c0, &s) || s.m0 + it.chunk * m->m1 >= s.m0 + s.mc)
            continue;
        uint64_t row0 = s.m0 + it.chunk * m->m1;
        for (uint32_t gk = 0; gk < m->grid_k; gk++) {
            uint32_t c = it.gn + gk * m->grid_n + it.gm * m->grid_n * m->grid_k;
            share sk;
            if (!controller_share(&x->g, m, c, &sk))
                continue;
            uint64_t a = r * m->slots, z = min64(a + m->slots, sk.tn * sk.tk);
            if (a >= z)
                continue;
            CS_GROW(x->steps, x->steps_cap, nst + 1);
            step *p = &x->steps[nst++];
            *p = (step){.c = c, .sk = sk, .a = a, .z = z, .row0 = row0, .rows = min64(m->m1, s.m0 + s.mc - row0),
                        .it = it, .warp = (uint32_t)((j - j0) % WARPS), .last = gk + 1 == m->grid_k};
            round_k_range(m, &sk, r, &p->ka0, &p->kspan);
        }
        if (nst && x->steps[nst - 1].it.chunk == it.chunk && x->steps[nst - 1].it.gn == it.gn &&
            x->steps[nst - 1].it.gm == it.gm)
            x->steps[nst - 1].last = true; /* the item's last step (edge slices may have none) */
    }
    /* software-pipelined over the steps: the copy of step i + nbuf - 1 is issued before
     * waiting on step i; a step's buffer is rewritten nbuf steps on, after the barrier of a
     * later step, when its requests have read it */
    const step *st = x->steps;
    for (size_t i = 0; i < nst && i + 1 < nbuf; i++)
        emit_stage(x, ss, st[i].row0, st[i].rows, st[i].ka0, st[i].kspan, (uint32_t)(i % nbuf), (uint32_t)i, buf_bytes);
    for (size_t i = 0; i < nst; i++) {
        const step *p = &st[i];
        if (i + nbuf - 1 < nst) {
            const step *q = &st[i + nbuf - 1];
            emit_stage(x, ss, q->row0, q->rows, q->ka0, q->kspan, (uint32_t)((i + nbuf - 1) % nbuf),
                       (uint32_t)(i + nbuf - 1), buf_bytes);
        }
        /* the first step waits for the whole ring: the macros' bank share holds the ports of
         * the slices the later copies read from once their MACs start */
        emit_all_warps(ss, CS_OP_CP_WAIT, (uint32_t)(i ? i : min64(nst, nbuf) - 1));
        emit_all_warps(ss, CS_OP_BAR, 0);
        uint32_t copy = (uint32_t)(p->it.chunk % m->dup);
        for (uint64_t t = p->a; t < p->z; t++) {
            uint64_t tn_0, tn_n, tk0, tkn;
            tile_range(m, &p->sk, t, &tn_0, &tn_n, &tk0, &tkn);
            uint32_t mac = macro_of(&x->ct, m, r, (uint32_t)(t - r * m->slots), copy);
            cs_op o = op0(CS_OP_CIM_MAC, p->warp);
            o.x = p->c * x->ct.macros + mac;
            o.dtype = (uint8_t)x->lay.dtype;
            o.flags = CS_OPF_FROM_SMEM | (t > p->a ? CS_OPF_BCAST : 0);
            o.rows = (uint32_t)p->rows;
            o.row_bytes = (uint32_t)tkn;
            o.stride = (uint32_t)tn_n;
            o.local = (uint32_t)((i % nbuf) * buf_bytes + (tk0 - p->ka0) * x->eb);
            o.tag = (uint32_t)(p->kspan * x->eb); /* staging pitch */
            o.seq = (uint16_t)(r / sets_of(m)); /* the tile sequence number the slice must hold */
            emit(ss, &o);
        }
    }
    /* the outputs, each item's by its warp (a store waits for that warp's requests), at the
     * end so that no warp waits on its partial sums while the others stage and send */
    for (size_t i = 0; i < nst; i++) {
        const step *p = &st[i];
        if (!p->last)
            continue;
        share s;
        controller_share(&x->g, m, p->it.gn + p->it.gm * m->grid_n * m->grid_k, &s);
        for (uint64_t nb = 0; nb < s.tn; nb++) {
            uint64_t fr, lr;
            if (!l2_block_rounds(x, p->it.gn, p->it.gm, nb, &fr, &lr) || r < fr || r > lr)
                continue;
            uint64_t n0 = s.n0 + nb * m->nt, nn = min64(m->nt, s.n0 + s.nc - n0);
            bool red = m->grid_k > 1 || (fr != lr && m->spill);
            if (r == lr || (fr != lr && m->spill))
                emit_output(x, ss, p->row0, p->rows, n0, nn, red, r != lr, p->warp);
        }
    }
    cs_op e = op0(CS_OP_CTA_END, 0);
    e.x = (uint32_t)cta;
    emit(ss, &e);
    return true;
}

/* Slice controller stream: per round, the weight writes of its macros, each with the number of
 * MAC requests that will use it (the macro moves to its next tile only after those). */
static bool build_l2_slice(gen *x, uint32_t slice, stream_st *ss)
{
    const cs_cim_mapping *m = &x->m;
    share s;
    if (!controller_share(&x->g, m, slice, &s))
        return false;
    if (m->resident && x->repeat > 0) {
        /* weights stay; the uses still have to be announced for the new execution */
    }
    uint64_t T = s.tn * s.tk;
    uint64_t chunks = cdiv(s.mc, m->m1);
    uint64_t offset = 0;
    for (uint64_t r = 0; r < m->rounds; r++)
        for (uint32_t i = 0; i < m->slots; i++) {
            uint64_t tile = r * m->slots + i;
            if (tile >= T)
                break;
            uint64_t n0, nn, k0, kn;
            tile_range(m, &s, tile, &n0, &nn, &k0, &kn);
            for (uint32_t c = 0; c < m->dup; c++) {
                uint64_t uses = chunks / m->dup + (c < chunks % m->dup);
                cs_op o = op0(CS_OP_CIM_WRITE, 0);
                o.x = macro_of(&x->ct, m, r, i, c);
                o.addr = offset;
                o.rows = (uint32_t)nn;
                o.row_bytes = (uint32_t)(kn * x->eb);
                o.stride = (uint32_t)(kn * x->eb);
                o.seq = (uint16_t)(r / sets_of(m));
                o.local = (uint32_t)uses;
                if (m->resident && x->repeat > 0)
                    o.flags = CS_OPF_ACCUM; /* resident: only the uses, no data */
                emit(ss, &o);
                offset += cdiv(nn * kn * x->eb, 128) * 128; /* tiles start on whole lines */
            }
        }
    return true;
}

static bool refill(gen *x, uint32_t sidx)
{
    stream_st *ss = &x->st[sidx];
    ss->n = ss->pos = 0;
    if (ss->done)
        return false;
    if (sidx >= x->nsm) { /* a slice controller stream: everything at once (small) */
        bool ok = build_l2_slice(x, sidx - x->nsm, ss);
        ss->done = true;
        return ok && ss->n;
    }
    bool ok = x->ct.level == CS_CIM_L2 ? build_l2_sm_cta(x, sidx, ss->cta, ss) : build_sm_cta(x, sidx, ss->cta, ss);
    ss->cta++;
    if (!ok)
        ss->done = true;
    return ok;
}

static cs_status gen_next(cs_opsrc *src, uint32_t sidx, cs_op *op, bool *eof, cs_err *err)
{
    (void)err;
    gen *x = (gen *)src;
    stream_st *ss = &x->st[sidx];
    while (ss->pos == ss->n)
        if (!refill(x, sidx)) {
            *eof = true;
            return CS_OK;
        }
    *op = ss->ops[ss->pos++];
    *eof = false;
    return CS_OK;
}

static void gen_destroy(cs_opsrc *src)
{
    gen *x = (gen *)src;
    for (uint32_t i = 0; i < x->base.nstreams; i++) {
        cs_free(x->st[i].ops);
        cs_free(x->st[i].writes);
    }
    cs_free(x->st);
    cs_free(x->steps);
    cs_free(x->base.streams);
    cs_free(x);
}

static const cs_opsrc_vt gen_vt = {gen_next, gen_destroy};

uint64_t cs_cim_mapping_macros_used(const cs_cim_mapping *m)
{
    if (m->nest_exec)
        return cs_nest_plan_macros_used(&m->plan);
    uint64_t tiles = m->tiles_n * m->tiles_k;
    uint64_t sets = m->double_buffer && tiles > m->slots ? 2 : 1;
    return min64(tiles, m->slots) * sets * m->dup * m->grid_n * m->grid_k * m->grid_m;
}

cs_status cs_cim_opsrc_create(const cs_target *t, const cs_cim_target *ct, const cs_gemm *g,
                              const cs_cim_mapping *m, const cs_gemm_layout *lay, uint64_t repeat,
                              cs_opsrc **out, cs_err *err)
{
    if (m->nest_exec)
        return cs_nest_cim_opsrc(t, ct, g, m, lay, repeat, out, err);
    if (!m->kt || !m->nt || !m->slots || !m->m1 || !m->dup)
        return cs_err_add(err, CS_INVALID, "mapper: error: cim: incomplete mapping");
    gen *x = cs_calloc(1, sizeof *x);
    x->base.vt = &gen_vt;
    x->t = *t;
    x->ct = *ct;
    x->g = *g;
    x->m = *m;
    x->lay = *lay;
    x->repeat = repeat;
    x->eb = (uint32_t)cs_dtype_bytes(lay->dtype);
    x->nsm = t->sms;
    uint64_t ops_per_chunk = 16 + 2 * (uint64_t)m->slots * m->dup * (m->order == CS_CIM_OS ? m->rounds : 1);
    x->chunks_per_cta = max64(1, 2048 / ops_per_chunk);
    uint32_t ns = x->nsm + (ct->level == CS_CIM_L2 ? ct->controllers : 0);
    x->base.nstreams = ns;
    x->base.streams = cs_calloc(ns, sizeof(cs_stream_info));
    x->st = cs_calloc(ns, sizeof *x->st);
    for (uint32_t i = 0; i < x->nsm; i++) {
        x->base.streams[i] = (cs_stream_info){CS_STREAM_SM, i};
        if (ct->level != CS_CIM_L2)
            x->st[i].writes = cs_calloc(ct->macros ? ct->macros : 1, sizeof *x->st[i].writes);
    }
    for (uint32_t i = x->nsm; i < ns; i++)
        x->base.streams[i] = (cs_stream_info){CS_STREAM_CIM, i - x->nsm};
    *out = &x->base;
    return CS_OK;
}

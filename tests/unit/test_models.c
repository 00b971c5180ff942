/* test_models — the component models of sim/models/ in isolation, each checked against figures
 * computed by hand from the A100 configuration (arch/a100.cfg): shared-memory bank conflicts
 * and bank-pipeline time, one L2 slice (hit, miss, MSHR merge, sector fills, data-port
 * bandwidth, the ideal variant) with an ideal DRAM channel behind it, the crossbar under
 * saturating load and back-pressure, the tensor core and the register file through one SM, and
 * the tensor-core cost arithmetic.
 *
 * Every model runs on a 1 GHz clock (one cycle = 1000 ps) unless a test says otherwise, so that
 * cycle counts become picoseconds exactly; the parameters are those of the built-in "a100"
 * architecture, asserted first (arch_a100), so that a changed configuration fails with a clear
 * message instead of a wrong sum. The arithmetic is written beside each expectation.
 *
 * The mock endpoint (struct mock) is a component with one output and one input port: it sends a
 * list of timed messages in order (holding one the link refuses until the credit returns) and
 * records what arrives and when; it can hold what arrives unreleased to back-pressure its
 * sender. The SM tests feed hand-written op streams (struct kern). */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "arch.h"
#include "engine.h"
#include "hbm.h"
#include "kern.h"
#include "l2.h"
#include "op.h"
#include "opsrc.h"
#include "port.h"
#include "req.h"
#include "sm.h"
#include "smem.h"
#include "stats.h"
#include "tensor_core.h"
#include "xbar.h"

static long live_at_start;
static void leak_setup(void) { live_at_start = cs_alloc_live_blocks(); }
static void leak_teardown(void)
{
    cr_expect_eq(cs_alloc_live_blocks(), live_at_start, "leaked %ld blocks",
                 cs_alloc_live_blocks() - live_at_start);
}
TestSuite(smem, .init = leak_setup, .fini = leak_teardown);
TestSuite(l2, .init = leak_setup, .fini = leak_teardown);
TestSuite(xbar, .init = leak_setup, .fini = leak_teardown);
TestSuite(tensor_core, .init = leak_setup, .fini = leak_teardown);
TestSuite(regfile, .init = leak_setup, .fini = leak_teardown);

enum { GHZ_KHZ = 1000000, CYC = 1000 }; /* 1 GHz; ps per cycle */

/* ---- the A100 configuration ---------------------------------------------------------------- */

/* Loads the built-in A100 and checks the values the hand computations below rely on. */
static cs_arch_doc *arch_a100(void)
{
    cs_arch_doc *d = NULL;
    cs_err err;
    cs_err_init(&err);
    cr_assert_eq(cs_arch_load("a100", NULL, 0, &d, &err), CS_OK, "%s", err.count ? err.msg[0] : "");
    const cs_arch *a = &d->arch;
    cr_assert_eq(a->clock_khz, 1410000);
    cr_assert_eq(a->sm.subpartitions, 4);
    cr_assert_eq(a->sm.max_warps, 64);
    cr_assert_eq(a->sm.issue_per_cycle, 1);
    cr_assert_eq(a->tc.int8_macs_per_cycle, 512);
    cr_assert_eq(a->tc.fp16_macs_per_cycle, 256);
    cr_assert_eq(a->tc.latency_cycles, 24);
    cr_assert(a->tc.mma_m == 16 && a->tc.mma_n == 8 && a->tc.mma_k_bytes == 32);
    cr_assert_eq(a->rf.size_bytes, 256 * 1024);
    cr_assert(a->rf.banks == 32 && a->rf.bank_bytes == 128);
    cr_assert(a->smem.banks == 32 && a->smem.bank_bytes == 4);
    cr_assert_eq(a->smem.latency_cycles, 29);
    cr_assert_eq(a->smem.bytes_per_cycle, 0);
    cr_assert_eq(a->xbar.latency_cycles, 20);
    cr_assert(a->xbar.sm_bytes_per_cycle == 64 && a->xbar.slice_bytes_per_cycle == 64);
    cr_assert(a->xbar.port_queue == 64 && a->xbar.flit_bytes == 32);
    cr_assert_eq(a->l2.hit_latency_cycles, 150);
    cr_assert(a->l2.bytes_per_cycle == 64 && a->l2.lookups_per_cycle == 1);
    cr_assert(a->l2.input_queue == 32 && a->l2.mshrs == 256 && a->l2.mshr_targets == 16);
    cr_assert_eq(a->l2.mem_latency_ps, 100000);
    cr_assert_eq(a->l2.ideal_latency_ps, 100000);
    cr_assert_eq(a->hbm.ideal_latency_ps, 38000);
    return d;
}

static void run_all(cs_engine *eng)
{
    cs_err err;
    cs_err_init(&err);
    cs_status st = cs_engine_run(eng, CS_PS_NEVER, &err);
    cr_assert_eq(st, CS_OK, "%s", err.count ? err.msg[0] : "");
}

static double stat_value(const cs_stats *st, const char *name)
{
    size_t i = cs_stats_find(st, name);
    cr_assert_neq(i, (size_t)-1, "no statistic %s", name);
    return cs_stats_value(st, i);
}

/* ---- the mock endpoint --------------------------------------------------------------------- */

enum { RX_MAX = 512 };

typedef struct msg {
    cs_ps t;        /* offered at (or as soon after as the link takes it) */
    uint64_t addr;
    uint8_t kind, sectors;
    bool is_resp, no_ack;
    uint16_t src;
} msg;

typedef struct mock {
    cs_engine *eng;
    cs_req_pool *pool;
    cs_port out, in;
    cs_event ev;
    const msg *msgs;
    uint32_t n, next, tag0; /* message i carries tag tag0 + i */
    cs_req *pending;        /* refused by the link, offered again on credit */
    uint32_t received;
    uint32_t rx_tag[RX_MAX];
    cs_ps rx_ps[RX_MAX];
    bool hold;              /* keep what arrives unreleased */
    uint32_t held;
} mock;

static void mock_pump(mock *m)
{
    cs_ps now = cs_engine_now(m->eng);
    while (m->next < m->n) {
        const msg *x = &m->msgs[m->next];
        if (x->t > now) {
            if (!cs_event_pending(&m->ev))
                cs_engine_arm(m->eng, &m->ev, x->t, CS_PRIO_DEFAULT, NULL, 0);
            return;
        }
        if (!m->pending) {
            cs_req *r = cs_req_alloc(m->pool);
            r->addr = x->addr;
            r->kind = x->kind;
            r->sectors = x->sectors;
            r->is_resp = x->is_resp;
            r->no_ack = x->no_ack;
            r->src = x->src;
            r->tag = m->tag0 + m->next;
            r->t_issue = now;
            m->pending = r;
        }
        if (!cs_port_try_send(&m->out, m->pending, 0, cs_req_wire_bytes(m->pending)))
            return; /* the credit callback pumps again */
        m->pending = NULL;
        m->next++;
    }
}

static void mock_ev(void *ctx, void *ptr, uint64_t arg)
{
    (void)ptr;
    (void)arg;
    mock_pump(ctx);
}

static void mock_credit(void *owner, cs_port *out)
{
    (void)out;
    mock_pump(owner);
}

static void mock_recv(void *owner, cs_port *in, void *ptr, uint64_t arg)
{
    (void)arg;
    mock *m = owner;
    cs_req *r = ptr;
    cr_assert_lt(m->received, RX_MAX);
    m->rx_tag[m->received] = r->tag;
    m->rx_ps[m->received] = cs_engine_now(m->eng);
    m->received++;
    cs_req_free(m->pool, r);
    if (m->hold)
        m->held++;
    else
        cs_port_release(in);
}

static void mock_init(mock *m, cs_engine *eng, cs_req_pool *pool, uint32_t id)
{
    memset(m, 0, sizeof *m);
    m->eng = eng;
    m->pool = pool;
    cs_port_init_out(&m->out, m, mock_credit, id);
    cs_port_init_in(&m->in, m, mock_recv, id);
    cs_event_init(&m->ev, mock_ev, m);
}

/* Gives the mock its messages and starts it at time 0 (mocks started in turn offer their
 * messages of equal time in that order). */
static void mock_start(mock *m, const msg *msgs, uint32_t n, uint32_t tag0)
{
    m->msgs = msgs;
    m->n = n;
    m->tag0 = tag0;
    cs_engine_post(m->eng, 0, CS_PRIO_DEFAULT, mock_ev, m, NULL, 0);
}

static void mock_unhold(void *ctx, void *ptr, uint64_t arg)
{
    (void)ptr;
    (void)arg;
    mock *m = ctx;
    m->hold = false;
    for (; m->held; m->held--)
        cs_port_release(&m->in);
}

/* Arrival time of the message with this tag (CS_PS_NEVER if it did not arrive, and a failure if
 * it arrived more than once). */
static cs_ps rx_time(const mock *m, uint32_t tag)
{
    cs_ps t = CS_PS_NEVER;
    for (uint32_t i = 0; i < m->received; i++)
        if (m->rx_tag[i] == tag) {
            cr_assert_eq(t, CS_PS_NEVER, "tag %u arrived twice", tag);
            t = m->rx_ps[i];
        }
    return t;
}

static cs_link *link_make(cs_engine *eng, const char *name, cs_ps latency_ps, uint32_t bpc,
                          const cs_clock *clk, uint32_t capacity, cs_port *src, cs_port *dst)
{
    cs_link_params p = {.latency_ps = latency_ps, .bytes_per_cycle = bpc, .clock = clk, .capacity = capacity};
    return cs_link_create(eng, name, &p, src, dst);
}

/* =============================================================================================
 * Shared memory
 * ============================================================================================= */

/* 32 threads, each accessing access_bytes at base + i x stride, on the A100 banks (32 x 4 B). */
static uint32_t wavefronts_strided(uint32_t base, uint32_t stride, uint32_t access_bytes)
{
    uint32_t a[32];
    for (uint32_t i = 0; i < 32; i++)
        a[i] = base + i * stride;
    return cs_smem_wavefronts_addrs(a, 32, access_bytes, 32, 4);
}

Test(smem, bank_conflict_degree_of_one_warp_access)
{
    /* 32 banks x 4 B: the word at byte a is in bank (a / 4) mod 32; a phase of 32 threads
     * (128 B / 4 B) costs the largest number of distinct words one bank must serve. */
    /* consecutive words: thread i -> bank i, 32 banks once each: 1 pass */
    cr_expect_eq(wavefronts_strided(0, 4, 4), 1);
    /* 8 B stride: word 2i -> bank 2i mod 32; threads i and i + 16 share a bank: 2-way */
    cr_expect_eq(wavefronts_strided(0, 8, 4), 2);
    /* 16 B stride: bank 4i mod 32, 8 banks of 4 distinct words each: 4-way */
    cr_expect_eq(wavefronts_strided(0, 16, 4), 4);
    /* 128 B stride: bank (32i) mod 32 = 0 for all, 32 distinct words: 32-way */
    cr_expect_eq(wavefronts_strided(0, 128, 4), 32);
    /* 64 B stride: bank 16i mod 32 = 0 or 16, 16 distinct words each: 16-way */
    cr_expect_eq(wavefronts_strided(0, 64, 4), 16);
    /* the same word for every thread: one word, broadcast: 1 pass */
    cr_expect_eq(wavefronts_strided(512, 0, 4), 1);
    /* the alignment does not matter: start at word 5, consecutive: banks 5..36 mod 32 distinct */
    cr_expect_eq(wavefronts_strided(20, 4, 4), 1);

    /* threads 0-15 read word 0, threads 16-31 word 32: both bank 0, two distinct words
     * (each broadcast to its 16 threads): 2 passes */
    uint32_t a[32];
    for (uint32_t i = 0; i < 32; i++)
        a[i] = i < 16 ? 0 : 128;
    cr_expect_eq(cs_smem_wavefronts_addrs(a, 32, 4, 32, 4), 2);
    /* pairs of threads on one word, 16 consecutive words: banks 0-15 once each: 1 pass */
    for (uint32_t i = 0; i < 32; i++)
        a[i] = (i / 2) * 4;
    cr_expect_eq(cs_smem_wavefronts_addrs(a, 32, 4, 32, 4), 1);
}

Test(smem, wide_accesses_split_into_phases)
{
    /* 8 B per thread: 128 / 8 = 16 threads per phase, 2 phases. Consecutive: a phase covers
     * 16 x 2 = 32 consecutive words, one per bank: 1 + 1 = 2 wavefronts (256 B / 128 B). */
    cr_expect_eq(wavefronts_strided(0, 8, 8), 2);
    /* 16 B per thread: 8 threads per phase, 4 phases of 32 consecutive words: 4 (512 / 128). */
    cr_expect_eq(wavefronts_strided(0, 16, 16), 4);
    /* 8 B at a 16 B stride: thread i holds words 4i, 4i + 1; in a phase of 16 threads threads i
     * and i + 8 share banks: 2 per phase, 2 phases: 4. */
    cr_expect_eq(wavefronts_strided(0, 16, 8), 4);
    /* fewer threads than a phase: 5 threads x 4 B on bank 0 (128 B stride): 5 */
    uint32_t a[5] = {0, 128, 256, 384, 512};
    cr_expect_eq(cs_smem_wavefronts_addrs(a, 5, 4, 32, 4), 5);
}

Test(smem, block_access_patterns_give_the_documented_degrees)
{
    cs_arch_doc *d = arch_a100();
    uint32_t banks = (uint32_t)d->arch.smem.banks, bb = (uint32_t)d->arch.smem.bank_bytes;
    /* 32 rows of 4 B (4 B accesses: 4 divides the row, 16 and 8 do not), one thread per row:
     * "4-byte accesses with a 4/8/16/128-byte stride cost 1/2/4/32 wavefronts" (smem.h) */
    cr_expect_eq(cs_smem_wavefronts(0, 32, 4, 4, false, banks, bb), 1);
    cr_expect_eq(cs_smem_wavefronts(0, 32, 4, 8, false, banks, bb), 2);
    cr_expect_eq(cs_smem_wavefronts(0, 32, 4, 16, false, banks, bb), 4);
    cr_expect_eq(cs_smem_wavefronts(0, 32, 4, 128, false, banks, bb), 32);
    /* one 128 B row: 8 threads of 16 B, one phase of 32 consecutive words: 1 */
    cr_expect_eq(cs_smem_wavefronts(0, 1, 128, 0, false, banks, bb), 1);
    /* ldmatrix x1: 8 rows of 16 B, 128 B apart: each row is words 32r..32r+3 = banks 0-3, so
     * banks 0-3 serve 8 distinct words each: 8. Swizzled, row r's address 128r is XORed with
     * r << 4: words 36r..36r+3 = banks 4r..4r+3, all distinct: 1. */
    cr_expect_eq(cs_smem_wavefronts(0, 8, 16, 128, false, banks, bb), 8);
    cr_expect_eq(cs_smem_wavefronts(0, 8, 16, 128, true, banks, bb), 1);
    /* ldmatrix x4: 32 rows of 16 B, 128 B apart, 4 phases of 8 rows: 4 x 8 = 32; swizzled
     * (rows 8p..8p+7 XOR with r mod 8): 4 x 1 = 4 */
    cr_expect_eq(cs_smem_wavefronts(0, 32, 16, 128, false, banks, bb), 32);
    cr_expect_eq(cs_smem_wavefronts(0, 32, 16, 128, true, banks, bb), 4);
    /* 64 rows of 4 B, consecutive: two instructions of 32 threads, 1 wavefront each: 2 */
    cr_expect_eq(cs_smem_wavefronts(0, 64, 4, 4, false, banks, bb), 2);
    cs_arch_doc_destroy(d);
}

Test(smem, bank_pipeline_time_follows_the_wavefronts)
{
    cs_arch_doc *d = arch_a100();
    cs_clock clk = {GHZ_KHZ};
    cs_stats *st = cs_stats_create();
    cs_smem *s = cs_smem_create(&d->arch.smem, &clk, st, "t.smem");
    /* a 32-way load of 128 B from time 0: 32 cycles of the pipeline */
    cr_expect_eq(cs_smem_access(s, 0, 32, 128, false), 32 * CYC);
    /* a conflict-free load offered at 0 waits for the pipeline: 32 + 1 = 33 cycles */
    cr_expect_eq(cs_smem_access(s, 0, 1, 128, false), 33 * CYC);
    /* a 512 B store of 4 wavefronts offered mid-cycle at 40.5 cycles: starts at the edge of
     * cycle 41, ends at 41 + 4 = 45 */
    cr_expect_eq(cs_smem_access(s, 40500, 4, 512, true), 45 * CYC);
    /* a CiM macro holding the banks for 10 cycles, offered at 0: after the store, 45 + 10 */
    cr_expect_eq(cs_smem_occupy(s, 0, 10), 55 * CYC);
    cr_expect_eq(cs_smem_free_at(s), 55 * CYC);
    cr_expect_eq(cs_smem_busy_cycles(s), 32 + 1 + 4 + 10);
    cr_expect_eq(cs_smem_latency_cycles(s), 29);
    /* counted: reads 2 x 128 B / 32 = 8, writes 512 / 32 = 16; wavefronts 32 + 1 + 4 = 37, of
     * which beyond the minimum ceil(bytes / 128): (32 - 1) + (1 - 1) + (4 - 4) = 31 */
    cr_expect_eq(stat_value(st, "t.smem.read"), 8);
    cr_expect_eq(stat_value(st, "t.smem.write"), 16);
    cr_expect_eq(stat_value(st, "t.smem.wavefronts"), 37);
    cr_expect_eq(stat_value(st, "t.smem.conflict_wavefronts"), 31);
    cr_expect_eq(stat_value(st, "t.smem.busy_cycles"), 47);
    cs_smem_destroy(s);
    cs_stats_destroy(st);
    cs_arch_doc_destroy(d);
}

Test(smem, ideal_variant_has_no_conflicts_and_no_occupancy)
{
    /* the accesses of the test above on the ideal variant: each ends when it is offered (the
     * SM adds the latency), nothing is busy, the reads and writes are counted as before */
    cs_arch_doc *d = arch_a100();
    cs_smem_params p = d->arch.smem;
    p.ideal = true;
    cs_clock clk = {GHZ_KHZ};
    cs_stats *st = cs_stats_create();
    cs_smem *s = cs_smem_create(&p, &clk, st, "t.smem");
    cr_expect_eq(cs_smem_access(s, 0, 32, 128, false), 0);
    cr_expect_eq(cs_smem_access(s, 0, 1, 128, false), 0);
    cr_expect_eq(cs_smem_access(s, 40500, 4, 512, true), 40500);
    cr_expect_eq(cs_smem_occupy(s, 0, 10), 0);
    cr_expect_eq(cs_smem_busy_cycles(s), 0);
    cr_expect_eq(stat_value(st, "t.smem.read"), 8);
    cr_expect_eq(stat_value(st, "t.smem.write"), 16);
    cs_smem_destroy(s);
    cs_stats_destroy(st);
    cs_arch_doc_destroy(d);
}

Test(smem, bytes_per_cycle_caps_the_pipeline)
{
    cs_arch_doc *d = arch_a100();
    cs_smem_params p = d->arch.smem;
    p.bytes_per_cycle = 32;
    cs_clock clk = {GHZ_KHZ};
    cs_stats *st = cs_stats_create();
    cs_smem *s = cs_smem_create(&p, &clk, st, "t.smem");
    /* 128 B in 1 wavefront at 32 B/cycle: max(1, 128 / 32) = 4 cycles */
    cr_expect_eq(cs_smem_access(s, 0, 1, 128, false), 4 * CYC);
    /* 128 B in 32 wavefronts: the conflicts dominate, max(32, 4) = 32, after the first: 36 */
    cr_expect_eq(cs_smem_access(s, 0, 32, 128, false), 36 * CYC);
    cs_smem_destroy(s);
    cs_stats_destroy(st);
    cs_arch_doc_destroy(d);
}

/* =============================================================================================
 * One SM driven by a hand-written op stream (tensor core, register file, shared-memory loads)
 * ============================================================================================= */

static void cta_begin(kern *k, uint32_t id, uint32_t warps)
{
    /* 4 KiB of shared memory, 32 registers per thread */
    kern_add(k, (cs_op){.kind = CS_OP_CTA_BEGIN, .x = id, .rows = warps, .row_bytes = 4096, .stride = 32});
}

static void cta_end(kern *k, uint32_t id) { kern_add(k, (cs_op){.kind = CS_OP_CTA_END, .x = id}); }

static void mma(kern *k, uint16_t warp, uint32_t m, uint32_t n, uint32_t kk, int dtype)
{
    kern_add(k, (cs_op){.kind = CS_OP_MMA, .warp = warp, .dtype = (uint8_t)dtype, .rows = m, .row_bytes = n,
                        .stride = kk});
}

typedef struct smfx {
    cs_arch_doc *doc;
    cs_rf_params rf;
    cs_tc_params tc;
    cs_engine *eng;
    cs_stats *st;
    cs_req_pool *pool;
    cs_clock clk;
    cs_sm *sm;
    kern *k;
} smfx;

/* An A100 SM at 1 GHz; rf_banks > 0 overrides the register-file banks per SM; the ideal
 * flags select the tensor core's and the register file's ideal variants. */
static void smfx_init_ideal(smfx *f, int64_t rf_banks, bool tc_ideal, bool rf_ideal)
{
    memset(f, 0, sizeof *f);
    f->doc = arch_a100();
    const cs_arch *a = &f->doc->arch;
    f->rf = a->rf;
    f->tc = a->tc;
    if (rf_banks)
        f->rf.banks = rf_banks;
    f->tc.ideal = tc_ideal;
    f->rf.ideal = rf_ideal;
    f->eng = cs_engine_create();
    f->st = cs_stats_create();
    f->pool = cs_req_pool_create();
    f->clk.freq_khz = GHZ_KHZ;
    cs_err err;
    cs_err_init(&err);
    cr_assert_eq(cs_sm_create(f->eng, "t.sm", 0, &a->sm, &f->tc, &f->rf, &a->smem, &f->clk, f->pool, f->st,
                              &f->sm, &err),
                 CS_OK, "%s", err.count ? err.msg[0] : "");
    f->k = kern_new();
}

static void smfx_init(smfx *f, int64_t rf_banks) { smfx_init_ideal(f, rf_banks, false, false); }

/* Runs the kernel to the end; returns the SM's finish time. */
static cs_ps smfx_run(smfx *f)
{
    cs_sm_start(f->sm, &f->k->base, 0);
    run_all(f->eng);
    cs_err err;
    cs_err_init(&err);
    cr_assert_eq(cs_sm_status(f->sm, &err), CS_OK, "%s", err.count ? err.msg[0] : "");
    cr_assert(cs_sm_done(f->sm), "the SM did not finish its stream");
    return cs_sm_finish_time(f->sm);
}

static void smfx_fini(smfx *f)
{
    cs_sm_destroy(f->sm);
    cs_opsrc_destroy(&f->k->base);
    cs_req_pool_destroy(f->pool);
    cs_stats_destroy(f->st);
    cs_engine_destroy(f->eng);
    cs_arch_doc_destroy(f->doc);
}

Test(smem, bank_conflicts_delay_a_warps_load_to_use)
{
    /* LDS of 32 rows x 4 B at stride S (W wavefronts from time 0), then an MMA that must wait
     * for it (m16n8k32 INT8: 16 x 8 x 32 / 512 = 8 cycles, result 24 cycles later). The LDS
     * completes at W + 29 (load-to-use after the last wavefront); the MMA starts then and its
     * result is ready at W + 29 + 8 + 24 = W + 61: the warp, CTA and SM finish then. */
    struct { uint32_t stride, wavefronts; } c[] = {{4, 1}, {8, 2}, {16, 4}, {128, 32}};
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        smfx f;
        smfx_init(&f, 0);
        cta_begin(f.k, 0, 1);
        kern_add(f.k, (cs_op){.kind = CS_OP_LDS, .local = 0, .rows = 32, .row_bytes = 4, .stride = c[i].stride});
        mma(f.k, 0, 16, 8, 32, CS_DTYPE_INT8);
        cta_end(f.k, 0);
        cs_ps t = smfx_run(&f);
        cr_expect_eq(t, (c[i].wavefronts + 61) * CYC, "stride %u: %" PRIu64 " ps, want (%u + 61) cycles",
                     c[i].stride, t, c[i].wavefronts);
        cr_expect_eq(stat_value(f.st, "t.sm.smem.wavefronts"), c[i].wavefronts);
        smfx_fini(&f);
    }
}

/* =============================================================================================
 * Tensor core
 * ============================================================================================= */

Test(tensor_core, instruction_padding_macs_and_cycles)
{
    cs_arch_doc *d = arch_a100();
    const cs_tc_params *p = &d->arch.tc;
    cs_op op = {.kind = CS_OP_MMA, .dtype = CS_DTYPE_INT8, .rows = 16, .row_bytes = 8, .stride = 32};
    /* one m16n8k32: 16 x 8 x 32 = 4096 MACs / 512 per cycle = 8 cycles; operands read
     * (16 + 8) x 32 B + 16 x 8 x 4 B accumulators = 1280 B, accumulators written 512 B */
    cs_mma_cost c = cs_tc_cost(p, &op);
    cr_expect_eq(c.instructions, 1);
    cr_expect_eq(c.macs_executed, 4096);
    cr_expect_eq(c.macs_useful, 4096);
    cr_expect_eq(c.cycles, 8);
    cr_expect_eq(c.rf_read_bytes, 1280);
    cr_expect_eq(c.rf_write_bytes, 512);
    /* a 64 x 64 x 64 INT8 warp tile: 4 x 8 x 2 = 64 instructions, 262144 MACs, 512 cycles */
    op.rows = op.row_bytes = op.stride = 64;
    c = cs_tc_cost(p, &op);
    cr_expect_eq(c.instructions, 64);
    cr_expect_eq(c.macs_executed, 262144);
    cr_expect_eq(c.cycles, 512);
    cr_expect_eq(c.rf_read_bytes, 64 * 1280);
    /* FP16: m16n8k16 (32 B / 2 B); 4 x 8 x 4 = 128 instructions of 2048 MACs = 262144 MACs at
     * 256 per cycle = 1024 cycles */
    op.dtype = CS_DTYPE_FP16;
    c = cs_tc_cost(p, &op);
    cr_expect_eq(c.instructions, 128);
    cr_expect_eq(c.macs_executed, 262144);
    cr_expect_eq(c.cycles, 1024);
    /* padding: 17 x 9 x 33 INT8 needs 2 x 2 x 2 = 8 instructions = 32768 MACs (64 cycles) for
     * 17 x 9 x 33 = 5049 useful ones; 1 x 1 x 1 still costs one whole instruction */
    op = (cs_op){.kind = CS_OP_MMA, .dtype = CS_DTYPE_INT8, .rows = 17, .row_bytes = 9, .stride = 33};
    c = cs_tc_cost(p, &op);
    cr_expect_eq(c.instructions, 8);
    cr_expect_eq(c.macs_executed, 32768);
    cr_expect_eq(c.macs_useful, 5049);
    cr_expect_eq(c.cycles, 64);
    op.rows = op.row_bytes = op.stride = 1;
    c = cs_tc_cost(p, &op);
    cr_expect(c.instructions == 1 && c.macs_executed == 4096 && c.macs_useful == 1 && c.cycles == 8);
    /* per SM: 4 sub-partitions x 512 = 2048 INT8, x 256 = 1024 FP16 MACs per cycle */
    cr_expect_eq(cs_tc_macs_per_cycle(p, CS_DTYPE_INT8) * d->arch.sm.subpartitions, 2048);
    cr_expect_eq(cs_tc_macs_per_cycle(p, CS_DTYPE_FP16) * d->arch.sm.subpartitions, 1024);
    cs_arch_doc_destroy(d);
}

Test(tensor_core, back_to_back_mmas_keep_one_tensor_core_busy)
{
    /* one warp, 8 MMAs of 64 x 64 x 64 INT8 (512 cycles each, see above; operands 64 x 1792 B
     * over 8 banks x 128 B = 112 cycles, hidden). Two in flight per warp; a third issues when
     * the first's result is ready, 24 cycles after it ends, long before the unit is free, so
     * the unit never idles: MMA i ends at 512 i, the last result is ready at 8 x 512 + 24. */
    smfx f;
    smfx_init(&f, 0);
    cta_begin(f.k, 0, 1);
    for (int i = 0; i < 8; i++)
        mma(f.k, 0, 64, 64, 64, CS_DTYPE_INT8);
    cta_end(f.k, 0);
    cr_expect_eq(smfx_run(&f), (8 * 512 + 24) * CYC);
    const cs_sm_counts *c = cs_sm_get_counts(f.sm);
    cr_expect_eq(c->tc_busy_cycles[0], 8 * 512);
    cr_expect_eq(c->macs_int8, 8 * 262144);   /* = 512 MACs per busy cycle */
    cr_expect_eq(c->macs_useful, 8 * 262144);
    cr_expect_eq(c->mma_instructions, 8 * 64);
    smfx_fini(&f);
}

Test(tensor_core, ideal_variant_takes_the_latency_alone)
{
    /* the 8 MMAs of the test above on an ideal tensor core: the unit takes no time, so the
     * register file's operand reads bound them: 114688 B / (8 banks x 128 B) = 112 cycles
     * each, back to back: 8 x 112 + 24 = 920. The actions are counted as on the real unit. */
    smfx f;
    smfx_init_ideal(&f, 0, true, false);
    cta_begin(f.k, 0, 1);
    for (int i = 0; i < 8; i++)
        mma(f.k, 0, 64, 64, 64, CS_DTYPE_INT8);
    cta_end(f.k, 0);
    cr_expect_eq(smfx_run(&f), (8 * 112 + 24) * CYC);
    cr_expect_eq(cs_sm_get_counts(f.sm)->macs_int8, 8 * 262144);
    smfx_fini(&f);

    /* with an ideal register file too, the latency alone, two in flight per warp: #1 and #2
     * issue at 0 and 1 (ready 24, 25); #3, #4 at 24, 25; #5, #6 at 48, 49; #7, #8 at 72, 73:
     * the last is ready at 97 */
    smfx_init_ideal(&f, 0, true, true);
    cta_begin(f.k, 0, 1);
    for (int i = 0; i < 8; i++)
        mma(f.k, 0, 64, 64, 64, CS_DTYPE_INT8);
    cta_end(f.k, 0);
    cr_expect_eq(smfx_run(&f), 97 * CYC);
    smfx_fini(&f);
}

Test(tensor_core, fp16_takes_twice_the_int8_time)
{
    /* 4 x 64 x 64 x 64 FP16 MMAs of 1024 cycles: 4 x 1024 + 24 */
    smfx f;
    smfx_init(&f, 0);
    cta_begin(f.k, 0, 1);
    for (int i = 0; i < 4; i++)
        mma(f.k, 0, 64, 64, 64, CS_DTYPE_FP16);
    cta_end(f.k, 0);
    cr_expect_eq(smfx_run(&f), (4 * 1024 + 24) * CYC);
    cr_expect_eq(cs_sm_get_counts(f.sm)->macs_fp16, 4 * 262144);
    smfx_fini(&f);
}

Test(tensor_core, latency_bounds_one_warp_of_short_mmas)
{
    /* 4 single-instruction MMAs (8 cycles) with at most 2 in flight and a 24-cycle result
     * latency: #1 issued at 0, [0, 8), ready 32; #2 issued at 1, [8, 16), ready 40; #3 waits
     * for #1, issued at 32, [32, 40), ready 64; #4 waits for #2, issued at 40, [40, 48), ready
     * 72. Finish: 72 cycles (the unit is busy 32 of them: latency-bound). */
    smfx f;
    smfx_init(&f, 0);
    cta_begin(f.k, 0, 1);
    for (int i = 0; i < 4; i++)
        mma(f.k, 0, 16, 8, 32, CS_DTYPE_INT8);
    cta_end(f.k, 0);
    cr_expect_eq(smfx_run(&f), 72 * CYC);
    cr_expect_eq(cs_sm_get_counts(f.sm)->tc_busy_cycles[0], 4 * 8);
    smfx_fini(&f);
}

Test(tensor_core, four_sub_partitions_run_in_parallel_two_warps_on_one_share_it)
{
    /* 4 warps of one CTA land on sub-partitions 0-3, each with its own tensor core: 4 MMAs of
     * 512 cycles each, in parallel: 4 x 512 + 24 = 2072 cycles for 4 x 4 x 262144 MACs
     * = 2048 MACs per cycle per SM. */
    smfx f;
    smfx_init(&f, 0);
    cta_begin(f.k, 0, 4);
    for (int i = 0; i < 4; i++)
        for (uint16_t w = 0; w < 4; w++)
            mma(f.k, w, 64, 64, 64, CS_DTYPE_INT8);
    cta_end(f.k, 0);
    cr_expect_eq(smfx_run(&f), (4 * 512 + 24) * CYC);
    const cs_sm_counts *c = cs_sm_get_counts(f.sm);
    for (int s = 0; s < 4; s++)
        cr_expect_eq(c->tc_busy_cycles[s], 4 * 512, "sub-partition %d", s);
    cr_expect_eq(c->macs_int8 / (4 * 512), 2048);
    smfx_fini(&f);

    /* 5 warps: warps 0 and 4 are both on sub-partition 0 ((slot) mod 4) and share its tensor
     * core: 8 MMAs back to back, 8 x 512 + 24 = 4120 cycles. */
    smfx_init(&f, 0);
    cta_begin(f.k, 0, 5);
    for (int i = 0; i < 4; i++) {
        mma(f.k, 0, 64, 64, 64, CS_DTYPE_INT8);
        mma(f.k, 4, 64, 64, 64, CS_DTYPE_INT8);
    }
    cta_end(f.k, 0);
    cr_expect_eq(smfx_run(&f), (8 * 512 + 24) * CYC);
    c = cs_sm_get_counts(f.sm);
    cr_expect_eq(c->tc_busy_cycles[0], 8 * 512);
    cr_expect_eq(c->tc_busy_cycles[1], 0);
    smfx_fini(&f);
}

/* =============================================================================================
 * Register file
 * ============================================================================================= */

Test(regfile, reads_and_writes_are_counted_in_words)
{
    /* STS of 32 x 4 B reads 128 B = 32 words from registers; LDS of 32 x 16 B writes 512 B =
     * 128 words; one 64^3 INT8 MMA reads 64 x 1280 B = 20480 words and writes 64 x 512 B = 8192.
     * Reads 32 + 20480 = 20512, writes 128 + 8192 = 8320. */
    smfx f;
    smfx_init(&f, 0);
    cta_begin(f.k, 0, 1);
    kern_add(f.k, (cs_op){.kind = CS_OP_STS, .local = 0, .rows = 32, .row_bytes = 4, .stride = 4});
    kern_add(f.k, (cs_op){.kind = CS_OP_LDS, .local = 0, .rows = 32, .row_bytes = 16, .stride = 16});
    mma(f.k, 0, 64, 64, 64, CS_DTYPE_INT8);
    cta_end(f.k, 0);
    smfx_run(&f);
    const cs_sm_counts *c = cs_sm_get_counts(f.sm);
    cr_expect_eq(c->rf_read, 20512);
    cr_expect_eq(c->rf_write, 8320);
    cr_expect_eq(stat_value(f.st, "t.sm.rf.read"), 20512);
    cr_expect_eq(stat_value(f.st, "t.sm.rf.write"), 8320);
    smfx_fini(&f);
}

Test(regfile, bank_bandwidth_bounds_mmas_when_banks_are_few)
{
    /* 64^3 INT8 MMA: 64 x (1280 + 512) = 114688 B of operand traffic.
     * 4 banks per SM = 1 per sub-partition x 128 B: 114688 / 128 = 896 cycles > 512: the RF
     * bounds each MMA, 4 back to back: 4 x 896 + 24 = 3608 cycles. */
    smfx f;
    smfx_init(&f, 4);
    cta_begin(f.k, 0, 1);
    for (int i = 0; i < 4; i++)
        mma(f.k, 0, 64, 64, 64, CS_DTYPE_INT8);
    cta_end(f.k, 0);
    cr_expect_eq(smfx_run(&f), (4 * 896 + 24) * CYC);
    cr_expect_eq(cs_sm_get_counts(f.sm)->tc_busy_cycles[0], 4 * 512, "the unit itself is busy 512 per MMA");
    smfx_fini(&f);

    /* 8 banks = 2 per sub-partition: 114688 / 256 = 448 < 512: the tensor core bounds again,
     * 4 x 512 + 24 = 2072 */
    smfx_init(&f, 8);
    cta_begin(f.k, 0, 1);
    for (int i = 0; i < 4; i++)
        mma(f.k, 0, 64, 64, 64, CS_DTYPE_INT8);
    cta_end(f.k, 0);
    cr_expect_eq(smfx_run(&f), (4 * 512 + 24) * CYC);
    smfx_fini(&f);

    /* 4 banks again, ideal register file: the bank bound is gone, 4 x 512 + 24 */
    smfx_init_ideal(&f, 4, false, true);
    cta_begin(f.k, 0, 1);
    for (int i = 0; i < 4; i++)
        mma(f.k, 0, 64, 64, 64, CS_DTYPE_INT8);
    cta_end(f.k, 0);
    cr_expect_eq(smfx_run(&f), (4 * 512 + 24) * CYC);
    smfx_fini(&f);
}

Test(regfile, a_cim_reservation_of_the_banks_delays_operand_reads)
{
    /* The RF banks of sub-partition 0 are held for 1000 cycles from 0 (a CiM macro in the
     * register file). CTA 0 (warp slot 0, sub-partition 0) runs one 64^3 INT8 MMA: its operands
     * (112 cycles at 1024 B/cycle) move from 1000 to 1112, the MMA cannot end before, result at
     * 1112 + 24 = 1136. CTA 1 (slot 1, sub-partition 1) is not delayed: 512 + 24 = 536. */
    smfx f;
    smfx_init(&f, 0);
    cr_expect_eq(cs_sm_rf_occupy(f.sm, 0, 0, 1000), 1000 * CYC);
    cta_begin(f.k, 0, 1);
    mma(f.k, 0, 64, 64, 64, CS_DTYPE_INT8);
    cta_end(f.k, 0);
    cta_begin(f.k, 1, 1);
    mma(f.k, 0, 64, 64, 64, CS_DTYPE_INT8);
    cta_end(f.k, 1);
    smfx_run(&f);
    cr_expect_eq(cs_sm_cta_finish_time(f.sm, 0), 1136 * CYC);
    cr_expect_eq(cs_sm_cta_finish_time(f.sm, 1), 536 * CYC);
    smfx_fini(&f);
}

/* =============================================================================================
 * L2 slice, with an ideal DRAM channel behind it
 * ============================================================================================= */

typedef struct l2fx {
    cs_arch_doc *doc;
    cs_engine *eng;
    cs_stats *st;
    cs_req_pool *pool;
    cs_clock clk;
    cs_addrmap map;
    cs_l2_params p;
    cs_hbm_params hp;
    cs_l2 *l2;
    cs_hbm *hbm;
    mock d;
    cs_link *lreq, *lresp, *lmem, *lfill;
} l2fx;

enum { L2_LINK_PS = 1000 }; /* driver <-> slice, each way */

/* One slice of the A100 L2 at clock_khz, the ideal DRAM channel behind it (38 ns), the links
 * as the GPU builds them (mem_latency each way, unlimited bandwidth), and the driver joined by
 * links of link_ps without bandwidth limit, the request link with req_capacity credits. */
static void l2fx_init(l2fx *f, uint64_t clock_khz, bool ideal_l2, cs_ps link_ps, uint32_t req_capacity)
{
    memset(f, 0, sizeof *f);
    f->doc = arch_a100();
    const cs_arch *a = &f->doc->arch;
    f->eng = cs_engine_create();
    f->st = cs_stats_create();
    f->pool = cs_req_pool_create();
    f->clk.freq_khz = clock_khz;
    /* one slice: every line is this slice's, key = line number */
    f->map = (cs_addrmap){.slices = 1, .channels = 1, .bank_groups = 4, .banks_per_group = 4,
                          .lines_per_row = 8, .lines_per_chunk = 8};
    f->p = a->l2;
    f->p.ideal = ideal_l2;
    f->hp = a->hbm;
    f->hp.ideal = true;
    cs_err err;
    cs_err_init(&err);
    cr_assert_eq(cs_l2_create(f->eng, "t.l2", 0, &f->p, &f->map, &f->clk, f->pool, f->st, &f->l2, &err), CS_OK,
                 "%s", err.count ? err.msg[0] : "");
    cr_assert_eq(cs_hbm_create(f->eng, "t.hbm", 0, &f->hp, &f->map, 1, f->pool, f->st, &f->hbm, &err), CS_OK,
                 "%s", err.count ? err.msg[0] : "");
    mock_init(&f->d, f->eng, f->pool, 0);
    f->lreq = link_make(f->eng, "drv->l2", link_ps, 0, NULL, req_capacity, &f->d.out, cs_l2_in(f->l2));
    f->lresp = link_make(f->eng, "l2->drv", link_ps, 0, NULL, 0, cs_l2_out(f->l2), &f->d.in);
    f->lmem = link_make(f->eng, "l2->hbm", a->l2.mem_latency_ps, 0, NULL, (uint32_t)a->hbm.queue_entries,
                        cs_l2_mem_out(f->l2), cs_hbm_in(f->hbm, 0));
    f->lfill = link_make(f->eng, "hbm->l2", a->l2.mem_latency_ps, 0, NULL, (uint32_t)(a->l2.mshrs * 4),
                         cs_hbm_out(f->hbm, 0), cs_l2_mem_in(f->l2));
}

static void l2fx_fini(l2fx *f)
{
    cr_expect_eq(cs_req_pool_live(f->pool), 0, "requests not returned to the pool");
    cs_l2_destroy(f->l2);
    cs_hbm_destroy(f->hbm);
    cs_link_destroy(f->lreq);
    cs_link_destroy(f->lresp);
    cs_link_destroy(f->lmem);
    cs_link_destroy(f->lfill);
    cs_req_pool_destroy(f->pool);
    cs_stats_destroy(f->st);
    cs_engine_destroy(f->eng);
    cs_arch_doc_destroy(f->doc);
}

static msg rd(cs_ps t, uint64_t addr, uint8_t sectors)
{
    return (msg){.t = t, .addr = addr, .kind = CS_REQ_READ, .sectors = sectors};
}

static msg wr(cs_ps t, uint64_t addr, uint8_t sectors, bool no_ack)
{
    return (msg){.t = t, .addr = addr, .kind = CS_REQ_WRITE, .sectors = sectors, .no_ack = no_ack};
}

Test(l2, cold_miss_then_hit_latencies)
{
    l2fx f;
    l2fx_init(&f, GHZ_KHZ, false, L2_LINK_PS, 32);
    msg m[] = {rd(0, 0, 0xf), rd(1000000, 0, 0xf)};
    mock_start(&f.d, m, 2, 0);
    run_all(f.eng);
    /* miss: 1 ns to the slice, looked up on arrival, DRAM request 100 ns out, 38 ns in the
     * ideal channel, 100 ns back, 128 B through the 64 B/cycle data port (2 cycles), 1 ns to
     * the driver: 1 + 100 + 38 + 100 + 2 + 1 = 242 ns */
    cr_expect_eq(rx_time(&f.d, 0), 242000);
    /* hit, offered at 1 us: 1 ns, 150 cycles tag-to-response (the data port's 2 cycles fit
     * inside), 1 ns: 1 000 000 + 1000 + 150 000 + 1000 */
    cr_expect_eq(rx_time(&f.d, 1), 1152000);
    const cs_l2_counts *c = cs_l2_get_counts(f.l2);
    cr_expect_eq(c->rd_miss, 1);
    cr_expect_eq(c->rd_hit, 1);
    cr_expect_eq(c->tag, 2);
    cr_expect_eq(c->fill_sectors, 4);
    cr_expect_eq(c->dram_bytes_read, 128);
    cr_expect_eq(c->bytes_out, 256);
    cr_expect_eq(c->read, 8, "4 sectors served after the fill + 4 on the hit");
    cr_expect_eq(c->write, 4, "the 4 filled sectors");
    cr_expect_eq(cs_hbm_get_counts(f.hbm)->rd, 4, "4 bursts of 32 B");
    cr_expect_eq(cs_link_get_stats(f.lmem)->msgs, 1);
    l2fx_fini(&f);
}

Test(l2, hit_latency_at_the_a100_clock)
{
    /* 1410 MHz, links of 0 ps. Cycle n starts at floor(n x 10^9 / 1 410 000) ps.
     * A full-line write at 0 allocates without fetching and is acknowledged at
     * max(data port: edge(0 + 2) = 1418, hit latency: edge(150) = floor(106382.98) = 106382).
     * A read at 1 us = edge 1410 exactly (1410 x 10^9 / 1 410 000 = 10^6) hits and leaves at
     * edge(1410 + 150) = floor(1560 x 10^9 / 1 410 000) = floor(1106382.98) = 1106382 ps. */
    l2fx f;
    l2fx_init(&f, 1410000, false, 0, 32);
    msg m[] = {wr(0, 4096, 0xf, false), rd(1000000, 4096, 0xf)};
    mock_start(&f.d, m, 2, 0);
    run_all(f.eng);
    cr_expect_eq(rx_time(&f.d, 0), 106382);
    cr_expect_eq(rx_time(&f.d, 1), 1106382);
    const cs_l2_counts *c = cs_l2_get_counts(f.l2);
    cr_expect(c->wr == 1 && c->rd_hit == 1 && c->rd_miss == 0);
    cr_expect_eq(cs_link_get_stats(f.lmem)->msgs, 0, "a whole-sector write fetches nothing");
    l2fx_fini(&f);
}

Test(l2, misses_to_one_line_merge_into_one_dram_request)
{
    /* Two reads of line 0 arrive together at 1 ns. The first is looked up at once (miss, DRAM
     * request); the second one cycle later joins the MSHR. The fill at 1 + 238 = 239 ns serves
     * both through the data port: 239 + 2 = 241 and 241 + 2 = 243 ns, +1 ns to the driver. */
    l2fx f;
    l2fx_init(&f, GHZ_KHZ, false, L2_LINK_PS, 32);
    msg m[] = {rd(0, 0, 0xf), rd(0, 0, 0xf)};
    mock_start(&f.d, m, 2, 0);
    run_all(f.eng);
    cr_expect_eq(rx_time(&f.d, 0), 242000);
    cr_expect_eq(rx_time(&f.d, 1), 244000);
    const cs_l2_counts *c = cs_l2_get_counts(f.l2);
    cr_expect_eq(c->rd_miss, 2);
    cr_expect_eq(c->mshr_merge, 1);
    cr_expect_eq(cs_link_get_stats(f.lmem)->msgs, 1);
    cr_expect_eq(c->dram_bytes_read, 128);
    l2fx_fini(&f);
}

Test(l2, a_partial_hit_fetches_only_the_missing_sectors)
{
    /* Read sector 0 at 0: 32 B from DRAM, fill at 239 ns, 32 B = 1 data-port cycle: 240, +1 =
     * 241 ns. Read the whole line at 1 us: sector 0 is present, sectors 1-3 (96 B) are fetched:
     * fill at 1 000 000 + 1000 + 238 000, 2 data-port cycles, 1 ns: 1 242 000. */
    l2fx f;
    l2fx_init(&f, GHZ_KHZ, false, L2_LINK_PS, 32);
    msg m[] = {rd(0, 128, 0x1), rd(1000000, 128, 0xf)};
    mock_start(&f.d, m, 2, 0);
    run_all(f.eng);
    cr_expect_eq(rx_time(&f.d, 0), 241000);
    cr_expect_eq(rx_time(&f.d, 1), 1242000);
    const cs_l2_counts *c = cs_l2_get_counts(f.l2);
    cr_expect_eq(c->dram_bytes_read, 32 + 96);
    cr_expect_eq(c->fill_sectors, 4);
    cr_expect_eq(c->rd_miss, 2);
    l2fx_fini(&f);
}

Test(l2, the_data_port_bounds_hit_bandwidth)
{
    /* A write warms line 0 at 0. At 1 us, 200 reads of it are offered through a link of 32
     * credits (the input queue): 32 arrive at 1001 ns; each lookup (1 per cycle) returns a
     * credit and the next request arrives one cycle later, so the FIFO never runs dry and read
     * k is looked up at cycle 1001 + k. Its 128 B take the data port for 2 cycles: it ends at
     * 1003 + 2k; the hit latency allows 1151 + k. The response leaves at the later of the two
     * (the latency for k <= 148, the port beyond: one line per 2 cycles = 64 B/cycle) and
     * arrives 1 cycle later. */
    enum { N = 200 };
    l2fx f;
    l2fx_init(&f, GHZ_KHZ, false, L2_LINK_PS, 32);
    msg m[N + 1];
    m[0] = wr(0, 0, 0xf, false);
    for (uint32_t k = 0; k < N; k++)
        m[k + 1] = rd(1000000, 0, 0xf);
    mock_start(&f.d, m, N + 1, 0);
    run_all(f.eng);
    for (uint32_t k = 0; k < N; k++) {
        uint64_t lat = 1151 + k, port = 1003 + 2 * k;
        cs_ps want = ((lat > port ? lat : port) + 1) * CYC;
        cr_expect_eq(rx_time(&f.d, k + 1), want, "read %u at %" PRIu64 ", want %" PRIu64, k,
                     rx_time(&f.d, k + 1), want);
    }
    /* the last: 1003 + 398 + 1 = 1402 cycles */
    cr_expect_eq(rx_time(&f.d, N), 1402000);
    cr_expect_eq(cs_link_get_stats(f.lreq)->max_inflight, 32);
    cr_expect_eq(cs_l2_get_counts(f.l2)->rd_hit, N);
    l2fx_fini(&f);
}

Test(l2, ideal_variant_fixed_latency_unlimited_bandwidth_no_dram)
{
    /* 64 reads of different lines, a write to be acknowledged and a posted write, all offered
     * at 0 through unlimited links: every answer after 1 + 100 (ideal_latency) + 1 ns. */
    enum { N = 64 };
    l2fx f;
    l2fx_init(&f, GHZ_KHZ, true, L2_LINK_PS, 0);
    msg m[N + 2];
    for (uint32_t i = 0; i < N; i++)
        m[i] = rd(0, (uint64_t)i * 128, 0xf);
    m[N] = wr(0, 0, 0x3, false);
    m[N + 1] = wr(0, 128, 0xf, true);
    mock_start(&f.d, m, N + 2, 0);
    run_all(f.eng);
    cr_expect_eq(f.d.received, N + 1, "the posted write is not answered");
    for (uint32_t i = 0; i <= N; i++)
        cr_expect_eq(rx_time(&f.d, i), 102000, "request %u", i);
    const cs_l2_counts *c = cs_l2_get_counts(f.l2);
    cr_expect_eq(c->rd_hit, N);
    cr_expect_eq(c->wr, 2);
    cr_expect_eq(c->tag, N + 2);
    cr_expect_eq(cs_link_get_stats(f.lmem)->msgs, 0, "the ideal L2 never goes to DRAM");
    cr_expect_eq(c->dram_bytes_read + c->dram_bytes_written, 0);
    l2fx_fini(&f);
}

/* =============================================================================================
 * Crossbar
 * ============================================================================================= */

enum { XS = 4, XD = 2 }; /* requesters, slices */

typedef struct xfx {
    cs_arch_doc *doc;
    cs_engine *eng;
    cs_stats *st;
    cs_req_pool *pool;
    cs_clock clk;
    cs_addrmap map;
    cs_xbar *x;
    mock req[XS], slice[XD];
    cs_link *links[2 * XS + 2 * XD];
} xfx;

/* The A100 crossbar with 4 requesters and 2 slices, wired as the GPU wires it at 1 GHz:
 * requester -> xbar 20 cycles, xbar -> slice 1 cycle (32 credits: the slice's input queue),
 * slice -> xbar 20 cycles, xbar -> requester 1 cycle; 64 B/cycle each, 64 credits elsewhere.
 * ideal_links: every link without latency, bandwidth limit or credit limit instead.
 * Slices: map of 2 slices in 1 KiB chunks; cs_mix64(0) = 0, so chunk r < 2 (q = 0) is slice r:
 * bytes 0-1023 are slice 0, 1024-2047 slice 1. */
static void xfx_init(xfx *f, bool ideal_links)
{
    memset(f, 0, sizeof *f);
    f->doc = arch_a100();
    const cs_xbar_params *xp = &f->doc->arch.xbar;
    f->eng = cs_engine_create();
    f->st = cs_stats_create();
    f->pool = cs_req_pool_create();
    f->clk.freq_khz = GHZ_KHZ;
    f->map = (cs_addrmap){.slices = XD, .channels = XD, .bank_groups = 4, .banks_per_group = 4,
                          .lines_per_row = 8, .lines_per_chunk = 8};
    cs_err err;
    cs_err_init(&err);
    cr_assert_eq(cs_xbar_create(f->eng, "t.xbar", xp, XS, XD, &f->map, f->st, &f->x, &err), CS_OK, "%s",
                 err.count ? err.msg[0] : "");
    cs_ps xlat = (cs_ps)xp->latency_cycles * CYC, one = CYC;
    uint32_t bw = (uint32_t)xp->sm_bytes_per_cycle, q = (uint32_t)xp->port_queue;
    uint32_t inq = (uint32_t)f->doc->arch.l2.input_queue;
    if (ideal_links) {
        xlat = one = 0;
        bw = q = inq = 0;
    }
    size_t n = 0;
    for (uint32_t i = 0; i < XS; i++) {
        mock_init(&f->req[i], f->eng, f->pool, i);
        f->links[n++] = link_make(f->eng, "req->xbar", xlat, bw, &f->clk, q, &f->req[i].out, cs_xbar_req_in(f->x, i));
        f->links[n++] = link_make(f->eng, "xbar->req", one, bw, &f->clk, q, cs_xbar_resp_out(f->x, i), &f->req[i].in);
    }
    for (uint32_t j = 0; j < XD; j++) {
        mock_init(&f->slice[j], f->eng, f->pool, j);
        f->links[n++] = link_make(f->eng, "xbar->slice", one, bw, &f->clk, inq, cs_xbar_req_out(f->x, j),
                                  &f->slice[j].in);
        f->links[n++] = link_make(f->eng, "slice->xbar", xlat, bw, &f->clk, q, &f->slice[j].out,
                                  cs_xbar_resp_in(f->x, j));
    }
}

static void xfx_fini(xfx *f)
{
    cr_expect_not(cs_component_busy(cs_xbar_component(f->x)), "the crossbar still holds messages");
    cr_expect_eq(cs_req_pool_live(f->pool), 0, "messages lost (not returned to the pool)");
    cs_xbar_destroy(f->x);
    for (size_t i = 0; i < sizeof f->links / sizeof f->links[0]; i++)
        cs_link_destroy(f->links[i]);
    cs_req_pool_destroy(f->pool);
    cs_stats_destroy(f->st);
    cs_engine_destroy(f->eng);
    cs_arch_doc_destroy(f->doc);
}

/* n 128-byte writes per requester, all to slice 0, all offered at 0; requester i's k-th
 * carries tag i * n + k. */
static msg *saturating_load(xfx *f, uint32_t n)
{
    msg *m = cs_calloc((size_t)XS * n, sizeof *m);
    for (uint32_t i = 0; i < XS; i++) {
        for (uint32_t k = 0; k < n; k++)
            m[i * n + k] = (msg){.t = 0, .addr = (uint64_t)(k % 8) * 128, .kind = CS_REQ_WRITE, .sectors = 0xf,
                                 .src = (uint16_t)i};
        mock_start(&f->req[i], m + i * n, n, i * n);
    }
    return m;
}

/* Each requester's messages arrived at slice 0 exactly once and in the order sent. */
static void expect_each_once_in_order(const mock *s, uint32_t n)
{
    cr_expect_eq(s->received, XS * n);
    uint32_t count[XS * 128] = {0}, last[XS];
    for (uint32_t i = 0; i < XS; i++)
        last[i] = UINT32_MAX;
    for (uint32_t j = 0; j < s->received; j++) {
        uint32_t tag = s->rx_tag[j], i = tag / n, k = tag % n;
        cr_assert_lt(tag, XS * n);
        count[tag]++;
        cr_expect(last[i] == UINT32_MAX || k > last[i], "requester %u: message %u after %u", i, k, last[i]);
        last[i] = k;
    }
    for (uint32_t t = 0; t < XS * n; t++)
        cr_expect_eq(count[t], 1, "message %u delivered %u times", t, count[t]);
}

Test(xbar, one_saturated_output_serialises_at_its_port_bandwidth)
{
    /* 4 requesters x 64 writes of 128 B to slice 0. Requester links: message k leaves at
     * 2 (k + 1) (128 B / 64 B per cycle) and reaches the crossbar at 2k + 22: 4 messages per 2
     * cycles for an output that takes 1 per 2 cycles. From the first arrival at 22 the output
     * link never idles: the j-th message leaves the crossbar at 22 + 2 (j + 1) and reaches the
     * slice 1 cycle later, at 25 + 2j. The FIFO serves equal arrivals in the order they came
     * (requester 0, 1, 2, 3), so the j-th is requester j mod 4's message j / 4.
     * Last: 25 + 2 x 255 = 535 = 4 x 64 x 128 B / 64 B/cycle (512) + 2 (first serialisation)
     * + 20 (latency in) + 1 (latency out). */
    enum { N = 64 };
    xfx f;
    xfx_init(&f, false);
    msg *m = saturating_load(&f, N);
    run_all(f.eng);
    const mock *s = &f.slice[0];
    cr_assert_eq(s->received, XS * N);
    for (uint32_t j = 0; j < XS * N; j++) {
        cr_expect_eq(s->rx_ps[j], (25 + 2 * (cs_ps)j) * CYC, "arrival %u at %" PRIu64, j, s->rx_ps[j]);
        cr_expect_eq(s->rx_tag[j], (j % XS) * N + j / XS, "arrival %u is tag %u", j, s->rx_tag[j]);
    }
    cr_expect_eq(s->rx_ps[XS * N - 1], 535 * CYC);
    expect_each_once_in_order(s, N);
    cr_expect_eq(f.slice[1].received, 0);
    cr_expect_eq(cs_xbar_flits(f.x), XS * N * 4, "128 B = 4 flits of 32 B");
    cs_free(m);
    xfx_fini(&f);
}

Test(xbar, back_pressure_loses_and_duplicates_nothing)
{
    /* 4 x 100 writes to slice 0, whose mock holds every message unreleased until cycle 5000.
     * Before that: 32 messages reach it (the credits of its link); the crossbar returns a
     * requester's credit only when its message leaves, so 4 x 64 more are in the requester
     * links and the crossbar FIFO: 32 + 256 = 288 accepted, the rest refused.
     * At 5000 the 32 credits return: the output link restarts at 5000 and never idles (the FIFO
     * holds 224 more, and the requesters refill it 22 cycles after each credit), so the
     * remaining 368 messages arrive at 5000 + 3 + 2j, the last at 5000 + 3 + 2 x 367 = 5737. */
    enum { N = 100, U = 5000 };
    xfx f;
    xfx_init(&f, false);
    f.slice[0].hold = true;
    msg *m = saturating_load(&f, N);
    cs_engine_post(f.eng, (cs_ps)U * CYC, CS_PRIO_DEFAULT, mock_unhold, &f.slice[0], NULL, 0);
    cs_err err;
    cs_err_init(&err);
    cr_assert_eq(cs_engine_run(f.eng, (cs_ps)U * CYC - 1, &err), CS_OK);
    const mock *s = &f.slice[0];
    cr_expect_eq(s->received, 32);
    uint64_t accepted = 0, refused = 0;
    for (size_t i = 0; i < 2 * XS; i += 2) {
        accepted += cs_link_get_stats(f.links[i])->msgs;
        refused += cs_link_get_stats(f.links[i])->refused;
    }
    cr_expect_eq(accepted, 32 + XS * 64);
    cr_expect_gt(refused, 0);
    cr_expect(cs_component_busy(cs_xbar_component(f.x)), "the crossbar holds the back-pressured messages");
    run_all(f.eng);
    cr_assert_eq(s->received, XS * N);
    expect_each_once_in_order(s, N);
    for (uint32_t j = 32; j < XS * N; j++)
        cr_expect_eq(s->rx_ps[j], (U + 3 + 2 * (cs_ps)(j - 32)) * CYC, "arrival %u at %" PRIu64, j, s->rx_ps[j]);
    cr_expect_eq(s->rx_ps[XS * N - 1], 5737 * CYC);
    cs_free(m);
    xfx_fini(&f);
}

Test(xbar, requests_route_by_address_responses_by_source)
{
    /* Requester 0 reads byte 0 (slice 0) and byte 1024 (slice 1): 8 B requests take a whole
     * cycle each on its link: [0, 1) and [1, 2), at the crossbar at 21 and 22, one cycle on each
     * slice link and 1 cycle of latency: 23 and 24.
     * Slice 1 returns 4 read responses (128 B) to requesters 3, 2, 1, 0 in that order: they
     * leave at 2, 4, 6, 8, reach the crossbar 20 cycles later and take separate outputs: + 2 +
     * 1: requester 3 at 25, 2 at 27, 1 at 29, 0 at 31. */
    xfx f;
    xfx_init(&f, false);
    msg reqs[] = {rd(0, 0, 0xf), rd(0, 1024, 0xf)};
    msg resps[4];
    for (uint16_t i = 0; i < 4; i++)
        resps[i] = (msg){.t = 0, .addr = 1024, .kind = CS_REQ_READ, .sectors = 0xf, .is_resp = true,
                         .src = (uint16_t)(3 - i)};
    mock_start(&f.req[0], reqs, 2, 0);
    mock_start(&f.slice[1], resps, 4, 100);
    run_all(f.eng);
    cr_expect_eq(f.slice[0].received, 1);
    cr_expect_eq(rx_time(&f.slice[0], 0), 23 * CYC);
    cr_expect_eq(f.slice[1].received, 1);
    cr_expect_eq(rx_time(&f.slice[1], 1), 24 * CYC);
    for (uint32_t i = 0; i < 4; i++) {
        cr_expect_eq(f.req[3 - i].received, 1, "requester %u", 3 - i);
        cr_expect_eq(rx_time(&f.req[3 - i], 100 + i), (25 + 2 * (cs_ps)i) * CYC, "response to %u", 3 - i);
    }
    /* flits: 2 requests of 8 B = 1 each, 4 responses of 128 B = 4 each: 18 */
    cr_expect_eq(cs_xbar_flits(f.x), 18);
    xfx_fini(&f);
}

Test(xbar, the_crossbar_itself_adds_no_time)
{
    /* Bandwidth and latency live on the links (xbar.h): with links of no latency, no bandwidth
     * limit and no credit limit, 4 x 64 writes offered at 0 all reach slice 0 at 0, once each. */
    enum { N = 64 };
    xfx f;
    xfx_init(&f, true);
    msg *m = saturating_load(&f, N);
    run_all(f.eng);
    const mock *s = &f.slice[0];
    cr_assert_eq(s->received, XS * N);
    for (uint32_t j = 0; j < XS * N; j++)
        cr_expect_eq(s->rx_ps[j], 0, "arrival %u at %" PRIu64, j, s->rx_ps[j]);
    expect_each_once_in_order(s, N);
    cs_free(m);
    xfx_fini(&f);
}

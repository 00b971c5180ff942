/* smem — bank-conflict arithmetic and the bank pipeline. */
#include "smem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "check.h"
#include "hash.h"


static void check_smem(const void *params, cs_cfg_check *chk)
{
    const cs_smem_params *p = params;
    if (p->carveout_bytes > p->unified_bytes)
        cs_cfg_fail2(chk, "carveout", "unified", "must not exceed the unified L1/shared size (got %llu > %llu)",
                     (unsigned long long)p->carveout_bytes, (unsigned long long)p->unified_bytes);
    bool allowed = p->carveouts_kib.n == 0;
    for (size_t i = 0; i < p->carveouts_kib.n; i++)
        allowed |= (uint64_t)p->carveouts_kib.v[i] * 1024 == p->carveout_bytes;
    if (!allowed)
        cs_cfg_fail2(chk, "carveout", "carveouts_kib", "must be one of the allowed carve-outs (got %llu B)",
                     (unsigned long long)p->carveout_bytes);
    if (p->cta_max_bytes > p->carveout_bytes)
        cs_cfg_fail2(chk, "cta_max", "carveout", "must not exceed the carve-out (got %llu > %llu)",
                     (unsigned long long)p->cta_max_bytes, (unsigned long long)p->carveout_bytes);
    if (p->banks & (p->banks - 1))
        cs_cfg_fail(chk, "banks", "must be a power of two (got %lld)", (long long)p->banks);
}

static const cs_cfg_key smem_keys[] = {
    CS_CFG_K(cs_smem_params, unified_bytes, "unified", CS_CFG_BYTES, false, "192KiB", 1024, 16777216.0, "bytes",
             "L1 data cache plus shared memory per SM (one SRAM, split by the carve-out)"),
    CS_CFG_K(cs_smem_params, carveout_bytes, "carveout", CS_CFG_BYTES, false, "164KiB", 0, 16777216.0, "bytes",
             "shared-memory part of the unified SRAM; the rest is L1 data cache"),
    {.name = "carveouts_kib", .type = CS_CFG_INT_LIST, .offset = offsetof(cs_smem_params, carveouts_kib),
     .def = "[0, 8, 16, 32, 64, 100, 132, 164]", .min = 0, .max = 16384, .unit = "KiB",
     .help = "carve-outs the hardware supports (empty: any)"},
    CS_CFG_K(cs_smem_params, cta_max_bytes, "cta_max", CS_CFG_BYTES, false, "163KiB", 0, 16777216.0, "bytes",
             "largest shared-memory allocation of one CTA (opt-in maximum)"),
    CS_CFG_K(cs_smem_params, banks, "banks", CS_CFG_INT, false, "32", 1, 256, "banks", "shared-memory banks"),
    CS_CFG_K(cs_smem_params, bank_bytes, "bank_bytes", CS_CFG_INT, false, "4", 1, 64, "bytes", "width of one bank"),
    CS_CFG_K(cs_smem_params, latency_cycles, "latency", CS_CFG_INT, false, "29", 1, 10000, "cycles",
             "shared-memory load-to-use latency after the last wavefront"),
    CS_CFG_K(cs_smem_params, bytes_per_cycle, "bytes_per_cycle", CS_CFG_INT, false, "0", 0, 65536, "B/cycle",
             "bandwidth cap of the bank pipeline for templates whose SRAM is slower than its banks "
             "(0: banks x bank_bytes, the conflict model alone)"),
    CS_CFG_K(cs_smem_params, ideal, "ideal", CS_CFG_BOOL, false, "false", CS_CFG_NORANGE, "",
             "ideal variant: every access takes the latency alone (no bank conflicts, unlimited bandwidth)"),
};
const cs_cfg_schema cs_smem_schema =
    CS_CFG_SCHEMA("smem", cs_smem_params, smem_keys, check_smem,
                  "Unified L1 data cache / shared memory of one SM (A100: 192 KiB, 32 banks x 4 B).");

uint32_t cs_smem_wavefronts_addrs(const uint32_t *addrs, uint32_t n, uint32_t access_bytes,
                                  uint32_t banks, uint32_t bank_bytes)
{
    uint32_t per_phase = banks * bank_bytes / access_bytes;
    if (per_phase == 0)
        per_phase = 1;
    uint32_t words_per_access = (access_bytes + bank_bytes - 1) / bank_bytes;
    if (words_per_access > 16)
        words_per_access = 16;
    uint32_t total = 0;
    for (uint32_t p0 = 0; p0 < n; p0 += per_phase) {
        uint32_t pn = n - p0 < per_phase ? n - p0 : per_phase;
        if (pn > 32)
            pn = 32;
        /* The phase's words, sorted; each distinct word costs its bank one wavefront. */
        uint32_t words[32 * 16], nw = 0, per_bank[256] = {0}, worst = 0;
        for (uint32_t i = 0; i < pn; i++)
            for (uint32_t w = 0; w < words_per_access; w++)
                words[nw++] = addrs[p0 + i] / bank_bytes + w;
        for (uint32_t i = 1; i < nw; i++) { /* insertion sort: a phase holds few words */
            uint32_t v = words[i], j = i;
            while (j > 0 && words[j - 1] > v) {
                words[j] = words[j - 1];
                j--;
            }
            words[j] = v;
        }
        for (uint32_t i = 0; i < nw; i++) {
            if (i && words[i] == words[i - 1])
                continue; /* broadcast */
            uint32_t b = words[i] % banks % 256;
            if (++per_bank[b] > worst)
                worst = per_bank[b];
        }
        total += worst;
    }
    return total;
}

static uint32_t swizzle(uint32_t a)
{
    return a ^ (((a >> 7) & 7u) << 4);
}

uint32_t cs_smem_wavefronts(uint32_t local, uint32_t rows, uint32_t row_bytes, uint32_t stride,
                            bool swz, uint32_t banks, uint32_t bank_bytes)
{
    if (!rows || !row_bytes)
        return 0;
    uint32_t aw = 16;
    while (aw > bank_bytes && (row_bytes % aw || local % aw || (rows > 1 && stride % aw)))
        aw /= 2;
    uint32_t chunks = (row_bytes + aw - 1) / aw;
    uint64_t threads = (uint64_t)chunks * rows;
    uint32_t total = 0, addrs[32];
    for (uint64_t t0 = 0; t0 < threads; t0 += 32) {
        uint32_t n = threads - t0 < 32 ? (uint32_t)(threads - t0) : 32;
        for (uint32_t i = 0; i < n; i++) {
            uint64_t t = t0 + i;
            uint32_t r = (uint32_t)(t % rows), c = (uint32_t)(t / rows);
            uint32_t a = local + r * stride + c * aw;
            addrs[i] = swz ? swizzle(a) : a;
        }
        total += cs_smem_wavefronts_addrs(addrs, n, aw, banks, bank_bytes);
    }
    return total;
}

/* Wavefronts depend only on the access pattern and the bank geometry, and a GEMM repeats a
 * few patterns on every SM: one memo per thread serves all the SMs a thread simulates. */
enum { MEMO = 4096 };
typedef struct memo_entry {
    uint32_t local, rows, row_bytes, stride, flags, banks, bank_bytes, wavefronts;
    bool used;
} memo_entry;
static _Thread_local memo_entry memo[MEMO];

struct cs_smem {
    cs_smem_params p;
    const cs_clock *clk;
    cs_ps free_ps;
    bool tail_cim;           /* the latest reservation is a CiM macro's */
    uint64_t reads, writes;  /* actions: 32-byte accesses */
    uint64_t wavefronts, conflict_wavefronts, busy_cycles;
};

cs_smem *cs_smem_create(const cs_smem_params *p, const cs_clock *clk, cs_stats *st,
                        const char *name)
{
    cs_smem *s = cs_calloc(1, sizeof *s);
    s->p = *p;
    s->p.carveouts_kib = (cs_cfg_ints){0, NULL}; /* not needed after validation */
    s->clk = clk;
    char buf[256];
#define REG(field, unit, desc) \
    (snprintf(buf, sizeof buf, "%s.%s", name, #field), cs_stats_counter(st, buf, unit, desc, &s->field))
    snprintf(buf, sizeof buf, "%s.read", name);
    cs_stats_action(st, buf, "32B", "shared-memory reads (32-byte units)", &s->reads, "smem", "read");
    snprintf(buf, sizeof buf, "%s.write", name);
    cs_stats_action(st, buf, "32B", "shared-memory writes (32-byte units)", &s->writes, "smem", "write");
    REG(wavefronts, "cycles", "bank-pipeline wavefronts for loads and stores");
    REG(conflict_wavefronts, "cycles", "wavefronts beyond the conflict-free minimum");
    REG(busy_cycles, "cycles", "cycles the bank pipeline was reserved (including CiM use)");
#undef REG
    cs_stats_instance(st, "smem", name);
    return s;
}

void cs_smem_destroy(cs_smem *s)
{
    cs_free(s);
}

uint32_t cs_smem_op_wavefronts(cs_smem *s, const cs_op *op)
{
    uint32_t banks = (uint32_t)s->p.banks, bank_bytes = (uint32_t)s->p.bank_bytes;
    uint64_t h = cs_mix64(((uint64_t)op->local << 32 | op->rows) ^
                          cs_mix64((uint64_t)op->row_bytes << 32 | op->stride) ^
                          ((uint64_t)op->flags << 48 | (uint64_t)banks << 24 | bank_bytes));
    memo_entry *e = &memo[h % MEMO];
    if (e->used && e->local == op->local && e->rows == op->rows && e->row_bytes == op->row_bytes &&
        e->stride == op->stride && e->flags == op->flags && e->banks == banks && e->bank_bytes == bank_bytes)
        return e->wavefronts;
    uint32_t w = cs_smem_wavefronts(op->local, op->rows, op->row_bytes, op->stride,
                                    (op->flags & CS_OPF_SWIZZLE) != 0, banks, bank_bytes);
    *e = (memo_entry){op->local, op->rows, op->row_bytes, op->stride, op->flags, banks, bank_bytes, w, true};
    return w;
}

static cs_ps reserve(cs_smem *s, cs_ps now, uint64_t cycles, bool cim)
{
    if (s->p.ideal)
        return now;
    cs_ps start = now > s->free_ps ? now : s->free_ps;
    uint64_t c0 = cs_clock_cycle_at(s->clk, start);
    s->free_ps = cs_clock_ps(s->clk, c0 + cycles);
    s->busy_cycles += cycles;
    s->tail_cim = cim;
    return s->free_ps;
}

cs_ps cs_smem_occupy(cs_smem *s, cs_ps now, uint64_t cycles)
{
    return reserve(s, now, cycles, true);
}

cs_ps cs_smem_access(cs_smem *s, cs_ps now, uint32_t wavefronts, uint64_t bytes, bool write)
{
    uint64_t width = (uint64_t)(s->p.banks * s->p.bank_bytes);
    uint64_t ideal = (bytes + width - 1) / width;
    s->wavefronts += wavefronts;
    if (wavefronts > ideal)
        s->conflict_wavefronts += wavefronts - ideal;
    uint64_t units = (bytes + 31) / 32;
    if (write)
        s->writes += units;
    else
        s->reads += units;
    return cs_smem_access_uncounted(s, now, wavefronts, bytes);
}

cs_ps cs_smem_access_uncounted(cs_smem *s, cs_ps now, uint32_t wavefronts, uint64_t bytes)
{
    uint64_t cycles = wavefronts;
    if (s->p.bytes_per_cycle) {
        uint64_t cap = (bytes + (uint64_t)s->p.bytes_per_cycle - 1) / (uint64_t)s->p.bytes_per_cycle;
        if (cap > cycles)
            cycles = cap;
    }
    return reserve(s, now, cycles, false);
}

cs_ps cs_smem_free_at(const cs_smem *s) { return s->free_ps; }
uint32_t cs_smem_latency_cycles(const cs_smem *s) { return (uint32_t)s->p.latency_cycles; }
uint32_t cs_smem_width_bytes(const cs_smem *s) { return (uint32_t)(s->p.banks * s->p.bank_bytes); }
uint64_t cs_smem_busy_cycles(const cs_smem *s) { return s->busy_cycles; }
bool cs_smem_tail_cim(const cs_smem *s) { return s->tail_cim; }

/* compat — the WWW study's conventions: schema, the `www` profile, and the energy-side rules. */
#include "compat.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"

static const char *const dram_modes[] = {"burst", "byte", NULL};
static const char *const baselines[] = {"tensor_core", "pe_array", NULL};
static const char *const mac_modes[] = {"array", "used", NULL};
static const char *const rf_modes[] = {"kept", "replaced", NULL};

static void check_compat(const void *params, cs_cfg_check *chk)
{
    const cs_compat *c = params;
    if (c->psum_bits != 8 && c->psum_bits != 16 && c->psum_bits != 32)
        cs_cfg_fail(chk, "psum_bits", "must be 8, 16 or 32 (got %lld)", (long long)c->psum_bits);
}

static const cs_cfg_key compat_keys[] = {
    CS_CFG_K(cs_compat, psum_bits, "psum_bits", CS_CFG_INT, false, "32", 8, 32, "bits",
             "width of partial sums and accumulators wherever they are stored or moved (the study: 8)"),
    CS_CFG_K(cs_compat, adder_tree, "adder_tree", CS_CFG_BOOL, false, "false", 1, 0, "",
             "in-buffer accumulation: the macros of a bank that split K add their partial sums for free "
             "before they leave the bank (the study's CiM output buffers)"),
    CS_CFG_K(cs_compat, drain_reads, "drain_reads", CS_CFG_BOOL, false, "true", 1, 0, "",
             "count the read of an output tile as it leaves a level for the one above (Timeloop counts none)"),
    CS_CFG_E(cs_compat, cim_macs, "cim_macs", mac_modes, "array",
             "CiM MAC energy per MAC of the whole array each operation (array) or per MAC used (used: the study)"),
    CS_CFG_K(cs_compat, noc_energy, "noc_energy", CS_CFG_BOOL, false, "true", 1, 0, "",
             "charge crossbar flits (the study's template joins DRAM to shared memory directly: false)"),
    CS_CFG_K(cs_compat, leakage, "leakage", CS_CFG_BOOL, false, "true", 1, 0, "",
             "charge leakage (the study: false)"),
    CS_CFG_E(cs_compat, dram_energy, "dram_energy", dram_modes, "burst",
             "DRAM energy per 32-byte burst (burst) or per byte the SMs ask for (byte: the study; with l2.bypass)"),
    CS_CFG_E(cs_compat, baseline, "baseline", baselines, "tensor_core",
             "the baseline's compute block: tensor cores fed from registers, or the study's PE array (16 x 16 PEs "
             "per sub-partition, A in per-PE operand registers, B broadcast from shared memory, K reduced "
             "across the PE columns into the register file)"),
    CS_CFG_E(cs_compat, register_file, "register_file", rf_modes, "kept",
             "a CiM placement keeps the register file its macros do not replace (its leakage and area: all of "
             "it at smem level, the unreplaced part at rf level) or none of it (replaced: the study)"),
};
const cs_cfg_schema cs_compat_schema =
    CS_CFG_SCHEMA("compat", cs_compat, compat_keys, check_compat,
                  "The WWW study's accounting conventions, each switchable (--compat www sets them all).");

static const cs_compat_key keys[] = {
    {"psum_bits", "8", "32", "partial-sum width", "no partial sum leaves a macro or the PE array"},
    {"adder_tree", "true", "false", "in-buffer accumulation", "no bank splits K over its macros"},
    {"drain_reads", "false", "true", "output drain reads", "no output tile is sent up a level"},
    {"cim_macs", "used", "array", "CiM MACs at array width",
     "every CiM operation of these mappings uses all the array's rows and columns"},
    {"noc_energy", "false", "true", "crossbar energy", "no byte crosses the crossbar"},
    {"leakage", "false", "true", "leakage", "no instance leaks"},
    {"dram_energy", "byte", "burst", "DRAM per burst",
     "every DRAM access asks for whole bursts, so a byte costs a burst's share either way"},
    {"baseline", "pe_array", "tensor_core", "tensor cores instead of the PE array", "the run has no baseline"},
    {"register_file", "replaced", "kept", "the realistic register file",
     "the macros replace the whole register file"},
    {NULL, NULL, NULL, NULL, NULL},
};

const cs_compat_key *cs_compat_keys(void)
{
    return keys;
}

const char *const *cs_compat_profile(const char *name)
{
    static const char *const www[] = {
        "compat.psum_bits=8",     "compat.adder_tree=true", "compat.drain_reads=false",
        "compat.cim_macs=used",   "compat.noc_energy=false", "compat.leakage=false",
        "compat.dram_energy=byte", "compat.baseline=pe_array", "compat.register_file=replaced", NULL};
    return name && strcmp(name, "www") == 0 ? www : NULL;
}

bool cs_compat_any(const cs_compat *c)
{
    return c->psum_bits != 32 || c->adder_tree || !c->drain_reads || c->cim_macs != CS_COMPAT_ARRAY ||
           !c->noc_energy || !c->leakage || c->dram_energy != CS_COMPAT_BURST || c->baseline != CS_COMPAT_TENSOR_CORE ||
           c->register_file != CS_COMPAT_KEPT;
}

static bool has_instance(const cs_energy_table *t, const char *cls)
{
    size_t n = cs_energy_entry_count(t);
    for (size_t i = 0; i < n; i++) {
        const char *ec, *ea;
        cs_energy_entry_get(t, i, &ec, &ea, NULL, NULL, NULL, NULL);
        if (!ea && strcmp(ec, cls) == 0)
            return true;
    }
    return false;
}

void cs_compat_energy_table(const cs_compat *c, int level, cs_energy_table *t)
{
    double pj;
    if (!c->noc_energy && cs_energy_lookup(t, "noc", "flit", &pj) == CS_OK)
        cs_energy_set_action(t, "noc", "flit", 0, 0,
                             "compat.noc_energy = false: the study's template joins DRAM to shared memory directly");
    if (!c->leakage)
        for (size_t i = 0; cs_energy_vocab_class(i); i++) {
            const char *cls = cs_energy_vocab_class(i);
            if (has_instance(t, cls))
                cs_energy_set_instance(t, cls, 0, cs_energy_area_mm2(t, cls), 0,
                                       "compat.leakage = false: the study charges no leakage");
        }
    /* level 0 = rf, 1 = smem (cs_cim_level): the study's CiM templates have no register file */
    if (c->register_file == CS_COMPAT_REPLACED && (level == 0 || level == 1) && has_instance(t, "rf"))
        cs_energy_set_instance(t, "rf", 0, 0, 0,
                               "compat.register_file = replaced: the CiM bank replaces the register file entirely");
}

void cs_compat_reprice(const cs_compat *c, bool l2_bypass, uint32_t burst_bytes, const cs_stats *st,
                       const cs_energy_table *t, cs_energy_report *r)
{
    if (c->dram_energy != CS_COMPAT_BYTE || !l2_bypass || !burst_bytes)
        return;
    static const char *const actions[2] = {"rd", "wr"};
    static const char *const globs[2] = {"gpu.sm*.access.dram.*.read", "gpu.sm*.access.dram.*.update"};
    for (int a = 0; a < 2; a++) {
        double pj;
        if (cs_energy_lookup(t, "dram", actions[a], &pj) != CS_OK)
            continue;
        for (size_t i = 0; i < r->nitems; i++) {
            if (strcmp(r->items[i].cls, "dram") != 0 || strcmp(r->items[i].action, actions[a]) != 0)
                continue;
            /* the burst item keeps its count and costs nothing; a new item charges the bytes */
            double d = -r->items[i].pj;
            r->items[i].pj = 0;
            r->items = cs_realloc(r->items, (r->nitems + 1) * sizeof *r->items);
            cs_energy_item *it = &r->items[r->nitems++];
            memset(it, 0, sizeof *it);
            snprintf(it->cls, sizeof it->cls, "dram");
            snprintf(it->action, sizeof it->action, "%s_bytes", actions[a]);
            it->count = (uint64_t)cs_stats_sum(st, globs[a]);
            it->pj_each = pj / (double)burst_bytes;
            it->pj = cs_energy_quantise((double)it->count * it->pj_each);
            d += it->pj;
            r->breakdown_pj[CS_EB_DRAM] += d;
            r->level_pj[CS_EL_DRAM] += d;
            r->dynamic_pj += d;
            r->total_pj += d;
            break;
        }
    }
}

cs_status cs_compat_pe_plan(const cs_compat *c, const cs_target *t, uint32_t pe_n, uint32_t pe_k, const cs_gemm *g,
                            int dtype, const cs_nest_spec *spec, cs_nest_hw *hw, cs_nest_plan *out, cs_err *err)
{
    memset(hw, 0, sizeof *hw);
    hw->controllers = t->sms;
    hw->pe_n = pe_n;
    hw->pe_k = pe_k;
    hw->subparts = t->subpartitions;
    hw->smem_bytes = t->smem_bytes_per_sm < t->smem_bytes_per_cta_max ? t->smem_bytes_per_sm : t->smem_bytes_per_cta_max;
    hw->psum_bytes = cs_compat_psum_bytes(c);
    hw->dram_bytes_per_cycle = t->dram_bytes_per_s / t->clock_hz;
    hw->smem_bytes_per_cycle = t->smem_bytes_per_cycle;
    hw->latency_fill_cycles = 2 * t->mem_latency_cycles;
    cs_nest_limits lim = {.pe_n = pe_n, .pe_k = pe_k, .subparts = t->subpartitions};
    uint32_t eb = (uint32_t)cs_dtype_bytes(dtype);
    if (spec) {
        cs_nest n;
        cs_status st = cs_nest_bind(spec, CS_NEST_PE, &lim, g, &n, err);
        return st == CS_OK ? cs_nest_plan_make(hw, &n, g, dtype, 1, 1, 1, true, out, err) : st;
    }
    bool found = false;
    cs_nest_plan best;
    for (uint64_t gn = 1; gn <= t->sms && gn <= g->n; gn *= 2)
        for (uint64_t gm = 1; gn * gm <= t->sms && gm <= g->m; gm *= 2) {
            cs_gemm share = *g;
            share.n = (g->n + gn - 1) / gn;
            share.m = (g->m + gm - 1) / gm;
            cs_nest n;
            cs_nest_plan p;
            cs_err quiet;
            cs_err_init(&quiet);
            cs_nest_pe_default(&share, &lim, hw->smem_bytes, eb, &n);
            if (cs_nest_plan_make(hw, &n, g, dtype, (uint32_t)gn, 1, (uint32_t)gm, false, &p, &quiet) != CS_OK)
                continue;
            if (!found || p.est_cycles < best.est_cycles * 0.999) {
                best = p;
                found = true;
            }
        }
    if (!found)
        return cs_err_add(err, CS_INVALID, "mapper: error: no PE-array mapping of %s fits the shared memory", g->name);
    return cs_nest_plan_make(hw, &best.nest, g, dtype, best.grid_n, 1, best.grid_m, true, out, err);
}

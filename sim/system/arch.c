/* arch — the root schema and machine-level checks. */
#include "arch.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"

static const char *const dtypes[] = {"int8", "fp16", NULL};

static const cs_cfg_key energy_keys[] = {
    CS_CFG_K(cs_arch_energy, table, "table", CS_CFG_STRING, false, "7nm", 1, 0, "",
             "energy/area table: a built-in name (45nm, 7nm) or a path to a table file"),
};
static const cs_cfg_schema energy_schema =
    CS_CFG_SCHEMA("energy", cs_arch_energy, energy_keys, NULL, "Which energy and area table results use.");

#define MAPKEY(field, nm, hi, help) \
    CS_CFG_K(cs_arch_mapper, field, nm, CS_CFG_INT, false, "0", 0, hi, "", help)
static const cs_cfg_key mapper_keys[] = {
    MAPKEY(cta_m, "cta_m", 4096, "CTA tile rows (M); 0 = chosen per GEMM"),
    MAPKEY(cta_n, "cta_n", 4096, "CTA tile columns (N); 0 = chosen per GEMM"),
    MAPKEY(cta_k_bytes, "cta_k_bytes", 4096, "k-step in bytes of the input type; 0 = 128"),
    MAPKEY(warp_m, "warp_m", 4096, "warp tile rows; 0 = chosen"),
    MAPKEY(warp_n, "warp_n", 4096, "warp tile columns; 0 = chosen"),
    MAPKEY(stages, "stages", 16, "copy pipeline depth; 0 = chosen (2 to 4)"),
    MAPKEY(split_k, "split_k", 1024, "K slices reduced in L2; 0 = chosen"),
    MAPKEY(kgroups, "kgroups", 64, "LDS+MMA groups per k-step; 0 = one per MMA depth"),
    MAPKEY(raster, "raster", 1024, "CTA rasterization band height in tiles; 0 = 8"),
};
static const cs_cfg_schema mapper_schema =
    CS_CFG_SCHEMA("mapper", cs_arch_mapper, mapper_keys, NULL,
                  "Tensor-core baseline tiling overrides (0 leaves a field to the heuristic).");

static const cs_cfg_key run_keys[] = {
    CS_CFG_E(cs_arch_run, dtype, "dtype", dtypes, "int8", "data type of A and B (outputs in the same type)"),
    CS_CFG_K(cs_arch_run, watchdog_ps, "watchdog", CS_CFG_TIME, false, "1ms", 0, 1e15, "ps",
             "stop a run that makes no progress for this long (simulated); 0 = never"),
    CS_CFG_K(cs_arch_run, flush_l2, "flush_l2", CS_CFG_BOOL, false, "true", 1, 0, "",
             "write dirty L2 lines back at the end of each GEMM (counted, not timed)"),
};
static const cs_cfg_schema run_schema =
    CS_CFG_SCHEMA("run", cs_arch_run, run_keys, NULL, "Run settings.");

static const cs_cfg_key cim_keys[] = {
    CS_CFG_K(cs_arch_cim, replace_rf_bytes, "replace_rf", CS_CFG_BYTES, false, "32KiB", 0, 1e9, "bytes",
             "register-file storage per sub-partition that CiM macros may replace (iso-area, iso-capacity)"),
    CS_CFG_K(cs_arch_cim, replace_smem_bytes, "replace_smem", CS_CFG_BYTES, false, "64KiB", 0, 1e9, "bytes",
             "shared-memory storage per SM that CiM macros may replace"),
    CS_CFG_K(cs_arch_cim, replace_l2_bytes, "replace_l2", CS_CFG_BYTES, false, "256KiB", 0, 1e12, "bytes",
             "L2 storage per slice that CiM macros may replace"),
    CS_CFG_K(cs_arch_cim, l2_banks, "l2_banks", CS_CFG_INT, false, "16", 1, 4096, "banks",
             "banks of an L2 slice's data array; a computing macro holds one of them"),
};
static const cs_cfg_schema cim_schema =
    CS_CFG_SCHEMA("cim", cs_arch_cim, cim_keys, NULL, "How much of each level CiM placements may take.");

static void check_arch(const void *params, cs_cfg_check *chk)
{
    const cs_arch *a = params;
    if (a->hbm.channels && a->l2.slices % a->hbm.channels)
        cs_cfg_fail2(chk, "l2.slices", "hbm.channels", "must be a multiple of hbm.channels (got %lld and %lld)",
                     (long long)a->l2.slices, (long long)a->hbm.channels);
    if (a->sm.count + 0 > 65534)
        cs_cfg_fail(chk, "sm.count", "too many SMs for the crossbar (got %lld)", (long long)a->sm.count);
    if ((uint64_t)a->rf.banks % (uint64_t)a->sm.subpartitions)
        cs_cfg_fail2(chk, "regfile.banks", "sm.subpartitions", "must be a multiple of the sub-partitions (got %lld)",
                     (long long)a->rf.banks);
    if (a->smem.cta_max_bytes < 2 * 16 * 128)
        cs_cfg_fail(chk, "smem.cta_max", "is too small for any tensor-core tiling (got %llu B)",
                    (unsigned long long)a->smem.cta_max_bytes);
}

static const cs_cfg_key arch_keys[] = {
    CS_CFG_K(cs_arch, name, "name", CS_CFG_STRING, true, NULL, 1, 0, "", "architecture name, printed in results"),
    CS_CFG_K(cs_arch, description, "description", CS_CFG_STRING, false, "", 1, 0, "", "one line: what it models, its sources"),
    CS_CFG_K(cs_arch, clock_khz, "clock", CS_CFG_FREQ, false, "1410MHz", 1000, 1e8, "kHz",
             "SM, crossbar and L2 clock (A100 boost: 1410 MHz)"),
    CS_CFG_G(cs_arch, sm, "sm", &cs_sm_schema, "streaming multiprocessors"),
    CS_CFG_G(cs_arch, tc, "tensor_core", &cs_tc_schema, "tensor cores"),
    CS_CFG_G(cs_arch, rf, "regfile", &cs_rf_schema, "register files"),
    CS_CFG_G(cs_arch, smem, "smem", &cs_smem_schema, "L1 / shared memory"),
    CS_CFG_G(cs_arch, xbar, "xbar", &cs_xbar_schema, "crossbar"),
    CS_CFG_G(cs_arch, l2, "l2", &cs_l2_schema, "L2 cache"),
    CS_CFG_G(cs_arch, hbm, "hbm", &cs_hbm_schema, "DRAM (HBM) channels"),
    CS_CFG_G(cs_arch, energy, "energy", &energy_schema, "energy table"),
    CS_CFG_G(cs_arch, mapper, "mapper", &mapper_schema, "baseline mapping overrides"),
    CS_CFG_G(cs_arch, run, "run", &run_schema, "run settings"),
    CS_CFG_G(cs_arch, cim, "cim", &cim_schema, "CiM placement budgets"),
    CS_CFG_G(cs_arch, compat, "compat", &cs_compat_schema, "the WWW study's accounting conventions"),
};
const cs_cfg_schema cs_arch_schema =
    CS_CFG_SCHEMA("arch", cs_arch, arch_keys, check_arch, "An architecture file: the whole GPU.");

static const char *const builtins[] = {"a100", "a100-80gb", "www-sm", NULL};

const char *const *cs_arch_builtins(void)
{
    return builtins;
}

void cs_arch_doc_destroy(cs_arch_doc *d)
{
    if (!d)
        return;
    cs_cfg_params_free(&cs_arch_schema, &d->arch);
    cs_cfg_destroy(d->cfg);
    cs_free(d->source);
    cs_free(d->overrides);
    cs_free(d);
}

void cs_arch_doc_note_overrides(cs_arch_doc *d, const char *const *sets, int nsets)
{
    cs_free(d->overrides);
    d->overrides = NULL;
    if (nsets <= 0)
        return;
    cs_buf b;
    cs_buf_init(&b);
    for (int i = 0; i < nsets; i++)
        cs_buf_printf(&b, "%s%s", i ? " " : "", sets[i]);
    d->overrides = cs_buf_take(&b);
}

cs_status cs_arch_load(const char *spec, const char *const *sets, int nsets, cs_arch_doc **out,
                       cs_err *err)
{
    *out = NULL;
    char path[512];
    if (!spec)
        spec = "a100";
    snprintf(path, sizeof path, "%s", spec);
    for (int i = 0; builtins[i]; i++)
        if (strcmp(spec, builtins[i]) == 0)
            snprintf(path, sizeof path, "builtin:arch/%s.cfg", spec);
    cs_arch_doc *d = cs_calloc(1, sizeof *d);
    d->source = cs_strdup(path);
    cs_status st = cs_cfg_parse_file(path, &d->cfg, err);
    if (st == CS_OK)
        d->content_hash = cs_cfg_content_hash(d->cfg);
    for (int i = 0; st == CS_OK && i < nsets; i++) {
        const char *eq = strchr(sets[i], '=');
        if (!eq || eq == sets[i]) {
            st = cs_err_add(err, CS_USAGE, "--set: error: expected KEY=VALUE (got \"%s\")", sets[i]);
            break;
        }
        char *key = cs_strndup(sets[i], (size_t)(eq - sets[i]));
        st = cs_cfg_set(d->cfg, key, eq + 1, "--set", err);
        cs_free(key);
    }
    if (st == CS_OK)
        st = cs_cfg_bind(d->cfg, "", &cs_arch_schema, &d->arch, err);
    if (st != CS_OK) {
        cs_arch_doc_destroy(d);
        return st;
    }
    d->hash = cs_cfg_hash(&cs_arch_schema, &d->arch);
    *out = d;
    return CS_OK;
}

cs_target cs_arch_target(const cs_arch *a)
{
    cs_target t = {0};
    t.sms = (uint32_t)a->sm.count;
    t.subpartitions = (uint32_t)a->sm.subpartitions;
    t.max_warps_per_sm = (uint32_t)a->sm.max_warps;
    t.max_ctas_per_sm = (uint32_t)a->sm.max_ctas;
    t.regs_per_sm = (uint32_t)(a->rf.size_bytes / 4);
    t.max_regs_per_thread = (uint32_t)a->rf.max_regs_per_thread;
    t.smem_bytes_per_sm = a->smem.carveout_bytes;
    t.smem_bytes_per_cta_max = a->smem.cta_max_bytes;
    t.tc_macs_per_cycle[CS_DTYPE_INT8] = (uint32_t)(a->tc.int8_macs_per_cycle * a->sm.subpartitions);
    t.tc_macs_per_cycle[CS_DTYPE_FP16] = (uint32_t)(a->tc.fp16_macs_per_cycle * a->sm.subpartitions);
    t.mma_m = (uint32_t)a->tc.mma_m;
    t.mma_n = (uint32_t)a->tc.mma_n;
    t.mma_k_bytes = (uint32_t)a->tc.mma_k_bytes;
    t.l2_bytes = a->l2.size_bytes;
    t.l2_bypass = a->l2.bypass;
    t.smem_bytes_per_cycle = (double)(a->smem.banks * a->smem.bank_bytes);
    if (a->smem.bytes_per_cycle && (double)a->smem.bytes_per_cycle < t.smem_bytes_per_cycle)
        t.smem_bytes_per_cycle = (double)a->smem.bytes_per_cycle;
    t.clock_hz = cs_arch_clock_hz(a);
    t.dram_bytes_per_s = cs_arch_dram_bytes_per_s(a);
    t.l2_bytes_per_cycle = (double)(a->l2.slices * a->l2.bytes_per_cycle);
    t.sm_port_bytes_per_cycle = a->xbar.ideal ? 0 : (double)a->xbar.sm_bytes_per_cycle;
    t.slice_port_bytes_per_cycle = a->xbar.ideal ? 0 : (double)a->xbar.slice_bytes_per_cycle;
    /* crossbar both ways, L2 pipeline, controller both ways, row miss and burst in DRAM */
    double dram_ns = (double)(a->hbm.timing.tRCD + a->hbm.timing.tCL + a->hbm.burst_length / 2) /
                     ((double)a->hbm.clock_khz * 1e-6);
    t.l2_latency_cycles = (double)(2 * a->xbar.latency_cycles + a->l2.hit_latency_cycles);
    t.mem_latency_cycles = (double)(2 * a->xbar.latency_cycles + a->l2.hit_latency_cycles) +
                           ((double)(2 * a->l2.mem_latency_ps) * 1e-3 + dram_ns) * t.clock_hz * 1e-9;
    return t;
}

cs_tc_overrides cs_arch_tc_overrides(const cs_arch *a)
{
    const cs_arch_mapper *m = &a->mapper;
    return (cs_tc_overrides){(uint32_t)m->cta_m, (uint32_t)m->cta_n, (uint32_t)m->cta_k_bytes,
                             (uint32_t)m->warp_m, (uint32_t)m->warp_n, (uint32_t)m->stages,
                             (uint32_t)m->split_k, (uint32_t)m->kgroups, (uint32_t)m->raster};
}

double cs_arch_clock_hz(const cs_arch *a)
{
    return (double)a->clock_khz * 1e3;
}

double cs_arch_peak_macs_per_cycle(const cs_arch *a, int dtype)
{
    return (double)a->sm.count * (double)a->sm.subpartitions * (double)cs_tc_macs_per_cycle(&a->tc, dtype);
}

double cs_arch_dram_bytes_per_s(const cs_arch *a)
{
    return cs_hbm_peak_bytes_per_s(&a->hbm) * (double)a->hbm.channels;
}

/* placement — parsing, sizing and the resources a CiM placement takes from its level. */
#include "placement.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

/* Registers per SM a CiM controller program keeps (4 warps x 32 threads x 16 registers): a
 * register-file placement never takes them. */
#define CONTROL_RF_BYTES (4u * 32u * 16u * 4u)

uint32_t cs_placement_count(const cs_cim_prim *prim, uint64_t replace_bytes, int sizing)
{
    double per = (double)prim->size_bytes * (sizing == CS_MACROS_ISO_AREA ? prim->area_factor : 1.0);
    return per > 0 ? (uint32_t)((double)replace_bytes / per) : 0;
}

static uint64_t level_capacity(const cs_arch *a, int level)
{
    switch (level) {
    case CS_CIM_RF: return a->rf.size_bytes / (uint64_t)a->sm.subpartitions;
    case CS_CIM_SMEM: return a->smem.carveout_bytes;
    default: return a->l2.size_bytes / (uint64_t)a->l2.slices;
    }
}

static uint64_t level_budget(const cs_arch *a, int level)
{
    switch (level) {
    case CS_CIM_RF: return a->cim.replace_rf_bytes;
    case CS_CIM_SMEM: return a->cim.replace_smem_bytes;
    default: return a->cim.replace_l2_bytes;
    }
}

static const char *const level_what[] = {"sub-partition register file", "SM shared memory", "L2 slice"};

cs_status cs_placement_parse(const cs_arch *a, const char *spec, const char *macros, cs_placement *out,
                             cs_err *err)
{
    return cs_placement_parse_sets(a, spec, macros, NULL, 0, out, err);
}

cs_status cs_placement_parse_sets(const cs_arch *a, const char *spec, const char *macros, const char *const *sets,
                                  int nsets, cs_placement *out, cs_err *err)
{
    memset(out, 0, sizeof *out);
    const char *at = spec ? strchr(spec, '@') : NULL;
    if (!at || at == spec || !at[1])
        return cs_err_add(err, CS_USAGE, "--cim: error: expected PRIMITIVE@LEVEL, e.g. analog6T@rf (got \"%s\")",
                          spec ? spec : "");
    out->level = cs_cim_level_from_name(at + 1);
    if (out->level < 0)
        return cs_err_add(err, CS_USAGE, "--cim: error: level: must be rf, smem or l2 (got \"%s\")", at + 1);
    const char **psets = nsets > 0 ? cs_calloc((size_t)nsets, sizeof *psets) : NULL;
    int np = 0;
    cs_buf joined;
    cs_buf_init(&joined);
    for (int i = 0; i < nsets; i++)
        if (cs_cim_prim_set_key(sets[i])) {
            cs_buf_printf(&joined, "%s%s", np ? " " : "", sets[i]);
            psets[np++] = sets[i];
        }
    char *name = cs_strndup(spec, (size_t)(at - spec));
    cs_status st = cs_cim_prim_load_sets(name, psets, np, &out->prim, &out->prim_origin, &out->prim_content_hash, err);
    cs_free(name);
    cs_free(psets);
    out->prim_sets = np ? cs_buf_take(&joined) : NULL;
    cs_buf_free(&joined);
    if (st != CS_OK) {
        cs_placement_free(out);
        return st;
    }
    uint64_t cap = level_capacity(a, out->level), budget = level_budget(a, out->level);
    if (!macros || strcmp(macros, "iso-area") == 0) {
        out->sizing = CS_MACROS_ISO_AREA;
        out->macros = cs_placement_count(&out->prim, budget, CS_MACROS_ISO_AREA);
    } else if (strcmp(macros, "iso-capacity") == 0) {
        out->sizing = CS_MACROS_ISO_CAPACITY;
        out->macros = cs_placement_count(&out->prim, budget, CS_MACROS_ISO_CAPACITY);
    } else {
        char *end;
        errno = 0;
        unsigned long v = strtoul(macros, &end, 10);
        /* Digits only: strtoul would take leading spaces and a sign, but not trailing ones. */
        if (!isdigit((unsigned char)*macros) || *end || errno || v < 1 || v > 65535) {
            cs_placement_free(out);
            return cs_err_add(err, CS_USAGE,
                              "--macros: error: must be a count from 1 to 65535, iso-area or iso-capacity (got \"%s\")",
                              macros);
        }
        out->sizing = CS_MACROS_EXPLICIT;
        out->macros = (uint32_t)v;
    }
    if (out->macros == 0) {
        cs_err_add(err, CS_INVALID,
                   "--macros: error: %s sizing leaves no %s macro in a %s (budget %llu B, macro %llu B x area %.2f); "
                   "raise cim.replace_%s or give a count",
                   macros ? macros : "iso-area", out->prim.name, level_what[out->level], (unsigned long long)budget,
                   (unsigned long long)out->prim.size_bytes, out->prim.area_factor, cs_cim_level_name(out->level));
        cs_placement_free(out);
        return CS_INVALID;
    }
    out->replaced_bytes = (uint64_t)out->macros * out->prim.size_bytes;
    if (out->replaced_bytes > cap) {
        cs_err_add(err, CS_INVALID, "--macros: error: %u %s macros (%llu B) do not fit a %s of %llu B", out->macros,
                   out->prim.name, (unsigned long long)out->replaced_bytes, level_what[out->level],
                   (unsigned long long)cap);
        cs_placement_free(out);
        return CS_INVALID;
    }
    out->instances = out->level == CS_CIM_RF     ? (uint32_t)(a->sm.count * a->sm.subpartitions)
                     : out->level == CS_CIM_SMEM ? (uint32_t)a->sm.count
                                                 : (uint32_t)a->l2.slices;
    return CS_OK;
}

void cs_placement_free(cs_placement *p)
{
    cs_cim_prim_free(&p->prim);
    cs_free(p->prim_origin);
    p->prim_origin = NULL;
    cs_free(p->prim_sets);
    p->prim_sets = NULL;
}

cs_arch cs_placement_arch(const cs_placement *p, const cs_arch *a)
{
    cs_arch b = *a;
    switch (p->level) {
    case CS_CIM_RF: {
        uint64_t left = b.rf.size_bytes - p->replaced_bytes * (uint64_t)b.sm.subpartitions;
        b.rf.size_bytes = left > CONTROL_RF_BYTES ? left : CONTROL_RF_BYTES;
        break;
    }
    case CS_CIM_SMEM:
        b.smem.carveout_bytes -= p->replaced_bytes;
        if (b.smem.cta_max_bytes > b.smem.carveout_bytes)
            b.smem.cta_max_bytes = b.smem.carveout_bytes;
        break;
    default: {
        uint64_t per = b.l2.size_bytes / (uint64_t)b.l2.slices - p->replaced_bytes;
        uint64_t unit = (uint64_t)b.l2.assoc * 128;
        per = per / unit * unit;
        if (per < unit)
            per = unit; /* at least one set keeps caching */
        b.l2.size_bytes = per * (uint64_t)b.l2.slices;
        break;
    }
    }
    return b;
}

cs_cim_target cs_placement_target(const cs_placement *p, const cs_arch *a, const cs_energy_table *t)
{
    cs_cim_target ct = {0};
    ct.level = p->level;
    ct.controllers = p->level == CS_CIM_L2 ? (uint32_t)a->l2.slices : (uint32_t)a->sm.count;
    ct.macros = p->level == CS_CIM_RF ? p->macros * (uint32_t)a->sm.subpartitions : p->macros;
    ct.subs = p->level == CS_CIM_RF ? (uint32_t)a->sm.subpartitions : 1;
    ct.rp = (uint32_t)p->prim.rp;
    ct.cp = (uint32_t)p->prim.cp;
    ct.rh = (uint32_t)p->prim.rh;
    ct.ch = (uint32_t)p->prim.ch;
    ct.input_bits = (uint32_t)p->prim.input_bits;
    ct.weight_bits = (uint32_t)p->prim.weight_bits;
    ct.name = p->prim.name;
    ct.latency_cycles = (double)p->prim.latency_ps * cs_arch_clock_hz(a) * 1e-12;
    ct.write_bytes_per_cycle = (double)p->prim.write_bytes_per_cycle;
    ct.stage_bytes = a->smem.carveout_bytes;
    if (ct.stage_bytes > a->smem.cta_max_bytes)
        ct.stage_bytes = a->smem.cta_max_bytes;
    ct.acc_bytes = a->rf.size_bytes > CONTROL_RF_BYTES ? a->rf.size_bytes - CONTROL_RF_BYTES : 0;
    /* the same shares gpu.c gives the macro groups (attach_cim) */
    ct.host_share = p->level == CS_CIM_L2    ? 1.0 / (double)a->cim.l2_banks
                    : p->level == CS_CIM_RF ? (double)a->sm.subpartitions / (double)a->rf.banks
                    : a->smem.ideal          ? 0
                                             : 1.0 / (double)a->smem.banks;
    if (p->level == CS_CIM_RF && a->rf.ideal)
        ct.host_share = 0;
    ct.rf_port_bytes_per_cycle = a->rf.ideal ? 0 : (double)(a->rf.banks / a->sm.subpartitions * a->rf.bank_bytes);
    ct.psum_bytes = cs_compat_psum_bytes(&a->compat);
    ct.adder_tree = a->compat.adder_tree;
    double scale = cs_energy_scale_energy(p->prim.technology_nm, cs_energy_table_node_nm(t));
    if (!(scale > 0))
        scale = 1;
    ct.mac_pj = p->prim.mac_energy_pj * scale;
    ct.write_pj = p->prim.write_energy_pj * scale;
    double rd = 0, l2r = 0, flit = 0;
    cs_energy_lookup(t, "dram", "rd", &rd);
    cs_energy_lookup(t, "l2", "read", &l2r);
    cs_energy_lookup(t, "noc", "flit", &flit);
    ct.dram_pj_per_byte = rd / 32.0;
    ct.onchip_pj_per_byte = (l2r + flit) / 32.0;
    return ct;
}

void cs_placement_energy(const cs_placement *p, const cs_arch *a, cs_energy_table *t)
{
    char src[600];
    snprintf(src, sizeof src, "%s (%s)", p->prim_origin ? p->prim_origin : p->prim.name, p->prim.source);
    cs_energy_set_action(t, "cim", "mac", p->prim.mac_energy_pj, p->prim.technology_nm, src);
    cs_energy_set_action(t, "cim", "write", p->prim.write_energy_pj, p->prim.technology_nm, src);
    /* leakage and area per macro: the table's shared memory per byte (same SRAM), area times
     * the primitive's area factor */
    double per_byte_leak = cs_energy_leak_mw(t, "smem") / (double)a->smem.unified_bytes;
    double per_byte_area = cs_energy_area_mm2(t, "smem") / (double)a->smem.unified_bytes;
    snprintf(src, sizeof src, "%llu B x the table's shared-memory leakage and area per byte, area x %.3g (area factor)",
             (unsigned long long)p->prim.size_bytes, p->prim.area_factor);
    cs_energy_set_instance(t, "cim", per_byte_leak * (double)p->prim.size_bytes,
                           per_byte_area * (double)p->prim.size_bytes * p->prim.area_factor, 0, src);
    /* the host level keeps only what the macros did not replace */
    static const char *const host_cls[] = {"rf", "smem", "l2"};
    const char *cls = host_cls[p->level];
    double whole = (double)(p->level == CS_CIM_RF     ? a->rf.size_bytes / (uint64_t)a->sm.subpartitions
                            : p->level == CS_CIM_SMEM ? a->smem.unified_bytes
                                                      : a->l2.size_bytes / (uint64_t)a->l2.slices);
    double keep = whole > 0 ? 1.0 - (double)p->replaced_bytes / whole : 1.0;
    if (keep < 0)
        keep = 0;
    snprintf(src, sizeof src, "x %.4g: %llu of %.0f bytes per instance replaced by CiM macros", keep,
             (unsigned long long)p->replaced_bytes, whole);
    cs_energy_set_instance(t, cls, cs_energy_leak_mw(t, cls) * keep, cs_energy_area_mm2(t, cls) * keep, 0, src);
}

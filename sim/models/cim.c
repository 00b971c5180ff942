/* cim — primitive files and the macro-group timing. */
#include "cim.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "check.h"

static const char *const kinds[] = {"analog", "digital", NULL};

static void check_prim(const void *params, cs_cfg_check *chk)
{
    const cs_cim_prim *p = params;
    uint64_t held = (uint64_t)(p->rp * p->cp * p->rh * p->ch);
    if (held > p->size_bytes * 8)
        cs_cfg_fail2(chk, "size", "rp", "is too small for rp*cp*rh*ch = %llu weights (got %llu B)",
                     (unsigned long long)held, (unsigned long long)p->size_bytes);
}

static const cs_cfg_key prim_keys[] = {
    CS_CFG_K(cs_cim_prim, name, "name", CS_CFG_STRING, true, NULL, 1, 0, "", "primitive name, used in --cim NAME@LEVEL"),
    CS_CFG_E(cs_cim_prim, kind, "kind", kinds, "analog", "analog or digital computation"),
    CS_CFG_K(cs_cim_prim, rp, "rp", CS_CFG_INT, true, NULL, 1, 65536, "rows", "rows computing in parallel (K)"),
    CS_CFG_K(cs_cim_prim, cp, "cp", CS_CFG_INT, true, NULL, 1, 65536, "columns", "columns computing in parallel (N)"),
    CS_CFG_K(cs_cim_prim, rh, "rh", CS_CFG_INT, false, "1", 1, 4096, "rows", "weight rows held per unit, processed in turn"),
    CS_CFG_K(cs_cim_prim, ch, "ch", CS_CFG_INT, false, "1", 1, 4096, "columns", "weight columns held per unit, processed in turn"),
    CS_CFG_K(cs_cim_prim, size_bytes, "size", CS_CFG_BYTES, true, NULL, 1, 1e9, "bytes",
             "capacity as listed (area and iso-capacity accounting)"),
    CS_CFG_K(cs_cim_prim, latency_ps, "latency", CS_CFG_TIME, true, NULL, 1, 1e9, "ps", "one CiM operation (up to rp x cp MACs)"),
    CS_CFG_K(cs_cim_prim, area_factor, "area_factor", CS_CFG_FLOAT, false, "1.0", 0.01, 100, "",
             "macro area / plain SRAM area of the same capacity"),
    CS_CFG_K(cs_cim_prim, mac_energy_pj, "mac_energy", CS_CFG_ENERGY, true, NULL, 0, 1e6, "pJ", "energy per MAC"),
    CS_CFG_K(cs_cim_prim, write_energy_pj, "write_energy", CS_CFG_ENERGY, true, NULL, 0, 1e9, "pJ",
             "energy of one weight write of ch bytes"),
    CS_CFG_K(cs_cim_prim, technology_nm, "technology_nm", CS_CFG_FLOAT, false, "45", 7, 180, "nm",
             "node of the energy figures (scaled to the energy table's node)"),
    CS_CFG_K(cs_cim_prim, input_bits, "input_bits", CS_CFG_INT, false, "8", 1, 64, "bits",
             "input precision the latency and energies are for; GEMMs with wider inputs are refused "
             "(bit-slicing is not modelled)"),
    CS_CFG_K(cs_cim_prim, weight_bits, "weight_bits", CS_CFG_INT, false, "8", 1, 64, "bits",
             "weight precision of a cell; GEMMs with wider weights are refused"),
    CS_CFG_K(cs_cim_prim, output_bits, "output_bits", CS_CFG_INT, false, "8", 1, 64, "bits",
             "output precision of the source macro (informational: partial sums are read out and "
             "accumulated as 32-bit words)"),
    CS_CFG_K(cs_cim_prim, bit_serial, "bit_serial", CS_CFG_BOOL, false, "false", 1, 0, "",
             "inputs are applied bit by bit (informational: the latency already covers all "
             "input_bits steps)"),
    CS_CFG_K(cs_cim_prim, write_bytes_per_cycle, "write_bytes_per_cycle", CS_CFG_INT, false, "16", 1, 65536,
             "B/cycle", "weight bytes written per host cycle"),
    CS_CFG_K(cs_cim_prim, source, "source", CS_CFG_STRING, false, "", 1, 0, "", "where the figures come from"),
};
const cs_cfg_schema cs_cim_prim_schema =
    CS_CFG_SCHEMA("cim_primitive", cs_cim_prim, prim_keys, check_prim,
                  "A compute-in-memory primitive (arch/cim/NAME.cfg): geometry, timing, energy, area. "
                  "A run may override any key of the placed primitive with --set cim.KEY=VALUE.");

static const char *const builtins[] = {"analog6T", "analog8T", "digital6T", "digital8T", NULL};

const char *const *cs_cim_prim_builtins(void)
{
    return builtins;
}

cs_status cs_cim_prim_load(const char *spec, cs_cim_prim *out, char **origin, cs_err *err)
{
    return cs_cim_prim_load_sets(spec, NULL, 0, out, origin, NULL, err);
}

const char *cs_cim_prim_set_key(const char *set)
{
    if (strncmp(set, "cim.", 4) != 0)
        return NULL;
    const char *key = set + 4, *eq = strchr(key, '=');
    size_t len = eq ? (size_t)(eq - key) : strlen(key);
    for (size_t i = 0; i < cs_cim_prim_schema.nkeys; i++)
        if (strlen(prim_keys[i].name) == len && strncmp(prim_keys[i].name, key, len) == 0)
            return key;
    return NULL;
}

cs_status cs_cim_prim_load_sets(const char *spec, const char *const *sets, int nsets, cs_cim_prim *out,
                                char **origin, uint64_t *content_hash, cs_err *err)
{
    memset(out, 0, sizeof *out);
    char path[512];
    snprintf(path, sizeof path, "%s", spec);
    for (int i = 0; builtins[i]; i++)
        if (strcmp(spec, builtins[i]) == 0)
            snprintf(path, sizeof path, "builtin:arch/cim/%s.cfg", spec);
    if (!strchr(path, '/') && !strchr(path, ':') && !strstr(path, ".cfg")) {
        cs_buf names;
        cs_buf_init(&names);
        for (int i = 0; builtins[i]; i++)
            cs_buf_printf(&names, "%s%s", i ? ", " : "", builtins[i]);
        cs_err_add(err, CS_NOT_FOUND, "--cim: error: primitive: not a built-in primitive (%s) or a .cfg file (got \"%s\")",
                   names.data, spec);
        cs_buf_free(&names);
        return CS_NOT_FOUND;
    }
    cs_cfg *cfg = NULL;
    cs_status st = cs_cfg_parse_file(path, &cfg, err);
    if (st == CS_OK && content_hash)
        *content_hash = cs_cfg_content_hash(cfg);
    for (int i = 0; st == CS_OK && i < nsets; i++) {
        const char *key = cs_cim_prim_set_key(sets[i]), *eq = key ? strchr(key, '=') : NULL;
        if (!eq) {
            st = cs_err_add(err, CS_USAGE, "--set: error: expected cim.KEY=VALUE with a primitive key (got \"%s\")",
                            sets[i]);
            break;
        }
        char full[128];
        snprintf(full, sizeof full, "cim_primitive.%.*s", (int)(eq - key), key);
        st = cs_cfg_set(cfg, full, eq + 1, "--set", err);
    }
    if (st == CS_OK)
        st = cs_cfg_bind(cfg, "cim_primitive", &cs_cim_prim_schema, out, err);
    cs_cfg_destroy(cfg);
    if (st != CS_OK) {
        cs_cim_prim_free(out);
        return st;
    }
    if (origin)
        *origin = cs_strdup(path);
    return CS_OK;
}

void cs_cim_prim_free(cs_cim_prim *p)
{
    cs_cfg_params_free(&cs_cim_prim_schema, p);
    memset(p, 0, sizeof *p);
}

typedef struct macro {
    bool computed, written;
    cs_ps free_ps;
    cs_ps start_ps, own_end_ps; /* the latest operation: start, end of its own duration */
} macro;

struct cs_cim_group {
    cs_cim_group_params p;
    cs_cim_prim prim; /* shallow copy of the numbers */
    macro *m;
    uint64_t subs_used; /* bit s: sub-unit s's host port was reserved (sub-units < 64) */
    cs_cim_counts c;
};

cs_cim_group *cs_cim_group_create(const char *name, const cs_cim_group_params *p, cs_stats *st)
{
    CS_ASSERT(p->macros > 0 && p->subs > 0);
    cs_cim_group *g = cs_calloc(1, sizeof *g);
    g->p = *p;
    g->prim = *p->prim;
    g->m = cs_calloc(p->macros, sizeof *g->m);
    char buf[256];
#define NAME(s) (snprintf(buf, sizeof buf, "%s.%s", name, s), buf)
    cs_stats_action(st, NAME("mac"), "MACs", "CiM MACs executed (full array width per operation)", &g->c.mac, "cim", "mac");
    cs_stats_action(st, NAME("write"), "writes", "CiM weight writes (ch bytes each)", &g->c.write, "cim", "write");
    cs_stats_counter(st, NAME("macs_useful"), "MACs", "MACs inside the GEMM", &g->c.macs_useful);
    cs_stats_counter(st, NAME("ops"), "ops", "CiM operations", &g->c.ops);
    cs_stats_counter(st, NAME("write_bytes"), "bytes", "weight bytes written", &g->c.write_bytes);
    cs_stats_counter(st, NAME("busy_cycles"), "cycles", "macro busy time, summed over macros", &g->c.busy_cycles);
    cs_stats_counter(st, NAME("macros_computed"), "macros", "macros that computed", &g->c.macros_computed);
    cs_stats_counter(st, NAME("macros_written"), "macros", "macros whose weights were written", &g->c.macros_written);
    cs_stats_counter(st, NAME("host_cycles"), "cycles", "host-port cycles reserved by the macros (bank share)",
                     &g->c.host_cycles);
    for (uint32_t i = 0; i < p->macros; i++) {
        char inst[256];
        snprintf(inst, sizeof inst, "%s.macro%03u", name, i);
        cs_stats_instance(st, "cim", inst);
    }
#undef NAME
    return g;
}

void cs_cim_group_destroy(cs_cim_group *g)
{
    if (!g)
        return;
    cs_free(g->m);
    cs_free(g);
}

uint32_t cs_cim_group_macros(const cs_cim_group *g) { return g->p.macros; }
const cs_cim_prim *cs_cim_group_prim(const cs_cim_group *g) { return &g->prim; }

uint32_t cs_cim_group_hosts_used(const cs_cim_group *g)
{
    return (uint32_t)__builtin_popcountll(g->subs_used);
}

uint32_t cs_cim_group_sub(const cs_cim_group *g, uint32_t mi)
{
    return mi % g->p.subs;
}

/* Occupies the macro for `cycles` host cycles from the later of now and its own free time, and
 * the host's banks for the macro's share of that time. */
static cs_ps occupy(cs_cim_group *g, uint32_t mi, cs_ps now, uint64_t cycles, cs_ps dur_ps)
{
    macro *m = &g->m[mi];
    cs_ps start = now > m->free_ps ? now : m->free_ps;
    m->start_ps = start;
    m->own_end_ps = start + dur_ps;
    if (g->p.host) {
        uint64_t host_cycles = (uint64_t)((double)cycles * g->p.bank_share + 0.999999);
        cs_ps host_end = g->p.host(g->p.host_ctx, cs_cim_group_sub(g, mi), start, host_cycles ? host_cycles : 1);
        g->c.host_cycles += host_cycles ? host_cycles : 1;
        g->subs_used |= 1ull << (cs_cim_group_sub(g, mi) % 64);
        /* the macro cannot finish before its bank share has been served */
        cs_ps min_end = host_end;
        cs_ps end = start + dur_ps;
        m->free_ps = end > min_end ? end : min_end;
    } else {
        m->free_ps = start + dur_ps;
    }
    g->c.busy_cycles += cycles;
    return m->free_ps;
}

cs_ps cs_cim_write(cs_cim_group *g, uint32_t mi, uint64_t bytes, cs_ps now)
{
    CS_ASSERT(mi < g->p.macros);
    uint64_t cycles = (bytes + (uint64_t)g->prim.write_bytes_per_cycle - 1) / (uint64_t)g->prim.write_bytes_per_cycle;
    g->c.write += (bytes + (uint64_t)g->prim.ch - 1) / (uint64_t)g->prim.ch;
    g->c.write_bytes += bytes;
    if (!g->m[mi].written) {
        g->m[mi].written = true;
        g->c.macros_written++;
    }
    cs_ps dur = cs_clock_ps(g->p.clock, cycles);
    return occupy(g, mi, now, cycles, dur);
}

cs_ps cs_cim_compute(cs_cim_group *g, uint32_t mi, uint64_t rows, uint64_t k, uint64_t n, cs_ps now,
                     uint64_t *macs)
{
    CS_ASSERT(mi < g->p.macros);
    CS_ASSERT(k <= cs_cim_tile_k(&g->prim) && n <= cs_cim_tile_n(&g->prim));
    uint64_t ops = cs_cim_ops(&g->prim, rows, k, n);
    cs_ps dur = ops * g->prim.latency_ps;
    uint64_t cycles = cs_clock_cycle_at(g->p.clock, dur);
    g->c.ops += ops;
    if (!g->m[mi].computed) {
        g->m[mi].computed = true;
        g->c.macros_computed++;
    }
    g->c.mac += g->p.mac_used_only ? rows * k * n : ops * (uint64_t)(g->prim.rp * g->prim.cp);
    g->c.macs_useful += rows * k * n;
    if (macs)
        *macs = rows * k * n;
    return occupy(g, mi, now, cycles, dur);
}

cs_ps cs_cim_free_at(const cs_cim_group *g, uint32_t mi) { return g->m[mi].free_ps; }

cs_ps cs_cim_own_end(const cs_cim_group *g, uint32_t mi) { return g->m[mi].own_end_ps; }
const cs_cim_counts *cs_cim_get_counts(const cs_cim_group *g) { return &g->c; }

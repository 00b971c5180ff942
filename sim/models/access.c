/* access — per-dataspace access counters of an SM. */
#include "access.h"

#include <stdbool.h>
#include <stdio.h>

static const char *const level_names[CS_ACC_LEVELS] = {"dram", "smem", "rf", "opreg", "cim"};
static const char *const ds_names[CS_ACC_DS] = {"a", "b", "z", "other"};
static const char *const kind_names[CS_ACC_KINDS] = {"read", "fill", "update", "drain"};

#define K(r, f, u, d) ((r) | (f) << 1 | (u) << 2 | (d) << 3)
/* Which kinds each (level, dataspace) can count: what the SM's ops produce. */
static const uint8_t possible[CS_ACC_LEVELS][CS_ACC_DS] = {
    /*                 A            B            Z            other     */
    [CS_ACC_DRAM] = {K(1, 0, 0, 0), K(1, 0, 0, 0), K(1, 0, 1, 0), K(1, 0, 1, 0)},
    [CS_ACC_SMEM] = {K(1, 1, 0, 0), K(1, 1, 0, 0), K(1, 1, 1, 1), K(1, 1, 1, 0)},
    [CS_ACC_RF] = {K(0, 0, 0, 0), K(0, 0, 0, 0), K(1, 1, 1, 1), K(1, 1, 0, 0)},
    [CS_ACC_OPREG] = {K(1, 1, 0, 0), K(0, 0, 0, 0), K(0, 0, 0, 0), K(0, 0, 0, 0)},
    [CS_ACC_CIM] = {K(0, 0, 0, 0), K(1, 1, 0, 0), K(0, 0, 0, 0), K(0, 0, 0, 0)},
};
#undef K

static const char *const help[CS_ACC_KINDS] = {
    "bytes read (by the level below, or to accumulate)", "bytes written from the level above",
    "bytes written from below (outputs, partial sums)", "bytes read to send an output tile up"};

void cs_access_register(cs_access *a, cs_stats *st, const char *prefix)
{
    char name[256], desc[160];
    for (int l = 0; l < CS_ACC_LEVELS; l++)
        for (int d = 0; d < CS_ACC_DS; d++)
            for (int k = 0; k < CS_ACC_KINDS; k++)
                if (possible[l][d] >> k & 1) {
                    snprintf(name, sizeof name, "%s.access.%s.%s.%s", prefix, level_names[l], ds_names[d],
                             kind_names[k]);
                    snprintf(desc, sizeof desc, "%s: %s of %s", level_names[l], help[k],
                             d == CS_ACC_OTHER ? "unclassified data" : ds_names[d]);
                    cs_stats_counter(st, name, "bytes", desc, &a->bytes[l][d][k]);
                }
}

int cs_access_ds(const cs_access *a, uint64_t addr)
{
    if (!a->z_lo)
        return CS_ACC_OTHER;
    return addr >= a->z_lo ? CS_ACC_Z : addr >= a->a_lo ? CS_ACC_A : CS_ACC_B;
}

const char *cs_access_level_name(int level)
{
    return level >= 0 && level < CS_ACC_LEVELS ? level_names[level] : "?";
}

const char *cs_access_ds_name(int ds)
{
    return ds >= 0 && ds < CS_ACC_DS ? ds_names[ds] : "?";
}

const char *cs_access_kind_name(int kind)
{
    return kind >= 0 && kind < CS_ACC_KINDS ? kind_names[kind] : "?";
}

void cs_access_json(const uint64_t bytes[CS_ACC_LEVELS][CS_ACC_DS][CS_ACC_KINDS], cs_json *j)
{
    cs_json_obj_begin(j);
    for (int l = 0; l < CS_ACC_LEVELS; l++) {
        bool any = false;
        for (int d = 0; d < CS_ACC_DS; d++)
            for (int k = 0; k < CS_ACC_KINDS; k++)
                any |= bytes[l][d][k] != 0;
        if (!any)
            continue;
        cs_json_key(j, level_names[l]);
        cs_json_obj_begin(j);
        for (int d = 0; d < CS_ACC_DS; d++) {
            bool some = false;
            for (int k = 0; k < CS_ACC_KINDS; k++)
                some |= bytes[l][d][k] != 0;
            if (!some)
                continue;
            cs_json_key(j, ds_names[d]);
            cs_json_obj_begin(j);
            for (int k = 0; k < CS_ACC_KINDS; k++)
                if (bytes[l][d][k])
                    cs_json_ku64(j, kind_names[k], bytes[l][d][k]);
            cs_json_obj_end(j);
        }
        cs_json_obj_end(j);
    }
    cs_json_obj_end(j);
}

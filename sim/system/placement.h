/* placement — a CiM placement: which primitive, at which level, how many macros per instance
 * of that level, and what the level keeps for its ordinary job.
 *
 * Sizing (--macros): N explicit; iso-capacity = the level's replaceable bytes / primitive size;
 * iso-area = the replaceable bytes / (size x area factor), i.e. the macros take the silicon of
 * the storage they replace. The replaceable bytes per instance are the architecture's cim group
 * (cim.replace_rf, replace_smem, replace_l2). The host level shrinks by macros x size: fewer
 * registers per sub-partition, a smaller shared-memory carve-out, smaller L2 slices.
 */
#ifndef CS_PLACEMENT_H
#define CS_PLACEMENT_H

#include <stdint.h>

#include "arch.h"
#include "cim.h"
#include "energy.h"
#include "mapper_cim.h"

enum { CS_MACROS_EXPLICIT = 0, CS_MACROS_ISO_AREA = 1, CS_MACROS_ISO_CAPACITY = 2 };

typedef struct cs_placement {
    cs_cim_prim prim;
    char *prim_origin;          /* "builtin:arch/cim/analog6T.cfg" or the path */
    uint64_t prim_content_hash; /* of the primitive file's text (cs_cfg_content_hash) */
    char *prim_sets;            /* the cim.KEY=VALUE overrides applied, joined by ' ' (or NULL) */
    int level;                  /* cs_cim_level */
    int sizing;                 /* CS_MACROS_* */
    uint32_t macros;            /* per instance of the level */
    uint32_t instances;         /* sub-partitions x SMs, SMs, or slices */
    uint64_t replaced_bytes;    /* per instance: macros x size */
} cs_placement;

/* spec "PRIM@LEVEL"; macros "N", "iso-area" or "iso-capacity" (NULL: iso-area). Errors name
 * the option and the rule (a macro count that does not fit the level, an unknown level). */
cs_status cs_placement_parse(const cs_arch *a, const char *spec, const char *macros, cs_placement *out,
                             cs_err *err);
/* Same, with the --set list: its cim.KEY=VALUE entries whose KEY is a primitive key
 * (cs_cim_prim_set_key) override the primitive's fields; other entries are ignored. */
cs_status cs_placement_parse_sets(const cs_arch *a, const char *spec, const char *macros, const char *const *sets,
                                  int nsets, cs_placement *out, cs_err *err);
void cs_placement_free(cs_placement *p);
/* The architecture with the host level shrunk (a copy: strings still belong to a). */
cs_arch cs_placement_arch(const cs_placement *p, const cs_arch *a);
/* The mapper's view of the placement on (already shrunk) architecture a, energies from t. */
cs_cim_target cs_placement_target(const cs_placement *p, const cs_arch *a, const cs_energy_table *t);
/* Adds the primitive's actions (scaled to t's node) and the macro instance (leakage, area
 * derived from the table's shared-memory entry per byte x area factor) to t. */
void cs_placement_energy(const cs_placement *p, const cs_arch *a, cs_energy_table *t);
/* Macro count per instance for a sizing rule. */
uint32_t cs_placement_count(const cs_cim_prim *prim, uint64_t replace_bytes, int sizing);

#endif

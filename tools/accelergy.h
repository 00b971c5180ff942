/* accelergy — interoperability with Accelergy (Wu, Emer, Sze, ICCAD 2019): its Energy
 * Reference Table (ERT.yaml) and Area Reference Table (ART.yaml) outputs to and from a
 * cimsim energy table (sim/core/energy.h).
 *
 * Import reads an ERT/ART pair (libyaml; Accelergy's list layout `ERT: {version, tables: [{name,
 * actions: [{name, arguments, energy}]}]}`, `ART: {version, tables: [{name, area}]}`, and the
 * older layout where `tables` maps component names to actions) and a mapping file (libconfig,
 * docs/energy.md) that says which Accelergy component and action is which cimsim class and
 * action, with a scale for unit changes (Accelergy energies are pJ per action, areas um^2 per
 * component; the `idle` action is energy per cycle, read as leakage over the mapping's
 * idle_cycle). Errors name the file and line: YAML syntax, missing or ill-typed fields,
 * negative or non-numeric energies (ERT/ART lines), unknown classes or actions, patterns that
 * match nothing, ambiguous action variants (mapping lines).
 *
 * Export writes a table as an ERT/ART pair plus the mapping that reads it back: one component
 * PREFIX.CLASS per class, one action per cimsim action, `idle` for leakage; every number in its
 * shortest exact decimal form, so export then import gives the same doubles.
 *
 * Not responsible for: running Accelergy; whether a table is complete (cs_energy_check_coverage
 * and the table loader say that).
 */
#ifndef CS_ACCELERGY_H
#define CS_ACCELERGY_H

#include <stdint.h>

#include "buf.h"
#include "energy.h"
#include "err.h"

/* Builds *out from the ERT and ART files through the mapping file. base (may be NULL): a table
 * whose entries the import starts from (the import replaces those it maps). The new table takes
 * name, version, node and description from the mapping. */
/* The schema of a mapping file (for describe and docs). */
const cs_cfg_schema *cs_accelergy_map_schema(void);
cs_status cs_accelergy_import(const char *ert_path, const char *art_path, const char *map_path,
                              const cs_energy_table *base, cs_energy_table **out, cs_err *err);

/* Appends the ERT, ART and mapping file of t to the three buffers. prefix: the components'
 * name prefix ("system.gpu"; letters, digits, '_', '.', '-'); idle_cycle_ps: the cycle
 * Accelergy's `idle` energy is given per (idle pJ = leakage mW x cycle ns). */
void cs_accelergy_export(const cs_energy_table *t, const char *prefix, uint64_t idle_cycle_ps,
                         cs_buf *ert, cs_buf *art, cs_buf *map);

#endif

/* access — where each operand's bytes went: per level and dataspace, the bytes read, filled
 * (written from the level above), updated (written from below: outputs, partial sums) and
 * drained (read to leave the level upward), counted by an SM as it executes its ops. These are
 * the categories of Timeloop's statistics (reads, fills, updates per dataspace), so a run can be
 * set beside a Timeloop evaluation of the same mapping.
 *
 * Dataspaces: A (inputs), B (weights), Z (outputs and partial sums), and "other" for what an op
 * does not tell (tensor-core operand traffic). Global accesses are classified by address (the
 * runner gives the layout of the GEMM's operands); on-chip accesses by the op's role (a CiM
 * MAC reads A, a read-out updates Z, a copy fills the dataspace of its source). Bytes are the
 * bytes the op asks for, not the sectors or banks the hardware moves (those are the energy
 * actions, counted by the components).
 *
 * Not responsible for: energy (actions are counted by the components), timing.
 */
#ifndef CS_ACCESS_H
#define CS_ACCESS_H

#include <stdint.h>

#include "json.h"
#include "stats.h"

enum { CS_ACC_DRAM = 0, CS_ACC_SMEM, CS_ACC_RF, CS_ACC_OPREG, CS_ACC_CIM, CS_ACC_LEVELS };
enum { CS_ACC_A = 0, CS_ACC_B, CS_ACC_Z, CS_ACC_OTHER, CS_ACC_DS };
enum { CS_ACC_READ = 0, CS_ACC_FILL, CS_ACC_UPDATE, CS_ACC_DRAIN, CS_ACC_KINDS };

typedef struct cs_access {
    uint64_t a_lo, z_lo;  /* layout: B below a_lo, A in [a_lo, z_lo), Z from z_lo; 0: unknown */
    uint64_t bytes[CS_ACC_LEVELS][CS_ACC_DS][CS_ACC_KINDS];
} cs_access;

/* Registers the counters "PREFIX.access.LEVEL.DS.KIND" (bytes) of the combinations an SM can
 * produce. */
void cs_access_register(cs_access *a, cs_stats *st, const char *prefix);
/* The dataspace of a global address (CS_ACC_OTHER when the layout is unknown). */
int cs_access_ds(const cs_access *a, uint64_t addr);
static inline void cs_access_add(cs_access *a, int level, int ds, int kind, uint64_t bytes)
{
    a->bytes[level][ds][kind] += bytes;
}

/* The non-zero counts as a JSON object {"LEVEL": {"DS": {"KIND": bytes}}} (levels, dataspaces
 * and kinds in the order above; zero entries and empty groups left out). */
void cs_access_json(const uint64_t bytes[CS_ACC_LEVELS][CS_ACC_DS][CS_ACC_KINDS], cs_json *j);

const char *cs_access_level_name(int level); /* "dram", "smem", "rf", "opreg", "cim" */
const char *cs_access_ds_name(int ds);       /* "a", "b", "z", "other" */
const char *cs_access_kind_name(int kind);   /* "read", "fill", "update", "drain" */

#endif

/* energy — Accelergy-style energy and area: per-class, per-action energy tables (ERT),
 * per-instance leakage and area (ART), evaluated after a run from counted actions.
 *
 * Models count actions (stats.h: cs_stats_action registers a counter as action ACTION of class
 * CLASS) and register component instances (cs_stats_instance). Nothing here runs during
 * simulation: energy = sum over actions of count x table energy + sum over instances of
 * leakage x simulated time; area = sum over instances of table area. A new table never needs a
 * re-simulation.
 *
 * The action vocabulary (class: actions, unit of one action):
 *   dram: act, pre (one command), rd, wr (one 32-byte burst), ref (one refresh command)
 *   l2: tag (one lookup), read, write (one 32-byte sector)
 *   noc: flit (one 32-byte flit crossing the crossbar)
 *   smem: read, write (32 bytes)
 *   rf: read, write (one 4-byte register word)
 *   tensor_core: mac_int8, mac_fp16 (one MAC executed)
 *   cim: mac (one MAC), write (one weight write of the primitive's ch bytes)
 *   opreg: read, write (one byte of a PE-array operand register; compat.baseline = pe_array)
 * Instance classes (leakage, area): dram (channel), l2 (slice), noc, smem (SM), rf and
 * tensor_core (sub-partition), cim (macro).
 *
 * Tables are data (arch/energy/NAME.cfg, a libconfig file with a top-level `energy_table`
 * group); every entry carries its source; the table declares its technology node. Energies
 * given at another node are scaled with the Stillmaker-Baas equations (docs/energy.md, which
 * also gives the file format, every entry's derivation and the coefficients).
 *
 * Not responsible for: counting (models, stats.h); formatting reports (tools/); Accelergy
 * files (tools/accelergy.h).
 */
#ifndef CS_ENERGY_H
#define CS_ENERGY_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "cfg.h"
#include "err.h"
#include "stats.h"

typedef struct cs_energy_table cs_energy_table;

/* ---- tables ------------------------------------------------------------------------------- */
/* spec: a built-in name ("45nm", "7nm": builtin:arch/energy/NAME.cfg) or a path to a .cfg.
 * Errors: FILE:LINE: error: KEY: RULE (missing action energy, negative energy, unknown unit,
 * unknown class...). */
cs_status cs_energy_table_load(const char *spec, cs_energy_table **out, cs_err *err);
/* The same from a parsed document (origin names it in the table's provenance). */
/* The schema of a table file (root: the `energy_table` group), for describe and docs. */
const cs_cfg_schema *cs_energy_table_schema(void);
cs_status cs_energy_table_from_cfg(cs_cfg *cfg, const char *origin, cs_energy_table **out, cs_err *err);
void cs_energy_table_destroy(cs_energy_table *t); /* NULL is a no-op */
cs_energy_table *cs_energy_table_clone(const cs_energy_table *t);
const char *cs_energy_table_name(const cs_energy_table *t);
const char *cs_energy_table_version(const cs_energy_table *t);
double cs_energy_table_node_nm(const cs_energy_table *t);
/* The table's description ("" when none) and where it was loaded from ("builtin:arch/energy/
 * 7nm.cfg", a path, or "" for a table built in memory). */
const char *cs_energy_table_description(const cs_energy_table *t);
const char *cs_energy_table_origin(const cs_energy_table *t);
/* cs_cfg_content_hash of the file the table was read from (0: built in memory). */
uint64_t cs_energy_table_content_hash(const cs_energy_table *t);
void cs_energy_table_set_description(cs_energy_table *t, const char *text);

/* The action vocabulary above, as data. cs_energy_vocab_class(i): the i-th class ("dram", ...,
 * "cim"), NULL past the end. cs_energy_vocab_actions(cls): its actions, NULL-terminated; NULL
 * for a class outside the vocabulary. */
const char *cs_energy_vocab_class(size_t i);
const char *const *cs_energy_vocab_actions(const char *cls);
/* Classes a table may leave out (cim, opreg). */
bool cs_energy_vocab_optional(const char *cls);

/* Energy of one action in pJ; CS_NOT_FOUND if the table has no such entry. */
cs_status cs_energy_lookup(const cs_energy_table *t, const char *cls, const char *action,
                           double *pj);
/* Leakage (mW) and area (mm^2) of one instance of a class (0 when the class has none). */
double cs_energy_leak_mw(const cs_energy_table *t, const char *cls);
double cs_energy_area_mm2(const cs_energy_table *t, const char *cls);

/* Adds or replaces an entry given at technology node from_nm (0 = the table's own node),
 * scaling energy (and area, leakage) to the table's node. Used for CiM primitives, whose
 * figures come from their own files. cls and action must belong to the vocabulary, values be
 * finite and non-negative and from_nm within 7..180 nm (CS_ASSERT: callers validate input).
 * A scaled entry's source records the factor ("... [scaled 45->7 nm: x0.05552]"). Leakage
 * scales like energy (as Accelergy does), area with the area factor. */
void cs_energy_set_action(cs_energy_table *t, const char *cls, const char *action, double pj,
                          double from_nm, const char *source);
void cs_energy_set_instance(cs_energy_table *t, const char *cls, double leak_mw, double area_mm2,
                            double from_nm, const char *source);
/* Stillmaker-Baas scale factors from one node to another (energy per operation; area). Nodes
 * of the paper (180, 130, 90, 65, 45, 32, 20, 16, 14, 10, 7 nm) use its fits at their nominal
 * supply (docs/energy.md); nodes in between interpolate log-linearly; NaN outside 7..180 nm. */
double cs_energy_scale_energy(double from_nm, double to_nm);
double cs_energy_scale_area(double from_nm, double to_nm);

/* Every registered action has a table entry and every table entry (of the classes in use)
 * names a registered action; every registered instance's class has a leakage/area entry: the
 * mismatches are listed in err, one message each (CS_INVALID). */
cs_status cs_energy_check_coverage(const cs_energy_table *t, const cs_stats *st, cs_err *err);

/* ---- evaluation --------------------------------------------------------------------------- */
/* The breakdown categories of result files (DESIGN.md section 6). */
#define CS_EB_MAP(X) \
    X(DRAM, "dram") X(L2, "l2") X(SMEM, "smem") X(RF, "rf") X(TENSOR_CORE, "tensor_core") \
    X(CIM_MAC, "cim_mac") X(CIM_WRITE, "cim_write") X(NOC, "noc") X(LEAKAGE, "leakage")
typedef enum {
#define CS_X(id, str) CS_EB_##id,
    CS_EB_MAP(CS_X)
#undef CS_X
        CS_EB_COUNT
} cs_eb;
const char *cs_eb_name(int i);

/* Levels of the hierarchy (dynamic + leakage of everything at that level). */
#define CS_EL_MAP(X) \
    X(DRAM, "dram") X(L2, "l2") X(NOC, "noc") X(SMEM, "smem") X(RF, "rf") X(COMPUTE, "compute") X(CIM, "cim")
typedef enum {
#define CS_X(id, str) CS_EL_##id,
    CS_EL_MAP(CS_X)
#undef CS_X
        CS_EL_COUNT
} cs_el;
const char *cs_el_name(int i);

typedef struct cs_energy_item {
    char cls[32], action[32];
    uint64_t count;
    double pj_each;
    double pj;        /* count x pj_each, quantised (see below) */
} cs_energy_item;

/* Every pJ figure is quantised to a multiple of 2^-6 pJ before it is summed, so all sums
 * (breakdown, levels, totals, over GEMMs) are exact in double precision up to 2^47 pJ and
 * every split adds up to its total bit for bit. */
typedef struct cs_energy_report {
    double breakdown_pj[CS_EB_COUNT];
    double level_pj[CS_EL_COUNT];
    double dynamic_pj, leakage_pj, total_pj;
    double area_mm2;
    cs_energy_item *items;  /* one per (class, action) counted, in registration order */
    size_t nitems;
} cs_energy_report;

/* Evaluates the actions of st (their values in snap, or current values when snap is NULL) over
 * `seconds` of simulated time. Fails (CS_INVALID) if an action has no table entry. */
cs_status cs_energy_eval(const cs_energy_table *t, const cs_stats *st, const cs_stats_snap *snap,
                         double seconds, cs_energy_report *out, cs_err *err);
void cs_energy_report_free(cs_energy_report *r);
double cs_energy_quantise(double pj);

/* ---- building and walking tables (for importers and exporters: tools/accelergy.c) -------- */
cs_energy_table *cs_energy_table_new(const char *name, const char *version, double node_nm);
/* Entries in insertion order: action entries have action != NULL; instance entries (leakage,
 * area of a class) have action == NULL. */
size_t cs_energy_entry_count(const cs_energy_table *t);
void cs_energy_entry_get(const cs_energy_table *t, size_t i, const char **cls, const char **action,
                         double *pj, double *leak_mw, double *area_mm2, const char **source);
/* The table as a loadable table file (the format of arch/energy/NAME.cfg), appended to out.
 * Numbers are written in the shortest form that reads back exactly. */
void cs_energy_table_write_cfg(const cs_energy_table *t, cs_buf *out);

#endif

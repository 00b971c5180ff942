/* stats — the statistics registry: named counters, gauges, histograms, formulas, snapshots.
 *
 * Components keep their statistics as plain fields (uint64_t counters, cs_gauge, cs_hist) and
 * register each once, at build time, by dotted name with a unit and a description
 * ("gpu.l2.slice07.rd_hit", "accesses", "read hits"). The hot path is a plain increment: no
 * string work, no lookup. Formulas are expressions over other statistics, evaluated only when
 * read (dump time). Per-phase figures come from snapshots and subtraction, never from
 * resetting counters.
 *
 * Energy: a counter may be registered as an *action* of a component class ("smem", "read"):
 * energy evaluation multiplies action counts by a per-action table entry. Component instances
 * are registered too (class + name) so leakage and area can be summed per instance.
 *
 * Not responsible for: formatting results for users (tools/ does that from the query API);
 * energy tables (energy.h).
 *
 * One thread uses a registry at a time, reads included: evaluating a formula caches its name
 * resolutions and glob matches inside the registry, even through a const pointer.
 */
#ifndef CS_STATS_H
#define CS_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

typedef struct cs_stats cs_stats;

/* A level with a high-water mark (queue occupancy, MSHRs in use). */
typedef struct cs_gauge {
    int64_t value;
    int64_t high;
} cs_gauge;
static inline void cs_gauge_add(cs_gauge *g, int64_t d)
{
    g->value += d;
    if (g->value > g->high)
        g->high = g->value;
}

/* Power-of-two buckets: bucket i counts samples v with 2^(i-1) <= v < 2^i (bucket 0: v = 0);
 * the last bucket also counts every larger sample. min and max mean something once count > 0. */
enum { CS_HIST_BUCKETS = 40 };
typedef struct cs_hist {
    uint64_t count, sum, min, max;
    uint64_t bucket[CS_HIST_BUCKETS];
} cs_hist;
void cs_hist_add(cs_hist *h, uint64_t v);

typedef enum { CS_STAT_COUNTER, CS_STAT_GAUGE, CS_STAT_HIST, CS_STAT_FORMULA } cs_stat_kind;

/* ---- create / destroy --------------------------------------------------------------------- */
cs_stats *cs_stats_create(void);
void cs_stats_destroy(cs_stats *s); /* NULL is a no-op */

/* ---- register (build time) ---------------------------------------------------------------
 * Names are unique, dotted, [a-z0-9_.]; registering a duplicate name is a bug (CS_ASSERT).
 * Strings are copied. The pointed-to storage must outlive the registry's use. */
void cs_stats_counter(cs_stats *s, const char *name, const char *unit, const char *desc,
                      const uint64_t *ctr);
void cs_stats_gauge(cs_stats *s, const char *name, const char *unit, const char *desc,
                    const cs_gauge *g);
void cs_stats_hist(cs_stats *s, const char *name, const char *unit, const char *desc,
                   const cs_hist *h);
/* A counter that is also an energy action: class and action name its table entry. */
void cs_stats_action(cs_stats *s, const char *name, const char *unit, const char *desc,
                     const uint64_t *ctr, const char *cls, const char *action);
/* Formula over other statistics, evaluated at read time. Grammar:
 *   expr := term (('+'|'-') term)* ; term := factor (('*'|'/') factor)* ;
 *   factor := NUMBER | NAME | 'sum(' GLOB ')' | 'max(' GLOB ')' | '(' expr ')' | '-' factor
 * NAME is a registered statistic (a gauge reads its value, a histogram its count); GLOB is a
 * name pattern with '*' matching any run of characters ("gpu.l2.slice*.rd_hit"). Division by
 * zero gives 0. Returns CS_INVALID (message in err) if the expression does not parse; names
 * are resolved at evaluation, so formulas may be registered before what they refer to.
 * In an expression a NAME starts with a letter or '_' (a name starting with a digit cannot be
 * referenced). sum() and max() range over counters and gauges (their values), not histograms
 * or formulas; a glob matching nothing gives 0. A NAME still unknown when the formula is read,
 * a cycle of formulas, or formulas nested more than 64 deep make the value NaN (dumped as "nan"
 * and null), and NaN propagates, so a typo cannot pass as a plausible 0: cs_stats_eval reports
 * the cause, which is how a test checks that every formula resolves. */
cs_status cs_stats_formula(cs_stats *s, const char *name, const char *unit, const char *desc,
                           const char *expr, cs_err *err);
/* A component instance of a class ("smem", "gpu.sm003.smem"), for leakage and area. */
void cs_stats_instance(cs_stats *s, const char *cls, const char *name);

/* ---- query -------------------------------------------------------------------------------- */
size_t cs_stats_count(const cs_stats *s);              /* registered statistics, in order */
const char *cs_stats_name(const cs_stats *s, size_t i);
const char *cs_stats_unit(const cs_stats *s, size_t i);
const char *cs_stats_desc(const cs_stats *s, size_t i);
cs_stat_kind cs_stats_kind(const cs_stats *s, size_t i);
/* Current value: counter value, gauge value, histogram count, formula result. */
double cs_stats_value(const cs_stats *s, size_t i);
/* Index of a name, or (size_t)-1. */
size_t cs_stats_find(const cs_stats *s, const char *name);
/* Sum of the current values of all counters (actions included) whose names match glob. */
double cs_stats_sum(const cs_stats *s, const char *glob);
/* Evaluates an expression (the formula grammar) now. On failure *out is NaN and err holds the
 * first problem with formula, column and expression: CS_INVALID for a parse error, a formula
 * cycle or nesting too deep, CS_NOT_FOUND for an unknown name (also inside referenced
 * formulas). */
cs_status cs_stats_eval(const cs_stats *s, const char *expr, double *out, cs_err *err);
bool cs_stats_glob_match(const char *glob, const char *name);

/* Actions: each registered action counter with its class and action name. */
size_t cs_stats_action_count(const cs_stats *s);
void cs_stats_action_get(const cs_stats *s, size_t i, const char **name, const char **cls,
                         const char **action, uint64_t *value);
/* Instances: class and name of each registered instance. */
size_t cs_stats_instance_count(const cs_stats *s);
void cs_stats_instance_get(const cs_stats *s, size_t i, const char **cls, const char **name);

/* ---- snapshots ----------------------------------------------------------------------------
 * A snapshot holds the values of every counter (and gauge value and high, histogram count,
 * sum, min, max and buckets) at one instant. delta = later - earlier gives the figures of a
 * phase. A snapshot stays valid when statistics are registered after it: they read as 0 in it
 * (formulas are always evaluated, over the snapshot's values). Snapshots are freed by
 * cs_stats_snap_free, before or after the registry. */
typedef struct cs_stats_snap cs_stats_snap;
cs_stats_snap *cs_stats_snapshot(const cs_stats *s);
void cs_stats_snap_free(cs_stats_snap *snap);
/* Value of statistic i in the snapshot (formulas: evaluated over the snapshot's values). */
double cs_stats_snap_value(const cs_stats *s, const cs_stats_snap *snap, size_t i);
/* A new snapshot holding later - earlier for counters and histograms (gauges keep later).
 * Histogram counts, sums and buckets subtract exactly; min/max are exact when the extreme moved
 * during the phase (or earlier held no samples), else the edges of the phase's lowest/highest
 * non-empty bucket, clamped to the lifetime min/max. later must not be older than earlier
 * (CS_ASSERT when it covers fewer statistics). */
cs_stats_snap *cs_stats_snap_delta(const cs_stats *s, const cs_stats_snap *later,
                                   const cs_stats_snap *earlier);

/* ---- dump (back-ends, separate from collection) -------------------------------------------
 * snap NULL = current values. Text: one "name value unit # desc" line each, aligned.
 * JSON: an object {name: value} in registration order (histograms as objects). glob NULL = all.
 * Both append to out. Text: value right-aligned, integral values as integers, others as the
 * shortest exact decimal, NaN as "nan"; a gauge adds "[high=H]" and a histogram
 * "[sum=S min=A max=B]" to the comment; trailing blanks trimmed. JSON: compact; counters and
 * gauges (value) as integers, formulas as numbers (integral ones as integers, NaN as null),
 * histograms as {"count","sum","min","max","buckets"} with trailing empty buckets trimmed. */
void cs_stats_dump_text(const cs_stats *s, const cs_stats_snap *snap, const char *glob, cs_buf *out);
void cs_stats_dump_json(const cs_stats *s, const cs_stats_snap *snap, const char *glob, cs_buf *out);

#endif

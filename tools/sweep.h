/* sweep — a design-space sweep spec (docs/sweep.md): fixed `cimsim run` options plus axes
 * whose values multiply into points. Loading validates the spec and every option value it
 * holds; a point is then a cs_opts, exactly as if its options had been given to `cimsim run`.
 *
 * Points are numbered 0..n-1 in row-major order over the axes (the last axis varies fastest);
 * that order is the order of results.csv and results.json, whatever order they finish in.
 */
#ifndef CS_SWEEP_H
#define CS_SWEEP_H

#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "opts.h"

enum { CS_SWEEP_MAX_AXES = 16, CS_SWEEP_MAX_POINTS = 1000000 };

typedef struct cs_sweep_axis {
    char *name;        /* column name: the option or the set key unless given */
    char *option;      /* a `cimsim run` long option ("cim", "workload"), or NULL */
    char *set;         /* an architecture key ("hbm.clock"), or NULL */
    cs_cfg_strs values;
} cs_sweep_axis;

typedef struct cs_sweep_params {
    char *name;
    cs_cfg_map run;    /* option name -> value (char *) */
    cs_cfg_strs set;   /* "key=value" */
    cs_cfg_list axes;  /* cs_sweep_axis */
} cs_sweep_params;

typedef struct cs_sweep {
    cs_cfg *cfg;
    char *path, *dir;  /* the spec file and its directory (relative paths in it start there) */
    cs_sweep_params p;
    uint64_t hash;     /* of the effective spec: a journal belongs to one spec */
    size_t npoints;
    char **owned;      /* strings made for points (resolved paths, set pairs) */
    size_t nowned, owned_cap;
} cs_sweep;

/* The schema of a spec file (for describe and docs). */
const cs_cfg_schema *cs_sweep_schema(void);
cs_status cs_sweep_load(const char *path, cs_sweep **out, cs_err *err);
/* The same from a parsed spec (path names it, for messages and relative paths); takes cfg,
 * which the sweep (or, on failure, this call) destroys. */
cs_status cs_sweep_from_cfg(const char *path, cs_cfg *cfg, cs_sweep **out, cs_err *err);
void cs_sweep_destroy(cs_sweep *s); /* NULL is a no-op */
const cs_sweep_axis *cs_sweep_axis_at(const cs_sweep *s, size_t i);
size_t cs_sweep_naxes(const cs_sweep *s);
/* The value of axis a at point p. */
const char *cs_sweep_value(const cs_sweep *s, size_t p, size_t a);
/* The options of point p, as `cimsim run` would have them (o->command is the equivalent
 * `cimsim run` command line). The spec's values were checked by cs_sweep_load. */
void cs_sweep_point_opts(cs_sweep *s, size_t p, cs_opts *o);
/* Frees the strings cs_sweep_point_opts made for the points so far (resolved paths, set
 * pairs): their cs_opts must not be used afterwards. A sweep run calls it after each batch. */
void cs_sweep_forget_points(cs_sweep *s);

#endif

/* report — reading result and compare files (docs/results.md) and writing them as tables
 * (aligned text, JSON summary, CSV, Markdown, LaTeX) and plots (gnuplot).
 *
 * A report is built from one or more input files:
 *   - one result file: a group of one run (per-GEMM tables and a total);
 *   - one compare file: a group whose first run is the baseline, the others CiM variants (one
 *     row per variant with speedup and energy ratio against the baseline);
 *   - several result files: one group, the first file's run being the baseline;
 *   - several compare files: one group each;
 *   - one sweep file (cimsim sweep's results.json): a group of one run per point, each with
 *     the point's axis values (no baseline).
 * Result, compare and sweep files cannot be mixed. Every figure is computed from the file's numbers;
 * nothing is re-simulated.
 *
 * Reading validates the schema: a missing or ill-typed key is reported as
 * `FILE: error: KEY.PATH: RULE (got TYPE)`, malformed JSON as `FILE:LINE: error: JSON: WHAT`.
 *
 * Not responsible for: command-line parsing and file output (cmd_report.c).
 */
#ifndef CS_REPORT_H
#define CS_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "cpath.h"
#include "energy.h"
#include "err.h"

typedef struct cs_rep_gemm {
    char *name, *bound;
    int64_t m, n, k, repeat;
    double cycles, seconds, macs, tops, utilization, energy_pj;
    double breakdown_pj[CS_EB_COUNT];
    double attribution[CS_CAUSES]; /* cycles per cause (NaN: a file without attribution) */
    double dram_read_bytes, dram_write_bytes;
} cs_rep_gemm;

typedef struct cs_rep_run {
    char *file;                   /* the input file it came from */
    char *label;                  /* "baseline", "analog6T@rf x5" */
    bool cim;                     /* a CiM variant */
    char *primitive, *level;      /* CiM variants ("" otherwise) */
    int64_t macros;
    char *version, *command, *config_hash, *energy_table, *energy_version, *arch, *workload;
    char **params;                /* sweep points: the value of each of the group's axes */
    size_t nparams;
    double clock_hz, peak_tops, peak_dram_bytes_per_s;
    cs_rep_gemm *gemms;
    size_t ngemms;
    /* total */
    double cycles, seconds, macs, energy_pj, tops, tops_per_w, area_mm2, tops_per_mm2;
    double breakdown_pj[CS_EB_COUNT];
    double attribution[CS_CAUSES];
} cs_rep_run;

typedef struct cs_rep_group {
    bool compare;      /* runs[0] is the baseline of the others */
    bool sweep;        /* runs are the points of a sweep (no baseline) */
    char **axes;       /* sweep: the axis names (naxes) */
    size_t naxes;
    char *files;       /* "a.json" or "a.json, b.json" */
    cs_rep_run *runs;
    size_t nruns;
} cs_rep_group;

typedef struct cs_report {
    cs_rep_group *groups;
    size_t ngroups;
    char *command;     /* the report's own command line, for provenance */
    /* sweep plots (not owned): the axis on x (NULL: the first) and the metric on y (NULL:
     * seconds; cs_report_sweep_metrics lists them) */
    const char *plot_x, *plot_y;
} cs_report;

/* ---- read --------------------------------------------------------------------------------- */
/* A result or compare file is at most this large (about 100,000 GEMM entries); beyond, reading
 * stops with a message instead of exhausting memory. */
enum { CS_REP_MAX_INPUT_BYTES = 256 << 20 };
/* A sweep reported has at most this many axes (the tables' columns). */
enum { CS_REP_MAX_AXES = 16 };
/* GEMMs with M at most this are decode steps (one token per sequence, a few sequences); the
 * others prefill. Compare tables total each phase apart when a workload has both. */
enum { CS_REP_DECODE_M = 16 };
/* Reads and validates the files into rep (zeroed by the caller). All problems of all files
 * are collected in err before failing (CS_FORMAT / CS_INVALID / CS_IO; exit status 2). */
cs_status cs_report_read(cs_report *rep, const char *const *paths, size_t npaths,
                         const char *command, cs_err *err);
/* The same from texts in memory (names are used in messages), as the fuzz target reads. */
cs_status cs_report_read_mem(cs_report *rep, const char *const *names, const char *const *texts,
                             const size_t *lens, size_t n, const char *command, cs_err *err);
void cs_report_free(cs_report *rep);

/* ---- write -------------------------------------------------------------------------------- */
typedef enum {
    CS_REP_TEXT,
    CS_REP_JSON,
    CS_REP_CSV,
    CS_REP_MD,
    CS_REP_TEX
} cs_rep_format;

typedef struct cs_rep_opts {
    cs_rep_format format;
    bool standalone; /* tex: a complete document instead of table fragments */
    bool per_gemm;   /* csv of a compare: one row per run and GEMM instead of per run */
} cs_rep_opts;

/* Appends the report in the chosen format to out. CSV needs groups of one kind: CS_INVALID
 * (message in err) for result and compare groups together. */
cs_status cs_report_write(const cs_report *rep, const cs_rep_opts *opts, cs_buf *out,
                          cs_err *err);

/* ---- plot --------------------------------------------------------------------------------- */
typedef enum {
    CS_PLOT_DEFAULT,
    CS_PLOT_BREAKDOWN,
    CS_PLOT_SPEEDUP,
    CS_PLOT_ROOFLINE,
    CS_PLOT_ATTRIBUTION,
    CS_PLOT_SWEEP
} cs_plot_kind;

/* Writes the gnuplot script (inline data) for a plot of the report's single group into out;
 * terminal from the extension of path (.svg, .png, .pdf). CS_INVALID when the plot does not
 * apply (speedup of a single result, several groups), CS_UNSUPPORTED for an unknown extension. */
cs_status cs_report_plot_script(const cs_report *rep, cs_plot_kind kind, const char *path,
                                const char *output, cs_buf *out, cs_err *err);
/* Runs gnuplot on the script above, writing path atomically (a temporary file beside it, then
 * rename). CS_UNSUPPORTED when gnuplot (or its pdfcairo terminal, for .pdf) is missing. */
cs_status cs_report_plot(const cs_report *rep, cs_plot_kind kind, const char *path, cs_err *err);

/* The metrics a sweep plot can put on y, NULL-terminated: cycles, seconds, energy_pj, tops,
 * tops_per_w, pj_per_mac, area_mm2, tops_per_mm2. */
const char *const *cs_report_sweep_metrics(void);

/* Shortest exact decimal for v, or `sig` significant figures (sig > 0) without an exponent
 * where that reads well; used by every writer. */
void cs_report_number(cs_buf *b, double v, int sig);

#endif

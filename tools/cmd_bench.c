/* cmd_bench — benchmarks of the engine and of whole runs.
 *
 * `bench engine`: a ring of components, each forwarding messages to the next over a link with
 * latency, bandwidth and a capacity of 4 (so back-pressure and credit callbacks are exercised),
 * holding each message for a processing delay first. Reports events per second of host time.
 * `bench run`: a whole `run` (arguments as for run), reporting wall time and peak memory.
 */
#include "cmd_bench.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "alloc.h"
#include "cli.h"
#include "engine.h"
#include "opts.h"
#include "port.h"
#include "run.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double peak_rss_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0;
}

/* ---- the synthetic network ---------------------------------------------------------------- */

typedef struct node {
    cs_engine *eng;
    cs_port in, out;
    uint64_t *queue; /* messages processed and waiting for credit */
    size_t qlen, qcap;
    cs_ps delay_ps;
    uint64_t forwarded;
} node;

static void flush(node *n)
{
    size_t sent = 0;
    while (sent < n->qlen && cs_port_try_send(&n->out, NULL, n->queue[sent], 64))
        sent++;
    memmove(n->queue, n->queue + sent, (n->qlen - sent) * sizeof *n->queue);
    n->qlen -= sent;
    n->forwarded += sent;
}

static void processed(void *ctx, void *ptr, uint64_t token)
{
    (void)ptr;
    node *n = ctx;
    cs_port_release(&n->in);
    CS_GROW(n->queue, n->qcap, n->qlen + 1);
    n->queue[n->qlen++] = token;
    flush(n);
    cs_engine_progress(n->eng);
}

static void recv(void *owner, cs_port *in, void *ptr, uint64_t token)
{
    (void)in;
    (void)ptr;
    node *n = owner;
    cs_engine_post(n->eng, cs_engine_now(n->eng) + n->delay_ps + (token % 7) * 100, CS_PRIO_DEFAULT,
                   processed, n, NULL, token);
}

static void credit(void *owner, cs_port *out)
{
    (void)out;
    flush(owner);
}

typedef struct bench_out {
    uint64_t events;
    double seconds;
} bench_out;

static bench_out engine_once(uint32_t nodes, uint32_t tokens, cs_ps sim_ps)
{
    cs_engine *eng = cs_engine_create();
    cs_clock clk = {1000000}; /* 1 GHz */
    node *ns = cs_calloc(nodes, sizeof *ns);
    cs_link **links = cs_calloc(nodes, sizeof *links);
    for (uint32_t i = 0; i < nodes; i++) {
        ns[i].eng = eng;
        ns[i].delay_ps = 2000;
        cs_port_init_in(&ns[i].in, &ns[i], recv, i);
        cs_port_init_out(&ns[i].out, &ns[i], credit, i);
    }
    cs_link_params lp = {.latency_ps = 1000, .bytes_per_cycle = 32, .clock = &clk, .capacity = 4};
    for (uint32_t i = 0; i < nodes; i++)
        links[i] = cs_link_create(eng, "ring", &lp, &ns[i].out, &ns[(i + 1) % nodes].in);
    for (uint32_t i = 0; i < nodes; i++)
        for (uint32_t t = 0; t < tokens; t++) {
            CS_GROW(ns[i].queue, ns[i].qcap, ns[i].qlen + 1);
            ns[i].queue[ns[i].qlen++] = (uint64_t)i * tokens + t;
        }
    for (uint32_t i = 0; i < nodes; i++)
        flush(&ns[i]);
    double t0 = now_s();
    cs_engine_run(eng, sim_ps, NULL);
    bench_out r = {cs_engine_events_run(eng), now_s() - t0};
    for (uint32_t i = 0; i < nodes; i++) {
        cs_link_destroy(links[i]);
        cs_free(ns[i].queue);
    }
    cs_free(links);
    cs_free(ns);
    cs_engine_destroy(eng);
    return r;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static const char engine_usage[] =
    "usage: cimsim bench engine [--nodes N] [--tokens T] [--runs R] [--sim-us US]\n"
    "\n"
    "Runs the event engine alone on a ring of N components (T messages each in flight, links\n"
    "with latency, bandwidth and capacity 4) for US microseconds of simulated time, R times.\n"
    "Prints `events_per_second` (median of the runs), each run's figure and `peak_rss_mb`.\n";

static int bench_engine(int argc, char **argv)
{
    static const struct option longs[] = {{"nodes", required_argument, 0, 'n'}, {"tokens", required_argument, 0, 't'},
                                          {"runs", required_argument, 0, 'r'}, {"sim-us", required_argument, 0, 's'},
                                          {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    unsigned long nodes = 256, tokens = 16, runs = 5, sim_us = 2000;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", longs, NULL)) != -1) {
        unsigned long *dst = c == 'n' ? &nodes : c == 't' ? &tokens : c == 'r' ? &runs : c == 's' ? &sim_us : NULL;
        if (c == 'h') {
            fputs(engine_usage, stdout);
            return 0;
        }
        if (!dst)
            return cs_cli_bad_option("bench engine", c, argv);
        char *end;
        *dst = strtoul(optarg, &end, 10);
        if (!*optarg || *end || *dst < 1 || *dst > 100000000)
            return cs_cli_usage_error("bench engine", "--%s: must be a positive integer (got \"%s\")",
                                      c == 'n' ? "nodes" : c == 't' ? "tokens" : c == 'r' ? "runs" : "sim-us", optarg);
    }
    if (optind < argc)
        return cs_cli_usage_error("bench engine", "unexpected argument '%s'", argv[optind]);
    double *eps = cs_calloc(runs, sizeof *eps);
    uint64_t events = 0;
    for (unsigned long i = 0; i < runs; i++) {
        bench_out b = engine_once((uint32_t)nodes, (uint32_t)tokens, (cs_ps)sim_us * 1000000);
        eps[i] = (double)b.events / b.seconds;
        events = b.events;
        printf("run_%lu_events_per_second: %.0f\n", i + 1, eps[i]);
    }
    qsort(eps, runs, sizeof *eps, cmp_double);
    printf("events_per_run: %llu\n", (unsigned long long)events);
    printf("events_per_second: %.0f\n", eps[runs / 2]);
    printf("peak_rss_mb: %.1f\n", peak_rss_mb());
    cs_free(eps);
    return 0;
}

static const char run_usage[] =
    "usage: cimsim bench run [-a ARCH] [-w WORKLOAD] [--runs R] [options]\n"
    "\n"
    "Times a whole `run` (one thread unless -j is given), R times (default 1), and prints\n"
    "wall_seconds (the median of the runs, each run's figure too when R > 1), simulated_cycles,\n"
    "events, events_per_second and peak_rss_mb. Loading the architecture, workload and energy\n"
    "table is part of each run's time.\n"
    "\noptions:\n"
    "      --runs R           repeat the run R times (1 to 1000) and report the median\n" CS_OPTS_HELP;

/* One timed run: loads everything and simulates; *wall is its wall time, *res its result. The
 * first run prints the workload's name. */
static int run_once(cs_opts *o, double *wall, cs_result **res, bool first)
{
    cs_err err;
    cs_err_init(&err);
    cs_inputs in = {0};
    int rc = 0;
    double t0 = now_s();
    if (cs_inputs_load(o, &in, &err) != CS_OK) {
        rc = cs_cli_report(&err);
        goto out;
    }
    cs_run_opts ro;
    cs_run_opts_init(&ro);
    ro.dtype = o->dtype;
    ro.threads = o->threads > 0 ? o->threads : 1;
    ro.command = o->command;
    ro.tc = o->tc;
    if (cs_run(in.ad, in.w, in.et, &ro, res, &err) != CS_OK) {
        rc = cs_cli_report(&err);
        goto out;
    }
    *wall = now_s() - t0;
    if (first)
        printf("workload: %s\n", in.w->name);
out:
    cs_inputs_free(&in);
    cs_err_free(&err);
    return rc;
}

static int bench_run(int argc, char **argv)
{
    static const struct option longs[] = {CS_OPTS_LONG, {"runs", required_argument, 0, CS_OPT_FIRST_LOCAL},
                                          {0, 0, 0, 0}};
    cs_opts o;
    cs_opts_init(&o, "bench run", argc, argv);
    unsigned long runs = 1;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, CS_OPTS_SHORT, longs, NULL)) != -1) {
        if (c == 'h') {
            fputs(run_usage, stdout);
            return 0;
        }
        if (c == CS_OPT_FIRST_LOCAL) {
            char *end;
            runs = strtoul(optarg, &end, 10);
            if (!*optarg || *end || runs < 1 || runs > 1000)
                return cs_cli_usage_error("bench run", "--runs: must be an integer from 1 to 1000 (got \"%s\")",
                                          optarg);
            continue;
        }
        int h = cs_opts_handle(&o, c, optarg);
        if (h == 2)
            return 2;
        if (h == 0)
            return cs_cli_bad_option("bench run", c, argv);
    }
    if (optind < argc)
        return cs_cli_usage_error("bench run", "unexpected argument '%s'", argv[optind]);
    double *walls = cs_calloc(runs, sizeof *walls);
    cs_result *r = NULL;
    int rc = 0;
    for (unsigned long i = 0; i < runs && !rc; i++) {
        cs_result_destroy(r);
        r = NULL;
        rc = run_once(&o, &walls[i], &r, i == 0);
        if (!rc && runs > 1)
            printf("run_%lu_wall_seconds: %.3f\n", i + 1, walls[i]);
    }
    if (!rc) {
        qsort(walls, runs, sizeof *walls, cmp_double);
        double wall = walls[runs / 2];
        printf("threads: %d\n", o.threads > 0 ? o.threads : 1);
        printf("wall_seconds: %.3f\n", wall);
        printf("simulated_cycles: %llu\n", (unsigned long long)r->cycles);
        printf("simulated_seconds: %.9f\n", r->seconds);
        uint64_t events = 0, pending = 0;
        for (size_t i = 0; i < r->ngemms; i++) {
            events += r->gemms[i].tot.events;
            if (r->gemms[i].tot.max_pending > pending)
                pending = r->gemms[i].tot.max_pending;
        }
        printf("events: %llu\n", (unsigned long long)events);
        printf("events_per_second: %.0f\n", (double)events / wall);
        printf("max_pending_events: %llu\n", (unsigned long long)pending);
        printf("peak_rss_mb: %.1f\n", peak_rss_mb());
    }
    cs_result_destroy(r);
    cs_free(walls);
    return rc;
}

static const char usage[] =
    "usage: cimsim bench engine|run [options]\n"
    "\n"
    "  engine   the event engine alone on a synthetic network (events per second)\n"
    "  run      a whole simulation run (wall time, peak memory)\n"
    "Output is machine-readable `name: value` lines. See docs/validation.md for figures.\n";

int cs_cmd_bench(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "engine") == 0)
        return bench_engine(argc - 1, argv + 1);
    if (strcmp(argv[1], "run") == 0)
        return bench_run(argc - 1, argv + 1);
    return cs_cli_usage_error("bench", "unknown benchmark '%s'", argv[1]);
}

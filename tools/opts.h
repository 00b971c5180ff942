/* opts — options shared by the simulating subcommands (run, compare, trace record, sweep,
 * bench): architecture, workload, overrides, data type, threads, tiling, energy table, and
 * the loading of what they name. */
#ifndef CS_OPTS_H
#define CS_OPTS_H

#include <getopt.h>
#include <stdbool.h>

#include "arch.h"
#include "energy.h"
#include "mapper_tc.h"
#include "workload.h"

enum { CS_OPTS_MAX_SETS = 64 };

typedef struct cs_opts {
    const char *sub;            /* subcommand name, for messages */
    const char *arch;           /* -a */
    const char *workload;       /* -w */
    const char *sets[CS_OPTS_MAX_SETS];
    int nsets;                  /* --set */
    int dtype;                  /* --dtype, -1 = the architecture's */
    int threads;                /* -j */
    const char *out;            /* -o */
    const char *energy;         /* --energy */
    bool quiet;                 /* -q */
    cs_tc_overrides tc;         /* --tile, --stages, --split-k */
    char command[1024];         /* the whole command line, for provenance */
} cs_opts;

/* Long options every simulating subcommand accepts; values >= 256 identify them. */
enum {
    CS_OPT_SET = 256, CS_OPT_DTYPE, CS_OPT_ENERGY, CS_OPT_TILE, CS_OPT_STAGES, CS_OPT_SPLITK,
    CS_OPT_HELP, CS_OPT_FIRST_LOCAL = 300
};
#define CS_OPTS_LONG                                                                          \
    {"arch", required_argument, 0, 'a'}, {"workload", required_argument, 0, 'w'},             \
    {"set", required_argument, 0, CS_OPT_SET}, {"dtype", required_argument, 0, CS_OPT_DTYPE}, \
    {"jobs", required_argument, 0, 'j'}, {"output", required_argument, 0, 'o'},               \
    {"energy", required_argument, 0, CS_OPT_ENERGY}, {"quiet", no_argument, 0, 'q'},          \
    {"tile", required_argument, 0, CS_OPT_TILE}, {"stages", required_argument, 0, CS_OPT_STAGES}, \
    {"split-k", required_argument, 0, CS_OPT_SPLITK}, {"help", no_argument, 0, 'h'}
#define CS_OPTS_SHORT "a:w:j:o:qh"
#define CS_OPTS_HELP                                                                          \
    "  -a, --arch ARCH        architecture: a100 (default), a100-80gb, www-sm, or a .cfg file\n" \
    "  -w, --workload W       bert-large (default), gpt-j, dlrm, resnet50, grid-1000,\n"      \
    "                         a CSV file (name,m,n,k[,repeat]) or M,N,K[,R]\n"                \
    "      --set KEY=VALUE    override one architecture key (repeatable), e.g. hbm.clock=607.5MHz\n" \
    "      --dtype T          int8 (default) or fp16\n"                                       \
    "  -j, --jobs N           simulate N GEMMs in parallel (results do not depend on N)\n"    \
    "      --energy TABLE     energy table: 45nm, 7nm or a file (default: the architecture's)\n" \
    "      --tile MxNxK       force the tensor-core CTA tile (K in elements)\n"               \
    "      --stages N         force the copy pipeline depth\n"                                \
    "      --split-k S        force the number of K slices\n"                                 \
    "  -q, --quiet            no progress line on stderr\n"

void cs_opts_init(cs_opts *o, const char *sub, int argc, char **argv);
/* Handles one option returned by getopt_long if it is a common one. Returns 1 when handled,
 * 0 when not a common option, 2 after printing a usage error (the caller exits 2). */
int cs_opts_handle(cs_opts *o, int opt, const char *arg);

/* Loads what the options name. Each returns CS_OK or adds errors to err. */
cs_status cs_opts_load_arch(const cs_opts *o, cs_arch_doc **out, cs_err *err);
cs_status cs_opts_load_workload(const cs_opts *o, const char *dflt, cs_workload **out, cs_err *err);
cs_status cs_opts_load_energy(const cs_opts *o, const cs_arch *a, cs_energy_table **out, cs_err *err);
int cs_opts_threads(const cs_opts *o);
bool cs_opts_progress(const cs_opts *o);

#endif

/* opts — options shared by the simulating subcommands (run, compare, trace record, sweep,
 * bench): architecture, workload, overrides, data type, threads, tiling, energy table, and
 * the loading of what they name. */
#ifndef CS_OPTS_H
#define CS_OPTS_H

#include <getopt.h>
#include <stdbool.h>

#include "arch.h"
#include "energy.h"
#include "mapper_cim.h"
#include "mapper_tc.h"
#include "placement.h"
#include "run.h"
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
    const char *cim;            /* --cim PRIM@LEVEL */
    const char *macros;         /* --macros N|iso-area|iso-capacity */
    cs_cim_request cim_req;     /* --mapping, --goal, --dup, --order, --double-buffer */
    const char *compat;         /* --compat NAME (a profile of compat.* settings), or NULL */
    bool mapping_given;         /* --mapping was given (--compat www otherwise implies www) */
    cs_nest_spec nest_spec;     /* --mapping timeloop:FILE, read (cim_req.spec points here) */
    char command[1024];         /* the whole command line, for provenance */
    bool collect;               /* cs_opts_handle keeps a bad value's message in error
                                   instead of printing it */
    char error[256];
} cs_opts;

/* Long options every simulating subcommand accepts; values >= 256 identify them. */
enum {
    CS_OPT_SET = 256, CS_OPT_DTYPE, CS_OPT_ENERGY, CS_OPT_TILE, CS_OPT_STAGES, CS_OPT_SPLITK,
    CS_OPT_HELP, CS_OPT_CIM, CS_OPT_MACROS, CS_OPT_MAPPING, CS_OPT_GOAL, CS_OPT_DUP, CS_OPT_ORDER,
    CS_OPT_DB, CS_OPT_CANDIDATES, CS_OPT_COMPAT, CS_OPT_FIRST_LOCAL = 300
};
#define CS_OPTS_LONG                                                                          \
    {"arch", required_argument, 0, 'a'}, {"workload", required_argument, 0, 'w'},             \
    {"set", required_argument, 0, CS_OPT_SET}, {"dtype", required_argument, 0, CS_OPT_DTYPE}, \
    {"jobs", required_argument, 0, 'j'}, {"output", required_argument, 0, 'o'},               \
    {"energy", required_argument, 0, CS_OPT_ENERGY}, {"quiet", no_argument, 0, 'q'},          \
    {"tile", required_argument, 0, CS_OPT_TILE}, {"stages", required_argument, 0, CS_OPT_STAGES}, \
    {"split-k", required_argument, 0, CS_OPT_SPLITK}, {"help", no_argument, 0, 'h'},         \
    {"macros", required_argument, 0, CS_OPT_MACROS}, {"mapping", required_argument, 0, CS_OPT_MAPPING}, \
    {"goal", required_argument, 0, CS_OPT_GOAL}, {"dup", required_argument, 0, CS_OPT_DUP},     \
    {"order", required_argument, 0, CS_OPT_ORDER},                                            \
    {"double-buffer", required_argument, 0, CS_OPT_DB}, {"candidates", required_argument, 0, CS_OPT_CANDIDATES}, \
    {"compat", required_argument, 0, CS_OPT_COMPAT}
/* --cim for the commands that run one placement */
#define CS_OPTS_LONG_CIM {"cim", required_argument, 0, CS_OPT_CIM}
#define CS_OPTS_SHORT ":a:w:j:o:qh" /* ":" first: a missing value is told apart */
#define CS_OPTS_HELP                                                                          \
    "  -a, --arch ARCH        architecture: a100 (default), a100-80gb, www-sm, or a .cfg file\n" \
    "  -w, --workload W       bert-large (default), gpt-j, dlrm, resnet50, grid-1000,\n"      \
    "                         a CSV file (name,m,n,k[,repeat]) or M,N,K[,R]\n"                \
    "      --set KEY=VALUE    override one architecture key (repeatable), e.g. hbm.clock=607.5MHz,\n" \
    "                         or a key of the placed CiM primitive, e.g. cim.latency=7ns\n" \
    "      --dtype T          int8 (default) or fp16\n"                                       \
    "  -j, --jobs N           simulate N GEMMs in parallel (results do not depend on N)\n"    \
    "      --energy TABLE     energy table: 45nm, 7nm or a file (default: the architecture's)\n" \
    "      --tile MxNxK       force the tensor-core CTA tile (K in elements)\n"               \
    "      --stages N         force the copy pipeline depth\n"                                \
    "      --split-k S        force the number of K slices\n"                                 \
    "      --compat www       the WWW study's conventions (8-bit partial sums, no crossbar energy,\n" \
    "                         no leakage, DRAM per byte, the PE-array baseline...; each one a\n" \
    "                         compat.* key, --set compat.KEY=VALUE switches it back)\n"        \
    "  -q, --quiet            no progress line on stderr\n"

#define CS_OPTS_HELP_CIM                                                                      \
    "      --macros M         CiM macros per instance of the level (per sub-partition register\n" \
    "                         file, per SM shared memory, per L2 slice): a count, iso-area\n" \
    "                         (default: the area of cim.replace_LEVEL bytes) or iso-capacity\n" \
    "      --mapping MODE     auto (default: bounded search), www (the WWW study's algorithm,\n" \
    "                         its whole loop nest) or timeloop:MAP.yaml (a Timeloop mapping;\n" \
    "                         the baseline's needs compat.baseline=pe_array)\n"                  \
    "      --goal G           what auto optimises: cycles (default), energy or edp\n"        \
    "      --dup N            copies of each weight tile (over SMs and macros; 1: no\n"      \
    "                         duplication; default: searched)\n" \
    "      --order O          ws (weight-stationary) or os (output-stationary); default searched\n" \
    "      --double-buffer B  on or off: write the next tiles while computing (default searched)\n" \
    "      --candidates K     auto: simulate the estimate's best K mappings by cycles (goals energy\n" \
    "                         and edp: and by energy) and keep the best by --goal (default 2;\n" \
    "                         1: the estimate alone)\n"

void cs_opts_init(cs_opts *o, const char *sub, int argc, char **argv);
/* Handles one option returned by getopt_long if it is a common one. Returns 1 when handled,
 * 0 when not a common option, 2 after printing a usage error (the caller exits 2). */
int cs_opts_handle(cs_opts *o, int opt, const char *arg);

/* Loads what the options name. Each returns CS_OK or adds errors to err. */
cs_status cs_opts_load_arch(const cs_opts *o, cs_arch_doc **out, cs_err *err);
cs_status cs_opts_load_workload(const cs_opts *o, const char *dflt, cs_workload **out, cs_err *err);
cs_status cs_opts_load_energy(const cs_opts *o, const cs_arch *a, cs_energy_table **out, cs_err *err);
/* What a simulation needs: the architecture, the workload and the energy table. */
typedef struct cs_inputs {
    cs_arch_doc *ad;
    cs_workload *w;
    cs_energy_table *et;
} cs_inputs;
/* The three loaders above in order into a zeroed *in (workload default: bert-large); stops at
 * the first that fails. cs_inputs_free releases whatever was loaded. */
cs_status cs_inputs_load(const cs_opts *o, cs_inputs *in, cs_err *err);
void cs_inputs_free(cs_inputs *in);
/* A workload that will simulate for long gets a note on stderr before the work starts (unless
 * -q): its MACs (times variants), and the time that takes at CS_OPTS_SIM_MACS_PER_SECOND per
 * thread (a tensor-core baseline on the development machine; docs/limits.md). */
#define CS_OPTS_SIM_MACS_PER_SECOND 5e9
void cs_opts_size_note(const cs_opts *o, const cs_workload *w, size_t variants);
int cs_opts_threads(const cs_opts *o);
/* The placement --cim names (CS_OK with *has false when --cim was not given). */
cs_status cs_opts_load_placement(const cs_opts *o, const cs_arch *a, cs_placement *out, bool *has, cs_err *err);
/* The progress printer (a line on stderr, rewritten in place) or NULL: -q, or stderr is not a
 * terminal. */
cs_run_progress_fn cs_opts_progress(const cs_opts *o);

#endif

/* show — fixed-width tables of results. */
#include "show.h"

#include <inttypes.h>
#include <stdio.h>

#include "op.h"

void cs_show_top_cause(const uint64_t attribution[CS_CAUSES], char *out, size_t n)
{
    uint64_t sum = 0;
    int best = 0;
    for (int c = 0; c < CS_CAUSES; c++) {
        sum += attribution[c];
        if (attribution[c] > attribution[best])
            best = c;
    }
    snprintf(out, n, "%s %.0f%%", cs_cause_key(best), sum ? 100.0 * (double)attribution[best] / (double)sum : 0.0);
}

void cs_show_result(FILE *f, const cs_result *r)
{
    char top[48];
    fprintf(f, "%s on %s (%s, %s energy table)\n", r->workload, r->arch, cs_dtype_name(r->dtype),
            r->energy_table);
    fprintf(f, "%-24s %6s %6s %6s %12s %10s %8s %6s %-11s %-16s %12s %7s  %s\n", "gemm", "m", "n", "k", "cycles",
            "time_us", "tops", "util%", "bound", "top cause", "energy_uj", "pJ/MAC", "mapping");
    for (size_t i = 0; i < r->ngemms; i++) {
        const cs_gemm_result *g = &r->gemms[i];
        cs_show_top_cause(g->attribution, top, sizeof top);
        fprintf(f, "%-24s %6" PRIu64 " %6" PRIu64 " %6" PRIu64 " %12" PRIu64 " %10.2f %8.1f %6.1f %-11s %-16s %12.3f %7.3f  %s\n",
                g->gemm.name, g->gemm.m, g->gemm.n, g->gemm.k, g->cycles, g->seconds * 1e6, g->tops,
                g->utilization * 100, g->bound, top, g->energy.total_pj * 1e-6,
                g->macs ? g->energy.total_pj / (double)g->macs : 0, g->mapping);
    }
    cs_show_top_cause(r->attribution, top, sizeof top);
    fprintf(f, "%-24s %6s %6s %6s %12" PRIu64 " %10.2f %8.1f %6.1f %-11s %-16s %12.3f %7.3f  %.2f TOPS/W\n", "total", "",
            "", "", r->cycles, r->seconds * 1e6, r->tops, r->peak_tops > 0 ? r->tops / r->peak_tops * 100 : 0, "",
            top, r->energy_pj * 1e-6, r->macs ? r->energy_pj / (double)r->macs : 0, r->tops_per_w);
    fprintf(f, "model: cycle-level; %d approximations apply (docs/model.md section 16; provenance.model in the JSON); "
               "cycles attributed to causes along the critical path (docs/model.md section 14.5)\n",
            r->nmodel - 1);
}

/* fuzz_cfg — libFuzzer target for the configuration loader (sim/core/cfg.h) and every schema
 * that reads user files: architectures, CiM primitives, energy tables, and command-line
 * overrides.
 *
 * The input is a libconfig document; the first byte chooses how it is bound (architecture
 * root, primitive, energy table through its loader, or an architecture with an override taken
 * from the first line). Oracles: no crash, no sanitizer report, no leak, and every failure is
 * reported with at least one message.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "arch.h"
#include "cim.h"
#include "cfg.h"
#include "energy.h"

static void require(int cond)
{
    if (!cond)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536)
        return 0;
    int mode = data[0] % 4;
    char *text = cs_strndup((const char *)data + 1, size - 1);
    cs_err err;
    cs_err_init(&err);
    cs_cfg *cfg = NULL;
    cs_status st = cs_cfg_parse_string("<fuzz>", text, NULL, &cfg, &err);
    if (st != CS_OK) {
        require(err.count > 0);
    } else if (mode == 0 || mode == 3) {
        if (mode == 3) { /* an override, as --set would give it */
            char key[64] = "l2.assoc", val[64] = "12";
            size_t n = strcspn(text, "\n=");
            if (n && n < sizeof key && text[n] == '=') {
                memcpy(key, text, n);
                key[n] = '\0';
                snprintf(val, sizeof val, "%.*s", (int)strcspn(text + n + 1, "\n"), text + n + 1);
            }
            cs_cfg_set(cfg, key, val, "--set", &err);
        }
        cs_arch a;
        memset(&a, 0, sizeof a);
        if (cs_cfg_bind(cfg, "", &cs_arch_schema, &a, &err) != CS_OK) {
            require(err.count > 0);
        } else { /* as `config dump` does: only a configuration that bound */
            cs_buf b;
            cs_buf_init(&b);
            cs_cfg_dump(cfg, "", &cs_arch_schema, &a, &b);
            cs_buf_free(&b);
        }
        cs_cfg_params_free(&cs_arch_schema, &a);
    } else if (mode == 1) {
        cs_cim_prim p;
        memset(&p, 0, sizeof p);
        if (cs_cfg_bind(cfg, "cim_primitive", &cs_cim_prim_schema, &p, &err) != CS_OK)
            require(err.count > 0);
        cs_cim_prim_free(&p);
    } else { /* an energy table, through the table loader */
        cs_energy_table *t = NULL;
        if (cs_energy_table_from_cfg(cfg, "<fuzz>", &t, &err) != CS_OK)
            require(err.count > 0);
        cs_energy_table_destroy(t);
    }
    cs_cfg_destroy(cfg);
    cs_err_free(&err);
    cs_free(text);
    return 0;
}

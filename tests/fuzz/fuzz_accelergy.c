/* fuzz_accelergy — libFuzzer target for `cimsim energy import`: Accelergy ERT/ART YAML through
 * a mapping file into a cimsim energy table (cs_accelergy_import, tools/accelergy.h).
 *
 * The input is ERT text and ART text separated by a line "%%\n"; the first byte chooses the
 * mapping (tests/data/accelergy): www-45nm.map.cfg on its own, or v02.map.cfg on top of the
 * built-in 45nm table. Both texts are written to scratch files (in $TMPDIR, else /dev/shm,
 * else /tmp), as the command reads them. Oracles beyond "no crash, no sanitizer report, no
 * leak": a failed import reports at least one message; an imported table written as a table
 * file loads back (the command's own check); and its Accelergy export imports again to the
 * same figures (export then import gives the same doubles).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "accelergy.h"
#include "alloc.h"
#include "cfg.h"
#include "energy.h"
#include "fuzz_scratch.h"

static void require(bool cond)
{
    if (!cond)
        __builtin_trap();
}

static char paths[5][256]; /* ert, art, exported ert, art, map */
static cs_energy_table *base45;

static void init(void)
{
    if (paths[0][0])
        return;
    const char *const names[5] = {"ert.yaml", "art.yaml", "xert.yaml", "xart.yaml", "xmap.cfg"};
    fuzz_scratch_paths("fuzz_accelergy", names, 5, paths);
    cs_err err;
    cs_err_init(&err);
    require(cs_energy_table_load("45nm", &base45, &err) == CS_OK);
}

static void put(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    require(f != NULL);
    require(fwrite(data, 1, n, f) == n);
    require(fclose(f) == 0);
}

static bool same_figures(const cs_energy_table *a, const cs_energy_table *b)
{
    size_t n = cs_energy_entry_count(a);
    if (n != cs_energy_entry_count(b))
        return false;
    for (size_t i = 0; i < n; i++) {
        const char *ca, *aa, *sa, *cb, *ab, *sb;
        double pa, la, ra, pb, lb, rb;
        cs_energy_entry_get(a, i, &ca, &aa, &pa, &la, &ra, &sa);
        cs_energy_entry_get(b, i, &cb, &ab, &pb, &lb, &rb, &sb);
        if (strcmp(ca, cb) != 0 || (aa == NULL) != (ab == NULL) || (aa && strcmp(aa, ab) != 0) ||
            pa != pb || la != lb || ra != rb)
            return false;
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 1 << 20)
        return 0;
    init();
    bool v02 = data[0] & 1;
    const char *text = (const char *)data + 1;
    size_t n = size - 1, ert_n = n;
    const char *art = "";
    size_t art_n = 0;
    for (size_t i = 0; i + 4 <= n; i++)
        if (text[i] == '\n' && text[i + 1] == '%' && text[i + 2] == '%' && text[i + 3] == '\n') {
            ert_n = i + 1;
            art = text + i + 4;
            art_n = n - i - 4;
            break;
        }
    put(paths[0], text, ert_n);
    put(paths[1], art, art_n);
    const char *map = v02 ? CIMSIM_SOURCE_DIR "/tests/data/accelergy/v02.map.cfg"
                          : CIMSIM_SOURCE_DIR "/tests/data/accelergy/www-45nm.map.cfg";
    cs_err err;
    cs_err_init(&err);
    cs_energy_table *t = NULL;
    if (cs_accelergy_import(paths[0], paths[1], map, v02 ? base45 : NULL, &t, &err) != CS_OK) {
        require(err.count > 0 && t == NULL);
        cs_err_free(&err);
        return 0;
    }
    /* Written as a table file, it loads back. */
    cs_buf b;
    cs_buf_init(&b);
    cs_energy_table_write_cfg(t, &b);
    cs_cfg *cfg = NULL;
    cs_energy_table *back = NULL;
    require(cs_cfg_parse_string("<imported>", b.data, NULL, &cfg, &err) == CS_OK);
    if (cs_energy_table_from_cfg(cfg, "<imported>", &back, &err) != CS_OK)
        require(err.count > 0); /* incomplete tables are refused by the loader: fine */
    cs_energy_table_destroy(back);
    cs_cfg_destroy(cfg);
    cs_buf_free(&b);
    /* Exported and imported again: the same figures. */
    cs_buf e, a, m;
    cs_buf_init(&e);
    cs_buf_init(&a);
    cs_buf_init(&m);
    cs_accelergy_export(t, "system.gpu", 1000, &e, &a, &m);
    put(paths[2], e.data ? e.data : "", e.len);
    put(paths[3], a.data ? a.data : "", a.len);
    put(paths[4], m.data ? m.data : "", m.len);
    cs_energy_table *again = NULL;
    cs_err_free(&err);
    cs_err_init(&err);
    require(cs_accelergy_import(paths[2], paths[3], paths[4], NULL, &again, &err) == CS_OK);
    require(same_figures(t, again));
    cs_energy_table_destroy(again);
    cs_buf_free(&e);
    cs_buf_free(&a);
    cs_buf_free(&m);
    cs_energy_table_destroy(t);
    cs_err_free(&err);
    return 0;
}

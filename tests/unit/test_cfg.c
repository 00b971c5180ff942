/* test_cfg — configuration loading (sim/core/cfg.h): @include expansion with true file:line,
 * every kind of error with its exact message, defaults, cross-field checks, --set overrides,
 * dumps with origins, hashes, describe, and freeing. Data files live in tests/data/cfg/. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "cfg.h"
#include "vfs.h"

#define DATA CIMSIM_SOURCE_DIR "/tests/data/cfg"
enum { PATH_MAX_TEST = 512 };

/* ---- a small schema exercising every key type -------------------------------------------- */

typedef struct timing_p {
    uint64_t trcd_ps;
    uint64_t trp_ps;
} timing_p;

typedef struct l2_p {
    uint64_t size_bytes;
    int64_t assoc;
    uint64_t line_bytes;
    uint64_t sector_bytes;
    int policy;
    bool enabled;
    double read_pj;
    double hit_rate;
    timing_p timing;
} l2_p;

typedef struct cache_p {
    uint64_t size_bytes;
    int64_t ways;
} cache_p;

typedef struct level_p {
    char *name;
    int64_t macros;
} level_p;

typedef struct gpu_p {
    int64_t sms;
    uint64_t clock_khz;
    char *name;
    l2_p l2;
    cs_cfg_map caches;
    cs_cfg_list levels;
    cs_cfg_map weights;
    cs_cfg_ints sizes;
    cs_cfg_strs tags;
    double leak_mw;
    double area_mm2;
} gpu_p;

static const cs_cfg_key timing_keys[] = {
    CS_CFG_K(timing_p, trcd_ps, "tRCD", CS_CFG_TIME, true, NULL, 1, 100000, "ps",
             "Row to column delay."),
    CS_CFG_K(timing_p, trp_ps, "tRP", CS_CFG_TIME, false, "14ns", CS_CFG_NORANGE, "ps",
             "Row precharge time."),
};
static const cs_cfg_schema timing_schema =
    CS_CFG_SCHEMA("timing", timing_p, timing_keys, NULL, "DRAM timing parameters.");

static const char *const policies[] = {"frfcfs", "fcfs", NULL};

static void l2_check(const void *params, cs_cfg_check *chk)
{
    const l2_p *p = params;
    if (p->assoc & (p->assoc - 1))
        cs_cfg_fail(chk, "assoc", "must be a power of two (got %lld)", (long long)p->assoc);
    if (p->sector_bytes && p->line_bytes % p->sector_bytes)
        cs_cfg_fail2(chk, "line", "sector", "must be a multiple of the sector size");
    if (p->timing.trp_ps < p->timing.trcd_ps)
        cs_cfg_fail2(chk, "timing.tRP", "timing.tRCD", "must not be shorter than tRCD");
}

static const cs_cfg_key l2_keys[] = {
    CS_CFG_K(l2_p, size_bytes, "size", CS_CFG_BYTES, true, NULL, 1024, 1073741824.0, "bytes",
             "Capacity of the L2."),
    CS_CFG_K(l2_p, assoc, "assoc", CS_CFG_INT, false, "16", 1, 64, "ways", "Associativity."),
    CS_CFG_K(l2_p, line_bytes, "line", CS_CFG_BYTES, false, "128B", CS_CFG_NORANGE, "bytes",
             "Line size."),
    CS_CFG_K(l2_p, sector_bytes, "sector", CS_CFG_BYTES, false, "32B", CS_CFG_NORANGE, "bytes",
             "Sector size."),
    CS_CFG_E(l2_p, policy, "policy", policies, "frfcfs", "Scheduling policy."),
    CS_CFG_K(l2_p, enabled, "enabled", CS_CFG_BOOL, false, "true", CS_CFG_NORANGE, NULL,
             "Whether the L2 exists."),
    CS_CFG_K(l2_p, read_pj, "read_energy", CS_CFG_ENERGY, false, "0.5pJ", 0, 100, "pJ",
             "Energy of one read."),
    CS_CFG_K(l2_p, hit_rate, "hit_rate", CS_CFG_FLOAT, false, "0.9", 0, 1, NULL,
             "Assumed hit rate."),
    CS_CFG_G(l2_p, timing, "timing", &timing_schema, "Timing of the backing DRAM."),
};
static const cs_cfg_schema l2_schema =
    CS_CFG_SCHEMA("l2", l2_p, l2_keys, l2_check, "The shared L2 cache.");

static const cs_cfg_key cache_keys[] = {
    CS_CFG_K(cache_p, size_bytes, "size", CS_CFG_BYTES, true, NULL, CS_CFG_NORANGE, "bytes",
             "Capacity."),
    CS_CFG_K(cache_p, ways, "ways", CS_CFG_INT, false, "8", 1, 32, "ways", "Associativity."),
};
static const cs_cfg_schema cache_schema =
    CS_CFG_SCHEMA("cache", cache_p, cache_keys, NULL, "One named cache.");

static const cs_cfg_key level_keys[] = {
    CS_CFG_K(level_p, name, "name", CS_CFG_STRING, true, NULL, CS_CFG_NORANGE, NULL,
             "Level name."),
    CS_CFG_K(level_p, macros, "macros", CS_CFG_INT, false, "1", 0, 64, NULL,
             "Macros per instance."),
};
static const cs_cfg_schema level_schema =
    CS_CFG_SCHEMA("level", level_p, level_keys, NULL, "One CiM placement.");

static const cs_cfg_key gpu_keys[] = {
    CS_CFG_K(gpu_p, sms, "sms", CS_CFG_INT, true, NULL, 1, 256, "SMs", "Number of SMs."),
    CS_CFG_K(gpu_p, clock_khz, "clock", CS_CFG_FREQ, false, "1410MHz", 1000, 5000000, "kHz",
             "SM clock."),
    CS_CFG_K(gpu_p, name, "name", CS_CFG_STRING, false, "a100", CS_CFG_NORANGE, NULL,
             "Display name | with a pipe."),
    CS_CFG_G(gpu_p, l2, "l2", &l2_schema, "The L2."),
    {.name = "caches", .type = CS_CFG_MAP, .offset = offsetof(gpu_p, caches), .min = 1,
     .max = 0, .help = "Named caches.", .group = &cache_schema},
    {.name = "levels", .type = CS_CFG_LIST, .offset = offsetof(gpu_p, levels), .min = 1,
     .max = 0, .help = "CiM placements.", .group = &level_schema},
    {.name = "weights", .type = CS_CFG_MAP, .offset = offsetof(gpu_p, weights), .min = 1,
     .max = 0, .help = "Weight footprints.", .elem = CS_CFG_BYTES},
    CS_CFG_K(gpu_p, sizes, "sizes", CS_CFG_INT_LIST, false, "1, 2, 4", 1, 4e9, NULL,
             "Tile sizes."),
    CS_CFG_K(gpu_p, tags, "tags", CS_CFG_STR_LIST, false, NULL, CS_CFG_NORANGE, NULL, "Tags."),
    CS_CFG_K(gpu_p, leak_mw, "leak", CS_CFG_POWER, false, "0", CS_CFG_NORANGE, "mW", "Leakage."),
    CS_CFG_K(gpu_p, area_mm2, "area", CS_CFG_AREA, false, "826mm2", CS_CFG_NORANGE, "mm2",
             "Die area."),
};
static const cs_cfg_schema gpu_schema =
    CS_CFG_SCHEMA("gpu", gpu_p, gpu_keys, NULL, "The whole GPU.");

/* ---- helpers ------------------------------------------------------------------------------ */

static cs_err err;

/* Parses text named "t.cfg"; asserts success. */
static cs_cfg *parse(const char *text)
{
    cs_cfg *cfg = NULL;
    cs_err_init(&err);
    cs_status st = cs_cfg_parse_string("t.cfg", text, NULL, &cfg, &err);
    cr_assert_eq(st, CS_OK, "parse failed: %s", err.count ? err.msg[0] : "(no message)");
    cr_assert_not_null(cfg);
    return cfg;
}

/* Parses and binds text against the gpu schema; returns the status, messages in err. */
static cs_status bind_text(const char *text, gpu_p *p)
{
    memset(p, 0, sizeof *p);
    cs_cfg *cfg = parse(text);
    cs_status st = cs_cfg_bind(cfg, "", &gpu_schema, p, &err);
    cs_cfg_destroy(cfg);
    return st;
}

static void expect_errors(int n)
{
    if (err.count != n)
        for (int i = 0; i < err.count && i < CS_ERR_MAX; i++)
            fprintf(stderr, "  message %d: %s\n", i, err.msg[i]);
    cr_assert_eq(err.count, n, "expected %d messages, got %d", n, err.count);
}

static void expect_msg(int i, const char *want)
{
    cr_assert_lt(i, err.count, "no message %d (want '%s')", i, want);
    cr_assert_str_eq(err.msg[i], want);
}

/* Binds one l2 group body (text inside l2 = { ... }) with sms = 1 on line 1. */
static cs_status bind_l2(const char *body, gpu_p *p)
{
    char text[2048];
    snprintf(text, sizeof text, "sms = 1;\nl2 = {\n%s};\n", body);
    return bind_text(text, p);
}

/* ---- parsing and @include ----------------------------------------------------------------- */

Test(cfg, syntax_error_cites_line)
{
    cs_cfg *cfg = NULL;
    cs_err_init(&err);
    cs_status st = cs_cfg_parse_string("t.cfg", "sms = 4;\nl2 = {\n  assoc = ;\n};\n", NULL, &cfg,
                                       &err);
    cr_assert_eq(st, CS_FORMAT);
    cr_assert_null(cfg);
    expect_errors(1);
    expect_msg(0, "t.cfg:3: error: syntax error: syntax error");
}

Test(cfg, syntax_error_at_end_of_input)
{
    cs_cfg *cfg = NULL;
    cs_err_init(&err);
    cr_assert_neq(cs_cfg_parse_string("t.cfg", "a = 1;\nb = {\n  c = 2;\n", NULL, &cfg, &err),
                  CS_OK);
    expect_errors(1);
    expect_msg(0, "t.cfg:3: error: syntax error: syntax error");
}

Test(cfg, duplicate_setting_is_a_syntax_error)
{
    cs_cfg *cfg = NULL;
    cs_err_init(&err);
    cr_assert_neq(cs_cfg_parse_string("t.cfg", "sms = 1;\n\nsms = 2;\n", NULL, &cfg, &err), CS_OK);
    expect_msg(0, "t.cfg:3: error: syntax error: duplicate setting name");
}

Test(cfg, missing_file)
{
    cs_cfg *cfg = NULL;
    cs_err_init(&err);
    cr_assert_eq(cs_cfg_parse_file(DATA "/no-such.cfg", &cfg, &err), CS_NOT_FOUND);
    expect_msg(0, DATA "/no-such.cfg: error: cannot open: No such file or directory");
    cs_err_init(&err);
    cr_assert_eq(cs_cfg_parse_file("builtin:arch/no-such.cfg", &cfg, &err), CS_NOT_FOUND);
    expect_msg(0, "builtin:arch/no-such.cfg: error: cannot open: no such embedded file");
}

Test(cfg, include_relative_to_including_file)
{
    /* valid.cfg includes parts/l2.cfg, which includes timing.cfg from its own directory. */
    cr_assert_eq(chdir(CIMSIM_SOURCE_DIR), 0);
    cs_cfg *cfg = NULL;
    cs_err_init(&err);
    cr_assert_eq(cs_cfg_parse_file("tests/data/cfg/valid.cfg", &cfg, &err), CS_OK, "%s",
                 err.msg[0]);
    cr_assert_str_eq(cs_cfg_name(cfg), "tests/data/cfg/valid.cfg");
    cr_assert(cs_cfg_has(cfg, "l2.timing.tRCD"));
    cr_assert(cs_cfg_has(cfg, "levels[1].name"));
    cr_assert(!cs_cfg_has(cfg, "levels[2]"));
    cr_assert(!cs_cfg_has(cfg, "l2.nope"));
    cr_assert_str_eq(cs_cfg_top_name(cfg, 0), "sms");
    cr_assert_str_eq(cs_cfg_top_name(cfg, 2), "l2");
    cr_assert_null(cs_cfg_top_name(cfg, 9));
    gpu_p p = {0};
    cr_assert_eq(cs_cfg_bind(cfg, "", &gpu_schema, &p, &err), CS_OK, "%s", err.msg[0]);
    cr_assert_eq(p.l2.timing.trcd_ps, 14000);
    cr_assert_eq(p.l2.size_bytes, 40ULL << 20);
    cr_assert_eq(p.l2.policy, 1);
    /* Settings keep their true file and line: the dump shows it. */
    cs_buf b;
    cs_buf_init(&b);
    cs_cfg_dump(cfg, "l2", &l2_schema, &p.l2, &b);
    cr_assert(strstr(b.data, "size = \"40MiB\";  # tests/data/cfg/parts/l2.cfg:3\n"), "%s", b.data);
    cr_assert(strstr(b.data, "tRCD = \"14ns\";  # tests/data/cfg/parts/timing.cfg:2\n"), "%s",
              b.data);
    cs_buf_free(&b);
    cs_cfg_params_free(&gpu_schema, &p);
    cs_cfg_destroy(cfg);
}

Test(cfg, missing_include_file)
{
    cr_assert_eq(chdir(DATA), 0);
    cs_cfg *cfg = NULL;
    cs_err_init(&err);
    cr_assert_eq(cs_cfg_parse_file("inc_missing.cfg", &cfg, &err), CS_NOT_FOUND);
    cr_assert_null(cfg);
    expect_errors(1);
    expect_msg(0, "inc_missing.cfg:3: error: @include: cannot open 'nope.cfg': No such file or "
                  "directory");
}

Test(cfg, missing_builtin_include)
{
    cr_assert_eq(chdir(DATA), 0);
    cs_cfg *cfg = NULL;
    cs_err_init(&err);
    cr_assert_eq(cs_cfg_parse_file("inc_builtin_missing.cfg", &cfg, &err), CS_NOT_FOUND);
    expect_msg(0, "inc_builtin_missing.cfg:1: error: @include: cannot open "
                  "'builtin:arch/no-such-file.cfg': no such embedded file");
}

Test(cfg, syntax_error_inside_included_file)
{
    cr_assert_eq(chdir(DATA), 0);
    cs_cfg *cfg = NULL;
    cs_err_init(&err);
    cr_assert_eq(cs_cfg_parse_file("inc_syntax.cfg", &cfg, &err), CS_FORMAT);
    expect_errors(1);
    expect_msg(0, "parts/syntax.cfg:3: error: syntax error: syntax error");
}

Test(cfg, bind_error_inside_included_file)
{
    cr_assert_eq(chdir(DATA), 0);
    cs_cfg *cfg = NULL;
    cs_err_init(&err);
    cr_assert_eq(cs_cfg_parse_file("inc_error.cfg", &cfg, &err), CS_OK);
    gpu_p p = {0};
    cr_assert_eq(cs_cfg_bind(cfg, "", &gpu_schema, &p, &err), CS_INVALID);
    expect_errors(1);
    expect_msg(0, "parts/bad_l2.cfg:4: error: l2.timing.tRCD: bad time: finer than 1 ps "
                  "(got \"0.5ps\")");
    cs_cfg_params_free(&gpu_schema, &p);
    cs_cfg_destroy(cfg);
}

Test(cfg, include_cycle)
{
    cr_assert_eq(chdir(DATA), 0);
    cs_cfg *cfg = NULL;
    cs_err_init(&err);
    cr_assert_eq(cs_cfg_parse_file("cycle_a.cfg", &cfg, &err), CS_INVALID);
    expect_errors(1);
    expect_msg(0, "cycle/b.cfg:2: error: @include: include cycle: cycle_a.cfg -> cycle/b.cfg -> "
                  "cycle/../cycle_a.cfg");
}

Test(cfg, include_with_absolute_data_path)
{
    cs_cfg *cfg = NULL;
    cs_err_init(&err);
    cr_assert_eq(cs_cfg_parse_file(DATA "/inc_missing.cfg", &cfg, &err), CS_NOT_FOUND);
    expect_msg(0, DATA "/inc_missing.cfg:3: error: @include: cannot open '" DATA
                       "/nope.cfg': No such file or directory");
}

Test(cfg, include_from_string_uses_base_dir)
{
    cs_cfg *cfg = NULL;
    cs_err_init(&err);
    cr_assert_eq(cs_cfg_parse_string("<cmdline>", "sms = 3;\n@include \"parts/l2.cfg\"\n", DATA,
                                     &cfg, &err),
                 CS_OK, "%s", err.msg[0]);
    cr_assert(cs_cfg_has(cfg, "l2.timing.tRCD"));
    cs_cfg_destroy(cfg);
    cs_err_init(&err);
    cr_assert_neq(cs_cfg_parse_string("<cmdline>", "\n@include \"parts/l2.cfg\"\n", "/nonexistent",
                                      &cfg, &err),
                  CS_OK);
    expect_msg(0, "<cmdline>:2: error: @include: cannot open '/nonexistent/parts/l2.cfg': No such "
                  "file or directory");
}

Test(cfg, malformed_include_lines)
{
    cs_cfg *cfg = NULL;
    cs_err_init(&err);
    cr_assert_eq(cs_cfg_parse_string("t.cfg", "@include nope.cfg\n  @include \"x.cfg\" junk\n",
                                     NULL, &cfg, &err),
                 CS_FORMAT);
    expect_errors(2);
    expect_msg(0, "t.cfg:1: error: @include: expected a quoted path");
    expect_msg(1, "t.cfg:2: error: @include: unexpected text after the path");
}

Test(cfg, include_in_comments_and_strings_is_text)
{
    cs_cfg *cfg = parse("/* a block comment\n@include \"nope.cfg\"\n*/\nname = \"x\n"
                        "@include \\\"y\\\"\";\n# @include \"z.cfg\"\nsms = 2;\n"
                        "l2 = { size = 1024; timing = { tRCD = \"1ns\"; }; };\n");
    gpu_p p = {0};
    cr_assert_eq(cs_cfg_bind(cfg, "", &gpu_schema, &p, &err), CS_OK, "%s", err.msg[0]);
    cr_assert_str_eq(p.name, "x\n@include \"y\"");
    cs_cfg_params_free(&gpu_schema, &p);
    cs_cfg_destroy(cfg);
}

Test(cfg, include_depth_is_capped)
{
    /* d0 includes d1 includes ... d17: distinct files, no cycle, one level too deep. */
    char dir[] = "/tmp/test_cfg_depth_XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char path[PATH_MAX_TEST];
    for (int i = 0; i <= 17; i++) {
        snprintf(path, sizeof path, "%s/d%d.cfg", dir, i);
        FILE *f = fopen(path, "w");
        cr_assert_not_null(f);
        if (i < 17)
            fprintf(f, "@include \"d%d.cfg\"\n", i + 1);
        else
            fprintf(f, "sms = 1;\n");
        fclose(f);
    }
    cs_cfg *cfg = NULL;
    cs_err_init(&err);
    cr_assert_eq(chdir(dir), 0);
    cr_assert_eq(cs_cfg_parse_file("d0.cfg", &cfg, &err), CS_INVALID);
    expect_errors(1);
    expect_msg(0, "d16.cfg:1: error: @include: includes nested more than 16 deep");
    /* One file fewer is fine. */
    cs_err_init(&err);
    cr_assert_eq(cs_cfg_parse_file("d1.cfg", &cfg, &err), CS_OK, "%s", err.msg[0]);
    cr_assert(cs_cfg_has(cfg, "sms"));
    cs_cfg_destroy(cfg);
    for (int i = 0; i <= 17; i++) {
        snprintf(path, sizeof path, "%s/d%d.cfg", dir, i);
        remove(path);
    }
    remove(dir);
}

Test(cfg, large_integers_are_not_truncated)
{
    /* libconfig 1.5 would read 3000000000 as -1294967296; arrays may mix magnitudes. */
    gpu_p p;
    cr_assert_eq(bind_text("sms = 1;\nl2 = { size = 1073741824; timing = { tRCD = \"1ns\"; }; };\n"
                           "sizes = [1, 3000000000, 0x10];\n",
                           &p),
                 CS_OK, "%s", err.msg[0]);
    cr_assert_eq(p.l2.size_bytes, 1073741824ULL);
    cr_assert_eq(p.sizes.n, 3);
    cr_assert_eq(p.sizes.v[1], 3000000000LL);
    cr_assert_eq(p.sizes.v[2], 16);
    cs_cfg_params_free(&gpu_schema, &p);
    cs_cfg *cfg = NULL;
    cs_err_init(&err);
    cr_assert_eq(cs_cfg_parse_string("t.cfg", "a = 1;\nb = 99999999999999999999;\n", NULL, &cfg,
                                     &err),
                 CS_FORMAT);
    expect_msg(0, "t.cfg:2: error: syntax error: integer out of 64-bit range "
                  "(got 99999999999999999999)");
}

/* ---- binding ------------------------------------------------------------------------------ */

Test(cfg, valid_file_binds_every_type)
{
    cs_cfg *cfg = NULL;
    cs_err_init(&err);
    cr_assert_eq(cs_cfg_parse_file(DATA "/valid.cfg", &cfg, &err), CS_OK, "%s", err.msg[0]);
    gpu_p p = {0};
    cr_assert_eq(cs_cfg_bind(cfg, "", &gpu_schema, &p, &err), CS_OK, "%s", err.msg[0]);
    cs_cfg_destroy(cfg); /* params must not point into the parsed document */
    cr_assert_eq(p.sms, 108);
    cr_assert_eq(p.clock_khz, 1410000);
    cr_assert_str_eq(p.name, "a100");
    cr_assert_eq(p.l2.size_bytes, 40ULL << 20);
    cr_assert_eq(p.l2.assoc, 16);
    cr_assert_eq(p.l2.policy, 1);
    cr_assert(p.l2.enabled);
    cr_assert_eq(p.l2.read_pj, 0.5);
    cr_assert_eq(p.l2.timing.trp_ps, 14000);
    cr_assert_eq(p.caches.n, 2);
    cr_assert_str_eq(p.caches.names[0], "l1");
    cr_assert_str_eq(p.caches.names[1], "tex");
    const cache_p *c = p.caches.items;
    cr_assert_eq(c[0].size_bytes, 192 * 1024);
    cr_assert_eq(c[0].ways, 4);
    cr_assert_eq(c[1].ways, 8);
    cr_assert_eq(p.levels.n, 2);
    const level_p *lv = p.levels.items;
    cr_assert_str_eq(lv[0].name, "rf");
    cr_assert_eq(lv[0].macros, 4);
    cr_assert_str_eq(lv[1].name, "smem");
    cr_assert_eq(lv[1].macros, 1);
    cr_assert_eq(p.weights.n, 2);
    const uint64_t *w = p.weights.items;
    cr_assert_eq(w[0], 1 << 20);
    cr_assert_eq(w[1], 4096);
    cr_assert_eq(p.sizes.n, 3);
    cr_assert_eq(p.sizes.v[0], 8);
    cr_assert_eq(p.tags.n, 2);
    cr_assert_str_eq(p.tags.v[0], "fast");
    cr_assert_str_eq(p.tags.v[1], "7"); /* numbers are kept as text */
    cr_assert_eq(p.area_mm2, 826.0);
    cs_cfg_params_free(&gpu_schema, &p);
    cr_assert_null(p.name);
    cr_assert_eq(p.caches.n, 0);
}

Test(cfg, defaults_are_filled)
{
    gpu_p p;
    cr_assert_eq(bind_l2("  size = \"1MiB\";\n  timing = { tRCD = \"10ns\"; };\n", &p), CS_OK, "%s",
                 err.msg[0]);
    cr_assert_eq(p.clock_khz, 1410000);
    cr_assert_str_eq(p.name, "a100");
    cr_assert_eq(p.l2.assoc, 16);
    cr_assert_eq(p.l2.line_bytes, 128);
    cr_assert_eq(p.l2.sector_bytes, 32);
    cr_assert_eq(p.l2.policy, 0);
    cr_assert(p.l2.enabled);
    cr_assert_eq(p.l2.read_pj, 0.5);
    cr_assert_eq(p.l2.hit_rate, 0.9);
    cr_assert_eq(p.l2.timing.trp_ps, 14000);
    cr_assert_eq(p.caches.n, 0);
    cr_assert_eq(p.levels.n, 0);
    cr_assert_eq(p.sizes.n, 3);
    cr_assert_eq(p.sizes.v[2], 4);
    cr_assert_eq(p.tags.n, 0);
    cr_assert_null(p.tags.v);
    cr_assert_eq(p.leak_mw, 0.0);
    cr_assert_eq(p.area_mm2, 826.0);
    cs_cfg_params_free(&gpu_schema, &p);
}

Test(cfg, missing_required_key)
{
    gpu_p p;
    cr_assert_eq(bind_l2("  assoc = 8;\n  timing = {\n    tRP = \"20ns\";\n  };\n", &p),
                 CS_INVALID);
    expect_errors(2);
    expect_msg(0, "t.cfg:4: error: l2.timing.tRCD: missing required key");
    expect_msg(1, "t.cfg:2: error: l2.size: missing required key");
    cs_cfg_params_free(&gpu_schema, &p);
}

Test(cfg, missing_group_reports_at_parent_and_root)
{
    gpu_p p;
    /* No l2 at all: its required keys are cited at the root (the first setting's line). */
    cr_assert_eq(bind_text("\n# comment\nsms = 2;\n", &p), CS_INVALID);
    expect_errors(2);
    expect_msg(0, "t.cfg:3: error: l2.size: missing required key");
    expect_msg(1, "t.cfg:3: error: l2.timing.tRCD: missing required key");
    cs_cfg_params_free(&gpu_schema, &p);
    /* l2 without timing: timing's required key is cited at l2's line. */
    cr_assert_eq(bind_text("sms = 2;\n\nl2 = {\n  size = 4096;\n};\n", &p), CS_INVALID);
    expect_errors(1);
    expect_msg(0, "t.cfg:3: error: l2.timing.tRCD: missing required key");
    cs_cfg_params_free(&gpu_schema, &p);
    /* An empty file: line 1. */
    cr_assert_eq(bind_text("", &p), CS_INVALID);
    expect_msg(0, "t.cfg:1: error: sms: missing required key");
    cs_cfg_params_free(&gpu_schema, &p);
}

Test(cfg, missing_required_group_reports_at_its_parent)
{
    static const cs_cfg_key keys[] = {
        {.name = "timing", .type = CS_CFG_GROUP, .offset = 0, .required = true, .min = 1,
         .max = 0, .group = &timing_schema, .help = "Required timing."},
    };
    static const cs_cfg_schema sch = {"hbm", "HBM.", keys, 1, sizeof(timing_p), NULL};
    cs_cfg *cfg = parse("sms = 1;\n\nhbm = {\n  channels = 8;\n};\n");
    timing_p t = {0};
    cr_assert_eq(cs_cfg_bind(cfg, "hbm", &sch, &t, &err), CS_INVALID);
    expect_errors(2);
    expect_msg(0, "t.cfg:4: error: hbm.channels: unknown key (valid keys: timing)");
    expect_msg(1, "t.cfg:3: error: hbm.timing: missing required key");
    cs_err_init(&err);
    cr_assert_eq(cs_cfg_bind(cfg, "", &sch, &t, &err), CS_INVALID);
    expect_msg(2, "t.cfg:1: error: timing: missing required key");
    cs_cfg_destroy(cfg);
}

Test(cfg, wrong_types)
{
    gpu_p p;
    cr_assert_eq(bind_text("sms = \"abc\";\nclock = 1410;\nname = 5;\n"
                           "l2 = { size = \"1MiB\"; assoc = 16.0; enabled = 1; hit_rate = \"x\";\n"
                           "  policy = 3; timing = 7; };\n"
                           "caches = 4;\nlevels = ( 1 );\nsizes = [\"a\"];\ntags = { x = 1; };\n",
                           &p),
                 CS_INVALID);
    expect_errors(12);
    expect_msg(0, "t.cfg:1: error: sms: expected an integer (got \"abc\")");
    expect_msg(1, "t.cfg:2: error: clock: bad unit: missing unit, write e.g. \"1410MHz\" "
                  "(got 1410)");
    expect_msg(2, "t.cfg:3: error: name: expected a string (got 5)");
    expect_msg(3, "t.cfg:4: error: l2.assoc: expected an integer (got 16.0)");
    expect_msg(4, "t.cfg:4: error: l2.enabled: expected true or false (got 1)");
    expect_msg(5, "t.cfg:4: error: l2.hit_rate: expected a number (got \"x\")");
    expect_msg(6, "t.cfg:5: error: l2.policy: must be one of frfcfs, fcfs (got 3)");
    expect_msg(7, "t.cfg:5: error: l2.timing: expected a group { ... } (got 7)");
    expect_msg(8, "t.cfg:6: error: caches: expected a group { name = ...; ... } (got 4)");
    expect_msg(9, "t.cfg:7: error: levels[0]: expected a group { ... } (got 1)");
    expect_msg(10, "t.cfg:8: error: sizes[0]: expected an integer (got \"a\")");
    expect_msg(11, "t.cfg:9: error: tags: expected an array of strings, e.g. [\"a\", \"b\"] "
                   "(got a group)");
    cs_cfg_params_free(&gpu_schema, &p);
}

Test(cfg, out_of_range_in_stored_units)
{
    gpu_p p;
    cr_assert_eq(bind_text("sms = 300;\nclock = \"5.5GHz\";\n"
                           "l2 = {\n  size = \"2GiB\";\n  assoc = 100;\n  read_energy = \"1nJ\";\n"
                           "  hit_rate = 1.5;\n  timing = { tRCD = \"101ns\"; };\n};\n"
                           "sizes = [1, 0];\ncaches = { a = { size = 1; ways = 33; }; };\n",
                           &p),
                 CS_INVALID);
    expect_errors(9);
    expect_msg(0, "t.cfg:1: error: sms: must be between 1 and 256 (got 300)");
    expect_msg(1, "t.cfg:2: error: clock: must be between 1MHz and 5GHz (got \"5.5GHz\")");
    expect_msg(2, "t.cfg:4: error: l2.size: must be between 1KiB and 1GiB (got \"2GiB\")");
    expect_msg(3, "t.cfg:5: error: l2.assoc: must be between 1 and 64 (got 100)");
    expect_msg(4, "t.cfg:6: error: l2.read_energy: must be between 0pJ and 100pJ (got \"1nJ\")");
    expect_msg(5, "t.cfg:7: error: l2.hit_rate: must be between 0 and 1 (got 1.5)");
    expect_msg(6, "t.cfg:8: error: l2.timing.tRCD: must be between 1ps and 100ns "
                  "(got \"101ns\")");
    expect_msg(7, "t.cfg:10: error: sizes[1]: must be between 1 and 4000000000 (got 0)");
    expect_msg(8, "t.cfg:11: error: caches.a.ways: must be between 1 and 32 (got 33)");
    cs_cfg_params_free(&gpu_schema, &p);
}

Test(cfg, bad_units)
{
    gpu_p p;
    cr_assert_eq(bind_l2("  size = \"40MiBB\";\n  line = \"48KB\";\n  sector = -4;\n"
                         "  read_energy = \"0.5\";\n  timing = { tRCD = \"2 nsec\"; };\n",
                         &p),
                 CS_INVALID);
    expect_errors(5);
    expect_msg(0, "t.cfg:3: error: l2.size: bad unit: unknown unit 'MiBB' (got \"40MiBB\")");
    expect_msg(1, "t.cfg:4: error: l2.line: bad unit: ambiguous unit (use KiB for 1024 bytes or "
                  "kB for 1000) (got \"48KB\")");
    expect_msg(2, "t.cfg:5: error: l2.sector: bad size: must not be negative (got -4)");
    expect_msg(3, "t.cfg:6: error: l2.read_energy: bad unit: missing unit, write e.g. \"0.15pJ\" "
                  "(got \"0.5\")");
    expect_msg(4, "t.cfg:7: error: l2.timing.tRCD: bad unit: unknown unit 'nsec' "
                  "(got \"2 nsec\")");
    cs_cfg_params_free(&gpu_schema, &p);
}

Test(cfg, enum_choices)
{
    gpu_p p;
    cr_assert_eq(bind_l2("  size = 4096;\n  policy = \"lru\";\n  timing = { tRCD = \"1ns\"; };\n",
                         &p),
                 CS_INVALID);
    expect_errors(1);
    expect_msg(0, "t.cfg:4: error: l2.policy: must be one of frfcfs, fcfs (got \"lru\")");
    cs_cfg_params_free(&gpu_schema, &p);
}

Test(cfg, unknown_keys_at_every_level)
{
    gpu_p p;
    cr_assert_eq(bind_text("sms = 1;\nsmss = 2;\nl2 = {\n  size = 4096;\n  asoc = 8;\n"
                           "  timing = { tRCD = \"1ns\"; trcd = \"1ns\"; };\n  zzz = 1;\n};\n"
                           "caches = { a = { size = 1; wayz = 2; }; };\n"
                           "levels = ( { name = \"rf\"; macro = 2; } );\n",
                           &p),
                 CS_INVALID);
    expect_errors(6);
    expect_msg(0, "t.cfg:2: error: smss: unknown key (did you mean 'sms'?)");
    expect_msg(1, "t.cfg:5: error: l2.asoc: unknown key (did you mean 'assoc'?)");
    expect_msg(2, "t.cfg:6: error: l2.timing.trcd: unknown key (did you mean 'tRCD'?)");
    expect_msg(3, "t.cfg:7: error: l2.zzz: unknown key (valid keys: size, assoc, line, sector, "
                  "policy, enabled, read_energy, hit_rate, timing)");
    expect_msg(4, "t.cfg:9: error: caches.a.wayz: unknown key (did you mean 'ways'?)");
    expect_msg(5, "t.cfg:10: error: levels[0].macro: unknown key (did you mean 'macros'?)");
    cs_cfg_params_free(&gpu_schema, &p);
}

Test(cfg, three_mistakes_three_errors)
{
    cs_cfg *cfg = NULL;
    cs_err_init(&err);
    cr_assert_eq(chdir(DATA), 0);
    cr_assert_eq(cs_cfg_parse_file("three.cfg", &cfg, &err), CS_OK);
    gpu_p p = {0};
    cr_assert_eq(cs_cfg_bind(cfg, "", &gpu_schema, &p, &err), CS_INVALID);
    expect_errors(3);
    expect_msg(0, "three.cfg:3: error: l2.size: bad unit: unknown unit 'MiBB' (got \"40MiBB\")");
    expect_msg(1, "three.cfg:4: error: l2.assoc: must be between 1 and 64 (got 100)");
    expect_msg(2, "three.cfg:5: error: l2.asoc: unknown key (did you mean 'assoc'?)");
    cs_cfg_params_free(&gpu_schema, &p);
    cs_cfg_destroy(cfg);
}

Test(cfg, errors_are_capped_but_counted)
{
    cs_buf b;
    cs_buf_init(&b);
    cs_buf_puts(&b, "sms = 1;\nl2 = { size = 4096; timing = { tRCD = \"1ns\"; }; };\n");
    for (int i = 0; i < 25; i++)
        cs_buf_printf(&b, "bogus%02d = %d;\n", i, i);
    gpu_p p;
    cr_assert_eq(bind_text(b.data, &p), CS_INVALID);
    cr_assert_eq(err.count, 25);
    expect_msg(0, "t.cfg:3: error: bogus00: unknown key (valid keys: sms, clock, name, l2, caches, "
                  "levels, weights, sizes, tags, leak, area)");
    expect_msg(19, "t.cfg:22: error: bogus19: unknown key (valid keys: sms, clock, name, l2, "
                   "caches, levels, weights, sizes, tags, leak, area)");
    cs_buf_free(&b);
    cs_cfg_params_free(&gpu_schema, &p);
}

Test(cfg, bind_a_sub_path)
{
    cs_cfg *cfg = parse("sms = 1;\ngpu = {\n  l2 = {\n    size = \"1MiB\";\n"
                        "    timing = { tRCD = \"1ns\"; };\n  };\n};\n");
    l2_p l2 = {0};
    cr_assert_eq(cs_cfg_bind(cfg, "gpu.l2", &l2_schema, &l2, &err), CS_OK, "%s", err.msg[0]);
    cr_assert_eq(l2.size_bytes, 1 << 20);
    /* An absent group binds as defaults; its required keys cite the nearest existing parent. */
    timing_p t = {0};
    cr_assert_eq(cs_cfg_bind(cfg, "gpu.hbm.timing", &timing_schema, &t, &err), CS_INVALID);
    expect_errors(1);
    expect_msg(0, "t.cfg:2: error: gpu.hbm.timing.tRCD: missing required key");
    cs_err_init(&err);
    cr_assert_eq(cs_cfg_bind(cfg, "sms", &timing_schema, &t, &err), CS_INVALID);
    expect_msg(0, "t.cfg:1: error: sms: expected a group { ... } (got 1)");
    cs_cfg_destroy(cfg);
}

Test(cfg, bind_without_a_document_gives_defaults)
{
    timing_p t = {0};
    cs_err_init(&err);
    cr_assert_eq(cs_cfg_bind(NULL, "hbm", &timing_schema, &t, &err), CS_INVALID);
    expect_msg(0, "<no configuration>: error: hbm.tRCD: missing required key");
    cr_assert_eq(t.trp_ps, 14000);
}

/* ---- cross-field checks ------------------------------------------------------------------- */

Test(cfg, cross_field_error_cites_both_lines)
{
    gpu_p p;
    cr_assert_eq(bind_l2("  size = 4096;\n  line = \"100B\";\n  sector = \"32B\";\n"
                         "  timing = { tRCD = \"1ns\"; };\n",
                         &p),
                 CS_INVALID);
    expect_errors(1);
    expect_msg(0, "t.cfg:4: error: l2.line: must be a multiple of the sector size (got \"100B\") "
                  "[see l2.sector at t.cfg:5]");
    cs_cfg_params_free(&gpu_schema, &p);
}

Test(cfg, cross_field_defaults_cite_the_group)
{
    gpu_p p;
    /* line took its default (128B): it is cited at l2's line, its value is the default. */
    cr_assert_eq(bind_l2("  size = 4096;\n  sector = \"48B\";\n  assoc = 12;\n"
                         "  timing = {\n    tRCD = \"20ns\";\n  };\n",
                         &p),
                 CS_INVALID);
    expect_errors(3);
    expect_msg(0, "t.cfg:5: error: l2.assoc: must be a power of two (got 12)");
    expect_msg(1, "t.cfg:2: error: l2.line: must be a multiple of the sector size (got \"128B\") "
                  "[see l2.sector at t.cfg:4]");
    expect_msg(2, "t.cfg:6: error: l2.timing.tRP: must not be shorter than tRCD (got \"14ns\") "
                  "[see l2.timing.tRCD at t.cfg:7]");
    cs_cfg_params_free(&gpu_schema, &p);
}

Test(cfg, cross_field_check_skipped_after_errors)
{
    gpu_p p;
    cr_assert_eq(bind_l2("  size = 4096;\n  assoc = 12;\n  policy = \"x\";\n"
                         "  timing = { tRCD = \"1ns\"; };\n",
                         &p),
                 CS_INVALID);
    expect_errors(1); /* the power-of-two rule is not run on a group that failed to bind */
    expect_msg(0, "t.cfg:5: error: l2.policy: must be one of frfcfs, fcfs (got \"x\")");
    cs_cfg_params_free(&gpu_schema, &p);
}

/* ---- cs_cfg_set --------------------------------------------------------------------------- */

Test(cfg, set_overrides_and_creates_groups)
{
    cs_cfg *cfg = parse("sms = 1;\nl2 = {\n  size = \"1MiB\";\n  assoc = 4;\n};\n");
    cr_assert_eq(cs_cfg_set(cfg, "l2.assoc", "8", "--set", &err), CS_OK);
    cr_assert_eq(cs_cfg_set(cfg, "l2.timing.tRCD", "10ns", "--set", &err), CS_OK);
    cr_assert_eq(cs_cfg_set(cfg, "l2.hit_rate", "0.5", "sweep point 7", &err), CS_OK);
    cr_assert_eq(cs_cfg_set(cfg, "l2.enabled", "false", "--set", &err), CS_OK);
    cr_assert_eq(cs_cfg_set(cfg, "name", "123", "--set", &err), CS_OK);
    cr_assert_eq(cs_cfg_set(cfg, "l2.policy", "\"fcfs\"", "--set", &err), CS_OK);
    cr_assert(cs_cfg_has(cfg, "l2.timing.tRCD"));
    gpu_p p = {0};
    cr_assert_eq(cs_cfg_bind(cfg, "", &gpu_schema, &p, &err), CS_OK, "%s", err.msg[0]);
    cr_assert_eq(p.l2.assoc, 8);
    cr_assert_eq(p.l2.timing.trcd_ps, 10000);
    cr_assert_eq(p.l2.hit_rate, 0.5);
    cr_assert(!p.l2.enabled);
    cr_assert_str_eq(p.name, "123"); /* a string key takes a number given on the command line */
    cr_assert_eq(p.l2.policy, 1);
    cs_buf b;
    cs_buf_init(&b);
    cs_cfg_dump(cfg, "l2", &l2_schema, &p.l2, &b);
    cr_assert_str_eq(b.data, "l2 = {\n"
                             "  size = \"1MiB\";  # t.cfg:3\n"
                             "  assoc = 8;  # --set\n"
                             "  line = \"128B\";  # default\n"
                             "  sector = \"32B\";  # default\n"
                             "  policy = \"fcfs\";  # --set\n"
                             "  enabled = false;  # --set\n"
                             "  read_energy = \"0.5pJ\";  # default\n"
                             "  hit_rate = 0.5;  # sweep point 7\n"
                             "  timing = {\n"
                             "    tRCD = \"10ns\";  # --set\n"
                             "    tRP = \"14ns\";  # default\n"
                             "  };\n"
                             "};\n");
    cs_buf_free(&b);
    cs_cfg_params_free(&gpu_schema, &p);
    cs_cfg_destroy(cfg);
}

Test(cfg, set_errors_cite_the_origin)
{
    static const char text[] =
        "sms = 1;\nl2 = {\n  size = \"1MiB\";\n  timing = { tRCD = \"1ns\"; };\n};\n";
    cs_cfg *cfg = parse(text);
    cr_assert_eq(cs_cfg_set(cfg, "l2.assoc", "12", "--set", &err), CS_OK);
    cr_assert_eq(cs_cfg_set(cfg, "l2.size", "40MiBB", "--set", &err), CS_OK);
    cr_assert_eq(cs_cfg_set(cfg, "l2.sise", "1", "sweep point 3", &err), CS_OK);
    gpu_p p = {0};
    cr_assert_eq(cs_cfg_bind(cfg, "", &gpu_schema, &p, &err), CS_INVALID);
    expect_errors(2);
    expect_msg(0, "--set: error: l2.size: bad unit: unknown unit 'MiBB' (got \"40MiBB\")");
    expect_msg(1, "sweep point 3: error: l2.sise: unknown key (did you mean 'size'?)");
    cs_cfg_params_free(&gpu_schema, &p);
    /* Fix the two; the cross-field rule then fires and cites the origin. */
    cs_err_init(&err);
    cr_assert_eq(cs_cfg_set(cfg, "l2.size", "2MiB", "--set", &err), CS_OK);
    cr_assert_eq(cs_cfg_set(cfg, "l2.sise", "\"x\"", "--set", &err), CS_OK);
    memset(&p, 0, sizeof p);
    cr_assert_eq(cs_cfg_bind(cfg, "", &gpu_schema, &p, &err), CS_INVALID);
    expect_msg(0, "--set: error: l2.sise: unknown key (did you mean 'size'?)");
    cs_cfg_params_free(&gpu_schema, &p);
    cs_cfg_destroy(cfg);
    cfg = parse(text);
    cr_assert_eq(cs_cfg_set(cfg, "l2.assoc", "12", "--set", &err), CS_OK);
    memset(&p, 0, sizeof p);
    cr_assert_eq(cs_cfg_bind(cfg, "", &gpu_schema, &p, &err), CS_INVALID);
    expect_errors(1);
    expect_msg(0, "--set: error: l2.assoc: must be a power of two (got 12)");
    cs_cfg_params_free(&gpu_schema, &p);
    cs_cfg_destroy(cfg);
}

Test(cfg, set_rejects_bad_paths)
{
    cs_cfg *cfg = parse("sms = 1;\nl2 = { size = 1; };\nlevels = ( { name = \"a\"; } );\n");
    cr_assert_eq(cs_cfg_set(cfg, "l2..assoc", "1", "--set", &err), CS_USAGE);
    expect_msg(0, "--set: error: l2..assoc: not a valid key path (expected names joined by '.', "
                  "e.g. l2.assoc)");
    cs_err_init(&err);
    cr_assert_eq(cs_cfg_set(cfg, "sms.x", "1", "--set", &err), CS_INVALID);
    expect_msg(0, "--set: error: sms.x: 'sms' is not a group");
    cs_err_init(&err);
    cr_assert_eq(cs_cfg_set(cfg, "l2", "1", "--set", &err), CS_INVALID);
    expect_msg(0, "--set: error: l2: cannot replace a group with a value");
    cs_err_init(&err);
    cr_assert_eq(cs_cfg_set(cfg, "levels[3].name", "b", "--set", &err), CS_INVALID);
    expect_msg(0, "--set: error: levels[3].name: 'levels' has no item 3");
    cs_err_init(&err);
    cr_assert_eq(cs_cfg_set(cfg, "levels[0].name", "b", NULL, &err), CS_OK);
    cr_assert_eq(cs_cfg_set(cfg, "", "b", NULL, &err), CS_USAGE);
    expect_msg(0, "--set: error: \"\": not a valid key path (expected names joined by '.', "
                  "e.g. l2.assoc)");
    cs_cfg_destroy(cfg);
}

Test(cfg, set_value_typing)
{
    cs_cfg *cfg = parse("");
    cr_assert_eq(cs_cfg_set(cfg, "a", "42", NULL, &err), CS_OK);
    cr_assert_eq(cs_cfg_set(cfg, "b", "-3000000000", NULL, &err), CS_OK);
    cr_assert_eq(cs_cfg_set(cfg, "c", "1e3", NULL, &err), CS_OK);
    cr_assert_eq(cs_cfg_set(cfg, "d", "TRUE", NULL, &err), CS_OK);
    cr_assert_eq(cs_cfg_set(cfg, "e", "40MiB", NULL, &err), CS_OK);
    cr_assert_eq(cs_cfg_set(cfg, "f", "\"16\"", NULL, &err), CS_OK);
    cr_assert_eq(cs_cfg_set(cfg, "g", "inf", NULL, &err), CS_OK);
    cr_assert_eq(cs_cfg_set(cfg, "h", "0x10", NULL, &err), CS_OK);
    static const cs_cfg_key keys[] = {
        {.name = "a", .type = CS_CFG_INT, .offset = 0, .min = 1, .max = 0},
        {.name = "b", .type = CS_CFG_INT, .offset = 8, .min = 1, .max = 0},
        {.name = "c", .type = CS_CFG_FLOAT, .offset = 16, .min = 1, .max = 0},
        {.name = "d", .type = CS_CFG_BOOL, .offset = 24, .min = 1, .max = 0},
        {.name = "e", .type = CS_CFG_BYTES, .offset = 32, .min = 1, .max = 0},
        {.name = "f", .type = CS_CFG_STRING, .offset = 40, .min = 1, .max = 0},
        {.name = "g", .type = CS_CFG_STRING, .offset = 48, .min = 1, .max = 0},
        {.name = "h", .type = CS_CFG_INT, .offset = 56, .min = 1, .max = 0},
    };
    struct {
        int64_t a, b;
        double c;
        bool d;
        uint64_t e;
        char *f, *g;
        int64_t h;
    } v;
    _Static_assert(sizeof v == 64, "layout assumed by the offsets above");
    static const cs_cfg_schema sch = {"v", "values", keys, 8, 64, NULL};
    memset(&v, 0, sizeof v);
    cr_assert_eq(cs_cfg_bind(cfg, "", &sch, &v, &err), CS_OK, "%s", err.msg[0]);
    cr_assert_eq(v.a, 42);
    cr_assert_eq(v.b, -3000000000LL);
    cr_assert_eq(v.c, 1000.0);
    cr_assert(v.d);
    cr_assert_eq(v.e, 40ULL << 20);
    cr_assert_str_eq(v.f, "16");
    cr_assert_str_eq(v.g, "inf");
    cr_assert_eq(v.h, 16);
    cs_cfg_params_free(&sch, &v);
    cs_cfg_destroy(cfg);
}

/* ---- dump, hash, describe ----------------------------------------------------------------- */

static const char dump_text[] = "sms = 8;\n"
                                "clock = \"1.2GHz\";\n"
                                "l2 = {\n"
                                "  size = 1048576;\n"
                                "  timing = { tRCD = \"1500ps\"; };\n"
                                "};\n"
                                "caches = { l1 = { size = \"128KiB\"; }; };\n"
                                "levels = ( { name = \"rf\"; } );\n"
                                "weights = { w = \"2GiB\"; };\n"
                                "tags = [\"x\", \"y\\\"z\"];\n";

Test(cfg, dump_shows_origins)
{
    cs_cfg *cfg = parse(dump_text);
    gpu_p p = {0};
    cr_assert_eq(cs_cfg_bind(cfg, "", &gpu_schema, &p, &err), CS_OK, "%s", err.msg[0]);
    cs_buf b;
    cs_buf_init(&b);
    cs_cfg_dump(cfg, "", &gpu_schema, &p, &b);
    cr_assert_str_eq(b.data, "sms = 8;  # t.cfg:1\n"
                             "clock = \"1200MHz\";  # t.cfg:2\n"
                             "name = \"a100\";  # default\n"
                             "l2 = {\n"
                             "  size = \"1MiB\";  # t.cfg:4\n"
                             "  assoc = 16;  # default\n"
                             "  line = \"128B\";  # default\n"
                             "  sector = \"32B\";  # default\n"
                             "  policy = \"frfcfs\";  # default\n"
                             "  enabled = true;  # default\n"
                             "  read_energy = \"0.5pJ\";  # default\n"
                             "  hit_rate = 0.9;  # default\n"
                             "  timing = {\n"
                             "    tRCD = \"1500ps\";  # t.cfg:5\n"
                             "    tRP = \"14ns\";  # default\n"
                             "  };\n"
                             "};\n"
                             "caches = {\n"
                             "  l1 = {\n"
                             "    size = \"128KiB\";  # t.cfg:7\n"
                             "    ways = 8;  # default\n"
                             "  };\n"
                             "};\n"
                             "levels = (\n"
                             "  {\n"
                             "    name = \"rf\";  # t.cfg:8\n"
                             "    macros = 1;  # default\n"
                             "  }\n"
                             ");\n"
                             "weights = {\n"
                             "  w = \"2GiB\";  # t.cfg:9\n"
                             "};\n"
                             "sizes = [1, 2, 4];  # default\n"
                             "tags = [\"x\", \"y\\\"z\"];  # t.cfg:10\n"
                             "leak = \"0mW\";  # default\n"
                             "area = \"826mm2\";  # default\n");
    cs_buf_free(&b);
    cs_cfg_params_free(&gpu_schema, &p);
    cs_cfg_destroy(cfg);
}

Test(cfg, plain_dump_reads_back_to_the_same_params)
{
    cs_cfg *cfg = parse(dump_text);
    gpu_p p = {0};
    cr_assert_eq(cs_cfg_bind(cfg, "", &gpu_schema, &p, &err), CS_OK, "%s", err.msg[0]);
    cs_buf b;
    cs_buf_init(&b);
    cs_cfg_dump_plain(&gpu_schema, &p, &b);
    cr_assert_null(strchr(b.data, '#'));
    cs_cfg *again = parse(b.data);
    gpu_p q = {0};
    cr_assert_eq(cs_cfg_bind(again, "", &gpu_schema, &q, &err), CS_OK, "%s", err.msg[0]);
    cs_buf c;
    cs_buf_init(&c);
    cs_cfg_dump_plain(&gpu_schema, &q, &c);
    cr_assert_str_eq(c.data, b.data);
    cr_assert_eq(cs_cfg_hash(&gpu_schema, &p), cs_cfg_hash(&gpu_schema, &q));
    q.l2.assoc = 32;
    cr_assert_neq(cs_cfg_hash(&gpu_schema, &p), cs_cfg_hash(&gpu_schema, &q));
    cs_buf_free(&b);
    cs_buf_free(&c);
    cs_cfg_params_free(&gpu_schema, &p);
    cs_cfg_params_free(&gpu_schema, &q);
    cs_cfg_destroy(cfg);
    cs_cfg_destroy(again);
}

Test(cfg, hash_ignores_how_values_were_written)
{
    gpu_p a, b;
    cr_assert_eq(bind_l2("  size = \"1MiB\";\n  timing = { tRCD = \"1ns\"; };\n", &a), CS_OK);
    cr_assert_eq(bind_text("l2 = { timing = { tRCD = \"1000ps\"; }; size = 1048576; "
                           "assoc = 16; };\nsms = 1;\n",
                           &b),
                 CS_OK, "%s", err.msg[0]);
    cr_assert_eq(cs_cfg_hash(&gpu_schema, &a), cs_cfg_hash(&gpu_schema, &b));
    cs_cfg_params_free(&gpu_schema, &a);
    cs_cfg_params_free(&gpu_schema, &b);
}

Test(cfg, dump_wraps_a_sub_path)
{
    cs_cfg *cfg = parse("gpu = { hbm = { timing = { tRCD = \"2ns\"; }; }; };\n");
    timing_p t = {0};
    cr_assert_eq(cs_cfg_bind(cfg, "gpu.hbm.timing", &timing_schema, &t, &err), CS_OK);
    cs_buf b;
    cs_buf_init(&b);
    cs_cfg_dump(cfg, "gpu.hbm.timing", &timing_schema, &t, &b);
    cr_assert_str_eq(b.data, "gpu = {\n"
                             "  hbm = {\n"
                             "    timing = {\n"
                             "      tRCD = \"2ns\";  # t.cfg:1\n"
                             "      tRP = \"14ns\";  # default\n"
                             "    };\n"
                             "  };\n"
                             "};\n");
    cs_buf_free(&b);
    cs_cfg_destroy(cfg);
}

static void expect_every_key(const cs_cfg_schema *sch, const char *prefix, const char *text,
                             bool md)
{
    for (size_t i = 0; i < sch->nkeys; i++) {
        const cs_cfg_key *k = &sch->keys[i];
        char kp[256], want[260];
        snprintf(kp, sizeof kp, "%s%s%s", prefix, prefix[0] ? "." : "", k->name);
        snprintf(want, sizeof want, md ? "| `%s` |" : "  %s: ", kp);
        cr_assert(strstr(text, want), "describe lacks '%s'", want);
        if (k->help && !strchr(k->help, '|'))
            cr_assert(strstr(text, k->help), "describe lacks the help of %s", kp);
        if (k->group) {
            char sub[256];
            snprintf(sub, sizeof sub, k->type == CS_CFG_MAP    ? "%s.<name>"
                                      : k->type == CS_CFG_LIST ? "%s[i]"
                                                               : "%s",
                     kp);
            expect_every_key(k->group, sub, text, md);
        }
    }
}

Test(cfg, describe_markdown_lists_every_key)
{
    cs_buf b;
    cs_buf_init(&b);
    cs_cfg_describe(&gpu_schema, "", true, &b);
    expect_every_key(&gpu_schema, "", b.data, true);
    cr_assert(strstr(b.data, "## gpu\n\nThe whole GPU.\n\n"
                             "| Key | Type | Default | Range | Unit | Description |\n"),
              "%s", b.data);
    cr_assert(strstr(b.data, "| `sms` | int | **required** | 1 to 256 | SMs | Number of SMs. |\n"),
              "%s", b.data);
    cr_assert(strstr(b.data,
                     "| `clock` | frequency | `1410MHz` | 1MHz to 5GHz | kHz | SM clock. |"),
              "%s", b.data);
    cr_assert(strstr(b.data, "| `name` | string | `a100` |  |  | Display name \\| with a pipe. |"),
              "%s", b.data);
    cr_assert(strstr(b.data, "| `l2` | group |  |  |  | The L2. See [`l2`](#l2). |"), "%s",
              b.data);
    cr_assert(strstr(b.data, "| `l2.policy` | enum | `frfcfs` | `frfcfs`, `fcfs` |  | "
                             "Scheduling policy. |"),
              "%s", b.data);
    cr_assert(strstr(b.data, "| `l2.size` | size | **required** | 1KiB to 1GiB | bytes | "
                             "Capacity of the L2. |"),
              "%s", b.data);
    cr_assert(strstr(b.data, "| `caches` | map of groups | empty |  |  | Named caches. See "
                             "[`caches.<name>`](#cachesname). |"),
              "%s", b.data);
    cr_assert(strstr(b.data, "| `weights` | map of size | empty |  | bytes | Weight footprints. |"),
              "%s", b.data);
    cr_assert(strstr(b.data, "\n### `l2`\n\nThe shared L2 cache.\n\n"), "%s", b.data);
    cr_assert(strstr(b.data, "\n#### `l2.timing`\n\nDRAM timing parameters.\n\n"), "%s", b.data);
    cr_assert(strstr(b.data, "\n### `levels[i]`\n\n"), "%s", b.data);
    cs_buf_free(&b);
}

Test(cfg, describe_text_lists_every_key)
{
    cs_buf b;
    cs_buf_init(&b);
    cs_cfg_describe(&l2_schema, "l2", false, &b);
    expect_every_key(&l2_schema, "l2", b.data, false);
    cr_assert(strstr(b.data, "l2: The shared L2 cache.\n"
                             "  l2.size: size, required, range 1KiB to 1GiB, unit bytes\n"
                             "      Capacity of the L2.\n"),
              "%s", b.data);
    cr_assert(strstr(b.data, "  l2.policy: enum, default frfcfs, one of frfcfs, fcfs\n"), "%s",
              b.data);
    cr_assert(strstr(b.data, "\nl2.timing: DRAM timing parameters.\n"), "%s", b.data);
    cs_buf_free(&b);
}

Test(cfg, type_names)
{
    cr_assert_str_eq(cs_cfg_type_name(CS_CFG_BYTES), "size");
    cr_assert_str_eq(cs_cfg_type_name(CS_CFG_STR_LIST), "string list");
    cr_assert_str_eq(cs_cfg_type_name(CS_CFG_TYPE_COUNT), "unknown");
    for (int t = 0; t < CS_CFG_TYPE_COUNT; t++)
        cr_assert_neq(strcmp(cs_cfg_type_name((cs_cfg_type)t), "unknown"), 0);
}

/* ---- ownership ---------------------------------------------------------------------------- */

Test(cfg, everything_is_freed)
{
    long before = cs_alloc_live_blocks();
    for (int round = 0; round < 3; round++) {
        cs_cfg *cfg = NULL;
        cs_err_init(&err);
        cr_assert_eq(cs_cfg_parse_file(DATA "/valid.cfg", &cfg, &err), CS_OK);
        cr_assert_eq(cs_cfg_set(cfg, "l2.timing.tRP", "20ns", "--set", &err), CS_OK);
        gpu_p p = {0};
        cr_assert_eq(cs_cfg_bind(cfg, "", &gpu_schema, &p, &err), CS_OK);
        cs_buf b;
        cs_buf_init(&b);
        cs_cfg_dump(cfg, "", &gpu_schema, &p, &b);
        cs_cfg_describe(&gpu_schema, "", true, &b);
        cs_buf_free(&b);
        cs_cfg_destroy(cfg);
        cs_cfg_params_free(&gpu_schema, &p);
        cs_cfg_params_free(&gpu_schema, &p); /* idempotent */
        /* A failed bind leaves partial params that free just as well. */
        memset(&p, 0, sizeof p);
        cr_assert_eq(bind_text("sms = 1;\nname = \"n\";\ntags = (\"a\", 1, true);\n"
                               "caches = { a = { size = 1; }; b = 3; };\n"
                               "levels = ( { name = \"x\"; }, 4 );\n",
                               &p),
                     CS_INVALID);
        cs_cfg_params_free(&gpu_schema, &p);
        cs_cfg *bad = NULL;
        cs_cfg_parse_file(DATA "/cycle_a.cfg", &bad, &err);
        cs_cfg_parse_file(DATA "/inc_syntax.cfg", &bad, &err);
        cr_assert_null(bad);
    }
    cr_assert_eq(cs_alloc_live_blocks(), before);
    cs_cfg_destroy(NULL);
    cs_cfg_params_free(&gpu_schema, NULL);
}

Test(cfg, builtin_files_resolve_in_the_embedded_tree)
{
    /* Only meaningful once arch/ holds embedded files; otherwise the lookup must fail cleanly. */
    const cs_vfs_file *f = cs_vfs_files[0].path ? &cs_vfs_files[0] : NULL;
    cs_cfg *cfg = NULL;
    cs_err_init(&err);
    if (!f) {
        cr_assert_eq(cs_cfg_parse_file("builtin:arch/a100.cfg", &cfg, &err), CS_NOT_FOUND);
        return;
    }
    char path[512];
    snprintf(path, sizeof path, "builtin:%s", f->path);
    if (strstr(f->path, ".cfg")) {
        cs_status st = cs_cfg_parse_file(path, &cfg, &err);
        cr_assert(st == CS_OK || err.count > 0);
        if (st == CS_OK)
            cr_assert_str_eq(cs_cfg_name(cfg), path);
        cs_cfg_destroy(cfg);
    }
    /* ".." climbing out of the embedded root is not found, not a crash. */
    cs_err_init(&err);
    cr_assert_eq(cs_cfg_parse_string("builtin:arch/x.cfg", "@include \"../../../etc/passwd\"\n",
                                     NULL, &cfg, &err),
                 CS_NOT_FOUND);
}

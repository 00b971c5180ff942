/* fuzz_report — libFuzzer target for the result/compare JSON reader behind `cimsim report`
 * (cs_report_read_mem) and everything the report makes of what it read: the five table formats
 * and the gnuplot scripts of every plot kind.
 *
 * The input is one JSON document, or two separated by a line "%%\n" (several result files make
 * one group). Oracles beyond "no crash, no sanitizer report, no leak": a failed read reports at
 * least one message; and every plot script is inert — whatever strings the files hold, each
 * line of the script is a comment whose quotes close, a datablock line, or a command from the
 * small set the plot writer uses, with no backquote outside single quotes (gnuplot runs
 * `command` in double quotes and bare text) and no comment ending in a backslash (gnuplot would
 * continue the comment over the next line).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "report.h"

static void require(bool cond)
{
    if (!cond)
        __builtin_trap();
}

static bool starts(const char *s, const char *p) { return strncmp(s, p, strlen(p)) == 0; }

/* Scans one line outside datablocks; *cont says whether it continues onto the next. */
static void check_line(const char *s, size_t n, bool continued, bool *cont)
{
    if (!continued) {
        size_t i = 0;
        while (i < n && s[i] == ' ')
            i++;
        const char *t = s + i;
        bool known = t[0] == '#' || starts(t, "set ") || starts(t, "unset ") ||
                     starts(t, "plot ") || starts(t, "peak = ") || starts(t, "bw = ") ||
                     starts(t, "ridge = ") || (t[0] == '$' && n - i >= 7 && memcmp(s + n - 7, " << EOD", 7) == 0);
        require(known);
    }
    char q = 0; /* the open quote */
    bool comment = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        require((unsigned char)c >= 0x20 || c == '\t');
        if (comment)
            continue;
        if (q == '\'') {
            if (c == '\'' && i + 1 < n && s[i + 1] == '\'')
                i++;
            else if (c == '\'')
                q = 0;
        } else if (q == '"') {
            require(c != '`');
            if (c == '\\' && i + 1 < n)
                i++;
            else if (c == '"')
                q = 0;
        } else if (c == '#') {
            comment = true;
        } else if (c == '\'' || c == '"') {
            q = c;
        } else {
            require(c != '`');
        }
    }
    require(q == 0); /* quotes close on their line */
    *cont = n > 0 && s[n - 1] == '\\';
    require(!(comment && *cont));
}

static void check_script(const char *script)
{
    bool in_data = false, cont = false;
    for (const char *p = script; *p;) {
        const char *nl = strchr(p, '\n');
        require(nl != NULL); /* every line ends */
        size_t n = (size_t)(nl - p);
        if (in_data) {
            for (size_t i = 0; i < n; i++)
                require((unsigned char)p[i] >= 0x20);
            in_data = !(n == 3 && starts(p, "EOD"));
        } else {
            bool c2;
            check_line(p, n, cont, &c2);
            in_data = p[0] == '$' && n >= 7 && strncmp(nl - 7, " << EOD", 7) == 0;
            cont = c2;
        }
        p = nl + 1;
    }
    require(!in_data);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 20)
        return 0;
    const char *text = (const char *)data;
    const char *names[2] = {"a.json", "b.json"};
    const char *texts[2] = {text, NULL};
    size_t lens[2] = {size, 0};
    size_t n = 1;
    const char *sep = NULL;
    for (size_t i = 0; i + 4 <= size && !sep; i++)
        if (text[i] == '\n' && text[i + 1] == '%' && text[i + 2] == '%' && text[i + 3] == '\n')
            sep = text + i; /* (not memcmp: libFuzzer instruments every call of it) */
    if (sep) {
        lens[0] = (size_t)(sep - text);
        texts[1] = sep + 4;
        lens[1] = size - lens[0] - 4;
        n = 2;
    }
    cs_report rep = {0};
    cs_err err;
    cs_err_init(&err);
    if (cs_report_read_mem(&rep, names, texts, lens, n, "cimsim report a.json", &err) != CS_OK) {
        require(err.count > 0);
    } else {
        static const cs_rep_format fmts[] = {CS_REP_TEXT, CS_REP_JSON, CS_REP_CSV, CS_REP_MD,
                                             CS_REP_TEX};
        for (size_t f = 0; f < sizeof fmts / sizeof fmts[0]; f++)
            for (int standalone = 0; standalone < 2; standalone++) {
                cs_rep_opts o = {.format = fmts[f], .standalone = standalone != 0,
                                 .per_gemm = standalone != 0};
                cs_buf b;
                cs_buf_init(&b);
                cs_err e;
                cs_err_init(&e);
                if (cs_report_write(&rep, &o, &b, &e) != CS_OK)
                    require(e.count > 0);
                cs_err_free(&e);
                cs_buf_free(&b);
            }
        static const cs_plot_kind kinds[] = {CS_PLOT_DEFAULT, CS_PLOT_BREAKDOWN, CS_PLOT_SPEEDUP,
                                             CS_PLOT_ROOFLINE, CS_PLOT_ATTRIBUTION};
        static const char *const files[] = {"x.svg", "x.png", "x.pdf"};
        for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
            cs_buf b;
            cs_buf_init(&b);
            cs_err e;
            cs_err_init(&e);
            if (cs_report_plot_script(&rep, kinds[k], files[k % 3], NULL, &b, &e) == CS_OK)
                check_script(b.data ? b.data : "");
            else
                require(e.count > 0);
            cs_err_free(&e);
            cs_buf_free(&b);
        }
    }
    cs_report_free(&rep);
    cs_err_free(&err);
    return 0;
}

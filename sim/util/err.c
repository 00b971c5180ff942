/* err — status strings and the message collector. */
#include "err.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"

static const char *const status_str[] = {
#define CS_X(name, str, code) str,
    CS_STATUS_MAP(CS_X)
#undef CS_X
};
static const int status_code[] = {
#define CS_X(name, str, code) code,
    CS_STATUS_MAP(CS_X)
#undef CS_X
};

const char *cs_status_str(cs_status st)
{
    return (unsigned)st < CS_STATUS_COUNT ? status_str[st] : "unknown status";
}

int cs_status_exit_code(cs_status st)
{
    return (unsigned)st < CS_STATUS_COUNT ? status_code[st] : 1;
}

void cs_err_init(cs_err *err)
{
    err->status = CS_OK;
    err->count = 0;
    err->detail = NULL;
}

void cs_err_detail(cs_err *err, const char *text)
{
    if (!err)
        return;
    size_t old = err->detail ? strlen(err->detail) : 0, add = strlen(text);
    err->detail = cs_realloc(err->detail, old + add + 1);
    memcpy(err->detail + old, text, add + 1);
}

void cs_err_free(cs_err *err)
{
    if (!err)
        return;
    cs_free(err->detail);
    err->detail = NULL;
}

cs_status cs_err_vadd(cs_err *err, cs_status st, const char *fmt, va_list ap)
{
    if (!err)
        return st;
    if (err->status == CS_OK)
        err->status = st;
    if (err->count < CS_ERR_MAX)
        vsnprintf(err->msg[err->count], CS_ERR_MSG_BYTES, fmt, ap);
    err->count++;
    return st;
}

cs_status cs_err_add(cs_err *err, cs_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cs_err_vadd(err, st, fmt, ap);
    va_end(ap);
    return st;
}

cs_status cs_err_at(cs_err *err, cs_status st, const char *file, int line, const char *key,
                    const char *fmt, ...)
{
    char rule[CS_ERR_MSG_BYTES];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rule, sizeof rule, fmt, ap);
    va_end(ap);
    if (line > 0)
        return cs_err_add(err, st, "%s:%d: error: %s: %s", file ? file : "<input>", line,
                          key ? key : "", rule);
    return cs_err_add(err, st, "%s: error: %s: %s", file ? file : "<input>", key ? key : "", rule);
}

int cs_err_full(const cs_err *err)
{
    return err && err->count >= CS_ERR_MAX;
}

void cs_err_merge(cs_err *dst, cs_err *src)
{
    if (src->detail) {
        cs_err_detail(dst, src->detail);
        cs_err_free(src);
    }
    int n = src->count < CS_ERR_MAX ? src->count : CS_ERR_MAX;
    for (int i = 0; i < n; i++)
        cs_err_add(dst, src->status, "%s", src->msg[i]);
    if (src->count > n)
        dst->count += src->count - n;
}

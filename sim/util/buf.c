/* buf — growable buffer. */
#include "buf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

void cs_buf_init(cs_buf *b)
{
    b->data = NULL;
    b->len = b->cap = 0;
}

void cs_buf_free(cs_buf *b)
{
    cs_free(b->data);
    cs_buf_init(b);
}

void cs_buf_clear(cs_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

static void reserve(cs_buf *b, size_t extra)
{
    CS_GROW(b->data, b->cap, b->len + extra + 1);
}

void cs_buf_append(cs_buf *b, const void *data, size_t len)
{
    reserve(b, len);
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void cs_buf_puts(cs_buf *b, const char *s)
{
    cs_buf_append(b, s, strlen(s));
}

void cs_buf_putc(cs_buf *b, char c)
{
    cs_buf_append(b, &c, 1);
}

void cs_buf_vprintf(cs_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n <= 0)
        return;
    reserve(b, (size_t)n);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void cs_buf_printf(cs_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cs_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

void cs_buf_double(cs_buf *b, double v)
{
    if (!isfinite(v)) {
        cs_buf_puts(b, "null");
        return;
    }
    char tmp[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    cs_buf_puts(b, tmp);
}

char *cs_buf_take(cs_buf *b)
{
    if (!b->data)
        return cs_strdup("");
    char *s = b->data;
    cs_buf_init(b);
    return s;
}

/* buf — a growable byte buffer and string builder. Always NUL-terminated after any append. */
#ifndef CS_BUF_H
#define CS_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct cs_buf {
    char *data;
    size_t len;
    size_t cap;
} cs_buf;

void cs_buf_init(cs_buf *b);
void cs_buf_free(cs_buf *b);
void cs_buf_clear(cs_buf *b);
void cs_buf_append(cs_buf *b, const void *data, size_t len);
void cs_buf_puts(cs_buf *b, const char *s);
void cs_buf_putc(cs_buf *b, char c);
void cs_buf_printf(cs_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cs_buf_vprintf(cs_buf *b, const char *fmt, va_list ap);
/* Shortest decimal that reads back as exactly v ("%.{1..17}g"); non-finite prints "null". */
void cs_buf_double(cs_buf *b, double v);
/* Takes the string out (caller frees with cs_free); b is left empty. */
char *cs_buf_take(cs_buf *b);

#endif

/*
 * buf.h - a growable, always NUL-terminated byte string with a hard cap.
 * Does: append bytes and formatted text, with overflow checks.
 * Does not: log or exit on a cap overflow; that is the caller's call.
 */
#ifndef LDA_BUF_H
#define LDA_BUF_H

#include <stddef.h>

struct buf {
	char *s;	/* NUL-terminated; never NULL after buf_init */
	size_t len;	/* bytes in s, not counting the NUL */
	size_t cap;	/* bytes allocated */
	size_t max;	/* hard cap on len; 0 means SIZE_MAX */
};

/* Initialise b as an empty string capped at max bytes (0: no cap). */
void buf_init(struct buf *b, size_t max);
/* Release b's memory; b may be initialised again afterwards. */
void buf_free(struct buf *b);
/* Empty b, keeping its memory. */
void buf_reset(struct buf *b);
/* Append n bytes. Returns 0, or -1 (b unchanged) when max would be passed. */
int buf_append(struct buf *b, const void *p, size_t n);
/* Append a NUL-terminated string. Returns 0 or -1 as buf_append. */
int buf_puts(struct buf *b, const char *s);
/* Append one byte. Returns 0 or -1 as buf_append. */
int buf_putc(struct buf *b, int c);
/* Append printf-formatted text. Returns 0 or -1 as buf_append. */
int buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Hand over b's string to the caller (to free); b holds nothing after
   and must be buf_init()ed before it is used again. */
char *buf_steal(struct buf *b);

/* Copy src into dst of size n; returns strlen(src) (>= n means truncated). */
size_t lda_strlcpy(char *dst, const char *src, size_t n);

#endif

/*
 * buf.c - a growable, always NUL-terminated byte string with a hard cap.
 * Does: append with overflow checks; growth doubles.
 * Does not: log; a cap overflow is returned to the caller as -1.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "xalloc.h"

/* buf_init - an empty string capped at max bytes (0: no cap) */
void
buf_init(struct buf *b, size_t max)
{
	b->cap = 64;
	b->s = xmalloc(b->cap);
	b->s[0] = '\0';
	b->len = 0;
	b->max = max ? max : SIZE_MAX - 1;
}

/* buf_free - release the memory */
void
buf_free(struct buf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
}

/* buf_reset - empty the string, keep the memory */
void
buf_reset(struct buf *b)
{
	b->len = 0;
	b->s[0] = '\0';
}

/* buf_grow - make room for n more bytes and the NUL */
static int
buf_grow(struct buf *b, size_t n)
{
	size_t want, cap;

	if (n > b->max - b->len)
		return -1;
	want = b->len + n + 1;
	if (want <= b->cap)
		return 0;
	cap = b->cap;
	while (cap < want)
		cap = cap > SIZE_MAX / 2 ? want : cap * 2;
	b->s = xreallocarray(b->s, cap, 1);
	b->cap = cap;
	return 0;
}

/* buf_append - append n bytes */
int
buf_append(struct buf *b, const void *p, size_t n)
{
	if (buf_grow(b, n) == -1)
		return -1;
	if (n)
		memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
	return 0;
}

/* buf_puts - append a C string */
int
buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

/* buf_putc - append one byte */
int
buf_putc(struct buf *b, int c)
{
	char ch = (char)c;

	return buf_append(b, &ch, 1);
}

/* buf_printf - append formatted text */
int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || buf_grow(b, (size_t)n) == -1)
		return -1;
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

/* buf_steal - hand the string to the caller; b must be initialised anew */
char *
buf_steal(struct buf *b)
{
	char *s = b->s;

	b->s = NULL;
	b->len = b->cap = 0;
	return s;
}

/* lda_strlcpy - bounded copy; returns strlen(src) (>= n: truncated) */
size_t
lda_strlcpy(char *dst, const char *src, size_t n)
{
	size_t len = strlen(src);

	if (n) {
		size_t c = len < n - 1 ? len : n - 1;
		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return len;
}

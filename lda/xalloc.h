/*
 * xalloc.h - allocation that succeeds or does not return.
 * Does: check n * size for overflow; on failure log once and exit 75
 * (EX_TEMPFAIL), so the MTA keeps the message and retries.
 */
#ifndef LDA_XALLOC_H
#define LDA_XALLOC_H

#include <stdarg.h>
#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* *err = a freshly allocated printf-formatted message; returns -1, so
   "return xerr(err, ...)" reports a failure in one line. */
int xerr(char **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A freshly allocated printf-formatted string. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same from a va_list. */
char *xvasprintf(const char *fmt, va_list ap)
    __attribute__((format(printf, 1, 0)));

#endif

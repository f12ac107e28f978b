/*
 * tap.h - a minimal Test Anything Protocol producer for lda's C unit tests.
 * Does: plan, ok, is (strings), is_int, like (substring), diag,
 * done_testing, the exit status prove expects.
 * Does not: fork, catch crashes (prove reports a dying test as failed).
 */
#ifndef LDA_TAP_H
#define LDA_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed, tap_planned;

static inline void plan(int n) { tap_planned = n; printf("1..%d\n", n); }

static inline void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

static inline int tap_vok(int cond, const char *fmt, va_list ap)
{
	tap_n++;
	printf("%sok %d - ", cond ? "" : "not ", tap_n);
	vprintf(fmt, ap);
	putchar('\n');
	if (!cond)
		tap_failed++;
	fflush(stdout);
	return cond;
}

static inline int ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline int ok(int cond, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = tap_vok(cond, fmt, ap);
	va_end(ap);
	return r;
}

#define TAP_REPORT(cond, gotfmt, got, want)                                 \
	do {                                                                \
		if (!(cond))                                                \
			diag("got " gotfmt ", want " gotfmt, got, want);    \
	} while (0)

/* is - string equality (NULL equals only NULL) */
#define is(got, want, ...)                                                  \
	do {                                                                \
		const char *tap_g = (got), *tap_w = (want);                 \
		int tap_c = (tap_g && tap_w) ? strcmp(tap_g, tap_w) == 0    \
		                             : tap_g == tap_w;              \
		ok(tap_c, __VA_ARGS__);                                     \
		TAP_REPORT(tap_c, "'%s'", tap_g ? tap_g : "(null)",         \
		    tap_w ? tap_w : "(null)");                              \
	} while (0)

/* is_int - integer equality */
#define is_int(got, want, ...)                                              \
	do {                                                                \
		long long tap_g = (got), tap_w = (want);                    \
		ok(tap_g == tap_w, __VA_ARGS__);                            \
		TAP_REPORT(tap_g == tap_w, "%lld", tap_g, tap_w);           \
	} while (0)

/* like - got contains the substring want */
#define like(got, want, ...)                                                \
	do {                                                                \
		const char *tap_g = (got), *tap_w = (want);                 \
		int tap_c = tap_g && strstr(tap_g, tap_w) != NULL;          \
		ok(tap_c, __VA_ARGS__);                                     \
		TAP_REPORT(tap_c, "'%s'", tap_g ? tap_g : "(null)", tap_w); \
	} while (0)

/* done_testing - print the plan if none was given; exit status for prove */
static inline int done_testing(void)
{
	if (!tap_planned)
		printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif

/*
 * route-lookup.c - the per-message cost of a STORE_ROUTES lookup
 * (lda/route.c), for tests/bench/route.sh. Each "message" does what one
 * lda process does: open the table, look one recipient up, close it.
 * Usage: route-lookup SPEC N KEYS  - SPEC cdb:/path or file:/path; N
 * messages; KEYS the number of userNNNNNN keys in the table (a quarter
 * of the lookups ask for a key that is not there). Prints
 * "per-message-us lookup-only-us found".
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "route.h"

/* xalloc.c's fatal paths, without the rest of lda's logging */
void log_fatal(const char *fmt, ...);
void log_panic(const char *fmt, ...);
void
log_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	exit(75);
}
void
log_panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	exit(75);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	long n, keys, found = 0;
	struct route *r;
	char *err = NULL, *v, key[64];
	double t0, t1, t1b, t2;

	if (argc != 4)
		return fprintf(stderr, "usage: route-lookup SPEC N KEYS\n"), 2;
	n = atol(argv[2]);
	keys = atol(argv[3]);
	srandom(1);
	t0 = now();
	for (long i = 0; i < n; i++) {
		long k = random() % (keys + keys / 3);
		snprintf(key, sizeof key, "user%06ld", k);
		if (route_open(argv[1], &r, &err) == -1)
			return fprintf(stderr, "%s\n", err), 1;
		if (route_lookup(r, key, &v, &err) == -1)
			return fprintf(stderr, "%s\n", err), 1;
		found += v != NULL;
		free(v);
		route_close(&r);
	}
	t1 = now();
	if (route_open(argv[1], &r, &err) == -1)
		return fprintf(stderr, "%s\n", err), 1;
	t1b = now();
	for (long i = 0; i < n; i++) {
		long k = random() % (keys + keys / 3);
		snprintf(key, sizeof key, "user%06ld", k);
		if (route_lookup(r, key, &v, &err) == -1)
			return fprintf(stderr, "%s\n", err), 1;
		free(v);
	}
	t2 = now();
	route_close(&r);
	printf("%.3f %.3f %ld\n", (t1 - t0) / n * 1e6, (t2 - t1b) / n * 1e6,
	    found);
	return 0;
}

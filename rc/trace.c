/*
 * trace.c - the --test trace: what each recipe did and why, and where
 * the message would go, printed on stdout during a dry run.
 * Does: print when the session is a dry run; nothing otherwise.
 * Does not: decide anything; the evaluator calls it at each step.
 */
#include <stdarg.h>
#include <stdio.h>

#include "rcint.h"

/* rc_trace - one piece of the trace (dry run only) */
void
rc_trace(struct rc *rc, const char *fmt, ...)
{
	va_list ap;

	if (!rc->s->dry_run)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

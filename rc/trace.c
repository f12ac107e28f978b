/*
 * trace.c - the --test trace: what each recipe did and why, and where
 * the message would go, printed on stdout during a dry run.
 * Does: print when the session is a dry run; nothing otherwise.
 * Does not: decide anything; the evaluator calls it at each step.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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

/* rc_trace_dest - note a destination for the summary */
void
rc_trace_dest(struct rc *rc, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (!rc->s->dry_run)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	buf_puts(&rc->dests, "  ");
	buf_puts(&rc->dests, line);
	buf_putc(&rc->dests, '\n');
}

/* rc_trace_end - where the message would go, and the exit code */
void
rc_trace_end(struct rc *rc, int code)
{
	if (!rc->s->dry_run)
		return;
	if (rc->dests.len)
		printf("result: the message would go to\n%s", rc->dests.s);
	else
		printf("result: the message would go nowhere\n");
	printf("exit code %d%s\n", code, code == 0 ? "" :
	    " (the MTA keeps the message)");
	fflush(stdout);
}

/* rc_trace_recipe - "file:line: recipe :0 flags:lock" */
void
rc_trace_recipe(struct rc *rc, const struct rc_recipe *r, int line)
{
	char flags[sizeof RC_FLAG_LETTERS];
	size_t n = 0;

	if (!rc->s->dry_run)
		return;
	for (size_t i = 0; i < sizeof RC_FLAG_LETTERS - 1; i++)
		if (r->flags & (1u << i))
			flags[n++] = RC_FLAG_LETTERS[i];
	flags[n] = '\0';
	printf("%s:%d: recipe :0%s%s%s%s\n", rc->cur_file, line, n ? " " : "",
	    flags, r->lock ? ":" : "", r->lockfile ? r->lockfile : "");
}

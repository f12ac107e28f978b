/*
 * trace.c - the one trace of a run, in procmail's VERBOSE phrasing
 * ("Rcfile:", "Assigning", "Match on", "No match on", "Locking",
 * "Executing", ...): which rc file runs, each assignment, recipe and
 * condition, locks, programs, and where the message went.
 * Does: write each line to the run's trace sink: under --test stdout
 * (with the summary of where the message would go and the exit code),
 * under VERBOSE=on the LOGFILE, else stderr, as procmail does; nothing
 * when neither. Other steps (store, filters) add their lines through
 * rc_trace (rc.h).
 * Does not: decide anything; the evaluator calls it at each step.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../lda/fdio.h"
#include "rcint.h"

/* trace_fd - where the trace goes now, or -1 */
static int
trace_fd(const struct rc *rc)
{
	if (rc->s->dry_run)
		return 1;
	if (!rc->verbose)
		return -1;
	return rc->logfd != -1 ? rc->logfd : 2;
}

/* rc_tracing - is anything traced? (see rc.h) */
int
rc_tracing(const struct rc *rc)
{
	return trace_fd(rc) != -1;
}

/* trace_put - one line "lda: text\n"; under VERBOSE a "[pid] date" line
   first each second, as procmail stamps its log */
static void
trace_put(struct rc *rc, const char *text)
{
	int fd = trace_fd(rc);
	char line[2200];
	int n;

	if (fd == -1)
		return;
	if (fd == 1)
		fflush(stdout);
	if (!rc->s->dry_run) {
		time_t now = time(NULL);
		if (now != rc->trace_time) {
			char date[64];
			struct tm tm;
			rc->trace_time = now;
			localtime_r(&now, &tm);
			if (strftime(date, sizeof date, "%a %b %e %H:%M:%S %Y",
			    &tm) > 0) {
				n = snprintf(line, sizeof line, "lda: [%ld] %s\n",
				    (long)getpid(), date);
				(void)fd_write_all(fd, line, (size_t)n);
			}
		}
	}
	n = snprintf(line, sizeof line, "lda: %s\n", text);
	if (n > (int)sizeof line - 1) {
		n = (int)sizeof line - 1;
		line[n - 1] = '\n';
	}
	(void)fd_write_all(fd, line, (size_t)n);
}

/* rc_trace - one line of the trace (see rc.h) */
void
rc_trace(struct rc *rc, const char *fmt, ...)
{
	char text[2048];
	va_list ap;

	if (trace_fd(rc) == -1)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	trace_put(rc, text);
}

/* rc_yell - procmail's yell(): 'What "text"' */
void
rc_yell(struct rc *rc, const char *what, const char *text)
{
	rc_trace(rc, "%s \"%s\"", what, text ? text : "");
}

/* rc_yell_assign - 'Assigning "NAME=value"' */
void
rc_yell_assign(struct rc *rc, const char *name, const char *value)
{
	rc_trace(rc, "Assigning \"%s=%s\"", name, value ? value : "");
}

/* rc_trace_dest - note a destination for the summary (--test) */
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

/* rc_trace_summary - where the message would go (--test; see rc.h) */
void
rc_trace_summary(struct rc *rc)
{
	if (!rc->s->dry_run)
		return;
	fflush(stdout);
	if (rc->dests.len)
		printf("result: for %s the message would go to\n%s",
		    rc->s->recipient ? rc->s->recipient : "", rc->dests.s);
	else
		printf("result: for %s the message would go nowhere\n",
		    rc->s->recipient ? rc->s->recipient : "");
	fflush(stdout);
}

/* rc_trace_recipe - 'Recipe ":0 flags:lock" at file:line' */
void
rc_trace_recipe(struct rc *rc, const struct rc_recipe *r, int line)
{
	char flags[sizeof RC_FLAG_LETTERS];
	size_t n = 0;

	if (trace_fd(rc) == -1)
		return;
	for (size_t i = 0; i < sizeof RC_FLAG_LETTERS - 1; i++)
		if (r->flags & (1u << i))
			flags[n++] = RC_FLAG_LETTERS[i];
	flags[n] = '\0';
	rc_trace(rc, "Recipe \":0%s%s%s%s\" at %s:%d", n ? " " : "", flags,
	    r->lock ? ":" : "", r->lockfile ? r->lockfile : "", rc->cur_file,
	    line);
}

/*
 * status.c - the one status line of a run: failures recorded where they
 * are understood, the deciding one printed once at the end (status.h).
 * Does: keep the records in order, pick the first with the run's exit
 * code, make the line one printable line, pass a child's line up a pipe.
 * Does not: log, decide outcomes.
 */
#include <ctype.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "status.h"
#include "xalloc.h"

#define LINE_MAX_TEXT 900	/* bytes of a status line's text */

struct failure {
	enum outcome o;
	char *status;		/* RFC 3463 code */
	char *text;		/* "rcpt: what: why" */
};

static struct failure *fails;
static size_t nfails;
static int status_fd = 1;	/* stdout, or a pipe to our parent */
static int printed;
static int delivered;		/* a copy was delivered in this run */

/* add - append one record (status and text taken over) */
static void
add(enum outcome o, char *status, char *text)
{
	fails = xreallocarray(fails, nfails + 1, sizeof *fails);
	fails[nfails].o = o;
	fails[nfails].status = status;
	fails[nfails].text = text;
	nfails++;
}

/* status_fail - record a failure (see status.h) */
void
status_fail(enum outcome o, const char *status, const char *rcpt,
    const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	add(o, xstrdup(status ? status : outcome_status(o)),
	    rcpt && *rcpt ? xasprintf("%s: %s", rcpt, msg) : xstrdup(msg));
}

/* status_mark - how many records there are */
size_t
status_mark(void)
{
	return nfails;
}

/* status_forget - drop the records made after mark */
void
status_forget(size_t mark)
{
	while (nfails > mark) {
		nfails--;
		free(fails[nfails].status);
		free(fails[nfails].text);
	}
}

/* status_decided - move the records after mark to the front */
void
status_decided(size_t mark)
{
	size_t k = nfails - mark;
	struct failure *tmp;

	if (mark == 0 || mark >= nfails)
		return;
	tmp = xreallocarray(NULL, k, sizeof *tmp);
	memcpy(tmp, fails + mark, k * sizeof *tmp);
	memmove(fails + k, fails, mark * sizeof *fails);
	memcpy(fails, tmp, k * sizeof *tmp);
	free(tmp);
}

/* status_config_since - a configuration error recorded after mark? */
int
status_config_since(size_t mark)
{
	for (size_t i = mark; i < nfails; i++)
		if (fails[i].o == OUT_CONFIG)
			return 1;
	return 0;
}

/* status_print - "status text" as one printable line, once */
void
status_print(const char *status, const char *text)
{
	char line[LINE_MAX_TEXT + 32];
	int n;

	if (printed)
		return;
	printed = 1;
	n = snprintf(line, sizeof line - 1, "%s %s", status, text);
	if (n < 0)
		return;
	if ((size_t)n > sizeof line - 2)
		n = (int)sizeof line - 2;
	for (int i = 0; i < n; i++)
		if (iscntrl((unsigned char)line[i]))
			line[i] = ' ';
	line[n++] = '\n';
	fflush(stdout);
	if (write(status_fd, line, (size_t)n) < 0) {
		/* nobody to tell: the exit code still says it */
	}
}

/* generic - the text for an outcome nothing was recorded for */
static const char *
generic(enum outcome o)
{
	switch (o) {
	case OUT_NOUSER: return "user unknown";
	case OUT_NOPERM: return "permission denied";
	case OUT_TEMPFAIL: return "temporary failure, try again later";
	case OUT_CONFIG: return "system incorrectly configured";
	default: return "delivery failed";
	}
}

/* status_delivered - a copy was delivered */
void
status_delivered(void)
{
	delivered = 1;
}

/* status_end - print the run's one line, return the exit code */
int
status_end(enum outcome o)
{
	const struct failure *f = nfails ? &fails[0] : NULL;
	char *text = NULL, *st = NULL;
	int code = outcome_exit(o);

	if (o == OUT_DELIVERED)
		return code;
	for (size_t i = 0; i < nfails; i++)
		if (outcome_exit(fails[i].o) == code) {
			f = &fails[i];
			break;
		}
	if (delivered && outcome_bounces(o)) {
		/* A bounce would say a message that reached someone did
		   not: keep it with the MTA (a retry may duplicate the
		   copy delivered, never lose the one that was not). */
		st = xstrdup(f ? f->status : outcome_status(o));
		if (st[0] == '5')
			st[0] = '4';
		text = xasprintf("%s; not bounced, because a copy was "
		    "delivered: the message stays with the MTA",
		    f ? f->text : generic(o));
		status_print(st, text);
		free(st);
		free(text);
		return EX_TEMPFAIL;
	}
	/* the class follows the exit code: a record of a permanent
	   failure that a fallback turned into 75 is 4.x.x */
	st = xstrdup(f ? f->status : outcome_status(o));
	if ((st[0] == '4' || st[0] == '5') && st[1] == '.')
		st[0] = code == EX_TEMPFAIL ? '4' : '5';
	status_print(st, f ? f->text : generic(o));
	free(st);
	return code;
}

/* status_pipe - a pipe for a child's line */
int
status_pipe(int p[2])
{
	return pipe2(p, O_CLOEXEC | O_NONBLOCK);
}

/* status_child - in the child: our line goes up the pipe */
void
status_child(int p[2])
{
	close(p[0]);
	status_fd = p[1];
	printed = 0;
}

/* status_child_line - in the parent: the child's line, read once */
int
status_child_line(int p[2], char *line, size_t n)
{
	ssize_t k;
	char *nl;

	close(p[1]);
	k = read(p[0], line, n - 1);
	close(p[0]);
	if (k <= 0)
		return -1;
	line[k] = '\0';
	if ((nl = strchr(line, '\n')) != NULL)
		*nl = '\0';
	return 0;
}

/* status_parent - in the parent: record the child's line */
void
status_parent(int p[2], int code)
{
	char buf[LINE_MAX_TEXT + 64], *sp;

	if (status_child_line(p, buf, sizeof buf) == -1)
		return;
	if ((sp = strchr(buf, ' ')) == NULL)
		return;
	*sp = '\0';
	add(outcome_from_exit(code), xstrdup(buf), xstrdup(sp + 1));
}

/*
 * log.c - the one way lda reports: syslog (mail facility), an optional
 * LOGFILE, and stderr when asked or interactive.
 * Does: one line per call; log_fatal and log_panic end the run with exit
 * 75 after printing the RFC 3463 status line the MTA records.
 * Does not: decide outcomes; buffer; retry.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <syslog.h>
#include <unistd.h>

#include "fdio.h"
#include "log.h"

static int log_stderr;
static int log_verbose;
static int log_fd = -1;
static int log_echo = -1;
static const char *log_ident = "lda";
static int status_printed;

/* log_open - open syslog as ident; to_stderr mirrors lines to stderr */
void
log_open(const char *ident, int to_stderr)
{
	log_ident = ident;
	log_stderr = to_stderr;
	openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

/* log_set_verbose - how much log_debug says (0: nothing) */
void
log_set_verbose(int level)
{
	log_verbose = level;
}

/* log_set_echo - mirror each line onto fd (-1: stop) */
void
log_set_echo(int fd)
{
	log_echo = fd;
}

/* log_set_file - append copies of each line to path (NULL: stop) */
void
log_set_file(const char *path)
{
	if (log_fd != -1)
		close(log_fd);
	log_fd = -1;
	if (path == NULL || *path == '\0')
		return;
	log_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (log_fd == -1)
		syslog(LOG_WARNING, "cannot open LOGFILE %s: %s", path,
		    strerror(errno));
}

/* log_emit - one line to every sink */
static void
log_emit(int prio, const char *fmt, va_list ap)
{
	char line[2048];
	int n;

	n = vsnprintf(line, sizeof line, fmt, ap);
	if (n < 0)
		return;
	syslog(prio, "%s", line);
	if (log_fd != -1 || log_stderr || log_echo != -1) {
		char out[2200];
		int m = snprintf(out, sizeof out, "%s[%ld]: %s\n", log_ident,
		    (long)getpid(), line);
		if (m > (int)sizeof out - 1) {
			m = (int)sizeof out - 1;
			out[m - 1] = '\n';
		}
		if (log_fd != -1 && write(log_fd, out, (size_t)m) < 0)
			syslog(LOG_WARNING, "LOGFILE write: %s", strerror(errno));
		if (log_stderr)
			fputs(out, stderr);
		if (log_echo != -1) {
			fflush(stdout);
			(void)fd_write_all(log_echo, out, (size_t)m);
		}
	}
}

#define LOG_FN(name, prio, cond)                   \
	void name(const char *fmt, ...)            \
	{                                          \
		va_list ap;                        \
		if (!(cond))                       \
			return;                    \
		va_start(ap, fmt);                 \
		log_emit(prio, fmt, ap);           \
		va_end(ap);                        \
	}

LOG_FN(log_info, LOG_INFO, 1)
LOG_FN(log_warn, LOG_WARNING, 1)
LOG_FN(log_debug, LOG_DEBUG, log_verbose > 0)

/* log_status - print the status line the MTA records, once per run */
void
log_status(const char *status, const char *reason)
{
	if (status_printed)
		return;
	status_printed = 1;
	printf("%s %s\n", status, reason);
	fflush(stdout);
}

/* log_die - log, print the 4.3.0 status line and exit EX_TEMPFAIL */
static void __attribute__((noreturn))
log_die(const char *prefix, const char *fmt, va_list ap)
{
	char line[1024];

	vsnprintf(line, sizeof line, fmt, ap);
	syslog(LOG_ERR, "%s%s", prefix, line);
	if (log_fd != -1)
		dprintf(log_fd, "%s[%ld]: %s%s\n", log_ident, (long)getpid(),
		    prefix, line);
	if (log_stderr)
		fprintf(stderr, "%s[%ld]: %s%s\n", log_ident, (long)getpid(),
		    prefix, line);
	if (log_echo != -1) {
		fflush(stdout);
		dprintf(log_echo, "%s[%ld]: %s%s\n", log_ident, (long)getpid(),
		    prefix, line);
	}
	log_status("4.3.0", line);
	exit(EX_TEMPFAIL);
}

/* log_fatal - log once and exit 75: the message stays with the MTA */
void
log_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_die("fatal: ", fmt, ap);
	va_end(ap);
}

/* log_panic - our own bug: log and exit 75 all the same */
void
log_panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_die("panic: ", fmt, ap);
	va_end(ap);
}

/*
 * log.c - the one way lda reports: syslog (mail facility) or the system
 * log file (--log-file), an optional LOGFILE, and stderr when asked or
 * interactive.
 * Does: one line per call, after the message is read prefixed with the
 * MTA's queue ID and the message's Message-ID; log_fatal and log_panic
 * end the run with exit 75 after printing the RFC 3463 status line the
 * MTA records. When syslog cannot be reached (no /dev/log: containers,
 * minimal hosts) the lines are kept and written to stderr at exit, after
 * the status line, under one line that says so (postfix's pipe records
 * the output).
 * Does not: decide outcomes; retry.
 */
#include <errno.h>
#include <fcntl.h>
#include <paths.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sysexits.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "fdio.h"
#include "log.h"
#include "status.h"

#define KEPT_MAX (32 * 1024)	/* bytes of lines kept without syslog */

static int log_stderr;
static int log_verbose;
static int log_fd = -1;
static int log_echo = -1;
static const char *log_ident = "lda";
static char log_ctx[400];	/* "QUEUEID: message-id=<...>: " or "" */

/* Where the system's copy of each line goes. */
static enum { SYS_UNKNOWN, SYS_SYSLOG, SYS_FILE, SYS_KEPT } sys_sink;
static int sys_fd = -1;		/* --log-file */
/* SYS_KEPT: the lines, in a memory file every process of the run (a -d
   recipient's child, a "c {" clone) appends to; the process that opened
   the log writes them to stderr as it exits, after the one status line. */
static int kept_fd = -1;
static pid_t kept_owner;
static int kept_full;		/* lines were left out */
static char sys_why[160];	/* why syslog cannot be reached */

static void log_kept_flush(void);
static int syslog_reachable(void);

/* log_open - syslog as ident, or (no syslog) the kept lines; to_stderr
   mirrors lines to stderr */
void
log_open(const char *ident, int to_stderr)
{
	log_ident = ident;
	log_stderr = to_stderr;
	openlog(ident, LOG_PID, LOG_MAIL);
	sys_sink = syslog_reachable() ? SYS_SYSLOG : SYS_KEPT;
	if (sys_sink == SYS_KEPT) {
		kept_fd = memfd_create("lda-log", MFD_CLOEXEC);
		if (kept_fd != -1 && fcntl(kept_fd, F_SETFL, O_APPEND) == -1) {
			close(kept_fd);
			kept_fd = -1;
		}
		kept_owner = getpid();
		atexit(log_kept_flush);
	}
}

/* log_set_system_file - the system's copy goes to path (see log.h) */
int
log_set_system_file(const char *path, char **why)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW |
	    O_CLOEXEC | O_NOCTTY, 0640);

	if (fd == -1) {
		snprintf(sys_why, sizeof sys_why, "%s", strerror(errno));
		*why = sys_why;
		return -1;
	}
	if (sys_fd != -1)
		close(sys_fd);
	sys_fd = fd;
	sys_sink = SYS_FILE;
	if (kept_fd != -1)
		close(kept_fd);
	kept_fd = -1;
	return 0;
}

/* log_set_context - what each line starts with (see log.h) */
void
log_set_context(const char *queue_id, const char *message_id)
{
	size_t n = 0;

	log_ctx[0] = '\0';
	if (queue_id && *queue_id)
		n += (size_t)snprintf(log_ctx, sizeof log_ctx, "%s: ", queue_id);
	if (message_id && *message_id && n < sizeof log_ctx)
		snprintf(log_ctx + n, sizeof log_ctx - n, "message-id=%s: ",
		    message_id);
}

/* syslog_reachable - can a line reach syslogd? (one connect, cached) */
static int
syslog_reachable(void)
{
	static const int types[] = { SOCK_DGRAM, SOCK_STREAM };
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int e = 0;

	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", _PATH_LOG);
	for (unsigned i = 0; i < 2; i++) {
		int fd = socket(AF_UNIX, types[i] | SOCK_CLOEXEC, 0);
		if (fd == -1) {
			e = errno;
			continue;
		}
		if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0) {
			close(fd);
			return 1;
		}
		e = errno;
		close(fd);
		if (e != EPROTOTYPE)
			break;
	}
	snprintf(sys_why, sizeof sys_why, "%s: %s", _PATH_LOG, strerror(e));
	return 0;
}

/* sys_line - the system's copy of one line */
static void
sys_line(int prio, const char *line)
{
	if (sys_sink == SYS_SYSLOG || sys_sink == SYS_UNKNOWN) {
		syslog(prio, "%s", line);
	} else if (sys_sink == SYS_FILE) {
		char stamp[64], host[128], out[2400];
		time_t now = time(NULL);
		struct tm tm;
		int m;
		if (gethostname(host, sizeof host) == -1)
			snprintf(host, sizeof host, "localhost");
		host[sizeof host - 1] = '\0';
		localtime_r(&now, &tm);
		if (strftime(stamp, sizeof stamp, "%b %e %H:%M:%S", &tm) == 0)
			stamp[0] = '\0';
		m = snprintf(out, sizeof out, "%s %s %s[%ld]: %s\n", stamp, host,
		    log_ident, (long)getpid(), line);
		if (m > (int)sizeof out - 1) {
			m = (int)sizeof out - 1;
			out[m - 1] = '\n';
		}
		(void)fd_write_all(sys_fd, out, (size_t)m);
	} else if (log_echo == -1) {	/* --test shows them itself */
		char out[2200];
		struct stat st;
		int m = snprintf(out, sizeof out, "%s[%ld]: %s\n", log_ident,
		    (long)getpid(), line);
		if (m > (int)sizeof out - 1) {
			m = (int)sizeof out - 1;
			out[m - 1] = '\n';
		}
		if (kept_fd == -1)		/* no memory file: now */
			(void)fd_write_all(2, out, (size_t)m);
		else if (fstat(kept_fd, &st) == 0 && st.st_size + m <= KEPT_MAX)
			(void)fd_write_all(kept_fd, out, (size_t)m);
		else if (!kept_full++)	/* beyond KEPT_MAX: said once */
			(void)fd_write_all(kept_fd, "...\n", 4);
	}
}

/* log_kept_flush - without syslog: say so, then the lines, on stderr
   (at the exit of the process that opened the log: after the status
   line) */
static void
log_kept_flush(void)
{
	char chunk[4096];
	off_t off = 0;
	ssize_t n;
	struct stat st;

	if (kept_fd == -1 || kept_owner != getpid() || log_echo != -1 ||
	    fstat(kept_fd, &st) == -1 || st.st_size == 0)
		return;
	fflush(stdout);
	fprintf(stderr, "%s: syslog cannot be reached (%s); the log lines "
	    "of this delivery follow (set --log-file for a file)\n", log_ident,
	    sys_why);
	fflush(stderr);
	while (!log_stderr && (n = pread(kept_fd, chunk, sizeof chunk,
	    off)) > 0) {	/* (with log_stderr they came as they went) */
		(void)fd_write_all(2, chunk, (size_t)n);
		off += n;
	}
	close(kept_fd);
	kept_fd = -1;
}

/* log_end - a process that ends with _exit: its kept lines are in the
   shared memory file already; the parent writes them */
void
log_end(void)
{
	log_kept_flush();	/* only does anything in the log's opener */
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
	if (log_fd == -1) {
		char line[1200];
		snprintf(line, sizeof line, "%scannot open LOGFILE %s: %s",
		    log_ctx, path, strerror(errno));
		sys_line(LOG_WARNING, line);
	}
}

/* log_emit - one line to every sink */
static void
log_emit(int prio, const char *fmt, va_list ap)
{
	char line[2048];
	int n;

	n = snprintf(line, sizeof line, "%s", log_ctx);
	if (n < 0 || vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap) < 0)
		return;
	sys_line(prio, line);
	if (log_fd != -1 || log_stderr || log_echo != -1) {
		char out[2200];
		int m = snprintf(out, sizeof out, "%s[%ld]: %s\n", log_ident,
		    (long)getpid(), line);
		if (m > (int)sizeof out - 1) {
			m = (int)sizeof out - 1;
			out[m - 1] = '\n';
		}
		if (log_fd != -1 && write(log_fd, out, (size_t)m) < 0)
			sys_line(LOG_WARNING, "LOGFILE write failed");
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

/* log_die - log, print the 4.3.0 status line and exit EX_TEMPFAIL */
static void __attribute__((noreturn))
log_die(const char *prefix, const char *fmt, va_list ap)
{
	char line[1024], sys[1500];

	vsnprintf(line, sizeof line, fmt, ap);
	snprintf(sys, sizeof sys, "%s%s%s", log_ctx, prefix, line);
	sys_line(LOG_ERR, sys);
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
	status_print("4.3.0", line);
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

/*
 * undo.c - the way out on a termination signal or at the end of the
 * run's time budget: undo what is not committed, say so, exit 75.
 * Does: the handlers for HUP, INT, QUIT, TERM, USR1, USR2 and ALRM (the
 * budget); a registry of what is in progress (an mbox append, a file not
 * yet linked, a program); forwarding to the -d child in a root parent.
 * Everything the handler touches is async-signal-safe: fixed buffers,
 * ftruncate, fsync, unlink, kill, write, _exit.
 * Does not: decide any other outcome; log to syslog (not safe in a
 * handler): the status line is what the MTA records.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "undo.h"

static const int sigs[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1,
    SIGUSR2, SIGALRM };

static pid_t owner;		/* the process these entries belong to */
static time_t started;		/* monotonic seconds at the start */
static long budget = UNDO_DEADLINE_DEFAULT;
static int mbox_fd = -1;
static off_t mbox_size;
static char mbox_lock[PATH_MAX];
static char file_path[2][PATH_MAX];
static sigset_t held;
static int holding;
static pid_t program;
static pid_t forward_to;
static volatile sig_atomic_t stopping;
static int out_fd = 1;		/* where the status line goes */

/* mono - monotonic seconds */
static time_t
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* block - signals off (1) or back on (0) while the registry changes */
static void
block(int on, sigset_t *old)
{
	sigset_t set;

	if (on) {
		sigemptyset(&set);
		for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
			sigaddset(&set, sigs[i]);
		sigprocmask(SIG_BLOCK, &set, old);
	} else
		sigprocmask(SIG_SETMASK, old, NULL);
}

/* put - write s where the status line goes (async-signal-safe) */
static void
put(const char *s)
{
	size_t n = strlen(s);

	while (n > 0) {
		ssize_t w = write(out_fd, s, n);
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

/* put_num - a decimal number, as put */
static void
put_num(long v)
{
	char b[24], *p = b + sizeof b - 1;

	*p = '\0';
	do
		*--p = (char)('0' + v % 10);
	while ((v /= 10) > 0 && p > b);
	put(p);
}

/* sig_name - the name of the signals we catch */
static const char *
sig_name(int sig)
{
	switch (sig) {
	case SIGHUP: return "HUP";
	case SIGINT: return "INT";
	case SIGQUIT: return "QUIT";
	case SIGTERM: return "TERM";
	case SIGUSR1: return "USR1";
	case SIGUSR2: return "USR2";
	default: return "ALRM";
	}
}

/* on_signal - undo, the status line, exit 75 */
static void
on_signal(int sig)
{
	int e = errno;

	if (getpid() != owner) {
		/* a child between fork and exec: the signal's default */
		signal(sig, SIG_DFL);
		raise(sig);
		errno = e;
		return;
	}
	if (forward_to > 0) {
		kill(forward_to, sig == SIGALRM ? SIGTERM : sig);
		stopping = 1;
		errno = e;
		return;
	}
	if (program > 0) {	/* the program and what it started */
		kill(-program, SIGTERM);
		kill(program, SIGTERM);
	}
	if (mbox_fd != -1 && ftruncate(mbox_fd, mbox_size) == 0)
		(void)fsync(mbox_fd);
	if (mbox_lock[0])
		(void)unlink(mbox_lock);
	for (int i = 0; i < 2; i++)
		if (file_path[i][0])
			(void)unlink(file_path[i]);
	if (sig == SIGALRM) {
		put("4.3.0 time budget (DEADLINE=");
		put_num(budget);
		put(" s) spent: stopped, nothing half-written left; "
		    "try again later\n");
	} else {
		put("4.3.0 stopped by signal ");
		put(sig_name(sig));
		put(": nothing half-written left; try again later\n");
	}
	_exit(75);
}

/* undo_init - handlers and the default budget */
void
undo_init(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigfillset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigaction(sigs[i], &sa, NULL);
	owner = getpid();
	started = mono();
	alarm((unsigned)budget);
}

/* undo_child_start - the -d child's own registry and alarm */
void
undo_child_start(int status_fd)
{
	out_fd = status_fd;
	owner = getpid();
	forward_to = 0;
	stopping = 0;
	alarm((unsigned)(undo_left() > 0 ? undo_left() : 1));
}

/* undo_adopt - a fork that goes on as the -d child (mailspool.c: the
   process that becomes the user, its root helper forwarding to it): the
   registry, the handler's work and the alarm are its own */
void
undo_adopt(void)
{
	if (owner == 0)		/* no undo_init: a dry run */
		return;
	owner = getpid();
	forward_to = 0;
	stopping = 0;
	alarm((unsigned)(undo_left() > 0 ? undo_left() : 1));
}

/* undo_deadline - the budget counted from the start of the run */
void
undo_deadline(long secs)
{
	budget = secs > 0 ? secs : UNDO_DEADLINE_DEFAULT;
	if (owner != 0)
		alarm((unsigned)(undo_left() > 0 ? undo_left() : 1));
}

/* undo_left - seconds of the budget left */
long
undo_left(void)
{
	long left = budget - (long)(mono() - started);

	return left > 0 ? left : 0;
}

/* copy - a path into a registry buffer ("" when NULL or too long) */
static void
copy(char *dst, const char *src)
{
	if (src == NULL || lda_strlcpy(dst, src, PATH_MAX) >= PATH_MAX)
		dst[0] = '\0';
}

void
undo_mbox(int fd, off_t size, const char *lock)
{
	sigset_t old;

	block(1, &old);
	mbox_fd = fd;
	mbox_size = size;
	copy(mbox_lock, lock);
	block(0, &old);
}

void
undo_mbox_committed(void)
{
	mbox_fd = -1;
}

void
undo_mbox_done(void)
{
	sigset_t old;

	block(1, &old);
	mbox_fd = -1;
	mbox_lock[0] = '\0';
	block(0, &old);
}

void
undo_file(int slot, const char *path)
{
	sigset_t old;

	if (!holding)
		block(1, &old);
	copy(file_path[slot & 1], path);
	if (!holding)
		block(0, &old);
}

void
undo_hold(int on)
{
	if (on && !holding) {
		block(1, &held);
		holding = 1;
	} else if (!on && holding) {
		holding = 0;
		block(0, &held);
	}
}

void
undo_program(pid_t pid)
{
	program = pid;
}

void
undo_forward(pid_t child)
{
	forward_to = child;
}

int
undo_stopping(void)
{
	return stopping;
}

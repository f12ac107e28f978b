/*
 * mbox.c - one copy of the message appended to an mbox file.
 * Does: a dotlock (path.lock, with a timeout; it records who holds it and
 * the mbox's size before the append) and an fcntl lock; the "From sender
 * date" line; ">From " quoting of every line after it that begins with
 * "From " (header and body, as procmail does); a blank line after the
 * message; fsync. A failed write, a termination signal or the run's
 * deadline (undo.c) truncates the mbox back, so it never keeps half a
 * message. After a SIGKILL, whoever breaks the dead writer's lock
 * truncates its partial append away, and a tail that does not end a
 * message (however it came) is closed off before the next From_ line.
 * The message's own From_ line (as it came, or as a filter wrote it) is
 * kept when a mail reader would take it for one (procmail keeps it
 * whatever it is); else a new one is written.
 * Refuses what is not a regular file (opened non-blocking: a FIFO never
 * hangs us) and, in a directory others can write, a file someone else
 * owns (checked on the open descriptor).
 * Does not: Content-Length headers, mbox reading beyond the tail, logging.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "fdio.h"
#include "local.h"
#include "mailspool.h"
#include "undo.h"
#include "xalloc.h"

#define STALE_LOCK 300	/* seconds after which a dotlock is broken */

/* ms - a monotonic clock in milliseconds */
static long long
ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* pause_ms - sleep a little, more as the wait goes on, with jitter so
   that many waiters do not wake together */
static void
pause_ms(int round)
{
	static unsigned r;
	struct timespec ts;
	long w = round < 3 ? 10L << round : 80;

	r = r * 1103515245u + 12345u + (unsigned)getpid();
	w += (long)(r >> 16) % (w / 2 + 1);
	ts.tv_sec = w / 1000;
	ts.tv_nsec = (w % 1000) * 1000000L;
	nanosleep(&ts, NULL);
}

/* host - this machine's name, for the lock record */
static void
host(char *h, size_t n)
{
	if (gethostname(h, n) == -1)
		lda_strlcpy(h, "localhost", n);
	h[n - 1] = '\0';
	for (char *p = h; *p; p++)
		if (*p == ' ' || *p == '\n')
			*p = '_';
}

/* lock_record - "lda PID HOST [SIZE]\n" into the lock file fd */
static void
lock_record(int fd, long long size)
{
	char line[400], h[256];
	int n;

	host(h, sizeof h);
	if (size < 0)
		n = snprintf(line, sizeof line, "lda %ld %s\n", (long)getpid(), h);
	else
		n = snprintf(line, sizeof line, "lda %ld %s %lld\n",
		    (long)getpid(), h, size);
	if (n > 0 && (size_t)n < sizeof line &&
	    pwrite(fd, line, (size_t)n, 0) == n && ftruncate(fd, n) == -1)
		return;	/* a record that cannot be read is judged by age */
}

/*
 * stale - is the lock at path stale? Yes when its writer (an lda on this
 * host, by its record) is dead, or when it is older than STALE_LOCK.
 * *prev: the mbox size the dead writer recorded before its append, or
 * -1. *ino: the lock's inode, so we remove only the lock we judged.
 */
static int
stale(const char *path, long long *prev, ino_t *ino)
{
	char rec[400], h[256], rh[256];
	struct stat st;
	long pid;
	long long size;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC), n;
	int dead = 0;
	ssize_t r;

	*prev = -1;
	if (fd == -1) {
		if (errno == ENOENT)
			return 0;	/* gone: try again at once */
		if (lstat(path, &st) == -1)
			return 0;
		*ino = st.st_ino;
		return time(NULL) - st.st_mtime > STALE_LOCK;
	}
	if (fstat(fd, &st) == -1) {
		close(fd);
		return 0;
	}
	*ino = st.st_ino;
	r = read(fd, rec, sizeof rec - 1);
	close(fd);
	rec[r > 0 ? r : 0] = '\0';
	host(h, sizeof h);
	n = sscanf(rec, "lda %ld %255s %lld", &pid, rh, &size);
	if (n >= 2 && pid > 0 && strcmp(rh, h) == 0 &&
	    kill((pid_t)pid, 0) == -1 && errno == ESRCH)
		dead = 1;
	if (dead && n == 3)
		*prev = size;
	return dead || time(NULL) - st.st_mtime > STALE_LOCK;
}

/* dotlock - create path.lock, waiting up to timeout seconds; its record
   names us. 1 locked (*fd_r open on it), 0 no permission to lock there
   (fcntl alone then), -1 timeout/error. *prev: see stale() */
static int
dotlock(const char *lock, int timeout, int *fd_r, long long *prev)
{
	long long give_up = ms() + (long long)timeout * 1000;

	*prev = -1;
	for (int round = 0;; round++) {
		struct stat st;
		long long p;
		ino_t ino = 0;
		int fd = open(lock, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0444);
		if (fd != -1) {
			lock_record(fd, -1);
			*fd_r = fd;
			return 1;
		}
		if (errno == EACCES || errno == EPERM || errno == EROFS)
			return 0;
		if (errno != EEXIST)
			return -1;
		if (stale(lock, &p, &ino)) {
			/* only the lock we judged, not a new one */
			if (lstat(lock, &st) == -1 || st.st_ino != ino)
				continue;
			if (unlink(lock) == 0) {
				*prev = p;
				continue;
			}
			/* a stale lock in a spool we may not write (lda as
			   the user on Debian's 2775 /var/mail): fcntl alone,
			   as when we may not create one; never spin on it */
			if (errno == EACCES || errno == EPERM || errno == EROFS)
				return 0;
		}
		if (ms() >= give_up) {
			errno = ETIMEDOUT;
			return -1;
		}
		pause_ms(round);
	}
}

/* mbox_dotlock - dotlock() for the system mailbox's root helper
   (mailspool.c), so that both lock and break stale locks alike */
int
mbox_dotlock(const char *lock, int timeout, int *fd_r, long long *prev)
{
	return dotlock(lock, timeout, fd_r, prev);
}

/* fcntl_lock - an exclusive fcntl lock, waiting up to timeout seconds */
static int
fcntl_lock(int fd, int timeout)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	long long give_up = ms() + (long long)timeout * 1000;

	for (int round = 0;; round++) {
		if (fcntl(fd, F_SETLK, &fl) == 0)
			return 0;
		if (errno != EACCES && errno != EAGAIN && errno != EINTR)
			return -1;
		if (ms() >= give_up) {
			errno = ETIMEDOUT;
			return -1;
		}
		pause_ms(round);
	}
}

/* in3 - is the 3-letter word at p one of list's (3 letters each)? */
static int
in3(const char *list, const char *p)
{
	for (; *list; list += 3)
		if (strncmp(list, p, 3) == 0)
			return 1;
	return 0;
}

/* digits - skip min to max digits at p; the byte after them, or NULL */
static const char *
digits(const char *p, int min, int max)
{
	int n = 0;

	while (n < max && p[n] >= '0' && p[n] <= '9')
		n++;
	return n >= min ? p + n : NULL;
}

/* from_date - does a date as mail readers look for it in a From_ line
   begin at p: "Mon Jan  1 00:00:00 [ZONE ]2024" (ctime's form)? */
static int
from_date(const char *p)
{
	if (!in3("MonTueWedThuFriSatSun", p) || p[3] != ' ' ||
	    !in3("JanFebMarAprMayJunJulAugSepOctNovDec", p + 4) || p[7] != ' ')
		return 0;
	p += p[8] == ' ' ? 9 : 8;
	if ((p = digits(p, 1, 2)) == NULL || *p++ != ' ' ||
	    (p = digits(p, 2, 2)) == NULL || *p++ != ':' ||
	    (p = digits(p, 2, 2)) == NULL || *p++ != ':' ||
	    (p = digits(p, 2, 2)) == NULL || *p++ != ' ')
		return 0;
	if (*p >= 'A' && *p <= 'Z') {		/* a zone name */
		const char *z = p;
		while (*p >= 'A' && *p <= 'Z' && p - z < 5)
			p++;
		if (*p++ != ' ')
			return 0;
	} else if ((*p == '+' || *p == '-') && digits(p + 1, 4, 4)) {
		p += 5;
		if (*p++ != ' ')
			return 0;
	}
	p = digits(p, 4, 4);
	return p && (*p == '\0' || *p == ' ');
}

/*
 * from_line_fit - may the message's own From_ line (kept as it came, or
 * written by a filter, as procmail keeps it) start its copy in an mbox?
 * Only a line a mail reader takes for a From_ line: one line of at most
 * FROM_KEEP_MAX printable bytes, "From sender date". Anything else would
 * let the message run into the one before it; it gets a new line.
 */
#define FROM_KEEP_MAX 1000
static int
from_line_fit(const char *line)
{
	size_t len = line ? strlen(line) : 0;

	if (len < 5 || len > FROM_KEEP_MAX || strncmp(line, "From ", 5) != 0)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (((unsigned char)line[i] < 0x20 && line[i] != '\t') ||
		    line[i] == 0x7f)
			return 0;
	for (size_t i = 6; i < len; i++)
		if (line[i - 1] == ' ' && from_date(line + i))
			return strspn(line + 5, " \t") < i - 5;
	return 0;
}

/* write_from_line - the message's own From_ line if fit, else a new one:
   "From sender  Sat Nov 21 23:10:26 2026" */
static int
write_from_line(int fd, const char *own, const char *sender)
{
	char line[1100], date[64];
	time_t now = time(NULL);
	struct tm tm;
	int n;

	if (from_line_fit(own))
		return fd_write_all(fd, own, strlen(own)) == -1 ? -1 :
		    fd_write_all(fd, "\n", 1);
	localtime_r(&now, &tm);
	strftime(date, sizeof date, "%a %b %e %H:%M:%S %Y", &tm);
	n = snprintf(line, sizeof line, "From %.1000s  %s\n",
	    sender && *sender ? sender : "MAILER-DAEMON", date);
	/* One line, whatever the sender holds. */
	for (int i = 5; i < n - 1 && i < (int)sizeof line - 1; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			line[i] = '?';
	return fd_write_all(fd, line, (size_t)n);
}

/* write_quoted - the bytes [from, to) of the message with each line that
   begins with "From " quoted as ">From " (from is a line start) */
static int
write_quoted(const struct spool *sp, int fd, off_t from, off_t to)
{
	static char chunk[65536];
	off_t off = from;
	int bol = 1;	/* at the beginning of a line */

	while (off < to) {
		size_t want = to - off < (off_t)sizeof chunk ?
		    (size_t)(to - off) : sizeof chunk;
		ssize_t n = spool_pread(sp, chunk, want, off);
		size_t start = 0, end;
		if (n <= 0)
			return n == 0 ? (errno = EIO, -1) : -1;
		end = (size_t)n;
		/* A line start too near the end is handled by the next read. */
		if (off + n < to)
			for (size_t i = end >= 5 ? end - 5 : 0; i < end; i++)
				if (chunk[i] == '\n' && i + 1 < end && end - i - 1 < 5) {
					end = i + 1;
					break;
				}
		for (size_t i = 0; i < end; i++) {
			if (bol && end - i >= 5 && memcmp(chunk + i, "From ", 5) == 0) {
				if (fd_write_all(fd, chunk + start, i - start) == -1 ||
				    fd_write_all(fd, ">", 1) == -1)
					return -1;
				start = i;
			}
			bol = chunk[i] == '\n';
		}
		if (fd_write_all(fd, chunk + start, end - start) == -1)
			return -1;
		off += (off_t)end;
	}
	return 0;
}

/* append - From_ line, header, body, separating blank line; fsync */
static int
append(const struct spool *sp, int fd, const char *sender)
{
	char tail[2] = { '\n', '\n' };

	/* A "From " line in the header is quoted too: unquoted, a reader
	   would split a forged second message out of it. */
	if (write_from_line(fd, sp->from_line, sender) == -1 ||
	    write_quoted(sp, fd, 0, sp->size) == -1)
		return -1;
	if (sp->size == 0)
		tail[0] = 0;	/* empty message: one blank line */
	if (sp->size > 0 && spool_pread(sp, tail + (sp->size == 1),
	    sp->size >= 2 ? 2 : 1, sp->size >= 2 ? sp->size - 2 : 0) < 1)
		return -1;
	/*
	 * End the message with a blank line, which the next From_ line needs
	 * before it. procmail adds a single newline to a message without a
	 * final one; we add two, so the mbox stays parseable.
	 */
	if (tail[1] != '\n' && fd_write_all(fd, "\n\n", 2) == -1)
		return -1;
	if (tail[1] == '\n' && tail[0] != '\n' && fd_write_all(fd, "\n", 1) == -1)
		return -1;
	return fsync(fd);
}

/*
 * one_partial - are the bytes [prev, size) of the mbox one message alone
 * (a From_ line at prev and no other line beginning "From " after it)?
 * That is a dead writer's append: ours quote every other "From " line.
 */
static int
one_partial(int fd, off_t prev, off_t size)
{
	static char chunk[65536];
	char last = 0;
	off_t off = prev;

	while (off < size) {
		ssize_t n = pread(fd, chunk, sizeof chunk, off);
		if (n <= 0)
			return 0;
		for (ssize_t i = 0; i < n; i++) {
			int bol = off + i == prev || last == '\n';
			if (off + i == prev && (n < 5 || memcmp(chunk, "From ", 5)))
				return 0;
			if (bol && off + i > prev && i + 5 <= n &&
			    memcmp(chunk + i, "From ", 5) == 0)
				return 0;
			if (bol && off + i > prev && i + 5 > n &&
			    pread(fd, chunk, 5, off + i) == 5 &&
			    memcmp(chunk, "From ", 5) == 0)
				return 0;
			last = chunk[i];
		}
		off += n;
	}
	return 1;
}

/* close_tail - end what the mbox holds with a blank line, so that the
   next From_ line starts a message of its own (a writer killed mid-
   append leaves a tail without one) */
static int
close_tail(int fd, off_t size)
{
	char t[2] = { '\n', '\n' };

	if (size == 0)
		return 0;
	if (pread(fd, t + (size == 1), size >= 2 ? 2 : 1,
	    size >= 2 ? size - 2 : 0) < 1)
		return 0;	/* not readable (opened write-only): as it is */
	if (t[1] != '\n')
		return fd_write_all(fd, "\n\n", 2);
	if (t[0] != '\n')
		return fd_write_all(fd, "\n", 1);
	return 0;
}

/* foreign - a file another user owns, in a directory others than its
   owner can write (a pre-created trap in a shared spool) */
static int
foreign(const char *path, const struct stat *st)
{
	char *copy = xstrdup(path);
	struct stat dst;
	int r = 0;

	if (st->st_uid != geteuid() && stat(dirname(copy), &dst) == 0 &&
	    (dst.st_mode & (S_IWGRP | S_IWOTH | S_ISVTX)) != 0)
		r = 1;
	free(copy);
	return r;
}

/* open_mbox - open path for appending without blocking (a FIFO) and
   check what it is on the descriptor; fd, or -1 with *err and *o */
static int
open_mbox(const char *path, struct stat *st, char **err, enum outcome *o)
{
	int flags = O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
	int fd = open(path, O_RDWR | flags, LOCAL_FILE_MODE);

	if (fd == -1 && errno == EACCES)
		fd = open(path, O_WRONLY | flags, LOCAL_FILE_MODE);
	if (fd == -1 && errno == ENXIO) {	/* a FIFO with no reader */
		*err = xasprintf("mbox %s: not a regular file", path);
		*o = OUT_CANTCREAT;
		return -1;
	}
	if (fd == -1) {
		*o = local_fail(err, "open mbox", path, errno);
		return -1;
	}
	if (fstat(fd, st) == -1)
		*o = local_fail(err, "fstat", path, errno);
	else if (!S_ISREG(st->st_mode)) {
		*err = xasprintf("mbox %s: not a regular file", path);
		*o = OUT_CANTCREAT;
	} else if (foreign(path, st)) {
		*err = xasprintf("mbox %s: owned by uid %ld, not by us (uid %ld), "
		    "in a directory others can write: refused", path,
		    (long)st->st_uid, (long)geteuid());
		*o = OUT_TEMPFAIL;
	} else {
		(void)fcntl(fd, F_SETFL, O_APPEND);	/* blocking again */
		return fd;
	}
	close(fd);
	return -1;
}

/* mbox_deliver - locked append, truncated back on failure */
enum outcome
mbox_deliver(const struct spool *sp, const char *path, const char *sender,
    int lock_timeout, int want_dotlock, char **path_r, char **err)
{
	char *lock = xasprintf("%s.lock", path);
	enum outcome o = OUT_DELIVERED;
	struct stat st;
	/* The recipient's system mailbox on a spool it may not write: the
	   root helper takes the dotlock and creates the file (mailspool.h);
	   it removes the lock too, also when we are killed. */
	int helped = mailspool_mine(path);
	long long prev;
	int fd = -1, lockfd = -1, locked;

	prev = -1;
	locked = !want_dotlock ? 0 :
	    helped ? mailspool_lock(lock_timeout, &lockfd, &prev) :
	    dotlock(lock, lock_timeout, &lockfd, &prev);
	if (locked == -1) {
		o = local_fail(err, "lock", lock, errno);
		if (errno == ETIMEDOUT)
			o = OUT_TEMPFAIL;
		free(lock);
		return o;
	}
	if (locked == 1)
		undo_mbox(-1, 0, helped ? NULL : lock);
	if (helped && mailspool_create() == -1)
		o = local_fail(err, "create mbox", path, errno);
	else if ((fd = open_mbox(path, &st, err, &o)) == -1)
		;
	else if (fcntl_lock(fd, lock_timeout) == -1 || fstat(fd, &st) == -1)
		o = errno == ETIMEDOUT ? (*err = xasprintf("lock %s: timeout", path),
		    OUT_TEMPFAIL) : local_fail(err, "lock", path, errno);
	else {
		/* A dead lda's partial append goes; what is left ends a
		   message before ours begins. */
		if (prev >= 0 && prev < st.st_size &&
		    one_partial(fd, (off_t)prev, st.st_size) &&
		    ftruncate(fd, (off_t)prev) == 0) {
			(void)fsync(fd);
			st.st_size = (off_t)prev;
		}
		if (lockfd != -1)
			lock_record(lockfd, (long long)st.st_size);
		undo_mbox(fd, st.st_size, locked == 1 && !helped ? lock : NULL);
		if (close_tail(fd, st.st_size) == -1 ||
		    append(sp, fd, sender) == -1) {
			o = local_fail(err, "write mbox", path, errno);
			/* Never leave half a message behind. */
			if (ftruncate(fd, st.st_size) == 0)
				fsync(fd);
		}
		undo_mbox_committed();
	}
	if (fd != -1)
		close(fd);
	if (lockfd != -1)
		close(lockfd);
	undo_mbox_done();
	if (locked == 1 && helped)
		mailspool_unlock();
	else if (locked == 1)
		unlink(lock);
	if (o == OUT_DELIVERED && path_r)
		*path_r = xstrdup(path);
	free(lock);
	return o;
}

/*
 * mbox.c - one copy of the message appended to an mbox file.
 * Does: a dotlock (path.lock, with a timeout, stale locks broken) and an
 * fcntl lock; the "From sender  date" line; ">From " quoting of body lines;
 * a blank line after the message; fsync. A failed write is truncated away,
 * so the mbox is never left with half a message.
 * Does not: Content-Length headers, mbox reading, logging.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fdio.h"
#include "local.h"
#include "mailspool.h"
#include "xalloc.h"

#define STALE_LOCK 300	/* seconds after which a dotlock is broken */

/* dotlock - create path.lock, waiting up to timeout seconds. 1 locked,
   0 no permission to lock there (fcntl alone then), -1 timeout/error */
static int
dotlock(const char *lock, int timeout)
{
	for (int waited = 0;; waited++) {
		struct stat st;
		int fd = open(lock, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
		if (fd != -1) {
			close(fd);
			return 1;
		}
		if (errno == EACCES || errno == EPERM || errno == EROFS)
			return 0;
		if (errno != EEXIST)
			return -1;
		if (stat(lock, &st) == 0 && time(NULL) - st.st_mtime > STALE_LOCK)
			unlink(lock);
		else if (waited >= timeout) {
			errno = ETIMEDOUT;
			return -1;
		} else
			sleep(1);
	}
}

/* mbox_dotlock - dotlock() for the system mailbox's root helper
   (mailspool.c), so that both lock and break stale locks alike */
int
mbox_dotlock(const char *lock, int timeout, int *fd_r, long long *prev)
{
	*fd_r = -1;
	*prev = -1;
	return dotlock(lock, timeout);
}

/* fcntl_lock - an exclusive fcntl lock, waiting up to timeout seconds */
static int
fcntl_lock(int fd, int timeout)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

	for (int waited = 0;; waited++) {
		if (fcntl(fd, F_SETLK, &fl) == 0)
			return 0;
		if (errno != EACCES && errno != EAGAIN && errno != EINTR)
			return -1;
		if (waited >= timeout) {
			errno = ETIMEDOUT;
			return -1;
		}
		sleep(1);
	}
}

/* write_from_line - "From sender  Sat Nov 21 23:10:26 2026" */
static int
write_from_line(int fd, const char *sender)
{
	char line[1100], date[64];
	time_t now = time(NULL);
	struct tm tm;
	int n;

	localtime_r(&now, &tm);
	strftime(date, sizeof date, "%a %b %e %H:%M:%S %Y", &tm);
	n = snprintf(line, sizeof line, "From %.1000s  %s\n",
	    sender && *sender ? sender : "MAILER-DAEMON", date);
	return fd_write_all(fd, line, (size_t)n);
}

/* write_body - body lines with "From " quoted as ">From " */
static int
write_body(const struct spool *sp, int fd)
{
	static char chunk[65536];
	off_t off = sp->body_off;
	int bol = 1;	/* at the beginning of a line */

	while (off < sp->size) {
		ssize_t n = spool_pread(sp, chunk, sizeof chunk, off);
		size_t start = 0, end;
		if (n <= 0)
			return n == 0 ? (errno = EIO, -1) : -1;
		end = (size_t)n;
		/* A line start too near the end is handled by the next read. */
		if (off + n < sp->size)
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
	char *err = NULL, tail[2] = { '\n', '\n' };

	if (write_from_line(fd, sender) == -1 ||
	    spool_copy(sp, 0, sp->body_off, fd, &err) == -1) {
		free(err);
		return -1;
	}
	if (sp->body_off < sp->size && write_body(sp, fd) == -1)
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

/* mbox_deliver - locked append, truncated back on failure */
enum outcome
mbox_deliver(const struct spool *sp, const char *path, const char *sender,
    int lock_timeout, char **path_r, char **err)
{
	char *lock = xasprintf("%s.lock", path);
	enum outcome o = OUT_DELIVERED;
	struct stat st;
	/* The recipient's system mailbox on a spool it may not write: the
	   root helper takes the dotlock and creates the file (mailspool.h). */
	int helped = mailspool_mine(path);
	long long prev;
	int fd, lockfd = -1, locked;

	locked = helped ? mailspool_lock(lock_timeout, &lockfd, &prev) :
	    dotlock(lock, lock_timeout);
	if (locked == -1) {
		o = local_fail(err, "lock", lock, errno);
		if (errno == ETIMEDOUT)
			o = OUT_TEMPFAIL;
		free(lock);
		return o;
	}
	fd = helped && mailspool_create() == -1 ? -1 : open(path,
	    O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    LOCAL_FILE_MODE);
	if (fd == -1)
		o = local_fail(err, "open mbox", path, errno);
	else if (fcntl_lock(fd, lock_timeout) == -1 || fstat(fd, &st) == -1)
		o = errno == ETIMEDOUT ? (*err = xasprintf("lock %s: timeout", path),
		    OUT_TEMPFAIL) : local_fail(err, "lock", path, errno);
	else if (!S_ISREG(st.st_mode)) {
		*err = xasprintf("mbox %s: not a regular file", path);
		o = OUT_CANTCREAT;
	} else if (append(sp, fd, sender) == -1) {
		o = local_fail(err, "write mbox", path, errno);
		/* Never leave half a message behind. */
		if (ftruncate(fd, st.st_size) == 0)
			fsync(fd);
	}
	if (fd != -1)
		close(fd);
	if (lockfd != -1)
		close(lockfd);
	if (locked == 1 && helped)
		mailspool_unlock();
	else if (locked == 1)
		unlink(lock);
	if (o == OUT_DELIVERED && path_r)
		*path_r = xstrdup(path);
	free(lock);
	return o;
}

/*
 * fdio.c - whole reads and writes on file descriptors, EINTR handled.
 * Does: loop until done or a real error; private unlinked temporary files.
 * Does not: buffer, log, time out (sockets use their own deadlines).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fdio.h"

/* fd_write_all - write n bytes or fail */
int
fd_write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		if (w == 0) {
			errno = EIO;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/* fd_read_full - read n bytes, or fewer at EOF */
ssize_t
fd_read_full(int fd, void *p, size_t n)
{
	char *c = p;
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, c + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/* fd_tmpfile - an unlinked 0600 file in dir */
int
fd_tmpfile(const char *dir)
{
	char path[PATH_MAX];
	mode_t old;
	int fd;

	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd != -1 || (errno != EOPNOTSUPP && errno != EISDIR &&
	    errno != EINVAL && errno != ENOENT))
		return fd;
	if (snprintf(path, sizeof path, "%s/lda.XXXXXX", dir) >=
	    (int)sizeof path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	old = umask(077);
	fd = mkostemp(path, O_CLOEXEC);
	umask(old);
	if (fd != -1)
		unlink(path);
	return fd;
}

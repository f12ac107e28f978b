/*
 * net.c - stream sockets to filter daemons with deadlines.
 * Does: "unix:/path" and "inet:host:port" (host a name or an address,
 * IPv6 in brackets), non-blocking connect, poll() until a deadline for
 * every read and write, MSG_NOSIGNAL so a daemon dying mid-write is an
 * error and not a SIGPIPE that would kill lda.
 * Does not: speak any protocol, log, retry.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../lda/buf.h"
#include "../lda/xalloc.h"
#include "net.h"

#define CHUNK 65536

/* net_now - monotonic milliseconds */
long long
net_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* net_wait - poll fd for events until deadline; 0, or -1 with *err */
static int
net_wait(int fd, short events, long long deadline, const char *what,
    char **err)
{
	struct pollfd p = { .fd = fd, .events = events };

	for (;;) {
		long long left = deadline - net_now();
		int r;
		if (left <= 0) {
			*err = xasprintf("%s: timed out", what);
			return -1;
		}
		r = poll(&p, 1, left > 60000 ? 60000 : (int)left);
		if (r > 0)
			return 0;
		if (r == -1 && errno != EINTR) {
			*err = xasprintf("%s: poll: %s", what, strerror(errno));
			return -1;
		}
	}
}

/* connect_fd - connect a new non-blocking socket to addr by deadline */
static int
connect_fd(int family, const struct sockaddr *addr, socklen_t len,
    long long deadline, const char *spec, char **err)
{
	int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int e = 0;
	socklen_t elen = sizeof e;

	if (fd == -1) {
		*err = xasprintf("connect %s: socket: %s", spec, strerror(errno));
		return -1;
	}
	if (connect(fd, addr, len) == 0)
		return fd;
	if (errno != EINPROGRESS && errno != EAGAIN && errno != EINTR) {
		*err = xasprintf("connect %s: %s", spec, strerror(errno));
		close(fd);
		return -1;
	}
	if (net_wait(fd, POLLOUT, deadline, "connect", err) == -1 ||
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen) == -1 || e != 0) {
		if (*err == NULL)
			*err = xasprintf("connect %s: %s", spec, strerror(e ? e : errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* connect_unix - a unix socket path */
static int
connect_unix(const char *path, long long deadline, const char *spec,
    char **err)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	if (lda_strlcpy(sun.sun_path, path, sizeof sun.sun_path) >=
	    sizeof sun.sun_path) {
		*err = xasprintf("connect %s: socket path too long", spec);
		return -1;
	}
	return connect_fd(AF_UNIX, (struct sockaddr *)&sun, sizeof sun,
	    deadline, spec, err);
}

/* connect_inet - "host:port" or "[v6]:port", every address in turn */
static int
connect_inet(const char *hp, long long deadline, const char *spec,
    char **err)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	const char *colon = strrchr(hp, ':');
	char *host;
	int r, fd = -1;

	if (colon == NULL || colon == hp || colon[1] == '\0') {
		*err = xasprintf("connect %s: want inet:host:port", spec);
		return -1;
	}
	if (hp[0] == '[' && colon[-1] == ']')
		host = xstrndup(hp + 1, (size_t)(colon - hp) - 2);
	else
		host = xstrndup(hp, (size_t)(colon - hp));
	r = getaddrinfo(host, colon + 1, &hints, &res);
	free(host);
	if (r != 0) {
		*err = xasprintf("connect %s: %s", spec, gai_strerror(r));
		return -1;
	}
	for (ai = res; ai && fd == -1; ai = ai->ai_next) {
		free(*err);
		*err = NULL;
		fd = connect_fd(ai->ai_family, ai->ai_addr, ai->ai_addrlen,
		    deadline, spec, err);
	}
	freeaddrinfo(res);
	return fd;
}

/* net_connect - connect to "unix:/path", "/path" or "inet:host:port" */
int
net_connect(const char *spec, long long deadline, char **err)
{
	*err = NULL;
	if (strncmp(spec, "unix:", 5) == 0)
		return connect_unix(spec + 5, deadline, spec, err);
	if (spec[0] == '/')
		return connect_unix(spec, deadline, spec, err);
	if (strncmp(spec, "inet:", 5) == 0)
		return connect_inet(spec + 5, deadline, spec, err);
	*err = xasprintf("connect %s: want unix:/path or inet:host:port", spec);
	return -1;
}

/* net_write - all n bytes by deadline */
int
net_write(int fd, const void *p, size_t n, long long deadline, char **err)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
		if (w > 0) {
			c += w;
			n -= (size_t)w;
			continue;
		}
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1 && errno != EAGAIN) {
			*err = xasprintf("write: %s", strerror(errno));
			return -1;
		}
		if (net_wait(fd, POLLOUT, deadline, "write", err) == -1)
			return -1;
	}
	return 0;
}

/* net_read - up to n bytes, waiting until deadline */
ssize_t
net_read(int fd, void *p, size_t n, long long deadline, char **err)
{
	for (;;) {
		ssize_t r = read(fd, p, n);
		if (r >= 0)
			return r;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN) {
			*err = xasprintf("read: %s", strerror(errno));
			return -1;
		}
		if (net_wait(fd, POLLIN, deadline, "read", err) == -1)
			return -1;
	}
}

/* net_send_spool - bytes [from, to) of sp to fd */
int
net_send_spool(int fd, const struct spool *sp, off_t from, off_t to,
    long long deadline, char **err)
{
	char *chunk = xmalloc(CHUNK);
	int r = 0;

	while (from < to && r == 0) {
		size_t want = (size_t)(to - from) < CHUNK ? (size_t)(to - from) :
		    CHUNK;
		ssize_t n = spool_pread(sp, chunk, want, from);
		if (n <= 0) {
			*err = xasprintf("read spool: %s", n == 0 ?
			    "unexpected end" : strerror(errno));
			r = -1;
		} else {
			r = net_write(fd, chunk, (size_t)n, deadline, err);
			from += n;
		}
	}
	free(chunk);
	return r;
}

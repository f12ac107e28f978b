/*
 * lmtp-io.c - the link under the LMTP client (lmtp.c): a non-blocking
 * connect (unix socket or TCP) with a deadline, reads of reply lines and
 * whole replies (multi-line, enhanced status codes), every one bounded
 * and with a deadline, and buffered writes; through TLS once STARTTLS
 * has run (tls.c). SIGPIPE is never raised (MSG_NOSIGNAL).
 * Does not: know the protocol's order of commands (lmtp.c).
 * Errors: returns -1 and sets *err; never logs, never exits.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "lmtp.h"
#include "lmtp-int.h"
#include "sasl.h"
#include "tls.h"
#include "xalloc.h"

const char *const lmtp_phase_names[] = {
	[LMTP_CONNECT] = "connect", [LMTP_GREETING] = "the greeting",
	[LMTP_LHLO] = "LHLO", [LMTP_AUTH] = "AUTH", [LMTP_MAIL] = "MAIL",
	[LMTP_RCPT] = "RCPT", [LMTP_DATA] = "DATA",
	[LMTP_BODY] = "the message data", [LMTP_DOT] = "the final dot",
	[LMTP_RSET] = "RSET", [LMTP_QUIT] = "QUIT",
	[LMTP_STARTTLS] = "STARTTLS", [LMTP_TLS] = "the TLS handshake",
};

/* now_ms - a monotonic clock in milliseconds */
long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* wait_fd - poll fd for ev until deadline; 1 ready, 0 timeout, -1 error */
int
wait_fd(int fd, short ev, long long deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = ev };
		long long left = deadline - now_ms();
		int r;

		if (left <= 0)
			return 0;
		r = poll(&p, 1, left > 86400000 ? 86400000 : (int)left);
		if (r > 0)
			return 1;
		if (r == 0)
			continue;	/* re-check the clock */
		if (errno != EINTR)
			return -1;
	}
}

/* connect_start - a non-blocking socket, its connect begun (or done);
   -1 with errno */
int
connect_start(int family, const struct sockaddr *sa, socklen_t len)
{
	int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int e;

	if (fd == -1)
		return -1;
	if (connect(fd, sa, len) == 0 || errno == EINPROGRESS || errno == EINTR)
		return fd;
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

/* connect_end - wait (until deadline) for fd's connect; 0, or -1 with
   errno */
int
connect_end(int fd, long long deadline)
{
	int e = 0;
	socklen_t elen = sizeof e;

	switch (wait_fd(fd, POLLOUT, deadline)) {
	case 0:
		errno = ETIMEDOUT;
		return -1;
	case -1:
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen) == -1)
		return -1;
	if (e != 0) {
		errno = e;
		return -1;
	}
	return 0;
}

/* nodelay - commands are small and each waits for a reply */
void
nodelay(int fd)
{
	int one = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/*
 * quickack - acknowledge what comes at once. Over TLS 1.3 a store sends
 * its session tickets in one segment and its next reply in another;
 * with Nagle on its side and a delayed ACK on ours the reply waits
 * ~40 ms for our ACK (measured against Cyrus: 40 ms of every STARTTLS).
 * Linux leaves quick-ACK mode on its own, so this is said before each
 * wait for a reply.
 */
static void
quickack(int fd)
{
#ifdef TCP_QUICKACK
	int one = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
#else
	(void)fd;
#endif
}

/* connect_fd - non-blocking connect of a new socket; fd or -1/errno */
static int
connect_fd(int family, const struct sockaddr *sa, socklen_t len,
    long long deadline)
{
	for (int pause = 2;; pause = pause < 200 ? pause * 2 : 200) {
		int fd = connect_start(family, sa, len), e;

		if (fd != -1 && connect_end(fd, deadline) == 0)
			return fd;
		e = errno;
		if (fd != -1)
			close(fd);
		/* EAGAIN from a unix socket: its listen queue is full, the
		   store busy, not down. Ask again until the deadline. */
		if (e != EAGAIN || now_ms() >= deadline) {
			errno = e;
			return -1;
		}
		poll(NULL, 0, pause + (int)(now_ms() % (pause + 1)));
	}
}

/* unix_addr - path as a socket address; -1 when it is too long */
int
unix_addr(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof *sun);
	sun->sun_family = AF_UNIX;
	return lda_strlcpy(sun->sun_path, path, sizeof sun->sun_path) >=
	    sizeof sun->sun_path ? -1 : 0;
}

/* connect_unix - the store's unix socket */
int
connect_unix(struct lmtp_conn *lc, const char *path, long long deadline,
    char **err)
{
	struct sockaddr_un sun;

	if (unix_addr(path, &sun) == -1)
		return xerr(err, "socket path too long: %s", path);
	lc->fd = connect_fd(AF_UNIX, (struct sockaddr *)&sun, sizeof sun,
	    deadline);
	if (lc->fd == -1)
		return xerr(err, "connect %s: %s", path, strerror(errno));
	lc->local = 1;
	return 0;
}

/* is_loopback - 127/8, ::1, ::ffff:127/104 */
int
is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;
		return (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)
		    (const void *)sa)->sin6_addr;
		return IN6_IS_ADDR_LOOPBACK(a) ||
		    (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return 0;
}

/* connect_inet - each address of host:port in turn until one answers */
int
connect_inet(struct lmtp_conn *lc, const char *host, const char *port,
    long long deadline, char **err)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	int r, e = 0;

	if ((r = getaddrinfo(host, port, &hints, &res)) != 0)
		return xerr(err, "%s port %s: %s", host, port,
		    gai_strerror(r));
	for (ai = res; ai; ai = ai->ai_next) {
		lc->fd = connect_fd(ai->ai_family, ai->ai_addr, ai->ai_addrlen,
		    deadline);
		if (lc->fd != -1) {
			nodelay(lc->fd);
			lc->local = is_loopback(ai->ai_addr);
			break;
		}
		e = errno;
	}
	freeaddrinfo(res);
	if (lc->fd == -1)
		return xerr(err, "connect %s port %s: %s", host, port,
		    strerror(e ? e : ECONNREFUSED));
	return 0;
}

/* sock_read - up to n bytes, over TLS or not; as recv, with *ev the
   event to wait for on EAGAIN and *why (allocated) a TLS failure */
static ssize_t
sock_read(struct lmtp_conn *lc, char *p, size_t n, short *ev, char **why)
{
	*ev = POLLIN;
	if (lc->tls)
		return tls_read(lc->tls, p, n, ev, why);
	return recv(lc->fd, p, n, 0);
}

/* fill - read more bytes into lc->in; 0, or -1 with *err */
static int
fill(struct lmtp_conn *lc, long long deadline, char **err)
{
	ssize_t n;
	short ev;
	char *why = NULL;

	if (lc->in_off == lc->in_len)
		lc->in_off = lc->in_len = 0;
	for (;;) {
		n = sock_read(lc, lc->in + lc->in_len,
		    sizeof lc->in - lc->in_len, &ev, &why);
		if (n > 0) {
			lc->in_len += (size_t)n;
			return 0;
		}
		if (n == 0) {
			lc->dropped = 1;
			return xerr(err, "connection closed by the store "
			    "in %s", lmtp_phase_names[lc->phase]);
		}
		if (errno == EINTR && why == NULL)
			continue;
		if (why || (errno != EAGAIN && errno != EWOULDBLOCK)) {
			lc->dropped = errno == ECONNRESET;
			xerr(err, "read in %s: %s", lmtp_phase_names[lc->phase],
			    why ? why : strerror(errno));
			free(why);
			return -1;
		}
		if (lc->tls)
			quickack(lc->fd);
		switch (wait_fd(lc->fd, ev, deadline)) {
		case 0:
			return xerr(err, "timeout (%d s) waiting for the "
			    "reply to %s", lc->timeout, lmtp_phase_names[lc->phase]);
		case -1:
			return xerr(err, "poll: %s", strerror(errno));
		}
	}
}

/* read_line - one reply line without its CRLF into line, bounded */
static int
read_line(struct lmtp_conn *lc, long long deadline, struct buf *line,
    char **err)
{
	buf_reset(line);
	for (;;) {
		char *p = lc->in + lc->in_off;
		size_t avail = lc->in_len - lc->in_off;
		char *nl = memchr(p, '\n', avail);
		size_t take = nl ? (size_t)(nl - p) + 1 : avail;

		if (buf_append(line, p, take) == -1)
			return xerr(err, "reply line longer than %d bytes "
			    "in %s", LMTP_LINE_MAX, lmtp_phase_names[lc->phase]);
		lc->in_off += take;
		if (nl) {
			line->len -= 1;
			if (line->len && line->s[line->len - 1] == '\r')
				line->len--;
			line->s[line->len] = '\0';
			return 0;
		}
		if (fill(lc, deadline, err) == -1)
			return -1;
	}
}

/* enhanced - the enhanced status code at the start of text, or "" */
static void
enhanced(const char *text, int code, char *out, size_t outsz)
{
	size_t n = 0;
	int dots = 0;

	out[0] = '\0';
	if (text[0] != '0' + code / 100 || text[1] != '.')
		return;
	while (text[n] && (text[n] == '.' || (text[n] >= '0' && text[n] <= '9')))
		dots += text[n++] == '.';
	if (dots != 2 || text[n - 1] == '.' || (text[n] && text[n] != ' ') ||
	    n >= outsz)
		return;
	memcpy(out, text, n);
	out[n] = '\0';
}

/* show - text with control and 8-bit bytes as '?' */
static void
show(struct buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		buf_putc(b, c < 0x20 || c >= 0x7f ? '?' : c);
	}
}

/*
 * read_reply - one (multi-line) reply; lines: if not NULL, each line's
 * text after the code, NUL-separated. Returns 0, or -1 with *err when
 * the link failed or the reply is garbled; then the link is out of step.
 */
int
read_reply(struct lmtp_conn *lc, struct lmtp_reply *r, struct buf *lines,
    char **err)
{
	long long deadline = now_ms() + (long long)lc->timeout * 1000;
	struct buf line, text;
	int code = 0, n = 0, rc = -1;

	memset(r, 0, sizeof *r);
	buf_init(&line, LMTP_LINE_MAX);
	buf_init(&text, LMTP_LINE_MAX * 4);
	for (;;) {
		const char *s;
		int c;
		if (read_line(lc, deadline, &line, err) == -1)
			goto out;
		s = line.s;
		if (line.len < 3 || s[0] < '2' || s[0] > '5' || s[1] < '0' ||
		    s[1] > '9' || s[2] < '0' || s[2] > '9' ||
		    (s[3] != '\0' && s[3] != ' ' && s[3] != '-') ||
		    (code && (c = atoi(s)) != code) || ++n > LMTP_REPLY_LINES) {
			buf_reset(&text);
			show(&text, s, line.len > 80 ? 80 : line.len);
			xerr(err, "garbled reply in %s: \"%s\"",
			    lmtp_phase_names[lc->phase], text.s);
			goto out;
		}
		code = atoi(s);
		if (text.len)
			buf_puts(&text, " / ");
		show(&text, s, line.len);
		if (lines)
			buf_append(lines, s[3] ? s + 4 : "", s[3] ? line.len - 3 :
			    1);
		if (s[3] != '-') {
			enhanced(s[3] ? s + 4 : "", code, r->status,
			    sizeof r->status);
			break;
		}
	}
	r->code = code;
	r->text = buf_steal(&text);
	rc = 0;
out:
	if (rc == -1) {
		lc->broken = 1;
		buf_free(&text);
	}
	buf_free(&line);
	return rc;
}

/* sock_write - as sock_read, the other way (SIGPIPE never raised) */
static ssize_t
sock_write(struct lmtp_conn *lc, const char *p, size_t n, short *ev,
    char **why)
{
	*ev = POLLOUT;
	if (lc->tls)
		return tls_write(lc->tls, p, n, ev, why);
	return send(lc->fd, p, n, MSG_NOSIGNAL);
}

/* write_out - write all of lc->out; 0, or -1 with *err */
int
write_out(struct lmtp_conn *lc, char **err)
{
	size_t off = 0;
	char *why = NULL;
	short ev;

	while (off < lc->out.len) {
		ssize_t n = sock_write(lc, lc->out.s + off, lc->out.len - off,
		    &ev, &why);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n == -1 && why == NULL && errno == EINTR)
			continue;
		if (n == -1 && why == NULL &&
		    (errno == EAGAIN || errno == EWOULDBLOCK)) {
			long long dl = now_ms() + (long long)lc->timeout * 1000;
			int w = wait_fd(lc->fd, ev, dl);
			if (w == 1)
				continue;
			lc->broken = 1;
			return xerr(err, "timeout (%d s) writing %s",
			    lc->timeout, lmtp_phase_names[lc->phase]);
		}
		lc->broken = 1;
		lc->dropped = errno == EPIPE || errno == ECONNRESET;
		xerr(err, "write in %s: %s", lmtp_phase_names[lc->phase],
		    why ? why : strerror(errno));
		free(why);
		return -1;
	}
	buf_reset(&lc->out);
	return 0;
}

/* command - queue one command line (CRLF added). Callers bound what
   they put in; a line that would not fit is not sent, and the link is
   marked out of step so that nothing else goes out on it. */
void __attribute__((format(printf, 2, 3)))
command(struct lmtp_conn *lc, const char *fmt, ...)
{
	char line[LMTP_LINE_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line - 2, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof line - 2) {
		lc->broken = 1;
		return;
	}
	buf_append(&lc->out, line, (size_t)n);
	buf_append(&lc->out, "\r\n", 2);
}

/* exchange - send one command, read its reply */
int
exchange(struct lmtp_conn *lc, enum lmtp_phase ph, struct lmtp_reply *r,
    struct buf *lines, char **err)
{
	lc->phase = ph;
	if (write_out(lc, err) == -1)
		return -1;
	return read_reply(lc, r, lines, err);
}

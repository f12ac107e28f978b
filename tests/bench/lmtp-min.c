/*
 * lmtp-min.c - the least any per-message LMTP client can do, as a
 * benchmark yardstick: connect to a unix socket, wait for the greeting,
 * LHLO, then MAIL FROM, RCPT TO and DATA in one write (PIPELINING), the
 * message from stdin (LF turned to CRLF, leading dots doubled) and the
 * final dot, the replies, QUIT. No spool, no rc, no checks beyond
 * "every reply is 2xx/3xx": exit 0 when the store said 250 to the message,
 * else 75.
 *
 *   lmtp-min SOCKET SENDER RECIPIENT < message
 *
 * Spawned per message like an LDA, its time is the floor of the process
 * plus the store's own time for one connection: what even a zero-cost
 * LDA would take, so deliver's time over it is the highest ratio any LDA
 * can reach against that store on that machine. Not part of lda.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static char rbuf[8192];
static size_t rlen;

/* read until N complete reply lines (last lines, "xyz ") have arrived;
   0 when each was 2xx/3xx */
static int replies(int fd, int n)
{
	int bad = 0;

	while (n > 0) {
		char *nl = memchr(rbuf, '\n', rlen);
		if (nl == NULL) {
			ssize_t r;
			if (rlen == sizeof rbuf)
				return -1;
			r = read(fd, rbuf + rlen, sizeof rbuf - rlen);
			if (r <= 0)
				return -1;
			rlen += (size_t)r;
			continue;
		}
		if (nl - rbuf >= 4 && rbuf[3] == ' ') {
			if (rbuf[0] != '2' && rbuf[0] != '3')
				bad = 1;
			n--;
		}
		rlen -= (size_t)(nl + 1 - rbuf);
		memmove(rbuf, nl + 1, rlen);
	}
	return bad ? -1 : 0;
}

static int put(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static char in[1 << 20], msg[(2 << 20) + 8], cmd[1024];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = 0, il = 0, i;
	ssize_t r;
	int fd, n, bol = 1;

	if (argc != 4 || strlen(argv[1]) >= sizeof sa.sun_path)
		return 64;
	while ((r = read(0, in + il, sizeof in - il)) > 0)
		il += (size_t)r;
	if (r < 0 || il == sizeof in)
		return 75;
	for (i = 0; i < il; i++) {
		if (bol && in[i] == '.')
			msg[len++] = '.';
		if (in[i] == '\n' && (i == 0 || in[i - 1] != '\r'))
			msg[len++] = '\r';
		msg[len++] = in[i];
		bol = in[i] == '\n';
	}
	if (!bol) {
		msg[len++] = '\r';
		msg[len++] = '\n';
	}
	memcpy(msg + len, ".\r\n", 3);
	len += 3;
	strcpy(sa.sun_path, argv[1]);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || replies(fd, 1) < 0 ||
	    put(fd, "LHLO localhost\r\n", 16) < 0 || replies(fd, 1) < 0)
		return 75;
	n = snprintf(cmd, sizeof cmd, "MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\nDATA\r\n", argv[2], argv[3]);
	if (n < 0 || (size_t)n >= sizeof cmd || put(fd, cmd, (size_t)n) < 0 ||
	    replies(fd, 3) < 0 || put(fd, msg, len) < 0 || replies(fd, 1) < 0)
		return 75;
	(void)put(fd, "QUIT\r\n", 6);
	return 0;
}

/*
 * lmtp-many.c - a minimal LMTP client that keeps one connection for a
 * whole corpus, as a benchmark yardstick: LHLO once, then for every
 * message MAIL, RCPT and DATA in one write (PIPELINING), the message (LF
 * turned to CRLF, leading dots doubled), the final dot, the replies;
 * QUIT at the end. Either to a unix socket (a store, directly: the
 * ceiling) or to a command it starts with a socket pair on its standard
 * input and output (lda -z: one session).
 *
 *   lmtp-many SENDER RCPT DIR SOCKET
 *   lmtp-many SENDER RCPT DIR -e CMD [ARG...]
 *
 * RCPT may be a comma-separated list: one RCPT each, every message to
 * all of them.
 *
 * The .eml files of DIR in name order. Prints "delivered N" and, with -e, "rss_kb
 * AFTER100 END" (the command's VmHWM after 100 messages and at the end,
 * from /proc). Exit 0 when every message got 250. Not part of lda.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static char rbuf[65536];
static size_t rlen;

/* reply - the code of the next complete reply, -1 at EOF */
static int reply(int fd)
{
	for (;;) {
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
		int last = nl - rbuf >= 4 && rbuf[3] == ' ', code = atoi(rbuf);
		rlen -= (size_t)(nl + 1 - rbuf);
		memmove(rbuf, nl + 1, rlen);
		if (last)
			return code;
	}
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

static long hwm(pid_t pid)
{
	char path[64], line[256];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof line, f))
		if (strncmp(line, "VmHWM:", 6) == 0)
			v = atol(line + 6);
	fclose(f);
	return v;
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* one message: file path, sent with its envelope; 1 when delivered */
static int one(int fd, const char *sender, const char *rcpt, const char *path)
{
	static char in[1 << 20], msg[(2 << 20) + 1024];
	size_t il = 0, len;
	ssize_t r;
	int f = open(path, O_RDONLY), bol = 1, ok, nr = 0;

	if (f == -1)
		return 0;
	while ((r = read(f, in + il, sizeof in - il)) > 0)
		il += (size_t)r;
	close(f);
	len = (size_t)snprintf(msg, sizeof msg, "MAIL FROM:<%s>\r\n", sender);
	for (const char *r0 = rcpt; *r0; ) {	/* a,b,c: one RCPT each */
		size_t k = strcspn(r0, ",");
		len += (size_t)snprintf(msg + len, sizeof msg - len,
		    "RCPT TO:<%.*s>\r\n", (int)k, r0);
		nr++;
		r0 += k + (r0[k] == ',');
	}
	len += (size_t)snprintf(msg + len, sizeof msg - len, "DATA\r\n");
	for (size_t i = 0; i < il; i++) {
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
	if (put(fd, msg, len) == -1)
		return 0;
	ok = reply(fd) == 250;
	for (int i = 0; i < nr; i++)
		ok &= reply(fd) == 250;
	ok &= reply(fd) == 354;
	for (int i = 0; i < nr; i++)
		ok &= reply(fd) == 250;
	return ok;
}

int main(int argc, char **argv)
{
	char **names = NULL;
	size_t n = 0, done = 0;
	struct dirent *e;
	pid_t child = 0;
	long rss100 = -1;
	DIR *d;
	int fd;

	if (argc < 5 || (d = opendir(argv[3])) == NULL)
		return 64;
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		if (l > 4 && strcmp(e->d_name + l - 4, ".eml") == 0) {
			names = realloc(names, (n + 1) * sizeof *names);
			if (asprintf(&names[n++], "%s/%s", argv[3], e->d_name) < 0)
				return 71;
		}
	}
	closedir(d);
	qsort(names, n, sizeof *names, cmp);
	if (strcmp(argv[4], "-e") == 0) {
		int sv[2];
		if (argc < 6 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1 ||
		    (child = fork()) == -1)
			return 71;
		if (child == 0) {
			dup2(sv[1], 0);
			dup2(sv[1], 1);
			close(sv[0]);
			close(sv[1]);
			execvp(argv[5], argv + 5);
			_exit(127);
		}
		close(sv[1]);
		fd = sv[0];
	} else {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		if (strlen(argv[4]) >= sizeof sa.sun_path)
			return 64;
		strcpy(sa.sun_path, argv[4]);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (fd == -1 || connect(fd, (struct sockaddr *)&sa, sizeof sa) == -1)
			return 69;
	}
	if (reply(fd) != 220 || put(fd, "LHLO bench\r\n", 12) == -1 ||
	    reply(fd) != 250)
		return 69;
	for (size_t i = 0; i < n; i++) {
		done += (size_t)one(fd, argv[1], argv[2], names[i]);
		if (i + 1 == 100 && child)
			rss100 = hwm(child);
	}
	if (child)
		printf("rss_kb %ld %ld\n", rss100, hwm(child));
	put(fd, "QUIT\r\n", 6);
	reply(fd);
	close(fd);
	if (child)
		waitpid(child, NULL, 0);
	printf("delivered %zu\n", done);
	return done == n ? 0 : 75;
}

/*
 * lmtp_fuzz.c - fuzz the LMTP client (lda/lmtp.c: read_reply, the
 * capabilities, the transaction's state machine) with whatever a store
 * may answer. A store thread on a socketpair answers each command line
 * (and the data's final dot) with the next chunk of the input, and
 * closes its side when lda sends nothing for 20 ms; lda opens
 * the connection (greeting, LHLO) and sends one transaction for two
 * recipients. For any answers, without a crash:
 *   - a recipient counts as delivered (a 2xx reply) only if the store got
 *     the message's final dot (issue 11: a 250 to DATA is no delivery);
 *   - no recipient's answer is a 1xx or 3xx reply.
 * Input: chunks separated by "\n--\n"; chunk 0 is the greeting.
 * Standalone (random pieces of LMTP replies):
 *   see Makefile (build/tests/fuzz/lmtp_fuzz) ; ./lmtp_fuzz [iterations] [seed]
 * libFuzzer: make fuzz.
 */
#include <fcntl.h>
#include <pthread.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"
#include "lmtp.h"
#include "xalloc.h"

struct store {
	int fd;
	const uint8_t *in;
	size_t n, off;
	int dot;		/* the final dot of the message came */
};

/* next_chunk - send the next chunk of the input (if any) */
static void
next_chunk(struct store *st)
{
	const uint8_t *p = st->in + st->off, *e;
	size_t left = st->n - st->off, len;

	if (st->off >= st->n)
		return;		/* (the store's side was shut already) */
	e = memmem(p, left, "\n--\n", 4);
	len = e ? (size_t)(e - p) + 1 : left;
	st->off += e ? len + 3 : len;
	while (len > 0) {
		ssize_t w = send(st->fd, p, len, MSG_NOSIGNAL);
		if (w <= 0)
			return;
		p += w;
		len -= (size_t)w;
	}
	if (st->off >= st->n)	/* nothing more to say: lda sees EOF */
		shutdown(st->fd, SHUT_WR);
}

/* store_thread - one chunk for the greeting, then one per command line
   and one for the data's final dot */
static void *
store_thread(void *arg)
{
	struct store *st = arg;
	char line[8192];
	size_t n = 0;
	int body = 0;

	if (st->n == 0)
		shutdown(st->fd, SHUT_WR);
	next_chunk(st);
	for (;;) {
		struct pollfd pfd = { st->fd, POLLIN, 0 };
		char c;
		int r = poll(&pfd, 1, st->off < st->n ? 20 : 3000);
		if (r == 0 && st->off < st->n) {
			/* lda waits for more of a reply: the store says
			   no more (rather than lda's 1 s timeout) */
			st->off = st->n;
			shutdown(st->fd, SHUT_WR);
			continue;
		}
		if (r <= 0 || recv(st->fd, &c, 1, 0) != 1)
			break;
		if (c != '\n') {
			if (n < sizeof line - 1)
				line[n++] = c;
			continue;
		}
		if (n && line[n - 1] == '\r')
			n--;
		line[n] = '\0';
		n = 0;
		if (body) {
			if (strcmp(line, ".") == 0) {
				body = 0;
				st->dot = 1;
				next_chunk(st);
			}
			continue;
		}
		/* after DATA the message follows if lda got a 354: the
		   chunk just sent decides what lda sends next */
		if (strcmp(line, "DATA") == 0) {
			const uint8_t *p = st->in + st->off;
			body = st->off + 3 <= st->n && memcmp(p, "354", 3) == 0;
		}
		next_chunk(st);
	}
	return NULL;
}

/* msg_read - the message: two short lines */
static ssize_t
msg_read(void *ctx, char *p, size_t n, char **err)
{
	static const char m[] = "Subject: x\r\n\r\nhello\r\n";
	int *done = ctx;

	(void)err;
	if (*done || n < sizeof m)
		return 0;
	*done = 1;
	memcpy(p, m, sizeof m - 1);
	return sizeof m - 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const rcpts[] = { "bob", "bob+Spam" };
	struct lmtp_target t = { .name = "fuzz", .path = "/nonexistent/fuzz" };
	struct lmtp_reply replies[2];
	struct store st = { .in = data, .n = size };
	struct lmtp_pre pre;
	struct lmtp_conn *lc = NULL;
	pthread_t th;
	int sv[2], done = 0;
	char *err = NULL;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		fuzz_fail("socketpair", data, size);
	/* as lmtp_preconnect leaves it: non-blocking, lda polls */
	fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
	st.fd = sv[1];
	pre = (struct lmtp_pre){ .fd = sv[0], .name = xstrdup("fuzz"),
	    .local = 1 };
	if (pthread_create(&th, NULL, store_thread, &st) != 0)
		fuzz_fail("pthread_create", data, size);
	if (lmtp_open(&t, &pre, 1, 1, &lc, &err) == 0) {
		struct lmtp_txn tx = { .sender = "a@example.org", .size = 21,
		    .rcpts = rcpts, .nrcpts = 2, .replies = replies,
		    .src = { msg_read, &done } };
		free(err);
		err = NULL;
		memset(replies, 0, sizeof replies);
		(void)lmtp_send(lc, &tx, &err);
		for (int i = 0; i < 2; i++) {
			int c = replies[i].code;
			if (c / 100 == 2 && !st.dot)
				fuzz_fail("a recipient delivered without the "
				    "message's final dot", data, size);
			if (c != 0 && (c < 200 || (c >= 300 && c < 400)))
				fuzz_fail("a 1xx or 3xx final answer", data, size);
			lmtp_reply_free(&replies[i]);
		}
		lmtp_close(&lc);
	}
	free(err);
	lmtp_pre_close(&pre);
	shutdown(sv[1], SHUT_RDWR);
	pthread_join(th, NULL);
	close(sv[1]);
	return 0;
}

#ifndef LDA_LIBFUZZER
static const char *const pieces[] = { "220 fuzz LMTP\r\n",
	"250-fuzz\r\n250-PIPELINING\r\n250-ENHANCEDSTATUSCODES\r\n250 SIZE 100\r\n",
	"250 fuzz\r\n", "\n--\n", "\n--\n", "\n--\n", "250 2.1.0 ok\r\n",
	"250 2.1.5 ok\r\n", "354 go\r\n", "451 4.3.0 later\r\n",
	"550 5.1.1 no\r\n", "250-", "252 maybe\r\n", "\r\n", "2", "5", "x",
	" ", "250 2.0.0 stray\r\n", "221 bye\r\n", "\0" };

int
main(int argc, char **argv)
{
	return fuzz_main(argc, argv, pieces, sizeof pieces / sizeof pieces[0],
	    14, 0);
}
#endif

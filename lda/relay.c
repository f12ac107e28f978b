/*
 * relay.c - lda -z's single-instance store: the exchange between the
 * child that ran one recipient's rc and the parent that sends the store
 * copies of every recipient of the transaction at once.
 * Does: the frames (a decimal length line, then netstrings "len:bytes,"),
 * bounded on reading; the request and the answer; in the child, which
 * copies qualify (the registered process, the transaction's message,
 * one request).
 * Does not: speak LMTP, group copies or decide outcomes (store.c), fork or
 * wait (rcptrun.c), log a reply (the child's store logs its copies).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "fdio.h"
#include "lmtp.h"
#include "log.h"
#include "relay.h"
#include "spool.h"
#include "xalloc.h"

#define FRAME_MAX (4u * 1024 * 1024)	/* bytes of one frame's payload */
#define HEAD_LEN 10			/* "%09zu\n" */

/* The child's registration (relay_child). */
static struct {
	int fd;
	pid_t pid;
	int relay;		/* copies of the message below may be relayed */
	dev_t dev;
	ino_t ino;
	int asked;
} me = { .fd = -1 };

/* ------------------------------------------------------------ frames */

/* put - one netstring */
static void
put(struct buf *b, const char *s)
{
	size_t n = strlen(s);

	buf_printf(b, "%zu:", n);
	buf_append(b, s, n);
	buf_putc(b, ',');
}

/* send_frame - the length (HEAD_LEN bytes: nine digits and a newline),
   then the payload, in one write */
static int
send_frame(int fd, const struct buf *payload)
{
	struct buf b;
	int rc;

	if (payload->len > FRAME_MAX)
		return -1;
	buf_init(&b, 0);
	buf_printf(&b, "%09zu\n", payload->len);
	buf_append(&b, payload->s, payload->len);
	rc = fd_write_all(fd, b.s, b.len);
	buf_free(&b);
	return rc;
}

/* recv_frame - one frame's payload (allocated, NUL-terminated) into *p,
   *n; returns 1, 0 at a clean end before any byte, -1 on a bad frame */
static int
recv_frame(int fd, char **p, size_t *n)
{
	char head[HEAD_LEN + 1], *end;
	ssize_t r;

	if ((r = fd_read_full(fd, head, HEAD_LEN)) != HEAD_LEN)
		return r == 0 ? 0 : -1;
	head[HEAD_LEN] = '\0';
	*n = strtoul(head, &end, 10);
	if (end != head + HEAD_LEN - 1 || *end != '\n' || *n > FRAME_MAX)
		return -1;
	*p = xmalloc(*n + 1);
	if (fd_read_full(fd, *p, *n) != (ssize_t)*n) {
		free(*p);
		return -1;
	}
	(*p)[*n] = '\0';
	return 1;
}

/* put_num - a number as a netstring */
static void
put_num(struct buf *b, size_t n)
{
	char v[24];

	snprintf(v, sizeof v, "%zu", n);
	put(b, v);
}

/* get - the next netstring of [*s, end) (NUL-terminated in place, the
   comma overwritten), or NULL when malformed */
static char *
get(char **s, char *end)
{
	char *colon, *v;
	size_t n = 0;

	for (colon = *s; colon < end && *colon >= '0' && *colon <= '9';
	    colon++) {
		if (n > FRAME_MAX)
			return NULL;
		n = n * 10 + (size_t)(*colon - '0');
	}
	if (colon == *s || colon >= end || *colon != ':' ||
	    n >= (size_t)(end - colon - 1) || colon[1 + n] != ',')
		return NULL;
	v = colon + 1;
	v[n] = '\0';
	*s = v + n + 1;
	return v;
}

/* get_count - a netstring holding a count up to max, or -1 */
static long
get_count(char **s, char *end, long max)
{
	char *v = get(s, end), *e;
	long n;

	if (v == NULL)
		return -1;
	n = strtol(v, &e, 10);
	return *v && *e == '\0' && n >= 0 && n <= max ? n : -1;
}

/* ------------------------------------------------------ the child's end */

/* relay_child - register (relay.h) */
void
relay_child(int fd, const struct spool *sp)
{
	struct stat sb;

	me.fd = fd;
	me.pid = getpid();
	me.asked = 0;
	me.relay = sp && fstat(sp->fd, &sb) == 0;
	if (me.relay) {
		me.dev = sb.st_dev;
		me.ino = sb.st_ino;
	}
}

/* relay_adopt - a fork that goes on as the run (mailspool.c's user
   process) speaks for it from now on */
void
relay_adopt(void)
{
	if (me.fd != -1)
		me.pid = getpid();
}

/* relay_done - the run's exit code to the parent, before we exit */
void
relay_done(int code)
{
	struct buf b;

	if (me.fd == -1 || me.pid != getpid())
		return;
	buf_init(&b, 0);
	put(&b, "D");
	put_num(&b, (size_t)code);
	if (send_frame(me.fd, &b) == -1) {
		/* the parent is gone: it learns nothing more from us */
	}
	buf_free(&b);
	close(me.fd);
	me.fd = -1;
}

/* relay_usable - may copies of the message open as fd go (relay.h)? */
int
relay_usable(int fd)
{
	struct stat sb;

	return me.fd != -1 && me.relay && !me.asked && me.pid == getpid() &&
	    fstat(fd, &sb) == 0 && sb.st_dev == me.dev && sb.st_ino == me.ino;
}

/* answer_parse - the parent's answer into replies; 1, 0, or -1 */
static int
answer_parse(char *p, size_t len, size_t n, struct lmtp_reply *replies)
{
	char *s = p, *end = p + len, *v;

	if ((v = get(&s, end)) == NULL)
		return -1;
	if (strcmp(v, "0") == 0)
		return 0;
	if (strcmp(v, "1") != 0 || get_count(&s, end, RELAY_COPIES_MAX) !=
	    (long)n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		long code = get_count(&s, end, 999);
		char *status = get(&s, end), *text = get(&s, end);
		if (code < 0 || status == NULL || text == NULL)
			return -1;
		replies[i].code = (int)code;
		lda_strlcpy(replies[i].status, status, sizeof replies[i].status);
		/* no reply (code 0): the text says why none came */
		replies[i].text = code || *text ? xstrdup(text) : NULL;
	}
	return 1;
}

/* relay_ask - the child's request and the parent's answer (relay.h) */
int
relay_ask(const char *key, const char *sender, const char *const *users,
    const char *const *addrs, size_t n, struct lmtp_reply *replies,
    char **err)
{
	struct buf b;
	char *ans = NULL;
	size_t len;
	int r;

	me.asked = 1;
	if (n > RELAY_COPIES_MAX)
		return 0;
	buf_init(&b, FRAME_MAX);
	put(&b, "R");
	put(&b, key);
	put(&b, sender);
	put_num(&b, n);
	for (size_t i = 0; i < n; i++) {
		put(&b, users[i]);
		put(&b, addrs[i]);
	}
	if (b.len >= FRAME_MAX - 1) {
		buf_free(&b);
		return 0;	/* too much for one frame: sent by the child */
	}
	r = send_frame(me.fd, &b);
	buf_free(&b);
	if (r == 0 && (r = recv_frame(me.fd, &ans, &len)) == 1)
		r = answer_parse(ans, len, n, replies);
	else
		r = -1;
	free(ans);
	if (r == -1) {
		for (size_t i = 0; i < n; i++) {
			free(replies[i].text);
			memset(&replies[i], 0, sizeof replies[i]);
		}
		*err = xstrdup("the lda -z server sending the store copies "
		    "went away: whether they were stored is unknown");
	}
	return r;
}

/* ----------------------------------------------------- the parent's end */

/* relay_req_free - free what relay_read made */
void
relay_req_free(struct relay_req *r)
{
	free(r->frame);	/* every string points into it */
	free(r->users);
	free(r->addrs);
	memset(r, 0, sizeof *r);
}

/* relay_read - the child's next word (relay.h) */
int
relay_read(int fd, struct relay_req *r, int *code)
{
	char *p, *s, *end, *type;
	size_t len;
	long n;
	int got;

	memset(r, 0, sizeof *r);
	if ((got = recv_frame(fd, &p, &len)) != 1) {
		if (got == -1)
			log_warn("lmtp server: a recipient's run sent a "
			    "malformed frame");
		return got;
	}
	r->frame = p;
	s = p;
	end = p + len;
	if ((type = get(&s, end)) != NULL && strcmp(type, "D") == 0 &&
	    (n = get_count(&s, end, 255)) >= 0) {
		*code = (int)n;
		relay_req_free(r);
		return 2;
	}
	r->key = get(&s, end);
	r->sender = get(&s, end);
	if (type == NULL || strcmp(type, "R") != 0 || r->key == NULL ||
	    r->sender == NULL || (n = get_count(&s, end, RELAY_COPIES_MAX)) < 0)
		goto bad;
	r->n = (size_t)n;
	r->users = xcalloc(r->n + 1, sizeof *r->users);
	r->addrs = xcalloc(r->n + 1, sizeof *r->addrs);
	for (size_t i = 0; i < r->n; i++)
		if ((r->users[i] = get(&s, end)) == NULL ||
		    (r->addrs[i] = get(&s, end)) == NULL)
			goto bad;
	return 1;
bad:
	log_warn("lmtp server: a recipient's run sent a malformed frame");
	relay_req_free(r);
	return -1;
}

/* relay_answer - "not relayed", or the replies (relay.h) */
int
relay_answer(int fd, const struct relay_req *r,
    const struct lmtp_reply *replies)
{
	struct buf b;
	int rc;

	buf_init(&b, 0);
	if (replies == NULL)
		put(&b, "0");
	else {
		put(&b, "1");
		put_num(&b, r->n);
		for (size_t i = 0; i < r->n; i++) {
			put_num(&b, (size_t)replies[i].code);
			put(&b, replies[i].status);
			put(&b, replies[i].text ? replies[i].text : "");
		}
	}
	rc = send_frame(fd, &b);
	buf_free(&b);
	return rc;
}

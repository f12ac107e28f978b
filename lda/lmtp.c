/*
 * lmtp.c - an RFC 2033 LMTP client, an explicit state machine.
 * Does: connect (the link, with its deadlines and bounded reads and
 * writes, is lmtp-io.c's), or begin ahead of need (lmtp_preconnect) and
 * finish in lmtp_open; greeting, LHLO, AUTH (the
 * mechanics are sasl.c's); STARTTLS (the TLS is tls.c's: here the
 * reads and writes go through it, with the same deadlines and bounds),
 * then LHLO again; one transaction: MAIL, RCPT per recipient and
 * DATA, pipelined when the store offers PIPELINING, the message streamed
 * from a source with dot-stuffing, then one reply per accepted recipient
 * (RFC 2033 4.2); QUIT. Every wait has a deadline, every reply line and
 * every reply is bounded; SIGPIPE is never raised (MSG_NOSIGNAL).
 * Does not: know users or folders, change the message, decide outcomes,
 * log. A name lookup (getaddrinfo) is not bounded by the timeout.
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

#define OUT_FLUSH	65536	/* write out DATA in pieces of this size */
#define PIPE_WINDOW	64	/* commands sent ahead of their replies */
#define AUTH_ROUNDS	16	/* challenges answered before giving up */
#define QUIT_TIMEOUT	5	/* seconds to wait to write QUIT */

/* parse_caps - the LHLO reply's keywords (lines NUL-separated) */
static void
parse_caps(struct lmtp_conn *lc, const struct buf *lines)
{
	const char *p = lines->s, *end = lines->s + lines->len;

	p += strlen(p) + 1;	/* the first line is the store's name */
	for (; p < end; p += strlen(p) + 1) {
		if (strcasecmp(p, "PIPELINING") == 0)
			lc->caps |= LMTP_CAP_PIPELINING;
		else if (strcasecmp(p, "ENHANCEDSTATUSCODES") == 0)
			lc->caps |= LMTP_CAP_ENHANCED;
		else if (strcasecmp(p, "8BITMIME") == 0)
			lc->caps |= LMTP_CAP_8BITMIME;
		else if (strcasecmp(p, "STARTTLS") == 0)
			lc->caps |= LMTP_CAP_STARTTLS;
		else if (strncasecmp(p, "SIZE", 4) == 0 && (p[4] == '\0' ||
		    p[4] == ' ')) {
			lc->caps |= LMTP_CAP_SIZE;
			lc->size_max = strtoull(p + 4, NULL, 10);
		} else if (strncasecmp(p, "AUTH ", 5) == 0) {
			lc->caps |= LMTP_CAP_AUTH;
			free(lc->auth_mechs);
			lc->auth_mechs = xstrdup(p + 5);
		}
	}
}

/* expect - *err quoting r unless r's code is in [lo, hi]; frees r */
static int
expect(struct lmtp_reply *r, int lo, int hi, const char *what, char **err)
{
	int ok = r->code >= lo && r->code <= hi;

	if (!ok)
		xerr(err, "%s: %s", what, r->text);
	lmtp_reply_free(r);
	return ok ? 0 : -1;
}

/* lhlo - LHLO and the capabilities it lists (none kept from before) */
static int
lhlo(struct lmtp_conn *lc, char **err)
{
	struct lmtp_reply r;
	struct buf lines;
	char host[256];
	int rc;

	lc->caps = 0;
	lc->size_max = 0;
	free(lc->auth_mechs);
	lc->auth_mechs = NULL;
	if (gethostname(host, sizeof host) == -1 || host[0] == '\0' ||
	    strpbrk(host, " \r\n") != NULL)
		lda_strlcpy(host, "localhost", sizeof host);
	host[sizeof host - 1] = '\0';
	command(lc, "LHLO %s", host);
	buf_init(&lines, LMTP_LINE_MAX * LMTP_REPLY_LINES);
	rc = exchange(lc, LMTP_LHLO, &r, &lines, err);
	if (rc == 0 && (rc = expect(&r, 250, 250, "LHLO", err)) == 0)
		parse_caps(lc, &lines);
	buf_free(&lines);
	return rc;
}

/* greet - greeting and LHLO */
static int
greet(struct lmtp_conn *lc, char **err)
{
	struct lmtp_reply r;

	lc->phase = LMTP_GREETING;
	if (read_reply(lc, &r, NULL, err) == -1 ||
	    expect(&r, 220, 220, "greeting", err) == -1)
		return -1;
	return lhlo(lc, err);
}

/* lmtp_preconnect - begin connecting to t (see lmtp.h) */
int
lmtp_preconnect(const struct lmtp_target *t, struct lmtp_pre *pre)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
	    .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV }, *res;
	struct sockaddr_un sun;

	pre->fd = -1;
	pre->name = NULL;
	pre->local = 0;
	if (t->path) {
		if (unix_addr(t->path, &sun) == 0)
			pre->fd = connect_start(AF_UNIX, (struct sockaddr *)&sun,
			    sizeof sun);
		pre->local = 1;
	} else if (getaddrinfo(t->host, t->port, &hints, &res) == 0) {
		if ((pre->fd = connect_start(res->ai_family, res->ai_addr,
		    res->ai_addrlen)) != -1)
			nodelay(pre->fd);
		pre->local = is_loopback(res->ai_addr);
		freeaddrinfo(res);
	}
	if (pre->fd == -1)
		return -1;
	pre->name = xstrdup(t->name);
	return 0;
}

/* lmtp_pre_close - drop a connection begun and never used */
void
lmtp_pre_close(struct lmtp_pre *pre)
{
	if (pre->fd != -1)
		close(pre->fd);
	pre->fd = -1;
	free(pre->name);
	pre->name = NULL;
}

/* adopt - take pre's connection for t when it is t's and it connected;
   0, or -1 (then connect anew) */
static int
adopt(struct lmtp_conn *lc, const struct lmtp_target *t,
    struct lmtp_pre *pre, long long deadline)
{
	int fd = pre ? pre->fd : -1;

	if (fd == -1 || strcmp(pre->name, t->name) != 0)
		return -1;
	pre->fd = -1;
	if (connect_end(fd, deadline) == -1) {
		close(fd);
		return -1;
	}
	lc->fd = fd;
	lc->local = pre->local;
	return 0;
}

/* conn_new - a connection to t, not yet connected */
static struct lmtp_conn *
conn_new(const struct lmtp_target *t, int timeout)
{
	struct lmtp_conn *lc = xcalloc(1, sizeof *lc);

	lc->fd = -1;
	lc->name = xstrdup(t->name);
	lc->host = xstrdup(t->path ? "localhost" : t->host);
	lc->unix_sock = t->path != NULL;
	lc->timeout = timeout > 0 ? timeout : 1;
	lc->phase = LMTP_CONNECT;
	buf_init(&lc->out, 0);
	return lc;
}

/* lmtp_open - connect (or finish pre's connection), greeting, LHLO */
int
lmtp_open(const struct lmtp_target *t, struct lmtp_pre *pre,
    int connect_timeout, int timeout, struct lmtp_conn **lc_r, char **err)
{
	long long deadline = now_ms() + (long long)connect_timeout * 1000;
	struct lmtp_conn *lc;
	int rc;

	*err = NULL;
	lc = conn_new(t, timeout);
	if (adopt(lc, t, pre, deadline) == 0) {
		if ((rc = greet(lc, err)) == 0) {
			*lc_r = lc;
			return 0;
		}
		/* A connection begun at start-up that the store dropped
		   before LHLO was answered (a store restarting, or closing
		   it after its idle timeout while the rc ran) is no verdict:
		   ask the store again, as if it had not been begun. What the
		   store said (a greeting that refuses) or failed to say in
		   time counts, as on any connection. */
		if (!lc->dropped)
			goto fail;
		free(*err);
		*err = NULL;
		lc->broken = 1;
		lmtp_close(&lc);
		lc = conn_new(t, timeout);
	}
	if (t->path)
		rc = connect_unix(lc, t->path, deadline, err);
	else
		rc = connect_inet(lc, t->host, t->port, deadline, err);
	if (rc == 0)
		rc = greet(lc, err);
	if (rc == 0) {
		*lc_r = lc;
		return 0;
	}
fail:
	lc->broken = 1;
	lmtp_close(&lc);
	return -1;
}

unsigned
lmtp_caps(const struct lmtp_conn *lc)
{
	return lc->caps;
}

unsigned long long
lmtp_size_max(const struct lmtp_conn *lc)
{
	return lc->size_max;
}

const char *
lmtp_auth_mechs(const struct lmtp_conn *lc)
{
	return lc->auth_mechs;
}

int
lmtp_is_local(const struct lmtp_conn *lc)
{
	return lc->local;
}

int
lmtp_usable(const struct lmtp_conn *lc)
{
	return !lc->broken;
}

/* lmtp_drop - close without QUIT */
void
lmtp_drop(struct lmtp_conn **lcp)
{
	if (*lcp)
		(*lcp)->broken = 1;
	lmtp_close(lcp);
}

/* lmtp_closed - has the store closed lc, or said it will (a 421 waits
   unread), since we last used it? A stray reply of another kind is left
   for in_step to call out of step. */
int
lmtp_closed(const struct lmtp_conn *lc)
{
	struct pollfd p = { .fd = lc->fd, .events = POLLIN };
	char peek[3];
	ssize_t n;

	if (lc->fd == -1)
		return 1;
	if (lc->in_off < lc->in_len)
		return lc->in_len - lc->in_off >= 3 &&
		    memcmp(lc->in + lc->in_off, "421", 3) == 0;
	if (poll(&p, 1, 0) != 1)
		return 0;
	if (lc->tls)
		return 1;	/* TLS: a close_notify or a 421, either way */
	n = recv(lc->fd, peek, sizeof peek, MSG_PEEK | MSG_DONTWAIT);
	return n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR) ||
	    (n == 3 && memcmp(peek, "421", 3) == 0);
}

/* auth_cancel - "*" ends an exchange we cannot go on with (RFC 4954) */
static void
auth_cancel(struct lmtp_conn *lc)
{
	struct lmtp_reply r;
	char *err = NULL;

	command(lc, "*");
	if (exchange(lc, LMTP_AUTH, &r, NULL, &err) == 0)
		lmtp_reply_free(&r);
	free(err);
}

/* auth_rounds - answer 334 challenges until the store decides */
static int
auth_rounds(struct lmtp_conn *lc, struct sasl_exchange *ex,
    const char *what, char **err)
{
	struct lmtp_reply r;
	char *resp = NULL;

	for (int round = 0; round < AUTH_ROUNDS; round++) {
		if (exchange(lc, LMTP_AUTH, &r, NULL, err) == -1)
			return -1;
		if (r.code == 235) {
			lmtp_reply_free(&r);
			return 0;
		}
		if (r.code != 334) {
			xerr(err, "%s refused: %s", what, r.text);
			lmtp_reply_free(&r);
			return -1;
		}
		if (sasl_next(ex, r.text + (r.text[3] ? 4 : 3), &resp, err) == -1) {
			lmtp_reply_free(&r);
			auth_cancel(lc);
			return -1;
		}
		lmtp_reply_free(&r);
		if (strlen(resp) > LMTP_LINE_MAX - 8) {
			free(resp);
			lc->broken = 1;
			return xerr(err, "%s: response too long", what);
		}
		command(lc, "%s", resp);
		free(resp);
	}
	lc->broken = 1;
	return xerr(err, "%s: more than %d challenges", what,
	    AUTH_ROUNDS);
}

/* lmtp_authenticate - AUTH with the best mechanism both sides have */
int
lmtp_authenticate(struct lmtp_conn *lc, const struct lmtp_auth *a,
    char **mech_r, char **err)
{
	struct sasl_exchange *ex = NULL;
	const char *mech = NULL;
	char *resp = NULL, *what;
	int rc;

	*err = NULL;
	if (!(lc->caps & LMTP_CAP_AUTH))
		return xerr(err, "the store offers no AUTH");
	if (sasl_begin(a->creds, lc->host, a->mechs, lc->auth_mechs,
	    a->plaintext_ok || lc->local || lc->tls, &ex, &mech, &resp,
	    err) == -1)
		return -1;
	what = xasprintf("AUTH %s as %s", mech, a->creds->authname);
	if (mech_r)
		*mech_r = xstrdup(mech);
	if (resp && strlen(resp) > LMTP_LINE_MAX - 64)
		rc = xerr(err, "%s: initial response too long", what);
	else {
		if (resp)
			command(lc, "AUTH %s %s", mech, resp);
		else
			command(lc, "AUTH %s", mech);
		rc = auth_rounds(lc, ex, what, err);
	}
	free(what);
	free(resp);
	sasl_end(&ex);
	return rc;
}

/* set_reply - give reply r to recipient i (copying the text) */
static void
set_reply(struct lmtp_txn *t, size_t i, const struct lmtp_reply *r)
{
	lmtp_reply_free(&t->replies[i]);
	t->replies[i].code = r->code;
	memcpy(t->replies[i].status, r->status, sizeof r->status);
	t->replies[i].text = xstrdup(r->text ? r->text : "");
}

/* all_reply - give r to every recipient that has no answer yet */
static void
all_reply(struct lmtp_txn *t, const struct lmtp_reply *r)
{
	for (size_t i = 0; i < t->nrcpts; i++)
		if (t->replies[i].code == 0)
			set_reply(t, i, r);
}

/* address_ok - no byte that could end or bend an LMTP command, and
   short enough for one */
static int
address_ok(const char *a)
{
	if (strlen(a) > LMTP_LINE_MAX - 64)
		return 0;
	for (; *a; a++)
		if ((unsigned char)*a < 0x20 || *a == 0x7f || *a == '<' ||
		    *a == '>')
			return 0;
	return 1;
}

/* queue_cmd - command k of t: 0 MAIL, 1..n RCPT, n+1 DATA */
static void
queue_cmd(struct lmtp_conn *lc, const struct lmtp_txn *t, size_t k)
{
	if (k == 0) {
		char size[40] = "";
		if ((lc->caps & LMTP_CAP_SIZE) && t->size >= 0)
			snprintf(size, sizeof size, " SIZE=%lld",
			    (long long)t->size);
		command(lc, "MAIL FROM:<%s>%s%s", t->sender, size,
		    lc->caps & LMTP_CAP_8BITMIME ? " BODY=8BITMIME" : "");
	} else if (k <= t->nrcpts)
		command(lc, "RCPT TO:<%s>", t->rcpts[k - 1]);
	else
		command(lc, "DATA");
}

/* data_put - dot-stuff n bytes of the message into lc->out */
static int
data_put(struct lmtp_conn *lc, const char *p, size_t n, char **err)
{
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t take = nl ? (size_t)(nl - p) + 1 : n;

		if (lc->bol && *p == '.')
			buf_putc(&lc->out, '.');
		buf_append(&lc->out, p, take);
		lc->bol = nl != NULL;
		p += take;
		n -= take;
		if (lc->out.len >= OUT_FLUSH && write_out(lc, err) == -1)
			return -1;
	}
	return 0;
}

/* send_body - the message from the source, then the final dot */
static int
send_body(struct lmtp_conn *lc, struct lmtp_txn *t, char **err)
{
	char chunk[32768];
	ssize_t n;

	lc->phase = LMTP_BODY;
	lc->bol = 1;
	while ((n = t->src.read(t->src.ctx, chunk, sizeof chunk, err)) > 0)
		if (data_put(lc, chunk, (size_t)n, err) == -1)
			return -1;
	if (n < 0) {
		/* We cannot finish the message: break the link so that the
		   store drops it (RFC 2033: no dot, nothing delivered). */
		lc->broken = 1;
		return -1;
	}
	if (!lc->bol)
		buf_append(&lc->out, "\r\n", 2);
	buf_append(&lc->out, ".\r\n", 3);
	lc->phase = LMTP_DOT;
	return write_out(lc, err);
}

/*
 * in_step - nothing from the store waits unread before a new command: a
 * reply line nobody asked for would be taken for the answer to the next
 * one (a stray 250 for DATA's). Such a link is broken. An EOF is left to
 * the next read (a dropped link). 0, or -1 with *err.
 */
static int
in_step(struct lmtp_conn *lc, const char *before, char **err)
{
	char c;

	if (lc->in_off < lc->in_len || (lc->tls ? tls_pending(lc->tls) :
	    recv(lc->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 1)) {
		lc->broken = 1;
		return xerr(err, "connection out of step: the store sent a "
		    "reply nobody asked for before %s", before);
	}
	return 0;
}

/* out_of_step - reply r is none the command can have (a 2xx or 3xx
   where it means nothing): the link is broken. -1 with *err */
static int
out_of_step(struct lmtp_conn *lc, const struct lmtp_reply *r, char **err)
{
	lc->broken = 1;
	return xerr(err, "connection out of step: the store answered %s "
	    "with \"%.80s\"", lmtp_phase_names[lc->phase], r->text ? r->text : "");
}

/* stray - r is a reply no command of ours can get: the link is out of
   step; r is freed (the caller gets no reply). -1 with *err */
static int
stray(struct lmtp_conn *lc, struct lmtp_reply *r, char **err)
{
	out_of_step(lc, r, err);
	lmtp_reply_free(r);
	memset(r, 0, sizeof *r);
	return -1;
}

/* final_replies - one reply per accepted recipient, in RCPT order */
static int
final_replies(struct lmtp_conn *lc, struct lmtp_txn *t,
    const size_t *acc, size_t nacc, char **err)
{
	struct lmtp_reply r;

	for (size_t i = 0; i < nacc; i++) {
		if (read_reply(lc, &r, NULL, err) == -1)
			return -1;	/* the rest stay unanswered */
		if (r.code >= 300 && r.code < 400) {	/* no final answer */
			out_of_step(lc, &r, err);
			lmtp_reply_free(&r);
			return -1;
		}
		set_reply(t, acc[i], &r);
		lmtp_reply_free(&r);
	}
	return 0;
}

/* too_big - the store's SIZE limit refuses the message: our own 552 */
static int
too_big(struct lmtp_conn *lc, struct lmtp_txn *t)
{
	struct lmtp_reply r = { .code = 552, .status = "5.3.4" };
	char text[160];

	if (!(lc->caps & LMTP_CAP_SIZE) || lc->size_max == 0 ||
	    (unsigned long long)t->size <= lc->size_max)
		return 0;
	snprintf(text, sizeof text, "552 5.3.4 message of %lld bytes not "
	    "sent: the store takes at most %llu (SIZE)", (long long)t->size,
	    lc->size_max);
	r.text = text;
	all_reply(t, &r);
	return 1;
}

/* phase_of - the phase command k of t belongs to */
static enum lmtp_phase
phase_of(const struct lmtp_txn *t, size_t k)
{
	return k == 0 ? LMTP_MAIL : k <= t->nrcpts ? LMTP_RCPT : LMTP_DATA;
}

/* check_addresses - nothing that could bend a command goes out */
static int
check_addresses(const struct lmtp_txn *t, char **err)
{
	if (!address_ok(t->sender))
		return xerr(err, "sender address too long or with "
		    "control characters");
	for (size_t i = 0; i < t->nrcpts; i++)
		if (!address_ok(t->rcpts[i]))
			return xerr(err, "recipient address too long or "
			    "with control characters");
	return 0;
}

/* reset - RSET after a transaction that ended without its data */
static void
reset(struct lmtp_conn *lc)
{
	struct lmtp_reply r;
	char *err = NULL;

	lc->in_txn = 0;
	if (in_step(lc, "RSET", &err) == -1) {
		free(err);
		return;
	}
	command(lc, "RSET");
	if (exchange(lc, LMTP_RSET, &r, NULL, &err) == 0) {
		if (r.code != 250)
			lc->broken = 1;
		lmtp_reply_free(&r);
	} else
		lc->broken = 1;
	free(err);
}

/*
 * lmtp_send - one transaction: command k is MAIL (0), RCPT (1..n) or
 * DATA (n+1). Commands go out up to PIPE_WINDOW ahead of their replies
 * when the store offers PIPELINING, else one at a time; replies come back
 * in the same order and each is handled in the phase of its command. A
 * 354 to DATA leads to BODY and DOT: one reply per accepted recipient.
 * Any 2xx or 3xx reply but 250 to MAIL, 250/251 to RCPT and 354 to DATA,
 * or a reply waiting before MAIL, breaks the link (-1): the store and lda
 * no longer agree which reply answers what.
 */
int
lmtp_send(struct lmtp_conn *lc, struct lmtp_txn *t, char **err)
{
	size_t ncmd = t->nrcpts + (t->probe ? 1 : 2), nsent = 0, k, nacc = 0;
	size_t window = lc->caps & LMTP_CAP_PIPELINING ? PIPE_WINDOW : 1;
	size_t *acc;
	int rc = 0, mail_ok = 0, data_sent = 0;
	struct lmtp_reply r;

	*err = NULL;
	for (size_t i = t->given; i < t->nrcpts; i++)
		memset(&t->replies[i], 0, sizeof t->replies[i]);
	if (lc->broken)
		return xerr(err, "connection out of step");
	if (t->given && !lc->in_txn)
		return xerr(err, "no transaction open to carry on");
	if (!t->given && lc->in_txn)
		reset(lc);	/* one opened ahead that is not this one */
	if (check_addresses(t, err) == -1)
		return -1;
	acc = xcalloc(t->nrcpts + 1, sizeof *acc);
	/* the RCPTs given already: accepted ones wait for their final reply */
	for (k = 0; k < t->given; k++)
		if (t->replies[k].code == 250 || t->replies[k].code == 251) {
			lmtp_reply_free(&t->replies[k]);
			memset(&t->replies[k], 0, sizeof t->replies[k]);
			acc[nacc++] = k;
		}
	mail_ok = t->given > 0;
	nsent = t->given ? t->given + 1 : 0;
	if (too_big(lc, t) || (!t->given && in_step(lc, "MAIL", err) == -1)) {
		if (lc->in_txn)
			reset(lc);
		free(acc);
		return *err ? -1 : 0;
	}
	for (k = nsent; k < ncmd; k++) {
		while (nsent < ncmd && nsent - k < window) {
			/* One at a time, DATA goes out only if a RCPT took. */
			if (window == 1 && nsent == t->nrcpts + 1 && nacc == 0)
				break;
			queue_cmd(lc, t, nsent++);
		}
		if (nsent == k)
			break;
		lc->phase = phase_of(t, k);
		if (write_out(lc, err) == -1 || read_reply(lc, &r, NULL,
		    err) == -1) {
			rc = -1;
			break;
		}
		/* A 2xx or 3xx no command of ours can get: out of step. */
		if (r.code < 400 && (lc->phase == LMTP_DATA ? r.code != 354 :
		    lc->phase == LMTP_MAIL ? r.code != 250 :
		    r.code != 250 && r.code != 251)) {
			rc = out_of_step(lc, &r, err);
			lmtp_reply_free(&r);
			break;
		}
		switch (lc->phase) {
		case LMTP_MAIL:
			if (r.code == 250)
				mail_ok = 1;
			else {
				all_reply(t, &r);
				ncmd = nsent;	/* read what went out, no more */
			}
			break;
		case LMTP_RCPT:
			if (!mail_ok)
				break;
			if ((r.code == 250 || r.code == 251) && !t->probe)
				acc[nacc++] = k - 1;
			else
				set_reply(t, k - 1, &r);
			break;
		default:	/* LMTP_DATA */
			if (!mail_ok)
				break;
			if (r.code != 354) {
				all_reply(t, &r);
				break;
			}
			data_sent = 1;
			if (nacc == 0) {
				/* Nobody to deliver to, yet the store wants
				   the data: end it, and trust the link no
				   further (how many replies come is unclear). */
				buf_append(&lc->out, ".\r\n", 3);
				if (write_out(lc, err) == -1) {
					free(*err);
					*err = NULL;
				}
				lc->broken = 1;
			} else if (send_body(lc, t, err) == -1 ||
			    final_replies(lc, t, acc, nacc, err) == -1)
				rc = -1;
		}
		lmtp_reply_free(&r);
	}
	if (rc == 0 && mail_ok && !data_sent && !lc->broken)
		reset(lc);
	lc->in_txn = 0;
	free(acc);
	return rc;
}

/* lmtp_begin - MAIL and RCPT, the transaction left open (lmtp.h) */
int
lmtp_begin(struct lmtp_conn *lc, const char *sender, off_t size,
    const char *rcpt, struct lmtp_reply *r, char **err)
{
	struct lmtp_txn t = { .sender = sender, .size = size };
	struct lmtp_reply mail;

	memset(r, 0, sizeof *r);
	if (lc->broken)
		return xerr(err, "connection out of step");
	if (!(lc->caps & LMTP_CAP_PIPELINING))
		return 1;
	if (lc->in_txn)
		reset(lc);
	if (!address_ok(sender) || !address_ok(rcpt))
		return xerr(err, "address too long or with control characters");
	if (in_step(lc, "MAIL", err) == -1)
		return -1;
	queue_cmd(lc, &t, 0);
	command(lc, "RCPT TO:<%s>", rcpt);
	lc->phase = LMTP_MAIL;
	if (write_out(lc, err) == -1 || read_reply(lc, &mail, NULL, err) == -1)
		goto lost;
	lc->phase = LMTP_RCPT;
	if (read_reply(lc, r, NULL, err) == -1) {
		lmtp_reply_free(&mail);
		goto lost;
	}
	if (mail.code != 250) {		/* no transaction: MAIL's word */
		lmtp_reply_free(r);
		*r = mail;
		return mail.code >= 200 && mail.code < 400 ? stray(lc, r, err) :
		    0;
	}
	lmtp_reply_free(&mail);
	lc->in_txn = 1;
	lc->txn_since = now_ms();
	if (r->code < 400 && r->code != 250 && r->code != 251)
		return stray(lc, r, err);
	return 0;
lost:
	lc->broken = 1;
	return -1;
}

/* lmtp_rcpt - one more RCPT in the open transaction (lmtp.h) */
int
lmtp_rcpt(struct lmtp_conn *lc, const char *rcpt, struct lmtp_reply *r,
    char **err)
{
	memset(r, 0, sizeof *r);
	if (lc->broken || !lc->in_txn)
		return xerr(err, "no transaction open");
	if (!address_ok(rcpt))
		return xerr(err, "address too long or with control characters");
	if (in_step(lc, "RCPT", err) == -1)
		return -1;
	command(lc, "RCPT TO:<%s>", rcpt);
	if (exchange(lc, LMTP_RCPT, r, NULL, err) == -1) {
		lc->broken = 1;
		return -1;
	}
	if (r->code < 400 && r->code != 250 && r->code != 251)
		return stray(lc, r, err);
	return 0;
}

int
lmtp_in_txn(const struct lmtp_conn *lc)
{
	return lc->in_txn;
}

/* lmtp_txn_age - seconds since lmtp_begin opened the transaction */
long
lmtp_txn_age(const struct lmtp_conn *lc)
{
	return lc->in_txn ? (long)((now_ms() - lc->txn_since) / 1000) : -1;
}

/* lmtp_reset - end the open transaction, if any */
void
lmtp_reset(struct lmtp_conn *lc)
{
	if (lc->in_txn && !lc->broken)
		reset(lc);
	lc->in_txn = 0;
}

/*
 * probe_stepwise - lmtp_probe to a store without PIPELINING: MAIL
 * FROM:<>, RCPT TO:<rcpt>, then RSET, one at a time. Returns 0
 * with *r (the RCPT reply, or the MAIL refusal), or -1 with *err when the
 * link failed (the connection is then out of step: close it).
 */
static int
probe_stepwise(struct lmtp_conn *lc, const char *rcpt, struct lmtp_reply *r,
    char **err)
{
	memset(r, 0, sizeof *r);
	if (lc->broken) {
		*err = xstrdup("the connection is out of step");
		return -1;
	}
	if (in_step(lc, "MAIL", err) == -1)
		return -1;
	command(lc, "MAIL FROM:<>");
	if (lc->broken || exchange(lc, LMTP_MAIL, r, NULL, err) == -1)
		goto lost;
	if (r->code < 200 || r->code > 299)
		return 0;
	lmtp_reply_free(r);
	memset(r, 0, sizeof *r);
	command(lc, "RCPT TO:<%s>", rcpt);
	if (lc->broken || exchange(lc, LMTP_RCPT, r, NULL, err) == -1)
		goto lost;
	reset(lc);
	return 0;
lost:
	lc->broken = 1;
	if (*err == NULL)
		*err = xstrdup("address too long for one command");
	return -1;
}

/* lmtp_probe - the same in one write and one wait (PIPELINING) */
int
lmtp_probe(struct lmtp_conn *lc, const char *rcpt, struct lmtp_reply *r,
    char **err)
{
	struct lmtp_reply more[2];
	int n = 0;

	memset(r, 0, sizeof *r);
	memset(more, 0, sizeof more);
	if (lc->broken) {
		*err = xstrdup("the connection is out of step");
		return -1;
	}
	if (!(lc->caps & LMTP_CAP_PIPELINING))
		return probe_stepwise(lc, rcpt, r, err);
	if (in_step(lc, "MAIL", err) == -1)
		return -1;
	/* one write, three replies: MAIL's, RCPT's (503 after a refused
	   MAIL), RSET's */
	command(lc, "MAIL FROM:<>");
	command(lc, "RCPT TO:<%s>", rcpt);
	command(lc, "RSET");
	lc->phase = LMTP_MAIL;
	if (lc->broken || write_out(lc, err) == -1 ||
	    read_reply(lc, r, NULL, err) == -1)
		goto lost;
	lc->phase = LMTP_RCPT;
	if (read_reply(lc, &more[n++], NULL, err) == -1)
		goto lost;
	lc->phase = LMTP_RSET;
	if (read_reply(lc, &more[n++], NULL, err) == -1)
		goto lost;
	if (more[1].code != 250)
		lc->broken = 1;
	if (r->code >= 200 && r->code <= 299) {
		lmtp_reply_free(r);
		*r = more[0];
		more[0].text = NULL;
	}
	lmtp_reply_free(&more[0]);
	lmtp_reply_free(&more[1]);
	return 0;
lost:
	lc->broken = 1;
	while (n > 0)
		lmtp_reply_free(&more[--n]);
	lmtp_reply_free(r);
	if (*err == NULL)
		*err = xstrdup("address too long for one command");
	return -1;
}

/* handshake - TLS on lc's socket within the reply timeout; 0, or -1
   with *err and status */
static int
handshake(struct lmtp_conn *lc, const char *cafile, char *status,
    char **err)
{
	long long deadline = now_ms() + (long long)lc->timeout * 1000;
	short ev;
	int r;

	lc->phase = LMTP_TLS;
	if (tls_client_new(lc->fd, lc->host, cafile, &lc->tls, err) == -1) {
		lda_strlcpy(status, "4.3.5", 16);
		return -1;
	}
	while ((r = tls_handshake(lc->tls, &ev, err)) == 0) {
		int w = wait_fd(lc->fd, ev, deadline);
		if (w == 1)
			continue;
		r = w == 0 ? xerr(err, "timeout (%d s) in the TLS handshake",
		    lc->timeout) : xerr(err, "poll: %s", strerror(errno));
		break;
	}
	if (r == -1) {
		lda_strlcpy(status, "4.7.5", 16);
		return -1;
	}
	return 0;
}

/* lmtp_starttls - RFC 3207: STARTTLS, the handshake, LHLO again */
int
lmtp_starttls(struct lmtp_conn *lc, const struct lmtp_tls *p,
    char status_r[16], char **err)
{
	struct lmtp_reply r;

	*err = NULL;
	status_r[0] = '\0';
	if (p->mode == LMTP_TLS_OFF || lc->unix_sock || lc->tls)
		return 0;
	if (!(lc->caps & LMTP_CAP_STARTTLS)) {
		if (p->mode != LMTP_TLS_REQUIRE)
			return 0;
		lda_strlcpy(status_r, "4.7.4", 16);
		return xerr(err, "TLS is required, but the store does not "
		    "offer STARTTLS");
	}
	if (in_step(lc, "STARTTLS", err) == -1)
		return -1;
	/* From here on nothing goes out in plaintext: a failure breaks
	   the link (lmtp_close then sends no QUIT). */
	lc->broken = 1;
	command(lc, "STARTTLS");
	if (exchange(lc, LMTP_STARTTLS, &r, NULL, err) == -1)
		return -1;
	if (r.code != 220) {
		lda_strlcpy(status_r, r.status[0] ? r.status : "4.7.0", 16);
		xerr(err, "STARTTLS refused: %s", r.text);
		lmtp_reply_free(&r);
		return -1;
	}
	lmtp_reply_free(&r);
	/* Bytes already read after the 220 came in plaintext, before the
	   handshake: whoever sent them is not to be believed over TLS
	   (the STARTTLS injection of CVE-2011-0411, seen from the client). */
	if (lc->in_off < lc->in_len) {
		lda_strlcpy(status_r, "4.7.5", 16);
		return xerr(err, "the store sent more after its 220 to "
		    "STARTTLS, before the TLS handshake");
	}
	if (handshake(lc, p->cafile, status_r, err) == -1)
		return -1;
	lc->broken = 0;
	return lhlo(lc, err);
}

/* lmtp_tls_info - the protocol and cipher in use, or NULL */
const char *
lmtp_tls_info(const struct lmtp_conn *lc)
{
	return lc->tls ? tls_describe(lc->tls) : NULL;
}

/* lmtp_reply_free - the reply's text */
void
lmtp_reply_free(struct lmtp_reply *r)
{
	free(r->text);
	r->text = NULL;
}

/*
 * lmtp_close - QUIT if in step, close, free. QUIT's reply is not waited
 * for (Postfix's smtp_skip_quit_response): every answer that matters has
 * come, and the wait would be one more round trip per message.
 */
void
lmtp_close(struct lmtp_conn **lcp)
{
	struct lmtp_conn *lc = *lcp;

	if (lc == NULL)
		return;
	if (lc->fd != -1 && !lc->broken) {
		char *err = NULL;
		lc->timeout = lc->timeout < QUIT_TIMEOUT ? lc->timeout :
		    QUIT_TIMEOUT;
		command(lc, "QUIT");
		lc->phase = LMTP_QUIT;
		write_out(lc, &err);
		free(err);
	}
	tls_close(&lc->tls);
	if (lc->fd != -1)
		close(lc->fd);
	buf_free(&lc->out);
	free(lc->auth_mechs);
	free(lc->name);
	free(lc->host);
	free(lc);
	*lcp = NULL;
}

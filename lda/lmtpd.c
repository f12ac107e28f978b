/*
 * lmtpd.c - lda -z: the LMTP server's protocol loop (RFC 2033).
 * Does: read commands in bounded lines (pipelined: replies are written
 * when the client's input is used up), one state machine over the
 * phases, DATA decoded byte by byte into a spool (dot-stuffing removed,
 * CRLF and bare LF both made LF) so that a dot line split across reads
 * or a line of any length is handled alike, the limits of lmtpd.h, one
 * reply per accepted recipient after the dot.
 * Does not: decide who exists or deliver (ops->check, ops->deliver), read
 * settings, exit. A client gone before the final dot: nothing delivered.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "fdio.h"
#include "lmtpd.h"
#include "log.h"
#include "spool.h"
#include "xalloc.h"

#define IN_MAX 65536		/* bytes of the input buffer */
#define ADDR_MAX 512		/* bytes of an address in MAIL or RCPT */

enum phase { PH_START, PH_READY, PH_MAIL, PH_QUIT };

/* The DATA decoder's state: where in a line the next byte falls. */
enum dstate { D_BOL, D_MID, D_CR, D_DOT, D_DOTCR, D_END };

struct conn {
	int in, out;
	char ibuf[IN_MAX];
	size_t ioff, ilen;
	int eof;
	struct buf obuf;		/* replies not yet written */
	int wfail;			/* a write failed: the client is gone */
	const struct lmtpd_ops *ops;
	enum phase ph;
	int errors;			/* bad commands in a row */
	time_t txn_end;			/* the transaction's deadline, or 0 */
	/* the transaction */
	char *sender;
	long long size;			/* MAIL's SIZE=, or -1 */
	char **rcpts;
	size_t nrcpts;
};

/* mono - monotonic seconds */
static time_t
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* lmtpd_reply_set - fill a reply, one printable line */
void
lmtpd_reply_set(struct lmtpd_reply *r, int code, const char *status,
    const char *fmt, ...)
{
	va_list ap;

	r->code = code;
	snprintf(r->status, sizeof r->status, "%s", status);
	va_start(ap, fmt);
	vsnprintf(r->text, sizeof r->text, fmt, ap);
	va_end(ap);
	for (char *p = r->text; *p; p++)
		if (iscntrl((unsigned char)*p))
			*p = ' ';
}

/* lmtpd_refuse - the greeting 421 of a session not served (lmtpd.h) */
void
lmtpd_refuse(int fd, const char *status, const char *text)
{
	struct lmtpd_reply r;
	char line[sizeof r.status + sizeof r.text + 8];
	int n;

	lmtpd_reply_set(&r, 421, status, "%s", text);
	n = snprintf(line, sizeof line, "%d %s %s\r\n", r.code, r.status,
	    r.text);
	if (n > 0 && fd_write_all(fd, line, (size_t)n < sizeof line ?
	    (size_t)n : sizeof line - 1) == -1) {
		/* nobody to tell but the log */
	}
}

/* lmtpd_quiet_stderr - /dev/null on 2 when it is the client (lmtpd.h) */
void
lmtpd_quiet_stderr(int client)
{
	struct stat sc, s2;
	int null;

	if (fstat(client, &sc) == -1 || fstat(2, &s2) == -1 ||
	    sc.st_dev != s2.st_dev || sc.st_ino != s2.st_ino)
		return;
	fflush(stderr);
	if ((null = open("/dev/null", O_WRONLY | O_CLOEXEC)) == -1)
		return;
	dup2(null, 2);
	if (null != 2)
		close(null);
}

/* put - queue one reply line */
static void
put(struct conn *c, int code, const char *status, const char *text)
{
	buf_printf(&c->obuf, "%d %s%s%s\r\n", code, status, *status ? " " :
	    "", text);
}

/* put_reply - queue r */
static void
put_reply(struct conn *c, const struct lmtpd_reply *r)
{
	put(c, r->code, r->status, r->text);
}

/* flush - write the queued replies; a failure marks the client gone */
static int
flush(struct conn *c)
{
	if (c->obuf.len == 0 || c->wfail)
		return c->wfail ? -1 : 0;
	if (fd_write_all(c->out, c->obuf.s, c->obuf.len) == -1) {
		log_warn("lmtp server: cannot write to the client: %s",
		    strerror(errno));
		c->wfail = 1;
	}
	buf_reset(&c->obuf);
	return c->wfail ? -1 : 0;
}

/* fill - more input, after the replies so far went out; returns 1, 0 at
   the end of input, -1 on a timeout or a read error (logged) */
static int
fill(struct conn *c)
{
	time_t now = mono(), left = LMTPD_IDLE_TIMEOUT;
	struct pollfd pfd = { .fd = c->in, .events = POLLIN };
	ssize_t n;
	int r;

	if (flush(c) == -1)
		return -1;
	if (c->eof)
		return 0;
	if (c->txn_end && c->txn_end - now < left)
		left = c->txn_end > now ? c->txn_end - now : 0;
	if (c->ioff > 0) {
		memmove(c->ibuf, c->ibuf + c->ioff, c->ilen - c->ioff);
		c->ilen -= c->ioff;
		c->ioff = 0;
	}
	/* between transactions, a client that pauses (postfix keeps its
	   idle connections cached) should not hold what we hold for it */
	r = 0;
	if (c->ops->idle && c->ph != PH_MAIL) {
		while ((r = poll(&pfd, 1, LMTPD_STORE_IDLE_MS)) == -1 &&
		    errno == EINTR)
			;
		if (r == 0)
			c->ops->idle(c->ops->ctx);
	}
	while (r == 0 && (r = poll(&pfd, 1, (int)left * 1000)) == -1 &&
	    errno == EINTR)
		r = 0;
	if (r == 0) {
		put(c, 421, "4.4.2", "timeout, closing the connection");
		flush(c);
		log_warn("lmtp server: the client was silent for %ld s%s",
		    (long)left, c->txn_end ? " (transaction deadline)" : "");
		return -1;
	}
	while ((n = read(c->in, c->ibuf + c->ilen, IN_MAX - c->ilen)) == -1 &&
	    errno == EINTR)
		;
	if (n < 0) {
		log_warn("lmtp server: read: %s", strerror(errno));
		return -1;
	}
	if (n == 0)
		c->eof = 1;
	c->ilen += (size_t)n;
	return n > 0;
}

/*
 * get_line - the next command line, NUL-terminated, line end removed.
 * Returns 1 with *line, 0 at the end of input, -1 on a timeout or read
 * error. A line longer than LMTPD_LINE_MAX is skipped to its end and
 * comes back as "" with *bad 1; one holding a NUL byte as "" with *bad 2.
 */
static int
get_line(struct conn *c, char **line, int *bad)
{
	int skipping = 0;

	*bad = 0;
	for (;;) {
		char *s = c->ibuf + c->ioff;
		char *nl = memchr(s, '\n', c->ilen - c->ioff);
		int r;

		if (nl != NULL) {
			size_t len = (size_t)(nl - s);
			c->ioff += len + 1;
			if (skipping || len + 1 > LMTPD_LINE_MAX ||
			    memchr(s, '\0', len) != NULL) {
				*bad = skipping || len + 1 > LMTPD_LINE_MAX ?
				    1 : 2;
				s[0] = '\0';
			} else {
				if (len > 0 && s[len - 1] == '\r')
					len--;
				s[len] = '\0';
			}
			*line = s;
			return 1;
		}
		if (c->ilen - c->ioff >= LMTPD_LINE_MAX) {
			skipping = 1;	/* drop what we have, find the end */
			c->ioff = c->ilen;
		}
		if ((r = fill(c)) <= 0)
			return r;
	}
}

/* txn_clear - forget the transaction */
static void
txn_clear(struct conn *c)
{
	if (c->sender && c->ops->end)
		c->ops->end(c->ops->ctx);
	for (size_t i = 0; i < c->nrcpts; i++)
		free(c->rcpts[i]);
	free(c->rcpts);
	free(c->sender);
	c->rcpts = NULL;
	c->nrcpts = 0;
	c->sender = NULL;
	c->txn_end = 0;
	if (c->ph == PH_MAIL)
		c->ph = PH_READY;
}

/* size_max - the SIZE we take */
static unsigned long long
size_max(const struct conn *c)
{
	return c->ops->size_max ? c->ops->size_max : LMTPD_SIZE_DEFAULT;
}

/*
 * path_arg - the <address> after "FROM:" or "TO:" in arg, copied into
 * addr (ADDR_MAX bytes); *rest: the parameters after it. Returns 0, or
 * -1 when there is no <...>, it is too long or holds control bytes.
 */
static int
path_arg(const char *arg, const char *kw, char *addr, const char **rest)
{
	size_t kl = strlen(kw);
	const char *p, *e;

	if (strncasecmp(arg, kw, kl) != 0)
		return -1;
	for (p = arg + kl; *p == ' '; p++)
		;
	if (*p != '<' || (e = strchr(p, '>')) == NULL ||
	    (size_t)(e - p - 1) >= ADDR_MAX)
		return -1;
	for (const char *q = p + 1; q < e; q++)
		if (iscntrl((unsigned char)*q) || (unsigned char)*q >= 0x80)
			return -1;
	memcpy(addr, p + 1, (size_t)(e - p - 1));
	addr[e - p - 1] = '\0';
	*rest = e + 1;
	return 0;
}

/* mail_params - MAIL's SIZE= and BODY=; returns 0, or -1 after the
   reply to an unknown or bad parameter or a size over the limit */
static int
mail_params(struct conn *c, const char *p)
{
	while (*p) {
		const char *w = p + strspn(p, " ");
		size_t n = strcspn(w, " ");
		if (n == 0)
			break;
		if (n > 5 && strncasecmp(w, "SIZE=", 5) == 0) {
			char *end;
			unsigned long long v;
			errno = 0;
			v = strtoull(w + 5, &end, 10);
			if (end != w + n || errno || !isdigit((unsigned char)w[5])) {
				put(c, 501, "5.5.4", "bad SIZE");
				return -1;
			}
			c->size = (long long)v;
			if (v > size_max(c)) {
				put(c, 552, "5.3.4", "message too big for this "
				    "server");
				return -1;
			}
		} else if (!(n == 9 && strncasecmp(w, "BODY=7BIT", 9) == 0) &&
		    !(n == 13 && strncasecmp(w, "BODY=8BITMIME", 13) == 0)) {
			put(c, 555, "5.5.4", "unknown MAIL parameter");
			return -1;
		}
		p = w + n;
	}
	return 0;
}

/* cmd_lhlo - LHLO: our capabilities */
static void
cmd_lhlo(struct conn *c, const char *arg)
{
	if (*arg == '\0') {
		put(c, 501, "5.5.4", "LHLO needs a name");
		return;
	}
	txn_clear(c);
	c->ph = PH_READY;
	buf_printf(&c->obuf, "250-%s\r\n250-PIPELINING\r\n"
	    "250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250 SIZE %llu\r\n",
	    c->ops->name, size_max(c));
}

/* cmd_mail - MAIL FROM:<sender> */
static void
cmd_mail(struct conn *c, const char *arg)
{
	char addr[ADDR_MAX];
	const char *rest;

	if (c->ph != PH_READY) {
		put(c, 503, "5.5.1", c->ph == PH_START ? "LHLO first" :
		    "a transaction is under way (RSET first)");
		return;
	}
	if (path_arg(arg, "FROM:", addr, &rest) == -1) {
		put(c, 501, "5.1.7", "syntax: MAIL FROM:<address>");
		return;
	}
	c->size = -1;
	if (mail_params(c, rest) == -1)
		return;
	c->sender = xstrdup(addr);
	c->ph = PH_MAIL;
	c->txn_end = mono() + LMTPD_TXN_TIMEOUT;
	put(c, 250, "2.1.0", "sender ok");
}

/* cmd_rcpt - RCPT TO:<recipient>, checked now */
static void
cmd_rcpt(struct conn *c, const char *arg)
{
	struct lmtpd_reply r;
	char addr[ADDR_MAX];
	const char *rest;

	if (c->ph != PH_MAIL) {
		put(c, 503, "5.5.1", "MAIL first");
		return;
	}
	if (path_arg(arg, "TO:", addr, &rest) == -1 || addr[0] == '\0') {
		put(c, 501, "5.1.3", "syntax: RCPT TO:<address>");
		return;
	}
	if (rest[strspn(rest, " ")] != '\0') {
		put(c, 555, "5.5.4", "unknown RCPT parameter");
		return;
	}
	if (c->nrcpts >= LMTPD_RCPTS_MAX) {
		put(c, 452, "4.5.3", "too many recipients in one transaction");
		return;
	}
	c->ops->check(c->ops->ctx, c->sender, c->size, addr, &r);
	put_reply(c, &r);
	if (r.code >= 200 && r.code < 300) {
		c->rcpts = xreallocarray(c->rcpts, c->nrcpts + 1,
		    sizeof *c->rcpts);
		c->rcpts[c->nrcpts++] = xstrdup(addr);
	}
}

/* data_out - decoded bytes to the spool (none once it failed or the
   message passed SIZE) */
struct sink {
	struct spool_writer *w;
	unsigned long long size, max;
	char *err;		/* the spool's failure, or NULL */
	char chunk[8192];
	size_t n;
};

static void
sink_flush(struct sink *k)
{
	if (k->n > 0 && k->w && k->err == NULL && k->size <= k->max &&
	    spool_put(k->w, k->chunk, k->n, &k->err) == -1) {
		/* recorded in k->err: every recipient gets 451 */
	}
	k->n = 0;
}

static void
sink_put(struct sink *k, char ch)
{
	k->size++;
	if (k->size > k->max)
		return;
	k->chunk[k->n++] = ch;
	if (k->n == sizeof k->chunk)
		sink_flush(k);
}

/* decode - DATA bytes p[0..n) into k; returns bytes used (up to and
   including the final dot line's LF, when *st becomes D_END) */
static size_t
decode(enum dstate *st, const char *p, size_t n, struct sink *k)
{
	size_t i;

	for (i = 0; i < n && *st != D_END; i++) {
		char ch = p[i];
		switch (*st) {
		case D_DOT:
			if (ch == '\r') { *st = D_DOTCR; continue; }
			if (ch == '\n') { *st = D_END; continue; }
			*st = D_MID;	/* the stuffed dot goes */
			break;
		case D_DOTCR:
			if (ch == '\n') { *st = D_END; continue; }
			sink_put(k, '\r');
			*st = D_MID;
			break;
		case D_CR:
			if (ch == '\n') { sink_put(k, '\n'); *st = D_BOL; continue; }
			sink_put(k, '\r');
			if (ch == '\r')
				continue;
			*st = D_MID;
			break;
		case D_BOL:
			if (ch == '.') { *st = D_DOT; continue; }
			*st = D_MID;
			break;
		default:
			break;
		}
		/* D_MID */
		if (ch == '\r')
			*st = D_CR;
		else if (ch == '\n') {
			sink_put(k, '\n');
			*st = D_BOL;
		} else
			sink_put(k, ch);
	}
	return i;
}

/* read_data - the message up to the final dot into k; returns 1, or
   0 / -1 when the client went away or timed out first */
static int
read_data(struct conn *c, struct sink *k)
{
	enum dstate st = D_BOL;

	for (;;) {
		size_t used = decode(&st, c->ibuf + c->ioff, c->ilen - c->ioff,
		    k);
		int r;
		c->ioff += used;
		if (st == D_END)
			break;
		if ((r = fill(c)) <= 0)
			return r;
	}
	sink_flush(k);
	return 1;
}

/* replies - after the dot: one reply per accepted recipient */
static void
replies(struct conn *c, struct sink *k)
{
	struct lmtpd_reply *r = xcalloc(c->nrcpts + 1, sizeof *r);
	struct spool *sp = NULL;

	if (k->err == NULL && k->size <= k->max)
		sp = spool_end(&k->w);
	if (sp)
		c->ops->deliver(c->ops->ctx, sp, c->sender, c->rcpts,
		    c->nrcpts, r);
	for (size_t i = 0; i < c->nrcpts; i++) {
		if (k->size > k->max)
			lmtpd_reply_set(&r[i], 552, "5.3.4", "message too big: "
			    "over %llu bytes", k->max);
		else if (sp == NULL)
			lmtpd_reply_set(&r[i], 451, "4.3.0", "cannot spool the "
			    "message: %s", k->err ? k->err : "?");
		put_reply(c, &r[i]);
	}
	flush(c);
	if (k->err)
		log_warn("lmtp server: spool: %s", k->err);
	spool_free(&sp);
	free(r);
}

/* cmd_data - DATA: the message, then the replies; -1 when the client
   went away during it (nothing delivered) */
static int
cmd_data(struct conn *c)
{
	struct sink k = { .max = size_max(c) };
	int r;

	if (c->ph != PH_MAIL || c->nrcpts == 0) {
		put(c, 503, "5.5.1", c->ph != PH_MAIL ? "MAIL first" :
		    "no valid recipients");
		return 0;
	}
	if ((k.w = spool_begin(c->ops->tmpdir, &k.err)) == NULL) {
		/* the data is read and dropped; each recipient gets 451 */
	}
	put(c, 354, "", "go ahead, end with <CRLF>.<CRLF>");
	r = read_data(c, &k);
	if (r <= 0) {
		spool_abort(&k.w);
		free(k.err);
		log_warn("lmtp server: the client %s during DATA: nothing "
		    "delivered", r == 0 ? "went away" : "failed");
		return -1;
	}
	replies(c, &k);
	spool_abort(&k.w);
	free(k.err);
	txn_clear(c);
	return 0;
}

/* verb_is - is line's command word w (case-insensitive)? *arg: after it */
static int
verb_is(const char *line, const char *w, const char **arg)
{
	size_t n = strlen(w);

	if (strncasecmp(line, w, n) != 0 || (line[n] != '\0' && line[n] != ' '))
		return 0;
	for (*arg = line + n; **arg == ' '; (*arg)++)
		;
	return 1;
}

/*
 * command - one command line; returns 0 to go on, 1 after QUIT, -1 when
 * the session must end (client gone mid-DATA, too many errors).
 */
static int
command(struct conn *c, const char *line)
{
	const char *arg;
	size_t before = c->obuf.len;
	int data = 0;

	if (verb_is(line, "LHLO", &arg))
		cmd_lhlo(c, arg);
	else if (verb_is(line, "MAIL", &arg))
		cmd_mail(c, arg);
	else if (verb_is(line, "RCPT", &arg))
		cmd_rcpt(c, arg);
	else if ((data = verb_is(line, "DATA", &arg)) != 0) {
		if (cmd_data(c) == -1)
			return -1;
	} else if (verb_is(line, "RSET", &arg)) {
		txn_clear(c);
		put(c, 250, "2.0.0", "reset");
	} else if (verb_is(line, "NOOP", &arg))
		put(c, 250, "2.0.0", "ok");
	else if (verb_is(line, "QUIT", &arg)) {
		put(c, 221, "2.0.0", "bye");
		return 1;
	} else if (verb_is(line, "HELO", &arg) || verb_is(line, "EHLO", &arg))
		put(c, 500, "5.5.1", "this is LMTP: LHLO, not HELO or EHLO");
	else
		put(c, 500, "5.5.1", "command not recognized");
	/* a reply of class 5 to a command is a client error */
	c->errors = !data && c->obuf.len > before && c->obuf.s[before] ==
	    '5' ? c->errors + 1 : 0;
	if (c->errors >= LMTPD_ERRORS_MAX) {
		put(c, 421, "4.7.0", "too many errors, closing the connection");
		log_warn("lmtp server: %d bad commands in a row: closing",
		    c->errors);
		return -1;
	}
	return 0;
}

/* lmtpd_serve - serve one client (lmtpd.h) */
int
lmtpd_serve(int in, int out, const struct lmtpd_ops *ops)
{
	struct conn *c = xcalloc(1, sizeof *c);
	int r = 0, bad;
	char *line;

	c->in = in;
	c->out = out;
	c->ops = ops;
	buf_init(&c->obuf, 0);
	buf_printf(&c->obuf, "220 %s LMTP lda ready\r\n", ops->name);
	while (r == 0) {
		int g = get_line(c, &line, &bad);
		if (g <= 0) {
			r = -1;
			if (g == 0 && c->ph == PH_MAIL)
				log_warn("lmtp server: the client went away "
				    "in a transaction");
			break;
		}
		if (bad) {
			put(c, 500, "5.5.2", bad == 1 ? "line too long" :
			    "NUL byte in a command");
			if (++c->errors < LMTPD_ERRORS_MAX)
				continue;
			put(c, 421, "4.7.0", "too many errors, closing");
			r = -1;
			break;
		}
		r = command(c, line);
	}
	flush(c);
	txn_clear(c);
	buf_free(&c->obuf);
	free(c);
	return r == 1 ? 0 : -1;
}

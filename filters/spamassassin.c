/*
 * spamassassin.c - the spamassassin filter: a native client of spamd's
 * protocol (SPAMC/1.5: PROCESS, HEADERS, CHECK, SYMBOLS) over a unix
 * socket or TCP, without forking spamc.
 * Does: send the message with the recipient's user name, read the reply
 * with a size cap and a deadline, hand back spamd's X-Spam-* fields
 * (HEADERS, the default) or its whole rewritten message (PROCESS), and the
 * variables SPAM_FLAG, SPAM_SCORE, SPAM_THRESHOLD, SPAM_SYMBOLS.
 * Does not: decide what spam means (the rc does), compress, TLS, learn.
 *
 * Settings: SPAMD (unix:/path | inet:host:port, default inet:localhost:783),
 * SPAMD_COMMAND (HEADERS | PROCESS | CHECK | SYMBOLS), SPAMD_USER (default
 * the recipient), SPAMD_MAXSIZE (bytes, k/m; default 500k as spamc: a bigger
 * message passes unscanned), SPAMD_CONNECT_TIMEOUT (s, 10), SPAMD_TIMEOUT
 * (s, whole exchange, 120), SPAMD_FAILURE (open | closed; default open).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../lda/fdio.h"
#include "../lda/xalloc.h"
#include "filter.h"
#include "net.h"

#define SPAMD_HEAD_MAX 16384		/* status line and reply headers */
#define SPAMD_SYMBOLS_MAX 65536		/* a SYMBOLS reply */
#define SPAMD_HEADERS_SLACK 65536	/* HEADERS reply beyond our header */

enum spamd_cmd { CMD_HEADERS, CMD_PROCESS, CMD_CHECK, CMD_SYMBOLS };

static const char *const spamd_cmds[] = { "HEADERS", "PROCESS", "CHECK",
	"SYMBOLS" };

/* The reply, as far as the filter needs it. */
struct spamd_reply {
	int is_spam;
	char score[32], threshold[32];
	long long length;	/* Content-length, or -1 */
	struct buf head;	/* status line and headers as read */
	size_t body_off;	/* where the body starts in head */
};

struct spamd_set {
	enum spamd_cmd cmd;
	const char *spamd, *user;
	long long maxsize, connect_ms, total_ms;
};

/* spamd_settings - read the settings of this call */
static int
spamd_settings(struct filter_ctx *c, struct spamd_set *set, char **err)
{
	const char *cmd = filter_setting(c, "SPAMD_COMMAND");

	set->cmd = CMD_HEADERS;
	if (cmd) {
		unsigned i;
		for (i = 0; i < 4 && strcasecmp(cmd, spamd_cmds[i]) != 0; i++)
			;
		if (i == 4) {
			*err = xasprintf("SPAMD_COMMAND: unknown command %s", cmd);
			return -1;
		}
		set->cmd = (enum spamd_cmd)i;
	}
	set->spamd = filter_setting(c, "SPAMD");
	if (set->spamd == NULL)
		set->spamd = "inet:localhost:783";
	set->user = filter_setting(c, "SPAMD_USER");
	if (set->user == NULL)
		set->user = c->s->recipient ? c->s->recipient : "nobody";
	*err = NULL;
	set->maxsize = filter_setting_num(c, "SPAMD_MAXSIZE", 500 * 1024, err);
	if (*err == NULL)
		set->connect_ms = 1000 *
		    filter_setting_num(c, "SPAMD_CONNECT_TIMEOUT", 10, err);
	if (*err == NULL)
		set->total_ms = 1000 *
		    filter_setting_num(c, "SPAMD_TIMEOUT", 120, err);
	return *err ? -1 : 0;
}

/* spamd_request - connect and send the request and the message */
static int
spamd_request(const struct spamd_set *set, const struct spool *msg,
    long long deadline, char **err)
{
	long long now = net_now();
	long long cdl = now + set->connect_ms < deadline ?
	    now + set->connect_ms : deadline;
	char *req;
	int fd, r;

	if (strpbrk(set->user, "\r\n") != NULL) {
		*err = xasprintf("user name with a line break");
		return -1;
	}
	if ((fd = net_connect(set->spamd, cdl, err)) == -1)
		return -1;
	req = xasprintf("%s SPAMC/1.5\r\nContent-length: %lld\r\nUser: %s\r\n\r\n",
	    spamd_cmds[set->cmd], (long long)msg->size, set->user);
	r = net_write(fd, req, strlen(req), deadline, err);
	free(req);
	if (r == 0)
		r = net_send_spool(fd, msg, 0, msg->size, deadline, err);
	if (r == -1) {
		close(fd);
		return -1;
	}
	shutdown(fd, SHUT_WR);
	return fd;
}

/* parse_spam - "True ; 1002.7 / 5.0" into r; 0 or -1 */
static int
parse_spam(const char *v, struct spamd_reply *r)
{
	size_t n;

	while (*v == ' ')
		v++;
	if (strncasecmp(v, "True", 4) == 0 || strncasecmp(v, "Yes", 3) == 0)
		r->is_spam = 1;
	else if (strncasecmp(v, "False", 5) != 0 && strncasecmp(v, "No", 2) != 0)
		return -1;
	if ((v = strchr(v, ';')) == NULL)
		return -1;
	v += strspn(v, "; ");
	n = strspn(v, "-0123456789.");
	if (n == 0 || n >= sizeof r->score)
		return -1;
	memcpy(r->score, v, n);
	r->score[n] = '\0';
	v += n;
	v += strspn(v, " /");
	n = strspn(v, "-0123456789.");
	if (n == 0 || n >= sizeof r->threshold)
		return -1;
	memcpy(r->threshold, v, n);
	r->threshold[n] = '\0';
	return 0;
}

/*
 * parse_head - the status line and the reply headers in r->head (which
 * holds at least the blank line). A non-zero status is spamd refusing the
 * request; anything unexpected is a garbled reply.
 */
static int
parse_head(struct spamd_reply *r, char **err)
{
	char *line = r->head.s, *end;
	int code, got_spam = 0;

	if (strncmp(line, "SPAMD/", 6) != 0 ||
	    sscanf(line + 6, "%*[0-9.] %d", &code) != 1) {
		*err = xasprintf("garbled reply from spamd: %.60s", line);
		return -1;
	}
	if (code != 0) {
		end = strpbrk(line, "\r\n");
		*err = xasprintf("spamd says: %.*s", end ? (int)(end - line) : 60,
		    line);
		return -1;
	}
	r->length = -1;
	while ((end = strstr(line, "\r\n")) != NULL && end != line) {
		*end = '\0';
		if (strncasecmp(line, "Content-length:", 15) == 0) {
			char *e;
			r->length = strtoll(line + 15, &e, 10);
			if (e == line + 15 || *e != '\0' || r->length < 0)
				goto garbled;
		} else if (strncasecmp(line, "Spam:", 5) == 0) {
			if (parse_spam(line + 5, r) == -1)
				goto garbled;
			got_spam = 1;
		}
		line = end + 2;
	}
	if (!got_spam)
		goto garbled;
	return 0;
garbled:
	*err = xasprintf("garbled reply from spamd: %.60s", line);
	return -1;
}

/* read_head - read until the blank line that ends the reply headers */
static int
read_head(int fd, struct spamd_reply *r, long long deadline, char **err)
{
	char chunk[4096];
	char *blank;

	while ((blank = strstr(r->head.s, "\r\n\r\n")) == NULL) {
		ssize_t n = net_read(fd, chunk, sizeof chunk, deadline, err);
		if (n == -1)
			return -1;
		if (n == 0) {
			/* spamd ends an error reply after its status line */
			if (strncmp(r->head.s, "SPAMD/", 6) == 0 &&
			    strstr(r->head.s, "\r\n") && parse_head(r, err) == -1)
				return -1;
			*err = r->head.len ? xasprintf("spamd closed the "
			    "connection mid-reply") : xasprintf("spamd closed "
			    "the connection without a reply");
			return -1;
		}
		if (buf_append(&r->head, chunk, (size_t)n) == -1) {
			*err = xasprintf("garbled reply from spamd: bad headers");
			return -1;
		}
	}
	r->body_off = (size_t)(blank - r->head.s) + 4;
	blank[2] = '\0';	/* parse_head sees the header lines only */
	if (parse_head(r, err) == -1)
		return -1;
	blank[2] = '\r';
	return 0;
}

/* read_body - the body (Content-length bytes) into out or to fd */
static int
read_body(int fd, struct spamd_reply *r, struct buf *out, int to_fd,
    long long deadline, char **err)
{
	char chunk[16384];
	const char *early = r->head.s + r->body_off;
	size_t have = r->head.len - r->body_off;
	long long got = 0;

	for (;;) {
		if (have > 0) {
			got += (long long)have;
			if (r->length >= 0 && got > r->length)
				goto garbled;
			if (to_fd != -1 ? fd_write_all(to_fd, early, have) == -1 :
			    buf_append(out, early, have) == -1) {
				*err = to_fd != -1 ? xasprintf("write temporary "
				    "file: %s", strerror(errno)) :
				    xasprintf("spamd reply too big");
				return -1;
			}
		}
		if (r->length >= 0 && got == r->length)
			return 0;
		ssize_t n = net_read(fd, chunk, sizeof chunk, deadline, err);
		if (n == -1)
			return -1;
		if (n == 0)
			break;
		early = chunk;
		have = (size_t)n;
	}
	if (r->length < 0)
		return 0;
	*err = xasprintf("spamd closed the connection mid-reply (%lld of "
	    "%lld bytes)", got, r->length);
	return -1;
garbled:
	*err = xasprintf("garbled reply from spamd: more than Content-length");
	return -1;
}

/* add_xspam - spamd's X-Spam-* fields out of a returned header section */
static void
add_xspam(struct verdict *v, const char *hdr, size_t len)
{
	struct buf field;
	size_t i = 0;
	int keep = 0;

	buf_init(&field, 0);
	verdict_drop(v, "X-Spam-*");
	while (i < len) {
		const char *nl = memchr(hdr + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (hdr + i)) : len - i;
		const char *line = hdr + i;
		if (n == 0 || (n == 1 && line[0] == '\r'))
			break;	/* the blank line: the body follows */
		if (line[0] != ' ' && line[0] != '\t')
			keep = n > 7 && strncasecmp(line, "X-Spam-", 7) == 0;
		if (keep) {
			/* a CR or NUL inside would end or bend the line in
			   the store (repair.c): spamd adds no other field */
			size_t m = n && line[n - 1] == '\r' ? n - 1 : n;
			for (size_t k = 0; k < m; k++)
				(void)buf_putc(&field, line[k] == '\r' ||
				    line[k] == '\0' ? ' ' : line[k]);
			(void)buf_putc(&field, '\n');
		}
		i += n + 1;
	}
	if (field.len)
		verdict_field_raw(v, 0, field.s, field.len);
	buf_free(&field);
}

/* reply_vars - SPAM_FLAG, SPAM_SCORE, SPAM_THRESHOLD, SPAM_SYMBOLS */
static void
reply_vars(struct verdict *v, const struct spamd_reply *r, struct buf *symbols)
{
	verdict_var(v, "SPAM_FLAG", r->is_spam ? "YES" : "NO");
	verdict_var(v, "SPAM_SCORE", r->score);
	verdict_var(v, "SPAM_THRESHOLD", r->threshold);
	if (symbols) {
		for (size_t i = 0; i < symbols->len; i++)	/* one line */
			if (symbols->s[i] == '\r' || symbols->s[i] == '\n')
				symbols->s[i] = ' ';
		verdict_var(v, "SPAM_SYMBOLS", symbols->s);
	} else
		verdict_var(v, "SPAM_SYMBOLS", "");
}

/* spamd_exchange - one request and its reply into v */
static int
spamd_exchange(const struct spamd_set *set, struct filter_ctx *c,
    const struct spool *msg, struct verdict *v, char **err)
{
	long long deadline = net_now() + set->total_ms;
	struct spamd_reply r = { 0 };
	struct buf body;
	int fd, tmp = -1, rc = -1;
	size_t cap = set->cmd == CMD_SYMBOLS ? SPAMD_SYMBOLS_MAX :
	    msg->hdr_len + SPAMD_HEADERS_SLACK;

	buf_init(&r.head, SPAMD_HEAD_MAX);
	buf_init(&body, cap);
	if ((fd = spamd_request(set, msg, deadline, err)) == -1)
		goto out;
	if (read_head(fd, &r, deadline, err) == -1)
		goto out;
	if (set->cmd == CMD_PROCESS &&
	    (tmp = fd_tmpfile(c->s->tmpdir ? c->s->tmpdir : "/tmp")) == -1) {
		*err = xasprintf("temporary file: %s", strerror(errno));
		goto out;
	}
	if (set->cmd != CMD_CHECK &&
	    read_body(fd, &r, &body, tmp, deadline, err) == -1)
		goto out;
	if (set->cmd == CMD_PROCESS) {
		if (lseek(tmp, 0, SEEK_SET) == -1 ||
		    spool_read(tmp, c->s->tmpdir, 0, &v->msg, err) == -1)
			goto out;
		if (msg->from_line)	/* the envelope is not spamd's */
			v->msg->from_line = xstrdup(msg->from_line);
		if (msg->from_sender)
			v->msg->from_sender = xstrdup(msg->from_sender);
	} else if (set->cmd == CMD_HEADERS)
		add_xspam(v, body.s, body.len);
	reply_vars(v, &r, set->cmd == CMD_SYMBOLS ? &body : NULL);
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	if (tmp != -1)
		close(tmp);
	buf_free(&r.head);
	buf_free(&body);
	return rc;
}

/* spamd_run - check one message */
static int
spamd_run(struct filter_ctx *c, const struct spool *msg, struct verdict *v,
    char **err)
{
	struct spamd_set set;
	char *e = NULL;
	int r;

	if (spamd_settings(c, &set, err) == -1)
		return -1;
	/* As spamc does: a message too big for spamd passes unscanned;
	   unlike spamc, without the X-Spam-* fields it came with (forged). */
	if (msg->size > set.maxsize) {
		verdict_drop(v, "X-Spam-*");
		verdict_var(v, "SPAM_FLAG", "");
		verdict_var(v, "SPAM_SCORE", "");
		verdict_var(v, "SPAM_THRESHOLD", "");
		verdict_var(v, "SPAM_SYMBOLS", "");
		return 0;
	}
	r = spamd_exchange(&set, c, msg, v, &e);
	if (r == -1) {
		*err = xasprintf("spamd %s: %s", set.spamd, e);
		free(e);
	}
	return r;
}

static const char *const spamd_vars[] = { "SPAM_FLAG", "SPAM_SCORE",
	"SPAM_THRESHOLD", "SPAM_SYMBOLS", NULL };
static const char *const spamd_fields[] = { "X-Spam-*", NULL };

const struct filter filter_spamassassin = {
	.name = "spamassassin",
	.prefix = "SPAMD",
	.fail_closed = 0,
	.rewrites = 1,		/* SPAMD_COMMAND=PROCESS hands back a new spool */
	.vars = spamd_vars,
	.fields = spamd_fields,
	.run = spamd_run,
};

/*
 * vacation.c - the vacation filter ("| @vacation"): an RFC 3834 reply to
 * the envelope sender, at most once per sender per VACATION_DAYS, sent
 * through $SENDMAIL with the null envelope sender, the message itself
 * delivered as usual (a side effect, as with "c").
 * Does: the RFC 3834 guards, each with its own reason in VACATION and the
 * log: no reply to the null sender, to MAILER-DAEMON, owner-*, *-request,
 * to Auto-Submitted other than "no", to list mail (List-* fields,
 * Precedence bulk/list/junk), to mail whose To/Cc name none of the user's
 * addresses, to the user's own address, to a sender answered within the
 * period (VACATION_DB). The reply is made while the message is at hand
 * and sent when the run is over and every copy committed (filter_commit):
 * a delivery that fails and is retried replies once, after the retry.
 * Nothing from the message reaches a header of the reply but a bounded
 * Subject with control bytes blanked and Message-IDs of a checked shape;
 * the sender is an argument after "--", never a shell word.
 * Does not: reply under --test, fail the delivery when the reply cannot
 * be made or sent (logged), parse MIME.
 *
 * Settings: VACATION_MESSAGE (the reply's body, a file; required),
 * VACATION_ADDRESSES (the user's addresses, words; a word without "@" is
 * a local part at any domain; default the recipient's name),
 * VACATION_FROM (the reply's From:, default the first address with "@",
 * else LOGNAME@HOST), VACATION_SUBJECT (prefix, default "Auto: "),
 * VACATION_DAYS (default 7), VACATION_DB (default .lda-vacation, relative
 * to MAILDIR), VACATION_DB_SIZE (bytes, k/m; default 64k),
 * VACATION_TIMEOUT (seconds for $SENDMAIL, default 60), SENDMAIL,
 * SENDMAILFLAGS. Sets VACATION: "reply" or why not.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "../lda/log.h"
#include "../lda/xalloc.h"
#include "filter.h"
#include "autoreply.h"
#include "keyfile.h"

#define VAC_ADDR_MAX 254		/* a sender we answer */
#define VAC_DB_DEFAULT (64 * 1024)
#define VAC_ARGS_MAX 16			/* words of SENDMAILFLAGS */

static const char *const vac_vars[] = { "VACATION", NULL };

/* A reply to send when the run has delivered. */
struct vac_pending {
	char *db, *sender, *reply;
	size_t db_size;
	time_t period;
	char **argv;		/* $SENDMAIL $SENDMAILFLAGS -f <> -- sender */
	long timeout;
	pid_t pid;		/* the process that made it */
};

static struct vac_pending *pending;
static size_t npending;

/* Settings of one call, checked. */
struct vac_set {
	const char *message, *subject, *from;
	char **addrs;		/* NULL-terminated words */
	long long days, db_size, timeout;
	char *db, *body;	/* absolute */
};

/* vac_words - s split at blanks and commas, NULL-terminated */
static char **
vac_words(const char *s, size_t max)
{
	char **w = xcalloc(max + 1, sizeof *w);
	size_t n = 0;

	while (s && *s && n < max) {
		size_t k;
		s += strspn(s, " \t\n,");
		k = strcspn(s, " \t\n,");
		if (k)
			w[n++] = xstrndup(s, k);
		s += k;
	}
	return w;
}

/* vac_words_free - release vac_words's result */
static void
vac_words_free(char **w)
{
	for (size_t i = 0; w && w[i]; i++)
		free(w[i]);
	free(w);
}

/* vac_config - read the settings; 0, or -1 with *err (a mistake) */
static int
vac_config(struct filter_ctx *c, struct vac_set *vs, char **err)
{
	memset(vs, 0, sizeof *vs);
	if ((vs->message = filter_setting(c, "VACATION_MESSAGE")) == NULL) {
		*err = xstrdup("VACATION_MESSAGE is not set (the file with "
		    "the reply's text)");
		return -1;
	}
	vs->days = filter_setting_num(c, "VACATION_DAYS", 7, err);
	if (*err == NULL)
		vs->db_size = filter_setting_num(c, "VACATION_DB_SIZE",
		    VAC_DB_DEFAULT, err);
	if (*err == NULL)
		vs->timeout = filter_setting_num(c, "VACATION_TIMEOUT", 60,
		    err);
	if (*err)
		return -1;
	if (vs->days < 1 || vs->days > 3650 || vs->db_size < 4096 ||
	    vs->db_size > KEYFILE_SIZE_MAX || vs->timeout < 1) {
		*err = xasprintf("VACATION_DAYS (1..3650), VACATION_DB_SIZE "
		    "(4096..%d) or VACATION_TIMEOUT (>= 1) out of range",
		    KEYFILE_SIZE_MAX);
		return -1;
	}
	vs->subject = filter_setting(c, "VACATION_SUBJECT");
	vs->from = filter_setting(c, "VACATION_FROM");
	vs->addrs = vac_words(filter_setting(c, "VACATION_ADDRESSES") ?
	    filter_setting(c, "VACATION_ADDRESSES") : c->s->recipient, 64);
	if ((vs->db = filter_setting_path(c, "VACATION_DB", ".lda-vacation",
	    err)) == NULL || (vs->body = filter_setting_path(c,
	    "VACATION_MESSAGE", "", err)) == NULL)
		return -1;
	return 0;
}

/* vac_set_free - release a vac_set */
static void
vac_set_free(struct vac_set *vs)
{
	vac_words_free(vs->addrs);
	free(vs->db);
	free(vs->body);
}

/* vac_addr_ok - an address we may give $SENDMAIL and write in To: */
static int
vac_addr_ok(const char *a)
{
	size_t n = strlen(a);
	const char *at = strrchr(a, '@');

	if (n == 0 || n > VAC_ADDR_MAX || a[0] == '-' || at == NULL ||
	    at == a || at[1] == '\0')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (a[i] <= ' ' || a[i] >= 0x7f || strchr("<>()[],;:\"\\",
		    a[i]))
			return 0;
	return 1;
}

/* vac_daemon - a sender RFC 3834 says never to answer (the null sender
   is caught before): MAILER-DAEMON, owner-*, *-request, *-owner */
static int
vac_daemon(const char *sender)
{
	size_t n = (size_t)(strrchr(sender, '@') - sender);

	return (n == 13 && strncasecmp(sender, "mailer-daemon", 13) == 0) ||
	    (n >= 6 && strncasecmp(sender, "owner-", 6) == 0) ||
	    (n >= 8 && strncasecmp(sender + n - 8, "-request", 8) == 0) ||
	    (n >= 6 && strncasecmp(sender + n - 6, "-owner", 6) == 0);
}

/* vac_value - field i's value, unfolded, at most max bytes kept */
static char *
vac_value(const struct spool *msg, long i, size_t max)
{
	struct buf b;

	buf_init(&b, max);
	(void)spool_field_value(msg, (size_t)i, &b);	/* cut at max */
	return buf_steal(&b);
}

/* vac_auto - Auto-Submitted other than "no" (RFC 3834 section 2) */
static int
vac_auto(const struct spool *msg)
{
	long i = spool_field_find(msg, "Auto-Submitted", 0);
	char *v, *p;
	int no;

	if (i < 0)
		return 0;
	v = vac_value(msg, i, 256);
	p = v + strspn(v, " \t\r\n");
	no = strncasecmp(p, "no", 2) == 0 && (p[2] == '\0' ||
	    strchr(" \t\r\n;(", p[2]));
	free(v);
	return !no;
}

/* vac_list - list or bulk mail: a List-* field, or Precedence bulk,
   list or junk */
static int
vac_list(const struct spool *msg)
{
	static const char *const prec[] = { "bulk", "list", "junk" };
	long i;
	int bulk = 0;

	for (size_t f = 0; f < msg->nfields; f++)
		if (spool_field_is(msg, f, "List-", 1))
			return 1;
	for (i = spool_field_find(msg, "Precedence", 0); i >= 0 && !bulk;
	    i = spool_field_find(msg, "Precedence", (size_t)i + 1)) {
		char *v = vac_value(msg, i, 64), *p = v + strspn(v, " \t");
		for (size_t k = 0; k < 3; k++)
			if (strncasecmp(p, prec[k], 4) == 0 &&
			    (p[4] == '\0' || strchr(" \t\r\n;(", p[4])))
				bulk = 1;
		free(v);
	}
	return bulk;
}

/* vac_addr_char - may c be part of an address around a match? */
static int
vac_addr_char(char c)
{
	return c != '\0' && (isalnum((unsigned char)c) ||
	    strchr(".-_+=%!#$&'*/?^`{|}~", c) != NULL ||
	    (unsigned char)c >= 0x80);
}

/* vac_ends - does an address end at p (a final "." is a full stop)? */
static int
vac_ends(const char *p)
{
	if (*p == '.')
		p++;
	return !vac_addr_char(*p);
}

/* vac_mentions - does text name addr (a local part alone when it has no
   "@": addr@ any domain), as a whole address, in any case? */
static int
vac_mentions(const char *text, const char *addr)
{
	size_t n = strlen(addr), tl = strlen(text);
	int local = strchr(addr, '@') == NULL;

	for (size_t i = 0; n && i + n <= tl; i++) {
		if (strncasecmp(text + i, addr, n) != 0 ||
		    (i > 0 && vac_addr_char(text[i - 1])))
			continue;
		if (local ? text[i + n] == '@' : vac_ends(text + i + n))
			return 1;
	}
	return 0;
}

/* vac_addressed - do To: or Cc: name one of addrs? */
static int
vac_addressed(const struct spool *msg, char *const *addrs)
{
	static const char *const names[] = { "To", "Cc" };
	int hit = 0;

	for (size_t k = 0; k < 2 && !hit; k++)
		for (long i = spool_field_find(msg, names[k], 0); i >= 0 &&
		    !hit; i = spool_field_find(msg, names[k], (size_t)i + 1)) {
			char *v = vac_value(msg, i, 64 * 1024);
			for (size_t a = 0; addrs[a] && !hit; a++)
				hit = vac_mentions(v, addrs[a]);
			free(v);
		}
	return hit;
}

/* vac_self - is sender one of addrs (the user writing to itself)? */
static int
vac_self(const char *sender, char *const *addrs)
{
	for (size_t a = 0; addrs[a]; a++)
		if (vac_mentions(sender, addrs[a]))
			return 1;
	return 0;
}

/* vac_lower - s in lower case, allocated (the database's key) */
static char *
vac_lower(const char *s)
{
	char *l = xstrdup(s);

	for (char *p = l; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return l;
}

/* vac_recent - was sender answered within period? 1, 0, -1 (*err) */
static int
vac_recent(const char *db, const char *key, time_t period, char **err)
{
	time_t t;
	int r = keyfile_lookup(db, key, strlen(key), &t, err);

	return r == 1 ? time(NULL) - t < period : r;
}

/* vac_guard - why no reply goes to sender, or NULL: one may */
static const char *
vac_guard(const struct spool *msg, const char *sender, const struct vac_set *vs)
{
	if (sender == NULL || *sender == '\0' || strcmp(sender, "<>") == 0)
		return "null-sender";
	if (!vac_addr_ok(sender))
		return "bad-sender";
	if (vac_daemon(sender))
		return "daemon-sender";
	if (vac_auto(msg))
		return "auto-submitted";
	if (vac_list(msg))
		return "list";
	if (!vac_addressed(msg, vs->addrs))
		return "not-addressed";
	if (vac_self(sender, vs->addrs))
		return "self";
	return NULL;
}

/* vac_from - the reply's From: VACATION_FROM, the first of the user's
   addresses with "@", else LOGNAME@HOST (allocated) */
static char *
vac_from(struct filter_ctx *c, const struct vac_set *vs)
{
	const char *user = filter_setting(c, "LOGNAME");
	const char *host = filter_setting(c, "HOST");

	if (vs->from)
		return xstrdup(vs->from);
	for (size_t a = 0; vs->addrs[a]; a++)
		if (strchr(vs->addrs[a], '@'))
			return xstrdup(vs->addrs[a]);
	return xasprintf("%s@%s", user ? user : c->s->recipient,
	    host ? host : "localhost");
}

/* vac_reply - the reply to msg, or NULL with *err */
static char *
vac_reply(struct filter_ctx *c, const struct spool *msg,
    const struct vac_set *vs, char **err)
{
	char *from = vac_from(c, vs);
	struct autoreply a = { .from = from, .to = c->s->sender,
	    .prefix = vs->subject ? vs->subject : "Auto:", .body = vs->body };
	char *reply = autoreply_make(msg, &a, err);

	free(from);
	return reply;
}

/* vac_keep - remember the reply for vac_commit */
static void
vac_keep(struct filter_ctx *c, const struct vac_set *vs, const char *sender,
    char *reply)
{
	const char *sm = filter_setting(c, "SENDMAIL");
	char **flags = vac_words(filter_setting(c, "SENDMAILFLAGS"),
	    VAC_ARGS_MAX);
	char **argv = xcalloc(VAC_ARGS_MAX + 6, sizeof *argv);
	size_t n = 0;

	argv[n++] = xstrdup(sm ? sm : "/usr/sbin/sendmail");
	for (size_t i = 0; flags[i]; i++)
		argv[n++] = flags[i];
	free(flags);
	argv[n++] = xstrdup("-f");
	argv[n++] = xstrdup("<>");	/* the null envelope sender */
	argv[n++] = xstrdup("--");	/* the sender is no option */
	argv[n++] = xstrdup(sender);
	pending = xreallocarray(pending, npending + 1, sizeof *pending);
	pending[npending++] = (struct vac_pending){ .db = xstrdup(vs->db),
	    .sender = vac_lower(sender), .reply = reply,
	    .db_size = (size_t)vs->db_size,
	    .period = (time_t)vs->days * 86400, .argv = argv,
	    .timeout = (long)vs->timeout, .pid = getpid() };
}

/* vac_decide - the guards and the database: NULL (reply) or why not */
static const char *
vac_decide(struct filter_ctx *c, const struct spool *msg,
    const struct vac_set *vs)
{
	const char *sender = c->s->sender, *why = vac_guard(msg, sender, vs);
	char *key, *err = NULL;
	int r;

	if (why)
		return why;
	key = vac_lower(sender);
	r = vac_recent(vs->db, key, (time_t)vs->days * 86400, &err);
	free(key);
	if (r == -1) {
		log_warn("vacation: %s; no reply", err);
		free(err);
		return "error";
	}
	return r ? "recent" : NULL;
}

/* vac_run - decide, and make the reply now while the message is here */
static int
vac_run(struct filter_ctx *c, const struct spool *msg, struct verdict *v,
    char **err)
{
	struct vac_set vs;
	const char *why;
	char *reply, *e = NULL;

	if (vac_config(c, &vs, &e) == -1) {
		vac_set_free(&vs);
		v->kind = VERDICT_REJECT;	/* a mistake: 75, 4.3.5 */
		v->reject = OUT_CONFIG;
		v->reason = e;
		return 0;
	}
	(void)err;
	if ((why = vac_decide(c, msg, &vs)) == NULL &&
	    (reply = vac_reply(c, msg, &vs, &e)) == NULL) {
		log_warn("vacation: %s; no reply", e);
		free(e);
		why = "error";
	}
	if (why)
		log_info("vacation: no reply to <%.100s> (%s)", c->s->sender,
		    why);
	else if (c->s->dry_run) {
		log_info("vacation: would reply to <%s> (not under --test)",
		    c->s->sender);
		free(reply);
	} else
		vac_keep(c, &vs, c->s->sender, reply);
	verdict_var(v, "VACATION", why ? why : "reply");
	vac_set_free(&vs);
	return 0;
}

/* vac_send - send one kept reply unless another run answered the sender
   meanwhile, and record it; under the database's lock, so concurrent
   deliveries send one reply. Errors are logged: the delivery stands. */
static void
vac_send(const struct vac_pending *p)
{
	struct keyfile kf;
	char *err = NULL;
	time_t t;
	int st = -1;

	if (keyfile_open(&kf, p->db, 1, &err) == -1) {
		log_warn("vacation: %s; no reply to <%s>", err, p->sender);
		free(err);
		return;
	}
	t = keyfile_find(&kf, p->sender, strlen(p->sender));
	if (t != (time_t)-1 && time(NULL) - t < p->period)
		log_info("vacation: <%s> answered meanwhile; no reply",
		    p->sender);
	else if ((st = autoreply_send(p->argv, p->reply, NULL, p->timeout,
	    &err)) == -1)
		log_warn("vacation: no reply to <%s>: %s", p->sender, err);
	else if (st != 0)
		log_warn("vacation: no reply to <%s>: %s exited %d", p->sender,
		    p->argv[0], st);
	else if (keyfile_add(&kf, p->sender, strlen(p->sender), time(NULL),
	    p->db_size, &err) == -1)
		log_warn("vacation: replied to <%s>, but %s (the next message "
		    "is answered again)", p->sender, err);
	else
		log_info("vacation: replied to <%s>", p->sender);
	free(err);
	keyfile_close(&kf);
}

/* vac_commit - send the kept replies of a delivered run; drop them else */
static void
vac_commit(struct filter_ctx *c, int delivered)
{
	(void)c;
	for (size_t i = 0; i < npending; i++) {
		struct vac_pending *p = &pending[i];
		if (delivered && p->pid == getpid())
			vac_send(p);
		vac_words_free(p->argv);
		free(p->db);
		free(p->sender);
		free(p->reply);
	}
	free(pending);
	pending = NULL;
	npending = 0;
}

const struct filter filter_vacation = {
	.name = "vacation",
	.prefix = "VACATION",
	.fail_closed = 0,
	.rewrites = 0,
	.pure = 1,		/* reads only; sends nothing under --test */
	.vars = vac_vars,
	.run = vac_run,
	.commit = vac_commit,
};

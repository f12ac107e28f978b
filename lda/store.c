/*
 * store.c - delivery into a sealed store (Cyrus, Dovecot) over LMTP.
 * Does: per-user back ends (STORE_ROUTES, looked up in route.c); the
 * run's copies queued per message and sent at the end, one transaction
 * per message (the store keeps one instance) - in lda -z, handed to the
 * server (relay.c) that sends those of all the transaction's recipients
 * at once (store_relay_send); the INBOX fall-back; the reply table; one
 * log line per copy, quoting the store.
 * Does not: read the STORE settings or turn folder names into addresses
 * (store-settings.c), speak LMTP (lmtp.c), repair (repair.c), exit.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lmtp.h"
#include "log.h"
#include "relay.h"
#include "repair.h"
#include "route.h"
#include "sasl.h"
#include "session.h"
#include "settings.h"
#include "spool.h"
#include "status.h"
#include "store.h"
#include "store-int.h"
#include "xalloc.h"

#define READ_CHUNK 16384	/* bytes of the spool read at a time */

/* --------------------------------------------------- reply -> outcome */

/*
 * The one table. Only 250 delivers. Anything temporary - a 4xx, no reply
 * at all, over quota in any store's words (Cyrus 452 4.2.2, Dovecot 552
 * 5.2.2 "Quota exceeded") - is OUT_TEMPFAIL; a permanent refusal counts
 * by its enhanced code, or its basic code when the store gives none.
 */
static const struct {
	const char *status;	/* enhanced code prefix; "" matches any */
	int code;		/* basic code; 0 matches any 5xx */
	enum outcome o;
} reply_table[] = {
	{ "5.2.2", 0, OUT_TEMPFAIL },	/* mailbox full: over quota */
	{ "5.1.", 0, OUT_NOUSER },	/* 550 5.1.1 user unknown */
	{ "5.6.", 0, OUT_REJECTED },	/* 554 5.6.0 the content */
	{ "5.", 0, OUT_UNAVAILABLE },	/* 5.2.x, 5.3.4 size, 5.5.x, 5.7.x */
	{ "", 552, OUT_TEMPFAIL },	/* storage allocation exceeded */
	{ "", 554, OUT_REJECTED },
	{ "", 0, OUT_UNAVAILABLE },
};

/* store_reply_outcome - the outcome of one reply */
enum outcome
store_reply_outcome(const struct lmtp_reply *r)
{
	if (r->code == 250)
		return OUT_DELIVERED;
	if (r->code < 500 || r->code > 599)
		return OUT_TEMPFAIL;	/* 4xx, none, or a 2xx/3xx out of place */
	if (r->text && strcasestr(r->text, "quota") != NULL)
		return OUT_TEMPFAIL;
	for (size_t i = 0; i < sizeof reply_table / sizeof reply_table[0]; i++) {
		size_t n = strlen(reply_table[i].status);
		if (strncmp(r->status, reply_table[i].status, n) == 0 &&
		    (reply_table[i].code == 0 || reply_table[i].code == r->code))
			return reply_table[i].o;
	}
	return OUT_UNAVAILABLE;
}

/* ---------------------------------------------------- the transaction */

/* lmtp_target_of - a STORE target as lmtp.c names it */
static struct lmtp_target
lmtp_target_of(const struct store_target *t)
{
	return (struct lmtp_target){ t->name, t->path, t->host, t->port };
}

/* store_preconnect - begin connecting to spec's first store (store.h) */
int
store_preconnect(const char *spec, struct lmtp_pre *pre)
{
	struct store_target *t;
	size_t n;
	char *err = NULL;
	int r = -1;

	pre->fd = -1;
	pre->name = NULL;	/* lmtp_pre_close may follow any return */
	if (store_parse(spec, &t, &n, &err) == -1) {
		free(err);	/* said when the store is used */
		return -1;
	}
	if (n > 0) {
		struct lmtp_target lt = lmtp_target_of(&t[0]);
		r = lmtp_preconnect(&lt, pre);
	}
	store_targets_free(&t, n);
	return r;
}

/* store_new - an empty transaction with these settings (taken over) */
struct store *
store_new(struct store_settings *set)
{
	struct store *st = xcalloc(1, sizeof *st);

	st->set = *set;
	memset(set, 0, sizeof *set);
	st->pid = getpid();
	/* the default back end borrows STORE's list from the settings */
	st->bes = xcalloc(1, sizeof *st->bes);
	st->nbes = 1;
	st->bes[0].spec = st->set.spec;
	st->bes[0].targets = st->set.targets;
	st->bes[0].ntargets = st->set.ntargets;
	return st;
}

/* be_for - the back end for STORE value spec, made on first use;
   0 (the default) for STORE itself. -1 with *err for a bad value. */
static long
be_for(struct store *st, const char *spec, char **err)
{
	struct store_be *be;
	struct store_target *t;
	size_t n;

	for (size_t i = 0; i < st->nbes; i++)
		if (strcmp(st->bes[i].spec, spec) == 0)
			return (long)i;
	if (store_parse(spec, &t, &n, err) == -1)
		return -1;
	st->bes = xreallocarray(st->bes, st->nbes + 1, sizeof *st->bes);
	be = &st->bes[st->nbes];
	memset(be, 0, sizeof *be);
	be->spec = xstrdup(spec);
	be->targets = t;
	be->ntargets = n;
	return (long)st->nbes++;
}

/*
 * store_route - the back end of user's copies: STORE_ROUTES's value for
 * user, else STORE. Looked up once per user and run. Returns 0 with
 * *be_r, or -1 with *err: the table cannot be read, or names a STORE
 * that is no STORE (the administrator's mistake, never guessed around).
 */
int
store_route(struct store *st, const char *user, size_t *be_r, char **err)
{
	char *value = NULL, *e = NULL;
	long be = 0;
	int found;

	*be_r = 0;
	if (st->set.routes == NULL)
		return 0;
	for (size_t i = 0; i < st->nrouted; i++)
		if (strcmp(st->routed[i].user, user) == 0)
			return *be_r = st->routed[i].be, 0;
	if (st->routes == NULL && st->routes_err == NULL &&
	    route_open(st->set.routes, &st->routes, &e) == -1)
		st->routes_err = e;
	if (st->routes_err) {
		*err = xstrdup(st->routes_err);
		return -1;
	}
	if ((found = route_lookup(st->routes, user, &value, err)) == -1)
		return -1;
	if (found && (be = be_for(st, value, &e)) == -1) {
		*err = xasprintf("STORE_ROUTES %s: the route of %s: %s",
		    st->set.routes, user, e);
		free(e);
		free(value);
		return -1;
	}
	free(value);
	st->routed = xreallocarray(st->routed, st->nrouted + 1,
	    sizeof *st->routed);
	st->routed[st->nrouted].user = xstrdup(user);
	st->routed[st->nrouted++].be = (size_t)be;
	*be_r = (size_t)be;
	return 0;
}

const struct store_settings *
store_settings_of(const struct store *st)
{
	return &st->set;
}

/* sender_ok - an envelope sender that can go into MAIL FROM:<> */
const char *
sender_ok(const char *sender)
{
	if (strlen(sender) > STORE_ADDRESS_MAX)
		return NULL;
	for (const char *p = sender; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == '<' ||
		    *p == '>')
			return NULL;
	return sender;
}

/* msg_for - the message entry for sp and sender, made on first use */
static struct store_msg *
msg_for(struct store *st, const struct spool *sp, const char *sender)
{
	struct stat sb;
	struct store_msg *m;

	if (fstat(sp->fd, &sb) == -1)
		return NULL;
	for (size_t i = 0; i < st->nmsgs; i++) {
		m = &st->msgs[i];
		if (m->dev == sb.st_dev && m->ino == sb.st_ino &&
		    strcmp(m->sender, sender) == 0)
			return m;
	}
	st->msgs = xreallocarray(st->msgs, st->nmsgs + 1, sizeof *st->msgs);
	m = &st->msgs[st->nmsgs];
	memset(m, 0, sizeof *m);
	/* Our own descriptor: a filter's spool may be freed before we send. */
	if ((m->fd = dup(sp->fd)) == -1)
		return NULL;
	st->nmsgs++;
	m->size = sp->size;
	m->dev = sb.st_dev;
	m->ino = sb.st_ino;
	m->sender = xstrdup(sender);
	return m;
}

/* copy_add - one more copy of m */
static struct store_copy *
copy_add(struct store_msg *m, const char *user, const char *folder,
    char *addr)
{
	struct store_copy *c;

	if (m->ncopies == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 8;
		m->copies = xreallocarray(m->copies, m->cap, sizeof *m->copies);
	}
	c = &m->copies[m->ncopies++];
	memset(c, 0, sizeof *c);
	c->user = xstrdup(user);
	c->folder = folder ? xstrdup(folder) : NULL;
	c->addr = addr;
	return c;
}

/* free_msgs - every queued message and copy */
static void
free_msgs(struct store *st)
{
	for (size_t k = 0; k < st->nmsgs; k++) {
		struct store_msg *m = &st->msgs[k];
		for (size_t i = 0; i < m->ncopies; i++) {
			free(m->copies[i].user);
			free(m->copies[i].folder);
			free(m->copies[i].addr);
			free(m->copies[i].reply);
		}
		free(m->copies);
		free(m->sender);
		if (m->fd != -1)
			close(m->fd);
	}
	free(st->msgs);
	st->msgs = NULL;
	st->nmsgs = 0;
}

/*
 * own - the rc's "c {" runs a forked clone with a copy of everything,
 * this transaction too. The copies queued before the fork are the
 * parent's to send: the clone drops them and sends only its own, in a
 * transaction of its own, so that no copy goes twice.
 */
static void
own(struct store *st)
{
	if (st->pid == getpid())
		return;
	st->pid = getpid();
	free_msgs(st);
	for (size_t i = 0; i < st->nbes; i++)
		st->bes[i].lc = NULL;	/* never open before the send */
}

/* store_add - queue one copy */
const char *
store_add(struct store *st, const struct spool *sp, const char *sender,
    const char *user, const char *folder, int fallback)
{
	struct store_msg *m;
	struct store_copy *c;
	char *addr, *err = NULL;
	size_t be;

	own(st);
	if (store_route(st, user, &be, &err) == -1) {
		free(err);	/* store_take says it */
		return NULL;
	}
	if (sender_ok(sender) == NULL) {
		log_warn("store: the envelope sender cannot go into MAIL FROM "
		    "(too long, or blanks, <, > or control bytes); using <>");
		sender = "";
	}
	if ((addr = store_address(&st->set, user, folder)) == NULL)
		return NULL;
	if ((m = msg_for(st, sp, sender)) == NULL) {
		log_warn("store: spool: %s", strerror(errno));
		free(addr);
		return NULL;
	}
	c = copy_add(m, user, folder, addr);
	c->no_fallback = !fallback;
	c->be = be;
	return c->addr;
}

/* ------------------------------------------------------ connection */

/* open_one - connect be to t; over TCP, AUTH when offered and configured */
static int
open_one(struct store *st, struct store_be *be, const struct store_target *t,
    char **err)
{
	struct lmtp_target lt = lmtp_target_of(t);
	struct lmtp_auth a;
	char *mech = NULL;

	struct lmtp_tls tls = { st->set.tls, st->set.tls_cafile };

	free(be->mech);
	be->mech = NULL;
	free(be->tls);
	be->tls = NULL;
	be->down_status[0] = '\0';
	if (lmtp_open(&lt, st->pre, st->set.connect_timeout, st->set.timeout,
	    &be->lc, err) == -1)
		return -1;
	if (lmtp_starttls(be->lc, &tls, be->down_status, err) == -1)
		goto fail;
	if (lmtp_tls_info(be->lc))
		be->tls = xstrdup(lmtp_tls_info(be->lc));
	/* A unix socket is pre-authenticated (Cyrus's lmtpunix). Without
	   credentials the store's answer to MAIL says what it wants. */
	if (t->path || !(lmtp_caps(be->lc) & LMTP_CAP_AUTH) ||
	    st->set.credentials == NULL)
		return 0;
	if (!st->have_creds) {
		if (sasl_creds_read(st->set.credentials, &st->creds, err) == -1) {
			char *e = *err;
			*err = xasprintf("STORE_CREDENTIALS %s", e);
			free(e);
			goto fail;
		}
		st->have_creds = 1;
	}
	a.creds = &st->creds;
	a.mechs = st->set.mechs;
	a.plaintext_ok = st->set.plaintext;
	if (lmtp_authenticate(be->lc, &a, &mech, err) == -1)
		goto fail;
	free(be->mech);
	be->mech = mech;
	return 0;
fail:
	free(mech);
	lmtp_close(&be->lc);
	return -1;
}

/* connect_store - be's open connection, else the first of its stores
   that answers */
int
connect_store(struct store *st, struct store_be *be, char **err)
{
	char *e = NULL;

	if (be->lc && lmtp_usable(be->lc) && !lmtp_closed(be->lc))
		return 0;
	lmtp_drop(&be->lc);	/* out of step, or closed by the store */
	ahead_clear(be, 0);	/* a transaction opened ahead went with it */
	for (size_t i = 0; be->down == NULL && i < be->ntargets; i++) {
		const struct store_target *t = &be->targets[i];
		if (open_one(st, be, t, &e) == 0) {
			be->at = t;
			return 0;
		}
		log_warn("store %s: %s%s", t->name, e, i + 1 < be->ntargets ?
		    "; trying the next store" : "");
		if (i + 1 == be->ntargets)
			be->down = be->ntargets == 1 ? xasprintf("%s: %s",
			    t->name, e) : xasprintf("all %zu stores failed, "
			    "the last: %s: %s", be->ntargets, t->name, e);
		free(e);
		e = NULL;
	}
	*err = xstrdup(be->down ? be->down : "no store");
	return -1;
}

/*
 * store_probe - would the store take user's mail? A RCPT probe in a
 * transaction that is reset (lmtp_probe), on the open connection or the
 * first store that answers; a connection lost on the way is replaced
 * once. Each probe tries the stores anew (a long-lived caller: a store
 * that was down may be back).
 */
int
store_probe(struct store *st, const char *user, const char *folder,
    struct lmtp_reply *r, char **err)
{
	char *addr;
	struct store_be *be;
	size_t k;

	if (store_route(st, user, &k, err) == -1)
		return -1;
	be = &st->bes[k];
	if ((addr = store_address(&st->set, user, folder)) == NULL) {
		*err = xstrdup("no RCPT address can be made for this user");
		return -1;
	}
	for (int round = 0; round < 2; round++) {
		free(be->down);
		be->down = NULL;
		if (connect_store(st, be, err) == -1)
			break;
		if (lmtp_probe(be->lc, addr, r, err) == 0) {
			free(addr);
			return 0;
		}
		lmtp_close(&be->lc);
		if (round == 0) {
			free(*err);
			*err = NULL;
		}
	}
	free(addr);
	return -1;
}

/* ---------------------------------------------------- the message data */

/* The message as lmtp.c reads it: the spool, repaired on the way. */
struct source {
	struct spool sp;	/* just fd and size: spool_pread's needs */
	off_t off;
	struct repair rep;
	struct buf out;		/* repaired bytes not yet handed over */
	size_t out_off;
	int ended;
	char chunk[READ_CHUNK];
};

/* source_read - the next repaired bytes, in bounded pieces */
static ssize_t
source_read(void *ctx, char *p, size_t n, char **err)
{
	struct source *s = ctx;
	size_t k;

	while (s->out_off == s->out.len) {
		size_t want = READ_CHUNK;
		ssize_t got = 0;
		if (s->ended)
			return 0;
		buf_reset(&s->out);
		s->out_off = 0;
		if ((off_t)want > s->sp.size - s->off)
			want = (size_t)(s->sp.size - s->off);
		if (want > 0 && (got = spool_pread(&s->sp, s->chunk, want,
		    s->off)) <= 0) {
			*err = xasprintf("read spool: %s", got == 0 ?
			    "message shorter than spooled" : strerror(errno));
			return -1;
		}
		if (got == 0) {
			s->ended = 1;
			repair_end(&s->rep, &s->out);
		} else {
			repair_feed(&s->rep, s->chunk, (size_t)got, &s->out);
			s->off += got;
		}
	}
	k = s->out.len - s->out_off < n ? s->out.len - s->out_off : n;
	memcpy(p, s->out.s + s->out_off, k);
	s->out_off += k;
	return (ssize_t)k;
}

/* ------------------------------------------------------- one round */

/* settle - the copy's outcome is known */
static void
settle(struct store_copy *c, enum outcome o, const char *status,
    const char *text)
{
	c->done = 1;
	c->o = o;
	lda_strlcpy(c->status, status, sizeof c->status);
	free(c->reply);
	c->reply = xstrdup(text);
}

/* log_repairs - say once per message what the store needed changed */
static void
log_repairs(const char *sender, int *logged, const struct repair *rep)
{
	struct buf b;

	if (*logged)
		return;
	*logged = 1;
	buf_init(&b, 1024);
	repair_describe(rep, &b);
	if (b.len)
		log_info("store: message from <%s> repaired for the store: %s",
		    sender, b.s);
	buf_free(&b);
}

/*
 * be_send - one transaction on back end be: the message open as fd
 * (size bytes) from sender to rcpts[0..nr), replies[j] for rcpts[j].
 * Returns 0, or -1 with *err and *why (the RFC 3463 code of a store
 * that could not be reached, or "") when no reply came for some.
 */
int
be_send(struct store *st, struct store_be *be, int fd, off_t size,
    const char *sender, int *repaired_logged, const char **rcpts, size_t nr,
    size_t given, struct lmtp_reply *replies, char **err, const char **why)
{
	struct source *src;
	struct lmtp_txn t;
	int rc;

	*why = "";
	if (given == 0 && connect_store(st, be, err) == -1) {
		*why = be->down_status;
		return -1;
	}
	src = xcalloc(1, sizeof *src);
	src->sp.fd = fd;
	src->sp.size = size;
	repair_init(&src->rep);
	buf_init(&src->out, 0);
	t = (struct lmtp_txn){ .sender = sender, .size = size,
	    .rcpts = rcpts, .nrcpts = nr, .replies = replies, .given = given,
	    .src = { source_read, src }, .probe = st->probe };
	rc = lmtp_send(be->lc, &t, err);
	if (src->ended)
		log_repairs(sender, repaired_logged, &src->rep);
	if (rc == -1 || !lmtp_usable(be->lc))
		lmtp_close(&be->lc);
	buf_free(&src->out);
	free(src);
	return rc;
}

/* relayed - lda -z: the parent sends the copies (relay.c); 1 with
   replies, -1 with *err (the parent is gone), 0: send them ourselves */
static int
relayed(struct store *st, struct store_msg *m, const char **rcpts,
    const char **users, size_t nr, struct lmtp_reply *replies, char **err)
{
	char *key;
	int r;

	if (st->probe || !relay_usable(m->fd))
		return 0;
	key = store_settings_key(&st->set);
	r = relay_ask(key, m->sender, users, rcpts, nr, replies, err);
	free(key);
	return r;
}

/* round_send - one transaction for m's copies to back end k whose
   outcome is open */
static void
round_send(struct store *st, struct store_msg *m, size_t k)
{
	const char **rcpts = xcalloc(m->ncopies + 1, sizeof *rcpts);
	const char **users = xcalloc(m->ncopies + 1, sizeof *users);
	size_t *map = xcalloc(m->ncopies + 1, sizeof *map), nr = 0;
	struct lmtp_reply *replies = NULL;
	char *err = NULL;
	const char *why = "";

	/* One RCPT per distinct address; copies to the same one share it. */
	for (size_t i = 0; i < m->ncopies; i++) {
		size_t j = 0;
		if (m->copies[i].done || m->copies[i].be != k)
			continue;
		while (j < nr && strcmp(rcpts[j], m->copies[i].addr) != 0)
			j++;
		if (j == nr) {
			users[nr] = m->copies[i].user;
			rcpts[nr++] = m->copies[i].addr;
		}
		map[i] = j;
	}
	if (nr > 0) {
		replies = xcalloc(nr, sizeof *replies);
		switch (relayed(st, m, rcpts, users, nr, replies, &err)) {
		case 0:
			be_send(st, &st->bes[k], m->fd, m->size, m->sender,
			    &m->repaired_logged, rcpts, nr, 0, replies, &err,
			    &why);
			break;
		case -1:
			free(replies);
			replies = NULL;
			break;
		}
	}
	for (size_t i = 0; i < m->ncopies; i++) {
		struct store_copy *c = &m->copies[i];
		const struct lmtp_reply *r = replies ? &replies[map[i]] : NULL;
		if (c->done || c->be != k)
			continue;
		if (r && r->code)
			settle(c, store_reply_outcome(r), r->status, r->text);
		else
			settle(c, OUT_TEMPFAIL, r && r->code == 0 &&
			    r->status[0] ? r->status : why, r && r->text ?
			    r->text : err ? err : "no reply");
	}
	for (size_t j = 0; replies && j < nr; j++)
		lmtp_reply_free(&replies[j]);
	free(replies);
	free(rcpts);
	free(users);
	free(map);
	free(err);
}

/* inbox_copy - index of user's INBOX copy in m, or -1 */
static long
inbox_copy(const struct store_msg *m, const char *user)
{
	for (size_t i = 0; i < m->ncopies; i++)
		if (m->copies[i].folder == NULL &&
		    strcmp(m->copies[i].user, user) == 0)
			return (long)i;
	return -1;
}

/*
 * fallbacks - a folder copy the store refused for good goes to the
 * user's INBOX instead, in the same run, unless STORE_FALLBACK=no. Not
 * for a refused content (5.6.x: the INBOX would refuse it too), nor when
 * a copy is still owed anyway (tempfail). Returns the copies queued.
 */
static size_t
fallbacks(struct store *st, struct store_msg *m)
{
	size_t queued = 0, n = m->ncopies;

	for (size_t i = 0; i < n; i++) {
		struct store_copy *c = &m->copies[i], *in;
		char *addr, *user;
		size_t be;
		if (c->folder == NULL || c->fallback || c->no_fallback ||
		    c->o == OUT_DELIVERED ||
		    c->o == OUT_TEMPFAIL || c->o == OUT_REJECTED)
			continue;
		/* On a folder copy, fallback means: the INBOX copy counts. */
		if (inbox_copy(m, c->user) >= 0) {
			c->fallback = 1;	/* the INBOX has or gets one */
			continue;
		}
		if ((addr = store_address(&st->set, c->user, NULL)) == NULL)
			continue;
		c->fallback = 1;
		user = xstrdup(c->user);	/* copy_add may move c */
		be = c->be;
		in = copy_add(m, user, NULL, addr);
		in->fallback = 1;
		in->be = be;
		free(user);
		queued++;
	}
	return queued;
}

/* -------------------------------------------------------- results */

/* store_name - the store a copy went to (and how), for the log */
static const char *
store_name(const struct store_be *be)
{
	static char name[600];

	if (be->at == NULL)
		return be->spec;
	if (be->mech == NULL && be->tls == NULL)
		return be->at->name;
	snprintf(name, sizeof name, "%s (%s%s%s%s)", be->at->name,
	    be->tls ? be->tls : "", be->tls && be->mech ? ", " : "",
	    be->mech ? "AUTH " : "", be->mech ? be->mech : "");
	return name;
}

/* final - a copy's outcome, a folder copy that fell back taking its
   INBOX copy's */
static enum outcome
final(const struct store_msg *m, const struct store_copy *c)
{
	if (c->folder && c->fallback) {
		long in = inbox_copy(m, c->user);
		return in >= 0 ? m->copies[in].o : c->o;
	}
	return c->o;
}

/* log_copy - the one line for a copy */
static void
log_copy(const struct store *st, const struct store_msg *m,
    const struct store_copy *c)
{
	const struct store_be *be = &st->bes[c->be];
	const char *what;

	if (c->o == OUT_DELIVERED) {
		log_info("to=<%s>, from=<%s>, folder=%s, store=%s, size=%lld, "
		    "status=%s (%s)", c->user, m->sender, c->addr,
		    store_name(be), (long long)m->size, st->probe ?
		    "dry-run, RCPT accepted" : "sent", c->reply);
		return;
	}
	if (c->folder && c->fallback)
		what = "refused, to the INBOX instead";
	else
		what = c->o == OUT_TEMPFAIL ? "deferred" : "bounced";
	log_warn("to=<%s>, from=<%s>, folder=%s, store=%s, size=%lld, "
	    "status=%s (%s)", c->user, m->sender, c->addr, store_name(be),
	    (long long)m->size, what, c->reply);
}

/* status_of - the RFC 3463 status for the status line, class fitting o */
static char *
status_of(const struct store_copy *c, enum outcome o)
{
	if (c->status[0] == '\0')
		return xstrdup(outcome_status(o));
	return xasprintf("%c%s", o == OUT_TEMPFAIL ? '4' : '5', c->status + 1);
}

/* store_send - everything queued, then the combined outcome */
enum outcome
store_send(struct store *st, char **status_r, char **reason_r)
{
	enum outcome all = OUT_DELIVERED, why_o = OUT_DELIVERED;
	const struct store_copy *why = NULL;

	*status_r = *reason_r = NULL;
	own(st);
	for (size_t k = 0; k < st->nmsgs; k++) {
		struct store_msg *m = &st->msgs[k];
		/* one transaction per back end (each keeps one instance) */
		for (size_t b = 0; b < st->nbes; b++)
			round_send(st, m, b);
		if (fallbacks(st, m) > 0)
			for (size_t b = 0; b < st->nbes; b++)
				round_send(st, m, b);
		for (size_t i = 0; i < m->ncopies; i++) {
			const struct store_copy *c = &m->copies[i];
			enum outcome o = final(m, c);
			log_copy(st, m, c);
			if (o == OUT_DELIVERED)
				status_delivered();
			all = outcome_worse(all, o);
			if (o != OUT_DELIVERED && (why == NULL ||
			    outcome_worse(why_o, o) != why_o)) {
				why = c->folder && c->fallback ?
				    &m->copies[inbox_copy(m, c->user)] : c;
				why_o = o;
			}
		}
	}
	for (size_t b = 0; b < st->nbes; b++)
		lmtp_close(&st->bes[b].lc);
	if (why) {
		*status_r = status_of(why, why_o);
		*reason_r = xasprintf("%s: %s", why->addr, why->reply);
	}
	return all;
}

/* store_free - close, free; *stp = NULL */
void
store_free(struct store **stp)
{
	struct store *st = *stp;

	if (st == NULL)
		return;
	free_msgs(st);
	for (size_t b = 0; b < st->nbes; b++) {
		struct store_be *be = &st->bes[b];
		ahead_clear(be, 1);
		lmtp_close(&be->lc);
		free(be->down);
		free(be->mech);
		free(be->tls);
		if (b > 0) {	/* [0] borrows the settings' */
			free(be->spec);
			store_targets_free(&be->targets, be->ntargets);
		}
	}
	free(st->bes);
	for (size_t i = 0; i < st->nrouted; i++)
		free(st->routed[i].user);
	free(st->routed);
	route_close(&st->routes);
	free(st->routes_err);
	if (st->have_creds)
		sasl_creds_free(&st->creds);
	store_settings_free(&st->set);
	free(st);
	*stp = NULL;
}

/* ------------------------------------------------ the deliver hook */

/* set_var - the store's settings, read through the session's (settings.h) */
static const char *
set_var(const void *ctx, const char *name)
{
	return settings_get(ctx, name);
}

/* not_ours - a local copy: fine, unless we deliver for someone else */
static int
not_ours(struct session *s, const char *folder, enum outcome *o_r)
{
	if (!s->foreign || strcmp(folder, "/dev/null") == 0)
		return 0;
	log_warn("to=<%s>, from=<%s>, folder=%s, status=deferred (a local "
	    "folder of another user needs root; set STORE to deliver to a "
	    "store)", s->recipient, s->sender, folder);
	*o_r = OUT_TEMPFAIL;
	return 1;
}

/* session_store - 1 with s->store (made on first use) when STORE is set,
   0 when it is not, -1 with *err when a STORE setting is unusable */
static int
session_store(struct session *s, char **err)
{
	const char *spec = settings_get(s->settings, "STORE");
	const char *routes = settings_get(s->settings, "STORE_ROUTES");
	struct store_settings set;

	if (spec == NULL || *spec == '\0') {
		if (routes == NULL || *routes == '\0')
			return 0;
		/* a table without a default store: never guessed around */
		return xerr(err, "STORE_ROUTES=%s needs STORE (the store of "
		    "the recipients it does not name)", routes);
	}
	if (s->store == NULL) {
		if (store_settings_read(&set, set_var, s->settings, err) == -1)
			return -1;
		s->store = store_new(&set);
		s->store->pre = s->pre;
		/* --test: the store is asked about each RCPT, no more */
		s->store->probe = s->dry_run;
	}
	return 1;
}

/* store_owns - folder goes to the store (see store.h) */
int
store_owns(struct session *s, const char *folder)
{
	char *name = NULL, *err = NULL;
	int r = session_store(s, &err);

	if (r == -1) {
		free(err);	/* store_take says it, with the outcome */
		return 1;
	}
	if (r == 1)
		r = store_folder(&s->store->set, folder, settings_get(
		    s->settings, "MAILDIR"), settings_get(s->settings,
		    "DEFAULT"), settings_get(s->settings, "ORGMAIL"), &name);
	free(name);
	return r;
}

/* store_take - the store hook of deliver_folder (see store.h) */
int
store_take(struct session *s, const char *folder, enum outcome *o_r,
    char **path_r)
{
	const char *addr;
	char *name = NULL, *err = NULL;
	int fallback;
	size_t be;

	switch (session_store(s, &err)) {
	case 0:
		return not_ours(s, folder, o_r);
	case -1:
		/* An unusable STORE is the administrator's mistake. */
		log_warn("to=<%s>, folder=%s, status=deferred (%s)",
		    s->recipient, folder, err);
		status_fail(OUT_CONFIG, NULL, s->recipient, "%s", err);
		free(err);
		*o_r = OUT_CONFIG;
		return 1;
	}
	if (!store_folder(&s->store->set, folder, settings_get(s->settings,
	    "MAILDIR"), settings_get(s->settings, "DEFAULT"),
	    settings_get(s->settings, "ORGMAIL"), &name))
		return not_ours(s, folder, o_r);
	/* routing: a table that cannot be read, or names no STORE, is the
	   administrator's mistake */
	if (store_route(s->store, s->recipient, &be, &err) == -1) {
		log_warn("to=<%s>, folder=%s, status=deferred (%s)",
		    s->recipient, folder, err);
		status_fail(OUT_CONFIG, NULL, s->recipient, "%s", err);
		free(err);
		free(name);
		*o_r = OUT_CONFIG;
		return 1;
	}
	/* STORE_FALLBACK as it is now: a board post turns it off. */
	if (store_setting_bool(set_var, s->settings, "STORE_FALLBACK", s->store->set.fallback,
	    &fallback, &err) == -1) {
		log_warn("store: %s; taken as yes", err);
		free(err);
		fallback = 1;
	}
	addr = store_add(s->store, s->msg, s->sender, s->recipient, name,
	    fallback);
	if (addr == NULL && name && fallback) {
		log_warn("to=<%s>, folder=%s: no usable address for the folder "
		    "on the store; to the INBOX instead", s->recipient, folder);
		addr = store_add(s->store, s->msg, s->sender, s->recipient, NULL,
		    1);
	}
	*o_r = OUT_DELIVERED;
	if (s->dry_run) {
		/* what the real run would send; the store's answer to the
		   RCPT is logged when the run ends (store_send) */
		settings_trace(s->settings, "Would send to the store %s: "
		    "RCPT TO:<%s>%s",
		    s->store->bes[be].spec, addr ? addr : "", addr ? "" :
		    " (no usable address)");
		settings_trace_dest(s->settings, "%s on the store %s (the "
		    "store's answer to RCPT follows)", addr ? addr : folder,
		    s->store->bes[be].spec);
	}
	if (addr == NULL) {
		/* a recipient no LMTP command can carry: refused for good
		   (5.1.3, bad address syntax), never deferred forever */
		log_warn("to=<%s>, folder=%s, status=bounced (no usable store "
		    "address for the user)", s->recipient, folder);
		status_fail(OUT_NOUSER, "5.1.3", NULL, "no usable store address "
		    "for the recipient (control bytes, DEL, < or >, or too "
		    "long)");
		*o_r = OUT_NOUSER;
	} else {
		free(s->last_folder);
		s->last_folder = xstrdup(addr);
	}
	free(name);
	if (*o_r == OUT_DELIVERED) {
		s->delivered++;
		if (path_r)
			*path_r = xstrdup(s->last_folder);
	}
	return 1;
}

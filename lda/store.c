/*
 * store.c - delivery into a sealed store (Cyrus, Dovecot) over LMTP.
 * Does: STORE settings and list; per-user back ends (STORE_ROUTES, looked
 * up in route.c); folder names to store addresses; the
 * run's copies queued per message and sent at the end, one transaction
 * per message (the store keeps one instance); the INBOX fall-back; the
 * reply table; one log line per copy, quoting the store.
 * Does not: speak LMTP (lmtp.c), repair (repair.c), exit.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lmtp.h"
#include "log.h"
#include "repair.h"
#include "route.h"
#include "sasl.h"
#include "session.h"
#include "settings.h"
#include "spool.h"
#include "status.h"
#include "store.h"
#include "xalloc.h"

#define READ_CHUNK 16384	/* bytes of the spool read at a time */

/* One copy: a recipient of its message's transaction. */
struct store_copy {
	char *user;		/* who it is for */
	char *folder;		/* folder on the store, NULL: the INBOX */
	char *addr;		/* the RCPT address */
	int fallback;		/* the INBOX copy of a refused folder copy */
	int no_fallback;	/* STORE_FALLBACK=no when it was queued */
	int done;		/* outcome known */
	enum outcome o;
	char status[16];	/* the store's enhanced status, or "" */
	char *reply;		/* the store's reply, or what went wrong */
	size_t be;		/* its back end (struct store's bes) */
};

/* One message (one spool content and sender) and its copies. */
struct store_msg {
	int fd;			/* our own dup of the spool's descriptor */
	off_t size;
	dev_t dev;
	ino_t ino;
	char *sender;
	int repaired_logged;
	struct store_copy *copies;
	size_t ncopies, cap;
};

/* One back end: a STORE list (the default, or a route's) and its
   connection. Each gets its own transactions. */
struct store_be {
	char *spec;			/* the STORE value */
	struct store_target *targets;
	size_t ntargets;
	struct lmtp_conn *lc;		/* open connection, or NULL */
	const struct store_target *at;	/* where lc goes */
	char *down;			/* why no store could be reached */
	char *mech;			/* the SASL mechanism lc used, or NULL */
	char *tls;			/* lc's TLS protocol and cipher, or NULL */
	char down_status[16];		/* RFC 3463 code of why, or "" */
};

/* A recipient whose back end is known (STORE_ROUTES looked up once). */
struct store_routed {
	char *user;
	size_t be;
};

struct store {
	struct store_settings set;
	struct store_msg *msgs;
	size_t nmsgs;
	struct store_be *bes;		/* [0]: STORE; then the routes' */
	size_t nbes;
	struct route *routes;		/* STORE_ROUTES, opened on first use */
	char *routes_err;		/* why it cannot be used, or NULL */
	struct store_routed *routed;
	size_t nrouted;
	struct lmtp_pre *pre;		/* begun at start-up (not ours), or NULL */
	struct sasl_creds creds;
	int have_creds;
	pid_t pid;			/* the process the copies belong to */
	int probe;			/* --test: RCPT only, nothing sent */
};

/* ---------------------------------------------------------- settings */

/* parse_target - one lmtp:unix:/path or lmtp:inet:host:port */
static int
parse_target(const char *s, size_t n, struct store_target *t, char **err)
{
	char *w = xstrndup(s, n), *hp, *colon;

	memset(t, 0, sizeof *t);
	t->name = w;
	if (strncmp(w, "lmtp:unix:", 10) == 0 && w[10] == '/') {
		t->path = xstrdup(w + 10);
		return 0;
	}
	if (strncmp(w, "lmtp:inet:", 10) != 0)
		return xerr(err, "STORE \"%s\": want lmtp:unix:/path or "
		    "lmtp:inet:host:port", w);
	hp = w + 10;
	if (*hp == '[') {
		char *close = strchr(hp, ']');
		if (close == NULL || close[1] != ':')
			return xerr(err, "STORE \"%s\": want "
			    "[IPv6-address]:port", w);
		t->host = xstrndup(hp + 1, (size_t)(close - hp - 1));
		colon = close + 1;
	} else {
		colon = strrchr(hp, ':');
		if (colon == NULL || memchr(hp, ':', (size_t)(colon - hp)))
			return xerr(err, "STORE \"%s\": want host:port "
			    "(an IPv6 address in brackets)", w);
		t->host = xstrndup(hp, (size_t)(colon - hp));
	}
	t->port = xstrdup(colon + 1);
	if (*t->host == '\0' || *t->port == '\0' ||
	    strspn(t->port, "0123456789") != strlen(t->port) ||
	    atol(t->port) < 1 || atol(t->port) > 65535)
		return xerr(err, "STORE \"%s\": want a host and a port "
		    "number", w);
	return 0;
}

/* store_parse - a STORE value into its list of stores */
int
store_parse(const char *spec, struct store_target **t_r, size_t *n_r,
    char **err)
{
	struct store_target *t = NULL;
	size_t n = 0;
	const char *p = spec;

	*err = NULL;
	while (*p) {
		size_t len;
		p += strspn(p, " \t,");
		len = strcspn(p, ",");
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len == 0)
			break;
		t = xreallocarray(t, n + 1, sizeof *t);
		if (parse_target(p, len, &t[n++], err) == -1) {
			store_targets_free(&t, n);
			return -1;
		}
		p += strcspn(p, ",");
	}
	if (n == 0)
		return xerr(err, "STORE \"%s\": no store named", spec);
	*t_r = t;
	*n_r = n;
	return 0;
}

/* store_targets_free - free a list of stores */
void
store_targets_free(struct store_target **tp, size_t n)
{
	struct store_target *t = *tp;

	for (size_t i = 0; t && i < n; i++) {
		free(t[i].name);
		free(t[i].path);
		free(t[i].host);
		free(t[i].port);
	}
	free(t);
	*tp = NULL;
}

/* get_bool - yes/no style setting; 0, or -1 with *err */
static int
get_bool(store_getvar_fn *get, const void *ctx, const char *name, int dflt,
    int *v, char **err)
{
	static const char *const yes[] = { "yes", "y", "on", "true", "1" };
	static const char *const no[] = { "no", "n", "off", "false", "0" };
	const char *s = get(ctx, name);

	*v = dflt;
	if (s == NULL || *s == '\0')
		return 0;
	for (unsigned i = 0; i < 5; i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return *v = 1, 0;
		if (strcasecmp(s, no[i]) == 0)
			return *v = 0, 0;
	}
	return xerr(err, "%s=%s: want yes or no", name, s);
}

/* get_secs - a timeout in seconds, 1 to 86400 */
static int
get_secs(store_getvar_fn *get, const void *ctx, const char *name, int dflt,
    int *v, char **err)
{
	const char *s = get(ctx, name);
	char *end;
	long n;

	*v = dflt;
	if (s == NULL || *s == '\0')
		return 0;
	errno = 0;
	n = strtol(s, &end, 10);
	if (errno || *end || n < 1 || n > 86400)
		return xerr(err, "%s=%s: want seconds from 1 to 86400",
		    name, s);
	*v = (int)n;
	return 0;
}

/* get_tls - STORE_TLS: off (or no), may or require; 0, or -1 with *err */
static int
get_tls(store_getvar_fn *get, const void *ctx, int *v, char **err)
{
	const char *s = get(ctx, "STORE_TLS");

	*v = LMTP_TLS_OFF;
	if (s == NULL || *s == '\0' || strcasecmp(s, "off") == 0 ||
	    strcasecmp(s, "no") == 0)
		return 0;
	if (strcasecmp(s, "may") == 0)
		return *v = LMTP_TLS_MAY, 0;
	if (strcasecmp(s, "require") == 0)
		return *v = LMTP_TLS_REQUIRE, 0;
	return xerr(err, "STORE_TLS=%s: want off, may or require", s);
}

/* get_str - a string setting, copied */
static char *
get_str(store_getvar_fn *get, const void *ctx, const char *name,
    const char *dflt)
{
	const char *s = get(ctx, name);

	if (s == NULL || *s == '\0')
		return dflt ? xstrdup(dflt) : NULL;
	return xstrdup(s);
}

/* store_settings_read - every STORE setting, checked */
int
store_settings_read(struct store_settings *set, store_getvar_fn *get,
    const void *ctx, char **err)
{
	const char *spec = get(ctx, "STORE"), *sep;

	memset(set, 0, sizeof *set);
	*err = NULL;
	if (spec == NULL || *spec == '\0')
		return xerr(err, "STORE is not set");
	set->spec = xstrdup(spec);
	set->credentials = get_str(get, ctx, "STORE_CREDENTIALS", NULL);
	set->routes = get_str(get, ctx, "STORE_ROUTES", NULL);
	set->mechs = get_str(get, ctx, "STORE_MECHANISMS", SASL_MECHS_DEFAULT);
	set->tls_cafile = get_str(get, ctx, "STORE_TLS_CAFILE", NULL);
	set->delimiter = get_str(get, ctx, "RCPT_DELIMITER", "+");
	sep = get(ctx, "STORE_SEPARATOR");
	set->separator = sep && *sep ? *sep : '.';
	if (store_parse(spec, &set->targets, &set->ntargets, err) == -1 ||
	    get_bool(get, ctx, "STORE_PLAINTEXT", 0, &set->plaintext, err) ||
	    get_tls(get, ctx, &set->tls, err) ||
	    get_bool(get, ctx, "RCPT_DOWNCASE", 0, &set->downcase, err) ||
	    get_bool(get, ctx, "STORE_FALLBACK", 1, &set->fallback, err) ||
	    get_secs(get, ctx, "STORE_CONNECT_TIMEOUT",
	    STORE_CONNECT_TIMEOUT_DEFAULT, &set->connect_timeout, err) ||
	    get_secs(get, ctx, "STORE_TIMEOUT", STORE_TIMEOUT_DEFAULT,
	    &set->timeout, err))
		goto fail;
	if (set->tls_cafile && set->tls_cafile[0] != '/') {
		xerr(err, "STORE_TLS_CAFILE=%s: want an absolute path",
		    set->tls_cafile);
		goto fail;
	}
	if (sep && *sep && (strlen(sep) != 1 || (*sep != '.' && *sep != '/'))) {
		xerr(err, "STORE_SEPARATOR=%s: want . or /", sep);
		goto fail;
	}
	/* RCPT_DELIMITER may list several; the first one joins. */
	set->delimiter[1] = '\0';
	if (strpbrk(set->delimiter, " \t\r\n\"<>@\\") != NULL ||
	    (unsigned char)set->delimiter[0] < 0x21 ||
	    (unsigned char)set->delimiter[0] > 0x7e) {
		xerr(err, "RCPT_DELIMITER: want an address character "
		    "such as +");
		goto fail;
	}
	return 0;
fail:
	store_settings_free(set);
	return -1;
}

/* store_settings_free - free the settings' strings */
void
store_settings_free(struct store_settings *set)
{
	free(set->spec);
	store_targets_free(&set->targets, set->ntargets);
	free(set->credentials);
	free(set->routes);
	free(set->mechs);
	free(set->tls_cafile);
	free(set->delimiter);
	memset(set, 0, sizeof *set);
}

/* ---------------------------------------------------- folder names */

/* under - folder without the prefix dir + "/", or NULL */
static const char *
under(const char *folder, const char *dir)
{
	size_t n;

	if (dir == NULL || *dir == '\0')
		return NULL;
	n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (strncmp(folder, dir, n) != 0)
		return NULL;
	if (folder[n] == '\0')
		return folder + n;
	if (folder[n] == '/')
		return folder + n + 1;
	return NULL;
}

/* bare - folder relative to maildir, without Maildir/MH suffixes */
static char *
bare(const char *folder, const char *maildir, int *maildirpp)
{
	const char *rel = under(folder, maildir);
	size_t n;
	char *s;

	s = xstrdup(rel ? rel : folder);
	n = strlen(s);
	*maildirpp = 0;
	if (n >= 2 && strcmp(s + n - 2, "/.") == 0)	/* MH */
		s[n -= 2] = '\0';
	else if (n >= 1 && s[n - 1] == '/')		/* Maildir */
		*maildirpp = s[0] == '.';
	while (n > 0 && s[n - 1] == '/')
		s[--n] = '\0';
	return s;
}

/* same_folder - do a and b (after bare()) name the same thing? */
static int
same_folder(const char *a, const char *b, const char *maildir)
{
	int d;
	char *x, *y;
	int same;

	if (b == NULL || *b == '\0')
		return 0;
	x = bare(a, maildir, &d);
	y = bare(b, maildir, &d);
	same = strcmp(x, y) == 0;
	free(x);
	free(y);
	return same;
}

/* join - the parts of s (split at split) joined with sep, empty and "."
   parts dropped */
static char *
join(const char *s, char split, char sep)
{
	struct buf b;

	buf_init(&b, 0);
	while (*s) {
		size_t n = strcspn(s, (char[]){ split, '\0' });
		if (n > 0 && !(n == 1 && *s == '.')) {
			if (b.len)
				buf_putc(&b, sep);
			buf_append(&b, s, n);
		}
		s += n;
		if (*s)
			s++;
	}
	return buf_steal(&b);
}

/* store_folder - the store folder an rc folder name stands for */
int
store_folder(const struct store_settings *set, const char *folder,
    const char *maildir, const char *def, const char *org, char **name_r)
{
	char *b, *name;
	int maildirpp;

	*name_r = NULL;
	if (strcmp(folder, "/dev/null") == 0)
		return 0;
	if (same_folder(folder, def, maildir) || same_folder(folder, org,
	    maildir))
		return 1;			/* DEFAULT: the INBOX */
	if (folder[0] == '/' && under(folder, maildir) == NULL)
		return 0;			/* a local file */
	b = bare(folder, maildir, &maildirpp);
	name = maildirpp ? join(b + 1, '.', set->separator) :
	    join(b, '/', set->separator);
	free(b);
	/* "INBOX" and "INBOX.x" (how IMAP shows bob's folders) */
	if (strncasecmp(name, "INBOX", 5) == 0 && (name[5] == '\0' ||
	    name[5] == set->separator)) {
		char *rest = xstrdup(name[5] ? name + 6 : "");
		free(name);
		name = rest;
	}
	if (*name == '\0') {
		free(name);
		return 1;
	}
	*name_r = name;
	return 1;
}

/* atext_ok - may the local part go out unquoted (atext and dots)? */
static int
atext_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && (unsigned char)s[i] < 0x80 &&
		    strchr("!#$%&'*+-/=?^_`{|}~.", s[i]) == NULL)
			return 0;
	return n > 0;
}

/* has_ctl - control bytes (which could end an LMTP command), DEL, or
   the brackets that would end its address (lmtp.c refuses to send any
   of them)? */
static int
has_ctl(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f || *s == '<' ||
		    *s == '>')
			return 1;
	return 0;
}

/* store_address - user+folder@domain, quoted when needed */
char *
store_address(const struct store_settings *set, const char *user,
    const char *folder)
{
	const char *at = strrchr(user, '@');
	size_t ulen = at ? (size_t)(at - user) : strlen(user);
	struct buf local, addr;
	int full = 0;		/* a buffer hit STORE_ADDRESS_MAX */

	/* An empty user part is a board's "+board" (POSTUSER empty). */
	if ((ulen == 0 && folder == NULL) || has_ctl(user) || (folder &&
	    (has_ctl(folder) || *folder == '\0')))
		return NULL;
	buf_init(&local, STORE_ADDRESS_MAX);
	buf_init(&addr, STORE_ADDRESS_MAX);
	for (size_t i = 0; i < ulen; i++)
		full |= buf_putc(&local, set->downcase ?
		    tolower((unsigned char)user[i]) : user[i]);
	if (folder)
		full |= buf_puts(&local, set->delimiter) |
		    buf_puts(&local, folder);
	if (atext_ok(local.s, local.len))
		full |= buf_append(&addr, local.s, local.len);
	else {			/* RFC 5321 quoted-string */
		full |= buf_putc(&addr, '"');
		for (size_t i = 0; i < local.len; i++) {
			if (local.s[i] == '"' || local.s[i] == '\\')
				full |= buf_putc(&addr, '\\');
			full |= buf_putc(&addr, local.s[i]);
		}
		full |= buf_putc(&addr, '"');
	}
	for (const char *d = at; d && *d; d++)
		full |= buf_putc(&addr, set->downcase ?
		    tolower((unsigned char)*d) : *d);
	buf_free(&local);
	if (full) {
		buf_free(&addr);
		return NULL;
	}
	return buf_steal(&addr);
}

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
static int
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
static const char *
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
static int
connect_store(struct store *st, struct store_be *be, char **err)
{
	char *e = NULL;

	if (be->lc && lmtp_usable(be->lc))
		return 0;
	lmtp_close(&be->lc);
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

/* store_lend - the open connection of STORE's back end (the routes'
   are not lent), when it can be lent */
struct lmtp_conn *
store_lend(struct store *st)
{
	struct store_be *be = st->nbes > 0 ? &st->bes[0] : NULL;

	if (be == NULL)
		return NULL;
	if (be->lc && !lmtp_lendable(be->lc))
		lmtp_close(&be->lc);	/* QUIT unless it is out of step */
	return be->lc;
}

/* store_lent_back - the borrower's word on the lent connection */
void
store_lent_back(struct store *st, int in_step)
{
	if (!in_step && st->nbes > 0)
		lmtp_drop(&st->bes[0].lc);
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
log_repairs(struct store_msg *m, const struct repair *rep)
{
	struct buf b;

	if (m->repaired_logged)
		return;
	m->repaired_logged = 1;
	buf_init(&b, 1024);
	repair_describe(rep, &b);
	if (b.len)
		log_info("store: message from <%s> repaired for the store: %s",
		    m->sender, b.s);
	buf_free(&b);
}

/* round_send - one transaction for m's copies to back end k whose
   outcome is open */
static void
round_send(struct store *st, struct store_msg *m, size_t k)
{
	struct store_be *be = &st->bes[k];
	const char **rcpts = xcalloc(m->ncopies + 1, sizeof *rcpts);
	size_t *map = xcalloc(m->ncopies + 1, sizeof *map), nr = 0;
	struct lmtp_reply *replies = NULL;
	struct source *src = NULL;
	struct lmtp_txn t;
	char *err = NULL;
	const char *why = "";
	int rc = -1;

	/* One RCPT per distinct address; copies to the same one share it. */
	for (size_t i = 0; i < m->ncopies; i++) {
		size_t j = 0;
		if (m->copies[i].done || m->copies[i].be != k)
			continue;
		while (j < nr && strcmp(rcpts[j], m->copies[i].addr) != 0)
			j++;
		if (j == nr)
			rcpts[nr++] = m->copies[i].addr;
		map[i] = j;
	}
	if (nr == 0)
		goto settle;
	if (connect_store(st, be, &err) == -1) {
		why = be->down_status;
		goto settle;
	}
	replies = xcalloc(nr, sizeof *replies);
	src = xcalloc(1, sizeof *src);
	src->sp.fd = m->fd;
	src->sp.size = m->size;
	repair_init(&src->rep);
	buf_init(&src->out, 0);
	t = (struct lmtp_txn){ .sender = m->sender, .size = m->size,
	    .rcpts = rcpts, .nrcpts = nr, .replies = replies,
	    .src = { source_read, src }, .probe = st->probe };
	rc = lmtp_send(be->lc, &t, &err);
	if (src->ended)
		log_repairs(m, &src->rep);
	if (rc == -1 || !lmtp_usable(be->lc))
		lmtp_close(&be->lc);
settle:
	for (size_t i = 0; i < m->ncopies; i++) {
		struct store_copy *c = &m->copies[i];
		const struct lmtp_reply *r = replies ? &replies[map[i]] : NULL;
		if (c->done || c->be != k)
			continue;
		if (r && r->code)
			settle(c, store_reply_outcome(r), r->status, r->text);
		else
			settle(c, OUT_TEMPFAIL, why, err ? err : "no reply");
	}
	for (size_t j = 0; replies && j < nr; j++)
		lmtp_reply_free(&replies[j]);
	if (src)
		buf_free(&src->out);
	free(src);
	free(replies);
	free(rcpts);
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
	if (get_bool(set_var, s->settings, "STORE_FALLBACK", s->store->set.fallback,
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

/*
 * store-settings.c - what the store needs to know, before any connection:
 * the STORE settings (STORE's list of targets, credentials, mechanisms,
 * TLS, timeouts, RCPT_DELIMITER, STORE_SEPARATOR, ...) read and checked,
 * and folder names turned into store addresses (user+folder).
 * Does: parse, check, name. Does not: connect, send, log (store.c).
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "lmtp.h"
#include "sasl.h"
#include "store.h"
#include "xalloc.h"

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

/* store_setting_bool - a yes/no setting (see store.h) */
int
store_setting_bool(store_getvar_fn *get, const void *ctx, const char *name, int dflt,
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
	    store_setting_bool(get, ctx, "STORE_PLAINTEXT", 0, &set->plaintext, err) ||
	    get_tls(get, ctx, &set->tls, err) ||
	    store_setting_bool(get, ctx, "RCPT_DOWNCASE", 0, &set->downcase, err) ||
	    store_setting_bool(get, ctx, "STORE_FALLBACK", 1, &set->fallback, err) ||
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

/* key_put - one value of the key, length first (NULL: "-") */
static void
key_put(struct buf *b, const char *v)
{
	if (v == NULL)
		buf_puts(b, "-,");
	else
		buf_printf(b, "%zu:%s,", strlen(v), v);
}

/* store_settings_key - the settings as one comparable string */
char *
store_settings_key(const struct store_settings *set)
{
	struct buf b;

	buf_init(&b, 0);
	key_put(&b, set->spec);
	key_put(&b, set->credentials);
	key_put(&b, set->routes);
	key_put(&b, set->mechs);
	key_put(&b, set->tls_cafile);
	key_put(&b, set->delimiter);
	buf_printf(&b, "%d,%d,%d,%d,%d,%d", set->plaintext, set->tls,
	    set->separator, set->downcase, set->connect_timeout, set->timeout);
	return buf_steal(&b);
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

/*
 * address.c - the recipient's address: user part, detail, and the detail
 * as a folder name (address.h; the rules in doc/addressing.md).
 * Does: pick the detail's source, split at RCPT_DELIMITER, lower-case the
 * user part on request, refuse or map a detail for a store, encode
 * modified UTF-7.
 * Does not: look up accounts, read rc variables, touch files, log.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "address.h"
#include "buf.h"
#include "invocation.h"
#include "xalloc.h"

/* opt_value - the value of the last VAR=value word for name, or NULL */
static const char *
opt_value(const struct invocation *inv, const char *name)
{
	return invocation_var(inv, name);
}

/* yes - a setting's value read as a boolean */
static int
yes(const char *v)
{
	return v && (strcasecmp(v, "yes") == 0 || strcasecmp(v, "on") == 0 ||
	    strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0);
}

/* address_opts - RCPT_DELIMITER and RCPT_DOWNCASE from the command line */
void
address_opts(const struct invocation *inv, struct address_opts *o)
{
	const char *d = opt_value(inv, "RCPT_DELIMITER");

	o->delims = d ? d : ADDRESS_DELIMITER_DEFAULT;
	o->downcase = yes(opt_value(inv, "RCPT_DOWNCASE"));
}

/* address_split - local part into user part and detail */
void
address_split(const char *local, const struct address_opts *o,
    struct address *a)
{
	const char *at = strrchr(local, '@');
	size_t n = at ? (size_t)(at - local) : strlen(local);
	size_t u = 0;

	while (u < n && (*o->delims == '\0' ||
	    strchr(o->delims, local[u]) == NULL))
		u++;
	a->user = xstrndup(local, u);
	a->detail = u < n ? xstrndup(local + u + 1, n - u - 1) : NULL;
	a->source = NULL;
	if (o->downcase)
		for (char *p = a->user; *p; p++)
			*p = (char)tolower((unsigned char)*p);
}

/* same_user - do user parts a and b name the same user? */
static int
same_user(const char *a, const char *b, int downcase)
{
	return downcase ? strcasecmp(a, b) == 0 : strcmp(a, b) == 0;
}

/* env_detail - the detail the MTA's environment gives for user: the
   source name, and the detail in *detail_r (allocated), or NULL */
static const char *
env_detail(const struct invocation *inv, const char *user,
    const struct address_opts *o, char **detail_r)
{
	static const char *const names[] = { "LOCAL", "RECIPIENT" };
	const char *vals[] = { inv->env_local, inv->env_recipient };

	*detail_r = NULL;
	if (inv->env_extension && (user == NULL || inv->env_user == NULL ||
	    same_user(inv->env_user, user, 1))) {
		*detail_r = xstrdup(inv->env_extension);
		return "EXTENSION";
	}
	for (unsigned i = 0; i < 2; i++) {
		struct address e;
		if (vals[i] == NULL)
			continue;
		address_split(vals[i], o, &e);
		if (e.detail && (user == NULL || same_user(e.user, user, 1))) {
			*detail_r = e.detail;
			free(e.user);
			return names[i];
		}
		address_free(&e);
	}
	return NULL;
}

/* address_of - the address of recipient name (see address.h) */
void
address_of(const struct invocation *inv, const char *name,
    const struct address_opts *o, struct address *a)
{
	char *detail = NULL;
	const char *source = NULL;

	if (name)
		address_split(name, o, a);
	else if (inv->env_local || inv->env_recipient) {
		/* the user part only: EXTENSION comes before the split */
		address_split(inv->env_local ? inv->env_local :
		    inv->env_recipient, o, a);
		free(a->detail);
		a->detail = NULL;
	} else
		a->user = a->detail = NULL;
	if (a->detail)
		source = "-d";
	/* procmail's -a: sendmail passes the detail as $h, postfix's pipe
	   as ${extension}; an empty one says there is none. */
	if (inv->mode == INV_DELIVER && inv->nargs > 0) {
		free(a->detail);
		a->detail = xstrdup(inv->args[0]);
		source = "-a";
	} else if (a->detail == NULL && inv->nrecipients <= 1) {
		source = env_detail(inv, a->user, o, &detail);
		a->detail = detail;
	}
	if (a->detail && *a->detail == '\0') {
		free(a->detail);
		a->detail = NULL;
	}
	a->source = a->detail ? source : NULL;
}

/* address_free - release what address_split/address_of allocated */
void
address_free(struct address *a)
{
	free(a->user);
	free(a->detail);
	a->user = a->detail = NULL;
}

/*
 * utf8_next - decode one UTF-8 sequence at p (n bytes left): the code
 * point, and *len_r its length; -1 when it is not well-formed (overlong,
 * surrogate, above U+10FFFF, truncated).
 */
static long
utf8_next(const unsigned char *p, size_t n, size_t *len_r)
{
	static const long min[] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t len;
	long c;

	if (p[0] < 0x80)
		len = 1, c = p[0];
	else if ((p[0] & 0xe0) == 0xc0)
		len = 2, c = p[0] & 0x1f;
	else if ((p[0] & 0xf0) == 0xe0)
		len = 3, c = p[0] & 0x0f;
	else if ((p[0] & 0xf8) == 0xf0)
		len = 4, c = p[0] & 0x07;
	else
		return -1;
	if (len > n)
		return -1;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return -1;
		c = (c << 6) | (p[i] & 0x3f);
	}
	if (c < min[len] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return -1;
	*len_r = len;
	return c;
}

/* mutf7_put - append one UTF-16 unit to the base64 run (bits, nbits) */
static void
mutf7_put(struct buf *b, unsigned c, uint32_t *bits, int *nbits)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

	*bits = (*bits << 16) | c;
	*nbits += 16;
	while (*nbits >= 6) {
		*nbits -= 6;
		buf_putc(b, b64[(*bits >> *nbits) & 0x3f]);
	}
	*bits &= (1u << *nbits) - 1;
}

/*
 * mutf7_run - encode the non-ASCII run at p (ending where an ASCII byte
 * or the end is) as "&...-"; returns bytes used, 0 when not UTF-8.
 */
static size_t
mutf7_run(struct buf *b, const unsigned char *p, size_t n)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";
	uint32_t bits = 0;
	int nbits = 0;
	size_t i = 0, len;

	buf_putc(b, '&');
	while (i < n && p[i] >= 0x80) {
		long c = utf8_next(p + i, n - i, &len);
		if (c < 0)
			return 0;
		if (c >= 0x10000) {
			c -= 0x10000;
			mutf7_put(b, 0xd800 | (unsigned)(c >> 10), &bits, &nbits);
			mutf7_put(b, 0xdc00 | (unsigned)(c & 0x3ff), &bits, &nbits);
		} else
			mutf7_put(b, (unsigned)c, &bits, &nbits);
		i += len;
	}
	if (nbits > 0)
		buf_putc(b, b64[(bits << (6 - nbits)) & 0x3f]);
	buf_putc(b, '-');
	return i;
}

/* map_ascii - one printable ASCII byte as the folder name holds it */
static void
map_ascii(struct buf *b, int c, int utf7)
{
	if (c == '&')
		buf_puts(b, utf7 ? "&-" : "&");
	else if (isalnum(c) || strchr("!#$'+-=?^_`{|}~", c))
		buf_putc(b, c);
	else
		buf_putc(b, '_');	/* space " ( ) , : ; < > @ [ \ ] % * */
}

/* check_detail - the refusals that look at the raw detail; NULL: fine */
static const char *
check_detail(const char *detail)
{
	size_t n = strlen(detail);

	if (n > ADDRESS_DETAIL_MAX)
		return "too long";
	for (const unsigned char *p = (const unsigned char *)detail; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return "control character";
	if (detail[0] == '.' || detail[0] == '/')
		return "leading '.' or '/'";
	if (detail[n - 1] == '.' || detail[n - 1] == '/')
		return "empty folder name part";
	for (const char *p = detail; p[1]; p++)
		if (strchr("./", p[0]) && strchr("./", p[1]))
			return "empty folder name part";
	return NULL;
}

/* address_folder - the detail as a folder name (see address.h) */
char *
address_folder(const char *detail, char sep, int utf7, const char **why)
{
	const unsigned char *p = (const unsigned char *)detail;
	size_t n = strlen(detail), i = 0;
	struct buf b;

	*why = NULL;
	if (n == 0)
		return xstrdup("");
	if ((*why = check_detail(detail)) != NULL)
		return NULL;
	/* A leading INBOX part names the INBOX itself (Cyrus: INBOX.x). */
	if (n >= 5 && strncasecmp(detail, "INBOX", 5) == 0 &&
	    (n == 5 || detail[5] == '.' || detail[5] == '/'))
		i = n == 5 ? 5 : 6;
	buf_init(&b, 0);
	while (i < n) {
		size_t used;
		if (p[i] == '.' || p[i] == '/') {
			buf_putc(&b, sep);
			i++;
		} else if (p[i] < 0x80) {
			map_ascii(&b, p[i], utf7);
			i++;
		} else if (!utf7) {
			buf_free(&b);
			*why = "8-bit bytes (an LMTP address cannot carry them)";
			return NULL;
		} else if ((used = mutf7_run(&b, p + i, n - i)) == 0) {
			buf_free(&b);
			*why = "8-bit bytes that are not UTF-8";
			return NULL;
		} else
			i += used;
	}
	if (b.len > ADDRESS_FOLDER_MAX) {
		buf_free(&b);
		*why = "too long once encoded";
		return NULL;
	}
	return buf_steal(&b);
}

/* address_user_ok - may user name an rc file and a store recipient? */
int
address_user_ok(const char *user)
{
	size_t n = strlen(user);

	if (n == 0 || n > ADDRESS_USER_MAX || user[0] == '.')
		return 0;
	for (const unsigned char *p = (const unsigned char *)user; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f || strchr("/\"\\<>@", *p))
			return 0;
	return 1;
}

/* address_visible - s for a log line */
char *
address_visible(const char *s, size_t max)
{
	struct buf b;
	size_t i;

	buf_init(&b, 0);
	for (i = 0; s[i] && i < max; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c >= 0x7f || c == '\\')
			buf_printf(&b, "\\%03o", c);
		else
			buf_putc(&b, c);
	}
	if (s[i])
		buf_puts(&b, "...");
	return buf_steal(&b);
}

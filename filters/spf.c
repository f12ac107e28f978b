/*
 * spf.c - the spf filter: an SPF check (libspf2, in the spf.so module) of
 * the envelope sender against the client's address and HELO.
 * Does: take the client from postfix's CLIENT_ADDRESS and CLIENT_HELO, or
 * from the Received field written by the trusted MTA (SPF_TRUSTED_MTA);
 * add a Received-SPF field above the header (RFC 7208, section 9.1); set
 * SPF_RESULT (pass fail softfail neutral none permerror temperror, or ""
 * when there was no client to check) and SPF_EXPLANATION.
 * Does not: refuse mail (the rc decides what a fail means), trust any
 * Received field but the trusted MTA's own.
 *
 * Settings: SPF_TRUSTED_MTA (host name after "by" in our MTA's Received
 * field), SPF_RECEIVER (our name in the field; default the host name),
 * SPF_DNS_ZONE (a zone file answering all DNS queries: tests and offline
 * set-ups), SPF_FAILURE (open | closed; default open), MODULE_PATH.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../lda/invocation.h"
#include "../lda/log.h"
#include "../lda/xalloc.h"
#include "filter.h"
#include "module.h"
#include "spf.h"

#define SPF_FIELD_MAX 4096

struct spf {
	const struct lda_spf_module *m;
	void *h;
	char *receiver;
};

/* word_end - the end of the word at p (up to a blank, a control byte,
   '(' or ';') */
static const char *
word_end(const char *p)
{
	while (*p && !isspace((unsigned char)*p) && !iscntrl((unsigned char)*p) &&
	    *p != '(' && *p != ';')
		p++;
	return p;
}

/* put - copy [p, e) into dst of size n; 0, or -1 when it does not fit */
static int
put(char *dst, size_t n, const char *p, const char *e)
{
	if (e <= p || (size_t)(e - p) >= n)
		return -1;
	memcpy(dst, p, (size_t)(e - p));
	dst[e - p] = '\0';
	return 0;
}

/* by_host - does the "by" clause of value name mta? */
static int
by_host(const char *value, const char *mta)
{
	const char *p = value;
	size_t n = strlen(mta);

	while ((p = strcasestr(p, "by")) != NULL) {
		if ((p == value || isspace((unsigned char)p[-1]) || p[-1] == ')') &&
		    isspace((unsigned char)p[2])) {
			const char *h = p + 2, *e;
			while (isspace((unsigned char)*h))
				h++;
			e = word_end(h);
			return (size_t)(e - h) == n && strncasecmp(h, mta, n) == 0;
		}
		p += 2;
	}
	return 0;
}

/* literal - the address inside "[...]" at p ("IPv6:" dropped), checked */
static int
literal(const char *p, char *ip, size_t ipn)
{
	const char *e = strchr(p, ']');
	unsigned char a[16];

	if (*p != '[' || e == NULL)
		return -1;
	p++;
	if (strncasecmp(p, "IPv6:", 5) == 0)
		p += 5;
	if (put(ip, ipn, p, e) == -1)
		return -1;
	return inet_pton(strchr(ip, ':') ? AF_INET6 : AF_INET, ip, a) == 1 ?
	    0 : -1;
}

/* spf_received_client - client address and HELO from mta's Received */
int
spf_received_client(const char *value, const char *mta, char *ip,
    size_t ipn, char *helo, size_t helon)
{
	const char *p = value, *w, *we, *cm, *ce, *h;

	if (!by_host(value, mta))
		return 0;
	while (isspace((unsigned char)*p))
		p++;
	if (strncasecmp(p, "from", 4) != 0 || !isspace((unsigned char)p[4]))
		return 0;
	w = p + 5;
	while (isspace((unsigned char)*w))
		w++;
	we = word_end(w);
	if (put(helo, helon, w, we) == -1)
		return 0;
	cm = we;
	while (isspace((unsigned char)*cm))
		cm++;
	ce = *cm == '(' ? strchr(cm, ')') : NULL;
	if (ce == NULL) {
		/* exim without a comment: "from [IP]" */
		return *w == '[' && literal(w, ip, ipn) == 0;
	}
	/* the first "[" inside the comment (nested "(may be forged)" ok) */
	p = memchr(cm, '[', (size_t)(ce - cm));
	if (p == NULL && *w == '[')
		p = w;
	if (p == NULL || literal(p, ip, ipn) == -1)
		return 0;
	/* exim: "(RDNS [IP] helo=HELO)" or "([IP] helo=HELO)" */
	h = strstr(cm, "helo=");
	if (h && h < ce) {
		h += 5;
		if (put(helo, helon, h, word_end(h) < ce ? word_end(h) : ce) == -1)
			return 0;
	}
	return 1;
}

/* dot_atom - may s stand unquoted as a key-value pair's value? */
static int
dot_atom(const char *s)
{
	static const char atext[] = "!#$%&'*+-/=?^_`{|}~";

	if (*s == '\0' || *s == '.')
		return 0;
	for (const char *p = s; *p; p++) {
		if (*p == '.' && (p[1] == '.' || p[1] == '\0'))
			return 0;
		if (*p != '.' && !isalnum((unsigned char)*p) &&
		    strchr(atext, *p) == NULL)
			return 0;
	}
	return 1;
}

/* pair - "; key=value" with value a dot-atom or a quoted-string */
static int
pair(struct buf *out, const char *key, const char *value, int quote)
{
	int r = buf_printf(out, " %s=", key);

	if (!quote && dot_atom(value))
		return r | buf_printf(out, "%s;", value);
	r |= buf_putc(out, '"');
	for (const char *p = value; *p; p++) {
		if (*p == '"' || *p == '\\')
			r |= buf_putc(out, '\\');
		r |= buf_putc(out, iscntrl((unsigned char)*p) ? ' ' : *p);
	}
	return r | buf_puts(out, "\";");
}

/* spf_received_spf - the Received-SPF value (RFC 7208, 9.1) */
int
spf_received_spf(struct buf *out, const char *result, const char *comment,
    const char *ip, const char *sender, const char *helo,
    const char *receiver, const char *problem)
{
	int r = buf_puts(out, result);

	if (comment && *comment) {
		r |= buf_puts(out, " (");
		for (const char *p = comment; *p; p++)
			if (*p != '(' && *p != ')' && *p != '\\')
				r |= buf_putc(out, iscntrl((unsigned char)*p) ?
				    ' ' : *p);
		r |= buf_putc(out, ')');
	}
	r |= pair(out, "client-ip", ip, 0);
	if (*sender)
		r |= pair(out, "envelope-from", sender, 1);
	if (helo && *helo)
		r |= pair(out, "helo", helo, 0);
	r |= pair(out, "receiver", receiver, 0);
	r |= pair(out, "identity", *sender ? "mailfrom" : "helo", 0);
	if (problem && *problem)
		r |= pair(out, "problem", problem, 1);
	return r ? -1 : 0;
}

/* spf_open - load the module and make a checker */
static int
spf_open(struct filter_ctx *c, char **err)
{
	struct spf *sp = xcalloc(1, sizeof *sp);
	const char *recv = filter_setting(c, "SPF_RECEIVER");
	char host[256];

	c->priv = sp;
	if (recv == NULL) {
		if (gethostname(host, sizeof host) == -1)
			lda_strlcpy(host, "localhost", sizeof host);
		host[sizeof host - 1] = '\0';
		recv = host;
	}
	sp->receiver = xstrdup(recv);
	sp->m = filter_module(c, "spf", "lda_spf_module", LDA_SPF_ABI, err);
	if (sp->m == NULL)
		return -1;
	sp->h = sp->m->open(filter_setting(c, "SPF_DNS_ZONE"), sp->receiver,
	    err);
	return sp->h ? 0 : -1;
}

/* spf_close - free the checker */
static void
spf_close(struct filter_ctx *c)
{
	struct spf *sp = c->priv;

	if (sp == NULL)
		return;
	if (sp->m && sp->h)
		sp->m->close(sp->h);
	free(sp->receiver);
	free(sp);
	c->priv = NULL;
}

/* client - the client address and HELO: postfix's, or the trusted MTA's
   Received field's. Returns 1 when found. */
static int
client(struct filter_ctx *c, const struct spool *msg, char *ip, size_t ipn,
    char *helo, size_t helon)
{
	const struct invocation *inv = c->s->inv;
	const char *mta = filter_setting(c, "SPF_TRUSTED_MTA");
	struct buf v;
	long i;
	int found = 0;

	if (inv && inv->client_address && *inv->client_address &&
	    strcasecmp(inv->client_address, "unknown") != 0) {
		lda_strlcpy(ip, inv->client_address, ipn);
		lda_strlcpy(helo, inv->client_helo ? inv->client_helo : "",
		    helon);
		return strlen(inv->client_address) < ipn;
	}
	if (mta == NULL)
		return 0;
	buf_init(&v, SPF_FIELD_MAX);
	for (i = spool_field_find(msg, "Received", 0); i != -1 && !found;
	    i = spool_field_find(msg, "Received", (size_t)i + 1)) {
		buf_reset(&v);
		if (spool_field_value(msg, (size_t)i, &v) == 0)
			found = spf_received_client(v.s, mta, ip, ipn, helo, helon);
	}
	buf_free(&v);
	return found;
}

/* spf_run - check the sender, add Received-SPF */
static int
spf_run(struct filter_ctx *c, const struct spool *msg, struct verdict *v,
    char **err)
{
	struct spf *sp = c->priv;
	struct lda_spf_answer a;
	char ip[INET6_ADDRSTRLEN + 8], helo[256];
	const char *sender = c->s->sender ? c->s->sender : "";
	struct buf field;

	if (!client(c, msg, ip, sizeof ip, helo, sizeof helo)) {
		log_debug("spf: no client address (CLIENT_ADDRESS, "
		    "SPF_TRUSTED_MTA): not checked");
		verdict_var(v, "SPF_RESULT", "");
		verdict_var(v, "SPF_EXPLANATION", "");
		return 0;
	}
	if (sp->m->check(sp->h, ip, helo, sender, &a, err) == -1)
		return -1;
	buf_init(&field, SPF_FIELD_MAX);
	if (spf_received_spf(&field, a.result, a.comment, ip, sender, helo,
	    sp->receiver, a.problem) == -1) {
		buf_free(&field);
		*err = xasprintf("Received-SPF field too long");
		return -1;
	}
	verdict_field(v, 1, "Received-SPF", field.s);
	verdict_var(v, "SPF_RESULT", a.result);
	verdict_var(v, "SPF_EXPLANATION", a.explanation);
	buf_free(&field);
	return 0;
}

static const char *const spf_vars[] = { "SPF_RESULT", "SPF_EXPLANATION",
	NULL };

const struct filter filter_spf = {
	.name = "spf",
	.prefix = "SPF",
	.fail_closed = 0,
	.vars = spf_vars,
	.open = spf_open,
	.run = spf_run,
	.close = spf_close,
};

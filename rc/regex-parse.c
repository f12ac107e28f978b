/*
 * regex-parse.c - procmail 3.22's regex dialect (and, with
 * RC_RE_EXTENDED, TRE's {n,m}, {~...}, [[:class:]], \w \s \d) parsed
 * into the small tree of regex-int.h; procmail's keywords (^TO_, ^TO,
 * ^FROM_DAEMON, ^FROM_MAILER) expanded first.
 * Does: sets over the bytes and the two imagined newlines, the tree,
 * procmail's leniencies (a second operator is a literal, an unterminated
 * class ends with the pattern), the limits that keep TRE safe.
 * Does not: compile, search.
 */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../lda/buf.h"
#include "../lda/xalloc.h"
#include "regex-int.h"

/* ---- sets ---- */

/* rx_set_add - put symbol c in s */
static void
rx_set_add(struct rx_set *s, unsigned c)
{
	s->w[c / 32] |= UINT32_C(1) << (c % 32);
}

/* rx_set_mark - add byte c, and its other case when icase (procmail's bseti) */
static void
rx_set_mark(struct rx_set *s, unsigned c, int icase)
{
	rx_set_add(s, c);
	if (icase && c >= 'A' && c <= 'Z')
		rx_set_add(s, c + 'a' - 'A');
	else if (icase && c >= 'a' && c <= 'z')
		rx_set_add(s, c - 'a' + 'A');
}

/* rx_set_invert - the bytes not in s (the imagined newlines untouched) */
static void
rx_set_invert(struct rx_set *s)
{
	for (unsigned i = 0; i < 256 / 32; i++)
		s->w[i] = ~s->w[i];
}

/* rx_set_newlines - the imagined newlines are in s exactly when '\n' is */
static void
rx_set_newlines(struct rx_set *s)
{
	if (rx_set_has(s, '\n')) {
		rx_set_add(s, RX_BOT);
		rx_set_add(s, RX_EOT);
	}
}

/* ---- parsing ---- */

/* rx_fail - record the first error; returns -1 */
static int
rx_fail(struct rx_parse *ps, const char *what)
{
	if (ps->err == NULL)
		ps->err = xasprintf("%s at offset %zu", what,
		    (size_t)(ps->p - ps->s));
	return -1;
}

/* rx_new - a new node of kind k; returns its index */
static int
rx_new(struct rx_parse *ps, enum rx_kind k)
{
	struct rx_node *n;

	if (ps->nnode == ps->capnode) {
		ps->capnode = ps->capnode ? 2 * ps->capnode : 64;
		ps->node = xreallocarray(ps->node, ps->capnode,
		    sizeof *ps->node);
	}
	n = &ps->node[ps->nnode];
	memset(n, 0, sizeof *n);
	n->kind = k;
	n->kid = n->next = -1;
	return (int)ps->nnode++;
}

/* rx_newset - a node matching one symbol of a new, empty set */
static int
rx_newset(struct rx_parse *ps, struct rx_set **s_r)
{
	int n = rx_new(ps, RX_SET);

	if (ps->nset == ps->capset) {
		ps->capset = ps->capset ? 2 * ps->capset : 16;
		ps->set = xreallocarray(ps->set, ps->capset, sizeof *ps->set);
	}
	memset(&ps->set[ps->nset], 0, sizeof *ps->set);
	ps->node[n].set = (int)ps->nset;
	*s_r = &ps->set[ps->nset++];
	return n;
}

/*
 * rx_sameset - a node for the set known by key (a byte's literal, 256
 * the dot, 257 a newline, 258 a non-word character): the set made for
 * it before, or a new one that *s_r points to (else it is NULL). The
 * pattern's letters repeat; their sets need not.
 */
static int
rx_sameset(struct rx_parse *ps, unsigned key, struct rx_set **s_r)
{
	int n;

	if (ps->known[key] != 0) {
		n = rx_new(ps, RX_SET);
		ps->node[n].set = ps->known[key] - 1;
		*s_r = NULL;
		return n;
	}
	n = rx_newset(ps, s_r);
	ps->known[key] = ps->node[n].set + 1;
	return n;
}

/* rx_literal - a node for byte c (both cases when ignoring case) */
static int
rx_literal(struct rx_parse *ps, unsigned c)
{
	struct rx_set *s;
	int n = rx_sameset(ps, c, &s);

	if (s != NULL) {
		rx_set_mark(s, c, ps->icase);
		rx_set_newlines(s);
	}
	return n;
}

/* rx_dot - . matches anything but a newline */
static int
rx_dot(struct rx_parse *ps)
{
	struct rx_set *s;
	int n = rx_sameset(ps, 256, &s);

	if (s != NULL) {
		rx_set_add(s, '\n');
		rx_set_invert(s);
	}
	return n;
}

/* rx_newline - ^ or $: a newline, real or imagined */
static int
rx_newline(struct rx_parse *ps)
{
	struct rx_set *s;
	int n = rx_sameset(ps, 257, &s);

	if (s != NULL) {
		rx_set_add(s, '\n');
		rx_set_newlines(s);
	}
	return n;
}

/* rx_word - whether byte c is a word character ([a-zA-Z0-9_]) */
static int
rx_word(unsigned c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_';
}

/* rx_nonword - \< and \>: a non-word character, newlines included */
static int
rx_nonword(struct rx_parse *ps)
{
	struct rx_set *s;
	int n = rx_sameset(ps, 258, &s);

	if (s == NULL)
		return n;
	for (unsigned c = 0; c < 256; c++)
		if (!rx_word(c))
			rx_set_add(s, c);
	rx_set_newlines(s);
	return n;
}

/* rx_ctype - whether C-locale class name (alpha, digit, ...) holds
   byte c; -1 when there is no such class */
static int
rx_ctype(const char *name, size_t len, unsigned c)
{
	static const char *const names[] = { "alpha", "digit", "alnum",
	    "upper", "lower", "space", "blank", "punct", "print", "graph",
	    "cntrl", "xdigit" };
	int up = c >= 'A' && c <= 'Z', lo = c >= 'a' && c <= 'z';
	int di = c >= '0' && c <= '9', gr = c > 32 && c < 127;
	int v[] = { up || lo, di, up || lo || di, up, lo,
	    c == ' ' || (c >= '\t' && c <= '\r'), c == ' ' || c == '\t',
	    gr && !up && !lo && !di, gr || c == ' ', gr, c < 32 || c == 127,
	    di || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') };

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strlen(names[i]) == len && memcmp(names[i], name, len) == 0)
			return v[i];
	return -1;
}

/* rx_named - [:name:] inside a class (RC_RE_EXTENDED); p is after the [ */
static int
rx_named(struct rx_parse *ps, struct rx_set *s)
{
	const char *name = ps->p + 1, *e = name;

	while (e + 1 < ps->end && !(e[0] == ':' && e[1] == ']'))
		e++;
	if (e + 1 >= ps->end || rx_ctype(name, (size_t)(e - name), 0) < 0)
		return rx_fail(ps, "unknown character class");
	for (unsigned c = 0; c < 256; c++)
		if (rx_ctype(name, (size_t)(e - name), c))
			rx_set_mark(s, c, ps->icase);
	ps->p = e + 2;
	return 0;
}

/* rx_members - a class's members up to ] (or the pattern's end) */
static int
rx_members(struct rx_parse *ps, struct rx_set *s)
{
	unsigned prev = UINT_MAX;

	/* A ] or - right at the start is literal. */
	if (ps->p < ps->end && (*ps->p == ']' || *ps->p == '-'))
		rx_set_mark(s, prev = (unsigned char)*ps->p++, ps->icase);
	while (ps->p < ps->end && *ps->p != ']') {
		unsigned c = (unsigned char)*ps->p++;
		if (ps->ext && c == '[' && ps->p < ps->end && *ps->p == ':') {
			if (rx_named(ps, s) == -1)
				return -1;
			prev = UINT_MAX;
			continue;
		}
		/* A range runs on from the last character, as procmail's. */
		if (c == '-' && prev != UINT_MAX && ps->p < ps->end &&
		    *ps->p != ']') {
			c = (unsigned char)*ps->p++;
			for (unsigned i = prev + 1; i < c; i++)
				rx_set_mark(s, i, ps->icase);
		}
		rx_set_mark(s, c, ps->icase);
		prev = c;
	}
	if (ps->p < ps->end)
		ps->p++;
	return 0;
}

/*
 * rx_class - [...] as procmail reads it: backslash is literal, an
 * unterminated class ends with the pattern, and a negated class never
 * matches a newline. p is after the [.
 */
static int
rx_class(struct rx_parse *ps)
{
	struct rx_set s, *sp;
	int neg = 0, n;

	memset(&s, 0, sizeof s);
	if (ps->p < ps->end && *ps->p == '^') {
		neg = 1;
		ps->p++;
	}
	if (rx_members(ps, &s) == -1)
		return -1;
	if (neg) {
		rx_set_invert(&s);
		s.w['\n' / 32] &= ~(UINT32_C(1) << ('\n' % 32));
	}
	rx_set_newlines(&s);
	n = rx_newset(ps, &sp);
	*sp = s;
	return n;
}

/* rx_perl - \w \W \s \S \d \D (RC_RE_EXTENDED), as TRE means them */
static int
rx_perl(struct rx_parse *ps, unsigned c)
{
	const char *name = (c | 32) == 'w' ? "alnum" :
	    (c | 32) == 's' ? "space" : "digit";
	struct rx_set *s;
	int n = rx_newset(ps, &s);

	for (unsigned b = 0; b < 256; b++)
		if (rx_ctype(name, strlen(name), b) ||
		    ((c | 32) == 'w' && b == '_'))
			rx_set_add(s, b);
	if (c >= 'A' && c <= 'Z')
		rx_set_invert(s);
	rx_set_newlines(s);
	return n;
}

/* rx_escape - backslash: \/ splits, \< \> are non-word characters, and
   anything else is itself (a trailing backslash too) */
static int
rx_escape(struct rx_parse *ps)
{
	unsigned c;

	if (++ps->p == ps->end)
		return rx_literal(ps, '\\');
	c = (unsigned char)*ps->p++;
	if (c == '/') {
		ps->bom = 1;
		return rx_new(ps, RX_BOM);
	}
	if (c == '<' || c == '>')
		return rx_nonword(ps);
	if (ps->ext && c != 0 && strchr("wWsSdD", (int)c) != NULL)
		return rx_perl(ps, c);
	return rx_literal(ps, c);
}

static int rx_alt(struct rx_parse *ps);

/*
 * rx_recover - procmail's way with unbalanced parentheses: it logs
 * "Invalid regexp" and uses the pattern all the same (a ( without ) is
 * closed at the end of the pattern, a ) without ( ends it). The first
 * such place is kept for the caller to warn about (rc_regex_warning).
 */
static void
rx_recover(struct rx_parse *ps, const char *at, const char *what)
{
	if (ps->warn == NULL)
		ps->warn = xasprintf("%s at offset %zu %s", what,
		    (size_t)(at - ps->s), *at == '(' ? "(procmail closes it "
		    "at the end of the pattern)" : "(procmail ignores the "
		    "rest of the pattern)");
}

/* rx_group - ( alternatives ); p is at the ( */
static int
rx_group(struct rx_parse *ps)
{
	const char *open = ps->p++;
	int g;

	if (++ps->depth > RX_DEPTH_MAX)
		return rx_fail(ps, "groups nested too deeply");
	if ((g = rx_alt(ps)) == -1)
		return -1;
	if (ps->p == ps->end)
		rx_recover(ps, open, "missing ) for the (");
	else
		ps->p++;
	ps->depth--;
	return g;
}

/* rx_atom - one atom; *, + and ? where an atom is due are literal */
static int
rx_atom(struct rx_parse *ps)
{
	unsigned c = (unsigned char)*ps->p;

	switch (c) {
	case '(':
		return rx_group(ps);
	case '[':
		ps->p++;
		return rx_class(ps);
	case '.':
		ps->p++;
		return rx_dot(ps);
	case '\\':
		return rx_escape(ps);
	case '^':
		if (ps->p + 1 < ps->end && ps->p[1] == '^') {
			ps->p += 2;
			return rx_new(ps, RX_ANCHOR);
		}
		/* FALLTHROUGH */
	case '$':
		ps->p++;
		return rx_newline(ps);
	}
	ps->p++;
	return rx_literal(ps, c);
}

/* rx_wrap - a new node of kind k around node a */
static int
rx_wrap(struct rx_parse *ps, enum rx_kind k, int a)
{
	int n = rx_new(ps, k);

	ps->node[n].kid = a;
	return n;
}

/* rx_bound - "n", "n,", ",m" or "n,m" of {n,m}; 0 or -1 */
static int
rx_bound(struct rx_parse *ps, int n, const char *s, const char *e)
{
	long lo = 0, hi;
	char *x;

	if (s < e && *s != ',')
		lo = strtol(s, &x, 10), s = x;
	hi = lo;
	if (s < e && *s == ',') {
		hi = -1;
		if (++s < e)
			hi = strtol(s, &x, 10), s = x;
	}
	if (s != e || lo > RE_DUP_MAX || hi > RE_DUP_MAX ||
	    (hi >= 0 && hi < lo))
		return rx_fail(ps, "invalid {n,m}");
	ps->node[n].min = (int)lo;
	ps->node[n].max = (int)hi;
	return 0;
}

/* rx_has - whether the tree under node n holds a node of kind k */
static int
rx_has(const struct rx_parse *ps, int n, enum rx_kind k)
{
	if (ps->node[n].kind == k)
		return 1;
	for (int c = ps->node[n].kid; c != -1; c = ps->node[c].next)
		if (rx_has(ps, c, k))
			return 1;
	return 0;
}

/* rx_brace - {n,m} or TRE's approximate {~...} after atom a (extended) */
static int
rx_brace(struct rx_parse *ps, int a)
{
	const char *s = ps->p + 1, *e = s;
	int n;

	while (e < ps->end && *e != '}' &&
	    strchr("0123456789,~+-#<=ids \t", *e) != NULL)
		e++;
	if (e == ps->end || *e != '}' || e == s)
		return rx_fail(ps, "invalid {...}");
	if (strspn(s, "0123456789,") >= (size_t)(e - s)) {
		/* TRE 0.8.0 crashes compiling (a{~1}){2}. */
		if (rx_has(ps, a, RX_FUZZ))
			return rx_fail(ps, "{n,m} around approximate matching");
		ps->p = e + 1;
		n = rx_wrap(ps, RX_REP, a);
		return rx_bound(ps, n, s, e) == -1 ? -1 : n;
	}
	/* TRE 0.8.0 crashes matching b{~1}(x{~1})?{~1}y{~1}. */
	if (rx_has(ps, a, RX_FUZZ))
		return rx_fail(ps, "approximate matching inside another");
	/* TRE 0.8.0 overruns its stack matching a{~1}b{~1}c{~1}d{~1}e (and
	   see rx_parse_all). */
	if (ps->fuzz == RX_FUZZ_OPS)
		return rx_fail(ps, "more than " RX_STR(RX_FUZZ_OPS)
		    " approximate {~...} in one pattern");
	ps->p = e + 1;
	n = rx_wrap(ps, RX_FUZZ, a);
	ps->node[n].off = (size_t)(s - ps->s);
	ps->node[n].len = (size_t)(e - s);
	ps->fuzz++;
	return n;
}

/*
 * rx_postfix - the operators after atom a. Procmail takes one; a second
 * is an atom of its own, a literal (so "a**" is a* then '*'). With
 * RC_RE_EXTENDED they stack, and {n,m} / {~...} are operators too.
 */
static int
rx_postfix(struct rx_parse *ps, int a)
{
	for (int k = 0; ps->p < ps->end; k++) {
		enum rx_kind kind;
		if (k == 1 && !ps->ext)
			break;
		if (k == RX_OPS_MAX)
			return rx_fail(ps, "too many operators in a row");
		switch (*ps->p) {
		case '*': kind = RX_STAR; break;
		case '+': kind = RX_PLUS; break;
		case '?': kind = RX_OPT; break;
		case '{':
			if (!ps->ext)
				return a;
			if ((a = rx_brace(ps, a)) == -1)
				return -1;
			continue;
		default:
			return a;
		}
		ps->p++;
		a = rx_wrap(ps, kind, a);
	}
	return a;
}

/* rx_append - link child c after *last of parent p */
static void
rx_append(struct rx_parse *ps, int p, int *last, int c)
{
	if (*last == -1)
		ps->node[p].kid = c;
	else
		ps->node[*last].next = c;
	*last = c;
}

/* rx_seq - atoms and their operators up to |, ) or the end */
static int
rx_seq(struct rx_parse *ps)
{
	int cat = rx_new(ps, RX_CAT), last = -1;

	while (ps->p < ps->end && *ps->p != '|' && *ps->p != ')') {
		int a = rx_atom(ps);
		if (a == -1 || (a = rx_postfix(ps, a)) == -1)
			return -1;
		rx_append(ps, cat, &last, a);
	}
	return cat;
}

/* rx_alt - alternatives up to ) or the end */
static int
rx_alt(struct rx_parse *ps)
{
	int alt = rx_new(ps, RX_ALT), last = -1;

	for (;;) {
		int seq = rx_seq(ps);
		if (seq == -1)
			return -1;
		rx_append(ps, alt, &last, seq);
		if (ps->p == ps->end || *ps->p != '|')
			break;
		ps->p++;
	}
	return ps->node[alt].kid == last ? last : alt;
}

/*
 * rx_ends - decide each ^^: where nothing follows it up to the end of
 * the pattern it is the end of the text, elsewhere its start. As in
 * procmail, a ? passes the end on to its operand, a * or + does not.
 */
static void
rx_ends(struct rx_parse *ps, int n, int at_end)
{
	struct rx_node *nd = &ps->node[n];

	switch (nd->kind) {
	case RX_ANCHOR:
		nd->kind = RX_SET;
		nd->set = at_end ? RX_SET_EOT : RX_SET_BOT;
		break;
	case RX_CAT:
	case RX_ALT:
		for (int k = nd->kid; k != -1; k = ps->node[k].next)
			rx_ends(ps, k, at_end && (nd->kind == RX_ALT ||
			    ps->node[k].next == -1));
		break;
	case RX_OPT:
		rx_ends(ps, nd->kid, at_end);
		break;
	case RX_STAR:
	case RX_PLUS:
	case RX_REP:
	case RX_FUZZ:
		rx_ends(ps, nd->kid, 0);
		break;
	default:
		break;
	}
}

/* rx_parse_all - the whole pattern; the root node or -1 */
int
rx_parse_all(struct rx_parse *ps)
{
	struct rx_set *s;
	int root;

	rx_newset(ps, &s);
	rx_set_add(s, RX_BOT);
	rx_newset(ps, &s);
	rx_set_add(s, RX_BOT);	/* procmail's EOTEXT falls into BOTEXT */
	rx_set_add(s, RX_EOT);
	if ((root = rx_alt(ps)) == -1)
		return -1;
	if (ps->p != ps->end)
		rx_recover(ps, ps->p, "unmatched )");
	/* TRE 0.8.0 overruns its stack (^TO_{20~}, ^FROM_MAILER{7~},
	   .*{7~}^FROM_DAEMON) or runs for minutes ((a|b1|...|b35){7~}) when
	   a pattern with approximate matching is big. */
	if (ps->fuzz && rx_size(ps, root) > RX_FUZZ_MAX)
		return rx_fail(ps, "approximate matching in a pattern of more "
		    "than " RX_STR(RX_FUZZ_MAX) " positions (a keyword such as "
		    "^TO_ is more)");
	rx_ends(ps, root, 1);
	return root;
}

/* ---- procmail's keywords ---- */

static const struct {
	const char *key, *subst;
} rx_macros[] = {
	/* From procmail 3.22's binary; ^FROM_DAEMON also ignores case. */
	{ "^FROM_DAEMON", "(^(Mailing-List:|Precedence:.*(junk|bulk|list)|"
	  "To: Multiple recipients of |(((Resent-)?(From|Sender)|"
	  "X-Envelope-From):|>?From )([^>]*[^(.%@a-z0-9])?(Post(ma?(st(e?r)?"
	  "|n)|office)|(send)?Mail(er)?|daemon|m(mdf|ajordomo)|n?uucp|"
	  "LIST(SERV|proc)|NETSERV|o(wner|ps)|r(e(quest|sponse)|oot)|"
	  "b(ounce|bs\\.smtp)|echo|mirror|s(erv(ices?|er)|mtp(error)?|ystem)|"
	  "A(dmin(istrator)?|MMGR|utoanswer))(([^).!:a-z0-9][-_a-z0-9]*)?"
	  "[%@>\t ][^<)]*(\\(.*\\).*)?)?$([^>]|$)))" },
	{ "^TO_", "(^((Original-)?(Resent-)?(To|Cc|Bcc)|(X-Envelope|"
	  "Apparently(-Resent)?)-To):(.*[^-a-zA-Z0-9_.])?)" },
	{ "^TO", "(^((Original-)?(Resent-)?(To|Cc|Bcc)|(X-Envelope|"
	  "Apparently(-Resent)?)-To):(.*[^a-zA-Z])?)" },
	{ "^FROM_MAILER", "(^(((Resent-)?(From|Sender)|X-Envelope-From):|"
	  ">?From )([^>]*[^(.%@a-z0-9])?(Post(ma(st(er)?|n)|office)|"
	  "(send)?Mail(er)?|daemon|mmdf|n?uucp|ops|r(esponse|oot)|"
	  "(bbs\\.)?smtp(error)?|s(erv(ices?|er)|ystem)|A(dmin(istrator)?|"
	  "MMGR))(([^).!:a-z0-9][-_a-z0-9]*)?[%@>\t ][^<)]*(\\(.*\\).*)?)?"
	  "$([^>]|$))" },
};

/*
 * rx_expand - procmail's keyword substitution: for each keyword in
 * turn, its first occurrence is replaced unless a backslash precedes it
 * (later occurrences of that keyword are then left alone, as procmail
 * leaves them), and after every replacement the search starts over.
 * Returns 0, or -1 when the result would pass RC_REGEX_MAX.
 */
int
rx_expand(struct buf *b, const char *pattern, int *icase)
{
	size_t i = 0, nm = sizeof rx_macros / sizeof rx_macros[0];

	if (buf_puts(b, pattern) == -1)
		return -1;
	while (i < nm) {
		char *hit = strstr(b->s, rx_macros[i].key), *rest;
		size_t at, klen = strlen(rx_macros[i].key);
		int r;
		if (hit == NULL || (hit > b->s && hit[-1] == '\\')) {
			i++;
			continue;
		}
		at = (size_t)(hit - b->s);
		rest = xstrdup(hit + klen);
		b->len = at;
		b->s[at] = '\0';
		r = buf_puts(b, rx_macros[i].subst) == -1 ||
		    buf_puts(b, rest) == -1;
		free(rest);
		if (r)
			return -1;
		if (i == 0)
			*icase = 1;
		i = 0;
	}
	return 0;
}

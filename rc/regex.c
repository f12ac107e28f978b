/*
 * regex.c - procmail's regular expressions.
 * Does: parse procmail 3.22's dialect (and, on request, TRE's extensions)
 * into a small tree; search memory and the spool with a procmail-style NFA
 * (matches, $MATCH, match counting), after ruling texts out by literals
 * every match holds; compile approximate patterns to TRE (loaded by the
 * first one, lda/dl.h), which searches through a callback. Does not: log,
 * expand variables, back-references.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include <tre/tre.h>

#include "../lda/buf.h"
#include "../lda/dl.h"
#include "../lda/spool.h"
#include "../lda/xalloc.h"
#include "regex.h"

/*
 * Procmail searches a text framed by two newlines it imagines, one before
 * the first byte and one after the last; ^ and $ both match (and consume)
 * a newline, real or imagined, and ^^ matches only the first imagined one
 * or, at the end of a pattern, only the last. Here the imagined newlines
 * are two symbols of their own, RX_BOT and RX_EOT, which every set holding
 * '\n' holds too. A set is over the 256 bytes and these two. TRE sees them
 * as the wide characters 256 and 257; RX_NONE occurs in no text.
 */
#define RX_BOT		256
#define RX_EOT		257
#define RX_NONE		258
#define RX_NSYM		258
#define RX_SETW		((RX_NSYM + 31) / 32)

#ifndef TRE_SONAME
#define TRE_SONAME	"libtre.so.5"
#endif

/* TRE's functions, once tre_load has found them */
static struct {
	__typeof__(tre_regwncomp) *regwncomp;
	__typeof__(tre_reguexec) *reguexec;
	__typeof__(tre_regerror) *regerror;
	__typeof__(tre_regfree) *regfree;
} T;

#define RX_DEPTH_MAX	200		/* nested groups */
#define RX_OPS_MAX	8		/* stacked operators (extended) */
#define RX_PROG_MAX	65536		/* NFA instructions after {n,m} */
#define RX_TRE_MAX	(1024u * 1024)	/* wide characters of TRE pattern */
#define RX_FUZZ_MAX	128		/* rx_size of a pattern with {~...} */
#define RX_FUZZ_OPS	2		/* approximate operators in a pattern */
#define RX_STR_(x)	#x
#define RX_STR(x)	RX_STR_(x)
#define RX_CHUNK	65536		/* spool bytes read at a time */
#define RX_NOSTART	SIZE_MAX	/* a thread that has not crossed \/ */
#define RX_FUZZ_READS	4		/* approximate counting: texts' worth */
#define RX_KNOWN	259		/* rx_sameset's keys */
#define RX_LIT_MAX	32		/* longest required literal kept */
#define RX_LITS		4		/* required literals kept */

struct rx_set {
	uint32_t w[RX_SETW];
};

enum rx_kind {
	RX_SET,		/* one symbol of a set */
	RX_CAT,		/* children in sequence */
	RX_ALT,		/* one of the children */
	RX_STAR, RX_PLUS, RX_OPT,
	RX_REP,		/* {min,max} */
	RX_FUZZ,	/* TRE's approximate {~...}, kept as text */
	RX_BOM,		/* \/ */
	RX_ANCHOR	/* ^^, until rx_ends decides which */
};

struct rx_node {
	enum rx_kind kind;
	int kid;		/* first child, -1 for none */
	int next;		/* next child of the same parent, -1 for none */
	int set;		/* RX_SET: index into the sets */
	int min, max;		/* RX_REP: bounds; max -1 is unbounded */
	size_t off, len;	/* RX_FUZZ: the text between { and } */
};

/* The fixed sets: the two anchors of ^^. The closing one matches where
   the text ends, without taking the closing newline (rx_step); by a quirk
   of procmail's it also takes the opening one. */
#define RX_SET_BOT	0
#define RX_SET_EOT	1

struct rx_parse {
	const char *s, *p, *end;	/* pattern, cursor, end */
	int icase, ext, depth;
	struct rx_node *node;
	size_t nnode, capnode;
	struct rx_set *set;
	size_t nset, capset;
	int bom, fuzz;			/* seen \/, {~...} seen (how many) */
	int known[RX_KNOWN];		/* rx_sameset: 1 + a set, or 0 */
	char *err;
};

enum rx_op { OP_SET, OP_CHAR, OP_SPLIT, OP_JMP, OP_BOM, OP_EOTX,
	OP_MATCH };

struct rx_inst {
	int op;
	int x, y;	/* SET, EOTX: x is the set; CHAR: symbol x or y;
			   SPLIT: x, then y; JMP: x */
};

/* A run of literal bytes, in sequence. */
struct rx_run {
	unsigned char s[RX_LIT_MAX], fold[RX_LIT_MAX];
	size_t n;
};

struct rc_regex {
	regex_t tre;
	int has_tre;		/* tre is compiled (approximate matching) */
	int has_bom;		/* \/ in the pattern */
	int capture;		/* TRE group 1 is MATCH (approximate + \/) */
	struct rx_inst *prog;	/* NULL with approximate matching */
	size_t nprog;
	unsigned char *bomreach; /* per pc: \/ is reachable without input
				    (NULL without \/) */
	struct rx_set *sets;
	size_t nsets;
	struct rx_inst *pair;	/* while compiling: per set, OP_CHAR or not */
	/* Strings every match holds, in the pattern's order (rx_lit_find):
	   bytes, and per byte 0x20 when either case of that letter will do. */
	struct rx_run *lits;
	size_t nlits;
	int exact;		/* the pattern is lits[0], nothing else */
};

/* ---- sets ---- */

/* rx_set_add - put symbol c in s */
static void
rx_set_add(struct rx_set *s, unsigned c)
{
	s->w[c / 32] |= UINT32_C(1) << (c % 32);
}

/* rx_set_has - whether symbol c is in s */
static int
rx_set_has(const struct rx_set *s, unsigned c)
{
	return (s->w[c / 32] >> (c % 32)) & 1;
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
	if (ps->p == ps->end) {
		ps->p = open;
		return rx_fail(ps, "missing ) for the (");
	}
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

static size_t rx_size(const struct rx_parse *ps, int n);

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
static int
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
		return rx_fail(ps, "unmatched )");
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
static int
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

/* ---- the NFA ---- */

/* rx_size - instructions node n compiles to, saturating past the limit */
static size_t
rx_size(const struct rx_parse *ps, int n)
{
	const struct rx_node *nd = &ps->node[n];
	size_t s = 0, k;

	switch (nd->kind) {
	case RX_CAT:
	case RX_ALT:
		for (int c = nd->kid; c != -1; c = ps->node[c].next)
			s += rx_size(ps, c) + 2;
		break;
	case RX_REP:
		k = nd->max > nd->min ? (size_t)nd->max : (size_t)nd->min;
		s = (rx_size(ps, nd->kid) + 2) * (k + 1);
		break;
	case RX_STAR:
	case RX_PLUS:
	case RX_OPT:
	case RX_FUZZ:
		s = rx_size(ps, nd->kid) + 2;
		break;
	default:
		s = 1;
		break;
	}
	return s > RX_PROG_MAX ? RX_PROG_MAX + 1 : s;
}

/* rx_emit - append an instruction; its index */
static int
rx_emit(struct rc_regex *re, int op, int x, int y)
{
	struct rx_inst *i = &re->prog[re->nprog];

	i->op = op;
	i->x = x;
	i->y = y;
	return (int)re->nprog++;
}

static void rx_gen(struct rc_regex *re, const struct rx_parse *ps, int n);

/* rx_patch - point the chain of x (or y) fields starting at i to to */
static void
rx_patch(struct rc_regex *re, int i, int y, int to)
{
	while (i != -1) {
		int *f = y ? &re->prog[i].y : &re->prog[i].x, next = *f;
		*f = to;
		i = next;
	}
}

/*
 * rx_gen_alt - a|b|c: a SPLIT tries each alternative before the next,
 * each JMPs to the end. An empty alternative (not the last) is tried
 * after the ones that follow it, as procmail's "special epsilon" is.
 */
static void
rx_gen_alt(struct rc_regex *re, const struct rx_parse *ps, int n)
{
	int jumps = -1, empties = -1;

	for (int c = ps->node[n].kid; c != -1; c = ps->node[c].next) {
		int split;
		if (ps->node[c].next == -1) {
			rx_gen(re, ps, c);
			break;
		}
		if (ps->node[c].kind == RX_CAT && ps->node[c].kid == -1) {
			empties = rx_emit(re, OP_SPLIT, (int)re->nprog + 1,
			    empties);
			continue;
		}
		split = rx_emit(re, OP_SPLIT, (int)re->nprog + 1, 0);
		rx_gen(re, ps, c);
		/* The JMP's x chains the JMPs to patch below. */
		jumps = rx_emit(re, OP_JMP, jumps, 0);
		re->prog[split].y = (int)re->nprog;
	}
	rx_patch(re, jumps, 0, (int)re->nprog);
	rx_patch(re, empties, 1, (int)re->nprog);
}

/* rx_gen_loop - a* (plus: a+, opt: a?) */
static void
rx_gen_loop(struct rc_regex *re, const struct rx_parse *ps, int kid,
    enum rx_kind k)
{
	int top = (int)re->nprog, split = -1;

	if (k != RX_PLUS)
		split = rx_emit(re, OP_SPLIT, top + 1, 0);
	rx_gen(re, ps, kid);
	if (k == RX_STAR)
		rx_emit(re, OP_JMP, top, 0);
	if (k == RX_PLUS)	/* procmail tries the way on before the loop */
		rx_emit(re, OP_SPLIT, (int)re->nprog + 1, top);
	else
		re->prog[split].y = (int)re->nprog;
}

/* rx_set_pair - whether set s holds one or two symbols (a literal,
   maybe in both cases): *a_r and *b_r (the same when one) */
static int
rx_set_pair(const struct rx_set *s, int *a_r, int *b_r)
{
	int n = 0;

	for (unsigned i = 0; i < RX_SETW; i++) {
		uint32_t w = s->w[i];
		while (w != 0) {
			int c = (int)(i * 32 + (unsigned)__builtin_ctz(w));
			w &= w - 1;
			if (++n > 2)
				return 0;
			if (n == 1)
				*a_r = *b_r = c;
			else
				*b_r = c;
		}
	}
	return n > 0;
}

/* rx_gen - Thompson's construction for node n */
static void
rx_gen(struct rc_regex *re, const struct rx_parse *ps, int n)
{
	const struct rx_node *nd = &ps->node[n];

	switch (nd->kind) {
	case RX_SET:
		if (re->pair[nd->set].op == OP_CHAR)
			rx_emit(re, OP_CHAR, re->pair[nd->set].x,
			    re->pair[nd->set].y);
		else
			rx_emit(re, nd->set == RX_SET_EOT ? OP_EOTX : OP_SET,
			    nd->set, 0);
		break;
	case RX_CAT:
		for (int c = nd->kid; c != -1; c = ps->node[c].next)
			rx_gen(re, ps, c);
		break;
	case RX_ALT:
		rx_gen_alt(re, ps, n);
		break;
	case RX_STAR:
	case RX_PLUS:
	case RX_OPT:
		rx_gen_loop(re, ps, nd->kid, nd->kind);
		break;
	case RX_REP:
		for (int i = 0; i < nd->min; i++)
			rx_gen(re, ps, nd->kid);
		if (nd->max == -1)
			rx_gen_loop(re, ps, nd->kid, RX_STAR);
		for (int i = nd->min; i < nd->max; i++)
			rx_gen_loop(re, ps, nd->kid, RX_OPT);
		break;
	case RX_BOM:
		rx_emit(re, OP_BOM, 0, 0);
		break;
	default:		/* RX_FUZZ never gets here; RX_ANCHOR is gone */
		break;
	}
}

/* ---- the TRE pattern ---- */

struct rx_wbuf {
	wchar_t *w;
	size_t n, cap;
	int over;
	int capture;		/* node opening TRE's group 1, or -1 */
	const struct rx_parse *ps;
};

/* rx_put - append one wide character */
static void
rx_put(struct rx_wbuf *b, unsigned c)
{
	if (b->n + 1 >= RX_TRE_MAX) {
		b->over = 1;
		return;
	}
	if (b->n + 1 >= b->cap) {
		b->cap = b->cap ? 2 * b->cap : 256;
		b->w = xreallocarray(b->w, b->cap, sizeof *b->w);
	}
	b->w[b->n++] = (wchar_t)c;
}

/* rx_puts - append ASCII text */
static void
rx_puts(struct rx_wbuf *b, const char *s)
{
	while (*s)
		rx_put(b, (unsigned char)*s++);
}

/* rx_special - whether c needs care inside a bracket expression */
static int
rx_special(unsigned c)
{
	return c < 128 && c != 0 && strchr("]-^[\\", (int)c) != NULL;
}

/*
 * rx_members_out - the symbols of s (want 1) or of its complement (want
 * 0) as bracket contents: ] first, runs as ranges, then [ \ ^ and - last,
 * so that none of them reads as syntax (and ^ never comes first). Never
 * emits NUL; an empty list becomes a symbol no text has.
 */
static void
rx_members_out(struct rx_wbuf *b, const struct rx_set *s, int want)
{
	int caret = rx_set_has(s, '^') == want;
	int dash = rx_set_has(s, '-') == want;
	size_t n0 = b->n;

	if (rx_set_has(s, ']') == want)
		rx_put(b, ']');
	for (unsigned c = 1; c < RX_NSYM; c++) {
		unsigned e = c;
		if (rx_set_has(s, c) != want || rx_special(c))
			continue;
		while (e + 1 < RX_NSYM && rx_set_has(s, e + 1) == want &&
		    !rx_special(e + 1))
			e++;
		rx_put(b, c);
		if (e > c + 1)
			rx_put(b, '-');
		if (e > c)
			rx_put(b, e);
		c = e;
	}
	if (rx_set_has(s, '[') == want)
		rx_put(b, '[');
	if (rx_set_has(s, '\\') == want)
		rx_put(b, '\\');
	if (caret && dash && b->n == n0) {	/* [-^], not [^-] */
		rx_put(b, '-');
		dash = 0;
	}
	if (caret)
		rx_put(b, '^');
	if (dash)
		rx_put(b, '-');
	if (b->n == n0)
		rx_put(b, RX_NONE);
}

/* rx_set_out - a set as one literal or as a bracket expression; a set
   holding NUL is written as the complement of the rest */
static void
rx_set_out(struct rx_wbuf *b, const struct rx_set *s)
{
	unsigned n = 0, last = RX_NONE;

	for (unsigned c = 0; c < RX_NSYM; c++)
		if (rx_set_has(s, c))
			n++, last = c;
	if (n <= 1 && last != 0) {
		if (last < 128 && strchr(".[]()*+?{}|^$\\", (int)last) != NULL)
			rx_put(b, '\\');
		rx_put(b, last);
		return;
	}
	rx_put(b, '[');
	if (rx_set_has(s, 0))
		rx_put(b, '^');
	rx_members_out(b, s, !rx_set_has(s, 0));
	rx_put(b, ']');
}

static void rx_tre(struct rx_wbuf *b, int n);

/* rx_tre_atom - node n as one TRE atom, grouped unless it is one */
static void
rx_tre_atom(struct rx_wbuf *b, int n)
{
	enum rx_kind k = b->ps->node[n].kind;

	if (k == RX_SET || k == RX_ALT) {
		rx_tre(b, n);
		return;
	}
	rx_puts(b, "(?:");
	rx_tre(b, n);
	rx_put(b, ')');
}

/* rx_tre_op - node n's operator after its operand */
static void
rx_tre_op(struct rx_wbuf *b, const struct rx_node *nd)
{
	const char *src = b->ps->s + nd->off;
	char num[32];

	switch (nd->kind) {
	case RX_STAR: rx_put(b, '*'); break;
	case RX_PLUS: rx_put(b, '+'); break;
	case RX_OPT: rx_put(b, '?'); break;
	case RX_REP:
		if (nd->max == -1)
			snprintf(num, sizeof num, "{%d,}", nd->min);
		else
			snprintf(num, sizeof num, "{%d,%d}", nd->min, nd->max);
		rx_puts(b, num);
		break;
	default:		/* RX_FUZZ: TRE's own syntax, as written */
		rx_put(b, '{');
		for (size_t i = 0; i < nd->len; i++)
			rx_put(b, (unsigned char)src[i]);
		rx_put(b, '}');
		break;
	}
}

/* rx_tre - node n in TRE's extended syntax; \/ opens group 1 when the
   match has to come from TRE (approximate matching) */
static void
rx_tre(struct rx_wbuf *b, int n)
{
	const struct rx_node *nd = &b->ps->node[n];
	int opened = 0;

	switch (nd->kind) {
	case RX_SET:
		rx_set_out(b, &b->ps->set[nd->set]);
		break;
	case RX_CAT:
		if (nd->kid == -1)
			rx_puts(b, "(?:)");
		for (int c = nd->kid; c != -1; c = b->ps->node[c].next) {
			rx_tre(b, c);
			if (c == b->capture)
				rx_put(b, '('), opened = 1;
		}
		if (opened)
			rx_put(b, ')');
		break;
	case RX_ALT:
		rx_puts(b, "(?:");
		for (int c = nd->kid; c != -1; c = b->ps->node[c].next) {
			rx_tre(b, c);
			rx_put(b, b->ps->node[c].next == -1 ? ')' : '|');
		}
		break;
	case RX_BOM:
		break;
	default:
		rx_tre_atom(b, nd->kid);
		rx_tre_op(b, nd);
		break;
	}
}

/* rx_capture - with approximate matching TRE splits at \/: the last \/
   among the top-level items; -1 when \/ is elsewhere */
static int
rx_capture(const struct rx_parse *ps, int root)
{
	int last = -1, n = 0;

	if (ps->node[root].kind == RX_CAT)
		for (int c = ps->node[root].kid; c != -1; c = ps->node[c].next)
			if (ps->node[c].kind == RX_BOM)
				last = c;
	for (size_t i = 0; i < ps->nnode; i++)
		n += ps->node[i].kind == RX_BOM;
	return n > 0 && last == -1 ? -2 : last;
}

/* tre_load - TRE into the process, once; 0 or -1 with *err */
static int
tre_load(char **err)
{
	static int loaded;
	const struct dl_sym syms[] = {
		DL_SYM("tre_regwncomp", T.regwncomp),
		DL_SYM("tre_reguexec", T.reguexec),
		DL_SYM("tre_regerror", T.regerror),
		DL_SYM("tre_regfree", T.regfree),
	};

	if (!loaded && dl_load(TRE_SONAME, syms, sizeof syms / sizeof syms[0],
	    err) == 0)
		loaded = 1;
	return loaded ? 0 : -1;
}

/* rx_tre_compile - compile the tree for TRE; 0 or -1 with *err */
static int
rx_tre_compile(struct rc_regex *re, const struct rx_parse *ps, int root,
    char **err)
{
	struct rx_wbuf b = { .ps = ps, .capture = -1 };
	char msg[128];
	int e;

	if (ps->fuzz && ps->bom) {
		if ((b.capture = rx_capture(ps, root)) == -2) {
			*err = xstrdup("with approximate matching \\/ must "
			    "stand outside ( ) and |");
			return -1;
		}
		re->capture = 1;
	}
	rx_tre(&b, root);
	rx_put(&b, 0);
	if (b.over) {
		free(b.w);
		*err = xstrdup("pattern too large");
		return -1;
	}
	if (tre_load(err) == -1) {
		free(b.w);
		return -1;
	}
	e = T.regwncomp(&re->tre, b.w, b.n - 1, REG_EXTENDED);
	free(b.w);
	if (e != REG_OK) {
		T.regerror(e, &re->tre, msg, sizeof msg);
		*err = xasprintf("%s", msg);
		return -1;
	}
	return 0;
}

/* rx_eps - the i-th move without input out of instruction pc, or -1 */
static int
rx_eps(const struct rx_inst *in, int pc, int i)
{
	switch (in->op) {
	case OP_JMP: return i == 0 ? in->x : -1;
	case OP_SPLIT: return i == 0 ? in->x : i == 1 ? in->y : -1;
	case OP_BOM: return i == 0 ? pc + 1 : -1;
	default: return -1;
	}
}

/*
 * rx_bomreach - mark the instructions from which a \/ can be reached
 * without input (rx_closure skips a part it has already explored, but
 * must still know whether that part would have crossed \/). Repeated
 * passes over the program until nothing changes; a pass in reverse
 * order settles forward edges at once, so few passes are needed.
 */
static void
rx_bomreach(struct rc_regex *re)
{
	int n = (int)re->nprog, changed = 1;

	re->bomreach = xcalloc((size_t)n, 1);
	while (changed) {
		changed = 0;
		for (int pc = n - 1; pc >= 0; pc--) {
			const struct rx_inst *in = &re->prog[pc];
			int r = in->op == OP_BOM;
			for (int i = 0, to; !r && (to = rx_eps(in, pc, i)) >= 0;
			    i++)
				r = re->bomreach[to];
			if (r && !re->bomreach[pc])
				re->bomreach[pc] = 1, changed = 1;
		}
	}
}

/* ---- the required literal ---- */

/*
 * rx_lit_byte - whether set k matches exactly one byte, or both cases of
 * one letter, and nothing else (no newline, real or imagined); *c_r is
 * the byte (lower case when folded), *fold_r 0x20 when folded, else 0.
 * re->pair says which sets hold one or two symbols.
 */
static int
rx_lit_byte(const struct rc_regex *re, int k, unsigned char *c_r,
    unsigned char *fold_r)
{
	const struct rx_inst *p = &re->pair[k];

	if (p->op != OP_CHAR || p->x >= 256 || p->y >= 256 || p->x == '\n')
		return 0;
	if (p->x == p->y) {
		*c_r = (unsigned char)p->x;
		*fold_r = 0;
		return 1;
	}
	/* x < y: a letter in both cases is 'A'..'Z' and +32 */
	if (p->x >= 'A' && p->x <= 'Z' && p->y == p->x + 32) {
		*c_r = (unsigned char)p->y;
		*fold_r = 0x20;
		return 1;
	}
	return 0;
}

/*
 * rx_run_end - the run ends: keep it, in order, unless RX_LITS longer
 * ones are kept already (then the shortest kept makes way)
 */
static void
rx_run_end(struct rx_run *cur, struct rx_run *best, size_t *nbest)
{
	size_t k = 0;

	if (cur->n == 0)
		return;
	if (*nbest == RX_LITS) {
		for (size_t i = 1; i < RX_LITS; i++)
			if (best[i].n < best[k].n)
				k = i;
		if (best[k].n >= cur->n) {
			cur->n = 0;
			return;
		}
		memmove(&best[k], &best[k + 1],
		    (RX_LITS - 1 - k) * sizeof *best);
		(*nbest)--;
	}
	best[(*nbest)++] = *cur;
	cur->n = 0;
}

/*
 * rx_lit_walk - the runs of literal bytes node n must match in sequence
 * in every match: a sequence goes on through its children (\/ takes no
 * text), the operand of + or {n,m} with n >= 1 is required on its own,
 * and anything else (alternatives, optional parts, other sets) ends the
 * run. The runs kept are in best.
 */
static void
rx_lit_walk(const struct rc_regex *re, const struct rx_parse *ps, int n,
    struct rx_run *cur, struct rx_run *best, size_t *nbest)
{
	const struct rx_node *nd = &ps->node[n];
	unsigned char c, f;

	switch (nd->kind) {
	case RX_SET:
		if (!rx_lit_byte(re, nd->set, &c, &f)) {
			rx_run_end(cur, best, nbest);
			break;
		}
		if (cur->n == RX_LIT_MAX)
			rx_run_end(cur, best, nbest);
		cur->s[cur->n] = c;
		cur->fold[cur->n++] = f;
		break;
	case RX_CAT:
		for (int k = nd->kid; k != -1; k = ps->node[k].next)
			rx_lit_walk(re, ps, k, cur, best, nbest);
		break;
	case RX_BOM:
		break;
	case RX_PLUS:
	case RX_REP:
		rx_run_end(cur, best, nbest);
		if (nd->kind == RX_PLUS || nd->min >= 1) {
			rx_lit_walk(re, ps, nd->kid, cur, best, nbest);
			rx_run_end(cur, best, nbest);
		}
		break;
	default:
		rx_run_end(cur, best, nbest);
		break;
	}
}

/* rx_lit_count - the number of literal bytes node n is, when it is a
   literal byte or a sequence of them, else -1 */
static int
rx_lit_count(const struct rc_regex *re, const struct rx_parse *ps, int n)
{
	const struct rx_node *nd = &ps->node[n];
	unsigned char c, f;
	int k = 0;

	if (nd->kind == RX_SET)
		return rx_lit_byte(re, nd->set, &c, &f) ? 1 : -1;
	if (nd->kind != RX_CAT)
		return -1;
	for (int i = nd->kid; i != -1; i = ps->node[i].next) {
		if (ps->node[i].kind != RX_SET ||
		    !rx_lit_byte(re, ps->node[i].set, &c, &f))
			return -1;
		k++;
	}
	return k;
}

/* rx_lit - the literals every match of the tree holds (none with
   approximate matching) */
static void
rx_lit(struct rc_regex *re, const struct rx_parse *ps, int root)
{
	struct rx_run cur, best[RX_LITS];
	size_t n = 0;

	if (ps->fuzz)
		return;
	cur.n = 0;
	rx_lit_walk(re, ps, root, &cur, best, &n);
	rx_run_end(&cur, best, &n);
	re->exact = n == 1 && (size_t)rx_lit_count(re, ps, root) == best[0].n;
	if (n > 0) {
		re->lits = xreallocarray(NULL, n, sizeof *re->lits);
		memcpy(re->lits, best, n * sizeof *best);
		re->nlits = n;
	}
}

/* rx_keep_sets - keep only the sets the NFA's SET and EOTX test (none
   with approximate matching: TRE has its own) */
static void
rx_keep_sets(struct rc_regex *re)
{
	int *map = xreallocarray(NULL, re->nsets ? re->nsets : 1, sizeof *map);
	struct rx_set *kept;
	size_t n = 0;

	for (size_t i = 0; i < re->nsets; i++)
		map[i] = -1;
	for (size_t pc = 0; pc < re->nprog; pc++) {
		struct rx_inst *in = &re->prog[pc];
		if (in->op == OP_SET || in->op == OP_EOTX) {
			if (map[in->x] == -1)
				map[in->x] = (int)n++;
			in->x = map[in->x];
		}
	}
	kept = n ? xreallocarray(NULL, n, sizeof *kept) : NULL;
	for (size_t i = 0; i < re->nsets; i++)
		if (map[i] != -1)
			kept[map[i]] = re->sets[i];
	free(re->sets);
	free(map);
	re->sets = kept;
	re->nsets = n;
}

/* rx_build - the TRE pattern and (unless approximate) the NFA */
static int
rx_build(struct rc_regex *re, struct rx_parse *ps, int root, char **err)
{
	size_t size = rx_size(ps, root);

	if (size > RX_PROG_MAX) {
		*err = xstrdup("pattern too large");
		return -1;
	}
	/* Only approximate patterns need TRE; the rest are searched by
	   procmail's NFA, which needs no costly compiling. */
	if (ps->fuzz) {
		if (rx_tre_compile(re, ps, root, err) == -1)
			return -1;
		re->has_tre = 1;
	}
	re->has_bom = ps->bom;
	re->sets = ps->set;
	re->nsets = ps->nset;
	ps->set = NULL;
	if (!ps->fuzz) {
		/* the sets that are one symbol, or a letter in both cases */
		re->pair = xreallocarray(NULL, re->nsets, sizeof *re->pair);
		for (size_t i = 0; i < re->nsets; i++)
			re->pair[i].op = i != RX_SET_EOT &&
			    rx_set_pair(&re->sets[i], &re->pair[i].x,
			    &re->pair[i].y) ? OP_CHAR : OP_SET;
		rx_lit(re, ps, root);
		re->prog = xreallocarray(NULL, size + 1, sizeof *re->prog);
		rx_gen(re, ps, root);
		free(re->pair);
		re->pair = NULL;
		rx_emit(re, OP_MATCH, 0, 0);
		re->prog = xreallocarray(re->prog, re->nprog, sizeof *re->prog);
		if (re->has_bom)
			rx_bomreach(re);
	}
	rx_keep_sets(re);
	return 0;
}

/* rc_regex_compile - see regex.h */
int
rc_regex_compile(const char *pattern, int flags, struct rc_regex **re_r,
    char **err)
{
	struct rx_parse ps;
	struct rc_regex *re;
	struct buf b;
	int root, icase = (flags & RC_RE_ICASE) != 0, r = -1;

	*re_r = NULL;
	*err = NULL;
	buf_init(&b, RC_REGEX_MAX);
	if (rx_expand(&b, pattern, &icase) == -1) {
		buf_free(&b);
		*err = xasprintf("pattern longer than %u bytes", RC_REGEX_MAX);
		return -1;
	}
	memset(&ps, 0, sizeof ps);
	ps.s = ps.p = b.s;
	ps.end = b.s + b.len;
	ps.icase = icase;
	ps.ext = (flags & RC_RE_EXTENDED) != 0;
	/* about what the pattern needs: fewer reallocations */
	ps.capnode = 2 * b.len + 16;
	ps.node = xreallocarray(NULL, ps.capnode, sizeof *ps.node);
	ps.capset = b.len + 8;
	ps.set = xreallocarray(NULL, ps.capset, sizeof *ps.set);
	re = xcalloc(1, sizeof *re);
	if ((root = rx_parse_all(&ps)) == -1) {
		*err = ps.err;
		ps.err = NULL;
	} else if (rx_build(re, &ps, root, err) == 0) {
		*re_r = re;
		r = 0;
	}
	if (r == -1) {
		if (re->has_tre)
			T.regfree(&re->tre);
		free(re->prog);
		free(re->bomreach);
		free(re->lits);
		free(re->sets);
		free(re);
	}
	free(ps.node);
	free(ps.set);
	free(ps.err);
	buf_free(&b);
	return r;
}

/* ---- reading the text ---- */

/* The text searched: mem, then [from, from + len - memlen) of the spool. */
struct rx_text {
	const char *mem;
	size_t memlen;
	const struct spool *sp;
	off_t from;
	size_t len;
	unsigned char *buf;	/* spool chunk, RX_CHUNK bytes, or NULL */
	size_t boff, blen;	/* text offset of buf[0], bytes in buf */
	int err;		/* errno of a failed read */
	size_t nread;		/* symbols read by all searches so far */
};

/* One pass over the symbols of the text, from some offset on. */
struct rx_reader {
	struct rx_text *t;
	int lead;		/* a symbol before t[pos], or -1 */
	size_t pos;		/* next text offset */
	int eot;		/* RX_EOT is still to come */
	long long base;		/* text offset of the first symbol */
};

/* rx_text_init - the text of an exec; -1 (errno EFBIG) past TRE's int */
static int
rx_text_init(struct rx_text *t, const char *mem, size_t memlen,
    const struct spool *sp, off_t from, off_t to)
{
	memset(t, 0, sizeof *t);
	t->mem = mem;
	t->memlen = mem ? memlen : 0;
	t->sp = sp;
	t->from = from;
	t->len = t->memlen;
	if (sp != NULL && to > from)
		t->len += (size_t)(to - from);
	if (t->len > (size_t)INT_MAX - 8) {
		errno = EFBIG;
		return -1;
	}
	return 0;
}

/* rx_fill - read the spool chunk holding text offset off; 0 or -1 */
static int
rx_fill(struct rx_text *t, size_t off)
{
	size_t want = t->len - off < RX_CHUNK ? t->len - off : RX_CHUNK;
	size_t got = 0;

	/* no chunk is longer than the spool's part of the text */
	if (t->buf == NULL)
		t->buf = xmalloc(t->len - t->memlen < RX_CHUNK ?
		    t->len - t->memlen : RX_CHUNK);
	while (got < want) {
		ssize_t r = spool_pread(t->sp, t->buf + got, want - got,
		    t->from + (off_t)(off + got - t->memlen));
		if (r <= 0) {
			t->err = r == 0 ? EIO : errno;
			return -1;
		}
		got += (size_t)r;
	}
	t->boff = off;
	t->blen = got;
	return 0;
}

/* rx_byte - the text's byte at off; -1 on a read error */
static int
rx_byte(struct rx_text *t, size_t off)
{
	if (off < t->memlen)
		return (unsigned char)t->mem[off];
	if (off < t->boff || off >= t->boff + t->blen || t->blen == 0)
		if (t->err || rx_fill(t, off) == -1)
			return -1;
	return t->buf[off - t->boff];
}

/*
 * rx_reader_init - the symbols procmail searches when it starts at text
 * offset p: the imagined newline first when p is 0; the real newline
 * before p again when p starts a line (so ^ can match it); an imagined
 * one at p when nothing is left; then the text and the closing newline.
 * base is where procmail places the first symbol.
 */
static void
rx_reader_init(struct rx_reader *r, struct rx_text *t, size_t p)
{
	r->t = t;
	r->pos = p;
	r->eot = 1;
	r->lead = -1;
	r->base = (long long)p;
	if (p == 0 || rx_byte(t, p - 1) == '\n') {
		r->lead = p == 0 ? RX_BOT : '\n';
		r->base--;
	} else if (p == t->len) {
		r->lead = '\n';
	}
}

/* rx_next - the next symbol, or -1 at the end or on a read error */
static int
rx_next(struct rx_reader *r)
{
	int c;

	r->t->nread++;
	if (r->lead != -1) {
		c = r->lead;
		r->lead = -1;
		return c;
	}
	if (r->pos < r->t->len)
		return rx_byte(r->t, r->pos++);
	if (r->eot) {
		r->eot = 0;
		return RX_EOT;
	}
	return -1;
}

/* rx_tre_next - TRE's get_next_char: one symbol, nonzero at the end */
static int
rx_tre_next(tre_char_t *c, unsigned int *pos_add, void *ctx)
{
	int sym = rx_next(ctx);

	*pos_add = 1;
	*c = sym < 0 ? 0 : (tre_char_t)sym;
	return sym < 0;
}

/*
 * rx_tre_search - TRE over r's symbols. No back-references are ever
 * compiled, so TRE never asks to rewind or compare. Returns 1 with
 * pm[0..nm) set, 0, or -1 with errno.
 */
static int
rx_tre_search(const struct rc_regex *re, struct rx_reader *r, size_t nm,
    regmatch_t *pm)
{
	tre_str_source src = { rx_tre_next, NULL, NULL, r };
	int e = T.reguexec(&re->tre, &src, nm, pm, 0);

	if (r->t->err) {
		errno = r->t->err;
		return -1;
	}
	if (e == REG_NOMATCH)
		return 0;
	if (e != REG_OK) {
		errno = e == REG_ESPACE ? ENOMEM : EINVAL;
		return -1;
	}
	return 1;
}

/* ---- the required literal in the text ---- */

/* rx_lit_at - whether literal l is at p (l->n bytes there) */
static int
rx_lit_at(const struct rx_run *l, const unsigned char *p)
{
	for (size_t j = 0; j < l->n; j++)
		if ((p[j] | l->fold[j]) != l->s[j])
			return 0;
	return 1;
}

/*
 * rx_lit_seg - whether literal l lies wholly in p[0..n). Candidates come
 * from memchr on its rarest-looking byte (both cases of it when folded).
 */
static int
rx_lit_seg(const struct rx_run *l, const unsigned char *p, size_t n)
{
	size_t k = 0, m = l->n, at;
	int best = -1;
	const unsigned char *e, *q[2];
	unsigned char c[2];

	if (n < m)
		return 0;
	for (size_t j = 0; j < m; j++) {
		unsigned char b = l->s[j];
		int rank = l->fold[j] ? 0 : b == ' ' ? 1 :
		    (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9') ? 2 :
		    b == ':' || b == '-' || b == '.' ? 3 : 4;
		if (rank > best)
			best = rank, k = j;
	}
	c[0] = l->s[k];
	c[1] = l->fold[k] ? (unsigned char)(c[0] - 0x20) : c[0];
	/* the pivot byte can be at p[k .. n - m + k] */
	e = p + (n - m + k) + 1;
	q[0] = memchr(p + k, c[0], (size_t)(e - (p + k)));
	q[1] = c[1] == c[0] ? NULL : memchr(p + k, c[1], (size_t)(e - (p + k)));
	while (q[0] != NULL || q[1] != NULL) {
		int i = q[1] == NULL || (q[0] != NULL && q[0] < q[1]) ? 0 : 1;
		at = (size_t)(q[i] - p) - k;
		if (rx_lit_at(l, p + at))
			return 1;
		q[i]++;
		q[i] = q[i] < e ? memchr(q[i], c[i], (size_t)(e - q[i])) : NULL;
	}
	return 0;
}

/*
 * rx_lit_one - whether the text holds literal l: 1, 0, or -1 on a read
 * error. The spool is read in chunks; a literal across the end of one
 * piece and the start of the next is sought in their joined edges.
 */
static int
rx_lit_one(const struct rx_run *l, struct rx_text *t)
{
	unsigned char edge[2 * RX_LIT_MAX];
	size_t m = l->n, keep = 0, off = 0;

	while (off < t->len) {
		const unsigned char *p;
		size_t n, h;
		if (off < t->memlen) {
			p = (const unsigned char *)t->mem + off;
			n = t->memlen - off;
		} else {
			if (rx_byte(t, off) < 0)
				return -1;
			p = t->buf + (off - t->boff);
			n = t->boff + t->blen - off;
		}
		/* edges: the last m - 1 bytes so far, the first of this piece */
		if (keep > 0) {
			h = n < m - 1 ? n : m - 1;
			memcpy(edge + keep, p, h);
			if (rx_lit_seg(l, edge, keep + h))
				return 1;
		}
		if (rx_lit_seg(l, p, n))
			return 1;
		if (n >= m - 1) {
			keep = m - 1;
			memcpy(edge, p + n - keep, keep);
		} else {
			/* a short piece: the edge grows by it */
			size_t all = keep + n;
			memmove(edge + keep, p, n);
			if (all > m - 1) {
				memmove(edge, edge + all - (m - 1), m - 1);
				all = m - 1;
			}
			keep = all;
		}
		off += n;
	}
	return 0;
}

/*
 * rx_lit_find - whether the text holds all the pattern's required
 * literals (1, also when there are none), 0 when no match is possible,
 * -1 on a read error. The last ones first: a pattern's first words tend
 * to be a field name that every message has.
 */
static int
rx_lit_find(const struct rc_regex *re, struct rx_text *t)
{
	for (size_t i = re->nlits; i-- > 0;) {
		int r = rx_lit_one(&re->lits[i], t);
		if (r != 1)
			return r;
	}
	return 1;
}

/* ---- procmail's matcher, for \/ and counting ---- */

struct rx_thread {
	int pc;
	size_t start;		/* where \/ was crossed, or RX_NOSTART */
};

struct rx_vm {
	const struct rc_regex *re;
	struct rx_thread *cur, *nxt;	/* the last one is processed first */
	size_t ncur, nnxt, left;	/* left: cur[0..left) still to do */
	size_t *seen[2];	/* per pc and found: step it was explored */
	size_t *low[2];		/* ... with the lowest start so far */
	size_t *inxt;		/* per SET pc: step it entered nxt */
	size_t *slot;		/* ... at this index */
	int *stack;
	size_t nstack, capstack;
	size_t step;
	size_t pend;		/* \/ crossed here or later does not count */
	int found, stop, crossed;
	size_t bom, eom;	/* the match, in the reader's symbols */
};

/* rx_push - push pc on the closure stack */
static void
rx_push(struct rx_vm *vm, int pc)
{
	if (vm->nstack == vm->capstack) {
		vm->capstack = vm->capstack ? 2 * vm->capstack : 64;
		vm->stack = xreallocarray(vm->stack, vm->capstack,
		    sizeof *vm->stack);
	}
	vm->stack[vm->nstack++] = pc;
}

/* rx_clean - procmail's cleantail on a list: drop the threads that
   crossed \/ after bom, and reverse the order of the rest (as its list
   walk does); returns the new length */
static size_t
rx_clean(struct rx_thread *t, size_t n, size_t bom)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (t[i].start <= bom)
			t[k++] = t[i];
	for (size_t i = 0; i < k / 2; i++) {
		struct rx_thread x = t[i];
		t[i] = t[k - 1 - i];
		t[k - 1 - i] = x;
	}
	return k;
}

/*
 * rx_fin - a thread reached the end of the pattern at pos. Without \/
 * crossed, procmail stops at once: the earliest end of any match. With
 * it, the match is fixed (or grows); threads that crossed \/ later are
 * dropped and no new ones start.
 */
static void
rx_fin(struct rx_vm *vm, size_t start, size_t pos)
{
	if (start == RX_NOSTART) {
		vm->found = vm->stop = 1;
		vm->crossed = 0;
		vm->eom = pos;
		return;
	}
	vm->found = vm->crossed = 1;
	vm->bom = start;
	vm->eom = pos;
	vm->left = rx_clean(vm->cur, vm->left, start);
	vm->nnxt = rx_clean(vm->nxt, vm->nnxt, start);
	for (size_t i = 0; i < vm->nnxt; i++)
		vm->slot[vm->nxt[i].pc] = i;
}

/* rx_keep - a SET state that matched enters nxt, or lowers the start of
   the one there (procmail: the earlier \/ wins) */
static void
rx_keep(struct rx_vm *vm, int pc, size_t start)
{
	if (vm->inxt[pc] == vm->step && vm->slot[pc] < vm->nnxt &&
	    vm->nxt[vm->slot[pc]].pc == pc) {
		if (start < vm->nxt[vm->slot[pc]].start)
			vm->nxt[vm->slot[pc]].start = start;
		return;
	}
	vm->inxt[pc] = vm->step;
	vm->slot[pc] = vm->nnxt;
	vm->nxt[vm->nnxt].pc = pc;
	vm->nxt[vm->nnxt++].start = start;
}

/* rx_seen - whether pc was explored in this step with a start no higher
   (exploring it again could only add worse states); else note it */
static int
rx_seen(struct rx_vm *vm, int pc, size_t start)
{
	int f = vm->found;

	if (vm->seen[f][pc] == vm->step && vm->low[f][pc] <= start)
		return 1;
	vm->seen[f][pc] = vm->step;
	vm->low[f][pc] = start;
	return 0;
}

/* rx_test - instruction in meets symbol sym at pos during a closure */
static void
rx_test(struct rx_vm *vm, int pc, size_t start, int sym, size_t pos)
{
	const struct rx_inst *in = &vm->re->prog[pc];

	/* The closing ^^ is the end of the pattern when the closing newline
	   is due; elsewhere it is procmail's BOTEXT (rx_parse_all). */
	if (in->op == OP_CHAR) {
		if (sym == in->x || sym == in->y)
			rx_keep(vm, pc, start);
	} else if (in->op == OP_EOTX && sym == RX_EOT)
		rx_fin(vm, start, pos);
	else if (sym >= 0 && rx_set_has(&vm->re->sets[in->x], (unsigned)sym))
		rx_keep(vm, pc, start);
}

/*
 * rx_closure - explore one thread at pos, as procmail's bregexec does:
 * depth first, in procmail's order, carrying one start along, testing
 * each state that takes a symbol against sym. Crossing \/ sets the start
 * (unless the match is fixed, or the closing newline is past), and the
 * branches explored after that keep the new start though they did not
 * cross \/ themselves: how "a+\/b*" gives MATCH "aabb" on "aaabb", the
 * quirk behind procmail's "some non-optimal regexps set MATCH to an
 * incorrect value".
 */
static void
rx_closure(struct rx_vm *vm, int pc, size_t start, int sym, size_t pos)
{
	size_t here = pos < vm->pend ? pos : RX_NOSTART;

	rx_push(vm, pc);
	while (vm->nstack > 0 && !vm->stop) {
		const struct rx_inst *in;
		pc = vm->stack[--vm->nstack];
		if (rx_seen(vm, pc, start)) {
			if (!vm->found && vm->re->bomreach != NULL &&
			    vm->re->bomreach[pc])
				start = here;
			continue;
		}
		in = &vm->re->prog[pc];
		switch (in->op) {
		case OP_JMP: rx_push(vm, in->x); break;
		case OP_SPLIT:
			rx_push(vm, in->y);
			rx_push(vm, in->x);
			break;
		case OP_BOM:
			if (!vm->found)
				start = here;
			rx_push(vm, pc + 1);
			break;
		case OP_MATCH: rx_fin(vm, start, pos); break;
		default: rx_test(vm, pc, start, sym, pos); break;
		}
	}
	vm->nstack = 0;
}

/*
 * rx_step - the symbol sym at pos (-1: the step after the last one, which
 * only finds matches that ended there): a new thread first while no match
 * is fixed, then the threads of the last step, the last one first, as
 * procmail's lists go. What takes sym goes on in nxt.
 */
static void
rx_step(struct rx_vm *vm, int sym, size_t pos)
{
	struct rx_thread *t, th;

	vm->step++;
	vm->nnxt = 0;
	vm->left = vm->ncur;
	if (!vm->found)
		rx_closure(vm, 0, RX_NOSTART, sym, pos);
	while (vm->left > 0 && !vm->stop) {
		th = vm->cur[--vm->left];
		rx_closure(vm, th.pc + 1, th.start, sym, pos);
	}
	vm->ncur = vm->nnxt;
	t = vm->cur;
	vm->cur = vm->nxt;
	vm->nxt = t;
}

/*
 * rx_vm_run - procmail's bregexec over r's symbols: threads start at
 * every symbol until a match is fixed, then the match grows while
 * threads that crossed \/ no later than it live. Returns 1 with
 * bom/eom/crossed set, 0, or -1 on a read error.
 */
static int
rx_vm_run(struct rx_vm *vm, struct rx_reader *r)
{
	size_t pos = 0;
	int sym = 0;

	while (!vm->stop && (vm->ncur > 0 || !vm->found) && sym >= 0) {
		sym = rx_next(r);
		rx_step(vm, sym, pos++);
	}
	if (r->t->err) {
		errno = r->t->err;
		return -1;
	}
	return vm->found;
}

/* rx_vm_find - run the matcher on r's symbols; see rx_vm_run */
static int
rx_vm_find(const struct rc_regex *re, struct rx_reader *r, size_t *bom_r,
    size_t *eom_r, int *crossed_r)
{
	struct rx_vm vm;
	size_t n = re->nprog;
	int found;

	memset(&vm, 0, sizeof vm);
	vm.re = re;
	vm.pend = (size_t)((long long)r->t->len + 1 - r->base);
	vm.cur = xreallocarray(NULL, n, sizeof *vm.cur);
	vm.nxt = xreallocarray(NULL, n, sizeof *vm.nxt);
	for (int f = 0; f < 2; f++) {
		vm.seen[f] = xcalloc(n, sizeof *vm.seen[f]);
		vm.low[f] = xreallocarray(NULL, n, sizeof *vm.low[f]);
	}
	vm.inxt = xcalloc(n, sizeof *vm.inxt);
	vm.slot = xreallocarray(NULL, n, sizeof *vm.slot);
	found = rx_vm_run(&vm, r);
	*bom_r = vm.bom;
	*eom_r = vm.eom;
	*crossed_r = vm.crossed;
	free(vm.cur);
	free(vm.nxt);
	for (int f = 0; f < 2; f++) {
		free(vm.seen[f]);
		free(vm.low[f]);
	}
	free(vm.inxt);
	free(vm.slot);
	free(vm.stack);
	return found;
}

/* ---- searching ---- */

/* A match, as text offsets. */
struct rx_found {
	size_t bom, eom;	/* $MATCH, clipped to the text */
	int crossed;		/* the match crossed \/: bom/eom are set */
	long long end;		/* where procmail's next search starts: the
				   end of $MATCH, or else one past the match,
				   which is past the text when it took the
				   closing newline */
};

/* rx_clip - symbol k of r as a text offset within [0, len] */
static size_t
rx_clip(const struct rx_reader *r, size_t k)
{
	long long off = r->base + (long long)k;

	if (off < 0)
		return 0;
	return off > (long long)r->t->len ? r->t->len : (size_t)off;
}

/*
 * rx_find - search from text offset p. Procmail's NFA says whether there
 * is a match and where, in one pass that stops where procmail's does (it
 * needs no costly compiling, and TRE's leftmost-longest search would read
 * on, over and over when counting); approximate patterns have only TRE.
 * locate: f is wanted. Returns 1 with f set, 0, or -1.
 */
static int
rx_find(const struct rc_regex *re, struct rx_text *t, size_t p, int locate,
    struct rx_found *f)
{
	struct rx_reader r, again;
	regmatch_t pm[2];
	size_t bom, eom, nm;
	int rc;

	memset(f, 0, sizeof *f);
	rx_reader_init(&r, t, p);
	again = r;
	if (re->prog != NULL) {
		if ((rc = rx_vm_find(re, &r, &bom, &eom, &f->crossed)) != 1)
			return rc;
		f->bom = rx_clip(&again, bom);
		f->eom = rx_clip(&again, eom);
		f->end = f->crossed ? (long long)f->eom :
		    again.base + (long long)eom;
		return 1;
	}
	/* TRE's approximate matcher can answer differently with and without
	   submatches (0.8.0), so it is always asked the same way. */
	nm = 1 + (size_t)re->capture;
	rc = rx_tre_search(re, &r, nm, pm);
	if (rc != 1 || !locate)
		return rc;
	f->crossed = re->capture && pm[1].rm_so >= 0;
	if (f->crossed) {
		f->bom = rx_clip(&again, (size_t)pm[1].rm_so);
		f->eom = rx_clip(&again, (size_t)pm[1].rm_eo);
	}
	f->end = f->crossed ? (long long)f->eom : again.base + pm[0].rm_eo;
	return 1;
}

/* rx_copy - text bytes [from, to) onto b, up to its cap */
static void
rx_copy(struct rx_text *t, size_t from, size_t to, struct buf *b)
{
	size_t room = b->max - b->len;

	if (to < from)
		return;
	if (to - from > room)
		to = from + room;
	while (from < to) {
		size_t n;
		if (from < t->memlen) {
			n = (to < t->memlen ? to : t->memlen) - from;
			buf_append(b, t->mem + from, n);
		} else {
			if (rx_byte(t, from) < 0)
				return;
			n = t->boff + t->blen - from;
			if (n > to - from)
				n = to - from;
			buf_append(b, t->buf + (from - t->boff), n);
		}
		from += n;
	}
}

/* rc_regex_exec - see regex.h */
int
rc_regex_exec(const struct rc_regex *re, const char *mem, size_t memlen,
    const struct spool *sp, off_t from, off_t to, struct buf *match_r)
{
	struct rx_text t;
	struct rx_found f;
	int want = re->has_bom && match_r != NULL, rc;

	if (match_r != NULL)
		buf_reset(match_r);
	if (rx_text_init(&t, mem, memlen, sp, from, to) == -1)
		return -1;
	rc = rx_lit_find(re, &t);
	/* a pattern that is one literal matches where it is found */
	if (rc == 1 && !re->exact)
		rc = rx_find(re, &t, 0, want, &f);
	else if (rc == -1)
		errno = t.err;
	if (rc == 1 && want && f.crossed)
		rx_copy(&t, f.bom, f.eom, match_r);
	if (rc == 1 && t.err) {
		errno = t.err;
		rc = -1;
	}
	free(t.buf);
	return rc;
}

/* rc_regex_count - see regex.h */
long
rc_regex_count(const struct rc_regex *re, const char *mem, size_t memlen,
    const struct spool *sp, off_t from, off_t to, long max, int *endless_r)
{
	struct rx_text t;
	struct rx_found f;
	size_t p = 0;
	long n = 0;
	int rc = 0, endless = 0;

	if (rx_text_init(&t, mem, memlen, sp, from, to) == -1)
		return -1;
	if ((rc = rx_lit_find(re, &t)) == 0 && endless_r != NULL)
		*endless_r = 0;
	if (rc != 1) {
		if (rc == -1)
			errno = t.err;
		free(t.buf);
		return rc;
	}
	while (n < max && (rc = rx_find(re, &t, p, 1, &f)) == 1) {
		n++;
		/* procmail's "break off empty": it would match here forever */
		if (f.end <= (long long)p) {
			endless = 1;
			break;
		}
		if (f.end > (long long)t.len)	/* took the closing newline */
			break;
		/*
		 * TRE's approximate matcher reads all of the rest of the text
		 * on every search; a bound on the reading keeps counting
		 * linear (and the count short of the truth on long texts).
		 */
		if (re->prog == NULL &&
		    t.nread / RX_FUZZ_READS > t.len + 2)
			break;
		p = (size_t)f.end;
	}
	free(t.buf);
	if (endless_r != NULL)
		*endless_r = endless;
	return rc < 0 ? -1 : n;
}

/* rc_regex_has_match - see regex.h */
int
rc_regex_has_match(const struct rc_regex *re)
{
	return re->has_bom;
}

/* rc_regex_free - see regex.h */
void
rc_regex_free(struct rc_regex **rep)
{
	struct rc_regex *re = *rep;

	if (re == NULL)
		return;
	if (re->has_tre)
		T.regfree(&re->tre);
	free(re->lits);
	free(re->prog);
	free(re->bomreach);
	free(re->sets);
	free(re);
	*rep = NULL;
}

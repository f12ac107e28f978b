/*
 * regex-tre.c - approximate patterns ({~n}) go to TRE: the tree in TRE's
 * extended syntax (wide characters, the imagined newlines as 256 and
 * 257), TRE loaded by the first one (lda/dl.h), and TRE's search over a
 * reader's symbols through its callback.
 * Does: translate, load, compile, search, free.
 * Does not: parse procmail's dialect, search patterns without {~...}
 * (procmail's NFA does, regex-nfa.c).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include <tre/tre.h>

#include "../lda/dl.h"
#include "../lda/xalloc.h"
#include "regex-int.h"

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
int
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
int
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

/* rx_tre_free - free what rx_tre_compile made (see regex-int.h) */
void
rx_tre_free(regex_t *tre)
{
	T.regfree(tre);
}

/*
 * regex.c - procmail's regular expressions, the interface (regex.h):
 * compile a pattern from its parts, and search with it: does it match,
 * procmail's $MATCH after \/, and the match counting of weighted
 * conditions.
 * Does: tie the parts together - regex-parse.c (the dialect), regex-lit.c
 * (the literal prefilter), regex-nfa.c (procmail's NFA and matcher),
 * regex-tre.c (TRE for approximate patterns), regex-text.c (the text).
 * Does not: log, expand variables, back-references.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../lda/buf.h"
#include "../lda/xalloc.h"
#include "regex-int.h"

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
		rx_nfa_pairs(re);
		rx_lit(re, ps, root);
		rx_nfa_gen(re, ps, root, size);
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
		re->warn = ps.warn;
		ps.warn = NULL;
		*re_r = re;
		r = 0;
	}
	if (r == -1) {
		if (re->has_tre)
			rx_tre_free(&re->tre);
		free(re->prog);
		free(re->bomreach);
		free(re->lits);
		free(re->sets);
		free(re);
	}
	free(ps.node);
	free(ps.set);
	free(ps.err);
	free(ps.warn);
	buf_free(&b);
	return r;
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

/* rc_regex_warning - see regex.h */
const char *
rc_regex_warning(const struct rc_regex *re)
{
	return re->warn;
}

/* rc_regex_free - see regex.h */
void
rc_regex_free(struct rc_regex **rep)
{
	struct rc_regex *re = *rep;

	if (re == NULL)
		return;
	if (re->has_tre)
		rx_tre_free(&re->tre);
	free(re->lits);
	free(re->prog);
	free(re->bomreach);
	free(re->sets);
	free(re->warn);
	free(re);
	*rep = NULL;
}

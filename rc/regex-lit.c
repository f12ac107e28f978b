/*
 * regex-lit.c - the literal prefilter: the runs of bytes every match of a
 * pattern must hold (found in the tree when compiling), sought in the
 * text with memchr before any matcher runs, so that most texts are ruled
 * out at memory speed; a pattern that is one literal needs no matcher.
 * Does: find the literals, search the text (memory and spool chunks,
 * across their edges) for them.
 * Does not: match; approximate patterns have none.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../lda/xalloc.h"
#include "regex-int.h"

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
void
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
int
rx_lit_find(const struct rc_regex *re, struct rx_text *t)
{
	for (size_t i = re->nlits; i-- > 0;) {
		int r = rx_lit_one(&re->lits[i], t);
		if (r != 1)
			return r;
	}
	return 1;
}

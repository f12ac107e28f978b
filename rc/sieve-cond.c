/*
 * sieve-cond.c - a recipe's conditions as one Sieve test for "lda
 * --to-sieve": header regexes per named field (^Name:, ^(A|B):, ^TO_,
 * ^TO, ^FROM_DAEMON, ^FROM_MAILER), \/ as a regex capture, body
 * strings and regexes, "VAR ?? re" on values known when the rc is read,
 * and weighted (scoring) conditions as the combinations that pass.
 * Does: say why a condition has no exact Sieve form. Does not: turn a
 * regex into an ERE (rc/sieve-re.c), translate actions
 * (rc/sieve-action.c) or the A/a/E/e chain (rc/sieve.c).
 */
#include <stdlib.h>
#include <string.h>

#include "../lda/xalloc.h"
#include "rcint.h"
#include "regex.h"
#include "sieve-int.h"

/* ---------------------------------------------------------- conditions */

/* The fields procmail's ^TO_ and ^TO name (rc/regex-parse.c's rx_macros). */
static const char sv_to_fields[] =
    "[\"To\", \"Cc\", \"Bcc\", \"Original-To\", \"Original-Cc\", "
    "\"Original-Bcc\", \"Resent-To\", \"Resent-Cc\", \"Resent-Bcc\", "
    "\"Original-Resent-To\", \"Original-Resent-Cc\", "
    "\"Original-Resent-Bcc\", \"X-Envelope-To\", \"Apparently-To\", "
    "\"Apparently-Resent-To\"]";

/* The blanks after a field's colon, which Sieve's value no longer has. */
static const char *const sv_blanks[] = {
	"[ \t]*", "[\t ]*", "[ ]*", " *", "[ \t]+", "[\t ]+", "[ ]+", " +",
	"[ \t]", "[\t ]", "[ ]", " ", NULL,
};

/* sv_names - "^Name:" or "^(A|B):" at p: the Sieve list of names in
   out, the text after the colon returned; NULL when p is no such form */
static const char *
sv_names(const char *p, struct buf *out)
{
	const char *ok = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-_";
	int paren = p[1] == '(';
	const char *q = p + 1 + paren;

	buf_putc(out, '[');
	for (;;) {
		size_t n = strspn(q, ok);
		if (n == 0)
			return NULL;
		buf_printf(out, "%s\"%.*s\"", out->len > 1 ? ", " : "",
		    (int)n, q);
		q += n;
		if (paren && *q == '|') {
			q++;
			continue;
		}
		break;
	}
	if (paren && *q++ != ')')
		return NULL;
	if (*q != ':')
		return NULL;
	buf_putc(out, ']');
	return q + 1;
}

/* sv_bom - the offset of the \/ of r outside groups and classes; -1
   when there is none, -2 when it stands inside a group */
static long
sv_bom(const char *r)
{
	int depth = 0;

	for (const char *p = r; *p; p++) {
		if (*p == '[') {
			p += 1 + (p[1] == '^');
			p += *p == ']';
			while (*p && *p != ']')
				p++;
			if (*p == '\0')
				break;
		} else if (*p == '\\' && p[1] == '/')
			return depth ? -2 : (long)(p - r);
		else if (*p == '\\' && p[1])
			p++;
		else if (*p == '(')
			depth++;
		else if (*p == ')' && depth)
			depth--;
	}
	return -1;
}

/* sv_atoms - whether p[0..n) is a sequence of single-byte atoms
   (literals, ".", classes) with a repetition at most on the last one
   (tail: also before a final "$"); none at all when !tail */
static int
sv_atoms(const char *p, size_t n, int tail)
{
	const char *end = p + n;

	while (p < end) {
		if (*p == '[') {
			p += 1 + (p[1] == '^');
			p += p < end && *p == ']';
			while (p < end && *p != ']')
				p++;
			if (p == end)
				return 0;
			p++;
		} else if (*p == '\\') {
			if (p + 1 == end || p[1] == '<' || p[1] == '>' ||
			    p[1] == '/')
				return 0;
			p += 2;
		} else if (strchr("|()*+?^", *p) != NULL)
			return 0;
		else if (*p == '$')
			return tail && p + 1 == end;
		else
			p++;
		if (p < end && strchr("*+?", *p) != NULL) {
			if (!tail)
				return 0;
			p++;
			if (!(p == end || (*p == '$' && p + 1 == end)))
				return 0;
		}
	}
	return 1;
}

/* sv_single - p[0..n) is one atom */
static int
sv_single(const char *p, size_t n)
{
	if (n == 0)
		return 0;
	if (*p == '\\')
		return n == 2;
	if (*p == '[') {
		const char *q = p + 1 + (p[1] == '^');
		q += *q == ']';
		while (q < p + n && *q != ']')
			q++;
		return q + 1 == p + n;
	}
	return n == 1;
}

/* sv_capture - r with its \/ at bom as "L(R)" in ere: procmail takes
   the shortest L and then the longest R, which a regex's capture is
   when L has a fixed length and R repeats only its last atom (in
   Cyrus's PCRE as in POSIX) */
static int
sv_capture(struct sv *sv, const char *r, size_t bom, int macro,
    struct buf *ere, int *blank_r, const char **why)
{
	struct buf tail;
	int bl = 0, br = 0;

	if (macro || !sv->cap_ok) {
		*why = "\\/ after ^TO_, in a negated condition, in one of several "
		    "alternatives or before another condition";
		return -1;
	}
	if (!sv_atoms(r, bom, 0)) {
		*why = "the text before \\/ varies in length (procmail takes it "
		    "as short as possible, a regex as long)";
		return -1;
	}
	if (r[bom + 2] == '\0' || !sv_atoms(r + bom + 2, strlen(r + bom + 2),
	    1)) {
		*why = "the text after \\/ is empty, or has alternatives or a "
		    "repetition before its end (Cyrus's PCRE and POSIX capture "
		    "differently)";
		return -1;
	}
	buf_init(&tail, 0);
	if (sv_re_convert(r, bom, 0, ere, &bl, why) == -1 ||
	    sv_re_convert(r + bom + 2, strlen(r + bom + 2), 0, &tail, &br,
	    why) == -1) {
		buf_free(&tail);
		return -1;
	}
	buf_printf(ere, "(%s)", tail.s);
	buf_free(&tail);
	*blank_r = bom ? bl : br;
	sv->captured = 1;
	/* only the last atom repeats: empty when it is the only one and
	   may be absent */
	{
		const char *rt = r + bom + 2, *e = rt + strlen(rt);
		if (e > rt && e[-1] == '$')
			e--;
		sv->cap_empty = e > rt && (e[-1] == '*' || e[-1] == '?') &&
		    sv_atoms(rt, (size_t)(e - rt) - 1, 0) &&
		    sv_single(rt, (size_t)(e - rt) - 1);
	}
	return 0;
}

/* sv_field - one alternative p[0..n) of a header pattern, anchored at a
   named field (or ^TO_ / ^TO), as a Sieve test in t; -1 with *why */
static int
sv_field(struct sv *sv, const char *p, size_t n, struct buf *t,
    const char **why)
{
	struct buf names, ere, q;
	char *alt = xstrndup(p, n);
	const char *r, *pre = "^";
	int anchor = 1, lead = 0, blank = 0, rv = -1, macro = 0;
	long bom;

	buf_init(&names, 0);
	buf_init(&ere, 0);
	buf_init(&q, 0);
	if (strncmp(alt, "^TO_", 4) == 0 || strncmp(alt, "^TO", 3) == 0) {
		int us = alt[3] == '_';
		r = alt + 3 + us;
		macro = 1;
		buf_puts(&names, sv_to_fields);
		buf_puts(&ere, us ? "^(.*[^-a-zA-Z0-9_.])?" :
		    "^(.*[^a-zA-Z])?");
		pre = "";
		lead = 1;
		/* the macro's [^...] never takes the line's newline (a
		   negated class does not in procmail): one field each */
	} else if ((r = sv_names(alt, &names)) == NULL) {
		*why = "a pattern not anchored at a field name (\"^Name:\"): "
		    "procmail searches the whole header as one text, Sieve "
		    "tests named fields";
		goto out;
	} else {
		for (int i = 0; sv_blanks[i]; i++)
			if (strncmp(r, sv_blanks[i], strlen(sv_blanks[i])) == 0) {
				r += strlen(sv_blanks[i]);
				lead = i >= 8 ? 2 : 1;	/* 2: exactly one */
				break;
			}
		if (strncmp(r, ".*", 2) == 0) {
			r += 2;
			anchor = 0;
			pre = "";
		}
	}
	if (*r == '\0' && !macro) {
		buf_printf(t, "exists %s", names.s);
		rv = 0;
		goto out;
	}
	bom = sv_bom(r);
	if (bom == -1) {
		if (sv_re_convert(r, strlen(r), 0, &ere, &blank, why) == -1)
			goto out;
		if (*r == '\0')
			blank = 0;
	} else if (sv_capture(sv, r, (size_t)bom, macro, &ere, &blank,
	    why) == -1)
		goto out;
	/* after exactly one blank, the value's first character follows
	   (one blank after the colon: doc/sieve.md); after "*" or ".*"
	   the pattern may begin in the blanks Sieve removed */
	if (blank && lead == 2 && anchor && strncmp(r, "\\<", 2) != 0)
		blank = 0;
	/* a leading \< takes the blank (or the colon) as its non-word
	   character: the value's start, unless one blank was taken */
	if (strncmp(r, "\\<", 2) == 0 && lead != 2) {
		blank = 0;
		lead = 1;
	}
	if (blank) {
		*why = "the text after the colon may begin with a blank, which "
		    "Sieve's field value has removed";
		goto out;
	}
	if (anchor && !lead) {
		*why = "it matches only a field with no blank after its colon "
		    "(Sieve's field value has the blank removed)";
		goto out;
	}
	buf_printf(&q, "%s%s", pre, ere.s);
	buf_printf(t, "header :regex %s ", names.s);
	if (sv_quote(t, q.s) == -1) {
		*why = "\"${\" or a control character in the pattern";
		goto out;
	}
	sv->ext |= SV_REGEX;
	rv = 0;
out:
	free(alt);
	buf_free(&names);
	buf_free(&ere);
	buf_free(&q);
	return rv;
}

/* The parts of procmail's ^FROM_DAEMON and ^FROM_MAILER (rc/regex-
   parse.c's expansions): the keyword after the sender fields' colon or
   the From_ line's "From ", what may stand before it, what after it to
   the line's end. Procmail's negated classes never take a newline, and
   the expansion's last "$([^>]|$)" (the next line does not begin with
   ">") always holds in a header; so each is one line's test. */
static const char sv_kw_daemon[] =
    "(Post(ma?(st(e?r)?|n)|office)|(send)?Mail(er)?|daemon|m(mdf|"
    "ajordomo)|n?uucp|LIST(SERV|proc)|NETSERV|o(wner|ps)|r(e(quest|"
    "sponse)|oot)|b(ounce|bs\\.smtp)|echo|mirror|s(erv(ices?|er)|"
    "mtp(error)?|ystem)|A(dmin(istrator)?|MMGR|utoanswer))";
static const char sv_kw_mailer[] =
    "(Post(ma(st(er)?|n)|office)|(send)?Mail(er)?|daemon|mmdf|n?uucp|"
    "ops|r(esponse|oot)|(bbs\\.)?smtp(error)?|s(erv(ices?|er)|ystem)|"
    "A(dmin(istrator)?|MMGR))";
static const char sv_kw_before[] = "^([^>]*[^(.%@a-z0-9])?";
static const char sv_kw_after[] =
    "(([^).!:a-z0-9][-_a-z0-9]*)?[%@>\t ][^<)]*(\\(.*\\).*)?)?$";
/* The From_ line lda gives the rc when it runs with -f: "From sender  "
   and a date (rc/rc.c); no keyword, '<' or ')' is in a date. */
static const char sv_from_date[] = "  Thu Jan  1 00:00:00 1970";

/* sv_from_macro - ^FROM_DAEMON (daemon) or ^FROM_MAILER as a test */
static int
sv_from_macro(struct sv *sv, int daemon, struct buf *t, const char **why)
{
	char *re = xasprintf("%s%s%s", sv_kw_before, daemon ? sv_kw_daemon :
	    sv_kw_mailer, sv_kw_after);

	(void)why;
	buf_puts(t, "anyof(");
	if (daemon)
		buf_puts(t, "exists \"Mailing-List\", header :regex "
		    "\"Precedence\" \"(junk|bulk|list)\", header :regex \"To\" "
		    "\"^Multiple recipients of \", ");
	buf_puts(t, "header :regex [\"From\", \"Sender\", \"Resent-From\", "
	    "\"Resent-Sender\", \"X-Envelope-From\"] ");
	sv_quote(t, re);
	buf_printf(t, ", string :regex \"${from_}%s\" ", sv_from_date);
	sv_quote(t, re);
	buf_putc(t, ')');
	free(re);
	sv->ext |= SV_REGEX | SV_VARIABLES | SV_ENVELOPE;
	sv->from_line = 1;
	return 0;
}

/* sv_header - a header condition (procmail's text): each top-level
   alternative is one field test, anyof them */
static int
sv_header(struct sv *sv, const char *p, struct buf *t, const char **why)
{
	size_t starts[64], lens[64], k = 0;
	int depth = 0;
	const char *s = p;

	if (strcmp(p, "^FROM_DAEMON") == 0 || strcmp(p, "^FROM_MAILER") == 0)
		return sv_from_macro(sv, p[6] == 'D', t, why);
	if (strstr(p, "^FROM_DAEMON") || strstr(p, "^FROM_MAILER")) {
		*why = "^FROM_DAEMON / ^FROM_MAILER with more pattern around "
		    "it";
		return -1;
	}
	for (const char *q = p;; q++) {
		if (*q == '\\' && q[1]) {
			q++;
			continue;
		}
		if (*q == '[') {	/* a class: no | or ( counts in it */
			q++;
			if (*q == '^')
				q++;
			if (*q == ']')
				q++;
			while (*q && *q != ']')
				q++;
			if (*q == '\0')
				q--;
			continue;
		}
		if (*q == '(')
			depth++;
		else if (*q == ')' && depth > 0)
			depth--;
		if (*q == '\0' || (*q == '|' && depth == 0)) {
			if (k == 64) {
				*why = "more than 64 alternatives";
				return -1;
			}
			starts[k] = (size_t)(s - p);
			lens[k++] = (size_t)(q - s);
			s = q + 1;
			if (*q == '\0')
				break;
		}
	}
	if (k > 1) {
		buf_puts(t, "anyof(");
		sv->cap_ok = 0;
	}
	for (size_t i = 0; i < k; i++) {
		if (i)
			buf_puts(t, ", ");
		if (sv_field(sv, p + starts[i], lens[i], t, why) == -1)
			return -1;
	}
	if (k > 1)
		buf_putc(t, ')');
	return 0;
}

/* sv_varcond - "VAR ?? regex" on a variable known when the rc is read:
   decided now, by lda's own matcher */
static int
sv_varcond(struct sv *sv, const struct rc_cond *c, unsigned flags,
    struct buf *t, const char **why)
{
	const char *v = sv_get(sv, c->area);
	struct rc_regex *re = NULL;
	char *err = NULL;
	int r;

	if (v == NULL || strcmp(c->area, "MATCH") == 0) {
		*why = "a condition on a variable only known when a message "
		    "arrives";
		return -1;
	}
	if (rc_regex_compile(c->text, (flags & RC_F_D) ? 0 : RC_RE_ICASE, &re,
	    &err) == -1) {
		free(err);
		*why = "a regex that does not compile";
		return -1;
	}
	r = rc_regex_exec(re, v, strlen(v), NULL, 0, 0, NULL);
	rc_regex_free(&re);
	buf_puts(t, r == 1 ? "true" : "false");
	return 0;
}

/* sv_cond - one condition as a Sieve test in t; -1 with *why */
static int
sv_cond(struct sv *sv, const struct rc_cond *c, unsigned flags,
    struct buf *t, const char **why)
{
	int h = (flags & RC_F_H) || !(flags & RC_F_B), b = flags & RC_F_B;
	int re = 1, blank;
	struct buf lit;

	if (c->weighted) {
		*why = "a weighted (scoring) condition";
		return -1;
	}
	switch (c->kind) {
	case RC_COND_PROGRAM:
		*why = "a program condition (\"?\"): nothing is run";
		return -1;
	case RC_COND_EXPAND:
		*why = "a \"$\" condition (expanded when a message arrives)";
		return -1;
	case RC_COND_LESS:
	case RC_COND_GREATER:
		*why = "a size condition (lda counts the From_ line and LF "
		    "line ends, the stores count CRLF)";
		return -1;
	default:
		break;
	}
	if (c->extended) {
		*why = "a \"~\" (TRE) condition";
		return -1;
	}
	if (c->negate)
		buf_puts(t, "not ");
	if (c->area && strcmp(c->area, "H") && strcmp(c->area, "B") &&
	    strcmp(c->area, "HB") && strcmp(c->area, "BH"))
		return sv_varcond(sv, c, flags, t, why);
	if (c->area)
		h = strchr(c->area, 'H') != NULL, b = strchr(c->area, 'B') !=
		    NULL;
	if (h && b) {
		*why = "a condition on header and body as one text";
		return -1;
	}
	if (h) {
		if (flags & RC_F_D) {
			*why = "D: procmail also compares the case of the field "
			    "name, Sieve never does";
			return -1;
		}
		return sv_header(sv, c->text, t, why);
	}
	buf_init(&lit, 0);
	if (sv_re_literal(c->text, strlen(c->text), &lit))
		re = 0;
	else if (strstr(c->text, "\\/")) {
		buf_free(&lit);
		*why = "\\/ in a body condition";
		return -1;
	} else if (sv_re_convert(c->text, strlen(c->text), 1, &lit, &blank,
	    why) == -1) {
		buf_free(&lit);
		return -1;
	}
	buf_puts(t, "body :raw ");
	if (flags & RC_F_D) {
		buf_puts(t, ":comparator \"i;octet\" ");
		sv->ext |= SV_COMPARATOR;
	}
	buf_puts(t, re ? ":regex " : ":contains ");
	sv_quote(t, lit.s);
	buf_free(&lit);
	sv->ext |= SV_BODY | (re ? SV_REGEX : 0);
	return 0;
}

#define SV_SCORE_MAX	6		/* weighted regexes: 2^6 cases */
#define SV_MAX32	2147483647.0
#define SV_MIN32	(-2147483647.0)

/* sv_weigh - procmail's score (rc/cond.c) of r's weighted conditions
   when the regexes of mask matched (bit j: the j-th weighted regex);
   1 when the recipe's conditions then hold (as far as scores go) */
static int
sv_weigh(const struct rc_recipe *r, unsigned mask)
{
	double score = 0;
	unsigned j = 0;

	for (size_t k = 0; k < r->nconds; k++) {
		const struct rc_cond *c = &r->conds[k];
		int constant = !c->negate && c->text[0] == '\0', hit;
		if (!c->weighted)
			continue;
		hit = !constant && (mask >> j++ & 1);
		if (score >= SV_MAX32)
			continue;
		if (constant) {
			score += c->w;
			if (c->x > 0 && c->x < 1)
				score += c->w * c->x / (1 - c->x);
			else if (c->x >= 1 && c->w != 0)
				score += c->w < 0 ? SV_MIN32 : SV_MAX32;
		} else if (c->negate ? !hit && c->w != 0 : hit)
			score += c->w;
		if (score > SV_MAX32)
			score = SV_MAX32;
		if (score <= SV_MIN32)
			return 0;
	}
	return score > 0;
}

/*
 * sv_scored - a recipe with weighted conditions: exact when each is a
 * regex that adds its weight once (x = 0, or "!"), or a constant; then
 * the score is a function of which regexes matched, and the test is
 * the list of the combinations that pass (procmail's sum, its limits
 * and its order, computed here). The others must all hold as usual.
 */
static int
sv_scored(struct sv *sv, const struct rc_recipe *r, struct buf *t,
    int *line_r, const char **why)
{
	struct buf tests[SV_SCORE_MAX], one, dnf;
	unsigned nw = 0, terms = 0;
	int rv = -1, nplain = 0;
	size_t start;

	buf_init(&one, 0);
	buf_init(&dnf, 0);
	start = t->len;
	buf_puts(t, "allof(");
	sv->cap_ok = 0;
	for (size_t k = 0; k < r->nconds; k++) {
		struct rc_cond c = r->conds[k];
		*line_r = c.line;
		buf_reset(&one);
		if (c.weighted) {
			if (c.kind != RC_COND_REGEX) {
				*why = "a weighted size, program or $ condition";
				goto out;
			}
			if (!c.negate && c.text[0] == '\0')
				continue;
			if (!c.negate && c.x != 0 && c.w != 0) {
				*why = "a weighted condition that counts its "
				    "matches (x is not 0): no arithmetic in "
				    "Sieve";
				goto out;
			}
			if (nw == SV_SCORE_MAX) {
				*why = "more than 6 weighted regexes";
				goto out;
			}
			c.weighted = 0;
			c.negate = 0;
			if (sv_cond(sv, &c, r->flags, &one, why) == -1)
				goto out;
			buf_init(&tests[nw], 0);
			buf_puts(&tests[nw++], one.s);
			continue;
		}
		if (sv_cond(sv, &c, r->flags, &one, why) == -1)
			goto out;
		buf_printf(t, "%s%s", nplain++ ? ", " : "", one.s);
	}
	for (unsigned m = 0; m < 1u << nw; m++) {
		if (!sv_weigh(r, m))
			continue;
		buf_printf(&dnf, "%sallof(", terms++ ? ", " : "");
		for (unsigned j = 0; j < nw; j++)
			buf_printf(&dnf, "%s%s%s", j ? ", " : "", m >> j & 1 ?
			    "" : "not ", tests[j].s);
		buf_putc(&dnf, ')');
	}
	if (terms == 0)
		buf_printf(t, "%sfalse", nplain ? ", " : "");
	else if (terms < 1u << nw)
		buf_printf(t, "%sanyof(%s)", nplain ? ", " : "", dnf.s);
	else if (nplain == 0)
		buf_puts(t, "true");
	buf_putc(t, ')');
	/* allof(x) is x */
	if (nplain + (terms < 1u << nw) <= 1) {
		memmove(t->s + start, t->s + start + 6, t->len - start - 7);
		t->len -= 7;
		t->s[t->len] = '\0';
	}
	rv = 0;
out:
	for (unsigned j = 0; j < nw; j++)
		buf_free(&tests[j]);
	buf_free(&one);
	buf_free(&dnf);
	return rv;
}

/* sv_conds - all conditions of r as one test in t ("" when none) */
int
sv_conds(struct sv *sv, const struct rc_recipe *r, struct buf *t, int *line_r,
    const char **why)
{
	struct buf one;

	sv->captured = 0;
	for (size_t k = 0; k < r->nconds; k++)
		if (r->conds[k].weighted)
			return sv_scored(sv, r, t, line_r, why);
	buf_init(&one, 0);
	if (r->nconds > 1)
		buf_puts(t, "allof(");
	for (size_t k = 0; k < r->nconds; k++) {
		buf_reset(&one);
		*line_r = r->conds[k].line;
		sv->cap_ok = k + 1 == r->nconds && !r->conds[k].negate;
		if (sv_cond(sv, &r->conds[k], r->flags, &one, why) == -1) {
			buf_free(&one);
			return -1;
		}
		buf_printf(t, "%s%s", k ? ", " : "", one.s);
	}
	if (r->nconds > 1)
		buf_putc(t, ')');
	buf_free(&one);
	return 0;
}

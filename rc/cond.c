/*
 * cond.c - a recipe's conditions: the A/a/E/e chaining, the search area
 * (header in memory with continued lines joined, body from the spool),
 * regex, size, program and variable conditions, and procmail's weighted
 * scoring (procmailsc(5)) with $= set from the sum.
 * Does not: compile regexes (parse.c), run the action, log but the trace.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lda/dl.h"
#include "../lda/log.h"
#include "../lda/xalloc.h"
#include "parse.h"
#include "rcint.h"
#include "regex.h"

#define MAX32	2147483647.0
#define MIN32	(-2147483647.0)

/* One search area: bytes in memory, then [from, to) of the spool. */
struct area {
	const char *mem;
	size_t memlen;
	const struct spool *sp;
	off_t from, to;
	long size;		/* what < and > compare */
};

/* rc_area_header - the header as procmail searches it: the From_ line,
   the fields with continuation newlines turned into blanks, the blank
   line */
void
rc_area_header(struct rc *rc, struct buf *out)
{
	const struct spool *sp = rc->s->msg;

	buf_reset(out);
	if (sp == NULL)
		return;
	if (sp->from_line) {
		buf_puts(out, sp->from_line);
		buf_putc(out, '\n');
	}
	/* the header at once, then its continuation newlines made blanks */
	if (sp->hdr_len > 0 && buf_append(out, sp->hdr, sp->hdr_len) == 0) {
		char *h = out->s + out->len - sp->hdr_len, *e = out->s + out->len;
		for (char *nl = h; (nl = memchr(nl, '\n', (size_t)(e - nl))) &&
		    nl + 1 < e; nl++)
			if (nl[1] == ' ' || nl[1] == '\t')
				*nl = ' ';
	}
	if (sp->hdr_len && sp->hdr[sp->hdr_len - 1] != '\n')
		buf_putc(out, '\n');
	buf_putc(out, '\n');
}

/* msg_size - the message length procmail compares sizes with */
static long
msg_size(const struct rc *rc)
{
	const struct spool *sp = rc->s->msg;

	if (sp == NULL)
		return 0;
	return (long)sp->size + (sp->from_line ? (long)strlen(sp->from_line)
	    + 1 : 0);
}

/* cond_area - the search area of c under the recipe flags */
static void
cond_area(struct rc *rc, const struct rc_cond *c, unsigned flags,
    struct buf *hdr, struct area *a)
{
	const struct spool *sp = rc->s->msg;
	int h = (flags & RC_F_H) || !(flags & RC_F_B), b = flags & RC_F_B;

	memset(a, 0, sizeof *a);
	a->size = msg_size(rc);
	if (c->area) {
		if (strcmp(c->area, "H") == 0)
			h = 1, b = 0;
		else if (strcmp(c->area, "B") == 0)
			h = 0, b = 1;
		else if (strcmp(c->area, "HB") == 0 ||
		    strcmp(c->area, "BH") == 0)
			h = b = 1;
		else {
			a->mem = rc_get(rc, c->area);
			if (a->mem == NULL)
				a->mem = "";
			a->memlen = strlen(a->mem);
			a->size = (long)a->memlen;
			return;
		}
	}
	if (h) {
		rc_area_header(rc, hdr);
		a->mem = hdr->s;
		a->memlen = hdr->len;
	}
	if (b && sp) {
		a->sp = sp;
		a->from = sp->body_off;
		a->to = sp->size;
	}
	if (c->area)
		a->size = (long)a->memlen + (long)(a->to - a->from);
}

/* set_match - a \/ match becomes $MATCH */
static void
set_match(struct rc *rc, const struct rc_cond *c, const struct buf *m)
{
	if (strstr(c->text, "\\/") != NULL) {
		rc_vars_set_t(&rc->vars, "MATCH", m->s, 1);
		rc_yell(rc, "Matched", m->s);
	}
}

/* score_regex - procmail's sum w + w*x + w*x^2 ... over n matches */
static double
score_regex(double w, double x, long n)
{
	double score = 0;

	for (long k = 0; k < n && w != 0; k++) {
		score += w;
		w *= x;
		if (score >= MAX32 || score <= MIN32)
			break;
	}
	return score;
}

/*
 * cond_regex - a regex condition: 1 matched, 0 not, -1 error; *n_r how
 * often (procmail's count: each search from the end of the last match)
 * when count, and *endless_r when the last match was empty and would
 * repeat forever.
 */
static int
cond_regex(struct rc *rc, const struct rc_cond *c, const struct area *a,
    int count, long *n_r, int *endless_r)
{
	struct buf m;
	int r;

	if (c->re == NULL)
		return -1;
	buf_init(&m, RC_VALUE_MAX);
	r = rc_regex_exec(c->re, a->mem, a->memlen, a->sp, a->from, a->to, &m);
	if (r == 1)
		set_match(rc, c, &m);
	buf_free(&m);
	*n_r = r == 1;
	*endless_r = 0;
	if (r == 1 && count) {
		long n = rc_regex_count(c->re, a->mem, a->memlen, a->sp,
		    a->from, a->to, 1000000, endless_r);
		*n_r = n > 0 ? n : 1;
	}
	return r;
}

/* cond_program - run "? program" with the area on stdin; exit status */
static int
cond_program(struct rc *rc, const struct rc_cond *c, const struct area *a)
{
	struct rc_prog p = { .cmd = c->text, .in_mem = a->mem,
	    .in_len = a->memlen, .in = a->sp, .from = a->from, .to = a->to,
	    .blank_end = 1, .out_fd = -1 };
	char *err = NULL;
	int st = rc_exec(rc, &p, &err);

	if (st < 0) {
		log_warn("%s: condition program %s: %s", rc->cur_file,
		    c->text, err);
		free(err);
		st = 127;
	}
	rc->lastexit = st;
	return st;
}

/* cond_size - the number of "< n" / "> n" (expanded as procmail does) */
static long
cond_size(struct rc *rc, const struct rc_cond *c)
{
	char *t = rc_expand_str(rc, c->text, RC_EXP_DQUOTE);
	long v = strtol(t, NULL, 10);

	free(t);
	return v;
}

struct score {
	double score;
	int scored;
};

#ifndef LIBM_SONAME
#define LIBM_SONAME "libm.so.6"
#endif

/* cond_pow - x to the y by libm's pow, loaded by the first condition that
   needs it (lda/dl.h: most messages never score a size); 0 when libm
   cannot be loaded (an rc error, logged) */
static double
cond_pow(struct rc *rc, const struct rc_cond *c, double x, double y)
{
	static double (*pow_fn)(double, double);
	const struct dl_sym sym[] = { DL_SYM("pow", pow_fn) };
	char *err = NULL;

	if (pow_fn == NULL && dl_load(LIBM_SONAME, sym, 1, &err) == -1) {
		rc_error(rc, c->line, "weighted condition: %s", err);
		free(err);
		return 0;
	}
	return pow_fn(x, y);
}

/* cond_weigh - add one weighted condition's score */
static void
cond_weigh(struct rc *rc, const struct rc_cond *c, const struct area *a,
    struct score *sc)
{
	long n = 0;
	int endless = 0;

	sc->scored = 1;
	switch (c->kind) {
	case RC_COND_REGEX:
		if (c->negate) {
			if (c->w != 0 && cond_regex(rc, c, a, 0, &n,
			    &endless) == 0)
				sc->score += c->w;
		} else if (c->text[0] == '\0') {
			sc->score += c->w;
			if (c->x > 0 && c->x < 1)
				sc->score += c->w * c->x / (1 - c->x);
			else if (c->x >= 1 && c->w != 0)
				sc->score += c->w < 0 ? MIN32 : MAX32;
		} else if (cond_regex(rc, c, a, c->x != 0, &n, &endless) == 1) {
			sc->score += score_regex(c->w, c->x, n);
			/* an empty match that would repeat forever: the
			   rest of the series too */
			if (endless && c->x > 0 && c->x < 1)
				sc->score += c->w * cond_pow(rc, c, c->x,
				    (double)n) / (1 - c->x);
			else if (endless && c->x >= 1 && c->w != 0)
				sc->score += c->w < 0 ? MIN32 : MAX32;
		}
		break;
	case RC_COND_PROGRAM: {
		int st = cond_program(rc, c, a);
		if (c->negate)
			sc->score += score_regex(c->w, c->x, st);
		else
			sc->score += st ? c->x : c->w;
		break;
	}
	case RC_COND_LESS:
	case RC_COND_GREATER: {
		double pivot = (double)cond_size(rc, c), f, m = (double)a->size;
		if ((c->kind == RC_COND_LESS) ^ c->negate) {
			if (m == 0) {
				sc->score = pivot > 0 ? MAX32 : MIN32;
				return;
			}
			f = pivot / m;
		} else if (pivot == 0) {
			sc->score = MAX32;
			return;
		} else
			f = m / pivot;
		sc->score += c->w * cond_pow(rc, c, f, c->x);
		break;
	}
	default:
		break;
	}
}

/* cond_plain - an unweighted condition: 1 met, 0 not */
static int
cond_plain(struct rc *rc, const struct rc_cond *c, const struct area *a)
{
	long n;
	int r, endless;

	switch (c->kind) {
	case RC_COND_REGEX:
		r = cond_regex(rc, c, a, 0, &n, &endless);
		if (r < 0)
			return 0;
		return r ^ c->negate;
	case RC_COND_PROGRAM:
		return (cond_program(rc, c, a) == 0) ^ c->negate;
	case RC_COND_LESS:
		return (a->size < cond_size(rc, c)) ^ c->negate;
	case RC_COND_GREATER:
		return (a->size > cond_size(rc, c)) ^ c->negate;
	default:
		return 0;
	}
}

static int cond_one(struct rc *rc, const struct rc_cond *c, unsigned flags,
    struct buf *hdr, struct score *sc);

/* cond_expand - "$ text": expand as in double quotes, then parse again */
static int
cond_expand(struct rc *rc, const struct rc_cond *c, unsigned flags,
    struct buf *hdr, struct score *sc)
{
	struct rc_cond t = { .line = c->line, .negate = c->negate,
	    .weighted = c->weighted, .w = c->w, .x = c->x,
	    .extended = c->extended };
	char *text = rc_expand_str(rc, c->text, RC_EXP_DQUOTE), *err = NULL;
	int r;

	if (c->area)
		t.area = xstrdup(c->area);
	rc_squeeze(text);
	if (rc_cond_parse(text, flags, &t, &err) == -1) {
		rc_error(rc, c->line, "bad condition \"%s\": %s", text, err);
		free(err);
		r = 0;
	} else {
		if (t.re != NULL && rc_regex_warning(t.re) != NULL)
			log_warn("%s:%d: warning: invalid regex \"%s\": %s",
			    rc->cur_file ? rc->cur_file : "rc", c->line, text,
			    rc_regex_warning(t.re));
		r = cond_one(rc, &t, flags, hdr, sc);
	}
	rc_cond_clear(&t);
	free(text);
	return r;
}

/* cond_trace - one condition as written, and what it gave */
static void
cond_trace(struct rc *rc, const struct rc_cond *c, int met, double added,
    double total)
{
	static const char *const kind[] = { "", "< ", "> ", "? ", "$ " };
	char ex[32] = "";
	const char *text = c->text + (c->kind == RC_COND_LESS ||
	    c->kind == RC_COND_GREATER ? strspn(c->text, " \t") : 0);

	/* procmail's words: 'Score: added total "regex"', else
	   '[No m|M]atch on [!] "regex"'; lda adds the area and the exit
	   of a program condition */
	if (c->kind == RC_COND_PROGRAM)
		snprintf(ex, sizeof ex, " (exit %d)", rc->lastexit);
	if (c->weighted)
		rc_trace(rc, "Score: %7.0f %7.0f \"%s%s%s%s\"%s", added, total,
		    c->area ? c->area : "", c->area ? " ?? " : "",
		    kind[c->kind <= RC_COND_EXPAND ? c->kind : 0], text,
		    ex);
	else
		rc_trace(rc, "%s on%s \"%s%s%s%s\"%s", met ? "Match" :
		    "No match", c->negate ? " !" : "", c->area ? c->area : "",
		    c->area ? " ?? " : "",
		    kind[c->kind <= RC_COND_EXPAND ? c->kind : 0], text,
		    ex);
}

/* cond_one - evaluate c; returns 0 when an unweighted one failed */
static int
cond_one(struct rc *rc, const struct rc_cond *c, unsigned flags,
    struct buf *hdr, struct score *sc)
{
	struct area a;
	int r = 1;
	double before = sc->score;

	if (c->kind == RC_COND_EXPAND)
		return cond_expand(rc, c, flags, hdr, sc);
	if (c->weighted && sc->score >= MAX32)
		return 1;
	cond_area(rc, c, flags, hdr, &a);
	if (c->weighted)
		cond_weigh(rc, c, &a, sc);
	else
		r = cond_plain(rc, c, &a);
	if (sc->score > MAX32)
		sc->score = MAX32;
	if (sc->score <= MIN32) {
		sc->score = MIN32;
		r = 0;
	}
	if (rc_tracing(rc))
		cond_trace(rc, c, r, sc->score - before, sc->score);
	return r;
}

/* cond_chain - the A/a/E/e flags against the previous recipe */
static int
cond_chain(const struct rc *rc, unsigned flags)
{
	int i = 1;

	if (flags & RC_F_e) {
		i &= rc->prevcond && !rc->lastsucc;
		flags &= ~(unsigned)(RC_F_E | RC_F_a);
	}
	if (flags & RC_F_E)
		i &= !rc->prevcond;
	if (flags & RC_F_a)
		i &= rc->lastcond && rc->lastsucc;
	if (flags & RC_F_A)
		i = i && rc->lastcond;
	return i;
}

/* rc_cond_eval - all conditions of r (see rcint.h) */
int
rc_cond_eval(struct rc *rc, const struct rc_recipe *r, int line)
{
	struct score sc = { 0, 0 };
	struct buf hdr;
	int i = cond_chain(rc, r->flags);

	if (!i)
		rc_trace(rc, "Skipped: the A/a/E/e flag and the previous "
		    "recipe");
	buf_init(&hdr, 0);
	for (size_t k = 0; i && k < r->nconds; k++) {
		rc->cur_line = r->conds[k].line;	/* errors name it */
		i = cond_one(rc, &r->conds[k], r->flags, &hdr, &sc);
	}
	rc->cur_line = line;
	buf_free(&hdr);
	rc->lastscore = (long)sc.score;
	if (rc->lastscore == 0 && sc.score > 0)
		rc->lastscore = 1;
	if (sc.scored && i && sc.score <= 0)
		i = 0;
	if (!(r->flags & (RC_F_A | RC_F_a)))
		rc->lastcond = i;
	if (!rc->prevcond || !(r->flags & RC_F_E))
		rc->prevcond = i;
	return i;
}

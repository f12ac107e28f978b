/*
 * expand.c - procmail's "readparse": quoting, $VAR, ${VAR:-x}, $\VAR,
 * backquotes, and splitting into words, for text the parser kept raw.
 * Does: the three modes procmail uses (action words, one assignment
 * value, a double-quoted condition); backquotes run through rc_exec; the
 * provenance of every byte (from the rc text, or from the message and
 * the envelope: rc->exp_mask) and the rule that such bytes never choose
 * a path outside the user's folders (rc_tainted_path).
 * Does not: decide what the words mean; log (errors come back as text).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lda/xalloc.h"
#include "rcint.h"

enum { NOTHING_YET = -1, SKIPPING_SPACE, NORMAL_TEXT, DOUBLE_QUOTED,
    SINGLE_QUOTED };

struct exp {
	struct rc *rc;
	const char *s;
	size_t i, len;
	enum rc_expand_mode mode;
	int got;
	struct buf *out;
	int skip;		/* inside an alternative that is not taken */
	int bracelev, qbracelev;
	int over;		/* the value cap was reached */
	int deep;		/* ${...} nested past RC_EXPAND_DEPTH */
	int tainting;		/* what is written now came from the message */
	unsigned char *mask;	/* mask[i]: out byte i did */
	size_t maskcap;
};

/* exp_mark - the provenance of out's bytes from from to its end */
static void
exp_mark(struct exp *e, size_t from)
{
	size_t len = e->out->len;

	if (len > e->maskcap) {
		size_t cap = e->maskcap ? e->maskcap : 256;
		while (cap < len)
			cap *= 2;
		e->mask = xreallocarray(e->mask, cap, 1);
		e->maskcap = cap;
	}
	if (from < len)
		memset(e->mask + from, e->tainting, len - from);
}

/* exp_putc - one byte of output */
static void
exp_putc(struct exp *e, int c)
{
	size_t at = e->out->len;

	if (buf_putc(e->out, c) == -1)
		e->over = 1;
	exp_mark(e, at);
}

/* exp_puts - text of output */
static void
exp_puts(struct exp *e, const char *s)
{
	size_t at = e->out->len;

	if (buf_puts(e->out, s) == -1)
		e->over = 1;
	exp_mark(e, at);
}

/* exp_getc - the next input byte, or -1 at the end */
static int
exp_getc(struct exp *e)
{
	return e->i < e->len ? (unsigned char)e->s[e->i++] : -1;
}

/* exp_split - append value, split into words where the mode wants it;
   tainted: it came from the message or the envelope */
static void
exp_split_t(struct exp *e, const char *v, int tainted)
{
	int was = e->tainting;

	e->tainting = tainted != 0;
	if (e->got == DOUBLE_QUOTED || e->mode != RC_EXP_WORDS) {
		exp_puts(e, v);
		if (*v && e->got <= SKIPPING_SPACE)
			e->got = NORMAL_TEXT;
		e->tainting = was;
		return;
	}
	for (; *v; v++) {
		if (*v == ' ' || *v == '\t' || *v == '\n') {
			if (e->got > SKIPPING_SPACE) {
				exp_putc(e, '\0');
				e->got = SKIPPING_SPACE;
			}
			continue;
		}
		exp_putc(e, *v);
		e->got = NORMAL_TEXT;
	}
	e->tainting = was;
}

/* exp_split - a value from the rc's own text */
static void
exp_split(struct exp *e, const char *v)
{
	exp_split_t(e, v, 0);
}

/* exp_alnum - a character of a variable name */
static int
exp_alnum(int c)
{
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

/* exp_value - the value of a $name (numbers are positional: $1.. are
   the MTA's -a arguments or the address detail, the envelope's);
   *tainted_r: it came from the message or the envelope */
static const char *
exp_value(struct exp *e, const char *name, int *tainted_r)
{
	*tainted_r = 0;
	if (name[0] >= '0' && name[0] <= '9') {
		size_t n = (size_t)(name[0] - '0');
		if (n == 0)
			return "lda";
		*tainted_r = 1;
		return n <= e->rc->nargs ? e->rc->args[n - 1] : NULL;
	}
	*tainted_r = rc_vars_tainted(&e->rc->vars, name);
	return rc_vars_get(&e->rc->vars, name);
}

/* exp_backquote - `cmd`: run it (unless skipping), insert its output */
static void
exp_backquote(struct exp *e)
{
	struct buf cmd, res;
	int c;

	buf_init(&cmd, RC_VALUE_MAX);
	while ((c = exp_getc(e)) != -1 && c != '`') {
		if (c == '"' && e->got == DOUBLE_QUOTED)
			break;
		if (c == '\\') {
			c = exp_getc(e);
			if (c == '\n')
				continue;
			if (c == -1 || !(c == '\\' || c == '$' || c == '`' ||
			    (c == '"' && e->got == DOUBLE_QUOTED)))
				buf_putc(&cmd, '\\');
			if (c == -1)
				break;
		}
		buf_putc(&cmd, c);
	}
	if (c == '"')
		e->i--;		/* the closing quote is the caller's */
	if (e->skip) {
		buf_free(&cmd);
		return;
	}
	buf_init(&res, RC_CAPTURE_MAX);
	{
		struct rc_prog p = { .cmd = cmd.s, .in = e->rc->s->msg,
		    .from = 0, .to = e->rc->s->msg ? e->rc->s->msg->size : 0,
		    .with_from = 1, .blank_end = 1, .out_fd = -1,
		    .out = &res };
		char *err = NULL;
		int st = rc_exec(e->rc, &p, &err);
		if (st < 0) {
			rc_error(e->rc, 0, "backquote `%s`: %s", cmd.s, err);
			free(err);
		}
		rc_trace(e->rc, "Backquote \"%s\" ran (also under --test): "
		    "exit %d", cmd.s, st);
	}
	while (res.len && res.s[res.len - 1] == '\n')
		res.s[--res.len] = '\0';
	exp_split_t(e, res.s, 1);	/* it read the message */
	if (e->got <= SKIPPING_SPACE && e->mode != RC_EXP_WORDS)
		e->got = NORMAL_TEXT;
	buf_free(&res);
	buf_free(&cmd);
}

static void exp_run(struct exp *e);

/* exp_brace - ${name}, ${name:-alt}, ${name-alt}, ${name:+alt} ... */
static void
exp_brace(struct exp *e)
{
	char name[256];
	size_t n = 0;
	int c, use_alt;
	const char *v;
	int t;

	while ((c = exp_getc(e)) != -1 && exp_alnum(c)) {
		if (n < sizeof name - 1)
			name[n++] = (char)c;
	}
	if (c == -1 && n == 0)
		return;
	name[n] = '\0';
	v = exp_value(e, name, &t);
	if (c == '}') {
		exp_split_t(e, v ? v : "", t);
		return;
	}
	if (c == ':') {
		c = exp_getc(e);
		if (c == '-')
			use_alt = !(v && *v);
		else if (c == '+')
			use_alt = v && *v;
		else
			return;
	} else if (c == '-')
		use_alt = v == NULL;
	else if (c == '+')
		use_alt = v != NULL;
	else
		return;
	if (e->bracelev >= RC_EXPAND_DEPTH) {	/* the stack is finite */
		e->deep = 1;
		e->i = e->len;
		return;
	}
	/* Parse the alternative either way; keep it only when used. */
	{
		size_t mark = e->out->len;
		int got = e->got, lev = e->bracelev++;
		if (!use_alt)
			e->skip++;
		exp_run(e);
		e->bracelev = lev;
		if (!use_alt) {
			e->skip--;
			e->out->len = mark;
			e->out->s[mark] = '\0';
			e->got = got;
			if (c == '+')
				v = NULL;	/* ${x:+alt} not taken: empty */
			exp_split_t(e, v ? v : "", t);
		}
	}
}

/* exp_number - a number as text, for $$ $? $# $= */
static void
exp_number(struct exp *e, long v)
{
	char num[32];

	snprintf(num, sizeof num, "%ld", v);
	exp_split(e, num);
	if (e->got <= SKIPPING_SPACE)
		e->got = NORMAL_TEXT;
}

/* exp_quoted - $\name: the value with regex specials escaped */
static void
exp_quoted(struct exp *e, const char *v, int tainted)
{
	struct buf q;
	int was = e->tainting;

	buf_init(&q, RC_VALUE_MAX);
	buf_puts(&q, "()");
	for (; v && *v; v++) {
		if (strchr("(|)*?+.^$[\\", *v))
			buf_putc(&q, '\\');
		buf_putc(&q, *v);
	}
	e->tainting = tainted != 0;
	exp_puts(e, q.s);
	e->tainting = was;
	if (e->got <= SKIPPING_SPACE)
		e->got = NORMAL_TEXT;
	buf_free(&q);
}

/* exp_dollar - whatever follows a $ outside single quotes */
static void
exp_dollar(struct exp *e)
{
	char name[256];
	size_t n = 0;
	int c = exp_getc(e), quoted = 0;

	switch (c) {
	case -1:
		exp_putc(e, '$');
		return;
	case '{':
		exp_brace(e);
		return;
	case '$':
		exp_number(e, (long)e->rc->mainpid);
		return;
	case '?':
		exp_number(e, e->rc->lastexit);
		return;
	case '#':
		exp_number(e, (long)e->rc->nargs);
		return;
	case '=':
		exp_number(e, e->rc->lastscore);
		return;
	case '_':
		exp_split(e, e->rc->cur_file ? e->rc->cur_file : "");
		return;
	case '-': {
		const char *lf = rc_vars_get(&e->rc->vars, "LASTFOLDER");
		exp_split(e, lf ? lf : "");
		return;
	}
	case '@':
		if (e->got == DOUBLE_QUOTED)
			for (size_t i = 0; i < e->rc->nargs; i++) {
				if (i)
					exp_putc(e, e->mode == RC_EXP_WORDS ?
					    '\0' : ' ');
				exp_split_t(e, e->rc->args[i], 1);
			}
		else
			exp_putc(e, '@');
		return;
	}
	if (c >= '0' && c <= '9') {
		int t;
		name[0] = (char)c;
		name[1] = '\0';
		const char *v = exp_value(e, name, &t);
		exp_split_t(e, v ? v : "", t);
		return;
	}
	if (c == '\\') {
		quoted = 1;
		c = exp_getc(e);
	}
	if (c == -1 || !exp_alnum(c) || (c >= '0' && c <= '9')) {
		exp_putc(e, '$');
		if (e->got <= SKIPPING_SPACE)
			e->got = NORMAL_TEXT;
		if (quoted)
			exp_putc(e, '\\');
		if (c != -1)
			e->i--;
		return;
	}
	do {
		if (n < sizeof name - 1)
			name[n++] = (char)c;
	} while ((c = exp_getc(e)) != -1 && exp_alnum(c));
	if (c != -1)
		e->i--;
	name[n] = '\0';
	{
		int t;
		const char *v = exp_value(e, name, &t);
		if (quoted)
			exp_quoted(e, v, t);
		else
			exp_split_t(e, v ? v : "", t);
	}
}

/* exp_backslash - a backslash outside single quotes */
static void
exp_backslash(struct exp *e)
{
	int c = exp_getc(e);

	switch (c) {
	case -1:
		exp_putc(e, '\\');
		return;
	case '\n':
		return;				/* joins lines */
	case '#':
		if (e->got > SKIPPING_SPACE)
			goto keep;
		/* FALLTHROUGH */
	case ' ': case '\t': case '\'':
		if (e->got == DOUBLE_QUOTED)
			goto keep;
		/* FALLTHROUGH */
	case '"': case '\\': case '$': case '`':
		goto literal;
	case '}':
		if (e->bracelev > 0)
			goto literal;
		break;
	}
	if (e->got > NORMAL_TEXT) {
keep:
		exp_putc(e, '\\');
	}
literal:
	exp_putc(e, c);
	if (e->got <= SKIPPING_SPACE)
		e->got = NORMAL_TEXT;
}

/* exp_space - a blank: ends the value, separates words, or is text */
static int
exp_space(struct exp *e, int c)
{
	if (e->got == DOUBLE_QUOTED || e->got == SINGLE_QUOTED) {
		exp_putc(e, c);
		return 0;
	}
	if (e->got == NORMAL_TEXT) {
		if (e->mode == RC_EXP_ASSIGN)
			return 1;
		e->got = SKIPPING_SPACE;
		exp_putc(e, e->mode == RC_EXP_WORDS ? '\0' : ' ');
	}
	return 0;
}

/* exp_run - the main loop; returns at the end, or at the closing } */
static void
exp_run(struct exp *e)
{
	int c, lev = e->bracelev;

	while ((c = exp_getc(e)) != -1 && !e->over && !e->deep) {
		if (e->got == SINGLE_QUOTED && c != '\'') {
			exp_putc(e, c);
			continue;
		}
		switch (c) {
		case '\\':
			exp_backslash(e);
			continue;
		case '`':
			exp_backquote(e);
			continue;
		case '"':
			if (e->got == DOUBLE_QUOTED) {
				if (e->qbracelev < e->bracelev)
					break;
				e->got = NORMAL_TEXT;
			} else {
				e->qbracelev = e->bracelev;
				e->got = DOUBLE_QUOTED;
			}
			continue;
		case '\'':
			if (e->got == DOUBLE_QUOTED)
				break;
			e->got = e->got == SINGLE_QUOTED ? NORMAL_TEXT :
			    SINGLE_QUOTED;
			continue;
		case '}':
			if (lev > 0 && ((e->got <= NORMAL_TEXT) ||
			    (e->got == DOUBLE_QUOTED && lev > e->qbracelev)))
				return;
			break;
		case '#':
			if (e->got > SKIPPING_SPACE)
				break;
			e->i = e->len;		/* a comment to the end */
			return;
		case '$':
			exp_dollar(e);
			continue;
		case ' ': case '\t':
			if (exp_space(e, c))
				goto ready;
			continue;
		case '\n':
			if (e->got <= NORMAL_TEXT)
				goto ready;
			break;
		}
		exp_putc(e, c);
		if (e->got <= SKIPPING_SPACE)
			e->got = NORMAL_TEXT;
	}
	return;
ready:
	e->i = e->len;
}

/* rc_expand - expand raw (see rcint.h) */
int
rc_expand(struct rc *rc, const char *raw, enum rc_expand_mode mode,
    struct buf *out, size_t *nwords_r, char **err)
{
	struct exp e = { .rc = rc, .s = raw, .len = strlen(raw), .mode = mode,
	    .got = mode == RC_EXP_DQUOTE ? DOUBLE_QUOTED : NOTHING_YET,
	    .out = out };
	size_t n = 0;

	buf_reset(out);
	exp_run(&e);
	if (e.over || e.deep) {
		free(e.mask);
		rc->exp_tainted = 0;
		rc->exp_masklen = 0;
		*err = e.deep ? xasprintf("${...} nested more than %d deep",
		    RC_EXPAND_DEPTH) : xasprintf("expanded value longer than "
		    "%u bytes", RC_VALUE_MAX);
		return -1;
	}
	if (mode == RC_EXP_WORDS) {
		if (e.got > SKIPPING_SPACE)
			exp_putc(&e, '\0');
		for (size_t i = 0; i < out->len; i++)
			n += out->s[i] == '\0';
	} else
		n = 1;
	if (nwords_r)
		*nwords_r = n;
	/* the provenance of this output, for the caller (rc_tainted_path) */
	free(rc->exp_mask);
	rc->exp_mask = e.mask;
	rc->exp_masklen = e.mask ? out->len : 0;
	rc->exp_tainted = e.mask && memchr(e.mask, 1, out->len) != NULL;
	return 0;
}

/* rc_expand_depth - how deep ${...} nest in raw, as text (for --check:
   rc_expand refuses past RC_EXPAND_DEPTH) */
int
rc_expand_depth(const char *raw)
{
	int d = 0, max = 0;

	for (; *raw; raw++) {
		if (raw[0] == '\\' && raw[1])
			raw++;
		else if (raw[0] == '$' && raw[1] == '{') {
			if (++d > max)
				max = d;
			raw++;
		} else if (raw[0] == '}' && d > 0)
			d--;
	}
	return max;
}

/*
 * rc_tainted_path - a header or an address never chooses a path outside
 * the user's folders (rcint.h). What the rc text itself writes stays as
 * procmail reads it; only bytes from the message or the envelope count.
 */
const char *
rc_tainted_path(const struct rc *rc, const char *s, size_t len)
{
	const unsigned char *m = rc->exp_mask;

	if (m == NULL || !rc->exp_tainted)
		return NULL;
	if (len > rc->exp_masklen)
		len = rc->exp_masklen;
	for (size_t i = 0; i < len; i++) {
		int word = i == 0 || s[i - 1] == '\0';
		int part = word || s[i - 1] == '/';
		if (s[i] == '\0' && m[i] && i + 1 < len)
			return "a word break from the message makes another "
			    "folder";
		if (word && s[i] == '/' && m[i])
			return "an absolute path from the message";
		if (part && s[i] == '.' && m[i])
			return "a name beginning with \".\" from the message";
		if (part && s[i] == '.' && i + 1 < len && s[i + 1] == '.' &&
		    m[i + 1] && (i + 2 >= len || s[i + 2] == '/' ||
		    s[i + 2] == '\0'))
			return "\"..\" from the message";
	}
	return NULL;
}

/* rc_expand_str - one expanded string (allocated); "" on error */
char *
rc_expand_str(struct rc *rc, const char *raw, enum rc_expand_mode mode)
{
	struct buf b;
	char *err = NULL;

	buf_init(&b, RC_VALUE_MAX);
	if (rc_expand(rc, raw, mode, &b, NULL, &err) == -1) {
		rc_error(rc, 0, "%s", err);
		free(err);
		buf_reset(&b);
	}
	return buf_steal(&b);
}

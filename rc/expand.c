/*
 * expand.c - procmail's "readparse": quoting, $VAR, ${VAR:-x}, $\VAR,
 * backquotes, and splitting into words, for text the parser kept raw.
 * Does: the three modes procmail uses (action words, one assignment
 * value, a double-quoted condition); backquotes run through rc_exec.
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
};

/* exp_putc - one byte of output */
static void
exp_putc(struct exp *e, int c)
{
	if (buf_putc(e->out, c) == -1)
		e->over = 1;
}

/* exp_getc - the next input byte, or -1 at the end */
static int
exp_getc(struct exp *e)
{
	return e->i < e->len ? (unsigned char)e->s[e->i++] : -1;
}

/* exp_split - append value, split into words where the mode wants it */
static void
exp_split(struct exp *e, const char *v)
{
	if (e->got == DOUBLE_QUOTED || e->mode != RC_EXP_WORDS) {
		if (buf_puts(e->out, v) == -1)
			e->over = 1;
		if (*v && e->got <= SKIPPING_SPACE)
			e->got = NORMAL_TEXT;
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
}

/* exp_alnum - a character of a variable name */
static int
exp_alnum(int c)
{
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

/* exp_value - the value of a $name (numbers are positional) */
static const char *
exp_value(struct exp *e, const char *name)
{
	if (name[0] >= '0' && name[0] <= '9') {
		size_t n = (size_t)(name[0] - '0');
		if (n == 0)
			return "lda";
		return n <= e->rc->nargs ? e->rc->args[n - 1] : NULL;
	}
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
		    .with_from = 1, .out_fd = -1, .out = &res };
		char *err = NULL;
		int st = rc_exec(e->rc, &p, &err);
		if (st < 0)
			free(err);
		rc_trace(e->rc, "Backquote \"%s\" ran (also under --test): "
		    "exit %d", cmd.s, st);
	}
	while (res.len && res.s[res.len - 1] == '\n')
		res.s[--res.len] = '\0';
	exp_split(e, res.s);
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

	while ((c = exp_getc(e)) != -1 && exp_alnum(c)) {
		if (n < sizeof name - 1)
			name[n++] = (char)c;
	}
	if (c == -1 && n == 0)
		return;
	name[n] = '\0';
	v = exp_value(e, name);
	if (c == '}') {
		exp_split(e, v ? v : "");
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
			exp_split(e, v ? v : "");
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
exp_quoted(struct exp *e, const char *v)
{
	struct buf q;

	buf_init(&q, RC_VALUE_MAX);
	buf_puts(&q, "()");
	for (; v && *v; v++) {
		if (strchr("(|)*?+.^$[\\", *v))
			buf_putc(&q, '\\');
		buf_putc(&q, *v);
	}
	if (buf_puts(e->out, q.s) == -1)
		e->over = 1;
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
				exp_split(e, e->rc->args[i]);
			}
		else
			exp_putc(e, '@');
		return;
	}
	if (c >= '0' && c <= '9') {
		name[0] = (char)c;
		name[1] = '\0';
		const char *v = exp_value(e, name);
		exp_split(e, v ? v : "");
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
	if (quoted)
		exp_quoted(e, exp_value(e, name));
	else {
		const char *v = exp_value(e, name);
		exp_split(e, v ? v : "");
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

	while ((c = exp_getc(e)) != -1 && !e->over) {
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
	if (e.over) {
		*err = xasprintf("expanded value longer than %u bytes",
		    RC_VALUE_MAX);
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
	return 0;
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

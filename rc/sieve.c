/*
 * sieve.c - "lda --to-sieve RCFILE": walk the parsed rc (rc/parse.c's
 * tree, INCLUDERC files with literal names inline) and write the Sieve
 * script that files a message where lda with STORE would: the same
 * store folder names (lda/store.c's store_folder), procmail's control
 * flow (stop after a delivering recipe, nested blocks, the A/a/E/e
 * state in variables), header regexes per named field.
 * Does: report every construct without an exact Sieve form, with
 * file:line and why, on stderr and as a comment in the script.
 * Does not: run a program, expand backquotes, read the message, or
 * guess: a construct that is not exact is reported, never approximated.
 */
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lda/mailspool.h"
#include "../lda/store.h"
#include "../lda/xalloc.h"
#include "rcint.h"
#include "regex.h"
#include "sieve.h"

/* The extensions a script may need, in "require" order. */
enum {
	SV_FILEINTO = 1 << 0, SV_COPY = 1 << 1, SV_REGEX = 1 << 2,
	SV_VARIABLES = 1 << 3, SV_BODY = 1 << 4, SV_COMPARATOR = 1 << 5,
	SV_ENVELOPE = 1 << 6,
};
static const char *const sv_ext_names[] = {
	"fileinto", "copy", "regex", "variables", "body",
	"comparator-i;octet", "envelope",
};

/* Where $MATCH stands in an expanded text (a \/ set it at run time). */
#define SV_MATCH	'\001'

struct sv_var {
	char *name;
	char *value;		/* NULL: unknown (computed, or conditional) */
};

struct sv {
	struct buf body;	/* the script after its "require" */
	struct buf report;	/* "file:line: why" lines */
	unsigned ext;
	int chain;		/* keep procmail's A/a/E/e state in variables */
	int uses_chain;		/* an A/a/E/e flag was seen */
	int indent;
	int include;		/* INCLUDERC nesting */
	int block;		/* nested block depth */
	int ended;		/* SWITCHRC at the top: the rest never runs */
	int recipes, recipes_reported, reported;
	int cap_ok;		/* a \/ may stand in the condition at hand */
	int captured;		/* ... and one did: ${1} is $MATCH */
	int cap_empty;		/* ... and it may be empty */
	int match_live;		/* $MATCH is the Sieve variable "match" */
	int from_line;		/* ^FROM_DAEMON: the script sets "from_" */
	struct sv_var *vars;
	size_t nvars;
	struct store_settings set;	/* only the separator is used */
	struct buf copied;	/* "\n"-ended mailboxes filed with :copy */
	const char *file;
};

/* ---------------------------------------------------------- variables */

/* sv_var_find - the variable name, or NULL */
static struct sv_var *
sv_var_find(struct sv *sv, const char *name, size_t n)
{
	for (size_t i = 0; i < sv->nvars; i++)
		if (strlen(sv->vars[i].name) == n &&
		    strncmp(sv->vars[i].name, name, n) == 0)
			return &sv->vars[i];
	return NULL;
}

/* sv_var_set - name becomes value (NULL: unknown; "" for unset) */
static void
sv_var_set(struct sv *sv, const char *name, const char *value)
{
	struct sv_var *v = sv_var_find(sv, name, strlen(name));

	if (v == NULL) {
		sv->vars = xreallocarray(sv->vars, sv->nvars + 1,
		    sizeof *sv->vars);
		v = &sv->vars[sv->nvars++];
		v->name = xstrdup(name);
		v->value = NULL;
	}
	free(v->value);
	v->value = value ? xstrdup(value) : NULL;
	if (strcmp(name, "STORE_SEPARATOR") == 0)
		sv->set.separator = value && *value == '/' ? '/' : '.';
}

/* sv_get - a known value ("" when never set), or NULL when unknown */
static const char *
sv_get(struct sv *sv, const char *name)
{
	struct sv_var *v = sv_var_find(sv, name, strlen(name));

	return v ? v->value : "";
}

/*
 * sv_expand - raw text with $NAME and ${NAME} of known variables
 * replaced, as the rc would at run time. Returns the text (allocated),
 * or NULL with *why: a backquote, quotes, another $ form, or a
 * variable whose value is not known when the rc is read.
 */
static char *
sv_expand(struct sv *sv, const char *raw, const char **why)
{
	struct buf b;

	buf_init(&b, RC_VALUE_MAX);
	for (const char *p = raw; *p; p++) {
		const char *name, *val;
		size_t n;
		struct sv_var *v;
		if (*p == '`') {
			*why = "backquotes (a program's output)";
			goto fail;
		}
		if (*p == '"' || *p == '\'' || *p == '\\') {
			*why = "quotes or a backslash in the text";
			goto fail;
		}
		if (*p != '$') {
			buf_putc(&b, *p);
			continue;
		}
		name = p + 1 + (p[1] == '{');
		n = strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
		    "qrstuvwxyz0123456789_");
		if (n == 0 || (name[0] >= '0' && name[0] <= '9') ||
		    (p[1] == '{' && name[n] != '}')) {
			*why = "a $ form other than $NAME or ${NAME} (an "
			    "argument, $$, a default value)";
			goto fail;
		}
		v = sv_var_find(sv, name, n);
		val = v ? v->value : "";
		if (n == 5 && strncmp(name, "MATCH", 5) == 0 && sv->match_live) {
			/* a \/ set it: the script's "match" (sv_folders) */
			buf_putc(&b, SV_MATCH);
			p = name + n - (p[1] != '{');
			continue;
		}
		if (val == NULL) {
			*why = "a variable whose value is only known when a "
			    "message arrives";
			goto fail;
		}
		buf_puts(&b, val);
		p = name + n - (p[1] != '{');
	}
	return buf_steal(&b);
fail:
	buf_free(&b);
	return NULL;
}

/* ---------------------------------------------------------- output */

/* sv_line - one line of the script at the current indent */
static void
sv_line(struct sv *sv, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1)
		s = NULL;
	va_end(ap);
	for (int i = 0; i < sv->indent; i++)
		buf_puts(&sv->body, "    ");
	buf_puts(&sv->body, s ? s : "");
	buf_putc(&sv->body, '\n');
	free(s);
}

/* sv_quote_part - s[0..n) escaped for the inside of a Sieve string;
   -1 as sv_quote */
static int
sv_quote_part(struct buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 32 && s[i] != '\t')
			return -1;
		if (s[i] == '$' && i + 1 < n && s[i + 1] == '{')
			return -1;
		if (s[i] == '"' || s[i] == '\\')
			buf_putc(b, '\\');
		buf_putc(b, s[i]);
	}
	return 0;
}

/* sv_quote - s as a Sieve quoted string; -1 when it holds "${" (the
   variables extension would expand it) or a byte no script may hold */
static int
sv_quote(struct buf *b, const char *s)
{
	int r;

	buf_putc(b, '"');
	r = sv_quote_part(b, s, strlen(s));
	buf_putc(b, '"');
	return r;
}

/* sv_report - a construct at line without an exact form: said on the
   report and as a comment where it would have been */
static void
sv_report(struct sv *sv, int line, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1)
		s = NULL;
	va_end(ap);
	buf_printf(&sv->report, "%s:%d: %s\n", sv->file, line, s ? s : "");
	sv_line(sv, "# NOT TRANSLATED %s:%d: %s", sv->file, line, s ? s : "");
	free(s);
	sv->reported++;
}

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

/* ---------------------------------------------------------- actions */

/* sv_words - how many blank-separated words s has */
static size_t
sv_words(const char *s)
{
	size_t n = 0;

	while (*(s += strspn(s, " \t\n"))) {
		n++;
		s += strcspn(s, " \t\n");
	}
	return n;
}

/* sv_box - the mailbox box as a Sieve string, $MATCH as ${match} */
static int
sv_box(struct buf *a, const char *box)
{
	const char *m = strchr(box, SV_MATCH);
	int r;

	buf_putc(a, '"');
	if (m == NULL)
		r = sv_quote_part(a, box, strlen(box));
	else {
		r = sv_quote_part(a, box, (size_t)(m - box));
		buf_puts(a, "${match}");
		r |= sv_quote_part(a, m + 1, strlen(m + 1));
	}
	buf_putc(a, '"');
	return r;
}

/* sv_words_out - the folders of the expanded text as statements in a;
   -1 with *why */
static int
sv_words_out(struct sv *sv, int copy, char *text, struct buf *a,
    const char **why)
{
	char *w, *save = NULL;
	int n = 0, rv = 0, again = 0;
	size_t words = sv_words(text);
	const char *md = sv_get(sv, "MAILDIR"), *def = sv_get(sv, "DEFAULT"),
	    *org = sv_get(sv, "ORGMAIL");

	if (md == NULL || def == NULL || org == NULL) {
		*why = "MAILDIR, DEFAULT or ORGMAIL is only known when a "
		    "message arrives";
		return -1;
	}
	for (w = strtok_r(text, " \t\n", &save); w && rv == 0;
	    w = strtok_r(NULL, " \t\n", &save), n++) {
		char *name = NULL;
		size_t len = strlen(w);
		if (n == 0 && words > 1 && w[len - 1] != '/' &&
		    !(len > 1 && strcmp(w + len - 2, "/.") == 0)) {
			/* lda (procmail) skips the rest after a file */
			*why = "several folders after one that may be a file "
			    "(procmail skips the others when it is an mbox)";
			return -1;
		}
		if (strcmp(w, "/dev/null") == 0) {
			if (!copy)
				buf_puts(a, "discard;\n");
			continue;
		}
		if (!store_folder(&sv->set, w, md, def, org, &name)) {
			*why = "a local file outside MAILDIR (an absolute "
			    "path: lda writes it itself, not the store)";
			rv = -1;
		} else if (name == NULL)
			buf_puts(a, "keep;\n");
		else if (strstr(name, "..") || *name == sv->set.separator ||
		    name[strlen(name) - 1] == sv->set.separator) {
			*why = "a folder name with an empty or \"..\" level "
			    "(Cyrus and Dovecot read it differently)";
			rv = -1;
		} else {
			struct sv_var *pv = sv_var_find(sv, "SIEVE_PREFIX", 12);
			char dflt[] = "INBOX.";
			char *box;
			/* unless given: INBOX and the separator in force */
			dflt[5] = sv->set.separator;
			box = xasprintf("%s%s", pv == NULL ? dflt : pv->value ?
			    pv->value : "", name);
			char *line = xasprintf("\n%s\n", box);
			if (copy && strstr(sv->copied.s, line) == NULL)
				buf_puts(&sv->copied, line + 1);
			else if (!copy && strstr(sv->copied.s, line))
				again = 1;
			free(line);
			buf_printf(a, "fileinto %s", copy ? ":copy " : "");
			if (sv_box(a, box) == -1) {
				*why = "a folder name with \"${\" or a control "
				    "character";
				rv = -1;
			}
			buf_puts(a, ";\n");
			sv->ext |= SV_FILEINTO | (copy ? SV_COPY : 0);
			free(box);
		}
		free(name);
	}
	if (rv == 0 && n == 0) {
		*why = "an empty folder list";
		rv = -1;
	}
	/* Pigeonhole merges a fileinto with an earlier ":copy" one into
	   the same mailbox and keeps the :copy (the implicit keep stays):
	   say that this delivery ends the implicit keep */
	if (again)
		buf_puts(a, "discard;\n");
	return rv;
}

/*
 * sv_match_folder - a folder named with $MATCH (one word): lda files it
 * under the name the message gave, refuses a name from the message that
 * would make another word, begin a level with "." or leave the folders
 * (the recipe fails, the rc goes on), and makes levels of its "/"
 * (which the script cannot: it files nothing then, as for a refusal);
 * an empty $MATCH is the name without it. Returns 1 (the stops are in
 * a) or -1 with *why.
 */
static int
sv_match_folder(struct sv *sv, int copy, char *text, struct buf *a,
    const char **why)
{
	char *w = text + strspn(text, " \t\n"), *m, *name = NULL, *empty;
	const char *md = sv_get(sv, "MAILDIR"), *def = sv_get(sv, "DEFAULT"),
	    *org = sv_get(sv, "ORGMAIL");
	struct buf re;
	size_t len;
	int comp, rv;

	w[strcspn(w, " \t\n")] = '\0';
	m = strchr(w, SV_MATCH);
	if (sv_words(text) != 1 || strchr(m + 1, SV_MATCH) || sv->chain) {
		*why = "$MATCH in a folder list of several words, twice, or in "
		    "an rc with A/a/E/e flags (a name lda refuses makes the "
		    "recipe fail)";
		return -1;
	}
	if (md == NULL || def == NULL || org == NULL ||
	    !store_folder(&sv->set, w, md, def, org, &name) || name == NULL ||
	    strchr(name, SV_MATCH) == NULL) {
		free(name);
		*why = "$MATCH where the message would choose a local file or "
		    "the INBOX";
		return -1;
	}
	len = strlen(w);
	comp = m == w || m[-1] == '/';
	buf_init(&re, 0);
	buf_puts(&re, "[ \t/]");
	if (comp)
		buf_puts(&re, "|^\\\\.");
	if (name[0] == SV_MATCH)
		buf_puts(&re, "|^inbox([./]|$)");
	if (w[0] == '.' && w[len - 1] == '/' && sv->set.separator == '/')
		buf_puts(&re, "|\\\\.");
	free(name);
	/* the empty $MATCH: the name without it */
	empty = xstrdup(w);
	memmove(empty + (m - w), empty + (m - w) + 1, len - (size_t)(m - w));
	/* this recipe's own \/ may leave it empty, or an earlier one did */
	if (!sv->captured || sv->cap_empty) {
		buf_puts(a, "if string :is \"${match}\" \"\" {\n");
		if (sv_words(empty) == 0)
			buf_puts(a, "# an empty name: lda's recipe fails\n");
		else if (sv_words_out(sv, copy, empty, a, why) == -1) {
			free(empty);
			buf_free(&re);
			return -1;
		} else if (!copy)
			buf_puts(a, "stop;\n");
		buf_puts(a, "} els");
	}
	buf_printf(a, "if string :regex \"${match}\" \"%s\" {\n# a name lda "
	    "refuses from the message (the recipe fails), or one it makes "
	    "levels of\n} else {\n", re.s);
	sv->ext |= SV_REGEX | SV_VARIABLES;
	rv = sv_words_out(sv, copy, text, a, why);
	if (rv == 0 && !copy)
		buf_puts(a, "stop;\n");
	buf_puts(a, "}\n");
	free(empty);
	buf_free(&re);
	return rv == -1 ? -1 : 1;
}

/* sv_folders - a folder action as statements in a; 0, 1 when the
   stops are in a already, -1 with *why */
static int
sv_folders(struct sv *sv, const struct rc_recipe *r, struct buf *a,
    const char **why)
{
	char *text = sv_expand(sv, r->action, why);
	int copy = (r->flags & RC_F_c) != 0, rv;

	if (text == NULL)
		return -1;
	if (strchr(text, SV_MATCH))
		rv = sv_match_folder(sv, copy, text, a, why);
	else
		rv = sv_words_out(sv, copy, text, a, why);
	free(text);
	return rv;
}

/* sv_forward - "! address..." as redirects in a; -1 with *why */
static int
sv_forward(struct sv *sv, const struct rc_recipe *r, struct buf *a,
    const char **why)
{
	char *text = sv_expand(sv, r->action, why), *w, *save = NULL;
	int copy = (r->flags & RC_F_c) != 0, n = 0;

	if (text == NULL)
		return -1;
	if (strchr(text, SV_MATCH)) {
		free(text);
		*why = "a forward to an address from the message ($MATCH)";
		return -1;
	}
	for (w = strtok_r(text, " \t\n", &save); w;
	    w = strtok_r(NULL, " \t\n", &save), n++) {
		if (*w == '-' || strchr(w, '@') == NULL) {
			free(text);
			*why = "a forward with sendmail options or a local "
			    "name (Sieve redirects to an address)";
			return -1;
		}
		buf_printf(a, "redirect %s", copy ? ":copy " : "");
		sv_quote(a, w);
		buf_puts(a, ";\n");
		sv->ext |= copy ? SV_COPY : 0;
	}
	free(text);
	if (n == 0) {
		*why = "a forward without an address";
		return -1;
	}
	return 0;
}

/* sv_action - r's action (not a block) as statements in a */
static int
sv_action(struct sv *sv, const struct rc_recipe *r, struct buf *a,
    const char **why)
{
	unsigned hb = r->flags & (RC_F_h | RC_F_b);
	int stops = 0;

	if (r->capture || r->act == RC_ACT_PIPE) {
		*why = (r->flags & RC_F_f) ? "a filter (f: a program changes "
		    "the message)" : "a program (\"|\"): nothing is run";
		return -1;
	}
	if (hb && hb != (RC_F_h | RC_F_b)) {
		*why = "h or b alone: only part of the message is delivered";
		return -1;
	}
	if (r->lock && r->lockfile) {
		*why = "a lockfile (\":0:name\")";
		return -1;
	}
	if (r->act == RC_ACT_FORWARD) {
		if (sv_forward(sv, r, a, why) == -1)
			return -1;
	} else if (r->act != RC_ACT_FOLDER) {
		*why = "a recipe without an action";
		return -1;
	} else if ((stops = sv_folders(sv, r, a, why)) == -1)
		return -1;
	if (!(r->flags & RC_F_c) && !stops)
		buf_puts(a, "stop;\n");
	return 0;
}

/* ---------------------------------------------------------- the walk */

static void sv_list(struct sv *sv, const struct rc_node *n);

/* sv_lines - the statements of a ("...\n" each) at the current indent */
static void
sv_lines(struct sv *sv, const char *a)
{
	while (*a) {
		size_t n = strcspn(a, "\n");
		if (*a == '}')
			sv->indent--;
		sv_line(sv, "%.*s", (int)n, a);
		if (n && a[n - 1] == '{')
			sv->indent++;
		a += n + (a[n] == '\n');
	}
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
static int
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

/* sv_chain_test - the A/a/E/e part of the test ("" when none) */
static const char *
sv_chain_test(unsigned f)
{
	/* e: the previous action failed; a store folder never fails
	   while the rc runs (the copies go at the end), so never */
	if (f & RC_F_e)
		return "false";
	if ((f & RC_F_E) && (f & (RC_F_A | RC_F_a)))
		return "string :is \"${pc}\" \"0\", string :is \"${lc}\" \"1\"";
	if (f & RC_F_E)
		return "string :is \"${pc}\" \"0\"";
	if (f & (RC_F_A | RC_F_a))
		return "string :is \"${lc}\" \"1\"";
	return "";
}

/* sv_body - what runs when r matched: its action, or its block */
static void
sv_body(struct sv *sv, const struct rc_recipe *r, const char *act)
{
	if (r->act != RC_ACT_BLOCK) {
		sv_lines(sv, act);
		return;
	}
	if (sv->chain) {
		sv_line(sv, "set \"lc%d\" \"${lc}\";", sv->block);
		sv_line(sv, "set \"pc%d\" \"${pc}\";", sv->block);
	}
	sv->block++;
	sv_list(sv, r->block);
	sv->block--;
	if (sv->chain) {
		sv_line(sv, "set \"lc\" \"${lc%d}\";", sv->block);
		sv_line(sv, "set \"pc\" \"${pc%d}\";", sv->block);
	}
}

/* sv_recipe - one recipe */
static void
sv_recipe(struct sv *sv, const struct rc_node *n)
{
	const struct rc_recipe *r = n->recipe;
	struct buf t, a;
	const char *why = NULL, *ch = sv_chain_test(r->flags), *cap;
	int line = n->line;

	sv->recipes++;
	if (r->flags & (RC_F_A | RC_F_a | RC_F_E | RC_F_e))
		sv->uses_chain = 1;
	buf_init(&t, 0);
	buf_init(&a, 0);
	if (r->broken)
		why = "a recipe with a syntax error (lda skips it)";
	else if (r->act == RC_ACT_BLOCK && (r->flags & RC_F_c))
		why = "c on a block: procmail's clone runs the block and then "
		    "the rest of the rc a second time";
	else if (r->act == RC_ACT_BLOCK && r->lock && r->lockfile)
		why = "a lockfile on a block";
	else if (sv_conds(sv, r, &t, &line, &why) == 0) {
		line = n->line;
		if (sv->captured && !sv->match_live) {
			/* from here on $MATCH is the script's "match" */
			const char *m = sv_get(sv, "MATCH");
			sv->match_live = 1;
			if (m && *m) {
				struct buf q;
				buf_init(&q, 0);
				if (sv_quote(&q, m) == 0)
					sv_line(sv, "set \"match\" %s;", q.s);
				buf_free(&q);
			}
		}
		if (r->act != RC_ACT_BLOCK)
			sv_action(sv, r, &a, &why);
	}
	if (why) {
		sv_report(sv, line, "%s", why);
		sv->recipes_reported++;
		buf_free(&t);
		buf_free(&a);
		return;
	}
	cap = sv->captured ? " set \"match\" \"${1}\";" : "";
	sv_line(sv, "# %s:%d", sv->file, n->line);
	if (sv->captured)
		sv->ext |= SV_VARIABLES;
	if (sv->chain) {
		sv_line(sv, "set \"i\" \"0\";");
		if (*ch && t.len)
			sv_line(sv, "if allof(%s, %s) { set \"i\" \"1\";%s }",
			    ch, t.s, cap);
		else if (*ch || t.len)
			sv_line(sv, "if %s%s%s { set \"i\" \"1\";%s }",
			    *ch && strchr(ch, ',') ? "allof(" : "", *ch ? ch :
			    t.s, *ch && strchr(ch, ',') ? ")" : "", cap);
		else
			sv_line(sv, "set \"i\" \"1\";");
		if (!(r->flags & (RC_F_A | RC_F_a)))
			sv_line(sv, "set \"lc\" \"${i}\";");
		if (r->flags & RC_F_E)
			sv_line(sv, "if string :is \"${pc}\" \"0\" "
			    "{ set \"pc\" \"${i}\"; }");
		else
			sv_line(sv, "set \"pc\" \"${i}\";");
		sv_line(sv, "if string :is \"${i}\" \"1\" {");
	} else if (t.len)
		sv_line(sv, "if %s {", t.s);
	if (sv->chain || t.len)
		sv->indent++;
	if (!sv->chain && sv->captured)
		sv_line(sv, "%s", cap + 1);
	sv_body(sv, r, a.s);
	if (sv->chain || t.len) {
		sv->indent--;
		sv_line(sv, "}");
	}
	buf_free(&t);
	buf_free(&a);
}

/* sv_report_parse - a parse error of a file we translate */
static void
sv_report_parse(void *arg, const char *path, int line, int warn,
    const char *msg)
{
	struct sv *sv = arg;

	if (warn)
		return;
	buf_printf(&sv->report, "%s:%d: %s\n", path, line, msg);
	sv->reported++;
}

/* sv_file - translate the rc file path here (INCLUDERC, SWITCHRC) */
static int
sv_file(struct sv *sv, const char *path, int line)
{
	const char *saved = sv->file;
	struct rc_file *f;
	char *err = NULL;

	if (sv->include >= RC_INCLUDE_MAX) {
		sv_report(sv, line, "rc files nested deeper than %d",
		    RC_INCLUDE_MAX);
		return -1;
	}
	f = rc_parse_path(path, sv_report_parse, sv, &err);
	if (f == NULL) {
		sv_report(sv, line, "%s", err);
		free(err);
		return -1;
	}
	sv_line(sv, "# from %s", f->path);
	sv->include++;
	sv->file = f->path;
	sv_list(sv, f->first);
	sv->file = saved;
	sv->include--;
	rc_file_free(&f);
	return 0;
}

/* sv_rcfile - the path an INCLUDERC/SWITCHRC value names (MAILDIR is
   the directory relative names start from) */
static char *
sv_rcfile(struct sv *sv, const char *v)
{
	const char *md = sv_get(sv, "MAILDIR");

	if (v[0] == '/' || md == NULL)
		return xstrdup(v);
	return xasprintf("%s/%s", md, v);
}

/* The variables whose assignment changes where mail goes, or that have
   no Sieve form; the others (LOGFILE, VERBOSE, SHELL...) are kept as
   values only. */
static const struct {
	const char *name, *why;
} sv_untranslatable[] = {
	{ "LOCKFILE", "a global lockfile (LOCKFILE)" },
	{ "HOST", "HOST (a mismatch ends the rc without delivery)" },
	{ "TRAP", "TRAP (a program run at the end)" },
	{ "EXITCODE", "EXITCODE (the exit code lda gives the MTA)" },
	{ "DELIVERED", "DELIVERED (pretends delivery)" },
	{ "FILTERS", "FILTERS (lda's filters run before the rc)" },
};

/* sv_assign - one assignment */
static void
sv_assign(struct sv *sv, const struct rc_node *n)
{
	const char *why = NULL;
	char *v = NULL;

	for (size_t i = 0; i < sizeof sv_untranslatable /
	    sizeof sv_untranslatable[0]; i++)
		if (strcmp(n->name, sv_untranslatable[i].name) == 0) {
			sv_report(sv, n->line, "%s", sv_untranslatable[i].why);
			sv_var_set(sv, n->name, NULL);
			return;
		}
	if (n->value && (v = sv_expand(sv, n->value, &why)) == NULL) {
		sv_var_set(sv, n->name, NULL);
		/* a value only known at run time: harmless until it is
		   used where it matters (said there) */
		if (strcmp(n->name, "INCLUDERC") == 0 ||
		    strcmp(n->name, "SWITCHRC") == 0)
			sv_report(sv, n->line, "%s with a computed name (%s)",
			    n->name, why);
		else if (strchr(n->value, '`'))
			sv_report(sv, n->line, "%s=`...`: backquotes (a "
			    "program) are not run", n->name);
		return;
	}
	if (v && strchr(v, SV_MATCH)) {
		/* a value from the message */
		if (strcmp(n->name, "INCLUDERC") == 0 ||
		    strcmp(n->name, "SWITCHRC") == 0)
			sv_report(sv, n->line, "%s named by $MATCH", n->name);
		else if (strcmp(n->name, "MATCH") != 0)
			sv_var_set(sv, n->name, NULL);
		free(v);
		return;
	}
	if (strcmp(n->name, "MATCH") == 0 && sv->match_live) {
		struct buf q;
		buf_init(&q, 0);
		if (sv_quote(&q, v ? v : "") == -1)
			sv_report(sv, n->line, "MATCH=\"${...\"");
		else
			sv_line(sv, "set \"match\" %s;", q.s);
		buf_free(&q);
	}
	if (strcmp(n->name, "INCLUDERC") == 0 ||
	    strcmp(n->name, "SWITCHRC") == 0) {
		int sw = n->name[0] == 'S';
		char *path;
		if (sw && (sv->include > 0 || sv->block > 0)) {
			sv_report(sv, n->line, "SWITCHRC inside an included "
			    "file or a block (the rest of that file is "
			    "skipped at run time)");
			free(v);
			return;
		}
		if (v && *v) {
			path = sv_rcfile(sv, v);
			sv_file(sv, path, n->line);
			free(path);
		}
		if (sw)
			sv->ended = 1;
		free(v);
		return;
	}
	/* inside a block the value is conditional: unknown after */
	sv_var_set(sv, n->name, sv->block > 0 ? NULL : v ? v : "");
	free(v);
}

/* sv_list - statements in order */
static void
sv_list(struct sv *sv, const struct rc_node *n)
{
	for (; n && !sv->ended; n = n->next) {
		if (n->kind == RC_NODE_ASSIGN)
			sv_assign(sv, n);
		else
			sv_recipe(sv, n);
	}
}

/* sv_default - the end of the rc: DEFAULT */
static void
sv_default(struct sv *sv)
{
	struct rc_recipe r = { .act = RC_ACT_FOLDER };
	struct buf a;
	const char *why = NULL, *def = sv_get(sv, "DEFAULT");

	if (def == NULL) {
		sv->file = "DEFAULT";
		sv_report(sv, 0, "DEFAULT is only known when a message arrives");
		return;
	}
	buf_init(&a, 0);
	r.action = (char *)def;
	if (sv_folders(sv, &r, &a, &why) == -1)
		sv_report(sv, 0, "DEFAULT=%s: %s", def, why);
	else if (strcmp(a.s, "keep;\n") != 0) {
		/* not the INBOX: the fall-back lda takes instead of it */
		sv_line(sv, "# the end of the rc: DEFAULT=%s", def);
		sv_lines(sv, a.s);
	}
	buf_free(&a);
}

/* sv_setup - the variables an rc starts with, as lda's rc_new sets
   them for the invoking user, then the command line's */
static void
sv_setup(struct sv *sv, char *const *assigns, size_t nassigns)
{
	struct passwd *pw = getpwuid(getuid());
	const char *home = pw && pw->pw_dir ? pw->pw_dir : "/";
	char *org = xasprintf(MAIL_SPOOL_DIR "/%s", pw ? pw->pw_name : "");

	sv->set.separator = '.';
	sv_var_set(sv, "HOME", home);
	sv_var_set(sv, "MAILDIR", home);
	sv_var_set(sv, "DEFAULT", org);
	sv_var_set(sv, "ORGMAIL", org);
	free(org);
	for (size_t i = 0; i < nassigns; i++) {
		char *name = xstrdup(assigns[i]), *eq = strchr(name, '=');
		if (eq) {
			*eq = '\0';
			sv_var_set(sv, name, eq + 1);
		}
		free(name);
	}
}

/* sv_run - one translation of path; chain: keep the A/E state */
static int
sv_run(struct sv *sv, const char *path, char *const *assigns,
    size_t nassigns, int chain)
{
	memset(sv, 0, sizeof *sv);
	buf_init(&sv->body, 0);
	buf_init(&sv->report, 0);
	buf_init(&sv->copied, 0);
	buf_putc(&sv->copied, '\n');
	sv->chain = chain;
	sv->file = path;
	sv_setup(sv, assigns, nassigns);
	if (chain) {
		sv->ext |= SV_VARIABLES;
		sv_line(sv, "# procmail's A/a/E/e state: lc = the last "
		    "recipe without A/a matched, pc = the previous one did");
		sv_line(sv, "set \"lc\" \"0\";");
		sv_line(sv, "set \"pc\" \"0\";");
	}
	if (access(path, R_OK) == -1)
		return -1;
	sv_file(sv, path, 0);
	sv->file = path;
	sv->ended = 0;
	sv_default(sv);
	return 0;
}

/* sv_free - what sv_run made */
static void
sv_free(struct sv *sv)
{
	for (size_t i = 0; i < sv->nvars; i++) {
		free(sv->vars[i].name);
		free(sv->vars[i].value);
	}
	free(sv->vars);
	buf_free(&sv->body);
	buf_free(&sv->report);
	buf_free(&sv->copied);
}

/* rc_to_sieve - see sieve.h */
int
rc_to_sieve(const char *path, char *const *assigns, size_t nassigns,
    FILE *out, FILE *err)
{
	struct sv sv;
	int first = 1;

	if (sv_run(&sv, path, assigns, nassigns, 0) == -1) {
		fprintf(err, "lda: --to-sieve %s: cannot read it\n", path);
		sv_free(&sv);
		return SIEVE_EXIT_UNREADABLE;
	}
	if (sv.uses_chain) {
		sv_free(&sv);
		sv_run(&sv, path, assigns, nassigns, 1);
	}
	fprintf(out, "# Sieve script made by lda --to-sieve from %s\n", path);
	fprintf(out, "# %d recipes, %d not translated; %d constructs "
	    "reported\n", sv.recipes, sv.recipes_reported, sv.reported);
	if (sv.report.len) {
		const char *p = sv.report.s;
		fputs("# NOT TRANSLATED (see doc/sieve.md):\n", out);
		while (*p) {
			size_t n = strcspn(p, "\n");
			fprintf(out, "#   %.*s\n", (int)n, p);
			p += n + (p[n] == '\n');
		}
		fputs(sv.report.s, err);
	}
	if (sv.ext) {
		fputs("require [", out);
		for (size_t i = 0; i < sizeof sv_ext_names /
		    sizeof sv_ext_names[0]; i++)
			if (sv.ext & (1u << i)) {
				fprintf(out, "%s\"%s\"", first ? "" : ", ",
				    sv_ext_names[i]);
				first = 0;
			}
		fputs("];\n", out);
	}
	if (sv.from_line) {
		fputs("# procmail's From_ line: lda -f's sender, MAILER-DAEMON "
		    "for <>\n", out);
		fputs("set \"from_\" \"MAILER-DAEMON\";\n", out);
		fputs("if envelope :matches \"from\" \"?*\" { set \"from_\" "
		    "\"${0}\"; }\n", out);
	}
	fputs(sv.body.s, out);
	fflush(out);
	first = sv.reported ? SIEVE_EXIT_REPORTED : SIEVE_EXIT_EXACT;
	if (ferror(out)) {
		fprintf(err, "lda: --to-sieve: cannot write the script\n");
		first = SIEVE_EXIT_UNREADABLE;
	}
	sv_free(&sv);
	return first;
}

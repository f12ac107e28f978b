/*
 * parse.c - the rc parser: tokens from lex.c into the tree of tree.h.
 * Does: recipe flags and lockfile, conditions (weights, !, $, ?, <, >,
 * VAR ??, our ~), actions and nested blocks; every error with file:line
 * through the report callback, counted, and parsing goes on.
 * Does not: expand variables or run anything; regexes are compiled here
 * once, but matched in cond.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lda/fdio.h"
#include "../lda/xalloc.h"
#include "lex.h"
#include "parse.h"
#include "rcint.h"
#include "regex.h"

struct parser {
	struct rc_lex lx;
	struct rc_tok tok;
	struct rc_file *f;
	void (*report)(void *, const char *, int, int, const char *);
	void *arg;
	int depth;
};

/* p_report - one error (warn 0) or warning (warn 1) at line */
static void
p_report(struct parser *p, int line, int warn, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (warn)
		p->f->warnings++;
	else
		p->f->errors++;
	if (p->report)
		p->report(p->arg, p->f->path, line, warn, msg);
}

/* p_next - advance to the next token */
static void
p_next(struct parser *p)
{
	rc_tok_clear(&p->tok);
	rc_lex_next(&p->lx, &p->tok);
}

/* rc_parse_flags - the header after ":" into r; *bad_r: unknown letter */
int
rc_parse_flags(const char *h, struct rc_recipe *r, int *bad_r)
{
	const char *letters = RC_FLAG_LETTERS, *l, *start = h;

	*bad_r = 0;
	h += strspn(h, " \t");
	if (*h >= '0' && *h <= '9')
		h += strspn(h, "0123456789");
	for (; *h; h++) {
		if (*h == ' ' || *h == '\t')
			continue;
		if (*h == '#' && h > start && (h[-1] == ' ' || h[-1] == '\t'))
			return 0;	/* a comment, as in procmail */
		if (*h == ':') {
			const char *e;
			h++;
			if ((*h == ' ' || *h == '\t') &&
			    h[strspn(h, " \t")] == '#')
				h += strlen(h);	/* ":0: # comment" */
			h += strspn(h, " \t");
			for (e = h; *e; e++)	/* "name # comment" */
				if (*e == '#' && e > h && (e[-1] == ' ' ||
				    e[-1] == '\t'))
					break;
			while (e > h && (e[-1] == ' ' || e[-1] == '\t'))
				e--;
			r->lock = 1;
			if (e > h)
				r->lockfile = xstrndup(h, (size_t)(e - h));
			return 0;
		}
		if ((l = strchr(letters, *h)) == NULL) {
			*bad_r = (unsigned char)*h;
			return -1;
		}
		r->flags |= 1u << (l - letters);
		r->nflags_given = 1;
	}
	return 0;
}

/* rc_squeeze - drop backslash-newline and the blanks after it, trim */
void
rc_squeeze(char *s)
{
	char *d = s, *e;

	for (char *p = s; *p; p++) {
		if (p[0] == '\\' && p[1] == '\n') {
			p += 2;
			while (*p == ' ' || *p == '\t')
				p++;
			p--;
			continue;
		}
		*d++ = *p;
	}
	*d = '\0';
	e = d;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
}

/* cond_stod - procmail's number: sign, digits, "." or "," and digits */
static double
cond_stod(const char *s, const char **end)
{
	const char *p = s;
	double acc = 0, frac = 1;
	int any = 0, neg = 0;

	p += strspn(p, " \t");
	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	for (; *p >= '0' && *p <= '9'; p++, any = 1)
		acc = acc * 10 + (*p - '0');
	if (*p == '.' || *p == ',')
		for (p++; *p >= '0' && *p <= '9'; p++, any = 1)
			acc += (frac /= 10) * (*p - '0');
	*end = any ? p : s;
	return neg ? -acc : acc;
}

/* cond_weight - "w^x" at s: set c's weight, return what follows, or NULL */
static const char *
cond_weight(const char *s, struct rc_cond *c)
{
	const char *e1, *e2, *t;
	double w, x;

	w = cond_stod(s, &e1);
	if (e1 == s)
		return NULL;
	t = e1 + strspn(e1, " \t");
	if (*t != '^')
		return NULL;
	x = cond_stod(t + 1, &e2);
	if (e2 == t + 1)
		return NULL;
	c->weighted = 1;
	c->w = w;
	c->x = x;
	return e2 + strspn(e2, " \t");
}

/* cond_area - "NAME ??" at s: set c->area, return what follows, or NULL */
static const char *
cond_area(const char *s, struct rc_cond *c)
{
	size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuv"
	    "wxyz0123456789_");
	const char *t = s + n;

	if (n == 0 || (*s >= '0' && *s <= '9'))
		return NULL;
	t += strspn(t, " \t");
	if (t[0] != '?' || t[1] != '?')
		return NULL;
	free(c->area);
	c->area = xstrndup(s, n);
	t += 2;
	return t + strspn(t, " \t");
}

/*
 * rc_cond_parse - one condition's text (after "*", squeezed) into c;
 * regexes are compiled with the recipe's flags. Returns 0, or -1 with
 * *err set (allocated).
 */
int
rc_cond_parse(const char *s, unsigned flags, struct rc_cond *c, char **err)
{
	const char *t;

	for (;;) {
		s += strspn(s, " \t");
		if (!c->weighted && strchr("0123456789-+.,", *s) && *s &&
		    (t = cond_weight(s, c)) != NULL) {
			s = t;
			continue;
		}
		if (*s == '!') {
			c->negate ^= 1;
			s++;
			continue;
		}
		if (*s == '~') {
			c->extended = 1;
			s++;
			continue;
		}
		if (c->area == NULL && (t = cond_area(s, c)) != NULL) {
			s = t;
			continue;
		}
		break;
	}
	switch (*s) {
	case '$':
		c->kind = RC_COND_EXPAND;
		c->text = xstrdup(s + 1);
		return 0;
	case '?':
		c->kind = RC_COND_PROGRAM;
		c->text = xstrdup(s + 1 + strspn(s + 1, " \t"));
		return 0;
	case '<':
	case '>':
		c->kind = *s == '<' ? RC_COND_LESS : RC_COND_GREATER;
		c->text = xstrdup(s + 1);
		return 0;
	case '\\':
		s++;
		break;
	}
	c->kind = RC_COND_REGEX;
	c->text = xstrdup(s);
	return rc_cond_compile(c, flags, err);
}

/* rc_cond_compile - compile c's regex for the recipe flags */
int
rc_cond_compile(struct rc_cond *c, unsigned flags, char **err)
{
	int reflags = (flags & RC_F_D) ? 0 : RC_RE_ICASE;

	if (c->extended)
		reflags |= RC_RE_EXTENDED;
	return rc_regex_compile(c->text, reflags, &c->re, err);
}

/* rc_cond_clear - free what a condition holds */
void
rc_cond_clear(struct rc_cond *c)
{
	free(c->text);
	free(c->area);
	rc_regex_free(&c->re);
	memset(c, 0, sizeof *c);
}

/* p_cond - add the condition of the current token to r */
static void
p_cond(struct parser *p, struct rc_recipe *r)
{
	struct rc_cond *c;
	char *err = NULL;

	r->conds = xreallocarray(r->conds, r->nconds + 1, sizeof *r->conds);
	c = &r->conds[r->nconds++];
	memset(c, 0, sizeof *c);
	c->line = p->tok.line;
	rc_squeeze(p->tok.text);
	if (rc_cond_parse(p->tok.text, r->flags, c, &err) == -1) {
		p_report(p, c->line, 0, "bad condition \"%s\": %s",
		    p->tok.text, err);
		free(err);
		r->broken = 1;
	} else if (c->re != NULL && rc_regex_warning(c->re) != NULL)
		p_report(p, c->line, 1, "invalid regex \"%s\": %s",
		    p->tok.text, rc_regex_warning(c->re));
}

static struct rc_node *p_list(struct parser *p, int open_line);

/* p_flags_check - warn about flags that make no sense together */
static void
p_flags_check(struct parser *p, struct rc_recipe *r, int line)
{
	if ((r->flags & RC_F_e) && (r->flags & (RC_F_E | RC_F_a)))
		p_report(p, line, 1, "conflicting flags: e with E or a "
		    "(E and a are ignored)");
	if ((r->flags & RC_F_c) && (r->flags & RC_F_f))
		p_report(p, line, 1, "extraneous c flag on a filter");
}

/* p_action - the action token(s) of r */
static void
p_action(struct parser *p, struct rc_recipe *r)
{
	r->action_line = p->tok.line;
	switch (p->tok.kind) {
	case RC_TOK_OPEN:
		r->act = RC_ACT_BLOCK;
		p_next(p);
		p->depth++;
		r->block = p_list(p, r->action_line > 0 ? r->action_line : 1);
		p->depth--;
		return;
	case RC_TOK_FOLDER:
		r->act = RC_ACT_FOLDER;
		break;
	case RC_TOK_PIPE:
		r->act = RC_ACT_PIPE;
		break;
	case RC_TOK_FORWARD:
		r->act = RC_ACT_FORWARD;
		break;
	default:
		p_report(p, r->action_line, 0, "recipe without an action");
		r->broken = 1;
		return;		/* the token starts the next statement */
	}
	r->action = p->tok.text;
	r->capture = p->tok.name;
	p->tok.text = p->tok.name = NULL;
	if (r->act == RC_ACT_FOLDER && r->action[strspn(r->action,
	    " \t")] == '\0') {
		p_report(p, r->action_line, 0, "recipe without an action");
		r->broken = 1;
	} else if (r->act == RC_ACT_FOLDER && (r->action[0] == ':' ||
	    r->action[0] == '}'))
		p_report(p, r->action_line, 1, "\"%s\" is the action of the "
		    "recipe above, which has no action line: a folder of that "
		    "name, as in procmail", r->action);
	p_next(p);
}

/* p_recipe - a recipe: header, conditions, action */
static struct rc_recipe *
p_recipe(struct parser *p)
{
	struct rc_recipe *r = xcalloc(1, sizeof *r);
	int line = p->tok.line, bad;

	if (rc_parse_flags(p->tok.text, r, &bad) == -1)
		p_report(p, line, 1, "unknown flag '%c' (it and what follows "
		    "on the line are ignored, as procmail does)", bad);
	p_flags_check(p, r, line);
	p_next(p);
	while (p->tok.kind == RC_TOK_COND) {
		p_cond(p, r);
		p_next(p);
	}
	p_action(p, r);
	return r;
}

/* p_assign - an assignment or unset node */
static struct rc_node *
p_assign(struct parser *p)
{
	struct rc_node *n = xcalloc(1, sizeof *n);

	n->kind = RC_NODE_ASSIGN;
	n->line = p->tok.line;
	n->name = p->tok.name;
	n->value = p->tok.kind == RC_TOK_ASSIGN ? p->tok.text : NULL;
	if (n->value == NULL)
		free(p->tok.text);
	p->tok.text = p->tok.name = NULL;
	p_next(p);
	return n;
}

/*
 * p_list - statements up to the end (open_line 0) or the closing brace
 * of the block opened on open_line (which it consumes). Junk is reported
 * and skipped; a missing brace is an error reported where the block
 * opened, since that is where it is to be mended.
 */
static struct rc_node *
p_list(struct parser *p, int open_line)
{
	int nested = open_line > 0;

	struct rc_node *first = NULL, **tail = &first, *n;

	for (;;) {
		switch (p->tok.kind) {
		case RC_TOK_EOF:
			if (nested)
				p_report(p, open_line, 0, "missing '}': the "
				    "'{' opened here is not closed by the end "
				    "of the file");
			return first;
		case RC_TOK_CLOSE:
			if (nested) {
				p_next(p);
				return first;
			}
			p_report(p, p->tok.line, 0, "unexpected '}'");
			p_next(p);
			continue;
		case RC_TOK_ASSIGN:
		case RC_TOK_UNSET:
			n = p_assign(p);
			break;
		case RC_TOK_RECIPE:
			n = xcalloc(1, sizeof *n);
			n->kind = RC_NODE_RECIPE;
			n->line = p->tok.line;
			n->recipe = p_recipe(p);
			break;
		default:
			p_report(p, p->tok.line, 0, "skipped \"%s\"",
			    p->tok.text ? p->tok.text : "{");
			p_next(p);
			continue;
		}
		*tail = n;
		tail = &n->next;
	}
}

/* rc_parse_text - parse text (len bytes) of the file called path */
struct rc_file *
rc_parse_text(const char *path, const char *text, size_t len,
    void (*report)(void *, const char *, int, int, const char *), void *arg)
{
	struct parser p = { .report = report, .arg = arg };

	p.f = xcalloc(1, sizeof *p.f);
	p.f->path = xstrdup(path);
	if (memchr(text, '\0', len) != NULL)
		p_report(&p, 1, 1, "file contains NUL bytes; text after a NUL "
		    "on its line is ignored");
	rc_lex_init(&p.lx, text, len);
	rc_lex_next(&p.lx, &p.tok);
	p.f->first = p_list(&p, 0);
	rc_tok_clear(&p.tok);
	return p.f;
}

/* rc_read_file - the whole file (at most RC_FILE_MAX bytes) */
static char *
rc_read_file(const char *path, size_t *len_r, char **err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *text;
	ssize_t n;

	if (fd == -1) {
		*err = xasprintf("cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1 || st.st_size > (off_t)RC_FILE_MAX) {
		*err = xasprintf("%s: %s", path, errno ? strerror(errno) :
		    "file too large");
		close(fd);
		return NULL;
	}
	text = xmalloc((size_t)st.st_size + 1);
	n = fd_read_full(fd, text, (size_t)st.st_size);
	close(fd);
	if (n < 0) {
		*err = xasprintf("cannot read %s: %s", path, strerror(errno));
		free(text);
		return NULL;
	}
	text[n] = '\0';
	*len_r = (size_t)n;
	return text;
}

/* rc_parse_path - read and parse the file path; NULL with *err */
struct rc_file *
rc_parse_path(const char *path, void (*report)(void *, const char *, int,
    int, const char *), void *arg, char **err)
{
	size_t len = 0;
	char *text = rc_read_file(path, &len, err);
	struct rc_file *f;

	if (text == NULL)
		return NULL;
	f = rc_parse_text(path, text, len, report, arg);
	free(text);
	return f;
}

/* rc_node_free - free a list of nodes */
static void
rc_node_free(struct rc_node *n)
{
	while (n) {
		struct rc_node *next = n->next;
		if (n->recipe) {
			struct rc_recipe *r = n->recipe;
			for (size_t i = 0; i < r->nconds; i++)
				rc_cond_clear(&r->conds[i]);
			free(r->conds);
			free(r->lockfile);
			free(r->action);
			free(r->capture);
			rc_node_free(r->block);
			free(r);
		}
		free(n->name);
		free(n->value);
		free(n);
		n = next;
	}
}

/* rc_file_free - free a parsed file */
void
rc_file_free(struct rc_file **fp)
{
	if (*fp == NULL)
		return;
	rc_node_free((*fp)->first);
	free((*fp)->path);
	free(*fp);
	*fp = NULL;
}

/*
 * lex.c - the rc lexer: where each assignment, recipe header, condition
 * and action of a procmailrc ends, with its line number.
 * Does: procmail's line rules (backslash-newline, comments, quotes that
 * span lines, "{" only before a blank), raw text out.
 * Does not: expand variables or judge flags and conditions (parse.c),
 * report errors (junk is a token).
 */
#include <stdlib.h>
#include <string.h>

#include "../lda/xalloc.h"
#include "lex.h"

/* rc_lex_init - start at the beginning of s */
void
rc_lex_init(struct rc_lex *lx, const char *s, size_t len)
{
	lx->s = s;
	lx->i = 0;
	lx->len = len;
	lx->line = 1;
	lx->in_recipe = 0;
}

/* rc_tok_clear - free a token's text */
void
rc_tok_clear(struct rc_tok *t)
{
	free(t->text);
	free(t->name);
	t->text = t->name = NULL;
}

/* lex_peek - the byte at offset k from here, or -1 */
static int
lex_peek(const struct rc_lex *lx, size_t k)
{
	return lx->i + k < lx->len ? (unsigned char)lx->s[lx->i + k] : -1;
}

/* lex_adv - step over one byte, counting lines */
static void
lex_adv(struct rc_lex *lx)
{
	if (lx->i < lx->len && lx->s[lx->i++] == '\n')
		lx->line++;
}

/* lex_blanks - skip spaces and tabs */
static void
lex_blanks(struct rc_lex *lx)
{
	while (lex_peek(lx, 0) == ' ' || lex_peek(lx, 0) == '\t')
		lex_adv(lx);
}

/* lex_skip_empty - skip blanks, empty lines and comment lines */
static void
lex_skip_empty(struct rc_lex *lx)
{
	for (;;) {
		lex_blanks(lx);
		if (lex_peek(lx, 0) == '\n')
			lex_adv(lx);
		else if (lex_peek(lx, 0) == '#')
			while (lex_peek(lx, 0) != -1 && lex_peek(lx, 0) != '\n')
				lex_adv(lx);
		else
			return;
	}
}

/* lex_line - the rest of the line, backslash-newline continuing it */
static char *
lex_line(struct rc_lex *lx)
{
	size_t start = lx->i;
	int c;

	while ((c = lex_peek(lx, 0)) != -1 && c != '\n') {
		if (c == '\\' && lex_peek(lx, 1) == '\n')
			lex_adv(lx);
		lex_adv(lx);
	}
	{
		char *t = xstrndup(lx->s + start, lx->i - start);
		lex_adv(lx);
		return t;
	}
}

/*
 * lex_words - raw text as procmail's readparse would consume it: quotes
 * and backquotes may span lines; an unquoted newline (or, with one, an
 * unquoted blank after text) ends it; "#" at a word start is a comment.
 */
static char *
lex_words(struct rc_lex *lx, int one)
{
	size_t start = lx->i, end;
	int c, q = 0, text = 0;		/* q: quote char or 0 */

	while ((c = lex_peek(lx, 0)) != -1) {
		if (c == '\\' && q != '\'') {
			lex_adv(lx);
			if (lex_peek(lx, 0) != -1)
				lex_adv(lx);
			text = 1;
			continue;
		}
		if (q) {
			if (c == q)
				q = 0;
			lex_adv(lx);
			continue;
		}
		if (c == '"' || c == '\'' || c == '`') {
			q = c;
			text = 1;
		} else if (c == '\n') {
			break;
		} else if (c == ' ' || c == '\t') {
			if (one && text)
				break;
			text = 0;
		} else if (c == '#' && !text) {
			end = lx->i;
			while (lex_peek(lx, 0) != -1 && lex_peek(lx, 0) != '\n')
				lex_adv(lx);
			return xstrndup(lx->s + start, end - start);
		} else
			text = 1;
		lex_adv(lx);
	}
	end = lx->i;
	if (!one && c == '\n')
		lex_adv(lx);
	return xstrndup(lx->s + start, end - start);
}

/* lex_name - length of the variable name at the current position */
static size_t
lex_name(const struct rc_lex *lx)
{
	size_t n = 0;
	int c;

	while ((c = lex_peek(lx, n)) != -1 && (c == '_' ||
	    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9')))
		n++;
	if (n && lx->s[lx->i] >= '0' && lx->s[lx->i] <= '9')
		return 0;
	return n;
}

/* lex_blank_after - is the byte at k a blank, newline or the end? */
static int
lex_blank_after(const struct rc_lex *lx, size_t k)
{
	int c = lex_peek(lx, k);

	return c == -1 || c == ' ' || c == '\t' || c == '\n';
}

/* lex_statement - an assignment, an unset, or junk */
static void
lex_statement(struct rc_lex *lx, struct rc_tok *t)
{
	size_t n = lex_name(lx);
	int c;

	if (n == 0 || !(lex_blank_after(lx, n) || lex_peek(lx, n) == '=')) {
		t->kind = RC_TOK_JUNK;
		t->text = lex_line(lx);
		return;
	}
	t->name = xstrndup(lx->s + lx->i, n);
	lx->i += n;
	lex_blanks(lx);
	if (lex_peek(lx, 0) != '=') {
		t->kind = RC_TOK_UNSET;
		return;
	}
	lex_adv(lx);
	lex_blanks(lx);
	t->kind = RC_TOK_ASSIGN;
	c = lex_peek(lx, 0);
	t->text = c == '\n' || c == -1 ? xstrdup("") : lex_words(lx, 1);
}

/* lex_action - the action line after a recipe's conditions */
static void
lex_action(struct rc_lex *lx, struct rc_tok *t)
{
	int c = lex_peek(lx, 0);
	size_t n;

	/* Whatever line comes here is the action (procmail): a recipe
	   without one takes the next line, ":0c" or "}", as a folder. */
	lx->in_recipe = 0;
	if (c == '{' && lex_blank_after(lx, 1)) {
		lex_adv(lx);
		t->kind = RC_TOK_OPEN;
		return;
	}
	n = lex_name(lx);
	if (n) {
		size_t k = n;
		while (lex_peek(lx, k) == ' ' || lex_peek(lx, k) == '\t')
			k++;
		if (lex_peek(lx, k) == '=') {
			k++;
			while (lex_peek(lx, k) == ' ' || lex_peek(lx, k) == '\t')
				k++;
			c = lex_peek(lx, k);
			if (c == '|' || c == '!') {
				t->name = xstrndup(lx->s + lx->i, n);
				lx->i += k;
			}
		}
	}
	if (c == '|' || c == '!') {
		t->kind = c == '|' ? RC_TOK_PIPE : RC_TOK_FORWARD;
		lex_adv(lx);
		t->text = c == '|' ? lex_line(lx) : lex_words(lx, 0);
		return;
	}
	t->kind = RC_TOK_FOLDER;
	t->text = lex_words(lx, 0);
}

/* rc_lex_next - the next token */
void
rc_lex_next(struct rc_lex *lx, struct rc_tok *t)
{
	int c;

	t->text = t->name = NULL;
	lex_skip_empty(lx);
	t->line = lx->line;
	c = lex_peek(lx, 0);
	if (c == -1) {
		t->kind = RC_TOK_EOF;
		return;
	}
	if (c == ':' && !lx->in_recipe) {
		lex_adv(lx);
		t->kind = RC_TOK_RECIPE;
		t->text = lex_line(lx);
		lx->in_recipe = 1;
		return;
	}
	if (lx->in_recipe) {
		if (c == '*') {
			lex_adv(lx);
			t->kind = RC_TOK_COND;
			t->text = lex_line(lx);
			return;
		}
		lex_action(lx, t);
		return;
	}
	if (c == '{' || c == '}') {
		lex_adv(lx);
		t->kind = c == '{' ? RC_TOK_OPEN : RC_TOK_CLOSE;
		return;
	}
	lex_statement(lx, t);
}

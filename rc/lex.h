/*
 * lex.h - cut an rc file into the pieces procmail reads: assignments,
 * recipe headers, conditions, actions, braces.
 * Does: find where each piece ends (quotes, backslash-newline, comments),
 * count lines, keep each piece's raw text for later expansion.
 * Does not: expand, interpret flags or conditions, report errors (junk
 * comes back as an RC_TOK_JUNK token for the parser to report).
 */
#ifndef RC_LEX_H
#define RC_LEX_H

#include <stddef.h>

enum rc_tok_kind {
	RC_TOK_EOF,
	RC_TOK_ASSIGN,		/* name = value (text: raw value) */
	RC_TOK_UNSET,		/* name alone */
	RC_TOK_RECIPE,		/* ":" header (text: after the colon) */
	RC_TOK_COND,		/* "*" condition (text: after the star) */
	RC_TOK_FOLDER,		/* action: folder names (raw) */
	RC_TOK_PIPE,		/* action: | program (text after |) */
	RC_TOK_FORWARD,		/* action: ! addresses (text after !) */
	RC_TOK_OPEN,		/* { */
	RC_TOK_CLOSE,		/* } */
	RC_TOK_JUNK,		/* not a statement (text: the skipped line) */
};

struct rc_tok {
	enum rc_tok_kind kind;
	int line;
	char *text;		/* allocated, NUL-terminated */
	char *name;		/* ASSIGN, UNSET, and VAR of "VAR=| prog" */
};

struct rc_lex {
	const char *s;
	size_t i, len;
	int line;
	int in_recipe;		/* after a header: conditions, then action */
};

/* Start lexing s[0..len). */
void rc_lex_init(struct rc_lex *lx, const char *s, size_t len);
/* The next token into *t (fields allocated; see rc_tok_clear). */
void rc_lex_next(struct rc_lex *lx, struct rc_tok *t);
void rc_tok_clear(struct rc_tok *t);

#endif

/*
 * rc_lex.c - table tests of the rc lexer: which tokens, with which raw
 * text and line numbers, procmail's line rules give.
 */
#include <stdio.h>
#include <string.h>

#include "../../rc/lex.h"
#include "tap.h"

static const struct {
	const char *name, *in, *want;
} cases[] = {
	{ "assignment", "A=1\n", "ASSIGN(1)A=1" },
	{ "two on a line", "A=1 B=2\n", "ASSIGN(1)A=1 ASSIGN(1)B=2" },
	{ "spaces around =", "C = spaced\n", "ASSIGN(1)C=spaced" },
	{ "comment after value", "D=foo # c\n", "ASSIGN(1)D=foo" },
	{ "quoted value spans lines", "E=\"a\nb\" F=1\n",
	    "ASSIGN(1)E=\"a\nb\" ASSIGN(2)F=1" },
	{ "unset", "H\nI=2\n", "UNSET(1)H ASSIGN(2)I=2" },
	{ "junk", "!x y\n", "JUNK(1)!x y" },
	{ "recipe folder", ":0 c:\n* ^Subject\nfoo\n",
	    "RECIPE(1)0 c: COND(2) ^Subject FOLDER(3)foo" },
	{ "comments and blank lines between conditions",
	    ":0\n# c\n\n* a\n  * b\n| cat\n",
	    "RECIPE(1)0 COND(4) a COND(5) b PIPE(6) cat" },
	{ "condition continued", ":0\n* a \\\n   b\nx\n",
	    "RECIPE(1)0 COND(2) a \\\n   b FOLDER(4)x" },
	{ "block", ":0\n{\n A=1\n}\n",
	    "RECIPE(1)0 OPEN(2) ASSIGN(3)A=1 CLOSE(4)" },
	{ "one-line block", ":0\n{ A=1 }\n",
	    "RECIPE(1)0 OPEN(2) ASSIGN(2)A=1 CLOSE(2)" },
	{ "brace without blank is a folder", ":0\n{x\n", "RECIPE(1)0 FOLDER(2){x" },
	{ "capture", ":0\nV=| echo hi\n", "RECIPE(1)0 PIPE(2)V= echo hi" },
	{ "forward", ":0\n! a@b c@d\n", "RECIPE(1)0 FORWARD(2) a@b c@d" },
	{ "two folders", ":0\na/ b/ # x\n", "RECIPE(1)0 FOLDER(2)a/ b/ " },
	{ "eof in recipe", ":0\n", "RECIPE(1)0" },
};

static const char *const kinds[] = { "EOF", "ASSIGN", "UNSET", "RECIPE",
    "COND", "FOLDER", "PIPE", "FORWARD", "OPEN", "CLOSE", "JUNK" };

/* lex_all - the tokens of in, one string */
static void
lex_all(const char *in, char *out, size_t n)
{
	struct rc_lex lx;
	struct rc_tok t;
	size_t len = 0;

	out[0] = '\0';
	rc_lex_init(&lx, in, strlen(in));
	for (;;) {
		rc_lex_next(&lx, &t);
		if (t.kind == RC_TOK_EOF)
			break;
		len += (size_t)snprintf(out + len, n - len, "%s%s(%d)%s%s%s",
		    len ? " " : "", kinds[t.kind], t.line,
		    t.name ? t.name : "", t.name && t.kind != RC_TOK_UNSET ?
		    "=" : "", t.text ? t.text : "");
		rc_tok_clear(&t);
		if (len >= n)
			break;
	}
}

int
main(void)
{
	char got[1024];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		lex_all(cases[i].in, got, sizeof got);
		is(got, cases[i].want, "%s", cases[i].name);
	}
	return done_testing();
}

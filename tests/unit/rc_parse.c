/*
 * rc_parse.c - table tests of the rc parser: flags, lockfiles,
 * condition kinds and weights, and error recovery with file:line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../rc/parse.h"
#include "../../rc/rcint.h"
#include "tap.h"

static char reports[4096];

/* report - collect "line:E|W:msg;" */
static void
report(void *arg, const char *path, int line, int warn, const char *msg)
{
	size_t n = strlen(reports);

	(void)arg;
	(void)path;
	snprintf(reports + n, sizeof reports - n, "%d:%c;", line,
	    warn ? 'W' : 'E');
	(void)msg;
}

static const struct {
	const char *name, *in, *want;
} errs[] = {
	{ "clean", "A=1\n:0:\n* ^a\nfoo\n", "" },
	{ "unknown flag", ":0 Xc\nfoo\n", "1:W;" },
	{ "no action line: the next recipe line is the action (procmail)",
	  ":0\n\n:0\nfoo\n", "3:W;" },
	{ "missing action at the end", ":0\n* x\n", "3:E;" },
	{ "stray brace", "}\nA=1\n", "1:E;" },
	{ "missing brace: reported at its {", ":0\n{\nA=1\n", "2:E;" },
	{ "junk goes on", "!junk\nA=1\n$x\n", "1:E;3:E;" },
	{ "errors in nested blocks", ":0\n{\n!x\n}\n!y\n", "3:E;5:E;" },
	{ "a brace as the action leaves its block open (procmail)",
	  ":0\n{\n:0\n}\n!x\n", "4:W;5:E;2:E;" },
	{ "flags that conflict", ":0 eE\nfoo\n", "1:W;" },
	{ "\":0 # comment\" is a comment", ":0 # comment c\nfoo\n", "" },
	{ "\":0c#x\": # without a blank is a flag", ":0c#x\nfoo\n", "1:W;" },
};

static const struct {
	const char *cond;
	int kind, negate, weighted;
	double w, x;
	const char *area, *text;
} conds[] = {
	{ " ^Subject", RC_COND_REGEX, 0, 0, 0, 0, NULL, "^Subject" },
	{ "! ^Subject", RC_COND_REGEX, 1, 0, 0, 0, NULL, "^Subject" },
	{ " 2000^0 ^From", RC_COND_REGEX, 0, 1, 2000, 0, NULL, "^From" },
	{ " -100^1.5 ^>", RC_COND_REGEX, 0, 1, -100, 1.5, NULL, "^>" },
	{ " -150^0", RC_COND_REGEX, 0, 1, -150, 0, NULL, "" },
	{ " > 2000", RC_COND_GREATER, 0, 0, 0, 0, NULL, " 2000" },
	{ " -100^3 < 2000", RC_COND_LESS, 0, 1, -100, 3, NULL, " 2000" },
	{ " ? test -f x", RC_COND_PROGRAM, 0, 0, 0, 0, NULL, "test -f x" },
	{ " $ ^To:.*$VAR", RC_COND_EXPAND, 0, 0, 0, 0, NULL, " ^To:.*$VAR" },
	{ " B ?? ^line", RC_COND_REGEX, 0, 0, 0, 0, "B", "^line" },
	{ " 2^1 VAR ?? ! x", RC_COND_REGEX, 1, 1, 2, 1, "VAR", "x" },
	{ " \\! literal", RC_COND_REGEX, 0, 0, 0, 0, NULL, "! literal" },
	{ " 1,5^0 x", RC_COND_REGEX, 0, 1, 1.5, 0, NULL, "x" },
};

int
main(void)
{
	for (size_t i = 0; i < sizeof errs / sizeof errs[0]; i++) {
		struct rc_file *f;
		reports[0] = '\0';
		f = rc_parse_text("t.rc", errs[i].in, strlen(errs[i].in),
		    report, NULL);
		is(reports, errs[i].want, "errors: %s", errs[i].name);
		rc_file_free(&f);
	}
	{
		struct rc_recipe r;
		int bad;
		memset(&r, 0, sizeof r);
		is_int(rc_parse_flags("0 HBDAaEecfwWirhb", &r, &bad), 0,
		    "all flags");
		is_int(r.flags, 0x7fff, "all flag bits");
		memset(&r, 0, sizeof r);
		rc_parse_flags("0 c: my.lock ", &r, &bad);
		ok(r.lock && r.lockfile && strcmp(r.lockfile, "my.lock") == 0,
		    "named lockfile");
		free(r.lockfile);
		memset(&r, 0, sizeof r);
		is_int(rc_parse_flags("0 # comment c:", &r, &bad), 0,
		    "\":0 # comment\": no unknown flag");
		ok(r.flags == 0 && !r.lock, "... and the comment sets nothing");
		memset(&r, 0, sizeof r);
		is_int(rc_parse_flags("0c # x", &r, &bad), 0, "\":0c # x\"");
		ok(r.flags == RC_F_c, "... c kept, the comment ignored");
		memset(&r, 0, sizeof r);
		rc_parse_flags("0: # comment", &r, &bad);
		ok(r.lock && r.lockfile == NULL,
		    "\":0: # comment\": the default lockfile, as in procmail");
		free(r.lockfile);
		memset(&r, 0, sizeof r);
		rc_parse_flags("0: my.lock # comment", &r, &bad);
		ok(r.lockfile && strcmp(r.lockfile, "my.lock") == 0,
		    "\":0: my.lock # comment\": lockfile my.lock");
		free(r.lockfile);
		memset(&r, 0, sizeof r);
		rc_parse_flags("0:#c", &r, &bad);
		ok(r.lockfile && strcmp(r.lockfile, "#c") == 0,
		    "\":0:#c\": lockfile #c (no blank, no comment)");
		free(r.lockfile);
		memset(&r, 0, sizeof r);
		is_int(rc_parse_flags("0cq:", &r, &bad), -1, "unknown flag");
		ok(bad == 'q' && r.flags == RC_F_c && !r.lock,
		    "flags before an unknown one kept, lock after it not");
	}
	for (size_t i = 0; i < sizeof conds / sizeof conds[0]; i++) {
		struct rc_cond c;
		char *err = NULL, *t = strdup(conds[i].cond);
		memset(&c, 0, sizeof c);
		rc_squeeze(t);
		rc_cond_parse(t, 0, &c, &err);
		ok((int)c.kind == conds[i].kind && c.negate == conds[i].negate &&
		    c.weighted == conds[i].weighted && c.w == conds[i].w &&
		    c.x == conds[i].x && strcmp(c.text, conds[i].text) == 0 &&
		    (conds[i].area ? c.area && strcmp(c.area, conds[i].area)
		    == 0 : c.area == NULL), "condition '%s'", conds[i].cond);
		if (c.text && strcmp(c.text, conds[i].text) != 0)
			diag("text '%s'", c.text);
		free(err);
		free(t);
		rc_cond_clear(&c);
	}
	{
		char s[] = "a \\\n   b  \t";
		rc_squeeze(s);
		is(s, "a b", "squeeze joins and trims");
	}
	return done_testing();
}

/*
 * rc_eval.c - table tests of variable expansion and quoting (procmail's
 * readparse), weighted scoring arithmetic, and the A/E/e chaining, run
 * through the real interpreter on a small message.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../lda/fdio.h"
#include "../../lda/invocation.h"
#include "../../lda/xalloc.h"
#include "../../rc/rcint.h"
#include "tap.h"

static const struct {
	const char *raw;
	int mode;
	const char *want;	/* words joined with | */
} exps[] = {
	{ "$A", RC_EXP_ASSIGN, "1" },
	{ "x$A-y", RC_EXP_ASSIGN, "x1-y" },
	{ "\"${U:-x y}\"", RC_EXP_ASSIGN, "x y" },
	{ "${U:-$A}", RC_EXP_ASSIGN, "1" },
	{ "${A:-no}", RC_EXP_ASSIGN, "1" },
	{ "${A:+yes}", RC_EXP_ASSIGN, "yes" },
	{ "${U:+yes}", RC_EXP_ASSIGN, "" },
	{ "${E-dash}", RC_EXP_ASSIGN, "" },
	{ "${E:-colon}", RC_EXP_ASSIGN, "colon" },
	{ "${U-dash}", RC_EXP_ASSIGN, "dash" },
	{ "'$A'", RC_EXP_ASSIGN, "$A" },
	{ "\"a\\\"b\\$c\\\\d\"", RC_EXP_ASSIGN, "a\"b$c\\d" },
	{ "a\\ b", RC_EXP_ASSIGN, "a b" },
	{ "a b", RC_EXP_ASSIGN, "a" },
	{ "\"\\q\"", RC_EXP_ASSIGN, "\\q" },
	{ "$\\D", RC_EXP_ASSIGN, "()a\\.b\\*" },
	{ "`echo hi there`", RC_EXP_ASSIGN, "hi there" },
	{ "$#", RC_EXP_ASSIGN, "2" },
	{ "$1$2", RC_EXP_ASSIGN, "xy" },
	{ "$", RC_EXP_ASSIGN, "$" },
	{ "a $W b", RC_EXP_WORDS, "a|1|2|b" },
	{ "a \"$W\" b", RC_EXP_WORDS, "a|1 2|b" },
	{ "x # comment", RC_EXP_WORDS, "x" },
	{ "'' b", RC_EXP_WORDS, "|b" },
	{ "^To:.*$A", RC_EXP_DQUOTE, "^To:.*1" },
	{ "a  b", RC_EXP_DQUOTE, "a  b" },
};

static const struct {
	const char *rc;
	long score;
	const char *var;	/* MATCHED=yes|no after the recipe */
} scores[] = {
	{ "* 5^3 ? true\n", 5, "yes" },
	{ "* 5^3 ? false\n", 3, "yes" },
	{ "* -5^3 ? true\n", -5, "no" },
	{ "* 1^1 ! ? sh -c \"exit 3\"\n", 3, "yes" },
	{ "* 2^0.5 ! ? sh -c \"exit 3\"\n", 3, "yes" },	/* 2 + 1 + 0.5 */
	{ "* 10^1 > 50\n", 20, "yes" },		/* size 100: 10*(100/50) */
	{ "* 10^2 < 50\n", 2, "yes" },		/* 10*(50/100)^2 = 2.5 */
	{ "* -1^1 > 1000\n* 1^0 ? true\n", 1, "yes" },	/* -0.1 + 1 */
	{ "* 1^1 ? false\n* -1^0 ? true\n", 0, "no" },
	{ "* 2147483647^0 ? true\n* -5^0 ? true\n", 2147483647, "yes" },
	{ "* 0.5^0 ? true\n", 1, "yes" },	/* +0 rounds to 1 */
	{ "* ? false\n* 100^0 ? true\n", 0, "no" },	/* plain fails first */
};

static const struct {
	const char *name, *rc, *want;
} chains[] = {
	{ "E after no match", ":0\n* ? false\n{ }\n:0E\n{ R=E }\n", "E" },
	{ "E after match", ":0\n* ? true\n{ }\n:0E\n{ R=E }\n", "" },
	{ "A after match", ":0\n* ? true\n{ }\n:0A\n{ R=A }\n", "A" },
	{ "A after no match", ":0\n* ? false\n{ }\n:0A\n{ R=A }\n", "" },
	{ "e after failed action",
	    ":0w\n* ? true\n| false\n:0e\n{ R=e }\n", "e" },
	{ "e after good action",
	    ":0wc\n* ? true\n| true\n:0e\n{ R=e }\n", "" },
	{ "capture", ":0\nR=| echo captured\n", "captured" },
	{ "nested block and else", ":0\n{\n :0\n * ? false\n { }\n :0E\n "
	    "{ R=inner }\n}\n", "inner" },
};

/* new_session - a session with a 100-byte message */
static struct session *
new_session(void)
{
	static struct session s;
	static struct invocation inv;
	static char *args[] = { "x", "y" };
	char msg[101];
	int fd = fd_tmpfile("/tmp");
	char *err = NULL;

	memset(msg, 'b', sizeof msg);
	memcpy(msg, "Subject: t\n\n", 12);
	msg[99] = '\n';
	fd_write_all(fd, msg, 100);
	lseek(fd, 0, SEEK_SET);
	memset(&s, 0, sizeof s);
	inv.args = args;
	inv.nargs = 2;
	s.inv = &inv;
	s.home = "/tmp";
	s.recipient = "nobody";
	if (spool_read(fd, "/tmp", 1, &s.msg, &err) == -1)
		diag("spool: %s", err);
	close(fd);
	return &s;
}

/* run_text - run rc text in a temporary file */
static void
run_text(struct rc *rc, const char *text)
{
	char path[] = "/tmp/rc_evalXXXXXX", *err = NULL;
	int fd = mkstemp(path);

	fd_write_all(fd, text, strlen(text));
	close(fd);
	if (rc_run_file(rc, path, 0, &err) == -1)
		diag("%s", err);
	free(err);
	unlink(path);
}

int
main(void)
{
	struct session *s = new_session();
	struct rc *rc = rc_new(s);
	struct buf b;

	rc_assign(rc, "A", "1");
	rc_assign(rc, "E", "");
	rc_assign(rc, "W", "1 2");
	rc_assign(rc, "D", "a.b*");
	buf_init(&b, 0);
	for (size_t i = 0; i < sizeof exps / sizeof exps[0]; i++) {
		size_t n = 0;
		char *err = NULL;
		rc_expand(rc, exps[i].raw, exps[i].mode, &b, &n, &err);
		if (exps[i].mode == RC_EXP_WORDS)
			for (size_t k = 0; n && k + 1 < b.len; k++)
				if (b.s[k] == '\0')
					b.s[k] = '|';
		is(b.s, exps[i].want, "expand %s", exps[i].raw);
		free(err);
	}
	buf_free(&b);
	for (size_t i = 0; i < sizeof scores / sizeof scores[0]; i++) {
		char *text = xasprintf(":0\n%s{ MATCHED=yes }\n", scores[i].rc);
		rc_assign(rc, "MATCHED", "no");
		run_text(rc, text);
		is_int(rc->lastscore, scores[i].score, "score of %.*s", (int)
		    strcspn(scores[i].rc, "\n"), scores[i].rc);
		is(rc_get(rc, "MATCHED"), scores[i].var, "match of %.*s",
		    (int)strcspn(scores[i].rc, "\n"), scores[i].rc);
		free(text);
	}
	for (size_t i = 0; i < sizeof chains / sizeof chains[0]; i++) {
		rc_assign(rc, "R", "");
		run_text(rc, chains[i].rc);
		is(rc_get(rc, "R"), chains[i].want, "%s", chains[i].name);
	}
	rc_free(&rc);
	spool_free(&s->msg);
	return done_testing();
}

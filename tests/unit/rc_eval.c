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
	/* every match counts, each search from the last one's end (the
	   body is 87 b's on one line) */
	{ "* 1^1 B ?? b\n", 87, "yes" },
	{ "* 1^1 B ?? bb\n", 43, "yes" },
	{ "* 1^1 B ?? b+\n", 87, "yes" },	/* earliest-ending matches */
	{ "* 1^1 ^Subject\n", 1, "yes" },
	{ "* -1^1 B ?? b\n* 100^0 ? true\n", 13, "yes" },
	/* an empty match repeats forever: the series' limit */
	{ "* 2^0.5 B ?? ^\n", 4, "yes" },
	{ "* 1^1 B ?? ^\n", 2147483647, "yes" },
};

/* rc_finish: EXITCODE and TRAP turn the outcome so far into the result */
static const struct {
	const char *exitcode;	/* NULL: unset */
	const char *trap;
	enum outcome in, want;
} finishes[] = {
	{ NULL, NULL, OUT_DELIVERED, OUT_DELIVERED },
	{ "75", NULL, OUT_DELIVERED, OUT_TEMPFAIL },
	{ "0", NULL, OUT_TEMPFAIL, OUT_TEMPFAIL },	/* never 0 undelivered */
	{ "3", NULL, OUT_DELIVERED, OUT_DELIVERED },	/* not sysexits */
	{ "", "exit 67;", OUT_DELIVERED, OUT_NOUSER },	/* TRAP's status */
	{ "", "exit 3", OUT_DELIVERED, OUT_DELIVERED },
	{ "", "exit 0", OUT_TEMPFAIL, OUT_TEMPFAIL },
	{ "-1", "exit 77;", OUT_DELIVERED, OUT_NOPERM },
	{ NULL, "exit 77;", OUT_DELIVERED, OUT_DELIVERED },	/* ignored */
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
	    ":0wc\n* ? true\n| cat >/dev/null\n:0e\n{ R=e }\n", "" },
	/* the program reads its input: one that exits first makes the write
	   fail (EPIPE), and the recipe with it, as in procmail without i */
	{ "capture", ":0\nR=| cat >/dev/null; echo captured\n", "captured" },
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

/* slurp - a small file's text, or "" */
static char *
slurp(const char *path)
{
	static char text[4096];
	int fd = open(path, O_RDONLY);
	ssize_t n = fd == -1 ? 0 : read(fd, text, sizeof text - 1);

	text[n > 0 ? n : 0] = '\0';
	if (fd != -1)
		close(fd);
	return text;
}

/* test_finish - EXITCODE, TRAP and the abstract, each on a fresh rc */
static void
test_finish(struct session *s)
{
	char dir[] = "/tmp/rc_finishXXXXXX", *log, *out, *trap;
	struct rc *rc;

	if (mkdtemp(dir) == NULL)
		return;
	for (size_t i = 0; i < sizeof finishes / sizeof finishes[0]; i++) {
		rc = rc_new(s);
		if (finishes[i].exitcode)
			rc_assign(rc, "EXITCODE", finishes[i].exitcode);
		if (finishes[i].trap)
			rc_assign(rc, "TRAP", finishes[i].trap);
		is_int(rc_finish(rc, finishes[i].in), finishes[i].want,
		    "EXITCODE %s, TRAP %s, outcome %d", finishes[i].exitcode ?
		    finishes[i].exitcode : "unset", finishes[i].trap ?
		    finishes[i].trap : "unset", finishes[i].in);
		is_int(rc_finish(rc, OUT_USAGE), OUT_USAGE, "rc_finish once");
		rc_free(&rc);
	}

	/* TRAP sees the exit code in $EXITCODE and the message on stdin;
	   LOGABSTRACT's lines and its output go to LOGFILE */
	log = xasprintf("%s/log", dir);
	out = xasprintf("%s/trap", dir);
	trap = xasprintf("echo code=$EXITCODE; cat > %s", out);
	rc = rc_new(s);
	rc_assign(rc, "LOGFILE", log);
	rc_assign(rc, "TRAP", trap);
	rc_abstract(rc, "box", 467);
	rc_abstract(rc, "a-long-folder-name-of-exactly-40-bytes-x", 5);
	is_int(rc_finish(rc, OUT_TEMPFAIL), OUT_TEMPFAIL, "TRAP: outcome kept");
	is(slurp(log), " Subject: t\n  Folder: "
	    "a-long-folder-name-of-exactly-40-bytes-x\t\t\t      5\ncode=75\n",
	    "abstract of the last delivery, then TRAP's output");
	{
		const char *t = slurp(out);
		size_t n = strlen(t);
		ok(strncmp(t, "Subject: t\n\nbbb", 15) == 0 && n == 101 &&
		    strcmp(t + n - 3, "b\n\n") == 0,
		    "TRAP gets the message, ended by an empty line");
	}
	rc_free(&rc);
	unlink(out);
	unlink(log);

	rc = rc_new(s);
	rc_assign(rc, "LOGFILE", log);
	rc_assign(rc, "LOGABSTRACT", "all");
	rc_abstract(rc, "box", 467);
	rc_abstract(rc, "md/new/1", 100);
	rc_finish(rc, OUT_DELIVERED);
	is(slurp(log), " Subject: t\n  Folder: box\t\t\t\t\t\t\t\t    467\n"
	    " Subject: t\n  Folder: md/new/1\t\t\t\t\t\t\t    100\n",
	    "LOGABSTRACT=all: every delivery, once");
	rc_free(&rc);
	unlink(log);

	rc = rc_new(s);
	rc_assign(rc, "LOGFILE", log);
	rc_assign(rc, "LOGABSTRACT", "no");
	rc_abstract(rc, "box", 467);
	rc_finish(rc, OUT_DELIVERED);
	is(slurp(log), "", "LOGABSTRACT=no: none");
	rc_free(&rc);
	unlink(log);
	rmdir(dir);
	free(log);
	free(out);
	free(trap);
}

static void run_text(struct rc *rc, const char *text);

/* spool_of - a spool holding text */
static struct spool *
spool_of(const char *text)
{
	struct spool *sp = NULL;
	char *err = NULL;
	int fd = fd_tmpfile("/tmp");

	fd_write_all(fd, text, strlen(text));
	lseek(fd, 0, SEEK_SET);
	if (spool_read(fd, "/tmp", 1, &sp, &err) == -1)
		diag("spool: %s", err);
	close(fd);
	return sp;
}

/* test_set_msg - a filter's new message is what conditions search; the
   rc frees the ones it replaces, never the session's first */
static void
test_set_msg(struct session *s, struct rc *rc)
{
	struct spool *first = s->msg;

	rc_set_msg(rc, spool_of("Subject: one\n\nbody\n"));
	rc_assign(rc, "R", "");
	run_text(rc, ":0\n* ^Subject: one\n{ R=one }\n");
	is(rc_get(rc, "R"), "one", "rc_set_msg: conditions see the new message");
	rc_set_msg(rc, spool_of("Subject: two\n\nbody\n"));
	run_text(rc, ":0\n* ^Subject: two\n{ R=two }\n");
	is(rc_get(rc, "R"), "two", "rc_set_msg again (the first replaced one freed)");
	rc_set_msg(rc, first);	/* back to main's: the second one freed */
	ok(s->msg == first, "rc_set_msg: back to the session's message");
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
	test_set_msg(s, rc);
	rc_free(&rc);
	test_finish(s);
	spool_free(&s->msg);
	return done_testing();
}

/*
 * rc_eval_fuzz.c - fuzz the rc evaluator (rc/eval.c, cond.c, expand.c,
 * special.c, action.c): any rc text, parsed and then run on a small
 * message under --test (the session's dry run), without a crash and
 * with the dry run's promise kept: nothing is written (the working
 * directory, a private one, stays empty). Programs never start here:
 * this harness's execve refuses (a condition "? prog" runs even under
 * --test, as in procmail), so the child exits 127. The clone of a "c {"
 * block ends after the rc, as lda's does.
 * Input: the rc text.
 * Standalone: ./rc_eval_fuzz [iterations] [seed]; libFuzzer: make fuzz.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "fdio.h"
#include "invocation.h"
#include "log.h"
#include "xalloc.h"
#include "../../rc/rcint.h"
#include "../../filters/filter.h"

/* execve - no program runs from a fuzzed rc */
int
execve(const char *path, char *const argv[], char *const envp[])
{
	(void)path;
	(void)argv;
	(void)envp;
	errno = EACCES;
	return -1;
}

static char dir[] = "/tmp/lda-rc-eval-fuzz.XXXXXX";
static struct session s;

/* cleanup - the working directory goes (it is empty) */
static void
cleanup(void)
{
	if (chdir("/") == 0)
		(void)rmdir(dir);
}

/* setup - a private working directory and a session with a message */
static void
setup(void)
{
	static struct invocation inv;
	static char *args[] = { "x", "y" };
	static const char msg[] = "From: a@example.org\nTo: b@example.org\n"
	    "Subject: lunch\nX-Spam-Flag: NO\n\nHello,\nlunch?\n";
	int fd = fd_tmpfile("/tmp");
	char *err = NULL;

	if (mkdtemp(dir) == NULL || chdir(dir) == -1 || fd == -1)
		abort();
	atexit(cleanup);
	fd_write_all(fd, msg, sizeof msg - 1);
	lseek(fd, 0, SEEK_SET);
	inv.args = args;
	inv.nargs = 2;
	s.inv = &inv;
	s.home = dir;
	s.recipient = "nobody";
	s.dry_run = 1;
	rc_builtins_set(&filter_builtins);	/* "| @name", as main does */
	if (spool_read(fd, "/tmp", 1, &s.msg, &err) == -1)
		abort();
	close(fd);
}

/* empty - nothing in the working directory */
static int
empty(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)) != NULL)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	if (d)
		closedir(d);
	return n == 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rc_file *f;
	struct rc *rc;

	if (s.msg == NULL)
		setup();
	if (size > 20000)
		return 0;
	f = rc_parse_text("fuzz.rc", (const char *)data, size, NULL, NULL);
	rc = rc_new(&s);
	rc->cur_file = "fuzz.rc";
	if (f)
		(void)rc_eval_list(rc, f->first);
	if (rc->clone)		/* "c {": the clone ends here, as lda's does */
		_exit(0);
	rc_free(&rc);
	rc_file_free(&f);
	if (chdir(dir) == -1)	/* MAILDIR= moved it */
		abort();
	if (!empty())
		fuzz_fail("the dry run wrote a file", data, size);
	return 0;
}

#ifndef LDA_LIBFUZZER
static const char *const pieces[] = { ":0", ":0:", ":0 Bfhw", ":0c",
	":0 E", ":0 a", "\n", "\n", "\n", "* ", "* ^Subject: lunch", "* !",
	"* $", "* ? true", "* < 100", "* > 10", "* 2^1 ", "* -1^0 ", "{", "}",
	" ", "\\", "\"", "'", "$", "${A:-b}", "${X:+y}", "$HOME", "A=b", "A=",
	"MAILDIR=/tmp", "LOGFILE=log", "LOCKFILE=lk", "INCLUDERC=/dev/null",
	"| cat", "! a@b", "folder/", "mbox", "/dev/null", "#", "\0", "\r",
	"(", ")", "[a-", "~", "\\/", "^TO_", "@spamassassin", "SPAM ?? x",
	"EXITCODE=75", "HOST=", "SHIFT=1", "$1", "$#", "VERBOSE=on",
	"MATCH", "* ~(lunch){~1}", "TRAP=x", "SWITCHRC=/dev/null" };

int
main(int argc, char **argv)
{
	return fuzz_main(argc, argv, pieces, sizeof pieces / sizeof pieces[0],
	    40, 0);
}
#endif

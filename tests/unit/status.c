/*
 * status.c - unit tests for lda/status.c: the one status line of a run is
 * the first failure with the run's exit code, its class follows the exit
 * code, a configuration error is 4.3.5, a run that delivered a copy never
 * bounces, and a child's line reaches its parent.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"
#include "status.h"

static int rd = -1;		/* where our status lines go */
static char line[2048];

/* capture - the next status line goes into a pipe we read; records and
   the "printed once" state start afresh */
static void
capture(void)
{
	int p[2], q[2];

	if (rd != -1)
		close(rd);
	if (pipe2(p, O_NONBLOCK) == -1)
		abort();
	rd = p[0];
	q[0] = dup(p[0]);
	q[1] = p[1];
	status_child(q);	/* closes q[0], writes to p[1] */
	status_forget(0);
}

/* got - the line written since capture() ("" if none) */
static const char *
got(void)
{
	ssize_t n;

	fflush(stdout);
	n = read(rd, line, sizeof line - 1);
	line[n > 0 ? n : 0] = '\0';
	return line;
}

int
main(void)
{
	capture();
	status_fail(OUT_TEMPFAIL, NULL, "dave", "maildir %s: %s", "/m/",
	    "No space left on device");
	status_fail(OUT_CANTCREAT, NULL, "dave", "open mbox /var/mail/dave: "
	    "Permission denied");
	is_int(status_end(OUT_TEMPFAIL), 75, "DEFAULT 75, ORGMAIL 73: exit 75");
	is(got(), "4.3.0 dave: maildir /m/: No space left on device\n",
	    "... the status line is DEFAULT's failure, not the fall-back's");

	capture();
	status_fail(OUT_CANTCREAT, NULL, "dave", "lock a: No such file");
	status_fail(OUT_CANTCREAT, NULL, "dave", "lock b: No such file");
	is_int(status_end(OUT_TEMPFAIL), 75, "no record with 75: exit 75");
	is(got(), "4.2.0 dave: lock a: No such file\n",
	    "... the first failure, its class made 4 to match the exit");

	capture();
	status_fail(OUT_TEMPFAIL, NULL, "dave", "recipe folder: Permission denied");
	{
		size_t m = status_mark();
		status_fail(OUT_TEMPFAIL, NULL, "dave", "DEFAULT: Read-only file system");
		status_fail(OUT_TEMPFAIL, NULL, "dave", "ORGMAIL: Permission denied");
		status_decided(m);
	}
	status_end(OUT_TEMPFAIL);
	is(got(), "4.3.0 dave: DEFAULT: Read-only file system\n",
	    "a recipe failed, then DEFAULT and ORGMAIL: DEFAULT's decided");

	capture();
	status_fail(OUT_CONFIG, NULL, NULL, "--config /x: No such file");
	is_int(status_end(OUT_CONFIG), 75, "a configuration error: exit 75");
	is(got(), "4.3.5 --config /x: No such file\n", "... status 4.3.5");

	capture();
	{
		size_t m = status_mark();
		ok(!status_config_since(m), "no configuration error yet");
		status_fail(OUT_TEMPFAIL, NULL, "a", "recipe folder failed");
		status_fail(OUT_CONFIG, NULL, "a", "f.rc:2: no filter x");
		ok(status_config_since(m), "status_config_since finds it");
		status_forget(m);
		ok(!status_config_since(m), "status_forget drops it");
	}
	status_fail(OUT_TEMPFAIL, NULL, "a", "x\r\ny");
	status_end(OUT_TEMPFAIL);
	status_end(OUT_TEMPFAIL);
	is(got(), "4.3.0 a: x  y\n", "one line, control bytes blanked, once");

	/* a child's line reaches the parent, which prints the only one */
	capture();
	{
		int p[2], st;
		pid_t pid;

		ok(status_pipe(p) == 0, "status_pipe");
		if ((pid = fork()) == 0) {
			status_child(p);
			status_fail(OUT_NOUSER, NULL, "carol", "user unknown");
			_exit(status_end(OUT_NOUSER));
		}
		waitpid(pid, &st, 0);
		status_parent(p, WEXITSTATUS(st));
		is_int(WEXITSTATUS(st), 67, "the child exits 67");
		is(got(), "", "... and printed nothing of its own here");
		is_int(status_end(OUT_NOUSER), 67, "the parent: 67");
		is(got(), "5.1.1 carol: user unknown\n",
		    "... with the child's line, once");
	}
	capture();
	status_delivered();
	status_fail(OUT_NOUSER, NULL, "bob", "user unknown");
	is_int(status_end(OUT_NOUSER), 75,
	    "a copy delivered, another recipient unknown: 75, not 67");
	like(got(), "4.1.1 bob: user unknown; not bounced",
	    "... and the line says why");
	return done_testing();
}

/* local.c - unit tests for the local destinations: Maildir, mbox, MH,
   errno to outcome, and the mbox roll-back on a failed write. */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "local.h"
#include "spool.h"
#include "tap.h"

static char top[] = "/tmp/lda-local-test.XXXXXX";

/* spool_of - a spool holding msg */
static struct spool *
spool_of(const char *msg)
{
	char path[] = "/tmp/lda-local-msg.XXXXXX";
	int fd = mkstemp(path);
	struct spool *sp = NULL;
	char *err = NULL;

	unlink(path);
	if (write(fd, msg, strlen(msg)) != (ssize_t)strlen(msg))
		return NULL;
	lseek(fd, 0, SEEK_SET);
	spool_read(fd, NULL, 1, &sp, &err);
	free(err);
	close(fd);
	return sp;
}

/* slurp - a whole file as a string */
static char *
slurp(const char *path)
{
	static char data[65536];
	int fd = open(path, O_RDONLY);
	ssize_t n = fd == -1 ? -1 : read(fd, data, sizeof data - 1);

	if (fd != -1)
		close(fd);
	if (n < 0)
		return NULL;
	data[n] = '\0';
	return data;
}

/* count_dir - entries of dir that do not start with '.' */
static int
count_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

static void
test_maildir(void)
{
	struct spool *sp = spool_of("From a@b  Sat Nov 21 10:00:00 2026\nSubject: m\n\nbody\n");
	char dir[300], sub[320], *path = NULL, *err = NULL;

	snprintf(dir, sizeof dir, "%s/Maildir", top);
	is_int(maildir_deliver(sp, dir, NULL, &path, &err), OUT_DELIVERED, "maildir: delivered");
	like(path, "/Maildir/new/", "maildir: file is in new/");
	is(path ? slurp(path) : NULL, "Subject: m\n\nbody\n",
	    "maildir: bytes intact, no From_ line");
	snprintf(sub, sizeof sub, "%s/tmp", dir);
	is_int(count_dir(sub), 0, "maildir: nothing left in tmp/");
	free(path);
	path = NULL;
	maildir_deliver(sp, dir, NULL, &path, &err);
	snprintf(sub, sizeof sub, "%s/new", dir);
	is_int(count_dir(sub), 2, "maildir: a second copy gets a new name");
	free(path);
	snprintf(dir, sizeof dir, "%s/file/Maildir", top);
	snprintf(sub, sizeof sub, "%s/file", top);
	close(open(sub, O_CREAT | O_WRONLY, 0600));
	is_int(maildir_deliver(sp, dir, NULL, &path, &err), OUT_CANTCREAT,
	    "maildir: below a plain file is 73");
	like(err, "Not a directory", "maildir: the error says why");
	free(err);
	spool_free(&sp);
}

static const struct {
	const char *name, *msg, *want;
} mbox_cases[] = {
	{ "From quoting", "Subject: a\n\nbody\nFrom me\n>From x\n",
	  "Subject: a\n\nbody\n>From me\n>From x\n\n" },
	{ "ends in blank line", "Subject: b\n\nbody2\n\n", "Subject: b\n\nbody2\n\n" },
	{ "no final newline", "Subject: c\n\nnonl", "Subject: c\n\nnonl\n\n" },
	{ "header only", "Subject: d\nX: y\n", "Subject: d\nX: y\n\n" },
	{ "From in header kept", "Subject: e\n\nFrom start\n", "Subject: e\n\n>From start\n\n" },
};

static void
test_mbox(void)
{
	for (size_t i = 0; i < sizeof mbox_cases / sizeof mbox_cases[0]; i++) {
		char path[300], *got, *err = NULL, *p = NULL;
		struct spool *sp = spool_of(mbox_cases[i].msg);
		snprintf(path, sizeof path, "%s/mbox%zu", top, i);
		is_int(mbox_deliver(sp, path, "s@x", 5, 1, &p, &err), OUT_DELIVERED,
		    "mbox %s: delivered", mbox_cases[i].name);
		got = slurp(path);
		like(got, "From s@x  ", "mbox %s: From_ line", mbox_cases[i].name);
		got = got ? strchr(got, '\n') : NULL;
		is(got ? got + 1 : NULL, mbox_cases[i].want, "mbox %s: content",
		    mbox_cases[i].name);
		free(p);
		free(err);
		spool_free(&sp);
	}
}

/* test_mbox_from_line - the message's own From_ line starts its mbox
   copy when a mail reader takes it for one; anything else gets a new
   line with the sender (issue 14.2) */
static const struct {
	const char *name, *first, *want;
} from_cases[] = {
	{ "kept", "From a@b  Sat Nov 21 10:00:00 2026",
	  "From a@b  Sat Nov 21 10:00:00 2026\nSubject" },
	{ "kept with a zone", "From a@b Sat Nov 1 10:00:00 UTC 2026 remote from x",
	  "From a@b Sat Nov 1 10:00:00 UTC 2026 remote from x\nSubject" },
	{ "no date", "From junk", "From s@x  " },
	{ "no sender", "From  Sat Nov 21 10:00:00 2026", "From s@x  " },
	{ "a control byte", "From a@b\x1b[2J  Sat Nov 21 10:00:00 2026",
	  "From s@x  " },
	{ "a CR inside", "From a@b\rFrom: forged  Sat Nov 21 10:00:00 2026",
	  "From s@x  " },
};

static void
test_mbox_from_line(void)
{
	char msg[2200], path[300], *err = NULL, *p = NULL, *got;
	struct spool *sp;

	for (size_t i = 0; i < sizeof from_cases / sizeof from_cases[0]; i++) {
		snprintf(msg, sizeof msg, "%s\nSubject: f\n\nbody\n",
		    from_cases[i].first);
		sp = spool_of(msg);
		snprintf(path, sizeof path, "%s/from%zu", top, i);
		is_int(mbox_deliver(sp, path, "s@x", 5, 1, &p, &err),
		    OUT_DELIVERED, "mbox From_ line %s: delivered",
		    from_cases[i].name);
		got = slurp(path);
		if (!ok(got && strncmp(got, from_cases[i].want,
		    strlen(from_cases[i].want)) == 0, "mbox From_ line %s",
		    from_cases[i].name))
			diag("got: %.80s", got ? got : "(none)");
		free(p);
		p = NULL;
		spool_free(&sp);
	}
	/* too long for a reader's line buffer: a new line */
	memcpy(msg, "From a@b", 8);
	memset(msg + 8, 'x', 1000);
	snprintf(msg + 1008, sizeof msg - 1008,
	    "  Sat Nov 21 10:00:00 2026\nSubject: f\n\nbody\n");
	sp = spool_of(msg);
	snprintf(path, sizeof path, "%s/fromlong", top);
	mbox_deliver(sp, path, "s@x", 5, 1, &p, &err);
	got = slurp(path);
	ok(got && strncmp(got, "From s@x  ", 10) == 0,
	    "mbox From_ line over 1000 bytes: a new one");
	free(p);
	spool_free(&sp);
	free(err);
}

/* test_mbox_rollback - a write that fails midway leaves the old mbox */
static void
test_mbox_rollback(void)
{
	char path[300], *err = NULL, big[20000];
	struct spool *sp, *bigsp;
	struct rlimit rl;
	struct stat st;
	off_t before;

	snprintf(path, sizeof path, "%s/rollback", top);
	sp = spool_of("Subject: small\n\nx\n");
	mbox_deliver(sp, path, "s@x", 5, 1, NULL, &err);
	stat(path, &st);
	before = st.st_size;
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	memcpy(big, "Subject: big\n\n", 14);
	bigsp = spool_of(big);
	signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &rl);
	struct rlimit small = { (rlim_t)before + 5000, rl.rlim_max };
	setrlimit(RLIMIT_FSIZE, &small);
	is_int(mbox_deliver(bigsp, path, "s@x", 5, 1, NULL, &err), OUT_TEMPFAIL,
	    "mbox: a failed write is a temporary failure");
	like(err, "File too large", "mbox: the error says why");
	setrlimit(RLIMIT_FSIZE, &rl);
	stat(path, &st);
	is_int(st.st_size, before, "mbox: failed write truncated back");
	free(err);
	spool_free(&sp);
	spool_free(&bigsp);
}

static void
test_mh(void)
{
	struct spool *sp = spool_of("Subject: mh\n\nbody\n");
	char dir[300], *p1 = NULL, *p2 = NULL, *err = NULL, seven[340];

	snprintf(dir, sizeof dir, "%s/mh", top);
	is_int(mh_deliver(sp, dir, 0, &p1, &err), OUT_DELIVERED, "mh: delivered");
	like(p1, "/mh/1", "mh: first message is 1");
	snprintf(seven, sizeof seven, "%s/7", dir);
	close(open(seven, O_CREAT | O_WRONLY, 0600));
	mh_deliver(sp, dir, 0, &p2, &err);
	like(p2, "/mh/8", "mh: next after the highest number");
	is(p1 ? slurp(p1) : NULL, "Subject: mh\n\nbody\n\n",
	    "mh: bytes intact, an empty line added as procmail does");
	free(p1);
	free(p2);
	p2 = NULL;
	mh_deliver(sp, dir, 1, &p2, &err);
	is(p2 ? slurp(p2) : NULL, "Subject: mh\n\nbody\n",
	    "mh: raw (the r flag): the message as it is, as procmail writes it");
	free(p2);
	spool_free(&sp);
}

int
main(void)
{
	if (mkdtemp(top) == NULL)
		return 1;
	test_maildir();
	test_mbox();
	test_mbox_from_line();
	test_mbox_rollback();
	test_mh();
	is_int(local_errno_outcome(28 /* ENOSPC */), OUT_TEMPFAIL, "ENOSPC is 75");
	is_int(local_errno_outcome(13 /* EACCES */), OUT_CANTCREAT, "EACCES is 73");
	{
		char cmd[400];
		snprintf(cmd, sizeof cmd, "rm -rf %s", top);
		if (system(cmd) != 0)
			diag("cleanup of %s failed", top);
	}
	return done_testing();
}

/* filter.c - unit tests for filters/: the verdict helpers and the new
   header (drop, top, bottom, CRLF, folding, control characters), settings
   (call arguments over rc variables, numbers), filter_call's contract
   (unknown filter, bad argument, dry run, all-or-nothing on a spool that
   cannot be written), the spamd client and the clamd client against
   scripted replies (each a table row, served by a forked child on a unix
   socket: the garbled and truncated ones a real daemon never sends), the
   Received parser and the Received-SPF field of the spf filter. */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "filter.h"
#include "rc.h"
#include "spf.h"
#include "spool.h"
#include "tap.h"

static char dir[] = "/tmp/lda-filter-test.XXXXXX";

/* spool_of - a spool holding msg */
static struct spool *
spool_of(const char *msg)
{
	char path[] = "/tmp/lda-filter-msg.XXXXXX";
	int fd = mkstemp(path);
	struct spool *sp = NULL;
	char *err = NULL;
	size_t len = strlen(msg);

	unlink(path);
	if (write(fd, msg, len) != (ssize_t)len)
		return NULL;
	lseek(fd, 0, SEEK_SET);
	if (spool_read(fd, NULL, 0, &sp, &err) == -1) {
		diag("spool_read: %s", err);
		free(err);
	}
	close(fd);
	return sp;
}

/* text_of - the whole message in sp, allocated */
static char *
text_of(const struct spool *sp)
{
	char *s = calloc(1, (size_t)sp->size + 1);

	if (spool_pread(sp, s, (size_t)sp->size, 0) != sp->size)
		s[0] = '\0';
	return s;
}

static void
test_new_header(void)
{
	struct spool *sp = spool_of("From: a@b\nX-Spam-Flag: YES\nX-Spam-Status: Yes,\n"
	    "\tfolded\nSubject: hi\nx-spam-level: **\n\nbody\n");
	struct spool *crlf = spool_of("From: a@b\r\nX-Virus-Status: Clean\r\n\r\nbody\r\n");
	struct spool *nonl = spool_of("From: a@b");
	struct verdict v;
	size_t len;
	char *h;

	verdict_init(&v);
	verdict_drop(&v, "X-Spam-*");
	verdict_field(&v, 1, "X-Top", "first");
	verdict_field(&v, 0, "X-Bottom", "last");
	h = filter_new_header(sp, &v, &len);
	is(h, "X-Top: first\nFrom: a@b\nSubject: hi\nX-Bottom: last\n",
	    "a prefix drop removes every X-Spam-* field, folded ones and any case");
	is_int(len, strlen(h), "the length returned is the header's");
	free(h);
	verdict_free(&v);

	verdict_init(&v);
	verdict_drop(&v, "X-Virus-Status");
	verdict_field(&v, 1, "X-Virus-Status", "Infected (x)");
	h = filter_new_header(crlf, &v, &len);
	is(h, "X-Virus-Status: Infected (x)\r\nFrom: a@b\r\n",
	    "a CRLF message gets CRLF in the added fields");
	free(h);
	verdict_free(&v);

	verdict_init(&v);
	verdict_field(&v, 0, "X-B", "1");
	h = filter_new_header(nonl, &v, &len);
	is(h, "From: a@b\nX-B: 1\n", "a header without a final newline gets one before an added field");
	free(h);
	verdict_free(&v);

	verdict_init(&v);
	verdict_field(&v, 1, "X-Evil", "a\r\nBcc: victim@example.org\0");
	is(v.top.s, "X-Evil: a Bcc: victim@example.org\n",
	    "CR and LF in a value become blanks: a peer cannot add a field");
	verdict_free(&v);

	verdict_init(&v);
	verdict_field(&v, 1, "X-Long", "aaaaaaaaaa bbbbbbbbbb cccccccccc dddddddddd "
	    "eeeeeeeeee ffffffffff gggggggggg hhhhhhhhhh");
	is(v.top.s, "X-Long: aaaaaaaaaa bbbbbbbbbb cccccccccc dddddddddd eeeeeeeeee ffffffffff\n"
	    "\tgggggggggg hhhhhhhhhh\n", "a long value is folded at a blank before column 78");
	verdict_free(&v);
	spool_free(&sp);
	spool_free(&crlf);
	spool_free(&nonl);
}

/* session_new - a session on msg, and an rc for it */
static struct rc *
session_new(struct session *s, const char *msg)
{
	memset(s, 0, sizeof *s);
	s->msg = spool_of(msg);
	s->sender = "alice@example.org";
	s->recipient = "bob";
	s->home = dir;
	s->tmpdir = dir;
	s->outcome = OUT_DELIVERED;
	return rc_new(s);
}

static void
session_end(struct session *s, struct rc **rc, struct spool *orig)
{
	rc_free(rc);
	if (s->msg != orig)
		spool_free(&s->msg);
	spool_free(&orig);
}

static void
test_settings(void)
{
	struct session s;
	struct rc *rc = session_new(&s, "Subject: x\n\nb\n");
	struct spool *orig = s.msg;
	const char *args[] = { "SPAMD_MAXSIZE=2k", "SPAMD_USER=", NULL };
	struct filter_ctx c = { .f = filter_find("spamassassin"), .s = &s,
		.rc = rc, .args = args };
	char *err = NULL;

	ok(c.f != NULL, "spamassassin is registered");
	ok(filter_find("nonesuch") == NULL, "an unknown name is not");
	rc_assign(rc, "SPAMD_MAXSIZE", "1m");
	rc_assign(rc, "SPAMD_USER", "carol");
	rc_assign(rc, "SPAMD_TIMEOUT", "12x");
	is_int(filter_setting_num(&c, "SPAMD_MAXSIZE", 7, &err), 2048,
	    "a call argument overrides the rc variable (2k = 2048)");
	ok(filter_setting(&c, "SPAMD_USER") == NULL, "an empty argument counts as unset, not as the variable");
	c.args = NULL;
	is_int(filter_setting_num(&c, "SPAMD_MAXSIZE", 7, &err), 1048576, "1m = 1048576");
	is_int(filter_setting_num(&c, "SPAMD_CONNECT_TIMEOUT", 7, &err), 7, "unset: the default");
	is_int(filter_setting_num(&c, "SPAMD_TIMEOUT", 7, &err), -1, "12x is no number: -1");
	like(err, "SPAMD_TIMEOUT", "... and the error names the setting");
	free(err);
	session_end(&s, &rc, orig);
}

static void
test_call_contract(void)
{
	struct session s;
	struct rc *rc = session_new(&s, "Subject: x\n\nb\n");
	struct spool *orig = s.msg;
	const char *bad[] = { "no-equals-sign", NULL };
	char *folder = NULL, *err = NULL;

	is_int(filter_call(&s, rc, "nonesuch", NULL, &folder, &err), -1, "an unknown filter: -1");
	like(err, "nonesuch", "... the error names it");
	free(err);
	is_int(filter_call(&s, rc, "spf", bad, &folder, &err), -1, "an argument that is not NAME=value: -1");
	like(err, "no-equals-sign", "... the error shows it");
	free(err);
	s.dry_run = 1;
	is_int(filter_call(&s, rc, "spamassassin", NULL, &folder, &err), FILTER_OK, "dry run: FILTER_OK");
	ok(s.msg == orig, "... and nothing ran, the message is the same");
	s.dry_run = 0;

	/* fail open with a spool that cannot be made: keep it, exit 75. A
	   small spool lives in a memfd, so no descriptor may be left at all:
	   RLIMIT_NOFILE at the next free descriptor number. */
	rc_assign(rc, "SPAMD", "unix:/nonexistent/lda-test.sock");
	{
		struct rlimit old, none;
		int next = dup(0);
		close(next);
		getrlimit(RLIMIT_NOFILE, &old);
		none = old;
		none.rlim_cur = (rlim_t)next;
		setrlimit(RLIMIT_NOFILE, &none);
		is_int(filter_call(&s, rc, "spamassassin", NULL, &folder, &err),
		    FILTER_STOP, "fail open but the new spool cannot be made: FILTER_STOP");
		setrlimit(RLIMIT_NOFILE, &old);
	}
	is_int(s.outcome, OUT_TEMPFAIL, "... the outcome is tempfail (75)");
	ok(s.msg == orig, "... and the message is the untouched original");
	s.outcome = OUT_DELIVERED;
	is_int(filter_call(&s, rc, "spamassassin", NULL, &folder, &err), FILTER_FAILED,
	    "spamd down, fail open (default): FILTER_FAILED");
	ok(s.msg != orig, "... with a new message");
	is(rc_get(rc, "FILTER_UNSCANNED"), "spamassassin", "... FILTER_UNSCANNED names the filter");
	rc_assign(rc, "SPAMD_FAILURE", "closed");
	is_int(filter_call(&s, rc, "spamassassin", NULL, &folder, &err), FILTER_STOP,
	    "spamd down, SPAMD_FAILURE=closed: FILTER_STOP");
	rc_assign(rc, "SPAMD_FAILURE", "maybe");
	s.outcome = OUT_DELIVERED;
	is_int(filter_call(&s, rc, "spamassassin", NULL, &folder, &err), FILTER_STOP,
	    "SPAMD_FAILURE neither open nor closed: closed");
	session_end(&s, &rc, orig);
}

/* serve - a child serving reply (len bytes) once on path; returns its pid */
static pid_t
serve(const char *path, const char *reply, size_t len)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int ls = socket(AF_UNIX, SOCK_STREAM, 0);
	pid_t pid;

	unlink(path);
	lda_strlcpy(sun.sun_path, path, sizeof sun.sun_path);
	if (ls == -1 || bind(ls, (struct sockaddr *)&sun, sizeof sun) == -1 ||
	    listen(ls, 1) == -1)
		return -1;
	if ((pid = fork()) == 0) {
		char buf[65536];
		int c = accept(ls, NULL, NULL);
		struct pollfd p = { .fd = c, .events = POLLIN };
		/* read the request until the client stops sending (spamd's
		   client shuts its side down, clamd's waits: 200 ms quiet) */
		while (poll(&p, 1, 200) == 1 && read(c, buf, sizeof buf) > 0)
			;
		if (write(c, reply, len) < 0)
			_exit(1);
		_exit(0);
	}
	close(ls);
	return pid;
}

static void
test_spamd_replies(void)
{
	static const struct {
		const char *reply, *command;
		int status;
		const char *flag, *score, *name;
	} t[] = {
		{ "SPAMD/1.1 0 EX_OK\r\nContent-length: 43\r\nSpam: True ; 9.5 / 5.0\r\n\r\n"
		  "X-Spam-Flag: YES\r\nX-Spam-Level: *********\r\n", "HEADERS",
		  FILTER_OK, "YES", "9.5", "HEADERS: spam" },
		{ "SPAMD/1.1 0 EX_OK\r\nSpam: False ; -1.2 / 5.0\r\n\r\n", "CHECK",
		  FILTER_OK, "NO", "-1.2", "CHECK: ham, negative score" },
		{ "SPAMD/1.1 0 EX_OK\r\nContent-length: 11\r\nSpam: Yes ; 6 / 5\r\n\r\nGTUBE,OTHER",
		  "SYMBOLS", FILTER_OK, "YES", "6", "SYMBOLS: Yes, whole numbers" },
		{ "SPAMD/1.0 76 Bad header line: x\r\n", "HEADERS", FILTER_FAILED, "", "",
		  "an error status from spamd" },
		{ "SPAMD/1.1 0 EX_OK\r\nContent-length: 99\r\nSpam: True ; 9 / 5\r\n\r\nshort",
		  "HEADERS", FILTER_FAILED, "", "", "a body shorter than Content-length" },
		{ "SPAMD/1.1 0 EX_OK\r\nContent-length: 2\r\nSpam: True ; 9 / 5\r\n\r\ntoo long",
		  "HEADERS", FILTER_FAILED, "", "", "a body longer than Content-length" },
		{ "SPAMD/1.1 0 EX_OK\r\nSpam: True ; x / 5\r\n\r\n", "CHECK", FILTER_FAILED,
		  "", "", "a score that is no number" },
		{ "SPAMD/1.1 0 EX_OK\r\nContent-length: 0\r\n\r\n", "CHECK", FILTER_FAILED,
		  "", "", "no Spam: line" },
		{ "SPAMD/1.1 0 EX_OK\r\nContent-length: -5\r\nSpam: True ; 9 / 5\r\n\r\n",
		  "HEADERS", FILTER_FAILED, "", "", "a negative Content-length" },
		{ "", "HEADERS", FILTER_FAILED, "", "", "no reply at all" },
		{ "SPAMD/1.1 0 EX_OK\r\nSpam: True ; 9 / 5\r\n", "CHECK", FILTER_FAILED,
		  "", "", "no blank line after the headers" },
	};
	char sock[128], spec[140];

	snprintf(sock, sizeof sock, "%s/spamd.sock", dir);
	snprintf(spec, sizeof spec, "unix:%s", sock);
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		struct session s;
		struct rc *rc = session_new(&s, "X-Spam-Flag: forged\nSubject: x\n\nbody\n");
		struct spool *orig = s.msg;
		char *folder = NULL, *err = NULL, *text;
		pid_t pid = serve(sock, t[i].reply, strlen(t[i].reply));
		int r;

		rc_assign(rc, "SPAMD", spec);
		rc_assign(rc, "SPAMD_COMMAND", t[i].command);
		rc_assign(rc, "SPAMD_TIMEOUT", "5");
		r = filter_call(&s, rc, "spamassassin", NULL, &folder, &err);
		waitpid(pid, NULL, 0);
		is_int(r, t[i].status, "spamd reply: %s", t[i].name);
		is(rc_get(rc, "SPAM_FLAG") ? rc_get(rc, "SPAM_FLAG") : "", t[i].flag,
		    "... SPAM_FLAG");
		is(rc_get(rc, "SPAM_SCORE") ? rc_get(rc, "SPAM_SCORE") : "", t[i].score,
		    "... SPAM_SCORE");
		text = text_of(s.msg);
		if (t[i].status == FILTER_FAILED)
			like(text, "X-LDA-Unscanned: spamassassin", "... unscanned, and says so");
		else if (strcmp(t[i].command, "HEADERS") == 0)
			is(text, "Subject: x\nX-Spam-Flag: YES\nX-Spam-Level: *********\n\nbody\n",
			    "... the forged field gone, spamd's added with our line ends");
		else if (strcmp(t[i].command, "SYMBOLS") == 0)
			is(rc_get(rc, "SPAM_SYMBOLS"), "GTUBE,OTHER", "... SPAM_SYMBOLS");
		else
			ok(s.msg == orig, "... CHECK leaves the message as it was");
		free(text);
		session_end(&s, &rc, orig);
	}
}

static void
test_clamd_replies(void)
{
	static const struct {
		const char *reply;
		int nul;		/* send the terminating NUL too */
		int status;
		const char *virus, *name;
	} t[] = {
		{ "stream: OK", 1, FILTER_OK, "", "clean" },
		{ "stream: Eicar-Test-Signature FOUND", 1, FILTER_OK,
		  "Eicar-Test-Signature", "infected" },
		{ "stream: OK\n", 0, FILTER_OK, "", "newline instead of NUL" },
		{ "INSTREAM size limit exceeded. ERROR", 1, FILTER_FAILED, "",
		  "size limit" },
		{ "stream:  FOUND", 1, FILTER_FAILED, "", "FOUND without a name" },
		{ "", 0, FILTER_FAILED, "", "nothing" },
	};
	char sock[128], spec[140];

	snprintf(sock, sizeof sock, "%s/clamd.sock", dir);
	snprintf(spec, sizeof spec, "unix:%s", sock);
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		struct session s;
		struct rc *rc = session_new(&s, "Subject: x\n\nbody\n");
		struct spool *orig = s.msg;
		char *folder = NULL, *err = NULL;
		pid_t pid = serve(sock, t[i].reply, strlen(t[i].reply) + t[i].nul);
		int r;

		/* the filter is opened once per process: CLAMD from the first
		   call stays, which is what lda does too */
		rc_assign(rc, "CLAMD", spec);
		rc_assign(rc, "CLAMAV_FAILURE", "open");
		rc_assign(rc, "CLAMD_TIMEOUT", "5");
		r = filter_call(&s, rc, "clamav", NULL, &folder, &err);
		waitpid(pid, NULL, 0);
		is_int(r, t[i].status, "clamd reply: %s", t[i].name);
		is(rc_get(rc, "VIRUS_NAME") ? rc_get(rc, "VIRUS_NAME") : "",
		    t[i].virus, "... VIRUS_NAME");
		session_end(&s, &rc, orig);
	}
}

static void
test_received(void)
{
	static const struct {
		const char *value, *mta, *ip, *helo;
	} t[] = {
		{ "from helo.example (mail.example [192.0.2.1]) by mx.example.org "
		  "(Postfix) with ESMTP id 1; Sat, 21 Nov 2026", "mx.example.org",
		  "192.0.2.1", "helo.example" },
		{ "from helo.example (unknown [IPv6:2001:db8::1]) by MX.Example.Org "
		  "(Postfix) with ESMTPS", "mx.example.org", "2001:db8::1", "helo.example" },
		{ "from h (r [192.0.2.1] (may be forged)) by mx (8.17.1/8.17.1) with ESMTP",
		  "mx", "192.0.2.1", "h" },
		{ "from rdns.example ([192.0.2.9] helo=h.example) by mx with esmtp (Exim 4.96)",
		  "mx", "192.0.2.9", "h.example" },
		{ "from [192.0.2.9] (helo=h.example) by mx with esmtp", "mx", "192.0.2.9",
		  "h.example" },
		{ "from h (r [192.0.2.1]) by other.example (Postfix)", "mx", "", "" },
		{ "from h (r [999.0.2.1]) by mx (Postfix)", "mx", "", "" },
		{ "from h (r) by mx (Postfix)", "mx", "", "" },
		{ "by mx (Postfix) id 1", "mx", "", "" },
		{ "from h (r [192.0.2.1]) bymx (Postfix)", "mx", "", "" },
	};

	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		char ip[64] = "", helo[64] = "";
		int r = spf_received_client(t[i].value, t[i].mta, ip, sizeof ip,
		    helo, sizeof helo);
		is_int(r, *t[i].ip != '\0', "Received %zu: %s", i, *t[i].ip ?
		    "found" : "not used");
		if (r) {
			is(ip, t[i].ip, "... client address");
			is(helo, t[i].helo, "... HELO");
		}
	}
}

static void
test_received_spf(void)
{
	struct buf b;

	buf_init(&b, 0);
	spf_received_spf(&b, "pass", "mx: domain of a (b) designates", "192.0.2.1",
	    "a\"b\\c@example.org", "helo.example", "mx.example.org", NULL);
	is(b.s, "pass (mx: domain of a b designates) client-ip=192.0.2.1; "
	    "envelope-from=\"a\\\"b\\\\c@example.org\"; helo=helo.example; "
	    "receiver=mx.example.org; identity=mailfrom;",
	    "Received-SPF: parentheses out of the comment, envelope-from quoted and escaped");
	buf_reset(&b);
	spf_received_spf(&b, "permerror", "", "2001:db8::1", "", "[192.0.2.1]",
	    "mx", "Bad record");
	is(b.s, "permerror client-ip=\"2001:db8::1\"; helo=\"[192.0.2.1]\"; receiver=mx; "
	    "identity=helo; problem=\"Bad record\";",
	    "null sender: identity=helo; values that are no dot-atom (IPv6, literal) quoted; problem=");
	buf_free(&b);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	if (mkdtemp(dir) == NULL)
		return 1;
	test_new_header();
	test_settings();
	test_call_contract();
	test_spamd_replies();
	test_clamd_replies();
	test_received();
	test_received_spf();
	filter_close_all();
	{
		char cmd[128];
		snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
		if (system(cmd) != 0)
			diag("could not remove %s", dir);
	}
	return done_testing();
}

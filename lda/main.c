/*
 * main.c - lda, a procmail-style local delivery agent: the way a message
 * travels, step by step (DESIGN.md): invocation, privileges, spool, rc and
 * filters, delivery, exit code.
 * Does: sequence the steps and turn the result into the exit status.
 * Does not: parse, deliver or decide anything itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "invocation.h"
#include "lmtp.h"
#include "lmtpd.h"
#include "log.h"
#include "loop.h"
#include "mailspool.h"
#include "outcome.h"
#include "priv.h"
#include "rcptrun.h"
#include "session.h"
#include "spool.h"
#include "status.h"
#include "store.h"
#include "undo.h"
#include "xalloc.h"
#include "../rc/rc.h"
#include "../rc/sieve.h"
#include "../filters/filter.h"
#include "address.h"			/* addressing: doc/addressing.md */
#include "virtual.h"
#include "../filters/bboard.h"
#include "../filters/plusaddr.h"

/* Set under --test: the exit code is said as the last line. */
static int dry_run;

/* Set under -z until the session starts: standard output is the LMTP
   client, and a configuration error found before the session is its
   greeting 421 (lmtpd_refuse), never a status line. */
static int lmtp_greeting;

/* config_error - an administrator's mistake: logged, the status line
   4.3.5 (under -z the greeting 421 4.3.5) with the complaint, the
   message stays with the MTA */
static enum outcome
config_error(const char *rcpt, const char *what)
{
	if (rcpt)
		log_warn("to=<%s>: %s; the message stays with the MTA", rcpt,
		    what);
	else
		log_warn("%s; the message stays with the MTA", what);
	if (lmtp_greeting)
		lmtpd_refuse(1, outcome_status(OUT_CONFIG), what);
	else
		status_fail(OUT_CONFIG, NULL, rcpt, "%s", what);
	return OUT_CONFIG;
}

/* finish - the run's one status line (status.h) and its exit code;
   --test says the code as its last line; under -z before the session,
   the greeting said it all (config_error) */
static int
finish(enum outcome o)
{
	int code;

	if (lmtp_greeting)
		return outcome_exit(o);
	code = status_end(o);

	if (dry_run) {
		printf("exit code %d%s\n", code, code == 0 ? "" : code ==
		    EX_TEMPFAIL ? " (the MTA keeps the message)" :
		    " (the MTA bounces the message)");
		fflush(stdout);
	}
	return code;
}

/* user_rc - the user's rc file: ~/.ldarc, else ~/.procmailrc, or NULL */
static char *
user_rc(const char *home)
{
	static const char *const names[] = { ".ldarc", ".procmailrc" };
	struct stat st;

	for (unsigned i = 0; i < 2; i++) {
		char *p = xasprintf("%s/%s", home, names[i]);
		if (stat(p, &st) == 0)
			return p;
		free(p);
	}
	return NULL;
}

/* abs_path - path made absolute against the starting directory, because
   the rc changes directory (to $HOME, then MAILDIR) before reading it */
static char *
abs_path(const char *path)
{
	char cwd[4096];

	if (path[0] == '/' || getcwd(cwd, sizeof cwd) == NULL)
		return xstrdup(path);
	return xasprintf("%s/%s", cwd, path);
}

/* run_rc - the system rc, then the user's (or just -m's rcfile); returns
   1 when a delivering recipe delivered, 0 when not, -1 when the system
   rc or the rcfile of the command line cannot be read (a configuration
   error, recorded) */
static int
run_rc(struct rc *rc, const struct invocation *inv, struct session *s,
    const char *rcfile)
{
	const char *sys = inv->config ? inv->config : SYSCONFDIR "/lda.rc";
	char *err = NULL, *path = NULL;
	const char *cur = sys;
	int done = 0;

	for (size_t i = 0; i < inv->nassigns; i++) {
		char *eq = strchr(inv->assigns[i], '=');
		char *name = xstrndup(inv->assigns[i], (size_t)(eq - inv->assigns[i]));
		rc_assign(rc, name, eq + 1);
		free(name);
	}
	/* The default system rc may be absent; one that is there, or one
	   named by --config, must be read. */
	if (inv->mode != INV_MAILFILTER && (inv->config ||
	    access(sys, F_OK) == 0) && (done = rc_run_file(rc, sys, 1,
	    &err)) == -1) {
		config_error(s->recipient, err);
		free(err);
		return -1;
	}
	/* filters: the chain the system rc set in FILTERS, before the user rc */
	if (done == 0)
		done = filter_chain(s, rc);
	/* addressing: a board post ends here; another user's rc is never
	   ours to run, a recipient without an account has the
	   administrator's USERS_RC_DIR file */
	done = bboard_settle(s, rc, done);
	if (done == 0 && s->foreign)
		done = virtual_user(s, rc_user_file_ok, &path);
	if (done == 0 && rcfile) {
		if ((done = rc_run_file(rc, cur = rcfile, 0, &err)) == -1) {
			config_error(s->recipient, err);
			free(err);
			return -1;
		}
	} else if (s->foreign) {
		if (done == 0 && (cur = path) != NULL)
			done = rc_run_file(rc, path, 0, &err);
	} else if (done == 0 && (cur = path = user_rc(s->home)) != NULL) {
		/* A user rc others could have written is not run; the
		   message still goes to DEFAULT. */
		if (rc_user_file_ok(path, s->uid, &err))
			done = rc_run_file(rc, path, 0, &err);
		else
			log_warn("rc %s: not run: %s", path, err);
	}
	if (done == -1) {
		/* An unreadable user rc: the message still goes to DEFAULT,
		   as procmail does. */
		log_warn("rc %s: %s", cur, err);
	}
	free(err);
	free(path);
	return done == 1;
}

/* deliver_one - steps 4 and 5 for one recipient; returns the outcome.
   foreign: the -d name we deliver for as pw without root, or NULL; *stp:
   the run's store transaction, shared by its recipients (store.h) */
static enum outcome
deliver_one(const struct invocation *inv, struct spool *sp,
    const struct passwd *pw, const char *home, const char *foreign,
    const char *detail, struct store **stp, struct lmtp_pre *pre)
{
	struct session s = { 0 };
	char *rcfile = inv->rcfile ? abs_path(inv->rcfile) : NULL;
	char *arg1[2] = { (char *)detail, NULL };
	struct invocation with1;
	size_t mark = status_mark();
	enum outcome o;
	struct rc *rc;
	int r;

	/* addressing: the detail is $1 when the MTA gave no -a */
	if (detail && inv->nargs == 0 && inv->mode == INV_DELIVER) {
		with1 = *inv;
		with1.args = arg1;
		with1.nargs = 1;
		inv = &with1;
	}
	s.detail = detail;
	s.inv = inv;
	s.msg = sp;
	s.sender = inv->sender ? inv->sender :
	    sp->from_sender ? sp->from_sender : "";
	s.recipient = foreign ? foreign : pw->pw_name;
	s.foreign = foreign != NULL;
	s.store = *stp;
	s.pre = pre;
	s.home = home;
	s.uid = pw->pw_uid;
	s.tmpdir = inv->tmpdir;
	s.dry_run = inv->dry_run;
	s.outcome = OUT_DELIVERED;
	s.delivered_to = inv->mode == INV_DELIVER ? s.recipient : NULL;
	/* a message that went through us for this recipient before: a loop
	   (a forward that came back), refused as postfix's local(8) does */
	if (s.delivered_to && loop_seen(sp, s.delivered_to)) {
		log_warn("to=<%s>, from=<%s>, status=bounced (mail forwarding "
		    "loop: the message has our Delivered-To: %s)", s.recipient,
		    s.sender, s.delivered_to);
		status_fail(OUT_UNAVAILABLE, "5.4.6", s.recipient, "mail "
		    "forwarding loop (the message has our Delivered-To: %s)",
		    s.delivered_to);
		free(rcfile);
		return OUT_UNAVAILABLE;
	}
	rc = rc_new(&s);
	s.settings = rc_settings(rc);	/* read by delivery (settings.h) */
	if (inv->store)
		rc_assign(rc, "STORE", inv->store);
	if (detail)
		rc_assign_t(rc, "DETAIL", detail, 1);	/* the address's */
	/* Whatever the rc files did not deliver goes to the detail's folder
	   (plusaddr), else to DEFAULT. */
	if ((r = run_rc(rc, inv, &s, rcfile)) == -1)
		o = OUT_CONFIG;		/* nothing runs, nothing delivered */
	else {
		if (r || plusaddr_default(&s, rc))
			o = s.outcome;
		else
			o = rc_deliver_default(rc);
		o = rc_finish(rc, o);	/* TRAP, EXITCODE, the last abstract */
		rc_trace_summary(rc);	/* --test: where it would go */
	}
	/* A configuration error decides, whatever EXITCODE says; failures
	   of a recipient that was delivered after all decided nothing. */
	if (status_config_since(mark))
		o = OUT_CONFIG;
	else if (o == OUT_DELIVERED)
		status_forget(mark);
	*stp = s.store;
	rc_free(&rc);
	free(rcfile);
	if (s.msg != sp)	/* a filter replaced the message */
		spool_free(&s.msg);
	free(s.last_folder);
	return o;
}

/* store_finish - send the run's store transaction, if any, and fold its
   outcome into o; when the store decides, its reply is the status line */
static enum outcome
store_finish(struct store **stp, enum outcome o)
{
	char *status = NULL, *reason = NULL;
	enum outcome so;

	if (*stp == NULL)
		return o;
	so = store_send(*stp, &status, &reason);
	store_free(stp);
	if (so != OUT_DELIVERED && reason)
		status_fail(so, status, NULL, "%s", reason);
	free(status);
	free(reason);
	return outcome_worse(o, so);
}

/* run_end - every copy is committed, or the run failed: what filters
   keep for that moment (@dedup's record, @vacation's reply) */
static enum outcome
run_end(const struct invocation *inv, enum outcome o)
{
	filter_commit(o == OUT_DELIVERED && !inv->dry_run);
	return o;
}

/* for_recipient - become the -d recipient (we are root) and deliver */
static enum outcome
for_recipient(const struct invocation *inv, struct spool *sp, const char *name)
{
	struct address_opts ao;
	struct address a;
	struct passwd *pw;
	struct store *st = NULL;
	char *err = NULL;
	enum outcome o;

	/* addressing: -d bob+lists is user bob, detail lists */
	address_opts(inv, &ao);
	address_of(inv, name, &ao, &a);
	if ((pw = getpwnam(a.user)) == NULL) {
		log_warn("to=<%s>, status=bounced (unknown user)", name);
		status_fail(OUT_NOUSER, NULL, name, "user unknown");
		address_free(&a);
		return OUT_NOUSER;
	}
	/* root's own mail is delivered as root, as procmail does (its rc
	   runs only when root owns it and no one else may write it); anyone
	   else's by the user, with a root helper for the system mailbox */
	if (pw->pw_uid != 0 && (mailspool_start(pw, &err) == -1 ||
	    priv_become(pw, &err) == -1)) {
		log_warn("to=<%s>, status=deferred (%s)", name, err);
		status_fail(OUT_TEMPFAIL, NULL, name, "%s", err);
		free(err);
		return OUT_TEMPFAIL;
	}
	o = deliver_one(inv, sp, pw, pw->pw_dir, NULL, a.detail, &st, NULL);
	address_free(&a);
	return run_end(inv, store_finish(&st, o));
}

/* fork_recipients - one child per -d recipient, as procmail does; each
   child's status line comes to us, and the run prints one (status.h) */
static enum outcome
fork_recipients(const struct invocation *inv, struct spool *sp)
{
	enum outcome all = OUT_DELIVERED;

	for (size_t i = 0; i < inv->nrecipients; i++) {
		int status, code, p[2];
		pid_t pid;

		fflush(stdout);
		if (status_pipe(p) == -1 || (pid = fork()) == -1) {
			status_fail(OUT_TEMPFAIL, NULL, inv->recipients[i],
			    "cannot fork: %s", strerror(errno));
			return outcome_worse(all, OUT_TEMPFAIL);
		}
		if (pid == 0) {
			enum outcome o;
			int code;
			status_child(p);
			undo_child_start(p[1]);
			o = for_recipient(inv, sp, inv->recipients[i]);
			code = status_end(o);
			fflush(stdout);
			log_end();	/* after the status line */
			_exit(code);
		}
		/* A signal to us goes on to the child (undo.c); we exit
		   when it has, so no copy is made after the MTA saw us go. */
		undo_forward(pid);
		while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
			;
		undo_forward(0);
		code = WIFEXITED(status) ? WEXITSTATUS(status) : EX_TEMPFAIL;
		if (!WIFEXITED(status))
			status_fail(OUT_TEMPFAIL, NULL, inv->recipients[i],
			    "delivery ended by signal %d", WTERMSIG(status));
		status_parent(p, code);
		if (code == EX_OK)
			status_delivered();
		all = outcome_worse(all, outcome_from_exit(code));
		if (undo_stopping() && i + 1 < inv->nrecipients) {
			status_fail(OUT_TEMPFAIL, NULL, NULL, "stopped by a "
			    "signal before the remaining recipients");
			return outcome_worse(all, OUT_TEMPFAIL);
		}
	}
	return all;
}

/*
 * as_self - deliver as whoever started us. -d naming another user works
 * only into a store (STORE): its socket permissions or SASL decide who may
 * inject mail, as with Cyrus's deliver; the store hook refuses such a
 * user's local folders. All recipients share one store transaction.
 */
static enum outcome
as_self(const struct invocation *inv, struct spool *sp, struct lmtp_pre *pre)
{
	struct passwd *pw = getpwuid(getuid());
	enum outcome o = OUT_DELIVERED;
	struct store *st = NULL;
	struct address_opts ao;
	struct address a;
	const char *home;

	if (pw == NULL) {
		log_warn("uid %ld has no passwd entry", (long)getuid());
		return OUT_TEMPFAIL;
	}
	/* Without -d the MTA runs us as the user: its HOME is the user's. */
	home = inv->env_home ? inv->env_home : pw->pw_dir;
	address_opts(inv, &ao);
	if (inv->nrecipients == 0) {
		/* addressing: RECIPIENT may name a user without an account
		   (a board's bb, or +board); we deliver for it */
		address_of(inv, NULL, &ao, &a);
		o = deliver_one(inv, sp, pw, home, a.user && strcmp(a.user,
		    pw->pw_name) != 0 && getpwnam(a.user) == NULL ? a.user :
		    NULL, a.detail, &st, pre);
		address_free(&a);
	}
	for (size_t i = 0; i < inv->nrecipients; i++) {
		int self;
		address_of(inv, inv->recipients[i], &ao, &a);
		/* By name, not getpwnam: a virtual user is in no passwd file,
		   and asking NSS (nss_systemd) for one costs ~1 ms. */
		self = strcmp(a.user, pw->pw_name) == 0;
		o = outcome_worse(o, deliver_one(inv, sp, pw, home, self ? NULL :
		    a.user, a.detail, &st, pre));
		address_free(&a);
	}
	return run_end(inv, store_finish(&st, o));
}

/* log_safe - s as a log word: printable ASCII but blanks, at most max
   bytes; NULL when nothing is left */
static char *
log_safe(const char *s, size_t n, size_t max)
{
	char *w = xmalloc(max + 1);
	size_t k = 0;

	for (size_t i = 0; i < n && k < max; i++)
		if (s[i] > ' ' && s[i] < 0x7f)
			w[k++] = s[i];
	w[k] = '\0';
	if (k == 0) {
		free(w);
		return NULL;
	}
	return w;
}

/* log_context - every log line from now on names the MTA's queue ID
   and the message's Message-ID, so one message can be followed from
   the MTA's log into ours */
static void
log_context(const struct invocation *inv, const struct spool *sp)
{
	char *qid = inv->queue_id ? log_safe(inv->queue_id,
	    strlen(inv->queue_id), 64) : NULL, *mid = NULL;
	long f = spool_field_find(sp, "Message-ID", 0);

	if (f >= 0) {
		const struct spool_field *fl = &sp->fields[f];
		size_t skip = fl->name_len + 1;
		mid = log_safe(sp->hdr + fl->off + skip, fl->len > skip ?
		    fl->len - skip : 0, 200);
	}
	log_set_context(qid, mid);
	free(qid);
	free(mid);
}

/* The system rc's settings without running it, for lda -z's RCPT
   check (rcptrun.h): rc/static.c behind the delivery layer's interface */
static void *
sysrc_read(const char *path, char **err)
{
	return rc_static_read(path, err);
}

static int
sysrc_get(const void *st, const char *name, char **value)
{
	return rc_static_get(st, name, value);
}

static void
sysrc_release(void *st)
{
	struct rc_static *rs = st;

	rc_static_free(&rs);
}

static const struct rcptrun_sysrc sysrc = {
	.read = sysrc_read, .get = sysrc_get, .release = sysrc_release,
};

/* serve_one - lda -z: one recipient of an LMTP transaction, in a child
   of its own (rcptrun.c): what -d does as root, else what we do as
   ourselves */
static enum outcome
serve_one(const struct invocation *inv, struct spool *sp, struct lmtp_pre *pre)
{
	log_context(inv, sp);
	if (getuid() == 0)
		return for_recipient(inv, sp, inv->recipients[0]);
	return as_self(inv, sp, pre);
}

/* stdin was closed when we started (priv_start) */
static int no_stdin;

/* delivery - spool the message, then deliver it for each recipient */
static int
delivery(const struct invocation *inv)
{
	struct lmtp_pre pre = { .fd = -1 };
	struct spool *sp = NULL;
	char *err = NULL;
	int forking = inv->nrecipients > 0 && getuid() == 0;
	enum outcome o;

	/* With --store, the store accepts and greets while we spool and
	   read the rc (each recipient's child connects for itself). */
	if (no_stdin) {
		/* no message at all, never an empty one (priv_start) */
		log_warn("no message: standard input is closed");
		status_fail(OUT_TEMPFAIL, NULL, NULL, "no message: standard "
		    "input is closed");
		return finish(OUT_TEMPFAIL);
	}
	/* Signals and the run's time budget (DEADLINE) undo what is not
	   committed and exit 75. */
	if (!inv->dry_run)
		undo_init();
	if (inv->store && !forking && !inv->dry_run)
		(void)store_preconnect(inv->store, &pre);
	if (spool_read(0, inv->tmpdir, 1, &sp, &err) == -1) {
		log_warn("spool: %s", err);
		status_fail(OUT_TEMPFAIL, NULL, NULL, "spool: %s", err);
		free(err);
		lmtp_pre_close(&pre);
		return finish(OUT_TEMPFAIL);
	}
	log_context(inv, sp);
	if (forking)
		o = fork_recipients(inv, sp);
	else
		o = as_self(inv, sp, &pre);
	lmtp_pre_close(&pre);
	spool_free(&sp);
	return finish(o);
}

/* looks_like_mail - does the file at path begin as a mail message (a
   From_ line, or a header field no rc statement can be)? dovecot-lda's
   -p names the message file; lda's -p is procmail's, and the word after
   it is taken for an rcfile. */
static int
looks_like_mail(const char *path)
{
	static const char *const fields[] = { "Return-Path:", "Received:",
	    "Delivered-To:", "From:", "To:", "Subject:", "Date:",
	    "Message-ID:", "MIME-Version:" };
	char head[256];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd == -1)
		return 0;
	n = read(fd, head, sizeof head - 1);
	close(fd);
	if (n <= 0)
		return 0;
	head[n] = '\0';
	if (strncmp(head, "From ", 5) == 0)
		return 1;
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
		if (strncasecmp(head, fields[i], strlen(fields[i])) == 0)
			return 1;
	return 0;
}

/* readable_file - can path be opened and read as a file (not a
   directory)? 0 with errno set when not */
static int
readable_file(const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK), e;

	if (fd == -1)
		return 0;
	e = fstat(fd, &st) == -1 ? errno : S_ISDIR(st.st_mode) ? EISDIR : 0;
	close(fd);
	errno = e;
	return e == 0;
}

/*
 * settled - the administrator's part of the command line, checked before
 * the message is read: --config made absolute (it is read after lda
 * changed directory) and readable, the rcfile readable, --store a store.
 * Returns 0, or -1 after recording the configuration error.
 */
static int
settled(struct invocation *inv, char **config_r)
{
	struct store_target *t;
	const char *rcpt = inv->nrecipients ? inv->recipients[0] : NULL;
	char *err = NULL, *what;
	size_t n;

	*config_r = NULL;
	if (inv->config) {
		inv->config = *config_r = abs_path(inv->config);
		if (!readable_file(inv->config)) {
			what = xasprintf("--config %s: %s", inv->config,
			    strerror(errno));
			goto fail;
		}
	}
	if (inv->rcfile && access(inv->rcfile, R_OK) == -1) {
		/* lda -m Spam -d dave: Cyrus deliver's and dovecot-lda's
		   -m names a mailbox, procmail's (ours) an rcfile */
		what = xasprintf("cannot read rcfile %s: %s%s", inv->rcfile,
		    strerror(errno), inv->mode == INV_MAILFILTER ? " (lda's "
		    "-m takes an rcfile, as procmail's does, not a mailbox as "
		    "Cyrus deliver's and dovecot-lda's -m)" : "");
		goto fail;
	}
	if (inv->rcfile && looks_like_mail(inv->rcfile)) {
		what = xasprintf("rcfile %s is a mail message, not an rc file "
		    "(dovecot-lda's -p names the message; lda reads it on "
		    "standard input)", inv->rcfile);
		goto fail;
	}
	if (inv->store) {
		if (store_parse(inv->store, &t, &n, &err) == -1) {
			what = xasprintf("--store %s: %s", inv->store, err);
			free(err);
			goto fail;
		}
		store_targets_free(&t, n);
	}
	return 0;
fail:
	config_error(rcpt, what);
	free(what);
	return -1;
}

/* usage_error - a mistake on the command line: 75, never 64 (postfix
   bounces every message on 64); logged to the --log-file given before
   the mistake, if one was */
static int
usage_error(const struct invocation *inv, const char *err)
{
	char *why = NULL;

	fprintf(stderr, "lda: %s\n%s", err, invocation_usage);
	if (inv->log_file && log_set_system_file(inv->log_file, &why) == -1)
		free(why);	/* (its own mistake: the log goes on as it was) */
	config_error(NULL, err);
	return finish(OUT_CONFIG);
}

int
main(int argc, char **argv, char **envp)
{
	struct invocation inv;
	char *err = NULL, *config = NULL;
	int code;

	no_stdin = priv_start();	/* before anything is opened */
	log_open("lda", isatty(2));
	rc_builtins_set(&filter_builtins);	/* "| @name": rc/ runs filters/ */
	/* A file size limit must fail the write (EFBIG -> 75), not kill us. */
	signal(SIGXFSZ, SIG_IGN);
	/* -z: the LMTP client on stdout (and perhaps stderr) from the
	   start, whatever mistake the command line holds */
	if ((lmtp_greeting = invocation_lmtp(argc, argv)) != 0)
		lmtpd_quiet_stderr(1);
	if (invocation_parse(argc, argv, envp, &inv, &err) == -1) {
		code = usage_error(&inv, err);
		free(err);
		invocation_free(&inv);
		return code;
	}
	lmtp_greeting = inv.lmtp_server;
	if (inv.log_file && log_set_system_file(inv.log_file, &err) == -1) {
		char *why = xasprintf("--log-file %s: %s", inv.log_file, err);
		fprintf(stderr, "lda: %s\n", why);
		config_error(NULL, why);
		free(why);
		invocation_free(&inv);
		return finish(OUT_CONFIG);
	}
	/* --test: what would be logged is part of the trace (not under -z,
	   where standard output is the LMTP client) */
	if ((dry_run = inv.dry_run) != 0 && !inv.lmtp_server)
		log_set_echo(1);
	switch (inv.mode) {
	case INV_VERSION:
		/* the paths compiled in, which `make install` set */
		printf("lda %s\nsystem rc: %s/lda.rc\nmodules: %s\n",
		    LDA_VERSION, SYSCONFDIR, MODDIR);
		return 0;
	case INV_HELP:
		fputs(invocation_usage, stdout);
		return 0;
	case INV_CHECK:
		/* against the installed system rc's LOCKED_VARS unless
		   --config names another */
		code = (inv.config ? rc_check_file_with(inv.check_file,
		    inv.config) : rc_check_file(inv.check_file)) == 0 ? 0 :
		    outcome_exit(OUT_REJECTED);
		invocation_free(&inv);
		return code;
	case INV_TO_SIEVE:
		/* reads the rc as the invoking user; runs nothing */
		code = rc_to_sieve(inv.sieve_file, inv.assigns, inv.nassigns,
		    stdout, stderr);
		invocation_free(&inv);
		return code;
	default:
		break;
	}
	if (settled(&inv, &config) == -1)
		code = finish(OUT_CONFIG);
	else if (inv.lmtp_server) {
		lmtp_greeting = 0;	/* the session answers from now on */
		code = rcptrun_session(&inv, serve_one, &sysrc);
	} else
		code = delivery(&inv);
	free(config);
	invocation_free(&inv);
	return code;
}

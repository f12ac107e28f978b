/*
 * rc.c - the rc interpreter's public face (rc.h): create it with
 * procmail's initial variables, run rc files, fall back to DEFAULT.
 * Does: initial environment, $1.., the DEFAULT/ORGMAIL fall-back, the
 * user rc ownership check.
 * Does not: parse (parse.c), evaluate recipes (eval.c), write folders.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../lda/deliver.h"
#include "../lda/invocation.h"
#include "../lda/log.h"
#include "../lda/mailspool.h"
#include "../lda/status.h"
#include "../lda/xalloc.h"
#include "rc.h"
#include "rcint.h"

extern char **environ;

/* rc_default_vars - procmail's compiled-in defaults */
static void
rc_default_vars(struct rc *rc)
{
	struct session *s = rc->s;
	const char *user = s->recipient ? s->recipient : "";
	const char *home = s->home ? s->home : "/";
	char *org = xasprintf(MAIL_SPOOL_DIR "/%s", user);
	char *path = xasprintf("%s/bin:/usr/local/bin:/usr/bin:/bin", home);
	const char *tz = getenv("TZ");

	if (rc->s->inv && rc->s->inv->preserve_env)
		for (char **e = environ; *e; e++) {
			char *eq = strchr(*e, '=');
			if (eq && rc_var_name_ok(*e, (size_t)(eq - *e))) {
				char *n = xstrndup(*e, (size_t)(eq - *e));
				/* the MTA's: the envelope (EXTENSION,
				   RECIPIENT, ...) */
				rc_vars_set_t(&rc->vars, n, eq + 1, 1);
				free(n);
			}
		}
	if (tz)
		rc_vars_set(&rc->vars, "TZ", tz);
	rc_vars_set(&rc->vars, "HOME", home);
	rc_vars_set(&rc->vars, "USER", user);
	rc_vars_set(&rc->vars, "LOGNAME", user);
	rc_vars_set(&rc->vars, "SHELL", "/bin/sh");
	rc_vars_set(&rc->vars, "PATH", path);
	/* procmail -m has no ORGMAIL: a DEFAULT that fails is not
	   followed by the spool of whoever ran the filter */
	rc_vars_set(&rc->vars, "ORGMAIL", s->inv && s->inv->mode ==
	    INV_MAILFILTER ? "" : org);
	/* procmail's: DEFAULT is $ORGMAIL, whatever the user's home holds
	   (a ~/Maildir for Dovecot does not move a falling-through rc's
	   mail); DEFAULT=$HOME/Maildir/ is one line in the system rc. */
	rc_vars_set(&rc->vars, "DEFAULT", org);
	rc_vars_set(&rc->vars, "MAILDIR", home);
	rc_vars_set(&rc->vars, "SENDMAIL", "/usr/sbin/sendmail");
	rc_vars_set(&rc->vars, "SENDMAILFLAGS", "-oi");
	rc_vars_set(&rc->vars, "SHELLMETAS", "&|<>~;?*[");
	rc_vars_set(&rc->vars, "SHELLFLAGS", "-c");
	rc_vars_set(&rc->vars, "LOCKEXT", ".lock");
	rc_vars_set(&rc->vars, "MSGPREFIX", "msg.");
	rc_vars_set(&rc->vars, "HOST", rc->hostname);
	rc_vars_set(&rc->vars, "LOCKTIMEOUT", "1024");
	rc_vars_set(&rc->vars, "TIMEOUT", "960");
	rc_vars_set(&rc->vars, "UMASK", "077");
	rc_vars_set(&rc->vars, "PROCMAIL_VERSION", "3.22");
	if (s->sender)
		rc_vars_set_t(&rc->vars, "SENDER", s->sender, 1);
	free(org);
	free(path);
}

/*
 * rc_from_line - procmail's -f (and -r): the message's From_ line is made
 * anew, "From sender  date" (what conditions search, what programs and
 * folders get); -f - gives it a new date only. A sender taken from
 * $SENDER changes nothing: the message keeps its own From_ line.
 */
static void
rc_from_line(struct session *s)
{
	const struct invocation *inv = s->inv;
	const char *who;
	char date[64];
	time_t now = time(NULL);
	struct tm tm;

	if (inv == NULL || s->msg == NULL)
		return;
	if (inv->refresh_from)
		who = s->msg->from_sender ? s->msg->from_sender : s->sender;
	else if (inv->sender != NULL && inv->sender != inv->env_sender)
		who = inv->sender;
	else
		return;
	localtime_r(&now, &tm);
	if (strftime(date, sizeof date, "%a %b %e %H:%M:%S %Y", &tm) == 0)
		return;
	free(s->msg->from_line);
	s->msg->from_line = xasprintf("From %s  %s", who && *who ? who :
	    "MAILER-DAEMON", date);
}

/* set_get - lda/settings.h implemented: settings are rc variables, read
   when delivery acts */
static const char *
set_get(const void *ctx, const char *name)
{
	return rc_get(ctx, name);
}

/* set_trace - lda/settings.h implemented: delivery's lines join the
   run's trace */
static void
set_trace(void *ctx, int dest, const char *text)
{
	if (dest)
		rc_trace_dest(ctx, "%s", text);
	else
		rc_trace(ctx, "%s", text);
}

/* rc_new - an interpreter with procmail's initial variables */
struct rc *
rc_new(struct session *s)
{
	struct rc *rc = xcalloc(1, sizeof *rc);
	char host[256];

	rc->s = s;
	rc_from_line(s);
	rc->orig_msg = s->msg;
	rc->exitcode = -1;
	rc->abstract = -1;
	rc->logfd = -1;
	rc->settings = (struct settings){ set_get, set_trace, rc };
	buf_init(&rc->hdr, 0);
	buf_init(&rc->dests, 64 * 1024);
	/* A program that stops reading its stdin must not kill us. */
	signal(SIGPIPE, SIG_IGN);
	rc->mainpid = getpid();
	if (gethostname(host, sizeof host) == -1)
		lda_strlcpy(host, "localhost", sizeof host);
	host[sizeof host - 1] = '\0';
	rc->hostname = xstrdup(host);
	rc_vars_init(&rc->vars);
	rc_default_vars(rc);
	if (s->inv) {
		rc->args = s->inv->args;
		rc->nargs = s->inv->nargs;
	}
	/* MAILDIR's side effect: procmail starts in $HOME. */
	if (s->home && chdir(s->home) == -1)
		log_warn("rc: cannot chdir to %s: %s", s->home,
		    strerror(errno));
	umask(077);
	return rc;
}

/* rc_free - release the interpreter, its locks and its log file */
void
rc_free(struct rc **rcp)
{
	struct rc *rc = *rcp;

	if (rc == NULL)
		return;
	rc_unlock(rc, &rc->globlock);
	if (rc->logfd != -1)
		close(rc->logfd);
	for (size_t i = 0; i < rc->nlocked; i++)
		free(rc->locked[i]);
	free(rc->locked);
	rc_vars_free(&rc->vars);
	free(rc->exp_mask);
	free(rc->trusted);
	buf_free(&rc->hdr);
	buf_free(&rc->dests);
	free(rc->abs_folder);
	free(rc->filters_at);
	free(rc->hostname);
	free(rc);
	*rcp = NULL;
}

/* rc_assign - VAR=value with its side effects; locked names refused */
void
rc_assign(struct rc *rc, const char *name, const char *value)
{
	rc_assign_t(rc, name, value, 0);
}

/* rc_assign_t - rc_assign, and where the value came from (rc.h) */
void
rc_assign_t(struct rc *rc, const char *name, const char *value, int tainted)
{
	/* What steers programs and files is the administrator's, never a
	   virtual user's rc's (USERS_RC_RESTRICT); all else it sets stays
	   out of the environment of programs a trusted include runs. */
	static const char *const steer[] = { "PATH", "SHELL", "SHELLFLAGS",
	    "SHELLMETAS", "SENDMAIL", "SENDMAILFLAGS", "TRAP", "LOGFILE",
	    "LOCKFILE", "LINEBUF", "TRUSTED_RC_DIR", "USERS_RC_RESTRICT",
	    NULL };

	if (rc->restricted) {
		for (const char *const *n = steer; *n; n++)
			if (strcmp(name, *n) == 0) {
				log_warn("%s: %s: not in a virtual user's rc "
				    "(USERS_RC_RESTRICT); not assigned",
				    rc->cur_file ? rc->cur_file : "rc", name);
				return;
			}
		tainted = (tainted ? RC_VAR_TAINTED : 0) | RC_VAR_PRIVATE;
	} else
		tainted = tainted ? RC_VAR_TAINTED : 0;
	if (!rc->in_system && rc_is_locked(rc, name)) {
		log_warn("rc: %s is locked by the system rc; not assigned",
		    name);
		return;
	}
	if (strcmp(name, "DEFAULT") == 0)
		rc->default_set = 1;
	if (strcmp(name, "FILTERS") == 0) {
		free(rc->filters_at);
		rc->filters_at = rc->cur_file && rc->cur_line ? xasprintf(
		    "%s:%d", rc->cur_file, rc->cur_line) : xstrdup(
		    rc->cur_file ? rc->cur_file : "the command line");
	}
	if (value == NULL)
		rc_vars_unset(&rc->vars, name);
	else
		rc_vars_set_t(&rc->vars, name, value, tainted);
	rc_special(rc, name, value);
}

/* rc_set_msg - sp is the message from now on (see rc.h) */
void
rc_set_msg(struct rc *rc, struct spool *sp)
{
	if (rc->s->msg == sp)
		return;
	if (rc->s->msg != rc->orig_msg)
		spool_free(&rc->s->msg);
	rc->s->msg = sp;
	rc->hdr_of = NULL;	/* the header search area is another's */
}

/* rc_origin - where FILTERS was last set (see rc.h) */
const char *
rc_origin(const struct rc *rc, const char *name)
{
	if (strcmp(name, "FILTERS") == 0 && rc->filters_at)
		return rc->filters_at;
	return "the rc";
}

/* rc_get - a variable's value, or NULL */
const char *
rc_get(const struct rc *rc, const char *name)
{
	return rc_vars_get(&rc->vars, name);
}

/* the built-in filters main handed over (rc_builtins_set), or NULL */
static const struct rc_builtins *builtins;

/* rc_builtins_set - the filters above us (see rc.h) */
void
rc_builtins_set(const struct rc_builtins *b)
{
	builtins = b;
}

/* rc_builtin_call - run the built-in filter name (see rcint.h) */
int
rc_builtin_call(struct rc *rc, const char *name, const char *const *args,
    char **folder_r, char **err)
{
	if (builtins == NULL) {
		*err = xasprintf("no built-in filter called %s", name);
		return -1;
	}
	return builtins->call(rc->s, rc, name, args, folder_r, err);
}

/* rc_builtin_known - is name a built-in filter? (see rcint.h) */
int
rc_builtin_known(const char *name)
{
	return builtins != NULL && builtins->known(name);
}

/* rc_tainted - did name's value come from the message? (see rc.h) */
int
rc_tainted(const struct rc *rc, const char *name)
{
	return rc_vars_tainted(&rc->vars, name);
}

/* rc_settings - the settings delivery reads (see rc.h) */
const struct settings *
rc_settings(struct rc *rc)
{
	return &rc->settings;
}

/* rc_run_file - run one rc file (see rc.h for the contract) */
int
rc_run_file(struct rc *rc, const char *path, int system, char **err)
{
	int r;

	if (access(path, R_OK) == -1) {
		*err = xasprintf("cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	rc->in_system = system;
	if (!system && rc->s->rc_restricted &&
	    rc_var_long(rc_get(rc, "USERS_RC_RESTRICT"), 1) != 0) {
		/* A virtual user's rc: no programs (exec.c), INCLUDERC only
		   from TRUSTED_RC_DIR as it is now (special.c) */
		const char *t = rc_get(rc, "TRUSTED_RC_DIR");
		free(rc->trusted);
		rc->trusted = t && *t ? realpath(t, NULL) : NULL;
		rc->restricted = 1;
	}
	if ((r = rc_run_path(rc, path, system)) == -1)
		r = 0;		/* logged; the message goes to DEFAULT */
	rc->restricted = 0;
	rc->in_system = 0;
	/* Delivered: nothing more runs, this is procmail's exit. */
	if (r == 1)
		rc->s->outcome = rc_finish(rc, rc->s->outcome);
	return r;
}

/* rc_deliver_one - one fall-back copy into folder (relative to MAILDIR) */
static enum outcome
rc_deliver_one(struct rc *rc, const char *what, const char *folder)
{
	char *path = NULL;
	enum outcome o;
	struct stat st;
	off_t before = stat(folder, &st) == 0 && S_ISREG(st.st_mode) ?
	    st.st_size : 0;

	rc_trace(rc, "Delivering to %s \"%s\"", what, folder);
	{
		/* procmail locks DEFAULT with $DEFAULT$LOCKEXT, unless the
		   rc holds that very lock as its LOCKFILE */
		const char *ext = rc_get(rc, "LOCKEXT");
		char *own = xasprintf("%s%s", folder, ext ? ext : ".lock");
		rc->s->mbox_nolock = rc->globlock &&
		    strcmp(rc->globlock, own) == 0;
		free(own);
	}
	o = deliver_folder(rc->s, folder, &path);
	rc->s->mbox_nolock = 0;
	if (o == OUT_DELIVERED && path) {
		rc_yell_assign(rc, "LASTFOLDER", path);
		rc_vars_set(&rc->vars, "LASTFOLDER", path);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
			rc_abstract(rc, path, st.st_size > before ?
			    (long long)(st.st_size - before) : 0);
		else
			rc_abstract(rc, path, (long long)rc->s->msg->size);
	} else if (o != OUT_DELIVERED)
		log_warn("rc: %s %s: delivery failed", what, folder);
	free(path);
	return o;
}

/*
 * rc_deliver_default - DEFAULT, then ORGMAIL when DEFAULT fails, as
 * procmail does; under -m, as in procmail, a DEFAULT that nobody assigned
 * is not tried: the message goes to ORGMAIL as it is now (so `lda -m
 * ORGMAIL=x rc` never reaches /var/mail). A HOST mismatch or an h/b-only delivery that ended the
 * rc leave the message undelivered: procmail would report success there
 * and lose it, we keep it with the MTA (tempfail).
 */
enum outcome
rc_deliver_default(struct rc *rc)
{
	const char *def = rc_get(rc, "DEFAULT");
	const char *org = rc_get(rc, "ORGMAIL");
	enum outcome o = OUT_TEMPFAIL;
	size_t mark = status_mark();

	if (rc->host_stop || rc->partial) {
		log_warn("rc: message not delivered (%s); left with the MTA",
		    rc->host_stop ? "HOST mismatch" : "only part delivered");
		status_fail(OUT_TEMPFAIL, NULL, rc->s->recipient, "%s",
		    rc->host_stop ? "HOST mismatch: the rc ended without "
		    "delivering" : "only part of the message was delivered");
		rc->s->outcome = outcome_worse(rc->s->outcome, OUT_TEMPFAIL);
		return rc_finish(rc, OUT_TEMPFAIL);
	}
	if (!rc->default_set && rc->s->inv &&
	    rc->s->inv->mode == INV_MAILFILTER)
		def = NULL;
	if (def && *def)
		o = rc_deliver_one(rc, "DEFAULT", def);
	if (o != OUT_DELIVERED && org && *org && (def == NULL ||
	    strcmp(def, org) != 0))
		o = rc_deliver_one(rc, "ORGMAIL", org);
	if (o != OUT_DELIVERED && rc->s->delivered == 0)
		o = OUT_TEMPFAIL;
	/* the recipes' failures fell through to DEFAULT: its failure (not
	   the fall-back's, which comes after it) is the one that decided */
	if (o != OUT_DELIVERED)
		status_decided(mark);
	return rc_finish(rc, o);
}

/* finish_trap - run TRAP with the message on stdin, its output to the
   log; its exit status, or -1 when it did not run */
static int
finish_trap(struct rc *rc, const char *trap)
{
	const struct spool *sp = rc->s->msg;
	struct rc_prog p = { .cmd = trap, .in = sp, .from = 0,
	    .to = sp->size, .with_from = 1,
	    .out_fd = rc->logfd != -1 ? rc->logfd : 2 };
	char *err = NULL;
	int st;

	p.blank_end = 1;	/* ended with an empty line, as procmail feeds */
	if (rc->s->dry_run) {
		rc_yell(rc, "Would run TRAP (not under --test)", trap);
		return -1;
	}
	st = rc_exec(rc, &p, &err);
	if (st < 0) {
		log_warn("rc: TRAP \"%s\": %s", trap, err);
		free(err);
		return -1;
	}
	return st;
}

/* finish_code_ok - an exit code lda may report (the sysexits table) */
static int
finish_code_ok(int code)
{
	return code == 0 || outcome_exit(outcome_from_exit(code)) == code;
}

/*
 * finish_code - procmail's end: the abstract, TRAP, EXITCODE (see rc.h).
 * EXITCODE unset: TRAP sees the exit code in $EXITCODE and we keep it;
 * a number: that code; empty (or negative): TRAP's exit status. Only
 * codes of the sysexits table are reported, and never 0 for a message
 * that was not delivered.
 */
static enum outcome
finish_code(struct rc *rc, enum outcome o)
{
	const char *trap = rc_get(rc, "TRAP");
	const char *ev = rc_get(rc, "EXITCODE");
	char num[16];
	int code = outcome_exit(o), st = -1, want = -1;
	enum outcome res;

	rc_abstract_final(rc);
	if (ev == NULL) {
		snprintf(num, sizeof num, "%d", code);
		rc_vars_set(&rc->vars, "EXITCODE", num);
	}
	if (trap && *trap)
		st = finish_trap(rc, trap);
	if (ev && (*ev == '\0' || strtol(ev, NULL, 10) < 0))
		want = st;
	else if (ev)
		want = rc->exitcode;
	if (want < 0)
		return o;
	if (!finish_code_ok(want)) {
		log_warn("rc: exit code %d (EXITCODE, TRAP) is not a sysexits "
		    "code lda reports; ignored", want);
		return o;
	}
	res = outcome_from_exit(want);
	if (res == OUT_DELIVERED && o != OUT_DELIVERED) {
		log_warn("rc: EXITCODE 0 for a message that was not delivered; "
		    "ignored");
		return o;
	}
	rc_trace(rc, "Exit code %d (EXITCODE)", want);
	return res;
}

/* rc_finish - once: finish_code */
enum outcome
rc_finish(struct rc *rc, enum outcome o)
{
	if (rc->finished)
		return o;
	rc->finished = 1;
	return finish_code(rc, o);
}

/*
 * rc_user_file_ok - may the user rc path run for uid? procmail's rule:
 * owned by the user or root, not group- or world-writable. Returns 1,
 * or 0 with *why set (allocated); a missing file is 0 with errno ENOENT.
 */
int
rc_user_file_ok(const char *path, uid_t uid, char **why)
{
	struct stat st;

	if (stat(path, &st) == -1) {
		int e = errno;
		*why = xasprintf("%s: %s", path, strerror(e));
		errno = e;
		return 0;
	}
	errno = 0;
	if (st.st_uid != uid && st.st_uid != 0) {
		*why = xasprintf("%s: owned by uid %lu, not %lu", path,
		    (unsigned long)st.st_uid, (unsigned long)uid);
		return 0;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		*why = xasprintf("%s: group or world writable", path);
		return 0;
	}
	if (!S_ISREG(st.st_mode)) {
		*why = xasprintf("%s: not a regular file", path);
		return 0;
	}
	return 1;
}

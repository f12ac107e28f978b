/*
 * rcptrun.c - lda -z's recipients: checked at RCPT, each delivered in a
 * child of its own after the dot, its outcome made into its reply.
 * Does: move the client's descriptors off 0-2; answer RCPT (as root the
 * Unix account, as -d decides; not root, with --store the store's own
 * answer on a connection kept for the session, else any user part lda
 * could deliver for); fork one child per recipient that runs what -d
 * (root) or a run as ourselves (not root) runs, and read back its exit
 * code and status line: the same outcome as the exit code, as a reply.
 * Not root with --store, the store connection the RCPT probes use is
 * lent to each child for its store delivery and kept across the
 * transactions of the session while the child says it left it in step.
 * Does not: run user code in the parent, speak LMTP (lmtpd.c), run the
 * rc (the caller's function).
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "address.h"
#include "invocation.h"
#include "lmtp.h"
#include "lmtpd.h"
#include "log.h"
#include "rcptrun.h"
#include "status.h"
#include "store.h"
#include "undo.h"
#include "xalloc.h"

struct ctx {
	const struct invocation *inv;
	rcptrun_fn *run;
	const struct rcptrun_sysrc *sysrc;	/* the system rc, unrun */
	int in, out;		/* the client */
	int root;		/* started as root: each child becomes its user */
	char *self;		/* not root: our user name */
	struct store *probe;	/* --store, not root: the store's verdict */
};

/* account - RCPT as root: the Unix account decides, as for -d */
static void
account(const char *user, struct lmtpd_reply *r)
{
	errno = 0;
	if (getpwnam(user) != NULL)
		lmtpd_reply_set(r, 250, "2.1.5", "ok");
	else if (errno == 0 || errno == ENOENT || errno == ESRCH ||
	    errno == EBADF || errno == EPERM)
		lmtpd_reply_set(r, 550, "5.1.1", "user unknown");
	else
		lmtpd_reply_set(r, 451, "4.3.0", "cannot look up the user: %s",
		    strerror(errno));
}

/* probe - RCPT into the store: its own answer; down or slow is 4xx */
static void
probe(struct ctx *c, const char *user, struct lmtpd_reply *r)
{
	struct lmtp_reply lr;
	char *err = NULL;

	if (store_probe(c->probe, user, NULL, &lr, &err) == -1) {
		log_warn("lmtp server: to=<%s>: cannot ask the store: %s",
		    user, err);
		lmtpd_reply_set(r, 451, "4.4.1", "cannot ask the store now: %s",
		    err);
		free(err);
		return;
	}
	if (lr.code >= 200 && lr.code < 300)
		lmtpd_reply_set(r, 250, "2.1.5", "ok");
	else if (lr.code >= 500 && lr.code < 600)
		lmtpd_reply_set(r, 550, lr.status[0] == '5' ? lr.status :
		    "5.1.1", "user unknown: the store says %s", lr.text ?
		    lr.text : "no");
	else
		lmtpd_reply_set(r, 451, lr.status[0] == '4' ? lr.status :
		    "4.3.0", "cannot check the user now: the store says %s",
		    lr.text ? lr.text : "nothing");
	lmtp_reply_free(&lr);
}

/* check - the verdict at RCPT time (lmtpd_ops.check) */
static void
check(void *vc, const char *rcpt, struct lmtpd_reply *r)
{
	struct ctx *c = vc;
	struct address_opts ao;
	struct address a;

	address_opts(c->inv, &ao);
	address_split(rcpt, &ao, &a);	/* the @domain goes */
	if (a.user == NULL || a.user[0] == '\0')
		lmtpd_reply_set(r, 550, "5.1.3", "no user part in <%s>", rcpt);
	else if (c->root)
		account(a.user, r);
	else if (c->self && strcmp(a.user, c->self) == 0)
		lmtpd_reply_set(r, 250, "2.1.5", "ok");
	else if (!address_user_ok(a.user))
		lmtpd_reply_set(r, 550, "5.1.1", "user unknown");
	else if (c->probe)
		probe(c, a.user, r);
	else	/* the store of the system rc decides after DATA */
		lmtpd_reply_set(r, 250, "2.1.5", "ok");
	address_free(&a);
}

/* child - one recipient's run; never returns. lp: the pipe for our word
   on the lent store connection (lp[0] -1: none lent) */
static void
child(struct ctx *c, const struct invocation *one, struct spool *sp,
    struct lmtp_pre *pre, int p[2], int lp[2])
{
	enum outcome o;
	int code;

	close(c->in);
	close(c->out);
	if (lp[0] != -1)
		close(lp[0]);
	signal(SIGPIPE, SIG_DFL);
	status_child(p);
	/* its own time budget and undo list: a signal or the deadline
	   undoes what is not committed, and this recipient gets 451 */
	if (!one->dry_run) {
		undo_init();
		undo_child_start(p[1]);
	}
	o = c->run(one, sp, pre);
	if (lp[1] != -1) {
		/* in step, or not taken at all: the parent goes on with it */
		char w = lmtp_lent_state() == 0 ? '0' : '1';
		if (write(lp[1], &w, 1) != 1) {
			/* no word: the parent drops the connection */
		}
	}
	code = status_end(o);
	fflush(stdout);
	log_end();
	_exit(code);
}

/* reply_of - the child's exit code and status line as a reply */
static void
reply_of(int code, const char *line, int dry, struct lmtpd_reply *r)
{
	enum outcome o = outcome_from_exit(code);
	char status[16];
	const char *text = line ? strchr(line, ' ') : NULL;
	int n = 0;

	if (code == EX_OK) {
		lmtpd_reply_set(r, 250, "2.0.0", dry ? "would be delivered "
		    "(--test: nothing written)" : "delivered");
		return;
	}
	/* "4.2.2 text": the status, its class the reply's */
	snprintf(status, sizeof status, "%s", outcome_status(o));
	if (text && text - line < (ptrdiff_t)sizeof status &&
	    sscanf(line, "%*1[245].%*3[0-9].%*3[0-9]%n", &n) == 0 &&
	    line + n == text) {
		memcpy(status, line, (size_t)n);
		status[n] = '\0';
	}
	status[0] = (char)('0' + outcome_reply(o) / 100);
	lmtpd_reply_set(r, outcome_reply(o), status, "%s%s", text ? text + 1 :
	    "delivery failed", dry ? " (--test)" : "");
}

/* lent_back - the child's word on the lent store connection: in step,
   we keep it for the next recipient and transaction; else (or no word:
   it died on the way) it is dropped without a word */
static void
lent_back(struct ctx *c, int lp[2])
{
	char w = '0';

	if (lp[0] == -1)
		return;
	close(lp[1]);
	if (read(lp[0], &w, 1) != 1)
		w = '0';
	close(lp[0]);
	store_lent_back(c->probe, w == '1');
}

/* deliver - one recipient after the dot (lmtpd_ops.deliver) */
static void
deliver(void *vc, struct spool *sp, const char *sender, const char *rcpt,
    struct lmtpd_reply *r)
{
	struct ctx *c = vc;
	struct invocation one = *c->inv;
	struct lmtp_pre pre = { .fd = -1 };
	char *rcpts[2] = { (char *)rcpt, NULL }, line[1100];
	int p[2], lp[2] = { -1, -1 }, status, code;
	pid_t pid;

	one.sender = sender;
	one.recipients = rcpts;
	one.nrecipients = 1;
	one.lmtp_server = 0;
	if (c->probe && (pre.lent = store_lend(c->probe)) != NULL &&
	    pipe2(lp, O_CLOEXEC | O_NONBLOCK) == -1) {
		pre.lent = NULL;
		lp[0] = lp[1] = -1;
	}
	if (status_pipe(p) == -1 || (pid = fork()) == -1) {
		lent_back(c, lp);
		log_warn("lmtp server: to=<%s>: cannot fork: %s", rcpt,
		    strerror(errno));
		lmtpd_reply_set(r, 451, "4.3.0", "cannot fork: %s",
		    strerror(errno));
		return;
	}
	if (pid == 0)
		child(c, &one, sp, &pre, p, lp);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	lent_back(c, lp);
	code = WIFEXITED(status) ? WEXITSTATUS(status) : EX_TEMPFAIL;
	if (status_child_line(p, line, sizeof line) == -1) {
		if (WIFSIGNALED(status))
			snprintf(line, sizeof line, "4.3.0 delivery ended by "
			    "signal %d", WTERMSIG(status));
		else
			line[0] = '\0';
	}
	reply_of(code, line[0] ? line : NULL, c->inv->dry_run, r);
}

/* client_fds - the client's descriptors moved above 2; /dev/null on 0
   and 1 (and on 2 when it is the client too): nothing a delivery or a
   program prints can reach the client as a reply */
static int
client_fds(int *in, int *out)
{
	struct stat s0, s2;
	int null;

	if ((*in = fcntl(0, F_DUPFD_CLOEXEC, 3)) == -1 ||
	    (*out = fcntl(1, F_DUPFD_CLOEXEC, 3)) == -1 ||
	    (null = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1)
		return -1;
	dup2(null, 0);
	dup2(null, 1);
	if (fstat(*in, &s0) == 0 && fstat(2, &s2) == 0 &&
	    s0.st_dev == s2.st_dev && s0.st_ino == s2.st_ino)
		dup2(null, 2);
	if (null > 2)
		close(null);
	return 0;
}

/* The store settings for RCPT probes, as a delivery would have them:
   --store, then the command line's VAR=value, then the system rc's
   literal top-level assignments (struct rcptrun_sysrc), in the run's order. */
struct vars {
	const struct invocation *inv;
	const struct rcptrun_sysrc *ops;
	void *sys;		/* the system rc's settings, or NULL */
	int unknown;		/* a setting only running the rc tells */
	char *held[32];		/* values handed out, freed after reading */
	size_t nheld;
};

/* getvar - one store setting (store_getvar_fn) */
static const char *
getvar(const void *vv, const char *name)
{
	struct vars *v = (struct vars *)vv;
	char *value;
	int r;

	if (v->sys && (r = v->ops->get(v->sys, name, &value)) != 0) {
		if (r == -1 || v->nheld == sizeof v->held / sizeof v->held[0]) {
			v->unknown = 1;
			free(value);
			return NULL;
		}
		return v->held[v->nheld++] = value;
	}
	if ((value = (char *)invocation_var(v->inv, name)) != NULL)
		return value;
	if (strcmp(name, "STORE") == 0)
		return v->inv->store;
	return NULL;
}

/* probe_store - the store RCPT asks, or none (-1 with *err: a setting
   lda cannot use, the system rc unreadable) */
static int
probe_store(struct ctx *c, char **err)
{
	const struct invocation *inv = c->inv;
	const char *sys = inv->config ? inv->config : SYSCONFDIR "/lda.rc";
	struct vars v = { .inv = inv, .ops = c->sysrc };
	struct store_settings set;
	int r = 0;

	if ((inv->config || access(sys, F_OK) == 0) &&
	    (v.sys = c->sysrc->read(sys, err)) == NULL) {
		char *why = *err;
		*err = xasprintf("system rc %s: %s", sys, why);
		free(why);
		return -1;
	}
	if (getvar(&v, "STORE") != NULL && !v.unknown) {
		if (store_settings_read(&set, getvar, &v, err) == -1)
			r = -1;
		else if (!v.unknown)
			c->probe = store_new(&set);
		else
			store_settings_free(&set);
	}
	if (r == 0 && v.unknown) {
		/* only the run tells: the command line's store, as before */
		struct vars cl = { .inv = inv };
		log_warn("lmtp server: %s sets a STORE setting with an "
		    "expansion, in a recipe or an INCLUDERC: RCPT is checked "
		    "with %s", sys, getvar(&cl, "STORE") ? "the command "
		    "line's store only" : "no store");
		if (getvar(&cl, "STORE") != NULL) {
			if (store_settings_read(&set, getvar, &cl, err) == -1)
				r = -1;
			else
				c->probe = store_new(&set);
		}
	}
	for (size_t i = 0; i < v.nheld; i++)
		free(v.held[i]);
	if (v.sys)
		c->sysrc->release(v.sys);
	return r;
}

/* setup - our name, the probe store, SIZE; -1 with *err on a setting
   lda cannot use */
static int
setup(struct ctx *c, struct lmtpd_ops *ops, char **err)
{
	const char *size = invocation_var(c->inv, "LMTP_SIZE");
	struct passwd *pw;

	if (size) {
		char *end;
		errno = 0;
		ops->size_max = strtoull(size, &end, 10);
		if (errno || *end || end == size || ops->size_max == 0) {
			*err = xasprintf("LMTP_SIZE=%s: not a number of bytes",
			    size);
			return -1;
		}
	}
	if (!c->root && (pw = getpwuid(getuid())) != NULL)
		c->self = xstrdup(pw->pw_name);
	if (!c->root && probe_store(c, err) == -1)
		return -1;
	return 0;
}

/* rcptrun_session - serve one LMTP client (rcptrun.h) */
int
rcptrun_session(const struct invocation *inv, rcptrun_fn *run,
    const struct rcptrun_sysrc *sysrc)
{
	struct ctx c = { .inv = inv, .run = run, .sysrc = sysrc,
	    .root = getuid() == 0 };
	struct lmtpd_ops ops = { .check = check, .deliver = deliver,
	    .ctx = &c, .tmpdir = inv->tmpdir };
	char host[256], *err = NULL;
	int r = -1;

	if (client_fds(&c.in, &c.out) == -1) {
		log_warn("lmtp server: descriptors: %s", strerror(errno));
		return EX_TEMPFAIL;
	}
	signal(SIGPIPE, SIG_IGN);	/* a client gone is a write error */
	if (gethostname(host, sizeof host) == -1)
		snprintf(host, sizeof host, "localhost");
	host[sizeof host - 1] = '\0';
	ops.name = host;
	if (setup(&c, &ops, &err) == -1) {
		/* a mistake is loud: the client sees it and keeps its mail */
		log_warn("lmtp server: %s; the mail stays with the MTA", err);
		lmtpd_refuse(c.out, "4.3.5", err);
		free(err);
	} else
		r = lmtpd_serve(c.in, c.out, &ops);
	store_free(&c.probe);
	free(c.self);
	close(c.in);
	close(c.out);
	return r == 0 ? EX_OK : EX_TEMPFAIL;
}

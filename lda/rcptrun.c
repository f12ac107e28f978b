/*
 * rcptrun.c - lda -z's recipients: checked at RCPT, each delivered in a
 * child of its own after the dot, its outcome made into its reply.
 * Does: move the client's descriptors off 0-2; answer RCPT (as root the
 * Unix account, as -d decides; not root, with --store the store's own
 * answer on a connection kept for the session, else any user part lda
 * could deliver for); fork one child per recipient that runs what -d
 * (root) or a run as ourselves (not root) runs, and read back its exit
 * code and status line: the same outcome as the exit code, as a reply.
 * With a store known before any rc runs (the system rc's literal STORE
 * settings, the command line's), the children hand the store copies of
 * the transaction's message to us (relay.c) and we send those of all
 * recipients in one upstream transaction (single-instance store), on a
 * connection kept for the session.
 * Does not: run user code in the parent, speak LMTP (lmtpd.c), run the
 * rc (the caller's function), group copies (store.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "address.h"
#include "invocation.h"
#include "lmtp.h"
#include "lmtpd.h"
#include "log.h"
#include "rcptrun.h"
#include "relay.h"
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
	struct store *store;	/* the store a delivery uses, as the system
				   rc and the command line set it: its
				   verdict at RCPT (not root), the relay's
				   connection (single-instance store) */
	char *key;		/* its settings (store_settings_key) */
	const char *sender;	/* the transaction's, while it is delivered */
	pid_t zombies[64];	/* children done, not yet waited for */
	size_t nzombies;
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

/* probe - RCPT into the store: its own answer; down or slow is 4xx.
   A real run asks in the transaction that will carry the message
   (store_check), --test in one that is reset at once. */
static void
probe(struct ctx *c, const char *sender, long long size, const char *user,
    struct lmtpd_reply *r)
{
	struct lmtp_reply lr;
	char *err = NULL;
	int got = c->inv->dry_run ? store_probe(c->store, user, NULL, &lr,
	    &err) : store_check(c->store, user, sender, (off_t)size, &lr, &err);

	if (got == -1) {
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
		    "5.1.1", "%s: the store says %s", strncmp(lr.status,
		    "5.1.", 4) == 0 || lr.status[0] != '5' ? "user unknown" :
		    "refused", lr.text ? lr.text : "no");
	else
		lmtpd_reply_set(r, 451, lr.status[0] == '4' ? lr.status :
		    "4.3.0", "cannot check the user now: the store says %s",
		    lr.text ? lr.text : "nothing");
	lmtp_reply_free(&lr);
}

/* check - the verdict at RCPT time (lmtpd_ops.check) */
static void
check(void *vc, const char *sender, long long size, const char *rcpt,
    struct lmtpd_reply *r)
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
	else if (c->store)
		probe(c, sender, size, a.user, r);
	else	/* the store of the system rc decides after DATA */
		lmtpd_reply_set(r, 250, "2.1.5", "ok");
	address_free(&a);
}

/* end - the client's transaction is over (lmtpd_ops.end): what the RCPT
   checks opened on the store and no copy used is reset */
static void
end(void *vc)
{
	struct ctx *c = vc;

	if (c->store)
		store_txn_end(c->store);
}

/* idle - the client pauses between transactions (lmtpd_ops.idle): the
   store's connection goes back, so that a session its client keeps idle
   (postfix's connection cache) holds no store process; the next use
   connects anew */
static void
idle(void *vc)
{
	struct ctx *c = vc;

	if (c->store)
		store_release(c->store);
}

/* One recipient's child after the dot. */
struct kid {
	const char *rcpt;
	pid_t pid;		/* -1: none (its reply is set) */
	int p[2];		/* its status line */
	int sock;		/* our end of its relay socket, or -1 */
	struct relay_req req;	/* its store copies while it waits */
	int parked;		/* waiting for the replies to req */
};

/* child - one recipient's run; never returns. k: every recipient's kid
   so far (ours last), whose relay sockets are not ours to keep */
static void
child(struct ctx *c, const struct invocation *one, struct spool *sp,
    struct kid *k, size_t me, int sock)
{
	enum outcome o;
	int code;

	close(c->in);
	close(c->out);
	for (size_t i = 0; i < me; i++)
		if (k[i].sock != -1)
			close(k[i].sock);
	signal(SIGPIPE, SIG_DFL);
	status_child(k[me].p);
	/* its own time budget and undo list: a signal or the deadline
	   undoes what is not committed, and this recipient gets 451 */
	if (!one->dry_run) {
		undo_init();
		undo_child_start(k[me].p[1]);
	}
	if (sock != -1)
		relay_child(sock, c->store && !one->dry_run ? sp : NULL);
	o = c->run(one, sp);
	code = status_end(o);
	fflush(stdout);
	log_end();
	relay_done(code);	/* we are done: no need to wait for our exit */
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

/* reap_pending - wait for the children that said they are done (block:
   all of them; else those already gone) */
static void
reap_pending(struct ctx *c, int block)
{
	size_t k = 0;

	for (size_t i = 0; i < c->nzombies; i++) {
		pid_t r;
		while ((r = waitpid(c->zombies[i], NULL, block ? 0 : WNOHANG)) ==
		    -1 && errno == EINTR)
			;
		if (r == 0)
			c->zombies[k++] = c->zombies[i];
	}
	c->nzombies = k;
}

/* reply_line - the kid's status line (written before it said it was
   done, or before it died) */
static void
reply_line(struct ctx *c, struct kid *k, int code, int signo,
    struct lmtpd_reply *r)
{
	char line[1100];

	if (status_child_line(k->p, line, sizeof line) == -1) {
		if (signo) {
			snprintf(line, sizeof line, "4.3.0 delivery ended by "
			    "signal %d", signo);
			log_warn("lmtp server: to=<%s>: the delivery ended by "
			    "signal %d; deferred", k->rcpt, signo);
		} else
			line[0] = '\0';
	}
	reply_of(code, line[0] ? line : NULL, c->inv->dry_run, r);
}

/* reap_later - a kid that said it is done: waited for when it is gone */
static void
reap_later(struct ctx *c, pid_t pid)
{
	if (c->nzombies == sizeof c->zombies / sizeof c->zombies[0])
		reap_pending(c, 1);
	c->zombies[c->nzombies++] = pid;
}

/* reap - the kid's end: its word "done" with its exit code (it exits
   on its own), or its death, as its reply */
static void
reap(struct ctx *c, struct kid *k, int done, int code,
    struct lmtpd_reply *r)
{
	int status, signo = 0;

	if (k->sock != -1)
		close(k->sock);
	k->sock = -1;
	relay_req_free(&k->req);
	k->parked = 0;
	if (k->pid == -1)
		return;
	if (done)
		reap_later(c, k->pid);
	else {
		while (waitpid(k->pid, &status, 0) == -1 && errno == EINTR)
			;
		code = WIFEXITED(status) ? WEXITSTATUS(status) : EX_TEMPFAIL;
		signo = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	}
	k->pid = -1;
	reply_line(c, k, code, signo, r);
}

/*
 * relayable - may the parent send the copies of this request? Its sender
 * and settings must be the transaction's and the parent's store's; as
 * root, every copy must be the recipient's own (its user, an address of
 * that user's), so that no child reaches through the parent what it
 * could not itself.
 */
static int
relayable(struct ctx *c, const char *rcpt, const struct relay_req *q)
{
	const struct store_settings *set = store_settings_of(c->store);
	const char *delim = set->delimiter;
	struct address_opts ao;
	struct address a;
	char *base;
	size_t n;
	int ok = strcmp(q->key, c->key) == 0 && strcmp(q->sender,
	    c->sender) == 0;

	if (!ok || !c->root)
		return ok;
	address_opts(c->inv, &ao);
	address_split(rcpt, &ao, &a);
	base = a.user ? store_address(set, a.user, NULL) : NULL;
	n = base ? strlen(base) : 0;
	for (size_t i = 0; ok && i < q->n; i++)
		ok = base && strcmp(q->users[i], a.user) == 0 &&
		    strncmp(q->addrs[i], base, n) == 0 && (q->addrs[i][n] ==
		    '\0' || (delim && q->addrs[i][n] == delim[0]));
	free(base);
	address_free(&a);
	return ok;
}

/* follow - the kid's words until it parks (its store copies for us to
   send: 1) or ends (0, r set) */
static int
follow(struct ctx *c, struct kid *k, struct lmtpd_reply *r)
{
	int code = 0, got;

	while (k->sock != -1) {
		got = relay_read(k->sock, &k->req, &code);
		if (got == 1 && relayable(c, k->rcpt, &k->req)) {
			k->parked = 1;
			return 1;
		}
		if (got == 1) {
			/* not ours to send: it sends them itself */
			relay_answer(k->sock, &k->req, NULL);
			relay_req_free(&k->req);
			continue;
		}
		reap(c, k, got == 2, code, r);
		return 0;
	}
	reap(c, k, 0, 0, r);
	return 0;
}

/* start - fork recipient i's child; it parks (its copies to send) or
   has ended by the time we return */
static void
start(struct ctx *c, struct spool *sp, const char *sender, char *rcpt,
    struct kid *k, size_t i, struct lmtpd_reply *r)
{
	struct invocation one = *c->inv;
	char *rcpts[2] = { rcpt, NULL };
	int sv[2] = { -1, -1 };

	one.sender = sender;
	one.recipients = rcpts;
	one.nrecipients = 1;
	one.lmtp_server = 0;
	k[i] = (struct kid){ .rcpt = rcpt, .pid = -1, .sock = -1 };
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		sv[0] = sv[1] = -1;	/* its exit tells: no relay, no word */
	k[i].p[0] = k[i].p[1] = -1;
	if (status_pipe(k[i].p) == -1 || (k[i].pid = fork()) == -1) {
		log_warn("lmtp server: to=<%s>: cannot fork: %s", rcpt,
		    strerror(errno));
		lmtpd_reply_set(r, 451, "4.3.0", "cannot fork: %s",
		    strerror(errno));
		k[i].pid = -1;
		for (int j = 0; j < 2; j++) {
			if (sv[j] != -1)
				close(sv[j]);
			if (k[i].p[j] != -1)
				close(k[i].p[j]);
		}
		return;
	}
	if (k[i].pid == 0) {
		if (sv[0] != -1)
			close(sv[0]);
		child(c, &one, sp, k, i, sv[1]);
	}
	if (sv[1] != -1)
		close(sv[1]);
	k[i].sock = sv[0];
	follow(c, &k[i], r);
}

/* flush - send the parked kids' copies (all from the transaction's
   sender: relayable), answer each kid, and follow it to its end */
static void
flush(struct ctx *c, struct spool *sp, struct kid *k, size_t n,
    struct lmtpd_reply *r)
{
	const char **users, **addrs;
	struct lmtp_reply *rr;
	size_t m = 0, at = 0;

	for (size_t j = 0; j < n; j++)
		m += k[j].parked ? k[j].req.n : 0;
	users = xcalloc(m + 1, sizeof *users);
	addrs = xcalloc(m + 1, sizeof *addrs);
	rr = xcalloc(m + 1, sizeof *rr);
	for (size_t j = 0; j < n; j++)
		for (size_t q = 0; k[j].parked && q < k[j].req.n; q++) {
			users[at] = k[j].req.users[q];
			addrs[at++] = k[j].req.addrs[q];
		}
	store_relay_send(c->store, sp, c->sender, users, addrs, m, rr);
	at = 0;
	for (size_t j = 0; j < n; j++) {
		if (!k[j].parked)
			continue;
		relay_answer(k[j].sock, &k[j].req, rr + at);
		at += k[j].req.n;
		relay_req_free(&k[j].req);
		k[j].parked = 0;
		follow(c, &k[j], &r[j]);
	}
	for (size_t q = 0; q < m; q++)
		lmtp_reply_free(&rr[q]);
	free(rr);
	free(users);
	free(addrs);
}

/*
 * deliver - every accepted recipient after the dot (lmtpd_ops.deliver):
 * one child each, in turn; a child whose store copies the parent may
 * send parks, and the copies of up to RELAY_BATCH parked children go to
 * the store together (single-instance store), then each gets its replies
 * and ends.
 */
static void
deliver(void *vc, struct spool *sp, const char *sender, char *const *rcpts,
    size_t n, struct lmtpd_reply *r)
{
	struct ctx *c = vc;
	struct kid *k = xcalloc(n + 1, sizeof *k);
	size_t from = 0, parked = 0;

	reap_pending(c, 0);
	c->sender = sender;
	for (size_t i = 0; i < n; i++) {
		start(c, sp, sender, rcpts[i], k, i, &r[i]);
		parked += k[i].parked;
		if (parked == RELAY_BATCH || (i + 1 == n && parked > 0)) {
			flush(c, sp, k + from, i + 1 - from, r + from);
			from = i + 1;
			parked = 0;
		}
	}
	c->sender = NULL;
	free(k);
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
			c->store = store_new(&set);
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
				c->store = store_new(&set);
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
	if (probe_store(c, err) == -1)
		return -1;
	if (c->store)
		c->key = store_settings_key(store_settings_of(c->store));
	return 0;
}

/* rcptrun_session - serve one LMTP client (rcptrun.h) */
int
rcptrun_session(const struct invocation *inv, rcptrun_fn *run,
    const struct rcptrun_sysrc *sysrc)
{
	struct ctx c = { .inv = inv, .run = run, .sysrc = sysrc,
	    .root = getuid() == 0 };
	struct lmtpd_ops ops = { .check = check, .deliver = deliver, .end = end,
	    .idle = idle,
	    .ctx = &c, .tmpdir = inv->tmpdir };
	char host[256], *err = NULL;
	int r = -1;

	if (client_fds(&c.in, &c.out) == -1) {
		log_warn("lmtp server: descriptors: %s", strerror(errno));
		return EX_TEMPFAIL;
	}
	signal(SIGPIPE, SIG_IGN);	/* a client gone is a write error */
	tzset();	/* once: every child's log lines and From_ dates use it */
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
	reap_pending(&c, 1);
	store_free(&c.store);
	free(c.key);
	free(c.self);
	close(c.in);
	close(c.out);
	return r == 0 ? EX_OK : EX_TEMPFAIL;
}

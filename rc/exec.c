/*
 * exec.c - run one program for the rc as procmail does: through $SHELL
 * when the command has a SHELLMETAS character, else split into words and
 * exec'd directly; the rc variables are its environment; the message (or
 * a part) on its stdin; its stdout collected, or sent to a descriptor;
 * TIMEOUT enforced by killing it. Its environment is the rc variables,
 * each value cut to LINEBUF bytes as procmail's are (a 128 KB header in
 * a variable would otherwise stop every program from starting: E2BIG);
 * a program that cannot be started is an error the caller sees (the
 * child reports exec's errno through a close-on-exec pipe), not an exit
 * status; output for a descriptor goes through a pipe and is written by
 * us, so a full disk there is our error, not a program's silent one.
 * Does not: decide what an exit status means, log (errors are returned;
 * only a cut environment is logged, as information).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../lda/fdio.h"
#include "../lda/log.h"
#include "../lda/undo.h"
#include "../lda/xalloc.h"
#include "rcint.h"

/* procmail's LINEBUF on Linux (its 2048, raised to MAXPATHLEN), and its
   floor; the whole environment stays under ENV_TOTAL_MAX */
#define ENV_VALUE_DEFAULT	4096
#define ENV_VALUE_MIN		128
#define ENV_VALUE_MAX		(128 * 1024 - 256)
#define ENV_TOTAL_MAX		(1024 * 1024)

/* Feeding the program: the pieces of its stdin in order. */
struct feed {
	const char *pre;	/* From_ line */
	size_t prelen;
	const char *prenl;	/* its newline */
	size_t prenllen;
	const char *mem;
	size_t memlen;
	const struct spool *sp;
	off_t off, to;
	const char *tail;
	size_t taillen;
	char chunk[16384];
	size_t clen, cpos;
	long long fed;		/* bytes written */
};

/* exec_argv - the argv for cmd: sh -c, or the expanded words */
static char **
exec_argv(struct rc *rc, const char *cmd, struct buf *words, char **err,
    int *shell_r)
{
	const char *metas = rc_get(rc, "SHELLMETAS");
	const char *shell = rc_get(rc, "SHELL");
	const char *flags = rc_get(rc, "SHELLFLAGS");
	size_t n = 0;
	char **argv;

	if (strpbrk(cmd, metas ? metas : "") != NULL) {
		argv = xcalloc(4, sizeof *argv);
		argv[0] = xstrdup(shell && *shell ? shell : "/bin/sh");
		argv[1] = xstrdup(flags && *flags ? flags : "-c");
		argv[2] = xstrdup(cmd);
		*shell_r = 1;
		return argv;
	}
	if (rc_expand(rc, cmd, RC_EXP_WORDS, words, &n, err) == -1)
		return NULL;
	if (n == 0) {
		*err = xstrdup("empty command");
		return NULL;
	}
	argv = xcalloc(n + 1, sizeof *argv);
	for (size_t i = 0, k = 0; i < n; i++) {
		argv[i] = xstrdup(words->s + k);
		k += strlen(words->s + k) + 1;
	}
	return argv;
}

/* exec_name - procmail's name of a program (LASTFOLDER, the abstract):
   the command text when $SHELL runs it, else the words joined by sep
   (' '; the trace's "Executing" joins them with ',' as procmail does) */
static char *
exec_name(const struct rc_prog *p, char **argv, int shell, char sep)
{
	struct buf b;

	if (shell)
		return xstrdup(p->cmd);
	buf_init(&b, RC_VALUE_MAX);
	for (char **a = argv; *a; a++) {
		if (a != argv)
			buf_putc(&b, sep);
		buf_puts(&b, *a);
	}
	return buf_steal(&b);
}

/*
 * exec_env - the programs' environment: the rc variables, each value cut
 * to LINEBUF bytes (procmail's limit on a variable), the whole under
 * ENV_TOTAL_MAX (later variables are left out). *cut_r: how many were cut
 * or left out. Entries are rc->vars' own unless cut (then in *own).
 */
static char **
exec_env(struct rc *rc, char ***own_r, size_t *cut_r)
{
	long max = rc_var_long(rc_get(rc, "LINEBUF"), ENV_VALUE_DEFAULT);
	size_t n = rc->vars.n, total = 0, k = 0, o = 0;
	char **env = xcalloc(n + 1, sizeof *env);
	char **own = xcalloc(n + 1, sizeof *own);

	if (max < ENV_VALUE_MIN)
		max = ENV_VALUE_MIN;
	if (max > ENV_VALUE_MAX)
		max = ENV_VALUE_MAX;
	*cut_r = 0;
	for (size_t i = 0; i < n; i++) {
		char *v = rc->vars.v[i], *eq = strchr(v, '=');
		if (rc_vars_private(&rc->vars, i))
			continue;	/* a virtual user's rc set it */
		size_t name = eq ? (size_t)(eq - v) + 1 : 0;
		size_t len = strlen(v);
		if (len - name > (size_t)max) {
			v = own[o++] = xstrndup(v, name + (size_t)max);
			len = name + (size_t)max;
			++*cut_r;
		}
		if (total + len + 1 + sizeof(char *) > ENV_TOTAL_MAX) {
			++*cut_r;
			continue;
		}
		total += len + 1 + sizeof(char *);
		env[k++] = v;
	}
	*own_r = own;
	return env;
}

/* exec_env_free - what exec_env allocated */
static void
exec_env_free(char **env, char **own)
{
	for (char **p = own; p && *p; p++)
		free(*p);
	free(own);
	free(env);
}

/* exec_report - in the child: exec failed with e; tell the parent */
static void
exec_report(int errfd, int e)
{
	(void)!write(errfd, &e, sizeof e);
	_exit(127);
}

/*
 * exec_child - in the child: wire descriptors and exec; never returns.
 * errfd (close-on-exec) gets exec's errno when the program cannot start.
 */
static void
exec_child(struct rc *rc, char **argv, char **env, int in, int out,
    int errfd)
{
	int devnull = open("/dev/null", O_RDWR), e = ENOENT;

	signal(SIGPIPE, SIG_DFL);
	setpgid(0, 0);	/* its own group: stopped whole (lda/undo.c) */
	if (dup2(in != -1 ? in : devnull, 0) == -1 ||
	    dup2(out != -1 ? out : 2, 1) == -1)
		exec_report(errfd, errno);
	/* procmail: what programs say on stderr goes to LOGFILE. */
	if (rc->logfd != -1)
		(void)dup2(rc->logfd, 2);
	for (int fd = 3; fd < 256; fd++)
		if (fd != errfd)
			close(fd);
	if (strchr(argv[0], '/') != NULL) {
		execve(argv[0], argv, env);
		e = errno;
	} else {
		const char *path = rc_get(rc, "PATH");
		char *copy = xstrdup(path ? path : "/usr/bin:/bin"), *save = NULL;
		for (char *d = strtok_r(copy, ":", &save); d;
		    d = strtok_r(NULL, ":", &save)) {
			char *full = xasprintf("%s/%s", *d ? d : ".", argv[0]);
			execve(full, argv, env);
			/* as execvp: a program found but not runnable says
			   more than "not found" in a later directory */
			if (errno != ENOENT && errno != ENOTDIR && e == ENOENT)
				e = errno;
			free(full);
		}
	}
	exec_report(errfd, e);
}

/* exec_started - in the parent: 0 when the child exec'd, else its errno */
static int
exec_started(int errfd)
{
	int e = 0;
	ssize_t n;

	while ((n = read(errfd, &e, sizeof e)) == -1 && errno == EINTR)
		;
	return n == (ssize_t)sizeof e ? e : 0;
}

/* feed_more - refill the chunk; 0 when all was fed */
static int
feed_more(struct feed *f)
{
	const char **pp[] = { &f->pre, &f->prenl, &f->mem, &f->tail };
	size_t *lp[] = { &f->prelen, &f->prenllen, &f->memlen, &f->taillen };

	if (f->cpos < f->clen)
		return 1;
	f->cpos = f->clen = 0;
	for (int i = 0; i < 4; i++) {
		if (i == 3 && f->sp && f->off < f->to) {
			size_t want = sizeof f->chunk;
			ssize_t n;
			if ((off_t)want > f->to - f->off)
				want = (size_t)(f->to - f->off);
			n = spool_pread(f->sp, f->chunk, want, f->off);
			if (n <= 0) {
				f->off = f->to;
				continue;
			}
			f->off += n;
			f->clen = (size_t)n;
			return 1;
		}
		if (*lp[i]) {
			size_t n = *lp[i] < sizeof f->chunk ? *lp[i] :
			    sizeof f->chunk;
			memcpy(f->chunk, *pp[i], n);
			*pp[i] += n;
			*lp[i] -= n;
			f->clen = n;
			return 1;
		}
	}
	return 0;
}

/* exec_timeout - TIMEOUT in milliseconds (0: none) */
static long
exec_timeout(struct rc *rc)
{
	long t = rc_var_long(rc_get(rc, "TIMEOUT"), 960);

	return t > 0 ? t * 1000 : 0;
}

/* exec_now - a monotonic clock in milliseconds */
static long long
exec_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* exec_write - feed what the program will take now; -1 when all was
   fed, -2 on a write error (it closed its stdin: EPIPE) */
static int
exec_write(int fd, struct feed *f)
{
	while (feed_more(f)) {
		ssize_t n = write(fd, f->chunk + f->cpos, f->clen - f->cpos);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -2;
		f->cpos += (size_t)n;
		f->fed += n;
	}
	return -1;
}

/* Where the program's output goes: collected, or written into a file. */
struct sink {
	struct buf *out;	/* collect here, or */
	int fd;			/* write here (-1: neither) */
	int err;		/* the first write error into fd (ENOSPC...) */
};

/* exec_read - take what the program wrote; -1 at its end. A write
   error into the sink's file is kept, and the rest is drained. */
static int
exec_read(int fd, struct sink *k)
{
	char tmp[8192];
	ssize_t n = read(fd, tmp, sizeof tmp);

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	if (n == 0)
		return -1;
	if (k->out)
		buf_append(k->out, tmp, (size_t)n);	/* past the cap: dropped */
	else if (k->fd != -1 && k->err == 0 &&
	    fd_write_all(k->fd, tmp, (size_t)n) == -1)
		k->err = errno ? errno : EIO;
	return 0;
}

/* exec_wait - reap pid, killing it at the deadline; its status */
static int
exec_wait(pid_t pid, long long deadline, int *timedout)
{
	int st, killed = 0;
	pid_t r;

	for (;;) {
		r = waitpid(pid, &st, deadline ? WNOHANG : 0);
		if (r == pid)
			break;
		if (r == -1 && errno != EINTR)
			return -1;
		if (deadline && exec_now() >= deadline) {
			kill(pid, killed ? SIGKILL : SIGTERM);
			killed = 1;
			*timedout = 1;
			deadline = exec_now() + 2000;
		}
		if (r == 0)
			poll(NULL, 0, 5);
	}
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return 128 + WTERMSIG(st);
}

/*
 * exec_io - feed stdin and drain stdout until both are done or time's up.
 * *werr: a write failed (the program closed its stdin before it had all
 * of its input; procmail's "Error while writing").
 */
static void
exec_io(pid_t pid, int in_w, int out_r, struct sink *out, struct feed *f,
    long long deadline, int *timedout, int *werr)
{
	while (in_w != -1 || out_r != -1) {
		struct pollfd pf[2];
		int n = 0, wait_ms = -1;
		if (in_w != -1)
			pf[n++] = (struct pollfd){ .fd = in_w, .events = POLLOUT };
		if (out_r != -1)
			pf[n++] = (struct pollfd){ .fd = out_r, .events = POLLIN };
		if (deadline) {
			long long left = deadline - exec_now();
			if (left <= 0) {
				kill(pid, SIGTERM);
				*timedout = 1;
				break;
			}
			wait_ms = left > 1000 ? 1000 : (int)left;
		}
		if (poll(pf, (nfds_t)n, wait_ms) < 0 && errno != EINTR)
			break;
		for (int i = 0, w; i < n; i++) {
			if (pf[i].revents == 0)
				continue;
			if (pf[i].fd == in_w && (w = exec_write(in_w, f)) < 0) {
				*werr = w == -2;
				close(in_w);
				in_w = -1;
			} else if (pf[i].fd == out_r && exec_read(out_r, out) == -1) {
				close(out_r);
				out_r = -1;
			}
		}
	}
	if (in_w != -1)
		close(in_w);
	if (out_r != -1)
		close(out_r);
}

/* feed_ends_blank - do the bytes f feeds end with an empty line ("\n\n")?
   (procmail's dump() adds a newline to what does not, and to nothing) */
static int
feed_ends_blank(const struct feed *f)
{
	char end[2];
	int have = 0;

	if (f->sp && f->to > f->off) {
		off_t n = f->to - f->off >= 2 ? 2 : 1;
		if (spool_pread(f->sp, end + 2 - n, (size_t)n, f->to - n) != n)
			return 0;
		have = (int)n;
	}
	if (have < 2 && f->memlen > 0)
		for (size_t i = f->memlen; i > 0 && have < 2; i--)
			end[1 - have++] = f->mem[i - 1];
	if (have < 2 && f->prenllen > 0)
		end[1 - have++] = '\n';
	if (have < 2 && f->prelen > 0)
		end[1 - have++] = f->pre[f->prelen - 1];
	return have == 2 && end[0] == '\n' && end[1] == '\n';
}

/* exec_feed_init - what goes to the program's stdin */
static void
exec_feed_init(const struct rc_prog *p, struct feed *f)
{
	memset(f, 0, sizeof *f);
	if (p->with_from && p->in && p->in->from_line) {
		f->pre = p->in->from_line;
		f->prelen = strlen(f->pre);
		f->prenl = "\n";
		f->prenllen = 1;
	}
	f->mem = p->in_mem;
	f->memlen = p->in_mem ? p->in_len : 0;
	f->sp = p->in;
	f->off = p->from;
	f->to = p->to;
	f->tail = p->tail;
	if (p->blank_end && !feed_ends_blank(f))
		f->tail = "\n";
	f->taillen = f->tail ? strlen(f->tail) : 0;
}

/* rc_exec - run p (see rcint.h) */
int
rc_exec(struct rc *rc, const struct rc_prog *p, char **err)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, ep[2] = { -1, -1 };
	int shell = 0, werr = 0, timedout = 0, st, e = 0, piped;
	struct sink sink = { p->out, p->out ? -1 : p->out_fd, 0 };
	struct buf words;
	struct feed *f = xmalloc(sizeof *f);
	char **argv, **env = NULL, **own = NULL;
	size_t cut = 0;
	long tmo = exec_timeout(rc);
	long long deadline = tmo ? exec_now() + tmo : 0;
	pid_t pid;

	if (rc->restricted) {
		*err = xstrdup("no programs in a virtual user's rc "
		    "(USERS_RC_RESTRICT)");
		free(f);
		return -1;
	}
	buf_init(&words, RC_VALUE_MAX);
	if (p->argv) {
		size_t n = 0;
		while (p->argv[n])
			n++;
		argv = xcalloc(n + 1, sizeof *argv);
		for (size_t i = 0; i < n; i++)
			argv[i] = xstrdup(p->argv[i]);
	} else
		argv = exec_argv(rc, p->cmd, &words, err, &shell);
	buf_free(&words);
	if (argv == NULL) {
		free(f);
		return -1;
	}
	if (p->name_r)
		*p->name_r = exec_name(p, argv, shell, ' ');
	if (p->shell_r)
		*p->shell_r = shell;
	if (rc_tracing(rc)) {
		char *name = exec_name(p, argv, shell, ',');
		rc_yell(rc, "Executing", name);
		free(name);
	}
	exec_feed_init(p, f);
	env = exec_env(rc, &own, &cut);
	if (cut)
		log_info("%s: %zu variable%s cut to LINEBUF (or left out) in "
		    "the environment of \"%s\"", rc->cur_file ? rc->cur_file :
		    "rc", cut, cut > 1 ? "s" : "", argv[0]);
	piped = p->out || p->out_fd != -1;
	if (pipe2(in, O_CLOEXEC) == -1 || pipe2(ep, O_CLOEXEC) == -1 ||
	    (piped && pipe2(out, O_CLOEXEC) == -1)) {
		*err = xasprintf("pipe: %s", strerror(errno));
		st = -1;
		goto done;
	}
	fflush(stdout);
	if ((pid = fork()) == -1) {
		*err = xasprintf("fork: %s", strerror(errno));
		st = -1;
		goto done;
	}
	if (pid == 0)
		exec_child(rc, argv, env, in[0], piped ? out[1] : -1, ep[1]);
	setpgid(pid, pid);
	undo_program(pid);	/* stopped if the run is (lda/undo.c) */
	close(in[0]);
	close(ep[1]);
	in[0] = ep[1] = -1;
	if (piped) {
		close(out[1]);
		out[1] = -1;
	}
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	exec_io(pid, in[1], piped ? out[0] : -1, &sink, f, deadline,
	    &timedout, &werr);
	in[1] = out[0] = -1;
	st = exec_wait(pid, deadline, &timedout);
	undo_program(0);
	if ((e = exec_started(ep[0])) != 0) {
		/* It never ran: an error, whatever the recipe's flags. */
		*err = xasprintf("cannot run %s: %s", argv[0], strerror(e));
		st = -1;
		timedout = werr = 0;
	}
	if (p->unread_r)
		*p->unread_r = werr;
	if (p->fed_r)
		*p->fed_r = f->fed;
	if (p->out_err_r)
		*p->out_err_r = sink.err;
	if (timedout) {
		*err = xasprintf("timed out after %ld s, killed", tmo / 1000);
		st = -2;
	} else if (st == -1 && e == 0)
		*err = xasprintf("wait: %s", strerror(errno));
done:
	for (int i = 0; i < 2; i++) {
		if (in[i] != -1)
			close(in[i]);
		if (out[i] != -1)
			close(out[i]);
		if (ep[i] != -1)
			close(ep[i]);
	}
	exec_env_free(env, own);
	for (char **a = argv; *a; a++)
		free(*a);
	free(argv);
	free(f);
	return st;
}

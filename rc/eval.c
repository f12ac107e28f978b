/*
 * eval.c - the evaluator: walk a parsed rc file in order, assign, test
 * each recipe's conditions, run its action or nested block, and stop
 * when a delivering recipe delivered (procmail's control flow, including
 * the clone that "c" makes of a block).
 * Does not: parse (parse.c), match (cond.c), deliver (action.c).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../lda/log.h"
#include "../lda/status.h"
#include "../lda/xalloc.h"
#include "rc.h"
#include "rcint.h"

/* rc_error - an rc error at run time: logged once with file:line */
void
rc_error(struct rc *rc, int line, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	rc->errors++;
	if (line <= 0)
		line = rc->cur_line;
	if (line > 0)
		log_warn("%s:%d: %s", rc->cur_file ? rc->cur_file : "rc", line,
		    msg);
	else
		log_warn("%s: %s", rc->cur_file ? rc->cur_file : "rc", msg);
}

/* eval_report - parse errors of a file we run: logged, counted */
static void
eval_report(void *arg, const char *path, int line, int warn, const char *msg)
{
	struct rc *rc = arg;

	if (!warn)
		rc->errors++;
	log_warn("%s:%d: %s%s", path, line, warn ? "warning: " : "", msg);
}

/* eval_assign - a VAR=value statement */
static enum rc_flow
eval_assign(struct rc *rc, const struct rc_node *n)
{
	char *v = NULL;
	enum rc_flow f;
	int tainted = 0;

	rc->cur_line = n->line;
	if (n->value) {
		v = rc_expand_str(rc, n->value, RC_EXP_ASSIGN);
		tainted = rc->exp_tainted;
		/* the files these name are run or written: never one a
		   header or an address chose (rc_tainted_path) */
		if (tainted && (strcmp(n->name, "INCLUDERC") == 0 ||
		    strcmp(n->name, "SWITCHRC") == 0 ||
		    strcmp(n->name, "LOGFILE") == 0)) {
			const char *why = rc_tainted_path(rc, v, strlen(v));
			if (why) {
				rc_error(rc, n->line, "%s=\"%s\": %s, not "
				    "assigned", n->name, v, why);
				free(v);
				rc->cur_line = 0;
				return RC_GO;
			}
		}
	}
	if (v)
		rc_yell_assign(rc, n->name, v);
	else
		rc_yell(rc, "Unsetting", n->name);
	rc->pending = RC_GO;
	rc_assign_t(rc, n->name, v, tainted);
	rc->cur_line = 0;
	free(v);
	f = (enum rc_flow)rc->pending;
	rc->pending = RC_GO;
	return f;
}

/* eval_exit_outcome - a clone's exit status as an outcome */
static enum outcome
eval_exit_outcome(int st)
{
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return OUT_DELIVERED;
	return OUT_TEMPFAIL;
}

/*
 * eval_clone - "c" on a block: procmail forks a clone that runs the
 * block and then the rest of the rc as usual (and delivers to DEFAULT
 * on its own), while the parent skips the block. We wait for the clone
 * and count its result into ours: when the clone failed, the whole
 * message is retried, so no copy is lost. Returns in the clone with 1.
 */
static int
eval_clone(struct rc *rc, int line)
{
	pid_t pid = -1;
	int st, e, sp[2] = { -1, -1 };

	fflush(stdout);
	fflush(stderr);
	/* the clone's status line is the parent's to print (status.h) */
	if (status_pipe(sp) == -1 || (pid = fork()) == -1) {
		e = errno;
		rc_error(rc, line, "cannot fork a clone for \"c {\": %s",
		    strerror(e));
		status_fail(OUT_TEMPFAIL, NULL, rc->s->recipient, "cannot fork "
		    "a clone for \"c {\": %s", strerror(e));
		rc->s->outcome = outcome_worse(rc->s->outcome, OUT_TEMPFAIL);
		if (sp[0] != -1) {
			close(sp[0]);
			close(sp[1]);
		}
		return 0;
	}
	if (pid == 0) {
		status_child(sp);
		/* Lockfiles are not inherited (procmail's rule). */
		free(rc->globlock);
		rc->globlock = NULL;
		rc->clone = 1;
		rc->mainpid = getpid();
		rc_trace(rc, "Forking \"lda\" (a clone for \"c {\" at %s:%d "
		    "runs the block and the rest; the trace follows it)",
		    rc->cur_file, line);
		return 1;
	}
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR) {
			st = 75 << 8;
			break;
		}
	status_parent(sp, WIFEXITED(st) ? WEXITSTATUS(st) : 75);
	if (eval_exit_outcome(st) == OUT_DELIVERED)
		status_delivered();
	else {
		rc_error(rc, line, "the clone of \"c {\" failed (status %d); "
		    "the message will be retried", st);
		rc->s->outcome = outcome_worse(rc->s->outcome, OUT_TEMPFAIL);
	}
	return 0;
}

/* eval_block - a matched "{ }" recipe */
static enum rc_flow
eval_block(struct rc *rc, const struct rc_recipe *r, int line)
{
	int prevcond = rc->prevcond, lastcond = rc->lastcond;
	enum rc_flow f;
	char *lock = NULL;

	if ((r->flags & RC_F_c) && !eval_clone(rc, line)) {
		rc->lastsucc = 1;
		return RC_GO;	/* the parent jumps over the block */
	}
	if (r->lock && r->lockfile && !rc->s->dry_run) {
		char *err = NULL, *path = rc_expand_str(rc, r->lockfile,
		    RC_EXP_ASSIGN);
		const char *why = rc_tainted_path(rc, path, strlen(path));
		if (why) {
			rc_error(rc, line, "lockfile \"%s\": %s, not used",
			    path, why);
			free(path);
		} else if (rc_lock(rc, path, &err) == 0)
			lock = path;
		else {
			rc_error(rc, line, "%s", err);
			free(err);
			free(path);
		}
	}
	rc->lastsucc = 1;
	f = rc_eval_list(rc, r->block);
	rc_unlock(rc, &lock);
	rc->prevcond = prevcond;
	rc->lastcond = lastcond;
	return f;
}

/* eval_recipe - one recipe: conditions, then its action */
static enum rc_flow
eval_recipe(struct rc *rc, const struct rc_node *n)
{
	const struct rc_recipe *r = n->recipe;
	int succeed = 0;
	enum rc_flow f;

	rc->cur_line = n->line;
	if (r->broken) {
		rc_trace(rc, "Skipped recipe at %s:%d (error above)",
		    rc->cur_file, n->line);
		return RC_GO;
	}
	rc_trace_recipe(rc, r, n->line);
	if (!rc_cond_eval(rc, r, n->line))
		return RC_GO;
	if (r->act == RC_ACT_BLOCK)
		return eval_block(rc, r, n->line);
	f = rc_action(rc, r, &succeed);
	rc->lastsucc = succeed;
	if (!succeed)
		rc_trace(rc, "Recipe at %s:%d failed: the rc goes on",
		    rc->cur_file, n->line);
	return f;
}

/* rc_eval_list - run statements in order until one stops the run */
enum rc_flow
rc_eval_list(struct rc *rc, const struct rc_node *n)
{
	enum rc_flow f = RC_GO;

	for (; n && f == RC_GO; n = n->next)
		f = n->kind == RC_NODE_ASSIGN ? eval_assign(rc, n) :
		    eval_recipe(rc, n);
	return f;
}

/*
 * rc_run_path - parse and run one rc file (also INCLUDERC and SWITCHRC,
 * which nest). Returns 1 when a delivering recipe delivered, else 0;
 * -1 when the file cannot be read (logged: procmail's "Couldn't read").
 */
int
rc_run_path(struct rc *rc, const char *path, int system)
{
	const char *saved = rc->cur_file;
	int saved_line = rc->cur_line;
	struct rc_file *f;
	enum rc_flow flow;
	char *err = NULL;

	(void)system;
	if (rc->depth >= RC_INCLUDE_MAX) {
		rc_error(rc, 0, "%s: rc files nested deeper than %d; skipped",
		    path, RC_INCLUDE_MAX);
		return 0;
	}
	f = rc_parse_path(path, eval_report, rc, &err);
	if (f == NULL) {
		rc_error(rc, 0, "%s", err);
		free(err);
		return -1;
	}
	rc_yell(rc, "Rcfile:", f->path);
	rc->depth++;
	rc->cur_file = f->path;
	if (rc->depth == 1)
		rc->lastcond = rc->prevcond = rc->lastsucc = 0;
	flow = rc_eval_list(rc, f->first);
	rc->cur_file = saved;
	rc->cur_line = saved_line;
	rc->depth--;
	rc_file_free(&f);
	return flow == RC_DELIVERED;
}

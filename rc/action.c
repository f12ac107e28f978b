/*
 * action.c - a matched recipe's action: folders (through lda/deliver),
 * "| program" (delivering, filter "f", or "VAR=|" capture), "! address"
 * (through $SENDMAIL), with the h/b parts, the ":" lockfile, LASTFOLDER
 * and the abstract of each delivery, the "i" rule, and the dry-run trace.
 * Does not: test conditions, write folders itself, pick the exit code.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lda/deliver.h"
#include "../lda/fdio.h"
#include "../lda/log.h"
#include "../lda/loop.h"
#include "../lda/status.h"
#include "../lda/store.h"
#include "../lda/xalloc.h"
#include "rcint.h"

/* What part of the message an action gets. */
struct part {
	int head, body;		/* h, b (both when neither is given) */
	off_t from, to;
	const char *prefix;	/* a header line fed first (a forward's
				   Delivered-To:), or NULL */
};

/* act_part - the h/b flags as a byte range of the spool */
static void
act_part(const struct rc *rc, unsigned flags, struct part *p)
{
	const struct spool *sp = rc->s->msg;

	p->head = (flags & RC_F_h) || !(flags & RC_F_b);
	p->body = (flags & RC_F_b) || !(flags & RC_F_h);
	p->from = p->head ? 0 : sp->body_off;
	p->to = p->body ? sp->size : sp->body_off;
	p->prefix = NULL;
}

/* act_delivered - a delivering action worked: LASTFOLDER, the abstract */
static void
act_delivered(struct rc *rc, const char *name, long long size)
{
	rc_yell_assign(rc, "LASTFOLDER", name);
	rc_vars_set(&rc->vars, "LASTFOLDER", name);
	rc_abstract(rc, name, size);
}

/* act_partial_spool - a spool of only the header or only the body */
static struct spool *
act_partial_spool(struct rc *rc, const struct part *p, char **err)
{
	int fd = fd_tmpfile(rc->s->tmpdir ? rc->s->tmpdir : "/tmp");
	struct spool *sp = NULL;
	const struct spool *m = rc->s->msg;

	if (fd == -1) {
		*err = xasprintf("temporary file: %s", strerror(errno));
		return NULL;
	}
	if ((p->head && m->from_line && (fd_write_all(fd, m->from_line,
	    strlen(m->from_line)) == -1 || fd_write_all(fd, "\n", 1) == -1)) ||
	    spool_copy(m, p->from, p->to, fd, err) == -1 ||
	    lseek(fd, 0, SEEK_SET) == -1 ||
	    spool_read(fd, rc->s->tmpdir, 1, &sp, err) == -1)
		sp = NULL;
	if (sp == NULL && *err == NULL)
		*err = xasprintf("temporary file: %s", strerror(errno));
	close(fd);
	return sp;
}

/* act_lockname - the ":" lockfile of r for target (NULL: none) */
static char *
act_lockname(struct rc *rc, const struct rc_recipe *r, const char *target)
{
	const char *ext = rc_get(rc, "LOCKEXT");
	const char *gt;

	if (!r->lock || rc->s->dry_run)
		return NULL;
	if (r->lockfile) {
		char *l = rc_expand_str(rc, r->lockfile, RC_EXP_ASSIGN);
		const char *why = rc_tainted_path(rc, l, strlen(l));
		if (why == NULL)
			return l;
		/* a lockfile is made, and removed when stale: never one a
		   header names */
		log_warn("%s:%d: lockfile \"%s\": %s, not used",
		    rc->cur_file, r->action_line, l, why);
		free(l);
		return NULL;
	}
	if (r->act == RC_ACT_FOLDER) {
		/* A folder on the store has no file to lock here: the store
		   locks its own mailboxes. */
		if (store_owns(rc->s, target))
			return NULL;
		return xasprintf("%s%s", target, ext ? ext : ".lock");
	}
	/* A program: procmail's implicit lock is the file after ">>". */
	if ((gt = strstr(target, ">>")) != NULL) {
		char *name, *l;
		gt += 2 + strspn(gt + 2, " \t");
		name = xstrndup(gt, strcspn(gt, " \t;|&<>"));
		l = xasprintf("%s%s", name, ext ? ext : ".lock");
		free(name);
		return l;
	}
	log_warn("%s:%d: cannot determine implicit lockfile from \"%s\"",
	    rc->cur_file, r->action_line, target);
	return NULL;
}

/* act_lock - take the recipe's lockfile; 0, or -1 (recipe fails).
   *mbox_own (may be NULL): the mbox's own lockfile, which lda/mbox takes
   (named for the trace's "Locking" and "Unlocking") */
static int
act_lock(struct rc *rc, const struct rc_recipe *r, const char *target,
    char **held, char **mbox_own)
{
	char *err = NULL;

	*held = act_lockname(rc, r, target);
	if (*held == NULL)
		return 0;
	/* An mbox's own lockfile is taken by lda/mbox itself; a stale one
	   goes after LOCKTIMEOUT, as ours would. */
	if (r->act == RC_ACT_FOLDER && deliver_kind_fs(target) == DEST_MBOX &&
	    strncmp(*held, target, strlen(target)) == 0 &&
	    strcmp(*held + strlen(target), ".lock") == 0) {
		rc_lock_stale(rc, *held);
		rc_yell(rc, "Locking", *held);
		if (mbox_own)
			*mbox_own = *held;
		else
			free(*held);
		*held = NULL;
		return 0;
	}
	if (rc_lock(rc, *held, &err) == -1) {
		/* A Maildir or MH folder needs no lock: its implicit one
		   (in a directory not made yet, say) never decides the
		   delivery. procmail logs "Lock failure" and delivers. */
		if (r->act == RC_ACT_FOLDER && r->lockfile == NULL &&
		    deliver_kind_fs(target) != DEST_MBOX) {
			rc_error(rc, r->action_line, "%s; delivering without "
			    "the lock", err);
			free(err);
			free(*held);
			*held = NULL;
			return 0;
		}
		rc_error(rc, r->action_line, "%s", err);
		free(err);
		free(*held);
		*held = NULL;
		return -1;
	}
	return 0;
}

/* act_written - the bytes a copy into path wrote, for the abstract
   (before: the file's size before, 0 when new) */
static long long
act_written(struct rc *rc, const char *path, off_t before)
{
	const struct spool *sp = rc->s->msg;
	struct stat st;

	if (deliver_kind(path) == DEST_DEVNULL)	/* what procmail counts */
		return (long long)sp->size + (sp->from_line ?
		    (long long)strlen(sp->from_line) + 1 : 0);
	if (stat(path, &st) == -1 || !S_ISREG(st.st_mode))
		return 0;
	return st.st_size > before ? (long long)(st.st_size - before) : 0;
}

/*
 * act_one_folder - one copy into folder (src not NULL: the file src
 * linked there); 1 delivered, 0 not. names (may be NULL) gets the file
 * written, after a space when not empty, *size_r its size, *path_r (may
 * be NULL) its name (allocated).
 */
static int
act_one_folder(struct rc *rc, const struct rc_recipe *r, const char *folder,
    const char *src, struct buf *names, long long *size_r, char **path_r)
{
	enum outcome saved = rc->s->outcome, o;
	char *path = NULL, *lock = NULL, *own = NULL;
	struct stat before;
	int was = 0;

	if (src == NULL && act_lock(rc, r, folder, &lock, &own) == -1)
		return 0;
	was = stat(folder, &before) == 0 && S_ISREG(before.st_mode);
	/* procmail's locks: an mbox's own lockfile only when the recipe
	   asks for it (":"); else the kernel lock alone */
	rc->s->mbox_nolock = src ? !r->lock : own == NULL;
	rc->s->raw = (r->flags & RC_F_r) != 0;
	o = src ? deliver_link(rc->s, src, folder, &path) :
	    deliver_folder(rc->s, folder, &path);
	rc->s->mbox_nolock = rc->s->raw = 0;
	rc_unlock(rc, &lock);
	if (own)
		rc_yell(rc, "Unlocking", own);
	free(own);
	if (o != OUT_DELIVERED) {
		/* procmail's rule: a failed recipe falls through to the
		   next recipes and to DEFAULT; only they decide the result. */
		rc->s->outcome = saved;
		rc_error(rc, r->action_line, "delivery to %s failed", folder);
		free(path);
		return 0;
	}
	*size_r = act_written(rc, path ? path : folder, was ? before.st_size :
	    0);
	if (names) {
		if (names->len)
			buf_putc(names, ' ');
		buf_puts(names, path ? path : folder);
	}
	if (path_r)
		*path_r = path;
	else
		free(path);
	return 1;
}

/* act_visible - words (NUL-separated) shown as one line, blanks between */
static char *
act_visible(const char *w, size_t len)
{
	char *v = xmalloc(len + 1);

	for (size_t i = 0; i < len; i++)
		v[i] = w[i] == '\0' ? ' ' : w[i];
	v[len] = '\0';
	while (len > 0 && v[len - 1] == ' ')
		v[--len] = '\0';
	return v;
}

/*
 * act_folders - "folder [folder...]": procmail writes the first folder,
 * then links that file into each further one (Maildir, MH, or a plain
 * directory folder for any other name); after an mbox, the others are
 * skipped.
 */
static int
act_folders(struct rc *rc, const struct rc_recipe *r, const struct part *p)
{
	struct buf w, names;
	size_t n = 0, k = 0;
	char *err = NULL;
	int ok = 0, whole = p->head && p->body;
	struct spool *orig = rc->s->msg, *part = NULL;
	long long size = 0;
	char *src = NULL;
	const char *why;
	enum dest_kind first;

	buf_init(&w, RC_VALUE_MAX);
	buf_init(&names, RC_VALUE_MAX);
	if (rc_expand(rc, r->action, RC_EXP_WORDS, &w, &n, &err) == -1 ||
	    n == 0) {
		buf_free(&names);
		rc_error(rc, r->action_line, "folder: %s", err ? err :
		    "empty name");
		free(err);
		buf_free(&w);
		return 0;
	}
	/* A header or an address never chooses a path outside the
	   folders ($MATCH of "X-Folder: /home/u/.procmailrc"): procmail
	   writes there; lda refuses the recipe. */
	if ((why = rc_tainted_path(rc, w.s, w.len)) != NULL) {
		char *vis = act_visible(w.s, w.len);
		rc_error(rc, r->action_line, "folder \"%s\": %s, refused",
		    vis, why);
		free(vis);
		buf_free(&w);
		buf_free(&names);
		return 0;
	}
	if (!whole && !rc->s->dry_run) {
		if ((part = act_partial_spool(rc, p, &err)) == NULL) {
			rc_error(rc, r->action_line, "%s", err);
			free(err);
			buf_free(&w);
			buf_free(&names);
			return 0;
		}
		rc->s->msg = part;
	}
	first = deliver_kind_fs(w.s);
	for (size_t i = 0; i < n; i++) {
		const char *f = w.s + k;
		k += strlen(f) + 1;
		if (i > 0 && (first == DEST_MBOX || first == DEST_DEVNULL)) {
			log_info("%s:%d: skipped \"%s\" (more folders only "
			    "after a directory)", rc->cur_file,
			    r->action_line, f);
			rc_yell(rc, "Skipped", f);
			continue;
		}
		if (src == NULL)
			ok |= act_one_folder(rc, r, f, NULL, &names, &size,
			    &src);
		else
			ok |= act_one_folder(rc, r, f, src, &names, &size,
			    NULL);
	}
	free(src);
	if (part) {
		rc->s->msg = orig;
		spool_free(&part);
	}
	if (ok)
		act_delivered(rc, names.s, size);
	buf_free(&names);
	if (ok && !whole && deliver_kind(w.s) != DEST_DEVNULL)
		rc->partial_copy = 1;
	buf_free(&w);
	return ok;
}

/*
 * act_failure_log - procmail's words for a program that failed: 'Program
 * failure (N) of "name"' (w, or neither w nor W), under VERBOSE
 * 'Non-zero exitcode (N) from "name"' (W); name is the command when
 * $SHELL ran it, else the program's first word, as procmail logs it.
 */
static void
act_failure_log(struct rc *rc, const struct rc_recipe *r, int st,
    const char *name, int shell)
{
	int n = name == NULL ? 0 : shell ? (int)strlen(name) :
	    (int)strcspn(name, " ");

	if ((r->flags & RC_F_w) || !(r->flags & RC_F_W))
		log_info("%s:%d: Program failure (%d) of \"%.*s\"",
		    rc->cur_file, r->action_line, st, n, name ? name : "");
	else
		rc_trace(rc, "Non-zero exitcode (%d) from \"%.*s\"", st, n,
		    name ? name : "");
}

/*
 * act_run - run a program with part p on stdin; its status, or -1 when
 * it could not run or (procmail's rule, unless "i") closed its stdin
 * before it was given all of its input. *name_r (may be NULL): procmail's name for
 * it; *fed_r (may be NULL): the bytes it was given.
 */
static int
act_run(struct rc *rc, const struct rc_recipe *r, const struct part *p,
    char *const *argv, struct buf *out, int out_fd, int *out_err_r,
    char **name_r, long long *fed_r)
{
	int unread = 0, shell = 0;
	char *name = NULL;
	struct rc_prog prog = { .cmd = r->action, .argv = argv,
	    .in = rc->s->msg, .from = p->from, .to = p->to,
	    .in_mem = p->prefix, .in_len = p->prefix ? strlen(p->prefix) : 0,
	    .with_from = p->head && argv == NULL,
	    .blank_end = !(r->flags & RC_F_r), .out = out,
	    .out_fd = out_fd, .out_err_r = out_err_r, .unread_r = &unread,
	    .fed_r = fed_r,
	    .name_r = &name, .shell_r = &shell };
	char *err = NULL;
	int st = rc_exec(rc, &prog, &err);

	if (name_r)
		*name_r = name;

	if (st < 0) {
		rc_error(rc, r->action_line, "program \"%s\": %s",
		    argv ? argv[0] : r->action, err);
		free(err);
		return -1;
	}
	rc->lastexit = st;
	/* as procmail: a failure is logged even when it left input unread */
	if (st != 0)
		act_failure_log(rc, r, st, name, shell);
	if (unread && !(r->flags & RC_F_i)) {
		rc_error(rc, r->action_line, "error while writing to \"%s\" "
		    "(it did not take all of its input; \"i\" allows that)",
		    argv ? argv[0] : r->action);
		if (name_r) {
			free(*name_r);
			*name_r = NULL;
		}
		return -1;
	}
	if (name_r == NULL)
		free(name);
	return st;
}

/* act_capture - "VAR=| program": its output (one newline off) is VAR */
static int
act_capture(struct rc *rc, const struct rc_recipe *r, const struct part *p)
{
	struct buf out;
	int st;

	if (rc->s->dry_run) {
		rc_trace(rc, "Would execute \"%s\" into %s (not under --test)",
		    r->action, r->capture);
		return 1;
	}
	buf_init(&out, RC_CAPTURE_MAX);
	st = act_run(rc, r, p, NULL, &out, -1, NULL, NULL, NULL);
	if (st < 0 || (st != 0 && (r->flags & (RC_F_w | RC_F_W)))) {
		buf_free(&out);
		return 0;
	}
	if (out.len && out.s[out.len - 1] == '\n')
		out.s[--out.len] = '\0';
	rc->pending = RC_GO;
	rc_assign_t(rc, r->capture, out.s, 1);	/* it read the message */
	buf_free(&out);
	return 1;
}

/* act_filtered - the new message from a filter's output in fd */
static struct spool *
act_filtered(struct rc *rc, const struct part *p, int fd, char **err)
{
	const struct spool *m = rc->s->msg;
	struct spool *sp = NULL;
	struct buf h;
	int r;

	if (p->head && p->body) {
		r = spool_read(fd, rc->s->tmpdir, 1, &sp, err);
		return r == -1 ? NULL : sp;
	}
	if (p->head) {
		/* The output is the new header (procmail: "h" only). */
		buf_init(&h, 0);
		char chunk[8192];
		ssize_t n;
		while ((n = read(fd, chunk, sizeof chunk)) > 0)
			buf_append(&h, chunk, (size_t)n);
		while (h.len && h.s[h.len - 1] == '\n')
			h.len--;
		buf_putc(&h, '\n');
		/* A From_ line the filter gave back is the From_ line again,
		   not a header field; one it dropped is gone (procmail). */
		size_t skip = 0;
		if (h.len > 5 && memcmp(h.s, "From ", 5) == 0)
			skip = (size_t)((char *)memchr(h.s, '\n', h.len) - h.s) + 1;
		r = spool_with_header(m, h.s + skip, h.len - skip,
		    rc->s->tmpdir, &sp, err);
		if (r == 0) {
			free(sp->from_line);
			sp->from_line = skip ? xstrndup(h.s, skip - 1) : NULL;
		}
		buf_free(&h);
		return r == -1 ? NULL : sp;
	}
	/* "b" only: the old header, then the output as the body. */
	{
		int t = fd_tmpfile(rc->s->tmpdir ? rc->s->tmpdir : "/tmp");
		char chunk[8192];
		ssize_t n;
		if (t == -1) {
			*err = xasprintf("temporary file: %s", strerror(errno));
			return NULL;
		}
		if (m->from_line) {
			(void)fd_write_all(t, m->from_line, strlen(m->from_line));
			(void)fd_write_all(t, "\n", 1);
		}
		r = spool_copy(m, 0, m->body_off, t, err);
		while (r == 0 && (n = read(fd, chunk, sizeof chunk)) > 0)
			r = fd_write_all(t, chunk, (size_t)n);
		if (r == 0 && lseek(t, 0, SEEK_SET) == 0)
			r = spool_read(t, rc->s->tmpdir, 1, &sp, err);
		else if (*err == NULL)
			*err = xasprintf("temporary file: %s", strerror(errno));
		close(t);
		return r == -1 ? NULL : sp;
	}
}

/* act_spool_fail - our own spool could not be written (TMPDIR full):
   the run ends with 75, never with a cut or unfiltered message; -1 */
static int
act_spool_fail(struct rc *rc, const struct rc_recipe *r, const char *what,
    int e)
{
	rc_error(rc, r->action_line, "filter \"%s\": %s: %s; try again "
	    "later", r->action, what, strerror(e));
	rc->s->outcome = outcome_worse(rc->s->outcome, OUT_TEMPFAIL);
	status_fail(OUT_TEMPFAIL, NULL, rc->s->recipient, "filter \"%s\": "
	    "%s: %s", r->action, what, strerror(e));
	return -1;
}

/*
 * act_filter - "f": the program's output replaces the message (or its
 * header or body). A failing filter under w/W leaves the message as it
 * was (procmail); without w, procmail takes the output anyway; we do
 * too, unless the output is empty: an empty message is never kept.
 * The output comes through a pipe into our spool (exec.c): when we
 * cannot write it (ENOSPC), the run ends with 75 (-1).
 */
static int
act_filter(struct rc *rc, const struct rc_recipe *r, const struct part *p)
{
	int fd, st, werr = 0;
	struct spool *sp;
	char *err = NULL;
	off_t size;

	if (rc->s->dry_run) {
		rc_trace(rc, "Would filter through \"%s\" (not under --test; "
		    "the message stays as it is)", r->action);
		return 1;
	}
	if ((fd = fd_tmpfile(rc->s->tmpdir ? rc->s->tmpdir : "/tmp")) == -1)
		return act_spool_fail(rc, r, "temporary file", errno);
	st = act_run(rc, r, p, NULL, NULL, fd, &werr, NULL, NULL);
	if (werr) {
		close(fd);
		return act_spool_fail(rc, r, "its output", werr);
	}
	size = lseek(fd, 0, SEEK_END);
	if (st < 0 || (st != 0 && (r->flags & (RC_F_w | RC_F_W))) ||
	    size <= 0 || lseek(fd, 0, SEEK_SET) != 0) {
		if (st >= 0 && size <= 0)
			rc_error(rc, r->action_line, "filter \"%s\" gave no "
			    "output; message kept unchanged", r->action);
		close(fd);
		return 0;
	}
	errno = 0;
	sp = act_filtered(rc, p, fd, &err);
	close(fd);
	if (sp == NULL) {
		int e = errno ? errno : EIO;
		act_spool_fail(rc, r, err ? err : "new spool", e);
		free(err);
		return -1;
	}
	rc_set_msg(rc, sp);
	return 1;
}

/* act_pipe - "| program": delivering, filter, or capture */
static int
act_pipe(struct rc *rc, const struct rc_recipe *r, const struct part *p)
{
	char *lock = NULL, *name = NULL;
	long long fed = 0;
	int st;

	if (r->capture)
		return act_capture(rc, r, p);
	if (r->flags & RC_F_f)
		return act_filter(rc, r, p);
	if (rc->s->dry_run) {
		rc_trace(rc, "Would execute \"%s\" (not under --test)",
		    r->action);
		rc_trace_dest(rc, "|%s (%s)", r->action, r->flags & RC_F_c ?
		    "a copy" : "delivered");
		return 1;
	}
	if (act_lock(rc, r, r->action, &lock, NULL) == -1)
		return 0;
	st = act_run(rc, r, p, NULL, NULL, -1, NULL, &name, &fed);
	rc_unlock(rc, &lock);
	/* Without w, procmail ignores the exit status; a program that
	   could not be started or was killed by TIMEOUT still failed.
	   A program that took only the header or the body and succeeded
	   delivered the message (procmailex(5)'s "| formail -D" discards
	   a duplicate that way): it was given what the recipe asked for,
	   and what it keeps is its own business. */
	if (st < 0 || (st != 0 && (r->flags & (RC_F_w | RC_F_W)))) {
		free(name);
		return 0;
	}
	act_delivered(rc, name ? name : r->action, fed);
	status_delivered();	/* a program took a copy (status.h) */
	free(name);
	return 1;
}

/* act_forward - "! address...": $SENDMAIL $SENDMAILFLAGS addresses; the
   copy gets "Delivered-To: <recipient>" first (lda/loop.h), but under -m */
static int
act_forward(struct rc *rc, const struct rc_recipe *r, struct part *p)
{
	struct buf cmd;
	size_t n = 0, k = 0;
	char *err = NULL, **argv, *name = NULL;
	long long fed = 0;
	int st, argc = 0;

	char *raw = xasprintf("\"$SENDMAIL\" $SENDMAILFLAGS %s", r->action);

	buf_init(&cmd, RC_VALUE_MAX);
	st = rc_expand(rc, raw, RC_EXP_WORDS, &cmd, &n, &err);
	free(raw);
	if (st == -1 || n < 2) {
		rc_error(rc, r->action_line, "forward: %s", err ? err :
		    "no address");
		free(err);
		buf_free(&cmd);
		return 0;
	}
	argv = xcalloc(n + 1, sizeof *argv);
	for (size_t i = 0; i < n; i++) {
		argv[argc++] = cmd.s + k;
		k += strlen(cmd.s + k) + 1;
	}
	if (rc->s->dry_run) {
		struct buf d;
		buf_init(&d, 0);
		for (int i = 2; i < argc; i++) {
			buf_putc(&d, ' ');
			buf_puts(&d, argv[i]);
		}
		rc_trace(rc, "Would forward with \"%s %s%s\" (not under "
		    "--test)", argv[0], argv[1], d.s ? d.s : "");
		rc_trace_dest(rc, "!%s (%s)", d.s ? d.s : "", r->flags & RC_F_c ?
		    "a copy" : "delivered");
		buf_free(&d);
		st = 0;
	} else {
		/* loop protection: the copy we send on says it was ours */
		char *mark = p->head ? loop_header(rc->s->delivered_to) : NULL;
		p->prefix = mark;
		st = act_run(rc, r, p, argv, NULL, -1, NULL, &name, &fed);
		p->prefix = NULL;
		free(mark);
	}
	free(argv);
	buf_free(&cmd);
	if (st < 0 || (st != 0 && (r->flags & (RC_F_w | RC_F_W)))) {
		free(name);
		return 0;
	}
	/* as for a program (act_pipe): $SENDMAIL took what was asked */
	if (name)
		act_delivered(rc, name, fed);
	if (!rc->s->dry_run)
		status_delivered();	/* forwarded: a copy is out */
	free(name);
	return 1;
}

/*
 * act_builtin_tainted - a built-in filter's arguments are settings (a
 * cache file, a reply's text): no byte of them may come from the message
 * or the envelope, as no rc variable a filter reads as a file may (w holds
 * the n words of the last rc_expand). The complaint, or NULL.
 */
static char *
act_builtin_tainted(const struct rc *rc, const struct buf *w, size_t n)
{
	size_t off = strlen(w->s) + 1;

	if (rc->exp_mask == NULL || !rc->exp_tainted)
		return NULL;
	for (size_t i = 1; i < n && off < rc->exp_masklen; i++) {
		size_t len = strlen(w->s + off);
		const char *eq = memchr(w->s + off, '=', len);
		size_t name = eq ? (size_t)(eq - (w->s + off)) : len;

		for (size_t j = 0; j < len && off + j < rc->exp_masklen; j++)
			if (rc->exp_mask[off + j])
				return xasprintf("%s: argument %.*s takes bytes "
				    "from the message; refused", w->s,
				    (int)(name > 64 ? 64 : name), w->s + off);
		off += len + 1;
	}
	return NULL;
}

/* act_builtin_refuse - a filter call that cannot be made as written is
   the rc author's or the administrator's mistake: the message stays with
   the MTA (75, 4.3.5) rather than go unscanned or misfiled */
static void
act_builtin_refuse(struct rc *rc, const struct rc_recipe *r, const char *err,
    enum rc_flow *flow)
{
	rc_error(rc, r->action_line, "%s", err);
	status_fail(OUT_CONFIG, NULL, rc->s->recipient, "%s:%d: %s",
	    rc->cur_file, r->action_line, err);
	rc->s->outcome = outcome_worse(rc->s->outcome, OUT_CONFIG);
	*flow = RC_DELIVERED;
}

/*
 * act_builtin - "| @name [NAME=value]...": a built-in filter (filters/).
 * Returns 1 when it checked the message, 0 when not; *flow becomes
 * RC_DELIVERED when the rc must stop: the filter failed closed or refused
 * the message (s->outcome is set), or chose a folder that was delivered.
 */
static int
act_builtin(struct rc *rc, const struct rc_recipe *r, enum rc_flow *flow)
{
	struct buf w;
	size_t n = 0;
	char *err = NULL, *folder = NULL, *p;
	const char **args;
	int st, ok = 0;
	struct buf names;
	long long size = 0;

	buf_init(&w, RC_VALUE_MAX);
	if (rc_expand(rc, r->action, RC_EXP_WORDS, &w, &n, &err) == -1 || n == 0) {
		rc_error(rc, r->action_line, "%s", err ? err : "no filter name");
		free(err);
		buf_free(&w);
		return 0;
	}
	if ((err = act_builtin_tainted(rc, &w, n)) != NULL) {
		act_builtin_refuse(rc, r, err, flow);
		free(err);
		buf_free(&w);
		return 0;
	}
	buf_init(&names, RC_VALUE_MAX);
	args = xcalloc(n, sizeof *args);
	p = w.s + strlen(w.s) + 1;
	for (size_t i = 1; i < n; i++, p += strlen(p) + 1)
		args[i - 1] = p;
	st = rc_builtin_call(rc, w.s + 1, args, &folder, &err);
	rc->hdr_of = NULL;	/* the message may be a new spool */
	if (st == -1)
		act_builtin_refuse(rc, r, err, flow);
	else if (st == RC_BUILTIN_OK)
		ok = 1;
	else if (st == RC_BUILTIN_DELIVER && (ok = act_one_folder(rc, r, folder,
	    NULL, &names, &size, NULL))) {
		act_delivered(rc, names.s, size);
		*flow = RC_DELIVERED;
	}
	else if (st == RC_BUILTIN_STOP)
		*flow = RC_DELIVERED;
	free(err);
	free(folder);
	free(args);
	buf_free(&w);
	buf_free(&names);
	return ok;
}

/*
 * rc_action - run r's action. *succeed_r: it worked. Returns
 * RC_DELIVERED when a delivering action worked without "c".
 * Only the header or only the body written to a folder ends the rc as in
 * procmail, but is not reported as delivered: the rest would be lost.
 * The same part given to a program (or $SENDMAIL) that succeeded is a
 * delivery, as in procmail: the program decided what becomes of it.
 */
enum rc_flow
rc_action(struct rc *rc, const struct rc_recipe *r, int *succeed_r)
{
	struct part p;
	int ok, delivering;

	act_part(rc, r->flags, &p);
	rc->partial_copy = 0;
	switch (r->act) {
	case RC_ACT_FOLDER:
		if (r->flags & RC_F_f)
			log_info("%s:%d: extraneous filter-flag ignored",
			    rc->cur_file, r->action_line);
		ok = act_folders(rc, r, &p);
		delivering = 1;
		break;
	case RC_ACT_PIPE:
		if (!r->capture && r->action[strspn(r->action, " \t")] == '@') {
			enum rc_flow flow = RC_GO;
			*succeed_r = act_builtin(rc, r, &flow);
			return flow;
		}
		ok = act_pipe(rc, r, &p);
		delivering = !r->capture && !(r->flags & RC_F_f);
		if (ok == -1) {		/* our spool failed: 75 (act_filter) */
			*succeed_r = 0;
			return RC_DELIVERED;
		}
		break;
	case RC_ACT_FORWARD:
		ok = act_forward(rc, r, &p);
		delivering = 1;
		break;
	default:
		ok = 0;
		delivering = 0;
	}
	*succeed_r = ok;
	if (!ok || !delivering || (r->flags & RC_F_c))
		return RC_GO;
	if (rc->partial_copy) {
		log_warn("%s:%d: only the %s was delivered and the rc ends "
		    "here (procmail's rule); the message stays with the MTA",
		    rc->cur_file, r->action_line, p.head ? "header" : "body");
		rc->partial = 1;
		rc->s->outcome = outcome_worse(rc->s->outcome, OUT_TEMPFAIL);
	}
	return RC_DELIVERED;
}

/*
 * rcint.h - what the modules of rc/ share and nobody else sees: the
 * interpreter state and the functions one rc module offers another.
 * Does: declare. Does not: implement; each prototype's module says what
 * it does and does not do.
 */
#ifndef RC_RCINT_H
#define RC_RCINT_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "../lda/buf.h"
#include "../lda/session.h"
#include "../lda/settings.h"
#include "rc.h"
#include "tree.h"

#define RC_INCLUDE_MAX	32		/* INCLUDERC / SWITCHRC nesting */
#define RC_FILE_MAX	(16u << 20)	/* bytes of one rc file */
#define RC_VALUE_MAX	(1u << 20)	/* bytes of one expanded value */
#define RC_EXPAND_DEPTH	64		/* ${a:-${b:-...}} nested at most */
#define RC_CAPTURE_MAX	(1u << 20)	/* bytes kept of a program's output */

/* The variables: "NAME=value" strings, NULL-terminated (usable as envp). */
struct rc_vars {
	char **v;
	unsigned char *t;	/* t[i]: v[i]'s value came from the message
				   or the envelope (its provenance) */
	size_t n, cap;
};

/* How a statement ended: go on, stop this file, or stop everything. */
enum rc_flow { RC_GO, RC_END_FILE, RC_DELIVERED };

struct rc {
	struct session *s;
	struct rc_vars vars;
	char **args;		/* $1.. */
	size_t nargs;
	int depth;		/* rc files being run (INCLUDERC nesting) */
	const char *cur_file;	/* $_ */
	int cur_line;		/* the line being run (assignment, recipe,
				   condition; 0 outside): errors name it */
	char *filters_at;	/* "file:line" where FILTERS was set */
	int lastcond, prevcond, lastsucc;	/* procmail's A/a/E/e state */
	long lastscore;		/* $= */
	int lastexit;		/* $? */
	int in_system;		/* running the system rc */
	char **locked;		/* names the system rc locked */
	size_t nlocked;
	char *globlock;		/* LOCKFILE held, or NULL */
	char *hostname;
	int logfd;		/* LOGFILE, for LOG and the abstract */
	int host_stop;		/* HOST mismatched: no DEFAULT, no exit 0 */
	int default_set;	/* DEFAULT was assigned (command line, rc) */
	int partial;		/* an h/b-only delivery ended the rc */
	int partial_copy;	/* the last action wrote only h or b to a folder */
	int exitcode;		/* EXITCODE as a sysexits code, -1 unset */
	int abstract;		/* LOGABSTRACT: -1 unset, 0 no, 1 yes, 2 all */
	char *abs_folder;	/* the last delivery, for the final abstract */
	long long abs_size;
	int abs_logged;		/* ... already logged ("all") */
	int finished;		/* rc_finish ran */
	struct buf dests;	/* --test: where the message would go */
	int verbose;		/* VERBOSE=on: the trace goes to LOGFILE */
	time_t trace_time;	/* the last "[pid] date" line of the trace */
	int errors;		/* rc errors seen while running */
	int clone;		/* this process is a "c {" clone */
	int pending;		/* enum rc_flow an assignment asked for */
	struct spool *orig_msg;	/* the message main gave us (not ours) */
	struct buf hdr;		/* the header search area, cached */
	const struct spool *hdr_of;	/* ... for this message */
	pid_t mainpid;
	struct settings settings;	/* what delivery reads (rc_settings) */
	/* The provenance of the last rc_expand's output: exp_mask[i] is 1
	   when byte i came from the message or the envelope. */
	unsigned char *exp_mask;
	size_t exp_masklen;
	int exp_tainted;	/* ... any byte did */
	int restricted;		/* a virtual user's rc runs (USERS_RC_RESTRICT):
				   no programs, INCLUDERC only from trusted */
	char *trusted;		/* TRUSTED_RC_DIR, resolved, or NULL */
};

/* var.c */
void rc_vars_init(struct rc_vars *vs);
void rc_vars_free(struct rc_vars *vs);
const char *rc_vars_get(const struct rc_vars *vs, const char *name);
void rc_vars_set(struct rc_vars *vs, const char *name, const char *value);
void rc_vars_set_t(struct rc_vars *vs, const char *name, const char *value,
    int tainted);
int rc_vars_tainted(const struct rc_vars *vs, const char *name);
int rc_vars_private(const struct rc_vars *vs, size_t i);
#define RC_VAR_TAINTED	1	/* from the message or the envelope */
#define RC_VAR_PRIVATE	2	/* set by a virtual user's restricted rc:
				   kept out of programs' environments */
void rc_vars_unset(struct rc_vars *vs, const char *name);
int rc_var_name_ok(const char *name, size_t len);
long rc_var_long(const char *value, long dflt);

/* lex.c / parse.c */
struct rc_file *rc_parse_text(const char *path, const char *text,
    size_t len, void (*report)(void *, const char *, int, int,
    const char *), void *arg);
struct rc_file *rc_parse_path(const char *path, void (*report)(void *,
    const char *, int, int, const char *), void *arg, char **err);
void rc_file_free(struct rc_file **fp);

/* expand.c */
enum rc_expand_mode {
	RC_EXP_WORDS,		/* split into words as sh does (actions) */
	RC_EXP_ASSIGN,		/* one value (assignments) */
	RC_EXP_DQUOTE,		/* as if inside double quotes ($ conditions) */
};
/* Expand raw in mode; words are NUL-separated in out, *nwords_r counted.
   Returns 0, or -1 with *err set (value too long, bad substitution). */
int rc_expand(struct rc *rc, const char *raw, enum rc_expand_mode mode,
    struct buf *out, size_t *nwords_r, char **err);
char *rc_expand_str(struct rc *rc, const char *raw,
    enum rc_expand_mode mode);
/* The deepest ${...} nesting in raw, read as text (for --check). */
int rc_expand_depth(const char *raw);
/*
 * A path the message chose: why the last rc_expand's output (s, len
 * bytes: NUL-separated words, or one value) is a file name that a header
 * or the envelope may not pick -- a word break, a leading "/", a "..",
 * or a name beginning with "." that came from the message or the
 * envelope ($MATCH, $1, $DETAIL, $SENDER, backquotes and "VAR=|"
 * output, and variables assigned from them). NULL when it is not.
 */
const char *rc_tainted_path(const struct rc *rc, const char *s, size_t len);


/* exec.c */
struct rc_prog {
	const char *cmd;	/* the raw command line */
	char *const *argv;	/* or the argv to exec directly */
	const struct spool *in;	/* message to feed, or NULL */
	const char *in_mem;	/* or bytes to feed */
	size_t in_len;
	off_t from, to;		/* part of in to feed */
	int with_from;		/* prepend in's From_ line */
	const char *tail;	/* bytes to feed last ("\n" or NULL) */
	int blank_end;		/* or procmail's end: a newline more unless
				   what is fed ends with an empty line (an
				   empty feed is one newline) */
	int out_fd;		/* stdout, through a pipe, written by us into
				   this fd (-1: to our stderr or the log) */
	int *out_err_r;		/* not NULL: the errno of a failed write
				   into out_fd (ENOSPC), else 0 */
	struct buf *out;	/* or collect stdout here */
	int *unread_r;		/* not NULL: set to 1 when it closed its
				   stdin before it had all (EPIPE) */
	long long *fed_r;	/* not NULL: bytes it read */
	char **name_r;		/* not NULL: procmail's name for it (the
				   command as given to $SHELL, or the words
				   exec'd joined by spaces), allocated */
	int *shell_r;		/* not NULL: set to 1 when $SHELL ran it */
};
/* Run a program as procmail does (SHELLMETAS decide $SHELL -c or a
   direct exec), with TIMEOUT. Returns its exit status (0..255, 128+sig
   when killed by a signal), -1 with *err when it could not be started,
   -2 with *err when TIMEOUT passed and it was killed. */
int rc_exec(struct rc *rc, const struct rc_prog *p, char **err);

/* cond.c */
/* Evaluate a recipe's conditions; returns 1 match, 0 no match. */
int rc_cond_eval(struct rc *rc, const struct rc_recipe *r, int line);
void rc_area_header(struct rc *rc, struct buf *out);

/* action.c */
enum rc_flow rc_action(struct rc *rc, const struct rc_recipe *r,
    int *succeed_r);

/* eval.c */
enum rc_flow rc_eval_list(struct rc *rc, const struct rc_node *n);
int rc_run_path(struct rc *rc, const char *path, int system);
void rc_error(struct rc *rc, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* special.c */
void rc_special(struct rc *rc, const char *name, const char *value);
void rc_logtext(struct rc *rc, const char *text);
/* A delivery to folder (procmail's name: a path, a command) of size
   bytes: logged now under LOGABSTRACT=all, else kept for the end. */
void rc_abstract(struct rc *rc, const char *folder, long long size);
/* The abstract of the last delivery, when LOGABSTRACT asks for it. */
void rc_abstract_final(struct rc *rc);
int rc_is_locked(const struct rc *rc, const char *name);

/* lock.c */
int rc_lock(struct rc *rc, const char *path, char **err);
void rc_unlock(struct rc *rc, char **pathp);
void rc_lock_stale(struct rc *rc, const char *path);

/* trace.c (the public part is in rc.h) */
/* procmail's yell(): 'What "text"' as one line of the trace. */
void rc_yell(struct rc *rc, const char *what, const char *text);
/* 'Assigning "NAME=value"' */
void rc_yell_assign(struct rc *rc, const char *name, const char *value);
/* A recipe's flags as written (":0" and letters, ":" and a lockfile). */
void rc_trace_recipe(struct rc *rc, const struct rc_recipe *r, int line);

#endif

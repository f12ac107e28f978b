/*
 * rc.h - the procmailrc language as lda runs it: variables, rc files,
 * recipes, and the fall-back to DEFAULT.
 * Does: hold the rc variables (which are also the environment of the
 * programs the rc starts), read and run rc files, hand each delivering
 * action to lda/deliver (folders) or run it (programs, forwards).
 * Does not: read argv or the MTA's environment (invocation does), write
 * folders itself, pick the exit code.
 */
#ifndef LDA_RC_H
#define LDA_RC_H

#include "../lda/session.h"

struct rc;
struct settings;

/* A new interpreter for s, with procmail's initial variables (HOME, USER,
   LOGNAME, SHELL, SENDMAIL, MAILDIR, DEFAULT, ORGMAIL, ...) set from the
   session, and $1.. from the invocation's arguments. */
struct rc *rc_new(struct session *s);
void rc_free(struct rc **rcp);

/* Assign a variable as a "VAR=value" line would (side effects included:
   MAILDIR changes directory, LOGFILE reopens the log, ...). */
void rc_assign(struct rc *rc, const char *name, const char *value);
/* The same, for a value that came from the message or the envelope
   (tainted): such a value never chooses a path outside the user's
   folders (doc/procmail-differences.md). */
void rc_assign_t(struct rc *rc, const char *name, const char *value,
    int tainted);
/*
 * Make sp the current message (a filter's result): the rc owns it from
 * now on and frees the message it replaces, unless that is the one the
 * session started with (its owner, main, frees that). Conditions search
 * sp from here on. sp must not be NULL.
 */
void rc_set_msg(struct rc *rc, struct spool *sp);

/* Where the variable name was last assigned ("file:line", "the
   command line"); kept for FILTERS, "the rc" for others. */
const char *rc_origin(const struct rc *rc, const char *name);

/* The value of a variable, or NULL when unset. */
const char *rc_get(const struct rc *rc, const char *name);
/* Did the variable's value come from the message or the envelope? */
int rc_tainted(const struct rc *rc, const char *name);
/* The rc's implementation of lda/settings.h (settings are rc variables,
   read when delivery acts; delivery's trace lines join the rc's), for
   the session (s->settings); valid as long as rc. */
const struct settings *rc_settings(struct rc *rc);

/*
 * Run the rc file path. system: the file is the system rc (its settings
 * may be locked against the user rc). Returns 1 when a delivering recipe
 * completed delivery (evaluation stops, as procmail's does), 0 when the
 * file ran to its end, -1 when it could not be read (*err set).
 * Errors inside the file are logged with file:line and never stop
 * delivery.
 */
int rc_run_file(struct rc *rc, const char *path, int system, char **err);

/*
 * Deliver to DEFAULT (then ORGMAIL when DEFAULT fails), as procmail does
 * when the rc files did not deliver. Returns the outcome of that copy.
 */
enum outcome rc_deliver_default(struct rc *rc);

/*
 * procmail's end of a run, once (later calls return o unchanged): the
 * LOGABSTRACT line of the last delivery, the TRAP program, and EXITCODE
 * applied to o, the outcome so far. Called by rc_run_file when the rc
 * delivered and by rc_deliver_default; a caller that ends the run by
 * other means (a filter, a plus-address folder) calls it itself.
 */
enum outcome rc_finish(struct rc *rc, enum outcome o);

/*
 * The built-in filters ("| @name", and the names --check knows) live
 * above the rc, in filters/: main hands them over once, so that rc/
 * never calls up. call has filter_call's contract (filters/filter.h) and
 * returns -1 or an RC_BUILTIN_* status; known: 1 when name is a built-in
 * filter. Until they are set no name is known.
 */
enum rc_builtin_status {
	RC_BUILTIN_OK = 0,	/* ran; the recipe succeeded */
	RC_BUILTIN_FAILED = 1,	/* failed open: the recipe failed */
	RC_BUILTIN_DELIVER = 2,	/* deliver to *folder_r as the action */
	RC_BUILTIN_STOP = 3,	/* stop the rc: s->outcome is a failure */
};
struct rc_builtins {
	int (*call)(struct session *s, struct rc *rc, const char *name,
	    const char *const *args, char **folder_r, char **err);
	int (*known)(const char *name);
};
void rc_builtins_set(const struct rc_builtins *b);

/* Parse path and report every error and warning on stderr; returns the
   number of errors (0: clean). */
int rc_check_file(const char *path);
/*
 * A system rc's settings without running it (rc/static.c): NULL with
 * *err when path cannot be read or parsed. rc_static_get: 1 with *value
 * (allocated; NULL: unset) when the file assigns name only at its top
 * level with literal text, 0 when it never assigns it, -1 when only
 * running the file tells (an expansion, a recipe, INCLUDERC/SWITCHRC).
 */
struct rc_static;
struct rc_static *rc_static_read(const char *path, char **err);
int rc_static_get(const struct rc_static *st, const char *name,
    char **value);
void rc_static_free(struct rc_static **stp);
/* The same, with the variables locked by sysrc (NULL: none) reported
   as errors when path assigns them. */
int rc_check_file_with(const char *path, const char *sysrc);

/*
 * May the user rc file path run for uid? procmail's rule: a regular
 * file owned by uid or root, neither group- nor world-writable. Returns
 * 1, or 0 with *why set (allocated; errno ENOENT when it does not exist).
 */
int rc_user_file_ok(const char *path, uid_t uid, char **why);

/*
 * The trace of the run (rc/trace.c), in procmail's VERBOSE phrasing: under
 * --test on stdout, under VERBOSE=on in LOGFILE (stderr without one);
 * nothing otherwise. Every step adds its lines here: one trace serves
 * both. rc_trace writes "lda: " and the text as one line.
 */
int rc_tracing(const struct rc *rc);
void rc_trace(struct rc *rc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* --test: a destination the message would go to (one summary line). */
void rc_trace_dest(struct rc *rc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* --test: print where the message would go for this recipient. */
void rc_trace_summary(struct rc *rc);

#endif

/*
 * filter.h - the filter interface, the registry, and the one call the rc
 * makes to run a built-in filter on the message.
 * Does: describe a filter (a descriptor in its own file, listed once in
 * registry.c), open it on first use with settings from rc variables, run
 * it, apply its verdict all at once (a new spool, new header fields, rc
 * variables), and apply the filter's failure policy (open or closed).
 * Does not: parse rc files, deliver, or exit; the rc decides what a verdict
 * means for the rest of the run, main turns the outcome into an exit code.
 */
#ifndef LDA_FILTER_H
#define LDA_FILTER_H

#include <stddef.h>

#include "../lda/buf.h"
#include "../lda/outcome.h"
#include "../lda/session.h"
#include "../lda/spool.h"
#include "../rc/rc.h"

struct filter;

/* What one filter hands back for one message. */
enum verdict_kind {
	VERDICT_PASS,		/* deliver on, maybe changed (msg, headers) */
	VERDICT_FOLDER,		/* deliver to folder as this recipe's action */
	VERDICT_REJECT,		/* refuse: outcome reject (65 or 69), reason */
	VERDICT_TEMPFAIL,	/* try again later (75), reason */
};

#define VERDICT_DROP_MAX 8

struct verdict {
	enum verdict_kind kind;
	struct spool *msg;	/* a whole new message, or NULL: same one */
	struct buf top;		/* header fields to put above the header */
	struct buf bottom;	/* header fields to add below it */
	/* Fields to remove before adding (a trailing '*' matches a prefix):
	   a filter drops forged copies of the fields it writes. */
	const char *drop[VERDICT_DROP_MAX];
	size_t ndrop;
	struct buf vars;	/* "NAME=value\0" pairs to assign, in order */
	char *folder;		/* VERDICT_FOLDER */
	enum outcome reject;	/* VERDICT_REJECT: OUT_REJECTED, ... */
	char *reason;		/* VERDICT_REJECT, VERDICT_TEMPFAIL */
};

/* Per filter and process: what open() made, and where settings come from. */
struct filter_ctx {
	const struct filter *f;
	struct session *s;	/* valid during open and run */
	struct rc *rc;		/* valid during open and run */
	const char *const *args;/* NAME=value words of this call, or NULL */
	void *priv;		/* the filter's own state, from open() */
};

/*
 * A filter: one descriptor in filters/NAME.c, one line in registry.c.
 * open: read settings (filter_setting), connect nothing yet, load engines;
 *   called once per process, on first use. Returns 0, or -1 with *err.
 * run: look at msg (read only) and fill v. Returns 0 with v filled, or -1
 *   with *err when the message could not be checked (daemon down, timeout,
 *   garbled reply): the failure policy decides what happens then.
 * close: release what open made (may be NULL).
 * commit: the run is over (may be NULL): delivered 1 when every copy of
 *   the message is committed and lda exits 0, else 0 (a retry follows, or
 *   --test). What run() kept for this moment (@dedup's new key, @vacation's
 *   reply) is done now or dropped; c->s and c->rc are NULL. Never fails
 *   the delivery: it logs its own errors.
 */
struct filter {
	const char *name;	/* as the rc calls it: "@name" */
	const char *prefix;	/* settings prefix: PREFIX_FAILURE=open|closed */
	int fail_closed;	/* default policy: 1 = exit 75, 0 = deliver */
	int rewrites;		/* may hand back a whole new spool */
	int pure;		/* asks nothing outside lda (no daemon, no
				   DNS) and writes nothing: it runs under
				   --test too; the others only with
				   --test-filters */
	const char *const *vars;/* the rc variables it sets, NULL-terminated:
				   all are set to "" when it fails */
	const char *const *fields;/* the header fields it writes (a name, or
				   a prefix ending in '*'), NULL-terminated:
				   forged copies in the message are dropped
				   even when it fails open */
	int (*open)(struct filter_ctx *c, char **err);
	int (*run)(struct filter_ctx *c, const struct spool *msg,
	    struct verdict *v, char **err);
	void (*close)(struct filter_ctx *c);
	void (*commit)(struct filter_ctx *c, int delivered);
};

/* What the rc does after filter_call (a built-in filter recipe): the
   statuses of the rc's interface (rc_builtins, rc.h), by these names. */
enum filter_status {
	/* ran; s->msg and variables may be new: the recipe succeeded,
	   evaluation goes on */
	FILTER_OK = RC_BUILTIN_OK,
	/* could not check the message and fails open: s->msg got an
	   X-LDA-Unscanned field; the recipe failed (like a program filter
	   with a non-zero exit), evaluation goes on */
	FILTER_FAILED = RC_BUILTIN_FAILED,
	/* deliver to *folder_r as this recipe's action */
	FILTER_DELIVER = RC_BUILTIN_DELIVER,
	/* stop the rc, no DEFAULT: s->outcome is now a failure (75, or a
	   refusal such as 65/69) */
	FILTER_STOP = RC_BUILTIN_STOP,
};

/*
 * Run the built-in filter name on s->msg. args: the words after "@name" in
 * the action (NULL-terminated, may be NULL); each is NAME=value and
 * overrides that setting for this call. On the first call in a process the
 * filter is opened with settings from rc variables (rc_get). The verdict is
 * applied all at once or not at all: s->msg is replaced by a complete new
 * spool, then variables are assigned (SPAM_SCORE, VIRUS_NAME, SPF_RESULT,
 * ...). A failure is logged here, once, and handled by the filter's policy
 * (PREFIX_FAILURE): open adds an X-LDA-Unscanned field and returns
 * FILTER_FAILED, closed sets s->outcome to OUT_TEMPFAIL and returns
 * FILTER_STOP. Returns a filter_status; *folder_r (allocated) with
 * FILTER_DELIVER. Returns -1 with *err set (allocated) only when name is no
 * filter or an argument is malformed: the rc reports that with file:line
 * and treats the recipe as a program that could not be run.
 */
int filter_call(struct session *s, struct rc *rc, const char *name,
    const char *const *args, char **folder_r, char **err);

/*
 * Run the chain of filters named in the rc variable FILTERS (words, in
 * order), as main does between the system rc and the user rc: each as if
 * called by a filter recipe. A filter that chooses a folder gets it
 * delivered here (relative to MAILDIR). Returns 1 when the run is over
 * (FILTER_STOP, or that folder delivered: s->outcome holds the result),
 * else 0. Unknown names are logged and skipped.
 */
int filter_chain(struct session *s, struct rc *rc);

/* The filters as the rc runs them (filter_call, filter_find), for
   rc_builtins_set (rc.h): main hands them over. */
extern const struct rc_builtins filter_builtins;

/*
 * The run's copies are committed (delivered 1: lda exits 0) or not (0):
 * every opened filter's commit. main calls it once per recipient process,
 * after the store transaction, before the exit code; in a process forked
 * off (a "c {" clone) only what that process itself kept is committed.
 */
void filter_commit(int delivered);

/* The descriptor registered as name, or NULL. */
const struct filter *filter_find(const char *name);
/* The registered filters, NULL-terminated. */
const struct filter *const *filter_list(void);
/* Close every opened filter (tests; lda itself lets exit do it). */
void filter_close_all(void);

/* A setting for c's filter: this call's NAME=value argument, else the rc
   variable, else NULL. Empty values count as unset. */
const char *filter_setting(const struct filter_ctx *c, const char *name);
/* The same as a number >= 0 (suffix k/K: *1024, m/M: *1024*1024);
   dflt when unset; -1 with *err when malformed. */
long long filter_setting_num(const struct filter_ctx *c, const char *name,
    long long dflt, char **err);

/* A file named by a setting (dflt when unset), made absolute against
   MAILDIR as the rc's folders are; allocated. The name comes from the rc
   or the command line, never from the message: a variable assigned from
   the message ($MATCH, a header) gives NULL with *err. */
char *filter_setting_path(const struct filter_ctx *c, const char *name,
    const char *dflt, char **err);

/* Verdict helpers for filters; all allocation is checked (exit 75). */
void verdict_init(struct verdict *v);
void verdict_free(struct verdict *v);
/* Queue a header field "Name: value" (newline added; value unfolded text
   whose CR, LF and NUL become blanks) above (top) or below the header. */
void verdict_field(struct verdict *v, int top, const char *name,
    const char *value);
/* Queue a field as is: text already folded, each line ending in "\n". */
void verdict_field_raw(struct verdict *v, int top, const char *text,
    size_t len);
/* Drop fields named name (or starting with it, when it ends in '*'). */
void verdict_drop(struct verdict *v, const char *name);
/* Queue an rc variable assignment (value may be "", never NULL). */
void verdict_var(struct verdict *v, const char *name, const char *value);

/*
 * A loadable module for a filter with heavy libraries: MODULE_PATH (an rc
 * variable, default MODDIR) / name ".so", opened with dlopen on first use;
 * symbol is looked up and must point to a struct whose first member is an
 * unsigned ABI number equal to abi. Returns the symbol, or NULL with *err.
 * Modules stay loaded until the process ends.
 */
const void *filter_module(const struct filter_ctx *c, const char *name,
    const char *symbol, unsigned abi, char **err);

/* The new header section for msg with v's fields dropped and added,
   line ends as msg's (CRLF when msg->crlf). Returns it, allocated; *len_r
   its length. (For tests and filter_call.) */
char *filter_new_header(const struct spool *msg, const struct verdict *v,
    size_t *len_r);

#endif

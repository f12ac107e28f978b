/*
 * session.h - the state of one run of lda for one recipient: who, which
 * message, and where copies went. Handed from main to rc, filters and
 * delivery; each step reads what it needs and adds its result.
 * Does not: hold settings (STORE, MAILDIR, ...): those are read through
 * settings (settings.h), which the layer above implements.
 */
#ifndef LDA_SESSION_H
#define LDA_SESSION_H

#include <sys/types.h>

#include "outcome.h"
#include "spool.h"

struct invocation;
struct lmtp_pre;
struct settings;
struct store;

struct session {
	const struct invocation *inv;
	struct spool *msg;	/* the current message; filters may replace it */
	const char *sender;	/* envelope sender ("" for <>) */
	const char *recipient;	/* the user this run delivers for */
	const char *delivered_to; /* the address a forward is marked with and
				   a loop is known by (loop.h): the recipient,
				   NULL under -m (procmail's mailfilter) */
	const char *detail;	/* address extension (+detail), or NULL */
	const char *home;	/* recipient's home directory */
	uid_t uid;		/* who we deliver as */
	const char *tmpdir;	/* for new spools */
	struct store *store;	/* store transaction under way, or NULL */
	struct lmtp_pre *pre;	/* a store connection begun at start-up
				   (main.c), for the store to take, or NULL */
	const struct settings *settings;	/* read at delivery time (settings.h);
				   NULL: none set */
	int foreign;		/* delivering for another user without root:
				   only the store may take copies */
	int rc_restricted;	/* the user rc that runs is a virtual user's
				   (USERS_RC_DIR): USERS_RC_RESTRICT applies */
	int share;		/* a board post: each file written gets the
				   group share_gid and share_mode's group bits
				   on its descriptor, before it is linked in */
	gid_t share_gid;
	mode_t share_mode;

	int delivered;		/* copies delivered (or accepted for the store) */
	int dry_run;		/* --test: nothing is written, nothing run */
	int raw;		/* the rc's "r": an MH or directory copy is
				   the message as it is (no empty line added) */
	int mbox_nolock;	/* an mbox copy takes no dotlock (the rc's
				   recipe without ":"), the fcntl lock only */
	enum outcome outcome;	/* combined outcome of all copies so far */
	char *last_folder;	/* where the last copy went (LASTFOLDER) */
};

#endif

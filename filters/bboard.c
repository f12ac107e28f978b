/*
 * bboard.c - the bboard filter: mail to POSTUSER+board (bb+board, or
 * +board when POSTUSER is empty) is a post to the shared folder board.
 * Does: recognise a board post by the recipient's user part and detail
 * (as main found them in the address, not as the rc may have changed
 * them); on a store (STORE set) hand the folder to the store, which
 * posts it (Cyrus: RCPT bb+board; it refuses a board that does not
 * exist, 550 5.1.1, and that is our answer too); on a local store hand
 * back the shared Maildir BOARD_ROOT/board/ when it exists. A post ends
 * the run: FILTERS runs after the system rc and before the user rc, so
 * no user's rc ever sees a board post, and bboard_settle() (main, right
 * after FILTERS) ends a post that could not be delivered with 75 rather
 * than let the user rc and DEFAULT have it. A local post's file gets the
 * board's group and group bits on its descriptor before it is linked
 * (s->share, lda/maildir.c): no name is ever touched after.
 * Does not: create boards (a board is the administrator's to make, with
 * its group and permissions), run for anything but a post.
 *
 * Settings: POSTUSER (unset or empty: the form +board), BOARD_ROOT (the
 * directory of the local boards), STORE, RCPT_DOWNCASE (the user part
 * matches POSTUSER in any case). Sets BOARD (the board's name) for a
 * post, and STORE_FALLBACK=no: a board the store refuses is no INBOX's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lda/address.h"
#include "../lda/log.h"
#include "../lda/xalloc.h"
#include "../rc/rc.h"
#include "bboard.h"
#include "filter.h"

static const char *const bb_vars[] = { "BOARD", NULL };

/* board_yes - is the setting name yes/on/true/1? */
static int
board_yes(const struct filter_ctx *c, const char *name)
{
	const char *v = filter_setting(c, name);

	return v && (strcasecmp(v, "yes") == 0 || strcasecmp(v, "on") == 0 ||
	    strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0);
}

/* is_post - is this run's recipient POSTUSER (or "" without one)? */
static int
is_post(const struct filter_ctx *c)
{
	const char *user = c->s->recipient ? c->s->recipient : "";
	const char *post = filter_setting(c, "POSTUSER");

	if (post == NULL)
		post = "";
	return board_yes(c, "RCPT_DOWNCASE") ? strcasecmp(user, post) == 0 :
	    strcmp(user, post) == 0;
}

/* refuse - no such board: 67, as the store answers a missing one */
static int
refuse(struct verdict *v, const char *fmt, const char *a, const char *b)
{
	v->kind = VERDICT_REJECT;
	v->reject = OUT_NOUSER;
	v->reason = xasprintf(fmt, a, b);
	return 0;
}

/* local_board - BOARD_ROOT/name/ when it is a Maildir, else NULL;
   *board_r: the board directory's status */
static char *
local_board(const char *root, const char *name, struct stat *board_r)
{
	static const char *const sub[] = { "new", "cur", "tmp" };
	char *dir = xasprintf("%s/%s/", root, name);
	struct stat st;

	if (stat(dir, board_r) == -1) {
		free(dir);
		return NULL;
	}
	for (unsigned i = 0; i < 3; i++) {
		char *p = xasprintf("%s%s", dir, sub[i]);
		int r = stat(p, &st);
		free(p);
		if (r == -1 || !S_ISDIR(st.st_mode)) {
			free(dir);
			return NULL;
		}
	}
	return dir;
}

/* bb_run - a board post becomes this recipe's folder, or a refusal */
static int
bb_run(struct filter_ctx *c, const struct spool *msg, struct verdict *v,
    char **err)
{
	const char *detail = c->s->detail, *root, *why;
	int store = filter_setting(c, "STORE") != NULL;
	struct stat board;
	char *name, *vis;

	(void)msg;
	(void)err;
	if (detail == NULL || *detail == '\0' || !is_post(c))
		return 0;			/* not a post: pass */
	vis = address_visible(detail, 64);
	name = address_folder(detail, store ? '/' : '.', !store, &why);
	if (name == NULL || *name == '\0') {
		refuse(v, "board \"%s\": %s", vis, why ? why : "no name");
	} else if (store) {
		/* The store posts it: Cyrus takes RCPT postuser+board. */
		log_info("bboard: post to board %s on the store", name);
		verdict_var(v, "BOARD", name);
		verdict_var(v, "STORE_FALLBACK", "no");
		v->kind = VERDICT_FOLDER;
		v->folder = name;
		name = NULL;
	} else if ((root = filter_setting(c, "BOARD_ROOT")) == NULL) {
		refuse(v, "board \"%s\": %s", vis, "no BOARD_ROOT for local boards");
	} else if ((v->folder = local_board(root, name, &board)) == NULL) {
		refuse(v, "no board %s in %s", name, root);
	} else {
		log_info("bboard: post to board %s", v->folder);
		verdict_var(v, "BOARD", name);
		v->kind = VERDICT_FOLDER;
		/*
		 * A board under BOARD_ROOT is the administrator's shared
		 * folder, not another user's: a service user posting for a
		 * POSTUSER without an account writes it as itself.
		 */
		c->s->foreign = 0;
		/*
		 * The board's group may read (and write, when it may write
		 * the board) the post: its group and group bits, set on the
		 * descriptor before the file is linked (maildir.c), never
		 * on a name a member of the group could swap for a symlink.
		 */
		c->s->share = 1;
		c->s->share_gid = board.st_gid;
		c->s->share_mode = board.st_mode;
	}
	free(name);
	free(vis);
	return 0;
}

const struct filter filter_bboard = {
	.name = "bboard",
	.prefix = "BBOARD",
	.fail_closed = 0,
	.rewrites = 0,
	.pure = 1,
	.vars = bb_vars,
	.run = bb_run,
};

/* bboard_settle - after FILTERS: a board post is over (bboard.h) */
int
bboard_settle(struct session *s, struct rc *rc, int done)
{
	const char *board = rc_get(rc, "BOARD");

	if (board == NULL || *board == '\0' || done == -1)
		return done;
	if (done == 1)
		return 1;
	log_warn("to=<%s>, board %s: the post was not delivered; try again "
	    "later", s->recipient ? s->recipient : "", board);
	s->outcome = outcome_worse(s->outcome, OUT_TEMPFAIL);
	return 1;
}

/*
 * store-int.h - what store.c and store-ahead.c share: the transaction's
 * queued messages and copies, the back ends and their connections, and
 * the few functions both use. Not for other modules: store.h is the
 * interface.
 */
#ifndef LDA_STORE_INT_H
#define LDA_STORE_INT_H

#include <sys/types.h>

#include "lmtp.h"
#include "outcome.h"
#include "sasl.h"
#include "store.h"

struct route;

/* One copy: a recipient of its message's transaction. */
struct store_copy {
	char *user;		/* who it is for */
	char *folder;		/* folder on the store, NULL: the INBOX */
	char *addr;		/* the RCPT address */
	int fallback;		/* the INBOX copy of a refused folder copy */
	int no_fallback;	/* STORE_FALLBACK=no when it was queued */
	int done;		/* outcome known */
	enum outcome o;
	char status[16];	/* the store's enhanced status, or "" */
	char *reply;		/* the store's reply, or what went wrong */
	size_t be;		/* its back end (struct store's bes) */
};

/* One message (one spool content and sender) and its copies. */
struct store_msg {
	int fd;			/* our own dup of the spool's descriptor */
	off_t size;
	dev_t dev;
	ino_t ino;
	char *sender;
	int repaired_logged;
	struct store_copy *copies;
	size_t ncopies, cap;
};

/* One back end: a STORE list (the default, or a route's) and its
   connection. Each gets its own transactions. */
struct store_be {
	char *spec;			/* the STORE value */
	struct store_target *targets;
	size_t ntargets;
	struct lmtp_conn *lc;		/* open connection, or NULL */
	const struct store_target *at;	/* where lc goes */
	char *down;			/* why no store could be reached */
	char *mech;			/* the SASL mechanism lc used, or NULL */
	char *tls;			/* lc's TLS protocol and cipher, or NULL */
	char down_status[16];		/* RFC 3463 code of why, or "" */
	/* lda -z: the transaction opened at the client's RCPT (store_check),
	   its sender and the RCPTs given so far, with their replies */
	char *ahead_sender;
	char **ahead_addrs;
	struct lmtp_reply *ahead_replies;
	size_t nahead;
};

/* A recipient whose back end is known (STORE_ROUTES looked up once). */
struct store_routed {
	char *user;
	size_t be;
};

struct store {
	struct store_settings set;
	struct store_msg *msgs;
	size_t nmsgs;
	struct store_be *bes;		/* [0]: STORE; then the routes' */
	size_t nbes;
	struct route *routes;		/* STORE_ROUTES, opened on first use */
	char *routes_err;		/* why it cannot be used, or NULL */
	struct store_routed *routed;
	size_t nrouted;
	struct lmtp_pre *pre;		/* begun at start-up (not ours), or NULL */
	struct sasl_creds creds;
	int have_creds;
	pid_t pid;			/* the process the copies belong to */
	int probe;			/* --test: RCPT only, nothing sent */
};

/* store.c */
int store_route(struct store *st, const char *user, size_t *be_r, char **err);
const char *sender_ok(const char *sender);
int connect_store(struct store *st, struct store_be *be, char **err);
int be_send(struct store *st, struct store_be *be, int fd, off_t size,
    const char *sender, int *repaired_logged, const char **rcpts, size_t nr,
    size_t given, struct lmtp_reply *replies, char **err, const char **why);

/* store-ahead.c: forget the transaction opened ahead on be (RSET first
   when rset and the connection is there) */
void ahead_clear(struct store_be *be, int rset);

#endif

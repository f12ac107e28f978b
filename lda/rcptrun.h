/*
 * rcptrun.h - lda -z's recipients: each RCPT checked when it is given,
 * each accepted recipient delivered in a child of its own after the
 * dot, the child's outcome said as that recipient's LMTP reply.
 * Does: the session around lmtpd.c (the client's descriptors moved off
 * 0-2, so that nothing a delivery prints reaches the client), the RCPT
 * verdict (Unix account as root; the store's answer with --store; else
 * any well-formed user), the fork, and the exit code and status line of
 * the child made into a reply (outcome.c's table); the children's store
 * copies sent together (relay.c, store_relay_send).
 * Does not: run the rc or deliver (the caller's function, main.c), speak
 * LMTP (lmtpd.c).
 */
#ifndef LDA_RCPTRUN_H
#define LDA_RCPTRUN_H

#include "outcome.h"

#define RELAY_BATCH 64	/* children parked at once, their copies sent together */

struct invocation;
struct spool;

/* One recipient's run, in the child: inv names the one recipient
   (recipients[0]) and the envelope sender; it is what -d does (as
   root: become the user for good) or, not root, what lda does as
   itself. Returns the outcome; the status line is status.c's. */
typedef enum outcome rcptrun_fn(const struct invocation *inv,
    struct spool *sp);

/* How RCPT reads the system rc's settings without running it, to ask
   the store a delivery would use: the layer above implements it (rc/:
   rc_static_*) and main.c hands it over. read: the file's settings, or
   NULL with *err; get: 1 with *value (allocated, NULL: unset) for a
   literal top-level assignment, 0 when never assigned, -1 when only
   running the file tells; release: free what read made. */
struct rcptrun_sysrc {
	void *(*read)(const char *path, char **err);
	int (*get)(const void *st, const char *name, char **value);
	void (*release)(void *st);
};

/* Serve an LMTP client on standard input and output (lda -z) until it
   quits or goes away. Returns the exit code: 0 after QUIT, else 75. */
int rcptrun_session(const struct invocation *inv, rcptrun_fn *run,
    const struct rcptrun_sysrc *sysrc);

#endif

/*
 * relay.h - lda -z's single-instance store: the child that ran one
 * recipient's rc hands the store copies of the transaction's message to
 * the parent, which sends the copies of all recipients of the transaction
 * in one upstream transaction per back end and gives each child its own
 * replies back.
 * Does: both ends of the exchange over a socket pair (a request: the
 * store settings' key, the sender, each copy's user and RCPT address; an
 * answer: "not relayed", or one reply per copy; at the end the run's
 * exit code, so that the parent need not wait for the exit), in bounded
 * frames; in
 * the child, which copies may go (the transaction's own message, the
 * process that was registered, once).
 * Does not: speak LMTP or group copies (store.c), fork or wait (rcptrun.c).
 */
#ifndef LDA_RELAY_H
#define LDA_RELAY_H

#include <stddef.h>
#include <sys/types.h>

struct lmtp_reply;
struct spool;

#define RELAY_COPIES_MAX 1000	/* copies of one request */

/* ------------------------------------------------------ the child's end */

/* In the child, before the rc runs: requests go over fd, for copies of
   sp (the transaction's message, by its descriptor; NULL: none may be
   relayed) made by this process (not a clone forked later). */
void relay_child(int fd, const struct spool *sp);

/* A fork that goes on as the run (the user process mailspool.c makes)
   takes the registration over; the process it came from stays silent. */
void relay_adopt(void);

/* In the child, when everything is committed and the status line
   written: its exit code to the parent, which may answer the client
   before we are gone. */
void relay_done(int code);

/* 1 when a copy of the message open as fd may be relayed: registered,
   this process, the same message, no request made yet. */
int relay_usable(int fd);

/*
 * Ask the parent to send these copies: key (the store settings, see
 * store_settings_key), sender, users[i] and addrs[i] for n copies.
 * Returns 1 with replies[0..n) filled (the store's, or code 0: none
 * came), 0 when the parent will not relay them (the caller sends them
 * itself), -1 with *err when the parent is gone (nothing is known).
 */
int relay_ask(const char *key, const char *sender, const char *const *users,
    const char *const *addrs, size_t n, struct lmtp_reply *replies,
    char **err);

/* ----------------------------------------------------- the parent's end */

struct relay_req {
	char *frame;		/* the request as read; the strings point into it */
	char *key, *sender;
	char **users, **addrs;
	size_t n;
};

/* Read the child's next word: 1, a request in *r; 2, done with exit
   code *code; 0, it closed its end without a word (it died); -1, a
   malformed frame (logged; treat as 0). */
int relay_read(int fd, struct relay_req *r, int *code);
void relay_req_free(struct relay_req *r);

/* Answer a request: replies NULL: "not relayed"; else r->n replies. 0, or
   -1 when the child is gone. */
int relay_answer(int fd, const struct relay_req *r,
    const struct lmtp_reply *replies);

#endif

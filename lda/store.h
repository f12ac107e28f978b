/*
 * store.h - delivery into a sealed store (Cyrus, Dovecot) over LMTP.
 * Does: the STORE settings (rc variables, read once when the store is
 * first used); the list of stores, tried in order while one is down;
 * per-user routing (STORE_ROUTES, route.c): one back end per STORE value,
 * each with its own connection and transactions;
 * every copy of the run - folders, c copies, the recipients of a service
 * user's run - queued as a recipient (user or user+folder) and sent at
 * the end in one transaction per message; the INBOX fall-back when the
 * store refuses user+folder; the one table from replies to outcomes; one
 * log line per copy, quoting the store; for lda -z, the copies of every
 * recipient of a transaction that the children hand over (relay.c), sent
 * together by the server (store_relay_send).
 * Does not: choose folders (rc/), speak LMTP (lmtp.c), repair the
 * message (repair.c), pick the exit code (main, outcome.c).
 */
#ifndef LDA_STORE_H
#define LDA_STORE_H

#include <stddef.h>
#include <sys/types.h>

#include "outcome.h"

struct lmtp_pre;
struct lmtp_reply;
struct session;
struct spool;
struct store;

/* Defaults of the settings (see doc/store.md). */
#define STORE_CONNECT_TIMEOUT_DEFAULT 30	/* seconds */
#define STORE_TIMEOUT_DEFAULT 300		/* seconds per reply */
#define STORE_ADDRESS_MAX 512			/* bytes of a RCPT address */

/* One store of the STORE list. */
struct store_target {
	char *name;		/* as written: lmtp:unix:/path, lmtp:inet:h:p */
	char *path;		/* unix socket, or NULL */
	char *host, *port;	/* TCP (IPv6 without its brackets) */
};

struct store_settings {
	char *spec;			/* STORE */
	struct store_target *targets;	/* its stores, in order */
	size_t ntargets;
	char *credentials;	/* STORE_CREDENTIALS, or NULL */
	char *routes;		/* STORE_ROUTES: cdb:/path or file:/path, or NULL */
	char *mechs;		/* STORE_MECHANISMS, best first */
	int plaintext;		/* STORE_PLAINTEXT: PLAIN/LOGIN off loopback */
	int tls;		/* STORE_TLS: enum lmtp_tls_mode */
	char *tls_cafile;	/* STORE_TLS_CAFILE, or NULL: the system's */
	char *delimiter;	/* RCPT_DELIMITER's first byte: user+folder */
	char separator;		/* STORE_SEPARATOR: '.' or '/' */
	int downcase;		/* RCPT_DOWNCASE: lower-case the user part */
	int fallback;		/* STORE_FALLBACK: refused folder -> INBOX (its
				   value when each copy is queued counts) */
	int connect_timeout;	/* STORE_CONNECT_TIMEOUT, seconds */
	int timeout;		/* STORE_TIMEOUT, seconds per reply */
};

/* Reads one setting by name: NULL when unset. */
typedef const char *store_getvar_fn(const void *ctx, const char *name);

/*
 * Parse a STORE value: one store or a comma-separated list, each
 * lmtp:unix:/absolute/path or lmtp:inet:host:port (host a name, an IPv4
 * address or an IPv6 address in brackets). Returns 0, or -1 with *err.
 */
int store_parse(const char *spec, struct store_target **t_r, size_t *n_r,
    char **err);
void store_targets_free(struct store_target **tp, size_t n);

/* Read every setting through get(ctx, name). Returns 0, or -1 with *err
   naming the setting and the value it cannot use. */
int store_settings_read(struct store_settings *set, store_getvar_fn *get,
    const void *ctx, char **err);
void store_settings_free(struct store_settings *set);
/* One yes/no setting (yes, y, on, true, 1 / no, n, off, false, 0) into
   *v, dflt when unset. Returns 0, or -1 with *err. */
int store_setting_bool(store_getvar_fn *get, const void *ctx,
    const char *name, int dflt, int *v, char **err);

/*
 * Where the rc's folder name goes on the store: returns 1 and *name_r
 * (allocated; NULL for the INBOX) for a store folder, 0 for a name that
 * stays local (/dev/null, an absolute path outside maildir that is not
 * def or org). def and org (DEFAULT, ORGMAIL) and "INBOX" mean the INBOX;
 * a name under maildir loses that prefix; Maildir ("dir/", Maildir++
 * ".a.b/") and MH ("dir/.") suffixes go; the parts of "a/b" are joined
 * with the store's separator; a leading "INBOX" part goes.
 */
int store_folder(const struct store_settings *set, const char *folder,
    const char *maildir, const char *def, const char *org, char **name_r);

/* The RCPT address for user's folder (NULL: the INBOX): user+folder,
   before any @domain, quoted when needed; an empty user with a folder is
   "+folder" (a board without POSTUSER). NULL when user or folder hold
   control bytes, there is neither, or the address would pass
   STORE_ADDRESS_MAX. */
char *store_address(const struct store_settings *set, const char *user,
    const char *folder);

/* The one table from a store's reply to an outcome (code 0: no reply). */
enum outcome store_reply_outcome(const struct lmtp_reply *r);

/*
 * Begin connecting to the first store of spec (a STORE value) so that the
 * store accepts and greets while lda reads its rc; the session hands it
 * to the store (struct session's pre), which takes it when it connects to
 * that store. Returns 0 with *pre, or -1 (nothing kept; a bad spec or a
 * store that is down is said when the store is used).
 */
int store_preconnect(const char *spec, struct lmtp_pre *pre);

/* A store transaction under way, with settings set (taken over). */
struct store *store_new(struct store_settings *set);
const struct store_settings *store_settings_of(const struct store *st);

/* Queue one copy of sp (from sender) for user into folder (NULL: the
   INBOX), on user's back end (STORE_ROUTES, else STORE); fallback: to the
   INBOX if the store refuses the folder. Returns the RCPT address (owned
   by st), or NULL when none can be made or user's route is unusable
   (the caller logs). */
const char *store_add(struct store *st, const struct spool *sp,
    const char *sender, const char *user, const char *folder, int fallback);

/*
 * The store hook of deliver_folder. When STORE (read through s->settings)
 * is set and folder is a store folder, queue the copy (creating s->store
 * on first use), count it in s and return 1 with *o_r: OUT_DELIVERED
 * (accepted for the store; store_send delivers and logs it) or a failure
 * already logged (a STORE setting lda cannot use: OUT_TEMPFAIL). When s
 * delivers for another user without root (s->foreign), a local copy is
 * refused here too (1, OUT_TEMPFAIL). Returns 0 for a local copy.
 * *path_r (may be NULL) gets the RCPT address, allocated.
 */
int store_take(struct session *s, const char *folder, enum outcome *o_r,
    char **path_r);

/*
 * 1 when a copy into folder would go to the store (STORE is set and
 * folder is a store folder, or a STORE setting is unusable: store_take
 * then defers it), 0 when it stays local. For the rc, which takes no
 * lockfile of its own for a store folder: the store locks its mailboxes.
 */
int store_owns(struct session *s, const char *folder);

/*
 * Send every queued copy: connect (the next store of the list while one
 * is down; AUTH over TCP), one transaction per message, INBOX fall-back
 * copies in a second transaction on the same connection, one log line
 * per copy. Returns the combined outcome (outcome_worse); when it is a
 * failure, *status_r and *reason_r (allocated) are the RFC 3463 status
 * and the store's reply behind it, for the status line.
 */
enum outcome store_send(struct store *st, char **status_r, char **reason_r);

/*
 * Would the store take mail for user's folder (NULL: the INBOX; a board:
 * POSTUSER and the board)? An LMTP RCPT probe in
 * a transaction that is then reset, with the settings' SASL; for a
 * long-lived caller (lda-verify): the connection is kept for the next
 * probe. Returns 0 with *r (the store's reply; lmtp_reply_free it), or
 * -1 with *err when no store could be asked.
 */
int store_probe(struct store *st, const char *user, const char *folder,
    struct lmtp_reply *r, char **err);

/*
 * lda -z's parent: send the store copies its children handed over
 * (relay.c) - users[i]'s copy of sp from sender to RCPT address addrs[i]
 * - in one transaction per back end (STORE_ROUTES looked up here), one
 * RCPT per distinct address, on the connection kept for the session.
 * replies[i] answers copy i: the store's reply, or code 0 with the
 * status and text of why none came (allocated: lmtp_reply_free).
 */
void store_relay_send(struct store *st, const struct spool *sp,
    const char *sender, const char *const *users, const char *const *addrs,
    size_t n, struct lmtp_reply *replies);

/*
 * lda -z's RCPT check, as store_probe but with the client's sender (and
 * its SIZE= when size >= 0): the RCPT opens, or adds to, a transaction
 * on user's back end that stays open, so that store_relay_send sends the
 * message in it when the copies are those RCPTs (the store checks each
 * recipient once); else it is reset first. Returns 0 with *r, or -1
 * with *err as store_probe. store_txn_end resets what is still open when
 * the client's transaction ends.
 */
int store_check(struct store *st, const char *user, const char *sender,
    off_t size, struct lmtp_reply *r, char **err);
void store_txn_end(struct store *st);
/* Close the connections now (QUIT), to be opened again when needed. */
void store_release(struct store *st);

/* The settings that decide where and how copies go, as one string
   (allocated): two stores with equal keys send alike. */
char *store_settings_key(const struct store_settings *set);

/* Close the connection, free everything; *stp = NULL. */
void store_free(struct store **stp);

#endif

/*
 * lmtp.h - an RFC 2033 LMTP client, an explicit state machine.
 * Does: connect (unix socket or TCP, with a timeout), greeting, LHLO and
 * its capabilities, STARTTLS through tls.c (then LHLO again), AUTH
 * through sasl.c, one transaction at a time (MAIL,
 * one RCPT per recipient, DATA streamed from a source with dot-stuffing,
 * one reply per accepted recipient), QUIT. Every reply and every write
 * has a deadline; reply lines and replies are bounded.
 * Does not: know users or folders, repair messages, decide outcomes, log.
 * Errors: returns -1 and sets *err (allocated); replies come back as data.
 */
#ifndef LDA_LMTP_H
#define LDA_LMTP_H

#include <stddef.h>
#include <sys/types.h>

#define LMTP_LINE_MAX	2048	/* bytes of one reply line, CRLF included */
#define LMTP_REPLY_LINES 64	/* lines of one multi-line reply */

/* Capabilities from the LHLO reply. */
enum {
	LMTP_CAP_PIPELINING = 1 << 0,
	LMTP_CAP_ENHANCED = 1 << 1,	/* ENHANCEDSTATUSCODES */
	LMTP_CAP_8BITMIME = 1 << 2,
	LMTP_CAP_SIZE = 1 << 3,
	LMTP_CAP_AUTH = 1 << 4,
	LMTP_CAP_STARTTLS = 1 << 5,
};

/* Where the protocol is; named in error messages ("timeout in RCPT"). */
enum lmtp_phase {
	LMTP_CONNECT, LMTP_GREETING, LMTP_LHLO, LMTP_AUTH, LMTP_MAIL,
	LMTP_RCPT, LMTP_DATA, LMTP_BODY, LMTP_DOT, LMTP_RSET, LMTP_QUIT,
	LMTP_STARTTLS, LMTP_TLS,
};

/* One reply. code 0: none came (link lost, timeout, garbled). */
struct lmtp_reply {
	int code;		/* 250, 452, ... */
	char status[16];	/* enhanced status code "5.1.1", or "" */
	char *text;		/* the whole reply, lines joined by " / ",
				   control bytes shown as '?' (allocated) */
};

/* A store to connect to: a unix socket, or a TCP host and port. */
struct lmtp_target {
	const char *name;	/* as written in STORE, for messages */
	const char *path;	/* unix socket path, or NULL for TCP */
	const char *host;	/* TCP: name, IPv4 or IPv6 address */
	const char *port;	/* TCP: port number or service */
};

struct sasl_creds;

/* Credentials and policy for AUTH. */
struct lmtp_auth {
	const struct sasl_creds *creds;	/* see sasl.h */
	const char *mechs;	/* mechanisms to try, best first */
	int plaintext_ok;	/* PLAIN/LOGIN allowed to a non-loopback peer */
};

/* When to use TLS on a TCP store (never on a unix socket). */
enum lmtp_tls_mode {
	LMTP_TLS_OFF,		/* never */
	LMTP_TLS_MAY,		/* when the store offers STARTTLS */
	LMTP_TLS_REQUIRE,	/* always: a store without STARTTLS fails */
};

struct lmtp_tls {
	enum lmtp_tls_mode mode;
	const char *cafile;	/* PEM CA certificates; NULL: the system's */
};

/* The message source: fills p with up to n bytes of the message with
   CRLF line ends (repair.c's output); 0 at the end, -1 with *err. */
struct lmtp_source {
	ssize_t (*read)(void *ctx, char *p, size_t n, char **err);
	void *ctx;
};

/* One transaction. replies[i] answers rcpts[i]: the RCPT refusal, or the
   recipient's own reply after the final dot; the MAIL or DATA refusal
   when the whole transaction was refused; code 0 when none came. */
struct lmtp_txn {
	const char *sender;		/* envelope sender, "" for <> */
	off_t size;			/* for SIZE= and the store's limit */
	const char *const *rcpts;	/* RCPT addresses, without <> */
	size_t nrcpts;
	struct lmtp_source src;
	struct lmtp_reply *replies;	/* nrcpts of them, filled in */
	size_t given;		/* rcpts[0..given) are already RCPTs of the
				   transaction lmtp_begin opened, their
				   replies in replies[0..given): MAIL and
				   those RCPTs are not sent again */
	int probe;		/* a dry run (--test): MAIL and RCPT, then
				   RSET, no DATA; the RCPT replies are the
				   answers, nothing is delivered */
};

struct lmtp_conn;

/* A connection begun ahead of need, for lmtp_open to finish. */
struct lmtp_pre {
	int fd;		/* -1: none */
	char *name;	/* the target's name (allocated) */
	int local;	/* unix socket or loopback peer */
};

/*
 * Begin connecting to t without waiting: a unix socket, or a TCP address
 * given as numbers (no name lookup). So the store accepts and greets
 * while lda reads its rc. Returns 0 with *pre, or -1 with pre->fd == -1
 * (nothing kept: lmtp_open then connects as usual and says why not).
 */
int lmtp_preconnect(const struct lmtp_target *t, struct lmtp_pre *pre);
/* Close pre's connection if nobody took it; free its name. */
void lmtp_pre_close(struct lmtp_pre *pre);

/*
 * Connect to t (within connect_timeout seconds) - or take pre's
 * connection when it is t's (pre may be NULL; a taken connection the
 * store closed before LHLO was answered, without refusing in its
 * greeting, is dropped and t connected anew) - read
 * the greeting, send LHLO and record the capabilities; timeout (seconds)
 * is then the limit for every reply and every write. Returns 0 and
 * *lc_r, or -1 with *err (connection refused, timeout, a greeting or
 * LHLO reply other than 2xx, quoted).
 */
int lmtp_open(const struct lmtp_target *t, struct lmtp_pre *pre,
    int connect_timeout, int timeout, struct lmtp_conn **lc_r, char **err);

/* The capabilities (LMTP_CAP_*), the SIZE limit (0: none given), the
   mechanisms offered with AUTH (NULL: none). */
unsigned lmtp_caps(const struct lmtp_conn *lc);
unsigned long long lmtp_size_max(const struct lmtp_conn *lc);
const char *lmtp_auth_mechs(const struct lmtp_conn *lc);
/* 1 when the peer is a unix socket or a loopback address. */
int lmtp_is_local(const struct lmtp_conn *lc);

/*
 * STARTTLS (RFC 3207) on a TCP store as p says: when the store offers it
 * (MAY) or must (REQUIRE); nothing on a unix socket or with OFF. The
 * store's certificate is verified against p->cafile and the target's
 * host; the handshake has the reply timeout; then LHLO again, and the
 * capabilities are the ones offered over TLS. Once STARTTLS is sent
 * there is no way back to plaintext: any failure ends the connection.
 * Returns 0 (TLS on, or not asked for), or -1 with *err and status_r
 * (an RFC 3463 code, or "" when the failure has none of its own):
 * 4.7.4 STARTTLS required but not offered, 4.7.5 the handshake failed
 * or the certificate is not trusted or not for the host, 4.3.5 libssl or
 * the CA file cannot be loaded, the store's own code when it refuses
 * STARTTLS. Close lc after a failure.
 */
int lmtp_starttls(struct lmtp_conn *lc, const struct lmtp_tls *p,
    char status_r[16], char **err);
/* "TLSv1.3 <cipher>" when lc runs over TLS, else NULL. */
const char *lmtp_tls_info(const struct lmtp_conn *lc);

/*
 * Authenticate with the first mechanism of a->mechs that the store
 * offers and libsasl2 supports (plaintext ones only when the peer is
 * local, the connection runs over TLS, or a->plaintext_ok). Returns 0, or -1 with *err (no usable
 * mechanism, or the store's refusal quoted). *mech_r (may be NULL) gets
 * the mechanism tried (allocated) once one was chosen.
 */
int lmtp_authenticate(struct lmtp_conn *lc, const struct lmtp_auth *a,
    char **mech_r, char **err);

/*
 * Run one transaction (see struct lmtp_txn). Returns 0 when every
 * recipient got its answer, -1 with *err when the link failed on the
 * way (lost, timeout, garbled reply): replies already read stay valid
 * (a 250 read before the loss is a delivery), the others have code 0.
 * A message larger than the store's SIZE is not sent: every recipient
 * gets a "552 5.3.4" reply made here.
 */
int lmtp_send(struct lmtp_conn *lc, struct lmtp_txn *t, char **err);

/*
 * Ask whether the store would take rcpt: MAIL FROM:<>, RCPT, then RSET
 * (no message). Returns 0 with *r (the RCPT reply, or MAIL's refusal;
 * free with lmtp_reply_free), or -1 with *err (the link failed).
 */
int lmtp_probe(struct lmtp_conn *lc, const char *rcpt, struct lmtp_reply *r,
    char **err);

/*
 * lda -z: open a transaction ahead of its message, so that the RCPT check
 * at the client's RCPT is the RCPT of the transaction that will carry
 * the message (the store checks each recipient once). MAIL (SIZE= when
 * size >= 0) and RCPT in one write. Returns 0 with *r (RCPT's reply, or
 * MAIL's refusal: then no transaction is open), 1 when the store does
 * not pipeline (nothing sent: ask with lmtp_probe), -1 with *err (and no
 * reply in *r) when the link failed or fell out of step. lmtp_rcpt adds
 * a recipient to the open transaction; lmtp_send with t->given carries
 * on with it; lmtp_reset ends it (RSET).
 */
int lmtp_begin(struct lmtp_conn *lc, const char *sender, off_t size,
    const char *rcpt, struct lmtp_reply *r, char **err);
int lmtp_rcpt(struct lmtp_conn *lc, const char *rcpt, struct lmtp_reply *r,
    char **err);
int lmtp_in_txn(const struct lmtp_conn *lc);
/* Seconds since lmtp_begin opened the transaction, or -1 when none. */
long lmtp_txn_age(const struct lmtp_conn *lc);
void lmtp_reset(struct lmtp_conn *lc);

/* 1 when the connection can carry another transaction. */
int lmtp_usable(const struct lmtp_conn *lc);

/* Free the text of r (the struct itself is the caller's). */
void lmtp_reply_free(struct lmtp_reply *r);

/* QUIT (when the link is still in step), close, free; *lcp = NULL. */
void lmtp_close(struct lmtp_conn **lcp);
/* Close and free without a word to the store (a connection whose state
   we cannot vouch for); *lcp = NULL. */
void lmtp_drop(struct lmtp_conn **lcp);
/* 1 when the store closed lc, or said it will (421), since its last
   use: a connection kept between transactions is then opened anew. */
int lmtp_closed(const struct lmtp_conn *lc);

#endif

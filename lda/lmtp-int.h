/*
 * lmtp-int.h - what lmtp.c (the protocol) and lmtp-io.c (the link: connect
 * with deadlines, bounded reads of replies, buffered writes) share and
 * nobody else sees: the connection and the link's functions.
 * Does: declare. Does not: implement.
 */
#ifndef LDA_LMTP_INT_H
#define LDA_LMTP_INT_H

#include <sys/socket.h>
#include <sys/un.h>

#include "buf.h"
#include "lmtp.h"

struct tls_conn;

/* One connection to a store. */
struct lmtp_conn {
	int fd;
	char *name;		/* the target as written, for messages */
	char *host;		/* the store's host name, for SASL */
	int local;		/* unix socket or loopback peer */
	int unix_sock;		/* a unix socket: no TLS */
	struct tls_conn *tls;	/* after STARTTLS: every byte goes through */
	unsigned caps;
	unsigned long long size_max;
	char *auth_mechs;
	int timeout;		/* seconds per reply and per write */
	enum lmtp_phase phase;
	int broken;		/* out of step: no further transaction */
	int in_txn;		/* MAIL accepted, no DATA yet (lmtp_begin) */
	long long txn_since;	/* when lmtp_begin opened it (now_ms) */
	int dropped;		/* the store closed or reset the link */
	char in[4096];		/* bytes read, not yet used */
	size_t in_off, in_len;
	struct buf out;		/* commands and data not yet written */
	int bol;		/* DATA: at the beginning of a line */
};

/* the phases by name, for messages ("in RCPT") */
extern const char *const lmtp_phase_names[];

/* the link (lmtp-io.c); each returns as its comment there says */
long long now_ms(void);
int wait_fd(int fd, short ev, long long deadline);
int connect_start(int family, const struct sockaddr *sa, socklen_t len);
int connect_end(int fd, long long deadline);
void nodelay(int fd);
int unix_addr(const char *path, struct sockaddr_un *sun);
int connect_unix(struct lmtp_conn *lc, const char *path, long long deadline,
    char **err);
int is_loopback(const struct sockaddr *sa);
int connect_inet(struct lmtp_conn *lc, const char *host, const char *port,
    long long deadline, char **err);
int read_reply(struct lmtp_conn *lc, struct lmtp_reply *r, struct buf *lines,
    char **err);
int write_out(struct lmtp_conn *lc, char **err);
void command(struct lmtp_conn *lc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int exchange(struct lmtp_conn *lc, enum lmtp_phase ph, struct lmtp_reply *r,
    struct buf *lines, char **err);

#endif

/*
 * lmtpd.h - lda -z: an RFC 2033 LMTP server on a pair of descriptors,
 * for as many transactions as the client sends.
 * Does: the protocol - LHLO (PIPELINING, ENHANCEDSTATUSCODES, 8BITMIME,
 * SIZE), MAIL, RCPT, DATA, RSET, NOOP, QUIT - as an explicit state
 * machine over bounded reads; the DATA decoded (dot-stuffing, CRLF or
 * bare LF) into one spool per transaction; the limits (command line
 * length, SIZE, recipients per transaction, a deadline per transaction
 * and per command); one reply per accepted recipient after the dot.
 * Does not: decide who exists or deliver (the caller's check and deliver,
 * rcptrun.c), read rc settings.
 */
#ifndef LDA_LMTPD_H
#define LDA_LMTPD_H

#include <stddef.h>

struct spool;

#define LMTPD_LINE_MAX 2048	/* bytes of a command line, CRLF included */
#define LMTPD_RCPTS_MAX 1000	/* recipients of one transaction */
#define LMTPD_SIZE_DEFAULT (100ull * 1024 * 1024)	/* LMTP_SIZE unset */
#define LMTPD_IDLE_TIMEOUT 300	/* seconds the client may take per command */
#define LMTPD_TXN_TIMEOUT 900	/* seconds from MAIL to the final dot */
#define LMTPD_ERRORS_MAX 20	/* bad commands in a row before 421 */

/* One reply: code 250, 451, 550 ...; status "2.1.5"; text one line. */
struct lmtpd_reply {
	int code;
	char status[16];
	char text[512];
};

struct lmtpd_ops {
	/* RCPT time: may rcpt (the address, without <>) have mail? */
	void (*check)(void *ctx, const char *rcpt, struct lmtpd_reply *r);
	/* After the dot: deliver sp from sender ("" for <>) to rcpt. */
	void (*deliver)(void *ctx, struct spool *sp, const char *sender,
	    const char *rcpt, struct lmtpd_reply *r);
	void *ctx;
	const char *tmpdir;		/* for the spool (NULL: /tmp) */
	unsigned long long size_max;	/* SIZE; 0: LMTPD_SIZE_DEFAULT */
	const char *name;		/* our name in the greeting */
};

/*
 * Serve the client on in (reads) and out (writes) until QUIT, the end of
 * its input, a timeout or a write error. Each transaction's message is
 * spooled once and handed to ops->deliver once per accepted recipient;
 * a client gone before the final dot has nothing delivered. Logs what
 * ends a session abnormally. Returns 0 after QUIT, -1 otherwise.
 */
int lmtpd_serve(int in, int out, const struct lmtpd_ops *ops);

/* Set r to code, status and printf text (control bytes made blanks). */
void lmtpd_reply_set(struct lmtpd_reply *r, int code, const char *status,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* A session that is not served (a configuration error, found before it
   or while setting it up): "421 status text" on fd as the greeting, one
   line, control bytes made blanks. The caller logs the complaint. */
void lmtpd_refuse(int fd, const char *status, const char *text);

/* Standard error made /dev/null when it is the client's socket too (as
   postfix spawn and inetd connect it, client is then stdout): whatever
   is printed or logged there must not reach the client as a reply. */
void lmtpd_quiet_stderr(int client);

#endif

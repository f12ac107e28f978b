/*
 * tls.h - the client side of TLS on a connected socket, through OpenSSL's
 * libssl loaded on first use (dl.h): a plain local delivery never maps it.
 * Does: load libssl once, one client context per CA file (the system's
 * CAs when none is named), one session per socket: SNI, the peer's
 * certificate verified against the CAs and the name the store was given
 * by (a DNS name, or an IP address checked as one), TLS 1.2 at least;
 * non-blocking handshake, read, write and peek that say which way they
 * wait; close_notify on close.
 * Does not: wait (poll, deadlines: lmtp.c), know LMTP, log, fall back to
 * plaintext, offer client certificates or session resumption.
 * Errors: returns -1 and sets *err (allocated); never logs, never exits.
 */
#ifndef LDA_TLS_H
#define LDA_TLS_H

#include <stddef.h>
#include <sys/types.h>

struct tls_conn;

/*
 * A client session on fd (connected, non-blocking; not taken over: the
 * caller closes it) for host (checked against the certificate, and sent
 * as SNI unless it is an address), trusting the PEM CA file cafile (NULL:
 * the system's CAs). Returns 0 with *tc_r, or -1 with *err (libssl
 * missing, cafile unreadable or without a certificate).
 */
int tls_client_new(int fd, const char *host, const char *cafile,
    struct tls_conn **tc_r, char **err);

/*
 * Take the handshake one step further. Returns 1 when it is done (the
 * certificate and name verified), 0 when it must wait for *ev_r (POLLIN
 * or POLLOUT) on fd, -1 with *err (the store's certificate not trusted,
 * not for host, or the handshake failed; *err says which and why).
 */
int tls_handshake(struct tls_conn *tc, short *ev_r, char **err);

/*
 * Read up to n bytes (n > 0). Returns the bytes read; 0 when the store
 * closed the session (close_notify, or the link without one); -1 with
 * errno EAGAIN and *ev_r when it must wait; -1 with *err on a failure.
 */
ssize_t tls_read(struct tls_conn *tc, void *p, size_t n, short *ev_r,
    char **err);

/* Write up to n bytes (n > 0). Returns the bytes written, or -1 as
   tls_read (errno EAGAIN and *ev_r; or *err). */
ssize_t tls_write(struct tls_conn *tc, const void *p, size_t n, short *ev_r,
    char **err);

/* 1 when decrypted bytes wait to be read (without waiting for any), 0
   when none (nothing came, or the session ended: the next read says). */
int tls_pending(struct tls_conn *tc);

/* "TLSv1.3 TLS_AES_256_GCM_SHA384": the protocol and cipher, for logs. */
const char *tls_describe(const struct tls_conn *tc);

/* Send close_notify if it goes out at once (no wait), free; *tcp = NULL.
   The socket stays open. */
void tls_close(struct tls_conn **tcp);

#endif

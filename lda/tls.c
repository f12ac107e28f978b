/*
 * tls.c - the client side of TLS through libssl, loaded on first use.
 * Does: dlopen libssl (dl.h) the first time a store asks for STARTTLS,
 * keep one client context (CAs, TLS 1.2 or later, peer verification)
 * for the CA file in use, and run sessions on non-blocking sockets with
 * SNI and the peer's name checked (OpenSSL's own check: subjectAltName,
 * no partial wildcards). libssl writes with write(2), which raises
 * SIGPIPE on a link the store reset; every call that may write runs with
 * SIGPIPE blocked and a SIGPIPE of its own making is taken back.
 * Does not: wait, log, know LMTP, resume sessions, send client
 * certificates.
 * Errors: returns -1 and sets *err; never logs, never exits.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "buf.h"
#include "dl.h"
#include "tls.h"
#include "xalloc.h"

#ifndef SSL_SONAME
#define SSL_SONAME "libssl.so.3"
#endif

struct tls_conn {
	SSL *ssl;
	char *host;		/* the name checked, for messages */
	char desc[96];		/* protocol and cipher, once connected */
};

/* libssl's (and, through it, libcrypto's) functions, once loaded */
static struct {
	__typeof__(TLS_client_method) *client_method;
	__typeof__(SSL_CTX_new) *ctx_new;
	__typeof__(SSL_CTX_free) *ctx_free;
	__typeof__(SSL_CTX_ctrl) *ctx_ctrl;
	__typeof__(SSL_CTX_set_verify) *ctx_set_verify;
	__typeof__(SSL_CTX_load_verify_locations) *ctx_load_verify;
	__typeof__(SSL_CTX_set_default_verify_paths) *ctx_default_paths;
	__typeof__(SSL_new) *ssl_new;
	__typeof__(SSL_free) *ssl_free;
	__typeof__(SSL_set_fd) *set_fd;
	__typeof__(SSL_ctrl) *ctrl;
	__typeof__(SSL_set1_host) *set1_host;
	__typeof__(SSL_set_hostflags) *set_hostflags;
	__typeof__(SSL_get0_param) *get0_param;
	__typeof__(X509_VERIFY_PARAM_set1_ip_asc) *param_set1_ip_asc;
	__typeof__(SSL_connect) *connect;
	__typeof__(SSL_read) *read;
	__typeof__(SSL_write) *write;
	__typeof__(SSL_peek) *peek;
	__typeof__(SSL_shutdown) *shutdown;
	__typeof__(SSL_get_error) *get_error;
	__typeof__(SSL_get_verify_result) *get_verify_result;
	__typeof__(SSL_get_version) *get_version;
	__typeof__(SSL_get_current_cipher) *get_current_cipher;
	__typeof__(SSL_CIPHER_get_name) *cipher_name;
	__typeof__(X509_verify_cert_error_string) *verify_error_string;
	__typeof__(ERR_get_error) *err_get;
	__typeof__(ERR_reason_error_string) *err_reason;
	__typeof__(ERR_clear_error) *err_clear;
} L;
static int loaded;

/* The client context, for the CA file it was made with. */
static SSL_CTX *ctx;
static char *ctx_cafile;	/* NULL: the system's CAs */

/* tls_load - libssl into the process */
static int
tls_load(char **err)
{
	const struct dl_sym syms[] = {
		DL_SYM("TLS_client_method", L.client_method),
		DL_SYM("SSL_CTX_new", L.ctx_new),
		DL_SYM("SSL_CTX_free", L.ctx_free),
		DL_SYM("SSL_CTX_ctrl", L.ctx_ctrl),
		DL_SYM("SSL_CTX_set_verify", L.ctx_set_verify),
		DL_SYM("SSL_CTX_load_verify_locations", L.ctx_load_verify),
		DL_SYM("SSL_CTX_set_default_verify_paths",
		    L.ctx_default_paths),
		DL_SYM("SSL_new", L.ssl_new),
		DL_SYM("SSL_free", L.ssl_free),
		DL_SYM("SSL_set_fd", L.set_fd),
		DL_SYM("SSL_ctrl", L.ctrl),
		DL_SYM("SSL_set1_host", L.set1_host),
		DL_SYM("SSL_set_hostflags", L.set_hostflags),
		DL_SYM("SSL_get0_param", L.get0_param),
		DL_SYM("X509_VERIFY_PARAM_set1_ip_asc", L.param_set1_ip_asc),
		DL_SYM("SSL_connect", L.connect),
		DL_SYM("SSL_read", L.read),
		DL_SYM("SSL_write", L.write),
		DL_SYM("SSL_peek", L.peek),
		DL_SYM("SSL_shutdown", L.shutdown),
		DL_SYM("SSL_get_error", L.get_error),
		DL_SYM("SSL_get_verify_result", L.get_verify_result),
		DL_SYM("SSL_get_version", L.get_version),
		DL_SYM("SSL_get_current_cipher", L.get_current_cipher),
		DL_SYM("SSL_CIPHER_get_name", L.cipher_name),
		DL_SYM("X509_verify_cert_error_string", L.verify_error_string),
		DL_SYM("ERR_get_error", L.err_get),
		DL_SYM("ERR_reason_error_string", L.err_reason),
		DL_SYM("ERR_clear_error", L.err_clear),
	};

	if (dl_load(SSL_SONAME, syms, sizeof syms / sizeof syms[0], err) == -1)
		return -1;
	loaded = 1;
	return 0;
}

/* ssl_reason - the reason of libssl's first queued error, the queue
   emptied; "no detail" when there is none */
static const char *
ssl_reason(void)
{
	unsigned long e = L.err_get(), more;
	const char *r = e ? L.err_reason(e) : NULL;

	while ((more = L.err_get()) != 0)
		(void)more;
	return r ? r : "no detail";
}

/* same_file - two CA file settings are the same (NULL: none) */
static int
same_file(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* get_ctx - the client context for cafile, made once */
static SSL_CTX *
get_ctx(const char *cafile, char **err)
{
	SSL_CTX *c;

	if (ctx && same_file(ctx_cafile, cafile))
		return ctx;
	L.err_clear();
	if ((c = L.ctx_new(L.client_method())) == NULL) {
		xerr(err, "TLS: cannot make a context: %s", ssl_reason());
		return NULL;
	}
	L.ctx_ctrl(c, SSL_CTRL_SET_MIN_PROTO_VERSION, TLS1_2_VERSION, NULL);
	L.ctx_set_verify(c, SSL_VERIFY_PEER, NULL);
	if (cafile ? L.ctx_load_verify(c, cafile, NULL) != 1 :
	    L.ctx_default_paths(c) != 1) {
		xerr(err, "TLS: cannot load the CAs of %s: %s", cafile ?
		    cafile : "the system", ssl_reason());
		L.ctx_free(c);
		return NULL;
	}
	if (ctx)
		L.ctx_free(ctx);
	free(ctx_cafile);
	ctx = c;
	ctx_cafile = cafile ? xstrdup(cafile) : NULL;
	return ctx;
}

/* is_address - host is an IPv4 or IPv6 address, not a name */
static int
is_address(const char *host)
{
	unsigned char a[16];

	return inet_pton(AF_INET, host, a) == 1 ||
	    inet_pton(AF_INET6, host, a) == 1;
}

/* tls_client_new - a session on fd for host */
int
tls_client_new(int fd, const char *host, const char *cafile,
    struct tls_conn **tc_r, char **err)
{
	struct tls_conn *tc;
	SSL_CTX *c;
	SSL *ssl;
	int ok;

	*err = NULL;
	if (!loaded && tls_load(err) == -1)
		return -1;
	if ((c = get_ctx(cafile, err)) == NULL)
		return -1;
	if ((ssl = L.ssl_new(c)) == NULL)
		return xerr(err, "TLS: cannot make a session: %s",
		    ssl_reason());
	L.ctrl(ssl, SSL_CTRL_MODE, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER, NULL);
	if (is_address(host))
		/* no SNI for an address (RFC 6066 3); its IP SAN is checked */
		ok = L.param_set1_ip_asc(L.get0_param(ssl), host) == 1;
	else {
		L.set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		ok = L.set1_host(ssl, host) == 1 &&
		    L.ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME,
		    TLSEXT_NAMETYPE_host_name, (void *)host) == 1;
	}
	if (!ok || L.set_fd(ssl, fd) != 1) {
		L.ssl_free(ssl);
		return xerr(err, "TLS: cannot set up a session for %s: %s",
		    host, ssl_reason());
	}
	tc = xcalloc(1, sizeof *tc);
	tc->ssl = ssl;
	tc->host = xstrdup(host);
	*tc_r = tc;
	return 0;
}

/* pipe_block - block SIGPIPE; *pending: one was pending before */
static void
pipe_block(sigset_t *old, int *pending)
{
	sigset_t set, p;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	sigprocmask(SIG_BLOCK, &set, old);
	*pending = sigpending(&p) == 0 && sigismember(&p, SIGPIPE);
}

/* pipe_restore - take back a SIGPIPE libssl raised, restore the mask */
static void
pipe_restore(const sigset_t *old, int pending)
{
	sigset_t set, p;
	struct timespec zero = { 0, 0 };

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	if (!pending && sigpending(&p) == 0 && sigismember(&p, SIGPIPE))
		while (sigtimedwait(&set, NULL, &zero) == -1 && errno == EINTR)
			;
	sigprocmask(SIG_SETMASK, old, NULL);
}

/* Which libssl call io runs. */
enum tls_op { OP_CONNECT, OP_READ, OP_WRITE, OP_PEEK };

/* io - one libssl call with SIGPIPE held; its result, *why its
   SSL_get_error() when it is not positive, errno kept */
static int
io(struct tls_conn *tc, enum tls_op op, void *p, size_t n, int *why)
{
	int len = n > 1 << 30 ? 1 << 30 : (int)n, r, pending, e;
	sigset_t old;

	L.err_clear();
	pipe_block(&old, &pending);
	errno = 0;
	switch (op) {
	case OP_CONNECT:
		r = L.connect(tc->ssl);
		break;
	case OP_READ:
		r = L.read(tc->ssl, p, len);
		break;
	case OP_WRITE:
		r = L.write(tc->ssl, p, len);
		break;
	default:
		r = L.peek(tc->ssl, p, len);
	}
	e = errno;
	*why = r > 0 ? SSL_ERROR_NONE : L.get_error(tc->ssl, r);
	pipe_restore(&old, pending);
	errno = e;
	return r;
}

/* wants - 1 with *ev_r when why is a wait; 0 otherwise */
static int
wants(int why, short *ev_r)
{
	if (why == SSL_ERROR_WANT_READ)
		*ev_r = POLLIN;
	else if (why == SSL_ERROR_WANT_WRITE)
		*ev_r = POLLOUT;
	else
		return 0;
	errno = EAGAIN;
	return 1;
}

/* failure - what went wrong in a call that gave why; allocated */
static char *
failure(int why)
{
	int e = errno;

	if (why == SSL_ERROR_ZERO_RETURN)
		return xstrdup("the store ended the TLS session");
	if (why == SSL_ERROR_SYSCALL && e != 0)
		return xstrdup(strerror(e));
	if (why == SSL_ERROR_SYSCALL)
		return xstrdup("connection closed by the store");
	return xstrdup(ssl_reason());
}

/* tls_fail - -1 with *err "TLS: what went wrong", errno set */
static int
tls_fail(int why, char **err)
{
	int saved = errno;
	char *e = failure(why);

	*err = xasprintf("TLS: %s", e);
	free(e);
	errno = why == SSL_ERROR_SYSCALL && saved != 0 && saved != EAGAIN ?
	    saved : EPROTO;
	return -1;
}

/* tls_handshake - one step of the handshake; the verdict on the peer */
int
tls_handshake(struct tls_conn *tc, short *ev_r, char **err)
{
	char *e;
	long v;
	int why;

	*err = NULL;
	if (io(tc, OP_CONNECT, NULL, 0, &why) == 1) {
		const SSL_CIPHER *ci = L.get_current_cipher(tc->ssl);
		snprintf(tc->desc, sizeof tc->desc, "%s %s",
		    L.get_version(tc->ssl), ci ? L.cipher_name(ci) : "?");
		return 1;
	}
	if (wants(why, ev_r))
		return 0;
	v = L.get_verify_result(tc->ssl);
	if (why == SSL_ERROR_SSL && (v == X509_V_ERR_HOSTNAME_MISMATCH ||
	    v == X509_V_ERR_IP_ADDRESS_MISMATCH)) {
		(void)ssl_reason();
		return xerr(err, "TLS: the store's certificate is not for "
		    "%s (host name check failed)", tc->host);
	}
	if (why == SSL_ERROR_SSL && v != X509_V_OK) {
		(void)ssl_reason();
		return xerr(err, "TLS: the store's certificate is not "
		    "trusted: %s (CAs: %s)", L.verify_error_string(v),
		    ctx_cafile ? ctx_cafile : "the system's");
	}
	e = failure(why);
	xerr(err, "TLS handshake failed: %s", e);
	free(e);
	return -1;
}

/* tls_read - decrypted bytes, or which way to wait */
ssize_t
tls_read(struct tls_conn *tc, void *p, size_t n, short *ev_r, char **err)
{
	int why, r = io(tc, OP_READ, p, n, &why);

	if (r > 0)
		return r;
	if (wants(why, ev_r))
		return -1;
	/* close_notify, or the link closed without it (a store that just
	   hangs up): either way the store is gone, as with a plain EOF */
	if (why == SSL_ERROR_ZERO_RETURN ||
	    (why == SSL_ERROR_SYSCALL && errno == 0))
		return 0;
	if (why == SSL_ERROR_SSL) {
		unsigned long e = L.err_get();
		(void)ssl_reason();
		if (ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
			return 0;
		*err = xasprintf("TLS: %s", e && L.err_reason(e) ?
		    L.err_reason(e) : "error");
		errno = EPROTO;
		return -1;
	}
	return tls_fail(why, err);
}

/* tls_write - encrypt and send, or which way to wait */
ssize_t
tls_write(struct tls_conn *tc, const void *p, size_t n, short *ev_r,
    char **err)
{
	int why, r = io(tc, OP_WRITE, (void *)p, n, &why);

	if (r > 0)
		return r;
	if (wants(why, ev_r))
		return -1;
	return tls_fail(why, err);
}

/* tls_pending - decrypted bytes waiting, without waiting for any */
int
tls_pending(struct tls_conn *tc)
{
	char c;
	int why;

	return io(tc, OP_PEEK, &c, 1, &why) > 0;
}

const char *
tls_describe(const struct tls_conn *tc)
{
	return tc->desc[0] ? tc->desc : "TLS";
}

/* tls_close - close_notify if it goes out at once, free */
void
tls_close(struct tls_conn **tcp)
{
	struct tls_conn *tc = *tcp;
	sigset_t old;
	int pending;

	if (tc == NULL)
		return;
	if (tc->desc[0]) {
		pipe_block(&old, &pending);
		(void)L.shutdown(tc->ssl);
		pipe_restore(&old, pending);
		L.err_clear();
	}
	L.ssl_free(tc->ssl);
	free(tc->host);
	free(tc);
	*tcp = NULL;
}

/*
 * sasl.c - SASL client authentication through libsasl2, and the
 * credentials file.
 * Does: check and read STORE_CREDENTIALS; load libsasl2 (dl.h) and
 * sasl_client_init on the first AUTH (so deliveries that never
 * authenticate never map it); one mechanism at a time in
 * our order (libsasl2's own choice would ignore it); base64 both ways.
 * Does not: send or receive anything, log, negotiate a security layer.
 * Errors: returns -1 and sets *err; never logs, never exits.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sasl/sasl.h>
#include <sasl/saslutil.h>

#include "dl.h"
#include "fdio.h"
#include "sasl.h"
#include "xalloc.h"

#define CREDS_MAX 4096		/* bytes of the credentials file read */
#define SASL_BUF_MAX 65536	/* bytes of one decoded challenge */

struct sasl_exchange {
	sasl_conn_t *conn;
	sasl_callback_t cb[6];
	const struct sasl_creds *c;
	sasl_secret_t *secret;
	char *want;		/* our copy of the wanted list; mech points in */
};

#ifndef SASL_SONAME
#define SASL_SONAME "libsasl2.so.2"
#endif

/* libsasl2's functions, once sasl_load has found them */
static struct {
	__typeof__(sasl_client_init) *client_init;
	__typeof__(sasl_client_new) *client_new;
	__typeof__(sasl_client_start) *client_start;
	__typeof__(sasl_client_step) *client_step;
	__typeof__(sasl_setprop) *setprop;
	__typeof__(sasl_dispose) *dispose;
	__typeof__(sasl_errdetail) *errdetail;
	__typeof__(sasl_errstring) *errstring;
	__typeof__(sasl_encode64) *encode64;
	__typeof__(sasl_decode64) *decode64;
} L;
static int sasl_ready;		/* loaded and sasl_client_init done */

/* sasl_fail - *err = what: detail; returns -1 */
static int
sasl_fail(char **err, const char *what, const char *detail)
{
	*err = xasprintf("%s: %s", what, detail);
	return -1;
}

/* sasl_creds_read - the credentials file, checked before it is read */
int
sasl_creds_read(const char *path, struct sasl_creds *c, char **err)
{
	char text[CREDS_MAX + 1], *nl, *colon, *last;
	struct stat st;
	ssize_t n;
	int fd;

	memset(c, 0, sizeof *c);
	/* O_NONBLOCK: a FIFO would wait for a writer forever; it is
	   refused below, as anything but a regular file is */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) ==
	    -1)
		return sasl_fail(err, path, strerror(errno));
	/*
	 * The password is an LMTP admin's: refuse a file anyone else could
	 * read or replace, before reading a byte of it (as ssh does with
	 * its keys).
	 */
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return sasl_fail(err, path, "not a regular file");
	}
	if (st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
		*err = xasprintf("%s: owned by uid %lu with mode %04o; it "
		    "must be owned by uid %lu (who lda runs as) with mode "
		    "0600", path, (unsigned long)st.st_uid,
		    (unsigned)(st.st_mode & 07777), (unsigned long)geteuid());
		close(fd);
		return -1;
	}
	n = fd_read_full(fd, text, CREDS_MAX);
	close(fd);
	if (n < 0)
		return sasl_fail(err, path, strerror(errno));
	text[n] = '\0';
	if ((nl = strpbrk(text, "\r\n")) != NULL)
		*nl = '\0';
	if ((colon = strchr(text, ':')) == NULL || colon == text) {
		explicit_bzero(text, sizeof text);
		return sasl_fail(err, path, "want one line authname:password"
		    "[:authzid]");
	}
	*colon++ = '\0';
	c->authname = xstrdup(text);
	/* authname:password:authzid - the last ':' ends the password */
	if ((last = strrchr(colon, ':')) != NULL) {
		*last++ = '\0';
		if (*last)
			c->authzid = xstrdup(last);
	}
	c->password = xstrdup(colon);
	explicit_bzero(text, sizeof text);
	return 0;
}

/* sasl_creds_free - wipe the password, free the strings */
void
sasl_creds_free(struct sasl_creds *c)
{
	if (c->password)
		explicit_bzero(c->password, strlen(c->password));
	free(c->authname);
	free(c->password);
	free(c->authzid);
	memset(c, 0, sizeof *c);
}

/* sasl_mech_plaintext - does mech send the password as it is? */
int
sasl_mech_plaintext(const char *mech)
{
	return strcasecmp(mech, "PLAIN") == 0 || strcasecmp(mech, "LOGIN") == 0;
}

/* cb_simple - the authentication and authorization names */
static int
cb_simple(void *ctx, int id, const char **result, unsigned *len)
{
	struct sasl_exchange *ex = ctx;

	if (id == SASL_CB_AUTHNAME)
		*result = ex->c->authname;
	else if (id == SASL_CB_USER)
		*result = ex->c->authzid ? ex->c->authzid : "";
	else
		return SASL_BADPARAM;
	if (len)
		*len = (unsigned)strlen(*result);
	return SASL_OK;
}

/* cb_pass - the password, as the sasl_secret_t libsasl2 wants */
static int
cb_pass(sasl_conn_t *conn, void *ctx, int id, sasl_secret_t **psecret)
{
	struct sasl_exchange *ex = ctx;
	size_t n;

	(void)conn;
	if (id != SASL_CB_PASS)
		return SASL_BADPARAM;
	if (ex->secret == NULL) {
		n = strlen(ex->c->password);
		ex->secret = xmalloc(sizeof *ex->secret + n);
		ex->secret->len = n;
		memcpy(ex->secret->data, ex->c->password, n + 1);
	}
	*psecret = ex->secret;
	return SASL_OK;
}

/* cb_realm - DIGEST-MD5's realm: the first the store offers */
static int
cb_realm(void *ctx, int id, const char **avail, const char **result)
{
	(void)ctx;
	if (id != SASL_CB_GETREALM)
		return SASL_BADPARAM;
	*result = avail && avail[0] ? avail[0] : "";
	return SASL_OK;
}

/* cb_log - libsasl2 would log to syslog behind our back: say nothing */
static int
cb_log(void *ctx, int level, const char *message)
{
	(void)ctx;
	(void)level;
	(void)message;
	return SASL_OK;
}

/* offered_has - is mech one of the space-separated words of offered? */
static int
offered_has(const char *offered, const char *mech)
{
	size_t n = strlen(mech);

	for (const char *p = offered; *p;) {
		size_t w;
		p += strspn(p, " \t");
		w = strcspn(p, " \t");
		if (w == n && strncasecmp(p, mech, n) == 0)
			return 1;
		p += w;
	}
	return 0;
}

/* sasl_load - libsasl2 into the process, and sasl_client_init */
static int
sasl_load(char **err)
{
	static const sasl_callback_t global[] = {
		{ SASL_CB_LOG, (int (*)(void))(void *)cb_log, NULL },
		{ SASL_CB_LIST_END, NULL, NULL },
	};
	const struct dl_sym syms[] = {
		DL_SYM("sasl_client_init", L.client_init),
		DL_SYM("sasl_client_new", L.client_new),
		DL_SYM("sasl_client_start", L.client_start),
		DL_SYM("sasl_client_step", L.client_step),
		DL_SYM("sasl_setprop", L.setprop),
		DL_SYM("sasl_dispose", L.dispose),
		DL_SYM("sasl_errdetail", L.errdetail),
		DL_SYM("sasl_errstring", L.errstring),
		DL_SYM("sasl_encode64", L.encode64),
		DL_SYM("sasl_decode64", L.decode64),
	};
	int r;

	if (dl_load(SASL_SONAME, syms, sizeof syms / sizeof syms[0], err) == -1)
		return -1;
	if ((r = L.client_init(global)) != SASL_OK)
		return sasl_fail(err, "sasl_client_init",
		    L.errstring(r, NULL, NULL));
	sasl_ready = 1;
	return 0;
}

/* encode64 - base64 of n bytes (n == 0 gives ""), allocated */
static char *
encode64(const char *p, unsigned n)
{
	unsigned cap = (n + 2) / 3 * 4 + 1, len;
	char *out = xmalloc(cap);

	if (L.encode64(p, n, out, cap, &len) != SASL_OK)
		out[0] = '\0';
	return out;
}

/* try_mech - start mech; 1 started, 0 libsasl2 cannot, -1 error */
static int
try_mech(struct sasl_exchange *ex, const char *host, const char *mech,
    char **resp_r, char **err)
{
	sasl_security_properties_t sp = { 0 };
	sasl_interact_t *interact = NULL;
	const char *out = NULL, *chosen = NULL;
	unsigned outlen = 0;
	int r;

	r = L.client_new("lmtp", host, NULL, NULL, ex->cb, 0, &ex->conn);
	if (r != SASL_OK)
		return sasl_fail(err, "sasl_client_new", L.errstring(r,
		    NULL, NULL));
	/* No security layer: lmtp.c does not wrap what it sends. */
	sp.max_ssf = 0;
	sp.maxbufsize = 0;
	sp.security_flags = SASL_SEC_NOANONYMOUS;
	L.setprop(ex->conn, SASL_SEC_PROPS, &sp);
	r = L.client_start(ex->conn, mech, &interact, &out, &outlen,
	    &chosen);
	if (r == SASL_NOMECH) {
		L.dispose(&ex->conn);
		return 0;
	}
	if (r != SASL_OK && r != SASL_CONTINUE) {
		*err = xasprintf("SASL %s: %s", mech, L.errdetail(ex->conn));
		return -1;
	}
	if (out == NULL)
		*resp_r = NULL;
	else if (outlen == 0)
		*resp_r = xstrdup("=");	/* RFC 4954: an empty initial response */
	else
		*resp_r = encode64(out, outlen);
	return 1;
}

/* sasl_begin - the first usable mechanism, best first */
int
sasl_begin(const struct sasl_creds *c, const char *host, const char *want,
    const char *offered, int plaintext_ok, struct sasl_exchange **ex_r,
    const char **mech_r, char **resp_r, char **err)
{
	struct sasl_exchange *ex;
	int r = 0, skipped_plain = 0;
	char *save = NULL, *mech;

	*err = NULL;
	if (!sasl_ready && sasl_load(err) == -1)
		return -1;
	ex = xcalloc(1, sizeof *ex);
	ex->c = c;
	ex->want = xstrdup(want);
	ex->cb[0] = (sasl_callback_t){ SASL_CB_AUTHNAME,
	    (int (*)(void))(void *)cb_simple, ex };
	ex->cb[1] = (sasl_callback_t){ SASL_CB_USER,
	    (int (*)(void))(void *)cb_simple, ex };
	ex->cb[2] = (sasl_callback_t){ SASL_CB_PASS,
	    (int (*)(void))(void *)cb_pass, ex };
	ex->cb[3] = (sasl_callback_t){ SASL_CB_GETREALM,
	    (int (*)(void))(void *)cb_realm, ex };
	ex->cb[4] = (sasl_callback_t){ SASL_CB_LOG,
	    (int (*)(void))(void *)cb_log, ex };
	ex->cb[5] = (sasl_callback_t){ SASL_CB_LIST_END, NULL, NULL };
	for (mech = strtok_r(ex->want, " \t,", &save); mech;
	    mech = strtok_r(NULL, " \t,", &save)) {
		if (!offered_has(offered, mech))
			continue;
		if (sasl_mech_plaintext(mech) && !plaintext_ok) {
			skipped_plain = 1;
			continue;
		}
		if ((r = try_mech(ex, host, mech, resp_r, err)) != 0)
			break;
	}
	if (r == 1) {
		*mech_r = mech;
		*ex_r = ex;
		return 0;
	}
	if (r == 0)
		*err = xasprintf("no usable SASL mechanism: the store offers "
		    "\"%s\", we try \"%s\"%s", offered, want, skipped_plain ?
		    " (plaintext ones only to a loopback address or over "
		    "TLS (STORE_TLS), unless STORE_PLAINTEXT=yes)" : "");
	sasl_end(&ex);
	return -1;
}

/* sasl_next - answer one base64 challenge */
int
sasl_next(struct sasl_exchange *ex, const char *chal, char **resp_r,
    char **err)
{
	size_t clen = strlen(chal);
	unsigned inlen = 0, outlen = 0;
	sasl_interact_t *interact = NULL;
	const char *out = NULL;
	char *in;
	int r;

	if (clen > SASL_BUF_MAX)
		return sasl_fail(err, "SASL", "challenge too long");
	in = xmalloc(clen / 4 * 3 + 4);
	r = L.decode64(chal, (unsigned)clen, in, (unsigned)(clen / 4 * 3 + 4),
	    &inlen);
	if (r != SASL_OK) {
		free(in);
		return sasl_fail(err, "SASL", "challenge is not base64");
	}
	r = L.client_step(ex->conn, in, inlen, &interact, &out, &outlen);
	free(in);
	if (r != SASL_OK && r != SASL_CONTINUE) {
		*err = xasprintf("SASL: %s", L.errdetail(ex->conn));
		return -1;
	}
	*resp_r = out ? encode64(out, outlen) : xstrdup("");
	return 0;
}

/* sasl_end - dispose of the exchange; the password copy is wiped */
void
sasl_end(struct sasl_exchange **exp)
{
	struct sasl_exchange *ex = *exp;

	if (ex == NULL)
		return;
	if (ex->conn)
		L.dispose(&ex->conn);
	if (ex->secret) {
		explicit_bzero(ex->secret->data, ex->secret->len);
		free(ex->secret);
	}
	free(ex->want);
	free(ex);
	*exp = NULL;
}

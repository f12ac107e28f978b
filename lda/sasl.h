/*
 * sasl.h - SASL client authentication through libsasl2, and the
 * credentials file (STORE_CREDENTIALS).
 * Does: read and check the credentials file; initialise libsasl2 on first
 * use only (a unix-socket store never needs it); pick one mechanism, best
 * first; turn base64 challenges into base64 responses.
 * Does not: talk to the network (lmtp.c sends AUTH and reads the 334s),
 * log, or offer a security layer (max_ssf 0: nothing is wrapped).
 * Errors: returns -1 and sets *err (allocated).
 */
#ifndef LDA_SASL_H
#define LDA_SASL_H

/* The default order of mechanisms: strongest first. */
#define SASL_MECHS_DEFAULT \
	"SCRAM-SHA-256 SCRAM-SHA-1 DIGEST-MD5 CRAM-MD5 PLAIN LOGIN"

struct sasl_creds {
	char *authname;
	char *password;
	char *authzid;		/* NULL: none (act as authname) */
};

/*
 * Read path: one line "authname:password", optionally ":authzid" after
 * it (a password holding ':' needs that third field, empty or not: the
 * last ':' ends the password). The file must be a regular file owned by
 * the running user with no permission bits for group or others;
 * otherwise it is refused unread. Returns 0, or -1 with *err.
 */
int sasl_creds_read(const char *path, struct sasl_creds *c, char **err);
/* Wipe the password and free c's strings. */
void sasl_creds_free(struct sasl_creds *c);

/* 1 when mech sends the password in the clear (PLAIN, LOGIN). */
int sasl_mech_plaintext(const char *mech);

struct sasl_exchange;

/*
 * Begin an exchange with the first mechanism of want (space-separated,
 * best first) that offered (the store's AUTH list) holds and libsasl2
 * can do; plaintext mechanisms only when plaintext_ok. host names the
 * store (the service is "lmtp"). Returns 0 with *ex_r, *mech_r (points
 * into want's copy, valid until sasl_end) and *resp_r: the initial
 * response in base64 ("=" for an empty one) or NULL when the mechanism
 * waits for a challenge. Returns -1 with *err when nothing fits.
 */
int sasl_begin(const struct sasl_creds *c, const char *host,
    const char *want, const char *offered, int plaintext_ok,
    struct sasl_exchange **ex_r, const char **mech_r, char **resp_r,
    char **err);
/* Answer the base64 challenge chal with *resp_r (base64, allocated).
   Returns 0, or -1 with *err. */
int sasl_next(struct sasl_exchange *ex, const char *chal, char **resp_r,
    char **err);
/* End the exchange; *exp = NULL. */
void sasl_end(struct sasl_exchange **exp);

#endif

/*
 * proto.h - the two request formats lda-verify answers, as pure parsing
 * and formatting over a connection's input buffer:
 *   socketmap (sendmail's socket map class, postfix's socketmap table):
 *     a netstring "LEN:MAPNAME KEY," answered by a netstring
 *     "OK value", "NOTFOUND ", "TEMP reason" or "PERM reason";
 *   policy (postfix's policy delegation, SMTPD_POLICY_README): lines
 *     "name=value" ended by an empty line, answered "action=...\n\n".
 * Does: find one complete request in bytes received, say how many bytes
 * it used, refuse garbage. Does not: decide anything, do I/O, log.
 */
#ifndef VERIFY_PROTO_H
#define VERIFY_PROTO_H

#include <stddef.h>

#define PROTO_REQUEST_MAX 10000	/* bytes of one request (sendmail's
				   socket map limit is 10000 too) */

enum proto { PROTO_SOCKETMAP, PROTO_POLICY };

/* One parsed request. */
struct proto_req {
	char map[128];		/* socketmap: the map name */
	char key[1024];		/* socketmap: the key; policy: recipient= */
	int rcpt_stage;		/* policy: protocol_state=RCPT (or none given);
				   socketmap: always 1 */
};

/*
 * Look for one complete request at the start of in (n bytes). Returns
 * the bytes it takes (> 0) with *req filled, 0 when more bytes are
 * needed, -1 with *why (static text) when the bytes cannot be a request
 * (the connection is then answered once and closed).
 */
long proto_parse(enum proto p, const char *in, size_t n,
    struct proto_req *req, const char **why);

/* The answers. verdict: 'O' deliverable, 'N' unknown, 'T' cannot tell
   now, 'P' a malformed request. text: the address (O) or the reason.
   Writes into out (size outsz, NUL-terminated); returns the length, or
   -1 when it does not fit. */
int proto_answer(enum proto p, int verdict, const char *text, char *out,
    size_t outsz);

#endif

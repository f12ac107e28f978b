/*
 * proto.c - socketmap netstrings and postfix policy requests (proto.h).
 * Does: parse one request from a buffer, format one answer.
 * Does not: I/O, decisions, logging.
 */
#include <stdio.h>
#include <string.h>

#include "proto.h"

/* copy_clean - n bytes of s into out (size outsz) with control bytes as
   '?'; 0, or -1 when they do not fit */
static int
copy_clean(char *out, size_t outsz, const char *s, size_t n)
{
	if (n >= outsz)
		return -1;
	for (size_t i = 0; i < n; i++)
		out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' :
		    s[i];
	out[n] = '\0';
	return 0;
}

/* socketmap - "LEN:MAPNAME KEY," */
static long
socketmap(const char *in, size_t n, struct proto_req *req, const char **why)
{
	size_t len = 0, i = 0;
	const char *body, *sp;

	while (i < n && in[i] >= '0' && in[i] <= '9') {
		if (i >= 5) {	/* more than 99999: no request is that long */
			*why = "netstring length too large";
			return -1;
		}
		len = len * 10 + (size_t)(in[i] - '0');
		i++;
	}
	if (i == n)
		return 0;
	if (i == 0 || in[i] != ':') {
		*why = "not a netstring";
		return -1;
	}
	if (len > PROTO_REQUEST_MAX) {
		*why = "request too long";
		return -1;
	}
	if (n < i + 1 + len + 1)
		return 0;
	body = in + i + 1;
	if (body[len] != ',') {
		*why = "netstring without its ','";
		return -1;
	}
	sp = memchr(body, ' ', len);
	if (sp == NULL || sp == body || (size_t)(sp - body) + 1 >= len) {
		*why = "request is not \"MAPNAME KEY\"";
		return -1;
	}
	if (memchr(body, '\0', len) != NULL) {
		*why = "NUL byte in the request";
		return -1;
	}
	if (copy_clean(req->map, sizeof req->map, body, (size_t)(sp - body))
	    == -1 || copy_clean(req->key, sizeof req->key, sp + 1,
	    len - (size_t)(sp - body) - 1) == -1) {
		*why = "map name or key too long";
		return -1;
	}
	req->rcpt_stage = 1;
	return (long)(i + 1 + len + 1);
}

/* policy - "name=value\n" lines up to an empty line */
static long
policy(const char *in, size_t n, struct proto_req *req, const char **why)
{
	size_t off = 0;

	req->key[0] = '\0';
	req->rcpt_stage = 1;
	for (;;) {
		const char *nl = memchr(in + off, '\n', n - off), *eq;
		size_t len;

		if (nl == NULL) {
			if (n > PROTO_REQUEST_MAX) {
				*why = "request too long";
				return -1;
			}
			return 0;
		}
		len = (size_t)(nl - (in + off));
		if (off + len + 1 > PROTO_REQUEST_MAX) {
			*why = "request too long";
			return -1;
		}
		if (len == 0)
			return (long)(off + 1);
		eq = memchr(in + off, '=', len);
		if (eq == NULL || eq == in + off) {
			*why = "a line that is not name=value";
			return -1;
		}
		if (memchr(in + off, '\0', len) != NULL) {
			*why = "NUL byte in the request";
			return -1;
		}
		{
			size_t nlen = (size_t)(eq - (in + off));
			const char *v = eq + 1;
			size_t vlen = len - nlen - 1;
			if (nlen == 9 && memcmp(in + off, "recipient", 9) == 0 &&
			    copy_clean(req->key, sizeof req->key, v, vlen) ==
			    -1) {
				*why = "recipient too long";
				return -1;
			}
			if (nlen == 14 && memcmp(in + off, "protocol_state",
			    14) == 0)
				req->rcpt_stage = vlen == 4 &&
				    memcmp(v, "RCPT", 4) == 0;
		}
		off += len + 1;
	}
}

long
proto_parse(enum proto p, const char *in, size_t n, struct proto_req *req,
    const char **why)
{
	memset(req, 0, sizeof *req);
	return p == PROTO_SOCKETMAP ? socketmap(in, n, req, why) :
	    policy(in, n, req, why);
}

int
proto_answer(enum proto p, int verdict, const char *text, char *out,
    size_t outsz)
{
	char body[1200], t[1024];
	int n;

	size_t tl;

	text = text ? text : "";
	tl = strlen(text);
	if (tl > sizeof t - 1)
		tl = sizeof t - 1;	/* a long reason is cut, not refused */
	copy_clean(t, sizeof t, text, tl);
	if (p == PROTO_SOCKETMAP) {
		const char *w = verdict == 'O' ? "OK" : verdict == 'N' ?
		    "NOTFOUND" : verdict == 'T' ? "TEMP" : "PERM";
		n = snprintf(body, sizeof body, "%s %s", w,
		    verdict == 'N' ? "" : t);
		if (n < 0 || (size_t)n >= sizeof body)
			return -1;
		n = snprintf(out, outsz, "%d:%s,", n, body);
	} else if (verdict == 'O')
		n = snprintf(out, outsz, "action=DUNNO\n\n");
	else if (verdict == 'N')
		n = snprintf(out, outsz, "action=550 5.1.1 %s\n\n", t);
	else
		n = snprintf(out, outsz, "action=450 4.3.0 %s\n\n", t);
	return n < 0 || (size_t)n >= outsz ? -1 : n;
}

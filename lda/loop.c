/*
 * loop.c - mail loops (loop.h): the Delivered-To: field lda adds to what
 * it forwards, and the check for one of ours on the way in.
 * Does: look through the spool's indexed Delivered-To: fields; compare
 * each value with the recipient, case folded, blanks, folding and <>
 * around it ignored; build the header line.
 * Does not: read the body, decide the outcome, log.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "loop.h"
#include "spool.h"
#include "xalloc.h"

/* value_is - is the field value v (n bytes, unfolded) the address rcpt? */
static int
value_is(const char *v, size_t n, const char *rcpt)
{
	size_t len = strlen(rcpt);

	while (n > 0 && (*v == ' ' || *v == '\t'))
		v++, n--;
	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	if (n >= 2 && v[0] == '<' && v[n - 1] == '>')
		v++, n -= 2;
	return n == len && strncasecmp(v, rcpt, n) == 0;
}

/*
 * loop_seen - a Delivered-To: field for rcpt in sp's header, below a
 * Received: field? Ours went out with a forward and came back through an
 * MTA, which put its Received: above it. The fields above every Received:
 * are the delivering MTA's own for this very delivery (postfix pipe's
 * flags=D writes "Delivered-To: ${recipient}" there): never a loop, or
 * every message of such a set-up would bounce.
 */
int
loop_seen(const struct spool *sp, const char *rcpt)
{
	struct buf v;
	int seen = 0;
	long rcvd = spool_field_find(sp, "Received", 0);

	if (rcpt == NULL || *rcpt == '\0' || rcvd < 0)
		return 0;
	buf_init(&v, LOOP_ADDRESS_MAX + 64);	/* longer: not ours */
	for (long i = spool_field_find(sp, "Delivered-To", (size_t)rcvd + 1);
	    !seen && i >= 0;
	    i = spool_field_find(sp, "Delivered-To", (size_t)i + 1)) {
		buf_reset(&v);
		if (spool_field_value(sp, (size_t)i, &v) == 0)
			seen = value_is(v.s, v.len, rcpt);
	}
	buf_free(&v);
	return seen;
}

/* loop_header - the line that marks a forwarded copy */
char *
loop_header(const char *rcpt)
{
	size_t n = rcpt ? strlen(rcpt) : 0;

	if (n == 0 || n > LOOP_ADDRESS_MAX)
		return NULL;
	for (const char *p = rcpt; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return NULL;
	return xasprintf("Delivered-To: %s\n", rcpt);
}

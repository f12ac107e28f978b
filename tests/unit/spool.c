/* spool.c - unit tests for lda/spool.c: From_ line, header index, body
   offsets, bounded header, CRLF, no separator, empty message. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "spool.h"
#include "tap.h"

/* spool_of - a spool made from a string through a pipe-less temp file */
static struct spool *
spool_of(const char *msg, size_t len, int keep_from)
{
	char path[] = "/tmp/lda-spool-test.XXXXXX";
	int fd = mkstemp(path);
	struct spool *sp = NULL;
	char *err = NULL;

	unlink(path);
	if (write(fd, msg, len) != (ssize_t)len)
		return NULL;
	lseek(fd, 0, SEEK_SET);
	if (spool_read(fd, NULL, keep_from, &sp, &err) == -1) {
		diag("spool_read: %s", err);
		free(err);
	}
	close(fd);
	return sp;
}

/* value - field name's unfolded value, or NULL */
static char *
value(const struct spool *sp, const char *name)
{
	long i = spool_field_find(sp, name, 0);
	struct buf b;

	if (i < 0)
		return NULL;
	buf_init(&b, 0);
	spool_field_value(sp, (size_t)i, &b);
	return buf_steal(&b);
}

static const struct {
	const char *name, *msg;
	int keep_from;
	long long size, body_off;
	size_t nfields;
	const char *from_sender, *subject;
} cases[] = {
	{ "plain", "Subject: hi\nTo: bob\n\nbody\n", 1, 26, 21, 2, NULL, "hi" },
	{ "From_ line removed", "From alice@example.org  Sat Nov 21 10:00:00 2026\n"
	  "Subject: x\n\nb\n", 1, 14, 12, 1, "alice@example.org", "x" },
	{ "From_ line kept when asked", "From a b\nSubject: x\n\nb\n", 0, 23, 21, 2,
	  NULL, "x" },
	{ "folded header", "Subject: a\n  b\n\tc\nX: y\n\n", 1, 24, 24, 2, NULL,
	  "a  b\tc" },
	{ "CRLF", "Subject: c\r\nX: y\r\n\r\nbody\r\n", 1, 26, 20, 2, NULL, "c" },
	{ "no separator", "Subject: only\nX: y\n", 1, 19, 19, 2, NULL, "only" },
	{ "empty", "", 1, 0, 0, 0, NULL, NULL },
	{ "body only", "\nbody\n", 1, 6, 1, 0, NULL, NULL },
	{ "colon-less line", "Subject: s\nnot a header\n\nb", 1, 26, 25, 2, NULL, "s" },
	{ "no trailing newline", "Subject: t", 1, 10, 10, 1, NULL, "t" },
};

int
main(void)
{
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct spool *sp = spool_of(cases[i].msg, strlen(cases[i].msg),
		    cases[i].keep_from);
		char *subj;
		if (!ok(sp != NULL, "%s: spooled", cases[i].name))
			continue;
		is_int(sp->size, cases[i].size, "%s: size", cases[i].name);
		is_int(sp->body_off, cases[i].body_off, "%s: body offset", cases[i].name);
		is_int(sp->nfields, cases[i].nfields, "%s: fields", cases[i].name);
		is(sp->from_sender, cases[i].from_sender, "%s: From_ sender", cases[i].name);
		subj = value(sp, "subject");
		is(subj, cases[i].subject, "%s: Subject", cases[i].name);
		free(subj);
		spool_free(&sp);
		ok(sp == NULL, "%s: spool_free clears the pointer", cases[i].name);
	}

	/* A header section over SPOOL_HEADER_MAX: indexed up to the cap, and
	   every byte is still in the spool. */
	{
		size_t n = SPOOL_HEADER_MAX + 100000, off = 0;
		char *big = malloc(n + 1), *back = malloc(n);
		while (off + 20 <= n) {
			memcpy(big + off, "X-Long: 0123456789\n", 19);
			off += 19;
		}
		memset(big + off, 'z', n - off);
		struct spool *sp = spool_of(big, n, 1);
		ok(sp && (size_t)sp->size == n, "huge header: all bytes spooled");
		ok(sp && sp->hdr_len <= SPOOL_HEADER_MAX, "huge header: index bounded");
		ok(sp && spool_pread(sp, back, n, 0) == (ssize_t)n &&
		    memcmp(back, big, n) == 0, "huge header: bytes intact");
		spool_free(&sp);
		free(big);
		free(back);
	}
	/* A NUL byte in the header and body is kept. */
	{
		static const char m[] = "Subject: a\0b\n\nx\0y\n";
		struct spool *sp = spool_of(m, sizeof m - 1, 1);
		char back[sizeof m];
		ok(sp && sp->size == (off_t)(sizeof m - 1) &&
		    spool_pread(sp, back, sizeof back, 0) == (ssize_t)(sizeof m - 1) &&
		    memcmp(back, m, sizeof m - 1) == 0, "NUL bytes kept");
		spool_free(&sp);
	}
	return done_testing();
}

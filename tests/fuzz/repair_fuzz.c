/*
 * repair_fuzz.c - fuzz lda/repair.c, the repairs every message gets on
 * its way into a store: message bytes come from anyone, so any input must
 * give, without a crash,
 *   - CRLF line ends only, the last line ended too: no bare CR, no bare
 *     LF, no NUL;
 *   - a header section Cyrus accepts: up to the first empty line, every
 *     line is a field ("name:", the name printable ASCII without ':',
 *     blanks allowed before the colon as RFC 5322's obsolete syntax has
 *     them) or a continuation of one;
 *   - the same output however the input is cut into pieces;
 *   - nothing more to repair the second time (idempotence).
 * Input: the first byte seeds the cut points, the rest is the message.
 * Standalone (random message pieces):
 *   cc -std=c11 -D_GNU_SOURCE -fsanitize=address,undefined -Ilda \
 *     tests/fuzz/repair_fuzz.c lda/{repair,buf,xalloc,log}.c -o repair_fuzz &&
 *     ./repair_fuzz [iterations] [seed]
 * libFuzzer: the same with clang, -fsanitize=fuzzer and -DLDA_LIBFUZZER.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "buf.h"
#include "repair.h"

/* run - repair p in pieces whose sizes come from seed (0: one piece) */
static void
run(const uint8_t *p, size_t n, unsigned seed, struct buf *out)
{
	struct repair r;
	size_t off = 0;

	repair_init(&r);
	while (off < n) {
		size_t k = seed ? 1 + (seed = seed * 1103515245u + 12345u) %
		    17 : n - off;
		if (k > n - off)
			k = n - off;
		if (repair_feed(&r, (const char *)p + off, k, out) == -1)
			fuzz_fail("repair_feed hit the buffer cap", p, n);
		off += k;
	}
	if (repair_end(&r, out) == -1)
		fuzz_fail("repair_end hit the buffer cap", p, n);
}

/* line_ok - a header line: a field or (after one) a continuation */
static int
line_ok(const char *s, size_t len, int fields)
{
	size_t i = 0;

	if (len > 0 && (s[0] == ' ' || s[0] == '\t'))
		return fields > 0;
	while (i < len && s[i] > ' ' && s[i] < 127 && s[i] != ':')
		i++;
	if (i == 0)
		return 0;
	while (i < len && (s[i] == ' ' || s[i] == '\t'))	/* obs-optional */
		i++;
	return i < len && s[i] == ':';
}

/* check - the output's promises */
static void
check(const struct buf *o, const uint8_t *in, size_t n)
{
	const char *s = o->s;
	size_t i, start = 0;
	int fields = 0, header = 1;

	for (i = 0; i < o->len; i++) {
		if (s[i] == '\0')
			fuzz_fail("NUL in the output", in, n);
		if (s[i] == '\r' && (i + 1 == o->len || s[i + 1] != '\n'))
			fuzz_fail("bare CR in the output", in, n);
		if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
			fuzz_fail("bare LF in the output", in, n);
		if (s[i] != '\n' || !header)
			continue;
		if (i - 1 == start)	/* the empty line */
			header = 0;
		else if (!line_ok(s + start, i - 1 - start, fields))
			fuzz_fail("a header line that is no field", in, n);
		else
			fields++;
		start = i + 1;
	}
	/* (nothing at all for nothing, or a lone mbox From_ line) */
	if (o->len > 0 && (o->len < 2 || s[o->len - 1] != '\n'))
		fuzz_fail("the output does not end in CRLF", in, n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf whole, cut, again;
	struct repair r;

	if (size < 1)
		return 0;
	buf_init(&whole, 0);
	buf_init(&cut, 0);
	buf_init(&again, 0);
	run(data + 1, size - 1, 0, &whole);
	check(&whole, data + 1, size - 1);
	run(data + 1, size - 1, data[0] | 1u, &cut);
	if (cut.len != whole.len || memcmp(cut.s, whole.s, whole.len) != 0)
		fuzz_fail("cut into pieces, the output differs", data, size);
	repair_init(&r);
	if (repair_feed(&r, whole.s, whole.len, &again) == -1 ||
	    repair_end(&r, &again) == -1)
		fuzz_fail("the second pass hit the buffer cap", data, size);
	for (int k = REPAIR_BARE_CR; k < REPAIR_NKINDS; k++)
		if (r.counts[k] != 0)
			fuzz_fail("the output needed repairs again", data, size);
	if (again.len != whole.len || memcmp(again.s, whole.s, whole.len) != 0)
		fuzz_fail("the second pass changed the output", data, size);
	buf_free(&whole);
	buf_free(&cut);
	buf_free(&again);
	return 0;
}

#ifndef LDA_LIBFUZZER
static const char *const pieces[] = { "From ", "From a@b  Sat Nov 21\n",
	"Subject: x", "X-A:", ":", "a", "Received: by", " ", "\t", "\r", "\n",
	"\r\n", "\r\r\n", "\0", "\n\n", "\r\n\r\n", "no colon here",
	"bad name: v", "\x80\xff", ".", "From: a <a@b>\n", "  folded\n" };

int
main(int argc, char **argv)
{
	return fuzz_main(argc, argv, pieces, sizeof pieces / sizeof pieces[0], 24,
	    1);
}
#endif

/* store_repair.c - unit tests for lda/repair.c: each repair a strict
   store needs, a well-formed message passed through, and the same output
   whatever the pieces the message arrives in. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "repair.h"
#include "tap.h"

#define S(x) x, sizeof x - 1

static const struct {
	const char *name;
	const char *in;
	size_t inlen;
	const char *want;
	size_t wantlen;
	enum repair_kind kind;	/* the repair counted (REPAIR_NKINDS: none) */
	unsigned also;		/* other kinds that may be counted, 1 << kind */
} cases[] = {
	{ "well-formed CRLF", S("A: 1\r\nB: 2\r\n\r\nbody\r\n"),
	  S("A: 1\r\nB: 2\r\n\r\nbody\r\n"), REPAIR_NKINDS },
	{ "bare LF", S("A: 1\n\nbody\nmore\n"),
	  S("A: 1\r\n\r\nbody\r\nmore\r\n"), REPAIR_BARE_LF },
	{ "no final newline", S("A: 1\n\nbody"), S("A: 1\r\n\r\nbody\r\n"),
	  REPAIR_NKINDS },
	{ "empty message", S(""), S(""), REPAIR_NKINDS },
	{ "NUL in the body", S("A: 1\n\nHel\0lo\n"), S("A: 1\r\n\r\nHello\r\n"),
	  REPAIR_NUL },
	{ "NUL in a header", S("A: x\0y\n\nb\n"), S("A: xy\r\n\r\nb\r\n"),
	  REPAIR_NUL },
	{ "bare CR in the body", S("A: 1\n\nHello.\rWorld\n"),
	  S("A: 1\r\n\r\nHello.\r\nWorld\r\n"), REPAIR_BARE_CR },
	{ "CRs before LF collapse", S("A: 1\r\r\n\r\nb\r\r\n"),
	  S("A: 1\r\n\r\nb\r\n"), REPAIR_BARE_CR },
	{ "CR-only line ends", S("A: 1\rB: 2\r\rbody\r"),
	  S("A: 1\r\nB: 2\r\n\r\nbody\r\n"), REPAIR_BARE_CR },
	{ "bare CR in a header splits it", S("A: 1\rtail\r\n\r\nb\r\n"),
	  S("A: 1\r\n\r\ntail\r\n\r\nb\r\n"), REPAIR_HEADER_END,
	  1u << REPAIR_BARE_CR },
	{ "header line without colon", S("A: 1\nnot a header\nB: 2\n\nb\n"),
	  S("A: 1\r\n\r\nnot a header\r\nB: 2\r\n\r\nb\r\n"), REPAIR_HEADER_END },
	{ "missing separator", S("A: 1\nHello Bob,\nbody\n"),
	  S("A: 1\r\n\r\nHello Bob,\r\nbody\r\n"), REPAIR_HEADER_END },
	{ "headers only, no separator", S("A: 1\nB: 2\n"), S("A: 1\r\nB: 2\r\n"),
	  REPAIR_NKINDS },
	{ "header cut off without newline", S("A: 1\nBroken"),
	  S("A: 1\r\n\r\nBroken\r\n"), REPAIR_HEADER_END },
	{ "blank before the colon is fine", S("A : 1\nB\t: 2\n\nb\n"),
	  S("A : 1\r\nB\t: 2\r\n\r\nb\r\n"), REPAIR_NKINDS },
	{ "blank inside the name is not", S("A: 1\nX Y: 2\n\nb\n"),
	  S("A: 1\r\n\r\nX Y: 2\r\n\r\nb\r\n"), REPAIR_HEADER_END },
	{ "empty name", S("A: 1\n: v\n\nb\n"), S("A: 1\r\n\r\n: v\r\n\r\nb\r\n"),
	  REPAIR_HEADER_END },
	{ "8-bit name", S("A: 1\nSubj\303\251ct: x\n\nb\n"),
	  S("A: 1\r\n\r\nSubj\303\251ct: x\r\n\r\nb\r\n"), REPAIR_HEADER_END },
	{ "8-bit value is kept", S("Subject: caf\303\251\n\nb\n"),
	  S("Subject: caf\303\251\r\n\r\nb\r\n"), REPAIR_NKINDS },
	{ "folded header", S("A: 1\n  more\n\tand more\nB: 2\n\nb\n"),
	  S("A: 1\r\n  more\r\n\tand more\r\nB: 2\r\n\r\nb\r\n"), REPAIR_NKINDS },
	{ "continuation line first", S(" folded\nA: 1\n\nb\n"),
	  S("\r\n folded\r\nA: 1\r\n\r\nb\r\n"), REPAIR_HEADER_END },
	{ "leading From_ line", S("From a@b Sat Nov 21 10:00:00 2026\nA: 1\n\nb\n"),
	  S("A: 1\r\n\r\nb\r\n"), REPAIR_FROM_LINE },
	{ "a second From_ line is no field", S("From a@b x\nFrom b@c y\nA: 1\n\nb\n"),
	  S("\r\nFrom b@c y\r\nA: 1\r\n\r\nb\r\n"), REPAIR_HEADER_END,
	  1u << REPAIR_FROM_LINE },
	{ "From: is a field", S("From: a@b\n\nb\n"), S("From: a@b\r\n\r\nb\r\n"),
	  REPAIR_NKINDS },
	{ "From_ only in the body is left", S("A: 1\n\nFrom here\n"),
	  S("A: 1\r\n\r\nFrom here\r\n"), REPAIR_NKINDS },
	{ "dots are lmtp.c's business", S("A: 1\n\n.\n..\n"),
	  S("A: 1\r\n\r\n.\r\n..\r\n"), REPAIR_NKINDS },
	{ "body only", S("\nbody\n"), S("\r\nbody\r\n"), REPAIR_NKINDS },
};

/* run - repair in pieces of step bytes (0: all at once) */
static char *
run(const char *in, size_t n, size_t step, size_t *len_r, struct repair *r)
{
	struct buf out;

	buf_init(&out, 0);
	repair_init(r);
	if (step == 0)
		step = n ? n : 1;
	for (size_t off = 0; off < n; off += step)
		repair_feed(r, in + off, n - off < step ? n - off : step, &out);
	repair_end(r, &out);
	*len_r = out.len;
	return buf_steal(&out);
}

int
main(void)
{
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct repair r;
		size_t len, len1;
		char *got = run(cases[i].in, cases[i].inlen, 0, &len, &r);
		char *one;
		int counted = 1;

		ok(len == cases[i].wantlen && memcmp(got, cases[i].want, len) == 0,
		    "%s", cases[i].name);
		if (cases[i].kind != REPAIR_NKINDS)
			counted = r.counts[cases[i].kind] > 0;
		for (int k = REPAIR_BARE_CR; k < REPAIR_NKINDS; k++)
			if (k != (int)cases[i].kind && r.counts[k] &&
			    !(cases[i].also & (1u << k)))
				counted = 0;
		ok(counted, "%s: the repair is counted, no other", cases[i].name);
		one = run(cases[i].in, cases[i].inlen, 1, &len1, &r);
		ok(len1 == len && memcmp(one, got, len) == 0,
		    "%s: the same byte by byte", cases[i].name);
		free(got);
		free(one);
	}
	{
		struct repair r;
		struct buf d;
		size_t len;
		char *got = run(S("From x y\nA: 1\0\rz\nnot\n\nb\n"), 0, &len, &r);

		buf_init(&d, 0);
		repair_describe(&r, &d);
		is(d.s, "1 NUL bytes removed; 1 bare CRs made line ends; "
		    "leading From_ line dropped; header ended before line 3 "
		    "(not a header field)", "repair_describe says what was done");
		buf_free(&d);
		free(got);
	}
	return done_testing();
}

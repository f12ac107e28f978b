/*
 * regex_fuzz.c - fuzz rc/regex*.c: any pattern and text, no crash, and
 * rc_regex_exec without $MATCH agrees with rc_regex_count (which
 * locates) on whether there is a match.
 * Input: one flags byte, the pattern up to a NUL, then the text.
 * Standalone (random pieces of procmail's and TRE's syntax, random text):
 *   cc -std=c11 -D_GNU_SOURCE -fsanitize=address,undefined -Ilda -Irc \
 *     tests/fuzz/regex_fuzz.c rc/regex*.c \
 *     lda/{buf,xalloc,log,spool,fdio,dl,status,outcome}.c \
 *     -o regex_fuzz && ./regex_fuzz [iterations] [seed]
 * libFuzzer: the same with clang, -fsanitize=fuzzer and -DLDA_LIBFUZZER.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "buf.h"
#include "regex.h"

/* LLVMFuzzerTestOneInput - one input; aborts on a disagreement */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul;
	struct rc_regex *re;
	struct buf m;
	char *pat, *err;
	int flags, yes, located;
	long n;

	if (size < 2 || (nul = memchr(data + 1, 0, size - 1)) == NULL)
		return 0;
	flags = data[0] & (RC_RE_ICASE | RC_RE_EXTENDED);
	pat = strndup((const char *)data + 1, (size_t)(nul - data - 1));
	if (rc_regex_compile(pat, flags, &re, &err) == -1) {
		free(err);
		free(pat);
		return 0;
	}
	buf_init(&m, 4096);
	yes = rc_regex_exec(re, (const char *)nul + 1,
	    size - (size_t)(nul - data) - 1, NULL, 0, 0, NULL);
	located = rc_regex_exec(re, (const char *)nul + 1,
	    size - (size_t)(nul - data) - 1, NULL, 0, 0, &m);
	n = rc_regex_count(re, (const char *)nul + 1,
	    size - (size_t)(nul - data) - 1, NULL, 0, 0, 3, NULL);
	if (yes != located || (yes == 1) != (n >= 1)) {
		fprintf(stderr, "disagree: pattern '%s' flags %d: exec %d, "
		    "with MATCH %d, count %ld\n", pat, flags, yes, located, n);
		abort();
	}
	buf_free(&m);
	rc_regex_free(&re);
	free(pat);
	return 0;
}

#ifndef LDA_LIBFUZZER
static const char *const pieces[] = { "a", "b", "A", ".", "^", "$", "^^",
	"*", "+", "?", "(", ")", "|", "[ab]", "[^a]", "[]a-]", "\\<", "\\>",
	"\\/", "\\.", "{2}", "{1,3}", "{~1}", "[[:alpha:]]", "\\w", " ", "\\",
	"^TO_", "^FROM_DAEMON", "[", "x", "{7~}", "{~20}", "{+2-1#3~5}",
	"^FROM_MAILER", ".*", "(a|b|c|d)" };

/* random_input - a pattern of random pieces, a NUL, a random text */
static size_t
random_input(uint8_t *buf, size_t cap)
{
	size_t n = 1, k = (size_t)(rand() % 12);

	buf[0] = (uint8_t)(rand() % 4);
	for (size_t i = 0; i < k; i++) {
		const char *p = pieces[rand() % (int)(sizeof pieces /
		    sizeof pieces[0])];
		if (n + strlen(p) + 64 >= cap)
			break;
		memcpy(buf + n, p, strlen(p));
		n += strlen(p);
	}
	buf[n++] = 0;
	for (int i = rand() % 40; i > 0; i--)
		buf[n++] = (uint8_t)"aAbx \n.\0:"[rand() % 9];
	return n;
}

int
main(int argc, char **argv)
{
	long iterations = argc > 1 ? atol(argv[1]) : 100000;
	uint8_t buf[4096];

	if (fuzz_replay(argc, argv))
		return 0;
	srand(argc > 2 ? (unsigned)atoi(argv[2]) : 1);
	for (long i = 0; i < iterations; i++) {
		size_t n = random_input(buf, sizeof buf);
		fuzz_last(buf, n);
		LLVMFuzzerTestOneInput(buf, n);
	}
	printf("%ld inputs, no disagreement\n", iterations);
	return 0;
}
#endif

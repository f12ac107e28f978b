/*
 * fuzz.h - what the property harnesses (repair_fuzz, spool_fuzz, rc_fuzz)
 * share: how a broken promise is reported, and the standalone driver that
 * feeds LLVMFuzzerTestOneInput random inputs made of pieces of the
 * harness's syntax (built with -DLDA_LIBFUZZER, libFuzzer drives instead).
 * Header-only: each harness is one program.
 */
#ifndef LDA_FUZZ_H
#define LDA_FUZZ_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fuzz_fail - say which promise input in broke (its first bytes, in hex),
   and abort: the harness's run fails and the input can be replayed */
static void __attribute__((noreturn))
fuzz_fail(const char *what, const uint8_t *in, size_t n)
{
	fprintf(stderr, "%s: %s; input (%zu bytes):",
	    program_invocation_short_name, what, n);
	for (size_t i = 0; i < n && i < 300; i++)
		fprintf(stderr, " %02x", in[i]);
	fputc('\n', stderr);
	abort();
}

#ifndef LDA_LIBFUZZER
/*
 * fuzz_main - ITERATIONS (argv[1], default 100000) random inputs from
 * SEED (argv[2], default 1): a random first byte when seed_byte, then up
 * to max random pieces (a piece "" is one NUL byte).
 */
static int
fuzz_main(int argc, char **argv, const char *const *pieces, size_t npieces,
    int max, int seed_byte)
{
	long iterations = argc > 1 ? atol(argv[1]) : 100000;
	uint8_t buf[2048];

	srand(argc > 2 ? (unsigned)atoi(argv[2]) : 1);
	for (long i = 0; i < iterations; i++) {
		size_t n = 0;
		if (seed_byte)
			buf[n++] = (uint8_t)rand();
		for (int k = rand() % max; k > 0; k--) {
			const char *p = pieces[(size_t)rand() % npieces];
			size_t l = p[0] ? strlen(p) : 1;
			if (n + l >= sizeof buf)
				break;
			memcpy(buf + n, p, l);
			n += l;
		}
		LLVMFuzzerTestOneInput(buf, n);
	}
	printf("%ld inputs, every promise kept\n", iterations);
	return 0;
}
#endif

#endif

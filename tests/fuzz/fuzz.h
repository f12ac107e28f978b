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
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fuzz_fail - say which promise input in broke (its first bytes, in hex),
   and abort: the harness's run fails and the input can be replayed */
static void __attribute__((noreturn, unused))
fuzz_fail(const char *what, const uint8_t *in, size_t n)
{
	fprintf(stderr, "%s: %s; input (%zu bytes):",
	    program_invocation_short_name, what, n);
	for (size_t i = 0; i < n && i < 300; i++)
		fprintf(stderr, " %02x", in[i]);
	fputc('\n', stderr);
	abort();
}

/* fuzz_reply_fd - the input as a daemon's whole reply: the read end of a
   socket pair, non-blocking, holding the input and then end of file
   (the peer closed); what the reply parsers read from */
static int __attribute__((unused))
fuzz_reply_fd(const uint8_t *data, size_t size)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		fuzz_fail("socketpair", data, size);
	if (size && write(sv[1], data, size) != (ssize_t)size)
		fuzz_fail("write", data, size);
	close(sv[1]);
	fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
	return sv[0];
}

#ifndef LDA_LIBFUZZER
/* fuzz_last - with FUZZ_LAST=file, write the input there before it runs:
   after a crash (a signal leaves no report) the file holds it */
static void __attribute__((unused))
fuzz_last(const uint8_t *in, size_t n)
{
	static const char *last;
	FILE *f;

	if (last == NULL && (last = getenv("FUZZ_LAST")) == NULL)
		last = "";
	if (*last && (f = fopen(last, "w")) != NULL) {
		fwrite(in, 1, n, f);
		fclose(f);
	}
}

/* fuzz_replay - "harness FILE...": run each file as one input (a crash
   found, a seed corpus); returns 1 when argv named files */
static int __attribute__((unused))
fuzz_replay(int argc, char **argv)
{
	static uint8_t in[1 << 20];

	if (argc < 2 || (argv[1][0] >= '0' && argv[1][0] <= '9'))
		return 0;
	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		size_t n;
		if (f == NULL) {
			perror(argv[i]);
			exit(2);
		}
		n = fread(in, 1, sizeof in, f);
		fclose(f);
		LLVMFuzzerTestOneInput(in, n);
	}
	printf("%d inputs replayed, every promise kept\n", argc - 1);
	return 1;
}

/*
 * fuzz_main - ITERATIONS (argv[1], default 100000) random inputs from
 * SEED (argv[2], default 1): a random first byte when seed_byte, then up
 * to max random pieces (a piece "" is one NUL byte); see fuzz_last. Or,
 * given file names, those inputs (fuzz_replay).
 */
static int __attribute__((unused))
fuzz_main(int argc, char **argv, const char *const *pieces, size_t npieces,
    int max, int seed_byte)
{
	long iterations = argc > 1 ? atol(argv[1]) : 100000;
	uint8_t buf[2048];

	if (fuzz_replay(argc, argv))
		return 0;
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
		fuzz_last(buf, n);
		LLVMFuzzerTestOneInput(buf, n);
	}
	printf("%ld inputs, every promise kept\n", iterations);
	return 0;
}
#endif

#endif

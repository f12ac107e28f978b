/*
 * rc_fuzz.c - fuzz the rc parser (rc/lex.c, rc/parse.c): a user's
 * ~/.procmailrc is whatever the user wrote, and lda must answer any of it
 * with file:line reports, never a crash. For any text:
 *   - rc_parse_text returns a tree (it recovers from every error);
 *   - every report names a line of the text (1 .. lines + 1);
 *   - parsing the same text twice reports the same.
 * Input: the rc text.
 * Standalone (random pieces of procmailrc syntax):
 *   cc -std=c11 -D_GNU_SOURCE -fsanitize=address,undefined -Ilda -Irc \
 *     tests/fuzz/rc_fuzz.c (every lda/, rc/, filters/ object but main) \
 *     -o rc_fuzz && ./rc_fuzz [iterations] [seed]
 * (make check builds it: build/tests/fuzz/rc_fuzz.)
 * libFuzzer: the same with clang, -fsanitize=fuzzer and -DLDA_LIBFUZZER.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../rc/rcint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct reports {
	char text[8192];
	size_t len;
	int max_line, bad_line;
};

/* report - collect "line:E|W;" and check the line */
static void
report(void *arg, const char *path, int line, int warn, const char *msg)
{
	struct reports *r = arg;
	int n;

	(void)path;
	(void)msg;
	if (line < 1 || line > r->max_line)
		r->bad_line = line;
	n = snprintf(r->text + r->len, sizeof r->text - r->len, "%d:%c;",
	    line, warn ? 'W' : 'E');
	if (n > 0 && (size_t)n < sizeof r->text - r->len)
		r->len += (size_t)n;
}

/* fail - report what broke, with the input, and abort */
static void
fail(const char *what, const uint8_t *in, size_t n)
{
	fprintf(stderr, "rc_fuzz: %s; input (%zu bytes): \"", what, n);
	for (size_t i = 0; i < n && i < 300; i++)
		fprintf(stderr, in[i] >= ' ' && in[i] < 127 ? "%c" : "\\x%02x",
		    in[i]);
	fputs("\"\n", stderr);
	abort();
}

/* parse - one parse of the text, its reports in r */
static void
parse(const uint8_t *data, size_t size, struct reports *r)
{
	struct rc_file *f;
	int lines = 1;

	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	memset(r, 0, sizeof *r);
	r->max_line = lines + 1;
	f = rc_parse_text("fuzz.rc", (const char *)data, size, report, r);
	if (f == NULL)
		fail("no tree", data, size);
	if (r->bad_line)
		fail("a report names a line outside the text", data, size);
	rc_file_free(&f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct reports a, b;

	parse(data, size, &a);
	parse(data, size, &b);
	if (a.len != b.len || memcmp(a.text, b.text, a.len) != 0)
		fail("two parses report differently", data, size);
	return 0;
}

#ifndef LDA_LIBFUZZER
static const char *const pieces[] = { ":0", ":0:", ":0 Bfhw", ":0c:lock",
	":0 E", ":0 a", "\n", "\n", "\n", "* ", "* ^Subject: a", "* !", "* $",
	"* ? test", "* < 100", "* > 10", "* 2^1 ", "* -1^0 ", "{", "}", " ",
	"\t", "\\", "\\\n", "\"", "'", "`", "$", "${A:-b}", "$HOME", "A=b",
	"A=", "INCLUDERC=x", "SWITCHRC=", "| cat", "! a@b", "folder/",
	"/dev/null", "#", "# c\n", "\0", "\r", "\x80", "(", ")", "[a-", "{~1}",
	"~", "\\/", "^TO_", "@spamassassin" };

/* random_input - random pieces */
static size_t
random_input(uint8_t *buf, size_t cap)
{
	size_t n = 0;

	for (int k = rand() % 40; k > 0; k--) {
		const char *p = pieces[rand() % (int)(sizeof pieces /
		    sizeof pieces[0])];
		size_t l = p[0] ? strlen(p) : 1;
		if (n + l >= cap)
			break;
		memcpy(buf + n, p, l);
		n += l;
	}
	return n;
}

int
main(int argc, char **argv)
{
	long iterations = argc > 1 ? atol(argv[1]) : 100000;
	uint8_t buf[2048];

	srand(argc > 2 ? (unsigned)atoi(argv[2]) : 1);
	for (long i = 0; i < iterations; i++)
		LLVMFuzzerTestOneInput(buf, random_input(buf, sizeof buf));
	printf("%ld inputs, every promise kept\n", iterations);
	return 0;
}
#endif

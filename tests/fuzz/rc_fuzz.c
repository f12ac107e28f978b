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

#include "fuzz.h"
#include "../../rc/rcint.h"

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
		fuzz_fail("no tree", data, size);
	if (r->bad_line)
		fuzz_fail("a report names a line outside the text", data, size);
	rc_file_free(&f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct reports a, b;

	parse(data, size, &a);
	parse(data, size, &b);
	if (a.len != b.len || memcmp(a.text, b.text, a.len) != 0)
		fuzz_fail("two parses report differently", data, size);
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

int
main(int argc, char **argv)
{
	return fuzz_main(argc, argv, pieces, sizeof pieces / sizeof pieces[0], 40,
	    0);
}
#endif

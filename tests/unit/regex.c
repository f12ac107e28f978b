/* regex.c - unit tests for rc/regex.c: procmail's dialect, its keywords,
   $MATCH after \/, match counting, TRE's extensions, searching a spool,
   hostile patterns and errors. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "regex.h"
#include "spool.h"
#include "tap.h"

#define I	RC_RE_ICASE
#define X	RC_RE_EXTENDED
#define ENDLESS	(-1L)	/* procmail adds its limit: the match repeats */

/*
 * Every row was checked against procmail 3.22 (Debian's 3.22-26, which
 * calls itself "v3.23pre 2001/09/13") by a script that ran
 *	TXT="<text>"
 *	:0 <D when flags lack I>
 *	* TXT ?? <pattern>
 *	{ LOG="R=1 M=[$MATCH]" }
 * and again with "* 1^1 TXT ?? <pattern>" to read the count from $=.
 * want_match is NULL for patterns without \/.
 */
static const struct {
	const char *pattern;
	int flags;
	const char *text;
	int want;
	const char *want_match;
	long want_count;
	const char *name;
} cases[] = {
	{ "ABC", I, "xabcx", 1, NULL, 1, "ignores case by default" },
	{ "ABC", 0, "xabcx", 0, NULL, 0, "D distinguishes case" },
	{ "abc", 0, "xABCx", 0, NULL, 0, "D: lower pattern, upper text" },
	{ "[A-C]+", 0, "abc", 0, NULL, 0, "D: classes distinguish case" },
	{ "[a-c]x", I, "BX", 1, NULL, 1, "classes ignore case" },
	{ "[^a]", I, "A", 0, NULL, 0, "negated class ignores case" },
	{ "a.b", I, "a\nb", 0, NULL, 0, ". does not match newline" },
	{ "a.b", I, "a-b", 1, NULL, 1, ". matches other bytes" },
	{ "a[^x]b", I, "a\nb", 0, NULL, 0, "negated class excludes newline" },
	{ "^b", I, "a\nb", 1, NULL, 1, "^ after a newline" },
	{ "b$", I, "a\nb", 1, NULL, 1, "$ at the end of the text" },
	{ "a$b", I, "a\nb", 1, NULL, 1, "$ consumes the newline" },
	{ "a^b", I, "a\nb", 1, NULL, 1, "^ consumes the newline" },
	{ "a$^b", I, "a\nb", 0, NULL, 0, "$^ needs two newlines" },
	{ "a$^b", I, "a\n\nb", 1, NULL, 1, "$^ matches two newlines" },
	{ "^a$", I, "a\nb", 1, NULL, 1, "a whole line" },
	{ "a$", I, "ab", 0, NULL, 0, "$ not before a letter" },
	{ "a^", I, "a", 1, NULL, 1, "^ takes the closing newline" },
	{ "a$$", I, "a", 0, NULL, 0, "only one closing newline" },
	{ "^^abc", I, "abc", 1, NULL, 1, "^^ at the start" },
	{ "^^abc", I, "x\nabc", 0, NULL, 0, "^^ only at the very start" },
	{ "abc^^", I, "abc", 1, NULL, 1, "^^ at the end" },
	{ "abc^^", I, "abc\n", 0, NULL, 0, "^^ only at the very end" },
	{ "abc$^^", I, "abc\n", 1, NULL, 1, "$^^ after a final newline" },
	{ "abc$^^", I, "abc", 0, NULL, 0, "$^^ needs a real final newline" },
	{ "a^^b", I, "ab", 0, NULL, 0, "^^ inside is the start" },
	{ "^^^^", I, "", 1, NULL, -1, "^^^^ matches the empty text" },
	{ "^^$^^", I, "", 0, NULL, 0, "^^$^^ does not" },
	{ "(a^^)", I, "xa", 1, NULL, 1, "^^ closing a group at the end" },
	{ "(a^^)?b", I, "ab", 1, NULL, 1, "^^ in an optional group" },
	{ "\\<joe\\>", I, "to joe.", 1, NULL, 1, "\\< \\> around a word" },
	{ "\\<joe\\>", I, "to joey", 0, NULL, 0,
	  "\\> needs a non-word character" },
	{ "\\<joe\\>", I, "joe", 1, NULL, 1, "\\< \\> at the text edges" },
	{ "a\\<b", I, "a\nb", 1, NULL, 1, "\\< matches a newline" },
	{ "a{2}", I, "aa", 0, NULL, 0, "{ is literal" },
	{ "a{2}", I, "a{2}", 1, NULL, 1, "{2} matched literally" },
	{ "[[:alpha:]]", I, "x", 0, NULL, 0, "no named classes" },
	{ "[[:alpha:]]", I, "a]", 1, NULL, 1, "[[:alpha:] is a class and ]" },
	{ "[]a]", I, "]", 1, NULL, 1, "] first in a class" },
	{ "[^]a]", I, "]", 0, NULL, 0, "] first in a negated class" },
	{ "[a-]", I, "-", 1, NULL, 1, "- last in a class" },
	{ "[z-a]", I, "a", 1, NULL, 1, "reversed range keeps its end" },
	{ "[z-a]", I, "m", 0, NULL, 0, "reversed range is empty" },
	{ "[a-c-e]", I, "d", 1, NULL, 1,
	  "range runs on from the last character" },
	{ "[a-c-e]", I, "-", 0, NULL, 0, "so - is not a member" },
	{ "[\\]]", I, "\\]", 1, NULL, 1, "backslash literal in a class" },
	{ "[\\]]", I, "]", 0, NULL, 0, "and ] closes it" },
	{ "[a", I, "a", 1, NULL, 1, "unterminated class" },
	{ "\\n", I, "n", 1, NULL, 1, "\\n is n" },
	{ "\\.", I, "x", 0, NULL, 0, "\\. is a dot" },
	{ "*a", I, "a", 0, NULL, 0, "leading * is literal" },
	{ "*a", I, "*a", 1, NULL, 1, "leading * matched" },
	{ "a**", I, "*", 1, NULL, 1, "second * is literal" },
	{ "a**", I, "a", 0, NULL, 0, "second * needs a *" },
	{ "a+*", I, "aaa", 0, NULL, 0, "+* needs a *" },
	{ "a||b", I, "x", 1, NULL, -1, "empty alternative" },
	{ "()", I, "x", 1, NULL, -1, "empty group" },
	{ "(a*)*b", I, "aaab", 1, NULL, 1, "nested stars" },
	{ "^TO_joe@x\\.org", I, "Cc: Joe <joe@x.org>", 1, NULL, 1,
	  "^TO_ address" },
	{ "^TO_joe@x\\.org", I, "Cc: bjoe@x.org", 0, NULL, 0,
	  "^TO_ whole address" },
	{ "^TOjoe", I, "To: joey", 1, NULL, 1, "^TO word start" },
	{ "^TOjoe", I, "To: bjoe@x.org", 0, NULL, 0, "^TO not mid-word" },
	{ "^TO_joe", 0, "To: Joe", 0, NULL, 0, "^TO_ follows D" },
	{ "^TO_joe", I, "Apparently-Resent-To: joe", 1, NULL, 1,
	  "^TO_ Apparently-Resent-To" },
	{ "^FROM_DAEMON", 0, "Precedence: BULK", 1, NULL, 1,
	  "^FROM_DAEMON ignores D" },
	{ "^FROM_DAEMON", I, "From: MAILER-DAEMON@x.org\nTo: me", 1, NULL, 1,
	  "^FROM_DAEMON mailer-daemon" },
	{ "^FROM_DAEMON", I, "From: joe@x.org\nTo: me", 0, NULL, 0,
	  "^FROM_DAEMON person" },
	{ "^FROM_MAILER", I,
	  "From: Mail Delivery Subsystem <MAILER-DAEMON@x.org>\nTo: me",
	  1, NULL, 1,
	  "^FROM_MAILER" },
	{ "^FROM_MAILER", I, "Precedence: bulk\nX: y", 0, NULL, 0,
	  "^FROM_MAILER not bulk" },
	{ "\\^TO_joe", I, "^TO_joe", 1, NULL, 1, "escaped keyword is literal" },
	{ "x^TO_joe", I, "x\nTo: joe", 1, NULL, 1, "keyword anywhere" },
	{ "^Subject:.*\\/[0-9]+", I, "Subject: abc 123\nfoo", 1, "123", 1,
	  "MATCH: left as short as possible" },
	{ "^Subject: \\/.*", I,
	  "Subject: hello world\nX: y", 1, "hello world", 1,
	  "MATCH: rest of line" },
	{ "^Subject:\\/.*", I, "Subject: hi there", 1, " hi there", 1,
	  "MATCH: keeps the blank" },
	{ "^Subject: send file \\/[^ ]*", I,
	  "Subject: send file foo.txt now", 1, "foo.txt", 1,
	  "MATCH: procmailex fileserver" },
	{ "^From:.*<\\/[^>]+", I, "From: Joe <joe@x.org>", 1, "joe@x.org", 1,
	  "MATCH: address in brackets" },
	{ "a+\\/a+", I, "aaaa", 1, "aaa", 1, "MATCH: right part longest" },
	{ "(a|ab)\\/(c|bcd)", I, "abcd", 1, "bcd", 1, "MATCH: earliest split" },
	{ "[0-9]+\\/[a-z]+", I, "12ab 34cd", 1, "ab", 2,
	  "MATCH: first split that fits" },
	{ "x.*\\/y.*", I, "x1y2y3", 1, "y2y3", 1, "MATCH: first y" },
	{ ".*\\/y", I, "abyy", 1, "y", 2, "MATCH: one y" },
	{ "\\/(abcd|bc)", I, "abcd", 1, "abcd", 1,
	  "MATCH: leftmost right part" },
	{ "\\/abc", I, "ABC", 1, "ABC", 1, "MATCH: text as written" },
	{ "b\\/$.*", I, "ab\ncd", 1, "\ncd", 1,
	  "MATCH: keeps a leading newline" },
	{ "\\/^.*", I, "abc\ndef", 1, "abc", -1,
	  "MATCH: not the imagined newline" },
	{ "abc\\/", I, "xabcx", 1, "", 1, "MATCH: empty" },
	{ "a\\/b\\/c", I, "abc", 1, "c", 1, "MATCH: after the last \\/" },
	{ "^TO_\\/[a-z]+", I, "To: Joe <joe@x.org>", 1, "Joe", 1,
	  "MATCH: after ^TO_" },
	{ "c\\/$", I, "abc\n", 1, "\n", 1, "MATCH: a newline" },
	{ "a*\\/b+", I, "xaabbb", 1, "bbb", 1, "MATCH: empty left part" },
	{ "\\/.+", I, "abc", 1, "abc", 1, "MATCH: whole text" },
	{ "a+\\/b*", I, "aaabb", 1, "aabb", 1, "MATCH quirk: + before \\/" },
	{ "^X-Spam-Level: \\*+\\/", I,
	  "X-Spam-Level: *****\nX: y", 1, "****", 1,
	  "MATCH quirk: stars" },
	{ "[0-9]+\\/", I, "ab 123 cd", 1, "23", 1, "MATCH quirk: digits" },
	{ "(ab)+\\/a?", I, "ababab", 1, "abab", 1, "MATCH quirk: group" },
	{ "[^\\n](\\< |[ab]A)*|\\/[^\\n]", 0, "\nb", 1, "b", 1,
	  "MATCH: procmail's thread order" },
	{ "a+", I, "aaa", 1, NULL, 3, "count: earliest ends" },
	{ "^x$", I, "x\nx\nx", 1, NULL, 3, "count: lines" },
	{ "^^x", I, "x\nx\nx", 1, NULL, 1, "count: ^^ once" },
	{ "^.*$", I, "ab\ncd\nef", 1, NULL, 3,
	  "count: last line takes the end" },
	{ "b*", I, "abc", 1, NULL, -1, "count: empty match repeats" },
	{ "^", I, "abc", 1, NULL, -1, "count: ^ is empty at the start" },
	{ "^\\/.*", I, "abc\ndef", 1, "abc", 3, "count: MATCH ends" },
	{ "^\\/.*", I, "abc\n", 1, "abc", -1, "count: empty MATCH at the end" },
	{ "^^", I, "", 1, NULL, -1, "count: ^^ at the end" },
	{ "\\/a+", I, "baaa", 1, "aaa", 1, "count: one MATCH" },
};

/* TRE's extensions (RC_RE_EXTENDED): lda's own, not in procmail. */
static const struct {
	const char *pattern;
	int flags;
	const char *text;
	int want;
	const char *want_match;
	const char *name;
} ext_cases[] = {
	{ "(viagra){~1}", I | X, "buy v1agra now", 1, NULL,
	  "approximate: one substitution" },
	{ "(viagra){~1}", I, "buy v1agra now", 0, NULL,
	  "approximate only with extended" },
	{ "(viagra){~1}", I, "buy viagra{~1}", 1, NULL,
	  "without extended { is literal" },
	{ "(viagra){~1}", I | X, "buy vagra now", 1, NULL,
	  "approximate: one deletion" },
	{ "(viagra){~1}", I | X, "buy v1agr4 now", 0, NULL,
	  "approximate: two errors" },
	{ "(viagra){~1}", I | X, "buy VIAGR4 now", 1, NULL,
	  "approximate ignores case" },
	{ "^Subject: \\/(viagra){~1}", I | X, "X: y\nSubject: v1agra", 1,
	  "v1agra",
	  "approximate MATCH" },
	{ "a{2,3}", I | X, "xaax", 1, NULL, "bounds" },
	{ "^a{2,3}$", I | X, "aaaa", 0, NULL, "bounds: at most" },
	{ "^a{2,}$", I | X, "aaaa", 1, NULL, "bounds: open" },
	{ "^Subject:.*\\/[0-9]{3}", I | X, "Subject: a 1234", 1, "123",
	  "bounds with procmail's MATCH" },
	{ "\\/[[:digit:]]+", I | X, "ab 123", 1, "123", "named class" },
	{ "[[:upper:]]", I | X, "abc", 1, NULL, "named class ignores case" },
	{ "[[:upper:]]", X, "abc", 0, NULL, "named class with D" },
	{ "[^[:alpha:]]", X, "a\nb", 0, NULL,
	  "negated named class excludes newline" },
	{ "\\d+\\s\\w", I | X, "x 12 y", 1, NULL, "\\d \\s \\w" },
	{ "a.b", I | X, "a\nb", 0, NULL, ". still excludes newline" },
	{ "^b$", I | X, "a\nb\nc", 1, NULL, "procmail's ^ and $ still" },
	{ "^TO_joe", I | X, "Cc: joe", 1, NULL, "keywords still" },
	{ "a**", I | X, "aaa", 1, NULL, "operators stack" },
};

static const struct {
	const char *pattern;
	int flags;
	const char *err;	/* a part of the message */
} bad_cases[] = {
	{ "a{x}", I | X, "invalid {...}" },
	{ "a{3,2}", I | X, "invalid {n,m}" },
	{ "a{300}", I | X, "invalid {n,m}" },
	{ "a{2", I | X, "invalid {...}" },
	{ "[[:nope:]]", I | X, "unknown character class" },
	{ "(a{255}){255}", I | X, "pattern too large" },
	{ "(a\\/b){~1}", I | X, "approximate matching" },
	/* Both crash TRE 0.8.0. */
	{ "(a{~1}){2}", I | X, "{n,m} around approximate matching" },
	{ "b{~1}(x{~1})?{~1}y{~1}", I | X, "inside another" },
};

/*
 * Unbalanced parentheses compile as procmail 3.22 takes them (it logs
 * "Invalid regexp" and goes on; checked against it by the differential
 * case tests/rc/cases/200-regex-unbalanced-parens): a ( without ) is
 * closed at the end of the pattern, a ) without ( ends the pattern.
 */
static const struct {
	const char *pattern;
	int flags;
	const char *text;
	int want;
	const char *warn;	/* a part of rc_regex_warning */
} lenient_cases[] = {
	{ "(a", I, "xa", 1, "missing ) for the ( at offset 0" },
	{ "(a", I, "b", 0, "missing ) for the (" },
	{ "x(a|(b)", I, "xb", 1, "missing ) for the ( at offset 1" },
	{ "x(a|(b", I, "xb", 1, "missing ) for the ( at offset 4" },
	{ "re)xyz", I, "report", 1, "unmatched ) at offset 2" },
	{ "a)", I, "a", 1, "unmatched ) at offset 1" },
	{ "x)a", I, "a", 0, "unmatched )" },
	{ "xyz|b)zzz", I, "ab", 1, "unmatched ) at offset 5" },
	{ "(a))b", I, "a", 1, "unmatched ) at offset 3" },
	{ "(a{1}", I | X, "a", 1, "missing ) for the (" },	/* lda's X */
};

/* spool_of - a spool read from a temporary file holding len bytes of msg */
static struct spool *
spool_of(const char *msg, size_t len)
{
	char path[] = "/tmp/lda-regex-test.XXXXXX";
	int fd = mkstemp(path);
	struct spool *sp = NULL;
	char *err = NULL;

	if (fd == -1)
		return NULL;
	unlink(path);
	if (write(fd, msg, len) != (ssize_t)len)
		return NULL;
	lseek(fd, 0, SEEK_SET);
	if (spool_read(fd, NULL, 0, &sp, &err) == -1) {
		diag("spool_read: %s", err);
		free(err);
	}
	close(fd);
	return sp;
}

/* compile - compile or report why not; NULL on failure */
static struct rc_regex *
compile(const char *pattern, int flags)
{
	struct rc_regex *re;
	char *err;

	if (rc_regex_compile(pattern, flags, &re, &err) == 0)
		return re;
	diag("%s: %s", pattern, err);
	free(err);
	return NULL;
}

/* count - rc_regex_count as procmail's score: ENDLESS for its limit */
static long
count(const struct rc_regex *re, const char *mem, size_t len,
    const struct spool *sp, off_t from, off_t to)
{
	int endless;
	long n = rc_regex_count(re, mem, len, sp, from, to, 1000000, &endless);

	return endless ? ENDLESS : n;
}

/* test_case - one procmail-checked row, from memory (sp NULL) or spool */
static void
test_case(size_t i, int in_spool)
{
	const char *where = in_spool ? "spool" : "mem";
	const char *mem = in_spool ? NULL : cases[i].text;
	size_t len = strlen(cases[i].text);
	struct spool *sp = NULL;
	struct rc_regex *re = compile(cases[i].pattern, cases[i].flags);
	struct buf m;
	off_t from = 0, to = 0;

	if (in_spool) {
		buf_init(&m, 0);
		buf_puts(&m, "X: y\n\n");
		buf_puts(&m, cases[i].text);
		if ((sp = spool_of(m.s, m.len)) != NULL) {
			from = sp->body_off;
			to = sp->size;
		}
		buf_free(&m);
	}
	buf_init(&m, 0);
	is_int(re ? rc_regex_exec(re, mem, len, sp, from, to, &m) : -2,
	    cases[i].want, "%s (%s): match", cases[i].name, where);
	if (cases[i].want_match)
		is(m.s, cases[i].want_match, "%s (%s): MATCH", cases[i].name,
		    where);
	is_int(re ? count(re, mem, len, sp, from, to) : -2,
	    cases[i].want_count, "%s (%s): count", cases[i].name, where);
	buf_free(&m);
	rc_regex_free(&re);
	spool_free(&sp);
}

/* test_ext - the RC_RE_EXTENDED rows */
static void
test_ext(void)
{
	for (size_t i = 0; i < sizeof ext_cases / sizeof ext_cases[0]; i++) {
		struct rc_regex *re = compile(ext_cases[i].pattern,
		    ext_cases[i].flags);
		const char *t = ext_cases[i].text;
		struct buf m;

		buf_init(&m, 0);
		is_int(re ? rc_regex_exec(re, t, strlen(t), NULL, 0, 0, &m) :
		    -2, ext_cases[i].want, "extended: %s", ext_cases[i].name);
		if (ext_cases[i].want_match)
			is(m.s, ext_cases[i].want_match, "extended: %s: MATCH",
			    ext_cases[i].name);
		buf_free(&m);
		rc_regex_free(&re);
	}
}

/* test_lenient - unbalanced parentheses: compiled as procmail does, and
   a warning that says what was made of them; balanced ones warn not */
static void
test_lenient(void)
{
	struct rc_regex *re;

	for (size_t i = 0; i < sizeof lenient_cases / sizeof lenient_cases[0];
	    i++) {
		const char *pat = lenient_cases[i].pattern;
		if ((re = compile(pat, lenient_cases[i].flags)) == NULL) {
			ok(0, "lenient: %s compiles", pat);
			continue;
		}
		is_int(rc_regex_exec(re, lenient_cases[i].text,
		    strlen(lenient_cases[i].text), NULL, 0, 0, NULL),
		    lenient_cases[i].want, "lenient: %s on \"%s\"", pat,
		    lenient_cases[i].text);
		like(rc_regex_warning(re), lenient_cases[i].warn,
		    "lenient: %s warns", pat);
		rc_regex_free(&re);
	}
	if ((re = compile("(a|(b))c\\)[)(]", I)) != NULL) {
		ok(rc_regex_warning(re) == NULL, "lenient: balanced, escaped "
		    "and bracketed parentheses give no warning");
		rc_regex_free(&re);
	}
}

/* test_errors - bad patterns are refused with a reason */
static void
test_errors(void)
{
	struct buf long_pat;
	struct rc_regex *re;
	char *err;

	for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
		err = NULL;
		is_int(rc_regex_compile(bad_cases[i].pattern,
		    bad_cases[i].flags, &re, &err), -1, "error: %s refused",
		    bad_cases[i].pattern);
		like(err, bad_cases[i].err, "error: %s says why",
		    bad_cases[i].pattern);
		ok(re == NULL, "error: %s leaves no regex",
		    bad_cases[i].pattern);
		free(err);
	}
	buf_init(&long_pat, 0);
	for (int i = 0; i < 300; i++)
		buf_putc(&long_pat, '(');
	err = NULL;
	rc_regex_compile(long_pat.s, I, &re, &err);
	like(err, "nested too deeply", "error: 300 nested groups");
	free(err);
	buf_reset(&long_pat);
	for (int i = 0; i < 1000; i++)	/* each expands to 96 bytes */
		buf_puts(&long_pat, "^TO_");
	err = NULL;
	rc_regex_compile(long_pat.s, I, &re, &err);
	like(err, "longer than", "error: keywords past RC_REGEX_MAX");
	free(err);
	buf_free(&long_pat);
}

/* body_msg - "Subject: x", then lines of 49 b's up to body offset cut,
   b's to exactly cut, "zzz", 30 y's and a last line */
static struct buf
body_msg(size_t cut)
{
	struct buf b;
	size_t body;

	buf_init(&b, 0);
	buf_puts(&b, "Subject: x\n\n");
	body = b.len;
	while (b.len - body + 50 <= cut) {
		for (int i = 0; i < 49; i++)
			buf_putc(&b, 'b');
		buf_putc(&b, '\n');
	}
	while (b.len - body < cut)
		buf_putc(&b, 'b');
	buf_puts(&b, "zzzyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\nend\n");
	return b;
}

/* lines_with_b - lines of s that start with b, counted by hand */
static long
lines_with_b(const char *s, size_t len)
{
	long n = 0;

	for (size_t i = 0; i < len; i++)
		n += s[i] == 'b' && (i == 0 || s[i - 1] == '\n');
	return n;
}

/* exec_body - rc_regex_exec of pattern on sp's body; MATCH into m */
static int
exec_body(const char *pattern, const struct spool *sp, struct buf *m)
{
	struct rc_regex *re = compile(pattern, I);
	int r = re ? rc_regex_exec(re, NULL, 0, sp, sp->body_off, sp->size,
	    m) : -2;

	rc_regex_free(&re);
	return r;
}

/* test_spool - a body read in 64 KB chunks: a MATCH across a chunk
   boundary, the header in memory and the body as one text, counting */
static void
test_spool(void)
{
	struct buf msg = body_msg(65536 - 10), m;
	struct spool *sp = spool_of(msg.s, msg.len);
	struct rc_regex *re;

	buf_init(&m, 0);
	if (!ok(sp != NULL, "spool: made"))
		return;
	is_int(exec_body("zzz\\/y+", sp, &m), 1, "spool: match across chunks");
	is(m.s, "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyy", "spool: MATCH across chunks");
	is_int(exec_body("^end\\/$", sp, &m), 1, "spool: last line");
	is(m.s, "\n", "spool: MATCH is the final newline");
	is_int(exec_body("zzzx", sp, &m), 0, "spool: no match");
	re = compile("^Subject: x\\/$b+", I);
	is_int(re ? rc_regex_exec(re, sp->hdr, sp->hdr_len, sp, sp->body_off,
	    sp->size, &m) : -2, 1, "spool: header and body as one text");
	is_int((long long)m.len, 50, "spool: MATCH spans header and body");
	rc_regex_free(&re);
	re = compile("^b", I);
	is_int(re ? rc_regex_count(re, NULL, 0, sp, sp->body_off, sp->size,
	    1000000, NULL) : -2, lines_with_b(msg.s + 12, msg.len - 12),
	    "spool: count lines across chunks");
	is_int(re ? rc_regex_count(re, NULL, 0, sp, sp->body_off, sp->size, 7,
	    NULL) : -2, 7, "spool: count stops at max");
	rc_regex_free(&re);
	spool_free(&sp);
	buf_free(&msg);
	buf_free(&m);
}

/* maxrss_kb - the peak resident size so far */
static long
maxrss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/* big_spool - a message with a body of mb MB of lines, then "MARK:
   4242", written in 64 KB pieces so that this process never holds it */
static struct spool *
big_spool(size_t mb)
{
	char path[] = "/tmp/lda-regex-big.XXXXXX", chunk[65536];
	int fd = mkstemp(path), bad = fd == -1;
	struct spool *sp = NULL;
	char *err = NULL;

	for (size_t i = 0; i < sizeof chunk; i++)
		chunk[i] = i % 64 == 63 ? '\n' : 'a' + (char)(i % 23);
	unlink(path);
	bad = bad || write(fd, "Subject: big\n\n", 14) != 14;
	for (size_t i = 0; !bad && i < mb * 16; i++)
		bad = write(fd, chunk, sizeof chunk) != (ssize_t)sizeof chunk;
	bad = bad || write(fd, "MARK: 4242\n", 11) != 11;
	if (!bad && lseek(fd, 0, SEEK_SET) == 0 &&
	    spool_read(fd, NULL, 0, &sp, &err) == -1) {
		diag("spool_read: %s", err);
		free(err);
	}
	if (fd != -1)
		close(fd);
	return sp;
}

/* test_big_body - a 24 MB body is searched without its size in memory */
static void
test_big_body(void)
{
	struct spool *sp = big_spool(24);
	struct rc_regex *re = compile("^mark", I);
	struct buf m;
	long before;

	if (!ok(sp != NULL && re != NULL, "big body: made"))
		return;
	buf_init(&m, 0);
	before = maxrss_kb();
	is_int(exec_body("^MARK: \\/[0-9]+", sp, &m), 1,
	    "big body: match at the end");
	is(m.s, "4242", "big body: MATCH");
	is_int(rc_regex_count(re, NULL, 0, sp, sp->body_off, sp->size, 10,
	    NULL), 1, "big body: count");
	ok(maxrss_kb() - before < 8 * 1024, "big body: memory grew by %ld KB",
	    maxrss_kb() - before);
	buf_free(&m);
	rc_regex_free(&re);
	spool_free(&sp);
}

/* seconds - a monotonic clock */
static double
seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* test_hostile - patterns that make backtracking matchers explode are
   linear here: TRE and the NFA both simulate all paths at once */
static void
test_hostile(void)
{
	static const char *const pats[] = { "(a*)*b", "(a|aa)*c",
	    "(a*)*\\/a*b", "((a+)+)+\\/(a|a)*c", "(|a)*(|a)*(|a)*(|a)*d" };
	size_t n = 100000;
	char *text = malloc(n + 1);

	memset(text, 'a', n);
	text[n] = '\0';
	for (size_t i = 0; i < sizeof pats / sizeof pats[0]; i++) {
		struct rc_regex *re = compile(pats[i], I);
		struct buf m;
		double t0 = seconds();
		int r;
		long c;

		buf_init(&m, 0);
		r = re ? rc_regex_exec(re, text, n, NULL, 0, 0, &m) : -2;
		c = re ? rc_regex_count(re, text, n, NULL, 0, 0, 10, NULL) : -2;
		is_int(r, 0, "hostile %s on 100 KB of a: no match", pats[i]);
		is_int(c, 0, "hostile %s: no count", pats[i]);
		ok(seconds() - t0 < 3.0, "hostile %s: %.2f s", pats[i],
		    seconds() - t0);
		buf_free(&m);
		rc_regex_free(&re);
	}
	free(text);
}

/* test_fuzzy_count - TRE's approximate matcher reads all of the text on
   every search; counting stops before that turns quadratic */
static void
test_fuzzy_count(void)
{
	struct rc_regex *re = compile("(hijk){~1}", I | X);
	size_t n = 1u << 20;
	char *text = malloc(n);
	double t0 = seconds();
	long c;

	for (size_t i = 0; i < n; i++)
		text[i] = "hijk xy\n"[i % 8];
	c = re ? rc_regex_count(re, text, n, NULL, 0, 0, 1000000, NULL) : -2;
	ok(c >= 4 && c < (long)(n / 8), "approximate count: %ld, bounded", c);
	ok(seconds() - t0 < 10.0, "approximate count on 1 MB: %.2f s",
	    seconds() - t0);
	free(text);
	rc_regex_free(&re);
}

/* test_misc - the cap on MATCH, has_match, MATCH without a buffer */
static void
test_misc(void)
{
	struct rc_regex *re = compile("x\\/.*", I);
	struct buf m;

	buf_init(&m, 4);
	is_int(re ? rc_regex_exec(re, "xabcdefg", 8, NULL, 0, 0, &m) : -2, 1,
	    "cap: match");
	is(m.s, "abcd", "cap: MATCH cut at the buffer's cap");
	is_int(re ? rc_regex_exec(re, "xabc", 4, NULL, 0, 0, NULL) : -2, 1,
	    "no MATCH buffer: still a match");
	is_int(re ? rc_regex_has_match(re) : -1, 1, "has_match: \\/");
	rc_regex_free(&re);
	ok(re == NULL, "free: pointer cleared");
	rc_regex_free(&re);
	re = compile("a\\\\/b", I);
	is_int(re ? rc_regex_has_match(re) : -1, 0, "has_match: \\\\/ is not");
	is_int(re ? rc_regex_exec(re, "a\\/b", 4, NULL, 0, 0, &m) : -2, 1,
	    "\\\\/ matches a backslash and a slash");
	rc_regex_free(&re);
	re = compile("a|b\\/c", I);
	buf_puts(&m, "old");
	is_int(re ? rc_regex_exec(re, "xa", 2, NULL, 0, 0, &m) : -2, 1,
	    "alternative without \\/: match");
	is(m.s, "", "alternative without \\/: MATCH left empty");
	rc_regex_free(&re);
	buf_free(&m);
}

/* pre_exec - exec of pattern with flags on the text "mem" + spool body */
static int
pre_exec(const char *pattern, int flags, const char *mem, const char *body)
{
	struct rc_regex *re = compile(pattern, flags);
	struct spool *sp = NULL;
	struct buf m;
	int r;

	buf_init(&m, 0);
	if (body != NULL) {
		buf_puts(&m, "X: y\n\n");
		buf_puts(&m, body);
		sp = spool_of(m.s, m.len);
	}
	r = re == NULL || (body != NULL && sp == NULL) ? -2 :
	    rc_regex_exec(re, mem, mem ? strlen(mem) : 0, sp,
	    sp ? sp->body_off : 0, sp ? sp->size : 0, NULL);
	spool_free(&sp);
	rc_regex_free(&re);
	buf_free(&m);
	return r;
}

/* test_prefilter - a literal every match holds rules texts out before
   any matching: it must be truly required, and found wherever it is */
static void
test_prefilter(void)
{
	struct buf msg = body_msg(65536 - 10), m;
	struct spool *sp = spool_of(msg.s, msg.len);
	struct rc_regex *re;
	int endless = 7;

	is_int(pre_exec("FROM:.*PAYROLL", I, "from: x payroll@x\n", NULL), 1,
	    "prefilter: ignoring case");
	is_int(pre_exec("payroll", I, "PayRoll", NULL), 1,
	    "prefilter: letters only, both cases");
	is_int(pre_exec("from", 0, "From: a", NULL), 0,
	    "prefilter: D keeps case");
	is_int(pre_exec("From", 0, "From: a", NULL), 1,
	    "prefilter: D, same case");
	is_int(pre_exec("ab(cd)?ef", I, "xabefx", NULL), 1,
	    "prefilter: an optional part is not required");
	is_int(pre_exec("a(bcd|bxd)e", I, "abxde", NULL), 1,
	    "prefilter: nor is an alternative");
	is_int(pre_exec("x(abc)+y", I, "xabcabcy", NULL), 1,
	    "prefilter: the operand of + is");
	is_int(pre_exec("x(abc)+y", I, "xaby", NULL), 0,
	    "prefilter: the operand of + is missing");
	is_int(pre_exec("q(abc){0,1}z", I | X, "qz", NULL), 1,
	    "prefilter: {0,1}");
	is_int(pre_exec("q(abc){2}z", I | X, "qabcabcz", NULL), 1,
	    "prefilter: {2}");
	is_int(pre_exec("\\<word\\>", I, "a word.", NULL), 1,
	    "prefilter: \\< \\>");
	is_int(pre_exec("^abc$", I, "abc", NULL), 1,
	    "prefilter: ^ and $ take imagined newlines");
	is_int(pre_exec("ab\\/cd", I, "xabcd", NULL), 1,
	    "prefilter: \\/ takes no text");
	is_int(pre_exec("abcdef", I, "Xabc", "defY\n"), 1,
	    "prefilter: across memory and spool");
	is_int(pre_exec("abcdefZ", I, "Xabc", "defY\n"), 0,
	    "prefilter: across memory and spool, absent");
	is_int(pre_exec("bcdef", I, "bc", "def\n"), 1,
	    "prefilter: a short piece before");
	is_int(pre_exec("0123456789abcdefghijklmnopqrstuvwxyz!", I,
	    "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ!-", NULL), 1,
	    "prefilter: a literal longer than kept");
	is_int(pre_exec("0123456789abcdefghijklmnopqrstuvwxyz!", I,
	    "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ?-", NULL), 0,
	    "prefilter: a literal longer than kept, absent");
	is_int(pre_exec("x\ny", I, "x\ny", NULL), 1,
	    "prefilter: a newline in the literal");
	is_int(pre_exec("^Subject:.*invoice", I, "Subject: hi\n", NULL), 0,
	    "prefilter: the second literal is missing");
	is_int(pre_exec("^Subject:.*invoice", I, "x\nsubject: an INVOICE\n",
	    NULL), 1, "prefilter: both literals");
	is_int(pre_exec("abc.*def", I, "def abc", NULL), 0,
	    "prefilter: both literals, in the wrong order");
	is_int(pre_exec("q.bb.ccc.dddd.eeeee.ffffff", I,
	    "xbbxcccxddddxeeeeexffffff", NULL), 0,
	    "prefilter: more literals than kept");
	is_int(pre_exec("q.bb.ccc.dddd.eeeee.ffffff", I,
	    "qxbbxcccxddddxeeeeexffffff", NULL), 1,
	    "prefilter: more literals than kept, all there");
	re = compile("nothere", I);
	is_int(re ? rc_regex_count(re, "abc", 3, NULL, 0, 0, 10, &endless) :
	    -2, 0, "prefilter: count without the literal");
	is_int(endless, 0, "prefilter: count without it is not endless");
	rc_regex_free(&re);
	buf_init(&m, 0);
	if (ok(sp != NULL, "prefilter: spool made")) {
		is_int(exec_body("bbzzzyyyyyyyyyyyyyyyyyyyyyyyy", sp, &m), 1,
		    "prefilter: a literal across chunks");
		is_int(exec_body("bbzzzyyyyyyyyyyyyyyyyyyyyyyyyx", sp, &m), 0,
		    "prefilter: a literal across chunks, absent");
		is_int(exec_body("yyyyyyyyyy\nend", sp, &m), 1,
		    "prefilter: at the end of the text");
	}
	spool_free(&sp);
	buf_free(&msg);
	buf_free(&m);
}

int
main(void)
{
	size_t n = sizeof cases / sizeof cases[0];

	for (size_t i = 0; i < n; i++)
		test_case(i, 0);
	for (size_t i = 0; i < n; i++)
		test_case(i, 1);
	test_ext();
	test_errors();
	test_lenient();
	test_spool();
	test_big_body();
	test_hostile();
	test_fuzzy_count();
	test_misc();
	test_prefilter();
	return done_testing();
}

/*
 * sieve-re.c - procmail's regex dialect (as rc/regex-parse.c reads it) turned
 * into the POSIX extended regex a Sieve ":regex" test takes, for a text
 * that is one header field's value or a literal searched in the body.
 * Does: classes rebuilt from their byte sets (procmail has no [:alpha:],
 * no escapes in brackets, ranges that run on), literal braces, "*+?"
 * where an atom is due, \< \> as the non-word byte procmail consumes.
 * Does not: expand ^TO_ and friends, or know which text is searched;
 * says why a pattern has no exact ERE form instead of guessing.
 */
#include <string.h>

#include "sieve-int.h"

/* re_word - a word byte of \< and \> */
static int
re_word(unsigned c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_';
}

/* re_first_blank - may the alternative at p (up to its | or the
   group's end) begin with a blank? Conservative: 1 unless its first
   atom is a plain byte (or escaped one) that is none and not optional */
static int
re_first_blank(const char *p, const char *end)
{
	unsigned c;

	if (p >= end || strchr("|)([.^$*+?", *p) != NULL)
		return 1;
	c = (unsigned char)*p++;
	if (c == '\\') {
		if (p == end || *p == '<' || *p == '>' || *p == '/')
			return 1;
		c = (unsigned char)*p++;
	}
	if (p < end && (*p == '*' || *p == '?'))
		return 1;
	return c == ' ' || c == '\t';
}

/* re_group_blank - may the group opening at p begin with a blank (any
   alternative, or the group optional)? */
static int
re_group_blank(const char *p, const char *end)
{
	int depth = 0, blank = re_first_blank(p + 1, end);

	for (const char *q = p; q < end; q++) {
		if (*q == '\\') {
			q++;
			continue;
		}
		if (*q == '[') {
			q += 1 + (q + 1 < end && q[1] == '^');
			q += q < end && *q == ']';
			while (q < end && *q != ']')
				q++;
			continue;
		}
		if (*q == '(')
			depth++;
		else if (*q == ')' && --depth == 0)
			return blank || (q + 1 < end && (q[1] == '*' ||
			    q[1] == '?'));
		else if (*q == '|' && depth == 1)
			blank |= re_first_blank(q + 1, end);
	}
	return 1;
}

/* re_lit - one literal byte, escaped for an ERE */
static void
re_lit(struct buf *b, unsigned c)
{
	if (strchr(".[]()*+?{}|^$\\", (int)c) != NULL && c != 0)
		buf_putc(b, '\\');
	buf_putc(b, (int)c);
}

/* re_members - a byte set as the members of an ERE bracket (']' first,
   '^' '[' and '-' last, so that no "[:" or range appears by accident) */
static void
re_members(struct buf *b, const unsigned char set[256])
{
	static const char late[] = "]^[-";

	if (set[']'])
		buf_putc(b, ']');
	for (unsigned c = 1; c < 128; c++) {
		unsigned e = c;
		if (!set[c] || strchr(late, (int)c) != NULL)
			continue;
		while (e + 1 < 128 && set[e + 1] &&
		    strchr(late, (int)(e + 1)) == NULL)
			e++;
		buf_putc(b, (int)c);
		if (e > c + 1)
			buf_putc(b, '-');
		if (e > c)
			buf_putc(b, (int)e);
		c = e;
	}
	for (const char *l = late + 1; *l; l++)
		if (set[(unsigned char)*l])
			buf_putc(b, *l);
}

/* re_class - "[...]" at *pp (past the '['): procmail's members, as
   rc/regex-parse.c's rx_members reads them (no escapes, no [:name:], a range
   runs on from the last byte); *blank_r when it may match a blank.
   Returns NULL, or why it has no exact form. */
static const char *
re_class(const char **pp, const char *end, struct buf *b, int *blank_r)
{
	const char *p = *pp;
	unsigned char set[256];
	unsigned prev = 256;
	int neg = 0, n = 0;

	memset(set, 0, sizeof set);
	if (p < end && *p == '^') {
		neg = 1;
		p++;
	}
	if (p < end && (*p == ']' || *p == '-'))
		set[prev = (unsigned char)*p++] = 1;
	while (p < end && *p != ']') {
		unsigned c = (unsigned char)*p++;
		if (c == '-' && prev != 256 && p < end && *p != ']') {
			c = (unsigned char)*p++;
			for (unsigned i = prev + 1; i < c; i++)
				set[i] = 1;
		}
		set[c] = 1;
		prev = c;
	}
	if (p == end)
		return "a class without its closing ]";
	*pp = p + 1;
	for (unsigned c = 128; c < 256; c++)
		if (set[c])
			return "a class with 8-bit bytes (Sieve compares "
			    "UTF-8 characters)";
	if (set[0] || set['\r'])
		return "a class with NUL or CR";
	if (set['\\'])
		return "a class with a backslash (Cyrus's PCRE reads it as an "
		    "escape, POSIX as itself)";
	set['\n'] = 0;		/* a field's value has no newline */
	for (unsigned c = 1; c < 128; c++)
		n += set[c];
	if (n == 0)
		return neg ? "a class of newlines only" :
		    "a class no character of a field matches";
	*blank_r = neg ? !(set[' '] && set['\t']) : set[' '] || set['\t'];
	buf_puts(b, neg ? "[^" : "[");
	re_members(b, set);
	buf_putc(b, ']');
	return NULL;
}

/*
 * sv_re_convert - the procmail pattern p[0..n) as an ERE in out. The
 * pattern may end with "$" (the end of the value); "^" and "$" anywhere
 * else are procmail's newline characters and have no per-field form.
 * *first_blank_r: the text matched may begin with a blank (or the
 * pattern is empty). Returns 0, or -1 with *why.
 */
int
sv_re_convert(const char *p, size_t n, int body, struct buf *out,
    int *first_blank_r, const char **why)
{
	const char *end = p + n;
	int due = 1, depth = 0, first = 1, blank = 0;

	*first_blank_r = n == 0;
	while (p < end) {
		unsigned c = (unsigned char)*p;
		const char *w;

		blank = 0;
		switch (c) {
		case '(':
			depth++;
			buf_putc(out, '(');
			if (first) {
				*first_blank_r |= re_group_blank(p, end);
				first = 0;
			}
			p++;
			due = 1;
			continue;
		case ')':
			if (depth == 0)
				re_lit(out, c);
			else {
				depth--;
				buf_putc(out, ')');
			}
			p++;
			due = 0;
			continue;
		case '|':
			buf_putc(out, '|');
			p++;
			due = 1;
			continue;
		case '*': case '+': case '?':
			p++;
			if (due) {
				re_lit(out, c);
				break;
			}
			if (p < end && strchr("*+?", *p) != NULL) {
				*why = "a repeated repetition (\"**\")";
				return -1;
			}
			buf_putc(out, (int)c);
			continue;
		case '.':
			if (body) {
				*why = "\".\" in a body regex (procmail's stops at "
				    "a line end, Sieve's may not)";
				return -1;
			}
			buf_putc(out, '.');
			p++;
			blank = 1;
			break;
		case '[':
			if (body && p + 1 < end && p[1] == '^') {
				*why = "a negated class in a body regex (it would "
				    "match the line end)";
				return -1;
			}
			p++;
			if ((w = re_class(&p, end, out, &blank)) != NULL) {
				*why = w;
				return -1;
			}
			break;
		case '\\':
			p++;
			if (p == end) {
				re_lit(out, '\\');
				break;
			}
			c = (unsigned char)*p++;
			if (c == '/') {
				*why = "\\/ (a $MATCH) where it has no match "
				    "variable form";
				return -1;
			}
			if ((c == '<' || c == '>') && body) {
				*why = "\\< or \\> in a body regex (the stores' "
				    "CRLF line ends)";
				return -1;
			}
			if (c == '<' || c == '>') {
				/* procmail's consumes a non-word byte or the
				   newline; after that newline nothing more of
				   this line can match: "$" only when last */
				buf_puts(out, c == '<' ? (p == end ?
				    "(^|[^a-zA-Z0-9_]|$)" : "(^|[^a-zA-Z0-9_])") :
				    p == end ? "([^a-zA-Z0-9_]|$)" :
				    "[^a-zA-Z0-9_]");
				blank = 1;
				break;
			}
			if (c >= 128) {
				*why = "an 8-bit byte (Sieve compares UTF-8 "
				    "characters)";
				return -1;
			}
			re_lit(out, c);
			blank = c == ' ' || c == '\t';
			break;
		case '^':
			if (body) {
				/* a LF in a Sieve string is a CRLF (Pigeonhole
				   then misses an LF body); [[:cntrl:]] would
				   take a tab too */
				*why = "^ in a body regex (no regex form for a "
				    "line start in both stores)";
				return -1;
			}
			*why = "^ inside the pattern (procmail's newline: "
			    "it reaches across header lines)";
			return -1;
		case '$':
			if (body || p + 1 != end || depth > 0) {
				*why = "$ inside the pattern (procmail's newline: "
				    "it reaches across header lines)";
				return -1;
			}
			buf_putc(out, '$');
			p++;
			continue;
		default:
			if (c >= 128) {
				*why = "an 8-bit byte (Sieve compares UTF-8 "
				    "characters)";
				return -1;
			}
			if (c < 32 && c != '\t') {
				*why = "a control character";
				return -1;
			}
			re_lit(out, c);
			blank = c == ' ' || c == '\t';
			p++;
			break;
		}
		if (first) {
			*first_blank_r |= blank;
			/* an optional first atom lets the next one be first */
			if (p < end && (*p == '*' || *p == '?'))
				*first_blank_r = 1;
		}
		first = 0;
		due = 0;
	}
	if (depth > 0) {
		*why = "a ( without its )";
		return -1;
	}
	return 0;
}

/*
 * sv_re_literal - the text p[0..n) matches when it is a plain string
 * (procmail escapes of non-alphanumerics allowed): the string in out,
 * 1; 0 when the pattern has regex syntax.
 */
int
sv_re_literal(const char *p, size_t n, struct buf *out)
{
	const char *end = p + n;

	if (n == 0)
		return 0;
	while (p < end) {
		unsigned c = (unsigned char)*p++;
		if (c == '\\') {
			if (p == end)
				return 0;
			c = (unsigned char)*p++;
			if (re_word(c) || c == '/' || c == '<' || c == '>')
				return 0;
		} else if (strchr("^$.[]()*+?|", (int)c) != NULL)
			return 0;
		if (c >= 128 || (c < 32 && c != '\t'))
			return 0;
		buf_putc(out, (int)c);
	}
	return 1;
}

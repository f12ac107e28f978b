/*
 * repair.c - make a message acceptable to a strict store while it
 * streams there. Measured against Cyrus 3.6.1 and Dovecot 2.3.19 (see
 * doc/store.md): Cyrus answers "554 5.6.0 Message contains NUL
 * characters" to any NUL, and "554 5.6.0 Message contains invalid header"
 * to a header line without a colon, one whose name holds a blank, an
 * 8-bit or a control byte or is empty, a leading mbox From_ line, a
 * leading continuation line, a bare CR inside a header line, and body
 * text right after the header with no empty line between; it drops a
 * bare CR in the body silently. Dovecot stores all of these as they are.
 * Does: two layers per byte. The first removes NULs and turns every line
 * end (LF, CRLF, bare CR) into one event; the second follows the header
 * section line by line, holding back the start of a line until it is
 * known to be a field, and ends the header before the first line that
 * is not one.
 * Does not: touch a well-formed message beyond its line ends; encode
 * 8-bit header bytes (Cyrus stores them as 'X' with its default
 * munge8bit; Dovecot keeps them); split long lines (both stores took 1 MB
 * lines).
 */
#include <string.h>

#include "repair.h"

enum {
	R_FIRST,	/* start of the message's first line */
	R_NAME,		/* a header line's start, held back in pend */
	R_HBOL,		/* start of a later header line */
	R_VALUE,	/* inside a header field */
	R_DROP,		/* inside the From_ line being dropped */
	R_BODY,		/* the body */
};

#define EOL (-1)	/* the line-end event of the second layer */

/* repair_init - a fresh message */
void
repair_init(struct repair *r)
{
	memset(r, 0, sizeof *r);
	r->state = R_FIRST;
	r->bol = 1;
}

/* put - append bytes; tracks the line start */
static int
put(struct repair *r, struct buf *out, const char *p, size_t n)
{
	if (n == 0)
		return 0;
	r->bol = p[n - 1] == '\n';
	return buf_append(out, p, n);
}

/* is_ftext - a byte of a field name (RFC 5322 ftext) */
static int
is_ftext(int c)
{
	return c >= 33 && c <= 126 && c != ':';
}

static int line_byte(struct repair *r, int c, struct buf *out);

/*
 * no_field - the held-back start of a line is no field, c shows it: drop
 * the line if it is the message's leading From_ line, else end the header
 * before it (an empty line) and go on with it as body.
 */
static int
no_field(struct repair *r, int c, struct buf *out)
{
	size_t n = r->npend;

	r->npend = 0;
	if (r->nfields == 0 && r->counts[REPAIR_FROM_LINE] == 0 && n >= 5 &&
	    memcmp(r->pend, "From ", 5) == 0) {
		r->counts[REPAIR_FROM_LINE]++;
		r->state = c == EOL ? R_FIRST : R_DROP;
		return 0;
	}
	r->counts[REPAIR_HEADER_END]++;
	r->bad_line = r->line;
	r->state = R_BODY;
	if (put(r, out, "\r\n", 2) == -1 || put(r, out, r->pend, n) == -1)
		return -1;
	return line_byte(r, c, out);
}

/* line_byte - the second layer: one byte (or EOL) of a line */
static int
line_byte(struct repair *r, int c, struct buf *out)
{
	char ch = (char)c;

	switch (r->state) {
	case R_FIRST:
	case R_HBOL:
		r->line++;
		if (c == EOL) {		/* the empty line: the header ends */
			r->state = R_BODY;
			return put(r, out, "\r\n", 2);
		}
		if ((c == ' ' || c == '\t') && r->nfields > 0) {
			r->state = R_VALUE;
			return put(r, out, &ch, 1);
		}
		r->state = R_NAME;
		r->npend = 0;
		r->sawwsp = 0;
		/* FALLTHROUGH */
	case R_NAME:
		if (c == ':' && r->npend > 0 && r->pend[0] != ' ' &&
		    r->pend[0] != '\t') {
			r->nfields++;
			r->state = R_VALUE;
			if (put(r, out, r->pend, r->npend) == -1)
				return -1;
			r->npend = 0;
			return put(r, out, ":", 1);
		}
		if (c != EOL && r->npend < sizeof r->pend &&
		    ((is_ftext(c) && !r->sawwsp) || c == ' ' || c == '\t')) {
			r->sawwsp |= c == ' ' || c == '\t';
			r->pend[r->npend++] = ch;
			return 0;
		}
		return no_field(r, c, out);
	case R_VALUE:
		if (c == EOL) {
			r->state = R_HBOL;
			return put(r, out, "\r\n", 2);
		}
		return put(r, out, &ch, 1);
	case R_DROP:
		if (c == EOL)
			r->state = R_FIRST;
		return 0;
	default:	/* R_BODY */
		if (c == EOL)
			return put(r, out, "\r\n", 2);
		return put(r, out, &ch, 1);
	}
}

/* flush_cr - the CRs held back were bare: each ends a line */
static int
flush_cr(struct repair *r, struct buf *out)
{
	for (; r->ncr > 0; r->ncr--) {
		r->counts[REPAIR_BARE_CR]++;
		if (line_byte(r, EOL, out) == -1)
			return -1;
	}
	return 0;
}

/* repair_feed - the first layer: NULs out, line ends made one event */
int
repair_feed(struct repair *r, const char *p, size_t n, struct buf *out)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = (unsigned char)p[i];
		if (r->state == R_BODY && r->ncr == 0) {
			/* The fast path: copy a run of ordinary body bytes. */
			size_t j = i;
			while (j < n && p[j] != '\n' && p[j] != '\r' && p[j] != '\0')
				j++;
			if (j > i) {
				if (put(r, out, p + i, j - i) == -1)
					return -1;
				i = j;
				continue;
			}
		}
		i++;
		if (c == '\0') {
			r->counts[REPAIR_NUL]++;
			continue;
		}
		if (c == '\r') {
			r->ncr++;
			continue;
		}
		if (c == '\n') {
			if (r->ncr == 0)
				r->counts[REPAIR_BARE_LF]++;
			else
				r->counts[REPAIR_BARE_CR] += r->ncr - 1;
			r->ncr = 0;
			if (line_byte(r, EOL, out) == -1)
				return -1;
			continue;
		}
		if (flush_cr(r, out) == -1 || line_byte(r, c, out) == -1)
			return -1;
	}
	return 0;
}

/* repair_end - CRs and a header line start held back, the final CRLF */
int
repair_end(struct repair *r, struct buf *out)
{
	if (flush_cr(r, out) == -1)
		return -1;
	if (r->state == R_NAME && line_byte(r, EOL, out) == -1)
		return -1;
	if (!r->bol)
		return put(r, out, "\r\n", 2);
	return 0;
}

/* repair_describe - the repairs as text for the log */
void
repair_describe(const struct repair *r, struct buf *out)
{
	const char *sep = "";

	if (r->counts[REPAIR_NUL]) {
		buf_printf(out, "%s%llu NUL bytes removed", sep,
		    r->counts[REPAIR_NUL]);
		sep = "; ";
	}
	if (r->counts[REPAIR_BARE_CR]) {
		buf_printf(out, "%s%llu bare CRs made line ends", sep,
		    r->counts[REPAIR_BARE_CR]);
		sep = "; ";
	}
	if (r->counts[REPAIR_FROM_LINE]) {
		buf_printf(out, "%sleading From_ line dropped", sep);
		sep = "; ";
	}
	if (r->counts[REPAIR_HEADER_END])
		buf_printf(out, "%sheader ended before line %zu (not a "
		    "header field)", sep, r->bad_line);
}

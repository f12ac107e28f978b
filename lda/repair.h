/*
 * repair.h - make a message acceptable to a strict store while it
 * streams there (Cyrus 3.6 refuses what Dovecot 2.3 stores as it is).
 * Does: CRLF line ends (a bare LF or a bare CR ends a line; CRs before an
 * LF collapse into its CRLF); NUL bytes removed; a leading mbox "From "
 * line dropped; the header section ended, by an inserted empty line,
 * before the first line that is neither a header field ("name:") nor a
 * continuation (Postfix's cleanup does the same). A well-formed message
 * passes unchanged apart from its line ends.
 * Does not: read or write files, dot-stuff (lmtp.c), log, allocate beyond
 * what it appends to the caller's buffer.
 */
#ifndef LDA_REPAIR_H
#define LDA_REPAIR_H

#include <stddef.h>

#include "buf.h"

/* Bytes of a header line held back until it is known to be a field. */
#define REPAIR_NAME_MAX 1000

/* What was repaired, counted. */
enum repair_kind {
	REPAIR_BARE_LF,		/* LF without CR (normal Unix mail) */
	REPAIR_BARE_CR,		/* CR without LF, made a line end */
	REPAIR_NUL,		/* NUL bytes removed */
	REPAIR_FROM_LINE,	/* leading mbox From_ line dropped */
	REPAIR_HEADER_END,	/* empty line inserted before a non-field */
	REPAIR_NKINDS
};

struct repair {
	int state;		/* where in the message (repair.c) */
	unsigned ncr;		/* CRs not yet known to end a line or not */
	char pend[REPAIR_NAME_MAX];	/* a header line's start, undecided */
	size_t npend;
	int sawwsp;		/* blanks after the name: only ':' may follow */
	int nfields;		/* header fields seen */
	int bol;		/* the output is at the start of a line */
	size_t line;		/* header lines seen */
	size_t bad_line;	/* the line the header was ended before */
	unsigned long long counts[REPAIR_NKINDS];
};

/* Start repairing a new message. */
void repair_init(struct repair *r);
/* Repair n bytes of the message, appending to out. out must be able to
   grow by 2 * n + REPAIR_NAME_MAX + 4 bytes; returns 0, or -1 if its cap
   was hit. */
int repair_feed(struct repair *r, const char *p, size_t n, struct buf *out);
/* The end of the message: whatever was held back, a final CRLF. */
int repair_end(struct repair *r, struct buf *out);
/* The repairs made, as text for the log ("" when none; bare LFs are
   not mentioned), appended to out. */
void repair_describe(const struct repair *r, struct buf *out);

#endif

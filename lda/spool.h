/*
 * spool.h - the message, copied once into a private unlinked 0600 file
 * (held in a memfd while it is small).
 * Does: stream a message from a descriptor into the spool, keep the header
 * section (bounded) and an index of its fields in memory, leave the body on
 * disk, give bounded reads by offset.
 * Does not: parse MIME, repair anything, choose a destination, log.
 */
#ifndef LDA_SPOOL_H
#define LDA_SPOOL_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"

/* At most this much of the header section is held in memory and indexed;
   anything past it counts as body (the bytes are still delivered intact). */
#define SPOOL_HEADER_MAX (2u * 1024 * 1024)
/* A message up to this size is spooled in memory (memfd), a bigger one in
   an unlinked file in $TMPDIR: memory stays bounded either way. */
#define SPOOL_MEM_MAX (1u * 1024 * 1024)

struct spool_field {
	size_t off;		/* offset of the field's first byte in hdr */
	size_t len;		/* bytes, continuation lines and last newline included */
	size_t name_len;	/* bytes of the name, up to (not incl.) the colon */
};

struct spool {
	int fd;			/* the unlinked spool file, read by offset */
	off_t size;		/* bytes of the message (no mbox From_ line) */
	char *hdr;		/* header section, NUL-terminated, in memory */
	size_t hdr_len;		/* bytes of hdr: the fields, without the blank line */
	off_t body_off;		/* where the body starts (after the blank line) */
	struct spool_field *fields;
	size_t nfields;
	char *from_line;	/* the mbox "From " line given, without newline, or NULL */
	char *from_sender;	/* its sender word, or NULL */
	int crlf;		/* first line ended in CRLF */
	int in_memory;		/* fd is a memfd, not yet a file in $TMPDIR */
};

/*
 * Read all of fd (to EOF) into a new spool in tmpdir (NULL: $TMPDIR or
 * /tmp). keep_from: when the first line is an mbox "From " line, remove it
 * from the message and remember it. Returns 0 and sets *sp_r, or -1 with
 * *err set (allocated) on an I/O error.
 */
int spool_read(int fd, const char *tmpdir, int keep_from,
    struct spool **sp_r, char **err);

/*
 * The same, for a message that arrives in pieces (lmtpd.c: the decoded
 * DATA of a transaction): spool_begin, then spool_put for each piece in
 * order, then spool_end for the indexed spool, or spool_abort to throw
 * it away. No mbox From_ line is taken off. spool_begin returns NULL
 * and spool_put -1, each with *err set (allocated), on an I/O error;
 * after a failed spool_put only spool_abort may follow.
 */
struct spool_writer;
struct spool_writer *spool_begin(const char *tmpdir, char **err);
int spool_put(struct spool_writer *w, const char *p, size_t n, char **err);
struct spool *spool_end(struct spool_writer **wp);
void spool_abort(struct spool_writer **wp);

/* A new spool holding header hdr (hdr_len bytes, without the blank line)
   followed by a blank line and old's body. Returns 0 or -1 with *err. */
int spool_with_header(const struct spool *old, const char *hdr,
    size_t hdr_len, const char *tmpdir, struct spool **sp_r, char **err);

/* Free sp and close its file; *spp becomes NULL. */
void spool_free(struct spool **spp);

/* Read up to n bytes at off. Returns bytes read (0 at end), -1 on error. */
ssize_t spool_pread(const struct spool *sp, void *p, size_t n, off_t off);

/* Copy bytes [from, to) of the message to fd. Returns 0, or -1 with *err. */
int spool_copy(const struct spool *sp, off_t from, off_t to, int fd,
    char **err);

/* Is field i named name (case-insensitive; NULs in the field's name and
   blanks before its colon do not count, as the store repair and readers
   see it)? prefix: name starts the field's name. */
int spool_field_is(const struct spool *sp, size_t i, const char *name,
    int prefix);

/* Index of the first field named name (case-insensitive) at or after
   *start; -1 when none. */
long spool_field_find(const struct spool *sp, const char *name, size_t start);

/* Append field i's value, unfolded (continuation newlines removed, leading
   blanks kept as one), to out. Returns 0 or -1 when out's cap is reached. */
int spool_field_value(const struct spool *sp, size_t i, struct buf *out);

#endif

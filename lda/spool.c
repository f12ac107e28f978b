/*
 * spool.c - copy a message once into a private, unlinked 0600 file.
 * Does: bounded chunked reads; keeps the header section (up to
 * SPOOL_HEADER_MAX) in memory with an index of its fields; removes and
 * remembers a leading mbox "From " line; leaves the body on disk.
 * Indexes the header as the store repair (repair.c) will write it.
 * Does not: parse MIME, repair bytes, choose a destination, log.
 * Errors: returns -1 and sets *err; never logs, never exits.
 */
#include <ctype.h>
#include <errno.h>
#include <sys/mman.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "fdio.h"
#include "spool.h"
#include "xalloc.h"

#define CHUNK 65536
#define FROM_LINE_MAX 4096

enum phase { PH_HEADER, PH_BODY };

struct reader {
	struct spool *sp;
	enum phase ph;
	struct buf hdr;		/* the header section while in PH_HEADER */
	size_t line_start;	/* offset in hdr of the line being read */
	const char *tmpdir;	/* where the spool goes when it outgrows memory */
};

/* spool_err - fill *err from errno; returns -1 */
static int
spool_err(char **err, const char *what)
{
	*err = xasprintf("%s: %s", what, strerror(errno));
	return -1;
}

/* end_header - the header section ends here; the rest is body */
static void
end_header(struct reader *r, size_t hdr_len, off_t body_off)
{
	r->sp->hdr_len = hdr_len;
	r->sp->body_off = body_off;
	r->ph = PH_BODY;
}

/* header_bytes - take bytes of the header section; returns bytes used */
static size_t
header_bytes(struct reader *r, const char *p, size_t n)
{
	const char *nl = memchr(p, '\n', n);
	size_t take = nl ? (size_t)(nl - p) + 1 : n;

	if (buf_append(&r->hdr, p, take) == -1) {
		/* Too big to index: the complete lines so far are the header. */
		end_header(r, r->line_start, (off_t)r->line_start);
		return 0;
	}
	if (nl == NULL)
		return take;
	{
		const char *line = r->hdr.s + r->line_start;
		size_t len = r->hdr.len - r->line_start;
		if (len == 1 || (len == 2 && line[0] == '\r'))
			end_header(r, r->line_start, (off_t)r->hdr.len);
		else if (r->line_start == 0)
			r->sp->crlf = len >= 2 && line[len - 2] == '\r';
	}
	r->line_start = r->hdr.len;
	return take;
}

/* take_from_line - split a leading "From " line off the first chunk;
   returns the number of bytes it took */
static size_t
take_from_line(struct spool *sp, const char *p, size_t n)
{
	const char *nl, *end;

	if (n < 5 || memcmp(p, "From ", 5) != 0)
		return 0;
	nl = memchr(p, '\n', n);
	if (nl == NULL || nl - p > FROM_LINE_MAX)
		return 0;	/* no line end in sight: not an mbox From_ line */
	end = nl > p && nl[-1] == '\r' ? nl - 1 : nl;
	sp->from_line = xstrndup(p, (size_t)(end - p));
	{
		const char *w = sp->from_line + 5, *e;
		while (*w == ' ')
			w++;
		e = w + strcspn(w, " \t");
		if (e > w)
			sp->from_sender = xstrndup(w, (size_t)(e - w));
	}
	return (size_t)(nl - p) + 1;
}

/* to_disk - move an in-memory spool into an unlinked file in tmpdir */
static int
to_disk(struct spool *sp, const char *tmpdir, char **err)
{
	int fd = fd_tmpfile(tmpdir ? tmpdir : "/tmp");

	if (fd == -1)
		return spool_err(err, "create spool file");
	if (spool_copy(sp, 0, sp->size, fd, err) == -1) {
		close(fd);
		return -1;
	}
	close(sp->fd);
	sp->fd = fd;
	sp->in_memory = 0;
	return 0;
}

/* feed - write a piece of the message and index it while in the header */
static int
feed(struct reader *r, const char *p, size_t n, char **err)
{
	size_t off = 0;

	if (r->sp->in_memory && (size_t)r->sp->size + n > SPOOL_MEM_MAX &&
	    to_disk(r->sp, r->tmpdir, err) == -1)
		return -1;
	if (fd_write_all(r->sp->fd, p, n) == -1)
		return spool_err(err, "write spool");
	while (off < n && r->ph == PH_HEADER)
		off += header_bytes(r, p + off, n - off);
	r->sp->size += (off_t)n;
	return 0;
}

/*
 * line_len - bytes of the header line at s (n bytes left), its line end
 * included, as repair.c will write it to a store: a line ends at an LF
 * (the CRs and NULs before it belong to that one line end) or at a bare
 * CR (one line end per CR). *empty: nothing but NULs before the line end.
 */
static size_t
line_len(const char *s, size_t n, int *empty)
{
	*empty = 1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			return i + 1;
		if (s[i] == '\r') {
			size_t j = i + 1;
			while (j < n && (s[j] == '\r' || s[j] == '\0'))
				j++;
			return j < n && s[j] == '\n' ? j + 1 : i + 1;
		}
		if (s[i] != '\0')
			*empty = 0;
	}
	*empty = 0;	/* no line end: the rest of a cut header */
	return n;
}

/*
 * index_fields - find each field of the header section, the way the
 * store repair (repair.c) will write them, so that what a filter drops
 * (a forged X-Spam-Flag) cannot come back as a field in the store: a bare
 * CR ends a line, NULs count for nothing, and a line that is empty but
 * for them ends the header (the rest is body, as the repair will make
 * it). A field's name is compared with its NULs and trailing blanks
 * left out (spool_field_is).
 */
static void
index_fields(struct spool *sp)
{
	size_t off = 0, cap = 0;

	while (off < sp->hdr_len) {
		const char *line = sp->hdr + off, *first = line;
		int empty;
		size_t len = line_len(line, sp->hdr_len - off, &empty);

		if (empty) {	/* the header ends here, the body starts */
			sp->hdr_len = off;
			sp->body_off = (off_t)off;
			sp->hdr[off] = '\0';
			break;
		}
		while (first < line + len - 1 && *first == '\0')
			first++;
		if ((*first == ' ' || *first == '\t') && sp->nfields > 0) {
			sp->fields[sp->nfields - 1].len += len;
		} else {
			const char *colon = memchr(line, ':', len);
			if (sp->nfields == cap) {
				cap = cap ? cap * 2 : 32;
				sp->fields = xreallocarray(sp->fields, cap,
				    sizeof *sp->fields);
			}
			sp->fields[sp->nfields].off = off;
			sp->fields[sp->nfields].len = len;
			/* A line without a colon is kept as a nameless field. */
			sp->fields[sp->nfields].name_len =
			    colon ? (size_t)(colon - line) : 0;
			sp->nfields++;
		}
		off += len;
	}
}

/*
 * spool_new - an empty spool. It starts in memory (memfd: no file system
 * work for the common small message) and moves to an unlinked file in
 * tmpdir once it outgrows SPOOL_MEM_MAX, so memory stays bounded.
 */
static struct spool *
spool_new(const char *tmpdir, char **err)
{
	struct spool *sp = xcalloc(1, sizeof *sp);

	sp->fd = memfd_create("lda-spool", MFD_CLOEXEC);
	sp->in_memory = sp->fd != -1;
	if (sp->fd == -1)
		sp->fd = fd_tmpfile(tmpdir ? tmpdir : "/tmp");
	if (sp->fd == -1) {
		spool_err(err, "create spool file");
		free(sp);
		return NULL;
	}
	return sp;
}

/* finish - close the header phase and build the index */
static void
finish(struct reader *r)
{
	struct spool *sp = r->sp;

	if (r->ph == PH_HEADER)	/* no blank line: all of it is header */
		end_header(r, r->hdr.len, sp->size);
	sp->hdr = buf_steal(&r->hdr);
	sp->hdr[sp->hdr_len] = '\0';
	index_fields(sp);
}

/* spool_read - stdin (or any fd) to EOF into a new spool */
int
spool_read(int fd, const char *tmpdir, int keep_from, struct spool **sp_r,
    char **err)
{
	struct reader r = { 0 };
	char *chunk = xmalloc(CHUNK);
	int first = 1, rc = 0;

	*err = NULL;
	if ((r.sp = spool_new(tmpdir, err)) == NULL) {
		free(chunk);
		return -1;
	}
	r.tmpdir = tmpdir;
	buf_init(&r.hdr, SPOOL_HEADER_MAX);
	for (;;) {
		ssize_t n = fd_read_full(fd, chunk, CHUNK);
		size_t skip = 0;
		if (n < 0) {
			rc = spool_err(err, "read message");
			break;
		}
		if (n == 0)
			break;
		if (first && keep_from)
			skip = take_from_line(r.sp, chunk, (size_t)n);
		first = 0;
		if ((rc = feed(&r, chunk + skip, (size_t)n - skip, err)) == -1)
			break;
	}
	free(chunk);
	finish(&r);
	if (rc == -1)
		spool_free(&r.sp);
	*sp_r = r.sp;
	return rc;
}

/* A spool being written piece by piece (spool_begin, spool.h). */
struct spool_writer {
	struct reader r;
};

/* spool_begin - an empty spool to feed with spool_put */
struct spool_writer *
spool_begin(const char *tmpdir, char **err)
{
	struct spool_writer *w = xcalloc(1, sizeof *w);

	*err = NULL;
	if ((w->r.sp = spool_new(tmpdir, err)) == NULL) {
		free(w);
		return NULL;
	}
	w->r.tmpdir = tmpdir;
	buf_init(&w->r.hdr, SPOOL_HEADER_MAX);
	return w;
}

/* spool_put - the next n bytes of the message */
int
spool_put(struct spool_writer *w, const char *p, size_t n, char **err)
{
	*err = NULL;
	return feed(&w->r, p, n, err);
}

/* spool_end - the message is complete: the spool, indexed */
struct spool *
spool_end(struct spool_writer **wp)
{
	struct spool_writer *w = *wp;
	struct spool *sp;

	finish(&w->r);
	sp = w->r.sp;
	free(w);
	*wp = NULL;
	return sp;
}

/* spool_abort - throw away a spool being written */
void
spool_abort(struct spool_writer **wp)
{
	struct spool_writer *w = *wp;

	if (w == NULL)
		return;
	buf_free(&w->r.hdr);
	spool_free(&w->r.sp);
	free(w);
	*wp = NULL;
}

/* spool_with_header - a new spool: hdr, a blank line, old's body */
int
spool_with_header(const struct spool *old, const char *hdr, size_t hdr_len,
    const char *tmpdir, struct spool **sp_r, char **err)
{
	struct reader r = { 0 };
	const char *blank = old->crlf ? "\r\n" : "\n";
	int rc;

	*err = NULL;
	if ((r.sp = spool_new(tmpdir, err)) == NULL)
		return -1;
	r.tmpdir = tmpdir;
	buf_init(&r.hdr, SPOOL_HEADER_MAX);
	rc = feed(&r, hdr, hdr_len, err);
	if (rc == 0 && (hdr_len == 0 || hdr[hdr_len - 1] != '\n'))
		rc = feed(&r, blank + (old->crlf ? 1 : 0), 1, err);
	if (rc == 0)
		rc = feed(&r, blank, strlen(blank), err);
	if (rc == 0 && r.sp->in_memory && (size_t)(r.sp->size + old->size -
	    old->body_off) > SPOOL_MEM_MAX)
		rc = to_disk(r.sp, tmpdir, err);
	if (rc == 0 && spool_copy(old, old->body_off, old->size, r.sp->fd, err) == 0)
		r.sp->size += old->size - old->body_off;
	else
		rc = -1;
	finish(&r);
	if (old->from_line)
		r.sp->from_line = xstrdup(old->from_line);
	if (old->from_sender)
		r.sp->from_sender = xstrdup(old->from_sender);
	if (rc == -1)
		spool_free(&r.sp);
	*sp_r = r.sp;
	return rc;
}

/* spool_free - close and free; *spp becomes NULL */
void
spool_free(struct spool **spp)
{
	struct spool *sp = *spp;

	if (sp == NULL)
		return;
	if (sp->fd != -1)
		close(sp->fd);
	free(sp->hdr);
	free(sp->fields);
	free(sp->from_line);
	free(sp->from_sender);
	free(sp);
	*spp = NULL;
}

/* spool_pread - bounded read at an offset */
ssize_t
spool_pread(const struct spool *sp, void *p, size_t n, off_t off)
{
	for (;;) {
		ssize_t r = pread(sp->fd, p, n, off);
		if (r >= 0 || errno != EINTR)
			return r;
	}
}

/* spool_copy - bytes [from, to) to fd */
int
spool_copy(const struct spool *sp, off_t from, off_t to, int fd, char **err)
{
	char chunk[CHUNK];

	while (from < to) {
		size_t want = (size_t)(to - from) < sizeof chunk ?
		    (size_t)(to - from) : sizeof chunk;
		ssize_t n = spool_pread(sp, chunk, want, from);
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return spool_err(err, "read spool");
		}
		if (fd_write_all(fd, chunk, (size_t)n) == -1)
			return spool_err(err, "write");
		from += n;
	}
	return 0;
}

/*
 * spool_field_is - is field i called name (case-insensitive), as a store
 * or a mail reader sees the name: its NUL bytes left out (the store
 * repair removes them) and blanks before the colon ignored. prefix: name
 * is the start of the field's name.
 */
int
spool_field_is(const struct spool *sp, size_t i, const char *name, int prefix)
{
	const struct spool_field *f = &sp->fields[i];
	const char *p = sp->hdr + f->off, *end = p + f->name_len;

	while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\0'))
		end--;
	for (; p < end; p++) {
		if (*p == '\0')
			continue;
		if (*name == '\0' ||
		    tolower((unsigned char)*p) != tolower((unsigned char)*name))
			return prefix && *name == '\0';
		name++;
	}
	return *name == '\0' && f->name_len > 0;
}

/* spool_field_find - first field named name at or after start */
long
spool_field_find(const struct spool *sp, const char *name, size_t start)
{
	for (size_t i = start; i < sp->nfields; i++)
		if (spool_field_is(sp, i, name, 0))
			return (long)i;
	return -1;
}

/* spool_field_value - field i's value, unfolded, appended to out */
int
spool_field_value(const struct spool *sp, size_t i, struct buf *out)
{
	const struct spool_field *f = &sp->fields[i];
	const char *p = sp->hdr + f->off + f->name_len + 1;
	const char *end = sp->hdr + f->off + f->len;

	if (f->name_len == 0)
		return 0;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	for (; p < end; p++) {
		if (*p == '\r' && p + 1 < end && p[1] == '\n')
			continue;
		if (*p == '\n')
			continue;
		if (buf_putc(out, *p) == -1)
			return -1;
	}
	return 0;
}

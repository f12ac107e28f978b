/*
 * regex-text.c - the text a pattern searches: memory (a header) followed
 * by a part of the spool, read in bounded chunks (never whole), seen as
 * procmail's symbols with the imagined newlines around it.
 * Does: set a text up, read the spool chunk holding an offset, start a
 * reader at an offset (rx_byte and rx_next are inline, regex-int.h).
 * Does not: match.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "../lda/spool.h"
#include "../lda/xalloc.h"
#include "regex-int.h"

/* rx_text_init - the text of an exec; -1 (errno EFBIG) past TRE's int */
int
rx_text_init(struct rx_text *t, const char *mem, size_t memlen,
    const struct spool *sp, off_t from, off_t to)
{
	memset(t, 0, sizeof *t);
	t->mem = mem;
	t->memlen = mem ? memlen : 0;
	t->sp = sp;
	t->from = from;
	t->len = t->memlen;
	if (sp != NULL && to > from)
		t->len += (size_t)(to - from);
	if (t->len > (size_t)INT_MAX - 8) {
		errno = EFBIG;
		return -1;
	}
	return 0;
}

/* rx_fill - read the spool chunk holding text offset off; 0 or -1 */
int
rx_fill(struct rx_text *t, size_t off)
{
	size_t want = t->len - off < RX_CHUNK ? t->len - off : RX_CHUNK;
	size_t got = 0;

	/* no chunk is longer than the spool's part of the text */
	if (t->buf == NULL)
		t->buf = xmalloc(t->len - t->memlen < RX_CHUNK ?
		    t->len - t->memlen : RX_CHUNK);
	while (got < want) {
		ssize_t r = spool_pread(t->sp, t->buf + got, want - got,
		    t->from + (off_t)(off + got - t->memlen));
		if (r <= 0) {
			t->err = r == 0 ? EIO : errno;
			return -1;
		}
		got += (size_t)r;
	}
	t->boff = off;
	t->blen = got;
	return 0;
}

/*
 * rx_reader_init - the symbols procmail searches when it starts at text
 * offset p: the imagined newline first when p is 0; the real newline
 * before p again when p starts a line (so ^ can match it); an imagined
 * one at p when nothing is left; then the text and the closing newline.
 * base is where procmail places the first symbol.
 */
void
rx_reader_init(struct rx_reader *r, struct rx_text *t, size_t p)
{
	r->t = t;
	r->pos = p;
	r->eot = 1;
	r->lead = -1;
	r->base = (long long)p;
	if (p == 0 || rx_byte(t, p - 1) == '\n') {
		r->lead = p == 0 ? RX_BOT : '\n';
		r->base--;
	} else if (p == t->len) {
		r->lead = '\n';
	}
}

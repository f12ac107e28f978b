/*
 * route.c - per-user routing tables (STORE_ROUTES): recipient -> STORE.
 * Does: read a constant database (cdb, D. J. Bernstein's format, as
 * tinycdb's "cdb -c" writes it) with bounded pread()s, a few per lookup,
 * nothing mapped, nothing linked; or load a small flat file of
 * "key value" lines (the input format of "cdb -c -m") once, sorted.
 * Does not: parse or trust the value beyond its length (store.c parses
 * it), log, exit. The recipient is only ever a lookup key.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "fdio.h"
#include "route.h"
#include "xalloc.h"

#define CDB_HEADER 2048		/* 256 (position, slots) pairs */

struct route_entry {
	char *key, *value;
};

struct route {
	char *spec;		/* as written, for messages */
	int fd;			/* cdb: the open file; -1 for a flat file */
	off_t size;		/* cdb: its size when opened */
	struct route_entry *e;	/* flat file: sorted by key */
	size_t n;
};

/* ------------------------------------------------------------ cdb */

/* cdb_hash - the cdb hash of n bytes */
static uint32_t
cdb_hash(const char *s, size_t n)
{
	uint32_t h = 5381;

	for (size_t i = 0; i < n; i++)
		h = ((h << 5) + h) ^ (unsigned char)s[i];
	return h;
}

/* u32 - a little-endian 32-bit number */
static uint32_t
u32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/* cdb_read - n bytes at off, within the file; 0, or -1 with *err */
static int
cdb_read(const struct route *r, uint64_t off, void *p, size_t n, char **err)
{
	ssize_t got = 0;
	size_t done = 0;

	if (off > (uint64_t)r->size || n > (uint64_t)r->size - off)
		return xerr(err, "STORE_ROUTES %s: not a cdb file (a pointer "
		    "past its end)", r->spec);
	while (done < n) {
		got = pread(r->fd, (char *)p + done, n - done,
		    (off_t)(off + done));
		if (got == -1 && errno == EINTR)
			continue;
		if (got <= 0)
			return xerr(err, "STORE_ROUTES %s: read: %s", r->spec,
			    got == 0 ? "file shorter than when opened" :
			    strerror(errno));
		done += (size_t)got;
	}
	return 0;
}

/* cdb_find - the first value of key; 1, 0 (none) or -1 with *err */
static int
cdb_find(const struct route *r, const char *key, size_t klen,
    char **value_r, char **err)
{
	unsigned char b[8];
	uint32_t h = cdb_hash(key, klen), pos, slots;
	char kbuf[ROUTE_KEY_MAX];

	if (cdb_read(r, (h & 255) * 8, b, 8, err) == -1)
		return -1;
	pos = u32(b);
	slots = u32(b + 4);
	for (uint32_t i = 0, s = slots ? (h >> 8) % slots : 0; i < slots;
	    i++, s = (s + 1) % slots) {
		uint32_t rh, rpos, kl, dl;
		if (cdb_read(r, (uint64_t)pos + (uint64_t)s * 8, b, 8, err) == -1)
			return -1;
		rh = u32(b);
		if ((rpos = u32(b + 4)) == 0)
			return 0;		/* an empty slot ends the chain */
		if (rh != h)
			continue;
		if (cdb_read(r, rpos, b, 8, err) == -1)
			return -1;
		kl = u32(b);
		dl = u32(b + 4);
		if (kl != klen)
			continue;
		if (cdb_read(r, (uint64_t)rpos + 8, kbuf, kl, err) == -1)
			return -1;
		if (memcmp(kbuf, key, kl) != 0)
			continue;
		if (dl > ROUTE_VALUE_MAX)
			return xerr(err, "STORE_ROUTES %s: the value of \"%.*s\" "
			    "is over %d bytes", r->spec, (int)kl, key,
			    ROUTE_VALUE_MAX);
		*value_r = xmalloc((size_t)dl + 1);
		if (cdb_read(r, (uint64_t)rpos + 8 + kl, *value_r, dl,
		    err) == -1) {
			free(*value_r);
			*value_r = NULL;
			return -1;
		}
		/* as the flat file's: without trailing blanks (cdb -m keeps
		   them) */
		while (dl > 0 && strchr(" \t\r", (*value_r)[dl - 1]))
			dl--;
		(*value_r)[dl] = '\0';
		return 1;
	}
	return 0;
}

/* cdb_open - open a cdb file; 0, or -1 with *err */
static int
cdb_open(struct route *r, const char *path, char **err)
{
	struct stat sb;

	if ((r->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		return xerr(err, "STORE_ROUTES %s: %s", r->spec,
		    strerror(errno));
	if (fstat(r->fd, &sb) == -1)
		return xerr(err, "STORE_ROUTES %s: %s", r->spec,
		    strerror(errno));
	if (!S_ISREG(sb.st_mode) || sb.st_size < CDB_HEADER)
		return xerr(err, "STORE_ROUTES %s: not a cdb file (%s)",
		    r->spec, S_ISREG(sb.st_mode) ? "shorter than its header" :
		    "not a regular file");
	r->size = sb.st_size;
	return 0;
}

/* ------------------------------------------------------- flat file */

/* by_key - qsort order of entries */
static int
by_key(const void *a, const void *b)
{
	return strcmp(((const struct route_entry *)a)->key,
	    ((const struct route_entry *)b)->key);
}

/* lower - s folded to ASCII lower case, in place */
static char *
lower(char *s)
{
	for (char *p = s; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return s;
}

/* flat_line - one line of a flat file into r; 0, or -1 with *err */
static int
flat_line(struct route *r, char *line, unsigned lineno, char **err)
{
	char *k = line + strspn(line, " \t"), *v, *end;

	if (*k == '\0' || *k == '#')
		return 0;
	v = k + strcspn(k, " \t");
	if (*v == '\0')
		return xerr(err, "STORE_ROUTES %s:%u: want a key, blanks and "
		    "a value (a STORE)", r->spec, lineno);
	*v++ = '\0';
	v += strspn(v, " \t");
	end = v + strlen(v);
	while (end > v && (end[-1] == ' ' || end[-1] == '\t' ||
	    end[-1] == '\r'))
		*--end = '\0';
	if (*v == '\0' || strlen(k) > ROUTE_KEY_MAX ||
	    strlen(v) > ROUTE_VALUE_MAX)
		return xerr(err, "STORE_ROUTES %s:%u: %s", r->spec, lineno,
		    *v == '\0' ? "want a key, blanks and a value (a STORE)" :
		    "key or value too long");
	r->e = xreallocarray(r->e, r->n + 1, sizeof *r->e);
	r->e[r->n].key = lower(xstrdup(k));
	r->e[r->n++].value = xstrdup(v);
	return 0;
}

/* flat_open - load and check a whole flat file; 0, or -1 with *err */
static int
flat_open(struct route *r, const char *path, char **err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	char *data = NULL, *line, *nl;
	struct stat sb;
	ssize_t n = -1;
	unsigned lineno = 0;
	int rc = 0;

	if (fd != -1 && fstat(fd, &sb) == 0) {
		/* a bounded read: the size now, or one byte past the cap */
		size_t want = sb.st_size > 0 && sb.st_size < ROUTE_FILE_MAX ?
		    (size_t)sb.st_size + 1 : ROUTE_FILE_MAX + 1;
		data = xmalloc(want + 1);
		n = fd_read_full(fd, data, want);
	}
	if (n == -1) {
		rc = xerr(err, "STORE_ROUTES %s: %s", r->spec, strerror(errno));
		goto out;
	}
	if (n > ROUTE_FILE_MAX) {
		rc = xerr(err, "STORE_ROUTES %s: over %d bytes; build a cdb "
		    "table (cdb -c -m)", r->spec, ROUTE_FILE_MAX);
		goto out;
	}
	data[n] = '\0';
	if (memchr(data, '\0', (size_t)n) != NULL) {
		rc = xerr(err, "STORE_ROUTES %s: a NUL byte: not a text file",
		    r->spec);
		goto out;
	}
	for (line = data; rc == 0 && *line; line = nl) {
		if ((nl = strchr(line, '\n')) != NULL)
			*nl++ = '\0';
		else
			nl = line + strlen(line);
		rc = flat_line(r, line, ++lineno, err);
	}
	if (rc == 0 && r->n > 1) {
		qsort(r->e, r->n, sizeof *r->e, by_key);
		for (size_t i = 1; rc == 0 && i < r->n; i++)
			if (strcmp(r->e[i - 1].key, r->e[i].key) == 0)
				rc = xerr(err, "STORE_ROUTES %s: key \"%s\" "
				    "twice", r->spec, r->e[i].key);
	}
out:
	if (fd != -1)
		close(fd);
	free(data);
	return rc;
}

/* flat_find - the value of key, or 0 */
static int
flat_find(const struct route *r, const char *key, char **value_r)
{
	struct route_entry want = { (char *)key, NULL }, *e;

	e = r->n ? bsearch(&want, r->e, r->n, sizeof *r->e, by_key) : NULL;
	if (e == NULL)
		return 0;
	*value_r = xstrdup(e->value);
	return 1;
}

/* ---------------------------------------------------------- tables */

/* route_open - open the table spec names */
int
route_open(const char *spec, struct route **r_r, char **err)
{
	struct route *r = xcalloc(1, sizeof *r);
	int cdb = strncmp(spec, "cdb:/", 5) == 0;
	int rc;

	*err = NULL;
	r->fd = -1;
	r->spec = xstrdup(spec);
	if (!cdb && strncmp(spec, "file:/", 6) != 0) {
		rc = xerr(err, "STORE_ROUTES=%s: want cdb:/absolute/path or "
		    "file:/absolute/path", spec);
	} else
		rc = cdb ? cdb_open(r, spec + 4, err) :
		    flat_open(r, spec + 5, err);
	if (rc == -1) {
		route_close(&r);
		return -1;
	}
	*r_r = r;
	return 0;
}

/* find - key (made lower case) in r */
static int
find(struct route *r, struct buf *key, char **value_r, char **err)
{
	lower(key->s);
	if (r->fd != -1)
		return cdb_find(r, key->s, key->len, value_r, err);
	return flat_find(r, key->s, value_r);
}

/* route_lookup - rcpt's value: user@domain, then @domain; or user */
int
route_lookup(struct route *r, const char *rcpt, char **value_r, char **err)
{
	const char *at = strrchr(rcpt, '@');
	struct buf key;
	int found;

	*value_r = NULL;
	/* a recipient no key can be is in no table: the default store */
	if (*rcpt == '\0' || strlen(rcpt) > ROUTE_KEY_MAX)
		return 0;
	for (const char *p = rcpt; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return 0;
	buf_init(&key, 0);
	buf_puts(&key, rcpt);
	found = find(r, &key, value_r, err);
	if (found == 0 && at && at[1]) {
		buf_reset(&key);
		buf_puts(&key, at);
		found = find(r, &key, value_r, err);
	}
	buf_free(&key);
	return found;
}

/* route_close - close, free; *rp = NULL */
void
route_close(struct route **rp)
{
	struct route *r = *rp;

	if (r == NULL)
		return;
	if (r->fd != -1)
		close(r->fd);
	for (size_t i = 0; i < r->n; i++) {
		free(r->e[i].key);
		free(r->e[i].value);
	}
	free(r->e);
	free(r->spec);
	free(r);
	*rp = NULL;
}

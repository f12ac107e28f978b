/*
 * keyfile.c - the small locked key files of @dedup and @vacation.
 * Does: one line "TIME KEY .\n" per record, KEY escaped (bytes outside
 * '!'..'~', and '%', as %XX), so that no byte of a hostile key can make
 * a line of its own; a line cut short (a kill, a full disk) has no " ."
 * and is skipped; the lock is fcntl's on the open descriptor, taken
 * again when a writer renamed a shortened file into place meanwhile.
 * Does not: log (errors are returned), decide anything about a key.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lda/buf.h"
#include "../lda/fdio.h"
#include "../lda/undo.h"
#include "../lda/xalloc.h"
#include "keyfile.h"

#define KEYFILE_TRIES 10	/* reopen after a rename, at most */

/* kf_escape - key as it is written in the file */
static char *
kf_escape(const char *key, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	char *e = xmalloc(len * 3 + 1), *p = e;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)key[i];
		if (c > ' ' && c < 0x7f && c != '%')
			*p++ = (char)c;
		else {
			*p++ = '%';
			*p++ = hex[c >> 4];
			*p++ = hex[c & 15];
		}
	}
	*p = '\0';
	return e;
}

/* kf_lock - wait for the fcntl lock on fd (shared or exclusive) */
static int
kf_lock(int fd, int write)
{
	struct flock fl = { .l_type = write ? F_WRLCK : F_RDLCK,
	    .l_whence = SEEK_SET };

	while (fcntl(fd, F_SETLKW, &fl) == -1)
		if (errno != EINTR)
			return -1;
	return 0;
}

/* kf_same - is fd still the file at path (no rename replaced it)? */
static int
kf_same(int fd, const char *path)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && lstat(path, &b) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* kf_read - the whole locked file into kf->text */
static int
kf_read(struct keyfile *kf, char **err)
{
	struct stat st;
	ssize_t n;

	if (fstat(kf->fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		*err = xasprintf("%s: %s", kf->path, errno ? strerror(errno) :
		    "not a regular file");
		return -1;
	}
	if (st.st_size > KEYFILE_SIZE_MAX) {
		*err = xasprintf("%s: larger than %d bytes", kf->path,
		    KEYFILE_SIZE_MAX);
		return -1;
	}
	kf->text = xmalloc((size_t)st.st_size + 1);
	n = pread(kf->fd, kf->text, (size_t)st.st_size, 0);
	if (n < 0) {
		*err = xasprintf("read %s: %s", kf->path, strerror(errno));
		return -1;
	}
	kf->len = (size_t)n;
	kf->text[kf->len] = '\0';
	return 0;
}

/* kf_open_once - open and lock; 1 done, 0 renamed meanwhile, -1 error */
static int
kf_open_once(struct keyfile *kf, char **err)
{
	int flags = O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK |
	    (kf->write ? O_RDWR | O_CREAT | O_APPEND : O_RDONLY);
	struct stat st;

	errno = 0;
	if ((kf->fd = open(kf->path, flags, 0600)) == -1) {
		if (errno == ENOENT && !kf->write)
			return 1;	/* nothing recorded yet */
		*err = xasprintf("open %s: %s", kf->path, strerror(errno));
		return -1;
	}
	/* a FIFO or a device would block or never end: a regular file */
	if (fstat(kf->fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		*err = xasprintf("%s: not a regular file", kf->path);
		return -1;
	}
	if (kf_lock(kf->fd, kf->write) == -1) {
		*err = xasprintf("lock %s: %s", kf->path, strerror(errno));
		return -1;
	}
	if (!kf_same(kf->fd, kf->path)) {
		close(kf->fd);
		kf->fd = -1;
		return 0;
	}
	return kf_read(kf, err) == -1 ? -1 : 1;
}

/* keyfile_open - open, lock and read path (keyfile.h) */
int
keyfile_open(struct keyfile *kf, const char *path, int write, char **err)
{
	int r = 0;

	memset(kf, 0, sizeof *kf);
	kf->fd = -1;
	kf->path = xstrdup(path);
	kf->write = write;
	for (int i = 0; i < KEYFILE_TRIES && r == 0; i++)
		r = kf_open_once(kf, err);
	if (r == 0)
		*err = xasprintf("%s: replaced %d times while waiting for its "
		    "lock", path, KEYFILE_TRIES);
	if (r != 1) {
		keyfile_close(kf);
		return -1;
	}
	if (kf->text == NULL)
		kf->text = xstrdup("");
	return 0;
}

/* kf_line - parse "TIME KEY .\n" at p (end e): the key's bounds, or -1 */
static long long
kf_line(const char *p, const char *e, const char **key, size_t *klen)
{
	long long t = 0;
	const char *k;

	if (p == e || *p < '0' || *p > '9')
		return -1;
	while (p < e && *p >= '0' && *p <= '9' && t < 1000000000000LL)
		t = t * 10 + (*p++ - '0');
	if (p == e || *p++ != ' ')
		return -1;
	for (k = p; p < e && *p != ' '; p++)
		;
	if (p == k || e - p != 2 || p[1] != '.')
		return -1;
	*key = k;
	*klen = (size_t)(p - k);
	return t;
}

/* keyfile_find - the newest time recorded for key, or -1 */
time_t
keyfile_find(const struct keyfile *kf, const char *key, size_t len)
{
	char *want;
	size_t wlen;
	const char *p = kf->text, *end = kf->text + kf->len;
	time_t found = -1;

	if (len == 0 || len > KEYFILE_KEY_MAX)
		return -1;
	want = kf_escape(key, len);
	wlen = strlen(want);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *k;
		size_t klen;
		long long t;
		if (nl == NULL)
			break;		/* a line cut short */
		t = kf_line(p, nl, &k, &klen);
		if (t >= 0 && klen == wlen && memcmp(k, want, wlen) == 0)
			found = (time_t)t;
		p = nl + 1;
	}
	free(want);
	return found;
}

/* keyfile_lookup - one key's time, read under a shared lock */
int
keyfile_lookup(const char *path, const char *key, size_t len, time_t *when_r,
    char **err)
{
	struct keyfile kf;

	if (keyfile_open(&kf, path, 0, err) == -1)
		return -1;
	*when_r = keyfile_find(&kf, key, len);
	keyfile_close(&kf);
	return *when_r != (time_t)-1;
}

/* kf_tail - where the newest whole lines fitting in keep bytes begin */
static size_t
kf_tail(const struct keyfile *kf, size_t keep)
{
	size_t end = kf->len, start = kf->len;

	while (end > 0 && kf->text[end - 1] != '\n')
		end--;			/* a line cut short goes */
	start = end;
	while (start > 0) {
		size_t b = start - 1;
		while (b > 0 && kf->text[b - 1] != '\n')
			b--;
		if (end - b > keep)
			break;
		start = b;
	}
	return start;
}

/* kf_replace - a new file (the newest lines, then line) renamed in */
static int
kf_replace(struct keyfile *kf, const char *line, size_t len, size_t max,
    char **err)
{
	char *tmp = xasprintf("%s.XXXXXX", kf->path);
	size_t from = kf_tail(kf, max / 4 * 3 > len ? max / 4 * 3 - len : 0);
	int fd = mkstemp(tmp), e;

	if (fd == -1) {
		*err = xasprintf("create %s: %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	undo_file(0, tmp);	/* removed if the run is stopped */
	if (fd_write_all(fd, kf->text + from, kf->len - from) == -1 ||
	    fd_write_all(fd, line, len) == -1 || fsync(fd) == -1 ||
	    rename(tmp, kf->path) == -1) {
		e = errno;
		*err = xasprintf("write %s: %s", tmp, strerror(e));
		unlink(tmp);
		undo_file(0, NULL);
		close(fd);
		free(tmp);
		return -1;
	}
	undo_file(0, NULL);
	close(fd);
	free(tmp);
	return 0;
}

/* keyfile_add - record key with time when (keyfile.h) */
int
keyfile_add(struct keyfile *kf, const char *key, size_t len, time_t when,
    size_t max, char **err)
{
	char *esc;
	struct buf line;
	int r;

	if (!kf->write || kf->fd == -1 || len == 0 || len > KEYFILE_KEY_MAX) {
		*err = xasprintf("%s: key not recordable", kf->path);
		return -1;
	}
	esc = kf_escape(key, len);
	buf_init(&line, 0);
	/* a line cut short before us is ended, so ours stands alone */
	if (kf->len && kf->text[kf->len - 1] != '\n')
		buf_putc(&line, '\n');
	buf_printf(&line, "%lld %s .\n", (long long)when, esc);
	free(esc);
	if (line.len > max / 2) {
		*err = xasprintf("%s: a key of %zu bytes does not fit in %zu",
		    kf->path, len, max);
		r = -1;
	} else if (kf->len + line.len > max)
		r = kf_replace(kf, line.s, line.len, max, err);
	else if ((r = fd_write_all(kf->fd, line.s, line.len)) == -1) {
		*err = xasprintf("write %s: %s", kf->path, strerror(errno));
		/* a short write (disk full) is taken back; a line cut
		   short is skipped by readers anyway */
		if (ftruncate(kf->fd, (off_t)kf->len) == -1)
			r = -1;
	}
	buf_free(&line);
	return r;
}

/* keyfile_close - unlock and release */
void
keyfile_close(struct keyfile *kf)
{
	if (kf->fd != -1)
		close(kf->fd);	/* releases the lock */
	kf->fd = -1;
	free(kf->path);
	free(kf->text);
	kf->path = kf->text = NULL;
	kf->len = 0;
}

/*
 * shim.c - an LD_PRELOAD fault shim for lda's fault tests: makes chosen
 * calls fail, stall or kill the process, on descriptors whose path (by
 * /proc/self/fd) matches, so faults a real file system will not show on
 * demand (EIO on fsync, EDQUOT on write, a kill in the middle of an
 * append) can be tested against the real binary.
 * LDA_FAULT="CALL:ACTION:MATCH[:AFTER]" (several joined by ';'):
 *   CALL    fsync | write | send (as write, for sockets) | dot (after a write that ends with the
 *           final "\r\n.\r\n" of an LMTP DATA: the store has all of it)
 *   ACTION  an errno name (EIO, ENOSPC, EDQUOT, EFBIG, EROFS): the call
 *           fails with it; SIGTERM SIGHUP SIGINT SIGALRM SIGKILL: the
 *           process raises it; SLEEPn: sleeps n seconds, then goes on
 *   MATCH   a substring of the descriptor's path; a trailing '$' makes
 *           it a suffix
 *   AFTER   for write: act once this many bytes went to matching
 *           descriptors (the write that crosses it is cut there first)
 * LDA_FAULT_MARK=FILE: "PID\n" is written there when a fault acts.
 * Does not: act in processes the tested one starts (LD_PRELOAD stays,
 * LDA_FAULT is cleared at the first fault that acts).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct fault {
	char call[16], action[16], match[256];
	long long after;
	int acted;
};

static struct fault faults[8];
static int nfaults = -1;
static long long written;

static void
load(void)
{
	const char *v = getenv("LDA_FAULT");
	char buf[1024], *save = NULL;

	nfaults = 0;
	if (v == NULL || strlen(v) >= sizeof buf)
		return;
	strcpy(buf, v);
	for (char *f = strtok_r(buf, ";", &save); f && nfaults < 8;
	    f = strtok_r(NULL, ";", &save)) {
		struct fault *x = &faults[nfaults];
		char *a = strchr(f, ':'), *m, *n;
		if (a == NULL || (m = strchr(a + 1, ':')) == NULL)
			continue;
		*a++ = '\0';
		*m++ = '\0';
		x->after = -1;
		if ((n = strrchr(m, ':')) != NULL) {
			*n++ = '\0';
			x->after = atoll(n);
		}
		snprintf(x->call, sizeof x->call, "%s", f);
		snprintf(x->action, sizeof x->action, "%s", a);
		snprintf(x->match, sizeof x->match, "%s", m);
		nfaults++;
	}
}

/* The path each descriptor was opened by: /proc/self/fd cannot be read
   once lda has become the recipient (no longer dumpable). */
#define NFD 1024
static char *paths[NFD];

static void
remember(int fd, int dirfd, const char *path)
{
	char cwd[4096], full[8192];

	if (fd < 0 || fd >= NFD || path == NULL)
		return;
	free(paths[fd]);
	paths[fd] = NULL;
	if (path[0] != '/' && dirfd == AT_FDCWD && getcwd(cwd, sizeof cwd)) {
		snprintf(full, sizeof full, "%s/%s", cwd, path);
		path = full;
	} else if (path[0] != '/' && dirfd >= 0 && dirfd < NFD && paths[dirfd]) {
		snprintf(full, sizeof full, "%s/%s", paths[dirfd], path);
		path = full;
	}
	paths[fd] = strdup(path);
}

/* the mode argument of an open that creates */
#define OPEN_MODE(flags, mode) do {                                      \
	va_list ap;                                                      \
	va_start(ap, flags);                                             \
	mode = (flags) & (O_CREAT | O_TMPFILE) ? (mode_t)va_arg(ap, int) : 0; \
	va_end(ap);                                                      \
} while (0)

/* opened - the real open call named sym, its descriptor remembered */
static int
opened(const char *sym, int dirfd, const char *path, int flags, mode_t mode)
{
	int fd;

	if (strcmp(sym, "openat") == 0) {
		static int (*real)(int, const char *, int, ...);
		if (real == NULL)
			real = (int (*)(int, const char *, int, ...))dlsym(RTLD_NEXT, sym);
		fd = real(dirfd, path, flags, mode);
	} else {
		static int (*real_open)(const char *, int, ...);
		static int (*real_open64)(const char *, int, ...);
		int (**real)(const char *, int, ...) = strcmp(sym, "open") == 0 ?
		    &real_open : &real_open64;
		if (*real == NULL)
			*real = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, sym);
		fd = (*real)(path, flags, mode);
	}
	remember(fd, dirfd, path);
	return fd;
}

int
open(const char *path, int flags, ...)
{
	mode_t mode;

	OPEN_MODE(flags, mode);
	return opened("open", AT_FDCWD, path, flags, mode);
}

int
open64(const char *path, int flags, ...)
{
	mode_t mode;

	OPEN_MODE(flags, mode);
	return opened("open64", AT_FDCWD, path, flags, mode);
}

int
openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode;

	OPEN_MODE(flags, mode);
	return opened("openat", dirfd, path, flags, mode);
}

int
close(int fd)
{
	static int (*real)(int);

	if (real == NULL)
		real = (int (*)(int))dlsym(RTLD_NEXT, "close");
	if (fd >= 0 && fd < NFD) {
		free(paths[fd]);
		paths[fd] = NULL;
	}
	return real(fd);
}

__attribute__((constructor)) static void
init(void)
{
	load();
}

static int
matches(int fd, const char *m)
{
	char link[64], path[8192];
	size_t ml = strlen(m), pl;
	ssize_t n;

	if (fd >= 0 && fd < NFD && paths[fd]) {
		snprintf(path, sizeof path, "%s", paths[fd]);
		n = (ssize_t)strlen(path);
	} else {
		snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
		if ((n = readlink(link, path, sizeof path - 1)) <= 0)
			return 0;
		path[n] = '\0';
	}
	pl = (size_t)n;
	if (ml > 0 && m[ml - 1] == '$')
		return pl >= ml - 1 && memcmp(path + pl - (ml - 1), m, ml - 1) == 0;
	return strstr(path, m) != NULL;
}

static struct fault *
find(const char *call, int fd)
{
	if (nfaults < 0)
		load();
	for (int i = 0; i < nfaults; i++)
		if (strcmp(faults[i].call, call) == 0 && matches(fd, faults[i].match))
			return &faults[i];
	return NULL;
}

static void
mark(void)
{
	const char *f = getenv("LDA_FAULT_MARK");
	char line[32];
	int fd, n;

	unsetenv("LDA_FAULT");
	if (f == NULL || (fd = open(f, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1)
		return;
	n = snprintf(line, sizeof line, "%ld\n", (long)getpid());
	if (write(fd, line, (size_t)n) != n)
		n = 0;
	close(fd);
}

static const struct { const char *name; int v; } errs[] = {
	{ "EIO", EIO }, { "ENOSPC", ENOSPC }, { "EDQUOT", EDQUOT },
	{ "EFBIG", EFBIG }, { "EROFS", EROFS }, { "EACCES", EACCES },
};
static const struct { const char *name; int v; } sigs[] = {
	{ "SIGTERM", SIGTERM }, { "SIGHUP", SIGHUP }, { "SIGINT", SIGINT },
	{ "SIGALRM", SIGALRM }, { "SIGKILL", SIGKILL }, { "SIGQUIT", SIGQUIT },
};

/* act - 0 go on with the call, else -1 with errno */
static int
act(struct fault *f)
{
	/* an errno fault stays (a full disk stays full); the others act
	   once */
	for (size_t i = 0; i < sizeof errs / sizeof errs[0]; i++)
		if (strcmp(f->action, errs[i].name) == 0) {
			if (!f->acted)
				mark();
			f->acted = 1;
			errno = errs[i].v;
			return -1;
		}
	mark();
	nfaults = 0;
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		if (strcmp(f->action, sigs[i].name) == 0) {
			raise(sigs[i].v);
			return 0;
		}
	if (strncmp(f->action, "SLEEP", 5) == 0)
		sleep((unsigned)atoi(f->action + 5));
	return 0;
}

int
fsync(int fd)
{
	static int (*real)(int);
	struct fault *f;

	if (real == NULL)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	if ((f = find("fsync", fd)) != NULL && act(f) == -1)
		return -1;
	return real(fd);
}

ssize_t
write(int fd, const void *p, size_t n)
{
	static ssize_t (*real)(int, const void *, size_t);
	struct fault *f;

	if (real == NULL)
		real = (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT,
		    "write");
	if (nfaults == 0)
		return real(fd, p, n);
	if (n >= 5 && memcmp((const char *)p + n - 5, "\r\n.\r\n", 5) == 0 &&
	    (f = find("dot", fd)) != NULL) {
		ssize_t w = real(fd, p, n);
		if (w == (ssize_t)n)
			act(f);	/* the reply is never read */
		return w;
	}
	if ((f = find("write", fd)) == NULL)
		return real(fd, p, n);
	if (f->after >= 0 && written + (long long)n < f->after) {
		ssize_t w = real(fd, p, n);
		if (w > 0)
			written += w;
		return w;
	}
	if (f->after >= 0 && written < f->after) {
		/* the part before the fault point goes out first */
		size_t cut = (size_t)(f->after - written);
		ssize_t w = real(fd, p, cut);
		if (w != (ssize_t)cut)
			return w;
		written += w;
		if (act(f) == -1)
			return w;	/* a short write; the next one fails */
		return w;
	}
	if (act(f) == -1)
		return -1;
	return real(fd, p, n);
}

/* send - lda's LMTP client writes with send(): the "dot" fault */
ssize_t
send(int fd, const void *p, size_t n, int flags)
{
	static ssize_t (*real)(int, const void *, size_t, int);
	struct fault *f;
	ssize_t w;

	if (real == NULL)
		real = (ssize_t (*)(int, const void *, size_t, int))dlsym(
		    RTLD_NEXT, "send");
	if (nfaults != 0 && (f = find("send", fd)) != NULL && f->after >= 0 &&
	    written + (long long)n >= f->after) {
		/* up to the fault point, act (a stall, a signal), go on */
		size_t cut = written < f->after ? (size_t)(f->after - written) : 0;
		w = cut ? real(fd, p, cut, flags) : 0;
		if (w != (ssize_t)cut)
			return w;
		written += w;
		if (act(f) == -1)
			return cut ? w : -1;
		return cut ? w : real(fd, p, n, flags);
	}
	w = real(fd, p, n, flags);
	if (nfaults != 0 && w > 0 && find("send", fd) != NULL)
		written += w;
	if (nfaults != 0 && w == (ssize_t)n && n >= 5 &&
	    memcmp((const char *)p + n - 5, "\r\n.\r\n", 5) == 0 &&
	    (f = find("dot", fd)) != NULL)
		act(f);	/* the store has it all; its reply is never read */
	return w;
}

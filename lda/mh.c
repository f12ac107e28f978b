/*
 * mh.c - one copy of the message into an MH folder (procmail's "dir/.").
 * Does: write a temporary file in the folder (the From_ line kept and an
 * empty line at the end, as procmail writes MH messages), fsync it, then
 * link it to the next free message number (link fails on a taken number,
 * so two deliveries never share one), fsync the folder (a link whose
 * fsync fails is taken back, so 75 never leaves a copy behind).
 * Also procmail's plain directory folder (a name without "/" that is a
 * directory: files prefix + 4 random characters, written as MH's), and
 * further names for a file already delivered (several folders on one
 * recipe line share one file, as procmail links them).
 * Does not: .mh_sequences, logging.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fdio.h"
#include "local.h"
#include "undo.h"
#include "xalloc.h"

/* highest_number - the largest all-digit name in dir, 0 if none */
static unsigned long
highest_number(const char *dir)
{
	unsigned long max = 0;
	struct dirent *de;
	DIR *d = opendir(dir);

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		char *end;
		unsigned long n;
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		n = strtoul(de->d_name, &end, 10);
		if (*end == '\0' && n > max)
			max = n;
	}
	closedir(d);
	return max;
}

/*
 * write_message - the message as procmail writes it into an MH folder:
 * its From_ line when it came with one, and a newline more at the end
 * unless it already ends with an empty line; raw (the "r" flag): the
 * message as it is (one message per file: nothing runs into it).
 */
static int
write_message(const struct spool *sp, int fd, int raw, char **err)
{
	char end[2] = { 0, 0 };

	if (sp->from_line && (fd_write_all(fd, sp->from_line,
	    strlen(sp->from_line)) == -1 || fd_write_all(fd, "\n", 1) == -1))
		return -1;
	if (spool_copy(sp, 0, sp->size, fd, err) == -1)
		return -1;
	if (sp->size == 0 || raw)
		return 0;
	if (spool_pread(sp, end + (sp->size == 1), sp->size >= 2 ? 2 : 1,
	    sp->size >= 2 ? sp->size - 2 : 0) < 1)
		return -1;
	if (end[0] == '\n' && end[1] == '\n')
		return 0;
	return fd_write_all(fd, "\n", 1);
}

/* write_temp - the message into a synced temporary file in dir */
static char *
write_temp(const struct spool *sp, const char *dir, int raw)
{
	char *tmp = xasprintf("%s/,lda.%ld", dir, (long)getpid());
	char *err = NULL;
	int fd;

	undo_file(0, tmp);	/* removed if the run is stopped */
	/* A new file, never one found under the name (a crash's leftover,
	   or a link someone else who may write the folder put there). */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    LOCAL_FILE_MODE);

	if (fd == -1 && errno == EEXIST && unlink(tmp) == 0)
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		    LOCAL_FILE_MODE);

	if (fd == -1) {
		int e = errno;
		undo_file(0, NULL);
		free(tmp);
		errno = e;
		return NULL;
	}
	if (write_message(sp, fd, raw, &err) == -1 || fsync(fd) == -1 ||
	    close(fd) == -1) {
		int e = errno;
		free(err);
		unlink(tmp);
		undo_file(0, NULL);
		free(tmp);
		errno = e;
		return NULL;
	}
	return tmp;
}

/*
 * link_free - link src into dir under the first name that next_name gives
 * which is not taken (link fails with EEXIST on a taken one, so two
 * deliveries never share a name), then fsync dir.
 */
static enum outcome
link_free(const char *src, const char *dir,
    char *(*next_name)(const char *dir, void *state), void *state,
    char **path_r, char **err)
{
	char *path = NULL;
	enum outcome o = OUT_DELIVERED;

	for (int tries = 0;; tries++) {
		int e;
		free(path);
		path = next_name(dir, state);
		undo_hold(1);
		if (link(src, path) == 0) {
			undo_file(1, path);	/* taken back until durable */
			undo_hold(0);
			break;
		}
		e = errno;
		undo_hold(0);
		if (e != EEXIST || tries > 1000) {
			o = local_fail(err, "link", path, e);
			break;
		}
	}
	/* A link whose fsync fails is taken back: 75 leaves no copy for
	   the retry to duplicate. */
	if (o == OUT_DELIVERED && local_fsync_dir(dir) == -1) {
		int e = errno;
		unlink(path);
		*err = xasprintf("fsync %s: %s (the copy is taken back)", dir,
		    strerror(e));
		o = local_errno_outcome(e);
	}
	undo_file(1, NULL);
	if (o == OUT_DELIVERED && path_r)
		*path_r = path;
	else
		free(path);
	return o;
}

/* next_number - the MH name after *n */
static char *
next_number(const char *dir, void *state)
{
	unsigned long *n = state;

	return xasprintf("%s/%lu", dir, ++*n);
}

/* link_numbered - link src into dir as the next free MH number */
static enum outcome
link_numbered(const char *src, const char *dir, char **path_r, char **err)
{
	unsigned long n = highest_number(dir);

	return link_free(src, dir, next_number, &n, path_r, err);
}

struct prefixed {
	const char *prefix;
	unsigned long r;	/* the random state */
};

/* next_prefixed - prefix and 4 random characters */
static char *
next_prefixed(const char *dir, void *state)
{
	static const char set[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	struct prefixed *p = state;
	char name[5];

	p->r = p->r * 6364136223846793005u + 1442695040888963407u;
	for (int i = 0; i < 4; i++)
		name[i] = set[(p->r >> (8 * i + 16)) % (sizeof set - 1)];
	name[4] = '\0';
	return xasprintf("%s/%s%s", dir, p->prefix, name);
}

/* link_prefixed - link src into dir as prefix + 4 random characters
   (procmail's plain directory folder: "msg.XXXX") */
static enum outcome
link_prefixed(const char *src, const char *dir, const char *prefix,
    char **path_r, char **err)
{
	static unsigned long seq;
	struct prefixed p = { prefix, (unsigned long)getpid() * 2654435761u ^
	    (unsigned long)time(NULL) ^ ++seq * 0x9e3779b97f4a7c15u };

	return link_free(src, dir, next_prefixed, &p, path_r, err);
}

/* deliver_named - write a temporary file in dir, link it under a new
   name (prefix NULL: MH numbers) */
static enum outcome
deliver_named(const struct spool *sp, const char *dir, const char *prefix,
    int raw, char **path_r, char **err)
{
	char *tmp;
	enum outcome o;

	if (local_mkdir(dir) == -1)
		return local_fail(err, "create folder", dir, errno);
	if ((tmp = write_temp(sp, dir, raw)) == NULL)
		return local_fail(err, "write into", dir, errno);
	o = prefix ? link_prefixed(tmp, dir, prefix, path_r, err) :
	    link_numbered(tmp, dir, path_r, err);
	unlink(tmp);
	undo_file(0, NULL);
	free(tmp);
	return o;
}

/* mh_deliver - next number, linked in atomically */
enum outcome
mh_deliver(const struct spool *sp, const char *dir, int raw, char **path_r,
    char **err)
{
	return deliver_named(sp, dir, NULL, raw, path_r, err);
}

/* msgdir_deliver - procmail's plain directory folder: prefix + random */
enum outcome
msgdir_deliver(const struct spool *sp, const char *dir, const char *prefix,
    int raw, char **path_r, char **err)
{
	return deliver_named(sp, dir, prefix, raw, path_r, err);
}

/* mh_link - another name for the file src in MH folder dir */
enum outcome
mh_link(const char *src, const char *dir, char **path_r, char **err)
{
	if (local_mkdir(dir) == -1)
		return local_fail(err, "create folder", dir, errno);
	return link_numbered(src, dir, path_r, err);
}

/* msgdir_link - another name for src in the plain directory folder dir */
enum outcome
msgdir_link(const char *src, const char *dir, const char *prefix,
    char **path_r, char **err)
{
	if (local_mkdir(dir) == -1)
		return local_fail(err, "create folder", dir, errno);
	return link_prefixed(src, dir, prefix, path_r, err);
}

/*
 * mh.c - one copy of the message into an MH folder (procmail's "dir/.").
 * Does: write a temporary file in the folder (the From_ line kept and an
 * empty line at the end, as procmail writes MH messages), fsync it, then
 * link it to the next free message number (link fails on a taken number,
 * so two deliveries never share one), fsync the folder.
 * Does not: .mh_sequences, logging.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fdio.h"
#include "local.h"
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
 * unless it already ends with an empty line.
 */
static int
write_message(const struct spool *sp, int fd, char **err)
{
	char end[2] = { 0, 0 };

	if (sp->from_line && (fd_write_all(fd, sp->from_line,
	    strlen(sp->from_line)) == -1 || fd_write_all(fd, "\n", 1) == -1))
		return -1;
	if (spool_copy(sp, 0, sp->size, fd, err) == -1)
		return -1;
	if (sp->size == 0)
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
write_temp(const struct spool *sp, const char *dir)
{
	char *tmp = xasprintf("%s/,lda.%ld", dir, (long)getpid());
	char *err = NULL;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
	    LOCAL_FILE_MODE);

	if (fd == -1) {
		free(tmp);
		return NULL;
	}
	if (write_message(sp, fd, &err) == -1 || fsync(fd) == -1 ||
	    close(fd) == -1) {
		int e = errno;
		free(err);
		unlink(tmp);
		free(tmp);
		errno = e;
		return NULL;
	}
	return tmp;
}

/* mh_deliver - next number, linked in atomically */
enum outcome
mh_deliver(const struct spool *sp, const char *dir, char **path_r, char **err)
{
	unsigned long n;
	char *tmp, *path = NULL;
	enum outcome o = OUT_DELIVERED;

	if (local_mkdir(dir) == -1)
		return local_fail(err, "create MH folder", dir, errno);
	if ((tmp = write_temp(sp, dir)) == NULL)
		return local_fail(err, "write into", dir, errno);
	n = highest_number(dir);
	for (int tries = 0;; tries++) {
		free(path);
		path = xasprintf("%s/%lu", dir, ++n);
		if (link(tmp, path) == 0)
			break;
		if (errno != EEXIST || tries > 1000) {
			o = local_fail(err, "link", path, errno);
			break;
		}
	}
	unlink(tmp);
	if (o == OUT_DELIVERED && local_fsync_dir(dir) == -1)
		o = local_fail(err, "fsync", dir, errno);
	if (o == OUT_DELIVERED && path_r)
		*path_r = path;
	else
		free(path);
	free(tmp);
	return o;
}

/*
 * local.c - what the local destination types share: errno to outcome (the
 * one table, like postfix's mbox_dsn), directory creation and fsync.
 * Does not: write messages; see maildir.c, mbox.c, mh.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "local.h"
#include "xalloc.h"

/* local_errno_outcome - what cannot be created vs. try again later */
enum outcome
local_errno_outcome(int e)
{
	switch (e) {
	case EACCES: case EPERM: case EROFS: case ENOENT: case ENOTDIR:
	case EISDIR: case ELOOP: case ENAMETOOLONG: case EEXIST:
		return OUT_CANTCREAT;
	default:	/* ENOSPC, EDQUOT, EIO, ENOMEM, EAGAIN, ...: retry */
		return OUT_TEMPFAIL;
	}
}

/* local_fail - error text and outcome for a failed call */
enum outcome
local_fail(char **err, const char *what, const char *path, int e)
{
	*err = xasprintf("%s %s: %s", what, path, strerror(e));
	return local_errno_outcome(e);
}

/* local_mkdir - make a directory (umask applies) unless it is there */
int
local_mkdir(const char *path)
{
	struct stat st;

	if (mkdir(path, LOCAL_DIR_MODE) == 0)
		return 0;
	if (errno == EEXIST && stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return 0;
		errno = ENOTDIR;
	}
	return -1;
}

/* local_fsync_dir - make a directory's entries durable */
int
local_fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;

	if (fd == -1)
		return -1;
	rc = fsync(fd);
	if (rc == -1 && (errno == EINVAL || errno == EROFS))
		rc = 0;	/* some file systems cannot sync directories */
	close(fd);
	return rc;
}

/*
 * maildir.c - one copy of the message into a Maildir.
 * Does: create the Maildir if missing (as procmail does), write the file in
 * tmp/, fsync it, link it into new/ (rename where links are impossible),
 * fsync new/ (a link whose fsync fails is taken back, so 75 never leaves
 * a copy behind); unique names as the Maildir spec says (time.MusecPpidQn.host).
 * Does not: Maildir++ quota, folder naming (deliver.c), logging.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "buf.h"
#include "local.h"
#include "undo.h"
#include "xalloc.h"

/* host_part - the host name with '/' and ':' encoded, as the spec says */
static void
host_part(struct buf *b)
{
	char host[256];

	if (gethostname(host, sizeof host) == -1)
		lda_strlcpy(host, "localhost", sizeof host);
	host[sizeof host - 1] = '\0';
	for (const char *p = host; *p; p++) {
		if (*p == '/')
			buf_puts(b, "\\057");
		else if (*p == ':')
			buf_puts(b, "\\072");
		else
			buf_putc(b, *p);
	}
}

/* unique_name - time.MusecPpidQn.host */
static char *
unique_name(void)
{
	static unsigned q;
	struct timeval tv;
	struct buf b;

	gettimeofday(&tv, NULL);
	buf_init(&b, 0);
	buf_printf(&b, "%lld.M%06ldP%ldQ%u.", (long long)tv.tv_sec,
	    (long)tv.tv_usec, (long)getpid(), ++q);
	host_part(&b);
	return buf_steal(&b);
}

/* make_maildir - dir, dir/tmp, dir/new, dir/cur */
static int
make_maildir(const char *dir)
{
	static const char *const sub[] = { "tmp", "new", "cur" };
	char path[PATH_MAX];

	if (local_mkdir(dir) == -1)
		return -1;
	for (unsigned i = 0; i < 3; i++) {
		if (snprintf(path, sizeof path, "%s/%s", dir, sub[i]) >=
		    (int)sizeof path) {
			errno = ENAMETOOLONG;
			return -1;
		}
		if (local_mkdir(path) == -1)
			return -1;
	}
	return 0;
}

/*
 * share_fd - a shared folder's group and group bits on the new file's
 * descriptor, before any other name for it exists (a member of the group
 * could otherwise swap the name for a symlink to a file of ours).
 */
static void
share_fd(int fd, const struct local_share *share)
{
	struct stat st;

	if (share == NULL || fstat(fd, &st) == -1)
		return;
	/* A setgid board gave the group already; without it and outside
	   the group, the file stays ours alone (the group bits then give
	   nothing away). */
	if (st.st_gid != share->gid &&
	    fchown(fd, (uid_t)-1, share->gid) == -1)
		return;
	if (fchmod(fd, (st.st_mode & 0700) | (share->mode & 0060)) == -1)
		return;

}

/* write_tmp - the message into tmp/name, synced; returns fd result */
static int
write_tmp(const struct spool *sp, const char *tmp,
    const struct local_share *share)
{
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    LOCAL_FILE_MODE);
	char *cerr = NULL;

	if (fd == -1)
		return -1;
	share_fd(fd, share);
	if (spool_copy(sp, 0, sp->size, fd, &cerr) == -1 || fsync(fd) == -1) {
		int e = errno;
		free(cerr);
		close(fd);
		unlink(tmp);
		errno = e;
		return -1;
	}
	return close(fd);
}

/*
 * link_durably - link src as new in newdir and fsync newdir; 0, or -1
 * with *err and errno. A link whose fsync fails is taken back: the
 * caller exits 75 and the MTA's retry must not find a copy already
 * there. Until the fsync, a signal or the deadline takes it back too.
 * rename_ok: where links are impossible, rename src instead.
 */
static int
link_durably(const char *src, const char *new, const char *newdir,
    int rename_ok, char **err)
{
	int e;

	undo_hold(1);
	if (link(src, new) == -1 && (!rename_ok || errno == EEXIST ||
	    rename(src, new) == -1)) {
		/* Never rename over an existing message (EEXIST). */
		e = errno;
		undo_hold(0);
		local_fail(err, "link into", newdir, e);
		errno = e;
		return -1;
	}
	undo_file(1, new);
	undo_hold(0);
	if (rename_ok)
		unlink(src);
	if (local_fsync_dir(newdir) == -1) {
		e = errno;
		unlink(new);
		undo_file(1, NULL);
		*err = xasprintf("fsync %s: %s (the copy is taken back)",
		    newdir, strerror(e));
		errno = e;
		return -1;
	}
	undo_file(1, NULL);
	return 0;
}

/* maildir_link - another name in dir's new/ for the file src */
enum outcome
maildir_link(const char *src, const char *dir, char **path_r, char **err)
{
	char *name, *new, *newdir;
	enum outcome o = OUT_DELIVERED;

	if (make_maildir(dir) == -1)
		return local_fail(err, "create maildir", dir, errno);
	name = unique_name();
	new = xasprintf("%s/new/%s", dir, name);
	newdir = xasprintf("%s/new", dir);
	if (link_durably(src, new, newdir, 0, err) == -1)
		o = local_errno_outcome(errno);
	if (o == OUT_DELIVERED && path_r)
		*path_r = xstrdup(new);
	free(name);
	free(new);
	free(newdir);
	return o;
}

/* maildir_deliver - tmp/, fsync, link into new/, fsync new/ */
enum outcome
maildir_deliver(const struct spool *sp, const char *dir,
    const struct local_share *share, char **path_r, char **err)
{
	char *name, *tmp, *new, *newdir;
	enum outcome o = OUT_DELIVERED;

	if (make_maildir(dir) == -1)
		return local_fail(err, "create maildir", dir, errno);
	name = unique_name();
	tmp = xasprintf("%s/tmp/%s", dir, name);
	new = xasprintf("%s/new/%s", dir, name);
	newdir = xasprintf("%s/new", dir);
	/*
	 * Link into new/ only after fsync() of the file: a crash in between
	 * leaves a stray tmp/ file, never a half-written message in new/.
	 * Then fsync new/ so the link itself survives a crash.
	 */
	undo_file(0, tmp);
	if (write_tmp(sp, tmp, share) == -1)
		o = local_fail(err, "write", tmp, errno);
	else if (link_durably(tmp, new, newdir, 1, err) == -1) {
		o = local_errno_outcome(errno);
		unlink(tmp);
	}
	undo_file(0, NULL);
	if (o == OUT_DELIVERED && path_r)
		*path_r = xstrdup(new);
	free(name);
	free(tmp);
	free(new);
	free(newdir);
	return o;
}

/*
 * lock.c - procmail's lockfiles for ":0:" recipes and LOCKFILE: a file
 * created with O_EXCL; one older than LOCKTIMEOUT seconds is stale and
 * removed; retried every LOCKSLEEP seconds.
 * Does not: lock mbox folders themselves (lda/mbox does that), log
 * (the trace says "Locking" and "Unlocking", as procmail's VERBOSE does).
 * Errors: -1 with *err (allocated).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../lda/xalloc.h"
#include "rcint.h"

/* lock_stale - remove path when it is older than timeout seconds */
static void
lock_stale(const char *path, long timeout)
{
	struct stat st;

	if (timeout > 0 && stat(path, &st) == 0 &&
	    time(NULL) - st.st_mtime > timeout)
		(void)unlink(path);
}

/* rc_lock - create the lockfile path, waiting as procmail does */
int
rc_lock(struct rc *rc, const char *path, char **err)
{
	long timeout = rc_var_long(rc_get(rc, "LOCKTIMEOUT"), 1024);
	long sleep_s = rc_var_long(rc_get(rc, "LOCKSLEEP"), 8);
	time_t give_up = time(NULL) + (timeout > 0 ? timeout : 1024) + 1;
	int fd;

	if (sleep_s < 1)
		sleep_s = 1;
	if (rc->restricted) {
		/* a stale lockfile is removed: never a name a virtual
		   user's rc chose (USERS_RC_RESTRICT) */
		*err = xasprintf("%s: no lockfiles in a virtual user's rc", path);
		return -1;
	}
	rc_yell(rc, "Locking", path);
	for (;;) {
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
		if (fd != -1) {
			close(fd);
			return 0;
		}
		if (errno != EEXIST) {
			*err = xasprintf("cannot create %s: %s", path,
			    strerror(errno));
			return -1;
		}
		lock_stale(path, timeout);
		if (time(NULL) >= give_up) {
			*err = xasprintf("lock %s still held", path);
			return -1;
		}
		sleep((unsigned)sleep_s);
	}
}

/* rc_lock_stale - remove path when LOCKTIMEOUT says it is stale (for a
   lockfile that lda/mbox takes itself) */
void
rc_lock_stale(struct rc *rc, const char *path)
{
	lock_stale(path, rc_var_long(rc_get(rc, "LOCKTIMEOUT"), 1024));
}

/* rc_unlock - remove a lockfile we made; *pathp becomes NULL */
void
rc_unlock(struct rc *rc, char **pathp)
{
	if (*pathp == NULL)
		return;
	rc_yell(rc, "Unlocking", *pathp);
	(void)unlink(*pathp);
	free(*pathp);
	*pathp = NULL;
}

/*
 * priv.c - drop root once, in one function, in a fixed order.
 * Does: initgroups, setresgid, setresuid, each checked; then proves that
 * neither root's uid nor gid can be regained.
 * Also the first steps of a run (priv_start): descriptors 0-2 and
 * PR_SET_DUMPABLE.
 * Does not: run as setuid (lda is never installed so), look users up.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "priv.h"
#include "xalloc.h"

/* priv_become - become pw for good */
int
priv_become(const struct passwd *pw, char **err)
{
	uid_t r, e, s;

	if (pw->pw_uid == 0) {
		*err = xasprintf("refusing to deliver as %s: uid 0", pw->pw_name);
		return -1;
	}
	if (initgroups(pw->pw_name, pw->pw_gid) == -1 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1) {
		*err = xasprintf("cannot become %s: %s", pw->pw_name,
		    strerror(errno));
		return -1;
	}
	/* Proof that the drop is final: none of the ids is root any more. */
	if (setuid(0) != -1 || (pw->pw_gid != 0 && setgid(0) != -1) ||
	    getresuid(&r, &e, &s) == -1 ||
	    r != pw->pw_uid || e != pw->pw_uid || s != pw->pw_uid) {
		*err = xasprintf("could regain root after becoming %s",
		    pw->pw_name);
		return -1;
	}
	return 0;
}

/* priv_start - descriptors 0-2 and non-dumpable (priv.h) */
int
priv_start(void)
{
	int closed = 0;

	for (int fd = 0; fd < 3; fd++) {
		int n;
		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		/* the lowest free number: fd itself, 0-2 in order */
		n = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
		if (n != fd)
			_exit(75);	/* no /dev/null: nothing is safe */
		closed |= 1 << fd;
	}
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	return closed & 1;
}

/*
 * mailspool.c - the root helper for the recipient's system mailbox on a
 * spool the user cannot write (Debian's /var/mail, root:mail 2775), in the
 * manner of postfix's local and OpenSMTPD's privileged parent: the process
 * that stays root does the few things that need the spool directory and
 * nothing else; the one that becomes the user asks over a socketpair.
 * Does: start the helper (before root is dropped), serve LOCK / UNLOCK /
 * CREATE for the one mailbox named from the passwd entry, release a lock
 * the user process left when it goes, pass the MTA's signals on to it
 * (undo.c) and its exit status back; the user side's three requests
 * (mailspool.h).
 * Does not: write into the mailbox, take any name from a request, give
 * the user process root or group mail (it is not in the user's groups
 * and it is a different process: the user cannot ptrace or signal it).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "local.h"
#include "mailspool.h"
#include "relay.h"
#include "status.h"
#include "undo.h"
#include "xalloc.h"

#define LOCK_WAIT_MAX	3600	/* bound on a requested lock wait, seconds */

enum { REQ_LOCK = 1, REQ_UNLOCK, REQ_CREATE };

struct req {
	int op;
	int timeout;		/* REQ_LOCK: seconds to wait */
};

struct rep {
	int result;		/* REQ_LOCK: 1 taken, 0 may not; else 0 or -1 */
	int err;		/* errno when result is -1 */
	long long prev;		/* REQ_LOCK: see mbox_dotlock */
};				/* a taken lock comes with its descriptor */

/* The user side: the socket to the helper and the one path it serves. */
static int ms_fd = -1;
static char *ms_path;

/* The helper side. */
struct helper {
	char *mbox, *lock;
	uid_t uid;
	gid_t gid;		/* the spool directory's group (mail) */
	int held;		/* we hold lock, created as (dev, ino) */
	dev_t dev;
	ino_t ino;
};

/* h_lock - take the dotlock as mbox.c takes any other (stale ones broken);
   *fd_r: the lock file's descriptor for the user process, or -1 */
static struct rep
h_lock(struct helper *h, int timeout, int *fd_r)
{
	struct rep r = { 0, 0, -1 };
	struct stat st;

	*fd_r = -1;
	if (h->held) {
		r.result = -1;
		r.err = EBUSY;
		return r;
	}
	if (timeout < 0)
		timeout = 0;
	if (timeout > LOCK_WAIT_MAX)
		timeout = LOCK_WAIT_MAX;
	r.result = mbox_dotlock(h->lock, timeout, fd_r, &r.prev);
	if (r.result == -1)
		r.err = errno;
	if (r.result == 1 && (*fd_r != -1 ? fstat(*fd_r, &st) :
	    lstat(h->lock, &st)) == 0) {
		h->held = 1;
		h->dev = st.st_dev;
		h->ino = st.st_ino;
	}
	return r;
}

/* h_unlock - remove our lock, and only ours (not one that replaced it
   after someone broke ours as stale) */
static void
h_unlock(struct helper *h)
{
	struct stat st;

	if (h->held && lstat(h->lock, &st) == 0 && st.st_dev == h->dev &&
	    st.st_ino == h->ino)
		(void)unlink(h->lock);
	h->held = 0;
}

/* h_create - the missing mailbox: O_EXCL|O_NOFOLLOW, checked on the
   descriptor, then user:group 0660 on the descriptor, made durable */
static struct rep
h_create(struct helper *h)
{
	struct rep r = { 0, 0, -1 };
	struct stat st;
	int fd = open(h->mbox, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);

	if (fd == -1) {
		if (errno != EEXIST) {	/* there already: the user opens it */
			r.result = -1;
			r.err = errno;
		}
		return r;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) || st.st_nlink != 1 ||
	    st.st_uid != 0 || fchown(fd, h->uid, h->gid) == -1 ||
	    fchmod(fd, 0660) == -1 || fsync(fd) == -1) {
		r.result = -1;
		r.err = errno ? errno : EIO;
		(void)unlink(h->mbox);
	} else if (local_fsync_dir(MAIL_SPOOL_DIR) == -1) {
		r.result = -1;
		r.err = errno;
	}
	close(fd);
	return r;
}

/* reply - r, and the descriptor fd with it when not -1 */
static int
reply(int sock, const struct rep *r, int fd)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct iovec iov = { (void *)r, sizeof *r };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (fd != -1) {
		struct cmsghdr *c;
		memset(&u, 0, sizeof u);
		m.msg_control = u.buf;
		m.msg_controllen = sizeof u.buf;
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof fd);
	}
	return sendmsg(sock, &m, MSG_NOSIGNAL) == (ssize_t)sizeof *r ? 0 : -1;
}

/* serve - answer the user process until it has gone (EOF), or until it
   sends what no request looks like */
static void
serve(struct helper *h, int sock)
{
	for (;;) {
		struct req q;
		struct rep r = { -1, EINVAL, -1 };
		int fd = -1, sent;
		ssize_t n = recv(sock, &q, sizeof q, 0);

		if (n == -1 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof q)
			break;
		errno = 0;
		switch (q.op) {
		case REQ_LOCK:
			r = h_lock(h, q.timeout, &fd);
			break;
		case REQ_UNLOCK:
			h_unlock(h);
			r.result = 0;
			break;
		case REQ_CREATE:
			r = h_create(h);
			break;
		}
		sent = reply(sock, &r, fd);
		if (fd != -1)
			close(fd);
		if (sent == -1)
			break;
	}
	h_unlock(h);	/* a lock the user process left behind */
}

/* mailspool_start - the helper, when the spool needs one (mailspool.h) */
int
mailspool_start(const struct passwd *pw, char **err)
{
	struct helper h = { 0 };
	struct stat st;
	int sv[2], status;
	pid_t pid;

	if (getuid() != 0 || pw->pw_uid == 0 || pw->pw_name[0] == '\0' ||
	    strchr(pw->pw_name, '/') != NULL || strcmp(pw->pw_name, ".") == 0 ||
	    strcmp(pw->pw_name, "..") == 0)
		return 0;
	/* A world-writable spool (1777) lets the user lock and create for
	   itself; a missing one is the rc's DEFAULT/ORGMAIL error. */
	if (stat(MAIL_SPOOL_DIR, &st) == -1 || !S_ISDIR(st.st_mode) ||
	    (st.st_mode & S_IWOTH))
		return 0;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		*err = xasprintf("mail spool helper: socketpair: %s",
		    strerror(errno));
		return -1;
	}
	h.mbox = xasprintf("%s/%s", MAIL_SPOOL_DIR, pw->pw_name);
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1) {
		*err = xasprintf("mail spool helper: fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		free(h.mbox);
		return -1;
	}
	if (pid == 0) {
		close(sv[0]);
		ms_fd = sv[1];
		ms_path = h.mbox;
		undo_adopt();	/* a signal's undo and the deadline are ours */
		relay_adopt();	/* lda -z: we speak to the server */
		return 0;
	}
	close(sv[1]);
	undo_forward(pid);	/* the MTA's signals go on to the user process */
	h.lock = xasprintf("%s.lock", h.mbox);
	h.uid = pw->pw_uid;
	h.gid = st.st_gid;
	serve(&h, sv[0]);
	close(sv[0]);
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			_exit(EX_TEMPFAIL);
	/* The child sent the status line; for a killed one we do, and the
	   message is retried, as fork_recipients treats a killed child. */
	if (WIFEXITED(status))
		_exit(WEXITSTATUS(status));
	status_fail(OUT_TEMPFAIL, NULL, pw->pw_name, "delivery ended by "
	    "signal %d", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	_exit(status_end(OUT_TEMPFAIL));
}

/* ask - one request and its reply (and a descriptor with it, when fd_r
   is not NULL); -1 with errno when the helper is gone */
static int
ask(int op, int timeout, struct rep *r, int *fd_r)
{
	struct req q = { op, timeout };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct iovec iov = { r, sizeof *r };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
	    .msg_control = u.buf, .msg_controllen = sizeof u.buf };
	struct cmsghdr *c;
	ssize_t n;

	if (fd_r)
		*fd_r = -1;
	while ((n = send(ms_fd, &q, sizeof q, MSG_NOSIGNAL)) == -1 &&
	    errno == EINTR)
		;
	if (n != (ssize_t)sizeof q)
		return n == -1 ? -1 : (errno = EPIPE, -1);
	while ((n = recvmsg(ms_fd, &m, MSG_CMSG_CLOEXEC)) == -1 &&
	    errno == EINTR)
		;
	for (c = n > 0 ? CMSG_FIRSTHDR(&m) : NULL; c; c = CMSG_NXTHDR(&m, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
		    c->cmsg_len == CMSG_LEN(sizeof(int))) {
			int fd;
			memcpy(&fd, CMSG_DATA(c), sizeof fd);
			if (fd_r && *fd_r == -1)
				*fd_r = fd;
			else
				close(fd);
		}
	if (n != (ssize_t)sizeof *r) {
		if (fd_r && *fd_r != -1) {
			close(*fd_r);
			*fd_r = -1;
		}
		return n == -1 ? -1 : (errno = EPIPE, -1);
	}
	return 0;
}

/* mailspool_mine - is path the mailbox our helper serves? */
int
mailspool_mine(const char *path)
{
	return ms_fd != -1 && strcmp(path, ms_path) == 0;
}

/* mailspool_lock - the helper takes the dotlock */
int
mailspool_lock(int timeout, int *fd_r, long long *prev)
{
	struct rep r;

	*prev = -1;
	if (ask(REQ_LOCK, timeout, &r, fd_r) == -1)
		return -1;
	if (r.result == -1)
		errno = r.err;
	else
		*prev = r.prev;
	return r.result;
}

/* mailspool_unlock - the helper removes it */
void
mailspool_unlock(void)
{
	struct rep r;

	(void)ask(REQ_UNLOCK, 0, &r, NULL);
}

/* mailspool_create - the helper creates the mailbox when it is missing */
int
mailspool_create(void)
{
	struct rep r;

	if (ask(REQ_CREATE, 0, &r, NULL) == -1)
		return -1;
	if (r.result == -1) {
		errno = r.err;
		return -1;
	}
	return 0;
}

/*
 * local.h - the local destination types, one file each: maildir.c,
 * mbox.c, mh.c. Called only by deliver.c.
 * Each writes one copy of the message durably or not at all, and returns
 * an outcome; on failure *err says what and where (allocated), on success
 * *path_r names the file written (allocated).
 */
#ifndef LDA_LOCAL_H
#define LDA_LOCAL_H

#include <sys/types.h>

#include "outcome.h"
#include "spool.h"

/* A shared folder's group for the files written into it (a board): set
   on the open descriptor before the file is linked in, never by path. */
struct local_share {
	gid_t gid;
	mode_t mode;		/* its group bits (0060) are the file's */
};

/* Maildir (dir ends in "/"): tmp/, fsync, link into new/, fsync new/.
   share (may be NULL): the group the file gets before it is linked. */
enum outcome maildir_deliver(const struct spool *sp, const char *dir,
    const struct local_share *share, char **path_r, char **err);
/* mbox file: dotlock + fcntl lock, From_ line, >From quoting, fsync;
   a failed write is truncated away. The message's own From_ line
   (sp->from_line) is kept when a mail reader takes it for one; else a
   new one is written with sender;
   lock_timeout in seconds. dotlock 0: the fcntl lock alone (procmail's
   recipe without ":"); a signal still truncates the append back. */
enum outcome mbox_deliver(const struct spool *sp, const char *path,
    const char *sender, int lock_timeout, int dotlock, char **path_r,
    char **err);
/* The dotlock mbox_deliver takes (lock is "path.lock"), for the system
   mailbox's root helper (mailspool.c): 1 taken (*fd_r an open descriptor
   of the lock file, or -1; *prev the mbox size a dead writer recorded
   in a stale lock it broke, or -1), 0 no permission to lock there, -1
   with errno (ETIMEDOUT after timeout seconds). */
int mbox_dotlock(const char *lock, int timeout, int *fd_r, long long *prev);
/* MH folder (dir ends in "/."): next number, linked in atomically. The
   file ends with an empty line, as procmail's; raw (the "r" flag): the
   message as it is. */
enum outcome mh_deliver(const struct spool *sp, const char *dir, int raw,
    char **path_r, char **err);

/*
 * Modes of what the destinations create, as procmail's: the process umask
 * (rc's UMASK, 077 unless the rc changes it) takes bits away. Files have
 * o+x as procmail's (its "new mail" bit), so UMASK=022 gives 0645.
 */
#define LOCAL_FILE_MODE	0667
#define LOCAL_DIR_MODE	0777

/* procmail's plain directory folder (a directory named without "/"):
   the message as MH writes it, named prefix + 4 random characters. */
enum outcome msgdir_deliver(const struct spool *sp, const char *dir,
    const char *prefix, int raw, char **path_r, char **err);
/* Another name for the delivered file src in a Maildir, MH or plain
   directory folder (created when missing): procmail's several folders
   on one line share one file. A link that fails (EXDEV) is an error;
   the caller writes a copy instead. */
enum outcome maildir_link(const char *src, const char *dir, char **path_r,
    char **err);
enum outcome mh_link(const char *src, const char *dir, char **path_r,
    char **err);
enum outcome msgdir_link(const char *src, const char *dir,
    const char *prefix, char **path_r, char **err);

/* The outcome for a failed system call's errno: what cannot be created
   is OUT_CANTCREAT, everything else (disk full, I/O) is OUT_TEMPFAIL. */
enum outcome local_errno_outcome(int e);
/* *err = "what path: strerror(e)"; returns local_errno_outcome(e). */
enum outcome local_fail(char **err, const char *what, const char *path, int e);
/* mkdir path (LOCAL_DIR_MODE) unless it exists as a directory. 0 or -1/errno. */
int local_mkdir(const char *path);
/* fsync the directory path. 0 or -1/errno. */
int local_fsync_dir(const char *path);

#endif

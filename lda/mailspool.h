/*
 * mailspool.h - the recipient's system mailbox (MAIL_SPOOL_DIR/user) on a
 * spool that only root and group mail may write (Debian: /var/mail is
 * root:mail 2775), when lda was started as root.
 * Does: before root is dropped, fork a helper that stays root and, over a
 * socketpair, does three things for the one mailbox of this recipient:
 * take and release its dotlock (user.lock, a stale one broken as mbox.c
 * breaks it) and create it (owner the user, group the spool's, 0660, as
 * Debian does). The process that becomes the user never holds root or
 * group mail; it asks. Names never come from the message or the rc: the
 * helper knows the one path from the passwd entry.
 * Does not: write messages (mbox.c does, as the user), serve any other
 * path, run when the spool is world-writable (the user can do it all).
 */
#ifndef LDA_MAILSPOOL_H
#define LDA_MAILSPOOL_H

#include <pwd.h>

#define MAIL_SPOOL_DIR	"/var/mail"

/*
 * Called as root for a recipient other than root, before priv_become.
 * When the spool needs a helper: forks; the child returns 0 (and goes on
 * to become pw, its mbox deliveries to the system mailbox asking the
 * helper); the parent stays root, serves the child until it has gone,
 * and _exits with the child's exit status (75 when it was killed): it
 * never returns. No helper needed: returns 0. -1 with *err (allocated)
 * when it cannot be started (the caller exits 75).
 */
int mailspool_start(const struct passwd *pw, char **err);

/* 1 when path is the system mailbox a helper serves for us, else 0 */
int mailspool_mine(const char *path);
/* The mailbox's dotlock, as mbox_dotlock takes it but by the helper,
   waiting up to timeout seconds: 1 taken (*fd_r: the lock file's
   descriptor when mbox_dotlock keeps one, else -1; *prev as there), 0
   the helper may not lock there (fcntl alone), -1 with errno (ETIMEDOUT) */
int mailspool_lock(int timeout, int *fd_r, long long *prev);
/* Release the dotlock mailspool_lock took. */
void mailspool_unlock(void);
/* The helper creates the mailbox when it is missing (the user's, the
   spool's group, 0660), so that mbox.c's open finds it. 0, or -1 with
   errno. */
int mailspool_create(void);

#endif

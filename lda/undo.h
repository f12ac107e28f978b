/*
 * undo.h - what a termination signal (HUP, INT, QUIT, TERM, USR1, USR2) or
 * the end of the run's time budget (DEADLINE, by SIGALRM) undoes before
 * lda exits 75: an mbox append is truncated back and its dotlock removed,
 * a file not yet linked into a folder is removed, a running program is
 * stopped. Then the status line, and exit 75: nothing half-written stays
 * and the MTA retries. A root parent of -d children passes the signal on
 * and waits for them instead (undo_forward).
 * Does not: undo a copy already committed (that is the retry's duplicate;
 * README "Faults").
 */
#ifndef LDA_UNDO_H
#define LDA_UNDO_H

#include <sys/types.h>

/* The default time budget of a run, in seconds: comfortably below
   postfix's command_time_limit (1000 s), whose kill bounces. */
#define UNDO_DEADLINE_DEFAULT 900

/* Install the handlers and arm the default budget (once, at start). */
void undo_init(void);
/* A child of the root parent: its own budget (what is left), its own
   undo list; it no longer forwards; its status line goes to status_fd
   (status.h's pipe to the parent). */
void undo_child_start(int status_fd);
/* The budget becomes secs seconds from the start of the run (the rc's
   DEADLINE); 0 or less: the default. */
void undo_deadline(long secs);
/* Whole seconds left of the budget (at least 0). */
long undo_left(void);

/* In a process forked from the -d child that goes on as it (the one
   that becomes the user, mailspool.c): the handlers act for it now. */
void undo_adopt(void);
/* An mbox append under way: fd truncated back to size, lock (may be
   NULL) removed. fd -1: only the lock is held so far. */
void undo_mbox(int fd, off_t size, const char *lock);
/* The append is committed (fsync'd): nothing to truncate. */
void undo_mbox_committed(void);
/* The lock is about to be removed by its owner: forget it. */
void undo_mbox_done(void);
/* Files that are not delivered messages yet: slot 0 a temporary file,
   slot 1 a name linked into a folder but not yet made durable (NULL:
   none). */
void undo_file(int slot, const char *path);
/* Signals held off (1) or let in (0) around a link and its undo_file. */
void undo_hold(int on);
/* A program running for the rc (0: none). */
void undo_program(pid_t pid);

/* The root parent: pass signals on to child (0: none) instead. */
void undo_forward(pid_t child);
/* A signal came while forwarding: stop starting children. */
int undo_stopping(void);

#endif

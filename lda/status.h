/*
 * status.h - the one status line of a run (what postfix's pipe and local
 * record as the delivery status, and show in mailq): the failure that
 * decided, with the recipient, the folder or the thing that failed, and
 * the errno text.
 * Does: keep every failure reported during the run, in order, where it is
 * understood (a folder write, a filter, the store, a configuration error);
 * pick the deciding one (the first whose exit code is the run's); print
 * exactly one line; carry a forked child's line (a -d recipient's, a
 * "c {" clone's) to its parent instead of printing it.
 * Does not: log (the caller logs its own line), decide the exit code.
 */
#ifndef LDA_STATUS_H
#define LDA_STATUS_H

#include <stddef.h>

#include "outcome.h"

/*
 * Record a failure: o, the RFC 3463 status (NULL: o's default), the
 * recipient it concerns (NULL when the text names it already, or none),
 * and printf text ("folder: errno text"). The first record with the
 * run's exit code becomes the status line; later ones (a fallback that
 * failed too) never replace it.
 */
void status_fail(enum outcome o, const char *status, const char *rcpt,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The records so far, to forget those of a recipient that was delivered
   after all (status_forget(mark): drop every record made after mark). */
size_t status_mark(void);
void status_forget(size_t mark);
/* The records made after mark decided (DEFAULT failed, after recipes
   whose failures fell through to it): they go before the others. */
void status_decided(size_t mark);
/* Is a configuration error (OUT_CONFIG) among the records after mark? */
int status_config_since(size_t mark);

/* A copy of the message was delivered (a folder, a program, the store, a
   child's recipient): from now on the run never exits with a code the
   MTA bounces on, since a bounce would tell the sender that a message
   which reached someone did not. */
void status_delivered(void);

/*
 * End of the run: print one status line for outcome o (nothing when o is
 * OUT_DELIVERED) and return the exit code; after status_delivered, a
 * bouncing outcome becomes 75 and the line says why.
 */
int status_end(enum outcome o);

/* Print "status text" now, once per process (later calls print nothing):
   the last word of a run that cannot go on (log_fatal). */
void status_print(const char *status, const char *text);

/*
 * A forked child's line goes to its parent, which records it and prints
 * the run's one line: status_pipe before fork(); in the child
 * status_child(p); in the parent status_parent(p, exit code of the child).
 */
int status_pipe(int p[2]);
void status_child(int p[2]);
void status_parent(int p[2], int code);
/* Instead of status_parent (lda -z, which says each recipient's line in
   its own LMTP reply): the child's line, without its newline, into line
   (n bytes), nothing recorded. Returns 0, or -1 when the child said
   nothing. */
int status_child_line(int p[2], char *line, size_t n);

#endif

/*
 * autoreply.h - an RFC 3834 reply to a message, made as text, and sent
 * through $SENDMAIL (an argv, never a shell), for @vacation.
 * Does: the reply's header (From, To, Subject from the original, Date, a
 * new Message-ID, In-Reply-To, References, Auto-Submitted: auto-replied)
 * with nothing from the message that could end a header line; the body
 * from the user's file; running $SENDMAIL with the reply on its stdin,
 * its output thrown away, killed after a timeout.
 * Does not: decide whether to reply (vacation.c), log.
 */
#ifndef LDA_AUTOREPLY_H
#define LDA_AUTOREPLY_H

#include "../lda/spool.h"

#define AUTOREPLY_BODY_MAX (64 * 1024)	/* the reply's text file */
#define AUTOREPLY_SUBJECT_MAX 200	/* bytes of the original Subject */
#define AUTOREPLY_MSGID_MAX 250		/* a Message-ID we quote */
#define AUTOREPLY_REFS_MAX 10		/* References carried on */

struct autoreply {
	const char *from;	/* the reply's From: (the rc's) */
	const char *to;		/* its To: the envelope sender, checked */
	const char *prefix;	/* put before the original Subject */
	const char *body;	/* the file with the reply's text */
};

/* The reply to msg as a whole message ("\n" line ends). Returns it
   (allocated), or NULL with *err (the body file cannot be read). */
char *autoreply_make(const struct spool *msg, const struct autoreply *a,
    char **err);

/* Run argv (argv[0] found in PATH when it has no "/") with text on its
   stdin (through a file in tmpdir, NULL: $TMPDIR or /tmp), for at most
   timeout seconds. Returns its exit status, or -1 with *err (not
   started, killed, timed out). */
int autoreply_send(char *const *argv, const char *text, const char *tmpdir,
    long timeout, char **err);

#endif

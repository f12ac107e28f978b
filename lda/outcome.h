/*
 * outcome.h - what happened to a message, and the one sysexits table.
 * Does: name outcomes, order them by how the MTA must react, map them to
 * exit codes and RFC 3463 status codes.
 * Does not: exit, log or decide an outcome; callers do that.
 */
#ifndef LDA_OUTCOME_H
#define LDA_OUTCOME_H

enum outcome {
	OUT_DELIVERED = 0,	/* 0: done */
	OUT_REJECTED,		/* 65 EX_DATAERR: the message itself is refused */
	OUT_NOUSER,		/* 67 EX_NOUSER: no such recipient */
	OUT_UNAVAILABLE,	/* 69 EX_UNAVAILABLE: permanent, not the data */
	OUT_CANTCREAT,		/* 73 EX_CANTCREAT: destination cannot be made */
	OUT_NOPERM,		/* 77 EX_NOPERM: not allowed */
	OUT_USAGE,		/* 64 EX_USAGE: bad command line */
	OUT_TEMPFAIL,		/* 75 EX_TEMPFAIL: try again later */
	OUT_CONFIG,		/* 75 EX_TEMPFAIL, status 4.3.5: the system
				   is incorrectly configured (unreadable
				   --config or rcfile, an option lda does
				   not take, an unknown filter, a bad
				   STORE); the MTA keeps the message */
};

/* The sysexits code for o; anything unknown is EX_TEMPFAIL (75). */
int outcome_exit(enum outcome o);
/* The outcome an exit code stands for (a child's); unknown and 75:
   OUT_TEMPFAIL. */
enum outcome outcome_from_exit(int code);
/* The default RFC 3463 status for o, e.g. "4.3.0" or "5.1.1". */
const char *outcome_status(enum outcome o);
/* The LMTP reply code for o under lda -z (250, 451, 550, 554): the
   same outcome as the exit code, said per recipient; unknown: 451. */
int outcome_reply(enum outcome o);
/*
 * Combine the outcomes of two copies of one message: a configuration
 * error wins; whenever a copy is still owed for a temporary reason the
 * result is OUT_TEMPFAIL, so the MTA retries; otherwise the first
 * permanent failure wins over delivery.
 */
enum outcome outcome_worse(enum outcome a, enum outcome b);
/* Does the MTA bounce on o (a failure that is not 75)? */
int outcome_bounces(enum outcome o);

#endif

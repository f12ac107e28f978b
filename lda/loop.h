/*
 * loop.h - mail loops, as postfix's local(8) stops them: lda marks what
 * it sends on (a "!" forward) with "Delivered-To: <recipient>", and
 * refuses (5.4.6) a message that already carries that field for the
 * recipient it is delivering for.
 * Does: find such a field in the spool's header; make the line.
 * Does not: decide or log the outcome (main.c), feed programs (rc/).
 */
#ifndef LDA_LOOP_H
#define LDA_LOOP_H

struct spool;

#define LOOP_ADDRESS_MAX 512	/* bytes of an address we mark with */

/* 1 when sp's header has, below its first Received: field, a
   Delivered-To: field whose value is rcpt (ASCII case folded, surrounding
   blanks and <> ignored), else 0. Fields above every Received: are the
   delivering MTA's own (postfix pipe flags=D), never a loop. */
int loop_seen(const struct spool *sp, const char *rcpt);

/* "Delivered-To: rcpt\n", allocated; NULL when rcpt cannot be a header
   value (control bytes, DEL, over LOOP_ADDRESS_MAX, empty). */
char *loop_header(const char *rcpt);

#endif

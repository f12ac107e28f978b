/*
 * bboard.h - the one call main makes to the bboard filter outside
 * FILTERS: a board post ends the run after FILTERS (filters/bboard.c,
 * doc/addressing.md).
 */
#ifndef LDA_BBOARD_H
#define LDA_BBOARD_H

struct rc;
struct session;

/*
 * Right after FILTERS ran, with done its result (1: the run is over).
 * When bboard made this message a board post (BOARD is set): a post it
 * delivered to a local board gets the board's group permissions, and a
 * post that was not delivered ends the run too, with OUT_TEMPFAIL in
 * s->outcome, so that neither a user rc nor DEFAULT gets it. Returns
 * done, or 1 for a post.
 */
int bboard_settle(struct session *s, struct rc *rc, int done);

#endif

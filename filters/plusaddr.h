/*
 * plusaddr.h - the one call main makes to the plusaddr filter outside
 * FILTERS: when no recipe delivered, the detail's folder comes before
 * DEFAULT (filters/plusaddr.c, doc/addressing.md).
 */
#ifndef LDA_PLUSADDR_H
#define LDA_PLUSADDR_H

struct rc;
struct session;

/*
 * When plusaddr ran in FILTERS (PLUS_FOLDER is set) and the detail names
 * a folder below DEFAULT as the rc left it, deliver the message there.
 * Returns 1 when it was delivered (s->outcome holds the result), 0 when
 * DEFAULT should take it (no detail, refused, missing, or the copy
 * failed: logged).
 */
int plusaddr_default(struct session *s, struct rc *rc);

#endif

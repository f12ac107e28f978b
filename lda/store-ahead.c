/*
 * store-ahead.c - lda -z's side of the store: the transaction that the
 * RCPT checks open ahead of the message (store_check), and the copies
 * every recipient's child hands the server (relay.c) sent together in it
 * or in one of their own (store_relay_send); what is left open reset when
 * the client's transaction ends or the client pauses.
 * Does not: queue or send a run's own copies, fall back to the INBOX or
 * log them (store.c, in the child), speak LMTP (lmtp.c).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lmtp.h"
#include "spool.h"
#include "store.h"
#include "store-int.h"
#include "xalloc.h"

/* A transaction opened ahead longer ago than this is not used: the
   store may have given up waiting for its DATA (the rcs ran long). */
#define AHEAD_MAX_AGE 30	/* seconds */

/* reply_copy - r, its text a copy of its own */
static struct lmtp_reply
reply_copy(const struct lmtp_reply *r)
{
	struct lmtp_reply c = *r;

	c.text = r->text ? xstrdup(r->text) : NULL;
	return c;
}

/* ahead_clear - forget the transaction opened ahead (RSET when asked
   and the connection is still there) */
void
ahead_clear(struct store_be *be, int rset)
{
	if (rset && be->lc)
		lmtp_reset(be->lc);
	for (size_t i = 0; i < be->nahead; i++) {
		free(be->ahead_addrs[i]);
		lmtp_reply_free(&be->ahead_replies[i]);
	}
	free(be->ahead_addrs);
	free(be->ahead_replies);
	free(be->ahead_sender);
	be->ahead_addrs = NULL;
	be->ahead_replies = NULL;
	be->ahead_sender = NULL;
	be->nahead = 0;
}

/* ahead_max - the most RCPTs any back end has given ahead */
static size_t
ahead_max(const struct store *st)
{
	size_t m = 0;

	for (size_t k = 0; k < st->nbes; k++)
		if (st->bes[k].nahead > m)
			m = st->bes[k].nahead;
	return m;
}

/*
 * ahead_use - may the transaction opened ahead on be carry this group
 * (rcpts[0..*nr), copy i of n at map[i] when bes[i] == k)? Only when its
 * sender is the group's and every RCPT it accepted is one of the group's:
 * then its RCPTs go first (rr[0..given) their replies), the group's others
 * after, map and *nr follow, and the number given is returned. Otherwise
 * it is reset and 0 returned: a transaction of its own.
 */
static size_t
ahead_use(struct store_be *be, const char *sender, const char **rcpts,
    size_t *nr, size_t *map, size_t n, const size_t *bes, size_t k,
    struct lmtp_reply *rr)
{
	size_t g = be->nahead, total = g, *where;
	const char **all;

	if (g == 0 || be->lc == NULL || !lmtp_in_txn(be->lc) ||
	    lmtp_closed(be->lc) || strcmp(be->ahead_sender, sender) != 0 ||
	    lmtp_txn_age(be->lc) > AHEAD_MAX_AGE)
		goto fresh;
	for (size_t a = 0; a < g; a++) {
		size_t j = 0;
		int took = be->ahead_replies[a].code == 250 ||
		    be->ahead_replies[a].code == 251;
		while (j < *nr && strcmp(rcpts[j], be->ahead_addrs[a]) != 0)
			j++;
		if (took && j == *nr)
			goto fresh;	/* it would deliver a copy nobody made */
	}
	all = xcalloc(g + *nr + 1, sizeof *all);
	where = xcalloc(*nr + 1, sizeof *where);
	for (size_t a = 0; a < g; a++) {
		all[a] = be->ahead_addrs[a];
		rr[a] = be->ahead_replies[a];	/* lmtp_send takes them */
		be->ahead_replies[a].text = NULL;
	}
	for (size_t j = 0; j < *nr; j++) {
		size_t a = 0;
		while (a < g && strcmp(all[a], rcpts[j]) != 0)
			a++;
		if (a == g)
			all[a = total++] = rcpts[j];
		where[j] = a;
	}
	for (size_t i = 0; i < n; i++)
		if (bes[i] == k)
			map[i] = where[map[i]];
	memcpy(rcpts, all, total * sizeof *all);
	*nr = total;
	free(all);
	free(where);
	return g;
fresh:
	ahead_clear(be, 1);
	return 0;
}

/*
 * store_check - lda -z's RCPT check that opens the transaction ahead
 * (store.h): MAIL and RCPT on user's back end, or one more RCPT in the
 * transaction already open there for this sender.
 */
int
store_check(struct store *st, const char *user, const char *sender,
    off_t size, struct lmtp_reply *r, char **err)
{
	struct store_be *be;
	char *addr;
	size_t k;
	int got = -1;

	if (store_route(st, user, &k, err) == -1)
		return -1;
	be = &st->bes[k];
	if ((addr = store_address(&st->set, user, NULL)) == NULL ||
	    sender_ok(sender) == NULL) {
		free(addr);
		return store_probe(st, user, NULL, r, err);
	}
	for (size_t a = 0; a < be->nahead; a++)
		if (strcmp(be->ahead_addrs[a], addr) == 0 && be->lc &&
		    lmtp_in_txn(be->lc) && strcmp(be->ahead_sender, sender) ==
		    0) {
			/* given already (bob and bob@domain): its answer */
			*r = reply_copy(&be->ahead_replies[a]);
			free(addr);
			return 0;
		}
	for (int round = 0; round < 2 && got == -1; round++) {
		free(be->down);
		be->down = NULL;
		if (connect_store(st, be, err) == -1)
			break;
		if (be->nahead && lmtp_in_txn(be->lc) &&
		    strcmp(be->ahead_sender, sender) == 0)
			got = lmtp_rcpt(be->lc, addr, r, err);
		else {
			ahead_clear(be, 1);
			got = lmtp_begin(be->lc, sender, size, addr, r, err);
		}
		if (got == -1) {
			lmtp_close(&be->lc);
			ahead_clear(be, 0);
			if (round == 0) {
				free(*err);
				*err = NULL;
			}
		}
	}
	if (got == 0 && lmtp_in_txn(be->lc)) {
		if (be->ahead_sender == NULL)
			be->ahead_sender = xstrdup(sender);
		be->ahead_addrs = xreallocarray(be->ahead_addrs, be->nahead + 1,
		    sizeof *be->ahead_addrs);
		be->ahead_replies = xreallocarray(be->ahead_replies,
		    be->nahead + 1, sizeof *be->ahead_replies);
		be->ahead_addrs[be->nahead] = xstrdup(addr);
		be->ahead_replies[be->nahead++] = reply_copy(r);
	}
	free(addr);
	if (got == 1)	/* no pipelining: the plain probe */
		return store_probe(st, user, NULL, r, err);
	return got == 0 ? 0 : -1;
}

/* store_release - close every connection (QUIT); the next use connects */
void
store_release(struct store *st)
{
	for (size_t k = 0; k < st->nbes; k++) {
		ahead_clear(&st->bes[k], 1);
		lmtp_close(&st->bes[k].lc);
	}
}

/* store_txn_end - the client's transaction is over: what was opened
   ahead and not sent is reset */
void
store_txn_end(struct store *st)
{
	for (size_t k = 0; k < st->nbes; k++)
		if (st->bes[k].nahead)
			ahead_clear(&st->bes[k], 1);
}

/*
 * store_relay_send - lda -z's parent sends the copies its children handed
 * over (store.h): grouped by back end, one RCPT per distinct address.
 */
void
store_relay_send(struct store *st, const struct spool *sp, const char *sender,
    const char *const *users, const char *const *addrs, size_t n,
    struct lmtp_reply *replies)
{
	size_t *be = xcalloc(n + 1, sizeof *be), *map = xcalloc(n + 1,
	    sizeof *map);
	const char **rcpts = xcalloc(n + 1 + ahead_max(st), sizeof *rcpts);
	int logged = 0;

	for (size_t i = 0; i < n; i++) {
		memset(&replies[i], 0, sizeof replies[i]);
		if (store_route(st, users[i], &be[i], &replies[i].text) == -1)
			be[i] = SIZE_MAX;	/* no reply: the text says why */
	}
	for (size_t k = 0; k < st->nbes; k++) {
		struct lmtp_reply *rr;
		const char *why;
		char *err = NULL;
		size_t nr = 0, given;
		for (size_t i = 0; i < n; i++) {
			size_t j = 0;
			if (be[i] != k)
				continue;
			while (j < nr && strcmp(rcpts[j], addrs[i]) != 0)
				j++;
			if (j == nr)
				rcpts[nr++] = addrs[i];
			map[i] = j;
		}
		if (nr == 0)
			continue;
		rr = xcalloc(nr + st->bes[k].nahead, sizeof *rr);
		given = ahead_use(&st->bes[k], sender, rcpts, &nr, map, n, be,
		    k, rr);
		be_send(st, &st->bes[k], sp->fd, sp->size, sender, &logged,
		    rcpts, nr, given, rr, &err, &why);
		ahead_clear(&st->bes[k], 0);	/* sent, or gone with the link */
		for (size_t i = 0; i < n; i++) {
			const struct lmtp_reply *r = &rr[map[i]];
			if (be[i] != k)
				continue;
			replies[i].code = r->code;
			lda_strlcpy(replies[i].status, r->code ? r->status :
			    why, sizeof replies[i].status);
			replies[i].text = xstrdup(r->code ? r->text : err ? err :
			    "no reply");
		}
		for (size_t j = 0; j < nr; j++)
			lmtp_reply_free(&rr[j]);
		free(rr);
		free(err);
	}
	free(be);
	free(map);
	free(rcpts);
}


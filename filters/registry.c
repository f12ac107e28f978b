/*
 * registry.c - every built-in filter, by name: adding a filter is one new
 * file in filters/ and one line here.
 * Does: list the descriptors. Does not: open or run them (filter.c does).
 */
#include <stddef.h>

#include "filter.h"

extern const struct filter filter_spamassassin, filter_clamav, filter_spf;
extern const struct filter filter_plusaddr, filter_bboard;
extern const struct filter filter_dedup, filter_vacation;

const struct filter *const filter_registry[] = {
	&filter_spamassassin,	/* spamd protocol client */
	&filter_clamav,		/* clamd INSTREAM, or libclamav (clamav.so) */
	&filter_spf,		/* libspf2 (spf.so) */
	&filter_plusaddr,	/* bob+folder: the detail's folder before DEFAULT */
	&filter_bboard,		/* bb+board: a post to a shared folder */
	&filter_dedup,		/* formail -D, committed only once delivered */
	&filter_vacation,	/* RFC 3834 auto-reply through $SENDMAIL */
	NULL,
};

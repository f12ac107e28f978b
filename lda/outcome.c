/*
 * outcome.c - the one table from outcomes to sysexits and RFC 3463 codes.
 * Does: map; anything unknown is EX_TEMPFAIL, because Postfix and
 * OpenSMTPD bounce every status but 75 (and 71): when in doubt, retry.
 * Does not: exit or log.
 */
#include <sysexits.h>

#include "outcome.h"

static const struct {
	enum outcome o;
	int code;
	const char *status;
	int reply;		/* the LMTP reply code (lda -z) */
} table[] = {
	{ OUT_DELIVERED, EX_OK, "2.0.0", 250 },
	{ OUT_REJECTED, EX_DATAERR, "5.6.0", 554 },
	{ OUT_NOUSER, EX_NOUSER, "5.1.1", 550 },
	{ OUT_UNAVAILABLE, EX_UNAVAILABLE, "5.3.0", 554 },
	{ OUT_CANTCREAT, EX_CANTCREAT, "5.2.0", 550 },
	{ OUT_NOPERM, EX_NOPERM, "5.7.1", 550 },
	{ OUT_USAGE, EX_USAGE, "5.3.5", 554 },
	{ OUT_TEMPFAIL, EX_TEMPFAIL, "4.3.0", 451 },	/* before OUT_CONFIG:
							   75 is read back
							   as this */
	{ OUT_CONFIG, EX_TEMPFAIL, "4.3.5", 451 },
};

/* outcome_exit - the sysexits code; unknown -> EX_TEMPFAIL */
int
outcome_exit(enum outcome o)
{
	for (unsigned i = 0; i < sizeof table / sizeof table[0]; i++)
		if (table[i].o == o)
			return table[i].code;
	return EX_TEMPFAIL;
}

/* outcome_from_exit - the outcome a child's exit code stands for */
enum outcome
outcome_from_exit(int code)
{
	for (unsigned i = 0; i < sizeof table / sizeof table[0]; i++)
		if (table[i].code == code)
			return table[i].o;
	return OUT_TEMPFAIL;
}

/* outcome_status - the default RFC 3463 status; unknown -> 4.3.0 */
const char *
outcome_status(enum outcome o)
{
	for (unsigned i = 0; i < sizeof table / sizeof table[0]; i++)
		if (table[i].o == o)
			return table[i].status;
	return "4.3.0";
}

/* outcome_reply - the LMTP reply code; unknown -> 451 */
int
outcome_reply(enum outcome o)
{
	for (unsigned i = 0; i < sizeof table / sizeof table[0]; i++)
		if (table[i].o == o)
			return table[i].reply;
	return 451;
}

/* outcome_worse - combine two copies' outcomes; a copy owed means retry */
enum outcome
outcome_worse(enum outcome a, enum outcome b)
{
	if (a == OUT_CONFIG || b == OUT_CONFIG)
		return OUT_CONFIG;
	if (a == OUT_TEMPFAIL || b == OUT_TEMPFAIL)
		return OUT_TEMPFAIL;
	if (a == OUT_DELIVERED)
		return b;
	return a;
}

/* outcome_bounces - a failure the MTA returns to the sender (not 75) */
int
outcome_bounces(enum outcome o)
{
	int code = outcome_exit(o);

	return code != EX_OK && code != EX_TEMPFAIL;
}

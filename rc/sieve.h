/*
 * sieve.h - "lda --to-sieve RCFILE": an rc file translated into a Sieve
 * script (RFC 5228 and the extensions Cyrus 3.6 and Pigeonhole 0.5 both
 * have), with a report of every construct that has no exact Sieve form.
 * Does: declare the translator (rc/sieve.c; its parts share
 * rc/sieve-int.h). Does not: run anything of the rc.
 */
#ifndef RC_SIEVE_H
#define RC_SIEVE_H

#include <stdio.h>

/* Exit codes of lda --to-sieve (doc/sieve.md, lda.1). */
#define SIEVE_EXIT_EXACT	0	/* everything translated exactly */
#define SIEVE_EXIT_REPORTED	3	/* a script, and a report of what
					   was not translated */
#define SIEVE_EXIT_UNREADABLE	75	/* the rc file could not be read */

/*
 * Translate the rc file path into a Sieve script on out, after the
 * assignments assigns[0..nassigns) ("VAR=value": MAILDIR, DEFAULT,
 * STORE_SEPARATOR, SIEVE_PREFIX...) as if made before it. Every
 * construct without an exact form is written on err as "file:line: why"
 * and as a comment in the script. Returns a SIEVE_EXIT_* code.
 */
int rc_to_sieve(const char *path, char *const *assigns, size_t nassigns,
    FILE *out, FILE *err);

#endif

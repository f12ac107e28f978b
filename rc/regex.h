/*
 * regex.h - procmail's regular expressions (procmailrc(5), procmail 3.22),
 * searched in memory and in the spool (approximate ones by TRE).
 * Does: the procmail dialect and its macros, $MATCH after \/, procmail's
 * match counting for weighted conditions, TRE's approximate matching.
 * Does not: log, expand variables, strip a condition's leading backslash.
 */
#ifndef LDA_RC_REGEX_H
#define LDA_RC_REGEX_H

#include <stddef.h>
#include <sys/types.h>

#include "../lda/buf.h"
#include "../lda/spool.h"

/* Ignore case (procmail's default; the D flag clears it). */
#define RC_RE_ICASE	0x1
/* lda's own: TRE's {n,m}, approximate {~n}, [[:class:]] and \w \s \d
   as well; procmail's ^ $ ^^ \< \> \/ and keywords keep their meaning. */
#define RC_RE_EXTENDED	0x2

/* Longest pattern accepted, counted after ^TO_ ^TO ^FROM_DAEMON ^FROM_MAILER
   are expanded. */
#define RC_REGEX_MAX	(64u * 1024)

struct rc_regex;

/*
 * Compile a procmail pattern with RC_RE_* flags. ^FROM_DAEMON in the
 * pattern makes all of it case-insensitive, as in procmail. Returns 0 and
 * sets *re_r, or -1 with *err (allocated) saying what is wrong, e.g.
 * "groups nested too deeply at offset 3"; the caller adds file:line.
 * Unbalanced parentheses compile as procmail 3.22 takes them (it logs
 * "Invalid regexp" and goes on): a ( without ) is closed at the end of
 * the pattern, a ) without ( ends the pattern; rc_regex_warning says so.
 */
int rc_regex_compile(const char *pattern, int flags, struct rc_regex **re_r,
    char **err);

/*
 * Search the text made of mem[0..memlen) followed by the spool's bytes
 * [from, to) (sp may be NULL). The body is read in bounded chunks, never
 * whole. Returns 1 on a match, 0 on none, -1 on a spool read error or a
 * text over 2 GB (errno set). When the pattern has \/ and match_r is not
 * NULL, match_r is reset and receives procmail's $MATCH (truncated at its
 * cap); a match through an alternative without \/ leaves it empty. With
 * approximate matching, $MATCH is TRE's leftmost-longest split instead.
 */
int rc_regex_exec(const struct rc_regex *re, const char *mem, size_t memlen,
    const struct spool *sp, off_t from, off_t to, struct buf *match_r);

/*
 * Count matches as procmail's weighted conditions do (procmailsc(5)):
 * each search starts where the previous match ended (procmail matches
 * the earliest-ending text, so "a+" is found 3 times in "aaa"). Stops
 * after max matches (approximate patterns: TRE's leftmost-longest
 * matches, and only as many as reading the text 4 times finds). Returns the count, or -1 as rc_regex_exec. *endless_r
 * (may be NULL) is set to 1 when the last match was empty where the
 * search started, so it would repeat forever (procmail then adds the
 * series' limit), else to 0.
 */
long rc_regex_count(const struct rc_regex *re, const char *mem, size_t memlen,
    const struct spool *sp, off_t from, off_t to, long max, int *endless_r);

/* 1 when the pattern has \/ (a match sets $MATCH), else 0. */
int rc_regex_has_match(const struct rc_regex *re);

/* What procmail would call an invalid regexp that compiled all the same
   (e.g. "missing ) for the ( at offset 3 (procmail closes it at the end
   of the pattern)"), or NULL; valid as long as re. */
const char *rc_regex_warning(const struct rc_regex *re);

/* Free *rep (may be NULL); *rep becomes NULL. */
void rc_regex_free(struct rc_regex **rep);

#endif

/*
 * sieve-int.h - what the files of "lda --to-sieve" share: the
 * translator's state (struct sv) and the functions one file gives the
 * others. rc/sieve.c walks the rc, rc/sieve-cond.c translates
 * conditions, rc/sieve-action.c actions, rc/sieve-state.c holds the
 * variables and writes the script and the report, rc/sieve-re.c turns
 * procmail regexes into POSIX EREs.
 * Does: declare. Does not: belong to anything outside rc/sieve*.c (the
 * public interface is rc/sieve.h).
 */
#ifndef RC_SIEVE_INT_H
#define RC_SIEVE_INT_H

#include <stddef.h>

#include "../lda/buf.h"
#include "../lda/store.h"
#include "tree.h"

/* The extensions a script may need, in "require" order. */
enum {
	SV_FILEINTO = 1 << 0, SV_COPY = 1 << 1, SV_REGEX = 1 << 2,
	SV_VARIABLES = 1 << 3, SV_BODY = 1 << 4, SV_COMPARATOR = 1 << 5,
	SV_ENVELOPE = 1 << 6,
};

/* Where $MATCH stands in an expanded text (a \/ set it at run time). */
#define SV_MATCH	'\001'

struct sv_var {
	char *name;
	char *value;		/* NULL: unknown (computed, or conditional) */
};

struct sv {
	struct buf body;	/* the script after its "require" */
	struct buf report;	/* "file:line: why" lines */
	unsigned ext;
	int chain;		/* keep procmail's A/a/E/e state in variables */
	int uses_chain;		/* an A/a/E/e flag was seen */
	int indent;
	int include;		/* INCLUDERC nesting */
	int block;		/* nested block depth */
	int ended;		/* SWITCHRC at the top: the rest never runs */
	int recipes, recipes_reported, reported;
	int cap_ok;		/* a \/ may stand in the condition at hand */
	int captured;		/* ... and one did: ${1} is $MATCH */
	int cap_empty;		/* ... and it may be empty */
	int match_live;		/* $MATCH is the Sieve variable "match" */
	int from_line;		/* ^FROM_DAEMON: the script sets "from_" */
	struct sv_var *vars;
	size_t nvars;
	struct store_settings set;	/* only the separator is used */
	struct buf copied;	/* "\n"-ended mailboxes filed with :copy */
	const char *file;
};

/* sieve-state.c: variables (known values), the script, the report */
struct sv_var *sv_var_find(struct sv *sv, const char *name, size_t n);
void sv_var_set(struct sv *sv, const char *name, const char *value);
const char *sv_get(struct sv *sv, const char *name);
char *sv_expand(struct sv *sv, const char *raw, const char **why);
void sv_line(struct sv *sv, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int sv_quote_part(struct buf *b, const char *s, size_t n);
int sv_quote(struct buf *b, const char *s);
void sv_report(struct sv *sv, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* sieve-cond.c: all conditions of r as one test in t ("" when none);
   *line_r is the line of the condition a -1 (with *why) is about */
int sv_conds(struct sv *sv, const struct rc_recipe *r, struct buf *t,
    int *line_r, const char **why);

/* sieve-action.c: r's action (not a block) as statements in a, 0 or -1
   with *why; sv_folders: a folder action alone, 0, 1 when the stops are
   in a already, -1 with *why */
int sv_action(struct sv *sv, const struct rc_recipe *r, struct buf *a,
    const char **why);
int sv_folders(struct sv *sv, const struct rc_recipe *r, struct buf *a,
    const char **why);

/* sieve-re.c: procmail pattern p[0..n) as a POSIX ERE for one field's
   value (a final "$" is the value's end), or with body for the raw body
   (no ".", "$", negated class; a leading "^" is a line's start);
   *first_blank_r when its match may begin with a blank. 0, or -1 with
   *why. */
int sv_re_convert(const char *p, size_t n, int body, struct buf *out,
    int *first_blank_r, const char **why);
/* 1 with the string in out when p[0..n) is a plain string, else 0. */
int sv_re_literal(const char *p, size_t n, struct buf *out);

#endif

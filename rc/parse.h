/*
 * parse.h - the rc parser's helpers that the evaluator and the tests use
 * again: recipe headers and single conditions ("$" conditions are parsed
 * at run time, after expansion).
 * Does: declare. Does not: run anything.
 */
#ifndef RC_PARSE_H
#define RC_PARSE_H

#include "tree.h"

/* Parse the text after ":" into r's flags and lockfile. Returns 0, or -1
   with *bad_r the first unknown flag letter (flags before it are kept). */
int rc_parse_flags(const char *h, struct rc_recipe *r, int *bad_r);
/* Remove backslash-newline (and the blanks after it), trim the end. */
void rc_squeeze(char *s);
/* One condition (text after "*"); 0, or -1 with *err (allocated). */
int rc_cond_parse(const char *s, unsigned flags, struct rc_cond *c,
    char **err);
int rc_cond_compile(struct rc_cond *c, unsigned flags, char **err);
void rc_cond_clear(struct rc_cond *c);

#endif

/*
 * route.h - per-user routing: the store a recipient's copies go to, from
 * a table (STORE_ROUTES).
 * Does: open a table - a constant database built by tinycdb's cdb
 * ("cdb:/path") or a flat file of "key value" lines ("file:/path") - and
 * look a recipient up in it: user@domain, then @domain; a bare user as
 * itself. Keys are folded to lower case.
 * Does not: parse the STORE value it finds (store.c), choose a path or
 * a program: the recipient is only a key, the table names the store.
 */
#ifndef LDA_ROUTE_H
#define LDA_ROUTE_H

#include <stddef.h>

#define ROUTE_KEY_MAX 512	/* bytes of a key; a longer one is no key */
#define ROUTE_VALUE_MAX 4096	/* bytes of a value */
#define ROUTE_FILE_MAX (4 << 20)	/* bytes of a flat file */

struct route;

/* Open the table spec names (cdb:/absolute/path or file:/absolute/path).
   Returns 0 with *r_r, or -1 with *err ("what: why"). */
int route_open(const char *spec, struct route **r_r, char **err);

/*
 * The table's value for recipient rcpt: 1 with *value_r (allocated) when
 * one of its keys is there, 0 when none is (the default store), -1 with
 * *err when the table cannot be read or is no table.
 */
int route_lookup(struct route *r, const char *rcpt, char **value_r,
    char **err);

/* Close the table; *rp = NULL. */
void route_close(struct route **rp);

#endif

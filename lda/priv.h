/*
 * priv.h - root is only ever a starting point.
 * Does: become the recipient for good (initgroups, setresgid, setresuid,
 * every call checked, then proven irreversible). Refuses uid 0 as target.
 * Does not: look up users (main does), open user files, log.
 */
#ifndef LDA_PRIV_H
#define LDA_PRIV_H

#include <pwd.h>

/* Become pw for good. Returns 0, or -1 with *err (allocated); on -1 the
   process must not go on (the caller exits 75). */
int priv_become(const struct passwd *pw, char **err);

#endif

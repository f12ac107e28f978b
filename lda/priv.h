/*
 * priv.h - root is only ever a starting point.
 * Does: become the recipient for good (initgroups, setresgid, setresuid,
 * every call checked, then proven irreversible). Refuses uid 0 as target.
 * The first steps of every run (priv_start): standard descriptors, no
 * core dumps or /proc access for processes of the same uid.
 * Does not: look up users (main does), open user files, log.
 */
#ifndef LDA_PRIV_H
#define LDA_PRIV_H

#include <pwd.h>

/* Become pw for good. Returns 0, or -1 with *err (allocated); on -1 the
   process must not go on (the caller exits 75). */
int priv_become(const struct passwd *pw, char **err);

/*
 * The first thing lda does, before it opens anything: /dev/null on any
 * of descriptors 0-2 that is closed (else the spool or a log would take
 * its number: a closed stdin would be read as an empty message, a log
 * line written into a folder), and the process made non-dumpable, so
 * that no other process of its uid (a program another virtual user's rc
 * runs as the same service user) reads its descriptors, memory or
 * credentials through /proc or ptrace. Returns 1 when stdin was closed.
 */
int priv_start(void);

#endif

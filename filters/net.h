/*
 * net.h - stream sockets to filter daemons (spamd, clamd) with deadlines.
 * Does: parse "unix:/path" and "inet:host:port", connect without blocking
 * past a deadline, whole writes and bounded reads that give up at the
 * deadline, copy a spool to a socket.
 * Does not: speak any protocol, log, retry.
 * Errors: -1 with *err set (allocated), "<what>: <reason>".
 */
#ifndef LDA_NET_H
#define LDA_NET_H

#include <stddef.h>
#include <sys/types.h>

#include "../lda/spool.h"

/* A point in time, in milliseconds of CLOCK_MONOTONIC. */
long long net_now(void);

/* Connect to spec ("unix:/path", "inet:host:port", or a bare absolute
   path) by deadline. Returns a non-blocking, close-on-exec descriptor, or
   -1 with *err. */
int net_connect(const char *spec, long long deadline, char **err);

/* Write all n bytes by deadline (no SIGPIPE). Returns 0 or -1 with *err. */
int net_write(int fd, const void *p, size_t n, long long deadline,
    char **err);

/* Read what is there, up to n bytes, waiting until deadline. Returns bytes
   read, 0 at end of stream, or -1 with *err (timeout, reset). */
ssize_t net_read(int fd, void *p, size_t n, long long deadline, char **err);

/* Send bytes [from, to) of sp by deadline. Returns 0 or -1 with *err. */
int net_send_spool(int fd, const struct spool *sp, off_t from, off_t to,
    long long deadline, char **err);

#endif

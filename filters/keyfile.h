/*
 * keyfile.h - a small per-user file of keys with a time each (one key a
 * line, newest last), bounded in size and locked with fcntl on its
 * descriptor: @dedup's cache of Message-IDs and @vacation's senders.
 * Does: find a key, add one (the oldest lines go when the file passes
 * its size), survive a kill at any point (a line is one write; a
 * shortened file replaces the old one by rename), treat every key as
 * hostile bytes (escaped, bounded). Does not: decide what a key means,
 * log, or create anything when it only reads.
 */
#ifndef LDA_KEYFILE_H
#define LDA_KEYFILE_H

#include <stddef.h>
#include <time.h>

/* The longest key kept; a longer one is never found nor added. */
#define KEYFILE_KEY_MAX 1000
/* The largest file read (a larger size setting is refused). */
#define KEYFILE_SIZE_MAX (16 * 1024 * 1024)

struct keyfile {
	int fd;			/* -1: the file does not exist (read only) */
	char *path;
	char *text;		/* the whole file, NUL-terminated */
	size_t len;
	int write;		/* locked for writing */
};

/*
 * Open path and lock it: shared (write 0; a missing file is an empty one
 * and is not created) or exclusive (write 1; created 0600 when missing).
 * The file is read whole. Returns 0, or -1 with *err (allocated).
 */
int keyfile_open(struct keyfile *kf, const char *path, int write,
    char **err);
/* The time recorded for key (len bytes, any bytes), or -1: not there.
   The newest line for the key counts. */
time_t keyfile_find(const struct keyfile *kf, const char *key, size_t len);
/*
 * Record key with time when (kf opened for writing). When the file would
 * pass max bytes, the oldest lines go: a new file with the newest ones
 * (about three quarters of max) replaces it by rename. Returns 0, or -1
 * with *err; the file then holds what it held before or the new line.
 */
int keyfile_add(struct keyfile *kf, const char *key, size_t len, time_t when,
    size_t max, char **err);
/* The time recorded for key in the file at path, read under a shared
   lock: *when_r. Returns 1 found, 0 not there (or no file), -1 with *err. */
int keyfile_lookup(const char *path, const char *key, size_t len,
    time_t *when_r, char **err);
/* Unlock and close; kf may be closed twice. */
void keyfile_close(struct keyfile *kf);

#endif

/*
 * fdio.h - whole reads and writes on file descriptors, EINTR handled.
 * Does: loop until done or a real error. Does not: buffer, log, time out.
 */
#ifndef LDA_FDIO_H
#define LDA_FDIO_H

#include <stddef.h>
#include <sys/types.h>

/* Write all n bytes. Returns 0, or -1 with errno set. */
int fd_write_all(int fd, const void *p, size_t n);
/* Read up to n bytes, retrying on EINTR and short reads until EOF.
   Returns bytes read (< n only at EOF), or -1 with errno set. */
ssize_t fd_read_full(int fd, void *p, size_t n);
/* Open an unlinked 0600 file in dir (O_TMPFILE, else mkstemp+unlink).
   Returns the descriptor or -1 with errno set. */
int fd_tmpfile(const char *dir);

#endif

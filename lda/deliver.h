/*
 * deliver.h - one copy of the message into one destination.
 * Does: classify a folder name (Maildir "dir/", MH "dir/.", mbox file,
 * /dev/null) and hand the copy to that destination's module; record the
 * result in the session.
 * Does not: evaluate rc, talk LMTP (store destinations are queued by the
 * store module), log anything but the one delivery line per copy.
 */
#ifndef LDA_DELIVER_H
#define LDA_DELIVER_H

#include "outcome.h"
#include "session.h"

enum dest_kind { DEST_MBOX, DEST_MAILDIR, DEST_MH, DEST_DEVNULL };

/* What kind of local folder name is (procmail's rules: trailing "/" is a
   Maildir, trailing "/." is MH, /dev/null discards, else an mbox file). */
enum dest_kind deliver_kind(const char *folder);

/*
 * Write one copy of s->msg into the local folder (a path, relative paths
 * already resolved by the caller). Logs the delivery line. Returns the
 * outcome; on success *path_r (if not NULL) gets the file written
 * (allocated), and s->delivered and s->last_folder are updated. The
 * session's overall outcome is main's decision, not this function's.
 */
enum outcome deliver_folder(struct session *s, const char *folder,
    char **path_r);

#endif

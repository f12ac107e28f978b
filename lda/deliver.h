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

enum dest_kind { DEST_MBOX, DEST_MAILDIR, DEST_MH, DEST_DEVNULL,
	DEST_MSGDIR };

/* What kind of local folder name is (procmail's rules: trailing "/" is a
   Maildir, trailing "/." is MH, /dev/null discards, else an mbox file). */
enum dest_kind deliver_kind(const char *folder);
/* The same, and a name without "/" that is an existing directory is
   procmail's plain directory folder (DEST_MSGDIR: files "msg.XXXX"). */
enum dest_kind deliver_kind_fs(const char *folder);

/*
 * Write one copy of s->msg into the local folder (a path, relative paths
 * already resolved by the caller). Logs the delivery line. Returns the
 * outcome; on success *path_r (if not NULL) gets the file written
 * (allocated), and s->delivered and s->last_folder are updated. The
 * session's overall outcome is main's decision, not this function's.
 */
enum outcome deliver_folder(struct session *s, const char *folder,
    char **path_r);

/*
 * The same copy as the file src that deliver_folder just wrote, for the
 * second and later folders of one procmail recipe line: a hard link into
 * a Maildir, an MH folder, or a plain directory folder (any other name,
 * made a directory), as procmail does; a copy of its own when the link
 * is impossible. Logged and recorded as deliver_folder does.
 */
enum outcome deliver_link(struct session *s, const char *src,
    const char *folder, char **path_r);

#endif

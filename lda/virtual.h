/*
 * virtual.h - recipients lda delivers for without being them (a service
 * user's run, s->foreign): users of a sealed store that have no Unix
 * account, and the rc file the administrator keeps for each of them.
 * Does: decide whether such a recipient is known (only with STORE set),
 * find and check its rc file under USERS_RC_DIR.
 * Does not: run rc files, deliver, pick the exit code.
 */
#ifndef LDA_VIRTUAL_H
#define LDA_VIRTUAL_H

#include <sys/types.h>

struct session;

/* May the rc file path run for uid? 1, or 0 with *why (allocated) and
   errno ENOENT when it does not exist (rc_user_file_ok, rc.h). */
typedef int virtual_file_ok_fn(const char *path, uid_t uid, char **why);

/*
 * For s->foreign, after the system rc and FILTERS. Returns 1 when the
 * run ends here: the recipient has no Unix account and STORE is not set,
 * so it is unknown (s->outcome OUT_NOUSER, logged). Else 0, with *path_r
 * the rc file to run as the recipient's (allocated), or NULL: the system
 * rc alone. The file is USERS_RC_DIR/<user>.rc; it runs only when it is
 * a regular file owned by us or root and not writable by group or
 * others, as file_ok decides (else logged, not run); a user name that
 * cannot be a file name has none. STORE and USERS_RC_DIR are read
 * through s->settings.
 */
int virtual_user(struct session *s, virtual_file_ok_fn *file_ok,
    char **path_r);

#endif

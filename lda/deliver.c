/*
 * deliver.c - one copy of the message into one destination.
 * Does: classify the folder name by procmail's rules (an existing
 * directory named without "/" is procmail's plain directory folder), hand
 * the copy to maildir.c, mbox.c or mh.c, or link a file already written
 * into a further folder, log the one line per copy (postfix style) and
 * fold the copy's outcome into the session.
 * Does not: evaluate rc, run programs, talk to a store.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "deliver.h"
#include "status.h"
#include "local.h"
#include "log.h"
#include "settings.h"
#include "store.h"
#include "undo.h"
#include "xalloc.h"

/* deliver_kind - procmail's folder name rules */
enum dest_kind
deliver_kind(const char *folder)
{
	size_t n = strlen(folder);

	if (strcmp(folder, "/dev/null") == 0)
		return DEST_DEVNULL;
	if (n >= 2 && strcmp(folder + n - 2, "/.") == 0)
		return DEST_MH;
	if (n >= 1 && folder[n - 1] == '/')
		return DEST_MAILDIR;
	return DEST_MBOX;
}

/* deliver_kind_fs - deliver_kind, and existing directories (msgdir) */
enum dest_kind
deliver_kind_fs(const char *folder)
{
	enum dest_kind k = deliver_kind(folder);
	struct stat st;

	if (k == DEST_MBOX && stat(folder, &st) == 0 && S_ISDIR(st.st_mode))
		return DEST_MSGDIR;
	return k;
}

/* msg_prefix - procmail's MSGPREFIX for plain directory folders */
static const char *
msg_prefix(const struct session *s)
{
	const char *p = settings_get(s->settings, "MSGPREFIX");

	return p && *p && strchr(p, '/') == NULL ? p : "msg.";
}

/* lock_wait - seconds to wait for an mbox's locks: LOCKTIMEOUT, within
   what is left of the run's time budget */
static int
lock_wait(const struct session *s)
{
	const char *v = settings_get(s->settings, "LOCKTIMEOUT");
	long t = v && *v ? strtol(v, NULL, 10) : 1024, left = undo_left();

	if (t <= 0)
		t = 1024;
	return (int)(t < left ? t : left);
}

/* strip - the directory name without the kind's suffix */
static char *
strip(const char *folder, enum dest_kind kind)
{
	size_t n = strlen(folder);

	if (kind == DEST_MH)
		n -= 2;
	while (kind != DEST_MBOX && kind != DEST_MSGDIR && n > 1 &&
	    folder[n - 1] == '/')
		n--;
	return xstrndup(folder, n);
}

static enum outcome deliver_any(struct session *s, const char *src,
    const char *folder, char **path_r);

/* dry_writable - could we make or write path? 0, or the errno the real
   write would meet (a missing path: its nearest existing parent must
   take a new entry) */
static int
dry_writable(const char *path)
{
	char *p = xstrdup(path), *slash;
	int e = 0;

	while (access(p, F_OK) == -1 && errno == ENOENT) {
		if ((slash = strrchr(p, '/')) == NULL) {
			p[0] = '\0';		/* the working directory */
			break;
		}
		if (slash == p) {
			p[1] = '\0';
			break;
		}
		*slash = '\0';
	}
	if (access(*p ? p : ".", W_OK) == -1)
		e = errno;
	free(p);
	return e;
}

/* dry_check - --test: the errno the copy into folder would fail with,
   as far as permissions tell without writing (0: it would go) */
static int
dry_check(const char *folder, enum dest_kind kind)
{
	char *dir, *sub;
	int e;

	switch (kind) {
	case DEST_MAILDIR:
		dir = strip(folder, kind);
		sub = xasprintf("%s/tmp", dir);
		e = dry_writable(sub);
		free(sub);
		if (e == 0) {
			sub = xasprintf("%s/new", dir);
			e = dry_writable(sub);
			free(sub);
		}
		free(dir);
		return e;
	case DEST_DEVNULL:
		return 0;
	default:
		dir = strip(folder, kind);
		e = dry_writable(dir);
		free(dir);
		return e;
	}
}

/* write_copy - the copy into a local folder of the given kind */
static enum outcome
write_copy(struct session *s, const char *folder, enum dest_kind kind,
    char **path_r, char **err)
{
	char *dir = strip(folder, kind);
	struct local_share share = { s->share_gid, s->share_mode };
	enum outcome o;

	switch (kind) {
	case DEST_MAILDIR:
		o = maildir_deliver(s->msg, dir, s->share ? &share : NULL,
		    path_r, err);
		break;
	case DEST_MH:
		o = mh_deliver(s->msg, dir, s->raw, path_r, err);
		break;
	case DEST_MBOX:
		o = mbox_deliver(s->msg, dir, s->sender, lock_wait(s),
		    !s->mbox_nolock, path_r, err);
		break;
	case DEST_MSGDIR:
		o = msgdir_deliver(s->msg, dir, msg_prefix(s), s->raw, path_r,
		    err);
		break;
	default:
		*path_r = xstrdup(folder);
		o = OUT_DELIVERED;
	}
	free(dir);
	return o;
}

/* link_copy - src linked into folder (see deliver_link) */
static enum outcome
link_copy(struct session *s, const char *src, const char *folder,
    enum dest_kind kind, char **path_r, char **err)
{
	char *dir = strip(folder, kind);
	enum outcome o;

	switch (kind) {
	case DEST_MAILDIR:
		o = maildir_link(src, dir, path_r, err);
		break;
	case DEST_MH:
		o = mh_link(src, dir, path_r, err);
		break;
	case DEST_DEVNULL:
		*path_r = xstrdup(folder);
		o = OUT_DELIVERED;
		break;
	default:	/* any other name is a plain directory folder */
		o = msgdir_link(src, dir, msg_prefix(s), path_r, err);
	}
	free(dir);
	if (o != OUT_DELIVERED && kind != DEST_DEVNULL) {
		/* no link (another file system): a copy of its own */
		free(*err);
		*err = NULL;
		if (kind == DEST_MBOX)
			kind = DEST_MSGDIR;
		o = write_copy(s, folder, kind, path_r, err);
	}
	return o;
}

/* deliver_link - the file src under another folder (see deliver.h) */
enum outcome
deliver_link(struct session *s, const char *src, const char *folder,
    char **path_r)
{
	return deliver_any(s, src, folder, path_r);
}

/* deliver_folder - one copy into a local folder, logged once */
enum outcome
deliver_folder(struct session *s, const char *folder, char **path_r)
{
	return deliver_any(s, NULL, folder, path_r);
}

/* deliver_any - a copy written, or linked from src, logged once */
static enum outcome
deliver_any(struct session *s, const char *src, const char *folder,
    char **path_r)
{
	enum dest_kind kind = src ? deliver_kind(folder) :
	    deliver_kind_fs(folder);
	char *path = NULL, *err = NULL;
	enum outcome o;

	/* STORE set: the copy becomes a recipient of the run's one LMTP
	   transaction, sent and logged by store_send() (store.h). */
	if (store_take(s, folder, &o, path_r))
		return o;
	if (s->dry_run) {
		static const char *const kinds[] = { [DEST_MAILDIR] = "Maildir",
		    [DEST_MH] = "MH folder", [DEST_MBOX] = "mbox",
		    [DEST_MSGDIR] = "directory folder",
		    [DEST_DEVNULL] = "discarded" };
		int e = dry_check(folder, kind);
		path = xstrdup(folder);
		o = OUT_DELIVERED;
		if (e) {
			o = local_fail(&err, "would fail: cannot write",
			    folder, e);
		} else {
			settings_trace(s->settings, "Would deliver to \"%s\" "
			    "(%s)", folder, kinds[kind]);
			settings_trace_dest(s->settings, "%s (%s)", folder,
			    kinds[kind]);
		}
	} else if (src)
		o = link_copy(s, src, folder, kind, &path, &err);
	else
		o = write_copy(s, folder, kind, &path, &err);
	if (o == OUT_DELIVERED) {
		log_info("to=<%s>, from=<%s>, folder=%s, size=%lld, "
		    "status=%s", s->recipient, s->sender, path,
		    (long long)s->msg->size, s->dry_run ? "dry-run" :
		    kind == DEST_DEVNULL ? "discarded" : "sent");
		s->delivered++;
		if (!s->dry_run)
			status_delivered();
		free(s->last_folder);
		s->last_folder = xstrdup(path);
	} else {
		log_warn("to=<%s>, from=<%s>, folder=%s, size=%lld, "
		    "status=%s (%s)", s->recipient, s->sender, folder,
		    (long long)s->msg->size,
		    o == OUT_TEMPFAIL ? "deferred" : "failed", err);
		status_fail(o, NULL, s->recipient, "%s", err);
	}
	if (path_r && o == OUT_DELIVERED)
		*path_r = path;
	else
		free(path);
	free(err);
	return o;
}

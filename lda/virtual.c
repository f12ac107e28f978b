/*
 * virtual.c - recipients without a Unix account, delivered for by a
 * service user into a store (virtual.h).
 * Does: the "no STORE, no account: unknown" rule; USERS_RC_DIR/<user>.rc
 * and its ownership check (by the rule main hands in: rc/'s, for rc
 * files); marks that file's run as a virtual user's
 * (s->rc_restricted: rc/ then forbids programs, see USERS_RC_RESTRICT).
 * Does not: run the file, talk to the store, log deliveries.
 */
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "log.h"
#include "session.h"
#include "settings.h"
#include "status.h"
#include "virtual.h"
#include "xalloc.h"

/* virtual_user - unknown without STORE, else the user's rc file */
int
virtual_user(struct session *s, virtual_file_ok_fn *file_ok, char **path_r)
{
	const char *store = settings_get(s->settings, "STORE");
	const char *dir = settings_get(s->settings, "USERS_RC_DIR");
	const char *routes = settings_get(s->settings, "STORE_ROUTES");
	const char *user = s->recipient ? s->recipient : "";
	char *path, *why = NULL;

	*path_r = NULL;
	for (const char *p = user; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '<' ||
		    *p == '>') {
			/* no LMTP command can carry it: refused for good,
			   never deferred until the MTA gives up */
			char *vis = address_visible(user, 64);
			log_warn("to=<%s>, status=bounced (a control byte, DEL, "
			    "< or > in the address)", vis);
			status_fail(OUT_NOUSER, "5.1.3", NULL, "bad recipient "
			    "address \"%s\": a control byte, DEL, < or >", vis);
			free(vis);
			s->outcome = outcome_worse(s->outcome, OUT_NOUSER);
			return 1;
		}
	if ((store == NULL || *store == '\0') && routes && *routes) {
		/* a routing table without the default store: a mistake */
		log_warn("to=<%s>, status=deferred (STORE_ROUTES=%s needs "
		    "STORE)", user, routes);
		s->outcome = outcome_worse(s->outcome, OUT_CONFIG);
		status_fail(OUT_CONFIG, NULL, user, "STORE_ROUTES=%s needs STORE "
		    "(the store of the recipients it does not name)", routes);
		return 1;
	}
	if ((store == NULL || *store == '\0') && getpwnam(user) == NULL) {
		/*
		 * Only a store knows users that have no account here; a
		 * local folder would be the service user's, not theirs.
		 */
		log_warn("to=<%s>, status=bounced (no such user, and no "
		    "STORE to deliver to)", user);
		s->outcome = outcome_worse(s->outcome, OUT_NOUSER);
		status_fail(OUT_NOUSER, NULL, user, "user unknown (no such "
		    "user, and no STORE to deliver to)");
		return 1;
	}
	if (dir == NULL || *dir == '\0')
		return 0;
	if (!address_user_ok(user)) {
		char *vis = address_visible(user, 64);
		log_warn("to=<%s>: no rc file for a user name like this; "
		    "system rc only", vis);
		free(vis);
		return 0;
	}
	path = xasprintf("%s/%s.rc", dir, user);
	/* The administrator's file: ours or root's, nobody else may write. */
	if (file_ok(path, s->uid, &why)) {
		*path_r = path;
		s->rc_restricted = 1;	/* rc.c: USERS_RC_RESTRICT */
		return 0;
	}
	if (errno != ENOENT)
		log_warn("rc %s: not run: %s; system rc only", path, why);
	free(why);
	free(path);
	return 0;
}

/*
 * plusaddr.c - the plusaddr filter: mail to bob+lists.linux goes to bob's
 * folder lists.linux when no recipe delivers it.
 * Does: map the detail (the rc variable DETAIL, which main sets from the
 * address) to a folder below the INBOX with address_folder(); on a store
 * (STORE set) that is the store folder "lists/linux" (the store makes it
 * bob+lists.linux and falls back to the INBOX, as Cyrus does); on a
 * Maildir INBOX (DEFAULT ends in "/") the Maildir++ folder
 * $DEFAULT.lists.linux/, used when it exists or AUTOCREATE says to make
 * it. Sets PLUS_FOLDER to that folder ("" when there is none).
 * Two calls: FILTERS runs it after the system rc (PASS; PLUS_FOLDER tells
 * the rc where the message would go), and main calls it again with
 * PLUSADDR_DELIVER=yes when no recipe delivered: then it hands back the
 * folder to deliver to, worked out against DEFAULT as the rc left it.
 * Does not: deliver, refuse mail, create folders on a store.
 *
 * Settings: DETAIL, DEFAULT, STORE, AUTOCREATE (yes: make a missing
 * Maildir++ folder), PLUSADDR_DELIVER (main's second call).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lda/address.h"
#include "../lda/deliver.h"
#include "../lda/local.h"
#include "../lda/log.h"
#include "../lda/xalloc.h"
#include "../rc/rc.h"
#include "filter.h"
#include "plusaddr.h"

static const char *const plus_vars[] = { "PLUS_FOLDER", NULL };

/* setting_yes - is the setting name yes/on/true/1? */
static int
setting_yes(const struct filter_ctx *c, const char *name)
{
	const char *v = filter_setting(c, name);

	return v && (strcasecmp(v, "yes") == 0 || strcasecmp(v, "on") == 0 ||
	    strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0);
}

/* is_maildir - does dir (ending in "/") hold new/, cur/ and tmp/? */
static int
is_maildir(const char *dir)
{
	static const char *const sub[] = { "new", "cur", "tmp" };
	struct stat st;

	for (unsigned i = 0; i < 3; i++) {
		char *p = xasprintf("%s%s", dir, sub[i]);
		int r = stat(p, &st);
		free(p);
		if (r == -1 || !S_ISDIR(st.st_mode))
			return 0;
	}
	return 1;
}

/*
 * make_folder - a new Maildir++ folder dir (ending in "/"): the three
 * directories and the empty "maildirfolder" file Courier and Dovecot
 * mark a folder with. 0, or -1 with *err.
 */
static int
make_folder(const char *dir, char **err)
{
	static const char *const sub[] = { "", "tmp", "new", "cur" };
	char *p;
	int fd;

	for (unsigned i = 0; i < 4; i++) {
		p = xasprintf("%s%s", dir, sub[i]);
		if (local_mkdir(p) == -1) {
			*err = xasprintf("create %s: %s", p, strerror(errno));
			free(p);
			return -1;
		}
		free(p);
	}
	p = xasprintf("%smaildirfolder", dir);
	fd = open(p, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd != -1)
		close(fd);
	free(p);
	return 0;
}

/*
 * maildir_dest - the Maildir++ folder for folder (parts joined by '.')
 * below the INBOX def, or NULL when def is no Maildir or the folder is
 * missing and may not be made. final: this call delivers, so it makes
 * the folder (AUTOCREATE) and logs why the message goes to DEFAULT.
 */
static char *
maildir_dest(const struct filter_ctx *c, const char *def, const char *folder,
    int final)
{
	size_t n = strlen(def);
	char *dest, *err = NULL;

	if (deliver_kind(def) != DEST_MAILDIR) {
		if (final)
			log_info("plusaddr: DEFAULT %s is no Maildir; no folder "
			    "%s below it, to DEFAULT", def, folder);
		return NULL;
	}
	while (n > 1 && def[n - 1] == '/')
		n--;
	dest = xasprintf("%.*s/.%s/", (int)n, def, folder);
	if (is_maildir(dest))
		return dest;
	if (!setting_yes(c, "AUTOCREATE")) {
		if (final)
			log_info("plusaddr: no folder %s; to DEFAULT", dest);
	} else if (!final) {
		return dest;		/* made when it is delivered to */
	} else if (c->s->dry_run) {
		log_info("plusaddr: would create folder %s (AUTOCREATE; not "
		    "under --test)", dest);
		return dest;
	} else if (make_folder(dest, &err) == 0) {
		log_info("plusaddr: created folder %s (AUTOCREATE)", dest);
		return dest;
	} else {
		log_warn("plusaddr: %s; to DEFAULT", err);
		free(err);
	}
	free(dest);
	return NULL;
}

/* plus_dest - where the detail sends the message, or NULL: DEFAULT */
static char *
plus_dest(const struct filter_ctx *c, int final)
{
	const char *detail = filter_setting(c, "DETAIL");
	const char *def = filter_setting(c, "DEFAULT");
	int store = filter_setting(c, "STORE") != NULL;
	const char *why;
	char *folder, *dest = NULL, *vis;

	if (detail == NULL)
		return NULL;
	/* A store joins the parts with its own separator (STORE_SEPARATOR). */
	folder = address_folder(detail, store ? '/' : '.', !store, &why);
	if (folder == NULL) {
		vis = address_visible(detail, 64);
		if (final)
			log_info("plusaddr: detail \"%s\" refused (%s); to "
			    "DEFAULT", vis, why);
		free(vis);
	} else if (*folder == '\0')
		;			/* bob+INBOX: the INBOX itself */
	else if (store)
		dest = xstrdup(folder);
	else if (def)
		dest = maildir_dest(c, def, folder, final);
	free(folder);
	return dest;
}

/* plus_run - PLUS_FOLDER, and with PLUSADDR_DELIVER the folder itself */
static int
plus_run(struct filter_ctx *c, const struct spool *msg, struct verdict *v,
    char **err)
{
	int final = setting_yes(c, "PLUSADDR_DELIVER");
	char *dest = plus_dest(c, final);

	(void)msg;
	(void)err;
	verdict_var(v, "PLUS_FOLDER", dest ? dest : "");
	if (dest && final) {
		v->kind = VERDICT_FOLDER;
		v->folder = dest;
	} else
		free(dest);
	return 0;
}

const struct filter filter_plusaddr = {
	.name = "plusaddr",
	.prefix = "PLUSADDR",
	.fail_closed = 0,
	.rewrites = 0,
	.pure = 1,
	.vars = plus_vars,
	.run = plus_run,
};

/* plusaddr_default - the detail's folder before DEFAULT (plusaddr.h) */
int
plusaddr_default(struct session *s, struct rc *rc)
{
	static const char *const final[] = { "PLUSADDR_DELIVER=yes", NULL };
	char *folder = NULL, *err = NULL;
	enum outcome o;

	if (rc_get(rc, "PLUS_FOLDER") == NULL)
		return 0;		/* plusaddr is not in FILTERS */
	if (filter_call(s, rc, "plusaddr", final, &folder, &err) !=
	    FILTER_DELIVER) {
		free(err);
		free(folder);
		return 0;
	}
	o = deliver_folder(s, folder, NULL);
	if (o == OUT_DELIVERED) {
		rc_assign(rc, "LASTFOLDER", s->last_folder);
		s->outcome = outcome_worse(s->outcome, o);
	} else
		log_warn("plusaddr: delivery to %s failed; to DEFAULT", folder);
	free(folder);
	return o == OUT_DELIVERED;
}

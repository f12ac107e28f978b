/*
 * special.c - what assigning a special variable does besides storing it:
 * MAILDIR changes directory, LOGFILE opens the log, LOG writes to it,
 * INCLUDERC and SWITCHRC run files, HOST may end the file, LOCKFILE
 * takes a lock, UMASK, VERBOSE, SHIFT, EXITCODE, DEADLINE (the run's
 * time budget, lda/undo.c); and the system rc's
 * LOCKED_VARS, which user rc files cannot assign afterwards.
 * Does not: store the value (rc_assign), parse or evaluate recipes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "../lda/fdio.h"
#include "../lda/log.h"
#include "../lda/undo.h"
#include "../lda/xalloc.h"
#include "rcint.h"

/* rc_logtext - LOG: text as is, to LOGFILE (or stderr without one) */
void
rc_logtext(struct rc *rc, const char *text)
{
	int fd = rc->logfd != -1 ? rc->logfd : 2;

	if (rc->s->dry_run) {
		rc_trace(rc, "LOG: %.*s", (int)strcspn(text, "\n"), text);
		return;
	}
	(void)fd_write_all(fd, text, strlen(text));
}

/* special_abstract - LOGABSTRACT: a number, all, or yes/no words */
static void
special_abstract(struct rc *rc, const char *value)
{
	static const char *const yes[] = { "on", "yes", "true" };
	char *end;
	long n;

	rc->abstract = -1;
	if (value == NULL || *value == '\0')
		return;
	if (strcasecmp(value, "all") == 0) {
		rc->abstract = 2;
		return;
	}
	n = strtol(value, &end, 10);
	if (end != value) {
		rc->abstract = n > 2 ? 2 : n < -1 ? -1 : (int)n;
		return;
	}
	rc->abstract = 0;
	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
		if (strcasecmp(value, yes[i]) == 0)
			rc->abstract = 1;
}

/* abs_detab - s with each tab made a space */
static void
abs_detab(char *s)
{
	for (; *s; s++)
		if (*s == '\t')
			*s = ' ';
}

/*
 * abs_write - procmail's abstract of a delivery: the From_ line, the
 * Subject line (78 bytes at most), then "  Folder: " with the name (60
 * bytes at most), tabs to column 72 and the size in 7 columns.
 */
static void
abs_write(struct rc *rc, const char *folder, long long size)
{
	const struct spool *sp = rc->s->msg;
	struct buf b;
	char name[61], num[32];
	long i;
	long f;

	buf_init(&b, 0);
	if (sp->from_line) {
		buf_puts(&b, sp->from_line);
		buf_putc(&b, '\n');
	}
	if ((f = spool_field_find(sp, "Subject", 0)) >= 0) {
		const char *l = sp->hdr + sp->fields[f].off;
		size_t n = strcspn(l, "\n");
		char subj[79];
		if (n > 78)
			n = 78;
		memcpy(subj, l, n);
		subj[n] = '\0';
		abs_detab(subj);
		buf_putc(&b, ' ');
		buf_puts(&b, subj);
		buf_putc(&b, '\n');
	}
	lda_strlcpy(name, folder, sizeof name);
	abs_detab(name);
	buf_puts(&b, "  Folder: ");
	buf_puts(&b, name);
	i = (long)strlen(name) + 10;
	i -= i % 8;
	do
		buf_putc(&b, '\t');
	while ((i += 8) < 72);
	snprintf(num, sizeof num, "%7lld\n", size);
	buf_puts(&b, num);
	(void)fd_write_all(rc->logfd != -1 ? rc->logfd : 2, b.s, b.len);
	buf_free(&b);
}

/* rc_abstract - a delivery: logged now under "all", else kept */
void
rc_abstract(struct rc *rc, const char *folder, long long size)
{
	if (rc->s->dry_run)
		return;
	free(rc->abs_folder);
	rc->abs_folder = xstrdup(folder);
	rc->abs_size = size;
	rc->abs_logged = 0;
	if (rc->abstract > 1) {
		abs_write(rc, folder, size);
		rc->abs_logged = 1;
	}
}

/* rc_abstract_final - the last delivery's abstract, when asked for:
   LOGABSTRACT yes, or unset with a LOGFILE or VERBOSE (procmail's
   default) */
void
rc_abstract_final(struct rc *rc)
{
	if (rc->abs_folder == NULL || rc->abs_logged || rc->abstract == 0 ||
	    (rc->abstract < 0 && rc->logfd == -1 && !rc->verbose))
		return;
	abs_write(rc, rc->abs_folder, rc->abs_size);
	rc->abs_logged = 1;
}

/* special_logfile - LOGFILE: (re)open our copy and lda's log sink */
static void
special_logfile(struct rc *rc, const char *value)
{
	if (rc->logfd != -1)
		close(rc->logfd);
	rc->logfd = -1;
	if (value == NULL || *value == '\0' || rc->s->dry_run)
		return;
	rc->logfd = open(value, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0600);
	if (rc->logfd == -1)
		log_warn("%s: cannot open LOGFILE %s: %s", rc->cur_file ?
		    rc->cur_file : "rc", value, strerror(errno));
	log_set_file(value);
}

/* special_locked - LOCKED_VARS in the system rc: add names to the list */
static void
special_locked(struct rc *rc, const char *value)
{
	char *copy = xstrdup(value ? value : ""), *save = NULL;

	if (!rc->in_system) {
		free(copy);
		return;
	}
	for (char *w = strtok_r(copy, " \t,", &save); w;
	    w = strtok_r(NULL, " \t,", &save)) {
		rc->locked = xreallocarray(rc->locked, rc->nlocked + 1,
		    sizeof *rc->locked);
		rc->locked[rc->nlocked++] = xstrdup(w);
	}
	free(copy);
}

/* rc_is_locked - did the system rc lock name? (LOCKED_VARS itself is) */
int
rc_is_locked(const struct rc *rc, const char *name)
{
	if (rc->nlocked && strcmp(name, "LOCKED_VARS") == 0)
		return 1;
	for (size_t i = 0; i < rc->nlocked; i++)
		if (strcmp(rc->locked[i], name) == 0)
			return 1;
	return 0;
}

/* special_exitcode - EXITCODE: only sysexits codes lda can report */
static void
special_exitcode(struct rc *rc, const char *value)
{
	static const int ok[] = { EX_OK, EX_USAGE, EX_DATAERR, EX_NOUSER,
	    EX_UNAVAILABLE, EX_CANTCREAT, EX_TEMPFAIL, EX_NOPERM };
	long v;

	rc->exitcode = -1;
	if (value == NULL || *value == '\0')
		return;
	v = strtol(value, NULL, 10);
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
		if (ok[i] == v) {
			rc->exitcode = (int)v;
			return;
		}
	log_warn("%s: EXITCODE=%s is not a sysexits code lda reports; "
	    "ignored", rc->cur_file ? rc->cur_file : "rc", value);
}

/* special_host - HOST: a mismatch ends this rc file */
static void
special_host(struct rc *rc, const char *value)
{
	if (value && strcmp(value, rc->hostname) == 0)
		return;
	rc_yell(rc, "HOST mismatched", rc->hostname);
	log_info("%s: HOST mismatched (%s), rc file ended", rc->cur_file ?
	    rc->cur_file : "rc", rc->hostname);
	rc->host_stop = 1;
	rc->pending = RC_END_FILE;
}

/* special_shift - SHIFT=n: drop n positional arguments */
static void
special_shift(struct rc *rc, const char *value)
{
	long n = rc_var_long(value, 0);

	if (n <= 0)
		return;
	if ((size_t)n > rc->nargs)
		n = (long)rc->nargs;
	rc->args += n;
	rc->nargs -= (size_t)n;
}

/* special_lockfile - LOCKFILE: release the old global lock, take one */
static void
special_lockfile(struct rc *rc, const char *value)
{
	char *err = NULL;

	rc_unlock(rc, &rc->globlock);
	if (value == NULL || *value == '\0' || rc->s->dry_run)
		return;
	if (rc_lock(rc, value, &err) == -1) {
		log_warn("%s: LOCKFILE %s: %s", rc->cur_file ? rc->cur_file :
		    "rc", value, err);
		free(err);
		return;
	}
	rc->globlock = xstrdup(value);
}

/* special_run - INCLUDERC and SWITCHRC */
static void
special_run(struct rc *rc, const char *value, int sw)
{
	int r;

	if (value == NULL || *value == '\0') {
		/* procmail: an empty or unset SWITCHRC ends this rc. */
		if (sw)
			rc->pending = RC_END_FILE;
		return;
	}
	if (rc->restricted) {
		/* a virtual user's rc: only files of TRUSTED_RC_DIR, and
		   they run as the administrator's (programs allowed) */
		char *real = realpath(value, NULL);
		size_t n = rc->trusted ? strlen(rc->trusted) : 0;
		if (real == NULL || n == 0 || strncmp(real, rc->trusted, n) != 0 ||
		    real[n] != '/') {
			log_warn("%s: %s %s: not a file of TRUSTED_RC_DIR; not "
			    "run (USERS_RC_RESTRICT)", rc->cur_file ?
			    rc->cur_file : "rc", sw ? "SWITCHRC" : "INCLUDERC",
			    value);
			free(real);
			return;
		}
		rc->restricted = 0;
		r = rc_run_path(rc, real, rc->in_system);
		rc->restricted = 1;
		free(real);
	} else
		r = rc_run_path(rc, value, rc->in_system);
	/* A file that cannot be read is logged, and this one goes on
	   (procmail: "Couldn't read", for SWITCHRC too). */
	if (r == 1)
		rc->pending = RC_DELIVERED;
	else if (sw && r == 0)
		rc->pending = RC_END_FILE;
}

/* special_verbose - VERBOSE: on/yes/true/y or a number > 0 turn the
   trace on (to LOGFILE, or stderr), anything else off */
static void
special_verbose(struct rc *rc, const char *value)
{
	static const char *const yes[] = { "on", "yes", "true", "y" };

	rc->verbose = 0;
	if (value == NULL)
		return;
	if (rc_var_long(value, 0) > 0)
		rc->verbose = 1;
	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
		if (strcasecmp(value, yes[i]) == 0)
			rc->verbose = 1;
	log_set_verbose(rc->verbose);
}

/* rc_special - side effects of assigning name (value NULL: unset) */
void
rc_special(struct rc *rc, const char *name, const char *value)
{
	if (strcmp(name, "MAILDIR") == 0) {
		if (value && chdir(value) == -1)
			log_warn("%s: cannot chdir to MAILDIR %s: %s",
			    rc->cur_file ? rc->cur_file : "rc", value,
			    strerror(errno));
	} else if (strcmp(name, "LOGFILE") == 0)
		special_logfile(rc, value);
	else if (strcmp(name, "LOG") == 0 && value)
		rc_logtext(rc, value);
	else if (strcmp(name, "VERBOSE") == 0)
		special_verbose(rc, value);
	else if (strcmp(name, "UMASK") == 0 && value)
		umask((mode_t)(strtol(value, NULL, 8) & 0777));
	else if (strcmp(name, "INCLUDERC") == 0)
		special_run(rc, value, 0);
	else if (strcmp(name, "SWITCHRC") == 0)
		special_run(rc, value, 1);
	else if (strcmp(name, "HOST") == 0)
		special_host(rc, value);
	else if (strcmp(name, "LOCKFILE") == 0)
		special_lockfile(rc, value);
	else if (strcmp(name, "EXITCODE") == 0)
		special_exitcode(rc, value);
	else if (strcmp(name, "LOGABSTRACT") == 0)
		special_abstract(rc, value);
	else if (strcmp(name, "SHIFT") == 0)
		special_shift(rc, value);
	else if (strcmp(name, "LOCKED_VARS") == 0)
		special_locked(rc, value);
	else if (strcmp(name, "DEADLINE") == 0 && !rc->s->dry_run)
		undo_deadline(rc_var_long(value, 0));
}

/*
 * dedup.c - the dedup filter ("| @dedup"): a message whose Message-ID
 * (or the field DEDUP_KEY names) is in the user's cache is a duplicate
 * and goes to DEDUP_FOLDER (/dev/null: discarded, exit 0). formail -D's
 * job, without its loss: formail records the key before the message is
 * delivered, so a retry after a later failure is thrown away as its own
 * duplicate. Here a new key is recorded only when the run is over and
 * every copy committed (filter_commit; lda exits 0); a kill or a failure
 * before that costs a duplicate on the retry, never the message.
 * Does: look the key up under a shared lock; record it later under the
 * exclusive one (filters/keyfile.c), so concurrent deliveries to the same
 * user keep one correct file. A key another run has not committed yet is
 * not a duplicate: two copies at worst.
 * Does not: record anything under --test or for a failed run, dedup a
 * message without the field (or with one longer than KEYFILE_KEY_MAX).
 *
 * Settings: DEDUP_CACHE (the cache file, default .lda-dedup, relative to
 * MAILDIR), DEDUP_KEY (a header field name, default Message-ID),
 * DEDUP_SIZE (bytes, k/m; default 16k, like formail -D's size),
 * DEDUP_FOLDER (where a duplicate goes, default /dev/null), DEDUP_FAILURE
 * (open | closed; default open: a cache that cannot be read delivers).
 * Sets DEDUP: "new", "duplicate", or "" (no key to go by).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../lda/log.h"
#include "../lda/xalloc.h"
#include "filter.h"
#include "keyfile.h"

#define DEDUP_SIZE_DEFAULT (16 * 1024)
#define DEDUP_SIZE_MIN 4096
#define DEDUP_NAME_MAX 64	/* a header field name */

static const char *const dedup_vars[] = { "DEDUP", NULL };

/* A key to record when the run has delivered. */
struct dedup_pending {
	char *cache;
	char *key;
	size_t len, size;
	pid_t pid;		/* the process that saw it (not a clone's) */
};

static struct dedup_pending *pending;
static size_t npending;

/* dedup_config - a setting the administrator or user got wrong: the
   message stays with the MTA, status 4.3.5 */
static int
dedup_config(struct verdict *v, char *why)
{
	v->kind = VERDICT_REJECT;
	v->reject = OUT_CONFIG;
	v->reason = why;
	return 0;
}

/* dedup_field_ok - is name a header field name we can look for? */
static int
dedup_field_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > DEDUP_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (name[i] <= ' ' || name[i] >= 0x7f || name[i] == ':')
			return 0;
	return 1;
}

/* dedup_key - the field's value, unfolded and trimmed, or NULL: none, or
   too long to go by (hostile bytes are kept: keyfile escapes them) */
static char *
dedup_key(const struct spool *msg, const char *field, size_t *len_r)
{
	long f = spool_field_find(msg, field, 0);
	struct buf b;
	size_t s = 0, e;

	if (f < 0)
		return NULL;
	buf_init(&b, KEYFILE_KEY_MAX * 2);
	if (spool_field_value(msg, (size_t)f, &b) == -1) {
		buf_free(&b);
		return NULL;
	}
	e = b.len;
	while (s < e && isspace((unsigned char)b.s[s]))
		s++;
	while (e > s && isspace((unsigned char)b.s[e - 1]))
		e--;
	if (e == s || e - s > KEYFILE_KEY_MAX) {
		buf_free(&b);
		return NULL;
	}
	*len_r = e - s;
	memmove(b.s, b.s + s, e - s);
	b.s[e - s] = '\0';
	return buf_steal(&b);
}

/* dedup_keep - remember key for dedup_commit */
static void
dedup_keep(char *cache, char *key, size_t len, size_t size)
{
	pending = xreallocarray(pending, npending + 1, sizeof *pending);
	pending[npending++] = (struct dedup_pending){ .cache = cache,
	    .key = key, .len = len, .size = size, .pid = getpid() };
}

/* dedup_run - a duplicate goes to DEDUP_FOLDER; a new key waits */
static int
dedup_run(struct filter_ctx *c, const struct spool *msg, struct verdict *v,
    char **err)
{
	const char *field = filter_setting(c, "DEDUP_KEY");
	const char *folder = filter_setting(c, "DEDUP_FOLDER");
	long long size = filter_setting_num(c, "DEDUP_SIZE",
	    DEDUP_SIZE_DEFAULT, err);
	char *key, *cache;
	size_t len;
	time_t when;
	int seen;

	if (size < 0) {
		dedup_config(v, *err);	/* the verdict owns the reason */
		*err = NULL;
		return 0;
	}
	if (size < DEDUP_SIZE_MIN || size > KEYFILE_SIZE_MAX)
		return dedup_config(v, xasprintf("DEDUP_SIZE=%lld: not "
		    "between %d and %d", size, DEDUP_SIZE_MIN,
		    KEYFILE_SIZE_MAX));
	if (field == NULL)
		field = "Message-ID";
	if (!dedup_field_ok(field))
		return dedup_config(v, xasprintf("DEDUP_KEY=%s: not a header "
		    "field name", field));
	if ((key = dedup_key(msg, field, &len)) == NULL) {
		log_info("dedup: no usable %s field; not checked", field);
		verdict_var(v, "DEDUP", "");
		return 0;
	}
	if ((cache = filter_setting_path(c, "DEDUP_CACHE", ".lda-dedup",
	    err)) == NULL) {
		free(key);
		dedup_config(v, *err);
		*err = NULL;
		return 0;
	}
	if ((seen = keyfile_lookup(cache, key, len, &when, err)) == -1) {
		free(cache);
		free(key);
		return -1;		/* the failure policy decides */
	}
	if (seen) {
		log_info("dedup: %s already delivered (%s); to %s", field,
		    cache, folder ? folder : "/dev/null");
		verdict_var(v, "DEDUP", "duplicate");
		v->kind = VERDICT_FOLDER;
		v->folder = xstrdup(folder ? folder : "/dev/null");
		free(cache);
		free(key);
		return 0;
	}
	verdict_var(v, "DEDUP", "new");
	if (c->s->dry_run) {
		free(cache);
		free(key);
		return 0;
	}
	dedup_keep(cache, key, len, (size_t)size);
	return 0;
}

/* dedup_record - record one kept key; errors are logged, never fatal */
static void
dedup_record(const struct dedup_pending *p)
{
	struct keyfile kf;
	char *err = NULL;

	if (keyfile_open(&kf, p->cache, 1, &err) == -1 ||
	    (keyfile_find(&kf, p->key, p->len) == (time_t)-1 &&
	    keyfile_add(&kf, p->key, p->len, time(NULL), p->size,
	    &err) == -1))
		log_warn("dedup: %s; this message's key is not recorded (a "
		    "copy that comes again is delivered again)", err);
	free(err);
	keyfile_close(&kf);
}

/* dedup_commit - record the new keys of a delivered run; drop them else */
static void
dedup_commit(struct filter_ctx *c, int delivered)
{
	(void)c;
	for (size_t i = 0; i < npending; i++) {
		if (delivered && pending[i].pid == getpid())
			dedup_record(&pending[i]);
		free(pending[i].cache);
		free(pending[i].key);
	}
	free(pending);
	pending = NULL;
	npending = 0;
}

const struct filter filter_dedup = {
	.name = "dedup",
	.prefix = "DEDUP",
	.fail_closed = 0,
	.rewrites = 0,
	.pure = 1,		/* reads only; records nothing under --test */
	.vars = dedup_vars,
	.run = dedup_run,
	.commit = dedup_commit,
};

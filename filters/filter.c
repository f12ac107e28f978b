/*
 * filter.c - the call side of the filter interface: find a filter by name,
 * open it once per process, run it, apply its verdict in one step, and
 * apply its failure policy.
 * Does: settings lookup (call arguments, then rc variables), the verdict
 * helpers, the new header section, loadable modules (dlopen), the FILTERS
 * chain main runs between the system rc and the user rc.
 * Does not: know any filter's protocol, parse rc files, exit.
 */
#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../lda/deliver.h"
#include "../lda/invocation.h"
#include "../lda/log.h"
#include "../lda/status.h"
#include "../lda/xalloc.h"
#include "../rc/rc.h"
#include "filter.h"

#ifndef MODDIR
#define MODDIR "/usr/local/lib/lda"
#endif

#define FIELD_WIDTH 78		/* fold header fields longer than this */
#define REASON_MAX 200		/* bytes of a failure reason in a header */

/* One registered filter's state in this process. */
struct slot {
	int opened;		/* open() was tried */
	char *open_err;		/* why open() failed, or NULL */
	struct filter_ctx ctx;
};

extern const struct filter *const filter_registry[];

static struct slot *slots;	/* parallel to filter_registry */

/*
 * Messages a filter replaced. Who frees a replaced message is not ours to
 * know: main frees the one it read, the rc (rc->orig_msg) frees what its
 * own filter recipes made, and a pointer kept across frees could name a new
 * spool at the same address. So a replaced message is kept here, open and
 * reachable, until the process ends: at most one spool per filter run.
 * XXX: with an rc_set_msg() in rc.h (the rc's act_replace) this goes.
 */
static struct spool **replaced;
static size_t nreplaced;

/* filter_list - the registry, NULL-terminated */
const struct filter *const *
filter_list(void)
{
	return filter_registry;
}

/* slot_of - the state for the filter called name, or NULL */
static struct slot *
slot_of(const char *name)
{
	size_t i, n = 0;

	while (filter_registry[n])
		n++;
	if (slots == NULL)
		slots = xcalloc(n + 1, sizeof *slots);
	for (i = 0; i < n; i++)
		if (strcmp(filter_registry[i]->name, name) == 0) {
			slots[i].ctx.f = filter_registry[i];
			return &slots[i];
		}
	return NULL;
}

/* filter_find - the descriptor registered as name */
const struct filter *
filter_find(const char *name)
{
	struct slot *sl = slot_of(name);

	return sl ? sl->ctx.f : NULL;
}

/* filter_close_all - close every opened filter */
void
filter_close_all(void)
{
	if (slots == NULL)
		return;
	for (size_t i = 0; filter_registry[i]; i++) {
		struct slot *sl = &slots[i];
		if (sl->opened && sl->open_err == NULL && sl->ctx.f->close)
			sl->ctx.f->close(&sl->ctx);
		free(sl->open_err);
		memset(sl, 0, sizeof *sl);
	}
	free(slots);
	slots = NULL;
}

/* filter_commit - every opened filter's commit (filter.h) */
void
filter_commit(int delivered)
{
	if (slots == NULL)
		return;
	for (size_t i = 0; filter_registry[i]; i++) {
		struct slot *sl = &slots[i];
		if (sl->opened && sl->open_err == NULL && sl->ctx.f->commit)
			sl->ctx.f->commit(&sl->ctx, delivered);
	}
}

/* filter_setting - this call's NAME=value, else the rc variable */
const char *
filter_setting(const struct filter_ctx *c, const char *name)
{
	size_t n = strlen(name);
	const char *v = NULL;

	for (const char *const *a = c->args; a && *a; a++)
		if (strncmp(*a, name, n) == 0 && (*a)[n] == '=')
			v = *a + n + 1;
	if (v == NULL && c->rc)
		v = rc_get(c->rc, name);
	return v && *v ? v : NULL;
}

/* filter_setting_num - a setting as a number with an optional k/m suffix */
long long
filter_setting_num(const struct filter_ctx *c, const char *name,
    long long dflt, char **err)
{
	const char *v = filter_setting(c, name);
	char *end;
	long long n, mul = 1;

	if (v == NULL)
		return dflt;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (*end == 'k' || *end == 'K')
		mul = 1024, end++;
	else if (*end == 'm' || *end == 'M')
		mul = 1024 * 1024, end++;
	if (errno || end == v || *end != '\0' || n < 0 || n > INT64_MAX / mul) {
		*err = xasprintf("%s: not a number: %s", name, v);
		return -1;
	}
	return n * mul;
}

/* filter_setting_path - a setting's file name, absolute */
char *
filter_setting_path(const struct filter_ctx *c, const char *name,
    const char *dflt, char **err)
{
	const char *v = filter_setting(c, name);
	const char *dir = filter_setting(c, "MAILDIR");
	size_t n = strlen(name);
	int arg = 0;

	for (const char *const *a = c->args; a && *a; a++)
		arg |= strncmp(*a, name, n) == 0 && (*a)[n] == '=';
	/* a file the filter reads or writes is never one a header names */
	if (v && !arg && c->rc && rc_tainted(c->rc, name)) {
		*err = xasprintf("%s came from the message; refused", name);
		return NULL;
	}
	if (v == NULL)
		v = dflt;
	if (v[0] == '/' || dir == NULL)
		return xstrdup(v);
	return xasprintf("%s/%s", dir, v);
}

/* verdict_init - an empty pass verdict */
void
verdict_init(struct verdict *v)
{
	memset(v, 0, sizeof *v);
	v->kind = VERDICT_PASS;
	buf_init(&v->top, 0);
	buf_init(&v->bottom, 0);
	buf_init(&v->vars, 0);
}

/* verdict_free - release what the verdict holds */
void
verdict_free(struct verdict *v)
{
	spool_free(&v->msg);
	buf_free(&v->top);
	buf_free(&v->bottom);
	buf_free(&v->vars);
	free(v->folder);
	free(v->reason);
	v->folder = v->reason = NULL;
}

/* must - a buf operation on an uncapped buf cannot fail but by a bug */
static void
must(int r)
{
	if (r == -1)
		log_panic("filter: uncapped buffer refused bytes");
}

/* verdict_field_raw - queue a field exactly as given */
void
verdict_field_raw(struct verdict *v, int top, const char *text, size_t len)
{
	struct buf *b = top ? &v->top : &v->bottom;

	must(buf_append(b, text, len));
	if (len == 0 || text[len - 1] != '\n')
		must(buf_putc(b, '\n'));
}

/*
 * verdict_field - queue "Name: value", folded at blanks so that lines stay
 * within FIELD_WIDTH where the words allow. Control characters in value
 * (which may come from a peer) become blanks: a peer cannot add a field.
 */
void
verdict_field(struct verdict *v, int top, const char *name, const char *value)
{
	struct buf *b = top ? &v->top : &v->bottom;
	size_t col = strlen(name) + 1;
	const char *p = value;

	must(buf_printf(b, "%s:", name));
	while (*p) {
		size_t w = 0;
		while (*p && isspace((unsigned char)*p))
			p++;
		while (p[w] && !isspace((unsigned char)p[w]))
			w++;
		if (w == 0)
			break;
		if (col + 1 + w > FIELD_WIDTH && col > strlen(name) + 1) {
			must(buf_puts(b, "\n\t"));
			col = 8;
		} else {
			must(buf_putc(b, ' '));
			col++;
		}
		for (size_t i = 0; i < w; i++)
			must(buf_putc(b, iscntrl((unsigned char)p[i]) ? ' ' : p[i]));
		col += w;
		p += w;
	}
	must(buf_putc(b, '\n'));
}

/* verdict_drop - remove fields called name (a prefix, with '*') */
void
verdict_drop(struct verdict *v, const char *name)
{
	if (v->ndrop == VERDICT_DROP_MAX)
		log_panic("filter: more than %d fields to drop", VERDICT_DROP_MAX);
	v->drop[v->ndrop++] = name;
}

/* verdict_var - queue NAME=value */
void
verdict_var(struct verdict *v, const char *name, const char *value)
{
	must(buf_printf(&v->vars, "%s=%s", name, value));
	must(buf_putc(&v->vars, '\0'));
}

/* dropped - does field i of msg match one of v's drop names? (by the
   name the store will see: spool_field_is) */
static int
dropped(const struct spool *msg, size_t i, const struct verdict *v)
{
	char name[128];

	for (size_t d = 0; d < v->ndrop; d++) {
		size_t n = strlen(v->drop[d]);
		int prefix = n > 0 && v->drop[d][n - 1] == '*';
		if (prefix)
			n--;
		if (n >= sizeof name)
			log_panic("filter: drop name %s too long", v->drop[d]);
		memcpy(name, v->drop[d], n);
		name[n] = '\0';
		if (spool_field_is(msg, i, name, prefix))
			return 1;
	}
	return 0;
}

/* put_lines - append text ("\n" line ends) with msg's line ends */
static void
put_lines(struct buf *b, const struct buf *text, int crlf)
{
	for (size_t i = 0; i < text->len; i++) {
		if (text->s[i] == '\n' && crlf)
			must(buf_putc(b, '\r'));
		must(buf_putc(b, text->s[i]));
	}
}

/* filter_new_header - msg's header with v's fields dropped and added */
char *
filter_new_header(const struct spool *msg, const struct verdict *v,
    size_t *len_r)
{
	struct buf b;

	buf_init(&b, 0);
	put_lines(&b, &v->top, msg->crlf);
	for (size_t i = 0; i < msg->nfields; i++)
		if (!dropped(msg, i, v))
			must(buf_append(&b, msg->hdr + msg->fields[i].off,
			    msg->fields[i].len));
	if (b.len > 0 && b.s[b.len - 1] != '\n')
		must(buf_puts(&b, msg->crlf ? "\r\n" : "\n"));
	put_lines(&b, &v->bottom, msg->crlf);
	*len_r = b.len;
	return buf_steal(&b);
}

/* replace_msg - make sp the session's message; keep the old one */
static void
replace_msg(struct session *s, struct spool *sp)
{
	replaced = xreallocarray(replaced, nreplaced + 1, sizeof *replaced);
	replaced[nreplaced++] = s->msg;
	s->msg = sp;
}

/*
 * apply - the message and variable changes of v, all or nothing: the new
 * spool is complete before s->msg changes, and variables are assigned only
 * after that. Returns 0, or -1 with *err (s untouched).
 */
static int
apply(struct session *s, struct rc *rc, struct verdict *v, char **err)
{
	struct spool *base = v->msg ? v->msg : s->msg, *sp = NULL;

	if (v->top.len || v->bottom.len || v->ndrop) {
		size_t len;
		char *hdr = filter_new_header(base, v, &len);
		int r = spool_with_header(base, hdr, len, s->tmpdir, &sp, err);
		free(hdr);
		if (r == -1)
			return -1;
		spool_free(&v->msg);
	} else if (v->msg) {
		sp = v->msg;
		v->msg = NULL;
	}
	/* The rc owns the message it runs on (rc_set_msg frees a spool the
	   rc made itself); without an rc, keep the old one until exit. */
	if (sp && rc)
		rc_set_msg(rc, sp);
	else if (sp)
		replace_msg(s, sp);
	for (size_t off = 0; off < v->vars.len;) {
		char *nv = v->vars.s + off, *eq = strchr(nv, '=');
		size_t n = strlen(nv);
		*eq = '\0';
		if (rc)
			rc_assign(rc, nv, eq + 1);
		*eq = '=';
		off += n + 1;
	}
	return 0;
}

/* stop - end the run with outcome o; the status line carries why */
static int
stop(struct filter_ctx *c, enum outcome o, const char *why)
{
	c->s->outcome = outcome_worse(c->s->outcome, o);
	status_fail(o, NULL, c->s->recipient, "filter %s: %s", c->f->name,
	    why);
	return FILTER_STOP;
}

/* fail_closed - PREFIX_FAILURE for f: 1 closed, 0 open */
static int
fail_closed(const struct filter_ctx *c)
{
	char name[64];
	const char *p;

	if (snprintf(name, sizeof name, "%s_FAILURE", c->f->prefix) >=
	    (int)sizeof name)
		return 1;
	p = filter_setting(c, name);
	if (p == NULL)
		return c->f->fail_closed;
	if (strcasecmp(p, "open") == 0)
		return 0;
	if (strcasecmp(p, "closed") != 0)
		log_warn("filter %s: %s=%s is neither open nor closed; "
		    "failing closed", c->f->name, name, p);
	return 1;
}

/*
 * failed - the filter could not check the message. Closed: the MTA keeps
 * the message and retries (75). Open: the message goes on unchanged but
 * for one X-LDA-Unscanned field saying which filter did not look at it and
 * why, without the fields the filter would have written (forged copies),
 * and the filter's variables are emptied so that no stale result from
 * an earlier call is taken for this one.
 */
static int
failed(struct filter_ctx *c, const char *why)
{
	const struct filter *f = c->f;
	struct verdict v;
	char *text, *e = NULL;
	const char *had;
	int r;

	if (fail_closed(c)) {
		log_warn("filter %s: %s; failing closed, try again later",
		    f->name, why);
		return stop(c, OUT_TEMPFAIL, why);
	}
	log_warn("filter %s: %s; delivering unscanned", f->name, why);
	verdict_init(&v);
	text = xasprintf("%s (%.*s)", f->name, REASON_MAX, why);
	verdict_field(&v, 1, "X-LDA-Unscanned", text);
	free(text);
	for (const char *const *n = f->fields; n && *n; n++)
		verdict_drop(&v, *n);	/* a forged verdict is no verdict */
	for (const char *const *n = f->vars; n && *n; n++)
		verdict_var(&v, *n, "");
	had = c->rc ? rc_get(c->rc, "FILTER_UNSCANNED") : NULL;
	text = had && *had ? xasprintf("%s %s", had, f->name) : xstrdup(f->name);
	verdict_var(&v, "FILTER_UNSCANNED", text);
	free(text);
	if (apply(c->s, c->rc, &v, &e) == -1) {
		log_warn("filter %s: %s", f->name, e);
		r = stop(c, OUT_TEMPFAIL, e);
	} else
		r = FILTER_FAILED;
	free(e);
	verdict_free(&v);
	return r;
}

/* conclude - act on a verdict the filter returned */
static int
conclude(struct filter_ctx *c, struct verdict *v, char **folder_r)
{
	const char *name = c->f->name;
	char *e = NULL;

	switch (v->kind) {
	case VERDICT_TEMPFAIL:
		log_warn("filter %s: %s; try again later", name,
		    v->reason ? v->reason : "temporary failure");
		return stop(c, OUT_TEMPFAIL, v->reason ? v->reason :
		    "try again later");
	case VERDICT_REJECT:
		log_info("filter %s: refused: %s", name,
		    v->reason ? v->reason : "no reason given");
		return stop(c, v->reject == OUT_DELIVERED ? OUT_REJECTED :
		    v->reject, v->reason ? v->reason : "message refused");
	case VERDICT_PASS:
	case VERDICT_FOLDER:
		break;
	}
	if (apply(c->s, c->rc, v, &e) == -1) {
		int r;
		log_warn("filter %s: %s", name, e);
		r = stop(c, OUT_TEMPFAIL, e);
		free(e);
		return r;
	}
	if (v->kind == VERDICT_FOLDER && v->folder) {
		*folder_r = v->folder;
		v->folder = NULL;
		return FILTER_DELIVER;
	}
	return FILTER_OK;
}

/* check_args - every argument must be NAME=value */
static int
check_args(const char *name, const char *const *args, char **err)
{
	for (const char *const *a = args; a && *a; a++) {
		const char *p = *a;
		if (!isalpha((unsigned char)*p) && *p != '_')
			goto bad;
		while (isalnum((unsigned char)*p) || *p == '_')
			p++;
		if (*p != '=')
			goto bad;
		continue;
bad:
		*err = xasprintf("@%s: argument is not NAME=value: %s", name, *a);
		return -1;
	}
	return 0;
}

/* ms_since - milliseconds from t0 */
static double
ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) * 1e3 +
	    (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

/* open_once - open the filter on its first call in this process */
static void
open_once(struct slot *sl)
{
	struct filter_ctx *c = &sl->ctx;
	char *e = NULL;

	if (sl->opened)
		return;
	sl->opened = 1;
#ifdef __SANITIZE_ADDRESS__
	/*
	 * lda lets exit release the filters (freeing a big signature
	 * database costs time for nothing), but LeakSanitizer cannot see
	 * pointers kept in libclamav's mmap()ed pools and would report
	 * them: a sanitizer build closes the filters at exit.
	 */
	static int closing;
	if (!closing++)
		atexit(filter_close_all);
#endif
	if (c->f->open && c->f->open(c, &e) == -1) {
		/* release what open() made before it failed */
		sl->open_err = e ? e : xstrdup("cannot open");
		if (c->f->close)
			c->f->close(c);
	}
}

/* run_once - run an opened filter on the message and act on the result */
static int
run_once(struct slot *sl, char **folder_r)
{
	struct filter_ctx *c = &sl->ctx;
	struct verdict v;
	char *e = NULL;
	int r;

	if (sl->open_err)
		return failed(c, sl->open_err);
	verdict_init(&v);
	if (c->f->run(c, c->s->msg, &v, &e) == -1)
		r = failed(c, e ? e : "failed");
	else
		r = conclude(c, &v, folder_r);
	verdict_free(&v);
	free(e);
	return r;
}

/* builtin_known - is name a registered filter? (rc_builtins) */
static int
builtin_known(const char *name)
{
	return filter_find(name) != NULL;
}

const struct rc_builtins filter_builtins = {
	.call = filter_call,
	.known = builtin_known,
};

/* filter_call - run one built-in filter (see filter.h for the contract) */
int
filter_call(struct session *s, struct rc *rc, const char *name,
    const char *const *args, char **folder_r, char **err)
{
	struct slot *sl = slot_of(name);
	struct timespec t0;
	int r;

	*folder_r = NULL;
	*err = NULL;
	if (sl == NULL) {
		*err = xasprintf("no built-in filter called %s", name);
		return -1;
	}
	if (check_args(name, args, err) == -1)
		return -1;
	if (s->dry_run && !sl->ctx.f->pure &&
	    !(s->inv && s->inv->test_filters)) {
		if (rc) {
			rc_trace(rc, "Filter \"%s\" would run (not under "
			    "--test; --test-filters runs it, read-only)", name);
			rc_trace_dest(rc, "(filter %s not run: its verdict may "
			    "change this)", name);
		}
		return FILTER_OK;
	}
	if (s->dry_run && rc)
		rc_trace(rc, "Filter \"%s\" runs (--test%s)", name,
		    sl->ctx.f->pure ? "" : "-filters");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	sl->ctx.s = s;
	sl->ctx.rc = rc;
	sl->ctx.args = args;
	open_once(sl);
	r = run_once(sl, folder_r);
	log_debug("filter %s: %.2f ms, status %d", name, ms_since(&t0), r);
	sl->ctx.s = NULL;
	sl->ctx.rc = NULL;
	sl->ctx.args = NULL;
	return r;
}

/* chain_deliver - deliver to the folder a filter in FILTERS chose */
static int
chain_deliver(struct session *s, struct rc *rc, const char *folder)
{
	const char *dir = rc_get(rc, "MAILDIR");
	char *path = folder[0] == '/' || dir == NULL || *dir == '\0' ?
	    xstrdup(folder) : xasprintf("%s/%s", dir, folder);
	enum outcome o = deliver_folder(s, path, NULL);

	free(path);
	if (o != OUT_DELIVERED)
		return 0;	/* the rc goes on and DEFAULT catches it */
	s->outcome = outcome_worse(s->outcome, o);
	return 1;
}

/* filter_chain - run the filters named in FILTERS, in order */
int
filter_chain(struct session *s, struct rc *rc)
{
	const char *list = rc_get(rc, "FILTERS");
	char *copy, *w, *save = NULL, *err = NULL, *folder = NULL;
	int done = 0;

	if (list == NULL || *list == '\0')
		return 0;
	copy = xstrdup(list);	/* filters assign variables: list may move */
	for (w = strtok_r(copy, " \t,", &save); w && !done;
	    w = strtok_r(NULL, " \t,", &save)) {
		int r = filter_call(s, rc, w, NULL, &folder, &err);
		if (r == -1) {
			/* a misspelt name is the administrator's mistake:
			   no message goes on unscanned for it */
			const char *at = rc_origin(rc, "FILTERS");
			log_warn("%s: FILTERS: %s; the message stays with the "
			    "MTA", at, err);
			status_fail(OUT_CONFIG, NULL, s->recipient,
			    "%s: FILTERS: %s", at, err);
			s->outcome = outcome_worse(s->outcome, OUT_CONFIG);
			done = 1;
		} else if (r == FILTER_STOP)
			done = 1;
		else if (r == FILTER_DELIVER)
			done = chain_deliver(s, rc, folder);
		free(err);
		free(folder);
		err = folder = NULL;
	}
	free(copy);
	return done;
}

/* filter_module - dlopen MODULE_PATH/name.so and find its descriptor */
const void *
filter_module(const struct filter_ctx *c, const char *name,
    const char *symbol, unsigned abi, char **err)
{
	const char *dir = filter_setting(c, "MODULE_PATH");
	char *path = xasprintf("%s/%s.so", dir ? dir : MODDIR, name);
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	const unsigned *sym;

	if (h == NULL) {
		*err = xasprintf("load module %s: %s", path, dlerror());
		free(path);
		return NULL;
	}
	sym = dlsym(h, symbol);
	if (sym == NULL || *sym != abi) {
		*err = sym == NULL ? xasprintf("module %s: no symbol %s", path,
		    symbol) : xasprintf("module %s: ABI %u, want %u", path,
		    *sym, abi);
		dlclose(h);
		free(path);
		return NULL;
	}
	log_debug("module %s loaded", path);
	free(path);
	return sym;
}

/*
 * check.c - "lda --check FILE": parse an rc file and report on stderr
 * every error and warning with file:line: syntax, unknown flags, regexes
 * that do not compile, recipes that can never match, flags that make no
 * sense together, assignments to variables the system rc locks (by
 * name), size conditions that are no number, an empty "!" forward, and
 * filter names (FILTERS, "| @name") no filter is registered as,
 * ${...} nested deeper than the run expands, and a program named by a
 * variable nothing assigned ("| $UNSET args").
 * Does not: run anything or read the message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lda/xalloc.h"
#include "../filters/filter.h"
#include "rc.h"
#include "rcint.h"

struct check {
	int errors, warnings;
	int metas_set;		/* SHELLMETAS assigned: check_pipe is silent */
	char **locked;		/* LOCKED_VARS of the system rc */
	size_t nlocked;
	char **set;		/* names assigned so far (system rc, file) */
	size_t nset;
	int included;		/* an INCLUDERC/SWITCHRC ran: any name may be set */
};

/* Names the run sets before any rc (rc.c's defaults), as it goes
   (MATCH, LASTFOLDER, DETAIL) or from the MTA's environment (-p). */
static const char *const preset[] = {
	"DEFAULT", "HOME", "HOST", "LINEBUF", "LOCKEXT", "LOCKFILE",
	"LOCKTIMEOUT", "LOGFILE", "LOGNAME", "MAILDIR", "MSGPREFIX", "ORGMAIL",
	"PATH", "PROCMAIL_VERSION", "SENDER", "SENDMAIL", "SENDMAILFLAGS",
	"SHELL", "SHELLFLAGS", "SHELLMETAS", "TIMEOUT", "TZ", "UMASK", "USER",
	"MATCH", "LASTFOLDER", "DETAIL", "RECIPIENT", "ORIGINAL_RECIPIENT",
	"EXTENSION", "DOMAIN", "LOCAL", "CLIENT_ADDRESS", "CLIENT_HELO",
	"CLIENT_HOSTNAME", "LANG", "LC_ALL",
};

/* check_set - note that name is assigned from here on */
static void
check_set(struct check *c, const char *name)
{
	c->set = xreallocarray(c->set, c->nset + 1, sizeof *c->set);
	c->set[c->nset++] = xstrdup(name);
	if (strcmp(name, "INCLUDERC") == 0 || strcmp(name, "SWITCHRC") == 0)
		c->included = 1;
}

/* check_is_set - may name have a value here? */
static int
check_is_set(const struct check *c, const char *name)
{
	if (c->included)
		return 1;
	for (size_t i = 0; i < sizeof preset / sizeof preset[0]; i++)
		if (strcmp(preset[i], name) == 0)
			return 1;
	for (size_t i = 0; i < c->nset; i++)
		if (strcmp(c->set[i], name) == 0)
			return 1;
	return 0;
}

/* check_report - print one finding */
static void
check_report(void *arg, const char *path, int line, int warn,
    const char *msg)
{
	struct check *c = arg;

	fprintf(stderr, "%s:%d: %s%s\n", path, line, warn ? "warning: " :
	    "error: ", msg);
	if (warn)
		c->warnings++;
	else
		c->errors++;
}

/* check_never - can this condition never be met? (a reason or NULL) */
static const char *
check_never(const struct rc_cond *c)
{
	if (c->weighted)
		return NULL;
	if (c->kind == RC_COND_REGEX && c->negate && c->text[0] == '\0' &&
	    c->area == NULL)
		return "\"! \" with an empty regex never matches";
	if (c->kind == RC_COND_LESS && !c->negate &&
	    strtol(c->text, NULL, 10) <= 0 && strchr(c->text, '$') == NULL)
		return "a message is never smaller than 0 bytes";
	return NULL;
}

/* check_size - a size condition ("* < 1000") whose text is no number */
static int
check_size(const struct rc_cond *k)
{
	const char *p = k->text;

	if ((k->kind != RC_COND_LESS && k->kind != RC_COND_GREATER) ||
	    strchr(p, '$') != NULL)
		return 0;
	p += strspn(p, " \t");
	if (*p == '+' || *p == '-')
		p++;
	if (strspn(p, "0123456789") == 0)
		return 1;
	p += strspn(p, "0123456789");
	return p[strspn(p, " \t")] != '\0';
}

/* check_filters - each literal word of a FILTERS value is a filter */
static void
check_filters(struct check *c, const char *path, int line, const char *v)
{
	char *copy, *w, *save = NULL;

	if (v == NULL || strchr(v, '$') || strchr(v, '`'))
		return;
	copy = xstrdup(v);
	for (w = strtok_r(copy, " \t,\"'", &save); w;
	    w = strtok_r(NULL, " \t,\"'", &save))
		if (filter_find(w) == NULL) {
			char *m = xasprintf("FILTERS: no built-in filter "
			    "called %s", w);
			check_report(c, path, line, 0, m);
			free(m);
		}
	free(copy);
}

/* check_action - an action that cannot work: "| @name" of no filter,
   "!" without an address */
static void
check_action(struct check *c, const char *path, const struct rc_recipe *r)
{
	const char *a = r->action ? r->action : "";
	char *m;

	a += strspn(a, " \t");
	if (r->act == RC_ACT_FORWARD && *a == '\0')
		check_report(c, path, r->action_line, 0, "\"!\" forwards to "
		    "no address");
	if (r->act == RC_ACT_PIPE && !r->capture && *a == '@' &&
	    strchr(a, '$') == NULL) {
		size_t n = strcspn(a + 1, " \t");
		char *name = xstrndup(a + 1, n);
		if (n > 0 && filter_find(name) == NULL) {
			m = xasprintf("no built-in filter called %s", name);
			check_report(c, path, r->action_line, 0, m);
			free(m);
		}
		free(name);
	}
}

/* check_var_in_regex - "$NAME" in a regex without the $ modifier: there
   "$" is an anchor, the variable is not expanded */
static void
check_var_in_regex(struct check *c, const char *path, const struct rc_cond *k)
{
	const char *t;

	if (k->kind != RC_COND_REGEX)
		return;
	for (t = k->text; (t = strchr(t, '$')) != NULL; t++)
		if (t[1] == '{' || t[1] == '_' || (t[1] >= 'A' && t[1] <= 'Z') ||
		    (t[1] >= 'a' && t[1] <= 'z')) {
			check_report(c, path, k->line, 1, "a variable in a "
			    "regex without the $ modifier is not expanded "
			    "(\"$\" is an anchor there): write \"* $ ...\"");
			return;
		}
}

/* check_pipe - "| (cmd ...)" with no SHELLMETAS character: procmail and
   lda run the word "(cmd" itself, not a subshell */
static void
check_pipe(struct check *c, const char *path, const struct rc_recipe *r)
{
	const char *a = r->action ? r->action : "";

	a += strspn(a, " \t");
	if (r->act != RC_ACT_PIPE || *a != '(' || c->metas_set ||
	    strpbrk(a, "&|<>~;?*[") != NULL)
		return;
	check_report(c, path, r->action_line, 1, "\"(\" is not in "
	    "SHELLMETAS: the program is run without a shell and \"(...\" "
	    "is taken as its name");
}

/* check_prog_var - "| $NAME args" where NAME was never assigned before
   (in this file or the system rc): the program's name expands to
   nothing, and the next word runs as the program */
static void
check_prog_var(struct check *c, const char *path, const struct rc_recipe *r)
{
	const char *a = r->action ? r->action : "";
	size_t n;
	int brace;
	char *name, *m;

	a += strspn(a, " \t");
	if (r->act != RC_ACT_PIPE || *a != '$')
		return;
	brace = a[1] == '{';
	a += 1 + brace;
	if (!(*a == '_' || (*a >= 'A' && *a <= 'Z') || (*a >= 'a' && *a <= 'z')))
		return;		/* $1, $@, $$ ... */
	n = strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_");
	if (brace && a[n] != '}')
		return;		/* ${NAME:-default} */
	name = xstrndup(a, n);
	if (!check_is_set(c, name)) {
		m = xasprintf("$%s is not assigned before this line (in this "
		    "file or the system rc): unless the command line sets it, "
		    "the program's name expands to nothing and the next word "
		    "runs as the program", name);
		check_report(c, path, r->action_line, 1, m);
		free(m);
	}
	free(name);
}

/* check_recipe - findings about one recipe */
static void
check_recipe(struct check *c, const char *path, const struct rc_node *n)
{
	const struct rc_recipe *r = n->recipe;
	double maxscore = 0;
	int weighted = 0;

	for (size_t i = 0; i < r->nconds; i++) {
		const struct rc_cond *k = &r->conds[i];
		const char *why = check_never(k);
		if (check_size(k)) {
			char *m = xasprintf("size condition: not a number: %s",
			    k->text + strspn(k->text, " \t"));
			check_report(c, path, k->line, 0, m);
			free(m);
		} else if (why)
			check_report(c, path, k->line, 1, why);
		check_var_in_regex(c, path, k);
		if (k->kind == RC_COND_EXPAND)
			maxscore = 1;	/* "* $ $VAR^0": weighed at run time */
		if (k->weighted) {
			weighted = 1;
			if (k->w > 0 || k->x > 0)
				maxscore = 1;
		}
	}
	check_action(c, path, r);
	check_pipe(c, path, r);
	check_prog_var(c, path, r);
	if (r->capture)
		check_set(c, r->capture);
	if (weighted && maxscore <= 0 && r->nconds > 0)
		check_report(c, path, n->line, 1, "recipe can never match: "
		    "every weight is negative or zero");
	if ((r->flags & RC_F_E) && (r->flags & RC_F_A))
		check_report(c, path, n->line, 1, "recipe can never match: "
		    "flags A and E together");
	if ((r->flags & (RC_F_h | RC_F_b)) && (r->flags & (RC_F_h |
	    RC_F_b)) != (RC_F_h | RC_F_b) && !(r->flags & RC_F_c) &&
	    (r->act == RC_ACT_FOLDER || (r->act == RC_ACT_PIPE &&
	    !(r->flags & RC_F_f) && !r->capture)))
		check_report(c, path, n->line, 1, "h or b without c: the "
		    "rest of the message is dropped by procmail (lda keeps "
		    "it with the MTA)");
}

/* check_deep - text the run would refuse to expand (RC_EXPAND_DEPTH) */
static void
check_deep(struct check *c, const char *path, int line, const char *raw)
{
	char msg[80];

	if (raw == NULL || rc_expand_depth(raw) <= RC_EXPAND_DEPTH)
		return;
	snprintf(msg, sizeof msg, "${...} nested more than %d deep: the run "
	    "refuses to expand it", RC_EXPAND_DEPTH);
	check_report(c, path, line, 0, msg);
}

/* check_list - walk the tree */
static void
check_list(struct check *c, const char *path, const struct rc_node *n)
{
	for (; n; n = n->next) {
		if (n->kind == RC_NODE_ASSIGN) {
			check_deep(c, path, n->line, n->value);
			for (size_t i = 0; i < c->nlocked; i++)
				if (strcmp(c->locked[i], n->name) == 0) {
					char *m = xasprintf("%s is locked by "
					    "the system rc (LOCKED_VARS): this "
					    "assignment is ignored", n->name);
					check_report(c, path, n->line, 0, m);
					free(m);
				}
			if (n->value == NULL) {
				char *m = xasprintf("\"%s\" alone on a line "
				    "unsets %s (write %s= if that is meant)",
				    n->name, n->name, n->name);
				check_report(c, path, n->line, 1, m);
				free(m);
			}
			if (strcmp(n->name, "SHELLMETAS") == 0)
				c->metas_set = 1;
			check_set(c, n->name);
			if (strcmp(n->name, "FILTERS") == 0)
				check_filters(c, path, n->line, n->value);
			continue;
		}
		check_recipe(c, path, n);
		check_deep(c, path, n->line, n->recipe->action);
		for (size_t i = 0; i < n->recipe->nconds; i++)
			check_deep(c, path, n->recipe->conds[i].line,
			    n->recipe->conds[i].text);
		if (n->recipe->act == RC_ACT_BLOCK)
			check_list(c, path, n->recipe->block);
	}
}

/* check_locked - LOCKED_VARS as the system rc sets them (literal only),
   and the names it assigns */
static void
check_locked(struct check *c, const char *sysrc)
{
	struct rc_file *f;
	char *err = NULL;

	if (sysrc == NULL || (f = rc_parse_path(sysrc, NULL, NULL, &err)) ==
	    NULL) {
		free(err);
		return;
	}
	for (const struct rc_node *n = f->first; n; n = n->next) {
		char *copy, *save = NULL;
		if (n->kind == RC_NODE_ASSIGN && n->value != NULL)
			check_set(c, n->name);
		if (n->kind != RC_NODE_ASSIGN || strcmp(n->name,
		    "LOCKED_VARS") != 0 || n->value == NULL)
			continue;
		copy = xstrdup(n->value);
		for (char *w = strtok_r(copy, " \t,\"'", &save); w;
		    w = strtok_r(NULL, " \t,\"'", &save)) {
			c->locked = xreallocarray(c->locked, c->nlocked + 1,
			    sizeof *c->locked);
			c->locked[c->nlocked++] = xstrdup(w);
		}
		free(copy);
	}
	rc_file_free(&f);
}

/* rc_check_file_with - check path against the system rc sysrc (or NULL);
   returns the number of errors */
int
rc_check_file_with(const char *path, const char *sysrc)
{
	struct check c = { 0 };
	struct rc_file *f;
	char *err = NULL;

	if (sysrc && strcmp(sysrc, path) != 0)
		check_locked(&c, sysrc);
	f = rc_parse_path(path, check_report, &c, &err);
	if (f == NULL) {
		fprintf(stderr, "%s: error: %s\n", path, err);
		free(err);
		c.errors++;
	} else {
		check_list(&c, path, f->first);
		rc_file_free(&f);
	}
	for (size_t i = 0; i < c.nlocked; i++)
		free(c.locked[i]);
	free(c.locked);
	for (size_t i = 0; i < c.nset; i++)
		free(c.set[i]);
	free(c.set);
	fprintf(stderr, "%s: %d error%s, %d warning%s\n", path, c.errors,
	    c.errors == 1 ? "" : "s", c.warnings, c.warnings == 1 ? "" : "s");
	return c.errors;
}

/* rc_check_file - check path against the installed system rc */
int
rc_check_file(const char *path)
{
	return rc_check_file_with(path, SYSCONFDIR "/lda.rc");
}

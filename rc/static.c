/*
 * static.c - a system rc's settings read without running it: the
 * assignments at its top level whose value is literal text (quotes
 * allowed, no $, backquote or backslash), in the order the run would
 * make them. lda -z's parent uses them to answer RCPT with the store
 * a delivery would use, and never runs the rc itself.
 * Does not: expand, run programs, follow INCLUDERC/SWITCHRC (a name
 * such a file could set is "only running tells").
 */
#include <stdlib.h>
#include <string.h>

#include "../lda/xalloc.h"
#include "rc.h"
#include "rcint.h"

struct rc_static {
	struct rc_file *f;
};

/* rc_static_read - parse path (rc.h) */
struct rc_static *
rc_static_read(const char *path, char **err)
{
	struct rc_static *st;
	struct rc_file *f = rc_parse_path(path, NULL, NULL, err);

	if (f == NULL)
		return NULL;
	st = xcalloc(1, sizeof *st);
	st->f = f;
	return st;
}

/* literal - the value of raw with its quotes taken off, or NULL when
   only an expansion tells it */
static char *
literal(const char *raw)
{
	char *out = xmalloc(strlen(raw) + 1), *o = out;
	char q = 0;

	for (const char *p = raw; *p; p++) {
		if (q == '\'' && *p != '\'') {
			*o++ = *p;
			continue;
		}
		if (*p == '$' || *p == '`' || *p == '\\') {
			free(out);
			return NULL;
		}
		if (*p == '"' || *p == '\'')
			q = q == *p ? 0 : q ? q : *p;
		if ((*p != '"' && *p != '\'') || (q && q != *p))
			*o++ = *p;
	}
	*o = '\0';
	return out;
}

/* sets - does a node of list (recipes' blocks and captures included)
   assign name? */
static int
sets(const struct rc_node *n, const char *name)
{
	for (; n; n = n->next) {
		if (n->kind == RC_NODE_ASSIGN && (strcmp(n->name, name) == 0 ||
		    strcmp(n->name, "INCLUDERC") == 0 ||
		    strcmp(n->name, "SWITCHRC") == 0))
			return 1;
		if (n->kind != RC_NODE_RECIPE)
			continue;
		if (n->recipe->capture && strcmp(n->recipe->capture, name) == 0)
			return 1;
		if (n->recipe->act == RC_ACT_BLOCK && sets(n->recipe->block,
		    name))
			return 1;
	}
	return 0;
}

/* rc_static_get - name as the file leaves it (rc.h) */
int
rc_static_get(const struct rc_static *st, const char *name, char **value)
{
	int known = 0;

	*value = NULL;
	for (const struct rc_node *n = st->f->first; n; n = n->next) {
		if (n->kind == RC_NODE_RECIPE) {
			if (sets(n, name))
				goto unknown;
			continue;
		}
		if (strcmp(n->name, "INCLUDERC") == 0 ||
		    strcmp(n->name, "SWITCHRC") == 0)
			goto unknown;
		if (strcmp(n->name, name) != 0)
			continue;
		free(*value);
		*value = NULL;
		known = 1;
		if (n->value && (*value = literal(n->value)) == NULL)
			goto unknown;
	}
	return known;
unknown:
	free(*value);
	*value = NULL;
	return -1;
}

void
rc_static_free(struct rc_static **stp)
{
	if (*stp == NULL)
		return;
	rc_file_free(&(*stp)->f);
	free(*stp);
	*stp = NULL;
}

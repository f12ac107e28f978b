/*
 * var.c - the table of rc variables, kept as "NAME=value" strings so that
 * it is at once the environment of the programs the rc starts.
 * Does: get, set, unset, name checks, procmail's numeric/boolean reading;
 * each variable's provenance (tainted: its value came from the message
 * or the envelope, see rc_tainted_path).
 * Does not: side effects of special variables (special.c), expansion.
 * Errors: none; allocation failure is fatal (xalloc).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../lda/xalloc.h"
#include "rcint.h"

/* rc_vars_init - an empty table */
void
rc_vars_init(struct rc_vars *vs)
{
	vs->cap = 32;
	vs->n = 0;
	vs->v = xcalloc(vs->cap, sizeof *vs->v);
	vs->t = xcalloc(vs->cap, 1);
}

/* rc_vars_free - release every entry */
void
rc_vars_free(struct rc_vars *vs)
{
	for (size_t i = 0; i < vs->n; i++)
		free(vs->v[i]);
	free(vs->v);
	free(vs->t);
	vs->v = NULL;
	vs->t = NULL;
	vs->n = vs->cap = 0;
}

/* rc_vars_find - index of name, or -1 */
static long
rc_vars_find(const struct rc_vars *vs, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < vs->n; i++)
		if (strncmp(vs->v[i], name, len) == 0 && vs->v[i][len] == '=')
			return (long)i;
	return -1;
}

/* rc_vars_get - the value of name, or NULL when unset */
const char *
rc_vars_get(const struct rc_vars *vs, const char *name)
{
	long i = rc_vars_find(vs, name);

	return i < 0 ? NULL : vs->v[i] + strlen(name) + 1;
}

/* rc_vars_tainted - did name's value come from the message/envelope? */
int
rc_vars_tainted(const struct rc_vars *vs, const char *name)
{
	long i = rc_vars_find(vs, name);

	return i >= 0 && (vs->t[i] & RC_VAR_TAINTED);
}

/* rc_vars_private - was name assigned by a virtual user's rc? */
int
rc_vars_private(const struct rc_vars *vs, size_t i)
{
	return i < vs->n && (vs->t[i] & RC_VAR_PRIVATE);
}

/* rc_vars_set - set name to value (a copy), from the rc's own text */
void
rc_vars_set(struct rc_vars *vs, const char *name, const char *value)
{
	rc_vars_set_t(vs, name, value, 0);
}

/* rc_vars_set_t - set name to value; tainted: RC_VAR_TAINTED (it came
   from the message) and RC_VAR_PRIVATE (a virtual user's rc set it) */
void
rc_vars_set_t(struct rc_vars *vs, const char *name, const char *value,
    int tainted)
{
	long i = rc_vars_find(vs, name);
	char *e = xasprintf("%s=%s", name, value);

	if (i >= 0) {
		free(vs->v[i]);
		vs->v[i] = e;
		vs->t[i] = (unsigned char)tainted;
		return;
	}
	if (vs->n + 1 >= vs->cap) {
		vs->v = xreallocarray(vs->v, vs->cap, 2 * sizeof *vs->v);
		vs->t = xreallocarray(vs->t, vs->cap, 2);
		vs->cap *= 2;
	}
	vs->t[vs->n] = (unsigned char)tainted;
	vs->v[vs->n++] = e;
	vs->v[vs->n] = NULL;
}

/* rc_vars_unset - remove name (keeping the others' order) */
void
rc_vars_unset(struct rc_vars *vs, const char *name)
{
	long i = rc_vars_find(vs, name);

	if (i < 0)
		return;
	free(vs->v[i]);
	memmove(vs->v + i, vs->v + i + 1, (vs->n - (size_t)i) * sizeof *vs->v);
	memmove(vs->t + i, vs->t + i + 1, vs->n - (size_t)i);
	vs->n--;
}

/* rc_var_name_ok - a name procmail accepts: [A-Za-z_][A-Za-z0-9_]* */
int
rc_var_name_ok(const char *name, size_t len)
{
	if (len == 0 || (name[0] >= '0' && name[0] <= '9'))
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (!(c == '_' || (c >= 'a' && c <= 'z') ||
		    (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
			return 0;
	}
	return 1;
}

/* rc_var_long - a number or procmail boolean (on/yes/all/off/no...) */
long
rc_var_long(const char *value, long dflt)
{
	char *end;
	long t;

	if (value == NULL)
		return dflt;
	t = strtol(value, &end, 10);
	if (end != value)
		return t;
	value += strspn(value, " \t");
	if (strncasecmp(value, "a", 1) == 0)
		return 2;
	if (strncasecmp(value, "on", 2) == 0 || (*value &&
	    strchr("yYtTeE", *value)))
		return 1;
	if (strncasecmp(value, "off", 3) == 0 || (*value &&
	    strchr("nNfFdD", *value)))
		return 0;
	return dflt;
}

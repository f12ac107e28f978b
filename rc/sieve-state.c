/*
 * sieve-state.c - what "lda --to-sieve" knows and has written while it
 * walks an rc: the rc's variables as far as their values are known when
 * the rc is read (and their expansion in a text), the script's lines at
 * the current indent, Sieve quoting, and the report of what was not
 * translated.
 * Does: hold and write. Does not: decide how a condition or an action
 * is translated (rc/sieve-cond.c, rc/sieve-action.c) or walk the rc
 * (rc/sieve.c).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lda/xalloc.h"
#include "rcint.h"
#include "sieve-int.h"

/* ---------------------------------------------------------- variables */

/* sv_var_find - the variable name, or NULL */
struct sv_var *
sv_var_find(struct sv *sv, const char *name, size_t n)
{
	for (size_t i = 0; i < sv->nvars; i++)
		if (strlen(sv->vars[i].name) == n &&
		    strncmp(sv->vars[i].name, name, n) == 0)
			return &sv->vars[i];
	return NULL;
}

/* sv_var_set - name becomes value (NULL: unknown; "" for unset) */
void
sv_var_set(struct sv *sv, const char *name, const char *value)
{
	struct sv_var *v = sv_var_find(sv, name, strlen(name));

	if (v == NULL) {
		sv->vars = xreallocarray(sv->vars, sv->nvars + 1,
		    sizeof *sv->vars);
		v = &sv->vars[sv->nvars++];
		v->name = xstrdup(name);
		v->value = NULL;
	}
	free(v->value);
	v->value = value ? xstrdup(value) : NULL;
	if (strcmp(name, "STORE_SEPARATOR") == 0)
		sv->set.separator = value && *value == '/' ? '/' : '.';
}

/* sv_get - a known value ("" when never set), or NULL when unknown */
const char *
sv_get(struct sv *sv, const char *name)
{
	struct sv_var *v = sv_var_find(sv, name, strlen(name));

	return v ? v->value : "";
}

/*
 * sv_expand - raw text with $NAME and ${NAME} of known variables
 * replaced, as the rc would at run time. Returns the text (allocated),
 * or NULL with *why: a backquote, quotes, another $ form, or a
 * variable whose value is not known when the rc is read.
 */
char *
sv_expand(struct sv *sv, const char *raw, const char **why)
{
	struct buf b;

	buf_init(&b, RC_VALUE_MAX);
	for (const char *p = raw; *p; p++) {
		const char *name, *val;
		size_t n;
		struct sv_var *v;
		if (*p == '`') {
			*why = "backquotes (a program's output)";
			goto fail;
		}
		if (*p == '"' || *p == '\'' || *p == '\\') {
			*why = "quotes or a backslash in the text";
			goto fail;
		}
		if (*p != '$') {
			buf_putc(&b, *p);
			continue;
		}
		name = p + 1 + (p[1] == '{');
		n = strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
		    "qrstuvwxyz0123456789_");
		if (n == 0 || (name[0] >= '0' && name[0] <= '9') ||
		    (p[1] == '{' && name[n] != '}')) {
			*why = "a $ form other than $NAME or ${NAME} (an "
			    "argument, $$, a default value)";
			goto fail;
		}
		v = sv_var_find(sv, name, n);
		val = v ? v->value : "";
		if (n == 5 && strncmp(name, "MATCH", 5) == 0 && sv->match_live) {
			/* a \/ set it: the script's "match" (sv_folders) */
			buf_putc(&b, SV_MATCH);
			p = name + n - (p[1] != '{');
			continue;
		}
		if (val == NULL) {
			*why = "a variable whose value is only known when a "
			    "message arrives";
			goto fail;
		}
		buf_puts(&b, val);
		p = name + n - (p[1] != '{');
	}
	return buf_steal(&b);
fail:
	buf_free(&b);
	return NULL;
}

/* ---------------------------------------------------------- output */

/* sv_line - one line of the script at the current indent */
void
sv_line(struct sv *sv, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	for (int i = 0; i < sv->indent; i++)
		buf_puts(&sv->body, "    ");
	buf_puts(&sv->body, s);
	buf_putc(&sv->body, '\n');
	free(s);
}

/* sv_quote_part - s[0..n) escaped for the inside of a Sieve string;
   -1 as sv_quote */
int
sv_quote_part(struct buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 32 && s[i] != '\t')
			return -1;
		if (s[i] == '$' && i + 1 < n && s[i + 1] == '{')
			return -1;
		if (s[i] == '"' || s[i] == '\\')
			buf_putc(b, '\\');
		buf_putc(b, s[i]);
	}
	return 0;
}

/* sv_quote - s as a Sieve quoted string; -1 when it holds "${" (the
   variables extension would expand it) or a byte no script may hold */
int
sv_quote(struct buf *b, const char *s)
{
	int r;

	buf_putc(b, '"');
	r = sv_quote_part(b, s, strlen(s));
	buf_putc(b, '"');
	return r;
}

/* sv_report - a construct at line without an exact form: said on the
   report and as a comment where it would have been */
void
sv_report(struct sv *sv, int line, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	buf_printf(&sv->report, "%s:%d: %s\n", sv->file, line, s);
	sv_line(sv, "# NOT TRANSLATED %s:%d: %s", sv->file, line, s);
	free(s);
	sv->reported++;
}

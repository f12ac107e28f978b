/*
 * settings.c - the delivery layer's side of settings.h: read a setting,
 * format a trace line and hand it to whoever implements the interface.
 * Does: the NULL checks and the formatting, once.
 * Does not: hold settings or decide where the trace goes (rc/ does).
 */
#include <stdarg.h>
#include <stdio.h>

#include "settings.h"

/* settings_get - the value of name now, or NULL */
const char *
settings_get(const struct settings *set, const char *name)
{
	return set && set->get ? set->get(set->ctx, name) : NULL;
}

/* put - format one trace line and pass it on */
static void
put(const struct settings *set, int dest, const char *fmt, va_list ap)
{
	char text[2048];

	if (set == NULL || set->trace == NULL)
		return;
	vsnprintf(text, sizeof text, fmt, ap);
	set->trace(set->ctx, dest, text);
}

/* settings_trace - a line of the trace (see settings.h) */
void
settings_trace(const struct settings *set, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	put(set, 0, fmt, ap);
	va_end(ap);
}

/* settings_trace_dest - a --test destination (see settings.h) */
void
settings_trace_dest(const struct settings *set, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	put(set, 1, fmt, ap);
	va_end(ap);
}

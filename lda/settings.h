/*
 * settings.h - how the delivery layer reads its settings when it acts
 * (MSGPREFIX, LOCKTIMEOUT, STORE and its options, MAILDIR, DEFAULT,
 * ORGMAIL, USERS_RC_DIR) and adds its lines to the --test trace.
 * Does: define the interface lda/ needs; the layer above implements it
 * (rc/: the settings are rc variables, which the rc may change between
 * recipes, so they are read at delivery time, never copied).
 * Does not: know where a setting comes from; nothing under lda/ but
 * main.c includes a header of rc/ or filters/.
 */
#ifndef LDA_SETTINGS_H
#define LDA_SETTINGS_H

struct settings {
	/* The value of the setting name now, or NULL when it is unset. */
	const char *(*get)(const void *ctx, const char *name);
	/* --test: one line of the trace (dest 0), or one destination for
	   the summary of where the message would go (dest 1). */
	void (*trace)(void *ctx, int dest, const char *text);
	void *ctx;
};

/* The value of name through set, or NULL when unset or set is NULL. */
const char *settings_get(const struct settings *set, const char *name);
/* A trace line, and a --test destination; nothing when set is NULL. */
void settings_trace(const struct settings *set, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void settings_trace_dest(const struct settings *set, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif

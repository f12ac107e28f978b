/*
 * sieve-action.c - a recipe's action as Sieve statements for "lda
 * --to-sieve": folders (fileinto under lda/store.c's store_folder names
 * and SIEVE_PREFIX, keep, discard for /dev/null), a folder named by
 * $MATCH with guards for the names lda refuses, forwards as redirect,
 * :copy for c, and the stop after a delivering recipe.
 * Does: say why an action has no exact Sieve form. Does not: run a
 * program, translate conditions (rc/sieve-cond.c) or blocks
 * (rc/sieve.c).
 */
#include <stdlib.h>
#include <string.h>

#include "../lda/store.h"
#include "../lda/xalloc.h"
#include "rcint.h"
#include "sieve-int.h"

/* ---------------------------------------------------------- actions */

/* sv_words - how many blank-separated words s has */
static size_t
sv_words(const char *s)
{
	size_t n = 0;

	while (*(s += strspn(s, " \t\n"))) {
		n++;
		s += strcspn(s, " \t\n");
	}
	return n;
}

/* sv_box - the mailbox box as a Sieve string, $MATCH as ${match} */
static int
sv_box(struct buf *a, const char *box)
{
	const char *m = strchr(box, SV_MATCH);
	int r;

	buf_putc(a, '"');
	if (m == NULL)
		r = sv_quote_part(a, box, strlen(box));
	else {
		r = sv_quote_part(a, box, (size_t)(m - box));
		buf_puts(a, "${match}");
		r |= sv_quote_part(a, m + 1, strlen(m + 1));
	}
	buf_putc(a, '"');
	return r;
}

/* sv_words_out - the folders of the expanded text as statements in a;
   -1 with *why */
static int
sv_words_out(struct sv *sv, int copy, char *text, struct buf *a,
    const char **why)
{
	char *w, *save = NULL;
	int n = 0, rv = 0, again = 0;
	size_t words = sv_words(text);
	const char *md = sv_get(sv, "MAILDIR"), *def = sv_get(sv, "DEFAULT"),
	    *org = sv_get(sv, "ORGMAIL");

	if (md == NULL || def == NULL || org == NULL) {
		*why = "MAILDIR, DEFAULT or ORGMAIL is only known when a "
		    "message arrives";
		return -1;
	}
	for (w = strtok_r(text, " \t\n", &save); w && rv == 0;
	    w = strtok_r(NULL, " \t\n", &save), n++) {
		char *name = NULL;
		size_t len = strlen(w);
		if (n == 0 && words > 1 && w[len - 1] != '/' &&
		    !(len > 1 && strcmp(w + len - 2, "/.") == 0)) {
			/* lda (procmail) skips the rest after a file */
			*why = "several folders after one that may be a file "
			    "(procmail skips the others when it is an mbox)";
			return -1;
		}
		if (strcmp(w, "/dev/null") == 0) {
			if (!copy)
				buf_puts(a, "discard;\n");
			continue;
		}
		if (!store_folder(&sv->set, w, md, def, org, &name)) {
			*why = "a local file outside MAILDIR (an absolute "
			    "path: lda writes it itself, not the store)";
			rv = -1;
		} else if (name == NULL)
			buf_puts(a, "keep;\n");
		else if (strstr(name, "..") || *name == sv->set.separator ||
		    name[strlen(name) - 1] == sv->set.separator) {
			*why = "a folder name with an empty or \"..\" level "
			    "(Cyrus and Dovecot read it differently)";
			rv = -1;
		} else {
			struct sv_var *pv = sv_var_find(sv, "SIEVE_PREFIX", 12);
			char dflt[] = "INBOX.";
			char *box;
			/* unless given: INBOX and the separator in force */
			dflt[5] = sv->set.separator;
			box = xasprintf("%s%s", pv == NULL ? dflt : pv->value ?
			    pv->value : "", name);
			char *line = xasprintf("\n%s\n", box);
			if (copy && strstr(sv->copied.s, line) == NULL)
				buf_puts(&sv->copied, line + 1);
			else if (!copy && strstr(sv->copied.s, line))
				again = 1;
			free(line);
			buf_printf(a, "fileinto %s", copy ? ":copy " : "");
			if (sv_box(a, box) == -1) {
				*why = "a folder name with \"${\" or a control "
				    "character";
				rv = -1;
			}
			buf_puts(a, ";\n");
			sv->ext |= SV_FILEINTO | (copy ? SV_COPY : 0);
			free(box);
		}
		free(name);
	}
	if (rv == 0 && n == 0) {
		*why = "an empty folder list";
		rv = -1;
	}
	/* Pigeonhole merges a fileinto with an earlier ":copy" one into
	   the same mailbox and keeps the :copy (the implicit keep stays):
	   say that this delivery ends the implicit keep */
	if (again)
		buf_puts(a, "discard;\n");
	return rv;
}

/*
 * sv_match_folder - a folder named with $MATCH (one word): lda files it
 * under the name the message gave, refuses a name from the message that
 * would make another word, begin a level with "." or leave the folders
 * (the recipe fails, the rc goes on), and makes levels of its "/"
 * (which the script cannot: it files nothing then, as for a refusal);
 * an empty $MATCH is the name without it. Returns 1 (the stops are in
 * a) or -1 with *why.
 */
static int
sv_match_folder(struct sv *sv, int copy, char *text, struct buf *a,
    const char **why)
{
	char *w = text + strspn(text, " \t\n"), *m, *name = NULL, *empty;
	const char *md = sv_get(sv, "MAILDIR"), *def = sv_get(sv, "DEFAULT"),
	    *org = sv_get(sv, "ORGMAIL");
	struct buf re;
	size_t len;
	int comp, rv;

	w[strcspn(w, " \t\n")] = '\0';
	m = strchr(w, SV_MATCH);
	if (sv_words(text) != 1 || strchr(m + 1, SV_MATCH) || sv->chain) {
		*why = "$MATCH in a folder list of several words, twice, or in "
		    "an rc with A/a/E/e flags (a name lda refuses makes the "
		    "recipe fail)";
		return -1;
	}
	if (md == NULL || def == NULL || org == NULL ||
	    !store_folder(&sv->set, w, md, def, org, &name) || name == NULL ||
	    strchr(name, SV_MATCH) == NULL) {
		free(name);
		*why = "$MATCH where the message would choose a local file or "
		    "the INBOX";
		return -1;
	}
	len = strlen(w);
	comp = m == w || m[-1] == '/';
	buf_init(&re, 0);
	buf_puts(&re, "[ \t/]");
	if (comp)
		buf_puts(&re, "|^\\\\.");
	if (name[0] == SV_MATCH)
		buf_puts(&re, "|^inbox([./]|$)");
	if (w[0] == '.' && w[len - 1] == '/' && sv->set.separator == '/')
		buf_puts(&re, "|\\\\.");
	free(name);
	/* the empty $MATCH: the name without it */
	empty = xstrdup(w);
	memmove(empty + (m - w), empty + (m - w) + 1, len - (size_t)(m - w));
	/* this recipe's own \/ may leave it empty, or an earlier one did */
	if (!sv->captured || sv->cap_empty) {
		buf_puts(a, "if string :is \"${match}\" \"\" {\n");
		if (sv_words(empty) == 0)
			buf_puts(a, "# an empty name: lda's recipe fails\n");
		else if (sv_words_out(sv, copy, empty, a, why) == -1) {
			free(empty);
			buf_free(&re);
			return -1;
		} else if (!copy)
			buf_puts(a, "stop;\n");
		buf_puts(a, "} els");
	}
	buf_printf(a, "if string :regex \"${match}\" \"%s\" {\n# a name lda "
	    "refuses from the message (the recipe fails), or one it makes "
	    "levels of\n} else {\n", re.s);
	sv->ext |= SV_REGEX | SV_VARIABLES;
	rv = sv_words_out(sv, copy, text, a, why);
	if (rv == 0 && !copy)
		buf_puts(a, "stop;\n");
	buf_puts(a, "}\n");
	free(empty);
	buf_free(&re);
	return rv == -1 ? -1 : 1;
}

/* sv_folders - a folder action as statements in a; 0, 1 when the
   stops are in a already, -1 with *why */
int
sv_folders(struct sv *sv, const struct rc_recipe *r, struct buf *a,
    const char **why)
{
	char *text = sv_expand(sv, r->action, why);
	int copy = (r->flags & RC_F_c) != 0, rv;

	if (text == NULL)
		return -1;
	if (strchr(text, SV_MATCH))
		rv = sv_match_folder(sv, copy, text, a, why);
	else
		rv = sv_words_out(sv, copy, text, a, why);
	free(text);
	return rv;
}

/* sv_forward - "! address..." as redirects in a; -1 with *why */
static int
sv_forward(struct sv *sv, const struct rc_recipe *r, struct buf *a,
    const char **why)
{
	char *text = sv_expand(sv, r->action, why), *w, *save = NULL;
	int copy = (r->flags & RC_F_c) != 0, n = 0;

	if (text == NULL)
		return -1;
	if (strchr(text, SV_MATCH)) {
		free(text);
		*why = "a forward to an address from the message ($MATCH)";
		return -1;
	}
	for (w = strtok_r(text, " \t\n", &save); w;
	    w = strtok_r(NULL, " \t\n", &save), n++) {
		if (*w == '-' || strchr(w, '@') == NULL) {
			free(text);
			*why = "a forward with sendmail options or a local "
			    "name (Sieve redirects to an address)";
			return -1;
		}
		buf_printf(a, "redirect %s", copy ? ":copy " : "");
		sv_quote(a, w);
		buf_puts(a, ";\n");
		sv->ext |= copy ? SV_COPY : 0;
	}
	free(text);
	if (n == 0) {
		*why = "a forward without an address";
		return -1;
	}
	return 0;
}

/* sv_action - r's action (not a block) as statements in a */
int
sv_action(struct sv *sv, const struct rc_recipe *r, struct buf *a,
    const char **why)
{
	unsigned hb = r->flags & (RC_F_h | RC_F_b);
	int stops = 0;

	if (r->capture || r->act == RC_ACT_PIPE) {
		*why = (r->flags & RC_F_f) ? "a filter (f: a program changes "
		    "the message)" : "a program (\"|\"): nothing is run";
		return -1;
	}
	if (hb && hb != (RC_F_h | RC_F_b)) {
		*why = "h or b alone: only part of the message is delivered";
		return -1;
	}
	if (r->lock && r->lockfile) {
		*why = "a lockfile (\":0:name\")";
		return -1;
	}
	if (r->act == RC_ACT_FORWARD) {
		if (sv_forward(sv, r, a, why) == -1)
			return -1;
	} else if (r->act != RC_ACT_FOLDER) {
		*why = "a recipe without an action";
		return -1;
	} else if ((stops = sv_folders(sv, r, a, why)) == -1)
		return -1;
	if (!(r->flags & RC_F_c) && !stops)
		buf_puts(a, "stop;\n");
	return 0;
}

/*
 * sieve.c - "lda --to-sieve RCFILE": walk the parsed rc (rc/parse.c's
 * tree, INCLUDERC files with literal names inline) and write the Sieve
 * script that files a message where lda with STORE would: procmail's
 * control flow (stop after a delivering recipe, nested blocks, the
 * A/a/E/e state in variables), assignments and INCLUDERC/SWITCHRC, the
 * DEFAULT at the end, the "require" line and the report at the top.
 * Does: report every construct without an exact Sieve form, with
 * file:line and why, on stderr and as a comment in the script.
 * Does not: translate a condition (rc/sieve-cond.c) or an action
 * (rc/sieve-action.c) itself, run a program, expand backquotes, read
 * the message, or guess: a construct that is not exact is reported,
 * never approximated.
 */
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lda/mailspool.h"
#include "../lda/xalloc.h"
#include "rcint.h"
#include "sieve-int.h"
#include "sieve.h"

/* The names of the SV_* extensions (rc/sieve-int.h), in "require" order. */
static const char *const sv_ext_names[] = {
	"fileinto", "copy", "regex", "variables", "body",
	"comparator-i;octet", "envelope",
};

/* ---------------------------------------------------------- the walk */

static void sv_list(struct sv *sv, const struct rc_node *n);

/* sv_lines - the statements of a ("...\n" each) at the current indent */
static void
sv_lines(struct sv *sv, const char *a)
{
	while (*a) {
		size_t n = strcspn(a, "\n");
		if (*a == '}')
			sv->indent--;
		sv_line(sv, "%.*s", (int)n, a);
		if (n && a[n - 1] == '{')
			sv->indent++;
		a += n + (a[n] == '\n');
	}
}

/* sv_chain_test - the A/a/E/e part of the test ("" when none) */
static const char *
sv_chain_test(unsigned f)
{
	/* e: the previous action failed; a store folder never fails
	   while the rc runs (the copies go at the end), so never */
	if (f & RC_F_e)
		return "false";
	if ((f & RC_F_E) && (f & (RC_F_A | RC_F_a)))
		return "string :is \"${pc}\" \"0\", string :is \"${lc}\" \"1\"";
	if (f & RC_F_E)
		return "string :is \"${pc}\" \"0\"";
	if (f & (RC_F_A | RC_F_a))
		return "string :is \"${lc}\" \"1\"";
	return "";
}

/* sv_body - what runs when r matched: its action, or its block */
static void
sv_body(struct sv *sv, const struct rc_recipe *r, const char *act)
{
	if (r->act != RC_ACT_BLOCK) {
		sv_lines(sv, act);
		return;
	}
	if (sv->chain) {
		sv_line(sv, "set \"lc%d\" \"${lc}\";", sv->block);
		sv_line(sv, "set \"pc%d\" \"${pc}\";", sv->block);
	}
	sv->block++;
	sv_list(sv, r->block);
	sv->block--;
	if (sv->chain) {
		sv_line(sv, "set \"lc\" \"${lc%d}\";", sv->block);
		sv_line(sv, "set \"pc\" \"${pc%d}\";", sv->block);
	}
}

/* sv_recipe - one recipe */
static void
sv_recipe(struct sv *sv, const struct rc_node *n)
{
	const struct rc_recipe *r = n->recipe;
	struct buf t, a;
	const char *why = NULL, *ch = sv_chain_test(r->flags), *cap;
	int line = n->line;

	sv->recipes++;
	if (r->flags & (RC_F_A | RC_F_a | RC_F_E | RC_F_e))
		sv->uses_chain = 1;
	buf_init(&t, 0);
	buf_init(&a, 0);
	if (r->broken)
		why = "a recipe with a syntax error (lda skips it)";
	else if (r->act == RC_ACT_BLOCK && (r->flags & RC_F_c))
		why = "c on a block: procmail's clone runs the block and then "
		    "the rest of the rc a second time";
	else if (r->act == RC_ACT_BLOCK && r->lock && r->lockfile)
		why = "a lockfile on a block";
	else if (sv_conds(sv, r, &t, &line, &why) == 0) {
		line = n->line;
		if (sv->captured && !sv->match_live) {
			/* from here on $MATCH is the script's "match" */
			const char *m = sv_get(sv, "MATCH");
			sv->match_live = 1;
			if (m && *m) {
				struct buf q;
				buf_init(&q, 0);
				if (sv_quote(&q, m) == 0)
					sv_line(sv, "set \"match\" %s;", q.s);
				buf_free(&q);
			}
		}
		if (r->act != RC_ACT_BLOCK)
			sv_action(sv, r, &a, &why);
	}
	if (why) {
		sv_report(sv, line, "%s", why);
		sv->recipes_reported++;
		buf_free(&t);
		buf_free(&a);
		return;
	}
	cap = sv->captured ? " set \"match\" \"${1}\";" : "";
	sv_line(sv, "# %s:%d", sv->file, n->line);
	if (sv->captured)
		sv->ext |= SV_VARIABLES;
	if (sv->chain) {
		sv_line(sv, "set \"i\" \"0\";");
		if (*ch && t.len)
			sv_line(sv, "if allof(%s, %s) { set \"i\" \"1\";%s }",
			    ch, t.s, cap);
		else if (*ch || t.len)
			sv_line(sv, "if %s%s%s { set \"i\" \"1\";%s }",
			    *ch && strchr(ch, ',') ? "allof(" : "", *ch ? ch :
			    t.s, *ch && strchr(ch, ',') ? ")" : "", cap);
		else
			sv_line(sv, "set \"i\" \"1\";");
		if (!(r->flags & (RC_F_A | RC_F_a)))
			sv_line(sv, "set \"lc\" \"${i}\";");
		if (r->flags & RC_F_E)
			sv_line(sv, "if string :is \"${pc}\" \"0\" "
			    "{ set \"pc\" \"${i}\"; }");
		else
			sv_line(sv, "set \"pc\" \"${i}\";");
		sv_line(sv, "if string :is \"${i}\" \"1\" {");
	} else if (t.len)
		sv_line(sv, "if %s {", t.s);
	if (sv->chain || t.len)
		sv->indent++;
	if (!sv->chain && sv->captured)
		sv_line(sv, "%s", cap + 1);
	sv_body(sv, r, a.s);
	if (sv->chain || t.len) {
		sv->indent--;
		sv_line(sv, "}");
	}
	buf_free(&t);
	buf_free(&a);
}

/* sv_report_parse - a parse error of a file we translate */
static void
sv_report_parse(void *arg, const char *path, int line, int warn,
    const char *msg)
{
	struct sv *sv = arg;

	if (warn)
		return;
	buf_printf(&sv->report, "%s:%d: %s\n", path, line, msg);
	sv->reported++;
}

/* sv_file - translate the rc file path here (INCLUDERC, SWITCHRC) */
static int
sv_file(struct sv *sv, const char *path, int line)
{
	const char *saved = sv->file;
	struct rc_file *f;
	char *err = NULL;

	if (sv->include >= RC_INCLUDE_MAX) {
		sv_report(sv, line, "rc files nested deeper than %d",
		    RC_INCLUDE_MAX);
		return -1;
	}
	f = rc_parse_path(path, sv_report_parse, sv, &err);
	if (f == NULL) {
		sv_report(sv, line, "%s", err);
		free(err);
		return -1;
	}
	sv_line(sv, "# from %s", f->path);
	sv->include++;
	sv->file = f->path;
	sv_list(sv, f->first);
	sv->file = saved;
	sv->include--;
	rc_file_free(&f);
	return 0;
}

/* sv_rcfile - the path an INCLUDERC/SWITCHRC value names (MAILDIR is
   the directory relative names start from) */
static char *
sv_rcfile(struct sv *sv, const char *v)
{
	const char *md = sv_get(sv, "MAILDIR");

	if (v[0] == '/' || md == NULL)
		return xstrdup(v);
	return xasprintf("%s/%s", md, v);
}

/* The variables whose assignment changes where mail goes, or that have
   no Sieve form; the others (LOGFILE, VERBOSE, SHELL...) are kept as
   values only. */
static const struct {
	const char *name, *why;
} sv_untranslatable[] = {
	{ "LOCKFILE", "a global lockfile (LOCKFILE)" },
	{ "HOST", "HOST (a mismatch ends the rc without delivery)" },
	{ "TRAP", "TRAP (a program run at the end)" },
	{ "EXITCODE", "EXITCODE (the exit code lda gives the MTA)" },
	{ "DELIVERED", "DELIVERED (pretends delivery)" },
	{ "FILTERS", "FILTERS (lda's filters run before the rc)" },
};

/* sv_assign - one assignment */
static void
sv_assign(struct sv *sv, const struct rc_node *n)
{
	const char *why = NULL;
	char *v = NULL;

	for (size_t i = 0; i < sizeof sv_untranslatable /
	    sizeof sv_untranslatable[0]; i++)
		if (strcmp(n->name, sv_untranslatable[i].name) == 0) {
			sv_report(sv, n->line, "%s", sv_untranslatable[i].why);
			sv_var_set(sv, n->name, NULL);
			return;
		}
	if (n->value && (v = sv_expand(sv, n->value, &why)) == NULL) {
		sv_var_set(sv, n->name, NULL);
		/* a value only known at run time: harmless until it is
		   used where it matters (said there) */
		if (strcmp(n->name, "INCLUDERC") == 0 ||
		    strcmp(n->name, "SWITCHRC") == 0)
			sv_report(sv, n->line, "%s with a computed name (%s)",
			    n->name, why);
		else if (strchr(n->value, '`'))
			sv_report(sv, n->line, "%s=`...`: backquotes (a "
			    "program) are not run", n->name);
		return;
	}
	if (v && strchr(v, SV_MATCH)) {
		/* a value from the message */
		if (strcmp(n->name, "INCLUDERC") == 0 ||
		    strcmp(n->name, "SWITCHRC") == 0)
			sv_report(sv, n->line, "%s named by $MATCH", n->name);
		else if (strcmp(n->name, "MATCH") != 0)
			sv_var_set(sv, n->name, NULL);
		free(v);
		return;
	}
	if (strcmp(n->name, "MATCH") == 0 && sv->match_live) {
		struct buf q;
		buf_init(&q, 0);
		if (sv_quote(&q, v ? v : "") == -1)
			sv_report(sv, n->line, "MATCH=\"${...\"");
		else
			sv_line(sv, "set \"match\" %s;", q.s);
		buf_free(&q);
	}
	if (strcmp(n->name, "INCLUDERC") == 0 ||
	    strcmp(n->name, "SWITCHRC") == 0) {
		int sw = n->name[0] == 'S';
		char *path;
		if (sw && (sv->include > 0 || sv->block > 0)) {
			sv_report(sv, n->line, "SWITCHRC inside an included "
			    "file or a block (the rest of that file is "
			    "skipped at run time)");
			free(v);
			return;
		}
		if (v && *v) {
			path = sv_rcfile(sv, v);
			sv_file(sv, path, n->line);
			free(path);
		}
		if (sw)
			sv->ended = 1;
		free(v);
		return;
	}
	/* inside a block the value is conditional: unknown after */
	sv_var_set(sv, n->name, sv->block > 0 ? NULL : v ? v : "");
	free(v);
}

/* sv_list - statements in order */
static void
sv_list(struct sv *sv, const struct rc_node *n)
{
	for (; n && !sv->ended; n = n->next) {
		if (n->kind == RC_NODE_ASSIGN)
			sv_assign(sv, n);
		else
			sv_recipe(sv, n);
	}
}

/* sv_default - the end of the rc: DEFAULT */
static void
sv_default(struct sv *sv)
{
	struct rc_recipe r = { .act = RC_ACT_FOLDER };
	struct buf a;
	const char *why = NULL, *def = sv_get(sv, "DEFAULT");

	if (def == NULL) {
		sv->file = "DEFAULT";
		sv_report(sv, 0, "DEFAULT is only known when a message arrives");
		return;
	}
	buf_init(&a, 0);
	r.action = (char *)def;
	if (sv_folders(sv, &r, &a, &why) == -1)
		sv_report(sv, 0, "DEFAULT=%s: %s", def, why);
	else if (strcmp(a.s, "keep;\n") != 0) {
		/* not the INBOX: the fall-back lda takes instead of it */
		sv_line(sv, "# the end of the rc: DEFAULT=%s", def);
		sv_lines(sv, a.s);
	}
	buf_free(&a);
}

/* sv_setup - the variables an rc starts with, as lda's rc_new sets
   them for the invoking user, then the command line's */
static void
sv_setup(struct sv *sv, char *const *assigns, size_t nassigns)
{
	struct passwd *pw = getpwuid(getuid());
	const char *home = pw && pw->pw_dir ? pw->pw_dir : "/";
	char *org = xasprintf(MAIL_SPOOL_DIR "/%s", pw ? pw->pw_name : "");

	sv->set.separator = '.';
	sv_var_set(sv, "HOME", home);
	sv_var_set(sv, "MAILDIR", home);
	sv_var_set(sv, "DEFAULT", org);
	sv_var_set(sv, "ORGMAIL", org);
	free(org);
	for (size_t i = 0; i < nassigns; i++) {
		char *name = xstrdup(assigns[i]), *eq = strchr(name, '=');
		if (eq) {
			*eq = '\0';
			sv_var_set(sv, name, eq + 1);
		}
		free(name);
	}
}

/* sv_run - one translation of path; chain: keep the A/E state */
static int
sv_run(struct sv *sv, const char *path, char *const *assigns,
    size_t nassigns, int chain)
{
	memset(sv, 0, sizeof *sv);
	buf_init(&sv->body, 0);
	buf_init(&sv->report, 0);
	buf_init(&sv->copied, 0);
	buf_putc(&sv->copied, '\n');
	sv->chain = chain;
	sv->file = path;
	sv_setup(sv, assigns, nassigns);
	if (chain) {
		sv->ext |= SV_VARIABLES;
		sv_line(sv, "# procmail's A/a/E/e state: lc = the last "
		    "recipe without A/a matched, pc = the previous one did");
		sv_line(sv, "set \"lc\" \"0\";");
		sv_line(sv, "set \"pc\" \"0\";");
	}
	if (access(path, R_OK) == -1)
		return -1;
	sv_file(sv, path, 0);
	sv->file = path;
	sv->ended = 0;
	sv_default(sv);
	return 0;
}

/* sv_free - what sv_run made */
static void
sv_free(struct sv *sv)
{
	for (size_t i = 0; i < sv->nvars; i++) {
		free(sv->vars[i].name);
		free(sv->vars[i].value);
	}
	free(sv->vars);
	buf_free(&sv->body);
	buf_free(&sv->report);
	buf_free(&sv->copied);
}

/* rc_to_sieve - see sieve.h */
int
rc_to_sieve(const char *path, char *const *assigns, size_t nassigns,
    FILE *out, FILE *err)
{
	struct sv sv;
	int first = 1;

	if (sv_run(&sv, path, assigns, nassigns, 0) == -1) {
		fprintf(err, "lda: --to-sieve %s: cannot read it\n", path);
		sv_free(&sv);
		return SIEVE_EXIT_UNREADABLE;
	}
	if (sv.uses_chain) {
		sv_free(&sv);
		sv_run(&sv, path, assigns, nassigns, 1);
	}
	fprintf(out, "# Sieve script made by lda --to-sieve from %s\n", path);
	fprintf(out, "# %d recipes, %d not translated; %d constructs "
	    "reported\n", sv.recipes, sv.recipes_reported, sv.reported);
	if (sv.report.len) {
		const char *p = sv.report.s;
		fputs("# NOT TRANSLATED (see doc/sieve.md):\n", out);
		while (*p) {
			size_t n = strcspn(p, "\n");
			fprintf(out, "#   %.*s\n", (int)n, p);
			p += n + (p[n] == '\n');
		}
		fputs(sv.report.s, err);
	}
	if (sv.ext) {
		fputs("require [", out);
		for (size_t i = 0; i < sizeof sv_ext_names /
		    sizeof sv_ext_names[0]; i++)
			if (sv.ext & (1u << i)) {
				fprintf(out, "%s\"%s\"", first ? "" : ", ",
				    sv_ext_names[i]);
				first = 0;
			}
		fputs("];\n", out);
	}
	if (sv.from_line) {
		fputs("# procmail's From_ line: lda -f's sender, MAILER-DAEMON "
		    "for <>\n", out);
		fputs("set \"from_\" \"MAILER-DAEMON\";\n", out);
		fputs("if envelope :matches \"from\" \"?*\" { set \"from_\" "
		    "\"${0}\"; }\n", out);
	}
	fputs(sv.body.s, out);
	fflush(out);
	first = sv.reported ? SIEVE_EXIT_REPORTED : SIEVE_EXIT_EXACT;
	if (ferror(out)) {
		fprintf(err, "lda: --to-sieve: cannot write the script\n");
		first = SIEVE_EXIT_UNREADABLE;
	}
	sv_free(&sv);
	return first;
}

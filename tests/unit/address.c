/* address.c - unit tests for lda/address.c: where the detail comes from,
   the split at RCPT_DELIMITER, the user part's case, the folder name a
   detail maps to (refusals and the mapping), virtual user names. */
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "invocation.h"
#include "tap.h"

#define MAXARGS 10

/* Where the detail comes from: argv and environment -> user, detail. */
static const struct {
	const char *name;
	const char *argv[MAXARGS];
	const char *env[6];
	const char *rcpt;	/* the -d name address_of is asked about */
	const char *user, *detail, *source;
} sources[] = {
	{ "-a $h -d $u", { "-a", "lists.linux", "-d", "bob" }, { NULL },
	  "bob", "bob", "lists.linux", "-a" },
	{ "-a wins over the -d name", { "-a", "x", "-d", "bob+y" }, { NULL },
	  "bob+y", "bob", "x", "-a" },
	{ "empty -a: none, and no fall-back", { "-a", "", "-d", "bob" },
	  { "EXTENSION=lists" }, "bob", "bob", NULL, NULL },
	{ "-d bob+lists", { "-d", "bob+lists" }, { NULL }, "bob+lists", "bob",
	  "lists", "-d" },
	{ "-d +board (empty user part)", { "-d", "+board" }, { NULL },
	  "+board", "", "board", "-d" },
	{ "-d bob+ (empty detail)", { "-d", "bob+" }, { NULL }, "bob+", "bob",
	  NULL, NULL },
	{ "EXTENSION with -d", { "-d", "bob" }, { "EXTENSION=Spam" }, "bob",
	  "bob", "Spam", "EXTENSION" },
	{ "EXTENSION for another USER", { "-d", "bob" },
	  { "EXTENSION=Spam", "USER=carol" }, "bob", "bob", NULL, NULL },
	{ "RECIPIENT without -d", { NULL },
	  { "RECIPIENT=bob+lists.linux@example.org" }, NULL, "bob",
	  "lists.linux", "RECIPIENT" },
	{ "LOCAL before RECIPIENT", { NULL },
	  { "LOCAL=bob+a", "RECIPIENT=bob+b@example.org" }, NULL, "bob", "a",
	  "LOCAL" },
	{ "EXTENSION before RECIPIENT", { NULL },
	  { "EXTENSION=e", "RECIPIENT=bob+b@example.org" }, NULL, "bob", "e",
	  "EXTENSION" },
	{ "RECIPIENT of another user is not ours", { "-d", "bob" },
	  { "RECIPIENT=carol+x@example.org" }, "bob", "bob", NULL, NULL },
	{ "RECIPIENT=bb+board", { NULL }, { "RECIPIENT=bb+board@example.org" },
	  NULL, "bb", "board", "RECIPIENT" },
	{ "two -d: the environment is nobody's", { "-d", "bob", "carol" },
	  { "EXTENSION=x" }, "bob", "bob", NULL, NULL },
	{ "-a is for both of two -d", { "-a", "x", "-d", "bob", "carol" },
	  { NULL }, "carol", "carol", "x", "-a" },
	{ "several delimiters", { "RCPT_DELIMITER=-+", "-d", "bob-x+y" },
	  { NULL }, "bob-x+y", "bob", "x+y", "-d" },
	{ "no delimiter at all", { "RCPT_DELIMITER=", "-d", "bob+x" }, { NULL },
	  "bob+x", "bob+x", NULL, NULL },
	{ "user part in another case", { "RCPT_DOWNCASE=yes", "-d", "BoB+Lists" },
	  { NULL }, "BoB+Lists", "bob", "Lists", "-d" },
	{ "case kept without RCPT_DOWNCASE", { "-d", "BoB+Lists" }, { NULL },
	  "BoB+Lists", "BoB", "Lists", "-d" },
	{ "-m arguments are not a detail", { "-m", "rc", "x" }, { NULL }, NULL,
	  NULL, NULL, NULL },
};

/* The detail as a folder name: detail, separator -> folder or refusal. */
static const struct {
	const char *detail;
	char sep;
	int utf7;		/* a Maildir++ name (1) or a store's (0) */
	const char *folder;	/* NULL: refused */
	const char *why;	/* substring of the refusal */
} folders[] = {
	{ "lists", '.', 1, "lists", NULL },
	{ "lists.linux", '.', 1, "lists.linux", NULL },
	{ "lists/linux", '.', 1, "lists.linux", NULL },
	{ "lists.linux", '/', 1, "lists/linux", NULL },
	{ "a.b.c", '.', 1, "a.b.c", NULL },
	{ "Spam", '.', 1, "Spam", NULL },
	{ "INBOX", '.', 1, "", NULL },
	{ "inbox.Spam", '.', 1, "Spam", NULL },
	{ "INBOXES", '.', 1, "INBOXES", NULL },
	{ "", '.', 1, "", NULL },
	{ "../x", '.', 1, NULL, "leading" },
	{ "a/../x", '.', 1, NULL, "empty" },
	{ "a..b", '.', 1, NULL, "empty" },
	{ "/etc", '.', 1, NULL, "leading" },
	{ ".", '.', 1, NULL, "leading" },
	{ ".hidden", '.', 1, NULL, "leading" },
	{ "a.", '.', 1, NULL, "empty" },
	{ "a/", '.', 1, NULL, "empty" },
	{ "a\nb", '.', 1, NULL, "control" },
	{ "a\tb", '.', 1, NULL, "control" },
	{ "a\177b", '.', 1, NULL, "control" },
	{ "\033[2J", '.', 1, NULL, "control" },
	{ "caf\xc3\xa9", '.', 1, "caf&AOk-", NULL },
	{ "\xe6\x97\xa5\xe6\x9c\xac", '.', 1, "&ZeVnLA-", NULL },
	{ "a\xf0\x9f\x98\x80" "b", '.', 1, "a&2D3eAA-b", NULL },
	{ "caf\xe9", '.', 1, NULL, "UTF-8" },
	{ "\xc0\xaf", '.', 1, NULL, "UTF-8" },		/* overlong '/' */
	{ "\xed\xa0\x80", '.', 1, NULL, "UTF-8" },		/* a surrogate */
	{ "\xe6\x97", '.', 1, NULL, "UTF-8" },		/* truncated */
	{ "Tom & Jerry", '.', 1, "Tom_&-_Jerry", NULL },
	{ "a b\"c(d)e,f:g;h<i>j@k[l\\m]n%o*p", '.', 1,
	  "a_b_c_d_e_f_g_h_i_j_k_l_m_n_o_p", NULL },
	{ "x+y-z_1~", '.', 1, "x+y-z_1~", NULL },
	/* for a store's RCPT: the store maps the name itself */
	{ "caf\xc3\xa9", '.', 0, NULL, "8-bit" },
	{ "Tom & Jerry", '.', 0, "Tom_&_Jerry", NULL },
	{ "R&D", '/', 0, "R&D", NULL },
	{ "lists.linux", '/', 0, "lists/linux", NULL },
	{ "../x", '/', 0, NULL, "leading" },
};

/* run_sources - address_of over the table */
static void
run_sources(void)
{
	for (size_t i = 0; i < sizeof sources / sizeof sources[0]; i++) {
		char *argv[MAXARGS + 1] = { "lda" };
		char *envp[7] = { NULL };
		struct invocation inv;
		struct address_opts o;
		struct address a;
		char *err = NULL;
		int argc = 1;

		for (; argc <= MAXARGS && sources[i].argv[argc - 1]; argc++)
			argv[argc] = (char *)sources[i].argv[argc - 1];
		for (size_t e = 0; e < 6 && sources[i].env[e]; e++)
			envp[e] = (char *)sources[i].env[e];
		if (invocation_parse(argc, argv, envp, &inv, &err) == -1) {
			ok(0, "%s: parse: %s", sources[i].name, err);
			free(err);
			continue;
		}
		address_opts(&inv, &o);
		address_of(&inv, sources[i].rcpt, &o, &a);
		is(a.user, sources[i].user, "%s: user", sources[i].name);
		is(a.detail, sources[i].detail, "%s: detail", sources[i].name);
		is(a.source, sources[i].source, "%s: source", sources[i].name);
		address_free(&a);
		invocation_free(&inv);
	}
}

/* run_folders - address_folder over the table, and its limits */
static void
run_folders(void)
{
	char big[ADDRESS_DETAIL_MAX + 2], *f;
	const char *why;

	for (size_t i = 0; i < sizeof folders / sizeof folders[0]; i++) {
		char *vis = address_visible(folders[i].detail, 40);
		f = address_folder(folders[i].detail, folders[i].sep,
		    folders[i].utf7, &why);
		is(f, folders[i].folder, "folder of \"%s\" (sep %c%s)", vis,
		    folders[i].sep, folders[i].utf7 ? ", Maildir++" : ", store");
		if (folders[i].why)
			like(why, folders[i].why, "refusal of \"%s\" says why", vis);
		free(f);
		free(vis);
	}
	memset(big, 'x', sizeof big - 1);
	big[ADDRESS_DETAIL_MAX] = '\0';
	f = address_folder(big, '.', 1, &why);
	ok(f && strlen(f) == ADDRESS_DETAIL_MAX, "a detail of %d bytes is kept",
	    ADDRESS_DETAIL_MAX);
	free(f);
	big[ADDRESS_DETAIL_MAX] = 'x';
	big[ADDRESS_DETAIL_MAX + 1] = '\0';
	f = address_folder(big, '.', 1, &why);
	ok(f == NULL && why && strstr(why, "too long"),
	    "a detail of %d bytes is refused", ADDRESS_DETAIL_MAX + 1);
	free(f);
	/* 100 two-byte characters: 200 bytes in, more once encoded */
	for (size_t i = 0; i < 200; i += 2)
		big[i] = '\xc3', big[i + 1] = '\xa9';
	big[200] = '\0';
	f = address_folder(big, '.', 1, &why);
	ok(f == NULL && why && strstr(why, "encoded"),
	    "a detail too long once encoded is refused");
	free(f);
}

/* run_users - virtual user names and the log rendering */
static void
run_users(void)
{
	static const struct { const char *user; int ok; } users[] = {
		{ "alice", 1 }, { "a.b-c_d", 1 }, { "", 0 }, { ".x", 0 },
		{ "../x", 0 }, { "a/b", 0 }, { "a b", 0 }, { "a\nb", 0 },
		{ "a<b", 0 }, { "a@b", 0 }, { "caf\xc3\xa9", 0 },
	};
	char *v;

	for (size_t i = 0; i < sizeof users / sizeof users[0]; i++) {
		char *vis = address_visible(users[i].user, 20);
		is_int(address_user_ok(users[i].user), users[i].ok,
		    "user name \"%s\"", vis);
		free(vis);
	}
	v = address_visible("a\nb\\c\xff", 20);
	is(v, "a\\012b\\134c\\377", "visible: control, backslash, 8-bit");
	free(v);
	v = address_visible("abcdef", 3);
	is(v, "abc...", "visible: cut at max");
	free(v);
}

int
main(void)
{
	run_sources();
	run_folders();
	run_users();
	return done_testing();
}

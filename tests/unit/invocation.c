/* invocation.c - unit tests for procmail's command-line grammar and
   postfix's environment in lda/invocation.c. */
#include <stdlib.h>
#include <string.h>

#include "invocation.h"
#include "tap.h"

#define MAXARGS 12

static const struct {
	const char *name;
	const char *argv[MAXARGS];
	int ret;	/* 0 or -1 */
	enum inv_mode mode;
	const char *sender, *rcfile, *first_rcpt, *first_arg, *first_assign;
	size_t nrcpt, nargs;
} cases[] = {
	{ "-d users", { "-d", "bob", "carol" }, 0, INV_DELIVER, "env@x", NULL,
	  "bob", NULL, NULL, 2, 0 },
	{ "-f and -a", { "-f", "a@b", "-a", "lists", "-d", "bob" }, 0,
	  INV_DELIVER, "a@b", NULL, "bob", "lists", NULL, 1, 1 },
	{ "clustered -Yfsender", { "-Yfs@x", "-d", "bob" }, 0, INV_DELIVER,
	  "s@x", NULL, "bob", NULL, NULL, 1, 0 },
	{ "-r is -f", { "-r", "r@x" }, 0, INV_DELIVER, "r@x", NULL, NULL, NULL,
	  NULL, 0, 0 },
	{ "-f - refreshes, the sender stays", { "-f", "-", "-d", "bob" }, 0,
	  INV_DELIVER, "env@x", NULL, "bob", NULL, NULL, 1, 0 },
	{ "-m rcfile args", { "-m", "A=1", "rc", "x", "y" }, 0, INV_MAILFILTER,
	  "env@x", "rc", NULL, "x", "A=1", 0, 2 },
	{ "-m without rcfile", { "-m", "A=1" }, -1, INV_MAILFILTER },
	{ "assignment and rcfile", { "VERBOSE=on", "my.rc" }, 0, INV_DELIVER,
	  "env@x", "my.rc", NULL, NULL, "VERBOSE=on", 0, 0 },
	{ "--config", { "--config", "/x/lda.rc", "-d", "bob" }, 0, INV_DELIVER,
	  "env@x", NULL, "bob", NULL, NULL, 1, 0 },
	{ "--check", { "--check", "f.rc" }, 0, INV_CHECK, "env@x" },
	{ "--test", { "--test", "-d", "bob" }, 0, INV_DELIVER, "env@x", NULL,
	  "bob", NULL, NULL, 1, 0 },
	{ "--test -m", { "--test", "-m", "rc" }, 0, INV_MAILFILTER, "env@x", "rc",
	  NULL, NULL, NULL, 0, 0 },
	{ "--version", { "--version" }, 0, INV_VERSION, "env@x" },
	{ "unknown option", { "-q" }, -1, INV_DELIVER },
	{ "unknown long option", { "--frobnicate" }, -1, INV_DELIVER },
	{ "-f without value", { "-f" }, -1, INV_DELIVER },
	{ "-d without recipient", { "-d" }, -1, INV_DELIVER },
	{ "-d with -m", { "-m", "rc", "-d", "bob" }, 0, INV_MAILFILTER, "env@x",
	  "rc", NULL, "-d", NULL, 0, 2 },
};

int
main(void)
{
	static char *envp[] = { "SENDER=env@x", "RECIPIENT=bob+lists@example.org",
	    "EXTENSION=lists", "CLIENT_ADDRESS=192.0.2.1", "HOME=/home/bob",
	    "UNRELATED=1", NULL };

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *argv[MAXARGS + 1] = { "lda" };
		struct invocation inv;
		char *err = NULL;
		int argc = 1, r;

		for (; argc <= MAXARGS && cases[i].argv[argc - 1]; argc++)
			argv[argc] = (char *)cases[i].argv[argc - 1];
		r = invocation_parse(argc, argv, envp, &inv, &err);
		is_int(r, cases[i].ret, "%s: result%s%s", cases[i].name,
		    err ? " - " : "", err ? err : "");
		free(err);
		if (r == 0) {
			is_int(inv.mode, cases[i].mode, "%s: mode", cases[i].name);
			is(inv.sender, cases[i].sender, "%s: sender", cases[i].name);
			is_int(inv.refresh_from, strstr(cases[i].name, "-f -") != NULL,
			    "%s: -f -", cases[i].name);
			is(inv.rcfile, cases[i].rcfile, "%s: rcfile", cases[i].name);
			is_int(inv.nrecipients, cases[i].nrcpt, "%s: recipients", cases[i].name);
			is(inv.nrecipients ? inv.recipients[0] : NULL,
			    cases[i].first_rcpt, "%s: first recipient", cases[i].name);
			is_int(inv.nargs, cases[i].nargs, "%s: args", cases[i].name);
			is(inv.nargs ? inv.args[0] : NULL, cases[i].first_arg,
			    "%s: first arg", cases[i].name);
			is(inv.nassigns ? inv.assigns[0] : NULL,
			    cases[i].first_assign, "%s: first assignment", cases[i].name);
			is(inv.env_extension, "lists", "%s: EXTENSION", cases[i].name);
			is(inv.client_address, "192.0.2.1", "%s: CLIENT_ADDRESS", cases[i].name);
		}
		invocation_free(&inv);
	}
	return done_testing();
}

/*
 * invocation.c - procmail's command line and postfix's environment, turned
 * into one struct invocation.
 * Does: the grammar  lda [-ptoY] [-f sender] [-a arg]... [-d rcpt]...,
 * lda -m [VAR=value]... rcfile [arg]..., VAR=value, an rcfile, and our long
 * options; copies the MTA's environment variables by name.
 * Does not: look up users, touch files, log. Usage errors come back as text.
 */
#include <stdlib.h>
#include <string.h>

#include "invocation.h"
#include "xalloc.h"

const char invocation_usage[] =
    "usage: lda [-ptoY] [-f sender] [-a arg]... [-d recipient]...\n"
    "       lda [-ptoY] [-f sender] [VAR=value | rcfile]...\n"
    "       lda [-ptY] -m [VAR=value]... rcfile [arg]...\n"
    "       lda -z [-ptoY] [--test] [VAR=value]...\n"
    "       lda --check rcfile\n"
    "       lda --to-sieve rcfile [VAR=value]... > script.sieve\n"
    "       lda --test [options as above] < message\n"
    "options (procmail's, and lda's own):\n"
    "  -d recipient...  deliver for these users (all later words: options first)\n"
    "  -f sender        the envelope sender (also -r)\n"
    "  -a arg           an argument for the rc ($1, $2, ...)\n"
    "  -m               mail filter: run only the rcfile named next\n"
    "  -z               LMTP server on stdin/stdout (postfix spawn, inetd)\n"
    "  -p               keep the environment\n"
    "  -t               accepted and ignored (procmail's fail softly)\n"
    "  -o               accepted and ignored (procmail's From_ override)\n"
    "  -Y               accepted and ignored (procmail's Berkeley format)\n"
    "  VAR=value        set an rc variable before the rc files run\n"
    "  rcfile           run this rc file instead of the user's\n"
    "  --config FILE    the system rc instead of " SYSCONFDIR "/lda.rc\n"
    "  --store SPEC     the store (lmtp:unix:/path, lmtp:inet:host:port)\n"
    "  --log-file FILE  log to FILE, not syslog (hosts without one)\n"
    "  --queue-id ID    the MTA's queue ID, for the log lines\n"
    "  --check FILE     report the errors of an rc file, deliver nothing\n"
    "  --to-sieve FILE  write the rc as a Sieve script, report what has no\n"
    "                   exact form (exit 0 all exact, 3 reported)\n"
    "  --test           say where the message would go, write nothing\n"
    "  --test-filters   --test, and run spamd/clamd/spf filters too\n"
    "  --version        the version\n"
    "  --help           this text\n"
    "A mistake in these (an unreadable --config or rcfile, another "
    "program's option)\nkeeps the message with the MTA: exit 75, status "
    "4.3.5 (under -z the greeting\n421 4.3.5).\n";

static const struct {
	const char *name;
	size_t off;
} env_names[] = {
#define E(n, f) { n, offsetof(struct invocation, f) }
	E("SENDER", env_sender),
	E("RECIPIENT", env_recipient),
	E("ORIGINAL_RECIPIENT", env_orig_recipient),
	E("EXTENSION", env_extension),
	E("USER", env_user),
	E("LOGNAME", env_logname),
	E("HOME", env_home),
	E("DOMAIN", env_domain),
	E("LOCAL", env_local),
	E("CLIENT_ADDRESS", client_address),
	E("CLIENT_HELO", client_helo),
	E("CLIENT_HOSTNAME", client_hostname),
	E("TMPDIR", tmpdir),
#undef E
};

/* inv_err - set *err to a usage error; returns -1 */
static int
inv_err(char **err, const char *what, const char *arg)
{
	*err = xasprintf("%s%s%s", what, arg ? ": " : "", arg ? arg : "");
	return -1;
}

/* push - append s to a NULL-terminated array of n entries */
static void
push(char ***v, size_t *n, char *s)
{
	*v = xreallocarray(*v, *n + 2, sizeof **v);
	(*v)[(*n)++] = s;
	(*v)[*n] = NULL;
}

/* is_assignment - "NAME=value" with a variable name before the '=' */
static int
is_assignment(const char *s)
{
	const char *eq = strchr(s, '=');

	if (eq == NULL || eq == s)
		return 0;
	for (const char *p = s; p < eq; p++)
		if (!(*p == '_' || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= 'a' && *p <= 'z') || (p > s && *p >= '0' && *p <= '9')))
			return 0;
	return 1;
}

/* read_env - copy the MTA's variables out of envp */
static void
read_env(char **envp, struct invocation *inv)
{
	for (char **e = envp; e && *e; e++) {
		for (size_t i = 0; i < sizeof env_names / sizeof env_names[0]; i++) {
			size_t n = strlen(env_names[i].name);
			if (strncmp(*e, env_names[i].name, n) == 0 && (*e)[n] == '=')
				*(const char **)((char *)inv + env_names[i].off) =
				    *e + n + 1;
		}
	}
}

/* The long options: where a value goes (a string, or a flag), or
   (size_t)-1 for none; the mode an option sets. */
static const struct {
	const char *name;
	size_t off;
	enum inv_mode mode;
} opts[] = {
	{ "config", offsetof(struct invocation, config), INV_DELIVER },
	{ "store", offsetof(struct invocation, store), INV_DELIVER },
	{ "check", offsetof(struct invocation, check_file), INV_CHECK },
	{ "to-sieve", offsetof(struct invocation, sieve_file), INV_TO_SIEVE },
	{ "log-file", offsetof(struct invocation, log_file), INV_DELIVER },
	{ "queue-id", offsetof(struct invocation, queue_id), INV_DELIVER },
	{ "test", offsetof(struct invocation, dry_run), INV_DELIVER },
	{ "test-filters", offsetof(struct invocation, test_filters),
	    INV_DELIVER },
	{ "version", (size_t)-1, INV_VERSION },
	{ "help", (size_t)-1, INV_HELP },
};

/* is_flag - does option i set a flag (no value)? */
static int
is_flag(size_t i)
{
	return opts[i].off == offsetof(struct invocation, dry_run) ||
	    opts[i].off == offsetof(struct invocation, test_filters);
}

/* long_opt - one --option; returns 0, 1 if it used the next argument, -1 */
static int
long_opt(struct invocation *inv, const char *opt, const char *next, char **err)
{
	for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
		if (strcmp(opt, opts[i].name) != 0)
			continue;
		if (opts[i].mode != INV_DELIVER)
			inv->mode = opts[i].mode;
		if (opts[i].off == (size_t)-1)
			return 0;
		if (is_flag(i)) {
			inv->dry_run = 1;
			inv->test_filters |= opts[i].off ==
			    offsetof(struct invocation, test_filters);
			return 0;
		}
		if (next == NULL)
			return inv_err(err, "option needs a value", opt);
		*(const char **)((char *)inv + opts[i].off) = next;
		return 1;
	}
	return xerr(err, "unknown option --%s; lda takes procmail's options "
	    "and its own (lda --help)", opt);
}

/* Options of other delivery agents that lda does not take: said by
   name, so that an administrator who copied a command line sees why. */
static const struct {
	char opt;
	const char *whose;
} foreign[] = {
	{ 'c', "dovecot-lda's -c (its configuration file)" },
	{ 'e', "dovecot-lda's -e (errors to stderr) or Cyrus deliver's -e "
	    "(duplicate suppression)" },
	{ 'k', "dovecot-lda's -k (keep the environment)" },
	{ 'l', "Cyrus deliver's -l (LMTP mode)" },
	{ 'q', "Cyrus deliver's -q (ignore quotas)" },
	{ 'C', "Cyrus deliver's -C (its imapd.conf)" },
};

/* unknown_opt - the usage error for option c of argument arg */
static int
unknown_opt(char **err, char c, const char *arg)
{
	for (size_t i = 0; i < sizeof foreign / sizeof foreign[0]; i++)
		if (foreign[i].opt == c) {
			return xerr(err, "option -%c (in %s) is %s; lda takes "
			    "procmail's options (lda --help)", c, arg,
			    foreign[i].whose);
		}
	return xerr(err, "unknown option -%c (in %s); lda takes procmail's "
	    "options (lda --help)", c, arg);
}

/* dovecot_o - is next a Dovecot setting (-o key=value), not a procmail
   VAR=value? Dovecot's keys are lower case (mail_location=...,
   plugin/quota=...); a variable named with no capital letter after -o
   is taken for one. */
static int
dovecot_o(const char *next)
{
	const char *eq = next ? strchr(next, '=') : NULL;

	if (eq == NULL || eq == next)
		return 0;
	for (const char *p = next; p < eq; p++)
		if (*p >= 'A' && *p <= 'Z')
			return 0;
	return 1;
}

/* short_opts - one cluster like -Yf sender; returns args used or -1 */
static int
short_opts(struct invocation *inv, char **argv, int i, int argc, int *rcpt_mode,
    char **err)
{
	const char *p = argv[i] + 1;

	for (; *p; p++) {
		const char *val;
		switch (*p) {
		case 'p': inv->preserve_env = 1; continue;
		case 't': inv->trust_from = 1; continue;
		case 'o':
			if (p[1] == '\0' && i + 1 < argc &&
			    dovecot_o(argv[i + 1]))
				return xerr(err, "-o %s is dovecot-lda's -o "
				    "key=value (a Dovecot setting); lda's -o "
				    "(procmail's) takes no value", argv[i + 1]);
			inv->override_from = 1;
			continue;
		case 'Y': inv->assume_y = 1; continue;
		case 'm': inv->mode = INV_MAILFILTER; continue;
		case 'v': inv->mode = INV_VERSION; continue;
		case 'h': inv->mode = INV_HELP; continue;
		case 'd': *rcpt_mode = 1; continue;
		case 'z': inv->lmtp_server = 1; continue;
		case 'f': case 'r': case 'a':
			break;
		default:
			return unknown_opt(err, *p, argv[i]);
		}
		val = p[1] ? p + 1 : (i + 1 < argc ? argv[i + 1] : NULL);
		if (val == NULL)
			return inv_err(err, "option needs a value", argv[i]);
		if (*p == 'a')
			push(&inv->args, &inv->nargs, (char *)val);
		else if (strcmp(val, "-") == 0)
			inv->refresh_from = 1;	/* procmail: a new date only */
		else
			inv->sender = val;
		return p[1] ? 0 : 1;
	}
	return 0;
}

/* operand - a non-option argument: VAR=value, rcfile or an argument;
   after -d every word is a recipient, and an option or an assignment
   there is a mistake (it would become a recipient that does not exist,
   after the others were delivered). Returns 0 or -1 with *err. */
static int
operand(struct invocation *inv, char *arg, int rcpt_mode, char **err)
{
	if (rcpt_mode && arg[0] == '-')
		return xerr(err, "option after -d: %s (-d takes every later "
		    "word as a recipient; put options before -d)", arg);
	if (rcpt_mode && is_assignment(arg))
		return xerr(err, "assignment after -d: %s (-d takes every "
		    "later word as a recipient; put VAR=value before -d)", arg);
	if (rcpt_mode)
		push(&inv->recipients, &inv->nrecipients, arg);
	else if (inv->rcfile != NULL && inv->mode == INV_MAILFILTER)
		push(&inv->args, &inv->nargs, arg);
	else if (is_assignment(arg))
		push(&inv->assigns, &inv->nassigns, arg);
	else if (inv->rcfile == NULL)
		inv->rcfile = arg;
	else
		push(&inv->args, &inv->nargs, arg);
	return 0;
}

/* invocation_parse - argv and envp into *inv */
int
invocation_parse(int argc, char **argv, char **envp, struct invocation *inv,
    char **err)
{
	int rcpt_mode = 0, opts_done = 0;

	memset(inv, 0, sizeof *inv);
	*err = NULL;
	read_env(envp, inv);
	for (int i = 1; i < argc; i++) {
		char *a = argv[i];
		int used = 0;

		if (!opts_done && !rcpt_mode && strcmp(a, "--") == 0)
			opts_done = 1;
		else if (!opts_done && !rcpt_mode && strncmp(a, "--", 2) == 0)
			used = long_opt(inv, a + 2, i + 1 < argc ? argv[i + 1] : NULL, err);
		else if (!opts_done && !rcpt_mode && a[0] == '-' && a[1] &&
		    inv->rcfile == NULL)
			used = short_opts(inv, argv, i, argc, &rcpt_mode, err);
		else
			used = operand(inv, a, rcpt_mode, err);
		if (used < 0)
			return -1;
		i += used;
	}
	if (inv->mode == INV_MAILFILTER && inv->rcfile == NULL)
		return inv_err(err, "-m needs an rcfile", NULL);
	if (rcpt_mode && inv->nrecipients == 0)
		return inv_err(err, "-d needs a recipient", NULL);
	if (rcpt_mode && inv->mode == INV_MAILFILTER)
		return inv_err(err, "-d and -m cannot be combined", NULL);
	/* -z: each RCPT TO of the LMTP client is a recipient */
	if (inv->lmtp_server && (rcpt_mode || inv->mode == INV_MAILFILTER))
		return inv_err(err, "-z cannot be combined with -d or -m (the "
		    "LMTP client names the recipients)", NULL);
	/* -z: standard output is the LMTP client, for replies only */
	if (inv->lmtp_server && inv->mode != INV_DELIVER)
		return inv_err(err, "-z cannot be combined with --check, "
		    "--to-sieve, --help or --version (standard output is the "
		    "LMTP client)", NULL);
	if (inv->sender == NULL)
		inv->sender = inv->env_sender;
	return 0;
}

/* takes_value - does the long option opt use the next word? */
static int
takes_value(const char *opt)
{
	for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
		if (strcmp(opt, opts[i].name) == 0)
			return opts[i].off != (size_t)-1 && !is_flag(i);
	return 0;
}

/* invocation_lmtp - is -z among the options of argv (invocation.h)?
   As invocation_parse reads them: a short option cluster holding z
   before an option that takes the rest or the next word as its value,
   until "--", -d or an rcfile */
int
invocation_lmtp(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0)
			return 0;
		if (strncmp(a, "--", 2) == 0) {
			i += takes_value(a + 2);
			continue;
		}
		if (a[0] != '-' && !is_assignment(a))
			return 0;
		for (const char *p = a[0] == '-' ? a + 1 : ""; *p; p++) {
			if (*p == 'z')
				return 1;
			if (*p == 'd')
				return 0;
			if (*p == 'f' || *p == 'r' || *p == 'a') {
				i += p[1] == '\0';
				break;
			}
		}
	}
	return 0;
}

/* invocation_var - the value of the last VAR=value word for name */
const char *
invocation_var(const struct invocation *inv, const char *name)
{
	size_t n = strlen(name);
	const char *v = NULL;

	for (size_t i = 0; i < inv->nassigns; i++)
		if (strncmp(inv->assigns[i], name, n) == 0 &&
		    inv->assigns[i][n] == '=')
			v = inv->assigns[i] + n + 1;
	return v;
}

/* invocation_free - release what parse allocated */
void
invocation_free(struct invocation *inv)
{
	free(inv->recipients);
	free(inv->args);
	free(inv->assigns);
	memset(inv, 0, sizeof *inv);
}

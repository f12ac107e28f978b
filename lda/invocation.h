/*
 * invocation.h - the command line (procmail's grammar) and the MTA's
 * environment (postfix's names), turned into one plain struct.
 * Does: parse and validate; nothing else in lda reads argv, or getenv for
 * these names.
 * Does not: look up users, open files or log; errors come back as text.
 */
#ifndef LDA_INVOCATION_H
#define LDA_INVOCATION_H

#include <stddef.h>

enum inv_mode {
	INV_DELIVER,	/* normal: rc files, then DEFAULT */
	INV_MAILFILTER,	/* -m: the given rcfile alone */
	INV_CHECK,	/* --check FILE: parse and report */
	INV_TO_SIEVE,	/* --to-sieve FILE: the rc as a Sieve script */
	INV_VERSION,
	INV_HELP,
};

struct invocation {
	enum inv_mode mode;
	const char *sender;	/* -f / -r, else SENDER; NULL if none */
	int refresh_from;	/* -f - : the From_ line gets a new date */
	char **recipients;	/* -d user..., NULL-terminated */
	size_t nrecipients;
	char **args;		/* -a arg... or -m's rcfile arguments ($1..) */
	size_t nargs;
	char **assigns;		/* VAR=value from the command line, in order */
	size_t nassigns;
	const char *rcfile;	/* explicit rcfile, or NULL */
	const char *config;	/* --config: the system rc, or NULL for default */
	const char *store;	/* --store, or NULL */
	const char *check_file;	/* --check FILE */
	const char *sieve_file;	/* --to-sieve FILE */
	const char *log_file;	/* --log-file: the system log, not syslog */
	const char *queue_id;	/* --queue-id: the MTA's, for the log */
	int preserve_env;	/* -p */
	int override_from;	/* -o */
	int trust_from;		/* -t: procmail's "fail softly" */
	int assume_y;		/* -Y: Berkeley format, ignore Content-Length */
	int dry_run;		/* --test: evaluate and trace, write nothing */
	int lmtp_server;	/* -z: LMTP on stdin/stdout (lmtpd.c) */
	int test_filters;	/* --test-filters: --test, and filters that
				   ask a daemon (spamd, clamd) run too */

	/* The MTA's environment (postfix pipe(8)/local(8) names). */
	const char *env_sender;		/* SENDER */
	const char *env_recipient;	/* RECIPIENT */
	const char *env_orig_recipient;	/* ORIGINAL_RECIPIENT */
	const char *env_extension;	/* EXTENSION */
	const char *env_user;		/* USER */
	const char *env_logname;	/* LOGNAME */
	const char *env_home;		/* HOME */
	const char *env_domain;		/* DOMAIN */
	const char *env_local;		/* LOCAL */
	const char *client_address;	/* CLIENT_ADDRESS */
	const char *client_helo;	/* CLIENT_HELO */
	const char *client_hostname;	/* CLIENT_HOSTNAME */
	const char *tmpdir;		/* TMPDIR */
};

/*
 * Parse argv (argc entries) and the environment envp into *inv. Returns 0,
 * or -1 with *err set (allocated) on a usage error; *inv then holds what
 * came before the mistake. Pointers in *inv point into argv/envp or into
 * memory owned by inv (see invocation_free).
 */
int invocation_parse(int argc, char **argv, char **envp,
    struct invocation *inv, char **err);
/* Does argv ask for -z (an LMTP server on standard input and output)?
   Read apart from invocation_parse, before it, so that a usage error
   before or after -z can still be answered as the LMTP client expects. */
int invocation_lmtp(int argc, char **argv);
void invocation_free(struct invocation *inv);
/* The value of the last VAR=value word of the command line for name,
   or NULL when there is none. */
const char *invocation_var(const struct invocation *inv, const char *name);

/* The usage text for --help and usage errors. */
extern const char invocation_usage[];

#endif

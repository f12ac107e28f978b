/* store.c - unit tests for lda/store.c and lda/sasl.c's credentials:
   STORE lists, settings, folder names to store folders, RCPT addresses,
   the reply table, the credentials file's checks. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lmtp.h"
#include "sasl.h"
#include "store.h"
#include "tap.h"

static const struct {
	const char *spec;
	int ok;
	const char *want;	/* the targets: path or host|port, ';'-joined */
} parse_cases[] = {
	{ "lmtp:unix:/run/cyrus/lmtp", 1, "/run/cyrus/lmtp" },
	{ "lmtp:inet:127.0.0.1:24", 1, "127.0.0.1|24" },
	{ "lmtp:inet:[::1]:2003", 1, "::1|2003" },
	{ "lmtp:inet:mail.example.org:24", 1, "mail.example.org|24" },
	{ "lmtp:unix:/a, lmtp:inet:h:1 ,lmtp:unix:/b", 1, "/a;h|1;/b" },
	{ "lmtp:unix:relative", 0, NULL },
	{ "unix:/a", 0, NULL },
	{ "lmtp:inet:::1:24", 0, NULL },
	{ "lmtp:inet:[::1]24", 0, NULL },
	{ "lmtp:inet:host", 0, NULL },
	{ "lmtp:inet:host:", 0, NULL },
	{ "lmtp:inet:host:99999", 0, NULL },
	{ "lmtp:inet:host:2x", 0, NULL },
	{ "lmtp:inet::24", 0, NULL },
	{ " , ", 0, NULL },
	{ "lmtp:unix:/a,bogus", 0, NULL },
};

/* test_parse - STORE values */
static void
test_parse(void)
{
	for (size_t i = 0; i < sizeof parse_cases / sizeof parse_cases[0]; i++) {
		struct store_target *t = NULL;
		size_t n = 0;
		char *err = NULL, got[256] = "";
		int r = store_parse(parse_cases[i].spec, &t, &n, &err);

		for (size_t k = 0; r == 0 && k < n; k++) {
			size_t len = strlen(got);
			snprintf(got + len, sizeof got - len, "%s%s%s%s", k ? ";" : "",
			    t[k].path ? t[k].path : t[k].host, t[k].path ? "" : "|",
			    t[k].path ? "" : t[k].port);
		}
		ok((r == 0) == parse_cases[i].ok, "parse \"%s\": %s",
		    parse_cases[i].spec, parse_cases[i].ok ? "accepted" : "refused");
		if (parse_cases[i].ok)
			is(got, parse_cases[i].want, "parse \"%s\": targets",
			    parse_cases[i].spec);
		else
			ok(err != NULL && strstr(err, "STORE") != NULL,
			    "parse \"%s\": the error names STORE (%s)",
			    parse_cases[i].spec, err ? err : "none");
		store_targets_free(&t, n);
		free(err);
	}
}

/* A fake rc: NAME=value pairs. */
static const char *const *vars;

static const char *
getvar(const void *ctx, const char *name)
{
	size_t n = strlen(name);

	(void)ctx;
	for (const char *const *v = vars; *v; v++)
		if (strncmp(*v, name, n) == 0 && (*v)[n] == '=')
			return *v + n + 1;
	return NULL;
}

/* test_settings - defaults and refusals */
static void
test_settings(void)
{
	static const char *const dflt[] = { "STORE=lmtp:unix:/s", NULL };
	static const char *const set[] = { "STORE=lmtp:unix:/s",
		"RCPT_DELIMITER=-+", "STORE_SEPARATOR=/", "RCPT_DOWNCASE=yes",
		"STORE_FALLBACK=no", "STORE_TIMEOUT=7", "STORE_CONNECT_TIMEOUT=3",
		"STORE_PLAINTEXT=on", "STORE_MECHANISMS=PLAIN",
		"STORE_CREDENTIALS=/etc/c", "STORE_TLS=require",
		"STORE_TLS_CAFILE=/etc/ca.pem", NULL };
	static const struct {
		const char *bad, *word;
	} bad[] = {
		{ "STORE_TIMEOUT=0", "STORE_TIMEOUT" },
		{ "STORE_TIMEOUT=5s", "STORE_TIMEOUT" },
		{ "STORE_CONNECT_TIMEOUT=99999", "STORE_CONNECT_TIMEOUT" },
		{ "STORE_FALLBACK=maybe", "STORE_FALLBACK" },
		{ "STORE_SEPARATOR=:", "STORE_SEPARATOR" },
		{ "RCPT_DELIMITER=@", "RCPT_DELIMITER" },
		{ "STORE=lmtp:tcp:h:1", "STORE" },
		{ "STORE_TLS=yes", "STORE_TLS=yes: want off, may or require" },
		{ "STORE_TLS_CAFILE=ca.pem", "STORE_TLS_CAFILE=ca.pem: want an absolute path" },
	};
	struct store_settings s;
	char *err = NULL;

	vars = dflt;
	ok(store_settings_read(&s, getvar, NULL, &err) == 0, "defaults read");
	is_int(s.connect_timeout, STORE_CONNECT_TIMEOUT_DEFAULT, "connect timeout default");
	is_int(s.timeout, STORE_TIMEOUT_DEFAULT, "reply timeout default");
	is(s.delimiter, "+", "delimiter default +");
	is_int(s.separator, '.', "separator default .");
	ok(s.fallback && !s.downcase && !s.plaintext && s.credentials == NULL,
	    "fallback on, downcase, plaintext and credentials off");
	is(s.mechs, SASL_MECHS_DEFAULT, "mechanisms: strongest first");
	ok(s.tls == LMTP_TLS_OFF && s.tls_cafile == NULL,
	    "STORE_TLS off, no CA file (the system's)");
	store_settings_free(&s);

	vars = set;
	ok(store_settings_read(&s, getvar, NULL, &err) == 0, "all settings read");
	is(s.delimiter, "-", "RCPT_DELIMITER: the first of several");
	ok(s.separator == '/' && s.downcase && !s.fallback && s.plaintext &&
	    s.timeout == 7 && s.connect_timeout == 3, "every setting taken");
	is(s.credentials, "/etc/c", "STORE_CREDENTIALS");
	is(s.mechs, "PLAIN", "STORE_MECHANISMS");
	ok(s.tls == LMTP_TLS_REQUIRE, "STORE_TLS=require");
	is(s.tls_cafile, "/etc/ca.pem", "STORE_TLS_CAFILE");
	store_settings_free(&s);

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const char *v[] = { "STORE=lmtp:unix:/s", bad[i].bad, NULL };
		vars = v;
		if (strncmp(bad[i].bad, "STORE=", 6) == 0)
			v[0] = bad[i].bad;
		err = NULL;
		ok(store_settings_read(&s, getvar, NULL, &err) == -1,
		    "%s refused", bad[i].bad);
		like(err, bad[i].word, "... the error names %s", bad[i].word);
		free(err);
	}
	vars = (const char *const[]){ NULL };
	err = NULL;
	ok(store_settings_read(&s, getvar, NULL, &err) == -1, "STORE unset refused");
	free(err);
}

static const struct {
	const char *folder;
	char sep;
	int store;		/* 1: a store folder, 0: stays local */
	const char *want;	/* NULL: the INBOX */
} folder_cases[] = {
	{ "Spam", '.', 1, "Spam" },
	{ "lists/linux", '.', 1, "lists.linux" },
	{ "lists/linux", '/', 1, "lists/linux" },
	{ "lists.linux", '/', 1, "lists.linux" },
	{ ".lists.linux/", '/', 1, "lists/linux" },
	{ ".Spam/", '.', 1, "Spam" },
	{ "Spam/", '.', 1, "Spam" },
	{ "Spam/.", '.', 1, "Spam" },
	{ "/home/bob/Mail/Spam", '.', 1, "Spam" },
	{ "/home/bob/Mail/a/b/", '.', 1, "a.b" },
	{ "/home/bob/Mail/", '.', 1, NULL },
	{ "/home/bob/Mail", '.', 1, NULL },
	{ "/var/mail/bob", '.', 1, NULL },	/* DEFAULT */
	{ "/var/spool/mail/bob", '.', 1, NULL },	/* ORGMAIL */
	{ "INBOX", '.', 1, NULL },
	{ "inbox", '.', 1, NULL },
	{ "INBOX.Spam", '.', 1, "Spam" },
	{ "INBOX/Spam", '/', 1, "Spam" },
	{ "INBOXES", '.', 1, "INBOXES" },
	{ "./Spam", '.', 1, "Spam" },
	{ "a//b", '.', 1, "a.b" },
	{ "/dev/null", '.', 0, NULL },
	{ "/tmp/archive.mbox", '.', 0, NULL },
	{ "/home/bob/Mailbox", '.', 0, NULL },
};

/* test_folders - rc folder names to store folders */
static void
test_folders(void)
{
	struct store_settings set = { .separator = '.' };

	for (size_t i = 0; i < sizeof folder_cases / sizeof folder_cases[0]; i++) {
		char *name = NULL;
		int r;

		set.separator = folder_cases[i].sep;
		r = store_folder(&set, folder_cases[i].folder, "/home/bob/Mail",
		    "/var/mail/bob", "/var/spool/mail/bob", &name);
		is_int(r, folder_cases[i].store, "folder \"%s\": %s",
		    folder_cases[i].folder, folder_cases[i].store ? "the store's" :
		    "local");
		if (r == 1)
			is(name, folder_cases[i].want, "folder \"%s\" (sep %c)",
			    folder_cases[i].folder, folder_cases[i].sep);
		free(name);
	}
}

static const struct {
	const char *user, *folder;
	int downcase;
	const char *want;	/* NULL: no address */
} addr_cases[] = {
	{ "bob", NULL, 0, "bob" },
	{ "bob", "Spam", 0, "bob+Spam" },
	{ "Bob", "Spam", 1, "bob+Spam" },
	{ "Bob", "Spam", 0, "Bob+Spam" },
	{ "bob@Example.ORG", "Spam", 1, "bob+Spam@example.org" },
	{ "bob@example.org", NULL, 0, "bob@example.org" },
	{ "bob", "lists.linux", 0, "bob+lists.linux" },
	{ "bob", "My Stuff", 0, "\"bob+My Stuff\"" },
	{ "bob", "a\"b\\c", 0, "\"bob+a\\\"b\\\\c\"" },
	{ "bob", "Gr\303\274\303\237e", 0, "bob+Gr\303\274\303\237e" },
	{ "bob", "x\r\nRSET", 0, NULL },
	{ "bo\nb", NULL, 0, NULL },
	{ "", NULL, 0, NULL },
	{ "", "bulletin", 0, "+bulletin" },
	{ "@example.org", NULL, 0, NULL },
	{ "@example.org", "bulletin", 0, "+bulletin@example.org" },
	{ "bob", "", 0, NULL },
};

/* test_addresses - RCPT addresses */
static void
test_addresses(void)
{
	struct store_settings set = { .delimiter = "+", .separator = '.' };
	char longf[600];

	for (size_t i = 0; i < sizeof addr_cases / sizeof addr_cases[0]; i++) {
		char *a;
		set.downcase = addr_cases[i].downcase;
		a = store_address(&set, addr_cases[i].user, addr_cases[i].folder);
		is(a, addr_cases[i].want, "address %zu: %s", i, addr_cases[i].want ?
		    addr_cases[i].want : "none");
		free(a);
	}
	memset(longf, 'f', sizeof longf - 1);
	longf[sizeof longf - 1] = '\0';
	ok(store_address(&set, "bob", longf) == NULL, "an address past "
	    "STORE_ADDRESS_MAX is refused");
}

static const struct {
	int code;
	const char *status, *text;
	enum outcome want;
} reply_cases[] = {
	{ 250, "2.1.5", "250 2.1.5 Success", OUT_DELIVERED },
	{ 251, "2.1.5", "251 2.1.5 forwarded", OUT_TEMPFAIL },
	{ 0, "", "", OUT_TEMPFAIL },
	{ 421, "4.4.1", "421 4.4.1 bye", OUT_TEMPFAIL },
	{ 452, "4.2.2", "452 4.2.2 Over quota", OUT_TEMPFAIL },
	{ 451, "4.3.0", "451 4.3.0 System I/O error", OUT_TEMPFAIL },
	{ 550, "5.1.1", "550 5.1.1 User unknown", OUT_NOUSER },
	{ 550, "5.1.1", "550 5.1.1 <nosuch> User doesn't exist", OUT_NOUSER },
	{ 553, "5.1.3", "553 5.1.3 bad address", OUT_NOUSER },
	{ 552, "5.2.2", "552 5.2.2 <carol> Quota exceeded (mailbox for user "
	  "is full)", OUT_TEMPFAIL },
	{ 554, "5.6.0", "554 5.6.0 Message contains NUL characters", OUT_REJECTED },
	{ 552, "5.3.4", "552 5.3.4 message too big", OUT_UNAVAILABLE },
	{ 552, "5.2.3", "552 5.2.3 Message SIZE exceeds", OUT_UNAVAILABLE },
	{ 501, "5.5.4", "501 5.5.4 Syntax error in parameters", OUT_UNAVAILABLE },
	{ 550, "5.7.1", "550 5.7.1 denied", OUT_UNAVAILABLE },
	{ 550, "5.2.1", "550 5.2.1 mailbox disabled", OUT_UNAVAILABLE },
	{ 550, "", "550 no such user", OUT_UNAVAILABLE },
	{ 552, "", "552 storage exceeded", OUT_TEMPFAIL },
	{ 554, "", "554 transaction failed", OUT_REJECTED },
	{ 550, "", "550 over QUOTA", OUT_TEMPFAIL },
	{ 354, "", "354 go ahead", OUT_TEMPFAIL },
};

/* test_replies - the one table */
static void
test_replies(void)
{
	for (size_t i = 0; i < sizeof reply_cases / sizeof reply_cases[0]; i++) {
		struct lmtp_reply r = { .code = reply_cases[i].code };
		snprintf(r.status, sizeof r.status, "%s", reply_cases[i].status);
		r.text = (char *)reply_cases[i].text;
		is_int(store_reply_outcome(&r), reply_cases[i].want, "reply \"%s\"",
		    reply_cases[i].text);
	}
}

/* creds_file - write text to a new file of mode mode; its path */
static char *
creds_file(const char *text, mode_t mode)
{
	static char path[64];
	int fd;

	snprintf(path, sizeof path, "/tmp/lda-creds-test.XXXXXX");
	if ((fd = mkstemp(path)) == -1)
		return NULL;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		diag("write %s failed", path);
	fchmod(fd, mode);
	close(fd);
	return path;
}

static const struct {
	const char *text;
	int ok;
	const char *name, *pw, *authz;
} creds_cases[] = {
	{ "admin:secret\n", 1, "admin", "secret", NULL },
	{ "admin:secret", 1, "admin", "secret", NULL },
	{ "admin:secret\r\n", 1, "admin", "secret", NULL },
	{ "admin:secret:bob\n", 1, "admin", "secret", "bob" },
	{ "admin:pa:ss:\n", 1, "admin", "pa:ss", NULL },
	{ "admin:pa:ss:bob\n", 1, "admin", "pa:ss", "bob" },
	{ "admin:\n", 1, "admin", "", NULL },
	{ "no colon\n", 0, NULL, NULL, NULL },
	{ ":secret\n", 0, NULL, NULL, NULL },
	{ "", 0, NULL, NULL, NULL },
};

/* test_creds - the credentials file: format, mode, owner */
static void
test_creds(void)
{
	struct sasl_creds c;
	char *err = NULL, *p;

	for (size_t i = 0; i < sizeof creds_cases / sizeof creds_cases[0]; i++) {
		int r;
		p = creds_file(creds_cases[i].text, 0600);
		r = sasl_creds_read(p, &c, &err);
		ok((r == 0) == creds_cases[i].ok, "credentials %zu %s", i,
		    creds_cases[i].ok ? "read" : "refused");
		if (r == 0) {
			is(c.authname, creds_cases[i].name, "credentials %zu: authname", i);
			is(c.password, creds_cases[i].pw, "credentials %zu: password", i);
			is(c.authzid, creds_cases[i].authz, "credentials %zu: authzid", i);
			sasl_creds_free(&c);
		}
		free(err);
		err = NULL;
		unlink(p);
	}
	p = creds_file("admin:secret\n", 0640);
	ok(sasl_creds_read(p, &c, &err) == -1, "mode 0640 refused");
	like(err, "mode 0640; it must be owned by uid", "mode 0640: says why");
	free(err);
	err = NULL;
	chmod(p, 0400);
	ok(sasl_creds_read(p, &c, &err) == 0, "mode 0400 read");
	sasl_creds_free(&c);
	if (geteuid() == 0) {
		chmod(p, 0600);
		ok(chown(p, 1, 1) == 0 && sasl_creds_read(p, &c, &err) == -1,
		    "another owner refused");
		like(err, "owned by uid 1", "another owner: says whose it is");
	} else {
		/* under CI every check must run: not root is a failure */
		const char *ci = getenv("CI");
		for (int i = 0; i < 2; i++)
			if (ci != NULL && *ci != '\0')
				ok(0, "another owner: needs root, cannot run under CI");
			else
				ok(1, "# SKIP another owner needs root");
	}
	free(err);
	err = NULL;
	unlink(p);
	ok(sasl_creds_read("/nonexistent/creds", &c, &err) == -1, "missing file refused");
	like(err, "/nonexistent/creds: No such file", "missing file: says so");
	free(err);
	err = NULL;
	ok(sasl_creds_read("/tmp", &c, &err) == -1, "a directory refused");
	free(err);
}

int
main(void)
{
	test_parse();
	test_settings();
	test_folders();
	test_addresses();
	test_replies();
	test_creds();
	return done_testing();
}

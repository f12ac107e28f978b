/* route.c - unit tests for lda/route.c: the STORE_ROUTES tables. The
   same "key value" source as a flat file and as a cdb built by tinycdb's
   cdb -c -m (the real tool: the hash and layout are its, not ours); the
   lookup order, case folding, keys that are no keys, and tables that are
   no tables. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "route.h"
#include "tap.h"

static const char source[] =
	"# recipient   STORE\n"
	"bob            lmtp:unix:/run/a\n"
	"Bob@Example.ORG lmtp:inet:b.example:24\n"
	"@example.org   lmtp:unix:/run/c\n"
	"\n"
	"   carol\tlmtp:unix:/run/a, lmtp:unix:/run/b  \n";

static const struct {
	const char *rcpt, *want;	/* want NULL: not in the table */
} cases[] = {
	{ "bob", "lmtp:unix:/run/a" },
	{ "BOB", "lmtp:unix:/run/a" },
	{ "bob@example.org", "lmtp:inet:b.example:24" },
	{ "BOB@EXAMPLE.org", "lmtp:inet:b.example:24" },
	{ "dave@example.org", "lmtp:unix:/run/c" },
	{ "dave@Example.Org", "lmtp:unix:/run/c" },
	{ "carol", "lmtp:unix:/run/a, lmtp:unix:/run/b" },
	{ "dave", NULL },
	{ "bob@other.example", NULL },	/* user@domain never falls to user */
	{ "carol@", NULL },
	{ "", NULL },
	{ "bob\n", NULL },
	{ "b ob", NULL },
	{ "../../run/a", NULL },
	{ "@example.org", "lmtp:unix:/run/c" },
	{ "# recipient", NULL },
};

/* write_file - data into path */
static void
write_file(const char *path, const char *data, size_t n)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fwrite(data, 1, n, f) != n || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

/* check_table - every case against the table spec */
static void
check_table(const char *spec)
{
	struct route *r = NULL;
	char *err = NULL, *v;

	if (!ok(route_open(spec, &r, &err) == 0, "%s opens", spec)) {
		diag("%s", err);
		free(err);
		return;
	}
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int got = route_lookup(r, cases[i].rcpt, &v, &err);
		if (cases[i].want) {
			ok(got == 1, "%s: \"%s\" found", spec, cases[i].rcpt);
			is(v ? v : "(null)", cases[i].want, "%s: \"%s\"'s value",
			    spec, cases[i].rcpt);
		} else
			ok(got == 0 && v == NULL, "%s: \"%s\" not found", spec,
			    cases[i].rcpt);
		free(v);
	}
	/* a key as long as a key may be, and one longer */
	{
		char key[ROUTE_KEY_MAX + 2];
		memset(key, 'k', sizeof key - 1);
		key[sizeof key - 1] = '\0';
		ok(route_lookup(r, key, &v, &err) == 0, "%s: a key over %d bytes "
		    "is no key", spec, ROUTE_KEY_MAX);
	}
	route_close(&r);
	ok(r == NULL, "route_close NULLs the pointer");
}

/* refused - spec (from data) does not open, and err matches want */
static void
refused(const char *path, const char *data, size_t n, const char *spec,
    const char *want)
{
	struct route *r = NULL;
	char *err = NULL;

	if (data)
		write_file(path, data, n);
	ok(route_open(spec, &r, &err) == -1 && r == NULL, "%s refused", spec);
	like(err ? err : "", want, "%s: the complaint", spec);
	free(err);
}

int
main(void)
{
	char dir[] = "/tmp/lda-route-XXXXXX", path[256], spec[300], cmd[700];
	int have_cdb = access("/usr/bin/cdb", X_OK) == 0;

	if (mkdtemp(dir) == NULL)
		return perror("mkdtemp"), 1;
	snprintf(path, sizeof path, "%s/routes", dir);
	write_file(path, source, sizeof source - 1);
	snprintf(spec, sizeof spec, "file:%s", path);
	check_table(spec);

	snprintf(cmd, sizeof cmd, "cdb -c -m %s/routes.cdb %s", dir, path);
	if (have_cdb && system(cmd) == 0) {
		/* cdb keeps keys as written: the table's keys in lower case,
		   as lda folds the recipient before it looks */
		char lc[sizeof source];
		for (size_t i = 0; i < sizeof source; i++)
			lc[i] = source[i] >= 'A' && source[i] <= 'Z' ?
			    (char)(source[i] + 32) : source[i];
		write_file(path, lc, sizeof source - 1);
		if (system(cmd) != 0)
			ok(0, "cdb -c -m");
		snprintf(spec, sizeof spec, "cdb:%s/routes.cdb", dir);
		check_table(spec);
	} else
		ok(!getenv("CI"), "tinycdb's cdb is installed (make deps)");

	snprintf(path, sizeof path, "%s/bad", dir);
	snprintf(spec, sizeof spec, "file:%s", path);
	refused(path, "bob lmtp:unix:/a\nbob lmtp:unix:/b\n", 34, spec,
	    "key \"bob\" twice");
	refused(path, "bob lmtp:unix:/a\ncarol\n", 23, spec, ":2: want a key");
	refused(path, "bob lmtp:unix:/a\0\n", 18, spec, "NUL byte");
	snprintf(spec, sizeof spec, "cdb:%s", path);
	refused(path, "short", 5, spec, "not a cdb file");
	{
		/* a header whose first table points far past the end */
		char junk[2100];
		memset(junk, 0xff, sizeof junk);
		write_file(path, junk, sizeof junk);
		{
			struct route *r = NULL;
			char *err = NULL, *v = NULL;
			ok(route_open(spec, &r, &err) == 0, "a 2100-byte file opens "
			    "as a cdb");
			ok(r && route_lookup(r, "bob", &v, &err) == -1,
			    "a pointer past its end: an error, not a guess");
			like(err ? err : "", "past its end", "the complaint says so");
			free(err);
			free(v);
			route_close(&r);
		}
	}
	snprintf(spec, sizeof spec, "cdb:%s/nonexistent", dir);
	refused(path, NULL, 0, spec, "No such file or directory");
	refused(path, NULL, 0, "hash:/etc/routes", "want cdb:/absolute/path");
	refused(path, NULL, 0, "cdb:relative", "want cdb:/absolute/path");
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		diag("could not remove %s", dir);
	return done_testing();
}

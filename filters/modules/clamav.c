/*
 * clamav.c - the clamav.so module: libclamav in-process for lda's clamav
 * filter (filters/clamav.c). Built as a separate shared object so that
 * lda itself never links libclamav and its 34 libraries: it is loaded only
 * when a message is first scanned with the in-process engine.
 * Does: cl_init once, load and compile a signature directory, scan a file
 * descriptor with mail and archive decoding, report the signature name.
 * Does not: talk to clamd, write headers, log (libclamav's own messages
 * are kept, the last error goes into the returned error text).
 */
#include <clamav.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../module.h"

static char last_msg[256];	/* libclamav's last error or warning */

/* mod_err - a malloc()ed "what: reason (libclamav's last words)" */
static char *
mod_err(const char *what, const char *reason)
{
	size_t n = strlen(what) + strlen(reason) + strlen(last_msg) + 8;
	char *s = malloc(n);

	if (s)
		snprintf(s, n, "%s: %s%s%s%s", what, reason,
		    last_msg[0] ? " (" : "", last_msg, last_msg[0] ? ")" : "");
	return s;
}

/* quiet - keep libclamav's messages off stderr; remember the last bad one */
static void
quiet(enum cl_msg severity, const char *fullmsg, const char *msg, void *ctx)
{
	size_t n;

	(void)fullmsg;
	(void)ctx;
	if (severity < CL_MSG_WARN || msg == NULL)
		return;
	snprintf(last_msg, sizeof last_msg, "%s", msg);
	n = strlen(last_msg);
	while (n > 0 && (last_msg[n - 1] == '\n' || last_msg[n - 1] == ' '))
		last_msg[--n] = '\0';
}

/* clam_load - load and compile the signatures under dbdir */
static void *
clam_load(const char *dbdir, const char *tmpdir, unsigned *nsigs_r,
    char **err)
{
	static int inited;
	struct cl_engine *e;
	cl_error_t r;

	*nsigs_r = 0;
	if (!inited) {
		cl_set_clcb_msg(quiet);
		if ((r = cl_init(CL_INIT_DEFAULT)) != CL_SUCCESS) {
			*err = mod_err("cl_init", cl_strerror(r));
			return NULL;
		}
		inited = 1;
	}
	last_msg[0] = '\0';
	if ((e = cl_engine_new()) == NULL) {
		*err = mod_err("cl_engine_new", "out of memory");
		return NULL;
	}
	if (tmpdir)
		cl_engine_set_str(e, CL_ENGINE_TMPDIR, tmpdir);
	r = cl_load(dbdir, e, nsigs_r, CL_DB_STDOPT);
	if (r == CL_SUCCESS && *nsigs_r == 0) {
		*err = mod_err(dbdir, "no signatures");
		cl_engine_free(e);
		return NULL;
	}
	if (r == CL_SUCCESS)
		r = cl_engine_compile(e);
	if (r != CL_SUCCESS) {
		*err = mod_err(dbdir, cl_strerror(r));
		cl_engine_free(e);
		return NULL;
	}
	return e;
}

/* clam_scan - scan fd from its start */
static int
clam_scan(void *engine, int fd, char **virus_r, char **err)
{
	struct cl_scan_options o;
	const char *name = NULL;
	unsigned long scanned = 0;
	cl_error_t r;

	memset(&o, 0, sizeof o);
	o.parse = ~0u;		/* archives, mail, documents: everything */
	last_msg[0] = '\0';
	if (lseek(fd, 0, SEEK_SET) == -1) {
		*err = mod_err("scan", "cannot seek the spool");
		return -1;
	}
	r = cl_scandesc(fd, NULL, &name, &scanned, engine, &o);
	if (r == CL_CLEAN)
		return 0;
	if (r == CL_VIRUS) {
		*virus_r = strdup(name ? name : "unnamed");
		if (*virus_r == NULL) {
			*err = mod_err("scan", "out of memory");
			return -1;
		}
		return 1;
	}
	*err = mod_err("scan", cl_strerror(r));
	return -1;
}

/* clam_unload - free the engine */
static void
clam_unload(void *engine)
{
	if (engine)
		cl_engine_free(engine);
}

/* clam_version - libclamav's version */
static const char *
clam_version(void)
{
	return cl_retver();
}

const struct lda_clamav_module lda_clamav_module = {
	.abi = LDA_CLAMAV_ABI,
	.load = clam_load,
	.scan = clam_scan,
	.unload = clam_unload,
	.version = clam_version,
};

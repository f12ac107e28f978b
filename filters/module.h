/*
 * module.h - the plain C interface between lda and its loadable modules
 * (filters/modules/NAME.c, built as NAME.so, opened with filter_module()).
 * Does: declare one struct per module; each starts with its ABI number.
 * Does not: depend on anything of lda: a module uses only libc and its own
 * library. Strings a module hands back are malloc()ed; lda free()s them.
 */
#ifndef LDA_MODULE_H
#define LDA_MODULE_H

/* clamav.so: libclamav in-process. Symbol "lda_clamav_module". */
#define LDA_CLAMAV_ABI 1
struct lda_clamav_module {
	unsigned abi;
	/* Load every signature file under dbdir and compile the engine;
	   libclamav's scratch files go to tmpdir (NULL: its default).
	   Returns the engine, or NULL with *err. *nsigs_r: signatures. */
	void *(*load)(const char *dbdir, const char *tmpdir,
	    unsigned *nsigs_r, char **err);
	/* Scan the file open at fd from its start (mail and archives are
	   decoded). Returns 1 with *virus_r (the signature's name) when
	   infected, 0 when clean, -1 with *err. */
	int (*scan)(void *engine, int fd, char **virus_r, char **err);
	void (*unload)(void *engine);
	/* libclamav's version, e.g. "1.4.6". */
	const char *(*version)(void);
};

/* spf.so: libspf2. Symbol "lda_spf_module". */
#define LDA_SPF_ABI 1
struct lda_spf_answer {
	char result[16];	/* pass fail softfail neutral none
				   permerror temperror */
	char comment[512];	/* libspf2's header comment, or "" */
	char explanation[512];	/* the domain's explanation on fail, or "" */
	char problem[256];	/* what went wrong (permerror, temperror) */
};
struct lda_spf_module {
	unsigned abi;
	/* A checker. zonefile: answer DNS from this file alone (lines
	   "name TYPE data", TYPE one of A AAAA MX PTR TXT SPF, or "name TYPE
	   !ERROR" with ERROR one of HOST_NOT_FOUND NO_DATA TRY_AGAIN), NULL:
	   the system resolver. receiver: our host name for the comments.
	   Returns it, or NULL with *err. */
	void *(*open)(const char *zonefile, const char *receiver, char **err);
	/* Check sender ("" for <>: the HELO identity is checked) against
	   client address ip and helo. Returns 0 with *a filled, or -1 with
	   *err when no check could be made. */
	int (*check)(void *spf, const char *ip, const char *helo,
	    const char *sender, struct lda_spf_answer *a, char **err);
	void (*close)(void *spf);
};

#endif

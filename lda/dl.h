/*
 * dl.h - shared libraries that only some messages need, loaded on first
 * use instead of linked.
 * Why: the MTA starts lda once per message, and every linked library is
 * opened, mapped and relocated at every start (about 0.05-0.1 ms each on
 * the project's machines, tests/bench/RESULTS.md). So lda links libc
 * alone; libsasl2 (a TCP store asking for AUTH), libssl (a TCP store
 * asking for STARTTLS), TRE (approximate patterns) and libm (weighted
 * size conditions) come in through here the first time a message needs
 * them.
 * Does: dlopen a library by its soname once, resolve a table of symbols.
 * Does not: unload, log, know what the symbols are for.
 */
#ifndef LDA_DL_H
#define LDA_DL_H

#include <stddef.h>

/* One symbol to resolve: its name, and where its address goes. */
struct dl_sym {
	const char *name;
	void **slot;
};

/* A function pointer's slot for struct dl_sym (POSIX's dlsym idiom). */
#define DL_SYM(name, fp) { (name), (void **)&(fp) }

/*
 * Open soname (once: a second call finds it loaded) and fill every slot
 * of syms. Returns 0, or -1 with *err (allocated) naming the library and
 * what failed; then no slot is trusted and the library stays closed.
 */
int dl_load(const char *soname, const struct dl_sym *syms, size_t n,
    char **err);

#endif

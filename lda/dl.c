/*
 * dl.c - shared libraries loaded on first use (see dl.h for why).
 * Does: dlopen by soname with RTLD_NOW | RTLD_LOCAL, dlsym every symbol
 * of a table, all or nothing. Does not: cache handles (the dynamic
 * loader does: a second dlopen of a loaded library is a lookup), unload.
 */
#include <dlfcn.h>
#include <stdlib.h>

#include "dl.h"
#include "xalloc.h"

int
dl_load(const char *soname, const struct dl_sym *syms, size_t n, char **err)
{
	void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	size_t i;

	if (h == NULL)
		return xerr(err, "load %s: %s", soname, dlerror());
	for (i = 0; i < n; i++) {
		if ((*syms[i].slot = dlsym(h, syms[i].name)) == NULL) {
			xerr(err, "%s: no symbol %s", soname, syms[i].name);
			while (i > 0)
				*syms[--i].slot = NULL;
			dlclose(h);
			return -1;
		}
	}
	return 0;
}

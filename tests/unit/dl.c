/*
 * dl.c - unit tests for lda/dl.c: a library opened by soname on first
 * use, every symbol of a table resolved, all or nothing.
 */
#include <stdlib.h>

#include "tap.h"
#include "dl.h"

int
main(void)
{
	double (*cos_fn)(double) = NULL, (*sin_fn)(double) = NULL;
	void *none = NULL;
	char *err = NULL;

	{
		const struct dl_sym syms[] = { DL_SYM("cos", cos_fn),
		    DL_SYM("sin", sin_fn) };
		ok(dl_load("libm.so.6", syms, 2, &err) == 0, "libm by soname: loaded");
		ok(cos_fn != NULL && sin_fn != NULL && cos_fn(0.0) == 1.0 &&
		    sin_fn(0.0) == 0.0, "... and its functions work");
		ok(dl_load("libm.so.6", syms, 2, &err) == 0, "a second load finds it loaded");
	}
	{
		const struct dl_sym syms[] = { DL_SYM("nosuch", none) };
		ok(dl_load("libnosuch-lda.so.9", syms, 1, &err) == -1,
		    "a library that is not there: -1");
		like(err, "load libnosuch-lda.so.9: ", "... naming it and why");
		free(err);
		err = NULL;
	}
	cos_fn = NULL;
	{
		const struct dl_sym syms[] = { DL_SYM("cos", cos_fn),
		    DL_SYM("lda_no_such_symbol", none) };
		ok(dl_load("libm.so.6", syms, 2, &err) == -1,
		    "a symbol that is not there: -1");
		like(err, "libm.so.6: no symbol lda_no_such_symbol", "... naming it");
		ok(cos_fn == NULL && none == NULL, "... and no slot is left filled");
		free(err);
	}
	return done_testing();
}

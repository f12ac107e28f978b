/*
 * re.h - how rc/ reaches the regex engine (rc/regex.h). Until that file
 * is in the tree, a stand-in that compiles no regex keeps the build
 * going: every regex condition is then an error and the recipe skipped.
 * Does: include. Does not: match anything itself.
 */
#ifndef RC_RE_H
#define RC_RE_H

#if defined(__has_include)
#if __has_include("../rc/regex.h")
#define RC_HAVE_REGEX 1
#endif
#endif

#ifdef RC_HAVE_REGEX
#include "../rc/regex.h"
#else
#include <stddef.h>
#include <stdlib.h>
#include <sys/types.h>

#include "../lda/buf.h"
#include "../lda/spool.h"
#include "../lda/xalloc.h"

#define RC_RE_ICASE    0x1
#define RC_RE_EXTENDED 0x2
struct rc_regex;

/* rc_regex_compile - stand-in: no engine yet */
static inline int
rc_regex_compile(const char *pattern, int flags, struct rc_regex **re_r,
    char **err)
{
	(void)pattern;
	(void)flags;
	*re_r = NULL;
	*err = xstrdup("regex engine not built in");
	return -1;
}

/* rc_regex_exec - stand-in: error */
static inline int
rc_regex_exec(const struct rc_regex *re, const char *mem, size_t memlen,
    const struct spool *sp, off_t from, off_t to, struct buf *match_r)
{
	(void)re; (void)mem; (void)memlen; (void)sp; (void)from; (void)to;
	(void)match_r;
	return -1;
}

/* rc_regex_free - stand-in */
static inline void
rc_regex_free(struct rc_regex **rep)
{
	*rep = NULL;
}
#endif

#endif

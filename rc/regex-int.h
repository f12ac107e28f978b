/*
 * regex-int.h - what the files of procmail's regular expressions share
 * (rc/regex*.c) and nobody else sees: the symbols, the tree, the NFA's
 * program, the compiled pattern, the text searched, and the functions one
 * file offers another. The public interface is regex.h.
 * Does: declare; the two hot readers (rx_byte, rx_next) and rx_set_has are
 * inline here, so that the matchers in other files call them as cheaply
 * as before the split. Does not: implement anything else.
 */
#ifndef LDA_RC_REGEX_INT_H
#define LDA_RC_REGEX_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <tre/tre.h>

#include "../lda/buf.h"
#include "../lda/spool.h"
#include "regex.h"

/*
 * Procmail searches a text framed by two newlines it imagines, one before
 * the first byte and one after the last; ^ and $ both match (and consume)
 * a newline, real or imagined, and ^^ matches only the first imagined one
 * or, at the end of a pattern, only the last. Here the imagined newlines
 * are two symbols of their own, RX_BOT and RX_EOT, which every set holding
 * '\n' holds too. A set is over the 256 bytes and these two. TRE sees them
 * as the wide characters 256 and 257; RX_NONE occurs in no text.
 */
#define RX_BOT		256
#define RX_EOT		257
#define RX_NONE		258
#define RX_NSYM		258
#define RX_SETW		((RX_NSYM + 31) / 32)

#define RX_DEPTH_MAX	200		/* nested groups */
#define RX_OPS_MAX	8		/* stacked operators (extended) */
#define RX_PROG_MAX	65536		/* NFA instructions after {n,m} */
#define RX_TRE_MAX	(1024u * 1024)	/* wide characters of TRE pattern */
#define RX_FUZZ_MAX	128		/* rx_size of a pattern with {~...} */
#define RX_FUZZ_OPS	2		/* approximate operators in a pattern */
#define RX_STR_(x)	#x
#define RX_STR(x)	RX_STR_(x)
#define RX_CHUNK	65536		/* spool bytes read at a time */
#define RX_NOSTART	SIZE_MAX	/* a thread that has not crossed \/ */
#define RX_FUZZ_READS	4		/* approximate counting: texts' worth */
#define RX_KNOWN	259		/* rx_sameset's keys */
#define RX_LIT_MAX	32		/* longest required literal kept */
#define RX_LITS		4		/* required literals kept */

struct rx_set {
	uint32_t w[RX_SETW];
};

enum rx_kind {
	RX_SET,		/* one symbol of a set */
	RX_CAT,		/* children in sequence */
	RX_ALT,		/* one of the children */
	RX_STAR, RX_PLUS, RX_OPT,
	RX_REP,		/* {min,max} */
	RX_FUZZ,	/* TRE's approximate {~...}, kept as text */
	RX_BOM,		/* \/ */
	RX_ANCHOR	/* ^^, until rx_ends decides which */
};

struct rx_node {
	enum rx_kind kind;
	int kid;		/* first child, -1 for none */
	int next;		/* next child of the same parent, -1 for none */
	int set;		/* RX_SET: index into the sets */
	int min, max;		/* RX_REP: bounds; max -1 is unbounded */
	size_t off, len;	/* RX_FUZZ: the text between { and } */
};

/* The fixed sets: the two anchors of ^^. The closing one matches where
   the text ends, without taking the closing newline (rx_step); by a quirk
   of procmail's it also takes the opening one. */
#define RX_SET_BOT	0
#define RX_SET_EOT	1

struct rx_parse {
	const char *s, *p, *end;	/* pattern, cursor, end */
	int icase, ext, depth;
	struct rx_node *node;
	size_t nnode, capnode;
	struct rx_set *set;
	size_t nset, capset;
	int bom, fuzz;			/* seen \/, {~...} seen (how many) */
	int known[RX_KNOWN];		/* rx_sameset: 1 + a set, or 0 */
	char *err;
	char *warn;			/* procmail's recovery (rx_recover) */
};

enum rx_op { OP_SET, OP_CHAR, OP_SPLIT, OP_JMP, OP_BOM, OP_EOTX,
	OP_MATCH };

struct rx_inst {
	int op;
	int x, y;	/* SET, EOTX: x is the set; CHAR: symbol x or y;
			   SPLIT: x, then y; JMP: x */
};

/* A run of literal bytes, in sequence. */
struct rx_run {
	unsigned char s[RX_LIT_MAX], fold[RX_LIT_MAX];
	size_t n;
};

struct rc_regex {
	regex_t tre;
	int has_tre;		/* tre is compiled (approximate matching) */
	int has_bom;		/* \/ in the pattern */
	int capture;		/* TRE group 1 is MATCH (approximate + \/) */
	struct rx_inst *prog;	/* NULL with approximate matching */
	size_t nprog;
	unsigned char *bomreach; /* per pc: \/ is reachable without input
				    (NULL without \/) */
	struct rx_set *sets;
	size_t nsets;
	struct rx_inst *pair;	/* while compiling: per set, OP_CHAR or not */
	/* Strings every match holds, in the pattern's order (rx_lit_find):
	   bytes, and per byte 0x20 when either case of that letter will do. */
	struct rx_run *lits;
	size_t nlits;
	int exact;		/* the pattern is lits[0], nothing else */
	char *warn;		/* rc_regex_warning, or NULL */
};

/* The text searched: mem, then [from, from + len - memlen) of the spool. */
struct rx_text {
	const char *mem;
	size_t memlen;
	const struct spool *sp;
	off_t from;
	size_t len;
	unsigned char *buf;	/* spool chunk, RX_CHUNK bytes, or NULL */
	size_t boff, blen;	/* text offset of buf[0], bytes in buf */
	int err;		/* errno of a failed read */
	size_t nread;		/* symbols read by all searches so far */
};

/* One pass over the symbols of the text, from some offset on. */
struct rx_reader {
	struct rx_text *t;
	int lead;		/* a symbol before t[pos], or -1 */
	size_t pos;		/* next text offset */
	int eot;		/* RX_EOT is still to come */
	long long base;		/* text offset of the first symbol */
};

/* ---- sets (regex-parse.c builds them) ---- */

/* rx_set_has - whether symbol c is in s */
static inline int
rx_set_has(const struct rx_set *s, unsigned c)
{
	return (s->w[c / 32] >> (c % 32)) & 1;
}

/* ---- parsing (regex-parse.c) ---- */

/* procmail's keywords in pattern replaced, onto b (*icase set by
   ^FROM_DAEMON); 0, or -1 past RC_REGEX_MAX */
int rx_expand(struct buf *b, const char *pattern, int *icase);
/* the whole pattern ps->s .. ps->end as a tree; the root node, or -1
   with ps->err */
int rx_parse_all(struct rx_parse *ps);

/* ---- the NFA and procmail's matcher (regex-nfa.c) ---- */

/* instructions node n compiles to, RX_PROG_MAX + 1 past the limit */
size_t rx_size(const struct rx_parse *ps, int n);
/* re->pair: which of re->sets are one symbol, or a letter in both cases */
void rx_nfa_pairs(struct rc_regex *re);
/* re->prog from the tree (size: rx_size of root); frees re->pair */
void rx_nfa_gen(struct rc_regex *re, const struct rx_parse *ps, int root,
    size_t size);
/* keep only the sets the program tests */
void rx_keep_sets(struct rc_regex *re);
/* procmail's bregexec over r's symbols: 1 with the match (in the
   reader's symbols) and whether it crossed \/, 0, or -1 (errno) */
int rx_vm_find(const struct rc_regex *re, struct rx_reader *r, size_t *bom_r,
    size_t *eom_r, int *crossed_r);

/* ---- TRE, for approximate patterns (regex-tre.c) ---- */

/* compile the tree for TRE (loading TRE first); 0 or -1 with *err */
int rx_tre_compile(struct rc_regex *re, const struct rx_parse *ps, int root,
    char **err);
/* TRE over r's symbols: 1 with pm[0..nm), 0, or -1 with errno */
int rx_tre_search(const struct rc_regex *re, struct rx_reader *r, size_t nm,
    regmatch_t *pm);
/* free what rx_tre_compile made */
void rx_tre_free(regex_t *tre);

/* ---- the required literals, a prefilter (regex-lit.c) ---- */

/* re->lits from the tree (after rx_nfa_pairs; none when approximate) */
void rx_lit(struct rc_regex *re, const struct rx_parse *ps, int root);
/* 1 when the text holds all of re->lits, 0 when it cannot match, -1 */
int rx_lit_find(const struct rc_regex *re, struct rx_text *t);

/* ---- the text (regex-text.c) ---- */

int rx_text_init(struct rx_text *t, const char *mem, size_t memlen,
    const struct spool *sp, off_t from, off_t to);
int rx_fill(struct rx_text *t, size_t off);
void rx_reader_init(struct rx_reader *r, struct rx_text *t, size_t p);

/* rx_byte - the text's byte at off; -1 on a read error */
static inline int
rx_byte(struct rx_text *t, size_t off)
{
	if (off < t->memlen)
		return (unsigned char)t->mem[off];
	if (off < t->boff || off >= t->boff + t->blen || t->blen == 0)
		if (t->err || rx_fill(t, off) == -1)
			return -1;
	return t->buf[off - t->boff];
}

/* rx_next - the next symbol, or -1 at the end or on a read error */
static inline int
rx_next(struct rx_reader *r)
{
	int c;

	r->t->nread++;
	if (r->lead != -1) {
		c = r->lead;
		r->lead = -1;
		return c;
	}
	if (r->pos < r->t->len)
		return rx_byte(r->t, r->pos++);
	if (r->eot) {
		r->eot = 0;
		return RX_EOT;
	}
	return -1;
}

#endif

/*
 * regex-nfa.c - procmail's NFA: the tree compiled by Thompson's
 * construction into a small program, and procmail's matcher over it
 * (its bregexec): threads in procmail's order, the earliest-ending match,
 * $MATCH after \/ with procmail's quirks, the end of the match for
 * counting.
 * Does: compile (rx_nfa_pairs, rx_nfa_gen, rx_keep_sets) and run
 * (rx_vm_find) over a reader's symbols (regex-text.c).
 * Does not: parse, read the text itself, approximate matching (TRE).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../lda/xalloc.h"
#include "regex-int.h"

/* ---- the NFA ---- */

/* rx_size - instructions node n compiles to, saturating past the limit */
size_t
rx_size(const struct rx_parse *ps, int n)
{
	const struct rx_node *nd = &ps->node[n];
	size_t s = 0, k;

	switch (nd->kind) {
	case RX_CAT:
	case RX_ALT:
		for (int c = nd->kid; c != -1; c = ps->node[c].next)
			s += rx_size(ps, c) + 2;
		break;
	case RX_REP:
		k = nd->max > nd->min ? (size_t)nd->max : (size_t)nd->min;
		s = (rx_size(ps, nd->kid) + 2) * (k + 1);
		break;
	case RX_STAR:
	case RX_PLUS:
	case RX_OPT:
	case RX_FUZZ:
		s = rx_size(ps, nd->kid) + 2;
		break;
	default:
		s = 1;
		break;
	}
	return s > RX_PROG_MAX ? RX_PROG_MAX + 1 : s;
}

/* rx_emit - append an instruction; its index */
static int
rx_emit(struct rc_regex *re, int op, int x, int y)
{
	struct rx_inst *i = &re->prog[re->nprog];

	i->op = op;
	i->x = x;
	i->y = y;
	return (int)re->nprog++;
}

static void rx_gen(struct rc_regex *re, const struct rx_parse *ps, int n);

/* rx_patch - point the chain of x (or y) fields starting at i to to */
static void
rx_patch(struct rc_regex *re, int i, int y, int to)
{
	while (i != -1) {
		int *f = y ? &re->prog[i].y : &re->prog[i].x, next = *f;
		*f = to;
		i = next;
	}
}

/*
 * rx_gen_alt - a|b|c: a SPLIT tries each alternative before the next,
 * each JMPs to the end. An empty alternative (not the last) is tried
 * after the ones that follow it, as procmail's "special epsilon" is.
 */
static void
rx_gen_alt(struct rc_regex *re, const struct rx_parse *ps, int n)
{
	int jumps = -1, empties = -1;

	for (int c = ps->node[n].kid; c != -1; c = ps->node[c].next) {
		int split;
		if (ps->node[c].next == -1) {
			rx_gen(re, ps, c);
			break;
		}
		if (ps->node[c].kind == RX_CAT && ps->node[c].kid == -1) {
			empties = rx_emit(re, OP_SPLIT, (int)re->nprog + 1,
			    empties);
			continue;
		}
		split = rx_emit(re, OP_SPLIT, (int)re->nprog + 1, 0);
		rx_gen(re, ps, c);
		/* The JMP's x chains the JMPs to patch below. */
		jumps = rx_emit(re, OP_JMP, jumps, 0);
		re->prog[split].y = (int)re->nprog;
	}
	rx_patch(re, jumps, 0, (int)re->nprog);
	rx_patch(re, empties, 1, (int)re->nprog);
}

/* rx_gen_loop - a* (plus: a+, opt: a?) */
static void
rx_gen_loop(struct rc_regex *re, const struct rx_parse *ps, int kid,
    enum rx_kind k)
{
	int top = (int)re->nprog, split = -1;

	if (k != RX_PLUS)
		split = rx_emit(re, OP_SPLIT, top + 1, 0);
	rx_gen(re, ps, kid);
	if (k == RX_STAR)
		rx_emit(re, OP_JMP, top, 0);
	if (k == RX_PLUS)	/* procmail tries the way on before the loop */
		rx_emit(re, OP_SPLIT, (int)re->nprog + 1, top);
	else
		re->prog[split].y = (int)re->nprog;
}

/* rx_set_pair - whether set s holds one or two symbols (a literal,
   maybe in both cases): *a_r and *b_r (the same when one) */
static int
rx_set_pair(const struct rx_set *s, int *a_r, int *b_r)
{
	int n = 0;

	for (unsigned i = 0; i < RX_SETW; i++) {
		uint32_t w = s->w[i];
		while (w != 0) {
			int c = (int)(i * 32 + (unsigned)__builtin_ctz(w));
			w &= w - 1;
			if (++n > 2)
				return 0;
			if (n == 1)
				*a_r = *b_r = c;
			else
				*b_r = c;
		}
	}
	return n > 0;
}

/* rx_gen - Thompson's construction for node n */
static void
rx_gen(struct rc_regex *re, const struct rx_parse *ps, int n)
{
	const struct rx_node *nd = &ps->node[n];

	switch (nd->kind) {
	case RX_SET:
		if (re->pair[nd->set].op == OP_CHAR)
			rx_emit(re, OP_CHAR, re->pair[nd->set].x,
			    re->pair[nd->set].y);
		else
			rx_emit(re, nd->set == RX_SET_EOT ? OP_EOTX : OP_SET,
			    nd->set, 0);
		break;
	case RX_CAT:
		for (int c = nd->kid; c != -1; c = ps->node[c].next)
			rx_gen(re, ps, c);
		break;
	case RX_ALT:
		rx_gen_alt(re, ps, n);
		break;
	case RX_STAR:
	case RX_PLUS:
	case RX_OPT:
		rx_gen_loop(re, ps, nd->kid, nd->kind);
		break;
	case RX_REP:
		for (int i = 0; i < nd->min; i++)
			rx_gen(re, ps, nd->kid);
		if (nd->max == -1)
			rx_gen_loop(re, ps, nd->kid, RX_STAR);
		for (int i = nd->min; i < nd->max; i++)
			rx_gen_loop(re, ps, nd->kid, RX_OPT);
		break;
	case RX_BOM:
		rx_emit(re, OP_BOM, 0, 0);
		break;
	default:		/* RX_FUZZ never gets here; RX_ANCHOR is gone */
		break;
	}
}

/* rx_eps - the i-th move without input out of instruction pc, or -1 */
static int
rx_eps(const struct rx_inst *in, int pc, int i)
{
	switch (in->op) {
	case OP_JMP: return i == 0 ? in->x : -1;
	case OP_SPLIT: return i == 0 ? in->x : i == 1 ? in->y : -1;
	case OP_BOM: return i == 0 ? pc + 1 : -1;
	default: return -1;
	}
}

/*
 * rx_bomreach - mark the instructions from which a \/ can be reached
 * without input (rx_closure skips a part it has already explored, but
 * must still know whether that part would have crossed \/). Repeated
 * passes over the program until nothing changes; a pass in reverse
 * order settles forward edges at once, so few passes are needed.
 */
static void
rx_bomreach(struct rc_regex *re)
{
	int n = (int)re->nprog, changed = 1;

	re->bomreach = xcalloc((size_t)n, 1);
	while (changed) {
		changed = 0;
		for (int pc = n - 1; pc >= 0; pc--) {
			const struct rx_inst *in = &re->prog[pc];
			int r = in->op == OP_BOM;
			for (int i = 0, to; !r && (to = rx_eps(in, pc, i)) >= 0;
			    i++)
				r = re->bomreach[to];
			if (r && !re->bomreach[pc])
				re->bomreach[pc] = 1, changed = 1;
		}
	}
}

/* rx_nfa_pairs - the sets that are one symbol, or a letter in both
   cases (see regex-int.h) */
void
rx_nfa_pairs(struct rc_regex *re)
{
	re->pair = xreallocarray(NULL, re->nsets, sizeof *re->pair);
	for (size_t i = 0; i < re->nsets; i++)
		re->pair[i].op = i != RX_SET_EOT &&
		    rx_set_pair(&re->sets[i], &re->pair[i].x,
		    &re->pair[i].y) ? OP_CHAR : OP_SET;
}

/* rx_nfa_gen - the program for the tree (see regex-int.h) */
void
rx_nfa_gen(struct rc_regex *re, const struct rx_parse *ps, int root,
    size_t size)
{
	re->prog = xreallocarray(NULL, size + 1, sizeof *re->prog);
	rx_gen(re, ps, root);
	free(re->pair);
	re->pair = NULL;
	rx_emit(re, OP_MATCH, 0, 0);
	re->prog = xreallocarray(re->prog, re->nprog, sizeof *re->prog);
	if (re->has_bom)
		rx_bomreach(re);
}

/* rx_keep_sets - keep only the sets the NFA's SET and EOTX test (none
   with approximate matching: TRE has its own) */
void
rx_keep_sets(struct rc_regex *re)
{
	int *map = xreallocarray(NULL, re->nsets ? re->nsets : 1, sizeof *map);
	struct rx_set *kept;
	size_t n = 0;

	for (size_t i = 0; i < re->nsets; i++)
		map[i] = -1;
	for (size_t pc = 0; pc < re->nprog; pc++) {
		struct rx_inst *in = &re->prog[pc];
		if (in->op == OP_SET || in->op == OP_EOTX) {
			if (map[in->x] == -1)
				map[in->x] = (int)n++;
			in->x = map[in->x];
		}
	}
	kept = n ? xreallocarray(NULL, n, sizeof *kept) : NULL;
	for (size_t i = 0; i < re->nsets; i++)
		if (map[i] != -1)
			kept[map[i]] = re->sets[i];
	free(re->sets);
	free(map);
	re->sets = kept;
	re->nsets = n;
}

/* ---- procmail's matcher, for \/ and counting ---- */

struct rx_thread {
	int pc;
	size_t start;		/* where \/ was crossed, or RX_NOSTART */
};

struct rx_vm {
	const struct rc_regex *re;
	struct rx_thread *cur, *nxt;	/* the last one is processed first */
	size_t ncur, nnxt, left;	/* left: cur[0..left) still to do */
	size_t *seen[2];	/* per pc and found: step it was explored */
	size_t *low[2];		/* ... with the lowest start so far */
	size_t *inxt;		/* per SET pc: step it entered nxt */
	size_t *slot;		/* ... at this index */
	int *stack;
	size_t nstack, capstack;
	size_t step;
	size_t pend;		/* \/ crossed here or later does not count */
	int found, stop, crossed;
	size_t bom, eom;	/* the match, in the reader's symbols */
};

/* rx_push - push pc on the closure stack */
static void
rx_push(struct rx_vm *vm, int pc)
{
	if (vm->nstack == vm->capstack) {
		vm->capstack = vm->capstack ? 2 * vm->capstack : 64;
		vm->stack = xreallocarray(vm->stack, vm->capstack,
		    sizeof *vm->stack);
	}
	vm->stack[vm->nstack++] = pc;
}

/* rx_clean - procmail's cleantail on a list: drop the threads that
   crossed \/ after bom, and reverse the order of the rest (as its list
   walk does); returns the new length */
static size_t
rx_clean(struct rx_thread *t, size_t n, size_t bom)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (t[i].start <= bom)
			t[k++] = t[i];
	for (size_t i = 0; i < k / 2; i++) {
		struct rx_thread x = t[i];
		t[i] = t[k - 1 - i];
		t[k - 1 - i] = x;
	}
	return k;
}

/*
 * rx_fin - a thread reached the end of the pattern at pos. Without \/
 * crossed, procmail stops at once: the earliest end of any match. With
 * it, the match is fixed (or grows); threads that crossed \/ later are
 * dropped and no new ones start.
 */
static void
rx_fin(struct rx_vm *vm, size_t start, size_t pos)
{
	if (start == RX_NOSTART) {
		vm->found = vm->stop = 1;
		vm->crossed = 0;
		vm->eom = pos;
		return;
	}
	vm->found = vm->crossed = 1;
	vm->bom = start;
	vm->eom = pos;
	vm->left = rx_clean(vm->cur, vm->left, start);
	vm->nnxt = rx_clean(vm->nxt, vm->nnxt, start);
	for (size_t i = 0; i < vm->nnxt; i++)
		vm->slot[vm->nxt[i].pc] = i;
}

/* rx_keep - a SET state that matched enters nxt, or lowers the start of
   the one there (procmail: the earlier \/ wins) */
static void
rx_keep(struct rx_vm *vm, int pc, size_t start)
{
	if (vm->inxt[pc] == vm->step && vm->slot[pc] < vm->nnxt &&
	    vm->nxt[vm->slot[pc]].pc == pc) {
		if (start < vm->nxt[vm->slot[pc]].start)
			vm->nxt[vm->slot[pc]].start = start;
		return;
	}
	vm->inxt[pc] = vm->step;
	vm->slot[pc] = vm->nnxt;
	vm->nxt[vm->nnxt].pc = pc;
	vm->nxt[vm->nnxt++].start = start;
}

/* rx_seen - whether pc was explored in this step with a start no higher
   (exploring it again could only add worse states); else note it */
static int
rx_seen(struct rx_vm *vm, int pc, size_t start)
{
	int f = vm->found;

	if (vm->seen[f][pc] == vm->step && vm->low[f][pc] <= start)
		return 1;
	vm->seen[f][pc] = vm->step;
	vm->low[f][pc] = start;
	return 0;
}

/* rx_test - instruction in meets symbol sym at pos during a closure */
static void
rx_test(struct rx_vm *vm, int pc, size_t start, int sym, size_t pos)
{
	const struct rx_inst *in = &vm->re->prog[pc];

	/* The closing ^^ is the end of the pattern when the closing newline
	   is due; elsewhere it is procmail's BOTEXT (rx_parse_all). */
	if (in->op == OP_CHAR) {
		if (sym == in->x || sym == in->y)
			rx_keep(vm, pc, start);
	} else if (in->op == OP_EOTX && sym == RX_EOT)
		rx_fin(vm, start, pos);
	else if (sym >= 0 && rx_set_has(&vm->re->sets[in->x], (unsigned)sym))
		rx_keep(vm, pc, start);
}

/*
 * rx_closure - explore one thread at pos, as procmail's bregexec does:
 * depth first, in procmail's order, carrying one start along, testing
 * each state that takes a symbol against sym. Crossing \/ sets the start
 * (unless the match is fixed, or the closing newline is past), and the
 * branches explored after that keep the new start though they did not
 * cross \/ themselves: how "a+\/b*" gives MATCH "aabb" on "aaabb", the
 * quirk behind procmail's "some non-optimal regexps set MATCH to an
 * incorrect value".
 */
static void
rx_closure(struct rx_vm *vm, int pc, size_t start, int sym, size_t pos)
{
	size_t here = pos < vm->pend ? pos : RX_NOSTART;

	rx_push(vm, pc);
	while (vm->nstack > 0 && !vm->stop) {
		const struct rx_inst *in;
		pc = vm->stack[--vm->nstack];
		if (rx_seen(vm, pc, start)) {
			if (!vm->found && vm->re->bomreach != NULL &&
			    vm->re->bomreach[pc])
				start = here;
			continue;
		}
		in = &vm->re->prog[pc];
		switch (in->op) {
		case OP_JMP: rx_push(vm, in->x); break;
		case OP_SPLIT:
			rx_push(vm, in->y);
			rx_push(vm, in->x);
			break;
		case OP_BOM:
			if (!vm->found)
				start = here;
			rx_push(vm, pc + 1);
			break;
		case OP_MATCH: rx_fin(vm, start, pos); break;
		default: rx_test(vm, pc, start, sym, pos); break;
		}
	}
	vm->nstack = 0;
}

/*
 * rx_step - the symbol sym at pos (-1: the step after the last one, which
 * only finds matches that ended there): a new thread first while no match
 * is fixed, then the threads of the last step, the last one first, as
 * procmail's lists go. What takes sym goes on in nxt.
 */
static void
rx_step(struct rx_vm *vm, int sym, size_t pos)
{
	struct rx_thread *t, th;

	vm->step++;
	vm->nnxt = 0;
	vm->left = vm->ncur;
	if (!vm->found)
		rx_closure(vm, 0, RX_NOSTART, sym, pos);
	while (vm->left > 0 && !vm->stop) {
		th = vm->cur[--vm->left];
		rx_closure(vm, th.pc + 1, th.start, sym, pos);
	}
	vm->ncur = vm->nnxt;
	t = vm->cur;
	vm->cur = vm->nxt;
	vm->nxt = t;
}

/*
 * rx_vm_run - procmail's bregexec over r's symbols: threads start at
 * every symbol until a match is fixed, then the match grows while
 * threads that crossed \/ no later than it live. Returns 1 with
 * bom/eom/crossed set, 0, or -1 on a read error.
 */
static int
rx_vm_run(struct rx_vm *vm, struct rx_reader *r)
{
	size_t pos = 0;
	int sym = 0;

	while (!vm->stop && (vm->ncur > 0 || !vm->found) && sym >= 0) {
		sym = rx_next(r);
		rx_step(vm, sym, pos++);
	}
	if (r->t->err) {
		errno = r->t->err;
		return -1;
	}
	return vm->found;
}

/* rx_vm_find - run the matcher on r's symbols; see rx_vm_run */
int
rx_vm_find(const struct rc_regex *re, struct rx_reader *r, size_t *bom_r,
    size_t *eom_r, int *crossed_r)
{
	struct rx_vm vm;
	size_t n = re->nprog;
	int found;

	memset(&vm, 0, sizeof vm);
	vm.re = re;
	vm.pend = (size_t)((long long)r->t->len + 1 - r->base);
	vm.cur = xreallocarray(NULL, n, sizeof *vm.cur);
	vm.nxt = xreallocarray(NULL, n, sizeof *vm.nxt);
	for (int f = 0; f < 2; f++) {
		vm.seen[f] = xcalloc(n, sizeof *vm.seen[f]);
		vm.low[f] = xreallocarray(NULL, n, sizeof *vm.low[f]);
	}
	vm.inxt = xcalloc(n, sizeof *vm.inxt);
	vm.slot = xreallocarray(NULL, n, sizeof *vm.slot);
	found = rx_vm_run(&vm, r);
	*bom_r = vm.bom;
	*eom_r = vm.eom;
	*crossed_r = vm.crossed;
	free(vm.cur);
	free(vm.nxt);
	for (int f = 0; f < 2; f++) {
		free(vm.seen[f]);
		free(vm.low[f]);
	}
	free(vm.inxt);
	free(vm.slot);
	free(vm.stack);
	return found;
}

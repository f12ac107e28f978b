#!/usr/bin/env bash
# fuzz.t - a short run of every harness in tests/fuzz/ (built by make
# check into $LDA_BUILD/tests/fuzz/): random regex patterns and texts,
# random rc files through the parser, and random messages through the
# spool and the store repairs, each checked against what the code
# promises (see the harness's own comment). A fixed
# seed, so a failure repeats; FUZZ_ITERATIONS (default 20000) and
# FUZZ_SEED widen the run. Under make check SANITIZE=1 the harnesses are
# built with ASan and UBSan too.
. "$LDA_TOP/tests/integration/lib.sh"

iters=${FUZZ_ITERATIONS:-20000} seed=${FUZZ_SEED:-1}
n=0
for src in "$LDA_TOP"/tests/fuzz/*.c; do
	name=$(basename "$src" .c)
	bin=$LDA_BUILD/tests/fuzz/$name
	n=$((n + 1))
	if [ ! -x "$bin" ]; then
		ok 1 "$name: built ($bin)"
		continue
	fi
	out=$(timeout 300 "$bin" "$iters" "$seed" 2>&1)
	st=$?
	is "$st" 0 "$name: $iters random inputs (seed $seed) without a crash or a broken promise" ||
		diag "$(printf '%s' "$out" | tail -n 5)"
	like "$out" "^$iters inputs" "$name: it ran them all"
done
ok $([ "$n" -ge 4 ]; echo $?) "the harnesses were found ($n)"

done_testing

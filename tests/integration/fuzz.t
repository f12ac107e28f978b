#!/usr/bin/env bash
# fuzz.t - a short run of every harness in tests/fuzz/ (built by make
# check into $LDA_BUILD/tests/fuzz/): its seed corpus replayed
# (tests/fuzz/corpus/NAME/, where each crash a campaign found stays as a
# regression-* input), then random inputs made of pieces of its syntax -
# regex patterns and texts, rc files through the parser and through the
# evaluator, messages through the spool and the store repairs, replies of
# an LMTP store, spamd and clamd, Received fields for SPF - each checked
# against what the code promises (see the harness's own comment). A fixed
# seed, so a failure repeats; FUZZ_ITERATIONS (default 20000; the harnesses
# that talk over a socket take a tenth) and FUZZ_SEED widen the run. Under
# make check SANITIZE=1 the harnesses are built with ASan and UBSan too.
# make fuzz runs them under libFuzzer instead (a campaign, not a test).
. "$LDA_TOP/tests/integration/lib.sh"

iters=${FUZZ_ITERATIONS:-20000} seed=${FUZZ_SEED:-1}
n=0
for src in "$LDA_TOP"/tests/fuzz/*.c; do
	name=$(basename "$src" .c)
	bin=$LDA_BUILD/tests/fuzz/$name
	corpus=$LDA_TOP/tests/fuzz/corpus/$name
	n=$((n + 1))
	if [ ! -x "$bin" ]; then
		ok 1 "$name: built ($bin)"
		continue
	fi
	if [ -d "$corpus" ] && [ -n "$(ls -A "$corpus")" ]; then
		out=$(cd "$T" && timeout 300 "$bin" "$corpus"/* 2>&1)
		is "$?" 0 "$name: its seed corpus ($(ls "$corpus" | wc -l) inputs) keeps every promise" ||
			diag "$(printf '%s' "$out" | tail -n 5)"
	else
		ok 1 "$name: a seed corpus in tests/fuzz/corpus/$name"
	fi
	k=$iters
	case $name in lmtp_fuzz|spamd_fuzz|clamd_fuzz) k=$((iters / 10)) ;; esac
	out=$(cd "$T" && timeout 300 "$bin" "$k" "$seed" 2>&1)
	st=$?
	is "$st" 0 "$name: $k random inputs (seed $seed) without a crash or a broken promise" ||
		diag "$(printf '%s' "$out" | tail -n 5)"
	like "$out" "^$k inputs" "$name: it ran them all"
done
ok $([ "$n" -ge 9 ]; echo $?) "the harnesses were found ($n)"

done_testing

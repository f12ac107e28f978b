# fault-lib.sh - shared by the tests that script a faulty LMTP store with
# tests/peers/lmtp-fault.py (after lib.sh; $P is tests/peers, $PY python3):
# hello writes a script's greeting and LHLO, peer starts the scripted
# store. Not a test itself.

# hello [CAP...]: the start of every script, greeting and LHLO offering
# the CAPs and PIPELINING ("-" as the first CAP: no PIPELINING)
hello() {
	local last="PIPELINING" c
	[ "${1:-}" = - ] && { last=HELP; shift; }
	printf '%s\n' '> 220 fault.test LMTP ready' '< LHLO ' '> 250-fault.test' \
		'> 250-ENHANCEDSTATUSCODES' '> 250-8BITMIME'
	for c in "$@"; do echo "> 250-$c"; done
	echo "> 250 $last"
}
# peer NAME [--tcp ADDR]: start lmtp-fault.py with script $T/NAME.script
# on $T/NAME.sock (or ADDR:0); waits until it listens (30 s at most)
peer() {
	local name=$1 where=$T/$1.sock
	[ "${2:-}" = --tcp ] && where=$3:0
	rm -f "$T/$name.log" "$T/$name.log.ready" "$T/$name.log.port"
	$PY "$P/lmtp-fault.py" --timeout 20 "$where" "$T/$name.script" "$T/$name.log" &
	pid=$!
	for _ in $(seq 600); do [ -e "$T/$name.log.ready" ] && break; sleep 0.05; done
	[ -e "$T/$name.log.ready" ] || diag "peer $name: not listening after 30 s"
}

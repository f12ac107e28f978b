#!/usr/bin/env bash
# filters.t - a spamd or clamd that stalls (accepts, reads, never
# answers) or is killed in the middle of a scan (closes without a reply),
# under both failure policies: fail open delivers once, unscanned, and
# says so in X-LDA-Unscanned; fail closed exits 75 with nothing delivered,
# and the retry (the daemon back as fail open lets it) leaves exactly one
# copy. The daemons are scripted here (a stall on demand); the real
# spamd and clamd faults are in tests/integration/filter-*.t. About 10 s.
. "$LDA_TOP/tests/integration/lib.sh"
PY=/usr/bin/python3; [ -x $PY ] || PY=python3

msg "$T/m" filters
H=$T/home; mkdir -p "$H"
# peer MODE SOCK - a daemon that "stall"s or "kill"s each connection
peer() {
	rm -f "$2"
	$PY - "$1" "$2" <<'PYEOF' &
import socket, sys, time
mode, path = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX)
s.bind(path); s.listen(8)
open(path + ".ready", "w").close()
s.settimeout(30)
while True:
    try:
        c, _ = s.accept()
    except OSError:
        break
    c.recv(4096)
    if mode == "stall":
        time.sleep(20)
    c.close()
PYEOF
	peer_pid=$!
	at_exit "kill $peer_pid"
	for _ in $(seq 100); do [ -e "$2.ready" ] && break; sleep 0.05; done
}
# run NAME SETTINGS... - lda with a system rc of SETTINGS into $H/Maildir
run() {
	local name=$1; shift
	printf '%s\n' "DEFAULT=$H/Maildir/" "$@" >"$T/sys.rc"
	st=0
	HOME=$H "$LDA" --config "$T/sys.rc" <"$T/m" >"$T/out" 2>/dev/null || st=$?
}
for f in spamd clamd; do
	for mode in stall kill; do
		sock=$T/$f-$mode.sock; peer "$mode" "$sock"
		if [ $f = spamd ]; then
			set -- "SPAMD=unix:$sock" FILTERS=spamassassin SPAMD_TIMEOUT=2
			pol=SPAMD_FAILURE
		else
			set -- "CLAMD=unix:$sock" FILTERS=clamav CLAMD_TIMEOUT=2
			pol=CLAMAV_FAILURE
		fi
		rm -rf "$H/Maildir"
		run x "$@" "$pol=closed"
		is "$st:$(maildir_count "$H/Maildir")" 75:0 "$f $mode, fail closed: 75, nothing delivered"
		run x "$@" "$pol=open"
		is "$st:$(maildir_count "$H/Maildir")" 0:1 "$f $mode, fail open: the retry delivers exactly one copy"
		like "$(sed '/^$/q' "$(maildir_one "$H/Maildir")")" "X-LDA-Unscanned: (spamassassin|clamav)" \
			"$f $mode, fail open: X-LDA-Unscanned says so"
		kill "$peer_pid" 2>/dev/null
	done
done

done_testing

#!/usr/bin/env bash
# store.t - a real Cyrus (and Dovecot) that fails under lda: its socket
# gone (stopped), all of it stopped (SIGSTOP: a stall), its lmtpd killed
# in the middle of the data, the reply lost after it committed (lda
# killed after the final dot), over quota, failover to a second store,
# DEADLINE against a stalled store.
# After each: what the store holds, and that the MTA's retry ends with
# exactly one copy -- or, where the store cannot tell a retry from a new
# message (no Date, or no Message-ID, or Dovecot), the duplicate README
# "Faults" documents. Needs root; about 30 s.
. "$LDA_TOP/tests/integration/lib.sh"
. "$LDA_TOP/tests/faults/lib.sh"

P=$LDA_TOP/tests/peers
if [ "$(id -u)" != 0 ]; then skip_all "needs root"; fi
[ -x /usr/lib/cyrus/bin/master ] || skip_all "cyrus not installed"
[ -x /usr/sbin/dovecot ] || skip_all "dovecot not installed"
CD=$T/cyrus; mkdir -p "$CD"
out=$("$P/cyrus-up.sh" "$CD" 2>&1) || { echo "Bail out! cyrus-up.sh: $out"; exit 1; }
at_exit "'$P/cyrus-down.sh' '$CD'"
. "$CD/env"
SOCK=$CYRUS_LMTP_SOCK
test_user SVC fsvc || { echo "Bail out! cannot make a test user"; exit 1; }
chmod 777 "$T"

n=0
# mk FILE [nodate|nomid] - a message with a fresh Message-ID and a Date
mk() {
	n=$((n + 1)); MID="<f$n.$$.$(date +%s%N)@faults-store>"
	{ [ "${2:-}" = nomid ] || echo "Message-ID: $MID"
	  [ "${2:-}" = nodate ] || echo "Date: Sat, 21 Nov 2026 10:00:00 +0000"
	  printf 'From: a@example.org\nSubject: fault %d\n\nBody %s %d.\n' "$n" "$$" "$n"; } >"$1"
}
# copies FILE - how many copies of FILE's body the Cyrus spool holds
copies() { grep -rlF "$(tail -n 1 "$1")" "$CYRUS_SPOOL" 2>/dev/null | grep -c '/[0-9]*\.$'; }
# lda_as ARGS... - lda as the service user for bob; $st, $out
lda_as() {
	st=0
	out=$(cd / && runuser -u "$SVC" -- env ${FAULT:+LD_PRELOAD=$SHIM LDA_FAULT=$FAULT} \
		${LDA_FAULT_MARK:+LDA_FAULT_MARK=$LDA_FAULT_MARK} \
		"$LDA" -f s@example.org "$@" <"$IN" 2>/dev/null) || st=$?
}
cyrus_pids() { pgrep -s "$(ps -o sid= "$(cat "$CD/master.pid")" | tr -d ' ')" 2>/dev/null; }

# --- the store stopped (its socket gone) ---------------------------------------------
IN=$T/m1; mk "$IN"
mv "$SOCK" "$SOCK.away"
FAULT= lda_as --store "lmtp:unix:$SOCK" -d bob
is "$st" 75 "store stopped: 75"
mv "$SOCK.away" "$SOCK"
is "$(copies "$IN")" 0 "store stopped: nothing stored"
FAULT= lda_as --store "lmtp:unix:$SOCK" -d bob
is "$st:$(copies "$IN")" 0:1 "store stopped: the retry leaves exactly one copy"

# --- the store stalled (every process of it stopped) ------------------------------------
IN=$T/m2; mk "$IN"
pids=$(cyrus_pids); kill -STOP $pids
FAULT= lda_as --store "lmtp:unix:$SOCK" STORE_CONNECT_TIMEOUT=2 STORE_TIMEOUT=2 -d bob
kill -CONT $pids
is "$st" 75 "store stalled (SIGSTOP): 75 after STORE_TIMEOUT"
sleep 1
is "$(copies "$IN")" 0 "store stalled: nothing stored (it never had the message)"
FAULT= lda_as --store "lmtp:unix:$SOCK" -d bob
is "$st:$(copies "$IN")" 0:1 "store stalled: the retry leaves exactly one copy"

# --- the store stalled, STORE_TIMEOUT longer than DEADLINE -------------------------------
IN=$T/m2b; mk "$IN"
pids=$(cyrus_pids); kill -STOP $pids
FAULT= lda_as --store "lmtp:unix:$SOCK" STORE_CONNECT_TIMEOUT=100 STORE_TIMEOUT=100 DEADLINE=2 -d bob
kill -CONT $pids
is "$st" 75 "store stalled, DEADLINE=2 (STORE_TIMEOUT=100): 75"
like "$out" 'time budget \(DEADLINE=2 s\) spent' "the status line says the budget is spent"
sleep 1
FAULT= lda_as --store "lmtp:unix:$SOCK" -d bob
is "$st:$(copies "$IN")" 0:1 "DEADLINE: the retry leaves exactly one copy"

# --- lmtpd killed in the middle of the data ----------------------------------------------
IN=$T/m3; mk "$IN"; head -c 3000000 /dev/zero | tr '\0' y | fold -w 70 >>"$IN"; echo "Tail $n $$." >>"$IN"
rm -f "$T/mark"
(
	for _ in $(seq 200); do [ -s "$T/mark" ] && break; sleep 0.05; done
	kill -KILL $(pgrep -f "lmtpd -C $CD")
) &
killer=$!
FAULT="send:SLEEP2:socket::1000000" LDA_FAULT_MARK=$T/mark lda_as --store "lmtp:unix:$SOCK" -d bob
wait $killer
is "$st" 75 "lmtpd killed mid-DATA: 75"
is "$(copies "$IN")" 0 "lmtpd killed mid-DATA: nothing stored"
FAULT= lda_as --store "lmtp:unix:$SOCK" -d bob
is "$st:$(copies "$IN")" 0:1 "lmtpd killed mid-DATA: the retry leaves exactly one copy"

# --- the reply lost after the store committed (lda killed after the final dot) ----------
IN=$T/m4; mk "$IN"
FAULT="dot:SIGKILL:socket:" lda_as --store "lmtp:unix:$SOCK" -d bob
is "$st" 137 "killed after the final dot: the MTA sees no exit code and retries"
is "$(copies "$IN")" 1 "the store committed the copy"
FAULT= lda_as --store "lmtp:unix:$SOCK" -d bob
is "$st:$(copies "$IN")" 0:1 "Message-ID and Date: Cyrus absorbs the retry (exactly one copy)"
IN=$T/m5; mk "$IN" nodate
FAULT="dot:SIGKILL:socket:" lda_as --store "lmtp:unix:$SOCK" -d bob
sleep 1.1	# the retry comes in another second: lmtpd's own Date differs
FAULT= lda_as --store "lmtp:unix:$SOCK" -d bob
is "$st:$(copies "$IN")" 0:2 "no Date (lmtpd adds its own): the retry is a second copy (the documented limit)"
IN=$T/m6; mk "$IN" nomid
FAULT="dot:SIGKILL:socket:" lda_as --store "lmtp:unix:$SOCK" -d bob
FAULT= lda_as --store "lmtp:unix:$SOCK" -d bob
is "$st:$(copies "$IN")" 0:2 "no Message-ID: the retry is a second copy (the documented limit)"

# --- over quota: 75, nothing stored ---------------------------------------------------------
IN=$T/m7; mk "$IN"; head -c 4000 /dev/zero | tr '\0' q | fold -w 70 >>"$IN"; echo "Tail $n $$." >>"$IN"
FAULT= lda_as --store "lmtp:unix:$SOCK" -d carol
FAULT= lda_as --store "lmtp:unix:$SOCK" -d carol
is "$st" 75 "over quota: 75"
ok $([ "$(copies "$IN")" -le 1 ]; echo $?) "over quota: no copy beyond the one that fit"

# --- failover: the first store down, the second takes it, once --------------------------------
IN=$T/m8; mk "$IN"
FAULT= lda_as --store "lmtp:unix:$T/nosuch.sock, lmtp:unix:$SOCK" -d bob
is "$st:$(copies "$IN")" 0:1 "failover: the second store takes it, exactly one copy"

# --- Dovecot: a lost reply is a second copy ---------------------------------------------------
DD=$T/dovecot; mkdir -p "$DD"
out=$("$P/dovecot-up.sh" "$DD" 2>&1) || { echo "Bail out! dovecot-up.sh: $out"; exit 1; }
at_exit "'$P/dovecot-down.sh' '$DD'"
. "$DD/env"
IN=$T/m9; mk "$IN"; bm=${DOVECOT_MAIL//%u/bob}
FAULT="dot:SIGKILL:socket:" lda_as --store "lmtp:unix:$DOVECOT_LMTP_SOCK" -d bob
FAULT= lda_as --store "lmtp:unix:$DOVECOT_LMTP_SOCK" -d bob
is "$st:$(grep -lF "$(tail -n 1 "$IN")" "$bm"/new/* "$bm"/cur/* 2>/dev/null | wc -l | tr -d ' ')" 0:2 \
	"Dovecot: the reply lost after commit, the retry is a second copy (the documented limit)"

done_testing

#!/usr/bin/env bash
# store-faults.t - what lda does when a store misbehaves in ways the real
# Cyrus and Dovecot cannot be made to show, against tests/peers/
# lmtp-fault.py: a link dropped after DATA or in the middle of it, after
# one of two replies; garbled, over-long and endless replies; a stall; a
# SIZE limit; refusals by enhanced code; a greeting of 421 and failover;
# the connection begun at start-up closed before a word;
# PIPELINING used only when offered; AUTH PLAIN kept off a non-loopback
# address. Needs root (lda runs as a service user); about 10 s.
. "$LDA_TOP/tests/integration/lib.sh"

P=$LDA_TOP/tests/peers
PY=/usr/bin/python3; [ -x $PY ] || PY=python3
if [ "$(id -u)" != 0 ]; then skip_all "needs root"; fi
test_user SVC svc || { echo "Bail out! cannot make a test user"; exit 1; }
LOG=$T/lda.log
: >"$LOG"; chmod 666 "$LOG"
printf 'From: a@example.org\nSubject: fault\nMessage-ID: <f.%s@store-faults.t>\n\nHello.\n.dot\n' $$ >"$T/m"

. "$LDA_TOP/tests/integration/fault-lib.sh"
# run STORE ARGS...: lda as the service user for bob; $st, $out
run() {
	local store=$1; shift
	: >"$LOG"; st=0
	out=$(runuser -u $SVC -- "$LDA" --store "$store" -f sender@example.org \
		LOGFILE="$LOG" "$@" <"$IN" 2>/dev/null) || st=$?
	wait "$pid" 2>/dev/null
}
IN=$T/m

# --- the link dropped after the final dot --------------------------------------
{ hello; printf '%s\n' '< MAIL FROM:<sender@example.org>' '< RCPT TO:<bob>' '< DATA' \
	'> 250 2.1.0 ok' '> 250 2.1.5 ok' '> 354 go ahead' '<data' 'close'; } >"$T/a.script"
peer a; run "lmtp:unix:$T/a.sock" -d bob
is "$st" 75 "link dropped after the dot: 75"
like "$(cat "$LOG")" 'to=<bob>.*status=deferred \(connection closed by the store in the final dot\)' \
	"link dropped after the dot: logged"
like "$(cat "$T/a.log")" "DATA $(sed 's/$/\r/' "$T/m" | wc -c) bytes" \
	"the peer got the whole message (CRLF), dot-stuffing undone"

# --- the link dropped in the middle of the data ------------------------------------
head -c 3000000 /dev/zero | tr '\0' y | fold -w 70 >"$T/big"
{ hello; printf '%s\n' '< MAIL' '< RCPT' '< DATA' '> 250 2.1.0 ok' '> 250 2.1.5 ok' \
	'> 354 go ahead' '<quiet 0.2' 'close'; } >"$T/b.script"
peer b; IN=$T/big run "lmtp:unix:$T/b.sock" -d bob; IN=$T/m
is "$st" 75 "link dropped in the middle of the data: 75"
like "$(cat "$LOG")" 'status=deferred \((write in the message data|connection closed)' "mid-data loss: logged" || diag "$(cat "$LOG")"

# --- one reply of two, then the link goes: one copy delivered, one owed ----------
{ hello; printf '%s\n' '< MAIL' '< RCPT TO:<bob>' '< RCPT TO:<dave>' '< DATA' '> 250 2.1.0 ok' \
	'> 250 2.1.5 ok' '> 250 2.1.5 ok' '> 354 go ahead' '<data' '> 250 2.1.5 bob ok' 'close'; } >"$T/c.script"
peer c; run "lmtp:unix:$T/c.sock" -d bob dave
is "$st" 75 "one of two replies, then lost: 75 (a copy is owed)"
like "$(cat "$LOG")" 'to=<bob>.*status=sent \(250 2\.1\.5 bob ok\)' "the copy the store took is logged sent"
like "$(cat "$LOG")" 'to=<dave>.*status=deferred \(connection closed by the store in the final dot\)' \
	"the owed copy is logged deferred"

# --- garbled, over-long and endless replies; a stall ---------------------------
{ hello; printf '%s\n' '< MAIL' '> hello there' '<quiet 0.3'; } >"$T/d.script"
peer d; run "lmtp:unix:$T/d.sock" -d bob
is "$st" 75 "garbled reply: 75"
like "$(cat "$LOG")" 'garbled reply in MAIL: "hello there"' "garbled reply: quoted in the log"

{ hello; printf '%s\n' '< MAIL' '>> 3000 x' '<quiet 0.3'; } >"$T/e.script"
peer e; run "lmtp:unix:$T/e.sock" -d bob
is "$st" 75 "reply line over 2048 bytes: 75"
like "$(cat "$LOG")" 'reply line longer than 2048 bytes in MAIL' "over-long reply: logged"

{ hello; echo '< MAIL'; for i in $(seq 70); do echo '> 250-more'; done; echo '<quiet 0.3'; } >"$T/f.script"
peer f; run "lmtp:unix:$T/f.sock" -d bob
is "$st" 75 "a reply of more than 64 lines: 75"

{ hello; printf '%s\n' '< MAIL' '< RCPT' '< DATA' '> 250 2.1.0 ok' 'sleep 4'; } >"$T/g.script"
peer g; run "lmtp:unix:$T/g.sock" STORE_TIMEOUT=1 -d bob
is "$st" 75 "a store that stops answering: 75"
like "$(cat "$LOG")" 'timeout \(1 s\) waiting for the reply to RCPT' "stall: logged"

# --- SIZE: a message over the store's limit is not sent --------------------------
{ hello "SIZE 50"; printf '%s\n' '<quiet 0.5'; } >"$T/h.script"
peer h; run "lmtp:unix:$T/h.sock" -d bob
is "$st" 69 "over the store's SIZE: 69"
like "$out" '^5\.3\.4 bob: 552 5\.3\.4 message of [0-9]+ bytes not sent: the store takes at most 50' \
	"over SIZE: the status line says so"
ok $(grep -q 'MAIL\|DATA' "$T/h.log"; [ $? = 1 ]; echo $?) "over SIZE: no MAIL, no DATA sent"

{ hello "SIZE 100000"; printf '%s\n' '< MAIL FROM:<sender@example.org> SIZE=[0-9]+ BODY=8BITMIME$' \
	'< RCPT' '< DATA' '> 250 2.1.0 ok' '> 250 2.1.5 ok' '> 354 go' '<data' '> 250 2.1.5 ok' '< QUIT' '> 221 bye'; } >"$T/i.script"
peer i; run "lmtp:unix:$T/i.sock" -d bob
is "$st" 0 "under SIZE: delivered"
ok $(grep -q MISMATCH "$T/i.log"; [ $? = 1 ]; echo $?) "MAIL carries SIZE= and BODY=8BITMIME"

# --- refusals by their enhanced code ------------------------------------------------
refusal() { # refusal REPLY WANT-EXIT NAME
	{ hello; printf '%s\n' '< MAIL' '< RCPT' '< DATA' '> 250 2.1.0 ok' '> 250 2.1.5 ok' '> 354 go' \
		'<data' "> $1" '< QUIT' '> 221 bye'; } >"$T/r.script"
	peer r; run "lmtp:unix:$T/r.sock" -d bob
	is "$st" "$2" "$3"
}
refusal '554 5.6.0 Message contains NUL characters' 65 "554 5.6.0 (the content): 65"
refusal '550 5.7.1 not for you' 69 "550 5.7.1: 69"
refusal '552 5.2.2 Mailbox full' 75 "552 5.2.2 (mailbox full): 75"
refusal '451 4.3.0 try later' 75 "451 4.3.0: 75"
refusal '550 no such user here' 69 "550 without an enhanced code: 69"
refusal '552 Quota exceeded' 75 "a 5xx that says quota: 75"

# --- a greeting of 421: the next store of the list -------------------------------
printf '%s\n' '> 421 4.3.2 shutting down' >"$T/j.script"
{ hello; printf '%s\n' '< MAIL' '< RCPT' '< DATA' '> 250 2.1.0 ok' '> 250 2.1.5 ok' '> 354 go' \
	'<data' '> 250 2.1.5 ok' '< QUIT' '> 221 bye'; } >"$T/k.script"
peer j; pj=$pid; peer k
run "lmtp:unix:$T/j.sock,lmtp:unix:$T/k.sock" -d bob; wait "$pj" 2>/dev/null
is "$st" 0 "greeting 421: failover to the second store"
like "$(cat "$LOG")" "store lmtp:unix:$T/j.sock: greeting: 421 4.3.2 shutting down; trying the next store" \
	"greeting 421: logged"

# --- the connection begun at start-up (with --store), closed unspoken ------------
# lda connects to the first store of --store before it spools and reads
# its rc; a store that drops that connection before a word (idle too
# long, restarting) is asked again, not counted as down
{ echo 'close'; echo '--'; hello; printf '%s\n' '< MAIL' '< RCPT' '< DATA' '> 250 2.1.0 ok' \
	'> 250 2.1.5 ok' '> 354 go' '<data' '> 250 2.1.5 ok' '< QUIT' '> 221 bye'; } >"$T/p.script"
peer p; run "lmtp:unix:$T/p.sock" -d bob
is "$st" 0 "the early connection closed before the greeting: connected again, delivered"
like "$(cat "$T/p.log")" "DATA [0-9]+ bytes" "... by the second connection"
unlike "$(cat "$LOG")" 'trying the next|deferred' "... and nothing said of a failure"
# ... or greeted, then closed (the store's idle timeout while the rc ran)
{ printf '%s\n' '> 220 fault.test LMTP ready' 'close' '--'; hello; printf '%s\n' '< MAIL' '< RCPT' \
	'< DATA' '> 250 2.1.0 ok' '> 250 2.1.5 ok' '> 354 go' '<data' '> 250 2.1.5 ok' '< QUIT' \
	'> 221 bye'; } >"$T/q.script"
peer q; run "lmtp:unix:$T/q.sock" -d bob
is "$st" 0 "the early connection greeted, then closed before LHLO: connected again, delivered"
like "$(cat "$T/q.log")" "DATA [0-9]+ bytes" "... by the second connection"

# ... but a store that says nothing on it in time has answered: one
# timeout, no second connection
printf '%s\n' '<quiet 6' >"$T/r.script"
peer r; run "lmtp:unix:$T/r.sock" STORE_TIMEOUT=2 -d bob
is "$st" 75 "the early connection never greeted: 75"
like "$(cat "$LOG")" 'timeout \(2 s\) waiting for the reply to the greeting' "... after one timeout, logged"
is "$(grep -c ": store lmtp:.*timeout (2 s) waiting for the reply to the greeting" "$LOG")" 1 "... not two: no second connection (one timeout logged)"

# --- PIPELINING used only when offered -------------------------------------------
{ hello; printf '%s\n' '<quiet 0.5' '> 250 2.1.0 ok' '> 250 2.1.5 ok' '> 354 go' '<data' \
	'> 250 2.1.5 ok' '< QUIT' '> 221 bye'; } >"$T/l.script"
peer l; run "lmtp:unix:$T/l.sock" -d bob
is "$st" 0 "with PIPELINING: delivered"
is "$(grep -c '^< \(MAIL\|RCPT\|DATA\)' "$T/l.log")" 3 "with PIPELINING: MAIL, RCPT, DATA sent before any reply"
{ hello -; printf '%s\n' '< MAIL' '<quiet 0.5' '> 250 2.1.0 ok' '< RCPT' '> 250 2.1.5 ok' \
	'< DATA' '> 354 go' '<data' '> 250 2.1.5 ok' '< QUIT' '> 221 bye'; } >"$T/n.script"
peer n; run "lmtp:unix:$T/n.sock" -d bob
is "$st" 0 "without PIPELINING: delivered"
ok $(grep -q MISMATCH "$T/n.log"; [ $? = 1 ]; echo $?) "without PIPELINING: one command at a time"

# --- AUTH PLAIN never to a non-loopback address, unless allowed ---------------------
ip=$(hostname -I 2>/dev/null | tr ' ' '\n' | grep -v '^127\.' | grep -v ':' | head -n 1)
printf 'admin:secret\n' >"$T/creds"; chown $SVC "$T/creds"; chmod 600 "$T/creds"
if [ -n "$ip" ]; then
	{ hello "AUTH PLAIN LOGIN"; printf '%s\n' '<quiet 0.5'; } >"$T/o.script"
	peer o --tcp "$ip"; port=$(cat "$T/o.log.port")
	run "lmtp:inet:$ip:$port" STORE_CREDENTIALS="$T/creds" -d bob
	is "$st" 75 "only PLAIN/LOGIN offered on $ip: 75"
	like "$(cat "$LOG")" 'no usable SASL mechanism.*plaintext ones only to a loopback address' \
		"plaintext to a non-loopback address: refused, clearly"
	ok $(grep -q '^< AUTH' "$T/o.log"; [ $? = 1 ]; echo $?) "no password went out"
	{ hello "AUTH PLAIN LOGIN"; printf '%s\n' '< AUTH PLAIN AGFkbWluAHNlY3JldA==$' '> 235 2.7.0 ok' \
		'< MAIL' '< RCPT' '< DATA' '> 250 2.1.0 ok' '> 250 2.1.5 ok' '> 354 go' '<data' \
		'> 250 2.1.5 ok' '< QUIT' '> 221 bye'; } >"$T/o.script"
	peer o --tcp "$ip"; port=$(cat "$T/o.log.port")
	run "lmtp:inet:$ip:$port" STORE_CREDENTIALS="$T/creds" STORE_PLAINTEXT=yes -d bob
	is "$st" 0 "STORE_PLAINTEXT=yes: AUTH PLAIN, delivered"
	ok $(grep -q MISMATCH "$T/o.log"; [ $? = 1 ]; echo $?) "the PLAIN response is authzid-less admin/secret"
else
	# Under CI every check must run (lib.sh skip_all); elsewhere, skip.
	if [ -n "${CI:-}" ]; then ok 1 "a non-loopback IPv4 address to test plaintext refusal"
	else for i in 1 2 3 4 5; do echo "ok $((_n + 1)) # SKIP no non-loopback IPv4 address"; _n=$((_n + 1)); done; fi
fi

done_testing

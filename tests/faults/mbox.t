#!/usr/bin/env bash
# mbox.t - an mbox after faults: kills in the middle of an append (each
# catchable signal, SIGKILL, a stale lock someone else removed, kills at
# random moments with a fixed seed, a recipe without ":" that takes no
# dotlock), a FIFO in its place, a lock held by
# another, LOCKTIMEOUT, a file another user pre-created in a spool others
# can write, a "From " line inside the header. After each, the mbox holds
# only whole messages (python's mailbox.mbox and formail -s agree) plus at
# most one visibly separate damaged one, and the retry adds exactly one
# intact copy. Runs lda with tests/faults/shim.c preloaded; about 15 s.
. "$LDA_TOP/tests/integration/lib.sh"
. "$LDA_TOP/tests/faults/lib.sh"

rc=$T/empty.rc; : >"$rc"
# ORGMAIL, where a failed DEFAULT falls back to, is ours too: never the
# host's /var/mail/root; nothing may reach it (checked at the end)
ORG=$T/orgmail
# deliver MBOX MSG [VAR=...] - lda -m into MBOX; $st, $out
deliver() {
	local box=$1 m=$2; shift 2
	st=0
	out=$("$LDA" -f sender@example.org -m DEFAULT="$box" ORGMAIL="$ORG" "$@" "$rc" <"$m" 2>/dev/null) || st=$?
}
# deliver_faulty SPEC MBOX MSG [VAR=...]
deliver_faulty() {
	local spec=$1 box=$2 m=$3; shift 3
	st=0
	out=$(faulty "$spec" "$LDA" -f sender@example.org -m DEFAULT="$box" ORGMAIL="$ORG" "$@" "$rc" <"$m" 2>/dev/null) || st=$?
}
# bigmsg FILE SUBJECT - a message of about 40 KB with "From " body lines
bigmsg() {
	local i
	{ printf 'From: a@example.org\nSubject: %s\nMessage-ID: <%s.%s@faults>\n\n' "$2" "$2" $$
	  for i in $(seq 400); do printf 'line %d of the body, some text to fill it up a bit more.\n' "$i"
		[ $((i % 50)) = 0 ] && echo "From here on, more."; done; } >"$1"
}
# want MSG - what mbox_read prints for MSG delivered alone
want() { rm -f "$T/ref"; deliver "$T/ref" "$1"; mbox_read "$T/ref"; }

bigmsg "$T/A" first; bigmsg "$T/B" second
wantA=$(want "$T/A"); wantB=$(want "$T/B")

# --- catchable signals in the middle of the append: truncated back, 75 ------
for sig in SIGTERM SIGHUP SIGINT SIGALRM; do
	box=$T/c-$sig; rm -f "$box"
	deliver "$box" "$T/A"; cp "$box" "$T/before"
	deliver_faulty "write:$sig:c-$sig\$:9000" "$box" "$T/B"
	is "$st" 75 "$sig in the middle of an append: exit 75"
	like "$out" '^4\.3\.0 (stopped by signal|time budget)' "$sig: the status line says so"
	ok $(cmp -s "$box" "$T/before"; echo $?) "$sig: the mbox is truncated back to what it held"
	ok $([ ! -e "$box.lock" ]; echo $?) "$sig: the lock is removed"
	deliver "$box" "$T/B"
	is "$st" 0 "$sig: the retry delivers"
	is "$(mbox_read "$box")" "$wantA"$'\n'"$wantB" "$sig: python's mailbox.mbox reads the two messages, intact"
	is "$(formail_count "$box")" 2 "$sig: formail -s splits two messages"
done

# --- a recipe without ":" takes no dotlock, as in procmail (the FAQ idiom
# holds $DEFAULT$LOCKEXT itself); a signal still truncates its append back
box=$T/n; rm -f "$box" "$T/n-default"; nrc=$T/nolock.rc
printf ':0\n%s\n' "$box" >"$nrc"
deliver "$box" "$T/A"; cp "$box" "$T/before"
: >"$box.lock"	# the rc's own lock (lockfile(1))
st=0; out=$(faulty 'write:SIGTERM:/n$:9000' "$LDA" -f sender@example.org -m \
	DEFAULT="$T/n-default" ORGMAIL="$ORG" LOCKTIMEOUT=2 "$nrc" <"$T/B" 2>/dev/null) || st=$?
is "$st" 75 "no dotlock: SIGTERM in the middle of the append: exit 75"
ok $(cmp -s "$box" "$T/before"; echo $?) "no dotlock: the mbox is truncated back"
ok $([ ! -e "$T/n-default" ]; echo $?) "no dotlock: nothing went to DEFAULT"
st=0; out=$("$LDA" -f sender@example.org -m DEFAULT="$T/n-default" ORGMAIL="$ORG" \
	LOCKTIMEOUT=2 "$nrc" <"$T/B" 2>/dev/null) || st=$?
is "$st" 0 "no dotlock: delivered while the rc's own lock is held"
ok $([ ! -e "$T/n-default" ]; echo $?) "no dotlock: into the recipe's mbox, not DEFAULT"
ok $([ -e "$box.lock" ]; echo $?) "no dotlock: the rc's lock is left alone"
is "$(mbox_read "$box")" "$wantA"$'\n'"$wantB" "no dotlock: the two messages, intact"
rm -f "$box.lock"

# --- SIGKILL: the next writer truncates the dead writer's partial append -----
box=$T/k; rm -f "$box"
deliver "$box" "$T/A"
deliver_faulty 'write:SIGKILL:/k$:9000' "$box" "$T/B"
is "$st" 137 "SIGKILL in the middle of an append: killed"
ok $([ -e "$box.lock" ]; echo $?) "SIGKILL: the lock stays behind (it names the dead writer)"
st=0; out=$(timeout 30 "$LDA" -f s@example.org -m DEFAULT="$box" ORGMAIL="$ORG" "$rc" <"$T/B" 2>/dev/null) || st=$?
is "$st" 0 "SIGKILL: the retry breaks the dead writer's lock at once and delivers"
is "$(mbox_read "$box")" "$wantA"$'\n'"$wantB" "SIGKILL: the partial append is gone, the retry's copy intact"
is "$(formail_count "$box")" 2 "SIGKILL: formail -s splits two messages"
ok $([ ! -e "$box.lock" ]; echo $?) "SIGKILL: no lock left"

# --- SIGKILL, and the lock removed by another program: the tail is closed off
box=$T/k2; rm -f "$box"
deliver "$box" "$T/A"
deliver_faulty 'write:SIGKILL:/k2$:9000' "$box" "$T/B"
rm -f "$box.lock"
deliver "$box" "$T/B"
is "$st" 0 "a partial tail without its lock: the retry delivers"
got=$(mbox_read "$box")
is "$(printf '%s\n' "$got" | wc -l | tr -d ' ')" 3 "three messages: the first, the damaged one, the retry"
is "$(printf '%s\n' "$got" | sed -n 1p)" "$wantA" "the first message is intact"
is "$(printf '%s\n' "$got" | sed -n 3p)" "$wantB" "the retried copy is a separate, intact message"
is "$(formail_count "$box")" 3 "formail -s agrees: three messages"

# --- kills at random moments, with a fixed seed ------------------------------
RANDOM=1207
box=$T/r; rm -f "$box"; n=0; expect=""
sigs=(SIGTERM SIGHUP SIGINT SIGALRM SIGKILL SIGKILL)
bad=0
for i in $(seq 12); do
	s=${sigs[$((RANDOM % ${#sigs[@]}))]}
	at=$((RANDOM % 22000 + 1))
	bigmsg "$T/R" "r$i"
	deliver_faulty "write:$s:/r\$:$at" "$box" "$T/R"
	[ "$st" = 0 ] && { diag "kill $i ($s at $at) came after the append"; }
	[ "$st" = 0 ] || deliver "$box" "$T/R"
	[ "$st" = 0 ] || bad=$((bad + 1))
	expect="$expect${expect:+$'\n'}$(want "$T/R")"
done
is "$bad" 0 "12 kills at random moments (seed 1207): every retry exits 0"
is "$(mbox_read "$box")" "$expect" "after the random kills: each message once, intact, in order"
is "$(formail_count "$box")" 12 "formail -s agrees: 12 messages"
ok $([ ! -e "$box.lock" ]; echo $?) "no lock left"

# --- a FIFO in the mbox's place: refused at once, never a hang ----------------
mkfifo "$T/fifo"
st=0; out=$(timeout 20 "$LDA" -m DEFAULT="$T/fifo" ORGMAIL="$T/fifo" "$rc" <"$T/A" 2>/dev/null) || st=$?
ok $([ "$st" != 124 ] && [ "$st" != 0 ]; echo $?) "a FIFO as the mbox is refused, not waited on (exit $st)"
like "$out" 'not a regular file' "the status line says why"

# --- LOCKTIMEOUT governs the wait for the mbox's lock --------------------------
box=$T/held; : >"$box"; : >"$box.lock"
st=0; out=$(timeout 30 "$LDA" -m DEFAULT="$box" ORGMAIL="$box" LOCKTIMEOUT=2 "$rc" <"$T/A" 2>/dev/null) || st=$?
is "$st" 75 "a lock another holds, LOCKTIMEOUT=2: 75 after the wait, not 60 s"
like "$out" 'lock' "the status line names the lock"
ok $([ -e "$box.lock" ] && [ ! -s "$box" ]; echo $?) "the other's lock stays, the mbox untouched"

# --- the From_ line's forgery inside the header is quoted ----------------------
printf 'Subject: real\nFrom evil@example.net  Sat Nov 21 10:00:00 2026\nSubject: forged\n\nbody\n' >"$T/F"
box=$T/f; rm -f "$box"
deliver "$box" "$T/F"
like "$(cat "$box")" $'\n>From evil@example.net' "a From_ line inside the header is quoted as >From"
is "$(mbox_read "$box" | wc -l | tr -d ' ')" 1 "readers see one message, not a forged second"

# --- an mbox someone else pre-created in a spool others can write --------------
test_user U1 fone || { echo "Bail out! cannot make a test user"; exit 1; }
test_user U2 ftwo || { echo "Bail out! cannot make a test user"; exit 1; }
mkdir -p "$T/spool"; chmod 777 "$T/spool"
runuser -u $U2 -- sh -c ": >'$T/spool/$U1'; chmod 666 '$T/spool/$U1'"
st=0; out=$(cd /; runuser -u $U1 -- env HOME="$T" "$LDA" -m DEFAULT="$T/spool/$U1" \
	ORGMAIL="$T/spool/$U1" "$rc" <"$T/A" 2>/dev/null) || st=$?
is "$st" 75 "an mbox another user owns, in a spool others can write: refused (75)"
like "$out" 'owned by uid' "the status line says whose it is"
ok $([ ! -s "$T/spool/$U1" ]; echo $?) "nothing was written into it"

ok $([ ! -e "$ORG" ]; echo $?) "no delivery fell back to ORGMAIL"

done_testing

#!/usr/bin/env bash
# load.t - 200 deliveries started at the same instant into one mbox, one
# Maildir, one MH folder, one Cyrus (its unix socket, whose listen queue
# overflows: EAGAIN is "busy", not "down") and one Dovecot: every process
# exits 0, each message is there exactly once and intact, no lock or
# temporary file is left. Figures are tests/bench/load.sh's, not this
# test's. Needs root (the stores); about 60 s.
. "$LDA_TOP/tests/integration/lib.sh"
. "$LDA_TOP/tests/faults/storm.sh"

N=${LOAD_N:-200}
P=$LDA_TOP/tests/peers
if [ "$(id -u)" != 0 ]; then skip_all "needs root"; fi
[ -x /usr/lib/cyrus/bin/master ] || skip_all "cyrus not installed"
[ -x /usr/sbin/dovecot ] || skip_all "dovecot not installed"
rc=$T/empty.rc; : >"$rc"

# each MI: the message bodies of messages 1..N found in FILES (one each)
each_once() {
	local want=$1; shift
	is "$(cat "$@" 2>/dev/null | grep -a '^Message [0-9]* of the storm\.' | sort | uniq -c |
		awk '$1 == 1' | wc -l | tr -d ' ')" "$want" "$label: each of the $want messages exactly once"
	is "$(cat "$@" 2>/dev/null | grep -ac '^Message [0-9]* of the storm\.')" "$want" "$label: no message twice"
}

# --- local folders ----------------------------------------------------------------
# ORGMAIL (a failed DEFAULT's fall-back) is ours, never /var/mail/root
label=mbox; storm "$T/s1" "$N" "$LDA" -f s@example.org -m DEFAULT="$T/mbox" ORGMAIL="$T/org" "$rc"
is "$(storm_exits "$T/s1")" "0 $N" "$label: $N concurrent deliveries, every one exits 0"
each_once "$N" "$T/mbox"
is "$(grep -c '^From ' "$T/mbox")" "$N" "$label: $N From_ lines (no message split or merged)"
ok $([ ! -e "$T/mbox.lock" ]; echo $?) "$label: no stale lock"

label=Maildir; storm "$T/s2" "$N" "$LDA" -m DEFAULT="$T/md/" ORGMAIL="$T/org" "$rc"
is "$(storm_exits "$T/s2")" "0 $N" "$label: $N concurrent deliveries, every one exits 0"
each_once "$N" "$T"/md/new/*
is "$(find "$T/md/tmp" -type f | wc -l | tr -d ' ')" 0 "$label: nothing left in tmp/"

label=MH; storm "$T/s3" "$N" "$LDA" -m DEFAULT="$T/mh/." ORGMAIL="$T/org" "$rc"
is "$(storm_exits "$T/s3")" "0 $N" "$label: $N concurrent deliveries, every one exits 0"
each_once "$N" "$T"/mh/[1-9]*
is "$(ls "$T/mh" | grep -vc '^[1-9][0-9]*$')" 0 "$label: no temporary file left"
ok $([ ! -e "$T/org" ]; echo $?) "local folders: no delivery fell back to ORGMAIL"

# --- Cyrus: its unix socket under a storm ------------------------------------------
CD=$T/cyrus; mkdir -p "$CD"
out=$("$P/cyrus-up.sh" "$CD" 2>&1) || { echo "Bail out! cyrus-up.sh: $out"; exit 1; }
at_exit "'$P/cyrus-down.sh' '$CD'"
. "$CD/env"
test_user SVC fsvc || { echo "Bail out! cannot make a test user"; exit 1; }
chmod 755 "$T"; chmod 777 "$T/s4" 2>/dev/null || { mkdir -p "$T/s4"; chmod 777 "$T/s4"; }
label=Cyrus
storm "$T/s4" "$N" runuser -u $SVC -- "$LDA" --store "lmtp:unix:$CYRUS_LMTP_SOCK" -f s@example.org -d bob
is "$(storm_exits "$T/s4")" "0 $N" "$label: $N concurrent deliveries over one unix socket, every one exits 0"
grep -l 'Resource temporarily' "$T"/s4/o* >/dev/null && diag "some saw EAGAIN: $(grep -h 'Resource' "$T"/s4/o* | head -1)"
each_once "$N" $(find "$CYRUS_SPOOL" -type f -name '[0-9]*.')

# --- Dovecot -------------------------------------------------------------------------
DD=$T/dovecot; mkdir -p "$DD"
out=$("$P/dovecot-up.sh" "$DD" 2>&1) || { echo "Bail out! dovecot-up.sh: $out"; exit 1; }
at_exit "'$P/dovecot-down.sh' '$DD'"
. "$DD/env"
label=Dovecot; mkdir -p "$T/s5"; chmod 777 "$T/s5"
storm "$T/s5" "$N" runuser -u $SVC -- "$LDA" --store "lmtp:unix:$DOVECOT_LMTP_SOCK" -f s@example.org -d bob
is "$(storm_exits "$T/s5")" "0 $N" "$label: $N concurrent deliveries, every one exits 0"
bm=${DOVECOT_MAIL//%u/bob}
each_once "$N" $(find "$bm/new" "$bm/cur" -type f)

done_testing

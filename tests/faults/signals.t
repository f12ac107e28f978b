#!/usr/bin/env bash
# signals.t - signals and the run's time budget: root's -d parent passes
# SIGTERM, SIGHUP and SIGINT on to the delivering child and exits only
# when it has (no copy made after the MTA saw lda go); DEADLINE stops a
# run that a hanging program or a held lock would keep past it, undoes
# what is not committed and exits 75 saying so. Needs root; about 15 s.
. "$LDA_TOP/tests/integration/lib.sh"
. "$LDA_TOP/tests/faults/lib.sh"

if [ "$(id -u)" != 0 ]; then skip_all "needs root (-d)"; fi
test_user U1 fone || { echo "Bail out! cannot make a test user"; exit 1; }
mkdir -p "$T/r"; chown $U1 "$T/r"
msg "$T/m" signals; : >"$T/e.rc"

# --- root -d: the parent forwards the signal and waits for the child -----------
for sig in TERM HUP INT; do
	box=$T/r/box$sig
	printf 'DEFAULT=%s\nORGMAIL=%s\n' "$box" "$box" >"$T/sys.rc"
	rm -f "$T/r/mark"
	LD_PRELOAD=$SHIM LDA_FAULT="write:SLEEP3:/box$sig\$:10" LDA_FAULT_MARK=$T/r/mark \
		"$LDA" --config "$T/sys.rc" -d $U1 <"$T/m" >"$T/out" 2>/dev/null &
	pid=$!
	for _ in $(seq 200); do [ -s "$T/r/mark" ] && break; sleep 0.05; done
	child=$(cat "$T/r/mark" 2>/dev/null)
	ok $([ -n "$child" ]; echo $?) "$sig: the child is in the middle of its append"
	kill -$sig $pid
	st=0; wait $pid || st=$?
	is "$st" 75 "$sig to the -d parent: it exits 75"
	gone=1; kill -0 "$child" 2>/dev/null || gone=0
	is "$gone" 0 "$sig: the child had ended when the parent exited"
	sleep 3.5	# past the stall: an orphaned child would have delivered by now
	is "$(mbox_read "$box" 2>/dev/null | wc -l | tr -d ' ')" 0 "$sig: no copy was made (the MTA retries)"
	ok $([ ! -e "$box.lock" ]; echo $?) "$sig: no lock left"
done

# --- DEADLINE: a hanging program ---------------------------------------------------
cat >"$T/hang.rc" <<RC
TIMEOUT=300
:0 fw
| sh -c 'echo \$\$ >$T/prog.pid; exec sleep 120'
RC
st=0; out=$(timeout 60 "$LDA" -m DEFAULT="$T/md/" ORGMAIL="$T/md-org" DEADLINE=2 "$T/hang.rc" <"$T/m" 2>/dev/null) || st=$?
is "$st" 75 "DEADLINE=2 with a program that hangs (TIMEOUT=300): 75"
like "$out" '^4\.3\.0 time budget \(DEADLINE=2 s\) spent' "the status line says the budget is spent"
is "$(maildir_count "$T/md")/$([ -e "$T/md-org" ]; echo $?)" 0/1 "nothing delivered (nor into ORGMAIL)"
alive=0; for _ in $(seq 50); do kill -0 "$(cat "$T/prog.pid")" 2>/dev/null || { alive=0; break; }; alive=1; sleep 0.1; done
is "$alive" 0 "the program was stopped"

# --- DEADLINE: a lock held by another, LOCKTIMEOUT longer than the budget --------
: >"$T/held"; : >"$T/held.lock"
st=0; out=$(timeout 60 "$LDA" -m DEFAULT="$T/held" ORGMAIL="$T/held" DEADLINE=2 LOCKTIMEOUT=300 \
	"$T/e.rc" <"$T/m" 2>/dev/null) || st=$?
is "$st" 75 "DEADLINE=2 while a lock is held (LOCKTIMEOUT=300): 75"
ok $([ -e "$T/held.lock" ] && [ ! -s "$T/held" ]; echo $?) "the other's lock stays, the mbox untouched"

done_testing

#!/usr/bin/env bash
# spool-debian.t - lda started as root (sendmail's local mailer: lda -d
# user) on Debian's stock mail spool, the real /var/mail (root:mail 2775):
# the system mailbox is created (the user's, group mail, 0660) and its
# dotlock taken by the root helper (lda/mailspool.c), a stale dotlock is
# broken, and the user's rc and its programs never have root or group
# mail. Then root's own mail (-d root and a uid 0 alias): delivered as
# root, root's rc run only when root owns it and no one else may write it.
# Accounts and mailboxes made here are removed at the end.
. "$LDA_TOP/tests/integration/lib.sh"

[ "$(id -u)" = 0 ] || skip_all "needs root (lda -d as sendmail starts it)"
[ "$(stat -c '%U:%G %a' /var/mail 2>/dev/null)" = "root:mail 2775" ] ||
	skip_all "/var/mail is not Debian's stock root:mail 2775"
PY=/usr/bin/python3
[ -x "$PY" ] || skip_all "no $PY (holds an fcntl lock for the test)"

test_user U spool || { echo "Bail out! cannot make a test account"; exit 1; }
R0=ldatroot$$
MB=/var/mail/$U LK=/var/mail/$U.lock
mailgid=$(getent group mail | cut -d: -f3)
at_exit "rm -f $MB $LK /var/mail/ldatnosuch$$"
H=$(getent passwd "$U" | cut -d: -f6)
rm -rf "$H/Maildir" "$H/.procmailrc" "$H/.ldarc" "$MB" "$LK"

IN=$T/m; msg "$IN" spooltest
# run OUT ARGS... - lda with stdin from $IN; stdout to OUT, exit in $st
run() {
	local out=$1; shift
	st=0
	timeout 300 "$LDA" "$@" <"$IN" >"$out" 2>"$out.err" || st=$?
}
# waitfor SECONDS CMD... - poll until CMD succeeds (1) or time is up (0)
waitfor() {
	local n=$(($1 * 10)); shift
	while [ "$n" -gt 0 ]; do "$@" && return 0; sleep 0.1; n=$((n - 1)); done
	return 1
}
froms() { cat "$MB" 2>/dev/null | grep -c '^From '; }
: >"$T/empty.rc"
printf 'LOCKTIMEOUT=2\n' >"$T/short.rc"
printf 'LOCKTIMEOUT=300\n' >"$T/long.rc"

# --- the mailbox is created as Debian creates it -----------------------------
run "$T/o" --config "$T/empty.rc" -d "$U"
is "$st" 0 "no ~/Maildir, no mailbox, stock 2775 spool: delivered (exit 0)"
is "$(stat -c '%U %G %a' "$MB" 2>/dev/null)" "$U mail 660" \
	"the mailbox is created: owner the user, group mail, mode 0660"
like "$(cat "$MB" 2>/dev/null)" 'Subject: spooltest' "...and holds the message"
ok $([ ! -e "$LK" ]; echo $?) "...and its dotlock is gone afterwards"
run "$T/o" --config "$T/empty.rc" -d "$U"
is "$st/$(froms)" "0/2" "a second delivery appends to the mailbox the user owns"

# --- only the one mailbox: the rc cannot have another one made -----------------
printf 'DEFAULT=%s\nORGMAIL=%s\n' /var/mail/ldatnosuch$$ /var/mail/ldatnosuch$$ >"$H/.procmailrc"
chown "$U": "$H/.procmailrc"; chmod 644 "$H/.procmailrc"
run "$T/o" --config "$T/empty.rc" -d "$U"
ok $([ ! -e /var/mail/ldatnosuch$$ ] && [ ! -e /var/mail/ldatnosuch$$.lock ]; echo $?) \
	"another name in the spool is not created for the user's rc"
is "$st" 75 "...and the message is kept (75)"
rm -f /var/mail/ldatnosuch$$ /var/mail/ldatnosuch$$.lock

# --- the user's rc and its programs: no root, no group mail ---------------------
cat >"$H/.procmailrc" <<EOF
:0c
| id -G >$H/gids
:0c
| id -u >$H/uid
:0c
| ls -l /proc/self/fd/ >$H/fds
EOF
chown "$U": "$H/.procmailrc"; rm -f "$H/gids" "$H/uid" "$H/fds"
run "$T/o" --config "$T/empty.rc" -d "$U"
is "$st/$(froms)" "0/3" "with a user rc running programs: delivered to the mailbox"
is "$(cat "$H/uid" 2>/dev/null)" "$(id -u "$U")" "the rc's programs run as the user, not root"
ok $([ -s "$H/gids" ] && ! tr ' ' '\n' <"$H/gids" | grep -qx "$mailgid" &&
	! tr ' ' '\n' <"$H/gids" | grep -qx 0; echo $?) \
	"the rc's programs have neither group mail ($mailgid) nor root's group: $(cat "$H/gids" 2>/dev/null)"
unlike "$(cat "$H/fds" 2>/dev/null)" 'socket:' "the programs do not inherit the helper's socket"
rm -f "$H/.procmailrc"

# --- the dotlock is taken -------------------------------------------------------
# An fcntl lock held on the mailbox makes lda wait after it took the dotlock:
# the dotlock is there, in the spool the user cannot write, while it waits.
coproc HOLD { exec "$PY" -c 'import fcntl,sys
f = open(sys.argv[1], "a"); fcntl.lockf(f, fcntl.LOCK_EX)
print("held", flush=True); sys.stdin.readline()' "$MB"; }
read -r -t 30 held <&"${HOLD[0]}"
is "$held" held "(the test holds an fcntl lock on the mailbox)"
timeout 300 "$LDA" --config "$T/long.rc" -d "$U" <"$IN" >"$T/o" 2>&1 &
pid=$!
waitfor 60 test -e "$LK"
ok $? "lda takes the spool's dotlock $LK (created by the root helper)"
echo >&"${HOLD[1]}"; wait "$HOLD_PID" 2>/dev/null
st=0; wait "$pid" || st=$?
is "$st/$(froms)" "0/4" "...and delivers once the fcntl lock is free"
ok $([ ! -e "$LK" ]; echo $?) "...and removes the dotlock"

# The user process killed while the helper holds the dotlock: the helper
# removes it (no lock is left behind to hold up the next delivery).
coproc HOLD { exec "$PY" -c 'import fcntl,sys
f = open(sys.argv[1], "a"); fcntl.lockf(f, fcntl.LOCK_EX)
print("held", flush=True); sys.stdin.readline()' "$MB"; }
read -r -t 30 held <&"${HOLD[0]}"
timeout 300 "$LDA" --config "$T/long.rc" -d "$U" <"$IN" >"$T/o" 2>&1 &
pid=$!
waitfor 60 test -e "$LK"
upid=$(pgrep -u "$U" -x lda | head -n 1)
[ -n "$upid" ] && kill -KILL "$upid"
st=0; wait "$pid" || st=$?
is "$st" 75 "the user's process killed while waiting: 75, the MTA keeps the message"
ok $([ ! -e "$LK" ]; echo $?) "...and the helper removed the dotlock it held"
echo >&"${HOLD[1]}"; wait "$HOLD_PID" 2>/dev/null
is "$(froms)" 4 "...and nothing was appended"

# The MTA's SIGTERM to lda while the user's process waits: it goes on to
# that process (undo.c), which stops; the helper removes the dotlock.
coproc HOLD { exec "$PY" -c 'import fcntl,sys
f = open(sys.argv[1], "a"); fcntl.lockf(f, fcntl.LOCK_EX)
print("held", flush=True); sys.stdin.readline()' "$MB"; }
read -r -t 30 held <&"${HOLD[0]}"
timeout 300 "$LDA" --config "$T/long.rc" -d "$U" <"$IN" >"$T/o" 2>&1 &
pid=$!
waitfor 60 test -e "$LK"
kill -TERM "$pid"
st=0; wait "$pid" || st=$?
is "$st" 75 "SIGTERM to lda while the user's process waits: 75"
like "$(head -n 1 "$T/o")" '^4\.3\.0 .*signal TERM' "...the status line says it was stopped"
ok $(! pgrep -u "$U" -x lda >/dev/null; echo $?) "...the user's process is gone"
ok $([ ! -e "$LK" ]; echo $?) "...and the dotlock too"
echo >&"${HOLD[1]}"; wait "$HOLD_PID" 2>/dev/null
is "$(froms)" 4 "...and nothing was appended"

# A fresh dotlock someone else holds: lda waits for it ...
touch "$LK"
timeout 300 "$LDA" --config "$T/long.rc" -d "$U" <"$IN" >"$T/o" 2>&1 &
pid=$!
waitfor 30 pgrep -u "$U" -x lda >/dev/null
sleep 1
is "$(kill -0 "$pid" 2>/dev/null && echo waiting)/$(froms)" "waiting/4" \
	"a held dotlock: lda waits and does not write"
rm -f "$LK"
st=0; wait "$pid" || st=$?
is "$st/$(froms)" "0/5" "...and delivers once the lock is released"
# ... and gives up after LOCKTIMEOUT, keeping the message (75).
touch "$LK"
run "$T/o" --config "$T/short.rc" -d "$U"
is "$st/$(froms)" "75/5" "a dotlock held past LOCKTIMEOUT: 75, nothing written"
like "$(head -n 1 "$T/o")" "^4\\.[0-9.]+ .*$LK" "...the status line names the lock"
ok $([ -e "$LK" ]; echo $?) "...and someone else's fresh lock is left alone"
# A stale one (an hour old) is broken, as procmail breaks it.
touch -d '1 hour ago' "$LK"
run "$T/o" --config "$T/short.rc" -d "$U"
is "$st/$(froms)" "0/6" "a stale dotlock is broken and the message delivered"
ok $([ ! -e "$LK" ]; echo $?) "...and no lock is left"

# --- started as the user (postfix's mailbox_command) -----------------------------
# No group mail, no helper: an existing mailbox takes the message under an
# fcntl lock alone, even past a stale dotlock it may not remove.
touch -d '1 hour ago' "$LK"
st=0; (cd / && timeout 120 su -s /bin/sh "$U" -c "$LDA" <"$IN" >"$T/o" 2>&1) || st=$?
is "$st/$(froms)" "0/7" "as the user, a stale dotlock it cannot remove: delivered with fcntl alone"
rm -f "$LK"
mv "$MB" "$T/mb.saved"
st=0; (cd / && timeout 120 su -s /bin/sh "$U" -c "$LDA" <"$IN" >"$T/o" 2>&1) || st=$?
is "$st" 75 "as the user, no mailbox: 75 (it cannot be created; the MTA keeps the message)"
ok $([ ! -e "$MB" ]; echo $?) "...and nothing is created in the spool"
mv "$T/mb.saved" "$MB"

# --- root's own mail ---------------------------------------------------------------
# A uid 0 alias whose home is in $T: root's delivery without touching /root.
RH=$T/roothome
mkdir -p "$RH/Maildir"
# the README's one line for Maildirs (DEFAULT is $ORGMAIL by default)
printf '%s\n' 'DEFAULT=$HOME/Maildir/' >"$T/home-md.rc"; chmod 644 "$T/home-md.rc"
if ! id "$R0" >/dev/null 2>&1; then
	at_exit "_acct userdel -f $R0"
	_acct useradd -o -u 0 -g 0 -M -d "$RH" -c "$_ACCT_NOTE" -s /bin/sh "$R0" >/dev/null 2>&1
fi
if [ "$(getent passwd "$R0" | cut -d: -f3,6)" = "0:$RH" ]; then
	run "$T/o" --config "$T/home-md.rc" -d "$R0"
	is "$st" 0 "a uid 0 recipient is delivered (not refused with 77)"
	f=$(maildir_one "$RH/Maildir")
	is "$(stat -c %U "$f" 2>/dev/null)" root "...as root, into its home's Maildir"
	printf ':0c\n| id -u >%s/uid\n:0\n%s/fromrc/\n' "$RH" "$RH" >"$RH/.procmailrc"
	chown root:root "$RH/.procmailrc"; chmod 644 "$RH/.procmailrc"
	run "$T/o" --config "$T/home-md.rc" -d "$R0"
	is "$st/$(maildir_count "$RH/fromrc")/$(cat "$RH/uid" 2>/dev/null)" "0/1/0" \
		"root's rc owned by root, writable by root alone: run, its programs as root"
	chmod 664 "$RH/.procmailrc"
	run "$T/o" --config "$T/home-md.rc" -d "$R0"
	is "$st/$(maildir_count "$RH/fromrc")/$(maildir_count "$RH/Maildir")" "0/1/2" \
		"root's rc writable by its group: not run, the message goes to DEFAULT"
	chmod 644 "$RH/.procmailrc"; chown "$U" "$RH/.procmailrc"
	run "$T/o" --config "$T/home-md.rc" -d "$R0"
	is "$st/$(maildir_count "$RH/fromrc")/$(maildir_count "$RH/Maildir")" "0/1/3" \
		"root's rc owned by another user: not run, the message goes to DEFAULT"
	rm -rf "$RH"
else
	ok 1 "cannot make a uid 0 alias $R0 here: -d root below alone"
fi
# -d root itself, DEFAULT set by the system rc into $T, when root has no rc
# of its own (root's real rc, if any, is not ours to run in a test).
if [ ! -e /root/.procmailrc ] && [ ! -e /root/.ldarc ]; then
	printf 'DEFAULT=%s/rootmd/\nORGMAIL=%s/rootmd/\n' "$T" "$T" >"$T/root.rc"
	run "$T/o" --config "$T/root.rc" -d root
	is "$st/$(maildir_count "$T/rootmd")" "0/1" "-d root delivers root's mail (sendmail leaves root local)"
else
	ok 1 "root has an rc of its own: -d root itself not run here"
fi

done_testing

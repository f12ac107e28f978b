#!/usr/bin/env bash
# startup.t - issue 11 point 12: what lda is started with.
#  - standard descriptors closed: /dev/null takes their place before
#    anything is opened; a closed stdin is no message (75), never an empty
#    one delivered with 0; a closed stdout/stderr never lets a status or
#    log line into the spool or a folder;
#  - a FIFO as STORE_CREDENTIALS is refused at once (not a regular file),
#    not waited on forever;
#  - a recipient with '>' or DEL is refused 5.1.3 (67), not deferred
#    forever by the store's LMTP command check.
# Needs root (runs lda as a service user); about 2 s.
. "$LDA_TOP/tests/integration/lib.sh"

if [ "$(id -u)" != 0 ]; then skip_all "needs root"; fi
PY=/usr/bin/python3
[ -x $PY ] || skip_all "no python3 for the scripted LMTP peer"
test_user SVC svc || { echo "Bail out! cannot make test user"; exit 1; }
MD=$T/Maildir
mkdir -p "$MD/new" "$MD/cur" "$MD/tmp"
LOG=$T/log
printf ':0 w\n| false\n:0\n$DEFAULT\n' >"$T/rc"
msg "$T/m"

# --- closed standard descriptors -------------------------------------------
st=0; "$LDA" -m MAILDIR="$T" DEFAULT="$MD/" "$T/rc" <&- >"$T/out" 2>&1 || st=$?
is "$st" 75 "stdin closed: exit 75"
is "$(maildir_count "$MD")" 0 "stdin closed: no (empty) message delivered"
like "$(cat "$T/out")" "^4\\.3\\.0 .*standard input" "stdin closed: the status line says so"
st=0; "$LDA" -m MAILDIR="$T" DEFAULT="$MD/" "$T/rc" <"$T/m" >&- 2>&- || st=$?
is "$st" 0 "stdout and stderr closed: exit 0"
f=$(maildir_one "$MD")
ok "$(cmp -s "$f" "$T/m"; echo $?)" "stdout and stderr closed: the message delivered byte for byte (no log line in it)"
rm -f "$MD"/new/*

# --- a FIFO as STORE_CREDENTIALS ------------------------------------------------
mkfifo "$T/creds"; chown $SVC "$T/creds"; chmod 600 "$T/creds"
printf '%s\n' '> 220 fault.test LMTP ready' '< LHLO ' '> 250-fault.test' \
	'> 250-ENHANCEDSTATUSCODES' '> 250 AUTH PLAIN' '<quiet 1' >"$T/p.script"
rm -f "$T/p.log.ready"
$PY "$LDA_TOP/tests/peers/lmtp-fault.py" --timeout 20 127.0.0.1:0 "$T/p.script" "$T/p.log" &
pid=$!
at_exit "kill $pid"
for _ in $(seq 200); do [ -e "$T/p.log.ready" ] && break; sleep 0.05; done
port=$(cat "$T/p.log.port")
chmod 644 "$T/m"
# "timeout" only guards the suite against the old hang; no timing is tested
st=0; out=$(timeout 60 runuser -u $SVC -- "$LDA" --store "lmtp:inet:127.0.0.1:$port" \
	STORE_CREDENTIALS="$T/creds" STORE_PLAINTEXT=yes -d $SVC <"$T/m" 2>/dev/null) || st=$?
is "$st" 75 "a FIFO as STORE_CREDENTIALS: 75 at once (not a hang)"
like "$out" "not a regular file" "... the status line says why"
wait $pid 2>/dev/null

# --- a recipient with '>' or DEL ------------------------------------------------
printf 'STORE=lmtp:unix:%s/none.sock\n' "$T" >"$T/store.rc"; chmod 644 "$T/store.rc"
for r in 'a>b' "$(printf 'a\177b')" '<a'; do
	vis=$(printf '%q' "$r")
	st=0; out=$(runuser -u $SVC -- "$LDA" --config "$T/store.rc" -d "$r" <"$T/m" 2>/dev/null) || st=$?
	is "$st" 67 "recipient $vis: refused (67), not deferred"
	like "$out" "^5\\.1\\.3 " "recipient $vis: status 5.1.3"
done
done_testing

#!/usr/bin/env bash
# filter-spamd.t - the spamassassin filter against a real spamd (Debian's,
# private config and socket, no network tests; tests/peers/spamd-up.sh):
# GTUBE is spam, a plain message is not; HEADERS, PROCESS, CHECK, SYMBOLS;
# unix socket and TCP; the size limit; forged X-Spam-* fields; CRLF; the
# same spamd through a "| spamc" program filter; and the faults, each with
# both failure policies: no socket, a garbled reply (a scripted peer),
# spamd too slow (SPAMD_TIMEOUT), spamd killed mid-scan.
# lda runs the filter from FILTERS in the system rc; the user rc files each
# message into a Maildir named after the variables the filter set.
# Run as root; skips when spamd is not installed. Takes about 15 s.
. "$LDA_TOP/tests/integration/lib.sh"
. "$LDA_TOP/tests/integration/filter-lib.sh"

PEERS=$LDA_TOP/tests/peers
if [ "$(id -u)" != 0 ]; then skip_all "needs root"; fi
if ! command -v spamd >/dev/null || ! command -v spamc >/dev/null; then
	skip_all "spamd/spamc not installed"; fi

SD=$T/spamd
mkdir "$SD"
if ! "$PEERS/spamd-up.sh" "$SD" >"$T/spamd-up.out" 2>&1; then
	cat "$T/spamd-up.out" | sed 's/^/# /'
	echo "Bail out! spamd-up.sh failed"; exit 1
fi
at_exit "'$PEERS/spamd-down.sh' '$SD'"
. "$SD/env"

H=$T/home
mkdir -p "$H"
cat >"$H/.ldarc" <<'EOF'
# one Maildir per result: r-FLAG-SCORE-SYMBOLS-UNSCANNED
:0
r-$SPAM_FLAG-$SPAM_SCORE-$SPAM_SYMBOLS-$FILTER_UNSCANNED/
EOF

# sysrc LINE... - the system rc: MAILDIR, DEFAULT, then the given lines
sysrc() {
	{ echo "MAILDIR=$H/mail"; echo "DEFAULT=$H/mail/default/"
	  printf '%s\n' "$@"; } >"$T/sys.rc"
}

GTUBE='XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X'
mkmsg() { # mkmsg FILE SUBJECT BODYLINE [EXTRA-HEADER]
	printf 'From: Alice <alice@example.org>\nTo: bob@example.org\nSubject: %s\nMessage-ID: <%s.%s@filter-spamd.t>\nDate: Sat, 21 Nov 2026 10:00:00 +0000\n%s\nHello Bob,\n%s\n' \
		"$2" "$RANDOM$RANDOM" "$$" "${4:+$4
}" "$3" >"$1"
}
mkmsg "$T/spam" "spam test" "$GTUBE"
mkmsg "$T/ham" "lunch" "Shall we have lunch on Friday?"
mkmsg "$T/forged" "lunch" "Shall we have lunch on Friday?" "X-Spam-Flag: YES"

# --- HEADERS (the default) over the unix socket ------------------------------
sysrc "SPAMD=unix:$SPAMD_SOCK" 'FILTERS=spamassassin'
run "$T/spam"
is "$st" 0 "GTUBE: delivered (exit 0)"
like "$dir" '^r-YES-100[0-9]\.[0-9]+-' "GTUBE: SPAM_FLAG=YES, SPAM_SCORE over 1000"
like "$(header "$got")" 'X-Spam-Flag: YES' "GTUBE: the message has spamd's X-Spam-Flag: YES"
like "$(header "$got")" 'X-Spam-Status: Yes, score=100[0-9]' "GTUBE: and its X-Spam-Status"
is "$(body "$got" | md5sum)" "$(body "$T/spam" | md5sum)" "HEADERS: the body is unchanged, byte for byte"
is "$(header "$got" | grep -c '^Content-Type: multipart')" 0 "HEADERS: spamd's report_safe rewrite is not taken"
like "$(grep 'checking message' "$SPAMD_LOG" | tail -n 1)" 'for root:' "spamd was asked for the recipient (root here)"

run "$T/ham"
like "$dir" '^r-NO--?[0-9.]+--$' "plain message: SPAM_FLAG=NO"
like "$(header "$got")" 'X-Spam-Status: No, score=' "plain message: X-Spam-Status: No"

run "$T/forged"
is "$(grep -c '^X-Spam-Flag' "$got")" 0 "a forged X-Spam-Flag: YES is removed from a plain message"
like "$dir" '^r-NO-' "... and SPAM_FLAG is spamd's NO"

# --- TCP, the user name, the other commands ---------------------------------
sysrc "SPAMD=inet:127.0.0.1:$SPAMD_PORT" 'FILTERS=spamassassin' 'SPAMD_USER=carol'
run "$T/spam"
like "$dir" '^r-YES-' "inet:127.0.0.1:port works as the unix socket does"
like "$(grep 'identified spam' "$SPAMD_LOG" | tail -n 1)" 'for carol:' "SPAMD_USER is passed to spamd"

sysrc "SPAMD=unix:$SPAMD_SOCK" 'FILTERS=spamassassin' 'SPAMD_COMMAND=PROCESS'
run "$T/spam"
like "$dir" '^r-YES-' "PROCESS: SPAM_FLAG=YES"
like "$(cat "$got")" 'Spam detection software' "PROCESS: the message is spamd's rewritten one (report_safe)"
like "$(header "$got")" 'Content-Type: multipart/mixed' "PROCESS: ... a multipart with the original attached"

sysrc "SPAMD=unix:$SPAMD_SOCK" 'FILTERS=spamassassin' 'SPAMD_COMMAND=CHECK'
run "$T/spam"
like "$dir" '^r-YES-100[0-9]' "CHECK: SPAM_FLAG and SPAM_SCORE"
ok $(cmp -s "$got" "$T/spam"; echo $?) "CHECK: the message is unchanged, byte for byte"

sysrc "SPAMD=unix:$SPAMD_SOCK" 'FILTERS=spamassassin' 'SPAMD_COMMAND=SYMBOLS'
run "$T/spam"
like "$dir" '^r-YES-[0-9.]+-.*GTUBE' "SYMBOLS: SPAM_SYMBOLS names GTUBE"

# --- size limit, CRLF ----------------------------------------------------------
n=$(grep -c 'checking message' "$SPAMD_LOG")
sysrc "SPAMD=unix:$SPAMD_SOCK" 'FILTERS=spamassassin' 'SPAMD_MAXSIZE=100'
run "$T/spam"
is "$st" 0 "bigger than SPAMD_MAXSIZE: delivered"
ok $(cmp -s "$got" "$T/spam"; echo $?) "... unscanned and unchanged (as spamc does)"
is "$(grep -c 'checking message' "$SPAMD_LOG")" "$n" "... and spamd never saw it"
is "$dir" "r----" "... with the variables empty"

sed 's/$/\r/' "$T/spam" >"$T/spam-crlf"
sysrc "SPAMD=unix:$SPAMD_SOCK" 'FILTERS=spamassassin'
run "$T/spam-crlf"
is "$(grep -c $'^X-Spam-Flag: YES\r$' "$got")" 1 "a CRLF message gets its X-Spam fields with CRLF"
is "$(grep -vc $'\r$' "$got")" 0 "... and no bare LF anywhere"

# --- program filters keep working; the recipe form ------------------------------
sysrc
cat >"$H/.procmailrc-spamc" <<EOF
:0 fw
| spamc -U $SPAMD_SOCK
:0
r-\$SPAM_FLAG-\$SPAM_SCORE-\$SPAM_SYMBOLS-\$FILTER_UNSCANNED/
EOF
cp "$H/.ldarc" "$T/ldarc.save"
cp "$H/.procmailrc-spamc" "$H/.ldarc"
run "$T/spam"
like "$(header "$got")" 'X-Spam-Flag: YES' "a '| spamc' program filter works as in procmail"
is "$dir" "r----" "... and sets no filter variables"

cat >"$H/.ldarc" <<EOF
SPAMD=unix:$SPAMD_SOCK
:0 fw
| @spamassassin SPAMD_COMMAND=HEADERS
:0
r-\$SPAM_FLAG-\$SPAM_SCORE-\$SPAM_SYMBOLS-\$FILTER_UNSCANNED/
EOF
run "$T/spam"
like "$dir" '^r-YES-' "a ':0 fw' recipe with '| @spamassassin' runs the built-in filter"
cp "$T/ldarc.save" "$H/.ldarc"

# --- faults: no socket -----------------------------------------------------------
sysrc "SPAMD=unix:$T/no-such.sock" 'FILTERS=spamassassin' 'SPAMD_FAILURE=open'
run "$T/spam"
is "$st" 0 "spamd's socket missing, fail open: delivered"
like "$(header "$got")" 'X-LDA-Unscanned: spamassassin .*no-such.sock' "... with X-LDA-Unscanned saying why"
is "$(body "$got" | md5sum)" "$(body "$T/spam" | md5sum)" "... and the body untouched"
is "$dir" "r----spamassassin" "... SPAM_* empty, FILTER_UNSCANNED=spamassassin"

sysrc "SPAMD=unix:$T/no-such.sock" 'FILTERS=spamassassin' 'SPAMD_FAILURE=closed'
run "$T/spam"
is "$st" 75 "spamd's socket missing, fail closed: exit 75"
is "$got" "" "... and nothing delivered"
like "$(head -n 1 "$T/out")" '^4\.[0-9]\.[0-9] ' "... the first output line is a 4.x.x status"

# --- faults: a garbled reply (scripted peer) ---------------------------------------
cat >"$T/garbled.py" <<'EOF'
# a fake spamd on a unix socket: each connection gets the next bad reply
import os, socket, sys
replies = [
    b"HTTP/1.0 200 OK\r\n\r\n",
    b"SPAMD/1.1 0 EX_OK\r\nSpam: Perhaps ; 3 / 5\r\n\r\n",
    b"SPAMD/1.1 0 EX_OK\r\nContent-length: 5000\r\nSpam: True ; 9.0 / 5.0\r\n\r\nX-Spam-Flag: YES\r\n",
    b"SPAMD/1.1 0 EX_OK\r\nSpam: True ; 9.0 / 5.0\r\n",
    b"\x00\x01\x02 garbage",
]
path = sys.argv[1]
s = socket.socket(socket.AF_UNIX)
s.bind(path)
s.listen(5)
open(path + ".ready", "w").close()
for r in replies * 2:
    c, _ = s.accept()
    c.settimeout(5)
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            d = c.recv(65536)
            if not d:
                break
            data += d
    except OSError:
        pass
    c.sendall(r)
    c.close()
EOF
python3 "$T/garbled.py" "$T/garbled.sock" &
gpid=$!
at_exit "kill $gpid"
for _ in $(seq 50); do [ -e "$T/garbled.sock.ready" ] && break; sleep 0.1; done
sysrc "SPAMD=unix:$T/garbled.sock" 'FILTERS=spamassassin' 'SPAMD_FAILURE=open' 'SPAMD_TIMEOUT=5'
for what in "not SPAMD/" "a bad Spam: line" "a short body" "no blank line" "binary junk"; do
	run "$T/spam"
	is "$st/$dir" "0/r----spamassassin" "garbled reply ($what), fail open: delivered unscanned"
done
like "$(header "$got")" 'X-LDA-Unscanned: spamassassin' "... with X-LDA-Unscanned"
sysrc "SPAMD=unix:$T/garbled.sock" 'FILTERS=spamassassin' 'SPAMD_FAILURE=closed' 'SPAMD_TIMEOUT=5'
for what in "not SPAMD/" "a bad Spam: line" "a short body"; do
	run "$T/spam"
	is "$st/$got" "75/" "garbled reply ($what), fail closed: exit 75, nothing delivered"
done
kill $gpid 2>/dev/null

# --- faults: too slow, killed mid-scan ----------------------------------------------
mkmsg "$T/slow" "lda-slow-2" "$GTUBE"
sysrc "SPAMD=unix:$SPAMD_SOCK" 'FILTERS=spamassassin' 'SPAMD_TIMEOUT=1'
run "$T/slow"
is "$st/$dir" "0/r----spamassassin" "spamd slower than SPAMD_TIMEOUT, fail open (default): delivered unscanned"
like "$(header "$got")" 'X-LDA-Unscanned: spamassassin .*timed out' "... the header says it timed out"
sysrc "SPAMD=unix:$SPAMD_SOCK" 'FILTERS=spamassassin' 'SPAMD_TIMEOUT=1' 'SPAMD_FAILURE=closed'
run "$T/slow"
is "$st/$got" "75/" "spamd slower than SPAMD_TIMEOUT, fail closed: exit 75"

# kill_mid_scan MSG HOW - deliver MSG in the background, kill spamd (HOW:
# workers or all) once it is checking MSG, wait for lda
kill_mid_scan() {
	local id
	id=$(sed -n 's/^Message-ID: //p' "$1")
	rm -rf "$H/mail"; mkdir -p "$H/mail"
	st=0
	HOME=$H "$LDA" --config "$T/sys.rc" <"$1" >"$T/out" 2>"$T/err" &
	local lpid=$!
	for _ in $(seq 100); do
		grep -qF "checking message $id" "$SPAMD_LOG" && break
		sleep 0.05
	done
	if [ "$2" = all ]; then
		"$PEERS/spamd-down.sh" --kill "$SD"
	else
		local m k
		m=$(cat "$SPAMD_PIDFILE")
		for k in /proc/[0-9]*/stat; do
			read -r l <"$k" 2>/dev/null || continue
			l=${l##*) }; set -- $l
			[ "$2" = "$m" ] && { k=${k#/proc/}; kill -KILL "${k%/stat}"; }
		done
	fi
	wait $lpid || st=$?
	got=$(find "$H/mail" -path '*/new/*' -type f 2>/dev/null | head -n 1)
	dir=""
	[ -n "$got" ] && dir=$(basename "$(dirname "$(dirname "$got")")")
}
mkmsg "$T/slow5" "lda-slow-5" "$GTUBE"
sysrc "SPAMD=unix:$SPAMD_SOCK" 'FILTERS=spamassassin' 'SPAMD_FAILURE=open'
kill_mid_scan "$T/slow5" workers
is "$st/$dir" "0/r----spamassassin" "spamd's worker killed mid-scan, fail open: delivered unscanned"
like "$(header "$got")" 'X-LDA-Unscanned: spamassassin .*(closed|reset)' "... the header says spamd went away"
is "$(body "$got" | md5sum)" "$(body "$T/slow5" | md5sum)" "... and the message is whole"
mkmsg "$T/slow5b" "lda-slow-5" "$GTUBE"
sysrc "SPAMD=unix:$SPAMD_SOCK" 'FILTERS=spamassassin' 'SPAMD_FAILURE=closed'
kill_mid_scan "$T/slow5b" all
is "$st/$got" "75/" "spamd killed mid-scan, fail closed: exit 75, nothing delivered"

done_testing

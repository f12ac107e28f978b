#!/usr/bin/env bash
# store-cyrus.t - lda into a real Cyrus IMAP 3.6 over LMTP (tests/peers/
# cyrus-up.sh in a private directory): unix socket and TCP with SASL,
# folders as user+folder, one transaction per run, every exit code the
# store can cause, failover, a 20 MB message, and each malformed input
# Cyrus refuses, repaired on the way. Every delivery is checked over IMAP:
# in the right folder, body byte for byte, exactly once.
# lda runs three ways: as a service user with -d (a postfix pipe's user=,
# the usual Cyrus set-up), as root with -d (it becomes the user), and as
# root without -d (delivering as itself). Needs root; about 15 s.
. "$LDA_TOP/tests/integration/lib.sh"

P=$LDA_TOP/tests/peers
PY=/usr/bin/python3; [ -x $PY ] || PY=python3
if [ "$(id -u)" != 0 ]; then skip_all "needs root"; fi
if [ ! -x /usr/lib/cyrus/bin/master ]; then skip_all "cyrus not installed"; fi

CD=$T/cyrus
mkdir -p "$CD"
if ! out=$("$P/cyrus-up.sh" "$CD" 2>&1); then
	echo "Bail out! cyrus-up.sh: $out"; exit 1
fi
at_exit "'$P/cyrus-down.sh' '$CD'"
. "$CD/env"
SOCK=lmtp:unix:$CYRUS_LMTP_SOCK
TCP=lmtp:inet:127.0.0.1:$CYRUS_LMTP_PORT
test_user SVC svc && test_user LB bob || { echo "Bail out! cannot make test users"; exit 1; }
LOG=$T/lda.log
: >"$LOG"; chmod 666 "$LOG"

# A mailbox for the test account $LB (root -d $LB becomes that Unix user),
# made by the admin over IMAP; looked into as the admin acting as $LB.
$PY - "$CYRUS_IMAP_PORT" "$CYRUS_PW" "$LB" <<'EOF' || { echo "Bail out! cannot create user.$LB"; exit 1; }
import imaplib, sys
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
m.login("cyrus", sys.argv[2])
typ, data = m.create("user." + sys.argv[3])
sys.exit(0 if typ == "OK" else 1)
EOF

# One IMAP client for the whole test (tests/peers/imapq.py)
imapq_start "$CYRUS_IMAP_PORT" "$CYRUS_PW"

n=0
# mk FILE [SUBJECT]: a message with a fresh Message-ID (Cyrus drops repeats)
mk() {
	n=$((n + 1)); MID="<s$n.$$.$(date +%s%N)@store-cyrus.t>"
	printf 'From: Alice <alice@example.org>\nTo: bob@example.org\nSubject: %s\nMessage-ID: %s\n\nHello Bob.\n.\n..two dots\n.one dot\nFrom the test.\n' \
		"${2:-test $n}" "$MID" >"$1"
}
# body FILE: the body of message FILE as IMAP shows it (CRLF)
body() { sed '1,/^$/d' "$1" | sed 's/$/\r/'; }
# count USER FOLDER: messages in USER's FOLDER (INBOX, INBOX.Spam, ...)
count() { imapq count "$1" "$2"; }
# fetch USER FOLDER N: message N's body
fetch() { imapq fetch "$1" "$2" "$3" "$T/fetched" >/dev/null; cat "$T/fetched"; rm -f "$T/fetched"; }
# as USER IN ARGS...: lda as USER (root: "root"), stdin IN; exit in $st,
# stdout (the status line) in $out; LOGFILE is $LOG, emptied first
as() {
	local u=$1 in=$2; shift 2
	: >"$LOG"
	st=0
	# each case also checks that lda --test predicted it (lib.sh)
	if [ "$u" = root ]; then
		predicted "$in" "$LDA" "$@"
	else
		predicted "$in" runuser -u "$u" -- "$LDA" "$@"
	fi
}
# svc IN ARGS...: lda as the service user $SVC, store on the unix socket
svc() { local in=$1; shift; as $SVC "$in" --store "$SOCK" -f sender@example.org LOGFILE="$LOG" "$@"; }
# landed USER FOLDER BEFORE MSG NAME: exactly one new message, body as sent
landed() {
	local c; c=$(count "$1" "$2")
	is "$c" "$(($3 + 1))" "$5: one new message in $1's $2"
	is "$(fetch "$1" "$2" "$c" | od -An -c)" "$(body "$4" | od -An -c)" \
		"$5: body byte for byte"
}
rc() { printf '%s\n' "$@" >"$T/rc"; chmod 644 "$T/rc"; }

# --- unix socket, service user, -d ---------------------------------------
mk "$T/m"; b=$(count bob INBOX)
svc "$T/m" -d bob
is "$st" 0 "unix socket as a service user: exit 0"
landed bob INBOX "$b" "$T/m" "unix socket"
like "$(cat "$LOG")" "to=<bob>, from=<sender@example.org>, folder=bob, store=$SOCK, size=[0-9]+, status=sent \\(250 2\\.1\\.5 " \
	"the log line names the recipient, the store and its reply"

# --- root with -d: lda becomes the test account $LB ----------------------------
mk "$T/m"; b=$(count $LB INBOX)
as root "$T/m" --store "$SOCK" -f sender@example.org LOGFILE="$LOG" -d $LB
is "$st" 0 "root with -d $LB: exit 0"
landed $LB INBOX "$b" "$T/m" "root -d $LB"

# --- root without -d: delivers as root, and Cyrus has no user root ----------
mk "$T/m"
as root "$T/m" --store "$SOCK" -f sender@example.org LOGFILE="$LOG"
is "$st" 67 "root without -d: Cyrus has no mailbox root: 67"
like "$out" '^5\.1\.1 root: 550' "the status line quotes the store's 5.1.1"

# --- unknown user ---------------------------------------------------------------
mk "$T/m"
svc "$T/m" -d nosuchuser
is "$st" 67 "unknown user: 67"
like "$(cat "$LOG")" 'to=<nosuchuser>.*status=bounced \(550-Mailbox unknown.*550 5\.1\.1 User unknown\)' \
	"unknown user: the log quotes the store's reply"

# --- three folders, two recipients: one transaction ---------------------------
rc ':0c' 'Spam' ':0c' 'lists/linux' ':0' '.lists/'
mk "$T/m"
bs=$(count bob INBOX.Spam) bl=$(count bob INBOX.lists) bll=$(count bob INBOX.lists.linux)
bi=$(count bob INBOX) di=$(count dave INBOX)
# (--test's RCPT probe runs first: count only the real run's session)
PRED_BETWEEN='for f in "$CYRUS_TELEMETRY"/postman/*; do : >"$f"; done' \
	svc "$T/m" --config "$T/rc" -d bob dave
is "$st" 0 "three folders for bob and dave: exit 0"
is "$(cat "$CYRUS_TELEMETRY"/postman/* | grep -ci '^<[0-9]*<mail from')" 1 \
	"three folders, two recipients: one transaction (one MAIL FROM)"
landed bob INBOX.Spam "$bs" "$T/m" "folder Spam"
landed bob INBOX.lists.linux "$bll" "$T/m" "folder lists/linux"
landed bob INBOX.lists "$bl" "$T/m" "Maildir++ folder .lists/"
is "$(count bob INBOX)" "$bi" "nothing extra in bob's INBOX"
is "$(count dave INBOX)" "$((di + 1))" "dave has no such folders: his INBOX, once (Cyrus suppresses the repeats)"
files=$(grep -rlF "$MID" "$CYRUS_SPOOL" | grep '/[0-9]*\.$')
is "$(echo "$files" | wc -l) $(echo "$files" | xargs stat -c %i | sort -u | wc -l)" "4 1" \
	"single-instance store: 4 mailboxes, one file hard-linked"

# --- folders the store does not have, or refuses ----------------------------------
rc ':0' 'Nonexistent'
mk "$T/m"; b=$(count bob INBOX)
svc "$T/m" --config "$T/rc" -d bob
is "$st" 0 "missing folder: exit 0"
landed bob INBOX "$b" "$T/m" "missing folder: Cyrus files it in the INBOX"

rc ':0' "$(printf 'Gr\303\274\303\237e')"
mk "$T/m"; b=$(count bob INBOX)
svc "$T/m" --config "$T/rc" -d bob
is "$st" 0 "a folder Cyrus refuses (8-bit name, 501 5.5.4): exit 0"
landed bob INBOX "$b" "$T/m" "refused folder: lda's own INBOX fall-back"
like "$(cat "$LOG")" 'folder=bob\+Gr.*status=refused, to the INBOX instead \(501 5\.5\.4' \
	"the fall-back is logged with the store's reply"

mk "$T/m"; b=$(count bob INBOX)
svc "$T/m" --config "$T/rc" STORE_FALLBACK=no -d bob
is "$st" 69 "the same with STORE_FALLBACK=no: 69 (5.5.4)"
is "$(count bob INBOX)" "$b" "STORE_FALLBACK=no: nothing delivered"

# --- a locking recipe (:0:) on a store folder: the store locks, not lda -------------
rc ':0:' 'Spam/'
mk "$T/m"; b=$(count bob INBOX.Spam)
svc "$T/m" --config "$T/rc" MAILDIR=/ -d bob
is "$st" 0 ":0: on the store folder Spam/ with MAILDIR=/ (where no lockfile could be made): exit 0"
landed bob INBOX.Spam "$b" "$T/m" ":0: on a store folder: filed there"
h=$(getent passwd $SVC | cut -d: -f6)
mk "$T/m"
svc "$T/m" --config "$T/rc" -d bob
ok $([ ! -e "$h/Spam/.lock" ] && [ ! -e "$h/Spam" ] && ! grep -q 'lock' "$LOG"; echo $?) ":0: on a store folder: no Spam/.lock under \$MAILDIR, no lock in the log"

# --- over quota -------------------------------------------------------------------
mk "$T/m"; head -c 3000 /dev/zero | tr '\0' q >>"$T/m"; echo >>"$T/m"
svc "$T/m" -d carol
is "$st" 0 "carol's first message fits (Cyrus checks quota before, not after)"
mk "$T/m"
svc "$T/m" -d carol
is "$st" 75 "over quota: 75"
like "$out" '^4\.2\.2 carol: 452 4\.2\.2 Over quota' "over quota: the status line is the store's 4.2.2"
like "$(cat "$LOG")" 'to=<carol>.*status=deferred \(452 4\.2\.2 Over quota' "over quota: logged"

# --- TCP with SASL ------------------------------------------------------------------
printf 'lmtpadmin:%s\n' "$CYRUS_PW" >"$T/creds"; chown $SVC "$T/creds"; chmod 600 "$T/creds"
tcp() { local in=$1; shift; as $SVC "$in" --store "$TCP" -f sender@example.org LOGFILE="$LOG" STORE_CREDENTIALS="$T/creds" "$@"; }
mk "$T/m"; b=$(count bob INBOX)
tcp "$T/m" -d bob
is "$st" 0 "TCP + SASL, strongest mechanism: exit 0"
like "$(cat "$LOG")" "store=$TCP \\(AUTH SCRAM-SHA-256\\).*status=sent" "the strongest offered: SCRAM-SHA-256"
landed bob INBOX "$b" "$T/m" "TCP + SCRAM-SHA-256"
# libsasl2 is loaded by the first AUTH only (lda/dl.h; LD_DEBUG=files
# names every library ld.so opens, dlopen included)
ldfiles() { # ldfiles OUT MSG ARGS...: lda as $SVC; the libraries it opened
	local out=$1 in=$2; shift 2
	runuser -u $SVC -- env LD_DEBUG=files "$LDA" -f sender@example.org "$@" <"$in" >/dev/null 2>"$out" || true
	grep -o 'file=[^ ]*' "$out" | sort -u | tr '\n' ' '
}
mk "$T/m"
like "$(ldfiles "$T/ld.tcp" "$T/m" --store "$TCP" STORE_CREDENTIALS="$T/creds" -d bob)" 'libsasl2' \
	"TCP + AUTH: libsasl2 is loaded"
mk "$T/m"
libs=$(ldfiles "$T/ld.unix" "$T/m" --store "$SOCK" -d bob)
like "$libs" 'libc\.so' "unix socket: LD_DEBUG shows the libraries (the check can see)"
unlike "$libs" 'libsasl2' "unix socket (no AUTH): libsasl2 is not loaded"
for mech in PLAIN CRAM-MD5 DIGEST-MD5; do
	mk "$T/m"; b=$(count bob INBOX)
	tcp "$T/m" STORE_MECHANISMS="$mech" -d bob
	is "$st" 0 "TCP + AUTH $mech: exit 0"
	like "$(cat "$LOG")" "\\(AUTH $mech\\).*status=sent" "AUTH $mech was used"
	is "$(count bob INBOX)" "$((b + 1))" "TCP + AUTH $mech: delivered once"
done

printf 'lmtpadmin:wrong\n' >"$T/bad"; chown $SVC "$T/bad"; chmod 600 "$T/bad"
mk "$T/m"; b=$(count bob INBOX)
tcp "$T/m" STORE_CREDENTIALS="$T/bad" -d bob
is "$st" 75 "wrong password: 75"
like "$(cat "$LOG")" 'AUTH SCRAM-SHA-256 as lmtpadmin refused: 501 5\.5\.4 undefined error!' \
	"wrong password: the log quotes the store's refusal"
is "$(count bob INBOX)" "$b" "wrong password: nothing delivered"

chmod 644 "$T/creds"
tcp "$T/m" -d bob
is "$st" 75 "credentials file readable by others: 75"
like "$(cat "$LOG")" "STORE_CREDENTIALS $T/creds: owned by uid [0-9]+ with mode 0644; it must be .* mode 0600" \
	"a credentials file others can read is refused, clearly"
chmod 600 "$T/creds"; chown $LB "$T/creds"
tcp "$T/m" -d bob
is "$st" 75 "credentials file of another user: 75"
chown $SVC "$T/creds"

as $SVC "$T/m" --store "$TCP" -f sender@example.org LOGFILE="$LOG" -d bob
is "$st" 75 "TCP without credentials: the store's 430 is a 75"

# --- the connection begun at start-up (--store) ---------------------------------------
# lda connects to --store's first store before it spools and reads its rc,
# and the delivery uses that connection: one session in Cyrus's telemetry
sessions() { cat "$CYRUS_TELEMETRY"/postman/* 2>/dev/null | grep -c '^---------- postman'; }
mk "$T/m"; b=$(count bob INBOX); n0=$(sessions)
rm -f "$T/fifo"; mkfifo "$T/fifo"; chmod 644 "$T/fifo"
runuser -u $SVC -- "$LDA" --store "$SOCK" -f sender@example.org -d bob <"$T/fifo" >/dev/null 2>&1 &
lpid=$!
exec 9>"$T/fifo"
for _ in $(seq 50); do [ "$(sessions)" -gt "$n0" ] && break; sleep 0.1; done
is "$(($(sessions) - n0))" 1 "--store: the store's session begins while lda still waits for the message"
cat "$T/m" >&9; exec 9>&-
st=0; wait "$lpid" || st=$?
is "$st $(($(sessions) - n0))" "0 1" "... and the delivery goes over that one connection"
landed bob INBOX "$b" "$T/m" "--store, early connection"
# the rc sends the message elsewhere: the early connection goes unused
rc "STORE=$TCP" "STORE_CREDENTIALS=$T/creds"
mk "$T/m"; b=$(count bob INBOX)
svc "$T/m" --config "$T/rc" -d bob
is "$st" 0 "the rc sets another STORE: exit 0"
like "$(cat "$LOG")" "store=$TCP .*status=sent" "... delivered through the rc's store"
landed bob INBOX "$b" "$T/m" "the rc's STORE, not --store's"
rc ':0' '/dev/null'
mk "$T/m"; b=$(count bob INBOX)
svc "$T/m" --config "$T/rc" -d bob
is "$st $(count bob INBOX)" "0 $b" "an rc that discards: exit 0, the early connection closed unused"

# --- store down, failover ------------------------------------------------------------
mk "$T/m"
svc "$T/m" --store lmtp:unix:$T/nosuch.sock -d bob
is "$st" 75 "store down: 75"
like "$(cat "$LOG")" "to=<bob>.*status=deferred \\(lmtp:unix:$T/nosuch.sock: connect $T/nosuch.sock: No such file" \
	"store down: the log says which store and why"
b=$(count bob INBOX)
svc "$T/m" --store "lmtp:unix:$T/nosuch.sock, $SOCK" -d bob
is "$st" 0 "failover: the second store takes it"
like "$(cat "$LOG")" "store lmtp:unix:$T/nosuch.sock: .*; trying the next store" "failover is logged"
landed bob INBOX "$b" "$T/m" "failover"

# --- a 20 MB message ------------------------------------------------------------
mk "$T/big"
$PY -c 'import sys, hashlib
line = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/=-\n"
sys.stdout.buffer.write(line * (20 * 1024 * 1024 // len(line)))' >>"$T/big"
b=$(count bob INBOX)
svc "$T/big" -d bob
is "$st" 0 "20 MB message: exit 0"
c=$(count bob INBOX)
is "$c" "$((b + 1))" "20 MB message: one new message"
is "$(fetch bob INBOX "$c" | sha1sum)" "$(body "$T/big" | sha1sum)" "20 MB message: body byte for byte"

# --- what Cyrus refuses, repaired on the way ----------------------------------------
# hdr/body pieces for each case; CRLF line ends unless the case is about them
bad() { # bad NAME BYTES-AS-PRINTF
	n=$((n + 1)); MID="<bad$n.$$.$(date +%s%N)@store-cyrus.t>"
	printf "$2" "$MID" >"$T/bad.msg"
	b=$(count bob INBOX)
	svc "$T/bad.msg" -d bob
	is "$st/$(count bob INBOX)" "0/$((b + 1))" "$1: delivered (exit 0), once"
	last=$(fetch bob INBOX $((b + 1)) | od -An -c | tr -s ' \n' ' ')
}
bad "NUL in the body" 'From: a@example.org\r\nSubject: nul\r\nMessage-ID: %s\r\n\r\nHel\0lo.\r\n'
is "$last" " H e l l o . \r \n " "NUL in the body: removed"
bad "NUL in a header" 'From: a@example.org\r\nSubject: nul \0here\r\nMessage-ID: %s\r\n\r\nbody\r\n'
bad "header line without a colon" 'From: a@example.org\r\nSubject: x\r\nThis is not a header\r\nMessage-ID: %s\r\n\r\nbody\r\n'
like "$last" "^ T h i s i s n o t" "no colon: the header ends before that line (as Postfix does)"
bad "mbox From_ line first" 'From alice@example.org Sat Nov 21 10:00:00 2026\nFrom: a@example.org\nSubject: fromline\nMessage-ID: %s\n\nbody\n'
is "$last" " b o d y \r \n " "From_ line: dropped, the rest intact"
bad "continuation line first" ' folded\r\nFrom: a@example.org\r\nSubject: cont\r\nMessage-ID: %s\r\n\r\nbody\r\n'
bad "bare CR in a header" 'From: a@example.org\r\nSubject: a\rb\r\nMessage-ID: %s\r\n\r\nbody\r\n'
bad "bare CR in the body" 'From: a@example.org\r\nSubject: cr\r\nMessage-ID: %s\r\n\r\nHello.\rWorld\r\n'
is "$last" " H e l l o . \r \n W o r l d \r \n " "bare CR in the body: a line end (Cyrus would drop it)"
bad "only CRs as line ends" 'From: a@example.org\rSubject: mac\rMessage-ID: %s\r\rHello.\r'
is "$last" " H e l l o . \r \n " "CR line ends: header and body kept apart"
bad "bare LFs" 'From: a@example.org\nSubject: lf\nMessage-ID: %s\n\nHello.\nWorld\n'
is "$last" " H e l l o . \r \n W o r l d \r \n " "bare LFs: CRLF"
bad "8-bit header bytes" 'From: a@example.org\r\nSubject: caf\303\251\r\nMessage-ID: %s\r\n\r\nbody\r\n'
bad "8-bit byte in a field name" 'From: a@example.org\r\nSubj\303\251ct: x\r\nMessage-ID: %s\r\n\r\nbody\r\n'
bad "missing header/body separator" 'From: a@example.org\r\nSubject: nosep\r\nMessage-ID: %s\r\nHello there, no empty line above.\r\n'
like "$last" "^ H e l l o t h e r e" "missing separator: an empty line is put in"
long=$(head -c 2000 /dev/zero | tr '\0' a)
bad "lines over 998 bytes" "From: a@example.org\r\nSubject: long\r\nMessage-ID: %s\r\nX-Long: $long\r\n\r\n$long\r\n"
is "$last" "$(printf '%s\r\n' "$long" | od -An -c | tr -s ' \n' ' ')" "long lines: kept whole (Cyrus takes them)"
bad "empty body, no separator" 'From: a@example.org\r\nSubject: hdronly\r\nMessage-ID: %s\r\n'

done_testing

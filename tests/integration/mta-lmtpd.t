#!/usr/bin/env bash
# mta-lmtpd.t - lda -z under a real Postfix 3.7 (tests/peers/postfix-up.sh:
# the package's pristine configuration, Debian's chroot defaults, plus the
# lines of contrib/postfix/lmtpd-*.cf.example), started per connection by
# postfix's spawn(8) as a service user, delivering into a real Cyrus
# (tests/peers/cyrus-up.sh):
#   - a store user over SMTP: postfix's address verification asks lda -z
#     through the same socket, then the message is delivered (IMAP);
#   - an unknown store user over SMTP: refused at RCPT (550 5.1.1, the
#     store's verdict through lda -z, the store named only by STORE in
#     the system rc), nothing to bounce;
#   - one message for four recipients in one LMTP transaction: delivered
#     (bob), unknown (bounced 5.1.1), over quota (carol: deferred 4.2.2),
#     store down (dave, routed to a back end that is down: deferred):
#     postfix logs each recipient's own status; once carol's quota is
#     raised and dave's store is back, the queue run delivers to those
#     two only: bob has no duplicate;
#   - lda -z --store as the service user: the RCPT probes and every
#     recipient's store delivery over one connection, kept across the
#     transactions of the session (Cyrus's telemetry: one LHLO);
#   - RCPT asks the store a delivery would use: the system rc's STORE
#     over --store; a STORE only running the rc tells is not guessed;
#   - systemd socket activation (systemd-socket-activate --accept, as
#     contrib/lda-lmtp.socket has it) as root: two local users in one
#     transaction, each copy in the user's Maildir, owned by the user;
#     and with postfix in front (the documented mailbox_transport line
#     to the socket where lda-lmtp.socket puts it): local users'
#     Maildirs through postfix, an unknown local user bounced 5.1.1;
#   - inetd (openbsd-inetd) with contrib/lda-lmtp.inetd's line, as root
#     over loopback TCP: two local users' Maildirs, an unknown one 550;
#   - the single-instance store in Cyrus's log and spool, a client that
#     pauses, Cyrus killed between transactions, a TCP store with AUTH.
# Needs root; about 20 s.
. "$LDA_TOP/tests/integration/lib.sh"

P=$LDA_TOP/tests/peers
PY=/usr/bin/python3
if [ "$(id -u)" != 0 ]; then skip_all "needs root"; fi
command -v postfix >/dev/null || skip_all "postfix is not installed"
[ -x /usr/lib/postfix/sbin/spawn ] || skip_all "postfix's spawn(8) is not installed"
[ -x /usr/lib/cyrus/bin/master ] || skip_all "cyrus-imapd is not installed"
test_user SVC lzs && test_user U lzu && test_user V lzv ||
	{ echo "Bail out! cannot make users"; exit 1; }

CD=$T/cyrus; mkdir "$CD"
at_exit "'$P/cyrus-down.sh' '$CD'"
"$P/cyrus-up.sh" "$CD" >/dev/null || { echo "Bail out! cyrus-up.sh failed"; exit 1; }
. "$CD/env"
: >"$T/lda.log"; chmod 666 "$T/lda.log"
# dave's store is down (STORE_ROUTES: his back end a socket nobody
# listens on) until the test points his route at Cyrus
printf 'dave lmtp:unix:%s/down.sock\n' "$T" >"$T/routes"; chmod 644 "$T/routes"
# The store only in the system rc (contrib/postfix/lmtpd-master.cf.example
# has no --store): RCPT is still answered with the store's verdict
printf '%s\n' "LOGFILE=$T/store.log" "STORE=\"lmtp:unix:$CYRUS_LMTP_SOCK\"" \
	"STORE_ROUTES=file:$T/routes" >"$T/store.rc"
: >"$T/store.log"; chmod 666 "$T/store.log"
chmod 644 "$T/store.rc"
chmod 755 "$T"

# Postfix as contrib/postfix/lmtpd-*.cf.example have it, with only these
# substitutions: the binary is this build's (reading the test's system rc
# and logging to a file: the test has no syslog), Cyrus's socket the test
# store's, the service user ldasvc a test account.
CX=$LDA_TOP/contrib/postfix
grep -E '^[a-z]' "$CX/lmtpd-main.cf.example" >"$T/main.extra"
grep -v '^#' "$CX/lmtpd-master.cf.example" |
	sed -e "s|/usr/local/bin/lda|$LDA --config $T/store.rc --log-file $T/lda.log|" \
	    -e "s|/run/cyrus/socket/lmtp|$CYRUS_LMTP_SOCK|" \
	    -e "s|user=ldasvc|user=$SVC|" >"$T/master.extra"
PF=$T/postfix
at_exit "'$P/postfix-down.sh' '$PF'"
"$P/postfix-up.sh" "$PF" "$T/main.extra" "$T/master.extra" >/dev/null ||
	{ echo "Bail out! postfix-up.sh failed"; exit 1; }
. "$PF/env"

n=0
# send RCPT: one message over SMTP; the queue id in $QID (or
# "rcpt-refused CODE"), the Message-ID in $MID
send() {
	n=$((n + 1)); MID="<z$n.$$.$(date +%s%N)@mta-lmtpd.t>"
	printf 'From: Alice <alice@example.org>\r\nTo: %s\r\nSubject: lmtpd %s\r\nMessage-ID: %s\r\n\r\nHello.\r\n.leading dot\r\n%s\r\n' \
		"$1" "$n" "$MID" "${2:-}" >"$T/sent"
	QID=$($PY - "$POSTFIX_PORT" "$1" "$T/sent" <<'PY'
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=60)
s.ehlo("client.example.org")
s.mail("alice@example.org")
code, msg = s.rcpt(sys.argv[2])
if code != 250:
    print("rcpt-refused %d" % code); sys.exit(0)
code, msg = s.data(open(sys.argv[3], "rb").read())
s.quit()
print(msg.decode().rsplit(" ", 1)[-1] if code == 250 else "data-refused %d" % code)
PY
)
}
# submit RCPT...: one message for all of them, submitted locally
# (sendmail(1): no check at RCPT); the queue id in $QID
submit() {
	local i
	n=$((n + 1)); MID="<z$n.$$.$(date +%s%N)@mta-lmtpd.t>"
	printf 'From: Alice <alice@example.org>\nSubject: lmtpd %s\nMessage-ID: %s\n\nHello all.\n' \
		"$n" "$MID" >"$T/sent"
	sendmail -C "$POSTFIX_CONF" -f alice@example.org -- "$@" <"$T/sent"
	QID=
	for i in $(seq 300); do
		QID=$(grep -F "message-id=$MID" "$POSTFIX_LOG" | sed -n 's/.*: \([0-9A-F]*\): message-id=.*/\1/p' | head -n 1)
		[ -n "$QID" ] && break
		sleep 0.1
	done
}
# outcome QID RCPT [AFTER]: the last status Postfix logged for RCPT of QID
# (waits up to 30 s for more than AFTER such lines) in $STATUS, the line
# in $LINE
outcome() {
	local i c
	LINE=
	for i in $(seq 300); do
		c=$(grep -cE "$1: to=<$2>.*status=(sent|deferred|bounced)" "$POSTFIX_LOG")
		[ "$c" -gt "${3:-0}" ] && break
		sleep 0.1
	done
	LINE=$(grep -E "$1: to=<$2>.*status=(sent|deferred|bounced)" "$POSTFIX_LOG" | tail -n 1)
	STATUS=$(printf '%s' "$LINE" | sed -n 's/.*status=\([a-z]*\).*/\1/p')
}
count() { $PY "$P/imap.py" 127.0.0.1 "$CYRUS_IMAP_PORT" "$1*cyrus" "$CYRUS_PW" count "$2"; }

# --- a store user over SMTP: verified through lda -z, delivered -----------------
b=$(count bob INBOX)
send bob@store.example
outcome "$QID" bob@store.example
is "$STATUS" sent "bob@store.example over SMTP: verified through lda -z, then sent" ||
	diag "$LINE" "$(tail -n 5 "$T/lda.log")"
like "$LINE" 'relay=[^ ]*\[private/lda-lmtp\].*250 2\.0\.0' "... over LMTP to the spawn service, lda's 250"
is "$(count bob INBOX)" "$((b + 1))" "... one new message in bob's INBOX (IMAP)"
like "$(cat "$T/lda.log")" 'to=<bob(@store\.example)?>.*status=sent' "... lda's log line"

# --- an unknown store user over SMTP: refused at RCPT ----------------------------
send nosuchuser@store.example
is "$QID" "rcpt-refused 550" "an unknown store user over SMTP, STORE only in the system rc: refused at RCPT (550), nothing to bounce"
like "$(grep 'reject: RCPT.*nosuchuser@store.example' "$POSTFIX_LOG")" '550 5\.1\.1' \
	"... 5.1.1, postfix's address verification answered by lda -z"

# --- three recipients, three outcomes, one transaction ---------------------------
# carol's first message fits her 1 KiB quota and fills it
send carol@store.example "$(head -c 3000 /dev/zero | tr '\0' q)"
outcome "$QID" carol@store.example
is "$STATUS" sent "carol's first message: sent (fills her quota)"
b=$(count bob INBOX); c=$(count carol INBOX); d=$(count dave INBOX)
submit bob@store.example nosuchuser@store.example carol@store.example dave@store.example
Q3=$QID
outcome "$Q3" bob@store.example; is "$STATUS" sent "one message, four recipients in one transaction: bob sent" || diag "$LINE"
outcome "$Q3" nosuchuser@store.example; is "$STATUS" bounced "... the unknown one bounced" || diag "$LINE"
like "$LINE" 'dsn=5\.1\.1' "... as 5.1.1"
outcome "$Q3" carol@store.example; is "$STATUS" deferred "... carol, over quota, deferred" || diag "$LINE"
like "$LINE" 'dsn=4\.2\.2' "... as 4.2.2 (the store's)"
outcome "$Q3" dave@store.example; is "$STATUS" deferred "... dave, whose store is down, deferred" || diag "$LINE"
like "$LINE" 'down\.sock' "... saying which store"
is "$(count bob INBOX)" "$((b + 1))" "... bob's copy in his INBOX, once"
$PY - "$CYRUS_IMAP_PORT" "$CYRUS_PW" <<'EOF' || diag "cannot raise carol's quota"
import imaplib, sys
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
m.login("cyrus", sys.argv[2])
typ, _ = m.setquota("user.carol", "(STORAGE 100000)")
sys.exit(0 if typ == "OK" else 1)
EOF
printf 'dave lmtp:unix:%s\n' "$CYRUS_LMTP_SOCK" >"$T/routes"
postqueue -c "$POSTFIX_CONF" -i "$Q3"
outcome "$Q3" carol@store.example 1
is "$STATUS" sent "carol's quota raised, the queue run delivers to her" || diag "$LINE"
is "$(count carol INBOX)" "$((c + 1))" "... one new message in carol's INBOX"
outcome "$Q3" dave@store.example 1
is "$STATUS" sent "dave's store back, the same queue run delivers to him" || diag "$LINE"
is "$(count dave INBOX)" "$((d + 1))" "... one new message in dave's INBOX"
is "$(count bob INBOX)" "$((b + 1))" "... and bob has no duplicate"
is "$(grep -cE "$Q3: to=<bob@store.example>" "$POSTFIX_LOG")" 1 "... postfix delivered to bob once"

# --- one store connection for the session ----------------------------------------
# lda -z as the service user, as spawn runs it, three transactions of two
# recipients: the RCPT probes and every recipient's delivery share one
# connection to Cyrus (its telemetry: one LHLO), kept across transactions
for f in "$CYRUS_TELEMETRY"/postman/*; do : >"$f"; done
# linked: message files in Cyrus's spool stored once for two mailboxes
linked() { find "$CYRUS_SPOOL" -type f -name '[0-9]*.' -links 2 -printf '%i\n' | sort -u | wc -l; }
l0=$(linked)
b=$(count bob INBOX); d=$(count dave INBOX)
got=$($PY - "$LDA" "$SVC" "$CYRUS_LMTP_SOCK" "$T" <<'PY'
import subprocess, sys
lda, svc, sock, t = sys.argv[1:5]
p = subprocess.Popen(["runuser", "-u", svc, "--", lda, "-z", "--store",
                      "lmtp:unix:" + sock, "--config", t + "/store.rc",
                      "--log-file", t + "/lda.log"],
                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
cmds = "LHLO x\r\n"
for i in range(3):
    cmds += ("MAIL FROM:<a@example.org>\r\nRCPT TO:<bob@store.example>\r\n"
             "RCPT TO:<dave@store.example>\r\nDATA\r\nSubject: kept %d\r\n"
             "Message-ID: <kept%d.%d@mta-lmtpd.t>\r\n\r\nhi\r\n.\r\n" %
             (i, i, p.pid))
out, _ = p.communicate((cmds + "QUIT\r\n").encode(), timeout=120)
codes = [l[:3] for l in out.decode().split("\r\n") if l[3:4] == " "]
print(" ".join(codes))
PY
)
is "$got" "220 250 250 250 250 354 250 250 250 250 250 354 250 250 250 250 250 354 250 250 221" \
	"lda -z --store as the service user: three transactions of two recipients, each recipient 250"
is "$(count bob INBOX) $(count dave INBOX)" "$((b + 3)) $((d + 3))" "... three new messages each (IMAP)"
is "$(( $(linked) - l0 ))" 3 "... each message one file in Cyrus's spool, linked into both mailboxes (single-instance store)"
is "$(cat "$CYRUS_TELEMETRY"/postman/* | grep -ci '^<[0-9]*<lhlo')" 1 \
	"... over one store connection for the whole session (Cyrus saw one LHLO)"

# tel DIR: the commands Cyrus read, one per line (its telemetry prefixes
# only the first line of each read)
tel() { cat "$CYRUS_TELEMETRY/$1"/* | tr -d '\r' | sed 's/^<[0-9]*<//'; }
is "$(tel postman | grep -c '^DATA$')" 3 \
	"... single-instance store: one upstream transaction per LMTP transaction (Cyrus saw 3 DATA for 6 recipients)"
is "$(tel postman | grep -E '^(RCPT|DATA$)' | tr '\n' ' ')" \
	"$(for i in 1 2 3; do printf 'RCPT TO:<bob> RCPT TO:<dave> DATA '; done)" \
	"... each: the RCPT checks at the client's RCPT are the RCPTs of the transaction that carries the message (each recipient checked once)"
is "$(tel postman | grep -c '^RSET$')" 0 "... no probe transaction reset (no RSET)"

# zsession RC TXN...: lda -z (as the service user; as root with ZROOT=1)
# with system rc RC, one transaction per TXN ("rcpt rcpt ...;subject");
# prints the reply codes
zsession() {
	local rc=$1; shift
	ZTX=$(printf '%s\n' "$@") $PY - "$LDA" "$SVC" "$rc" "$T/lda.log" "${ZROOT:-}" <<'PY'
import os, subprocess, sys
lda, svc, rc, log, root = sys.argv[1:6]
run = [] if root else ["runuser", "-u", svc, "--"]
p = subprocess.Popen(run + [lda, "-z", "--config", rc, "--log-file", log],
                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
cmds = "LHLO x\r\n"
for i, line in enumerate(os.environ["ZTX"].splitlines()):
    rcpts, subject = line.split(";")
    cmds += "MAIL FROM:<a@example.org>\r\n"
    cmds += "".join("RCPT TO:<%s>\r\n" % r for r in rcpts.split())
    cmds += ("DATA\r\nSubject: %s\r\nMessage-ID: <zs%d.%d@mta-lmtpd.t>\r\n"
             "\r\nhi\r\n.\r\n" % (subject, i, p.pid))
out, _ = p.communicate((cmds + "QUIT\r\n").encode(), timeout=120)
print(" ".join(l[:3] for l in out.decode().split("\r\n") if l[3:4] == " "))
PY
}
telemetry_reset() { for f in "$CYRUS_TELEMETRY"/*/*; do : >"$f"; done; }
datas() { tel postman | grep -c '^DATA$'; }

# --- single-instance store: folders, a recipient's own filter, a kill ------------
# each recipient's copy into the INBOX and the lists folder (a c recipe;
# dave has none: Cyrus files dave+lists in his INBOX, where its duplicate
# suppression keeps one): one upstream transaction with four RCPTs
printf '%s\n' "LOGFILE=$T/store.log" "STORE=\"lmtp:unix:$CYRUS_LMTP_SOCK\"" \
	':0 c' '* ^Subject: .*lists' 'lists' \
	':0 fw' '* ^Subject: .*filtered' '| sed s/filtered/changed/' \
	':0' '* ^Subject: .*kill' "| $T/killer" \
	':0' '* LOGNAME ?? ^^bob^^' '* ^Subject: .*discard' '/dev/null' >"$T/sis.rc"
printf '#!/bin/sh\nkill -9 $PPID\n' >"$T/killer"; chmod 755 "$T/killer"
chmod 644 "$T/sis.rc"
telemetry_reset
b=$(count bob INBOX); bl=$(count bob INBOX.lists); d=$(count dave INBOX)
is "$(zsession "$T/sis.rc" 'bob dave;to lists')" "220 250 250 250 250 354 250 250 221" \
	"bob and dave, each into the INBOX and lists (a c recipe), in one transaction: 250 each"
is "$(count bob INBOX) $(count bob INBOX.lists) $(count dave INBOX)" "$((b + 1)) $((bl + 1)) $((d + 1))" \
	"... each copy stored once (IMAP)"
is "$(tel postman | grep -E '^(RCPT|DATA$)' | tail -n 5 | tr '\n' ' ')" \
	"RCPT TO:<bob> RCPT TO:<dave> RCPT TO:<bob+lists> RCPT TO:<dave+lists> DATA " \
	"... in one upstream transaction: each recipient's two copies, one DATA"
# bob's rc discards the message: the transaction opened at RCPT holds a
# RCPT for bob that no copy is for, so it is reset and dave's copy goes
# in one of its own (bob gets nothing)
telemetry_reset
b=$(count bob INBOX); d=$(count dave INBOX)
is "$(zsession "$T/sis.rc" 'bob dave;discard for bob')" "220 250 250 250 250 354 250 250 221" \
	"bob's rc discards, dave's does not: 250 each"
is "$(count bob INBOX) $(count dave INBOX)" "$b $((d + 1))" "... nothing for bob, dave's copy once (IMAP)"
is "$(tel postman | grep -E '^(RCPT|RSET$|DATA$)' | tr '\n' ' ')" \
	"RCPT TO:<bob> RCPT TO:<dave> RSET RCPT TO:<dave> DATA " \
	"... the transaction opened at RCPT reset, dave's copy in a new one"
# a filter that changes the message: its copies are not the transaction's
# message; that recipient's child sends its own, the rest go together
telemetry_reset
b=$(count bob INBOX); d=$(count dave INBOX)
is "$(zsession "$T/sis.rc" 'bob dave;filtered')" "220 250 250 250 250 354 250 250 221" \
	"a filter changed the message for both: 250 each"
is "$(count bob INBOX) $(count dave INBOX)" "$((b + 1)) $((d + 1))" "... each stored once (IMAP)"
is "$(datas)" 2 "... each recipient's changed message in a transaction of its own (2 DATA)"
# a recipient's run killed before it hands its copies over: that one
# 451, the others stored together
telemetry_reset
b=$(count bob INBOX); d=$(count dave INBOX)
is "$(zsession "$T/sis.rc" 'bob dave;plain' 'bob dave;kill' 'bob dave;plain again')" \
	"220 250 250 250 250 354 250 250 250 250 250 354 451 451 250 250 250 354 250 250 221" \
	"a run killed (SIGKILL) in the middle of a session: 451 for its recipients, the session goes on"
is "$(count bob INBOX) $(count dave INBOX)" "$((b + 2)) $((d + 2))" "... nothing stored for the killed runs, the others once each (IMAP)"
like "$(cat "$T/lda.log")" 'ended by signal 9|signal 9' "... the log says why"

# more recipients than children wait at once (rcptrun.h RELAY_BATCH, 64):
# bob+f1 ... bob+f70, each child's copy into its folder (plus addressing:
# FILTERS="plusaddr", as the README has it),
# the copies of the first 64 in one upstream transaction, the other 6 in
# a second; the one RCPT check (bob) opened ahead is no copy's, so reset
printf '%s\n' "STORE=lmtp:unix:$CYRUS_LMTP_SOCK" 'FILTERS="plusaddr"' >"$T/plus.rc"
chmod 644 "$T/plus.rc"
telemetry_reset
got=$(zsession "$T/plus.rc" "$(for i in $(seq 70); do printf 'bob+f%d ' "$i"; done);batch")
is "$got" "220 250 250 $(for i in $(seq 70); do printf '250 '; done)354 $(for i in $(seq 70); do printf '250 '; done)221" \
	"70 recipients in one transaction: 250 at each RCPT, one 250 each after the dot"
is "$(datas)" 2 "... the copies of the first 64 in one upstream transaction, the other 6 in a second (64 children wait at once)"
is "$(tel postman | grep -c "^RCPT TO:<bob+f")" 70 "... one RCPT per copy (each folder's address)"

# between CMD: lda -z as the service user, one transaction for bob, then
# the shell command CMD, then a second one; prints the reply codes
between() {
	$PY - "$LDA" "$SVC" "$T/store.rc" "$T/lda.log" "$1" <<'PY'
import subprocess, sys, time
lda, svc, rc, log, cmd = sys.argv[1:6]
p = subprocess.Popen(["runuser", "-u", svc, "--", lda, "-z", "--config", rc,
                      "--log-file", log], stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE)
def txn(i):
    return ("MAIL FROM:<a@example.org>\r\nRCPT TO:<bob>\r\nDATA\r\n"
            "Subject: between %d\r\nMessage-ID: <between%d.%d@mta-lmtpd.t>"
            "\r\n\r\nhi\r\n.\r\n" % (i, i, p.pid)).encode()
p.stdin.write(b"LHLO x\r\n" + txn(1)); p.stdin.flush()
seen = b""
deadline = time.time() + 60
while seen.count(b"\r\n250 2.0.0") < 1 and time.time() < deadline:
    seen += p.stdout.read1(4096)
subprocess.run(cmd, shell=True)
p.stdin.write(txn(2) + b"QUIT\r\n"); p.stdin.close()
seen += p.stdout.read()
p.wait(timeout=60)
print(" ".join(l[:3] for l in seen.decode().split("\r\n") if l[3:4] == " "))
PY
}

# --- a client that pauses: the store connection goes back -----------------------
# postfix keeps idle connections to lda -z cached (2 s by default); a
# session paused between transactions gives its store connection back, so
# that cached sessions hold no store process (lmtpd.h LMTPD_STORE_IDLE_MS)
telemetry_reset
b=$(count bob INBOX)
is "$(between 'sleep 1')" "220 250 250 250 354 250 250 250 354 250 221" "a session paused 1 s between two transactions: 250 each"
is "$(count bob INBOX)" "$((b + 2))" "... both stored (IMAP)"
is "$(tel postman | grep -ic '^LHLO')" 2 "... the store connection given back during the pause and opened anew (Cyrus saw two LHLO)"

# --- the store closes the kept connection between transactions -----------------
# Cyrus's lmtpd serving the session is killed right after the first
# transaction: the second finds the connection closed, opens a new one
# and is delivered (not deferred for a stale connection)
telemetry_reset
b=$(count bob INBOX)
is "$(between "pkill -KILL -f '[l]mtpd -C $CYRUS_CONF'; sleep 0.05")" "220 250 250 250 354 250 250 250 354 250 221" \
	"Cyrus's lmtpd killed between two transactions of a session: the second still 250 (a new connection)"
is "$(count bob INBOX)" "$((b + 2))" "... both stored (IMAP)"
is "$(tel postman | grep -ic '^LHLO')" 2 "... the second on a new connection (Cyrus saw two LHLO)"

# --- a TCP store with AUTH, kept for the session ---------------------------------
printf 'lmtpadmin:%s\n' "$CYRUS_PW" >"$T/creds"; chown "$SVC" "$T/creds"; chmod 600 "$T/creds"
printf '%s\n' "LOGFILE=$T/store.log" "STORE=lmtp:inet:127.0.0.1:$CYRUS_LMTP_PORT" \
	"STORE_CREDENTIALS=$T/creds" >"$T/tcp.rc"
chmod 644 "$T/tcp.rc"
mkdir -p "$CYRUS_TELEMETRY/lmtpadmin"; chown cyrus "$CYRUS_TELEMETRY/lmtpadmin" 2>/dev/null
rm -f "$CYRUS_TELEMETRY"/lmtpadmin/*
b=$(count bob INBOX); d=$(count dave INBOX)
is "$(zsession "$T/tcp.rc" 'bob dave;tcp 1' 'bob dave;tcp 2' 'bob dave;tcp 3')" \
	"220 250 250 250 250 354 250 250 250 250 250 354 250 250 250 250 250 354 250 250 221" \
	"a TCP store with SASL AUTH: three transactions of two recipients, 250 each"
is "$(count bob INBOX) $(count dave INBOX)" "$((b + 3)) $((d + 3))" "... three new messages each (IMAP)"
is "$(tel lmtpadmin | grep -c '^QUIT$')" 1 "... over one authenticated connection for the whole session (one QUIT)"
is "$(tel lmtpadmin | grep -c '^DATA$')" 3 "... one upstream transaction per LMTP transaction (3 DATA)"

# --- RCPT asks the store a delivery would use ------------------------------------
# rcpt_codes RC [ARGS...]: lda -z as the service user with system rc RC,
# RCPT for bob and an unknown user, then QUIT: the reply codes
rcpt_codes() {
	local rc=$1; shift
	$PY - "$LDA" "$SVC" "$rc" "$T/lda.log" "$@" <<'PY'
import subprocess, sys
lda, svc, rc, log = sys.argv[1:5]
p = subprocess.Popen(["runuser", "-u", svc, "--", lda, "-z", "--config", rc,
                      "--log-file", log] + sys.argv[5:],
                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
out, _ = p.communicate(b"LHLO x\r\nMAIL FROM:<a@example.org>\r\n"
                       b"RCPT TO:<bob@store.example>\r\n"
                       b"RCPT TO:<nosuchuser@store.example>\r\nQUIT\r\n",
                       timeout=120)
print(" ".join(l[:3] for l in out.decode().split("\r\n") if l[3:4] == " "))
PY
}
# the system rc's STORE wins over --store, as in a delivery: its store
# (down) answers, not the command line's Cyrus
printf '%s\n' "STORE=lmtp:unix:$T/down.sock" >"$T/down.rc"; chmod 644 "$T/down.rc"
is "$(rcpt_codes "$T/down.rc" --store "lmtp:unix:$CYRUS_LMTP_SOCK")" "220 250 250 451 451 221" \
	"the system rc's STORE (down) over --store (up): RCPT asks the rc's store, as a delivery would (451)"
# a STORE only running the rc tells (an expansion): not guessed; the
# command line's store, or none
printf '%s\n' 'SOCK=/nowhere' 'STORE=lmtp:unix:$SOCK' >"$T/dyn.rc"; chmod 644 "$T/dyn.rc"
is "$(rcpt_codes "$T/dyn.rc")" "220 250 250 250 250 221" \
	"STORE set with an expansion in the system rc: RCPT not checked with a store (250; the delivery decides)"
like "$(cat "$T/lda.log")" "dyn\.rc sets a STORE setting with an expansion" "... and the log says why"
is "$(rcpt_codes "$T/dyn.rc" --store "lmtp:unix:$CYRUS_LMTP_SOCK")" "220 250 250 250 550 221" \
	"... with --store as well: the command line's store answers (unknown: 550)"

# --- as root: each run as its user, the copies still sent together -------------
# two Unix accounts with Cyrus mailboxes; lda -z as root (systemd, inetd):
# each recipient's rc runs in a child that became the user (with the mail
# spool's root helper, as -d), and the parent sends both copies in one
# upstream transaction
$PY - "$CYRUS_IMAP_PORT" "$CYRUS_PW" "$U" "$V" <<'PY' || diag "cannot create the mailboxes"
import imaplib, sys
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
m.login("cyrus", sys.argv[2])
for u in sys.argv[3:5]:
    typ, data = m.create("user." + u)
    if typ != "OK":
        sys.exit("create user.%s: %s" % (u, data))
PY
printf '%s\n' "STORE=lmtp:unix:$CYRUS_LMTP_SOCK" >"$T/root.rc"; chmod 644 "$T/root.rc"
telemetry_reset
got=$(ZROOT=1 zsession "$T/root.rc" "$U $V;as root 1" "$U $V;as root 2")
is "$got" "220 250 250 250 250 354 250 250 250 250 250 354 250 250 221" \
	"lda -z as root, two local users with store mailboxes, two transactions: 250 each"
is "$(count "$U" INBOX) $(count "$V" INBOX)" "2 2" "... two messages each (IMAP)"
is "$(tel postman | grep -c '^DATA$')" 2 "... each transaction's two copies in one upstream transaction (2 DATA)"

# --- the store goes down between RCPT and the dot (the last use of Cyrus) --------
# bob is checked at RCPT; then every Cyrus process is killed: the copy the
# child hands over cannot be sent, and bob gets 451 naming the store and
# why, not a 250 (nothing stored) and not a bounce
got=$($PY - "$LDA" "$SVC" "$T/store.rc" "$T/lda.log" "$CD" <<'PY'
import subprocess, sys, time
lda, svc, rc, log, cd = sys.argv[1:6]
p = subprocess.Popen(["runuser", "-u", svc, "--", lda, "-z", "--config", rc,
                      "--log-file", log], stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE)
p.stdin.write(b"LHLO x\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<bob>\r\n")
p.stdin.flush()
seen = b""
deadline = time.time() + 60
while seen.count(b"\r\n250 2.1.5") < 1 and time.time() < deadline:
    seen += p.stdout.read1(4096)
subprocess.run("pkill -KILL -f '[c]yrus/bin/.* -C %s/'" % cd, shell=True)
time.sleep(0.2)
p.stdin.write(b"DATA\r\nSubject: down\r\n\r\nhi\r\n.\r\nQUIT\r\n")
p.stdin.close()
seen += p.stdout.read()
p.wait(timeout=60)
print(seen.decode().split("\r\n")[-3])
PY
)
like "$got" '^451 4\.[0-9.]+ .*lmtp\.sock' "Cyrus killed between RCPT and the dot: 451 for bob, naming the store" ||
	diag "$(tail -n 5 "$T/lda.log")"
like "$(grep 'to=<bob>' "$T/lda.log" | tail -n 1)" 'status=deferred \(.*lmtp\.sock' "... the log line: deferred, with the store's failure"
# --- systemd socket activation (Accept=yes) as root: local users' Maildirs ------
# postfix's spawn cannot: it refuses to run a command as root; so
# contrib/lda-lmtp.socket (root) behind postfix's mailbox_transport
if command -v systemd-socket-activate >/dev/null; then
	printf '%s\n' 'DEFAULT=$HOME/Maildir/' >"$T/local.rc"; chmod 644 "$T/local.rc"
	exec_line=$(sed -n 's/^ExecStart=//p' "$LDA_TOP/contrib/lda-lmtp@.service" |
		sed "s|/usr/local/bin/lda|$LDA --config $T/local.rc --log-file $T/lda.log|")
	systemd-socket-activate --accept --inetd -l "$T/lda-root" $exec_line 2>"$T/ssa.err" &
	SSA=$!
	at_exit "kill $SSA"
	for _ in $(seq 100); do [ -S "$T/lda-root" ] && break; sleep 0.1; done
	got=$($PY - "$T/lda-root" "$U" "$V" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(60)
s.connect(sys.argv[1])
f = s.makefile("rb")
def reply():
    while True:
        ln = f.readline().decode()
        if len(ln) < 4 or ln[3] != "-":
            return ln[:3]
s.sendall(("LHLO x\r\nMAIL FROM:<alice@example.org>\r\nRCPT TO:<%s>\r\n"
           "RCPT TO:<%s>\r\nRCPT TO:<nosuchuserlz>\r\nDATA\r\n"
           "Subject: socket\r\n\r\nvia systemd\r\n.\r\nQUIT\r\n" %
           (sys.argv[2], sys.argv[3])).encode())
print(" ".join(reply() for _ in range(10)))
PY
)
	is "$got" "220 250 250 250 250 550 354 250 250 221" \
		"systemd-socket-activate --accept (lda-lmtp.socket), as root: two local users accepted, the unknown one refused (550), one reply each after the dot"
	for u in "$U" "$V"; do
		h=$(getent passwd "$u" | cut -d: -f6)
		f=$(find "$h/Maildir/new" -type f 2>/dev/null)
		is "$(echo "$f" | grep -c .):$(stat -c %U $f 2>/dev/null)" "1:$u" "... $u: one copy in ~/Maildir, owned by $u"
	done
	# postfix in front: the socket where lda-lmtp.socket puts it (under
	# the queue directory: Debian's lmtp client is chrooted there; owner
	# and mode as SocketUser= and SocketMode= set them), main.cf's
	# documented mailbox_transport line, uncommented
	ls=$POSTFIX_DIR/queue/private/lda-root
	systemd-socket-activate --accept --inetd -l "$ls" $exec_line 2>"$T/ssa2.err" &
	SSA2=$!
	at_exit "kill $SSA2"
	for _ in $(seq 100); do [ -S "$ls" ] && break; sleep 0.1; done
	chown postfix "$ls"; chmod 600 "$ls"
	mt=$(sed -n 's/^#\(mailbox_transport = .*\)/\1/p' "$CX/lmtpd-main.cf.example")
	postconf -c "$POSTFIX_CONF" -e "$mt" && postfix -c "$POSTFIX_CONF" reload >/dev/null 2>&1
	sleep 1
	submit "$U@lda-test.example" "$V@localhost" nosuchuserlz@lda-test.example
	Q4=$QID
	for u in "$U" "$V"; do
		outcome "$Q4" "$u@[a-z.-]*"
		is "$STATUS" sent "postfix (mailbox_transport, $mt) to lda -z as root: $u sent" || diag "$LINE" "$(cat "$T/ssa2.err")"
		like "$LINE" 'relay=[^ ]*\[private/lda-root\].*250 2\.0\.0' "... over LMTP to the root socket, lda's 250"
		h=$(getent passwd "$u" | cut -d: -f6)
		f=$(grep -l "^Message-ID: $MID" "$h"/Maildir/new/* 2>/dev/null)
		is "$(echo "$f" | grep -c .):$(stat -c %U $f 2>/dev/null)" "1:$u" "... $u: the message in ~/Maildir/new, owned by $u"
	done
	outcome "$Q4" nosuchuserlz@lda-test.example
	is "$STATUS" bounced "... an unknown local user: bounced" || diag "$LINE"
	like "$LINE" 'dsn=5\.1\.1' "... as 5.1.1 (lda's RCPT verdict)"
else
	skip_part "systemd-socket-activate is not installed"
fi

# --- inetd as root (contrib/lda-lmtp.inetd, openbsd-inetd) -----------------------
# the documented line, with only the port (a free one for 127.0.0.1:lmtp)
# and the binary (this build, the test's system rc and log) substituted;
# inetd in the foreground (-d) on a configuration file of its own
if [ -x /usr/sbin/inetd ]; then
	printf '%s\n' 'DEFAULT=$HOME/Maildir/' >"$T/local.rc"; chmod 644 "$T/local.rc"
	port=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	grep -v '^#' "$LDA_TOP/contrib/lda-lmtp.inetd" |
		sed -e "s|^127\.0\.0\.1:lmtp |127.0.0.1:$port |" \
		    -e "s|/usr/local/bin/lda lda -z|$LDA lda -z --config $T/local.rc --log-file $T/lda.log|" >"$T/inetd.conf"
	/usr/sbin/inetd -d "$T/inetd.conf" >"$T/inetd.out" 2>&1 &
	INETD=$!
	at_exit "kill $INETD"
	got=$($PY - "$port" "$U" "$V" <<'PY'
import socket, sys, time
for _ in range(100):
    try:
        s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=60)
        break
    except OSError:
        time.sleep(0.1)
f = s.makefile("rb")
def reply():
    while True:
        ln = f.readline().decode()
        if len(ln) < 4 or ln[3] != "-":
            return ln[:3]
s.sendall(("LHLO x\r\nMAIL FROM:<alice@example.org>\r\nRCPT TO:<%s>\r\n"
           "RCPT TO:<%s>\r\nRCPT TO:<nosuchuserlz>\r\nDATA\r\n"
           "Subject: inetd\r\nMessage-ID: <inetd.%d@mta-lmtpd.t>\r\n\r\n"
           "via inetd\r\n.\r\nQUIT\r\n" %
           (sys.argv[2], sys.argv[3], time.time_ns())).encode())
print(" ".join(reply() for _ in range(10)))
PY
)
	is "$got" "220 250 250 250 250 550 354 250 250 221" \
		"inetd (contrib/lda-lmtp.inetd) as root over loopback TCP: two local users accepted, the unknown one refused (550), one reply each after the dot" ||
		diag "$(tail -n 5 "$T/inetd.out")"
	for u in "$U" "$V"; do
		h=$(getent passwd "$u" | cut -d: -f6)
		f=$(grep -l '^Subject: inetd' "$h"/Maildir/new/* 2>/dev/null)
		is "$(echo "$f" | grep -c .):$(stat -c %U $f 2>/dev/null)" "1:$u" "... $u: the copy in ~/Maildir/new, owned by $u"
	done
elif [ -n "${CI:-}" ]; then
	ok 1 "openbsd-inetd is installed (make deps)"
else
	skip_part "openbsd-inetd is not installed"
fi
done_testing

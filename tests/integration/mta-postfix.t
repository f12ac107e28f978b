#!/usr/bin/env bash
# mta-postfix.t - lda under a real Postfix 3.7 started from the package's
# pristine configuration, Debian's chroot defaults as shipped, plus the
# lines of contrib/postfix/*.example (tests/peers/postfix-up.sh), mail
# sent in over SMTP on 127.0.0.1:
#   - set-up 1, mailbox_command: a local user's message in ~/Maildir, the
#     address extension ($EXTENSION) as its folder; exit 75 (the user's
#     store is down): Postfix defers and keeps the message; once the cause
#     is gone, a queue run delivers it, once;
#   - set-up 2, the store's domain relayed to the lda pipe(8) transport as
#     a service user (not cyrus) into Cyrus (tests/peers/cyrus-up.sh): the message over
#     IMAP in the INBOX and in the folder of the extension; a user the
#     store does not know (submitted locally): exit 67, and Postfix
#     bounces it with lda's status line (5.1.1);
#   - set-up 3, no bounce storm: Postfix's own address verification
#     against the store's LMTP socket through the unchrooted verify-lmtp
#     service: an unknown user is refused at RCPT time with the store's
#     550, a known one delivered through lda.
# Needs root; about 15 s.
. "$LDA_TOP/tests/integration/lib.sh"

P=$LDA_TOP/tests/peers
PY=/usr/bin/python3
if [ "$(id -u)" != 0 ]; then skip_all "needs root"; fi
command -v postfix >/dev/null || skip_all "postfix is not installed"
[ -x /usr/lib/cyrus/bin/master ] || skip_all "cyrus-imapd is not installed"
test_user U pfx && test_user SVC pfs || { echo "Bail out! cannot make users"; exit 1; }
H=$(getent passwd $U | cut -d: -f6)
MD=$H/Maildir
# the user has no Maildir yet: the README's line in the system rc makes it
rm -rf "$MD" "$H/.procmailrc" "$H/.ldarc"

# the store, and the system rcs (as /etc/lda.rc would be): plus addresses
# on (README: FILTERS="plusaddr"), DEFAULT=$HOME/Maildir/ (README: under
# mailbox_command lda runs as the user, who cannot create /var/mail/$USER),
# and the store for the pipe transport
CD=$T/cyrus; mkdir "$CD"
at_exit "'$P/cyrus-down.sh' '$CD'"
"$P/cyrus-up.sh" "$CD" >/dev/null || { echo "Bail out! cyrus-up.sh failed"; exit 1; }
. "$CD/env"
printf '%s\n' 'FILTERS="plusaddr"' 'DEFAULT=$HOME/Maildir/' >"$T/local.rc"
printf '%s\n' 'FILTERS="plusaddr"' "STORE=lmtp:unix:$CYRUS_LMTP_SOCK" "LOGFILE=$T/store.log" >"$T/store.rc"
: >"$T/store.log"; chmod 666 "$T/store.log"
chmod 644 "$T/local.rc" "$T/store.rc"
chmod 755 "$T"

# Postfix as contrib/postfix/ has it, on the package's pristine
# configuration (tests/peers/postfix-up.sh): every line of
# main.cf.example and master.cf.example, the optional set-ups' "#name"
# lines uncommented, with only these substitutions: the binary
# /usr/local/bin/lda is this build's, reading the rc a test gives it
# (--config, instead of /etc/lda.rc), and Cyrus's /run/cyrus/socket/lmtp
# is the test store's socket; the pipe transport's service user ldasvc
# is a test account (the test Cyrus's socket is open to every user).
CX=$LDA_TOP/contrib/postfix
sed -n 's/^#\([a-z]\)/\1/; /^[a-z]/p' "$CX/main.cf.example" |
	sed -e "/^mailbox_command/s|/usr/local/bin/lda|$LDA --config $T/local.rc|" \
	    -e "s|/run/cyrus/socket/lmtp|$CYRUS_LMTP_SOCK|" >"$T/main.extra"
grep -v '^#' "$CX/master.cf.example" |
	sed -e "s|/usr/local/bin/lda|$LDA --config $T/store.rc|" \
	    -e "s|user=ldasvc|user=$SVC|" >"$T/master.extra"
PF=$T/postfix
at_exit "'$P/postfix-down.sh' '$PF'"
"$P/postfix-up.sh" "$PF" "$T/main.extra" "$T/master.extra" >/dev/null ||
	{ echo "Bail out! postfix-up.sh failed"; exit 1; }
. "$PF/env"

n=0
# send RCPT: one message over SMTP to RCPT, with a fresh Message-ID; the
# queue id in $QID, the Message-ID in $MID, the message in $T/sent
send() {
	n=$((n + 1)); MID="<p$n.$$.$(date +%s%N)@mta-postfix.t>"
	printf 'From: Alice <alice@example.org>\r\nTo: %s\r\nSubject: postfix %s\r\nMessage-ID: %s\r\n\r\nHello.\r\n.leading dot\r\nFrom the test.\r\n' \
		"$1" "$n" "$MID" >"$T/sent"
	QID=$($PY - "$POSTFIX_PORT" "$1" "$T/sent" <<'PY'
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=30)
s.ehlo("client.example.org")
code, msg = s.mail("alice@example.org")
code, msg = s.rcpt(sys.argv[2])
if code != 250:
    print("rcpt-refused %d" % code); sys.exit(0)
code, msg = s.data(open(sys.argv[3], "rb").read())
s.quit()
print(msg.decode().rsplit(" ", 1)[-1] if code == 250 else "data-refused %d" % code)
PY
)
}
# outcome QID: the status Postfix logged for it in $STATUS (sent,
# deferred, bounced; waits up to 30 s), the log line in $LINE
outcome() {
	local i
	LINE=
	for i in $(seq 300); do
		LINE=$(grep -E "$1: to=<.*status=(sent|deferred|bounced)" "$POSTFIX_LOG" | tail -n 1)
		[ -n "$LINE" ] && break
		sleep 0.1
	done
	STATUS=$(printf '%s' "$LINE" | sed -n 's/.*status=\([a-z]*\).*/\1/p')
}
# submit RCPT: the same, submitted locally with Postfix's sendmail(1);
# the queue id (from cleanup's message-id= log line) in $QID
submit() {
	local i
	n=$((n + 1)); MID="<p$n.$$.$(date +%s%N)@mta-postfix.t>"
	printf 'From: Alice <alice@example.org>\nTo: %s\nSubject: postfix %s\nMessage-ID: %s\n\nHello.\n' \
		"$1" "$n" "$MID" >"$T/sent"
	sendmail -C "$POSTFIX_CONF" -f alice@example.org -- "$1" <"$T/sent"
	QID=
	for i in $(seq 300); do
		QID=$(grep -F "message-id=$MID" "$POSTFIX_LOG" | sed -n 's/.*: \([0-9A-F]*\): message-id=.*/\1/p' | head -n 1)
		[ -n "$QID" ] && break
		sleep 0.1
	done
}
# in_maildir DIR: the files of DIR/new holding $MID
in_maildir() { grep -lF -- "$MID" "$1"/new/* 2>/dev/null; }
# count USER FOLDER: messages there, over IMAP (the admin acting as USER)
count() { $PY "$P/imap.py" 127.0.0.1 "$CYRUS_IMAP_PORT" "$1*cyrus" "$CYRUS_PW" count "$2"; }

# --- mailbox_command: a local user --------------------------------------------
send "$U@lda-test.example"
outcome "$QID"; is "$STATUS" sent "mailbox_command: Postfix says sent" || diag "$LINE"
like "$LINE" 'delivered to command: ' "... by the command"
f=$(in_maildir "$MD")
is "$(echo "$f" | grep -c .)" 1 "... in ~/Maildir/new, once"
is "$(stat -c %U "$MD" 2>/dev/null)" "$U" "... the Maildir made by lda, the user's"
is "$(sed '1,/^\r\{0,1\}$/d' "$f" | od -An -c)" "$(sed '1,/^\r$/d' "$T/sent" | tr -d '\r' | od -An -c)" \
	"... the body as sent"
# the user makes the folder (as a mail client does); plusaddr files into it
runuser -u $U -- mkdir -p "$MD/.lists/cur" "$MD/.lists/new" "$MD/.lists/tmp"
send "$U+lists@lda-test.example"
outcome "$QID"; is "$STATUS" sent "mailbox_command, $U+lists: sent"
is "$(in_maildir "$MD/.lists" | grep -c .)" 1 "... into the folder of \$EXTENSION (.lists)"

# --- exit 75: deferred, kept, delivered by the next queue run ---------------
printf 'STORE=lmtp:unix:%s/no-such.sock\n' "$T" >"$H/.procmailrc"
chown $U: "$H/.procmailrc"; chmod 600 "$H/.procmailrc"
send "$U@lda-test.example"
outcome "$QID"; is "$STATUS" deferred "a store that is down: lda exits 75, Postfix defers"
like "$LINE" 'no-such.sock' "... with lda's reason in the log"
is "$(in_maildir "$MD" | grep -c .)" 0 "... nothing delivered"
ok $(postqueue -c "$POSTFIX_CONF" -j | grep -qF "\"queue_id\": \"$QID\""; echo $?) "... and the message kept in the queue"
rm -f "$H/.procmailrc"
before=$(grep -c "$QID: to=" "$POSTFIX_LOG")
postqueue -c "$POSTFIX_CONF" -i "$QID"
for _ in $(seq 300); do
	[ "$(grep -c "$QID: to=" "$POSTFIX_LOG")" -gt "$before" ] && break; sleep 0.1
done
like "$(grep "$QID: to=" "$POSTFIX_LOG" | tail -n 1)" 'status=sent' "the cause gone, the queue run delivers it"
is "$(in_maildir "$MD" | grep -c .)" 1 "... once, into ~/Maildir"

# --- set-up 2: the pipe transport into Cyrus ------------------------------------
b=$(count bob INBOX)
send "bob@store.example"
outcome "$QID"; is "$STATUS" sent "set-up 2, a user without a Unix account: pipe transport as cyrus into Cyrus: sent" || diag "$LINE"
like "$LINE" 'delivered via lda service' "... by the lda transport"
like "$(cat "$T/store.log")" "lda\[[0-9]+\]: $QID: message-id=<.*to=<bob>.*status=sent" \
	"... and lda's log line starts with Postfix's queue ID (--queue-id \${queue_id}) and the Message-ID"
is "$(count bob INBOX)" "$((b + 1))" "... one new message in bob's INBOX (IMAP)"
b=$(count bob INBOX.Spam)
send "bob+Spam@store.example"
outcome "$QID"; is "$STATUS" sent "bob+Spam@store.example: sent"
is "$(count bob INBOX.Spam)" "$((b + 1))" "... into bob's Spam folder (\${extension} as -a)"
# a local submission (postdrop, pickup) is not checked at RCPT time: lda
# itself meets the unknown user
submit "nosuchuser@store.example"
outcome "$QID"; is "$STATUS" bounced "a user the store does not know, submitted locally: lda exits 67, Postfix bounces"
like "$LINE" 'dsn=5\.1\.1' "... as 5.1.1"
like "$LINE" '550 5\.1\.1|User unknown|user unknown' "... quoting the store's reply"

# --- set-up 3, no bounce storm: unknown store users refused at RCPT time -----------
send "nosuchuser@store.example"
is "$QID" "rcpt-refused 550" "set-up 3, address verification against the store (postfix's chroot as shipped): an unknown user is refused at RCPT (550), nothing to bounce"
like "$(grep 'reject: RCPT.*nosuchuser@store.example' "$POSTFIX_LOG")" '550 5\.1\.1.*User unknown' \
	"... with the store's own reply"
unlike "$(grep -h 'verify-lmtp' "$POSTFIX_LOG")" 'No such file|connect to' "... the probe reached the store's socket"
done_testing

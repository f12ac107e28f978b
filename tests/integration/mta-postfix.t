#!/usr/bin/env bash
# mta-postfix.t - lda under a real Postfix 3.7 (tests/peers/postfix-up.sh),
# set up as contrib/postfix/ says, mail sent in over SMTP on 127.0.0.1:
#   - mailbox_command: a local user's message in ~/Maildir, the address
#     extension ($EXTENSION) as its folder;
#   - exit 75 (the user's store is down): Postfix defers and keeps the
#     message; once the cause is gone, a queue run delivers it, once;
#   - a pipe(8) transport as a service user into Cyrus (tests/peers/
#     cyrus-up.sh): the message over IMAP in the INBOX and in the folder
#     of the extension; a user the store does not know: exit 67, and
#     Postfix bounces it with lda's status line (5.1.1);
#   - no bounce storm: for a domain with Postfix's own address verification
#     against the store's LMTP socket (contrib/postfix/main.cf.example,
#     set-up 3), a user the store does not know is refused at RCPT time,
#     and a known one is delivered through lda.
# Needs root; about 15 s.
. "$LDA_TOP/tests/integration/lib.sh"

P=$LDA_TOP/tests/peers
PY=/usr/bin/python3
if [ "$(id -u)" != 0 ]; then skip_all "needs root"; fi
command -v postfix >/dev/null || skip_all "postfix is not installed"
[ -x /usr/lib/cyrus/bin/master ] || skip_all "cyrus-imapd is not installed"
test_user U pfx && test_user SVC svc || { echo "Bail out! cannot make users"; exit 1; }
H=$(getent passwd $U | cut -d: -f6)
MD=$H/Maildir
rm -rf "$MD" "$H/.procmailrc" "$H/.ldarc"
mkdir -p "$MD"/{cur,new,tmp} "$MD/.lists"/{cur,new,tmp}
chown -R $U: "$MD"

# the store, and the system rcs (as /etc/lda.rc would be): plus addresses
# on (README: FILTERS="plusaddr"), and the store for the pipe transport
CD=$T/cyrus; mkdir "$CD"
at_exit "'$P/cyrus-down.sh' '$CD'"
"$P/cyrus-up.sh" "$CD" >/dev/null || { echo "Bail out! cyrus-up.sh failed"; exit 1; }
. "$CD/env"
printf '%s\n' 'FILTERS="plusaddr"' >"$T/local.rc"
printf '%s\n' 'FILTERS="plusaddr"' "STORE=lmtp:unix:$CYRUS_LMTP_SOCK" >"$T/store.rc"
chmod 644 "$T/local.rc" "$T/store.rc"
chmod 755 "$T"

# Postfix, as contrib/postfix/main.cf.example and master.cf.example have
# it: local users through mailbox_command; the domain store.example
# through the lda pipe transport, run as the service user $SVC
cat >"$T/main.extra" <<EOF
mailbox_command = $LDA --config $T/local.rc -a "\$EXTENSION"
recipient_delimiter = +
relay_domains = store.example, verified.example
transport_maps = inline:{ store.example=lda, verified.example=lda }
lda_destination_recipient_limit = 1
smtpd_recipient_restrictions =
  check_recipient_access inline:{ verified.example=reject_unverified_recipient }
address_verify_transport_maps = inline:{ verified.example=lmtp:unix:$CYRUS_LMTP_SOCK }
unverified_recipient_reject_code = 550
address_verify_map =
# smtpd waits for the probe's answer up to 20 polls of 1 s (not 3 x 3 s,
# which a loaded machine could outlast and turn the 550 into a 450)
address_verify_poll_delay = 1s
address_verify_poll_count = 20
EOF
cat >"$T/master.extra" <<EOF
lda   unix  -       n       n       -       -       pipe
  flags=R user=$SVC argv=$LDA --config $T/store.rc -f \${sender} -a \${extension} -d \${user}
EOF
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
is "$(sed '1,/^\r\{0,1\}$/d' "$f" | od -An -c)" "$(sed '1,/^\r$/d' "$T/sent" | tr -d '\r' | od -An -c)" \
	"... the body as sent"
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

# --- the pipe transport into Cyrus ----------------------------------------------
b=$(count bob INBOX)
send "bob@store.example"
outcome "$QID"; is "$STATUS" sent "pipe transport as the service user into Cyrus: sent" || diag "$LINE"
is "$(count bob INBOX)" "$((b + 1))" "... one new message in bob's INBOX (IMAP)"
b=$(count bob INBOX.Spam)
send "bob+Spam@store.example"
outcome "$QID"; is "$STATUS" sent "bob+Spam@store.example: sent"
is "$(count bob INBOX.Spam)" "$((b + 1))" "... into bob's Spam folder (\${extension} as -a)"
send "nosuchuser@store.example"
outcome "$QID"; is "$STATUS" bounced "a user the store does not know: lda exits 67, Postfix bounces"
like "$LINE" 'dsn=5\.1\.1' "... as 5.1.1"
like "$LINE" '550 5\.1\.1|User unknown|user unknown' "... quoting the store's reply"

# --- no bounce storm: unknown store users refused at RCPT time -------------------
send "nosuchuser@verified.example"
is "$QID" "rcpt-refused 550" "address verification against the store: an unknown user is refused at RCPT (550), nothing to bounce"
like "$(grep 'reject: RCPT.*nosuchuser@verified.example' "$POSTFIX_LOG")" '550 5\.1\.1.*User unknown' \
	"... with the store's own reply"
b=$(count bob INBOX)
send "bob@verified.example"
outcome "$QID"; is "$STATUS" sent "a user the store has: accepted, and delivered through lda" || diag "$LINE"
like "$LINE" 'delivered via lda service' "... by the lda transport"
is "$(count bob INBOX)" "$((b + 1))" "... into bob's INBOX (IMAP)"

done_testing

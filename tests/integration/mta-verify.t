#!/usr/bin/env bash
# mta-verify.t - the mailstorm stopped at RCPT time: lda-verify (build/
# lda-verify) beside a real Postfix 3.7 (policy delegation, contrib/
# postfix/lda-verify.cf.example with set-ups 1 and 2 of main.cf.example)
# and a real sendmail 8.17 (socket map, contrib/sendmail/lda-verify.mc),
# both delivering store.example into Cyrus through lda as a service user:
#   - 50 RCPTs for users Cyrus does not have are refused with 550 5.1.1
#     in the SMTP dialogue, through each MTA, and not one bounce is made
#     (each MTA's queue is empty, the sender's and the postmaster's
#     mailbox get nothing, no bounce in postfix's log);
#   - a known user, asked in the same session, is delivered (IMAP);
#   - Cyrus stopped: RCPTs get 4xx (450 / 451), nothing is accepted;
#   - lda-verify runs as the service user (started as root with --user), reads STORE
#     from the system rc (--config), answers garbage with an error and
#     goes on serving.
# Substitutions in the contrib files: /usr/local/bin/lda is this build's
# lda with --config, Cyrus's socket is the test store's, the ports
# 10031/10032 are free ones. Needs root.
. "$LDA_TOP/tests/integration/lib.sh"

P=$LDA_TOP/tests/peers
PY=/usr/bin/python3
VERIFY=${LDA_BUILD:-$LDA_TOP/build}/lda-verify
if [ "$(id -u)" != 0 ]; then skip_all "needs root"; fi
command -v postfix >/dev/null || skip_all "postfix is not installed"
command -v m4 >/dev/null || skip_all "m4 is not installed (make deps)"
ls "${LDA_DEBS:-/var/cache/lda/debs}"/sendmail-bin_*.deb >/dev/null 2>&1 ||
	skip_all "no sendmail packages in ${LDA_DEBS:-/var/cache/lda/debs} (make deps)"
[ -x /usr/lib/cyrus/bin/master ] || skip_all "cyrus-imapd is not installed"
[ -x "$VERIFY" ] || { echo "Bail out! no $VERIFY (make)"; exit 1; }
test_user U vfy && test_user SVC vfs || { echo "Bail out! cannot make users"; exit 1; }
H=$(getent passwd $U | cut -d: -f6)
MD=$H/Maildir
rm -rf "$MD"; mkdir -p "$MD"/{cur,new,tmp}; chown -R $U: "$MD"

CD=$T/cyrus; mkdir "$CD"
at_exit "'$P/cyrus-down.sh' '$CD'"
"$P/cyrus-up.sh" "$CD" >/dev/null || { echo "Bail out! cyrus-up.sh failed"; exit 1; }
. "$CD/env"
imapq_start "$CYRUS_IMAP_PORT" "$CYRUS_PW"
printf '%s\n' 'FILTERS="plusaddr"' >"$T/local.rc"
printf '%s\n' 'FILTERS="plusaddr"' "STORE=lmtp:unix:$CYRUS_LMTP_SOCK" >"$T/store.rc"
chmod 644 "$T/local.rc" "$T/store.rc"
chmod 755 "$T"
freeport() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# --- lda-verify: policy and socketmap, as the service user, STORE from the system rc ---------
PPORT=$(freeport) SPORT=$(freeport)
"$VERIFY" --config "$T/store.rc" --user "$SVC" --listen "inet:127.0.0.1:$PPORT" --protocol policy 2>"$T/policy.log" &
VP=$!; at_exit "kill $VP"
"$VERIFY" --config "$T/store.rc" --user "$SVC" --listen "inet:127.0.0.1:$SPORT" --protocol socketmap 2>"$T/socketmap.log" &
VS=$!; at_exit "kill $VS"
up() { grep -q answering "$T/policy.log" && grep -q answering "$T/socketmap.log"; }
for _ in $(seq 100); do up && break; sleep 0.1; done
like "$(cat "$T/policy.log")" "answering policy on inet:127.0.0.1:$PPORT; lmtp:unix:$CYRUS_LMTP_SOCK" \
	"lda-verify: STORE from the system rc (--config)"
is "$(awk '/^Uid:/ { print $2 }' /proc/$VP/status)" "$(id -u "$SVC")" "lda-verify started as root runs as --user, the service user"
# garbage: an error answer, the connection closed, the service goes on
g=$($PY - "$SPORT" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 10)
s.sendall(b"99999999:x," + b"\x00\xff" * 50)
print(s.recv(200).decode(errors="replace"))
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 10)
s.sendall(b"21:lda bob@store.example,")
print(s.recv(200).decode())
PY
)
like "$g" 'PERM .*too large' "socketmap garbage: a PERM answer"
like "$g" 'OK bob@store.example' "... and the next client is served (a known user: OK)"
ok $(kill -0 $VS; echo $?) "... lda-verify still runs"

# the SMTP session: MAIL, every RCPT of the list, DATA when one was taken;
# prints one "CODE RCPT" line per RCPT, then "data CODE"
smtp() {
	$PY - "$@" <<'PY'
import smtplib, sys
port, sender, rcpts = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
s = smtplib.SMTP("127.0.0.1", port, timeout=120)
s.ehlo("client.example.org")
s.mail(sender)
took = []
for r in rcpts:
    code, msg = s.rcpt(r)
    print(code, r, msg.decode(errors="replace").replace("\n", " "))
    if code == 250:
        took.append(r)
if took:
    code, msg = s.data(b"From: " + sender.encode() + b"\r\nSubject: verify\r\n\r\nHello.\r\n")
    print("data", code)
s.quit()
PY
}
# fifty: five sessions of ten (postfix drops a client after 20 errors,
# smtpd_hard_error_limit, and slows down after 10), the known user last
fifty() {
	local s i
	for s in 0 1 2 3 4; do
		# shellcheck disable=SC2046
		smtp "$1" "$U@lda-test.example" $(for i in $(seq $((s * 10 + 1)) $((s * 10 + 10))); do
			printf 'nosuch%s@store.example ' "$i"; done) $([ $s = 4 ] && echo bob@store.example)
	done
}

# --- postfix ------------------------------------------------------------------------
CX=$LDA_TOP/contrib/postfix
# set-ups 1 and 2 of main.cf.example (not 3: lda-verify replaces it), and
# every line of lda-verify.cf.example
sed -n '/^# 3\./q; s/^#\([a-z]\)/\1/; /^[a-z]/p' "$CX/main.cf.example" |
	sed -e "/^mailbox_command/s|/usr/local/bin/lda|$LDA --config $T/local.rc|" >"$T/main.extra"
grep -v '^#' "$CX/lda-verify.cf.example" | sed -e "s|127.0.0.1:10031|127.0.0.1:$PPORT|" >>"$T/main.extra"
grep -v '^#' "$CX/master.cf.example" |
	sed -e "s|/usr/local/bin/lda|$LDA --config $T/store.rc|" -e "s|user=ldasvc|user=$SVC|" >"$T/master.extra"
PF=$T/postfix
at_exit "'$P/postfix-down.sh' '$PF'"
"$P/postfix-up.sh" "$PF" "$T/main.extra" "$T/master.extra" >/dev/null ||
	{ echo "Bail out! postfix-up.sh failed"; exit 1; }
. "$PF/env"
b=$(imapq count bob INBOX)
out=$(fifty "$POSTFIX_PORT")
is "$(echo "$out" | grep -c '^550 nosuch.*5\.1\.1')" 50 "postfix + lda-verify: 50 unknown store users refused at RCPT with 550 5.1.1" ||
	diag "$(echo "$out" | grep -v '^550' | head -n 3)"
like "$(echo "$out" | grep '^250 bob@store.example')" . "... the known user in the same session: 250"
is "$(echo "$out" | grep '^data')" "data 250" "... and the message taken"
for _ in $(seq 300); do [ "$(imapq count bob INBOX)" = $((b + 1)) ] && break; sleep 0.1; done
is "$(imapq count bob INBOX)" "$((b + 1))" "... delivered through lda into bob's INBOX (IMAP)"
for _ in $(seq 100); do [ -z "$(postqueue -c "$POSTFIX_CONF" -j)" ] && break; sleep 0.1; done
is "$(postqueue -c "$POSTFIX_CONF" -j | grep -c .)" 0 "... not one bounce: postfix's queue is empty"
is "$(grep -cE 'status=bounced|sender non-delivery notification' "$POSTFIX_LOG")" 0 "... no bounce in postfix's log"
is "$(maildir_count "$MD")" 0 "... and nothing in the sender's mailbox"

# --- sendmail -----------------------------------------------------------------------
sed -e "s|/usr/local/bin/lda|$LDA|g" -e "s|\`lda -|\`lda --config $T/local.rc -|" \
    -e "s|A=lda -|A=lda --config $T/store.rc -|" -e "s|inet:10032@|inet:$SPORT@|" \
    -e "s|U=ldasvc:|U=$SVC:|" \
    "$LDA_TOP/contrib/sendmail/lda-verify.mc" >"$T/lda-verify.mc"
printf 'postmaster: %s\n' "$U" >"$T/aliases"
SD=$T/sendmail
at_exit "'$P/sendmail-down.sh' '$SD'"
"$P/sendmail-up.sh" "$SD" "$T/lda-verify.mc" "$T/aliases" >/dev/null || { echo "Bail out! sendmail-up.sh failed"; exit 1; }
. "$SD/env"
b=$(imapq count bob INBOX)
out=$(fifty "$SENDMAIL_PORT")
is "$(echo "$out" | grep -c '^550 nosuch.*5\.1\.1')" 50 "sendmail + lda-verify: 50 unknown store users refused at RCPT with 550 5.1.1" ||
	diag "$(echo "$out" | grep -v '^550' | head -n 3)"
like "$(echo "$out" | grep '^250 bob@store.example')" . "... the known user in the same session: 250"
is "$(echo "$out" | grep '^data')" "data 250" "... and the message taken"
for _ in $(seq 300); do [ "$(imapq count bob INBOX)" = $((b + 1)) ] && break; sleep 0.1; done
is "$(imapq count bob INBOX)" "$((b + 1))" "... delivered through lda into bob's INBOX (IMAP)"
for _ in $(seq 100); do [ -z "$(ls "$SENDMAIL_QUEUE")" ] && break; sleep 0.1; done
is "$(ls "$SENDMAIL_QUEUE" | grep -c .)" 0 "... not one bounce: sendmail's queue is empty"
is "$(maildir_count "$MD")" 0 "... and nothing in the sender's (and postmaster's) mailbox"

# --- the store down: 4xx, nothing accepted ------------------------------------------
"$P/cyrus-down.sh" "$CD"
out=$(smtp "$POSTFIX_PORT" "$U@lda-test.example" dave@store.example nosuch51@store.example)
is "$(echo "$out" | grep -c '^450 ')" 2 "Cyrus stopped: postfix says 450 to RCPTs lda-verify cannot check" ||
	diag "$out"
is "$(echo "$out" | grep -c '^data')" 0 "... nothing accepted"
out=$(smtp "$SENDMAIL_PORT" "$U@lda-test.example" dave@store.example nosuch52@store.example)
is "$(echo "$out" | grep -c '^451 ')" 2 "Cyrus stopped: sendmail says 451 to RCPTs lda-verify cannot check" ||
	diag "$out"
is "$(echo "$out" | grep -c '^data')" 0 "... nothing accepted"
like "$(cat "$T/policy.log")" 'cannot tell: <dave@store.example>: cannot ask the store now' "... lda-verify logs why"
is "$(postqueue -c "$POSTFIX_CONF" -j | grep -c .)$(ls "$SENDMAIL_QUEUE" | grep -c .)" 00 "... both queues still empty"

done_testing

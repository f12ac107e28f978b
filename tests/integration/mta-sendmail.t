#!/usr/bin/env bash
# mta-sendmail.t - lda under a real sendmail 8.17 (Debian's packages,
# unpacked privately by tests/peers/sendmail-up.sh: Debian will not
# install sendmail beside postfix), its sendmail.cf generated with m4
# from contrib/sendmail/*.mc as they are, mail sent in over SMTP on
# 127.0.0.1:
#   - lda-local.mc, lda as the local mailer (local_procmail, -Y -a $h
#     -d $u): a local user's message in ~/Maildir, user+lists in .lists;
#     exit 75 (the user's store down): the message stays in sendmail's
#     queue, and the queue run after the cause is gone delivers it once;
#     mail to root (sendmail keeps root local, no alias): lda -d root
#     delivers it as root, here into $T by the test's system rc, so the
#     host's /root and /var/mail/root are not written;
#   - lda-store.mc, a store domain through the lda mailer as a service user
#     into Cyrus (tests/peers/cyrus-up.sh), checked over IMAP: INBOX,
#     user+folder, the user's rc (USERS_RC_DIR) sorting; a user the store
#     does not know: 67, and sendmail bounces it; exit 75 (the store
#     unreachable): queued, then delivered once by the queue run.
# The only substitutions in the .mc files: /usr/local/bin/lda is this
# build's lda, reading the rc a test gives it (--config instead of
# /etc/lda.rc), and the service user ldasvc is a test account (the test
# Cyrus's socket is open to every user). Needs root.
. "$LDA_TOP/tests/integration/lib.sh"

P=$LDA_TOP/tests/peers
PY=/usr/bin/python3
if [ "$(id -u)" != 0 ]; then skip_all "needs root"; fi
command -v m4 >/dev/null || skip_all "m4 is not installed (make deps)"
ls "${LDA_DEBS:-/var/cache/lda/debs}"/sendmail-bin_*.deb >/dev/null 2>&1 ||
	skip_all "no sendmail packages in ${LDA_DEBS:-/var/cache/lda/debs} (make deps)"
[ -x /usr/lib/cyrus/bin/master ] || skip_all "cyrus-imapd is not installed"
test_user U smu && test_user SVC sms || { echo "Bail out! cannot make users"; exit 1; }
H=$(getent passwd $U | cut -d: -f6)
MD=$H/Maildir
rm -rf "$MD" "$H/.procmailrc" "$H/.ldarc" "$H/.forward"
mkdir -p "$MD"/{cur,new,tmp} "$MD/.lists"/{cur,new,tmp}
chown -R $U: "$MD"

CD=$T/cyrus; mkdir "$CD"
at_exit "'$P/cyrus-down.sh' '$CD'"
"$P/cyrus-up.sh" "$CD" >/dev/null || { echo "Bail out! cyrus-up.sh failed"; exit 1; }
. "$CD/env"
imapq_start "$CYRUS_IMAP_PORT" "$CYRUS_PW"
# the system rcs (as /etc/lda.rc would be); Maildirs, not /var/mail, by
# the README's one line (DEFAULT is $ORGMAIL by default, as in procmail)
mkdir -p "$T/users"; chmod 755 "$T/users"
printf '%s\n' 'FILTERS="plusaddr"' 'DEFAULT=$HOME/Maildir/' >"$T/local.rc"
# root's mail (lda -d root runs as root) goes into $T, not the host's
# /root/Maildir or /var/mail/root, and no rc of the host's root is read
# (the system rc delivers first); the copy writes the uid it ran as
cat >>"$T/local.rc" <<EOF
:0
* LOGNAME ?? ^^root^^
{
	:0c
	| id -u >$T/root-uid
	:0
	$T/rootmd/
}
EOF
printf '%s\n' 'FILTERS="plusaddr"' "STORE=lmtp:unix:$CYRUS_LMTP_SOCK" "USERS_RC_DIR=$T/users" >"$T/store.rc"
chmod 644 "$T/local.rc" "$T/store.rc"
chmod 755 "$T"

# mc NAME RC [STORE_RC]: contrib/sendmail/NAME.mc with this build's lda
# reading RC (the local mailer), STORE_RC (the lda mailer)
mc() {
	sed -e "s|/usr/local/bin/lda|$LDA|g" -e "s|\`lda -|\`lda --config $2 -|" \
	    -e "s|A=lda -|A=lda --config ${3:-$2} -|" -e "s|U=ldasvc:|U=$SVC:|" "$LDA_TOP/contrib/sendmail/$1.mc" >"$T/$1.mc"
}

n=0
# the sender: a local user (example.org does not resolve here, and sendmail
# refuses a sender domain that does not exist), who gets the bounces
SENDER=$U@lda-test.example
# send PORT RCPT: one message over SMTP to RCPT with a fresh Message-ID
# ($MID); $R: "ok" when accepted, else "rcpt-refused CODE" / "data-refused CODE"
send() {
	n=$((n + 1)); MID="<s$n.$$.$(date +%s%N)@mta-sendmail.t>"
	printf 'From: Alice <alice@example.org>\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: %s\r\n\r\nHello.\r\n.leading dot\r\nFrom the test.\r\n' \
		"$2" "${SUBJ:-sendmail $n}" "$MID" >"$T/sent"
	R=$($PY - "$1" "$2" "$T/sent" "$SENDER" <<'PY'
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=60)
s.ehlo("client.example.org")
s.mail(sys.argv[4])
code, msg = s.rcpt(sys.argv[2])
if code != 250:
    print("rcpt-refused %d" % code); sys.exit(0)
code, msg = s.data(open(sys.argv[3], "rb").read())
s.quit()
print("ok" if code == 250 else "data-refused %d" % code)
PY
)
}
# in_maildir DIR: the files of DIR/new holding $MID
in_maildir() { grep -lF -- "$MID" "$1"/new/* 2>/dev/null; }
# wait_for CMD...: until CMD succeeds, up to 30 s
wait_for() { local i; for i in $(seq 300); do "$@" && return 0; sleep 0.1; done; return 1; }
# queued: the queue files (qf*) holding $MID
queued() { grep -lF -- "$MID" "$SENDMAIL_QUEUE"/qf* 2>/dev/null; }
# deferred: $MID is in the queue, and its delivery was tried and deferred
deferred() { local q; q=$(queued) && [ -n "$q" ] && grep -q '^MDeferred' $q; }
# count USER FOLDER: messages there, over IMAP
count() { imapq count "$1" "$2"; }
# count_is USER FOLDER N: the count is N
count_is() { [ "$(count "$1" "$2")" = "$3" ]; }

# === lda-local.mc: lda as the local mailer ======================================
mc lda-local "$T/local.rc"
SD=$T/sendmail-local
at_exit "'$P/sendmail-down.sh' '$SD'"
"$P/sendmail-up.sh" "$SD" "$T/lda-local.mc" >/dev/null || { echo "Bail out! sendmail-up.sh failed"; exit 1; }
. "$SD/env"
like "$(grep '^Mlocal' -A2 "$SD/sendmail.cf" | tr '\n\t' '  ')" "P=$LDA,.*A=lda --config $T/local.rc -Y -a \\\$h -d \\\$u" \
	"lda-local.mc: m4 makes lda the local mailer"

send "$SENDMAIL_PORT" "$U@lda-test.example"
is "$R" ok "local mailer: accepted over SMTP"
wait_for in_maildir "$MD" >/dev/null
f=$(in_maildir "$MD")
is "$(echo "$f" | grep -c .)" 1 "... delivered by lda into ~/Maildir/new, once"
is "$(sed '1,/^\r\{0,1\}$/d' "$f" | od -An -c)" "$(sed '1,/^\r$/d' "$T/sent" | tr -d '\r' | od -An -c)" \
	"... the body as sent (the leading dot unstuffed)"
like "$(head -n 3 "$f")" "^Return-Path: <$SENDER>" "... with sendmail's Return-Path"
send "$SENDMAIL_PORT" "$U+lists@lda-test.example"
wait_for in_maildir "$MD/.lists" >/dev/null
is "$(in_maildir "$MD/.lists" | grep -c .)" 1 "$U+lists: into the folder of the detail (.lists, -a \$h)"

# exit 75: the user's store is down
printf 'STORE=lmtp:unix:%s/no-such.sock\n' "$T" >"$H/.procmailrc"
chown $U: "$H/.procmailrc"; chmod 600 "$H/.procmailrc"
send "$SENDMAIL_PORT" "$U@lda-test.example"
is "$R" ok "a store that is down: accepted"
wait_for deferred
q=$(queued)
is "$(echo "$q" | grep -c .)" 1 "... lda exits 75: the message stays in sendmail's queue"
like "$(grep '^M' "$q")" 'EX_TEMPFAIL' "... deferred (EX_TEMPFAIL, the queue's status)"
is "$(in_maildir "$MD" | grep -c .)" 0 "... nothing delivered"
rm -f "$H/.procmailrc"
"$SENDMAIL" -q >/dev/null 2>&1
wait_for in_maildir "$MD" >/dev/null
is "$(in_maildir "$MD" | grep -c .)" 1 "the cause gone, the queue run delivers it, once"
is "$(queued | grep -c .)" 0 "... and the queue holds it no more"

# root's mail: sendmail's default keeps root local (no alias), so the local
# mailer runs lda -d root, which delivers it as root
SPOOL0=$(stat -c %s /var/mail/root 2>/dev/null || echo none)
rm -f "$T/root-uid"
send "$SENDMAIL_PORT" "root@lda-test.example"
is "$R" ok "mail to root: accepted over SMTP"
wait_for in_maildir "$T/rootmd" >/dev/null
f=$(in_maildir "$T/rootmd")
is "$(echo "$f" | grep -c .)" 1 "... lda -d root delivers it, once (the system rc's folder)"
is "$(stat -c %U "$f" 2>/dev/null)" root "... as root (the message file is root's)"
is "$(cat "$T/root-uid" 2>/dev/null)" 0 "... and the rc's program ran as uid 0"
# others may write to the host's spool meanwhile: what they add is not ours
SPOOL1=$(stat -c %s /var/mail/root 2>/dev/null || echo none)
ok $([ "$SPOOL1" = "$SPOOL0" ] || ! tail -c +$((${SPOOL0/none/0} + 1)) /var/mail/root | grep -qF -- "$MID"; echo $?) \
	"... and nothing written to the host's /var/mail/root (size $SPOOL0, now $SPOOL1)"
ok $(! grep -rqsF -- "$MID" /root/Maildir; echo $?) "... nor to /root/Maildir"
"$P/sendmail-down.sh" "$SD"

# === lda-store.mc: a store domain through the lda mailer as a service user =====
mc lda-store "$T/local.rc" "$T/store.rc"
SD=$T/sendmail-store
at_exit "'$P/sendmail-down.sh' '$SD'"
"$P/sendmail-up.sh" "$SD" "$T/lda-store.mc" >/dev/null || { echo "Bail out! sendmail-up.sh failed"; exit 1; }
. "$SD/env"
like "$(grep '^Mlda' -A1 "$SD/sendmail.cf")" "U=$SVC:mail" "lda-store.mc: m4 makes the lda mailer, run as the service user"

b=$(count bob INBOX)
send "$SENDMAIL_PORT" "bob@store.example"
is "$R" ok "store domain: accepted over SMTP"
ok $(wait_for count_is bob INBOX $((b + 1)); echo $?) "... one new message in bob's INBOX (IMAP)"
b=$(count bob INBOX.Spam)
send "$SENDMAIL_PORT" "bob+Spam@store.example"
ok $(wait_for count_is bob INBOX.Spam $((b + 1)); echo $?) "bob+Spam: into bob's Spam folder (IMAP)"
# the user's rc sorts
printf '%s\n' ':0' '* ^Subject: sort me' 'lists' >"$T/users/bob.rc"
chmod 644 "$T/users/bob.rc"
b=$(count bob INBOX.lists) i=$(count bob INBOX)
SUBJ="sort me" send "$SENDMAIL_PORT" "bob@store.example"
ok $(wait_for count_is bob INBOX.lists $((b + 1)); echo $?) "bob's rc (USERS_RC_DIR/bob.rc) sorts into lists (IMAP)"
is "$(count bob INBOX)" "$i" "... not into the INBOX"
rm -f "$T/users/bob.rc"

# a user the store does not know: 67, and sendmail bounces it to the sender
bounces() { grep -lF 'nosuchuser@store.example' "$MD"/new/* 2>/dev/null | xargs -r grep -l 'report-type=delivery-status' 2>/dev/null; }
send "$SENDMAIL_PORT" "nosuchuser@store.example"
is "$R" ok "an unknown store user: accepted at RCPT (sendmail cannot tell)"
have_bounce() { [ -n "$(bounces)" ]; }
wait_for have_bounce
is "$(bounces | grep -c .)" 1 "... lda exits 67: sendmail bounces it to the sender (the mailstorm's seed)" ||
	{ diag "$(ls -l "$MD/new")"; diag "$("$SENDMAIL" -bp 2>&1)"; }
like "$(cat $(bounces))" '5\.1\.1' "... as 5.1.1"

# exit 75: the store unreachable
printf '%s\n' 'FILTERS="plusaddr"' "STORE=lmtp:unix:$T/no-such.sock" >"$T/store.rc"
b=$(count bob INBOX)
send "$SENDMAIL_PORT" "bob@store.example"
wait_for deferred
q=$(queued)
is "$(echo "$q" | grep -c .)" 1 "the store unreachable: lda exits 75, the message stays in sendmail's queue"
is "$(count bob INBOX)" "$b" "... nothing delivered"
printf '%s\n' 'FILTERS="plusaddr"' "STORE=lmtp:unix:$CYRUS_LMTP_SOCK" "USERS_RC_DIR=$T/users" >"$T/store.rc"
"$SENDMAIL" -q >/dev/null 2>&1
ok $(wait_for count_is bob INBOX $((b + 1)); echo $?) "the cause gone, the queue run delivers it"
"$SENDMAIL" -q >/dev/null 2>&1
is "$(count bob INBOX)" "$((b + 1))" "... once (a second queue run adds nothing)"
is "$(queued | grep -c .)" 0 "... and the queue holds it no more"

done_testing

#!/usr/bin/env bash
# filter-vacation.t - "| @vacation" (RFC 3834) and "| @dedup" under a real
# Postfix 3.7 (tests/peers/postfix-up.sh, mailbox_command as
# contrib/postfix/main.cf.example has it): mail comes in over SMTP, lda
# runs as the user, and the reply goes out through Postfix's own
# sendmail(1) into the queue, where postqueue and postcat show it:
#   - the reply: null envelope sender, to the envelope sender only,
#     Auto-Submitted: auto-replied, In-Reply-To/References, Subject from
#     the original, the user's text; the message itself delivered too;
#   - each RFC 3834 guard on its own: the null sender, MAILER-DAEMON,
#     owner-*, *-request, Auto-Submitted (but "no"), List-Id,
#     List-Unsubscribe, Precedence bulk/list/junk, not addressed to the
#     user, the user's own address; once per sender per period;
#   - requeue: a delivery that fails (75) sends no reply and records no
#     Message-ID; Postfix's retry delivers once and replies once; the same
#     message again is discarded (exit 0) with no second reply;
#   - --test sends nothing and writes no database; nothing of a hostile
#     Subject or Message-ID reaches a header line of its own.
# The replies are to example.org: "defer_transports = smtp" keeps them in
# the queue to be looked at (the test's only line beyond the set-up).
# Postfix's postdrop lets a user (lda runs as the user) submit into a
# queue other than the system's only when /etc/postfix/main.cf names its
# directory (alternate_config_directories): the test runs in a mount
# namespace of its own where a copy of that file with the line is bound
# over it; the system's file is never touched. An administrator's own
# Postfix needs nothing of this.
# Needs root and unshare(1); about 25 s.
if [ -z "${LDA_VACATION_NS:-}" ] && [ "$(id -u)" = 0 ] &&
    command -v unshare >/dev/null && [ -f /etc/postfix/main.cf ]; then
	LDA_VACATION_NS=1 exec unshare -m --propagation private "$0" "$@"
fi
. "$LDA_TOP/tests/integration/lib.sh"

P=$LDA_TOP/tests/peers
PY=/usr/bin/python3
if [ "$(id -u)" != 0 ]; then skip_all "needs root"; fi
command -v postfix >/dev/null || skip_all "postfix is not installed"
[ -n "${LDA_VACATION_NS:-}" ] || skip_all "no mount namespace (unshare -m, /etc/postfix/main.cf)"
test_user U vac || { echo "Bail out! cannot make users"; exit 1; }
H=$(getent passwd $U | cut -d: -f6)
MD=$H/Maildir
ME=$U@lda-test.example
rm -rf "$MD" "$H/.procmailrc" "$H/.ldarc"

printf '%s\n' 'DEFAULT=$HOME/Maildir/' >"$T/local.rc"
chmod 644 "$T/local.rc"
chmod 755 "$T"
sed -n '/^mailbox_command/s|/usr/local/bin/lda|'"$LDA --config $T/local.rc"'|p' \
	"$LDA_TOP/contrib/postfix/main.cf.example" >"$T/main.extra"
echo 'defer_transports = smtp' >>"$T/main.extra"
PF=$T/postfix
{ cat /etc/postfix/main.cf; echo "alternate_config_directories = $PF/etc"; } >"$T/system-main.cf"
mount --bind "$T/system-main.cf" /etc/postfix/main.cf ||
	{ echo "Bail out! cannot bind a copy over /etc/postfix/main.cf in our namespace"; exit 1; }
at_exit "'$P/postfix-down.sh' '$PF'"
"$P/postfix-up.sh" "$PF" "$T/main.extra" >/dev/null ||
	{ echo "Bail out! postfix-up.sh failed"; exit 1; }
. "$PF/env"
Q=$POSTFIX_DIR/queue

# the user's rc: the two idioms, as the README shows them
cat >"$H/.procmailrc" <<EOF
:0
| @dedup
:0
| @vacation VACATION_MESSAGE=\$HOME/away.txt VACATION_ADDRESSES="$ME bob@example.com"
EOF
printf 'I am away until Monday.\nFrom then on, I read my mail again.\n' >"$H/away.txt"
chown $U: "$H/.procmailrc" "$H/away.txt"; chmod 600 "$H/.procmailrc"

n=0
# mail FROM [HEADER-LINE...]: one message over SMTP from envelope FROM to
# $ME (To: $ME unless a To: line is given); Message-ID in $MID, queue id
# in $QID; then waits for Postfix's verdict ($STATUS) and for the queue
# to settle (a reply lda handed to sendmail is in the queue by then)
mail() {
	local from=$1 to="To: $ME" h; shift
	n=$((n + 1)); MID="<v$n.$$@vacation.t>"
	for h in "$@"; do case $h in To:*) to=$h ;; esac; done
	{
		printf 'From: Someone <%s>\n' "${from:-nobody@example.org}"
		printf '%s\n' "$to"
		for h in "$@"; do case $h in To:*) ;; *) printf '%s\n' "$h" ;; esac; done
		printf 'Subject: message %s\nMessage-ID: %s\n\nHello.\n' "$n" "$MID"
	} >"$T/sent"
	smtp "$from"
}
# smtp FROM [FILE]: send FILE ($T/sent) from FROM to $ME, then settle
smtp() {
	QID=$($PY - "$POSTFIX_PORT" "$1" "$ME" "${2:-$T/sent}" <<'PY'
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=30)
s.ehlo("client.example.org")
s.mail(sys.argv[2])
s.rcpt(sys.argv[3])
code, msg = s.data(open(sys.argv[4], "rb").read())
s.quit()
print(msg.decode().rsplit(" ", 1)[-1] if code == 250 else "refused")
PY
)
	outcome "$QID"
	settle
}
# outcome QID: Postfix's status for its delivery to $ME in $STATUS
outcome() {
	local i line=
	for i in $(seq 300); do
		line=$(grep -E "$1: to=<$ME>.*status=(sent|deferred|bounced)" "$POSTFIX_LOG" | tail -n 1)
		[ -n "$line" ] && break
		sleep 0.1
	done
	# the first status= is Postfix's (lda's own text may follow)
	STATUS=$(printf '%s' "$line" | grep -o 'status=[a-z]*' | head -n 1 | cut -d= -f2)
}
# settle: no message on its way in (maildrop, incoming, active: looked at
# in the order mail moves through them); a bounded wait
settle() {
	local i
	for i in $(seq 300); do
		[ -z "$(find "$Q/maildrop" "$Q/incoming" "$Q/active" -type f 2>/dev/null | head -n 1)" ] && return
		sleep 0.1
	done
	diag "the queue did not settle"
}
# replies [TO]: queue ids of messages with the null sender (to TO);
# postqueue shows the null sender as MAILER-DAEMON
replies() {
	postqueue -c "$POSTFIX_CONF" -j | $PY -c '
import json, sys
to = sys.argv[1] if len(sys.argv) > 1 else None
for l in sys.stdin:
    m = json.loads(l)
    if m["sender"] in ("", "MAILER-DAEMON") and (to is None or any(r["address"] == to for r in m["recipients"])):
        print(m["queue_id"])' "$@"
}
nreplies() { replies "$@" | grep -c . ; }
# header QID NAME: the reply's header field NAME (first line)
header() { postcat -c "$POSTFIX_CONF" -hq "$1" 2>/dev/null | grep -i "^$2:" | head -n 1; }
inbox() { grep -lF -- "$1" "$MD"/new/* 2>/dev/null | wc -l; }

# --- the reply -------------------------------------------------------------------
mail carol@example.org 'References: <r1@example.org> <r2@example.org>'
is "$STATUS" sent "a message from carol: delivered (Postfix: sent)"
is "$(inbox "$MID")" 1 "... into the user's Maildir"
is "$(nreplies carol@example.org)" 1 "... and one reply queued by Postfix, to carol"
r=$(replies carol@example.org)
postqueue -c "$POSTFIX_CONF" -j | grep -F "\"$r\"" >"$T/j"
is "$(postcat -c "$POSTFIX_CONF" -eq "$r" | grep '^sender:' | tr -d ' ')" "sender:" "... with the null envelope sender"
like "$(cat "$T/j")" '"recipients": \[\{"address": "carol@example.org"[^]]*\]' "... to carol alone"
is "$(header "$r" Auto-Submitted)" "Auto-Submitted: auto-replied" "... Auto-Submitted: auto-replied"
is "$(header "$r" In-Reply-To)" "In-Reply-To: $MID" "... In-Reply-To: the Message-ID"
like "$(postcat -c "$POSTFIX_CONF" -hq "$r" | sed -n '/^References:/,/^[^ \t]/p' | tr -d '\n')" \
	"^References: <r1@example.org>[[:space:]]+<r2@example.org>[[:space:]]+$MID" "... References: the old ones, then it"
is "$(header "$r" Subject)" "Subject: Auto: message $n" "... Subject: Auto: and the original's"
is "$(header "$r" To)" "To: carol@example.org" "... To: the envelope sender"
is "$(header "$r" From)" "From: $ME" "... From: the user's first address"
like "$(postcat -c "$POSTFIX_CONF" -bq "$r")" 'I am away until Monday\.' "... the user's text as the body"
ok $([ -s "$H/.lda-vacation" ] && grep -q ' carol@example.org \.$' "$H/.lda-vacation"; echo $?) "... carol recorded in ~/.lda-vacation"
is "$(stat -c %U "$H/.lda-vacation")" "$U" "... a file of the user's"

# --- once per sender per period ------------------------------------------------
mail carol@example.org
is "$STATUS$(inbox "$MID")$(nreplies carol@example.org)" sent11 "carol again within VACATION_DAYS: delivered, no second reply"
# carol's reply was 8 days ago: the period is over
old=$(( $(date +%s) - 8 * 86400 ))
sed -i "s/^[0-9]* carol@example.org \.\$/$old carol@example.org ./" "$H/.lda-vacation"
mail carol@example.org
is "$STATUS$(nreplies carol@example.org)" sent2 "carol after the period (VACATION_DAYS=7): a new reply"

# --- the RFC 3834 guards, one each ----------------------------------------------
# guard NAME FROM REPLY-TO [HEADER-LINE...]: delivered, and no reply
guard() {
	local name=$1 from=$2 to=$3 all; shift 3
	all=$(nreplies)
	mail "$from" "$@"
	is "$STATUS$(inbox "$MID")" sent1 "$name: the message is delivered"
	is "$(nreplies)" "$all" "... and no reply$([ -n "$to" ] && echo " to $to")"
}
guard "the null sender (MAIL FROM:<>)" "" ""
guard "MAILER-DAEMON" MAILER-DAEMON@example.org MAILER-DAEMON@example.org
guard "owner-list" owner-list@example.org owner-list@example.org
guard "list-request" list-request@example.org list-request@example.org
guard "Auto-Submitted: auto-generated" dave1@example.org dave1@example.org 'Auto-Submitted: auto-generated'
guard "Auto-Submitted: auto-replied" dave2@example.org dave2@example.org 'Auto-Submitted: auto-replied (vacation)'
guard "List-Id" dave3@example.org dave3@example.org 'List-Id: Test list <test.example.org>'
guard "List-Unsubscribe alone" dave4@example.org dave4@example.org 'List-Unsubscribe: <mailto:test-leave@example.org>'
guard "Precedence: bulk" dave5@example.org dave5@example.org 'Precedence: bulk'
guard "Precedence: list" dave6@example.org dave6@example.org 'Precedence: list'
guard "Precedence: junk" dave7@example.org dave7@example.org 'Precedence: junk'
guard "not addressed to the user (a Bcc)" dave8@example.org dave8@example.org 'To: someone@example.org'
guard "the user's own address" "$ME" "$ME"
mail erin@example.org 'Auto-Submitted: no'
is "$STATUS$(nreplies erin@example.org)" sent1 "Auto-Submitted: no is a person's mail: a reply"
mail frank@example.org 'To: Bob <bob@example.com>'
is "$STATUS$(nreplies frank@example.org)" sent1 "To: the user's second address (VACATION_ADDRESSES): a reply"
is "$(header "$(replies frank@example.org)" From)" "From: $ME" "... From: still the first address"

# --- requeue: a failed delivery, Postfix's retry, a real duplicate ------------
chmod 0500 "$MD/new" "$MD/tmp"
mail gina@example.org
is "$STATUS" deferred "a Maildir the user cannot write: lda exits 75, Postfix defers"
is "$(nreplies gina@example.org)" 0 "... no reply for a message not delivered"
ok $(! grep -qF "$MID" "$H/.lda-dedup"; echo $?) "... its Message-ID not recorded by @dedup"
chmod 0700 "$MD/new" "$MD/tmp"
before=$(grep -c "$QID: to=<$ME>" "$POSTFIX_LOG")
postqueue -c "$POSTFIX_CONF" -i "$QID"
for _ in $(seq 300); do
	[ "$(grep -c "$QID: to=<$ME>" "$POSTFIX_LOG")" -gt "$before" ] && break; sleep 0.1
done
settle
like "$(grep "$QID: to=<$ME>" "$POSTFIX_LOG" | tail -n 1)" 'status=sent' "Postfix's retry: delivered"
is "$(inbox "$MID")" 1 "... once (the dedup cache did not eat the retry)"
is "$(nreplies gina@example.org)" 1 "... and one reply, now"
ok $(grep -qF "$MID" "$H/.lda-dedup"; echo $?) "... the Message-ID recorded now"
smtp gina@example.org
is "$STATUS" sent "the same message again (same Message-ID): Postfix says sent (exit 0)"
is "$(inbox "$MID")" 1 "... discarded as a duplicate, not delivered twice"
is "$(nreplies gina@example.org)" 1 "... and no second reply"

# --- --test sends nothing, writes nothing ---------------------------------------
printf 'From: hank@example.org\nTo: %s\nSubject: dry\nMessage-ID: <dry.%s@vacation.t>\n\nx\n' "$ME" "$$" >"$T/dry"
db=$(md5sum <"$H/.lda-vacation"); cache=$(md5sum <"$H/.lda-dedup"); all=$(nreplies)
st=0; runuser -u $U -- env HOME="$H" MAIL_CONFIG="$POSTFIX_CONF" "$LDA" --test -f hank@example.org --config "$T/local.rc" <"$T/dry" >"$T/o" 2>&1 || st=$?
settle
is "$st" 0 "--test: exit 0"
like "$(cat "$T/o")" 'vacation: would reply to <hank@example.org>' "... says it would reply"
is "$(nreplies)" "$all" "... sends nothing"
is "$(md5sum <"$H/.lda-vacation")$(md5sum <"$H/.lda-dedup")" "$db$cache" "... writes neither the database nor the cache"

# --- hostile Subject and Message-ID (bare CRs: lda may get them from any MTA) ---
printf 'From: ivy@example.org\nTo: %s\nSubject: hi\n Bcc: victim@example.org\rX-Evil: 1\nMessage-ID: <ok@x>\rBcc: victim@example.org\n\nx\n' "$ME" >"$T/evil"
st=0; runuser -u $U -- env HOME="$H" MAIL_CONFIG="$POSTFIX_CONF" "$LDA" -f ivy@example.org --config "$T/local.rc" <"$T/evil" >"$T/o" 2>&1 || st=$?
settle
is "$st$(nreplies ivy@example.org)" 01 "a Subject and Message-ID with bare CRs: delivered, one reply"
r=$(replies ivy@example.org)
is "$(postcat -c "$POSTFIX_CONF" -hq "$r" | grep -ciE '^(bcc|x-evil):')" 0 "... no header line of the message's making in it"
is "$(postqueue -c "$POSTFIX_CONF" -j | grep -F "\"$r\"" | grep -c victim)" 0 "... and no other recipient"
like "$(header "$r" Subject)" '^Subject: Auto: hi Bcc: victim@example\.org' "... a folded Subject unfolded, on its own line"
done_testing

#!/usr/bin/env bash
# lmtp-out-of-step.t - issue 11 point 7: the LMTP client takes only the
# replies a command can get. A 250 to DATA (nothing was sent) is no
# delivery; a stray reply line after a transaction must not be taken for
# the answers of the next one on the same connection (here the INBOX
# fallback of a refused folder copy): the link is broken, the copy owed
# (75). A scripted store (tests/peers/lmtp-fault.py): the real Cyrus and
# Dovecot cannot be made to answer so. Needs root; about 3 s.
. "$LDA_TOP/tests/integration/lib.sh"

P=$LDA_TOP/tests/peers
PY=/usr/bin/python3; [ -x $PY ] || PY=python3
if [ "$(id -u)" != 0 ]; then skip_all "needs root"; fi
. "$LDA_TOP/tests/integration/fault-lib.sh"
test_user SVC svc || { echo "Bail out! cannot make a test user"; exit 1; }
LOG=$T/lda.log; : >"$LOG"; chmod 666 "$LOG"
printf 'From: a@example.org\nSubject: step\nMessage-ID: <o.%s@lmtp-out-of-step.t>\n\nHello.\n' $$ >"$T/m"
printf ':0\nSpam\n' >"$T/rc"
chmod 644 "$T/m" "$T/rc"
# run ARGS...: lda as the service user on $T/s.sock; $st, $out
run() {
	: >"$LOG"; st=0
	out=$(runuser -u $SVC -- "$LDA" --store "lmtp:unix:$T/s.sock" -f sender@example.org \
		LOGFILE="$LOG" "$@" <"$T/m" 2>/dev/null) || st=$?
	wait "$pid" 2>/dev/null
}

# --- 250 to DATA: nothing was sent, nothing is delivered ----------------------
{ hello; printf '%s\n' '< MAIL' '< RCPT' '< DATA' '> 250 2.1.0 ok' '> 250 2.1.5 ok' \
	'> 250 2.0.0 ok' '<quiet 0.3'; } >"$T/s.script"
peer s; run -d bob
is "$st" 75 "250 to DATA: 75, not delivered"
unlike "$(cat "$LOG")" 'status=sent' "250 to DATA: not logged as sent"
like "$(cat "$LOG")" 'status=deferred \(connection out of step: the store answered DATA with "250 2\.0\.0 ok"\)' \
	"250 to DATA: logged as out of step"

# --- a 2xx to RCPT that is no acceptance (252) ----------------------------------
{ hello; printf '%s\n' '< MAIL' '< RCPT' '< DATA' '> 250 2.1.0 ok' '> 252 2.1.5 maybe' \
	'<quiet 0.3'; } >"$T/s.script"
peer s; run -d bob
is "$st" 75 "252 to RCPT: 75"
unlike "$(cat "$LOG")" 'status=sent' "252 to RCPT: not logged as sent"

# --- a stray reply after the final one: the next transaction must not use it -----
# The rc files into Spam; bob+Spam is refused for good; the fallback copy to the INBOX goes in a
# second transaction on the same connection. The store sends one reply
# line too many after the first; a client in step with it would take the
# stray 250 for MAIL's, MAIL's for RCPT's and RCPT's for DATA's: "sent".
{ hello; printf '%s\n' '< MAIL' '< RCPT TO:<bob\+Spam>' '< DATA' '> 250 2.1.0 ok' '> 250 2.1.5 ok' \
	'> 354 go' '<data' '> 550 5.2.0 no such folder' '> 250 2.0.0 stray' \
	'< MAIL' '< RCPT' '< DATA' '> 250 2.1.0 ok' '> 250 2.1.5 ok' '> 354 go' '<data' \
	'> 250 2.1.5 ok' '<quiet 0.3'; } >"$T/s.script"
peer s; run --config "$T/rc" -d bob
is "$st" 75 "a stray reply line: 75 (the INBOX copy is owed)"
unlike "$(cat "$LOG")" 'status=sent' "a stray reply line: nothing logged as sent"
like "$(cat "$LOG")" 'status=deferred \(connection out of step' "a stray reply line: logged as out of step"
is "$(grep -c '^DATA ' "$T/s.log")" 1 "the store got the message once (the refused copy) and no more"

done_testing

#!/usr/bin/env bash
# store-dovecot.t - lda into a real Dovecot 2.3 LMTP (tests/peers/
# dovecot-up.sh in a private directory), checked in Dovecot's Maildirs
# (Debian will not install dovecot-imapd beside cyrus-imapd): INBOX and
# folders, one transaction for two recipients and three folders (one file,
# hard-linked), unknown user, Dovecot's permanent over-quota reply, a
# missing folder, the repairs, a 20 MB message. Needs root; about 5 s.
. "$LDA_TOP/tests/integration/lib.sh"

P=$LDA_TOP/tests/peers
if [ "$(id -u)" != 0 ]; then skip_all "needs root"; fi
if ! command -v dovecot >/dev/null || [ ! -x /usr/lib/dovecot/lmtp ]; then
	skip_all "dovecot-lmtpd not installed"
fi

DD=$T/dovecot
mkdir -p "$DD"
test_user DM dv || { echo "Bail out! cannot make a test user"; exit 1; }
if ! out=$(DOVECOT_MAIL_USER=$DM "$P/dovecot-up.sh" "$DD" 2>&1); then
	echo "Bail out! dovecot-up.sh: $out"; exit 1
fi
at_exit "'$P/dovecot-down.sh' '$DD'"
. "$DD/env"
SOCK=lmtp:unix:$DOVECOT_LMTP_SOCK
test_user SVC svc || { echo "Bail out! cannot make a test user"; exit 1; }
LOG=$T/lda.log
: >"$LOG"; chmod 666 "$LOG"

n=0
mk() { # mk FILE: a message with a fresh Message-ID
	n=$((n + 1)); MID="<d$n.$$.$(date +%s%N)@store-dovecot.t>"
	printf 'From: Alice <alice@example.org>\nTo: bob@example.org\nSubject: test %s\nMessage-ID: %s\n\nHello Bob.\n.\n..two dots\nFrom the test.\n' \
		"$n" "$MID" >"$1"
}
md() { echo "${DOVECOT_MAIL//%u/$1}$2"; }	# md USER [/.Folder]
cnt() { find "$(md "$1" "${2:-}")/new" "$(md "$1" "${2:-}")/cur" -type f | wc -l; }
# newest USER [/.Folder]: the newest file's body (after Dovecot's headers)
newest() { sed '1,/^$/d' "$(ls -t "$(md "$1" "${2:-}")"/new/* | head -n 1)"; }
svc() { # svc IN ARGS...: lda as the service user; $st, $out
	local in=$1; shift
	: >"$LOG"
	# each case also checks that lda --test predicted it (lib.sh)
	predicted "$in" runuser -u $SVC -- "$LDA" --store "$SOCK" -f sender@example.org \
		LOGFILE="$LOG" "$@"
}
rc() { printf '%s\n' "$@" >"$T/rc"; chmod 644 "$T/rc"; }

mk "$T/m"; b=$(cnt bob)
svc "$T/m" -d bob
is "$st" 0 "dovecot: exit 0"
is "$(cnt bob)" "$((b + 1))" "dovecot: one new message in bob's INBOX"
is "$(newest bob | od -c)" "$(sed '1,/^$/d' "$T/m" | od -c)" "dovecot: body byte for byte"
like "$(cat "$LOG")" "to=<bob>.*store=$SOCK.*status=sent \\(250 2\\.0\\.0 <bob> [^ ]+ Saved\\)" \
	"dovecot: the log quotes the store's reply"

# --- three folders, two recipients: one transaction, one file -------------------
rc ':0c' 'Spam' ':0c' 'lists/linux' ':0' '.lists/'
mk "$T/m"
bs=$(cnt bob /.Spam) bl=$(cnt bob /.lists) bll=$(cnt bob /.lists.linux) di=$(cnt dave)
# (--test's RCPT probe connects first: count only the real run's session)
PRED_BETWEEN='conns=$(grep -c "Connect from local" "$DOVECOT_LOG")' \
	svc "$T/m" --config "$T/rc" -d bob dave
is "$st" 0 "three folders, bob and dave: exit 0"
is "$(($(grep -c 'Connect from local' "$DOVECOT_LOG") - conns))" 1 "one LMTP session"
is "$(grep -c "msgid=$MID: saved mail" "$DOVECOT_LOG")" 6 "six copies saved by it"
is "$(cnt bob /.Spam) $(cnt bob /.lists.linux) $(cnt bob /.lists)" \
	"$((bs + 1)) $((bll + 1)) $((bl + 1))" "one copy in each of bob's three folders"
is "$(newest bob /.lists.linux | od -c)" "$(sed '1,/^$/d' "$T/m" | od -c)" "folder copy: body byte for byte"
is "$(cnt dave)" "$((di + 3))" "dave has none of the folders: three copies in his INBOX (Dovecot keeps repeats)"
files=$(grep -rlF "$MID" "$DOVECOT_DIR/mail" | grep -E '/(new|cur)/')
is "$(echo "$files" | wc -l) $(echo "$files" | xargs stat -c %i | sort -u | wc -l)" "6 1" \
	"one transaction: Dovecot wrote one file, hard-linked six times"

# --- missing folder, unknown user, over quota -----------------------------------
rc ':0' 'Nonexistent'
mk "$T/m"; b=$(cnt bob)
svc "$T/m" --config "$T/rc" -d bob
is "$st/$(cnt bob)" "0/$((b + 1))" "missing folder: Dovecot files it in the INBOX"

mk "$T/m"
svc "$T/m" -d nosuchuser
is "$st" 67 "unknown user: 67"
like "$out" "^5\\.1\\.1 nosuchuser: 550 5\\.1\\.1 <nosuchuser> User doesn't exist" "unknown user: status line"

mk "$T/m"; printf '%0700d\n' 0 >>"$T/m"
svc "$T/m" -d carol
is "$st" 0 "carol: a first message fits her 1 KiB quota"
mk "$T/m"
svc "$T/m" -d carol
is "$st" 75 "over quota (Dovecot's permanent 552 5.2.2): 75"
like "$out" '^4\.2\.2 carol: 552 5\.2\.2 <carol> Quota exceeded' "over quota: a 4.2.2 status line"
like "$(cat "$LOG")" 'to=<carol>.*status=deferred \(552 5\.2\.2 <carol> Quota exceeded' "over quota: logged"

# --- repairs: Dovecot would store these as they are; lda sends them clean ---------
bad() { # bad NAME PRINTF-FORMAT (%s: Message-ID)
	n=$((n + 1)); MID="<dbad$n.$$.$(date +%s%N)@store-dovecot.t>"
	printf "$2" "$MID" >"$T/bad.msg"
	b=$(cnt bob)
	svc "$T/bad.msg" -d bob
	is "$st/$(cnt bob)" "0/$((b + 1))" "$1: delivered once"
	last=$(newest bob | od -An -c | tr -s ' \n' ' ')
}
bad "NUL in the body" 'From: a@example.org\nSubject: nul\nMessage-ID: %s\n\nHel\0lo.\n'
is "$last" " H e l l o . \n " "NUL: removed"
bad "header line without a colon" 'From: a@example.org\nSubject: x\nnot a header\nMessage-ID: %s\n\nbody\n'
like "$last" "^ n o t a h e a d e r" "no colon: the header ends before it"
bad "bare CR in the body" 'From: a@example.org\nSubject: cr\nMessage-ID: %s\n\nHello.\rWorld\n'
is "$last" " H e l l o . \n W o r l d \n " "bare CR: a line end"

# --- 20 MB ---------------------------------------------------------------------------
mk "$T/big"
head -c 20971520 /dev/zero | tr '\0' 'x' | fold -w 76 >>"$T/big"; echo >>"$T/big"
b=$(cnt bob)
svc "$T/big" -d bob
is "$st/$(cnt bob)" "0/$((b + 1))" "20 MB: delivered once"
is "$(newest bob | sha1sum)" "$(sed '1,/^$/d' "$T/big" | sha1sum)" "20 MB: body byte for byte"

done_testing

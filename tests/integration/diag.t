#!/usr/bin/env bash
# diag.t - what lda tells an administrator: VERBOSE=on writes procmail's
# verbose trace to LOGFILE (compared with the real procmail 3.22 on the
# same rc), warnings that matter reach LOGFILE and --test, the log
# without syslog (a note on stderr, the lines kept; --log-file), and the
# Message-ID and queue ID on every log line.
. "$LDA_TOP/tests/integration/lib.sh"

command -v procmail >/dev/null || skip_all "procmail not installed"
IN=$T/m; msg "$IN" "verbose test"

# --- VERBOSE=on: procmail's trace in LOGFILE ---------------------------------
# the same rc for procmail and lda; only the log and the folders differ
vrc() { # vrc FILE LOG DIR
	cat >"$1" <<EOF
VERBOSE=on
LOGFILE=$2
MAILDIR=$3
FOO=bar
:0
* ^Subject:.*nomatch
nope/
:0 c:
* ^From:.*alice
* ! ^X-Spam
* < 100000
alice.mbox
:0 c:$3/prog.lock
| cat >/dev/null
:0
* 10^0 ^From:.*alice
* -5^0 ^Subject
* ^Subject: \/.*
inbox/
EOF
	mkdir -p "$3"
}
vrc "$T/p.rc" "$T/p.log" "$T/pm"
vrc "$T/l.rc" "$T/l.log" "$T/lm"
procmail -m "$T/p.rc" <"$IN" >/dev/null 2>&1
st=0; "$LDA" -m "$T/l.rc" <"$IN" >/dev/null 2>&1 || st=$?
is "$st" 0 "VERBOSE=on: delivered, exit 0"
for phrase in 'Assigning "FOO=bar"' 'No match on "\^Subject:\.\*nomatch"' \
	'Match on "\^From:\.\*alice"' 'Match on ! "\^X-Spam"' 'Match on "< 100000"' \
	'Locking "alice\.mbox\.lock"' 'Unlocking "alice\.mbox\.lock"' \
	'Locking ".*/prog\.lock"' 'Unlocking ".*/prog\.lock"' 'Executing "' \
	'Score: +10 +10 "\^From:\.\*alice"' 'Score: +-5 +5 "\^Subject"' \
	'Matched "verbose test"' 'Assigning "LASTFOLDER=' '^  Folder: inbox/'; do
	grep -Eq "^(procmail: )?$phrase" "$T/p.log"
	ok $? "procmail's log has /$phrase/"
	like "$(cat "$T/l.log")" "^(lda: )?$phrase" "lda's VERBOSE log has it too: /$phrase/"
done
unlike "$(cat "$T/l.log")" 'Match on "\^Subject:\.\*nomatch"' "a condition that failed is not a match"
st=0; "$LDA" -m VERBOSE=off LOGFILE="$T/off.log" MAILDIR="$T/lm" "$T/l.rc" <"$IN" >/dev/null 2>&1 || st=$?
# the rc sets VERBOSE=on itself; a second rc without it stays quiet
grep -v '^VERBOSE' "$T/l.rc" | sed "s#$T/l.log#$T/q.log#" >"$T/q.rc"
"$LDA" -m "$T/q.rc" <"$IN" >/dev/null 2>&1
unlike "$(cat "$T/q.log")" 'Assigning|Match on' "without VERBOSE no trace in LOGFILE"
printf 'VERBOSE=yes\nLOGFILE=%s\n:0\n%s/y/\n' "$T/y.log" "$T" >"$T/y.rc"
"$LDA" -m "$T/y.rc" <"$IN" >/dev/null 2>&1
like "$(cat "$T/y.log")" 'Assigning "LASTFOLDER=' "VERBOSE=yes turns it on too"
printf 'VERBOSE=on\n:0\n%s/e/\n' "$T" >"$T/e.rc"
"$LDA" -m "$T/e.rc" <"$IN" >/dev/null 2>"$T/e.err"
like "$(cat "$T/e.err")" 'lda: Assigning "LASTFOLDER=' "VERBOSE=on without LOGFILE: the trace goes to stderr, as procmail's"

# --- --test: the same trace, on stdout --------------------------------------
out=$("$LDA" --test -m "$T/l.rc" <"$IN" 2>/dev/null)
like "$out" 'lda: Match on "\^From:\.\*alice"' "--test prints the same trace lines"
like "$out" 'Would deliver to "alice\.mbox" \(mbox\)' "--test: where it would deliver"
is "$(echo "$out" | tail -n 1)" 'exit code 0' "--test ends with the exit code"

# --- warnings that matter reach --test and LOGFILE -----------------------------
H=$T/home; mkdir -p "$H"
printf ':0\n%s/won/\n' "$T" >"$H/.procmailrc"; chmod 666 "$H/.procmailrc"
printf 'LOGFILE=%s\n' "$T/w.log" >"$T/sys.rc"; chmod 644 "$T/sys.rc"
out=$(HOME=$H "$LDA" --test --config "$T/sys.rc" <"$IN" 2>/dev/null)
like "$out" "rc $H/.procmailrc: not run: .*group or world writable" \
	"--test: a user rc that is not run says so"
HOME=$H "$LDA" --config "$T/sys.rc" DEFAULT="$T/d/" <"$IN" >/dev/null 2>&1
like "$(cat "$T/w.log")" "rc $H/.procmailrc: not run: .*group or world writable" \
	"LOGFILE: a user rc that is not run says so"
printf 'FILTERS="spamasassin"\n' >"$T/f.rc"
out=$(HOME=$H "$LDA" --test --config "$T/f.rc" <"$IN" 2>/dev/null)
like "$out" '(unknown|no built-in) filter.*spamasassin' "--test: an unknown filter name is reported"

# --- without syslog: said once on stderr, after the status line; the lines kept --
# lda_nolog ARGS...: lda where /dev/log cannot be reached (here it may not
# exist at all; where it does, a private mount hides it); stdout and
# stderr together in $T/nl, exit in $st
lda_nolog() {
	st=0
	if [ -e /dev/log ]; then
		: >"$T/nolog"
		unshare -m sh -c 'mount --bind "$1" /dev/log && shift && exec "$@"' sh \
			"$T/nolog" "$LDA" "$@" <"$IN" >"$T/nl" 2>&1 || st=$?
	else
		"$LDA" "$@" <"$IN" >"$T/nl" 2>&1 || st=$?
	fi
}
mid=$(sed -n 's/^Message-ID: //p' "$IN")
lda_nolog -m DEFAULT="$T/nl-md/" /dev/null
is "$st" 0 "no syslog: delivered, exit 0"
is "$(grep -c 'syslog cannot be reached' "$T/nl")" 1 "no syslog: said once on stderr"
like "$(cat "$T/nl")" "to=<.*folder=$T/nl-md/new/.*status=sent" "no syslog: the delivery line is kept on stderr"
like "$(cat "$T/nl")" "message-id=$mid: to=<" "the line names the Message-ID"
lda_nolog -m DEFAULT=/nonexistent/md/ ORGMAIL=/nonexistent/mbox /dev/null
is "$st" 75 "no syslog, a failure: 75"
like "$(head -n 1 "$T/nl")" '^4\.[0-9]\.[0-9] ' "no syslog: the status line still comes first (postfix reads it)"
like "$(cat "$T/nl")" 'status=failed \(create maildir /nonexistent/md' "no syslog: the failure's lines follow it"
if [ "$(id -u)" = 0 ]; then
	test_user DU diag || { echo "Bail out! cannot make a test user"; exit 1; }
	printf 'DEFAULT=/nonexistent/md/\nORGMAIL=/nonexistent/mbox\n' >"$T/bad.rc"; chmod 644 "$T/bad.rc"
	lda_nolog --config "$T/bad.rc" -d "$DU"
	is "$st" 75 "no syslog, root -d user (a child per recipient), a failure: 75"
	like "$(head -n 1 "$T/nl")" '^4\.[0-9]\.[0-9] ' "root -d: the status line still comes first"
	like "$(cat "$T/nl")" "to=<$DU>.*status=failed" "root -d: the child's lines are kept too"
	is "$(grep -c 'syslog cannot be reached' "$T/nl")" 1 "root -d: said once"
fi

# --- --log-file: the system log in a file; the queue ID and Message-ID ----
st=0; "$LDA" --log-file "$T/sys.log" --queue-id 4XyZ1abc -m DEFAULT="$T/lf-md/" /dev/null <"$IN" \
	>"$T/lf.out" 2>&1 || st=$?
is "$st" 0 "--log-file: delivered"
like "$(cat "$T/sys.log")" "^[A-Z][a-z]{2} [ 0-9]{2} [0-9:]{8} [^ ]+ lda\[[0-9]+\]: 4XyZ1abc: message-id=$mid: to=<.*status=sent" \
	"--log-file: a syslog-like line with the queue ID and the Message-ID"
unlike "$(cat "$T/lf.out")" 'syslog cannot be reached' "--log-file: no note on stderr"
st=0; "$LDA" --log-file /nonexistent/dir/x.log -m DEFAULT="$T/lf-md/" /dev/null <"$IN" >"$T/lf.out" 2>/dev/null || st=$?
is "$st" 75 "--log-file that cannot be opened: 75, the MTA keeps the message"
like "$(head -n 1 "$T/lf.out")" '^4\.3\.5 --log-file /nonexistent/dir/x.log: ' "... and the status line says why"
st=0; "$LDA" --log-file "$T/sys.log" --queue-id "$(printf 'bad id\n')" -m DEFAULT="$T/lf-md/" /dev/null <"$IN" >/dev/null 2>&1 || st=$?
like "$(tail -n 1 "$T/sys.log")" "lda\[[0-9]+\]: badid: message-id=" "a queue ID is shown without blanks or control bytes"
printf 'LOGFILE=%s\nLOG="user rc ran"\n' "$T/user.log" >"$H/.ldarc"; chmod 644 "$H/.ldarc"
HOME=$H "$LDA" --config /dev/null --log-file "$T/sys.log" DEFAULT="$T/lf-md/" <"$IN" >/dev/null 2>&1
like "$(tail -n 1 "$T/sys.log")" 'to=<.*status=sent' "a user rc's LOGFILE does not take the system log away"
rm -f "$H/.ldarc"

# --- --test and filters: said, not run; --test-filters runs them (spamd) ------
GTUBE='XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X'
printf 'From: a@example.org\nSubject: spam\nMessage-ID: <g%s@diag.t>\n\n%s\n' "$$" "$GTUBE" >"$T/gtube"
if [ "$(id -u)" = 0 ] && command -v spamd >/dev/null; then
	SD=$T/spamd; mkdir "$SD"
	"$LDA_TOP/tests/peers/spamd-up.sh" "$SD" >"$T/spamd-up.out" 2>&1 ||
		{ sed 's/^/# /' "$T/spamd-up.out"; echo "Bail out! spamd-up.sh failed"; exit 1; }
	at_exit "'$LDA_TOP/tests/peers/spamd-down.sh' '$SD'"
	. "$SD/env"
	printf 'MAILDIR=%s/fm\nDEFAULT=$MAILDIR/\nSPAMD=unix:%s\nFILTERS=spamassassin\n' "$T" "$SPAMD_SOCK" >"$T/spam.rc"
	printf ':0\n* SPAM_FLAG ?? YES\n.Spam/\n' >"$H/.ldarc"; chmod 644 "$H/.ldarc"
	mkdir -p "$T/fm"
	n0=$(grep -c 'identified spam' "$SPAMD_LOG" || true)
	st=0; out=$(HOME=$H "$LDA" --test --config "$T/spam.rc" <"$T/gtube" 2>/dev/null) || st=$?
	like "$out" 'Filter "spamassassin" would run \(not under --test; --test-filters runs it' \
		"--test names the filter it does not run"
	like "$out" 'filter spamassassin not run: its verdict may change this' "... and says the prediction depends on it"
	is "$(grep -c 'identified spam' "$SPAMD_LOG" || true)" "$n0" "--test: spamd was not asked"
	st=0; out=$(HOME=$H "$LDA" --test-filters --config "$T/spam.rc" <"$T/gtube" 2>/dev/null) || st=$?
	like "$out" 'Filter "spamassassin" runs \(--test-filters\)' "--test-filters runs the filter"
	like "$out" "Would deliver to \"\.Spam/\" \\(Maildir\\)" "--test-filters: the rc sees spamd's verdict (.Spam)"
	is "$(echo "$out" | tail -n 1)" "exit code 0" "--test-filters: exit code 0"
	ok "$([ ! -e "$T/fm/.Spam" ]; echo $?)" "--test-filters writes no folder"
	st=0; HOME=$H "$LDA" --config "$T/spam.rc" <"$T/gtube" >/dev/null 2>&1 || st=$?
	is "$st:$(find "$T/fm/.Spam/new" -type f | wc -l)" "0:1" "the real run agrees: .Spam, exit 0"
	printf 'MAILDIR=%s/fm\nDEFAULT=$MAILDIR/\nSPAMD=unix:%s/nosuch\nSPAMD_FAILURE=closed\nFILTERS=spamassassin\n' "$T" "$T" >"$T/down.rc"
	st=0; out=$(HOME=$H "$LDA" --test-filters --config "$T/down.rc" <"$T/gtube" 2>/dev/null) || st=$?
	is "$st $(echo "$out" | tail -n 1)" "75 exit code 75 (the MTA keeps the message)" \
		"--test-filters: spamd down and failing closed: exit 75 predicted"
	rm -f "$H/.ldarc"
elif [ -n "${CI:-}" ]; then
	ok 1 "--test and filters: cannot run under CI (needs root and spamd)"
else
	diag "skipped: --test and filters (needs root and spamd)"
fi

done_testing

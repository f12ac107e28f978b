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

done_testing

#!/usr/bin/env bash
# sieve-export.t - lda --to-sieve: the exit codes and the report (file:line
# and why, on stderr and in the script), nothing run while translating;
# then the three-way differential test (tests/integration/sieve-diff.py):
# every translatable case of tests/rc/cases and tests/sieve/cases delivered
# by lda into the real Cyrus, by Cyrus's lmtpd running the exported script,
# and by Pigeonhole's sieve-test on it; the folders (and flags) must match.
# Needs root, Cyrus (tests/peers/cyrus-up.sh), dovecot-sieve; about 60 s.
. "$LDA_TOP/tests/integration/lib.sh"

P=$LDA_TOP/tests/peers
if [ "$(id -u)" != 0 ]; then skip_all "needs root"; fi
if [ ! -x /usr/lib/cyrus/bin/master ] || [ ! -x /usr/lib/cyrus/bin/sievec ]; then
	skip_all "cyrus not installed"
fi
if ! command -v sieve-test >/dev/null; then skip_all "dovecot-sieve (sieve-test) not installed"; fi

# --- the translator alone ----------------------------------------------------
printf ':0\n* ^Subject:.*hello\nhello/\n' >"$T/good.rc"
"$LDA" --to-sieve "$T/good.rc" MAILDIR="$T" >"$T/out" 2>"$T/err"
is "$?" 0 "an rc that translates exactly: exit 0"
is "$(cat "$T/err")" "" "... and nothing on stderr"
like "$(cat "$T/out")" 'fileinto "INBOX\.hello";' "the folder is the store's mailbox name (SIEVE_PREFIX INBOX.)"
"$LDA" --to-sieve "$T/good.rc" MAILDIR="$T" SIEVE_PREFIX= >"$T/out" 2>/dev/null
like "$(cat "$T/out")" 'fileinto "hello";' "SIEVE_PREFIX= (Dovecot): the bare name"
printf 'STORE_SEPARATOR=/\n:0\nlists/linux/\n' >"$T/sep.rc"
"$LDA" --to-sieve "$T/sep.rc" MAILDIR="$T" >"$T/out" 2>/dev/null
like "$(cat "$T/out")" 'fileinto "INBOX/lists/linux";' "STORE_SEPARATOR=/ in the rc: the prefix and the levels follow it"

printf 'X=`touch %s/ran`\n:0\n* ? touch %s/ran2\nx/\n:0\n| touch %s/ran3\n' "$T" "$T" "$T" >"$T/bad.rc"
"$LDA" --to-sieve "$T/bad.rc" >"$T/out" 2>"$T/err"
is "$?" 3 "an rc with untranslatable parts: exit 3"
like "$(cat "$T/err")" "bad\\.rc:1: X=\`\\.\\.\\.\`: backquotes" "the report names file:line and why (backquotes)"
like "$(cat "$T/err")" "bad\\.rc:3: a program condition" "... a program condition"
like "$(cat "$T/err")" "bad\\.rc:5: a program" "... a program action"
like "$(cat "$T/out")" "# NOT TRANSLATED .*bad\\.rc:5: a program" "the report is in the script as a comment too"
ok $([ ! -e "$T/ran" ] && [ ! -e "$T/ran2" ] && [ ! -e "$T/ran3" ]; echo $?) "nothing of the rc was run"

"$LDA" --to-sieve "$T/nonexistent.rc" >/dev/null 2>"$T/err"
is "$?" 75 "an rc file that cannot be read: exit 75"

# --- the three-way test ----------------------------------------------------
CD=$T/cyrus
mkdir -p "$CD"
if ! out=$("$P/cyrus-up.sh" "$CD" 2>&1); then
	echo "Bail out! cyrus-up.sh: $out"; exit 1
fi
at_exit "'$P/cyrus-down.sh' '$CD'"
. "$CD/env"
test_user SVC svc || { echo "Bail out! cannot make a test user"; exit 1; }
export SVC T LDA_BIN LDA_TOP
# the python driver prints its own TAP lines; numbering goes on from ours
/usr/bin/python3 "$LDA_TOP/tests/integration/sieve-diff.py" >"$T/diff.tap"
st=$?
while IFS= read -r line; do
	case $line in
	"1.."*) ;;
	"ok "*) ok 0 "${line#ok [0-9]* - }" ;;
	"not ok "*) ok 1 "${line#not ok [0-9]* - }" ;;
	*) echo "$line" ;;
	esac
done <"$T/diff.tap"
is "$st" 0 "the differential driver ran to its end"
done_testing

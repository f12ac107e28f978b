#!/usr/bin/env bash
# rc-crash.t - issue 11 point 10: an rc file never crashes lda (a crash
# gives the MTA no exit code). Approximate matching that TRE 0.8.0 cannot
# run without overrunning its stack (over a keyword such as ^FROM_MAILER,
# anywhere in a big pattern, more than two {~...} in one pattern) is refused when
# the pattern is compiled, and ${X:-...} nested 20,000 deep is refused
# past 64 levels: each is an rc error with file:line (the message goes to
# DEFAULT, exit 0), and lda --check reports the same. Also the crash the
# fuzz campaign found (tests/fuzz/regex_fuzz.c, seed 2). About 1 s.
. "$LDA_TOP/tests/integration/lib.sh"

H=$T/home; mkdir -p "$H"
msg "$T/m" "crash test"
# run RC: deliver with rc file RC into $H/mail (DEFAULT); $st, $log
run() {
	rm -rf "$H/mail" "$H/found"; : >"$T/log"; st=0
	HOME=$H "$LDA" --config "$1" MAILDIR="$H/mail" DEFAULT="$H/mail/" \
		LOGFILE="$T/log" <"$T/m" >/dev/null 2>&1 || st=$?
	log=$(cat "$T/log")
}
# refused NAME RC LINE WHAT [DIR]: the run and --check both refuse RC at
# LINE; the message lands in DIR (default: DEFAULT, $H/mail)
refused() {
	run "$2"
	is "$st" 0 "$1: no crash, exit 0 (signal exits are 128+)"
	is "$(maildir_count "${5:-$H/mail}")" 1 "$1: delivered (${5:-DEFAULT})"
	like "$log" "$(basename "$2"):$3: .*$4" "$1: logged as an rc error at line $3"
	out=$("$LDA" --check "$2" 2>&1); cst=$?
	is "$cst" 65 "$1: lda --check fails"
	like "$out" "$(basename "$2"):$3: error: .*$4" "$1: lda --check reports line $3"
}
approx() { printf '# approximate\n:0\n* ~%s\nfound/\n' "$1" >"$T/$2"; }
# (found/ is relative to HOME, $H: lda starts there)

approx '^FROM_MAILER{7~}' fm.rc
refused "~^FROM_MAILER{7~}" "$T/fm.rc" 3 "approximate matching in a pattern of more than 128 positions"
approx '^TO_{20~}' to.rc
refused "~^TO_{20~}" "$T/to.rc" 3 "approximate matching in a pattern of more than 128"
approx '.*{7~}^FROM_DAEMON' after.rc
refused "a keyword after .*{7~}" "$T/after.rc" 3 "approximate matching in a pattern of more than 128"
approx 'a{~1}b{~1}c{~1}d{~1}e' four.rc
refused "four {~1} in a row" "$T/four.rc" 3 "more than 2 approximate"
approx 'A{~1} {+2-1#3~5}\w{~20}\<{~20}A' fuzz.rc
refused "the regex_fuzz crash" "$T/fuzz.rc" 3 "more than 2 approximate"

python3 -c "print('X=' + '\${A:-' * 20000 + 'z' + '}' * 20000)" >"$T/deep.rc"
refused "20,000 nested \${A:-...}" "$T/deep.rc" 1 'nested more than 64 deep'
python3 -c "print(':0\n* \$ ' + '\${A:+' * 20000 + 'x' + '}' * 20000 + '\nfound/')" >"$T/deepc.rc"
# (the condition expands to "", which matches, as a too long value does)
refused "20,000 nested \${A:+...} in a condition" "$T/deepc.rc" 2 'nested more than 64 deep' "$H/found"

# what stays allowed: one small approximate pattern, 64 levels of ${...}
approx '(lunch){~1}' one.rc
run "$T/one.rc"
is "$st" 0 "~(lunch){~1}: still runs"
python3 -c "print('X=' + '\${A:-' * 64 + 'z' + '}' * 64 + '\n:0\n* X ?? ^^z^^\nfound/')" >"$T/ok.rc"
run "$T/ok.rc"
is "$(maildir_count "$H/found")" 1 "64 nested \${A:-...} still expand"

done_testing

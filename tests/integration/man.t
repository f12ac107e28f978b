#!/usr/bin/env bash
# man.t - the manual pages: lda.1 and lda.rc.5 are clean under
# `mandoc -Tlint` and `groff -ww` (any message fails); lda.rc.5 names every
# variable the sources read (rc_get, settings_get, filter_setting ... and
# the special variables of rc/special.c); lda.1 has ENVIRONMENT, FILES,
# EXIT STATUS and EXAMPLES, says what -t, -o and -Y do, and every exit code of
# lda/outcome.c is in its EXIT STATUS and in the README's table.
. "$LDA_TOP/tests/integration/lib.sh"

command -v mandoc >/dev/null || skip_all "mandoc not installed (apt-get install mandoc)"
command -v groff >/dev/null || skip_all "groff not installed (apt-get install groff)"

for p in lda.1 lda.rc.5; do
	f=$LDA_TOP/$p
	out=$(mandoc -Tlint -Wstyle "$f" 2>&1); st=$?
	is "$st:$out" "0:" "$p: mandoc -Tlint says nothing"
	out=$(groff -ww -z -man "$f" 2>&1); st=$?
	is "$st:$out" "0:" "$p: groff -ww says nothing"
done

# every variable the sources read or set appears in lda.rc.5
vars=$(cd "$LDA_TOP" && {
	grep -rhoE '\b(board_yes|filter_setting|filter_setting_num|get|opt_value|rc_get|settings_get|setting_yes|verdict_var|rc_vars_set|rc_yell_assign)\([a-z_>.&-]*, *"[A-Z][A-Z0-9_]+"' \
		--include=*.c lda rc filters
	grep -hoE 'strcmp\(name, "[A-Z][A-Z0-9_]+"' rc/special.c rc/rc.c
	sed -n 's/.*\.prefix = "\([A-Z]*\)".*/"\1_FAILURE"/p' filters/*.c
} | grep -oE '"[A-Z0-9_]+"' | tr -d '"' | sort -u)
# not settings: lda's own hand-over between its two plusaddr calls; the
# failure policy of filters that cannot fail
skip=' PLUSADDR_DELIVER BBOARD_FAILURE PLUSADDR_FAILURE '
missing=""
for v in $vars; do
	case $skip in *" $v "*) continue ;; esac
	grep -qw -- "$v" "$LDA_TOP/lda.rc.5" || missing="$missing $v"
done
is "$(echo "$vars" | wc -w | tr -d ' ') >= 60:$missing" "$(echo "$vars" | wc -w | tr -d ' ') >= 60:" "lda.rc.5 names every variable lda reads"

man1=$(cat "$LDA_TOP/lda.1")
for s in ENVIRONMENT FILES 'EXIT STATUS' EXAMPLES; do
	like "$man1" "^\.SH $s\$" "lda.1 has $s"
done
like "$man1" '^\.BR \\-t ", " \\-o ", " \\-Y' "lda.1 describes -t, -o and -Y"
like "$man1" 'and ignored' "... as accepted and ignored"
like "$man1" '^\.TH LDA 1 [0-9]{4}-[0-9]{2}-[0-9]{2} ' "lda.1 has a date mandoc can read"

# the exit codes of lda/outcome.c, as numbers
names=$(grep -oE '\bEX_[A-Z]+\b' "$LDA_TOP/lda/outcome.c" | sort -u)
codes=$(printf '#include <sysexits.h>\n%s\n' "$names" | cpp -P | tr -s ' \n' ' ')
exits=$(sed -n '/^\.SH EXIT STATUS/,/^\.SH /p' "$LDA_TOP/lda.1")
readme=$(sed -n '/^### Exit codes/,/^No other exit/p' "$LDA_TOP/README.md")
ok $([ -n "${codes// /}" ]; echo $?) "exit codes found in lda/outcome.c: $codes"
for c in $codes; do
	like "$exits" "^\.B $c\$" "exit $c is in lda.1's EXIT STATUS"
	like "$readme" "^\| $c \|" "exit $c is in the README's table"
done
done_testing

#!/usr/bin/env bash
# layers.t - the dependencies of the sources run one way (issue 17; the
# README's Layout): lda/main.c sequences the steps and may include rc/ and
# filters/; filters/ may include lda/ and rc/; rc/ includes lda/ only (the
# delivery layer's settings.h it implements, the built-in filters handed
# over through rc_builtins); nothing else under lda/ includes a header of
# rc/, filters/ or verify/.
. "$LDA_TOP/tests/integration/lib.sh"

cd "$LDA_TOP" || exit 1
up=$(grep -l '#include "\.\./\(rc\|filters\|verify\)/' lda/*.c lda/*.h | grep -v '^lda/main\.c$' | tr '\n' ' ')
is "$up" "" "nothing under lda/ but main.c includes rc/, filters/ or verify/"
up=$(grep -l '#include "\.\./\(filters\|verify\)/' rc/*.c rc/*.h | tr '\n' ' ')
is "$up" "" "nothing under rc/ includes filters/ or verify/"
up=$(grep -l '#include "\.\./verify/' filters/*.c filters/*.h filters/modules/*.c 2>/dev/null | tr '\n' ' ')
is "$up" "" "nothing under filters/ includes verify/"
# no room too big to read (issue 17): every .c/.h under lda/ rc/ filters/
# verify/ at most 1,200 lines; the offending files are named
big=
for f in $(find lda rc filters verify -name '*.[ch]' | sort); do
	n=$(wc -l < "$f")
	[ "$n" -le 1200 ] || big="$big$f ($n lines) "
done
is "$big" "" "no source file under lda/ rc/ filters/ verify/ is over 1,200 lines"
done_testing

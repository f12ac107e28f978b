# filter-lib.sh - shared by the filter-*.t tests (after lib.sh): deliver a
# message through a system rc ($T/sys.rc, written by each test's sysrc)
# into Maildirs under $H/mail named after the filter's variables, and read
# back what landed. Not a test itself.

# run MSG [ARGS...] - deliver MSG; $st: exit status, $got: the file that
# landed ("" if none), $dir: the folder it landed in
run() {
	local in=$1; shift
	rm -rf "$H/mail"; mkdir -p "$H/mail"
	st=0
	HOME=$H "$LDA" --config "$T/sys.rc" "$@" <"$in" >"$T/out" 2>"$T/err" || st=$?
	got=$(find "$H/mail" -path '*/new/*' -type f 2>/dev/null | head -n 1)
	dir=""
	[ -n "$got" ] && dir=$(basename "$(dirname "$(dirname "$got")")")
	return 0
}
# body FILE - the body (after the first blank line, CRLF or LF)
body() { sed -e '1,/^\r\{0,1\}$/d' "$1"; }
# header FILE - the header section, continuation lines unfolded
header() { sed -e '/^\r\{0,1\}$/q' "$1" | sed -e ':a;N;$!ba;s/\r\{0,1\}\n[ \t]\{1,\}/ /g'; }

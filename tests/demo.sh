#!/bin/sh
# demo.sh LDA [DIR] - deliver the sample messages in tests/data/ through
# lda.rc.example into DIR/home/Maildir (default: demo/ in the source tree),
# and say where each one went (lda's log lines: DIR/syslog.log). Run by
# `make demo` and by tests/integration/demo.t; DIR is made anew each time.
set -eu
lda=$1
top=$(cd "$(dirname "$0")/.." && pwd)
out=${2:-$top/demo}
home=$out/home
rm -rf "$out"
mkdir -p "$home"
for m in "$top"/tests/data/*.eml; do
	status=0
	# the log lines go to a file of the demo's, not to syslog (or, on a
	# host without one, to the terminal)
	HOME=$home "$lda" --config "$top/lda.rc.example" \
	    --log-file "$out/syslog.log" LOGFILE="$out/lda.log" <"$m" || status=$?
	where=$(sed -n 's/.*folder=\([^,]*\),.*/\1/p' "$out/lda.log" | tail -n 1)
	printf '%-16s exit %s -> %s\n' "$(basename "$m")" "$status" \
	    "${where#"$top"/}"
done
echo "Maildir: ${home#"$top"/}/Maildir (log: ${out#"$top"/}/lda.log)"

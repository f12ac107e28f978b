#!/bin/sh
# demo.sh LDA [DIR] - deliver the sample messages in tests/data/ through
# lda.rc.example into DIR/home/Maildir (default: demo/ in the source tree),
# and say where each one went. Run by `make demo` and by
# tests/integration/demo.t; DIR is made anew each time.
set -eu
lda=$1
top=$(cd "$(dirname "$0")/.." && pwd)
out=${2:-$top/demo}
home=$out/home
rm -rf "$out"
mkdir -p "$home"
for m in "$top"/tests/data/*.eml; do
	status=0
	HOME=$home "$lda" --config "$top/lda.rc.example" \
	    LOGFILE="$out/lda.log" <"$m" || status=$?
	where=$(sed -n 's/.*folder=\([^,]*\),.*/\1/p' "$out/lda.log" | tail -n 1)
	printf '%-16s exit %s -> %s\n' "$(basename "$m")" "$status" \
	    "${where#"$top"/}"
done
echo "Maildir: ${home#"$top"/}/Maildir (log: ${out#"$top"/}/lda.log)"

#!/bin/sh
# demo.sh LDA - deliver the sample messages in tests/data/ through
# lda.rc.example into demo/home/Maildir, and say where each one went.
# Run by `make demo`; the demo directory is made anew each time.
set -eu
lda=$1
top=$(cd "$(dirname "$0")/.." && pwd)
home=$top/demo/home
rm -rf "$top/demo"
mkdir -p "$home"
for m in "$top"/tests/data/*.eml; do
	status=0
	HOME=$home "$lda" --config "$top/lda.rc.example" \
	    LOGFILE="$top/demo/lda.log" <"$m" || status=$?
	where=$(tail -n 1 "$top/demo/lda.log" | sed -n 's/.*folder=\([^,]*\),.*/\1/p')
	printf '%-16s exit %s -> %s\n' "$(basename "$m")" "$status" \
	    "${where#"$top"/}"
done
echo "Maildir: ${home#"$top"/}/Maildir (log: demo/lda.log)"

#!/bin/bash
# fork.sh [LDA] - the floor under lda -z's time per recipient on this
# machine: one fork + _exit + waitpid (tests/bench/fork.c), for a parent
# of 64 kB and 1 MB of heap, with and without copy-on-write faults, and
# pinned to one CPU. Needs no root and no peer; LDA is ignored (make bench
# passes it). Prints a Markdown table of microseconds per round.
set -euo pipefail
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
cc -O2 -o "$W/fork" "$(dirname "$0")/fork.c"
echo "| parent heap | child writes | parent writes | pinned | µs per fork+exit+wait |"
echo "| ---: | ---: | ---: | --- | ---: |"
for row in "64 0 0 0" "1024 0 0 0" "1024 60 30 0" "1024 0 0 1"; do
	set -- $row
	echo "| $1 kB | $2 pages | $3 pages | $([ "$4" = 1 ] && echo yes || echo no) | $("$W/fork" "$@") |"
done

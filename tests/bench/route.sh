#!/bin/bash
# route.sh LDA - the per-message cost of a STORE_ROUTES lookup (lda/route.c)
# in a table of BENCH_ROUTE_KEYS (100,000) recipients: as a cdb built by
# tinycdb's `cdb -c -m`, and as the flat file it is built from. Each
# "message" does what one lda process does with the table: open it, look
# one recipient up (three in four are in the table), close it
# (tests/bench/route-lookup.c, linked with lda's route.c). BENCH_ROUTE_N
# (20,000) messages per run (N/500 for the flat file), BENCH_ROUTE_RUNS (5) runs; prints the median
# per run, in microseconds, as a Markdown table. The target (issue 18):
# under 50 us per message. The page cache is warm, as for a table every
# delivery reads. LDA is only used to find the source tree.
set -euo pipefail
LDA=${1:?usage: route.sh LDA}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
KEYS=${BENCH_ROUTE_KEYS:-100000}
N=${BENCH_ROUTE_N:-20000}
RUNS=${BENCH_ROUTE_RUNS:-5}
command -v cdb >/dev/null || { echo "route.sh: tinycdb's cdb is not installed (make deps)" >&2; exit 1; }
W=$(mktemp -d /tmp/lda-bench-route.XXXXXX)
trap 'rm -rf "$W"' EXIT
cc -O2 -std=c11 -D_GNU_SOURCE -I"$TOP/lda" -o "$W/route-lookup" "$TOP/tests/bench/route-lookup.c" \
	"$TOP/lda/route.c" "$TOP/lda/buf.c" "$TOP/lda/fdio.c" "$TOP/lda/xalloc.c"
awk -v n="$KEYS" 'BEGIN { for (i = 0; i < n; i++)
	printf "user%06d lmtp:inet:imap%d:2003\n", i, i % 7 }' >"$W/routes"
cdb -c -m "$W/routes.cdb" "$W/routes"
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
run() { # run SPEC N: "per-message lookup-only" medians
	local i; : >"$W/out"
	for i in $(seq "$RUNS"); do "$W/route-lookup" "$1" "$2" "$KEYS" >>"$W/out"; done
	echo "$(cut -d' ' -f1 <"$W/out" | median) $(cut -d' ' -f2 <"$W/out" | median)"
}
read -r c1 c2 < <(run "cdb:$W/routes.cdb" "$N")
# the flat file is read and sorted whole per message: far fewer runs
read -r f1 f2 < <(run "file:$W/routes" "$((N / 500 + 1))")
echo "| table ($KEYS entries, $(du -k "$W/routes.cdb" | cut -f1) KB cdb, $(du -k "$W/routes" | cut -f1) KB text) | per message: open + lookup + close (us) | lookup on an open table (us) |"
echo "|---|---|---|"
echo "| cdb:  (tinycdb cdb -c -m) | **$c1** | $c2 |"
echo "| file: (the same text) | $f1 | $f2 |"
awk -v c="$c1" 'BEGIN { exit !(c < 50) }' || { echo "route.sh: cdb lookup $c1 us per message: over the 50 us target" >&2; exit 1; }

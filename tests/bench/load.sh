#!/bin/bash
# load.sh LDA - 200 deliveries started at the same instant (one barrier,
# tests/faults/storm.sh) into one mbox, one Maildir, one MH folder, one
# Cyrus (unix socket) and one Dovecot: messages per second over the whole
# storm and the slowest process, with every message checked to be there
# exactly once (the same checks as tests/faults/load.t, which is the
# test; this is the figure). BENCH_N (200) processes, BENCH_ROUNDS (3)
# storms per destination; the median round is reported. Run as root
# (`make bench` passes the binary); the stores run as the tests start
# them (tests/peers/). Output: a Markdown table on stdout (and BENCH_OUT).
set -u
LDA=${1:?usage: load.sh LDA}
N=${BENCH_N:-200}
ROUNDS=${BENCH_ROUNDS:-3}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
P=$TOP/tests/peers
[ "$(id -u)" = 0 ] || { echo "load.sh: run as root" >&2; exit 75; }
. "$TOP/tests/faults/storm.sh"
W=$(mktemp -d /tmp/lda-load.XXXXXX); chmod 755 "$W"
SVC=ldaload$$
useradd -M -d /nonexistent -s /usr/sbin/nologin "$SVC" || exit 75
cleanup() {
	[ -f "$W/cyrus/master.pid" ] && "$P/cyrus-down.sh" "$W/cyrus" >/dev/null 2>&1
	[ -d "$W/dovecot" ] && "$P/dovecot-down.sh" "$W/dovecot" >/dev/null 2>&1
	userdel "$SVC" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
: >"$W/empty.rc"
mkdir -p "$W/cyrus" "$W/dovecot"
"$P/cyrus-up.sh" "$W/cyrus" >/dev/null || exit 75
"$P/dovecot-up.sh" "$W/dovecot" >/dev/null || exit 75
. "$W/cyrus/env"; . "$W/dovecot/env"

# count KIND ROUND: messages of round's storm found exactly once
count() {
	local files
	case $1 in
	mbox) files=$W/mbox.$2 ;;
	Maildir) files=$(find "$W/md.$2/new" -type f) ;;
	MH) files=$(find "$W/mh.$2" -type f -name '[1-9]*') ;;
	Cyrus) files=$(find "$CYRUS_SPOOL" -type f -name '[0-9]*.' -newer "$W/s.$1.$2/m1") ;;
	Dovecot) b=${DOVECOT_MAIL//%u/bob}; files=$(find "$b/new" "$b/cur" -type f -newer "$W/s.$1.$2/m1") ;;
	esac
	cat $files 2>/dev/null | grep -a '^Message [0-9]* of the storm\.' | sort | uniq -c | awk '$1 == 1' | wc -l
}
out() { echo "$*"; [ -n "${BENCH_OUT:-}" ] && echo "$*" >>"$BENCH_OUT"; return 0; }
[ -n "${BENCH_OUT:-}" ] && : >"$BENCH_OUT"
out "| destination | msg/s (median of $ROUNDS) | slowest process (ms) | exit 0 | each once |"
out "|---|---|---|---|---|"
for kind in mbox Maildir MH Cyrus Dovecot; do
	rates=(); slow=(); oks=(); once=()
	for r in $(seq "$ROUNDS"); do
		d=$W/s.$kind.$r; mkdir -p "$d"; chmod 777 "$d"
		case $kind in
		mbox) storm "$d" "$N" "$LDA" -f s@example.org -m DEFAULT="$W/mbox.$r" "$W/empty.rc" ;;
		Maildir) storm "$d" "$N" "$LDA" -m DEFAULT="$W/md.$r/" "$W/empty.rc" ;;
		MH) storm "$d" "$N" "$LDA" -m DEFAULT="$W/mh.$r/." "$W/empty.rc" ;;
		Cyrus) storm "$d" "$N" runuser -u "$SVC" -- "$LDA" --store "lmtp:unix:$CYRUS_LMTP_SOCK" -f s@example.org -d bob ;;
		Dovecot) storm "$d" "$N" runuser -u "$SVC" -- "$LDA" --store "lmtp:unix:$DOVECOT_LMTP_SOCK" -f s@example.org -d bob ;;
		esac
		rates+=("$(awk -v n="$N" -v ms="$storm_ms" 'BEGIN { printf "%.0f", n * 1000 / ms }')")
		slow+=("$(storm_slowest "$d")")
		oks+=("$(storm_exits "$d" | awk '$1 == 0 { print $2 }')")
		once+=("$(count "$kind" "$r")")
	done
	med=$(printf '%s\n' "${rates[@]}" | sort -n | sed -n "$(((ROUNDS + 1) / 2))p")
	ms=$(printf '%s\n' "${slow[@]}" | sort -n | sed -n "$(((ROUNDS + 1) / 2))p")
	out "| $kind | $med | $ms | $(printf '%s ' "${oks[@]}")| $(printf '%s ' "${once[@]}")|"
done

# storm.sh - N lda processes started at the same instant (sourced by
# tests/faults/load.t and tests/bench/load.sh).
#   storm DIR N CMD...  writes DIR/m1..mN (a message each, Message-ID
#   <storm.I.PID@load>, Subject "storm I"), starts N times
#   "CMD < DIR/mI" behind one barrier (a FIFO all of them open, released
#   at once), waits for all; DIR/rI holds "EXIT MILLISECONDS" of process
#   I, DIR/oI its output. Sets storm_ms (wall time of the whole storm).
# Not a test itself.

storm() {
	local dir=$1 n=$2 i t0; shift 2
	mkdir -p "$dir"
	for i in $(seq "$n"); do
		printf 'From: a@example.org\nTo: bob@example.org\nSubject: storm %d\nMessage-ID: <storm.%d.%d.%s@load>\nDate: Sat, 21 Nov 2026 10:00:00 +0000\n\nMessage %d of the storm.\nFrom the load test.\n' \
			"$i" "$i" $$ "${dir//[^a-zA-Z0-9]/}" "$i" >"$dir/m$i"
	done
	rm -f "$dir/go"; mkfifo "$dir/go"
	exec 9<>"$dir/go"	# open both ways: never blocks, keeps it open
	for i in $(seq "$n"); do
		(
			exec 9>&-
			read -r _ <"$dir/go"
			s=$(date +%s%N); e=0
			"$@" <"$dir/m$i" >"$dir/o$i" 2>&1 || e=$?
			echo "$e $((($(date +%s%N) - s) / 1000000))" >"$dir/r$i"
		) &
	done
	sleep 0.5	# let them reach the barrier (a late one finds its line)
	t0=$(date +%s%N)
	printf '\n%.0s' $(seq "$n") >&9; exec 9>&-
	wait
	storm_ms=$((($(date +%s%N) - t0) / 1000000))
}
# storm_exits DIR - "CODE COUNT" lines of the exit codes
storm_exits() { cat "$1"/r* | awk '{ print $1 }' | sort | uniq -c | awk '{ print $2 " " $1 }'; }
# storm_slowest DIR - the slowest process, in ms
storm_slowest() { cat "$1"/r* | awk '$2 > m { m = $2 } END { print m + 0 }'; }

# lib.sh - shared helpers for lda's benchmarks (tests/bench/local.sh, rc.sh).
#
# Sourced (bash), it gives:
#   bench_init LDA     check root, tools and the lda binary; take the bench
#                      lock; make the user $BU (home $BH) and the scratch
#                      directory $W (removed at exit, with what we put in $BH)
#   SPAWN              the benchmarks' MTA (spawn.c, built into $W): runs a
#                      command as $BU once per message as postfix does (fork,
#                      setgid/setgroups/setuid, a 5-variable env, exec)
#   AS=(...)           setpriv + env -i: the same user and env for one
#                      untimed command (preflight, RSS)
#   install_rc P M     P as ~/.procmailrc, M as ~/.mailfilter (mode 0600)
#   maildir_reset      an empty Maildir++ tree with the folders of FOLDERS
#   maildir_count      messages in new/ and cur/ of every folder
#   maildir_dist       "folder count" lines
#   hf NAME N RUNS WARMUP CMD  hyperfine over a batch command, JSON to $W
#   drive_cmd SRC COUNT STATS TIMEOUT CMD...
#                      the command line of one batch: $SPAWN feeds CMD one
#                      message per process, every SRC/*.eml (COUNT 0) or
#                      the file SRC COUNT times; stderr to STATS.err; stops
#                      at the first non-zero exit; appends "n user sys"
#                      (the children's CPU) to STATS, touches STATS.ran
# Run as a program, it is the Maildir checker that hyperfine calls:
#   bash lib.sh prepare STATS EXPECT
#       if STATS.ran exists, the run before must have left exactly EXPECT
#       messages, distributed over the folders like every run before it
#       (STATS.dist); then empty the Maildir for the next run.
# Not a benchmark itself: `make bench` (which runs every *.sh with the
# binary's absolute path) finds it does nothing then.

BU=${BENCH_USER:-ldabench}
BH=/home/$BU
SENDER=sender@example.net
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH_LIB=$BENCH_DIR/lib.sh
PY=/usr/bin/python3
# every Maildir++ folder any of our rc files delivers to
FOLDERS=".Spam .ListsAnnounce .ListsDev .ListsUsers .Notifications .Finance
.Bulk .Boss .Urgent .Bounces .Auto .Internal .Found"

die() { printf 'bench: %s\n' "$*" >&2; exit 1; }
note() { printf '# %s\n' "$*" >&2; }

maildir_reset() {
	local f
	rm -rf "$BH/Maildir"
	mkdir -p "$BH/Maildir"/{cur,new,tmp}
	for f in $FOLDERS; do mkdir -p "$BH/Maildir/$f"/{cur,new,tmp}; done
	chown -R "$BU:$BU" "$BH/Maildir"
	chmod -R 0700 "$BH/Maildir"
}

maildir_count() {
	find "$BH/Maildir" -type f \( -path '*/new/*' -o -path '*/cur/*' \) 2>/dev/null |
		wc -l | tr -d ' '
}

maildir_dist() {
	find "$BH/Maildir" -type f \( -path '*/new/*' -o -path '*/cur/*' \) 2>/dev/null |
		sed -e "s|^$BH/Maildir/||" -e 's|/[^/]*/[^/]*$||' -e 's|^[^.].*|.|' |
		sort | uniq -c | awk '{print $2, $1}'
}

# misdelivered - mail that went to the system mailbox instead of the Maildir
misdelivered() {
	local f
	for f in /var/mail/$BU /var/spool/mail/$BU "$BH/mbox" "$BH/Mailbox"; do
		[ -s "$f" ] && { echo "$f"; return 0; }
	done
	return 1
}

prepare() {
	local stats=$1 expect=$2 got bad
	if [ -e "$stats.ran" ]; then
		rm -f "$stats.ran"
		got=$(maildir_count)
		if [ "$got" != "$expect" ]; then
			bad=$(misdelivered) && note "mail went to $bad"
			die "expected $expect messages in $BH/Maildir after the run, found $got (stats $stats)"
		fi
		maildir_dist >"$stats.dist.new"
		if [ -e "$stats.dist" ] && ! cmp -s "$stats.dist" "$stats.dist.new"; then
			die "folders differ between two runs of the same command ($stats.dist)"
		fi
		mv "$stats.dist.new" "$stats.dist"
	fi
	maildir_reset
	sync	# the run before's writes on disk before the clock starts
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -u
	case ${1-} in
	prepare) shift; prepare "$@" ;;
	# `make bench` runs every tests/bench/*.sh with the binary as $1:
	# as a benchmark this file is nothing
	/*) exit 0 ;;
	*) die "usage: lib.sh prepare STATS EXPECT" ;;
	esac
	exit 0
fi

# ----------------------------------------------------------- sourced part

bench_cleanup() {
	[ -n "${W-}" ] && rm -rf "$W"
	rm -rf "$BH/Maildir" "$BH/.procmailrc" "$BH/.mailfilter" "$BH/.ldarc" \
		"$BH/.lda.log" "$BH/msgid.cache"
	rm -f "/var/mail/$BU"
}

bench_init() {
	LDA=${1-}
	[ "$(id -u)" -eq 0 ] ||
		die "run as root: the peers run as user $BU via setpriv (sudo make bench)"
	[ -n "$LDA" ] || die "usage: $0 /path/to/lda"
	LDA=$(readlink -f "$LDA") || die "no lda binary"
	[ -x "$LDA" ] || die "$LDA: not an executable (build it: make BUILD=/tmp/benchbuild)"
	local t
	for t in hyperfine setpriv /usr/bin/time procmail maildrop timeout flock; do
		command -v "$t" >/dev/null || die "$t is not installed (apt-get install hyperfine procmail maildrop time)"
	done
	[ -x "$PY" ] || die "$PY is needed for the message generator"
	# one benchmark at a time: they share the user and its home
	exec 9>/tmp/ldabench.lock
	if ! flock -n 9; then
		note "waiting (up to 15 min) for /tmp/ldabench.lock: another benchmark is running"
		flock -w 900 9 || die "another benchmark holds /tmp/ldabench.lock"
	fi
	# the bench user, idempotently: an ordinary account, home $BH
	id "$BU" >/dev/null 2>&1 ||
		useradd -m -d "$BH" -s /bin/sh "$BU" 2>/dev/null || id "$BU" >/dev/null 2>&1 ||
		die "cannot create user $BU"
	[ "$(getent passwd "$BU" | cut -d: -f6)" = "$BH" ] ||
		die "user $BU exists with a home other than $BH"
	mkdir -p "$BH"
	chown "$BU:$BU" "$BH"
	chmod 0755 "$BH"
	W=$(mktemp -d /tmp/ldabench-work.XXXXXX)
	chmod 0755 "$W"
	mkdir "$W/out"
	chown "$BU:$BU" "$W/out"
	trap bench_cleanup EXIT
	trap 'exit 130' INT TERM
	# the MTA that starts every timed LDA
	SPAWN=$W/spawn
	cc -O2 -o "$SPAWN" "$BENCH_DIR/spawn.c" || die "cannot build $BENCH_DIR/spawn.c"
	# the same user and env for one untimed command
	AS=(setpriv "--reuid=$BU" "--regid=$BU" --init-groups
		env -i "HOME=$BH" PATH=/usr/bin:/bin "USER=$BU" "LOGNAME=$BU" SHELL=/bin/sh)
	# an empty system rc for lda (so /etc/lda.rc, if any, is not read)
	: >"$W/empty.rc"
	chmod 0644 "$W/empty.rc"
	MACHINE="$(nproc) vCPU $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), $(free -g | awk '/^Mem:/{print $2}') GiB RAM, kernel $(uname -r)"
	note "machine: $MACHINE"
	note "lda: $LDA ($("$LDA" --version 2>/dev/null | head -n 1))"
	note "procmail: $(procmail -v 2>&1 | head -n 1); maildrop: $(maildrop -v 2>&1 | head -n 1)"
}

install_rc() {
	local p=$1 m=$2
	rm -f "$BH/.ldarc"
	install -o "$BU" -g "$BU" -m 0600 "$p" "$BH/.procmailrc"
	install -o "$BU" -g "$BU" -m 0600 "$m" "$BH/.mailfilter"
}

# q ARGS - shell-quoted words, for command strings hyperfine runs with sh
q() { printf '%q ' "$@"; }

# drive_cmd SRC COUNT STATS TIMEOUT CMD... - one batch as a shell command
drive_cmd() {
	local src=$1 count=$2 stats=$3 to=$4
	shift 4
	q timeout "$to" "$SPAWN" -u "$BU" -e "$stats.err" -s "$stats" -n "$count" "$src" -- "$@"
}

# hf NAME RUNS WARMUP EXPECT CMDSTRING - hyperfine one batch command; the
# Maildir is checked and emptied before every run. Returns non-zero when a
# run failed (the error is in $W/NAME.err).
hf() {
	local name=$1 runs=$2 warm=$3 expect=$4 cmd=$5 st=$W/out/$1
	rm -f "$st" "$st".*
	: >"$st.err"
	chown "$BU:$BU" "$st.err"
	maildir_reset
	hyperfine --style basic --runs "$runs" --warmup "$warm" \
		--prepare "$(q bash "$BENCH_LIB" prepare "$st" "$expect")" \
		--export-json "$W/$name.json" --command-name "$name" "$cmd" \
		>"$W/$name.hf.txt" 2>&1 || {
		cat "$W/$name.hf.txt" >&2
		return 1
	}
	# the last run is checked here (prepare checked all the others)
	bash "$BENCH_LIB" prepare "$st" "$expect" || return 1
	return 0
}

# rss_one M CFG SIZE FILE FOLDER CMDSTRING - deliver FILE once with the
# command CMDSTRING (run as $BU, under GNU time -v, timeout $TO) into an
# empty Maildir; FOLDER ("." = inbox, ".Found", or "" for no delivery) must
# then hold the one message, whole. Appends "M CFG SIZE maxrss_kib wall_s
# cpu_s" to $W/rss.txt; on failure sets RSS_ERR, says why, returns 1.
rss_one() {
	local m=$1 cfg=$2 sz=$3 file=$4 folder=$5 cmd=$6 rc=0 got f outsize insize
	insize=$(stat -c %s "$file")
	maildir_reset
	rm -f "$W/out/time.txt"
	eval "timeout ${TO:-300} $(q "${AS[@]}" /usr/bin/time -v -o "$W/out/time.txt") $cmd" \
		<"$file" >/dev/null 2>"$W/rss.err" || rc=$?
	RSS_ERR=
	if [ "$rc" -ne 0 ]; then
		RSS_ERR="exit $rc on $sz MB: $(grep -v '^Command exited' "$W/rss.err" | head -c 200 | tr '\n' ' ')"
	elif [ -n "$folder" ]; then
		got=$(maildir_count)
		f=$(find "$BH/Maildir/$folder/new" -type f 2>/dev/null | head -n 1)
		outsize=$(stat -c %s "$f" 2>/dev/null || echo 0)
		if [ "$got" -ne 1 ] || [ "$outsize" -lt "$insize" ]; then
			RSS_ERR="$sz MB: $got message(s) delivered, $outsize of $insize bytes in $folder ($(maildir_dist | tr '\n' ' '))"
		fi
	fi
	if [ -n "$RSS_ERR" ]; then
		note "ERROR: $m ($cfg): $RSS_ERR"
		return 1
	fi
	awk -v m="$m" -v c="$cfg" -v s="$sz" -F': ' '
		/Maximum resident set size/ { rss = $2 }
		/User time/ { u = $2 } /System time/ { sy = $2 }
		/Elapsed \(wall clock\)/ { n = split($2, a, ":"); w = 0
			for (i = 1; i <= n; i++) w = w * 60 + a[i] }
		END { print m, c, s, rss, w, u + sy }' "$W/out/time.txt" >>"$W/rss.txt"
	rm -rf "$BH/Maildir"
}

# timed_once METHOD FILE - deliver FILE once by ${BASE[METHOD]} through
# $SPAWN: TIMED_US is the time from its fork to the end of its wait4 (µs),
# or it returns 1 with TIMED_ERR saying what failed
timed_once() {
	: >"$W/inter.err"
	rm -f "$W/inter.us"
	if ! eval "$(q "$SPAWN" -u "$BU" -e "$W/inter.err" -t "$W/inter.us" "$2" --) ${BASE[$1]}" 2>/dev/null; then
		TIMED_ERR="$1 on $2: $(head -c 200 "$W/inter.err" | tr '\n' ' ')"
		return 1
	fi
	TIMED_US=$(cat "$W/inter.us")
}

# interleave TAG SRC COUNT METHOD... - the robust cross-check on a shared,
# noisy machine: message by message, every METHOD in turn (the order
# rotates, so each is first as often as the others), each delivery timed
# alone (by $SPAWN: from its fork to the end of wait4).
# SRC/*.eml (COUNT 0) or the file SRC COUNT times; the commands are
# ${BASE[METHOD]}, run as $BU. Appends "TAG METHOD µs" to $W/inter.txt.
# Returns 1 (INTER_ERR set) at the first failing delivery.
interleave() {
	local tag=$1 src=$2 count=$3 f i=0 k m
	shift 3
	local ms=("$@") files=()
	if [ "$count" -eq 0 ]; then files=("$src"/*.eml); else
		for ((k = 0; k < count; k++)); do files+=("$src"); done; fi
	INTER_ERR=
	for f in "${files[@]}"; do
		for ((k = 0; k < ${#ms[@]}; k++)); do
			m=${ms[$(((i + k) % ${#ms[@]}))]}
			timed_once "$m" "$f" || { INTER_ERR=$TIMED_ERR; return 1; }
			echo "$tag $m $TIMED_US" >>"$W/inter.txt"
		done
		i=$((i + 1))
	done
}

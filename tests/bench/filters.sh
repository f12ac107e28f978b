#!/bin/bash
# filters.sh LDA - what the filters cost per message (not a test: make bench).
#
# (1) The built-in spamd client (FILTERS=spamassassin) against a "| spamc"
#     program filter in a ":0 fw" recipe, on the same private spamd (the
#     same stock rules, no network tests), and spamc alone (spamd's own
#     scan time, no delivery) for reference.
# (2) Each filter on its own, and all three, on the same 10 KB message:
#     spf (libspf2 module, zone DNS), clamav through clamd (INSTREAM) and
#     clamav in-process (libclamav module, a 2-signature database), against
#     lda with no filter.
# (3) What a big signature database costs every process that loads it
#     in-process, against clamd that loads it once: no official ClamAV
#     database can be downloaded here, so the database is synthetic -
#     BENCH_HDB (1000000) MD5 signatures in an .hdb and BENCH_NDB (20000)
#     body signatures in an .ndb - and the figures are for that database,
#     not for main.cvd + daily.cvd (about 8.7 million signatures of many
#     kinds). Load time and peak RSS by GNU time -v, BENCH_BIG_REPS times.
#
# Method: every lda delivers into a Maildir as root, with a system rc from
# --config and the user rc in a scratch HOME. A batch is BENCH_N messages
# (BENCH_SPAM_N for the configurations that ask spamd, whose scan of this
# message takes some 400 ms), one lda process each, from a bash loop;
# hyperfine times batches (BENCH_RUNS runs, BENCH_WARMUP warm-ups), in
# BENCH_ROUNDS rounds over all configurations so that drift hits them
# alike. ms/msg = batch time / messages, mean and sd over all runs. CPU =
# user+sys of the batch's processes (bash, lda, spamc; not spamd or clamd)
# per message: the client side's own cost, which spamd's noisy scan time
# does not blur. A sanity delivery per configuration must carry the
# filter's field and no X-LDA-Unscanned. Takes the bench lock
# /tmp/ldabench.lock (tests/bench/lib.sh) so benchmarks never overlap.
# Environment: BENCH_N (20) BENCH_SPAM_N (10) BENCH_RUNS (2) BENCH_WARMUP
# (1) BENCH_ROUNDS (3) BENCH_HDB BENCH_NDB BENCH_BIG_REPS (3) BENCH_OUT
# (also write the tables there).
# Needs root, hyperfine, spamd, spamc, clamd, GNU time, python3.
set -euo pipefail
LDA=$(readlink -f "${1:?usage: filters.sh /path/to/lda}")
TOP=$(cd "$(dirname "$0")/../.." && pwd)
MODS=${BENCH_MODULES:-$(dirname "$LDA")/modules}
N=${BENCH_N:-20}
SPAM_N=${BENCH_SPAM_N:-10}
RUNS=${BENCH_RUNS:-2}
WARM=${BENCH_WARMUP:-1}
ROUNDS=${BENCH_ROUNDS:-3}
HDB=${BENCH_HDB:-1000000}
NDB=${BENCH_NDB:-20000}
BIG_REPS=${BENCH_BIG_REPS:-3}
die() { printf 'filters.sh: %s\n' "$*" >&2; exit 1; }
note() { printf '# %s\n' "$*" >&2; }

[ "$(id -u)" = 0 ] || die "run as root (the test peers need it)"
for t in hyperfine spamd spamc clamd python3 /usr/bin/time; do
	command -v "$t" >/dev/null || die "$t is not installed"
done
[ -f "$MODS/clamav.so" ] && [ -f "$MODS/spf.so" ] || die "no modules in $MODS (make)"

# one benchmark at a time (the same lock as tests/bench/lib.sh)
exec 9>/tmp/ldabench.lock
flock -w 1800 9 || die "another benchmark holds /tmp/ldabench.lock"
W=$(mktemp -d /tmp/ldabench-filters.XXXXXX)
chmod 755 "$W"
cleanup() {
	"$TOP/tests/peers/spamd-down.sh" "$W/spamd" >/dev/null 2>&1 || true
	"$TOP/tests/peers/clamd-down.sh" "$W/clamd" >/dev/null 2>&1 || true
	"$TOP/tests/peers/clamd-down.sh" "$W/clamd-big" >/dev/null 2>&1 || true
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

note "machine: $(nproc) vCPU $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), kernel $(uname -r)"
note "lda: $LDA; modules: $MODS"

# --- the message, the databases, the peers ------------------------------------
python3 - "$W/msg" <<'EOF'
import random, sys
random.seed(7)
words = ("meeting project report budget lunch friday team update review "
         "schedule the a of and to in for on with at by from").split()
lines = ["From: Alice <alice@example.org>", "To: bob@example.org",
         "Subject: notes from the meeting", "Date: Sat, 21 Nov 2026 10:00:00 +0000",
         "Message-ID: <bench.1@example.org>", "MIME-Version: 1.0",
         "Content-Type: text/plain; charset=us-ascii", ""]
body = []
while sum(len(l) + 1 for l in lines + body) < 10 * 1024:
    body.append(" ".join(random.choice(words) for _ in range(11)))
open(sys.argv[1], "w").write("\n".join(lines + body) + "\n")
EOF
note "message: $(stat -c %s "$W/msg") bytes"
mkdir -p "$W/db" "$W/bigdb" "$W/home" "$W/mail"
printf 'Lda.Bench.Body:0:*:%s\n' "$(printf 'LDA-BENCH-7f3a9c' | od -An -tx1 | tr -d ' \n')" >"$W/db/bench.ndb"
printf '%s:41:Lda.Bench.Hash\n' "$(printf 'x%.0s' $(seq 41) | md5sum | cut -d' ' -f1)" >"$W/db/bench.hdb"
python3 - "$W/bigdb" "$HDB" "$NDB" <<'EOF'
import os, random, sys
d, nh, nn = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
r = random.Random(11)
with open(os.path.join(d, "synthetic.hdb"), "w") as f:
    for i in range(nh):
        f.write("%032x:%d:Synthetic.Hash.%d\n" % (r.getrandbits(128), r.randint(100, 10**6), i))
with open(os.path.join(d, "synthetic.ndb"), "w") as f:
    for i in range(nn):
        f.write("Synthetic.Body.%d:0:*:%032x\n" % (i, r.getrandbits(128)))
EOF
note "synthetic database: $HDB .hdb + $NDB .ndb signatures, $(du -sh "$W/bigdb" | cut -f1)"
cat >"$W/zone" <<'EOF'
example.org TXT "v=spf1 ip4:192.0.2.0/24 -all"
EOF
mkdir "$W/spamd" "$W/clamd"
"$TOP/tests/peers/spamd-up.sh" "$W/spamd" >/dev/null || die "spamd-up.sh failed"
. "$W/spamd/env"
"$TOP/tests/peers/clamd-up.sh" "$W/clamd" "$W/db" >/dev/null || die "clamd-up.sh failed"
. "$W/clamd/env"

# --- the configurations ------------------------------------------------------------
# sysrc NAME LINES... - a system rc $W/NAME.rc
sysrc() {
	local n=$1; shift
	{ echo "MAILDIR=$W/mail"; echo "DEFAULT=$W/mail/Maildir/"
	  echo "MODULE_PATH=$MODS"; printf '%s\n' "$@"; } >"$W/$n.rc"
}
sysrc none
sysrc spamd "SPAMD=unix:$SPAMD_SOCK" 'FILTERS=spamassassin'
sysrc spamc ':0 fw' "| spamc -U $SPAMD_SOCK"
sysrc spf "SPF_DNS_ZONE=$W/zone" 'SPF_RECEIVER=mx.example.org' 'FILTERS=spf'
sysrc clamd "CLAMD=unix:$CLAMD_SOCK" 'FILTERS=clamav'
sysrc libclamav "CLAMAV_DB=$W/db" 'FILTERS=clamav'
sysrc all "SPF_DNS_ZONE=$W/zone" 'SPF_RECEIVER=mx.example.org' \
	"SPAMD=unix:$SPAMD_SOCK" "CLAMD=unix:$CLAMD_SOCK" 'FILTERS="spf spamassassin clamav"'

# nof CONFIG - messages per batch for CONFIG
nof() { case $1 in spamd|spamc|all|spamc-alone) echo "$SPAM_N" ;; *) echo "$N" ;; esac; }
# batch CONFIG - nof(CONFIG) deliveries with the system rc CONFIG, one command
batch() {
	printf 'for i in $(seq %d); do CLIENT_ADDRESS=192.0.2.1 CLIENT_HELO=mail.example.org HOME=%q %q -f alice@example.org --config %q <%q >/dev/null 2>&1 || exit 1; done' \
		"$(nof "$1")" "$W/home" "$LDA" "$W/$1.rc" "$W/msg"
}
reset='rm -rf '"$W"'/mail/Maildir'

# check CONFIG WANT-HEADER - one delivery must work and carry WANT-HEADER
check() {
	rm -rf "$W/mail/Maildir"
	CLIENT_ADDRESS=192.0.2.1 CLIENT_HELO=mail.example.org HOME="$W/home" \
		"$LDA" -f alice@example.org --config "$W/$1.rc" <"$W/msg" >/dev/null 2>&1 ||
		die "$1: lda failed"
	local f
	f=$(find "$W/mail/Maildir/new" -type f | head -n 1)
	[ -n "$f" ] || die "$1: nothing delivered"
	[ -z "$2" ] || grep -q "^$2" "$f" || die "$1: no $2 field"
	grep -q '^X-LDA-Unscanned' "$f" && die "$1: delivered unscanned: $(grep '^X-LDA-Unscanned' "$f")"
	rm -rf "$W/mail/Maildir"
}
check none ""
check spamd "X-Spam-Status:"
check spamc "X-Spam-Status:"
check spf "Received-SPF: pass"
check clamd "X-Virus-Status: Clean"
check libclamav "X-Virus-Status: Clean"
check all "Received-SPF: pass"

# hf NAME CMD [PREPARE] - hyperfine one command, RUNS runs; the per-run
# times (s) and CPU (user+sys means, s) go to $W/NAME.runs
hf() {
	hyperfine --style none --runs "$RUNS" --warmup "$WARM" \
		--prepare "${3:-$reset}" --export-json "$W/$1.json" "$2" >/dev/null 2>"$W/$1.err" ||
		{ cat "$W/$1.err" >&2; die "$1: hyperfine failed"; }
	python3 -c 'import json,sys
r = json.load(open(sys.argv[1]))["results"][0]
with open(sys.argv[2], "a") as f:
    for t in r["times"]:
        f.write("%f %f\n" % (t, r["user"] + r["system"]))' "$W/$1.json" "$W/$1.runs"
}
# summary NAME - "mean sd cpu" in ms per message over all runs of NAME
declare -A MEAN SD CPU
summary() {
	read -r MEAN[$1] SD[$1] CPU[$1] < <(python3 -c 'import statistics as st, sys
rows = [tuple(map(float, l.split())) for l in open(sys.argv[1])]
n = int(sys.argv[2])
t = [a * 1000 / n for a, _ in rows]
c = [b * 1000 / n for _, b in rows]
print("%.2f %.2f %.2f" % (st.mean(t), st.stdev(t) if len(t) > 1 else 0, st.mean(c)))' "$W/$1.runs" "$(nof "$1")")
	note "$1: ${MEAN[$1]} ms/msg (sd ${SD[$1]}), cpu ${CPU[$1]} ms/msg"
}
CONFIGS="none spf clamd libclamav spamd spamc all spamc-alone"
for ((r = 1; r <= ROUNDS; r++)); do
	note "round $r of $ROUNDS"
	for c in $CONFIGS; do
		if [ "$c" = spamc-alone ]; then
			hf "$c" "$(printf 'for i in $(seq %d); do spamc -U %q <%q >/dev/null || exit 1; done' "$SPAM_N" "$SPAMD_SOCK" "$W/msg")" true
		else
			hf "$c" "$(batch "$c")"
		fi
	done
done
for c in $CONFIGS; do summary "$c"; done

# --- a big database: per process in-process, once in clamd ------------------------
sysrc big "CLAMAV_DB=$W/bigdb" 'FILTERS=clamav'
# timed CONFIG - one delivery: "wall-seconds peak-RSS-KB"
timed() {
	local t0 t1 kb
	t0=$(date +%s%N)
	/usr/bin/time -f '%M' -o "$W/time.out" env HOME="$W/home" \
		"$LDA" --config "$W/$1.rc" <"$W/msg" >/dev/null 2>&1 || die "$1: lda failed"
	t1=$(date +%s%N)
	read -r kb <"$W/time.out"
	awk -v a="$t0" -v b="$t1" -v kb="$kb" 'BEGIN {printf "%.3f %d\n", (b - a) / 1e9, kb}'
}
big_s=() big_kb=()
for ((i = 0; i < BIG_REPS; i++)); do
	rm -rf "$W/mail/Maildir"
	read -r s kb < <(timed big)
	big_s+=("$s"); big_kb+=("$kb")
done
f=$(find "$W/mail/Maildir/new" -type f | head -n 1)
grep -q 'X-Virus-Scanned: .*libclamav, [0-9]* signatures' "$f" || die "big: not scanned"
bigsigs=$(sed -n 's/^X-Virus-Scanned: .*libclamav, \([0-9]*\) signatures.*/\1/p' "$f")
read -r small_s small_kb < <(timed libclamav)
read -r none_s none_kb < <(timed none)
mkdir "$W/clamd-big"
t0=$(date +%s%N)
"$TOP/tests/peers/clamd-up.sh" "$W/clamd-big" "$W/bigdb" >/dev/null || die "clamd-up.sh (big) failed"
t1=$(date +%s%N)
clamd_rss=$(awk '/VmRSS/{print $2}' "/proc/$(cat "$W/clamd-big/clamd.pid")/status")
sysrc clamdbig "CLAMD=unix:$W/clamd-big/clamd.sock" 'FILTERS=clamav'
check clamdbig "X-Virus-Status: Clean"
hf clamdbig "$(batch clamdbig)"
summary clamdbig

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
out=$(
	echo "Per message: a 10 KB message, one lda process per message; $ROUNDS rounds x $RUNS runs of"
	echo "$N-message batches ($SPAM_N with spamd); wall ms/msg mean ± sd, CPU = user+sys of lda (and spamc)."
	echo
	echo "| configuration | wall ms/msg | over no filter | CPU ms/msg |"
	echo "|---|---|---|---|"
	for c in none spf clamd libclamav spamd spamc all clamdbig spamc-alone; do
		case $c in
		none) d="lda, no filter" ;;
		spf) d="lda + spf (libspf2 module, zone DNS)" ;;
		clamd) d="lda + clamav via clamd INSTREAM (2 signatures)" ;;
		libclamav) d="lda + clamav in-process (libclamav module, 2 signatures)" ;;
		spamd) d="lda + spamassassin, built-in spamd client" ;;
		spamc) d="lda + \`:0 fw\` \`| spamc\` (program filter)" ;;
		all) d="lda + spf, spamassassin, clamav (clamd)" ;;
		clamdbig) d="lda + clamav via clamd, synthetic $bigsigs-signature db" ;;
		spamc-alone) d="spamc alone (spamd's scan, no lda)" ;;
		esac
		printf '| %s | %s ± %s | %s | %s |\n' "$d" "${MEAN[$c]}" "${SD[$c]}" \
			"$(awk -v a="${MEAN[$c]}" -v b="${MEAN[none]}" 'BEGIN {printf "%+.2f", a - b}')" "${CPU[$c]}"
	done
	echo
	echo "A synthetic database of $bigsigs signatures ($HDB MD5 .hdb + $NDB body .ndb; not the official one):"
	echo
	echo "| | wall time | peak RSS |"
	echo "|---|---|---|"
	printf '| lda, no filter (one process) | %s s | %s MB |\n' "$none_s" "$((none_kb / 1024))"
	printf '| lda + libclamav, 2 signatures (one process) | %s s | %s MB |\n' "$small_s" "$((small_kb / 1024))"
	printf '| lda + libclamav, synthetic db (one process, median of %s) | %s s | %s MB |\n' \
		"$BIG_REPS" "$(median "${big_s[@]}")" "$(( $(median "${big_kb[@]}") / 1024 ))"
	printf '| clamd start with the synthetic db (once) | %s s | %s MB (VmRSS) |\n' \
		"$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", (b - a) / 1e9}')" "$((clamd_rss / 1024))"
	printf '| lda + clamd with the synthetic db (per message) | %s ms | - |\n' "${MEAN[clamdbig]}"
)
printf '%s\n' "$out"
[ -z "${BENCH_OUT:-}" ] || printf '%s\n' "$out" >"$BENCH_OUT"

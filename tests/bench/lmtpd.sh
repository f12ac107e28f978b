#!/bin/bash
# lmtpd.sh LDA - lda -z, the LMTP server, into a sealed store: 4 KB
# messages (tests/bench/corpus.py small) into a private Cyrus 3.6
# (tests/peers/cyrus-up.sh) over its unix socket, in one run:
#   direct   one LMTP connection straight to Cyrus for the whole batch
#            (tests/bench/lmtp-many.c): the ceiling
#   lda-z    the same client, one `lda -z --store ...` session for the
#            whole batch (lda as user ldabench, as postfix spawn runs it;
#            per recipient a child runs the rc and the store delivery)
#   lda      one `lda --store ... -d bob` per message (tests/bench/spawn.c,
#            as postfix's pipe starts it)
#   deliver  one Cyrus `deliver -r SENDER bob` per message, the same way
# and through a private Postfix 3.7 (tests/peers/postfix-up.sh: Debian's
# stock configuration plus the documented lines; see "postfix" below):
#   pf-lda-z      postfix's lmtp client to its spawn(8) service running
#                 `lda -z` (contrib/postfix/lmtpd-*.cf.example), postfix's
#                 LMTP connection cache and concurrency as they come
#   pf-lda-z-cap  the same, postfix's concurrency for it capped at half
#                 the lmtpd processes Cyrus allows (maxchild)
#   pf-lda        postfix's pipe(8) service running one `lda -d bob` per
#                 message (contrib/postfix/*.cf.example, set-up 2)
# each timed from the release of the whole batch, held in postfix's
# queue (postsuper -H ALL; postqueue -f), until bob's INBOX holds it all.
# BENCH_N messages per batch (500), BENCH_ROUNDS rounds (3) over the
# methods in turn; each batch gets a fresh corpus (Cyrus drops repeated
# Message-IDs) and an empty INBOX, and is checked over IMAP afterwards
# (the INBOX must hold exactly BENCH_N). Wall time per batch; ms/msg is
# the median batch time / N; CPU ms/msg is the whole machine's busy time
# (/proc/stat, both CPUs, everything that ran) / N, median. Also the peak
# RSS (VmHWM) of the lda -z session after 100 messages and at the end of
# a 1000-message session. BENCH_POSTFIX=0 leaves out the postfix rows.
# Run as root (`make bench` passes the binary). Prints Markdown.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
N=${BENCH_N:-500}
ROUNDS=${BENCH_ROUNDS:-3}
bench_init "${1-}"
load() { cut -d' ' -f1-3 /proc/loadavg; }
START_DATE=$(date -u '+%Y-%m-%d %H:%M UTC') START_LOAD=$(load)
[ -x /usr/lib/cyrus/bin/master ] || die "cyrus-imapd is not installed"
PEERS=$BENCH_DIR/../peers
CY=$W/cyrus PF=$W/postfix
mkdir "$CY"
"$PEERS/cyrus-up.sh" "$CY" >/dev/null || die "cyrus-up.sh failed"
trap '"$PEERS/postfix-down.sh" "$PF" >/dev/null 2>&1 || true
	"$PEERS/cyrus-down.sh" "$CY" >/dev/null 2>&1 || true; bench_cleanup' EXIT
. "$CY/env"
rm -rf "$CYRUS_TELEMETRY"	# the store as deployed (store.sh)
cc -O2 -o "$W/lmtp-many" "$BENCH_DIR/lmtp-many.c" || die "cannot build lmtp-many.c"
SOCK=$CYRUS_LMTP_SOCK
# busy: the machine's busy CPU time so far, in clock ticks (/proc/stat:
# user nice system irq softirq steal, all CPUs)
busy() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat; }
HZ=$(getconf CLK_TCK)

# bob's INBOX: "reset" empties it first (as the admin: delete, create)
cat >"$W/count.py" <<'PYEOF'
import imaplib, sys, time
if sys.argv[3:] == ["reset"]:
    a = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
    a.login("cyrus", sys.argv[2])
    a.setacl("user.bob", "cyrus", "lrswipkxtecda")
    for cmd in ("delete", "create"):
        for attempt in range(5):
            typ, data = getattr(a, cmd)("user.bob")
            if typ == "OK" or attempt == 4:
                break
            time.sleep(1.1)
        if typ != "OK":
            sys.exit("bench: %s user.bob: %s" % (cmd, data))
    a.logout()
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
m.login("bob", sys.argv[2])
typ, data = m.select("INBOX", readonly=True)
print(int(data[0]))
m.logout()
PYEOF
count() { $PY "$W/count.py" "$CYRUS_IMAP_PORT" "$CYRUS_PW" "$@"; }

# ------------------------------------------------------------- postfix
# A private Postfix (tests/peers/postfix-up.sh) with the lines an
# administrator adds from contrib/postfix/: lmtpd-main.cf.example and
# lmtpd-master.cf.example (store.example -> lmtp:unix:private/lda-lmtp,
# the spawn service running lda -z), main.cf.example's set-up 2 and
# master.cf.example's pipe service (here for a domain of its own,
# pipe.example, in the same relay_domains and transport_maps). Replaced:
# /usr/local/bin/lda by this binary with the other rows' --store and
# --config, the service user ldasvc by $BU. Added by the bench alone:
# header_checks put every message on hold as it arrives (a batch is all
# queued before the clock starts), and for pf-lda-z-cap a copy of the
# stock lmtp transport, lmtpcap, whose destination concurrency limit is
# half Cyrus's maxchild for lmtpunix (cap.example ->
# lmtpcap:unix:private/lda-lmtp, the same spawn service): every lda -z
# session holds a store connection for its life, also while postfix
# keeps it idle in its connection cache, and a session beyond Cyrus's
# maxchild waits for one. Everything else is postfix's defaults.
declare -A PFDOM=([lda-z]=store.example [lda-z-cap]=cap.example [lda]=pipe.example)
PFPARAMS="lmtp_connection_cache_on_demand lmtp_connection_cache_time_limit
lmtp_connection_reuse_time_limit lmtp_connection_reuse_count_limit
lmtp_connection_cache_destinations initial_destination_concurrency
lmtp_destination_concurrency_limit lmtpcap_destination_concurrency_limit
lda_destination_concurrency_limit lda_destination_recipient_limit"
postfix_up() {
	local cx=$BENCH_DIR/../../contrib/postfix args
	command -v postfix >/dev/null && [ -x /usr/lib/postfix/sbin/spawn ] ||
		die "postfix with spawn(8) is not installed (BENCH_POSTFIX=0 leaves those rows out)"
	MAXCHILD=$(sed -n 's/^ *lmtpunix .*maxchild=\([0-9]*\).*/\1/p' "$CY/cyrus.conf")
	[ -n "$MAXCHILD" ] || die "no maxchild for lmtpunix in $CY/cyrus.conf"
	CAP=$((MAXCHILD / 2))
	args="$LDA --store lmtp:unix:$SOCK --config $W/empty.rc"
	echo '/^/ HOLD bench: held until the clock starts' >"$W/hold.regexp"
	{
		grep -E '^[a-z]' "$cx/lmtpd-main.cf.example" |
			sed -e '/^relay_domains =/s/$/, cap.example, pipe.example/' \
				-e '/^transport_maps =/s| }$|, cap.example=lmtpcap:unix:private/lda-lmtp, pipe.example=lda }|'
		sed -n 's/^#\(lda_destination_recipient_limit = \)/\1/p' "$cx/main.cf.example"
		echo "lmtpcap_destination_concurrency_limit = $CAP"
		echo "header_checks = regexp:$W/hold.regexp"
	} >"$W/main.extra"
	{
		grep -v '^#' "$cx/lmtpd-master.cf.example"
		awk '/^lda[ \t]/ { p = 1; print; next } p && /^[ \t]/ { print; next } { p = 0 }' \
			"$cx/master.cf.example"
		awk '$1 == "lmtp" && $2 == "unix"' /usr/share/postfix/master.cf.dist | sed 's/^lmtp /lmtpcap /'
	} | sed -e "s|/usr/local/bin/lda|$args|" -e "s|user=ldasvc|user=$BU|" >"$W/master.extra"
	grep -q 'pipe\.example=lda }' "$W/main.extra" &&
		grep -q '^lda_destination_recipient_limit' "$W/main.extra" &&
		[ "$(grep -c "user=$BU argv=$LDA " "$W/master.extra")" = 2 ] &&
		grep -q '^lmtpcap ' "$W/master.extra" ||
		die "contrib/postfix/*.cf.example changed: the bench's substitutions no longer fit ($W/main.extra, $W/master.extra)"
	"$PEERS/postfix-up.sh" "$PF" "$W/main.extra" "$W/master.extra" >/dev/null ||
		die "postfix-up.sh failed"
	. "$PF/env"
	PFQ=$POSTFIX_DIR/queue
	PFVER=$(postconf -c "$POSTFIX_CONF" -h mail_version)
	# release.py ... N: once no lda -z session is left from the batch
	# before, release the held batch (postsuper -H ALL,
	# postqueue -f), poll bob's INBOX (IMAP STATUS every 20 ms, at most
	# 300 s) until it holds N; prints the µs from the release to then, the
	# machine's busy clock ticks meanwhile, and how many lda -z sessions
	# (lda -z processes whose parent is spawn) it saw / at most at once
	# (/proc, every 100 ms)
	cat >"$W/release.py" <<'PYEOF'
import imaplib, os, subprocess, sys, time
port, pw, n, conf, lda = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
def busy():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return v[0] + v[1] + v[2] + v[5] + v[6] + v[7]
def sessions():
    alive = set()
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            if os.readlink("/proc/%s/exe" % p) != lda:
                continue
            with open("/proc/%s/cmdline" % p, "rb") as f:
                argv = f.read().split(b"\0")
            with open("/proc/%s/stat" % p) as f:
                ppid = f.read().rsplit(")", 1)[1].split()[1]
            with open("/proc/%s/comm" % ppid) as f:
                parent = f.read().strip()
        except OSError:
            continue
        if b"-z" in argv and parent == "spawn":
            alive.add(p)
    return alive
m = imaplib.IMAP4("127.0.0.1", int(port))
m.login("bob", pw)
def inbox():
    typ, data = m.status("INBOX", "(MESSAGES)")
    return int(data[0].split(b"MESSAGES ")[1].split(b")")[0])
# the sessions of the batch before gone (postfix closes idle cached
# connections after lmtp_connection_cache_time_limit): they hold store
# connections
deadline = time.monotonic() + 60
while sessions():
    if time.monotonic() > deadline:
        sys.exit("bench: lda -z sessions of the batch before still there after 60 s")
    time.sleep(0.1)
seen, peak = set(), 0
b0, t0 = busy(), time.monotonic_ns()
for cmd in (["postsuper", "-c", conf, "-H", "ALL"], ["postqueue", "-c", conf, "-f"]):
    subprocess.run(cmd, check=True, stderr=subprocess.DEVNULL)
deadline, i = time.monotonic() + 300, 0
while inbox() < n:
    if time.monotonic() > deadline:
        sys.exit("bench: only %d of %d in bob's INBOX 300 s after the release" % (inbox(), n))
    if i % 5 == 0:
        alive = sessions()
        seen |= alive
        peak = max(peak, len(alive))
    i += 1
    time.sleep(0.02)
print((time.monotonic_ns() - t0) // 1000, busy() - b0, "%d/%d" % (len(seen), peak))
m.logout()
PYEOF
}

# pf_files QUEUE... - how many messages postfix's queues hold
pf_files() { local d; for d; do find "$PFQ/$d" -type f; done | wc -l; }

# pf_batch M - the corpus through postfix to the service of pf-M: queued
# (held; untimed), bob's INBOX emptied, then timed from the release until
# the INBOX holds it all (US µs, CPU ticks). Then postfix's log must say
# sent for every message. For lda -z: the deliveries without "conn_use="
# opened a connection (one lda -z session each); the ones whose
# transmission took 1 s or more waited (for a store connection); to
# $W/conns.txt.
pf_batch() {
	local m=$1 dom=${PFDOM[$1]} f i off held=0 sent=0 res
	off=$(stat -c %s "$POSTFIX_LOG")
	[ "$(pf_files maildrop incoming active deferred hold)" = 0 ] ||
		die "pf-$m: postfix's queue is not empty before the batch"
	for f in "$W/corpus"/*.eml; do
		sendmail -C "$POSTFIX_CONF" -f "$SENDER" -- "bob@$dom" <"$f" ||
			die "pf-$m: sendmail failed on $f"
	done
	for i in $(seq 600); do
		held=$(pf_files hold)
		[ "$held" = "$N" ] && break
		sleep 0.2
	done
	[ "$held" = "$N" ] || die "pf-$m: $held of $N messages on hold after 120 s"
	count reset >/dev/null
	sync
	res=$($PY "$W/release.py" "$CYRUS_IMAP_PORT" "$CYRUS_PW" "$N" "$POSTFIX_CONF" "$LDA") ||
		die "pf-$m: $(tail -c +$((off + 1)) "$POSTFIX_LOG" | grep -v status=sent | tail -n 3 | tr '\n' ' ')"
	read -r US CPU f <<<"$res"
	for i in $(seq 300); do
		sent=$(tail -c +$((off + 1)) "$POSTFIX_LOG" | grep -c " to=<bob@$dom>.*status=sent") || true
		[ "$sent" = "$N" ] && [ "$(pf_files maildrop incoming active deferred hold)" = 0 ] && break
		sleep 0.2
	done
	[ "$sent" = "$N" ] || die "pf-$m: postfix logged $sent of $N as sent, 60 s after the INBOX was full"
	case $m in lda-z*)
		tail -c +$((off + 1)) "$POSTFIX_LOG" | grep " to=<bob@$dom>.*status=sent" |
			awk -v m="$m" -v n="$N" -v s="$f" '/conn_use=/ { r++ }
				match($0, /delays=[^,]*/) { split(substr($0, RSTART + 7, RLENGTH - 7), d, "/"); if (d[4] >= 1) w++ }
				END { print m, n - r, s, w + 0 }' >>"$W/conns.txt" ;;
	esac
}

# the postfix rows: against each other and the bench's own client, the
# settings, how many connections (lda -z sessions) carried each batch
pf_report() {
	echo
	awk -v z="${MS[pf-lda-z]}" -v c="${MS[pf-lda-z-cap]}" -v p="${MS[pf-lda]}" -v b="${MS[lda-z]}" \
		-v v="$PFVER" -v cap="$CAP" -v mc="$MAXCHILD" 'BEGIN {
		printf "Through postfix %s, msgs/s against per-message lda behind pipe (pf-lda): pf-lda-z %.2f×, pf-lda-z-cap %.2f×. Time per message against the bench'"'"'s one lda -z session (lda-z): pf-lda-z %.2f×, pf-lda-z-cap %.2f×, pf-lda %.2f×. pf-lda-z-cap: postfix'"'"'s concurrency for it capped at %d; this Cyrus allows %d lmtpd processes (maxchild of lmtpunix).\n", \
			v, p / z, p / c, z / b, c / b, p / b, cap, mc }'
	echo
	echo "Postfix settings in effect: $(postconf -c "$POSTFIX_CONF" -x $PFPARAMS |
		sed -e 's/ =$/=(empty)/' -e 's/ = /=/' | paste -sd , - | sed 's/,/, /g')."
	echo
	echo "Per batch of $N, LMTP connections (deliveries postfix logged without conn_use=) / lda -z sessions seen / at most at once (/proc, sampled every 100 ms) / deliveries whose transmission took ≥ 1 s:"
	awk '{ c[$1] = c[$1] sep[$1] $2 "/" $3 "/" $4; sep[$1] = ", " }
		END { for (m in c) printf "pf-%s: %s.\n", m, c[m] }' "$W/conns.txt" | sort
}

# ------------------------------------------------------------- the run
declare -A CMD
CMD[direct]="$(q "$W/lmtp-many" "$SENDER" bob "$W/corpus" "$SOCK")"
CMD[lda-z]="$(q "$W/lmtp-many" "$SENDER" bob "$W/corpus" -e "${AS[@]}" "$LDA" -z --store "lmtp:unix:$SOCK" --config "$W/empty.rc")"
CMD[lda]="$(q "$SPAWN" -u "$BU" -e "$W/out/err" -n 0 "$W/corpus" -- "$LDA" --store "lmtp:unix:$SOCK" --config "$W/empty.rc" -f "$SENDER" -d bob)"
CMD[deliver]="$(q "$SPAWN" -u "$BU" -e "$W/out/err" -n 0 "$W/corpus" -- /usr/lib/cyrus/bin/deliver -C "$CYRUS_CONF" -r "$SENDER" bob)"
METHODS="direct lda-z lda deliver"
if [ "${BENCH_POSTFIX:-1}" != 0 ]; then
	postfix_up
	METHODS="$METHODS pf-lda-z pf-lda-z-cap pf-lda"
fi
: >"$W/times.txt"
: >"$W/conns.txt"
for r in $(seq 1 "$ROUNDS"); do
	for m in $METHODS; do
		note "round $r/$ROUNDS: $m"
		rm -rf "$W/corpus"
		$PY "$BENCH_DIR/corpus.py" small "$W/corpus" --n "$N" --tag "z$r$m$$.$RANDOM" >/dev/null
		chmod -R a+rX "$W/corpus"
		case $m in
		pf-*) pf_batch "${m#pf-}" ;;
		*)
			count reset >/dev/null
			sync
			c0=$(busy) t0=$(date +%s%N)
			eval "${CMD[$m]}" >"$W/out/$m.out" 2>>"$W/out/$m.err" || die "$m failed: $(tail -c 300 "$W/out/$m.err" "$W/out/$m.out" | tr '\n' ' ')"
			t1=$(date +%s%N) c1=$(busy)
			US=$(( (t1 - t0) / 1000 )) CPU=$((c1 - c0)) ;;
		esac
		got=$(count)
		[ "$got" = "$N" ] || die "$m: bob's INBOX holds $got, want $N"
		echo "$m $US $CPU" >>"$W/times.txt"
	done
done

# the peak RSS of one lda -z session over 1000 messages
rm -rf "$W/corpus"
$PY "$BENCH_DIR/corpus.py" small "$W/corpus" --n 1000 --tag "rss$$.$RANDOM" >/dev/null
chmod -R a+rX "$W/corpus"
count reset >/dev/null
rss=$(eval "${CMD[lda-z]}" 2>>"$W/out/rss.err" | sed -n 's/^rss_kb //p')

median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
declare -A MS CPUMS
for m in $METHODS; do
	MS[$m]=$(awk -v m="$m" -v n="$N" '$1 == m { print $2 / n / 1000 }' "$W/times.txt" | median)
	CPUMS[$m]=$(awk -v m="$m" -v n="$N" -v hz="$HZ" '$1 == m { print $3 * 1000 / hz / n }' "$W/times.txt" | median)
done
{
	echo "Machine: $MACHINE. Command: \`bash tests/bench/lmtpd.sh $LDA\` ($N messages of ~4 KB per batch, $ROUNDS rounds, medians)."
	echo
	echo "| method | ms/msg | msgs/s | CPU ms/msg (machine) | lda -z's time × | lda -z's msgs/s ÷ |"
	echo "| --- | ---: | ---: | ---: | ---: | ---: |"
	for m in $METHODS; do
		awk -v m="$m" -v t="${MS[$m]}" -v c="${CPUMS[$m]}" -v z="${MS[lda-z]}" 'BEGIN {
			printf "| %s | %.2f | %.0f | %.2f | %.2f | %.2f |\n", m, t, 1000 / t, c, z / t, t / z }'
	done
	echo
	echo "Peak RSS (VmHWM) of one lda -z session: $(echo "$rss" | awk '{ print $1 " kB after 100 messages, " $2 " kB after 1000" }')."
	[ -z "${MS[pf-lda-z]-}" ] || pf_report
	echo
	echo "Run $START_DATE; load average $START_LOAD at the start, $(load) at the end."
} | tee "${BENCH_OUT:-/dev/null}"

#!/bin/bash
# lmtpd.sh LDA - lda -z, the LMTP server, into a sealed store: 4 KB
# messages (tests/bench/corpus.py small) into a private Cyrus 3.6
# (tests/peers/cyrus-up.sh) over its unix socket, four ways in one run:
#   direct   one LMTP connection straight to Cyrus for the whole batch
#            (tests/bench/lmtp-many.c): the ceiling
#   lda-z    the same client, one `lda -z --store ...` session for the
#            whole batch (lda as user ldabench, as postfix spawn runs it;
#            per recipient a child runs the rc and the store delivery)
#   lda      one `lda --store ... -d bob` per message (tests/bench/spawn.c,
#            as postfix's pipe starts it)
#   deliver  one Cyrus `deliver -r SENDER bob` per message, the same way
# BENCH_N messages per batch (500), BENCH_ROUNDS rounds (3) over the
# methods in turn; each batch gets a fresh corpus (Cyrus drops repeated
# Message-IDs) and an empty INBOX, and is checked over IMAP afterwards
# (the INBOX must hold exactly BENCH_N). Wall time per batch; ms/msg is
# the median batch time / N. Also the peak RSS (VmHWM) of the lda -z
# session after 100 messages and at the end of a 1000-message session.
# Run as root (`make bench` passes the binary). Prints a Markdown table.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
N=${BENCH_N:-500}
ROUNDS=${BENCH_ROUNDS:-3}
bench_init "${1-}"
[ -x /usr/lib/cyrus/bin/master ] || die "cyrus-imapd is not installed"
PEERS=$BENCH_DIR/../peers
CY=$W/cyrus
mkdir "$CY"
"$PEERS/cyrus-up.sh" "$CY" >/dev/null || die "cyrus-up.sh failed"
trap '"$PEERS/cyrus-down.sh" "$CY" >/dev/null 2>&1 || true; bench_cleanup' EXIT
. "$CY/env"
rm -rf "$CYRUS_TELEMETRY"	# the store as deployed (store.sh)
cc -O2 -o "$W/lmtp-many" "$BENCH_DIR/lmtp-many.c" || die "cannot build lmtp-many.c"
SOCK=$CYRUS_LMTP_SOCK

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

declare -A CMD
CMD[direct]="$(q "$W/lmtp-many" "$SENDER" bob "$W/corpus" "$SOCK")"
CMD[lda-z]="$(q "$W/lmtp-many" "$SENDER" bob "$W/corpus" -e "${AS[@]}" "$LDA" -z --store "lmtp:unix:$SOCK" --config "$W/empty.rc")"
CMD[lda]="$(q "$SPAWN" -u "$BU" -e "$W/out/err" -n 0 "$W/corpus" -- "$LDA" --store "lmtp:unix:$SOCK" --config "$W/empty.rc" -f "$SENDER" -d bob)"
CMD[deliver]="$(q "$SPAWN" -u "$BU" -e "$W/out/err" -n 0 "$W/corpus" -- /usr/lib/cyrus/bin/deliver -C "$CYRUS_CONF" -r "$SENDER" bob)"
METHODS="direct lda-z lda deliver"
: >"$W/times.txt"
for r in $(seq 1 "$ROUNDS"); do
	for m in $METHODS; do
		note "round $r/$ROUNDS: $m"
		rm -rf "$W/corpus"
		$PY "$BENCH_DIR/corpus.py" small "$W/corpus" --n "$N" --tag "z$r$m$$.$RANDOM" >/dev/null
		chmod -R a+rX "$W/corpus"
		count reset >/dev/null
		sync
		t0=$(date +%s%N)
		eval "${CMD[$m]}" >"$W/out/$m.out" 2>>"$W/out/$m.err" || die "$m failed: $(tail -c 300 "$W/out/$m.err" "$W/out/$m.out" | tr '\n' ' ')"
		t1=$(date +%s%N)
		got=$(count)
		[ "$got" = "$N" ] || die "$m: bob's INBOX holds $got, want $N"
		echo "$m $(( (t1 - t0) / 1000 ))" >>"$W/times.txt"
	done
done

# the peak RSS of one lda -z session over 1000 messages
rm -rf "$W/corpus"
$PY "$BENCH_DIR/corpus.py" small "$W/corpus" --n 1000 --tag "rss$$.$RANDOM" >/dev/null
chmod -R a+rX "$W/corpus"
count reset >/dev/null
rss=$(eval "${CMD[lda-z]}" | sed -n 's/^rss_kb //p')

median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
declare -A MS
for m in $METHODS; do
	MS[$m]=$(awk -v m="$m" -v n="$N" '$1 == m { print $2 / n / 1000 }' "$W/times.txt" | median)
done
{
	echo "Machine: $MACHINE. Command: \`bash tests/bench/lmtpd.sh $LDA\` ($N messages of ~4 KB per batch, $ROUNDS rounds, medians)."
	echo
	echo "| method | ms/msg | msgs/s | lda -z's time × | lda -z's msgs/s ÷ |"
	echo "| --- | ---: | ---: | ---: | ---: |"
	for m in $METHODS; do
		awk -v m="$m" -v t="${MS[$m]}" -v z="${MS[lda-z]}" 'BEGIN {
			printf "| %s | %.2f | %.0f | %.2f | %.2f |\n", m, t, 1000 / t, z / t, t / z }'
	done
	echo
	echo "Peak RSS (VmHWM) of one lda -z session: $(echo "$rss" | awk '{ print $1 " kB after 100 messages, " $2 " kB after 1000" }')."
} | tee "${BENCH_OUT:-/dev/null}"

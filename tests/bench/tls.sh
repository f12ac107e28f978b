#!/bin/bash
# tls.sh LDA - what STARTTLS costs per connection: 4 KB messages into a
# private Cyrus 3.6 (tests/peers/cyrus-up.sh with doc/store.md's two TLS
# lines, a certificate from a CA made here), one lda process per message
# as an MTA starts it (tests/bench/spawn.c), four ways:
#   unix      lda --store lmtp:unix:SOCK (no TCP, no AUTH: the reference)
#   tcp       lda --store lmtp:inet:localhost:PORT, AUTH SCRAM-SHA-256
#   tls       the same with STORE_TLS=require: STARTTLS, the handshake
#             (TLS 1.3, ECDSA P-256 certificate verified against the CA
#             file, the name checked), LHLO again, then AUTH SCRAM-SHA-256
#   tlsplain  STORE_TLS=require with STORE_MECHANISMS=PLAIN: what TLS
#             lets an administrator use instead of SCRAM
# STARTTLS's cost per connection is tls - tcp.
#
# Method: BENCH_ROUNDS rounds; in each, every method (the order rotating)
# delivers a batch of BENCH_N fresh messages (new Message-IDs: Cyrus drops
# repeats); spawn times each delivery from its fork to the end of wait4
# and sums the children's CPU. Medians of the per-message wall times,
# mean CPU per message. At the end bob's INBOX must have grown by every
# message sent (checked over IMAP), else the script fails.
#
# Run as root (`make bench` passes the binary). Environment: BENCH_N (20)
# BENCH_ROUNDS (15) BENCH_OUT (a copy of the table).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
N=${BENCH_N:-20}
ROUNDS=${BENCH_ROUNDS:-15}
bench_init "${1-}"
[ -x /usr/lib/cyrus/bin/master ] || die "cyrus-imapd is not installed"
command -v openssl >/dev/null || die "openssl is not installed"

# a CA and the store's certificate (as store-tls.t makes them)
K=$W/pki
mkdir "$K"
{ openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$K/ca.key" \
	-out "$K/ca.pem" -days 2 -subj "/CN=lda bench CA" \
	-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign &&
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$K/store.key" \
	-out "$K/store.csr" -subj "/CN=localhost" &&
  printf 'subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$K/ext" &&
  openssl x509 -req -in "$K/store.csr" -CA "$K/ca.pem" -CAkey "$K/ca.key" -CAcreateserial \
	-out "$K/store.pem" -days 2 -extfile "$K/ext"; } >"$W/openssl.log" 2>&1 ||
	die "openssl: $(cat "$W/openssl.log")"
chown cyrus "$K/store.pem" "$K/store.key"
chmod 600 "$K/store.key"
chmod 755 "$K"
chmod 644 "$K/ca.pem"

PEERS=$BENCH_DIR/../peers
CY=$W/cyrus
mkdir "$CY"
CYRUS_CONF_ADD="tls_server_cert: $K/store.pem
tls_server_key: $K/store.key" "$PEERS/cyrus-up.sh" "$CY" >/dev/null || die "cyrus-up.sh failed"
trap '"$PEERS/cyrus-down.sh" "$CY" >/dev/null 2>&1 || true; bench_cleanup' EXIT
. "$CY/env"
rm -rf "$CYRUS_TELEMETRY"	# the store as deployed: no protocol telemetry

printf 'lmtpadmin:%s\n' "$CYRUS_PW" >"$W/creds"
chown "$BU:$BU" "$W/creds"
chmod 600 "$W/creds"
TCP=lmtp:inet:localhost:$CYRUS_LMTP_PORT
declare -A BASE
BASE[unix]="$(q "$LDA" --store "lmtp:unix:$CYRUS_LMTP_SOCK" --config "$W/empty.rc" -f "$SENDER" -d bob)"
BASE[tcp]="$(q "$LDA" --store "$TCP" --config "$W/empty.rc" -f "$SENDER" \
	STORE_CREDENTIALS="$W/creds" STORE_MECHANISMS=SCRAM-SHA-256 -d bob)"
BASE[tls]="$(q "$LDA" --store "$TCP" --config "$W/empty.rc" -f "$SENDER" \
	STORE_CREDENTIALS="$W/creds" STORE_MECHANISMS=SCRAM-SHA-256 \
	STORE_TLS=require STORE_TLS_CAFILE="$K/ca.pem" -d bob)"
BASE[tlsplain]="$(q "$LDA" --store "$TCP" --config "$W/empty.rc" -f "$SENDER" \
	STORE_CREDENTIALS="$W/creds" STORE_MECHANISMS=PLAIN \
	STORE_TLS=require STORE_TLS_CAFILE="$K/ca.pem" -d bob)"
METHODS=(unix tcp tls tlsplain)

count() { # bob's INBOX, over IMAP
	$PY - "$CYRUS_IMAP_PORT" "$CYRUS_PW" <<'EOF'
import imaplib, sys
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
m.login("bob", sys.argv[2])
print(int(m.select("INBOX", readonly=True)[1][0]))
EOF
}

before=$(count)
: >"$W/cpu.txt"
for ((r = 0; r < ROUNDS; r++)); do
	note "round $((r + 1))/$ROUNDS"
	for ((k = 0; k < ${#METHODS[@]}; k++)); do
		m=${METHODS[$(((r + k) % ${#METHODS[@]}))]}
		rm -rf "$W/corpus"
		$PY "$BENCH_DIR/corpus.py" small "$W/corpus" --n "$N" --tag "tls$r$m$$" >/dev/null
		chmod -R a+rX "$W/corpus"
		: >"$W/out/$m.err"; chown "$BU:$BU" "$W/out/$m.err"
		eval "$(q "$SPAWN" -u "$BU" -e "$W/out/$m.err" -s "$W/out/$m.stats" \
			-t "$W/out/$m.us" "$W/corpus" --) ${BASE[$m]}" ||
			die "$m failed: $(head -c 300 "$W/out/$m.err")"
	done
done
after=$(count)
want=$((ROUNDS * ${#METHODS[@]} * N))
[ "$((after - before))" = "$want" ] ||
	die "bob's INBOX grew by $((after - before)), want $want"

$PY - "$W/out" "$N" "$ROUNDS" "$MACHINE" "bash tests/bench/tls.sh $LDA" <<'EOF' | tee "${BENCH_OUT:-/dev/null}"
import re, statistics as st, sys, time
out, N, R, machine, cmd = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
def secs(s):
    m = re.match(r"(\d+)m([\d.]+)s", s)
    return int(m.group(1)) * 60 + float(m.group(2))
res = {}
for m in ("unix", "tcp", "tls", "tlsplain"):
    us = [int(x) / 1000 for x in open(f"{out}/{m}.us").read().split()]
    n = cpu = 0
    for l in open(f"{out}/{m}.stats").read().splitlines():
        f = l.split()
        n += int(f[0]); cpu += secs(f[1]) + secs(f[2])
    res[m] = dict(med=st.median(us), mean=st.mean(us), cpu=cpu * 1000 / n, n=len(us))
names = {"unix": "unix socket, no AUTH", "tcp": "TCP, AUTH SCRAM-SHA-256",
         "tls": "TCP, STARTTLS, AUTH SCRAM-SHA-256", "tlsplain": "TCP, STARTTLS, AUTH PLAIN"}
print(f"\n### STARTTLS per connection ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})\n")
print(f"Machine: {machine}. Command: `{cmd}`. {R} rounds × {N} messages (~4.1 KB) per way, "
      "one lda per message into a private Cyrus 3.6 on loopback, every delivery checked over IMAP.\n")
print("| way | wall ms/msg median | mean | lda CPU ms/msg |")
print("|---|---|---|---|")
for m in ("unix", "tcp", "tls", "tlsplain"):
    r = res[m]
    print(f"| {names[m]} | {r['med']:.2f} | {r['mean']:.2f} | {r['cpu']:.2f} |")
t, p = res["tls"], res["tcp"]
print(f"\nSTARTTLS costs {t['med'] - p['med']:.2f} ms wall (median) and {t['cpu'] - p['cpu']:.2f} ms "
      f"of lda's CPU per connection; with PLAIN instead of SCRAM over TLS: "
      f"{res['tlsplain']['med'] - p['med']:+.2f} ms against TCP without TLS.")
EOF

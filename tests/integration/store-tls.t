#!/usr/bin/env bash
# store-tls.t - STARTTLS from lda to a real Cyrus IMAP 3.6 over LMTP
# (tests/peers/cyrus-up.sh with the two lines doc/store.md tells the
# administrator to add: tls_server_cert, tls_server_key), with a test CA,
# a second CA and a server certificate made here by openssl: delivery
# with the certificate verified (checked over IMAP, and in the Received
# line Cyrus writes); a certificate from another CA, from no CA the
# system trusts, or for another name: 75, 4.7.5, nothing delivered, and
# the next store of a list is tried; TLS required of a store that does
# not offer it (a second Cyrus, as installed): 75, 4.7.4; SASL PLAIN over
# TLS to a store at a non-loopback address; libssl loaded only when a
# store asks for TLS; bad settings: 4.3.5.
# It runs in a private network namespace (unshare -n: nothing but its own
# loopback, with 192.0.2.1 added as the "remote" store's address, relayed
# to Cyrus's loopback port). Needs root; about 10 s.
if [ "$(id -u)" = 0 ] && [ -z "${LDA_TLS_NETNS:-}" ]; then
	LDA_TLS_NETNS=1 exec unshare --net -- "${BASH:-bash}" "$0" "$@"
fi
. "$LDA_TOP/tests/integration/lib.sh"

P=$LDA_TOP/tests/peers
PY=/usr/bin/python3; [ -x $PY ] || PY=python3
if [ "$(id -u)" != 0 ]; then skip_all "needs root"; fi
if [ ! -x /usr/lib/cyrus/bin/master ]; then skip_all "cyrus not installed"; fi
if ! command -v openssl >/dev/null; then skip_all "openssl not installed"; fi
REMOTE=192.0.2.1	# TEST-NET-1, on this namespace's own loopback device
ip link set lo up && ip addr add $REMOTE/32 dev lo ||
	{ echo "Bail out! no private network namespace (unshare -n)"; exit 1; }

# --- a test CA, another CA, and the store's certificate -----------------------
K=$T/pki
mkdir -p "$K"
ca() { # ca NAME: a self-signed CA certificate NAME.pem, key NAME.key
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$K/$1.key" -out "$K/$1.pem" -days 2 -subj "/CN=lda test $1" \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign
}
{ ca ca && ca otherca &&
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$K/store.key" \
		-out "$K/store.csr" -subj "/CN=localhost" &&
	printf 'subjectAltName=DNS:localhost,IP:%s\nextendedKeyUsage=serverAuth\n' $REMOTE >"$K/ext" &&
	openssl x509 -req -in "$K/store.csr" -CA "$K/ca.pem" -CAkey "$K/ca.key" \
		-CAcreateserial -out "$K/store.pem" -days 2 -extfile "$K/ext"
} >"$T/openssl.log" 2>&1 || { echo "Bail out! openssl: $(cat "$T/openssl.log")"; exit 1; }
chown cyrus "$K/store.pem" "$K/store.key"; chmod 600 "$K/store.key"; chmod 755 "$K"

# --- Cyrus with STARTTLS (doc/store.md's lines), and Cyrus as installed ------
CD=$T/cyrus CD0=$T/cyrus0
mkdir -p "$CD" "$CD0"
at_exit "'$P/cyrus-down.sh' '$CD0'"
at_exit "'$P/cyrus-down.sh' '$CD'"
if ! out=$(CYRUS_CONF_ADD="tls_server_cert: $K/store.pem
tls_server_key: $K/store.key" "$P/cyrus-up.sh" "$CD" 2>&1); then
	echo "Bail out! cyrus-up.sh (TLS): $out"; exit 1
fi
if ! out=$("$P/cyrus-up.sh" "$CD0" 2>&1); then
	echo "Bail out! cyrus-up.sh: $out"; exit 1
fi
PLAIN_PORT=$(. "$CD0/env"; echo "$CYRUS_LMTP_PORT")
PLAIN_IMAP=$(. "$CD0/env"; echo "$CYRUS_IMAP_PORT")
. "$CD/env"

# The "remote" store: 192.0.2.1, relayed to Cyrus's loopback LMTP port
$PY -u - $REMOTE "$CYRUS_LMTP_PORT" >"$T/relay.port" <<'EOF' &
import socket, sys, threading
ls = socket.socket()
ls.bind((sys.argv[1], 0))
ls.listen(16)
print(ls.getsockname()[1])
def pump(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
    except OSError:
        pass
    try:
        b.shutdown(socket.SHUT_WR)
    except OSError:
        pass
while True:
    c, _ = ls.accept()
    u = socket.create_connection(("127.0.0.1", int(sys.argv[2])))
    for x, y in ((c, u), (u, c)):
        threading.Thread(target=pump, args=(x, y), daemon=True).start()
EOF
at_exit "kill $!"
for _ in $(seq 50); do [ -s "$T/relay.port" ] && break; sleep 0.1; done
RELAY_PORT=$(cat "$T/relay.port")
[ -n "$RELAY_PORT" ] || { echo "Bail out! the relay to $REMOTE did not start"; exit 1; }

test_user SVC svc || { echo "Bail out! cannot make a test user"; exit 1; }
LOG=$T/lda.log
: >"$LOG"; chmod 666 "$LOG"
printf 'lmtpadmin:%s\n' "$CYRUS_PW" >"$T/creds"; chown $SVC "$T/creds"; chmod 600 "$T/creds"
imapq_start "$CYRUS_IMAP_PORT" "$CYRUS_PW"

n=0
mk() { # mk FILE: a message with a fresh Message-ID (Cyrus drops repeats)
	n=$((n + 1)); MID="<t$n.$$.$(date +%s%N)@store-tls.t>"
	printf 'From: Alice <alice@example.org>\nTo: bob@example.org\nSubject: tls %s\nMessage-ID: %s\n\nHello Bob.\n.\nOver TLS.\n' \
		"$n" "$MID" >"$1"
}
body() { sed '1,/^$/d' "$1" | sed 's/$/\r/'; }
count() { imapq count "$1" "$2"; }
fetch() { imapq fetch "$1" "$2" "$3" "$T/fetched" >/dev/null; cat "$T/fetched"; rm -f "$T/fetched"; }
# stored MID: the file Cyrus stored the message with Message-ID MID in
stored() { grep -rlF -- "$1" "$CYRUS_SPOOL" | grep '/[0-9]*\.$' | head -n 1; }
# tls STORE ARGS...: lda as the service user, with --test first (lib.sh)
tls() {
	local store=$1; shift
	: >"$LOG"; st=0
	predicted "$T/m" runuser -u $SVC -- "$LDA" --store "$store" -f sender@example.org \
		LOGFILE="$LOG" STORE_CREDENTIALS="$T/creds" "$@"
}
TLSCA="STORE_TLS_CAFILE=$K/ca.pem"
NAMED=lmtp:inet:localhost:$CYRUS_LMTP_PORT
ADDR=lmtp:inet:127.0.0.1:$CYRUS_LMTP_PORT

# --- verified: delivered over TLS, then AUTH ------------------------------------
mk "$T/m"; b=$(count bob INBOX)
tls "$NAMED" STORE_TLS=require "$TLSCA" -d bob
is "$st" 0 "STORE_TLS=require, certificate from the configured CA for localhost: exit 0"
is "$(count bob INBOX)" "$((b + 1))" "delivered once"
is "$(fetch bob INBOX $((b + 1)) | od -An -c)" "$(body "$T/m" | od -An -c)" "body byte for byte"
like "$(cat "$LOG")" "store=$NAMED \\(TLSv1\\.[23] [A-Z0-9_-]+, AUTH SCRAM-SHA-256\\).*status=sent" \
	"the log line names the TLS protocol and cipher, and AUTH after it"
like "$(grep -m1 -A2 '^Received:' "$(stored "$MID")" | tr -d '\r\n')" 'with LMTPSA?[[:space:]]+\(version=TLSv1\.[23]' \
	"Cyrus's Received line says the message came over TLS"

mk "$T/m"; b=$(count bob INBOX)
tls "$NAMED" STORE_TLS=may "$TLSCA" -d bob
is "$st" 0 "STORE_TLS=may, the store offers STARTTLS: exit 0"
like "$(cat "$LOG")" "store=$NAMED \\(TLSv1\\.[23] .*status=sent" "STORE_TLS=may: TLS used when offered"
is "$(count bob INBOX)" "$((b + 1))" "STORE_TLS=may: delivered once"

# --- a certificate lda must not trust: 75, nothing delivered -------------------
mk "$T/m"; b=$(count bob INBOX)
tls "$NAMED" STORE_TLS=may STORE_TLS_CAFILE="$K/otherca.pem" -d bob
is "$st" 75 "a certificate from another CA (STORE_TLS=may: no plaintext fall-back): 75"
like "$out" "^4\\.7\\.5 bob: $NAMED: TLS: the store's certificate is not trusted: unable to get local issuer certificate \\(CAs: $K/otherca\\.pem\\)" \
	"the status line says 4.7.5 and why"
like "$(cat "$LOG")" 'to=<bob>.*status=deferred \(.*not trusted' "logged deferred"
is "$(count bob INBOX)" "$b" "another CA: nothing delivered"

mk "$T/m"
tls "$NAMED" STORE_TLS=require -d bob
is "$st" 75 "no STORE_TLS_CAFILE: the system's CAs, which do not know the test CA: 75"
like "$out" "^4\\.7\\.5 .*not trusted.*\\(CAs: the system's\\)" "the status line names the system's CAs"

mk "$T/m"; b=$(count bob INBOX)
tls "$ADDR" STORE_TLS=require "$TLSCA" -d bob
is "$st" 75 "a certificate for localhost, the store named 127.0.0.1: 75"
like "$out" "^4\\.7\\.5 bob: $ADDR: TLS: the store's certificate is not for 127\\.0\\.0\\.1 \\(host name check failed\\)" \
	"wrong name: the status line says so"
is "$(count bob INBOX)" "$b" "wrong name: nothing delivered"

# a list: the store that fails TLS is passed over, as one that is down
mk "$T/m"; b=$(count bob INBOX)
tls "$ADDR,$NAMED" STORE_TLS=require "$TLSCA" -d bob
is "$st" 0 "failover: the store with the wrong name, then the right one: exit 0"
like "$(cat "$LOG")" "store $ADDR: TLS: the store's certificate is not for 127\\.0\\.0\\.1.*trying the next store" \
	"failover: the TLS failure is logged, the next store tried"
is "$(count bob INBOX)" "$((b + 1))" "failover: delivered once"

# --- TLS required, not offered (Cyrus as installed): 75, 4.7.4 --------------------
plain_count() {
	$PY - "$PLAIN_IMAP" "$CYRUS_PW" <<'EOF'
import imaplib, sys
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
m.authenticate("PLAIN", lambda _: ("bob\0cyrus\0" + sys.argv[2]).encode())
print(m.status("INBOX", "(MESSAGES)")[1][0].decode().split("MESSAGES ")[1].rstrip(")"))
EOF
}
mk "$T/m"; b=$(plain_count)
tls "lmtp:inet:localhost:$PLAIN_PORT" STORE_TLS=require "$TLSCA" -d bob
is "$st" 75 "STORE_TLS=require, the store does not offer STARTTLS: 75"
like "$out" "^4\\.7\\.4 bob: lmtp:inet:localhost:$PLAIN_PORT: TLS is required, but the store does not offer STARTTLS" \
	"not offered: 4.7.4 (security feature not supported), and why"
is "$(plain_count)" "$b" "not offered: nothing delivered"
mk "$T/m"
tls "lmtp:inet:localhost:$PLAIN_PORT" STORE_TLS=may "$TLSCA" -d bob
is "$st" 0 "STORE_TLS=may, not offered: delivered as before, without TLS"
is "$(plain_count)" "$((b + 1))" "STORE_TLS=may, not offered: delivered once"

# --- SASL PLAIN over TLS to a non-loopback address --------------------------------
RSTORE=lmtp:inet:$REMOTE:$RELAY_PORT
mk "$T/m"; b=$(count bob INBOX)
tls "$RSTORE" STORE_TLS=require "$TLSCA" STORE_MECHANISMS=PLAIN -d bob
is "$st" 0 "AUTH PLAIN over TLS to $REMOTE (not loopback), no STORE_PLAINTEXT: exit 0"
like "$(cat "$LOG")" "store=$RSTORE \\(TLSv1\\.[23] [^,]*, AUTH PLAIN\\).*status=sent" "AUTH PLAIN went over TLS"
is "$(count bob INBOX)" "$((b + 1))" "PLAIN over TLS: delivered once"
mk "$T/m"; b=$(count bob INBOX)
tls "$RSTORE" STORE_TLS=off STORE_MECHANISMS=PLAIN -d bob
is "$st" 75 "the same without TLS: 75, the password stays home"
like "$(cat "$LOG")" 'no usable SASL mechanism.*plaintext ones only to a loopback address or over TLS' \
	"without TLS: refused, and the log says how to allow it"
is "$(count bob INBOX)" "$b" "without TLS: nothing delivered"

# --- libssl is loaded only when a store asks for TLS ------------------------------
ldfiles() { # ldfiles OUT ARGS...: lda as $SVC; the libraries it opened
	local out=$1; shift
	runuser -u $SVC -- env LD_DEBUG=files "$LDA" -f sender@example.org "$@" <"$T/m" >/dev/null 2>"$out" || true
	grep -o 'file=[^ ]*' "$out" | sort -u | tr '\n' ' '
}
mk "$T/m"
like "$(ldfiles "$T/ld.tls" --store "$NAMED" STORE_CREDENTIALS="$T/creds" STORE_TLS=require "$TLSCA" -d bob)" \
	'libssl\.so' "STORE_TLS=require: libssl is loaded"
mk "$T/m"
libs=$(ldfiles "$T/ld.unix" --store "lmtp:unix:$CYRUS_LMTP_SOCK" STORE_TLS=require -d bob)
like "$libs" 'libc\.so' "LD_DEBUG shows the libraries (the check can see)"
unlike "$libs" 'libssl' "a unix socket (no TLS there, even with STORE_TLS=require): libssl is not loaded"
mk "$T/m"
unlike "$(ldfiles "$T/ld.off" --store "$NAMED" STORE_CREDENTIALS="$T/creds" -d bob)" 'libssl' \
	"TCP without STORE_TLS: libssl is not loaded"

# --- settings lda cannot use: 4.3.5 -----------------------------------------------
mk "$T/m"
tls "$NAMED" STORE_TLS=always -d bob
is "$st" 75 "STORE_TLS=always: 75"
like "$out" '^4\.3\.5 .*STORE_TLS=always: want off, may or require' "STORE_TLS=always: 4.3.5, what it wants"
tls "$NAMED" STORE_TLS=require STORE_TLS_CAFILE=ca.pem -d bob
like "$st $out" '^75 4\.3\.5 .*STORE_TLS_CAFILE=ca\.pem: want an absolute path' "a relative CA file: 75, 4.3.5"
tls "$NAMED" STORE_TLS=require STORE_TLS_CAFILE="$T/none.pem" -d bob
like "$st $out" "^75 4\\.3\\.5 bob: .*cannot load the CAs of $T/none\\.pem" "a missing CA file: 75, 4.3.5"

done_testing

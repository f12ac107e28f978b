#!/bin/bash
# postfix-up.sh DIR [MAIN_EXTRA [MASTER_EXTRA]] -- a private Postfix 3.7
# (Debian's postfix package) for the tests, in DIR, as the MTA that runs
# lda, configured as an administrator's would be: the configuration a
# fresh install of the package writes (its postinst: master.cf.dist as is,
# with Debian's chroot defaults -- smtpd, cleanup, lmtp ... chrooted in
# the queue directory; main.cf from main.cf.debian, main.cf.tls when the
# snakeoil key exists, and the postinst's smtpd_relay_restrictions),
# plus the administrator's lines, the chroot prepared the way Debian's own
# service does it (/usr/lib/postfix/configure-instance.sh). Run as root.
# (main.cf.dist itself is the commented prototype, with sendmail_path,
# setgid_group ... empty: postfix refuses to start on it.)
#
#   MAIN_EXTRA    a file of main.cf lines appended (the documented set-up)
#   MASTER_EXTRA  a file of master.cf lines appended (a pipe transport)
#
# Only what makes it a private instance beside the system's Postfix (which
# may run, or not) is added before MAIN_EXTRA (what the postinst asks
# through debconf, and paths), nothing about delivery:
# queue, data and log under DIR (maillog_file DIR/maillog: postlogd, no
# syslog needed), smtpd on a free 127.0.0.1 port instead of :25,
# myhostname lda-test.example, mydestination lda-test.example and
# localhost, no aliases, queue runs only when a test asks (postqueue -i);
# these are set with postconf -e.
# Writes DIR/env (source it): POSTFIX_DIR POSTFIX_CONF POSTFIX_PORT
# POSTFIX_LOG. tests/peers/postfix-down.sh DIR stops it and removes DIR.
set -euo pipefail
D=${1:?usage: postfix-up.sh DIR [MAIN_EXTRA [MASTER_EXTRA]]}
MAIN_EXTRA=${2:-} MASTER_EXTRA=${3:-}
fail() { echo "postfix-up.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "run as root"
command -v postfix >/dev/null || fail "postfix is not installed"
getent passwd postfix >/dev/null && getent group postdrop >/dev/null ||
    fail "no postfix user or postdrop group"
DIST=/usr/share/postfix
[ -r $DIST/main.cf.debian ] && [ -r $DIST/master.cf.dist ] ||
    fail "no $DIST/main.cf.debian or master.cf.dist (Debian's postfix package)"
mkdir -p "$D"
D=$(cd "$D" && pwd -P)
C=$D/etc
mkdir -p "$C" "$D/queue" "$D/data"
chown postfix "$D/data"
chmod 755 "$D"
PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

cp $DIST/master.cf.dist "$C/master.cf"
[ -r /etc/postfix/dynamicmaps.cf ] && cp /etc/postfix/dynamicmaps.cf "$C/"
[ -d /etc/postfix/dynamicmaps.cf.d ] && cp -r /etc/postfix/dynamicmaps.cf.d "$C/"
cp $DIST/main.cf.debian "$C/main.cf"
[ ! -f /etc/ssl/private/ssl-cert-snakeoil.key ] || cat $DIST/main.cf.tls >>"$C/main.cf"
postconf -c "$C" -e \
    "smtpd_relay_restrictions=permit_mynetworks permit_sasl_authenticated defer_unauth_destination" \
    "queue_directory = $D/queue" \
    "data_directory = $D/data" \
    "setgid_group = postdrop" \
    "inet_interfaces = 127.0.0.1" \
    "myhostname = lda-test.example" \
    "mydomain = lda-test.example" \
    "myorigin = lda-test.example" \
    "mydestination = lda-test.example, localhost" \
    "alias_maps =" \
    "alias_database =" \
    "maillog_file = $D/maillog" \
    "maillog_file_prefixes = $D" \
    "queue_run_delay = 1h" \
    "minimal_backoff_time = 1h" \
    "maximal_backoff_time = 1h" \
    "mynetworks = 127.0.0.0/8" \
    "inet_protocols = ipv4"
if [ -n "$MAIN_EXTRA" ]; then
    printf '\n# --- the administrator'"'"'s lines (%s) ---\n' "$MAIN_EXTRA" >>"$C/main.cf"
    cat "$MAIN_EXTRA" >>"$C/main.cf"
fi
# smtpd on our port instead of :25, as shipped otherwise (chrooted)
postconf -c "$C" -M# smtp/inet
printf '127.0.0.1:%s inet n - y - - smtpd\n' "$PORT" >>"$C/master.cf"
[ -z "$MASTER_EXTRA" ] || cat "$MASTER_EXTRA" >>"$C/master.cf"

cat >"$D/env" <<ENV
POSTFIX_DIR=$D
POSTFIX_CONF=$C
POSTFIX_PORT=$PORT
POSTFIX_LOG=$D/maillog
export POSTFIX_DIR POSTFIX_CONF POSTFIX_PORT POSTFIX_LOG
ENV

# the chroot (DIR/queue): what Debian's postfix service copies in before
# each start (etc/services, resolv.conf, hosts, nss libraries ...)
MAIL_CONFIG=$C /usr/lib/postfix/configure-instance.sh - >/dev/null ||
    fail "configure-instance.sh failed for $C"
# postfix(1) says why it fails only on a terminal or to syslog; the log
# file has what master and postfix-script say
postfix -c "$C" check >/dev/null 2>&1 || true
postfix -c "$C" start >/dev/null 2>&1 ||
    fail "postfix did not start: $(tail -n 3 "$D/maillog" 2>/dev/null | tr '\n' ' ')"
for _ in $(seq 100); do
    /usr/bin/python3 - "$PORT" <<'PY' 2>/dev/null && break
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)
sys.exit(0 if s.recv(100).startswith(b"220") else 1)
PY
    sleep 0.1
done || true
/usr/bin/python3 - "$PORT" <<'PY' 2>/dev/null || fail "smtpd does not answer on 127.0.0.1:$PORT"
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 2)
sys.exit(0 if s.recv(100).startswith(b"220") else 1)
PY
echo "postfix-up: $D smtp=127.0.0.1:$PORT log=$D/maillog"

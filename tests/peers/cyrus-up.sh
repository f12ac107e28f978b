#!/bin/bash
# cyrus-up.sh DIR -- start a private Cyrus IMAP 3.6 for lda's tests, entirely
# under DIR (a fresh directory, e.g. from mktemp -d). Run as root.
#
# What it does:
#   * writes DIR/imapd.conf + DIR/cyrus.conf (never /etc/imapd.conf, /etc/cyrus.conf)
#     and a private sasldb DIR/sasldb2 (auxprop sasldb) with users cyrus and
#     lmtpadmin (both admins), bob, carol, dave; password $CYRUS_PW (default testpw);
#   * starts Cyrus master as user cyrus (pid DIR/master.pid, its stdout/stderr in
#     DIR/master.log) with:
#       lmtpunix  DIR/lmtp.sock (mode 0777, DIR 0755: any local user may connect;
#                 preauth: lmtpd takes the caller as "postman", no AUTH)
#       lmtp      127.0.0.1:$CYRUS_LMTP_PORT  SASL AUTH required (admins only:
#                 lmtpadmin); mechanisms PLAIN LOGIN CRAM-MD5 DIGEST-MD5
#                 SCRAM-SHA-1 SCRAM-SHA-256 (realm = servername "lda-test")
#       imap      127.0.0.1:$CYRUS_IMAP_PORT  LOGIN/PLAIN for every sasldb user
#     Ports are picked free at run time (bind to port 0); a start that loses a
#     port race is retried with new ports.
#   * mailboxes (netnews namespace, '.' separator): user.bob, user.bob.Spam,
#     user.bob.lists, user.bob.lists.linux (these three: anyone p),
#     user.bob.NoPost (no p for anyone), user.carol (STORAGE quota 1 KiB: the
#     first message fits, the next RCPT gets 452 4.2.2), user.dave, shared
#     "bulletin" (anyone p; postuser bb, so RCPT bb+bulletin posts there).
#     lmtp_downcase_rcpt, duplicatesuppression and singleinstancestore are on.
#   * appends the lines of $CYRUS_CONF_ADD, if set, to DIR/imapd.conf: the
#     lines a doc tells the administrator to add (doc/store.md's STARTTLS:
#     tls_server_cert, tls_server_key), so that a test runs what we
#     document on top of the stock set-up;
#   * writes DIR/env (source it): CYRUS_DIR CYRUS_CONF CYRUS_LMTP_SOCK
#     CYRUS_LMTP_PORT CYRUS_IMAP_PORT CYRUS_PW CYRUS_SPOOL CYRUS_TELEMETRY.
#
# What lmtpd did (no /dev/log here, so Cyrus's syslog goes nowhere; master.log
#   only gets master's own stdout/stderr): Cyrus telemetry. For each existing
#   directory DIR/conf/log/<userid>, every new session of that user appends its
#   whole protocol exchange (client lines "<time<...", server lines ">time>...")
#   to DIR/conf/log/<userid>/<service>-<pid>. This script creates it for
#     postman   -- the identity of every preauth unix-socket LMTP session
#                  (files lmtpunix-<pid>, the whole session from the greeting);
#     lmtpadmin -- TCP LMTP sessions, logged from "235 Authenticated!" on
#                  (files lmtp-<pid>).
#   $CYRUS_TELEMETRY is DIR/conf/log. One lmtpd serves many connections, so a
#   file holds several sessions, and the readiness probes of cyrus-up.sh show
#   up as empty sessions. Commands appear as the client sent them (python
#   sends "mail FROM:"), so count transactions case-insensitively:
#     cat "$CYRUS_TELEMETRY"/postman/* | grep -ci '^<[0-9]*<mail from'
#   Files are cyrus-owned 0600: read them as root. To reset, truncate (: > f),
#   don't delete: a live lmtpd keeps its file open.
# Single-instance store: one DATA for several recipients is stored once and
#   hard-linked into each mailbox (spool files are named "<uid>."), so they
#   have a link count > 1; separate transactions give separate files (nlink 1):
#     find "$CYRUS_SPOOL" -type f -name '[0-9]*.' -links +1
#   Duplicate copies for one mailbox within a transaction (bob and bob+NoPost
#   both land in INBOX) are stored once. X-Cyrus-Session-Id (in the stored
#   message) and SESSIONID=<...> (in replies) stay the same for all
#   transactions of one connection, so they tell connections apart, not
#   transactions.
# Quirks worth knowing: only admins may AUTH to lmtpd (bob gets "501 5.5.4
#   undefined error!"); MAIL without AUTH on TCP gets "430 Authentication
#   required"; DIGEST-MD5 negotiates a security layer (qop auth-conf, SSF 128)
#   if the client lets it; duplicate suppression keys on Message-ID + Date, and
#   lmtpd adds a fresh Date to a message without one, so such messages are
#   never suppressed; carol's first message may overshoot the quota (not
#   strict), only the next RCPT gets 452 4.2.2 Over quota.
#
# What it does not do: install packages (make deps does), TLS unless told
# (CYRUS_CONF_ADD), sieve, syslog,
# anything on the stock ports. Stop it with cyrus-down.sh DIR.
set -euo pipefail

D=${1:?usage: cyrus-up.sh DIR}
D=$(cd "$D" && pwd -P)
PW=${CYRUS_PW:-testpw}
SN=lda-test
BIN=/usr/lib/cyrus/bin
CONF=$D/imapd.conf MCONF=$D/cyrus.conf SASLDB=$D/sasldb2
SOCK=$D/lmtp.sock PIDF=$D/master.pid LOG=$D/master.log
PY=/usr/bin/python3; [ -x $PY ] || PY=python3

[ "$(id -u)" = 0 ] || { echo "cyrus-up.sh: must run as root" >&2; exit 1; }
[ -x $BIN/master ] && [ -x /usr/sbin/saslpasswd2 ] ||
    { echo "cyrus-up.sh: cyrus-imapd/sasl2-bin not installed" >&2; exit 1; }
G=$(id -gn cyrus)

fail() { echo "cyrus-up.sh: $*" >&2; exit 1; }

# ------------------------------------------------------------ layout, sasldb
mkdir -p "$D"/conf "$D"/spool "$D"/run/proc "$D"/run/lock "$D"/run/socket "$D"/tmp
for s in db user quota sieve msg ptclient lock socket log/postman log/lmtpadmin; do
    mkdir -p "$D/conf/$s"
done
for u in cyrus lmtpadmin bob carol dave; do
    printf '%s' "$PW" | /usr/sbin/saslpasswd2 -p -c -f "$SASLDB" -u "$SN" "$u"
done
# DIR itself belongs to cyrus so master can create lmtp.sock in it
chown -R cyrus:"$G" "$D"
chmod 755 "$D"; chmod 640 "$SASLDB"
runuser -u cyrus -- test -w "$D" ||
    fail "user cyrus cannot reach $D (a parent directory not world-searchable?)"

write_conf() { # $1 lmtp port, $2 imap port
cat > "$CONF" <<EOF
# private Cyrus for lda tests -- generated by tests/peers/cyrus-up.sh
configdirectory: $D/conf
defaultpartition: default
partition-default: $D/spool
proc_path: $D/run/proc
mboxname_lockpath: $D/run/lock
lmtpsocket: $SOCK
idlesocket: $D/run/socket/idle
notifysocket: $D/run/socket/notify
temp_path: $D/tmp
sievedir: $D/conf/sieve
servername: $SN
syslog_prefix: lda-test-cyrus
altnamespace: no
unixhierarchysep: no
admins: cyrus lmtpadmin
allowplaintext: yes
allowanonymouslogin: no
sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_sasldb_path: $SASLDB
sasl_mech_list: PLAIN LOGIN CRAM-MD5 DIGEST-MD5 SCRAM-SHA-1 SCRAM-SHA-256
sasl_auto_transition: no
postuser: bb
lmtp_downcase_rcpt: yes
duplicatesuppression: yes
singleinstancestore: yes
lmtp_strict_quota: no
lmtp_over_quota_perm_failure: no
EOF
[ -z "${CYRUS_CONF_ADD:-}" ] || printf '%s\n' "$CYRUS_CONF_ADD" >> "$CONF"
cat > "$MCONF" <<EOF
# private Cyrus master config -- generated by tests/peers/cyrus-up.sh
START {
  recover   cmd="$BIN/ctl_cyrusdb -C $CONF -r"
}
SERVICES {
  imap      cmd="$BIN/imapd -C $CONF" listen="127.0.0.1:$2" prefork=0 maxchild=10
  lmtp      cmd="$BIN/lmtpd -C $CONF" listen="127.0.0.1:$1" prefork=0 maxchild=10
  lmtpunix  cmd="$BIN/lmtpd -C $CONF" listen="$SOCK"        prefork=0 maxchild=10
}
EVENTS {
}
EOF
chmod 644 "$CONF" "$MCONF"
}

free_ports() { # prints two free loopback ports
    $PY -c 'import socket
s=[socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1",0))
print(*[x.getsockname()[1] for x in s])'
}
probe() { # master-pid sock port port: 0 ready, 1 not yet, 3 a port is someone else's
    $PY - "$@" <<'EOF' 2>/dev/null
import os, socket, sys
pid, sock, ports = sys.argv[1], sys.argv[2], [int(p) for p in sys.argv[3:]]
try:
    ours = {os.readlink("/proc/%s/fd/%s" % (pid, fd)) for fd in os.listdir("/proc/%s/fd" % pid)}
except OSError:
    sys.exit(1)
listen = {}  # port -> inode of a LISTEN socket on 127.0.0.1
for line in open("/proc/net/tcp").readlines()[1:]:
    f = line.split()
    if f[3] == "0A" and f[1].startswith("0100007F:"):
        listen[int(f[1].split(":")[1], 16)] = "socket:[%s]" % f[9]
for p in ports:
    if p not in listen:
        sys.exit(1)
    if listen[p] not in ours:
        sys.exit(3)
s = socket.socket(socket.AF_UNIX)
s.settimeout(2)
try:
    s.connect(sock)
except OSError:
    sys.exit(1)
EOF
}
stop_master() {
    [ -s "$PIDF" ] || return 0
    kill -TERM "$(cat "$PIDF")" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$(cat "$PIDF")" 2>/dev/null || break; sleep 0.1; done
    rm -f "$PIDF"
}

# ------------------------------------------------------------ start master
# from here on, any failure stops the master again and shows its log
# shellcheck disable=SC2154
trap 'rc=$?; if [ $rc != 0 ]; then stop_master
      echo "cyrus-up.sh: failed (exit $rc); tail of $LOG:" >&2; tail -n 30 "$LOG" >&2; fi' EXIT
up=no
for _ in 1 2 3; do
    read -r LPORT IPORT < <(free_ports)
    write_conf "$LPORT" "$IPORT"
    rm -f "$SOCK" "$PIDF"; : > "$LOG"; chown cyrus:"$G" "$LOG"
    # -d: master daemonizes; its pid goes to $PIDF
    runuser -u cyrus -- $BIN/master -C "$CONF" -M "$MCONF" -p "$PIDF" -d -L "$LOG" \
        </dev/null >>"$LOG" 2>&1 || fail "master did not start"
    for _ in $(seq 100); do   # at most ~10 s per attempt
        r=0; [ -s "$PIDF" ] && probe "$(cat "$PIDF")" "$SOCK" "$LPORT" "$IPORT" || r=$?
        [ -s "$PIDF" ] && [ $r = 0 ] && { up=yes; break; }
        [ $r = 3 ] && break   # lost a port race: retry with new ports
        sleep 0.1
    done
    [ $up = yes ] && break
    stop_master
done
[ $up = yes ] || fail "services did not come up"
chmod 0777 "$SOCK"   # master binds with umask 0 already; be explicit

# ------------------------------------------------------------ mailboxes
$PY - "$IPORT" "$PW" <<'EOF'
import imaplib, sys
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]), timeout=20)
m.login("cyrus", sys.argv[2])
def ok(r, what):
    if r[0] != "OK":
        raise SystemExit(f"{what}: {r}")
def mk(mbox, acl=(), quota=None):
    ok(m.create(mbox), "CREATE " + mbox)
    for who, rights in acl:
        ok(m.setacl(mbox, who, rights), f"SETACL {mbox} {who}")
    if quota is not None:
        ok(m.setquota(mbox, f"(STORAGE {quota})"), "SETQUOTA " + mbox)
anyone_p = [("anyone", "p")]
mk("user.bob")
mk("user.bob.Spam", anyone_p)
mk("user.bob.lists", anyone_p)
mk("user.bob.lists.linux", anyone_p)
mk("user.bob.NoPost")
mk("user.carol", quota=1)
mk("user.dave")
mk("bulletin", anyone_p + [("cyrus", "lrswipkxtecda")])
m.logout()
EOF

cat > "$D/env" <<EOF
CYRUS_DIR=$D
CYRUS_CONF=$CONF
CYRUS_LMTP_SOCK=$SOCK
CYRUS_LMTP_PORT=$LPORT
CYRUS_IMAP_PORT=$IPORT
$(printf 'CYRUS_PW=%q' "$PW")
CYRUS_SPOOL=$D/spool
CYRUS_TELEMETRY=$D/conf/log
export CYRUS_DIR CYRUS_CONF CYRUS_LMTP_SOCK CYRUS_LMTP_PORT CYRUS_IMAP_PORT CYRUS_PW CYRUS_SPOOL CYRUS_TELEMETRY
EOF
chmod 644 "$D/env"
echo "cyrus-up: $D lmtp=$SOCK tcp-lmtp=127.0.0.1:$LPORT imap=127.0.0.1:$IPORT"

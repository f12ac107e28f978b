#!/bin/bash
# sendmail-up.sh DIR MC [ALIASES] -- a private sendmail 8.17 (Debian's
# sendmail-bin, sendmail-base, sendmail-cf packages) for the tests, in DIR,
# as the MTA that runs lda. Run as root.
#
# Debian will not install sendmail-bin beside postfix (both provide
# mail-transport-agent), so "make deps" fetches the packages with
# apt-get download into $LDA_DEBS (default /var/cache/lda/debs) and this
# script unpacks them with dpkg -x into DIR/root. Nothing under /etc/mail
# is read or written:
#   * DIR/sendmail.cf is generated from MC with m4 and the unpacked cf/
#     tree (what "m4 /usr/share/sendmail/cf/m4/cf.m4 MC" does on a host
#     with sendmail-cf installed; Debian's debian/autoconf.m4 is loaded
#     from the unpacked tree instead of its absolute /usr/share path, and
#     OSTYPE(debian)'s MAIL_SETTINGS_DIR, /etc/mail/, is DIR/etc/mail/,
#     with an empty local-host-names that sendmail-base would create);
#   * the daemon (-bd) listens on a free 127.0.0.1 port; queue, pid,
#     status, aliases (ALIASES, default "postmaster: root"), dead.letter
#     and host status are under DIR, set with -O on the command line;
#   * sendmail needs a fully qualified name for its host: on a host whose
#     name has no domain (and none in /etc/hosts) it sleeps 60 s at every
#     start ("My unqualified host name ... unknown"). It therefore runs
#     in a private UTS namespace (unshare --uts) named lda-test.example,
#     which is also $j, its own domain (local users: user@lda-test.example);
#   * DIR is under /tmp, which is world writable: sendmail refuses files
#     there unless told that the sticky bit makes it safe
#     (-ODontBlameSendmail=TrustStickyBit); /etc/mail needs no such thing.
# Writes DIR/env (source it): SENDMAIL_DIR SENDMAIL_PORT SENDMAIL_QUEUE
# SENDMAIL (a command: this instance's sendmail with its options, e.g.
# "$SENDMAIL -q" runs the queue, "$SENDMAIL -bp" lists it).
# tests/peers/sendmail-down.sh DIR stops it and removes DIR.
set -euo pipefail
D=${1:?usage: sendmail-up.sh DIR MC [ALIASES]}
MC=${2:?usage: sendmail-up.sh DIR MC [ALIASES]}
ALIASES=${3:-}
DEBS=${LDA_DEBS:-/var/cache/lda/debs}
fail() { echo "sendmail-up.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "run as root"
command -v m4 >/dev/null || fail "m4 is not installed (make deps)"
command -v unshare >/dev/null || fail "unshare (util-linux) is not installed"
mkdir -p "$D"
D=$(cd "$D" && pwd -P)
R=$D/root
mkdir -p "$R"
for p in sendmail-bin sendmail-base sendmail-cf; do
    f=$(ls "$DEBS"/${p}_*.deb 2>/dev/null | tail -n 1)
    [ -n "$f" ] || fail "no $p package in $DEBS (make deps fetches it)"
    dpkg -x "$f" "$R"
done
SM=$R/usr/libexec/sendmail/sendmail
CF=$R/usr/share/sendmail/cf
[ -x "$SM" ] && [ -r "$CF/m4/cf.m4" ] || fail "unexpected package layout in $R"
mkdir -p "$D/etc/mail"
: >"$D/etc/mail/local-host-names"
m4 -D_CF_DIR_="$CF/" -DMAIL_SETTINGS_DIR="$D/etc/mail/" "$CF/m4/cf.m4" "$CF/debian/autoconf.m4" "$MC" >"$D/sendmail.cf" 2>"$D/m4.err" ||
    fail "m4 $MC: $(cat "$D/m4.err")"
[ ! -s "$D/m4.err" ] || fail "m4 $MC: $(cat "$D/m4.err")"
mkdir -p "$D/queue" "$D/hoststat"
chmod 700 "$D/queue"
chmod 755 "$D"
if [ -n "$ALIASES" ]; then cp "$ALIASES" "$D/aliases"; else echo 'postmaster: root' >"$D/aliases"; fi
chmod 644 "$D/aliases" "$D/sendmail.cf"

# answers PORT: a 220 greeting comes from 127.0.0.1:PORT
answers() {
    /usr/bin/python3 - "$1" <<'PY' 2>/dev/null
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 2)
sys.exit(0 if s.recv(100).startswith(b"220") else 1)
PY
}
# a start that loses its port to another process is retried on a new one
. "$(dirname "$0")/stop.sh"
ok=
for attempt in 1 2 3; do
PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# the instance's sendmail: a command line for every use (daemon, queue run,
# queue listing, newaliases)
cat >"$D/sendmail" <<SH
#!/bin/sh
# this test instance's sendmail (tests/peers/sendmail-up.sh)
exec unshare --uts /bin/sh -c 'hostname lda-test.example && exec "\$0" "\$@"' \\
    "$SM" -C "$D/sendmail.cf" \\
    -OQueueDirectory="$D/queue" -OPidFile="$D/sendmail.pid" \\
    -OStatusFile="$D/sendmail.st" -OHostStatusDirectory="$D/hoststat" \\
    -OAliasFile="$D/aliases" -ODeadLetterDrop="$D/dead.letter" \\
    -ODaemonPortOptions="Name=MTA,Addr=127.0.0.1,Port=$PORT" \\
    -ODontBlameSendmail=TrustStickyBit \\
    "\$@"
SH
chmod 755 "$D/sendmail"
"$D/sendmail" -bi >/dev/null 2>&1 || fail "newaliases failed for $D/aliases"
rm -f "$D/sendmail.pid"
"$D/sendmail" -bd >"$D/daemon.log" 2>&1 ||
    fail "sendmail -bd failed: $(tail -n 3 "$D/daemon.log" | tr '\n' ' ')"
for _ in $(seq 300); do answers "$PORT" && { ok=1; break; }; sleep 0.1; done
[ -n "$ok" ] && break
m=$(head -n 1 "$D/sendmail.pid" 2>/dev/null | tr -dc 0-9 || true)
[ -z "$m" ] || peer_stop "$m"
done
[ -n "$ok" ] || fail "sendmail does not answer on 127.0.0.1:$PORT: $(tail -n 3 "$D/daemon.log" | tr '\n' ' ')"

cat >"$D/env" <<ENV
SENDMAIL_DIR=$D
SENDMAIL_PORT=$PORT
SENDMAIL_QUEUE=$D/queue
SENDMAIL=$D/sendmail
export SENDMAIL_DIR SENDMAIL_PORT SENDMAIL_QUEUE SENDMAIL
ENV
echo "sendmail-up: $D smtp=127.0.0.1:$PORT"

#!/bin/bash
# peers.t -- TAP: the test peers themselves (tests/peers/*) work: a private
# Cyrus (cyrus-up.sh) and a private Dovecot (dovecot-up.sh) come up in mktemp
# dirs, take mail over LMTP (unix socket; Cyrus also TCP with SASL PLAIN and
# CRAM-MD5), file it where the rest of the suite expects (INBOX, bob+Spam,
# boards, quota answers), and go away again without leaving processes behind.
# It uses python's smtplib via tests/peers/lmtp.py, not lda: lda's own LMTP
# tests live elsewhere. Run as root (prove runs it so in CI); skips if the
# peers are not installed. Takes about 6 s.
set -uo pipefail   # no -e: a failing check prints "not ok" and we go on

HERE=$(cd "$(dirname "$0")/../peers" && pwd)
PY=/usr/bin/python3; [ -x $PY ] || PY=python3
LMTP="$PY $HERE/lmtp.py"

# skip_all REASON - a TAP skip here, but a failure under CI (tests/integration/lib.sh)
skip_all() {
    if [ -n "${CI:-}" ]; then echo "1..1"; echo "not ok 1 - cannot run under CI: $*"; exit 1; fi
    echo "1..0 # SKIP $*"; exit 0
}
if [ "$(id -u)" != 0 ]; then skip_all "needs root"; fi
if [ ! -x /usr/lib/cyrus/bin/master ]; then skip_all "cyrus not installed"; fi
if ! command -v dovecot >/dev/null || [ ! -x /usr/lib/dovecot/lmtp ]; then
    skip_all "dovecot-lmtpd not installed"; fi

echo "1..26"
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
check() { # check "name" cmd... : ok if the command succeeds
    local name=$1 out; shift
    if out=$("$@" 2>&1); then ok "$name"; else nok "$name" "$out"; fi
}
is() { # is "name" got want
    if [ "$2" = "$3" ]; then ok "$1"; else nok "$1" "got:  '$2'" "want: '$3'"; fi
}
like() { # like "name" got regex
    if [[ $2 =~ $3 ]]; then ok "$1"; else nok "$1" "got:  '$2'" "want: /$3/"; fi
}
tree() { # pid $1 and all its descendants
    local s l
    for s in /proc/[0-9]*/stat; do
        { read -r l < "$s"; } 2>/dev/null || continue
        l=${l##*) }; set -- $l; s=${s#/proc/}; echo "${s%/stat} $2"
    done | awk -v root="$1" '{ par[$1] = $2 }
        END { n = 1; want[root] = 1; print root
              while (n) { n = 0; for (p in par) if ((par[p] in want) && !(p in want)) { want[p] = 1; n = 1; print p } } }'
}
msg() { # msg ID [body-bytes]: a small message with a unique Message-ID
    # (Cyrus's duplicate suppression keys on Message-ID + Date: without a
    # Date header lmtpd adds a fresh one and never sees a duplicate)
    printf 'From: sender@example.org\r\nTo: bob@example.org\r\nDate: %s\r\nSubject: peers test %s\r\nMessage-ID: <%s.%s@peers.t>\r\n\r\nbody of %s\r\n' \
        "$DATE" "$1" "$1" "$$" "$1"
    [ "${2:-0}" -gt 0 ] && head -c "$2" /dev/zero | tr '\0' x && printf '\r\n'
    return 0
}

DATE=$(LC_ALL=C date -R)
CD=$(mktemp -d) DD=$(mktemp -d)
# Dovecot's mail user: a test account as lib.sh's test_user makes them
# (its name and comment, so a later test sweeps it if this one dies)
DM=ldatdv$$
flock -w 60 /tmp/lda-test-accounts.lock useradd -m -c "lda test account" -s /bin/sh "$DM" >/dev/null 2>&1 ||
    { echo "Bail out! cannot make the test account $DM"; exit 1; }
cleanup() {
    "$HERE/cyrus-down.sh" "$CD" >/dev/null 2>&1 || true
    "$HERE/dovecot-down.sh" "$DD" >/dev/null 2>&1 || true
    flock -w 60 /tmp/lda-test-accounts.lock userdel -r -f "$DM" >/dev/null 2>&1 || true
}
trap cleanup EXIT

# ---------------------------------------------------------------- bring-up
if out=$("$HERE/cyrus-up.sh" "$CD" 2>&1) && [ -f "$CD/env" ]; then ok "cyrus-up.sh"
else nok "cyrus-up.sh" "$out"; echo "Bail out! cyrus-up.sh failed"; exit 1; fi
if out=$(DOVECOT_MAIL_USER=$DM "$HERE/dovecot-up.sh" "$DD" 2>&1) && [ -f "$DD/env" ]; then ok "dovecot-up.sh"
else nok "dovecot-up.sh" "$out"; echo "Bail out! dovecot-up.sh failed"; exit 1; fi
. "$CD/env"; . "$DD/env"
IMAP="$PY $HERE/imap.py 127.0.0.1 $CYRUS_IMAP_PORT"
TCP=127.0.0.1:$CYRUS_LMTP_PORT

# ---------------------------------------------------------------- Cyrus, unix socket
out=$(msg c1 | $LMTP "$CYRUS_LMTP_SOCK" sender@example.org bob bob+Spam 2>&1)
like "cyrus unix: bob + bob+Spam in one transaction, 250 each" "$out" \
     $'^bob 250 2\\.1\\.5 [^\n]*\nbob\\+Spam 250 2\\.1\\.5 [^\n]*$'
is "cyrus imap: bob INBOX has 1" "$($IMAP bob "$CYRUS_PW" count INBOX 2>&1)" 1
is "cyrus imap: bob INBOX.Spam has 1" "$($IMAP bob "$CYRUS_PW" count INBOX.Spam 2>&1)" 1
is "cyrus imap: body as sent" "$($IMAP bob "$CYRUS_PW" fetch INBOX.Spam 1 2>&1)" $'body of c1\r'
is "cyrus imap: Subject header" "$($IMAP bob "$CYRUS_PW" header INBOX 1 Subject 2>&1)" "peers test c1"
is "cyrus: single-instance store, one spool file linked twice" \
   "$(find "$CYRUS_SPOOL" -type f -name '[0-9]*.' -links 2 | wc -l)/$(find "$CYRUS_SPOOL" -type f -name '[0-9]*.' | wc -l)" "2/2"
is "cyrus telemetry: one MAIL FROM on the unix socket" \
   "$(cat "$CYRUS_TELEMETRY"/postman/* | grep -ci '^<[0-9]*<mail from')" 1

out=$(msg c1 | $LMTP "$CYRUS_LMTP_SOCK" sender@example.org BOB 2>&1)
like "cyrus: same Message-ID again (BOB, downcased) gets 250" "$out" '^BOB 250 '
is "cyrus: ... but duplicate suppression stores nothing" "$($IMAP bob "$CYRUS_PW" count INBOX 2>&1)" 1

out=$(msg c2 | $LMTP "$CYRUS_LMTP_SOCK" sender@example.org bb+bulletin bob+NoPost 2>&1)
like "cyrus: bb+bulletin and bob+NoPost get 250" "$out" $'^bb\\+bulletin 250 [^\n]*\nbob\\+NoPost 250 '
is "cyrus: board bulletin has 1, NoPost 0, bob INBOX 2" \
   "$($IMAP cyrus "$CYRUS_PW" count bulletin 2>&1) $($IMAP bob "$CYRUS_PW" count INBOX.NoPost 2>&1) $($IMAP bob "$CYRUS_PW" count INBOX 2>&1)" "1 0 2"

out=$(runuser -u nobody -- $PY -c 'import smtplib, sys
l = smtplib.LMTP(sys.argv[1]); print(l.ehlo()[0]); l.quit()' "$CYRUS_LMTP_SOCK" 2>&1)
is "cyrus: unix socket usable by user nobody" "$out" 250

# ---------------------------------------------------------------- Cyrus, TCP + SASL
out=$($PY -c 'import smtplib, sys
l = smtplib.LMTP("127.0.0.1", int(sys.argv[1])); l.ehlo(); print(l.esmtp_features["auth"].strip()); l.quit()' \
      "$CYRUS_LMTP_PORT" 2>&1)
is "cyrus tcp: LHLO offers the configured mechanisms" "$out" "PLAIN LOGIN CRAM-MD5 DIGEST-MD5 SCRAM-SHA-1 SCRAM-SHA-256"
out=$(msg c3 | $LMTP "$TCP" sender@example.org dave 2>&1)
like "cyrus tcp: MAIL without AUTH is refused (430)" "$out" '430 Authentication required'
out=$(msg c4 | $LMTP -a PLAIN lmtpadmin "$CYRUS_PW" "$TCP" sender@example.org dave 2>&1)
like "cyrus tcp: AUTH PLAIN as lmtpadmin, delivered" "$out" '^dave 250 2\.1\.5 '
out=$(msg c5 | $LMTP -a CRAM-MD5 lmtpadmin "$CYRUS_PW" "$TCP" sender@example.org bob+lists.linux 2>&1)
like "cyrus tcp: AUTH CRAM-MD5 as lmtpadmin, delivered" "$out" '^bob\+lists\.linux 250 2\.1\.5 '
is "cyrus imap: dave INBOX 1, bob INBOX.lists.linux 1" \
   "$($IMAP dave "$CYRUS_PW" count INBOX 2>&1) $($IMAP bob "$CYRUS_PW" count INBOX.lists.linux 2>&1)" "1 1"

# ---------------------------------------------------------------- Cyrus, quota
out=$(msg c6 2000 | $LMTP "$CYRUS_LMTP_SOCK" sender@example.org carol 2>&1)
like "cyrus quota: first 2 KB message to carol (1 KiB quota) accepted" "$out" '^carol 250 '
out=$(msg c7 | $LMTP "$CYRUS_LMTP_SOCK" sender@example.org carol 2>&1)
like "cyrus quota: next one gets 452 4.2.2" "$out" '^carol 452 4\.2\.2 Over quota'

# ---------------------------------------------------------------- Dovecot
bob=${DOVECOT_MAIL//%u/bob}
out=$(msg d1 | $LMTP "$DOVECOT_LMTP_SOCK" sender@example.org bob bob+Spam 2>&1)
like "dovecot: bob + bob+Spam in one transaction, 250 each" "$out" \
     $'^bob 250 2\\.0\\.0 [^\n]*Saved\nbob\\+Spam 250 2\\.0\\.0 [^\n]*Saved$'
is "dovecot: one in bob's new/, one in .Spam/new/, hard-linked, body as sent (LF)" \
   "$(ls "$bob/new" | wc -l) $(ls "$bob/.Spam/new" | wc -l) $(stat -c %h "$bob"/new/* 2>&1) $(tail -n 1 "$bob"/.Spam/new/*)" \
   "1 1 2 body of d1"
out=$(msg d2 500 | $LMTP "$DOVECOT_LMTP_SOCK" sender@example.org carol 2>&1)
out2=$(msg d3 | $LMTP "$DOVECOT_LMTP_SOCK" sender@example.org carol 2>&1)
like "dovecot quota: 500 B into carol's 1 KiB fits, the next gets 552 5.2.2" "$out $out2" \
     '^carol 250 .* carol 552 5\.2\.2 '
out=$(runuser -u nobody -- $PY -c 'import smtplib, sys
l = smtplib.LMTP(sys.argv[1]); print(l.ehlo()[0]); l.quit()' "$DOVECOT_LMTP_SOCK" 2>&1)
is "dovecot: unix socket usable by user nobody" "$out" 250

# ---------------------------------------------------------------- tear-down
pids="$(tree "$(cat "$CYRUS_DIR/master.pid")") $(tree "$(cat "$DOVECOT_DIR/run/master.pid")")"
"$HERE/cyrus-down.sh" "$CD"; "$HERE/dovecot-down.sh" "$DD"
left=""; for p in $pids; do [ -d "/proc/$p" ] && left="$left $p"; done
is "down scripts: no process left, dirs removed" "${left:-none} $([ -e "$CD" ] || [ -e "$DD" ] && echo dir-left)" "none "

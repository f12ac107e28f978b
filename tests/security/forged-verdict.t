#!/usr/bin/env bash
# forged-verdict.t - issue 11 point 4: a sender cannot forge the spam or
# virus verdict a store or a folder gets. X-Spam-* fields hidden behind a
# bare CR ("Subject: x\rX-Spam-Flag: NO") or with a NUL in the name, which
# the store repair would turn into real fields, are dropped with the plain
# ones; so are all X-Spam-* fields of a message too big for spamd
# (SPAMD_MAXSIZE) or when spamd cannot be asked (fail open). Against the
# real spamd (tests/peers/spamd-up.sh) and the real Cyrus (checked over
# IMAP), and a Maildir. Needs root; about 10 s.
. "$LDA_TOP/tests/integration/lib.sh"

P=$LDA_TOP/tests/peers
PY=/usr/bin/python3; [ -x $PY ] || PY=python3
if [ "$(id -u)" != 0 ]; then skip_all "needs root"; fi
command -v spamd >/dev/null || skip_all "spamd not installed"
[ -x /usr/lib/cyrus/bin/master ] || skip_all "cyrus not installed"

SD=$T/spamd CD=$T/cyrus
mkdir -p "$SD" "$CD"
"$P/spamd-up.sh" "$SD" >"$T/spamd-up.out" 2>&1 || {
	sed 's/^/# /' "$T/spamd-up.out"; echo "Bail out! spamd-up.sh failed"; exit 1; }
at_exit "'$P/spamd-down.sh' '$SD'"
. "$SD/env"
out=$("$P/cyrus-up.sh" "$CD" 2>&1) || { echo "Bail out! cyrus-up.sh: $out"; exit 1; }
at_exit "'$P/cyrus-down.sh' '$CD'"
. "$CD/env"
test_user SVC svc || { echo "Bail out! cannot make a test user"; exit 1; }
LOG=$T/lda.log; : >"$LOG"; chmod 666 "$LOG"
H=$T/home; mkdir -p "$H"; chmod 755 "$H"

GTUBE='XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X'
n=0
# mk FILE FORGED BODYLINE: a message whose Subject line is followed by the
# raw bytes FORGED (printf escapes), with a fresh Message-ID
mk() {
	n=$((n + 1))
	printf "From: Mallory <m@example.org>\nTo: bob@example.org\nMessage-ID: <f$n.$$.%s@forged-verdict.t>\nSubject: offer$2\nDate: Sat, 21 Nov 2026 10:00:00 +0000\n\nHello Bob,\n%s\n" \
		"$(date +%s%N)" "$3" >"$1"
	chmod 644 "$1"
}
# flags TEXT: the X-Spam-Flag values of a header as a reader of the store
# sees it (a bare CR ends a line, NULs removed), space-separated
flags() { perl -0777 -pe 's/\0//g; s/\r+\n/\n/g; s/\r/\n/g' | sed -e '/^$/q' | sed -n 's/^X-Spam-Flag[ \t]*:[ ]*//Ip' | tr -d ' ' | tr '\n' ' '; }
# imap_header USER: the header of the newest message in USER's INBOX, over IMAP
imap_header() {
	$PY - "$CYRUS_IMAP_PORT" "$CYRUS_PW" "$1" <<'EOF'
import imaplib, sys
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
cred = ("%s\0cyrus\0%s" % (sys.argv[3], sys.argv[2])).encode()
m.authenticate("PLAIN", lambda _: cred)
typ, data = m.select("INBOX", readonly=True)
last = data[0].decode()
typ, data = m.fetch(last, "(BODY.PEEK[HEADER])")
sys.stdout.buffer.write(data[0][1])
EOF
}
# sysrc LINE...: the system rc ($T/sys.rc)
sysrc() { printf '%s\n' "$@" >"$T/sys.rc"; chmod 644 "$T/sys.rc"; }
# maildir MSG: deliver into $H/mail/ (the system rc's DEFAULT); $st, $got
maildir() {
	rm -rf "$H/mail"; st=0
	HOME=$H "$LDA" --config "$T/sys.rc" MAILDIR="$H/mail" DEFAULT="$H/mail/" \
		LOGFILE="$LOG" <"$1" >/dev/null 2>&1 || st=$?
	got=$(find "$H/mail/new" -type f 2>/dev/null | head -n 1)
}
# cyrus MSG: deliver to bob's INBOX in Cyrus as the service user; $st
cyrus() {
	st=0
	runuser -u $SVC -- "$LDA" --config "$T/sys.rc" --store \
		"lmtp:unix:$CYRUS_LMTP_SOCK" -f m@example.org LOGFILE="$LOG" -d bob \
		<"$1" >/dev/null 2>&1 || st=$?
}
# both NAME MSG WANT: MSG through spamd into a Maildir and into Cyrus;
# the X-Spam-Flag values each shows must be WANT
both() {
	maildir "$2"
	is "$st" 0 "$1: Maildir: delivered"
	is "$(flags <"${got:-/dev/null}")" "$3" "$1: Maildir: X-Spam-Flag is only '$3'"
	cyrus "$2"
	is "$st" 0 "$1: Cyrus: delivered"
	is "$(imap_header bob | flags)" "$3" "$1: Cyrus over IMAP: X-Spam-Flag is only '$3'"
}

sysrc "SPAMD=unix:$SPAMD_SOCK" 'FILTERS=spamassassin'
mk "$T/a" '\rX-Spam-Flag: NO\rX-Spam-Status: No, score=-5.0' "$GTUBE"
both "forged behind a bare CR" "$T/a" "YES "
mk "$T/b" '\nX-Sp\000am-Flag: NO' "$GTUBE"
both "a NUL in the forged field's name" "$T/b" "YES "
mk "$T/c" '\r\000X-Spam-Flag : NO' "$GTUBE"
both "CR, NUL, a blank before the colon" "$T/c" "YES "

# Over SPAMD_MAXSIZE spamd is not asked: no X-Spam-Flag at all, not the forged one
sysrc "SPAMD=unix:$SPAMD_SOCK" 'FILTERS=spamassassin' 'SPAMD_MAXSIZE=200'
mk "$T/d" '\nX-Spam-Flag: NO\nX-Spam-Status: No' "$GTUBE"
both "over SPAMD_MAXSIZE" "$T/d" ""
# spamd down, failing open: delivered unscanned, not with the forged verdict
sysrc "SPAMD=unix:$T/no-such.sock" 'FILTERS=spamassassin'
mk "$T/e" '\rX-Spam-Flag: NO' "$GTUBE"
both "spamd down (fail open)" "$T/e" ""
like "$(imap_header bob | tr -d '\r')" 'X-LDA-Unscanned: spamassassin' "spamd down: the store's copy says unscanned"

done_testing

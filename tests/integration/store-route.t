#!/usr/bin/env bash
# store-route.t - per-user routing (STORE_ROUTES) across three real Cyrus
# IMAP back ends (tests/peers/cyrus-up.sh, three private instances): one
# run for recipients on all three, from a cdb table (tinycdb's cdb -c -m)
# and from a flat file; one transaction per back end, single-instance kept
# on each; a recipient the table does not name goes to STORE; a table that
# cannot be read, or names no STORE, is 75 with 4.3.5 and the complaint;
# a back end that is down defers its recipients only, the others are
# delivered once. Every delivery is checked over IMAP on each back end.
# Needs root; about 20 s.
. "$LDA_TOP/tests/integration/lib.sh"

P=$LDA_TOP/tests/peers
PY=/usr/bin/python3; [ -x $PY ] || PY=python3
if [ "$(id -u)" != 0 ]; then skip_all "needs root"; fi
if [ ! -x /usr/lib/cyrus/bin/master ]; then skip_all "cyrus not installed"; fi
if ! command -v cdb >/dev/null; then skip_all "tinycdb's cdb not installed"; fi

for i in 1 2 3; do
	mkdir -p "$T/c$i"
	if ! out=$("$P/cyrus-up.sh" "$T/c$i" 2>&1); then
		echo "Bail out! cyrus-up.sh $i: $out"; exit 1
	fi
	at_exit "'$P/cyrus-down.sh' '$T/c$i'"
	# shellcheck disable=SC1090
	. "$T/c$i/env"
	eval "S$i=lmtp:unix:\$CYRUS_LMTP_SOCK IP$i=\$CYRUS_IMAP_PORT TEL$i=\$CYRUS_TELEMETRY SP$i=\$CYRUS_SPOOL"
done
test_user SVC svc || { echo "Bail out! cannot make a test user"; exit 1; }
LOG=$T/lda.log
: >"$LOG"; chmod 666 "$LOG"

# counts USER [FOLDER]: the messages in USER's FOLDER (INBOX) on back
# ends 1, 2 and 3, space-separated (over IMAP, as the admin acting as USER;
# "-" for a back end that is down)
counts() {
	$PY - "$CYRUS_PW" "$1" "${2:-INBOX}" "$IP1" "$IP2" "$IP3" <<'PYEOF'
import imaplib, sys
pw, user, folder, ports = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
got = []
for p in ports:
    try:
        m = imaplib.IMAP4("127.0.0.1", int(p), timeout=30)
    except OSError:
        got.append("-")
        continue
    cred = ("%s\0cyrus\0%s" % (user, pw)).encode()
    m.authenticate("PLAIN", lambda _: cred)
    typ, data = m.status('"%s"' % folder, "(MESSAGES)")
    got.append(data[0].decode().split("MESSAGES ")[1].rstrip(")") if typ == "OK" else "?")
    m.logout()
print(" ".join(got))
PYEOF
}
plus() { # plus "A B C" "X Y Z": the sums
	local a b; read -r -a a <<<"$1"; read -r -a b <<<"$2"
	echo "$((a[0] + b[0])) $((a[1] + b[1])) $((a[2] + b[2]))"
}
n=0
mk() {
	n=$((n + 1)); MID="<r$n.$$.$(date +%s%N)@store-route.t>"
	printf 'From: Alice <alice@example.org>\nTo: team@example.org\nSubject: route %s\nMessage-ID: %s\n\nHello.\n' \
		"$n" "$MID" >"$1"
}
# mails N: the MAIL commands back end N's lmtpd saw (cyrus-up.sh's telemetry)
mails() { eval "cat \"\$TEL$1\"/postman/*" | grep -ci '^<[0-9]*<mail from'; }
reset_tel() { local i f; for i in 1 2 3; do for f in $(eval "echo \"\$TEL$i\"/postman/*"); do : >"$f"; done; done; }
# svc IN ARGS...: lda as the service user, like a postfix pipe's user=
svc() {
	local in=$1; shift
	: >"$LOG"
	predicted "$in" runuser -u "$SVC" -- "$LDA" -f sender@example.org LOGFILE="$LOG" "$@"
}

# The table: bob on 1, carol on 2, dave on 3; STORE (the default) is 1.
cat >"$T/routes" <<EOF
# recipient          STORE
bob                  $S1
carol                $S2
dave                 $S3
@example.org         $S3
EOF
cdb -c -m "$T/routes.cdb" "$T/routes"
chmod 644 "$T/routes" "$T/routes.cdb"

# --- one run, three back ends, from the cdb table -------------------------------
mk "$T/m"
b=$(counts bob) c=$(counts carol) d=$(counts dave)
PRED_BETWEEN=reset_tel svc "$T/m" STORE="$S1" STORE_ROUTES="cdb:$T/routes.cdb" -d bob Carol dave
is "$st" 0 "cdb table: bob, Carol and dave on three back ends: exit 0"
is "$(counts bob)" "$(plus "$b" "1 0 0")" "bob's copy on back end 1 only"
is "$(counts carol)" "$(plus "$c" "0 1 0")" "carol's copy on back end 2 only (the recipient Carol looked up as carol)"
is "$(counts dave)" "$(plus "$d" "0 0 1")" "dave's copy on back end 3 only"
is "$(mails 1) $(mails 2) $(mails 3)" "1 1 1" "one transaction per back end"
like "$(cat "$LOG")" "to=<Carol>.*store=$S2, .*status=sent" "the log names carol's back end"

# --- the flat file; two copies on one back end: one transaction, one instance ----
printf ':0c\nSpam\n' >"$T/rc"; chmod 644 "$T/rc"
mk "$T/m"
b=$(counts bob) bs=$(counts bob INBOX.Spam) d=$(counts dave)
PRED_BETWEEN=reset_tel svc "$T/m" --config "$T/rc" STORE="$S1" STORE_ROUTES="file:$T/routes" -d bob dave
is "$st" 0 "flat file: bob (INBOX and Spam) and dave: exit 0"
is "$(counts bob) / $(counts bob INBOX.Spam)" "$(plus "$b" "1 0 0") / $(plus "$bs" "1 0 0")" \
	"bob's INBOX and Spam copies on back end 1"
is "$(counts dave)" "$(plus "$d" "0 0 1")" "dave's on back end 3"
is "$(mails 1) $(mails 2) $(mails 3)" "1 0 1" "back end 1: one transaction for bob's two copies"
files=$(grep -rlF "$MID" "$SP1" | grep '/[0-9]*\.$')
is "$(echo "$files" | wc -l) $(echo "$files" | xargs stat -c %i | sort -u | wc -l)" "2 1" \
	"single-instance store kept on back end 1: two mailboxes, one file"

# --- not in the table: STORE --------------------------------------------------
printf 'bob %s\n' "$S2" >"$T/bobonly"; chmod 644 "$T/bobonly"
mk "$T/m"
b=$(counts bob) d=$(counts dave)
svc "$T/m" STORE="$S3" STORE_ROUTES="file:$T/bobonly" -d bob dave
is "$st" 0 "a table naming bob only: exit 0"
is "$(counts bob) / $(counts dave)" "$(plus "$b" "0 1 0") / $(plus "$d" "0 0 1")" \
	"bob by the table (2), dave by STORE (3)"

# --- the administrator's mistakes: 75, 4.3.5, the complaint --------------------
mk "$T/m"
b=$(counts bob)
svc "$T/m" STORE="$S1" STORE_ROUTES="cdb:$T/nonexistent.cdb" -d bob
is "$st" 75 "a table that cannot be read: 75"
like "$out" "^4\\.3\\.5 .*STORE_ROUTES cdb:$T/nonexistent\\.cdb: No such file or directory" \
	"its status line: 4.3.5 and why"
printf 'bob %s\ncarol lmtp:unix:relative\n' "$S1" >"$T/bad"; chmod 644 "$T/bad"
cdb -c -m "$T/bad.cdb" "$T/bad"; chmod 644 "$T/bad.cdb"
svc "$T/m" STORE="$S1" STORE_ROUTES="cdb:$T/bad.cdb" -d bob carol
is "$st" 75 "a route that is no STORE: 75"
like "$out" "^4\\.3\\.5 .*the route of carol: STORE \"lmtp:unix:relative\": want" \
	"its status line: 4.3.5 and the bad value"
like "$(cat "$LOG")" "to=<carol>, folder=[^,]*, status=deferred \\(STORE_ROUTES .*the route of carol" \
	"carol's copy is deferred with the complaint"
like "$(cat "$LOG")" "to=<bob>.*store=$S1, .*status=sent" "bob's route is good: his copy is sent"
b=$(counts bob)
printf 'bob\n' >"$T/bad"
svc "$T/m" STORE="$S1" STORE_ROUTES="file:$T/bad" -d bob
is "$st" 75 "a flat file line without a value: 75"
like "$out" "^4\\.3\\.5 .*STORE_ROUTES file:$T/bad:1: want a key" "its status line names file:line"
head -c 3000 /dev/urandom >"$T/junk.cdb"; chmod 644 "$T/junk.cdb"
svc "$T/m" STORE="$S1" STORE_ROUTES="cdb:$T/junk.cdb" -d bob
is "$st" 75 "a cdb table that is no cdb file: 75, never a guess"
svc "$T/m" STORE="$S1" STORE_ROUTES="$T/routes" -d bob
is "$st" 75 "STORE_ROUTES without cdb: or file:: 75"
like "$out" "^4\\.3\\.5 .*want cdb:/absolute/path or file:/absolute/path" "its status line says the forms"
svc "$T/m" STORE_ROUTES="cdb:$T/routes.cdb" -d bob
is "$st" 75 "STORE_ROUTES without STORE: 75"
like "$out" "^4\\.3\\.5 .*STORE_ROUTES=cdb:$T/routes\\.cdb needs STORE" "its status line says STORE is missing"
is "$(counts bob)" "$b" "none of the mistakes delivered anything"

# --- a recipient is only a key ---------------------------------------------------
mk "$T/m"
svc "$T/m" STORE="$S1" STORE_ROUTES="cdb:$T/routes.cdb" -d "../../$S2"
like "$(cat "$LOG")" "to=<\\.\\./\\.\\./lmtp:unix:[^>]*>.*store=$S1, " \
	"a recipient that looks like a path or a STORE is only a key the table lacks: STORE"

# --- a back end down: its recipients deferred, the others delivered once ----------
mk "$T/m"
b=$(counts bob) d=$(counts dave)
"$P/cyrus-down.sh" "$T/c2"
svc "$T/m" STORE="$S1" STORE_ROUTES="cdb:$T/routes.cdb" -d bob carol dave
is "$st" 75 "back end 2 down: 75 (carol's copy is owed)"
like "$out" "^4\\.[0-9]\\.[0-9] carol" "the status line is carol's"
like "$(cat "$LOG")" "to=<carol>.*store=$S2, .*status=deferred" "carol: deferred"
like "$(cat "$LOG")" "to=<bob>.*store=$S1, .*status=sent" "bob: sent"
like "$(cat "$LOG")" "to=<dave>.*store=$S3, .*status=sent" "dave: sent"
is "$(counts bob) / $(counts dave)" "$(plus "$b" "1 0 0" | sed 's/ [0-9]* / - /') / $(plus "$d" "0 0 1" | sed 's/ [0-9]* / - /')" \
	"bob and dave delivered once, each on his back end"

done_testing

#!/usr/bin/env bash
# store-murder.t - lda into a real Cyrus Murder (tests/peers/murder-up.sh:
# an mupdate master, two back ends and a front end, each a private Cyrus
# 3.6): lda delivers to the front end's LMTP over TCP with SASL, and each
# user's message lands on the back end that holds the mailbox (checked
# over IMAP on each back end); plus-address folders and a board through
# the proxy; an unknown user is 67; a back end that is down defers its
# users only (75), the others are delivered once. Needs root; about 10 s.
. "$LDA_TOP/tests/integration/lib.sh"

P=$LDA_TOP/tests/peers
PY=/usr/bin/python3; [ -x $PY ] || PY=python3
if [ "$(id -u)" != 0 ]; then skip_all "needs root"; fi
if [ ! -x /usr/lib/cyrus/bin/mupdate ]; then skip_all "cyrus-murder not installed"; fi
if id bb >/dev/null 2>&1; then echo "Bail out! bb (the postuser) must have no Unix account here"; exit 1; fi

MD=$T/murder
mkdir -p "$MD"
if ! out=$("$P/murder-up.sh" "$MD" 2>&1); then
	echo "Bail out! murder-up.sh: $out"; exit 1
fi
at_exit "'$P/murder-down.sh' '$MD'"
. "$MD/env"
FE=lmtp:inet:127.0.0.1:$MURDER_FE_LMTP_PORT
test_user SVC svc || { echo "Bail out! cannot make a test user"; exit 1; }
LOG=$T/lda.log
: >"$LOG"; chmod 666 "$LOG"
printf 'lmtpadmin:%s\n' "$MURDER_PW" >"$T/creds"; chown "$SVC" "$T/creds"; chmod 600 "$T/creds"
# the system rc: contrib/cyrus-murder/lda.rc as written (but for the front
# end's address and the credentials file), plus addresses and boards
sed -e "s/@FRONTEND@/127.0.0.1:$MURDER_FE_LMTP_PORT/" -e "s#/etc/lda/murder.pw#$T/creds#" \
	"$LDA_TOP/contrib/cyrus-murder/lda.rc" >"$T/sys.rc"
printf 'FILTERS="bboard plusaddr"\nPOSTUSER=bb\n' >>"$T/sys.rc"; chmod 644 "$T/sys.rc"

# where USER FOLDER: "<on be1> <on be2>", the messages in USER's FOLDER
# ("-" where the mailbox is not, "down" where the back end is), over IMAP on
# each back end as the admin acting as USER (cyrus itself for "bulletin")
where() {
	$PY - "$MURDER_PW" "$1" "$2" "$MURDER_BE1_IMAP_PORT" "$MURDER_BE2_IMAP_PORT" <<'PYEOF'
import imaplib, sys
pw, user, folder, ports = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
got = []
for p in ports:
    try:
        m = imaplib.IMAP4("127.0.0.1", int(p), timeout=30)
    except OSError:
        got.append("down")
        continue
    if user == "cyrus":
        m.login("cyrus", pw)
    else:
        cred = ("%s\0cyrus\0%s" % (user, pw)).encode()
        m.authenticate("PLAIN", lambda _: cred)
    typ, data = m.status('"%s"' % folder, "(MESSAGES)")
    got.append(data[0].decode().split("MESSAGES ")[1].rstrip(")") if typ == "OK" else "-")
    m.logout()
print(" ".join(got))
PYEOF
}
n=0
mk() {
	n=$((n + 1))
	printf 'From: Alice <alice@example.org>\nTo: team@example.org\nSubject: murder %s\nMessage-ID: <m%s.%s.%s@store-murder.t>\n\nHello.\n' \
		"$n" "$n" "$$" "$(date +%s%N)" >"$T/m"
}
# svc ARGS...: a fresh message through lda as the service user into the
# front end; $st, $out, the log in $LOG. Each case also checks that lda
# --test predicted it (lib.sh), but with NOPRED set: a front end answers
# RCPT for a back end that is down (it finds out only at DATA), so --test's
# RCPT probe cannot see that.
svc() {
	mk; : >"$LOG"
	if [ -n "${NOPRED:-}" ]; then
		st=0; out=$(runuser -u "$SVC" -- "$LDA" --config "$T/sys.rc" \
			-f sender@example.org LOGFILE="$LOG" "$@" <"$T/m" 2>/dev/null) || st=$?
		return 0
	fi
	predicted "$T/m" runuser -u "$SVC" -- "$LDA" --config "$T/sys.rc" \
		-f sender@example.org LOGFILE="$LOG" "$@"
}

# --- each user's message on the back end that holds the mailbox -------------------
b=$(where bob INBOX) c=$(where carol INBOX) d=$(where dave INBOX)
is "$b / $c / $d" "0 - / - 0 / - 0" "the Murder: bob on back end 1, carol and dave on 2"
svc -d bob carol dave
is "$st" 0 "bob, carol and dave through the front end: exit 0"
is "$(where bob INBOX) / $(where carol INBOX) / $(where dave INBOX)" "1 - / - 1 / - 1" \
	"each message on its user's back end, once"
like "$(cat "$LOG")" "to=<carol>, .*store=$FE \\(AUTH PLAIN\\), .*status=sent \\(250 " \
	"the front end took carol's copy, after SASL"

# --- plus addresses and a board through the proxy -----------------------------------
svc -d bob+Spam
is "$st" 0 "-d bob+Spam: exit 0"
is "$(where bob INBOX.Spam) / $(where bob INBOX)" "1 - / 1 -" "bob+Spam: in Spam on back end 1"
like "$(cat "$LOG")" "folder=bob\\+Spam, store=$FE" "RCPT bob+Spam to the front end"
svc -a bulletin -d bb
is "$st" 0 "-a bulletin -d bb (a board post): exit 0"
is "$(where cyrus bulletin)" "- 1" "the board: in bulletin on back end 2"
like "$(cat "$LOG")" "folder=bb\\+bulletin, store=$FE.*status=sent" "RCPT bb+bulletin to the front end"

# --- unknown to the Murder ---------------------------------------------------------
svc -d nosuchuser
is "$st" 67 "a user on no back end: 67"
like "$out" '^5\.1\.1 nosuchuser: 550' "the status line quotes the front end's 5.1.1"

# --- a back end down: its users deferred, the others delivered once ------------------
"$P/murder-down.sh" "$MD" be2
NOPRED=1 svc -d bob carol
is "$st" 75 "back end 2 down: 75 (carol's copy is owed)"
like "$(cat "$LOG")" "to=<carol>, .*status=deferred \\(4[0-9][0-9] " "carol: deferred with the front end's 4xx" ||
	diag "$(cat "$LOG")"
diag "carol: $(grep -o 'status=deferred.*' "$LOG" | head -n 1)"
like "$(cat "$LOG")" "to=<bob>, .*status=sent" "bob: sent"
like "$out" "^4\\.[0-9]\\.[0-9] carol" "the status line is carol's"
is "$(where bob INBOX)" "2 down" "bob's message on back end 1, once"

done_testing

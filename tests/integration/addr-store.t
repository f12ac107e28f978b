#!/usr/bin/env bash
# addr-store.t - addressing on a sealed store, against a real Cyrus 3.6
# and a real Dovecot 2.3 (tests/peers/*-up.sh in private directories):
# plus-address folders as user+folder (existing, missing, without the
# post right, nested, hostile details, the user part in another case),
# the rc deciding, bulletin boards (bb+board, POSTUSER empty, a board
# that does not exist, a board post while the postuser has an rc file),
# and users without a Unix account (with an rc file, without, with one
# others may write, and without STORE). lda runs as the service user
# (a test account), as a postfix pipe's user= would run it. Cyrus is checked over
# IMAP, Dovecot in its Maildirs: the message landed where it should,
# once, and nowhere else. Needs root; about 10 s.
. "$LDA_TOP/tests/integration/lib.sh"

P=$LDA_TOP/tests/peers
PY=/usr/bin/python3; [ -x $PY ] || PY=python3
if [ "$(id -u)" != 0 ]; then skip_all "needs root"; fi
if [ ! -x /usr/lib/cyrus/bin/master ]; then skip_all "cyrus not installed"; fi
export LC_ALL=C

CD=$T/cyrus DD=$T/dovecot
mkdir -p "$CD" "$DD"
out=$("$P/cyrus-up.sh" "$CD" 2>&1) || { echo "Bail out! cyrus-up.sh: $out"; exit 1; }
at_exit "'$P/cyrus-down.sh' '$CD'"
. "$CD/env"
DOVECOT=no
if command -v dovecot >/dev/null && [ -x /usr/lib/dovecot/lmtp ]; then
	test_user DM dv || { echo "Bail out! cannot make a test user"; exit 1; }
	out=$(DOVECOT_MAIL_USER=$DM "$P/dovecot-up.sh" "$DD" 2>&1) || { echo "Bail out! dovecot-up.sh: $out"; exit 1; }
	at_exit "'$P/dovecot-down.sh' '$DD'"
	. "$DD/env"
	DOVECOT=yes
fi
test_user SVC svc || { echo "Bail out! cannot make a test user"; exit 1; }
# The store's users (bob, carol, dave) may have Unix accounts here too: lda
# as a service user with -d delivers for them by name all the same. Only
# the postuser bb must have none: RECIPIENT=bb+board without -d is a post
# only for a user without an account (else it is the service user's own).
if id bb >/dev/null 2>&1; then echo "Bail out! bb (cyrus-up.sh's postuser) must have no Unix account here"; exit 1; fi
NX=ldatnx$$	# a user without an account, and not on the store
if id "$NX" >/dev/null 2>&1; then echo "Bail out! $NX must have no Unix account"; exit 1; fi
LOG=$T/lda.log; : >"$LOG"; chmod 666 "$LOG"

# Mailboxes beyond cyrus-up.sh's, with the post right: a nested folder,
# and "R&D" (IMAP's modified UTF-7 name for it is R&-D).
$PY - "$CYRUS_IMAP_PORT" "$CYRUS_PW" <<'EOF' || { echo "Bail out! cannot create mailboxes"; exit 1; }
import imaplib, sys
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
m.login("cyrus", sys.argv[2])
for mb in ("user.bob.a", "user.bob.a.b", "user.bob.a.b.c", '"user.bob.R&-D"'):
    if m.create(mb)[0] != "OK" or m.setacl(mb, "anyone", "p")[0] != "OK":
        sys.exit(1)
EOF

# One IMAP client for the whole test (tests/peers/imapq.py)
imapq_start "$CYRUS_IMAP_PORT" "$CYRUS_PW"

# Every folder a message could land in, as one line of counts.
FOLDERS="INBOX INBOX.Spam INBOX.lists INBOX.lists.linux INBOX.NoPost INBOX.a.b.c INBOX.R&-D"
names=($FOLDERS dave:INBOX bulletin)
counts() {
	echo "$(imapq count bob $FOLDERS) $(imapq count dave INBOX) $(imapq count cyrus bulletin)"
}
BEFORE=$(counts)
# landed WHERE NAME: exactly one new message, in WHERE (one of $names),
# none anywhere else; WHERE "none": nowhere
landed() {
	local now=$(counts) want="" i=0 w
	for w in $BEFORE; do
		[ "${names[$i]}" = "$1" ] && w=$((w + 1))
		want="$want $w"; i=$((i + 1))
	done
	if [ "$1" = none ]; then w="delivered nowhere"
	else w="landed in $1, once, nowhere else"; fi
	is "$now" "${want# }" "$2: $w" || diag "folders: ${names[*]}"
	BEFORE=$now
}

n=0
mk() { # a message with a fresh Message-ID (Cyrus suppresses repeats)
	n=$((n + 1))
	printf 'From: Alice <alice@example.org>\nTo: bob@example.org\nSubject: addr %s\nMessage-ID: <a%s.%s.%s@addr-store.t>\n\nHello.\n' \
		"$n" "$n" "$$" "$(date +%s%N)" >"$T/m"
	chmod 644 "$T/m"
}
cat >"$T/sys.rc" <<EOF
FILTERS="bboard plusaddr"
POSTUSER=bb
USERS_RC_DIR=$T/users
EOF
sed '/^POSTUSER/d' "$T/sys.rc" >"$T/nopost.rc"
chmod 644 "$T/sys.rc" "$T/nopost.rc"
mkdir -p "$T/users"; chmod 755 "$T/users"
# svc ARGS...: a fresh message through lda as $SVC into Cyrus; $st, $out
STORE_SPEC=lmtp:unix:$CYRUS_LMTP_SOCK
svc() {
	mk; : >"$LOG"
	# each case also checks that lda --test predicted it (lib.sh)
	predicted "$T/m" runuser -u $SVC -- "$LDA" --config "${SYSRC:-$T/sys.rc}" \
		--store "$STORE_SPEC" -f sender@example.org LOGFILE="$LOG" "$@"
}

# --- Cyrus: plus-address folders -------------------------------------------------
svc -a lists.linux -d bob
is "$st" 0 "cyrus: -a lists.linux -d bob: exit 0"
landed INBOX.lists.linux "cyrus: bob+lists.linux"
like "$(cat "$LOG")" 'to=<bob>.*folder=bob\+lists\.linux, store=.*status=sent \(250 ' \
	"cyrus: RCPT bob+lists.linux, logged"
svc -d bob+Spam
landed INBOX.Spam "cyrus: -d bob+Spam"
svc -d bob+nosuch
is "$st" 0 "cyrus: a missing folder: exit 0"
landed INBOX "cyrus: a missing folder: Cyrus files it in the INBOX"
svc -d bob+NoPost
landed INBOX "cyrus: a folder without the post right: the INBOX"
svc -d bob+a.b.c
landed INBOX.a.b.c "cyrus: nested a.b.c"
svc -d bob+a/b/c
landed INBOX.a.b.c "cyrus: nested a/b/c"
svc -d "bob+R&D"
landed "INBOX.R&-D" "cyrus: bob+R&D: '&' passed as is, Cyrus names the folder R&-D"
svc -d "bob+$(printf 'caf\303\251')"
landed INBOX "cyrus: a UTF-8 detail: no LMTP address can carry it, the INBOX"
like "$(cat "$LOG")" 'refused \(8-bit bytes' "cyrus: ... refused by lda, logged"
svc RCPT_DOWNCASE=yes -d BOB+lists
landed INBOX.lists "cyrus: RCPT_DOWNCASE=yes, BOB+lists: bob's lists"
like "$(cat "$LOG")" 'to=<bob>.*folder=bob\+lists,' "cyrus: the user part lower-cased, the folder not"
svc -d bob+
landed INBOX "cyrus: an empty detail (bob+): the INBOX"

long=$(head -c 300 /dev/zero | tr '\0' x)
for h in "../x" "/etc" "." "$long" "$(printf 'a\001b')" "$(printf 'caf\351')"; do
	vis=$(printf '%q' "$h" | cut -c1-20)
	svc -a "$h" -d bob
	is "$st" 0 "cyrus: hostile detail $vis: exit 0"
	landed INBOX "cyrus: hostile detail $vis: the INBOX"
	like "$(cat "$LOG")" 'plusaddr: detail ".*" refused \(' \
		"cyrus: hostile detail $vis: refused, logged"
	like "$(cat "$LOG")" 'to=<bob>.*folder=bob, store=' "cyrus: hostile detail $vis: RCPT bob"
done

# --- the rc decides (a user without an account: USERS_RC_DIR) ---------------------
printf '%s\n' 'LOG="bob.rc: DETAIL=$DETAIL 1=$1 PLUS_FOLDER=$PLUS_FOLDER' '"' ':0' 'Spam' >"$T/users/bob.rc"
chmod 644 "$T/users/bob.rc"
svc -d bob+lists
landed INBOX.Spam "cyrus: bob.rc delivers to Spam: the recipe wins over the detail"
like "$(cat "$LOG")" 'bob.rc: DETAIL=lists 1=lists PLUS_FOLDER=lists' "cyrus: bob.rc sees DETAIL, \$1, PLUS_FOLDER"
printf '%s\n' 'LOG="bob.rc ran' '"' >"$T/users/bob.rc"
svc -d bob+lists
landed INBOX.lists "cyrus: bob.rc delivers nothing: the detail's folder"
like "$(cat "$LOG")" 'bob.rc ran' "cyrus: ... and bob.rc ran"
svc -d bob
landed INBOX "cyrus: bob.rc, no detail: the INBOX"
chmod 666 "$T/users/bob.rc"
svc -d bob+lists
landed INBOX.lists "cyrus: bob.rc writable by others: not run, the detail decides"
like "$(cat "$LOG")" "rc $T/users/bob.rc: not run: .*group or world writable" "cyrus: ... logged"
ok "$(grep -q 'bob.rc ran' "$LOG"; [ $? = 1 ]; echo $?)" "cyrus: ... and it did not run"
chown nobody "$T/users/bob.rc"; chmod 644 "$T/users/bob.rc"
svc -d bob
like "$(cat "$LOG")" "not run: .*owned by uid" "cyrus: bob.rc owned by someone else: not run"
landed INBOX "cyrus: ... system rc alone, the INBOX"
rm -f "$T/users/bob.rc"
svc -d dave
landed dave:INBOX "cyrus: a user without an account and without an rc file: the INBOX"
: >"$LOG"; st=0
predicted "$T/m" runuser -u $SVC -- "$LDA" --config "$T/sys.rc" LOGFILE="$LOG" -d $NX
is "$st" 67 "no STORE: a user without an account is unknown (67)"
landed none "no STORE"

# --- bulletin boards -------------------------------------------------------------
printf '%s\n' 'LOG="BB RC RAN' '"' ':0' 'Spam' >"$T/users/bb.rc"
chmod 644 "$T/users/bb.rc"
svc -a bulletin -d bb
is "$st" 0 "cyrus: -a bulletin -d bb: exit 0"
landed bulletin "cyrus: a post to the shared folder bulletin"
like "$(cat "$LOG")" 'folder=bb\+bulletin, store=.*status=sent' "cyrus: RCPT bb+bulletin"
ok "$(grep -q 'BB RC RAN' "$LOG"; [ $? = 1 ]; echo $?)" "cyrus: bb has an rc file, and a post does not run it"
RECIPIENT=bb+bulletin@example.org svc
landed bulletin "cyrus: RECIPIENT=bb+bulletin, no -d"
svc -d bb+nosuchboard
is "$st" 67 "cyrus: a board that does not exist: 67"
like "$out" '^5\.1\.1 ' "cyrus: the status line is the store's 5.1.1"
landed none "cyrus: missing board"
ok "$(grep -q 'to the INBOX instead' "$LOG"; [ $? = 1 ]; echo $?)" "cyrus: a refused post does not fall back to an INBOX"
SYSRC=$T/nopost.rc svc -d +bulletin
like "$(cat "$LOG")" 'folder=\+bulletin, store=' \
	"cyrus: POSTUSER empty: +bulletin goes to the store as +bulletin"
is "$st" 67 "cyrus: ... which this Cyrus (postuser bb) refuses: 67"
landed none "cyrus: POSTUSER empty, +bulletin"
svc -d bb
is "$st" 67 "cyrus: bb without a detail is a user Cyrus does not have: 67"
ok "$(grep -q 'BB RC RAN' "$LOG"; echo $?)" "cyrus: ... and then bb.rc ran (no post)"
landed none "cyrus: bare bb"

# --- Dovecot --------------------------------------------------------------------------
if [ $DOVECOT = yes ]; then
	STORE_SPEC=lmtp:unix:$DOVECOT_LMTP_SOCK
	md() { echo "${DOVECOT_MAIL//%u/$1}"; }
	dsnap() { find "$(md bob)" "$(md dave)" -path '*/new/*' -type f | sort >"$T/dsnap"; }
	dlanded() { # dlanded DIR NAME: one new file, in DIR/new, none elsewhere
		local new; new=$(find "$(md bob)" "$(md dave)" -path '*/new/*' -type f | sort |
			comm -13 "$T/dsnap" -)
		is "$(echo "$new" | grep -c .) $(echo "$new" | sed 's#/new/[^/]*$##' | sort -u)" \
			"1 $1" "$2: one new message, in ${1#$DD/}"
		dsnap
	}
	dsnap
	svc -d bob+lists.linux
	is "$st" 0 "dovecot: bob+lists.linux: exit 0"
	dlanded "$(md bob)/.lists.linux" "dovecot: bob+lists.linux"
	svc -d bob+nosuch
	dlanded "$(md bob)" "dovecot: a missing folder: Dovecot files it in the INBOX"
	svc -d bob+a.b.c
	dlanded "$(md bob)" "dovecot: nested a.b.c, missing: the INBOX"
	svc -a ../x -d bob
	dlanded "$(md bob)" "dovecot: hostile ../x: the INBOX"
	like "$(cat "$LOG")" 'detail "\.\./x" refused' "dovecot: ... refused by lda"
	like "$(cat "$LOG")" 'to=<bob>.*folder=bob, store=' "dovecot: ... RCPT bob"
	svc RCPT_DOWNCASE=yes -d BOB+Spam
	dlanded "$(md bob)/.Spam" "dovecot: BOB+Spam with RCPT_DOWNCASE"
	printf '%s\n' ':0' 'lists/' >"$T/users/bob.rc"; chmod 644 "$T/users/bob.rc"
	svc -d bob+Spam
	dlanded "$(md bob)/.lists" "dovecot: bob.rc's recipe wins over the detail"
	rm -f "$T/users/bob.rc"
	svc -d dave+Spam
	dlanded "$(md dave)" "dovecot: dave has no Spam: the INBOX"
else
	skip_part "dovecot-lmtpd not installed: the Dovecot half"
fi

done_testing

#!/usr/bin/env bash
# addr-maildir.t - addressing on a local Maildir store: plus-address
# subfolders (bob+lists.linux -> Maildir++ .lists.linux/), the detail from
# -a, -d, EXTENSION and RECIPIENT, folders that are missing (AUTOCREATE),
# nested, hostile details, the user part in another case, the rc deciding
# (a delivering recipe wins; DETAIL, $1 and PLUS_FOLDER), bulletin boards
# under BOARD_ROOT (with and without POSTUSER, group permissions, a user
# rc that must not run, a board that does not exist) and recipients
# without an account (67 without STORE). Every case checks where the
# message landed and that it landed once, and nowhere else.
# lda runs as root with -d (it becomes the user) and as a service user.
# Needs root; about 5 s.
. "$LDA_TOP/tests/integration/lib.sh"

if [ "$(id -u)" != 0 ]; then skip_all "needs root"; fi
export LC_ALL=C		# sort and comm agree on one order

test_user U bob && test_user BB bb && test_user SVC svc ||
	{ echo "Bail out! cannot make test users"; exit 1; }
test_group G board || { echo "Bail out! cannot make a test group"; exit 1; }
_acct usermod -aG $G $BB && _acct usermod -aG $G $SVC
UH=$(getent passwd $U | cut -d: -f6) BH=$(getent passwd $BB | cut -d: -f6)
rm -f "$UH/.procmailrc" "$UH/.ldarc" "$BH/.procmailrc" "$BH/.ldarc"
at_exit "rm -f '$UH/.procmailrc' '$BH/.procmailrc'"

LOG=$T/log; : >"$LOG"; chmod 666 "$LOG"
MD=$T/md-$U			# bob's Maildir (the system rc's MAILDIR)
mkmd() { local d; for d in "$@"; do mkdir -p "$d/new" "$d/cur" "$d/tmp"; done; }
mkmd "$MD" "$MD/.lists.linux" "$MD/.lists" "$MD/.a.b.c" "$MD/.Lists" \
	"$MD/.caf&AOk-" "$MD/.won" "$T/md-$BB"
chown -R $U "$MD"; chown -R $BB "$T/md-$BB"
B=$T/boards
mkmd "$B/general" "$B/comp.lang.c"
chgrp -R $G "$B/general" "$B/comp.lang.c"
chmod 2770 "$B/general" "$B"/general/* "$B/comp.lang.c" "$B"/comp.lang.c/*

sysrc() { # sysrc FILE [POSTUSER-line]: the system rc
	cat >"$1" <<EOF
MAILDIR=$T/md-\$LOGNAME
DEFAULT=\$MAILDIR/
LOGFILE=$LOG
FILTERS="bboard plusaddr"
BOARD_ROOT=$B
${2-POSTUSER=$BB}
EOF
	chmod 644 "$1"
}
sysrc "$T/sys.rc"
sysrc "$T/nopost.rc" ""

IN=$T/m; msg "$IN" addr; chmod 644 "$IN"
# lda_as USER ARGS...: lda as USER (root: as is), exit in $st, stdout in
# $out; the system rc is $T/sys.rc, or $SYSRC when set
lda_as() {
	local u=$1; shift
	: >"$LOG"
	st=0
	# each case also checks that lda --test predicted it (lib.sh)
	if [ "$u" = root ]; then predicted "$IN" "$LDA" --config "${SYSRC:-$T/sys.rc}" "$@"
	else predicted "$IN" runuser -u "$u" -- "$LDA" --config "${SYSRC:-$T/sys.rc}" "$@"; fi
}
d() { lda_as root "$@"; }
# snap: every message file under $T, for "landed once, nowhere else"
snap() { find "$T" -path "$T/md-*" -o -path "$B/*" | grep '/new/' | sort >"$T/snap"; }
# landed DIR NAME: exactly one new message, in DIR/new, and nowhere else
landed() {
	local now new
	now=$(find "$T" -path "$T/md-*" -o -path "$B/*" | grep '/new/' | sort)
	new=$(comm -13 "$T/snap" <(echo "$now") | grep .)
	is "$new" "$(echo "$new" | grep "^$1/new/")" "$2: landed in ${1#$T/}"
	is "$(echo "$new" | grep -c .)" 1 "$2: exactly one copy"
	[ -z "$new" ] || cmp -s "$(echo "$new" | head -n 1)" "$IN" ||
		{ ok 1 "$2: body byte for byte"; return; }
	ok 0 "$2: the message byte for byte"
	snap
}
nothing() { # nothing NAME: no new message anywhere
	local now; now=$(find "$T" -path "$T/md-*" -o -path "$B/*" | grep '/new/' | sort)
	is "$(comm -13 "$T/snap" <(echo "$now") | grep -c .)" 0 "$1: delivered nowhere"
}
snap

# --- where the detail comes from ------------------------------------------
d -a lists.linux -d $U
is "$st" 0 "-a lists.linux -d bob: exit 0"
landed "$MD/.lists.linux" "-a (sendmail's \$h)"
d -d $U+lists.linux
landed "$MD/.lists.linux" "-d bob+lists.linux"
EXTENSION=lists d -d $U
landed "$MD/.lists" "EXTENSION (postfix)"
RECIPIENT=$U+lists@example.org d -d $U
landed "$MD/.lists" "RECIPIENT's local part split at +"
d RCPT_DELIMITER=-+ -d $U-lists
landed "$MD/.lists" "RCPT_DELIMITER with several delimiters"
d -a "" -d $U+lists
landed "$MD" "an empty -a: the MTA says there is no detail"

# --- folders that exist, are missing, nested ---------------------------------
d -d $U+nosuch
is "$st" 0 "missing folder: exit 0"
landed "$MD" "missing folder: the INBOX"
like "$(cat "$LOG")" "plusaddr: no folder $MD/\\.nosuch/; to DEFAULT" "missing folder: logged"
ok "$([ ! -e "$MD/.nosuch" ]; echo $?)" "missing folder: not created without AUTOCREATE"
d AUTOCREATE=yes -d $U+made.here
landed "$MD/.made.here" "AUTOCREATE=yes: the folder is made"
ok "$([ -f "$MD/.made.here/maildirfolder" ] && [ "$(stat -c %U "$MD/.made.here")" = $U ]; echo $?)" \
	"AUTOCREATE: a Maildir++ folder (maildirfolder), the user's"
d -d $U+a.b.c
landed "$MD/.a.b.c" "nested a.b.c"
d -d $U+a/b/c
landed "$MD/.a.b.c" "nested a/b/c: '/' descends as '.' does"
d -d $U+INBOX
landed "$MD" "bob+INBOX is the INBOX"

# --- hostile details: all to the INBOX, logged, nothing made -------------------
long=$(head -c 300 /dev/zero | tr '\0' x)
for h in "../x" "/etc" "." ".." "$long" "$(printf 'a\001b')" "$(printf 'x\ny')" \
	"$(printf 'caf\351')" "lists..linux" "lists/" "$(printf '\033[2J')"; do
	vis=$(printf '%q' "$h" | cut -c1-30)
	d -a "$h" -d $U
	is "$st" 0 "hostile detail $vis: exit 0"
	landed "$MD" "hostile detail $vis: the INBOX"
	like "$(cat "$LOG")" 'plusaddr: detail ".*" refused \(' "hostile detail $vis: refused, logged"
done
like "$(cat "$LOG")" 'detail "(\\00[0-9])*\\033\[2J" refused' "a control byte is shown escaped in the log"
ok "$([ -z "$(find "$T" "$UH" /etc -maxdepth 2 -newer "$T/snap" -name 'x' 2>/dev/null)" ]; echo $?)" \
	"hostile details: no file or directory made outside the folders"
is "$(ls -A "$MD" | sort | tr '\n' ' ')" ".Lists .a.b.c .caf&AOk- .lists .lists.linux .made.here .won cur new tmp " \
	"hostile details: no new folder in the Maildir"
d -d "$U+"
landed "$MD" "an empty detail (bob+): the INBOX"
d -d "$U+$(printf 'caf\303\251')"
landed "$MD/.caf&AOk-" "8-bit UTF-8 detail: the modified UTF-7 folder"
d -d "$U+Tom & Jerry"
landed "$MD" "a detail with blanks and &: mapped (Tom_&-_Jerry), missing, INBOX"
like "$(cat "$LOG")" "no folder $MD/\\.Tom_&-_Jerry/" "the mapped name is the one looked for"

# --- the user part in another case; the folder keeps its case ------------------
d RCPT_DOWNCASE=yes -d ${U^^}+Lists
is "$st" 0 "RCPT_DOWNCASE=yes, ${U^^}+Lists: exit 0"
landed "$MD/.Lists" "${U^^}+Lists: bob's folder Lists (case kept)"
d -d ${U^^}+Lists
is "$st" 67 "without RCPT_DOWNCASE, ${U^^} is nobody: 67"
nothing "${U^^} without RCPT_DOWNCASE"

# --- the rc still decides ------------------------------------------------------
printf '%s\n' 'LOG="user rc: DETAIL=$DETAIL 1=$1 PLUS_FOLDER=$PLUS_FOLDER' '"' \
	':0' '$MAILDIR/.won/' >"$UH/.procmailrc"
chown $U "$UH/.procmailrc"; chmod 644 "$UH/.procmailrc"
d -d $U+lists.linux
landed "$MD/.won" "a delivering recipe wins over the detail"
like "$(cat "$LOG")" "user rc: DETAIL=lists.linux 1=lists.linux PLUS_FOLDER=$MD/.lists.linux/" \
	"the user rc sees DETAIL, \$1 and PLUS_FOLDER"
printf '%s\n' 'MAILDIR=$MAILDIR' 'DEFAULT=$MAILDIR/' >"$UH/.procmailrc"
d -d $U+lists.linux
landed "$MD/.lists.linux" "a user rc that sets DEFAULT=\$MAILDIR/ and delivers nothing: the detail's folder"
printf '%s\n' 'DETAIL=lists' >"$UH/.procmailrc"
d -d $U+lists.linux
landed "$MD/.lists" "the user rc may change DETAIL"
printf '%s\n' 'DEFAULT=$MAILDIR/mbox' >"$UH/.procmailrc"
d -d $U+lists.linux
ok "$([ -s "$MD/mbox" ]; echo $?)" "DEFAULT an mbox: no Maildir++ folder below it, the mbox"
nothing "DEFAULT an mbox (no Maildir copy)"
rm -f "$UH/.procmailrc" "$MD/mbox"
lda_as $U -d $U+lists
landed "$MD/.lists" "lda run as the user itself (postfix mailbox_command)"
RECIPIENT=$U+lists.linux@example.org lda_as $U
landed "$MD/.lists.linux" "as the user, no -d: RECIPIENT gives the detail"

# --- bulletin boards --------------------------------------------------------------
printf '%s\n' 'LOG="USER RC RAN' '"' ':0' '$MAILDIR/' >"$BH/.procmailrc"
chown $BB "$BH/.procmailrc"; chmod 644 "$BH/.procmailrc"
d -a general -d $BB
is "$st" 0 "-a general -d bb (root): exit 0"
landed "$B/general" "board post"
f=$(ls "$B"/general/new/* | head -n 1)
is "$(stat -c '%a %G' "$f")" "660 $G" "the post has the board's group and group permissions"
ok "$(grep -q 'USER RC RAN' "$LOG"; [ $? = 1 ]; echo $?)" "a board post does not run bb's rc"
d -d $BB+comp.lang.c
landed "$B/comp.lang.c" "nested board comp.lang.c"
d -d $BB+nosuch
is "$st" 67 "a board that does not exist: 67"
like "$out" '^5\.1\.1 [^ ]+: filter bboard: no board nosuch' "the status line names the recipient, the filter and the reason"
nothing "missing board"
d -d $BB+../general
is "$st" 67 "a hostile board name: 67"
nothing "hostile board name"
d -d $BB
landed "$T/md-$BB" "bb without a detail is a user like any other (its rc runs)"
ok "$(grep -q 'USER RC RAN' "$LOG"; echo $?)" "... and its rc ran"
lda_as $SVC -a general -d $BB
is "$st" 0 "service user, -a general -d bb: exit 0"
landed "$B/general" "board post by the service user"
RECIPIENT=$BB+general@example.org lda_as $BB
landed "$B/general" "as bb itself (mailbox_command), RECIPIENT=bb+general, no -d"
ok "$(grep -q 'USER RC RAN' "$LOG"; [ $? = 1 ]; echo $?)" "... and bb's rc did not run"
SYSRC=$T/nopost.rc lda_as $SVC -d +general
is "$st" 0 "POSTUSER empty, service user: -d +general: exit 0"
landed "$B/general" "POSTUSER empty: +general is a post"
SYSRC=$T/nopost.rc lda_as root -d $BB+general
landed "$T/md-$BB" "POSTUSER empty: bb+general is bb's own (plus folder missing: INBOX)"
RECIPIENT=+general@example.org SYSRC=$T/nopost.rc lda_as $SVC
landed "$B/general" "POSTUSER empty, service user, no -d: RECIPIENT=+general"
chmod 2750 "$B/general/new"
d -a general -d $BB
is "$st" 75 "a board that cannot be written: 75"
nothing "unwritable board: no copy anywhere (no rc, no DEFAULT)"
ok "$(grep -q 'USER RC RAN' "$LOG"; [ $? = 1 ]; echo $?)" "unwritable board: bb's rc did not run either"
chmod 2770 "$B/general/new"

# --- recipients without an account ----------------------------------------------
lda_as $SVC -d addrnosuch
is "$st" 67 "service user, a recipient without an account, no STORE: 67"
like "$(cat "$LOG")" 'to=<addrnosuch>, status=bounced \(no such user, and no STORE' "... logged"
nothing "no account, no STORE"
d -d addrnosuch
is "$st" 67 "root, a recipient without an account: 67"

done_testing

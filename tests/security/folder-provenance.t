#!/usr/bin/env bash
# folder-provenance.t - issue 11 point 2: a header or an address never
# chooses a path outside the user's folders. A folder name in which a
# leading "/", a word break, a ".." or a leading "." came from the message
# or the envelope ($MATCH, backquote output, $1 of -a, $DETAIL, variables
# assigned from them) is refused, and the message goes to DEFAULT; the
# same characters written in the rc text work as in procmail.
# Runs lda as root with -d (it becomes the user). About 2 s.
. "$LDA_TOP/tests/integration/lib.sh"

if [ "$(id -u)" != 0 ]; then skip_all "needs root"; fi
test_user U fold || { echo "Bail out! cannot make test user"; exit 1; }
UH=$(getent passwd $U | cut -d: -f6)
RC=$UH/.procmailrc
rm -rf "$UH/Mail" "$UH/.ldarc" "$RC" "$UH/.hidden" /tmp/lda-sec-elsewhere.$$
at_exit "rm -rf '$UH/Mail' '$RC' '$UH/.hidden' /tmp/lda-sec-elsewhere.$$"
runuser -u $U -- mkdir -p "$UH/Mail/INBOX/new" "$UH/Mail/INBOX/cur" "$UH/Mail/INBOX/tmp"
: >"$T/sys.rc"; chmod 644 "$T/sys.rc"

# rc BODY - the user's rc: MAILDIR and DEFAULT, then BODY
rc() {
	printf 'MAILDIR=$HOME/Mail\nDEFAULT=$MAILDIR/INBOX/\n%s\n' "$1" >"$RC"
	chown $U "$RC"; chmod 644 "$RC"
	cp "$RC" "$T/rc.before"
}
# mail HEADER [ARGS...] - deliver a message with HEADER to $U
mail() {
	local h=$1; shift
	printf 'From: a@example.org\nTo: %s\n%s\nSubject: t\n\nbody\n' $U "$h" >"$T/m"
	st=0
	"$LDA" --config "$T/sys.rc" "$@" -d $U <"$T/m" >"$T/out" 2>&1 || st=$?
}
inbox() { maildir_count "$UH/Mail/INBOX"; }
rc_intact() { cmp -s "$RC" "$T/rc.before"; echo $?; }

# 1. The proof of concept: an absolute path from X-Folder appends the
# message to the user's own rc (the next message runs its recipes).
rc ':0
* ^X-Folder: \/.*
$MATCH'
n=$(inbox)
mail "X-Folder: $RC"
is "$st" 0 "X-Folder: the user's rc: exit 0"
ok "$(rc_intact)" "an absolute path from \$MATCH: the rc file is not written"
is "$(inbox)" $((n + 1)) "... the message went to DEFAULT"

# 2. A leading "." from the message (MAILDIR's dotfiles: the rc itself
# when MAILDIR is HOME)
rc 'MAILDIR=$HOME
:0
* ^X-Folder: \/.*
$MATCH'
mail "X-Folder: .procmailrc"
ok "$(rc_intact)" "a name beginning with '.' from \$MATCH: the rc is not written"

# 3. A word break from the message makes a second folder anywhere.
rc ':0
* ^X-Folder: \/.*
.lists.$MATCH/'
n=$(inbox)
mail "X-Folder: x/ /tmp/lda-sec-elsewhere.$$/"
ok "$([ ! -e /tmp/lda-sec-elsewhere.$$ ]; echo $?)" "a blank in \$MATCH: no second folder elsewhere"
is "$(inbox)" $((n + 1)) "... the message went to DEFAULT"

# 4. ".." from the message
mail "X-Folder: ../../.hidden"
ok "$([ ! -e "$UH/.hidden" ]; echo $?)" "'..' from \$MATCH: nothing written outside MAILDIR"

# 5. A legitimate name from the message still works.
mail "X-Folder: linux"
is "$(maildir_count "$UH/Mail/.lists.linux")" 1 "\$MATCH = linux: .lists.linux/ (the rc's leading '.')"

# 6. Backquote output (it read the message) is the message's.
rc 'F=`sed -n "s/^X-Folder: //p"`
:0
$F'
mail "X-Folder: $RC"
ok "$(rc_intact)" "an absolute path from backquote output: refused"

# 7. The detail: $1 from -a, and $DETAIL
rc ':0
$1'
mail "X-A: b" -a "$RC"
ok "$(rc_intact)" "an absolute path in -a (\$1): refused"
rc ':0
$DETAIL'
mail "X-A: b" -a "$RC"
ok "$(rc_intact)" "an absolute path in the detail (\$DETAIL): refused"

# 8. A variable assigned from the message keeps its provenance.
rc ':0
* ^X-Folder: \/.*
{ F=$MATCH }
G="$F"
:0
$G'
mail "X-Folder: $RC"
ok "$(rc_intact)" "a variable assigned from \$MATCH, twice: refused"

# 9. INCLUDERC and LOGFILE from the message: an attacker's earlier
# message (appended to an mbox) is never run as an rc, no log line is
# appended to a file a header names.
printf ':0 c\n| touch %s/ran\n' "$UH" >"$T/evil.rc"; chmod 644 "$T/evil.rc"
rc ':0
* ^X-Folder: \/.*
{ INCLUDERC=$MATCH }'
mail "X-Folder: $T/evil.rc"
ok "$([ ! -e "$UH/ran" ]; echo $?)" "INCLUDERC from \$MATCH (an absolute path): not run"
rc ':0
* ^X-Folder: \/.*
{ LOGFILE=$MATCH }'
mail "X-Folder: $RC"
ok "$(rc_intact)" "LOGFILE from \$MATCH: the rc file is not written"

# 10. The rc text itself may name any path, as in procmail.
rc ':0
$HOME/Mail/../Mail/abs/'
mail "X-A: b"
is "$(maildir_count "$UH/Mail/abs")" 1 "an absolute path and '..' in the rc text: delivered"

done_testing

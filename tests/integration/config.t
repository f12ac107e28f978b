#!/usr/bin/env bash
# config.t - an administrator's mistakes are refused, never guessed
# around: an unreadable --config or rcfile, another program's option, an
# option after -d, a misspelt filter, a bad STORE each give exit 75 and
# the status line "4.3.5 ..." with the exact complaint, and nothing is
# delivered. The status line names the recipient and the failure that
# decided, once per run; a run that delivered a copy never exits with a
# code the MTA bounces on.
. "$LDA_TOP/tests/integration/lib.sh"

IN=$T/m1; msg "$IN" config
H=$T/home
mkdir -p "$H/Maildir"
: >"$T/empty.rc"

# run OUT ARGS... - lda as the MTA runs it; stdout to OUT, exit in $st
run() {
	local out=$1; shift
	st=0
	HOME=$H "$LDA" "$@" <"$IN" >"$out" 2>"$out.err" || st=$?
}
# refused NAME PATTERN - the last run was a 4.3.5 refusal whose one
# status line matches PATTERN, and nothing reached the Maildir
refused() {
	is "$st" 75 "$1: exit 75 (the MTA keeps the message)"
	like "$(head -n 1 "$T/o")" "^4\\.3\\.5 .*$2" "$1: the status line is 4.3.5 with the complaint"
	is "$(wc -l <"$T/o")" 1 "$1: one status line"
	is "$(maildir_count "$H/Maildir")" 0 "$1: nothing delivered"
}

# --- --config ---------------------------------------------------------------
run "$T/o" --config "$T/no-such.rc"
refused "--config missing" "no-such\\.rc.*No such file"
printf 'DEFAULT=%s/rel/\n' "$T" >"$T/rel.rc"
st=0; (cd "$T" && HOME=$H "$LDA" --config rel.rc <"$IN" >"$T/o" 2>&1) || st=$?
is "$st/$(maildir_count "$T/rel")" "0/1" "a relative --config is taken from the starting directory"

# --- an rcfile on the command line ------------------------------------------
run "$T/o" -m Spam -d dave
refused "lda -m Spam -d dave (Cyrus's -m mailbox)" "rcfile Spam.*mailbox"
run "$T/o" -p "$T/no-such-message"
refused "dovecot-lda's -p /path" "rcfile .*no-such-message"
run "$T/o" -p "$IN"
refused "dovecot-lda's -p naming a message that exists" "rcfile .* is a mail message"

# --- other programs' options ------------------------------------------------
for o in -e "-c /etc/dovecot/dovecot.conf" -k -l -q "-C /etc/imapd.conf"; do
	# shellcheck disable=SC2086
	run "$T/o" $o --config "$T/empty.rc"
	refused "option $o" "option ${o%% *} .*(dovecot-lda|Cyrus deliver)"
done
run "$T/o" -o mail_location=maildir:~/Mail --config "$T/empty.rc"
refused "dovecot-lda's -o key=value" "dovecot-lda"
run "$T/o" -x --config "$T/empty.rc"
refused "an unknown option" "unknown option -x"

# --- an option after -d -------------------------------------------------------
run "$T/o" -d "$(id -un)" --config "$T/empty.rc"
refused "-d user --config x" "option after -d.*--config"
run "$T/o" -d "$(id -un)" DEFAULT=/tmp/x
refused "-d user VAR=value" "assignment after -d"

# --- a misspelt filter --------------------------------------------------------
printf '# system rc\nFILTERS="spamasassin"\n' >"$T/f.rc"
run "$T/o" --config "$T/f.rc"
refused "FILTERS=spamasassin" "f\\.rc:2: FILTERS: .*spamasassin"
printf ':0 fw\n| @spamasassin\n' >"$T/fr.rc"
run "$T/o" --config "$T/empty.rc" DEFAULT="$H/Maildir/" "$T/fr.rc"
refused "| @spamasassin" "fr\\.rc:2: .*spamasassin"
st=0; "$LDA" --check "$T/fr.rc" >"$T/c" 2>&1 || st=$?
like "$(cat "$T/c")" "fr\\.rc:2: .*spamasassin" "--check reports | @spamasassin with file:line"
st=0; "$LDA" --check "$T/f.rc" >"$T/c" 2>&1 || st=$?
like "$(cat "$T/c")" "f\\.rc:2: .*spamasassin" "--check reports FILTERS=spamasassin with file:line"
ok $([ "$st" != 0 ]; echo $?) "... and exits non-zero"

# --- --check: what it used to miss ---------------------------------------------
printf 'LOCKED_VARS="STORE"\n' >"$T/lock.rc"
printf ':0\n* < abc\n/dev/null\n\n:0\n!\n\nSTORE=lmtp:unix:/x\n\n:0\n{\n:0\n/dev/null\n' >"$T/gaps.rc"
st=0; "$LDA" --check "$T/gaps.rc" --config "$T/lock.rc" >"$T/c" 2>&1 || st=$?
like "$(cat "$T/c")" "gaps\.rc:11: error: missing '}'" "--check: a missing } is reported at the opening { line"
like "$(cat "$T/c")" "gaps\.rc:2: error: .*not a number: abc" "--check: * < abc is not a number"
like "$(cat "$T/c")" "gaps\.rc:6: error: .*no address" "--check: an empty ! forward is flagged"
like "$(cat "$T/c")" "gaps\.rc:8: error: STORE is locked" "--check: an assignment to a locked variable names it"
is "$st" 65 "--check: errors exit 65"

# --- --check: false alarms on real rc files, and real bugs (issue 14.8) -------
printf ':0 # a comment, as in procmail\n* -100^0\n* $ $MATCH^0\n/dev/null\n' >"$T/real.rc"
st=0; "$LDA" --check "$T/real.rc" >"$T/c" 2>&1 || st=$?
unlike "$(cat "$T/c")" "unknown flag" "--check: \":0 # comment\" is no unknown flag"
unlike "$(cat "$T/c")" "never match" "--check: \"* \$ \$MATCH^0\" is weighed at run time"
like "$(cat "$T/c")" "0 errors, 0 warnings" "--check: a clean real rc has no findings"
printf 'FOO\n:0 w\n| (formail -r)\n\n:0\n* ^From:.*$SENDER\n/dev/null\n' >"$T/bugs.rc"
st=0; "$LDA" --check "$T/bugs.rc" >"$T/c" 2>&1 || st=$?
like "$(cat "$T/c")" "bugs\.rc:1: warning: \"FOO\" alone on a line unsets FOO" "--check: a bare word that unsets a variable"
like "$(cat "$T/c")" "bugs\.rc:3: warning: \"\(\" is not in SHELLMETAS" "--check: | (cmd) runs no subshell"
like "$(cat "$T/c")" "bugs\.rc:6: warning: a variable in a regex without the \\$ modifier" "--check: \$VAR in a regex without *\$"
printf 'FORMAIL=/usr/bin/formail\n:0 fw\n| $FORMAIL -r\n:0 fw\n| $FORMAILX -r\n:0 w\n| ${CMD:-cat} x\n:0 w\n| $SENDMAIL x\n' >"$T/unset.rc"
st=0; "$LDA" --check "$T/unset.rc" >"$T/c" 2>&1 || st=$?
like "$(cat "$T/c")" "unset\.rc:5: warning: \\\$FORMAILX is not assigned" "--check: | \$UNSET args names no program"
like "$(cat "$T/c")" "0 errors, 1 warning\$" "--check: ... an assigned, a default or a preset variable is fine"
printf 'SHELLMETAS="&|<>~;?*[("\n:0 w\n| (formail -r)\n' >"$T/metas.rc"
st=0; "$LDA" --check "$T/metas.rc" >"$T/c" 2>&1 || st=$?
like "$(cat "$T/c")" "0 errors, 0 warnings" "--check: | (cmd) is fine once SHELLMETAS is set"

# --- --check: unbalanced parentheses run as in procmail, with a warning (14.7) --
printf ':0\n* ^Subject:.*(report\n/dev/null\n' >"$T/paren.rc"
st=0; "$LDA" --check "$T/paren.rc" >"$T/c" 2>&1 || st=$?
like "$(cat "$T/c")" "paren\.rc:2: warning: invalid regex .*missing \) for the \(" "--check: an unbalanced ( is a warning"
is "$st" 0 "--check: ... not an error (the recipe runs, as in procmail)"

# --- --help: one line per option -----------------------------------------------
"$LDA" --help >"$T/h" 2>&1
for o in -d -f -a -m -p -t -o -Y --config --store --check --test --version --help; do
	like "$(cat "$T/h")" "^  $o " "--help: a line for $o"
done
like "$(grep -E '^  -(t|o|Y) ' "$T/h" | grep -c 'ignored')" '^3$' "--help: -t -o -Y say they are accepted and ignored"

# --- STORE -------------------------------------------------------------------
run "$T/o" --config "$T/empty.rc" --store unix:/x
refused "--store unix:/x" "unix:/x.*lmtp:unix"
printf 'STORE=unix:/x\n' >"$T/s.rc"
run "$T/o" --config "$T/s.rc"
refused "STORE=unix:/x in the system rc" "unix:/x.*lmtp:unix"

# --- the status line: the failure that decided, named -------------------------
mkdir -p "$T/ro"
printf 'DEFAULT=%s/ro/md/\nORGMAIL=%s/no/such/dir/mbox\n' "$T" "$T" >"$T/d.rc"
mkdir -p "$T/ro/md/new" "$T/ro/md/cur"	# no tmp/, and it cannot be made
chmod 555 "$T/ro/md"
if [ "$(id -u)" = 0 ]; then
	test_user U1 one || { echo "Bail out! cannot make a test user"; exit 1; }
	chown -R $U1: "$T/ro"
	st=0; "$LDA" --config "$T/d.rc" -d $U1 <"$IN" >"$T/o" 2>"$T/o.err" || st=$?
else
	run "$T/o" --config "$T/d.rc"
fi
is "$st" 75 "DEFAULT and ORGMAIL both fail: 75"
like "$(head -n 1 "$T/o")" "^4\\.[0-9]\\.[0-9] [a-z0-9]+: .*ro/md.*(Permission denied|Read-only)" \
	"the status line names the recipient and DEFAULT's failure with its errno"
unlike "$(head -n 1 "$T/o")" "no/such/dir" "... not the ORGMAIL fallback's"
chmod 755 "$T/ro/md"

# a full disk on DEFAULT (a file size limit stands in for it: EFBIG; the
# mbox copy outgrows the spool by its quoted "From " lines), and an ORGMAIL
# that cannot be made either: the status line is DEFAULT's error
{ printf 'Subject: big\n\n'; yes 'From x' | head -n 140000; } >"$T/big"
: >"$T/none.rc"
st=0; (ulimit -f 1024; exec "$LDA" -m DEFAULT="$T/full.mbox" ORGMAIL="$T/no/such/dir/mbox" "$T/none.rc" <"$T/big" >"$T/o" 2>"$T/o.err") || st=$?
is "$st" 75 "DEFAULT hits the file size limit, ORGMAIL cannot be made: 75"
like "$(head -n 1 "$T/o")" "^4\\.[0-9]\\.[0-9] [^ ]+: .*full\\.mbox.*File too large" \
	"... the status line is DEFAULT's File too large, with the folder"
unlike "$(head -n 1 "$T/o")" "no/such/dir" "... not ORGMAIL's error"

printf ':0 c\n{\n:0\n%s/nodir/a/\n}\n' "$T" >"$T/clone.rc"
run "$T/o" -m DEFAULT="$T/nodir2/x/mbox" ORGMAIL="$T/nodir3/mbox" "$T/clone.rc"
is "$st" 75 "a \"c {\" clone, the recipe, DEFAULT and ORGMAIL all fail: 75"
is "$(wc -l <"$T/o")" 1 "... one status line for the clone and its parent"
like "$(head -n 1 "$T/o")" "^4\\.[0-9]\\.[0-9] [^ ]+: .*nodir2/x/mbox" \
	"... naming DEFAULT's failure, not the recipe's that fell through to it"

if [ "$(id -u)" = 0 ]; then
	h1=$(getent passwd $U1 | cut -d: -f6)
	rm -rf "$h1/Maildir" "$h1/.procmailrc" "$h1/.ldarc"
	mkdir -p "$h1/Maildir" && chown $U1: "$h1/Maildir"
	# Maildirs by the README's system rc line (DEFAULT is $ORGMAIL by default)
	printf '%s\n' 'DEFAULT=$HOME/Maildir/' >"$T/home-md.rc"; chmod 644 "$T/home-md.rc"
	st=0; "$LDA" --config "$T/home-md.rc" -d $U1 no-such-user-lda <"$IN" >"$T/o" 2>"$T/o.err" || st=$?
	is "$(maildir_count "$h1/Maildir")" 1 "root -d u1 unknown: u1 got its copy"
	is "$st" 75 "... and the run does not exit 67: a bounce would deny u1's copy"
	like "$(head -n 1 "$T/o")" "^4\\.1\\.1 no-such-user-lda: user unknown.*copy was delivered" \
		"... the status line names the unknown user and why it is not a bounce"
	is "$(wc -l <"$T/o")" 1 "root -d with two recipients: one status line"
	# a system rc the recipient cannot read (root's 0600): refused, not skipped
	printf 'DEFAULT=%s/never/\n' "$T" >"$T/secret.rc"; chmod 600 "$T/secret.rc"
	st=0; "$LDA" --config "$T/secret.rc" -d $U1 <"$IN" >"$T/o" 2>"$T/o.err" || st=$?
	is "$st" 75 "root -d: a --config the recipient cannot read: 75"
	like "$(head -n 1 "$T/o")" "^4\\.3\\.5 $U1: cannot read .*secret\\.rc: Permission denied" \
		"... status 4.3.5 naming the recipient, the file and the error"
	is "$(maildir_count "$h1/Maildir")" 1 "... and nothing more was delivered"
	rm -rf "$h1/Maildir"
else
	skip_part "not root: root's -d recipients"
fi

done_testing

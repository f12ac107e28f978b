#!/usr/bin/env bash
# loop.t - loop protection: a copy lda forwards ("! address") carries
# "Delivered-To: <recipient>" first, and a message that comes back to lda
# for the same recipient with that field is refused with 5.4.6 (exit 69),
# as postfix's local(8) refuses one with its own; not under -m (procmail's
# mailfilter mode, which must forward exactly what procmail does). The MTA
# here is a recorder in SENDMAIL that hands the forwarded copy straight
# back to lda for the same user (the loop), stopping itself after 5 rounds;
# like every MTA it puts its Received: above what it was given.
. "$LDA_TOP/tests/integration/lib.sh"

if [ "$(id -u)" != 0 ]; then skip_all "needs root"; fi
test_user U lp || { echo "Bail out! cannot make a test user"; exit 1; }
mkdir -p "$T/md" "$T/sent"; chown "$U" "$T/md" "$T/sent"

# the "MTA": record the copy, deliver it back to lda for $U, record that
# run's exit code and status line; at most 5 rounds
cat >"$T/sendmail" <<EOF
#!/bin/sh
n=\$(ls "$T/sent" | grep -c '^copy' || true); n=\$((n + 1))
cat >"$T/sent/copy.\$n"
[ \$n -ge 5 ] && exit 0
st=0
{ echo "Received: by mta.example.org (test MTA) id \$n"; cat "$T/sent/copy.\$n"; } >"$T/sent/in.\$n"
"$LDA" --config "$T/sys.rc" <"$T/sent/in.\$n" >"$T/sent/status.\$n" 2>/dev/null || st=\$?
echo \$st >"$T/sent/exit.\$n"
exit 0
EOF
chmod 755 "$T/sendmail"
printf 'SENDMAIL=%s\nDEFAULT=%s/md/\n:0c\n! %s@example.org\n' "$T/sendmail" "$T" "$U" >"$T/sys.rc"
chmod 644 "$T/sys.rc"

# deliver IN [ARGS]: lda as $U (as an MTA runs a user's mailbox command)
deliver() {
	local in=$1; shift
	rm -f "$T/sent"/*; find "$T/md" -type f -delete 2>/dev/null || true
	st=0; out=$(runuser -u "$U" -- "$LDA" "$@" <"$in" 2>/dev/null) || st=$?
}
inbox() { find "$T/md/new" "$T/md/cur" -type f 2>/dev/null | wc -l | tr -d ' '; }
msg "$T/m" loop

deliver "$T/m" --config "$T/sys.rc"
is "$st" 0 "a message forwarded to an address that comes back: exit 0"
is "$(ls "$T/sent" | grep -c '^copy')" 1 "the forward came back once, and no more"
is "$(head -n 1 "$T/sent/copy.1")" "Delivered-To: $U" "the forwarded copy begins with our Delivered-To:"
cp "$T/sent/copy.1" "$T/marked"
is "$(cat "$T/sent/exit.1" 2>/dev/null)" 69 "the copy that came back: 69"
like "$(cat "$T/sent/status.1" 2>/dev/null)" "^5\\.4\\.6 $U: mail forwarding loop" "its status line: 5.4.6"
is "$(inbox)" 1 "one copy in the mailbox (the first run's), not one per round"

# the field, not the words: other recipients' and the MTA's own are no loop
printf 'Delivered-To: someone-else@example.org\nDelivered-To: %s@mail.example.org\n' "$U" | cat - "$T/m" >"$T/other"
printf ':0\n%s/md/\n' "$T" >"$T/plain.rc"; chmod 644 "$T/plain.rc"
deliver "$T/other" --config "$T/plain.rc"
is "$st" 0 "Delivered-To: for another address (the MTA's own $U@host): delivered"
is "$(inbox)" 1 "and it is in the mailbox"
printf 'Received: by mta.example.org\nX-Test: 1\nDelivered-To:\n  <%s>\n' "$(echo "$U" | tr a-z A-Z)" | cat - "$T/m" >"$T/ours"
deliver "$T/ours" --config "$T/plain.rc"
is "$st" 69 "our Delivered-To: in another case, folded, in <>: a loop (69)"
like "$out" "^5\\.4\\.6 $U: mail forwarding loop \\(the message has our Delivered-To: $U\\)" \
	"the status line says so"
is "$(inbox)" 0 "nothing delivered"

# the delivering MTA's own field for this delivery, above every Received:
# (postfix pipe flags=D with -d ${recipient}): no loop, delivered
printf 'Delivered-To: %s\n' "$U" | cat - "$T/m" >"$T/dflag"
deliver "$T/dflag" --config "$T/plain.rc"
is "$st" 0 "the MTA's Delivered-To: for this delivery (pipe flags=D), above every Received: delivered"
is "$(inbox)" 1 "and it is in the mailbox"
# -m (procmail's mailfilter): the forward is procmail's, unmarked
deliver "$T/m" -m "$T/sys.rc"
is "$(head -n 1 "$T/sent/copy.1")" "$(head -n 1 "$T/m")" "under -m the forwarded copy is the message as it came"
is "$(tail -n +2 "$T/marked" | od -c)" "$(od -c <"$T/sent/copy.1")" \
	"the marked copy is the unmarked one after its first line"

done_testing

#!/usr/bin/env bash
# filter-dedup.t - "| @dedup", formail -D's job without its loss (issue 14):
#   - a new Message-ID is delivered, and recorded only once the run
#     delivered; the same one again goes to /dev/null (exit 0) or to
#     DEDUP_FOLDER;
#   - under requeue: a run that fails (unwritable folder, 75) records
#     nothing, so the retry is delivered (once), and only then is a copy
#     that comes again a duplicate;
#   - the key is hostile input: a folded Message-ID that spells a cache
#     line is one escaped key, a key too long is not deduplicated;
#   - the cache keeps to DEDUP_SIZE (the newest keys stay), concurrent
#     runs for the same user keep every key once, a line cut short by a
#     kill is never a key;
#   - --test writes no cache; a malformed setting is 75, status 4.3.5.
# The differential cases 199-dedup-idiom-* show formail -D's own idiom
# under lda as under procmail (tests/rc/cases).
. "$LDA_TOP/tests/integration/lib.sh"

D=$T/mail
mkdir -p "$D"
C=$D/.lda-dedup
cat >"$T/rc" <<EOF
MAILDIR=$D
DEFAULT=$D/inbox/
:0
| @dedup
LOG="DEDUP=\$DEDUP
"
EOF

# mid ID [FILE]: a message with Message-ID ID in FILE ($T/m)
mid() {
	printf 'From: Alice <alice@example.org>\nTo: bob@example.org\nSubject: dedup\nMessage-ID: %s\n\nHello.\n' "$1" >"${2:-$T/m}"
}
# run [ARGS...]: lda -m on $T/rc with $T/m; exit code in $st, output in $T/o
run() {
	st=0
	"$LDA" -f alice@example.org "$@" -m "$T/rc" <"$T/m" >"$T/o" 2>&1 || st=$?
}

# --- new, then the same again -------------------------------------------------
mid '<one@example.org>'
run
is "$st" 0 "a new Message-ID: delivered, exit 0"
is "$(maildir_count "$D/inbox")" 1 "... into DEFAULT"
like "$(cat "$T/o")" 'DEDUP=new' "... DEDUP=new"
like "$(cat "$C")" '^[0-9]+ <one@example.org> \.$' "... and recorded after the delivery"
run
is "$st" 0 "the same Message-ID again: exit 0 (discarded, as formail -D's idiom)"
is "$(maildir_count "$D/inbox")" 1 "... nothing more in DEFAULT"
like "$(cat "$T/o")" 'folder=/dev/null.*status=discarded' "... to /dev/null, logged"
is "$(grep -c 'one@example' "$C")" 1 "... the key recorded once"
run DEDUP_FOLDER=dups/
is "$st" 0 "DEDUP_FOLDER=dups/: exit 0"
is "$(maildir_count "$D/dups")" 1 "... the duplicate kept in that folder"
mid '  <one@example.org>	'
run
is "$(maildir_count "$D/dups")$(maildir_count "$D/inbox")" 11 "blanks around the Message-ID do not make it new"

# --- requeue: a failed run records nothing, the retry is delivered once -------
mid '<two@example.org>'
# DEFAULT (and ORGMAIL) below a plain file: no user, root neither, can
# write there
mv "$D/inbox" "$D/inbox.away" && : >"$D/inbox"
run ORGMAIL=$D/inbox/
is "$st" 75 "a delivery that fails (DEFAULT and ORGMAIL unwritable): exit 75"
ok $(! grep -q 'two@example' "$C"; echo $?) "... and the key is not recorded"
rm -f "$D/inbox"; mv "$D/inbox.away" "$D/inbox"
run
is "$st" 0 "the MTA's retry: exit 0"
is "$(grep -l 'two@example' "$D"/inbox/new/* | wc -l)" 1 "... delivered (the cache did not eat the retry), once"
ok $(grep -q 'two@example' "$C"; echo $?) "... and now recorded"
run
is "$st$(grep -l 'two@example' "$D"/inbox/new/* | wc -l)" 01 "a real duplicate after it: exit 0, not delivered again"

# --- --test writes nothing ------------------------------------------------------
mid '<three@example.org>'
before=$(md5sum <"$C")
st=0; "$LDA" --test -f alice@example.org -m "$T/rc" <"$T/m" >"$T/o" 2>&1 || st=$?
is "$st" 0 "--test: exit 0"
is "$(md5sum <"$C")" "$before" "... the cache untouched"
mid '<one@example.org>'
st=0; "$LDA" --test -f alice@example.org -m "$T/rc" <"$T/m" >"$T/o" 2>&1 || st=$?
like "$(cat "$T/o")" '/dev/null' "--test says where a duplicate would go"

# --- hostile keys -----------------------------------------------------------------
# a folded Message-ID that spells a cache line for <victim>: one key
printf 'From: a@example.org\nSubject: x\nMessage-ID: <evil@x> .\n 1 <victim@example.org> .\n\nx\n' >"$T/m"
run
is "$st" 0 "a Message-ID that spells a cache line: delivered"
mid '<victim@example.org>'
run
like "$(cat "$T/o")" 'DEDUP=new' "... and <victim@example.org> is not taken for seen"
is "$(grep -c '^[0-9]* <victim@example.org> \.$' "$C")" 1 "... (recorded once, by its own delivery)"
mid "<$(head -c 1500 /dev/zero | tr '\0' a)@example.org>"
run; run
is "$st$(grep -c 'aaaa' "$C")" 00 "a Message-ID longer than 1000 bytes: not deduplicated, not recorded"
printf 'From: a@example.org\nSubject: no id\n\nx\n' >"$T/m"
run
like "$st $(cat "$T/o")" '^0 .*DEDUP=$' "no Message-ID: delivered, DEDUP empty"
# a line cut short by a kill (no " .") is never a key
printf '123 <cut@example.org>' >>"$C"
mid '<cut@example.org>'
run
like "$(cat "$T/o")" 'DEDUP=new' "a line cut short in the cache is no key"
like "$(tail -n 2 "$C" | head -n 1)" '^123 <cut@example.org>$' "... and the next record starts on a line of its own"

# --- DEDUP_KEY, DEDUP_SIZE ----------------------------------------------------------
printf 'From: a@example.org\nX-Id: k1\nMessage-ID: <k@x>\n\nx\n' >"$T/m"
run DEDUP_KEY=X-Id
like "$(cat "$C")" ' k1 \.' "DEDUP_KEY=X-Id: that field is the key"
run DEDUP_SIZE=4k DEDUP_CACHE=small
for i in $(seq 1 150); do mid "<size$i.$(head -c 20 /dev/zero | tr '\0' x)@example.org>"; run DEDUP_SIZE=4k DEDUP_CACHE=small; done
ok $([ "$(stat -c %s "$D/small")" -le 4096 ]; echo $?) "DEDUP_SIZE=4k: the cache stays within 4096 bytes ($(stat -c %s "$D/small"))"
ok $(grep -q '<size150\.' "$D/small" && ! grep -q '<size1\.' "$D/small"; echo $?) "... keeping the newest keys, the oldest gone"
is "$(ls "$D" | grep -c '^small\.')" 0 "... no temporary file left"
mid '<size150.xxxxxxxxxxxxxxxxxxxx@example.org>'
run DEDUP_SIZE=4k DEDUP_CACHE=small
like "$(cat "$T/o")" 'folder=/dev/null' "... and a kept key still finds its duplicate"
run DEDUP_SIZE=lots
is "$st" 75 "DEDUP_SIZE=lots: exit 75"
like "$(head -n 1 "$T/o")" '^4\.3\.5 .*DEDUP_SIZE' "... status 4.3.5 naming it"
run DEDUP_KEY='Bad:Name'
like "$st $(head -n 1 "$T/o")" '^75 4\.3\.5 .*DEDUP_KEY' "DEDUP_KEY with a colon: 75, 4.3.5"

# the cache is never a file a header names
cat >"$T/rc-taint" <<EOF
MAILDIR=$D
DEFAULT=$D/inbox/
:0
* ^Subject: \/.*
{ DEDUP_CACHE=\$MATCH }
:0
| @dedup
EOF
printf 'From: a@example.org\nSubject: evil-cache\nMessage-ID: <taint@x>\n\nx\n' >"$T/m"
st=0; "$LDA" -f alice@example.org -m "$T/rc-taint" <"$T/m" >"$T/o" 2>&1 || st=$?
like "$st $(head -n 1 "$T/o")" '^75 4\.3\.5 .*DEDUP_CACHE came from the message' "DEDUP_CACHE assigned from a header: 75, 4.3.5"
ok $([ ! -e "$D/evil-cache" ]; echo $?) "... and no such file made"

# ... nor one a header writes into the call's own arguments
cat >"$T/rc-targ" <<EOF
MAILDIR=$D
DEFAULT=$D/inbox/
:0
* ^Subject: \/.*
| @dedup DEDUP_CACHE=\$MATCH
EOF
printf 'From: a@example.org\nSubject: evil-arg\nMessage-ID: <targ@x>\n\nx\n' >"$T/m"
st=0; "$LDA" -f alice@example.org -m "$T/rc-targ" <"$T/m" >"$T/o" 2>&1 || st=$?
like "$st $(head -n 1 "$T/o")" '^75 4\.3\.5 .*DEDUP_CACHE takes bytes from the message' "DEDUP_CACHE=\$MATCH as an argument: 75, 4.3.5"
ok $([ ! -e "$D/evil-arg" ]; echo $?) "... and no such file made"

# --- concurrent runs for the same user --------------------------------------------
for i in $(seq 1 12); do mid "<par$i@example.org>" "$T/p$i"; done
pids=()
for i in $(seq 1 12); do
	"$LDA" -f alice@example.org DEDUP_SIZE=4k DEDUP_CACHE=par -m "$T/rc" <"$T/p$i" >/dev/null 2>&1 & pids+=($!)
	"$LDA" -f alice@example.org DEDUP_SIZE=4k DEDUP_CACHE=par -m "$T/rc" <"$T/p$i" >/dev/null 2>&1 & pids+=($!)
done
fails=0
for p in "${pids[@]}"; do wait "$p" || fails=$((fails + 1)); done
is "$fails" 0 "24 concurrent runs (12 messages, each twice): all exit 0"
is "$(grep -c '<par[0-9]*@example.org> \.$' "$D/par")" 12 "... every key recorded, each once"
is "$(grep -vc '^[0-9]* <par[0-9]*@example.org> \.$' "$D/par")" 0 "... and no other line in the cache"
n=$(grep -l '<par[0-9]*@example.org>' "$D"/inbox/new/* | wc -l)
ok $([ "$n" -ge 12 ] && [ "$n" -le 24 ]; echo $?) "... every message delivered at least once ($n copies of 12)"
done_testing

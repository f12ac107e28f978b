#!/usr/bin/env bash
# demo.t - `make demo` does what the README says: each sample message in
# tests/data/ lands in its folder through lda.rc.example, and the example
# rc is clean under --check.
. "$LDA_TOP/tests/integration/lib.sh"

out=$(sh "$LDA_TOP/tests/demo.sh" "$LDA" "$T/demo" 2>&1)
md=$T/demo/home/Maildir
for pair in 01-hello.eml:new 02-list.eml:.lists.linux-announce/new \
    03-spam.eml:.Spam/new 04-daemon.eml:.Bounces/new; do
	m=${pair%%:*} dir=${pair#*:}
	like "$out" "^$m +exit 0 -> .*Maildir/$dir/[^/]+$" "$m: exit 0, and the demo says where it went"
	id=$(sed -n 's/^Message-ID: //p' "$LDA_TOP/tests/data/$m")
	got=$(grep -l "^Message-ID: $id" "$md/$dir"/* 2>/dev/null | wc -l)
	is "$got" 1 "$m: in $dir, once"
done
is "$(find "$md" -type f | wc -l)" 4 "four messages, four files"
is "$(printf '%s\n' "$out" | wc -l)" 5 "the demo prints one line per message and the Maildir, nothing else (lda's log lines go to a file)" ||
	diag "$out"
f=$(grep -l 'demo-01@' "$md/new"/*)
is "$(head -n 1 "$f")" "From: Alice <alice@example.org>" "the mbox From_ line of the sample is not in the Maildir copy"
st=0; "$LDA" --check "$LDA_TOP/lda.rc.example" >"$T/check" 2>&1 || st=$?
is "$st" 0 "lda.rc.example is clean under --check"
[ "$st" = 0 ] || diag "$(cat "$T/check")"
done_testing

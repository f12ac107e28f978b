#!/usr/bin/env bash
# filter-clamav.t - the clamav filter with its two engines on a signature
# database the test writes itself (an .ndb body signature and an .hdb hash of
# an attachment; there is no network for freshclam): libclamav in-process
# through the clamav.so module, and a real clamd (tests/peers/clamd-up.sh)
# over INSTREAM. Infected plain message, payload in a base64 attachment,
# clean message, forged X-Virus fields, the size limit; ./lda does not link
# libclamav, and a message whose rc never calls clamav does not load it
# (LD_DEBUG=files shows every library ld.so opens, dlopen() included);
# faults with both policies: database or module missing, clamd's socket
# missing, clamd refusing a stream over its limit.
# Run as root; skips what is not installed (under CI=true that fails). Takes about 5 s.
. "$LDA_TOP/tests/integration/lib.sh"
. "$LDA_TOP/tests/integration/filter-lib.sh"

PEERS=$LDA_TOP/tests/peers
MODS=${LDA_BUILD:?LDA_BUILD must name the build tree}/modules
if [ "$(id -u)" != 0 ]; then skip_all "needs root"; fi
if [ ! -f "$MODS/clamav.so" ]; then skip_all "$MODS/clamav.so not built"; fi

H=$T/home
mkdir -p "$H" "$T/db"
cat >"$H/.ldarc" <<'EOF'
# one Maildir per result: v-VIRUS_NAME-UNSCANNED
:0
v-$VIRUS_NAME-$FILTER_UNSCANNED/
EOF
sysrc() {
	{ echo "MAILDIR=$H/mail"; echo "DEFAULT=$H/mail/default/"
	  printf '%s\n' "$@"; } >"$T/sys.rc"
}

# --- the signatures and the messages ------------------------------------------
SIG='LDA-TEST-VIRUS-7f3a9c'
printf 'Lda.Test.Body:0:*:%s\n' "$(printf '%s' "$SIG" | od -An -tx1 | tr -d ' \n')" >"$T/db/lda-test.ndb"
printf 'lda test attachment, detected by its hash\n' >"$T/att.bin"
printf '%s:%s:Lda.Test.Hash\n' "$(md5sum <"$T/att.bin" | cut -d' ' -f1)" "$(stat -c %s "$T/att.bin")" >"$T/db/lda-test.hdb"
hdr='From: Alice <alice@example.org>
To: bob@example.org
Date: Sat, 21 Nov 2026 10:00:00 +0000'
printf '%s\nSubject: plain\n\nHello,\nhere it is: %s\n' "$hdr" "$SIG" >"$T/plain"
printf '%s\nSubject: clean\n\nHello,\nnothing to see.\n' "$hdr" >"$T/clean"
printf '%s\nSubject: forged\nX-Virus-Status: Clean\nX-Virus-Scanned: by nobody\n\n%s\n' "$hdr" "$SIG" >"$T/forged"
mime() { # mime FILE PAYLOAD-FILE: the payload as a base64 attachment
	printf '%s\nSubject: attachment\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b1"\n\n--b1\nContent-Type: text/plain\n\nsee the attachment\n--b1\nContent-Type: application/octet-stream; name="x.bin"\nContent-Transfer-Encoding: base64\nContent-Disposition: attachment; filename="x.bin"\n\n%s\n--b1--\n' \
		"$hdr" "$(base64 <"$2")" >"$1"
}
printf 'payload %s payload\n' "$SIG" >"$T/payload"
mime "$T/b64" "$T/payload"
mime "$T/hashed" "$T/att.bin"
ok $(grep -q "$SIG" "$T/b64"; [ $? = 1 ]; echo $?) "the base64 message does not show the signature's bytes"

# --- the binary ------------------------------------------------------------------
# (a sanitizer build's runtime libraries are not counted)
libs=$(ldd "$LDA" | grep -Ev 'lib(asan|ubsan|lsan|stdc\+\+|gcc_s)\.')
ok $(printf '%s' "$libs" | grep -q libclamav; [ $? = 1 ]; echo $?) "./lda does not link libclamav"
ok $(printf '%s' "$libs" | grep -q libspf2; [ $? = 1 ]; echo $?) "./lda does not link libspf2"
ok $([ "$(printf '%s\n' "$libs" | grep -c '=>')" -le 5 ]; echo $?) "./lda links at most 5 shared libraries" ||
	diag "$libs"

# --- libclamav in-process ----------------------------------------------------------
sysrc "CLAMAV_DB=$T/db" "MODULE_PATH=$MODS" 'FILTERS=clamav'
run "$T/plain"
is "$st" 0 "libclamav: an infected message is delivered (the rc decides)"
like "$dir" '^v-Lda\.Test\.Body' "libclamav: VIRUS_NAME names the signature"
like "$(header "$got")" 'X-Virus-Status: Infected \(Lda\.Test\.Body' "libclamav: X-Virus-Status: Infected (name)"
like "$(header "$got")" 'X-Virus-Scanned: ClamAV [0-9.]+ \(libclamav, 2 signatures\)' "libclamav: X-Virus-Scanned names the engine"
is "$(body "$got" | md5sum)" "$(body "$T/plain" | md5sum)" "libclamav: the body is unchanged"
run "$T/b64"
like "$dir" '^v-Lda\.Test\.Body' "libclamav: the payload inside a base64 attachment is found"
run "$T/hashed"
like "$dir" '^v-Lda\.Test\.Hash' "libclamav: an attachment matching an .hdb hash is found"
run "$T/clean"
is "$dir" "v--" "libclamav: a clean message: VIRUS_NAME empty"
like "$(header "$got")" 'X-Virus-Status: Clean' "libclamav: X-Virus-Status: Clean"
run "$T/forged"
is "$(grep -c '^X-Virus-Status' "$got")/$(grep -c '^X-Virus-Scanned' "$got")" "1/1" "forged X-Virus fields are replaced, not added to"
like "$(header "$got")" 'X-Virus-Status: Infected' "... and the one left is ours"

sysrc "CLAMAV_DB=$T/db" "MODULE_PATH=$MODS" 'FILTERS=clamav' 'CLAMAV_MAXSIZE=50'
run "$T/plain"
like "$(header "$got")" 'X-Virus-Status: Unscanned' "bigger than CLAMAV_MAXSIZE: passed, X-Virus-Status: Unscanned"

# --- libclamav is loaded only when clamav runs -----------------------------------------
sysrc "CLAMAV_DB=$T/db" "MODULE_PATH=$MODS" 'FILTERS=clamav'
run "$T/clean" >/dev/null
LD_DEBUG=files HOME=$H "$LDA" --config "$T/sys.rc" <"$T/clean" >/dev/null 2>"$T/ld.on" || true
ok $(grep -q 'file=libclamav' "$T/ld.on"; echo $?) "FILTERS=clamav: ld.so opens libclamav (the check can see it)"
sysrc "CLAMAV_DB=$T/db" "MODULE_PATH=$MODS"
LD_DEBUG=files HOME=$H "$LDA" --config "$T/sys.rc" <"$T/clean" >/dev/null 2>"$T/ld.off" || true
ok $(grep -q 'libclamav\|clamav\.so' "$T/ld.off"; [ $? = 1 ]; echo $?) "an rc that never calls clamav: neither clamav.so nor libclamav is loaded"
ok $([ "$(grep -o 'file=[^ ]*' "$T/ld.off" | grep -Ev 'lib(asan|ubsan|lsan|stdc\+\+|gcc_s)\.' | sort -u | wc -l)" -le 5 ]; echo $?) "... only lda's own few libraries are" ||
	diag "$(grep 'file=' "$T/ld.off")"
sysrc "SPAMD=unix:$T/none.sock" "MODULE_PATH=$MODS" 'FILTERS=spamassassin'
LD_DEBUG=files HOME=$H "$LDA" --config "$T/sys.rc" <"$T/clean" >/dev/null 2>"$T/ld.spam" || true
ok $(grep -q 'libclamav' "$T/ld.spam"; [ $? = 1 ]; echo $?) "running only the spamassassin filter does not load libclamav"

# --- failures of the in-process engine ---------------------------------------------------
sysrc "CLAMAV_DB=$T/no-such-db" "MODULE_PATH=$MODS" 'FILTERS=clamav'
run "$T/plain"
is "$st/$got" "75/" "database missing, fail closed (clamav's default): exit 75, nothing delivered"
sysrc "CLAMAV_DB=$T/no-such-db" "MODULE_PATH=$MODS" 'FILTERS=clamav' 'CLAMAV_FAILURE=open'
run "$T/plain"
is "$st/$dir" "0/v--clamav" "database missing, fail open: delivered, FILTER_UNSCANNED=clamav"
like "$(header "$got")" 'X-LDA-Unscanned: clamav \(.*no-such-db' "... with X-LDA-Unscanned saying why"
sysrc "CLAMAV_DB=$T/db" "MODULE_PATH=$T/no-modules" 'FILTERS=clamav'
run "$T/plain"
is "$st/$got" "75/" "clamav.so missing (MODULE_PATH), fail closed: exit 75"

# --- clamd over INSTREAM -----------------------------------------------------------------
if command -v clamd >/dev/null; then
	CD=$T/clamd
	mkdir "$CD"
	if CLAMD_STREAM_MAX=100K "$PEERS/clamd-up.sh" "$CD" "$T/db" >"$T/clamd-up.out" 2>&1; then
		at_exit "'$PEERS/clamd-down.sh' '$CD'"
		. "$CD/env"
		sysrc "CLAMD=unix:$CLAMD_SOCK" 'FILTERS=clamav'
		run "$T/plain"
		like "$dir" '^v-Lda\.Test\.Body' "clamd: an infected message: VIRUS_NAME"
		like "$(header "$got")" 'X-Virus-Scanned: ClamAV \(clamd\)' "clamd: X-Virus-Scanned names clamd"
		run "$T/b64"
		like "$dir" '^v-Lda\.Test\.Body' "clamd: the payload in a base64 attachment is found"
		run "$T/hashed"
		like "$dir" '^v-Lda\.Test\.Hash' "clamd: the .hdb hash of an attachment is found"
		run "$T/clean"
		is "$dir" "v--" "clamd: a clean message"
		LD_DEBUG=files HOME=$H "$LDA" --config "$T/sys.rc" <"$T/clean" >/dev/null 2>"$T/ld.clamd" || true
		ok $(grep -q 'libclamav' "$T/ld.clamd"; [ $? = 1 ]; echo $?) "clamd: lda itself does not load libclamav"
		{ cat "$T/clean"; head -c 300000 /dev/zero | tr '\0' 'x' | fold -w 76; } >"$T/big"
		sysrc "CLAMD=unix:$CLAMD_SOCK" 'FILTERS=clamav' 'CLAMAV_FAILURE=open'
		run "$T/big"
		like "$(header "$got")" 'X-LDA-Unscanned: clamav .*size limit' "clamd refuses a stream over its limit, fail open: unscanned, says why"
		sysrc "CLAMD=unix:$CLAMD_SOCK" 'FILTERS=clamav'
		run "$T/big"
		is "$st/$got" "75/" "clamd refuses a stream over its limit, fail closed: exit 75"
	else
		sed 's/^/# /' "$T/clamd-up.out"
		ok 1 "clamd-up.sh failed"
	fi
else
	skip_part "clamd not installed (clamav-daemon): the INSTREAM tests"
fi
sysrc "CLAMD=unix:$T/no-such.sock" 'FILTERS=clamav'
run "$T/plain"
is "$st/$got" "75/" "clamd's socket missing, fail closed (default): exit 75, nothing delivered"
like "$(head -n 1 "$T/out")" '^4\.[0-9]\.[0-9] ' "... the first output line is a 4.x.x status"
like "$(head -n 1 "$T/out")" '^4\.[0-9]\.[0-9] [^ ]+: filter clamav: .*no-such\.sock' "... naming the recipient, the filter and its real reason (not \"filter failed\")"
sysrc "CLAMD=unix:$T/no-such.sock" 'FILTERS=clamav' 'CLAMAV_FAILURE=open'
run "$T/plain"
is "$st/$dir" "0/v--clamav" "clamd's socket missing, fail open: delivered unscanned"
like "$(header "$got")" 'X-LDA-Unscanned: clamav \(clamd unix:.*no-such.sock' "... X-LDA-Unscanned says so"
is "$(body "$got" | md5sum)" "$(body "$T/plain" | md5sum)" "... and the message is whole"

# --- the recipe form ------------------------------------------------------------------------
sysrc "CLAMAV_DB=$T/db" "MODULE_PATH=$MODS"
cp "$H/.ldarc" "$T/ldarc.save"
cat >"$H/.ldarc" <<'EOF'
:0 fw
| @clamav
:0
v-$VIRUS_NAME-$FILTER_UNSCANNED/
EOF
run "$T/plain"
like "$dir" '^v-Lda\.Test\.Body' "a ':0 fw' recipe with '| @clamav' scans"
cp "$T/ldarc.save" "$H/.ldarc"

done_testing

#!/usr/bin/env bash
# core.t - the lda binary end to end into local folders: command line,
# spool, Maildir/mbox/MH, DEFAULT/ORGMAIL, exit codes and status lines,
# privileges, and bad input delivered intact or refused clearly.
. "$LDA_TOP/tests/integration/lib.sh"

rc=$T/assign.rc
: >"$rc"

# run OUT ARGS... - lda with stdin from $IN; stdout to OUT, exit in $st
run() {
	local out=$1; shift
	st=0
	"$LDA" "$@" <"$IN" >"$out" 2>"$out.err" || st=$?
}

# --- command line ----------------------------------------------------------
IN=/dev/null
run "$T/v" --version
is "$st" 0 "--version exits 0"
like "$(cat "$T/v")" '^lda [0-9]' "--version prints the version"
run "$T/h" --help
like "$(cat "$T/h")" 'usage: lda' "--help prints usage"
run "$T/u" -q
is "$st" 75 "an unknown option is kept, not bounced (75; postfix bounces 64)"
like "$(head -n 1 "$T/u")" '^4\.3\.5 ' "a usage error's first output line is the 4.3.5 status"
run "$T/u" -m
is "$st" 75 "-m without an rcfile is a usage error (75)"

# --- Maildir, byte for byte -------------------------------------------------
IN=$T/m1; msg "$IN" maildir
mkdir -p "$T/md"
run "$T/o" -m MAILDIR="$T/md" DEFAULT="$T/md/INBOX/" "$rc"
is "$st" 0 "delivery into a Maildir exits 0"
f=$(maildir_one "$T/md/INBOX")
ok $([ -n "$f" ] && cmp -s "$f" "$IN"; echo $?) "the Maildir file is the message, byte for byte"
is "$(find "$T/md/INBOX/tmp" -type f | wc -l)" 0 "nothing is left in tmp/"
is "$(stat -c %a "$f")" 600 "the message file is 0600"

# --- mbox: From_ line, quoting, envelope sender ------------------------------
run "$T/o" -f env@example.net -m DEFAULT="$T/mbox" "$rc"
is "$st" 0 "delivery into an mbox exits 0"
like "$(head -n 1 "$T/mbox")" '^From env@example.net  [A-Z][a-z]{2} ' "-f sets the From_ line's sender"
like "$(cat "$T/mbox")" '>From the test' "a body line starting with From is quoted"
printf 'From mbox@example.com  Sat Nov 21 10:00:00 2026\nSubject: from_\n\nbody\n' >"$T/m2"
IN=$T/m2
run "$T/o" -m DEFAULT="$T/mbox2" "$rc"
like "$(head -n 1 "$T/mbox2")" '^From mbox@example.com  ' "without -f the input's From_ line gives the sender"
is "$(grep -c '^From ' "$T/mbox2")" 1 "the input's From_ line is not passed on as a header"
run "$T/o" -m DEFAULT="$T/md2/" "$rc"
is "$(head -n 1 "$(maildir_one "$T/md2")")" "Subject: from_" "a Maildir copy starts with the header, not the From_ line"

# --- MH --------------------------------------------------------------------
IN=$T/m1
run "$T/o" -m DEFAULT="$T/mh/." "$rc"
run "$T/o" -m DEFAULT="$T/mh/." "$rc"
ok $([ -f "$T/mh/1" ] && [ -f "$T/mh/2" ]; echo $?) "MH folder gets messages 1 and 2"
{ cat "$IN"; echo; } >"$T/mh.want"
ok $(cmp -s "$T/mh/2" "$T/mh.want"; echo $?) "the MH message is the message and an empty line, as procmail writes it"

# --- DEFAULT is $ORGMAIL, as in procmail, even with a ~/Maildir -------------
mkdir -p "$T/home/Maildir"
: >"$T/empty.rc"
IN=$T/m1
st=0; HOME=$T/home "$LDA" -m ORGMAIL="$T/home-org" "$T/empty.rc" <"$IN" >/dev/null 2>&1 || st=$?
is "$st" 0 "an rc that falls through, a ~/Maildir there: exits 0"
is "$(grep -c '^Subject: maildir' "$T/home-org" 2>/dev/null)/$(maildir_count "$T/home/Maildir")" 1/0 \
	"... into \$ORGMAIL, where procmail puts it, not into ~/Maildir"
# the Maildir is the administrator's choice: the README's system rc line
printf '%s\n' 'DEFAULT=$HOME/Maildir/' >"$T/home-md.rc"; chmod 644 "$T/home-md.rc"
mkdir -p "$T/home2"
st=0; HOME=$T/home2 "$LDA" --config "$T/home-md.rc" <"$IN" >/dev/null 2>&1 || st=$?
is "$st" 0 "plain delivery, the system rc says DEFAULT=\$HOME/Maildir/: exits 0"
is "$(maildir_count "$T/home2/Maildir")" 1 "... the missing ~/Maildir is made and gets the message"

# --- failure: never 0, nothing half-written --------------------------------
run "$T/o" -m DEFAULT="$T/no/such/dir/mbox" ORGMAIL="$T/no/such/dir2/mbox" "$rc"
is "$st" 75 "an impossible DEFAULT and ORGMAIL exit 75: the MTA keeps the message"
like "$(head -n 1 "$T/o")" '^4\.[0-9]\.[0-9] [a-z0-9]+: .*no/such/dir/mbox.*No such file' "the status line is 4.x.x with the recipient and DEFAULT's failure, the one that decided"
unlike "$(head -n 1 "$T/o")" 'dir2' "... not the ORGMAIL fallback's"
is "$(wc -l <"$T/o")" 1 "... and it is the only line"
run "$T/o" -m DEFAULT="$T/no/such/dir/mbox" ORGMAIL="$T/orgmail" "$rc"
is "$st" 0 "when DEFAULT fails, ORGMAIL gets the message"
is "$(grep -c '^Subject: maildir' "$T/orgmail")" 1 "the message is in ORGMAIL"
head -c 3000000 /dev/urandom | base64 >"$T/body"
{ printf 'Subject: big\n\n'; cat "$T/body"; } >"$T/big"
IN=$T/big
st=0; (ulimit -f 1000; exec "$LDA" -m DEFAULT="$T/full/" "$rc" <"$IN" >"$T/o" 2>&1) || st=$?
is "$st" 75 "a file size limit hit while writing is a temporary failure (75)"
like "$(head -n 1 "$T/o")" '^4\.' "the status line is 4.x.x"
is "$(maildir_count "$T/full")" 0 "no partial message in new/"
st=0; (ulimit -f 1000; exec "$LDA" -m DEFAULT="$T/fullmbox" "$rc" <"$IN" >"$T/o" 2>&1) || st=$?
is "$st" 75 "an mbox write that fails exits 75"
is "$(stat -c %s "$T/fullmbox" 2>/dev/null || echo 0)" 0 "the failed mbox write was truncated away"

# --- bad input: delivered intact -------------------------------------------
bad() { # NAME - deliver $T/bad.NAME into a Maildir; compare bytes
	IN=$T/bad.$1
	run "$T/o" -m DEFAULT="$T/bad-$1/" "$rc"
	f=$(maildir_one "$T/bad-$1")
	ok $([ "$st" = 0 ] && [ -n "$f" ] && cmp -s "$f" "$IN"; echo $?) "bad input ($1) is delivered intact"
}
: >"$T/bad.empty"; bad empty
printf 'Subject: x\nX-No-Separator: y' >"$T/bad.nosep"; bad nosep
printf 'Subject: nul\n\nbefore\0after\n' >"$T/bad.nul"; bad nul
printf 'Subject: crlf\r\n\r\nline\r\n' >"$T/bad.crlf"; bad crlf
printf 'Subject: cr\r\rline\rline\r' >"$T/bad.cr"; bad cr
{ printf 'X-Long: '; head -c 204800 /dev/zero | tr '\0' a; printf '\n\nbody\n'; } >"$T/bad.longline"; bad longline
{ for i in $(seq 1 10000); do printf 'X-H%d: v\n' "$i"; done; printf '\nbody\n'; } >"$T/bad.manyheaders"; bad manyheaders
head -c 65536 /dev/urandom >"$T/bad.binary"; bad binary
printf 'Subject: nonl\n\nno newline at the end' >"$T/bad.nonl"; bad nonl
printf ' leading continuation\nnot a header\n\nbody\n' >"$T/bad.nocolon"; bad nocolon

# --- privileges -------------------------------------------------------------
if [ "$(id -u)" = 0 ]; then
	test_user U1 one && test_user U2 two || { echo "Bail out! cannot make test users"; exit 1; }
	for u in $U1 $U2; do
		h=$(getent passwd $u | cut -d: -f6)
		rm -rf "$h/Maildir" "$h/.procmailrc" "$h/.ldarc"
		mkdir -p "$h/Maildir" && chown $u: "$h/Maildir"
	done
	IN=$T/m1
	run "$T/o" --config "$T/home-md.rc" -d $U1 $U2
	is "$st" 0 "root with -d u1 u2 delivers to both"
	h1=$(getent passwd $U1 | cut -d: -f6)
	h2=$(getent passwd $U2 | cut -d: -f6)
	is "$(maildir_count "$h1/Maildir")$(maildir_count "$h2/Maildir")" 11 "each recipient got one copy"
	is "$(stat -c %U "$(maildir_one "$h1/Maildir")")" $U1 "the copy is written as the recipient"
	# root's own mail (-d root, delivered as root): spool-debian.t
	run "$T/o" --config "$T/empty.rc" -d no-such-user-lda
	is "$st" 67 "an unknown user is 67"
	like "$(head -n 1 "$T/o")" '^5\.1\.1 ' "the unknown user's status is 5.1.1"
	# A user's rc must not be able to write as root: the rc runs as the user.
	# (ORGMAIL, /var/mail/$U1, takes the message: userdel -r removes it)
	printf 'DEFAULT=/root/lda-should-not-exist/\n' >"$h1/.procmailrc"
	chown $U1: "$h1/.procmailrc"; chmod 644 "$h1/.procmailrc"
	run "$T/o" --config "$T/empty.rc" -d $U1
	ok $([ ! -e /root/lda-should-not-exist ]; echo $?) "a user rc cannot make lda write as root"
	ok $([ "$st" = 0 ] || [ "$st" = 73 ] || [ "$st" = 75 ]; echo $?) "…and the message is not reported lost ($st)"
	rm -f "$h1/.procmailrc"
	# A folder the recipient cannot write: 73 (not 0), nothing written.
	mkdir -p "$T/rootonly" && chmod 700 "$T/rootonly"
	printf 'DEFAULT=%s/rootonly/mbox\nORGMAIL=%s/rootonly/mbox2\n' "$T" "$T" >"$T/deny.rc"
	run "$T/o" --config "$T/deny.rc" -d $U2
	is "$st" 75 "an unwritable destination is 75, never 0"
	like "$(head -n 1 "$T/o")" 'Permission denied' "…and the status line says why"
	ok $([ ! -e "$T/rootonly/mbox" ]; echo $?) "…and nothing was written"
	# Not root: -d for someone else is kept for retry, not delivered.
	st=0; su -s /bin/sh $U1 -c "$LDA -d $U2 --config $T/empty.rc" <"$IN" >"$T/o" 2>&1 || st=$?
	is "$st" 75 "not root, -d another user: 75 (a set-up error keeps the mail)"
else
	diag "not root: privilege tests need root"
	ok 1 "privilege tests run as root"
fi

# --- start-up: libc alone; libsasl2, TRE and libm only when needed ---------
# (lda/dl.h). LD_DEBUG=files names every library ld.so opens, dlopen too.
san='lib(asan|ubsan|lsan|stdc\+\+|gcc_s)\.' mlib='|libm\.'
if ldd "$LDA" | grep -q libasan; then
	diag "sanitizer build: its runtime needs libm, so libm is not checked"
	san='lib(asan|ubsan|lsan|stdc\+\+|gcc_s|m)\.' mlib=
fi
is "$(ldd "$LDA" | grep -Ev "$san|linux-vdso|ld-linux" | awk '{print $1}' | tr '\n' ' ')" "libc.so.6 " \
	"lda is linked with libc alone"
opened() { # opened OUT ARGS...: deliver $IN with LD_DEBUG=files; the libraries opened
	LD_DEBUG=files "$LDA" "${@:2}" <"$IN" >/dev/null 2>"$1" || true
	grep -o 'file=[^ ]*' "$1" | grep -Ev "$san" | sort -u | tr '\n' ' '
}
IN=$T/m1
libs=$(opened "$T/ld.plain" -m DEFAULT="$T/ldmd/" "$rc")
like "$libs" 'libc\.so' "LD_DEBUG shows what ld.so opens (the check can see)"
unlike "$libs" "libsasl2|libtre$mlib" "a plain delivery opens neither libsasl2, TRE nor libm"
IN=$T/fz; msg "$IN" test
printf ':0\n* ~^Subject: (tezt){~1}\n%s\n' "$T/fuzzy/" >"$T/fuzzy.rc"
libs=$(opened "$T/ld.fuzzy" -m DEFAULT="$T/ldmd/" "$T/fuzzy.rc")
like "$libs" 'libtre' "an approximate pattern loads TRE"
is "$(maildir_count "$T/fuzzy")" 1 "... and it matches with one error (tezt ~ test)"
unlike "$libs" 'libsasl2' "... and not libsasl2"
printf ':0\n* 1^1 > 10\n%s\n' "$T/sized/" >"$T/sized.rc"
libs=$(opened "$T/ld.sized" -m DEFAULT="$T/ldmd/" "$T/sized.rc")
[ -z "$mlib" ] || like "$libs" 'libm\.so' "a weighted size condition loads libm"
is "$(maildir_count "$T/sized")" 1 "... and it scores (a $(wc -c <"$IN")-byte message > 10)"

# --- the spool: unlinked and private ----------------------------------------
fifo=$T/fifo; mkfifo "$fifo"
"$LDA" -m DEFAULT="$T/spooltest/" "$rc" <"$fifo" >/dev/null 2>&1 &
pid=$!
exec 9>"$fifo"
printf 'Subject: spool\n\n' >&9
sleep 0.3
sp=$(ls -l /proc/$pid/fd 2>/dev/null | grep -E '\(deleted\)|lda\.' | head -n 1)
like "$sp" '\(deleted\)' "the spool file is unlinked while lda runs"
exec 9>&-
wait $pid
is "$(maildir_count "$T/spooltest")" 1 "…and the message is delivered after EOF"

done_testing

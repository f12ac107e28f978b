#!/usr/bin/env bash
# folders.t - Maildir and MH folders after faults: EIO from the fsync of
# new/ or of the MH folder after the link (the copy is taken back, so 75
# and the folder agree), EIO and EDQUOT on the write, a full disk on the
# folder and on TMPDIR (a small tmpfs), a file size limit, a read-only
# file system, no permission; each followed by a retry that must leave
# exactly one copy. Runs lda with tests/faults/shim.c preloaded; needs
# root for the tmpfs mounts; about 5 s.
. "$LDA_TOP/tests/integration/lib.sh"
. "$LDA_TOP/tests/faults/lib.sh"

rc=$T/empty.rc; : >"$rc"
msg "$T/m" faults
# run DEST [VAR=...] - lda -m into DEST; $st, $out
run() {
	local d=$1; shift
	st=0
	out=$("$LDA" -m DEFAULT="$d" ORGMAIL="$d" "$@" "$rc" <"$T/m" 2>/dev/null) || st=$?
}
run_faulty() {
	local spec=$1 d=$2; shift 2
	st=0
	out=$(faulty "$spec" "$LDA" -m DEFAULT="$d" ORGMAIL="$d" "$@" "$rc" <"$T/m" 2>/dev/null) || st=$?
}
mh_count() { find "$1" -maxdepth 1 -type f -name '[1-9]*' | wc -l | tr -d ' '; }

# --- EIO from fsync after the link: taken back ----------------------------------
run_faulty 'fsync:EIO:/md/new$' "$T/md/"
is "$st" 75 "Maildir: fsync of new/ fails (EIO): 75"
is "$(maildir_count "$T/md")" 0 "Maildir: the copy is taken back (75 and the folder agree)"
like "$out" 'fsync .*new: Input/output error' "Maildir: the status line names the fsync"
run "$T/md/"
is "$(maildir_count "$T/md"):$st" 1:0 "Maildir: the retry leaves exactly one copy"
is "$(find "$T/md/tmp" -type f | wc -l | tr -d ' ')" 0 "Maildir: nothing left in tmp/"

run_faulty 'fsync:EIO:/mh$' "$T/mh/."
is "$st" 75 "MH: fsync of the folder fails (EIO): 75"
is "$(mh_count "$T/mh")" 0 "MH: the copy is taken back"
run "$T/mh/."
is "$(mh_count "$T/mh"):$st" 1:0 "MH: the retry leaves exactly one copy"
is "$(find "$T/mh" -type f | wc -l | tr -d ' ')" 1 "MH: no temporary file left"

# --- EIO and EDQUOT on the write ---------------------------------------------------
for e in EIO EDQUOT; do
	run_faulty "write:$e:/w$e/tmp/" "$T/w$e/"
	is "$st" 75 "Maildir: $e on the write: 75"
	is "$(maildir_count "$T/w$e")$(find "$T/w$e/tmp" -type f | wc -l | tr -d ' ')" 00 "Maildir: $e: no copy, no tmp/ file"
	run_faulty "write:$e:/b$e\$:100" "$T/b$e"
	is "$st" 75 "mbox: $e in the middle of the append: 75"
	ok $([ ! -s "$T/b$e" ] && [ ! -e "$T/b$e.lock" ]; echo $?) "mbox: $e: truncated back, no lock"
	run "$T/b$e"
	is "$(grep -c '^From ' "$T/b$e"):$st" 1:0 "mbox: $e: the retry leaves exactly one copy"
done

# --- a file size limit -----------------------------------------------------------
: >"$T/fs"
head -c 20000 /dev/zero | tr '\0' x | fold -w 70 >"$T/body"
{ cat "$T/m"; cat "$T/body"; } >"$T/big"
st=0; out=$(sh -c 'ulimit -f 4; exec "$@"' sh "$LDA" -m DEFAULT="$T/fs" ORGMAIL="$T/fs" \
	"$rc" <"$T/big" 2>/dev/null) || st=$?
is "$st" 75 "mbox over the file size limit: 75"
is "$(stat -c %s "$T/fs")" 0 "mbox: the partial write is truncated away"

if [ "$(id -u)" != 0 ]; then skip_all "the rest needs root (tmpfs, a service user)"; fi
# --- a full disk: the folder's and TMPDIR's (small tmpfs) -------------------------
mkdir -p "$T/full" "$T/tmpfull"
mount -t tmpfs -o size=64k tmpfs "$T/full" && at_exit "umount '$T/full'"
mount -t tmpfs -o size=64k tmpfs "$T/tmpfull" && at_exit "umount '$T/tmpfull'"
head -c 200000 /dev/urandom | base64 >"$T/body"
{ cat "$T/m"; cat "$T/body"; } >"$T/big"
for d in "$T/full/md/" "$T/full/mh/." "$T/full/mbox"; do
	st=0; out=$("$LDA" -m DEFAULT="$d" ORGMAIL="$d" "$rc" <"$T/big" 2>/dev/null) || st=$?
	is "$st" 75 "a full disk under $d: 75"
	like "$out" 'No space left on device' "a full disk under $d: the status line says so"
done
is "$(find "$T/full" -type f -size +0 | wc -l | tr -d ' ')" 0 "the full disk holds no partial copy"
# past SPOOL_MEM_MAX (1 MiB) the spool moves to TMPDIR
head -c 1600000 /dev/urandom | base64 >"$T/body"
{ cat "$T/m"; cat "$T/body"; } >"$T/big"
st=0; out=$(TMPDIR=$T/tmpfull "$LDA" -m DEFAULT="$T/tmd/" ORGMAIL="$T/tmd-org" "$rc" <"$T/big" 2>/dev/null) || st=$?
is "$st" 75 "a full TMPDIR (the spool): 75"
is "$(maildir_count "$T/tmd")" 0 "a full TMPDIR: nothing delivered"
st=0; out=$("$LDA" -m DEFAULT="$T/tmd/" ORGMAIL="$T/tmd-org" "$rc" <"$T/big" 2>/dev/null) || st=$?
is "$(maildir_count "$T/tmd"):$st" 1:0 "the retry with room leaves exactly one copy"
ok $([ ! -e "$T/tmd-org" ]; echo $?) "... and no copy in ORGMAIL"

# --- a read-only file system, no permission ---------------------------------------
mkdir -p "$T/ro"; mount -t tmpfs -o size=64k tmpfs "$T/ro" && at_exit "umount '$T/ro'"
mkdir -p "$T/ro/md/new" "$T/ro/md/cur" "$T/ro/md/tmp"; mount -o remount,ro "$T/ro"
run "$T/ro/md/"
ok $([ "$st" = 73 ] || [ "$st" = 75 ]; echo $?) "a read-only file system: 73 or 75, never 0 (exit $st)"
like "$out" 'Read-only file system' "a read-only file system: the status line says so"
test_user U1 fone || { echo "Bail out! cannot make a test user"; exit 1; }
mkdir -p "$T/np/md"; chmod 700 "$T/np"
st=0; out=$(cd /; runuser -u $U1 -- "$LDA" -m DEFAULT="$T/np/md/" ORGMAIL="$T/np/md/" "$rc" <"$T/m" 2>/dev/null) || st=$?
ok $([ "$st" = 73 ] || [ "$st" = 75 ]; echo $?) "no permission on the folder: 73 or 75, never 0 (exit $st)"
like "$out" 'Permission denied' "no permission: the status line says so"

done_testing

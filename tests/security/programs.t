#!/usr/bin/env bash
# programs.t - issue 11 points 3, 5 and 11: what the rc's programs can
# make of a delivery.
#  3: a ":0 fw" filter's output goes through a pipe into lda's own spool;
#     when TMPDIR is full (a small tmpfs) that is lda's error: exit 75,
#     nothing delivered, never a cut message with exit 0.
#  5: a 128 KB+ header captured into a variable no longer stops every
#     later program from starting (E2BIG): the environment's values are
#     cut to LINEBUF as procmail's are, and the filter runs.
# 11: a "|" program without "w" that cannot be started is a failed
#     recipe (the child reports exec's errno), so the message goes on to
#     DEFAULT instead of counting as delivered. (With "i", so that no
#     write error on its stdin can hide the defect by chance.)
# Needs root (the tmpfs); about 2 s.
. "$LDA_TOP/tests/integration/lib.sh"

if [ "$(id -u)" != 0 ]; then skip_all "needs root (tmpfs mount)"; fi
MD=$T/Maildir
mkdir -p "$MD/new" "$MD/cur" "$MD/tmp"
LOG=$T/log
# run RC [VAR=value...] - lda -m VAR=value... RC with the message $T/m;
# exit in $st, status line in $T/out, log in $LOG
run() {
	local rc=$1; shift
	st=0; : >"$LOG"
	"$LDA" -m MAILDIR="$T" DEFAULT="$MD/" LOGFILE="$LOG" "$@" "$rc" <"$T/m" >"$T/out" 2>&1 || st=$?
}

# --- 3: TMPDIR full under a filter ---------------------------------------
SMALL=$T/small
mkdir "$SMALL"
mount -t tmpfs -o size=128k,mode=1777 tmpfs "$SMALL" ||
	{ echo "Bail out! cannot mount a tmpfs"; exit 1; }
at_exit "umount '$SMALL'"
# a message of 200 KB (its spool is in memory): the filter's output
# does not fit into the 128 KB of TMPDIR
{ printf 'From: a@example.org\nTo: b@example.org\nSubject: big\n\n'
  head -c 200000 /dev/zero | tr '\0' 'x' | fold -w 76; } >"$T/m"
cat >"$T/filter.rc" <<'EOF'
:0 fw
| cat; exit 0
:0
$DEFAULT
EOF
TMPDIR=$SMALL run "$T/filter.rc"
is "$st" 75 "a filter's output on a full TMPDIR: exit 75"
is "$(maildir_count "$MD")" 0 "... nothing delivered (no cut message)"
like "$(cat "$T/out")" "^4\\.[0-9]\\.[0-9] .*(No space|space left)" "... the status line says why"
TMPDIR=$T run "$T/filter.rc"
is "$st" 0 "the same filter with room: exit 0"
f=$(maildir_one "$MD")
ok "$([ "$(wc -c <"$f")" -ge "$(wc -c <"$T/m")" ]; echo $?)" "... the whole message delivered"
rm -f "$MD"/new/*

# --- 5: a 128 KB+ header in a variable -----------------------------------
{ printf 'From: a@example.org\nTo: b@example.org\nX-Big: '
  head -c 140000 /dev/zero | tr '\0' 'y'
  printf '\nSubject: big header\n\nbody\n'; } >"$T/m"
cat >"$T/env.rc" <<'EOF'
:0
* ^X-Big: \/.*
{ BIG=$MATCH }
:0 fw
| sed -e '1i\
X-Filtered: yes'
:0
$DEFAULT
EOF
run "$T/env.rc"
is "$st" 0 "a 140 KB header in \$MATCH and \$BIG: exit 0"
f=$(maildir_one "$MD")
like "$(head -n 1 "$f")" "^X-Filtered: yes" "... the filter after it ran (its environment was not too big)"
rm -f "$MD"/new/*
cat >"$T/len.rc" <<'EOF'
:0
* ^X-Big: \/.*
{ BIG=$MATCH }
:0 wc
| printf '%s' "$BIG" | wc -c > len.txt
EOF
run "$T/len.rc"
rm -f "$MD"/new/*
is "$(tr -d ' ' <"$T/len.txt")" 4096 "... a program sees the value cut to LINEBUF (4096, procmail's)"
run "$T/len.rc" LINEBUF=20000
is "$(tr -d ' ' <"$T/len.txt")" 20000 "... or to the LINEBUF the rc sets"
rm -f "$MD"/new/*

# --- 11: a program that cannot be started ---------------------------------
msg "$T/m"
cat >"$T/noexec.rc" <<EOF
:0 i
| $T/no-such-program
EOF
run "$T/noexec.rc"
is "$st" 0 "a '|' program that does not exist (no w, i): exit 0"
is "$(maildir_count "$MD")" 1 "... the message went to DEFAULT, not nowhere"
like "$(cat "$LOG")" "cannot run $T/no-such-program: No such file" "... and the log says why"
rm -f "$MD"/new/*
printf '#!/bin/sh\ncat >/dev/null\n' >"$T/notexec"; chmod 644 "$T/notexec"
cat >"$T/noperm.rc" <<EOF
:0 i
| $T/notexec
EOF
run "$T/noperm.rc"
is "$(maildir_count "$MD")" 1 "a '|' program that is not executable: the message went to DEFAULT"
like "$(cat "$LOG")" "Permission denied" "... and the log says why"
done_testing

#!/usr/bin/env bash
# virtual-rc.t - issue 11 point 6: what a virtual user's rc (USERS_RC_DIR,
# run by the service user) can do, and lda's own process.
#  - lda is not dumpable: a program of the same uid (another virtual
#    user's rc runs as the same service user) cannot open /proc/<lda>/fd
#    (the in-flight message, the credentials file);
#  - USERS_RC_RESTRICT (default yes): a virtual user's rc runs no program,
#    no backquote, includes only files of TRUSTED_RC_DIR (which run as the
#    administrator's), sets no PATH/SHELL/TRAP/LOGFILE/LOCKFILE..., and
#    what it sets stays out of the environment of programs a trusted file
#    runs; USERS_RC_RESTRICT=no allows programs again.
# Needs root (runs lda as a service user); about 1 s.
. "$LDA_TOP/tests/integration/lib.sh"

if [ "$(id -u)" != 0 ]; then skip_all "needs root"; fi
V=virtsec
test_user SVC svc || { echo "Bail out! cannot make test user"; exit 1; }
id $V >/dev/null 2>&1 && { echo "Bail out! $V must have no account"; exit 1; }
O=$T/out; mkdir -p "$O" "$T/users" "$T/trusted"; chmod 777 "$O"
msg "$T/m"; chmod 644 "$T/m"
# lda as the service user for $V; exit in $st
run() {
	st=0
	runuser -u $SVC -- "$LDA" --config "$T/sys.rc" -d $V <"$T/m" >"$T/stdout" 2>&1 || st=$?
}
sysrc() {
	printf 'STORE=lmtp:unix:%s/none.sock\nUSERS_RC_DIR=%s/users\nTRUSTED_RC_DIR=%s/trusted\n%s\n' \
		"$T" "$T" "$T" "${1:-}" >"$T/sys.rc"
	chmod 644 "$T/sys.rc"
}
cat >"$T/users/$V.rc" <<EOF
:0 c
| touch $O/program
X=\`touch $O/backquote\`
INCLUDERC=$T/untrusted.rc
PATH=/nonexistent
SECRETVAR=leak
INCLUDERC=$T/trusted/shared.rc
:0
/dev/null
EOF
printf ':0 c\n| touch %s/untrusted\n' "$O" >"$T/untrusted.rc"
printf ':0 c\n| env > %s/trusted-env\n' "$O" >"$T/trusted/shared.rc"
chmod 644 "$T/users/$V.rc" "$T/untrusted.rc" "$T/trusted/shared.rc"

sysrc
run
is "$st" 0 "a virtual user's rc ending in /dev/null: exit 0"
ok "$([ ! -e "$O/program" ]; echo $?)" "USERS_RC_RESTRICT (default): no '|' program"
ok "$([ ! -e "$O/backquote" ]; echo $?)" "... no backquote"
ok "$([ ! -e "$O/untrusted" ]; echo $?)" "... no INCLUDERC outside TRUSTED_RC_DIR"
ok "$([ -e "$O/trusted-env" ]; echo $?)" "... a file of TRUSTED_RC_DIR runs, with its programs"
unlike "$(cat "$O/trusted-env" 2>/dev/null)" "SECRETVAR" "... what the user's rc set is not in its programs' environment"
unlike "$(grep '^PATH=' "$O/trusted-env" 2>/dev/null)" "nonexistent" "... nor a PATH of the user's rc"

rm -f "$O"/*
sysrc USERS_RC_RESTRICT=no
run
ok "$([ -e "$O/program" ]; echo $?)" "USERS_RC_RESTRICT=no: programs run"

# lda is not dumpable: /proc/<lda>/fd is closed to its own uid's programs
printf ':0 c\n| ls /proc/$PPID/fd > %s/fdlist 2>&1; true\n:0\n/dev/null\n' "$O" >"$T/self.rc"
chmod 644 "$T/self.rc"
st=0; runuser -u $SVC -- "$LDA" -m "$T/self.rc" <"$T/m" >/dev/null 2>&1 || st=$?
is "$st" 0 "a program reading its lda's /proc/PID/fd: exit 0"
like "$(cat "$O/fdlist")" "Permission denied" "... cannot list lda's descriptors (PR_SET_DUMPABLE 0)"
done_testing

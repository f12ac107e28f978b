# lib.sh - shared helpers for lda's integration tests (TAP, bash).
# Source it; it gives: ok/is/like/diag/done_testing, a scratch directory
# $T removed at exit, the binary $LDA, msg (write a test message), and
# test_user / test_group (an account or group removed when the test ends).
# Not a test itself (prove runs only *.t).

set -u
: "${LDA_BIN:?LDA_BIN must name the lda binary (make check sets it)}"
: "${LDA_TOP:?LDA_TOP must name the source tree (make check sets it)}"
LDA=$LDA_BIN
T=$(mktemp -d /tmp/lda-test.XXXXXX)
chmod 755 "$T"
_n=0
_failed=0
_cleanups=()
trap '_on_exit' EXIT

_on_exit() {
	local i
	for ((i = ${#_cleanups[@]} - 1; i >= 0; i--)); do
		eval "${_cleanups[i]}" >/dev/null 2>&1 || true
	done
	rm -rf "$T"
}
# at_exit CMD - run CMD when the test ends (the last registered first: a
# peer started as a test account stops before the account goes)
at_exit() { _cleanups+=("$1"); }
# imapq_start PORT PASSWORD - tests/peers/imapq.py as a coprocess: one IMAP
# client for the whole test; then "imapq QUERY" prints its one-line answer
imapq_start() {
	coproc IMAPQ { exec /usr/bin/python3 -u "$LDA_TOP/tests/peers/imapq.py" "$1" "$2" 2>&1; }
	at_exit "kill $IMAPQ_PID"
	# plain descriptors: a coproc's are closed in subshells and pipelines
	exec 7>&"${IMAPQ[1]}" 8<&"${IMAPQ[0]}"
}
imapq() {
	local a=""
	echo "$*" >&7 && read -r -t 60 -u 8 a
	echo "$a"
}

# ok COND-STATUS NAME - "ok N - NAME" when the status is 0
ok() {
	local st=$1; shift
	_n=$((_n + 1))
	if [ "$st" -eq 0 ]; then echo "ok $_n - $*"; else
		echo "not ok $_n - $*"; _failed=$((_failed + 1)); fi
	return "$st"
}
# is GOT WANT NAME
is() {
	local got=$1 want=$2; shift 2
	[ "$got" = "$want" ]
	ok $? "$*" || diag "got '$got', want '$want'"
}
# like GOT PATTERN NAME (grep -E pattern)
like() {
	local got=$1 pat=$2; shift 2
	printf '%s' "$got" | grep -Eq -- "$pat"
	ok $? "$*" || diag "got '$got', want match of /$pat/"
}
# unlike GOT PATTERN NAME - GOT does not match (grep -E pattern)
unlike() {
	local got=$1 pat=$2; shift 2
	! printf '%s' "$got" | grep -Eq -- "$pat"
	ok $? "$*" || diag "got '$got', want no match of /$pat/"
}
diag() { printf '# %s\n' "$@"; }
done_testing() { echo "1..$_n"; [ "$_failed" -eq 0 ]; }

# msg FILE [SUBJECT] - a small, valid test message with a fresh Message-ID
msg() {
	local f=$1 subj=${2:-test}
	printf 'From: Alice <alice@example.org>\nTo: bob@example.org\nSubject: %s\nMessage-ID: <%s.%s@lda.test>\nDate: Sat, 21 Nov 2026 10:00:00 +0000\n\nHello Bob.\nFrom the test.\n' \
		"$subj" "$RANDOM$RANDOM" "$$" >"$f"
}

# Test accounts and groups. Each is named "ldat" + a tag (lower-case
# letters) + the pid of the test that made it, e.g. ldatsvc4711: plainly a
# test's, short (useradd takes 32 characters), and two runs at once never
# share one. It is removed when the test ends (userdel -r: the home and
# the mail spool too); one whose test died without cleaning up (its pid
# gone) is removed by the next test that makes an account.
_ACCT_LOCK=/tmp/lda-test-accounts.lock   # useradds at once lose updates
_acct() { flock -w 60 "$_ACCT_LOCK" "$@"; }
# _sweep_accounts - remove the accounts and groups of tests no longer
# running (only ours: the comment test_user gives, the name's pattern)
_ACCT_NOTE="lda test account"
_sweep_accounts() {
	local n pid
	for n in $(getent passwd | awk -F: -v c="$_ACCT_NOTE" '$5 == c { print $1 }' |
	    grep -E '^ldat[a-z]+[0-9]+$'); do
		pid=${n##*[a-z]}
		kill -0 "$pid" 2>/dev/null && continue
		_acct userdel -r -f "$n" >/dev/null 2>&1
		! getent group "$n" >/dev/null || _acct groupdel "$n" >/dev/null 2>&1
	done
	return 0
}
# test_user VAR TAG - a test account ldat<TAG><pid> with a home under
# /home; its name in $VAR. Fails if it cannot be made.
test_user() {
	local name=ldat$2$$
	[[ $2 =~ ^[a-z]+$ ]] || { echo "test_user: tag '$2': lower-case letters only" >&2; return 1; }
	_sweep_accounts
	if ! id "$name" >/dev/null 2>&1; then
		at_exit "_acct userdel -r -f $name"
		_acct useradd -m -c "$_ACCT_NOTE" -s /bin/sh "$name" >/dev/null 2>&1 || return 1
	fi
	printf -v "$1" %s "$name"
}
# test_group VAR TAG - a test group ldat<TAG><pid>, removed at exit
test_group() {
	local name=ldat$2$$
	if ! getent group "$name" >/dev/null; then
		at_exit "_acct groupdel $name"
		_acct groupadd "$name" >/dev/null 2>&1 || return 1
	fi
	printf -v "$1" %s "$name"
}
# ensure_user made permanent accounts with fixed names: gone (test_user)
ensure_user() { echo "Bail out! ensure_user $1: use test_user VAR TAG (tests/integration/lib.sh)"; exit 1; }

# maildir_count DIR - messages in DIR/new and DIR/cur
maildir_count() {
	find "$1/new" "$1/cur" -type f 2>/dev/null | wc -l | tr -d ' '
}
# maildir_one DIR - the path of the only message in DIR/new
maildir_one() { find "$1/new" -type f | head -n 1; }

# skip_part REASON - a part of this test cannot run here (a peer or a
# program missing): a note outside CI; under CI, where every check must
# run, a failing check.
skip_part() {
	if [ -n "${CI:-}" ]; then ok 1 "cannot run under CI: $*" || true
	else diag "skipped: $*"; fi
}
# skip_all REASON - this test cannot run here. Outside CI that is a TAP
# skip; under CI (CI set, as .ci/run has it) every test must run, so it is
# a failure: a skipped test is never counted as passing.
skip_all() {
	if [ -n "${CI:-}" ]; then
		echo "1..1"
		echo "not ok 1 - cannot run under CI: $*"
		exit 1
	fi
	echo "1..0 # SKIP $*"
	exit 0
}

# predicted IN CMD...: run CMD (a command line in which the word $LDA
# is lda) twice: first as lda --test, then for real with the real run's
# log in a file; the real run's stdout in $out, its exit in $st. Then
# one test: --test predicted the real run's exit code and the folders
# its log says it delivered to (local folders as named, a Maildir file
# as its Maildir; store copies as their RCPT address), copy for copy.
# $PRED_NAME (optional) names the case; $PRED_BETWEEN (optional) is
# eval'd between the two runs.
predicted() {
	local in=$1 a want got; shift
	local t_args=() r_args=()
	for a in "$@"; do
		if [ "$a" = "$LDA" ]; then
			t_args+=("$a" --test); r_args+=("$a" --log-file "$T/.real.log")
		else
			t_args+=("$a"); r_args+=("$a")
		fi
	done
	pst=0; "${t_args[@]}" <"$in" >"$T/.pred.out" 2>/dev/null || pst=$?
	: >"$T/.real.log"; chmod 666 "$T/.real.log"
	eval "${PRED_BETWEEN:-}"
	st=0; out=$("${r_args[@]}" <"$in" 2>/dev/null) || st=$?
	got=$(_pred_folders 'dry-run' <"$T/.pred.out")
	want=$(_pred_folders 'sent|discarded' <"$T/.real.log")
	is "exit $pst: $got" "exit $st: $want" \
		"--test predicts the real run${PRED_NAME:+ ($PRED_NAME)}: exit $st, to [$want]" ||
		diag "--test said:" "$(grep -v '^lda: ' "$T/.pred.out")"
}
# _pred_folders STATUS-RE: the folder= of each log line with that status
_pred_folders() {
	sed -En "s/.*[:,] folder=([^,]*), .*status=($1)([ ,].*)?\$/\\1/p" |
		sed -E 's#/new/[^/]*$#/#' | sort | tr '\n' ' '
}

# lib.sh - helpers the fault tests share (sourced after
# tests/integration/lib.sh): the LD_PRELOAD fault shim and readers of
# what a folder holds, the way a mail reader sees it.
# Not a test itself (prove runs only *.t).

SHIM=${LDA_BUILD:?LDA_BUILD must name the build tree}/tests/faults/shim.so
[ -f "$SHIM" ] || skip_all "no fault shim at $SHIM (make check builds it)"
PY=/usr/bin/python3; [ -x $PY ] || PY=python3
# an ASan build accepts a preloaded library that is not first
export ASAN_OPTIONS=${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}verify_asan_link_order=0

# faulty SPEC CMD... - CMD with the shim preloaded and LDA_FAULT=SPEC
# (tests/faults/shim.c says what SPEC may be)
faulty() {
	local spec=$1; shift
	LD_PRELOAD=$SHIM LDA_FAULT=$spec "$@"
}

# mbox_read FILE - one line per message as python's mailbox.mbox reads
# FILE: "SUBJECT BODY-SHA1-PREFIX"
mbox_read() {
	$PY - "$1" <<'PYEOF'
import hashlib, mailbox, sys
for m in mailbox.mbox(sys.argv[1], create=False):
    body = m.get_payload(decode=False)
    if not isinstance(body, str):
        body = str(body)
    print(m.get("Subject", "-"), hashlib.sha1(body.encode("utf-8", "surrogateescape")).hexdigest()[:10])
PYEOF
}

# formail_count FILE - messages formail -s splits FILE into
formail_count() {
	formail -s sh -c 'cat >/dev/null; echo m' <"$1" | wc -l | tr -d ' '
}

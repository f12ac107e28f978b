#!/bin/bash
# spamd-down.sh DIR -- stop the private spamd started by spamd-up.sh DIR and
# remove DIR. Run as root. Safe to call twice, or after a failed spamd-up.sh.
#
# Signals only our spamd (pid in DIR/spamd.pid, a process called spamd that
# holds DIR/spamd.log open: spamd rewrites its command line) and its children (tests/peers/stop.sh): SIGTERM, wait up to 5 s,
# then SIGKILL whatever is left. It does not touch any other spamd.
# spamd-down.sh --kill DIR stops it the same way but keeps DIR (a test that
# kills spamd on purpose; spamd-up.sh DIR starts it again).
set -euo pipefail
keep=0
[ "${1:-}" = --kill ] && { keep=1; shift; }
D=${1:?usage: spamd-down.sh [--kill] DIR}
[ -d "$D" ] || exit 0
D=$(cd "$D" && pwd -P)
[ "$D" != / ] && { [ -e "$D/site" ] || [ -z "$(ls -A "$D")" ]; } ||
    { echo "spamd-down.sh: $D does not look like a spamd-up.sh dir; not touching it" >&2; exit 1; }

. "$(dirname "$0")/stop.sh"
if [ -s "$D/spamd.pid" ]; then
    m=$(cat "$D/spamd.pid")
    if [ "$(cat "/proc/$m/comm" 2>/dev/null)" = spamd ] &&
       ls -l "/proc/$m/fd" 2>/dev/null | grep -qF -- "-> $D/spamd.log"; then
        peer_stop "$m"
    fi
    rm -f "$D/spamd.pid"
fi
rm -f "$D/spamd.sock"
[ "$keep" = 1 ] || rm -rf "$D"

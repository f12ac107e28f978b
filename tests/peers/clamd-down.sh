#!/bin/bash
# clamd-down.sh DIR -- stop the private clamd started by clamd-up.sh DIR and
# remove DIR. Run as root. Safe to call twice, or after a failed clamd-up.sh.
# Signals only our clamd: the pid in DIR/clamd.pid whose command line names
# DIR/clamd.conf. SIGTERM, up to 5 s, then SIGKILL.
set -euo pipefail
D=${1:?usage: clamd-down.sh DIR}
[ -d "$D" ] || exit 0
D=$(cd "$D" && pwd -P)
[ "$D" != / ] && { [ -e "$D/clamd.conf" ] || [ -z "$(ls -A "$D")" ]; } ||
    { echo "clamd-down.sh: $D does not look like a clamd-up.sh dir; not touching it" >&2; exit 1; }
. "$(dirname "$0")/stop.sh"
if [ -s "$D/clamd.pid" ]; then
    m=$(cat "$D/clamd.pid")
    if [ -r "/proc/$m/cmdline" ] && tr '\0' ' ' < "/proc/$m/cmdline" | grep -qF -- "$D/clamd.conf"; then
        peer_stop "$m" zombie-ok
    fi
fi
rm -rf "$D"

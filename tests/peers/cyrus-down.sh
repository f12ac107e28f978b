#!/bin/bash
# cyrus-down.sh DIR -- stop the private Cyrus started by cyrus-up.sh DIR and
# remove DIR. Run as root. Safe to call twice, or after a failed cyrus-up.sh.
#
# Signals only our master (pid in DIR/master.pid whose command line names
# DIR/cyrus.conf) and its descendants (tests/peers/stop.sh):
# SIGTERM, wait up to 5 s, then SIGKILL whatever is left. It does not touch
# any other Cyrus on the machine.
set -euo pipefail
D=${1:?usage: cyrus-down.sh DIR}
[ -d "$D" ] || exit 0
D=$(cd "$D" && pwd -P)
[ "$D" != / ] && { [ -e "$D/imapd.conf" ] || [ -e "$D/conf" ] || [ -z "$(ls -A "$D")" ]; } ||
    { echo "cyrus-down.sh: $D does not look like a cyrus-up.sh dir; not touching it" >&2; exit 1; }

. "$(dirname "$0")/stop.sh"
if [ -s "$D/master.pid" ]; then
    m=$(cat "$D/master.pid")
    if [ -r "/proc/$m/cmdline" ] && tr '\0' ' ' < "/proc/$m/cmdline" | grep -qF -- "-M $D/cyrus.conf"; then
        peer_stop "$m"
    fi
fi
rm -rf "$D"

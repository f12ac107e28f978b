#!/bin/bash
# dovecot-down.sh DIR -- stop the private Dovecot started by dovecot-up.sh DIR and
# remove DIR. Run as root. Safe to call twice, or after a failed dovecot-up.sh.
#
# Signals only our master (pid in DIR/run/master.pid whose command line names
# DIR/dovecot.conf) and its descendants (tests/peers/stop.sh):
# SIGTERM, wait up to 5 s, then SIGKILL whatever is left. It does not touch
# any other Dovecot on the machine.
set -euo pipefail
D=${1:?usage: dovecot-down.sh DIR}
[ -d "$D" ] || exit 0
D=$(cd "$D" && pwd -P)
[ "$D" != / ] && { [ -e "$D/dovecot.conf" ] || [ -e "$D/mail" ] || [ -z "$(ls -A "$D")" ]; } ||
    { echo "dovecot-down.sh: $D does not look like a dovecot-up.sh dir; not touching it" >&2; exit 1; }

. "$(dirname "$0")/stop.sh"
if [ -s "$D/run/master.pid" ]; then
    m=$(cat "$D/run/master.pid")
    if [ -r "/proc/$m/cmdline" ] && tr '\0' ' ' < "/proc/$m/cmdline" | grep -qF -- "-c $D/dovecot.conf"; then
        peer_stop "$m"
    fi
fi
rm -rf "$D"

#!/bin/bash
# murder-down.sh DIR [INSTANCE|keep] -- stop the private Cyrus Murder started
# by murder-up.sh DIR and remove DIR; with INSTANCE (mupdate, be1, be2, fe)
# stop only that instance's master and keep everything else (a test's
# "back end down"); with "keep", stop them all but leave DIR (murder-up.sh's
# clean-up after a failed start, so its logs can be read). Run as root. Safe
# to call twice.
#
# Signals only each instance's own master (pid in DIR/NAME/master.pid whose
# command line names DIR/NAME/cyrus.conf) and its descendants
# (tests/peers/stop.sh); never any other Cyrus on the machine.
set -euo pipefail
D=${1:?usage: murder-down.sh DIR [INSTANCE|keep]}
ONLY=${2:-}
[ -d "$D" ] || exit 0
D=$(cd "$D" && pwd -P)
[ "$D" != / ] && { [ -d "$D/fe" ] || [ -d "$D/mupdate" ] || [ -z "$(ls -A "$D")" ]; } ||
    { echo "murder-down.sh: $D does not look like a murder-up.sh dir; not touching it" >&2; exit 1; }

. "$(dirname "$0")/stop.sh"
for i in fe be1 be2 mupdate; do
    [ -z "$ONLY" ] || [ "$ONLY" = keep ] || [ "$ONLY" = "$i" ] || continue
    p=$D/$i/master.pid
    [ -s "$p" ] || continue
    m=$(cat "$p")
    if [ -r "/proc/$m/cmdline" ] && tr '\0' ' ' < "/proc/$m/cmdline" | grep -qF -- "-M $D/$i/cyrus.conf"; then
        peer_stop "$m"
    fi
    rm -f "$p"
done
[ -n "$ONLY" ] || rm -rf "$D"

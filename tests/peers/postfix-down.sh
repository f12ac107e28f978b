#!/bin/bash
# postfix-down.sh DIR -- stop the private Postfix of postfix-up.sh DIR and
# remove DIR. Run as root. Safe to call twice, or after a failed up.
# After "postfix stop", only our master (DIR/data/master.lock's pid, if it
# still holds that lock open) and its descendants are signalled
# (tests/peers/stop.sh).
set -euo pipefail
D=${1:?usage: postfix-down.sh DIR}
[ -d "$D" ] || exit 0
D=$(cd "$D" && pwd -P)
[ "$D" != / ] && { [ -e "$D/etc/main.cf" ] || [ -z "$(ls -A "$D")" ]; } ||
    { echo "postfix-down.sh: $D does not look like a postfix-up.sh dir; not touching it" >&2; exit 1; }

. "$(dirname "$0")/stop.sh"
postfix -c "$D/etc" stop >/dev/null 2>&1 || true
m=$(tr -dc 0-9 < "$D/data/master.lock" 2>/dev/null || true)
if [ -n "$m" ] && ls -l "/proc/$m/fd" 2>/dev/null | grep -qF -- "$D/data/master.lock"; then
    peer_stop "$m"
fi
rm -rf "$D"

#!/bin/bash
# sendmail-down.sh DIR -- stop the private sendmail of sendmail-up.sh DIR
# and remove DIR. Run as root. Safe to call twice, or after a failed up.
# Only the daemon named by DIR/sendmail.pid, if it runs our binary
# (DIR/root/...: sendmail rewrites its command line), and its descendants
# are signalled (stop.sh).
set -euo pipefail
D=${1:?usage: sendmail-down.sh DIR}
[ -d "$D" ] || exit 0
D=$(cd "$D" && pwd -P)
[ "$D" != / ] && { [ -e "$D/sendmail" ] || [ -d "$D/root" ] || [ -z "$(ls -A "$D")" ]; } ||
    { echo "sendmail-down.sh: $D does not look like a sendmail-up.sh dir; not touching it" >&2; exit 1; }
. "$(dirname "$0")/stop.sh"
m=$(head -n 1 "$D/sendmail.pid" 2>/dev/null | tr -dc 0-9 || true)
if [ -n "$m" ] && [ "$(readlink "/proc/$m/exe" 2>/dev/null)" = "$D/root/usr/libexec/sendmail/sendmail" ]; then
    peer_stop "$m"
fi
rm -rf "$D"

#!/bin/bash
# spamd-down.sh DIR -- stop the private spamd started by spamd-up.sh DIR and
# remove DIR. Run as root. Safe to call twice, or after a failed spamd-up.sh.
#
# Signals only our spamd (pid in DIR/spamd.pid, a process called spamd that
# holds DIR/spamd.log open: spamd rewrites its command line) and its children (found via /proc): SIGTERM, wait up to 5 s,
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

children() { # live children of pid $1, from /proc/*/stat
    local want=$1 s l
    for s in /proc/[0-9]*/stat; do
        read -r l < "$s" 2>/dev/null || continue
        l=${l##*) }; set -- $l; s=${s#/proc/}
        [ "$2" = "$want" ] && echo "${s%/stat}"
    done
    return 0
}

if [ -s "$D/spamd.pid" ]; then
    m=$(cat "$D/spamd.pid")
    if [ "$(cat "/proc/$m/comm" 2>/dev/null)" = spamd ] &&
       ls -l "/proc/$m/fd" 2>/dev/null | grep -qF -- "-> $D/spamd.log"; then
        kids=$(children "$m")
        kill -TERM "$m" $kids 2>/dev/null || true
        alive=""
        for _ in $(seq 50); do
            alive=""
            for p in $m $kids; do kill -0 "$p" 2>/dev/null && alive="$alive $p"; done
            [ -z "$alive" ] && break
            sleep 0.1
        done
        # shellcheck disable=SC2086
        [ -n "$alive" ] && kill -KILL $alive 2>/dev/null || true
    fi
    rm -f "$D/spamd.pid"
fi
rm -f "$D/spamd.sock"
[ "$keep" = 1 ] || rm -rf "$D"

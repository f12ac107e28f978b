#!/bin/bash
# dovecot-down.sh DIR -- stop the private Dovecot started by dovecot-up.sh DIR and
# remove DIR. Run as root. Safe to call twice, or after a failed dovecot-up.sh.
#
# Signals only our master (pid in DIR/run/master.pid whose command line names
# DIR/dovecot.conf) and its descendants (found via /proc, no procps needed):
# SIGTERM, wait up to 5 s, then SIGKILL whatever is left. It does not touch
# any other Dovecot on the machine.
set -euo pipefail
D=${1:?usage: dovecot-down.sh DIR}
[ -d "$D" ] || exit 0
D=$(cd "$D" && pwd -P)
[ "$D" != / ] && { [ -e "$D/dovecot.conf" ] || [ -e "$D/mail" ] || [ -z "$(ls -A "$D")" ]; } ||
    { echo "dovecot-down.sh: $D does not look like a dovecot-up.sh dir; not touching it" >&2; exit 1; }

descendants() { # all live descendants of pid $1, from one pass over /proc/*/stat
    local s l
    for s in /proc/[0-9]*/stat; do
        { read -r l < "$s"; } 2>/dev/null || continue
        l=${l##*) }; set -- $l; s=${s#/proc/}; echo "${s%/stat} $2"
    done | awk -v root="$1" '{ par[$1] = $2 }
        END { n = 1; want[root] = 1
              while (n) { n = 0; for (p in par) if ((par[p] in want) && !(p in want)) { want[p] = 1; n = 1; print p } } }'
}

if [ -s "$D/run/master.pid" ]; then
    m=$(cat "$D/run/master.pid")
    if [ -r "/proc/$m/cmdline" ] && tr '\0' ' ' < "/proc/$m/cmdline" | grep -qF -- "-c $D/dovecot.conf"; then
        kids=$(descendants "$m")
        kill -TERM "$m" $kids 2>/dev/null || true
        for _ in $(seq 50); do
            alive=""
            for p in $m $kids; do kill -0 "$p" 2>/dev/null && alive="$alive $p"; done
            [ -z "$alive" ] && break
            sleep 0.1
        done
        # shellcheck disable=SC2086
        [ -n "$alive" ] && kill -KILL $alive 2>/dev/null || true
    fi
fi
rm -rf "$D"

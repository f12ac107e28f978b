# stop.sh - sourced by the *-down.sh scripts: stop one daemon and all its
# descendants. Each down script first checks that the pid really is its
# own instance (its pid file, command line or open files); this only stops.
# No procps needed: descendants come from one pass over /proc/*/stat.

# peer_descendants PID - every live descendant of PID
peer_descendants() {
    local s l
    for s in /proc/[0-9]*/stat; do
        { read -r l < "$s"; } 2>/dev/null || continue
        l=${l##*) }; set -- $l; s=${s#/proc/}; echo "${s%/stat} $2"
    done | awk -v root="$1" '{ par[$1] = $2 }
        END { n = 1; want[root] = 1
              while (n) { n = 0; for (p in par) if ((par[p] in want) && !(p in want)) { want[p] = 1; n = 1; print p } } }'
}

# peer_zombie PID - PID is a zombie (exited, not reaped)
peer_zombie() {
    [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ]
}

# peer_stop PID [zombie-ok] - SIGTERM PID and its descendants, wait up to
# 5 s for all of them to vanish, then SIGKILL whatever is left. zombie-ok:
# PID itself counts as gone once it is a zombie (a daemon whose parent, a
# test's shell, never reaps it)
peer_stop() {
    local m=$1 zok=${2:-} kids alive p
    kids=$(peer_descendants "$m")
    # shellcheck disable=SC2086
    kill -TERM "$m" $kids 2>/dev/null || true
    for _ in $(seq 50); do
        alive=""
        for p in $m $kids; do
            kill -0 "$p" 2>/dev/null || continue
            [ "$p" = "$m" ] && [ -n "$zok" ] && peer_zombie "$p" && continue
            alive="$alive $p"
        done
        [ -z "$alive" ] && return 0
        sleep 0.1
    done
    # shellcheck disable=SC2086
    kill -KILL $alive 2>/dev/null || true
}

#!/usr/bin/env bash
# bboard-perms.t - issue 11 point 1: a board post's group and mode are set
# on the file's descriptor before it is linked into BOARD/new/, never by
# its name. A member of the board's group who swaps the new name for a
# symlink (here at once, by an LD_PRELOAD shim around link(): the race
# made certain) must not get a file of the posting account group-readable.
# Needs root and a C compiler; about 1 s.
. "$LDA_TOP/tests/integration/lib.sh"

if [ "$(id -u)" != 0 ]; then skip_all "needs root"; fi
command -v cc >/dev/null || skip_all "no C compiler for the shim"

test_user BB bb && test_group G board ||
	{ echo "Bail out! cannot make a test user and group"; exit 1; }
usermod -aG $G $BB
BH=$(getent passwd $BB | cut -d: -f6)

# The shim: after a link() into a board's new/, the name becomes a
# symlink to $SHIM_VICTIM, as the group member's swap would make it.
cat >"$T/shim.c" <<'C'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
int link(const char *old, const char *new)
{
	int (*real)(const char *, const char *) =
	    (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "link");
	const char *victim = getenv("SHIM_VICTIM");
	int r = real(old, new);
	if (r == 0 && victim && strstr(new, "/new/")) {
		unlink(new);
		if (symlink(victim, new) != 0)
			_exit(99);
	}
	return r;
}
C
cc -shared -fPIC -o "$T/shim.so" "$T/shim.c" -ldl ||
	{ echo "Bail out! cannot build the shim"; exit 1; }
chmod 755 "$T/shim.so"

B=$T/boards
mkdir -p "$B/general/new" "$B/general/cur" "$B/general/tmp"
chgrp -R $G "$B/general"; chmod 2770 "$B/general" "$B"/general/*
cat >"$T/sys.rc" <<EOF
MAILDIR=$T
FILTERS=bboard
BOARD_ROOT=$B
POSTUSER=$BB
EOF
chmod 644 "$T/sys.rc"
msg "$T/m"; chmod 644 "$T/m"

# A post without the swap: the board's group and group bits.
st=0; "$LDA" --config "$T/sys.rc" -d "$BB+general" <"$T/m" >/dev/null 2>&1 || st=$?
is "$st" 0 "a board post: exit 0"
f=$(find "$B/general/new" -type f | head -n 1)
is "$(stat -c '%a %G' "$f" 2>/dev/null)" "660 $G" "the post has the board's group and group bits"

# The swap: the post's name points at a private file of the poster.
V=$BH/private; echo secret >"$V"; chown $BB:$BB "$V"; chmod 600 "$V"
at_exit "rm -f '$V'"
st=0; SHIM_VICTIM=$V LD_PRELOAD=$T/shim.so ASAN_OPTIONS=verify_asan_link_order=0 \
	"$LDA" --config "$T/sys.rc" -d "$BB+general" <"$T/m" >/dev/null 2>&1 || st=$?
ok "$([ -L "$(find "$B/general/new" -type l | head -n 1)" ]; echo $?)" "the shim swapped the name for a symlink"
is "$(stat -c '%a %G' "$V")" "600 $BB" "the symlink's target keeps its mode and group (no chmod/chown by name)"
done_testing

#!/bin/sh
# spool-guard.sh CMD... - how make check runs the suite: as root, CMD runs
# in a private mount namespace whose /var/mail is an empty directory of
# the spool's owner and mode, so that a test that delivers into a real
# mailbox (lda as root without -d and without DEFAULT: /var/mail/root)
# touches no mailbox of the host. Whatever is left there when CMD ends is
# such a stray delivery: it is listed and the run fails. Not root, or
# without unshare(1): CMD runs as it is.
if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null 2>&1 ||
    [ ! -d /var/mail ] || ! unshare -m true 2>/dev/null; then
	exec "$@"
fi
spool=$(mktemp -d "${TMPDIR:-/tmp}/lda-spool.XXXXXX") || exit 1
chown --reference=/var/mail "$spool" && chmod --reference=/var/mail "$spool" ||
	{ rmdir "$spool"; exit 1; }
LDA_SPOOL=$spool unshare -m --propagation private sh -c \
    'mount --bind "$LDA_SPOOL" /var/mail && exec "$@"' sh "$@"
st=$?
if [ -n "$(ls -A "$spool")" ]; then
	echo "spool-guard: the tests left mail in /var/mail (a private one; the host's is untouched):" >&2
	for f in "$spool"/* "$spool"/.[!.]*; do
		[ -e "$f" ] || continue
		echo "  ${f##*/}: $(wc -c <"$f" 2>/dev/null) bytes, $(grep -c '^From ' "$f" 2>/dev/null) message(s): $(grep '^Subject:' "$f" 2>/dev/null | sed 's/^Subject: //' | tr '\n' ',')" >&2
	done
	[ "$st" = 0 ] && st=1
fi
rm -rf "$spool"
exit $st

#!/usr/bin/env bash
# install.t - make install honours PREFIX and DESTDIR, installs lda 0755
# (never setuid or setgid), the modules, the man page, and lda.rc.example
# as the system rc without overwriting one that is there.
. "$LDA_TOP/tests/integration/lib.sh"
: "${LDA_BUILD:?LDA_BUILD must name the build directory (make check sets it)}"

R=$T/root
inst() { make -s -C "$LDA_TOP" install BUILD="$LDA_BUILD" LDA="$LDA" \
	PREFIX=/opt/lda DESTDIR="$R" SYSCONFDIR=/opt/lda/etc >"$T/make.out" 2>&1; }
inst
is "$?" 0 "make install exits 0"
is "$(stat -c %a "$R/opt/lda/bin/lda" 2>/dev/null)" 755 "lda is installed 0755: not setuid, not setgid"
ok $([ -f "$R/opt/lda/share/man/man1/lda.1" ]; echo $?) "the man page is installed under PREFIX"
ok $([ -f "$R/opt/lda/lib/lda/clamav.so" ] && [ -f "$R/opt/lda/lib/lda/spf.so" ]; echo $?) "the filter modules are installed in MODDIR"
ok $(cmp -s "$R/opt/lda/etc/lda.rc" "$LDA_TOP/lda.rc.example"; echo $?) "lda.rc.example becomes the system rc"
echo '# mine' >"$R/opt/lda/etc/lda.rc"
inst
is "$(cat "$R/opt/lda/etc/lda.rc")" "# mine" "an existing system rc is not overwritten"
is "$(find "$R" -perm /6000 | wc -l)" 0 "nothing installed is setuid or setgid"
done_testing

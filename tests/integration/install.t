#!/usr/bin/env bash
# install.t - make install and make uninstall, in a private build tree:
#  - PREFIX=$T/usr (no DESTDIR): the installed lda knows its paths
#    (--version), finds its installed module (spf.so) and delivers through
#    it, and reads the system rc it installed;
#  - the system rc install creates has no recipe and no setting: a user's
#    ~/.procmailrc run through it delivers exactly where procmail does
#    (relative folder names, MAILDIR unset);
#  - a second install with another PREFIX into a DESTDIR rebuilds lda with
#    the new paths; lda.rc.example is documentation (share/doc/lda), the
#    man pages are in man1 and man5, lda is 0755 (never setuid or setgid),
#    an existing system rc is never overwritten;
#  - uninstall removes what install put there, and the system rc only
#    while it is unchanged.
. "$LDA_TOP/tests/integration/lib.sh"

B=$T/build   # never the suite's build tree: a new PREFIX rebuilds lda
mk() { make -s -C "$LDA_TOP" BUILD="$B" "$@" >>"$T/make.out" 2>&1; }
showmake() { diag "$(tail -n 20 "$T/make.out")"; }

# --- 1. PREFIX=$T/usr, SYSCONFDIR=$T/etc, no DESTDIR ----------------------------
P=$T/usr E=$T/etc
mk install PREFIX="$P" SYSCONFDIR="$E"
is "$?" 0 "make install PREFIX=$P exits 0" || showmake
L=$P/bin/lda
v=$("$L" --version 2>&1)
like "$v" "^lda [0-9]" "--version prints the version"
like "$v" "system rc: $E/lda\.rc" "--version prints the system rc compiled in"
like "$v" "modules: $P/lib/lda" "--version prints the module directory compiled in"
ok $([ -f "$P/lib/lda/spf.so" ] && [ -f "$P/lib/lda/clamav.so" ]; echo $?) "the modules are in PREFIX/lib/lda"

# delivery through the installed spf.so: no MODULE_PATH, the compiled-in one
H=$T/home
mkdir -p "$H/mail"
printf 'pass.example TXT "v=spf1 ip4:192.0.2.0/24 -all"\n' >"$T/zone"
printf '%s\n' "MAILDIR=$H/mail" "DEFAULT=$H/mail/inbox/" 'FILTERS=spf' \
	"SPF_DNS_ZONE=$T/zone" 'SPF_RECEIVER=mx.example.org' >"$T/spf.rc"
printf '%s\n' ':0' '* ^Received-SPF: pass ' 'spf-pass/' >"$H/.ldarc"
msg "$T/m"
st=0
HOME=$H CLIENT_ADDRESS=192.0.2.1 CLIENT_HELO=c.example "$L" --config "$T/spf.rc" \
	-f user@pass.example <"$T/m" >"$T/out" 2>&1 || st=$?
is "$st" 0 "delivered through the installed spf module: exit 0" || diag "$(cat "$T/out")"
is "$(maildir_count "$H/mail/spf-pass")" 1 "... and the spf module ran (Received-SPF: pass)"

# --- 2. a user's .procmailrc through the installed system rc, against procmail --

test_user u inst || { echo "Bail out! cannot make a test user"; exit 1; }
uh=$(getent passwd "$u" | cut -d: -f6)
cat >"$T/procmailrc" <<'EOF'
# folders relative to MAILDIR, which is not set: procmail's is $HOME
:0
* ^List-Id:.*<announce\.
lists/
:0
* ^Subject: .*report
reports
:0
inbox/
EOF
install -o "$u" -m 0644 "$T/procmailrc" "$uh/.procmailrc"
printf 'From: MAILER-DAEMON@example.org\nTo: %s@example.org\nSubject: delivery report\nMessage-ID: <b.%s@lda.test>\n\nfailed\n' "$u" "$$" >"$T/bounce"
printf 'From: a@example.org\nTo: %s@example.org\nSubject: news\nList-Id: News <announce.example.org>\nMessage-ID: <l.%s@lda.test>\n\nnews\n' "$u" "$$" >"$T/list"
printf 'From: x@example.org\nTo: %s@example.org\nSubject: spam\nX-Spam-Flag: YES\nMessage-ID: <s.%s@lda.test>\n\nbuy\n' "$u" "$$" >"$T/spam"
msg "$T/plain"
# tree - where mail landed under the user's home: one line per folder and
# message count (Maildir file names made alike), the rc itself left out
tree() {
	(cd "$uh" && find . -type f ! -name .procmailrc ! -name '.bash*' ! -name .profile |
		sed -E 's,/(new|cur)/[^/]+$,/\1/MSG,' | sort | uniq -c)
}
# clean - the home as the user has it: the rc, and a ~/Maildir (used by an
# IMAP server, say) that procmail's rc does not name
clean() {
	find "$uh" -mindepth 1 -maxdepth 1 ! -name .procmailrc ! -name '.bash*' ! -name .profile -exec rm -rf {} +
	install -d -o "$u" "$uh/Maildir" "$uh/Maildir/new" "$uh/Maildir/cur" "$uh/Maildir/tmp"
}
deliver_all() { # deliver_all PROGRAM ARGS... - each message, exit codes
	local m s
	for m in bounce list spam plain; do
		s=0; "$@" <"$T/$m" >>"$T/deliver.out" 2>&1 || s=$?; printf '%s ' "$s"
	done
}
clean
pm=$(deliver_all /usr/bin/procmail -d "$u")
want=$(tree)
clean
got=$(deliver_all "$L" -d "$u")
is "$got" "$pm" "lda through the installed system rc: the exit codes procmail gives"
is "$(tree)" "$want" "... and every message where procmail put it" || diag "procmail: $want" "lda: $(tree)" "$(cat "$T/deliver.out")"
clean
E_RC=$E/lda.rc
unlike "$(grep -v '^[[:space:]]*#' "$E_RC" | grep -v '^[[:space:]]*$')" . "the installed system rc holds comments only: no recipe, no setting"
like "$(cat "$E_RC")" "$P/share/doc/lda/lda\.rc\.example" "... and points to the example"

# --- 3. another PREFIX, into a DESTDIR: lda is rebuilt ----------------------------
R=$T/root
mk install PREFIX=/opt/lda DESTDIR="$R"
is "$?" 0 "make install PREFIX=/opt/lda DESTDIR=... exits 0" || showmake
v=$("$R/opt/lda/bin/lda" --version 2>&1)
like "$v" "modules: /opt/lda/lib/lda" "a new PREFIX rebuilds lda: the new module directory is compiled in"
like "$v" "system rc: /etc/lda\.rc" "... and the system rc (SYSCONFDIR /etc)"
like "$("$L" --version)" "modules: $P/lib/lda" "the first install's lda is untouched"
is "$(stat -c %a "$R/opt/lda/bin/lda" 2>/dev/null)" 755 "lda is installed 0755: not setuid, not setgid"
ok $([ -f "$R/opt/lda/share/man/man1/lda.1" ] && [ -f "$R/opt/lda/share/man/man5/lda.rc.5" ]; echo $?) "lda.1 and lda.rc.5 are installed under PREFIX/share/man"
man1=$(cat "$R/opt/lda/share/man/man1/lda.1" 2>/dev/null)
like "$man1" '^\.I /opt/lda/lib/lda$' "the installed lda.1 names the module directory of this install"
unlike "$man1" '/usr/local/(lib|bin)/lda' "... and not the default's"
ok $(cmp -s "$R/opt/lda/share/doc/lda/lda.rc.example" "$LDA_TOP/lda.rc.example"; echo $?) "lda.rc.example is installed as documentation"
ok $([ -f "$R/opt/lda/lib/lda/clamav.so" ] && [ -f "$R/opt/lda/lib/lda/spf.so" ]; echo $?) "the modules are in the new MODDIR"
ok $(cmp -s "$R/etc/lda.rc" "$E_RC"; [ $? = 1 ]; echo $?) "the system rc names the new PREFIX's example"
like "$(cat "$R/etc/lda.rc")" "/opt/lda/share/doc/lda/lda\.rc\.example" "... /opt/lda/share/doc/lda/lda.rc.example"
is "$(find "$R" -perm /6000 | wc -l)" 0 "nothing installed is setuid or setgid"

# the user's rc through the DESTDIR's system rc, once more
got=$(deliver_all "$R/opt/lda/bin/lda" --config "$R/etc/lda.rc" -d "$u")
is "$got/$(tree)" "$pm/$want" "lda with the DESTDIR's system rc delivers where procmail does"
clean

echo '# mine' >>"$R/etc/lda.rc"
cp "$R/etc/lda.rc" "$T/mine"
mk install PREFIX=/opt/lda DESTDIR="$R"
ok $(cmp -s "$R/etc/lda.rc" "$T/mine"; echo $?) "an existing system rc is not overwritten"

# --- 4. uninstall ----------------------------------------------------------------
mk uninstall PREFIX=/opt/lda DESTDIR="$R"
is "$?" 0 "make uninstall exits 0" || showmake
is "$(cd "$R" && find . -type f | sort)" "./etc/lda.rc" "uninstall removes every file install put there but the edited system rc"
like "$(cat "$T/make.out")" "lda\.rc was changed: kept" "... and says it kept it"
ok $([ ! -e "$R/opt/lda/lib/lda" ] && [ ! -e "$R/opt/lda/share/doc/lda" ]; echo $?) "... and lda's own directories"
mk uninstall PREFIX="$P" SYSCONFDIR="$E"
is "$?" 0 "make uninstall of the first install exits 0" || showmake
is "$(find "$P" "$E" -type f | wc -l)" 0 "an unchanged system rc is removed with the rest"
done_testing

#!/usr/bin/env bash
# filter-spf.t - the spf filter (libspf2 in the spf.so module) on a DNS zone
# the test writes (SPF_DNS_ZONE: libspf2's zone layer answers every query,
# nothing goes to the network): pass, fail, softfail, neutral, none,
# permerror, temperror; IPv6; the null sender (HELO identity); the client
# from postfix's CLIENT_ADDRESS/CLIENT_HELO or from the trusted MTA's
# Received field (postfix and exim forms, a forged one below it ignored);
# the Received-SPF field (RFC 7208, 9.1) and SPF_RESULT; failures with both
# policies. Takes about 1 s.
. "$LDA_TOP/tests/integration/lib.sh"
. "$LDA_TOP/tests/integration/filter-lib.sh"

MODS=${LDA_BUILD:?LDA_BUILD must name the build tree}/modules
if [ ! -f "$MODS/spf.so" ]; then skip_all "$MODS/spf.so not built"; fi

H=$T/home
mkdir -p "$H"
cat >"$H/.ldarc" <<'EOF'
:0
s-$SPF_RESULT-$FILTER_UNSCANNED/
EOF
cat >"$T/zone" <<'EOF'
# name TYPE data -- the whole DNS as libspf2 sees it in this test
pass.example      TXT "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all"
fail.example      TXT "v=spf1 -all"
soft.example      TXT "v=spf1 ~all"
neutral.example   TXT "v=spf1 ?all"
nospf.example     TXT "just some text"
perm.example      TXT "v=spf1 ip4:300.1.1.1 -all"
two.example       TXT "v=spf1 -all"
two.example       TXT "v=spf1 +all"
temp.example      TXT !TRY_AGAIN
helo.pass.example TXT "v=spf1 a -all"
helo.pass.example A   192.0.2.1
EOF
sysrc() {
	{ echo "MAILDIR=$H/mail"; echo "DEFAULT=$H/mail/default/"
	  echo "MODULE_PATH=$MODS"; echo "SPF_DNS_ZONE=$T/zone"
	  echo "SPF_RECEIVER=mx.example.org"; printf '%s\n' "$@"; } >"$T/sys.rc"
}
msg "$T/m"

sysrc 'FILTERS=spf'
# domain  client  want
while read -r dom ip want; do
	CLIENT_ADDRESS=$ip CLIENT_HELO=client.example run "$T/m" -f "user@$dom"
	is "$st/$dir" "0/s-$want-" "$dom from $ip: SPF_RESULT=$want, delivered"
	like "$(head -n 1 "$got")" "^Received-SPF: $want " "$dom: Received-SPF: $want, as the first field"
done <<'EOF'
pass.example 192.0.2.1 pass
pass.example 2001:db8::25 pass
fail.example 192.0.2.1 fail
soft.example 192.0.2.1 softfail
neutral.example 192.0.2.1 neutral
none.example 192.0.2.1 none
nospf.example 192.0.2.1 none
perm.example 192.0.2.1 permerror
two.example 192.0.2.1 permerror
temp.example 192.0.2.1 temperror
EOF

CLIENT_ADDRESS=192.0.2.1 CLIENT_HELO=helo.pass.example run "$T/m" -f "user@pass.example"
f=$(header "$got" | grep '^Received-SPF:')
like "$f" '^Received-SPF: pass \(mx\.example\.org: domain of pass\.example designates 192\.0\.2\.1 as permitted sender\) ' "the comment says who decided what"
like "$f" ' client-ip=192\.0\.2\.1; envelope-from="user@pass\.example"; helo=helo\.pass\.example; receiver=mx\.example\.org; identity=mailfrom;$' "key-value pairs as RFC 7208 9.1 has them"
is "$(grep -c '^Received-SPF' "$got")" 1 "one Received-SPF field"

CLIENT_ADDRESS=192.0.2.1 CLIENT_HELO=helo.pass.example run "$T/m" -f ""
is "$dir" "s-pass-" "null sender: the HELO identity is checked (pass)"
like "$(header "$got")" 'identity=helo;' "... identity=helo, no envelope-from"
CLIENT_ADDRESS=192.0.2.1 CLIENT_HELO=temp.example run "$T/m" -f "user@temp.example"
like "$(header "$got")" 'temperror .* problem="DNS lookup failure";' "temperror says what the problem was"

# --- the client from the trusted MTA's Received field ---------------------------------
rcv() { # rcv FILE RECEIVED-LINES...
	{ printf '%s\n' "${@:2}"; cat "$T/m"; } >"$1"
}
rcv "$T/r1" "Received: from helo.pass.example (mail.pass.example [192.0.2.1])" \
	"	by mx.example.org (Postfix) with ESMTP id 4ABCD; Sat, 21 Nov 2026 10:00:00 +0000 (UTC)"
sysrc 'FILTERS=spf'
run "$T/r1" -f user@pass.example
is "$dir" "s--" "no CLIENT_ADDRESS and no SPF_TRUSTED_MTA: not checked, SPF_RESULT empty"
is "$(grep -c '^Received-SPF' "$got")" 0 "... and no Received-SPF field"
sysrc 'FILTERS=spf' 'SPF_TRUSTED_MTA=mx.example.org'
run "$T/r1" -f user@pass.example
is "$dir" "s-pass-" "SPF_TRUSTED_MTA: client address from its postfix Received field"
like "$(header "$got")" 'client-ip=192\.0\.2\.1; .*helo=helo\.pass\.example;' "... and the HELO"
rcv "$T/r2" "Received: from helo.x (unknown [198.51.100.7]) by MX.example.org (Postfix) with ESMTP id 1" \
	"Received: from a (b [192.0.2.1]) by mx.example.org (forged by the sender)"
run "$T/r2" -f user@pass.example
is "$dir" "s-fail-" "only the topmost Received field of the trusted MTA counts (a forged one below is ignored)"
rcv "$T/r3" "Received: from mail.pass.example ([192.0.2.1] helo=helo.pass.example)" \
	"	by mx.example.org with esmtp (Exim 4.96) id 1abc"
run "$T/r3" -f user@pass.example
like "$(header "$got")" 'pass .*client-ip=192\.0\.2\.1; .*helo=helo\.pass\.example;' "exim's Received form: address and helo="
rcv "$T/r4" "Received: from a (b [192.0.2.1]) by other.example.net (Postfix)"
run "$T/r4" -f user@pass.example
is "$dir" "s--" "a Received field by another host is not trusted"

# --- failures ----------------------------------------------------------------------------
sysrc 'FILTERS=spf' "MODULE_PATH=$T/nowhere"
CLIENT_ADDRESS=192.0.2.1 run "$T/m" -f user@pass.example
is "$st/$dir" "0/s--spf" "spf.so missing, fail open (spf's default): delivered, FILTER_UNSCANNED=spf"
like "$(header "$got")" 'X-LDA-Unscanned: spf \(load module' "... with X-LDA-Unscanned saying why"
sysrc 'FILTERS=spf' "MODULE_PATH=$T/nowhere" 'SPF_FAILURE=closed'
CLIENT_ADDRESS=192.0.2.1 run "$T/m" -f user@pass.example
is "$st/$got" "75/" "spf.so missing, fail closed: exit 75, nothing delivered"
echo "bad.example BOGUS data" >"$T/badzone"
sysrc 'FILTERS=spf' "SPF_DNS_ZONE=$T/badzone"
CLIENT_ADDRESS=192.0.2.1 run "$T/m" -f user@pass.example
like "$(header "$got")" 'X-LDA-Unscanned: spf \(.*badzone:1' "a bad zone file line is reported with file:line"
sysrc 'FILTERS=spf'
CLIENT_ADDRESS=not-an-ip run "$T/m" -f user@pass.example
like "$st/$dir" '^0/s--spf$' "a CLIENT_ADDRESS that is no address: unchecked, delivered"

# --- the recipe form ------------------------------------------------------------------------
sysrc
cat >"$H/.ldarc" <<'EOF'
:0 fw
| @spf
:0
s-$SPF_RESULT-$FILTER_UNSCANNED/
EOF
CLIENT_ADDRESS=192.0.2.1 run "$T/m" -f user@fail.example
like "$dir" '^s-fail-$' "a ':0 fw' recipe with '| @spf' checks"

done_testing

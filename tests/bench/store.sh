#!/bin/bash
# store.sh LDA - delivery into a sealed store: 4 KB messages into a private
# Cyrus 3.6 (tests/peers/cyrus-up.sh) over its unix socket, one process per
# message as an MTA runs its local agent, five ways:
#   lda       lda --store lmtp:unix:SOCK -d bob (as a service user, no rc)
#   deliver   Cyrus's own /usr/lib/cyrus/bin/deliver -r SENDER bob
#   procmail  procmail with `:0 fhw | formail -I "From "` (Cyrus refuses the
#             From_ line procmail adds) and `:0 w | deliver ... bob`
#   floor     /bin/true spawned the same way (what any process costs)
#   min       tests/bench/lmtp-min.c: the least a per-message LMTP client
#             can do (connect, LHLO, pipelined MAIL/RCPT/DATA, the message,
#             QUIT; no spool, no rc) - a zero-cost LDA: floor + the store's
#             own time per connection. deliver/min and procmail/min are the
#             highest ratios any per-message LDA can reach here.
# and, as the ceiling, one LMTP connection for all the messages (python
# smtplib in one process; its own clock, without the interpreter's start).
# Then the peak RSS (GNU time -v) and wall time of one 20 MB message
# through lda and deliver.
#
# Run as root (`make bench` passes the binary); the LDAs run as user
# ldabench, started as postfix starts a local agent (tests/bench/spawn.c:
# fork, setgid/setgroups/setuid, a 5-variable env, exec). Method: a batch
# is BENCH_N messages (tests/bench/corpus.py small, ~4.1 KB, LF line ends)
# delivered by spawn; hyperfine times batches (BENCH_WARMUP
# warm-ups, BENCH_RUNS runs) in BENCH_ROUNDS rounds over the methods, so
# that the machine's drift hits all alike. Cyrus drops a repeated
# Message-ID without a word, so before every run (hyperfine --prepare) the
# corpus is made anew with a fresh tag, and the run before is checked over
# IMAP: bob's INBOX must have grown by exactly BENCH_N (else the script
# stops: timing a failing LDA is worthless); then the INBOX is emptied, so
# that every run delivers into the same empty mailbox. ms/msg = batch time / N.
#
# Cross-check, robust on a shared machine: BENCH_IN messages per method,
# delivered message by message with the methods in turn (the order
# rotating), each delivery timed alone; medians. Each method has its own
# fresh corpus, so that no method meets another's Message-IDs.
#
# Environment: BENCH_N (500) BENCH_RUNS (3) BENCH_WARMUP (1) BENCH_ROUNDS (2)
# BENCH_IN (300) BENCH_BIG_REPS (3) BENCH_TIMEOUT (600 s per batch)
# BENCH_OUT (a copy of the tables). Prints Markdown tables at the end;
# exits 1 when lda failed.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
N=${BENCH_N:-500}
RUNS=${BENCH_RUNS:-3}
WARM=${BENCH_WARMUP:-1}
ROUNDS=${BENCH_ROUNDS:-2}
BIG_REPS=${BENCH_BIG_REPS:-3}
IN=${BENCH_IN:-300}
TO=${BENCH_TIMEOUT:-600}
bench_init "${1-}"
[ -x /usr/lib/cyrus/bin/master ] || die "cyrus-imapd is not installed"
command -v formail >/dev/null || die "formail (procmail) is not installed"
t0=$SECONDS

PEERS=$BENCH_DIR/../peers
CY=$W/cyrus
mkdir "$CY"
"$PEERS/cyrus-up.sh" "$CY" >/dev/null || die "cyrus-up.sh failed"
trap '"$PEERS/cyrus-down.sh" "$CY" >/dev/null 2>&1 || true; bench_cleanup' EXIT
. "$CY/env"
# no protocol telemetry (the tests' instrument, tests/peers/cyrus-up.sh):
# the store runs as deployed
rm -rf "$CYRUS_TELEMETRY"
DELIVER=/usr/lib/cyrus/bin/deliver
cc -O2 -o "$W/lmtp-min" "$BENCH_DIR/lmtp-min.c" || die "cannot build lmtp-min.c"

# the procmail rc: formail drops the From_ line, deliver files the message
cat >"$W/procmailrc" <<EOF
SHELL=/bin/sh
:0 fhw
| formail -I "From "
:0 w
| $DELIVER -C $CYRUS_CONF -r $SENDER bob
EOF
chown "$BU:$BU" "$W/procmailrc"
chmod 0600 "$W/procmailrc"

declare -A BASE
BASE[floor]="/bin/true"
BASE[lda]="$(q "$LDA" --store "lmtp:unix:$CYRUS_LMTP_SOCK" --config "$W/empty.rc" -f "$SENDER" -d bob)"
BASE[deliver]="$(q "$DELIVER" -C "$CYRUS_CONF" -r "$SENDER" bob)"
BASE[procmail]="$(q /usr/bin/procmail -f "$SENDER" "$W/procmailrc")"
BASE[min]="$(q "$W/lmtp-min" "$CYRUS_LMTP_SOCK" "$SENDER" bob)"
METHODS="floor min lda deliver procmail"
declare -A FAILED

# one LMTP connection for a whole corpus; prints its own seconds
cat >"$W/lmtp1.py" <<'EOF'
import glob, smtplib, sys, time
sock, src, out = sys.argv[1], sys.argv[2], sys.argv[3]
msgs = [open(f, "rb").read() for f in sorted(glob.glob(src + "/*.eml"))]
t = time.perf_counter()
lm = smtplib.LMTP(sock)
lm.ehlo()
for m in msgs:
    lm.sendmail("sender@example.net", ["bob"], m)
lm.quit()
with open(out, "a") as f:
    f.write("%f\n" % (time.perf_counter() - t))
EOF
# IMAP: bob's INBOX count; with "reset", first an empty INBOX (as the
# admin: delete and create user.bob), so that every run meets the same
# mailbox (Cyrus maps a mailbox's whole index and cache per delivery: a
# growing INBOX would slow the later methods down)
cat >"$W/count.py" <<'EOF'
import imaplib, sys, time
if sys.argv[3:] == ["reset"]:
    a = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
    a.login("cyrus", sys.argv[2])
    a.setacl("user.bob", "cyrus", "lrswipkxtecda")
    for cmd in ("delete", "create"):
        for attempt in range(5):  # a delayed delete is named by the second
            typ, data = getattr(a, cmd)("user.bob")
            if typ == "OK" or attempt == 4:
                break
            time.sleep(1.1)
        if typ != "OK":
            sys.exit("bench: %s user.bob: %s" % (cmd, data))
    a.logout()
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
m.login("bob", sys.argv[2])
typ, data = m.select("INBOX", readonly=True)
print(int(data[0]))
m.logout()
EOF
# prepare STATE EXPECT: check the run before (INBOX grew by EXPECT), then
# a fresh corpus (new Message-IDs) for the next one
cat >"$W/prepare.sh" <<EOF
set -eu
st=\$1 expect=\$2
now=\$($PY "$W/count.py" "$CYRUS_IMAP_PORT" "$CYRUS_PW")
if [ -e "\$st.count" ]; then
	was=\$(cat "\$st.count")
	[ "\$((now - was))" = "\$expect" ] || {
		echo "bench: \$st: bob's INBOX grew by \$((now - was)), want \$expect" >&2; exit 1; }
fi
$PY "$W/count.py" "$CYRUS_IMAP_PORT" "$CYRUS_PW" reset >"\$st.count"
rm -rf "$W/corpus"
$PY "$BENCH_DIR/corpus.py" small "$W/corpus" --n "$N" --tag "store\$\$.\$RANDOM" >/dev/null
chmod -R a+rX "$W/corpus"
if [ -s /var/mail/$BU ]; then echo "bench: mail went to /var/mail/$BU" >&2; exit 1; fi
sync	# the fresh corpus on disk before the clock starts, as the MTA's queue would be
EOF

# hs NAME EXPECT CMD: hyperfine one batch command, checked before every run
hs() {
	local name=$1 expect=$2 cmd=$3 st=$W/out/$1
	rm -f "$st" "$st".*
	: >"$st.err"; chown "$BU:$BU" "$st.err"
	hyperfine --style basic --runs "$RUNS" --warmup "$WARM" \
		--prepare "$(q bash "$W/prepare.sh" "$st" "$expect")" \
		--export-json "$W/$name.json" --command-name "$name" "$cmd" \
		>"$W/$name.hf.txt" 2>&1 || { cat "$W/$name.hf.txt" >&2; return 1; }
	bash "$W/prepare.sh" "$st" "$expect"
}

bash "$W/prepare.sh" "$W/out/pre" 0
# preflight: one message through lda, so that a broken lda is clear
rc=0
eval "timeout 60 $(q "${AS[@]}") ${BASE[lda]}" <"$W/corpus/0000.eml" >"$W/pre.out" 2>&1 || rc=$?
[ "$rc" = 0 ] || { FAILED[lda]="preflight exit $rc: $(head -c 300 "$W/pre.out" | tr '\n' ' ')"; note "ERROR: lda: ${FAILED[lda]}"; }

for r in $(seq 1 "$ROUNDS"); do
	for m in $METHODS; do
		[ -z "${FAILED[$m]-}" ] || continue
		expect=$N; [ "$m" = floor ] && expect=0
		note "round $r/$ROUNDS: $m"
		cmd="$(drive_cmd "$W/corpus" 0 "$W/out/$m.r$r" "$TO") ${BASE[$m]}"
		if ! hs "$m.r$r" "$expect" "$cmd"; then
			FAILED[$m]="$(grep -m1 'FAILED\|bench:' "$W/out/$m.r$r.err" "$W/$m.r$r.hf.txt" 2>/dev/null | head -c 300)"
			note "ERROR: $m: ${FAILED[$m]}"
			[ "$m" = lda ] || die "a peer failed: $m"
		fi
	done
	note "round $r/$ROUNDS: one LMTP connection"
	: >"$W/out/lmtp1.r$r.secs"
	hs "lmtp1.r$r" "$N" "$(q $PY "$W/lmtp1.py" "$CYRUS_LMTP_SOCK" "$W/corpus" "$W/out/lmtp1.r$r.secs")" ||
		die "the python LMTP client failed"
done

# the cross-check: message by message, every method in turn, each timed
: >"$W/inter.txt"
ms=()
for m in $METHODS; do [ -n "${FAILED[$m]-}" ] || ms+=("$m"); done
for m in "${ms[@]}"; do
	$PY "$BENCH_DIR/corpus.py" small "$W/in-$m" --n "$IN" --tag "in$m$$" >/dev/null
	chmod -R a+rX "$W/in-$m"
done
note "interleaved: ${ms[*]}, $IN messages each"
before=$($PY "$W/count.py" "$CYRUS_IMAP_PORT" "$CYRUS_PW" reset)
sync
for ((i = 0; i < IN; i++)); do
	f=$(printf '%04d.eml' "$i")
	for ((k = 0; k < ${#ms[@]}; k++)); do
		m=${ms[$(((i + k) % ${#ms[@]}))]}
		timed_once "$m" "$W/in-$m/$f" || die "interleaved: $TIMED_ERR"
		echo "$m $TIMED_US" >>"$W/inter.txt"
	done
done
after=$($PY "$W/count.py" "$CYRUS_IMAP_PORT" "$CYRUS_PW")
k=0; for m in "${ms[@]}"; do [ "$m" = floor ] || k=$((k + 1)); done
[ "$((after - before))" = "$((k * IN))" ] ||
	die "interleaved: bob's INBOX grew by $((after - before)), want $((k * IN))"
t1=$SECONDS

# a 20 MB message: peak RSS and wall time
: >"$W/rss.txt"
for rep in $(seq 1 "$BIG_REPS"); do
	for m in floor lda deliver; do
		[ "$m" = lda ] && [ -n "${FAILED[lda]-}" ] && continue
		$PY "$BENCH_DIR/corpus.py" big "$W/big.eml" --size $((20 << 20)) --tag "big$rep.$m.$$" >/dev/null
		chmod a+r "$W/big.eml"
		before=$($PY "$W/count.py" "$CYRUS_IMAP_PORT" "$CYRUS_PW")
		rc=0
		eval "timeout $TO $(q "${AS[@]}" /usr/bin/time -v -o "$W/out/time.txt") ${BASE[$m]}" \
			<"$W/big.eml" >/dev/null 2>"$W/big.err" || rc=$?
		after=$($PY "$W/count.py" "$CYRUS_IMAP_PORT" "$CYRUS_PW")
		want=1; [ "$m" = floor ] && want=0
		if [ "$rc" != 0 ] || [ "$((after - before))" != "$want" ]; then
			FAILED[$m-big]="exit $rc, $((after - before)) delivered"
			note "ERROR: 20 MB through $m: ${FAILED[$m-big]}"
			continue
		fi
		awk -v m="$m" -F': ' '/Maximum resident set size/ { rss = $2 }
			/User time/ { u = $2 } /System time/ { s = $2 }
			/Elapsed \(wall clock\)/ { n = split($2, a, ":"); w = 0
				for (i = 1; i <= n; i++) w = w * 60 + a[i] }
			END { print m, rss, w, u + s }' "$W/out/time.txt" >>"$W/rss.txt"
	done
done
t2=$SECONDS

failed_list=""
for k in "${!FAILED[@]}"; do failed_list+="$k"$'\t'"${FAILED[$k]}"$'\n'; done
printf '%s' "$failed_list" >"$W/failed.txt"
$PY - "$W" "$N" "$WARM" "$RUNS" "$ROUNDS" "$MACHINE" "$((t1 - t0))" "$((t2 - t1))" \
	"bash tests/bench/store.sh $LDA" <<'EOF' | tee "${BENCH_OUT:-/dev/null}"
import glob, json, statistics as st, sys, time
W, N, WARM, RUNS, ROUNDS = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
machine, tsmall, tbig, cmd = sys.argv[6:10]
failed = dict(l.split("\t", 1) for l in open(f"{W}/failed.txt").read().splitlines() if l)
res = {}
for m in ("floor", "min", "lda", "deliver", "procmail", "lmtp1"):
    wall = []
    for js in sorted(glob.glob(f"{W}/{m}.r*.json")):
        wall += [t * 1000 / N for t in json.load(open(js))["results"][0]["times"]]
    if m == "lmtp1":
        own = [float(x) * 1000 / N for f in sorted(glob.glob(f"{W}/out/lmtp1.r*.secs"))
               for x in open(f).read().split()[WARM:]]
        if own:
            res["lmtp1-own"] = dict(mean=st.mean(own), med=st.median(own), lo=min(own), hi=max(own),
                                    sd=st.stdev(own) if len(own) > 1 else 0, n=len(own))
    if wall and m not in failed:
        res[m] = dict(mean=st.mean(wall), med=st.median(wall), lo=min(wall), hi=max(wall),
                      sd=st.stdev(wall) if len(wall) > 1 else 0, n=len(wall))
names = {"floor": "/bin/true per message (floor)", "lda": "lda --store lmtp:unix:… -d bob",
         "min": "minimal LMTP client per message (a zero-cost LDA)",
         "deliver": "Cyrus deliver per message", "procmail": "procmail → formail → deliver",
         "lmtp1": "one LMTP connection, python (wall incl. interpreter start)",
         "lmtp1-own": "one LMTP connection, python (its own clock: the ceiling)"}
print(f"\n### Delivery into Cyrus over LMTP ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})\n")
print(f"Machine: {machine}. Command: `{cmd}` (as root; the LDAs run as an ordinary user).")
print(f"{N} messages of ~4.1 KB per batch into bob's INBOX of a private Cyrus 3.6 over its unix "
      f"socket, each by its own process (fork, setuid, exec as postfix does: tests/bench/spawn.c); "
      f"{ROUNDS} rounds × {RUNS} hyperfine "
      f"runs (+{WARM} warm-up), a fresh corpus (new Message-IDs) before every run, every run "
      f"checked over IMAP (+{N} in the INBOX).\n")
print("| path | ms/msg mean ± σ | median (min–max) | msgs/s | lda is × faster |")
print("|---|---|---|---|---|")
lda = res.get("lda")
for m in ("floor", "min", "lda", "deliver", "procmail", "lmtp1", "lmtp1-own"):
    r = res.get(m)
    if r is None:
        print(f"| {names[m]} | **FAILED** {failed.get(m, 'no data')[:150]} | | | |")
        continue
    ratio = f"{r['mean'] / lda['mean']:.2f}" if lda and m not in ("lda",) else "–"
    print(f"| {names[m]} | {r['mean']:.2f} ± {r['sd']:.2f} | {r['med']:.2f} ({r['lo']:.2f}–{r['hi']:.2f}) | "
          f"{1000 / r['mean']:.0f} | {ratio} |")
if lda and "floor" in res:
    fl = res["floor"]["mean"]
    print(f"\nNet of the floor (what the LDA itself costs per message): lda {lda['mean'] - fl:.2f} ms"
          + "".join(f", {m} {res[m]['mean'] - fl:.2f} ms" for m in ("min", "deliver", "procmail") if m in res) + ".")
    if "min" in res:
        print(f"lda's own cost over the zero-cost client (its start-up, spool, rc, checks): "
              f"{lda['mean'] - res['min']['mean']:.2f} ms per message.")
    for m, want in (("deliver", 4), ("procmail", 5)):
        if m in res:
            x = res[m]["mean"] / lda["mean"]
            bound = f"; the most any LDA could reach here ({m}/min): {res[m]['mean'] / res['min']['mean']:.2f}×" if "min" in res else ""
            need = f"; {want}× needs lda ≤ {res[m]['mean'] / want:.2f} ms" if x < want else ""
            print(f"Target {want}× {m}: {x:.2f}× — {'met' if x >= want else 'NOT met'}{need}{bound}.")
inter = {}
for l in open(f"{W}/inter.txt").read().splitlines():
    m, us = l.split()
    inter.setdefault(m, []).append(int(us) / 1000)
if inter:
    n_in = max(len(v) for v in inter.values())
    print(f"\nCross-check, {n_in} messages per method delivered one by one with the methods in "
          "turn (rotating order), each delivery timed alone (wall, spawn's fork to wait4):\n")
    print("| path | median ms/msg | mean ms/msg | lda is × faster (medians) |")
    print("|---|---|---|---|")
    lm = st.median(inter["lda"]) if "lda" in inter else None
    for m in ("floor", "min", "lda", "deliver", "procmail"):
        if m in inter:
            md = st.median(inter[m])
            print(f"| {names[m]} | {md:.2f} | {st.mean(inter[m]):.2f} | "
                  f"{md / lm:.2f} |" if lm and m != "lda" else f"| {names[m]} | {md:.2f} | {st.mean(inter[m]):.2f} | – |")
    if lm and "min" in inter:
        mn = st.median(inter["min"])
        print("\nMedians: " + "; ".join(
            f"{m} {st.median(inter[m]) / lm:.2f}× lda (target {w}×, the most any LDA could reach: "
            f"{st.median(inter[m]) / mn:.2f}×)" for m, w in (("deliver", 4), ("procmail", 5)) if m in inter) + ".")
rows = [l.split() for l in open(f"{W}/rss.txt").read().splitlines()]
print("\n| 20 MB message | peak RSS KiB median (min–max) | wall s median | CPU s median |")
print("|---|---|---|---|")
for m in ("floor", "lda", "deliver"):
    rs = [r for r in rows if r[0] == m]
    if not rs:
        print(f"| {m} | **FAILED** {failed.get(m + '-big', 'no data')} | | |")
        continue
    kb = [int(r[1]) for r in rs]
    print(f"| {names[m].split(' per')[0] if m != 'lda' else 'lda'} | {st.median(kb):.0f} ({min(kb)}–{max(kb)}) | "
          f"{st.median(float(r[2]) for r in rs):.2f} | {st.median(float(r[3]) for r in rs):.2f} |")
print(f"\nTarget: lda's peak RSS on 20 MB under 4 MB (4096 KiB): "
      f"{'met' if any(r[0] == 'lda' for r in rows) and max(int(r[1]) for r in rows if r[0] == 'lda') < 4096 else 'NOT met'}.")
print(f"\n(small runs {tsmall} s, 20 MB runs {tbig} s)")
sys.exit(1 if "lda" in failed or "lda-big" in failed else 0)
EOF

#!/bin/bash
# rc.sh LDA - the cost of the rc language: lda against procmail.
#
# Part 1: rc/rc200.procmailrc (200 recipes: header regexes on From, To,
# Subject, List-Id, body conditions, scoring, a nested block) as
# ~/.procmailrc, and a ~10 KB message that falls through every recipe to
# DEFAULT (checked: each run must leave exactly BENCH_N messages in the
# inbox). Whole-process CPU time (user+sys) per message, and wall time, of
# lda and of procmail; the same with no recipes (rc/none.procmailrc), so
# that "200 recipes" - "none" is what the recipes themselves cost; and the
# 200 recipes on a 5-header message (what does not depend on the message:
# reading and compiling the rc).
# A batch is BENCH_N deliveries, one process each, started as user
# ldabench the way postfix starts a local agent (tests/bench/spawn.c; the
# CPU figure is the LDA processes alone); hyperfine times batches.
#
# Part 2: rc/body.procmailrc - a `:0 B` condition whose string sits in the
# last 2 KB of the body - on a 5 MB and a 50 MB message: peak RSS (GNU
# time -v), wall and CPU of lda, procmail and maildrop (rc/body.mailfilter).
# The message must land in .Found, whole. lda's RSS must not grow with the
# body; procmail's does.
#
# Run as root (`make bench` passes the binary). Environment: BENCH_N (100)
# BENCH_RUNS (3) BENCH_WARMUP (1) BENCH_ROUNDS (3) BENCH_BODY_SIZES ("5 50",
# MB) BENCH_BIG_REPS (3) BENCH_TIMEOUT (300 s per batch or delivery)
# BENCH_OUT (also write the tables there). Prints Markdown tables at the
# end; exits 1 when lda failed.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
N=${BENCH_N:-100}
RUNS=${BENCH_RUNS:-3}
WARM=${BENCH_WARMUP:-1}
ROUNDS=${BENCH_ROUNDS:-3}
BODY_SIZES=${BENCH_BODY_SIZES:-"5 50"}
BIG_REPS=${BENCH_BIG_REPS:-3}
TO=${BENCH_TIMEOUT:-300}
bench_init "${1-}"
t0=$SECONDS

declare -A BASE FAILED
BASE[floor]="/bin/true"
BASE[lda]="$(q "$LDA" --config "$W/empty.rc" -f "$SENDER")"
BASE[procmail]="$(q /usr/bin/procmail -f "$SENDER")"
BASE[maildrop]="$(q /usr/bin/maildrop -f "$SENDER")"
CFGS="rc200 none tiny"	# tiny: rc200 on a 5-header message (fixed cost)
declare -A RCF=([rc200]=rc200 [none]=none [tiny]=rc200)
declare -A MSG=([rc200]=msg10k.eml [none]=msg10k.eml [tiny]=tiny.eml)

$PY "$BENCH_DIR/corpus.py" medium "$W/msg10k.eml" --size 10240 --tag "rc$$"
printf '%s\n' "From: Ann <ann@example.net>" "To: bob@example.org" "Subject: hello" \
	"Date: Sat, 21 Nov 2026 10:00:00 +0000" "Message-ID: <tiny.$$@example.net>" "" "Hi Bob." >"$W/tiny.eml"
chmod a+r "$W/msg10k.eml" "$W/tiny.eml"
echo ". $N" >"$W/expect"

# preflight: lda must deliver the message to the inbox with both rc files
for cfg in $CFGS; do
	install_rc "$BENCH_DIR/rc/${RCF[$cfg]}.procmailrc" "$BENCH_DIR/rc/none.mailfilter"
	maildir_reset
	rc=0
	eval "timeout 60 $(q "${AS[@]}") ${BASE[lda]}" <"$W/${MSG[$cfg]}" \
		>/dev/null 2>"$W/preflight.err" || rc=$?
	got=$(find "$BH/Maildir/new" -type f | wc -l)
	if [ "$rc" -ne 0 ] || [ "$got" -ne 1 ]; then
		FAILED[$cfg-lda]="exit $rc, $got message(s) in the inbox ($(maildir_dist | tr '\n' ' ')): $(head -c 300 "$W/preflight.err" | tr '\n' ' ')"
		note "ERROR: lda fails with $cfg: ${FAILED[$cfg-lda]}"
	fi
done
# ... and the recipes must really work: the benchmark message falls through
# all of them, which an lda whose conditions never match would do too. So
# each probe (a variant that satisfies one kind of recipe) must land in
# the same folder with lda as with procmail.
$PY "$BENCH_DIR/corpus.py" probes "$W/probes"
chmod -R a+rX "$W/probes"
install_rc "$BENCH_DIR/rc/rc200.procmailrc" "$BENCH_DIR/rc/none.mailfilter"
misfiled=""
for p in "$W"/probes/*.eml; do
	where=()
	for m in procmail lda; do
		maildir_reset
		eval "timeout 60 $(q "${AS[@]}") ${BASE[$m]}" <"$p" >/dev/null 2>&1 || true
		where+=("$(maildir_dist | tr '\n' ' ')")
	done
	[ "${where[0]}" = "${where[1]}" ] ||
		misfiled+="$(basename "$p" .eml): procmail ${where[0]}≠ lda ${where[1]:-nothing}; "
done
if [ -n "$misfiled" ] && [ -z "${FAILED[rc200-lda]-}" ]; then
	FAILED[rc200-lda]="rc200 recipes misfire: $misfiled"
	note "ERROR: lda: ${FAILED[rc200-lda]}"
fi

for r in $(seq 1 "$ROUNDS"); do
	for cfg in $CFGS; do
		install_rc "$BENCH_DIR/rc/${RCF[$cfg]}.procmailrc" "$BENCH_DIR/rc/none.mailfilter"
		for m in floor lda procmail; do
			[ "$m" = floor ] && [ "$cfg" != rc200 ] && continue
			name=$cfg-$m
			[ -z "${FAILED[$name]-}" ] || continue
			expect=$N
			[ "$m" = floor ] && expect=0
			# each message is one LDA process, started by spawn
			cmd="$(drive_cmd "$W/${MSG[$cfg]}" "$N" "$W/out/$name.r$r" "$TO") ${BASE[$m]}"
			note "round $r/$ROUNDS: $name"
			if ! hf "$name.r$r" "$RUNS" "$WARM" "$expect" "$cmd"; then
				FAILED[$name]="$(grep -m1 'FAILED' "$W/out/$name.r$r.err" 2>/dev/null ||
					tail -n 3 "$W/$name.r$r.hf.txt" | tr '\n' ' ')"
				note "ERROR: $name: ${FAILED[$name]}"
				[ "$m" = lda ] || die "a peer failed: $name"
				continue
			fi
			if [ "$m" != floor ] && ! cmp -s "$W/out/$name.r$r.dist" "$W/expect"; then
				FAILED[$name]="misfiled: $(tr '\n' ' ' <"$W/out/$name.r$r.dist")"
				note "ERROR: $name: ${FAILED[$name]}"
				[ "$m" = lda ] || die "a peer misfiled: $name"
			fi
		done
	done
done
t1=$SECONDS

: >"$W/rss.txt"
install_rc "$BENCH_DIR/rc/body.procmailrc" "$BENCH_DIR/rc/body.mailfilter"
for sz in $BODY_SIZES; do
	$PY "$BENCH_DIR/corpus.py" big "$W/body-$sz.eml" --size $((sz << 20)) \
		--plain --needle needle-near-the-end-4f2a --tag "body$sz.$$"
	chmod a+r "$W/body-$sz.eml"
	for rep in $(seq 1 "$BIG_REPS"); do
		for m in floor lda procmail maildrop; do
			if [ "$m" = floor ]; then folder=; else folder=.Found; fi
			rss_one "$m" body "$sz" "$W/body-$sz.eml" "$folder" "${BASE[$m]}" ||
				FAILED[body-$m-$sz]=$RSS_ERR
		done
	done
	rm -f "$W/body-$sz.eml"
done
t2=$SECONDS

failed_list=""
for k in "${!FAILED[@]}"; do failed_list+="$k"$'\t'"${FAILED[$k]}"$'\n'; done
printf '%s' "$failed_list" >"$W/failed.txt"
$PY - "$W" "$N" "$WARM" "$RUNS" "$ROUNDS" "$BIG_REPS" "$MACHINE" "$((t1 - t0))" "$((t2 - t1))" \
	"bash tests/bench/rc.sh $LDA" <<'EOF' | tee "${BENCH_OUT:-/dev/null}"
import glob, json, re, statistics as st, sys, time
W, N, WARM, RUNS, ROUNDS, BREPS = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
machine, t1, t2, cmd = sys.argv[7:11]
failed = dict(l.split("\t", 1) for l in open(f"{W}/failed.txt").read().splitlines() if l)

def secs(s):
    m = re.fullmatch(r"(\d+)m([\d.]+)s", s)
    return int(m.group(1)) * 60 + float(m.group(2))

res = {}
for name in ("rc200-floor", "rc200-lda", "rc200-procmail", "none-lda", "none-procmail", "tiny-lda", "tiny-procmail"):
    wall, cpu = [], []
    for js in sorted(glob.glob(f"{W}/{name}.r*.json")):
        wall += [t * 1000 / N for t in json.load(open(js))["results"][0]["times"]]
        lines = open(js[:-5].replace(W, W + "/out")).read().split("\n")[:-1][WARM:]
        cpu += [(secs(l.split()[1]) + secs(l.split()[2])) * 1000 / int(l.split()[0]) for l in lines]
    if wall and name not in failed:
        res[name] = dict(mean=st.mean(wall), sd=st.stdev(wall) if len(wall) > 1 else 0, med=st.median(wall),
                         cpu=st.median(cpu), cpumean=st.mean(cpu), cpusd=st.stdev(cpu) if len(cpu) > 1 else 0)

print(f"\n### rc language: 200 recipes on a 10 KB message ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})\n")
print(f"Machine: {machine}. Command: `{cmd}`.")
print(f"{N} deliveries of the same message (10,257 bytes; or 5 headers + 1 line) per batch, one process each, as user ldabench; "
      f"{ROUNDS} rounds × {RUNS} hyperfine runs (+{WARM} warm-up); every run checked ({N} messages in the inbox). "
      "CPU = user+sys of the LDA processes (spawn's wait4 of each).\n")
print("| LDA | rc | CPU ms/msg median (mean ± σ) | wall ms/msg mean ± σ | wall median |")
print("|---|---|---|---|---|")
for name in ("rc200-floor", "none-lda", "none-procmail", "rc200-lda", "rc200-procmail", "tiny-lda", "tiny-procmail"):
    cfg, m = name.split("-")
    label = "–" if m == "floor" else {"rc200": "200 recipes", "none": "no recipes",
                                      "tiny": "200 recipes, 5-header message"}[cfg]
    r = res.get(name)
    if r is None:
        print(f"| {m} | {label} | **FAILED**: {failed.get(name, 'no data')[:160]} | | |")
        continue
    print(f"| {'/bin/true (floor)' if m == 'floor' else m} | {label} | {r['cpu']:.3f} ({r['cpumean']:.3f} ± {r['cpusd']:.3f}) | "
          f"{r['mean']:.3f} ± {r['sd']:.3f} | {r['med']:.3f} |")

def g(n, k="cpu"):
    return res[n][k] if n in res else None
print("\n| figure | lda | procmail | lda/procmail |")
print("|---|---|---|---|")
for label, a, b, k in (("CPU ms/msg, 200 recipes", "rc200-lda", "rc200-procmail", "cpu"),
                       ("wall ms/msg, 200 recipes", "rc200-lda", "rc200-procmail", "mean"),
                       ("CPU ms/msg, no recipes", "none-lda", "none-procmail", "cpu"),
                       ("CPU ms/msg, 200 recipes, 5-header message", "tiny-lda", "tiny-procmail", "cpu")):
    x, y = g(a, k), g(b, k)
    print(f"| {label} | {x if x is None else f'{x:.3f}'} | {y if y is None else f'{y:.3f}'} | "
          f"{'n/a' if not x or not y else f'{x / y:.2f}'} |")
x = g("rc200-lda") - g("none-lda") if g("rc200-lda") and g("none-lda") else None
y = g("rc200-procmail") - g("none-procmail") if g("rc200-procmail") and g("none-procmail") else None
print(f"| CPU of the 200 recipes themselves, µs/msg (200 − none) | {'n/a' if x is None else f'{x * 1000:.0f}'} | "
      f"{'n/a' if y is None else f'{y * 1000:.0f}'} | {'n/a' if not x or not y or y <= 0 else f'{x / y:.2f}'} |")

rows = {}
for line in open(f"{W}/rss.txt"):
    m, cfg, sz, rss, wall, cpu = line.split()
    rows.setdefault((m, int(sz)), []).append((int(rss), float(wall), float(cpu)))
sizes = sorted({k[1] for k in rows})
if sizes:
    print(f"\n### Body condition on a big message (`:0 B` string in the last 2 KB; GNU time -v, median of {BREPS})\n")
    print("| LDA | " + " | ".join(f"{s} MB: peak RSS KiB | wall s | CPU s" for s in sizes) +
          (f" | RSS growth {sizes[0]}→{sizes[-1]} MB |" if len(sizes) > 1 else " |"))
    print("|---|" + "---|---|---|" * len(sizes) + ("---|" if len(sizes) > 1 else ""))
    for m in ("floor", "lda", "procmail", "maildrop"):
        cells, rs = [], []
        for s in sizes:
            v = rows.get((m, s))
            if not v:
                cells.append("FAILED | | ")
                rs.append(None)
                continue
            rs.append(st.median(x[0] for x in v))
            cells.append(f"{rs[-1]:,.0f} | {st.median(x[1] for x in v):.2f} | {st.median(x[2] for x in v):.2f}")
        growth = ""
        if len(sizes) > 1:
            growth = " | n/a |" if None in (rs[0], rs[-1]) else f" | {rs[-1] - rs[0]:+,.0f} KiB |"
        else:
            growth = " |"
        print(f"| {'/bin/true (floor)' if m == 'floor' else m} | " + " | ".join(cells) + growth)
print(f"\nTook {t1} s (200-recipe batches) + {t2} s (body conditions).")
if failed:
    print("\nFailures:\n")
    for k, v in sorted(failed.items()):
        print(f"* `{k}`: {v}")
EOF
[ -z "${FAILED[*]}" ] || exit 1

#!/bin/bash
# local.sh LDA - local delivery, one process per message as an MTA runs its
# local agent: lda against procmail and maildrop, and /bin/true as the
# floor, on ~4 KB messages into a Maildir, with (a) no recipes (DEFAULT
# decides) and (b) the same 20 filters (rc/filters20.procmailrc for lda and
# procmail, rc/filters20.mailfilter for maildrop); then the peak RSS of
# each delivering a 20 MB and a 100 MB message.
#
# Run as root (`make bench` passes the binary): the LDAs run as the
# ordinary user ldabench, started the way postfix starts a local agent
# (tests/bench/spawn.c: fork, setgid/setgroups/setuid, an env of HOME PATH
# USER LOGNAME SHELL, exec), the message on stdin. procmail
# (setuid root, as installed) and lda read ~/.procmailrc; maildrop reads
# ~/.mailfilter; lda gets an empty system rc with --config.
#
# Method: a batch = BENCH_N messages (tests/bench/corpus.py small: ~4.1 KB,
# about half of them fall through all filters) delivered one process
# each, by spawn; hyperfine times batches (BENCH_WARMUP warm-ups,
# BENCH_RUNS runs), BENCH_ROUNDS rounds over all commands, so that the
# machine's drift hits every command alike. Before every run the Maildir
# is emptied; after it, it must hold exactly BENCH_N messages, in the same
# folders every time and for every LDA (else the script stops: timing a
# failing LDA is worthless). ms/msg = batch time / BENCH_N. CPU = user+sys
# of the batch's LDA processes (spawn's wait4), per message.
# RSS: GNU time -v ("Maximum resident set size") around the LDA itself,
# (run once through setpriv + env -i); BENCH_BIG_REPS deliveries per size.
#
# Cross-check, robust on a shared machine: BENCH_IROUNDS passes over the
# corpus where each message goes through every LDA in turn (rotating
# order), each delivery timed alone; per-message median and mean.
#
# Environment: BENCH_N (100) BENCH_RUNS (5) BENCH_WARMUP (1) BENCH_ROUNDS (3)
# BENCH_IROUNDS (2)
# BENCH_BIG_SIZES ("20 100", MB) BENCH_BIG_REPS (3) BENCH_TIMEOUT (300 s,
# per batch or big delivery) BENCH_OUT (also write the tables there).
# Prints the tables (Markdown) at the end; exits 1 when lda failed.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
N=${BENCH_N:-100}
RUNS=${BENCH_RUNS:-5}
WARM=${BENCH_WARMUP:-1}
ROUNDS=${BENCH_ROUNDS:-3}
IROUNDS=${BENCH_IROUNDS:-2}
BIG_SIZES=${BENCH_BIG_SIZES:-"20 100"}
BIG_REPS=${BENCH_BIG_REPS:-3}
TO=${BENCH_TIMEOUT:-300}
bench_init "${1-}"
t0=$SECONDS

# the commands, as spawn runs them (absolute paths, no shell)
declare -A BASE
BASE[floor]="/bin/true"
BASE[lda]="$(q "$LDA" --config "$W/empty.rc" -f "$SENDER")"
BASE[procmail]="$(q /usr/bin/procmail -f "$SENDER")"
BASE[maildrop]="$(q /usr/bin/maildrop -f "$SENDER")"
METHODS="floor lda procmail maildrop"
CFGS="none filters20"
declare -A FAILED

$PY "$BENCH_DIR/corpus.py" small "$W/corpus" --n "$N" --tag "local$$"
$PY "$BENCH_DIR/corpus.py" expect "$W/corpus" >"$W/expect.filters20"
echo ". $N" >"$W/expect.none"
chmod -R a+rX "$W/corpus"

# preflight: one message through lda per configuration, so that a broken
# lda is reported clearly and the peers are still measured
for cfg in $CFGS; do
	install_rc "$BENCH_DIR/rc/$cfg.procmailrc" "$BENCH_DIR/rc/$cfg.mailfilter"
	maildir_reset
	rc=0
	eval "timeout 60 $(q "${AS[@]}") ${BASE[lda]}" <"$W/corpus/0000.eml" \
		>/dev/null 2>"$W/preflight.err" || rc=$?
	got=$(maildir_count)
	if [ "$rc" -ne 0 ] || [ "$got" -ne 1 ]; then
		FAILED[$cfg-lda]="exit $rc, $got message(s) in the Maildir: $(head -c 300 "$W/preflight.err" | tr '\n' ' ')"
		note "ERROR: lda fails with rc $cfg: ${FAILED[$cfg-lda]}"
	fi
done

# the timed batches
for r in $(seq 1 "$ROUNDS"); do
	for cfg in $CFGS; do
		install_rc "$BENCH_DIR/rc/$cfg.procmailrc" "$BENCH_DIR/rc/$cfg.mailfilter"
		for m in $METHODS; do
			name=$cfg-$m
			[ -z "${FAILED[$name]-}" ] || continue
			expect=$N
			[ "$m" = floor ] && expect=0
			cmd="$(drive_cmd "$W/corpus" 0 "$W/out/$name.r$r" "$TO") ${BASE[$m]}"
			note "round $r/$ROUNDS: $name"
			if ! hf "$name.r$r" "$RUNS" "$WARM" "$expect" "$cmd"; then
				FAILED[$name]="$(grep -m1 'FAILED' "$W/out/$name.r$r.err" 2>/dev/null ||
					tail -n 3 "$W/$name.r$r.hf.txt" | tr '\n' ' ')"
				note "ERROR: $name: ${FAILED[$name]}"
				[ "$m" = lda ] || die "a peer failed: $name"
				continue
			fi
			[ "$m" = floor ] && continue
			# every LDA must file the messages where the rc says
			if ! cmp -s "$W/out/$name.r$r.dist" "$W/expect.$cfg"; then
				note "ERROR: $name filed the messages differently from the rc's intent:"
				diff "$W/expect.$cfg" "$W/out/$name.r$r.dist" >&2 || true
				FAILED[$name]="misfiled: $(diff "$W/expect.$cfg" "$W/out/$name.r$r.dist" | grep "^[<>]" | tr "\n" " " || true)"
				[ "$m" = lda ] || die "a peer misfiled: $name"
			fi
		done
	done
done

# the cross-check: every message through every LDA in turn, each timed
: >"$W/inter.txt"
for cfg in $CFGS; do
	install_rc "$BENCH_DIR/rc/$cfg.procmailrc" "$BENCH_DIR/rc/$cfg.mailfilter"
	ms=()
	for m in $METHODS; do [ -n "${FAILED[$cfg-$m]-}" ] || ms+=("$m"); done
	k=$((${#ms[@]} - 1))	# delivering methods (all but the floor)
	for r in $(seq 1 "$IROUNDS"); do
		note "interleaved $r/$IROUNDS: $cfg: ${ms[*]}"
		maildir_reset
		interleave "$cfg" "$W/corpus" 0 "${ms[@]}" || die "interleaved run: $INTER_ERR"
		awk -v k="$k" '{ print $1, $2 * k }' "$W/expect.$cfg" >"$W/expect.k"
		maildir_dist >"$W/inter.dist"
		cmp -s "$W/expect.k" "$W/inter.dist" ||
			die "interleaved run ($cfg, ${ms[*]}): folders differ from the rc's intent: $(diff "$W/expect.k" "$W/inter.dist" | grep '^[<>]' | tr '\n' ' ' || true)"
	done
done
t1=$SECONDS

# peak RSS on big messages
: >"$W/rss.txt"
for sz in $BIG_SIZES; do
	$PY "$BENCH_DIR/corpus.py" big "$W/big-$sz.eml" --size $((sz << 20)) --tag "big$sz.$$"
	chmod a+r "$W/big-$sz.eml"
done
for cfg in $CFGS; do
	install_rc "$BENCH_DIR/rc/$cfg.procmailrc" "$BENCH_DIR/rc/$cfg.mailfilter"
	for sz in $BIG_SIZES; do
		for rep in $(seq 1 "$BIG_REPS"); do
			for m in $METHODS; do
				[ "$m" = lda ] && [ -n "${FAILED[$cfg-lda]-}" ] && continue
				if [ "$m" = floor ]; then folder=; else folder=.; fi
				rss_one "$m" "$cfg" "$sz" "$W/big-$sz.eml" "$folder" "${BASE[$m]}" ||
					FAILED[$cfg-$m-big]=$RSS_ERR
			done
		done
	done
done
maildir_reset
t2=$SECONDS

# ------------------------------------------------------------------ report
failed_list=""
for k in "${!FAILED[@]}"; do failed_list+="$k"$'\t'"${FAILED[$k]}"$'\n'; done
printf '%s' "$failed_list" >"$W/failed.txt"
$PY - "$W" "$N" "$WARM" "$RUNS" "$ROUNDS" "$BIG_REPS" "$MACHINE" "$((t1 - t0))" "$((t2 - t1))" \
	"bash tests/bench/local.sh $LDA" "$IROUNDS" <<'EOF' | tee "${BENCH_OUT:-/dev/null}"
import glob, json, os, re, statistics as st, sys, time
W, N, WARM, RUNS, ROUNDS, BREPS = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
machine, tsmall, tbig, cmd, IROUNDS = sys.argv[7], sys.argv[8], sys.argv[9], sys.argv[10], sys.argv[11]
failed = dict(l.split("\t", 1) for l in open(f"{W}/failed.txt").read().splitlines() if l)

def secs(s):
    m = re.fullmatch(r"(\d+)m([\d.]+)s", s)
    return int(m.group(1)) * 60 + float(m.group(2))

res = {}
for cfg in ("none", "filters20"):
    for m in ("floor", "lda", "procmail", "maildrop"):
        name = f"{cfg}-{m}"
        wall, cpu = [], []
        for js in sorted(glob.glob(f"{W}/{name}.r*.json")):
            wall += [t * 1000 / N for t in json.load(open(js))["results"][0]["times"]]
            stats = js[:-5].replace(W, W + "/out")
            lines = open(stats).read().split("\n")[:-1][WARM:]
            cpu += [(secs(l.split()[1]) + secs(l.split()[2])) * 1000 / int(l.split()[0]) for l in lines]
        if wall and name not in failed:
            res[name] = dict(mean=st.mean(wall), sd=st.stdev(wall) if len(wall) > 1 else 0,
                             med=st.median(wall), lo=min(wall), hi=max(wall), n=len(wall),
                             cpu=st.median(cpu))

print(f"\n### Local delivery, one process per message ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})\n")
print(f"Machine: {machine}. Command: `{cmd}`.")
print(f"{N} messages of ~4.1 KB per batch, each delivered by its own process "
      f"(fork, setuid, exec as postfix does: tests/bench/spawn.c; message on stdin) into a Maildir; {ROUNDS} rounds × {RUNS} "
      f"hyperfine runs (+{WARM} warm-up each), every run checked (count and folders).\n")
print("| LDA | rc | ms/msg mean ± σ | median (min–max) | CPU ms/msg (user+sys) | ms/msg net of floor |")
print("|---|---|---|---|---|---|")
for cfg in ("none", "filters20"):
    fl = res.get(f"{cfg}-floor")
    for m in ("floor", "lda", "procmail", "maildrop"):
        name = f"{cfg}-{m}"
        label = {"none": "no recipes", "filters20": "20 filters"}[cfg]
        if m == "floor":
            label = "–"
        r = res.get(name)
        if r is None:
            print(f"| {m} | {label} | **FAILED**: {failed.get(name, 'no data')[:160]} | | | |")
            continue
        net = f"{r['mean'] - fl['mean']:.3f}" if fl and m != "floor" else "–"
        print(f"| {'/bin/true (floor)' if m == 'floor' else m} | {label} | {r['mean']:.3f} ± {r['sd']:.3f} | "
              f"{r['med']:.3f} ({r['lo']:.3f}–{r['hi']:.3f}) | {r['cpu']:.3f} | {net} |")

print("\n| rc | lda/procmail | lda/maildrop | net of floor: lda/procmail | lda/maildrop |")
print("|---|---|---|---|---|")
for cfg in ("none", "filters20"):
    l, p, d, f = (res.get(f"{cfg}-{m}") for m in ("lda", "procmail", "maildrop", "floor"))
    def ratio(a, b, net=False):
        if not a or not b:
            return "n/a"
        if net:
            if not f or b["mean"] - f["mean"] <= 0 or a["mean"] - f["mean"] <= 0:
                return "n/a"
            return f"{(a['mean'] - f['mean']) / (b['mean'] - f['mean']):.2f}"
        return f"{a['mean'] / b['mean']:.2f}"
    print(f"| {'no recipes' if cfg == 'none' else '20 filters'} | {ratio(l, p)} | {ratio(l, d)} | "
          f"{ratio(l, p, True)} | {ratio(l, d, True)} |")

inter = {}
for line in open(f"{W}/inter.txt"):
    cfg, m, us = line.split()
    inter.setdefault((cfg, m), []).append(int(us) / 1000)
if inter:
    print(f"\nCross-check, interleaved: every message through every LDA in turn (rotating order), "
          f"each delivery timed alone (spawn's fork to wait4), {IROUNDS} passes over the corpus:\n")
    print("| LDA | rc | ms/msg median | mean ± σ | p90 | median net of floor | lda/this (median) |")
    print("|---|---|---|---|---|---|---|")
    for cfg in ("none", "filters20"):
        fl = inter.get((cfg, "floor"))
        ld = inter.get((cfg, "lda"))
        for m in ("floor", "lda", "procmail", "maildrop"):
            v = inter.get((cfg, m))
            label = "–" if m == "floor" else {"none": "no recipes", "filters20": "20 filters"}[cfg]
            if not v:
                print(f"| {m} | {label} | **FAILED** | | | | |")
                continue
            v.sort()
            net = f"{st.median(v) - st.median(fl):.3f}" if fl and m != "floor" else "–"
            rat = f"{st.median(ld) / st.median(v):.2f}" if ld and m in ("procmail", "maildrop") else "–"
            print(f"| {'/bin/true (floor)' if m == 'floor' else m} | {label} | {st.median(v):.3f} | "
                  f"{st.mean(v):.3f} ± {st.stdev(v):.3f} | {v[int(len(v) * 0.9)]:.3f} | {net} | {rat} |")

rows = {}
for line in open(f"{W}/rss.txt"):
    m, cfg, sz, rss, wall, cpu = line.split()
    rows.setdefault((m, cfg, int(sz)), []).append((int(rss), float(wall), float(cpu)))
sizes = sorted({k[2] for k in rows})
if sizes:
    print(f"\n### Peak RSS delivering one big message (GNU time -v, median of {BREPS})\n")
    print("| LDA | rc | " + " | ".join(f"{s} MB: peak RSS KiB | wall s | CPU s" for s in sizes) + " |")
    print("|---|---|" + "---|---|---|" * len(sizes))
    for cfg in ("none", "filters20"):
        for m in ("floor", "lda", "procmail", "maildrop"):
            if m == "floor" and cfg != "none":
                continue
            cells = []
            for s in sizes:
                v = rows.get((m, cfg, s))
                if not v:
                    cells.append("FAILED | | ")
                    continue
                cells.append(f"{st.median(x[0] for x in v):,.0f} | {st.median(x[1] for x in v):.2f} | "
                             f"{st.median(x[2] for x in v):.2f}")
            label = "–" if m == "floor" else {"none": "no recipes", "filters20": "20 filters"}[cfg]
            print(f"| {'/bin/true (floor)' if m == 'floor' else m} | {label} | " + " | ".join(cells) + " |")
print(f"\nTook {tsmall} s (4 KB: hyperfine batches and interleaved) + {tbig} s (big messages).")
if failed:
    print("\nFailures:\n")
    for k, v in sorted(failed.items()):
        print(f"* `{k}`: {v}")
EOF
[ -z "${FAILED[*]}" ] || exit 1

#!/usr/bin/env bash
# Simulator benchmarks: science target 1 at full size against a vectorized numpy loop (same run),
# the ten targets at their full replicate counts, and the ngram model's end-to-end speed.
#
#   bench/simulate.sh                 # SIM_R=20000 replicates for target 1, SIM_ROUNDS=3 rounds
#   SIM_TARGET1_ONLY=1 bench/simulate.sh   # part (1) only
#
# (1) target 1: tailwatch simulate gaussian --generations 100 --replicates $SIM_R --json -q
#     with --threads 1 and --threads 2, vs bench/sim_numpy.py (numpy loop over generations,
#     all replicates vectorized) in its two modes: `samples` draws all R·M samples per
#     generation, `sufficient` draws only the sufficient statistics as tailwatch does. The four
#     runs alternate over $SIM_ROUNDS rounds (round r in reverse order for even r) so that all
#     see the same drift of the machine; medians of the rounds. All report E[σ²_100] (closed
#     form 0.99^100 = 0.3660).
# (2) full-size targets: the settings of ../shared/docs/science.md, printed against their
#     closed forms with the run's standard error.
# (3) ngram: tiny-shakespeare, replace, 10 generations: seconds per million generated tokens.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
check_prereqs

SIM_R=${SIM_R:-20000}
SIM_ROUNDS=${SIM_ROUNDS:-3}
OUT="$BENCH_DIR/out/simulate"
rm -rf "$OUT" && mkdir -p "$OUT"

echo "== simulator benchmark ($(date -u +%Y-%m-%dT%H:%M:%SZ))"
print_versions
echo "load:        $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min averages, before the runs)"
echo

target1() { # NAME ROUND
    case $1 in
        tw_target1_threads*) run_timed "$1.r$2" "$TAILWATCH" simulate gaussian --generations 100 \
            --replicates "$SIM_R" --threads "${1#tw_target1_threads}" --json -q ;;
        numpy_target1_*) run_timed "$1.r$2" "$BENCH_PY" "$BENCH_DIR/sim_numpy.py" "$SIM_R" 100 100 0 "${1#numpy_target1_}" ;;
    esac
}
TARGET1=(tw_target1_threads1 tw_target1_threads2 numpy_target1_samples numpy_target1_sufficient)
for round in $(seq 1 "$SIM_ROUNDS"); do
    if [ $((round % 2)) -eq 1 ]; then order=("${TARGET1[@]}"); else order=($(printf '%s\n' "${TARGET1[@]}" | tac)); fi
    for name in "${order[@]}"; do target1 "$name" "$round"; done
done

T="$TAILWATCH simulate"
[ -n "${SIM_TARGET1_ONLY:-}" ] || {
run_timed t2 $T gaussian --estimator unbiased --replicates 20000 --json -q
run_timed t3 $T mvgaussian --generations 20 --replicates 4000 --json -q
run_timed t4a $T mean --strategy replace,accumulate --generations 50 --replicates 20000 --json -q
run_timed t4b $T regression --strategy replace,accumulate --generations 20 --replicates 3000 --json -q
run_timed t5 $T categorical --generations 200 --replicates 20000 --json -q
run_timed t6 $T poisson --generations 50 --replicates 100000 --json -q
run_timed t7 $T zipf --generations 50 --replicates 400 --json -q
run_timed t9 $T mean --samples 1000 --strategy fresh:0.1,fresh:0.01 --generations 400 --replicates 2000 --json -q
run_timed t9w $T mean --samples 100 --strategy "$(seq -f "weighted:%.2f" 0.55 0.01 0.70 | paste -sd,),weighted:0.618,weighted:0.5,weighted:1" --generations 60 --replicates 20000 --json -q
run_timed t10 $T gmm --generations 2000 --replicates 4 --json -q
run_timed ngram "$TAILWATCH" simulate ngram --corpus "$TW_DATA/tiny-shakespeare/input.txt" --strategy replace --generations 10 --json -q
}

echo
"$BENCH_PY" - "$OUT" "$SIM_R" "$SIM_ROUNDS" "${SIM_TARGET1_ONLY:-}" <<'PYEOF'
import json, math, statistics, sys
out, R, rounds, target1_only = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), bool(sys.argv[4])
rows = {}
for line in open(f"{out}/timings.tsv"):
    name, wall, rss, rc = line.rstrip("\n").split("\t")
    rows[name] = (float(wall), rss, int(rc))
def load(name):
    return json.load(open(f"{out}/{name}.out"))
def mib(rss):
    return f"{int(rss) / 1024:.0f} MiB" if rss.isdigit() else rss

print(f"(1) target 1 at R = {R}, 100 generations, M = 100: medians of {rounds} alternated rounds")
def rounds_of(name):
    return [f"{name}.r{r}" for r in range(1, rounds + 1)]
def median_wall(name):
    return statistics.median(rows[n][0] for n in rounds_of(name))
def peak_rss(name):
    rss = [int(rows[n][1]) for n in rounds_of(name) if rows[n][1].isdigit()]
    return mib(str(max(rss))) if rss else "NA"
loop = {}
for mode in ("samples", "sufficient"):
    name = f"numpy_target1_{mode}"
    runs = [load(n) for n in rounds_of(name)]
    loop[mode] = statistics.median(j["seconds"] for j in runs)
    j = runs[0]
    print(f"  {name:<26} loop {loop[mode]:7.3f} s  (process {median_wall(name):.3f} s, peak RSS {peak_rss(name)})  "
          f"E[var_100] {j['mean_variance']:.4f}, E[mu^2] {j['mean_drift_sq']:.4f}, median {j['median_variance']:.4f}")
for name in ("tw_target1_threads1", "tw_target1_threads2"):
    j = load(f"{name}.r1")
    v = j["strategies"][0]["metrics"]["variance"]
    d = j["strategies"][0]["metrics"]["mean_drift_sq"]
    wall = median_wall(name)
    same = all(load(n)["strategies"] == j["strategies"] for n in rounds_of(name))
    print(f"  {name:<26} wall {wall:7.3f} s  (rounds {', '.join(f'{rows[n][0]:.3f}' for n in rounds_of(name))}; peak RSS {peak_rss(name)})  "
          f"E[var_100] {v['mean'][100]:.4f} ± {v['se'][100]:.4f}, E[mu^2] {d['mean'][100]:.4f} ± {d['se'][100]:.4f}, median {v['median'][100]:.4f}"
          f"{'' if same else '  ROUNDS DIFFER'}")
    print(f"  {'':<26} vs numpy samples loop {loop['samples']:.3f} s -> {loop['samples'] / wall:.1f}x;  "
          f"vs numpy sufficient-statistics loop {loop['sufficient']:.3f} s -> {loop['sufficient'] / wall:.2f}x")
one, two = (load(f"tw_target1_threads{t}.r1") for t in (1, 2))
print(f"  threads 1 and 2 give identical results: {one['strategies'] == two['strategies']}")
print("  closed forms: E[var_100] 0.3660, E[mu^2] 0.6340, median 0.1328")
if target1_only:
    sys.exit(0)

print("\n(2) targets at full size: simulated mean ± SE vs closed form")
def check(name, strategy, metric, gens, scale=1.0, label=""):
    j = load(name)
    s = j["strategies"][strategy]["metrics"][metric]
    for g in gens:
        m, se = s["mean"][g] * scale, s["se"][g] * scale
        exp = next((e["values"][g] for e in s["expected"] if e["statistic"] == "mean"), None)
        z = (m - exp * scale) / se if exp is not None and se else float("nan")
        exp_s = f"{exp * scale:.5g}" if exp is not None else "-"
        print(f"  {name:<4} {j['strategies'][strategy]['strategy']:<14} {metric + label:<20} gen {g:>4}: {m:.5g} ± {se:.2g}  closed form {exp_s:<9} z = {z:+.2f}  ({rows[name][0]:.1f} s)")
check("t2", 0, "mean_drift_sq", [100])
j = load("t2"); print(f"  t2   replace        median variance      gen  100: {j['strategies'][0]['metrics']['variance']['median'][100]:.4f}  closed form 0.3629")
check("t3", 0, "log_det_ratio", [20]); check("t3", 0, "trace_ratio", [20]); check("t3", 0, "mean_drift_sq", [20])
check("t4a", 0, "sq_error", [1, 10, 50], 50.0, "·M"); check("t4a", 1, "sq_error", [1, 2, 5, 10, 50], 50.0, "·M")
check("t4b", 0, "test_error", [10]); check("t4b", 1, "test_error", [10, 20])
check("t5", 0, "gini_simpson", [100, 200])
j = load("t5"); f = j["strategies"][0]["metrics"]["fixed"]["mean"]; print(f"  t5   P(fixed) at 100 / 200: {f[100]:.3f} / {f[200]:.3f} (reference run 0.19 / 0.65)")
check("t6", 0, "alive", [5, 10, 20, 50])
for metric in ("lost_mass", "surviving"):
    j = load("t7"); s = j["strategies"][0]["metrics"][metric]
    exp = next(e for e in s["expected"])
    print("  t7   replace        " + f"{metric:<20} " + ", ".join(f"gen {g}: {s['mean'][g]:.4g} (approx. {exp['values'][g]:.4g})" for g in (1, 10, 50)))
check("t9", 0, "sq_error", [400]); check("t9", 1, "sq_error", [400])
j = load("t9w")
print("  t9w  weighted (n = 100 real + 100 synthetic, R = 20000, common random numbers): n·Var at generation 60")
print("       vs the stationary closed form (w²+(1−w)²)/(1−(1−w)²):")
grid = []
for s in j["strategies"]:
    w = float(s["strategy"].split(":")[1]); m = s["metrics"]["sq_error"]["mean"][60] * 100; se = s["metrics"]["sq_error"]["se"][60] * 100
    th = (w*w + (1-w)**2) / (1 - (1-w)**2)
    print(f"       w = {w:<5} {m:.4f} ± {se:.4f}  closed form {th:.4f}  z = {(m - th) / se:+.2f}")
    if len(s["strategy"].split(":")[1]) == 4:
        grid.append((m, w))
best = min(grid)
print(f"       simulated argmin over the 0.01 grid 0.55..0.70: w = {best[1]} (target: within [0.60, 0.64])")
j = load("t10")
for r, v in enumerate([j["strategies"][0]["metrics"]["component_std"][k] for k in ("q05", "median", "q95")]):
    pass
cs = j["strategies"][0]["metrics"]["component_std"]
print(f"  t10  gmm component std, median of 4 runs: gen 1 {cs['median'][1]:.3f}, 350 {cs['median'][350]:.3f}, 1000 {cs['median'][1000]:.3f}, 2000 {cs['median'][2000]:.4f} (log10 {math.log10(cs['median'][2000]):.2f}); ({rows['t10'][0]:.1f} s)")

print("\n(3) ngram on tiny-shakespeare, replace, 10 generations")
j = load("ngram")
m = j["strategies"][0]["metrics"]
docs = int(j["notes"][0].split(" documents generated per generation")[0].split("; ")[-1])
tokens = sum(docs * t for t in m["mean_doc_tokens"]["mean"])
wall = rows["ngram"][0]
print(f"  {tokens / 1e6:.2f} M generated tokens in {wall:.1f} s (training, sampling and measuring 11 models): {wall / (tokens / 1e6):.2f} s per million tokens; peak RSS {mib(rows['ngram'][1])}")
PYEOF

#!/usr/bin/env bash
# Dedup benchmark: tailwatch vs datasketch and rensa on the same shingle sets and the same
# bands × rows, 1 and 2 threads, with recall/precision against the exact join; then the same
# engines at corpus scale (the first DEDUP_SCALE_MB=100 MB of the big corpus); then end to end
# on >= 500 MB of text.
#
#   bench/dedup.sh                     # DEDUP_BIG_BASE=75000 originals (~514 MB) for the big run,
#                                      # DEDUP_SCALE_ROUNDS=2 extra alternating rounds at corpus scale
#
# Corpus: the planted-duplicate corpus of crates/tailwatch-sketch/examples/planted.rs (2,000
# originals of 200-400 Zipf words, 0-4 copies each at edit rates 0.5-15 %, seed 2024), already
# normalized, so every engine sees exactly tailwatch's word 5-gram shingle sets.
# Same LSH in every engine: 126 slots = 21 bands × 6 rows (rensa needs bands | num_perm; 21 × 6
# is what tailwatch picks for 99 % recall at J = 0.8 with 128 slots), threshold 0.8.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
check_prereqs
PLANTED="${PLANTED:-$REPO_DIR/target/release/examples/planted}"
[ -x "$PLANTED" ] || die "missing $PLANTED (cargo build --release -p tailwatch-sketch --example planted)"
"$BENCH_PY" -c "import datasketch, rensa, SetSimilaritySearch" 2>/dev/null || die "bench venv lacks datasketch/rensa/SetSimilaritySearch: run bench/setup.sh"

OUT="$BENCH_DIR/out/dedup"
mkdir -p "$OUT" && rm -f "$OUT"/*.out "$OUT"/*.err "$OUT"/*.time "$OUT"/timings.tsv "$OUT"/*.json
CORPUS="$OUT/planted.txt"
BIG="$OUT/planted_big.txt"
BIG_BASE=${DEDUP_BIG_BASE:-75000}
B=21 R=6 K=126

echo "== dedup benchmark ($(date -u +%Y-%m-%dT%H:%M:%SZ))"
print_versions
"$BENCH_PY" -c "from importlib.metadata import version as v; print('datasketch: ', v('datasketch')); print('rensa:      ', v('rensa')); print('SetSimilaritySearch:', v('SetSimilaritySearch'))"
[ -s "$CORPUS" ] || "$PLANTED" "$CORPUS" 2000 2024
echo "corpus:      $CORPUS ($(stat -c %s "$CORPUS") bytes, $(wc -l <"$CORPUS") docs)"
cat "$CORPUS" >/dev/null

TW=("$TAILWATCH" dedup "$CORPUS" --num-perm $K --bands $B --rows $R --json -q)
run_timed tw_oph_t1 "${TW[@]}" --threads 1 --pairs "$OUT/tw_oph_t1.pairs"
run_timed tw_oph_t2 "${TW[@]}" --threads 2 --pairs "$OUT/tw_oph_t2.pairs"
run_timed tw_classic_t1 "${TW[@]}" --mode classic --threads 1 --pairs "$OUT/tw_classic_t1.pairs"
run_timed tw_datasketch_t1 "${TW[@]}" --compat datasketch --threads 1 --pairs "$OUT/tw_datasketch_t1.pairs"
run_timed tw_exact_join "$TAILWATCH" dedup "$CORPUS" --exact-pairs --json -q --pairs "$OUT/tw_exact_join.pairs"
A=("$BENCH_PY" "$BENCH_DIR/dedup_anchor.py" "$CORPUS")
run_timed rensa_t1 env RAYON_NUM_THREADS=1 "${A[@]}" rensa --bands $B --rows $R --out "$OUT/rensa_t1.pairs.json"
run_timed rensa_t2 env RAYON_NUM_THREADS=2 "${A[@]}" rensa --bands $B --rows $R --out "$OUT/rensa_t2.pairs.json"
run_timed datasketch "${A[@]}" datasketch --bands $B --rows $R --out "$OUT/datasketch.pairs.json"
run_timed truth "${A[@]}" truth --bands $B --rows $R --out "$OUT/truth.pairs.json"

if [ ! -s "$BIG" ]; then
    echo "-- generating $BIG ($BIG_BASE originals)"
    "$PLANTED" "$BIG" "$BIG_BASE" 2025
fi
cat "$BIG" >/dev/null
run_timed tw_big_t2 "$TAILWATCH" dedup "$BIG" --json -q --threads 2 -o "$OUT/planted_big.kept.txt"
rm -f "$OUT/planted_big.kept.txt"

# Corpus scale: the first SCALE_MB of the big corpus (whole lines), where process start-up and
# fixed costs no longer dominate; same engines, same 21 x 6 banding.
SCALE="$OUT/planted_scale.txt"
SCALE_MB=${DEDUP_SCALE_MB:-100}
head -c "$((SCALE_MB * 1000000))" "$BIG" | sed '$d' >"$SCALE"
cat "$SCALE" >/dev/null
TWS=("$TAILWATCH" dedup "$SCALE" --num-perm $K --bands $B --rows $R --json -q)
run_timed scale_tw_t1 "${TWS[@]}" --threads 1
run_timed scale_tw_t2 "${TWS[@]}" --threads 2
AS=("$BENCH_PY" "$BENCH_DIR/dedup_anchor.py" "$SCALE")
run_timed scale_rensa_t1 env RAYON_NUM_THREADS=1 "${AS[@]}" rensa --bands $B --rows $R --out "$OUT/scale_rensa_t1.pairs.json"
run_timed scale_datasketch "${AS[@]}" datasketch --bands $B --rows $R --out "$OUT/scale_datasketch.pairs.json"
# the machine's speed drifts by 10-20 % over minutes: alternate more rounds of datasketch and
# tailwatch (2 threads, three runs each round) and compare medians
ROUNDS=${DEDUP_SCALE_ROUNDS:-2}
for r in $(seq "$ROUNDS"); do
    run_timed "round_datasketch_$r" "${AS[@]}" datasketch --bands $B --rows $R --out "$OUT/round_datasketch.pairs.json"
    for j in 1 2 3; do run_timed "round_tw_t2_${r}_$j" "${TWS[@]}" --threads 2; done
done

echo
"$BENCH_PY" - "$OUT" "$CORPUS" "$BIG" <<'PYEOF'
import json, os, sys
out, corpus, big = sys.argv[1:4]
rows = {}
for line in open(f"{out}/timings.tsv"):
    name, wall, rss, rc = line.rstrip("\n").split("\t")
    rows[name] = (float(wall), int(rss) if rss.isdigit() else None, int(rc))
def mib(kb):
    return f"{kb / 1024:.0f} MiB" if kb else "NA"
truth = {tuple(p[:2]) for p in json.load(open(f"{out}/truth.pairs.json"))["verified"]}
# tailwatch lists near pairs between distinct texts; identical lines are exact duplicates
lines = [l.rstrip("\n") for l in open(corpus)]
same = {}
for i, l in enumerate(lines):
    same.setdefault(l, []).append(i)
groups = {i: g for g in same.values() for i in g}
def tw_pairs(name):
    pairs = set()
    for line in open(f"{out}/{name}.pairs"):
        p = json.loads(line)
        for a in groups[p["a"]["record"] - 1]:
            for b in groups[p["b"]["record"] - 1]:
                pairs.add((min(a, b), max(a, b)))
    for g in same.values():
        pairs.update((g[x], g[y]) for x in range(len(g)) for y in range(x + 1, len(g)))
    return pairs
def score(found):
    tp = len(found & truth)
    return tp / len(truth), (tp / len(found) if found else 1.0)
exact = tw_pairs("tw_exact_join")
print(f"ground truth: {len(truth)} pairs with exact Jaccard >= 0.8 (SetSimilaritySearch); tailwatch --exact-pairs finds {len(exact)}, "
      f"{'identical' if exact == truth else 'DIFFERENT'}")
docs = sum(1 for _ in open(corpus))
print(f"{'engine':<26} {'wall s':>7} {'compute s':>9} {'docs/s':>9} {'sig Mshingles/s':>15} {'RSS':>8} {'cand.':>6} {'recall':>7} {'precision':>9}")
results = {}
for name in ("tw_oph_t1", "tw_oph_t2", "tw_classic_t1", "tw_datasketch_t1", "rensa_t1", "rensa_t2", "datasketch"):
    wall, rss, rc = rows[name]
    j = json.load(open(f"{out}/{name}.out"))
    if name.startswith("tw_"):
        sec = j["seconds"]; compute = sec["hashing"] + sec["candidates"] + sec["verify"] + sec["cluster"]
        sig = sec["signature_cpu"]
        shingles = None
        cand = j["candidate_pairs"]; found = tw_pairs(name)
    else:
        sec = j["seconds"]; compute = j["compute_s"]; sig = sec["signatures"]; shingles = j["shingles"]
        cand = j["candidates"]; p = json.load(open(f"{out}/{name}.pairs.json"))
        found = {tuple(x) for x in p["verified"]}
        results[name + "_cand_recall"] = len({tuple(x) for x in p["candidates"]} & truth) / len(truth)
    r, pr = score(found)
    results[name] = (wall, compute)
    rate = f"{1771485 / sig / 1e6:.1f}" if sig else "-"
    print(f"{name:<26} {wall:7.2f} {compute:9.3f} {docs / wall:9.0f} {rate:>15} {mib(rss):>8} {cand:>6} {r:7.4f} {pr:9.4f}")
print("(sig: shingle hashing + signatures, CPU seconds; tailwatch hashes the shingles from normalized text, "
      "the anchors get pre-built shingle strings)")
for k in ("rensa_t1", "datasketch", "rensa_t2"):
    print(f"{k} candidate recall at J >= 0.8: {results[k + '_cand_recall']:.4f}")
ratio_rensa = results["rensa_t1"][0] / results["tw_oph_t1"][0]
ratio_ds = results["datasketch"][0] / results["tw_oph_t1"][0]
print(f"end to end, 1 thread, process wall: rensa / tailwatch = {ratio_rensa:.1f}x (target >= 3x: {'MET' if ratio_rensa >= 3 else 'MISSED'}); "
      f"datasketch / tailwatch = {ratio_ds:.1f}x (target >= 100x: {'MET' if ratio_ds >= 100 else 'MISSED'})")
print(f"compute only, 1 thread: rensa / tailwatch = {results['rensa_t1'][1] / results['tw_oph_t1'][1]:.1f}x; "
      f"datasketch / tailwatch = {results['datasketch'][1] / results['tw_oph_t1'][1]:.1f}x")
tw_sig = json.load(open(f"{out}/tw_oph_t1.out"))["seconds"]["signature_cpu"]
for k in ("datasketch", "rensa_t1"):
    a = json.load(open(f"{out}/{k}.out"))["seconds"]["signatures"]
    print(f"signatures (shingles -> MinHash), 1 thread: {k} {a:.3f} s / tailwatch OPH {tw_sig:.3f} s = {a / tw_sig:.0f}x")
print()
scale = os.path.getsize(f"{out}/planted_scale.txt")
print(f"corpus scale: first {scale / 1e6:.0f} MB of {os.path.basename(big)}, same banding")
print(f"{'engine':<22} {'wall s':>7} {'compute s':>9} {'docs/s':>9} {'RSS':>9} {'near pairs':>10}")
for name in ("scale_tw_t1", "scale_tw_t2", "scale_rensa_t1", "scale_datasketch"):
    wall, rss, rc = rows[name]
    j = json.load(open(f"{out}/{name}.out"))
    if name.startswith("scale_tw"):
        sec = j["seconds"]; compute = sec["hashing"] + sec["candidates"] + sec["verify"] + sec["cluster"]
        pairs = j["verified_pairs"]
    else:
        compute = j["compute_s"]; pairs = j["verified"]
    results[name] = (wall, compute)
    print(f"{name:<22} {wall:7.2f} {compute:9.3f} {j['docs'] / wall:9.0f} {mib(rss):>9} {pairs:>10}")
for t in ("t1", "t2"):
    r = results["scale_datasketch"][0] / results[f"scale_tw_{t}"][0]
    c = results["scale_datasketch"][1] / results[f"scale_tw_{t}"][1]
    print(f"corpus scale, tailwatch {t}: datasketch / tailwatch = {r:.1f}x process wall, {c:.1f}x compute "
          f"(target >= 100x: {'MET' if r >= 100 else 'MISSED'}); rensa(1 thread) / tailwatch = "
          f"{results['scale_rensa_t1'][0] / results[f'scale_tw_{t}'][0]:.1f}x")
import statistics
ds = [rows["scale_datasketch"][0]] + [w for n, (w, _, _) in rows.items() if n.startswith("round_datasketch_")]
tw = [rows["scale_tw_t2"][0]] + [w for n, (w, _, _) in rows.items() if n.startswith("round_tw_t2_")]
ratio = statistics.median(ds) / statistics.median(tw)
print(f"corpus scale, alternating rounds: datasketch median {statistics.median(ds):.2f} s of {len(ds)} runs "
      f"({min(ds):.2f}-{max(ds):.2f}), tailwatch 2 threads median {statistics.median(tw):.3f} s of {len(tw)} runs "
      f"({min(tw):.3f}-{max(tw):.3f}): {ratio:.1f}x (target >= 100x: {'MET' if ratio >= 100 else 'MISSED'})")
wall, rss, rc = rows["tw_big_t2"]
j = json.load(open(f"{out}/tw_big_t2.out"))
size = os.path.getsize(big)
print(f"end to end on {size / 1e6:.0f} MB ({j['docs']} docs), 2 threads, writing kept records: {wall:.1f} s = {size / 1e6 / wall:.1f} MB/s, "
      f"peak RSS {mib(rss)}; removed {j['exact_duplicates']} exact + {j['near_duplicates']} near, "
      f"largest cluster {j['largest_cluster']}; stages {j['seconds']}")
PYEOF

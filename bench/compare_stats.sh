#!/usr/bin/env bash
# Cost of compare's p-values and intervals, and the same permutation test in NumPy/SciPy.
#
#   bench/compare_stats.sh            # ROUNDS=3
#
# Input (generated once under bench/out/compare_stats/, from ../shared/data): documents sampled
# from a trigram Kneser-Ney model trained on tiny-shakespeare (crates/tailwatch-lm/examples/
# kn_sample.rs), four sampled lines per document, 100,000 documents per side (seeds 11, 12).
# (a) 100k vs 100k, all default rules, alternated ROUNDS times:
#       tailwatch compare A B --json -q --permutations 0      (plain: full sizes, thresholds)
#       tailwatch compare A B --json -q                       (1,000 block permutations)
#       tailwatch compare A B --json -q --permutations 10000
#     Target: the 1,000-permutation run within 3x of the plain one.
# (b) 10k vs 10k (the first 10,000 of A; of B with every tenth document replaced by one of three
#     copies, a planted collapse), one rule (distinct_2), whitespace tokens, 1,000 permutations:
#       tailwatch compare A10k B10k --rules d2.toml --tokenizer whitespace --json -q
#     vs bench/compare_stats_anchor.py: scipy.stats.permutation_test reassigning documents, and
#     the same with tailwatch's 10 blocks per side.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
check_prereqs
KN_SAMPLE="${KN_SAMPLE:-$REPO_DIR/target/release/examples/kn_sample}"
[ -x "$KN_SAMPLE" ] || die "missing $KN_SAMPLE (cargo build --release -p tailwatch-lm --example kn_sample)"
ROUNDS=${ROUNDS:-3}
DATA_DIR="$BENCH_DIR/out/compare_stats"
OUT="$DATA_DIR/runs"
rm -rf "$OUT" && mkdir -p "$OUT"

A="$DATA_DIR/a100k.txt"; B="$DATA_DIR/b100k.txt"
if [ ! -s "$A" ] || [ ! -s "$B" ]; then
    # four sampled lines make one document (about 30 words)
    "$KN_SAMPLE" "$TW_DATA/tiny-shakespeare/input.txt" 400000 11 3 | paste -d' ' - - - - >"$A.tmp" && mv "$A.tmp" "$A" || die "kn_sample failed"
    "$KN_SAMPLE" "$TW_DATA/tiny-shakespeare/input.txt" 400000 12 3 | paste -d' ' - - - - >"$B.tmp" && mv "$B.tmp" "$B" || die "kn_sample failed"
fi
head -n 10000 "$A" >"$DATA_DIR/a10k.txt"
head -n 10000 "$B" | awk 'NR<=3 {copy[NR]=$0} {print (NR % 10 == 0 ? copy[(NR/10) % 3 + 1] : $0)}' >"$DATA_DIR/b10k_planted.txt"
printf '[[rule]]\nmetric = "distinct_2"\nrelative = 0.0\n' >"$DATA_DIR/d2.toml"

echo "== compare statistics benchmark ($(date -u +%Y-%m-%dT%H:%M:%SZ))"
print_versions
echo "scipy:       $("$BENCH_PY" -c 'import scipy, numpy; print(scipy.__version__, "numpy", numpy.__version__)')"
echo "input:       $A, $B ($(wc -l <"$A") and $(wc -l <"$B") documents, $(stat -c %s "$A") and $(stat -c %s "$B") bytes)"
echo

cat "$A" "$B" >/dev/null
for round in $(seq 1 "$ROUNDS"); do
    run_timed "plain_r$round" "$TAILWATCH" compare "$A" "$B" --json -q --permutations 0
    run_timed "perm1000_r$round" "$TAILWATCH" compare "$A" "$B" --json -q
    run_timed "perm10000_r$round" "$TAILWATCH" compare "$A" "$B" --json -q --permutations 10000
done
for round in $(seq 1 "$ROUNDS"); do
    run_timed "tw10k_r$round" "$TAILWATCH" compare "$DATA_DIR/a10k.txt" "$DATA_DIR/b10k_planted.txt" \
        --rules "$DATA_DIR/d2.toml" --tokenizer whitespace --json -q
done
run_timed scipy10k "$BENCH_PY" "$BENCH_DIR/compare_stats_anchor.py" "$DATA_DIR/a10k.txt" "$DATA_DIR/b10k_planted.txt" 1000

"$BENCH_PY" - "$OUT" <<'PY'
import collections, json, statistics, sys
out = sys.argv[1]
rows = collections.defaultdict(list)
for line in open(f"{out}/timings.tsv"):
    name, wall, rss, rc = line.rstrip("\n").split("\t")
    if rc not in ("0", "1"):
        sys.exit(f"{name} failed (rc {rc}); see {out}/{name}.err")
    rows[name.split("_r")[0]].append((float(wall), int(rss) / 1024))
med = {k: (statistics.median(w for w, _ in v), max(r for _, r in v)) for k, v in rows.items()}
plain = med["plain"][0]
print("(a) 100k vs 100k documents, default rules (median of rounds; peak RSS the largest)")
for k, label in [("plain", "--permutations 0"), ("perm1000", "1,000 permutations"), ("perm10000", "10,000 permutations")]:
    w, r = med[k]
    print(f"  {label:22} {w:7.2f} s  {r:7.0f} MiB  {w / plain:5.2f}x plain   runs: "
          + ", ".join(f"{x:.2f}" for x, _ in rows[k]))
report = json.load(open(f"{out}/perm1000_r1.out"))
print("  checks at", report["checks"][0].get("docs"), "documents:",
      ", ".join(f"{c['metric']} p={c['p_value']}" for c in report["checks"] if c.get("p_value") is not None))
tw = json.load(open(f"{out}/tw10k_r1.out"))["checks"][0]
anchor = json.loads(open(f"{out}/scipy10k.out").read())
w10 = med["tw10k"][0]
print("(b) 10k vs 10k documents (planted: every tenth a copy of one of three), distinct_2, 1,000 permutations")
print(f"  tailwatch compare (whole process)        {w10:7.3f} s  p = {tw['p_value']:.4f}  distinct_2 {tw['baseline']:.6f} -> {tw['candidate']:.6f}")
for k in ("documents", "blocks"):
    s = anchor[k]["seconds"]
    print(f"  scipy permutation_test, {k:9} (compute) {s:7.3f} s  p = {anchor[k]['p_value']:.4f}  {s / w10:6.1f}x tailwatch")
print(f"  scipy distinct_2 {anchor['distinct_2'][0]:.6f} -> {anchor['distinct_2'][1]:.6f}")
PY

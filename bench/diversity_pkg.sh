#!/usr/bin/env bash
# tailwatch --compat diversity vs the cshaib `diversity` package (0.3.1) on 10,000 docs.
#
#   bench/diversity_pkg.sh            # DIV_N=10000 docs
#
# Input: the first $DIV_N non-empty lines of the concatenated texygen gen_*.txt files
# (sorted by name: gen_leakgan, gen_maligan, ...), written to bench/out/diversity/input.txt.
# Anchor (bench/diversity_anchor.py): compression_ratio(docs, 'gzip'),
# ngram_diversity_score(docs, num_n=4), self_repetition_score(docs, n=4).
# Ours: tailwatch score input.txt --compat diversity --tokenizer python-split --json -q
# Expected agreement: 3 decimals for compression_ratio and ngram_diversity, ~1e-12 for
# self_repetition.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
check_prereqs

DIV_N=${DIV_N:-10000}
OUT="$BENCH_DIR/out/diversity"
rm -rf "$OUT" && mkdir -p "$OUT"
INPUT="$OUT/input.txt"

echo "== diversity package benchmark ($(date -u +%Y-%m-%dT%H:%M:%SZ))"
print_versions
echo

cat "$TW_DATA"/texygen/gen_*.txt | grep -v '^[[:space:]]*$' | head -n "$DIV_N" >"$INPUT"
echo "input:       $INPUT ($(stat -c %s "$INPUT") bytes, $(wc -l <"$INPUT") docs, $(wc -w <"$INPUT") words; first $DIV_N non-empty lines of $(ls "$TW_DATA"/texygen/gen_*.txt | xargs -n1 basename | tr '\n' ' '))"
cat "$INPUT" >/dev/null

run_timed tw_compat_diversity "$TAILWATCH" score "$INPUT" --compat diversity --tokenizer python-split --json -q
run_timed diversity_pkg "$BENCH_PY" "$BENCH_DIR/diversity_anchor.py" "$INPUT"

echo
"$BENCH_PY" - "$OUT" <<'EOF'
import json, sys
out = sys.argv[1]
rows = {}
for line in open(f"{out}/timings.tsv"):
    name, wall, rss, rc = line.rstrip("\n").split("\t")
    rows[name] = (float(wall), rss, int(rc))
for name, (wall, rss, rc) in rows.items():
    rss_mib = f"{int(rss) / 1024:.1f}" if rss.isdigit() else rss
    print(f"{name:<22} wall {wall:9.3f} s  peak RSS {rss_mib:>8} MiB  rc {rc}")
try:
    tw = json.load(open(f"{out}/tw_compat_diversity.out"))
except Exception as e:
    sys.exit(f"tailwatch produced no JSON ({e}); stderr: {open(f'{out}/tw_compat_diversity.err').read()[-800:]}")
an = json.load(open(f"{out}/diversity_pkg.out"))
print(f"docs: tailwatch n_docs={tw.get('n_docs')} n_tokens={tw.get('n_tokens')}; diversity n_docs={an['n_docs']}")
print(f"diversity per-function seconds: " + ", ".join(f"{k} {v:.3f}" for k, v in an["seconds"].items())
      + f" (sum {an['compute_s']:.3f})")
tw_wall, an_wall = rows["tw_compat_diversity"][0], rows["diversity_pkg"][0]
print(f"speed ratio (diversity process wall / tailwatch wall): {an_wall / tw_wall:.1f}x")
print(f"speed ratio (diversity compute-only / tailwatch wall): {an['compute_s'] / tw_wall:.1f}x")

# tailwatch metric ids for the three package functions (first one present wins)
keys = {
    "compression_ratio": ["compression_ratio", "compression_ratio_gzip", "diversity_compression_ratio"],
    "ngram_diversity": ["ngram_diversity", "ngram_diversity_score", "diversity_ngram_diversity"],
    "self_repetition": ["self_repetition", "self_repetition_4", "self_repetition_score", "diversity_self_repetition"],
}
tol = {"compression_ratio": 5e-4, "ngram_diversity": 5e-4, "self_repetition": 1e-12}
metrics = tw.get("metrics", {})
print(f"{'metric':<18} {'tailwatch':>22} {'diversity 0.3.1':>22} {'|diff|':>10}  agree")
for name, cands in keys.items():
    k = next((c for c in cands if c in metrics), None)
    a = an["values"][name]
    if k is None:
        print(f"{name:<18} {'(missing)':>22} {a!r:>22}")
        continue
    t = metrics[k]
    d = abs(t - a) if isinstance(t, (int, float)) else float("nan")
    ok = d <= tol[name] + 1e-15
    print(f"{name:<18} {t!r:>22} {a!r:>22} {d:10.3g}  {'yes' if ok else 'NO'} (key {k}, tol {tol[name]:g})")
EOF

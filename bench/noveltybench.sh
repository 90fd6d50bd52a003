#!/usr/bin/env bash
# Per-prompt partition at NoveltyBench's size (issue 18): tailwatch against NoveltyBench's own
# partition code (pure Python with rouge-score), on the same 1,100 prompts x 10 answers.
#
#   bench/noveltybench.sh [TAILWATCH=target/release/tailwatch] [ROUNDS=5]
#
# Builds nothing. NB_PY: python with rouge-score (default oracles/.venv-noveltybench/bin/python:
#   python3.11 -m venv oracles/.venv-noveltybench
#   oracles/.venv-noveltybench/bin/pip install --no-deps -r oracles/requirements-noveltybench.txt)
# Data (bench/noveltybench.py gen, seed 18) goes to a temp dir, removed at exit
# (NB_KEEP=1 keeps it). Each round runs, under /usr/bin/time -v:
#   python: noveltybench.py partition DIR nb.json   (NoveltyBench's greedy partition_responses,
#           unigram = ROUGE-1 F > 0.458, every prompt, answers in generation order)
#   tailwatch: score rec.jsonl --field generations --group-by record --group-sample all
#           --equivalence unigram --metrics distinct_at_k,class_entropy,collapsed_group_share
#           --per-group pg.jsonl --json -q
# alternately (python first in odd rounds, tailwatch first in even ones: this machine drifts
# 10-20 %), each after NB_WARMUP untimed runs of itself (default 1; see warmup below), then
# tailwatch variants that show where its time goes. Every round's partition is
# checked (noveltybench.py check: each prompt's class count and labels, and the exact mean);
# a mismatch exits 1. Targets: tailwatch under 1 s end to end, at least 100x faster.
set -uo pipefail
BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$BENCH_DIR/.." && pwd)"
TAILWATCH="${1:-${TAILWATCH:-$REPO_DIR/target/release/tailwatch}}"
ROUNDS="${2:-5}"
NB_PY="${NB_PY:-$REPO_DIR/oracles/.venv-noveltybench/bin/python}"
GNU_TIME="${GNU_TIME:-/usr/bin/time}"
NB="$BENCH_DIR/noveltybench.py"

die() { echo "error: $*" >&2; exit 2; }
[ -x "$TAILWATCH" ] || die "tailwatch binary not found at $TAILWATCH (cargo build --release -p tailwatch-cli)"
[ -x "$NB_PY" ] || die "no python with rouge-score at $NB_PY (see the header of $0)"
[ -x "$GNU_TIME" ] || die "GNU time missing at $GNU_TIME (apt-get install -y time)"
"$NB_PY" -c 'import rouge_score' 2>/dev/null || die "$NB_PY cannot import rouge_score"

OUT="$(mktemp -d "${TMPDIR:-/tmp}/nbbench.XXXXXX")" || die "mktemp failed"
[ "${NB_KEEP:-0}" = 1 ] && echo "data and logs kept in $OUT" || trap 'rm -rf "$OUT"' EXIT

# timed NAME CMD... : CMD under GNU time -v, stdout to $OUT/NAME.out; appends
# NAME<TAB>wall_s<TAB>peak_rss_kib<TAB>rc<TAB>cpu_s to $OUT/timings.tsv (wall from date +%s.%N;
# cpu = user + system seconds, steadier than wall when other work takes one of the cores).
timed() {
    local name=$1; shift
    local t0 t1 rc wall rss cpu
    t0=$(date +%s.%N)
    "$GNU_TIME" -v -o "$OUT/$name.time" "$@" >"$OUT/$name.out" 2>"$OUT/$name.err"
    rc=$?
    t1=$(date +%s.%N)
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')
    rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$OUT/$name.time")
    cpu=$(awk -F': ' '/User time|System time/ { s += $2 } END { printf "%.2f", s }' "$OUT/$name.time")
    printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$wall" "${rss:-NA}" "$rc" "$cpu" >>"$OUT/timings.tsv"
    printf '  %-28s wall %8.3f s   cpu %6.2f s   peak RSS %8s KiB   rc %s\n' "$name" "$wall" "$cpu" "${rss:-NA}" "$rc" >&2
    [ "$rc" = 0 ] || { cat "$OUT/$name.err" >&2; die "$name exited $rc"; }
}

echo "== NoveltyBench partition benchmark ($(date -u +%Y-%m-%dT%H:%M:%SZ))"
echo "tailwatch:   $("$TAILWATCH" --version) ($TAILWATCH; repo commit $(git -C "$REPO_DIR" rev-parse --short HEAD)$(git -C "$REPO_DIR" diff --quiet HEAD -- crates Cargo.toml Cargo.lock || echo ', uncommitted changes under crates/'))"
echo "rustc:       $(rustc --version 2>/dev/null || echo unknown)"
echo "python:      $("$NB_PY" --version 2>&1); rouge-score $("$NB_PY" -c 'from importlib.metadata import version as v; print(v("rouge_score"), "nltk", v("nltk"), "numpy", v("numpy"))')"
echo "cpu:         $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"

"$NB_PY" "$NB" gen "$OUT" || die "data generation failed"
cat "$OUT/flat.jsonl" "$OUT/rec.jsonl" >/dev/null # page cache
echo "input:       $OUT/flat.jsonl $(stat -c %s "$OUT/flat.jsonl") B (11,000 answers), rec.jsonl $(stat -c %s "$OUT/rec.jsonl") B (1,100 records)"
read -r -a TW_ARGS <<<"$("$NB_PY" "$NB" tw-args)"
REC="$OUT/rec.jsonl"
echo

# NB_WARMUP untimed runs (default 1) of the same command before each of these two: on this
# VM a 30 ms process that starts right after the 3.5 s Python one, or after a second idle,
# runs 20-90 % slower than one that follows a run of itself (vCPUs going idle), which a
# 3.5 s process does not feel; the warm-up gives both commands the same start.
warmup() { local i; for ((i = 0; i < ${NB_WARMUP:-1}; i++)); do "$@" >/dev/null 2>&1; done; }
py() {
    warmup "$NB_PY" "$NB" partition "$OUT" "$OUT/nb.warmup.json"
    timed "python.r$1" "$NB_PY" "$NB" partition "$OUT" "$OUT/nb.r$1.json"
}
tw() {
    warmup "$TAILWATCH" score "$REC" "${TW_ARGS[@]}" --per-group "$OUT/pg.warmup.jsonl"
    timed "tailwatch.r$1" "$TAILWATCH" score "$REC" "${TW_ARGS[@]}" --per-group "$OUT/pg.r$1.jsonl"
}
GM=distinct_at_k,class_entropy,collapsed_group_share
G=(--field generations --group-by record --group-sample all --json -q)
variants() { # where tailwatch's time goes
    timed "v_read_tokenize.r$1" "$TAILWATCH" score "$REC" --field generations --metrics mean_doc_tokens --json -q
    timed "v_one_group.r$1" "$TAILWATCH" score "$REC" --field generations --group-by record --group-sample 1 --json -q \
        --equivalence unigram --metrics distinct_at_k
    timed "v_distinct_only.r$1" "$TAILWATCH" score "$REC" "${G[@]}" --equivalence unigram --metrics distinct_at_k
    timed "v_exact_rule.r$1" "$TAILWATCH" score "$REC" "${G[@]}" --equivalence exact --metrics $GM
    # unigram:1 joins nothing (all 45 pairs of a prompt checked: 49,500 ROUGE-1 checks),
    # unigram:0 joins any two answers sharing a word (about 9 checks a prompt: 9,900)
    timed "v_rouge_49500.r$1" "$TAILWATCH" score "$REC" "${G[@]}" --equivalence unigram:1 --metrics distinct_at_k
    timed "v_rouge_9900.r$1" "$TAILWATCH" score "$REC" "${G[@]}" --equivalence unigram:0 --metrics distinct_at_k
    timed "v_no_per_group.r$1" "$TAILWATCH" score "$REC" "${G[@]}" --equivalence unigram --metrics $GM
    timed "v_threads1.r$1" "$TAILWATCH" score "$REC" "${TW_ARGS[@]}" --threads 1 --per-group "$OUT/pg1.r$1.jsonl"
    timed "v_all_group.r$1" "$TAILWATCH" score "$REC" "${G[@]}" --equivalence unigram \
        --metrics $GM,group_self_bleu,group_distinct_2,group_jaccard
    timed "v_every_metric.r$1" "$TAILWATCH" score "$REC" "${G[@]}" --equivalence unigram
    timed "v_group_field.r$1" "$TAILWATCH" score "$OUT/flat.jsonl" --field text --group-field prompt \
        --group-sample all --equivalence unigram --metrics $GM --per-group "$OUT/pgf.r$1.jsonl" --json -q
}

for r in $(seq 1 "$ROUNDS"); do
    echo "-- round $r" >&2
    if [ $((r % 2)) -eq 1 ]; then py "$r"; tw "$r"; else tw "$r"; py "$r"; fi
    variants "$r"
done
echo

ok=1
for r in $(seq 1 "$ROUNDS"); do
    echo "round $r:"
    "$NB_PY" "$NB" check "$OUT" "$OUT/nb.r$r.json" "$OUT/pg.r$r.jsonl" "$OUT/tailwatch.r$r.out" || ok=0
    cmp -s "$OUT/pg.r$r.jsonl" "$OUT/pg1.r$r.jsonl" || { echo "MISMATCH: --threads 1 per-group rows differ"; ok=0; }
done
echo

"$NB_PY" - "$OUT" "$ROUNDS" <<'EOF'
import json, statistics, sys
from collections import defaultdict
out, rounds = sys.argv[1], int(sys.argv[2])
wall, rss, cpu = defaultdict(list), defaultdict(list), defaultdict(list)
for line in open(f"{out}/timings.tsv"):
    name, w, r, rc, c = line.rstrip("\n").split("\t")
    base = name.rsplit(".r", 1)[0]
    wall[base].append(float(w))
    cpu[base].append(float(c))
    rss[base].append(int(r) if r != "NA" else 0)
part = [json.load(open(f"{out}/nb.r{r}.json"))["partition_s"] for r in range(1, rounds + 1)]
med = {k: statistics.median(v) for k, v in wall.items()}
print(f"medians of {rounds} rounds (wall s; cpu = user + sys s; peak RSS = largest of the rounds):")
for k, v in wall.items():
    print(f"  {k:<20} median {med[k]:8.3f} s  cpu {statistics.median(cpu[k]):6.2f} s  "
          f"(rounds: {', '.join(f'{x:.3f}' for x in v)})  peak RSS {max(rss[k]) / 1024:7.1f} MiB")
pm = statistics.median(part)
print(f"  python partition loop alone (in process): median {pm:.3f} s (rounds: {', '.join(f'{x:.3f}' for x in part)})")
ratio, ratio_loop = med["python"] / med["tailwatch"], pm / med["tailwatch"]
print(f"ratio python process / tailwatch process: {ratio:.1f}x; python partition loop / tailwatch process: {ratio_loop:.1f}x; "
      f"cpu: {statistics.median(cpu['python']) / statistics.median(cpu['tailwatch']):.1f}x")
# --group-field orders a prompt's answers by a seeded hash of their text, not by generation:
# the greedy partition depends on order, so some prompts get other counts (not checked above)
nb1 = json.load(open(f"{out}/nb.r1.json"))
rows = [json.loads(l) for l in open(f"{out}/pgf.r1.jsonl")]
moved = [r["distinct_at_k"] - nb1["distinct"][int(r["group"])] for r in rows]
gf_mean = json.load(open(f"{out}/v_group_field.r1.out"))["metrics"]["distinct_at_k"]
print(f"--group-field prompt (hash order): {sum(1 for m in moved if m)} of {len(rows)} prompts differ "
      f"(by {min(moved)}..{max(moved)}), mean distinct_at_k {gf_mean!r} vs {nb1['mean_distinct']!r} in generation order")
print(f"target tailwatch < 1 s: {'met' if med['tailwatch'] < 1 else 'NOT met'} ({med['tailwatch']:.3f} s); "
      f"target >= 100x: {'met' if ratio >= 100 else 'NOT met'} ({ratio:.1f}x process, {ratio_loop:.1f}x loop)")
EOF
[ "$ok" = 1 ] && echo "partitions: identical in every round" || { echo "partitions: MISMATCH (see above)"; exit 1; }

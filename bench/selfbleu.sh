#!/usr/bin/env bash
# Self-BLEU-4 benchmark: tailwatch vs fast-bleu (all docs) and vs nltk (first 300 docs).
#
#   bench/selfbleu.sh                 # gen_mle and gen_seq
#   SELFBLEU_FILES="gen_mle" bench/selfbleu.sh
#   NLTK_N=300 (default)
#
# (a) full file (~9,984 docs):
#     tailwatch score FILE --tokenizer whitespace --sample all --json -q
#     vs fast_bleu.SelfBLEU(tokens, {"4": (0.25,)*4}).get_score()  (tokens = line.split())
# (b) first $NLTK_N non-empty lines, written to bench/out/selfbleu/NAME_300.txt:
#     tailwatch score FILE_300 --tokenizer whitespace --compat nltk --json -q
#     vs nltk sentence_bleu(others, hyp, (0.25,)*4, SmoothingFunction().method1), averaged
# (c) compute only: target/release/examples/selfbleu_time FILE 4 (our self_bleu_per_doc call,
#     best of 5, tokens already hashed) against the anchors' scoring call alone (compute_s).
# Extra row: the full file with --compat nltk instead of --sample all (same self-BLEU, but the
# other sampled metrics stay on the default 1000-doc sample).
# (d) whole process as a user runs it: the first EMNLP_N=5000 sentences of
#     texygen/ref_test_emnlp.txt, `tailwatch score FILE --tokenizer whitespace --sample all
#     --metrics self_bleu_4 --json -q` (EMNLP_RUNS=5 runs, median) against fast-bleu's
#     get_score on the same sentences (skipped for a binary without --metrics).
# Targets: tailwatch >= 100x faster than fast-bleu, |mean difference| <= 1e-7.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
check_prereqs
[ -x "$SELFBLEU_TIME" ] || die "missing $SELFBLEU_TIME (cargo build --release -p tailwatch-metrics --example selfbleu_time)"

FILES=${SELFBLEU_FILES:-"gen_mle gen_seq"}
NLTK_N=${NLTK_N:-300}
OUT="$BENCH_DIR/out/selfbleu"
rm -rf "$OUT" && mkdir -p "$OUT"

echo "== self-BLEU-4 benchmark ($(date -u +%Y-%m-%dT%H:%M:%SZ))"
print_versions
echo

for name in $FILES; do
    f="$TW_DATA/texygen/$name.txt"
    [ -f "$f" ] || die "missing input $f"
    small="$OUT/${name}_${NLTK_N}.txt"
    grep -v '^[[:space:]]*$' "$f" | head -n "$NLTK_N" >"$small"
    cat "$f" "$small" >/dev/null # page cache

    echo "-- $name: all docs"
    run_timed "tw_${name}" "$TAILWATCH" score "$f" --tokenizer whitespace --sample all --json -q
    run_timed "fastbleu_${name}" "$BENCH_PY" "$BENCH_DIR/selfbleu_anchor.py" "$f" --impl fastbleu \
        --scores "$OUT/fastbleu_${name}.scores"
    # extra row: --compat nltk scores self-BLEU over all docs too, but leaves the other
    # sampled metrics (compression, MTLD, self-repetition) on the default 1000-doc sample
    run_timed "twcall_${name}" "$SELFBLEU_TIME" "$f" 4 5
    run_timed "twcall_${name}_1thread" env RAYON_NUM_THREADS=1 "$SELFBLEU_TIME" "$f" 4 5
    run_timed "twcall_${name}_${NLTK_N}" "$SELFBLEU_TIME" "$small" 4 5
    run_timed "tw_${name}_compat_nltk" "$TAILWATCH" score "$f" --tokenizer whitespace --compat nltk --json -q

    echo "-- $name: first $NLTK_N docs"
    run_timed "tw_${name}_${NLTK_N}" "$TAILWATCH" score "$small" --tokenizer whitespace --compat nltk --json -q
    run_timed "nltk_${name}_${NLTK_N}" "$BENCH_PY" "$BENCH_DIR/selfbleu_anchor.py" "$small" --impl nltk
done

EMNLP_N=${EMNLP_N:-5000}
EMNLP_RUNS=${EMNLP_RUNS:-5}
emnlp="$OUT/emnlp_${EMNLP_N}.txt"
head -n "$EMNLP_N" "$TW_DATA/texygen/ref_test_emnlp.txt" >"$emnlp"
echo "-- emnlp: first $EMNLP_N sentences, self_bleu_4 alone"
if "$TAILWATCH" score --help | grep -q -- '--metrics'; then
    run_timed "fastbleu_emnlp" "$BENCH_PY" "$BENCH_DIR/selfbleu_anchor.py" "$emnlp" --impl fastbleu
    for i in $(seq 1 "$EMNLP_RUNS"); do
        run_timed "tw_emnlp_$i" "$TAILWATCH" score "$emnlp" --tokenizer whitespace --sample all \
            --metrics self_bleu_4 --json -q
    done
else
    echo "  (this binary has no --metrics: skipped)"
fi

echo
"$BENCH_PY" "$BENCH_DIR/report_selfbleu.py" "$OUT" "$NLTK_N" $FILES

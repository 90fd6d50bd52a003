#!/usr/bin/env bash
# Throughput of `tailwatch score` on >= 200 MB of synthetic, non-repetitive text vs `wc -w`.
#
#   bench/score_throughput.sh            # SYNTH_MB=210 (default) -> bench/out/synth_210mb.txt
#
# The corpus is generated once by bench/gen_synth.py (fixed seed, Zipfian vocabulary of 200k
# random-syllable pseudo-words, 10-60 words per line) and reused while it exists.
# Timed, each once, after `cat FILE > /dev/null` warms the page cache:
#   wc -w FILE                       (default locale of the shell, and again with LC_ALL=C)
#   tailwatch score FILE --sample 1000 --json -q --threads 1
#   tailwatch score FILE --sample 1000 --json -q --threads 2
#   tailwatch score FILE --sample 1000 --json -q --threads 2 --max-memory 256MiB  (sketched distinct-n)
# If a tailwatch run fails (e.g. out of memory) or exceeds TW_TIMEOUT (600 s), it is re-run
# with --max-memory 1GiB. Target: tailwatch (2 threads) within 5x of wc -w.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
check_prereqs

SYNTH_MB=${SYNTH_MB:-210}
TW_TIMEOUT=${TW_TIMEOUT:-600}
OUT="$BENCH_DIR/out/throughput"
FILE="$BENCH_DIR/out/synth_${SYNTH_MB}mb.txt"
rm -rf "$OUT" && mkdir -p "$OUT"

echo "== score throughput benchmark ($(date -u +%Y-%m-%dT%H:%M:%SZ))"
print_versions
echo "locale:      LANG=${LANG:-unset} LC_ALL=${LC_ALL:-unset}"
echo

if [ ! -s "$FILE" ]; then
    echo "-- generating $FILE"
    "$BENCH_PY" "$BENCH_DIR/gen_synth.py" "$FILE.tmp" --mb "$SYNTH_MB" || die "generator failed"
    mv "$FILE.tmp" "$FILE"
fi
BYTES=$(stat -c %s "$FILE")
echo "input:       $FILE ($BYTES bytes, $(wc -l <"$FILE") lines)"

cat "$FILE" >/dev/null # page cache
run_timed wc_w wc -w "$FILE"
run_timed wc_w_LC_ALL_C env LC_ALL=C wc -w "$FILE"

for t in 1 2; do
    cat "$FILE" >/dev/null
    run_timed "tw_threads$t" timeout "$TW_TIMEOUT" "$TAILWATCH" score "$FILE" --sample 1000 --json -q --threads "$t"
    if [ "$LAST_RC" -ne 0 ]; then
        echo "  tailwatch --threads $t failed or timed out (rc $LAST_RC); retrying with --max-memory 1GiB" >&2
        run_timed "tw_threads${t}_maxmem1GiB" timeout "$TW_TIMEOUT" "$TAILWATCH" score "$FILE" --sample 1000 --json -q --threads "$t" --max-memory 1GiB
    fi
done
# bounded memory: past 256 MiB the distinct-n tables become HLL sketches (approximate)
cat "$FILE" >/dev/null
run_timed "tw_threads2_maxmem256MiB" timeout "$TW_TIMEOUT" "$TAILWATCH" score "$FILE" --sample 1000 --json -q --threads 2 --max-memory 256MiB

echo
"$BENCH_PY" - "$OUT" "$BYTES" <<'EOF'
import json, sys
out, nbytes = sys.argv[1], int(sys.argv[2])
rows = {}
for line in open(f"{out}/timings.tsv"):
    name, wall, rss, rc = line.rstrip("\n").split("\t")
    rows[name] = (float(wall), rss, int(rc))
mb = nbytes / 1e6
wc_words = int(open(f"{out}/wc_w.out").read().split()[0])
print(f"input: {mb:.1f} MB, {wc_words} words (wc -w)")
print(f"{'run':<28} {'wall s':>9} {'MB/s':>8} {'peak RSS MiB':>13} {'rc':>3}  {'/ wc -w':>8} {'/ wc -w (C)':>11}")
wc_default, wc_c = rows["wc_w"][0], rows["wc_w_LC_ALL_C"][0]
for name, (wall, rss, rc) in rows.items():
    rss_mib = f"{int(rss) / 1024:.1f}" if rss.isdigit() else rss
    print(f"{name:<28} {wall:9.3f} {mb / wall:8.1f} {rss_mib:>13} {rc:3d}  {wall / wc_default:8.2f} {wall / wc_c:11.2f}")
for name in rows:
    if name.startswith("tw_"):
        try:
            rep = json.load(open(f"{out}/{name}.out"))
        except Exception as e:
            print(f"{name}: no JSON report ({e}); stderr tail: {open(f'{out}/{name}.err').read()[-500:]!r}")
            continue
        m = rep.get("metrics", {})
        print(f"{name}: n_docs={rep.get('n_docs')} n_tokens={rep.get('n_tokens')} "
              f"approximate={rep.get('approximate')} self_bleu_4={m.get('self_bleu_4')} distinct_4={m.get('distinct_4')}")
best2 = min((w for n, (w, _, rc) in rows.items() if n == "tw_threads2" and rc == 0), default=None)
if best2 is not None:
    r = best2 / wc_default
    print(f"target (tailwatch --threads 2 within 5x of wc -w): {r:.2f}x -> {'MET' if r <= 5 else 'MISSED'}"
          f" (vs LC_ALL=C wc -w: {best2 / wc_c:.2f}x -> {'MET' if best2 / wc_c <= 5 else 'MISSED'})")
else:
    print("target (tailwatch --threads 2 within 5x of wc -w): no successful 2-thread run")
EOF

#!/usr/bin/env bash
# Ledger benchmark: ingest 1M records (records/s, MB/s, peak RSS), an idempotent re-ingest,
# a capped mix over the whole ledger, and detector scoring (docs/s).
#
#   bench/ledger.sh                    # LEDGER_N=1000000 records
#
# Input: LEDGER_N JSONL records written by this script (python, fixed seed): 70 % human and
# 30 % synthetic texts of 8-30 words from a 5,000-word vocabulary, each synthetic record naming a
# human parent by key, generator one of three models.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
check_prereqs
N=${LEDGER_N:-1000000}
OUT="$BENCH_DIR/out/ledger"
rm -rf "$OUT" && mkdir -p "$OUT"
echo "== ledger benchmark ($(date -u +%Y-%m-%dT%H:%M:%SZ))"
print_versions
"$BENCH_PY" - "$OUT" "$N" <<'PYEOF'
import json, random, sys
out, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(7)
vocab = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9))) for _ in range(5000)]
with open(f"{out}/human.jsonl", "w") as h, open(f"{out}/synthetic.jsonl", "w") as s:
    humans = 0
    for i in range(n):
        text = " ".join(rng.choice(vocab) for _ in range(rng.randint(8, 30)))
        if i % 10 < 7:
            h.write(json.dumps({"id": f"h{humans}", "text": text, "source": "bench"}) + "\n")
            humans += 1
        else:
            s.write(json.dumps({"id": f"s{i}", "text": text, "parent": f"h{rng.randrange(max(humans, 1))}",
                                "model": rng.choice(["m-a", "m-b", "m-c"])}) + "\n")
PYEOF
H="$OUT/human.jsonl"; S="$OUT/synthetic.jsonl"; DB="$OUT/ledger.db"
echo "input: $(wc -l <"$H") human + $(wc -l <"$S") synthetic records, $(($(stat -c %s "$H") + $(stat -c %s "$S"))) bytes"
"$TAILWATCH" ledger init --db "$DB" >/dev/null
cat "$H" "$S" >/dev/null
run_timed ingest_human "$TAILWATCH" ledger ingest "$H" --db "$DB" --origin human --key-field id --field-map source=source --json -q
run_timed ingest_synthetic "$TAILWATCH" ledger ingest "$S" --db "$DB" --origin synthetic --key-field id --parent-field parent --field-map generator=model --json -q
run_timed reingest_human "$TAILWATCH" ledger ingest "$H" --db "$DB" --origin human --key-field id --field-map source=source --json -q
run_timed stats "$TAILWATCH" ledger stats --db "$DB" --json -q
run_timed mix "$TAILWATCH" mix --db "$DB" -o "$OUT/mix.jsonl" --max-synthetic 0.2 --json -q
if [ -n "${DETECTOR_MODEL:-}" ]; then
    run_timed detect_score "$TAILWATCH" detect score "$S" --detector "$DETECTOR_MODEL" -o "$OUT/scored.jsonl" -q
fi
echo
"$BENCH_PY" - "$OUT" "$H" "$S" <<'PYEOF'
import json, os, sys
out, h, s = sys.argv[1:4]
rows = {}
for line in open(f"{out}/timings.tsv"):
    name, wall, rss, rc = line.rstrip("\n").split("\t")
    rows[name] = (float(wall), int(rss) if rss.isdigit() else 0, int(rc))
def report(name, path):
    wall, rss, rc = rows[name]
    j = json.load(open(f"{out}/{name}.out"))
    mb = os.path.getsize(path) / 1e6
    print(f"{name:<18} {j['read']:>9} records  added {j['added']:>9}  {wall:7.2f} s  {j['read'] / wall:>10.0f} records/s  {mb / wall:6.1f} MB/s  peak RSS {rss / 1024:.0f} MiB")
report("ingest_human", h); report("ingest_synthetic", s); report("reingest_human", h)
wall, rss, rc = rows["mix"]; j = json.load(open(f"{out}/mix.out"))
print(f"mix: {j['records']} records ({j['by_origin'].get('synthetic', {}).get('share', 0):.3f} synthetic) from {j['eligible']} eligible in {wall:.2f} s, peak RSS {rss / 1024:.0f} MiB")
print(f"stats: {rows['stats'][0]:.2f} s")
if "detect_score" in rows:
    wall = rows["detect_score"][0]
    n = sum(1 for _ in open(s))
    print(f"detect score: {n} docs in {wall:.2f} s = {n / wall:.0f} docs/s")
PYEOF

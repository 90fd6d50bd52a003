#!/usr/bin/env bash
# Lineage benchmark (issue 16): `ledger lineage` on a dense DAG, wall time and peak RSS, and the
# same answer from an older build when one is given.
#
#   bench/lineage.sh                                        # LINEAGE_N=600, LINEAGE_WINDOW=50
#   LINEAGE_WINDOW=0 bench/lineage.sh                       # each record derived from all before it
#   TAILWATCH_BEFORE=/tmp/tailwatch-before bench/lineage.sh # also time an older build
#
# Input: LINEAGE_N JSONL records written by this script: record r0 human, record ri synthetic
# with the parents r(i-W) .. r(i-1) by key (W = LINEAGE_WINDOW, 0 = every earlier record), so
# a record is reachable from another along very many paths. The build under test ingests it;
# then each build runs `ledger lineage --json` of the last record (every other record an
# ancestor), the first (every other a descendant) and the middle one, under LINEAGE_TIMEOUT
# seconds each (default 900), and the answers of the two builds are compared byte for byte.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
[ -x "$TAILWATCH" ] || die "tailwatch binary not found at $TAILWATCH (cargo build --release -p tailwatch-cli)"
[ -x "$GNU_TIME" ] || die "GNU time missing at $GNU_TIME (apt-get update && apt-get install -y time)"
[ -x "$BENCH_PY" ] || BENCH_PY=python3
N=${LINEAGE_N:-600}
W=${LINEAGE_WINDOW:-50}
LIMIT=${LINEAGE_TIMEOUT:-900}
BEFORE=${TAILWATCH_BEFORE:-}
OUT="$BENCH_DIR/out/lineage"
rm -rf "$OUT" && mkdir -p "$OUT"
echo "== lineage benchmark ($(date -u +%Y-%m-%dT%H:%M:%SZ))"
echo "tailwatch:   $("$TAILWATCH" --version 2>/dev/null) (commit $(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null)), $TAILWATCH"
[ -n "$BEFORE" ] && echo "before:      $("$BEFORE" --version 2>/dev/null), $BEFORE"
echo "cpu:         $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores"
"$BENCH_PY" - "$OUT/dag.jsonl" "$N" "$W" <<'PYEOF'
import json, sys
path, n, w = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(path, "w") as f:
    for i in range(n):
        first = 0 if w == 0 else max(0, i - w)
        f.write(json.dumps({"id": f"r{i}", "text": f"dense record number {i}",
                            "origin": "human" if i == 0 else "synthetic",
                            "parents": [f"r{j}" for j in range(first, i)]}) + "\n")
PYEOF
DB="$OUT/dag.db"
"$TAILWATCH" ledger init --db "$DB" >/dev/null
run_timed ingest "$TAILWATCH" ledger ingest "$OUT/dag.jsonl" --db "$DB" --field-map origin=origin \
    --key-field id --parent-field parents --json -q
edges=$(grep -o '"parent_edges": *[0-9]*' "$OUT/ingest.out" | grep -o '[0-9]*$')
echo "input: $N records, window $W (0: every earlier record), ${edges:-?} parent edges, $(stat -c %s "$OUT/dag.jsonl") bytes"
status=0
for who in after before; do
    bin=$TAILWATCH
    if [ "$who" = before ]; then
        [ -n "$BEFORE" ] || continue
        bin=$BEFORE
    fi
    for ref in "r$((N - 1))" "r0" "r$((N / 2))"; do
        run_timed "${who}_$ref" timeout "$LIMIT" "$bin" ledger lineage "$ref" --db "$DB" --json
        [ "$LAST_RC" = 0 ] || { echo "$who lineage $ref: exit $LAST_RC (124: over ${LIMIT} s)"; status=1; }
    done
done
echo
"$BENCH_PY" - "$OUT" <<'PYEOF'
import json, sys
out = sys.argv[1]
rows = {}
for line in open(f"{out}/timings.tsv"):
    name, wall, rss, rc = line.rstrip("\n").split("\t")
    rows[name] = (float(wall), int(rss) if rss.isdigit() else 0, int(rc))
print(f"ingest: {rows['ingest'][0]:.2f} s, peak RSS {rows['ingest'][1] / 1024:.0f} MiB")
for name, (wall, rss, rc) in rows.items():
    if name == "ingest":
        continue
    who, ref = name.split("_", 1)
    found = ""
    if rc == 0:
        j = json.load(open(f"{out}/{name}.out"))
        found = f"{len(j['ancestors'])} ancestors, {len(j['descendants'])} descendants"
    print(f"{who:<6} lineage {ref:<5} {wall:9.3f} s  peak RSS {rss / 1024:6.0f} MiB  rc {rc}  {found}")
PYEOF
if [ -n "$BEFORE" ]; then
    for ref in "r$((N - 1))" "r0" "r$((N / 2))"; do
        if cmp -s "$OUT/after_$ref.out" "$OUT/before_$ref.out"; then
            echo "lineage $ref: same output from both builds"
        else
            echo "lineage $ref: OUTPUTS DIFFER"; status=1
        fi
    done
fi
exit $status

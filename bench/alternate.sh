#!/usr/bin/env bash
# Run one benchmark script for two builds of tailwatch, alternately, so that both see the same
# drift of this machine (10-20 % within minutes); compare the medians of the rounds.
#
#   bench/alternate.sh SCRIPT OLD_TARGET_DIR NEW_TARGET_DIR [ROUNDS=2]
#   e.g. bench/alternate.sh bench/score_throughput.sh /tmp/old/target/release target/release
#
# Each *_TARGET_DIR holds a release build (`tailwatch`, and `examples/selfbleu_time` and
# `examples/planted` where the script needs them). Round r runs OLD then NEW for odd r and NEW
# then OLD for even r; each run's output goes to bench/out/alternate/NAME.{old,new}.rR.log.
set -uo pipefail
BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[ $# -ge 3 ] || { sed -n '2,11p' "$0" >&2; exit 2; }
script=$1 old=$2 new=$3 rounds=${4:-2}
name=$(basename "$script" .sh)
out="$BENCH_DIR/out/alternate"
mkdir -p "$out"
run() { # which dir round
    local which=$1 dir=$2 round=$3
    echo "== $name: $which build ($dir), round $round" >&2
    TAILWATCH="$dir/tailwatch" SELFBLEU_TIME="$dir/examples/selfbleu_time" PLANTED="$dir/examples/planted" \
        bash "$script" >"$out/$name.$which.r$round.log" 2>&1
    echo "   exit $?, log $out/$name.$which.r$round.log" >&2
}
for round in $(seq 1 "$rounds"); do
    if [ $((round % 2)) -eq 1 ]; then
        run old "$old" "$round"; run new "$new" "$round"
    else
        run new "$new" "$round"; run old "$old" "$round"
    fi
done

#!/usr/bin/env bash
# Watch server under load: push latency (p50/p90/p99/max), throughput and the server's peak RSS.
#
#   bench/serve_load.sh                              # the two runs below
#   SERVE_LOAD_RUNS="20x200x5" bench/serve_load.sh   # CLIENTSxPUSHESxDOCS, space-separated
#   SKIP_BUILD=1 bench/serve_load.sh                 # use the binaries already built
#
# Default runs: 20 clients x 200 pushes of 5-document profiles, then of 200-document profiles.
# Each run starts `tailwatch serve` (release) on a fresh database in bench/out/serve_load/ and runs
# the load generator (crates/tailwatch-server/examples/loadgen.rs): CLIENTS threads, each with one
# keep-alive connection, send PUSHES pushes each of a DOCS-document `.twp` profile with a unique
# idempotency key, over 4 models x 2 versions x 3 cohorts; documents are 12-40 words from a
# 5,000-word vocabulary, Zipf-like, fixed seed. loadgen prints the latency percentiles and the
# throughput, checks via /api/v1/health that the server counted exactly the pushes and documents
# it sent (exit 1 otherwise), and times reading every model's versions twice after the load. Then
# the script reads the server's peak RSS (VmHWM) from /proc and stops it with SIGTERM.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
LOADGEN="${LOADGEN:-$REPO_DIR/target/release/examples/loadgen}"
RUNS=${SERVE_LOAD_RUNS:-20x200x5 20x200x200}
export TAILWATCH_TOKEN="${TAILWATCH_TOKEN:-bench-serve-load-token}"
OUT="$BENCH_DIR/out/serve_load"
rm -rf "$OUT" && mkdir -p "$OUT"

if [ -z "${SKIP_BUILD:-}" ]; then
    (cd "$REPO_DIR" && cargo build --release -q -p tailwatch-cli -p tailwatch-server --bin tailwatch --example loadgen) \
        || die "cargo build failed"
fi
[ -x "$TAILWATCH" ] || die "tailwatch binary not found at $TAILWATCH (cargo build --release -p tailwatch-cli)"
[ -x "$LOADGEN" ] || die "loadgen not found at $LOADGEN (cargo build --release -p tailwatch-server --example loadgen)"

echo "== watch server load benchmark ($(date -u +%Y-%m-%dT%H:%M:%SZ))"
echo "tailwatch:   $("$TAILWATCH" --version 2>/dev/null) (commit $(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null)$(git -C "$REPO_DIR" diff --quiet HEAD -- crates Cargo.toml Cargo.lock 2>/dev/null || echo ', working tree has uncommitted changes under crates/'))"
echo "binary:      $TAILWATCH (built $(date -u -r "$TAILWATCH" +%Y-%m-%dT%H:%M:%SZ))"
echo "loadgen:     $LOADGEN"
echo "cpu:         $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores; $(free -g | awk '/Mem:/ {print $2}') GiB RAM"
echo "runs:        $RUNS (clients x pushes per client x docs per push)"

SERVER_PID=""
stop_server() {
    [ -n "$SERVER_PID" ] || return 0
    kill -TERM "$SERVER_PID" 2>/dev/null
    for _ in $(seq 1 200); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
    SERVER_PID=""
}
trap stop_server EXIT

RC=0
for SPEC in $RUNS; do
    IFS=x read -r CLIENTS PUSHES DOCS <<<"$SPEC"
    [ -n "$DOCS" ] || die "a run is CLIENTSxPUSHESxDOCS, found $SPEC"
    DB="$OUT/watch-$SPEC.db"
    "$TAILWATCH" serve --db "$DB" --addr 127.0.0.1:0 2>"$OUT/serve-$SPEC.err" &
    SERVER_PID=$!
    URL=""
    for _ in $(seq 1 200); do
        URL=$(sed -n 's|^tailwatch serve: \(http://[^ ]*\)/ .*|\1|p' "$OUT/serve-$SPEC.err" | head -1)
        [ -n "$URL" ] && break
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.05
    done
    [ -n "$URL" ] || { cat "$OUT/serve-$SPEC.err" >&2; die "the server did not start"; }
    echo
    echo "-- $CLIENTS clients x $PUSHES pushes x $DOCS docs (server $URL, pid $SERVER_PID)"
    "$LOADGEN" "$URL" "$CLIENTS" "$PUSHES" "$DOCS" | tee "$OUT/loadgen-$SPEC.out"
    LRC=${PIPESTATUS[0]}
    [ "$LRC" -eq 0 ] || { echo "loadgen failed (rc $LRC)"; RC=1; }
    HWM=$(awk '/^VmHWM:/ { print $2 }' "/proc/$SERVER_PID/status" 2>/dev/null)
    RSS=$(awk '/^VmRSS:/ { print $2 }' "/proc/$SERVER_PID/status" 2>/dev/null)
    stop_server
    DB_BYTES=$(( $(stat -c %s "$DB" 2>/dev/null || echo 0) + $(stat -c %s "$DB-wal" 2>/dev/null || echo 0) ))
    echo "server peak RSS (VmHWM): $((${HWM:-0} / 1024)) MiB (RSS at the end $((${RSS:-0} / 1024)) MiB); database $((DB_BYTES / 1048576)) MiB after stop"
    printf '%s\t%s\t%s\t%s\n' "$SPEC" "${HWM:-NA}" "$DB_BYTES" "$(tail -1 "$OUT/loadgen-$SPEC.out")" >>"$OUT/results.tsv"
done
exit $RC

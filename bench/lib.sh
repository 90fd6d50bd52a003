# Shared helpers for bench/*.sh (sourced, not executed).
#
# Environment knobs:
#   TAILWATCH   tailwatch binary (default: target/release/tailwatch; build it with
#               cargo build --release -p tailwatch-cli)
#   SELFBLEU_TIME  the self-BLEU timing example (default: target/release/examples/selfbleu_time;
#               cargo build --release -p tailwatch-metrics --example selfbleu_time)
#   TW_DATA     shared data folder (default: <repo>/../shared/data)
#   BENCH_PY    python with the anchor packages (default: bench/.venv/bin/python, see bench/setup.sh)

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$BENCH_DIR/.." && pwd)"
TAILWATCH="${TAILWATCH:-$REPO_DIR/target/release/tailwatch}"
SELFBLEU_TIME="${SELFBLEU_TIME:-$REPO_DIR/target/release/examples/selfbleu_time}"
TW_DATA="${TW_DATA:-$REPO_DIR/../shared/data}"
BENCH_PY="${BENCH_PY:-$BENCH_DIR/.venv/bin/python}"
GNU_TIME="${GNU_TIME:-/usr/bin/time}"

die() { echo "error: $*" >&2; exit 2; }

check_prereqs() {
    [ -x "$TAILWATCH" ] || die "tailwatch binary not found at $TAILWATCH (build: cd $REPO_DIR && cargo build --release -p tailwatch-cli, or set TAILWATCH=...)"
    [ -d "$TW_DATA" ] || die "shared data folder not found at $TW_DATA (set TW_DATA=...)"
    [ -x "$BENCH_PY" ] || die "bench venv missing: run bench/setup.sh"
    [ -x "$GNU_TIME" ] || die "GNU time missing at $GNU_TIME (apt-get update && apt-get install -y time)"
}

# run_timed NAME CMD...   run CMD under GNU time -v in $OUT.
# stdout -> $OUT/NAME.out, stderr -> $OUT/NAME.err, time -v report -> $OUT/NAME.time.
# Appends "NAME<TAB>wall_s<TAB>peak_rss_kib<TAB>rc" to $OUT/timings.tsv and sets
# LAST_WALL / LAST_RSS_KB / LAST_RC. Wall time is taken with date +%s.%N around the call
# (GNU time's own wall clock only has 10 ms resolution).
run_timed() {
    local name=$1; shift
    local t0 t1 rc
    t0=$(date +%s.%N)
    "$GNU_TIME" -v -o "$OUT/$name.time" "$@" >"$OUT/$name.out" 2>"$OUT/$name.err"
    rc=$?
    t1=$(date +%s.%N)
    LAST_RC=$rc
    LAST_WALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    LAST_RSS_KB=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$OUT/$name.time" 2>/dev/null)
    LAST_RSS_KB=${LAST_RSS_KB:-NA}
    printf '%s\t%s\t%s\t%s\n' "$name" "$LAST_WALL" "$LAST_RSS_KB" "$rc" >>"$OUT/timings.tsv"
    printf '  %-34s wall %9.3f s   peak RSS %8s KiB   rc %s\n' "$name" "$LAST_WALL" "$LAST_RSS_KB" "$rc" >&2
    return 0
}

print_versions() {
    echo "tailwatch:   $("$TAILWATCH" --version 2>/dev/null) (commit $(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null)$(git -C "$REPO_DIR" diff --quiet HEAD -- crates Cargo.toml Cargo.lock 2>/dev/null || echo ', working tree has uncommitted changes under crates/'))"
    echo "binary:      $TAILWATCH"
    echo "python:      $("$BENCH_PY" --version 2>&1)"
    "$BENCH_PY" - <<'EOF'
from importlib.metadata import version
for p in ("fast-bleu", "nltk", "diversity", "numpy", "tqdm"):
    try:
        print(f"{p + ':':<12} {version(p)}")
    except Exception:
        print(f"{p + ':':<12} not installed")
EOF
    echo "wc:          $(wc --version | head -1)"
    echo "cpu:         $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores; $(free -g | awk '/Mem:/ {print $2}') GiB RAM"
}

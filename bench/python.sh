#!/usr/bin/env bash
# The Python package's speed: Profile.from_arrow against the CLI on the 200 MB corpus of
# score_throughput.sh (target: within 1.2x), tailwatch.spark against whylogs' Spark profiler
# and the CLI, and tailwatch.ray, start-up times apart (bench/python_bench.py).
#
#   bench/python.sh        # ROUNDS=3, PARTS=profile,spark,ray,dedup; TW_PY: a python with a release build of the package
#                          # (maturin develop --release); SPARK_PY: one with it, pyspark and whylogs
#
# SPARK_PY defaults to bench/.venv-spark, made here: whylogs needs pandas < 3 (its [spark] extra
# pins pyspark 3; its Spark profiler runs on pyspark 4.3 without it); it imports the module that
# `maturin develop --release` built for TW_PY.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
[ -x "$TAILWATCH" ] || die "tailwatch binary not found at $TAILWATCH (cargo build --release -p tailwatch-cli)"
ROUNDS=${ROUNDS:-3}
TW_PY=${TW_PY:-$REPO_DIR/.venv-py/bin/python}
SPARK_PY=${SPARK_PY:-$BENCH_DIR/.venv-spark/bin/python}
BIG="$BENCH_DIR/out/synth_210mb.txt"
SMALL="$BENCH_DIR/out/synth_40mb.txt"
[ -s "$BIG" ] || "$BENCH_PY" "$BENCH_DIR/gen_synth.py" "$BIG" --mb 210 || die "generator failed"
[ -s "$SMALL" ] || "$BENCH_PY" "$BENCH_DIR/gen_synth.py" "$SMALL" --mb 40 || die "generator failed"
# the planted-duplicate corpus of crates/tailwatch-sketch/examples/planted.rs, 10,000 bases
export PLANTED="$BENCH_DIR/out/planted_10k.txt"
PLANTED_BIN="$REPO_DIR/target/release/examples/planted"
[ -s "$PLANTED" ] || { [ -x "$PLANTED_BIN" ] || die "missing $PLANTED_BIN (cargo build --release -p tailwatch-sketch --example planted)"; "$PLANTED_BIN" "$PLANTED" 10000 2024; }
"$TW_PY" -c "import tailwatch, pyarrow, ray" || die "$TW_PY lacks tailwatch, pyarrow or ray"
if [ ! -x "$SPARK_PY" ]; then
    python3 -m venv "$BENCH_DIR/.venv-spark" || die "venv"
    "$BENCH_DIR/.venv-spark/bin/pip" install -q "pyspark==4.3.*" "whylogs==1.6.*" "pandas<3" pyarrow datasketch || die "pip"
fi
if ! "$SPARK_PY" -c "import tailwatch" 2>/dev/null; then
    # the module `maturin develop --release` built for TW_PY (abi3: any CPython >= 3.10)
    ls "$REPO_DIR"/crates/tailwatch-python/python/tailwatch/_tailwatch*.so >/dev/null 2>&1 || die "no built module: maturin develop --release"
    site=$("$SPARK_PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    echo "$REPO_DIR/crates/tailwatch-python/python" >"$site/tailwatch-bench.pth"
fi
echo "== Python package benchmark ($(date -u +%Y-%m-%dT%H:%M:%SZ))"
echo "tailwatch:   $("$TAILWATCH" --version) (commit $(git -C "$REPO_DIR" rev-parse --short HEAD))"
echo "python:      $("$TW_PY" --version 2>&1); pyarrow $("$TW_PY" -c 'import pyarrow; print(pyarrow.__version__)'); ray $("$TW_PY" -c 'import ray; print(ray.__version__)')"
echo "spark venv:  pyspark $("$SPARK_PY" -c 'import pyspark; print(pyspark.__version__)'); whylogs $("$SPARK_PY" -c 'from importlib.metadata import version; print(version("whylogs"))'); java $(java -version 2>&1 | head -1)"
echo "cpu:         $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores"
exec "$TW_PY" "$BENCH_DIR/python_bench.py" "$BIG" "$SMALL" "$TAILWATCH" "$TW_PY" "$SPARK_PY" "$ROUNDS"

#!/usr/bin/env bash
# Create bench/.venv with the pinned anchor tools (bench/requirements.txt, fully pinned).
# Installed with --no-deps because `diversity` declares torch, transformers,
# sentence-transformers etc. that none of the benchmarked functions need; `import diversity`
# fails without spacy/openai anyway, so bench/diversity_anchor.py loads the three metric
# modules by file path instead.
set -euo pipefail
BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PY="${PYTHON:-python3}"
[ -x "$BENCH_DIR/.venv/bin/python" ] || "$PY" -m venv "$BENCH_DIR/.venv"
"$BENCH_DIR/.venv/bin/pip" install -q --no-deps -r "$BENCH_DIR/requirements.txt"
if [ ! -x /usr/bin/time ]; then
    echo "GNU time is missing: apt-get update && apt-get install -y time" >&2
fi
"$BENCH_DIR/.venv/bin/pip" list 2>/dev/null | grep -Ei '^(fast-bleu|nltk|diversity|numpy|tqdm|datasketch|rensa|setsimilaritysearch|scipy) '

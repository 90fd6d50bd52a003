"""The Python examples of the README and docs/PYTHON.md run as written."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from conftest import REPO, need

BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def python_blocks(doc: str) -> list[tuple[str, int, str]]:
    text = (REPO / doc).read_text(encoding="utf-8")
    return [(doc, text[: m.start()].count("\n") + 1, m.group(1)) for m in BLOCK.finditer(text)]


BLOCKS = python_blocks("README.md") + python_blocks("docs/PYTHON.md")


def test_the_docs_have_python_examples():
    assert len(python_blocks("README.md")) >= 1
    assert len(python_blocks("docs/PYTHON.md")) >= 6


@pytest.mark.timeout(600)
@pytest.mark.parametrize("doc,line,code", BLOCKS, ids=[f"{d}:{n}" for d, n, _ in BLOCKS])
def test_example_runs(doc, line, code, tmp_path):
    for module in re.findall(r"^import (pyspark|ray|datasets|pyarrow|pandas)\b|^from (pyspark)", code, re.M):
        need(next(m for m in module if m))
    script = tmp_path / "example.py"
    script.write_text(code, encoding="utf-8")
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "RAY_USAGE_STATS_ENABLED": "0"}
    before = set(REPO.iterdir())
    done = subprocess.run([sys.executable, str(script)], cwd=REPO, env=env, capture_output=True, text=True, timeout=580)
    assert done.returncode == 0, f"{doc}:{line}: the example failed\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    left = set(REPO.iterdir()) - before
    assert not left, f"{doc}:{line}: the example wrote into the checkout: {sorted(map(str, left))}"

"""Fixtures: the tailwatch binary and example corpora the Python results are checked against."""

from __future__ import annotations

import os
import random
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
SHARED_DATA = REPO.parent / "shared" / "data"


def need(module: str):
    """Import an optional dependency of a test: skipped without it, except in CI (CI=true),
    which installs every one, so that a broken install fails instead of skipping."""
    if os.environ.get("CI") == "true":
        import importlib

        return importlib.import_module(module)
    return pytest.importorskip(module)


def _binary(name: str, env: str, subdir: str = "") -> Path:
    path = Path(os.environ.get(env, REPO / "target" / "debug" / subdir / name))
    if not path.exists():
        pytest.fail(f"{path} is missing: build it with `cargo build` (or set {env})")
    return path


@pytest.fixture(scope="session")
def cli() -> Path:
    """The `tailwatch` binary the package must agree with."""
    return _binary("tailwatch", "TAILWATCH_BIN")


def run_cli(cli: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(cli), *map(str, args)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"tailwatch {' '.join(map(str, args))}: exit {done.returncode}\n{done.stderr}"
    return done


@pytest.fixture(scope="session")
def synthetic_texts() -> list[str]:
    """2,000 documents of a Zipf-ish vocabulary, with exact repeats."""
    rng = random.Random(7)
    vocab = [f"w{i}" for i in range(400)]
    weights = [1 / (i + 1) for i in range(len(vocab))]
    docs = [" ".join(rng.choices(vocab, weights, k=rng.randint(3, 30))) for _ in range(1800)]
    docs += rng.choices(docs, k=200)
    rng.shuffle(docs)
    return docs


@pytest.fixture(scope="session")
def texygen() -> list[str]:
    """Texygen's TextGAN samples (../shared/data/texygen): its non-blank lines, the documents
    the CLI reads from a text file."""
    path = SHARED_DATA / "texygen" / "gen_textgan.txt"
    if not path.exists():
        pytest.fail(f"{path} is missing (../shared/data)")
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="session")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The planted-duplicate corpus of crates/tailwatch-sketch/examples/planted.rs (300 bases)."""
    out = tmp_path_factory.mktemp("planted") / "planted.txt"
    subprocess.run([str(_binary("planted", "TAILWATCH_PLANTED_BIN", "examples")), str(out), "300", "11"], check=True, capture_output=True)
    return out


def write_lines(path: Path, texts: list[str]) -> Path:
    path.write_text("".join(t + "\n" for t in texts), encoding="utf-8")
    return path

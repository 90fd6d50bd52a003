"""Fixtures: the tailwatch binary and example corpora the Python results are checked against."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from dataclasses import dataclass
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


# a profile of answers grouped by prompt, ordered by a generation index, with two score fields,
# and the flags of `tailwatch profile` that make the same profile of a JSONL file of them
SCORED = {"group_field": "prompt", "order_field": "i", "score_fields": ["reward", "pass"]}
SCORED_FLAGS = ["--field", "answer", "--group-field", "prompt", "--order-field", "i", "--score-field", "reward,pass"]


def scored_rows() -> list[dict]:
    """Answers to 30 prompts, 5 each with a generation index, a reward (some missing) and a
    0/1 verifier pass: some prompts collapse, some answer alike in a chain (a ~ b ~ c, a !~ c,
    where the order decides the partition)."""
    rows = []
    for p in range(30):
        for i in range(5):
            if p % 6 == 0:
                text = "the answer is paris"
            elif p % 6 == 1:
                text = ["red green blue", "green blue yellow", "blue yellow black", "red green blue", "pink"][i]
            else:
                text = f"alpha{i} beta{p % 4} gamma{i * p % 7} delta"
            reward = None if (p + i) % 11 == 0 else round(((p * 7 + i * 3) % 10) / 9, 3)
            rows.append({"prompt": f"q{p}", "i": i, "answer": text, "reward": reward, "pass": (p + i) % 3 == 0})
    return rows


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def write_lines(path: Path, texts: list[str]) -> Path:
    path.write_text("".join(t + "\n" for t in texts), encoding="utf-8")
    return path


@dataclass
class CliDedup:
    """What `tailwatch dedup` decided, per record (0-based): its cluster id (None: no
    duplicate) and whether it is kept."""

    cluster: list[int | None]
    keep: list[bool]

    def groups(self) -> list[tuple[tuple[int, ...], int]]:
        """Each cluster as (its members, its kept record), ordered by first member."""
        return groups_of(self.cluster, self.keep)


def groups_of(cluster: list[int | None], keep: list[bool | None]) -> list[tuple[tuple[int, ...], int]]:
    """The clusters of per-record cluster ids and keep flags: (members, kept record) each,
    ordered by first member."""
    members: dict[int, list[int]] = {}
    for record, c in enumerate(cluster):
        if c is not None:
            members.setdefault(c, []).append(record)
    out = []
    for group in members.values():
        kept = [m for m in group if keep[m]]
        assert len(kept) == 1, f"cluster {group} keeps {kept}"
        out.append((tuple(group), kept[0]))
    return sorted(out)


def cli_dedup(cli: Path, corpus: Path, tmp_path: Path, *flags: str) -> CliDedup:
    """Run `tailwatch dedup` on a text file (one record a line) and read its clusters file."""
    kept, clusters = tmp_path / "kept.txt", tmp_path / "clusters.jsonl"
    run_cli(cli, "dedup", corpus, "-o", kept, "--clusters", clusters, "-q", *flags)
    n = len(corpus.read_text(encoding="utf-8").splitlines())
    result = CliDedup(cluster=[None] * n, keep=[True] * n)
    for line in clusters.read_text().splitlines():
        c = json.loads(line)
        for m in c["members"]:
            record = m["record"] - 1
            result.cluster[record] = c["cluster"]
            result.keep[record] = record == c["kept"]["record"] - 1
    assert sum(result.keep) == len(kept.read_text(encoding="utf-8").splitlines())
    return result


def assert_same_dedup(cluster: list[int | None], keep: list[bool | None], want: CliDedup) -> None:
    """The same clusters (membership and kept record), then the same ids and flags."""
    assert len(cluster) == len(want.cluster) and len(keep) == len(want.keep)
    got_groups, want_groups = groups_of(cluster, keep), want.groups()
    assert [g for g, _ in got_groups] == [g for g, _ in want_groups], "cluster membership differs"
    assert got_groups == want_groups, "kept records differ"
    assert cluster == want.cluster, "cluster ids differ"
    assert keep == want.keep


@dataclass
class StarCorpus:
    """Records in one LSH bucket above the CLI's pairwise limit of 64 members, which the CLI
    links to the bucket's first member only: `x` and `y` are near duplicates of each other,
    but not of that first member, and share no other bucket, so they stay apart."""

    texts: list[str]
    options: dict[str, int]
    flags: tuple[str, ...]
    x: int
    y: int


def star_corpus() -> StarCorpus:
    import tailwatch as tw

    # words as shingles and one signature slot: one band, whose key is the least word hash;
    # every record holding the vocabulary's least-hashed word lands in one bucket
    options = {"num_perm": 1, "shingle_size": 1}
    vocab = [f"v{i}" for i in range(300)]
    keys = tw._tailwatch.dedup_keys([" ".join(vocab), *vocab], **options).column("band_keys").to_pylist()
    least = vocab[keys[1:].index(keys[0])]
    words = [w for w in vocab if w != least]
    rng = random.Random(5)
    first = [least, *words[:20]]
    x, y = [least, *words[20:40]], [least, *words[21:41]]
    others = [[least, *rng.sample(words[41:], 20)] for _ in range(70)]
    rest = [x, y, *others]
    rng.shuffle(rest)
    docs = [" ".join(d) for d in [first, *rest]]
    # exact copies (not in the bucket: only first appearances are)
    docs += [docs[3].upper(), docs[10] + " ."]
    return StarCorpus(
        texts=docs,
        options=options,
        flags=("--num-perm", "1", "--shingle", "1"),
        x=docs.index(" ".join(x)),
        y=docs.index(" ".join(y)),
    )


@pytest.fixture(scope="session")
def spark():
    """One local Spark session for every test (JVM start costs seconds), two cores."""
    pytest.importorskip("pyspark")
    from pyspark.sql import SparkSession

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    # executors run this interpreter, which has tailwatch installed
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (
        SparkSession.builder.master("local[2]")
        .appName("tailwatch-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        # partitions span several Arrow batches
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "64")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def ray_session():
    """One local Ray instance for every test (each start costs seconds), two CPUs."""
    ray = pytest.importorskip("ray")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    ray.init(
        num_cpus=2,
        object_store_memory=300 * 2**20,
        include_dashboard=False,
        _node_ip_address="127.0.0.1",
        log_to_driver=False,
    )
    yield
    ray.shutdown()


@pytest.fixture(scope="session")
def corpora(planted: Path, texygen: list[str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[list[str], Path]]:
    """The dedup corpora, each as its documents and a text file of them: planted and texygen."""
    texygen_file = write_lines(tmp_path_factory.mktemp("texygen") / "texygen.txt", texygen)
    return {"planted": (planted.read_text(encoding="utf-8").splitlines(), planted), "texygen": (texygen, texygen_file)}

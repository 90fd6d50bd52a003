"""Profiles from Python: the CLI's bytes, exact merges, inputs, errors, threads and fork."""

from __future__ import annotations

import itertools
import json
import multiprocessing
import os
import pickle
import threading
import time
from pathlib import Path

import pytest

import tailwatch as tw
from conftest import need, run_cli, write_lines


def cli_profile(cli: Path, tmp_path: Path, texts: list[str], *flags: str) -> bytes:
    corpus = write_lines(tmp_path / "corpus.txt", texts)
    out = tmp_path / "cli.twp"
    run_cli(cli, "profile", corpus, "-o", out, "-q", *flags)
    return out.read_bytes()


@pytest.mark.parametrize(
    "flags,config",
    [
        ((), {}),
        (("--sample", "all", "--seed", "7"), {"sample": "all", "seed": 7}),
        (("--tokenizer", "whitespace", "--lowercase", "--keep-text"), {"tokenizer": "whitespace", "lowercase": True, "keep_text": True}),
    ],
)
def test_from_texts_is_byte_identical_to_the_cli(cli, tmp_path, synthetic_texts, flags, config):
    expected = cli_profile(cli, tmp_path, synthetic_texts, *flags)
    assert tw.Profile.from_texts(synthetic_texts, **config).to_bytes() == expected


def test_texygen_profile_and_metrics_match_the_cli(cli, tmp_path, texygen):
    expected = cli_profile(cli, tmp_path, texygen)
    profile = tw.Profile.from_texts(texygen)
    assert profile.to_bytes() == expected
    saved = tmp_path / "py.twp"
    profile.save(saved)
    report = json.loads(run_cli(cli, "score", saved, "--json", "-q").stdout)
    scored = report[0] if isinstance(report, list) else report
    assert profile.metrics() == scored["metrics"]
    assert profile.report().raw["metrics"] == scored["metrics"]


def test_score_matches_the_cli_with_compat(cli, tmp_path, texygen):
    corpus = write_lines(tmp_path / "t.txt", texygen)
    report = json.loads(run_cli(cli, "score", corpus, "--compat", "texygen", "--json", "-q").stdout)
    scored = report[0] if isinstance(report, list) else report
    assert tw.score(texygen, compat="texygen").metrics == scored["metrics"]


def test_score_intervals_match_the_cli(cli, tmp_path, texygen):
    corpus = write_lines(tmp_path / "t.txt", texygen[:3000])
    report = json.loads(run_cli(cli, "score", corpus, "--ci", "0.9", "--json", "-q").stdout)
    scored = report[0] if isinstance(report, list) else report
    got = tw.score(texygen[:3000], confidence=0.9)
    assert got.intervals == scored["intervals"]
    assert got.metrics == scored["metrics"]
    with pytest.raises(tw.InputError, match="confidence"):
        tw.score(["a b"], confidence=1.5)


def test_load_reads_cli_files_and_thread_count_changes_nothing(cli, tmp_path, synthetic_texts):
    expected = cli_profile(cli, tmp_path, synthetic_texts)
    assert tw.Profile.load(tmp_path / "cli.twp").to_bytes() == expected
    try:
        tw.set_num_threads(1)
        one = tw.Profile.from_texts(synthetic_texts).to_bytes()
        tw.set_num_threads(3)
        three = tw.Profile.from_texts(synthetic_texts).to_bytes()
    finally:
        tw.set_num_threads(None)
    assert one == three == expected


def test_merges_are_byte_equal_under_every_permutation(synthetic_texts):
    whole = tw.Profile.from_texts(synthetic_texts).to_bytes()
    cuts = [0, 300, 301, 1200, len(synthetic_texts)]
    parts = [tw.Profile.from_texts(synthetic_texts[a:b]) for a, b in zip(cuts, cuts[1:])]
    parts.append(tw.Profile())  # the empty profile is the identity
    for order in itertools.permutations(parts):
        assert tw.merge(order).to_bytes() == whole
    left = parts[0].merge(parts[1]).merge(parts[2].merge(parts[3]))
    assert left.to_bytes() == whole
    assert tw.merge(p.to_bytes() for p in parts).to_bytes() == whole
    # update accumulates exactly too
    p = tw.Profile()
    for a, b in zip(cuts, cuts[1:]):
        p.update(synthetic_texts[a:b])
    assert p.to_bytes() == whole


def test_pickle_and_cloudpickle_round_trip(synthetic_texts):
    cloudpickle = need("cloudpickle")
    p = tw.Profile.from_texts(synthetic_texts, sample=50, max_memory=1 << 30)
    for dumps, loads in [(pickle.dumps, pickle.loads), (cloudpickle.dumps, pickle.loads)]:
        q = loads(dumps(p))
        assert q.to_bytes() == p.to_bytes()
        assert q.config == p.config
        assert q.metrics() == p.metrics()
    e = loads(dumps(tw.IncompatibleProfilesError("seed differs")))
    assert isinstance(e, tw.IncompatibleProfilesError) and isinstance(e, tw.TailwatchError)
    assert str(e) == "seed differs"


def test_arrow_and_dataframe_inputs(synthetic_texts):
    pa = need("pyarrow")
    whole = tw.Profile.from_texts(synthetic_texts).to_bytes()
    half = len(synthetic_texts) // 2
    inputs = [
        pa.array(synthetic_texts),
        pa.array(synthetic_texts, pa.large_string()),
        pa.array(synthetic_texts, pa.string_view()),
        pa.array(synthetic_texts).dictionary_encode(),
        pa.chunked_array([synthetic_texts[:half], synthetic_texts[half:]]),
        iter(synthetic_texts),
        tuple(synthetic_texts),
    ]
    for texts in inputs:
        assert tw.Profile.from_texts(texts).to_bytes() == whole, type(texts)
    table = pa.table({"id": range(len(synthetic_texts)), "text": synthetic_texts})
    assert tw.Profile.from_arrow(table, column="text").to_bytes() == whole
    assert tw.Profile.from_arrow(table.to_reader(max_chunksize=97), column="text").to_bytes() == whole
    assert tw.Profile.from_arrow(table.column("text")).to_bytes() == whole
    pd = need("pandas")
    assert tw.Profile.from_texts(pd.Series(synthetic_texts)).to_bytes() == whole
    assert tw.Profile.from_texts(pd.Series(synthetic_texts, dtype="string[pyarrow]").array).to_bytes() == whole
    pl = need("polars")
    assert tw.Profile.from_texts(pl.Series(synthetic_texts)).to_bytes() == whole
    assert tw.Profile.from_arrow(pl.DataFrame({"text": synthetic_texts}), column="text").to_bytes() == whole


def test_hf_dataset_column(synthetic_texts):
    datasets = need("datasets")
    ds = datasets.Dataset.from_dict({"text": synthetic_texts, "n": list(range(len(synthetic_texts)))})
    assert tw.Profile.from_dataset(ds, column="text", batch_size=333).to_bytes() == tw.Profile.from_texts(synthetic_texts).to_bytes()


def test_bad_input_raises_the_documented_exceptions(tmp_path, synthetic_texts):
    pa = need("pyarrow")
    with pytest.raises(tw.InputError, match="element 1 of the column is null"):
        tw.Profile.from_texts(["a", None, "b"])
    with pytest.raises(tw.InputError, match="element 2 of the column is null"):
        tw.Profile.from_texts(pa.array(["a", "b", None]))
    assert tw.Profile.from_texts(["a", None], skip_nulls=True).n_docs == 1
    with pytest.raises(TypeError, match="type Int64"):
        tw.Profile.from_texts(pa.array([1, 2]))
    with pytest.raises(TypeError, match="element 1 is int"):
        tw.Profile.from_texts(["a", 3])
    with pytest.raises(TypeError, match="not a single string"):
        tw.Profile.from_texts("just one string")
    with pytest.raises(tw.InputError, match="no column `txt`: the columns are text"):
        tw.Profile.from_arrow(pa.table({"text": ["a"]}), column="txt")
    with pytest.raises(tw.NotAProfileError, match="not a tailwatch profile"):
        tw.Profile.from_bytes(b"definitely not a profile")
    good = tw.Profile.from_texts(synthetic_texts).to_bytes()
    with pytest.raises(tw.NotAProfileError):
        tw.Profile.from_bytes(good[: len(good) // 2])
    future = bytearray(good)
    future[8:12] = (99).to_bytes(4, "little")
    with pytest.raises(tw.UnsupportedVersionError, match="format version 99"):
        tw.Profile.from_bytes(bytes(future))
    with pytest.raises(tw.IncompatibleProfilesError, match="seed"):
        tw.Profile.from_texts(["a b"]).merge(tw.Profile.from_texts(["a b"], seed=1))
    with pytest.raises(tw.IncompatibleProfilesError):
        tw.merge([tw.Profile(), tw.Profile(tokenizer="whitespace")])
    with pytest.raises(FileNotFoundError, match="missing.twp"):
        tw.Profile.load(tmp_path / "missing.twp")
    with pytest.raises(tw.TokenizerError, match="no-such-tokenizer"):
        tw.Profile(tokenizer="no-such-tokenizer")
    with pytest.raises(tw.TokenizerError):
        tw.Profile(tokenizer=b"{not a tokenizer json")
    with pytest.raises(ValueError, match="sample must be a number"):
        tw.Profile(sample="most")
    with pytest.raises(tw.InputError, match="unknown metric `distinct_9`"):
        tw.Profile.from_texts(["a b"]).metrics(metrics=["distinct_9"])
    with pytest.raises(tw.InputError, match="at least one profile"):
        tw.merge([])


def test_two_threads_with_two_profiles_work_and_one_profile_refuses_a_second_thread(synthetic_texts):
    big = synthetic_texts * 40
    expected = tw.Profile.from_texts(big).to_bytes()
    results: list[bytes] = [b"", b""]

    def own(i: int) -> None:
        results[i] = tw.Profile.from_texts(big).to_bytes()

    threads = [threading.Thread(target=own, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [expected, expected]

    shared = tw.Profile()
    updates: list[str] = []
    refused: list[BaseException] = []

    def update() -> None:
        shared.update(big)
        updates.append("ok")

    deadline = time.monotonic() + 60
    while not refused and time.monotonic() < deadline:
        worker = threading.Thread(target=update)
        worker.start()
        while worker.is_alive() and not refused:
            try:
                shared.update(["one more"])
                updates.append("small")
            except RuntimeError as e:
                refused.append(e)
        worker.join()
    assert refused, "a second thread was never refused while the first updated the profile"
    assert "another thread" in str(refused[0])
    # what succeeded is all there, nothing else: the profile is not corrupted
    rebuilt = tw.Profile()
    for u in updates:
        rebuilt.update(big if u == "ok" else ["one more"])
    assert shared.n_docs == rebuilt.n_docs
    assert shared.to_bytes() == rebuilt.to_bytes()


def _child(conn, blobs):  # pragma: no cover - runs in the forked child
    merged = tw.merge(blobs)
    conn.send((merged.n_docs, merged.metrics()["distinct_2"]))
    conn.close()


@pytest.mark.timeout(120)
def test_a_forked_child_merges_and_scores(synthetic_texts):
    if not hasattr(os, "fork"):
        pytest.skip("no fork on this platform")
    parts = [tw.Profile.from_texts(synthetic_texts[i::3]) for i in range(3)]
    merged = tw.merge(parts)  # the parent's pool is running
    expected = (merged.n_docs, merged.metrics()["distinct_2"])
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe()
    process = ctx.Process(target=_child, args=(child, [p.to_bytes() for p in parts]))
    process.start()
    assert parent.poll(60), "the forked child hung"
    assert parent.recv() == expected
    process.join(10)
    assert process.exitcode == 0


def test_reference_metrics(tmp_path, synthetic_texts):
    human = tw.Profile.from_texts(synthetic_texts)
    collapsed = tw.Profile.from_texts(synthetic_texts[:50] * 20)
    by_profile = collapsed.metrics(reference=human)
    by_reference = collapsed.metrics(reference=tw.Reference.from_profile(human))
    assert by_profile == by_reference
    assert by_profile["kl_to_reference"] is not None and by_profile["kl_to_reference"] > 0
    human.save(tmp_path / "human.twp")
    assert collapsed.metrics(reference=tw.Reference.load(tmp_path / "human.twp")) == by_reference


def test_catalog_lists_every_metric_a_profile_reports(synthetic_texts):
    ids = {m["id"] for m in tw.catalog()}
    assert set(tw.Profile.from_texts(synthetic_texts).metrics()) <= ids
    frame = tw.Profile.from_texts(synthetic_texts).report().to_pandas()
    assert set(frame["metric"]) <= ids


def test_import_pulls_in_no_optional_dependency():
    import subprocess
    import sys

    code = "import sys, tailwatch; bad = [m for m in ('pyarrow', 'pandas', 'polars', 'pyspark', 'ray', 'datasets') if m in sys.modules]; print(','.join(bad))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def _without_names(result: dict) -> dict:
    result = json.loads(json.dumps(result))
    for side in ("baseline", "candidate"):
        result[side].pop("inputs")
    return result


def test_compare_matches_the_cli(cli, tmp_path, texygen):
    human = texygen[:3000]
    collapsed = texygen[3000:3300] * 10
    base = write_lines(tmp_path / "base.txt", human)
    cand = write_lines(tmp_path / "cand.txt", collapsed)
    done = __import__("subprocess").run(
        [str(cli), "compare", str(base), str(cand), "--json", "-q", "--permutations", "200"], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 1, done.stderr  # a collapse
    expected = _without_names(json.loads(done.stdout))
    result = tw.compare(human, collapsed, permutations=200)
    assert result.collapsed and result.verdict == "collapse"
    assert _without_names(result.raw) == expected
    assert {c["metric"] for c in result.checks} >= {"distinct_2", "entropy_1"}
    assert len(result.to_pandas()) == len(result.checks)
    # profiles as sides: the same as the CLI given the .twp files
    tw.Profile.from_texts(human, keep_text=True).save(tmp_path / "base.twp")
    tw.Profile.from_texts(collapsed, keep_text=True).save(tmp_path / "cand.twp")
    done = __import__("subprocess").run(
        [str(cli), "compare", str(tmp_path / "base.twp"), str(tmp_path / "cand.twp"), "--json", "-q", "--permutations", "200"],
        capture_output=True, text=True, timeout=300,
    )
    expected = json.loads(done.stdout)
    got = tw.compare(tw.Profile.load(tmp_path / "base.twp"), tw.Profile.load(tmp_path / "cand.twp"), permutations=200).raw
    for side in ("baseline", "candidate"):
        expected[side].pop("inputs"), got[side].pop("inputs")
    # notes name the sides: the CLI by their paths
    expected_notes = [n.replace(str(tmp_path / "base.twp"), "baseline").replace(str(tmp_path / "cand.twp"), "candidate") for n in expected.pop("notes")]
    assert got.pop("notes") == expected_notes
    assert got == expected


def test_compare_of_two_halves_of_one_corpus_is_ok(texygen):
    result = tw.compare(texygen[0::2], texygen[1::2], permutations=200)
    assert result.verdict == "ok", result.checks


def test_compare_refuses_bad_rules_and_sides(tmp_path):
    with pytest.raises(tw.InputError, match="rules"):
        tw.compare(["a b"], ["a b"], rules="[[rule]]\nmetric = 3")
    with pytest.raises(FileNotFoundError):
        tw.compare(["a b"], ["a b"], rules=tmp_path / "missing.toml")
    with pytest.raises(tw.InputError, match="candidate holds no documents"):
        tw.compare(["a b"], [])
    with pytest.raises(tw.InputError, match="confidence"):
        tw.compare(["a b"], ["a b"], confidence=2)
    rules = '[[rule]]\nmetric = "distinct_1"\nrelative = 0.5\n'
    assert [c["metric"] for c in tw.compare(["a b c"] * 5, ["a b"] * 5, rules=rules, permutations=0).checks] == ["distinct_1"]

"""The ledger and the simulator from Python, against the CLI."""

from __future__ import annotations

import json

import pytest

import tailwatch as tw
from conftest import run_cli, write_lines


def test_simulate_matches_the_cli(cli):
    expected = json.loads(run_cli(cli, "simulate", "gaussian", "--generations", "20", "--replicates", "50", "--strategy", "replace,accumulate", "--json", "-q").stdout)
    sim = tw.simulate("gaussian", generations=20, replicates=50, strategies="replace,accumulate")
    got = sim.raw
    for report in (expected, got):
        report.pop("elapsed_s")
    assert got == expected
    assert sim.series("variance", "accumulate") == got["strategies"][1]["metrics"]["variance"]["mean"]
    with pytest.raises(KeyError, match="no strategy 'fresh'"):
        sim.series("variance", "fresh")
    frame = sim.to_pandas()
    assert set(frame["strategy"]) == {"replace", "accumulate"}
    assert len(frame) == 2 * len(got["strategies"][0]["metrics"]) * 21


def test_simulate_zipf_and_ngram_on_documents(cli, tmp_path, texygen):
    zipf = tw.simulate("zipf", generations=5, replicates=10, categories=500, exponent=1.1)
    assert zipf.raw["parameters"]["symbols"] == 500
    corpus = write_lines(tmp_path / "c.txt", texygen[:2000])
    expected = json.loads(run_cli(cli, "simulate", "ngram", "--corpus", corpus, "--generations", "2", "--json", "-q").stdout)
    by_path = tw.simulate("ngram", corpus=corpus, generations=2).raw
    by_docs = tw.simulate("ngram", corpus=texygen[:2000], generations=2).raw
    for report in (expected, by_path, by_docs):
        report.pop("elapsed_s")
        report["parameters"].pop("corpus")
    assert by_path == expected
    assert by_docs == expected


def test_simulate_refuses_bad_options():
    with pytest.raises(tw.InputError, match="dim does not apply to the gaussian model"):
        tw.simulate("gaussian", dim=3)
    with pytest.raises(tw.InputError, match="unknown model|model"):
        tw.simulate("nope")
    with pytest.raises(tw.InputError, match="corpus"):
        tw.simulate("ngram", generations=2)
    with pytest.raises(tw.InputError, match="strateg"):
        tw.simulate("gaussian", strategies="sideways")
    with pytest.raises(tw.InputError, match="at most"):
        tw.simulate("zipf", categories=100_000_000_000, generations=2, replicates=1)


def test_ledger_ingest_stats_lineage_and_mix_match_the_cli(cli, tmp_path):
    records = [{"text": f"human record number {i} with words", "key": f"h{i}"} for i in range(40)]
    synthetic = [{"text": f"model output {i} about things", "key": f"s{i}", "parents": [f"h{i}"], "generation": 1} for i in range(30)]
    with tw.Ledger.open(tmp_path / "py.db") as ledger:
        first = ledger.ingest(records, origin="human", source="wiki")
        second = ledger.ingest(synthetic, origin="synthetic", generator="m1")
        again = ledger.ingest(records, origin="human", source="wiki")
        stats = ledger.stats()
        lineage = ledger.lineage("s3")
        mix = ledger.mix("train-1", max_synthetic=0.2, seed=4)
        with pytest.raises(tw.CapsUnmetError):
            ledger.mix("impossible", max_synthetic=0.1, size=1000, seed=4)
    assert first["added"] == 40 and second["added"] == 30 and again["already_present"] == 40
    assert stats["records"] == 70
    assert [a["key"] for a in lineage["ancestors"]] == ["h3"] and lineage["record"]["key"] == "s3"
    # the CLI on the same records
    h = tmp_path / "h.jsonl"
    s = tmp_path / "s.jsonl"
    h.write_text("".join(json.dumps(r) + "\n" for r in records))
    s.write_text("".join(json.dumps({**r, "parents": r["parents"][0]}) + "\n" for r in synthetic))
    db = tmp_path / "cli.db"
    run_cli(cli, "ledger", "init", "--db", db)
    run_cli(cli, "ledger", "ingest", h, "--db", db, "--origin", "human", "--source", "wiki", "--key-field", "key")
    run_cli(cli, "ledger", "ingest", s, "--db", db, "--origin", "synthetic", "--generator", "m1", "--key-field", "key", "--parent-field", "parents", "--generation", "1")
    cli_stats = json.loads(run_cli(cli, "ledger", "stats", "--db", db, "--json", "-q").stdout)
    for st in (stats, cli_stats):
        st.pop("batches", None)
    assert stats == cli_stats
    out = tmp_path / "mix.jsonl"
    run_cli(cli, "mix", "--db", db, "--name", "train-1", "--max-synthetic", "0.2", "--seed", "4", "-o", out)
    cli_records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in mix["records"]] == [r["id"] for r in cli_records]
    assert mix["manifest"]["records"] == len(cli_records)


def test_ledger_refuses_bad_records(tmp_path):
    with tw.Ledger.open(tmp_path / "l.db") as ledger:
        with pytest.raises(tw.InputError, match="record 2: missing field `origin`"):
            ledger.ingest([{"text": "a", "origin": "human"}, {"text": "b"}])
        with pytest.raises(tw.InputError, match="record 1: field `origin`"):
            ledger.ingest([{"text": "a", "origin": "alien"}])
        with pytest.raises(tw.InputError, match="missing field `text`"):
            ledger.ingest([{"origin": "human"}])
        with pytest.raises(TypeError, match="a record must be a dict"):
            ledger.ingest([3], origin="human")
        assert ledger.stats()["records"] == 0  # nothing was written
    not_a_ledger = tmp_path / "x.db"
    not_a_ledger.write_text("hello")
    with pytest.raises(tw.TailwatchError):
        tw.Ledger.open(not_a_ledger)
    assert not_a_ledger.read_text() == "hello"
    with pytest.raises(tw.TailwatchError):
        tw.Ledger.open(tmp_path / "absent.db", create=False)

"""dedup from Python: the same clusters and kept records as `tailwatch dedup`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import tailwatch as tw
from conftest import run_cli, write_lines


def cli_dedup(cli: Path, corpus: Path, tmp_path: Path, *flags: str) -> tuple[list[bool], list[list[int]]]:
    kept, clusters = tmp_path / "kept.txt", tmp_path / "clusters.jsonl"
    run_cli(cli, "dedup", corpus, "-o", kept, "--clusters", clusters, "-q", *flags)
    n = len(corpus.read_text(encoding="utf-8").splitlines())
    keep = [True] * n
    groups = []
    for line in clusters.read_text().splitlines():
        c = json.loads(line)
        members = sorted(m["record"] - 1 for m in c["members"])
        kept_doc = c["kept"]["record"] - 1
        for m in members:
            keep[m] = m == kept_doc
        groups.append(members)
    assert sum(keep) == len(kept.read_text(encoding="utf-8").splitlines())
    return keep, sorted(groups)


def groups_of(result: tw.DedupResult) -> list[list[int]]:
    return sorted(sorted(m["doc"] for m in c["members"]) for c in result.clusters)


@pytest.mark.parametrize("flags,options", [((), {}), (("--threshold", "0.6"), {"threshold": 0.6}), (("--exact-only",), {"exact_only": True})])
def test_dedup_matches_the_cli_on_the_planted_corpus(cli, planted, tmp_path, flags, options):
    texts = planted.read_text(encoding="utf-8").splitlines()
    keep, groups = cli_dedup(cli, planted, tmp_path, *flags)
    result = tw.dedup(texts, **options)
    assert result.keep == keep
    assert groups_of(result) == groups
    if not options.get("exact_only"):
        assert any(len(g) > 2 for g in groups), "the planted corpus has clusters of several copies"
    for c in result.clusters:
        for m in c["members"]:
            assert result.cluster[m["doc"]] == c["id"]
    frame = result.to_pandas()
    assert frame["keep"].sum() == sum(keep)


def test_dedup_matches_the_cli_on_texygen(cli, texygen, tmp_path):
    corpus = write_lines(tmp_path / "t.txt", texygen)
    keep, groups = cli_dedup(cli, corpus, tmp_path)
    result = tw.dedup(texygen)
    assert result.keep == keep and groups_of(result) == groups


def test_dedup_refuses_bad_options_and_input():
    with pytest.raises(tw.InputError, match="threshold"):
        tw.dedup(["a b c"], threshold=1.5)
    with pytest.raises(ValueError, match="signature must be"):
        tw.dedup(["a b c"], signature="sha")
    with pytest.raises(tw.InputError, match="no documents"):
        tw.dedup([])
    with pytest.raises(tw.InputError, match="null"):
        tw.dedup(["a", None])

"""dedup from Python: the same clusters and kept records as `tailwatch dedup`."""

from __future__ import annotations

import pytest

import tailwatch as tw
from conftest import assert_same_dedup, cli_dedup, write_lines


def groups_of(result: tw.DedupResult) -> list[list[int]]:
    return sorted(sorted(m["doc"] for m in c["members"]) for c in result.clusters)


@pytest.mark.parametrize("flags,options", [((), {}), (("--threshold", "0.6"), {"threshold": 0.6}), (("--exact-only",), {"exact_only": True})])
def test_dedup_matches_the_cli_on_the_planted_corpus(cli, planted, tmp_path, flags, options):
    texts = planted.read_text(encoding="utf-8").splitlines()
    want = cli_dedup(cli, planted, tmp_path, *flags)
    result = tw.dedup(texts, **options)
    assert_same_dedup(result.cluster, result.keep, want)
    assert groups_of(result) == sorted(list(g) for g, _ in want.groups())
    if not options.get("exact_only"):
        assert any(len(g) > 2 for g, _ in want.groups()), "the planted corpus has clusters of several copies"
    for c in result.clusters:
        for m in c["members"]:
            assert result.cluster[m["doc"]] == c["id"]
    frame = result.to_pandas()
    assert frame["keep"].sum() == sum(want.keep)


def test_dedup_matches_the_cli_on_texygen(cli, texygen, tmp_path):
    corpus = write_lines(tmp_path / "t.txt", texygen)
    result = tw.dedup(texygen)
    assert_same_dedup(result.cluster, result.keep, cli_dedup(cli, corpus, tmp_path))


def test_dedup_refuses_bad_options_and_input():
    with pytest.raises(tw.InputError, match="threshold"):
        tw.dedup(["a b c"], threshold=1.5)
    with pytest.raises(ValueError, match="signature must be"):
        tw.dedup(["a b c"], signature="sha")
    with pytest.raises(tw.InputError, match="no documents"):
        tw.dedup([])
    with pytest.raises(tw.InputError, match="null"):
        tw.dedup(["a", None])

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


@pytest.mark.parametrize("options", [{}, {"threshold": 0.6, "keep": "longest"}, {"verify": "estimate", "signature": "fss"}])
def test_the_native_pieces_of_a_distributed_dedup_give_dedup(planted, options):
    import pyarrow as pa
    import pyarrow.compute as pc

    from tailwatch import _tailwatch as native

    texts = planted.read_text(encoding="utf-8").splitlines()
    texts += [texts[4].upper(), texts[9]]  # exact copies too
    want = tw.dedup(texts, **options)
    # keys in uneven batches, as partitions would make them
    keys = pa.concat_tables(pa.Table.from_batches([native.dedup_keys(texts[i : i + 97], **options)]) for i in range(0, len(texts), 97))
    found = native.dedup_candidates(keys.column("digest").combine_chunks(), keys.column("band_keys").combine_chunks())
    a, b = found["a"].to_pylist(), found["b"].to_pylist()
    assert a and all(x < y for x, y in zip(a, b))
    similarity = native.jaccard_pairs([texts[x] for x in a], [texts[y] for y in b], **options)
    near = pc.greater_equal(similarity, native.dedup_settings(**options)["threshold"])
    lengths = pa.array([len(t.encode()) for t in texts], pa.int64())
    clusters = native.dedup_clusters(found["representative"], found["a"].filter(near), found["b"].filter(near), lengths, **options)
    assert clusters["cluster"].to_pylist() == want.cluster
    assert clusters["keep"].to_pylist() == want.keep


def test_the_native_pieces_refuse_what_does_not_fit():
    import pyarrow as pa

    from tailwatch import _tailwatch as native

    with pytest.raises(ValueError, match="must be pairs: they hold 2 and 1"):
        native.jaccard_pairs(["a b", "c d"], ["a b"])
    with pytest.raises(tw.InputError, match="null"):
        native.dedup_keys(["a b", None])
    with pytest.raises(TypeError, match="unexpected keyword argument `tresh`"):
        native.dedup_settings(tresh=0.5)
    with pytest.raises(ValueError, match="needs the documents' lengths"):
        native.dedup_clusters(pa.array([0]), pa.array([], pa.int64()), pa.array([], pa.int64()), keep="longest")
    with pytest.raises(tw.InputError, match="`b` holds 7, not a document of 0..1"):
        native.dedup_clusters(pa.array([0]), pa.array([0]), pa.array([7]))

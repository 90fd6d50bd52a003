"""tailwatch.ray.dedup_dataset: the clusters and kept records of `tailwatch dedup`."""

from __future__ import annotations


import pytest

import tailwatch as tw
from conftest import assert_same_dedup, cli_dedup, star_corpus, write_lines

ray = pytest.importorskip("ray")


def dataset(texts: list[str | None], blocks: int = 5):
    import pyarrow as pa

    return ray.data.from_arrow(pa.table({"id": range(len(texts)), "text": pa.array(texts, pa.string())})).repartition(blocks)


def dedup_rows(ds, **options) -> tuple[list[int | None], list[bool | None], list[str]]:
    import pyarrow as pa

    out = pa.concat_tables(ray.get(tw.ray.dedup_dataset(ds, "text", **options).to_arrow_refs()))
    assert out.column_names == ["id", "text", "cluster_id", "keep"]
    assert out.column("id").to_pylist() == list(range(out.num_rows)), "input order"
    return out.column("cluster_id").to_pylist(), out.column("keep").to_pylist(), out.column("text").to_pylist()


@pytest.mark.parametrize("name", ["planted", "texygen"])
@pytest.mark.parametrize(
    "flags,options",
    [((), {}), (("--threshold", "0.6"), {"threshold": 0.6}), (("--keep", "longest"), {"keep": "longest"})],
    ids=["default", "threshold-0.6", "keep-longest"],
)
def test_dedup_dataset_matches_the_cli(ray_session, cli, corpora, tmp_path, name, flags, options):
    texts, path = corpora[name]
    want = cli_dedup(cli, path, tmp_path, *flags)
    assert any(len(g) > 2 for g, _ in want.groups()), "clusters of several records"
    cluster, keep, order = dedup_rows(dataset(texts), **options)
    assert order == texts
    assert_same_dedup(cluster, keep, want)


def test_dedup_dataset_links_large_buckets_as_the_cli_does(ray_session, cli, tmp_path):
    star = star_corpus()
    assert tw.dedup(star.texts, **star.options).summary["large_buckets"] > 0, "a bucket above the pairwise limit"
    path = write_lines(tmp_path / "star.txt", star.texts)
    cluster, keep, _ = dedup_rows(dataset(star.texts, 3), **star.options)
    assert_same_dedup(cluster, keep, cli_dedup(cli, path, tmp_path, *star.flags))
    assert cluster[star.x] is None
    cluster, keep, _ = dedup_rows(dataset(star.texts, 3), exact_only=True)
    assert_same_dedup(cluster, keep, cli_dedup(cli, path, tmp_path, "--exact-only"))
    assert cluster[3] is not None


def test_dedup_dataset_skips_nulls_when_asked(ray_session):
    texts = ["a b c d e f", None, "a b c d e f", "x y z", None, "A b c d e f!"]
    with pytest.raises(tw.InputError, match="record 1 of the column `text` is null"):
        tw.ray.dedup_dataset(dataset(texts, 2), "text")
    cluster, keep, _ = dedup_rows(dataset(texts, 2), skip_nulls=True)
    want = tw.dedup([t for t in texts if t is not None])
    assert [c for c, t in zip(cluster, texts) if t is not None] == want.cluster
    assert [k for k, t in zip(keep, texts) if t is not None] == want.keep
    assert [(c, k) for c, k, t in zip(cluster, keep, texts) if t is None] == [(None, None)] * 2


def test_dedup_dataset_refuses_bad_input(ray_session):
    ds = dataset(["a b c", "a b c"], 1)
    with pytest.raises(tw.InputError, match="no column `body` in the Dataset: the columns are id, text"):
        tw.ray.dedup_dataset(ds, "body")
    with pytest.raises(TypeError, match="documents must be strings: the column `id` has type int64"):
        tw.ray.dedup_dataset(ds, "id")
    with pytest.raises(tw.InputError, match="already has a column `keep`"):
        tw.ray.dedup_dataset(ds.rename_columns({"id": "keep"}), "text")
    with pytest.raises(tw.InputError, match="no documents to deduplicate"):
        tw.ray.dedup_dataset(ds.filter(lambda row: False), "text")
    with pytest.raises(tw.InputError, match="no documents to deduplicate"):
        tw.ray.dedup_dataset(dataset([None, None], 1), "text", skip_nulls=True)
    with pytest.raises(tw.InputError, match="threshold must be in"):
        tw.ray.dedup_dataset(ds, "text", threshold=0.0)
    with pytest.raises(TypeError, match="`num_perm` must be a non-negative int, found str"):
        tw.ray.dedup_dataset(ds, "text", num_perm="128")
    with pytest.raises(ValueError, match="exact_pairs"):
        tw.ray.dedup_dataset(ds, "text", exact_pairs=True)

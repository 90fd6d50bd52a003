"""tailwatch.spark.dedup_dataframe: the clusters and kept records of `tailwatch dedup`."""

from __future__ import annotations


import pytest

import tailwatch as tw
from conftest import assert_same_dedup, cli_dedup, star_corpus, write_lines

pyspark = pytest.importorskip("pyspark")


def frame(spark, texts: list[str]):
    return spark.createDataFrame(list(enumerate(texts)), "id long, text string")


def in_order(df, partitions: int):
    # `partitions` partitions whose current order is still the input order
    return df.repartitionByRange(partitions, "id").sortWithinPartitions("id")


def dedup_rows(df, **options) -> tuple[list[int | None], list[bool | None], list[str]]:
    out = tw.spark.dedup_dataframe(df, "text", **options).toArrow()
    assert out.column_names == [*df.columns, "cluster_id", "keep"]
    return out.column("cluster_id").to_pylist(), out.column("keep").to_pylist(), out.column("text").to_pylist()


@pytest.mark.parametrize("name", ["planted", "texygen"])
def test_dedup_dataframe_matches_the_cli_over_partitionings(spark, cli, corpora, tmp_path, name):
    texts, path = corpora[name]
    want = cli_dedup(cli, path, tmp_path)
    assert any(len(g) > 2 for g, _ in want.groups()), "clusters of several records"
    df = frame(spark, texts)
    for partitions in (1, 3, 7):
        cluster, keep, order = dedup_rows(in_order(df, partitions))
        assert order == texts, partitions
        assert_same_dedup(cluster, keep, want)


@pytest.mark.parametrize(
    "name,flags,options",
    [
        ("planted", ("--threshold", "0.6"), {"threshold": 0.6}),
        ("planted", ("--keep", "longest"), {"keep": "longest"}),
        ("texygen", ("--keep", "longest"), {"keep": "longest"}),
    ],
    ids=["planted-threshold-0.6", "planted-keep-longest", "texygen-keep-longest"],
)
def test_dedup_dataframe_options_match_the_cli(spark, cli, corpora, tmp_path, name, flags, options):
    texts, path = corpora[name]
    want = cli_dedup(cli, path, tmp_path, *flags)
    assert want.keep != cli_dedup(cli, path, tmp_path).keep, "the option changes what is kept"
    # shuffled partitions, the order given by a column
    cluster, keep, order = dedup_rows(frame(spark, texts).repartition(3), order_by="id", **options)
    assert order == texts
    assert_same_dedup(cluster, keep, want)


def test_dedup_dataframe_links_large_buckets_as_the_cli_does(spark, cli, tmp_path):
    star = star_corpus()
    result = tw.dedup(star.texts, **star.options)
    assert result.summary["large_buckets"] > 0, "a bucket above the pairwise limit"
    similarity = tw._tailwatch.jaccard_pairs([star.texts[star.x]], [star.texts[star.y]], **star.options)
    assert similarity[0].as_py() >= 0.8 and result.cluster[star.x] is None, "linked only all-pairs"
    path = write_lines(tmp_path / "star.txt", star.texts)
    cluster, keep, _ = dedup_rows(in_order(frame(spark, star.texts), 3), **star.options)
    assert_same_dedup(cluster, keep, cli_dedup(cli, path, tmp_path, *star.flags))
    cluster, keep, _ = dedup_rows(in_order(frame(spark, star.texts), 2), exact_only=True)
    assert_same_dedup(cluster, keep, cli_dedup(cli, path, tmp_path, "--exact-only"))
    assert cluster[3] is not None


def test_dedup_dataframe_skips_nulls_when_asked(spark):
    texts = ["a b c d e f", None, "a b c d e f", "x y z", None, "A b c d e f!"]
    # the order from a string column
    df = spark.createDataFrame([(f"r{i}", t) for i, t in enumerate(texts)], "id string, text string").repartition(2)
    with pytest.raises(tw.InputError, match="`text` is null at `id` = 'r1'"):
        tw.spark.dedup_dataframe(df, "text", order_by="id")
    cluster, keep, _ = dedup_rows(df, order_by="id", skip_nulls=True)
    want = tw.dedup([t for t in texts if t is not None])
    assert [c for c, t in zip(cluster, texts) if t is not None] == want.cluster
    assert [k for k, t in zip(keep, texts) if t is not None] == want.keep
    assert [(c, k) for c, k, t in zip(cluster, keep, texts) if t is None] == [(None, None)] * 2


def test_dedup_dataframe_refuses_bad_input(spark):
    df = frame(spark, ["a b c", "a b c"])
    with pytest.raises(tw.InputError, match="no column `body` in the DataFrame: the columns are id, text"):
        tw.spark.dedup_dataframe(df, "body")
    with pytest.raises(TypeError, match="documents must be strings: the column `id` has type bigint"):
        tw.spark.dedup_dataframe(df, "id")
    with pytest.raises(tw.InputError, match="no column `when` to order by"):
        tw.spark.dedup_dataframe(df, "text", order_by="when")
    repeated = spark.createDataFrame([(1, "a"), (1, "b")], "id long, text string")
    with pytest.raises(tw.InputError, match="order column `id` repeats 1"):
        tw.spark.dedup_dataframe(repeated, "text", order_by="id")
    with pytest.raises(tw.InputError, match="already has a column `keep`"):
        tw.spark.dedup_dataframe(df.withColumnRenamed("id", "keep"), "text")
    with pytest.raises(tw.InputError, match="no documents to deduplicate"):
        tw.spark.dedup_dataframe(df.where("id < 0"), "text")
    unplaced = spark.createDataFrame([(None, "a")], "id long, text string")
    with pytest.raises(tw.InputError, match="order column `id` has 1 nulls"):
        tw.spark.dedup_dataframe(unplaced, "text", order_by="id")
    with pytest.raises(tw.InputError, match="threshold must be in"):
        tw.spark.dedup_dataframe(df, "text", threshold=1.5)
    with pytest.raises(ValueError, match="keep must be first or longest"):
        tw.spark.dedup_dataframe(df, "text", keep="newest")
    with pytest.raises(TypeError, match="unexpected keyword argument `shingles`"):
        tw.spark.dedup_dataframe(df, "text", shingles=3)
    with pytest.raises(ValueError, match="exact_pairs"):
        tw.spark.dedup_dataframe(df, "text", exact_pairs=True)

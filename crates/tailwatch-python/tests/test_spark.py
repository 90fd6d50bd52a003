"""tailwatch.spark: profiles of DataFrame partitions, merged on executors and the driver."""

from __future__ import annotations

import pytest

import tailwatch as tw

pyspark = pytest.importorskip("pyspark")


def test_profile_dataframe_is_byte_identical_for_any_partitioning(spark, synthetic_texts):
    expected = tw.Profile.from_texts(synthetic_texts).to_bytes()
    df = spark.createDataFrame([(i, t) for i, t in enumerate(synthetic_texts)], "id long, text string")
    for partitions in (1, 3, 7):
        for fan_in in (1, 3, 64):
            got = tw.spark.profile_dataframe(df.repartition(partitions), "text", fan_in=fan_in)
            assert got.to_bytes() == expected, (partitions, fan_in)
    # empty partitions: more partitions than rows
    few = synthetic_texts[:5]
    small = spark.createDataFrame([(t,) for t in few], "text string").repartition(9)
    assert tw.spark.profile_dataframe(small, "text").to_bytes() == tw.Profile.from_texts(few).to_bytes()


def test_profile_dataframe_settings_and_segments(spark, synthetic_texts):
    rows = [("m1" if i % 3 else "m2", i % 2, t) for i, t in enumerate(synthetic_texts)]
    df = spark.createDataFrame(rows, "model string, version int, text string").repartition(4)
    segments = tw.spark.profile_dataframe(df, "text", by=["model", "version"], sample="all", seed=3)
    assert set(segments) == {("m1", 0), ("m1", 1), ("m2", 0), ("m2", 1)}
    for (model, version), profile in segments.items():
        texts = [t for m, v, t in rows if m == model and v == version]
        assert profile.to_bytes() == tw.Profile.from_texts(texts, sample="all", seed=3).to_bytes()


def test_profile_dataframe_bad_input(spark):
    df = spark.createDataFrame([("a b",), (None,)], "text string")
    with pytest.raises(tw.InputError, match="no column `body`"):
        tw.spark.profile_dataframe(df, "body")
    with pytest.raises(Exception, match="null"):
        tw.spark.profile_dataframe(df, "text")
    assert tw.spark.profile_dataframe(df, "text", skip_nulls=True).n_docs == 1
    numbers = spark.createDataFrame([(1,)], "text long")
    with pytest.raises(Exception, match="strings"):
        tw.spark.profile_dataframe(numbers, "text")


def test_profile_dataframe_without_the_rdd_api(spark, synthetic_texts, monkeypatch):
    # Spark Connect has no df.rdd: the profile rows are counted once computed
    monkeypatch.setattr(tw.spark, "_partitions", lambda df: None)
    df = spark.createDataFrame([(t,) for t in synthetic_texts], "text string").repartition(5)
    expected = tw.Profile.from_texts(synthetic_texts).to_bytes()
    for fan_in in (2, 64):
        assert tw.spark.profile_dataframe(df, "text", fan_in=fan_in).to_bytes() == expected

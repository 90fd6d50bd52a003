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


def test_grouped_scored_profile_is_one_pass_whatever_the_partitioning(spark, cli, tmp_path):
    from conftest import SCORED, SCORED_FLAGS, run_cli, scored_rows, write_jsonl

    rows = scored_rows()
    out = tmp_path / "cli.twp"
    run_cli(cli, "profile", write_jsonl(tmp_path / "answers.jsonl", rows), *SCORED_FLAGS, "-o", out, "-q")
    want = out.read_bytes()
    schema = "id long, prompt string, i long, answer string, reward double, pass boolean"
    df = spark.createDataFrame([(n, r["prompt"], r["i"], r["answer"], r["reward"], r["pass"]) for n, r in enumerate(rows)], schema)
    # groups split across partitions (by the generation index: every group in every partition)
    for parts in (df.repartition(1), df.repartition(7), df.repartition(4, "i"), df.repartition(3, "prompt")):
        for fan_in in (1, 64):
            got = tw.spark.profile_dataframe(parts, "answer", fan_in=fan_in, **SCORED)
            assert got.to_bytes() == want, (parts.rdd.getNumPartitions(), fan_in)
    assert got.metrics()["score_reward_mean"] is not None
    # segments of grouped answers, each the profile of its rows
    segments = tw.spark.profile_dataframe(df.withColumn("half", df.id % 2).repartition(5), "answer", by=["half"], **SCORED)
    for (half,), profile in segments.items():
        mine = [r for n, r in enumerate(rows) if n % 2 == half]
        assert profile.to_bytes() == _grouped(mine).to_bytes()
    with pytest.raises(tw.InputError, match=r"no column `i` \(the order field\) in the DataFrame"):
        tw.spark.profile_dataframe(df.drop("i"), "answer", **SCORED)
    nulls = spark.createDataFrame([("q1", 0, "a", 1.0, True), (None, 1, "b", 0.0, False)], "prompt string, i long, answer string, reward double, pass boolean")
    with pytest.raises(Exception, match="no group field `prompt`"):
        tw.spark.profile_dataframe(nulls, "answer", **SCORED)


def _grouped(rows):
    from conftest import SCORED

    groups: dict = {}
    for r in rows:
        groups.setdefault(r["prompt"], []).append((r["answer"], {"i": r["i"], "reward": r["reward"], "pass": r["pass"]}))
    return tw.Profile.from_groups(groups, **SCORED)

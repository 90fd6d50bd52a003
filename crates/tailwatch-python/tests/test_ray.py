"""tailwatch.ray: one profile per block, streamed to the driver and merged."""

from __future__ import annotations

import pytest

import tailwatch as tw

ray = pytest.importorskip("ray")


def test_profile_dataset_is_byte_identical_over_blocks(ray_session, synthetic_texts):
    import pyarrow as pa

    expected = tw.Profile.from_texts(synthetic_texts).to_bytes()
    table = pa.table({"id": range(len(synthetic_texts)), "text": synthetic_texts})
    ds = ray.data.from_arrow(table).repartition(5)
    assert tw.ray.profile_dataset(ds, "text").to_bytes() == expected
    settings = {"sample": "all", "seed": 5, "tokenizer": "whitespace"}
    assert tw.ray.profile_dataset(ds, "text", **settings).to_bytes() == tw.Profile.from_texts(synthetic_texts, **settings).to_bytes()


def test_profile_dataset_bad_input(ray_session):
    import pyarrow as pa

    ds = ray.data.from_arrow(pa.table({"text": ["a b", None]}))
    with pytest.raises(tw.InputError, match="no column `body`"):
        tw.ray.profile_dataset(ds, "body")
    with pytest.raises(Exception, match="null"):
        tw.ray.profile_dataset(ds, "text")
    assert tw.ray.profile_dataset(ds, "text", skip_nulls=True).n_docs == 1


def test_grouped_scored_profile_is_one_pass_over_any_blocks(ray_session, cli, tmp_path):
    import pyarrow as pa

    from conftest import SCORED, SCORED_FLAGS, run_cli, scored_rows, write_jsonl

    rows = scored_rows()
    out = tmp_path / "cli.twp"
    run_cli(cli, "profile", write_jsonl(tmp_path / "answers.jsonl", rows), *SCORED_FLAGS, "-o", out, "-q")
    table = pa.table({"id": range(len(rows)), **{k: [r[k] for r in rows] for k in rows[0]}})
    # blocks of 7 rows split groups of 5; a shuffle spreads each group over the blocks
    ds = ray.data.from_arrow(table).repartition(7)
    for blocks in (ds, ds.random_shuffle(seed=1)):
        assert tw.ray.profile_dataset(blocks, "answer", **SCORED).to_bytes() == out.read_bytes()
    with pytest.raises(tw.InputError, match=r"no column `reward` \(a score field\) in the Dataset"):
        tw.ray.profile_dataset(ray.data.from_arrow(table.drop(["reward"])), "answer", **SCORED)

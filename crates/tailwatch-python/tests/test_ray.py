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

"""Profiles of Ray Datasets: one profile row per block (``map_batches``), streamed to the
driver and merged. The text never reaches the driver."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import tailwatch as tw

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow as pa
    from ray.data import Dataset

_PROFILE = "__tailwatch_profile"


def _task_threads() -> None:
    # Ray sets OMP_NUM_THREADS to a task's num_cpus; rayon does not read it
    try:
        threads = int(os.environ.get("OMP_NUM_THREADS", "1"))
    except ValueError:
        threads = 1
    tw.set_num_threads(max(1, threads))


def _profile_blocks(column: str, config: dict[str, Any], skip_nulls: bool):
    def profile_block(batch: "pa.Table") -> "pa.Table":
        import pyarrow as pa

        _task_threads()
        profile = tw.Profile.from_arrow(batch, column=column, skip_nulls=skip_nulls, **config)
        return pa.table({_PROFILE: pa.array([profile.to_bytes()], pa.binary())})

    return profile_block


def profile_dataset(
    ds: "Dataset",
    column: str = "text",
    *,
    num_cpus: float = 1,
    skip_nulls: bool = False,
    **config: Any,
) -> Any:
    """The profile of the string column ``column`` of ``ds``: one profile per block
    (``map_batches`` over whole blocks, ``num_cpus`` each), streamed to the driver and merged.
    Byte-identical to ``tailwatch.Profile.from_texts`` of the same documents, whatever the
    blocks. ``config`` takes the ``Profile`` constructor's arguments."""
    names = ds.schema().names
    if column not in names:
        raise tw.InputError(f"no column `{column}` in the Dataset: the columns are {', '.join(names)}")
    empty = tw.Profile(**config)  # check the settings on the driver, before any task runs
    parts = ds.select_columns([column]).map_batches(
        _profile_blocks(column, config, skip_nulls),
        batch_format="pyarrow",
        batch_size=None,
        zero_copy_batch=True,
        # N documents become one row: without this, a .limit() is pushed below the UDF
        udf_modifying_row_count=True,
        num_cpus=num_cpus,
    )
    blobs = [
        blob
        for table in parts.iter_batches(batch_format="pyarrow", batch_size=None)
        for blob in table.column(_PROFILE).to_pylist()
    ]
    return tw.merge([empty, *blobs])

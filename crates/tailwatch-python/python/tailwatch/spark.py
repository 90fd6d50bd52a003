"""Profiles of Spark DataFrames: one profile per partition (``mapInArrow``), merged on the
executors, then on the driver. DataFrame API only, so it also runs over Spark Connect.

The text never leaves the executors: only profile rows (a few hundred kilobytes each) are
shuffled and collected. Executors need tailwatch installed in their Python (``PYSPARK_PYTHON``,
or a packed environment in ``spark.archives``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Iterator, Sequence

import tailwatch as tw

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow as pa
    from pyspark.sql import DataFrame

_PROFILE = "__tailwatch_profile"


def _binary_type(spark_conf: Any) -> Any:
    import pyarrow as pa

    # with large variable types on, Spark expects large_binary from an Arrow UDF
    large = str(spark_conf.get("spark.sql.execution.arrow.useLargeVarTypes", "false")).lower() == "true"
    return pa.large_binary() if large else pa.binary()


def _task_threads() -> None:
    # one pool thread per task CPU (spark.task.cpus, default 1): executors run several tasks
    try:
        from pyspark import TaskContext

        ctx = TaskContext.get()
        cpus = ctx.cpus() if ctx is not None else 1
    except Exception:  # pragma: no cover - outside a task
        cpus = 1
    tw.set_num_threads(max(1, int(cpus)))


def _profile_partitions(column: str, by: Sequence[str], config: dict[str, Any], binary: Any, skip_nulls: bool):
    def profile_partition(batches: Iterable["pa.RecordBatch"]) -> Iterator["pa.RecordBatch"]:
        import pyarrow as pa

        _task_threads()
        if not by:
            profile = tw.Profile(**config)
            for batch in batches:
                profile.update(batch.column(column), skip_nulls=skip_nulls)
            # one row even for an empty partition: the empty profile is the merge identity
            yield pa.record_batch([pa.array([profile.to_bytes()], binary)], names=[_PROFILE])
            return
        # each segment's profile, and its key as a one-row table (the columns' own Arrow types)
        segments: dict[tuple[Any, ...], tuple[Any, "pa.Table"]] = {}
        for batch in batches:
            table = pa.Table.from_batches([batch])
            keys = [table.column(k).to_pylist() for k in by]
            texts = table.column(column)
            groups: dict[tuple[Any, ...], list[int]] = {}
            for i, key in enumerate(zip(*keys)):
                groups.setdefault(key, []).append(i)
            for key, rows in groups.items():
                if key not in segments:
                    segments[key] = (tw.Profile(**config), table.select(by).slice(rows[0], 1))
                segments[key][0].update(texts.take(pa.array(rows)), skip_nulls=skip_nulls)
        if not segments:
            return
        keys_table = pa.concat_tables([key for _, key in segments.values()])
        blobs = pa.array([p.to_bytes() for p, _ in segments.values()], binary)
        for batch in keys_table.append_column(_PROFILE, blobs).combine_chunks().to_batches():
            yield batch

    return profile_partition


def _merge_partitions(binary: Any):
    def merge_partition(batches: Iterable["pa.RecordBatch"]) -> Iterator["pa.RecordBatch"]:
        import pyarrow as pa

        _task_threads()
        blobs = [v for b in batches for v in b.column(0).to_pylist()]
        if blobs:
            yield pa.record_batch([pa.array([tw.merge(blobs).to_bytes()], binary)], names=[_PROFILE])

    return merge_partition


def _merge_group(binary: Any, by: Sequence[str]):
    def merge_group(table: "pa.Table") -> "pa.Table":
        import pyarrow as pa

        _task_threads()
        merged = tw.merge(table.column(_PROFILE).to_pylist())
        return pa.table(
            {**{k: table.column(k).slice(0, 1) for k in by}, _PROFILE: pa.array([merged.to_bytes()], binary)}
        )

    return merge_group


def profile_dataframe(
    df: "DataFrame",
    column: str = "text",
    *,
    by: Sequence[str] | None = None,
    fan_in: int = 64,
    skip_nulls: bool = False,
    **config: Any,
) -> Any:
    """The profile of the string column ``column`` of ``df``: one profile per partition,
    merged on ``fan_in`` executor tasks, then on the driver. Byte-identical to
    ``tailwatch.Profile.from_texts`` of the same documents, whatever the partitioning.

    With ``by`` (column names, for example ``["model", "version"]``): a dict from each
    segment's key tuple to its profile; only profile rows are shuffled. ``config`` takes the
    ``Profile`` constructor's arguments (a HuggingFace tokenizer as its ``tokenizer.json``
    bytes: a driver path does not exist on executors). A null document fails the job with
    ``InputError`` unless ``skip_nulls``.
    """
    if column not in df.columns:
        raise tw.InputError(f"no column `{column}` in the DataFrame: the columns are {', '.join(df.columns)}")
    by = list(by or [])
    for key in by:
        if key not in df.columns:
            raise tw.InputError(f"no column `{key}` to segment by: the columns are {', '.join(df.columns)}")
    if fan_in < 1:
        raise ValueError(f"fan_in must be at least 1, found {fan_in}")
    empty = tw.Profile(**config)  # check the settings on the driver, before any task runs
    binary = _binary_type(df.sparkSession.conf)
    type_name = "binary"
    parts = df.select(*by, column).mapInArrow(
        _profile_partitions(column, by, config, binary, skip_nulls),
        ", ".join([*(f"{_quote(k)} {df.schema[k].dataType.simpleString()}" for k in by), f"{_PROFILE} {type_name}"]),
    )
    if by:
        merged = parts.groupBy(*by).applyInArrow(_merge_group(binary, by), parts.schema)
        table = merged.toArrow()
        keys = list(zip(*(table.column(k).to_pylist() for k in by)))
        return {key: tw.merge([empty, blob]) for key, blob in zip(keys, table.column(_PROFILE).to_pylist())}
    # repartition, not coalesce: coalesce would shrink the profiling stage itself to fan_in tasks
    merged = parts.repartition(fan_in).mapInArrow(_merge_partitions(binary), f"{_PROFILE} {type_name}")
    blobs = merged.toArrow().column(_PROFILE).to_pylist()
    return tw.merge([empty, *blobs])


def _quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"

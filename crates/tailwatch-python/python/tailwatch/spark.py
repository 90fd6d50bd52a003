"""Spark DataFrames: profiles (one profile per partition, ``mapInArrow``, merged on the
executors, then on the driver) and dedup (``dedup_dataframe``: the clusters of ``tailwatch
dedup``, computed on the executors). DataFrame API only, so both also run over Spark Connect.

The text never reaches the driver: profiles shuffle and collect only profile rows (a few
hundred kilobytes each); dedup shuffles band keys, and texts only to verify candidate pairs. Executors need tailwatch installed in their Python (``PYSPARK_PYTHON``,
or a packed environment in ``spark.archives``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Iterator, Sequence

import tailwatch as tw
from tailwatch._fields import record_fields

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
                # the text and the fields the profile reads (group, order, scores), row by row
                profile.update_arrow(pa.Table.from_batches([batch]), column, skip_nulls=skip_nulls)
            # one row even for an empty partition: the empty profile is the merge identity
            yield pa.record_batch([pa.array([profile.to_bytes()], binary)], names=[_PROFILE])
            return
        # each segment's profile, and its key as a one-row table (the columns' own Arrow types)
        segments: dict[tuple[Any, ...], tuple[Any, "pa.Table"]] = {}
        for batch in batches:
            table = pa.Table.from_batches([batch])
            keys = [table.column(k).to_pylist() for k in by]
            groups: dict[tuple[Any, ...], list[int]] = {}
            for i, key in enumerate(zip(*keys)):
                groups.setdefault(key, []).append(i)
            for key, rows in groups.items():
                if key not in segments:
                    segments[key] = (tw.Profile(**config), table.select(by).slice(rows[0], 1))
                segments[key][0].update_arrow(table.take(pa.array(rows)), column, skip_nulls=skip_nulls)
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
    """The profile of the string column ``column`` of ``df``: one profile per partition; past
    ``fan_in`` partitions they are first merged on executor tasks of at most ``fan_in`` each,
    so the driver receives at most ``fan_in`` profiles, and merges them. Byte-identical to
    ``tailwatch.Profile.from_texts`` of the same documents, whatever the partitioning.

    With ``by`` (column names, for example ``["model", "version"]``): a dict from each
    segment's key tuple to its profile; only profile rows are shuffled. ``config`` takes the
    ``Profile`` constructor's arguments (a HuggingFace tokenizer as its ``tokenizer.json``
    bytes: a driver path does not exist on executors). A null document fails the job with
    ``InputError`` unless ``skip_nulls``.

    With ``group_field`` (and ``order_field``, ``score_fields``) in ``config``, each row is one
    answer, and those columns give its group, order and scores (``Profile.update_arrow``): the
    groups split across partitions merge exactly, into the profile of one pass.
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
    fields = record_fields(empty)
    for name, role in fields.items():
        if name not in df.columns:
            raise tw.InputError(f"no column `{name}` ({role}) in the DataFrame: the columns are {', '.join(df.columns)}")
    binary = _binary_type(df.sparkSession.conf)
    type_name = "binary"
    selected = list(dict.fromkeys([*by, column, *fields]))
    parts = df.select(*[_quote(c) for c in selected]).mapInArrow(
        _profile_partitions(column, by, config, binary, skip_nulls),
        ", ".join([*(f"{_quote(k)} {df.schema[k].dataType.simpleString()}" for k in by), f"{_PROFILE} {type_name}"]),
    )
    if by:
        merged = parts.groupBy(*by).applyInArrow(_merge_group(binary, by), parts.schema)
        table = merged.toArrow()
        keys = list(zip(*(table.column(k).to_pylist() for k in by)))
        return {key: tw.merge([empty, blob]) for key, blob in zip(keys, table.column(_PROFILE).to_pylist())}
    # one profile row per partition: at most fan_in of them go to the driver as they are;
    # more are first merged on executor tasks of at most fan_in rows each (repartition, not
    # coalesce: coalesce would shrink the profiling stage itself)
    rows = _partitions(df)
    if rows is None:  # Spark Connect: no RDD API; count the profile rows once computed
        parts = parts.localCheckpoint(eager=True)
        rows = parts.count()
    if rows > fan_in:
        tasks = -(-rows // fan_in)
        parts = parts.repartition(tasks).mapInArrow(_merge_partitions(binary), f"{_PROFILE} {type_name}")
    blobs = parts.toArrow().column(_PROFILE).to_pylist()
    return tw.merge([empty, *blobs])


def _partitions(df: "DataFrame") -> int | None:
    """Partitions of ``df`` without running it (classic Spark), else None (Spark Connect)."""
    try:
        return int(df.rdd.getNumPartitions())
    except Exception:
        return None


def _quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


# dedup: the columns of the intermediate frames (the input's own columns never reach them)
_ORDER = "__tailwatch_order"
_TEXT = "__tailwatch_text"
_LENGTH = "__tailwatch_length"
_DIGEST = "__tailwatch_digest"
_KEYS = "__tailwatch_band_keys"
_REP = "__tailwatch_representative"
_LABEL = "__tailwatch_label"
_KEPT = "__tailwatch_kept"


def _dedup_keys(options: dict[str, Any], binary: Any, with_length: bool):
    def keys_partition(batches: Iterable["pa.RecordBatch"]) -> Iterator["pa.RecordBatch"]:
        import pyarrow as pa

        _task_threads()
        for batch in batches:
            keys = tw._tailwatch.dedup_keys(batch.column(_TEXT), **options)
            columns = [batch.column(_ORDER), keys.column(0).cast(binary), keys.column(1)]
            names = [_ORDER, _DIGEST, _KEYS]
            if with_length:
                columns.append(batch.column(_LENGTH))
                names.append(_LENGTH)
            yield pa.RecordBatch.from_arrays(columns, names=names)

    return keys_partition


def _verify_pairs(options: dict[str, Any], threshold: float):
    def verify_partition(batches: Iterable["pa.RecordBatch"]) -> Iterator["pa.RecordBatch"]:
        import pyarrow.compute as pc

        _task_threads()
        for batch in batches:
            similarity = tw._tailwatch.jaccard_pairs(batch.column("ta"), batch.column("tb"), **options)
            # a candidate is a near duplicate when it reaches the threshold, as in the CLI
            near = pc.greater_equal(similarity, threshold)
            yield batch.select(["a", "b"]).filter(near)

    return verify_partition


def _bucket_pairs(limit: int) -> str:
    # the CLI's candidates from one LSH bucket (members ascending, `m`): every pair of a bucket of
    # at most `limit` members, else a star from its first member (lsh::candidate_pairs)
    return (
        f"CASE WHEN size(m) > {limit} "
        "THEN transform(slice(m, 2, size(m) - 1), y -> named_struct('a', m[0], 'b', y)) "
        "ELSE flatten(transform(sequence(0, size(m) - 2), "
        "i -> transform(slice(m, i + 2, size(m) - i - 1), y -> named_struct('a', m[i], 'b', y)))) END"
    )


def _components(edges: "DataFrame") -> "DataFrame":
    """Connected components of the undirected graph of `edges` (`a`, `b`): (`node`, `label`)
    for every node in an edge, the label being the least node of its component. Min-label
    propagation with pointer jumping: each round gives every node the least label of its
    neighbours, then the label of its label; labels only fall, stay nodes of the component,
    and stop changing only when every component carries its least node. Jumping takes a
    chain of length d in about log2(d) rounds instead of d."""
    from pyspark.sql import functions as F

    both = edges.select(F.col("a").alias("src"), F.col("b").alias("dst")).unionByName(
        edges.select(F.col("b").alias("src"), F.col("a").alias("dst"))
    )
    both = both.localCheckpoint()
    labels = both.select(F.col("src").alias("node")).distinct().withColumn("label", F.col("node"))
    while True:
        nearest = (
            both.join(labels.withColumnRenamed("node", "src"), "src")
            .groupBy(F.col("dst").alias("node"))
            .agg(F.min("label").alias("nbr"))
        )
        spread = labels.join(nearest, "node").select(
            "node", F.col("label").alias("old"), F.least("label", "nbr").alias("label")
        )
        hops = spread.select(F.col("node").alias("hop"), F.col("label").alias("hop_label"))
        jumped = spread.join(hops, F.col("label") == F.col("hop")).select(
            "node", "old", F.least("label", "hop_label").alias("label")
        )
        jumped = jumped.localCheckpoint()
        labels = jumped.select("node", "label")
        if not jumped.where(F.col("label") < F.col("old")).limit(1).collect():
            return labels


def dedup_dataframe(
    df: "DataFrame",
    column: str,
    threshold: float = 0.8,
    *,
    order_by: str | None = None,
    keep: str = "first",
    **options: Any,
) -> "DataFrame":
    """``df`` with two more columns, ``cluster_id`` (long: the cluster, None for a record
    with no duplicate) and ``keep`` (bool), in input order: the clusters and kept records
    ``tailwatch dedup`` and ``tailwatch.dedup`` give on the same records in the same order,
    cluster ids included (0-based, by first member).

    ``order_by`` names a column giving the input order (unique, no nulls); without it the
    order is the DataFrame's current one (``monotonically_increasing_id``, fixed once with
    ``localCheckpoint``, which keeps a copy of ``df`` on the executors). ``options`` are
    ``tailwatch.dedup``'s (``shingle_size``, ``num_perm``, ``signature``, ``seed``,
    ``recall``, ``verify``, ``exact_only``, ``nfkc``, ``lowercase``, ``strip_punctuation``,
    ``skip_nulls``; ``keep`` is ``first`` or ``longest``); ``exact_pairs`` is for one
    machine. A null document raises ``InputError`` unless ``skip_nulls``: a skipped row gets
    no cluster and ``keep`` None.

    Signatures and band keys are computed on the executors (``mapInArrow``), candidates by
    grouping band keys (only keys are shuffled), candidates verified on the executors, and
    clusters are connected components found with joins: DataFrame API only, so it runs over
    Spark Connect.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F
    from pyspark.sql.types import ArrayType, BinaryType, LongType, StructField, StructType

    options = {**options, "threshold": threshold, "keep": keep}
    settings = tw._tailwatch.dedup_settings(**options)  # bad options fail here, before any job
    if settings["exact_pairs"]:
        raise ValueError("exact_pairs=True is an all-pairs join for a corpus one machine holds: use tailwatch.dedup")
    skip_nulls = bool(options.pop("skip_nulls", False))
    _check_dedup_columns(df, column, order_by, "DataFrame")

    if order_by is None:
        # fixed once: a recomputed monotonically_increasing_id could differ after a shuffle
        ordered = df.withColumn(_ORDER, F.monotonically_increasing_id()).localCheckpoint()
    else:
        ordered = df.withColumn(_ORDER, F.col(_quote(order_by)))
    _check_dedup_rows(ordered, column, order_by, skip_nulls)
    text = F.col(_quote(column))
    present = ordered.where(text.isNotNull()) if skip_nulls else ordered
    order_type = ordered.schema[_ORDER].dataType

    # per document on the executors: the digest of its normalized text and its band keys
    longest = settings["keep"] == "longest"
    inputs = [F.col(_ORDER), text.alias(_TEXT)] + ([F.octet_length(text).cast("long").alias(_LENGTH)] if longest else [])
    schema = StructType(
        [
            StructField(_ORDER, order_type),
            StructField(_DIGEST, BinaryType()),
            StructField(_KEYS, ArrayType(LongType())),
            *([StructField(_LENGTH, LongType())] if longest else []),
        ]
    )
    binary = _binary_type(df.sparkSession.conf)
    keyed = present.select(*inputs).mapInArrow(_dedup_keys(options, binary, longest), schema).localCheckpoint()

    # exact duplicates: each document's representative is the first with its digest
    firsts = keyed.groupBy(_DIGEST).agg(F.min(_ORDER).alias(_REP))
    docs = keyed.join(firsts, _DIGEST).drop(_DIGEST)

    if settings["exact_only"]:
        member = docs.withColumn(_LABEL, F.col(_REP))
    else:
        # candidates: representatives sharing a band bucket; only their keys are shuffled
        rows = docs.where((F.col(_ORDER) == F.col(_REP)) & F.col(_KEYS).isNotNull()).select(
            _ORDER, F.posexplode(_KEYS).alias("band", "key")
        )
        buckets = (
            rows.groupBy("band", "key")
            .agg(F.array_sort(F.collect_list(_ORDER)).alias("m"))
            .where(F.size("m") >= 2)
        )
        pairs = (
            buckets.select(F.explode(F.expr(_bucket_pairs(settings["max_pairwise_bucket"]))).alias("p"))
            .select(F.col("p.a").alias("a"), F.col("p.b").alias("b"))
            .distinct()
        )
        # verified on the executors, with both texts
        texts = present.select(_ORDER, text.alias(_TEXT))
        candidates = pairs.join(
            texts.select(F.col(_ORDER).alias("a"), F.col(_TEXT).alias("ta")), "a"
        ).join(texts.select(F.col(_ORDER).alias("b"), F.col(_TEXT).alias("tb")), "b")
        edge_schema = StructType([StructField("a", order_type), StructField("b", order_type)])
        edges = (
            candidates.select("a", "b", "ta", "tb")
            .mapInArrow(_verify_pairs(options, settings["threshold"]), edge_schema)
            .localCheckpoint()
        )
        labels = _components(edges).select(F.col("node").alias(_REP), F.col("label").alias(_LABEL))
        member = docs.join(labels, _REP, "left").withColumn(_LABEL, F.coalesce(_LABEL, _REP))

    # clusters: two or more members; the label is the first member; the kept record by policy
    if longest:
        # the longest, ties to the first: the least (−length, order)
        kept = F.min(F.struct((-F.col(_LENGTH)).alias("l"), F.col(_ORDER).alias("o")))["o"]
    else:
        kept = F.min(_ORDER)
    clusters = member.groupBy(_LABEL).agg(F.count(F.lit(1)).alias("size"), kept.alias(_KEPT)).where("size >= 2")
    # ids 0-based by first member, as the CLI numbers them (one row per cluster is ranked)
    clusters = clusters.select(
        _LABEL, _KEPT, (F.row_number().over(Window.orderBy(_LABEL)) - 1).cast("long").alias("cluster_id")
    )
    flags = member.join(clusters, _LABEL).select(
        _ORDER, "cluster_id", (F.col(_ORDER) == F.col(_KEPT)).alias("keep")
    )
    out = ordered.join(flags, _ORDER, "left")
    keep_flag = F.coalesce(F.col("keep"), F.lit(True))
    if skip_nulls:
        keep_flag = F.when(text.isNull(), F.lit(None).cast("boolean")).otherwise(keep_flag)
    return out.orderBy(_ORDER).select(
        *[F.col(_quote(c)) for c in df.columns], F.col("cluster_id"), keep_flag.alias("keep")
    )


def _check_dedup_columns(df: "DataFrame", column: str, order_by: str | None, what: str) -> None:
    from pyspark.sql.types import CharType, StringType, VarcharType

    names = ", ".join(df.columns)
    if column not in df.columns:
        raise tw.InputError(f"no column `{column}` in the {what}: the columns are {names}")
    kind = df.schema[column].dataType
    if not isinstance(kind, (StringType, VarcharType, CharType)):
        raise TypeError(f"documents must be strings: the column `{column}` has type {kind.simpleString()}")
    if order_by is not None and order_by not in df.columns:
        raise tw.InputError(f"no column `{order_by}` to order by in the {what}: the columns are {names}")
    for new in ("cluster_id", "keep"):
        if new in df.columns:
            raise tw.InputError(f"the {what} already has a column `{new}`, which dedup adds: rename it first")


def _check_dedup_rows(ordered: "DataFrame", column: str, order_by: str | None, skip_nulls: bool) -> None:
    from pyspark.sql import functions as F

    text, order = F.col(_quote(column)), F.col(_ORDER)
    # one pass: the documents, the null ones and the first of those, null places
    counts = ordered.agg(
        F.count(F.lit(1)).alias("records"),
        F.count(text).alias("documents"),
        F.min(F.when(text.isNull(), order)).alias("first_null"),
        F.count_if(order.isNull()).alias("no_place"),
    ).collect()[0]
    if order_by is not None and counts["no_place"]:
        raise tw.InputError(f"the order column `{order_by}` has {counts['no_place']} nulls: every record needs its place")
    if counts["documents"] < counts["records"] and not skip_nulls:
        where = f"`{order_by}` = {counts['first_null']!r}" if order_by is not None else "a record"
        raise tw.InputError(
            f"the column `{column}` is null at {where}, not a document (pass skip_nulls=True to leave "
            "nulls out: they get no cluster and keep None)"
        )
    if counts["documents"] == 0:
        raise tw.InputError("no documents to deduplicate")
    if order_by is not None:
        repeated = ordered.groupBy(_ORDER).count().where("count > 1").limit(1).collect()
        if repeated:
            raise tw.InputError(
                f"the order column `{order_by}` repeats {repeated[0][0]!r} ({repeated[0][1]} records): "
                "it must give each record its own place"
            )

"""Ray Datasets: profiles (one profile row per block, ``map_batches``, streamed to the driver
and merged) and dedup (``dedup_dataset``: the clusters of ``tailwatch dedup``). The text never
reaches the driver."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import tailwatch as tw
from tailwatch._fields import record_fields

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
    blocks. ``config`` takes the ``Profile`` constructor's arguments.

    With ``group_field`` (and ``order_field``, ``score_fields``) in ``config``, each row is one
    answer, and those columns give its group, order and scores (``Profile.update_arrow``): the
    groups split across blocks merge exactly, into the profile of one pass."""
    names = ds.schema().names
    if column not in names:
        raise tw.InputError(f"no column `{column}` in the Dataset: the columns are {', '.join(names)}")
    empty = tw.Profile(**config)  # check the settings on the driver, before any task runs
    fields = record_fields(empty)
    for name, role in fields.items():
        if name not in names:
            raise tw.InputError(f"no column `{name}` ({role}) in the Dataset: the columns are {', '.join(names)}")
    parts = ds.select_columns(list(dict.fromkeys([column, *fields]))).map_batches(
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


# dedup: the columns of the intermediate datasets (the input's own columns never reach them)
_ORDER = "__tailwatch_order"
_DIGEST = "__tailwatch_digest"
_KEYS = "__tailwatch_band_keys"
_LENGTH = "__tailwatch_length"
_PAIR = "__tailwatch_pair"
_SIDE = "__tailwatch_side"
_BUCKET = "__tailwatch_bucket"
_TEXT = "__tailwatch_text"


def _is_string(kind: "pa.DataType") -> bool:
    import pyarrow as pa

    return pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind)


def _dedup_keys(column: str, options: dict[str, Any], with_length: bool):
    def keys_block(batch: "pa.Table") -> "pa.Table":
        import pyarrow as pa
        import pyarrow.compute as pc

        _task_threads()
        texts = batch.column(column).combine_chunks()
        if pa.types.is_null(texts.type):  # a block of nulls only
            texts = texts.cast(pa.string())
        if not _is_string(texts.type):
            raise TypeError(f"documents must be strings: the column `{column}` has type {texts.type}")
        present = texts.is_valid()
        orders = batch.column(_ORDER).combine_chunks()
        keys = tw._tailwatch.dedup_keys(texts.filter(present), **options)
        # a null document: a row with a null digest, which the driver refuses or skips
        nulls = pc.invert(present)
        missing = int(pc.sum(nulls).as_py() or 0)
        table = pa.table(
            {
                _ORDER: pa.concat_arrays([orders.filter(present), orders.filter(nulls)]),
                _DIGEST: pa.concat_arrays([keys.column(0), pa.nulls(missing, pa.binary())]),
                _KEYS: pa.concat_arrays([keys.column(1), pa.nulls(missing, keys.column(1).type)]),
            }
        )
        if with_length:
            lengths = pc.binary_length(texts.filter(present)).cast(pa.int64())
            table = table.append_column(_LENGTH, pa.concat_arrays([lengths, pa.nulls(missing, pa.int64())]))
        return table

    return keys_block


def _pair_pieces(column: str, buckets: int):
    def pieces_block(batch: "pa.Table", pieces: Any) -> "pa.Table":
        import numpy as np
        import pyarrow as pa
        import ray

        docs, pairs, sides = ray.get(pieces)  # the candidates' sides, sorted by document

        # one row per (candidate pair, side) of each document of the block in a pair
        orders = batch.column(_ORDER).to_numpy()
        lo, hi = np.searchsorted(docs, orders, "left"), np.searchsorted(docs, orders, "right")
        counts = hi - lo
        rows = np.repeat(np.arange(len(orders)), counts)
        starts = np.repeat(lo - (np.cumsum(counts) - counts), counts)
        at = np.arange(int(counts.sum())) + starts
        pair = pairs[at]
        return pa.table(
            {
                _BUCKET: pair % buckets,
                _PAIR: pair,
                _SIDE: sides[at],
                _TEXT: batch.column(column).take(pa.array(rows, pa.int64())),
            }
        )

    return pieces_block


def _verify_bucket(options: dict[str, Any], threshold: float):
    def verify_group(group: "pa.Table") -> "pa.Table":
        import pyarrow as pa
        import pyarrow.compute as pc

        _task_threads()
        group = group.sort_by([(_PAIR, "ascending"), (_SIDE, "ascending")])
        side = group.column(_SIDE)
        first, second = group.filter(pc.equal(side, 0)), group.filter(pc.equal(side, 1))
        similarity = tw._tailwatch.jaccard_pairs(first.column(_TEXT), second.column(_TEXT), **options)
        # a candidate is a near duplicate when it reaches the threshold, as in the CLI
        near = pc.greater_equal(similarity, threshold)
        return pa.table({_PAIR: first.column(_PAIR).filter(near)})

    return verify_group


def dedup_dataset(ds: "Dataset", column: str, threshold: float = 0.8, *, num_cpus: float = 1, **options: Any) -> "Dataset":
    """``ds`` with two more columns, ``cluster_id`` (int64: the cluster, None for a record with
    no duplicate) and ``keep`` (bool), in input order (the order of its blocks): the clusters
    and kept records ``tailwatch dedup`` and ``tailwatch.dedup`` give on the same records in
    the same order, cluster ids included (0-based, by first member).

    ``options`` are ``tailwatch.dedup``'s (``keep``: ``first`` or ``longest``, ``skip_nulls``:
    a skipped row gets no cluster and ``keep`` None; ``exact_pairs`` is for one machine).
    ``ds`` is materialized once, which fixes its order. Digests and band keys are computed on
    the workers (``map_batches``, ``num_cpus`` each); the driver makes the candidates from the
    key rows (never the texts) as the CLI does; candidates are verified on the workers after a
    ``groupby`` that brings each pair's two texts together; the driver clusters the verified
    pairs.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import ray

    options = {**options, "threshold": threshold}
    settings = tw._tailwatch.dedup_settings(**options)  # bad options fail here, before any task
    if settings["exact_pairs"]:
        raise ValueError("exact_pairs=True is an all-pairs join for a corpus one machine holds: use tailwatch.dedup")
    skip_nulls = bool(options.pop("skip_nulls", False))
    base = ds.materialize()
    schema = base.schema()
    if schema is None or base.count() == 0:  # an empty dataset may have no schema
        raise tw.InputError("no documents to deduplicate")
    names = schema.names
    if column not in names:
        raise tw.InputError(f"no column `{column}` in the Dataset: the columns are {', '.join(names)}")
    for new in ("cluster_id", "keep"):
        if new in names:
            raise tw.InputError(f"the Dataset already has a column `{new}`, which dedup adds: rename it first")
    kind = dict(zip(names, schema.types))[column]
    # (a pandas block's type is not an Arrow one: the workers check its values)
    if isinstance(kind, pa.DataType) and not (_is_string(kind) or pa.types.is_null(kind)):
        raise TypeError(f"documents must be strings: the column `{column}` has type {kind}")
    n = base.count()
    # each row's place: zip pairs the rows of two datasets by position (both materialized, so
    # their blocks come in order; a map before the zip could finish its blocks out of order)
    order = ray.data.from_arrow(pa.table({_ORDER: pa.array(np.arange(n, dtype=np.int64))}))
    indexed = base.zip(order)

    longest = settings["keep"] == "longest"
    keyed = indexed.map_batches(
        _dedup_keys(column, options, longest),
        batch_format="pyarrow",
        batch_size=None,
        zero_copy_batch=True,
        num_cpus=num_cpus,
    )
    keys = pa.concat_tables(list(keyed.iter_batches(batch_format="pyarrow", batch_size=None))).sort_by(_ORDER)
    if keys.num_rows != n:  # pragma: no cover - a bug, not an input
        raise RuntimeError(f"{keys.num_rows} key rows for {n} records")
    present = keys.column(_DIGEST).combine_chunks().is_valid()
    if not skip_nulls and not pc.all(present).as_py():
        first = pc.index(present, False).as_py()
        raise tw.InputError(
            f"record {first} of the column `{column}` is null, not a document (pass skip_nulls=True to leave "
            "nulls out: they get no cluster and keep None)"
        )
    docs = keys.filter(present)
    if docs.num_rows == 0:
        raise tw.InputError("no documents to deduplicate")
    # documents are numbered among those present, as tailwatch.dedup numbers them
    orders = docs.column(_ORDER).combine_chunks()
    found = tw._tailwatch.dedup_candidates(docs.column(_DIGEST).combine_chunks(), docs.column(_KEYS).combine_chunks())
    a, b = found["a"].to_numpy(), found["b"].to_numpy()
    near = np.zeros(0, dtype=np.int64)
    if len(a) and not settings["exact_only"]:
        # per document its (pair, side) rows, sorted by document (its row number in `indexed`)
        by_doc = np.concatenate([orders.to_numpy()[a], orders.to_numpy()[b]])
        pair_ids = np.concatenate([np.arange(len(a)), np.arange(len(b))])
        sides = np.concatenate([np.zeros(len(a), np.int8), np.ones(len(b), np.int8)])
        sort = np.argsort(by_doc, kind="stable")
        buckets = max(1, min(len(a), 4 * max(1, base.num_blocks())))
        pieces = indexed.map_batches(
            _pair_pieces(column, buckets),
            batch_format="pyarrow",
            batch_size=None,
            fn_kwargs={"pieces": ray.put((by_doc[sort], pair_ids[sort], sides[sort]))},
            num_cpus=num_cpus,
        )
        verified = pieces.groupby(_BUCKET).map_groups(
            _verify_bucket(options, settings["threshold"]), batch_format="pyarrow", num_cpus=num_cpus
        )
        found_pairs = [t.column(_PAIR) for t in verified.iter_batches(batch_format="pyarrow", batch_size=None)]
        near = np.sort(pa.chunked_array(found_pairs, pa.int64()).to_numpy()) if found_pairs else near
    lengths = docs.column(_LENGTH).combine_chunks() if longest else None
    clusters = tw._tailwatch.dedup_clusters(
        found["representative"], pa.array(a[near]), pa.array(b[near]), lengths, **options
    )
    # back to every record: a skipped null takes a null place, so no cluster and keep None
    place = pc.subtract(pc.cumulative_sum(present.cast(pa.int64())), 1)
    place = pc.if_else(present, place, pa.scalar(None, pa.int64()))
    flags = pa.table({"cluster_id": clusters["cluster"].take(place), "keep": clusters["keep"].take(place)})
    return base.zip(ray.data.from_arrow(flags))

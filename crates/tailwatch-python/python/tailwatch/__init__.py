"""tailwatch: detect, simulate and prevent model collapse, from Python.

Profiles are mergeable summaries of a corpus (the same ``.twp`` files as ``tailwatch profile``):
build one per thread, partition or file, merge them exactly, and compute every collapse metric
from the merged one. ``tailwatch.spark`` and ``tailwatch.ray`` do this inside those engines;
``tailwatch.watch`` talks to a ``tailwatch serve`` watch server. Nothing optional is imported
until it is used.
"""

from __future__ import annotations

from typing import Any

from tailwatch._tailwatch import (
    CapsUnmetError,
    IncompatibleProfilesError,
    InputError,
    Ledger,
    NotAProfileError,
    Profile,
    Reference,
    TailwatchError,
    TokenizerError,
    UnsupportedVersionError,
    _versions,
    catalog,
    merge,
    num_threads,
    set_num_threads,
)
from tailwatch._tailwatch import compare as _compare
from tailwatch._tailwatch import dedup as _dedup
from tailwatch._tailwatch import simulate as _simulate
from tailwatch._tailwatch import score as _score
from tailwatch._report import Comparison, DedupResult, Report, Simulation, metrics_frame

__version__: str = _versions()["tailwatch"]
PROFILE_FORMAT_VERSION: int = _versions()["profile_format"]

__all__ = [
    "CapsUnmetError",
    "Comparison",
    "DedupResult",
    "IncompatibleProfilesError",
    "InputError",
    "Ledger",
    "NotAProfileError",
    "Profile",
    "Reference",
    "Report",
    "Simulation",
    "TailwatchError",
    "TokenizerError",
    "UnsupportedVersionError",
    "catalog",
    "compare",
    "dedup",
    "merge",
    "metrics_frame",
    "num_threads",
    "score",
    "set_num_threads",
    "simulate",
]

def score(texts: Any, **options: Any) -> Report:
    """Score documents as ``tailwatch score --json`` does (see ``Profile`` for the profile
    options; ``reference``, ``metrics``, ``compat``, ``skip_nulls``). The report's ``raw`` is
    the CLI's JSON."""
    return Report.from_dict(_score(texts, **options))


def compare(baseline: Any, candidate: Any, **options: Any) -> Comparison:
    """Compare a candidate against a baseline (each a ``Profile`` or documents) under collapse
    rules, as ``tailwatch compare`` does: ``rules`` (TOML text or a ``pathlib.Path``; default:
    the built-in rules), ``reference``, ``permutations`` (1000), ``confidence`` (0.95), and the
    ``Profile`` settings for documents."""
    return Comparison.from_dict(_compare(baseline, candidate, **options))


def dedup(texts: Any, **options: Any) -> DedupResult:
    """Deduplicate documents as ``tailwatch dedup`` does with the same options (``threshold``,
    ``shingle_size``, ``num_perm``, ``signature``, ``seed``, ``recall``, ``verify``,
    ``exact_only``, ``exact_pairs``, ``keep``, ``nfkc``, ``lowercase``, ``strip_punctuation``,
    ``skip_nulls``): a keep flag and a cluster id per document."""
    return DedupResult.from_dict(_dedup(texts, **options))


def simulate(model: str, **options: Any) -> Simulation:
    """Simulate recursive training of ``model`` (gaussian, mvgaussian, gmm, categorical,
    poisson, zipf, mean, regression, ngram) as ``tailwatch simulate`` does: ``strategies``
    (``"replace,accumulate"`` or a list), ``generations``, ``replicates``, ``seed``,
    ``samples``, the model's parameters (``lam`` is the Poisson rate), and for ngram a
    ``corpus`` (a path or documents)."""
    return Simulation.from_dict(_simulate(model, **options))


_SUBMODULES = ("spark", "ray", "watch")


def __getattr__(name: str) -> Any:
    # tailwatch.spark, tailwatch.ray and tailwatch.watch load on first use, so that
    # `import tailwatch` never imports pyspark, ray or pyarrow
    if name in _SUBMODULES:
        import importlib

        return importlib.import_module(f"tailwatch.{name}")
    raise AttributeError(f"module 'tailwatch' has no attribute {name!r}")

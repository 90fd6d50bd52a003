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
    compare,
    dedup,
    merge,
    num_threads,
    score,
    set_num_threads,
    simulate,
)
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

_SUBMODULES = ("spark", "ray", "watch")


def __getattr__(name: str) -> Any:
    # tailwatch.spark, tailwatch.ray and tailwatch.watch load on first use, so that
    # `import tailwatch` never imports pyspark, ray or pyarrow
    if name in _SUBMODULES:
        import importlib

        return importlib.import_module(f"tailwatch.{name}")
    raise AttributeError(f"module 'tailwatch' has no attribute {name!r}")

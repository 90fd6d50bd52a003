"""Type stubs of the native module `tailwatch._tailwatch` (the Rust core)."""

from __future__ import annotations

import os
from typing import Any, Iterable, Literal, Mapping, TypedDict, final

from typing_extensions import Unpack

from tailwatch._report import Comparison, DedupResult, Report, Simulation

_Sample = int | Literal["all"]
_TokenizerArg = str | bytes
_Path = str | os.PathLike[str]

__all__ = [
    "CapsUnmetError",
    "IncompatibleProfilesError",
    "InputError",
    "Ledger",
    "NotAProfileError",
    "Profile",
    "Reference",
    "TailwatchError",
    "TokenizerError",
    "UnsupportedVersionError",
    "_blake3_hex",
    "_profile_from_bytes",
    "_versions",
    "catalog",
    "compare",
    "dedup",
    "dedup_candidates",
    "dedup_clusters",
    "dedup_keys",
    "dedup_settings",
    "jaccard_pairs",
    "merge",
    "num_threads",
    "score",
    "set_num_threads",
    "simulate",
]

class TailwatchError(Exception): ...
class IncompatibleProfilesError(TailwatchError): ...
class NotAProfileError(TailwatchError): ...
class UnsupportedVersionError(NotAProfileError): ...
class TokenizerError(TailwatchError): ...
class InputError(TailwatchError): ...
class CapsUnmetError(TailwatchError): ...

@final
class Profile:
    def __new__(
        cls,
        tokenizer: _TokenizerArg = ...,
        *,
        lowercase: bool = False,
        sample: _Sample = ...,
        seed: int = 0,
        items_k: int = 10,
        keep_text: bool = False,
        max_memory: int | None = None,
        group_field: str | None = None,
        group_sample: _Sample = ...,
        order_field: str | None = None,
        score_fields: list[str] | None = None,
    ) -> Profile: ...
    def update(self, texts: Any, *, skip_nulls: bool = False) -> None: ...
    def update_groups(self, groups: Any) -> None: ...
    @classmethod
    def from_groups(cls, groups: Any, **config: Any) -> Profile: ...
    def update_arrow(self, table: Any, column: str, *, skip_nulls: bool = False) -> None: ...
    @classmethod
    def from_texts(cls, texts: Any, *, skip_nulls: bool = False, **config: Any) -> Profile: ...
    @classmethod
    def from_arrow(cls, data: Any, column: str | None = None, *, skip_nulls: bool = False, **config: Any) -> Profile: ...
    @classmethod
    def from_dataset(
        cls, dataset: Any, column: str, *, batch_size: int = 10000, skip_nulls: bool = False, **config: Any
    ) -> Profile: ...
    def merge(self, other: Profile) -> Profile: ...
    def metrics(
        self,
        reference: Reference | Profile | None = None,
        *,
        metrics: list[str] | None = None,
        compat: str | None = None,
        equivalence: str = "unigram",
        patience: float = ...,
        pass_threshold: float = ...,
    ) -> dict[str, float | None]: ...
    def report(
        self,
        reference: Reference | Profile | None = None,
        *,
        metrics: list[str] | None = None,
        equivalence: str = "unigram",
        patience: float = ...,
        pass_threshold: float = ...,
    ) -> Report: ...
    def to_bytes(self) -> bytes: ...
    @staticmethod
    def from_bytes(data: bytes, *, tokenizer: _TokenizerArg | None = None, max_decoded: int | None = None) -> Profile: ...
    def save(self, path: _Path) -> None: ...
    @staticmethod
    def load(path: _Path, *, tokenizer: _TokenizerArg | None = None) -> Profile: ...
    @property
    def n_docs(self) -> int: ...
    @property
    def n_tokens(self) -> int: ...
    @property
    def n_types(self) -> int: ...
    @property
    def is_sketched(self) -> bool: ...
    @property
    def memory_bytes(self) -> int: ...
    @property
    def config(self) -> dict[str, Any]: ...
    def __len__(self) -> int: ...

@final
class Reference:
    @staticmethod
    def from_profile(profile: Profile, name: str = "profile") -> Reference: ...
    @staticmethod
    def load(path: _Path, *, tokenizer: str = "words", lowercase: bool = False) -> Reference: ...
    @property
    def source(self) -> str: ...

@final
class Ledger:
    @staticmethod
    def open(path: _Path, *, create: bool = True) -> Ledger: ...
    def ingest(
        self,
        records: Iterable[Mapping[str, Any] | str],
        *,
        origin: str | None = None,
        generator: str | None = None,
        generation: int | None = None,
        source: str | None = None,
        license: str | None = None,
        name: str = "<python>",
        batch_size: int = 10000,
    ) -> dict[str, Any]: ...
    def stats(self) -> dict[str, Any]: ...
    def lineage(self, reference: str) -> dict[str, Any]: ...
    def mix(
        self,
        name: str,
        *,
        max_synthetic: float,
        size: int | None = None,
        unit: Literal["records", "tokens"] = "records",
        min_human: int | float | None = None,
        accumulate: bool = False,
        dedup: bool = False,
        tail_preserve: float | None = None,
        generators: list[str] = ...,
        max_generation: int | None = None,
        sources: list[str] = ...,
        seed: int = 0,
    ) -> dict[str, Any]: ...
    def close(self) -> None: ...
    def __enter__(self) -> Ledger: ...
    def __exit__(self, *args: object) -> None: ...
    @property
    def path(self) -> str: ...

def merge(profiles: Iterable[Profile | bytes]) -> Profile: ...
def catalog() -> list[dict[str, Any]]: ...
def set_num_threads(threads: int | None = None) -> None: ...
def num_threads() -> int: ...
def score(
    texts: Any,
    *,
    reference: Reference | Profile | None = None,
    metrics: list[str] | None = None,
    compat: Literal["diversity", "nltk", "degen", "texygen", "simctg", "lexicaldiversity"] | None = None,
    confidence: float | None = None,
    skip_nulls: bool = False,
    tokenizer: _TokenizerArg = ...,
    lowercase: bool = False,
    sample: _Sample = ...,
    seed: int = 0,
    items_k: int = 10,
    max_memory: int | None = None,
) -> Report: ...
def compare(
    baseline: Any,
    candidate: Any,
    *,
    rules: str | os.PathLike[str] | None = None,
    reference: Reference | Profile | None = None,
    permutations: int = 1000,
    confidence: float = 0.95,
    skip_nulls: bool = False,
    tokenizer: _TokenizerArg | None = None,
    lowercase: bool = False,
    sample: _Sample = ...,
    seed: int = 0,
    items_k: int = 10,
    max_memory: int | None = None,
    equivalence: str = "unigram",
    patience: float = ...,
    pass_threshold: float = ...,
) -> Comparison: ...
class _DedupOptions(TypedDict, total=False):
    threshold: float  # 0.8
    shingle_size: int  # 5
    num_perm: int  # 128
    signature: Literal["oph", "fss", "classic", "datasketch", "datasketch-legacy"]  # "oph"
    seed: int  # 1
    recall: float  # 0.99
    verify: Literal["exact", "estimate"]  # "exact"
    exact_only: bool
    exact_pairs: bool
    keep: Literal["first", "longest"]  # "first"
    nfkc: bool  # True
    lowercase: bool  # True
    strip_punctuation: bool  # True
    skip_nulls: bool

def dedup(texts: Any, **options: Unpack[_DedupOptions]) -> DedupResult: ...
def simulate(
    model: str,
    *,
    strategies: str | list[str] = ...,
    generations: int | None = None,
    replicates: int | None = None,
    seed: int = 0,
    samples: int | None = None,
    corpus: Any = None,
    estimator: Literal["mle", "unbiased"] | None = None,
    dim: int | None = None,
    components: int | None = None,
    categories: int | None = None,
    exponent: float | None = None,
    lam: float | None = None,
    mean: float | None = None,
    std: float | None = None,
    noise_variance: float | None = None,
    tolerance: float | None = None,
    max_iterations: int | None = None,
    order: int | None = None,
    heldout: float | None = None,
    max_doc_tokens: int | None = None,
    dedup: bool = False,
    tail_preserve: bool | float | None = None,
    tail_mass: float | None = None,
    lowercase: bool = False,
) -> Simulation: ...
def dedup_settings(**options: Unpack[_DedupOptions]) -> dict[str, Any]: ...
def dedup_keys(texts: Any, **options: Unpack[_DedupOptions]) -> Any: ...
def jaccard_pairs(texts_a: Any, texts_b: Any, **options: Unpack[_DedupOptions]) -> Any: ...
def dedup_candidates(digests: Any, band_keys: Any) -> dict[str, Any]: ...
def dedup_clusters(
    representative: Any, a: Any, b: Any, lengths: Any = None, **options: Unpack[_DedupOptions]
) -> dict[str, Any]: ...
def _versions() -> dict[str, Any]: ...
def _blake3_hex(data: bytes) -> str: ...
def _profile_from_bytes(data: bytes, max_memory: int) -> Profile: ...

"""Results as Python objects: a score report, a dedup result, and their pandas frames."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping

if TYPE_CHECKING:  # pragma: no cover
    import pandas

    from tailwatch._tailwatch import Profile


def _catalog_by_id() -> dict[str, dict[str, Any]]:
    from tailwatch._tailwatch import catalog

    return {m["id"]: m for m in catalog()}


@dataclass(frozen=True)
class Report:
    """The metrics of a profile or corpus, as ``tailwatch score --json`` reports them.

    ``metrics`` maps metric id to value (None when undefined); ``approximate`` lists ids that
    are estimates (sketched tables); ``notes`` say what limits the numbers; ``intervals`` (with
    ``confidence``) each metric's jackknife interval; ``raw`` is the whole report as a dict.
    For a profile that groups answers, ``groups`` summarizes the groups (how they were grouped,
    the equivalence rule, how many, each within-group metric's mean and p10/p50/p90 under
    ``spread``) and ``per_group`` holds one row per sampled group, worst first: the rows of
    ``tailwatch score --per-group`` (``group``, ``answers``, ``distinct_at_k``, ...,
    ``classes``), without their ``input``. Both are empty otherwise.
    """

    metrics: dict[str, float | None]
    n_docs: int
    n_tokens: int
    approximate: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    intervals: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    groups: dict[str, Any] | None = None
    per_group: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_dict(cls, report: Mapping[str, Any], per_group: list[dict[str, Any]] | None = None) -> "Report":
        return cls(
            metrics=dict(report.get("metrics", {})),
            n_docs=int(report.get("n_docs", 0)),
            n_tokens=int(report.get("n_tokens", 0)),
            approximate=list(report.get("approximate", [])),
            notes=list(report.get("notes", [])),
            intervals=report.get("intervals"),
            raw=dict(report),
            groups=report.get("groups"),
            per_group=list(per_group or []),
        )

    def to_pandas(self) -> "pandas.DataFrame":
        """One row per metric: id, value, family, collapse direction, range, approximate."""
        import pandas as pd

        info = _catalog_by_id()
        rows = []
        for metric, value in self.metrics.items():
            m = info.get(metric, {})
            rows.append(
                {
                    "metric": metric,
                    "value": value,
                    "family": m.get("family"),
                    "collapse": m.get("collapse"),
                    "range": m.get("range"),
                    "approximate": metric in self.approximate,
                }
            )
        return pd.DataFrame(rows, columns=["metric", "value", "family", "collapse", "range", "approximate"])


@dataclass(frozen=True)
class DedupResult:
    """What ``tailwatch.dedup`` found: a keep flag and a cluster id (None: no duplicate) per
    document, the clusters, the verified near-duplicate pairs and the summary."""

    keep: list[bool]
    cluster: list[int | None]
    clusters: list[dict[str, Any]]
    pairs: list[tuple[int, int, float]]
    summary: dict[str, Any]
    warnings: list[str]

    @classmethod
    def from_dict(cls, result: Mapping[str, Any]) -> "DedupResult":
        return cls(
            keep=list(result["keep"]),
            cluster=list(result["cluster"]),
            clusters=list(result["clusters"]),
            pairs=[tuple(p) for p in result["pairs"]],  # type: ignore[misc]
            summary=dict(result["summary"]),
            warnings=list(result["warnings"]),
        )

    def to_pandas(self) -> "pandas.DataFrame":
        """One row per document: its cluster id and keep flag."""
        import pandas as pd

        return pd.DataFrame({"cluster": pd.array(self.cluster, dtype="Int64"), "keep": self.keep})


def metrics_frame(profiles: Mapping[str, "Profile"], **kwargs: Any) -> "pandas.DataFrame":
    """A frame of metrics, one row per named profile (``{"gen0": p0, "gen1": p1}``), one column
    per metric id; ``kwargs`` go to ``Profile.metrics``."""
    import pandas as pd

    rows = {name: p.metrics(**kwargs) for name, p in profiles.items()}
    return pd.DataFrame.from_dict(rows, orient="index")


@dataclass(frozen=True)
class Comparison:
    """What ``tailwatch.compare`` found, as ``tailwatch compare --json`` reports it: the
    ``verdict`` (``ok`` or ``collapse``), one check per rule (values, change, threshold,
    p-value, interval, breached), notes on what limits the comparison, and the explanation
    (what changed, in the documents' own words)."""

    verdict: str
    checks: list[dict[str, Any]]
    notes: list[str]
    explanation: dict[str, Any] | None
    raw: dict[str, Any]

    @property
    def collapsed(self) -> bool:
        """Whether a rule breached (the CLI exits 1)."""
        return self.verdict == "collapse"

    @classmethod
    def from_dict(cls, result: Mapping[str, Any]) -> "Comparison":
        return cls(
            verdict=str(result["verdict"]),
            checks=list(result["checks"]),
            notes=list(result["notes"]),
            explanation=result.get("explanation"),
            raw=dict(result),
        )

    def to_pandas(self) -> "pandas.DataFrame":
        """One row per check."""
        import pandas as pd

        return pd.DataFrame(self.checks)


@dataclass(frozen=True)
class Simulation:
    """What ``tailwatch.simulate`` ran, as ``tailwatch simulate --json`` reports it: per
    strategy and metric, the mean, standard error and quantiles over replicates at each
    generation, and the closed forms where known. ``raw`` is the whole report."""

    model: str
    generations: int
    replicates: int
    raw: dict[str, Any]

    @classmethod
    def from_dict(cls, report: Mapping[str, Any]) -> "Simulation":
        return cls(
            model=str(report["model"]),
            generations=int(report["generations"]),
            replicates=int(report["replicates"]),
            raw=dict(report),
        )

    def series(self, metric: str, strategy: str | None = None, statistic: str = "mean") -> list[float | None]:
        """One statistic (``mean``, ``se``, ``q05`` ... ``q95``) of one metric per generation,
        for ``strategy`` (default: the first)."""
        strategies = self.raw["strategies"]
        chosen = strategies[0] if strategy is None else next((s for s in strategies if s["strategy"] == strategy), None)
        if chosen is None:
            names = ", ".join(str(s["strategy"]) for s in strategies)
            raise KeyError(f"no strategy {strategy!r}: the strategies are {names}")
        if metric not in chosen["metrics"]:
            raise KeyError(f"no metric {metric!r}: the metrics are {', '.join(chosen['metrics'])}")
        return list(chosen["metrics"][metric][statistic])

    def to_pandas(self) -> "pandas.DataFrame":
        """Long format: one row per strategy, metric and generation, with the mean, se and
        quantiles as columns."""
        import pandas as pd

        rows = []
        for s in self.raw["strategies"]:
            for metric, series in s["metrics"].items():
                for g in range(len(series["mean"])):
                    row = {"strategy": s["strategy"], "metric": metric, "generation": g}
                    for stat in ("mean", "se", "q05", "q25", "median", "q75", "q95"):
                        row[stat] = series[stat][g]
                    rows.append(row)
        return pd.DataFrame(rows)

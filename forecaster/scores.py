"""A backtest's scoreboard: every method's metrics overall (the mean over the backtested series), per series
and by horizon step, with where the windows were. The one shape that is stored with a model version,
printed, reported and served; free of NumPy, so the light commands can read it."""

from __future__ import annotations

from dataclasses import dataclass, field

NETWORK = "model"  # the network's own forecast, in every table of methods
METRICS = ("mae", "rmse", "smape", "mase", "crps", "msis")  # crps: scaled, as MASE; msis at 95%


@dataclass(frozen=True)
class Scoreboard:
    overall: dict[str, dict[str, float]]  # method -> metric -> value
    per_series: dict[str, dict[str, dict[str, float]]] = field(
        default_factory=dict
    )  # series -> method -> ...
    by_step: dict[str, list[float]] = field(default_factory=dict)  # method -> MAE at each step
    windows: int | None = None  # backtest windows per series (at most)
    stride: int | None = None
    season: int | None = None

    def score(self, method: str = NETWORK, metric: str = "mase") -> float | None:
        """One method's overall score, or None where it was not scored."""
        return (self.overall.get(method) or {}).get(metric)

    def rows(self, every_series: bool = False) -> list[dict]:
        """One row per method overall (and per series and method), for tables."""
        rows = [{"series": "(overall)", "method": m} | v for m, v in self.overall.items()]
        if every_series and len(self.per_series) > 1:
            for name, scores in self.per_series.items():
                rows += [{"series": name, "method": m} | v for m, v in scores.items()]
        return rows

    def to_json(self) -> dict:
        out = {"overall": self.overall, "per_series": self.per_series, "by_step": self.by_step}
        where = {"windows": self.windows, "stride": self.stride, "season": self.season}
        return out | {k: v for k, v in where.items() if v is not None}

    @classmethod
    def from_json(cls, data: dict | None) -> Scoreboard:
        """A stored scoreboard (an empty one where there is none, e.g. a classifier's metrics)."""
        data = data or {}
        return cls(
            data.get("overall") or {},
            data.get("per_series") or {},
            data.get("by_step") or {},
            data.get("windows"),
            data.get("stride"),
            data.get("season"),
        )

    @classmethod
    def of(cls, metrics: dict | None) -> Scoreboard:
        """The backtest stored in a model version's metrics."""
        return cls.from_json((metrics or {}).get("backtest"))


def lead_of(metrics: dict | None) -> str:
    """What a version issues where the network serves: the network alone, or its combination."""
    return (metrics or {}).get("lead") or NETWORK


# What only forecasting with a version reads: its interval widths, its combination's factors, what serves
# each series. They go with its artifact (retention), since a pruned version never forecasts again.
SERVING_STATE = ("intervals", "interval_scale", "combination_factors", "serve")


def record_of(metrics: dict | None) -> dict | None:
    """A version's metrics once its artifact is pruned: its record — the backtest overall and by step, the
    gate and its decision, coverage, how many series each method served — without the serving state and
    the per-series scores (with a group's many series, most of the bytes; evidence for choosing what
    serves each series, a choice a pruned version never makes again)."""
    if not metrics:
        return metrics
    out = {k: v for k, v in metrics.items() if k not in SERVING_STATE}
    if isinstance(out.get("backtest"), dict):
        out["backtest"] = {k: v for k, v in out["backtest"].items() if k != "per_series"}
    return out

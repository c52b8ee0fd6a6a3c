"""Choosing what to issue from backtest evidence: how sure a method beats another (a paired bootstrap over
the backtest's series, or its windows for one series), the gate, and which method serves each series.

Losses are per backtest window: by default the window's MAE divided by its series' MASE scale, so a
window's loss is its MASE (or its sMAPE, or its scaled CRPS: `--metric`). The overall score of a method is
the mean over series of each series' mean window loss."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.numbers import apart

DRAWS = 2000
LABELS = {"mase": "MASE", "smape": "sMAPE", "crps": "CRPS"}  # each loss as a decision names it


@dataclass(frozen=True)
class Comparison:
    """`candidate` against `reference` on the same windows."""

    candidate: float  # overall loss (MASE unless `metric` says otherwise)
    reference: float
    improvement: float  # 1 - candidate / reference: the share of the reference's error removed
    sure: float  # the share of bootstrap resamples in which the candidate's loss is the lower
    metric: str = "mase"

    def beats(self, confidence: float) -> bool:
        return self.candidate < self.reference and self.sure >= confidence

    def describe(self, label: str) -> str:
        """ "MASE 0.9 beats the best baseline, naive, (1.0) by 10.0%, ...": or "ties with" it, or "is 9.3%
        worse than" it; with the digits that tell the two apart."""
        mine, theirs = apart(self.candidate, self.reference)
        if self.candidate < self.reference:
            how = f"beats {label} ({theirs}) by {100 * self.improvement:.1f}%"
        elif self.candidate == self.reference:
            how = f"ties with {label} ({theirs})"
        else:
            how = f"is {-100 * self.improvement:.1f}% worse than {label} ({theirs})"
        return f"{LABELS[self.metric]} {mine} {how}, lower in {100 * self.sure:.1f}% of bootstrap resamples"


def cluster_means(losses: np.ndarray, series: np.ndarray) -> np.ndarray:
    """Per-cluster mean losses: one cluster a series when several series were backtested (windows of one
    series are correlated), one a window when a single series was."""
    present = np.unique(series)
    if len(present) == 1:
        return losses.astype(np.float64)
    return np.array([losses[series == s].mean() for s in present])


def compare(
    candidate: np.ndarray, reference: np.ndarray, series: np.ndarray, seed: int = 0, metric: str = "mase"
) -> Comparison:
    """Paired bootstrap of the mean loss difference over clusters (series, or windows for one series)."""
    a, b = cluster_means(candidate, series), cluster_means(reference, series)
    mean_a, mean_b = float(a.mean()), float(b.mean())
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(a), size=(DRAWS, len(a)))
    diff = (b - a)[picks].mean(axis=1)
    sure = float(np.mean(diff > 0))
    improvement = 1 - mean_a / mean_b if mean_b > 0 else 0.0
    return Comparison(mean_a, mean_b, improvement, sure, metric)


def best_overall(losses: dict[str, np.ndarray], series: np.ndarray) -> str:
    """The method with the lowest overall loss."""
    return min(losses, key=lambda m: cluster_means(losses[m], series).mean())


def per_series(
    losses: dict[str, np.ndarray], series: np.ndarray, default: str, confidence: float
) -> tuple[dict[int, str], dict]:
    """What serves each series: each series' own best method by its backtest windows, but only where
    choosing that way has proved itself on this subject: choices made on each series' earlier windows
    must beat `default` everywhere on its later windows in at least `confidence` of bootstrap resamples
    over series. Otherwise every series gets `default`, the subject's overall winner. Choosing per series
    on a handful of windows over-fits them: on M4 Weekly it issued sMAPE 8.0-8.4 where the network
    everywhere scored 6.8-7.5, and this check keeps that from happening. Returns the choice and the
    evidence."""
    present = [int(s) for s in np.unique(series)]
    keep = dict.fromkeys(present, default)
    early, late = _halves(series)
    if len(present) < 2 or not late.any():
        return keep, {"per_series": False, "why": "one series, or too few windows to test the choice"}
    picked = _best_each(losses, series, early)
    rows = np.flatnonzero(late)
    chosen_late = np.array([losses[picked[int(series[i])]][i] for i in rows])
    check = compare(chosen_late, losses[default][late], series[late])
    evidence = {"per_series": check.beats(confidence), "check": check.__dict__}
    if not evidence["per_series"]:
        return keep, evidence
    return keep | _best_each(losses, series, early | late), evidence


def _halves(series: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each series' earlier windows (the first half, rounded up) and later ones; windows are in time
    order within a series."""
    early, late = np.zeros(len(series), dtype=bool), np.zeros(len(series), dtype=bool)
    for s in np.unique(series):
        rows = np.flatnonzero(series == s)
        if len(rows) < 2:
            continue
        cut = -(-len(rows) // 2)
        early[rows[:cut]], late[rows[cut:]] = True, True
    return early, late


def _best_each(losses: dict[str, np.ndarray], series: np.ndarray, rows: np.ndarray) -> dict[int, str]:
    """Each series' method with the lowest mean loss over the given rows (series with none are left out)."""
    out = {}
    for s in np.unique(series[rows]):
        mine = rows & (series == s)
        out[int(s)] = min(losses, key=lambda m: float(losses[m][mine].mean()))
    return out


def gate(
    new: np.ndarray,
    baseline: tuple[str, np.ndarray],
    champion: np.ndarray | float | None,
    series: np.ndarray,
    confidence: float,
    force: bool,
    metric: str = "mase",
) -> tuple[bool, str, dict]:
    """Promote only when the new model beats the best baseline and the champion by more than noise: a
    lower loss (MASE unless `metric` says otherwise) in at least `confidence` of the bootstrap resamples.
    The champion is re-scored on the same windows (per-window losses) where it has not seen them; a
    champion refit on data that covers them gives its own backtest score instead (a float), which the
    new one must beat."""
    name, base_losses = baseline
    shown = LABELS[metric]
    vs_base = compare(new, base_losses, series, metric=metric)
    evidence = {"baseline": name, "vs_baseline": vs_base.__dict__, "confidence": confidence, "metric": metric}
    lines = [vs_base.describe(f"the best baseline, {name},")]
    champion_ok = True
    if isinstance(champion, np.ndarray):
        vs_champion = compare(new, champion, series, metric=metric)
        evidence["vs_champion"] = vs_champion.__dict__
        lines.append(vs_champion.describe("the champion"))
        champion_ok = vs_champion.beats(confidence)
    elif champion is not None:
        mine = float(cluster_means(new, series).mean())
        champion_ok = mine < champion
        evidence["vs_champion_backtest"] = {"candidate": mine, "champion": champion}
        verb = "beats" if champion_ok else "does not beat"
        lines.append(
            f"{shown} {mine:.4f} {verb} the champion's own backtest {shown} ({champion:.4f}; it has been "
            "refit on these windows, so it is judged by its score from before it saw them)"
        )
    text = "; ".join(lines)
    if force:
        return True, f"promoted with --force ({text})", evidence
    ok = vs_base.beats(confidence) and champion_ok
    need = f"needs lower {shown} in at least {100 * confidence:.0f}% of resamples"
    return ok, (text if ok else f"{text}: not promoted ({need})"), evidence

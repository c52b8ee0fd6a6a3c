"""Plot functions: each draws on an Axes it is given and returns it. No pyplot state anywhere, so they are
safe in the scheduler and in tests; the report writer owns the Figures."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.patches import Patch

PALETTE = {
    "history": "#334155",
    "forecast": "#2563eb",
    "actual": "#dc2626",
    "band80": "#93c5fd",
    "band95": "#dbeafe",
    "naive": "#9ca3af",
    "ok": "#16a34a",
    "bad": "#dc2626",
    "warn": "#f59e0b",
}
STATUS_COLORS = {
    "succeeded": PALETTE["ok"],
    "failed": PALETTE["bad"],
    "timed_out": PALETTE["warn"],
    "abandoned": "#a855f7",
    "running": PALETTE["forecast"],
    "queued": PALETTE["naive"],
}


def _tidy(ax, title: str, xlabel: str = "", ylabel: str = "") -> None:
    ax.set_title(title, fontsize=10, loc="left")
    ax.set_xlabel(xlabel, fontsize=8)
    ax.set_ylabel(ylabel, fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.25)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def fan_chart(
    ax,
    history: tuple[Sequence, Sequence],
    forecast: tuple[Sequence, Sequence],
    intervals: dict[str, tuple[Sequence, Sequence]],
    actual: tuple[Sequence, Sequence] | None = None,
    title: str = "",
):
    """History, the forecast with its 80/95% bands, and the actuals that have arrived since."""
    ax.plot(history[0], history[1], color=PALETTE["history"], lw=1, label="history")
    for level, color in (("95", PALETTE["band95"]), ("80", PALETTE["band80"])):
        if level in intervals:
            lo, hi = intervals[level]
            ax.fill_between(forecast[0], lo, hi, color=color, label=f"{level}% interval", lw=0)
    ax.plot(forecast[0], forecast[1], color=PALETTE["forecast"], lw=1.6, label="forecast")
    if actual is not None and len(actual[0]):
        ax.plot(actual[0], actual[1], "o", ms=3, color=PALETTE["actual"], label="actual since")
    ax.legend(fontsize=7, frameon=False, loc="upper left")
    _tidy(ax, title)
    return ax


def error_by_step(ax, by_step: dict[str, Sequence[float]], title: str = "Backtest error by horizon step"):
    for method, errors in by_step.items():
        style = {"lw": 2.0, "color": PALETTE["forecast"]} if method == "model" else {"lw": 1.0, "alpha": 0.8}
        ax.plot(np.arange(1, len(errors) + 1), errors, marker="o", ms=2.5, label=method, **style)
    ax.legend(fontsize=7, frameon=False)
    _tidy(ax, title, "steps ahead", "MAE")
    return ax


def leaderboard(ax, scores: dict[str, float], title: str = "MASE by method (lower is better)"):
    """Horizontal bars, best first; the best baseline's bar is the line to beat."""
    items = sorted(scores.items(), key=lambda kv: kv[1])
    names, values = [k for k, _ in items], [v for _, v in items]
    colors = [PALETTE["forecast"] if n == "model" else PALETTE["naive"] for n in names]
    ax.barh(names, values, color=colors)
    baselines = [v for k, v in items if k != "model"]
    if baselines:
        ax.axvline(min(baselines), color=PALETTE["bad"], lw=1, ls="--")
    ax.invert_yaxis()
    _tidy(ax, title, "MASE")
    return ax


def vintages(ax, rows: Sequence[dict], title: str = "How past forecasts scored"):
    """MAE of each stored forecast against the actuals that arrived, by issue order."""
    scored = [r for r in rows if r.get("mae") is not None]
    if not scored:
        ax.text(
            0.5,
            0.5,
            "no actuals have arrived for stored forecasts yet",
            ha="center",
            va="center",
            fontsize=8,
            transform=ax.transAxes,
        )
    else:
        ax.plot(range(1, len(scored) + 1), [r["mae"] for r in scored], marker="o", color=PALETTE["forecast"])
        ax.set_xticks(range(1, len(scored) + 1), [r["origin"] for r in scored], rotation=30, fontsize=6)
    _tidy(ax, title, "forecast origin", "MAE")
    return ax


def training_curves(ax, history: dict[str, Sequence[float]], title: str = "Training"):
    """Loss and validation loss per epoch; the learning rate on a second axis when it was recorded."""
    epochs = np.arange(1, len(history.get("loss", [])) + 1)
    ax.plot(epochs, history.get("loss", []), label="loss", color=PALETTE["history"])
    if "val_loss" in history:
        ax.plot(epochs, history["val_loss"], label="validation loss", color=PALETTE["forecast"])
    lr = history.get("learning_rate") or history.get("lr")
    if lr:
        twin = ax.twinx()
        twin.plot(epochs, lr, color=PALETTE["naive"], ls=":", label="learning rate")
        twin.set_yscale("log")
        twin.tick_params(labelsize=6)
    ax.legend(fontsize=7, frameon=False)
    _tidy(ax, title, "epoch", "loss")
    return ax


def attention_weights(ax, weights: np.ndarray, title: str = "Where the attention model looked"):
    """Mean attention weight per lookback step (the most recent step on the right)."""
    mean = np.asarray(weights).mean(axis=0)
    ax.bar(np.arange(-len(mean), 0), mean, color=PALETTE["forecast"])
    _tidy(ax, title, "steps before the forecast origin", "weight")
    return ax


def bits_per_char(ax, val_bpc: Sequence[float], title: str = "Validation bits per character"):
    ax.plot(np.arange(1, len(val_bpc) + 1), val_bpc, marker="o", color=PALETTE["forecast"])
    _tidy(ax, title, "epoch", "bits/char")
    return ax


def job_timeline(ax, runs: Sequence[dict], title: str = "Recent runs"):
    """One bar per run: when it started, how long it took, coloured by how it ended."""
    names = sorted({r["schedule"] for r in runs})
    if not runs:
        ax.text(0.5, 0.5, "no runs yet", ha="center", va="center", fontsize=8, transform=ax.transAxes)
    for r in runs:
        start = r["started_ts"]
        ax.barh(
            names.index(r["schedule"]),
            max(r["seconds"] or 0, 1) / 60,
            left=start,
            color=STATUS_COLORS.get(r["status"], PALETTE["naive"]),
            height=0.5,
        )
    ax.set_yticks(range(len(names)), names, fontsize=7)
    handles = [
        Patch(color=c, label=s) for s, c in STATUS_COLORS.items() if any(r["status"] == s for r in runs)
    ]
    if handles:
        ax.legend(handles=handles, fontsize=7, frameon=False)
    _tidy(ax, title, "minutes since the first run shown")
    return ax


def confusion_matrix(
    ax, matrix: Sequence[Sequence[int]], classes: Sequence[str], title: str = "Confusion matrix"
):
    """Counts, true classes down, predicted across."""
    m = np.asarray(matrix)
    ax.imshow(m, cmap="Blues")
    for (i, j), v in np.ndenumerate(m):
        ax.text(
            j, i, str(v), ha="center", va="center", fontsize=8, color="white" if v > m.max() / 2 else "black"
        )
    ax.set_xticks(range(len(classes)), classes, fontsize=7)
    ax.set_yticks(range(len(classes)), classes, fontsize=7)
    ax.set_title(title, fontsize=10, loc="left")
    ax.set_xlabel("predicted", fontsize=8)
    ax.set_ylabel("true", fontsize=8)
    return ax

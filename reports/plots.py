"""Plot functions: each draws on an Axes it is given and returns it. No pyplot state anywhere, so they are
safe in the scheduler and in tests; the report writer owns the Figures."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

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
    ylabel: str = "value",
    legend: bool = True,
    quantiles: dict[float, Sequence] | None = None,
):
    """History, the forecast with its 95% band and its fan of quantiles (q10-q90 darkening inwards; the
    80% band where no quantiles were stored), and the actuals that have arrived since."""
    ax.plot(history[0], history[1], color=PALETTE["history"], lw=1, label="history")
    if "95" in intervals:
        lo, hi = intervals["95"]
        ax.fill_between(forecast[0], lo, hi, color=PALETTE["band95"], label="95% interval", lw=0)
    pairs = _quantile_pairs(quantiles or {})
    if pairs:
        for k, (lo, hi) in enumerate(pairs):
            label = "quantiles 10-90%" if k == 0 else None
            ax.fill_between(forecast[0], lo, hi, color=PALETTE["band80"], alpha=0.45, label=label, lw=0)
    elif "80" in intervals:
        lo, hi = intervals["80"]
        ax.fill_between(forecast[0], lo, hi, color=PALETTE["band80"], label="80% interval", lw=0)
    ax.plot(forecast[0], forecast[1], color=PALETTE["forecast"], lw=1.6, label="forecast")
    if actual is not None and len(actual[0]):
        ax.plot(actual[0], actual[1], "o", ms=3, color=PALETTE["actual"], label="actual since")
    _tidy(ax, title, "", ylabel)
    _few_ticks(ax, history[0], 8 if _width(ax) >= 5 else 4)
    if legend:
        _legend_below(ax)
    return ax


def _quantile_pairs(quantiles: dict[float, Sequence]) -> list[tuple[Sequence, Sequence]]:
    """The fan's bands, outermost first: (q, 1 - q) for each stored q below the median."""
    return [
        (quantiles[q], quantiles[round(1 - q, 6)])
        for q in sorted(quantiles)
        if q < 0.5 and round(1 - q, 6) in quantiles
    ]


def fan(ax, data: dict, title: str, legend: bool = True):
    """A fan chart from the report's fan data (history, forecast, intervals, quantiles, actuals, unit)."""
    return fan_chart(
        ax,
        data["history"],
        data["forecast"],
        data["intervals"],
        data["actual"],
        title,
        data["unit"],
        legend,
        data.get("quantiles"),
    )


def small_multiples(fig, fans: Sequence[dict]):
    """One small fan chart per series, three across on a page (two on a phone), one legend for all."""
    columns = 3 if fig.get_figwidth() >= 6 else 2
    rows = -(-len(fans) // columns)
    axes = np.atleast_1d(fig.subplots(rows, columns, squeeze=False).ravel())
    for ax, data in zip(axes, fans, strict=False):
        fan(ax, data, f"{data['name']} · {data['by']}", legend=False)
        _few_ticks(ax, data["history"][0])
        ax.title.set_fontsize(8)
    for ax in axes[len(fans) :]:
        ax.set_visible(False)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=min(len(labels), columns + 1), frameon=False)
    return axes


def _width(ax) -> float:
    """The axes' width in inches, as laid out before any legend."""
    return ax.get_position().width * ax.figure.get_figwidth()


def _few_ticks(ax, x, most: int = 4) -> None:
    """A few readable ticks on a time axis: dates concise, steps whole."""
    import matplotlib.dates as mdates

    if np.issubdtype(np.asarray(x).dtype, np.datetime64):
        locator = mdates.AutoDateLocator(minticks=2, maxticks=most)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    else:
        ax.xaxis.set_major_locator(MaxNLocator(most, integer=True))
    ax.tick_params(axis="x", labelsize=7)


def _legend_below(ax, **kwargs) -> None:
    """A legend under the axes, clear of the tick labels and the x label, in one row where it fits:
    readable when the figure is shrunk to a phone."""
    from matplotlib.transforms import ScaledTranslation

    handles, labels = kwargs.pop("items", ax.get_legend_handles_labels())
    below = (34 if ax.get_xlabel() else 22) / 72  # inches under the axes: tick labels, then the x label
    ax.legend(
        handles,
        labels,
        loc="upper left",
        bbox_to_anchor=(0, 0),
        bbox_transform=ax.transAxes + ScaledTranslation(0, -below, ax.figure.dpi_scale_trans),
        ncol=min(len(labels), 5 if _width(ax) >= 5.5 else 3),
        frameon=False,
        **kwargs,
    )


def error_by_step(ax, by_step: dict[str, Sequence[float]], title: str = "Backtest error by horizon step"):
    for method, errors in by_step.items():
        style = {"lw": 2.0, "color": PALETTE["forecast"]} if method == "model" else {"lw": 1.0, "alpha": 0.8}
        ax.plot(np.arange(1, len(errors) + 1), errors, marker="o", ms=2.5, label=method, **style)
    _tidy(ax, title, "steps ahead", "MAE (the series' unit)")
    _legend_below(ax)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return ax


def leaderboard(ax, scores: dict[str, float], title: str = "MASE (lower is better)"):
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
    """MAE of each stored forecast that has actuals, by issue order."""
    ax.plot(range(1, len(rows) + 1), [r["mae"] for r in rows], marker="o", color=PALETTE["forecast"])
    ax.set_xticks(range(1, len(rows) + 1), [r["origin"] for r in rows], rotation=30, fontsize=6)
    _tidy(ax, title, "forecast origin", "MAE (the series' unit)")
    return ax


def training_curves(ax, history: dict[str, Sequence[float]], title: str = "Training"):
    """Loss and validation loss per epoch; the learning rate on a second, labelled axis when recorded."""
    epochs = np.arange(1, len(history.get("loss", [])) + 1)
    ax.plot(epochs, history.get("loss", []), label="training loss", color=PALETTE["history"])
    if "val_loss" in history:
        ax.plot(epochs, history["val_loss"], label="validation loss", color=PALETTE["forecast"])
    handles, labels = ax.get_legend_handles_labels()
    lr = history.get("learning_rate") or history.get("lr")
    if lr:
        twin = ax.twinx()
        twin.plot(epochs[: len(lr)], lr, color=PALETTE["naive"], ls=":", label="learning rate (right axis)")
        twin.set_yscale("log")
        twin.set_ylabel("learning rate", fontsize=8)
        twin.tick_params(labelsize=7)
        more = twin.get_legend_handles_labels()
        handles, labels = handles + more[0], labels + more[1]
    _tidy(ax, title, "epoch", "loss")
    _legend_below(ax, items=(handles, labels))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return ax


def attention_weights(ax, weights: np.ndarray, title: str = "Where the attention model looked"):
    """Mean attention weight per lookback step (the most recent step on the right)."""
    mean = np.asarray(weights).mean(axis=0)
    ax.bar(np.arange(-len(mean), 0), mean, color=PALETTE["forecast"])
    _tidy(ax, title, "steps before the forecast origin", "weight")
    return ax


def bits_per_char(ax, val_bpc: Sequence[float], title: str = "Validation bits per character"):
    ax.plot(np.arange(1, len(val_bpc) + 1), val_bpc, marker="o", color=PALETTE["forecast"])
    _tidy(ax, title, "epoch", "bits per character")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
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

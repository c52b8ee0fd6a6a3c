"""Windows over series without Python loops: views from `sliding_window_view`, copied once.

A panel is a list of aligned arrays for one or more series: `target` (n,), optional `covariates` (n, c)
and `calendar` features (n, k). Each window's target is normalised by the mean and standard deviation of
its own lookback (so one model can serve series of any scale), the covariates by scalers fitted on the
training split only."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

EPS = 1e-6


@dataclass
class Panel:
    """One series' aligned inputs."""

    target: np.ndarray  # (n,)
    covariates: np.ndarray | None = None  # (n, c), already scaled
    calendar: np.ndarray | None = None  # (n, k)

    def __len__(self) -> int:
        return len(self.target)

    @property
    def n_features(self) -> int:
        extra = [a.shape[1] for a in (self.covariates, self.calendar) if a is not None]
        return 1 + sum(extra)


@dataclass
class Windows:
    x: np.ndarray  # (w, lookback, features): normalised inputs
    y: np.ndarray | None  # (w, horizon): normalised targets, None at prediction time
    loc: np.ndarray  # (w,) per-window location of the lookback target (its mean, or its last log value)
    scale: np.ndarray  # (w,) per-window spread (floored; 1 on the log scale)
    history: np.ndarray  # (w, lookback) raw lookback target
    series: np.ndarray  # (w,) index of the series each window came from
    log: bool = False  # normalised on the log scale: forecasts map back through exp

    def denormalise(self, pred: np.ndarray) -> np.ndarray:
        out = pred * self.scale[:, None] + self.loc[:, None]
        return np.exp(out) if self.log else out

    def __len__(self) -> int:
        return len(self.x)


def window_starts(n: int, lookback: int, horizon: int, stride: int = 1) -> np.ndarray:
    """Starts of every full (lookback + horizon) window, the last one flush with the end."""
    last = n - lookback - horizon
    if last < 0:
        return np.empty(0, dtype=np.int64)
    return np.arange(last % stride, last + 1, stride, dtype=np.int64)


def make_windows(
    panels: list[Panel],
    cfg,
    starts: list[np.ndarray],
    floor: np.ndarray,
    with_target: bool = True,
) -> Windows:
    """Windows starting at `starts[i]` in panel i, normalised as `cfg.scaling` says: 'standard' by each
    lookback's mean and standard deviation (`floor[i]` bounds it from below: a flat lookback would
    otherwise blow its targets up), 'log' on the log scale relative to the lookback's last value (the
    level, as ES-RNN normalises), for positive series."""
    lookback, horizon = cfg.lookback, cfg.horizon
    features = panels[0].n_features
    parts = [
        _panel_windows(p, lookback, horizon, s, with_target, features)
        for p, s in zip(panels, starts, strict=True)
    ]
    x = np.concatenate([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts]) if with_target else None
    hist = np.concatenate([p[2] for p in parts])
    series = np.concatenate([np.full(len(s), i, dtype=np.int64) for i, s in enumerate(starts)])
    log = cfg.scaling == "log"
    if log:
        logged = np.log(hist)
        loc, scale = logged[:, -1], np.ones(len(hist))
        x[:, :, 0] = logged - loc[:, None]
        if y is not None:
            y = np.log(y) - loc[:, None]
    else:
        loc = hist.mean(axis=1)
        scale = np.maximum(hist.std(axis=1), floor[series] + EPS)
        x[:, :, 0] = (x[:, :, 0] - loc[:, None]) / scale[:, None]
        if y is not None:
            y = (y - loc[:, None]) / scale[:, None]
    y = None if y is None else y.astype(np.float32)
    return Windows(x.astype(np.float32), y, loc, scale, hist, series, log)


def _panel_windows(panel: Panel, lookback: int, horizon: int, starts, with_target: bool, features: int):
    span = lookback + (horizon if with_target else 0)
    if len(starts) == 0 or len(panel) < span:
        empty = np.empty((0, lookback, features))
        return empty, np.empty((0, horizon)), np.empty((0, lookback))
    feats = [panel.target[:, None]] + [a for a in (panel.covariates, panel.calendar) if a is not None]
    matrix = np.concatenate(feats, axis=1).astype(np.float64)
    view = sliding_window_view(matrix, span, axis=0)  # (n - span + 1, features, span)
    chosen = view[starts].transpose(0, 2, 1)  # (w, span, features)
    x = np.array(chosen[:, :lookback, :])
    y = np.array(chosen[:, lookback:, 0]) if with_target else None
    return x, y, np.array(chosen[:, :lookback, 0])


def calendar_features(stamps: np.ndarray, freq: str | None) -> np.ndarray | None:
    """Sine/cosine of the cycles that matter at this frequency (hour of day, day of week, month)."""
    if freq is None:
        return None
    import pandas as pd

    t = pd.to_datetime(stamps, unit="s")
    base = freq.lstrip("0123456789").split("-")[0]
    cycles = []
    if base in ("h", "min", "s"):
        cycles.append((t.hour + t.minute / 60) / 24)
    if base in ("h", "min", "s", "D", "B"):
        cycles.append(t.day_of_week / 7)
    if base in ("D", "B", "W", "MS", "ME", "h"):
        cycles.append((t.day_of_year - 1) / 365.25)
    if base in ("MS", "ME", "QS", "QE"):
        cycles.append((t.month - 1) / 12)
    if not cycles:
        return None
    angles = 2 * np.pi * np.stack([np.asarray(c, dtype=np.float64) for c in cycles], axis=1)
    return np.concatenate([np.sin(angles), np.cos(angles)], axis=1)

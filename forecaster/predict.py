"""Issuing forecasts from a series' last observation, each series by what serves it: a stored network, its
combination with the statistical peers, or a method that is not a network; with intervals. Pure: the
pipelines load the subject and the stored version and store what comes back."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from forecaster import methods
from forecaster.config import ForecastConfig
from forecaster.evaluate import bounds, floors_for
from forecaster.intervals import BAND_LEVEL, LEVELS, Calibration, central_levels, quantiles_of, widened
from forecaster.methods import COMBINATION
from forecaster.scores import NETWORK
from forecaster.subject import Subject, full_panels
from forecaster.train import predict_heads
from forecaster.windows import make_windows

Bounds = dict[str, tuple[np.ndarray, np.ndarray]]  # level -> (lower, upper)


@dataclass(frozen=True)
class Ask:
    """What a forecast is asked for: how many steps, at which seasonal period, with which intervals."""

    horizon: int
    season: int
    levels: tuple[int, ...] = LEVELS

    @property
    def needed(self) -> tuple[int, ...]:
        """The levels computed: those asked and those the quantiles are read off."""
        return tuple(sorted({*self.levels, *central_levels()}))


@dataclass
class Version:
    """A stored forecasting network as it forecasts: its id, its configuration and metrics as stored."""

    id: int
    config: dict
    metrics: dict
    model: object

    @property
    def cfg(self) -> ForecastConfig:
        return ForecastConfig.from_json(self.config)


@dataclass
class Networked:
    """A stored network's forecasts of the series it can serve, ready to issue or combine."""

    architecture: str
    peers: tuple[str, ...]  # the statistical peers its combination takes
    forecasts: dict[int, tuple[np.ndarray, Bounds]]  # series index -> (point, bounds)
    factors: dict | None = None  # the combination's conformal factors (search.combination_factors)


@dataclass
class Row:
    """One series' issued forecast: what made it, the points, the interval bounds per level asked, and
    the quantiles (intervals.QUANTILES, (quantiles, horizon)) read off the central intervals."""

    label: str
    point: np.ndarray
    bounds: Bounds
    quantiles: np.ndarray

    @classmethod
    def of(cls, label: str, point: np.ndarray, limits: Bounds, ask: Ask) -> Row:
        """From a forecast with intervals at `ask.needed`: the asked ones kept, the quantiles read off."""
        asked = {lv: limits[lv] for lv in map(str, ask.levels) if lv in limits}
        return cls(label, point, asked, quantiles_of(point, limits))


def network_forecasts(version: Version, subject: Subject, ask: Ask, serve: dict[str, str]) -> Networked:
    """The network's forecasts of the series it serves (alone or in the combination) and can read a
    lookback of, with its conformal intervals."""
    cfg = version.cfg
    chosen = [
        i
        for i, n in enumerate(subject.names)
        if serve.get(n) in (NETWORK, COMBINATION) and len(subject.values[i]) >= cfg.lookback
    ]
    out = Networked(cfg.model, cfg.peers, {}, version.metrics.get("combination_factors"))
    if not chosen:
        return out
    panels = full_panels(subject, cfg.calendar, version.config.get("scalers"))
    starts = [
        np.array([len(p) - cfg.lookback]) if i in chosen else np.array([], dtype=np.int64)
        for i, p in enumerate(panels)
    ]
    floors = np.asarray(version.config.get("floors") or floors_for(panels, [len(p) for p in panels]))
    w = make_windows(panels, cfg, starts, floors, with_target=False)
    normalised, band = predict_heads(cfg, version.model, w)
    normalised = normalised[:, : ask.horizon]
    limits = bounds(w, normalised, Calibration.stored(version.metrics), ask.needed, band)
    point = w.denormalise(normalised)
    for k, i in enumerate(chosen):
        out.forecasts[i] = (point[k], {lv: (lo[k], hi[k]) for lv, (lo, hi) in limits.items()})
    return out


def served_forecasts(
    subject: Subject, serve: dict[str, str], ask: Ask, network: Networked | None = None
) -> list[Row]:
    """Each series' forecast: the network's where it serves the series (and could forecast it), its
    combination with the peers where that serves, else the series' own method."""
    peers = network.peers if network is not None else ()
    _prefetch(subject, serve, ask, peers)
    rows = []
    for i, values in enumerate(subject.values):
        method = serve.get(subject.names[i], "naive")
        networked = method in (NETWORK, COMBINATION) and network is not None and i in network.forecasts
        if networked and method == NETWORK:
            rows.append(Row.of(network.architecture, *network.forecasts[i], ask))
        elif networked:
            rows.append(Row.of(COMBINATION, *combined_forecast(network, i, values, ask), ask))
        else:
            method = "naive" if method in (NETWORK, COMBINATION) else method
            made = methods.forecast(values, method, ask.horizon, ask.season, ask.needed)
            rows.append(Row.of(method, *made, ask))
    return rows


def _prefetch(subject: Subject, serve: dict[str, str], ask: Ask, peers: tuple[str, ...]) -> None:
    """Fit each statistical peer once on every series that needs it, all of them at once."""
    fits = [
        (v, peer)
        for peer in methods.STATISTICAL
        for n, v in zip(subject.names, subject.values, strict=True)
        if serve.get(n) == peer or (serve.get(n) == COMBINATION and peer in peers)
    ]
    methods.prefetch(fits, ask.horizon, ask.season, ask.needed)


def combined_forecast(network: Networked, i: int, values: np.ndarray, ask: Ask) -> tuple:
    """The median of the network's forecast of series i and each peer's; each interval bound the median
    of the members' (where every member has that level), or, where the version conformalised them, the
    members' median BAND_LEVEL band scaled to each level by the factors its backtest fitted."""
    peers = [methods.forecast(values, p, ask.horizon, ask.season, ask.needed) for p in network.peers]
    members = [network.forecasts[i], *peers]
    point = np.median([m[0] for m in members], axis=0)
    limits = {}
    for level in map(str, ask.needed):
        if all(level in m[1] for m in members):
            lo = np.median([m[1][level][0] for m in members], axis=0)
            hi = np.median([m[1][level][1] for m in members], axis=0)
            limits[level] = (np.minimum(lo, point), np.maximum(hi, point))
    band = limits.get(str(BAND_LEVEL))
    if network.factors and band is not None:
        return point, widened(point, *band, network.factors, ask.needed)
    return point, limits


def fallback_serve(subject: Subject, ask: Ask, confidence: float, peers: tuple[str, ...]) -> dict[str, str]:
    """With no network: each series' best method by a backtest of the methods alone."""
    chosen = methods.serve(
        subject.values, ask.horizon, ask.season, confidence, methods.names_for(ask.season, peers)
    )
    return dict(zip(subject.names, chosen, strict=True))

"""The statistical peers a network must beat: statsforecast's AutoETS and AutoTheta (and, when asked,
AutoARIMA, or MSTL for series with two cycles), the methods a user would otherwise run in a line of code
(the M3/M4 competitions' strong benchmarks).

Backtests place them as statsforecast's `cross_validation(refit=False)` does: each series' model is chosen
and fitted once, on what comes before its first origin, and carried forward over the later origins with the
same parameters (`forward`): one fit a series, not one an origin. A fit that fails (too few points for the
model) gives the naive forecast, so every method forecasts every window."""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import warnings
from concurrent.futures import Executor

import numpy as np

from core.smoke import smoke_points
from forecaster.baselines import LONGER
from forecaster.intervals import BAND_LEVEL

STATISTICAL = ("auto_ets", "auto_theta", "auto_arima", "mstl")
ETS_MAX_SEASON = 24  # statsforecast's ETS models no longer season; longer ones fit without it
PARALLEL_FROM = 64  # series: fewer fit faster here than worker processes start


def seasons_of(season: int, n: int) -> list[int]:
    """The cycles MSTL removes from a series of `n` points: the season and the longer one it implies, each
    where the series holds two of it."""
    return [s for s in (season, LONGER.get(season, 0)) if s > 1 and 2 * s < n]


def _model(method: str, season: int, n: int):
    from statsforecast.models import MSTL, AutoARIMA, AutoETS, AutoTheta

    if method == "mstl":
        seasons = seasons_of(season, n)
        if not seasons:
            raise ValueError("no cycle to remove")
        return MSTL(season_length=seasons, trend_forecaster=AutoETS(model="ZZN"))
    if method == "auto_arima":
        return AutoARIMA(season_length=max(season, 1))
    if method == "auto_ets":
        return AutoETS(season_length=season if 1 < season <= ETS_MAX_SEASON else 1)
    if method == "auto_theta":
        return AutoTheta(season_length=max(season, 1))
    raise ValueError(f"unknown statistical method {method!r}")


@contextlib.contextmanager
def _quiet():
    """statsforecast's warnings and NumPy's floating-point complaints, silenced around one fit or forecast."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        yield


def _naive(values: np.ndarray, horizon: int) -> np.ndarray:
    return np.full(horizon, float(values[-1]))


def _fitted(method: str, values: np.ndarray, season: int):
    """The fitted model, or None where the method cannot fit these points (or fits nonsense)."""
    cap = smoke_points()
    values = values[-cap:] if cap else values
    try:
        with _quiet():
            return _model(method, season, len(values)).fit(np.asarray(values, dtype=np.float64))
    except Exception:
        return None


def _finite(out: dict, key: str, fallback: np.ndarray) -> np.ndarray:
    values = np.asarray(out.get(key, fallback), dtype=np.float64)
    return values if np.all(np.isfinite(values)) else fallback


Banded = tuple[np.ndarray, np.ndarray, np.ndarray]  # (points, lower, upper), each (origins, horizon)


def from_origins(values: np.ndarray, origins: np.ndarray, horizon: int, season: int, method: str) -> Banded:
    """`method`'s forecast from each origin with its own BAND_LEVEL interval (NaN where it gives none):
    fitted before the first origin, carried forward to the others."""
    out = np.empty((len(origins), horizon))
    lo, hi = np.full_like(out, np.nan), np.full_like(out, np.nan)
    if len(origins) == 0:
        return out, lo, hi
    model = _fitted(method, values[: int(origins[0])], season)
    level, cap = [BAND_LEVEL], smoke_points()
    for j, origin in enumerate(origins):
        history = values[max(0, int(origin) - cap) if cap else 0 : int(origin)]
        naive = _naive(history, horizon)
        out[j] = naive
        if model is None:
            continue
        try:
            with _quiet():
                step = (
                    model.predict(horizon, level=level)
                    if j == 0
                    else model.forward(history, h=horizon, level=level)
                )
            out[j] = _finite(step, "mean", naive)
            lo[j] = _finite(step, f"lo-{BAND_LEVEL}", lo[j])
            hi[j] = _finite(step, f"hi-{BAND_LEVEL}", hi[j])
        except Exception:
            out[j] = naive
    return out, lo, hi


def forecast(
    values: np.ndarray, method: str, horizon: int, season: int, levels: tuple[int, ...]
) -> tuple[np.ndarray, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """`method` fitted on the whole series: its forecast and its own prediction intervals at `levels`
    (none where it could not fit: the naive forecast then). The same series asked again (the issued
    forecast, then the table of every method) is answered from memory: a fit is deterministic."""
    values = np.ascontiguousarray(values, dtype=np.float64)
    key = (values.tobytes(), method, horizon, season, tuple(levels))
    if key not in _MEMORY:
        _remember(*key, _forecast(values, method, horizon, season, tuple(levels)))
    point, bounds = _MEMORY[key]
    return point.copy(), {lv: (lo.copy(), hi.copy()) for lv, (lo, hi) in bounds.items()}


_MEMORY: dict[tuple, tuple] = {}
MEMORY_SIZE = 8192  # forecasts kept: a nightly's subjects one at a time, each fitted once


def _remember(data: bytes, method: str, horizon: int, season: int, levels: tuple, out: tuple) -> None:
    _keep(_MEMORY, (data, method, horizon, season, levels), out)


def _keep(memory: dict, key: tuple, value) -> None:
    """`value` kept under `key`, the oldest entry dropped where MEMORY_SIZE are kept."""
    while len(memory) >= MEMORY_SIZE:
        memory.pop(next(iter(memory)))
    memory[key] = value


def _forecast(values: np.ndarray, method: str, horizon: int, season: int, levels: tuple[int, ...]):
    naive = _naive(values, horizon)
    model = _fitted(method, values, season)
    if model is None:
        return naive, {}
    try:
        with _quiet():
            out = model.predict(horizon, level=list(levels)) if levels else model.predict(horizon)
    except Exception:
        return naive, {}
    point = _finite(out, "mean", naive)
    bounds = {}
    for level in levels:
        lo, hi = out.get(f"lo-{level}"), out.get(f"hi-{level}")
        if lo is not None and hi is not None and np.all(np.isfinite(lo)) and np.all(np.isfinite(hi)):
            bounds[str(level)] = (np.minimum(lo, point), np.maximum(hi, point))
    return point, bounds


def workers() -> int:
    """Processes for many series' fits: the CPUs this process may use, no more than an executor's
    allotment (Ray sets OMP_NUM_THREADS to a task's CPUs)."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    allotted = os.environ.get("OMP_NUM_THREADS", "")
    return max(1, min(cpus, int(allotted))) if allotted.isdigit() and int(allotted) > 0 else cpus


@functools.cache
def _pool(n: int) -> Executor:
    """Worker processes started fresh (spawn: never a fork of a process that runs TensorFlow's threads),
    kept for the life of this process."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("spawn"))
    atexit.register(pool.shutdown, cancel_futures=True)
    return pool


def _map(fn, *columns) -> list:
    """`map` over worker processes where there is much to do; here, in this process, where there is little,
    one CPU, or the workers cannot start (a script without a `__main__` guard cannot spawn them)."""
    from concurrent.futures.process import BrokenProcessPool

    n = workers()
    if n < 2 or len(columns[0]) < PARALLEL_FROM or _SERIAL:
        return list(map(fn, *columns))
    chunk = max(1, len(columns[0]) // (4 * n))
    try:
        return list(_pool(n).map(fn, *columns, chunksize=chunk))
    except (BrokenProcessPool, RuntimeError):
        _pool.cache_clear()
        _SERIAL.append(True)
        return list(map(fn, *columns))


_SERIAL: list[bool] = []  # set once worker processes have failed to start in this process


def from_origins_many(
    values: list[np.ndarray], origins: list[np.ndarray], horizon: int, season: int, method: str
) -> list[np.ndarray]:
    """`from_origins`' points for many series at once, over worker processes where there are many; the
    bands are kept for `bands_many`."""
    return [points for points, _lo, _hi in _banded_many(values, origins, horizon, season, method)]


def bands_many(
    values: list[np.ndarray], origins: list[np.ndarray], horizon: int, season: int, method: str
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each series' BAND_LEVEL interval from each origin (lower, upper): from the backtest that made the
    points where it ran in this process, else fitted again."""
    return [(lo, hi) for _points, lo, hi in _banded_many(values, origins, horizon, season, method)]


_BANDED: dict[tuple, Banded] = {}  # the backtests run in this process, by their inputs


def _banded_many(values, origins, horizon: int, season: int, method: str) -> list[Banded]:
    keys = [
        (
            np.ascontiguousarray(v, dtype=np.float64).tobytes(),
            np.asarray(o).tobytes(),
            horizon,
            season,
            method,
        )
        for v, o in zip(values, origins, strict=True)
    ]
    found = {key: _BANDED[key] for key in keys if key in _BANDED}
    todo = [k for k, key in enumerate(keys) if key not in found]
    n = len(todo)
    done = _map(
        from_origins,
        [values[k] for k in todo],
        [origins[k] for k in todo],
        [horizon] * n,
        [season] * n,
        [method] * n,
    )
    for k, out in zip(todo, done, strict=True):
        found[keys[k]] = out
        _keep(_BANDED, keys[k], out)
    return [found[key] for key in keys]


def remember_many(fits: list[tuple[np.ndarray, str]], horizon: int, season: int, levels: tuple) -> None:
    """Fit each (series, method) pair on the whole series, all of them at once (over worker processes where
    there are many, whatever the method: a night whose series two peers serve fits them in one map, not
    two that may each be too few to spread), so that the `forecast` of each is answered from memory."""
    levels = tuple(levels)
    todo = []
    for values, method in fits:
        v = np.ascontiguousarray(values, dtype=np.float64)
        if (v.tobytes(), method, horizon, season, levels) not in _MEMORY:
            todo.append((v, method))
    n = len(todo)
    done = _map(
        _forecast, [v for v, _ in todo], [m for _, m in todo], [horizon] * n, [season] * n, [levels] * n
    )
    for (v, method), out in zip(todo, done, strict=True):
        _remember(v.tobytes(), method, horizon, season, levels, out)

"""Loading a forecasting subject from the store into aligned arrays, and turning them into panels."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from db import series as q
from db.engine import read_session
from db.errors import InputError
from db.settings import Settings
from forecaster.windows import Panel, calendar_features


@dataclass
class Subject:
    name: str
    names: list[str]
    ids: list[int]
    ts: list[np.ndarray]
    values: list[np.ndarray]
    time_kind: str
    freq: str | None
    covariate_names: list[str]
    covariates: list[np.ndarray] | None  # per series (n, c), aligned with ts


def load(settings: Settings, name: str, covariates: tuple[str, ...] = ()) -> Subject:
    with read_session(settings) as session:
        subject = q.resolve(session, name)
        members = subject.series
        if not members:
            raise InputError(f"group {name!r} has no series")
        cov_names = _covariate_names(session, subject, covariates)
        arrays = [_points(session, s) for s in members]
        cov = None
        if cov_names:
            cov_series = [q.resolve(session, c).series[0] for c in cov_names]
            cov = [_align(arrays[0][0], [_points(session, c) for c in cov_series], cov_names)]
    kinds = {s.time_kind for s in members}
    freqs = {s.freq for s in members}
    if len(kinds) > 1 or len(freqs) > 1:
        raise InputError(f"group {name!r} mixes time kinds or frequencies ({sorted(map(str, freqs))})")
    return Subject(
        name,
        [s.name for s in members],
        [s.id for s in members],
        [a[0] for a in arrays],
        [a[1] for a in arrays],
        members[0].time_kind,
        members[0].freq,
        cov_names,
        cov,
    )


def _points(session, s) -> tuple[np.ndarray, np.ndarray]:
    if s.n_gaps:
        raise InputError(
            f"series {s.name!r} has {s.n_gaps} missing time steps; models need a regular series: re-ingest "
            "it with --fill ffill or --fill interpolate"
        )
    ts, values = q.load_points(session, s.id)
    return np.asarray(ts, dtype=np.int64), np.asarray(values, dtype=np.float64)


def _covariate_names(session, subject, covariates: tuple[str, ...]) -> list[str]:
    if not covariates:
        return []
    if subject.group is not None:
        raise InputError("covariates need a single target series; a group is forecast as a global model")
    target = subject.series[0]
    if covariates == ("group",):
        if target.group is None:
            raise InputError(f"--covariates group: series {target.name!r} is not in a group")
        return [s.name for s in target.group.members if s.id != target.id]
    for c in covariates:
        q.resolve(session, c)  # a clear error, listing the existing ones, for an unknown name
    return list(covariates)


def _align(ts: np.ndarray, others: list[tuple[np.ndarray, np.ndarray]], names: list[str]) -> np.ndarray:
    out = np.empty((len(ts), len(others)))
    for j, (cts, cvalues) in enumerate(others):
        pos = np.clip(np.searchsorted(cts, ts), 0, max(len(cts) - 1, 0))
        ok = len(cts) > 0 and np.all(cts[pos] == ts)
        if not ok:
            raise InputError(f"covariate {names[j]!r} does not cover every time stamp of the target series")
        out[:, j] = cvalues[pos]
    return out


def panels(subject: Subject, calendar: bool, fit_until: list[int], scalers: dict | None = None):
    """Panels for each series; covariates scaled with statistics of the points before `fit_until` (the
    training split) unless `scalers` (from a stored model) are given."""
    out, fitted = [], scalers or {}
    for i, values in enumerate(subject.values):
        cov = None
        if subject.covariates is not None:
            raw = subject.covariates[i]
            if not scalers:
                mean, std = raw[: fit_until[i]].mean(axis=0), raw[: fit_until[i]].std(axis=0)
                fitted = {"mean": mean.tolist(), "std": np.where(std > 0, std, 1.0).tolist()}
            cov = (raw - np.asarray(fitted["mean"])) / np.asarray(fitted["std"])
        cal = (
            calendar_features(subject.ts[i], subject.freq)
            if calendar and subject.time_kind == "datetime"
            else None
        )
        out.append(Panel(values, cov, cal))
    return out, fitted


def future_stamps(last: int, kind: str, freq: str | None, horizon: int) -> np.ndarray:
    if kind == "int":
        return last + int(freq or 1) * np.arange(1, horizon + 1, dtype=np.int64)
    import pandas as pd

    from db.timeaxis import to_offset

    index = pd.date_range(pd.Timestamp(last, unit="s"), periods=horizon + 1, freq=to_offset(freq))
    return index.as_unit("s").asi8[1:]

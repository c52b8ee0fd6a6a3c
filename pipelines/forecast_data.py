"""Loading a forecasting subject from the store into aligned arrays (forecaster.subject), keeping what
training decides about it, and the time stamps of what a forecast issues."""

from __future__ import annotations

import numpy as np

from core.errors import InputError, RecurError
from core.settings import Settings
from db import series as q
from db.engine import read_session
from db.tables import Series
from forecaster.subject import Subject


def parse_time(text: str, kind: str, option: str = "--until") -> int:
    """A time as the user writes it, in the series' own form (a step index, or a date/time in UTC), read
    by the same parser as ingest."""
    import pandas as pd

    from readers.timeaxis import TimeParser

    parser = TimeParser(kind, None if kind == "int" else "ISO8601")
    stamps, bad = parser.parse(pd.Series([text], dtype=object))
    if bad[0]:
        want = "an integer step" if kind == "int" else "a date or date-time such as 1960-06-01"
        raise InputError(f"{option} {text!r} is not {want}")
    return int(stamps[0])


def load(
    settings: Settings,
    name: str,
    covariates: tuple[str, ...] = (),
    until: str | None = None,
    holdout: int = 0,
    option: str = "--until",
) -> Subject:
    """A subject's points; with `until`, only those at or before that time (what was known then); with
    `holdout`, all but each series' last `holdout` points."""
    with read_session(settings) as session:
        subject = q.resolve(session, name)
        members = subject.series
        if not members:
            raise InputError(f"group {name!r} has no series")
        cov_names = _covariate_names(session, subject, covariates)
        arrays = [
            _cut(_points(session, s), s.name, members[0].time_kind, until, holdout, option) for s in members
        ]
        seasons = {s.season for s in members}
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
        seasons.pop() if len(seasons) == 1 else None,
    )


def _cut(arrays, name: str, kind: str, until: str | None, holdout: int, option: str = "--until"):
    ts, values = arrays
    if until is not None:
        keep = ts <= parse_time(until, kind, option)
        ts, values = ts[keep], values[keep]
    if holdout:
        ts, values = ts[:-holdout], values[:-holdout]
    if len(ts) < 2:
        raise InputError(
            f"series {name!r} has {len(ts)} points before the cut"
            + (f" ({option} {until})" if until is not None else f" (--holdout {holdout})")
        )
    return ts, values


def store_season(session, subject: Subject, season: int) -> None:
    """Keep the season given at train with the series, so forecasts without a model use it too (in the
    caller's transaction)."""
    for sid in subject.ids:
        session.get(Series, sid).season = season


def changed(session, subject: Subject) -> str | None:
    """Why the store no longer holds the data `subject` was read from, or None where it still does (points
    appended since do not count): a run that trained on it registers nothing then."""
    try:
        members = q.resolve(session, subject.name).series
    except RecurError:
        return f"{subject.name!r} was deleted"
    if [m.id for m in members] != list(subject.ids):
        return f"{subject.name!r} was deleted and ingested again, or its series changed"
    for member, ts, values in zip(members, subject.ts, subject.values, strict=True):
        now_ts, now_values = q.load_points(session, member.id)
        n = len(ts)
        same = len(now_ts) >= n and np.array_equal(np.asarray(now_ts[:n], dtype=np.int64), ts)
        if not same or not np.array_equal(np.asarray(now_values[:n], dtype=np.float64), values):
            return f"series {member.name!r} had points replaced"
    return None


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


def future_stamps(last: int, kind: str, freq: str | None, horizon: int) -> np.ndarray:
    if kind == "int":
        return last + int(freq or 1) * np.arange(1, horizon + 1, dtype=np.int64)
    import pandas as pd

    from readers.timeaxis import to_offset

    index = pd.date_range(pd.Timestamp(last, unit="s"), periods=horizon + 1, freq=to_offset(freq))
    return index.as_unit("s").asi8[1:]

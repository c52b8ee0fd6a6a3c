"""Forecast vintages: predicting forward with the champion (or seasonal naive), storing each forecast with
the model version that made it, scoring past vintages, exporting them."""

from __future__ import annotations

import shlex
from dataclasses import dataclass

import numpy as np

from core.errors import NotFoundError, RecurError
from core.files import write_atomic
from core.outputs import csv_safe, may_replace, output_format, output_path, record_written
from core.settings import Settings
from core.timefmt import format_ts
from db import forecasts as fq
from db import series as q
from db.engine import read_session, write_session
from db.forecasts import Choice, Points, latest_choices, other_options, stored_vintage, upsert_forecast
from forecaster import methods
from forecaster import metrics as m
from forecaster.baselines import season_for
from forecaster.config import PEERS, ForecastConfig
from forecaster.holdout import arrived_scores
from forecaster.intervals import LEVELS, QUANTILES
from forecaster.predict import Ask, Row, Version, fallback_serve, network_forecasts, served_forecasts
from forecaster.scores import NETWORK
from forecaster.search import CONFIDENCE, count_methods
from forecaster.subject import Subject, season_of
from pipelines import forecast_data as fd
from runtime.artifacts import load_champion


@dataclass(frozen=True)
class PredictOptions:
    """How `forecast predict` is asked: steps (the model's own by default), which version (the champion
    by default), interval levels, a seasonal period for the methods, the origin, and what to do where a
    vintage of the same origin, method and version is stored with other options: refuse, `replace` it,
    or `keep` it and store nothing for that series (what a schedule does: a person's earlier forecast
    never blocks the nightly, and the nightly never overwrites it)."""

    horizon: int | None = None
    version: int | None = None
    levels: tuple[int, ...] = LEVELS
    season: int = 0
    as_of: str | None = None
    replace: bool = False
    keep: bool = False


def predict_forecast(settings: Settings, name: str, options: PredictOptions = PredictOptions()) -> dict:
    """Forecast every series of the subject from its last observation (or from `as_of`), each by what
    serves it: the champion's network where it beat the series' best baseline in the backtest, else that
    baseline; with no champion, each series' best baseline by a backtest of the baselines (`_chosen`).
    Conformal intervals; stored as a vintage (upserted: the same data, model and options give the same
    rows; other options at a stored origin are refused unless `replace`)."""
    o = options
    stored = load_champion(settings, "forecaster", name, o.version)
    if stored is None:
        subject = fd.load(settings, name, until=o.as_of, option="--as-of")
        ask = Ask(o.horizon or DEFAULT_HORIZON, season_of(subject, o.season), o.levels)
        chosen, kept = _chosen(settings, subject, ask)
        serve = {n: c.method for n, c in chosen.items()}
        out = _issue(settings, subject, served_forecasts(subject, serve, ask), None, o, chosen)
        first = chosen[subject.names[0]].origin
        origin = format_ts(first, subject.time_kind, subject.freq)
        return out | {"chosen": {"origin": origin, "kept": kept, "again_after": ask.horizon}}
    version = Version(stored.id, stored.config, stored.metrics, stored.model)
    cfg = version.cfg
    horizon = o.horizon or cfg.horizon
    if horizon > cfg.horizon:
        raise RecurError(
            f"--horizon {horizon}: model version {version.id} forecasts {cfg.horizon} steps; "
            f"train one with --horizon {horizon}"
        )
    covariates = tuple(version.config.get("covariates") or ())
    subject = fd.load(settings, name, covariates, until=o.as_of, option="--as-of")
    serve = version.metrics.get("serve") or dict.fromkeys(subject.names, NETWORK)
    ask = Ask(horizon, o.season or season_of(subject, cfg.season), o.levels)
    rows = served_forecasts(subject, serve, ask, network_forecasts(version, subject, ask, serve))
    return _issue(settings, subject, rows, version.id, o)


DEFAULT_HORIZON = ForecastConfig.horizon


def _chosen(settings: Settings, subject: Subject, ask: Ask) -> tuple[dict[str, Choice], bool]:
    """Each series' method with no champion, and whether an earlier choice was kept. The backtest of every
    baseline and peer on every series is most of a night's cost on long series (bench/fallback.py: M4
    Weekly 222-239 s a night, 43 s with the choice kept), and a night's new observation hardly moves it:
    the methods of the newest vintages issued without a model serve again while every series has gained
    fewer than a horizon of observations since the backtest that chose them, at the same horizon and
    season; else a backtest chooses afresh, for every series (the choice weighs them together)."""
    kept = _kept_choices(settings, subject, ask)
    if kept is not None:
        return kept, True
    serve = fallback_serve(subject, ask, CONFIDENCE, PEERS)
    made = zip(subject.names, subject.ts, strict=True)
    return {n: Choice(serve[n], int(ts[-1]), ask.season) for n, ts in made}, False


def _kept_choices(settings: Settings, subject: Subject, ask: Ask) -> dict[str, Choice] | None:
    names = set(methods.names_for(ask.season, PEERS))
    until = max(int(ts[-1]) for ts in subject.ts)
    with read_session(settings) as session:
        found = latest_choices(session, subject.ids, ask.horizon, until)
    kept = {}
    for name, sid, ts in zip(subject.names, subject.ids, subject.ts, strict=True):
        choice = found.get(sid)
        usable = choice is not None and choice.method in names and choice.season == ask.season
        if not usable or choice.origin > ts[-1] or np.count_nonzero(ts > choice.origin) >= ask.horizon:
            return None
        kept[name] = choice
    return kept


def _issue(
    settings: Settings,
    subject: Subject,
    rows: list[Row],
    vid: int | None,
    o: PredictOptions,
    chosen: dict[str, Choice] | None = None,
) -> dict:
    """Each series' forecast stored with its method and the version that chose it (or, with none, how its
    method was chosen)."""
    out = _store_vintage(settings, subject, rows, vid, o, chosen or {})
    counts = count_methods(r.label for r in rows)
    method = rows[0].label if len(counts) == 1 else "mixed"
    return {"subject": subject.name, "method": method, "model_version": vid, "served": counts} | out


def _store_vintage(settings, subject, rows, version_id, o: PredictOptions, chosen: dict) -> dict:
    out = []
    with write_session(settings) as session:
        for i, row in enumerate(rows):
            last = int(subject.ts[i][-1])
            stamps = fd.future_stamps(last, subject.time_kind, subject.freq, len(row.point))
            points = _points(stamps.tolist(), row)
            held = stored_vintage(session, subject.ids[i], version_id, row.label, last) if o.keep else None
            kept = held is not None and other_options(session, held, points)
            if kept:
                out.append({"series": subject.names[i], "forecast_id": held.id, "kept": f"{kept}; kept"})
                continue
            choice = chosen.get(subject.names[i])
            fid = upsert_forecast(
                session, subject.ids[i], version_id, row.label, last, points, o.replace, choice
            )
            out.append(
                {
                    "series": subject.names[i],
                    "method": row.label,
                    "forecast_id": fid,
                    "origin": format_ts(last, subject.time_kind, subject.freq),
                    "points": len(stamps),
                    "intervals": sorted(row.bounds, key=int),
                    "values": [
                        {"time": format_ts(int(t), subject.time_kind, subject.freq), "value": v}
                        | _columns(b, qs)
                        for t, v, b, qs in zip(
                            stamps, points.values, points.intervals, points.quantiles, strict=True
                        )
                    ],
                }
            )
    return {"forecasts": out}


def _points(stamps: list[int], row: Row) -> Points:
    """A row's points as stored: bounds per level, quantiles by their level ("0.1"); every number to
    STORED_DIGITS significant digits (the point the same as its median quantile)."""
    steps = range(len(row.point))
    return Points(
        stamps,
        [_kept(v) for v in row.point],
        [{lv: [_kept(lo[k]), _kept(hi[k])] for lv, (lo, hi) in row.bounds.items()} for k in steps],
        [{str(q): _kept(row.quantiles[j, k]) for j, q in enumerate(QUANTILES)} for k in steps],
    )


# A point's bounds and quantiles are JSON text in the store, 13 numbers a point: at a float's full 17
# digits they were most of a vintage's bytes, and vintages most of a nightly store's growth. Eight digits
# are more than a float32 network's outputs carry and than any interval's own uncertainty.
STORED_DIGITS = 8


def _kept(v) -> float:
    return float(f"{float(v):.{STORED_DIGITS}g}")


def _columns(intervals: dict | None, quantiles: dict | None) -> dict:
    """A point's interval and quantile columns: lower80, upper80, ..., q10 ... q90."""
    out = {}
    for level, (lo, hi) in sorted((intervals or {}).items(), key=lambda kv: int(kv[0])):
        out |= {f"lower{level}": lo, f"upper{level}": hi}
    for level, v in sorted((quantiles or {}).items(), key=lambda kv: float(kv[0])):
        out[f"q{round(100 * float(level))}"] = v
    return out


def score_vintages(settings: Settings, name: str) -> list[dict]:
    """How each stored vintage did against the actuals ingested since it was issued: MAE, sMAPE, MASE,
    WQL over its quantiles, MSIS at 95% and each interval's coverage."""
    rows = []
    with read_session(settings) as session:
        subject = q.resolve(session, name)
        by_id = {s.id: s for s in subject.series}
        observed = {sid: fq.observations(session, sid) for sid in by_id}
        chosen = fq.vintages(session, list(by_id))
        stored = fq.points_of(session, [f.id for f in chosen if f.scores is None])
        for f in chosen:
            series = by_id[f.series_id]
            row = {
                "series": series.name,
                "forecast_id": f.id,
                "method": f.method,
                "model_version": f.model_version_id,
                "origin": format_ts(f.origin_ts, series.time_kind),
                "issued": f.issued_at.isoformat(sep=" ", timespec="seconds"),
                "horizon": 0,
                "arrived": 0,
            }
            if f.scores is not None:  # its points were pruned once every actual had arrived
                rows.append(row | f.scores)
                continue
            points = stored.get(f.id, [])
            rows.append(row | vintage_scores(points, observed[f.series_id], f.origin_ts, series))
    return rows


def vintage_scores(points: list, observed: tuple[np.ndarray, np.ndarray], origin: int, series) -> dict:
    """One vintage's scores over its points whose actuals have arrived (`observed`: the series' time
    stamps and values in time order)."""
    ts, values = observed
    at = np.searchsorted(ts, [p.ts for p in points])
    hit = [k < len(ts) and ts[k] == p.ts for k, p in zip(at, points, strict=True)]
    seen = [p for p, h in zip(points, hit, strict=True) if h]
    out = {"horizon": len(points), "arrived": len(seen)}
    if not seen:
        return out
    a = values[[k for k, h in zip(at, hit, strict=True) if h]]
    point = np.array([p.value for p in seen])
    season = series.season or season_for(series.freq, series.time_kind)
    quantiles = None
    if all(p.quantiles for p in seen):
        quantiles = np.array([[p.quantiles[str(q)] for p in seen] for q in QUANTILES])
    bounds = {}
    for level in map(str, LEVELS):
        if all(p.intervals and level in p.intervals for p in seen):
            bounds[level] = tuple(np.array([p.intervals[level] for p in seen]).T)
    past = values[ts <= origin]
    out |= arrived_scores(a, point, past, season, quantiles, bounds.get("95"))
    return out | {f"coverage{lv}": m.coverage(a, lo, hi) for lv, (lo, hi) in bounds.items()}


def export_forecasts(
    settings: Settings, name: str, out, latest_only: bool = True, force: bool = False
) -> dict:
    """Vintages as CSV or JSON (by the file's suffix), one row per forecast point."""
    records = [
        {k: v for k, v in r.items() if k != "forecast_id"}
        for r in forecast_records(settings, name, latest_only)
    ]
    if not records:
        raise RecurError(
            f"no forecasts stored for {name!r}; run `recur forecast predict {shlex.quote(name)}` first"
        )
    return write_records(settings, records, out, f"{name}-forecast", force)


def forecast_records(
    settings: Settings, name: str, latest_only: bool = True, vintage: int | None = None
) -> list[dict]:
    """One row per forecast point, with its intervals: each series' latest vintage, every vintage, or the
    one with id `vintage`."""
    records = []
    with read_session(settings) as session:
        subject = q.resolve(session, name)
        by_id = {s.id: s for s in subject.series}
        chosen = fq.vintages(session, list(by_id))
        if vintage is not None:
            chosen = [f for f in chosen if f.id == vintage]
            if not chosen:
                raise NotFoundError(f"no forecast {vintage} of {name!r}; its vintages list the ids")
        elif latest_only:
            last = {}
            for f in chosen:
                last[f.series_id] = f  # ordered by origin, so the last one wins
            chosen = list(last.values())
        stored = fq.points_of(session, [f.id for f in chosen])
        for f in chosen:
            kind = by_id[f.series_id].time_kind
            for p in stored.get(f.id, []):
                rec = {
                    "series": by_id[f.series_id].name,
                    "forecast_id": f.id,
                    "origin": format_ts(f.origin_ts, kind),
                    "issued_at": f.issued_at.isoformat(sep=" ", timespec="seconds"),
                    "method": f.method,
                    "model_version": f.model_version_id,
                    "time": format_ts(p.ts, kind),
                    "step": p.step,
                    "value": p.value,
                }
                records.append(rec | _columns(p.intervals, p.quantiles))
    return records


def write_records(settings: Settings, records: list[dict], out, stem: str, force: bool = False) -> dict:
    """Rows as CSV or JSON (by the file's suffix; CSV into a directory), written atomically; a file recur
    did not write is replaced only with `force`."""
    import json

    import pandas as pd

    fmt = output_format(settings, out, None, {".csv": "csv", ".json": "json"}, "csv")
    target = output_path(settings, out, stem, f".{fmt}")
    may_replace(settings, target, force)
    if fmt == "json":
        write_atomic(target, lambda tmp: tmp.write_text(json.dumps(records, indent=1)))
    else:
        safe = [{csv_safe(k): csv_safe(v) for k, v in r.items()} for r in records]
        write_atomic(target, lambda tmp: pd.DataFrame(safe).to_csv(tmp, index=False))
    record_written(settings, target)
    return {"path": str(target), "rows": len(records)}

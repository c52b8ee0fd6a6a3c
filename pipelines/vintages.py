"""Forecast vintages: predicting forward with the champion (or seasonal naive), storing each forecast with
the model version that made it, scoring past vintages, exporting them."""

from __future__ import annotations

import shlex
from dataclasses import dataclass

import numpy as np

from core.errors import NotFoundError, RecurError
from core.files import write_atomic
from core.outputs import csv_safe, output_format, output_path
from core.settings import Settings
from core.timefmt import format_ts
from db import forecasts as fq
from db import series as q
from db.engine import read_session, write_session
from db.forecasts import upsert_forecast
from forecaster import metrics as m
from forecaster.config import PEERS, ForecastConfig
from forecaster.intervals import LEVELS
from forecaster.predict import Ask, Row, Version, fallback_serve, network_forecasts, served_forecasts
from forecaster.scores import NETWORK
from forecaster.search import CONFIDENCE, count_methods
from forecaster.subject import Subject, season_of
from pipelines import forecast_data as fd
from runtime.artifacts import load_champion


@dataclass(frozen=True)
class PredictOptions:
    """How `forecast predict` is asked: steps (the model's own by default), which version (the champion
    by default), interval levels, a seasonal period for the methods, the origin, whether to replace."""

    horizon: int | None = None
    version: int | None = None
    levels: tuple[int, ...] = LEVELS
    season: int = 0
    as_of: str | None = None
    replace: bool = False


def predict_forecast(settings: Settings, name: str, options: PredictOptions = PredictOptions()) -> dict:
    """Forecast every series of the subject from its last observation (or from `as_of`), each by what
    serves it: the champion's network where it beat the series' best baseline in the backtest, else that
    baseline; with no champion, each series' best baseline by a backtest of the baselines. Conformal
    intervals; stored as a vintage (upserted: the same data, model and options give the same rows; other
    options at a stored origin are refused unless `replace`)."""
    o = options
    stored = load_champion(settings, "forecaster", name, o.version)
    if stored is None:
        subject = fd.load(settings, name, until=o.as_of, option="--as-of")
        ask = Ask(o.horizon or DEFAULT_HORIZON, season_of(subject, o.season), o.levels)
        serve = fallback_serve(subject, ask, CONFIDENCE, PEERS)
        return _issue(settings, subject, served_forecasts(subject, serve, ask), None, o.replace)
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
    return _issue(settings, subject, rows, version.id, o.replace)


DEFAULT_HORIZON = ForecastConfig.horizon


def _issue(settings: Settings, subject: Subject, rows: list[Row], vid: int | None, replace: bool) -> dict:
    """Each series' forecast stored with its method and the version that chose it."""
    out = _store_vintage(settings, subject, rows, vid, replace)
    counts = count_methods(r.label for r in rows)
    method = rows[0].label if len(counts) == 1 else "mixed"
    return {"subject": subject.name, "method": method, "model_version": vid, "served": counts} | out


def _store_vintage(settings, subject, rows, version_id, replace: bool = False) -> dict:
    out = []
    with write_session(settings) as session:
        for i, row in enumerate(rows):
            label, point, limits = row.label, row.point, row.bounds
            last = int(subject.ts[i][-1])
            stamps = fd.future_stamps(last, subject.time_kind, subject.freq, len(point))
            intervals = [
                {lv: [float(lo[k]), float(hi[k])] for lv, (lo, hi) in limits.items()}
                for k in range(len(point))
            ]
            fid = upsert_forecast(
                session,
                subject.ids[i],
                version_id,
                label,
                last,
                stamps.tolist(),
                [float(v) for v in point],
                intervals,
                replace,
            )
            out.append(
                {
                    "series": subject.names[i],
                    "method": label,
                    "forecast_id": fid,
                    "origin": format_ts(last, subject.time_kind, subject.freq),
                    "points": len(stamps),
                    "intervals": sorted(limits, key=int),
                    "values": [
                        {"time": format_ts(int(t), subject.time_kind, subject.freq), "value": float(v)}
                        | {f"{side}{lv}": b[lv][j] for lv in b for j, side in enumerate(("lower", "upper"))}
                        for t, v, b in zip(stamps, point, intervals, strict=True)
                    ],
                }
            )
    return {"forecasts": out}


def score_vintages(settings: Settings, name: str) -> list[dict]:
    """How each stored vintage did against the actuals ingested since it was issued."""
    rows = []
    with read_session(settings) as session:
        subject = q.resolve(session, name)
        by_id = {s.id: s for s in subject.series}
        for f in fq.vintages(session, list(by_id)):
            pts = fq.points(session, f.id)
            actual = fq.actuals(session, f.series_id, [p.ts for p in pts])
            seen = [p for p in pts if p.ts in actual]
            row = {
                "series": by_id[f.series_id].name,
                "forecast_id": f.id,
                "method": f.method,
                "model_version": f.model_version_id,
                "origin": format_ts(f.origin_ts, by_id[f.series_id].time_kind),
                "issued": f.issued_at.isoformat(sep=" ", timespec="seconds"),
                "arrived": len(seen),
                "horizon": len(pts),
            }
            if seen:
                a = np.array([actual[p.ts] for p in seen])
                p_ = np.array([p.value for p in seen])
                row |= {"mae": m.mae(a, p_), "smape": m.smape(a, p_)}
                for level in ("80", "95"):
                    bounds = [p.intervals.get(level) for p in seen if p.intervals and level in p.intervals]
                    if len(bounds) == len(seen):
                        lo, hi = np.array(bounds).T
                        row[f"coverage{level}"] = m.coverage(a, lo, hi)
            rows.append(row)
    return rows


def export_forecasts(settings: Settings, name: str, out, latest_only: bool = True) -> dict:
    """Vintages as CSV or JSON (by the file's suffix), one row per forecast point."""
    records = [
        {k: v for k, v in r.items() if k != "forecast_id"}
        for r in forecast_records(settings, name, latest_only)
    ]
    if not records:
        raise RecurError(
            f"no forecasts stored for {name!r}; run `recur forecast predict {shlex.quote(name)}` first"
        )
    return write_records(settings, records, out, f"{name}-forecast")


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
        for f in chosen:
            kind = by_id[f.series_id].time_kind
            for p in fq.points(session, f.id):
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
                for level, (lo, hi) in sorted((p.intervals or {}).items()):
                    rec |= {f"lower{level}": lo, f"upper{level}": hi}
                records.append(rec)
    return records


def write_records(settings: Settings, records: list[dict], out, stem: str) -> dict:
    """Rows as CSV or JSON (by the file's suffix; CSV into a directory), written atomically."""
    import json

    import pandas as pd

    fmt = output_format(settings, out, None, {".csv": "csv", ".json": "json"}, "csv")
    target = output_path(settings, out, stem, f".{fmt}")
    if fmt == "json":
        write_atomic(target, lambda tmp: tmp.write_text(json.dumps(records, indent=1)))
    else:
        safe = [{csv_safe(k): csv_safe(v) for k, v in r.items()} for r in records]
        write_atomic(target, lambda tmp: pd.DataFrame(safe).to_csv(tmp, index=False))
    return {"path": str(target), "rows": len(records)}

"""Forecast vintages: predicting forward with the champion (or seasonal naive), storing each forecast with
the model version that made it, scoring past vintages, exporting them."""

from __future__ import annotations

import numpy as np

from db import registry
from db.engine import read_session, write_session
from db.errors import RecurError
from db.settings import Settings
from forecaster.baselines import season_for
from forecaster.config import ForecastConfig
from jobs import forecast_data as fd


def predict_forecast(
    settings: Settings,
    name: str,
    horizon: int | None = None,
    version_id: int | None = None,
    levels: tuple[int, ...] = (80, 95),
) -> dict:
    """Forecast every series of the subject from its last observation, with conformal intervals, and store
    the vintage (upserted: the same data and model give the same rows)."""
    with read_session(settings) as session:
        version = (
            registry.get_version(session, version_id)
            if version_id
            else registry.champion(session, "forecaster", name)
        )
        if version is not None:
            from jobs.artifacts import load_model

            model, info = load_model(version), (version.id, dict(version.config), dict(version.metrics or {}))
    if version is None:
        return _store_vintage(
            settings, name, *_seasonal_naive_forecast(settings, name, horizon or 12, levels)
        )
    vid, config, metrics = info
    cfg = ForecastConfig.from_json(config)
    horizon = horizon or cfg.horizon
    if horizon > cfg.horizon:
        raise RecurError(
            f"--horizon {horizon}: model version {vid} forecasts {cfg.horizon} steps; "
            f"train one with --horizon {horizon}"
        )
    subject = fd.load(settings, name, tuple(config.get("covariates") or ()))
    point, half = _model_forecast(cfg, subject, model, config, metrics, horizon, levels)
    return _store_vintage(settings, name, subject, point, half, version.architecture, vid)


def _model_forecast(cfg, subject, model, config, metrics, horizon, levels):
    from forecaster.train import predict
    from forecaster.windows import make_windows

    panels, _ = fd.panels(
        subject, cfg.calendar, [len(v) for v in subject.values], config.get("scalers") or None
    )
    starts = [np.array([len(p) - cfg.lookback]) for p in panels]
    floors = np.asarray(config.get("floors") or [0.0] * len(panels))
    w = make_windows(panels, cfg.lookback, cfg.horizon, starts, floors, with_target=False)
    point = predict(cfg, model, w)[:, :horizon]
    widths = metrics.get("intervals", {})
    half = {
        str(lv): np.asarray(widths[str(lv)])[None, :horizon] * w.scale[:, None]
        for lv in levels
        if str(lv) in widths
    }
    return point, half


def _seasonal_naive_forecast(settings, name, horizon, levels):
    """No model beats seasonal naive (or none is trained): forecast with it, intervals from its own
    in-sample errors at each step."""
    from forecaster.baselines import seasonal_naive
    from forecaster.evaluate import conformal
    from forecaster.windows import window_starts

    subject = fd.load(settings, name)
    season = season_for(subject.freq, subject.time_kind)
    context = max(season, 1)
    points, halves = [], {str(lv): [] for lv in levels}
    for values in subject.values:
        points.append(seasonal_naive(values[None, -context:], horizon, season)[0])
        starts = window_starts(len(values), context, horizon)
        if len(starts) == 0:
            raise RecurError(f"series {name!r} is too short to forecast {horizon} steps with seasonal naive")
        hist = np.stack([values[s : s + context] for s in starts])
        actual = np.stack([values[s + context : s + context + horizon] for s in starts])
        widths = conformal(actual - seasonal_naive(hist, horizon, season), levels)
        for lv in levels:
            halves[str(lv)].append(np.asarray(widths[str(lv)]))
    half = {lv: np.stack(v) for lv, v in halves.items()}
    return subject, np.stack(points), half, "seasonal_naive", None


def _store_vintage(settings, name, subject, point, half, method, version_id) -> dict:
    from db.forecasts import upsert_forecast

    out = []
    with write_session(settings) as session:
        for i, series_name in enumerate(subject.names):
            last = int(subject.ts[i][-1])
            stamps = fd.future_stamps(last, subject.time_kind, subject.freq, point.shape[1])
            intervals = [
                {lv: [float(point[i, k] - h[i, k]), float(point[i, k] + h[i, k])] for lv, h in half.items()}
                for k in range(point.shape[1])
            ]
            fid = upsert_forecast(
                session,
                subject.ids[i],
                version_id,
                method,
                last,
                stamps.tolist(),
                point[i].tolist(),
                intervals,
            )
            out.append({"series": series_name, "forecast_id": fid, "origin": last, "points": len(stamps)})
    return {"subject": name, "method": method, "model_version": version_id, "forecasts": out}


def score_vintages(settings: Settings, name: str) -> list[dict]:
    """How each stored vintage did against the actuals ingested since it was issued."""
    from db import forecasts as fq
    from db import series as q
    from db.timefmt import format_ts
    from forecaster import metrics as m

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
    import json

    import pandas as pd

    from db import forecasts as fq
    from db import series as q
    from db.files import output_path, write_atomic
    from db.timefmt import format_ts

    records = []
    with read_session(settings) as session:
        subject = q.resolve(session, name)
        by_id = {s.id: s for s in subject.series}
        chosen = fq.vintages(session, list(by_id))
        if latest_only:
            last = {}
            for f in chosen:
                last[f.series_id] = f  # ordered by origin, so the last one wins
            chosen = list(last.values())
        for f in chosen:
            kind = by_id[f.series_id].time_kind
            for p in fq.points(session, f.id):
                rec = {
                    "series": by_id[f.series_id].name,
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
    if not records:
        raise RecurError(f"no forecasts stored for {name!r}; run `recur forecast predict {name}` first")
    suffix = ".json" if str(out).endswith(".json") else ".csv"
    target = output_path(out, f"{name}-forecast", suffix)
    if suffix == ".json":
        write_atomic(target, lambda tmp: tmp.write_text(json.dumps(records, indent=1)))
    else:
        write_atomic(target, lambda tmp: pd.DataFrame(records).to_csv(tmp, index=False))
    return {"path": str(target), "rows": len(records)}

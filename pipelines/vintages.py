"""Forecast vintages: predicting forward with the champion (or seasonal naive), storing each forecast with
the model version that made it, scoring past vintages, exporting them."""

from __future__ import annotations

import shlex

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
from forecaster import methods
from forecaster import metrics as m
from forecaster.config import PEERS, ForecastConfig
from forecaster.evaluate import bounds, floors_for
from forecaster.methods import COMBINATION
from forecaster.scores import NETWORK
from forecaster.train import predict_normalised
from forecaster.windows import make_windows
from pipelines import forecast_data as fd
from pipelines.forecast_steps import CONFIDENCE, count_methods
from runtime.artifacts import load_champion


def predict_forecast(
    settings: Settings,
    name: str,
    horizon: int | None = None,
    version_id: int | None = None,
    levels: tuple[int, ...] = (80, 95),
    season: int = 0,
    as_of: str | None = None,
    replace: bool = False,
) -> dict:
    """Forecast every series of the subject from its last observation (or from `as_of`), each by what
    serves it: the champion's network where it beat the series' best baseline in the backtest, else that
    baseline; with no champion, each series' best baseline by a backtest of the baselines. Conformal
    intervals; stored as a vintage (upserted: the same data, model and options give the same rows; other
    options at a stored origin are refused unless `replace`)."""
    version = load_champion(settings, "forecaster", name, version_id)
    if version is None:
        subject = fd.load(settings, name, until=as_of, option="--as-of")
        h = horizon or DEFAULT_HORIZON
        s = fd.season_of(subject, season)
        chosen = methods.serve(subject.values, h, s, CONFIDENCE, methods.names_for(s, PEERS))
        serve = dict(zip(subject.names, chosen, strict=True))
        return _issue(settings, subject, serve, h, s, levels, None, None, replace)
    cfg = ForecastConfig.from_json(version.config)
    horizon = horizon or cfg.horizon
    if horizon > cfg.horizon:
        raise RecurError(
            f"--horizon {horizon}: model version {version.id} forecasts {cfg.horizon} steps; "
            f"train one with --horizon {horizon}"
        )
    covariates = tuple(version.config.get("covariates") or ())
    subject = fd.load(settings, name, covariates, until=as_of, option="--as-of")
    serve = version.metrics.get("serve") or dict.fromkeys(subject.names, "model")
    model_part = model_forecasts(
        cfg, subject, version.model, version.config, version.metrics, horizon, levels, serve
    )
    s = season or fd.season_of(subject, cfg.season)
    used = (version.id, version.architecture, cfg.peers)
    return _issue(settings, subject, serve, horizon, s, levels, used, model_part, replace)


DEFAULT_HORIZON = ForecastConfig.horizon


def _issue(settings, subject, serve, horizon, season, levels, version, model_part, replace=False) -> dict:
    """Each series' forecast from what serves it, stored with its method and the version that chose it."""
    vid, architecture, peers = version or (None, None, ())
    rows = served_forecasts(subject, serve, horizon, season, levels, architecture, model_part, peers)
    out = _store_vintage(settings, subject, rows, vid, replace)
    counts = count_methods(label for label, _p, _b in rows)
    method = rows[0][0] if len(counts) == 1 else "mixed"
    return {"subject": subject.name, "method": method, "model_version": vid, "served": counts} | out


def served_forecasts(subject, serve, horizon, season, levels, architecture, model_part, peers=()) -> list:
    """(label, point, {level: (lower, upper)}) per series: the network's forecast where it serves the
    series (and could forecast it), its combination with the `peers` where that serves, else the
    series' own method."""
    _prefetch(subject, serve, horizon, season, levels, peers)
    rows = []
    for i, (series_name, values) in enumerate(zip(subject.names, subject.values, strict=True)):
        method = serve.get(series_name, "naive")
        networked = method in (NETWORK, COMBINATION) and model_part is not None and i in model_part
        if networked and method == NETWORK:
            point, bounds = model_part[i]
            label = architecture
        elif networked:
            point, bounds = combined_forecast(model_part[i], values, horizon, season, levels, peers)
            label = COMBINATION
        else:
            method = "naive" if method in (NETWORK, COMBINATION) else method
            point, bounds = methods.forecast(values, method, horizon, season, levels)
            label = method
        rows.append((label, point, bounds))
    return rows


def _prefetch(subject, serve, horizon, season, levels, peers) -> None:
    """Fit each statistical peer once on every series that needs it, many at once."""
    for peer in methods.STATISTICAL:
        needs = [
            v
            for n, v in zip(subject.names, subject.values, strict=True)
            if serve.get(n) == peer or (serve.get(n) == COMBINATION and peer in peers)
        ]
        methods.prefetch(needs, (peer,), horizon, season, levels)


def combined_forecast(network, values, horizon, season, levels, peers) -> tuple:
    """The median of the network's forecast and each peer's; each interval bound the median of theirs
    (where every member has that level)."""
    members = [network] + [methods.forecast(values, p, horizon, season, levels) for p in peers]
    point = np.median([m[0] for m in members], axis=0)
    bounds = {}
    for level in map(str, levels):
        if all(level in m[1] for m in members):
            lo = np.median([m[1][level][0] for m in members], axis=0)
            hi = np.median([m[1][level][1] for m in members], axis=0)
            bounds[level] = (np.minimum(lo, point), np.maximum(hi, point))
    return point, bounds


def model_forecasts(cfg, subject, model, config, metrics, horizon, levels, serve) -> dict:
    """{series index: (point, {level: (lower, upper)})} for the series the network serves."""
    chosen = [
        i
        for i, n in enumerate(subject.names)
        if serve.get(n) in (NETWORK, COMBINATION) and len(subject.values[i]) >= cfg.lookback
    ]
    if not chosen:
        return {}
    panels, _ = fd.panels(
        subject, cfg.calendar, [len(v) for v in subject.values], config.get("scalers") or None
    )
    starts = [
        np.array([len(p) - cfg.lookback]) if i in chosen else np.array([], dtype=np.int64)
        for i, p in enumerate(panels)
    ]
    floors = np.asarray(config.get("floors") or floors_for(panels, [len(p) for p in panels]))
    w = make_windows(panels, cfg, starts, floors, with_target=False)
    normalised = predict_normalised(cfg, model, w)[:, :horizon]
    widths = {str(lv): metrics.get("intervals", {}).get(str(lv)) for lv in levels}
    limits = bounds(w, normalised, {lv: q for lv, q in widths.items() if q is not None})
    point = w.denormalise(normalised)
    return {
        i: (point[k], {lv: (lo[k], hi[k]) for lv, (lo, hi) in limits.items()}) for k, i in enumerate(chosen)
    }


def _store_vintage(settings, subject, rows, version_id, replace: bool = False) -> dict:
    out = []
    with write_session(settings) as session:
        for i, (label, point, limits) in enumerate(rows):
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

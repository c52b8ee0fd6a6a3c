"""The report's forecasting sections: a series' or a group's champion (and a newer challenger that lost),
what serves each member, the backtests against the baselines, fan charts (small multiples for a group),
how past forecasts scored, and training curves."""

from __future__ import annotations

import numpy as np

from core.settings import Settings
from core.timefmt import format_ts
from db import activity
from db import series as q
from db.engine import read_session
from forecaster.scores import METRICS, Scoreboard, lead_of
from pipelines.vintages import score_vintages
from reports import plots
from reports.document import Plot, Section, Table

FANS_PER_FIGURE = 12  # small multiples: three columns, up to four rows
FANS_SHOWN = 48  # a group's first members drawn; the rest are in the exported data
TOLERANCE = 3.0  # points of coverage either side of the nominal level that still count as calibrated


def readable(method: str) -> str:
    return method.replace("_", " ")


def _info(version) -> dict | None:
    if version is None:
        return None
    return {
        "id": version.id,
        "arch": version.architecture,
        "metrics": dict(version.metrics or {}),
        "created": version.created_at,
    }


def forecast_section(settings: Settings, name: str) -> Section:
    with read_session(settings) as session:
        subject = q.resolve(session, name)
        versions = activity.latest_versions(session, "forecaster", name)
        champion, challenger = _info(versions.get("champion")), _info(versions.get("challenger"))
        history = activity.training_history(session, versions.get("champion"))
        fans = [_fan_data(activity.latest_forecast(session, s), s) for s in subject.series]
        own = {}
        if subject.group is not None:
            for s in subject.series:
                own[s.name] = _info(activity.latest_versions(session, "forecaster", s.name).get("champion"))
    if challenger is not None and champion is not None and challenger["id"] < champion["id"]:
        challenger = None  # the champion it replaced, not news
    blocks = _model_blocks(name, champion, challenger, subject.group is not None)
    if subject.group is not None:
        blocks += _member_blocks(champion or challenger, own, fans)
    blocks += _fan_blocks(fans, champion, subject.group is not None)
    blocks += _vintage_blocks(settings, name)
    if history:
        draw = lambda fig: plots.training_curves(fig.add_subplot(), history)  # noqa: E731
        blocks.append(
            Plot(f"{name} training", draw, (7.5, 2.6), f"loss per epoch of version {champion['id']}")
        )
    if champion is not None and champion["arch"] == "attention":
        from pipelines.inspect import attention_weights

        weights = attention_weights(settings, name)
        draw = lambda fig: plots.attention_weights(fig.add_subplot(), weights)  # noqa: E731
        blocks.append(Plot(f"{name} attention", draw, (7.5, 2.4)))
    return Section(f"Forecasts: {name}", blocks)


def best_baseline(metrics: dict) -> tuple[str, float | None, float | None]:
    """(the best baseline, the backtest MASE of what the version issues, the baseline's)."""
    board = Scoreboard.of(metrics)
    best = (metrics.get("gate") or {}).get("baseline", "seasonal_naive")
    return best, board.score(lead_of(metrics)), board.score(best)


def _model_blocks(name: str, champion: dict | None, challenger: dict | None, group: bool) -> list:
    """The champion's decision and backtest; a newer challenger in one sentence (with its backtest when
    there is no champion to show)."""
    what = "global model of the group" if group else "model"
    blocks: list = []
    if champion is None:
        blocks.append(f"No trained {what} is champion: each series is forecast by its best baseline.")
    else:
        blocks += _backtest_blocks(champion, f"Champion {what}", per_series=not group)
    if challenger is not None:
        best, mase, base = best_baseline(challenger["metrics"])
        blocks.append(
            f"Challenger: version {challenger['id']} ({challenger['arch']}), trained "
            f"{challenger['created']:%Y-%m-%d %H:%M} UTC, backtest MASE {_f(mase)} against {readable(best)} "
            f"{_f(base)}; {challenger['metrics'].get('decision', 'not promoted')}."
        )
        if champion is None:
            blocks += _backtest_blocks(challenger, "Challenger", per_series=False)[1:]
    return blocks


def _f(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _backtest_blocks(v: dict, label: str, per_series: bool) -> list:
    metrics = v["metrics"]
    bt = Scoreboard.of(metrics)
    best, mase, base = best_baseline(metrics)
    blocks: list = [
        f"{label}: version {v['id']} ({v['arch']}). Backtest MASE {_f(mase)} against the best baseline, "
        f"{readable(best)}, {_f(base)}, over up to {bt.windows} windows per series. "
        f"{metrics.get('decision', '')}"
    ]
    if metrics.get("served"):
        served = ", ".join(f"{readable(m)} {n}" for m, n in metrics["served"].items())
        blocks.append(f"What serves each series: {served}.")
    rows = [{"method": readable(m)} | v for m, v in bt.overall.items()]
    blocks.append(Table(["method", *METRICS], rows, f"Backtest of version {v['id']}, all series"))
    if per_series and len(bt.per_series) > 1:
        serve, lead = metrics.get("serve") or {}, lead_of(metrics)
        rows = [
            {
                "series": s,
                readable(lead): r[lead]["mase"],
                readable(best): r[best]["mase"],
                "served by": serve.get(s),
            }
            for s, r in bt.per_series.items()
        ]
        columns = ["series", readable(lead), readable(best), "served by"]
        blocks.append(Table(columns, rows, "MASE per series"))
    alt = f"backtest error by horizon step and MASE by method, version {v['id']}"
    blocks.append(
        Plot(f"backtest of version {v['id']}", lambda fig, bt=bt: _backtest_figure(fig, bt), alt=alt)
    )
    if metrics.get("coverage"):
        blocks.append(coverage_table(metrics["coverage"]))
    return blocks


def coverage_table(coverage: dict[str, float]) -> Table:
    """Each interval's share of backtest actuals inside it, beside its nominal level, flagged when it
    misses by more than TOLERANCE points."""
    rows = []
    for level, share in sorted(coverage.items(), key=lambda kv: float(kv[0])):
        gap = 100 * share - float(level)
        verdict = "within ±3 points"
        if gap < -TOLERANCE:
            verdict = f"UNDER by {-gap:.1f} points (intervals too narrow)"
        elif gap > TOLERANCE:
            verdict = f"over by {gap:.1f} points (intervals too wide)"
        rows.append({"interval": f"{level}%", "actuals inside": f"{100 * share:.1f}%", "verdict": verdict})
    return Table(["interval", "actuals inside", "verdict"], rows, "Interval coverage in the backtest")


def _member_blocks(global_model: dict | None, own: dict[str, dict | None], fans: list) -> list:
    """One row per member: the global model's backtest MASE beside the best baseline's, the member's own
    champion if it has one, and what issued its latest forecast."""
    metrics = (global_model or {}).get("metrics") or {}
    per, lead = Scoreboard.of(metrics).per_series, lead_of(metrics)
    best = best_baseline(global_model["metrics"])[0] if global_model else "seasonal_naive"
    serve = (global_model or {}).get("metrics", {}).get("serve") or {}
    latest = {f["name"]: f["by"] for f in fans if f is not None}
    rows = []
    for member, champ in own.items():
        scores = per.get(member, {})
        mine = champ and best_baseline(champ["metrics"])[1]
        rows.append(
            {
                "member": member,
                "global model": scores.get(lead, {}).get("mase"),
                readable(best): scores.get(best, {}).get("mase"),
                "global serves": _served(serve.get(member), global_model),
                "own champion": f"v{champ['id']} {champ['arch']}" if champ else None,
                "its MASE": mine,
                "latest forecast by": latest.get(member, "none stored"),
            }
        )
    columns = list(rows[0]) if rows else []
    return [Table(columns, rows, "Members: backtest MASE (lower is better) and what serves each")]


def _served(how: str | None, global_model: dict | None) -> str | None:
    if how is None or global_model is None:
        return None
    return f"v{global_model['id']} {global_model['arch']}" if how == "model" else readable(how)


def _fan_caption(info: dict | None) -> str:
    if info is None:
        return ""
    best, mase, base = best_baseline(info["metrics"])
    return f" — v{info['id']} {info['arch']}, MASE {_f(mase)} vs {readable(best)} {_f(base)}"


def _fan_blocks(fans: list, champion: dict | None, group: bool) -> list:
    drawn = [f for f in fans if f is not None]
    if not drawn:
        return ["No forecast is stored yet: run recur forecast predict."]
    if not group:
        fan, title = drawn[0], drawn[0]["title"] + _fan_caption(champion)
        return [Plot(f"{fan['name']} forecast", lambda fig: plots.fan(fig.add_subplot(), fan, title))]
    blocks: list = []
    shown = drawn[:FANS_SHOWN]
    for start in range(0, len(shown), FANS_PER_FIGURE):
        part = shown[start : start + FANS_PER_FIGURE]
        rows = -(-len(part) // 3)
        name = f"forecasts {start + 1}-{start + len(part)}"
        alt = "latest forecast with 80% and 95% intervals of " + ", ".join(f["name"] for f in part)
        blocks.append(
            Plot(name, lambda fig, part=part: plots.small_multiples(fig, part), (7.5, 1.9 * rows + 0.5), alt)
        )
    if len(drawn) > len(shown):
        blocks.append(
            f"{len(drawn) - len(shown)} more members' forecasts are in the exported data (--with-data)."
        )
    return blocks


def _backtest_figure(fig, bt: Scoreboard) -> None:
    """Side by side on a page, one above the other on a phone."""
    left, right = fig.subplots(1, 2) if fig.get_figwidth() >= 6 else fig.subplots(2, 1)
    plots.error_by_step(left, {readable(m): e for m, e in bt.by_step.items()})
    plots.leaderboard(right, {readable(m): v["mase"] for m, v in bt.overall.items()})


def _vintage_blocks(settings: Settings, name: str) -> list:
    """How stored forecasts scored once actuals arrived; a sentence when none has any yet."""
    scores = score_vintages(settings, name)
    if not scores:
        return []
    scored = [r for r in scores if r.get("mae") is not None]
    if not scored:
        return [f"None of the {len(scores)} stored forecast(s) has actuals yet, so none is scored."]
    draw = lambda fig: plots.vintages(fig.add_subplot(), scored)  # noqa: E731
    rows = [
        r | {"coverage 95%": f"{100 * r['coverage95']:.1f}%" if "coverage95" in r else None}
        for r in scored[-20:]
    ]
    cols = ["series", "method", "model_version", "origin", "arrived", "mae", "mase", "wql", "coverage 95%"]
    return [
        Plot(f"{name} vintages", draw, (7.5, 2.6), "MAE of each stored forecast"),
        Table(cols, rows, f"Stored forecasts with actuals ({len(scored)} of {len(scores)})"),
    ]


def _quantiles(points: list) -> dict[float, list[float]]:
    """The stored quantiles of a forecast's points by level (none where a point has none)."""
    if not points or not all(p.quantiles for p in points):
        return {}
    return {float(q): [p.quantiles[q] for p in points] for q in points[0].quantiles}


def _axis(ts, kind: str):
    arr = np.asarray(ts, dtype=np.int64)
    return arr if kind == "int" else arr.astype("datetime64[s]")


def _fan_data(latest: dict | None, s) -> dict | None:
    """A fan chart's data: the history before the origin, the forecast with its intervals, and the actuals
    that have arrived since."""
    if latest is None:
        return None
    f, points = latest["forecast"], latest["points"]
    ts, values = np.asarray(latest["ts"]), np.asarray(latest["values"])
    before = ts <= f.origin_ts
    keep = max(4 * len(points), 48)
    after = (ts > f.origin_ts) & (ts <= points[-1].ts)
    levels = sorted({lv for p in points for lv in (p.intervals or {})})
    by = readable(f.method) + (f" v{f.model_version_id}" if f.model_version_id else "")
    return {
        "name": s.name,
        "unit": s.unit or "value",
        "by": by,
        "title": f"{s.name}: {by} forecast from {format_ts(f.origin_ts, s.time_kind)}",
        "history": (_axis(ts[before][-keep:], s.time_kind), values[before][-keep:]),
        "forecast": (_axis([p.ts for p in points], s.time_kind), [p.value for p in points]),
        "intervals": {
            lv: ([p.intervals[lv][0] for p in points], [p.intervals[lv][1] for p in points]) for lv in levels
        },
        "quantiles": _quantiles(points),
        "actual": (_axis(ts[after], s.time_kind), values[after]),
    }

"""The report's sections: what the store knows, gathered through db/activity and the pipelines that look
inside champions (pipelines/inspect), laid out as text, tables and plots for reports/ to draw."""

from __future__ import annotations

from datetime import datetime

import numpy as np

from core.settings import Settings
from core.timefmt import format_ts
from db import activity, registry
from db import corpus as cq
from db import schedules as sq
from db import series as q
from db.engine import read_session
from db.tables import utcnow
from pipelines.inspect import samples_at_temperatures
from pipelines.vintages import score_vintages
from reports import plots
from reports.document import Plot, Report, Section, Table

METRICS = ["mae", "rmse", "smape", "mase"]
FANS_SHOWN = 12  # a group's first fan charts; the rest are in the exported data


def _axis(ts, kind: str):
    arr = np.asarray(ts, dtype=np.int64)
    return arr if kind == "int" else arr.astype("datetime64[s]")


def summary_section(settings: Settings, since: datetime) -> Section:
    with read_session(settings) as session:
        done = activity.since(session, since)
    rows, fails = done["champions"], done["failed"]
    text = (
        f"Since {since:%Y-%m-%d %H:%M} UTC: {len(rows)} new champion(s), {done['issued']} forecast(s) "
        f"issued, {len(fails)} failed run(s), {done['samples']} text sample(s)."
    )
    blocks: list = [text]
    if rows:
        blocks.append(
            Table(["version", "kind", "subject", "architecture", "promoted"], rows, "New champions")
        )
    if fails:
        blocks.append(Table(["run", "schedule_id", "logical_date", "status", "error"], fails, "Failed runs"))
    return Section("Summary", blocks)


def forecast_section(settings: Settings, name: str) -> Section:
    with read_session(settings) as session:
        subject = q.resolve(session, name)
        champion = registry.champion(session, "forecaster", name)
        history = activity.training_history(session, champion)
        fans = [_fan_data(activity.latest_forecast(session, s), s) for s in subject.series]
        info = (
            None if champion is None else (champion.id, champion.architecture, dict(champion.metrics or {}))
        )
    blocks: list = _champion_blocks(name, info)
    caption = "" if info is None else _fan_caption(info)
    blocks += [_fan_plot(fan, caption) for fan in fans[:FANS_SHOWN] if fan is not None]
    scores = score_vintages(settings, name)
    if scores:
        blocks.append(
            Plot(f"{name} vintages", lambda fig: plots.vintages(fig.add_subplot(), scores), (7.5, 2.6))
        )
        cols = ["series", "method", "model_version", "origin", "arrived", "horizon", "mae", "coverage95"]
        blocks.append(Table(cols, scores[-20:], "Stored forecasts (vintages)"))
    if history:
        draw = lambda fig: plots.training_curves(fig.add_subplot(), history)  # noqa: E731
        blocks.append(Plot(f"{name} training", draw, (7.5, 2.6)))
    if info is not None and info[1] == "attention":
        from pipelines.inspect import attention_weights

        weights = attention_weights(settings, name)
        draw = lambda fig: plots.attention_weights(fig.add_subplot(), weights)  # noqa: E731
        blocks.append(Plot(f"{name} attention", draw, (7.5, 2.4)))
    return Section(f"Forecasts: {name}", blocks)


def _best_baseline(metrics: dict) -> tuple[str, float | None, float | None]:
    overall = metrics.get("backtest", {}).get("overall", {})
    best = (metrics.get("gate") or {}).get("baseline", "seasonal_naive")
    return best, overall.get("model", {}).get("mase"), overall.get(best, {}).get("mase")


def _champion_blocks(name: str, info: tuple | None) -> list:
    """The champion's decision, what serves each series, and its backtest."""
    if info is None:
        return ["No trained model is champion: each series is forecast by its best baseline."]
    vid, arch, metrics = info
    bt = metrics.get("backtest", {})
    overall = bt.get("overall", {})
    best, mase, naive = _best_baseline(metrics)
    blocks: list = [
        f"Champion: version {vid} ({arch}). Backtest MASE {mase:.3f} against the best baseline, "
        f"{best}, {naive:.3f}, over up to {bt.get('windows')} windows per series. "
        f"{metrics.get('decision', '')}"
    ]
    if metrics.get("served"):
        served = ", ".join(f"{m} {n}" for m, n in metrics["served"].items())
        blocks.append(f"What serves each series: {served}.")
    blocks.append(
        Table(["method", *METRICS], [{"method": m} | v for m, v in overall.items()], "Backtest, overall")
    )
    if len(bt.get("per_series", {})) > 1:
        serve = metrics.get("serve") or {}
        rows = [
            {"series": s, "model": v["model"]["mase"], best: v[best]["mase"], "served by": serve.get(s)}
            for s, v in bt["per_series"].items()
        ]
        blocks.append(Table(["series", "model", best, "served by"], rows, "MASE per series"))
    blocks.append(Plot(f"{name} backtest", lambda fig, bt=bt: _backtest_figure(fig, bt)))
    if metrics.get("coverage"):
        rows = [{"level": f"{k}%", "coverage": v} for k, v in metrics["coverage"].items()]
        blocks.append(Table(["level", "coverage"], rows, "Interval coverage in the backtest"))
    return blocks


def _fan_caption(info: tuple) -> str:
    vid, arch, metrics = info
    best, mase, naive = _best_baseline(metrics)
    return f" — v{vid} {arch}, MASE {mase:.2f} vs {best} {naive:.2f}"


def _fan_plot(fan: dict, caption: str) -> Plot:
    title = fan["title"] + caption
    return Plot(
        f"{fan['name']} forecast",
        lambda fig, f=fan, t=title: plots.fan_chart(
            fig.add_subplot(), f["history"], f["forecast"], f["intervals"], f["actual"], t
        ),
    )


def _backtest_figure(fig, bt: dict) -> None:
    left, right = fig.subplots(1, 2)
    plots.error_by_step(left, bt.get("by_step", {}))
    plots.leaderboard(right, {m: v["mase"] for m, v in bt.get("overall", {}).items()})


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
    return {
        "name": s.name,
        "title": f"{s.name}: {f.method} forecast from {format_ts(f.origin_ts, s.time_kind)}",
        "history": (_axis(ts[before][-keep:], s.time_kind), values[before][-keep:]),
        "forecast": (_axis([p.ts for p in points], s.time_kind), [p.value for p in points]),
        "intervals": {
            lv: ([p.intervals[lv][0] for p in points], [p.intervals[lv][1] for p in points]) for lv in levels
        },
        "actual": (_axis(ts[after], s.time_kind), values[after]),
    }


def corpus_section(settings: Settings, corpus: str) -> Section:
    with read_session(settings) as session:
        cq.get_corpus(session, corpus)
        champion = registry.champion(session, "textgen", corpus)
        history = activity.training_history(session, champion)
        vid, metrics = (None, {}) if champion is None else (champion.id, dict(champion.metrics or {}))
        stored = [
            {
                "id": s.id,
                "version": s.model_version_id,
                "seed": s.seed,
                "temperature": s.params.get("temperature"),
                "copied": s.params.get("longest_copied"),
                "text": (s.prompt + s.text)[:90].replace("\n", " "),
            }
            for s in activity.recent_samples(session, corpus)
        ]
    if vid is None:
        return Section(f"Text: {corpus}", ["No text generator trained on this corpus yet."])
    blocks: list = [
        f"Champion: version {vid}; validation loss {metrics.get('val_loss', float('nan')):.3f} nats = "
        f"{metrics.get('val_bpc', float('nan')):.3f} bits per character."
    ]
    if history and history.get("val_bpc"):
        draw = lambda fig: plots.bits_per_char(fig.add_subplot(), history["val_bpc"])  # noqa: E731
        blocks.append(Plot(f"{corpus} bits per char", draw, (7.5, 2.4)))

    side = [
        r | {"sample": r["sample"].replace("\n", " / ")} for r in samples_at_temperatures(settings, corpus)
    ]
    blocks.append(Table(["temperature", "sample"], side, "Samples side by side (seed 0)"))
    if stored:
        blocks.append(
            Table(["id", "version", "seed", "temperature", "copied", "text"], stored, "Recent stored samples")
        )
    return Section(f"Text: {corpus}", blocks)


def classifier_section(settings: Settings, name: str) -> Section:
    with read_session(settings) as session:
        v = registry.champion(session, "classifier", name)
        if v is None:
            return Section(f"Classifier: {name}", ["No classifier beats the baselines yet."])
        vid, arch, metrics, classes = v.id, v.architecture, dict(v.metrics or {}), list(v.config["classes"])
    test = metrics.get("test", {})
    rows = [{"method": k, "accuracy": s["accuracy"], "macro_f1": s["macro_f1"]} for k, s in test.items()]
    per = [{"class": c} | s for c, s in test["model"]["per_class"].items()]
    matrix = test["model"]["confusion"]
    return Section(
        f"Classifier: {name}",
        [
            f"Champion: version {vid} ({arch}). {metrics.get('decision', '')}",
            Table(["method", "accuracy", "macro_f1"], rows, f"Test items: {metrics.get('test_items')}"),
            Table(["class", "precision", "recall", "f1"], per, "Per class"),
            Plot(
                f"{name} confusion",
                lambda fig: plots.confusion_matrix(fig.add_subplot(), matrix, classes),
                (4, 3.4),
            ),
        ],
    )


def jobs_section(settings: Settings, since: datetime) -> Section | None:
    with read_session(settings) as session:
        runs = sq.history(session, limit=40)
    if not runs:
        return None
    first = min(datetime.fromisoformat(r["started"]) for r in runs if r["started"])
    for r in runs:
        r["started_ts"] = (
            (datetime.fromisoformat(r["started"]) - first).total_seconds() / 60 if r["started"] else 0
        )
    cols = ["id", "schedule", "logical_date", "attempt", "status", "started", "seconds"]
    return Section(
        "Scheduled jobs",
        [
            Plot("jobs timeline", lambda fig: plots.job_timeline(fig.add_subplot(), runs), (7.5, 2.4)),
            Table(cols, runs[:20], "Recent runs"),
        ],
    )


def default_subjects(settings: Settings) -> tuple[list[str], list[str], list[str]]:
    """Every forecasting subject with a model (and series with stored forecasts not covered by one),
    every corpus with a text generator, every labelled set with a classifier."""
    with read_session(settings) as session:
        found = activity.reported_subjects(session)
    covered = set()
    for name in found["forecaster"]:
        covered |= {name} | {m for m in found["vintages"] if m.startswith(f"{name}/")}
    extra = sorted(set(found["vintages"]) - covered)
    return found["forecaster"] + extra, found["textgen"], found["classifier"]


def build(
    settings: Settings,
    subjects: list[str],
    corpora: list[str],
    since: datetime,
    classifiers: list[str] | None = None,
) -> Report:
    if not subjects and not corpora and not classifiers:
        subjects, corpora, classifiers = default_subjects(settings)
    sections = [summary_section(settings, since)]
    sections += [forecast_section(settings, s) for s in subjects]
    sections += [corpus_section(settings, c) for c in corpora]
    sections += [classifier_section(settings, c) for c in classifiers or []]
    jobs = jobs_section(settings, since)
    sections += [jobs] if jobs else []
    if len(sections) == 1:
        sections.append(
            Section(
                "Nothing to show yet", ["Train a forecaster or a text generator first: recur demo shows how."]
            )
        )
    return Report("recur report", f"{settings.home} · generated {utcnow():%Y-%m-%d %H:%M} UTC", sections)

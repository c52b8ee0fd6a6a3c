"""Reports: what the store knows, as plots and tables, for people. Gathers the data (this is the layer that
may query), hands plain arrays to reports.plots, and the document to a writer."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import func, select

from core.errors import InputError
from core.settings import Settings
from core.timefmt import format_ts
from db import registry
from db import series as q
from db.engine import read_session
from db.tables import Forecast, JobRun, ModelVersion, Sample, TrainingRun, utcnow
from reports import plots
from reports.document import Plot, Report, Section, Table

METRICS = ["mae", "rmse", "smape", "mase"]


def _axis(ts, kind: str):
    arr = np.asarray(ts, dtype=np.int64)
    return arr if kind == "int" else arr.astype("datetime64[s]")


REPORT_FORMATS = {".html": "html", ".htm": "html", ".md": "md", ".pdf": "pdf"}


def _last_report_file(settings: Settings) -> Path:
    return settings.subdir("reports") / ".last-report"


def summary_section(settings: Settings, since: datetime) -> Section:
    with read_session(settings) as session:
        champions = session.scalars(select(ModelVersion).where(ModelVersion.promoted_at >= since)).all()
        issued = session.scalar(select(func.count()).select_from(Forecast).where(Forecast.issued_at >= since))
        failed = session.scalars(
            select(JobRun).where(
                JobRun.status.in_(("failed", "timed_out", "abandoned")), JobRun.finished_at >= since
            )
        ).all()
        samples = session.scalar(select(func.count()).select_from(Sample).where(Sample.created_at >= since))
        rows = [
            {
                "version": v.id,
                "kind": v.kind,
                "subject": v.subject,
                "architecture": v.architecture,
                "promoted": v.promoted_at.isoformat(sep=" ", timespec="minutes"),
            }
            for v in champions
        ]
        fails = [
            {
                "run": r.id,
                "schedule_id": r.schedule_id,
                "logical_date": r.logical_date,
                "status": r.status,
                "error": (r.error or "").strip().splitlines()[-1:][0] if r.error else "",
            }
            for r in failed
        ]
    text = (
        f"Since {since:%Y-%m-%d %H:%M} UTC: {len(rows)} new champion(s), {issued} forecast(s) issued, "
        f"{len(fails)} failed run(s), {samples} text sample(s)."
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
    from pipelines.vintages import score_vintages

    with read_session(settings) as session:
        subject = q.resolve(session, name)
        champion = registry.champion(session, "forecaster", name)
        history = None
        if champion is not None and champion.training_run_id:
            run = session.get(TrainingRun, champion.training_run_id)
            history = run.history if run else None
        fans = [_fan_data(session, s) for s in subject.series]
        info = (
            None if champion is None else (champion.id, champion.architecture, dict(champion.metrics or {}))
        )
    blocks: list = []
    if info is None:
        blocks.append("No trained model is champion: each series is forecast by its best baseline.")
    else:
        vid, arch, metrics = info
        bt = metrics.get("backtest", {})
        overall = bt.get("overall", {})
        best = (metrics.get("gate") or {}).get("baseline", "seasonal_naive")
        mase, naive = overall.get("model", {}).get("mase"), overall.get(best, {}).get("mase")
        blocks.append(
            f"Champion: version {vid} ({arch}). Backtest MASE {mase:.3f} against the best baseline, "
            f"{best}, {naive:.3f}, over up to {bt.get('windows')} windows per series. "
            f"{metrics.get('decision', '')}"
        )
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
            blocks.append(
                Table(
                    ["level", "coverage"],
                    [{"level": f"{k}%", "coverage": v} for k, v in metrics["coverage"].items()],
                    "Interval coverage in the backtest",
                )
            )
    for fan in fans[:12]:
        if fan is not None:
            title = fan["title"] + (
                "" if info is None else f" — v{info[0]} {info[1]}, MASE {mase:.2f} vs {best} {naive:.2f}"
            )
            blocks.append(
                Plot(
                    f"{fan['name']} forecast",
                    lambda fig, f=fan, t=title: plots.fan_chart(
                        fig.add_subplot(), f["history"], f["forecast"], f["intervals"], f["actual"], t
                    ),
                )
            )
    scores = score_vintages(settings, name)
    if scores:
        blocks.append(
            Plot(f"{name} vintages", lambda fig: plots.vintages(fig.add_subplot(), scores), (7.5, 2.6))
        )
        cols = ["series", "method", "model_version", "origin", "arrived", "horizon", "mae", "coverage95"]
        blocks.append(Table(cols, scores[-20:], "Stored forecasts (vintages)"))
    if history:
        blocks.append(
            Plot(
                f"{name} training", lambda fig: plots.training_curves(fig.add_subplot(), history), (7.5, 2.6)
            )
        )
    if info is not None and info[1] == "attention":
        weights = _attention(settings, name)
        blocks.append(
            Plot(
                f"{name} attention",
                lambda fig: plots.attention_weights(fig.add_subplot(), weights),
                (7.5, 2.4),
            )
        )
    return Section(f"Forecasts: {name}", blocks)


def _backtest_figure(fig, bt: dict) -> None:
    left, right = fig.subplots(1, 2)
    plots.error_by_step(left, bt.get("by_step", {}))
    plots.leaderboard(right, {m: v["mase"] for m, v in bt.get("overall", {}).items()})


def _fan_data(session, s) -> dict | None:
    f = session.scalar(
        select(Forecast)
        .where(Forecast.series_id == s.id)
        .order_by(Forecast.origin_ts.desc(), Forecast.id.desc())
    )
    if f is None:
        return None
    from db import forecasts as fq

    points = fq.points(session, f.id)
    ts, values = q.load_points(session, s.id)
    ts, values = np.asarray(ts), np.asarray(values)
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


def _attention(settings: Settings, name: str) -> np.ndarray:
    from forecaster.config import ForecastConfig
    from forecaster.windows import make_windows
    from nn.layers import attention_weights_model
    from pipelines import forecast_data as fd
    from runtime.artifacts import load_champion

    v = load_champion(settings, "forecaster", name)
    model, config = v.model, v.config
    cfg = ForecastConfig.from_json(config)
    subject = fd.load(settings, name, cfg.covariates)
    panels, _ = fd.panels(
        subject, cfg.calendar, [len(x) for x in subject.values], config.get("scalers") or None
    )
    starts = [np.arange(max(len(p) - cfg.lookback - 50, 0), len(p) - cfg.lookback + 1) for p in panels]
    w = make_windows(panels, cfg.lookback, cfg.horizon, starts, np.zeros(len(panels)), with_target=False)
    return np.asarray(attention_weights_model(model).predict(w.x, verbose=0))


def corpus_section(settings: Settings, corpus: str) -> Section:
    from db import corpus as cq

    with read_session(settings) as session:
        cq.get_corpus(session, corpus)
        champion = registry.champion(session, "textgen", corpus)
        history, metrics, vid = None, {}, None
        if champion is not None:
            vid, metrics = champion.id, dict(champion.metrics or {})
            run = session.get(TrainingRun, champion.training_run_id) if champion.training_run_id else None
            history = run.history if run else None
        recent = session.scalars(
            select(Sample)
            .join(ModelVersion)
            .where(ModelVersion.subject == corpus)
            .order_by(Sample.id.desc())
            .limit(8)
        ).all()
        stored = [
            {
                "id": s.id,
                "version": s.model_version_id,
                "seed": s.seed,
                "temperature": s.params.get("temperature"),
                "copied": s.params.get("longest_copied"),
                "text": (s.prompt + s.text)[:90].replace("\n", " "),
            }
            for s in recent
        ]
    if vid is None:
        return Section(f"Text: {corpus}", ["No text generator trained on this corpus yet."])
    blocks: list = [
        f"Champion: version {vid}; validation loss {metrics.get('val_loss', float('nan')):.3f} nats = "
        f"{metrics.get('val_bpc', float('nan')):.3f} bits per character."
    ]
    if history and history.get("val_bpc"):
        blocks.append(
            Plot(
                f"{corpus} bits per char",
                lambda fig: plots.bits_per_char(fig.add_subplot(), history["val_bpc"]),
                (7.5, 2.4),
            )
        )
    blocks.append(
        Table(
            ["temperature", "sample"], _temperature_samples(settings, corpus), "Samples side by side (seed 0)"
        )
    )
    if stored:
        blocks.append(
            Table(["id", "version", "seed", "temperature", "copied", "text"], stored, "Recent stored samples")
        )
    return Section(f"Text: {corpus}", blocks)


def _temperature_samples(settings: Settings, corpus: str) -> list[dict]:
    from pipelines.sampling import load
    from textgen.sampler import SamplingParams, generate

    loaded = load(settings, corpus, None)
    out = []
    for t in (0.5, 0.8, 1.0):
        ids = [
            int(i[0])
            for i in generate(
                loaded.model, loaded.vocab.prompt_ids("\n", "skip"), 160, 1, SamplingParams(t), 0
            )
        ]
        out.append({"temperature": t, "sample": loaded.vocab.decode(ids).replace("\n", " / ")})
    return out


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
    from db import schedules as sq

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


def default_subjects(settings: Settings) -> tuple[list[str], list[str]]:
    with read_session(settings) as session:
        forecast_subjects = sorted(
            set(session.scalars(select(ModelVersion.subject).where(ModelVersion.kind == "forecaster")))
        )
        with_vintages = {
            s.name
            for s in q.list_series(session)
            if session.scalar(select(Forecast.id).where(Forecast.series_id == s.id).limit(1))
        }
        kinds = session.execute(select(ModelVersion.kind, ModelVersion.subject).distinct()).all()
    corpora = sorted({subject for kind, subject in kinds if kind == "textgen"})
    classifiers = sorted({subject for kind, subject in kinds if kind == "classifier"})
    covered = set()
    for name in forecast_subjects:
        covered |= {name} | {m for m in with_vintages if m.startswith(f"{name}/")}
    return forecast_subjects + sorted(with_vintages - covered), corpora, classifiers


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


def export(
    settings: Settings,
    fmt: str,
    out: Path,
    subjects=(),
    corpora=(),
    since: str | None = None,
    with_data: bool = False,
) -> dict:
    """Write the report (HTML, Markdown + PNGs, or PDF), replacing any existing file atomically."""
    from core.files import write_atomic
    from core.outputs import check_output, output_format
    from reports.document import to_html, write_markdown, write_pdf

    out = Path(out)
    fmt = output_format(settings, out, fmt, REPORT_FORMATS, "html")
    if out.is_dir():
        out = out / f"recur-report-{utcnow():%Y%m%d-%H%M}.{fmt}"
    if not out.parent.is_dir():
        raise InputError(f"--out {out}: {out.parent} is not a directory that exists")
    check_output(settings, out)
    start = _since(settings, since)
    report = build(settings, list(subjects), list(corpora), start)
    result = {
        "path": str(out),
        "format": fmt,
        "sections": [s.title for s in report.sections],
        "plots": len(report.plots()),
    }
    if fmt == "html":
        write_atomic(out, lambda tmp: tmp.write_text(to_html(report), encoding="utf-8"))
    elif fmt == "md":
        write_markdown(report, out)
        result["images"] = str(out.with_name(f"{out.stem}_files"))
    else:
        result["pages"] = write_pdf(report, out)
    if with_data:
        result["data"] = _export_data(settings, report, out)
    write_atomic(_last_report_file(settings), lambda tmp: tmp.write_text(utcnow().isoformat()))
    return result


def _since(settings: Settings, since: str | None) -> datetime:
    if since:
        try:
            return datetime.fromisoformat(since)
        except ValueError as exc:
            raise InputError(f"--since {since!r}: write a date like 2026-11-01") from exc
    try:
        return datetime.fromisoformat(_last_report_file(settings).read_text().strip())
    except (OSError, ValueError):  # no report yet (or its mark unreadable): the last week
        return utcnow() - timedelta(days=7)


def _export_data(settings: Settings, report: Report, out: Path) -> list[str]:
    from pipelines.vintages import export_forecasts

    written = []
    for section in report.sections:
        if section.title.startswith("Forecasts: "):
            name = section.title.removeprefix("Forecasts: ")
            for suffix in (".csv", ".json"):
                target = out.with_name(f"{out.stem}-{_slug(name)}-forecast{suffix}")
                try:
                    written.append(export_forecasts(settings, name, target)["path"])
                except Exception:  # no vintages for this subject yet
                    break
    return written


def _slug(name: str) -> str:
    from core.files import slugify

    return slugify(name, 40)


def plot_one(settings: Settings, name: str, out: Path, kind: str = "forecast") -> dict:
    """A single chart: a series' latest forecast fan chart, or a corpus's bits per character."""
    from core.files import write_atomic
    from core.outputs import check_output

    section = forecast_section(settings, name) if kind == "forecast" else corpus_section(settings, name)
    figures = [b for b in section.blocks if isinstance(b, Plot)]
    wanted = [p for p in figures if p.name.endswith("forecast" if kind == "forecast" else "bits per char")]
    if not wanted:
        what = (
            "stored forecasts (run recur forecast predict)"
            if kind == "forecast"
            else "a trained text generator"
        )
        raise InputError(f"{name!r} has no {what} to plot")
    fmt = Path(out).suffix.lstrip(".").lower()
    if fmt not in ("png", "svg"):
        raise InputError(f"--out {out}: write .png or .svg")
    check_output(settings, Path(out))
    plot = wanted[0]

    def save(tmp: Path) -> None:
        import matplotlib
        from matplotlib.figure import Figure

        from reports.document import STYLE

        with matplotlib.rc_context(STYLE):
            fig = Figure(figsize=plot.size, layout="constrained")
            plot.draw(fig)
            fig.savefig(tmp, format=fmt)

    write_atomic(Path(out), save)
    return {"path": str(out), "plot": plot.name}

"""The report's sections: what the store knows, gathered through db/activity and the pipelines that look
inside champions (pipelines/inspect), laid out as text, tables and plots for reports/ to draw."""

from __future__ import annotations

from datetime import datetime

from core.settings import Settings
from db import activity, registry
from db import corpus as cq
from db import schedules as sq
from db.activity import FAILED
from db.engine import read_session
from db.tables import utcnow
from pipelines.inspect import samples_at_temperatures
from pipelines.report_forecasts import forecast_section
from reports import plots
from reports.document import Plot, Report, Section, Table, TextSample

SAMPLE_SHOWN = 3000  # characters of a stored sample a report shows; the rest is counted
STORED_SHOWN = 5  # the most recent stored samples shown whole


def summary_section(settings: Settings, since: datetime) -> Section:
    with read_session(settings) as session:
        done = activity.since(session, since)
    rows, fails = done["champions"], done["failed"]
    text = (
        f"In this period: {len(rows)} new champion(s), {done['issued']} forecast(s) issued, "
        f"{len(fails)} failed scheduled run(s), {done['samples']} text sample(s)."
    )
    blocks: list = [text]
    if rows:
        blocks.append(
            Table(["version", "kind", "subject", "architecture", "promoted"], rows, "New champions")
        )
    if fails:
        blocks.append(Table(["run", "schedule", "logical date", "status", "error"], fails, "Failed runs"))
    return Section("Summary", blocks)


def corpus_section(settings: Settings, corpus: str) -> Section:
    with read_session(settings) as session:
        cq.get_corpus(session, corpus)
        champion = registry.champion(session, "textgen", corpus)
        history = activity.training_history(session, champion)
        vid, metrics = (None, {}) if champion is None else (champion.id, dict(champion.metrics or {}))
        stored = [_stored_sample(s) for s in activity.recent_samples(session, corpus, STORED_SHOWN)]
    if vid is None:
        return Section(f"Text: {corpus}", ["No text generator trained on this corpus yet."])
    blocks: list = [
        f"Champion: version {vid}; validation loss {metrics.get('val_loss', float('nan')):.3f} nats = "
        f"{metrics.get('val_bpc', float('nan')):.3f} bits per character."
    ]
    if history and history.get("val_bpc"):
        draw = lambda fig: plots.bits_per_char(fig.add_subplot(), history["val_bpc"])  # noqa: E731
        blocks.append(
            Plot(f"{corpus} bits per char", draw, (7.5, 2.4), "validation bits per character by epoch")
        )
    blocks.append(f"Samples from version {vid} at three temperatures, each from a new line, seed 0:")
    for r in samples_at_temperatures(settings, corpus):
        blocks.append(TextSample("", r["sample"], f"version {vid} · temperature {r['temperature']} · seed 0"))
    if stored:
        blocks.append(f"The {len(stored)} most recent stored sample(s), newest first:")
        blocks += stored
    return Section(f"Text: {corpus}", blocks)


def _stored_sample(s) -> TextSample:
    params = s.params or {}
    parts = [f"sample {s.id}", f"version {s.model_version_id}", f"temperature {params.get('temperature')}"]
    parts.append(f"seed {s.seed}")
    if params.get("top_k"):
        parts.append(f"top-k {params['top_k']}")
    if params.get("top_p", 1.0) < 1.0:
        parts.append(f"top-p {params['top_p']}")
    copied = params.get("longest_copied")
    if copied is not None:
        length = copied.get("length") if isinstance(copied, dict) else copied
        parts.append(f"longest run copied from the corpus: {length} characters")
    parts.append(f"{s.created_at:%Y-%m-%d %H:%M} UTC")
    shown = s.text[:SAMPLE_SHOWN]
    return TextSample(s.prompt, shown, " · ".join(parts), len(s.text) - len(shown))


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


def jobs_section(settings: Settings) -> Section | None:
    with read_session(settings) as session:
        runs = sq.history(session, limit=40)
    if not runs:
        return None
    first = min(datetime.fromisoformat(r["started"]) for r in runs if r["started"])
    for r in runs:
        r["started_ts"] = (
            (datetime.fromisoformat(r["started"]) - first).total_seconds() / 60 if r["started"] else 0
        )
    cols = ["id", "schedule", "logical date", "attempt", "status", "started", "seconds"]
    shown = sorted(runs[:20], key=lambda r: r["status"] not in FAILED)  # failures first, newest first
    rows = [r | {"logical date": r["logical_date"], "status": r["status"].replace("_", " ")} for r in shown]
    alt = "one bar per recent run: when it started, how long it took, how it ended"
    return Section(
        "Scheduled jobs",
        [
            Plot("jobs timeline", lambda fig: plots.job_timeline(fig.add_subplot(), runs), (7.5, 2.4), alt),
            Table(cols, rows, "Recent runs, failures first"),
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
    why: str = "",
) -> Report:
    """The whole report; `why` says where the period's start came from (--since, the previous report)."""
    if not subjects and not corpora and not classifiers:
        subjects, corpora, classifiers = default_subjects(settings)
    now = utcnow()
    period = f"Period covered: {since:%Y-%m-%d %H:%M} to {now:%Y-%m-%d %H:%M} UTC" + (
        f" ({why})" if why else ""
    )
    sections = [summary_section(settings, since)]
    sections += [forecast_section(settings, s) for s in subjects]
    sections += [corpus_section(settings, c) for c in corpora]
    sections += [classifier_section(settings, c) for c in classifiers or []]
    jobs = jobs_section(settings)
    sections += [jobs] if jobs else []
    if len(sections) == 1:
        sections.append(
            Section(
                "Nothing to show yet", ["Train a forecaster or a text generator first: recur demo shows how."]
            )
        )
    return Report("recur report", f"{settings.home} · generated {now:%Y-%m-%d %H:%M} UTC", sections, period)

"""The tasks a schedule can run: a fixed, listed set. Each is the same pipeline function the CLI calls,
with parameters validated when the schedule is added (an unknown series is an error then, not at 2 a.m.)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from classifier.config import ClassifyConfig
from core.errors import InputError, TooShortError
from core.params import Param, params_of
from core.retention import Retention
from core.settings import Settings
from forecaster.config import BacktestConfig, ForecastConfig
from textgen.config import PRESETS, SampleRequest, TextGenConfig, preset, unescape


def plain(**kinds: type) -> dict[str, Param]:
    """Task parameters that are not configuration fields (paths, names, switches)."""
    return {name: Param(name, kind, None) for name, kind in kinds.items()}


def _named(params: list[Param]) -> dict[str, Param]:
    return {p.name: p for p in params}


# Every option `forecast train` has, from the same definitions (its --model also takes auto)
FORECAST_PARAMS = _named(params_of(ForecastConfig) + params_of(BacktestConfig))
TEXTGEN_PARAMS = _named(params_of(TextGenConfig)) | {
    "preset": Param("preset", str, "cpu", choices=tuple(PRESETS)),
    "resume": Param("resume", bool, False),
}
CLASSIFY_PARAMS = _named(params_of(ClassifyConfig))
SAMPLE_PARAMS = _named(params_of(SampleRequest))
RETENTION_PARAMS = _named(params_of(Retention)) | {"vacuum": Param("vacuum", bool, False)}


def parsed(spec: dict[str, Param], p: dict) -> dict:
    """The task's parameters that `spec` defines, as values of their types."""
    return {k: spec[k].parse(str(v)) for k, v in p.items() if k in spec}


@dataclass(frozen=True)
class Task:
    help: str
    required: tuple[str, ...]
    optional: dict[str, Param]
    run: Callable[[Settings, dict], dict]
    subjects: tuple[str, ...] = ()  # params that must name an existing series/group ("series") or corpus
    build: Callable[[dict], object] | None = None  # the configuration the run will build, built at `add`


# `series ingest`'s layout and gap options (value_col: comma-separated), so a long file ingests nightly too
INGEST_KEYS = ("fill", "on_duplicate", "missing", "freq", "id_col", "time_col", "value_col")
INGEST_PARAMS = plain(**dict.fromkeys(INGEST_KEYS, str))


def _ingest_options(p: dict):
    from readers.csvread import IngestOptions

    given = {k: p[k] for k in INGEST_KEYS if k in p and k != "value_col"}
    cols = tuple(c.strip() for c in str(p.get("value_col", "")).split(",") if c.strip())
    return IngestOptions(name=p.get("name"), value_cols=cols, **given)


def _ingest(settings: Settings, p: dict) -> dict:
    from pipelines.ingest import ingest_corpus, ingest_series

    path = Path(p["path"])
    files = sorted(f for f in path.iterdir() if f.is_file()) if path.is_dir() else [path]
    if p.get("corpus"):
        return {"corpus": ingest_corpus(settings, path, p["corpus"]).as_dict()}
    opts = _ingest_options(p)
    return {"ingested": [ingest_series(settings, f, opts).as_dict() for f in files]}


def _forecast_config(p: dict) -> tuple[ForecastConfig, BacktestConfig]:
    """(configuration, backtest settings) of a forecasting task's parameters."""
    values = parsed(FORECAST_PARAMS, p)
    windows = {p.name: values.pop(p.name) for p in params_of(BacktestConfig) if p.name in values}
    return ForecastConfig(**values), BacktestConfig(**windows)


def _retrain(settings: Settings, p: dict) -> dict:
    from pipelines.forecast import train_forecaster

    cfg, bt = _forecast_config(p)
    try:
        out = train_forecaster(settings, p["subject"], cfg, bt)
    except TooShortError as exc:  # the night's forecast still comes, from the baselines and peers
        return {"skipped": str(exc)}
    return {k: out[k] for k in ("version", "model", "alias", "promoted", "reason")}


def _forecast(settings: Settings, p: dict) -> dict:
    from pipelines.vintages import PredictOptions, predict_forecast

    horizon = parsed(FORECAST_PARAMS, p).get("horizon")
    out = predict_forecast(settings, p["subject"], PredictOptions(horizon, keep=True))
    kept = [f["kept"] for f in out["forecasts"] if "kept" in f]
    return {
        "forecast_ids": [f["forecast_id"] for f in out["forecasts"]],
        "method": out["method"],
        "model_version": out["model_version"],
    } | ({"kept": kept} if kept else {})


def _score(settings: Settings, p: dict) -> dict:
    from pipelines.vintages import score_vintages

    rows = score_vintages(settings, p["subject"])
    return {"vintages": len(rows), "scored": sum(1 for r in rows if r["arrived"])}


def _textgen_config(p: dict):
    values = parsed(TEXTGEN_PARAMS, p)
    values.pop("resume", None)
    return preset(values.pop("preset", "cpu"), **values)


def _retrain_textgen(settings: Settings, p: dict) -> dict:
    from pipelines.textgen import TextgenRun, train_textgen

    resume = parsed(TEXTGEN_PARAMS, p).get("resume", False)
    out = train_textgen(settings, p["corpus"], _textgen_config(p), TextgenRun(resume, say=lambda _m: None))
    return {k: out[k] for k in ("version", "alias", "val_loss", "val_bpc")}


def _sample_request(p: dict) -> SampleRequest:
    values = parsed(SAMPLE_PARAMS, p)
    return SampleRequest(**values | {"stop": unescape(values.get("stop"))})


def _sample(settings: Settings, p: dict) -> dict:
    from pipelines.sampling import sample_text

    out = sample_text(settings, p["corpus"], _sample_request(p))
    return {"sample_ids": out["ids"], "version": out["version"], "seed": out["seed"]}


def _classify_config(p: dict):
    return ClassifyConfig(**parsed(CLASSIFY_PARAMS, p))


def _retrain_classifier(settings: Settings, p: dict) -> dict:
    from pipelines.classify import train_classifier

    out = train_classifier(settings, p["labels"], _classify_config(p))
    return {k: out[k] for k in ("version", "model", "alias", "reason")}


def _classify(settings: Settings, p: dict) -> dict:
    """The latest window of a series (series classifiers) or the lines of a file (text classifiers)."""
    from pipelines.classify import predict, predict_window

    if p.get("series"):
        out = predict_window(settings, p["labels"], p["series"])
    else:
        lines = Path(p["file"]).read_text(encoding="utf-8").splitlines()
        out = predict(settings, p["labels"], [ln for ln in lines if ln.strip()])
    return {"version": out["version"], "predictions": [o["id"] for o in out["predictions"]]}


def _nightly(settings: Settings, p: dict) -> dict:
    """ingest (when a path is given) → retrain a challenger → promote only if better → forecast with the
    champion → score past vintages."""
    out = {}
    if p.get("path"):
        name = p.get("name") or _ingested_as(settings, p["subject"])
        given = {k: v for k, v in p.items() if k in ("path", *INGEST_KEYS)}
        out["ingest"] = _ingest(settings, given | {"name": name})
    out["retrain"] = _retrain(settings, p)
    out["forecast"] = _forecast(settings, p)
    out["score"] = _score(settings, p)
    out["report"] = _report(settings, {"series": p["subject"]})["path"]
    return out


def _ingested_as(settings: Settings, subject: str) -> str:
    """The name a file holding `subject` is ingested under: its group when it is a member of one (a file
    of several columns becomes the group NAME with series NAME/column), else the subject itself."""
    from db import series as q
    from db.engine import read_session

    with read_session(settings) as session:
        series = q.get_series(session, subject)
        if series is not None and series.group is not None:
            return series.group.name
        if series is not None or q.get_group(session, subject) is not None:
            return subject
    return subject.rpartition("/")[0] or subject


def _report(settings: Settings, p: dict) -> dict:
    """The report, written into <home>/reports/ under a dated name (or `out`)."""
    from datetime import UTC, datetime

    from pipelines.report import ReportRequest, export

    fmt = p.get("format", "html")
    out = (
        Path(p["out"])
        if p.get("out")
        else settings.subdir("reports") / f"report-{datetime.now(UTC):%Y-%m-%d}.{fmt}"
    )
    subjects = tuple(x for x in p.get("series", "").split(",") if x)
    corpora = tuple(x for x in p.get("corpus", "").split(",") if x)
    return export(settings, ReportRequest(out, fmt, subjects, corpora, sent=True))


def _retention(p: dict) -> Retention:
    values = parsed(RETENTION_PARAMS, p)
    values.pop("vacuum", None)
    return Retention.resolve(**values)


def _maintenance(settings: Settings, p: dict) -> dict:
    """Prune model artifacts and old forecasts' points under the retention policy (the schedule's
    parameters, else the store's RECUR_RETENTION_*), then, with vacuum=true, give the space back."""
    from pipelines.retention import prune_models, prune_vintages

    out = prune_models(settings, _retention(p))
    done = {k: out[k] for k in ("pruned", "prunable_bytes", "kept_bytes")}
    vintages = prune_vintages(settings, _retention(p))
    done |= {"vintages_pruned": vintages["vintages"], "points_deleted": vintages["points"]}
    if parsed(RETENTION_PARAMS, p).get("vacuum"):
        from pipelines.store import db_vacuum

        done["vacuum"] = db_vacuum(settings)
    return done


def _sleep_checks(p: dict) -> None:
    import math

    if not (math.isfinite(float(p["seconds"])) and float(p["seconds"]) >= 0):
        raise InputError(f"--param seconds={p['seconds']}: must be 0 or more")


def _sleep(settings: Settings, p: dict) -> dict:
    import time

    time.sleep(float(p["seconds"]))
    if str(p.get("fail", "false")).lower() == "true":
        raise RuntimeError("failed on purpose")
    return {"slept": float(p["seconds"])}


TASKS: dict[str, Task] = {
    "ingest": Task(
        "append new rows (or text) from a file or folder",
        ("path",),
        plain(name=str, corpus=str) | INGEST_PARAMS,
        _ingest,
    ),
    "retrain-forecaster": Task(
        "train a challenger; promote it only if it beats seasonal naive and the champion",
        ("subject",),
        FORECAST_PARAMS,
        _retrain,
        ("subject",),
        _forecast_config,
    ),
    "forecast": Task(
        "forecast with the champion and store the vintage",
        ("subject",),
        {"horizon": FORECAST_PARAMS["horizon"]},
        _forecast,
        ("subject",),
        _forecast_config,
    ),
    "score-vintages": Task(
        "score past forecasts against the actuals", ("subject",), {}, _score, ("subject",)
    ),
    "retrain-textgen": Task(
        "train a text generator on a corpus",
        ("corpus",),
        TEXTGEN_PARAMS,
        _retrain_textgen,
        ("corpus",),
        _textgen_config,
    ),
    "sample": Task(
        "generate text with the corpus's champion",
        ("corpus",),
        SAMPLE_PARAMS,
        _sample,
        ("corpus",),
        _sample_request,
    ),
    "nightly": Task(
        "ingest → retrain → promote if better → forecast → score",
        ("subject",),
        FORECAST_PARAMS | plain(path=str, name=str) | INGEST_PARAMS,
        _nightly,
        ("subject",),
        _forecast_config,
    ),
    "report": Task(
        "write the report into <home>/reports/",
        (),
        plain(format=str, out=str, series=str, corpus=str),
        _report,
    ),
    "retrain-classifier": Task(
        "train a classifier on a labelled set; promote it only if it beats the baselines and the champion",
        ("labels",),
        CLASSIFY_PARAMS,
        _retrain_classifier,
        ("labels",),
        _classify_config,
    ),
    "classify": Task(
        "classify with the champion: the latest window of `series`, or the lines of `file`",
        ("labels",),
        plain(series=str, file=str),
        _classify,
        ("labels",),
    ),
    "maintenance": Task(
        "prune old model artifacts and old forecasts' points under the retention policy (vacuum=true: "
        "then give the space back)",
        (),
        RETENTION_PARAMS,
        _maintenance,
        build=_retention,
    ),
    "sleep": Task(
        "wait (for testing timeouts and retries)",
        ("seconds",),
        plain(fail=str),
        _sleep,
        build=_sleep_checks,
    ),
}

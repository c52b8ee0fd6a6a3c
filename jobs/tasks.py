"""The tasks a schedule can run: a fixed, listed set. Each is the same pipeline function the CLI calls,
with parameters validated when the schedule is added (an unknown series is an error then, not at 2 a.m.)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core.errors import InputError
from core.settings import Settings


@dataclass(frozen=True)
class Task:
    help: str
    required: tuple[str, ...]
    optional: dict[str, type]
    run: Callable[[Settings, dict], dict]
    subjects: tuple[str, ...] = ()  # params that must name an existing series/group ("series") or corpus
    build: Callable[[dict], object] | None = None  # the configuration the run will build, built at `add`


def _ingest(settings: Settings, p: dict) -> dict:
    from pipelines.ingest import ingest_corpus, ingest_series
    from readers.csvread import IngestOptions

    path = Path(p["path"])
    files = sorted(f for f in path.iterdir() if f.is_file()) if path.is_dir() else [path]
    if p.get("corpus"):
        return {"corpus": ingest_corpus(settings, path, p["corpus"]).as_dict()}
    opts = IngestOptions(**{k: p[k] for k in ("name", "fill", "on_duplicate", "missing", "freq") if k in p})
    return {"ingested": [ingest_series(settings, f, opts).as_dict() for f in files]}


def _forecast_config(p: dict):
    from forecaster.config import ForecastConfig

    keys = ("lookback", "horizon", "epochs", "units", "layers", "seed", "season")
    model = p.get("model", "auto")
    return ForecastConfig(
        model="lstm" if model == "auto" else model, **{k: int(p[k]) for k in keys if k in p}
    ), model


def _forecast_checks(p: dict):
    """The run's configuration, and the counts it takes as they are."""
    for key in ("windows", "horizon"):
        if key in p and int(p[key]) < 1:
            raise InputError(f"--param {key}={p[key]}: must be at least 1")
    return _forecast_config(p) if set(p) - {"subject", "horizon"} else None


def _retrain(settings: Settings, p: dict) -> dict:
    from pipelines.forecast import AUTO, train_forecaster

    cfg, model = _forecast_config(p)
    out = train_forecaster(
        settings, p["subject"], cfg, int(p.get("windows", 5)), candidates=AUTO if model == "auto" else ()
    )
    return {k: out[k] for k in ("version", "model", "alias", "promoted", "reason")}


def _forecast(settings: Settings, p: dict) -> dict:
    from pipelines.vintages import predict_forecast

    out = predict_forecast(settings, p["subject"], int(p["horizon"]) if "horizon" in p else None)
    return {
        "forecast_ids": [f["forecast_id"] for f in out["forecasts"]],
        "method": out["method"],
        "model_version": out["model_version"],
    }


def _score(settings: Settings, p: dict) -> dict:
    from pipelines.vintages import score_vintages

    rows = score_vintages(settings, p["subject"])
    return {"vintages": len(rows), "scored": sum(1 for r in rows if r["arrived"])}


def _textgen_config(p: dict):
    from textgen.config import preset

    overrides = {k: int(p[k]) for k in ("epochs", "units", "layers", "seq_len") if k in p}
    return preset(
        p.get("preset", "cpu"), time_limit=float(p["time_limit"]) if "time_limit" in p else None, **overrides
    )


def _retrain_textgen(settings: Settings, p: dict) -> dict:
    from pipelines.textgen import train_textgen

    cfg = _textgen_config(p)
    out = train_textgen(
        settings,
        p["corpus"],
        cfg,
        resume=str(p.get("resume", "false")).lower() == "true",
        say=lambda _m: None,
    )
    return {k: out[k] for k in ("version", "alias", "val_loss", "val_bpc")}


def _sample_request(p: dict):
    from pipelines.sampling import SampleRequest

    return SampleRequest(
        prompt=p.get("prompt", ""),
        length=int(p.get("length", 300)),
        temperature=float(p.get("temperature", 0.8)),
        n=int(p.get("n", 1)),
    )


def _sample(settings: Settings, p: dict) -> dict:
    from pipelines.sampling import sample_text

    out = sample_text(settings, p["corpus"], _sample_request(p))
    return {"sample_ids": out["ids"], "version": out["version"], "seed": out["seed"]}


CLASSIFY_OPTIONS = {"model": str, "units": int, "layers": int, "epochs": int, "seed": int, "max_length": int}


def _classify_config(p: dict):
    from classifier.config import ClassifyConfig

    options = {k: (v if CLASSIFY_OPTIONS[k] is str else int(v)) for k, v in p.items() if k != "labels"}
    return ClassifyConfig(**options)


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
        out["ingest"] = _ingest(
            settings, {"path": p["path"], "name": name} | {k: p[k] for k in ("fill",) if k in p}
        )
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

    from pipelines.report import export

    fmt = p.get("format", "html")
    out = (
        Path(p["out"])
        if p.get("out")
        else settings.subdir("reports") / f"report-{datetime.now(UTC):%Y-%m-%d}.{fmt}"
    )
    subjects = tuple(x for x in p.get("series", "").split(",") if x)
    corpora = tuple(x for x in p.get("corpus", "").split(",") if x)
    return export(settings, fmt, out, subjects, corpora)


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


FORECAST_OPTIONS = {
    "model": str,
    "lookback": int,
    "horizon": int,
    "epochs": int,
    "units": int,
    "layers": int,
    "seed": int,
    "season": int,
    "windows": int,
}

TASKS: dict[str, Task] = {
    "ingest": Task(
        "append new rows (or text) from a file or folder",
        ("path",),
        {"name": str, "corpus": str, "fill": str, "on_duplicate": str, "missing": str, "freq": str},
        _ingest,
    ),
    "retrain-forecaster": Task(
        "train a challenger; promote it only if it beats seasonal naive and the champion",
        ("subject",),
        FORECAST_OPTIONS,
        _retrain,
        ("subject",),
        _forecast_checks,
    ),
    "forecast": Task(
        "forecast with the champion and store the vintage",
        ("subject",),
        {"horizon": int},
        _forecast,
        ("subject",),
        _forecast_checks,
    ),
    "score-vintages": Task(
        "score past forecasts against the actuals", ("subject",), {}, _score, ("subject",)
    ),
    "retrain-textgen": Task(
        "train a text generator on a corpus",
        ("corpus",),
        {
            "preset": str,
            "epochs": int,
            "units": int,
            "layers": int,
            "seq_len": int,
            "time_limit": float,
            "resume": str,
        },
        _retrain_textgen,
        ("corpus",),
        _textgen_config,
    ),
    "sample": Task(
        "generate text with the corpus's champion",
        ("corpus",),
        {"prompt": str, "length": int, "temperature": float, "n": int},
        _sample,
        ("corpus",),
        _sample_request,
    ),
    "nightly": Task(
        "ingest → retrain → promote if better → forecast → score",
        ("subject",),
        FORECAST_OPTIONS | {"path": str, "fill": str, "name": str},
        _nightly,
        ("subject",),
        _forecast_checks,
    ),
    "report": Task(
        "write the report into <home>/reports/",
        (),
        {"format": str, "out": str, "series": str, "corpus": str},
        _report,
    ),
    "retrain-classifier": Task(
        "train a classifier on a labelled set; promote it only if it beats the baselines and the champion",
        ("labels",),
        CLASSIFY_OPTIONS,
        _retrain_classifier,
        ("labels",),
        _classify_config,
    ),
    "classify": Task(
        "classify with the champion: the latest window of `series`, or the lines of `file`",
        ("labels",),
        {"series": str, "file": str},
        _classify,
        ("labels",),
    ),
    "sleep": Task(
        "wait (for testing timeouts and retries)", ("seconds",), {"fail": str}, _sleep, build=_sleep_checks
    ),
}


def validate(settings: Settings, task: str, params: dict) -> dict:
    """Check a task's parameters now, with the same messages the task would give later."""
    if task not in TASKS:
        raise InputError(f"unknown task {task!r}; tasks: {', '.join(TASKS)}")
    spec = TASKS[task]
    allowed = set(spec.required) | set(spec.optional)
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise InputError(
            f"task {task!r} takes no parameter {unknown[0]!r}; it takes: {', '.join(sorted(allowed))}"
        )
    missing = [k for k in spec.required if k not in params]
    if missing:
        raise InputError(f"task {task!r} needs --param {missing[0]}=...")
    for key, kind in (spec.optional | {"seconds": float}).items():
        if key in params and kind in (int, float):
            _number(key, params[key], kind)
    if spec.build is not None:
        try:
            spec.build(params)
        except InputError as exc:  # the configuration names its CLI options; here they are --param keys
            import re

            message = re.sub(
                r"^--(?!param )([a-z-]+) ", lambda m: f"--param {m[1].replace('-', '_')}=", str(exc)
            )
            raise InputError(message) from exc
    _check_subjects(settings, spec, params)
    if task == "classify" and bool(params.get("series")) == bool(params.get("file")):
        raise InputError("task 'classify' needs one of --param series=NAME or --param file=PATH")
    if task == "classify" and params.get("series"):
        from db import series as q
        from db.engine import read_session

        with read_session(settings) as session:
            q.resolve(session, params["series"])
    if task in ("ingest", "nightly") and params.get("path") and not Path(params["path"]).exists():
        raise InputError(f"--param path={params['path']!r}: no such file or folder")
    return params


def _number(key: str, text: str, kind: type) -> None:
    import math

    what = "a whole number" if kind is int else "a finite number"
    try:
        ok = math.isfinite(kind(text))
    except ValueError:
        ok = False
    if not ok:
        raise InputError(f"--param {key}={text!r}: must be {what}")


def _check_subjects(settings: Settings, spec: Task, params: dict) -> None:
    from db import corpus as cq
    from db import labels as lq
    from db import series as q
    from db.engine import read_session

    with read_session(settings) as session:
        for key in spec.subjects:
            if key == "corpus":
                cq.get_corpus(session, params[key])
            elif key == "labels":
                lq.get_set(session, params[key])
            elif not (spec is TASKS["nightly"] and params.get("path")):
                q.resolve(session, params[key])


def parse_params(pairs: tuple[str, ...]) -> dict:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InputError(f"--param {pair!r}: write key=value")
        out[key.strip().replace("-", "_")] = value
    return out

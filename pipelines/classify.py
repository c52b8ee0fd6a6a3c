"""Classification pipelines: labelled data in, classifiers trained against baselines, predictions stored."""

from __future__ import annotations

import shlex
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import delete, select

from classifier.config import ClassifyConfig
from classifier.data import stratified, vectorize, vectorizer
from classifier.series import pad
from classifier.train import fit as fit_model
from classifier.train import fit_series
from core.errors import ConflictError, InputError, RecurError
from core.numbers import apart
from core.settings import Settings
from core.timefmt import format_ts
from db import labels as lq
from db import registry
from db.engine import read_session, write_session
from db.names import check_name
from db.tables import LabelledItem, LabelledSet, Prediction
from nn.cells import recurrent_cell
from runtime.artifacts import load_champion
from runtime.training import Fitted, still_held, train_and_register


@dataclass(frozen=True)
class SeriesLabels:
    """Where labelled windows come from: --series NAME (rows of time, label; each labels the `window`
    points ending there) or --windows (rows of series, start, end, label)."""

    series: str | None = None
    time_col: str = "time"
    window: int = 24
    listed: bool = False


def ingest_labels(
    settings: Settings,
    path: str | Path,
    text_col: str,
    label_col: str,
    name: str | None,
    windows: SeriesLabels | None = None,
) -> dict:
    path = Path(path)
    if windows is not None and windows.series and windows.listed:
        raise InputError("--series and --windows are two ways to label windows: give one")
    # Read and check everything before the write transaction: a large file holds no lock.
    if windows is None:
        texts, labels = lq.read_labelled(path, text_col, label_col)
        rows, info = [{"text": t, "label": lb} for t, lb in zip(texts, labels, strict=True)], {}
    else:
        with read_session(settings) as session:
            rows, info = _window_rows(session, path, label_col, windows)
    name = check_name(name or path.stem, "labelled set")
    with write_session(settings) as session:
        if session.scalar(select(LabelledSet.id).where(LabelledSet.name == name)) is not None:
            raise ConflictError(f"a labelled set named {name!r} exists; delete it first or pass --name")
        labels = [r["label"] for r in rows]
        s = LabelledSet(
            name=name, kind="series" if windows else "text", classes=sorted(set(labels)), source=str(path)
        )
        session.add(s)
        session.flush()
        session.execute(
            LabelledItem.__table__.insert(), [r | {"set_id": s.id, "seq": i} for i, r in enumerate(rows)]
        )
    return {"name": name, "kind": s.kind, "items": len(rows), "classes": dict(Counter(labels))} | info


def _window_rows(session, path: Path, label_col: str, w: SeriesLabels) -> tuple[list[dict], dict]:
    from pipelines import labelled_windows as lw

    found = (
        lw.ending_windows(session, path, w.series, w.time_col, label_col, w.window)
        if w.series
        else lw.listed_windows(session, path, label_col)
    )
    rows = [
        {"text": lw.describe(s, a, b), "label": lb, "series_id": s.id, "start_ts": a, "end_ts": b}
        for s, a, b, lb in found["items"]
    ]
    return rows, {"series": sorted({s.name for s, *_ in found["items"]})}


def list_sets(settings: Settings) -> list[dict]:
    with read_session(settings) as session:
        out = []
        for s in session.scalars(select(LabelledSet).order_by(LabelledSet.name)):
            _texts, labels = lq.items(session, s.id)
            out.append(
                {
                    "name": s.name,
                    "kind": s.kind,
                    "items": len(labels),
                    "classes": dict(Counter(labels)),
                    "source": s.source,
                }
            )
        return out


def delete_set(settings: Settings, name: str, cascade: bool = False) -> dict:
    """A labelled set; the classifiers trained on it and the schedules that name it only with `cascade`."""
    from pipelines.catalog import dependents, remove_dependents

    with write_session(settings) as session:
        s = lq.get_set(session, name)
        removed = remove_dependents(
            session, f"labelled set {name!r}", *dependents(session, "classifier", {name}), cascade
        )
        session.execute(delete(LabelledItem).where(LabelledItem.set_id == s.id))
        session.delete(s)
    return {"name": name, "deleted": True} | removed


def train_classifier(
    settings: Settings,
    name: str,
    cfg,
    force: bool = False,
    device: str = "auto",
    precision: str = "float32",
) -> dict:
    """Train on a stratified split; promote only when macro F1 beats the majority class, the linear
    baseline (bag of words for texts, window statistics for series) and the current champion on the same
    test items."""
    with read_session(settings) as session:
        s = lq.get_set(session, name)
        texts, labels = lq.items(session, s.id)
        inputs = lq.window_values(session, s.id) if s.kind == "series" else texts
        classes, kind, set_id = list(s.classes), s.kind, s.id
    y = np.array([classes.index(lb) for lb in labels])
    split = stratified(y, cfg.test, cfg.validation, cfg.seed)

    def fit() -> Fitted:
        trained = (fit_series if kind == "series" else fit_model)(cfg, inputs, y, classes, split)
        config = cfg.to_json() | {"classes": classes, "vocabulary": trained.vocabulary} | trained.inputs
        metrics = {"test": trained.scores, "test_items": len(split.test)}
        metrics["member_epochs"] = trained.member_epochs
        return Fitted(trained, cfg.model, config, metrics, recurrent_cell(cfg.model), masked=True)

    def gate(session, fitted: Fitted) -> tuple[bool, str]:
        still_held(lq.set_changed(session, name, set_id))
        return _decide(session, name, fitted.metrics["test"], force)

    done = train_and_register(settings, "classifier", name, fit, gate, device, precision)
    sc = done.metrics["test"]
    return {
        "version": done.version,
        "name": name,
        "model": cfg.model,
        "alias": done.alias,
        "reason": done.reason,
        "device": done.device,
        "scores": {k: {m: v[m] for m in ("accuracy", "macro_f1")} for k, v in sc.items()},
        "metrics": done.metrics,
    }


BASELINES = {
    "majority": "majority class",
    "bag_of_words": "bag of words",
    "window_statistics": "a linear model on window statistics",
}


def _decide(session, name: str, sc: dict, force: bool) -> tuple[bool, str]:
    new = sc["model"]["macro_f1"]
    bars = {BASELINES.get(k, k): v["macro_f1"] for k, v in sc.items() if k != "model"}
    current = registry.champion(session, "classifier", name)
    if current is not None:
        bars["the champion"] = (current.metrics or {}).get("test", {}).get("model", {}).get("macro_f1", 0.0)
    if force:
        return True, "promoted with --force"
    shown = {k: apart(new, v) for k, v in bars.items()}
    failed = [
        f"{'ties with' if new == v else 'does not beat'} {k} ({shown[k][1]})"
        for k, v in bars.items()
        if new <= v
    ]
    mine = max((s[0] for s in shown.values()), key=len, default=f"{new:.4f}")
    if failed:
        return False, f"macro F1 {mine} " + " and ".join(failed)
    return True, f"macro F1 {mine} beats " + ", ".join(f"{k} ({shown[k][1]})" for k in bars)


def _champion_model(settings: Settings, name: str, version_id: int | None):
    with read_session(settings) as session:
        lq.get_set(session, name)  # a set that does not exist is named as such, not as one without a model
    v = load_champion(settings, "classifier", name, version_id)
    if v is None:
        quoted = shlex.quote(name)
        raise RecurError(
            f"{name!r} has no classifier champion: train one (`recur classify train {quoted}`, with --force "
            "to promote it whatever its scores), promote a trained version (`recur models list --subject "
            f"{quoted}`, then `recur models promote VERSION`), or pass --version VERSION"
        )
    return v.id, v.config, v.metrics, v.model


def predict(
    settings: Settings, name: str, texts: list[str], version_id: int | None = None, explain: bool = False
) -> dict:
    if not texts or any(not t.strip() for t in texts):
        raise InputError("nothing to classify: give --text or a --file of non-empty lines")
    vid, config, _metrics, model = _champion_model(settings, name, version_id)
    if config.get("input") == "series":
        raise InputError(f"{name!r} classifies windows of series: give --series NAME [--end TIME]")
    cfg = ClassifyConfig.from_json(config)
    tv = vectorizer(cfg.max_tokens, cfg.max_length, config["vocabulary"])
    x = vectorize(tv, texts)
    out = _answers(texts, np.asarray(model.predict(x, verbose=0)), config["classes"])
    if explain and cfg.model == "attention":
        _explain(model, x, config["vocabulary"], out)
    _store(settings, vid, out)
    return {"name": name, "version": vid, "predictions": out}


def _answers(inputs: list[str], probs: np.ndarray, classes: list[str]) -> list[dict]:
    return [
        {
            "text": t,
            "label": classes[int(np.argmax(p))],
            "probabilities": {c: float(v) for c, v in zip(classes, p, strict=True)},
        }
        for t, p in zip(inputs, probs, strict=True)
    ]


def _store(settings: Settings, vid: int, out: list[dict]) -> None:
    """Every prediction is kept with the model version that made it."""
    with write_session(settings) as session:
        rows = [
            Prediction(
                model_version_id=vid, text=o["text"], label=o["label"], probabilities=o["probabilities"]
            )
            for o in out
        ]
        session.add_all(rows)
        session.flush()
        for o, r in zip(out, rows, strict=True):
            o["id"] = r.id


def predict_window(
    settings: Settings, name: str, series: str, end: str | None = None, version_id: int | None = None
) -> dict:
    """Classify the window of a stored series that ends at `end` (default: its latest point), as long as
    the windows the model was trained on."""
    from pipelines import labelled_windows as lw

    vid, config, _metrics, model = _champion_model(settings, name, version_id)
    if config.get("input") != "series":
        raise InputError(f"{name!r} classifies texts: give --text or --file")
    length = int(config["length"])
    with read_session(settings) as session:
        s = lw.find_series(session, series, "--series:")
        ts, values = lq.points_of(session, s.id)
        pos = len(ts) - 1 if end is None else lw.position_of(s, ts, end, length)
    if pos + 1 < length:
        raise InputError(f"series {series!r} has {pos + 1} points up to there; the model needs {length}")
    missing = lw.missing_steps(s, ts, pos - length + 1, pos)
    if missing:
        end_at = format_ts(int(ts[pos]), s.time_kind)
        raise InputError(f"the window of {length} points ending {end_at} " + lw.gap_error(s, missing))
    window = values[pos - length + 1 : pos + 1]
    probs = np.asarray(model.predict(pad([window], length, *config["scale"]), verbose=0))
    out = _answers([lw.describe(s, int(ts[pos - length + 1]), int(ts[pos]))], probs, config["classes"])
    _store(settings, vid, out)
    return {"name": name, "version": vid, "predictions": out}


def _explain(model, x: np.ndarray, vocabulary: list[str], out: list[dict]) -> None:
    """Per-token attention weights: which words the attention model looked at."""
    from nn.layers import attention_weights_model

    first = next((lay for lay in model.layers if lay.name == "member_0"), model)  # an ensemble's first net
    weights = np.asarray(attention_weights_model(first).predict(x, verbose=0))
    for o, ids, w in zip(out, x, weights, strict=True):
        tokens = [(vocabulary[i], float(a)) for i, a in zip(ids, w, strict=True) if i != 0]
        o["attention"] = sorted(tokens, key=lambda t: -t[1])[:8]


def evaluate(settings: Settings, name: str, version_id: int | None = None) -> dict:
    """The stored test scores of a version (the champion by default), beside its baselines."""
    vid, _config, metrics, _model = _champion_model(settings, name, version_id)
    return {"name": name, "version": vid} | metrics

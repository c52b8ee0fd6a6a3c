"""The registry seen from the CLI: list, show, promote, roll back."""

from __future__ import annotations

from core.settings import Settings
from db import registry
from db.engine import read_session, write_session
from db.retention import PRUNED
from forecaster.scores import Scoreboard, lead_of


def _score(metrics: dict | None) -> float | None:
    """A forecaster's backtest MASE (of what it issues), a text generator's validation loss, or a
    classifier's macro F1 on its test split."""
    metrics = metrics or {}
    classifier = (metrics.get("test") or {}).get("model") or {}
    return (
        Scoreboard.of(metrics).score(lead_of(metrics))
        or metrics.get("val_loss")
        or classifier.get("macro_f1")
    )


def _row(v) -> dict:
    return {
        "id": v.id,
        "kind": v.kind,
        "subject": v.subject,
        "architecture": v.architecture,
        "status": v.status,
        "alias": v.alias,
        "score": _score(v.metrics),
        "created": v.created_at.isoformat(sep=" ", timespec="seconds"),
    }


def list_models(settings: Settings, kind: str | None = None, subject: str | None = None) -> list[dict]:
    with read_session(settings) as session:
        return [_row(v) for v in registry.list_versions(session, kind, subject)]


def show_model(settings: Settings, version_id: int) -> dict:
    with read_session(settings) as session:
        v = registry.get_version(session, version_id)
        out = _row(v) | {
            "sha256": v.sha256,
            "bytes": len(v.artifact or b""),
            "artifact": "pruned" if v.status == PRUNED else ("stored" if v.artifact else "none"),
            "training_run": v.training_run_id,
        }
        out |= {
            "promoted_at": v.promoted_at.isoformat(sep=" ", timespec="seconds") if v.promoted_at else None
        }
        out |= {"config": {k: val for k, val in v.config.items() if not isinstance(val, dict | list)}}
        out |= {"metrics": v.metrics, "scores": scores(v.metrics)}
        return out


def scores(metrics: dict | None) -> list[dict]:
    """The headline table of a version's metrics: a forecaster's backtest, one row per method, or a
    classifier's test scores."""
    rows = [{k: v for k, v in r.items() if k != "series"} for r in Scoreboard.of(metrics).rows()]
    test = (metrics or {}).get("test") or {}
    if not rows and test and all(isinstance(v, dict) for v in test.values()):
        rows = [{"method": m} | v for m, v in test.items()]
    return rows


def promote_model(settings: Settings, version_id: int) -> dict:
    with write_session(settings) as session:
        version = registry.get_version(session, version_id)
        previous = registry.promote(session, version)
        return {
            "champion": version.id,
            "subject": version.subject,
            "previous": previous.id if previous else None,
        }


def rollback_model(settings: Settings, subject: str, kind: str = "forecaster") -> dict:
    with write_session(settings) as session:
        restored, retired = registry.rollback(session, kind, subject)
        return {"champion": restored.id, "retired": retired.id, "subject": subject}

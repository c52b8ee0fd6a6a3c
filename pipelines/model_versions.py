"""The registry seen from the CLI: list, show, promote, roll back."""

from __future__ import annotations

from core.settings import Settings
from db import registry
from db.engine import read_session, write_session


def _score(metrics: dict | None) -> float | None:
    overall = ((metrics or {}).get("backtest") or {}).get("overall") or {}
    return (overall.get("model") or {}).get("mase") or (metrics or {}).get("val_loss")


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
            "training_run": v.training_run_id,
        }
        out |= {
            "promoted_at": v.promoted_at.isoformat(sep=" ", timespec="seconds") if v.promoted_at else None
        }
        out |= {"config": {k: val for k, val in v.config.items() if not isinstance(val, dict | list)}}
        out |= {"metrics": v.metrics}
        return out


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

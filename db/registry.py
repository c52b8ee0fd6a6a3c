"""The model registry: versions with their artifact bytes and sha256, aliases (champion, challenger).
Query functions take a session first and never commit."""

from __future__ import annotations

import hashlib

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.errors import NotFoundError, RecurError
from db.retention import PRUNED
from db.tables import ModelVersion, TrainingRun, utcnow


def add_version(
    session: Session, *, artifact: bytes, inference: bytes | None = None, **fields
) -> ModelVersion:
    """Row and bytes in one transaction: a crash never leaves a registered model without its file. The
    optional inference export gets its own sha256."""
    version = ModelVersion(artifact=artifact, sha256=_sha(artifact), status="ready", **fields)
    if inference is not None:
        version.inference, version.inference_sha256 = inference, _sha(inference)
    session.add(version)
    session.flush()
    return version


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def get_version(session: Session, version_id: int) -> ModelVersion:
    version = session.get(ModelVersion, version_id)
    if version is None:
        raise NotFoundError(f"no model version {version_id}; `recur models list` shows them")
    return version


def pruned_message(version_id: int) -> str:
    return (
        f"model version {version_id}: its artifact was pruned by retention (recur models prune); its "
        "metrics and lineage remain, its weights do not. Use the champion or a version that kept its bytes"
    )


def verified_bytes(version: ModelVersion) -> bytes:
    """The artifact, refused unless its sha256 matches the one stored when it was written."""
    if version.status == PRUNED:
        raise RecurError(pruned_message(version.id))
    if version.status != "ready" or version.artifact is None:
        raise RecurError(f"model version {version.id} is {version.status}, not ready")
    digest = hashlib.sha256(version.artifact).hexdigest()
    if digest != version.sha256:
        raise RecurError(
            f"model version {version.id}: artifact sha256 {digest[:12]}... does not match the stored "
            f"{(version.sha256 or '')[:12]}...: the artifact is corrupt; promote another version or retrain"
        )
    return version.artifact


def champion(session: Session, kind: str, subject: str) -> ModelVersion | None:
    return session.scalar(
        select(ModelVersion).where(
            ModelVersion.kind == kind,
            ModelVersion.subject == subject,
            ModelVersion.alias == "champion",
            ModelVersion.status == "ready",
        )
    )


SUMMARY = (
    ModelVersion.id,
    ModelVersion.subject,
    ModelVersion.architecture,
    ModelVersion.metrics,
    ModelVersion.promoted_at,
)


def champions(session: Session, kind: str, subjects: list[str] | None = None) -> dict[str, dict]:
    """The ready champions of a kind (of the given subjects), by subject, without their artifacts: id,
    architecture, metrics, when promoted."""
    query = select(*SUMMARY).where(
        ModelVersion.kind == kind, ModelVersion.alias == "champion", ModelVersion.status == "ready"
    )
    if subjects is not None:
        query = query.where(ModelVersion.subject.in_(subjects))
    return {r.subject: r._asdict() for r in session.execute(query)}


def champion_ids(session: Session, kind: str, subjects: list[str]) -> dict[str, int]:
    """The ready champions' version ids of a kind, by subject: what a service asks every few seconds."""
    query = select(ModelVersion.subject, ModelVersion.id).where(
        ModelVersion.kind == kind,
        ModelVersion.alias == "champion",
        ModelVersion.status == "ready",
        ModelVersion.subject.in_(subjects),
    )
    return {subject: version for subject, version in session.execute(query)}


def newest(session: Session, kind: str, subjects: list[str]) -> dict[str, dict]:
    """The newest ready version of each subject, champion or not, by subject (as `champions`)."""
    query = (
        select(*SUMMARY)
        .where(ModelVersion.kind == kind, ModelVersion.status == "ready", ModelVersion.subject.in_(subjects))
        .order_by(ModelVersion.id)
    )
    return {r.subject: r._asdict() for r in session.execute(query)}


def list_versions(
    session: Session, kind: str | None = None, subject: str | None = None
) -> list[ModelVersion]:
    query = select(ModelVersion).order_by(ModelVersion.id)
    if kind:
        query = query.where(ModelVersion.kind == kind)
    if subject:
        query = query.where(ModelVersion.subject == subject)
    return list(session.scalars(query))


def promote(session: Session, version: ModelVersion) -> ModelVersion | None:
    """Make `version` the champion of its subject; the previous champion becomes a challenger."""
    if version.status == PRUNED:
        raise RecurError(pruned_message(version.id))
    if version.status != "ready":
        raise RecurError(
            f"model version {version.id} is {version.status}; only ready versions can be promoted"
        )
    check_intact(version)
    previous = champion(session, version.kind, version.subject)
    session.execute(
        update(ModelVersion)
        .where(
            ModelVersion.kind == version.kind,
            ModelVersion.subject == version.subject,
            ModelVersion.alias == "champion",
        )
        .values(alias="challenger")
    )
    version.alias, version.promoted_at = "champion", utcnow()
    session.flush()
    return previous if previous is None or previous.id != version.id else None


def check_intact(version: ModelVersion) -> None:
    """A version is promoted only while its stored bytes still match their sha256."""
    for data, digest, what in (
        (version.artifact, version.sha256, "model"),
        (version.inference, version.inference_sha256, "inference weights"),
    ):
        if data is not None and digest and hashlib.sha256(data).hexdigest() != digest:
            raise RecurError(
                f"model version {version.id}: its stored {what} no longer match their sha256 (the store was "
                "damaged); it cannot be promoted. Retrain it, or restore the store from a backup"
            )


def rollback(session: Session, kind: str, subject: str) -> tuple[ModelVersion, ModelVersion]:
    """Bring back the champion before the current one; returns (restored, retired)."""
    current = champion(session, kind, subject)
    if current is None:
        raise RecurError(f"{subject!r} has no champion to roll back")
    earlier = session.scalar(
        select(ModelVersion)
        .where(
            ModelVersion.kind == kind,
            ModelVersion.subject == subject,
            ModelVersion.id != current.id,
            ModelVersion.promoted_at.is_not(None),
            ModelVersion.status == "ready",
        )
        .order_by(ModelVersion.promoted_at.desc())
        .limit(1)
    )
    if earlier is None:
        raise RecurError(f"{subject!r} has had no other champion; nothing to roll back to")
    check_intact(earlier)
    current.alias, current.promoted_at = "none", None
    earlier.alias = "champion"
    session.flush()
    return earlier, current


def start_run(session: Session, kind: str, subject: str) -> TrainingRun:
    run = TrainingRun(kind=kind, subject=subject, status="running", owner=_this_process())
    session.add(run)
    session.flush()
    return run


def _this_process() -> str:
    import os
    import socket

    return f"{socket.gethostname()}:{os.getpid()}"


def reap_runs(session: Session) -> int:
    """Mark `abandoned` the running training runs whose process, on this host, is gone (killed, out of
    memory, the machine restarted): they would otherwise say `running` forever. Returns how many."""
    import socket

    host = socket.gethostname()
    reaped = 0
    for run in session.scalars(select(TrainingRun).where(TrainingRun.status == "running")):
        owner_host, _, pid = (run.owner or "").rpartition(":")
        if owner_host != host or not pid.isdigit() or _alive(int(pid)):
            continue
        run.status, run.finished_at = "abandoned", utcnow()
        run.error = "the training process ended without finishing (killed, out of memory or a restart)"
        reaped += 1
    return reaped


def _alive(pid: int) -> bool:
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True

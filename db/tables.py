"""The data model (DESIGN.md): series and their observations, corpora, model versions and training runs,
forecasts, samples, schedules and the run ledger. Schema changes go through Alembic migrations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    """Naive UTC: every timestamp recur stores is UTC, and SQLite keeps no zone."""
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class SeriesGroup(Base):
    """Series kept together: the columns of one wide file, or the ids of one long file."""

    __tablename__ = "series_group"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)
    source: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    members: Mapped[list[Series]] = relationship(back_populates="group", order_by="Series.position")


class Series(Base):
    __tablename__ = "series"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("series_group.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    column: Mapped[str | None] = mapped_column(Text)
    # 'datetime': ts is seconds since the epoch (UTC); 'int': ts is a plain step index.
    time_kind: Mapped[str] = mapped_column(String(16))
    freq: Mapped[str | None] = mapped_column(String(32))
    unit: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(Text)
    n_obs: Mapped[int] = mapped_column(BigInteger, default=0)
    first_ts: Mapped[int | None] = mapped_column(BigInteger)
    last_ts: Mapped[int | None] = mapped_column(BigInteger)
    n_gaps: Mapped[int] = mapped_column(BigInteger, default=0)
    season: Mapped[int | None] = mapped_column(Integer)  # the seasonal period, when set at ingest or train
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    group: Mapped[SeriesGroup | None] = relationship(back_populates="members")


class Observation(Base):
    __tablename__ = "observation"
    __table_args__ = {"sqlite_with_rowid": False}
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"), primary_key=True)
    ts: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    value: Mapped[float] = mapped_column(Float)


class Corpus(Base):
    __tablename__ = "corpus"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)
    sha256: Mapped[str] = mapped_column(String(64))
    n_chars: Mapped[int] = mapped_column(BigInteger)
    n_lines: Mapped[int] = mapped_column(BigInteger)
    vocabulary: Mapped[dict[str, Any]] = mapped_column(JSON)  # {"chars": "...", "counts": [...]}
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    parts: Mapped[list[CorpusText]] = relationship(order_by="CorpusText.seq", cascade="all, delete-orphan")


class CorpusText(Base):
    """One ingested file's text; the corpus is its parts in order. The sha256 makes re-ingest a no-op."""

    __tablename__ = "corpus_text"
    __table_args__ = (UniqueConstraint("corpus_id", "sha256"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    corpus_id: Mapped[int] = mapped_column(ForeignKey("corpus.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class LabelledSet(Base):
    """Labelled texts for classifiers: the items and the class names in a stable order."""

    __tablename__ = "labelled_set"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)
    kind: Mapped[str] = mapped_column(String(16), default="text")
    classes: Mapped[list[Any]] = mapped_column(JSON)
    source: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class LabelledItem(Base):
    """A labelled text, or a labelled window of a stored series (series_id, start_ts..end_ts inclusive;
    its text then describes the window)."""

    __tablename__ = "labelled_item"
    set_id: Mapped[int] = mapped_column(ForeignKey("labelled_set.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    text: Mapped[str] = mapped_column(Text)
    label: Mapped[str] = mapped_column(Text)
    series_id: Mapped[int | None] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"), index=True)
    start_ts: Mapped[int | None] = mapped_column(BigInteger)
    end_ts: Mapped[int | None] = mapped_column(BigInteger)


class Prediction(Base):
    """A classifier's answer for one input, with its probabilities and the model version that gave it."""

    __tablename__ = "prediction"
    id: Mapped[int] = mapped_column(primary_key=True)
    model_version_id: Mapped[int] = mapped_column(
        ForeignKey("model_version.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    label: Mapped[str] = mapped_column(Text)
    probabilities: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class TrainingRun(Base):
    __tablename__ = "training_run"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="running")
    device: Mapped[str | None] = mapped_column(Text)
    backend: Mapped[str | None] = mapped_column(String(32))
    epochs_run: Mapped[int | None] = mapped_column(Integer)
    history: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    owner: Mapped[str | None] = mapped_column(Text)  # "host:pid" of the process training it


class ModelVersion(Base):
    """A trained model: its .keras bytes and their sha256 live in the same row, written at once."""

    __tablename__ = "model_version"
    __table_args__ = (Index("ix_model_version_subject", "kind", "subject"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # forecaster | textgen | classifier
    subject: Mapped[str] = mapped_column(Text)  # series, group or corpus name
    architecture: Mapped[str] = mapped_column(String(32))
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    metrics: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | ready | failed
    alias: Mapped[str] = mapped_column(String(16), default="none")  # champion | challenger | none
    sha256: Mapped[str | None] = mapped_column(String(64))
    artifact: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Optional plain-array export for inference without the training framework (.npz, no pickle);
    # covered by its own sha256.
    inference: Mapped[bytes | None] = mapped_column(LargeBinary)
    inference_sha256: Mapped[str | None] = mapped_column(String(64))
    training_run_id: Mapped[int | None] = mapped_column(ForeignKey("training_run.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    promoted_at: Mapped[datetime | None] = mapped_column(DateTime)  # last time it became champion


class Forecast(Base):
    """A vintage: what a model (or a baseline) said at issue time about the steps after `origin_ts`."""

    __tablename__ = "forecast"
    __table_args__ = (UniqueConstraint("series_id", "origin_ts", "method", "model_version_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"), index=True)
    model_version_id: Mapped[int | None] = mapped_column(ForeignKey("model_version.id", ondelete="SET NULL"))
    method: Mapped[str] = mapped_column(String(32))
    origin_ts: Mapped[int] = mapped_column(BigInteger)
    horizon: Mapped[int] = mapped_column(Integer)
    issued_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # its scores against the actuals, kept when retention pruned its points (None: the points are here)
    scores: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # issued without a model: the origin of the backtest of the methods that chose its method, and the
    # season that backtest used; a later run keeps the choice until a horizon of new observations arrives
    chosen_ts: Mapped[int | None] = mapped_column(BigInteger)
    chosen_season: Mapped[int | None] = mapped_column(Integer)


class VintagePoints(Base):
    """A vintage's points, packed into one value (db/packing.py), on a row of their own: listing and
    scoring vintages reads small rows, and freezing one (its scores kept, its points pruned) deletes this
    row rather than rewriting a large one."""

    __tablename__ = "vintage_points"
    forecast_id: Mapped[int] = mapped_column(ForeignKey("forecast.id", ondelete="CASCADE"), primary_key=True)
    points: Mapped[bytes] = mapped_column(LargeBinary)


class Sample(Base):
    __tablename__ = "sample"
    id: Mapped[int] = mapped_column(primary_key=True)
    model_version_id: Mapped[int] = mapped_column(
        ForeignKey("model_version.id", ondelete="CASCADE"), index=True
    )
    prompt: Mapped[str] = mapped_column(Text, default="")
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    seed: Mapped[int | None] = mapped_column(BigInteger)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Schedule(Base):
    __tablename__ = "schedule"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)
    task: Mapped[str] = mapped_column(String(32))
    cron: Mapped[str] = mapped_column(String(128))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    timeout_s: Mapped[int | None] = mapped_column(Integer)
    retries: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class JobRun(Base):
    """The run ledger: one row per (schedule, logical date, attempt)."""

    __tablename__ = "job_run"
    __table_args__ = (UniqueConstraint("schedule_id", "logical_date", "attempt"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedule.id", ondelete="CASCADE"), index=True)
    logical_date: Mapped[str] = mapped_column(String(32))
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    pid: Mapped[int | None] = mapped_column(Integer)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    error: Mapped[str | None] = mapped_column(Text)
    outputs: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    node: Mapped[str | None] = mapped_column(Text)  # where it executed: a host, or a Ray node
    epoch: Mapped[int | None] = mapped_column(Integer)  # the lease epoch of the scheduler that claimed it


class SchedulerLease(Base):
    """At most one row: the scheduler that holds this store, and when it last said it was alive."""

    __tablename__ = "scheduler_lease"
    id: Mapped[int] = mapped_column(primary_key=True)
    holder: Mapped[str] = mapped_column(Text)
    acquired_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    epoch: Mapped[int] = mapped_column(Integer, default=1, server_default="1")  # +1 at every change of holder

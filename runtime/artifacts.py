"""Keras models to and from the bytes the registry stores: `.keras` archives only, loaded with
safe_mode=True (no Lambda layers, no foreign code), after the sha256 check; and the one way a pipeline
loads a champion (or a version asked for by id)."""

from __future__ import annotations

import tempfile
import zipfile
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from core.errors import InputError, RecurError
from core.settings import Settings
from db import registry
from db.engine import read_session
from db.registry import verified_bytes
from db.tables import ModelVersion


def model_bytes(model) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.keras"
        model.save(path)
        return path.read_bytes()


def load_model(version: ModelVersion):
    data = verified_bytes(version)
    if not zipfile.is_zipfile(BytesIO(data)):
        raise RecurError(
            f"model version {version.id} is not a .keras archive (HDF5 .h5 and other formats are refused)"
        )
    import keras

    import classifier.networks  # noqa: F401  (these three register recur's custom layers)
    import forecaster.networks  # noqa: F401
    import textgen.layers  # noqa: F401

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.keras"
        path.write_bytes(data)
        try:
            return keras.saving.load_model(path, safe_mode=True, compile=False)
        except Exception as exc:
            raise RecurError(f"refused to load model version {version.id}: {exc}") from exc


KINDS = {"forecaster": "forecaster", "textgen": "text generator", "classifier": "classifier"}


@dataclass(frozen=True)
class LoadedVersion:
    """A registered version as the pipelines use it: its record and, when asked for, its Keras model."""

    id: int
    kind: str
    subject: str
    architecture: str
    config: dict
    metrics: dict
    model: object | None = None


def load_champion(
    settings: Settings, kind: str, subject: str, version_id: int | None = None, model: bool = True
) -> LoadedVersion | None:
    """The champion of (kind, subject), or the version asked for (which must be of that kind); None when
    there is no champion. The model is loaded (hash-checked, safe mode) unless `model=False`."""
    with read_session(settings) as session:
        v = (
            registry.get_version(session, version_id)
            if version_id
            else registry.champion(session, kind, subject)
        )
        if v is None:
            return None
        if v.kind != kind:
            raise InputError(f"model version {v.id} is a {KINDS.get(v.kind, v.kind)}, not a {KINDS[kind]}")
        return LoadedVersion(
            v.id,
            v.kind,
            v.subject,
            v.architecture,
            dict(v.config),
            dict(v.metrics or {}),
            load_model(v) if model else None,
        )

"""Keras models to and from the bytes the registry stores: `.keras` archives only, loaded with
safe_mode=True (no Lambda layers, no foreign code), after the sha256 check."""

from __future__ import annotations

import tempfile
import zipfile
from io import BytesIO
from pathlib import Path

from db.models import ModelVersion
from db.registry import verified_bytes
from domain.errors import RecurError


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

    import classifier.models  # noqa: F401  (these two register recur's custom layers)
    import forecaster.models  # noqa: F401

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.keras"
        path.write_bytes(data)
        try:
            return keras.saving.load_model(path, safe_mode=True, compile=False)
        except Exception as exc:
            raise RecurError(f"refused to load model version {version.id}: {exc}") from exc

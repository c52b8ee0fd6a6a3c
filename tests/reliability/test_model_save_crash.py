"""RELIABILITY 12: kill -9 while models are being saved never leaves a half-written model registered, and
the champion always loads."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import pytest

from core.settings import Settings
from db import registry
from db.engine import engine_of, read_session
from forecaster.config import ForecastConfig
from forecaster.networks import build
from runtime.artifacts import load_model, model_bytes
from tests.conftest import ROOT

pytestmark = pytest.mark.slow


@pytest.mark.usefixtures("backend")
def test_kill_9_during_save_leaves_a_loadable_champion(tmp_path):
    """On SQLite a fresh store each trial; on PostgreSQL one database that every trial adds to."""
    artifact = tmp_path / "model.keras"
    artifact.write_bytes(model_bytes(build(ForecastConfig(model="gru", lookback=8, horizon=4, units=4), 1)))
    rng, committed = random.Random(7), []
    for trial in range(10):
        home = tmp_path / f"home{trial}"
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.reliability.register_child", str(home), str(artifact)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=os.environ | {"PYTHONPATH": str(ROOT)},
        )
        time.sleep(rng.uniform(1.0, 3.0))
        child.send_signal(signal.SIGKILL)
        out, _ = child.communicate()
        printed = [int(line.split()[1]) for line in out.splitlines() if line.startswith("committed")]
        committed.append(len(printed))
        if not printed:
            continue
        settings = Settings.resolve(home)
        with read_session(settings) as session:
            versions = registry.list_versions(session)
            assert {v.id for v in versions} >= set(printed)
            assert all(v.status == "ready" and v.artifact and v.sha256 for v in versions)
            champions = [v for v in versions if v.alias == "champion"]
            assert len(champions) == 1
            load_model(champions[0])  # verifies the sha256, then loads with safe_mode
        engine_of(settings).dispose()
    assert sum(committed) > 0, f"no trial committed anything: {committed}"

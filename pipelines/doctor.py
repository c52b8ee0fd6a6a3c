"""`recur doctor`: what this installation runs on, and whether the store is reachable and current."""

from __future__ import annotations

import platform
import shutil
import sys
from importlib import metadata

from core.settings import Settings
from pipelines.store import db_info


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def doctor(settings: Settings, devices: bool = True) -> dict:
    report: dict = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "tensorflow": _version("tensorflow"),
        "keras": _version("keras"),
        "sqlalchemy": _version("sqlalchemy"),
        "home": str(settings.home),
    }
    if devices:
        from runtime.device import visible_gpus

        report["backend"], report["gpus"] = visible_gpus()
        if report["backend"] != "tensorflow":
            report[report["backend"]] = _version(report["backend"])
    info = db_info(settings, check=True)
    report["db"] = info["url"]
    report["schema"] = f"{info['schema_revision']} (head {info['schema_head']})"
    if "integrity" in info:
        report["integrity"] = info["integrity"]
    report["abandoned_training_runs"] = _reap(settings)
    report |= _scheduler(settings)
    free = shutil.disk_usage(settings.home if settings.home.exists() else settings.home.parent).free
    report["disk_free_gb"] = round(free / 1e9, 1)
    return report


def _scheduler(settings: Settings) -> dict:
    from db import schedules as sq
    from db.engine import read_session

    with read_session(settings) as session:
        state = sq.scheduler_state(session)
        count = len(sq.all_schedules(session))
    holder = f" ({state['scheduler']})" if state["scheduler"] else ""
    return {"scheduler": state["state"] + holder, "schedules": count}


def _reap(settings: Settings) -> int:
    """Training runs left `running` by a process that is gone, marked abandoned now."""
    from db import registry
    from db.engine import write_session

    with write_session(settings) as session:
        return registry.reap_runs(session)

"""One Settings object per invocation: where the home and the database are, and how to print."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import InputError


def default_home() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("recur", appauthor=False))


MANAGED = ("logs", "cache")  # folders of the home that only recur writes
EXECUTORS = ("local", "ray")  # where independent units of work run: here, or as tasks on a Ray cluster


@dataclass(frozen=True)
class Settings:
    home: Path
    db_url: str
    json: bool = False
    quiet: bool = False
    executor: str = "local"
    ray_address: str | None = None  # None: RAY_ADDRESS, the cluster `ray start` left here, or a local one
    extra: dict[str, str] = field(default_factory=dict, compare=False)

    @classmethod
    def resolve(cls, home: str | os.PathLike | None = None, db_url: str | None = None, **kw) -> Settings:
        """Options win over RECUR_HOME / RECUR_DB, which win over the per-user default."""
        home_path = Path(home or os.environ.get("RECUR_HOME") or default_home()).expanduser().absolute()
        url = db_url or os.environ.get("RECUR_DB") or f"sqlite:///{home_path / 'recur.db'}"
        kw.setdefault("executor", os.environ.get("RECUR_EXECUTOR") or "local")
        kw.setdefault("ray_address", os.environ.get("RECUR_RAY_ADDRESS") or None)
        if kw["executor"] not in EXECUTORS:
            raise InputError(f"RECUR_EXECUTOR={kw['executor']!r}: choose one of {', '.join(EXECUTORS)}")
        return cls(home=home_path, db_url=url, **kw)

    def environment(self) -> dict[str, str]:
        """These settings as the environment a child process or a remote task resolves them from."""
        env = {"RECUR_HOME": str(self.home), "RECUR_DB": self.db_url, "RECUR_EXECUTOR": self.executor}
        return env | ({"RECUR_RAY_ADDRESS": self.ray_address} if self.ray_address else {})

    @property
    def is_sqlite(self) -> bool:
        return self.db_url.startswith("sqlite")

    def subdir(self, name: str) -> Path:
        path = self.home / name
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        return path

    def protected(self) -> tuple[list[Path], list[Path]]:
        """(files, folders) that no output may be written to or into: the SQLite store with its journal
        files, and the home's managed folders."""
        prefix = "sqlite:///"
        files = []
        if self.db_url.startswith(prefix):
            store = Path(self.db_url[len(prefix) :].split("?")[0]).expanduser()
            if str(store) not in ("", ":memory:"):
                store = store.resolve()
                files = [store] + [store.with_name(store.name + s) for s in ("-wal", "-shm", "-journal")]
        files.append((self.home / "reports" / ".last-report").resolve())
        files.append((self.home / "written.json").resolve())  # core.outputs.LEDGER
        return files, [(self.home / name).resolve() for name in MANAGED]

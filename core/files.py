"""File helpers every layer may use: names made safe for file names, and writes that readers see whole
or not at all. No knowledge of the store (core/outputs.py adds the checks that need it)."""

from __future__ import annotations

import glob
import hashlib
import os
import re
import tempfile
import unicodedata
from collections.abc import Callable
from pathlib import Path


def slugify(name: str, max_len: int = 80) -> str:
    """A file-name-safe slug; a short hash keeps distinct names distinct after folding."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", folded).strip("-.")[:max_len] or "series"
    if slug != name:
        slug = f"{slug}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"
    return slug


STALE_SECONDS = 3600  # a temporary file of ours older than this belongs to a write that was killed


def write_atomic(path: Path, write: Callable[[Path], None]) -> Path:
    """Write to a temporary file beside `path`, fsync, then rename over it: readers see old or new. The
    temporary files a killed write left beside `path` are removed first."""
    path = Path(path)
    _remove_stale(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _remove_stale(path: Path) -> None:
    """`.<name>.XXXXXXXX` files (mkstemp's eight characters) beside `path`, older than an hour."""
    import time

    pattern = re.compile(rf"\.{re.escape(path.name)}\.[a-z0-9_]{{8}}")
    for old in path.parent.glob(f".{glob.escape(path.name)}.*"):
        try:
            if pattern.fullmatch(old.name) and time.time() - old.stat().st_mtime > STALE_SECONDS:
                old.unlink()
        except OSError:
            pass

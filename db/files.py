"""Safe output paths: names become slugs, files land inside the chosen directory, replaced atomically."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from collections.abc import Callable
from pathlib import Path

from domain.errors import InputError


def slugify(name: str, max_len: int = 80) -> str:
    """A file-name-safe slug; a short hash keeps distinct names distinct after folding."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", folded).strip("-.")[:max_len] or "series"
    if slug != name:
        slug = f"{slug}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"
    return slug


def output_path(out: Path, name: str, suffix: str) -> Path:
    """`out` itself when it names a file; a slug of `name` inside it when it is a directory."""
    out = Path(out)
    if out.is_dir() or str(out).endswith(os.sep):
        out.mkdir(parents=True, exist_ok=True)
        target = (out / f"{slugify(name)}{suffix}").resolve()
        if target.parent != out.resolve():
            raise InputError(f"refusing to write {target}: outside {out}")
        return target
    if not out.parent.exists():
        raise InputError(f"{out}: the directory {out.parent} does not exist")
    return out


def write_atomic(path: Path, write: Callable[[Path], None]) -> Path:
    """Write to a temporary file beside `path`, fsync, then rename over it: readers see old or new."""
    path = Path(path)
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

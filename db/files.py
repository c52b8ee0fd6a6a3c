"""Safe output paths: names become slugs, files land inside the chosen directory, replaced atomically."""

from __future__ import annotations

import glob
import hashlib
import os
import re
import tempfile
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from domain.errors import InputError

if TYPE_CHECKING:
    from db.settings import Settings


def slugify(name: str, max_len: int = 80) -> str:
    """A file-name-safe slug; a short hash keeps distinct names distinct after folding."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", folded).strip("-.")[:max_len] or "series"
    if slug != name:
        slug = f"{slug}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"
    return slug


def check_output(settings: Settings, path: Path, option: str = "--out") -> Path:
    """`path`, unless writing it would overwrite the store (or its journal files) or land in the home's
    managed folders."""
    target = Path(path).expanduser().resolve()
    files, folders = settings.protected()
    if target in files:
        raise InputError(f"{option} {path}: that is recur's store; writing there would destroy it")
    for folder in folders:
        if target == folder or folder in target.parents:
            raise InputError(f"{option} {path}: inside {folder}, which recur manages; choose another path")
    return Path(path)


def output_format(
    settings: Settings, out: Path, fmt: str | None, formats: dict[str, str], default: str
) -> str:
    """The format `out`'s extension names (`formats`: suffix -> format), checked against `--format` when
    both are given; a directory, or a name without an extension, gets `fmt` or `default`. `out` must not
    be the store or inside the home's managed folders."""
    check_output(settings, Path(out))
    suffix = Path(out).suffix.lower()
    if Path(out).is_dir() or not suffix:
        return fmt or default
    known = formats.get(suffix)
    if known is None:
        accepted = ", ".join(sorted(set(formats)))
        raise InputError(f"--out {out}: recur writes {accepted} here, not {suffix}")
    if fmt and fmt != known:
        raise InputError(f"--out {out} is a {suffix} file but --format is {fmt}; make them agree")
    return known


def output_path(settings: Settings, out: Path, name: str, suffix: str) -> Path:
    """`out` itself when it names a file; a slug of `name` inside it when it is a directory (never the
    store or the home's managed folders)."""
    out = check_output(settings, Path(out))
    if out.is_dir() or str(out).endswith(os.sep):
        out.mkdir(parents=True, exist_ok=True)
        target = (out / f"{slugify(name)}{suffix}").resolve()
        if target.parent != out.resolve():
            raise InputError(f"refusing to write {target}: outside {out}")
        return check_output(settings, target)
    if not out.parent.is_dir():
        what = "is not a directory" if out.parent.exists() else "does not exist"
        raise InputError(f"--out {out}: {out.parent} {what}")
    return out


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


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value):
    """A text cell a spreadsheet would run as a formula (OWASP's CSV injection rule: it starts with = + - @
    tab or CR) gets a leading quote; numbers and other text are unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value

"""Output paths checked against the store: never the store itself or its managed folders, inside the
chosen directory, in the format the extension names; CSV cells that cannot start a formula."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from core.errors import InputError
from core.files import slugify

if TYPE_CHECKING:
    from core.settings import Settings


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


def names_folder(out: str | Path) -> bool:
    """Whether `out` names a directory: one that exists, or a path written with a trailing slash (a new
    directory, created when written into)."""
    return str(out).endswith(("/", os.sep)) or Path(out).is_dir()


def output_format(
    settings: Settings, out: str | Path, fmt: str | None, formats: dict[str, str], default: str
) -> str:
    """The format `out`'s extension names (`formats`: suffix -> format), checked against `--format` when
    both are given; a directory, or a name without an extension, gets `fmt` or `default`. `out` must not
    be the store or inside the home's managed folders."""
    check_output(settings, Path(out))
    suffix = Path(out).suffix.lower()
    if names_folder(out) or not suffix:
        return fmt or default
    known = formats.get(suffix)
    if known is None:
        accepted = ", ".join(sorted(set(formats)))
        raise InputError(f"--out {out}: recur writes {accepted} here, not {suffix}")
    if fmt and fmt != known:
        raise InputError(f"--out {out} is a {suffix} file but --format is {fmt}; make them agree")
    return known


def output_path(settings: Settings, out: str | Path, name: str, suffix: str) -> Path:
    """`out` itself when it names a file; a slug of `name` inside it when it names a directory (created
    where it was written with a trailing slash; never the store or the home's managed folders)."""
    folder = names_folder(out)
    out = check_output(settings, Path(out))
    if folder:
        out.mkdir(parents=True, exist_ok=True, mode=0o700)
        target = (out / f"{slugify(name)}{suffix}").resolve()
        if target.parent != out.resolve():
            raise InputError(f"refusing to write {target}: outside {out}")
        return check_output(settings, target)
    if not out.parent.is_dir():
        what = "is not a directory" if out.parent.exists() else "does not exist"
        raise InputError(f"--out {out}: {out.parent} {what}")
    return out


LEDGER = "written.json"  # in the home: every output recur wrote, by path, with the sha256 it had then


def may_replace(settings: Settings, target: Path, force: bool = False, option: str = "--out") -> None:
    """Refuse to replace a file that recur did not write, or that changed since it did (a person's file,
    or a read-only one), unless `force`; a file recur wrote and nobody touched since is replaced."""
    target = Path(target)
    if force or not target.is_file():
        return
    if _ledger(settings).get(str(target.resolve())) == _sha256(target):
        return
    raise InputError(
        f"{option} {target}: the file exists and recur did not write it (or it changed since); pass --force "
        "to replace it, or choose another name"
    )


def record_written(settings: Settings, target: Path) -> None:
    """Remember that recur wrote `target` as it is now, so that it may replace it later; entries for
    files that no longer exist are dropped."""
    import json

    from core.files import write_atomic

    target = Path(target).resolve()
    settings.home.mkdir(parents=True, exist_ok=True, mode=0o700)
    ledger = {k: v for k, v in _ledger(settings).items() if Path(k).is_file()}
    ledger[str(target)] = _sha256(target)
    text = json.dumps(ledger, indent=0, sort_keys=True)
    write_atomic(settings.home / LEDGER, lambda tmp: tmp.write_text(text))


def _ledger(settings: Settings) -> dict[str, str]:
    import json

    try:
        data = json.loads((settings.home / LEDGER).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _sha256(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value):
    """A text cell a spreadsheet would run as a formula (OWASP's CSV injection rule: it starts with = + - @
    tab or CR) gets a leading quote; numbers and other text are unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value

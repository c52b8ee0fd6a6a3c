"""Bounds on what one input may ask of recur, so that a hostile or mistaken file is refused at once
instead of exhausting memory. Each is documented in the README and can be raised by its variable."""

from __future__ import annotations

import os

from core.errors import InputError

LIMITS = {  # variable: (default, what it bounds)
    "RECUR_MAX_COLUMNS": (10_000, "columns in a CSV file"),
    "RECUR_MAX_HEADER_BYTES": (1_000_000, "bytes in a CSV file's header line"),
    "RECUR_MAX_TEXT_BYTES": (256_000_000, "bytes in one text file of a corpus"),
}


def limit(variable: str) -> int:
    default, _what = LIMITS[variable]
    raw = os.environ.get(variable)
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise InputError(f"{variable}={raw!r}: must be a whole number of at least 1")
    return int(raw)


def over(variable: str, path, found: str) -> InputError:
    """The error for an input past a limit: what was found, the limit, and how to raise it."""
    what = LIMITS[variable][1]
    return InputError(
        f"{path}: {found}; recur reads at most {limit(variable):,} {what} (set {variable} to allow more)"
    )

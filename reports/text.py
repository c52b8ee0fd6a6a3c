"""Plain-text tables and key/value blocks for the terminal, and JSON for machines."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any


def to_json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=str)


def cell(value: Any) -> str:
    """A value as a person reads it: no Python or NumPy reprs (dicts as k=v, lists comma-separated)."""
    if value is None:
        return ""
    if hasattr(value, "item") and not isinstance(value, str | bytes):  # a NumPy scalar
        value = value.item()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, dict):
        return ", ".join(f"{k}={cell(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(cell(v) for v in value)
    return str(value)


def table(rows: Sequence[dict], columns: Sequence[str], empty: str = "(none)") -> str:
    """Columns aligned, numbers to the right."""
    if not rows:
        return empty
    cells = [[cell(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    numeric = [all(isinstance(r.get(c), int | float) for r in rows) for c in columns]

    def line(values: Sequence[str]) -> str:
        parts = [v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric, strict=True)]
        return "  ".join(parts).rstrip()

    return "\n".join([line(columns), line(["-" * w for w in widths]), *(line(r) for r in cells)])


def keyvalues(data: dict, keys: Sequence[str] | None = None) -> str:
    keys = keys or [k for k, v in data.items() if not isinstance(v, list | dict)]
    width = max(len(k) for k in keys)
    return "\n".join(f"{k.ljust(width)}  {cell(data.get(k))}" for k in keys)

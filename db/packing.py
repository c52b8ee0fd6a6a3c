"""A vintage's points as one value (its row in `vintage_points`): compact columnar JSON, deflated.

As a row a point (time stamp, step, value, two intervals' bounds, nine quantiles) cost ~240 bytes with its
key and index, and the vintages a store must keep (each series' h latest, awaiting their actuals) made the
largest table of a nightly store. Columns of numbers at the store's eight digits deflate to ~60 bytes a
point, exactly: every number reads back as it was written, so an export equals what `predict` printed.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass

from core.errors import RecurError

FORMAT = 1  # the layout below; a reader refuses a newer one in a sentence rather than misreading it


@dataclass(frozen=True)
class StoredPoint:
    """One point of a stored vintage: its time stamp, step (1 … h), value, bounds per level
    ({"80": [lo, hi]}) and quantiles ({"0.1": v, ...}), or None where the vintage has none."""

    ts: int
    step: int
    value: float
    intervals: dict | None
    quantiles: dict | None


def pack(
    stamps: list[int], values: list[float], intervals: list[dict], quantiles: list[dict] | None
) -> bytes:
    """Points as stored (every point of a vintage carries the same levels and quantiles)."""
    levels = list(intervals[0]) if intervals else []
    keys = list(quantiles[0]) if quantiles and quantiles[0] else []
    if any(list(iv) != levels for iv in intervals) or any(list(q or {}) != keys for q in quantiles or []):
        raise ValueError("every point of a vintage must carry the same interval levels and quantiles")
    body = {
        "format": FORMAT,
        "ts": [int(t) for t in stamps],
        "value": [float(v) for v in values],
        "intervals": {lv: _bounds(intervals, lv) for lv in levels},
        "quantiles": {k: [q[k] for q in quantiles or []] for k in keys},
    }
    return zlib.compress(json.dumps(body, separators=(",", ":")).encode(), 9)


def _bounds(intervals: list[dict], level: str) -> list[list[float]]:
    """A level's lower bounds, then its upper bounds."""
    return [[iv[level][0] for iv in intervals], [iv[level][1] for iv in intervals]]


def unpack(blob: bytes | None) -> list[StoredPoint]:
    """The points of a packed vintage, in time order ([] where they were pruned)."""
    if blob is None:
        return []
    body = json.loads(zlib.decompress(blob))
    if body.get("format", 0) > FORMAT:
        raise RecurError(f"a vintage stored in format {body['format']}: upgrade recur to read this store")
    levels, keys = body["intervals"], body["quantiles"]
    return [
        StoredPoint(
            ts=t,
            step=k + 1,
            value=v,
            intervals={lv: [lo[k], hi[k]] for lv, (lo, hi) in levels.items()} if levels else None,
            quantiles={q: column[k] for q, column in keys.items()} if keys else None,
        )
        for k, (t, v) in enumerate(zip(body["ts"], body["value"], strict=True))
    ]

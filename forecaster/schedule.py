"""Sharing a time budget among candidates the way successive halving plans it (Jamieson & Talwalkar 2016;
Hyperband's inner loop): every candidate trains for one unit, the better half for two more units each, the
better half of those for four more, and so on until one is left; a candidate that stops by itself (early
stopping) leaves its time to the others."""

from __future__ import annotations

import time

LEAST = 1e-3  # seconds: a share past the deadline still runs a batch and a validation


def rung_sizes(k: int) -> list[int]:
    """How many candidates train in each rung: k, then half of them (rounded down, at least one) ... 1."""
    sizes = [max(k, 1)]
    while sizes[-1] > 1:
        sizes.append(max(1, sizes[-1] // 2))
    return sizes


class Clock:
    """A budget of `seconds` (0: none) for `k` candidates, handed out in units: rung r gives each of its
    candidates 2**r units; a share is the time left over the units left."""

    def __init__(self, seconds: float, k: int):
        self.deadline = time.monotonic() + seconds if seconds > 0 else None
        self.units = sum(n * 2**r for r, n in enumerate(rung_sizes(k)))

    @property
    def limited(self) -> bool:
        return self.deadline is not None

    def share(self, units: int) -> float:
        """Seconds for a piece of work worth `units`; 0 (no limit) without a budget."""
        if self.deadline is None:
            return 0.0
        left = max(self.deadline - time.monotonic(), 0.0)
        seconds = left * units / max(self.units, units)
        self.units = max(self.units - units, 0)
        return max(seconds, LEAST)

"""Numbers as a sentence shows them: enough digits to tell two apart."""

from __future__ import annotations


def apart(a: float, b: float, places: int = 4, most: int = 12) -> tuple[str, str]:
    """`a` and `b` with `places` decimals, or more (up to `most`) where that many would print them equal."""
    for k in range(places, most + 1):
        shown = f"{a:.{k}f}", f"{b:.{k}f}"
        if shown[0] != shown[1]:
            return shown
    return f"{a:.{places}f}", f"{b:.{places}f}"

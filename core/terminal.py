"""Whether a person is watching: progress bars for a terminal, nothing under the scheduler or in a pipe."""

from __future__ import annotations

import sys


def interactive() -> int:
    """Keras' progress bar for a person at a terminal; nothing under the scheduler or in a pipe."""
    return 1 if sys.stdout.isatty() else 0

"""Time axes: parsing a time column into integer stamps, inferring the frequency, finding gaps.

Stamps are int64: seconds since the epoch (UTC) for datetime series, the step index itself for integer
series. A series' frequency is a pandas offset alias ('h', 'D', 'MS', ...) or, for integer series, the step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.errors import InputError

_DAY = 86_400


@dataclass(frozen=True)
class TimeParser:
    kind: str  # 'datetime' | 'int'
    fmt: str | None = None

    @classmethod
    def detect(cls, first: str, time_format: str | None) -> TimeParser:
        if time_format:
            return cls("datetime", time_format)
        if _is_integer(first):
            return cls("int")
        from pandas.tseries.api import guess_datetime_format

        return cls("datetime", guess_datetime_format(first) or "ISO8601")

    def parse(self, raw: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        """Stamps and a mask of the values that could not be parsed."""
        if self.kind == "int":
            num = pd.to_numeric(raw, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
            bad = ~np.isfinite(num) | (num != np.round(num))
            return np.where(bad, 0, num).astype(np.int64), bad
        stamps = pd.to_datetime(raw, format=self.fmt, errors="coerce", utc=True)
        micros = stamps.dt.as_unit("us").to_numpy(dtype="int64", na_value=np.iinfo(np.int64).min)
        bad = stamps.isna().to_numpy()
        return micros // 1_000_000, bad | ((micros % 1_000_000 != 0) & ~bad)

    def day_first_hint(self, given: bool) -> str:
        """For a guessed month-first format (01/02/2024 is read as January 2): how to read it day-first.
        None for a year-first one (2024-01-02 is ISO 8601; year-day-month is not a convention in use)."""
        if given or self.kind != "datetime" or not self.fmt or "%m" not in self.fmt or "%d" not in self.fmt:
            return ""
        if self.fmt.index("%m") > self.fmt.index("%d") or self.fmt.startswith("%Y"):
            return ""
        swapped = self.fmt.replace("%m", "\0").replace("%d", "%m").replace("\0", "%d")
        return (
            f"; the dates were read month first ({self.fmt!r}): if they are day first, pass "
            f"--time-format '{swapped}'"
        )

    def describe(self) -> str:
        return "an integer step" if self.kind == "int" else f"a date/time like {self.fmt!r}"


def _is_integer(text: str) -> bool:
    try:
        value = float(text)
    except ValueError:
        return False
    return np.isfinite(value) and value == int(value)


def to_offset(freq: str):
    try:
        return pd.tseries.frequencies.to_offset(freq)
    except ValueError as exc:
        raise InputError(
            f"--freq {freq!r} is not a pandas frequency (examples: h, D, W, MS, QS, YS, 15min)"
        ) from exc


def infer_freq(ts: np.ndarray, kind: str) -> str | None:
    """The frequency of sorted, distinct stamps: a calendar alias (MS, QS-JAN, YS-JAN, ME ...) when most
    stamps are month starts or ends at midnight; else the most common step. Points off that grid are
    reported by the caller as irregular."""
    if len(ts) < 2:
        return None
    if kind == "datetime":
        calendar = _calendar_alias(ts[:1000])
        if calendar:
            return calendar
    diffs = np.diff(ts)
    if len(diffs) > 100_000:  # an even sample: exact for regular data, and 10x faster
        diffs = diffs[:: len(diffs) // 100_000]
    steps, counts = np.unique(diffs, return_counts=True)
    step = int(steps[np.argmax(counts)])
    return str(step) if kind == "int" else fixed_alias(step)


_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]


def _calendar_alias(ts: np.ndarray) -> str | None:
    stamps = pd.to_datetime(ts, unit="s")
    if (stamps != stamps.normalize()).mean() > 0.2:
        return None
    if (stamps.day == 1).mean() >= 0.8:
        edge = "S"
    elif stamps.is_month_end.mean() >= 0.8:
        edge = "E"
    else:
        return None
    months = np.diff(np.asarray(stamps.year * 12 + stamps.month))
    steps, counts = np.unique(months[months > 0], return_counts=True)
    if len(steps) == 0:
        return None
    step, first = int(steps[np.argmax(counts)]), stamps[0].month - 1
    if step == 3:
        return f"Q{edge}-{_MONTHS[first % 3 if edge == 'S' else (first % 3) + 9]}"
    if step == 12:
        return f"Y{edge}-{_MONTHS[first]}"
    return f"M{edge}" if step == 1 else f"{step}M{edge}"


def fixed_alias(seconds: int) -> str:
    """'D', '7D', 'h', '15min', '30s': the largest whole unit, as people write it."""
    for unit, size in (("D", _DAY), ("h", 3600), ("min", 60), ("s", 1)):
        if seconds % size == 0:
            n = seconds // size
            return unit if n == 1 else f"{n}{unit}"
    raise AssertionError("unreachable: every step is whole seconds")


def fixed_step(kind: str, freq: str) -> int | None:
    """The step in stamp units when it is fixed (integer steps, h, D, 15min ...); None for MS, YS ..."""
    if kind == "int":
        return int(freq)
    offset = to_offset(freq)
    try:
        nanos = offset.nanos
    except ValueError:  # calendar offsets have no fixed length
        return None
    return nanos // 1_000_000_000 if nanos % 1_000_000_000 == 0 else None


def grid_size(first: int, last: int, kind: str, freq: str) -> int:
    """How many stamps the regular grid from first to last has, without building it when the step is fixed."""
    step = fixed_step(kind, freq)
    return (last - first) // step + 1 if step else len(grid(first, last, kind, freq))


def grid(first: int, last: int, kind: str, freq: str) -> np.ndarray:
    """Every stamp a regular series with this frequency has between first and last."""
    if kind == "int":
        return np.arange(first, last + 1, int(freq), dtype=np.int64)
    index = pd.date_range(pd.Timestamp(first, unit="s"), pd.Timestamp(last, unit="s"), freq=to_offset(freq))
    return index.as_unit("s").asi8


def off_grid(ts: np.ndarray, first: int, kind: str, freq: str) -> np.ndarray:
    """Positions of sorted stamps that do not fall on the grid anchored at `first`."""
    step = fixed_step(kind, freq)
    if step:
        return np.flatnonzero((ts - first) % step != 0)
    return np.flatnonzero(~contains(grid(first, int(ts[-1]), kind, freq), ts))


def contains(sorted_values: np.ndarray, query: np.ndarray) -> np.ndarray:
    """`np.isin` for a sorted haystack, by binary search: several times faster on millions of points."""
    if len(sorted_values) == 0:
        return np.zeros(len(query), dtype=bool)
    pos = np.clip(np.searchsorted(sorted_values, query), 0, len(sorted_values) - 1)
    return sorted_values[pos] == query

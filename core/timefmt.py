"""Formatting stored stamps without pandas, so listing commands stay light."""

from datetime import datetime, timedelta

_EPOCH = datetime(1970, 1, 1)


SUB_DAILY = ("h", "min", "s", "ms", "T", "S", "H")


def format_ts(ts: int | None, kind: str, freq: str | None = None) -> str:
    """A stored stamp in the series' own terms: a step number, a date, or a date and time. A series with a
    sub-daily frequency always shows the time, so midnight reads 2016-07-01 00:00:00 beside 19:00:00."""
    if ts is None:
        return ""
    if kind == "int":
        return str(int(ts))
    stamp = _EPOCH + timedelta(seconds=int(ts))
    base = (freq or "").lstrip("0123456789").split("-")[0]
    if stamp.hour == stamp.minute == stamp.second == 0 and base not in SUB_DAILY:
        return stamp.strftime("%Y-%m-%d")
    return stamp.isoformat(sep=" ")

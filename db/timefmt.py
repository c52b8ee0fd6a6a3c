"""Formatting stored stamps without pandas, so listing commands stay light."""

from datetime import datetime, timedelta

_EPOCH = datetime(1970, 1, 1)


def format_ts(ts: int | None, kind: str) -> str:
    if ts is None:
        return ""
    if kind == "int":
        return str(int(ts))
    stamp = _EPOCH + timedelta(seconds=int(ts))
    if stamp.hour == stamp.minute == stamp.second == 0:
        return stamp.strftime("%Y-%m-%d")
    return stamp.isoformat(sep=" ")

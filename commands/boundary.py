"""The CLI boundary: whatever goes wrong below it reaches the user as one sentence (the cause and the fix)
and exit code 1; an unexpected failure's traceback goes to `<home>/logs/errors.log`, never to the screen
(`RECUR_DEBUG=1` lets it through, for debugging)."""

from __future__ import annotations

import errno
import os
import traceback
from datetime import UTC, datetime

import click

from core.errors import RecurError
from core.settings import Settings

MAX_ECHO = 300  # characters of any value quoted back in a message

FIXES = {
    errno.ENOSPC: "the disk is full: free space (or point --home / --out elsewhere) and run it again",
    errno.EDQUOT: "the disk quota is used up: free space and run it again",
    errno.EACCES: "permission denied: choose a path you can write (e.g. under your home directory)",
    errno.EPERM: "not permitted: choose a path you can write (e.g. under your home directory)",
    errno.EROFS: "that file system is read-only: choose another path",
    errno.ENOTDIR: "a part of that path is a file, not a directory: choose another path",
    errno.EISDIR: "that path is a directory: give a file name",
    errno.ENOENT: "no such file or directory: check the path",
    errno.ENAMETOOLONG: "the file name is too long: choose a shorter one",
}


def shorten(text: str, limit: int = MAX_ECHO) -> str:
    """`text`, cut to `limit` characters with a note of how much was left out."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text) - limit} more characters)"


def message_for(exc: BaseException, settings: Settings | None) -> str:
    """The one line a user sees for `exc`."""
    if isinstance(exc, RecurError):
        return shorten(str(exc), 4 * MAX_ECHO)
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if exc.filename else ""
        fix = FIXES.get(exc.errno or -1, "check the path and the disk, and run it again")
        return f"{exc.strerror or exc}{where}: {fix}"
    from sqlalchemy.exc import DatabaseError, OperationalError

    if isinstance(exc, OperationalError) and "disk" in str(exc.orig).lower() and "full" in str(exc.orig):
        return "the disk is full: free space and run it again (nothing was half-written)"
    if isinstance(exc, DatabaseError | UnicodeDecodeError):
        store = settings.db_url if settings else "the store"
        return (
            f"the store {store} could not be read ({shorten(str(getattr(exc, 'orig', exc)), 120)}): it may "
            "be damaged; run `recur doctor`, and restore it from a backup (`recur db backup` makes them)"
        )
    log = _log(exc, settings)
    kept = f"; the traceback is in {log}" if log else ""
    return f"unexpected error: {type(exc).__name__}: {shorten(str(exc), 200)}{kept}"


def _log(exc: BaseException, settings: Settings | None) -> str | None:
    if settings is None:
        return None
    try:
        path = settings.subdir("logs") / "errors.log"
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(f"--- {datetime.now(UTC).isoformat(timespec='seconds')}\n")
            fh.write("".join(traceback.format_exception(exc)))
        return str(path)
    except OSError:
        return None


def to_click(exc: Exception, settings: Settings | None) -> click.ClickException:
    if os.environ.get("RECUR_DEBUG") and not isinstance(exc, RecurError):
        raise exc
    return click.ClickException(message_for(exc, settings))

"""Domain errors. The CLI turns a RecurError into a one-line message and exit code 1."""


class RecurError(Exception):
    """Something the user can fix; the message says what and how."""


class InputError(RecurError):
    """A file or value the user gave cannot be accepted as it is."""


class TooShortError(InputError):
    """The data are too short for a network to train and be backtested (a nightly then issues its
    forecast from the baselines and statistical peers, as `forecast predict` does without a champion)."""


class NotFoundError(RecurError):
    """A named series, group, corpus or model does not exist."""


class ConflictError(RecurError):
    """The request contradicts what is already stored."""


def did_you_mean(kind: str, name: str, existing: list[str], limit: int = 20) -> str:
    """A not-found message that lists what does exist."""
    if not existing:
        return f"no {kind} named {name!r}; there are none yet"
    shown = ", ".join(repr(n) for n in existing[:limit])
    more = f" (and {len(existing) - limit} more)" if len(existing) > limit else ""
    return f"no {kind} named {name!r}; existing: {shown}{more}"


def check_options(checks: list[tuple[str, object, bool, str]]) -> None:
    """Raise for the first (option, value, ok, rule) that is not ok: "--horizon 0: must be at least 1"."""
    for option, value, ok, rule in checks:
        if not ok:
            raise InputError(f"{option} {value}: must be {rule}")

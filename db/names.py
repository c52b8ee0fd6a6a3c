"""Names of series, groups and corpora are data: any text a user types, checked but never interpolated."""

import unicodedata

from core.errors import InputError

MAX_NAME = 1000


def check_name(name: str, what: str) -> str:
    if not name or not name.strip():
        raise InputError(f"a {what} name cannot be empty; pass --name")
    if len(name) > MAX_NAME:
        raise InputError(f"a {what} name has at most {MAX_NAME} characters; this one has {len(name)}")
    bad = next((c for c in name if unicodedata.category(c) == "Cc"), None)
    if bad is not None:
        raise InputError(
            f"a {what} name cannot contain control characters; {name[:40]!r} has {bad!r}; pass --name"
        )
    return name

"""Click options derived from the configuration dataclasses (core.params): each option is defined once,
as a field, with its help and choices; commands only say which configuration they take."""

from __future__ import annotations

import click

from commands.common import FLOAT
from core.params import Param


class CommaList(click.ParamType):
    name = "LIST"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        return tuple(x.strip() for x in str(value).split(",") if x.strip())


TYPES = {int: int, float: FLOAT, str: str, tuple: CommaList()}


def config_options(params: list[Param], defaults: bool = True, note: str = "", extra: dict | None = None):
    """A decorator adding one option per parameter. With `defaults=False` every option defaults to None
    (the command fills in what was not given, e.g. from a preset; `note` says so in each help). `extra`
    gives some options more Click settings by name (a callback that reads escapes, say)."""

    def decorate(f):
        for p in reversed(params):
            f = _option(p, defaults, note, (extra or {}).get(p.name, {}))(f)
        return f

    return decorate


def _option(p: Param, defaults: bool, note: str, more: dict):
    default = p.default if defaults else None
    show = defaults and p.kind is not tuple
    text = " ".join(x for x in (p.help, note) if x) or None
    if p.kind is bool:
        flag = f"{p.option}/--no-{p.option[2:]}"
        return click.option(flag, default=default, show_default=show, help=text, **more)
    kind = click.Choice(p.choices) if p.choices else TYPES[p.kind]
    show = show and p.default is not None
    return click.option(p.option, type=kind, default=default, show_default=show, help=text, **more)

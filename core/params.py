"""Parameters defined once. A configuration dataclass's fields carry their help, their choices and whether
they are options at all; the CLI's options, the scheduler's task parameters (`--param key=value`) and the
README's option tables are all derived from them, so a new option is one new field."""

from __future__ import annotations

import math
from dataclasses import MISSING, dataclass, field, fields

from core.errors import InputError


def param(
    default=MISSING,
    help: str = "",
    choices: tuple = (),
    internal: bool = False,
    factory=None,
    kind: type | None = None,
):
    """A dataclass field that is also an option (`--name-with-dashes`), unless `internal`; `kind` where
    the default (None) does not tell the type."""
    meta = {"help": help, "choices": tuple(choices), "internal": internal, "kind": kind}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


def check_choices(config) -> None:
    """Every field declared with choices holds one of them: the one check, from the one declaration."""
    for f in fields(config):
        choices = f.metadata.get("choices") or ()
        value = getattr(config, f.name)
        if choices and value not in choices:
            option = "--" + f.name.replace("_", "-")
            raise InputError(f"{option} {value!r}: choose one of {', '.join(map(str, choices))}")


@dataclass(frozen=True)
class Param:
    name: str  # the field: config.lookback, the JSON key, the task parameter
    kind: type  # int, float, str, bool, or tuple (comma-separated text)
    default: object
    help: str = ""
    choices: tuple = ()

    @property
    def option(self) -> str:
        return "--" + self.name.replace("_", "-")

    def parse(self, text: str):
        """A task parameter's text as this parameter's value; the message names `--param name=`."""
        where = f"--param {self.name}={text!r}"
        if self.kind is bool:
            if text.lower() not in ("true", "false"):
                raise InputError(f"{where}: write true or false")
            return text.lower() == "true"
        if self.kind is tuple:
            return tuple(x.strip() for x in text.split(",") if x.strip())
        if self.kind in (int, float):
            what = "a whole number" if self.kind is int else "a finite number"
            try:
                value = self.kind(text)
            except ValueError:
                value = math.nan
            if not math.isfinite(value):
                raise InputError(f"{where}: must be {what}")
            return value
        if self.choices and text not in self.choices:
            raise InputError(f"{where}: choose one of {', '.join(map(str, self.choices))}")
        return text


def params_of(cls, skip: tuple[str, ...] = (), base=None) -> list[Param]:
    """The options a configuration class defines, in field order; defaults from `base` (an instance, such
    as a preset) when given."""
    out = []
    for f in fields(cls):
        if f.metadata.get("internal") or f.name in skip:
            continue
        default = f.default_factory() if f.default is MISSING else f.default
        kind = f.metadata.get("kind") or (tuple if isinstance(default, tuple) else type(default))
        if base is not None:
            default = getattr(base, f.name)
        out.append(Param(f.name, kind, default, f.metadata.get("help", ""), f.metadata.get("choices", ())))
    return out


BAR = " \\| "  # a | inside a Markdown table cell


def markdown_table(params: list[Param]) -> str:
    """The README's option table: option, default, what it does."""
    rows = ["| option | default | what |", "|---|---|---|"]
    for p in params:
        shown = _shown(p)
        choices = f" ({BAR.join(map(str, p.choices))})" if p.choices else ""
        rows.append(f"| `{p.option}`{choices} | {shown} | {p.help} |")
    return "\n".join(rows)


def _shown(p: Param) -> str:
    if p.kind is bool:
        return "on" if p.default else "off"
    if p.kind is tuple:
        return ", ".join(p.default) or "none"
    return f"`{p.default}`" if p.default not in (None, "") else "none"

"""What every command shares: the Settings object and how results are printed."""

from __future__ import annotations

import click

from core.settings import Settings
from reports.text import keyvalues, to_json

pass_settings = click.make_pass_decorator(Settings)


class FiniteFloat(click.ParamType):
    """A float that is a number: nan and inf are refused where they enter, never stored."""

    name = "float"

    def convert(self, value, param, ctx):
        import math

        number = click.FLOAT.convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


FLOAT = FiniteFloat()
SERIES_COLUMNS = ["name", "group", "freq", "n_obs", "first", "last", "gaps"]
CORPUS_COLUMNS = ["name", "n_chars", "n_lines", "vocabulary_size", "updated"]


def emit(settings: Settings, data, text: str | None = None) -> None:
    """JSON under --json; otherwise the given text, or the data as key/value lines."""
    click.echo(to_json(data) if settings.json else (text if text is not None else keyvalues(data)))


def force_out(f):
    """--force: replace an --out file that recur did not write (or that changed since it did)."""
    return click.option(
        "--force",
        is_flag=True,
        help="Replace an --out file that recur did not write (or that changed since).",
    )(f)


def device_options(f):
    """--device and --precision: where a training run goes and in which dtypes."""
    f = click.option(
        "--precision",
        type=click.Choice(["float32", "mixed"]),
        default="float32",
        show_default=True,
        help="mixed: float16 compute on a GPU, outputs kept in float32.",
    )(f)
    return click.option(
        "--device",
        type=click.Choice(["auto", "cpu", "gpu"]),
        default="auto",
        show_default=True,
        help="auto: the GPU when one is visible.",
    )(f)


CASCADE = click.option(
    "--cascade", is_flag=True, help="Also delete the schedules and models that use it (listed in the output)."
)

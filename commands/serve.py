"""`recur serve`: the HTTP API and the dashboard over this store."""

from __future__ import annotations

import click

from commands.common import pass_settings
from commands.options import config_options
from core.params import params_of
from core.settings import Settings
from service.config import ServeOptions


@click.command("serve")
@config_options(params_of(ServeOptions), extra={"token": {"envvar": "RECUR_TOKEN"}})
@pass_settings
def serve(settings: Settings, **options) -> None:
    """Serve this store over HTTP: OpenAI's completions API for the text generators, read-only JSON/CSV of
    subjects, forecasts, vintages, schedules, runs and samples, and a dashboard at /.

    \b
    Examples:
      recur serve                          # http://127.0.0.1:8765/
      recur serve --host 0.0.0.0 --token "$(openssl rand -hex 16)"
    """
    from service.server import serve as run

    run(settings, ServeOptions(**options), lambda line: click.echo(line, err=True))

"""`recur jobs ...` and `recur scheduler ...`: schedules as data, the run ledger, the daemon."""

from __future__ import annotations

import sys

import click

from commands.common import FLOAT, emit, pass_settings
from core.settings import Settings
from jobs.checks import parse_params
from jobs.lease import LEASE_S
from jobs.schedules import (
    ScheduleSpec,
    add_schedule,
    backfill,
    backfill_dates,
    history,
    list_schedules,
    remove_schedule,
    run_now,
    set_enabled,
    show_schedule,
    status,
)
from jobs.tasks import TASKS
from reports.text import keyvalues, table

TASK_NAMES = list(TASKS)
RUN_COLUMNS = ["id", "schedule", "logical_date", "attempt", "status", "started", "seconds", "node"]


@click.group()
def jobs() -> None:
    """Scheduled tasks: add, list, show, enable, disable, remove, run, history, backfill."""


@jobs.command("add")
@click.argument("name")
@click.option("--task", required=True, type=click.Choice(TASK_NAMES))
@click.option("--cron", required=True, help='Five fields: "0 2 * * *" is 02:00 every day.')
@click.option("--tz", default="UTC", show_default=True, help="Time zone the cron is read in.")
@click.option("--param", "params", multiple=True, help="key=value for the task (repeatable).")
@click.option("--timeout", help="Wall-clock limit per run: 90s, 45m, 2h.")
@click.option("--retries", type=int, default=0, show_default=True, help="Extra attempts after a failure.")
@pass_settings
def jobs_add(settings: Settings, name: str, params: tuple[str, ...], **options) -> None:
    """Add a schedule; its parameters are checked now (an unknown series is an error now, not at 2 a.m.).

    \b
    Examples:
      recur jobs add ett-nightly --task nightly --cron "0 2 * * *" --tz Europe/Berlin \\
          --param subject=ETTh1/OT --param horizon=24 --param path=/data/ett/ --timeout 2h --retries 2
      recur jobs add poem --task sample --cron "0 8 * * *" --param corpus=shakespeare --param length=400
    """
    out = add_schedule(settings, ScheduleSpec(name, params=parse_params(params), **options))
    emit(settings, out, keyvalues(out) + "\nnext runs: " + ", ".join(out["next"]))


@jobs.command("list")
@pass_settings
def jobs_list(settings: Settings) -> None:
    """Every schedule with its last run.

    Example: recur jobs list
    """
    rows = list_schedules(settings)
    cols = ["name", "task", "cron", "timezone", "enabled", "last", "last_status"]
    emit(
        settings, rows, table(rows, cols, empty="no schedules yet: recur jobs add NAME --task ... --cron ...")
    )


@jobs.command("show")
@click.argument("name")
@pass_settings
def jobs_show(settings: Settings, name: str) -> None:
    """A schedule's parameters, next run times and recent runs.

    Example: recur jobs show ett-nightly
    """
    out = show_schedule(settings, name)
    text = keyvalues(
        out | {"params": out["params"], "next": out["next"]}, [*_scalar_keys(out), "params", "next"]
    )
    text += "\n\n"
    emit(settings, out, text + table(out["recent"], RUN_COLUMNS, empty="no runs yet"))


@jobs.command("enable")
@click.argument("name")
@pass_settings
def jobs_enable(settings: Settings, name: str) -> None:
    """Enable a schedule.  Example: recur jobs enable ett-nightly"""
    emit(settings, set_enabled(settings, name, True))


@jobs.command("disable")
@click.argument("name")
@pass_settings
def jobs_disable(settings: Settings, name: str) -> None:
    """Disable a schedule (a running scheduler stops firing it).  Example: recur jobs disable ett-nightly"""
    emit(settings, set_enabled(settings, name, False))


@jobs.command("remove")
@click.argument("name")
@pass_settings
def jobs_remove(settings: Settings, name: str) -> None:
    """Remove a schedule and its run history.  Example: recur jobs remove ett-nightly"""
    out = remove_schedule(settings, name)
    emit(settings, out, f"removed schedule {name!r} and its run history ({out['runs_removed']} runs)")


@jobs.command("run")
@click.argument("name")
@pass_settings
def jobs_run(settings: Settings, name: str) -> None:
    """Run a schedule's task now, in the foreground, recorded in the same ledger.

    Example: recur jobs run ett-nightly
    """
    out = run_now(settings, name)
    lines = flattened(out.get("outputs") or {})
    width = max((len(k) for k, _v in lines), default=0)
    made = "\n".join(f"  {k.ljust(width)}  {v}" for k, v in lines)
    emit(settings, out, keyvalues(out) + (f"\nmade:\n{made}" if made else ""))
    if out["status"] != "succeeded":
        sys.exit(1)


def flattened(data: dict, prefix: str = "") -> list[tuple[str, str]]:
    """What a run made, one line a value: nested steps as `retrain.version`, lists comma-separated."""
    lines = []
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            lines += flattened(value, f"{name}.")
        elif isinstance(value, list) and not any(isinstance(v, dict | list) for v in value):
            lines.append((name, ", ".join(map(str, value))))
        elif not isinstance(value, list):
            lines.append((name, str(value)))
    return lines


@jobs.command("history")
@click.argument("name", required=False)
@click.option("--limit", type=int, default=50, show_default=True)
@pass_settings
def jobs_history(settings: Settings, name: str | None, limit: int) -> None:
    """What ran, when, and how it ended (newest first).

    Example: recur jobs history ett-nightly
    """
    rows = history(settings, name, limit)
    emit(settings, rows, table(rows, [*RUN_COLUMNS, "error"], empty="no runs yet"))


@jobs.command("backfill")
@click.argument("name")
@click.option("--from", "start", required=True, help="First date, e.g. 2026-11-01.")
@click.option("--to", "end", required=True, help="Last date (inclusive).")
@click.option("--missing", "mode", flag_value="missing", default=True, help="Dates never run (default).")
@click.option("--failed", "mode", flag_value="failed", help="Dates whose last attempt failed.")
@click.option("--all", "mode", flag_value="all", help="Every date again.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_settings
def jobs_backfill(settings: Settings, name: str, start: str, end: str, mode: str, yes: bool) -> None:
    """Run a schedule for past logical dates (at most 1,000), in the foreground, after saying how many.

    Example: recur jobs backfill ett-nightly --from 2026-11-01 --to 2026-11-07 --failed --yes
    """
    keys = backfill_dates(settings, name, start, end, mode)
    if keys and not yes:
        span = keys[0] if len(keys) == 1 else f"{keys[0]} to {keys[-1]}"
        click.confirm(
            f"Start {len(keys)} run{'s' if len(keys) > 1 else ''} of {name!r} ({span})?", abort=True
        )
    rows = backfill(settings, name, keys)
    emit(
        settings, rows, table(rows, ["run", "logical_date", "attempt", "status"], empty="nothing to backfill")
    )


@click.group()
def scheduler() -> None:
    """The scheduler daemon: run it in the foreground (systemd, tmux ...), check on it."""


@scheduler.command("run")
@click.option("--tick", type=FLOAT, default=30.0, show_default=True, help="Seconds between reconciliations.")
@click.option(
    "--grace", type=FLOAT, default=60.0, show_default=True, help="Seconds running tasks get at stop."
)
@click.option(
    "--lease",
    type=click.FloatRange(min=4),
    default=LEASE_S,
    show_default=True,
    help="Seconds without a word from the leading scheduler before a standby takes over.",
)
@pass_settings
def scheduler_run(settings: Settings, tick: float, grace: float, lease: float) -> None:
    """Run due schedules until SIGTERM/SIGINT; logs to stderr and to <home>/logs/scheduler.log.

    Start one on each of several hosts sharing a PostgreSQL store: one leads, the others stand by and
    take over within the lease time when it dies; no logical date runs twice. With --executor ray each
    run is a task on the Ray cluster.

    Example: recur scheduler run
    """
    from jobs.scheduler import run_forever, setup_logging

    setup_logging(settings)
    sys.exit(run_forever(settings, tick, grace, lease))


@scheduler.command("status")
@pass_settings
def scheduler_status(settings: Settings) -> None:
    """Is the store's scheduler alive, and what runs next.

    Example: recur scheduler status
    """
    out = status(settings)
    emit(
        settings, out, keyvalues(out) + "\n\n" + table(out["schedules"], ["name", "enabled", "next", "last"])
    )


def _scalar_keys(data: dict) -> list[str]:
    return [k for k, v in data.items() if not isinstance(v, list | dict)]

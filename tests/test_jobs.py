"""Schedules, the run ledger and the scheduler's decisions (RELIABILITY 6, 8, 9, 11), with injected clocks
and in-process runners so they stay fast; the process-level trials are in tests/reliability/."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.settings import Settings
from db import schedules as sq
from db.engine import write_session
from db.tables import Schedule, utcnow
from jobs.cron import due
from jobs.scheduler import Scheduler, SchedulerBusy, sync_jobs
from tests.conftest import DATA

pytestmark = pytest.mark.usefixtures("backend")  # each test on SQLite and on PostgreSQL


@pytest.fixture
def settings(home) -> Settings:
    return Settings.resolve(home)


def test_add_list_show_enable_disable_remove(recur):
    recur("series", "ingest", DATA / "airline_passengers.csv", "--name", "airline")
    out = recur.json(
        "jobs",
        "add",
        "fc",
        "--task",
        "forecast",
        "--cron",
        "0 2 * * *",
        "--tz",
        "Europe/Berlin",
        "--param",
        "subject=airline",
        "--param",
        "horizon=6",
        "--timeout",
        "2h",
        "--retries",
        "2",
    )
    assert out["params"] == {"subject": "airline", "horizon": "6"} and len(out["next"]) == 3
    [row] = recur.json("jobs", "list")
    assert (row["name"], row["task"], row["timezone"], row["enabled"]) == (
        "fc",
        "forecast",
        "Europe/Berlin",
        True,
    )
    show = recur.json("jobs", "show", "fc")
    assert show["timeout_s"] == 7200 and show["retries"] == 2 and show["next"][0].endswith("T02:00")
    recur("jobs", "disable", "fc")
    assert recur.json("jobs", "list")[0]["enabled"] is False
    recur("jobs", "enable", "fc")
    recur("jobs", "remove", "fc")
    assert recur.json("jobs", "list") == []


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (
            ["--task", "forecast", "--cron", "0 2 * * *", "--param", "subject=nope"],
            "no series or group named 'nope'",
        ),
        (["--task", "forecast", "--cron", "0 2 * *", "--param", "subject=airline"], "--cron '0 2 * *'"),
        (
            ["--task", "forecast", "--cron", "0 2 * * *", "--tz", "Moon/Base", "--param", "subject=airline"],
            "--tz 'Moon/Base' is not a time zone",
        ),
        (
            ["--task", "forecast", "--cron", "0 2 * * *", "--param", "subjekt=airline"],
            "takes no parameter 'subjekt'; it takes: horizon, subject",
        ),
        (["--task", "forecast", "--cron", "0 2 * * *"], "needs --param subject=..."),
        (["--task", "sample", "--cron", "0 2 * * *", "--param", "corpus=none"], "no corpus named 'none'"),
        (
            ["--task", "ingest", "--cron", "0 2 * * *", "--param", "path=/no/such/dir"],
            "no such file or folder",
        ),
        (
            ["--task", "sleep", "--cron", "0 2 * * *", "--param", "seconds=1", "--timeout", "soon"],
            "--timeout 'soon'",
        ),
    ],
)
def test_parameters_are_checked_when_the_schedule_is_added(recur, args, fragment):
    recur("series", "ingest", DATA / "airline_passengers.csv", "--name", "airline")
    assert fragment in recur.fails("jobs", "add", "x", *args)
    assert recur.json("jobs", "list") == []


def test_run_now_records_success_and_failure(recur):
    recur("jobs", "add", "ok", "--task", "sleep", "--cron", "0 2 * * *", "--param", "seconds=0")
    recur(
        "jobs",
        "add",
        "boom",
        "--task",
        "sleep",
        "--cron",
        "0 2 * * *",
        "--param",
        "seconds=0",
        "--param",
        "fail=true",
    )
    assert recur.json("jobs", "run", "ok")["status"] == "succeeded"
    result = recur("--json", "jobs", "run", "boom", ok=False)
    assert result.exit_code == 1 and '"status": "failed"' in result.output
    rows = recur.json("jobs", "history")
    assert [r["status"] for r in rows] == ["failed", "succeeded"]
    assert rows[0]["error"] == "RuntimeError: failed on purpose (traceback in logs/run-2.log)"


def test_a_hung_task_is_killed_at_its_timeout(recur):
    recur(
        "jobs",
        "add",
        "hang",
        "--task",
        "sleep",
        "--cron",
        "0 2 * * *",
        "--param",
        "seconds=600",
        "--timeout",
        "2s",
    )
    out = recur("--json", "jobs", "run", "hang", ok=False)
    assert '"status": "timed_out"' in out.output
    assert recur.json("jobs", "history", "hang")[0]["seconds"] < 30


def test_backfill_missing_failed_all(recur):
    recur("jobs", "add", "d", "--task", "sleep", "--cron", "0 3 * * *", "--param", "seconds=0")
    days = ["--from", "2026-11-01", "--to", "2026-11-03"]
    asked = recur("jobs", "backfill", "d", *days, input="n\n", ok=False)
    assert "Start 3 runs of 'd' (2026-11-01T03:00 to 2026-11-03T03:00)?" in asked.output
    assert asked.exit_code == 1 and recur.count("job_run") == 0
    first = recur.json("jobs", "backfill", "d", *days, "--yes")
    assert [r["logical_date"] for r in first] == ["2026-11-01T03:00", "2026-11-02T03:00", "2026-11-03T03:00"]
    assert recur.json("jobs", "backfill", "d", *days) == []  # nothing to run: nothing asked
    assert recur.json("jobs", "backfill", "d", *days, "--failed") == []
    again = recur.json(
        "jobs", "backfill", "d", "--from", "2026-11-02", "--to", "2026-11-02", "--all", "--yes"
    )
    assert [(r["logical_date"], r["attempt"]) for r in again] == [("2026-11-02T03:00", 2)]
    message = recur.fails("jobs", "backfill", "d", "--from", "1900-01-01", "--to", "2026-12-01", "--yes")
    assert "more than 1,000 logical dates of 'd' from 1970-01-01T03:00" in message and "narrow" in message
    assert recur.count("job_run") == 4


def test_a_killed_runs_row_is_shown_abandoned_not_running_forever(recur, home):
    """A `jobs run` or `jobs backfill` killed mid-run leaves its row `running` with a heart that stopped:
    the next `jobs history` (or run) marks it abandoned, as a scheduler does; a live one is left alone."""
    recur("jobs", "add", "d", "--task", "sleep", "--cron", "0 3 * * *", "--param", "seconds=0")
    settings = Settings.resolve(home)
    with write_session(settings) as session:
        dead = sq.claim(session, sq.get(session, "d"), "2026-11-01T03:00")
        dead.heartbeat_at = utcnow() - timedelta(minutes=5)
        sq.claim(session, sq.get(session, "d"), "2026-11-02T03:00")  # beating now
    shown = {r["logical_date"]: r for r in recur.json("jobs", "history", "d")}
    assert shown["2026-11-01T03:00"]["status"] == "abandoned"
    assert "heartbeat stopped" in shown["2026-11-01T03:00"]["error"]
    assert shown["2026-11-02T03:00"]["status"] == "running"


TRANSITIONS = [  # (zone, a day around each 2026 transition)
    ("Europe/Berlin", "2026-03-29"),
    ("Europe/Berlin", "2026-10-25"),
    ("America/New_York", "2026-03-08"),
    ("America/New_York", "2026-11-01"),
    ("Australia/Lord_Howe", "2026-04-05"),
    ("Australia/Lord_Howe", "2026-10-04"),
]


@pytest.mark.parametrize(("tz", "day"), TRANSITIONS)
@pytest.mark.parametrize("cron", ["30 2 * * *", "0 1 * * *", "45 1 * * *"])
def test_one_logical_date_per_local_day_across_dst(tz, day, cron):
    """Three days around the transition hold three logical dates, whether the local time is skipped or
    shown twice."""
    start = datetime.fromisoformat(day).replace(tzinfo=UTC) - timedelta(days=1, hours=14)
    seen = due(cron, tz, start, start + timedelta(days=3))
    days = [k[:10] for k in seen]
    assert len(days) == len(set(days)) == 3, seen


def fake_runner(settings: Settings, name: str, key: str, **_):
    """Claims through the real ledger and succeeds at once: the scheduler's decisions without processes."""
    with write_session(settings) as session:
        run = sq.claim(session, sq.get(session, name), key)
        if run is None:
            return None
        run.status, run.finished_at = "succeeded", utcnow()
        return {"attempt": run.attempt, "status": run.status}


def add_schedule(settings: Settings, name: str, cron: str, tz: str, created: datetime) -> None:
    with write_session(settings) as session:
        session.add(
            Schedule(
                name=name,
                task="sleep",
                cron=cron,
                timezone=tz,
                params={"seconds": "0"},
                created_at=created.replace(tzinfo=None),
            )
        )


@pytest.mark.parametrize(("tz", "day"), TRANSITIONS)
def test_scheduler_ticks_through_a_transition_and_restarts_without_repeats(settings, tz, day):
    """Ticking every 30 minutes, across four scheduler lives: one successful run per local day."""
    created = datetime.fromisoformat(day).replace(tzinfo=UTC) - timedelta(days=2)
    add_schedule(settings, "n", "30 2 * * *", tz, created)
    clock = {"now": created}
    for _life in range(4):  # four scheduler lives, each ticking through part of the period
        s = Scheduler(settings, tick=30, clock=lambda: clock["now"], runner=fake_runner, workers=1)
        s.acquire()
        for _ in range(48):
            clock["now"] += timedelta(minutes=30)
            s.tick()
        s.executor.shutdown(wait=True)
        s.release()
    with write_session(settings) as session:
        runs = sq.runs(session, limit=100)
    keys = [r.logical_date for r in runs]
    assert len(keys) == len(set(keys)) and all(r.status == "succeeded" for r in runs)
    days = sorted(k[:10] for k in keys)
    assert len(days) == len(set(days)) >= 4 and day in days


def test_catch_up_after_downtime_runs_every_missed_date_once(settings):
    now = datetime(2026, 11, 26, 12, tzinfo=UTC)
    add_schedule(settings, "daily", "0 2 * * *", "UTC", now - timedelta(days=4))
    s = Scheduler(settings, clock=lambda: now, runner=fake_runner, workers=1)
    s.acquire()
    s.tick()
    s.tick()
    s.executor.shutdown(wait=True)
    with write_session(settings) as session:
        keys = sorted(r.logical_date for r in sq.runs(session))
    assert keys == [f"2026-11-{d}T02:00" for d in (23, 24, 25, 26)]


def test_a_second_scheduler_refuses_naming_the_first(settings):
    first = Scheduler(settings)
    first.acquire()
    second = Scheduler(settings)
    second.holder = "otherhost:42"
    with pytest.raises(SchedulerBusy, match=first.holder):
        second.acquire()


def test_a_stale_lease_is_taken_over(settings):
    first = Scheduler(settings)
    first.acquire()
    with write_session(settings) as session:
        sq.lease(session).heartbeat_at = utcnow() - timedelta(hours=1)
    second = Scheduler(settings)
    second.holder = "otherhost:42"
    second.acquire()
    with write_session(settings) as session:
        assert sq.lease(session).holder == "otherhost:42"


def test_restarts_never_duplicate_jobs_and_edits_are_picked_up(settings):
    from apscheduler.schedulers.background import BackgroundScheduler

    add_schedule(settings, "a", "0 2 * * *", "UTC", datetime.now(UTC))
    add_schedule(settings, "b", "0 3 * * *", "Europe/Berlin", datetime.now(UTC))
    aps, s = BackgroundScheduler(timezone=UTC), Scheduler(settings)
    aps.start(paused=True)  # as in `scheduler run`: jobs are synced into a started scheduler
    for _ in range(3):
        sync_jobs(aps, s)
    assert sorted(j.id for j in aps.get_jobs()) == ["schedule-1", "schedule-2"]
    with write_session(settings) as session:
        sq.get(session, "a").cron = "15 4 * * *"
        sq.get(session, "b").enabled = False
    sync_jobs(aps, s)
    [job] = aps.get_jobs()
    assert job.id == "schedule-1" and "hour='4'" in str(job.trigger) and "minute='15'" in str(job.trigger)
    aps.shutdown(wait=False)


def test_stale_running_rows_are_abandoned_and_retried(settings):
    now = datetime.now(UTC)
    add_schedule(settings, "r", "0 2 * * *", "UTC", now - timedelta(days=1, hours=1))
    key = due("0 2 * * *", "UTC", now - timedelta(days=1, hours=1), now)[-1]
    with write_session(settings) as session:
        run = sq.claim(session, sq.get(session, "r"), key)
        run.heartbeat_at = utcnow() - timedelta(minutes=10)
    s = Scheduler(settings, clock=lambda: now, runner=fake_runner, workers=1)
    s.acquire()
    s.tick()
    s.executor.shutdown(wait=True)
    with write_session(settings) as session:
        statuses = [(r.logical_date, r.attempt, r.status) for r in reversed(sq.runs(session))]
    assert (key, 1, "abandoned") in statuses and (key, 2, "succeeded") in statuses


def test_nightly_composite_runs_end_to_end(recur, home):
    """ingest → retrain → gate → forecast → score → report, in a child process, through the ledger; a
    forecast a person stored before at the same origin with other options neither blocks the nightly nor
    is overwritten by it."""
    recur("series", "ingest", DATA / "airline_passengers.csv", "--name", "airline")
    by_hand = recur.json("forecast", "predict", "airline", "--horizon", "6", "--level", "90", "--replace")
    params = [
        "subject=airline",
        f"path={DATA / 'airline_passengers.csv'}",
        "model=gru",
        "epochs=2",
        "lookback=12",
        "horizon=6",
        "windows=3",
        "units=4",
    ]
    recur(
        "jobs",
        "add",
        "night",
        "--task",
        "nightly",
        "--cron",
        "0 2 * * *",
        *[a for p in params for a in ("--param", p)],
    )
    out = recur.json("jobs", "run", "night")
    assert out["status"] == "succeeded", out["error"]
    steps = out["outputs"]
    assert steps["ingest"]["ingested"][0]["series"][0]["inserted"] == 0  # the same file again: nothing new
    assert steps["retrain"]["version"] == 1 and steps["forecast"]["forecast_ids"]
    assert (home / "reports").is_dir() and steps["report"].endswith(".html")
    mine = by_hand["forecasts"][0]["forecast_id"]
    if not steps["retrain"]["promoted"]:  # the same method and no model: the person's vintage is kept
        assert steps["forecast"]["forecast_ids"] == [mine] and "levels 90" in steps["forecast"]["kept"][0]
    levels = recur.points()[mine][0].intervals
    assert "90" in levels and "95" not in levels


def test_a_nightly_of_series_too_short_to_train_still_forecasts(recur, tmp_path):
    """Two and a half years of monthly data and h = 18 leave no room for a training window and a backtest
    window: the retrain step says so, and the night's forecast comes from the best baseline."""
    lines = (DATA / "airline_passengers.csv").read_text().splitlines()[:31]
    (tmp_path / "short.csv").write_text("\n".join(lines) + "\n")
    recur("series", "ingest", tmp_path / "short.csv", "--name", "short")
    params = [f"--param={p}" for p in ("subject=short", "horizon=18", f"path={tmp_path / 'short.csv'}")]
    recur("jobs", "add", "night", "--task", "nightly", "--cron", "0 2 * * *", *params)
    out = recur.json("jobs", "run", "night")
    assert out["status"] == "succeeded", out["error"]
    steps = out["outputs"]
    assert "has 30 points; lookback 2 + horizon 18" in steps["retrain"]["skipped"]
    assert steps["forecast"]["model_version"] is None and len(steps["forecast"]["forecast_ids"]) == 1


def test_jobs_run_says_what_the_run_made(recur):
    recur("series", "ingest", DATA / "airline_passengers.csv", "--name", "airline")
    recur("jobs", "add", "f", "--task", "forecast", "--cron", "0 3 * * *", "--param", "subject=airline")
    shown = recur("jobs", "run", "f").output
    assert "status        succeeded" in shown and "made:\n  forecast_ids" in shown and "method" in shown


def test_ingest_task_appends_a_long_file_of_many_series(recur, tmp_path, monkeypatch):
    """A nightly drop in the long layout (id, time, value: one row per series and step) appends each
    series' new step, as `series ingest --id-col` would; a relative path means where `jobs add` ran."""
    first, later = tmp_path / "first.csv", tmp_path / "drop.csv"
    first.write_text("unique_id,ds,y\n" + "".join(f"{s},{t},{t * 2}\n" for s in "ab" for t in (1, 2, 3)))
    later.write_text("unique_id,ds,y\na,4,8\nb,4,9\n")
    recur("series", "ingest", first, "--id-col", "unique_id", "--time-col", "ds", "--name", "shop")
    monkeypatch.chdir(tmp_path)
    params = ["path=drop.csv", "name=shop", "id_col=unique_id", "time_col=ds", "value_col=y"]
    recur(
        "jobs",
        "add",
        "drop",
        "--task",
        "ingest",
        "--cron",
        "0 1 * * *",
        *[a for p in params for a in ("--param", p)],
    )
    monkeypatch.chdir(tmp_path.parent)
    assert recur.json("jobs", "show", "drop")["params"]["path"] == str(later)
    out = recur.json("jobs", "run", "drop")
    assert out["status"] == "succeeded", out["error"]
    inserted = {s["name"]: s["inserted"] for s in out["outputs"]["ingested"][0]["series"]}
    assert inserted == {"shop/a": 1, "shop/b": 1}
    shown = recur.json("series", "show", "shop/b")["series"][0]
    assert shown["n_obs"] == 4 and shown["last"] == "4" and shown["max"] == 9

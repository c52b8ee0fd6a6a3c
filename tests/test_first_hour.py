"""A new user's first hour: values are checked where they enter, --json goes anywhere, TensorFlow's chatter
stays hidden, and the nightly job of the README ingests its own kind of file."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import DATA, ROOT

CRON = ("--cron", "0 2 * * *")


@pytest.fixture
def airline(recur):
    recur("series", "ingest", DATA / "airline_passengers.csv", "--name", "airline")
    return recur


def test_json_goes_before_or_after_the_command(airline):
    after = json.loads(airline("series", "list", "--json").output)
    before = json.loads(airline("--json", "series", "list").output)
    assert after == before and after[0]["name"] == "airline"


@pytest.mark.parametrize(
    ("param", "message"),
    [
        ("horizon=0", "--param horizon=0: must be at least 1"),
        ("horizon=-5", "--param horizon=-5: must be at least 1"),
        ("horizon=1.5", "must be a whole number"),
        ("epochs=nan", "must be a whole number"),
        ("units=0", "--param units=0: must be at least 1"),
        ("windows=0", "--param windows=0: must be at least 1"),
    ],
)
def test_schedule_parameters_are_checked_when_added(airline, param, message):
    out = airline.fails(
        "jobs",
        "add",
        "x",
        "--task",
        "retrain-forecaster",
        *CRON,
        "--param",
        "subject=airline",
        "--param",
        param,
    )
    assert message in out and airline.count("schedule") == 0


@pytest.mark.parametrize("timeout", ["0", "-1", "1e21", "nan", "soon"])
def test_a_timeout_is_a_real_duration(airline, timeout):
    out = airline.fails(
        "jobs", "add", "x", "--task", "forecast", *CRON, "--param", "subject=airline", "--timeout", timeout
    )
    assert "--timeout" in out and "1s to 7d" in out


def test_numbers_are_finite_and_horizons_positive(airline):
    assert "not a finite number" in airline.fails("textgen", "sample", "x", "--temperature", "nan", code=2)
    assert "not a finite number" in airline.fails("forecast", "train", "airline", "--dropout", "inf", code=2)
    for horizon in ("0", "-1"):
        assert "--horizon" in airline.fails("forecast", "predict", "airline", "--horizon", horizon, code=2)


def test_the_readme_nightly_ingests_a_file_of_several_columns(recur, monkeypatch):
    """`--param subject=ETTh1/OT --param path=data/ETTh1.csv`: the file is ingested as the group ETTh1."""
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("RECUR_SMOKE_STEPS", "1")
    recur(
        "jobs",
        "add",
        "ett",
        "--task",
        "nightly",
        *CRON,
        "--param",
        "subject=ETTh1/OT",
        "--param",
        "horizon=24",
        "--param",
        "path=data/ETTh1.csv",
        "--param",
        "model=gru",
    )
    recur("jobs", "run", "ett")
    runs = recur.json("jobs", "history")
    assert runs[0]["status"] == "succeeded", runs
    assert {s["name"] for s in recur.json("series", "list")} >= {"ETTh1/OT", "ETTh1/HUFL"}


@pytest.mark.slow
def test_tensorflow_start_up_lines_are_hidden_unless_verbose(airline, tmp_path):
    env = os.environ | {"RECUR_HOME": str(airline.home), "PYTHONPATH": str(ROOT)}
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    args = [sys.executable, "-m", "cli", "forecast", "train", "airline", "--model", "gru", "--epochs", "1"]
    quiet = subprocess.run(args, capture_output=True, text=True, env=env, cwd=ROOT, check=True)
    assert "absl" not in quiet.stderr and "cuda" not in quiet.stderr.lower() and "I0000" not in quiet.stderr
    assert "backtest MASE" in quiet.stderr  # progress still shows
    loud = subprocess.run(
        [*args[:3], "--verbose", *args[3:]], capture_output=True, text=True, env=env, cwd=ROOT, check=True
    )
    assert "I0000" in loud.stderr or "absl" in loud.stderr or "oneDNN" in loud.stderr


def test_predict_prints_the_forecast_in_the_series_own_time(airline):
    text = airline("forecast", "predict", "airline", "--horizon", "3").output
    assert "time" in text and "lower80" in text and "upper95" in text and "1961-01-01" in text
    out = airline.json("forecast", "predict", "airline", "--horizon", "3")
    first = out["forecasts"][0]
    assert first["origin"] == "1960-12-01" and first["values"][0]["time"] == "1961-01-01"
    row = first["values"][0]
    assert row["lower95"] < row["lower80"] < row["value"] < row["upper80"] < row["upper95"]


def test_a_damaged_store_is_reported_by_doctor_and_db_info(recur):
    recur("series", "ingest", DATA / "ETTh1.csv")
    path = recur.home / "recur.db"
    with recur.db() as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = path.stat().st_size
    with open(path, "r+b") as fh:
        for offset in range(size // 2, size // 2 + 3 * 4096, 97):
            fh.seek(offset)
            fh.write(b"\xff")
    assert recur.json("db", "info", "--check")["integrity"].startswith("DAMAGED")
    result = recur("--json", "doctor", "--no-devices", ok=False)
    assert result.exit_code == 1 and json.loads(result.output)["integrity"].startswith("DAMAGED")


def test_hostile_inputs_are_refused_early_with_the_limit_to_raise(recur, write, monkeypatch):
    wide = write(
        "wide.csv", ",".join(f"c{i}" for i in range(20_001)) + "\n" + ",".join(["1"] * 20_001) + "\n"
    )
    out = recur.fails("series", "ingest", wide)
    assert "20,001 columns" in out and "RECUR_MAX_COLUMNS" in out and recur.count("series") == 0
    monkeypatch.setenv("RECUR_MAX_TEXT_BYTES", "1000")
    out = recur.fails("corpus", "ingest", write("big.txt", "a" * 5000))
    assert "5,000 bytes" in out and "RECUR_MAX_TEXT_BYTES" in out
    out = recur.fails("corpus", "ingest", write("nul.txt", "line one\nab\x00cd\n"))
    assert "line 2, column 3: a NUL byte" in out and recur.count("corpus") == 0


def test_dates_and_paths_are_checked_where_they_enter(recur, tmp_path):
    recur("series", "ingest", DATA / "airline_passengers.csv", "--name", "airline")
    recur("jobs", "add", "f", "--task", "forecast", *CRON, "--param", "subject=airline")
    out = recur.fails("jobs", "backfill", "f", "--from", "2026-11-22", "--to", "2026-11-20")
    assert "--from 2026-11-22 is after --to 2026-11-20" in out
    missing = tmp_path / "no" / "such" / "dir"
    out = recur.fails("--db", f"sqlite:///{missing}/x.db", "series", "list")
    assert "does not exist" in out and not missing.parent.exists()
    assert "no labelled set named 'nosuch'" in recur.fails("classify", "predict", "nosuch", "--text", "hi")


def test_what_a_schedule_or_a_model_uses_is_not_deleted_silently(airline):
    airline("jobs", "add", "f", "--task", "forecast", *CRON, "--param", "subject=airline")
    airline("forecast", "train", "airline", "--model", "gru", "--epochs", "1", "--force")
    out = airline.fails("series", "delete", "airline", "--yes")
    assert "schedule 'f' (forecast)" in out and "(champion)" in out and "--cascade" in out
    assert airline.count("series") == 1
    gone = airline.json("series", "delete", "airline", "--yes", "--cascade")
    assert gone["cascaded"][0] == "schedule 'f' (forecast)" and any("champion" in c for c in gone["cascaded"])
    assert airline.count("schedule") == 0 and airline.count("model_version") == 0


def test_removing_a_schedule_says_its_history_goes_too(airline):
    airline("jobs", "add", "f", "--task", "forecast", *CRON, "--param", "subject=airline")
    airline("jobs", "run", "f")
    assert "its run history (1 runs)" in airline("jobs", "remove", "f").output


def test_what_is_printed_is_for_people_not_python_reprs(airline):
    airline("jobs", "add", "f", "--task", "forecast", *CRON, "--param", "subject=airline")
    shown = airline("jobs", "show", "f").output
    assert "subject=airline" in shown and "{" not in shown and "enabled    yes" in shown
    airline("jobs", "add", "boom", "--task", "sleep", *CRON, "--param", "seconds=0", "--param", "fail=true")
    airline("jobs", "run", "boom", ok=False)
    history = airline("jobs", "history").output
    assert "['" not in history and "Traceback" not in history
    version = airline.json("forecast", "train", "airline", "--model", "gru", "--epochs", "1")["version"]
    shown = airline("models", "show", str(version)).output
    assert "metrics:" in shown and "seasonal_naive" in shown and "mase" in shown
    airline("forecast", "predict", "airline", "--horizon", "2")
    assert "no actuals have arrived yet" in airline("forecast", "score", "airline").output
    conflict = "t,v\n" + "".join(f"{i},{i}.5\n" for i in range(1, 30))
    airline.home.joinpath("c.csv").write_text(conflict)
    airline("series", "ingest", airline.home / "c.csv", "--name", "c", "--time-col", "t")
    airline.home.joinpath("c.csv").write_text(conflict.replace("1,1.5", "1,2.5"))
    out = airline.fails("series", "ingest", airline.home / "c.csv", "--name", "c", "--time-col", "t")
    assert "np.float64" not in out and "already has 1.5" in out and "the file says 2.5" in out


def test_an_hourly_series_shows_its_times_alike(recur):
    recur("series", "ingest", DATA / "ETTh1.csv")
    shown = recur.json("series", "show", "ETTh1/OT")["series"][0]
    assert (shown["first"], shown["last"]) == ("2016-07-01 00:00:00", "2018-06-26 19:00:00")


def test_day_first_dates_read_month_first_say_how_to_read_them(recur, write):
    days = "date,v\n" + "".join(f"{d:02d}/02/2024,{d}\n" for d in range(1, 8))
    out = recur.fails("series", "ingest", write("d.csv", days), "--name", "d")
    assert "read month first ('%m/%d/%Y')" in out and "--time-format '%d/%m/%Y'" in out
    recur("series", "ingest", write("d.csv", days), "--name", "d", "--time-format", "%d/%m/%Y")
    assert recur.json("series", "show", "d")["series"][0]["last"] == "2024-02-07"


@pytest.mark.slow
def test_building_the_project_prints_no_warnings(tmp_path):
    """`pip install` of the project (a wheel built by the setuptools `make` installs) warns of nothing:
    no beta configuration, no editable import finder."""
    out = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", tmp_path, ROOT],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr
    assert "BuildBackendWarning" not in out.stdout + out.stderr and list(tmp_path.glob("recur-*.whl"))

"""Retention (`models prune`, the `maintenance` task, `db info`, `db vacuum`): old versions' artifact bytes
go, their rows and lineage stay, and nothing a forecast, a report, a rollback or `forecast score` needs is
ever pruned."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from core.errors import InputError
from core.retention import Held, Retention, decide
from forecaster.scores import SERVING_STATE
from tests.conftest import DATA

SMALL = ["--lookback", "12", "--horizon", "6", "--units", "4", "--epochs", "1", "--windows", "2"]


def _age(recur, days: int) -> None:
    """Every version (and its promotion) `days` older, as if trained that long ago."""
    with recur.db() as conn:
        for column in ("created_at", "promoted_at"):
            conn.execute(
                f"UPDATE model_version SET {column} = datetime({column}, ?) WHERE {column} IS NOT NULL",
                (f"-{days} days",),
            )


@pytest.fixture
def history(recur):
    """airline with five forced champions (oldest first), each of which issued a forecast, all 30 days
    old, then a sixth version trained today."""
    recur("series", "ingest", DATA / "airline_passengers.csv", "--name", "airline")
    versions = []
    for month in range(1, 6):
        versions.append(recur.json("forecast", "train", "airline", "--model", "gru", "--force", *SMALL))
        recur("forecast", "predict", "airline", "--as-of", f"1960-0{month}-01")
    _age(recur, 30)
    versions.append(recur.json("forecast", "train", "airline", "--model", "gru", "--force", *SMALL))
    return [v["version"] for v in versions]


def test_prune_keeps_what_rollback_forecasts_and_reports_need(recur, history):
    before = recur.json("db", "info")
    dry = recur.json("models", "prune", "--dry-run", "--keep-promotions", "3", "--keep-days", "7")
    # kept: today's champion (young), the two champions before it (rollback), nothing else of a month ago
    assert [v["id"] for v in dry["versions"]] == history[:3][::-1] and dry["pruned"] == 0
    assert dry["prunable_bytes"] == before["retention"]["prunable_bytes"] > 0
    assert all(recur.json("models", "show", str(v))["artifact"] == "stored" for v in history)
    before_pruning = recur.json("models", "show", str(history[0]))
    full = before_pruning["metrics"]
    assert all(k in full for k in SERVING_STATE) and full["serve"]

    done = recur.json("models", "prune", "--keep-promotions", "3", "--keep-days", "7")
    assert done["pruned"] == 3 and done["prunable_bytes"] == dry["prunable_bytes"]
    shown = recur.json("models", "show", str(history[0]))
    assert shown["artifact"] == "pruned" and shown["bytes"] == 0  # its row stays, and its record:
    record = shown["metrics"]
    assert (
        record["backtest"]["overall"] == full["backtest"]["overall"]
        and record["decision"] == full["decision"]
    )
    assert record["served"] == full["served"] and shown["scores"] == before_pruning["scores"]
    # what only forecasting with it read is gone with its bytes
    assert not set(SERVING_STATE) & set(record) and "per_series" not in record["backtest"]
    kept = recur.json("models", "show", str(history[4]))["metrics"]
    assert all(k in kept for k in SERVING_STATE)
    assert recur.json("db", "info")["retention"]["prunable"] == 0
    # the forecasts the pruned versions made still name them, and are still scored
    scored = recur.json("forecast", "score", "airline")
    assert {r["model_version"] for r in scored} >= set(history[:3])
    recur("forecast", "predict", "airline")
    recur("report", "export", "--out", recur.home / "r.md")
    assert recur.json("models", "rollback", "airline")["champion"] == history[4]
    recur("forecast", "predict", "airline")

    assert "artifact was pruned" in recur.fails("models", "promote", str(history[0]))
    vacuumed = recur.json("db", "vacuum")
    assert vacuumed["bytes_after"] < vacuumed["bytes_before"]


def test_old_forecasts_keep_their_scores_and_lose_their_points(recur, history):
    scored = {r["forecast_id"]: r for r in recur.json("forecast", "score", "airline")}
    recur("forecast", "predict", "airline")  # the latest, from the last observation: nothing arrived yet
    with recur.db() as conn:
        conn.execute("UPDATE forecast SET issued_at = ?", ("2020-01-01 00:00:00",))
    dry = recur.json("forecast", "prune", "--keep-vintage-days", "7", "--dry-run")
    assert dry["vintages"] == 5 and dry["points"] == 5 * 6 and len(recur.points()) == 6
    done = recur.json("forecast", "prune", "--keep-vintage-days", "7")
    kept = recur.points()  # the latest vintage alone holds its points
    assert done["forecast_ids"] == sorted(scored) and len(kept) == 1 and not set(kept) & set(scored)
    after = {r["forecast_id"]: r for r in recur.json("forecast", "score", "airline")}
    for fid, row in scored.items():  # the same scores, read from the forecasts' rows now
        assert after[fid].keys() == row.keys() and after[fid]["arrived"] == 6
        assert all(after[fid][k] == pytest.approx(v) for k, v in row.items() if isinstance(v, float))
    recur("report", "export", "--out", recur.home / "r.html")
    assert recur.json("forecast", "prune", "--keep-vintage-days", "7")["vintages"] == 0


def test_the_maintenance_task_prunes_under_the_stores_policy(recur, history, monkeypatch):
    monkeypatch.setenv("RECUR_RETENTION_KEEP_PROMOTIONS", "2")
    monkeypatch.setenv("RECUR_RETENTION_KEEP_DAYS", "7")
    recur("jobs", "add", "tidy", "--task", "maintenance", "--cron", "0 4 * * *", "--param", "vacuum=true")
    recur("jobs", "run", "tidy")
    statuses = {m["id"]: m["status"] for m in recur.json("models", "list")}
    assert [statuses[v] for v in history] == ["pruned"] * 4 + ["ready"] * 2


def test_the_policy_is_bounded_and_named_where_it_came_from(recur, monkeypatch):
    assert "--keep-promotions" in recur.fails("models", "prune", "--keep-promotions", "1")
    monkeypatch.setenv("RECUR_RETENTION_KEEP_DAYS", "a week")
    assert "RECUR_RETENTION_KEEP_DAYS" in recur.fails("models", "prune", "--dry-run")
    with pytest.raises(InputError, match="RECUR_RETENTION_KEEP_DAYS"):
        Retention(keep_days=-1)


def test_a_version_a_schedule_names_and_the_newest_challenger_keep_their_bytes():
    old = datetime(2020, 1, 1)
    held = [
        Held(4, "textgen", "c", "challenger", old, None, 10),
        Held(3, "textgen", "c", "challenger", old, None, 10),
        Held(2, "textgen", "c", "none", old, None, 10),
        Held(1, "textgen", "c", "champion", old, old, 10),
    ]
    kept = {d.version.id: d.kept_for for d in decide(held, Retention(), scheduled={2})}
    assert kept == {4: "newest challenger", 3: None, 2: "named by a schedule", 1: "champion"}
    young = [Held(5, "textgen", "c", "none", datetime.now() - timedelta(days=1), None, 10)]
    assert decide(young, Retention(keep_days=2), set())[0].kept_for == "younger than 2 days"


def test_db_info_and_vacuum_on_either_store_and_vacuum_waits_for_no_writer(recur, backend):
    recur("series", "ingest", DATA / "airline_passengers.csv", "--name", "airline")
    recur("forecast", "train", "airline", "--model", "gru", *SMALL)
    info = recur.json("db", "info")
    assert info["table_bytes"]["model_version"] > 0 and info["table_bytes"]["observation"] > 0
    assert info["retention"]["versions_with_artifacts"] == 1 and info["retention"]["prunable"] == 0
    with recur.db() as writer:  # a writer holds the store: vacuum says so and changes nothing
        if backend == "sqlite":
            writer.execute("BEGIN IMMEDIATE")
        else:
            from db.engine import WRITE_LOCK

            writer.execute("SELECT pg_advisory_lock(?)", (WRITE_LOCK,))
        assert "being written" in recur.fails("db", "vacuum")
        writer.execute("ROLLBACK" if backend == "sqlite" else "SELECT pg_advisory_unlock_all()")
    assert recur.json("db", "vacuum")["bytes_after"] > 0

"""recur on a real Ray cluster (tests/cluster.py): subjects fanned out over the nodes, the scheduler's runs
dispatched as Ray tasks, and a node killed mid-run with its work retried elsewhere, exactly once."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import DATA, ROOT, Recur
from tests.reliability.test_scheduler_process import backdate, ledger, start_scheduler, wait_for
from tests.test_readme_examples import NOT_RUN, commands

pytestmark = [pytest.mark.ray, pytest.mark.xdist_group("ray")]

SUBJECTS = {"airline": "airline_passengers.csv", "sunspots": "sunspots_yearly.csv"}
SMALL = ["--model", "gru", "--epochs", "2", "--units", "4", "--windows", "2", "--horizon", "6"]


def on_ray(cluster) -> list[str]:
    return ["--executor", "ray", "--ray-address", cluster.address]


def ingest(recur: Recur) -> None:
    """Two series of their own and a group of seven (400 hours of ETTh1): three subjects."""
    for name, file in SUBJECTS.items():
        recur("series", "ingest", DATA / file, "--name", name)
    ett = recur.home.parent / "ett.csv"
    ett.write_text("".join((DATA / "ETTh1.csv").read_text().splitlines(keepends=True)[:401]))
    recur("series", "ingest", ett, "--name", "ett")


@pytest.mark.usefixtures("backend")
def test_every_subject_is_trained_and_forecast_across_the_nodes(recur, ray_cluster):
    ingest(recur)
    trained = recur.json(*on_ray(ray_cluster), "forecast", "train", "--all", *SMALL)
    assert sorted(r["subject"] for r in trained) == sorted(["ett", *SUBJECTS])
    assert all(r["error"] is None and r["version"] for r in trained), trained
    assert len({r["node"] for r in trained}) == 2, trained  # three units on two one-CPU nodes
    assert all(r["node"].startswith("ray:") for r in trained)
    versions = recur.json("models", "list")
    assert sorted(v["subject"] for v in versions) == sorted(r["subject"] for r in trained)  # one each
    predicted = recur.json(*on_ray(ray_cluster), "forecast", "predict", "--all")
    assert all(r["error"] is None for r in predicted) and sum(r["series"] for r in predicted) == 2 + 7
    assert recur.count("forecast") == 9


def scheduler(home, cluster, log) -> subprocess.Popen:
    on_cluster = {"RECUR_EXECUTOR": "ray", "RECUR_RAY_ADDRESS": cluster.address}
    return start_scheduler(home, log=log, env=on_cluster)


def runs(recur: Recur) -> list[dict]:
    return recur.json("jobs", "history")


@pytest.mark.usefixtures("backend")
def test_the_scheduler_runs_each_due_date_once_as_a_ray_task(recur, home, tmp_path, ray_cluster):
    recur("jobs", "add", "s", "--task", "sleep", "--cron", "0 2 * * *", "--param", "seconds=1")
    backdate(home, 2)  # two or three logical dates due at once
    process = scheduler(home, ray_cluster, tmp_path / "scheduler.log")
    try:
        wait_for(lambda: len([r for r in ledger(home) if r[2] == "succeeded"]) >= 2)
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    rows = runs(recur)
    done = [r["logical_date"] for r in rows if r["status"] == "succeeded"]
    assert len(done) == len(set(done)) >= 2 and all(r["node"].startswith("ray:") for r in rows), rows


@pytest.fixture
def two_workers():
    """A cluster whose head runs no tasks and two worker nodes: either worker can be killed."""
    from tests.cluster import Cluster

    cluster = Cluster(head_cpus=0)
    try:
        cluster.add_node("a")
        cluster.add_node("b")
        yield cluster
    finally:
        cluster.stop()


def test_a_node_killed_mid_run_loses_nothing_and_runs_nothing_twice(recur, home, tmp_path, two_workers):
    """The scheduler's run on the killed node is abandoned and retried on the other node, once; a fan-out's
    unit on the killed node is retried there too, and every subject gets exactly one model version."""
    # a daily time two hours ago: in the backdated day and a bit, it fell exactly once (a fixed time fell
    # twice when the test ran within an hour after it)
    earlier = datetime.now(UTC) - timedelta(hours=2)
    cron = f"{earlier.minute} {earlier.hour} * * *"
    recur("jobs", "add", "s", "--task", "sleep", "--cron", cron, "--tz", "UTC", "--param", "seconds=8")
    backdate(home, 1)
    process = scheduler(home, two_workers, tmp_path / "scheduler.log")
    try:
        wait_for(lambda: any(r["node"] and r["status"] == "running" for r in runs(recur)))
        [running] = [r for r in runs(recur) if r["status"] == "running"]
        two_workers.kill(two_workers.node_of(running["node"].rpartition("/")[2]))
        wait_for(
            lambda: (
                {r["logical_date"] for r in runs(recur) if r["status"] == "succeeded"}
                >= {running["logical_date"]}
            )
        )
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    attempts = [r for r in runs(recur) if r["logical_date"] == running["logical_date"]]
    assert sorted(r["status"] for r in attempts) == ["abandoned", "succeeded"], attempts
    assert len({r["node"] for r in attempts}) == 2

    two_workers.add_node("c")
    ingest(recur)
    result = {}
    every = [*on_ray(two_workers), "forecast", "train", "--all", *SMALL]
    # stdout only: the node's death is reported on stderr
    train = threading.Thread(target=lambda: result.update(rows=json.loads(recur("--json", *every).stdout)))
    train.start()
    wait_for(lambda: recur.count("training_run") >= 1)
    time.sleep(1)
    victim = next(name for name in ("a", "c") if name in two_workers.nodes)
    two_workers.kill(victim)
    train.join(timeout=600)
    assert all(r["error"] is None for r in result["rows"]), result
    versions = recur.json("models", "list")
    assert sorted(v["subject"] for v in versions) == sorted(["ett", *SUBJECTS])


@pytest.mark.longest
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_the_readme_cluster_section_runs_as_written(recur, backend, ray_cluster, monkeypatch):
    """Its `export` lines as the environment (a PostgreSQL store, the test cluster), then every `recur`
    line as written."""
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("RECUR_EXECUTOR", "ray")
    monkeypatch.setenv("RECUR_RAY_ADDRESS", ray_cluster.address)
    monkeypatch.setenv("RECUR_SMOKE_STEPS", "2")
    lines = [line for line in commands(cluster=True) if line not in NOT_RUN]
    assert len(lines) >= 7
    for line in lines:
        result = recur(*shlex.split(line)[1:], ok=False)
        assert result.exit_code == 0, f"README: {line}\n{result.output}"
    assert all(r["node"].startswith("ray:") for r in runs(recur))


@pytest.mark.usefixtures("backend")
def test_auto_tries_its_candidates_at_once_on_the_nodes(recur, ray_cluster):
    recur("series", "ingest", DATA / "airline_passengers.csv", "--name", "airline")
    shown = recur(*on_ray(ray_cluster), "forecast", "train", "airline", *SMALL[2:], "--model", "auto").output
    nodes = {
        line.rsplit(" on ", 1)[1]
        for line in shown.splitlines()
        if "backtest MASE" in line and " on ray:" in line
    }
    assert len(nodes) == 2, shown  # the candidates were spread over both nodes
    assert len(recur.json("models", "list")) == 1  # one version: the best candidate, refit here


def test_with_no_cluster_to_join_a_local_one_is_started_and_stopped(recur, tmp_path):
    """No address anywhere and no `ray start` on this machine (a Ray temp folder of its own hides the
    test cluster): as `ray.init()` does, the command starts a local instance, says so, runs its units
    there as Ray tasks, and leaves no Ray process behind."""
    for name, file in SUBJECTS.items():
        recur("series", "ingest", DATA / file, "--name", name)
    ray_tmp = Path(tempfile.mkdtemp(prefix="/tmp/rl"))  # short: Ray's socket paths are bounded
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_ADDRESS", "RECUR_RAY_ADDRESS")}
    env |= {"RAY_TMPDIR": str(ray_tmp), "RECUR_HOME": str(recur.home), "PYTHONPATH": str(ROOT)}
    env |= {"HOME": str(tmp_path)}  # where Ray would write a token that turns on auth for later clusters
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "cli",
                "--json",
                "--executor",
                "ray",
                "forecast",
                "train",
                "--all",
                *SMALL,
            ],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr
        assert "no Ray cluster to join" in done.stderr and "starting a local one" in done.stderr
        rows = json.loads(done.stdout)
        assert sorted(r["subject"] for r in rows) == sorted(SUBJECTS)
        assert all(r["error"] is None and r["node"].startswith("ray:") for r in rows), rows
        assert not (tmp_path / ".ray" / "auth_token").exists()  # the instance's token stayed its own
        left = subprocess.run(["pgrep", "-f", str(ray_tmp)], capture_output=True, text=True).stdout
        assert not left.split(), f"Ray processes left running: {left}"
    finally:
        subprocess.run(["pkill", "-9", "-f", str(ray_tmp)], check=False)
        shutil.rmtree(ray_tmp, ignore_errors=True)

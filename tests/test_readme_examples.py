"""Every `recur` command in the README's shell blocks, run as written and in order against the bundled
data, in a fresh home and a working directory holding the files the examples name. Training stops after
two batches (RECUR_SMOKE_STEPS), so the whole README runs in minutes; what a command prints is not
checked here, only that it succeeds. The few lines that cannot run in a test are listed with the reason."""

from __future__ import annotations

import re
import shlex
import shutil
import time
from pathlib import Path

import pytest

from tests.conftest import DATA, ROOT

README = ROOT / "README.md"
SHARED = ROOT.parent / "shared" / "data"
NOT_RUN = {
    "recur scheduler run": "runs until stopped (tests/reliability/test_scheduler_process.py runs it)",
    "recur scheduler run --lease 60": "runs until stopped (test_scheduler_process.py runs two of them)",
    "recur serve": "runs until stopped (tests/test_service.py runs it, and the Service section's examples)",
    'recur serve --host 0.0.0.0 --port 8080 --token "$RECUR_TOKEN"': "runs until stopped (test_service.py)",
}
CLUSTER = "## Running on a cluster"  # its examples run on PostgreSQL and Ray, in tests/test_cluster.py
HAS_M4 = (
    SHARED / "m4_weekly_train.csv"
).exists()  # public but not bundled: run where ../shared/data has them


def needs_m4(line: str) -> bool:
    return "m4_weekly_" in line or " m4 " in f" {line} "


def commands(cluster: bool = False) -> list[str]:
    """Each command line of the README's ```sh blocks, continuation lines joined, comments dropped: those
    of the cluster section, or (by default) all the others."""
    text = README.read_text()
    start = text.index(CLUSTER)
    end = text.index("\n## ", start + len(CLUSTER))
    text = text[start:end] if cluster else text[:start] + text[end:]
    out = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = re.split(r"\s+#\s", line)[0].strip()
            if line.startswith("recur "):
                out.append(line)
    return out


def test_the_readme_has_its_examples():
    found = commands()
    assert len(found) > 60 and "recur scheduler run" in found
    assert "recur scheduler run --lease 60" in commands(cluster=True)


def _workdir(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    (work / "data").symlink_to(DATA)
    (work / "sales.csv").write_text(
        "store,day,sales\n"
        + "".join(f"{s},2024-01-{d:02d},{10 * k + d}\n" for k, s in enumerate("ab") for d in range(1, 29))
    )
    (work / "reviews.txt").write_text("Great phone, works perfectly.\nBroke after a day.\n")
    (work / "lines.txt").write_text(
        "To be, or not to be, that is the question:\nWhether 'tis nobler in the mind\n"
    )
    (work / "windows.csv").write_text(
        "series,start,end,label\n"
        + "".join(
            f"temp,{y}-01-01,{y}-03-31,summer\ntemp,{y}-06-01,{y}-08-31,winter\n" for y in range(1981, 1991)
        )
    )
    for name in ("m4_weekly_train.csv", "m4_weekly_test.csv"):
        if (SHARED / name).exists():
            shutil.copy(SHARED / name, work / name)
    return work


def _promote_latest(recur, subject: str) -> None:
    """What a real training run would have earned: the latest version of `subject` as its champion."""
    latest = max(m["id"] for m in recur.json("models", "list", "--subject", subject))
    recur("models", "promote", str(latest))


@pytest.mark.slow
@pytest.mark.longest
def test_every_readme_example_runs_as_written(recur, tmp_path, monkeypatch):
    monkeypatch.chdir(_workdir(tmp_path))
    monkeypatch.setenv("RECUR_SMOKE_STEPS", "2")
    ran, trained = 0, set()
    for line in commands():
        if line in NOT_RUN or (needs_m4(line) and not HAS_M4) or line in trained:
            continue  # a training the README repeats (the 3x512 text generator's) ran already, as written
        args = shlex.split(line)[1:]
        started = time.monotonic()
        result = recur(*args, ok=False)
        if "has no classifier champion" in result.output:  # two batches of training: the gate says no
            _promote_latest(recur, args[2])
            result = recur(*args, ok=False)
        print(f"{time.monotonic() - started:6.1f} s  {line}")
        assert result.exit_code == 0, f"README: {line}\n{result.output}"
        ran += 1
        if " train " in line:
            trained.add(line)
    assert ran >= len(commands()) - len(NOT_RUN) - 4

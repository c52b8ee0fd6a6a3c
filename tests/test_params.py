"""Every model parameter is defined once, as a configuration field: the CLI's options, the scheduler's task
parameters and the README's option tables are derived from it, so none can fall behind."""

from __future__ import annotations

import click
import pytest

from cli import main
from commands.readme import readme_tables, rewrite_readme
from jobs.tasks import CLASSIFY_PARAMS, FORECAST_PARAMS, SAMPLE_PARAMS, TASKS, TEXTGEN_PARAMS
from tests.conftest import ROOT

# options of the training commands that are about the run, not the model
RUN_OPTIONS = {
    *("force", "until", "tensorboard", "device", "precision", "preview", "resume", "preset", "json"),
    "every",  # --all: which subjects, not how
}


def command_options(*path: str) -> set[str]:
    command = main
    for name in path:
        command = command.commands[name]
    return {p.name for p in command.params if isinstance(p, click.Option)} - RUN_OPTIONS


@pytest.mark.parametrize(
    ("path", "task", "params"),
    [
        (("forecast", "train"), "retrain-forecaster", FORECAST_PARAMS),
        (("textgen", "train"), "retrain-textgen", TEXTGEN_PARAMS),
        (("classify", "train"), "retrain-classifier", CLASSIFY_PARAMS),
        (("textgen", "sample"), "sample", SAMPLE_PARAMS),
    ],
)
def test_a_schedule_takes_every_option_its_command_has(path, task, params):
    assert command_options(*path) == set(params) - RUN_OPTIONS
    assert set(params) <= set(TASKS[task].optional)


def test_the_readme_option_tables_are_the_generated_ones():
    text = (ROOT / "README.md").read_text()
    assert rewrite_readme(text) == text, "run `make readme-options`"
    tables = readme_tables()
    assert "| `--dropout` | `0.0` |" in tables["forecast train"]
    assert "| `--time-limit` | `1200` |" in tables["textgen train"]  # the cpu preset's


def schedule(name: str, task: str, **params: str) -> list[str]:
    pairs = [x for k, v in params.items() for x in ("--param", f"{k}={v}")]
    return ["jobs", "add", name, "--task", task, "--cron", "0 2 * * *", *pairs]


def test_a_schedule_sets_options_it_could_not_before(recur, write):
    """Dropout and covariates were CLI-only; now a schedule takes them, checked when it is added."""
    body = "time,a,b\n" + "".join(
        f"2024-01-{1 + i // 24:02d} {i % 24:02d}:00,{i},{i % 7}\n" for i in range(200)
    )
    recur("series", "ingest", write("p.csv", body), "--name", "p")
    given = {"dropout": "0.2", "covariates": "group", "skip": "none", "calendar": "false", "windows": "3"}
    recur(*schedule("n", "retrain-forecaster", subject="p/a", **given))
    from jobs.tasks import _forecast_config

    cfg, backtest = _forecast_config(recur.json("jobs", "show", "n")["params"])
    made = (cfg.dropout, cfg.covariates, cfg.skip, cfg.calendar, cfg.searching, backtest.windows)
    assert made == (0.2, ("group",), "none", False, True, 3)
    wrong = recur.fails(*schedule("m", "retrain-forecaster", subject="p/a", dropout="1.5"))
    assert "--param dropout=1.5: must be in [0, 1)" in wrong
    wrong = recur.fails(*schedule("m", "nightly", subject="p/a", skip="sometimes"))
    assert "--param skip='sometimes': choose one of seasonal, none" in wrong

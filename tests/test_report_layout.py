"""The report's pieces without a store: table widths that fit the page, sample lines cut with the prompt's
offsets kept, numbers as a reader wants them, charts with labelled axes, integer epochs and full legends."""

from __future__ import annotations

import pytest
from matplotlib.figure import Figure

from pipelines.report_forecasts import coverage_table
from reports import plots
from reports.document import Table, number
from reports.pdf import fit_widths, sample_lines


def test_widths_fit_the_page_and_narrow_columns_keep_theirs():
    assert fit_widths([50, 60], 500) == [50, 60]  # fits: natural widths
    widths = fit_widths([40, 900, 30, 700], 480)
    assert sum(widths) == pytest.approx(480) and widths[0] == 40 and widths[2] == 30
    assert widths[1] == widths[3] == pytest.approx(205)


def test_sample_lines_keep_breaks_and_offsets():
    lines = sample_lines("KING:ab\ncdefghij", 4)
    assert lines == [(0, "KING"), (4, ":ab"), (8, "cdef"), (12, "ghij")]
    assert sample_lines("a\n\nb", 10) == [(0, "a"), (2, ""), (3, "b")]


def test_numbers_read_as_people_write_them():
    assert [number(v) for v in (0.766667, 1.23456, 123.456, 12345.6, 25000, None, "x")] == [
        "0.7667",
        "1.235",
        "123.5",
        "12,346",
        "25,000",
        "",
        "x",
    ]
    t = Table(["a", "b"], [{"a": 1.5, "b": "x"}, {"a": None, "b": "y"}, {"a": 0.25, "b": "z"}])
    assert t.numeric("a") and t.cells() == [["1.500", "x"], ["", "y"], ["0.250", "z"]]  # one scale per column
    assert not Table(["a", "b"], [{"a": 1.5, "b": "x"}]).numeric("b")


def test_coverage_is_a_percentage_beside_its_level_and_misses_are_flagged():
    rows = coverage_table({"80": 0.7667, "95": 0.951}).rows
    assert rows[0] == {
        "interval": "80%",
        "actuals inside": "76.7%",
        "verdict": "UNDER by 3.3 points (intervals too narrow)",
    }
    assert rows[1]["actuals inside"] == "95.1%" and rows[1]["verdict"] == "within ±3 points"


def test_training_chart_labels_the_learning_rate_axis_and_lists_every_line():
    ax = Figure().add_subplot()
    plots.training_curves(ax, {"loss": [3, 2, 1.5], "val_loss": [3.1, 2.2, 1.9], "learning_rate": [1e-3] * 3})
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["training loss", "validation loss", "learning rate (right axis)"]
    twin = next(a for a in ax.figure.axes if a is not ax)
    assert twin.get_ylabel() == "learning rate" and ax.get_xlabel() == "epoch" and ax.get_ylabel() == "loss"


def test_epochs_are_whole_numbers():
    ax = Figure().add_subplot()
    plots.bits_per_char(ax, [2.5, 2.2, 2.0])
    ticks = [t for t in ax.get_xticks() if 1 <= t <= 3]
    assert ticks and all(float(t).is_integer() for t in ticks) and ax.get_ylabel() == "bits per character"


def test_fan_chart_has_a_unit_and_a_legend_of_every_layer():
    import numpy as np

    ax = Figure().add_subplot()
    t = np.arange(10)
    plots.fan_chart(
        ax, (t, t), (t + 10, t), {"80": (t - 1, t + 1), "95": (t - 2, t + 2)}, (t[:2] + 10, t[:2]), "s", "°C"
    )
    labels = [x.get_text() for x in ax.get_legend().get_texts()]
    assert ax.get_ylabel() == "°C" and labels == [
        "history",
        "95% interval",
        "80% interval",
        "forecast",
        "actual since",
    ]
    # with stored quantiles: a fan of four bands (10-90 ... 40-60) inside the 95% interval, one legend entry
    fan = Figure().add_subplot()
    qs = {round(0.1 * k, 1): t + (k - 5) * 0.2 for k in range(1, 10)}
    plots.fan_chart(
        fan, (t, t), (t + 10, t), {"80": (t - 1, t + 1), "95": (t - 2, t + 2)}, None, "s", quantiles=qs
    )
    labels = [x.get_text() for x in fan.get_legend().get_texts()]
    assert labels == ["history", "95% interval", "quantiles 10-90%", "forecast"] and len(fan.collections) == 5

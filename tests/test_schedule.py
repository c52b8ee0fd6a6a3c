"""A time budget shared the way successive halving plans it."""

from __future__ import annotations

import time

import pytest

from forecaster.schedule import LEAST, Clock, rung_sizes


def test_rungs_halve_down_to_one():
    assert rung_sizes(4) == [4, 2, 1]
    assert rung_sizes(3) == [3, 1]
    assert rung_sizes(1) == [1]
    assert rung_sizes(6) == [6, 3, 1]


def test_a_clock_hands_out_the_time_left_over_the_units_left():
    assert Clock(0, 4).share(1) == 0.0 and not Clock(0, 4).limited  # no budget: no limit
    clock = Clock(1.2, 4)  # 4 + 2 * 2 + 1 * 4 = 12 units
    first = clock.share(1)
    assert first == pytest.approx(0.1, rel=0.05)
    time.sleep(0.3)  # a candidate that overran its share leaves less for the others
    assert clock.share(1) < first
    past = Clock(0.01, 2)
    time.sleep(0.02)
    assert past.share(1) == LEAST  # past the deadline: a batch and a validation, no more

"""ISO 22400-2 OEE factors, especially the zero-denominator conventions."""

from __future__ import annotations

import pytest

from twin.analysis.oee import oee


def test_simple_case() -> None:
    # 100 on shift, 50 producing, 0.4 per unit, 100 made, 80 good:
    # A = 0.5, E = 40/50 = 0.8, Q = 0.8, OEE = 0.32.
    res = oee(100, 50, 0.4, 100, 80)
    assert res == pytest.approx(
        {"availability": 0.5, "effectiveness": 0.8, "quality": 0.8, "oee": 0.32})


def test_no_planned_busy_time() -> None:
    res = oee(0, 0, 1.0, 0, 0)
    assert res == {"availability": 0.0, "effectiveness": 0.0, "quality": 0.0, "oee": 0.0}


def test_no_actual_production_time() -> None:
    res = oee(480, 0, 1.0, 0, 0)
    assert res["availability"] == 0.0
    assert res["effectiveness"] == 0.0
    assert res["oee"] == 0.0


def test_nothing_produced_but_running() -> None:
    res = oee(480, 400, 1.0, 0, 0)
    assert res["availability"] == pytest.approx(400 / 480)
    assert res["effectiveness"] == 0.0
    assert res["quality"] == 0.0
    assert res["oee"] == 0.0


def test_zero_run_time_per_unit() -> None:
    res = oee(480, 400, 0.0, 10, 10)
    assert res["effectiveness"] == 0.0
    assert res["quality"] == 1.0


def test_all_plain_floats() -> None:
    res = oee(480, 400, 1, 360, 342)
    assert all(type(v) is float for v in res.values())


def test_negative_rejected() -> None:
    with pytest.raises(ValueError):
        oee(480, -1, 1.0, 10, 10)

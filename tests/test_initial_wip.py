"""Starting from work in process (`initial_wip`, extension): where the units go, what they
count for, CONWIP limits, and the flowline engine's refusal."""

from __future__ import annotations

import pytest

import twin
from twin.model import build
from twin.engine import flowline as fl
from twin.scenario.schema import Scenario

NEVER = {"interarrival": "1000 d"}  # no new units during these runs


def _run(doc: dict, **kw):
    return twin.run(Scenario.model_validate({"name": "initial wip", **doc}), **kw)


def test_a_station_drains_its_initial_units_exactly() -> None:
    """10 units of 5 s on one machine: they finish at 5, 10, ..., 50 s, so the mean lead
    time (counted from time 0) is 27.5 s and the WIP area 275 unit-seconds over 100 s."""
    res = _run({"run": {"horizon": 100},
                "products": {"a": {"route": ["m"], "release": NEVER}},
                "stations": {"m": {"process_time": 5, "buffer": 9}},
                "initial_wip": {"m": {"a": 10}}}, warmup=0)
    doc = res.summary()
    assert doc["products"]["a"]["finished"]["mean"] == 10
    assert doc["products"]["a"]["released"]["mean"] == 0  # they were in before the period
    assert doc["products"]["a"]["lead_time_h"]["mean"] == pytest.approx(27.5 / 3600)
    assert doc["wip"]["mean"] == pytest.approx(2.75)
    system = res.measures[res.measures["kind"] == "system"].set_index("measure")["value"]
    assert system["wip_start"] == 10 and system["wip_end"] == 0  # flow balance: 0 = 10 - 10


def test_the_first_units_start_on_the_machines_at_time_zero() -> None:
    """2 machines, 5 units of 10 s: busy 0-10 (2), 10-20 (2), 20-30 (1): 50 of 60
    machine-seconds busy; the fifth finishes at the very end, outside the window [0, 30)."""
    doc = _run({"run": {"horizon": 30},
                "products": {"a": {"route": ["m"], "release": NEVER}},
                "stations": {"m": {"servers": 2, "process_time": 10, "buffer": 3}},
                "initial_wip": {"m": {"a": 5}}}, warmup=0).summary()
    assert doc["stations"]["m"]["utilization"]["mean"] == pytest.approx(50 / 60)
    assert doc["products"]["a"]["finished"]["mean"] == 4


def test_units_start_at_their_step_and_follow_the_rest_of_the_route() -> None:
    """Units placed at b (second step) go on to c and finish without visiting a, whose
    one unit takes far longer than the run."""
    res = _run({"run": {"horizon": 100},
                "products": {"u": {"route": ["a", "b", "c"], "release": NEVER}},
                "stations": {"a": {"process_time": "1 d"}, "b": {"process_time": 4},
                             "c": {"process_time": 3}},
                "initial_wip": {"b": {"u": 3}}}, warmup=0, event_log=True)
    doc = res.summary()
    assert doc["products"]["u"]["finished"]["mean"] == 3
    assert doc["stations"]["a"]["produced"]["mean"] == 0
    ev = res.events
    assert (ev["activity"] == "initial").sum() == 3
    # b: 0-4, 4-8, 8-12; c: 4-7, 8-11, 12-15
    finish = sorted(ev.loc[ev["activity"] == "finish", "end_h"] * 3600)
    assert finish == pytest.approx([7, 11, 15])


@pytest.mark.parametrize("initial, expect_end", [(5, 3), (2, 3)])
def test_conwip_counts_the_units_already_in(initial, expect_end) -> None:
    """CONWIP 3: with 5 units already in, the first 2 that leave are not replaced; with 2,
    one more is released at once. Either way the product ends with 3 in the system."""
    res = _run({"run": {"horizon": 1000},
                "products": {"a": {"route": ["m"], "release": {"conwip": 3}}},
                "stations": {"m": {"process_time": 10}},
                "initial_wip": {"m": {"a": initial}}}, warmup=0)
    system = res.measures[res.measures["kind"] == "system"].set_index("measure")["value"]
    assert system["wip_start"] == initial
    assert system["wip_end"] == expect_end
    doc = res.summary()
    # one machine of 10 s: finishes at 10, 20, ..., 990 s (1000 is outside the window)
    assert doc["products"]["a"]["finished"]["mean"] == 99
    # flow balance: released = finished + wip_end - wip_start
    assert doc["products"]["a"]["released"]["mean"] == 99 + expect_end - initial


def test_the_flowline_engine_refuses_initial_wip() -> None:
    sc = Scenario.model_validate({
        "name": "x", "run": {"horizon": 100},
        "products": {"a": {"route": ["m"]}}, "stations": {"m": {"process_time": 5}},
        "initial_wip": {"m": {"a": 2}}})
    problem = fl.unsupported(build(sc))
    assert problem is not None and problem.startswith("initial_wip")

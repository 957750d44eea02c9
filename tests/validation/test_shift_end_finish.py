"""`at_shift_end: finish` against hand-computed schedules (docs/modelling.md, Shift calendars).

Under `pause` (the default) work stops when the shift ends and resumes in the next one;
under `finish` the machine goes on in overtime to the end of its unit (or batch) and then
is off shift, and no machine starts anything off shift either way.
"""

from __future__ import annotations

import copy

import pytest

import twin
from twin.engine import replication
from twin.model import build
from twin.scenario.schema import Scenario

H = 3600.0


def _measures(doc: dict) -> dict:
    model = build(Scenario.model_validate({"name": "shift end", **doc}))
    result = replication.simulate(model, 0, 1, 0.0)
    return {(kind, entity, name): v for kind, entity, name, v in result.measures}


def _one_machine(rule: str) -> dict:
    # 3 h units, one 8 h shift a day (0-8 h, every day), saturated, over 10 days
    return {"run": {"horizon": "10 d"}, "calendars": {"day": {"shifts": [["0 h", "8 h"]]}},
            "products": {"u": {"route": ["cure"], "release": "saturated"}},
            "stations": {"cure": {"process_time": "3 h", "calendar": "day",
                                  "at_shift_end": rule}}}


@pytest.mark.parametrize("rule, units, busy_h", [
    # pause: 80 h on shift in 10 days make floor(80 / 3) = 26 units, busy all 80 h
    ("pause", 26, 80.0),
    # finish: units start at 0, 3 and 6 h each day; the third ends at 9 h in overtime:
    # 3 units and 9 busy hours a day
    ("finish", 30, 90.0),
])
def test_one_machine(rule: str, units: int, busy_h: float) -> None:
    m = _measures(_one_machine(rule))
    assert m[("product", "u", "finished")] == units
    assert m[("station", "cure", "busy_h")] == pytest.approx(busy_h, abs=1e-9)
    assert m[("station", "cure", "off_shift_h")] == pytest.approx(240.0 - busy_h, abs=1e-9)
    assert m[("station", "cure", "starved_h")] == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("rule, units, busy_h", [
    # a 12 h oven cycle and an 8 h day shift (6-14 h): paused, a batch needs 1.5 shifts, so
    # 160 h on shift in 20 days make 13 batches of 2 (the 14th is half done)
    ("pause", 26, 160.0),
    # finished in overtime: one batch a day, 6 h to 18 h
    ("finish", 40, 240.0),
])
def test_batch_oven_cycle(rule: str, units: int, busy_h: float) -> None:
    doc = {"run": {"horizon": "20 d"}, "calendars": {"day": {"shifts": [["6 h", "14 h"]]}},
           "products": {"u": {"route": ["feed", "oven"], "release": "saturated"}},
           "stations": {"feed": {"process_time": "1 s", "buffer": 0},
                        "oven": {"process_time": "12 h", "batch": {"size": 2}, "buffer": 10,
                                 "calendar": "day", "at_shift_end": rule}}}
    m = _measures(doc)
    assert m[("product", "u", "finished")] == units
    assert m[("station", "oven", "busy_h")] == pytest.approx(busy_h, abs=1e-9)
    assert m[("station", "oven", "off_shift_h")] == pytest.approx(480.0 - busy_h, abs=1e-9)


def test_a_unit_finished_in_overtime_that_cannot_move_on_waits_off_shift() -> None:
    """A feeder (finish, 3 h units, shift 0-8 h) hands on to a packer working round the
    clock, 10 h a unit, with no buffer: the feeder is blocked while on shift, and holding
    its unit after the shift counts as off shift, not blocked."""
    doc = {"run": {"horizon": "2 d"}, "calendars": {"day": {"shifts": [["0 h", "8 h"]]}},
           "products": {"u": {"route": ["feed", "pack"], "release": "saturated"}},
           "stations": {"feed": {"process_time": "3 h", "calendar": "day",
                                 "at_shift_end": "finish", "buffer": 0},
                        "pack": {"process_time": "10 h", "buffer": 0}}}
    m = _measures(doc)
    # day 1: feed busy 0-3 (unit 1 to pack at 3, pack busy 3-13), busy 3-6 (unit 2),
    # blocked 6-8, off shift 8-24 (unit 2 held; pack takes it at 13, busy 13-23).
    # day 2 (24-48 h): feed busy 24-27 (unit 3; pack is idle since 23, takes it at 27,
    # busy 27-37), busy 27-30 (unit 4), blocked 30-32, off shift 32-48 (pack takes unit 4
    # at 37, busy 37-47).
    assert m[("station", "feed", "busy_h")] == pytest.approx(12.0, abs=1e-9)
    assert m[("station", "feed", "blocked_h")] == pytest.approx(4.0, abs=1e-9)
    assert m[("station", "feed", "off_shift_h")] == pytest.approx(32.0, abs=1e-9)
    assert m[("product", "u", "finished")] == 4
    assert m[("station", "pack", "busy_h")] == pytest.approx(40.0, abs=1e-9)


FAILING = {
    "name": "finish with failures",
    "run": {"horizon": "6 d", "seed": 4},
    "calendars": {"two": {"shifts": [["6 h", "14 h"], ["14 h", "22 h"]],
                          "days": ["mon", "tue", "wed", "thu", "fri"],
                          "breaks": [["10 h", "10.5 h"]], "stops": [["2.2 d", "2.6 d"]]}},
    "products": {"p": {"route": ["a", "b", "c"], "campaign": 5},
                 "q": {"route": ["a", "b", "c"], "campaign": 7}},
    "stations": {
        "a": {"process_time": {"exponential": "40 min"}, "buffer": 2, "calendar": "two",
              "at_shift_end": "finish", "setup": {"exponential": "20 min"},
              "failures": {"mtbf": {"exponential": "5 h"}, "mttr": {"exponential": "30 min"}}},
        "b": {"process_time": {"gamma": {"mean": "45 min", "cv": 0.8}}, "buffer": 3,
              "calendar": "two", "at_shift_end": "finish",
              "failures": {"mtbf": {"exponential": "4 h"}, "mttr": {"exponential": "20 min"},
                           "mode": "operation"}},
        "c": {"process_time": {"exponential": "3 h"}, "servers": 2, "buffer": 10,
              "batch": {"size": 3}, "calendar": "two", "at_shift_end": "finish"},
    },
}


def test_with_failures_setups_and_batches_nothing_starts_off_shift_and_time_adds_up() -> None:
    scenario = Scenario.model_validate(FAILING)
    model = build(scenario)
    res = twin.run(scenario, event_log=True)
    log = res.events
    overtime = 0
    for station in model.stations:
        cal = station.calendar
        rows = log[log.station == station.name]
        work = rows[rows.activity.isin(["setup", "process"])]
        assert len(work) > 10
        assert all(cal.is_on(t * H) for t in work.start_h), station.name
        overtime += sum(not cal.is_on(t * H) for t in work.end_h)
    assert overtime > 0  # work did go on past the ends of shifts
    table = res.stations()
    states = ["busy_h", "starved_h", "blocked_h", "down_h", "setup_h", "off_shift_h"]
    total = table[states].sum(axis=1) / table["servers"]
    assert (abs(total - scenario.run.horizon / H) < 1e-6).all()
    # off shift is at most the calendar's off time, less only the overtime
    for station in model.stations:
        off_cal = scenario.run.horizon - station.calendar.worked(scenario.run.horizon)
        row = table.xs(station.name, level="entity").iloc[0]
        assert row["off_shift_h"] / row["servers"] <= off_cal / H + 1e-9


def test_pause_is_the_default_and_finish_changes_only_stations_that_ask() -> None:
    plain = _measures(_one_machine("pause"))
    doc = _one_machine("pause")
    del doc["stations"]["cure"]["at_shift_end"]
    assert _measures(doc) == plain

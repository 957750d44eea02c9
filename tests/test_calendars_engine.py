"""Shift calendars in the SimPy engine with everything else at once: nothing is taken onto a
machine, set up or processed off shift; off-shift time is exactly the calendar's; the state
fractions still sum to 1; flowline refuses calendars."""

from __future__ import annotations

import copy

import pytest

import twin
from twin.engine import flowline as fl
from twin.model import build
from twin.scenario.schema import Scenario

H = 3600.0
DOC = {
    "name": "calendars with the rest",
    "run": {"horizon": "9 d", "warmup": "1 d", "seed": 11},
    "calendars": {
        "two": {"shifts": [["6 h", "14 h"], ["14 h", "22 h"]],
                "days": ["mon", "tue", "wed", "thu", "fri"],
                "breaks": [["9.75 h", "10.25 h"]], "stops": [["3.3 d", "3.9 d"]]},
        "night": {"shifts": [["21 h", "7 h"], {"from": "8 h", "to": "12 h", "days": ["sat"]}]},
    },
    "initial_wip": {"b": {"p": 3}},
    "products": {
        "p": {"route": ["a", "b", "oven", "d"], "campaign": 15, "transport": "agv"},
        "q": {"route": ["a", "b", "oven", "d"], "campaign": 10, "transport": "agv"},
    },
    "stations": {
        "a": {"process_time": {"exponential": "3 min"}, "buffer": 3, "calendar": "two",
              "setup": {"lognormal": {"mean": "4 min", "cv": 0.3}},
              "failures": {"mtbf": {"exponential": "4 h"}, "mttr": {"exponential": "25 min"}}},
        "b": {"process_time": {"gamma": {"mean": "3.2 min", "cv": 0.6}}, "buffer": 2,
              "calendar": "night",
              "failures": {"mtbf": {"exponential": "3 h"}, "mttr": {"exponential": "15 min"},
                           "mode": "operation"}},
        "oven": {"process_time": {"exponential": "30 min"}, "servers": 2, "buffer": 20,
                 "batch": {"size": 10, "min": 6}, "calendar": "two"},
        "d": {"process_time": {"exponential": "2 min"}, "buffer": 1},
    },
    "logistics": {
        "points": {"depot": [0, 0], "a": [10, 0], "b": [20, 0], "oven": [20, 15], "d": [0, 15]},
        "paths": [["depot", "a"], ["a", "b"], ["b", "oven"], ["oven", "d"], ["d", "depot"]],
        "fleets": {"agv": {"vehicles": 2, "speed_loaded": 1.0, "load_time": "10 s",
                           "unload_time": "10 s", "home": "depot"}},
    },
}


@pytest.fixture(scope="module")
def outcome():
    scenario = Scenario.model_validate(DOC)
    return build(scenario), twin.run(scenario, event_log=True)


def test_nothing_starts_off_shift(outcome) -> None:
    model, res = outcome
    log = res.events
    names = [s.name for s in model.stations]
    checked = 0
    for station in model.stations:
        cal = station.calendar
        if cal is None:
            continue
        rows = log[log.station == station.name]
        # a unit is taken onto a machine (its wait ends) only on shift
        taken = rows[rows.activity == "queue"].end_h * H
        starts = rows[rows.activity.isin(["setup", "process"])].start_h * H
        assert len(starts) > 20 and (len(taken) > 20 or station.name == "a")  # (a: saturated)
        assert all(cal.is_on(t) for t in taken), station.name
        assert all(cal.is_on(t) for t in starts), station.name
        # and every piece of work has on-shift time in it: nothing finishes off shift
        # without having worked
        work = rows[rows.activity.isin(["setup", "process"])]
        assert all(cal.on_time(a * H, b * H) > 0 for a, b in zip(work.start_h, work.end_h))
        checked += 1
    assert checked == 3 and names


def test_off_shift_time_is_exactly_the_calendars(outcome) -> None:
    model, res = outcome
    m = res.measures
    w, end = 86400.0, 86400.0 + model.horizon
    for station in model.stations:
        row = m[(m.kind == "station") & (m.entity == station.name)].set_index("measure").value
        off = station.servers * ((end - w) - station.calendar.on_time(w, end)) / H \
            if station.calendar else 0.0
        assert row["off_shift_h"] == pytest.approx(off, rel=1e-12, abs=1e-12)
        total = sum(row[f"{s}_h"] for s in
                    ("busy", "starved", "blocked", "down", "setup", "off_shift"))
        assert total == pytest.approx(station.servers * model.horizon / H, rel=1e-12)


def test_initial_units_wait_for_the_night_shift() -> None:
    """The run starts Monday 0:00 with b on its night shift (21-7 h): the initial units are
    processed at once; with the run starting at 8:00 (energy.run_starts_at) they wait for
    21:00."""
    def first_start(doc: dict) -> float:
        log = twin.run(Scenario.model_validate(doc), event_log=True, warmup=0).events
        return log[(log.station == "b") & (log.activity == "process")].start_h.min()

    doc = copy.deepcopy(DOC)
    assert first_start(doc) == 0.0
    doc["energy"] = {"run_starts_at": "8 h"}
    assert first_start(doc) == pytest.approx(13.0)  # 21:00 is 13 h after 8:00


def test_flowline_refuses_calendars() -> None:
    doc = {"name": "line", "run": {"horizon": "1 d"},
           "calendars": {"day": {"shifts": [["6 h", "22 h"]]}},
           "products": {"u": {"route": ["a", "b"]}},
           "stations": {"a": {"process_time": 60, "calendar": "day"}, "b": {"process_time": 50}}}
    problem = fl.unsupported(build(Scenario.model_validate(doc)))
    assert problem is not None and problem.startswith("stations.a.calendar")
    doc["stations"]["a"].pop("calendar")
    assert fl.unsupported(build(Scenario.model_validate(doc))) is None


def test_flowline_refuses_arrivals_by_calendar() -> None:
    doc = {"name": "line", "run": {"horizon": "1 d"},
           "calendars": {"day": {"shifts": [["6 h", "22 h"]]}},
           "products": {"u": {"route": ["a"], "release": {"interarrival": 60,
                                                          "calendar": "day"}}},
           "stations": {"a": {"process_time": 50}}}
    problem = fl.unsupported(build(Scenario.model_validate(doc)))
    assert problem is not None and problem.startswith("products.u.release.calendar")
    doc["products"]["u"]["release"].pop("calendar")
    assert fl.unsupported(build(Scenario.model_validate(doc))) is None

"""Shift calendars against hand-computed schedules and an exact time change (docs/validation.md,
Shift calendars).

Under a calendar a machine lives in on-shift time: when every station of a line with
saturated release shares one calendar, the run is the round-the-clock run seen through the
clock of worked hours. So over a horizon H it finishes exactly the units, and spends exactly
the busy, down, blocked and starved hours, of the round-the-clock run over worked(H) hours,
and is off shift for the rest.
"""

from __future__ import annotations

import copy

import pytest

import twin
from twin.engine import replication
from twin.model import build
from twin.scenario.schema import Scenario

H = 3600.0
CALENDAR = {"shifts": [["6 h", "14 h"], ["14 h", "22 h"]],
            "days": ["mon", "tue", "wed", "thu", "fri"],
            "breaks": [["10 h", "10.5 h"], ["18 h", "18.25 h"]],
            "stops": [["8 d", "9.5 d"]]}

LINE = {
    "run": {"horizon": "3 w", "seed": 3},
    "products": {"u": {"route": ["a", "b", "c"], "release": "saturated"}},
    "stations": {
        "a": {"process_time": {"exponential": "50 s"}, "buffer": 2,
              "failures": {"mtbf": {"exponential": "3 h"}, "mttr": {"exponential": "20 min"}}},
        "b": {"process_time": {"lognormal": {"mean": "55 s", "cv": 0.5}}, "buffer": 3,
              "failures": {"mtbf": {"exponential": "2 h"}, "mttr": {"exponential": "10 min"},
                           "mode": "operation"}},
        "c": {"process_time": {"exponential": "45 s"}, "buffer": 1, "servers": 2},
    },
}
# two products in campaigns with changeovers, and a batch oven
MIXED = {
    "run": {"horizon": "2 w", "seed": 5},
    "products": {"p": {"route": ["a", "oven", "c"], "campaign": 30},
                 "q": {"route": ["a", "oven", "c"], "campaign": 20}},
    "stations": {
        "a": {"process_time": {"gamma": {"mean": "40 s", "cv": 0.7}}, "buffer": 4,
              "setup": {"time": {"exponential": "5 min"}},
              "failures": {"mtbf": {"exponential": "5 h"}, "mttr": {"exponential": "15 min"}}},
        "oven": {"process_time": {"exponential": "20 min"}, "servers": 2, "batch": {"size": 40},
                 "buffer": 80},
        "c": {"process_time": {"exponential": "35 s"}, "buffer": 2},
    },
}

STATES = ("busy", "down", "blocked", "starved", "setup")


def _measures(doc: dict, horizon: float) -> dict:
    doc = copy.deepcopy(doc)
    doc["run"]["horizon"] = horizon
    model = build(Scenario.model_validate({"name": "calendar", **doc}))
    result = replication.simulate(model, 0, doc["run"]["seed"], 0.0)
    return {(kind, entity, name): v for kind, entity, name, v in result.measures}


@pytest.mark.parametrize("line", [LINE, MIXED], ids=["failures", "setups-and-batches"])
def test_a_shared_calendar_only_changes_the_clock(line: dict) -> None:
    doc = copy.deepcopy(line)
    doc["calendars"] = {"week": CALENDAR}
    for station in doc["stations"].values():
        station["calendar"] = "week"
    scenario = Scenario.model_validate({"name": "calendar", **doc})
    horizon = scenario.run.horizon
    worked = build(scenario).stations[0].calendar.worked(horizon)
    # the calendar works 2 x 8 h less 45 min on weekdays, and a stop takes 1.5 days out
    assert 0.3 < worked / horizon < 0.45
    shifted = _measures(doc, horizon)
    plain = _measures(line, worked)
    for p in doc["products"]:
        assert shifted[("product", p, "finished")] == plain[("product", p, "finished")] > 0
    for s, spec in doc["stations"].items():
        servers = spec.get("servers", 1)
        for state in STATES:
            key = ("station", s, f"{state}_h")
            assert shifted[key] == pytest.approx(plain[key], rel=1e-9, abs=1e-9)
        assert shifted[("station", s, "produced")] == plain[("station", s, "produced")]
        off = shifted[("station", s, "off_shift_h")]
        assert off == pytest.approx(servers * (horizon - worked) / H, rel=1e-12)
        assert plain[("station", s, "off_shift_h")] == 0.0
    assert shifted.get(("station", "a", "changeovers")) == plain.get(("station", "a", "changeovers"))


def _run(doc: dict, **options) -> dict:
    return twin.run(Scenario.model_validate({"name": "calendar", **doc}), **options).summary()


def test_day_shift_with_a_break_paces_a_one_hour_job() -> None:
    """One machine, 1 h jobs, always fed, on 6-14 h with a 30 min break, Monday to Friday:
    7.5 h of work a weekday, 37.5 h a week, so 37 jobs end within the week (the 38th needs
    38 h of work); a job is never lost over a break, it resumes."""
    doc = _run({
        "run": {"horizon": "1 w"},
        "calendars": {"day": {"shifts": [["6 h", "14 h"]],
                              "days": ["mon", "tue", "wed", "thu", "fri"],
                              "breaks": [["10 h", "10.5 h"]]}},
        "products": {"u": {"route": ["m"]}},
        "stations": {"m": {"process_time": "1 h", "calendar": "day",
                           "power_kw": {"busy": 10, "off_shift": 2}}},
    }, warmup=0)
    assert doc["products"]["u"]["finished"]["mean"] == 37
    m = doc["stations"]["m"]
    assert m["states"]["busy"] == pytest.approx(37.5 / 168)
    assert m["states"]["off_shift"] == pytest.approx(130.5 / 168)
    assert m["states"]["starved"] == 0.0
    # OEE plans only the time on shift: available all of it, 37 jobs of 1 h in 37.5 h
    assert m["oee_factors"]["availability"]["mean"] == pytest.approx(1.0)
    assert m["oee_factors"]["effectiveness"]["mean"] == pytest.approx(37 / 37.5)
    assert m["energy_kwh"]["mean"] == pytest.approx(10 * 37.5 + 2 * 130.5)


def test_units_arriving_off_shift_wait_in_the_buffer_for_the_next_shift() -> None:
    """A unit every hour, 30 min each, the station on from 0 to 12 h daily. The 12 units of
    12:00..23:00 wait for 0:00 (12, 11.5, ..., 6.5 h); then the 12 of 0:00..11:00 queue
    behind them (6, 5.5, ..., 0.5 h). Mean wait 150 / 24 = 6.25 h; the machine works its
    whole shift (12 h of jobs a day) and nothing ever starts after 12:00."""
    doc = _run({
        "run": {"horizon": "5 d", "warmup": "1 d"},
        "calendars": {"half": {"shifts": [["0 h", "12 h"]]}},
        "products": {"u": {"route": ["m"], "release": {"interarrival": "1 h"}}},
        "stations": {"m": {"process_time": "30 min", "calendar": "half"}},
    })
    m = doc["stations"]["m"]
    assert m["wait_h"]["mean"] == pytest.approx(6.25)
    assert doc["products"]["u"]["throughput_per_h"]["mean"] == pytest.approx(1.0)
    assert m["states"]["busy"] == pytest.approx(0.5)
    assert m["states"]["off_shift"] == pytest.approx(0.5)
    # Little's law over whole days: lead time = wait + 0.5 h, one unit an hour
    assert doc["products"]["u"]["lead_time_h"]["mean"] == pytest.approx(6.75)
    assert doc["wip"]["mean"] == pytest.approx(6.75)


def test_a_station_off_shift_blocks_its_feeder_once_the_buffer_is_full() -> None:
    """A round-the-clock feeder (10 min a job) into a day-shift packer (6-18 h, 5 min a job,
    buffer 6). The feeder restarts at 6:00 each day, so its units end at 6:10, 6:20, ...:
    the 71 of 6:10..17:50 are packed at once; those of 18:00..18:50 fill the buffer (18:00
    is off shift already), and the one of 19:00 stays on the feeder's machine, blocked until
    the packer takes its first unit at 6:00 (11 h). So 78 units a day."""
    doc = _run({
        "run": {"horizon": "4 d", "warmup": "1 d"},
        "calendars": {"day": {"shifts": [["6 h", "18 h"]]}},
        "products": {"u": {"route": ["feed", "pack"]}},
        "stations": {"feed": {"process_time": "10 min"},
                     "pack": {"process_time": "5 min", "buffer": 6, "calendar": "day"}},
    })
    assert doc["products"]["u"]["throughput_per_h"]["mean"] == pytest.approx(78 / 24)
    feed = doc["stations"]["feed"]
    assert feed["states"]["blocked"] == pytest.approx(11 / 24)
    assert feed["states"]["off_shift"] == 0.0


OPEN = copy.deepcopy(LINE)
OPEN["products"]["u"]["release"] = {"interarrival": {"exponential": "70 s"}}


def test_arrivals_on_the_line_s_calendar_only_change_the_clock_too() -> None:
    """Open arrivals whose gaps count on-shift time (`release.calendar`), into stations on
    the same calendar: the round-the-clock open line over the worked hours, exactly."""
    doc = copy.deepcopy(OPEN)
    doc["calendars"] = {"week": CALENDAR}
    doc["products"]["u"]["release"]["calendar"] = "week"
    for station in doc["stations"].values():
        station["calendar"] = "week"
    scenario = Scenario.model_validate({"name": "calendar", **doc})
    horizon = scenario.run.horizon
    worked = build(scenario).stations[0].calendar.worked(horizon)
    shifted = _measures(doc, horizon)
    plain = _measures(OPEN, worked)
    for name in ("released", "finished"):
        assert shifted[("product", "u", name)] == plain[("product", "u", name)] > 100
    for s in doc["stations"]:
        for state in STATES:
            key = ("station", s, f"{state}_h")
            assert shifted[key] == pytest.approx(plain[key], rel=1e-9, abs=1e-9)


def test_deliveries_on_a_day_shift_arrive_only_on_it() -> None:
    """Poisson deliveries, one an hour of day shift (6-14 h, weekdays) over 6 weeks: every
    release happens on shift, and their number is Poisson with mean 40 h x 6 = 240 (within
    four standard deviations, ~62)."""
    doc = {"run": {"horizon": "6 w", "seed": 8},
           "calendars": {"day": {"shifts": [["6 h", "14 h"]],
                                 "days": ["mon", "tue", "wed", "thu", "fri"]}},
           "products": {"u": {"route": ["m"], "release": {
               "interarrival": {"exponential": "1 h"}, "calendar": "day"}}},
           "stations": {"m": {"process_time": "1 min"}}}
    scenario = Scenario.model_validate({"name": "deliveries", **doc})
    cal = build(scenario).products[0].arrival_calendar
    log = twin.run(scenario, event_log=True, warmup=0).events
    released = log[log.activity == "release"].start_h * H
    assert abs(len(released) - 240) < 4 * 240 ** 0.5
    assert all(cal.is_on(t) for t in released)

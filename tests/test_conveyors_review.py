"""Review of conveyors (docs/modelling.md, Conveyors): hand traces of corner cases, invariants
on random scenarios, bad input and the summary contract. Every expected value below is
computed by hand (in the comments) or from an identity, never copied from a run."""

from __future__ import annotations

import json
import math
import subprocess

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import twin
from twin.errors import ScenarioError
from twin.scenario.load import load

from support import twin_command, write_scenario


def run_text(tmp_path, text: str, name: str = "review.yaml", **kw) -> twin.Results:
    return twin.run(load(write_scenario(tmp_path, text, name)), event_log=True, **kw)


def measures(res, kind: str, entity: str) -> dict[str, float]:
    m = res.measures
    sub = m[(m.kind == kind) & (m.entity == entity)]
    return dict(zip(sub["measure"], sub["value"]))


def rides(res, station: str | None = None) -> list[tuple[int, float, float]]:
    """(unit, got on s, went into `to` s) of every conveyor ride in the event log, by entry."""
    ev = res.events[res.events["activity"] == "conveyor"]
    if station is not None:
        ev = ev[ev["station"] == station]
    ev = ev.sort_values(["start_h", "unit"])
    return [(int(u), round(s * 3600, 6), round(e * 3600, 6))
            for u, s, e in zip(ev["unit"], ev["start_h"], ev["end_h"])]


def secs(c: dict, key: str) -> float:
    return round(c[key] * 3600, 6)


# --- hand traces ----------------------------------------------------------------------------

ONE_PLACE = """\
name: one place
run: {{horizon: "60 s"}}
products:
  cell: {{route: [stack, weld], release: saturated}}
stations:
  stack: {{process_time: "1 s"}}
  weld: {{process_time: "10 s", buffer: 0}}
logistics:
  conveyors:
    belt: {{from: stack, to: weld, length: 4, speed: 1, pitch: 4, accumulating: {acc},
           power_kw: {{moving: 3, stopped: 2, empty: 1}}}}
"""


@pytest.mark.parametrize("acc", ["true", "false"])
def test_pitch_equal_to_length_gives_one_place(tmp_path, acc) -> None:
    """L = p = 4 m, v = 1 m/s: 1 place, 4 s aboard, an entry every 4 s. Stack 1 s, weld 10 s
    without buffer. Unit 1 on at 1, at the end at 5, weld 5-15. Unit 2 (done at 2) may get
    on only when unit 1 has left (1 place): on at 5, at the end at 9, waits to 15. Unit 3
    (done at 6) on at 15, at the end at 19, into weld at 25; and so on every 10 s. Moving:
    [1,5) + [5,9) + 5 x 4 s ([15,19) ... [55,59)) = 28 s; empty [0,1); stopped 31 s."""
    res = run_text(tmp_path, ONE_PLACE.format(acc=acc))
    got = rides(res)
    assert got == [(1, 1, 5), (2, 5, 15), (3, 15, 25), (4, 25, 35), (5, 35, 45), (6, 45, 55)]
    c = measures(res, "conveyor", "belt")
    assert c["places"] == 1 and c["aboard_max"] == 1 and c["aboard_end"] == 1
    assert (secs(c, "moving_h"), secs(c, "stopped_h"), secs(c, "empty_h")) == (28, 31, 1)
    assert c["energy_moving_kwh"] + c["energy_stopped_kwh"] + c["energy_empty_kwh"] == \
        pytest.approx((3 * 28 + 2 * 31 + 1 * 1) / 3600)
    # stack: busy 1 s per unit, blocked from each finish until its unit got on
    stack = measures(res, "station", "stack")
    blocked = (5 - 2) + sum(10 - 1 for _ in range(5)) + (60 - 56)  # units 2..7, 7 still at 60
    assert secs(stack, "blocked_h") == blocked


STOP = """\
name: downstream stop
run: {{horizon: "{horizon}", warmup: "{warmup}"}}
calendars:
  c: {{shifts: [["0 h", "24 h"]], stops: [["95 s", "145 s"]]}}
products:
  cell: {{route: [stack, weld], release: saturated}}
stations:
  stack: {{process_time: "10 s"}}
  weld: {weld}
logistics:
  conveyors:
    belt: {{from: stack, to: weld, length: 30, speed: 1, pitch: 5, accumulating: {acc},
           power_kw: {{moving: 2, stopped: 1, empty: 0.5}}}}
"""
OFF_SHIFT = '{process_time: "1 s", buffer: 0, calendar: c}'
BROKEN = '{process_time: "1 s", buffer: 0, failures: {mtbf: "95 s", mttr: "50 s"}}'


def stop_run(tmp_path, weld: str, acc: str, horizon: str = "200 s", warmup: str = "0 s"):
    return run_text(tmp_path, STOP.format(weld=weld, acc=acc, horizon=horizon, warmup=warmup))


@pytest.mark.parametrize("weld", [OFF_SHIFT, BROKEN], ids=["off-shift", "broken-down"])
def test_non_accumulating_belt_stops_for_exactly_the_downstream_stop(tmp_path, weld) -> None:
    """30 m at 1 m/s, pitch 5 m (6 places, 5 s apart); stack every 10 s; weld takes nothing
    from 95 to 145 s (a calendar stop, or a breakdown after 95 s up with a 50 s repair).
    Units k = 1.. get on at 10k and reach the end at 10k + 30. Unit 7 reaches the end at
    100 and waits: the belt stops 100-145. Units 8, 9 (aboard) and 10 (on at 100, the entry
    was free) each ride 30 s + 45 s stopped. Unit 11, done at 110, waits for the entry: the
    belt must move 5 s after 145, so it gets on at 150 and rides 30 s; unit 12 at 160."""
    res = stop_run(tmp_path, weld, "false")
    assert rides(res) == [(k, 10 * k, 10 * k + 30) for k in range(1, 7)] + [
        (7, 70, 145), (8, 80, 155), (9, 90, 165), (10, 100, 175), (11, 150, 180),
        (12, 160, 190)]
    c = measures(res, "conveyor", "belt")
    assert (secs(c, "moving_h"), secs(c, "stopped_h"), secs(c, "empty_h")) == (145, 45, 10)
    assert secs(measures(res, "station", "stack"), "blocked_h") == 40  # 110 -> 150
    assert secs(c, "aboard_h") == pytest.approx((6 * 30 + 4 * 75 + 2 * 30) / 12)
    # Roser: stack active [0, 110) and [150, 200); weld busy 1 s per unit, and down (active)
    # 95-145 when broken, off shift (inactive) otherwise; the belt active while its entry is
    # occupied and it moves: [10k, 10k + 5) before 100, stopped (inactive) from 100, then
    # [145, 155) (unit 10's pitch, then unit 11's). Off shift: nobody active 110-145; the
    # belt is the bottleneck [145, 150), shifting with the stack [150, 155). Broken: weld
    # [95, 146) leads, belt [146, 150) sole, shifting [145, 146) and [150, 155).
    sole, shifting = (4, 6) if weld == BROKEN else (5, 5)
    assert (secs(c, "bottleneck_sole_h"), secs(c, "bottleneck_shifting_h")) == (sole, shifting)


@pytest.mark.parametrize("weld", [OFF_SHIFT, BROKEN], ids=["off-shift", "broken-down"])
def test_accumulating_belt_queues_behind_the_downstream_stop(tmp_path, weld) -> None:
    """The same line, accumulating: unit 7 waits at the end 100-145; the others keep moving
    and close up a pitch apart: unit 8 (on 80) stops at 25 m at 105, 9 at 110, 10 at 115,
    11 (on 110) at 120, 12 (on 120) at 125: 6 aboard = places, so unit 13 (done 130) waits
    until unit 7 leaves at 145. Then one reaches the end every 5 s: 150, 155, ... 170; unit
    13 at max(145 + 30, 170 + 5) = 175; 14 (done 155) 155-185; 15 165-195."""
    res = stop_run(tmp_path, weld, "true")
    assert rides(res) == [(k, 10 * k, 10 * k + 30) for k in range(1, 7)] + [
        (7, 70, 145), (8, 80, 150), (9, 90, 155), (10, 100, 160), (11, 110, 165),
        (12, 120, 170), (13, 145, 175), (14, 155, 185), (15, 165, 195)]
    c = measures(res, "conveyor", "belt")
    # moving [10, 125) (the last unit closes up at 125), stopped [125, 145), moving after
    assert (secs(c, "moving_h"), secs(c, "stopped_h"), secs(c, "empty_h")) == (170, 20, 10)
    assert c["aboard_max"] == 6
    assert secs(measures(res, "station", "stack"), "blocked_h") == 15  # 130 -> 145


def test_buffer_places_downstream_take_units_off_shift(tmp_path) -> None:
    """As above, non-accumulating, but weld has 2 buffer places: off shift its buffer takes
    unit 7 (at the end at 100) and 8 (110); unit 9 (at the end at 120) waits, the belt stops
    120-145. At 145 weld takes 7 from its buffer and 9 goes into the freed place. Units 10,
    11 and 12 (on at 120, the entry was free) ride 30 + 25 s; 13, done at 130, gets on when
    the belt has moved 5 s after 145, at 150."""
    res = run_text(tmp_path, STOP.format(
        weld='{process_time: "1 s", buffer: 2, calendar: c}', acc="false", horizon="200 s",
        warmup="0 s"))
    assert rides(res) == [(k, 10 * k, 10 * k + 30) for k in range(1, 9)] + [
        (9, 90, 145), (10, 100, 155), (11, 110, 165), (12, 120, 175), (13, 150, 180),
        (14, 160, 190)]
    c = measures(res, "conveyor", "belt")
    assert (secs(c, "moving_h"), secs(c, "stopped_h"), secs(c, "empty_h")) == (165, 25, 10)


def test_warmup_mid_queue_counts_only_the_measured_period(tmp_path) -> None:
    """The accumulating trace above measured from 102 s to 202 s: moving [102, 125),
    stopped [125, 145), moving [145, 202): 80 s, 20 s, 0 s empty; units carried in the period:
    those into weld at 145, 150, ..., 175, 185, 195 (9); most aboard 6 (at 125); energy
    2 kW x 80 s + 1 kW x 20 s. The units aboard at 102 stay aboard (not carried again)."""
    res = stop_run(tmp_path, OFF_SHIFT, "true", horizon="100 s", warmup="102 s")
    c = measures(res, "conveyor", "belt")
    assert (secs(c, "moving_h"), secs(c, "stopped_h"), secs(c, "empty_h")) == (80, 20, 0)
    assert c["carried"] == 9
    assert c["aboard_max"] == 6
    assert c["energy_moving_kwh"] == pytest.approx(2 * 80 / 3600)
    assert c["energy_stopped_kwh"] == pytest.approx(1 * 20 / 3600)
    assert c["energy_empty_kwh"] == 0
    # time-average aboard over [102, 202] from the hand trace: units aboard at each moment
    spans = [(70, 145), (80, 150), (90, 155), (100, 160), (110, 165), (120, 170),
             (145, 175), (155, 185), (165, 195), (175, 205), (185, 215), (195, 225)]
    area = sum(max(0.0, min(e, 202) - max(s, 102)) for s, e in spans)
    assert c["aboard_mean"] * 100 == pytest.approx(area)
    # mean time aboard of the 9 carried: got on to going into weld (warm-up time included)
    carried = [(s, e) for s, e in spans if 102 < e <= 202]
    assert len(carried) == 9
    assert secs(c, "aboard_h") == pytest.approx(np.mean([e - s for s, e in carried]))
    doc = res.summary()
    assert doc["conveyors"]["belt"]["states"] == pytest.approx(
        {"moving": 0.8, "stopped": 0.2, "empty": 0.0})
    # the timeline's conveyor energy adds up to the conveyor's energy in the period
    tl = res.timeline
    tl = tl[(tl["kind"] == "conveyor") & (tl["measure"] == "energy_kwh")]
    assert tl["value"].sum() == pytest.approx((2 * 80 + 1 * 20) / 3600)


def test_several_servers_at_the_source_get_on_first_come_first_served(tmp_path) -> None:
    """Stack with 2 machines of 1 s, belt entry every 3 s (L 6, v 1, p 3: 2 places, 6 s
    aboard), weld 0.5 s. Both machines finish at 1: one unit on at 1, the other waits to 4;
    the first machine's next unit (done at 2) waits behind it: on at 7; the second's next
    (done at 5) on at 10... one every 3 s, each unit aboard 6 s, in the order finished."""
    res = run_text(tmp_path, """\
name: two servers
run: {horizon: "40 s"}
products:
  cell: {route: [stack, weld], release: saturated}
stations:
  stack: {process_time: "1 s", servers: 2}
  weld: {process_time: "0.5 s", buffer: 0}
logistics:
  conveyors:
    belt: {from: stack, to: weld, length: 6, speed: 1, pitch: 3}
""")
    got = rides(res)
    assert [on for _, on, _ in got] == [1 + 3 * k for k in range(len(got))]
    assert all(off - on == 6 for _, on, off in got)
    # into weld at 7, 10, ..., 37 (the run stops at 40 before anything else happens then)
    assert len(got) == 11
    # the stack machines: 2 x 40 s; busy 1 s per unit finished; the rest blocked
    stack = measures(res, "station", "stack")
    assert stack["busy_h"] + stack["blocked_h"] + stack["starved_h"] == pytest.approx(80 / 3600)


def test_unit_finishing_exactly_when_the_entry_frees_gets_on_at_once(tmp_path) -> None:
    """Stack 2.5 s, entry every 2.5 s (p 1 m, v 0.4 m/s, L 4 m): each unit is done exactly
    when the entry frees. No blocking, and units get on every 2.5 s, 10 s aboard."""
    res = run_text(tmp_path, """\
name: tie
run: {horizon: "60 s"}
products:
  cell: {route: [stack, weld], release: saturated}
stations:
  stack: {process_time: "2.5 s"}
  weld: {process_time: "1 s", buffer: 0}
logistics:
  conveyors:
    belt: {from: stack, to: weld, length: 4, speed: 0.4, pitch: 1, accumulating: false}
""")
    got = rides(res)
    assert [on for _, on, _ in got] == pytest.approx([2.5 * (k + 1) for k in range(len(got))])
    assert all(off - on == pytest.approx(10) for _, on, off in got)
    assert measures(res, "station", "stack")["blocked_h"] == pytest.approx(0, abs=1e-9)
    c = measures(res, "conveyor", "belt")
    # entry occupied all the time from 2.5 s: the conveyor is at capacity
    assert c["stopped_h"] == 0


# --- rework, two products, fleets, the last station ------------------------------------------

def test_rework_moves_ride_the_conveyor_back_and_every_move_is_accounted(tmp_path) -> None:
    """Route stack -> weld -> grade with rework weld -> stack (p 0.3) on conveyor `back` and
    stack -> weld on `ahead`; grade is the route's last station, fed by conveyor `last`.
    Unit conservation per move: every unit stack passed on rode `ahead` (carried or still
    aboard at the end), every rework rode `back`, every good weld unit rode `last`."""
    res = run_text(tmp_path, """\
name: rework loop
run: {horizon: "3 h"}
products:
  cell: {route: [stack, {station: weld, rework: {p: 0.3, to: stack}}, grade],
         release: {interarrival: {exponential: "40 s"}}}
stations:
  stack: {process_time: {exponential: "10 s"}}
  weld: {process_time: {exponential: "12 s"}, buffer: 1}
  grade: {process_time: {exponential: "8 s"}}
logistics:
  conveyors:
    ahead: {from: stack, to: weld, length: 6, speed: 0.5, pitch: 1.5}
    back: {from: weld, to: stack, length: 10, speed: 0.5, pitch: 2, accumulating: false}
    last: {from: weld, to: grade, length: 4, speed: 0.5, pitch: 2}
""")
    stack, weld, grade = (measures(res, "station", s) for s in ("stack", "weld", "grade"))
    ahead, back, last = (measures(res, "conveyor", c) for c in ("ahead", "back", "last"))
    assert back["carried"] > 20
    # a unit stack finished went into weld, is aboard `ahead`, or is held blocked on stack
    assert ahead["carried"] + ahead["aboard_end"] <= stack["produced"] <= \
        ahead["carried"] + ahead["aboard_end"] + 1
    assert back["carried"] + back["aboard_end"] <= weld["reworked"] <= \
        back["carried"] + back["aboard_end"] + 1
    good = weld["produced"] - weld["reworked"] - weld["scrapped"]
    assert last["carried"] + last["aboard_end"] <= good <= last["carried"] + last["aboard_end"] + 1
    # each rework ride goes from weld (the event log names the station it left)
    ev = res.events[res.events.activity == "conveyor"]
    assert (ev.station == "weld").sum() == back["carried"] + last["carried"]
    assert (ev.station == "stack").sum() == ahead["carried"]
    # rides never faster than length / speed on each belt
    for c, travel in (("ahead", 12), ("back", 20), ("last", 8)):
        assert measures(res, "conveyor", c)["aboard_h"] * 3600 >= travel - 1e-9


def test_two_products_share_a_conveyor_in_fifo_order(tmp_path) -> None:
    res = run_text(tmp_path, """\
name: two products
run: {horizon: "2 h"}
products:
  a: {route: [stack, weld], release: {interarrival: {exponential: "20 s"}}}
  b: {route: [stack, weld, grade], release: {interarrival: {exponential: "30 s"}}}
stations:
  stack: {process_time: {exponential: "6 s"}, servers: 2}
  weld: {process_time: {exponential: "10 s"}, buffer: 0}
  grade: {process_time: "5 s"}
logistics:
  conveyors:
    belt: {from: stack, to: weld, length: 9, speed: 0.5, pitch: 1.5}
""")
    ev = res.events[res.events.activity == "conveyor"].sort_values(["start_h", "unit"])
    assert set(ev["product"]) == {"a", "b"}
    on, off = ev["start_h"].to_numpy() * 3600, ev["end_h"].to_numpy() * 3600
    assert (np.diff(off) >= -1e-9).all()  # FIFO across both products
    assert (np.diff(on) >= 3 - 1e-6).all()
    c = measures(res, "conveyor", "belt")
    a, b = measures(res, "product", "a"), measures(res, "product", "b")
    # every finished unit of a rode the belt; b's units all rode it before grade
    assert c["carried"] == len(ev)
    assert c["carried"] >= a["finished"] + b["finished"]


def test_fleet_carries_the_other_move_and_the_conveyor_its_own(tmp_path) -> None:
    """Product with transport agv: stack -> weld by conveyor (precedence), weld -> grade by
    the vehicle. Deterministic: stack every 100 s; belt 20 s; weld 5 s; the AGV (home at
    weld, staying where it unloads) drives 50 m at 1 m/s. Unit 1: 100 + 20 + 5 + 50 + 5 =
    180 s; unit k >= 2 (released at 100(k-1)) also waits 50 s for the AGV to come back from
    grade: 230 s. Finished by 3600: k = 1..34 (unit 34 at 3530)."""
    res = run_text(tmp_path, """\
name: fleet and belt
run: {horizon: "1 h"}
products:
  cell: {route: [stack, weld, grade], release: saturated, transport: agv}
stations:
  stack: {process_time: "100 s"}
  weld: {process_time: "5 s"}
  grade: {process_time: "5 s"}
logistics:
  points: {stack: [0, 0], weld: [50, 0], grade: [100, 0]}
  paths: [[stack, weld], [weld, grade]]
  fleets: {agv: {vehicles: 1, speed_loaded: 1, speed_empty: 1, home: weld}}
  conveyors:
    belt: {from: stack, to: weld, length: 10, speed: 0.5, pitch: 1}
""")
    cell = measures(res, "product", "cell")
    assert cell["finished"] == 34
    assert cell["lead_time_h"] * 3600 == pytest.approx((180 + 33 * 230) / 34)
    fleet = measures(res, "fleet", "agv")
    assert fleet["trips"] == pytest.approx(cell["finished"], abs=1)
    assert measures(res, "conveyor", "belt")["carried"] == 35  # into weld at 120 .. 3520
    ev = res.events
    assert set(ev[ev.activity == "transport"]["station"]) == {"weld"}


# --- deadlock -------------------------------------------------------------------------------

@pytest.mark.parametrize("acc", ["true", "false"])
def test_a_closed_loop_that_fills_its_conveyors_is_a_deadlock_not_a_hang(tmp_path, acc) -> None:
    """CONWIP 40 units in a loop stack -> weld with rework back to stack (p 0.9), both moves
    on 2-place conveyors, no buffers: the loop holds at most 2 machines + 4 places = 6
    units, so it fills: the stack's and weld's machines blocked on full conveyors, each
    conveyor's end unit waiting on the other station. This must end the replication with a
    Deadlock record naming both stations, quickly, not run (or hang) to the horizon."""
    import time
    started = time.perf_counter()
    res = run_text(tmp_path, f"""\
name: loop
run: {{horizon: "200 h"}}
products:
  cell: {{route: [stack, {{station: weld, rework: {{p: 0.9, to: stack}}}}], release: {{conwip: 40}}}}
stations:
  stack: {{process_time: {{exponential: "5 s"}}, buffer: 0}}
  weld: {{process_time: {{exponential: "5 s"}}, buffer: 0}}
logistics:
  conveyors:
    ahead: {{from: stack, to: weld, length: 2, speed: 1, pitch: 1, accumulating: {acc}}}
    back: {{from: weld, to: stack, length: 2, speed: 1, pitch: 1, accumulating: {acc}}}
""")
    assert time.perf_counter() - started < 60
    doc = res.summary()
    assert doc["deadlocks"], "a full loop must be reported as a deadlock"
    dead = doc["deadlocks"][0]
    assert dead["stations"] == ["stack", "weld"]
    # units stuck: one on each machine, two on each conveyor
    assert dead["units"] == 1 + 1 + 2 + 2


# --- bad input ------------------------------------------------------------------------------

BAD = """\
name: checks
run: {{horizon: "1 h"}}
products:
  a: {{route: [stack, weld, grade]}}
  b: {{route: [grade, press]}}
stations:
  stack: {{process_time: "10 s"}}
  weld: {{process_time: "10 s"}}
  grade: {{process_time: "10 s"}}
  press: {{process_time: "10 s"}}
logistics:
  conveyors:
    belt: {belt}
"""
OK = "from: stack, to: weld, length: 2, speed: 1, pitch: 1"


@pytest.mark.parametrize("belt, where", [
    # consecutive only in the other order (b visits grade before press)
    ("{from: press, to: grade, length: 2, speed: 1, pitch: 1}", "logistics.conveyors.belt"),
    ("{from: weld, to: stack, length: 2, speed: 1, pitch: 1}", "logistics.conveyors.belt"),
    # stations on different routes, never consecutive
    ("{from: stack, to: press, length: 2, speed: 1, pitch: 1}", "logistics.conveyors.belt"),
    ("{from: stack, to: weld, length: 0, speed: 1, pitch: 1}", "logistics.conveyors.belt.length"),
    ("{from: stack, to: weld, length: -2, speed: 1, pitch: 1}",
     "logistics.conveyors.belt.length"),
    ("{from: stack, to: weld, length: .inf, speed: 1, pitch: 1}",
     "logistics.conveyors.belt.length"),
    ("{from: stack, to: weld, length: 2, speed: .nan, pitch: 1}",
     "logistics.conveyors.belt.speed"),
    ("{from: stack, to: weld, length: 2, speed: 0, pitch: 1}", "logistics.conveyors.belt.speed"),
    ("{from: stack, to: weld, length: 2, speed: 1, pitch: 0}", "logistics.conveyors.belt.pitch"),
    ("{from: stack, to: weld, length: 2, speed: 1, pitch: -1}", "logistics.conveyors.belt.pitch"),
    ("{from: stack, to: weld, length: true, speed: 1, pitch: 1}",
     "logistics.conveyors.belt.length"),
    ("{from: stack, to: weld, length: 2, speed: false, pitch: 1}",
     "logistics.conveyors.belt.speed"),
    ("{from: stack, to: weld, length: 2, speed: 1, pitch: true}",
     "logistics.conveyors.belt.pitch"),
    ("{from: stack, to: weld, length: '2', speed: 1, pitch: 1}",
     "logistics.conveyors.belt.length"),
    ("{" + OK + ", accumulating: 1}", "logistics.conveyors.belt.accumulating"),
    ("{" + OK + ", accumulating: 'no'}", "logistics.conveyors.belt.accumulating"),
    ("{" + OK + ", power_kw: {moving: true}}", "logistics.conveyors.belt.power_kw.moving"),
    ("{" + OK + ", power_kw: {empty: .inf}}", "logistics.conveyors.belt.power_kw.empty"),
    ("{" + OK + ", power_kw: {stopped: -1}}", "logistics.conveyors.belt.power_kw.stopped"),
    ("{" + OK + ", power_kw: {runing: 1}}", "logistics.conveyors.belt.power_kw.runing"),
    ("{" + OK + ", lenght: 3}", "logistics.conveyors.belt.lenght"),
    ("{from: stack, length: 2, speed: 1, pitch: 1}", "logistics.conveyors.belt.to"),
    ("{from: stack, to: wled, length: 2, speed: 1, pitch: 1}", "logistics.conveyors.belt.to"),
    ("{from: stack, to: stack, length: 2, speed: 1, pitch: 1}", "logistics.conveyors.belt.to"),
    ("[stack, weld]", "logistics.conveyors.belt"),
])
def test_each_bad_conveyor_gives_one_clear_error_at_its_key(tmp_path, belt, where) -> None:
    with pytest.raises(ScenarioError) as info:
        load(write_scenario(tmp_path, BAD.format(belt=belt)))
    problems = info.value.problems
    assert len(problems) == 1, [(p.where, p.message) for p in problems]
    assert problems[0].where == where, (problems[0].where, problems[0].message)


def test_a_pitch_longer_than_the_conveyor_is_reported_at_the_pitch(tmp_path) -> None:
    """The value at fault is `pitch` (the docs: 'pitch <= length', checked 'with the
    place'): the error should name logistics.conveyors.belt.pitch, as for pitch: 0."""
    with pytest.raises(ScenarioError) as info:
        load(write_scenario(tmp_path, BAD.format(
            belt="{from: stack, to: weld, length: 2, speed: 1, pitch: 3}")))
    assert [p.where for p in info.value.problems] == ["logistics.conveyors.belt.pitch"], \
        [(p.where, p.message) for p in info.value.problems]


def test_two_conveyors_for_one_move_and_a_name_clash_are_refused(tmp_path) -> None:
    text = BAD.format(belt="{" + OK + "}\n    belt2: {" + OK + "}\n    grade: {from: weld, "
                      "to: grade, length: 2, speed: 1, pitch: 1}")
    with pytest.raises(ScenarioError) as info:
        load(write_scenario(tmp_path, text))
    where = sorted(p.where for p in info.value.problems)
    assert where == ["logistics.conveyors.belt2", "logistics.conveyors.grade"], where


def test_twin_validate_exits_2_with_the_place_and_no_traceback(tmp_path) -> None:
    path = write_scenario(tmp_path, BAD.format(
        belt="{from: stack, to: weld, length: 2, speed: 1, pitch: 1, accumulating: 1}"))
    out = subprocess.run(twin_command() + ["validate", str(path)], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 2
    assert "logistics.conveyors.belt.accumulating" in out.stderr
    assert "Traceback" not in out.stderr + out.stdout


# --- the summary contract ---------------------------------------------------------------------

def test_spec_fields_keep_their_meaning_when_a_conveyor_is_the_bottleneck(tmp_path) -> None:
    """Stack every 2 s, conveyor entry every 3 s: the conveyor limits the line. The fixed
    `bottleneck.station` is still a *station* and `share` lists stations only (results.md:
    'the station with the longest active period'); the conveyor block has the documented
    fields with their documented meaning."""
    res = run_text(tmp_path, """\
name: belt limits
run: {horizon: "1 h", warmup: "5 min"}
products:
  cell: {route: [stack, weld], release: saturated}
stations:
  stack: {process_time: "2 s"}
  weld: {process_time: "1 s"}
logistics:
  conveyors:
    belt: {from: stack, to: weld, length: 24, speed: 0.4, pitch: 1.2,
           power_kw: {moving: 1.5, stopped: 0.2, empty: 0.1}}
""")
    doc = res.summary()
    for key in ("scenario", "engine", "replications", "seed", "horizon_h", "warmup_h",
                "products", "wip", "stations", "bottleneck", "energy", "timing"):
        assert key in doc
    assert set(doc["stations"]) == {"stack", "weld"}
    assert doc["bottleneck"]["station"] in ("stack", "weld")
    assert set(doc["bottleneck"]["share"]) == {"stack", "weld"}
    assert doc["bottleneck"]["method"] == "active-period"
    for st_doc in doc["stations"].values():
        assert sum(st_doc["states"].values()) == pytest.approx(1.0)
    belt = doc["conveyors"]["belt"]
    for key in ("places", "utilization", "states", "carried", "carried_per_h", "aboard_h",
                "aboard_mean", "aboard_max", "energy_kwh"):
        assert key in belt, key
    assert belt["places"] == 20
    # one unit every 3 s in steady state: 1200 per hour, utilisation 1, 60 s aboard,
    # Little: 20 units aboard on average
    assert belt["carried_per_h"]["mean"] == pytest.approx(1200, abs=1)
    assert belt["utilization"]["mean"] == pytest.approx(1.0, abs=1e-3)
    assert belt["aboard_h"]["mean"] * 3600 == pytest.approx(60)
    assert belt["aboard_mean"]["mean"] == pytest.approx(20, abs=0.02)
    assert belt["states"] == pytest.approx({"moving": 1.0, "stopped": 0.0, "empty": 0.0})
    assert belt["energy_kwh"]["mean"] == pytest.approx(1.5)
    assert doc["bottleneck"]["conveyors"]["belt"] == pytest.approx(1.0)
    # the units aboard are work in process (released, not finished): per 3 s cycle the
    # stack holds one unit all the time (2 s busy, 1 s blocked), the belt 20, weld 1 s of 3
    assert doc["wip"]["mean"] == pytest.approx(20 + 1 + 1 / 3, abs=0.02)
    # wip = throughput x lead time (Little), lead = 2 s stack + 1 s blocked + 60 + 1
    cell = doc["products"]["cell"]
    assert cell["lead_time_h"]["mean"] * 3600 == pytest.approx(64)
    json.dumps(doc)


# --- invariants on random scenarios ----------------------------------------------------------

TIMES = ["2 s", "5 s", '{exponential: "4 s"}', '{exponential: "8 s"}',
         '{uniform: ["1 s", "9 s"]}']


@st.composite
def random_lines(draw):
    n = draw(st.integers(2, 3))
    names = ["s0", "s1", "s2"][:n]
    stations = {}
    for i, name in enumerate(names):
        parts = [f"process_time: {draw(st.sampled_from(TIMES))}",
                 f"servers: {draw(st.integers(1, 2))}"]
        if i > 0:
            parts.append(f"buffer: {draw(st.integers(0, 2))}")
        if draw(st.booleans()) and i > 0:
            parts.append('failures: {mtbf: {exponential: "3 min"}, mttr: {exponential: "40 s"}}')
        if draw(st.integers(0, 3)) == 0 and i > 0:
            parts.append("calendar: c")
            if draw(st.booleans()):
                parts.append("at_shift_end: finish")
        if draw(st.integers(0, 4)) == 0:
            parts.append("scrap: 0.1")
        stations[name] = "{" + ", ".join(parts) + "}"
    steps = list(names)
    rework = draw(st.booleans())
    if rework:
        steps[-1] = "{station: %s, rework: {p: 0.2, to: %s}}" % (names[-1], names[0])
    belts = {}
    pairs = [(names[i], names[i + 1]) for i in range(n - 1)]
    if rework:
        pairs.append((names[-1], names[0]))
    for k, (a, b) in enumerate(pairs):
        if k == 0 or draw(st.booleans()):
            length = draw(st.sampled_from([1.0, 2.5, 6.0, 12.0]))
            pitch = draw(st.sampled_from([0.5, 1.0, 2.5]))
            pitch = min(pitch, length)
            belts[f"c{k}"] = dict(a=a, b=b, length=length, speed=draw(
                st.sampled_from([0.25, 0.5, 1.0])), pitch=pitch, acc=draw(st.booleans()))
    release = draw(st.sampled_from(['{interarrival: {exponential: "6 s"}}', "{conwip: 6}",
                                    "saturated"]))
    if rework and release == "saturated":
        release = "{conwip: 6}"
    warmup = draw(st.sampled_from(["0 s", "97 s"]))
    return names, stations, steps, belts, release, warmup


def random_text(names, stations, steps, belts, release, warmup) -> str:
    lines = ["name: random conveyors",
             f'run: {{horizon: "20 min", warmup: "{warmup}"}}',
             "calendars:",
             '  c: {shifts: [["0 h", "24 h"]], stops: [["200 s", "400 s"], ["900 s", "950 s"]]}',
             "products:",
             f"  cell: {{route: [{', '.join(steps)}], release: {release}}}",
             "stations:"]
    lines += [f"  {name}: {spec}" for name, spec in stations.items()]
    lines += ["logistics:", "  conveyors:"]
    for name, b in belts.items():
        lines.append(f"    {name}: {{from: {b['a']}, to: {b['b']}, length: {b['length']}, "
                     f"speed: {b['speed']}, pitch: {b['pitch']}, "
                     f"accumulating: {str(b['acc']).lower()}, "
                     f"power_kw: {{moving: 1.7, stopped: 0.3, empty: 0.05}}}}")
    return "\n".join(lines) + "\n"


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(line=random_lines())
def test_conveyor_invariants_on_random_lines(tmp_path, line) -> None:
    names, stations, steps, belts, release, warmup = line
    text = random_text(*line)
    res = run_text(tmp_path, text)
    doc = res.summary()
    if doc.get("deadlocks"):
        return  # a deadlock ends the replication early; its own tests check it
    period = 20 * 60
    w = float(warmup.split()[0])
    system = measures(res, "system", "")
    cell = measures(res, "product", "cell")
    # flow balance, units aboard counted in the WIP
    assert cell["released"] == pytest.approx(
        cell["finished"] + cell["scrapped"] + system["wip_end"] - system["wip_start"])
    total_aboard_end = 0
    for name, b in belts.items():
        c = measures(res, "conveyor", name)
        total_aboard_end += c["aboard_end"]
        places = math.ceil(b["length"] / b["pitch"] - 1e-9)  # (a part pitch is a place)
        gap, travel = b["pitch"] / b["speed"], b["length"] / b["speed"]
        assert c["places"] == places
        assert c["aboard_max"] <= places
        assert c["aboard_end"] <= c["aboard_max"]
        hours = [c[f"{s}_h"] for s in ("moving", "stopped", "empty")]
        assert sum(hours) * 3600 == pytest.approx(period)
        for s, kw in (("moving", 1.7), ("stopped", 0.3), ("empty", 0.05)):
            assert c[f"energy_{s}_kwh"] == pytest.approx(kw * c[f"{s}_h"], abs=1e-12)
        ev = res.events[(res.events.activity == "conveyor") & (res.events.station == b["a"])]
        ev = ev.sort_values(["start_h", "unit"])
        on, off = ev["start_h"].to_numpy() * 3600, ev["end_h"].to_numpy() * 3600
        same_source = [k for k, o in belts.items() if o["a"] == b["a"]]
        if len(same_source) == 1:
            assert (np.diff(off) >= -1e-6).all(), "FIFO"
            assert (np.diff(on) >= gap - 1e-6).all(), "entry spacing"
            if b["acc"]:
                assert (np.diff(off) >= gap - 1e-6).all(), "exit spacing"
            assert ((off - on) >= travel - 1e-6).all(), "travel"
            # units carried in the period, and their mean time aboard
            # (a unit going off in the very instant the warm-up ends may fall on either side:
            # SimPy's order of simultaneous events decides)
            carried = off > w + 1e-9
            at_end = np.abs(off - w) <= 1e-9
            assert carried.sum() <= c["carried"] <= carried.sum() + at_end.sum()
            if carried.any() and not at_end.any():
                assert c["aboard_h"] * 3600 == pytest.approx((off - on)[carried].mean())
            # Little on the conveyor: the area of units aboard over the period
            area = np.clip(np.minimum(off, w + period) - np.maximum(on, w), 0, None).sum()
            mean = c["aboard_mean"] * period
            assert area - 1e-6 <= mean <= area + c["aboard_end"] * period + 1e-6
    assert system["wip_end"] >= total_aboard_end
    for name in names:
        srow = measures(res, "station", name)
        machine_h = sum(v for k, v in srow.items()
                        if k in ("busy_h", "starved_h", "blocked_h", "down_h", "setup_h",
                                 "off_shift_h"))
        assert machine_h * 3600 == pytest.approx(period * srow["servers"])


@pytest.mark.parametrize("at_end", ["finish", "pause"])
def test_downstream_in_overtime_takes_nothing_from_the_belt(tmp_path, at_end) -> None:
    """Non-accumulating belt 30 m at 1 m/s, pitch 5 m; stack every 10 s; weld 4 s without
    buffer, its calendar stopped 93-145 s. Unit 6 reaches weld at 90: with `finish` weld
    works on to 94 (overtime) and is then off shift; with `pause` it has 1 s left at 93 and
    ends it at 146. Unit 7 reaches the end at 100 and waits, the belt stops, until weld is
    back on shift and free: 145 (finish) or 146 (pause). Units 8-10 ride 30 s + the stop;
    unit 11 (done at 110) gets on once the belt has moved 5 s more."""
    res = run_text(tmp_path, f"""\
name: overtime
run: {{horizon: "200 s"}}
calendars:
  c: {{shifts: [["0 h", "24 h"]], stops: [["93 s", "145 s"]]}}
products:
  cell: {{route: [stack, weld], release: saturated}}
stations:
  stack: {{process_time: "10 s"}}
  weld: {{process_time: "4 s", buffer: 0, calendar: c, at_shift_end: {at_end}}}
logistics:
  conveyors:
    belt: {{from: stack, to: weld, length: 30, speed: 1, pitch: 5, accumulating: false}}
""")
    back = 145 if at_end == "finish" else 146
    d = back - 145
    assert rides(res) == [(k, 10 * k, 10 * k + 30) for k in range(1, 7)] + [
        (7, 70, back), (8, 80, 155 + d), (9, 90, 165 + d), (10, 100, 175 + d),
        (11, 150 + d, 180 + d), (12, 160 + d, 190 + d)]
    c = measures(res, "conveyor", "belt")
    assert (secs(c, "moving_h"), secs(c, "stopped_h"), secs(c, "empty_h")) == (
        145 - d, 45 + d, 10)
    assert secs(measures(res, "station", "stack"), "blocked_h") == 40 + d


def test_peak_demand_and_totals_include_the_conveyor(tmp_path) -> None:
    """Only the conveyor draws power: 1.5 kW moving all the time (fed at capacity from
    t = 2 s, empty before: 0.1 kW). Net electricity = conveyor energy; the peak 15-min
    demand is 1.5 kW (any interval after the first)."""
    res = run_text(tmp_path, """\
name: belt power
run: {horizon: "1 h"}
products:
  cell: {route: [stack, weld], release: saturated}
stations:
  stack: {process_time: "2 s"}
  weld: {process_time: "1 s"}
logistics:
  conveyors:
    belt: {from: stack, to: weld, length: 24, speed: 0.4, pitch: 1.2,
           power_kw: {moving: 1.5, stopped: 0.2, empty: 0.1}}
""")
    doc = res.summary()
    e = doc["energy"]
    assert e["total_kwh"]["mean"] == pytest.approx((1.5 * 3598 + 0.1 * 2) / 3600)
    assert e["peak_kw"]["mean"] == pytest.approx(1.5)
    finished = doc["products"]["cell"]["finished"]["mean"]
    assert e["kwh_per_unit"]["mean"] == pytest.approx(e["total_kwh"]["mean"] / finished)


# --- capacity v / p whatever the length -------------------------------------------------------

FREE = """\
name: free flow
run: {{horizon: "1 h", warmup: "1 min"}}
products:
  cell: {{route: [stack, weld], release: saturated}}
stations:
  stack: {{process_time: "1 s"}}
  weld: {{process_time: "0.5 s", buffer: 0}}
logistics:
  conveyors:
    belt: {{from: stack, to: weld, length: {length}, speed: 1, pitch: 1,
           accumulating: {acc}}}
"""


@pytest.mark.parametrize("acc", ["true", "false"])
@pytest.mark.parametrize("length", [1.9, 2.5, 3.0, 7.5])
def test_a_free_flowing_belt_carries_speed_over_pitch_whatever_its_length(tmp_path, length,
                                                                          acc) -> None:
    """docs/modelling.md: 'The conveyor's capacity is v / p units per second'. Stack every
    1 s, v / p = 1 unit/s, weld (0.5 s) never in the way: nothing ever waits at the end,
    so the belt runs freely with units exactly a pitch apart, like any belt conveyor: it
    carries v / p = 3600 units/h whatever its length (length adds only travel time L / v),
    the stack is never blocked, utilisation is 1 and L / v x rate = L / p units are aboard
    on average (Little). Units a pitch apart on a 2.5 m belt are at 0, 1 and 2 m: three fit.
    A longer belt must never carry more than a shorter one fed the same way."""
    res = run_text(tmp_path, FREE.format(length=length, acc=acc))
    doc = res.summary()
    belt = doc["conveyors"]["belt"]
    assert belt["carried_per_h"]["mean"] == pytest.approx(3600, abs=2)
    assert belt["utilization"]["mean"] == pytest.approx(1.0, abs=1e-3)
    assert belt["aboard_h"]["mean"] * 3600 == pytest.approx(length)
    assert belt["aboard_mean"]["mean"] == pytest.approx(length, rel=2e-3)
    assert doc["stations"]["stack"]["states"]["blocked"] == pytest.approx(0, abs=1e-9)


def test_a_station_joined_only_by_a_conveyor_needs_no_point_for_the_fleet(tmp_path) -> None:
    """docs: 'the vehicle carries the product's other moves only, and the load check of the
    path network skips the moves conveyors carry'. Route stack -> weld -> grade with
    transport agv: stack -> weld rides the conveyor, only weld -> grade is a vehicle move.
    No vehicle ever goes to stack, so stack needs no point of the path network."""
    path = write_scenario(tmp_path, """\
name: conveyor-only station
run: {horizon: "10 min"}
products:
  cell: {route: [stack, weld, grade], release: saturated, transport: agv}
stations:
  stack: {process_time: "20 s"}
  weld: {process_time: "1 s"}
  grade: {process_time: "1 s"}
logistics:
  points: {weld: [0, 0], grade: [10, 0]}
  paths: [[weld, grade]]
  fleets: {agv: {vehicles: 1, speed_loaded: 1, home: weld}}
  conveyors:
    belt: {from: stack, to: weld, length: 24, speed: 0.4, pitch: 1.2}
""")
    try:
        scenario = load(path)
    except ScenarioError as e:
        pytest.fail(f"refused although no vehicle move touches stack: {e}")
    res = twin.run(scenario)
    assert measures(res, "conveyor", "belt")["carried"] > 0
    assert measures(res, "fleet", "agv")["trips"] > 0


def test_a_deadlock_record_names_the_conveyors_in_it(tmp_path) -> None:
    """docs/modelling.md: 'the replication ends with a deadlock naming the stations and the
    conveyors'; the record counts the units aboard (units = machines + conveyors), and
    names `vehicles` when fleets are part of one: the conveyors should be named there too,
    not only in the free-text error."""
    res = run_text(tmp_path, """\
name: loop
run: {horizon: "200 h"}
products:
  cell: {route: [stack, {station: weld, rework: {p: 0.9, to: stack}}], release: {conwip: 40}}
stations:
  stack: {process_time: {exponential: "5 s"}, buffer: 0}
  weld: {process_time: {exponential: "5 s"}, buffer: 0}
logistics:
  conveyors:
    ahead: {from: stack, to: weld, length: 2, speed: 1, pitch: 1}
    back: {from: weld, to: stack, length: 2, speed: 1, pitch: 1}
""")
    dead = res.summary()["deadlocks"][0]
    assert dead.get("conveyors") == ["ahead", "back"], dead

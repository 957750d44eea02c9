"""Conveyors (twin/engine/conveyors.py, twin/scenario/conveyors.py): the schema and its
checks, hand traces of accumulating and non-accumulating belts (entry spacing, queueing at
the end, the belt stopping, the sender blocked, states and energy), FIFO, precedence over
vehicles, deadlocks, results and reports, and the flowline engine's refusal."""

from __future__ import annotations

import json
import math
import textwrap

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import twin
from twin.errors import ScenarioError
from twin.report.text import text_summary
from twin.scenario.load import load, scenario_json_schema
from twin.scenario.schema import Conveyor

from support import write_scenario

# A stack of 1 s feeding a 24 m conveyor at 0.4 m/s (60 s end to end) into a weld of 100 s
# with no buffer; CONWIP 3, 300 s. By hand (docs/modelling.md, Conveyors), pitch 1.2 m
# (3 s, 20 places): units get on at 1, 4 and 7 s (the 2nd and 3rd wait 2 s each, blocked,
# for the entry); the 1st reaches the end at 61 and the weld takes it; the 2nd reaches the
# end at 64 and waits for the weld, which takes it at 161 and the 3rd at 261; the 1st
# finished releases the 4th, on at 162, and the 2nd the 5th, on at 262.
TRACE = """\
name: conveyor trace
run: {{horizon: "300 s"}}
products:
  cell: {{route: [stack, weld], release: {{conwip: 3}}}}
stations:
  stack: {{process_time: "1 s"}}
  weld: {{process_time: "100 s", buffer: 0}}
logistics:
  conveyors:
    belt: {{from: stack, to: weld, length: 24, speed: 0.4, pitch: {pitch},
           accumulating: {accumulating}, power_kw: {{moving: 1.5, stopped: 0.2, empty: 0.7}}}}
"""


def measures(res, kind: str, entity: str) -> dict[str, float]:
    m = res.measures
    sub = m[(m.kind == kind) & (m.entity == entity)]
    return dict(zip(sub["measure"], sub["value"]))


def trace(tmp_path, pitch: float, accumulating: bool, **run) -> twin.Results:
    text = TRACE.format(pitch=pitch, accumulating=str(accumulating).lower())
    return twin.run(load(write_scenario(tmp_path, text, "trace.yaml")), **run)


def line(tmp_path, stack: str, weld: str, belts: str, *, run: str = '{horizon: "1 h"}',
         route: str = "[stack, weld]", release: str = "saturated", more: str = "") -> twin.Results:
    """Run a line stack -> weld with the given station settings, conveyors (YAML lines under
    `logistics.conveyors`) and anything `more` (top-level YAML)."""
    text = f"""\
name: conveyor line
run: {run}
products:
  cell: {{route: {route}, release: {release}}}
stations:
  stack: {stack}
  weld: {weld}
logistics:
  conveyors:
{textwrap.indent(textwrap.dedent(belts), "    ")}
{more}"""
    return twin.run(load(write_scenario(tmp_path, text, "line.yaml")), event_log=True)


# --- schema and load-time checks ------------------------------------------------------------

def test_defaults_and_places() -> None:
    c = Conveyor.model_validate({"from": "a", "to": "b", "length": 24, "speed": 0.4,
                                 "pitch": 1.2})
    assert c.accumulating is True
    assert (c.power_kw.moving, c.power_kw.stopped, c.power_kw.empty) == (0, 0, 0)
    from twin.model import ConveyorModel
    places = [ConveyorModel(0, "c", 0, 1, length, 1.0, pitch, True, (0, 0, 0)).places
              for length, pitch in ((24, 1.2), (25, 1.2), (0.3, 0.1), (2, 2))]
    # ceil(length / pitch), a part pitch counting as a place; not fooled by 0.3 / 0.1
    assert places == [20, 21, 3, 1]


def test_every_new_key_has_a_description_and_an_example() -> None:
    defs = scenario_json_schema()["$defs"]
    for name in ("Conveyor", "ConveyorPower"):
        for key, spec in defs[name]["properties"].items():
            assert spec.get("description"), (name, key)
            assert spec.get("examples"), (name, key)
    spec = defs["Logistics"]["properties"]["conveyors"]
    assert spec.get("description") and spec.get("examples")


BASE = """\
name: checks
run: {{horizon: "1 h"}}
products:
  cell: {{route: [stack, {{station: weld, rework: {{p: 0.1, to: stack}}}}, grade]{extra}}}
stations:
  stack: {{process_time: "10 s"}}
  weld: {{process_time: "10 s"}}
  grade: {{process_time: "10 s"}}
logistics:
{logistics}
"""


def test_a_rework_move_may_ride_a_conveyor_and_a_fleet_needs_no_path_for_it(tmp_path) -> None:
    text = BASE.format(extra=", transport: agv", logistics="""\
  points: {stack: [0, 0], weld: [10, 0], grade: [20, 0]}
  paths: [[stack, weld], [weld, grade]]
  fleets: {agv: {vehicles: 1, speed_loaded: 1, home: stack}}
  conveyors:
    back: {from: weld, to: stack, length: 12, speed: 0.5, pitch: 1}
    ahead: {from: stack, to: weld, length: 12, speed: 0.5, pitch: 1}
""")
    # paths only lead from stack to grade: without the conveyor taking weld -> stack the
    # fleet could not carry the rework back
    load(write_scenario(tmp_path, text.replace("[[stack, weld], [weld, grade]]",
                                               "[{from: stack, to: weld, one_way: true}, "
                                               "{from: weld, to: grade, one_way: true}, "
                                               "{from: grade, to: stack, one_way: true}]")))
    res = twin.run(load(write_scenario(tmp_path, text)))
    fleet = measures(res, "fleet", "agv")
    ahead = measures(res, "conveyor", "ahead")
    back = measures(res, "conveyor", "back")
    # the conveyors carry stack -> weld and the rework; the vehicle only weld -> grade
    finished = measures(res, "product", "cell")["finished"]
    assert ahead["carried"] > 300 and back["carried"] > 10
    assert fleet["trips"] == pytest.approx(finished, abs=2)


@pytest.mark.parametrize("conveyor, where, expect", [
    ("weld: {from: stack, to: weld, length: 2, speed: 1, pitch: 1}",
     "logistics.conveyors.weld", "has the name of a station"),
    ("belt: {from: weld, to: weld, length: 2, speed: 1, pitch: 1}",
     "logistics.conveyors.belt.to", "from weld to itself"),
    ("belt: {from: grade, to: stack, length: 2, speed: 1, pitch: 1}",
     "logistics.conveyors.belt", "no route moves units from grade to stack"),
    ("belt: {from: stak, to: weld, length: 2, speed: 1, pitch: 1}",
     "logistics.conveyors.belt.from", "Did you mean 'stack'?"),
    ("belt: {from: stack, to: weld, length: 2, speed: 1, pitch: -1}",
     "logistics.conveyors.belt.pitch", "greater than 0"),
    ("belt: {from: stack, to: weld, length: 2, speed: 1, pitch: 1, power_kw: {moving: -1}}",
     "logistics.conveyors.belt.power_kw.moving", "must be at least 0, got -1"),
])
def test_each_refusal_names_its_place(tmp_path, conveyor, where, expect) -> None:
    text = BASE.format(extra="", logistics=f"  conveyors:\n    {conveyor}\n")
    with pytest.raises(ScenarioError) as info:
        load(write_scenario(tmp_path, text))
    assert any(p.where == where and expect in p.message for p in info.value.problems), \
        str(info.value)


def test_a_scenario_built_in_code_gets_the_same_checks() -> None:
    from twin.scenario.schema import Scenario
    doc = {"name": "x", "run": {"horizon": 3600},
           "products": {"p": {"route": ["a", "b"]}},
           "stations": {"a": {"process_time": 1}, "b": {"process_time": 1}},
           "logistics": {"conveyors": {"c": {"from": "b", "to": "a", "length": 2,
                                             "speed": 1, "pitch": 1}}}}
    with pytest.raises(ScenarioError, match="logistics.conveyors.c"):
        twin.run(Scenario.model_validate(doc))


# --- engine: hand traces --------------------------------------------------------------------

@pytest.mark.parametrize("accumulating, moving, stopped", [
    # the 2nd waits at the end from 64 to 161 and the 3rd from 164 to 261: the belt stops
    # for both waits
    (False, 105, 194),
    # the 3rd closes up behind the 2nd at 64 (7 + 57 s); after the 2nd leaves at 161 the
    # 3rd reaches the end at 164 and the 4th (on at 162) closes up behind it at 219; after
    # 261 the 5th (on at 262) still moves at 300
    (True, 160, 139),
])
def test_states_energy_and_time_aboard_by_hand(tmp_path, accumulating, moving,
                                               stopped) -> None:
    res = trace(tmp_path, 1.2, accumulating)
    c = measures(res, "conveyor", "belt")
    assert c["places"] == 20
    assert c["moving_h"] * 3600 == pytest.approx(moving)
    assert c["stopped_h"] * 3600 == pytest.approx(stopped)
    assert c["empty_h"] * 3600 == pytest.approx(1.0)
    assert c["energy_moving_kwh"] == pytest.approx(1.5 * moving / 3600)
    assert c["energy_stopped_kwh"] == pytest.approx(0.2 * stopped / 3600)
    assert c["energy_empty_kwh"] == pytest.approx(0.7 / 3600)
    assert c["carried"] == 3 and c["aboard_end"] == 2 and c["aboard_max"] == 3
    assert c["aboard_h"] * 3600 == pytest.approx((60 + 157 + 254) / 3)
    # aboard: 1 on [1, 4), 2 on [4, 7), 3 on [7, 61), 2 on [61, 161), 1 on [161, 162),
    # 2 on [162, 261), 1 on [261, 262), 2 on [262, 300)
    area = 1 * 3 + 2 * 3 + 3 * 54 + 2 * 100 + 1 * 1 + 2 * 99 + 1 * 1 + 2 * 38
    assert c["aboard_mean"] * 300 == pytest.approx(area)
    stack = measures(res, "station", "stack")
    assert stack["blocked_h"] * 3600 == pytest.approx(4.0)  # 2 s each for the 2nd and 3rd
    doc = res.summary()
    assert doc["energy"]["total_kwh"]["mean"] == pytest.approx(
        (1.5 * moving + 0.2 * stopped + 0.7) / 3600)
    assert doc["energy"]["by_area"]["logistics"]["kwh"]["mean"] == pytest.approx(
        (1.5 * moving + 0.2 * stopped + 0.7) / 3600)


def test_a_stopped_belt_holds_its_entry(tmp_path) -> None:
    """Pitch 6 m (15 s, 4 places): units on at 1, 16 and 31 s (the 2nd and 3rd blocked 14 s
    each on the stack). Non-accumulating: the belt stops at 76 (the 2nd at the end) until
    161, runs to 176 (the 3rd at the end), stops until 261. The 4th got on at 162 and had
    moved 14 s of belt when the belt stopped: the 5th, finished at 262, gets on at once only
    because the belt has run 1 s more since 261. Accumulating: the entry frees 15 s of clock
    after each unit whatever happens at the end."""
    res = trace(tmp_path, 6, False)
    c = measures(res, "conveyor", "belt")
    assert c["places"] == 4
    assert (c["moving_h"] * 3600, c["stopped_h"] * 3600) == pytest.approx((129, 170))
    assert measures(res, "station", "stack")["blocked_h"] * 3600 == pytest.approx(28)
    res = trace(tmp_path, 6, True)
    c = measures(res, "conveyor", "belt")
    # the 3rd closes up at 76; the 3rd reaches the end at max(91, 161 + 15) = 176 and the
    # 4th (on at 162) closes up behind it at 207; the 4th reaches the end at 276
    assert (c["moving_h"] * 3600, c["stopped_h"] * 3600) == pytest.approx((160, 139))


def test_units_leave_in_the_order_they_got_on(tmp_path) -> None:
    res = line(tmp_path, '{process_time: {exponential: "4 s"}, servers: 3}',
               '{process_time: {exponential: "3 s"}, buffer: 2}',
               "belt: {from: stack, to: weld, length: 6, speed: 0.5, pitch: 1.5}",
               run='{horizon: "2 h"}')
    ev = res.events[res.events["activity"] == "conveyor"]
    assert len(ev) > 1000
    on = ev.sort_values("start_h")
    assert on["end_h"].is_monotonic_increasing
    gaps = on["start_h"].diff().dropna() * 3600
    assert gaps.min() >= 3.0 - 1e-6  # pitch / speed between two units getting on
    assert ((on["end_h"] - on["start_h"]) * 3600).min() >= 12.0 - 1e-6  # length / speed


def test_the_conveyor_takes_the_move_instead_of_the_fleet(tmp_path) -> None:
    text = """\
name: precedence
run: {horizon: "1 h"}
products:
  cell: {route: [stack, weld], release: saturated, transport: agv}
stations:
  stack: {process_time: "10 s"}
  weld: {process_time: "5 s"}
logistics:
  points: {stack: [0, 0], weld: [100, 0]}
  paths: [[stack, weld]]
  fleets: {agv: {vehicles: 1, speed_loaded: 1, home: stack}}
  conveyors:
    belt: {from: stack, to: weld, length: 20, speed: 0.5, pitch: 1}
"""
    res = twin.run(load(write_scenario(tmp_path, text)))
    assert measures(res, "fleet", "agv")["trips"] == 0
    # by conveyor: 10 s + 40 s + 5 s per unit, one every 10 s (a vehicle: > 200 s a trip)
    cell = measures(res, "product", "cell")
    assert cell["lead_time_h"] * 3600 == pytest.approx(55)
    assert cell["finished"] == pytest.approx((3600 - 50) / 10, abs=1)


def test_a_station_off_shift_takes_nothing_and_the_belt_fills(tmp_path) -> None:
    res = line(tmp_path, '{process_time: "10 s"}',
               '{process_time: "5 s", buffer: 0, calendar: days}',
               "belt: {from: stack, to: weld, length: 24, speed: 0.4, pitch: 1.2}",
               run='{horizon: "24 h"}',
               more='calendars:\n  days: {shifts: [["6 h", "18 h"]]}\n')
    c = measures(res, "conveyor", "belt")
    assert c["aboard_max"] == 20  # accumulating: fills while weld is off shift
    stack = measures(res, "station", "stack")
    # 6 h off shift before 6 h and after 18 h: the stack, blocked, waits most of it
    assert stack["blocked_h"] > 11
    assert measures(res, "station", "weld")["produced"] <= 12 * 3600 / 10 + 21


def test_a_loop_of_full_conveyors_and_stations_is_a_deadlock(tmp_path) -> None:
    res = line(tmp_path, '{process_time: {exponential: "5 s"}, buffer: 0}',
               '{process_time: {exponential: "5 s"}, buffer: 0}', """\
               belt: {from: stack, to: weld, length: 2.4, speed: 0.4, pitch: 1.2}
               back: {from: weld, to: stack, length: 2.4, speed: 0.4, pitch: 1.2}""",
               run='{horizon: "10 h"}',
               route="[stack, {station: weld, rework: {p: 0.5, to: stack}}]",
               release='{interarrival: {exponential: "10 s"}}')
    doc = res.summary()
    assert doc["deadlocks"], doc["run"]
    dead = doc["deadlocks"][0]
    assert dead["stations"] == ["stack", "weld"]
    assert dead["units"] == 2 + 2 + 2  # the machines' units and both full conveyors


def test_warmup_restarts_the_counters_not_the_units(tmp_path) -> None:
    res = trace(tmp_path, 1.2, True, warmup=100.0)
    c = measures(res, "conveyor", "belt")
    # from 100 s to 400 s: 2 units aboard at 100 s (the 2nd and 3rd)
    assert c["moving_h"] + c["stopped_h"] + c["empty_h"] == pytest.approx(300 / 3600)
    assert c["empty_h"] == 0
    assert c["aboard_max"] >= 2


# --- results, reports, flowline ---------------------------------------------------------------

def test_summary_report_rows_and_tables(tmp_path) -> None:
    res = trace(tmp_path, 1.2, False)
    doc = res.summary()
    block = doc["conveyors"]["belt"]
    assert block["places"] == 20
    assert block["states"] == pytest.approx({"moving": 105 / 300, "stopped": 194 / 300,
                                             "empty": 1 / 300})
    assert block["carried"]["mean"] == 3
    assert block["carried_per_h"]["mean"] == pytest.approx(3 * 12)
    assert block["aboard_h"]["mean"] * 3600 == pytest.approx(157)
    # utilisation: units carried over the capacity speed / pitch = 1 per 3 s
    assert block["utilization"]["mean"] == pytest.approx(3 * 3 / 300)
    assert "belt" in doc["bottleneck"]["conveyors"]
    json.dumps(doc)
    table = res.conveyors()
    assert list(table.index.get_level_values("entity")) == ["belt"]
    assert "belt" in text_summary(doc) and "carried/h" in text_summary(doc)
    from twin.report.html import write_report
    scenario = load(write_scenario(tmp_path, TRACE.format(pitch=1.2, accumulating="false"),
                                   "trace.yaml"))
    path = write_report(res, doc, tmp_path / "out", scenario)
    html = path.read_text()
    assert "Conveyors" in html and "carried/h" in html
    assert (tmp_path / "out" / "conveyors.csv").exists()
    from twin.analysis.energy import power_series
    power = power_series(res.timeline, res.meta)
    assert (power["conveyor_kw"] * power["interval_h"]).sum() == pytest.approx(
        doc["energy"]["total_kwh"]["mean"])


def test_a_conveyor_at_capacity_is_the_bottleneck(tmp_path) -> None:
    """Stack every 2 s, conveyor entry every 3 s, weld 1 s: the conveyor's entry is never
    free, so its active period covers the run; a stack of 10 s leaves it mostly idle."""
    def bottleneck(stack_s: int) -> dict:
        return line(tmp_path, f'{{process_time: "{stack_s} s"}}', '{process_time: "1 s"}',
                    "belt: {from: stack, to: weld, length: 24, speed: 0.4, pitch: 1.2}",
                    run='{horizon: "1 h", warmup: "10 min"}').summary()

    doc = bottleneck(2)
    assert doc["bottleneck"]["resource"] == "belt"
    assert doc["bottleneck"]["conveyors"]["belt"] == pytest.approx(1.0)
    assert doc["conveyors"]["belt"]["utilization"]["mean"] == pytest.approx(1.0, abs=1e-3)
    doc = bottleneck(10)
    assert doc["bottleneck"]["resource"] == "stack"
    assert doc["bottleneck"]["conveyors"]["belt"] < 0.05


def test_the_flowline_engine_refuses_conveyors(tmp_path) -> None:
    scenario = load(write_scenario(tmp_path, TRACE.format(pitch=1.2, accumulating="true")))
    with pytest.raises(ScenarioError, match="logistics.conveyors"):
        twin.run(scenario, engine="flowline")


def test_the_documented_example_loads_and_runs(tmp_path) -> None:
    import re
    from pathlib import Path
    doc = (Path(__file__).resolve().parents[1] / "docs" / "scenario-format.md").read_text()
    section = doc.split("### Conveyors (extension)", 1)[1]
    block = re.search(r"```yaml\n(.*?)```", section, re.S).group(1)
    assert block.startswith("logistics:\n  conveyors:\n")
    belts = textwrap.dedent(block.split("\n", 2)[2])
    doc = line(tmp_path, '{process_time: "2 s"}', '{process_time: "1 s"}', belts).summary()
    belt = doc["conveyors"]["stack-to-weld"]
    assert belt["places"] == 20
    assert doc["products"]["cell"]["throughput_per_h"]["mean"] == pytest.approx(
        (3600 - 61) / 3, abs=1)  # one every 3 s once the first is through


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(length=st.sampled_from([1.2, 3.0, 7.5, 24.0]), speed=st.sampled_from([0.2, 0.5, 1.0]),
       pitch=st.sampled_from([0.5, 1.0, 1.2]), accumulating=st.booleans(),
       feed=st.sampled_from(["1 s", "{exponential: \"3 s\"}"]),
       sink=st.sampled_from(["2 s", "{exponential: \"4 s\"}"]),
       servers=st.integers(1, 2))
def test_spacing_travel_fifo_and_places_hold_on_any_belt(tmp_path, length, speed, pitch,
                                                         accumulating, feed, sink,
                                                         servers) -> None:
    """Whatever the belt: units get on at least pitch / speed apart, leave at least pitch /
    speed apart and in the order they got on, ride at least length / speed, and never more
    than floor(length / pitch) are aboard; the state fractions sum to 1."""
    belt = (f"belt: {{from: stack, to: weld, length: {length}, speed: {speed}, "
            f"pitch: {pitch}, accumulating: {str(accumulating).lower()}}}")
    res = line(tmp_path, f"{{process_time: {feed}, servers: {servers}}}",
               f"{{process_time: {sink}, buffer: 0}}", belt, run='{horizon: "20 min"}')
    gap, travel = pitch / speed, length / speed
    ev = res.events[res.events["activity"] == "conveyor"].sort_values("start_h")
    on, off = ev["start_h"].to_numpy() * 3600, ev["end_h"].to_numpy() * 3600
    assert len(on) > 10
    assert (off[1:] >= off[:-1]).all()  # FIFO
    assert (on[1:] - on[:-1] >= gap - 1e-6).all()
    assert (off[1:] - off[:-1] >= gap - 1e-6).all()
    assert (off - on >= travel - 1e-6).all()
    c = measures(res, "conveyor", "belt")
    assert c["aboard_max"] <= max(1, math.ceil(length / pitch - 1e-9))
    assert c["moving_h"] + c["stopped_h"] + c["empty_h"] == pytest.approx(20 / 60)


def test_the_json_schema_accepts_and_refuses_conveyors_as_the_loader_does(tmp_path) -> None:
    import jsonschema
    import yaml
    validator = jsonschema.Draft202012Validator(scenario_json_schema())
    good = "belt: {from: stack, to: weld, length: 2, speed: 1, pitch: 1, accumulating: false}"
    refused = ["belt: {from: stack, to: weld, length: 2, speed: 0, pitch: 1}",
               "belt: {from: stack, to: weld, length: 2, speed: 1}",
               "belt: {from: stack, to: weld, length: 2, speed: 1, pitch: 1, accumulating: 1}",
               "belt: {from: stack, to: weld, length: true, speed: 1, pitch: 1}",
               "belt: {from: stack, to: weld, length: 2, speed: 1, pitch: 1, power_kw: {run: 1}}",
               "belt: {from: stack, to: weld, length: 2, speed: 1, pitch: 1, sped: 1}"]
    for conveyor, ok in [(good, True)] + [(c, False) for c in refused]:
        text = BASE.format(extra="", logistics=f"  conveyors:\n    {conveyor}\n")
        assert (not list(validator.iter_errors(yaml.safe_load(text)))) == ok, conveyor
        if ok:
            load(write_scenario(tmp_path, text))
        else:
            with pytest.raises(ScenarioError):
                load(write_scenario(tmp_path, text))

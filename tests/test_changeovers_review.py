"""Review of changeovers (stations.S.setup) and campaigns (products.P.campaign).

Adversarial cases worked out by hand on paper: constant times give exact timelines, so
every state time, count and event below follows from the timeline drawn in each test's
docstring (times in seconds). The semantics checked are those of docs/modelling.md and
docs/scenario-format.md (Changeovers) and docs/results.md (`changeovers`).
"""

from __future__ import annotations

import copy
import textwrap
from pathlib import Path

import numpy as np
import pytest

import twin
from twin.engine.replication import simulate
from twin.errors import ScenarioError
from twin.model import build
from twin.report.text import text_summary
from twin.results import Results
from twin.scenario.schema import Scenario

from test_engine import value

H = 3600.0


def scenario(doc: dict) -> Scenario:
    return Scenario.model_validate(doc)


def run(doc: dict, **options) -> Results:
    return twin.run(scenario(doc), **options)


def seconds(results: Results, station: str, state: str) -> float:
    return value(results, "station", station, f"{state}_h") * H


def events(results: Results, activity: str, station: str | None = None):
    ev = results.events
    ev = ev[ev["activity"] == activity]
    if station is not None:
        ev = ev[ev["station"] == station]
    return ev.sort_values(["start_h", "unit"])


def spans(ev) -> list[tuple[float, float]]:
    """(start, end) of each event, in seconds, rounded against float noise."""
    return [(round(a * H, 6), round(b * H, 6)) for a, b in zip(ev["start_h"], ev["end_h"])]


def alternating(horizon: float, setup, *, failures=None, warmup: float = 0.0,
                power=None, p: float = 10.0) -> dict:
    """One machine m, products a and b saturated in turns (campaign 1)."""
    station: dict = {"process_time": p, "setup": setup}
    if failures is not None:
        station["failures"] = failures
    if power is not None:
        station["power_kw"] = power
    return {
        "name": "alternating",
        "run": {"horizon": horizon, "warmup": warmup, "replications": 1, "seed": 1},
        "products": {"a": {"route": ["m"]}, "b": {"route": ["m"]}},
        "stations": {"m": station},
    }


# --- failures during setups ---------------------------------------------------------------
def test_time_failure_interrupts_a_setup_which_resumes_after_the_repair():
    """p = 10, setup 20, time failures every 25 s up (constant), 5 s repair; 100 s.

    Failures at 25, 55, 85 (repairs at 30, 60, 90). a 0-10; setup a->b 10-25 (15 done),
    down 25-30, setup 30-35, b 35-45; setup b->a 45-55, down 55-60, setup 60-70, a 70-80;
    setup a->b 80-85, down 85-90, setup 90-100 (still running at the end).
    busy 30, setup 15+5+10+10+5+10 = 55, down 15; three changeovers begun.
    """
    r = run(alternating(100, 20, failures={"mtbf": 25, "mttr": 5, "mode": "time"},
                        power={"busy": 3, "setup": 7, "down": 2, "starved": 1}),
            event_log=True)
    assert seconds(r, "m", "busy") == pytest.approx(30)
    assert seconds(r, "m", "setup") == pytest.approx(55)
    assert seconds(r, "m", "down") == pytest.approx(15)
    assert seconds(r, "m", "starved") == pytest.approx(0, abs=1e-9)
    assert value(r, "station", "m", "changeovers") == 3
    assert value(r, "product", "a", "finished") == 2
    assert value(r, "product", "b", "finished") == 1
    # the setup event spans the downtime it was interrupted by; processing follows it
    assert spans(events(r, "setup", "m")) == [(10, 35), (45, 70)]
    assert spans(events(r, "process", "m")) == [(0, 10), (35, 45), (70, 80)]
    # setup energy: setup power x setup time only (not while down)
    assert value(r, "station", "m", "energy_setup_kwh") == pytest.approx(7 * 55 / H)
    assert value(r, "station", "m", "energy_down_kwh") == pytest.approx(2 * 15 / H)


def test_time_failure_at_the_very_end_of_a_setup():
    """p = 10, setup 20, failures 30 s after each repair, 5 s repair; 100 s.

    a 0-10; setup 10-30 and a failure at 30 (same instant): down 30-35, b 35-45; setup
    45-65, failure at 65: down 65-70, a 70-80; setup 80-100, failure at 100 (the end).
    busy 30, setup 60, down 10; no setup time is lost or repeated at the tie."""
    r = run(alternating(100, 20, failures={"mtbf": 30, "mttr": 5, "mode": "time"}),
            event_log=True)
    assert seconds(r, "m", "busy") == pytest.approx(30)
    assert seconds(r, "m", "setup") == pytest.approx(60)
    assert seconds(r, "m", "down") == pytest.approx(10)
    assert value(r, "station", "m", "changeovers") == 3
    assert spans(events(r, "process", "m")) == [(0, 10), (35, 45), (70, 80)]


def test_operation_failures_neither_age_during_nor_interrupt_a_setup():
    """p = 10, setup 20, operation failures after 15 s of processing (constant), 5 s repair.

    a 0-10 (5 s of processing left to failure); setup 10-30 (the clock does not run);
    b 30-35, down 35-40, b 40-45 (10 left); setup 45-65; a 65-75, failure exactly at the
    end: down 75-80; setup 80-100 (end). busy 30, setup 60, down 10.
    A failure clock that also ran during setups would fail at 15 inside the first setup."""
    r = run(alternating(100, 20, failures={"mtbf": 15, "mttr": 5, "mode": "operation"}),
            event_log=True)
    assert seconds(r, "m", "busy") == pytest.approx(30)
    assert seconds(r, "m", "setup") == pytest.approx(60)
    assert seconds(r, "m", "down") == pytest.approx(10)
    assert value(r, "station", "m", "changeovers") == 3
    assert spans(events(r, "setup", "m")) == [(10, 30), (45, 65)]


def test_breakdown_at_the_instant_a_unit_arrives_then_setup_after_the_repair():
    """u (55 s) feeds m (10 s, setup 20, buffer 5); a and b saturated at u in turns; m fails
    (time mode) 50 s after each repair, repairs take 10 s; 160 s.

    m: starved 0-50, down 50-60 (a1 arrives at 55 and queues), a1 60-70 (first product,
    no setup), starved 70-110. At 110 u hands b2 to the idle m and, in the same instant,
    m breaks down (the failure was scheduled at 60, after u's completion at 55): down
    110-120, then the changeover a->b: setup 120-140, b2 140-150, starved 150-160.
    m: busy 20, setup 20, down 20, starved 100; one changeover."""
    doc = {
        "name": "arrival meets breakdown",
        "run": {"horizon": 160, "replications": 1, "seed": 1},
        "products": {"a": {"route": ["u", "m"]}, "b": {"route": ["u", "m"]}},
        "stations": {
            "u": {"process_time": 55},
            "m": {"process_time": 10, "setup": 20, "buffer": 5,
                  "failures": {"mtbf": 50, "mttr": 10, "mode": "time"}},
        },
    }
    r = run(doc, event_log=True)
    assert seconds(r, "m", "busy") == pytest.approx(20)
    assert seconds(r, "m", "setup") == pytest.approx(20)
    assert seconds(r, "m", "down") == pytest.approx(20)
    assert seconds(r, "m", "starved") == pytest.approx(100)
    assert value(r, "station", "m", "changeovers") == 1
    assert spans(events(r, "setup", "m")) == [(120, 140)]
    assert spans(events(r, "process", "m")) == [(60, 70), (140, 150)]
    assert value(r, "product", "b", "finished") == 1


# --- warm-up, energy ----------------------------------------------------------------------
def test_warmup_ending_mid_setup():
    """p = 10, setup 20, a/b in turns, warm-up 50, horizon 100 (run to 150).

    a 0-10, setup 10-30, b 30-40, setup 40-60, a 60-70, setup 70-90, b 90-100, setup
    100-120, a 120-130, setup 130-150. Measured [50, 150]: setup 10 + 20 + 20 + 20 = 70,
    busy 30; changeovers begun in it: at 70, 100, 130 (the one at 40 began in warm-up).
    Energy: 3 kW busy, 7 kW setup, 1 kW starved: exactly power x time per state."""
    r = run(alternating(100, 20, warmup=50, power={"busy": 3, "setup": 7, "starved": 1}),
            event_log=True)
    assert seconds(r, "m", "setup") == pytest.approx(70)
    assert seconds(r, "m", "busy") == pytest.approx(30)
    assert value(r, "station", "m", "changeovers") == 3
    assert value(r, "product", "a", "finished") == 2
    assert value(r, "product", "b", "finished") == 1
    assert value(r, "station", "m", "energy_setup_kwh") == pytest.approx(7 * 70 / H)
    assert value(r, "station", "m", "energy_busy_kwh") == pytest.approx(3 * 30 / H)
    assert value(r, "station", "m", "energy_starved_kwh") == pytest.approx(0, abs=1e-12)
    doc = r.summary()
    states = doc["stations"]["m"]["states"]
    assert sum(states.values()) == pytest.approx(1.0)
    assert states["setup"] == pytest.approx(0.7)
    # setup counts against availability (production time is busy time only) ...
    assert doc["stations"]["m"]["oee_factors"]["availability"]["mean"] == pytest.approx(0.3)
    # ... and is active time for Roser's method: the lone station is always the bottleneck
    assert doc["bottleneck"]["share"]["m"] == pytest.approx(1.0)
    # the log keeps events that end after the warm-up: the setup that straddles it too
    assert spans(events(r, "setup", "m")) == [(40, 60), (70, 90), (100, 120)]


# --- parallel servers, campaigns ----------------------------------------------------------
def test_parallel_servers_two_products_each_keeps_its_own():
    """2 servers, a and b in turns, p = 10, setup 5, 100 s: machine 0 takes a, machine 1
    takes b at 0; at every completion machine 0 (whose timeout is older) takes the next
    turn, a, and machine 1 b: neither machine ever changes over. 9 of each finish."""
    doc = alternating(100, 5)
    doc["stations"]["m"]["servers"] = 2
    r = run(doc)
    assert value(r, "station", "m", "changeovers") == 0
    assert seconds(r, "m", "setup") == 0
    assert value(r, "product", "a", "finished") == 9
    assert value(r, "product", "b", "finished") == 9


def test_parallel_servers_three_products_change_over_independently():
    """2 servers, a, b, c in turns, p = 10, setup 5, 99 s.

    Machine 0: a 0-10, then c, b, a, c, b, a each after a 5 s setup (starts 10, 25, ...,
    85); machine 1: b, then a, c, b, a, c, b. Each machine changes over at 10, 25, 40, 55,
    70, 85: 12 changeovers, 60 s of setup; busy 2 x (10 + 5 x 10 + 9) = 138 s.
    Finished: a c b a c b and b a c b a c: 4 of each."""
    doc = alternating(99, 5)
    doc["products"]["c"] = {"route": ["m"]}
    doc["stations"]["m"]["servers"] = 2
    r = run(doc, event_log=True)
    assert value(r, "station", "m", "changeovers") == 12
    assert seconds(r, "m", "setup") == pytest.approx(60)
    assert seconds(r, "m", "busy") == pytest.approx(138)
    for p in "abc":
        assert value(r, "product", p, "finished") == 4
    setups = events(r, "setup", "m")
    assert len(setups) == 12
    assert np.allclose((setups["end_h"] - setups["start_h"]) * H, 5)


def test_campaigns_of_three_sizes_release_in_order():
    """a: campaign 2, b: 1, c: 3; p = 10, setup 5 for every change; 299 s.

    Release order a a b c c c, repeated; one cycle: a 0-10, a 10-20, setup 20-25, b 25-35,
    setup 35-40, c 40-70, setup 70-75: 75 s. Four cycles end at 300; the 25th unit (a) is
    released at 295 and its setup runs 295-299. Changeovers: 3 per cycle = 12; setup
    11 x 5 + 4 = 59; busy 240; finished a 8, b 4, c 12."""
    doc = {
        "name": "three campaigns",
        "run": {"horizon": 299, "replications": 1, "seed": 1},
        "products": {"a": {"route": ["m"], "campaign": 2},
                     "b": {"route": ["m"]},
                     "c": {"route": ["m"], "campaign": 3}},
        "stations": {"m": {"process_time": 10, "setup": 5}},
    }
    r = run(doc, event_log=True)
    released = events(r, "release").sort_values("unit")
    assert "".join(released["product"]) == "aabccc" * 4 + "a"
    assert value(r, "station", "m", "changeovers") == 12
    assert seconds(r, "m", "setup") == pytest.approx(59)
    assert seconds(r, "m", "busy") == pytest.approx(240)
    assert [value(r, "product", p, "finished") for p in "abc"] == [8, 4, 12]


def test_campaign_counters_are_per_first_station():
    """x releases a (campaign 2) and b; y releases c and d (campaign 3); p = 10, no setup,
    one machine each, 120 s: x takes a a b a a b ..., y c d d d c d d d ..."""
    doc = {
        "name": "two release points",
        "run": {"horizon": 115, "replications": 1, "seed": 1},
        "products": {"a": {"route": ["x"], "campaign": 2}, "c": {"route": ["y"]},
                     "b": {"route": ["x"]}, "d": {"route": ["y"], "campaign": 3}},
        "stations": {"x": {"process_time": 10}, "y": {"process_time": 10}},
    }
    r = run(doc, event_log=True)
    proc = events(r, "process")
    at_x = "".join(proc[proc["station"] == "x"]["product"])
    at_y = "".join(proc[proc["station"] == "y"]["product"])
    assert at_x == ("aab" * 4)[:11]
    assert at_y == ("cddd" * 3)[:11]


# --- an idle machine, per-change times, zero setups ---------------------------------------
def test_idle_machine_set_up_for_a_changes_over_for_b_and_wait_ends_before_setup():
    """a arrives every 60 s, b every 100 s; p = 10, setup 20; 290 s.

    a60: no setup (first), 60-70. b100: idle since 70, set up for a: setup 100-120,
    120-130. a120 queues behind b, taken at 130 (waited 10): setup 130-150, 150-160.
    a180: idle machine set up for a: 180-190. b200: setup 200-220, 220-230. a240: setup
    240-260, 260-270. Changeovers 4, setup 80, busy 60, starved 150; six units taken with
    10 s of waiting in all (the setups are not waiting)."""
    doc = {
        "name": "idle then another product",
        "run": {"horizon": 290, "replications": 1, "seed": 1},
        "products": {"a": {"route": ["m"], "release": {"interarrival": 60}},
                     "b": {"route": ["m"], "release": {"interarrival": 100}}},
        "stations": {"m": {"process_time": 10, "setup": 20}},
    }
    r = run(doc)
    assert value(r, "station", "m", "changeovers") == 4
    assert seconds(r, "m", "setup") == pytest.approx(80)
    assert seconds(r, "m", "busy") == pytest.approx(60)
    assert seconds(r, "m", "starved") == pytest.approx(150)
    assert value(r, "station", "m", "waits") == 6
    assert value(r, "station", "m", "wait_h") * H == pytest.approx(10 / 6)
    assert value(r, "product", "a", "finished") == 4
    assert value(r, "product", "b", "finished") == 2


def test_buffer_stays_fifo_even_when_reordering_would_save_changeovers():
    """u (5 s) releases a, b, a, b, ... into m (20 s, setup 10, unlimited buffer); 200 s.

    m: a1 5-25 (first), then b2, a3, b4, ... each after a 10 s setup, in arrival order,
    although a unit of the product m is set up for waits behind: setups begin at 25, 55,
    85, 115, 145, 175 (6, 60 s); busy 20 + 5 x 20 + 15 = 135; starved 0-5."""
    doc = {
        "name": "fifo",
        "run": {"horizon": 200, "replications": 1, "seed": 1},
        "products": {"a": {"route": ["u", "m"]}, "b": {"route": ["u", "m"]}},
        "stations": {"u": {"process_time": 5}, "m": {"process_time": 20, "setup": 10}},
    }
    r = run(doc, event_log=True)
    assert value(r, "station", "m", "changeovers") == 6
    assert seconds(r, "m", "setup") == pytest.approx(60)
    assert seconds(r, "m", "busy") == pytest.approx(135)
    assert seconds(r, "m", "starved") == pytest.approx(5)
    assert events(r, "process", "m")["unit"].tolist() == [1, 2, 3, 4, 5, 6]


def test_per_change_times_apply_by_direction():
    """setup {time: 5, changes: [b -> a: 13]}; a/b in turns, p = 10; 100 s.

    a 0-10, a->b 10-15, b 15-25, b->a 25-38, a 38-48, a->b 48-53, b 53-63, b->a 63-76,
    a 76-86, a->b 86-91, b 91-100 (unfinished). Changeovers 5, setup 41, busy 59."""
    r = run(alternating(100, {"time": 5, "changes": [{"from": "b", "to": "a", "time": 13}]}),
            event_log=True)
    assert value(r, "station", "m", "changeovers") == 5
    assert seconds(r, "m", "setup") == pytest.approx(41)
    assert seconds(r, "m", "busy") == pytest.approx(59)
    assert spans(events(r, "setup", "m")) == [(10, 15), (25, 38), (48, 53), (63, 76), (86, 91)]


def test_a_listed_zero_setup_is_no_changeover():
    """setup {changes: [a -> b: 20]} (any other change: default 0, "none"); a/b in turns,
    p = 10; 200 s.

    a 0-10, setup 10-30, b 30-40, a 40-50 (b -> a: no setup), setup 50-70, b 70-80, ...:
    a 40 s cycle with one setup. Setups begin at 10, 50, 90, 130, 170: five, 100 s.
    docs/scenario-format.md: "A listed time of 0 means no setup for that change";
    docs/results.md: changeovers = "product changes (setups) begun" (0 without setup).
    So the b -> a changes, which take no setup, are not changeovers: 5, not 9."""
    r = run(alternating(200, {"changes": [{"from": "a", "to": "b", "time": 20}]}),
            event_log=True)
    assert seconds(r, "m", "setup") == pytest.approx(100)
    assert seconds(r, "m", "busy") == pytest.approx(100)
    assert len(events(r, "setup", "m")) == 5
    assert value(r, "station", "m", "changeovers") == 5


def test_zero_setup_counts_like_no_setup():
    """`setup: 0` means no setup for any change, the same as leaving `setup` out (docs:
    "A setup drawn as 0 takes no time and no state change"; changeovers are "0 without
    setup"). Both runs must agree on every measure, changeovers included (0)."""
    none = run(alternating(100, None))
    zero = run(alternating(100, 0))
    assert value(none, "station", "m", "changeovers") == 0
    assert seconds(zero, "m", "setup") == 0
    assert value(zero, "station", "m", "changeovers") == 0


# --- rework, common random numbers, deadlock ----------------------------------------------
def test_rework_on_the_same_station_never_changes_over():
    """a is reworked on m itself half the time; a/b in turns, setup 30 s, 4 h. From the
    log: a setup precedes exactly the process passes whose product differs from the pass
    before, rework passes of a unit follow each other with no setup, every logged setup
    takes 30 s, and the count is the number of setups begun (one may still run at the end)."""
    doc = alternating(4 * H, 30)
    doc["run"]["seed"] = 5
    doc["products"]["a"] = {"route": [{"station": "m", "rework": {"p": 0.5, "to": "m"}}]}
    r = run(doc, event_log=True)
    assert value(r, "station", "m", "reworked") > 50
    ev = r.events[r.events["station"] == "m"]
    ev = ev[ev["activity"].isin(["setup", "process"])].sort_values(
        ["start_h", "end_h"], kind="stable")
    rows = list(ev[["unit", "product", "activity", "start_h", "end_h"]].itertuples(index=False))
    setups = [x for x in rows if x.activity == "setup"]
    assert np.allclose([(x.end_h - x.start_h) * H for x in setups], 30)
    last = None  # the previous process pass
    pending = None  # a setup not yet followed by its unit's first pass
    for x in rows:
        if x.activity == "setup":
            assert last is not None and last.product != x.product
            pending = x
            continue
        if last is not None and x.product != last.product:
            assert pending is not None and pending.unit == x.unit
            assert pending.end_h == pytest.approx(x.start_h, abs=1e-12)
        else:
            assert pending is None
        pending = None
        last = x
    count = value(r, "station", "m", "changeovers")
    assert count - len(setups) in (0, 1)
    # the machine's setup time: whole logged setups plus at most one unfinished one
    extra = seconds(r, "m", "setup") - 30 * len(setups)
    assert -1e-6 <= extra <= 30 + 1e-6
    assert (extra > 1e-6) == (count == len(setups) + 1)


def test_setup_streams_are_named_by_products_not_their_order():
    """Common random numbers: the k-th a -> b setup draws the same time whichever product
    the scenario lists first (streams named by station and both product names)."""
    def ab_setups(order: str) -> list[float]:
        doc = alternating(3 * H, {"exponential": 30})
        doc["products"] = {p: {"route": ["m"]} for p in order}
        r = run(doc, event_log=True)
        ev = r.events[(r.events["activity"] == "setup") & (r.events["product"] == "b")]
        ev = ev.sort_values("start_h")
        return list(np.round((ev["end_h"] - ev["start_h"]).to_numpy() * H, 9))

    first, second = ab_setups("ab"), ab_setups("ba")
    n = min(len(first), len(second))
    assert n > 50
    assert first[:n] == second[:n]


def test_deadlock_detection_is_unaffected_by_setups():
    """p: [a, b (always reworked back to a)], q: [a]; both saturated at a (in turns), a and
    b have no buffer, a changes over in 30 s, every process takes 60 s.

    a: p1 0-60 (b takes it, 60-120), setup 60-90, q1 90-150; at 120 b blocks on a. At 150
    a takes p1 from b: setup 150-180, p1 180-240 -> b (240-300); a takes p2 (no change),
    240-300. At 300 a finishes first and blocks on b, then b blocks on a: deadlock at
    300 s = 5 min, stations a and b, 2 units."""
    doc = {
        "name": "loop with changeovers",
        "run": {"horizon": 20000 * H, "replications": 1, "seed": 1},
        "products": {"p": {"route": ["a", {"station": "b", "rework": {"p": 0.999999, "to": "a"}}]},
                     "q": {"route": ["a"]}},
        "stations": {"a": {"process_time": 60, "buffer": 0, "setup": 30},
                     "b": {"process_time": 60, "buffer": 0}},
    }
    r = run(doc)
    (dead,) = r.meta["deadlocks"]
    assert dead["stations"] == ["a", "b"]
    assert dead["time_h"] * H == pytest.approx(300)
    assert dead["units"] == 2


# --- results, reports, engine entry point -------------------------------------------------
def test_changeovers_in_tables_summary_and_text_report():
    """Campaigns of 3 with a 25 s setup and p = 10: a 110 s cycle with 2 changeovers; over
    1100 s, 20 changeovers begin at m (the 1st at 30, the 20th at 1075); n has no setup."""
    doc = alternating(1100, 25)
    doc["products"] = {p: {"route": ["m", "n"], "campaign": 3} for p in "ab"}
    doc["stations"]["n"] = {"process_time": 5}
    r = run(doc)
    st = r.stations()
    assert "changeovers" in st.columns
    assert st.xs("m", level="entity")["changeovers"].tolist() == [20]
    assert st.xs("n", level="entity")["changeovers"].tolist() == [0]
    doc_ = r.summary()
    assert doc_["stations"]["m"]["changeovers"]["mean"] == 20
    assert doc_["stations"]["n"]["changeovers"]["mean"] == 0
    lines = text_summary(doc_).splitlines()
    head = next(i for i, x in enumerate(lines) if x.startswith("changeovers"))
    listed = {x.split()[0]: x.split()[1:] for x in lines[head + 1:] if x.strip()
              and not x.startswith(("fleet", "bottleneck", "energy"))}
    assert float(listed["m"][0]) == 20  # count
    assert float(listed["m"][1]) == pytest.approx(20 * 25 / 1100, abs=1e-3)  # setup
    assert "n" not in listed  # no changeovers: not listed


def test_simulate_directly_gives_the_same_counts_as_run():
    """The engine entry point simulate(model, replication, seed, warmup) measures the same
    changeovers as twin.run (warm-up 50 s of the alternating case: 3 in [50, 150])."""
    model = build(scenario(alternating(100, 20)))
    res = simulate(model, 0, 1, 50.0)
    rows = {(k, e, m): v for k, e, m, v in res.measures}
    assert rows[("station", "m", "changeovers")] == 3
    assert rows[("station", "m", "setup_h")] * H == pytest.approx(70)


# --- input: JSON Schema and located errors -------------------------------------------------
BASE = {"name": "t", "run": {"horizon": 3600},
        "products": {"a": {"route": ["m"]}, "b": {"route": ["m"], "campaign": 3}},
        "stations": {"m": {"process_time": 10}}}


def _schema_errors(setup) -> list:
    jsonschema = pytest.importorskip("jsonschema")
    from twin.scenario.load import scenario_json_schema

    doc = copy.deepcopy(BASE)
    doc["stations"]["m"]["setup"] = setup
    validator = jsonschema.Draft202012Validator(scenario_json_schema())
    return list(validator.iter_errors(doc))


@pytest.mark.parametrize("setup", [
    "5 min", 30, {"uniform": ["1 min", "2 min"]}, {"time": "5 min"},
    {"changes": [{"from": "a", "to": "b", "time": "1 min"}]},
    {"time": {"exponential": "5 min"}, "changes": [{"from": "b", "to": "a", "time": 0}]},
])
def test_json_schema_accepts_both_setup_forms(setup):
    assert _schema_errors(setup) == []
    scenario({**BASE, "stations": {"m": {"process_time": 10, "setup": setup}}})  # and loads


@pytest.mark.parametrize("setup", [
    "fast", -5, {"time": -5}, {"time": "5 min", "bogus": 1},
    {"changes": [{"from": "a", "to": "b"}]}, {"changes": {"from": "a", "to": "b", "time": 1}},
])
def test_json_schema_rejects_bad_setups(setup):
    assert _schema_errors(setup)
    with pytest.raises(Exception):
        scenario({**BASE, "stations": {"m": {"process_time": 10, "setup": setup}}})


def test_json_schema_and_loader_agree_on_an_empty_setup_mapping():
    """`setup: {}` is refused by the loader (no time, no changes); an editor using the
    published JSON Schema must not be told it is fine."""
    with pytest.raises(Exception):
        scenario({**BASE, "stations": {"m": {"process_time": 10, "setup": {}}}})
    assert _schema_errors({}), "JSON Schema accepts setup: {} which the loader rejects"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(textwrap.dedent(text))
    return path


@pytest.mark.parametrize("setup, where, words", [
    ('{changes: [{from: a, to: b}]}', "stations.m.setup.changes[0].time", "time"),
    ('{changes: [{from: a, to: b, time: 3}, {from: a, to: b, time: 4}]}',
     "stations.m.setup", "listed twice"),
    ('{changes: [{from: a, to: b, time: "-3 s"}]}', "stations.m.setup.changes[0].time",
     "negative"),
    ('{time: 5, changes: [{from: a, to: c, time: 3}]}', "stations.m.setup.changes[0].to",
     "never visits m"),
    ('{time: 5, changes: [{from: x, to: b, time: 3}]}', "stations.m.setup.changes[0].from",
     "unknown product"),
    ('{time: 5, chnages: []}', "stations.m.setup.chnages", "unknown key"),
])
def test_bad_setup_input_names_the_file_and_key_path(tmp_path, setup, where, words):
    path = _write(tmp_path, f"""\
        name: bad setup
        run: {{horizon: "1 h"}}
        products:
          a: {{route: [m]}}
          b: {{route: [m]}}
          c: {{route: [n]}}
        stations:
          m: {{process_time: 10, setup: {setup}}}
          n: {{process_time: 10}}
    """)
    _assert_one_problem(path, where, words, line=8)  # the station's line in the file


def _assert_one_problem(path: Path, where: str, words: str, line: int) -> None:
    """Loading fails with exactly one problem, naming the file, the key path and the line."""
    with pytest.raises(ScenarioError) as info:
        twin.load(path)
    (problem,) = info.value.problems
    assert problem.file.endswith("bad.yaml")
    assert problem.where == where
    assert words in problem.message
    assert problem.line == line


@pytest.mark.parametrize("product, where, words", [
    ("{route: [m], campaign: 0}", "products.b.campaign", "at least 1"),
    ("{route: [m], campaign: 2.5}", "products.b.campaign", "whole number"),
    ('{route: [m], campaign: "3"}', "products.b.campaign", "whole number"),
    ("{route: [m], release: {conwip: 2}, campaign: 3}", "products.b.campaign", "saturated"),
])
def test_bad_campaign_input_names_the_file_and_key_path(tmp_path, product, where, words):
    path = _write(tmp_path, f"""\
        name: bad campaign
        run: {{horizon: "1 h"}}
        products:
          a: {{route: [m]}}
          b: {product}
        stations:
          m: {{process_time: 10, setup: 5}}
    """)
    _assert_one_problem(path, where, words, line=5)

"""The SimPy engine against cases worked out by hand.

Most cases use constant times, so every number below follows from a timeline drawn on
paper (the derivation is in each test's docstring); the random cases check identities that
must hold exactly in every replication (the event log against the counters, flow balance).
"""

from __future__ import annotations

import math
import re
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import twin
from twin.results import Results
from twin.streams import stream, uniforms

MIN_H = 1 / 60  # one minute in hours


def run_text(tmp_path: Path, text: str, **options) -> Results:
    """Write a scenario to tmp_path, load it and run it (serially)."""
    path = tmp_path / "scenario.yaml"
    path.write_text(textwrap.dedent(text))
    return twin.run(twin.load(path), **options)


def value(results: Results, kind: str, entity: str, measure: str, replication: int = 0) -> float:
    m = results.measures
    row = m[(m["replication"] == replication) & (m["kind"] == kind)
            & (m["entity"] == entity) & (m["measure"] == measure)]
    assert len(row) == 1, f"no single {kind}/{entity}/{measure} in replication {replication}"
    return float(row["value"].iloc[0])


LINE = """\
    name: two-station line
    run: {horizon: "120 min", replications: 1, seed: 1}
    products:
      p: {route: [a, b]}
    stations:
      a: {process_time: "1 min", power_kw: {busy: 10, blocked: 4, starved: 1}}
      b: {process_time: "2 min", buffer: 0, power_kw: {busy: 20, starved: 5}}
"""


# --- blocking, starving, release ------------------------------------------------------
def test_two_station_line_with_no_buffer_blocks_and_starves_as_drawn_by_hand(tmp_path):
    """a: 1 min, b: 2 min, no buffer before b, a saturated, 120 min from empty.

    a processes 0-1 and 1-2; b takes unit 1 at 1 and finishes it at 3, 5, ... (every 2 min).
    From t = 2 a holds a finished unit until b frees at 3, 5, ...: blocked [2,3], [4,5], ...,
    [118,119] = 59 min; busy the other 61 min. b is starved only during [0,1].
    b finishes units at 3, 5, ..., 119: 59 units; a starts units at 0, 1, 3, 5, ..., 119: 61.
    Unit 1 takes 3 min from release to finish, every later unit 4 min (1 + 1 blocked + 2).
    """
    r = run_text(tmp_path, LINE)
    assert value(r, "station", "a", "busy_h") == pytest.approx(61 * MIN_H, abs=1e-12)
    assert value(r, "station", "a", "blocked_h") == pytest.approx(59 * MIN_H, abs=1e-12)
    assert value(r, "station", "a", "starved_h") == 0.0
    assert value(r, "station", "b", "busy_h") == pytest.approx(119 * MIN_H, abs=1e-12)
    assert value(r, "station", "b", "starved_h") == pytest.approx(1 * MIN_H, abs=1e-12)
    assert value(r, "station", "b", "blocked_h") == 0.0
    assert value(r, "product", "p", "finished") == 59
    assert value(r, "product", "p", "released") == 61
    assert value(r, "product", "p", "throughput_per_h") == pytest.approx(59 / 2)
    assert value(r, "product", "p", "lead_time_h") == pytest.approx((3 + 58 * 4) / 59 * MIN_H)
    assert value(r, "system", "", "wip_end") == 2
    # WIP: 1 unit during [0,1], 2 from then on
    assert value(r, "system", "", "wip_mean") == pytest.approx((1 * 1 + 2 * 119) / 120)
    s = r.summary()
    assert s["stations"]["a"]["states"]["blocked"] == pytest.approx(59 / 120)
    assert s["stations"]["b"]["utilization"]["mean"] == pytest.approx(119 / 120)


def test_energy_with_constant_powers_is_exact(tmp_path):
    """Same line: a draws 10 kW busy (61 min) and 4 kW blocked (59 min); b 20 kW busy
    (119 min) and 5 kW starved (1 min)."""
    s = run_text(tmp_path, LINE).summary()
    a = (10 * 61 + 4 * 59) / 60
    b = (20 * 119 + 5 * 1) / 60
    assert s["stations"]["a"]["energy_kwh"]["mean"] == pytest.approx(a, rel=1e-12)
    assert s["stations"]["b"]["energy_kwh"]["mean"] == pytest.approx(b, rel=1e-12)
    assert s["energy"]["total_kwh"]["mean"] == pytest.approx(a + b, rel=1e-12)
    assert s["energy"]["kwh_per_unit"]["mean"] == pytest.approx((a + b) / 59, rel=1e-12)


def test_timeline_has_15_minute_intervals_that_add_up_to_the_totals(tmp_path):
    r = run_text(tmp_path, LINE)
    tl = r.timeline
    times = np.sort(tl["time_h"].unique())
    assert times == pytest.approx(np.arange(1, 9) * 0.25)  # 120 min = 8 intervals of 15 min
    energy = tl[tl["measure"] == "energy_kwh"].groupby("entity")["value"].sum()
    assert energy["a"] == pytest.approx((10 * 61 + 4 * 59) / 60, rel=1e-12)
    assert energy["b"] == pytest.approx((20 * 119 + 5 * 1) / 60, rel=1e-12)
    finished = tl[(tl["kind"] == "product") & (tl["measure"] == "finished")]
    assert finished.groupby("entity")["value"].sum()["p"] == 59
    # from t = 1 min on the WIP is 2; the first interval holds the 1 min with 1 unit
    wip = tl[tl["measure"] == "wip_mean"].set_index("time_h")["value"]
    assert wip.loc[0.25] == pytest.approx((1 * 1 + 2 * 14) / 15)
    assert (wip.drop(0.25) == 2.0).all()
    assert wip.mean() == pytest.approx(value(r, "system", "", "wip_mean"))


def test_saturated_release_never_starves_the_first_station(tmp_path):
    r = run_text(tmp_path, """\
        name: saturated
        run: {horizon: "20 h", replications: 2, seed: 3}
        products:
          p: {route: [a, b, c]}
        stations:
          a: {process_time: {exponential: "2 min"}, servers: 2}
          b: {process_time: {exponential: "1.5 min"}, buffer: 1}
          c: {process_time: {uniform: ["1 min", "2 min"]}, buffer: 0}
    """)
    for rep in (0, 1):
        assert value(r, "station", "a", "starved_h", rep) == 0.0
        assert value(r, "station", "a", "queue_mean", rep) == 0.0
        assert value(r, "station", "a", "blocked_h", rep) > 0  # the line does block
        assert value(r, "station", "b", "starved_h", rep) > 0


def test_conwip_keeps_exactly_n_units_in_the_system(tmp_path):
    r = run_text(tmp_path, """\
        name: conwip
        run: {horizon: "30 h", warmup: "3 h", replications: 2, seed: 5}
        products:
          p: {route: [a, b, c], release: {conwip: 7}}
        stations:
          a: {process_time: {exponential: "2 min"}}
          b: {process_time: {exponential: "3 min"}, buffer: 2}
          c: {process_time: {exponential: "2 min"}, buffer: 1, scrap: 0.1}
    """)
    for rep in (0, 1):
        assert value(r, "system", "", "wip_mean", rep) == pytest.approx(7, abs=1e-9)
        assert value(r, "system", "", "wip_start", rep) == 7
        assert value(r, "system", "", "wip_end", rep) == 7
        # every unit that leaves (finished or scrapped) lets one in
        assert value(r, "product", "p", "released", rep) == (
            value(r, "product", "p", "finished", rep) + value(r, "product", "p", "scrapped", rep))
    assert r.summary()["wip"]["mean"] == pytest.approx(7, abs=1e-9)


def test_warmup_deletes_statistics_not_units(tmp_path):
    """The line of the first test after 10 min of warm-up is in its cycle: a busy 1 min and
    blocked 1 min of every 2, b always busy, 2 units inside. b finishes at 11, 13, ..., 129
    min: 60 units, each 4 min from release, whenever it was released."""
    r = run_text(tmp_path, LINE, warmup="10 min")
    assert value(r, "system", "", "wip_start") == 2
    assert value(r, "system", "", "wip_mean") == pytest.approx(2.0)
    assert value(r, "product", "p", "finished") == 60
    assert value(r, "product", "p", "released") == 60
    assert value(r, "product", "p", "lead_time_h") == pytest.approx(4 * MIN_H)
    assert value(r, "station", "a", "busy_h") == pytest.approx(60 * MIN_H)
    assert value(r, "station", "a", "blocked_h") == pytest.approx(60 * MIN_H)
    assert value(r, "station", "b", "busy_h") == pytest.approx(120 * MIN_H)
    assert value(r, "station", "b", "starved_h") == 0.0
    assert value(r, "system", "", "period_h") == pytest.approx(2.0)
    assert r.summary()["warmup_h"] == pytest.approx(10 / 60)


# --- failures ---------------------------------------------------------------------------
TIME_FAILURES = """\
    name: time failures
    run: {horizon: "700 min", replications: 1, seed: 1}
    products:
      p: {route: [a]}
    stations:
      a:
        process_time: "7 min"
        failures: {mtbf: "60 min", mttr: "10 min"}
"""


def test_time_failures_down_fraction_is_mttr_over_cycle(tmp_path):
    """Up 60 min, down 10 min, repeated: 700 min are 10 whole cycles, 100 min down."""
    r = run_text(tmp_path, TIME_FAILURES)
    assert value(r, "station", "a", "down_h") == pytest.approx(100 * MIN_H, abs=1e-12)
    assert value(r, "station", "a", "busy_h") == pytest.approx(600 * MIN_H, abs=1e-12)
    assert r.summary()["stations"]["a"]["states"]["down"] == pytest.approx(10 / 70)


def test_time_failure_resumes_the_interrupted_unit(tmp_path):
    """Preemptive resume: unit 9 starts at 56 min, the machine fails at 60 (3 min left),
    is repaired at 70 and finishes the unit at 73: 7 + 10 minutes on the machine."""
    r = run_text(tmp_path, TIME_FAILURES, event_log=True)
    ev = r.events[r.events["activity"] == "process"]
    minutes = ((ev["end_h"] - ev["start_h"]) * 60).round(9)
    assert set(minutes) == {7.0, 17.0}
    first = ev[minutes == 17.0].iloc[0]
    assert first["start_h"] * 60 == pytest.approx(56)
    assert first["end_h"] * 60 == pytest.approx(73)
    nxt = ev[ev["start_h"] > first["start_h"]].iloc[0]
    assert nxt["start_h"] * 60 == pytest.approx(73)  # the next unit starts after the repair


def test_operation_failures_only_while_busy(tmp_path):
    """Arrivals every 10 min, 4 min of work each: the machine is idle 60% of the time.

    With the failure clock counting busy time only, failures come after 30, 60, ... busy
    minutes. Units arrive at 10, 20, ..., 590 (59 units, 236 busy minutes), so there are
    floor(236 / 30) = 7 failures of 5 min: 35 min down. A clock that also ran while idle
    would give about 595 / 30 failures instead.
    """
    r = run_text(tmp_path, """\
        name: operation failures
        run: {horizon: "595 min", replications: 1, seed: 1}
        products:
          p: {route: [a], release: {interarrival: "10 min"}}
        stations:
          a:
            process_time: "4 min"
            failures: {mtbf: "30 min", mttr: "5 min", mode: operation}
    """, event_log=True)
    busy_min = value(r, "station", "a", "busy_h") * 60
    assert busy_min == pytest.approx(59 * 4)
    failures = math.floor(busy_min / 30 + 1e-9)
    assert value(r, "station", "a", "down_h") * 60 == pytest.approx(failures * 5)
    assert value(r, "station", "a", "starved_h") * 60 == pytest.approx(595 - 236 - 35)
    # the 8th unit (arrives at 80) fails 2 min into its processing: on the machine 80 to 89
    ev = r.events[r.events["activity"] == "process"]
    long = ev[((ev["end_h"] - ev["start_h"]) * 60).round(9) == 9.0]
    assert len(long) == failures
    assert long["start_h"].iloc[0] * 60 == pytest.approx(80)


# --- scrap and rework -----------------------------------------------------------------
def test_rework_on_the_same_station_repeats_processing_at_once(tmp_path):
    """b's buffer is full most of the time, yet a unit sent back to b is processed again
    straight away: its process events at b follow each other without a gap."""
    r = run_text(tmp_path, """\
        name: rework here
        run: {horizon: "10 h", replications: 1, seed: 11}
        products:
          p: {route: [a, {station: b, rework: {p: 0.5, to: b}}]}
        stations:
          a: {process_time: "1 min"}
          b: {process_time: {uniform: ["50 s", "70 s"]}, buffer: 2}
    """, event_log=True)
    ev = r.events
    assert value(r, "station", "b", "queue_mean") > 1  # others are waiting in b's buffer
    at_b = ev[(ev["activity"] == "process") & (ev["station"] == "b")].sort_values("start_h")
    passes = at_b.groupby("unit").size()
    assert (passes > 1).sum() > 50
    for _, grp in at_b.groupby("unit"):
        assert np.allclose(grp["start_h"].to_numpy()[1:], grp["end_h"].to_numpy()[:-1],
                           rtol=0, atol=1e-12)
    # every completion at b either finishes the unit or starts another pass
    assert value(r, "station", "b", "reworked") == len(at_b) - (ev["activity"] == "finish").sum()
    assert value(r, "station", "b", "produced") == len(at_b)
    # a rework pass never waits in the buffer: one queue event at most per unit at b
    queued = ev[(ev["activity"] == "queue") & (ev["station"] == "b")].groupby("unit").size()
    assert queued.max() == 1


def test_rework_to_an_earlier_station_reenters_its_buffer(tmp_path):
    r = run_text(tmp_path, """\
        name: rework back
        run: {horizon: "20 h", replications: 1, seed: 2}
        products:
          p:
            route: [a, b, {station: c, rework: {p: 0.3, to: a}}]
            release: {interarrival: {exponential: "4 min"}}
        stations:
          a: {process_time: {exponential: "2 min"}}
          b: {process_time: {exponential: "1 min"}}
          c: {process_time: {exponential: "1 min"}}
    """, event_log=True)
    ev = r.events
    proc = ev[ev["activity"] == "process"].sort_values(["unit", "start_h"])
    reworked_units = 0
    for unit, grp in proc.groupby("unit"):
        stations = "".join(grp["station"])
        assert re.fullmatch(r"(abc)*(a|ab|abc)?", stations), (unit, stations)
        if stations.count("a") > 1:
            reworked_units += 1
            # the second visit to a starts no earlier than the end of the first pass at c
            c_end = grp[grp["station"] == "c"]["end_h"].iloc[0]
            a_again = grp[grp["station"] == "a"]["start_h"].iloc[1]
            assert a_again >= c_end
    assert reworked_units > 20
    # some reworked units found a busy and waited in a's buffer, entering it as c ended
    queue_a = ev[(ev["activity"] == "queue") & (ev["station"] == "a")]
    ends_at_c = set(proc[proc["station"] == "c"][["unit", "end_h"]].itertuples(index=False))
    assert any((u, s) in ends_at_c for u, s in queue_a[["unit", "start_h"]].itertuples(index=False))
    # every completion at c either finishes the unit or sends it back (no scrap here)
    assert value(r, "station", "c", "reworked") == (
        (proc["station"] == "c").sum() - (ev["activity"] == "finish").sum())


def test_scrap_leaves_at_once_and_is_counted(tmp_path):
    r = run_text(tmp_path, """\
        name: scrap
        run: {horizon: "10 h", replications: 1, seed: 4}
        products:
          p: {route: [a, b]}
        stations:
          a: {process_time: "1 min", scrap: 0.25}
          b: {process_time: "50 s"}
    """, event_log=True)
    ev = r.events
    scrap = ev[ev["activity"] == "scrap"]
    proc = ev[ev["activity"] == "process"]
    assert len(scrap) == value(r, "product", "p", "scrapped")
    assert len(scrap) == value(r, "station", "a", "scrapped")
    assert 0.15 < len(scrap) / value(r, "station", "a", "produced") < 0.35
    a_end = proc[proc["station"] == "a"].set_index("unit")["end_h"]
    for unit, at in scrap[["unit", "start_h"]].itertuples(index=False):
        assert at == a_end[unit]  # scrapped the moment a finished it
    assert not set(scrap["unit"]) & set(proc[proc["station"] == "b"]["unit"])
    # a is saturated: it starts the next unit at once (never starved, never blocked)
    assert value(r, "station", "a", "busy_h") == pytest.approx(10)
    released = value(r, "product", "p", "released")
    assert released == (value(r, "product", "p", "finished") + len(scrap)
                        + value(r, "system", "", "wip_end"))


# --- deadlocks and guards -----------------------------------------------------------------
# (loops send units back with p = 0.999999: p = 1 is refused at load, as no unit could
# ever leave; with these seeds every draw sends the unit back, as p = 1 would)
LOOP = """\
    name: loop
    run: {{horizon: "{horizon}", replications: {reps}, seed: {seed}}}
    products:
      p: {{route: [a, {{station: b, rework: {{p: {p}, to: a}}}}]}}
      q: {{route: [c]}}
    stations:
      a: {{process_time: "1 min", buffer: 0}}
      b: {{process_time: "1 min", buffer: 0}}
      c: {{process_time: "1 min"}}
"""


def test_deadlock_in_a_loop_ends_the_replication_quickly_naming_both_stations(tmp_path):
    """b sends every unit back to a; a's machine is busy and a has no buffer, so b blocks
    on a, then a finishes its unit and blocks on b: nothing can move again. Station c
    keeps working, so without detection the run would go on for 20000 h."""
    started = time.perf_counter()
    r = run_text(tmp_path, LOOP.format(horizon="20000 h", reps=1, seed=1, p=0.999999))
    assert time.perf_counter() - started < 5
    failed = r.meta["failed"]
    assert len(failed) == 1
    message = failed[0]["error"]
    assert "deadlock" in message and "a, b" in message
    (dead,) = r.meta["deadlocks"]
    assert dead["stations"] == ["a", "b"]
    assert dead["time_h"] == pytest.approx(2 * MIN_H)  # b's first completion, at 2 min
    assert dead["units"] == 2


def _deadlocking_replications(seed: int, reps: int, draws: int, p: float) -> set[int]:
    """Replications whose rework stream (product p, step 1) sends a unit back within
    `draws` completions at b: exactly those deadlock."""
    out = set()
    for r in range(reps):
        u = uniforms(stream(seed, r, "rework", "p/1"))
        if any(next(u) < p for _ in range(draws)):
            out.add(r)
    return out


def test_deadlock_is_recorded_and_other_replications_go_on(tmp_path):
    """b completes units at 2, 3, ..., 10 min of a 10.5 min run: 9 rework draws."""
    seed, reps, p = 3, 8, 0.05
    expected = _deadlocking_replications(seed, reps, 9, p)
    assert expected and len(expected) < reps  # the seed gives both kinds
    r = run_text(tmp_path, LOOP.format(horizon="10.5 min", reps=reps, seed=seed, p=p))
    s = r.summary()
    assert {d["replication"] for d in s["deadlocks"]} == expected
    assert all(d["stations"] == ["a", "b"] for d in s["deadlocks"])
    assert {f["replication"] for f in s["run"]["failed_replications"]} == expected
    assert s["run"]["replications_ok"] == reps - len(expected)
    assert set(r.measures["replication"]) == set(range(reps)) - expected


def test_deadlock_in_every_replication_is_exit_status_1(tmp_path):
    path = tmp_path / "loop.yaml"
    path.write_text(textwrap.dedent(LOOP.format(horizon="10 h", reps=2, seed=1, p=0.999999)))
    from twin.cli import main

    assert main(["run", str(path), "--workers", "1", "--quiet"]) == 1


RUNAWAY = """\
    name: runaway
    run: {horizon: "1000 h", replications: 1, seed: 3, max_wip: 50}
    products:
      p: {route: [a], release: {interarrival: {exponential: "1 min"}}}
    stations:
      a: {process_time: "2 min"}
"""


def test_max_wip_stops_an_unstable_system_with_a_clear_message(tmp_path):
    r = run_text(tmp_path, RUNAWAY)
    (failure,) = r.meta["failed"]
    assert "runaway" in failure["error"] and "max_wip = 50" in failure["error"]
    assert r.meta["deadlocks"] == []


def test_max_wip_stops_soon_after_the_limit_is_crossed(tmp_path):
    """The guard exists to bound memory: the run must stop near the limit, not an amount of
    simulated time later that grows with the horizon (here WIP grows by 0.5 unit/min and
    crosses 50 after about 100 min of a 1000 h run)."""
    r = run_text(tmp_path, RUNAWAY)
    (failure,) = r.meta["failed"]
    units = int(re.search(r"(\d+) units in the system", failure["error"]).group(1))
    assert 50 < units <= 100, failure["error"]


def test_max_wall_stops_a_long_replication(tmp_path):
    r = run_text(tmp_path, """\
        name: long
        run: {horizon: "50 w", replications: 1, seed: 3, max_wall: "0.3 s"}
        products:
          p: {route: [a, b]}
        stations:
          a: {process_time: {exponential: "1 min"}}
          b: {process_time: {exponential: "1 min"}, buffer: 3}
    """)
    (failure,) = r.meta["failed"]
    assert "max_wall" in failure["error"]


@pytest.mark.timeout(15)
def test_max_wall_stops_promptly_whatever_the_horizon(tmp_path):
    """A 5000-week run of a 10-station line of 10 s steps would take hours; one 200th of it
    (the guard's check interval today) takes about a minute. The guard must stop the
    replication within seconds of its 0.5 s allowance. (It needs about 6e9 events: the
    event budget is raised, or the load would refuse the run before max_wall could act.)"""
    stations = "\n".join(f"  s{i}: {{process_time: {{exponential: \"10 s\"}}, buffer: 2}}"
                          for i in range(10))
    path = tmp_path / "huge.yaml"
    path.write_text(textwrap.dedent("""\
        name: huge
        run: {horizon: "5000 w", replications: 1, seed: 3, max_wall: "0.5 s",
              max_events: 100000000000}
        products:
          p: {route: [s0, s1, s2, s3, s4, s5, s6, s7, s8, s9]}
        stations:
    """) + stations + "\n")
    started = time.perf_counter()
    r = twin.run(twin.load(path))
    assert time.perf_counter() - started < 5
    (failure,) = r.meta["failed"]
    assert "max_wall" in failure["error"]


# --- event log ----------------------------------------------------------------------------
def test_event_log_columns_activities_and_counts(tmp_path):
    r = run_text(tmp_path, """\
        name: logged
        run: {horizon: "8 h", replications: 2, seed: 8}
        products:
          p:
            route: [a, b, {station: c, rework: {p: 0.2, to: b}}]
            release: {interarrival: {exponential: "2 min"}}
          q: {route: [b, c], release: {conwip: 3}}
        stations:
          a: {process_time: {exponential: "1 min"}, scrap: 0.05}
          b: {process_time: {exponential: "40 s"}, buffer: 1}
          c: {process_time: {exponential: "45 s"}, servers: 2}
    """, event_log=True)
    assert r.meta["failed"] == []
    ev = r.events
    assert list(ev.columns) == ["replication", "unit", "product", "activity", "station",
                                "start_h", "end_h"]
    assert set(ev["activity"]) == {"release", "queue", "process", "blocked", "finish", "scrap"}
    assert (ev["end_h"] >= ev["start_h"]).all()
    at_station = ev["activity"].isin(["queue", "process", "blocked"])
    assert (ev.loc[at_station, "station"] != "").all()
    assert (ev.loc[~at_station, "station"] == "").all()
    for rep in (0, 1):
        e = ev[ev["replication"] == rep]
        proc = e[e["activity"] == "process"].groupby("station").size()
        for st in ("a", "b", "c"):
            assert proc[st] == value(r, "station", st, "produced", rep)
            # waiting time in the log = waiting time in the statistics (no warm-up here)
            queued = e[(e["activity"] == "queue") & (e["station"] == st)]
            assert (queued["end_h"] - queued["start_h"]).sum() == pytest.approx(
                value(r, "station", st, "wait_h", rep) * value(r, "station", st, "waits", rep))
        for product in ("p", "q"):
            mine = e[e["product"] == product]
            for activity, measure in (("release", "released"), ("finish", "finished"),
                                      ("scrap", "scrapped")):
                count = (mine["activity"] == activity).sum()
                assert count == value(r, "product", product, measure, rep), (product, activity)


def test_no_event_log_unless_asked(tmp_path):
    r = run_text(tmp_path, LINE)
    assert len(r.events) == 0


def test_first_pass_and_final_yield_count_rework_and_scrap(tmp_path):
    """30% of the units checked at b go back to a, 10% of a's output is scrapped: the
    yields follow from the counts by their definitions, first-pass below final."""
    r = run_text(tmp_path, """\
        name: yields
        run: {horizon: "20 h", replications: 1, seed: 5}
        products:
          p: {route: [a, {station: b, rework: {p: 0.3, to: a}}]}
        stations:
          a: {process_time: "1 min", scrap: 0.1}
          b: {process_time: "1 min"}
    """)
    doc = r.summary()["products"]["p"]
    rows = r.products().xs("p", level="entity").iloc[0]
    left = rows["finished"] + rows["scrapped"]
    assert 0 < rows["first_pass"] < rows["finished"]  # some finished units were reworked
    assert doc["final_yield"]["mean"] == pytest.approx(rows["finished"] / left)
    assert doc["first_pass_yield"]["mean"] == pytest.approx(rows["first_pass"] / left)
    assert doc["first_pass_yield"]["mean"] < doc["final_yield"]["mean"] < 1.0


def test_a_failure_at_the_very_end_of_processing_is_not_a_negative_delay(tmp_path):
    """Constant times where a failure falls on the instant processing ends: rounding must not
    leave a negative remainder (found by review: 0.1 + 0.2 != 0.30000000000000004 - ...)."""
    r = run_text(tmp_path, """\
        name: edge
        run: {horizon: 200, replications: 1}
        products:
          p: {route: [u, d]}
        stations:
          u: {process_time: 0.1}
          d:
            process_time: 0.2
            failures: {mtbf: 0.30000000000000004, mttr: 1}
    """)
    assert r.meta["failed"] == []
    doc = r.summary()
    assert doc["stations"]["d"]["states"]["down"] > 0.5  # fails every 0.3 s of up time for 1 s


def test_consecutive_steps_on_one_machine_do_not_deadlock(tmp_path):
    """[a, a] with one machine and no buffer: the machine goes on with the second step
    itself; each unit takes two process times."""
    r = run_text(tmp_path, """\
        name: twice
        run: {horizon: "9 h", replications: 1}
        products:
          p: {route: [a, a]}
        stations:
          a: {process_time: "1 h", buffer: 0}
    """)
    assert r.meta["failed"] == []
    rows = r.products().xs("p", level="entity").iloc[0]
    assert rows["finished"] == 4  # at 2, 4, 6 and 8 h
    assert rows["lead_time_h"] == pytest.approx(2.0)


# Two machines without buffers and a rework loop between them: deadlocks, sooner or later.
REWORK_LOOP = """\
    name: {name}
    run: {{horizon: "{horizon}", replications: {replications}, seed: 1}}
    products:
      a:
        route: [m1, {{station: m2, rework: {{p: 0.1, to: m1}}}}]
    stations:
      m1: {{buffer: 0, process_time: {{exponential: "1 h"}}}}
      m2: {{buffer: 0, process_time: {{exponential: "1 h"}}}}
"""


def test_bottleneck_shares_average_the_completed_replications_only(tmp_path):
    """Replications that deadlock have no bottleneck measures; they must not count as zeros.
    (With an event log the periods are kept too: the offline method on them is the check.)"""
    from twin.analysis.bottleneck import bottleneck_shares

    r = run_text(tmp_path, REWORK_LOOP.format(name="partial", horizon="15 h", replications=8),
                 event_log=True)
    ok = sorted(set(r.measures["replication"]))
    assert 0 < len(ok) < 8, "the case needs some deadlocked and some completed replications"
    doc = r.summary()
    for name in ("m1", "m2"):
        shares = []
        for rep in ok:
            sub = r.active_periods[r.active_periods["replication"] == rep]
            spans = {s: list(zip(g["start_h"], g["end_h"])) for s, g in sub.groupby("station")}
            spans = {s: spans.get(s, []) for s in ("m1", "m2")}
            shares.append(bottleneck_shares(spans, 0.0, 15.0)[name]["total"])
        assert doc["bottleneck"]["share"][name] == pytest.approx(sum(shares) / len(shares))


def test_every_replication_failing_still_gives_a_summary_and_a_comparison(tmp_path):
    from twin.analysis.compare import compare

    text = REWORK_LOOP.format(name="stuck", horizon="200 h", replications=2)
    stuck = run_text(tmp_path, text)
    assert not len(stuck.measures)
    doc = stuck.summary()
    assert doc["products"] == {} and doc["bottleneck"]["station"] is None
    assert len(doc["deadlocks"]) == 2 and doc["run"]["replications_ok"] == 0
    fine = run_text(tmp_path, text.replace("m2: {buffer: 0", "m2: {buffer: 50"))
    verdicts = compare({"fine": fine.measures, "stuck": stuck.measures})["kpis"]
    assert all(e["verdict"]["stuck"] == "no data" for e in verdicts.values())


def test_peak_demand_is_over_15_minutes_even_when_the_timeline_is_coarser(tmp_path):
    """60 days give a 30-minute timeline; the peak is still the highest 15-minute mean,
    so it is at least the highest 30-minute mean and spans exactly 0.25 h."""
    r = run_text(tmp_path, """\
        name: long
        run: {horizon: "60 d", replications: 1, seed: 2}
        products:
          p: {route: [a]}
        stations:
          a:
            process_time: {exponential: "10 min"}
            failures: {mtbf: {exponential: "3 h"}, mttr: {exponential: "40 min"}}
            power_kw: {busy: 100, starved: 10, down: 0}
    """)
    energy = r.summary()["energy"]
    steps = sorted(set(r.timeline["time_h"]))
    assert steps[1] - steps[0] == pytest.approx(0.5)
    assert energy["demand_interval_h"] == 0.25
    (start, end), = energy["peak_at_h"]
    assert end - start == pytest.approx(0.25)
    coarse = r.timeline[r.timeline["measure"] == "energy_kwh"]["value"].max() / 0.5
    assert coarse <= energy["peak_kw"]["mean"] <= 100.0 + 1e-9

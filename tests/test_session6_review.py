"""Review of commits 8f79e98 (bad input, CLI), 115b9eb (CONWIP release when the card is
freed) and 724c4fc (`twin validate` loads once).

Every expected value comes from the spec (../shared/spec/*.md), the project's docs, queueing
theory or a hand computation; none is copied from the program's output. Tests that expose a
bug are left failing on purpose, each with a comment saying what is expected and what
happens.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

import twin
from twin.cli import main
from twin.scenario.schema import Scenario

ROOT = Path(__file__).resolve().parents[1]
HOUR = 3600.0


# --------------------------------------------------------------------------- helpers


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def _twin_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("twin")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "twin"]


def _measures(results) -> dict[tuple[str, str, str], float]:
    m = results.measures
    return {(k, e if isinstance(e, str) else "", ms): v
            for k, e, ms, v in zip(m["kind"], m["entity"], m["measure"], m["value"])}


def _line(stations: dict, release, horizon: float, warmup: float = 0.0, seed: int = 0,
          **extra) -> Scenario:
    return Scenario.model_validate({
        "name": "line", "run": {"horizon": horizon, "warmup": warmup, "seed": seed},
        "products": {"u": {"route": list(stations), "release": release}},
        "stations": stations, **extra})


def _same(a, b, path: str = "") -> None:
    """Two summaries agree to floating-point precision (engine, timing, timeline-only
    energy figures and the bottleneck's tie-broken name aside)."""
    if isinstance(a, dict):
        assert set(a) == set(b), f"{path}: keys differ: {set(a) ^ set(b)}"
        for key in a:
            if path == "" and key in ("engine", "timing"):
                continue
            if path == ".energy" and key in ("peak_kw", "peak_at_h", "demand_interval_h"):
                continue
            if path == ".bottleneck" and key == "station":
                continue
            _same(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            _same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert (math.isnan(a) and math.isnan(b)) or math.isclose(
            a, b, rel_tol=1e-9, abs_tol=1e-12), f"{path}: simpy {a!r}, flowline {b!r}"
    else:
        assert a == b, f"{path}: simpy {a!r}, flowline {b!r}"


TWO = """
    name: two
    run: {horizon: "1 h"}
    products: {p: {route: [a, b], release: saturated}}
    stations:
      a: {process_time: "10 s"}
      b: {process_time: "12 s"}
"""


# =========================================================================== bugs


# results.md: `twin run SCENARIO --horizon DUR --warmup DUR|auto`; scenario.md: "A duration
# is a number of seconds, or a string '<number> <unit>'". On a command line every value is
# text, so `--horizon 3600` is the number of seconds 3600 (as it was before 8f79e98, and as
# `--set run.horizon=3600` still is). Since parse_duration refuses unit-less text, `twin run
# s.yaml --horizon 3600` (and `--warmup 600`) exit 2: "expected ... or a number of seconds
# without quotes, got '3600'", although the user wrote no quotes.
def test_cli_horizon_and_warmup_in_plain_seconds(tmp_path, capsys):
    path = _write(tmp_path / "two.yaml", TWO)
    status = main(["run", str(path), "--horizon", "3600", "--warmup", "600", "--json",
                   "--workers", "1"])
    out, err = capsys.readouterr()
    assert status == 0, err
    doc = json.loads(out)
    assert doc["horizon_h"] == 1.0 and doc["warmup_h"] == pytest.approx(600 / HOUR)


# twin/scenario/budget.py assumes every station is busy the whole run (span / mean process
# time events), but a station processes only the units that reach it: with Poisson-free
# arrivals every 60 s, a 10 ms scanner sees 365 x 24 x 60 = 525,600 units in a year, a few
# million events, far below run.max_events = 2e9. The scenario is refused at load ("about
# 3.2e+09 events ... is the unit right?") though it would run. The project's own validation
# scenario traffic_md1.yaml (1 ms stations behind Poisson arrivals every 12.5 s) is refused
# the same way for a 60-day horizon (415,000 units).
def test_event_budget_does_not_refuse_a_fast_station_behind_slow_arrivals(tmp_path):
    path = _write(tmp_path / "scan.yaml", """
        name: scan
        run: {horizon: "365 d"}
        products: {p: {route: [a, scan], release: {interarrival: "60 s"}}}
        stations:
          a: {process_time: "50 s"}
          scan: {process_time: "0.01 s"}
    """)
    twin.load(path)  # raises ScenarioError at stations.scan.process_time


def test_event_budget_does_not_refuse_the_md1_validation_scenario_over_60_days():
    twin.load(ROOT / "scenarios" / "validation" / "traffic_md1.yaml",
              ['run.horizon="60 d"'])


# docs/scenario-format.md: "`twin validate` reports everything `twin run` would refuse
# before running: besides the file itself, the levels of its `vary:` points and, with
# `engine: flowline`, what is outside that engine's reach". _problems checks the flowline
# reach of the base scenario only: a vary level that takes a point out of reach (here a
# batch station; it was failures.mode: time on parallel machines until the event kernel
# took those in) passes `twin validate` (exit 0, "ok") while `twin run` refuses the same
# file (exit 2).
VARY_FLOWLINE = """
    name: v
    run: {horizon: "1 h", engine: flowline}
    products: {p: {route: [a, b], release: saturated}}
    stations:
      a: {process_time: "10 s"}
      b: {process_time: "12 s", servers: 2, failures: {mtbf: "1 h", mttr: "5 min", mode: operation}}
    vary:
      factorial:
        stations.b.batch: [null, {size: 2}]
"""


def test_validate_refuses_a_vary_point_outside_the_flowline_reach(tmp_path, capsys):
    path = _write(tmp_path / "vary_fl.yaml", VARY_FLOWLINE)
    run_status = main(["run", str(path), "--json", "--workers", "1"])
    capsys.readouterr()
    assert run_status == 2  # twin run refuses the point with a batch station
    assert main(["validate", str(path)]) == 2  # validate says "ok", exit 0


# scenario.md, Errors: every mistake names "the place"; docs/scenario-format.md: the levels
# of `vary:` points are reported "each at the `vary:` entry (or --vary option) that set it".
# `twin run` reported the out-of-reach point at the base file's station (line 6, which is
# in reach) and never mentioned the vary entry (line 9) whose level (now a batch station)
# is the problem.
def test_sweep_refusal_is_placed_at_the_vary_entry(tmp_path, capsys):
    path = _write(tmp_path / "sweep.yaml", VARY_FLOWLINE)
    assert main(["run", str(path), "--json", "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert "vary" in err or "line 9" in err, err


# docs (run.max_wip): "Runaway guard: a replication with more units in the system stops
# with an error"; 8f79e98 refuses initial WIP over max_wip at load for that reason. Before
# 115b9eb a CONWIP loop of 20 with max_wip 10 stopped ("runaway run: 11 units in the
# system"); now the CONWIP cards are added to the WIP in Replication._add_backlog without
# the guard, and the run ends normally with 20 units in the system, twice the limit.
def test_conwip_over_max_wip_is_not_run_silently(tmp_path):
    path = _write(tmp_path / "mw.yaml", """
        name: mw
        run: {horizon: "1 h", max_wip: 10}
        products: {p: {route: [a, b], release: {conwip: 20}}}
        stations:
          a: {process_time: "10 s"}
          b: {process_time: "12 s"}
    """)
    try:
        scenario = twin.load(path)
    except twin.ScenarioError:
        return  # refused at load, like initial WIP over max_wip: fine
    results = twin.run(scenario, workers=1)
    assert results.meta["failed"], "ran with WIP 20 over run.max_wip = 10"


# docs/results.md: the event log holds "every unit's events" with activity `release`; the
# `released` measure counts the units released. Under CONWIP (115b9eb) a unit is released
# when its card is freed, but Replication._release makes its Unit (and logs its release)
# only when the first station's release loop gets to it: the units whose cards wait behind
# the one blocked outside are counted in `released` and the WIP but have no event at all.
# Here (first buffer 0, a slow second station) released = 25 but only 23 release events.
def test_event_log_has_a_release_for_every_released_unit():
    sc = _line({"a": {"process_time": 5, "buffer": 0},
                "b": {"process_time": 50, "buffer": 1}}, {"conwip": 6}, horizon=1000.0)
    r = twin.run(sc, workers=1, event_log=True)
    released = _measures(r)[("product", "u", "released")]
    releases = int((r.events["activity"] == "release").sum())
    assert releases == released


# scenario.md, Errors: "what is wrong". `accumulating` (and `one_way`, `opportunity`)
# takes true or false. Given the text "1", 8f79e98 now answers "expected a number, got the
# text "1": write the number without quotes" (its _wanted knows no booleans and says "a
# number"); following that advice (`accumulating: 1`) is refused in turn ("expected true or
# false, got 1"). Before, the message was "expected true or false, got "1"".
def test_quoted_number_for_a_boolean_key_asks_for_true_or_false(tmp_path):
    path = _write(tmp_path / "cv.yaml", """
        name: cv
        run: {horizon: "1 h"}
        products: {p: {route: [a, b], release: saturated}}
        stations:
          a: {process_time: "10 s"}
          b: {process_time: "10 s"}
        logistics:
          conveyors:
            ab: {from: a, to: b, length: 5, speed: 0.5, pitch: 0.5, accumulating: "1"}
    """)
    with pytest.raises(twin.ScenarioError) as info:
        twin.load(path)
    msg = " | ".join(str(p) for p in info.value.problems if "accumulating" in p.where)
    assert "accumulating" in msg
    assert "true or false" in msg and "expected a number" not in msg, msg


# results.md: `--dask ADDRESS|local`. Dask writes a scheduler on an IPv6 host as
# tcp://[::1]:8786 (distributed.comm.addressing.unparse_host_port brackets the host, and
# parse_address reads it back). cli._dask_address's pattern allows no ':' in the host, so
# that address is refused as malformed (argparse error, exit 2).
def test_dask_accepts_an_ipv6_scheduler_address():
    addressing = pytest.importorskip("distributed.comm.addressing")
    address = "tcp://" + addressing.unparse_host_port("::1", 8786)
    assert addressing.parse_address(address) == ("tcp", "[::1]:8786")
    from twin.cli import _parser

    args = _parser().parse_args(["run", "s.yaml", "--dask", address])  # SystemExit(2)
    assert args.dask == address


# =========================================================================== checked, fine


# docs/modelling.md, Release (CONWIP): a unit is released the moment its card is freed and
# counts in WIP while waiting outside a full first station: the WIP is exactly N. Hand
# computation: a (12 s, buffer 0) is the bottleneck, b takes 10 s; N = 3. In steady state
# a works all the time: throughput 300/h, and by Little's law every unit's lead time is
# N / TH = 36 s = 0.01 h (one unit always waits outside for a). The warm-up (105 s) ends
# while a unit waits outside.
def test_conwip_release_at_card_hand_computed_and_engines_agree():
    sc = _line({"a": {"process_time": 12, "buffer": 0}, "b": {"process_time": 10}},
               {"conwip": 3}, horizon=3000.0, warmup=105.0)
    a = twin.run(sc, engine="simpy", workers=1)
    doc = a.summary()
    assert doc["wip"]["mean"] == pytest.approx(3.0, abs=1e-9)
    p = doc["products"]["u"]
    assert p["lead_time_h"]["mean"] == pytest.approx(36 / HOUR, rel=1e-9)
    assert p["throughput_per_h"]["mean"] == pytest.approx(300, abs=1.2)  # +-1 unit in 3000 s
    m = _measures(a)
    assert m[("product", "u", "released")] == (m[("product", "u", "finished")]
                                               + m[("system", "", "wip_end")]
                                               - m[("system", "", "wip_start")])
    b = twin.run(sc, engine="flowline", workers=1).summary()
    _same(doc, b)


# The flowline engine must agree with the SimPy engine to floating-point precision on every
# line it supports (docs/flowline.md): CONWIP with a finite first buffer, scrap, parallel
# machines (event kernel), operation-dependent failures, warm-ups ending at arbitrary
# moments and on constant-time ties; WIP exactly N on each.
@pytest.mark.parametrize("stations, n, warmup", [
    ({"a": {"process_time": {"exponential": 10}, "buffer": 0},
      "b": {"process_time": {"exponential": 12}, "buffer": 1}}, 4, 333.3),
    ({"a": {"process_time": 10, "buffer": 0}, "b": {"process_time": 12}}, 3, 120.0),
    ({"a": {"process_time": {"exponential": 10}, "buffer": 0, "scrap": 0.2},
      "b": {"process_time": {"exponential": 12}, "scrap": 0.1}}, 4, 200.0),
    ({"a": {"process_time": 10, "buffer": 1, "servers": 2},
      "b": {"process_time": 12, "buffer": 0}}, 6, 95.0),
    ({"a": {"process_time": {"exponential": 10}, "buffer": 0, "servers": 2},
      "b": {"process_time": {"exponential": 12}}}, 5, 200.0),
    ({"a": {"process_time": {"exponential": 10}, "buffer": 0,
            "failures": {"mtbf": {"exponential": 100}, "mttr": {"exponential": 30},
                         "mode": "operation"}},
      "b": {"process_time": {"exponential": 12}}}, 3, 200.0),
])
def test_conwip_flowline_equals_simpy(stations, n, warmup):
    sc = _line(stations, {"conwip": n}, horizon=3000.0, warmup=warmup, seed=1)
    a = twin.run(sc, engine="simpy", workers=1).summary()
    b = twin.run(sc, engine="flowline", workers=1).summary()
    _same(a, b)
    assert a["wip"]["mean"] == pytest.approx(n, abs=1e-9)


# SimPy-only CONWIP lines: flow balance released = finished + scrapped + consumed + WIP
# change holds exactly, and the WIP is exactly the sum of the loops (rework to the first
# station, several products sharing a first station of buffer 0, a batch first station,
# initial WIP over N then replaced no more, scrap, warm-up).
@pytest.mark.parametrize("name", ["rework_first", "multi", "batch_first", "init_excess_w",
                                  "scrap"])
def test_conwip_flow_balance_and_wip_n(name):
    exp = lambda m: {"exponential": m}  # noqa: E731
    cases = {
        "rework_first": ({"u": {"route": ["a", {"station": "b", "rework": {"p": 0.3,
                                                                          "to": "a"}}],
                                "release": {"conwip": 3}}},
                         {"a": {"process_time": exp(10), "buffer": 0},
                          "b": {"process_time": exp(8)}}, {}, 3),
        "multi": ({"u": {"route": ["a", "b"], "release": {"conwip": 3}},
                   "v": {"route": ["a", "c"], "release": {"conwip": 2}}},
                  {"a": {"process_time": exp(5), "buffer": 0}, "b": {"process_time": exp(12)},
                   "c": {"process_time": exp(15)}}, {}, 5),
        "batch_first": ({"u": {"route": ["a", "b"], "release": {"conwip": 6}}},
                        {"a": {"process_time": 30, "batch": {"size": 4}, "buffer": 4},
                         "b": {"process_time": exp(8)}}, {}, 6),
        "init_excess_w": ({"u": {"route": ["a", "b"], "release": {"conwip": 3}}},
                          {"a": {"process_time": exp(10), "buffer": 0},
                           "b": {"process_time": exp(12), "buffer": 10}},
                          {"initial_wip": {"b": {"u": 6}}}, 3),
        "scrap": ({"u": {"route": ["a", "b"], "release": {"conwip": 4}}},
                  {"a": {"process_time": exp(10), "buffer": 0, "scrap": 0.2},
                   "b": {"process_time": exp(12), "buffer": 0, "scrap": 0.1}}, {}, 4),
    }
    products, stations, extra, n = cases[name]
    doc = {"name": name, "run": {"horizon": 8000.0, "warmup": 500.0, "seed": 1},
           "products": products, "stations": stations, **extra}
    r = twin.run(Scenario.model_validate(doc), workers=1)
    m = _measures(r)
    tot = lambda what: sum(m.get(("product", p, what), 0.0) for p in products)  # noqa: E731
    assert tot("released") == (tot("finished") + tot("scrapped") + tot("consumed")
                               + m[("system", "", "wip_end")] - m[("system", "", "wip_start")])
    # (with initial WIP over N the excess has left long before the warm-up ends: 6 units
    # at b, 12 s each, are gone within minutes)
    assert m[("system", "", "wip_mean")] == pytest.approx(n, abs=1e-9)
    if name != "scrap":  # Little's law (no scrap): WIP = sum of throughput x lead time
        little = sum(m[("product", p, "throughput_per_h")] * m[("product", p, "lead_time_h")]
                     for p in products)
        assert little == pytest.approx(n, rel=0.03)


# Initial WIP over the CONWIP limit: no card at time 0; the excess units are not replaced
# when they leave (docs/modelling.md), so the WIP falls from 6 to exactly 3 and stays.
def test_conwip_initial_wip_over_n_falls_to_n():
    sc = _line({"a": {"process_time": 10, "buffer": 0}, "b": {"process_time": 12,
                                                              "buffer": 10}},
               {"conwip": 3}, horizon=5000.0, initial_wip={"b": {"u": 6}})
    m = _measures(twin.run(sc, workers=1))
    assert m[("system", "", "wip_start")] == 6 and m[("system", "", "wip_end")] == 3
    assert m[("product", "u", "released")] == (m[("product", "u", "finished")] - 3)


# The event budget must not refuse reasonable long runs: a year of 1 s process times is
# about 3.2e7 visits per station (x2 with warmup: auto), far below run.max_events = 2e9.
@pytest.mark.parametrize("run", ['{horizon: "365 d"}', '{horizon: "365 d", warmup: auto}'])
def test_event_budget_accepts_a_year_of_one_second_steps(tmp_path, run):
    path = _write(tmp_path / "y.yaml", f"""
        name: y
        run: {run}
        products: {{p: {{route: [a], release: saturated}}}}
        stations: {{a: {{process_time: 1}}}}
    """)
    twin.load(path)


# The "text never read as a number" rule must leave text alone where text belongs: names
# that look like numbers, durations with units, calendars, tariffs keyed by time strings,
# empirical lists mixing numbers and durations, buffer: unlimited, --set values.
def test_text_that_looks_like_numbers_still_loads_where_text_belongs(tmp_path):
    path = _write(tmp_path / "t.yaml", """
        name: "2024"
        description: "1.5"
        run: {horizon: "1 d", warmup: "1.5e1 min", max_wall: "30 min"}
        products: {"1e3": {route: ["1", "inf"], release: {conwip: 4}}}
        calendars: {c: {shifts: [["6 h", "14 h"], ["14 h", "22 h"]], breaks: [["10 h", "10.5 h"]]}}
        energy: {tariff: {"0 h": 0.3, "8 h": 0.6}, run_starts_at: "6 h"}
        stations:
          "1": {process_time: {empirical: [5, "6 s", 7.5]}, buffer: unlimited, calendar: c,
                power_kw: {busy: 10}}
          "inf": {process_time: {uniform: [5, "0.2 min"]}}
    """)
    s = twin.load(path, ["stations.inf.buffer=5", 'stations.1.servers=2',
                         'run.horizon="2 d"'])
    assert s.name == "2024" and s.stations["inf"].buffer == 5
    assert s.run.horizon == 2 * 86400


# results.md exit statuses: 2 for a wrong command line (--out naming a file, --resume on a
# folder whose manifest is not twin's), 1 for "anything else" (stdout closed by its reader).
def test_exit_statuses(tmp_path, capsys):
    path = _write(tmp_path / "two.yaml", TWO)
    afile = tmp_path / "afile"
    afile.write_text("x")
    assert main(["run", str(path), "--out", str(afile)]) == 2
    out = tmp_path / "out"
    (out / "replications").mkdir(parents=True)
    (out / "replications" / "manifest.json").write_text("{not json")
    assert main(["run", str(path), "--out", str(out), "--resume", "--workers", "1"]) == 2
    assert main(["validate", str(tmp_path / "missing.yaml")]) == 2
    capsys.readouterr()
    p = subprocess.Popen([*_twin_cmd(), "run", str(path), "--json", "--workers", "1"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.close()
    p.stderr.read()
    assert p.wait() == 1

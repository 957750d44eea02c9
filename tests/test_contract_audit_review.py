"""Black-box contract audit: twin against ../shared/spec/scenario.md and results.md.

Only the public surface is used: the `twin` command line (subprocess) and the Python API
(`twin.load`, `twin.run`, `.summary()`, the result tables). Every expected value comes from
the spec, the project's own docs, or queueing/probability theory, not from twin's output.

The command-line calls are launched together, once, in a module fixture (each pays the
package's start-up); the KPI and semantics checks run in-process on short horizons.

Tests that expose a disagreement are left failing on purpose; each has a comment saying what
the spec (or docs) says and what the program does.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import scipy.stats as st
import yaml

import twin

HOUR = 3600.0


# --------------------------------------------------------------------------- helpers


def _twin_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("twin")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "twin"]


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def _doc_file(path: Path, doc: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def _run(tmp_path: Path, doc: dict, name: str = "s.yaml", **kw) -> twin.Results:
    return twin.run(twin.load(_doc_file(tmp_path / name, doc)), **kw)


def _line(stations: dict, route: list, release="saturated", horizon="10 h", **run) -> dict:
    return {"name": "audit", "run": {"horizon": horizon, **run},
            "products": {"p": {"route": route, "release": release}},
            "stations": stations}


def _load_error(path: Path) -> str:
    with pytest.raises(twin.ScenarioError) as info:
        twin.load(path)
    return str(info.value)


def _strict_json(text: str):
    def refuse(constant):
        raise ValueError(f"not JSON: {constant}")
    return json.loads(text, parse_constant=refuse)


def _without_timing(doc: dict) -> dict:
    doc = json.loads(json.dumps(doc))
    doc.pop("timing", None)
    return doc


def _measure(results: twin.Results, kind: str, entity: str, measure: str) -> np.ndarray:
    m = results.measures
    rows = m[(m["kind"] == kind) & (m["entity"] == entity) & (m["measure"] == measure)]
    return rows.sort_values("replication")["value"].to_numpy(float)


def _student_t(values: np.ndarray) -> tuple[float, float, float]:
    n = len(values)
    mean = float(np.mean(values))
    half = float(st.t.ppf(0.975, n - 1) * np.std(values, ddof=1) / math.sqrt(n))
    return mean, mean - half, mean + half


# --------------------------------------------------------------------------- scenarios

TWO_MACHINE = """
name: audit line
run: {horizon: "1 d", warmup: "2 h", replications: 3, seed: 11}
products:
  cell:
    route: [cut, {station: press, rework: {p: 0.1, to: press}}]
    release: saturated
    energy_kwh: 2.5
stations:
  cut:
    process_time: {exponential: "50 s"}
    failures: {mtbf: {exponential: "4 h"}, mttr: {exponential: "20 min"}}
    power_kw: {busy: 12, starved: 3, blocked: 3, down: 1}
  press:
    servers: 2
    process_time: {lognormal: {mean: "100 s", cv: 0.3}}
    buffer: 3
    scrap: 0.02
    power_kw: {busy: 30, starved: 8, blocked: 8}
"""

GOOD = """
name: good
run: {horizon: "2 h"}
products: {p: {route: [a], release: saturated}}
stations: {a: {process_time: "60 s"}}
"""

BAD_CONTENT = """
name: bad
run: {horizon: "10 h"}
products:
  p: {route: [a, wled], release: saturated}
stations:
  a: {process_time: "60 s", serverz: 2}
  weld: {process_time: "60 s"}
"""

DEADLOCK = """
name: deadlock
run: {horizon: "10 h"}
products:
  p: {route: [a, {station: b, rework: {p: 0.9, to: a}}], release: saturated}
stations:
  a: {process_time: "60 s", buffer: 0}
  b: {process_time: "60 s", buffer: 0}
"""

# run.engine: flowline with two products (and time-dependent failures, in reach since
# the line kernel has them): outside the flowline engine, which `twin run` refuses with
# exit 2
FLOWLINE_REFUSED = """
name: flowline refused
run: {horizon: "2 h", engine: flowline}
products:
  p: {route: [a, b], release: saturated}
  q: {route: [b], release: {interarrival: "10 min"}}
stations:
  a: {process_time: "60 s", failures: {mtbf: "1 h", mttr: "5 min"}}
  b: {process_time: "30 s"}
"""

RAMP = """
name: ramp
run: {horizon: "10 h", warmup: "1 h"}
products: {p: {route: [a, b], release: saturated}}
stations:
  a: {process_time: {exponential: "10 s"}}
  b: {process_time: {exponential: "60 s"}, buffer: 200}
"""

ALT = """
name: alt
run: {horizon: "20 h"}
products: {p: {route: [a], release: saturated}}
stations: {a: {process_time: {exponential: "50 s"}}}
"""

BASE = """
name: base
run: {horizon: "20 h"}
products: {p: {route: [a], release: saturated}}
stations: {a: {process_time: {exponential: "60 s"}}}
"""


# --------------------------------------------------------------------------- CLI fixture


@pytest.fixture(scope="module")
def cli(tmp_path_factory):
    """Every command-line call of this module, run three at a time; results by name."""
    d = tmp_path_factory.mktemp("cli")
    line = _write(d / "line.yaml", TWO_MACHINE)
    good = _write(d / "good.yaml", GOOD)
    bad = _write(d / "bad.yaml", BAD_CONTENT)
    syntax = d / "syntax.yaml"
    syntax.write_text('name: x\nrun:\n\thorizon: "1 h"\n')
    dead = _write(d / "dead.yaml", DEADLOCK)
    flow = _write(d / "flow.yaml", FLOWLINE_REFUSED)
    ramp = _write(d / "ramp.yaml", RAMP)
    base = _write(d / "base.yaml", BASE)
    alt = _write(d / "alt.yaml", ALT)
    out = d / "out"
    t = _twin_cmd()
    commands = {
        "run1": t + ["run", str(line), "--json", "--workers", "1", "--out", str(out)],
        "run2": t + ["run", str(line), "--json", "--workers", "2", "--quiet"],
        "dask": t + ["run", str(line), "--json", "--dask", "local", "--quiet"],
        "options": t + ["run", str(ramp), "--json", "--quiet", "--replications", "2",
                        "--seed", "5", "--horizon", "0.5 w", "--warmup", "auto",
                        "--engine", "flowline", "--set", "stations.b.buffer=100",
                        "--set", "name=renamed", "--workers", "1"],
        "validate": t + ["validate", str(good), str(bad), str(syntax)],
        "validate_good": t + ["validate", str(good)],
        "run_bad": t + ["run", str(bad), "--json"],
        "run_bad_option": t + ["run", str(good), "--json", "--horizon", "5 parsecs"],
        "run_dead": t + ["run", str(dead), "--json", "--quiet"],
        "schema": t + ["schema"],
        "compare": t + ["compare", str(base), str(alt), "--replications", "3", "--seed", "2",
                        "--json", "--quiet", "--workers", "1", "--out", str(d / "cmp")],
        "validate_flow": t + ["validate", str(flow)],
        "run_flow": t + ["run", str(flow), "--json", "--quiet"],
    }

    def call(item):
        name, cmd = item
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        return name, proc, time.perf_counter() - start

    with ThreadPoolExecutor(max_workers=3) as pool:
        done = {name: (proc, wall) for name, proc, wall in pool.map(call, commands.items())}
    done["paths"] = {"line": line, "out": out, "good": good, "bad": bad, "flow": flow,
                     "base": base, "alt": alt, "dir": d}
    return done


def _ok_json(cli, name: str) -> dict:
    proc, _ = cli[name]
    assert proc.returncode == 0, proc.stderr
    return _strict_json(proc.stdout)


# --------------------------------------------------------------------------- command line


def test_run_json_prints_one_document_with_fixed_fields(cli):
    proc, _ = cli["run1"]
    assert proc.returncode == 0, proc.stderr
    doc = _strict_json(proc.stdout)  # the whole of stdout is one JSON document
    assert "Traceback" not in proc.stderr
    order = ["scenario", "engine", "replications", "seed", "horizon_h", "warmup_h",
             "products", "wip", "stations", "bottleneck", "energy", "timing"]
    assert all(k in doc for k in order)
    assert [k for k in doc if k in order] == order
    assert doc["scenario"] == "audit line" and doc["engine"] == "simpy"
    assert doc["replications"] == 3 and doc["seed"] == 11
    assert doc["horizon_h"] == 24.0 and doc["warmup_h"] == 2.0

    def stat(x):
        assert set(x) >= {"mean", "ci95"} and len(x["ci95"]) == 2
        lo, hi = x["ci95"]
        assert lo <= x["mean"] <= hi

    for k in ("finished", "scrapped", "throughput_per_h", "lead_time_h", "gwh_per_year"):
        stat(doc["products"]["cell"][k])
    stat(doc["wip"])
    for s in ("cut", "press"):
        entry = doc["stations"][s]
        for k in ("utilization", "queue_mean", "wait_h", "energy_kwh", "oee"):
            stat(entry[k])
        assert set(entry["states"]) == {"busy", "starved", "blocked", "down", "setup",
                                        "off_shift"}
        assert all(isinstance(v, float) for v in entry["states"].values())
    b = doc["bottleneck"]
    assert b["method"] == "active-period" and set(b["share"]) == {"cut", "press"}
    assert b["station"] in b["share"]
    stat(doc["energy"]["total_kwh"])
    stat(doc["energy"]["kwh_per_unit"])
    assert set(doc["timing"]) >= {"total_s", "simulate_s"}
    assert 0 <= doc["timing"]["simulate_s"] <= doc["timing"]["total_s"]


def test_out_dir_has_tables_plots_report_and_same_summary(cli):
    doc = _ok_json(cli, "run1")
    out = cli["paths"]["out"]
    assert (out / "report.html").is_file()
    assert list((out / "figures").glob("*.png"))
    assert (out / "measures.parquet").is_file()
    assert json.loads((out / "summary.json").read_text()) == doc


def test_same_seed_same_document_whatever_the_workers_or_backend(cli):
    one = _without_timing(_ok_json(cli, "run1"))
    two = _without_timing(_ok_json(cli, "run2"))
    dask = _without_timing(_ok_json(cli, "dask"))
    assert one == two
    assert one == dask


def test_run_options_are_applied(cli):
    doc = _ok_json(cli, "options")
    assert doc["scenario"] == "renamed"          # --set name=...
    assert doc["engine"] == "flowline"           # --engine
    assert doc["replications"] == 2 and doc["seed"] == 5
    assert doc["horizon_h"] == 84.0              # "0.5 w" = 3.5 days
    # --warmup auto (MSER-5): the WIP ramps up for about 1 h (b's buffer of 100 fills at
    # 360 - 60 units/h), so a positive warm-up must be deleted
    assert 0.0 < doc["warmup_h"] < 84.0
    # second --set applied too: WIP in steady state = a's unit + b's buffer + b's machine
    assert doc["wip"]["mean"] == pytest.approx(102, abs=2)


def test_python_api_mirrors_the_command_line(cli):
    doc = _ok_json(cli, "run1")
    results = twin.run(twin.load(cli["paths"]["line"]), replications=3, seed=11)
    assert _without_timing(results.summary()) == _without_timing(doc)
    import pandas as pd
    assert isinstance(results.measures, pd.DataFrame)


def test_validate_prints_each_problem_and_exits_2(cli):
    proc, _ = cli["validate"]
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    err = proc.stderr
    assert "bad.yaml: stations.a.serverz" in err and "Did you mean 'servers'?" in err
    assert "bad.yaml: products.p.route[1]" in err and "Did you mean 'weld'?" in err
    assert "syntax.yaml" in err and "line 3, column 1" in err
    good, _ = cli["validate_good"]
    assert good.returncode == 0


@pytest.mark.parametrize("name", ["run_bad", "run_bad_option"])
def test_wrong_scenario_or_command_line_exit_2_no_traceback(cli, name):
    proc, _ = cli[name]
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr and proc.stderr.strip()


def test_failed_run_exits_1_with_a_message(cli):
    proc, _ = cli["run_dead"]
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr and "deadlock" in proc.stderr


def test_schema_is_a_json_schema_that_accepts_spec_scenarios_and_rejects_unknown_keys(cli):
    jsonschema = pytest.importorskip("jsonschema")
    proc, _ = cli["schema"]
    assert proc.returncode == 0
    schema = json.loads(proc.stdout)
    validator = jsonschema.Draft202012Validator(schema)
    doc = yaml.safe_load(textwrap.dedent(TWO_MACHINE))
    assert not list(validator.iter_errors(doc))
    doc["stations"]["cut"]["serverz"] = 2
    assert list(validator.iter_errors(doc))


def test_compare_pairs_the_same_seeds_with_student_t_differences(cli, tmp_path):
    doc = _ok_json(cli, "compare")
    assert (cli["paths"]["dir"] / "cmp").is_dir()
    per = {}
    for name in ("base", "alt"):
        r = twin.run(twin.load(cli["paths"][name]), replications=3, seed=2)
        per[name] = _measure(r, "product", "p", "throughput_per_h")
    key = next(k for k in doc["kpis"] if k.startswith("throughput_per_h"))
    diff = per["alt"] - per["base"]
    mean, lo, hi = _student_t(diff)
    got = doc["kpis"][key]["difference"]["alt"]
    assert got["mean"] == pytest.approx(mean, rel=1e-9)
    assert got["ci95"] == pytest.approx([lo, hi], rel=1e-9)


# results.md: "`twin validate SCENARIO...` check files; print each problem; exit 2 if any"
# and "exit 2: the scenario ... is wrong". A file whose `run.engine: flowline` cannot run
# (time-dependent failures, two products) is refused by `twin run` with exit 2, but
# `twin validate` prints "ok" and exits 0.
def test_validate_reports_what_run_refuses_as_a_wrong_scenario(cli):
    run, _ = cli["run_flow"]
    assert run.returncode == 2  # run says: the scenario is wrong
    validate, _ = cli["validate_flow"]
    assert validate.returncode == 2, validate.stderr


# scenario.md, Errors: "Every mistake in a scenario is a clear error naming the file, the
# place (... the key path ...)". `twin run` on a file with `run.engine: flowline` outside
# the engine's reach prints "error: engine flowline: products: 2 products ..." with
# no file name, no line/column (and only the first of its problems).
def test_flowline_refusal_names_the_file(cli):
    run, _ = cli["run_flow"]
    assert run.returncode == 2
    assert "flow.yaml" in run.stderr, run.stderr


# results.md: "`timing.simulate_s` is the wall time spent simulating (after start-up and
# compilation); `total_s` the whole command's." twin measures total_s from main() after
# the package import and stops before writing the --out report, so a command that took
# several seconds reports total_s of a fraction of a second.
def test_timing_total_s_is_the_whole_commands_wall_time(cli):
    doc = _ok_json(cli, "run1")
    _, wall = cli["run1"]
    assert doc["timing"]["total_s"] >= 0.5 * wall, (doc["timing"], wall)


# results.md: "Exit status: 0 success; 2 the scenario or the command line is wrong; 1
# anything else." When the reader of stdout goes away (`twin run ... --json | head -c1`)
# twin exits 141.
def test_exit_status_when_stdout_is_closed_is_1(tmp_path):
    path = _write(tmp_path / "good.yaml", GOOD)
    proc = subprocess.Popen(_twin_cmd() + ["run", str(path), "--json", "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()
    proc.stderr.read()
    assert proc.wait(timeout=120) == 1


# --------------------------------------------------------------------------- summary numbers


@pytest.fixture(scope="module")
def line_results(tmp_path_factory):
    path = _write(tmp_path_factory.mktemp("line") / "line.yaml", TWO_MACHINE)
    return twin.run(twin.load(path), replications=3, seed=11)


def test_ci95_is_the_student_t_interval_over_replications(line_results):
    doc = line_results.summary()
    checks = [
        (doc["products"]["cell"]["throughput_per_h"], ("product", "cell", "throughput_per_h")),
        (doc["products"]["cell"]["lead_time_h"], ("product", "cell", "lead_time_h")),
        (doc["products"]["cell"]["finished"], ("product", "cell", "finished")),
        (doc["wip"], ("system", "", "wip_mean")),
        (doc["stations"]["press"]["queue_mean"], ("station", "press", "queue_mean")),
        (doc["stations"]["press"]["wait_h"], ("station", "press", "wait_h")),
    ]
    for stat, key in checks:
        values = _measure(line_results, *key)
        assert len(values) == 3
        mean, lo, hi = _student_t(values)
        assert stat["mean"] == pytest.approx(mean, rel=1e-12)
        assert stat["ci95"] == pytest.approx([lo, hi], rel=1e-9)


def test_one_replication_interval_is_a_point(tmp_path):
    doc = _run(tmp_path, yaml.safe_load(textwrap.dedent(TWO_MACHINE)), replications=1,
               horizon="2 h").summary()
    for stat in (doc["wip"], doc["products"]["cell"]["throughput_per_h"],
                 doc["stations"]["cut"]["oee"]):
        assert stat["ci95"] == [stat["mean"], stat["mean"]]


def test_kpi_identities(line_results):
    doc = line_results.summary()
    m = line_results.measures
    period = _measure(line_results, "system", "", "period_h")
    for name, entry in doc["stations"].items():
        assert sum(entry["states"].values()) == pytest.approx(1.0, abs=1e-9)
        assert entry["utilization"]["mean"] == pytest.approx(entry["states"]["busy"])
    # gwh_per_year = throughput x energy_kwh x 8760 / 1e6
    p = doc["products"]["cell"]
    assert p["gwh_per_year"]["mean"] == pytest.approx(
        p["throughput_per_h"]["mean"] * 2.5 * 8760 / 1e6, rel=1e-12)
    # station energy = sum over states of power per machine x machine-hours in the state
    power = {"cut": {"busy": 12, "starved": 3, "blocked": 3, "down": 1},
             "press": {"busy": 30, "starved": 8, "blocked": 8}}
    servers = {"cut": 1, "press": 2}
    totals = np.zeros(3)
    for name, kw in power.items():
        per_rep = np.zeros(3)
        for state, w in kw.items():
            frac = np.array([_measure(line_results, "station", name, f"{state}_h")[r]
                             / (servers[name] * period[r]) for r in range(3)])
            per_rep += w * frac * servers[name] * period
        totals += per_rep
        assert doc["stations"][name]["energy_kwh"]["mean"] == pytest.approx(per_rep.mean())
    assert doc["energy"]["total_kwh"]["mean"] == pytest.approx(totals.mean())
    finished = _measure(line_results, "product", "cell", "finished")
    assert doc["energy"]["kwh_per_unit"]["mean"] == pytest.approx((totals / finished).mean())
    # bottleneck: `station` is the largest share
    share = doc["bottleneck"]["share"]
    assert doc["bottleneck"]["station"] == max(share, key=share.get)
    assert all(0.0 <= v <= 1.0 for v in share.values())
    assert set(m["kind"]) >= {"product", "station", "system"}


def test_oee_is_iso_22400_with_planned_time_mean_over_servers(tmp_path):
    # 3 machines, constant 60 s, one unit every 40 s: busy = 60 / (3 x 40) = 0.5;
    # effectiveness = (60 s / 3) x 90 units/h / (0.5 h per hour) = 1; quality 1 - scrap
    doc = _run(tmp_path, _line({"a": {"servers": 3, "process_time": "60 s", "scrap": 0.25}},
                               ["a"], release={"interarrival": "40 s"}, horizon="20 h"),
               seed=3).summary()
    a = doc["stations"]["a"]
    assert a["states"]["busy"] == pytest.approx(0.5, abs=0.005)
    assert a["oee_factors"]["availability"]["mean"] == pytest.approx(0.5, abs=0.005)
    assert a["oee_factors"]["effectiveness"]["mean"] == pytest.approx(1.0, abs=0.005)
    assert a["oee_factors"]["quality"]["mean"] == pytest.approx(0.75, abs=0.03)
    f = a["oee_factors"]
    assert a["oee"]["mean"] == pytest.approx(
        f["availability"]["mean"] * f["effectiveness"]["mean"] * f["quality"]["mean"])
    # truncated normal: planned run time per unit is the truncated mean, so a saturated
    # machine's effectiveness is about 1 (mean of N(10 s, 100 s) truncated at 0 is 83.5 s)
    doc = _run(tmp_path, _line({"a": {"process_time": {"normal": {"mean": "10 s",
                                                                   "sd": "100 s"}}}},
                               ["a"], horizon="40 h"), name="n.yaml").summary()
    assert doc["stations"]["a"]["oee"]["mean"] == pytest.approx(1.0, abs=0.05)


def test_littles_law(tmp_path):
    doc = _run(tmp_path, {
        "name": "little", "run": {"horizon": "100 h", "warmup": "5 h"},
        "products": {
            "a": {"route": ["s1", {"station": "s2", "rework": {"p": 0.2, "to": "s1"}}, "s3"],
                  "release": {"interarrival": {"exponential": "150 s"}}},
            "b": {"route": ["s2", "s3"], "release": {"conwip": 4}}},
        "stations": {
            "s1": {"process_time": {"exponential": "60 s"}},
            "s2": {"servers": 2, "process_time": {"gamma": {"mean": "70 s", "cv": 0.7}},
                   "buffer": 5},
            "s3": {"process_time": {"exponential": "30 s"}, "buffer": 2}}},
        replications=2, seed=1).summary()
    flow = sum(p["throughput_per_h"]["mean"] * p["lead_time_h"]["mean"]
               for p in doc["products"].values())
    assert doc["wip"]["mean"] == pytest.approx(flow, rel=0.05)


# --------------------------------------------------------------------------- theory


def test_mm1_queue_matches_theory(tmp_path):
    # M/M/1, arrivals every 60 s, service 45 s: rho .75, Lq = 2.25, Wq = 135 s, L = 3, W = 180 s
    doc = _run(tmp_path, _line({"a": {"process_time": {"exponential": "45 s"}}}, ["a"],
                               release={"interarrival": {"exponential": "60 s"}},
                               horizon="400 h", warmup="10 h"),
               replications=4, seed=7, workers=2).summary()
    a = doc["stations"]["a"]
    assert a["utilization"]["mean"] == pytest.approx(0.75, rel=0.02)
    assert a["queue_mean"]["mean"] == pytest.approx(2.25, rel=0.08)
    assert a["wait_h"]["mean"] * HOUR == pytest.approx(135, rel=0.08)
    assert doc["wip"]["mean"] == pytest.approx(3.0, rel=0.08)
    assert doc["products"]["p"]["lead_time_h"]["mean"] * HOUR == pytest.approx(180, rel=0.08)


@pytest.mark.parametrize("buffer", [0, 1])
def test_blocking_after_service_two_exponential_machines(tmp_path, buffer):
    # saturated M-B-M line with blocking after service, equal rates mu: the CTMC gives
    # throughput mu (B + 2) / (B + 3); the first machine is blocked 1 / (B + 3) of the time
    doc = _run(tmp_path, _line({"a": {"process_time": {"exponential": "60 s"}},
                                "b": {"process_time": {"exponential": "60 s"},
                                      "buffer": buffer}},
                               ["a", "b"], horizon="300 h"), replications=3, seed=4).summary()
    b = buffer
    assert doc["products"]["p"]["throughput_per_h"]["mean"] == pytest.approx(
        60 * (b + 2) / (b + 3), rel=0.025)
    assert doc["stations"]["a"]["states"]["blocked"] == pytest.approx(1 / (b + 3), abs=0.02)
    assert doc["stations"]["a"]["states"]["starved"] == 0.0


def test_deterministic_blocking_and_bottleneck_shares(tmp_path):
    # a: 60 s, b: 120 s with no buffer. a is busy half the time and blocked half the time.
    # Active periods: a [0, 120 s), b [60 s, end): a is the sole bottleneck for 60 s,
    # both shift for 60 s, b is sole after that (Roser).
    doc = _run(tmp_path, _line({"a": {"process_time": "60 s"},
                                "b": {"process_time": "120 s", "buffer": 0}},
                               ["a", "b"], horizon="10 h")).summary()
    a = doc["stations"]["a"]["states"]
    assert a["busy"] == pytest.approx(0.5, abs=0.002)
    assert a["blocked"] == pytest.approx(0.5, abs=0.002)
    assert doc["products"]["p"]["throughput_per_h"]["mean"] == pytest.approx(30, abs=0.2)
    assert doc["wip"]["mean"] == pytest.approx(2.0, abs=0.01)
    share = doc["bottleneck"]["share"]
    assert share["a"] == pytest.approx(120 / 36000, abs=1e-9)
    assert share["b"] == pytest.approx(1 - 60 / 36000, abs=1e-9)
    assert doc["bottleneck"]["station"] == "b"


# --------------------------------------------------------------------------- distributions

_LOGN_S = math.sqrt(math.log(1.25))
DISTRIBUTIONS = {
    "constant-string": ('"2 min"', st.uniform(120, 1e-9)),
    "constant-number": ("120", st.uniform(120, 1e-9)),
    "exponential": ('{exponential: "2 min"}', st.expon(scale=120)),
    "lognormal": ('{lognormal: {mean: "120 s", cv: 0.5}}',
                  st.lognorm(s=_LOGN_S, scale=120 / math.sqrt(1.25))),
    "gamma": ('{gamma: {mean: "120 s", cv: 0.5}}', st.gamma(a=4, scale=30)),
    "erlang": ('{erlang: {mean: "0.0333333333333333 h", k: 3}}', st.gamma(a=3, scale=40)),
    "normal": ('{normal: {mean: "60 s", sd: "40 s"}}',
               st.truncnorm(a=-1.5, b=np.inf, loc=60, scale=40)),
    "uniform": ('{uniform: ["1 min", "180 s"]}', st.uniform(60, 120)),
    "triangular": ('{triangular: ["60 s", "90 s", "210 s"]}',
                   st.triang(c=0.2, loc=60, scale=150)),
    "weibull": ('{weibull: {shape: 1.5, scale: "0.05 h"}}', st.weibull_min(c=1.5, scale=180)),
}


@pytest.mark.parametrize("kind", list(DISTRIBUTIONS))
def test_distribution_forms_sample_the_stated_law(tmp_path, kind):
    form, law = DISTRIBUTIONS[kind]
    path = _write(tmp_path / "d.yaml", f"""
        name: dist
        run: {{horizon: "40 h", seed: 3}}
        products: {{p: {{route: [m], release: saturated}}}}
        stations: {{m: {{process_time: {form}}}}}
    """)
    r = twin.run(twin.load(path), event_log=True)
    ev = r.events[r.events["activity"] == "process"]
    x = ((ev["end_h"] - ev["start_h"]) * HOUR).to_numpy()
    mean = law.mean()
    doc = r.summary()
    # a saturated single machine is always busy and finishes 3600 / mean units an hour
    assert doc["stations"]["m"]["utilization"]["mean"] == pytest.approx(1.0)
    sd = law.std()
    tol = 4 * sd / math.sqrt(len(x)) + 1e-6
    assert x.mean() == pytest.approx(mean, abs=tol)
    assert doc["products"]["p"]["throughput_per_h"]["mean"] == pytest.approx(
        HOUR / mean, rel=tol / mean + 2 * mean / (40 * HOUR))
    if sd > 1e-6:
        assert st.kstest(x, law.cdf).pvalue > 1e-3


def test_empirical_resamples_the_values_uniformly(tmp_path):
    path = _write(tmp_path / "e.yaml", """
        name: emp
        run: {horizon: "40 h", seed: 3}
        products: {p: {route: [m], release: saturated}}
        stations: {m: {process_time: {empirical: ["30 s", "1 min", "0.05 h"]}}}
    """)
    r = twin.run(twin.load(path), event_log=True)
    ev = r.events[r.events["activity"] == "process"]
    x = np.round(((ev["end_h"] - ev["start_h"]) * HOUR).to_numpy(), 6)
    values, counts = np.unique(x, return_counts=True)
    assert list(values) == [30.0, 60.0, 180.0]
    assert st.chisquare(counts).pvalue > 1e-3


@pytest.mark.parametrize("text, hours", [("7200", 2.0), ('"90 s"', 0.025),
                                         ('"45 min"', 0.75), ('"1.5 h"', 1.5),
                                         ('"2 d"', 48.0), ('"1 w"', 168.0)])
def test_duration_units(tmp_path, text, hours):
    path = _write(tmp_path / "u.yaml", f"""
        name: units
        run: {{horizon: {text}, warmup: {text}}}
        products: {{p: {{route: [m], release: saturated}}}}
        stations: {{m: {{process_time: {text}}}}}
    """)
    doc = twin.run(twin.load(path)).summary()
    assert doc["horizon_h"] == pytest.approx(hours)
    assert doc["warmup_h"] == pytest.approx(hours)
    # the machine is busy with one unit of that length at a time: about 1 per period
    assert doc["products"]["p"]["finished"]["mean"] in (0.0, 1.0)


# --------------------------------------------------------------------------- defaults


def test_defaults(tmp_path):
    base = _line({"a": {"process_time": "60 s"}, "b": {"process_time": "120 s"}},
                 ["a", "b"], horizon="5 h")
    explicit = _line({"a": {"process_time": "60 s", "servers": 1, "scrap": 0},
                      "b": {"process_time": "120 s", "servers": 1, "scrap": 0}},
                     ["a", "b"], horizon="5 h", warmup=0, replications=1, seed=0)
    d1 = _run(tmp_path, base, "d1.yaml").summary()
    d2 = _run(tmp_path, explicit, "d2.yaml").summary()
    assert d1["replications"] == 1 and d1["seed"] == 0 and d1["warmup_h"] == 0.0
    assert d1["engine"] == "simpy"
    for k in ("products", "stations", "wip", "bottleneck"):
        assert d1[k] == d2[k]
    # one machine: 60 units/h at a; unlimited buffer at b: a is never blocked
    assert d1["stations"]["a"]["states"]["blocked"] == 0.0
    assert d1["stations"]["a"]["states"]["busy"] == 1.0
    assert d1["products"]["p"]["scrapped"]["mean"] == 0.0
    assert d1["stations"]["b"]["queue_mean"]["mean"] > 50   # grows by 30 an hour


def test_failure_modes(tmp_path):
    # one machine, 60 s per unit, one unit every 120 s (busy half the time), failures with
    # exponential mtbf 12 min and mttr 72 s:
    # time mode (the default): down = mttr / (mtbf + mttr) = 1/11 = .0909
    # operation mode: the clock runs only while busy: down = busy x mttr / mtbf = .5 x .1
    def down(mode):
        f = {"mtbf": {"exponential": "12 min"}, "mttr": {"exponential": "72 s"}}
        if mode:
            f["mode"] = mode
        doc = _run(tmp_path, _line({"a": {"process_time": "60 s", "failures": f}}, ["a"],
                                   release={"interarrival": "120 s"}, horizon="300 h"),
                   f"{mode}.yaml", seed=2).summary()
        assert doc["stations"]["a"]["states"]["busy"] == pytest.approx(0.5, abs=0.01)
        return doc["stations"]["a"]["states"]["down"]
    assert down(None) == pytest.approx(1 / 11, rel=0.12)
    assert down("time") == down(None)
    assert down("operation") == pytest.approx(0.05, rel=0.12)


def test_failure_interrupts_and_processing_resumes(tmp_path):
    # constant 60 s, exponential time to failure 10 min, repair 1 min: with resume the
    # machine makes 60 units per up-hour, 60 x 10/11 = 54.5/h; a restart after each failure
    # would lose on average part of a unit per failure (fewer units).
    doc = _run(tmp_path, _line({"a": {"process_time": "60 s",
                                      "failures": {"mtbf": {"exponential": "10 min"},
                                                   "mttr": "1 min"}}},
                               ["a"], horizon="300 h"), seed=5).summary()
    assert doc["products"]["p"]["throughput_per_h"]["mean"] == pytest.approx(60 * 10 / 11,
                                                                              rel=0.01)
    assert doc["stations"]["a"]["states"]["down"] == pytest.approx(1 / 11, rel=0.05)


def test_power_missing_states_draw_zero(tmp_path):
    # 3 machines, busy half the time: energy = 3 x 10 h x (.5 x 10 kW + .5 x 1 kW)
    doc = _run(tmp_path, _line({"a": {"servers": 3, "process_time": "60 s",
                                      "power_kw": {"busy": 10, "starved": 1}}},
                               ["a"], release={"interarrival": "40 s"}), seed=1).summary()
    assert doc["stations"]["a"]["energy_kwh"]["mean"] == pytest.approx(165, rel=0.005)


# --------------------------------------------------------------------------- release, scrap, rework


def test_saturated_release_first_station_never_starves_buffer_empty(tmp_path):
    doc = _run(tmp_path, _line(
        {"a": {"servers": 2, "buffer": 5, "process_time": {"exponential": "30 s"},
               "failures": {"mtbf": {"exponential": "1 h"}, "mttr": {"exponential": "5 min"}}},
         "b": {"process_time": {"exponential": "40 s"}, "buffer": 2}},
        ["a", "b"], horizon="20 h"), seed=1).summary()
    a = doc["stations"]["a"]
    assert a["states"]["starved"] == 0.0
    assert a["queue_mean"]["mean"] == 0.0
    assert a["wait_h"]["mean"] == 0.0


def test_conwip_keeps_wip_constant(tmp_path):
    doc = _run(tmp_path, _line({"a": {"process_time": {"exponential": "60 s"}, "scrap": 0.1},
                                "b": {"process_time": {"exponential": "50 s"}, "buffer": 2}},
                               ["a", "b"], release={"conwip": 5}, horizon="20 h",
                               warmup="1 h"), seed=1).summary()
    assert doc["wip"]["mean"] == pytest.approx(5.0, abs=1e-9)


# scenario.md: "release: {conwip: 12}  # closed loop: a new unit enters when one leaves; 12 in
# the system". With a first station whose buffer is full (here buffer 0 and its machine
# busy), twin holds the new unit outside the system (docs/modelling.md, a "choice"), so the
# time-average WIP of a CONWIP-3 loop is about 2.3 instead of 3.
def test_conwip_keeps_n_in_system_with_a_finite_first_buffer(tmp_path):
    doc = _run(tmp_path, _line({"a": {"process_time": {"exponential": "60 s"}, "buffer": 0},
                                "b": {"process_time": {"exponential": "60 s"}}},
                               ["a", "b"], release={"conwip": 3}, horizon="20 h"),
               seed=1).summary()
    assert doc["wip"]["mean"] == pytest.approx(3.0, abs=0.01)


def test_scrap_probability(tmp_path):
    doc = _run(tmp_path, _line({"a": {"process_time": "60 s", "scrap": 0.2}}, ["a"],
                               horizon="100 h"), seed=3).summary()
    p = doc["products"]["p"]
    fin, scr = p["finished"]["mean"], p["scrapped"]["mean"]
    n = fin + scr
    assert n == pytest.approx(6000, abs=2)
    assert scr / n == pytest.approx(0.2, abs=4 * math.sqrt(0.16 / n))
    assert p["throughput_per_h"]["mean"] == pytest.approx(fin / 100)


def test_rework_goes_back_and_follows_the_route_again(tmp_path):
    # after c, with p = .5 back to a, then b, c again: visits per finished unit 1/(1-p) = 2
    r = _run(tmp_path, _line({"a": {"process_time": "10 s"}, "b": {"process_time": "10 s"},
                              "c": {"process_time": "10 s"}, "d": {"process_time": "1 s"}},
                             ["a", "b", {"station": "c", "rework": {"p": 0.5, "to": "a"}}, "d"],
                             horizon="20 h"), seed=2, event_log=True)
    ev = r.events[r.events["activity"] == "process"]
    seqs = ev.sort_values(["unit", "start_h"]).groupby("unit")["station"].agg("".join)
    finished = set(r.events.loc[r.events["activity"] == "finish", "unit"])
    done = seqs[seqs.index.isin(finished)]
    assert all(s.endswith("d") and len(s) % 3 == 1 and s[:-1] == "abc" * (len(s) // 3)
               for s in done)
    loops = done.str.len() // 3
    assert loops.mean() == pytest.approx(2.0, rel=0.05)
    # rework to the same station: throughput = 60/h x (1 - p)
    doc = _run(tmp_path, _line({"a": {"process_time": "60 s"}},
                               [{"station": "a", "rework": {"p": 0.25, "to": "a"}}],
                               horizon="100 h"), "self.yaml", seed=1).summary()
    assert doc["products"]["p"]["throughput_per_h"]["mean"] == pytest.approx(45, rel=0.03)


# --------------------------------------------------------------------------- extends


def test_extends_deep_merge_relative_path_and_null(tmp_path):
    _write(tmp_path / "base" / "base.yaml", """
        name: base
        run: {horizon: "5 h", seed: 3, warmup: "1 h"}
        products: {p: {route: [a, b], release: saturated}, q: {route: [b], release: saturated}}
        stations:
          a: {servers: 2, process_time: "60 s", failures: {mtbf: "1 h", mttr: "10 min"}}
          b: {process_time: "20 s", buffer: 3}
    """)
    child = _write(tmp_path / "sub" / "child.yaml", """
        extends: ../base/base.yaml
        name: child
        run: {warmup: null}
        products: {q: null}
        stations:
          a: {process_time: "120 s", failures: null}
    """)
    doc = twin.run(twin.load(child)).summary()
    assert doc["scenario"] == "child"
    assert doc["seed"] == 3 and doc["horizon_h"] == 5.0   # kept from the base
    assert doc["warmup_h"] == 0.0                          # deleted: default 0
    assert list(doc["products"]) == ["p"]                  # q deleted
    a = doc["stations"]["a"]
    assert a["states"]["down"] == 0.0                      # failures deleted
    # servers 2 kept from the base, 120 s from the child: 60 units/h
    assert doc["products"]["p"]["throughput_per_h"]["mean"] == pytest.approx(60, abs=0.5)


# --------------------------------------------------------------------------- errors


def test_errors_name_file_key_path_and_closest_name(tmp_path):
    path = _write(tmp_path / "e.yaml", """
        name: e
        run: {horizon: "10 h", seeed: 1}
        products:
          p: {route: [coat, wled], release: saturated}
        stations:
          coat: {process_time: {exponentail: "60 s"}}
          weld: {process_time: "60 s", serverz: 2}
    """)
    msg = _load_error(path)
    assert "e.yaml: run.seeed" in msg and "Did you mean 'seed'?" in msg
    assert "e.yaml: products.p.route[1]" in msg and "Did you mean 'weld'?" in msg
    assert "stations.coat.process_time" in msg and "'exponential'" in msg
    assert "e.yaml: stations.weld.serverz" in msg and "Did you mean 'servers'?" in msg


def test_yaml_syntax_error_has_line_and_column(tmp_path):
    path = tmp_path / "syn.yaml"
    path.write_text('name: x\nrun: {horizon: "1 h"}\nproducts: [\n  a: 1\n')
    msg = _load_error(path)
    assert "syn.yaml" in msg and "line" in msg and "column" in msg


# scenario.md, Errors: "a clear error naming ... what is wrong and, for an unknown name, the
# closest known one". `release: {conwip: 3, interarrival: "60 s"}` (two releases in one,
# e.g. after an `extends:` deep merge) is reported as "unknown key 'conwip'. Did you mean
# 'conwip'?": conwip is a known key, and the message does not say what is wrong.
def test_two_releases_in_one_error_is_clear(tmp_path):
    path = _write(tmp_path / "r.yaml", """
        name: r
        run: {horizon: "10 h"}
        products: {p: {route: [a], release: {conwip: 3, interarrival: "60 s"}}}
        stations: {a: {process_time: "30 s"}}
    """)
    msg = _load_error(path)
    assert "products.p.release" in msg
    assert "unknown key 'conwip'" not in msg, msg


# scenario.md, Errors: "a clear error ... what is wrong". For keys that take a word, a
# boolean gets "expected a number, got true: write a number here": `run.engine` and
# `failures.mode` want simpy|flowline and time|operation, not a number.
@pytest.mark.parametrize("where, text", [
    ("run.engine", 'run: {horizon: "1 h", engine: true}'),
    ("stations.a.failures.mode",
     'run: {horizon: "1 h"}\nstations: {a: {process_time: 5, failures: '
     '{mtbf: "1 h", mttr: "1 min", mode: true}}}'),
])
def test_wrong_type_message_says_what_the_key_wants(tmp_path, where, text):
    doc = 'name: t\nproducts: {p: {route: [a]}}\n' + text + "\n"
    if "stations" not in text:
        doc += "stations: {a: {process_time: 5}}\n"
    path = tmp_path / "t.yaml"
    path.write_text(doc)
    msg = _load_error(path)
    assert where in msg
    assert "expected a number" not in msg, msg


# docs/scenario-format.md, Errors: YAML 1.1's "`1_000` as 1000 ... would silently change
# meaning; twin reads them as text (... a key that wants true/false, a number or a duration
# says so)". twin accepts `1_000` for a buffer (1000), `0_1` for a scrap probability (read
# as 1.0: every unit scrapped) and `1_0` for a duration (10 s) without a word.
@pytest.mark.parametrize("station", [
    'process_time: 5, buffer: 1_000',
    'process_time: 5, scrap: 0_1',
    'process_time: 1_0',
])
def test_underscore_numbers_are_refused(tmp_path, station):
    path = tmp_path / "u.yaml"
    path.write_text('name: u\nrun: {horizon: "1 h"}\nproducts: {p: {route: [a]}}\n'
                    f'stations: {{a: {{{station}}}}}\n')
    with pytest.raises(twin.ScenarioError):
        twin.load(path)


# docs/scenario-format.md: "`twin schema` prints the same as a JSON Schema"; the loader
# refuses a quoted number for servers, seed, replications or conwip (as the schema does) but
# accepts "4" for a buffer, "0.1" for scrap, "5" for a power and a duration string with no
# unit ("20"), all of which the JSON Schema (and the spec's duration grammar "<number>
# <unit>") refuse.
@pytest.mark.parametrize("station", [
    'process_time: 5, buffer: "4"',
    'process_time: 5, scrap: "0.1"',
    'process_time: 5, power_kw: {busy: "5"}',
    'process_time: "20"',
])
def test_loader_refuses_quoted_numbers_like_the_schema(tmp_path, station):
    path = tmp_path / "q.yaml"
    path.write_text('name: q\nrun: {horizon: "1 h"}\nproducts: {p: {route: [a]}}\n'
                    f'stations: {{a: {{{station}}}}}\n')
    with pytest.raises(twin.ScenarioError):
        twin.load(path)


# docs/scenario-format.md: `buffer: 4  # default unlimited (also "unlimited" or .inf)` and
# "`twin schema` prints the same as a JSON Schema"; the schema's buffer is integer | null
# and rejects "unlimited", which `twin validate` accepts.
def test_schema_accepts_documented_buffer_unlimited(cli):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(cli["schema"][0].stdout)
    doc = yaml.safe_load(GOOD)
    doc["stations"]["a"]["buffer"] = "unlimited"
    path = cli["paths"]["dir"] / "unlimited.yaml"
    path.write_text(yaml.safe_dump(doc))
    twin.load(path)  # the loader accepts it
    assert not list(jsonschema.Draft202012Validator(schema).iter_errors(doc))


# scenario.md: the format must "fail loudly on any mistake"; docs: "process times, times
# between failures and repair times must have a positive mean". An interarrival time of 0
# (every unit at the same instant) passes `twin.load`/`twin validate`; `twin run` then spins
# (about a minute) until the 5,000,000-unit runaway guard and fails with exit 1, naming no
# key.
def test_zero_interarrival_is_a_scenario_error(tmp_path):
    path = _write(tmp_path / "z.yaml", """
        name: z
        run: {horizon: "1 h"}
        products: {p: {route: [a], release: {interarrival: 0}}}
        stations: {a: {process_time: 5}}
    """)
    msg = _load_error(path)
    assert "products.p.release" in msg
